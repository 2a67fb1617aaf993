//! The rate limiter: fixed windows per token and per endpoint class (reads, writes), on tokio
//! time so tests on a paused clock work.
//!
//! Each token has one window per class. A window opens with the first request after the
//! previous one ended and lasts [`RateLimits::window_ms`]; every request in it takes one point,
//! also a refused one (like rate-limiter-flexible, whose field names Segment's 429 body uses).

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// Default window length: one minute, like Segment's documented limits.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60);

/// `Remaining` reported for an unlimited class is `UNLIMITED - consumed`.
const UNLIMITED: u64 = 1_000_000;

/// The limits the server enforces (also the body of `PUT /__admin/rate-limits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimits {
    /// Read (GET) requests per window and token; `None` = unlimited.
    pub read: Option<u32>,
    /// Write (non-GET) requests per window and token; `None` = unlimited.
    pub write: Option<u32>,
    /// Window length in milliseconds (at least 1).
    pub window_ms: u64,
}

impl Default for RateLimits {
    /// Unlimited reads, Segment's 60 writes a minute.
    fn default() -> Self {
        Self {
            read: None,
            write: Some(60),
            window_ms: 60_000,
        }
    }
}

impl RateLimits {
    fn window(&self) -> Duration {
        Duration::from_millis(self.window_ms.max(1))
    }
}

/// The endpoint class of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Read,
    Write,
}

/// One fixed window.
#[derive(Debug, Default)]
struct Window {
    start: Option<Instant>,
    consumed: u64,
}

/// The state of a window after a request was admitted or refused.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Verdict {
    pub(crate) allowed: bool,
    pub(crate) consumed: u64,
    pub(crate) remaining: u64,
    pub(crate) reset_in: Duration,
}

/// Windows of every token seen, per class.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    limits: RateLimits,
    windows: HashMap<String, [Window; 2]>,
}

impl Limiter {
    pub(crate) fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            windows: HashMap::new(),
        }
    }

    pub(crate) fn limits(&self) -> RateLimits {
        self.limits
    }

    /// Changes the limits; open windows are kept (a new window length applies from the next
    /// window on).
    pub(crate) fn set_limits(&mut self, limits: RateLimits) {
        self.limits = limits;
    }

    /// Takes one point of `token`'s window of `class` at `now`.
    pub(crate) fn take(&mut self, token: &str, class: Class, now: Instant) -> Verdict {
        let (limit, idx) = match class {
            Class::Read => (self.limits.read, 0),
            Class::Write => (self.limits.write, 1),
        };
        let length = self.limits.window();
        let windows = match self.windows.get_mut(token) {
            Some(w) => w,
            None => self.windows.entry(token.to_owned()).or_default(),
        };
        let w = &mut windows[idx];
        let start = match w.start {
            Some(s) if now.duration_since(s) < length => s,
            _ => {
                w.start = Some(now);
                w.consumed = 0;
                now
            }
        };
        w.consumed += 1;
        let limit = limit.map_or(UNLIMITED, u64::from);
        Verdict {
            allowed: w.consumed <= limit,
            consumed: w.consumed,
            remaining: limit.saturating_sub(w.consumed),
            reset_in: length.saturating_sub(now.duration_since(start)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(read: Option<u32>, write: Option<u32>, window_ms: u64) -> Limiter {
        Limiter::new(RateLimits {
            read,
            write,
            window_ms,
        })
    }

    #[test]
    fn window_resets_after_its_length() {
        let mut l = limiter(Some(2), None, 60_000);
        let t0 = Instant::now();
        assert!(l.take("t", Class::Read, t0).allowed);
        let v = l.take("t", Class::Read, t0);
        assert!(v.allowed);
        assert_eq!(v.remaining, 0);
        let v = l.take("t", Class::Read, t0 + Duration::from_secs(10));
        assert!(!v.allowed);
        assert_eq!(v.consumed, 3);
        assert_eq!(v.reset_in, Duration::from_secs(50));
        assert!(
            l.take("t", Class::Read, t0 + Duration::from_secs(60))
                .allowed
        );
    }

    #[test]
    fn classes_and_tokens_have_their_own_windows() {
        let mut l = limiter(Some(1), Some(1), 10_000);
        let t0 = Instant::now();
        assert!(l.take("a", Class::Read, t0).allowed);
        assert!(!l.take("a", Class::Read, t0).allowed);
        assert!(l.take("a", Class::Write, t0).allowed);
        assert!(l.take("b", Class::Read, t0).allowed);
        let v = l.take("a", Class::Read, t0 + Duration::from_secs(4));
        assert!(!v.allowed);
        assert_eq!(v.reset_in, Duration::from_secs(6));
        assert!(
            l.take("a", Class::Read, t0 + Duration::from_secs(10))
                .allowed
        );
    }

    #[test]
    fn unlimited_reports_a_large_remaining() {
        let mut l = limiter(None, None, 60_000);
        let v = l.take("t", Class::Write, Instant::now());
        assert!(v.allowed);
        assert_eq!(v.remaining, UNLIMITED - 1);
    }
}
