//! The stored schedule as a type. The stored shape is what
//! `api::schedule::validate` writes and `BaseWorker::getSchedule()` reads:
//! `{type, enabled, datetime, time, frequency, days, start_time, end_time,
//! interval, expression, missed}`; rows written by the PHP package (`9:05`,
//! mixed-case day names, no `missed`) read the same.

use crate::engine::schedule::cron::CronExpr;
use chrono::{DateTime, NaiveDateTime, Utc, Weekday};
use serde_json::Value;

/// What the stored schedule says, or why it cannot say anything.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub kind: Kind,
    pub enabled: bool,
    pub missed: Missed,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// Runs only when someone starts it.
    Manual,
    Once(OnceAt),
    /// `periodic`/`hourly`: minute `minute` of every hour.
    Hourly {
        minute: u32,
    },
    Daily {
        hour: u32,
        minute: u32,
    },
    /// On the listed weekdays (never empty).
    Weekly {
        hour: u32,
        minute: u32,
        days: Vec<Weekday>,
    },
    /// The minutes of the day in `start..=end` (minutes of the day; the
    /// window crosses midnight when `end < start`) that `every` divides.
    Regular {
        start: u32,
        end: u32,
        every: u32,
    },
    Cron(CronExpr),
}

/// A `once` date-time: wall-clock time in the application's zone, or an
/// instant when it was stored with an offset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OnceAt {
    Local(NaiveDateTime),
    Instant(DateTime<Utc>),
}

/// What happens to slots no evaluation saw in time (module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Missed {
    #[default]
    Skip,
    RunOnce,
}

impl Missed {
    pub const NAMES: &'static [&'static str] = &["skip", "run_once"];

    pub fn parse(raw: &str) -> Option<Missed> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "skip" => Some(Missed::Skip),
            "run_once" => Some(Missed::RunOnce),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Missed::Skip => "skip",
            Missed::RunOnce => "run_once",
        }
    }
}

/// Why a stored schedule cannot be evaluated; `field` is the schedule key
/// at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleError {
    pub field: &'static str,
    pub reason: String,
}

impl std::fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid schedule {}: {}", self.field, self.reason)
    }
}

impl std::error::Error for ScheduleError {}

fn bad(field: &'static str, reason: impl Into<String>) -> ScheduleError {
    ScheduleError { field, reason: reason.into() }
}

/// Minutes of `regular` intervals, by name.
pub const INTERVAL_MINUTES: &[(&str, u32)] = &[("every_5min", 5), ("every_15min", 15), ("every_30min", 30), ("hourly", 60)];

const WEEKDAYS: &[(&str, Weekday)] = &[
    ("sunday", Weekday::Sun),
    ("monday", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("saturday", Weekday::Sat),
];

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// `HH:MM` or `H:MM`, as `(hour, minute)`; `*` as the hour gives None for it.
fn clock(field: &'static str, raw: &str) -> Result<(Option<u32>, u32), ScheduleError> {
    let err = || bad(field, format!("'{raw}' is not a time of day HH:MM"));
    let (h, m) = raw.split_once(':').ok_or_else(err)?;
    let digits = |s: &str, max_len: usize| !s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit());
    if m.len() != 2 || !digits(m, 2) {
        return Err(err());
    }
    let minute: u32 = m.parse().map_err(|_| err())?;
    let hour = match h {
        "*" => None,
        h if digits(h, 2) => Some(h.parse::<u32>().map_err(|_| err())?),
        _ => return Err(err()),
    };
    if minute > 59 || hour.is_some_and(|h| h > 23) {
        return Err(err());
    }
    Ok((hour, minute))
}

fn minute_of_day(field: &'static str, raw: Option<&str>) -> Result<u32, ScheduleError> {
    let raw = raw.ok_or_else(|| bad(field, "is required for a regular schedule"))?;
    match clock(field, raw)? {
        (Some(h), m) => Ok(h * 60 + m),
        (None, _) => Err(bad(field, format!("'{raw}' is not a time of day HH:MM"))),
    }
}

fn enabled_of(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => matches!(s.trim().to_ascii_lowercase().as_str(), "1" | "true" | "on" | "yes"),
        _ => false,
    }
}

