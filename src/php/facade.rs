//! `Seiger\sTask\Facades\sTask`: the static API of the seed. Each method
//! converts its arguments, calls the engine, and converts the result.

#![allow(non_snake_case)]

use crate::engine::config::ConfigureArgs;
use crate::engine::maintenance::cleaner::{Cleaner, CleanerConfig};
use crate::engine::metrics;
use crate::engine::query::{Query as EngineQuery, Table, Value};
use crate::engine::store::CancelOutcome;
use crate::engine::task::NewTask;
use crate::engine::work::{self, stop};
use crate::php::collection::Collection;
use crate::php::context::{self, block_on, engine};
use crate::php::convert::{describe, entries, id_arg, int_arg, json_to_zval, string_arg, values_of, zval_to_json, Key};
use crate::php::declared::{opt, Array, ArrayOut, Int, Text};
use crate::php::discovery;
use crate::php::exceptions::invalid;
use crate::php::executor::{run_one, PhpRunner};
use crate::php::new_task::{self, TaskArgs};
use crate::php::task_model::{task_to_zval, TaskModel};
use crate::php::worker_model::{worker_to_zval, WorkerModel};
use crate::php::workers::clear_instances;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};
use serde_json::json;
use std::time::{Duration, Instant};

#[php_class]
#[php(name = "Seiger\\sTask\\Facades\\sTask")]
pub struct Facade;

/// Options of `sTask::work()`: the loop's, and the supervisor's.
#[derive(Debug, Clone)]
struct WorkOptions {
    run: work::Options,
    concurrency: i64,
    command: Vec<String>,
    grace: f64,
    timeout: f64,
    cancel_grace: f64,
}

impl WorkOptions {
    fn parse(opts: Option<&ZendHashTable>) -> PhpResult<Self> {
        let mut o = WorkOptions {
            run: work::Options::default(),
            concurrency: 1,
            command: Vec::new(),
            grace: 30.0,
            timeout: 0.0,
            cancel_grace: 10.0,
        };
        let Some(opts) = opts else { return Ok(o) };
        for (key, v) in entries(opts, "options")? {
            let num = |v: &Zval, name: &str| -> PhpResult<f64> {
                let f = v.double().or_else(|| v.long().map(|i| i as f64)).or_else(|| v.str().and_then(|s| s.trim().parse().ok()));
                match f {
                    Some(f) if f.is_finite() && f >= 0.0 => Ok(f),
                    _ => Err(invalid(name, format!("must be a number >= 0, got {}", describe(v)))),
                }
            };
            match key.as_str() {
                "max_tasks" => o.run.max_tasks = int_arg(v, "max_tasks")?.max(0),
                "max_seconds" | "max_time" => o.run.max_seconds = num(v, "max_seconds")?,
                "sleep" => o.run.sleep = Some(num(v, "sleep")?.min(60.0)),
                "batch" | "batch_size" => {
                    let b = int_arg(v, "batch")?;
                    if !(1..=1000).contains(&b) {
                        return Err(invalid("batch", format!("must be between 1 and 1000, got {b}")));
                    }
                    o.run.batch = b;
                }
                "stop_when_empty" | "once" => o.run.stop_when_empty = v.coerce_to_bool(),
                "concurrency" => {
                    let c = int_arg(v, "concurrency")?;
                    if !(1..=64).contains(&c) {
                        return Err(invalid("concurrency", format!("must be between 1 and 64, got {c}")));
                    }
                    o.concurrency = c;
                }
                "command" => {
                    let arr = v.array().ok_or_else(|| invalid("command", "must be an array: the PHP binary, then its arguments"))?;
                    o.command = values_of(arr).into_iter().map(|a| string_arg(a, "command")).collect::<PhpResult<_>>()?;
                }
                "grace" => o.grace = num(v, "grace")?,
                "timeout" => o.timeout = num(v, "timeout")?,
                "cancel_grace" => o.cancel_grace = num(v, "cancel_grace")?,
                other => {
                    return Err(invalid(
                        "work option",
                        format!(
                            "unknown option '{other}'; use max_tasks, max_seconds, sleep, batch, stop_when_empty, concurrency, command, grace, timeout or cancel_grace"
                        ),
                    ))
                }
            }
        }
        Ok(o)
    }
}

fn json(v: serde_json::Value) -> PhpResult<Zval> {
    json_to_zval(&v)
}

