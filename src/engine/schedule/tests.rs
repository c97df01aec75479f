//! The rules of the module doc, on real transition dates of the tz
//! database: America/New_York 2026-03-08 (02:00 → 03:00) and 2026-11-01
//! (02:00 → 01:00), Europe/Kyiv 2026-03-29 (03:00 → 04:00) and 2026-10-25
//! (04:00 → 03:00).

use super::*;
use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};
use std::time::Duration;

const NY: Tz = chrono_tz::America::New_York;
const KYIV: Tz = chrono_tz::Europe::Kyiv;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}")).with_timezone(&Utc)
}

fn schedule(mut v: Value) -> Schedule {
    v["enabled"] = json!(true);
    Schedule::from_json(&v).unwrap_or_else(|e| panic!("{v}: {e}"))
}

/// Evaluations every `step` from `from` to `to`, as worker processes tick:
/// every slot they produce, as RFC 3339 in the zone.
fn ticking(s: &Schedule, tz: Tz, from: &str, to: &str, step: i64) -> Vec<String> {
    let (mut last, end) = (utc(from), utc(to));
    let mut out = Vec::new();
    while last < end {
        let now = last + TimeDelta::seconds(step);
        for slot in due(s, tz, Some(last), now, DEFAULT_GRACE) {
            assert!(!slot.late, "a slot seen by a ticking evaluator is on time");
            out.push(slot.at.with_timezone(&tz).to_rfc3339());
        }
        last = now;
    }
    out
}

fn next(s: &Schedule, tz: Tz, now: &str) -> Option<String> {
    next_run(s, tz, utc(now)).map(|t| t.to_rfc3339())
}

#[test]
fn a_daily_slot_in_the_spring_gap_runs_once_at_the_first_instant_after_it() {
    let s = schedule(json!({"type": "periodic", "frequency": "daily", "time": "02:30"}));
    assert_eq!(
        ticking(&s, NY, "2026-03-07T00:00:00-05:00", "2026-03-10T00:00:00-04:00", 60),
        ["2026-03-07T02:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"]
    );
    assert_eq!(next(&s, NY, "2026-03-07T12:00:00-05:00").as_deref(), Some("2026-03-08T03:00:00-04:00"));
    let s = schedule(json!({"type": "periodic", "frequency": "daily", "time": "03:30"}));
    assert_eq!(ticking(&s, KYIV, "2026-03-29T00:00:00+02:00", "2026-03-30T00:00:00+03:00", 60), ["2026-03-29T04:00:00+03:00"]);
}

#[test]
fn a_daily_slot_in_the_autumn_overlap_runs_once_at_its_first_occurrence() {
    let s = schedule(json!({"type": "periodic", "frequency": "daily", "time": "01:30"}));
    assert_eq!(ticking(&s, NY, "2026-10-31T12:00:00-04:00", "2026-11-02T00:00:00-05:00", 60), ["2026-11-01T01:30:00-04:00"]);
    // Evaluated from inside the repeated hour, after its first 01:30.
    assert_eq!(next(&s, NY, "2026-11-01T01:10:00-05:00").as_deref(), Some("2026-11-02T01:30:00-05:00"));
    let s = schedule(json!({"type": "periodic", "frequency": "daily", "time": "03:30"}));
    assert_eq!(ticking(&s, KYIV, "2026-10-25T00:00:00+03:00", "2026-10-26T00:00:00+02:00", 60), ["2026-10-25T03:30:00+03:00"]);
}