impl Schedule {
    /// Reads a stored schedule (keys missing take `getSchedule()`'s
    /// defaults: manual, disabled, skip).
    pub fn from_json(v: &Value) -> Result<Schedule, ScheduleError> {
        if !v.is_object() {
            return Err(bad("schedule", "is not an object"));
        }
        let missed = match text(v, "missed") {
            None => Missed::default(),
            Some(m) => {
                Missed::parse(m).ok_or_else(|| bad("missed", format!("'{m}' is not one of {}", Missed::NAMES.join(", "))))?
            }
        };
        let ty = text(v, "type").unwrap_or("manual").to_ascii_lowercase();
        let kind = match ty.as_str() {
            "manual" => Kind::Manual,
            "once" => Kind::Once(once_at(text(v, "datetime"))?),
            "periodic" => periodic(v)?,
            "regular" => {
                let start = minute_of_day("start_time", text(v, "start_time"))?;
                let end = minute_of_day("end_time", text(v, "end_time"))?;
                let name = text(v, "interval").unwrap_or("hourly").to_ascii_lowercase();
                let every = INTERVAL_MINUTES.iter().find(|(n, _)| *n == name).map(|(_, m)| *m).ok_or_else(|| {
                    let names: Vec<&str> = INTERVAL_MINUTES.iter().map(|(n, _)| *n).collect();
                    bad("interval", format!("'{name}' is not one of {}", names.join(", ")))
                })?;
                let kind = Kind::Regular { start, end, every };
                if !(0..1440).any(|m| kind.regular_holds(m)) {
                    return Err(bad(
                        "interval",
                        format!(
                            "the window {} to {} holds no minute that {name} falls on (minutes divisible by {every})",
                            hhmm(start),
                            hhmm(end)
                        ),
                    ));
                }
                kind
            }
            "cron" => {
                let raw = text(v, "expression").ok_or_else(|| bad("expression", "is required for a cron schedule"))?;
                Kind::Cron(CronExpr::parse(raw).map_err(|r| bad("expression", r))?)
            }
            other => return Err(bad("type", format!("'{other}' is not one of manual, once, periodic, regular, cron"))),
        };
        Ok(Schedule { kind, enabled: enabled_of(v.get("enabled")), missed })
    }

    /// Whether it can fire at all (enabled and not manual).
    pub fn fires(&self) -> bool {
        self.enabled && self.kind != Kind::Manual
    }
}

impl Kind {
    /// Whether minute-of-day `m` is a slot of a `Regular` kind.
    pub(crate) fn regular_holds(&self, m: u32) -> bool {
        let Kind::Regular { start, end, every } = *self else { return false };
        let in_window = if start <= end { (start..=end).contains(&m) } else { m >= start || m <= end };
        in_window && m % every == 0
    }
}

fn hhmm(m: u32) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn once_at(raw: Option<&str>) -> Result<OnceAt, ScheduleError> {
    let raw = raw.ok_or_else(|| bad("datetime", "is required for a once schedule"))?;
    for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(raw, f) {
            return Ok(OnceAt::Local(n));
        }
    }
    DateTime::parse_from_rfc3339(raw)
        .map(|d| OnceAt::Instant(d.with_timezone(&Utc)))
        .map_err(|_| bad("datetime", format!("'{raw}' is not a date-time (2025-01-15 10:30)")))
}

