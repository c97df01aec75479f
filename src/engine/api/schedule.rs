//! A worker's schedule, validated before it is stored in the worker's
//! `settings['schedule']`, where `BaseWorker::getSchedule()` reads it and
//! the scheduler evaluates it (`engine::schedule`, REFERENCE §3.6). The
//! package stored what the form sent; a typo there meant a schedule that
//! silently never fired, so here every field is checked and the stored
//! shape is always complete.

use crate::engine::api::json::{bool_of, describe, type_name, ApiError};
use crate::engine::schedule as model;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{json, Map, Value};

pub const TYPES: &[&str] = &["manual", "once", "periodic", "regular", "cron"];
pub const FREQUENCIES: &[&str] = &["hourly", "daily", "weekly"];
pub const DAYS: &[&str] = &["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
pub const INTERVALS: &[&str] = &["every_5min", "every_15min", "every_30min", "hourly"];
const KEYS: &[&str] =
    &["type", "enabled", "datetime", "time", "frequency", "days", "start_time", "end_time", "interval", "expression", "missed"];

/// What `getSchedule()` returns when nothing is stored.
pub fn defaults() -> Map<String, Value> {
    match json!({
        "type": "manual", "enabled": false, "datetime": null, "time": null, "frequency": "hourly",
        "days": [], "start_time": null, "end_time": null, "interval": "hourly",
        "expression": null, "missed": "skip",
    }) {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The stored schedule over the defaults (as `getSchedule()` merges it).
pub fn effective(settings: &Value) -> Value {
    let mut out = defaults();
    if let Some(Value::Object(stored)) = settings.get("schedule") {
        for (k, v) in stored {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

fn text<'a>(m: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, ApiError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim())),
        Some(other) => Err(ApiError::invalid(key, format!("expected a string, got {}", type_name(other)))),
    }
}

fn one_of(key: &str, value: &str, allowed: &[&str]) -> Result<String, ApiError> {
    let v = value.to_ascii_lowercase();
    if allowed.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(ApiError::invalid(key, format!("{} is not one of {}", describe(&Value::String(value.into())), allowed.join(", "))))
    }
}

/// `HH:MM` (0..23, 0..59) as written, normalised to two digits.
fn time_of_day(key: &str, raw: &str) -> Result<(u32, u32), ApiError> {
    let bad = || ApiError::invalid(key, format!("{} is not a time of day HH:MM", describe(&Value::String(raw.into()))));
    let (h, m) = raw.split_once(':').ok_or_else(bad)?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok((h, m))
}

/// Checks a schedule and returns it complete (every key present, unused
/// ones at their defaults), as it will be stored.
pub fn validate(input: &Value) -> Result<Value, ApiError> {
    let m = match input {
        Value::Object(m) => m,
        other => return Err(ApiError::invalid("schedule", format!("must be an object, got {}", type_name(other)))),
    };
    if let Some(k) = m.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(ApiError::invalid(k, format!("is not a schedule field; use {}", KEYS.join(", "))));
    }
    let ty = one_of("type", text(m, "type")?.ok_or_else(|| ApiError::invalid("type", "is required"))?, TYPES)?;
    let enabled = match m.get("enabled") {
        None | Some(Value::Null) => false,
        Some(v) => bool_of(v).ok_or_else(|| ApiError::invalid("enabled", format!("expected a boolean, got {}", describe(v))))?,
    };
    let missed = match text(m, "missed")? {
        None => model::Missed::default(),
        Some(raw) => model::Missed::parse(raw).ok_or_else(|| {
            ApiError::invalid(
                "missed",
                format!("{} is not one of {}", describe(&Value::String(raw.into())), model::Missed::NAMES.join(", ")),
            )
        })?,
    };
    let mut out = defaults();
    out.insert("type".into(), json!(ty));
    out.insert("enabled".into(), json!(enabled));
    out.insert("missed".into(), json!(missed.as_str()));
    match ty.as_str() {
        "manual" => {}
        "cron" => {
            let raw = text(m, "expression")?.ok_or_else(|| ApiError::invalid("expression", "is required for a cron schedule"))?;
            let expr = model::cron::CronExpr::parse(raw).map_err(|reason| ApiError::invalid("expression", reason))?;
            out.insert("expression".into(), json!(expr.as_str()));
        }
        "once" => {
            let raw = text(m, "datetime")?.ok_or_else(|| ApiError::invalid("datetime", "is required for a once schedule"))?;
            let at = parse_local(raw).ok_or_else(|| {
                ApiError::invalid(
                    "datetime",
                    format!("{} is not a date-time (2025-01-15 10:30)", describe(&Value::String(raw.into()))),
                )
            })?;
            out.insert("datetime".into(), json!(at));
        }
        "periodic" => {
            let freq = one_of("frequency", text(m, "frequency")?.unwrap_or("hourly"), FREQUENCIES)?;
            let raw = text(m, "time")?.ok_or_else(|| ApiError::invalid("time", "is required for a periodic schedule"))?;
            let (hour, minute) =
                raw.split_once(':').ok_or_else(|| ApiError::invalid("time", "must be HH:MM, or *:MM for hourly schedules"))?;
            let minute_ok = minute.len() == 2 && minute.bytes().all(|b| b.is_ascii_digit()) && minute < "60";
            if !minute_ok {
                return Err(ApiError::invalid(
                    "time",
                    format!("{} has no valid minute (00..59)", describe(&Value::String(raw.into()))),
                ));
            }
            let time = if freq == "hourly" {
                if hour != "*" {
                    return Err(ApiError::invalid("time", "an hourly schedule takes *:MM (the minute of every hour)"));
                }
                format!("*:{minute}")
            } else {
                if hour == "*" {
                    return Err(ApiError::invalid("time", format!("a {freq} schedule needs an hour (HH:MM)")));
                }
                let (h, mi) = time_of_day("time", raw)?;
                format!("{h:02}:{mi:02}")
            };
            out.insert("frequency".into(), json!(freq));
            out.insert("time".into(), json!(time));
            if freq == "weekly" {
                let days = days(m.get("days"))?;
                if days.is_empty() {
                    return Err(ApiError::invalid("days", "a weekly schedule needs at least one day (sunday..saturday)"));
                }
                out.insert("days".into(), json!(days));
            }
        }
        "regular" => {
            let start =
                text(m, "start_time")?.ok_or_else(|| ApiError::invalid("start_time", "is required for a regular schedule"))?;
            let end = text(m, "end_time")?.ok_or_else(|| ApiError::invalid("end_time", "is required for a regular schedule"))?;
            let (sh, sm) = time_of_day("start_time", start)?;
            let (eh, em) = time_of_day("end_time", end)?;
            let interval = one_of("interval", text(m, "interval")?.unwrap_or("hourly"), INTERVALS)?;
            out.insert("start_time".into(), json!(format!("{sh:02}:{sm:02}")));
            out.insert("end_time".into(), json!(format!("{eh:02}:{em:02}")));
            out.insert("interval".into(), json!(interval));
        }
        _ => {}
    }
    let out = Value::Object(out);
    // What the scheduler will read must be readable (a regular window
    // that holds no minute of its interval is caught here).
    model::Schedule::from_json(&out).map_err(|e| ApiError::invalid(e.field, e.reason))?;
    Ok(out)
}

/// The next run of a stored schedule (`effective()`'s shape) after `now`,
/// ISO 8601 with the zone's offset, or null (disabled, manual, nothing
/// left, or a stored schedule the scheduler cannot read).
pub fn next_run(schedule: &Value, tz: Tz, now: DateTime<Utc>) -> Value {
    model::Schedule::from_json(schedule)
        .ok()
        .and_then(|s| model::next_run(&s, tz, now))
        .map(|t| Value::String(t.to_rfc3339()))
        .unwrap_or(Value::Null)
}

/// Weekday names, lowercased, in week order, without repeats.
fn days(v: Option<&Value>) -> Result<Vec<String>, ApiError> {
    let items: Vec<String> = match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|d| {
                d.as_str()
                    .map(|s| s.trim().to_ascii_lowercase())
                    .ok_or_else(|| ApiError::invalid("days", "must be a list of day names"))
            })
            .collect::<Result<_, _>>()?,
        Some(Value::String(s)) => s.split(',').map(|d| d.trim().to_ascii_lowercase()).filter(|d| !d.is_empty()).collect(),
        Some(other) => return Err(ApiError::invalid("days", format!("must be a list of day names, got {}", type_name(other)))),
    };
    for d in &items {
        if !DAYS.contains(&d.as_str()) {
            return Err(ApiError::invalid("days", format!("'{d}' is not a day; use {}", DAYS.join(", "))));
        }
    }
    Ok(DAYS.iter().filter(|d| items.iter().any(|i| i == *d)).map(|d| d.to_string()).collect())
}