#[test]
fn hourly_slots_keep_wall_clock_minutes_across_both_changes() {
    let s = schedule(json!({"type": "periodic", "frequency": "hourly", "time": "*:30"}));
    assert_eq!(
        ticking(&s, NY, "2026-11-01T00:00:00-04:00", "2026-11-01T03:00:00-05:00", 60),
        ["2026-11-01T00:30:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T02:30:00-05:00"]
    );
    assert_eq!(
        ticking(&s, NY, "2026-03-08T00:00:00-05:00", "2026-03-08T05:00:00-04:00", 60),
        [
            "2026-03-08T00:30:00-05:00",
            "2026-03-08T01:30:00-05:00",
            "2026-03-08T03:00:00-04:00",
            "2026-03-08T03:30:00-04:00",
            "2026-03-08T04:30:00-04:00"
        ]
    );
}

#[test]
fn slots_of_a_window_inside_the_gap_are_one_run() {
    let s = schedule(json!({"type": "regular", "start_time": "01:00", "end_time": "03:00", "interval": "every_15min"}));
    assert_eq!(
        ticking(&s, NY, "2026-03-08T00:00:00-05:00", "2026-03-08T06:00:00-04:00", 60),
        [
            "2026-03-08T01:00:00-05:00",
            "2026-03-08T01:15:00-05:00",
            "2026-03-08T01:30:00-05:00",
            "2026-03-08T01:45:00-05:00",
            "2026-03-08T03:00:00-04:00"
        ]
    );
}

#[test]
fn regular_windows_take_the_minutes_their_interval_divides() {
    let s = schedule(json!({"type": "regular", "start_time": "09:10", "end_time": "10:00", "interval": "every_15min"}));
    assert_eq!(
        ticking(&s, Tz::UTC, "2026-01-05T09:00:00Z", "2026-01-05T11:00:00Z", 60),
        ["2026-01-05T09:15:00+00:00", "2026-01-05T09:30:00+00:00", "2026-01-05T09:45:00+00:00", "2026-01-05T10:00:00+00:00"]
    );
    // A window across midnight, hourly.
    let s = schedule(json!({"type": "regular", "start_time": "22:00", "end_time": "02:00", "interval": "hourly"}));
    assert_eq!(
        ticking(&s, Tz::UTC, "2026-01-05T12:00:00Z", "2026-01-06T12:00:00Z", 60),
        [
            "2026-01-05T22:00:00+00:00",
            "2026-01-05T23:00:00+00:00",
            "2026-01-06T00:00:00+00:00",
            "2026-01-06T01:00:00+00:00",
            "2026-01-06T02:00:00+00:00"
        ]
    );
    assert_eq!(next(&s, KYIV, "2026-01-06T03:00:00+02:00").as_deref(), Some("2026-01-06T22:00:00+02:00"));
}

#[test]
fn weekly_and_once() {
    // 2026-01-03 is a Saturday.
    let s = schedule(json!({"type": "periodic", "frequency": "weekly", "time": "09:00", "days": ["friday", "monday"]}));
    assert_eq!(next(&s, KYIV, "2026-01-03T10:00:00+02:00").as_deref(), Some("2026-01-05T09:00:00+02:00"));
    assert_eq!(next(&s, KYIV, "2026-01-05T09:00:00+02:00").as_deref(), Some("2026-01-09T09:00:00+02:00"));
    assert_eq!(
        ticking(&s, KYIV, "2026-01-01T00:00:00+02:00", "2026-01-15T00:00:00+02:00", 90),
        ["2026-01-02T09:00:00+02:00", "2026-01-05T09:00:00+02:00", "2026-01-09T09:00:00+02:00", "2026-01-12T09:00:00+02:00"]
    );

    let s = schedule(json!({"type": "once", "datetime": "2026-03-08 02:15:00"}));
    assert_eq!(next(&s, NY, "2026-03-01T00:00:00Z").as_deref(), Some("2026-03-08T03:00:00-04:00"));
    assert_eq!(ticking(&s, NY, "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00", 45), ["2026-03-08T03:00:00-04:00"]);
    assert_eq!(next(&s, NY, "2026-03-08T03:00:00-04:00"), None);
    let s = schedule(json!({"type": "once", "datetime": "2026-06-01T12:00:00+00:00"}));
    assert_eq!(next(&s, KYIV, "2026-05-01T00:00:00Z").as_deref(), Some("2026-06-01T15:00:00+03:00"));
}

