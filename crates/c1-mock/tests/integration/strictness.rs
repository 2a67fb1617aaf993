//! The token endpoint and the gRPC service refuse malformed or unauthenticated calls.

use c1_mock::{C1Mock, Call};
use c1_proto::baton::BatonServiceGetTaskRequest;
use c1_proto::baton::baton_service_client::BatonServiceClient;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};

fn https(mock: &C1Mock) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(mock.ca_pem().as_bytes()).unwrap())
        .build()
        .unwrap()
}

async fn post_token(mock: &C1Mock, form: &[(&str, &str)]) -> u16 {
    https(mock)
        .post(format!("https://{}/auth/v1/token", mock.api_host()))
        .form(form)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_token_endpoint_refuses_a_forged_assertion() {
    let mock = C1Mock::start().await.unwrap();
    // A well-formed JWS signed with the wrong key (a zero signature).
    let b64 = |s: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    };
    let header = b64(r#"{"alg":"EdDSA","nonce":"00112233445566778899aabbccddeeff"}"#);
    let claims = b64(&format!(
        r#"{{"iss":"{0}","sub":"{0}","aud":"localhost"}}"#,
        mock.client_id()
    ));
    let jws = format!("{header}.{claims}.{}", b64(&"\0".repeat(64)));
    let status = post_token(
        &mock,
        &[
            ("client_id", mock.client_id()),
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &jws),
        ],
    )
    .await;
    assert_eq!(status, 401);
    let v = mock.violations();
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(v[0].contains("signature"), "{v:?}");
    assert!(matches!(mock.calls()[..], [Call::Token { issued: false }]));
}

#[tokio::test]
async fn the_token_endpoint_refuses_a_missing_field_and_obeys_the_401_knob() {
    let mock = C1Mock::start().await.unwrap();
    assert_eq!(
        post_token(&mock, &[("client_id", mock.client_id())]).await,
        401
    );
    assert_eq!(mock.violations().len(), 1);
    mock.refuse_tokens(true);
    assert_eq!(post_token(&mock, &[]).await, 401);
    assert_eq!(mock.violations().len(), 1, "the knob is not a violation");
}

#[tokio::test]
async fn grpc_calls_without_a_bearer_token_are_unauthenticated() {
    let mock = C1Mock::start().await.unwrap();
    let channel = Endpoint::from_shared(format!("https://{}", mock.api_host()))
        .unwrap()
        .tls_config(
            ClientTlsConfig::new()
                .domain_name("localhost")
                .ca_certificate(Certificate::from_pem(mock.ca_pem())),
        )
        .unwrap()
        .connect()
        .await
        .unwrap();
    let err = BatonServiceClient::new(channel)
        .get_task(BatonServiceGetTaskRequest {
            host_id: "h".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    assert_eq!(mock.violations().len(), 1);
}

#[tokio::test]
async fn the_secret_is_redacted_in_debug_output() {
    let mock = C1Mock::start().await.unwrap();
    let secret = mock.client_secret().expose().to_owned();
    assert!(secret.starts_with("secret-token:conductorone.com:v1:"));
    let debug = format!("{mock:?}");
    assert!(!debug.contains(&secret));
    assert!(!debug.contains(secret.rsplit(':').next().unwrap()));
}
