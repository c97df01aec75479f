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
    for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, f) {
            return Some(Utc.from_utc_datetime(&n));
        }
    }
    DateTime::parse_from_rfc3339(s).ok().map(|d| d.with_timezone(&Utc))
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
