//! Every wait of the runner goes through a [`Clock`], tagged with what it waits for, so tests
//! can record the waits (backoff 1, 4, 9 s …) without spending them.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a wait is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Wait {
    /// Between GetTask calls (`next_poll`, or the floor).
    Poll,
    /// After a failed GetTask (`n²` s, ≤ 60 s).
    PollBackoff,
    /// After a failed startup Hello (1 s doubling, ≤ 5 min).
    HelloBackoff,
    /// Between heartbeats of a sync task.
    Heartbeat,
    /// Before an upload retry.
    UploadRetry,
    /// The shutdown grace period.
    Grace,
}

/// A boxed sleep.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Source of every wait of the runner.
pub trait Clock: Send + Sync + Debug + 'static {
    /// Waits `duration` for `purpose`.
    fn sleep(&self, purpose: Wait, duration: Duration) -> Sleep;
}

/// Real time (tokio timers).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn sleep(&self, _purpose: Wait, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Test clock: records every requested wait and sleeps a fixed short real time instead
/// (a few milliseconds, so loops still yield to the server). Waits whose purpose is in
/// `real` are spent in full (e.g. [`Wait::Grace`] when a test needs it).
#[derive(Debug, Clone)]
pub struct RecordingClock {
    stand_in: Duration,
    real: Vec<Wait>,
    log: Arc<Mutex<Vec<(Wait, Duration)>>>,
}

impl RecordingClock {
    /// A clock that replaces every wait by `stand_in`.
    pub fn new(stand_in: Duration) -> Self {
        Self {
            stand_in,
            real: Vec::new(),
            log: Arc::default(),
        }
    }

    /// Spends waits of `purpose` in full.
    pub fn with_real(mut self, purpose: Wait) -> Self {
        self.real.push(purpose);
        self
    }

    /// The waits requested so far for `purpose`, in order.
    pub fn waits(&self, purpose: Wait) -> Vec<Duration> {
        self.log
            .lock()
            .map(|log| {
                log.iter()
                    .filter(|(p, _)| *p == purpose)
                    .map(|(_, d)| *d)
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Clock for RecordingClock {
    fn sleep(&self, purpose: Wait, duration: Duration) -> Sleep {
        if let Ok(mut log) = self.log.lock() {
            log.push((purpose, duration));
        }
        let spend = if self.real.contains(&purpose) {
            duration
        } else {
            self.stand_in.min(duration)
        };
        Box::pin(tokio::time::sleep(spend))
    }
}
