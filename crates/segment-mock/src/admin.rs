//! Loopback-only admin endpoints (`/__admin/*`): counters, request log, workspace dump/load,
//! faults, plan and features. They need no token and are never counted or logged.
//!
//! | Method | Path | Body / answer |
//! |---|---|---|
//! | GET | `/__admin/health` | `{"status":"ok"}` |
//! | GET | `/__admin/counters` | [`crate::Counters`] |
//! | GET | `/__admin/log` | JSON array of [`crate::LoggedRequest`] |
//! | POST | `/__admin/reset` | clears counters and log |
//! | GET | `/__admin/workspace` | the current [`crate::Workspace`] (fixture format) |
//! | POST | `/__admin/workspace` | loads a fixture (validated; 400 on error) |
//! | PUT | `/__admin/faults` | [`crate::Faults`] (`slow_body_ms` in milliseconds) |
//! | PUT | `/__admin/plan` | `"business"` or `"team"` |
//! | PUT | `/__admin/features` | [`crate::Features`] |
//! | GET | `/__admin/rate-limits` | [`crate::RateLimits`] in force |
//! | PUT | `/__admin/rate-limits` | [`crate::RateLimits`] (open windows are kept) |

use axum::body::Body;
use axum::http::Method;
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::config::{Faults, Features, Plan};
use crate::model::Workspace;
use crate::ratelimit::RateLimits;
use crate::server::{ConnHandle, Shared, json_response, read_body};

pub(crate) async fn handle(
    shared: &Shared,
    conn: &ConnHandle,
    method: &Method,
    path: &str,
    body: Body,
) -> Response {
    if !conn.remote.ip().is_loopback() {
        return json_response(
            403,
            &json!({"errors": [{"type": "forbidden", "message": "admin endpoints are loopback-only"}]}),
        );
    }
    let ok = || json_response(200, &json!({"status": "ok"}));
    match (method.as_str(), path.trim_end_matches('/')) {
        ("GET", "/__admin/health") => ok(),
        ("GET", "/__admin/counters") => to_json(&shared.lock().counters),
        ("GET", "/__admin/log") => {
            let log: Vec<_> = shared.lock().log.iter().cloned().collect();
            to_json(&log)
        }
        ("POST", "/__admin/reset") => {
            shared.lock().reset_counters();
            ok()
        }
        ("GET", "/__admin/workspace") => {
            let ws = shared.lock().ws.clone();
            to_json(&ws)
        }
        ("POST" | "PUT", "/__admin/workspace") => match parse::<Workspace>(body).await {
            Ok(ws) => match ws.validate() {
                Ok(()) => {
                    shared.lock().set_workspace(ws);
                    ok()
                }
                Err(e) => bad(&e.to_string()),
            },
            Err(r) => r,
        },
        ("PUT" | "POST", "/__admin/faults") => match parse::<Faults>(body).await {
            Ok(f) => {
                shared.lock().set_faults(f);
                ok()
            }
            Err(r) => r,
        },
        ("PUT" | "POST", "/__admin/plan") => match parse::<Plan>(body).await {
            Ok(p) => {
                shared.lock().plan = p;
                ok()
            }
            Err(r) => r,
        },
        ("PUT" | "POST", "/__admin/features") => match parse::<Features>(body).await {
            Ok(f) => {
                shared.lock().features = f;
                ok()
            }
            Err(r) => r,
        },
        ("GET", "/__admin/rate-limits") => to_json(&shared.lock().limiter.limits()),
        ("PUT" | "POST", "/__admin/rate-limits") => match parse::<RateLimits>(body).await {
            Ok(limits) if limits.window_ms == 0 => bad("window_ms must be at least 1"),
            Ok(limits) => {
                shared.lock().limiter.set_limits(limits);
                ok()
            }
            Err(r) => r,
        },
        _ => json_response(
            404,
            &json!({"errors": [{"type": "NotFound", "message": "Resource not found"}]}),
        ),
    }
}

fn bad(message: &str) -> Response {
    json_response(
        400,
        &json!({"errors": [{"type": "bad-request", "message": message}]}),
    )
}

fn to_json<T: serde::Serialize>(v: &T) -> Response {
    match serde_json::to_value(v) {
        Ok(v) => json_response(200, &v),
        Err(e) => json_response(
            500,
            &json!({"errors": [{"type": "internal", "message": e.to_string()}]}),
        ),
    }
}

async fn parse<T: DeserializeOwned>(body: Body) -> Result<T, Response> {
    let bytes = read_body(body)
        .await
        .map_err(|e| json_response(e.status, &e.body()))?;
    serde_json::from_slice::<T>(&bytes).map_err(|e| bad(&format!("invalid JSON: {e}")))
}
