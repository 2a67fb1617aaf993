//! The HTTP server: [`MockServer`], the request pipeline (auth, faults, rate limits, routing),
//! counters and the request log.

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use axum::serve::IncomingStream;
use futures::StreamExt as _;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api::{self, ApiError, ApiOk, Ctx, PLAN_MESSAGE, Route};
use crate::config::{Faults, Features, MockConfig, Plan};
use crate::ids::{hash_strs, splitmix64, unit_f64};
use crate::model::Workspace;
use crate::query::Query;
use crate::ratelimit::{Class, Limiter, RateLimits, Verdict};
use crate::{MockError, admin};

/// Media type of successful v1 responses.
pub const V1_JSON: &str = "application/vnd.segment.v1+json";
/// Media type of successful alpha responses (`GET /spaces`).
pub const V1ALPHA_JSON: &str = "application/vnd.segment.v1alpha+json";
/// Media type of error responses.
pub const ERROR_JSON: &str = "application/json";
/// Largest accepted request body (Segment's 25 MB payload limit).
const PAYLOAD_LIMIT: usize = 26_214_400;
/// Oldest request-log entries are dropped beyond this many.
const LOG_CAPACITY: usize = 100_000;

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
    id_rng: StdRng,
    pub(crate) plan: Plan,
    pub(crate) features: Features,
    latency: Duration,
    faults: Faults,
    fault_seq: u64,
    pagination_dropped: bool,
    plural_group_delete: bool,
    accept_unknown_resource_types: bool,
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
    token: String,
    state: Mutex<ServerState>,
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
        let shared = Arc::new(Shared {
            token: config.token,
            state: Mutex::new(state),
        });
        let app = Router::new()
            .fallback(entry)
            .with_state(Arc::clone(&shared));
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let serve = axum::serve(
            KillListener { inner: listener },
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

// ---------------------------------------------------------------------------------------------
// Connections that a handler can reset.

/// Per-connection info: peer address and a switch that resets the connection.
#[derive(Debug, Clone)]
pub(crate) struct ConnHandle {
    pub(crate) remote: SocketAddr,
    kill: Arc<AtomicBool>,
}

impl ConnHandle {
    fn kill(&self) {
        self.kill.store(true, Ordering::SeqCst);
    }
}

impl Connected<IncomingStream<'_, KillListener>> for ConnHandle {
    fn connect_info(stream: IncomingStream<'_, KillListener>) -> Self {
        stream.remote_addr().clone()
    }
}

#[derive(Debug)]
struct KillListener {
    inner: TcpListener,
}

impl axum::serve::Listener for KillListener {
    type Io = KillableStream;
    type Addr = ConnHandle;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, remote)) => {
                    let _ = stream.set_nodelay(true);
                    let kill = Arc::new(AtomicBool::new(false));
                    let io = KillableStream {
                        inner: stream,
                        kill: Arc::clone(&kill),
                    };
                    return (io, ConnHandle { remote, kill });
                }
                Err(e) => {
                    tracing::debug!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(ConnHandle {
            remote: self.inner.local_addr()?,
            kill: Arc::new(AtomicBool::new(false)),
        })
    }
}

/// A TCP stream that fails every I/O once killed; it is then dropped with `SO_LINGER=0`, so the
/// peer sees a TCP reset and no response bytes.
#[derive(Debug)]
struct KillableStream {
    inner: TcpStream,
    kill: Arc<AtomicBool>,
}

impl KillableStream {
    fn killed(&self) -> bool {
        if self.kill.load(Ordering::SeqCst) {
            let _ = self.inner.set_zero_linger();
            true
        } else {
            false
        }
    }
}

fn reset_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionReset,
        "segment-mock: injected connection reset",
    )
}

impl AsyncRead for KillableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.killed() {
            return Poll::Ready(Err(reset_error()));
        }
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.killed() {
            return Poll::Ready(Err(reset_error()));
        }
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.killed() {
            return Poll::Ready(Err(reset_error()));
        }
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.killed() {
            return Poll::Ready(Err(reset_error()));
        }
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.killed() {
            return Poll::Ready(Err(reset_error()));
        }
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

// ---------------------------------------------------------------------------------------------
// The request pipeline.

/// What the pipeline decided.
enum Outcome {
    Reset,
    Reply(Reply),
}

struct Reply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    verdict: Option<Verdict>,
    slow: Option<Duration>,
}

impl Reply {
    fn error(e: &ApiError, verdict: Option<Verdict>) -> Self {
        Self {
            status: e.status,
            content_type: ERROR_JSON,
            body: e.body().to_string().into_bytes(),
            verdict,
            slow: None,
        }
    }
}