#[test]
fn cron_expressions_in_the_zone() {
    let s = schedule(json!({"type": "cron", "expression": "*/20 3 * * *"}));
    assert_eq!(
        ticking(&s, KYIV, "2026-03-28T00:00:00+02:00", "2026-03-30T00:00:00+03:00", 60),
        [
            "2026-03-28T03:00:00+02:00",
            "2026-03-28T03:20:00+02:00",
            "2026-03-28T03:40:00+02:00",
            // 03:00-03:59 does not exist on the 29th: one run after the gap.
            "2026-03-29T04:00:00+03:00"
        ]
    );
    assert_eq!(
        ticking(&s, KYIV, "2026-10-25T00:00:00+03:00", "2026-10-26T00:00:00+02:00", 60),
        ["2026-10-25T03:00:00+03:00", "2026-10-25T03:20:00+03:00", "2026-10-25T03:40:00+03:00"]
    );
    let s = schedule(json!({"type": "cron", "expression": "0 9 * * MON-FRI"}));
    assert_eq!(next(&s, NY, "2026-01-02T10:00:00-05:00").as_deref(), Some("2026-01-05T09:00:00-05:00"));
}

#[test]
fn every_slot_is_seen_once_however_the_evaluations_are_spaced() {
    let s = schedule(json!({"type": "cron", "expression": "* * * * *"}));
    for step in [1, 17, 60, 100] {
        let got = ticking(&s, NY, "2026-11-01T00:00:00-04:00", "2026-11-01T03:00:00-05:00", step);
        let mut unique = got.clone();
        unique.dedup();
        assert_eq!(got, unique, "step {step}");
        // 00:01..01:59 EDT (119 minutes), then 02:00..03:00 EST (61);
        // 01:00..01:59 EST are wall times already run.
        assert_eq!(got.len(), 180, "step {step}");
    }
}

#[test]
fn disabled_and_manual_schedules_have_no_slots() {
    let mut s = schedule(json!({"type": "periodic", "frequency": "hourly", "time": "*:00"}));
    s.enabled = false;
    assert!(next_run(&s, NY, utc("2026-01-01T00:00:00Z")).is_none());
    assert!(due(&s, NY, None, utc("2026-01-01T00:00:30Z"), DEFAULT_GRACE).is_empty());
    let s = schedule(json!({"type": "manual"}));
    assert!(next_run(&s, NY, utc("2026-01-01T00:00:00Z")).is_none());
}

#[test]
fn missed_slots_are_skipped_by_default() {
    let s = schedule(json!({"type": "periodic", "frequency": "hourly", "time": "*:00"}));
    assert_eq!(s.missed, Missed::Skip);
    let last = Some(utc("2026-01-01T00:00:30Z"));
    // No evaluation from 00:00:30 to 05:10: 01:00..05:00 were missed.
    assert!(due(&s, Tz::UTC, last, utc("2026-01-01T05:10:00Z"), DEFAULT_GRACE).is_empty());
    // Back in time for 05:00: that one runs, the others do not.
    let slots = due(&s, Tz::UTC, last, utc("2026-01-01T05:01:00Z"), DEFAULT_GRACE);
    assert_eq!(slots.iter().map(Slot::key).collect::<Vec<_>>(), ["2026-01-01T05:00:00Z"]);
    assert!(!slots[0].late);
}

