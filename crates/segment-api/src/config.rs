//! Client configuration: region / base URL rules and the retry policy.

use std::net::IpAddr;
use std::time::Duration;

use url::{Host, Url};

use crate::Error;

/// The Segment region whose API host to use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Region {
    /// `https://api.segmentapis.com` (the default).
    #[default]
    Us,
    /// `https://eu1.api.segmentapis.com`.
    Eu,
}

impl Region {
    /// The region's base URL.
    pub fn base_url(self) -> &'static str {
        match self {
            Region::Us => "https://api.segmentapis.com",
            Region::Eu => "https://eu1.api.segmentapis.com",
        }
    }
}

/// How the client retries a failed attempt.
///
/// 429 answers are retried for every method (the request was not processed); 5xx and
/// transport failures only for requests safe to repeat (GET, PUT, DELETE), and a POST only
/// when the connection could not even be established. A read whose 2xx body is not JSON
/// (cut off on the way) is retried like a transport failure; a body that is JSON of the
/// wrong shape is not retried.
///
/// A 429 that says how long to wait (`msBeforeNext` of the body, else `X-RateLimit-Reset`,
/// else `Retry-After`) is not a failure: the client waits and tries again, without using up
/// `max_attempts`, for as long as the waits of one request add up to at most
/// `rate_limit_budget`. Every other failure (including a 429 that says nothing) counts
/// against `max_attempts`; after a 5xx the client honours `Retry-After` only (a 5xx says
/// nothing about the rate-limit window), otherwise it backs off exponentially from
/// `base_delay` with jitter. Every single wait is capped at `max_delay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts that may fail, including the first (1 = never retry). 0 is treated as
    /// 1. Rate-limit waits (see the type's docs) do not count.
    pub max_attempts: u32,
    /// First backoff delay; doubles per retry.
    pub base_delay: Duration,
    /// Cap on every wait, including waits the server asked for.
    pub max_delay: Duration,
    /// Longest total time one request may spend waiting on 429 answers that said how long
    /// to wait; beyond it the request fails with [`crate::Error::RateLimited`].
    pub rate_limit_budget: Duration,
}

impl Default for RetryPolicy {
    /// 5 attempts, 1 s base delay, 60 s cap (Segment's rate-limit window is a minute),
    /// 15 minutes of rate-limit waits per request.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            rate_limit_budget: RetryPolicy::DEFAULT_RATE_LIMIT_BUDGET,
        }
    }
}

impl RetryPolicy {
    /// Default [`RetryPolicy::rate_limit_budget`]: 15 minutes.
    pub const DEFAULT_RATE_LIMIT_BUDGET: Duration = Duration::from_secs(15 * 60);

    /// A policy that never retries (not even after a 429).
    pub fn never() -> Self {
        RetryPolicy {
            max_attempts: 1,
            rate_limit_budget: Duration::ZERO,
            ..RetryPolicy::default()
        }
    }

    /// Backoff before retry number `retry` (1-based), with "equal jitter": half fixed,
    /// half random, capped at `max_delay`.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << retry.saturating_sub(1).min(20));
        let capped = exp.min(self.max_delay);
        let half = capped / 2;
        let jitter_nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        let jitter = if jitter_nanos == 0 {
            0
        } else {
            rand::random_range(0..=jitter_nanos)
        };
        half + Duration::from_nanos(jitter)
    }
}

/// Validates a base URL: `https` anywhere, `http` only to a loopback host (127.0.0.0/8,
/// `[::1]`, `localhost`); no credentials, query or fragment. Returns it without a trailing
/// slash. The error never echoes the URL (it might carry credentials by mistake).
pub(crate) fn validate_base_url(raw: &str) -> Result<String, Error> {
    let invalid = |reason: &str| Error::InvalidConfig {
        reason: format!("base URL: {reason}"),
    };
    let url = Url::parse(raw.trim()).map_err(|e| invalid(&format!("not a valid URL ({e})")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must not contain credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not contain a query or fragment"));
    }
    let host = url.host().ok_or_else(|| invalid("has no host"))?;
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = match host {
                Host::Ipv4(ip) => IpAddr::V4(ip).is_loopback(),
                Host::Ipv6(ip) => IpAddr::V6(ip).is_loopback(),
                Host::Domain(name) => {
                    name.eq_ignore_ascii_case("localhost")
                        || name.eq_ignore_ascii_case("localhost.")
                }
            };
            if !loopback {
                return Err(invalid(
                    "plain http is only allowed to a loopback host; use https",
                ));
            }
        }
        other => {
            return Err(invalid(&format!(
                "scheme {other:?} is not allowed; use https"
            )));
        }
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn base_url_rules() {
        let ok = |u: &str| validate_base_url(u).unwrap();
        assert_eq!(ok(Region::Us.base_url()), "https://api.segmentapis.com");
        assert_eq!(ok(Region::Eu.base_url()), "https://eu1.api.segmentapis.com");
        assert_eq!(
            ok("https://proxy.example/segment/"),
            "https://proxy.example/segment"
        );
        assert_eq!(ok("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(ok("http://127.255.0.9:1/"), "http://127.255.0.9:1");
        assert_eq!(ok("http://[::1]:9000"), "http://[::1]:9000");
        assert_eq!(ok("http://LOCALHOST:3000"), "http://localhost:3000");
        for bad in [
            "http://api.segmentapis.com",
            "http://10.0.0.1",
            "http://128.0.0.1",
            "http://[::2]",
            "http://localhost.evil.example",
            "ftp://127.0.0.1",
            "https://user:pw@api.segmentapis.com",
            "https://api.segmentapis.com/?x=1",
            "https://api.segmentapis.com/#f",
            "not a url",
            "",
        ] {
            let err = validate_base_url(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidConfig { .. }), "{bad}");
            assert!(!err.to_string().contains("pw@"), "{bad}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            rate_limit_budget: Duration::ZERO,
        };
        for _ in 0..50 {
            let d1 = p.backoff(1);
            assert!(
                d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100),
                "{d1:?}"
            );
            let d3 = p.backoff(3);
            assert!(
                d3 >= Duration::from_millis(200) && d3 <= Duration::from_millis(400),
                "{d3:?}"
            );
            let d30 = p.backoff(30);
            assert!(
                d30 >= Duration::from_millis(500) && d30 <= Duration::from_secs(1),
                "{d30:?}"
            );
        }
        let zero = RetryPolicy {
            base_delay: Duration::ZERO,
            ..p
        };
        assert_eq!(zero.backoff(2), Duration::ZERO);
    }
}
