//! What the PHP face calls. Each method says which statuses it acts on.
//!
//! One `Engine` exists per process and configuration (see `runtime.rs`). It
//! owns the store, the progress of the tasks this process is running (with
//! their files, see `progress::RunningProgress`) and the worker cache.

use crate::engine::cache::{CacheStats, WorkerCache};
use crate::engine::config::{Dsn, Settings};
use crate::engine::progress::{ProgressDelta, ProgressFiles, ProgressSnapshot, RunningProgress};
use crate::engine::query::{Query, Table, Value};
use crate::engine::store::mysql::MySqlStore;
use crate::engine::store::postgres::PostgresStore;
use crate::engine::store::sqlite::SqliteStore;
use crate::engine::store::{
    AttemptRow, CancelOutcome, Created, Finished, Outcome, Store, StoreErrorKind, TaskClaimParams, TaskInsertManyParams,
};
use crate::engine::task::{NewTask, Status, TaskRow};
use crate::engine::time::{self, Timestamp};
use crate::engine::worker::{WorkerInfo, WorkerRow, SYSTEM_IDENTIFIER};
use crate::engine::{Error, Result};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a task of an inactive worker waits before it is looked at again.
pub const INACTIVE_RECHECK: Duration = Duration::from_secs(30);

/// Where a task's worker stands, as the executor needs to know it.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkerLookup {
    /// Built into the extension (`system`).
    Native,
    /// A registered PHP class, active.
    Class(WorkerRow),
    Inactive(WorkerRow),
    Missing,
}

/// How one attempt ended, as the executor saw it.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    Returned,
    /// A PHP Throwable (class and message) or an engine-side failure.
    Threw {
        class: String,
        message: String,
    },
    /// A failure that no retry can mend (a `PermanentFailureException`, an
    /// action method that does not exist): the task fails at once.
    Permanent {
        class: String,
        message: String,
    },
    /// The worker saw a cancel request and stopped.
    Cancelled,
    /// A fatal error, `exit()` or a limit: this attempt only.
    Aborted {
        reason: String,
    },
}

/// How long the worker loop keeps trying while the database is away
/// (restart, failover) before giving up.
pub const RECONNECT_FOR: Duration = Duration::from_secs(120);

/// Runs `op` again while the database is unreachable, with a growing pause:
/// a restarting server must not end the worker loop, and an outcome that
/// was computed must still be stored once the server is back.
/// A server connection within `connect_timeout`; a failure to reach the
/// server names the driver, the host and port, and why.
async fn connect_server<S>(
    settings: &Settings,
    url: &str,
    connect: impl std::future::Future<Output = crate::engine::store::StoreResult<S>>,
) -> Result<S> {
    let (host, port) = crate::engine::config::server_address(url);
    let driver = match settings.dsn {
        Dsn::Postgres { .. } => "PostgreSQL",
        _ => "MySQL",
    };
    let failed = |reason: String| Error::Connect { driver, host: host.clone(), port, reason };
    match tokio::time::timeout(settings.connect_timeout, connect).await {
        Err(_) => Err(failed(format!(
            "no answer within {} s (connect_timeout)",
            (settings.connect_timeout.as_secs_f64() * 10.0).round() / 10.0
        ))),
        Ok(Ok(store)) => Ok(store),
        Ok(Err(e)) if e.kind() == StoreErrorKind::Unavailable => Err(failed(match e.io_error() {
            Some(io) => io_reason(io),
            None => e.detail(),
        })),
        Ok(Err(e)) => Err(e.into()),
    }
}

/// The operating system's reason in a few words ("connection refused").
fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => "connection refused".into(),
        K::TimedOut => "connection timed out".into(),
        K::ConnectionReset => "connection reset by the server".into(),
        K::HostUnreachable => "host unreachable".into(),
        K::NetworkUnreachable => "network unreachable".into(),
        K::PermissionDenied => "permission denied".into(),
        K::NotFound => "no such socket or host".into(),
        _ => {
            let text = e.to_string();
            let text = text.split(" (os error").next().unwrap_or(&text).to_string();
            text.to_lowercase()
        }
    }
}

