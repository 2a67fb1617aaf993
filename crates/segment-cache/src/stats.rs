//! Request accounting: cheap atomic counters plus a small per-operation map,
//! readable at any time as a [`Stats`] snapshot.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use segment_api::hooks::{Access, RateLimitInfo, RequestInfo, ResponseInfo};

/// Counters of one operation (a Segment `operationId`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OperationStats {
    /// HTTP attempts that got an answer or failed in transport (retries included).
    pub requests: u64,
    /// Retries the client decided on.
    pub retries: u64,
    /// 429 answers.
    pub rate_limited: u64,
    /// 5xx answers.
    pub server_errors: u64,
    /// Other 4xx answers.
    pub client_errors: u64,
    /// Attempts that failed without an HTTP status.
    pub transport_errors: u64,
}

impl OperationStats {
    fn saturating_sub(&self, earlier: &OperationStats) -> OperationStats {
        OperationStats {
            requests: self.requests.saturating_sub(earlier.requests),
            retries: self.retries.saturating_sub(earlier.retries),
            rate_limited: self.rate_limited.saturating_sub(earlier.rate_limited),
            server_errors: self.server_errors.saturating_sub(earlier.server_errors),
            client_errors: self.client_errors.saturating_sub(earlier.client_errors),
            transport_errors: self
                .transport_errors
                .saturating_sub(earlier.transport_errors),
        }
    }
}

/// A snapshot of a session's request accounting.
///
/// "Requests" are HTTP attempts: a request retried twice counts 3 requests
/// and 2 retries. Wait times are sums over all requests (concurrent waits add
/// up), measured on the tokio clock.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// All attempts.
    pub requests: u64,
    /// Attempts of read operations.
    pub reads: u64,
    /// Attempts of write operations.
    pub writes: u64,
    /// Retries the client decided on.
    pub retries: u64,
    /// 429 answers.
    pub rate_limited: u64,
    /// 5xx answers.
    pub server_errors: u64,
    /// Other 4xx answers.
    pub client_errors: u64,
    /// Attempts that failed without an HTTP status.
    pub transport_errors: u64,
    /// Time requests spent waiting in the pacer (client buckets and server
    /// holds) before being sent.
    pub pacer_wait: Duration,
    /// Time the client slept before retries (as announced to the hook).
    pub retry_wait: Duration,
    /// Per operation id (e.g. `"listRoles"`).
    pub by_operation: BTreeMap<&'static str, OperationStats>,
    /// The last rate-limit headers seen on a read, if any.
    pub read_rate_limit: Option<RateLimitInfo>,
    /// The last rate-limit headers seen on a write, if any.
    pub write_rate_limit: Option<RateLimitInfo>,
    /// The server's read limit per window (`consumed + remaining` of the last read answer
    /// that said both), if any.
    pub read_limit_seen: Option<u64>,
    /// Times reads were held (after a 429, or when the window was used up) until the
    /// server's window let them go again.
    pub read_holds: u64,
    /// Times the last reads of a server window were spread until its reset.
    pub read_spreads: u64,
    /// Times the reads in flight were halved after a 429.
    pub read_concurrency_cuts: u64,
    /// The lowest read concurrency the cuts reached (`None`: never cut).
    pub read_lowest_concurrency: Option<usize>,
}

/// The pacer's own counts that a [`Stats`] snapshot carries.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PacingCounts {
    pub(crate) read_limit_seen: Option<u64>,
    pub(crate) read_holds: u64,
    pub(crate) read_spreads: u64,
    pub(crate) read_concurrency_cuts: u64,
    pub(crate) read_lowest_concurrency: Option<usize>,
}

