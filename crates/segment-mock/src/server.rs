//! The HTTP server: [`MockServer`], its state, counters and the request log. The request
//! pipeline is `crate::pipeline`; connections that can be reset are `crate::conn`.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::MockError;
use crate::config::{Faults, Features, MockConfig, Plan};
use crate::conn::{ConnHandle, KillListener};
use crate::ids::hash_strs;
use crate::model::Workspace;
use crate::ratelimit::{Limiter, RateLimits};
use crate::wall_timer::WallTimer;

/// Media type of successful v1 responses.
pub const V1_JSON: &str = "application/vnd.segment.v1+json";
/// Media type of successful alpha responses (`GET /spaces`).
pub const V1ALPHA_JSON: &str = "application/vnd.segment.v1alpha+json";
/// Media type of error responses.
pub const ERROR_JSON: &str = "application/json";
/// Largest accepted request body (Segment's 25 MB payload limit).
pub(crate) const PAYLOAD_LIMIT: usize = 26_214_400;
/// Oldest request-log entries are dropped beyond this many.
pub(crate) const LOG_CAPACITY: usize = 100_000;

/// Request counters (admin and loopback-only `/__admin/*` calls are never counted).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Every API request received.
    pub total: u64,
    /// Requests per Segment operationId (`"unknown"` for unrouted paths).
    pub per_operation: BTreeMap<String, u64>,
    /// GET requests.
    pub reads: u64,
    /// Non-GET requests.
    pub writes: u64,
    /// Responses with status 429 (rate limiter and injected).
    pub rate_limited: u64,
    /// Injected faults of every kind.
    pub faults_injected: u64,
    /// Injected faults per kind (`reset`, `5xx`, `429`, `malformed_json`, `slow_body`,
    /// `drop_pagination`, `unauthorized_after`).
    pub per_fault: BTreeMap<String, u64>,
    /// Responses per HTTP status (resets are not responses and are not counted here).
    pub per_status: BTreeMap<u16, u64>,
}

/// One API request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedRequest {
    /// HTTP method.
    pub method: String,
    /// Path with every segment percent-decoded.
    pub path: String,
    /// Path as received.
    pub raw_path: String,
    /// Decoded path parameters of the matched operation (e.g. the user id).
    pub path_params: Vec<String>,
    /// Decoded query pairs in order (`pagination.count`, `emails.0`, ...).
    pub query: Vec<(String, String)>,
    /// Query string as received (without `?`).
    pub raw_query: String,
    /// Segment operationId, or `"unknown"`.
    pub operation: String,
    /// Response status; 0 when the connection was reset without a response.
    pub status: u16,
    /// Injected fault, if any.
    pub fault: Option<String>,
    /// Request body (lossy UTF-8).
    pub body: String,
}

impl LoggedRequest {
    /// First decoded value of a query key.
    pub fn query_param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

pub(crate) struct ServerState {
    pub(crate) ws: Workspace,
    pub(crate) id_rng: StdRng,
    pub(crate) plan: Plan,
    pub(crate) features: Features,
    pub(crate) latency: Duration,
    pub(crate) faults: Faults,
    pub(crate) fault_seq: u64,
    pub(crate) pagination_dropped: bool,
    pub(crate) plural_group_delete: bool,
    pub(crate) accept_unknown_resource_types: bool,
    pub(crate) limiter: Limiter,
    pub(crate) counters: Counters,
    pub(crate) log: VecDeque<LoggedRequest>,
}

impl ServerState {
    pub(crate) fn set_workspace(&mut self, ws: Workspace) {
        self.id_rng = StdRng::seed_from_u64(hash_strs(["segment-mock-ids", ws.id.as_str()]));
        self.ws = ws;
    }

    pub(crate) fn set_faults(&mut self, faults: Faults) {
        self.faults = faults;
        self.fault_seq = 0;
        self.pagination_dropped = false;
    }

    pub(crate) fn reset_counters(&mut self) {
        self.counters = Counters::default();
        self.log.clear();
    }
}

pub(crate) struct Shared {
    pub(crate) token: String,
    state: Mutex<ServerState>,
    /// Set when the latency is waited out on the wall clock ([`MockConfig::wall_clock_latency`]).
    pub(crate) wall_timer: Option<WallTimer>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, ServerState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running fake Segment Public API on `127.0.0.1`.
///
/// Runs as a task on the caller's tokio runtime; stops when dropped or on [`MockServer::shutdown`].
pub struct MockServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl MockServer {
    /// Binds `127.0.0.1:0` and starts serving.
    pub async fn start(config: MockConfig) -> Result<Self, MockError> {
        Self::start_on_port(config, 0).await
    }

