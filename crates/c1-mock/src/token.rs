//! `POST /auth/v1/token` (docs/c1-service-mode.md §3.3, §15.1): checks the form and the
//! EdDSA client assertion strictly, then issues a random bearer token.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Form;
use axum::extract::State as AxumState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng as _;
use serde_json::Value;

use crate::state::{Call, State};

/// Allowed difference between `exp − iat` and 120 s.
const LIFETIME_SLACK: i64 = 2;

pub(crate) async fn token(
    AxumState(state): AxumState<Arc<State>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if state.with(|s| s.knobs.refuse_tokens) {
        state.record(Call::Token { issued: false });
        return (StatusCode::UNAUTHORIZED, "refused (fault knob)").into_response();
    }
    if let Err(why) = check(&state, &form) {
        state.violation(format!("token request: {why}"));
        state.record(Call::Token { issued: false });
        return (StatusCode::UNAUTHORIZED, why).into_response();
    }
    let token: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(40)
        .map(char::from)
        .collect();
    let expires_in = state.with(|s| {
        s.tokens.insert(token.clone());
        s.knobs.expires_in
    });
    state.record(Call::Token { issued: true });
    axum::Json(serde_json::json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": expires_in,
    }))
    .into_response()
}

fn check(state: &State, form: &HashMap<String, String>) -> Result<(), String> {
    let field = |name: &str| {
        form.get(name)
            .map(String::as_str)
            .ok_or(format!("no {name}"))
    };
    if field("client_id")? != state.client_id {
        return Err("client_id is not the issued client id".into());
    }
    if field("grant_type")? != "client_credentials" {
        return Err("grant_type is not client_credentials".into());
    }
    if field("client_assertion_type")? != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
        return Err("wrong client_assertion_type".into());
    }
    let jws = field("client_assertion")?;
    let parts: Vec<&str> = jws.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return Err("the assertion is not a compact JWS".into());
    };
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| "bad base64url in the assertion".to_owned())
    };
    let header: Value = serde_json::from_slice(&decode(header)?).map_err(|_| "bad JWS header")?;
    if header["alg"] != "EdDSA" {
        return Err("alg is not EdDSA".into());
    }
    let nonce = header["nonce"].as_str().unwrap_or_default();
    if nonce.len() != 32 || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("nonce is not 16 hex-encoded bytes".into());
    }
    let signed = format!("{}.{}", parts[0], parts[1]);
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &state.public_key)
        .verify(signed.as_bytes(), &decode(signature)?)
        .map_err(|_| "the assertion's signature does not verify")?;
    let claims: Value = serde_json::from_slice(&decode(claims)?).map_err(|_| "bad JWT claims")?;
    if claims["iss"] != state.client_id.as_str() || claims["sub"] != state.client_id.as_str() {
        return Err("iss and sub must both be the full client id".into());
    }
    // v0.25 sends a string; v0.1.33 a one-element array (docs/c1-service-mode.md §17).
    let aud_ok = claims["aud"] == state.audience.as_str()
        || claims["aud"]
            .as_array()
            .is_some_and(|a| a.len() == 1 && a[0] == state.audience.as_str());
    if !aud_ok {
        return Err(format!("aud must be {:?}", state.audience));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let (Some(iat), Some(nbf), Some(exp)) = (
        claims["iat"].as_i64(),
        claims["nbf"].as_i64(),
        claims["exp"].as_i64(),
    ) else {
        return Err("iat, nbf and exp must be numbers".into());
    };
    if !(nbf <= now && now <= exp) {
        return Err("now is not within nbf..exp".into());
    }
    if (exp - iat - 120).abs() > LIFETIME_SLACK {
        return Err("exp - iat is not 120 s".into());
    }
    Ok(())
}
