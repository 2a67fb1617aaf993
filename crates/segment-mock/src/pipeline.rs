//! The request pipeline: token check, deterministic faults, the rate limiter, routing to the
//! handlers, counters and the request log, the latency (the answer waits until
//! `arrival + latency`), and the response with its `X-RateLimit-*` headers.
//!
//! A request is carried out when it arrives, so a client that gives up during the latency
//! still has its request counted and its write applied, as with a real server.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use futures::StreamExt as _;

use crate::admin;
use crate::api::{self, Ctx, Route};
use crate::config::Plan;
use crate::conn::ConnHandle;
use crate::ids::{splitmix64, unit_f64};
use crate::query::Query;
use crate::ratelimit::{Class, Verdict};
use crate::reply::{ApiError, ApiOk, PLAN_MESSAGE};
use crate::server::{
    ERROR_JSON, LOG_CAPACITY, LoggedRequest, PAYLOAD_LIMIT, ServerState, Shared, V1_JSON,
    V1ALPHA_JSON,
};

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

pub(crate) async fn entry(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let raw_path = parts.uri.path().to_owned();
    if raw_path == "/__admin" || raw_path.starts_with("/__admin/") {
        return admin::handle(&shared, &conn, &parts.method, &raw_path, body).await;
    }
    // The configured latency is the time from the request to the answer, the mock's own
    // work included: the answer waits until `arrived + latency`, not `latency` after the work.
    let arrived = (tokio::time::Instant::now(), std::time::Instant::now());
    let raw_query = parts.uri.query().unwrap_or("").to_owned();
    let body = axum::body::to_bytes(body, PAYLOAD_LIMIT).await;
    let latency = shared.lock().latency;
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
    if !latency.is_zero() {
        match &shared.wall_timer {
            Some(timer) => timer.wait_until(arrived.1 + latency).await,
            None => tokio::time::sleep_until(arrived.0 + latency).await,
        }
    }
    match outcome {
        Outcome::Reset => {
            conn.kill();
            // Never written: the killed stream fails the write and the socket is reset.
            Response::new(Body::empty())
        }
        // The limiter's reset was measured from the arrival; the answer leaves later.
        Outcome::Reply(r) => build_response(r, arrived.0.elapsed()),
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

fn build_response(r: Reply, since_arrival: Duration) -> Response {
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
        let reset =
            httpdate::fmt_http_date(SystemTime::now() + v.reset_in.saturating_sub(since_arrival));
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
