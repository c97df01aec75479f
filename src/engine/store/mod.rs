//! The seam to the database: every query the engine runs is a method of
//! `Store`. Internal and reshaped freely.
//!
//! One implementation serves every backend (`generic::SqlStore`): the
//! statements are written once (`statements.rs`, named parameters), a
//! `dialect::Dialect` says what the backend's SQL differs in, rows are read
//! once (`rows.rs`), and `sqlite.rs`, `postgres.rs` and `mysql.rs` implement
//! only the execution seam (`generic::Backend`) and the operations whose
//! SQL or round trips truly differ (claim, insert many, finish a batch,
//! migrate, wait/notify).
//!
//! Methods are named subject first (`task_claim`, `worker_insert`), take one
//! params struct where they need more than an id, and receive `now` from the
//! caller so the clock belongs to the engine and to tests.

pub mod dialect;
pub mod generic;
pub mod mysql;
pub mod postgres;
pub mod rows;
pub mod sql;
pub mod sqlite;
pub mod statements;

use crate::engine::query::{Query, Value};
use crate::engine::task::{NewTask, TaskRow};
use crate::engine::time::Timestamp;
use crate::engine::worker::{WorkerInfo, WorkerRow};
use async_trait::async_trait;

/// What went wrong in the database, classified by meaning so callers branch
/// on `kind()` and never on a vendor code.
#[derive(Debug, thiserror::Error)]
#[error("database error: {source}")]
pub struct StoreError {
    kind: StoreErrorKind,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreErrorKind {
    /// A unique key was violated.
    Conflict,
    /// The database was busy (SQLite busy/locked, deadlock, serialization
    /// failure): the operation may be retried.
    Busy,
    /// The database could not be reached or opened.
    Unavailable,
    /// A table the query needs does not exist (the migrations never ran).
    SchemaMissing,
    Other,
}

impl StoreError {
    pub fn new(kind: StoreErrorKind, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StoreError { kind, source: source.into() }
    }

    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }

    /// The driver's own words, without sqlx's "error returned from
    /// database: " preamble.
    pub fn detail(&self) -> String {
        let text = self.source.to_string();
        text.strip_prefix("error returned from database: ").map(str::to_string).unwrap_or(text)
    }

    /// The operating system's error under this one, when there is one (a
    /// refused or unreachable connection).
    pub fn io_error(&self) -> Option<&std::io::Error> {
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(self.source.as_ref());
        while let Some(e) = cur {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                return Some(io);
            }
            if let Some(sqlx::Error::Io(io)) = e.downcast_ref::<sqlx::Error>() {
                return Some(io);
            }
            cur = e.source();
        }
        None
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone)]
pub struct TaskClaimParams {
    pub now: Timestamp,
    pub limit: i64,
    /// host:pid:worker, recorded on each claimed row.
    pub owner: String,
    pub lease_expires_at: Timestamp,
    /// Only tasks after this (priority rank, id): the claiming process's
    /// cursor, so a claim does not wade through the index entries of tasks
    /// it already took (PostgreSQL and InnoDB keep them until vacuum or
    /// purge). (0, 0) means from the start.
    pub after: (i64, i64),
}

impl TaskClaimParams {
    /// A claim of 100 from the start, for `Store::explain_claim`.
    pub fn explain() -> TaskClaimParams {
        let now = crate::engine::time::now();
        TaskClaimParams { now, limit: 100, owner: "explain".into(), lease_expires_at: now, after: (0, 0) }
    }
}

/// What `task_insert_many` inserts: tasks already validated, whose unique
/// keys are distinct (the engine collapses duplicates of a batch first).
#[derive(Debug, Clone)]
pub struct TaskInsertManyParams<'a> {
    pub tasks: &'a [NewTask],
    pub now: Timestamp,
}

/// One task of `task_insert_many`'s answer, in the order of its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Created {
    pub id: i64,
    /// Not inserted: an active task (pending, preparing, running) held the
    /// unique key, and `id` is that task.
    pub existing: bool,
}

/// Bind parameters per row of a multi-row task insert: the columns of
/// `TASK_INSERT_COLUMNS` (attempts is a literal 0; created_at and
/// updated_at share `now` where the dialect can reuse a parameter, but
/// SQLite's and MySQL's positional `?` cannot, so every dialect binds 16).
pub const TASK_INSERT_PARAMS: usize = 16;

