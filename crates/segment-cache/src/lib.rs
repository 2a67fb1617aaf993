//! A Segment API session shared by the sync engine and the provisioning
//! engine: a [`segment_api::Client`] paced by a [`Pacer`] (governor buckets
//! for writes and reads, plus pacing from the server's `X-RateLimit-*`
//! headers and 429 answers), request accounting ([`Stats`]), and a session
//! role cache (moka) with single-flight loading and case-insensitive,
//! ambiguity-aware lookups.
//!
//! All waiting uses `tokio::time`, so tests can run on tokio's paused clock.
//!
//! ```ignore
//! let builder = segment_api::Client::builder(token).region(segment_api::Region::Eu);
//! let session = segment_cache::Session::from_builder(builder, SessionConfig::default())?;
//! let users = session.client().list_users();           // paced and counted
//! let admin = session.role_by_name("Source Admin").await?; // one GET /roles listing
//! let summary = session.stats();                        // requests, 429s, waits, ...
//! ```
//!
//! Reads have no client-side cap by default (Segment does not publish its read limit): they
//! go at the caller's full concurrency and the server's headers set the pace. Pacing, in
//! order, for every attempt of an access class (read or write):
//! 0. a place among the requests in flight: unlimited until a 429, then halved and raised
//!    again one per round of answers without a 429 (AIMD, [`ServerPacing::adaptive_concurrency`]);
//! 1. a server hold: after a 429 (for its `retry_after`, else until
//!    `X-RateLimit-Reset`) or after `X-RateLimit-Remaining: 0` (until the reset);
//! 2. when the server says few requests remain, a slot that spreads them
//!    evenly until the reset;
//! 3. last, the client-side bucket, if one is set ([`PacerConfig::write`] /
//!    [`PacerConfig::read`]): the token is taken right before the request is
//!    sent (never held while waiting), so the bucket's limit holds for what is
//!    actually sent.
//!
//! This crate sits on `segment-api` only. It must never depend on Baton
//! crates (`baton-model`, `baton-c1z`), on `segment-connector`,
//! `segment-provision`, `segment-cli`, or (outside dev-dependencies) on
//! `segment-mock`. It never prints and never logs the API token.

mod concurrency;
mod error;
mod pacer;
mod roles;
mod session;
mod stats;

pub use crate::error::Error;
pub use crate::pacer::{Pacer, PacerConfig, RateLimit, ServerPacing};
pub use crate::session::{Session, SessionConfig};
pub use crate::stats::{OperationStats, Stats};

/// Re-exported so callers need not name `segment_api::hooks` for the
/// [`SessionConfig::observer`] hook.
pub use segment_api::hooks::RequestHook;
