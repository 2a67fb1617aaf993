//! Connector-agnostic runner of ConductorOne "service mode" (docs/c1-service-mode.md): a
//! long-lived client of the tenant's `c1.connectorapi.baton.v1.BatonService` that obtains
//! tokens with the connector's client id and secret, says Hello, polls for tasks, runs them
//! through a [`Connector`] and reports the outcome.
//!
//! A Rust connector uses it by implementing [`Connector`] and calling [`run`] with a
//! [`ServiceConfig`] and a shutdown future (e.g. [`termination_signal`]):
//!
//! ```ignore
//! let config = ServiceConfig::new(client_id, client_secret, Build { package, version });
//! baton_service::run(config, MyConnector::new(), baton_service::termination_signal()).await?;
//! ```
//!
//! What it does: client id/secret parsing before any I/O ([`ClientId`], [`ClientSecret`]);
//! EdDSA assertions exchanged at `https://<host>/auth/v1/token`, tokens cached until 10 s
//! before expiry; TLS with the compiled-in Mozilla roots (plus an explicit extra CA for fake
//! tenants); Hello with backoff (fatal on auth-type errors); GetTask honouring `next_poll`
//! with a floor; at most `task_concurrency` tasks; heartbeats and cancellation for syncs;
//! upload with SHA-256 and retries from byte 0; FinishTask payloads per task type; the
//! provisioning gate; graceful shutdown; optional `/health`, `/ready`, `/live`.
//!
//! Must never depend on any `segment-*` crate, on baton-c1z (the connector writes the c1z)
//! nor on c1-mock (a dev-dependency only). The client secret and access tokens are never
//! printed, logged or put in an error.

pub mod assertion;
mod client;
pub mod clock;
mod config;
mod connector;
mod credentials;
mod error;
mod health;
mod heartbeat;
mod host;
mod runner;
mod shutdown;
mod sync_task;
mod task;
mod token;
mod upload;

pub use config::{
    API_HOST_ENV, DEFAULT_MIN_POLL_INTERVAL, DEFAULT_SHUTDOWN_GRACE, DEFAULT_TASK_CONCURRENCY,
    MAX_TASK_CONCURRENCY, ServiceConfig,
};
pub use connector::{Connector, SyncRequest, TaskFailure};
pub use credentials::{ClientId, ClientSecret};
pub use error::ServiceError;
pub use health::DEFAULT_HEALTH_PORT;
pub use heartbeat::{CANCELLED_BY_SERVER, HEARTBEAT_FAILED, MAX_FAILED_HEARTBEATS};
pub use host::{Build, HOST_ID_ENV, default_host_id};
pub use runner::run;
pub use shutdown::termination_signal;
pub use task::{PROVISIONING_DISABLED, UNSUPPORTED_TASK_TYPE};
pub use upload::{UPLOAD_ATTEMPTS, UPLOAD_CHUNK_SIZE};