/// The columns a new task row is given, in the order the dialects bind them.
pub const TASK_INSERT_COLUMNS: &str = "identifier, action, status, message, started_by, meta, result, start_at, attempts, \
     max_attempts, priority, priority_rank, progress, created_at, updated_at, available_at, unique_key";

/// Bytes of bound text per chunk of a multi-row insert. Parameter limits
/// alone would let 4,000 rows of 1 MB `data` each into one statement: far
/// past MySQL's `max_allowed_packet` (16 MB by default on MariaDB 10.11,
/// 64 MB on MySQL 8) and a lot of memory held at once on every backend.
pub const INSERT_CHUNK_BYTES: usize = 4 << 20;

/// A pooled server connection idle at least this long is pinged before it
/// is used again; one used more recently is not. sqlx pings every connection
/// it hands out unless told otherwise: one more round trip before every
/// statement, which on a single `create()` is a third of its time. A
/// connection that sat idle may have been closed meanwhile (a restart,
/// `wait_timeout`, a proxy), and the ping swaps it for a new one unseen;
/// one used within the last second can only be stale after an outage
/// shorter than that, and its error then reaches the caller as the error
/// of a statement in flight during the outage does.
pub const PING_IF_IDLE_FOR: std::time::Duration = std::time::Duration::from_secs(1);

/// Columns the engine adds to worker tables created by the PHP package
/// (SQLite, PostgreSQL; MySQL needs its defaults in parentheses).
pub const ENGINE_WORKER_COLUMNS: &[(&str, &str)] = &[
    ("title", "VARCHAR(255) NOT NULL DEFAULT ''"),
    ("description", "TEXT NOT NULL DEFAULT ''"),
    ("icon", "TEXT NOT NULL DEFAULT ''"),
];

/// Converts the rows of a task table written by the PHP package, which used
/// 10 queued, 30 preparing, 50 running, 80 completed, 100 failed. One CASE
/// maps every row from its old code at once, so no code is converted twice
/// (30 → 15 while 80 → 30). `fallback` ends the COALESCE of when a task
/// becomes due (`, UTC_TIMESTAMP(6)` on MySQL, whose rows need one).
pub fn convert_legacy_rows(tasks: &str, fallback: &str) -> String {
    format!(
        "UPDATE {tasks} SET status = CASE status WHEN 30 THEN 15 WHEN 50 THEN 20 WHEN 80 THEN 30 \
         WHEN 100 THEN 40 ELSE status END, available_at = COALESCE(start_at, created_at{fallback}), \
         priority_rank = CASE priority WHEN 'high' THEN 1 WHEN 'low' THEN 10 ELSE 5 END"
    )
}