async fn entry(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let raw_path = parts.uri.path().to_owned();
    if raw_path == "/__admin" || raw_path.starts_with("/__admin/") {
        return admin::handle(&shared, &conn, &parts.method, &raw_path, body).await;
    }
    let raw_query = parts.uri.query().unwrap_or("").to_owned();
    let body = axum::body::to_bytes(body, PAYLOAD_LIMIT).await;
    let latency = shared.lock().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let segs = decode_segments(&raw_path);
    let query = Query::parse(Some(&raw_query));
    let mut log = LoggedRequest {
        method: parts.method.to_string(),
        path: format!("/{}", segs.join("/")),
        raw_path,
        path_params: Vec::new(),
        query: query.pairs.clone(),
        raw_query,
        operation: "unknown".to_owned(),
        status: 0,
        fault: None,
        body: String::new(),
    };
    let outcome = {
        let mut st = shared.lock();
        let outcome = match body {
            Ok(bytes) => {
                log.body = String::from_utf8_lossy(&bytes).into_owned();
                process(
                    &shared.token,
                    &mut st,
                    &parts.method,
                    &parts.headers,
                    &segs,
                    &query,
                    &bytes,
                    &mut log,
                )
            }
            Err(_) => {
                count_request(&mut st, &parts.method, "unknown");
                let e = ApiError::new(
                    413,
                    "PayloadLimitError",
                    "The payload limit size of 25mb has been reached",
                );
                Outcome::Reply(Reply::error(&e, None))
            }
        };
        if let Outcome::Reply(r) = &outcome {
            log.status = r.status;
            *st.counters.per_status.entry(r.status).or_default() += 1;
            if r.status == 429 {
                st.counters.rate_limited += 1;
            }
        }
        if st.log.len() >= LOG_CAPACITY {
            st.log.pop_front();
        }
        st.log.push_back(log);
        outcome
    };
    match outcome {
        Outcome::Reset => {
            conn.kill();
            // Never written: the killed stream fails the write and the socket is reset.
            Response::new(Body::empty())
        }
        Outcome::Reply(r) => build_response(r),
    }
}

