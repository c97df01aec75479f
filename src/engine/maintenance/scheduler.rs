//! The scheduler: creates each active worker's `make` task for every due
//! slot of its schedule (`engine::schedule` says when), exactly once per
//! database.
//!
//! Exactly once without a lock that can expire: a slot's task carries the
//! slot key in `schedule_slot`, and a unique (identifier, schedule_slot)
//! index refuses a second one. Any number of hosts, cron ticks and worker
//! processes may evaluate the same schedule at the same moment; one insert
//! wins, the others learn the slot is taken. The insert is the whole
//! operation, so a process killed half-way leaves either the task or
//! nothing (then the next evaluation within the grace creates it).
//!
//! The last evaluation of each schedule is kept in `s_task_schedules`: a
//! slot that no evaluation saw within its grace was missed (no worker
//! process ran), which the schedule's `missed` policy decides on.
//!
//! A slot is skipped while the worker's previous `make` task is still
//! pending or running: a nightly export slower than its interval does not
//! pile up behind itself. (The PHP package skipped on any unfinished task
//! of the worker; then one import queued for next week, or stuck, stopped
//! the schedule, so only the scheduled action counts here.)

use crate::engine::maintenance::Scope;
use crate::engine::query::{Query, Table, Value};
use crate::engine::schedule::{self, Schedule, Slot};
use crate::engine::store::ScheduleState;
use crate::engine::task::{NewTask, Status};
use crate::engine::time::Timestamp;
use crate::engine::worker::WorkerRow;
use crate::engine::Result;
use chrono_tz::Tz;
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;

/// The action a schedule runs, as in the PHP package.
pub const SCHEDULED_ACTION: &str = "make";

#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// The application's time zone: slots are wall-clock times in it.
    pub timezone: Tz,
    /// How late an evaluation may see a slot and still call it on time.
    pub grace: Duration,
}

/// What one evaluation did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SchedulerReport {
    /// Workers whose schedule was evaluated.
    pub evaluated: usize,
    /// (worker, slot key, task id) of each task created.
    pub created: Vec<(String, String, i64)>,
    /// Slots another process had already created.
    pub taken: usize,
    /// Slots skipped because the worker's previous `make` was still active.
    pub skipped: usize,
}

pub struct Scheduler<'a> {
    scope: Scope<'a>,
    config: SchedulerConfig,
}

impl<'a> Scheduler<'a> {
    pub fn new(scope: impl Into<Scope<'a>>, config: SchedulerConfig) -> Self {
        Scheduler { scope: scope.into(), config }
    }

    /// Evaluates every active worker's schedule at `now`. A worker whose
    /// stored schedule cannot be read is left out (the API refuses such a
    /// schedule; a row edited by hand is logged once per evaluation).
    pub async fn run_once(&self, now: Timestamp) -> Result<SchedulerReport> {
        let store = self.scope.store;
        let active = Query::new(Table::Workers).where_eq("active", Value::Bool(true))?;
        let workers = store.worker_select(&active).await?;
        let mut report = SchedulerReport::default();
        let mut schedules: Vec<(WorkerRow, Schedule)> = Vec::new();
        for w in workers {
            match schedule_of(&w) {
                Some(Ok(s)) if s.fires() => schedules.push((w, s)),
                Some(Err(reason)) => {
                    tracing::warn!(
                        worker = w.identifier.as_str(),
                        "stask: the schedule of worker '{}' is ignored: {reason}",
                        w.identifier
                    )
                }
                _ => {}
            }
        }
        if schedules.is_empty() {
            return Ok(report);
        }
        let states: HashMap<String, ScheduleState> =
            store.schedule_states().await?.into_iter().map(|s| (s.identifier.clone(), s)).collect();
        for (w, s) in schedules {
            let last = states.get(&w.identifier).map(|st| st.evaluated_at);
            let due = schedule::due(&s, self.config.timezone, last, now, self.config.grace);
            let mut created = None;
            for slot in due {
                match self.fire(&w.identifier, &slot, now).await? {
                    Fired::Created(id) => {
                        report.created.push((w.identifier.clone(), slot.key(), id));
                        created = Some((slot.key(), id));
                    }
                    Fired::Taken => report.taken += 1,
                    Fired::Busy(active) => {
                        report.skipped += 1;
                        tracing::info!(
                            worker = w.identifier.as_str(),
                            "stask: schedule slot {} of worker '{}' skipped: its previous make task #{active} is still pending or running",
                            slot.key(),
                            w.identifier
                        );
                    }
                }
            }
            store.schedule_record(&w.identifier, now, created.as_ref().map(|(k, id)| (k.as_str(), *id))).await?;
            report.evaluated += 1;
        }
        Ok(report)
    }

    async fn fire(&self, identifier: &str, slot: &Slot, now: Timestamp) -> Result<Fired> {
        let store = self.scope.store;
        let active = Query::new(Table::Tasks)
            .where_eq("identifier", Value::Text(identifier.to_string()))
            .and_then(|q| q.where_eq("action", Value::Text(SCHEDULED_ACTION.into())))
            .and_then(|q| {
                let states = [Status::Pending, Status::Preparing, Status::Running];
                q.where_in("status", states.iter().map(|s| Value::Int(s.code())).collect(), false)
            })
            .and_then(|q| q.limit(1))?;
        if let Some(t) = store.task_select(&active).await?.into_iter().next() {
            return Ok(Fired::Busy(t.id));
        }
        let mut task = NewTask::new(identifier, SCHEDULED_ACTION);
        // `manual: false` as the PHP package's scheduler wrote it; the slot
        // in the application's zone so a worker can tell which run this is.
        let mut meta = json!({"manual": false, "scheduled_for": slot.at.with_timezone(&self.config.timezone).to_rfc3339()});
        if slot.late {
            meta["late"] = json!(true);
        }
        task.meta = Some(meta.to_string());
        Ok(match store.task_insert_scheduled(&task, &slot.key(), now).await? {
            Some(id) => Fired::Created(id),
            None => Fired::Taken,
        })
    }
}

enum Fired {
    Created(i64),
    Taken,
    Busy(i64),
}

/// The worker's stored schedule, if it has one.
fn schedule_of(w: &WorkerRow) -> Option<Result<Schedule, String>> {
    let settings: serde_json::Value = serde_json::from_str(&w.settings).ok()?;
    let stored = settings.get("schedule")?;
    Some(Schedule::from_json(stored).map_err(|e| e.to_string()))
}
