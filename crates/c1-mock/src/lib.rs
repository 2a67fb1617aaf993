//! A fake ConductorOne tenant for tests and demos (docs/c1-service-mode.md §15): one TLS
//! listener on loopback (certificates generated per start with rcgen) serving the token
//! endpoint and `c1.connectorapi.baton.v1.BatonService`, with
//!
//! - strict checks of every call: the EdDSA assertion (signature, `iss`/`sub`/`aud`/`nbf`/
//!   `exp`), the bearer token, a constant `host_id`, task ids that were handed out, every
//!   Hello field, upload framing (metadata → data ≤ 1 MiB → eof), the SHA-256, the c1z
//!   content (opened with baton-c1z: one finished sync), the FinishTask oneof and status.
//!   A broken rule is recorded ([`C1Mock::violations`]) and answered with an error;
//! - a scriptable task queue ([`C1Mock::push_task`]) and fault knobs (token 401, failing
//!   Hello/GetTask/heartbeats, heartbeat cancellation, broken upload streams);
//! - a record of every call ([`C1Mock::calls`]).
//!
//! The client secret it generates is only handed out through [`TestSecret::expose`]; it is
//! never printed or logged. Must never depend on any `segment-*` crate or on baton-service
//! (the runner under test).

mod certs;
mod credentials;
mod error;
mod server;
mod service;
mod state;
mod token;

pub use credentials::TestSecret;
pub use error::MockError;
pub use server::{C1Mock, MockOptions, new_task_id};
pub use state::{Call, Uploaded};
