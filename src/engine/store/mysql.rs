//! The MySQL 8 / MariaDB 10.5+ dialect, on sqlx's `mysql` driver.
//!
//! Where it parts from `sqlite.rs`, and why:
//! - No `UPDATE … RETURNING` (MySQL has none; MariaDB only for DELETE and
//!   INSERT): a claim locks its candidates with `SELECT … FOR UPDATE SKIP
//!   LOCKED`, updates those ids and reads them back, all in one transaction
//!   (Oban's "dolphin" engine does the same). MariaDB 10.5 has no `SKIP
//!   LOCKED`; there the lock is a plain `FOR UPDATE` (see `Flavor`).
//! - MySQL evaluates `SET a = …, b = …` left to right with the values
//!   already assigned, where SQLite and PostgreSQL use the old row: a
//!   statement whose later assignments read an earlier-assigned column
//!   orders them so the reads come first.
//! - A statement cannot select from the table it updates or deletes from
//!   (error 1093) nor put `LIMIT` in an `IN` subquery (error 1235): limited
//!   updates and deletes go through a derived table, which MySQL materialises.
//! - No partial index: "one active task per unique key" is a UNIQUE index on
//!   a generated column (migrations/mysql/0001_tables.sql).
//! - DDL commits on its own, so `migrate()` serialises processes with
//!   `GET_LOCK` instead of a transaction.
//! - Placeholders are `?` and positional only: a value used twice is bound twice.

use super::sql::{Placeholders, SqlBuilder};
use super::*;
use crate::engine::query::{Cond, Table, Value};
use crate::engine::task::{Priority, Status};
use crate::engine::time;
use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::mysql::{MySqlArguments, MySqlConnectOptions, MySqlDatabaseError, MySqlPoolOptions, MySqlQueryResult, MySqlRow};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Executor, MySql, MySqlConnection, MySqlPool, Row};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

const MIGRATION_TABLES: &str = include_str!("../../../migrations/mysql/0001_tables.sql");
const MIGRATION_INDEXES: &str = include_str!("../../../migrations/mysql/0002_indexes.sql");

/// Columns the engine adds to tables created by the PHP package, with the
/// definition `ALTER TABLE … ADD COLUMN` needs (as in 0001_tables.sql).
/// `unique_active` comes last and alone: it is computed from `unique_key`.
const ENGINE_TASK_COLUMNS: &[(&str, &str)] = &[
    ("priority_rank", "SMALLINT NOT NULL DEFAULT 5"),
    ("available_at", "DATETIME(6) NULL"),
    ("started_at", "DATETIME(6) NULL"),
    ("duration", "DOUBLE NULL"),
    ("peak_memory", "BIGINT NULL"),
    ("last_error", "TEXT NULL"),
    ("cancel_requested", "TINYINT(1) NOT NULL DEFAULT 0"),
    ("lease_owner", "VARCHAR(255) NULL"),
    ("lease_expires_at", "DATETIME(6) NULL"),
    ("snapshot", "LONGTEXT NULL"),
    ("unique_key", "VARCHAR(255) COLLATE utf8mb4_bin NULL"),
];
const UNIQUE_ACTIVE_COLUMN: (&str, &str) =
    ("unique_active", "VARCHAR(255) COLLATE utf8mb4_bin AS (CASE WHEN status IN (10, 15, 20) THEN unique_key END) STORED");
const ENGINE_WORKER_COLUMNS: &[(&str, &str)] = &[
    ("title", "VARCHAR(255) NOT NULL DEFAULT ''"),
    ("description", "TEXT NOT NULL DEFAULT ('')"),
    ("icon", "TEXT NOT NULL DEFAULT ('')"),
];

/// Placeholders one prepared statement may carry (the protocol counts them
/// in 16 bits), on MySQL and MariaDB alike.
const MYSQL_MAX_PLACEHOLDERS: usize = 65535;

/// Rows per statement of `task_insert_many`. The placeholder limit allows
/// 4095 rows of 16, but statements of 1000 rows went in faster on MariaDB
/// 10.11: 100,000 rows in one call at about 70k rows/s against 46k with
/// 4095 (bench/bulk.php, same box and hour; 500 rows was no better).
const MYSQL_INSERT_ROWS: usize = 1000;
const _: () = assert!(MYSQL_INSERT_ROWS * TASK_INSERT_PARAMS <= MYSQL_MAX_PLACEHOLDERS);

/// Claimed at connect time from `SELECT VERSION()`: where MySQL and MariaDB
/// part, the store asks this, never the version string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    MySql { major: u32, minor: u32 },
    MariaDb { major: u32, minor: u32 },
}

impl Flavor {
    /// Reads `VERSION()`: `8.0.36`, `8.4.0-log`, `10.11.19-MariaDB-0+deb12u1`,
    /// or `5.5.5-10.5.8-MariaDB` (the fake 5.5.5 some MariaDB builds and
    /// proxies put first for old clients). Anything unreadable counts as an
    /// old MySQL, which only costs `SKIP LOCKED`.
    pub fn from_version(version: &str) -> Flavor {
        let lower = version.trim().to_ascii_lowercase();
        let mariadb = lower.contains("mariadb");
        let text = if mariadb { lower.strip_prefix("5.5.5-").unwrap_or(&lower) } else { &lower };
        let mut numbers = text.split(|c: char| !c.is_ascii_digit());
        let mut next = || numbers.next().and_then(|n| n.parse::<u32>().ok()).unwrap_or(0);
        let (major, minor) = (next(), next());
        if mariadb {
            Flavor::MariaDb { major, minor }
        } else {
            Flavor::MySql { major, minor }
        }
    }

    /// `FOR UPDATE SKIP LOCKED`: MySQL 8.0, MariaDB 10.6. Without it
    /// concurrent claimers queue on each other's locks: still correct (a
    /// locking read re-reads the row once the lock is free and the claimed
    /// row no longer matches `status = 10`), only slower.
    /// The collation under which names (worker identifiers, actions)
    /// compare byte for byte, as `=` does on SQLite and PostgreSQL. Not
    /// `utf8mb4_bin`: it pads, so `'product '` would still find `product`.
    /// MariaDB calls the padless one `utf8mb4_nopad_bin`, MySQL 8
    /// `utf8mb4_0900_bin`; older MySQL has none and keeps `utf8mb4_bin`
    /// (case-sensitive at least).
    pub fn exact_collation(self) -> &'static str {
        match self {
            Flavor::MariaDb { .. } => "utf8mb4_nopad_bin",
            Flavor::MySql { major, .. } if major >= 8 => "utf8mb4_0900_bin",
            Flavor::MySql { .. } => "utf8mb4_bin",
        }
    }

    /// `INSERT … RETURNING`: MariaDB 10.5 and later; MySQL has none.
    pub fn insert_returning(self) -> bool {
        matches!(self, Flavor::MariaDb { major, minor } if (major, minor) >= (10, 5))
    }

    pub fn skip_locked(self) -> bool {
        match self {
            Flavor::MySql { major, minor } => (major, minor) >= (8, 0),
            Flavor::MariaDb { major, minor } => (major, minor) >= (10, 6),
        }
    }
}

/// A bound value. Timestamps travel as DATETIME values, never as text, so a
/// comparison uses the index and means the same on every server.
#[derive(Debug, Clone, PartialEq)]
enum Arg {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Time(NaiveDateTime),
}

impl Arg {
    /// `Value` as the query layer holds it. A timestamp column's text
    /// (engine/time.rs `from_db` format, the PHP package's, or RFC 3339)
    /// becomes a DATETIME; text that is no timestamp (`LIKE '2025-%'`)
    /// stays text and MySQL compares it as it would.
    fn of(v: &Value, timestamp: bool) -> Arg {
        match v {
            Value::Null => Arg::Null,
            Value::Bool(b) => Arg::Int(*b as i64),
            Value::Int(i) => Arg::Int(*i),
            Value::Float(f) => Arg::Float(*f),
            Value::Text(s) if timestamp => match time::from_db(s) {
                Some(t) => Arg::Time(t.naive_utc()),
                None => Arg::Text(s.clone()),
            },
            Value::Text(s) => Arg::Text(s.clone()),
        }
    }
}

fn at(t: &Timestamp) -> Arg {
    Arg::Time(t.naive_utc())
}

fn text(s: &str) -> Arg {
    Arg::Text(s.to_string())
}

fn opt_text(s: &Option<String>) -> Arg {
    s.as_ref().map(|s| Arg::Text(s.clone())).unwrap_or(Arg::Null)
}

fn query(sql: &Arc<str>, args: &[Arg]) -> sqlx::query::Query<'static, MySql, MySqlArguments> {
    let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
    for a in args {
        q = match a {
            Arg::Null => q.bind(None::<String>),
            Arg::Int(i) => q.bind(*i),
            Arg::Float(f) => q.bind(*f),
            Arg::Text(s) => q.bind(s.clone()),
            Arg::Time(t) => q.bind(*t),
        };
    }
    q
}

/// `?, ?, ?` for an `IN` list of `n` values (n > 0).
fn marks(n: usize) -> String {
    let mut s = String::with_capacity(n * 3);
    for i in 0..n {
        s.push_str(if i == 0 { "?" } else { ", ?" });
    }
    s
}

/// SQL text and its values, remembering which values belong to timestamp
/// columns (the shared builder keeps only the values).
struct Built {
    b: SqlBuilder,
    timestamps: Vec<bool>,
}

impl Built {
    fn new() -> Self {
        let mut b = SqlBuilder::new(Placeholders::Question);
        b.fold_like = true;
        Built { b, timestamps: Vec::new() }
    }

    fn push(&mut self, s: &str) -> &mut Self {
        self.b.push(s);
        self
    }

    fn bind(&mut self, v: Value, timestamp: bool) -> &mut Self {
        self.b.bind(v);
        self.timestamps.push(timestamp);
        self
    }

    fn where_clause(&mut self, q: &crate::engine::query::Query) -> &mut Self {
        self.b.where_clause(q);
        self.timestamps.extend(where_timestamps(q));
        debug_assert_eq!(self.b.values.len(), self.timestamps.len(), "where_timestamps must follow SqlBuilder::where_clause");
        self
    }

    fn order_limit(&mut self, q: &crate::engine::query::Query, default_order: &str) -> &mut Self {
        self.b.order_limit(q, default_order);
        self.timestamps.resize(self.b.values.len(), false);
        self
    }

    fn finish(self) -> (Arc<str>, Vec<Arg>) {
        let args =
            self.b.values.iter().enumerate().map(|(i, v)| Arg::of(v, self.timestamps.get(i).copied().unwrap_or(false))).collect();
        (Arc::from(self.b.sql), args)
    }
}

