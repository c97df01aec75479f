//! The instants a schedule's slots fall on (rules in the module doc):
//! wall-clock slots are found on naive local time, then placed in the zone
//! (gap → first instant after it, overlap → first occurrence), which keeps
//! instants in the order of their wall times.

use crate::engine::schedule::model::{Kind, Missed, OnceAt, Schedule};
use chrono::{DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use std::time::Duration;

/// How late an evaluation may see a slot and still call it on time. Worker
/// processes evaluate at least once a minute (the cron tick of
/// `stask:worker`), so two minutes leaves room for a slow start without
/// turning an outage into a late run.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(120);

/// Day-based kinds repeat within a week: past 8 days there is no slot.
const DAY_SCAN: i64 = 8;

/// Walls later than an instant's own wall time can map before it only in an
/// overlap, whose length is the zone's DST shift (at most 2 hours today).
const OVERLAP_REACH: TimeDelta = TimeDelta::hours(3);

/// One run of the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slot {
    pub at: DateTime<Utc>,
    /// A missed slot run after its time by the `run_once` policy.
    pub late: bool,
}

impl Slot {
    /// The slot's UTC instant, `2026-03-08T07:00:00Z`: what a unique index
    /// on (worker, slot) holds, identical on every host.
    pub fn key(&self) -> String {
        self.at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }
}

/// The slots to run now: those after `last` (the previous evaluation; None
/// for the first) up to `now`, on time within `grace`, plus at most one
/// missed slot under `run_once` (module doc). In order, each instant once.
pub fn due(s: &Schedule, tz: Tz, last: Option<DateTime<Utc>>, now: DateTime<Utc>, grace: Duration) -> Vec<Slot> {
    if !s.fires() {
        return Vec::new();
    }
    let edge = now - TimeDelta::from_std(grace).unwrap_or(TimeDelta::minutes(2));
    let mut out = Vec::new();
    let mut t = last.map_or(edge, |l| l.max(edge));
    while let Some(at) = next_after(&s.kind, tz, t).filter(|at| *at <= now) {
        out.push(Slot { at, late: false });
        t = at;
    }
    if out.is_empty() && s.missed == Missed::RunOnce {
        if let Some(last) = last.filter(|l| *l < edge) {
            if let Some(at) = last_at_or_before(&s.kind, tz, edge).filter(|at| *at > last) {
                out.push(Slot { at, late: true });
            }
        }
    }
    out
}

/// The next slot after `now`, in the zone (for display); None when the
/// schedule is disabled, manual, or has no slot left.
pub fn next_run(s: &Schedule, tz: Tz, now: DateTime<Utc>) -> Option<DateTime<Tz>> {
    if !s.fires() {
        return None;
    }
    next_after(&s.kind, tz, now).map(|at| at.with_timezone(&tz))
}

/// Whether a slot fell within `window` before `now` (or at it): "the
/// schedule says now" for a worker that checks in its `make` action
/// (`BaseWorker::shouldRunNow()` for cron schedules).
pub fn fired_within(s: &Schedule, tz: Tz, now: DateTime<Utc>, window: Duration) -> bool {
    if !s.fires() {
        return false;
    }
    let from = now - TimeDelta::from_std(window).unwrap_or(TimeDelta::minutes(1));
    last_at_or_before(&s.kind, tz, now).is_some_and(|at| at >= from)
}

/// The first slot instant strictly after `t`.
pub(crate) fn next_after(kind: &Kind, tz: Tz, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if let Kind::Once(OnceAt::Instant(at)) = kind {
        return (*at > t).then_some(*at);
    }
    // No wall before t's own maps after t, so the search starts there; in an
    // overlap, walls after it may still map before t and are passed over.
    let mut wall = t.with_timezone(&tz).naive_local();
    let mut inclusive = true;
    loop {
        let next = next_wall(kind, wall, inclusive)?;
        let at = place(tz, next)?;
        if at > t {
            return Some(at);
        }
        (wall, inclusive) = (next, false);
    }
}

/// The last slot instant at or before `t`.
pub(crate) fn last_at_or_before(kind: &Kind, tz: Tz, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if let Kind::Once(OnceAt::Instant(at)) = kind {
        return (*at <= t).then_some(*at);
    }
    let mut wall = t.with_timezone(&tz).naive_local() + OVERLAP_REACH;
    let mut inclusive = true;
    loop {
        let prev = prev_wall(kind, wall, inclusive)?;
        let at = place(tz, prev)?;
        if at <= t {
            return Some(at);
        }
        (wall, inclusive) = (prev, false);
    }
}

/// The instant of a wall-clock time: itself, its first occurrence in an
/// overlap, the first instant after the gap when the clocks skip it.
pub(crate) fn place(tz: Tz, wall: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&wall) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
        LocalResult::None => {
            // Gaps are whole minutes (an hour, half an hour; a day once, in
            // Pacific/Apia 2011): the first minute that exists ends it.
            let minute = wall.with_second(0)?.with_nanosecond(0)?;
            (1..=2 * 1440)
                .find_map(|k| tz.from_local_datetime(&(minute + TimeDelta::minutes(k))).earliest())
                .map(|t| t.with_timezone(&Utc))
        }
    }
}

/// The slot times of a day-based kind on `date`, ascending.
fn times_on(kind: &Kind, date: NaiveDate) -> Vec<NaiveTime> {
    let hm = |h: u32, m: u32| NaiveTime::from_hms_opt(h, m, 0);
    match kind {
        Kind::Hourly { minute } => (0..24).filter_map(|h| hm(h, *minute)).collect(),
        Kind::Daily { hour, minute } => hm(*hour, *minute).into_iter().collect(),
        Kind::Weekly { hour, minute, days } if days.contains(&date.weekday()) => hm(*hour, *minute).into_iter().collect(),
        Kind::Regular { .. } => (0..1440).filter(|m| kind.regular_holds(*m)).filter_map(|m| hm(m / 60, m % 60)).collect(),
        _ => Vec::new(),
    }
}

/// The first wall-clock slot after `w` (or at it, when `inclusive`).
fn next_wall(kind: &Kind, w: NaiveDateTime, inclusive: bool) -> Option<NaiveDateTime> {
    let later = |c: NaiveDateTime| c > w || (inclusive && c == w);
    match kind {
        Kind::Manual | Kind::Once(OnceAt::Instant(_)) => None,
        Kind::Once(OnceAt::Local(at)) => later(*at).then_some(*at),
        Kind::Cron(c) => c.next_after(w, inclusive),
        _ => (0..=DAY_SCAN).find_map(|d| {
            let date = w.date() + TimeDelta::days(d);
            times_on(kind, date).into_iter().map(|t| date.and_time(t)).find(|c| later(*c))
        }),
    }
}

/// The last wall-clock slot before `w` (or at it, when `inclusive`).
fn prev_wall(kind: &Kind, w: NaiveDateTime, inclusive: bool) -> Option<NaiveDateTime> {
    let earlier = |c: NaiveDateTime| c < w || (inclusive && c == w);
    match kind {
        Kind::Manual | Kind::Once(OnceAt::Instant(_)) => None,
        Kind::Once(OnceAt::Local(at)) => earlier(*at).then_some(*at),
        Kind::Cron(c) => c.prev_before(w, inclusive),
        _ => (0..=DAY_SCAN).find_map(|d| {
            let date = w.date() - TimeDelta::days(d);
            times_on(kind, date).into_iter().rev().map(|t| date.and_time(t)).find(|c| earlier(*c))
        }),
    }
}
