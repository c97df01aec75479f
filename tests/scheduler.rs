//! The scheduler (engine::maintenance::scheduler) on every backend: a slot's
//! task is created once per database however many hosts and overlapping
//! ticks evaluate it, across the clock changes, with both missed-slot
//! policies, and not while the worker still has a task queued or running.
//! Evaluations run at chosen instants; the database is real.

#[macro_use]
mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::*;
use serde_json::{json, Value};
use stask::engine::maintenance::scheduler::{Scheduler, SchedulerConfig, SchedulerReport};
use stask::engine::query::{Query, Table, Value as QValue};
use stask::engine::service::Engine;
use stask::engine::task::{NewTask, Status, TaskRow};
use std::time::Duration;

suite!(
    a_slot_fires_once_however_many_hosts_and_ticks_evaluate_it,
    slots_follow_the_clock_changes_in_the_application_zone,
    missed_slots_are_skipped_or_run_once_as_the_schedule_says,
    a_slot_waits_while_the_worker_still_has_a_task,
    inactive_manual_and_disabled_schedules_create_nothing,
);

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn config(tz: chrono_tz::Tz, grace_secs: u64) -> SchedulerConfig {
    SchedulerConfig { timezone: tz, grace: Duration::from_secs(grace_secs) }
}

fn schedule(h: &H, identifier: &str, s: Value) {
    h.worker(identifier, true);
    let q = Query::new(Table::Workers).where_eq("identifier", QValue::Text(identifier.into())).unwrap();
    h.wait(h.engine().update(&q, &[("settings", QValue::Text(json!({ "schedule": s }).to_string()))])).unwrap();
}

fn evaluate(h: &H, e: &Engine, c: &SchedulerConfig, now: DateTime<Utc>) -> SchedulerReport {
    h.wait(Scheduler::new(e, c.clone()).run_once(now)).unwrap()
}

fn scheduled(h: &H, identifier: &str) -> Vec<TaskRow> {
    let q = Query::new(Table::Tasks).where_eq("identifier", QValue::Text(identifier.into())).unwrap();
    h.wait(h.engine().select_tasks(&q)).unwrap()
}

fn meta(t: &TaskRow) -> Value {
    serde_json::from_str(t.meta.as_deref().unwrap_or("null")).unwrap()
}

fn complete_all(h: &H, identifier: &str) {
    for t in scheduled(h, identifier) {
        h.set(t.id, &[("status", QValue::Int(Status::Completed.code()))]);
    }
}

fn a_slot_fires_once_however_many_hosts_and_ticks_evaluate_it(h: &H) {
    schedule(h, "nightly", json!({"type": "periodic", "enabled": true, "frequency": "daily", "time": "03:00"}));
    let c = config(chrono_tz::Tz::UTC, 120);
    // Two more hosts on the same database, each with its own engine.
    let others: Vec<Engine> = (0..2).map(|_| h.wait(Engine::open(h.settings.clone())).unwrap()).collect();
    let first = evaluate(h, h.engine(), &c, at("2026-05-01T02:59:30Z"));
    assert!(first.created.is_empty(), "no slot before 03:00: {first:?}");

    // Six evaluations of the same instant at once, from three engines.
    let now = at("2026-05-01T03:00:10Z");
    async fn run(e: &Engine, c: SchedulerConfig, now: DateTime<Utc>) -> SchedulerReport {
        Scheduler::new(e, c).run_once(now).await.unwrap()
    }
    let (o1, o2) = (&others[0], &others[1]);
    let reports: Vec<SchedulerReport> = h.wait(async {
        let (a, b, c, d, e, f) = tokio::join!(
            run(h.engine(), c.clone(), now),
            run(o1, c.clone(), now),
            run(o2, c.clone(), now),
            run(h.engine(), c.clone(), now),
            run(o1, c.clone(), now),
            run(o2, c.clone(), now)
        );
        vec![a, b, c, d, e, f]
    });
    // The others found the slot taken, the task active, or (having come
    // after the winner recorded its evaluation) nothing due.
    let created: usize = reports.iter().map(|r| r.created.len()).sum();
    assert_eq!(created, 1, "{reports:?}");
    assert!(reports.iter().all(|r| r.evaluated == 1), "{reports:?}");
    let tasks = scheduled(h, "nightly");
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].action, "make");
    assert_eq!(meta(&tasks[0]), json!({"manual": false, "scheduled_for": "2026-05-01T03:00:00+00:00"}));

    // Overlapping ticks after the task ran: the slot is not due again.
    complete_all(h, "nightly");
    for now in ["2026-05-01T03:00:30Z", "2026-05-01T03:01:00Z", "2026-05-01T03:01:55Z"] {
        assert!(evaluate(h, &others[0], &c, at(now)).created.is_empty(), "{now}");
    }
    // Even a host that never saw the evaluations (no memory of them) finds
    // the slot taken: the unique slot key, not the memory, is the guard.
    let states = h.wait(h.engine().store().schedule_states()).unwrap();
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].last_task_id, Some(tasks[0].id));
    assert_eq!(states[0].last_slot.as_deref(), Some("2026-05-01T03:00:00Z"));
    let q = Query::new(Table::Tasks).where_eq("id", QValue::Int(tasks[0].id)).unwrap();
    let again = NewTask::new("nightly", "make");
    assert_eq!(h.wait(h.engine().store().task_insert_scheduled(&again, "2026-05-01T03:00:00Z", Utc::now())).unwrap(), None);
    assert_eq!(h.wait(h.engine().count(&q)).unwrap(), 1);

    // The next day's slot is a new task.
    let next = evaluate(h, h.engine(), &c, at("2026-05-02T03:00:05Z"));
    assert_eq!(next.created.len(), 1);
    assert_eq!(next.created[0].1, "2026-05-02T03:00:00Z");
    assert_eq!(scheduled(h, "nightly").len(), 2);
    for e in others {
        let _g = h.rt.enter();
        drop(e);
    }
}

