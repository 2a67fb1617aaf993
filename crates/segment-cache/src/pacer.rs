//! Client-side pacing: governor buckets per access class plus pacing from the
//! server's `X-RateLimit-*` headers and 429 answers.
//!
//! Every wait uses `tokio::time`, so tests on tokio's paused clock see the same
//! pacing as production does on the real clock.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use segment_api::hooks::{Access, BoxFuture, RequestHook, RequestInfo, ResponseInfo};
use tokio::time::Instant;

use crate::Error;
use crate::concurrency::Gate;
use crate::stats::{Accounting, PacingCounts, Stats};

#[cfg(test)]
mod tests;

const MINUTE: Duration = Duration::from_secs(60);

/// A client-side limit: at most `per_minute` requests in ANY 60-second
/// window, of which up to `burst` may go back to back.
///
/// The bucket refills one request every `60 s / (per_minute - burst + 1)`
/// (rounded up to whole nanoseconds), which is what makes the "any window"
/// guarantee hold for every burst size: a full burst of `burst` followed by
/// steady refills never puts more than `per_minute` requests into a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimit {
    /// Requests allowed in any 60-second window (at least 1).
    pub per_minute: u32,
    /// Requests that may be sent back to back after an idle period
    /// (`1..=per_minute`).
    pub burst: u32,
}

impl RateLimit {
    /// `per_minute` requests a minute, with a burst of 1 (evenly spaced).
    pub const fn per_minute(per_minute: u32) -> RateLimit {
        RateLimit {
            per_minute,
            burst: 1,
        }
    }

    /// The same limit with another burst size.
    pub const fn with_burst(self, burst: u32) -> RateLimit {
        RateLimit { burst, ..self }
    }

    /// The refill interval of one request, or an error when the limit is
    /// invalid (`per_minute == 0`, `burst == 0` or `burst > per_minute`).
    pub fn refill_interval(&self) -> Result<Duration, Error> {
        if self.per_minute == 0 || self.burst == 0 || self.burst > self.per_minute {
            return Err(Error::InvalidConfig(format!(
                "rate limit needs 1 <= burst <= per_minute, got {} per minute with burst {}",
                self.per_minute, self.burst
            )));
        }
        let slots = u128::from(self.per_minute - self.burst + 1);
        let nanos = MINUTE.as_nanos().div_ceil(slots);
        // At most 60e9 ns: always fits.
        Ok(Duration::from_nanos(
            u64::try_from(nanos).unwrap_or(u64::MAX),
        ))
    }

    fn quota(&self) -> Result<Quota, Error> {
        let interval = self.refill_interval()?;
        let burst = std::num::NonZeroU32::new(self.burst)
            .ok_or_else(|| Error::InvalidConfig("burst must be at least 1".into()))?;
        Quota::with_period(interval)
            .map(|q| q.allow_burst(burst))
            .ok_or_else(|| Error::InvalidConfig("rate limit interval is zero".into()))
    }
}

/// How the pacer follows the server's rate-limit headers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerPacing {
    /// Follow `X-RateLimit-Remaining`/`X-RateLimit-Reset` and 429 answers at
    /// all. Default `true`.
    pub enabled: bool,
    /// "Low" means `remaining <= max(low_remaining, low_remaining_percent% of
    /// consumed + remaining)`. When low, the remaining requests of the window
    /// are spread evenly until the reset. Default 5.
    pub low_remaining: u64,
    /// See [`ServerPacing::low_remaining`]. Default 20 (%).
    pub low_remaining_percent: u8,
    /// Added to `X-RateLimit-Reset`, which has whole-second resolution (and the
    /// two clocks may differ a little). Default 1 s.
    pub reset_slack: Duration,
    /// Upper bound of any single server-imposed hold (protects against a
    /// skewed clock or an absurd header). Default 120 s.
    pub max_hold: Duration,
    /// How long to hold an access class after a 429 that said neither
    /// `retry_after` nor `X-RateLimit-Reset`. Default 1 s.
    pub fallback_429_hold: Duration,
    /// After a 429, halve the requests of the class in flight, then raise them again by
    /// one per round of answers without a 429 (AIMD; see the `concurrency` module).
    /// Default `true`.
    pub adaptive_concurrency: bool,
}

impl ServerPacing {
    /// Server pacing switched off (headers are still recorded in [`Stats`]).
    pub fn disabled() -> ServerPacing {
        ServerPacing {
            enabled: false,
            adaptive_concurrency: false,
            ..ServerPacing::default()
        }
    }
}

impl Default for ServerPacing {
    fn default() -> ServerPacing {
        ServerPacing {
            enabled: true,
            low_remaining: 5,
            low_remaining_percent: 20,
            reset_slack: Duration::from_secs(1),
            max_hold: Duration::from_secs(120),
            fallback_429_hold: Duration::from_secs(1),
            adaptive_concurrency: true,
        }
    }
}

