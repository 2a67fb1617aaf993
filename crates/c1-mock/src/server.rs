//! The tenant process: one TLS listener on loopback serving `POST /auth/v1/token` and the
//! BatonService (gRPC over h2) side by side, like a real tenant host (docs/c1-service-mode.md
//! §15.1), plus the handle tests script it with.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::post;
use c1_proto::baton::baton_service_server::BatonServiceServer;
use c1_proto::baton::task::TaskType;
use c1_proto::baton::{BatonServiceFinishTaskRequest, Task};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rand::Rng as _;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring::default_provider;

use crate::credentials::TestSecret;
use crate::service::Service;
use crate::state::{Call, State, Uploaded};
use crate::{MockError, certs, token};

/// How to start the fake tenant.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MockOptions {
    /// Listen address (default `127.0.0.1:0`).
    pub bind: SocketAddr,
    /// The tenant host written into the client id. `None`: `localhost:<port>`, so the client
    /// id alone reaches the fake. `Some("acme.conductor.one")`: a realistic id; the connector
    /// then needs `BATON_C1_API_HOST` = [`C1Mock::api_host`] (the JWT audience stays the
    /// realistic host).
    pub client_host: Option<String>,
}

impl Default for MockOptions {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            client_host: None,
        }
    }
}

/// A running fake tenant. Stops when dropped.
#[derive(Debug)]
pub struct C1Mock {
    addr: SocketAddr,
    ca_pem: String,
    secret: TestSecret,
    client_id: String,
    state: Arc<State>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for C1Mock {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A fresh task id: 27 random alphanumerics, like ConductorOne's KSUIDs.
pub fn new_task_id() -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(27)
        .map(char::from)
        .collect()
}

impl C1Mock {
    /// Starts a tenant with [`MockOptions::default`].
    pub async fn start() -> Result<Self, MockError> {
        Self::start_with(MockOptions::default()).await
    }