/// A JSON object as the array a method declared `: array` returns.
fn json_array(v: serde_json::Value) -> PhpResult<ArrayOut> {
    ArrayOut::new(json_to_zval(&v)?)
}

fn optional_int(z: Option<&Zval>, name: &str, default: i64) -> PhpResult<i64> {
    match z {
        Some(z) if !z.is_null() => int_arg(z, name),
        _ => Ok(default),
    }
}

/// Children that die before reaching their worker loop, in a row, before
/// `work()` gives up with `WorkerStartupException`. Enough to ride out a
/// moment of trouble (with the supervisor's back-off, about 4 s), few enough
/// that a child that cannot start is reported within seconds.
const STARTUP_FAILURES: u32 = 5;

fn supervise(e: &crate::engine::service::Engine, o: &WorkOptions) -> PhpResult<Zval> {
    use crate::engine::child_command::{resolve, Parent};
    use crate::engine::supervisor::{run, SupervisorConfig};
    // The same PHP, ini and extension as this process (child_command's doc).
    let parent = Parent::current()?;
    let command = block_on(resolve(&parent, &o.command, &[]))?;
    let config = SupervisorConfig {
        concurrency: o.concurrency as usize,
        command,
        env: Vec::new(),
        grace: Duration::from_secs_f64(o.grace),
        default_timeout: Duration::from_secs_f64(o.timeout),
        cancel_grace: Duration::from_secs_f64(o.cancel_grace),
        max_time: Duration::from_secs_f64(o.run.max_seconds),
        startup_failures: STARTUP_FAILURES,
    };
    let started = Instant::now();
    let r = block_on(run(e, config, stop::requested))?;
    json(json!({
        "concurrency": o.concurrency, "children_started": r.started, "children_replaced": r.replaced,
        "killed_for_timeout": r.killed_for_timeout, "killed_for_cancel": r.killed_for_cancel,
        "attempts_recorded": r.attempts_recorded, "released": r.released,
        "seconds": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        "stopped_by_signal": stop::requested(),
    }))
}

