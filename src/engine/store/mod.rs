//! The seam to the database: every query the engine runs is a method of
//! `Store`, one implementation per dialect. Internal and reshaped freely.
//!
//! Methods are named subject first (`task_claim`, `worker_insert`), take one
//! params struct where they need more than an id, and receive `now` from the
//! caller so the clock belongs to the engine and to tests.

pub mod sql;
pub mod sqlite;

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
    Other,
}

impl StoreError {
    pub fn new(kind: StoreErrorKind, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StoreError { kind, source: source.into() }
    }

    pub fn kind(&self) -> StoreErrorKind {
        self.kind
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

/// Every query the engine runs. Not a public API.
#[async_trait]
pub trait Store: Send + Sync {
    /// Creates or converts the schema; idempotent and safe to race.
    async fn migrate(&self) -> StoreResult<()>;

    async fn task_insert(&self, task: &NewTask, now: Timestamp) -> StoreResult<TaskRow>;
    async fn task_get(&self, id: i64) -> StoreResult<Option<TaskRow>>;
    async fn task_select(&self, q: &Query) -> StoreResult<Vec<TaskRow>>;
    /// Claims up to `limit` due tasks, highest priority then oldest first.
    async fn task_claim(&self, p: &TaskClaimParams) -> StoreResult<Vec<TaskRow>>;
    /// Claims one given task if it is still pending (`sTask::execute`).
    async fn task_claim_id(&self, id: i64, p: &TaskClaimParams) -> StoreResult<Option<TaskRow>>;
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

    async fn worker_select(&self, q: &Query) -> StoreResult<Vec<WorkerRow>>;
    async fn worker_get(&self, identifier: &str) -> StoreResult<Option<WorkerRow>>;
    /// Registers a new worker, inactive, last in order; None if the
    /// identifier is taken.
    async fn worker_insert(&self, info: &WorkerInfo, now: Timestamp) -> StoreResult<Option<WorkerRow>>;
    /// Refreshes what discovery stores (identifier, scope, title...).
    async fn worker_update_info(&self, id: i64, info: &WorkerInfo, now: Timestamp) -> StoreResult<bool>;
    async fn worker_counts(&self) -> StoreResult<(i64, i64)>;

    /// Rows matched by `q` (either table).
    async fn count(&self, q: &Query) -> StoreResult<i64>;
    async fn delete(&self, q: &Query) -> StoreResult<u64>;
    /// Writes whitelisted columns on the rows matched by `q`.
    async fn update(&self, q: &Query, set: &[(&'static str, Value)], now: Timestamp) -> StoreResult<u64>;
}