    /// Starts a tenant.
    pub async fn start_with(options: MockOptions) -> Result<Self, MockError> {
        let certs = certs::generate()?;
        let secret = TestSecret::generate()?;
        let listener = tokio::net::TcpListener::bind(options.bind)
            .await
            .map_err(|source| MockError::Bind {
                addr: options.bind,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| MockError::Bind {
            addr: options.bind,
            source,
        })?;
        let host = options
            .client_host
            .clone()
            .unwrap_or_else(|| format!("localhost:{}", addr.port()));
        let client_id = format!("test-client@{host}/pcc");
        let audience = host
            .rsplit_once(':')
            .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
            .map_or(host.as_str(), |(h, _)| h)
            .to_owned();
        let state = Arc::new(State::new(
            client_id.clone(),
            audience,
            secret.public_key().to_vec(),
        ));

        let mut tls = ServerConfig::builder_with_provider(Arc::new(default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| MockError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs.chain, certs.key)
            .map_err(|e| MockError::Tls(e.to_string()))?;
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(tls));

        let grpc = tonic::service::Routes::new(BatonServiceServer::new(Service {
            state: state.clone(),
        }))
        .into_axum_router();
        let app = Router::new()
            .route("/auth/v1/token", post(token::token))
            .with_state(state.clone())
            .merge(grpc);

        let server = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                let app = app.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper_util::service::TowerToHyperService::new(app);
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Ok(Self {
            addr,
            ca_pem: certs.ca_pem,
            secret,
            client_id,
            state,
            server,
        })
    }

    /// The listen address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `localhost:<port>`: the value for `BATON_C1_API_HOST`.
    pub fn api_host(&self) -> String {
        format!("localhost:{}", self.addr.port())
    }

    /// The client id the tenant accepts.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The client secret the tenant accepts (redacted `Debug`).
    pub fn client_secret(&self) -> &TestSecret {
        &self.secret
    }

    /// The PEM of the CA that signed the tenant's certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Queues a task; returns its id.
    pub fn push_task(&self, task_type: TaskType) -> String {
        let id = new_task_id();
        let task = Task {
            id: id.clone(),
            status: c1_proto::baton::task::Status::Pending as i32,
            debug: false,
            task_type: Some(task_type),
        };
        self.push_raw(task);
        id
    }

    /// Queues a task as given (e.g. with the oneof unset).
    pub fn push_raw(&self, task: Task) {
        self.state.with(|s| s.queue.push_back(task));
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.state
            .with(|s| s.calls.iter().map(|(_, c)| c.clone()).collect())
    }

    /// Every call so far with its arrival time.
    pub fn timed_calls(&self) -> Vec<(Instant, Call)> {
        self.state.with(|s| s.calls.clone())
    }

    /// Every rule the connector broke.
    pub fn violations(&self) -> Vec<String> {
        self.state.with(|s| s.violations.clone())
    }

    /// Tasks handed out and not finished.
    pub fn outstanding(&self) -> Vec<String> {
        self.state.with(|s| s.outstanding.keys().cloned().collect())
    }

    /// The accepted c1z of a task.
    pub fn upload(&self, task_id: &str) -> Option<Uploaded> {
        self.state.with(|s| s.uploads.get(task_id).cloned())
    }

    /// The FinishTask of a task, if it arrived.
    pub fn finished(&self, task_id: &str) -> Option<BatonServiceFinishTaskRequest> {
        self.calls().into_iter().find_map(|c| match c {
            Call::FinishTask(f) if f.task_id == task_id => Some(*f),
            _ => None,
        })
    }

    /// Waits (polling every 10 ms, at most `limit`) until `done` holds for the call record.
    pub async fn wait_until(&self, limit: Duration, done: impl Fn(&[Call]) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if done(&self.calls()) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits (at most `limit`) for the FinishTask of `task_id`.
    pub async fn wait_finished(
        &self,
        task_id: &str,
        limit: Duration,
    ) -> Option<BatonServiceFinishTaskRequest> {
        self.wait_until(limit, |calls| {
            calls
                .iter()
                .any(|c| matches!(c, Call::FinishTask(f) if f.task_id == task_id))
        })
        .await;
        self.finished(task_id)
    }

    /// Answer every token request with 401 (or stop doing so).
    pub fn refuse_tokens(&self, refuse: bool) {
        self.state.with(|s| s.knobs.refuse_tokens = refuse);
    }

    /// `expires_in` of issued tokens (default 3600).
    pub fn set_expires_in(&self, seconds: i64) {
        self.state.with(|s| s.knobs.expires_in = seconds);
    }

    /// `next_poll` of GetTask answers (default 100 ms).
    pub fn set_next_poll(&self, d: Duration) {
        self.state.with(|s| s.knobs.next_poll = d);
    }

    /// `next_heartbeat` of heartbeat answers (default 1 s).
    pub fn set_next_heartbeat(&self, d: Duration) {
        self.state.with(|s| s.knobs.next_heartbeat = d);
    }

    /// The next Hello calls fail with these codes, in order.
    pub fn fail_hello(&self, codes: &[tonic::Code]) {
        self.state.with(|s| s.knobs.fail_hello.extend(codes));
    }

    /// The next GetTask calls fail with these codes, in order.
    pub fn fail_get_task(&self, codes: &[tonic::Code]) {
        self.state.with(|s| s.knobs.fail_get_task.extend(codes));
    }

    /// The next `n` heartbeats fail with UNAVAILABLE.
    pub fn fail_heartbeats(&self, n: u32) {
        self.state.with(|s| s.knobs.fail_heartbeats = n);
    }

    /// Heartbeats of `task_id` answer `cancelled=true` from now on.
    pub fn cancel_task(&self, task_id: &str) {
        self.state
            .with(|s| s.knobs.cancel.insert(task_id.to_owned()));
    }

    /// The next `n` upload streams break with UNAVAILABLE at their first data message.
    pub fn break_uploads(&self, n: u32) {
        self.state.with(|s| s.knobs.break_uploads = n);
    }
}