/// The statements of a migration file, comments removed, prefix applied.
pub fn migration_statements(file: &str, prefix: &str) -> Vec<String> {
    let text: String = file
        .lines()
        .map(|l| match l.find("--") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
        .replace("{prefix}", prefix);
    text.split(';').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

/// When a task may first be claimed: its `start_at`, or now.
pub fn available_at(t: &NewTask, now: Timestamp) -> Timestamp {
    match t.start_at {
        Some(s) if s > now => s,
        _ => now,
    }
}

/// Splits `tasks` into consecutive chunks of at most `max_rows` rows and
/// about `max_bytes` of text each (a row larger than `max_bytes` goes alone).
pub fn insert_chunks(tasks: &[NewTask], max_rows: usize, max_bytes: usize) -> Vec<std::ops::Range<usize>> {
    let size = |t: &NewTask| {
        t.identifier.len()
            + t.action.len()
            + t.meta.as_ref().map_or(0, String::len)
            + t.result.as_ref().map_or(0, String::len)
            + t.message.as_ref().map_or(0, String::len)
            + t.unique_key.as_ref().map_or(0, String::len)
            + 64
    };
    let max_rows = max_rows.max(1);
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, t) in tasks.iter().enumerate() {
        let b = size(t);
        if i > start && (i - start >= max_rows || bytes + b > max_bytes) {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += b;
    }
    if start < tasks.len() {
        out.push(start..tasks.len());
    }
    out
}

/// Pairs the rows a multi-row `INSERT … ON CONFLICT DO NOTHING RETURNING
/// id, unique_key` gave back with the tasks of its chunk. No dialect
/// promises the order of RETURNING, but each assigns ids in the order it
/// inserts the rows, which is the order of the VALUES list (or of the
/// ORDER BY of PostgreSQL's `INSERT … SELECT`): sorted by id, the rows
/// line up with the tasks that were not skipped. A task with a unique key
/// that came back under no row was skipped (the key is held); None marks
/// it. A key that came back out of line means the assumption broke, and
/// the insert fails instead of handing out wrong ids.
pub fn match_returned(tasks: &[NewTask], mut returned: Vec<(i64, Option<String>)>) -> StoreResult<Vec<Option<i64>>> {
    returned.sort_by_key(|r| r.0);
    let inserted: std::collections::HashSet<&str> = returned.iter().filter_map(|r| r.1.as_deref()).collect();
    let mut rows = returned.iter();
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        if let Some(k) = &t.unique_key {
            if !inserted.contains(k.as_str()) {
                out.push(None);
                continue;
            }
        }
        let Some((id, key)) = rows.next() else {
            return Err(StoreError::new(StoreErrorKind::Other, "a multi-row insert returned fewer rows than it inserted"));
        };
        if key != &t.unique_key {
            return Err(StoreError::new(StoreErrorKind::Other, "a multi-row insert returned its rows out of order"));
        }
        out.push(Some(*id));
    }
    if rows.next().is_some() {
        return Err(StoreError::new(StoreErrorKind::Other, "a multi-row insert returned more rows than it was given"));
    }
    Ok(out)
}

/// How one attempt ended; applied by `task_finish_many` in one transaction.
/// Every variant only moves a task that is still preparing or running, so an
/// outcome never overwrites what the worker itself decided (markFailed...).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Edge Finished: completed, progress 100.
    Completed { id: i64, message: String, duration: f64, peak_memory: i64 },
    /// Edge FailedWithAttemptsLeft: back to pending, claimable at `available_at`.
    Retry { id: i64, message: String, error: String, available_at: Timestamp, duration: f64, peak_memory: i64 },
    /// Edge AttemptsExhausted / WorkerMissing.
    Failed { id: i64, message: String, error: String, duration: f64, peak_memory: i64 },
    /// Edge CancelSeen.
    Cancelled { id: i64, message: String, duration: f64, peak_memory: i64 },
    /// Edge WorkerInactive: handed back without counting the attempt.
    Released { id: i64, message: String, available_at: Timestamp },
}

impl Outcome {
    pub fn id(&self) -> i64 {
        match self {
            Outcome::Completed { id, .. }
            | Outcome::Retry { id, .. }
            | Outcome::Failed { id, .. }
            | Outcome::Cancelled { id, .. }
            | Outcome::Released { id, .. } => *id,
        }
    }
}

#[derive(Debug, Clone)]
pub struct LeaseExtendParams {
    pub ids: Vec<i64>,
    pub owner: String,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Rescue {
    /// Attempts remain: pending again from `available_at`.
    Retry { available_at: Timestamp },
    /// Attempts exhausted.
    Fail,
}

#[derive(Debug, Clone)]
pub struct RescueParams {
    pub id: i64,
    pub now: Timestamp,
    pub message: String,
    pub to: Rescue,
}

/// A task's state right after its outcome was stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub id: i64,
    pub status: i64,
    pub message: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TaskProgressParams {
    pub id: i64,
    pub progress: i64,
    pub message: String,
    /// The JSON snapshot, mirrored so any host can answer progress queries.
    pub snapshot: String,
    pub now: Timestamp,
}

/// What the row said when progress was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgressAck {
    pub status: i64,
    pub cancel_requested: bool,
}

/// One attempt of a task, as the history keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRow {
    pub task_id: i64,
    /// 1 for the first attempt.
    pub attempt: i64,
    pub started_at: Option<Timestamp>,
    pub finished_at: Timestamp,
    pub duration: Option<f64>,
    pub peak_memory: Option<i64>,
    /// `host:pid:n` of the process that ran it.
    pub owner: Option<String>,
    /// retried, failed, cancelled, lost, completed, running.
    pub outcome: String,
    pub error_class: Option<String>,
    pub message: Option<String>,
    /// The stack trace, paths relative to the application, bounded.
    pub trace: Option<String>,
}

/// A worker process as the registry holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessRow {
    /// The engine's lease owner, `host:pid:n`.
    pub owner: String,
    pub host: String,
    pub pid: i64,
    pub version: String,
    pub started_at: Timestamp,
    pub heartbeat_at: Timestamp,
    pub tasks_done: i64,
    pub current_task: Option<i64>,
}