fn decode_segments(raw_path: &str) -> Vec<String> {
    let trimmed = raw_path.strip_prefix('/').unwrap_or(raw_path);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    if trimmed.is_empty() {
        return Vec::new();
    }
    trimmed
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

fn count_request(st: &mut ServerState, method: &Method, op: &str) {
    st.counters.total += 1;
    *st.counters.per_operation.entry(op.to_owned()).or_default() += 1;
    if method == Method::GET {
        st.counters.reads += 1;
    } else {
        st.counters.writes += 1;
    }
}

fn note_fault(st: &mut ServerState, log: &mut LoggedRequest, kind: &str) {
    st.counters.faults_injected += 1;
    *st.counters.per_fault.entry(kind.to_owned()).or_default() += 1;
    log.fault = Some(kind.to_owned());
}

fn authorized(token: &str, headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut it = value.trim().splitn(2, ' ');
    match (it.next(), it.next()) {
        (Some(scheme), Some(t)) => scheme.eq_ignore_ascii_case("bearer") && t.trim() == token,
        _ => false,
    }
}

#[allow(clippy::too_many_arguments)]
fn process(
    token: &str,
    st: &mut ServerState,
    method: &Method,
    headers: &HeaderMap,
    segs: &[String],
    query: &Query,
    body: &[u8],
    log: &mut LoggedRequest,
) -> Outcome {
    let route = Route::resolve(method, segs, st.plural_group_delete);
    let op = route.as_ref().map_or("unknown", Route::operation_id);
    log.operation = op.to_owned();
    if route.is_some() {
        log.path_params = segs.get(1).cloned().into_iter().collect();
    }
    count_request(st, method, op);
    let fault_idx = st.fault_seq;
    st.fault_seq += 1;

    if !authorized(token, headers) {
        return Outcome::Reply(Reply::error(&ApiError::unauthorized(), None));
    }
    if st.faults.unauthorized_after.is_some_and(|n| fault_idx >= n) {
        note_fault(st, log, "unauthorized_after");
        return Outcome::Reply(Reply::error(&ApiError::unauthorized(), None));
    }

    // Deterministic fault draws for this request.
    let mut rng_state = st.faults.seed ^ fault_idx.wrapping_mul(0xA24B_AED4_963E_E407);
    let u = unit_f64(splitmix64(&mut rng_state));
    let u_malformed = unit_f64(splitmix64(&mut rng_state));
    let pick = splitmix64(&mut rng_state);
    let f = &st.faults;
    let faultable = !f.reads_only || method == Method::GET;
    if !faultable {
        // No fault for this request (the draws above keep the sequence deterministic).
    } else if u < f.rate_reset {
        note_fault(st, log, "reset");
        return Outcome::Reset;
    } else if u < f.rate_reset + f.rate_5xx {
        note_fault(st, log, "5xx");
        let e = if pick.is_multiple_of(2) {
            ApiError::new(500, "InternalServerError", "Internal server error")
        } else {
            ApiError::new(503, "ServiceUnavailable", "Service temporarily unavailable")
        };
        return Outcome::Reply(Reply::error(&e, None));
    } else if u < f.rate_reset + f.rate_5xx + f.rate_429 {
        let ms = f.ms_before_next.unwrap_or(1000);
        note_fault(st, log, "429");
        return Outcome::Reply(Reply::error(&too_many(ms, 0), None));
    }
    let u_malformed = if faultable { u_malformed } else { 1.0 };

    let now = tokio::time::Instant::now();
    let class = if method == Method::GET {
        Class::Read
    } else {
        Class::Write
    };
    let verdict = st.limiter.take(token, class, now);
    if !verdict.allowed {
        let ms = u64::try_from(verdict.reset_in.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        return Outcome::Reply(Reply::error(&too_many(ms, verdict.consumed), Some(verdict)));
    }

    let group_path = matches!(segs.first().map(String::as_str), Some("groups" | "group"));
    if group_path && st.plan == Plan::Team {
        return Outcome::Reply(Reply::error(
            &ApiError::bad_request(PLAN_MESSAGE),
            Some(verdict),
        ));
    }
    let Some(route) = route else {
        return Outcome::Reply(Reply::error(&ApiError::not_found(), Some(verdict)));
    };
    let result = {
        let ServerState {
            ws,
            id_rng,
            plan,
            features,
            accept_unknown_resource_types,
            ..
        } = st;
        let mut ctx = Ctx {
            ws,
            plan: *plan,
            features: *features,
            rng: id_rng,
            accept_unknown_resource_types: *accept_unknown_resource_types,
        };
        api::handle(&route, &mut ctx, query, body)
    };
    match result {
        Err(e) => Outcome::Reply(Reply::error(&e, Some(verdict))),
        Ok(ok) => Outcome::Reply(success_reply(st, log, ok, verdict, u_malformed)),
    }
}

fn too_many(ms_before_next: u64, consumed: u64) -> ApiError {
    ApiError {
        status: 429,
        errors: vec![serde_json::json!({
            "type": "RequestError",
            "message": "Too many requests",
            "data": {"remainingPoints": 0, "msBeforeNext": ms_before_next, "consumedPoints": consumed},
        })],
    }
}

fn success_reply(
    st: &mut ServerState,
    log: &mut LoggedRequest,
    ok: ApiOk,
    verdict: Verdict,
    u_malformed: f64,
) -> Reply {
    let ApiOk {
        status,
        mut data,
        alpha,
        paginated,
    } = ok;
    if paginated && st.faults.drop_pagination_once && !st.pagination_dropped {
        st.pagination_dropped = true;
        if let Some(o) = data.as_object_mut() {
            o.remove("pagination");
        }
        note_fault(st, log, "drop_pagination");
    }
    let mut body = serde_json::json!({ "data": data }).to_string().into_bytes();
    if u_malformed < st.faults.malformed_json_rate {
        body.truncate(body.len() / 2);
        note_fault(st, log, "malformed_json");
    }
    let slow = st.faults.slow_body;
    if slow.is_some() {
        note_fault(st, log, "slow_body");
    }
    Reply {
        status,
        content_type: if alpha { V1ALPHA_JSON } else { V1_JSON },
        body,
        verdict: Some(verdict),
        slow,
    }
}

fn build_response(r: Reply) -> Response {
    let len = r.body.len();
    let body = match r.slow {
        Some(pause) if len > 1 => {
            let mut first = Bytes::from(r.body);
            let second = first.split_off(len / 2);
            let stream = futures::stream::once(async move { first })
                .chain(futures::stream::once(async move {
                    tokio::time::sleep(pause).await;
                    second
                }))
                .map(Ok::<Bytes, Infallible>);
            Body::from_stream(stream)
        }
        _ => Body::from(r.body),
    };
    let mut resp = Response::new(body);
    *resp.status_mut() =
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(r.content_type),
    );
    if let Ok(v) = HeaderValue::from_str(&len.to_string()) {
        h.insert(header::CONTENT_LENGTH, v);
    }
    if let Some(v) = r.verdict {
        let reset = httpdate::fmt_http_date(SystemTime::now() + v.reset_in);
        for (name, value) in [
            ("x-ratelimit-consumed", v.consumed.to_string()),
            ("x-ratelimit-remaining", v.remaining.to_string()),
            ("x-ratelimit-reset", reset),
        ] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                h.insert(name, value);
            }
        }
    }
    resp
}

/// Shared by the admin module: decodes a JSON body.
pub(crate) async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, PAYLOAD_LIMIT)
        .await
        .map_err(|_| {
            ApiError::new(
                413,
                "PayloadLimitError",
                "The payload limit size of 25mb has been reached",
            )
        })
}

/// Shared by the admin module: a plain JSON response.
pub(crate) fn json_response(status: u16, value: &serde_json::Value) -> Response {
    let mut resp = Response::new(Body::from(value.to_string()));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ERROR_JSON));
    resp
}
