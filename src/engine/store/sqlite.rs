//! The SQLite dialect (embedded default).
//!
//! SQLite has a single writer, so a claim needs no `SKIP LOCKED`: one
//! `UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING *` statement is atomic
//! against every other process. WAL lets readers proceed during writes, and
//! `busy_timeout` makes concurrent writers wait instead of failing.

use super::sql::{Placeholders, SqlBuilder};
use super::*;
use crate::engine::query::{Table, Value};
use crate::engine::task::{Priority, Status};
use crate::engine::time;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Row, Sqlite};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const MIGRATION_TABLES: &str = include_str!("../../../migrations/sqlite/0001_tables.sql");
const MIGRATION_INDEXES: &str = include_str!("../../../migrations/sqlite/0002_indexes.sql");

/// Columns the engine adds to tables created by the PHP package, with the
/// definition `ALTER TABLE … ADD COLUMN` needs.
const ENGINE_TASK_COLUMNS: &[(&str, &str)] = &[
    ("priority_rank", "INTEGER NOT NULL DEFAULT 5"),
    ("available_at", "TEXT NULL"),
    ("started_at", "TEXT NULL"),
    ("duration", "REAL NULL"),
    ("peak_memory", "INTEGER NULL"),
    ("last_error", "TEXT NULL"),
    ("cancel_requested", "INTEGER NOT NULL DEFAULT 0"),
    ("lease_owner", "VARCHAR(255) NULL"),
    ("lease_expires_at", "TEXT NULL"),
    ("snapshot", "TEXT NULL"),
    ("unique_key", "VARCHAR(255) NULL"),
];
const ENGINE_WORKER_COLUMNS: &[(&str, &str)] = &[
    ("title", "VARCHAR(255) NOT NULL DEFAULT ''"),
    ("description", "TEXT NOT NULL DEFAULT ''"),
    ("icon", "TEXT NOT NULL DEFAULT ''"),
];

/// The statements, with the table prefix substituted once.
struct Statements {
    tasks: String,
    workers: String,
    insert_task: Arc<str>,
    get_task: Arc<str>,
    claim: Arc<str>,
    claim_id: Arc<str>,
    finish_completed: Arc<str>,
    finish_retry: Arc<str>,
    finish_failed: Arc<str>,
    finish_cancelled: Arc<str>,
    finish_released: Arc<str>,
    progress: Arc<str>,
    cancel_pending: Arc<str>,
    cancel_running: Arc<str>,
    status_of: Arc<str>,
    retry: Arc<str>,
    delete_completed: Arc<str>,
    count_by_status: Arc<str>,
    worker_get: Arc<str>,
    worker_insert: Arc<str>,
    worker_update_info: Arc<str>,
    worker_counts: Arc<str>,
}