/// What the scheduler remembers of one worker's schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleState {
    pub identifier: String,
    /// The latest evaluation (a slot none saw within its grace was missed).
    pub evaluated_at: Timestamp,
    /// The latest slot that created a task, and that task.
    pub last_slot: Option<String>,
    pub last_task_id: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// Was pending: cancelled at once.
    Cancelled,
    /// Is running: the worker sees the request at its next progress report.
    Requested,
    /// Already finished (or no such row); carries the current status.
    NotCancellable(i64),
    NotFound,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskSummaryRow {
    pub total: i64,
    pub queued: i64,
    pub running: i64,
    pub completed: i64,
    pub failed: i64,
    pub cancelled: i64,
    pub average_duration: Option<f64>,
    pub average_memory: Option<f64>,
    pub total_duration: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkerStatsRow {
    pub identifier: String,
    pub summary: TaskSummaryRow,
    pub last_execution: Option<Timestamp>,
}

/// One hour of `task_timeline`: tasks created in it, and attempts that
/// ended in it (completed or failed) with their average duration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimelineRow {
    /// The start of the hour, UTC.
    pub hour: Timestamp,
    pub created: i64,
    pub completed: i64,
    pub failed: i64,
    pub average_duration: Option<f64>,
}

/// Per worker identifier, the figures `/metrics` exports: counts per state,
/// retries spent (attempts beyond the first) and the oldest due pending task.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdentifierCounters {
    pub identifier: String,
    pub pending: i64,
    pub running: i64,
    pub completed: i64,
    pub failed: i64,
    pub cancelled: i64,
    pub retried: i64,
    /// `available_at` of the oldest pending task that is due at `now`.
    pub oldest_pending: Option<Timestamp>,
}

/// Attempts that ended in the timeline's window are looked up among tasks
/// created at most this long before it, so the query runs on the
/// `created_at` index instead of scanning every finished row (there is no
/// `finished_at` index: each index is paid for on every claim and finish).
/// A task that ran longer than this is left out of the "ended" counts.
pub const TIMELINE_RUNTIME_HORIZON_DAYS: i64 = 7;

pub fn timeline_created_floor(since: Timestamp) -> Timestamp {
    since - chrono::Duration::days(TIMELINE_RUNTIME_HORIZON_DAYS)
}

/// Parses the hour bucket the dialects return (`YYYY-MM-DD HH`).
pub fn parse_hour(h: &str) -> Option<Timestamp> {
    crate::engine::time::from_db(&format!("{}:00:00", h.trim()))
}

/// Runs `op` again while it fails with `Busy` (deadlock, lock wait,
/// serialization failure, SQLite busy), up to 8 times with a growing,
/// jittered pause: these are the database's way of saying "try again", and
/// users never see them.
pub async fn retry_busy<T, F, Fut>(mut op: F) -> StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = StoreResult<T>>,
{
    let mut attempt = 0u32;
    loop {
        match op().await {
            Err(e) if e.kind() == StoreErrorKind::Busy && attempt < 8 => {
                attempt += 1;
                let base = 2u64.pow(attempt.min(6));
                let jitter = rand::random::<u64>() % (base + 1);
                tokio::time::sleep(std::time::Duration::from_millis(base + jitter)).await;
            }
            other => return other,
        }
    }
}

/// Every query the engine runs. Not a public API.
#[async_trait]
pub trait Store: Send + Sync {
    /// True when `task_wait` wakes on new tasks (PostgreSQL LISTEN/NOTIFY);
    /// otherwise the worker loop polls.
    fn supports_listen(&self) -> bool {
        false
    }

    /// Waits up to `max` for a new task to be announced; true when woken.
    /// Without a listener this is a plain sleep.
    async fn task_wait(&self, max: std::time::Duration) -> StoreResult<bool> {
        tokio::time::sleep(max).await;
        Ok(false)
    }

    /// Creates or converts the schema; idempotent and safe to race.
    async fn migrate(&self) -> StoreResult<()>;

