//! Timestamps in the Go layout the SDK stores: local wall-clock time, no zone,
//! `YYYY-MM-DD HH:MM:SS[.fraction]` with trailing zeros of the fraction removed.
//!
//! The local offset comes from `chrono`'s `clock` feature (reads the TZ database; no unsafe code here).

use chrono::{Local, NaiveDateTime, Timelike};

/// The current local time in the SDK's text layout.
pub(crate) fn now_local() -> String {
    format_go(&Local::now().naive_local())
}

/// Formats a naive date-time as `YYYY-MM-DD HH:MM:SS[.fffffffff]` without trailing zeros.
pub(crate) fn format_go(t: &NaiveDateTime) -> String {
    let mut s = t.format("%Y-%m-%d %H:%M:%S").to_string();
    // chrono encodes a leap second as nanos >= 1e9; clamp it into the last second.
    let nanos = t.nanosecond().min(999_999_999);
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(nanos: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 29)
            .unwrap()
            .and_hms_nano_opt(0, 10, 36, nanos)
            .unwrap()
    }

    #[test]
    fn go_layout() {
        assert_eq!(format_go(&at(0)), "2026-11-29 00:10:36");
        assert_eq!(format_go(&at(961_384_750)), "2026-11-29 00:10:36.96138475");
        assert_eq!(format_go(&at(662_444_045)), "2026-11-29 00:10:36.662444045");
        assert_eq!(format_go(&at(500_000_000)), "2026-11-29 00:10:36.5");
        let now = now_local();
        assert!(now.len() >= 19 && now.as_bytes()[10] == b' ');
    }
}
