//! The loops themselves: `run` works until a stop condition (the worker
//! process), `run_due` works what is due now and returns.

use crate::engine::maintenance::cleaner::{Cleaner, CleanerConfig};
use crate::engine::query::{Query, Table, Value};
use crate::engine::service::Engine;
use crate::engine::task::{Status, TaskRow};
use crate::engine::work::{next_batch, release, run_batch, Flow, Runner, Tally};
use serde_json::json;
use std::time::{Duration, Instant};

/// How often a running loop evaluates the worker schedules: well inside
/// the scheduler's grace, so a slot is created on time (within this many
/// seconds) even when this is the only process.
const SCHEDULE_EVERY: Duration = Duration::from_secs(20);

/// What bounds a `run`.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Tasks to process before returning; 0 for no limit.
    pub max_tasks: i64,
    /// Seconds to run before returning; 0 for no limit.
    pub max_seconds: f64,
    /// The longest idle wait, in seconds; None for the default of the
    /// backend (see `run`).
    pub sleep: Option<f64>,
    /// The most one claim takes.
    pub batch: i64,
    /// Return as soon as a claim finds nothing.
    pub stop_when_empty: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_tasks: 0,
            max_seconds: 0.0,
            sleep: None,
            // The most a claim takes; `next_batch` sizes each claim to about
            // 20 ms of work, so only fast tasks reach it. 500 rather than 64:
            // +21 % no-op tasks/s on SQLite, +50 % on PostgreSQL (fewer claim
            // and finish round trips and commits), and a slow task still
            // brings the batch down to 1.
            batch: 500,
            stop_when_empty: false,
        }
    }
}

/// What a `run` did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Report {
    pub tally: Tally,
    pub elapsed: Duration,
    pub stopped_by_signal: bool,
}

impl Report {
    /// `sTask::work()`'s answer: the tally, seconds (to the millisecond),
    /// tasks per second (to a tenth) and whether a signal ended the run.
    pub fn to_json(&self) -> serde_json::Value {
        let t = &self.tally;
        let elapsed = self.elapsed.as_secs_f64();
        json!({
            "processed": t.processed, "completed": t.completed, "failed": t.failed,
            "retried": t.retried, "cancelled": t.cancelled, "waiting": t.waiting,
            "seconds": (elapsed * 1000.0).round() / 1000.0,
            "per_second": if elapsed > 0.0 { ((t.processed as f64 / elapsed) * 10.0).round() / 10.0 } else { 0.0 },
            "stopped_by_signal": self.stopped_by_signal,
        })
    }
}