/// Every 5 minutes through both clock-change days in New York, each task
/// completed as soon as it exists: the daily 02:30 runs once at 03:00 EDT
/// on the spring day (02:30 does not exist), the daily 01:30 once at its
/// first occurrence (EDT) on the autumn day (it happens twice).
fn slots_follow_the_clock_changes_in_the_application_zone(h: &H) {
    let ny = chrono_tz::America::New_York;
    schedule(h, "spring", json!({"type": "periodic", "enabled": true, "frequency": "daily", "time": "02:30"}));
    schedule(h, "autumn", json!({"type": "cron", "enabled": true, "expression": "30 1 * * *"}));
    let c = config(ny, 600);
    for (day_start, worker, want) in [
        ("2026-03-08T00:00:00-05:00", "spring", "2026-03-08T03:00:00-04:00"),
        ("2026-11-01T00:00:00-04:00", "autumn", "2026-11-01T01:30:00-04:00"),
    ] {
        let mut now = at(day_start);
        let end = now + chrono::Duration::hours(24);
        while now < end {
            evaluate(h, h.engine(), &c, now);
            complete_all(h, "spring");
            complete_all(h, "autumn");
            now += chrono::Duration::minutes(5);
        }
        let tasks = scheduled(h, worker);
        let on_the_day: Vec<Value> = tasks
            .iter()
            .map(|t| meta(t)["scheduled_for"].clone())
            .filter(|s| s.as_str().unwrap().starts_with(&want[..10]))
            .collect();
        assert_eq!(on_the_day, vec![json!(want)], "{worker}: {tasks:?}");
    }
}

fn missed_slots_are_skipped_or_run_once_as_the_schedule_says(h: &H) {
    schedule(h, "skipper", json!({"type": "periodic", "enabled": true, "frequency": "hourly", "time": "*:00", "missed": "skip"}));
    schedule(
        h,
        "catcher",
        json!({"type": "periodic", "enabled": true, "frequency": "hourly", "time": "*:00", "missed": "run_once"}),
    );
    let c = config(chrono_tz::Europe::Kyiv, 120);
    assert!(evaluate(h, h.engine(), &c, at("2026-06-10T08:30:00Z")).created.is_empty());
    // No process ran for five hours: slots 09:00 … 13:00 UTC were missed.
    let late = evaluate(h, h.engine(), &c, at("2026-06-10T13:40:00Z"));
    assert_eq!(
        late.created.iter().map(|(w, s, _)| (w.as_str(), s.as_str())).collect::<Vec<_>>(),
        vec![("catcher", "2026-06-10T13:00:00Z")]
    );
    assert!(scheduled(h, "skipper").is_empty(), "skip drops what was missed");
    let caught = &scheduled(h, "catcher")[0];
    assert_eq!(meta(caught), json!({"manual": false, "scheduled_for": "2026-06-10T16:00:00+03:00", "late": true}));
    // Once: the next evaluation does not run a missed slot again.
    complete_all(h, "catcher");
    assert!(evaluate(h, h.engine(), &c, at("2026-06-10T13:41:00Z")).created.is_empty());
    // Back on time, both run their next slot.
    let on_time = evaluate(h, h.engine(), &c, at("2026-06-10T14:00:20Z"));
    let mut workers: Vec<&str> = on_time.created.iter().map(|(w, _, _)| w.as_str()).collect();
    workers.sort();
    assert_eq!(workers, vec!["catcher", "skipper"]);
}

fn a_slot_waits_while_the_worker_still_has_a_task(h: &H) {
    schedule(
        h,
        "busy",
        json!({"type": "regular", "enabled": true, "start_time": "00:00", "end_time": "23:59", "interval": "every_5min"}),
    );
    let c = config(chrono_tz::Tz::UTC, 120);
    // Other actions, queued for later or running, do not hold the schedule.
    let mut later = NewTask::new("busy", "import");
    later.start_at = Some(at("2099-01-01T00:00:00Z"));
    h.wait(h.engine().create_task(later)).unwrap();
    let first = evaluate(h, h.engine(), &c, at("2026-07-01T10:05:30Z"));
    assert_eq!(first.created.len(), 1, "{first:?}");
    // Its own previous run, still pending, does.
    let r = evaluate(h, h.engine(), &c, at("2026-07-01T10:10:30Z"));
    assert_eq!((r.created.len(), r.skipped), (0, 1));
    h.set(first.created[0].2, &[("status", QValue::Int(Status::Failed.code()))]);
    let r = evaluate(h, h.engine(), &c, at("2026-07-01T10:15:10Z"));
    assert_eq!(r.created.len(), 1);
}

fn inactive_manual_and_disabled_schedules_create_nothing(h: &H) {
    let every_minute = |enabled: bool| json!({"type": "cron", "enabled": enabled, "expression": "* * * * *"});
    schedule(h, "off", every_minute(false));
    schedule(h, "manual", json!({"type": "manual", "enabled": true}));
    schedule(h, "idle", every_minute(true));
    h.wait(h.engine().set_worker_active("idle", false)).unwrap();
    h.worker("plain", true);
    // A row edited by hand into nonsense is left out, not fatal.
    schedule(h, "broken", json!({"type": "cron", "enabled": true, "expression": "not cron"}));
    let r = evaluate(h, h.engine(), &config(chrono_tz::Tz::UTC, 120), Utc.with_ymd_and_hms(2026, 8, 1, 12, 0, 30).unwrap());
    assert_eq!(r, SchedulerReport::default());
    assert!(h.wait(h.engine().store().schedule_states()).unwrap().is_empty());
}