/// Configuration of a [`Pacer`].
///
/// Defaults: writes `60/min` with burst 1 (Segment's documented IAM write
/// limit, shared by all writes); no client-side read limit, because Segment's
/// read limit is unpublished: reads go at full concurrency and are paced by
/// what the server's headers and 429 answers say (server pacing on).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PacerConfig {
    /// Bucket shared by all writes; `None` = no client-side write limit.
    pub write: Option<RateLimit>,
    /// Bucket shared by all reads; `None` = no client-side read limit.
    pub read: Option<RateLimit>,
    /// Pacing from the server's headers and 429 answers.
    pub server: ServerPacing,
}

impl PacerConfig {
    /// Default write limit: 60 per minute, evenly spaced.
    pub const DEFAULT_WRITE: RateLimit = RateLimit::per_minute(60);
    /// Burst of a client-side read limit a user sets (e.g. `--max-reads-per-minute`).
    pub const READ_BURST: u32 = 20;

    /// With another write limit (`None` = unlimited).
    #[must_use]
    pub fn with_write(mut self, write: Option<RateLimit>) -> PacerConfig {
        self.write = write;
        self
    }

    /// With another read limit (`None` = unlimited).
    #[must_use]
    pub fn with_read(mut self, read: Option<RateLimit>) -> PacerConfig {
        self.read = read;
        self
    }

    /// With other server-pacing settings.
    #[must_use]
    pub fn with_server(mut self, server: ServerPacing) -> PacerConfig {
        self.server = server;
        self
    }

    /// No client-side buckets and no server pacing (counting only).
    pub fn unlimited() -> PacerConfig {
        PacerConfig {
            write: None,
            read: None,
            server: ServerPacing::disabled(),
        }
    }
}

impl Default for PacerConfig {
    fn default() -> PacerConfig {
        PacerConfig {
            write: Some(PacerConfig::DEFAULT_WRITE),
            read: None,
            server: ServerPacing::default(),
        }
    }
}

/// governor clock reading `tokio::time::Instant`, so waits work on tokio's
/// paused clock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TokioClock {
    origin: Instant,
}

impl TokioClock {
    pub(crate) fn new() -> TokioClock {
        TokioClock {
            origin: Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::from(self.origin.elapsed())
    }
}

type Bucket = RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Nanos>>;

/// A governor bucket on the tokio clock.
pub(crate) struct Limiter {
    limit: RateLimit,
    clock: TokioClock,
    bucket: Bucket,
}

impl fmt::Debug for Limiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limiter")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl Limiter {
    pub(crate) fn new(limit: RateLimit) -> Result<Limiter, Error> {
        let clock = TokioClock::new();
        let bucket = RateLimiter::direct_with_clock(limit.quota()?, clock);
        Ok(Limiter {
            limit,
            clock,
            bucket,
        })
    }

    /// Takes a cell now, or says how long to wait before trying again.
    pub(crate) fn try_acquire(&self) -> Result<(), Duration> {
        self.bucket
            .check()
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// Spreading of the last requests of a server window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Spread {
    interval: Duration,
    until: Instant,
}

/// What the server's headers say about one access class (pure state machine;
/// time is passed in so it can be unit tested without HTTP or sleeping).
#[derive(Debug, Default)]
pub(crate) struct ServerGate {
    hold_until: Option<Instant>,
    spread: Option<Spread>,
    next_slot: Option<Instant>,
    last: Option<segment_api::hooks::RateLimitInfo>,
    /// Holds begun (a hold extended while it lasts is one).
    holds: u64,
    /// Times spreading began.
    spreads: u64,
    /// `consumed + remaining` of the last answer that said both: the server's limit.
    limit_seen: Option<u64>,
}

impl ServerGate {
    /// Updates the state from one response observed at `now` (`wall` is the
    /// wall clock at the same moment, to interpret `X-RateLimit-Reset`).
    pub(crate) fn observe(
        &mut self,
        cfg: &ServerPacing,
        resp: &ResponseInfo,
        now: Instant,
        wall: SystemTime,
    ) {
        let rl = resp.rate_limit;
        if rl != segment_api::hooks::RateLimitInfo::default() {
            self.last = Some(rl);
        }
        if let (Some(consumed), Some(remaining)) = (rl.consumed, rl.remaining)
            && resp.status != Some(429)
        {
            self.limit_seen = Some(consumed.saturating_add(remaining));
        }
        if !cfg.enabled {
            return;
        }
        // A reset so far away that adding the slack overflows is no reset at all.
        let until_reset = rl
            .reset
            .and_then(|reset| reset.checked_add(cfg.reset_slack))
            .and_then(|reset| reset.duration_since(wall).ok())
            .filter(|d| !d.is_zero())
            .map(|d| d.min(cfg.max_hold));

        if resp.status == Some(429) {
            let wait = resp
                .retry_after
                .or(until_reset)
                .unwrap_or(cfg.fallback_429_hold)
                .min(cfg.max_hold);
            self.hold(now, later(now, wait));
            return;
        }
        let Some(remaining) = rl.remaining else {
            return;
        };
        if remaining == 0 {
            if let Some(d) = until_reset {
                self.hold(now, later(now, d));
            }
            self.spread = None;
        } else if is_low(cfg, remaining, rl.consumed) {
            if let Some(d) = until_reset {
                // r requests in d: one now, then one every d / (r + 1), so the
                // last one still lands before the reset.
                let parts = u32::try_from(remaining.saturating_add(1)).unwrap_or(u32::MAX);
                if self.spread.is_none_or(|s| now >= s.until) {
                    self.spreads += 1;
                }
                self.spread = Some(Spread {
                    interval: d / parts,
                    until: later(now, d),
                });
            }
        } else {
            self.spread = None;
        }
    }

