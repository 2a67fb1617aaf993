//! Adaptive concurrency of one access class: additive increase, multiplicative decrease (AIMD).
//!
//! Unlimited until the server refuses a request with a 429; then the number of requests in
//! flight is halved (once per hold, however many in-flight requests get a 429 for it), and
//! every answer that is not a 429 raises it by `1 / limit` (so by one per round of `limit`
//! answers) until it is back at the concurrency it had before the first cut, where it is
//! unlimited again. The caller's own concurrency (e.g. the sync engine's) stays the upper
//! bound throughout.

use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;
use tokio::time::Instant;

/// The state (pure; time is passed in).
#[derive(Debug, Default)]
pub(crate) struct Window {
    in_flight: usize,
    /// `None` = no limit.
    limit: Option<f64>,
    /// The concurrency before the first cut: reaching it again lifts the limit.
    ceiling: usize,
    /// The hold the last cut was for: 429s answered before it ended cut nothing more.
    cut_until: Option<Instant>,
    cuts: u64,
    lowest: Option<usize>,
}

impl Window {
    /// The whole number of requests allowed in flight (`None` = any).
    pub(crate) fn limit(&self) -> Option<usize> {
        self.limit.map(whole)
    }

    /// Takes a place if there is one.
    pub(crate) fn try_enter(&mut self) -> bool {
        if self.limit().is_some_and(|cap| self.in_flight >= cap) {
            return false;
        }
        self.in_flight += 1;
        true
    }

    /// Gives a place back; `rate_limited` says whether the answer was a 429, `hold_until`
    /// until when the class is held because of it.
    pub(crate) fn leave(&mut self, rate_limited: bool, now: Instant, hold_until: Option<Instant>) {
        // The request itself was in flight too.
        let was_in_flight = self.in_flight;
        self.in_flight = self.in_flight.saturating_sub(1);
        if rate_limited {
            if self.cut_until.is_some_and(|t| now < t) {
                return;
            }
            let current = self.limit.unwrap_or(was_in_flight.max(1) as f64);
            if self.limit.is_none() {
                self.ceiling = was_in_flight.max(1);
            }
            let next = (current / 2.0).max(1.0);
            self.limit = Some(next);
            self.cut_until = Some(hold_until.unwrap_or(now));
            self.cuts += 1;
            let cap = whole(next);
            self.lowest = Some(self.lowest.map_or(cap, |l| l.min(cap)));
        } else if let Some(limit) = self.limit {
            let next = limit + 1.0 / limit;
            self.limit = (whole(next) < self.ceiling).then_some(next);
        }
    }

    pub(crate) fn cuts(&self) -> u64 {
        self.cuts
    }

    pub(crate) fn lowest(&self) -> Option<usize> {
        self.lowest
    }
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn whole(limit: f64) -> usize {
    // Always >= 1 and far below usize::MAX (it only grows by 1/limit per answer).
    limit.floor().max(1.0) as usize
}

/// A [`Window`] shared by tasks, with waiting for a place.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    window: Mutex<Window>,
    freed: Notify,
}

impl Gate {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Window> {
        self.window.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for a place and takes it.
    pub(crate) async fn enter(&self) {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if self.lock().try_enter() {
                return;
            }
            freed.await;
        }
    }

    /// See [`Window::leave`]; wakes the waiting tasks.
    pub(crate) fn leave(&self, rate_limited: bool, now: Instant, hold_until: Option<Instant>) {
        self.lock().leave(rate_limited, now, hold_until);
        self.freed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn unlimited_until_a_429_then_halved_once_per_hold_and_recovered() {
        let mut w = Window::default();
        let t0 = Instant::now();
        for _ in 0..16 {
            assert!(w.try_enter());
        }
        let hold = t0 + Duration::from_secs(1);
        // All 16 in flight get a 429 for the same hold: one cut.
        for _ in 0..16 {
            w.leave(true, t0, Some(hold));
        }
        assert_eq!(w.limit(), Some(8));
        assert_eq!(w.cuts(), 1);
        for _ in 0..8 {
            assert!(w.try_enter());
        }
        assert!(!w.try_enter(), "at most 8 in flight");
        // A 429 after the hold cuts again.
        w.leave(true, hold, Some(hold + Duration::from_secs(1)));
        assert_eq!(w.limit(), Some(4));
        assert_eq!(w.lowest(), Some(4));
        for _ in 0..7 {
            w.leave(false, hold, None);
        }
        // Additive increase: one per round of `limit` answers, up to the old concurrency.
        let mut answers = 0;
        while w.limit().is_some() {
            assert!(w.try_enter());
            w.leave(false, hold, None);
            answers += 1;
            assert!(answers < 1_000, "never recovered");
        }
        assert!(answers > 12, "recovered too fast: {answers}");
        assert!(w.try_enter() && w.try_enter());
    }

    #[test]
    fn never_below_one() {
        let mut w = Window::default();
        let t = Instant::now();
        for i in 0..10u64 {
            assert!(w.try_enter());
            let at = t + Duration::from_secs(i);
            w.leave(true, at, Some(at));
        }
        assert_eq!(w.limit(), Some(1));
        assert!(w.try_enter());
        assert!(!w.try_enter());
    }
}