/// For each value `SqlBuilder::where_clause` binds, in its order: whether it
/// is compared with a timestamp column.
fn where_timestamps(q: &crate::engine::query::Query) -> Vec<bool> {
    let ts = q.table.timestamps();
    let mut flags = Vec::new();
    for c in &q.conds {
        match c {
            Cond::Compare { column, .. } => flags.push(ts.contains(column)),
            Cond::IsNull { .. } => {}
            Cond::In { column, values, .. } => flags.extend(std::iter::repeat_n(ts.contains(column), values.len())),
        }
    }
    flags
}

/// The statements, with the table prefix substituted once.
struct Statements {
    prefix: String,
    tasks: String,
    workers: String,
    insert_task: Arc<str>,
    get_task: Arc<str>,
    claim_lock: Arc<str>,
    claim_update_head: String,
    claim_id: Arc<str>,
    finish_completed: Arc<str>,
    finish_retry: Arc<str>,
    finish_failed: Arc<str>,
    finish_cancelled: Arc<str>,
    finish_released: Arc<str>,
    progress: Arc<str>,
    progress_ack: Arc<str>,
    cancel_pending: Arc<str>,
    cancel_running: Arc<str>,
    status_of: Arc<str>,
    state_of: Arc<str>,
    select_expired: Arc<str>,
    rescue_retry: Arc<str>,
    rescue_fail: Arc<str>,
    retry: Arc<str>,
    completed_before: Arc<str>,
    count_by_status: Arc<str>,
    summary: Arc<str>,
    common_errors: Arc<str>,
    worker_get: Arc<str>,
    worker_get_id: Arc<str>,
    worker_insert: Arc<str>,
    worker_update_info: Arc<str>,
    worker_counts: Arc<str>,
    leader_renew: Arc<str>,
    leader_insert: Arc<str>,
    drop_tables: String,
}

/// How many completed tasks the cleaner deletes per transaction: short
/// transactions, and far below the 65535 placeholders MySQL allows.
const DELETE_BATCH: i64 = 500;

/// The aggregate columns shared by the summary and per-worker statistics.
/// Durations and memory only count attempts that ran to an end. COUNT
/// rather than SUM(CASE …): MySQL's SUM of integers is DECIMAL; AVG of an
/// integer column is DECIMAL too, hence `* 1E0` (a DOUBLE literal).
const SUMMARY_COLUMNS: &str = "COUNT(*) AS total, \
    COUNT(CASE WHEN status = 10 THEN 1 END) AS queued, \
    COUNT(CASE WHEN status IN (15, 20) THEN 1 END) AS running, \
    COUNT(CASE WHEN status = 30 THEN 1 END) AS completed, \
    COUNT(CASE WHEN status = 40 THEN 1 END) AS failed, \
    COUNT(CASE WHEN status = 50 THEN 1 END) AS cancelled, \
    AVG(CASE WHEN status IN (30, 40) THEN duration END) * 1E0 AS avg_duration, \
    AVG(CASE WHEN status IN (30, 40) THEN peak_memory END) * 1E0 AS avg_memory, \
    SUM(CASE WHEN status IN (30, 40) THEN duration END) * 1E0 AS sum_duration";

