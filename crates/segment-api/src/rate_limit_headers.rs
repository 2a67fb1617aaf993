//! Segment's rate-limit signals: `X-RateLimit-*` headers, `msBeforeNext`, `Retry-After`.

use std::time::{Duration, SystemTime};

use reqwest::header::{self, HeaderMap};

use crate::error::ErrorBody;
use crate::hooks::RateLimitInfo;

/// The latest `X-RateLimit-Reset` believed: further in the future than this, the header
/// is treated as absent (a skewed clock or an absurd value must not stall anyone).
const MAX_RESET_AHEAD: Duration = Duration::from_secs(24 * 60 * 60);

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Parses `X-RateLimit-Reset` (seen at wall-clock `now`): an HTTP date as documented;
/// tolerates epoch seconds (>= 1e9) and seconds from now. A reset more than a day after
/// `now` (or not representable) is treated as absent.
fn parse_reset(value: &str, now: SystemTime) -> Option<SystemTime> {
    let time = if let Ok(time) = httpdate::parse_http_date(value) {
        time
    } else {
        let secs: u64 = value.parse().ok()?;
        if secs >= 1_000_000_000 {
            SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))?
        } else {
            now.checked_add(Duration::from_secs(secs))?
        }
    };
    let latest = now.checked_add(MAX_RESET_AHEAD)?;
    (time <= latest).then_some(time)
}

pub(crate) fn rate_limit_info(headers: &HeaderMap) -> RateLimitInfo {
    RateLimitInfo {
        remaining: header_str(headers, "x-ratelimit-remaining").and_then(|v| v.parse().ok()),
        consumed: header_str(headers, "x-ratelimit-consumed").and_then(|v| v.parse().ok()),
        reset: header_str(headers, "x-ratelimit-reset")
            .and_then(|v| parse_reset(v, SystemTime::now())),
    }
}

/// How long a 429 asked us to wait: `errors[].data.msBeforeNext`, else until
/// `X-RateLimit-Reset`, else `Retry-After` (seconds or HTTP date).
pub(crate) fn server_wait(body: &ErrorBody, headers: &HeaderMap) -> Option<Duration> {
    if let Some(ms) = body.ms_before_next {
        return Some(Duration::from_millis(ms));
    }
    let now = SystemTime::now();
    if let Some(reset) = header_str(headers, "x-ratelimit-reset").and_then(|v| parse_reset(v, now))
        && let Ok(wait) = reset.duration_since(now)
    {
        return Some(wait);
    }
    retry_after(headers, now)
}

/// `Retry-After` (seconds or HTTP date), seen at wall-clock `now`.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let retry_after = header_str(headers, header::RETRY_AFTER.as_str())?;
    if let Ok(secs) = retry_after.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    httpdate::parse_http_date(retry_after)
        .ok()
        .map(|t| t.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    /// A header map from name/value pairs (shared with the client's unit tests).
    pub(crate) fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn server_wait_precedence() {
        let in_30s = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let body = ErrorBody {
            messages: vec![],
            ms_before_next: Some(1234),
        };
        let h = headers(&[("x-ratelimit-reset", &in_30s), ("retry-after", "7")]);
        assert_eq!(server_wait(&body, &h), Some(Duration::from_millis(1234)));
        let wait = server_wait(&ErrorBody::default(), &h).unwrap();
        assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(30));
        let h = headers(&[("x-ratelimit-reset", &past), ("retry-after", "7")]);
        assert_eq!(
            server_wait(&ErrorBody::default(), &h),
            Some(Duration::from_secs(7))
        );
        let h = headers(&[("retry-after", &in_30s)]);
        assert!(server_wait(&ErrorBody::default(), &h).unwrap() > Duration::from_secs(25));
        assert_eq!(server_wait(&ErrorBody::default(), &HeaderMap::new()), None);
    }

    #[test]
    fn absurd_resets_are_treated_as_absent() {
        let now = SystemTime::now();
        for absurd in [
            "9223372036854775807",
            "18446744073709551615",
            "200000", // seconds from now: more than a day
        ] {
            assert_eq!(parse_reset(absurd, now), None, "{absurd}");
        }
        let in_two_days = httpdate::fmt_http_date(now + Duration::from_secs(2 * 86_400));
        assert_eq!(parse_reset(&in_two_days, now), None);
        assert_eq!(parse_reset("30", now), Some(now + Duration::from_secs(30)));
        let soon = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 60;
        assert_eq!(
            parse_reset(&soon.to_string(), now),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(soon))
        );
        let h = headers(&[
            ("x-ratelimit-reset", "9223372036854775807"),
            ("retry-after", "7"),
        ]);
        assert_eq!(rate_limit_info(&h).reset, None);
        assert_eq!(
            server_wait(&ErrorBody::default(), &h),
            Some(Duration::from_secs(7))
        );
    }

    #[test]
    fn rate_limit_headers() {
        let h = headers(&[
            ("x-ratelimit-remaining", "59"),
            ("x-ratelimit-consumed", "1"),
            ("x-ratelimit-reset", "Tue, 31 Dec 2024 23:59:59 GMT"),
        ]);
        let info = rate_limit_info(&h);
        assert_eq!(info.remaining, Some(59));
        assert_eq!(info.consumed, Some(1));
        assert_eq!(
            info.reset,
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_735_689_599))
        );
    }
}
