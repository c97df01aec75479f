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

use super::dialect::{Arg, Dialect, Stmt};
use super::generic::{finish_stmt, in_outcome_order, insert_values, Backend, Done, SqlStore};
use super::rows::{self, Decode, RowRead};
use super::sql::SqlBuilder;
use super::statements::Statements;
use super::*;
use crate::engine::time;
use chrono::{DateTime, Utc};
use sqlx::mysql::{MySqlArguments, MySqlConnectOptions, MySqlDatabaseError, MySqlPoolOptions, MySqlQueryResult, MySqlRow};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Executor, MySql, MySqlConnection, MySqlPool, Row};
use std::str::FromStr;
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
    ("schedule_slot", "VARCHAR(32) NULL"),
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

/// How many completed tasks the cleaner deletes per transaction: short
/// transactions, and far below the 65535 placeholders MySQL allows.
const DELETE_BATCH: i64 = 500;

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

// ---- binding and decoding ---------------------------------------------------

/// Timestamps travel as DATETIME values, never as text, so a comparison
/// uses the index and means the same on every server.
fn query<'q>(sql: &'q str, args: &'q [Arg<'q>]) -> sqlx::query::Query<'q, MySql, MySqlArguments> {
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for a in args {
        q = match a {
            Arg::Int(v) => q.bind(*v),
            Arg::Float(v) => q.bind(*v),
            Arg::Bool(v) => q.bind(v.map(i64::from)),
            Arg::Text(v) => q.bind(v.as_deref()),
            Arg::Time(v) => q.bind(v.map(|t| t.naive_utc())),
        };
    }
    q
}

async fn fetch_on(c: &mut MySqlConnection, sql: &str, args: &[Arg<'_>]) -> StoreResult<Vec<MySqlRow>> {
    query(sql, args).fetch_all(c).await.map_err(classify)
}

async fn exec_on(c: &mut MySqlConnection, sql: &str, args: &[Arg<'_>]) -> StoreResult<MySqlQueryResult> {
    query(sql, args).execute(c).await.map_err(classify)
}

/// DDL and other one-off text: sent unprepared, so it neither needs
/// placeholders nor stays in the statement cache.
async fn raw_on(c: &mut MySqlConnection, sql: String) -> StoreResult<()> {
    sqlx::raw_sql(AssertSqlSafe(sql)).execute(c).await.map_err(classify).map(|_| ())
}

// Integers are read unchecked: the same column is SMALLINT here, SMALLINT
// UNSIGNED or TINYINT in a converted PHP-package table, BIGINT UNSIGNED for
// ids, and sqlx's checked i64 refuses every one but signed integers. The
// decoder reads the value's own width, so each fits. Strings are unchecked
// too so that a MySQL JSON column (a converted `settings`) reads as text.
struct My<'a>(&'a MySqlRow);

impl RowRead for My<'_> {
    fn int(&self, i: usize) -> StoreResult<Option<i64>> {
        self.0.try_get_unchecked(i).map_err(classify)
    }

    fn float(&self, i: usize) -> StoreResult<Option<f64>> {
        self.0.try_get(i).map_err(classify)
    }

    fn text(&self, i: usize) -> StoreResult<Option<String>> {
        self.0.try_get_unchecked(i).map_err(classify)
    }

    /// DATETIME/TIMESTAMP in UTC (the session's time zone); a text value
    /// (an expression MySQL typed as a string) is parsed as the engine's text.
    fn time(&self, i: usize) -> StoreResult<Option<Timestamp>> {
        match self.0.try_get::<Option<DateTime<Utc>>, _>(i) {
            Ok(v) => Ok(v),
            Err(sqlx::Error::ColumnDecode { .. }) => Ok(self.text(i)?.as_deref().and_then(time::from_db)),
            Err(e) => Err(classify(e)),
        }
    }
}

fn decode_all<T>(rows: &[MySqlRow], f: Decode<T>) -> StoreResult<Vec<T>> {
    rows.iter().map(|r| f(&My(r))).collect()
}

