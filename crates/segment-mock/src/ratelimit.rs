//! Fixed-window (one minute) request buckets on tokio time, so tests on a paused clock work.

use std::time::Duration;

use tokio::time::Instant;

/// Length of a rate-limit window.
pub(crate) const WINDOW: Duration = Duration::from_secs(60);

/// `Remaining` reported for an unlimited bucket is `UNLIMITED - consumed`.
const UNLIMITED: u64 = 1_000_000;

/// One bucket (reads or writes).
#[derive(Debug)]
pub(crate) struct Bucket {
    pub(crate) limit: Option<u32>,
    window_start: Option<Instant>,
    consumed: u64,
}

/// The state of a bucket after a request was admitted or refused.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Verdict {
    pub(crate) allowed: bool,
    pub(crate) consumed: u64,
    pub(crate) remaining: u64,
    pub(crate) reset_in: Duration,
}

impl Bucket {
    pub(crate) fn new(limit: Option<u32>) -> Self {
        Self {
            limit,
            window_start: None,
            consumed: 0,
        }
    }

    /// Takes one point (also when refused, like rate-limiter-flexible, whose field names Segment uses).
    pub(crate) fn take(&mut self, now: Instant) -> Verdict {
        let start = match self.window_start {
            Some(s) if now.duration_since(s) < WINDOW => s,
            _ => {
                self.window_start = Some(now);
                self.consumed = 0;
                now
            }
        };
        self.consumed += 1;
        let limit = self.limit.map_or(UNLIMITED, u64::from);
        let reset_in = WINDOW.saturating_sub(now.duration_since(start));
        Verdict {
            allowed: self.consumed <= limit,
            consumed: self.consumed,
            remaining: limit.saturating_sub(self.consumed),
            reset_in,
        }
    }

    /// Changes the limit, keeping the current window.
    pub(crate) fn set_limit(&mut self, limit: Option<u32>) {
        self.limit = limit;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_resets_after_a_minute() {
        let mut b = Bucket::new(Some(2));
        let t0 = Instant::now();
        assert!(b.take(t0).allowed);
        let v = b.take(t0);
        assert!(v.allowed);
        assert_eq!(v.remaining, 0);
        let v = b.take(t0 + Duration::from_secs(10));
        assert!(!v.allowed);
        assert_eq!(v.reset_in, Duration::from_secs(50));
        assert!(b.take(t0 + Duration::from_secs(60)).allowed);
    }
}
