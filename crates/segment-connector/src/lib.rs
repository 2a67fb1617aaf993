//! `segment-connector`: the Segment -> Baton mapping and the concurrent sync engine.
//!
//! The identifier scheme and the pure model mapping it writes with live in `segment-scheme`,
//! shared with the provisioning engine.
//!
//! - [`sync`]: lists a workspace with bounded concurrency under the session's pacer and
//!   streams the objects into a `.c1z` file ([`SyncOptions`], [`SyncReport`], [`SyncError`]);
//!   [`min_requests`] is the request budget it is measured against.
//!
//! It sits on `baton-model`, `baton-c1z`, `segment-api`, `segment-cache` and `segment-scheme`. It must never
//! depend on `segment-provision`, `segment-cli` or (outside dev-dependencies) `segment-mock`,
//! and it never prints: diagnostics go through `tracing`, results through return values. The
//! API token never reaches a log line, an error or the file.

mod budget;
mod engine;
mod error;
mod sink;

pub use budget::{FUNCTION_KINDS, WorkspaceSizes, min_requests, pages};
pub use engine::{DEFAULT_CONCURRENCY, SkippedType, SyncOptions, SyncReport, sync};
pub use error::SyncError;
pub use sink::SyncProgress;