fn periodic(v: &Value) -> Result<Kind, ScheduleError> {
    let freq = text(v, "frequency").unwrap_or("hourly").to_ascii_lowercase();
    let raw = text(v, "time").ok_or_else(|| bad("time", "is required for a periodic schedule"))?;
    let (hour, minute) = clock("time", raw)?;
    match (freq.as_str(), hour) {
        ("hourly", None) => Ok(Kind::Hourly { minute }),
        ("hourly", Some(_)) => Err(bad("time", "an hourly schedule takes *:MM (the minute of every hour)")),
        ("daily" | "weekly", None) => Err(bad("time", format!("a {freq} schedule needs an hour (HH:MM)"))),
        ("daily", Some(hour)) => Ok(Kind::Daily { hour, minute }),
        ("weekly", Some(hour)) => {
            let names: Vec<String> = match v.get("days") {
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(|s| s.trim().to_ascii_lowercase()).collect(),
                Some(Value::String(s)) => s.split(',').map(|d| d.trim().to_ascii_lowercase()).collect(),
                _ => Vec::new(),
            };
            let mut days = Vec::new();
            for n in names.iter().filter(|n| !n.is_empty()) {
                let d = WEEKDAYS.iter().find(|(w, _)| w == n).map(|(_, d)| *d);
                let d = d.ok_or_else(|| bad("days", format!("'{n}' is not a day (sunday..saturday)")))?;
                if !days.contains(&d) {
                    days.push(d);
                }
            }
            if days.is_empty() {
                return Err(bad("days", "a weekly schedule needs at least one day (sunday..saturday)"));
            }
            Ok(Kind::Weekly { hour, minute, days })
        }
        (other, _) => Err(bad("frequency", format!("'{other}' is not one of hourly, daily, weekly"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kind(v: Value) -> Kind {
        Schedule::from_json(&v).unwrap_or_else(|e| panic!("{v}: {e}")).kind
    }

    fn field(v: Value) -> &'static str {
        Schedule::from_json(&v).unwrap_err().field
    }

    #[test]
    fn stored_shapes_read_as_types() {
        assert_eq!(kind(json!({"type": "periodic", "frequency": "hourly", "time": "*:05"})), Kind::Hourly { minute: 5 });
        assert_eq!(kind(json!({"type": "periodic", "frequency": "daily", "time": "9:05"})), Kind::Daily { hour: 9, minute: 5 });
        assert_eq!(
            kind(json!({"type": "periodic", "frequency": "weekly", "time": "23:59", "days": ["Friday", "monday", "friday"]})),
            Kind::Weekly { hour: 23, minute: 59, days: vec![Weekday::Fri, Weekday::Mon] }
        );
        assert_eq!(
            kind(json!({"type": "regular", "start_time": "22:00", "end_time": "02:00", "interval": "every_15min"})),
            Kind::Regular { start: 1320, end: 120, every: 15 }
        );
        let local = NaiveDateTime::parse_from_str("2030-01-02 03:04:00", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(kind(json!({"type": "once", "datetime": "2030-01-02 03:04:00"})), Kind::Once(OnceAt::Local(local)));
        assert!(matches!(kind(json!({"type": "once", "datetime": "2030-01-02T03:04:00+02:00"})), Kind::Once(OnceAt::Instant(_))));
        assert!(matches!(kind(json!({"type": "cron", "expression": "0 3 * * *"})), Kind::Cron(_)));
        let s = Schedule::from_json(&json!({"type": "manual"})).unwrap();
        assert_eq!((s.kind, s.enabled, s.missed), (Kind::Manual, false, Missed::Skip));
        let s = Schedule::from_json(&json!({"type": "periodic", "time": "*:00", "enabled": "1", "missed": "run_once"})).unwrap();
        assert!(s.enabled && s.fires() && s.missed == Missed::RunOnce);
    }

    #[test]
    fn a_schedule_that_cannot_be_evaluated_names_its_field() {
        assert_eq!(field(json!({"type": "cron"})), "expression");
        assert_eq!(field(json!({"type": "cron", "expression": "0 0 * *"})), "expression");
        assert_eq!(field(json!({"type": "yearly"})), "type");
        assert_eq!(field(json!({"type": "manual", "missed": "later"})), "missed");
        assert_eq!(field(json!({"type": "periodic", "frequency": "weekly", "time": "10:00"})), "days");
        assert_eq!(field(json!({"type": "periodic", "frequency": "daily", "time": "24:00"})), "time");
        assert_eq!(field(json!({"type": "regular", "start_time": "09:00"})), "end_time");
        // Start and end inside one hour, on the hour never reached.
        assert_eq!(
            field(json!({"type": "regular", "start_time": "09:10", "end_time": "09:50", "interval": "hourly"})),
            "interval"
        );
        assert_eq!(field(json!([])), "schedule");
    }
}
