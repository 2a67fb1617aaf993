//! Adaptive pacing with the default configuration (no client-side read cap) against the
//! mock's rate limiter, on tokio's paused clock: no 429 storm when the limit is far below what
//! the concurrency could send, a hold after a 429 that stops every read, and concurrency that
//! is cut after a 429 and recovers. Counts only; no timed assertions on wall time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use segment_api::hooks::{BoxFuture, RequestHook, RequestInfo, ResponseInfo};
use segment_cache::{PacerConfig, ServerPacing, Session, SessionConfig, Stats};
use segment_mock::MockConfig;
use tokio::time::Instant;

use crate::support::{self, Ticker, workspace_with_n_roles};

async fn read_once(session: &Session) {
    session.client().get_workspace().await.unwrap();
}

async fn run_reads(session: &Session, n: usize, concurrency: usize) -> Stats {
    futures::stream::iter(0..n)
        .for_each_concurrent(concurrency, |_| read_once(session))
        .await;
    session.stats()
}

/// Records sends and answers (the observer's `before` runs once pacing is done) and the
/// number of requests in flight.
#[derive(Debug, Default)]
struct Flight {
    state: Mutex<FlightState>,
}

#[derive(Debug, Default)]
struct FlightState {
    in_flight: usize,
    peak: usize,
    sends: Vec<Instant>,
    refusals: Vec<Instant>,
}

impl Flight {
    fn take_peak(&self) -> usize {
        let mut st = self.state.lock().unwrap();
        std::mem::take(&mut st.peak)
    }
}

impl RequestHook for Flight {
    fn before(&self, _req: RequestInfo) -> BoxFuture<'_, ()> {
        let mut st = self.state.lock().unwrap();
        st.in_flight += 1;
        st.peak = st.peak.max(st.in_flight);
        st.sends.push(Instant::now());
        Box::pin(std::future::ready(()))
    }

    fn after(&self, resp: &ResponseInfo) {
        let mut st = self.state.lock().unwrap();
        st.in_flight -= 1;
        if resp.status == Some(429) {
            st.refusals.push(Instant::now());
        }
    }
}

#[tokio::test(start_paused = true)]
async fn no_429_storm_when_the_limit_is_far_below_the_natural_rate() {
    let _ticker = Ticker::start();
    // 60 reads per 10 s window; 16 workers with 10 ms latency could send ~1,600 per second.
    let server = support::start(
        MockConfig::new(workspace_with_n_roles(2))
            .read_limit_per_min(Some(60))
            .rate_window(Duration::from_secs(10))
            .latency(Duration::from_millis(10)),
    )
    .await;
    let session = support::session(&server, 100, SessionConfig::default());
    let stats = run_reads(&session, 600, 16).await;

    assert_eq!(stats.reads - stats.rate_limited, 600, "{stats:?}");
    assert_eq!(stats.rate_limited, server.counters().rate_limited);
    // Bounded: at most a few refusals per window (the requests already in flight when the
    // window ran out), nothing like one per worker per window.
    assert!(
        stats.rate_limited <= 6,
        "429 storm: {} refusals for 600 reads ({stats:?})",
        stats.rate_limited
    );
    assert_eq!(stats.read_limit_seen, Some(60), "{stats:?}");
    assert!(stats.read_spreads >= 5, "{stats:?}");
    let summary = session.pacer().summary();
    assert!(
        summary.contains("no client-side read cap")
            && summary.contains("server read limit 60 per window"),
        "{summary}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_429_holds_every_read_and_cuts_concurrency_which_then_recovers() {
    let _ticker = Ticker::start();
    let server = support::start(
        MockConfig::new(workspace_with_n_roles(2))
            .read_limit_per_min(Some(20))
            .latency(Duration::from_millis(10)),
    )
    .await;
    // No spreading, so the workers run into the limit and get 429s.
    let mut server_pacing = ServerPacing::default();
    server_pacing.low_remaining = 0;
    server_pacing.low_remaining_percent = 0;
    let flight = Arc::new(Flight::default());
    let config = SessionConfig::default()
        .with_pacer(PacerConfig::default().with_server(server_pacing))
        .with_observer(flight.clone());
    let session = support::session(&server, 100, config);

    let stats = run_reads(&session, 40, 8).await;
    assert_eq!(stats.reads - stats.rate_limited, 40, "{stats:?}");
    assert!(stats.rate_limited > 0, "the test needs a 429: {stats:?}");
    assert!(stats.read_concurrency_cuts >= 1, "{stats:?}");
    assert!(
        stats
            .read_lowest_concurrency
            .is_some_and(|lowest| lowest < 8),
        "{stats:?}"
    );
    {
        let st = flight.state.lock().unwrap();
        let first_refusal = st.refusals[0];
        // The hold covers every read, not only the refused one: nothing is sent after the
        // first 429 until the server's window has passed (msBeforeNext).
        let window_end = first_refusal + Duration::from_secs(50);
        assert!(
            st.sends
                .iter()
                .all(|&t| t <= first_refusal || t >= window_end),
            "a read went out during the hold"
        );
    }

    // The limit is lifted: without 429s the concurrency climbs back to the workers' 8.
    server.set_rate_limits(None, None);
    flight.take_peak();
    run_reads(&session, 400, 8).await;
    assert_eq!(flight.take_peak(), 8, "concurrency did not recover");
}