    fn hold(&mut self, now: Instant, until: Instant) {
        if self.held_until(now).is_none() {
            self.holds += 1;
        }
        self.hold_until = Some(self.hold_until.map_or(until, |h| h.max(until)));
    }

    /// `Some(t)` when every request of this class must wait until `t`.
    pub(crate) fn held_until(&self, now: Instant) -> Option<Instant> {
        self.hold_until.filter(|&t| t > now)
    }

    /// Takes the next send slot: `now` when not spreading, otherwise the next
    /// free slot `interval` after the previous one.
    pub(crate) fn reserve(&mut self, now: Instant) -> Instant {
        match self.spread {
            Some(spread) if now < spread.until => {
                let slot = self.next_slot.map_or(now, |s| s.max(now));
                self.next_slot = Some(later(slot, spread.interval));
                slot
            }
            _ => {
                self.spread = None;
                self.next_slot = None;
                now
            }
        }
    }

    pub(crate) fn last(&self) -> Option<segment_api::hooks::RateLimitInfo> {
        self.last
    }

    pub(crate) fn holds(&self) -> u64 {
        self.holds
    }

    pub(crate) fn spreads(&self) -> u64 {
        self.spreads
    }

    pub(crate) fn limit_seen(&self) -> Option<u64> {
        self.limit_seen
    }
}

/// Roughly 30 years: what "later" saturates to when `at + d` is not representable.
const FAR_FUTURE: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

/// `at + d`, saturating (never panics, whatever the configuration or headers say).
pub(crate) fn later(at: Instant, d: Duration) -> Instant {
    at.checked_add(d)
        .or_else(|| at.checked_add(d.min(FAR_FUTURE)))
        .unwrap_or(at)
}

/// `remaining` is low when at or below the absolute or relative threshold.
pub(crate) fn is_low(cfg: &ServerPacing, remaining: u64, consumed: Option<u64>) -> bool {
    let relative = consumed.map_or(0, |c| {
        let limit = u128::from(c) + u128::from(remaining);
        let pct = u128::from(cfg.low_remaining_percent.min(100));
        u64::try_from((limit * pct).div_ceil(100)).unwrap_or(u64::MAX)
    });
    remaining <= cfg.low_remaining.max(relative)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The [`RequestHook`] a session installs on its client: paces requests with
/// one write bucket and one read bucket (governor, tokio clock), follows the
/// server's rate-limit headers and 429 answers per access class, and counts
/// everything (see [`Stats`]).
///
/// Waiting after a 429 is expressed as an absolute deadline, so the client's
/// own retry sleep and the pacer never add up: the pacer only waits for the
/// part of a hold that the client's sleep did not already cover.
pub struct Pacer {
    config: PacerConfig,
    write: Option<Limiter>,
    read: Option<Limiter>,
    gates: [Mutex<ServerGate>; 2],
    flows: [Gate; 2],
    stats: Accounting,
    observer: Option<Arc<dyn RequestHook>>,
}

impl fmt::Debug for Pacer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pacer")
            .field("config", &self.config)
            .field("observer", &self.observer)
            .finish_non_exhaustive()
    }
}

fn class(access: Access) -> usize {
    match access {
        Access::Read => 0,
        Access::Write => 1,
    }
}

impl Pacer {
    /// A pacer with the given limits. Fails on an invalid [`RateLimit`].
    pub fn new(config: PacerConfig) -> Result<Pacer, Error> {
        let write = config.write.map(Limiter::new).transpose()?;
        let read = config.read.map(Limiter::new).transpose()?;
        Ok(Pacer {
            config,
            write,
            read,
            gates: [Mutex::default(), Mutex::default()],
            flows: [Gate::default(), Gate::default()],
            stats: Accounting::default(),
            observer: None,
        })
    }