impl Statements {
    fn new(prefix: &str, flavor: Flavor) -> Self {
        let t = format!("{prefix}s_tasks");
        let w = format!("{prefix}s_workers");
        let s = |sql: String| -> Arc<str> { Arc::from(sql) };
        let skip_locked = if flavor.skip_locked() { " SKIP LOCKED" } else { "" };
        Statements {
            // The id comes from LAST_INSERT_ID (the OK packet): the caller
            // knows every other value.
            insert_task: s(format!(
                "INSERT INTO {t} (identifier, action, status, message, started_by, meta, result, start_at, attempts, \
                 max_attempts, priority, priority_rank, progress, created_at, updated_at, available_at, unique_key) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)"
            )),
            get_task: s(format!("SELECT * FROM {t} WHERE id = ?")),
            // Edge Claimed, step 1 of 3 (one transaction). No UPDATE …
            // RETURNING and no selecting from the updated table, so the
            // candidates are locked first. SKIP LOCKED lets concurrent
            // claimers pass each other's rows; MariaDB 10.5 lacks it and
            // waits instead (see `Flavor::skip_locked`). Walks the claim
            // index (status, priority_rank, id), from the claiming process's
            // cursor (priority_rank, id): spelled out rather than as a row
            // comparison `(priority_rank, id) > (?, ?)`, whose range access
            // not every MySQL/MariaDB optimizer plans. FORCE INDEX: the walk
            // must follow the index order and stop after LIMIT rows whatever
            // the optimizer's statistics say (with others it may read every
            // pending row and sort them: cost grows with the backlog).
            // Arguments: now, rank, rank, id, limit.
            claim_lock: s(format!(
                "SELECT id FROM {t} FORCE INDEX ({t}_claim) WHERE status = 10 AND (priority_rank > ? OR (priority_rank = ? AND id > ?)) \
                 AND (available_at IS NULL OR available_at <= ?) \
                 ORDER BY priority_rank, id LIMIT ? FOR UPDATE{skip_locked}"
            )),
            // Step 2: the locked ids, then `IN (…)` is appended. The rows are
            // locked by step 1 (a locking read sees their latest version), so
            // they are still pending: the ids alone find them by primary key.
            // A `status = 10` here lets the optimizer walk the claim index
            // over every pending row instead. Step 3 reads the rows with
            // `get_task` semantics and the caller sorts.
            claim_update_head: format!(
                "UPDATE {t} SET status = 20, attempts = attempts + 1, started_at = ?, updated_at = ?, \
                 lease_owner = ?, lease_expires_at = ?, cancel_requested = 0 WHERE id IN ("
            ),
            // Edge Claimed for one given task (`sTask::execute`); read back in
            // the same transaction.
            claim_id: s(format!(
                "UPDATE {t} SET status = 20, attempts = attempts + 1, started_at = ?, updated_at = ?, \
                 lease_owner = ?, lease_expires_at = ?, cancel_requested = 0 WHERE id = ? AND status = 10"
            )),
            // Edge Finished. Guarded: only a task still held (15/20) moves, so
            // what the worker decided itself (markFailed...) stands; a worker
            // that marked itself completed still gets progress 100. MySQL
            // assigns left to right with the new values, so `message` and
            // `progress` read `status` before it is overwritten.
            finish_completed: s(format!(
                "UPDATE {t} SET message = CASE WHEN status IN (15, 20) THEN ? ELSE message END, \
                 progress = CASE WHEN status IN (15, 20, 30) THEN 100 ELSE progress END, \
                 status = CASE WHEN status IN (15, 20) THEN 30 ELSE status END, \
                 finished_at = COALESCE(finished_at, ?), duration = ?, peak_memory = ?, \
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = ? WHERE id = ?"
            )),
            // Edge FailedWithAttemptsLeft.
            finish_retry: s(format!(
                "UPDATE {t} SET status = 10, message = ?, last_error = ?, available_at = ?, duration = ?, \
                 peak_memory = ?, lease_owner = NULL, lease_expires_at = NULL, updated_at = ? \
                 WHERE id = ? AND status IN (15, 20)"
            )),
            // Edges AttemptsExhausted / WorkerMissing.
            finish_failed: s(format!(
                "UPDATE {t} SET status = 40, message = ?, last_error = ?, finished_at = ?, duration = ?, \
                 peak_memory = ?, lease_owner = NULL, lease_expires_at = NULL, updated_at = ? \
                 WHERE id = ? AND status IN (15, 20)"
            )),
            // Edge CancelSeen.
            finish_cancelled: s(format!(
                "UPDATE {t} SET status = 50, message = ?, finished_at = ?, duration = ?, peak_memory = ?, \
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = ? WHERE id = ? AND status IN (15, 20)"
            )),
            // Edge WorkerInactive: the attempt is given back. CASE rather
            // than GREATEST(attempts - 1, 0): on the PHP package's UNSIGNED
            // column, 0 - 1 is an out-of-range error, not -1.
            finish_released: s(format!(
                "UPDATE {t} SET status = 10, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, \
                 message = ?, available_at = ?, lease_owner = NULL, lease_expires_at = NULL, updated_at = ? \
                 WHERE id = ? AND status IN (15, 20)"
            )),
            // Progress mirror. No RETURNING: `progress_ack` reads what the
            // row says right after (the cancel request, the status).
            progress: s(format!("UPDATE {t} SET progress = ?, message = ?, snapshot = ?, updated_at = ? WHERE id = ?")),
            progress_ack: s(format!("SELECT status, cancel_requested FROM {t} WHERE id = ?")),
            // Edge CancelPending.
            cancel_pending: s(format!(
                "UPDATE {t} SET status = 50, message = 'Cancelled', finished_at = ?, updated_at = ? \
                 WHERE id = ? AND {}",
                crate::engine::task::state::status_condition(crate::engine::task::Edge::CancelPending)
            )),
            cancel_running: s(format!(
                "UPDATE {t} SET cancel_requested = 1, updated_at = ? WHERE id = ? AND {}",
                crate::engine::task::state::status_condition(crate::engine::task::Edge::CancelRequested)
            )),
            status_of: s(format!("SELECT status FROM {t} WHERE id = ?")),
            // Read inside the finishing transaction: cheap, and exact.
            state_of: s(format!("SELECT status, message FROM {t} WHERE id = ?")),
            // The rescuer's batch: running rows past their lease, by id cursor.
            select_expired: s(format!(
                "SELECT * FROM {t} WHERE status IN (15, 20) AND lease_expires_at < ? AND id > ? ORDER BY id LIMIT ?"
            )),
            // Edge LeaseExpired with attempts left. The expiry is checked
            // again so that a heartbeat that landed meanwhile wins (WHERE is
            // evaluated before any assignment).
            rescue_retry: s(format!(
                "UPDATE {t} SET status = 10, available_at = ?, message = ?, last_error = ?, lease_owner = NULL, \
                 lease_expires_at = NULL, cancel_requested = 0, updated_at = ? \
                 WHERE id = ? AND status IN (15, 20) AND lease_expires_at < ?"
            )),
            // Edge LeaseExpired, attempts exhausted.
            rescue_fail: s(format!(
                "UPDATE {t} SET status = 40, message = ?, last_error = ?, finished_at = ?, lease_owner = NULL, \
                 lease_expires_at = NULL, updated_at = ? WHERE id = ? AND status IN (15, 20) AND lease_expires_at < ?"
            )),
            // Edge ManualRetry: at least one more attempt is granted.
            retry: s(format!(
                "UPDATE {t} SET status = 10, available_at = ?, finished_at = NULL, cancel_requested = 0, \
                 message = 'Queued for retry', max_attempts = GREATEST(max_attempts, attempts + 1), progress = 0, \
                 updated_at = ? WHERE id = ? AND status IN (40, 50)"
            )),
            // The cleaner's batch. No DELETE … RETURNING on MySQL: the ids
            // are locked and read, then deleted by id in the same
            // transaction, so the ids returned are exactly the rows deleted.
            completed_before: s(format!(
                "SELECT id FROM {t} WHERE status = 30 AND finished_at < ? ORDER BY id LIMIT {DELETE_BATCH} FOR UPDATE"
            )),
            count_by_status: s(format!("SELECT status, COUNT(*) AS n FROM {t} GROUP BY status")),
            summary: s(format!("SELECT {SUMMARY_COLUMNS} FROM {t} WHERE created_at >= ?")),
            common_errors: s(format!(
                "SELECT last_error, COUNT(*) AS n FROM {t} WHERE status = 40 AND created_at >= ? AND last_error IS NOT NULL \
                 GROUP BY last_error ORDER BY n DESC, last_error LIMIT ?"
            )),
            worker_get: s(format!("SELECT * FROM {w} WHERE identifier = ?")),
            worker_get_id: s(format!("SELECT * FROM {w} WHERE id = ?")),
            // New workers start inactive and last in order. An existing
            // identifier is left alone: NOT EXISTS skips it, and a racing
            // insert loses on the unique index (1062), which the caller
            // also reads as "taken". The MAX sits in a derived table because
            // an aggregate without GROUP BY yields a row even when WHERE
            // matches nothing.
            worker_insert: s(format!(
                "INSERT INTO {w} (identifier, scope, class, active, position, settings, hidden, title, description, \
                 icon, created_at, updated_at) SELECT ?, ?, ?, 0, next.position, '{{}}', 0, ?, ?, ?, ?, ? \
                 FROM (SELECT COALESCE(MAX(position), 0) + 1 AS position FROM {w}) AS next \
                 WHERE NOT EXISTS (SELECT 1 FROM {w} AS taken WHERE taken.identifier = ?)"
            )),
            worker_update_info: s(format!(
                "UPDATE {w} SET identifier = ?, scope = ?, class = ?, title = ?, description = ?, icon = ?, \
                 updated_at = ? WHERE id = ?"
            )),
            worker_counts: s(format!("SELECT COUNT(*) AS total, COUNT(CASE WHEN active <> 0 THEN 1 END) AS active FROM {w}")),
            // The named lease, step 1: renew it, or take it over once expired.
            // One statement, so two askers cannot both pass the condition;
            // rows matched (CLIENT_FOUND_ROWS) = 1 means we hold it. Not
            // INSERT … ON DUPLICATE KEY UPDATE: MySQL assigns left to right,
            // so the second assignment would test the first one's result.
            leader_renew: s(format!(
                "UPDATE {prefix}s_task_leaders SET owner = ?, expires_at = ? WHERE name = ? AND (owner = ? OR expires_at < ?)"
            )),
            // Step 2, when no row matched: a lease nobody ever held. A racing
            // asker that inserted first makes this fail with 1062: not ours.
            leader_insert: s(format!("INSERT INTO {prefix}s_task_leaders (name, owner, expires_at) VALUES (?, ?, ?)")),
            drop_tables: format!("DROP TABLE IF EXISTS {t}, {w}, {prefix}s_task_leaders"),
            prefix: prefix.to_string(),
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

pub struct MySqlStore {
    pool: MySqlPool,
    flavor: Flavor,
    st: Statements,
}

/// Maps a MySQL/MariaDB error number to its meaning. Both servers agree on
/// these numbers. <https://dev.mysql.com/doc/mysql-errors/8.0/en/server-error-reference.html>,
/// <https://mariadb.com/kb/en/mariadb-error-codes/>
fn kind_of_number(n: u16) -> StoreErrorKind {
    match n {
        // ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT: the transaction (or the
        // statement) was rolled back and may simply run again.
        1213 | 1205 => StoreErrorKind::Busy,
        // ER_DUP_ENTRY
        1062 => StoreErrorKind::Conflict,
        // ER_NO_SUCH_TABLE: the migrations never ran (or another prefix).
        1146 => StoreErrorKind::SchemaMissing,
        // CR_CONNECTION_ERROR, CR_SERVER_GONE_ERROR, CR_SERVER_LOST,
        // ER_CONNECTION_KILLED, ER_SERVER_SHUTDOWN, and MySQL's
        // ER_CLIENT_INTERACTION_TIMEOUT: the server went away (a restart).
        // ER_CON_COUNT_ERROR (too many connections), ER_DBACCESS_DENIED_ERROR,
        // ER_ACCESS_DENIED_ERROR, ER_ACCESS_DENIED_NO_PASSWORD_ERROR,
        // ER_BAD_DB_ERROR: it cannot be opened, as postgres.rs counts 53300,
        // 28000 and 3D000.
        2002 | 2006 | 2013 | 1927 | 1053 | 4031 | 1040 | 1044 | 1045 | 1698 | 1049 => StoreErrorKind::Unavailable,
        _ => StoreErrorKind::Other,
    }
}

fn kind_of(e: &sqlx::Error) -> StoreErrorKind {
    match e {
        sqlx::Error::Database(d) => match d.try_downcast_ref::<MySqlDatabaseError>() {
            Some(m) => kind_of_number(m.number()),
            None => StoreErrorKind::Other,
        },
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StoreErrorKind::Unavailable,
        _ => StoreErrorKind::Other,
    }
}

/// The one place sqlx errors become `StoreError`s. sqlx's messages carry the
/// server's text, never the connection URL.
fn classify(e: sqlx::Error) -> StoreError {
    StoreError::new(kind_of(&e), e)
}

// ---- row decoding ---------------------------------------------------------
// Integers are read unchecked: the same column is SMALLINT here, SMALLINT
// UNSIGNED or TINYINT in a converted PHP-package table, BIGINT UNSIGNED for
// ids, and sqlx's checked i64 refuses every one but signed integers. The
// decoder reads the value's own width, so each fits. Strings are unchecked
// too so that a MySQL JSON column (a converted `settings`) reads as text.

type Decoded<T> = Result<T, sqlx::Error>;

/// The claim lock's arguments: rank, rank, id (the cursor), now, limit.
fn claim_lock_args(p: &TaskClaimParams) -> [Arg; 5] {
    let (rank, after_id) = p.after;
    [Arg::Int(rank), Arg::Int(rank), Arg::Int(after_id), at(&p.now), Arg::Int(p.limit)]
}

fn int(r: &MySqlRow, c: &str) -> Decoded<i64> {
    r.try_get_unchecked::<i64, _>(c)
}

fn opt_int(r: &MySqlRow, c: &str) -> Decoded<Option<i64>> {
    r.try_get_unchecked::<Option<i64>, _>(c)
}

fn string(r: &MySqlRow, c: &str) -> Decoded<String> {
    r.try_get_unchecked::<String, _>(c)
}

fn opt_string(r: &MySqlRow, c: &str) -> Decoded<Option<String>> {
    r.try_get_unchecked::<Option<String>, _>(c)
}

fn opt_float(r: &MySqlRow, c: &str) -> Decoded<Option<f64>> {
    r.try_get::<Option<f64>, _>(c)
}

/// DATETIME/TIMESTAMP in UTC (the session's time zone); a text value (an
/// expression MySQL typed as a string) is parsed as the engine's text.
fn ts(r: &MySqlRow, c: &str) -> Decoded<Option<Timestamp>> {
    match r.try_get::<Option<DateTime<Utc>>, _>(c) {
        Ok(v) => Ok(v),
        Err(sqlx::Error::ColumnDecode { .. }) => Ok(opt_string(r, c)?.as_deref().and_then(time::from_db)),
        Err(e) => Err(e),
    }
}

fn task_from_row(r: &MySqlRow) -> Decoded<TaskRow> {
    Ok(TaskRow {
        id: int(r, "id")?,
        identifier: string(r, "identifier")?,
        action: string(r, "action")?,
        status: int(r, "status")?,
        message: opt_string(r, "message")?,
        started_by: opt_int(r, "started_by")?,
        meta: opt_string(r, "meta")?,
        result: opt_string(r, "result")?,
        start_at: ts(r, "start_at")?,
        finished_at: ts(r, "finished_at")?,
        attempts: int(r, "attempts")?,
        max_attempts: int(r, "max_attempts")?,
        priority: string(r, "priority")?,
        progress: int(r, "progress")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        available_at: ts(r, "available_at")?,
        started_at: ts(r, "started_at")?,
        duration: opt_float(r, "duration")?,
        peak_memory: opt_int(r, "peak_memory")?,
        last_error: opt_string(r, "last_error")?,
        cancel_requested: int(r, "cancel_requested")? != 0,
        lease_owner: opt_string(r, "lease_owner")?,
        lease_expires_at: ts(r, "lease_expires_at")?,
        snapshot: opt_string(r, "snapshot")?,
        unique_key: opt_string(r, "unique_key")?,
    })
}

fn worker_from_row(r: &MySqlRow) -> Decoded<WorkerRow> {
    Ok(WorkerRow {
        id: int(r, "id")?,
        uuid: opt_string(r, "uuid")?,
        identifier: string(r, "identifier")?,
        scope: string(r, "scope")?,
        class: string(r, "class")?,
        active: int(r, "active")? != 0,
        position: int(r, "position")?,
        settings: opt_string(r, "settings")?.unwrap_or_else(|| "{}".into()),
        hidden: int(r, "hidden")?,
        title: string(r, "title")?,
        description: string(r, "description")?,
        icon: string(r, "icon")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

fn summary_from_row(r: &MySqlRow) -> Decoded<TaskSummaryRow> {
    Ok(TaskSummaryRow {
        total: int(r, "total")?,
        queued: int(r, "queued")?,
        running: int(r, "running")?,
        completed: int(r, "completed")?,
        failed: int(r, "failed")?,
        cancelled: int(r, "cancelled")?,
        average_duration: opt_float(r, "avg_duration")?,
        average_memory: opt_float(r, "avg_memory")?,
        total_duration: opt_float(r, "sum_duration")?,
    })
}

fn decode_all<T>(rows: &[MySqlRow], f: fn(&MySqlRow) -> Decoded<T>) -> StoreResult<Vec<T>> {
    rows.iter().map(f).collect::<Result<Vec<_>, _>>().map_err(classify)
}

// ---- running statements ---------------------------------------------------

async fn fetch_on(c: &mut MySqlConnection, sql: &Arc<str>, args: &[Arg]) -> StoreResult<Vec<MySqlRow>> {
    query(sql, args).fetch_all(c).await.map_err(classify)
}

async fn exec_on(c: &mut MySqlConnection, sql: &Arc<str>, args: &[Arg]) -> StoreResult<MySqlQueryResult> {
    query(sql, args).execute(c).await.map_err(classify)
}

/// DDL and other one-off text: sent unprepared, so it neither needs
/// preparing (not every server prepares every DDL) nor fills the statement cache.
async fn raw_on(c: &mut MySqlConnection, sql: String) -> StoreResult<()> {
    sqlx::raw_sql(AssertSqlSafe(sql)).execute(c).await.map_err(classify).map(|_| ())
}

impl MySqlStore {
    /// Connects (no migration: server databases are migrated explicitly).
    /// One direct connection reads the version first, so an unreachable
    /// server fails at once with its real reason instead of after the pool's
    /// acquire timeout; the pool then opens connections as they are needed.
    pub async fn connect(url: &str, prefix: &str) -> StoreResult<MySqlStore> {
        // The charset is sqlx's default (utf8mb4) and is set explicitly for
        // the reader; the time zone is set by `after_connect` below.
        let opts = MySqlConnectOptions::from_str(url).map_err(classify)?.charset("utf8mb4").timezone(None::<String>);
        let version: String = {
            let first = tokio::time::timeout(Duration::from_secs(30), opts.connect()).await.map_err(|_| {
                StoreError::new(StoreErrorKind::Unavailable, "timed out connecting to the MySQL server after 30 s")
            })?;
            let mut conn = first.map_err(classify)?;
            let row = sqlx::query("SELECT VERSION()").fetch_one(&mut conn).await.map_err(classify)?;
            let v = row.try_get_unchecked::<String, _>(0).map_err(classify)?;
            let _ = conn.close().await;
            v
        };
        let flavor = Flavor::from_version(&version);
        let pool = MySqlPoolOptions::new()
            .max_connections(8)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(30))
            .idle_timeout(Duration::from_secs(300))
            // Pinged only after an idle spell (`PING_IF_IDLE_FOR` says why).
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_IF_IDLE_FOR {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            // Every DATETIME the engine binds or reads is UTC; TIMESTAMP
            // columns of a PHP-package table convert through this zone too.
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute("SET time_zone = '+00:00'").await?;
                    Ok(())
                })
            })
            .connect_lazy_with(opts);
        Ok(MySqlStore { pool, flavor, st: Statements::new(prefix, flavor) })
    }

    /// The server family and version read at connect.
    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// One autocommit statement. Retried when busy: a deadlock or lock wait
    /// timeout rolled back only this statement, so running it again is safe.
    /// The common case, a batch where every task returned (one message for
    /// all): one UPDATE joined with the per-task values, one read of the
    /// final states, instead of two statements per task. The assignments are
    /// finish_completed's, in the same left-to-right order. None when the
    /// batch is mixed.
    async fn finish_all_completed(&self, outcomes: &[Outcome], now: Timestamp) -> StoreResult<Option<Vec<Finished>>> {
        let mut message = None;
        let mut rows = Vec::with_capacity(outcomes.len());
        for o in outcomes {
            match o {
                Outcome::Completed { id, message: m, duration, peak_memory } if message.is_none() || message == Some(m) => {
                    message = Some(m);
                    rows.push((*id, *duration, *peak_memory));
                }
                _ => return Ok(None),
            }
        }
        let Some(message) = message else { return Ok(None) };
        let values = (0..rows.len())
            .map(|i| if i == 0 { "SELECT ? AS id, ? AS duration, ? AS peak" } else { "SELECT ?, ?, ?" })
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let sql: Arc<str> = Arc::from(format!(
            "UPDATE {t} t JOIN ({values}) v ON t.id = v.id \
             SET t.message = CASE WHEN t.status IN (15, 20) THEN ? ELSE t.message END, \
             t.progress = CASE WHEN t.status IN (15, 20, 30) THEN 100 ELSE t.progress END, \
             t.status = CASE WHEN t.status IN (15, 20) THEN 30 ELSE t.status END, \
             t.finished_at = COALESCE(t.finished_at, ?), t.duration = v.duration, t.peak_memory = v.peak, \
             t.lease_owner = NULL, t.lease_expires_at = NULL, t.updated_at = ?",
            t = self.st.tasks
        ));
        let mut args = Vec::with_capacity(rows.len() * 3 + 3);
        for (id, duration, peak) in &rows {
            args.extend([Arg::Int(*id), Arg::Float(*duration), Arg::Int(*peak)]);
        }
        args.extend([text(message), at(&now), at(&now)]);
        self.exec(&sql, &args).await?;
        let read: Arc<str> =
            Arc::from(format!("SELECT id, status, message FROM {} WHERE id IN ({})", self.st.tasks, marks(rows.len())));
        let states = self.fetch(&read, &rows.iter().map(|r| Arg::Int(r.0)).collect::<Vec<_>>()).await?;
        let mut finished = Vec::with_capacity(states.len());
        for r in &states {
            finished.push(Finished {
                id: int(r, "id").map_err(classify)?,
                status: int(r, "status").map_err(classify)?,
                message: opt_string(r, "message").map_err(classify)?,
            });
        }
        Ok(Some(outcomes.iter().filter_map(|o| finished.iter().find(|f| f.id == o.id()).cloned()).collect()))
    }

    /// `task_insert_many` in one transaction.
    ///
    /// MySQL has no `ON CONFLICT DO NOTHING` for one index (`INSERT IGNORE`
    /// would also turn truncation and bad values into warnings), so the
    /// active holders of the batch's keys are read first with a locking
    /// read: their rows stay active until commit, and under REPEATABLE READ
    /// the gap lock on an absent key keeps another transaction from
    /// inserting it meanwhile. The other tasks go in as multi-row INSERTs
    /// of `MYSQL_INSERT_ROWS` rows (well under the protocol's 65535
    /// placeholders of a prepared statement). Ids: MariaDB returns them (`INSERT … RETURNING`); MySQL
    /// gives the first in LAST_INSERT_ID, and a multi-row VALUES insert is a
    /// "simple insert", whose ids InnoDB allocates together in every
    /// `innodb_autoinc_lock_mode`, `auto_increment_increment` apart.
    async fn insert_many_once(&self, p: &TaskInsertManyParams<'_>) -> StoreResult<Vec<Created>> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let mut holders = std::collections::HashMap::new();
        let keys: Vec<&str> = p.tasks.iter().filter_map(|t| t.unique_key.as_deref()).collect();
        for keys in keys.chunks(MYSQL_MAX_PLACEHOLDERS) {
            let sql: Arc<str> = Arc::from(format!(
                "SELECT id, unique_active FROM {} WHERE unique_active IN ({}) FOR UPDATE",
                self.st.tasks,
                marks(keys.len())
            ));
            let args: Vec<Arg> = keys.iter().map(|k| text(k)).collect();
            for r in fetch_on(&mut tx, &sql, &args).await? {
                let key = opt_string(&r, "unique_active").map_err(classify)?.unwrap_or_default();
                holders.insert(key, int(&r, "id").map_err(classify)?);
            }
        }
        let fresh: Vec<NewTask> =
            p.tasks.iter().filter(|t| t.unique_key.as_ref().map(|k| !holders.contains_key(k)).unwrap_or(true)).cloned().collect();
        let returning = self.flavor.insert_returning();
        let step = if returning || fresh.is_empty() {
            1
        } else {
            let r = fetch_on(&mut tx, &Arc::from("SELECT @@auto_increment_increment AS step"), &[]).await?;
            r.first().map(|r| int(r, "step")).transpose().map_err(classify)?.unwrap_or(1).max(1)
        };
        let mut ids = Vec::with_capacity(fresh.len());
        let row = "(?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)";
        for chunk in insert_chunks(&fresh, MYSQL_INSERT_ROWS, INSERT_CHUNK_BYTES) {
            let tasks = &fresh[chunk];
            let mut sql = format!("INSERT INTO {} ({TASK_INSERT_COLUMNS}) VALUES ", self.st.tasks);
            for i in 0..tasks.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(row);
            }
            if returning {
                sql.push_str(" RETURNING id, unique_key");
            }
            // Bound straight from the tasks (no `Arg` copies): a batch of
            // 100,000 rows should not copy every data document once more.
            let now = p.now.naive_utc();
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for t in tasks {
                q = q
                    .bind(t.identifier.as_str())
                    .bind(t.action.as_str())
                    .bind(t.status.code())
                    .bind(t.message.as_deref())
                    .bind(t.started_by)
                    .bind(t.meta.as_deref())
                    .bind(t.result.as_deref())
                    .bind(t.start_at.map(|s| s.naive_utc()))
                    .bind(t.max_attempts)
                    .bind(t.priority.name())
                    .bind(t.priority.rank())
                    .bind(t.progress)
                    .bind(now)
                    .bind(now)
                    .bind(available_at(t, p.now).naive_utc())
                    .bind(t.unique_key.as_deref());
            }
            if returning {
                let rows = q.fetch_all(&mut *tx).await.map_err(classify)?;
                let returned = rows
                    .iter()
                    .map(|r| Ok((int(r, "id")?, opt_string(r, "unique_key")?)))
                    .collect::<Decoded<Vec<_>>>()
                    .map_err(classify)?;
                // Nothing is skipped here (no ON CONFLICT): every task has its row.
                for id in match_returned(tasks, returned)? {
                    ids.push(id.ok_or_else(|| StoreError::new(StoreErrorKind::Other, "a batch insert skipped a row"))?);
                }
            } else {
                let done = q.execute(&mut *tx).await.map_err(classify)?;
                if done.rows_affected() != tasks.len() as u64 {
                    return Err(StoreError::new(StoreErrorKind::Other, "a batch insert wrote fewer rows than it was given"));
                }
                let first = done.last_insert_id() as i64;
                ids.extend((0..tasks.len() as i64).map(|k| first + k * step));
            }
        }
        tx.commit().await.map_err(classify)?;
        let mut ids = ids.into_iter();
        p.tasks
            .iter()
            .map(|t| match t.unique_key.as_ref().and_then(|k| holders.get(k)) {
                Some(&id) => Ok(Created { id, existing: true }),
                None => ids
                    .next()
                    .map(|id| Created { id, existing: false })
                    .ok_or_else(|| StoreError::new(StoreErrorKind::Other, "a batch insert lost a row")),
            })
            .collect()
    }

    async fn fetch(&self, sql: &Arc<str>, args: &[Arg]) -> StoreResult<Vec<MySqlRow>> {
        retry_busy(|| async move { query(sql, args).fetch_all(&self.pool).await.map_err(classify) }).await
    }

    async fn exec(&self, sql: &Arc<str>, args: &[Arg]) -> StoreResult<MySqlQueryResult> {
        retry_busy(|| async move { query(sql, args).execute(&self.pool).await.map_err(classify) }).await
    }

    async fn tasks(&self, sql: &Arc<str>, args: &[Arg]) -> StoreResult<Vec<TaskRow>> {
        decode_all(&self.fetch(sql, args).await?, task_from_row)
    }

    async fn workers(&self, sql: &Arc<str>, args: &[Arg]) -> StoreResult<Vec<WorkerRow>> {
        decode_all(&self.fetch(sql, args).await?, worker_from_row)
    }

    fn select_sql(&self, q: &crate::engine::query::Query, head: &str) -> Built {
        let mut b = Built::new();
        b.push(head).push(self.st.table(q.table));
        b.where_clause(q);
        b
    }

    async fn claim_in(&self, tx: &mut MySqlConnection, p: &TaskClaimParams) -> StoreResult<Vec<TaskRow>> {
        let locked = fetch_on(tx, &self.st.claim_lock, &claim_lock_args(p)).await?;
        let ids = decode_all(&locked, |r| int(r, "id"))?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let update: Arc<str> = Arc::from(format!("{}{})", self.st.claim_update_head, marks(ids.len())));
        let mut args = vec![at(&p.now), at(&p.now), text(&p.owner), at(&p.lease_expires_at)];
        args.extend(ids.iter().map(|id| Arg::Int(*id)));
        exec_on(tx, &update, &args).await?;
        let read: Arc<str> = Arc::from(format!("SELECT * FROM {} WHERE id IN ({})", self.st.tasks, marks(ids.len())));
        let ids: Vec<Arg> = ids.iter().map(|id| Arg::Int(*id)).collect();
        decode_all(&fetch_on(tx, &read, &ids).await?, task_from_row)
    }

    async fn finish_in(&self, tx: &mut MySqlConnection, o: &Outcome, now: &Timestamp) -> StoreResult<()> {
        let (sql, args) = match o {
            Outcome::Completed { id, message, duration, peak_memory } => (
                &self.st.finish_completed,
                vec![text(message), at(now), Arg::Float(*duration), Arg::Int(*peak_memory), at(now), Arg::Int(*id)],
            ),
            Outcome::Retry { id, message, error, available_at, duration, peak_memory } => (
                &self.st.finish_retry,
                vec![
                    text(message),
                    text(error),
                    at(available_at),
                    Arg::Float(*duration),
                    Arg::Int(*peak_memory),
                    at(now),
                    Arg::Int(*id),
                ],
            ),
            Outcome::Failed { id, message, error, duration, peak_memory } => (
                &self.st.finish_failed,
                vec![text(message), text(error), at(now), Arg::Float(*duration), Arg::Int(*peak_memory), at(now), Arg::Int(*id)],
            ),
            Outcome::Cancelled { id, message, duration, peak_memory } => (
                &self.st.finish_cancelled,
                vec![text(message), at(now), Arg::Float(*duration), Arg::Int(*peak_memory), at(now), Arg::Int(*id)],
            ),
            Outcome::Released { id, message, available_at } => {
                (&self.st.finish_released, vec![text(message), at(available_at), at(now), Arg::Int(*id)])
            }
        };
        exec_on(tx, sql, &args).await.map(|_| ())
    }

    /// One batch of the cleaner: locks up to DELETE_BATCH ids, deletes them.
    async fn delete_completed_batch(&self, before: &Timestamp) -> StoreResult<Vec<i64>> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let rows = fetch_on(&mut tx, &self.st.completed_before, &[at(before)]).await?;
        let ids = decode_all(&rows, |r| int(r, "id"))?;
        if !ids.is_empty() {
            let sql: Arc<str> = Arc::from(format!("DELETE FROM {} WHERE id IN ({})", self.st.tasks, marks(ids.len())));
            let args: Vec<Arg> = ids.iter().map(|id| Arg::Int(*id)).collect();
            exec_on(&mut tx, &sql, &args).await?;
        }
        tx.commit().await.map_err(classify)?;
        Ok(ids)
    }
}

