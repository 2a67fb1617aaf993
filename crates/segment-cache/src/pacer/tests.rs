//! Unit tests of the pacer math, without HTTP.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, SystemTime};

use proptest::prelude::*;
use segment_api::hooks::{Access, RateLimitInfo, RequestHook, RequestInfo, ResponseInfo};
use tokio::time::Instant;

use super::{Limiter, Pacer, PacerConfig, RateLimit, ServerGate, ServerPacing, is_low};

const SEC: Duration = Duration::from_secs(1);

fn resp(access: Access, status: u16, rl: RateLimitInfo) -> ResponseInfo {
    ResponseInfo {
        operation: "op",
        access,
        status: Some(status),
        rate_limit: rl,
        retry_after: None,
    }
}

fn req(access: Access, attempt: u32) -> RequestInfo {
    RequestInfo {
        operation: "op",
        access,
        attempt,
    }
}

fn headers(remaining: u64, consumed: u64, reset: SystemTime) -> RateLimitInfo {
    RateLimitInfo {
        remaining: Some(remaining),
        consumed: Some(consumed),
        reset: Some(reset),
    }
}

fn no_slack() -> ServerPacing {
    ServerPacing {
        reset_slack: Duration::ZERO,
        ..ServerPacing::default()
    }
}

#[test]
fn refill_interval_keeps_any_window_within_the_limit() {
    assert_eq!(RateLimit::per_minute(60).refill_interval().unwrap(), SEC);
    // 60/min with burst 5: 56 slots of ceil(60 s / 56).
    let interval = RateLimit::per_minute(60)
        .with_burst(5)
        .refill_interval()
        .unwrap();
    assert_eq!(interval, Duration::from_nanos(1_071_428_572));
    assert!(interval * 56 >= Duration::from_secs(60));
    assert_eq!(
        RateLimit::per_minute(1).refill_interval().unwrap(),
        Duration::from_secs(60)
    );
    assert_eq!(
        RateLimit::per_minute(10)
            .with_burst(10)
            .refill_interval()
            .unwrap(),
        Duration::from_secs(60)
    );
}

#[test]
fn invalid_rate_limits_are_rejected() {
    for bad in [
        RateLimit::per_minute(0),
        RateLimit::per_minute(10).with_burst(0),
        RateLimit::per_minute(10).with_burst(11),
    ] {
        assert!(matches!(
            bad.refill_interval(),
            Err(crate::Error::InvalidConfig(_))
        ));
        assert!(Limiter::new(bad).is_err());
    }
    let config = PacerConfig {
        write: Some(RateLimit::per_minute(0)),
        ..PacerConfig::default()
    };
    assert!(Pacer::new(config).is_err());
}

#[test]
fn defaults_are_documented_values() {
    let c = PacerConfig::default();
    assert_eq!(c.write, Some(RateLimit::per_minute(60)));
    assert_eq!(c.read, None, "no client-side read cap by default");
    assert!(c.server.enabled);
    assert!(c.server.adaptive_concurrency);
    let u = PacerConfig::unlimited();
    assert_eq!((u.write, u.read, u.server.enabled), (None, None, false));
}

/// Sends one request at each arrival time (waiting on the bucket when
/// needed, on a paused clock) and returns the send times since start.
fn simulate(limit: RateLimit, gaps_ms: &[u64]) -> Vec<Duration> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let limiter = Limiter::new(limit).unwrap();
        let start = Instant::now();
        let mut sent = Vec::new();
        for &gap in gaps_ms {
            tokio::time::sleep(Duration::from_millis(gap)).await;
            while let Err(wait) = limiter.try_acquire() {
                tokio::time::sleep(wait).await;
            }
            sent.push(start.elapsed());
        }
        sent
    })
}

