//! Optional health endpoints for Kubernetes probes (docs/c1-service-mode.md §13):
//! `/health` runs the connector's validation (200 `healthy` / 503 `unhealthy`), `/ready` is
//! 200 once the startup Hello succeeded, `/live` is always 200. JSON bodies with `status`,
//! `timestamp` (Unix seconds) and `details`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::ServiceError;
use crate::connector::Connector;

/// Default port of the health endpoints.
pub const DEFAULT_HEALTH_PORT: u16 = 8081;

struct Shared<C> {
    connector: Arc<C>,
    ready: Arc<AtomicBool>,
}

/// Binds `addr` and serves the endpoints in the background.
pub(crate) async fn serve<C: Connector>(
    addr: SocketAddr,
    connector: Arc<C>,
    ready: Arc<AtomicBool>,
) -> Result<tokio::task::JoinHandle<()>, ServiceError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServiceError::Health { addr, source })?;
    let shared = Arc::new(Shared { connector, ready });
    let app = Router::new()
        .route("/health", get(health::<C>))
        .route("/ready", get(ready_route::<C>))
        .route("/live", get(live))
        .with_state(shared);
    tracing::info!(%addr, "health endpoints listening");
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!(error = %e, "health endpoints stopped");
        }
    }))
}

fn body(status: &str, details: Value) -> Json<Value> {
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    Json(json!({ "status": status, "timestamp": timestamp, "details": details }))
}

async fn health<C: Connector>(State(s): State<Arc<Shared<C>>>) -> (StatusCode, Json<Value>) {
    match s.connector.validate().await {
        Ok(()) => (StatusCode::OK, body("healthy", json!({}))),
        Err(f) => (
            StatusCode::SERVICE_UNAVAILABLE,
            body("unhealthy", json!({ "error": f.message })),
        ),
    }
}

async fn ready_route<C: Connector>(State(s): State<Arc<Shared<C>>>) -> (StatusCode, Json<Value>) {
    if s.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, body("ready", json!({})))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            body(
                "not ready",
                json!({ "reason": "waiting for the startup Hello" }),
            ),
        )
    }
}

async fn live() -> (StatusCode, Json<Value>) {
    (StatusCode::OK, body("alive", json!({})))
}
