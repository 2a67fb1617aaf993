//! Pacing against the mock on tokio's paused clock: the write bucket, reads
//! beside it, and pacing from the server's rate-limit headers and 429s.

use std::time::Duration;

use futures::StreamExt;
use segment_api::hooks::Access;
use segment_cache::{PacerConfig, ServerPacing, Session, SessionConfig, Stats};
use segment_mock::{Faults, MockConfig, MockServer};

use crate::support::{self, Recorder, Ticker, max_in_any_window, workspace_with_n_roles};

const MINUTE: Duration = Duration::from_secs(60);

async fn write_once(session: &Session) {
    session
        .client()
        .delete_invites(&["nobody@example.com"])
        .await
        .unwrap();
}

async fn read_once(session: &Session) {
    session.client().get_workspace().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn writes_are_paced_to_sixty_a_minute_and_reads_are_not() {
    let _ticker = Ticker::start();
    // The mock enforces Segment's 60/min write limit.
    let server = support::start(MockConfig::new(workspace_with_n_roles(2))).await;
    let recorder = Recorder::new();
    let session = support::session(
        &server,
        100,
        SessionConfig::default().with_observer(recorder.clone()),
    );

    // 120 writes from 8 concurrent workers, and 50 reads at the same time.
    let writes = futures::stream::iter(0..120).for_each_concurrent(8, |_| write_once(&session));
    let reads = futures::stream::iter(0..50).for_each_concurrent(4, |_| read_once(&session));
    futures::join!(writes, reads);

    let sent = recorder.sent(Access::Write);
    assert_eq!(sent.len(), 120);
    let span = sent[119] - sent[0];
    assert!(span >= Duration::from_secs(119), "120 writes took {span:?}");
    assert!(max_in_any_window(&sent, MINUTE) <= 60);

    // Reads were not queued behind the writes: all went out while the
    // write bucket had released only a handful of writes.
    let reads = recorder.sent(Access::Read);
    assert_eq!(reads.len(), 50);
    assert!(
        reads[49] < Duration::from_secs(5),
        "last read at {:?}",
        reads[49]
    );

    let counters = server.counters();
    assert_eq!(counters.rate_limited, 0, "never refused");
    assert_eq!(counters.writes, 120);
    let stats = session.stats();
    assert_eq!((stats.writes, stats.reads), (120, 50));
    assert_eq!(stats.requests_of("deleteInvites"), 120);
    assert_eq!(stats.rate_limited, 0);
    assert!(stats.pacer_wait >= Duration::from_secs(119));
    let headers = stats.write_rate_limit.unwrap();
    assert!(headers.remaining.is_some() && headers.reset.is_some());
}

#[tokio::test(start_paused = true)]
async fn a_configured_write_limit_is_honoured() {
    let _ticker = Ticker::start();
    let mut config = MockConfig::new(workspace_with_n_roles(2));
    config.write_limit_per_min = None;
    let server = support::start(config).await;
    let recorder = Recorder::new();
    let pacer = PacerConfig::default()
        .with_write(Some(segment_cache::RateLimit::per_minute(30).with_burst(5)));
    let session = support::session(
        &server,
        100,
        SessionConfig::default()
            .with_pacer(pacer)
            .with_observer(recorder.clone()),
    );
    futures::stream::iter(0..70)
        .for_each_concurrent(10, |_| write_once(&session))
        .await;
    let sent = recorder.sent(Access::Write);
    assert_eq!(sent.len(), 70);
    assert!(
        sent[..5].iter().all(|t| *t < Duration::from_millis(100)),
        "burst of 5"
    );
    assert!(max_in_any_window(&sent, MINUTE) <= 30);
}

/// A mock refusing more than 30 reads a minute; the client-side read bucket
/// is off, so only the server's headers can slow the session down.
async fn tight_read_mock() -> MockServer {
    let mut config = MockConfig::new(workspace_with_n_roles(2));
    config.read_limit_per_min = Some(30);
    support::start(config).await
}

fn header_paced() -> SessionConfig {
    SessionConfig::default().with_pacer(PacerConfig::default().with_read(None))
}

fn unpaced() -> SessionConfig {
    SessionConfig::default().with_pacer(PacerConfig::unlimited())
}

async fn run_reads(session: &Session, n: usize, concurrency: usize) -> Stats {
    futures::stream::iter(0..n)
        .for_each_concurrent(concurrency, |_| read_once(session))
        .await;
    session.stats()
}

#[tokio::test(start_paused = true)]
async fn sequential_reads_slow_down_before_being_refused() {
    let _ticker = Ticker::start();
    let server = tight_read_mock().await;
    let recorder = Recorder::new();
    let session = support::session(&server, 100, header_paced().with_observer(recorder.clone()));

    let stats = run_reads(&session, 100, 1).await;

    assert_eq!(stats.reads, 100);
    assert_eq!(stats.rate_limited, 0, "{stats:?}");
    assert_eq!(server.counters().rate_limited, 0);
    assert!(stats.pacer_wait > Duration::from_secs(120), "{stats:?}");
    let sent = recorder.sent(Access::Read);
    // The last requests of a window were spread out, not sent back to back
    // and then held: look at the gaps inside the first window.
    let first_window: Vec<Duration> = sent.iter().copied().filter(|t| *t < MINUTE).collect();
    let long_gaps = first_window
        .windows(2)
        .filter(|w| w[1] - w[0] >= Duration::from_secs(2))
        .count();
    assert!(long_gaps >= 3, "spread gaps in {first_window:?}");
}

#[tokio::test(start_paused = true)]
async fn concurrent_reads_back_off_on_429_and_complete() {
    let _ticker = Ticker::start();

    // Without server pacing: every worker runs into the limit.
    let server = tight_read_mock().await;
    let session = support::session(&server, 100, unpaced());
    let blind = run_reads(&session, 100, 8).await;
    assert_eq!(blind.reads - blind.rate_limited, 100);
    assert!(blind.rate_limited > 0);
    drop(session);
    server.shutdown().await;

    // With server pacing: same load, far fewer refusals, still complete.
    let server = tight_read_mock().await;
    let session = support::session(&server, 100, header_paced());
    let paced = run_reads(&session, 100, 8).await;
    assert_eq!(paced.reads - paced.rate_limited, 100, "{paced:?}");
    assert!(
        paced.rate_limited < blind.rate_limited,
        "paced {paced:?} vs blind {blind:?}"
    );
    assert_eq!(paced.rate_limited, server.counters().rate_limited);
    assert_eq!(paced.retries, paced.rate_limited);
    assert!(paced.pacer_wait > Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn injected_429s_are_retried_and_accounted() {
    let _ticker = Ticker::start();
    let server = support::start(MockConfig::new(workspace_with_n_roles(2))).await;
    server.set_faults(Faults {
        rate_429: 0.2,
        seed: 7,
        ..Faults::none()
    });
    let session = support::session(&server, 100, SessionConfig::default());
    // Sequential, so the fault sequence is deterministic.
    let stats = run_reads(&session, 40, 1).await;

    let counters = server.counters();
    assert!(counters.rate_limited > 0);
    assert_eq!(stats.rate_limited, counters.rate_limited);
    assert_eq!(stats.retries, stats.rate_limited);
    assert_eq!(stats.reads, 40 + stats.rate_limited);
    assert!(stats.retry_wait > Duration::ZERO, "{stats:?}");
    // The pacer's 429 holds are covered by the client's own retry sleeps:
    // no double waiting.
    assert!(stats.pacer_wait < stats.retry_wait / 2, "{stats:?}");
    let op = stats.by_operation["getWorkspace"];
    assert_eq!(op.rate_limited, stats.rate_limited);
    assert_eq!(op.retries, stats.retries);
}

#[tokio::test(start_paused = true)]
async fn a_read_hold_does_not_hold_writes() {
    let _ticker = Ticker::start();
    let server = tight_read_mock().await;
    let recorder = Recorder::new();
    // No spreading, so the 30 reads go out at once and the hold is long.
    let mut server_pacing = ServerPacing::default();
    server_pacing.low_remaining = 0;
    server_pacing.low_remaining_percent = 0;
    let config = SessionConfig::default()
        .with_pacer(
            PacerConfig::default()
                .with_read(None)
                .with_server(server_pacing),
        )
        .with_observer(recorder.clone());
    let session = support::session(&server, 100, config);

    // Use up the read window: the session now holds reads until the reset.
    run_reads(&session, 30, 1).await;
    futures::join!(read_once(&session), write_once(&session));

    let reads = recorder.sent(Access::Read);
    let write_at = recorder.sent(Access::Write)[0];
    assert!(reads[29] < Duration::from_secs(1), "{reads:?}");
    assert!(write_at < Duration::from_secs(2), "write at {write_at:?}");
    assert!(
        reads[30] >= Duration::from_secs(59),
        "held read at {:?}",
        reads[30]
    );
    assert_eq!(server.counters().rate_limited, 0);
}
