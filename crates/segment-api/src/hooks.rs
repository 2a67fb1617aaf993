//! Extension points that let a caller pace and count the client's requests.
//!
//! The client calls a [`RequestHook`] around every HTTP attempt. `segment-cache`
//! implements it with governor buckets and counters; the client itself knows
//! nothing about rate-limit policy beyond honouring 429 answers and retries.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

/// The future [`RequestHook::before`] returns: boxed, so that the hook can be a trait object.
/// (The same type as `futures::future::BoxFuture`, named here so that this crate's public API
/// does not depend on the `futures` crate.)
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Whether an operation reads or writes. Segment limits IAM writes to 60/min;
/// reads have a higher, unpublished limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// A GET.
    Read,
    /// A POST, PUT, PATCH or DELETE.
    Write,
}

/// What the client is about to send (one attempt; a retry is a new attempt).
#[derive(Debug, Clone, Copy)]
pub struct RequestInfo {
    /// Stable operation name, the Segment `operationId` (e.g. `"listUsers"`).
    pub operation: &'static str,
    /// Read or write.
    pub access: Access,
    /// 1 for the first attempt, 2 for the first retry, ...
    pub attempt: u32,
}

/// Rate-limit headers of a response, parsed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimitInfo {
    /// `X-RateLimit-Remaining`.
    pub remaining: Option<u64>,
    /// `X-RateLimit-Consumed`.
    pub consumed: Option<u64>,
    /// `X-RateLimit-Reset` (an HTTP date; epoch seconds are tolerated). `None` when absent,
    /// unparsable, or more than a day in the future (an absurd value is never passed on).
    pub reset: Option<SystemTime>,
}

/// What came back for one attempt.
#[derive(Debug, Clone, Copy)]
pub struct ResponseInfo {
    /// Operation name, as in [`RequestInfo::operation`].
    pub operation: &'static str,
    /// Read or write.
    pub access: Access,
    /// HTTP status, or `None` when the attempt failed in transport, including a 2xx
    /// answer whose body could not be read (the call then fails with a transport error).
    pub status: Option<u16>,
    /// Rate-limit headers, when present.
    pub rate_limit: RateLimitInfo,
    /// For a 429: how long the server asked us to wait (msBeforeNext,
    /// X-RateLimit-Reset or Retry-After), when it said.
    pub retry_after: Option<Duration>,
}

/// Called by the client around every attempt. Implementations must be cheap
/// and must not fail; `before` may wait (that is how pacing works).
///
/// The client holds it as `Arc<dyn RequestHook>`.
pub trait RequestHook: Send + Sync + std::fmt::Debug + 'static {
    /// Called before each attempt; may sleep to pace requests.
    fn before(&self, req: RequestInfo) -> BoxFuture<'_, ()>;
    /// Called after each attempt with what came back.
    fn after(&self, resp: &ResponseInfo);
    /// Called when the client decides to retry, with the delay it will sleep.
    fn on_retry(&self, _req: &RequestInfo, _delay: Duration) {}
}

/// The hook used when the caller installs none: no pacing, no counting.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHook;

impl RequestHook for NoHook {
    fn before(&self, _req: RequestInfo) -> BoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }
    fn after(&self, _resp: &ResponseInfo) {}
}