/// A wall-clock date-time in the application's time zone (as the
/// scheduler reads it), normalised to `YYYY-MM-DD HH:MM:SS`.
fn parse_local(raw: &str) -> Option<String> {
    use chrono::NaiveDateTime;
    let raw = raw.trim();
    for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(raw, f) {
            return Some(n.format("%Y-%m-%d %H:%M:%S").to_string());
        }
    }
    // With an offset it names an instant; keep it as given (PHP parses it).
    chrono::DateTime::parse_from_rfc3339(raw).ok().map(|d| d.to_rfc3339())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(v: Value) -> Value {
        validate(&v).unwrap_or_else(|e| panic!("{v}: {}", e.message))
    }

    fn err(v: Value) -> String {
        validate(&v).unwrap_err().message
    }

    #[test]
    fn each_type_is_checked_and_stored_complete() {
        let s =
            ok(json!({"type": "periodic", "enabled": true, "time": "9:05", "frequency": "weekly", "days": ["Friday", "monday"]}));
        assert_eq!(s["time"], "09:05");
        assert_eq!(s["days"], json!(["monday", "friday"]));
        assert_eq!(s["interval"], "hourly");
        let s = ok(json!({"type": "periodic", "time": "*:30", "frequency": "hourly", "enabled": "1"}));
        assert_eq!((s["time"].as_str(), s["enabled"].as_bool()), (Some("*:30"), Some(true)));
        let s = ok(json!({"type": "regular", "start_time": "22:00", "end_time": "02:00", "interval": "every_15min"}));
        assert_eq!(s["start_time"], "22:00");
        assert_eq!(ok(json!({"type": "once", "datetime": "2030-01-02T03:04"}))["datetime"], "2030-01-02 03:04:00");
        assert_eq!(ok(json!({"type": "manual"}))["enabled"], false);
        let s = ok(json!({"type": "cron", "expression": " */5  9-17 * * mon-fri ", "missed": "RUN_ONCE"}));
        assert_eq!((s["expression"].as_str(), s["missed"].as_str()), (Some("*/5 9-17 * * mon-fri"), Some("run_once")));
        assert_eq!(ok(json!({"type": "manual"}))["missed"], "skip");
        assert_eq!(ok(json!({"type": "periodic", "time": "*:30"}))["expression"], Value::Null);
    }

    #[test]
    fn the_missed_policy_and_the_expression_are_checked_by_name() {
        let e = validate(&json!({"type": "manual", "missed": "later"})).unwrap_err();
        assert_eq!((e.status, e.extra["field"].as_str()), (422, Some("missed")));
        assert!(e.message.contains("skip, run_once"));
        let e = validate(&json!({"type": "cron", "expression": "0 0 31 2 *"})).unwrap_err();
        assert_eq!((e.status, e.extra["field"].as_str()), (422, Some("expression")));
        assert!(e.message.contains("never"));
    }

    #[test]
    fn the_next_run_is_shown_in_the_zone_with_its_offset() {
        let now = DateTime::parse_from_rfc3339("2026-03-07T17:00:00Z").unwrap().with_timezone(&Utc);
        let s = ok(json!({"type": "periodic", "frequency": "daily", "time": "02:30", "enabled": true}));
        assert_eq!(next_run(&s, chrono_tz::America::New_York, now), json!("2026-03-08T03:00:00-04:00"));
        assert_eq!(next_run(&s, Tz::UTC, now), json!("2026-03-08T02:30:00+00:00"));
        assert_eq!(next_run(&defaults().into(), Tz::UTC, now), Value::Null);
    }

    #[test]
    fn schedules_that_could_never_fire_are_refused() {
        assert!(err(json!({"type": "periodic", "time": "10:00", "frequency": "weekly"})).contains("days"));
        assert!(err(json!({"type": "periodic", "time": "10:00", "frequency": "hourly"})).contains("*:MM"));
        assert!(err(json!({"type": "periodic", "time": "*:00", "frequency": "daily"})).contains("hour"));
        assert!(err(json!({"type": "periodic", "time": "25:00", "frequency": "daily"})).contains("time"));
        assert!(err(json!({"type": "periodic", "time": "10:75", "frequency": "daily"})).contains("minute"));
        assert!(err(json!({"type": "regular", "start_time": "9:00"})).contains("end_time"));
        assert!(err(json!({"type": "regular", "start_time": "9:00", "end_time": "10:00", "interval": "every_7min"}))
            .contains("interval"));
        assert!(err(json!({"type": "once"})).contains("datetime"));
        assert!(err(json!({"type": "once", "datetime": "tomorrow"})).contains("datetime"));
        assert!(err(json!({"type": "yearly"})).contains("type"));
        assert!(err(json!({"type": "cron"})).contains("expression"));
        assert!(err(json!({"type": "cron", "expression": "0 3 * *"})).contains("5"));
        assert!(err(json!({"type": "regular", "start_time": "9:10", "end_time": "9:50"})).contains("holds no minute"));
        assert!(err(json!({"type": "manual", "extra": 1})).contains("extra"));
        assert!(err(json!({"type": "periodic", "time": "10:00", "frequency": "weekly", "days": ["funday"]})).contains("funday"));
        assert!(err(json!([])).contains("object"));
    }
}
