//! Timestamps as the engine stores them.
//!
//! Every timestamp column holds UTC text `YYYY-MM-DD HH:MM:SS.ffffff`: fixed
//! width, so comparisons in SQL are plain string comparisons that use the
//! indexes, and the file stays readable with the sqlite3 shell. Rows written
//! by the PHP package (`YYYY-MM-DD HH:MM:SS`) compare correctly too.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

pub type Timestamp = DateTime<Utc>;

pub fn now() -> Timestamp {
    Utc::now()
}

pub fn to_db(t: &Timestamp) -> String {
    use chrono::{Datelike, Timelike};
    // Hand-written: chrono's `format` re-parses the pattern on every call,
    // and this runs several times per task.
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond().min(999_999_999) / 1000
    )
}

/// Parses what the database holds. Accepts the engine's own format, the PHP
/// package's `Y-m-d H:i:s`, and RFC 3339.
pub fn from_db(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(t) = from_db_fixed(s.as_bytes()) {
        return Some(t);
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, f) {
            return Some(Utc.from_utc_datetime(&n));
        }
    }
    DateTime::parse_from_rfc3339(s).ok().map(|d| d.with_timezone(&Utc))
}

/// `YYYY-MM-DD HH:MM:SS` with an optional `.f` of 1 to 9 digits (what
/// `to_db` and the PHP package write), read byte by byte: chrono's
/// `parse_from_str` interprets its pattern on every call, and a claimed
/// row holds several timestamps. Anything else returns None.
fn from_db_fixed(b: &[u8]) -> Option<Timestamp> {
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r)?.iter().try_fold(0u32, |n, c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let mut nanos = 0;
    if b.len() > 19 {
        let frac = b.get(20..)?;
        if b[19] != b'.' || frac.is_empty() || frac.len() > 9 {
            return None;
        }
        nanos = num(20..b.len())? * 10u32.pow(9 - frac.len() as u32);
    }
    let date = chrono::NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let time = chrono::NaiveTime::from_hms_nano_opt(num(11..13)?, num(14..16)?, num(17..19)?, nanos)?;
    Some(Utc.from_utc_datetime(&date.and_time(time)))
}

/// Seconds since the Unix epoch with microseconds, for the PHP face.
pub fn to_epoch_micros(t: &Timestamp) -> i64 {
    t.timestamp_micros()
}

pub fn from_epoch_micros(us: i64) -> Option<Timestamp> {
    Utc.timestamp_micros(us).single()
}

pub fn iso8601(t: &Timestamp) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixed_layout_reads_as_chrono_does() {
        for s in ["2026-12-03 14:05:09", "2026-12-03 14:05:09.5", "2026-12-03 14:05:09.123456", "1999-01-31 00:00:00.123456789"] {
            let chrono = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").map(|n| Utc.from_utc_datetime(&n)).ok();
            assert_eq!(from_db_fixed(s.as_bytes()), chrono, "{s}");
            assert!(chrono.is_some());
        }
        for s in [
            "2026-13-03 14:05:09",
            "2026-12-03T14:05:09",
            "2026-12-03 14:05:09.",
            "2026-12-03 14:05:09x1",
            "2026-12-03 14:05",
            "2026-02-30 00:00:00",
            "2026-12-03 24:00:00",
            "+026-12-03 14:05:09",
            "2026-12-03 14:05:09.1234567890",
        ] {
            assert_eq!(from_db_fixed(s.as_bytes()), None, "{s}");
        }
        let now = now();
        assert_eq!(from_db(&to_db(&now)).map(|t| t.timestamp_micros()), Some(now.timestamp_micros()));
    }

    #[test]
    fn stored_text_round_trips_and_sorts_like_time() {
        let a = Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap();
        let b = a + chrono::Duration::microseconds(1500);
        assert_eq!(from_db(&to_db(&a)), Some(a));
        assert!(to_db(&a) < to_db(&b));
        assert!("2025-01-02 03:04:05" <= to_db(&a).as_str());
    }

    #[test]
    fn package_format_is_read() {
        let t = from_db("2025-01-16 10:30:00").unwrap();
        assert_eq!(iso8601(&t), "2025-01-16T10:30:00Z");
        assert_eq!(from_db(""), None);
    }
}
