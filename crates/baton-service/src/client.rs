//! The BatonService client: one lazily connected TLS channel to the tenant (or the
//! `BATON_C1_API_HOST` override), `authorization: Bearer <token>` on every call, `host_id`
//! stamped on every request (docs/c1-service-mode.md §3.4, §4).

use std::time::Duration;

use baton_model::pb;
use c1_proto::baton::baton_service_client::BatonServiceClient;
use c1_proto::baton::{self, BatonServiceHelloRequest};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use crate::ServiceError;
use crate::credentials::{ClientId, ClientSecret, strip_port};
use crate::host::{Build, os_info};
use crate::token::TokenSource;

/// FinishTask deadline (§4).
const FINISH_TIMEOUT: Duration = Duration::from_secs(30);
/// GetTask deadline: the Go SDK sets none; ours bounds how long a shutdown can wait for an
/// in-flight poll (a tenant answers polls at once).
const GET_TASK_TIMEOUT: Duration = Duration::from_secs(60);
/// Dial and token-request timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// A connected (lazily) BatonService client.
#[derive(Debug)]
pub(crate) struct BatonClient {
    grpc: BatonServiceClient<Channel>,
    tokens: TokenSource,
    host_id: String,
    hello: BatonServiceHelloRequest,
}

impl BatonClient {
    /// Builds the client; no network I/O happens here.
    pub(crate) fn new(
        id: ClientId,
        secret: ClientSecret,
        api_host: Option<&str>,
        host_id: &str,
        extra_ca_pem: Option<&[u8]>,
        build: &Build,
        metadata: pb::ConnectorMetadata,
    ) -> Result<Self, ServiceError> {
        if host_id.is_empty() || host_id.len() > 256 {
            return Err(ServiceError::Config(
                "the host id must be 1 to 256 characters".into(),
            ));
        }
        let host = api_host.unwrap_or(id.host()).to_owned();
        let user_agent = format!("{} baton-service/{}", id.name(), env!("CARGO_PKG_VERSION"));
        let transport = |e: &dyn std::fmt::Display| ServiceError::Transport(e.to_string());

        let mut http = reqwest::Client::builder()
            .user_agent(format!("baton-c1-credential-provider {user_agent}"))
            .timeout(CONNECT_TIMEOUT)
            .https_only(true);
        let mut tls = ClientTlsConfig::new()
            .domain_name(strip_port(&host))
            .with_webpki_roots();
        if let Some(pem) = extra_ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem).map_err(|e| transport(&e))? {
                http = http.add_root_certificate(cert);
            }
            tls = tls.ca_certificate(Certificate::from_pem(pem));
        }
        let http = http.build().map_err(|e| transport(&e))?;
        let channel = Endpoint::from_shared(format!("https://{host}"))
            .map_err(|e| transport(&e))?
            .user_agent(user_agent)
            .map_err(|e| transport(&e))?
            .connect_timeout(CONNECT_TIMEOUT)
            .tls_config(tls)
            .map_err(|e| transport(&e))?
            .connect_lazy();
        let hello = BatonServiceHelloRequest {
            host_id: host_id.to_owned(),
            task_id: String::new(),
            build_info: Some(build.to_proto()),
            os_info: Some(os_info()),
            connector_metadata: Some(metadata),
            annotations: Vec::new(),
        };
        Ok(Self {
            grpc: BatonServiceClient::new(channel),
            tokens: TokenSource::new(id, secret, &host, http),
            host_id: host_id.to_owned(),
            hello,
        })
    }

    pub(crate) fn host_id(&self) -> &str {
        &self.host_id
    }

    /// Wraps `message` with the bearer token.
    async fn request<T>(&self, message: T) -> Result<tonic::Request<T>, tonic::Status> {
        let header = self
            .tokens
            .authorization()
            .await
            .map_err(crate::token::TokenError::into_status)?;
        let mut request = tonic::Request::new(message);
        let value = header
            .parse()
            .map_err(|_| tonic::Status::unauthenticated("the access token is not valid ASCII"))?;
        request.metadata_mut().insert("authorization", value);
        Ok(request)
    }

    /// Hello, at startup (`task_id` empty) or for a hello task.
    pub(crate) async fn hello(&self, task_id: &str) -> Result<(), tonic::Status> {
        let mut message = self.hello.clone();
        message.task_id = task_id.to_owned();
        let request = self.request(message).await?;
        self.grpc.clone().hello(request).await.map(|_| ())
    }

    pub(crate) async fn get_task(
        &self,
    ) -> Result<baton::BatonServiceGetTaskResponse, tonic::Status> {
        let request = self
            .request(baton::BatonServiceGetTaskRequest {
                host_id: self.host_id.clone(),
            })
            .await?;
        let mut request = request;
        request.set_timeout(GET_TASK_TIMEOUT);
        self.grpc
            .clone()
            .get_task(request)
            .await
            .map(tonic::Response::into_inner)
    }

    pub(crate) async fn heartbeat(
        &self,
        task_id: &str,
    ) -> Result<baton::BatonServiceHeartbeatResponse, tonic::Status> {
        let request = self
            .request(baton::BatonServiceHeartbeatRequest {
                host_id: self.host_id.clone(),
                task_id: task_id.to_owned(),
                ..Default::default()
            })
            .await?;
        self.grpc
            .clone()
            .heartbeat(request)
            .await
            .map(tonic::Response::into_inner)
    }

    /// FinishTask with a 30 s deadline.
    pub(crate) async fn finish(
        &self,
        message: baton::BatonServiceFinishTaskRequest,
    ) -> Result<(), tonic::Status> {
        let mut request = self.request(message).await?;
        request.set_timeout(FINISH_TIMEOUT);
        self.grpc.clone().finish_task(request).await.map(|_| ())
    }

    /// One UploadAsset stream of `messages`.
    pub(crate) async fn upload<S>(&self, messages: S) -> Result<(), tonic::Status>
    where
        S: futures::Stream<Item = baton::BatonServiceUploadAssetRequest> + Send + 'static,
    {
        let request = self.request(messages).await?;
        self.grpc.clone().upload_asset(request).await.map(|_| ())
    }
}