#[php_impl]
impl Facade {
    /// Queues a task. Rejects an empty identifier or action and an unknown
    /// priority; the worker need not exist yet (its task waits or fails
    /// with a message saying what to do). With `unique`, an active task
    /// holding the same key is returned instead of a duplicate.
    /// `maxAttempts` (1 to 1000, default 3) bounds the attempts; `startAt`
    /// (a date, a Unix time or a date string) delays the first one.
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        identifier: Text,
        action: Text,
        data: Option<Array>,
        priority: Option<&Zval>,
        userId: Option<Int>,
        unique: Option<Text>,
        maxAttempts: Option<Int>,
        startAt: Option<&Zval>,
    ) -> PhpResult<TaskModel> {
        let args = TaskArgs {
            identifier: Some(identifier.0),
            action: Some(action.0),
            data: opt(data),
            priority,
            user_id: opt(userId),
            unique: opt(unique),
            max_attempts: opt(maxAttempts),
            start_at: startAt,
        };
        let t = args.to_new_task("")?;
        Ok(TaskModel::from_row(block_on(engine()?.create_task(t))?))
    }

    /// Queues many tasks at once: each element of `$tasks` is an array of
    /// `create()`'s named arguments (identifier, action, data, priority,
    /// userId, unique, maxAttempts, startAt). Every element is checked
    /// before anything is written: a bad one throws
    /// InvalidArgumentException naming it (`tasks[3].priority`) and nothing
    /// is queued. The tasks go in within one transaction, in multi-row
    /// statements, and idle workers are woken once. Returns the task ids
    /// under the keys of `$tasks`; an element whose unique key an active
    /// task holds (or an earlier element of the batch) gets that task's id.
    pub fn create_many(tasks: &ZendHashTable) -> PhpResult<ZBox<ZendHashTable>> {
        let (keys, batch): (Vec<Key>, Vec<NewTask>) = new_task::batch(tasks)?.into_iter().unzip();
        let created = block_on(engine()?.create_tasks(batch))?;
        let mut ids = ZendHashTable::with_capacity(created.len() as u32);
        for (key, c) in keys.into_iter().zip(created) {
            match key {
                Key::Index(i) => ids.insert_at_index(i, c.id)?,
                Key::Name(n) => ids.insert(n.as_str(), c.id)?,
            }
        }
        Ok(ids)
    }

    /// Runs one pending task now, in this process. True when it completed.
    pub fn execute(task: &Zval) -> PhpResult<bool> {
        let id = match task.object() {
            // Only a task model has a key to run: any other object's
            // getKey() would be called, or be missing (a plain Exception).
            Some(o)
                if ext_php_rs::zend::ClassEntry::try_find("Seiger\\sTask\\Models\\sTaskModel")
                    .is_some_and(|ce| o.instance_of(ce)) =>
            {
                o.try_call_method("getKey", vec![])?.long().ok_or_else(|| invalid("task", "expected an sTaskModel or an id"))?
            }
            Some(_) => return Err(invalid("task", format!("expected an sTaskModel or an id, got {}", describe(task)))),
            None => id_arg(task, "task")?,
        };
        let e = engine()?;
        let Some(row) = block_on(e.claim_one(id))? else {
            block_on(e.require_task(id))?;
            return Ok(false);
        };
        let mut pending = Vec::new();
        let (outcome, _flow) = run_one(&e, &row, &mut pending)?;
        let finished = block_on(e.finish(&[outcome]))?;
        Ok(finished.first().map(|f| f.status == crate::engine::task::Status::Completed.code()).unwrap_or(false))
    }

    /// Works the tasks that are due now, claiming at most `batchSize` at a
    /// time (default 10). Returns how many were processed.
    pub fn process_pending_tasks(batchSize: Option<Int>) -> PhpResult<i64> {
        let batch = optional_int(opt(batchSize), "batchSize", 10)?;
        if !(1..=1000).contains(&batch) {
            return Err(invalid("batchSize", format!("must be between 1 and 1000, got {batch}")));
        }
        let e = engine()?;
        let tally = work::run_due(&e, &mut PhpRunner { engine: &e }, batch)?;
        Ok(tally.processed)
    }

    /// The worker loop (artisan `stask:worker` / `stask:work`). Options:
    /// max_tasks, max_seconds, sleep (idle wait, seconds), batch,
    /// stop_when_empty. Stops on SIGTERM/SIGINT after the current batch.
    pub fn work(options: Option<&ZendHashTable>) -> PhpResult<Zval> {
        let o = WorkOptions::parse(options)?;
        let e = engine()?;
        let _signals = stop::listen();
        // A supervisor with N children; each child runs the same call with
        // STASK_WORKER_CHILD set and works as a single loop.
        let is_child = std::env::var("STASK_WORKER_CHILD").map(|v| v == "1").unwrap_or(false);
        if o.concurrency > 1 && !is_child {
            return supervise(&e, &o);
        }
        let report = work::run(&e, &mut PhpRunner { engine: &e }, &o.run, stop::requested)?;
        json(report.to_json())
    }

    /// Due pending tasks in the order they will run (priority, then age).
    #[php(defaults(limit = 10))]
    pub fn get_pending_tasks(limit: i64) -> PhpResult<Collection> {
        let rows = block_on(engine()?.pending_tasks(limit))?;
        Ok(Collection::from_items(rows.into_iter().map(task_to_zval).collect::<PhpResult<_>>()?))
    }

    pub fn get_stats() -> PhpResult<ArrayOut> {
        json_array(block_on(metrics::stats(&*engine()?))?)
    }

    /// Deletes completed tasks finished more than `days` ago (and their
    /// progress files). Returns how many.
    pub fn clean_old_tasks(days: Option<Int>) -> PhpResult<i64> {
        let days = optional_int(opt(days), "days", 30)?;
        let e = engine()?;
        let cleaner = Cleaner::new(&*e, CleanerConfig { older_than_days: days, ..Default::default() })?;
        Ok(block_on(cleaner.clean_tasks())? as i64)
    }

    /// Registers worker classes found through Composer and already
    /// declared; returns the new (inactive) sWorker models.
    pub fn discover_workers() -> PhpResult<Vec<WorkerModel>> {
        Ok(discovery::discover(&*engine()?)?.into_iter().map(WorkerModel::from_row).collect())
    }

    pub fn rescan_workers() -> PhpResult<Vec<WorkerModel>> {
        Ok(discovery::rescan(&*engine()?)?.into_iter().map(WorkerModel::from_row).collect())
    }

    pub fn clean_orphaned_workers() -> PhpResult<i64> {
        discovery::clean_orphans(&*engine()?)
    }

    /// Registers one class; null when its identifier is already taken.
    pub fn register_worker(className: Text) -> PhpResult<Option<WorkerModel>> {
        let class = string_arg(className.0, "className")?;
        Ok(discovery::register(&*engine()?, &class)?.map(WorkerModel::from_row))
    }

    #[php(defaults(activeOnly = false))]
    pub fn get_workers(activeOnly: bool) -> PhpResult<Collection> {
        use crate::engine::query::Dir;
        let mut q = EngineQuery::new(Table::Workers).order_by("position", Dir::Asc)?.order_by("identifier", Dir::Asc)?;
        if activeOnly {
            q = q.where_eq("active", Value::Bool(true))?;
        }
        let rows = block_on(engine()?.select_workers(&q))?;
        Ok(Collection::from_items(rows.into_iter().map(worker_to_zval).collect::<PhpResult<_>>()?))
    }

    pub fn get_worker(identifier: Text) -> PhpResult<Option<WorkerModel>> {
        let id = string_arg(identifier.0, "identifier")?;
        let q = EngineQuery::new(Table::Workers).where_eq("identifier", Value::Text(id))?.limit(1)?;
        Ok(block_on(engine()?.select_workers(&q))?.into_iter().next().map(WorkerModel::from_row))
    }

    pub fn activate_worker(identifier: Text) -> PhpResult<bool> {
        let id = string_arg(identifier.0, "identifier")?;
        Ok(block_on(engine()?.set_worker_active(&id, true))?)
    }

    pub fn deactivate_worker(identifier: Text) -> PhpResult<bool> {
        let id = string_arg(identifier.0, "identifier")?;
        Ok(block_on(engine()?.set_worker_active(&id, false))?)
    }

    pub fn get_performance_metrics(hours: Option<Int>) -> PhpResult<ArrayOut> {
        let hours = optional_int(opt(hours), "hours", 24)?;
        json_array(block_on(metrics::summary(&*engine()?, hours))?)
    }

    pub fn get_worker_stats(identifier: Option<Text>, hours: Option<Int>) -> PhpResult<ArrayOut> {
        let identifier = match opt(identifier) {
            Some(i) if !i.is_null() => Some(string_arg(i, "identifier")?),
            _ => None,
        };
        let hours = optional_int(opt(hours), "hours", 24)?;
        json_array(block_on(metrics::worker_stats(&*engine()?, identifier.as_deref(), hours))?)
    }

    pub fn get_performance_alerts() -> PhpResult<ArrayOut> {
        json_array(block_on(metrics::alerts(&*engine()?))?)
    }

    /// The worker cache's counters (this process) and PHP's memory use.
    pub fn get_cache_stats() -> PhpResult<ArrayOut> {
        let s = engine()?.cache_stats();
        let mem = ext_php_rs::types::ZendCallable::try_from_name("memory_get_usage")?.try_call(vec![&true])?.long().unwrap_or(0);
        json_array(json!({
            "hits": s.hits, "misses": s.misses, "evictions": s.evictions, "hit_rate": s.hit_rate,
            "cache_size": s.cache_size, "memory_usage": mem,
        }))
    }

    /// Whether a schedule (a worker's `getSchedule()`) fired within the last
    /// minute, in the application's time zone: what `shouldRunNow()` asks
    /// for cron schedules, which only the engine parses.
    pub fn schedule_is_due(schedule: Array) -> PhpResult<bool> {
        let v = zval_to_json(schedule.0, "schedule")?;
        let s = crate::engine::schedule::Schedule::from_json(&v).map_err(|e| invalid(e.field, e.reason))?;
        let tz = engine()?.settings().timezone;
        Ok(crate::engine::schedule::fired_within(&s, tz, crate::engine::time::now(), std::time::Duration::from_secs(60)))
    }

    pub fn clear_worker_cache(identifier: Option<Text>) -> PhpResult<()> {
        let identifier = match opt(identifier) {
            Some(i) if !i.is_null() => Some(string_arg(i, "identifier")?),
            _ => None,
        };
        engine()?.invalidate_workers(identifier.as_deref());
        clear_instances();
        Ok(())
    }

    /// Pending tasks are cancelled at once; running ones stop at their next
    /// progress report. False when the task has already finished.
    pub fn cancel(id: Int) -> PhpResult<bool> {
        let id = id_arg(id.0, "id")?;
        let outcome = block_on(engine()?.cancel(id))?;
        Ok(!matches!(outcome, CancelOutcome::NotCancellable(_)))
    }

    /// Failed or cancelled tasks are queued again with one more attempt.
    /// False for tasks in any other state.
    pub fn retry(id: Int) -> PhpResult<bool> {
        let id = id_arg(id.0, "id")?;
        Ok(block_on(engine()?.retry(id))?)
    }

    /// The seed's progress shape, plus processed, total and log_lines.
    pub fn progress(id: Int) -> PhpResult<ArrayOut> {
        let id = id_arg(id.0, "id")?;
        let snap = block_on(engine()?.progress_of(id))?;
        json_array(json!({
            "success": true, "code": 200, "id": snap.id, "identifier": snap.identifier, "action": snap.action,
            "status": snap.status, "progress": snap.progress, "processed": snap.processed, "total": snap.total,
            "eta": snap.eta, "message": snap.message, "log_lines": snap.log_lines, "updated_at": snap.updated_at,
        }))
    }

    /// The REST API (`/stask/...`) for PHP hosts: takes the request as an
    /// array (method, path, query, body, form, files, headers, auth,
    /// base_url) and returns `['status', 'headers', 'body']`, or `'file'`
    /// instead of `'body'` for a download. See `src/php/http.rs`.
    pub fn handle_http(request: &ZendHashTable) -> PhpResult<ArrayOut> {
        ArrayOut::new(crate::php::http::handle(request)?)
    }

    pub fn version() -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    /// What `php --ri stask` shows: version, git commit, build date, the PHP
    /// API built for, database drivers, and the `stask.*` ini values.
    pub fn build_info() -> PhpResult<ZBox<ZendHashTable>> {
        crate::php::build_info::to_php()
    }

    /// Where the engine's log records go (task failed, retried, rescued;
    /// database unavailable and back; lease lost; worker process crashed):
    /// `$logger(string $level, string $message, array $context)`, or null
    /// for PHP's error_log. `$level` (error, warning, info, debug, off) sets
    /// the threshold; `STASK_LOG` overrides it. Returns the level in force.
    pub fn set_logger(logger: Option<&Zval>, level: Option<String>) -> PhpResult<String> {
        let sink = match logger {
            None => None,
            Some(z) if z.is_null() => None,
            Some(z) if ext_php_rs::types::ZendCallable::new(z).is_ok() => Some(z.shallow_clone()),
            Some(_) => return Err(crate::php::exceptions::invalid("logger", "must be a callable or null")),
        };
        crate::php::log::set_logger(sink, level.as_deref()).map_err(|e| crate::php::exceptions::invalid("level", e))?;
        Ok(crate::php::log::level_name().to_string())
    }

    /// Takes a Laravel database connection array plus `storage_path` and
    /// `base_path`; validated at once, connected on first use.
    pub fn configure(connection: &ZendHashTable) -> PhpResult<()> {
        let mut args = ConfigureArgs::new();
        for (key, v) in entries(connection, "connection")? {
            if v.is_null() || v.is_array() {
                // `options` and friends: accepted, not used.
                args.insert(key, String::new());
                continue;
            }
            let text = if let Some(b) = v.bool() { (b as i64).to_string() } else { v.coerce_to_string().unwrap_or_default() };
            args.insert(key, text);
        }
        context::configure(args)?;
        clear_instances();
        Ok(())
    }

    /// Creates or converts the tables on the configured connection.
    pub fn migrate() -> PhpResult<()> {
        Ok(block_on(engine()?.migrate())?)
    }

    /// The resolved configuration (no password).
    pub fn config() -> PhpResult<ArrayOut> {
        let s = context::settings()?;
        let dsn = match &s.dsn {
            crate::engine::config::Dsn::Sqlite { path } => format!("sqlite://{}", path.display()),
            other => format!("{}://…", other.driver_name()),
        };
        json_array(json!({
            "driver": s.dsn.driver_name(), "dsn": dsn, "storage_path": s.storage_path, "table_prefix": s.table_prefix,
            "base_path": s.base_path, "retry_base_delay": s.retry_base_delay.as_secs_f64(),
        }))
    }
}