#[async_trait]
impl Store for MySqlStore {
    async fn migrate(&self) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(classify)?;
        // DDL commits on its own, so no transaction can hold two migrating
        // processes apart: a named lock does (server-wide, freed if the
        // connection drops). The name is per prefix, cut to MySQL's 64.
        let lock = lock_name(&self.st.prefix);
        let got = sqlx::query("SELECT GET_LOCK(?, 30)").bind(lock.clone()).fetch_one(&mut *conn).await.map_err(classify)?;
        if got.try_get_unchecked::<Option<i64>, _>(0).map_err(classify)? != Some(1) {
            return Err(StoreError::new(StoreErrorKind::Busy, "another process kept the migration lock for 30 s"));
        }
        let result = migrate_on(&mut conn, &self.st, self.flavor).await;
        let released = sqlx::query("SELECT RELEASE_LOCK(?)").bind(lock).execute(&mut *conn).await.map_err(classify);
        result?;
        released.map(|_| ())
    }

    async fn task_insert(&self, t: &NewTask, now: Timestamp) -> StoreResult<TaskRow> {
        let available = match t.start_at {
            Some(s) if s > now => s,
            _ => now,
        };
        let args = [
            text(&t.identifier),
            text(&t.action),
            Arg::Int(t.status.code()),
            opt_text(&t.message),
            t.started_by.map(Arg::Int).unwrap_or(Arg::Null),
            opt_text(&t.meta),
            opt_text(&t.result),
            t.start_at.as_ref().map(at).unwrap_or(Arg::Null),
            Arg::Int(t.max_attempts),
            text(t.priority.name()),
            Arg::Int(t.priority.rank()),
            Arg::Int(t.progress),
            at(&now),
            at(&now),
            at(&available),
            opt_text(&t.unique_key),
        ];
        let done = self.exec(&self.st.insert_task, &args).await?;
        Ok(t.row(done.last_insert_id() as i64, now, available))
    }

    async fn task_insert_many(&self, p: &TaskInsertManyParams<'_>) -> StoreResult<Vec<Created>> {
        if p.tasks.is_empty() {
            return Ok(Vec::new());
        }
        // A duplicate key can still slip in between the lock and the insert
        // when the session runs READ COMMITTED (no gap locks): the whole
        // transaction is rolled back and run again, as deadlocks are.
        let mut conflicts = 0;
        loop {
            match retry_busy(|| self.insert_many_once(p)).await {
                Err(e) if e.kind() == StoreErrorKind::Conflict && conflicts < 3 => conflicts += 1,
                other => return other,
            }
        }
    }

    async fn task_get(&self, id: i64) -> StoreResult<Option<TaskRow>> {
        Ok(self.tasks(&self.st.get_task, &[Arg::Int(id)]).await?.into_iter().next())
    }

    async fn task_select(&self, q: &crate::engine::query::Query) -> StoreResult<Vec<TaskRow>> {
        let mut b = self.select_sql(q, "SELECT * FROM ");
        b.order_limit(q, "id ASC");
        let (sql, args) = b.finish();
        self.tasks(&sql, &args).await
    }

    async fn task_claim(&self, p: &TaskClaimParams) -> StoreResult<Vec<TaskRow>> {
        if p.limit <= 0 {
            return Ok(Vec::new());
        }
        let mut tasks = retry_busy(|| async move {
            let mut tx = self.pool.begin().await.map_err(classify)?;
            let tasks = self.claim_in(&mut tx, p).await?;
            tx.commit().await.map_err(classify)?;
            Ok(tasks)
        })
        .await?;
        tasks.sort_by_key(|t| (Priority::rank_of_name(&t.priority), t.id));
        Ok(tasks)
    }

    async fn explain_claim(&self) -> StoreResult<String> {
        let p = TaskClaimParams::explain();
        let update = format!("{}{})", self.st.claim_update_head, marks(p.limit as usize));
        let mut update_args = vec![at(&p.now), at(&p.now), text(&p.owner), at(&p.lease_expires_at)];
        update_args.extend((1..=p.limit).map(Arg::Int));
        let mut lines = Vec::new();
        for (sql, args) in [(self.st.claim_lock.to_string(), claim_lock_args(&p).to_vec()), (update, update_args)] {
            let explain: Arc<str> = Arc::from(format!("EXPLAIN {sql}"));
            for r in self.fetch(&explain, &args).await? {
                let col = |c: &str| {
                    let text = opt_string(&r, c).ok().flatten();
                    text.or_else(|| int(&r, c).ok().map(|n| n.to_string())).unwrap_or_default()
                };
                lines.push(format!(
                    "table={} type={} key={} rows={} extra={}",
                    col("table"),
                    col("type"),
                    col("key"),
                    col("rows"),
                    col("Extra")
                ));
            }
        }
        Ok(lines.join("\n"))
    }

    async fn task_claim_id(&self, id: i64, p: &TaskClaimParams) -> StoreResult<Option<TaskRow>> {
        retry_busy(|| async move {
            let mut tx = self.pool.begin().await.map_err(classify)?;
            let args = [at(&p.now), at(&p.now), text(&p.owner), at(&p.lease_expires_at), Arg::Int(id)];
            let claimed = exec_on(&mut tx, &self.st.claim_id, &args).await?.rows_affected() == 1;
            let row = if claimed {
                decode_all(&fetch_on(&mut tx, &self.st.get_task, &[Arg::Int(id)]).await?, task_from_row)?.into_iter().next()
            } else {
                None
            };
            tx.commit().await.map_err(classify)?;
            Ok(row)
        })
        .await
    }

    async fn task_finish_many(&self, outcomes: &[Outcome], now: Timestamp) -> StoreResult<Vec<Finished>> {
        if outcomes.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(done) = self.finish_all_completed(outcomes, now).await? {
            return Ok(done);
        }
        let now = &now;
        retry_busy(|| async move {
            let mut tx = self.pool.begin().await.map_err(classify)?;
            for o in outcomes {
                self.finish_in(&mut tx, o, now).await?;
            }
            let mut finished = Vec::with_capacity(outcomes.len());
            for o in outcomes {
                let rows = fetch_on(&mut tx, &self.st.state_of, &[Arg::Int(o.id())]).await?;
                if let Some(r) = rows.first() {
                    let status = int(r, "status").map_err(classify)?;
                    let message = opt_string(r, "message").map_err(classify)?;
                    finished.push(Finished { id: o.id(), status, message });
                }
            }
            tx.commit().await.map_err(classify)?;
            Ok(finished)
        })
        .await
    }

    async fn task_extend_leases(&self, p: &LeaseExtendParams) -> StoreResult<u64> {
        if p.ids.is_empty() {
            return Ok(0);
        }
        let sql: Arc<str> = Arc::from(format!(
            "UPDATE {} SET lease_expires_at = ? WHERE status IN (15, 20) AND lease_owner = ? AND id IN ({})",
            self.st.tasks,
            marks(p.ids.len())
        ));
        let mut args = vec![at(&p.expires_at), text(&p.owner)];
        args.extend(p.ids.iter().map(|id| Arg::Int(*id)));
        Ok(self.exec(&sql, &args).await?.rows_affected())
    }

    async fn task_select_expired(&self, now: Timestamp, after_id: i64, limit: i64) -> StoreResult<Vec<TaskRow>> {
        self.tasks(&self.st.select_expired, &[at(&now), Arg::Int(after_id), Arg::Int(limit)]).await
    }

    async fn task_rescue(&self, p: &RescueParams) -> StoreResult<bool> {
        let done = match &p.to {
            Rescue::Retry { available_at } => {
                let args = [at(available_at), text(&p.message), text(&p.message), at(&p.now), Arg::Int(p.id), at(&p.now)];
                self.exec(&self.st.rescue_retry, &args).await?
            }
            Rescue::Fail => {
                let args = [text(&p.message), text(&p.message), at(&p.now), at(&p.now), Arg::Int(p.id), at(&p.now)];
                self.exec(&self.st.rescue_fail, &args).await?
            }
        };
        Ok(done.rows_affected() == 1)
    }

    async fn task_progress(&self, p: &TaskProgressParams) -> StoreResult<Option<ProgressAck>> {
        let args = [Arg::Int(p.progress), text(&p.message), text(&p.snapshot), at(&p.now), Arg::Int(p.id)];
        self.exec(&self.st.progress, &args).await?;
        let rows = self.fetch(&self.st.progress_ack, &[Arg::Int(p.id)]).await?;
        match rows.first() {
            Some(r) => Ok(Some(ProgressAck {
                status: int(r, "status").map_err(classify)?,
                cancel_requested: int(r, "cancel_requested").map_err(classify)? != 0,
            })),
            None => Ok(None),
        }
    }

    async fn task_cancel(&self, id: i64, now: Timestamp) -> StoreResult<CancelOutcome> {
        if self.exec(&self.st.cancel_pending, &[at(&now), at(&now), Arg::Int(id)]).await?.rows_affected() == 1 {
            return Ok(CancelOutcome::Cancelled);
        }
        if self.exec(&self.st.cancel_running, &[at(&now), Arg::Int(id)]).await?.rows_affected() == 1 {
            return Ok(CancelOutcome::Requested);
        }
        let rows = self.fetch(&self.st.status_of, &[Arg::Int(id)]).await?;
        Ok(match rows.first() {
            Some(r) => CancelOutcome::NotCancellable(int(r, "status").map_err(classify)?),
            None => CancelOutcome::NotFound,
        })
    }

    async fn task_retry(&self, id: i64, now: Timestamp) -> StoreResult<bool> {
        Ok(self.exec(&self.st.retry, &[at(&now), at(&now), Arg::Int(id)]).await?.rows_affected() == 1)
    }

    async fn task_delete_completed_before(&self, before: Timestamp) -> StoreResult<Vec<i64>> {
        let mut all = Vec::new();
        loop {
            let ids = retry_busy(|| self.delete_completed_batch(&before)).await?;
            let short = (ids.len() as i64) < DELETE_BATCH;
            all.extend(ids);
            if short {
                return Ok(all);
            }
        }
    }

    async fn task_count_by_status(&self) -> StoreResult<Vec<(i64, i64)>> {
        decode_all(&self.fetch(&self.st.count_by_status, &[]).await?, |r| Ok((int(r, "status")?, int(r, "n")?)))
    }

    async fn task_summary(&self, since: Timestamp) -> StoreResult<TaskSummaryRow> {
        let rows = self.fetch(&self.st.summary, &[at(&since)]).await?;
        Ok(decode_all(&rows, summary_from_row)?.pop().unwrap_or_default())
    }

    async fn task_worker_stats(&self, since: Timestamp, identifier: Option<&str>) -> StoreResult<Vec<WorkerStatsRow>> {
        let filter = if identifier.is_some() { " AND identifier = ?" } else { "" };
        let sql: Arc<str> = Arc::from(format!(
            "SELECT identifier, {SUMMARY_COLUMNS}, MAX(COALESCE(finished_at, started_at, updated_at)) AS last_execution \
             FROM {} WHERE created_at >= ?{filter} GROUP BY identifier ORDER BY identifier",
            self.st.tasks
        ));
        let mut args = vec![at(&since)];
        if let Some(i) = identifier {
            args.push(text(i));
        }
        decode_all(&self.fetch(&sql, &args).await?, |r| {
            Ok(WorkerStatsRow {
                identifier: string(r, "identifier")?,
                summary: summary_from_row(r)?,
                last_execution: ts(r, "last_execution")?,
            })
        })
    }

    async fn task_common_errors(&self, since: Timestamp, limit: i64) -> StoreResult<Vec<(String, i64)>> {
        decode_all(&self.fetch(&self.st.common_errors, &[at(&since), Arg::Int(limit)]).await?, |r| {
            Ok((string(r, "last_error")?, int(r, "n")?))
        })
    }

    async fn task_timeline(&self, since: Timestamp) -> StoreResult<Vec<TimelineRow>> {
        // SUM is DECIMAL in MySQL (hence the casts); the NULL of the first
        // branch takes DOUBLE from the second.
        let t = &self.st.tasks;
        let sql: Arc<str> = Arc::from(format!(
            "SELECT h, CAST(SUM(c) AS SIGNED) AS created, CAST(SUM(ok) AS SIGNED) AS completed, \
             CAST(SUM(ko) AS SIGNED) AS failed, AVG(d) * 1E0 AS avg_duration FROM ( \
             SELECT DATE_FORMAT(created_at, '%Y-%m-%d %H') AS h, 1 AS c, 0 AS ok, 0 AS ko, NULL AS d \
             FROM {t} WHERE created_at >= ? \
             UNION ALL \
             SELECT DATE_FORMAT(finished_at, '%Y-%m-%d %H'), 0, CASE WHEN status = 30 THEN 1 ELSE 0 END, \
             CASE WHEN status = 40 THEN 1 ELSE 0 END, duration FROM {t} \
             WHERE created_at >= ? AND finished_at >= ? AND status IN (30, 40) \
             ) x GROUP BY h ORDER BY h"
        ));
        let rows = decode_all(&self.fetch(&sql, &[at(&since), at(&timeline_created_floor(since)), at(&since)]).await?, |r| {
            Ok((string(r, "h")?, int(r, "created")?, int(r, "completed")?, int(r, "failed")?, opt_float(r, "avg_duration")?))
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
        let sql: Arc<str> =
            Arc::from(format!("SELECT * FROM {t} WHERE id IN (SELECT MAX(id) FROM {t} GROUP BY identifier) ORDER BY identifier"));
        self.tasks(&sql, &[]).await
    }

    async fn task_counters(&self, now: Timestamp) -> StoreResult<Vec<IdentifierCounters>> {
        let sql: Arc<str> = Arc::from(format!(
            "SELECT identifier, \
             COUNT(CASE WHEN status = 10 THEN 1 END) AS pending, \
             COUNT(CASE WHEN status IN (15, 20) THEN 1 END) AS running, \
             COUNT(CASE WHEN status = 30 THEN 1 END) AS completed, \
             COUNT(CASE WHEN status = 40 THEN 1 END) AS failed, \
             COUNT(CASE WHEN status = 50 THEN 1 END) AS cancelled, \
             CAST(COALESCE(SUM(CASE WHEN attempts > 1 THEN attempts - 1 ELSE 0 END), 0) AS SIGNED) AS retried, \
             MIN(CASE WHEN status = 10 AND available_at <= ? THEN available_at END) AS oldest_pending \
             FROM {} GROUP BY identifier ORDER BY identifier",
            self.st.tasks
        ));
        decode_all(&self.fetch(&sql, &[at(&now)]).await?, |r| {
            Ok(IdentifierCounters {
                identifier: string(r, "identifier")?,
                pending: int(r, "pending")?,
                running: int(r, "running")?,
                completed: int(r, "completed")?,
                failed: int(r, "failed")?,
                cancelled: int(r, "cancelled")?,
                retried: int(r, "retried")?,
                oldest_pending: ts(r, "oldest_pending")?,
            })
        })
    }

    async fn worker_select(&self, q: &crate::engine::query::Query) -> StoreResult<Vec<WorkerRow>> {
        let mut b = self.select_sql(q, "SELECT * FROM ");
        b.order_limit(q, "position ASC, identifier ASC");
        let (sql, args) = b.finish();
        self.workers(&sql, &args).await
    }

    async fn worker_get(&self, identifier: &str) -> StoreResult<Option<WorkerRow>> {
        Ok(self.workers(&self.st.worker_get, &[text(identifier)]).await?.into_iter().next())
    }

    async fn worker_insert(&self, info: &WorkerInfo, now: Timestamp) -> StoreResult<Option<WorkerRow>> {
        let args = [
            text(&info.identifier),
            text(&info.scope),
            text(&info.class),
            text(&info.title),
            text(&info.description),
            text(&info.icon),
            at(&now),
            at(&now),
            text(&info.identifier),
        ];
        let id = match self.exec(&self.st.worker_insert, &args).await {
            Ok(done) if done.rows_affected() == 1 => done.last_insert_id() as i64,
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == StoreErrorKind::Conflict => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(self.workers(&self.st.worker_get_id, &[Arg::Int(id)]).await?.into_iter().next())
    }

    async fn worker_update_info(&self, id: i64, info: &WorkerInfo, now: Timestamp) -> StoreResult<bool> {
        let args = [
            text(&info.identifier),
            text(&info.scope),
            text(&info.class),
            text(&info.title),
            text(&info.description),
            text(&info.icon),
            at(&now),
            Arg::Int(id),
        ];
        // sqlx asks for CLIENT_FOUND_ROWS: rows matched, not rows changed,
        // so an identical refresh still answers true, as on SQLite.
        Ok(self.exec(&self.st.worker_update_info, &args).await?.rows_affected() == 1)
    }

    async fn worker_counts(&self) -> StoreResult<(i64, i64)> {
        let rows = decode_all(&self.fetch(&self.st.worker_counts, &[]).await?, |r| Ok((int(r, "total")?, int(r, "active")?)))?;
        Ok(rows.into_iter().next().unwrap_or((0, 0)))
    }

    async fn drop_tables(&self) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(classify)?;
        raw_on(&mut conn, self.st.drop_tables.clone()).await
    }

    async fn leader_acquire(&self, name: &str, owner: &str, until: Timestamp, now: Timestamp) -> StoreResult<bool> {
        let renew = [text(owner), at(&until), text(name), text(owner), at(&now)];
        if self.exec(&self.st.leader_renew, &renew).await?.rows_affected() == 1 {
            return Ok(true);
        }
        match self.exec(&self.st.leader_insert, &[text(name), text(owner), at(&until)]).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == StoreErrorKind::Conflict => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn create_legacy_tables_for_tests(&self) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(classify)?;
        for stmt in legacy_tables(&self.st.prefix) {
            raw_on(&mut conn, stmt).await?;
        }
        Ok(())
    }

    async fn count(&self, q: &crate::engine::query::Query) -> StoreResult<i64> {
        let (sql, args) = self.select_sql(q, "SELECT COUNT(*) AS n FROM ").finish();
        let rows = self.fetch(&sql, &args).await?;
        Ok(decode_all(&rows, |r| int(r, "n"))?.into_iter().next().unwrap_or(0))
    }

    async fn delete(&self, q: &crate::engine::query::Query) -> StoreResult<u64> {
        let table = self.st.table(q.table).to_string();
        let mut b = Built::new();
        b.push("DELETE FROM ").push(&table);
        limited_where(&mut b, &table, q);
        let (sql, args) = b.finish();
        Ok(self.exec(&sql, &args).await?.rows_affected())
    }

    async fn update(&self, q: &crate::engine::query::Query, set: &[(&'static str, Value)], now: Timestamp) -> StoreResult<u64> {
        let table = self.st.table(q.table).to_string();
        let mut b = update_set(&table, q, set, now);
        limited_where(&mut b, &table, q);
        let (sql, args) = b.finish();
        Ok(self.exec(&sql, &args).await?.rows_affected())
    }
}

/// ` WHERE …` of a limited UPDATE/DELETE: through a derived table, as
/// MySQL refuses both a subquery on the table being changed (1093) and
/// LIMIT inside `IN (…)` (1235); a derived table with LIMIT is always
/// materialised, never merged back into the outer statement. ORDER BY
/// without LIMIT or OFFSET changes nothing about which rows match.
fn limited_where(b: &mut Built, table: &str, q: &crate::engine::query::Query) {
    if q.limit.is_some() || q.offset.is_some() {
        b.push(" WHERE id IN (SELECT id FROM (SELECT id FROM ").push(table);
        b.where_clause(q);
        b.order_limit(q, "id ASC");
        b.push(") AS picked)");
    } else {
        b.where_clause(q);
    }
}

/// `UPDATE … SET` for whitelisted columns, as sqlite.rs `update_sql`: the
/// engine keeps its own claim columns (priority rank, availability) in step
/// with what the caller wrote. The assignments the engine adds read only
/// bound values or columns no assignment here writes (`start_at` is read only
/// when the caller did not set it), so MySQL's left-to-right SET changes
/// nothing.
fn update_set(table: &str, q: &crate::engine::query::Query, set: &[(&'static str, Value)], now: Timestamp) -> Built {
    let timestamps = q.table.timestamps();
    let now_v = || Value::Text(time::to_db(&now));
    let mut b = Built::new();
    b.push("UPDATE ").push(table).push(" SET ");
    let mut first = true;
    let mut sep = |b: &mut Built| {
        if !first {
            b.push(", ");
        }
        first = false;
    };
    for (col, v) in set {
        sep(&mut b);
        b.push(col).push(" = ");
        b.bind(v.clone(), timestamps.contains(col));
    }
    if q.table == Table::Tasks {
        let find = |c: &str| set.iter().find(|(k, _)| *k == c).map(|(_, v)| v.clone());
        if let Some(p) = find("priority") {
            let rank = match &p {
                Value::Text(s) => Priority::rank_of_name(s),
                _ => Priority::Normal.rank(),
            };
            sep(&mut b);
            b.push("priority_rank = ");
            b.bind(Value::Int(rank), false);
        }
        if let Some(start) = find("start_at") {
            sep(&mut b);
            b.push("available_at = COALESCE(");
            b.bind(start, true);
            b.push(", ");
            b.bind(now_v(), true);
            b.push(")");
        } else if find("status") == Some(Value::Int(Status::Pending.code())) {
            // Queued again by hand: due now, or at its scheduled time.
            sep(&mut b);
            b.push("available_at = CASE WHEN start_at > ");
            b.bind(now_v(), true);
            b.push(" THEN start_at ELSE ");
            b.bind(now_v(), true);
            b.push(" END, cancel_requested = 0");
        }
    }
    if !set.iter().any(|(c, _)| *c == "updated_at") {
        sep(&mut b);
        b.push("updated_at = ");
        b.bind(now_v(), true);
    }
    b
}

/// `GET_LOCK` names are server-wide and at most 64 characters: the prefix
/// keeps two installations on one server apart; a long prefix is cut from
/// the front, which at worst makes two installations wait for each other.
fn lock_name(prefix: &str) -> String {
    let name = format!("{prefix}stask_migrate");
    let extra = name.chars().count().saturating_sub(64);
    name.chars().skip(extra).collect()
}

/// Column names and lowercase types of `table` in the current database.
/// Names are compared lowercased: with lower_case_table_names = 1 (Windows,
/// macOS) information_schema reports them so.
async fn columns_of(c: &mut MySqlConnection, table: &str) -> StoreResult<Vec<(String, String)>> {
    let sql: Arc<str> = Arc::from(
        "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND LOWER(TABLE_NAME) = LOWER(?)",
    );
    let rows = fetch_on(c, &sql, &[text(table)]).await?;
    decode_all(&rows, |r| {
        Ok((r.try_get_unchecked::<String, _>(0)?.to_ascii_lowercase(), r.try_get_unchecked::<String, _>(1)?.to_ascii_lowercase()))
    })
}

async fn indexes_of(c: &mut MySqlConnection, table: &str) -> StoreResult<Vec<String>> {
    let sql: Arc<str> = Arc::from(
        "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS \
         WHERE TABLE_SCHEMA = DATABASE() AND LOWER(TABLE_NAME) = LOWER(?)",
    );
    let rows = fetch_on(c, &sql, &[text(table)]).await?;
    decode_all(&rows, |r| Ok(r.try_get_unchecked::<String, _>(0)?.to_ascii_lowercase()))
}

/// Creates the tables, or converts a database written by the PHP package.
/// Runs under the migration lock (see `migrate`).
/// Names the engine looks rows up by: `(table, column, definition)`.
const NAME_COLUMNS: [(&str, &str, &str); 3] = [
    ("s_workers", "identifier", "VARCHAR(255) NOT NULL"),
    ("s_tasks", "identifier", "VARCHAR(255) NOT NULL"),
    ("s_tasks", "action", "VARCHAR(255) NOT NULL"),
];

/// Gives the name columns the exact collation of this server (see
/// `Flavor::exact_collation`): the tables keep Laravel's case- and
/// trailing-space-insensitive utf8mb4_unicode_ci, under which
/// `/workers/PRODUCT` found the worker `product`. Changing the column (not
/// each comparison) keeps the indexes usable; it is an ALTER only where the
/// collation differs, so once per table.
async fn exact_names_on(c: &mut MySqlConnection, prefix: &str, flavor: Flavor) -> StoreResult<()> {
    let collation = flavor.exact_collation();
    let sql: Arc<str> = Arc::from(
        "SELECT COLLATION_NAME FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND LOWER(TABLE_NAME) = LOWER(?) AND LOWER(COLUMN_NAME) = LOWER(?)",
    );
    for table in ["s_workers", "s_tasks"] {
        let full = format!("{prefix}{table}");
        let mut changes = Vec::new();
        for (_, col, def) in NAME_COLUMNS.iter().filter(|(t, _, _)| *t == table) {
            let rows = fetch_on(c, &sql, &[text(&full), text(col)]).await?;
            let current = decode_all(&rows, |r| r.try_get_unchecked::<Option<String>, _>(0))?.into_iter().flatten().next();
            if current.as_deref().is_some_and(|cur| !cur.eq_ignore_ascii_case(collation)) {
                let exact = format!("VARCHAR(255) CHARACTER SET utf8mb4 COLLATE {collation}");
                changes.push(format!("MODIFY COLUMN {col} {}", def.replacen("VARCHAR(255)", &exact, 1)));
            }
        }
        if !changes.is_empty() {
            raw_on(c, format!("ALTER TABLE {full} {}", changes.join(", "))).await?;
        }
    }
    Ok(())
}

async fn migrate_on(c: &mut MySqlConnection, st: &Statements, flavor: Flavor) -> StoreResult<()> {
    let (tasks, workers) = (st.tasks.as_str(), st.workers.as_str());
    let existed = !columns_of(c, tasks).await?.is_empty();
    for stmt in statements(MIGRATION_TABLES, &st.prefix) {
        raw_on(c, stmt).await?;
    }
    let task_cols = columns_of(c, tasks).await?;
    let worker_cols = columns_of(c, workers).await?;
    let has = |cols: &[(String, String)], name: &str| cols.iter().any(|(n, _)| n == name);
    let type_of = |cols: &[(String, String)], name: &str| cols.iter().find(|(n, _)| n == name).map(|(_, t)| t.clone());

    // A PHP-package table lacks available_at. DDL cannot share a transaction
    // with the status update, so a conversion cut short (columns added,
    // codes not yet converted) must be told apart from a finished one: the
    // conversion fills available_at on every row in the same transaction as
    // the codes, and the claim index is only created after that commits.
    // Rows the engine writes always have available_at.
    let claim_index = format!("{}s_tasks_claim", st.prefix).to_ascii_lowercase();
    let converting = existed
        && (!has(&task_cols, "available_at") || {
            let indexed = indexes_of(c, tasks).await?.contains(&claim_index);
            let unfilled: Arc<str> = Arc::from(format!("SELECT 1 FROM {tasks} WHERE available_at IS NULL LIMIT 1"));
            !indexed && !fetch_on(c, &unfilled, &[]).await?.is_empty()
        });

    // One ALTER per table: each is a table copy on a big table. The
    // package's TIMESTAMP columns become DATETIME(6): the session is UTC, so
    // their values carry over unchanged, and they gain microseconds and
    // lose the 2038 limit. A MySQL JSON `settings` becomes LONGTEXT so it
    // reads back as written.
    let mut changes: Vec<String> = Vec::new();
    for (col, def) in ENGINE_TASK_COLUMNS {
        if !has(&task_cols, col) {
            changes.push(format!("ADD COLUMN {col} {def}"));
        }
    }
    for col in crate::engine::task::TIMESTAMPS {
        if type_of(&task_cols, col).as_deref() == Some("timestamp") {
            changes.push(format!("MODIFY COLUMN {col} DATETIME(6) NULL"));
        }
    }
    if !changes.is_empty() {
        raw_on(c, format!("ALTER TABLE {tasks} {}", changes.join(", "))).await?;
    }
    // Alone, after unique_key exists: not every server version accepts a
    // generated column over a column added in the same statement.
    if !has(&task_cols, UNIQUE_ACTIVE_COLUMN.0) {
        raw_on(c, format!("ALTER TABLE {tasks} ADD COLUMN {} {}", UNIQUE_ACTIVE_COLUMN.0, UNIQUE_ACTIVE_COLUMN.1)).await?;
    }
    let mut changes: Vec<String> = Vec::new();
    for (col, def) in ENGINE_WORKER_COLUMNS {
        if !has(&worker_cols, col) {
            changes.push(format!("ADD COLUMN {col} {def}"));
        }
    }
    for col in crate::engine::worker::TIMESTAMPS {
        if type_of(&worker_cols, col).as_deref() == Some("timestamp") {
            changes.push(format!("MODIFY COLUMN {col} DATETIME(6) NULL"));
        }
    }
    if type_of(&worker_cols, "settings").as_deref() == Some("json") {
        changes.push("MODIFY COLUMN settings LONGTEXT NULL".into());
    }
    if !changes.is_empty() {
        raw_on(c, format!("ALTER TABLE {workers} {}", changes.join(", "))).await?;
    }
    exact_names_on(c, &st.prefix, flavor).await?;

    if converting {
        // The PHP package used 10 queued, 30 preparing, 50 running,
        // 80 completed, 100 failed. One CASE maps every row from its old
        // code at once, so no code is converted twice (30 → 15 while 80 → 30).
        let mut tx = c.begin().await.map_err(classify)?;
        raw_on(
            &mut tx,
            format!(
                "UPDATE {tasks} SET status = CASE status WHEN 30 THEN 15 WHEN 50 THEN 20 WHEN 80 THEN 30 \
                 WHEN 100 THEN 40 ELSE status END, \
                 available_at = COALESCE(start_at, created_at, UTC_TIMESTAMP(6)), \
                 priority_rank = CASE priority WHEN 'high' THEN 1 WHEN 'low' THEN 10 ELSE 5 END"
            ),
        )
        .await?;
        tx.commit().await.map_err(classify)?;
    }

    let mut existing: Vec<(String, Vec<String>)> = Vec::new();
    for stmt in statements(MIGRATION_INDEXES, &st.prefix) {
        let Some((index, table)) = index_target(&stmt) else {
            return Err(StoreError::new(
                StoreErrorKind::Other,
                format!("0002_indexes.sql: cannot read the index name of '{stmt}'"),
            ));
        };
        if !existing.iter().any(|(t, _)| *t == table) {
            let names = indexes_of(c, &table).await?;
            existing.push((table.clone(), names));
        }
        let known =
            existing.iter().find(|(t, _)| *t == table).map(|(_, n)| n.contains(&index.to_ascii_lowercase())).unwrap_or(false);
        if !known {
            raw_on(c, stmt).await?;
        }
    }
    Ok(())
}

/// The index and table names of `CREATE [UNIQUE] INDEX name ON table (…)`.
fn index_target(stmt: &str) -> Option<(String, String)> {
    let words: Vec<&str> = stmt.split_whitespace().collect();
    let i = words.iter().position(|w| w.eq_ignore_ascii_case("INDEX"))?;
    let on = words.iter().position(|w| w.eq_ignore_ascii_case("ON"))?;
    let table = words.get(on + 1)?.split('(').next()?.to_string();
    Some((words.get(i + 1)?.to_string(), table))
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

/// The PHP package's tables as its Laravel migration makes them on MySQL
/// (REFERENCE.md 2.1, 2.2): TIMESTAMP columns, unsigned integers, a JSON
/// `settings` (without the package's `JSON_ARRAY()` default, which not every
/// server accepts), Laravel's index names, and one task in each of its
/// status codes.
fn legacy_tables(p: &str) -> Vec<String> {
    vec![
        format!(
            "CREATE TABLE {p}s_workers (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, uuid CHAR(36) NULL, \
             identifier VARCHAR(255) NOT NULL, scope VARCHAR(255) NOT NULL DEFAULT '', class VARCHAR(255) NOT NULL, \
             active TINYINT(1) NOT NULL DEFAULT 0, position INT UNSIGNED NOT NULL DEFAULT 0, settings JSON NOT NULL, \
             hidden INT UNSIGNED NOT NULL DEFAULT 0, created_at TIMESTAMP NULL, updated_at TIMESTAMP NULL, \
             UNIQUE KEY {p}s_workers_uuid_unique (uuid), UNIQUE KEY {p}s_workers_identifier_unique (identifier), \
             KEY {p}s_workers_identifier_index (identifier), KEY {p}s_workers_scope_index (scope), \
             KEY {p}s_workers_active_index (active), KEY {p}s_workers_position_index (position)) \
             ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
        ),
        format!(
            "CREATE TABLE {p}s_tasks (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, identifier VARCHAR(255) NOT NULL, \
             action VARCHAR(255) NOT NULL, status SMALLINT UNSIGNED NOT NULL DEFAULT 10, message TEXT NULL, \
             started_by INT UNSIGNED NULL, meta LONGTEXT NULL, result LONGTEXT NULL, start_at TIMESTAMP NULL, \
             finished_at TIMESTAMP NULL, attempts INT NOT NULL DEFAULT 0, max_attempts INT NOT NULL DEFAULT 3, \
             priority VARCHAR(255) NOT NULL DEFAULT 'normal', progress INT NOT NULL DEFAULT 0, \
             created_at TIMESTAMP NULL, updated_at TIMESTAMP NULL, \
             KEY {p}s_tasks_identifier_action_index (identifier, action), KEY {p}s_tasks_status_index (status), \
             KEY {p}s_tasks_started_by_index (started_by), KEY {p}s_tasks_start_at_index (start_at), \
             KEY {p}s_tasks_created_at_index (created_at), KEY {p}s_tasks_priority_index (priority)) \
             ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
        ),
        format!(
            "INSERT INTO {p}s_workers (uuid, identifier, scope, class, active, position, settings, hidden, created_at, updated_at) \
             VALUES ('6f1c2b7e-3d4a-4f5b-9c8d-0e1f2a3b4c5d', 'legacy', 'tests', 'Tests\\\\Legacy', 1, 1, '[]', 0, \
             '2025-01-01 10:00:00', '2025-01-01 10:00:00')"
        ),
        format!(
            "INSERT INTO {p}s_tasks (identifier, action, status, priority, created_at) VALUES \
             ('a', 'x', 10, 'high', '2025-01-01 10:00:00'), ('a', 'x', 30, 'normal', '2025-01-01 10:00:00'), \
             ('a', 'x', 50, 'normal', '2025-01-01 10:00:00'), ('a', 'x', 80, 'low', '2025-01-01 10:00:00'), \
             ('a', 'x', 100, 'normal', '2025-01-01 10:00:00')"
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::query::{Op, Query};

    #[test]
    fn version_strings_give_the_flavor_and_skip_locked() {
        assert_eq!(Flavor::from_version("10.11.19-MariaDB-0+deb12u1"), Flavor::MariaDb { major: 10, minor: 11 });
        assert_eq!(Flavor::from_version("5.5.5-10.5.8-MariaDB"), Flavor::MariaDb { major: 10, minor: 5 });
        assert_eq!(Flavor::from_version("8.0.36"), Flavor::MySql { major: 8, minor: 0 });
        assert_eq!(Flavor::from_version("8.4.0-log"), Flavor::MySql { major: 8, minor: 4 });
        assert!(Flavor::from_version("10.6.0-MariaDB").skip_locked());
        assert!(Flavor::from_version("11.4.2-MariaDB-ubu2404").skip_locked());
        assert!(!Flavor::from_version("10.5.23-MariaDB").skip_locked());
        assert!(Flavor::from_version("8.0.36").skip_locked());
        assert!(!Flavor::from_version("5.7.44").skip_locked());
        assert!(!Flavor::from_version("garbage").skip_locked());
    }

    #[test]
    fn the_claim_lock_skips_locked_rows_only_where_the_server_can() {
        let new = Statements::new("evo_", Flavor::MariaDb { major: 10, minor: 11 });
        assert!(new.claim_lock.ends_with("FOR UPDATE SKIP LOCKED"), "{}", new.claim_lock);
        let old = Statements::new("evo_", Flavor::MariaDb { major: 10, minor: 5 });
        assert!(old.claim_lock.ends_with("FOR UPDATE"), "{}", old.claim_lock);
        assert!(old.claim_lock.contains("FROM evo_s_tasks "));
    }

    #[test]
    fn error_numbers_map_to_kinds() {
        assert_eq!(kind_of_number(1213), StoreErrorKind::Busy);
        assert_eq!(kind_of_number(1205), StoreErrorKind::Busy);
        assert_eq!(kind_of_number(1062), StoreErrorKind::Conflict);
        for n in [2002, 2006, 2013, 1927] {
            assert_eq!(kind_of_number(n), StoreErrorKind::Unavailable, "{n}");
        }
        assert_eq!(kind_of_number(1064), StoreErrorKind::Other);
        assert_eq!(kind_of(&sqlx::Error::PoolTimedOut), StoreErrorKind::Unavailable);
        assert_eq!(
            kind_of(&sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))),
            StoreErrorKind::Unavailable
        );
        assert_eq!(kind_of(&sqlx::Error::RowNotFound), StoreErrorKind::Other);
    }

    #[test]
    fn timestamp_values_bind_as_datetimes_and_others_by_variant() {
        let q = Query::new(Table::Tasks)
            .where_op("created_at", Op::Ge, Value::Text("2025-01-02 03:04:05.000006".into()))
            .unwrap()
            .where_in("status", vec![Value::Int(10), Value::Int(20)], false)
            .unwrap()
            .where_null("finished_at", false)
            .unwrap()
            .where_op("created_at", Op::Like, Value::Text("2025-%".into()))
            .unwrap()
            .limit(3)
            .unwrap();
        let mut b = Built::new();
        b.push("SELECT * FROM t").where_clause(&q).order_limit(&q, "id ASC");
        let (sql, args) = b.finish();
        assert_eq!(&*sql, "SELECT * FROM t WHERE created_at >= ? AND status IN (?, ?) AND finished_at IS NULL AND LOWER(created_at) LIKE LOWER(?) ORDER BY id ASC LIMIT ?");
        let when = NaiveDateTime::parse_from_str("2025-01-02 03:04:05.000006", "%Y-%m-%d %H:%M:%S%.f").unwrap();
        assert_eq!(args, vec![Arg::Time(when), Arg::Int(10), Arg::Int(20), Arg::Text("2025-%".into()), Arg::Int(3)]);
    }

    #[test]
    fn a_limited_update_goes_through_a_derived_table() {
        let q = Query::new(Table::Tasks).where_eq("status", Value::Int(40)).unwrap().limit(2).unwrap();
        let now = time::from_db("2025-01-01 00:00:00").unwrap();
        let mut b = update_set("evo_s_tasks", &q, &[("status", Value::Int(10))], now);
        limited_where(&mut b, "evo_s_tasks", &q);
        let (sql, args) = b.finish();
        assert_eq!(
            &*sql,
            "UPDATE evo_s_tasks SET status = ?, available_at = CASE WHEN start_at > ? THEN start_at ELSE ? END, \
             cancel_requested = 0, updated_at = ? WHERE id IN (SELECT id FROM (SELECT id FROM evo_s_tasks WHERE status = ? \
             ORDER BY id ASC LIMIT ?) AS picked)"
        );
        assert_eq!(args[1], Arg::Time(now.naive_utc()));
        assert_eq!(args[4], Arg::Int(40));
    }

    #[test]
    fn migration_files_split_into_named_indexes() {
        let stmts = statements(MIGRATION_INDEXES, "evo_");
        assert_eq!(stmts.len(), 6);
        for s in &stmts {
            let (index, table) = index_target(s).unwrap();
            assert!(index.starts_with("evo_s_") && table.starts_with("evo_s_"), "{s}");
        }
        assert_eq!(index_target(&stmts[0]), Some(("evo_s_tasks_claim".into(), "evo_s_tasks".into())));
        assert_eq!(statements(MIGRATION_TABLES, "evo_").len(), 3);
    }
}