impl Statements {
    fn new(prefix: &str) -> Self {
        let t = format!("{prefix}s_tasks");
        let w = format!("{prefix}s_workers");
        let s = |sql: String| -> Arc<str> { Arc::from(sql) };
        Statements {
            // Insert returns the whole row so the PHP model needs no second read.
            insert_task: s(format!(
                "INSERT INTO {t} (identifier, action, status, message, started_by, meta, result, start_at, attempts, \
                 max_attempts, priority, priority_rank, progress, created_at, updated_at, available_at, unique_key) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *"
            )),
            get_task: s(format!("SELECT * FROM {t} WHERE id = ?")),
            // Edge Claimed. Single writer: the subquery and the update are one
            // atomic statement, so no row is claimed twice. `status = 10` is
            // repeated in the outer WHERE as a guard. RETURNING order is not
            // defined in SQLite; the caller sorts.
            claim: s(format!(
                "UPDATE {t} SET status = 20, attempts = attempts + 1, started_at = ?1, updated_at = ?1, \
                 lease_owner = ?2, lease_expires_at = ?3, cancel_requested = 0 \
                 WHERE status = 10 AND id IN (SELECT id FROM {t} WHERE status = 10 AND \
                 (available_at IS NULL OR available_at <= ?1) ORDER BY priority_rank, id LIMIT ?4) RETURNING *"
            )),
            claim_id: s(format!(
                "UPDATE {t} SET status = 20, attempts = attempts + 1, started_at = ?1, updated_at = ?1, \
                 lease_owner = ?2, lease_expires_at = ?3, cancel_requested = 0 WHERE id = ?4 AND status = 10 RETURNING *"
            )),
            // Edge Finished. Guarded: only a task still held (15/20) moves, so
            // what the worker decided itself (markFailed...) stands; a worker
            // that marked itself completed still gets progress 100.
            finish_completed: s(format!(
                "UPDATE {t} SET status = CASE WHEN status IN (15, 20) THEN 30 ELSE status END, \
                 progress = CASE WHEN status IN (15, 20, 30) THEN 100 ELSE progress END, \
                 message = CASE WHEN status IN (15, 20) THEN ?1 ELSE message END, \
                 finished_at = COALESCE(finished_at, ?2), duration = ?3, peak_memory = ?4, \
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = ?2 WHERE id = ?5"
            )),
            // Edge FailedWithAttemptsLeft.
            finish_retry: s(format!(
                "UPDATE {t} SET status = 10, message = ?1, last_error = ?2, available_at = ?3, duration = ?4, \
                 peak_memory = ?5, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?6 \
                 WHERE id = ?7 AND status IN (15, 20)"
            )),
            // Edges AttemptsExhausted / WorkerMissing.
            finish_failed: s(format!(
                "UPDATE {t} SET status = 40, message = ?1, last_error = ?2, finished_at = ?3, duration = ?4, \
                 peak_memory = ?5, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?3 \
                 WHERE id = ?6 AND status IN (15, 20)"
            )),
            // Edge CancelSeen.
            finish_cancelled: s(format!(
                "UPDATE {t} SET status = 50, message = ?1, finished_at = ?2, duration = ?3, peak_memory = ?4, \
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = ?2 WHERE id = ?5 AND status IN (15, 20)"
            )),
            // Edge WorkerInactive: the attempt is given back.
            finish_released: s(format!(
                "UPDATE {t} SET status = 10, attempts = MAX(attempts - 1, 0), message = ?1, available_at = ?2, \
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = ?3 WHERE id = ?4 AND status IN (15, 20)"
            )),
            // Progress mirror; also tells the worker about a cancel request.
            progress: s(format!(
                "UPDATE {t} SET progress = ?1, message = ?2, snapshot = ?3, updated_at = ?4 WHERE id = ?5 \
                 RETURNING status, cancel_requested"
            )),
            // Edge CancelPending.
            cancel_pending: s(format!(
                "UPDATE {t} SET status = 50, message = 'Cancelled', finished_at = ?1, updated_at = ?1 \
                 WHERE id = ?2 AND status = 10"
            )),
            cancel_running: s(format!(
                "UPDATE {t} SET cancel_requested = 1, updated_at = ?1 WHERE id = ?2 AND status IN (15, 20)"
            )),
            status_of: s(format!("SELECT status FROM {t} WHERE id = ?")),
            // Edge ManualRetry: at least one more attempt is granted.
            retry: s(format!(
                "UPDATE {t} SET status = 10, available_at = ?1, finished_at = NULL, cancel_requested = 0, \
                 message = 'Queued for retry', max_attempts = MAX(max_attempts, attempts + 1), progress = 0, \
                 updated_at = ?1 WHERE id = ?2 AND status IN (40, 50)"
            )),
            delete_completed: s(format!("DELETE FROM {t} WHERE status = 30 AND finished_at < ? RETURNING id")),
            count_by_status: s(format!("SELECT status, COUNT(*) AS n FROM {t} GROUP BY status")),
            worker_get: s(format!("SELECT * FROM {w} WHERE identifier = ?")),
            // New workers start inactive and last in order; an existing
            // identifier is left alone (RETURNING yields nothing then).
            worker_insert: s(format!(
                "INSERT INTO {w} (identifier, scope, class, active, position, settings, hidden, title, description, \
                 icon, created_at, updated_at) SELECT ?1, ?2, ?3, 0, COALESCE(MAX(position), 0) + 1, '{{}}', 0, ?4, ?5, \
                 ?6, ?7, ?7 FROM {w} WHERE 1 = 1 ON CONFLICT(identifier) DO NOTHING RETURNING *"
            )),
            worker_update_info: s(format!(
                "UPDATE {w} SET identifier = ?1, scope = ?2, class = ?3, title = ?4, description = ?5, icon = ?6, \
                 updated_at = ?7 WHERE id = ?8"
            )),
            worker_counts: s(format!(
                "SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN active <> 0 THEN 1 ELSE 0 END), 0) AS active FROM {w}"
            )),
            tasks: t,
            workers: w,
        }
    }

