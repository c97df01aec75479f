//! The SQLite dialect (embedded default).
//!
//! SQLite has a single writer, so a claim needs no `SKIP LOCKED`: one
//! `UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING *` statement is atomic
//! against every other process. WAL lets readers proceed during writes, and
//! `busy_timeout` makes concurrent writers wait instead of failing.
//!
//! This dialect talks to SQLite through rusqlite on the calling thread, not
//! through sqlx: sqlx runs each SQLite connection on a thread of its own,
//! and the two thread hops per query cost 86 µs for a primary-key read and
//! 173 µs for an insert on the 2-core test box (examples/insert_probe.rs),
//! against a target of 50 µs per task. The futures below never await, so
//! `block_on` from the PHP thread runs the query right there.

use super::sql::{Placeholders, SqlBuilder};
use super::*;
use crate::engine::query::{Table, Value};
use crate::engine::task::{Priority, Status};
use crate::engine::time;
use parking_lot::Mutex;
use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{params, Connection, OptionalExtension, Row, ToSql, TransactionBehavior};
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

/// Bound parameters per statement: SQLite's `SQLITE_MAX_VARIABLE_NUMBER`
/// since 3.32 (the bundled library is newer), so a multi-row insert takes
/// 32766 / 16 = 2047 rows.
const SQLITE_MAX_VARIABLES: usize = 32766;

/// The statements, with the table prefix substituted once.
struct Statements {
    prefix: String,
    tasks: String,
    /// `task::COLUMNS`, in that order: task rows are read by position.
    task_columns: String,
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
    state_of: Arc<str>,
    select_expired: Arc<str>,
    leader_acquire: Arc<str>,
    rescue_retry: Arc<str>,
    rescue_fail: Arc<str>,
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
        let tc = crate::engine::task::COLUMNS.join(", ");
        let s = |sql: String| -> Arc<str> { Arc::from(sql) };
        Statements {
            // Only the id comes back: the caller knows every other value, and
            // decoding the whole row costs more than the insert's own work.
            insert_task: s(format!(
                "INSERT INTO {t} (identifier, action, status, message, started_by, meta, result, start_at, attempts, \
                 max_attempts, priority, priority_rank, progress, created_at, updated_at, available_at, unique_key) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
            )),
            get_task: s(format!("SELECT {tc} FROM {t} WHERE id = ?")),
            // Edge Claimed. Single writer: the subquery and the update are one
            // atomic statement, so no row is claimed twice and the outer WHERE
            // needs only the ids. It must not repeat `status = 10`: SQLite then
            // plans the outer loop as a search of the claim index over every
            // pending row, testing each against the id list (cost grows with
            // the backlog); with ids alone it is one rowid lookup per id
            // (tests/store.rs reads the plan). RETURNING order is not
            // defined in SQLite; the caller sorts.
            claim: s(format!(
                "UPDATE {t} SET status = 20, attempts = attempts + 1, started_at = ?1, updated_at = ?1, \
                 lease_owner = ?2, lease_expires_at = ?3, cancel_requested = 0 \
                 WHERE id IN (SELECT id FROM {t} WHERE status = 10 AND (priority_rank, id) > (?5, ?6) AND \
                 (available_at IS NULL OR available_at <= ?1) ORDER BY priority_rank, id LIMIT ?4) RETURNING {tc}"
            )),
            claim_id: s(format!(
                "UPDATE {t} SET status = 20, attempts = attempts + 1, started_at = ?1, updated_at = ?1, \
                 lease_owner = ?2, lease_expires_at = ?3, cancel_requested = 0 WHERE id = ?4 AND status = 10 RETURNING {tc}"
            )),
            // Edge Finished. Guarded: only a task still held (15/20) moves, so
            // what the worker decided itself (markFailed...) stands; a worker
            // that marked itself completed still gets progress 100.
            finish_completed: s(format!(
                "UPDATE {t} SET status = CASE WHEN status IN (15, 20) THEN 30 ELSE status END, \
                 progress = CASE WHEN status IN (15, 20, 30) THEN 100 ELSE progress END, \
                 message = CASE WHEN status IN (15, 20) THEN ?1 ELSE message END, \
                 finished_at = COALESCE(finished_at, ?2), duration = ?3, peak_memory = ?4, \
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = ?2 WHERE id = ?5 RETURNING status, message"
            )),
            // Edge FailedWithAttemptsLeft.
            finish_retry: s(format!(
                "UPDATE {t} SET status = 10, message = ?1, last_error = ?2, available_at = ?3, duration = ?4, \
                 peak_memory = ?5, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?6 \
                 WHERE id = ?7 AND status IN (15, 20) RETURNING status, message"
            )),
            // Edges AttemptsExhausted / WorkerMissing.
            finish_failed: s(format!(
                "UPDATE {t} SET status = 40, message = ?1, last_error = ?2, finished_at = ?3, duration = ?4, \
                 peak_memory = ?5, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?3 \
                 WHERE id = ?6 AND status IN (15, 20) RETURNING status, message"
            )),
            // Edge CancelSeen.
            finish_cancelled: s(format!(
                "UPDATE {t} SET status = 50, message = ?1, finished_at = ?2, duration = ?3, peak_memory = ?4, \
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = ?2 WHERE id = ?5 AND status IN (15, 20) RETURNING status, message"
            )),
            // Edge WorkerInactive: the attempt is given back.
            finish_released: s(format!(
                "UPDATE {t} SET status = 10, attempts = MAX(attempts - 1, 0), message = ?1, available_at = ?2, \
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = ?3 WHERE id = ?4 AND status IN (15, 20) RETURNING status, message"
            )),
            // Progress mirror; also tells the worker about a cancel request.
            progress: s(format!(
                "UPDATE {t} SET progress = ?1, message = ?2, snapshot = ?3, updated_at = ?4 WHERE id = ?5 \
                 RETURNING status, cancel_requested"
            )),
            // Edge CancelPending.
            cancel_pending: s(format!(
                "UPDATE {t} SET status = 50, message = 'Cancelled', finished_at = ?1, updated_at = ?1 \
                 WHERE id = ?2 AND {}",
                crate::engine::task::state::status_condition(crate::engine::task::Edge::CancelPending)
            )),
            cancel_running: s(format!(
                "UPDATE {t} SET cancel_requested = 1, updated_at = ?1 WHERE id = ?2 AND {}",
                crate::engine::task::state::status_condition(crate::engine::task::Edge::CancelRequested)
            )),
            status_of: s(format!("SELECT status FROM {t} WHERE id = ?")),
            // Take the named lease when it is free, ours, or expired; the
            // row comes back only when we hold it.
            leader_acquire: s(format!(
                "INSERT INTO {prefix}s_task_leaders (name, owner, expires_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at \
                 WHERE {prefix}s_task_leaders.owner = excluded.owner OR {prefix}s_task_leaders.expires_at < ?4 RETURNING owner"
            )),
            // The rescuer's batch: running rows past their lease, by id cursor.
            select_expired: s(format!(
                "SELECT {tc} FROM {t} WHERE status IN (15, 20) AND lease_expires_at < ?1 AND id > ?2 ORDER BY id LIMIT ?3"
            )),
            // Edge LeaseExpired with attempts left. The expiry is checked
            // again so that a heartbeat that landed meanwhile wins.
            rescue_retry: s(format!(
                "UPDATE {t} SET status = 10, available_at = ?1, message = ?2, last_error = ?2, lease_owner = NULL, \
                 lease_expires_at = NULL, cancel_requested = 0, updated_at = ?3 \
                 WHERE id = ?4 AND status IN (15, 20) AND lease_expires_at < ?3"
            )),
            // Edge LeaseExpired, attempts exhausted.
            rescue_fail: s(format!(
                "UPDATE {t} SET status = 40, message = ?1, last_error = ?1, finished_at = ?2, lease_owner = NULL, \
                 lease_expires_at = NULL, updated_at = ?2 WHERE id = ?3 AND status IN (15, 20) AND lease_expires_at < ?2"
            )),
            // Read inside the finishing transaction: cheap, and exact.
            state_of: s(format!("SELECT status, message FROM {t} WHERE id = ?")),
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
            prefix: prefix.to_string(),
            tasks: t,
            task_columns: tc,
            workers: w,
        }
    }

    /// A multi-row task insert of `rows` rows. Conflicts on the unique
    /// index are skipped, not failed: the caller pairs the RETURNING rows
    /// with its tasks (`match_returned`) and looks the skipped keys up.
    /// Built per size; the statement cache keeps the sizes in use prepared.
    fn insert_many(&self, rows: usize) -> String {
        let row = "(?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)";
        let mut sql = String::with_capacity(64 + TASK_INSERT_COLUMNS.len() + rows * (row.len() + 2) + 48);
        sql.push_str(&format!("INSERT INTO {} ({TASK_INSERT_COLUMNS}) VALUES ", self.tasks));
        for i in 0..rows {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(row);
        }
        sql.push_str(" ON CONFLICT DO NOTHING RETURNING id, unique_key");
        sql
    }

    fn table(&self, table: Table) -> &str {
        match table {
            Table::Tasks => &self.tasks,
            Table::Workers => &self.workers,
        }
    }
}