fn max_in_any_window(times: &[Duration], window: Duration) -> usize {
    (0..times.len())
        .map(|i| {
            times[i..]
                .iter()
                .take_while(|&&t| t < times[i] + window)
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn sixty_per_minute_is_one_per_second() {
    let sent = simulate(RateLimit::per_minute(60), &[0; 120]);
    assert_eq!(sent.first(), Some(&Duration::ZERO));
    assert_eq!(sent.last(), Some(&Duration::from_secs(119)));
    assert_eq!(max_in_any_window(&sent, Duration::from_secs(60)), 60);
}

#[test]
fn burst_goes_out_at_once_then_steady() {
    let sent = simulate(RateLimit::per_minute(60).with_burst(5), &[0; 70]);
    assert!(sent[..5].iter().all(|t| t.is_zero()));
    assert!(sent[5] > Duration::ZERO);
    assert!(max_in_any_window(&sent, Duration::from_secs(60)) <= 60);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever the arrival pattern, no 60 s window holds more than
    /// `per_minute` sends.
    #[test]
    fn never_more_than_the_limit_in_any_window(
        per_minute in 1u32..=90,
        burst_frac in 0.0f64..=1.0,
        gaps_ms in proptest::collection::vec(
            prop_oneof![Just(0u64), 0u64..2_000, 0u64..90_000], 1..200),
    ) {
        let burst = 1 + ((f64::from(per_minute - 1)) * burst_frac) as u32;
        let limit = RateLimit::per_minute(per_minute).with_burst(burst);
        let sent = simulate(limit, &gaps_ms);
        prop_assert!(max_in_any_window(&sent, Duration::from_secs(60)) <= per_minute as usize);
    }
}

#[test]
fn low_threshold_is_absolute_or_relative() {
    let cfg = ServerPacing::default(); // 5 or 20 %
    assert!(is_low(&cfg, 5, None));
    assert!(!is_low(&cfg, 6, None));
    // limit 100 -> 20 %
    assert!(is_low(&cfg, 20, Some(80)));
    assert!(!is_low(&cfg, 21, Some(79)));
    // limit 10 -> 2, absolute 5 wins
    assert!(is_low(&cfg, 5, Some(5)));
    assert!(!is_low(&cfg, 6, Some(4)));
}

#[test]
fn a_429_holds_the_class_for_retry_after() {
    let cfg = ServerPacing::default();
    let (now, wall) = (Instant::now(), SystemTime::now());
    let mut gate = ServerGate::default();
    let mut r = resp(Access::Read, 429, RateLimitInfo::default());
    r.retry_after = Some(Duration::from_millis(57_647));
    gate.observe(&cfg, &r, now, wall);
    assert_eq!(
        gate.held_until(now),
        Some(now + Duration::from_millis(57_647))
    );
    assert_eq!(gate.held_until(now + Duration::from_secs(58)), None);
    // A later, shorter hold does not shorten it.
    r.retry_after = Some(SEC);
    gate.observe(&cfg, &r, now, wall);
    assert_eq!(
        gate.held_until(now),
        Some(now + Duration::from_millis(57_647))
    );
}

#[test]
fn a_429_without_retry_after_uses_reset_then_fallback() {
    let cfg = ServerPacing::default();
    let (now, wall) = (Instant::now(), SystemTime::now());
    let mut gate = ServerGate::default();
    let r = resp(
        Access::Write,
        429,
        RateLimitInfo {
            reset: Some(wall + Duration::from_secs(10)),
            ..RateLimitInfo::default()
        },
    );
    gate.observe(&cfg, &r, now, wall);
    assert_eq!(gate.held_until(now), Some(now + Duration::from_secs(11)));

    let mut gate = ServerGate::default();
    gate.observe(
        &cfg,
        &resp(Access::Write, 429, RateLimitInfo::default()),
        now,
        wall,
    );
    assert_eq!(gate.held_until(now), Some(now + cfg.fallback_429_hold));
}

#[test]
fn holds_are_capped() {
    let cfg = ServerPacing::default();
    let (now, wall) = (Instant::now(), SystemTime::now());
    let mut gate = ServerGate::default();
    let mut r = resp(Access::Read, 429, RateLimitInfo::default());
    r.retry_after = Some(Duration::from_secs(3600));
    gate.observe(&cfg, &r, now, wall);
    assert_eq!(gate.held_until(now), Some(now + cfg.max_hold));
}

#[test]
fn remaining_zero_holds_until_reset_plus_slack() {
    let cfg = ServerPacing::default();
    let (now, wall) = (Instant::now(), SystemTime::now());
    let mut gate = ServerGate::default();
    gate.observe(
        &cfg,
        &resp(
            Access::Read,
            200,
            headers(0, 100, wall + Duration::from_secs(30)),
        ),
        now,
        wall,
    );
    assert_eq!(gate.held_until(now), Some(now + Duration::from_secs(31)));
    assert_eq!(
        gate.reserve(now + Duration::from_secs(31)),
        now + Duration::from_secs(31)
    );
}

#[test]
fn a_reset_in_the_past_is_ignored() {
    let cfg = no_slack();
    let (now, wall) = (Instant::now(), SystemTime::now());
    let mut gate = ServerGate::default();
    gate.observe(
        &cfg,
        &resp(
            Access::Read,
            200,
            headers(0, 100, wall - Duration::from_secs(5)),
        ),
        now,
        wall,
    );
    assert_eq!(gate.held_until(now), None);
    assert_eq!(gate.reserve(now), now);
}

#[test]
fn low_remaining_spreads_requests_until_reset() {
    let cfg = no_slack();
    let (now, wall) = (Instant::now(), SystemTime::now());
    let mut gate = ServerGate::default();
    // Plenty left: no spreading.
    gate.observe(
        &cfg,
        &resp(
            Access::Read,
            200,
            headers(80, 20, wall + Duration::from_secs(40)),
        ),
        now,
        wall,
    );
    assert_eq!(gate.reserve(now), now);
    assert_eq!(gate.reserve(now), now);
    // 4 left of 100, 40 s to reset: one every 8 s (the 4th at 24 s).
    gate.observe(
        &cfg,
        &resp(
            Access::Read,
            200,
            headers(4, 96, wall + Duration::from_secs(40)),
        ),
        now,
        wall,
    );
    let slots: Vec<_> = (0..4).map(|_| gate.reserve(now) - now).collect();
    assert_eq!(slots, [0, 8, 16, 24].map(Duration::from_secs).to_vec());
    assert_eq!(gate.held_until(now), None);
    // After the reset the spreading stops.
    let later = now + Duration::from_secs(41);
    assert_eq!(gate.reserve(later), later);
    // A fresh window with room clears spreading too.
    gate.observe(
        &cfg,
        &resp(
            Access::Read,
            200,
            headers(3, 97, wall + Duration::from_secs(40)),
        ),
        now,
        wall,
    );
    gate.observe(
        &cfg,
        &resp(
            Access::Read,
            200,
            headers(99, 1, wall + Duration::from_secs(60)),
        ),
        now,
        wall,
    );
    assert_eq!(gate.reserve(now), now);
}

#[test]
fn disabled_server_pacing_only_records_headers() {
    let cfg = ServerPacing {
        enabled: false,
        ..ServerPacing::default()
    };
    let (now, wall) = (Instant::now(), SystemTime::now());
    let mut gate = ServerGate::default();
    let rl = headers(0, 100, wall + Duration::from_secs(30));
    let mut r = resp(Access::Read, 429, rl);
    r.retry_after = Some(Duration::from_secs(30));
    gate.observe(&cfg, &r, now, wall);
    assert_eq!(gate.held_until(now), None);
    assert_eq!(gate.last(), Some(rl));
}

#[tokio::test(start_paused = true)]
async fn write_bucket_does_not_slow_reads() {
    let pacer = Pacer::new(PacerConfig::default()).unwrap();
    let start = Instant::now();
    for _ in 0..3 {
        pacer.before(req(Access::Write, 1)).await;
    }
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    let reads_start = Instant::now();
    for _ in 0..20 {
        pacer.before(req(Access::Read, 1)).await;
    }
    assert_eq!(reads_start.elapsed(), Duration::ZERO, "read burst is 20");
    assert_eq!(pacer.stats().pacer_wait, Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn no_double_wait_after_a_429() {
    let pacer = Pacer::new(PacerConfig {
        write: None,
        read: None,
        server: ServerPacing::default(),
    })
    .unwrap();
    let r = req(Access::Read, 1);
    pacer.before(r).await;
    let mut answer = resp(Access::Read, 429, RateLimitInfo::default());
    answer.retry_after = Some(Duration::from_secs(30));
    pacer.after(&answer);
    // The client sleeps 20 s itself (e.g. a capped backoff)...
    pacer.on_retry(&r, Duration::from_secs(20));
    tokio::time::sleep(Duration::from_secs(20)).await;
    // ...so the pacer adds only the missing 10 s.
    let t = Instant::now();
    pacer.before(req(Access::Read, 2)).await;
    assert_eq!(t.elapsed(), Duration::from_secs(10));
    // A client sleep covering the hold costs nothing more.
    pacer.after(&answer);
    tokio::time::sleep(Duration::from_secs(30)).await;
    let t = Instant::now();
    pacer.before(req(Access::Read, 3)).await;
    assert_eq!(t.elapsed(), Duration::ZERO);
    // Writes were never held.
    pacer.before(req(Access::Write, 1)).await;

    let stats = pacer.stats();
    assert_eq!(stats.requests, 2);
    assert_eq!(stats.rate_limited, 2);
    assert_eq!(stats.retries, 1);
    assert_eq!(stats.retry_wait, Duration::from_secs(20));
    assert_eq!(stats.pacer_wait, Duration::from_secs(10));
    assert_eq!(stats.by_operation["op"].rate_limited, 2);
}

#[tokio::test(start_paused = true)]
async fn accounting_classifies_answers() {
    let pacer = Pacer::new(PacerConfig::unlimited()).unwrap();
    for (access, status) in [
        (Access::Read, Some(200)),
        (Access::Read, Some(404)),
        (Access::Write, Some(503)),
        (Access::Write, None),
        (Access::Read, Some(429)),
    ] {
        pacer.after(&ResponseInfo {
            operation: if access == Access::Read {
                "listUsers"
            } else {
                "deleteUsers"
            },
            access,
            status,
            rate_limit: RateLimitInfo::default(),
            retry_after: None,
        });
    }
    let before = pacer.stats();
    assert_eq!((before.requests, before.reads, before.writes), (5, 3, 2));
    assert_eq!(
        (
            before.client_errors,
            before.server_errors,
            before.transport_errors,
            before.rate_limited
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(before.requests_of("listUsers"), 3);
    assert_eq!(before.requests_of("deleteUsers"), 2);
    assert_eq!(before.read_rate_limit, None);

    pacer.after(&resp(Access::Read, 200, RateLimitInfo::default()));
    let delta = pacer.stats().since(&before);
    assert_eq!(delta.requests, 1);
    assert_eq!(delta.by_operation.len(), 1);
    assert_eq!(delta.requests_of("op"), 1);
}

#[tokio::test(start_paused = true)]
async fn an_absurd_reset_or_hold_never_panics() {
    // `X-RateLimit-Reset: 9223372036854775807` (epoch seconds), should it
    // ever get past segment-api: adding the slack overflows.
    let pacer = Pacer::new(PacerConfig::default()).unwrap();
    if let Some(reset) = SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(i64::MAX as u64)) {
        for (status, remaining) in [(200, 0), (200, 2), (429, 0)] {
            pacer.after(&resp(Access::Read, status, headers(remaining, 100, reset)));
        }
        // Treated as no reset: the 429 held for the fallback only.
        let t = Instant::now();
        pacer.before(req(Access::Read, 1)).await;
        assert_eq!(t.elapsed(), ServerPacing::default().fallback_429_hold);
    }

    // Unbounded holds saturate instead of overflowing the clock.
    let unbounded = ServerPacing {
        max_hold: Duration::MAX,
        ..ServerPacing::default()
    };
    let (now, wall) = (Instant::now(), SystemTime::now());
    let mut gate = ServerGate::default();
    let mut r = resp(Access::Write, 429, RateLimitInfo::default());
    r.retry_after = Some(Duration::MAX);
    gate.observe(&unbounded, &r, now, wall);
    assert!(gate.held_until(now).unwrap() > now + Duration::from_secs(86_400 * 365));
    let mut gate = ServerGate::default();
    let far = wall + Duration::from_secs(86_400 * 365 * 20);
    gate.observe(
        &unbounded,
        &resp(Access::Write, 200, headers(1, 99, far)),
        now,
        wall,
    );
    assert_eq!(gate.reserve(now), now);
    assert!(gate.reserve(now) > now);
}

/// A toy Segment write window for the pacing simulation: `limit` requests
/// per fixed 60 s window, answered with Segment's headers (and 429 beyond
/// it). Other clients already used `used_by_others` of the first window.
struct ToyServer {
    limit: u64,
    epoch: Instant,
    window: u64,
    count: u64,
}

impl ToyServer {
    fn answer(&mut self, at: Instant) -> ResponseInfo {
        let window = at.duration_since(self.epoch).as_secs() / 60;
        if window != self.window {
            self.window = window;
            self.count = 0;
        }
        self.count += 1;
        let reset_at = self.epoch + Duration::from_secs((window + 1) * 60);
        let until_reset = reset_at.duration_since(at);
        let refused = self.count > self.limit;
        let mut r = resp(
            Access::Write,
            if refused { 429 } else { 200 },
            headers(
                self.limit.saturating_sub(self.count),
                self.count.min(self.limit),
                SystemTime::now() + until_reset,
            ),
        );
        if refused {
            r.retry_after = Some(until_reset);
        }
        r
    }
}

/// A pacing scenario: `tasks` concurrent workers each send `each` writes
/// through one pacer (client-side `limit`, server pacing on) to a
/// [`ToyServer`] allowing `server_limit` a minute, whose first window is
/// `phase` seconds old and already `used_by_others`.
#[derive(Debug, Clone, Copy)]
struct Scenario {
    limit: RateLimit,
    server_limit: u64,
    used_by_others: u64,
    phase: u64,
    tasks: usize,
    each: usize,
}

impl Scenario {
    /// Every send time (429'd attempts included), sorted.
    fn sends(self) -> Vec<Duration> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            let pacer = Pacer::new(PacerConfig::default().with_write(Some(self.limit))).unwrap();
            let start = Instant::now();
            let server = std::sync::Mutex::new(ToyServer {
                limit: self.server_limit,
                epoch: start - Duration::from_secs(self.phase % 60),
                window: 0,
                count: self.used_by_others,
            });
            let sends = std::sync::Mutex::new(Vec::new());
            let worker = |_| async {
                for _ in 0..self.each {
                    let mut attempt = 1;
                    loop {
                        pacer.before(req(Access::Write, attempt)).await;
                        // Nothing may await between pacing and sending.
                        let now = Instant::now();
                        sends.lock().unwrap().push(now - start);
                        let answer = server.lock().unwrap().answer(now);
                        pacer.after(&answer);
                        if answer.status == Some(200) {
                            break;
                        }
                        attempt += 1;
                    }
                }
            };
            futures::future::join_all((0..self.tasks).map(worker)).await;
            let mut sends = sends.into_inner().unwrap();
            sends.sort();
            sends
        })
    }
}

#[test]
fn spread_and_holds_never_let_more_than_the_bucket_through() {
    // Other clients left 30 of 80 in the current window: the pacer spreads
    // them over the minute while 32 workers queue. When the window resets,
    // the workers still queued behind the spread must not add to a fresh
    // minute of bucket tokens.
    let scenario = Scenario {
        limit: RateLimit::per_minute(60),
        server_limit: 80,
        used_by_others: 50,
        phase: 0,
        tasks: 32,
        each: 8,
    };
    let sends = scenario.sends();
    assert!(sends.len() >= 32 * 8);
    let most = max_in_any_window(&sends, Duration::from_secs(60));
    assert!(most <= 60, "{most} sends in one 60 s window");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Whatever the server's window says (spreads, holds, 429s), the sends of
    /// many concurrent workers stay within the client-side bucket.
    #[test]
    fn concurrent_paced_sends_stay_within_the_bucket(
        per_minute in 20u32..=60,
        burst in 1u32..=5,
        server_limit in 5u64..=100,
        used_frac in 0.0f64..1.0,
        phase in 0u64..60,
        tasks in 8usize..=32,
    ) {
        let scenario = Scenario {
            limit: RateLimit::per_minute(per_minute).with_burst(burst),
            server_limit,
            used_by_others: (server_limit as f64 * used_frac) as u64,
            phase,
            tasks,
            each: 6,
        };
        let sends = scenario.sends();
        let most = max_in_any_window(&sends, Duration::from_secs(60));
        prop_assert!(most <= per_minute as usize, "{} sends in one 60 s window", most);
    }
}