#[test]
fn run_once_runs_the_latest_missed_slot_once() {
    let s = schedule(json!({"type": "periodic", "frequency": "hourly", "time": "*:00", "missed": "run_once"}));
    let last = Some(utc("2026-01-01T00:00:30Z"));
    let slots = due(&s, Tz::UTC, last, utc("2026-01-01T05:10:00Z"), DEFAULT_GRACE);
    assert_eq!(slots, [Slot { at: utc("2026-01-01T05:00:00Z"), late: true }]);
    assert_eq!(slots[0].key(), "2026-01-01T05:00:00Z");
    // The next evaluation does not run it again, nor anything else.
    assert!(due(&s, Tz::UTC, Some(utc("2026-01-01T05:10:00Z")), utc("2026-01-01T05:11:00Z"), DEFAULT_GRACE).is_empty());
    // An on-time slot stands for the missed ones.
    let slots = due(&s, Tz::UTC, last, utc("2026-01-01T05:00:40Z"), DEFAULT_GRACE);
    assert_eq!(slots, [Slot { at: utc("2026-01-01T05:00:00Z"), late: false }]);
    // A first evaluation has nothing to catch up on.
    assert!(due(&s, Tz::UTC, None, utc("2026-01-01T05:10:00Z"), DEFAULT_GRACE).is_empty());
    // A missed once, with the policy, runs late; without, never.
    let once = schedule(json!({"type": "once", "datetime": "2026-01-01 03:00", "missed": "run_once"}));
    let slots = due(&once, KYIV, last, utc("2026-01-01T05:10:00Z"), DEFAULT_GRACE);
    assert_eq!(slots, [Slot { at: utc("2026-01-01T01:00:00Z"), late: true }]);
    let once = schedule(json!({"type": "once", "datetime": "2026-01-01 03:00"}));
    assert!(due(&once, KYIV, last, utc("2026-01-01T05:10:00Z"), DEFAULT_GRACE).is_empty());
}

#[test]
fn a_missed_slot_in_the_overlap_is_its_first_occurrence() {
    let s = schedule(json!({"type": "periodic", "frequency": "daily", "time": "01:30", "missed": "run_once"}));
    // Down from 00:00 EDT to 01:50 EST: the missed 01:30 is the EDT one.
    let slots = due(&s, NY, Some(utc("2026-11-01T00:00:00-04:00")), utc("2026-11-01T01:50:00-05:00"), DEFAULT_GRACE);
    assert_eq!(slots, [Slot { at: utc("2026-11-01T01:30:00-04:00"), late: true }]);
    assert_eq!(slots[0].key(), "2026-11-01T05:30:00Z");
}

#[test]
fn the_grace_is_the_callers() {
    let s = schedule(json!({"type": "periodic", "frequency": "hourly", "time": "*:00"}));
    let last = Some(utc("2026-01-01T00:00:30Z"));
    assert!(due(&s, Tz::UTC, last, utc("2026-01-01T01:04:00Z"), DEFAULT_GRACE).is_empty());
    assert_eq!(due(&s, Tz::UTC, last, utc("2026-01-01T01:04:00Z"), Duration::from_secs(300)).len(), 1);
}

#[test]
fn a_cron_schedule_says_now_within_the_minute_after_its_slot() {
    let s = Schedule::from_json(&serde_json::json!({"type": "cron", "enabled": true, "expression": "30 3 * * *"})).unwrap();
    let kyiv = chrono_tz::Europe::Kyiv;
    let at = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&chrono::Utc);
    let minute = std::time::Duration::from_secs(60);
    assert!(super::fired_within(&s, kyiv, at("2026-06-10T03:30:00+03:00"), minute));
    assert!(super::fired_within(&s, kyiv, at("2026-06-10T03:30:59+03:00"), minute));
    assert!(!super::fired_within(&s, kyiv, at("2026-06-10T03:31:01+03:00"), minute));
    assert!(!super::fired_within(&s, kyiv, at("2026-06-10T03:29:59+03:00"), minute));
    let off = Schedule::from_json(&serde_json::json!({"type": "cron", "enabled": false, "expression": "* * * * *"})).unwrap();
    assert!(!super::fired_within(&off, kyiv, at("2026-06-10T03:30:00+03:00"), minute));
}