/// Works tasks until a stop condition: `stop()` (checked between batches
/// and every 50 ms of an idle wait), `max_seconds`, `max_tasks`, an empty
/// queue with `stop_when_empty`, or a task that ended the process.
pub fn run<R: Runner>(engine: &Engine, runner: &mut R, o: &Options, stop: impl Fn() -> bool) -> Result<Report, R::Error> {
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut idle = Duration::from_millis(5);
    // Idle waits grow to `sleep`. Without LISTEN/NOTIFY a worker polls,
    // and the cap is what a new task waits at most to be picked up.
    let sleep_cap = match o.sleep {
        Some(s) => s,
        None if engine.store().supports_listen() => 1.0,
        None => 0.03,
    };
    let rescue_every = engine.settings().lease_for / 2;
    let mut size = 1;
    let mut scheduled_at: Option<Instant> = None;
    // Past start-up: a supervisor counts a child that dies before this
    // line as one that cannot start (see engine::supervisor).
    crate::engine::supervisor::mark_child_ready();
    let live = register(engine, runner);
    // Claimed together with the previous batch's finish (`run_batch`).
    let mut ahead: Option<Vec<TaskRow>> = None;
    let room_for = |processed: i64, size: i64| if o.max_tasks > 0 { (o.max_tasks - processed).min(size) } else { size };
    let out_of_time = || o.max_seconds > 0.0 && started.elapsed().as_secs_f64() >= o.max_seconds;
    loop {
        if stop() {
            break;
        }
        if engine.rescue_due(rescue_every) {
            runner.wait(engine.rescue_expired())?;
        }
        if scheduled_at.is_none_or(|t| t.elapsed() >= SCHEDULE_EVERY) {
            run_schedules(engine, runner);
            scheduled_at = Some(Instant::now());
        }
        if out_of_time() {
            break;
        }
        let room = room_for(tally.processed, size);
        if room <= 0 {
            break;
        }
        // A claim made beside a finish that found nothing is made again:
        // that finish may have made a task due (a retry without delay).
        let tasks = match ahead.take() {
            Some(t) if !t.is_empty() => t,
            _ => runner.wait(engine.claim(room))?,
        };
        if tasks.is_empty() {
            if o.stop_when_empty {
                break;
            }
            // Adaptive idle wait with jitter: quick pickup after a
            // burst, little load when the queue stays empty.
            let mut wait = idle.mul_f64(0.8 + 0.4 * rand::random::<f64>());
            if o.max_seconds > 0.0 {
                let left = o.max_seconds - started.elapsed().as_secs_f64();
                wait = wait.min(Duration::from_secs_f64(left.max(0.0)));
            }
            // Woken early by a database notification (PostgreSQL) or by
            // a task this process created; checks for a stop every 50 ms.
            runner.wait(async {
                let step = Duration::from_millis(50);
                let until = tokio::time::Instant::now() + wait;
                while tokio::time::Instant::now() < until && !stop() {
                    if engine.wait_for_work(step.min(until - tokio::time::Instant::now())).await.unwrap_or(false) {
                        break;
                    }
                }
            });
            idle = (idle * 2).min(Duration::from_secs_f64(sleep_cap.max(0.005)));
            continue;
        }
        idle = Duration::from_millis(5);
        let before = tally.processed;
        let ran = run_batch(engine, runner, &tasks, &mut tally, |done, took| {
            size = next_batch(done, took, o.batch);
            let room = room_for(before + done as i64, size);
            (room > 0 && !stop() && !out_of_time()).then_some(room)
        })?;
        ahead = ran.next;
        if let Some(l) = &live {
            l.set_done(tally.processed);
        }
        if ran.flow == Flow::Exit {
            break;
        }
    }
    // Claimed beside the last finish, then a stop came: back to the queue.
    release(engine, runner, ahead.as_deref().unwrap_or_default(), "Released: the worker loop stopped");
    if let Some(l) = live {
        runner.wait(l.stop());
    }
    if tally.processed == 0 {
        // Idle: old progress snapshots go (the seed's "cleans up when idle"),
        // and so do the chunks of uploads nobody completed.
        let cleaner = Cleaner::new(engine, CleanerConfig::default())?;
        let _ = cleaner.clean_progress_files();
        let _ = cleaner.clean_abandoned_uploads();
    }
    Ok(Report { tally, elapsed: started.elapsed(), stopped_by_signal: stop() })
}

/// Works the tasks that are due now, claiming at most `batch` at a time.
/// Bounded by what was due at the start, so tasks that enqueue tasks (or
/// retry at once) cannot keep this call running forever.
pub fn run_due<R: Runner>(engine: &Engine, runner: &mut R, batch: i64) -> Result<Tally, R::Error> {
    if engine.rescue_due(engine.settings().lease_for / 2) {
        runner.wait(engine.rescue_expired())?;
    }
    run_schedules(engine, runner);
    let live = register(engine, runner);
    let due = runner.wait(engine.count(&Query::new(Table::Tasks).where_eq("status", Value::Int(Status::Pending.code()))?))?;
    let mut tally = Tally::default();
    let mut claimed = 0;
    let mut size = 1;
    while claimed < due {
        let tasks = runner.wait(engine.claim(size.min(due - claimed)))?;
        if tasks.is_empty() {
            break;
        }
        claimed += tasks.len() as i64;
        let ran = run_batch(engine, runner, &tasks, &mut tally, |_, _| None)?;
        if let Some(l) = &live {
            l.set_done(tally.processed);
        }
        if ran.flow == Flow::Exit {
            break;
        }
        size = next_batch(tasks.len(), ran.took, batch);
    }
    if let Some(l) = live {
        runner.wait(l.stop());
    }
    Ok(tally)
}

/// The schedules' due tasks. A failure is logged, not raised: tasks that are
/// already queued still run, and the next evaluation tries again.
fn run_schedules<R: Runner>(engine: &Engine, runner: &R) {
    if let Err(e) = runner.wait(engine.run_schedules()) {
        tracing::warn!("stask: could not evaluate the worker schedules (tried again in {} s): {e}", SCHEDULE_EVERY.as_secs());
    }
}

/// This loop in the live-process registry. Without it (a database not yet
/// migrated to the registry's table) tasks still run.
fn register<R: Runner>(engine: &Engine, runner: &R) -> Option<crate::engine::processes::Live> {
    match runner.wait(engine.process_start()) {
        Ok(live) => Some(live),
        Err(e) => {
            tracing::warn!(
                "stask: this worker process is not shown as running (run `php artisan migrate` or sTask::migrate()): {e}"
            );
            None
        }
    }
}