    fn table(&self, table: Table) -> &str {
        match table {
            Table::Tasks => &self.tasks,
            Table::Workers => &self.workers,
        }
    }
}

pub struct SqliteStore {
    pool: SqlitePool,
    prefix: String,
    st: Statements,
}

fn classify(e: sqlx::Error) -> StoreError {
    let kind = match &e {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // SQLITE_BUSY (5), SQLITE_LOCKED (6) and their extended codes.
            let primary = code.parse::<i64>().map(|c| c & 0xff).unwrap_or(-1);
            if primary == 5 || primary == 6 {
                StoreErrorKind::Busy
            } else if db.is_unique_violation() {
                StoreErrorKind::Conflict
            } else {
                StoreErrorKind::Other
            }
        }
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => StoreErrorKind::Unavailable,
        _ => StoreErrorKind::Other,
    };
    StoreError::new(kind, e)
}

type Q<'a> = sqlx::query::Query<'a, Sqlite, sqlx::sqlite::SqliteArguments>;

fn q(sql: &Arc<str>) -> Q<'static> {
    sqlx::query(AssertSqlSafe(sql.clone()))
}

fn bind_value(query: Q<'static>, v: Value) -> Q<'static> {
    match v {
        Value::Null => query.bind(None::<i64>),
        Value::Bool(b) => query.bind(b as i64),
        Value::Int(i) => query.bind(i),
        Value::Float(f) => query.bind(f),
        Value::Text(s) => query.bind(s),
    }
}

fn ts(t: &crate::engine::time::Timestamp) -> String {
    time::to_db(t)
}

fn get_ts(row: &SqliteRow, col: &str) -> Result<Option<crate::engine::time::Timestamp>, sqlx::Error> {
    Ok(row.try_get::<Option<String>, _>(col)?.as_deref().and_then(time::from_db))
}

fn task_from_row(row: &SqliteRow) -> Result<TaskRow, sqlx::Error> {
    Ok(TaskRow {
        id: row.try_get("id")?,
        identifier: row.try_get("identifier")?,
        action: row.try_get("action")?,
        status: row.try_get("status")?,
        message: row.try_get("message")?,
        started_by: row.try_get("started_by")?,
        meta: row.try_get("meta")?,
        result: row.try_get("result")?,
        start_at: get_ts(row, "start_at")?,
        finished_at: get_ts(row, "finished_at")?,
        attempts: row.try_get("attempts")?,
        max_attempts: row.try_get("max_attempts")?,
        priority: row.try_get("priority")?,
        progress: row.try_get("progress")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
        available_at: get_ts(row, "available_at")?,
        started_at: get_ts(row, "started_at")?,
        duration: row.try_get("duration")?,
        peak_memory: row.try_get("peak_memory")?,
        last_error: row.try_get("last_error")?,
        cancel_requested: row.try_get::<i64, _>("cancel_requested")? != 0,
        lease_owner: row.try_get("lease_owner")?,
        lease_expires_at: get_ts(row, "lease_expires_at")?,
        snapshot: row.try_get("snapshot")?,
        unique_key: row.try_get("unique_key")?,
    })
}

fn worker_from_row(row: &SqliteRow) -> Result<WorkerRow, sqlx::Error> {
    Ok(WorkerRow {
        id: row.try_get("id")?,
        uuid: row.try_get("uuid")?,
        identifier: row.try_get("identifier")?,
        scope: row.try_get("scope")?,
        class: row.try_get("class")?,
        active: row.try_get::<i64, _>("active")? != 0,
        position: row.try_get("position")?,
        settings: row.try_get::<Option<String>, _>("settings")?.unwrap_or_else(|| "{}".into()),
        hidden: row.try_get("hidden")?,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        icon: row.try_get("icon")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

fn summary_from_row(row: &SqliteRow) -> Result<TaskSummaryRow, sqlx::Error> {
    Ok(TaskSummaryRow {
        total: row.try_get("total")?,
        queued: row.try_get("queued")?,
        running: row.try_get("running")?,
        completed: row.try_get("completed")?,
        failed: row.try_get("failed")?,
        cancelled: row.try_get("cancelled")?,
        average_duration: row.try_get("avg_duration")?,
        average_memory: row.try_get("avg_memory")?,
        total_duration: row.try_get("sum_duration")?,
    })
}

/// The aggregate columns shared by the summary and per-worker statistics.
/// Durations and memory only count attempts that ran to an end.
const SUMMARY_COLUMNS: &str = "COUNT(*) AS total, \
    COALESCE(SUM(CASE WHEN status = 10 THEN 1 ELSE 0 END), 0) AS queued, \
    COALESCE(SUM(CASE WHEN status IN (15, 20) THEN 1 ELSE 0 END), 0) AS running, \
    COALESCE(SUM(CASE WHEN status = 30 THEN 1 ELSE 0 END), 0) AS completed, \
    COALESCE(SUM(CASE WHEN status = 40 THEN 1 ELSE 0 END), 0) AS failed, \
    COALESCE(SUM(CASE WHEN status = 50 THEN 1 ELSE 0 END), 0) AS cancelled, \
    AVG(CASE WHEN status IN (30, 40) THEN duration END) AS avg_duration, \
    AVG(CASE WHEN status IN (30, 40) THEN peak_memory END) AS avg_memory, \
    SUM(CASE WHEN status IN (30, 40) THEN duration END) AS sum_duration";

impl SqliteStore {
    pub async fn connect(path: &Path, prefix: &str) -> StoreResult<SqliteStore> {
        if let Some(dir) = path.parent() {
            if let Err(e) = std::fs::create_dir_all(dir) {
                return Err(StoreError::new(StoreErrorKind::Unavailable, sqlx::Error::Io(e)));
            }
        }
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL in WAL mode: a commit survives a process crash; only an
            // OS crash can lose the last transactions.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(false)
            .statement_cache_capacity(256);
        // Migrate on a connection of its own before the pool opens: SQLite
        // checks an ON CONFLICT target against the schema a connection has
        // cached, so pooled connections must not predate new indexes.
        {
            use sqlx::ConnectOptions;
            let mut conn = opts.connect().await.map_err(classify)?;
            migrate_on(&mut conn, prefix).await?;
            use sqlx::Connection;
            conn.close().await.map_err(classify)?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(opts)
            .await
            .map_err(classify)?;
        Ok(SqliteStore { pool, prefix: prefix.to_string(), st: Statements::new(prefix) })
    }

    fn select_sql(&self, query: &crate::engine::query::Query, head: &str) -> SqlBuilder {
        let mut b = SqlBuilder::new(Placeholders::Question);
        b.push(head).push(self.st.table(query.table));
        b.where_clause(query);
        b
    }

    fn build(b: SqlBuilder) -> Q<'static> {
        let mut query = sqlx::query(AssertSqlSafe(b.sql));
        for v in b.values {
            query = bind_value(query, v);
        }
        query
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(classify)?;
        migrate_on(&mut conn, &self.prefix).await
    }

    async fn task_insert(&self, t: &NewTask, now: Timestamp) -> StoreResult<TaskRow> {
        let available = match t.start_at {
            Some(s) if s > now => s,
            _ => now,
        };
        let row = q(&self.st.insert_task)
            .bind(&t.identifier)
            .bind(&t.action)
            .bind(t.status.code())
            .bind(&t.message)
            .bind(t.started_by)
            .bind(&t.meta)
            .bind(&t.result)
            .bind(t.start_at.as_ref().map(ts))
            .bind(t.max_attempts)
            .bind(t.priority.name())
            .bind(t.priority.rank())
            .bind(t.progress)
            .bind(ts(&now))
            .bind(ts(&now))
            .bind(ts(&available))
            .bind(&t.unique_key)
            .fetch_one(&self.pool)
            .await
            .map_err(classify)?;
        task_from_row(&row).map_err(classify)
    }

    async fn task_get(&self, id: i64) -> StoreResult<Option<TaskRow>> {
        let row = q(&self.st.get_task).bind(id).fetch_optional(&self.pool).await.map_err(classify)?;
        row.as_ref().map(task_from_row).transpose().map_err(classify)
    }

    async fn task_select(&self, query: &crate::engine::query::Query) -> StoreResult<Vec<TaskRow>> {
        let mut b = self.select_sql(query, "SELECT * FROM ");
        b.order_limit(query, "id ASC");
        let rows = Self::build(b).fetch_all(&self.pool).await.map_err(classify)?;
        rows.iter().map(task_from_row).collect::<Result<_, _>>().map_err(classify)
    }

    async fn task_claim(&self, p: &TaskClaimParams) -> StoreResult<Vec<TaskRow>> {
        let rows = q(&self.st.claim)
            .bind(ts(&p.now))
            .bind(&p.owner)
            .bind(ts(&p.lease_expires_at))
            .bind(p.limit)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        let mut tasks = rows.iter().map(task_from_row).collect::<Result<Vec<_>, _>>().map_err(classify)?;
        tasks.sort_by_key(|t| (Priority::rank_of_name(&t.priority), t.id));
        Ok(tasks)
    }

    async fn task_claim_id(&self, id: i64, p: &TaskClaimParams) -> StoreResult<Option<TaskRow>> {
        let row = q(&self.st.claim_id)
            .bind(ts(&p.now))
            .bind(&p.owner)
            .bind(ts(&p.lease_expires_at))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        row.as_ref().map(task_from_row).transpose().map_err(classify)
    }

    async fn task_finish_many(&self, outcomes: &[Outcome], now: Timestamp) -> StoreResult<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let now_s = ts(&now);
        let mut tx = self.pool.begin().await.map_err(classify)?;
        for o in outcomes {
            let query = match o {
                Outcome::Completed { id, message, duration, peak_memory } => q(&self.st.finish_completed)
                    .bind(message.clone())
                    .bind(now_s.clone())
                    .bind(*duration)
                    .bind(*peak_memory)
                    .bind(*id),
                Outcome::Retry { id, message, error, available_at, duration, peak_memory } => q(&self.st.finish_retry)
                    .bind(message.clone())
                    .bind(error.clone())
                    .bind(ts(available_at))
                    .bind(*duration)
                    .bind(*peak_memory)
                    .bind(now_s.clone())
                    .bind(*id),
                Outcome::Failed { id, message, error, duration, peak_memory } => q(&self.st.finish_failed)
                    .bind(message.clone())
                    .bind(error.clone())
                    .bind(now_s.clone())
                    .bind(*duration)
                    .bind(*peak_memory)
                    .bind(*id),
                Outcome::Cancelled { id, message, duration, peak_memory } => q(&self.st.finish_cancelled)
                    .bind(message.clone())
                    .bind(now_s.clone())
                    .bind(*duration)
                    .bind(*peak_memory)
                    .bind(*id),
                Outcome::Released { id, message, available_at } => q(&self.st.finish_released)
                    .bind(message.clone())
                    .bind(ts(available_at))
                    .bind(now_s.clone())
                    .bind(*id),
            };
            query.execute(&mut *tx).await.map_err(classify)?;
        }
        tx.commit().await.map_err(classify)
    }

    async fn task_progress(&self, p: &TaskProgressParams) -> StoreResult<Option<ProgressAck>> {
        let row = q(&self.st.progress)
            .bind(p.progress)
            .bind(&p.message)
            .bind(&p.snapshot)
            .bind(ts(&p.now))
            .bind(p.id)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some(ProgressAck {
                status: r.try_get("status").map_err(classify)?,
                cancel_requested: r.try_get::<i64, _>("cancel_requested").map_err(classify)? != 0,
            })),
        }
    }

    async fn task_cancel(&self, id: i64, now: Timestamp) -> StoreResult<CancelOutcome> {
        let now_s = ts(&now);
        let done = q(&self.st.cancel_pending).bind(now_s.clone()).bind(id).execute(&self.pool).await.map_err(classify)?;
        if done.rows_affected() == 1 {
            return Ok(CancelOutcome::Cancelled);
        }
        let req = q(&self.st.cancel_running).bind(now_s).bind(id).execute(&self.pool).await.map_err(classify)?;
        if req.rows_affected() == 1 {
            return Ok(CancelOutcome::Requested);
        }
        let status: Option<i64> = sqlx::query_scalar(AssertSqlSafe(self.st.status_of.clone()))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        Ok(match status {
            Some(s) => CancelOutcome::NotCancellable(s),
            None => CancelOutcome::NotFound,
        })
    }

    async fn task_retry(&self, id: i64, now: Timestamp) -> StoreResult<bool> {
        let r = q(&self.st.retry).bind(ts(&now)).bind(id).execute(&self.pool).await.map_err(classify)?;
        Ok(r.rows_affected() == 1)
    }

    async fn task_delete_completed_before(&self, before: Timestamp) -> StoreResult<Vec<i64>> {
        let rows = q(&self.st.delete_completed).bind(ts(&before)).fetch_all(&self.pool).await.map_err(classify)?;
        rows.iter().map(|r| r.try_get::<i64, _>("id")).collect::<Result<_, _>>().map_err(classify)
    }

    async fn task_count_by_status(&self) -> StoreResult<Vec<(i64, i64)>> {
        let rows = q(&self.st.count_by_status).fetch_all(&self.pool).await.map_err(classify)?;
        rows.iter()
            .map(|r| Ok((r.try_get::<i64, _>("status")?, r.try_get::<i64, _>("n")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(classify)
    }

    async fn task_summary(&self, since: Timestamp) -> StoreResult<TaskSummaryRow> {
        let sql = format!("SELECT {SUMMARY_COLUMNS} FROM {} WHERE created_at >= ?", self.st.tasks);
        let row = sqlx::query(AssertSqlSafe(sql)).bind(ts(&since)).fetch_one(&self.pool).await.map_err(classify)?;
        summary_from_row(&row).map_err(classify)
    }

    async fn task_worker_stats(&self, since: Timestamp, identifier: Option<&str>) -> StoreResult<Vec<WorkerStatsRow>> {
        let filter = if identifier.is_some() { " AND identifier = ?" } else { "" };
        let sql = format!(
            "SELECT identifier, {SUMMARY_COLUMNS}, MAX(COALESCE(finished_at, started_at, updated_at)) AS last_execution \
             FROM {} WHERE created_at >= ?{filter} GROUP BY identifier ORDER BY identifier",
            self.st.tasks
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(ts(&since));
        if let Some(i) = identifier {
            query = query.bind(i.to_string());
        }
        let rows = query.fetch_all(&self.pool).await.map_err(classify)?;
        rows.iter()
            .map(|r| {
                Ok(WorkerStatsRow {
                    identifier: r.try_get("identifier")?,
                    summary: summary_from_row(r)?,
                    last_execution: get_ts(r, "last_execution")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(classify)
    }

    async fn task_common_errors(&self, since: Timestamp, limit: i64) -> StoreResult<Vec<(String, i64)>> {
        let sql = format!(
            "SELECT last_error, COUNT(*) AS n FROM {} WHERE status = 40 AND created_at >= ? AND last_error IS NOT NULL \
             GROUP BY last_error ORDER BY n DESC, last_error LIMIT ?",
            self.st.tasks
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(ts(&since)).bind(limit).fetch_all(&self.pool).await.map_err(classify)?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>("last_error")?, r.try_get::<i64, _>("n")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(classify)
    }

    async fn worker_select(&self, query: &crate::engine::query::Query) -> StoreResult<Vec<WorkerRow>> {
        let mut b = self.select_sql(query, "SELECT * FROM ");
        b.order_limit(query, "position ASC, identifier ASC");
        let rows = Self::build(b).fetch_all(&self.pool).await.map_err(classify)?;
        rows.iter().map(worker_from_row).collect::<Result<_, _>>().map_err(classify)
    }

    async fn worker_get(&self, identifier: &str) -> StoreResult<Option<WorkerRow>> {
        let row = q(&self.st.worker_get).bind(identifier.to_string()).fetch_optional(&self.pool).await.map_err(classify)?;
        row.as_ref().map(worker_from_row).transpose().map_err(classify)
    }

    async fn worker_insert(&self, info: &WorkerInfo, now: Timestamp) -> StoreResult<Option<WorkerRow>> {
        let row = q(&self.st.worker_insert)
            .bind(info.identifier.clone())
            .bind(info.scope.clone())
            .bind(info.class.clone())
            .bind(info.title.clone())
            .bind(info.description.clone())
            .bind(info.icon.clone())
            .bind(ts(&now))
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        row.as_ref().map(worker_from_row).transpose().map_err(classify)
    }

    async fn worker_update_info(&self, id: i64, info: &WorkerInfo, now: Timestamp) -> StoreResult<bool> {
        let r = q(&self.st.worker_update_info)
            .bind(info.identifier.clone())
            .bind(info.scope.clone())
            .bind(info.class.clone())
            .bind(info.title.clone())
            .bind(info.description.clone())
            .bind(info.icon.clone())
            .bind(ts(&now))
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(r.rows_affected() == 1)
    }

    async fn worker_counts(&self) -> StoreResult<(i64, i64)> {
        let row = q(&self.st.worker_counts).fetch_one(&self.pool).await.map_err(classify)?;
        Ok((row.try_get("total").map_err(classify)?, row.try_get("active").map_err(classify)?))
    }

    async fn count(&self, query: &crate::engine::query::Query) -> StoreResult<i64> {
        let b = self.select_sql(query, "SELECT COUNT(*) AS n FROM ");
        let row = Self::build(b).fetch_one(&self.pool).await.map_err(classify)?;
        row.try_get("n").map_err(classify)
    }

    async fn delete(&self, query: &crate::engine::query::Query) -> StoreResult<u64> {
        let mut b = SqlBuilder::new(Placeholders::Question);
        let table = self.st.table(query.table).to_string();
        if query.limit.is_some() || !query.order.is_empty() {
            // SQLite lacks DELETE … LIMIT by default: go through the ids.
            b.push("DELETE FROM ").push(&table).push(" WHERE id IN (SELECT id FROM ").push(&table);
            b.where_clause(query);
            b.order_limit(query, "id ASC");
            b.push(")");
        } else {
            b.push("DELETE FROM ").push(&table);
            b.where_clause(query);
        }
        let r = Self::build(b).execute(&self.pool).await.map_err(classify)?;
        Ok(r.rows_affected())
    }

    async fn update(&self, query: &crate::engine::query::Query, set: &[(&'static str, Value)], now: Timestamp) -> StoreResult<u64> {
        let table = self.st.table(query.table).to_string();
        let mut b = SqlBuilder::new(Placeholders::Question);
        b.push("UPDATE ").push(&table).push(" SET ");
        let mut first = true;
        let mut sep = |b: &mut SqlBuilder| {
            if !first {
                b.push(", ");
            }
            first = false;
        };
        for (col, v) in set {
            sep(&mut b);
            b.push(col).push(" = ");
            b.bind(v.clone());
        }
        if query.table == Table::Tasks {
            let find = |c: &str| set.iter().find(|(k, _)| *k == c).map(|(_, v)| v.clone());
            // The engine keeps its own claim columns in step with what the
            // caller changed.
            if let Some(p) = find("priority") {
                let rank = match &p {
                    Value::Text(s) => Priority::rank_of_name(s),
                    _ => Priority::Normal.rank(),
                };
                sep(&mut b);
                b.push("priority_rank = ");
                b.bind(Value::Int(rank));
            }
            if let Some(start) = find("start_at") {
                sep(&mut b);
                b.push("available_at = COALESCE(");
                b.bind(start);
                b.push(", ");
                b.bind(Value::Text(ts(&now)));
                b.push(")");
            } else if find("status") == Some(Value::Int(Status::Pending.code())) {
                sep(&mut b);
                b.push("available_at = CASE WHEN start_at > ");
                b.bind(Value::Text(ts(&now)));
                b.push(" THEN start_at ELSE ");
                b.bind(Value::Text(ts(&now)));
                b.push(" END, cancel_requested = 0");
            }
        }
        if !set.iter().any(|(c, _)| *c == "updated_at") {
            sep(&mut b);
            b.push("updated_at = ");
            b.bind(Value::Text(ts(&now)));
        }
        if query.limit.is_some() || !query.order.is_empty() {
            b.push(" WHERE id IN (SELECT id FROM ").push(&table);
            b.where_clause(query);
            b.order_limit(query, "id ASC");
            b.push(")");
        } else {
            b.where_clause(query);
        }
        let r = Self::build(b).execute(&self.pool).await.map_err(classify)?;
        Ok(r.rows_affected())
    }
}

async fn migrate_on(conn: &mut sqlx::SqliteConnection, p: &str) -> StoreResult<()> {
    use sqlx::Connection;
    // IMMEDIATE takes the write lock first, so two processes migrating at
    // once queue up instead of interleaving.
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(classify)?;
    let existed: Option<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{p}s_tasks'"
    )))
    .fetch_optional(&mut *tx)
    .await
    .map_err(classify)?;
    for stmt in statements(MIGRATION_TABLES, p) {
        sqlx::query(AssertSqlSafe(stmt)).execute(&mut *tx).await.map_err(classify)?;
    }
    tx.commit().await.map_err(classify)?;

    // A table created by the PHP package lacks the engine's columns.
    let task_cols = columns_of(&mut *conn, &format!("{p}s_tasks")).await?;
    let converting = existed.is_some() && !task_cols.iter().any(|c| c == "available_at");
    let mut tx = conn.begin().await.map_err(classify)?;
    for (col, def) in ENGINE_TASK_COLUMNS {
        if !task_cols.iter().any(|c| c == col) {
            sqlx::query(AssertSqlSafe(format!("ALTER TABLE {p}s_tasks ADD COLUMN {col} {def}")))
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        }
    }
    let worker_cols = columns_of(&mut *tx, &format!("{p}s_workers")).await?;
    for (col, def) in ENGINE_WORKER_COLUMNS {
        if !worker_cols.iter().any(|c| c == col) {
            sqlx::query(AssertSqlSafe(format!("ALTER TABLE {p}s_workers ADD COLUMN {col} {def}")))
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        }
    }
    if converting {
        // The PHP package used 10 queued, 30 preparing, 50 running,
        // 80 completed, 100 failed. Order matters: 30 must move before 80
        // becomes 30, and 50 before anything becomes 50.
        for (from, to) in [(30, 15), (50, 20), (80, 30), (100, 40)] {
            sqlx::query(AssertSqlSafe(format!("UPDATE {p}s_tasks SET status = {to} WHERE status = {from}")))
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        }
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE {p}s_tasks SET available_at = COALESCE(start_at, created_at), \
             priority_rank = CASE priority WHEN 'high' THEN 1 WHEN 'low' THEN 10 ELSE 5 END"
        )))
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
    }
    for stmt in statements(MIGRATION_INDEXES, p) {
        sqlx::query(AssertSqlSafe(stmt)).execute(&mut *tx).await.map_err(classify)?;
    }
    tx.commit().await.map_err(classify)?;
    Ok(())
}

async fn columns_of(conn: &mut sqlx::SqliteConnection, table: &str) -> StoreResult<Vec<String>> {
    let sql = format!("SELECT name FROM pragma_table_info('{table}')");
    let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&mut *conn).await.map_err(classify)?;
    rows.iter().map(|r| r.try_get::<String, _>("name").map_err(classify)).collect()
}

/// The statements of a migration file, comments removed, prefix applied.
fn statements(file: &str, prefix: &str) -> Vec<String> {
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