    /// Also calls `observer` for every attempt: `before` once pacing is done
    /// (i.e. right before the request is sent), `after` and `on_retry` after
    /// the pacer's own bookkeeping.
    pub fn with_observer(mut self, observer: Arc<dyn RequestHook>) -> Pacer {
        self.observer = Some(observer);
        self
    }

    /// The configuration this pacer runs with.
    pub fn config(&self) -> &PacerConfig {
        &self.config
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        let [read, write] = &self.gates;
        let read = lock(read);
        let flow = self.flows[class(Access::Read)].lock();
        let pacing = PacingCounts {
            read_limit_seen: read.limit_seen(),
            read_holds: read.holds(),
            read_spreads: read.spreads(),
            read_concurrency_cuts: flow.cuts(),
            read_lowest_concurrency: flow.lowest(),
        };
        let read_last = read.last();
        drop((read, flow));
        self.stats.snapshot(read_last, lock(write).last(), pacing)
    }

    /// One line saying how reads were paced: the client-side cap (if any), the server limit
    /// learned from the `X-RateLimit-*` headers, holds, spreads, 429s, retries and cuts of
    /// concurrency.
    pub fn summary(&self) -> String {
        let stats = self.stats();
        let cap = match self.config.read {
            Some(limit) => format!("reads capped at {}/min on the client", limit.per_minute),
            None => "no client-side read cap".to_owned(),
        };
        let server = match stats.read_limit_seen {
            Some(limit) => format!("server read limit {limit} per window learned from headers"),
            None => "no read limit in the server's headers".to_owned(),
        };
        let concurrency = match stats.read_lowest_concurrency {
            Some(lowest) => format!(
                "concurrency cut {} times (lowest {lowest})",
                stats.read_concurrency_cuts
            ),
            None => "full concurrency".to_owned(),
        };
        format!(
            "{cap}; {server}; {} holds, {} spread windows, {} rate limited, {} retries; {concurrency}",
            stats.read_holds, stats.read_spreads, stats.rate_limited, stats.retries
        )
    }

    fn limiter(&self, access: Access) -> Option<&Limiter> {
        match access {
            Access::Read => self.read.as_ref(),
            Access::Write => self.write.as_ref(),
        }
    }

    /// Waits until a request of this access class may be sent.
    ///
    /// Order matters: first every server hold, then the spread slot, and only
    /// then the client-side bucket token, with no `.await` between taking the
    /// token and returning. A task never sleeps while holding a token, so the
    /// send times are exactly the token times and the bucket's "at most
    /// `per_minute` in any 60 s window" holds for what is sent, whatever the
    /// server pacing does meanwhile. After any sleep the hold is checked again
    /// (a new hold may have appeared).
    pub(crate) async fn pace(&self, access: Access) -> Duration {
        let start = Instant::now();
        let gate = &self.gates[class(access)];
        let mut slot = false;
        loop {
            let now = Instant::now();
            let held = lock(gate).held_until(now);
            if let Some(until) = held {
                tokio::time::sleep_until(until).await;
                continue;
            }
            if !slot {
                slot = true;
                let at = lock(gate).reserve(now);
                if at > now {
                    tokio::time::sleep_until(at).await;
                    continue;
                }
            }
            if let Some(limiter) = self.limiter(access)
                && let Err(wait) = limiter.try_acquire()
            {
                tokio::time::sleep(wait).await;
                continue;
            }
            break;
        }
        start.elapsed()
    }
}

impl RequestHook for Pacer {
    fn before(&self, req: RequestInfo) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let start = Instant::now();
            if self.config.server.adaptive_concurrency {
                self.flows[class(req.access)].enter().await;
            }
            self.pace(req.access).await;
            let waited = start.elapsed();
            self.stats.record_pacer_wait(waited);
            if let Some(observer) = &self.observer {
                observer.before(req).await;
            }
        })
    }

    fn after(&self, resp: &ResponseInfo) {
        self.stats.record_response(resp);
        let now = Instant::now();
        let held_until = {
            let mut gate = lock(&self.gates[class(resp.access)]);
            gate.observe(&self.config.server, resp, now, SystemTime::now());
            gate.held_until(now)
        };
        if self.config.server.adaptive_concurrency {
            self.flows[class(resp.access)].leave(resp.status == Some(429), now, held_until);
        }
        if let Some(observer) = &self.observer {
            observer.after(resp);
        }
    }

    fn on_retry(&self, req: &RequestInfo, delay: Duration) {
        self.stats.record_retry(req, delay);
        if let Some(observer) = &self.observer {
            observer.on_retry(req, delay);
        }
    }
}