pub struct SqliteStore {
    conn: Mutex<Connection>,
    st: Statements,
}

type Sql = rusqlite::Error;

fn classify(e: Sql) -> StoreError {
    use rusqlite::ErrorCode;
    let kind = match &e {
        rusqlite::Error::SqliteFailure(f, _) => match f.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StoreErrorKind::Busy,
            ErrorCode::ConstraintViolation => StoreErrorKind::Conflict,
            ErrorCode::CannotOpen | ErrorCode::NotADatabase | ErrorCode::ReadOnly | ErrorCode::SystemIoFailure => {
                StoreErrorKind::Unavailable
            }
            _ if e.to_string().starts_with("no such table") => StoreErrorKind::SchemaMissing,
            _ => StoreErrorKind::Other,
        },
        rusqlite::Error::SqlInputError { msg, .. } if msg.starts_with("no such table") => StoreErrorKind::SchemaMissing,
        _ => StoreErrorKind::Other,
    };
    StoreError::new(kind, e)
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Owned(SqlValue::Null),
            Value::Bool(b) => ToSqlOutput::Owned(SqlValue::Integer(*b as i64)),
            Value::Int(i) => ToSqlOutput::Owned(SqlValue::Integer(*i)),
            Value::Float(f) => ToSqlOutput::Owned(SqlValue::Real(*f)),
            Value::Text(s) => ToSqlOutput::Borrowed(rusqlite::types::ValueRef::Text(s.as_bytes())),
        })
    }
}