async fn while_unavailable<T, F, Fut>(op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<T, crate::engine::store::StoreError>>,
{
    retrying(op, &mut false).await
}

/// `while_unavailable` that also tells whether the database went away at
/// least once: a write whose answer was lost may have committed anyway.
async fn retrying<T, F, Fut>(mut op: F, interrupted: &mut bool) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<T, crate::engine::store::StoreError>>,
{
    let started = Instant::now();
    let mut pause = Duration::from_millis(100);
    let mut failed = false;
    loop {
        match op().await {
            Err(e) if e.kind() == crate::engine::store::StoreErrorKind::Unavailable && started.elapsed() < RECONNECT_FOR => {
                *interrupted = true;
                if !failed {
                    tracing::warn!(error = %e, "stask: database unavailable, retrying for up to {} s: {e}", RECONNECT_FOR.as_secs());
                    failed = true;
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            Ok(v) => {
                if failed {
                    tracing::warn!("stask: database available again after {:.1} s", started.elapsed().as_secs_f64());
                }
                return Ok(v);
            }
            Err(e) => {
                if failed {
                    tracing::error!(error = %e, "stask: database still unavailable after {} s, giving up: {e}", RECONNECT_FOR.as_secs());
                }
                return Err(e.into());
            }
        }
    }
}

pub struct Engine {
    store: Arc<dyn Store>,
    settings: Settings,
    progress: RunningProgress,
    cache: Mutex<WorkerCache<Option<WorkerRow>>>,
    held: Arc<crate::engine::lease::Held>,
    owner: String,
    /// Wakes this process's idle worker loop when it enqueues itself.
    wake: tokio::sync::Notify,
    /// (last claimed (priority rank, id), claims made): see `claim`.
    cursor: Mutex<((i64, i64), u64)>,
    /// Attempts that went wrong, by task, from `outcome` until `finish`
    /// stores them in the history.
    history: Mutex<HashMap<i64, AttemptRow>>,
    /// When a worker loop of this engine last ran the rescue pass.
    rescued_at: Mutex<Option<std::time::Instant>>,
}

impl Engine {
    /// Connects and, for the embedded SQLite default, migrates on first use.
    pub async fn open(settings: Settings) -> Result<Engine> {
        let prefix = &settings.table_prefix;
        let store: Arc<dyn Store> = match &settings.dsn {
            Dsn::Sqlite { path } => {
                // The folder and the file are storage: a failure names the path.
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                }
                match SqliteStore::connect(path, prefix).await {
                    Ok(s) => Arc::new(s),
                    Err(e) if e.kind() == StoreErrorKind::Unavailable => {
                        let source = match e.io_error() {
                            Some(io) => std::io::Error::new(io.kind(), io.to_string()),
                            None => std::io::Error::other(e.detail()),
                        };
                        return Err(Error::io(path, source));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            // Server databases are migrated explicitly (`sTask::migrate()`,
            // `php artisan migrate`), not on every connect.
            Dsn::Postgres { url } => {
                Arc::new(connect_server(&settings, url, PostgresStore::connect(url, prefix)).await?) as Arc<dyn Store>
            }
            Dsn::Mysql { url } => Arc::new(connect_server(&settings, url, MySqlStore::connect(url, prefix)).await?),
        };
        // STASK_HOST_ID names the host in leases when the hostname does not
        // tell hosts apart (containers, tests simulating several hosts).
        let host = std::env::var("STASK_HOST_ID")
            .ok()
            .filter(|h| !h.is_empty() && !h.contains(':'))
            .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_string()))
            .unwrap_or_else(|| "localhost".into());
        // host:pid:engine — unique even for two engines in one process.
        static ENGINES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = ENGINES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let owner = format!("{host}:{}:{n}", std::process::id());
        let held = Arc::new(crate::engine::lease::Held::default());
        tokio::spawn(crate::engine::lease::heartbeat(Arc::downgrade(&store), held.clone(), owner.clone(), settings.lease_for));
        Ok(Engine {
            held,
            progress: RunningProgress::new(
                Arc::clone(&store),
                ProgressFiles::new(settings.storage_path.clone()),
                settings.progress_interval,
            ),
            store,
            settings,
            cache: Mutex::new(WorkerCache::new(100, Duration::from_secs(300))),
            owner,
            wake: tokio::sync::Notify::new(),
            cursor: Mutex::new(((0, 0), 0)),
            history: Mutex::new(HashMap::new()),
            rescued_at: Mutex::new(None),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    pub async fn migrate(&self) -> Result<()> {
        Ok(self.store.migrate().await?)
    }

    // ---- tasks -------------------------------------------------------------

    /// Inserts a task. With a unique key, an active task (pending or
    /// running) with the same key is returned instead: the database's
    /// unique index decides, so two processes racing get one task.
    pub async fn create_task(&self, task: NewTask) -> Result<TaskRow> {
        task.validate()?;
        for _ in 0..3 {
            match self.store.task_insert(&task, time::now()).await {
                Ok(row) => {
                    self.wake.notify_waiters();
                    return Ok(row);
                }
                Err(e) if e.kind() == crate::engine::store::StoreErrorKind::Conflict && task.unique_key.is_some() => {
                    let key = task.unique_key.clone().unwrap_or_default();
                    let q = Query::new(Table::Tasks)
                        .where_eq("unique_key", Value::Text(key))?
                        .where_in(
                            "status",
                            [Status::Pending, Status::Preparing, Status::Running].iter().map(|s| Value::Int(s.code())).collect(),
                            false,
                        )?
                        .limit(1)?;
                    if let Some(existing) = self.store.task_select(&q).await?.into_iter().next() {
                        return Ok(existing);
                    }
                    // It finished between our insert and our read: insert again.
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::invalid("unique", "the unique key kept changing hands; try again"))
    }

    /// Inserts many tasks at once (`sTask::createMany`), each as
    /// `create_task` would: every task is validated before anything is
    /// written (the first bad one fails the call, named `tasks[i].field`),
    /// then all go in one transaction of multi-row statements. A task whose
    /// unique key an active task holds gets that task's id; later tasks of
    /// the batch with a key seen earlier in it get the earlier one's id.
    /// Idle workers are woken once. Answers in input order.
    pub async fn create_tasks(&self, tasks: Vec<NewTask>) -> Result<Vec<Created>> {
        for (i, t) in tasks.iter().enumerate() {
            t.validate().map_err(|e| match e {
                Error::InvalidArgument { field, reason } => Error::invalid(format!("tasks[{i}].{field}"), reason),
                other => other,
            })?;
        }
        // Duplicates within the batch collapse onto their first task: the
        // store is given distinct keys (one statement cannot both insert a
        // key and find it taken by itself).
        let mut first_with_key: HashMap<String, usize> = HashMap::new();
        let mut slot = Vec::with_capacity(tasks.len());
        let mut distinct = Vec::with_capacity(tasks.len());
        for t in tasks {
            if let Some(k) = &t.unique_key {
                if let Some(&d) = first_with_key.get(k) {
                    slot.push((d, true));
                    continue;
                }
                first_with_key.insert(k.clone(), distinct.len());
            }
            slot.push((distinct.len(), false));
            distinct.push(t);
        }
        let created = self.store.task_insert_many(&TaskInsertManyParams { tasks: &distinct, now: time::now() }).await?;
        if created.iter().any(|c| !c.existing) {
            self.wake.notify_waiters();
        }
        Ok(slot
            .into_iter()
            .map(|(d, duplicate)| Created { id: created[d].id, existing: created[d].existing || duplicate })
            .collect())
    }

    /// Waits up to `max` for new work: a task created by this process, a
    /// notification from the database (PostgreSQL), or the timeout.
    pub async fn wait_for_work(&self, max: Duration) -> Result<bool> {
        tokio::select! {
            _ = self.wake.notified() => Ok(true),
            woke = self.store.task_wait(max) => Ok(woke?),
        }
    }

    pub async fn find_task(&self, id: i64) -> Result<Option<TaskRow>> {
        Ok(self.store.task_get(id).await?)
    }

    pub async fn require_task(&self, id: i64) -> Result<TaskRow> {
        self.find_task(id).await?.ok_or(Error::TaskNotFound(id))
    }

    pub async fn select_tasks(&self, q: &Query) -> Result<Vec<TaskRow>> {
        Ok(self.store.task_select(q).await?)
    }

    pub async fn select_workers(&self, q: &Query) -> Result<Vec<WorkerRow>> {
        Ok(self.store.worker_select(q).await?)
    }

    pub async fn count(&self, q: &Query) -> Result<i64> {
        Ok(self.store.count(q).await?)
    }

    /// Deletes matched rows. Task progress files go with their tasks.
    pub async fn delete(&self, q: &Query) -> Result<u64> {
        let ids: Vec<i64> = if q.table == Table::Tasks {
            self.store.task_select(q).await?.into_iter().map(|t| t.id).collect()
        } else {
            Vec::new()
        };
        let n = self.store.delete(q).await?;
        for id in ids {
            let _ = self.progress.files().remove(id);
        }
        if q.table == Table::Workers {
            self.invalidate_workers(None);
        }
        Ok(n)
    }

    /// Writes whitelisted columns; `set` columns were checked by the caller
    /// with `Query::writable_column`.
    pub async fn update(&self, q: &Query, set: &[(&'static str, Value)]) -> Result<u64> {
        if set.is_empty() {
            return Ok(0);
        }
        for (col, v) in set {
            validate_column_value(q.table, col, v)?;
        }
        let n = self.store.update(q, set, time::now()).await?;
        if q.table == Table::Workers {
            self.invalidate_workers(None);
        }
        Ok(n)
    }

    /// Pending tasks in claim order (priority, then age); scheduled ones
    /// that are not due yet are left out.
    pub async fn pending_tasks(&self, limit: i64) -> Result<Vec<TaskRow>> {
        if limit < 0 {
            return Err(Error::invalid("limit", format!("must not be negative, got {limit}")));
        }
        let now = Value::Text(time::to_db(&time::now()));
        let q = Query::new(Table::Tasks).where_eq("status", Value::Int(Status::Pending.code()))?.where_op(
            "available_at",
            crate::engine::query::Op::Le,
            now,
        )?;
        // Ordered in SQL by the claim's own key, so the first `limit` rows
        // are exactly the next ones a worker would claim, however long the
        // queue in front of a high-priority task.
        let q = q.order_by_claim_key().limit(limit)?;
        Ok(self.store.task_select(&q).await?)
    }

    /// Edge Claimed: up to `limit` due tasks for this process.
    ///
    /// Claims continue after the last task this process took (its cursor),
    /// so they stay cheap while a long queue drains. Tasks behind the cursor
    /// (retried, released, or a higher priority queued later) are found by
    /// a claim from the start: whenever the cursor finds nothing, and every
    /// `FULL_CLAIM_EVERY` claims. Not when it finds fewer than asked: that is
    /// the common case of a worker woken for one new task, and a second
    /// round trip there was a third of its pickup time.
    pub async fn claim(&self, limit: i64) -> Result<Vec<TaskRow>> {
        const FULL_CLAIM_EVERY: u64 = 8;
        let now = time::now();
        let limit = limit.clamp(1, 1000);
        let (cursor, n) = {
            let mut c = self.cursor.lock();
            c.1 += 1;
            *c
        };
        let from_cursor = cursor != (0, 0) && n % FULL_CLAIM_EVERY != 0;
        let mut p = TaskClaimParams {
            now,
            limit,
            owner: self.owner.clone(),
            lease_expires_at: now + chrono::Duration::from_std(self.settings.lease_for).unwrap_or_default(),
            after: if from_cursor { cursor } else { (0, 0) },
        };
        let mut interrupted = false;
        let mut tasks = retrying(|| self.store.task_claim(&p), &mut interrupted).await?;
        if from_cursor && tasks.is_empty() {
            p.after = (0, 0);
            p.limit = limit - tasks.len() as i64;
            tasks.extend(retrying(|| self.store.task_claim(&p), &mut interrupted).await?);
            tasks.sort_by_key(|t| (crate::engine::task::Priority::rank_of_name(&t.priority), t.id));
        }
        if let Some(last) = tasks.last() {
            self.cursor.lock().0 = (crate::engine::task::Priority::rank_of_name(&last.priority), last.id);
        }
        for t in &tasks {
            self.held.add(t.id);
        }
        if interrupted {
            self.release_lost_claims().await;
        }
        Ok(tasks)
    }

    /// A claim can commit on the server while its answer is lost (the
    /// connection dropped by a restart between COMMIT and the reply): those
    /// rows carry this process's lease but nobody here runs them, and they
    /// would wait for the lease to expire, or forever when every worker
    /// stops once the queue is empty. They go back to pending at once, the
    /// attempt given back. Returns how many.
    pub async fn release_lost_claims(&self) -> usize {
        let q = Query::new(Table::Tasks).where_eq("lease_owner", Value::Text(self.owner.clone())).and_then(|q| {
            q.where_in("status", vec![Value::Int(Status::Preparing.code()), Value::Int(Status::Running.code())], false)
        });
        let mine = match q {
            Ok(q) => while_unavailable(|| self.store.task_select(&q)).await,
            Err(e) => Err(e),
        };
        let lost: Vec<Outcome> = match mine {
            Ok(rows) => rows
                .into_iter()
                .filter(|t| !self.held.contains(t.id))
                .map(|t| Outcome::Released {
                    id: t.id,
                    message: "Released: its claim was interrupted by a database outage".into(),
                    available_at: time::now(),
                })
                .collect(),
            Err(e) => {
                tracing::warn!("stask: could not look for claims lost in the outage (their leases will expire): {e}");
                return 0;
            }
        };
        if lost.is_empty() {
            return 0;
        }
        match while_unavailable(|| self.store.task_finish_many(&lost, time::now())).await {
            Ok(_) => {
                tracing::warn!("stask: {} task(s) claimed while the database went away were given back to the queue", lost.len());
                lost.len()
            }
            Err(e) => {
                tracing::warn!("stask: could not give back claims lost in the outage (their leases will expire): {e}");
                0
            }
        }
    }

    /// Claims one specific pending task (for `sTask::execute($task)`).
    pub async fn claim_one(&self, id: i64) -> Result<Option<TaskRow>> {
        let now = time::now();
        let p = TaskClaimParams {
            now,
            limit: 1,
            owner: self.owner.clone(),
            lease_expires_at: now + chrono::Duration::from_std(self.settings.lease_for).unwrap_or_default(),
            after: (0, 0),
        };
        let task = self.store.task_claim_id(id, &p).await?;
        if let Some(t) = &task {
            self.held.add(t.id);
        }
        Ok(task)
    }

    /// Which worker runs `identifier`, through the worker cache.
    pub async fn lookup_worker(&self, identifier: &str) -> Result<WorkerLookup> {
        if identifier == SYSTEM_IDENTIFIER {
            return Ok(WorkerLookup::Native);
        }
        let row = self.worker(identifier).await?;
        Ok(match row {
            None => WorkerLookup::Missing,
            Some(w) if w.active => WorkerLookup::Class(w),
            Some(w) => WorkerLookup::Inactive(w),
        })
    }

    /// Turns what happened in one attempt into the row's next state.
    pub fn outcome(&self, task: &TaskRow, attempt: Attempt, duration: f64, peak_memory: i64, unit: f64) -> Outcome {
        let outcome = self.outcome_of(task, &attempt, duration, peak_memory, unit);
        if let Some(row) = history_row(task, &attempt, &outcome, &self.owner, duration, peak_memory) {
            self.history.lock().insert(task.id, row);
        }
        outcome
    }

    /// The stack trace of the attempt `outcome` just judged (paths made
    /// relative to the application, bounded), for the history.
    pub fn attach_trace(&self, task_id: i64, trace: &str) {
        if let Some(row) = self.history.lock().get_mut(&task_id) {
            row.trace = Some(relative_trace(trace, &self.settings.base_path));
        }
    }

    /// A task's attempts: those the history kept (the ones that went wrong)
    /// and the latest, read from the task row when the history has none
    /// for it (a completed task, one a worker ended itself, one running).
    pub async fn attempts(&self, task: &TaskRow) -> Result<Vec<AttemptRow>> {
        let mut rows = self.store.attempts_of(task.id).await?;
        let status = Status::from_code(task.status);
        let outcome = match status {
            Some(Status::Completed) => Some("completed"),
            Some(Status::Failed) => Some("failed"),
            Some(Status::Cancelled) if task.started_at.is_some() => Some("cancelled"),
            Some(Status::Running) | Some(Status::Preparing) => Some("running"),
            _ => None,
        };
        if let Some(outcome) = outcome.filter(|_| task.attempts > 0 && !rows.iter().any(|r| r.attempt == task.attempts)) {
            rows.push(AttemptRow {
                task_id: task.id,
                attempt: task.attempts,
                started_at: task.started_at,
                finished_at: task.finished_at.or(task.updated_at).unwrap_or_else(time::now),
                duration: task.duration,
                peak_memory: task.peak_memory,
                owner: task.lease_owner.clone(),
                outcome: outcome.into(),
                error_class: None,
                message: task.message.clone(),
                trace: None,
            });
        }
        Ok(rows)
    }

    fn outcome_of(&self, task: &TaskRow, attempt: &Attempt, duration: f64, peak_memory: i64, unit: f64) -> Outcome {
        let id = task.id;
        let attempt = attempt.clone();
        match attempt {
            Attempt::Returned => Outcome::Completed { id, message: "Task completed successfully".into(), duration, peak_memory },
            Attempt::Cancelled => Outcome::Cancelled { id, message: "Cancelled".into(), duration, peak_memory },
            Attempt::Threw { class, message } => {
                let error = if class.is_empty() { message.clone() } else { format!("{class}: {message}") };
                self.failure(task, error, duration, peak_memory, unit)
            }
            Attempt::Aborted { reason } => self.failure(task, reason, duration, peak_memory, unit),
            Attempt::Permanent { class, message } => {
                let error = if class.is_empty() { message } else { format!("{class}: {message}") };
                tracing::error!(
                    task = id,
                    worker = task.identifier.as_str(),
                    action = task.action.as_str(),
                    error = error.as_str(),
                    "stask: task #{id} ({}/{}) failed permanently, not retried: {}",
                    task.identifier,
                    task.action,
                    truncate(&error, 1000)
                );
                Outcome::Failed {
                    id,
                    message: format!("Failed: {} (not retried)", truncate(&error, 1000)),
                    error,
                    duration,
                    peak_memory,
                }
            }
        }
    }

    fn failure(&self, task: &TaskRow, error: String, duration: f64, peak_memory: i64, unit: f64) -> Outcome {
        let now = time::now();
        let decision = crate::engine::retry::decide(task.attempts, task.max_attempts, now, self.settings.retry_base_delay, unit);
        match &decision {
            crate::engine::retry::Decision::RetryAt(at) => tracing::warn!(
                task = task.id,
                worker = task.identifier.as_str(),
                action = task.action.as_str(),
                error = error.as_str(),
                "stask: task #{} ({}/{}) failed, attempt {} of {}; retrying at {}: {}",
                task.id,
                task.identifier,
                task.action,
                task.attempts,
                task.max_attempts,
                time::iso8601(at),
                truncate(&error, 1000)
            ),
            crate::engine::retry::Decision::Fail => tracing::error!(
                task = task.id,
                worker = task.identifier.as_str(),
                action = task.action.as_str(),
                error = error.as_str(),
                "stask: task #{} ({}/{}) failed after {} attempt(s): {}",
                task.id,
                task.identifier,
                task.action,
                task.attempts,
                truncate(&error, 1000)
            ),
        }
        match decision {
            crate::engine::retry::Decision::RetryAt(at) => Outcome::Retry {
                id: task.id,
                message: format!(
                    "Attempt {} of {} failed: {}; retrying at {}",
                    task.attempts,
                    task.max_attempts,
                    truncate(&error, 1000),
                    time::iso8601(&at)
                ),
                error,
                available_at: at,
                duration,
                peak_memory,
            },
            crate::engine::retry::Decision::Fail => Outcome::Failed {
                id: task.id,
                message: format!("Failed: {}", truncate(&error, 1000)),
                error: if task.attempts > 1 {
                    format!("{error} (after {} attempts; max_attempts reached)", task.attempts)
                } else {
                    error
                },
                duration,
                peak_memory,
            },
        }
    }

    /// Edge WorkerMissing: fails at once, saying how to fix it.
    pub fn missing_worker_outcome(&self, task: &TaskRow) -> Outcome {
        let msg = format!(
            "No worker is registered with identifier '{}'. Register its class with sTask::registerWorker(MyWorker::class) \
             or run sTask::discoverWorkers(), activate it, then retry task #{}.",
            task.identifier, task.id
        );
        tracing::error!(
            task = task.id,
            worker = task.identifier.as_str(),
            action = task.action.as_str(),
            "stask: task #{} ({}/{}) failed: no worker is registered with identifier '{}'",
            task.id,
            task.identifier,
            task.action,
            task.identifier
        );
        Outcome::Failed { id: task.id, message: msg.clone(), error: msg, duration: 0.0, peak_memory: 0 }
    }

    /// Edge WorkerInactive: the task waits, with a message saying why.
    pub fn inactive_worker_outcome(&self, task: &TaskRow) -> Outcome {
        let at = time::now() + chrono::Duration::from_std(INACTIVE_RECHECK).unwrap_or_default();
        Outcome::Released {
            id: task.id,
            message: format!(
                "Waiting: worker '{}' is inactive. Activate it (sTask::activateWorker('{}')) and the task will run.",
                task.identifier, task.identifier
            ),
            available_at: at,
        }
    }

    /// Applies attempt outcomes in one transaction, finalises progress, and
    /// says where each task ended up (a worker may have decided itself).
    pub async fn finish(&self, outcomes: &[Outcome]) -> Result<Vec<Finished>> {
        if outcomes.is_empty() {
            return Ok(Vec::new());
        }
        self.held.finishing(outcomes.iter().map(Outcome::id));
        let finished = while_unavailable(|| self.store.task_finish_many(outcomes, time::now())).await?;
        for o in outcomes {
            self.held.remove(o.id());
        }
        // Nearly always empty: only attempts that went wrong are in it.
        let kept: Vec<AttemptRow> = {
            let mut h = self.history.lock();
            if h.is_empty() {
                Vec::new()
            } else {
                outcomes.iter().filter_map(|o| h.remove(&o.id())).collect()
            }
        };
        // The history must never cost a task its end: the outcome is
        // stored already, and a lost history row is only logged.
        if !kept.is_empty() {
            if let Err(e) = self.store.attempt_insert_many(&kept).await {
                tracing::warn!("stask: could not keep the history of {} attempt(s): {e}", kept.len());
            }
        }
        for f in &finished {
            self.progress.finish(f).await;
        }
        Ok(finished)
    }

    /// Pending tasks are cancelled at once; running ones are flagged and stop
    /// at their next progress report. False when the task already finished.
    ///
    /// The outcome says which happened: read back later, a requested
    /// cancel may already show `cancelled` (the worker saw it at once).
    pub async fn cancel(&self, id: i64) -> Result<CancelOutcome> {
        match self.store.task_cancel(id, time::now()).await? {
            CancelOutcome::Cancelled => {
                self.progress.write_final(id, Status::Cancelled, "Cancelled");
                Ok(CancelOutcome::Cancelled)
            }
            CancelOutcome::NotFound => Err(Error::TaskNotFound(id)),
            other => Ok(other),
        }
    }

    /// Failed or cancelled tasks go back to pending with one more attempt.
    /// False when the task is in another state.
    pub async fn retry(&self, id: i64) -> Result<bool> {
        if self.store.task_retry(id, time::now()).await? {
            let _ = self.progress.files().remove(id);
            return Ok(true);
        }
        self.require_task(id).await?;
        Ok(false)
    }

    // ---- progress (engine::progress::RunningProgress) -----------------------

    /// Starts tracking a claimed task's progress.
    pub fn progress_begin(&self, task: &TaskRow) {
        self.progress.begin(task);
    }

    /// A worker's `pushProgress`. Returns true when a cancel was requested.
    pub async fn progress_push(&self, id: i64, delta: &ProgressDelta) -> Result<bool> {
        self.progress.push(id, delta).await
    }

    /// Whether a cancel was requested for a running task (`isCancelled()`).
    pub async fn cancel_requested(&self, id: i64) -> Result<bool> {
        Ok(self.require_task(id).await?.cancel_requested)
    }

    /// The seed's progress shape for any task.
    pub async fn progress_of(&self, id: i64) -> Result<ProgressSnapshot> {
        let task = self.require_task(id).await?;
        Ok(self.progress.snapshot_of(&task))
    }

    // ---- workers -----------------------------------------------------------

    /// A worker row by identifier, through the cache.
    pub async fn worker(&self, identifier: &str) -> Result<Option<WorkerRow>> {
        if let Some(hit) = self.cache.lock().get(identifier, Instant::now()) {
            return Ok(hit);
        }
        let row = self.store.worker_get(identifier).await?;
        self.cache.lock().insert(identifier.to_string(), row.clone(), Instant::now());
        Ok(row)
    }

    pub async fn register_worker(&self, info: &WorkerInfo) -> Result<Option<WorkerRow>> {
        crate::engine::task::validate_name("identifier", &info.identifier)?;
        let row = self.store.worker_insert(info, time::now()).await?;
        self.invalidate_workers(Some(&info.identifier));
        Ok(row)
    }

    pub async fn update_worker_info(&self, id: i64, info: &WorkerInfo) -> Result<bool> {
        let ok = self.store.worker_update_info(id, info, time::now()).await?;
        self.invalidate_workers(None);
        Ok(ok)
    }

    /// False when no worker has this identifier.
    pub async fn set_worker_active(&self, identifier: &str, active: bool) -> Result<bool> {
        let q = Query::new(Table::Workers).where_eq("identifier", Value::Text(identifier.to_string()))?;
        let n = self.store.update(&q, &[("active", Value::Bool(active))], time::now()).await?;
        self.invalidate_workers(Some(identifier));
        if active && n > 0 {
            // Tasks that were waiting for this worker may run now.
            let q = Query::new(Table::Tasks)
                .where_eq("identifier", Value::Text(identifier.to_string()))?
                .where_eq("status", Value::Int(Status::Pending.code()))?;
            self.store.update(&q, &[("status", Value::Int(Status::Pending.code()))], time::now()).await?;
        }
        Ok(n > 0)
    }

    pub fn invalidate_workers(&self, identifier: Option<&str>) {
        let mut c = self.cache.lock();
        match identifier {
            Some(i) => {
                c.invalidate(i);
            }
            None => {
                c.clear();
            }
        }
    }

    pub fn cache_stats(&self) -> CacheStats {
        self.cache.lock().stats()
    }

    /// Changes whenever a cached worker may have changed, so the PHP face
    /// can drop the worker instances it keeps.
    pub fn cache_generation(&self) -> u64 {
        self.cache.lock().generation()
    }

    pub fn files(&self) -> &ProgressFiles {
        self.progress.files()
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn now(&self) -> Timestamp {
        time::now()
    }

    /// Whether this process is the maintenance leader of its database now:
    /// one rescuer per database, whatever the number of hosts and workers.
    /// The leadership is a lease renewed by each maintenance pass.
    pub async fn lead_maintenance(&self) -> Result<bool> {
        let now = time::now();
        let until = now + chrono::Duration::from_std(self.settings.lease_for).unwrap_or_default();
        Ok(self.store.leader_acquire("maintenance", &self.owner, until, now).await?)
    }

    /// Whether a worker loop should run the rescue pass now, marked as run:
    /// at most once per `every` for this engine, however many loops or
    /// `work()` / `processPendingTasks()` calls it serves. On PostgreSQL the
    /// pass reads the whole task table (no index holds `status`: see
    /// migrations/postgres/0002_indexes.sql), so a process calling `work()`
    /// again and again must not pay it each time.
    pub fn rescue_due(&self, every: std::time::Duration) -> bool {
        let mut last = self.rescued_at.lock();
        if last.is_some_and(|t| t.elapsed() < every) {
            return false;
        }
        *last = Some(std::time::Instant::now());
        true
    }

    /// Edge LeaseExpired for every task whose owner stopped heartbeating
    /// (only on the maintenance leader; others return an empty report).
    pub async fn rescue_expired(&self) -> Result<crate::engine::maintenance::rescuer::RescueReport> {
        if !self.lead_maintenance().await? {
            return Ok(Default::default());
        }
        let config = crate::engine::maintenance::rescuer::RescuerConfig {
            retry_base_delay: self.settings.retry_base_delay,
            ..Default::default()
        };
        let report = crate::engine::maintenance::rescuer::Rescuer::new(self, config)?.run_once(time::now()).await?;
        // Statistics ride along at the rescuer's cadence. A failure here
        // must not stop the worker that happens to lead.
        let forget = time::now() - chrono::Duration::from_std(crate::engine::processes::FORGET_AFTER).unwrap_or_default();
        if let Err(e) = self.store.process_expire(forget).await {
            tracing::warn!("stask: could not delete gone worker processes from the registry: {e}");
        }
        let statistics = crate::engine::maintenance::statistics::Statistics::new(self, Default::default())?;
        if let Err(e) = statistics.run_once().await {
            tracing::warn!("stask: could not refresh the planner statistics: {e}");
        }
        Ok(report)
    }

    /// Registers this engine's worker loop as a live process (heartbeat on
    /// the runtime until the returned `Live` stops or drops).
    pub async fn process_start(&self) -> Result<crate::engine::processes::Live> {
        crate::engine::processes::Live::start(Arc::clone(&self.store), Arc::clone(&self.held), &self.owner).await
    }

    /// Every registered worker process, gone ones included (see
    /// `processes::is_alive`).
    pub async fn processes(&self) -> Result<Vec<crate::engine::store::ProcessRow>> {
        Ok(self.store.processes().await?)
    }

    /// Worker processes alive now (heartbeat under `processes::ALIVE_FOR`).
    pub async fn processes_alive(&self) -> Result<usize> {
        Ok(crate::engine::processes::alive_count(&self.store.processes().await?, time::now()))
    }

    /// Creates the tasks of every worker schedule due now (any process may
    /// call it at any time: each slot's task is created once per database).
    pub async fn run_schedules(&self) -> Result<crate::engine::maintenance::scheduler::SchedulerReport> {
        use crate::engine::maintenance::scheduler::{Scheduler, SchedulerConfig};
        let config = SchedulerConfig { timezone: self.settings.timezone, grace: crate::engine::schedule::DEFAULT_GRACE };
        let report = Scheduler::new(self, config).run_once(time::now()).await?;
        for (worker, slot, id) in &report.created {
            tracing::info!(
                task = *id,
                worker = worker.as_str(),
                "stask: scheduled task #{id} created for worker '{worker}' (slot {slot})"
            );
        }
        if !report.created.is_empty() {
            self.wake.notify_waiters();
        }
        Ok(report)
    }
}

impl<'a> From<&'a Engine> for crate::engine::maintenance::Scope<'a> {
    fn from(e: &'a Engine) -> Self {
        crate::engine::maintenance::Scope {
            store: &*e.store,
            files: e.progress.files(),
            settings: &e.settings,
            worker_cache: &e.cache,
        }
    }
}

/// Most bytes of a stack trace the history keeps.
const MAX_TRACE: usize = 8 * 1024;

/// The history row of an attempt that went wrong (None for one that
/// completed, or a hand-back that did not count as an attempt).
fn history_row(task: &TaskRow, attempt: &Attempt, o: &Outcome, owner: &str, duration: f64, peak: i64) -> Option<AttemptRow> {
    let (outcome, class, message) = match (attempt, o) {
        (Attempt::Returned, _) | (_, Outcome::Released { .. }) => return None,
        (Attempt::Cancelled, _) => ("cancelled", None, "Cancelled".to_string()),
        (Attempt::Threw { class, message } | Attempt::Permanent { class, message }, o) => {
            (if matches!(o, Outcome::Retry { .. }) { "retried" } else { "failed" }, Some(class.clone()), message.clone())
        }
        (Attempt::Aborted { reason }, o) => {
            (if matches!(o, Outcome::Retry { .. }) { "retried" } else { "failed" }, None, reason.clone())
        }
    };
    Some(AttemptRow {
        task_id: task.id,
        attempt: task.attempts,
        started_at: task.started_at,
        finished_at: time::now(),
        duration: Some(duration),
        peak_memory: Some(peak),
        owner: Some(owner.to_string()),
        outcome: outcome.into(),
        error_class: class.filter(|c| !c.is_empty()),
        message: Some(truncate(&message, 4000).to_string()),
        trace: None,
    })
}

/// A trace with the application's folder cut from its paths, bounded.
fn relative_trace(trace: &str, base: &std::path::Path) -> String {
    let base = base.to_string_lossy();
    let base = base.trim_end_matches('/');
    let text = if base.is_empty() { trace.to_string() } else { trace.replace(&format!("{base}/"), "") };
    truncate(&text, MAX_TRACE).to_string()
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Values written through `update()`: the engine refuses what would break
/// its own invariants (an unknown status code, a priority it cannot order).
/// What a text column can hold, as the migrations declare it: VARCHAR(n)
/// counts characters (PostgreSQL, MySQL); MySQL's TEXT holds 65,535 bytes.
/// Longer text is a database error on the server backends only (SQLite
/// stores anything), so it is refused alike everywhere.
fn text_limit(table: Table, col: &str) -> Option<(usize, &'static str)> {
    match (table, col) {
        (Table::Workers, "uuid") => Some((36, "characters")),
        (Table::Workers, "identifier" | "scope" | "class" | "title")
        | (Table::Tasks, "identifier" | "action" | "priority" | "lease_owner" | "unique_key") => Some((255, "characters")),
        (Table::Workers, "description" | "icon") | (Table::Tasks, "message" | "last_error") => Some((65_535, "bytes")),
        _ => None,
    }
}

fn validate_column_value(table: Table, col: &str, v: &Value) -> Result<()> {
    if let (Value::Text(s), Some((max, unit))) = (v, text_limit(table, col)) {
        let len = if unit == "bytes" { s.len() } else { s.chars().count() };
        if len > max {
            return Err(Error::invalid(col, format!("must be at most {max} {unit}, got {len}")));
        }
    }
    match (table, col, v) {
        // PostgreSQL's text cannot hold NUL: refused alike on every backend.
        (_, _, Value::Text(s)) if s.contains('\0') => Err(Error::invalid(col, "must not contain a NUL byte")),
        (Table::Tasks, "status", Value::Int(code)) if Status::from_code(*code).is_none() => Err(Error::invalid(
            "status",
            format!(
                "{code} is not a task status; use 10 pending, 15 preparing, 20 running, 30 completed, 40 failed or 50 cancelled"
            ),
        )),
        (Table::Tasks, "status", Value::Int(_)) => Ok(()),
        (Table::Tasks, "status", other) => Err(Error::invalid("status", format!("must be an integer, got {other:?}"))),
        (Table::Tasks, "priority", Value::Text(p)) if crate::engine::task::Priority::parse(p).is_some() => Ok(()),
        (Table::Tasks, "priority", other) => {
            Err(Error::invalid("priority", format!("must be 'low', 'normal' or 'high', got {other:?}")))
        }
        (Table::Tasks, "progress", Value::Int(p)) if !(0..=100).contains(p) => {
            Err(Error::invalid("progress", format!("must be between 0 and 100, got {p}")))
        }
        (Table::Tasks, "identifier" | "action", Value::Text(s)) => crate::engine::task::validate_name(col, s),
        (Table::Tasks, "identifier" | "action", _) => Err(Error::invalid(col, "must be a non-empty string")),
        (Table::Tasks, "attempts" | "max_attempts" | "progress", v) if !matches!(v, Value::Int(_)) => {
            Err(Error::invalid(col, format!("must be an integer, got {v:?}")))
        }
        // The same range as a new task's; and INTEGER columns hold 32 bits
        // (out of range is a database error on PostgreSQL and MySQL only).
        (Table::Tasks, "max_attempts", Value::Int(n)) if !(1..=1000).contains(n) => {
            Err(Error::invalid("max_attempts", format!("must be between 1 and 1000, got {n}")))
        }
        (Table::Tasks, "attempts", Value::Int(n)) if !(0..=i64::from(i32::MAX)).contains(n) => {
            Err(Error::invalid("attempts", format!("must be between 0 and {}, got {n}", i32::MAX)))
        }
        (Table::Workers, "position" | "hidden", Value::Int(n)) if i32::try_from(*n).is_err() => {
            Err(Error::invalid(col, format!("must fit in 32 bits, got {n}")))
        }
        // A worker is found by its identifier: the same rule as a task's.
        (Table::Workers, "identifier", Value::Text(s)) => crate::engine::task::validate_name(col, s),
        (Table::Workers, "identifier", _) => Err(Error::invalid(col, "must be a non-empty string")),
        _ => Ok(()),
    }
}