// ---- the backend -------------------------------------------------------------

pub struct MySql_ {
    pool: MySqlPool,
    flavor: Flavor,
    claim_lock: Stmt,
}

pub type MySqlStore = SqlStore<MySql_>;

impl SqlStore<MySql_> {
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
        let st = Statements::new(dialect(flavor), prefix);
        let b = MySql_ { pool, flavor, claim_lock: claim_lock(&st) };
        Ok(SqlStore::new(b, st))
    }

    /// The server family and version read at connect.
    pub fn flavor(&self) -> Flavor {
        self.b.flavor
    }
}

impl MySql_ {
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
    async fn insert_many_once(&self, st: &Statements, p: &TaskInsertManyParams<'_>) -> StoreResult<Vec<Created>> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let mut holders = std::collections::HashMap::new();
        let keys: Vec<&str> = p.tasks.iter().filter_map(|t| t.unique_key.as_deref()).collect();
        for keys in keys.chunks(MYSQL_MAX_PLACEHOLDERS) {
            let sql = format!(
                "SELECT id, unique_active FROM {} WHERE unique_active IN ({}) FOR UPDATE",
                st.tasks,
                vec!["?"; keys.len()].join(", ")
            );
            let args: Vec<Arg> = keys.iter().map(|k| Arg::text(k)).collect();
            for (id, key) in decode_all(&fetch_on(&mut tx, &sql, &args).await?, rows::id_key)? {
                holders.insert(key.unwrap_or_default(), id);
            }
        }
        let fresh: Vec<NewTask> =
            p.tasks.iter().filter(|t| t.unique_key.as_ref().map(|k| !holders.contains_key(k)).unwrap_or(true)).cloned().collect();
        let returning = self.flavor.insert_returning();
        let step = if returning || fresh.is_empty() {
            1
        } else {
            let r = fetch_on(&mut tx, "SELECT @@auto_increment_increment AS step", &[]).await?;
            decode_all(&r, rows::id)?.first().copied().unwrap_or(1).max(1)
        };
        let mut ids = Vec::with_capacity(fresh.len());
        for chunk in insert_chunks(&fresh, MYSQL_INSERT_ROWS, INSERT_CHUNK_BYTES) {
            let tasks = &fresh[chunk];
            let (sql, args) = insert_values(&st.tasks, tasks, p.now, if returning { " RETURNING id, unique_key" } else { "" });
            let q = query(&sql, &args);
            if returning {
                let returned = decode_all(&q.fetch_all(&mut *tx).await.map_err(classify)?, rows::id_key)?;
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

    /// Reads rows by id inside a transaction (after an UPDATE, for lack of
    /// RETURNING).
    async fn read_by_id<T: Send + 'static>(
        tx: &mut MySqlConnection,
        columns: &str,
        table: &str,
        ids: &[i64],
        f: Decode<T>,
    ) -> StoreResult<Vec<T>> {
        let mut read = SqlBuilder::new(Dialect::MYSQL);
        read.push("SELECT ").push(columns).push(" FROM ").push(table).push(" WHERE ").ids("id", ids);
        decode_all(&fetch_on(tx, &read.sql, &read.args).await?, f)
    }
}

#[async_trait]
impl Backend for MySql_ {
    async fn query<T: Send + 'static>(&self, sql: &str, args: &[Arg<'_>], f: Decode<T>) -> StoreResult<Vec<T>> {
        decode_all(&query(sql, args).fetch_all(&self.pool).await.map_err(classify)?, f)
    }