/// A bound text the caller keeps (no copy).
fn text_ref(s: &str) -> ToSqlOutput<'_> {
    ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))
}

fn opt_text_ref(s: &Option<String>) -> ToSqlOutput<'_> {
    match s {
        Some(s) => text_ref(s),
        None => ToSqlOutput::Owned(SqlValue::Null),
    }
}

/// The first row of a writing statement with RETURNING, the statement
/// stepped to its end. SQLite runs its automatic WAL checkpoint only when an
/// autocommit statement steps to SQLITE_DONE; `query_row` resets it after
/// the first row, so with one create per transaction the WAL was never
/// checkpointed: 448 MB after 20,000 creates, every read slower for it.
fn returning_one<T>(
    stmt: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
    f: impl FnOnce(&Row) -> Result<T, Sql>,
) -> Result<Option<T>, Sql> {
    let mut rows = stmt.query(params)?;
    let first = match rows.next()? {
        Some(r) => Some(f(r)?),
        None => None,
    };
    while rows.next()?.is_some() {}
    Ok(first)
}

/// The claim statement's arguments, in the order of its `?N` numbers.
fn claim_args(p: &TaskClaimParams) -> [Value; 6] {
    [
        Value::Text(ts(&p.now)),
        Value::Text(p.owner.clone()),
        Value::Text(ts(&p.lease_expires_at)),
        Value::Int(p.limit),
        Value::Int(p.after.0),
        Value::Int(p.after.1),
    ]
}

fn ts(t: &crate::engine::time::Timestamp) -> String {
    time::to_db(t)
}

fn get_ts<I: rusqlite::RowIndex>(row: &Row, col: I) -> Result<Option<crate::engine::time::Timestamp>, Sql> {
    Ok(row.get::<_, Option<String>>(col)?.as_deref().and_then(time::from_db))
}

/// A task row from a statement that selects `task::COLUMNS` in order: read
/// by position, since looking each column up by name cost 18 % of a worker's
/// time (rusqlite compares the names one by one).
fn task_from_row(row: &Row) -> Result<TaskRow, Sql> {
    Ok(TaskRow {
        id: row.get(0)?,
        identifier: row.get(1)?,
        action: row.get(2)?,
        status: row.get(3)?,
        message: row.get(4)?,
        started_by: row.get(5)?,
        meta: row.get(6)?,
        result: row.get(7)?,
        start_at: get_ts(row, 8)?,
        finished_at: get_ts(row, 9)?,
        attempts: row.get(10)?,
        max_attempts: row.get(11)?,
        priority: row.get(12)?,
        progress: row.get(13)?,
        created_at: get_ts(row, 14)?,
        updated_at: get_ts(row, 15)?,
        available_at: get_ts(row, 16)?,
        started_at: get_ts(row, 17)?,
        duration: row.get(18)?,
        peak_memory: row.get(19)?,
        last_error: row.get(20)?,
        cancel_requested: row.get::<_, i64>(21)? != 0,
        lease_owner: row.get(22)?,
        lease_expires_at: get_ts(row, 23)?,
        snapshot: row.get(24)?,
        unique_key: row.get(25)?,
    })
}