    /// Binds `127.0.0.1:port` (0 = any free port) and starts serving.
    pub async fn start_on_port(config: MockConfig, port: u16) -> Result<Self, MockError> {
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, port))
            .await
            .map_err(|source| MockError::Bind { port, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| MockError::Bind { port, source })?;
        let mut state = ServerState {
            ws: Workspace::new("", "", ""),
            id_rng: StdRng::seed_from_u64(0),
            plan: config.plan,
            features: config.features,
            latency: config.latency,
            faults: Faults::default(),
            fault_seq: 0,
            pagination_dropped: false,
            plural_group_delete: config.plural_group_delete,
            accept_unknown_resource_types: config.accept_unknown_resource_types,
            limiter: Limiter::new(config.rate_limits()),
            counters: Counters::default(),
            log: VecDeque::new(),
        };
        state.set_workspace(config.workspace);
        state.set_faults(config.faults);
        let wall_timer = if config.wall_clock_latency {
            Some(WallTimer::start().map_err(MockError::Timer)?)
        } else {
            None
        };
        let shared = Arc::new(Shared {
            token: config.token,
            state: Mutex::new(state),
            wall_timer,
        });
        let app = Router::new()
            .fallback(crate::pipeline::entry)
            .with_state(Arc::clone(&shared));
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let serve = axum::serve(
            KillListener::new(listener),
            app.into_make_service_with_connect_info::<ConnHandle>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stop_rx.await;
        });
        let task = tokio::spawn(async move {
            if let Err(e) = serve.await {
                tracing::warn!(error = %e, "segment-mock server stopped with an error");
            }
        });
        Ok(Self {
            shared,
            addr,
            stop: Some(stop_tx),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bearer token the server accepts.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// A snapshot of the counters.
    pub fn counters(&self) -> Counters {
        self.shared.lock().counters.clone()
    }

    /// A copy of the request log (oldest first; at most the last 100,000 requests).
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.shared.lock().log.iter().cloned().collect()
    }

    /// Clears the counters and the request log.
    pub fn reset_counters(&self) {
        self.shared.lock().reset_counters();
    }

    /// A snapshot of the current workspace (the fixture dump).
    pub fn workspace(&self) -> Workspace {
        self.shared.lock().ws.clone()
    }

    /// Replaces the workspace (not validated; see [`Workspace::validate`]).
    pub fn set_workspace(&self, workspace: Workspace) {
        self.shared.lock().set_workspace(workspace);
    }

    /// Replaces the faults and restarts their deterministic sequence.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.lock().set_faults(faults);
    }

    /// Changes the plan tier.
    pub fn set_plan(&self, plan: Plan) {
        self.shared.lock().plan = plan;
    }

    /// Changes the optional features.
    pub fn set_features(&self, features: Features) {
        self.shared.lock().features = features;
    }

    /// Changes the per-request latency.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.lock().latency = latency;
    }

    /// Changes the read and write limits per window (`None` = unlimited); the window length
    /// and the open windows are kept.
    pub fn set_rate_limits(&self, read_per_min: Option<u32>, write_per_min: Option<u32>) {
        let mut st = self.shared.lock();
        let window_ms = st.limiter.limits().window_ms;
        st.limiter.set_limits(RateLimits {
            read: read_per_min,
            write: write_per_min,
            window_ms,
        });
    }

    /// Replaces every limit, the window length included (open windows are kept).
    pub fn set_limits(&self, limits: RateLimits) {
        self.shared.lock().limiter.set_limits(limits);
    }

    /// The limits in force.
    pub fn rate_limits(&self) -> RateLimits {
        self.shared.lock().limiter.limits()
    }

    /// Enables or disables the plural `DELETE /groups/{id}/users` route.
    pub fn set_plural_group_delete(&self, enabled: bool) {
        self.shared.lock().plural_group_delete = enabled;
    }

    /// Accepts or rejects unknown permission resource types in request bodies
    /// (see [`MockConfig::accept_unknown_resource_types()`]).
    pub fn set_accept_unknown_resource_types(&self, enabled: bool) {
        self.shared.lock().accept_unknown_resource_types = enabled;
    }

    /// Stops accepting connections and waits (at most 5 s) for open connections to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