    async fn execute(&self, sql: &str, args: &[Arg<'_>]) -> StoreResult<Done> {
        let done = query(sql, args).execute(&self.pool).await.map_err(classify)?;
        Ok(Done { rows: done.rows_affected(), last_id: done.last_insert_id() as i64 })
    }

    async fn migrate(&self, st: &Statements) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(classify)?;
        // DDL commits on its own, so no transaction can hold two migrating
        // processes apart: a named lock does (server-wide, freed if the
        // connection drops). The name is per prefix, cut to MySQL's 64.
        let lock = lock_name(&st.prefix);
        let got = sqlx::query("SELECT GET_LOCK(?, 30)").bind(lock.clone()).fetch_one(&mut *conn).await.map_err(classify)?;
        if got.try_get_unchecked::<Option<i64>, _>(0).map_err(classify)? != Some(1) {
            return Err(StoreError::new(StoreErrorKind::Busy, "another process kept the migration lock for 30 s"));
        }
        let result = migrate_on(&mut conn, st, self.flavor).await;
        let released = sqlx::query("SELECT RELEASE_LOCK(?)").bind(lock).execute(&mut *conn).await.map_err(classify);
        result?;
        released.map(|_| ())
    }

    /// Lock, update by primary key, read back: one transaction. The rows
    /// are locked by step 1 (a locking read sees their latest version), so
    /// they are still pending: the ids alone find them by primary key. A
    /// `status = 10` in the UPDATE lets the optimizer walk the claim index
    /// over every pending row instead.
    async fn claim(&self, st: &Statements, p: &TaskClaimParams) -> StoreResult<Vec<TaskRow>> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let args = super::generic::claim_args(p);
        let locked = decode_all(&fetch_on(&mut tx, &self.claim_lock.sql, &self.claim_lock.bind(&args)).await?, rows::id)?;
        if locked.is_empty() {
            return Ok(Vec::new());
        }
        let update = claim_update(st, p, &locked);
        exec_on(&mut tx, &update.sql, &update.args).await?;
        let tasks = Self::read_by_id(&mut tx, &st.task_columns, &st.tasks, &locked, rows::task).await?;
        tx.commit().await.map_err(classify)?;
        Ok(tasks)
    }

    async fn explain_claim(&self, st: &Statements) -> StoreResult<String> {
        let p = TaskClaimParams::explain();
        let args = super::generic::claim_args(&p);
        let update = claim_update(st, &p, &(1..=p.limit).collect::<Vec<_>>());
        let mut lines = Vec::new();
        for (sql, args) in [(&*self.claim_lock.sql, self.claim_lock.bind(&args)), (&*update.sql, update.args.clone())] {
            let explain = format!("EXPLAIN {sql}");
            for r in query(&explain, &args).fetch_all(&self.pool).await.map_err(classify)? {
                let col = |c: &str| {
                    let text = r.try_get_unchecked::<Option<String>, _>(c).ok().flatten();
                    text.or_else(|| r.try_get_unchecked::<i64, _>(c).ok().map(|n| n.to_string())).unwrap_or_default()
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

    /// A duplicate key can still slip in between the lock and the insert
    /// when the session runs READ COMMITTED (no gap locks): the whole
    /// transaction is rolled back and run again, as deadlocks are.
    async fn insert_many(&self, st: &Statements, p: &TaskInsertManyParams<'_>) -> StoreResult<Vec<Created>> {
        let mut conflicts = 0;
        loop {
            match self.insert_many_once(st, p).await {
                Err(e) if e.kind() == StoreErrorKind::Conflict && conflicts < 3 => conflicts += 1,
                other => return other,
            }
        }
    }

    /// As on PostgreSQL: rows locked in id order (so two finishing batches
    /// cannot deadlock on each other), one statement per task, or one
    /// UPDATE joined with the per-task values when every task completed
    /// with one message; then one read of the final states, for lack of
    /// RETURNING. All in one transaction.
    async fn finish_many(&self, st: &Statements, outcomes: &[Outcome], now: Timestamp) -> StoreResult<Vec<Finished>> {
        let mut ordered: Vec<&Outcome> = outcomes.iter().collect();
        ordered.sort_by_key(|o| o.id());
        let ids: Vec<i64> = outcomes.iter().map(Outcome::id).collect();
        if let Some(join) = completed_join(st, &ordered, &now) {
            // One statement is atomic on its own: no BEGIN and COMMIT round
            // trips around it.
            let mut c = self.pool.acquire().await.map_err(classify)?;
            exec_on(&mut c, &join.sql, &join.args).await?;
            let states = Self::read_by_id(&mut c, "id, status, message", &st.tasks, &ids, rows::finished).await?;
            return Ok(in_outcome_order(outcomes, states));
        }
        let mut tx = self.pool.begin().await.map_err(classify)?;
        for o in ordered {
            let (s, args) = finish_stmt(st, o, &now);
            exec_on(&mut tx, &s.sql, &s.bind(&args)).await?;
        }
        let states = Self::read_by_id(&mut tx, "id, status, message", &st.tasks, &ids, rows::finished).await?;
        tx.commit().await.map_err(classify)?;
        Ok(in_outcome_order(outcomes, states))
    }

    /// No UPDATE … RETURNING: the update and the read share a transaction.
    async fn claim_id(&self, st: &Statements, args: &[(&str, Arg<'_>)]) -> StoreResult<Option<TaskRow>> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let claimed = exec_on(&mut tx, &st.claim_id.sql, &st.claim_id.bind(args)).await?.rows_affected() == 1;
        let row = if claimed {
            decode_all(&fetch_on(&mut tx, &st.get_task.sql, &st.get_task.bind(args)).await?, rows::task)?.into_iter().next()
        } else {
            None
        };
        tx.commit().await.map_err(classify)?;
        Ok(row)
    }

    /// No DELETE … RETURNING on MySQL: each batch locks and reads its ids,
    /// then deletes by id in the same transaction, so the ids returned are
    /// exactly the rows deleted.
    async fn delete_completed(&self, st: &Statements, before: Timestamp) -> StoreResult<Vec<i64>> {
        let pick = format!(
            "SELECT id FROM {} WHERE status = 30 AND finished_at < ? ORDER BY id LIMIT {DELETE_BATCH} FOR UPDATE",
            st.tasks
        );
        let mut all = Vec::new();
        loop {
            let mut tx = self.pool.begin().await.map_err(classify)?;
            let ids = decode_all(&fetch_on(&mut tx, &pick, &[Arg::time(&before)]).await?, rows::id)?;
            if !ids.is_empty() {
                let mut delete = SqlBuilder::new(st.d);
                delete.push("DELETE FROM ").push(&st.tasks).push(" WHERE ").ids("id", &ids);
                exec_on(&mut tx, &delete.sql, &delete.args).await?;
            }
            tx.commit().await.map_err(classify)?;
            let short = (ids.len() as i64) < DELETE_BATCH;
            all.extend(ids);
            if short {
                return Ok(all);
            }
        }
    }
}

/// MariaDB 10.5 and MySQL 5.7 lack SKIP LOCKED.
fn dialect(flavor: Flavor) -> Dialect {
    Dialect { skip_locked: if flavor.skip_locked() { " SKIP LOCKED" } else { "" }, ..Dialect::MYSQL }
}

/// Edge Claimed, step 1 of 3 (one transaction). No UPDATE …
/// RETURNING and no selecting from the updated table, so the
/// candidates are locked first. SKIP LOCKED lets concurrent
/// claimers pass each other's rows; MariaDB 10.5 lacks it and
/// waits instead (see `Flavor::skip_locked`). Walks the claim
/// index (status, priority_rank, id), from the claiming process's
/// cursor (priority_rank, id): spelled out rather than as a row
/// comparison `(priority_rank, id) > (?, ?)`, whose range access
/// not every MySQL/MariaDB optimizer plans. FORCE INDEX: the walk
/// must follow the index order and stop after LIMIT rows whatever
/// the optimizer's statistics say (with others it may read every
/// pending row and sort them: cost grows with the backlog).
fn claim_lock(st: &Statements) -> Stmt {
    let t = &st.tasks;
    st.d.stmt(&format!(
        "SELECT id FROM {t} FORCE INDEX ({t}_claim) WHERE status = 10 AND (priority_rank > :rank OR \
         (priority_rank = :rank AND id > :after)) AND (available_at IS NULL OR available_at <= :now) \
         ORDER BY priority_rank, id LIMIT :limit FOR UPDATE{}",
        st.d.skip_locked
    ))
}

/// Claim step 2: the locked ids, by primary key.
fn claim_update(st: &Statements, p: &TaskClaimParams, ids: &[i64]) -> SqlBuilder {
    let mut b = SqlBuilder::new(st.d);
    b.push("UPDATE ").push(&st.tasks).push(" SET status = 20, attempts = attempts + 1, started_at = ");
    b.bind(Arg::Time(Some(p.now))).push(", updated_at = ").bind(Arg::Time(Some(p.now)));
    b.push(", lease_owner = ").bind(Arg::Text(Some(p.owner.clone().into())));
    b.push(", lease_expires_at = ").bind(Arg::Time(Some(p.lease_expires_at)));
    b.push(", cancel_requested = 0 WHERE ").ids("id", ids);
    b
}

/// The common case of a finished batch, every task returned with one
/// message: one UPDATE joined with the per-task values. The assignments are
/// finish_completed's, in the same left-to-right order. None when the batch
/// is mixed.
fn completed_join(st: &Statements, ordered: &[&Outcome], now: &Timestamp) -> Option<SqlBuilder> {
    let mut message = None;
    let mut values = SqlBuilder::new(st.d);
    for (i, o) in ordered.iter().enumerate() {
        let Outcome::Completed { id, message: m, duration, peak_memory } = o else { return None };
        if message.is_some_and(|first| first != m) {
            return None;
        }
        message = Some(m);
        values.push(if i == 0 { "SELECT " } else { " UNION ALL SELECT " });
        values.bind(Arg::int(*id)).push(if i == 0 { " AS id, " } else { ", " });
        values.bind(Arg::Float(Some(*duration))).push(if i == 0 { " AS duration, " } else { ", " });
        values.bind(Arg::int(*peak_memory)).push(if i == 0 { " AS peak" } else { "" });
    }
    let mut b = SqlBuilder::new(st.d);
    b.push("UPDATE ").push(&st.tasks).push(" t JOIN (").push(&values.sql).push(") v ON t.id = v.id ");
    b.args = values.args;
    b.push("SET t.message = CASE WHEN t.status IN (15, 20) THEN ").bind(Arg::Text(Some(message?.clone().into())));
    b.push(
        " ELSE t.message END, t.progress = CASE WHEN t.status IN (15, 20, 30) THEN 100 ELSE t.progress END, \
            t.status = CASE WHEN t.status IN (15, 20) THEN 30 ELSE t.status END, t.finished_at = COALESCE(t.finished_at, ",
    );
    b.bind(Arg::time(now))
        .push(
            "), t.duration = v.duration, t.peak_memory = v.peak, t.lease_owner = NULL, \
            t.lease_expires_at = NULL, t.updated_at = ",
        )
        .bind(Arg::time(now));
    Some(b)
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
    let sql = "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND LOWER(TABLE_NAME) = LOWER(?)";
    let rows = fetch_on(c, sql, &[Arg::text(table)]).await?;
    decode_all(&rows, |r| Ok((r.req_text(0)?.to_ascii_lowercase(), r.req_text(1)?.to_ascii_lowercase())))
}

async fn indexes_of(c: &mut MySqlConnection, table: &str) -> StoreResult<Vec<String>> {
    let sql = "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS \
         WHERE TABLE_SCHEMA = DATABASE() AND LOWER(TABLE_NAME) = LOWER(?)";
    let rows = fetch_on(c, sql, &[Arg::text(table)]).await?;
    decode_all(&rows, |r| Ok(r.req_text(0)?.to_ascii_lowercase()))
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
    let sql = "SELECT COLLATION_NAME FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND LOWER(TABLE_NAME) = LOWER(?) AND LOWER(COLUMN_NAME) = LOWER(?)";
    for table in ["s_workers", "s_tasks"] {
        let full = format!("{prefix}{table}");
        let mut changes = Vec::new();
        for (_, col, def) in NAME_COLUMNS.iter().filter(|(t, _, _)| *t == table) {
            let rows = fetch_on(c, sql, &[Arg::text(&full), Arg::text(col)]).await?;
            let current = decode_all(&rows, |r| r.text(0))?.into_iter().flatten().next();
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
    for stmt in migration_statements(MIGRATION_TABLES, &st.prefix) {
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
            let unfilled = format!("SELECT 1 FROM {tasks} WHERE available_at IS NULL LIMIT 1");
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
        let mut tx = c.begin().await.map_err(classify)?;
        raw_on(&mut tx, convert_legacy_rows(tasks, ", UTC_TIMESTAMP(6)")).await?;
        tx.commit().await.map_err(classify)?;
    }

    let mut existing: Vec<(String, Vec<String>)> = Vec::new();
    for stmt in migration_statements(MIGRATION_INDEXES, &st.prefix) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::query::{Op, Query, Table, Value};

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
        let new = claim_lock(&Statements::new(dialect(Flavor::MariaDb { major: 10, minor: 11 }), "evo_"));
        assert!(new.sql.ends_with("FOR UPDATE SKIP LOCKED"), "{}", new.sql);
        let old = claim_lock(&Statements::new(dialect(Flavor::MariaDb { major: 10, minor: 5 }), "evo_"));
        assert!(old.sql.ends_with("FOR UPDATE"), "{}", old.sql);
        assert!(old.sql.contains("FROM evo_s_tasks "));
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
        let mut b = SqlBuilder::new(Dialect::MYSQL);
        b.push("SELECT * FROM t").where_clause(&q).order_limit(&q, "id ASC");
        assert_eq!(b.sql, "SELECT * FROM t WHERE created_at >= ? AND status IN (?, ?) AND finished_at IS NULL AND LOWER(created_at) LIKE LOWER(?) ORDER BY id ASC LIMIT ?");
        let when = time::from_db("2025-01-02 03:04:05.000006");
        assert_eq!(b.args, vec![Arg::Time(when), Arg::int(10), Arg::int(20), Arg::text("2025-%"), Arg::int(3)]);
    }

    #[test]
    fn a_limited_update_goes_through_a_derived_table() {
        let q = Query::new(Table::Tasks).where_eq("status", Value::Int(40)).unwrap().limit(2).unwrap();
        let now = time::from_db("2025-01-01 00:00:00").unwrap();
        let mut b = SqlBuilder::new(Dialect::MYSQL);
        b.update("evo_s_tasks", &q, &[("status", Value::Int(10))], now);
        assert_eq!(
            b.sql,
            "UPDATE evo_s_tasks SET status = ?, available_at = CASE WHEN start_at > ? THEN start_at ELSE ? END, \
             cancel_requested = false, updated_at = ? WHERE id IN (SELECT id FROM (SELECT id FROM evo_s_tasks WHERE status = ? \
             ORDER BY id ASC LIMIT ?) AS picked)"
        );
        assert_eq!(b.args[1], Arg::time(&now));
        assert_eq!(b.args[4], Arg::int(40));
    }

    #[test]
    fn migration_files_split_into_named_indexes() {
        let stmts = migration_statements(MIGRATION_INDEXES, "evo_");
        assert_eq!(stmts.len(), 8);
        for s in &stmts {
            let (index, table) = index_target(s).unwrap();
            assert!(index.starts_with("evo_s_") && table.starts_with("evo_s_"), "{s}");
        }
        assert_eq!(index_target(&stmts[0]), Some(("evo_s_tasks_claim".into(), "evo_s_tasks".into())));
        assert_eq!(migration_statements(MIGRATION_TABLES, "evo_").len(), 6);
    }
}