fn worker_from_row(row: &Row) -> Result<WorkerRow, Sql> {
    Ok(WorkerRow {
        id: row.get("id")?,
        uuid: row.get("uuid")?,
        identifier: row.get("identifier")?,
        scope: row.get("scope")?,
        class: row.get("class")?,
        active: row.get::<_, i64>("active")? != 0,
        position: row.get("position")?,
        settings: row.get::<_, Option<String>>("settings")?.unwrap_or_else(|| "{}".into()),
        hidden: row.get("hidden")?,
        title: row.get("title")?,
        description: row.get("description")?,
        icon: row.get("icon")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

fn summary_from_row(row: &Row) -> Result<TaskSummaryRow, Sql> {
    Ok(TaskSummaryRow {
        total: row.get("total")?,
        queued: row.get("queued")?,
        running: row.get("running")?,
        completed: row.get("completed")?,
        failed: row.get("failed")?,
        cancelled: row.get("cancelled")?,
        average_duration: row.get("avg_duration")?,
        average_memory: row.get("avg_memory")?,
        total_duration: row.get("sum_duration")?,
    })
}

/// The aggregate columns shared by the summary and per-worker statistics.
/// Durations and memory only count attempts that ran to an end.
/// `/metrics` per identifier; `?1` is now (only due pending tasks age).
const COUNTERS_SELECT: &str = "SELECT identifier, \
    COUNT(CASE WHEN status = 10 THEN 1 END) AS pending, \
    COUNT(CASE WHEN status IN (15, 20) THEN 1 END) AS running, \
    COUNT(CASE WHEN status = 30 THEN 1 END) AS completed, \
    COUNT(CASE WHEN status = 40 THEN 1 END) AS failed, \
    COUNT(CASE WHEN status = 50 THEN 1 END) AS cancelled, \
    COALESCE(SUM(CASE WHEN attempts > 1 THEN attempts - 1 ELSE 0 END), 0) AS retried, \
    MIN(CASE WHEN status = 10 AND available_at <= ?1 THEN available_at END) AS oldest_pending";

const SUMMARY_COLUMNS: &str = "COUNT(*) AS total, \
    COALESCE(SUM(CASE WHEN status = 10 THEN 1 ELSE 0 END), 0) AS queued, \
    COALESCE(SUM(CASE WHEN status IN (15, 20) THEN 1 ELSE 0 END), 0) AS running, \
    COALESCE(SUM(CASE WHEN status = 30 THEN 1 ELSE 0 END), 0) AS completed, \
    COALESCE(SUM(CASE WHEN status = 40 THEN 1 ELSE 0 END), 0) AS failed, \
    COALESCE(SUM(CASE WHEN status = 50 THEN 1 ELSE 0 END), 0) AS cancelled, \
    AVG(CASE WHEN status IN (30, 40) THEN duration END) AS avg_duration, \
    AVG(CASE WHEN status IN (30, 40) THEN peak_memory END) AS avg_memory, \
    SUM(CASE WHEN status IN (30, 40) THEN duration END) AS sum_duration";

fn open(path: &Path) -> Result<Connection, Sql> {
    let conn = Connection::open(path)?;
    // NORMAL in WAL mode: a commit survives a process crash; only an OS
    // crash can lose the last transactions.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating the file and folder) and migrates.
    pub async fn connect(path: &Path, prefix: &str) -> StoreResult<SqliteStore> {
        if let Some(dir) = path.parent() {
            if let Err(e) = std::fs::create_dir_all(dir) {
                return Err(StoreError::new(StoreErrorKind::Unavailable, e));
            }
        }
        let mut conn = open(path).map_err(classify)?;
        migrate_on(&mut conn, prefix)?;
        Ok(SqliteStore { conn: Mutex::new(conn), st: Statements::new(prefix) })
    }

    fn select_sql(&self, query: &crate::engine::query::Query, head: &str) -> SqlBuilder {
        let mut b = SqlBuilder::new(Placeholders::Question);
        b.push(head).push(self.st.table(query.table));
        b.where_clause(query);
        b
    }

    fn rows<T>(&self, sql: &str, args: &[Value], f: impl Fn(&Row) -> Result<T, Sql>) -> StoreResult<Vec<T>> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare_cached(sql).map_err(classify)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| f(r)).map_err(classify)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(classify)
    }

    fn execute(&self, sql: &str, args: &[Value]) -> StoreResult<usize> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare_cached(sql).map_err(classify)?;
        stmt.execute(rusqlite::params_from_iter(args.iter())).map_err(classify)
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> StoreResult<()> {
        let mut conn = self.conn.lock();
        let prefix = self.st.prefix.clone();
        migrate_on(&mut conn, &prefix)
    }

    async fn task_insert(&self, t: &NewTask, now: Timestamp) -> StoreResult<TaskRow> {
        let available = match t.start_at {
            Some(s) if s > now => s,
            _ => now,
        };
        let now_s = ts(&now);
        let conn = self.conn.lock();
        let mut stmt = conn.prepare_cached(&self.st.insert_task).map_err(classify)?;
        let id: i64 = returning_one(
            &mut stmt,
            params![
                t.identifier,
                t.action,
                t.status.code(),
                t.message,
                t.started_by,
                t.meta,
                t.result,
                t.start_at.as_ref().map(ts),
                t.max_attempts,
                t.priority.name(),
                t.priority.rank(),
                t.progress,
                now_s,
                now_s,
                ts(&available),
                t.unique_key,
            ],
            |r| r.get(0),
        )
        .and_then(|id| id.ok_or(rusqlite::Error::QueryReturnedNoRows))
        .map_err(classify)?;
        Ok(t.row(id, now, available))
    }

    async fn task_insert_many(&self, p: &TaskInsertManyParams<'_>) -> StoreResult<Vec<Created>> {
        if p.tasks.is_empty() {
            return Ok(Vec::new());
        }
        let now_s = ts(&p.now);
        let mut conn = self.conn.lock();
        // IMMEDIATE: the write lock first, so the batch never fails half-way
        // on a writer that came in between (busy_timeout waits for it), and
        // nothing changes under the key lookup below.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(classify)?;
        let mut ids: Vec<Option<i64>> = Vec::with_capacity(p.tasks.len());
        for chunk in insert_chunks(p.tasks, SQLITE_MAX_VARIABLES / TASK_INSERT_PARAMS, INSERT_CHUNK_BYTES) {
            let tasks = &p.tasks[chunk];
            // Borrowed where the task holds the value: a batch of 100,000
            // rows should not copy every identifier and data document once
            // more on its way to SQLite.
            let later: Vec<Option<(Option<String>, String)>> =
                tasks.iter().map(|t| t.start_at.map(|s| (Some(ts(&s)), ts(&available_at(t, p.now))))).collect();
            let mut args: Vec<ToSqlOutput<'_>> = Vec::with_capacity(tasks.len() * TASK_INSERT_PARAMS);
            let (text, opt) = (text_ref, opt_text_ref);
            let int = |i: i64| ToSqlOutput::Owned(SqlValue::Integer(i));
            for (t, later) in tasks.iter().zip(&later) {
                let (start, available) = match later {
                    Some((start, available)) => (opt(start), text(available)),
                    None => (ToSqlOutput::Owned(SqlValue::Null), text(&now_s)),
                };
                args.extend([
                    text(&t.identifier),
                    text(&t.action),
                    int(t.status.code()),
                    opt(&t.message),
                    t.started_by.map(int).unwrap_or(ToSqlOutput::Owned(SqlValue::Null)),
                    opt(&t.meta),
                    opt(&t.result),
                    start,
                    int(t.max_attempts),
                    text(t.priority.name()),
                    int(t.priority.rank()),
                    int(t.progress),
                    text(&now_s),
                    text(&now_s),
                    available,
                    opt(&t.unique_key),
                ]);
            }
            let sql = self.st.insert_many(tasks.len());
            let mut stmt = tx.prepare_cached(&sql).map_err(classify)?;
            let returned = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?)))
                .map_err(classify)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(classify)?;
            ids.extend(match_returned(tasks, returned)?);
        }
        // Skipped rows: their key is held by an active task, which the
        // write lock keeps active until commit, so one read finds them all.
        let skipped: Vec<&str> =
            p.tasks.iter().zip(&ids).filter(|(_, id)| id.is_none()).filter_map(|(t, _)| t.unique_key.as_deref()).collect();
        let mut holders = std::collections::HashMap::new();
        for keys in skipped.chunks(SQLITE_MAX_VARIABLES) {
            let sql = format!(
                "SELECT id, unique_key FROM {} WHERE status IN (10, 15, 20) AND unique_key IN ({})",
                self.st.tasks,
                vec!["?"; keys.len()].join(", ")
            );
            let mut stmt = tx.prepare(&sql).map_err(classify)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(keys.iter()), |r| Ok((r.get::<_, String>(1)?, r.get::<_, i64>(0)?)))
                .map_err(classify)?;
            for r in rows {
                let (k, id) = r.map_err(classify)?;
                holders.insert(k, id);
            }
        }
        let mut out = Vec::with_capacity(ids.len());
        for (t, id) in p.tasks.iter().zip(ids) {
            out.push(match id {
                Some(id) => Created { id, existing: false },
                None => {
                    let key = t.unique_key.as_deref().unwrap_or_default();
                    let id = holders.get(key).copied().ok_or_else(|| {
                        StoreError::new(StoreErrorKind::Conflict, format!("unique key {key:?} is taken by no active task"))
                    })?;
                    Created { id, existing: true }
                }
            });
        }
        tx.commit().map_err(classify)?;
        Ok(out)
    }

    async fn task_get(&self, id: i64) -> StoreResult<Option<TaskRow>> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare_cached(&self.st.get_task).map_err(classify)?;
        stmt.query_row(params![id], task_from_row).optional().map_err(classify)
    }

    async fn task_select(&self, query: &crate::engine::query::Query) -> StoreResult<Vec<TaskRow>> {
        let mut b = self.select_sql(query, &format!("SELECT {} FROM ", self.st.task_columns));
        b.order_limit(query, "id ASC");
        self.rows(&b.sql, &b.values, task_from_row)
    }

    async fn task_claim(&self, p: &TaskClaimParams) -> StoreResult<Vec<TaskRow>> {
        let mut tasks = self.rows(&self.st.claim, &claim_args(p), task_from_row)?;
        tasks.sort_by_key(|t| (Priority::rank_of_name(&t.priority), t.id));
        Ok(tasks)
    }

    async fn explain_claim(&self) -> StoreResult<String> {
        let sql = format!("EXPLAIN QUERY PLAN {}", self.st.claim);
        let lines = self.rows(&sql, &claim_args(&TaskClaimParams::explain()), |r| r.get::<_, String>(3))?;
        Ok(lines.join("\n"))
    }

    async fn task_claim_id(&self, id: i64, p: &TaskClaimParams) -> StoreResult<Option<TaskRow>> {
        let args = [Value::Text(ts(&p.now)), Value::Text(p.owner.clone()), Value::Text(ts(&p.lease_expires_at)), Value::Int(id)];
        Ok(self.rows(&self.st.claim_id, &args, task_from_row)?.into_iter().next())
    }

    async fn task_finish_many(&self, outcomes: &[Outcome], now: Timestamp) -> StoreResult<Vec<Finished>> {
        if outcomes.is_empty() {
            return Ok(Vec::new());
        }
        let now_s = ts(&now);
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(classify)?;
        let mut finished = Vec::with_capacity(outcomes.len());
        for o in outcomes {
            // Each finish returns the row's state, so one statement per task
            // tells where it ended; a guarded one that left the row alone
            // (the worker decided itself) returns nothing, and the state is
            // read instead.
            let state = |r: &Row| Ok(Finished { id: o.id(), status: r.get(0)?, message: r.get(1)? });
            let r = match o {
                Outcome::Completed { id, message, duration, peak_memory } => tx
                    .prepare_cached(&self.st.finish_completed)
                    .and_then(|mut s| returning_one(&mut s, params![message, now_s, duration, peak_memory, id], state)),
                Outcome::Retry { id, message, error, available_at, duration, peak_memory } => {
                    tx.prepare_cached(&self.st.finish_retry).and_then(|mut s| {
                        returning_one(&mut s, params![message, error, ts(available_at), duration, peak_memory, now_s, id], state)
                    })
                }
                Outcome::Failed { id, message, error, duration, peak_memory } => tx
                    .prepare_cached(&self.st.finish_failed)
                    .and_then(|mut s| returning_one(&mut s, params![message, error, now_s, duration, peak_memory, id], state)),
                Outcome::Cancelled { id, message, duration, peak_memory } => tx
                    .prepare_cached(&self.st.finish_cancelled)
                    .and_then(|mut s| returning_one(&mut s, params![message, now_s, duration, peak_memory, id], state)),
                Outcome::Released { id, message, available_at } => tx
                    .prepare_cached(&self.st.finish_released)
                    .and_then(|mut s| returning_one(&mut s, params![message, ts(available_at), now_s, id], state)),
            };
            let f = match r.map_err(classify)? {
                Some(f) => Some(f),
                None => tx
                    .prepare_cached(&self.st.state_of)
                    .and_then(|mut read| read.query_row(params![o.id()], state).optional())
                    .map_err(classify)?,
            };
            finished.extend(f);
        }
        tx.commit().map_err(classify)?;
        Ok(finished)
    }

    async fn task_extend_leases(&self, p: &LeaseExtendParams) -> StoreResult<u64> {
        if p.ids.is_empty() {
            return Ok(0);
        }
        let mut b = SqlBuilder::new(Placeholders::Question);
        b.push("UPDATE ").push(&self.st.tasks).push(" SET lease_expires_at = ");
        b.bind(Value::Text(ts(&p.expires_at)));
        b.push(" WHERE status IN (15, 20) AND lease_owner = ");
        b.bind(Value::Text(p.owner.clone()));
        b.push(" AND id IN (");
        for (i, id) in p.ids.iter().enumerate() {
            if i > 0 {
                b.push(", ");
            }
            b.bind(Value::Int(*id));
        }
        b.push(")");
        Ok(self.execute(&b.sql, &b.values)? as u64)
    }

    async fn task_select_expired(&self, now: Timestamp, after_id: i64, limit: i64) -> StoreResult<Vec<TaskRow>> {
        self.rows(&self.st.select_expired, &[Value::Text(ts(&now)), Value::Int(after_id), Value::Int(limit)], task_from_row)
    }

    async fn task_rescue(&self, p: &RescueParams) -> StoreResult<bool> {
        let now = Value::Text(ts(&p.now));
        let n = match &p.to {
            Rescue::Retry { available_at } => self.execute(
                &self.st.rescue_retry,
                &[Value::Text(ts(available_at)), Value::Text(p.message.clone()), now, Value::Int(p.id)],
            )?,
            Rescue::Fail => self.execute(&self.st.rescue_fail, &[Value::Text(p.message.clone()), now, Value::Int(p.id)])?,
        };
        Ok(n == 1)
    }

    async fn task_progress(&self, p: &TaskProgressParams) -> StoreResult<Option<ProgressAck>> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare_cached(&self.st.progress).map_err(classify)?;
        returning_one(&mut stmt, params![p.progress, p.message, p.snapshot, ts(&p.now), p.id], |r| {
            Ok(ProgressAck { status: r.get(0)?, cancel_requested: r.get::<_, i64>(1)? != 0 })
        })
        .map_err(classify)
    }

    async fn task_cancel(&self, id: i64, now: Timestamp) -> StoreResult<CancelOutcome> {
        let now_s = Value::Text(ts(&now));
        if self.execute(&self.st.cancel_pending, &[now_s.clone(), Value::Int(id)])? == 1 {
            return Ok(CancelOutcome::Cancelled);
        }
        if self.execute(&self.st.cancel_running, &[now_s, Value::Int(id)])? == 1 {
            return Ok(CancelOutcome::Requested);
        }
        let status = self.rows(&self.st.status_of, &[Value::Int(id)], |r| r.get::<_, i64>(0))?;
        Ok(match status.first() {
            Some(s) => CancelOutcome::NotCancellable(*s),
            None => CancelOutcome::NotFound,
        })
    }

    async fn task_retry(&self, id: i64, now: Timestamp) -> StoreResult<bool> {
        Ok(self.execute(&self.st.retry, &[Value::Text(ts(&now)), Value::Int(id)])? == 1)
    }

    async fn task_delete_completed_before(&self, before: Timestamp) -> StoreResult<Vec<i64>> {
        self.rows(&self.st.delete_completed, &[Value::Text(ts(&before))], |r| r.get::<_, i64>("id"))
    }

    async fn task_count_by_status(&self) -> StoreResult<Vec<(i64, i64)>> {
        self.rows(&self.st.count_by_status, &[], |r| Ok((r.get::<_, i64>("status")?, r.get::<_, i64>("n")?)))
    }

    async fn task_summary(&self, since: Timestamp) -> StoreResult<TaskSummaryRow> {
        let sql = format!("SELECT {SUMMARY_COLUMNS} FROM {} WHERE created_at >= ?", self.st.tasks);
        let mut rows = self.rows(&sql, &[Value::Text(ts(&since))], summary_from_row)?;
        Ok(rows.pop().unwrap_or_default())
    }

    async fn task_worker_stats(&self, since: Timestamp, identifier: Option<&str>) -> StoreResult<Vec<WorkerStatsRow>> {
        let filter = if identifier.is_some() { " AND identifier = ?" } else { "" };
        let sql = format!(
            "SELECT identifier, {SUMMARY_COLUMNS}, MAX(COALESCE(finished_at, started_at, updated_at)) AS last_execution \
             FROM {} WHERE created_at >= ?{filter} GROUP BY identifier ORDER BY identifier",
            self.st.tasks
        );
        let mut args = vec![Value::Text(ts(&since))];
        if let Some(i) = identifier {
            args.push(Value::Text(i.to_string()));
        }
        self.rows(&sql, &args, |r| {
            Ok(WorkerStatsRow {
                identifier: r.get("identifier")?,
                summary: summary_from_row(r)?,
                last_execution: get_ts(r, "last_execution")?,
            })
        })
    }

    async fn task_common_errors(&self, since: Timestamp, limit: i64) -> StoreResult<Vec<(String, i64)>> {
        let sql = format!(
            "SELECT last_error, COUNT(*) AS n FROM {} WHERE status = 40 AND created_at >= ? AND last_error IS NOT NULL \
             GROUP BY last_error ORDER BY n DESC, last_error LIMIT ?",
            self.st.tasks
        );
        self.rows(&sql, &[Value::Text(ts(&since)), Value::Int(limit)], |r| {
            Ok((r.get::<_, String>("last_error")?, r.get::<_, i64>("n")?))
        })
    }

    async fn task_timeline(&self, since: Timestamp) -> StoreResult<Vec<TimelineRow>> {
        // Timestamps are fixed-width text, so the hour is its first 13
        // characters (`YYYY-MM-DD HH`) in both the engine's and the PHP
        // package's format.
        let t = &self.st.tasks;
        let sql = format!(
            "SELECT h, SUM(c) AS created, SUM(ok) AS completed, SUM(ko) AS failed, AVG(d) AS avg_duration FROM ( \
             SELECT substr(created_at, 1, 13) AS h, 1 AS c, 0 AS ok, 0 AS ko, NULL AS d FROM {t} WHERE created_at >= ?1 \
             UNION ALL \
             SELECT substr(finished_at, 1, 13), 0, CASE WHEN status = 30 THEN 1 ELSE 0 END, \
             CASE WHEN status = 40 THEN 1 ELSE 0 END, duration FROM {t} WHERE created_at >= ?2 AND finished_at >= ?1 AND status IN (30, 40) \
             ) x GROUP BY h ORDER BY h"
        );
        let floor = Value::Text(ts(&timeline_created_floor(since)));
        let rows = self.rows(&sql, &[Value::Text(ts(&since)), floor], |r| {
            Ok((
                r.get::<_, String>("h")?,
                r.get::<_, i64>("created")?,
                r.get::<_, i64>("completed")?,
                r.get::<_, i64>("failed")?,
                r.get::<_, Option<f64>>("avg_duration")?,
            ))
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(h, created, completed, failed, average_duration)| {
                Some(TimelineRow { hour: parse_hour(&h)?, created, completed, failed, average_duration })
            })
            .collect())
    }

    async fn task_latest_per_identifier(&self) -> StoreResult<Vec<TaskRow>> {
        let t = &self.st.tasks;
        let sql = format!(
            "SELECT {} FROM {t} WHERE id IN (SELECT MAX(id) FROM {t} GROUP BY identifier) ORDER BY identifier",
            self.st.task_columns
        );
        self.rows(&sql, &[], task_from_row)
    }

    async fn task_counters(&self, now: Timestamp) -> StoreResult<Vec<IdentifierCounters>> {
        let sql = format!("{COUNTERS_SELECT} FROM {} GROUP BY identifier ORDER BY identifier", self.st.tasks);
        self.rows(&sql, &[Value::Text(ts(&now))], |r| {
            Ok(IdentifierCounters {
                identifier: r.get("identifier")?,
                pending: r.get("pending")?,
                running: r.get("running")?,
                completed: r.get("completed")?,
                failed: r.get("failed")?,
                cancelled: r.get("cancelled")?,
                retried: r.get("retried")?,
                oldest_pending: get_ts(r, "oldest_pending")?,
            })
        })
    }

    async fn worker_select(&self, query: &crate::engine::query::Query) -> StoreResult<Vec<WorkerRow>> {
        let mut b = self.select_sql(query, "SELECT * FROM ");
        b.order_limit(query, "position ASC, identifier ASC");
        self.rows(&b.sql, &b.values, worker_from_row)
    }

    async fn worker_get(&self, identifier: &str) -> StoreResult<Option<WorkerRow>> {
        Ok(self.rows(&self.st.worker_get, &[Value::Text(identifier.to_string())], worker_from_row)?.into_iter().next())
    }

    async fn worker_insert(&self, info: &WorkerInfo, now: Timestamp) -> StoreResult<Option<WorkerRow>> {
        let args = [
            Value::Text(info.identifier.clone()),
            Value::Text(info.scope.clone()),
            Value::Text(info.class.clone()),
            Value::Text(info.title.clone()),
            Value::Text(info.description.clone()),
            Value::Text(info.icon.clone()),
            Value::Text(ts(&now)),
        ];
        Ok(self.rows(&self.st.worker_insert, &args, worker_from_row)?.into_iter().next())
    }

    async fn worker_update_info(&self, id: i64, info: &WorkerInfo, now: Timestamp) -> StoreResult<bool> {
        let args = [
            Value::Text(info.identifier.clone()),
            Value::Text(info.scope.clone()),
            Value::Text(info.class.clone()),
            Value::Text(info.title.clone()),
            Value::Text(info.description.clone()),
            Value::Text(info.icon.clone()),
            Value::Text(ts(&now)),
            Value::Int(id),
        ];
        Ok(self.execute(&self.st.worker_update_info, &args)? == 1)
    }

    async fn worker_counts(&self) -> StoreResult<(i64, i64)> {
        let rows = self.rows(&self.st.worker_counts, &[], |r| Ok((r.get::<_, i64>("total")?, r.get::<_, i64>("active")?)))?;
        Ok(rows.into_iter().next().unwrap_or((0, 0)))
    }

    async fn drop_tables(&self) -> StoreResult<()> {
        let conn = self.conn.lock();
        conn.execute_batch(&format!(
            "DROP TABLE IF EXISTS {}; DROP TABLE IF EXISTS {}; DROP TABLE IF EXISTS {}s_task_leaders;",
            self.st.tasks, self.st.workers, self.st.prefix
        ))
        .map_err(classify)
    }

    async fn leader_acquire(&self, name: &str, owner: &str, until: Timestamp, now: Timestamp) -> StoreResult<bool> {
        let args = [Value::Text(name.into()), Value::Text(owner.into()), Value::Text(ts(&until)), Value::Text(ts(&now))];
        Ok(!self.rows(&self.st.leader_acquire, &args, |r| r.get::<_, String>(0))?.is_empty())
    }

    async fn create_legacy_tables_for_tests(&self) -> StoreResult<()> {
        // The SQLite conversion test builds its own file (tests/store.rs).
        Ok(())
    }

    async fn count(&self, query: &crate::engine::query::Query) -> StoreResult<i64> {
        let b = self.select_sql(query, "SELECT COUNT(*) AS n FROM ");
        Ok(self.rows(&b.sql, &b.values, |r| r.get::<_, i64>("n"))?.into_iter().next().unwrap_or(0))
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
        Ok(self.execute(&b.sql, &b.values)? as u64)
    }

    async fn update(
        &self,
        query: &crate::engine::query::Query,
        set: &[(&'static str, Value)],
        now: Timestamp,
    ) -> StoreResult<u64> {
        let b = update_sql(self.st.table(query.table), query, set, now);
        Ok(self.execute(&b.sql, &b.values)? as u64)
    }
}

/// `UPDATE … SET` for whitelisted columns. The engine keeps its own claim
/// columns (priority rank, availability) in step with what the caller wrote.
fn update_sql(table: &str, query: &crate::engine::query::Query, set: &[(&'static str, Value)], now: Timestamp) -> SqlBuilder {
    let mut b = SqlBuilder::new(Placeholders::Question);
    b.push("UPDATE ").push(table).push(" SET ");
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
            // Queued again by hand: due now, or at its scheduled time.
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
        b.push(" WHERE id IN (SELECT id FROM ").push(table);
        b.where_clause(query);
        b.order_limit(query, "id ASC");
        b.push(")");
    } else {
        b.where_clause(query);
    }
    b
}

/// Creates the tables, or converts a database written by the PHP package.
fn migrate_on(conn: &mut Connection, p: &str) -> StoreResult<()> {
    // IMMEDIATE takes the write lock first, so two processes migrating at
    // once queue up instead of interleaving.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(classify)?;
    let existed: bool = tx
        .query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", params![format!("{p}s_tasks")], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(classify)?
        > 0;
    for stmt in statements(MIGRATION_TABLES, p) {
        tx.execute_batch(&stmt).map_err(classify)?;
    }
    let columns = |table: &str| -> StoreResult<Vec<String>> {
        let mut s = tx.prepare(&format!("SELECT name FROM pragma_table_info('{table}')")).map_err(classify)?;
        let names = s.query_map([], |r| r.get::<_, String>(0)).map_err(classify)?;
        names.collect::<Result<_, _>>().map_err(classify)
    };
    // A table created by the PHP package lacks the engine's columns.
    let task_cols = columns(&format!("{p}s_tasks"))?;
    let worker_cols = columns(&format!("{p}s_workers"))?;
    let converting = existed && !task_cols.iter().any(|c| c == "available_at");
    for (col, def) in ENGINE_TASK_COLUMNS {
        if !task_cols.iter().any(|c| c == col) {
            tx.execute_batch(&format!("ALTER TABLE {p}s_tasks ADD COLUMN {col} {def}")).map_err(classify)?;
        }
    }
    for (col, def) in ENGINE_WORKER_COLUMNS {
        if !worker_cols.iter().any(|c| c == col) {
            tx.execute_batch(&format!("ALTER TABLE {p}s_workers ADD COLUMN {col} {def}")).map_err(classify)?;
        }
    }
    if converting {
        // The PHP package used 10 queued, 30 preparing, 50 running,
        // 80 completed, 100 failed. Order matters: 30 must move before 80
        // becomes 30, and 50 before anything becomes 50.
        for (from, to) in [(30, 15), (50, 20), (80, 30), (100, 40)] {
            tx.execute_batch(&format!("UPDATE {p}s_tasks SET status = {to} WHERE status = {from}")).map_err(classify)?;
        }
        tx.execute_batch(&format!(
            "UPDATE {p}s_tasks SET available_at = COALESCE(start_at, created_at), \
             priority_rank = CASE priority WHEN 'high' THEN 1 WHEN 'low' THEN 10 ELSE 5 END"
        ))
        .map_err(classify)?;
    }
    for stmt in statements(MIGRATION_INDEXES, p) {
        tx.execute_batch(&stmt).map_err(classify)?;
    }
    tx.commit().map_err(classify)
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
