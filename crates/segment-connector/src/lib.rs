//! `segment-connector`: the Segment -> Baton mapping and the concurrent sync engine.
//!
//! The identifier scheme and the pure model mapping it writes with live in `segment-scheme`,
//! shared with the provisioning engine.
//!
//! - [`sync`]: lists a workspace with bounded concurrency under the session's pacer and
//!   streams the objects into a `.c1z` file ([`SyncOptions`] with its scope: resource types
//!   and [`SyncDepth`]; [`SyncReport`], [`SyncError`]);
//!   [`min_requests`] is the request budget it is measured against.
//!
//! It sits on `baton-model`, `baton-c1z`, `segment-api`, `segment-cache` and `segment-scheme`. It must never
//! depend on `segment-provision`, `segment-cli` or (outside dev-dependencies) `segment-mock`,
//! and it never prints: diagnostics go through `tracing`, results through return values. The
//! API token never reaches a log line, an error or the file.

mod error;
mod request_count;
mod sync;
mod writer_thread;

pub use error::SyncError;
pub use request_count::{FUNCTION_KINDS, WorkspaceSizes, min_requests, pages};
pub use sync::{DEFAULT_CONCURRENCY, SkippedType, SyncDepth, SyncOptions, SyncReport, sync};
pub use writer_thread::SyncProgress;
