//! Connector-agnostic runner of ConductorOne "service mode" (docs/c1-service-mode.md): a
//! long-lived client of the tenant's `c1.connectorapi.baton.v1.BatonService` that obtains
//! tokens with the connector's client id and secret, says Hello, polls for tasks, runs them
//! through a connector and reports the outcome.
//!
//! So far: client id / secret parsing ([`ClientId`], [`ClientSecret`]) and the signed
//! token-endpoint assertion ([`assertion`]).
//!
//! Must never depend on any `segment-*` crate, on baton-c1z (the connector writes the c1z)
//! nor on c1-mock (a dev-dependency only). The client secret and access tokens are never
//! printed, logged or put in an error.

pub mod assertion;
mod credentials;
mod error;
#[allow(dead_code, reason = "used by the task loop, which lands next")]
mod token;

pub use credentials::{ClientId, ClientSecret};
pub use error::ServiceError;
