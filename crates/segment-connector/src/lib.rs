//! `segment-connector`: the Segment -> Baton mapping and the concurrent sync engine.
//!
//! - [`scheme`]: resource type ids, role slugs, label sets and the typed entitlement ids
//!   shared with the provisioning engine (`segment-provision`).
//! - [`mapping`]: pure functions from `segment-api` models to `baton-model` objects.
//! - [`sync`]: lists a workspace with bounded concurrency under the session's pacer and
//!   streams the objects into a `.c1z` file ([`SyncOptions`], [`SyncReport`], [`SyncError`]);
//!   [`min_requests`] is the request budget it is measured against.
//!
//! It sits on `baton-model`, `baton-c1z`, `segment-api` and `segment-cache`. It must never
//! depend on `segment-provision`, `segment-cli` or (outside dev-dependencies) `segment-mock`,
//! and it never prints: diagnostics go through `tracing`, results through return values. The
//! API token never reaches a log line, an error or the file.

mod budget;
mod engine;
mod error;
pub mod mapping;
pub mod scheme;
mod sink;

pub use budget::{FUNCTION_KINDS, WorkspaceSizes, min_requests, pages};
pub use engine::{DEFAULT_CONCURRENCY, SkippedType, SyncOptions, SyncReport, sync};
pub use error::SyncError;
pub use scheme::SchemeError;
pub use sink::SyncProgress;