impl Stats {
    /// Counters accumulated since `earlier` (a previous snapshot of the same
    /// session); rate-limit headers are this snapshot's.
    pub fn since(&self, earlier: &Stats) -> Stats {
        let by_operation = self
            .by_operation
            .iter()
            .map(|(op, now)| {
                let before = earlier.by_operation.get(op).copied().unwrap_or_default();
                (*op, now.saturating_sub(&before))
            })
            .filter(|(_, d)| *d != OperationStats::default())
            .collect();
        Stats {
            requests: self.requests.saturating_sub(earlier.requests),
            reads: self.reads.saturating_sub(earlier.reads),
            writes: self.writes.saturating_sub(earlier.writes),
            retries: self.retries.saturating_sub(earlier.retries),
            rate_limited: self.rate_limited.saturating_sub(earlier.rate_limited),
            server_errors: self.server_errors.saturating_sub(earlier.server_errors),
            client_errors: self.client_errors.saturating_sub(earlier.client_errors),
            transport_errors: self
                .transport_errors
                .saturating_sub(earlier.transport_errors),
            pacer_wait: self.pacer_wait.saturating_sub(earlier.pacer_wait),
            retry_wait: self.retry_wait.saturating_sub(earlier.retry_wait),
            by_operation,
            read_rate_limit: self.read_rate_limit,
            write_rate_limit: self.write_rate_limit,
            read_limit_seen: self.read_limit_seen,
            read_holds: self.read_holds.saturating_sub(earlier.read_holds),
            read_spreads: self.read_spreads.saturating_sub(earlier.read_spreads),
            read_concurrency_cuts: self
                .read_concurrency_cuts
                .saturating_sub(earlier.read_concurrency_cuts),
            read_lowest_concurrency: self.read_lowest_concurrency,
        }
    }

    /// Requests of one operation (0 when never called).
    pub fn requests_of(&self, operation: &str) -> u64 {
        self.by_operation.get(operation).map_or(0, |o| o.requests)
    }
}

/// The live counters behind [`Stats`].
#[derive(Debug, Default)]
pub(crate) struct Accounting {
    requests: AtomicU64,
    reads: AtomicU64,
    writes: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
    server_errors: AtomicU64,
    client_errors: AtomicU64,
    transport_errors: AtomicU64,
    pacer_wait_nanos: AtomicU64,
    retry_wait_nanos: AtomicU64,
    by_operation: Mutex<BTreeMap<&'static str, OperationStats>>,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

fn add_duration(counter: &AtomicU64, d: Duration) {
    let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    if nanos > 0 {
        counter.fetch_add(nanos, Ordering::Relaxed);
    }
}

fn load(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

impl Accounting {
    fn with_operation(&self, operation: &'static str, f: impl FnOnce(&mut OperationStats)) {
        let mut map = self
            .by_operation
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(map.entry(operation).or_default());
    }

    pub(crate) fn record_response(&self, resp: &ResponseInfo) {
        bump(&self.requests);
        bump(match resp.access {
            Access::Read => &self.reads,
            Access::Write => &self.writes,
        });
        let kind = match resp.status {
            None => Some(&self.transport_errors),
            Some(429) => Some(&self.rate_limited),
            Some(s) if s >= 500 => Some(&self.server_errors),
            Some(s) if s >= 400 => Some(&self.client_errors),
            Some(_) => None,
        };
        if let Some(counter) = kind {
            bump(counter);
        }
        self.with_operation(resp.operation, |op| {
            op.requests += 1;
            match resp.status {
                None => op.transport_errors += 1,
                Some(429) => op.rate_limited += 1,
                Some(s) if s >= 500 => op.server_errors += 1,
                Some(s) if s >= 400 => op.client_errors += 1,
                Some(_) => {}
            }
        });
    }

    pub(crate) fn record_retry(&self, req: &RequestInfo, delay: Duration) {
        bump(&self.retries);
        add_duration(&self.retry_wait_nanos, delay);
        self.with_operation(req.operation, |op| op.retries += 1);
    }

    pub(crate) fn record_pacer_wait(&self, waited: Duration) {
        add_duration(&self.pacer_wait_nanos, waited);
    }

    pub(crate) fn snapshot(
        &self,
        read_rate_limit: Option<RateLimitInfo>,
        write_rate_limit: Option<RateLimitInfo>,
        pacing: PacingCounts,
    ) -> Stats {
        let by_operation = self
            .by_operation
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        Stats {
            requests: load(&self.requests),
            reads: load(&self.reads),
            writes: load(&self.writes),
            retries: load(&self.retries),
            rate_limited: load(&self.rate_limited),
            server_errors: load(&self.server_errors),
            client_errors: load(&self.client_errors),
            transport_errors: load(&self.transport_errors),
            pacer_wait: Duration::from_nanos(load(&self.pacer_wait_nanos)),
            retry_wait: Duration::from_nanos(load(&self.retry_wait_nanos)),
            by_operation,
            read_rate_limit,
            write_rate_limit,
            read_limit_seen: pacing.read_limit_seen,
            read_holds: pacing.read_holds,
            read_spreads: pacing.read_spreads,
            read_concurrency_cuts: pacing.read_concurrency_cuts,
            read_lowest_concurrency: pacing.read_lowest_concurrency,
        }
    }
}