    async fn task_insert(&self, task: &NewTask, now: Timestamp) -> StoreResult<TaskRow>;
    /// Inserts many tasks in one transaction, with multi-row statements
    /// sized to the backend's limits, and announces them once (one NOTIFY
    /// on PostgreSQL). A task whose unique key an active task holds is not
    /// inserted: its slot of the answer names that task. Answers in the
    /// order of `p.tasks`.
    async fn task_insert_many(&self, p: &TaskInsertManyParams<'_>) -> StoreResult<Vec<Created>>;
    async fn task_get(&self, id: i64) -> StoreResult<Option<TaskRow>>;
    async fn task_select(&self, q: &Query) -> StoreResult<Vec<TaskRow>>;
    /// Claims up to `limit` due tasks, highest priority then oldest first.
    async fn task_claim(&self, p: &TaskClaimParams) -> StoreResult<Vec<TaskRow>>;
    /// Claims one given task if it is still pending (`sTask::execute`).
    async fn task_claim_id(&self, id: i64, p: &TaskClaimParams) -> StoreResult<Option<TaskRow>>;
    /// The database's plan for the claim (EXPLAIN, nothing claimed): what
    /// tests/store.rs reads to prove a claim never walks the backlog.
    async fn explain_claim(&self) -> StoreResult<String>;
    /// Refreshes the tasks table's planner statistics when more than
    /// `min_changes` rows plus `fraction` of the table changed since the
    /// last refresh (autovacuum's rule, for servers that run without it).
    /// True when it refreshed. Only PostgreSQL keeps them by hand: InnoDB
    /// recalculates its persistent statistics itself after 10 % changes,
    /// and SQLite plans without statistics (no ANALYZE is ever run).
    async fn refresh_statistics(&self, _min_changes: i64, _fraction: f64) -> StoreResult<bool> {
        Ok(false)
    }
    /// Returns where each task ended up: the outcome's state, or what the
    /// worker decided itself when the guard left the row alone.
    async fn task_finish_many(&self, outcomes: &[Outcome], now: Timestamp) -> StoreResult<Vec<Finished>>;
    /// Heartbeat: pushes the lease of tasks this owner still runs.
    async fn task_extend_leases(&self, p: &LeaseExtendParams) -> StoreResult<u64>;
    /// Running tasks whose lease ran out, by id after a cursor.
    async fn task_select_expired(&self, now: Timestamp, after_id: i64, limit: i64) -> StoreResult<Vec<TaskRow>>;
    /// Edge LeaseExpired; re-checks the expiry so a late heartbeat wins.
    async fn task_rescue(&self, p: &RescueParams) -> StoreResult<bool>;
    async fn task_progress(&self, p: &TaskProgressParams) -> StoreResult<Option<ProgressAck>>;
    async fn task_cancel(&self, id: i64, now: Timestamp) -> StoreResult<CancelOutcome>;
    /// Edge ManualRetry; false when the task is not failed or cancelled.
    async fn task_retry(&self, id: i64, now: Timestamp) -> StoreResult<bool>;
    /// Deletes completed tasks finished before `before`; returns their ids.
    async fn task_delete_completed_before(&self, before: Timestamp) -> StoreResult<Vec<i64>>;
    async fn task_count_by_status(&self) -> StoreResult<Vec<(i64, i64)>>;
    async fn task_summary(&self, since: Timestamp) -> StoreResult<TaskSummaryRow>;
    async fn task_worker_stats(&self, since: Timestamp, identifier: Option<&str>) -> StoreResult<Vec<WorkerStatsRow>>;
    async fn task_common_errors(&self, since: Timestamp, limit: i64) -> StoreResult<Vec<(String, i64)>>;
    /// Hours (UTC) since `since` with tasks created or attempts ended in
    /// them, oldest first; hours without any are left out. One GROUP BY.
    async fn task_timeline(&self, since: Timestamp) -> StoreResult<Vec<TimelineRow>>;
    /// The newest task of each identifier (the worker list's "last task"),
    /// in one query rather than one per worker.
    async fn task_latest_per_identifier(&self) -> StoreResult<Vec<TaskRow>>;
    /// Counts per identifier for `/metrics`, in one GROUP BY.
    async fn task_counters(&self, now: Timestamp) -> StoreResult<Vec<IdentifierCounters>>;

    async fn worker_select(&self, q: &Query) -> StoreResult<Vec<WorkerRow>>;
    async fn worker_get(&self, identifier: &str) -> StoreResult<Option<WorkerRow>>;
    /// Registers a new worker, inactive, last in order; None if the
    /// identifier is taken.
    async fn worker_insert(&self, info: &WorkerInfo, now: Timestamp) -> StoreResult<Option<WorkerRow>>;
    /// Refreshes what discovery stores (identifier, scope, title...).
    async fn worker_update_info(&self, id: i64, info: &WorkerInfo, now: Timestamp) -> StoreResult<bool>;
    async fn worker_counts(&self) -> StoreResult<(i64, i64)>;

    /// Takes or renews the named lease `name` for `owner` until `until`;
    /// true when `owner` holds it now. A lease whose holder stopped renewing
    /// passes to the next asker once it expired.
    async fn leader_acquire(&self, name: &str, owner: &str, until: Timestamp, now: Timestamp) -> StoreResult<bool>;

    /// Inserts the task of a schedule slot; None when the worker already
    /// has a task for this slot (another host, an overlapping tick).
    async fn task_insert_scheduled(&self, task: &NewTask, slot: &str, now: Timestamp) -> StoreResult<Option<i64>>;
    /// Every worker's scheduler memory.
    async fn schedule_states(&self) -> StoreResult<Vec<ScheduleState>>;
    /// Records an evaluation of `identifier`'s schedule at `now`, and the
    /// slot and task it created, if any.
    async fn schedule_record(&self, identifier: &str, now: Timestamp, created: Option<(&str, i64)>) -> StoreResult<()>;

    /// Registers a live process (a row per worker loop, keyed by owner);
    /// registering again replaces what the row said.
    async fn process_register(&self, p: &ProcessRow) -> StoreResult<()>;
    /// A live process's heartbeat; false when its row is gone (expired
    /// while the process stalled), which registers it again.
    async fn process_beat(&self, p: &ProcessRow) -> StoreResult<bool>;
    async fn process_remove(&self, owner: &str) -> StoreResult<()>;
    /// Every registered process, oldest first, dead ones included (the
    /// caller judges by `heartbeat_at`).
    async fn processes(&self) -> StoreResult<Vec<ProcessRow>>;
    /// Deletes processes whose last heartbeat is before `before`.
    async fn process_expire(&self, before: Timestamp) -> StoreResult<u64>;

    /// Keeps attempts that did not end their task well (the history).
    async fn attempt_insert_many(&self, attempts: &[AttemptRow]) -> StoreResult<()>;
    /// A task's recorded attempts, in order.
    async fn attempts_of(&self, task_id: i64) -> StoreResult<Vec<AttemptRow>>;
    /// Deletes attempts that ended before `before` and whose task is gone;
    /// returns how many.
    async fn attempts_delete_before(&self, before: Timestamp) -> StoreResult<u64>;

    /// Drops the tables (tests of the server dialects clean up with it).
    #[cfg(feature = "test-support")]
    async fn drop_tables(&self) -> StoreResult<()>;

    /// Rows matched by `q` (either table).
    async fn count(&self, q: &Query) -> StoreResult<i64>;
    async fn delete(&self, q: &Query) -> StoreResult<u64>;
    /// Writes whitelisted columns on the rows matched by `q`.
    async fn update(&self, q: &Query, set: &[(&'static str, Value)], now: Timestamp) -> StoreResult<u64>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyed(k: Option<&str>) -> NewTask {
        let mut t = NewTask::new("w", "a");
        t.unique_key = k.map(str::to_string);
        t
    }

    #[test]
    fn insert_chunks_respect_rows_and_bytes_and_keep_a_huge_row_alone() {
        let mut tasks: Vec<NewTask> = (0..10).map(|_| keyed(None)).collect();
        assert_eq!(insert_chunks(&tasks, 4, usize::MAX), vec![0..4, 4..8, 8..10]);
        tasks[5].meta = Some("x".repeat(1000));
        assert_eq!(insert_chunks(&tasks, 100, 500), vec![0..5, 5..6, 6..10]);
        assert!(insert_chunks(&[], 4, 10).is_empty());
    }

    #[test]
    fn returned_rows_pair_with_tasks_by_id_and_skipped_keys_are_none() {
        let tasks = vec![keyed(None), keyed(Some("held")), keyed(Some("new")), keyed(None)];
        let returned = vec![(12, None), (10, None), (11, Some("new".to_string()))];
        assert_eq!(match_returned(&tasks, returned).unwrap(), vec![Some(10), None, Some(11), Some(12)]);
    }

    #[test]
    fn returned_rows_out_of_line_are_an_error_not_wrong_ids() {
        let tasks = vec![keyed(Some("a")), keyed(None)];
        assert!(match_returned(&tasks, vec![(1, None), (2, Some("a".into()))]).is_err());
        assert!(match_returned(&tasks, vec![(1, Some("a".into()))]).is_err());
        assert!(match_returned(&tasks[1..], vec![(1, None), (2, None)]).is_err());
    }
}
