//! The PostgreSQL dialect (10+), on sqlx's `postgres` driver.
//!
//! Where it parts from SQLite (`sqlite.rs`, the reference behaviour):
//! - Many writers: the claim locks its candidates with `FOR UPDATE SKIP
//!   LOCKED` inside one `UPDATE … RETURNING`, so concurrent claimers take
//!   disjoint rows without waiting on each other.
//! - Strict types: a text parameter is not compared with an integer column,
//!   nor a timestamp with text, as SQLite does by affinity. Values of a
//!   `Query` are therefore bound by the type of the column they meet
//!   (`Kind`), and timestamps are native `timestamp(6)` holding UTC.
//! - LISTEN/NOTIFY: inserting a task (or retrying one by hand) notifies a
//!   channel named after the table prefix, so idle workers wake at once
//!   instead of at their next poll.
//!
//! Every statement lists its columns instead of `*`: a prepared `SELECT *`
//! that outlives an `ALTER TABLE … ADD COLUMN` fails with "cached plan must
//! not change result type", and sqlx keeps statements prepared per
//! connection.

use super::dialect::{Arg, Dialect, Stmt};
use super::generic::{finish_stmt, in_outcome_order, Backend, Done, SqlStore};
use super::rows::{self, Decode, RowRead};
use super::sql::SqlBuilder;
use super::statements::Statements;
use super::*;
use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::postgres::{PgArguments, PgConnectOptions, PgListener, PgPool, PgPoolOptions, PgRow, Postgres};
use sqlx::{AssertSqlSafe, Column, Row, TypeInfo};
use std::time::Duration;

const MIGRATION_TABLES: &str = include_str!("../../../migrations/postgres/0001_tables.sql");
const MIGRATION_INDEXES: &str = include_str!("../../../migrations/postgres/0002_indexes.sql");

/// Rows per statement of `task_insert_many`: the arrays have no parameter
/// ceiling, so this only bounds what one round trip holds in memory.
const PG_INSERT_ROWS: usize = 5000;

/// Connections per process: one PHP request or worker loop rarely runs more
/// than a few queries at once, and many processes share the server.
const MAX_CONNECTIONS: u32 = 8;

/// Session settings of the claim connection (other queries keep the
/// server's defaults).
///
/// Planner: the claim must walk the claim index in order and stop after
/// `LIMIT` rows; the alternative the planner picks when its statistics say
/// the table is small (a bitmap scan of every pending row, then a sort)
/// costs time in proportion to the backlog: 93 ms instead of 5 per claim
/// with 240k pending. The statistics are whatever the last ANALYZE left
/// (these servers run without autovacuum), so the choice is taken away from
/// them: with these off the ordered index scan is the only plan left.
///
/// `synchronous_commit = off`: a claim does not wait for its WAL flush (a
/// millisecond of every pickup on this disk). Should the server crash
/// before the flush, the claim is undone and the task is pending again, to
/// run again: what a worker that dies mid-task already means (at least
/// once). A task is never lost; a create or a finish still waits.
///
/// `jit = off` (11+; 10 has no JIT): should a claim ever fall back to a
/// plan node switched off above, its cost estimate (10^10) passes the JIT
/// threshold, and compiling the plan took 95 ms per claim.
fn claim_session(version: i32) -> Vec<(&'static str, &'static str)> {
    let mut s =
        vec![("enable_sort", "off"), ("enable_bitmapscan", "off"), ("enable_seqscan", "off"), ("synchronous_commit", "off")];
    if version >= 110000 {
        s.push(("jit", "off"));
    }
    s
}

/// Columns derived from `status`, so that no index holds `status` itself
/// (0002_indexes.sql says why): the priority rank while the task is
/// pending, and the unique key while it is active. Generated columns on
/// 12+; on 10 and 11, plain columns that a trigger keeps (`derive_columns`;
/// `{row}` is where the trigger says `NEW.`).
const DERIVED_COLUMNS: [(&str, &str, &str); 2] = [
    ("claim_rank", "INTEGER", "CASE WHEN {row}status = 10 THEN {row}priority_rank END"),
    ("unique_active", "VARCHAR(255)", "CASE WHEN {row}status IN (10, 15, 20) THEN {row}unique_key END"),
];

/// Room left on each page of the task table for the new versions of a row
/// (a finish is a HOT update only when it fits on the row's own page; the
/// claim's version goes there too when it can). Two workers on 20k no-op
/// tasks: fillfactor 100 36.8k tasks/s, 70 42.6k, 50 49.6k (medians of 4).
/// The price: finished rows take up to twice the pages, which the rescue
/// pass reads (docs/production.md, section 9).
const TASKS_FILLFACTOR: u32 = 50;

/// A pool of up to `max` connections with the store's timeouts.
fn pool_options(max: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        // Idle workers give their connections back to the server.
        .idle_timeout(std::time::Duration::from_secs(60))
        // Pinged only after an idle spell (`PING_IF_IDLE_FOR` says why).
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_IF_IDLE_FOR {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}
/// How long a query waits for a free connection (or a reconnect) before it
/// fails as unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Columns the engine adds to tables created by the PHP package, with the
/// definition `ALTER TABLE … ADD COLUMN` needs (the same as 0001).
const ENGINE_TASK_COLUMNS: &[(&str, &str)] = &[
    ("priority_rank", "INTEGER NOT NULL DEFAULT 5"),
    ("available_at", "TIMESTAMP(6) WITHOUT TIME ZONE NULL"),
    ("started_at", "TIMESTAMP(6) WITHOUT TIME ZONE NULL"),
    ("duration", "DOUBLE PRECISION NULL"),
    ("peak_memory", "BIGINT NULL"),
    ("last_error", "TEXT NULL"),
    ("cancel_requested", "BOOLEAN NOT NULL DEFAULT false"),
    ("lease_owner", "VARCHAR(255) NULL"),
    ("lease_expires_at", "TIMESTAMP(6) WITHOUT TIME ZONE NULL"),
    ("snapshot", "TEXT NULL"),
    ("unique_key", "VARCHAR(255) NULL"),
    ("schedule_slot", "VARCHAR(32) NULL"),
];

// ---- errors ------------------------------------------------------------------

/// The meaning of a SQLSTATE.
/// <https://www.postgresql.org/docs/current/errcodes-appendix.html>
fn kind_of_sqlstate(code: &str) -> StoreErrorKind {
    match code {
        // serialization_failure, deadlock_detected, lock_not_available:
        // the transaction lost a race and may simply run again.
        "40001" | "40P01" | "55P03" => StoreErrorKind::Busy,
        "23505" => StoreErrorKind::Conflict,
        // undefined_table: the migrations never ran (or another prefix).
        "42P01" => StoreErrorKind::SchemaMissing,
        // Class 08 (connection exception); admin, crash or cannot-connect-now
        // shutdowns; too many connections; the login refused (bad password,
        // no such role, no such database): the server cannot be used now.
        c if c.starts_with("08") => StoreErrorKind::Unavailable,
        "57P01" | "57P02" | "57P03" | "53300" | "28000" | "28P01" | "3D000" => StoreErrorKind::Unavailable,
        _ => StoreErrorKind::Other,
    }
}

/// The one place a sqlx error gets its kind. sqlx's messages carry no URL
/// or password, so the error is kept as it is, with its source.
fn classify(e: sqlx::Error) -> StoreError {
    let kind = match &e {
        sqlx::Error::Database(db) => db.code().map(|c| kind_of_sqlstate(&c)).unwrap_or(StoreErrorKind::Other),
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
            StoreErrorKind::Unavailable
        }
        _ => StoreErrorKind::Other,
    };
    StoreError::new(kind, e)
}

// ---- binding and decoding ----------------------------------------------------

type PgQuery<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

fn query<'q>(sql: &'q str, args: &'q [Arg<'q>]) -> PgQuery<'q> {
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for a in args {
        q = match a {
            Arg::Int(v) => q.bind(*v),
            Arg::Float(v) => q.bind(*v),
            Arg::Bool(v) => q.bind(*v),
            Arg::Text(v) => q.bind(v.as_deref()),
            Arg::Time(v) => q.bind(v.map(|t| t.naive_utc())),
        };
    }
    q
}

fn ts(t: &Timestamp) -> NaiveDateTime {
    t.naive_utc()
}

// Integer and timestamp columns are read by their actual type: a table made
// by the PHP package has `smallint`/`integer` where the engine's own has
// `bigint`, and sqlx refuses to decode an int2 as an i64.
struct Pg<'a>(&'a PgRow);

impl Pg<'_> {
    fn type_of(&self, i: usize) -> StoreResult<&str> {
        Ok(self.0.try_column(i).map_err(classify)?.type_info().name())
    }

    fn get<T>(&self, i: usize) -> StoreResult<T>
    where
        T: for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
    {
        self.0.try_get::<T, _>(i).map_err(classify)
    }
}

impl RowRead for Pg<'_> {
    fn int(&self, i: usize) -> StoreResult<Option<i64>> {
        Ok(match self.type_of(i)? {
            "INT2" => self.get::<Option<i16>>(i)?.map(i64::from),
            "INT4" => self.get::<Option<i32>>(i)?.map(i64::from),
            "BOOL" => self.get::<Option<bool>>(i)?.map(i64::from),
            "FLOAT4" => self.get::<Option<f32>>(i)?.map(|f| f as i64),
            "FLOAT8" => self.get::<Option<f64>>(i)?.map(|f| f as i64),
            _ => self.get::<Option<i64>>(i)?,
        })
    }

    fn float(&self, i: usize) -> StoreResult<Option<f64>> {
        Ok(match self.type_of(i)? {
            "FLOAT4" => self.get::<Option<f32>>(i)?.map(f64::from),
            "INT2" | "INT4" | "INT8" => self.int(i)?.map(|n| n as f64),
            _ => self.get::<Option<f64>>(i)?,
        })
    }

    fn text(&self, i: usize) -> StoreResult<Option<String>> {
        self.get(i)
    }

    fn time(&self, i: usize) -> StoreResult<Option<Timestamp>> {
        Ok(match self.type_of(i)? {
            "TIMESTAMPTZ" => self.get::<Option<DateTime<Utc>>>(i)?,
            "TEXT" | "VARCHAR" | "BPCHAR" => self.text(i)?.as_deref().and_then(crate::engine::time::from_db),
            _ => self.get::<Option<NaiveDateTime>>(i)?.map(|n| n.and_utc()),
        })
    }
}

fn decode_all<T>(rows: &[PgRow], f: Decode<T>) -> StoreResult<Vec<T>> {
    rows.iter().map(|r| f(&Pg(r))).collect()
}

// ---- the backend -------------------------------------------------------------

pub struct Postgres_ {
    pool: PgPool,
    /// One connection for claims only, whose planner may not sort or use a
    /// bitmap or sequential scan, and commits without waiting for the WAL
    /// flush (`CLAIM_SESSION`).
    claim_pool: PgPool,
    /// Kept to open the listener's own connection; never printed.
    options: PgConnectOptions,
    /// Created on the first `task_wait`, dropped when it breaks and built
    /// again on the next wait.
    listener: tokio::sync::Mutex<Option<PgListener>>,
    /// `server_version_num`: 12+ has generated columns (`DERIVED_COLUMNS`).
    version: i32,
    claim: Stmt,
    insert_many: Stmt,
    unique_holders: Stmt,
    notify: Stmt,
    finish_completed_many: Stmt,
}

pub type PostgresStore = SqlStore<Postgres_>;

impl SqlStore<Postgres_> {
    /// Connects (one direct connection is opened at once, so a wrong address
    /// or password fails here with its own reason: the pool would retry a
    /// refused connection until its acquire timeout and then only say it
    /// timed out). Server databases are migrated explicitly.
    pub async fn connect(url: &str, prefix: &str) -> StoreResult<PostgresStore> {
        let options: PgConnectOptions = url.parse().map_err(classify)?;
        let mut first = sqlx::ConnectOptions::connect(&options).await.map_err(classify)?;
        let version: String = sqlx::query_scalar("SHOW server_version_num").fetch_one(&mut first).await.map_err(classify)?;
        let _ = sqlx::Connection::close(first).await;
        let version = version.trim().parse().unwrap_or(0);
        let pool = pool_options(MAX_CONNECTIONS).connect_lazy_with(options.clone());
        let claim_pool = pool_options(1).connect_lazy_with(options.clone().options(claim_session(version)));
        let st = Statements::new(Dialect::POSTGRES, prefix);
        let (t, tc, d) = (&st.tasks, &st.task_columns, st.d);
        let b = Postgres_ {
            pool,
            claim_pool,
            options,
            listener: tokio::sync::Mutex::new(None),
            version,
            // Edge Claimed. SKIP LOCKED: candidates another claimer holds are
            // passed over instead of waited for, so no row is claimed twice
            // and claimers do not queue behind each other. A row that changed
            // since the subquery's snapshot is re-checked when it is locked;
            // the locked rows stay ours until commit, so the outer UPDATE
            // finds them by primary key alone (a `status = 10` there made the
            // planner scan every pending and dead index entry per claim).
            // `claim_rank` is the priority rank of a pending task (NULL
            // otherwise), so the claim index needs no `status`.
            // The cursor `(claim_rank, id) > (:rank, :after)` starts the
            // index scan after what this process already took (the rank is
            // bound as the column's int4). `= ANY(ARRAY(…))`, not `IN (…)`:
            // the planner may run an IN subquery as the inner side of a
            // semi-join, once per outer row, and each run skips the rows this
            // very statement has already updated, so LIMIT 2 claimed every
            // pending row (seen on 15). An ARRAY() subquery is an InitPlan,
            // run exactly once.
            claim: d.stmt(&format!(
                "UPDATE {t} SET status = 20, attempts = attempts + 1, started_at = :now, updated_at = :now, \
                 lease_owner = :owner, lease_expires_at = :lease, cancel_requested = false \
                 WHERE id = ANY(ARRAY(SELECT id FROM {t} WHERE claim_rank IS NOT NULL AND (claim_rank, id) > (:rank::int4, :after) \
                 AND (available_at IS NULL OR available_at <= :now) ORDER BY claim_rank, id LIMIT :limit \
                 FOR UPDATE{})) RETURNING {tc}",
                d.skip_locked
            )),
            // Many tasks in one statement: each column travels as one array
            // and `unnest` turns them back into rows, so the statement has
            // 15 parameters whatever the number of rows (no 65535-parameter
            // ceiling, and one prepared plan for every batch size), where a
            // VALUES list would need new SQL text per size. WITH ORDINALITY
            // + ORDER BY feeds the rows in input order, so the sequence
            // hands out ids in that order (`match_returned` relies on it).
            // A key held by an active task is skipped, not an error (the
            // arbiter is the unique index of unique_active, the key while
            // the task is active, named by its predicate).
            // No NOTIFY here: one per call (`notify`), not one per row.
            insert_many: d.stmt(&format!(
                "INSERT INTO {t} ({TASK_INSERT_COLUMNS}) \
                 SELECT identifier, action, status, message, started_by, meta, result, start_at, 0, max_attempts, \
                 priority, priority_rank, progress, :now, :now, available_at, unique_key \
                 FROM unnest(:a1::text[], :a2::text[], :a3::int8[], :a4::text[], :a5::int8[], :a6::text[], :a7::text[], \
                 :a8::timestamp[], :a9::int8[], :a10::text[], :a11::int8[], :a12::int8[], :a13::timestamp[], :a14::text[]) \
                 WITH ORDINALITY AS u(identifier, action, status, message, started_by, meta, result, start_at, \
                 max_attempts, priority, priority_rank, progress, available_at, unique_key, ord) \
                 ORDER BY ord \
                 ON CONFLICT (unique_active) WHERE unique_active IS NOT NULL DO NOTHING \
                 RETURNING id, unique_key"
            )),
            // The active tasks holding the keys a batch insert skipped.
            unique_holders: d
                .stmt(&format!("SELECT id, unique_active FROM {t} WHERE unique_active = ANY(:keys)")),
            // Once per batch, inside its transaction: delivered on commit.
            notify: d.stmt("SELECT pg_notify(:channel, '')"),
            // Edge Finished for a whole batch in one round trip: the same
            // assignments as finish_completed, the per-task values arriving
            // as parallel arrays. It has no status guard (the CASEs are the
            // guard), so RETURNING reports every row: the batch's final
            // states without another query.
            finish_completed_many: d.stmt(&format!(
                "UPDATE {t} AS t SET status = CASE WHEN t.status IN (15, 20) THEN 30 ELSE t.status END, \
                 progress = CASE WHEN t.status IN (15, 20, 30) THEN 100 ELSE t.progress END, \
                 message = CASE WHEN t.status IN (15, 20) THEN v.message ELSE t.message END, \
                 finished_at = COALESCE(t.finished_at, :now), duration = v.duration, peak_memory = v.peak, \
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = :now \
                 FROM unnest(:ids::bigint[], :messages::text[], :durations::float8[], :peaks::bigint[]) \
                 AS v(id, message, duration, peak) WHERE t.id = v.id RETURNING t.id, t.status, t.message"
            )),
        };
        Ok(SqlStore::new(b, st))
    }
}

impl Postgres_ {
    /// A listener subscribed to this prefix's channel, on a connection of
    /// its own so that it never takes a slot of the query pool.
    async fn listen(&self, channel: &str) -> Result<PgListener, sqlx::Error> {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_lazy_with(self.options.clone());
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(channel).await?;
        Ok(listener)
    }

    /// `task_insert_many` in one transaction: the chunks, then the holders
    /// of skipped keys; a key whose holder finished meanwhile (READ
    /// COMMITTED: each statement sees what committed before it) is
    /// inserted again, up to three rounds.
    async fn insert_many_once(&self, st: &Statements, p: &TaskInsertManyParams<'_>) -> StoreResult<Vec<Created>> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let mut out: Vec<Option<Created>> = vec![None; p.tasks.len()];
        // None: every task (the first round, which borrows them); then the
        // few whose key's holder finished before it could be read.
        let mut todo: Option<Vec<usize>> = None;
        let mut inserted = 0usize;
        for _round in 0..3 {
            let owned: Vec<NewTask>;
            let batch: &[NewTask] = match &todo {
                None => p.tasks,
                Some(ix) => {
                    owned = ix.iter().map(|&i| p.tasks[i].clone()).collect();
                    &owned
                }
            };
            let index = |k: usize| todo.as_ref().map_or(k, |ix| ix[k]);
            let mut skipped = Vec::new();
            for chunk in insert_chunks(batch, PG_INSERT_ROWS, INSERT_CHUNK_BYTES) {
                let tasks = &batch[chunk.clone()];
                let col = |f: &dyn Fn(&NewTask) -> Option<&str>| tasks.iter().map(f).collect::<Vec<Option<&str>>>();
                let int = |f: &dyn Fn(&NewTask) -> Option<i64>| tasks.iter().map(f).collect::<Vec<Option<i64>>>();
                let q = sqlx::query(AssertSqlSafe(&*self.insert_many.sql))
                    .bind(ts(&p.now))
                    .bind(col(&|t| Some(t.identifier.as_str())))
                    .bind(col(&|t| Some(t.action.as_str())))
                    .bind(int(&|t| Some(t.status.code())))
                    .bind(col(&|t| t.message.as_deref()))
                    .bind(int(&|t| t.started_by))
                    .bind(col(&|t| t.meta.as_deref()))
                    .bind(col(&|t| t.result.as_deref()))
                    .bind(tasks.iter().map(|t| t.start_at.as_ref().map(ts)).collect::<Vec<_>>())
                    .bind(int(&|t| Some(t.max_attempts)))
                    .bind(col(&|t| Some(t.priority.name())))
                    .bind(int(&|t| Some(t.priority.rank())))
                    .bind(int(&|t| Some(t.progress)))
                    .bind(tasks.iter().map(|t| ts(&available_at(t, p.now))).collect::<Vec<_>>())
                    .bind(col(&|t| t.unique_key.as_deref()));
                let returned = decode_all(&q.fetch_all(&mut *tx).await.map_err(classify)?, rows::id_key)?;
                for (k, id) in match_returned(tasks, returned)?.into_iter().enumerate() {
                    let i = index(chunk.start + k);
                    match id {
                        Some(id) => {
                            out[i] = Some(Created { id, existing: false });
                            inserted += 1;
                        }
                        None => skipped.push(i),
                    }
                }
            }
            if skipped.is_empty() {
                todo = Some(Vec::new());
                break;
            }
            let keys: Vec<String> = skipped.iter().filter_map(|&i| p.tasks[i].unique_key.clone()).collect();
            let rows =
                sqlx::query(AssertSqlSafe(&*self.unique_holders.sql)).bind(keys).fetch_all(&mut *tx).await.map_err(classify)?;
            let mut holders = std::collections::HashMap::new();
            for (id, key) in decode_all(&rows, rows::id_key)? {
                holders.insert(key.unwrap_or_default(), id);
            }
            let mut again = Vec::new();
            for i in skipped {
                match p.tasks[i].unique_key.as_ref().and_then(|k| holders.get(k)) {
                    Some(&id) => out[i] = Some(Created { id, existing: true }),
                    None => again.push(i),
                }
            }
            let done = again.is_empty();
            todo = Some(again);
            if done {
                break;
            }
        }
        if todo.as_ref().is_none_or(|t| !t.is_empty()) {
            return Err(StoreError::new(StoreErrorKind::Busy, "unique keys kept changing hands during a batch insert"));
        }
        if inserted > 0 {
            sqlx::query(AssertSqlSafe(&*self.notify.sql)).bind(st.channel.as_str()).execute(&mut *tx).await.map_err(classify)?;
        }
        tx.commit().await.map_err(classify)?;
        Ok(out.into_iter().map(|c| c.expect("every task was inserted or matched")).collect())
    }

    async fn migrate_once(&self, st: &Statements) -> StoreResult<()> {
        let p = &st.prefix;
        let mut tx = self.pool.begin().await.map_err(classify)?;
        // Two processes migrating at once queue here; the lock is released
        // with the transaction. DDL is transactional in PostgreSQL, so a
        // failure leaves the tables as they were.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(format!("stask migrate {p}"))
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        let before = table_columns(&mut tx, &st.tasks).await?;
        let converting = !before.is_empty() && !before.iter().any(|(c, _)| c == "available_at");
        run_script(&mut tx, MIGRATION_TABLES, p).await?;

        // A table created by the PHP package lacks the engine's columns.
        // Only what is missing is altered: even a no-op ALTER TABLE takes
        // an exclusive lock, and migrate() may run on a busy database.
        for (table, wanted) in [(&st.tasks, ENGINE_TASK_COLUMNS), (&st.workers, ENGINE_WORKER_COLUMNS)] {
            let have = table_columns(&mut tx, table).await?;
            for (col, def) in wanted {
                if !have.iter().any(|(c, _)| c == col) {
                    ddl(&mut tx, format!("ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {col} {def}")).await?;
                }
            }
            for change in type_changes(table, &have) {
                ddl(&mut tx, change).await?;
            }
        }

        if converting {
            ddl(&mut tx, convert_legacy_rows(&st.tasks, "")).await?;
        }
        let have = table_columns(&mut tx, &st.tasks).await?;
        if DERIVED_COLUMNS.iter().any(|(c, ..)| !have.iter().any(|(h, _)| h == c)) {
            derive_columns(&mut tx, &st.tasks, self.generated_columns(p)).await?;
        }
        // The claim and unique indexes of earlier versions held `status`;
        // their successors have the same names and are built below.
        let old: Vec<String> =
            sqlx::query_scalar("SELECT n FROM unnest($1::text[]) AS n WHERE pg_get_indexdef(to_regclass(n)) LIKE '%status%'")
                .bind([format!("{p}s_tasks_claim"), format!("{p}s_tasks_unique_active")].as_slice())
                .persistent(false)
                .fetch_all(&mut *tx)
                .await
                .map_err(classify)?;
        for index in old {
            ddl(&mut tx, format!("DROP INDEX {index}")).await?;
        }
        // CREATE INDEX IF NOT EXISTS locks the table against writes before
        // it finds the index there, until this transaction ends: on a
        // migrated database it is skipped, so a deploy's migrate() does not
        // stall running workers.
        let indexes = index_names(MIGRATION_INDEXES, p);
        let missing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM unnest($1::text[]) AS n WHERE to_regclass(n) IS NULL")
            .bind(indexes.as_slice())
            .persistent(false)
            .fetch_one(&mut *tx)
            .await
            .map_err(classify)?;
        if missing > 0 {
            run_script(&mut tx, MIGRATION_INDEXES, p).await?;
        }
        tx.commit().await.map_err(classify)
    }

    /// Generated columns need 12+. Debug builds can be told to use the
    /// trigger of 10 and 11 instead for the tables under a prefix that
    /// starts with `STASK_TEST_PG_TRIGGER_PREFIX` (the `postgres_trigger`
    /// module of tests/store.rs).
    fn generated_columns(&self, prefix: &str) -> bool {
        let forced = cfg!(debug_assertions)
            && std::env::var("STASK_TEST_PG_TRIGGER_PREFIX").is_ok_and(|p| !p.is_empty() && prefix.starts_with(&p));
        self.version >= 120000 && !forced
    }

    /// The claim, with the cursor's rank as the int4 its column is.
    fn claim_query<'q>(&self, sql: &'q str, p: &'q TaskClaimParams) -> PgQuery<'q> {
        sqlx::query(AssertSqlSafe(sql))
            .bind(ts(&p.now))
            .bind(p.owner.as_str())
            .bind(ts(&p.lease_expires_at))
            .bind(p.after.0 as i32)
            .bind(p.after.1)
            .bind(p.limit)
    }
}

impl Drop for Postgres_ {
    fn drop(&mut self) {
        // PgListener's Drop spawns its UNLISTEN on the current runtime and
        // panics outside one (a PHP shutdown may drop the engine there):
        // the server ends the subscription with the connection anyway.
        if tokio::runtime::Handle::try_current().is_err() {
            if let Some(l) = self.listener.get_mut().take() {
                std::mem::forget(l);
            }
        }
    }
}

type Tx = sqlx::Transaction<'static, Postgres>;

/// A migration file, `{prefix}` applied, sent as one simple-protocol
/// script (comments and all), so nothing of it stays prepared.
async fn run_script(tx: &mut Tx, file: &str, prefix: &str) -> StoreResult<()> {
    sqlx::raw_sql(AssertSqlSafe(file.replace("{prefix}", prefix))).execute(&mut **tx).await.map_err(classify)?;
    Ok(())
}

async fn ddl(tx: &mut Tx, sql: String) -> StoreResult<()> {
    sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut **tx).await.map_err(classify)?;
    Ok(())
}

/// Adds `DERIVED_COLUMNS` to the task table (a table created by an earlier
/// version or by the PHP package is rewritten once, under its lock) and
/// leaves room on its pages for HOT updates.
async fn derive_columns(tx: &mut Tx, table: &str, generated: bool) -> StoreResult<()> {
    let fill = format!("SET (fillfactor = {TASKS_FILLFACTOR})");
    if generated {
        let adds: Vec<String> = DERIVED_COLUMNS
            .iter()
            .map(|(c, ty, expr)| {
                format!("ADD COLUMN IF NOT EXISTS {c} {ty} GENERATED ALWAYS AS ({}) STORED", expr.replace("{row}", ""))
            })
            .collect();
        return ddl(tx, format!("ALTER TABLE {table} {}, {fill}", adds.join(", "))).await;
    }
    let adds: Vec<String> = DERIVED_COLUMNS.iter().map(|(c, ty, _)| format!("ADD COLUMN IF NOT EXISTS {c} {ty}")).collect();
    ddl(tx, format!("ALTER TABLE {table} {}, {fill}", adds.join(", "))).await?;
    let sets: Vec<String> =
        DERIVED_COLUMNS.iter().map(|(c, _, expr)| format!("NEW.{c} := {};", expr.replace("{row}", "NEW."))).collect();
    ddl(
        tx,
        format!(
            "CREATE OR REPLACE FUNCTION {table}_derive() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {} RETURN NEW; END $$",
            sets.join(" ")
        ),
    )
    .await?;
    ddl(tx, format!("DROP TRIGGER IF EXISTS {table}_derive ON {table}")).await?;
    // EXECUTE PROCEDURE: 10 does not know EXECUTE FUNCTION.
    ddl(
        tx,
        format!(
            "CREATE TRIGGER {table}_derive BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW EXECUTE PROCEDURE {table}_derive()"
        ),
    )
    .await?;
    ddl(tx, format!("UPDATE {table} SET status = status")).await
}

/// Name and type (`format_type`) of each column of `table`; empty when the
/// table does not exist.
async fn table_columns(tx: &mut Tx, table: &str) -> StoreResult<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a \
         WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
    )
    .bind(table)
    .persistent(false)
    .fetch_all(&mut **tx)
    .await
    .map_err(classify)?;
    decode_all(&rows, |r| Ok((r.req_text(0)?, r.req_text(1)?)))
}

/// The column types of a PHP package table that the engine cannot use as
/// they are, each with the ALTER that fixes it. Everything else is kept.
fn type_changes(table: &str, columns: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (col, ty) in columns {
        match (col.as_str(), ty.as_str()) {
            // Laravel's uuid() is a native uuid; the engine binds text.
            ("uuid", "uuid") => out.push(format!("ALTER TABLE {table} ALTER COLUMN uuid TYPE VARCHAR(36) USING uuid::text")),
            // JSON stays text so that it round-trips byte for byte and a
            // text parameter can be written to it. The default is a json
            // literal, so it is replaced around the change.
            ("settings", "json" | "jsonb") => out.push(format!(
                "ALTER TABLE {table} ALTER COLUMN settings DROP DEFAULT, \
                 ALTER COLUMN settings TYPE TEXT USING settings::text, ALTER COLUMN settings SET DEFAULT '{{}}'"
            )),
            // `string('message', 255)`: the engine writes error messages
            // longer than that. varchar to text rewrites nothing.
            ("message", t) if t.starts_with("character varying") => {
                out.push(format!("ALTER TABLE {table} ALTER COLUMN message TYPE TEXT"))
            }
            // Laravel's timestamp() is timestamp(0): microseconds would be
            // rounded away (leases, ordering by time). Raising the precision
            // rewrites nothing.
            (c, t) if timestamp_precision(t).is_some_and(|p| p < 6) => {
                out.push(format!("ALTER TABLE {table} ALTER COLUMN {c} TYPE TIMESTAMP(6) WITHOUT TIME ZONE"))
            }
            _ => {}
        }
    }
    out
}

/// The indexes a migration file creates (`… INDEX IF NOT EXISTS name ON`),
/// prefix applied.
fn index_names(file: &str, prefix: &str) -> Vec<String> {
    file.lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .filter_map(|l| l.split("INDEX IF NOT EXISTS ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(|name| name.replace("{prefix}", prefix))
        .collect()
}

/// `timestamp(0) without time zone` → Some(0); a plain `timestamp without
/// time zone` has the full 6 digits; None for any other type.
fn timestamp_precision(ty: &str) -> Option<u32> {
    if ty == "timestamp without time zone" {
        return Some(6);
    }
    let rest = ty.strip_prefix("timestamp(")?.strip_suffix(") without time zone")?;
    rest.parse().ok()
}

#[async_trait]
impl Backend for Postgres_ {
    async fn query<T: Send + 'static>(&self, sql: &str, args: &[Arg<'_>], f: Decode<T>) -> StoreResult<Vec<T>> {
        decode_all(&query(sql, args).fetch_all(&self.pool).await.map_err(classify)?, f)
    }

    async fn execute(&self, sql: &str, args: &[Arg<'_>]) -> StoreResult<Done> {
        let done = query(sql, args).execute(&self.pool).await.map_err(classify)?;
        Ok(Done { rows: done.rows_affected(), last_id: 0 })
    }

    async fn migrate(&self, st: &Statements) -> StoreResult<()> {
        self.migrate_once(st).await
    }

    async fn claim(&self, _st: &Statements, p: &TaskClaimParams) -> StoreResult<Vec<TaskRow>> {
        let rows = self.claim_query(&self.claim.sql, p).fetch_all(&self.claim_pool).await.map_err(classify)?;
        decode_all(&rows, rows::task)
    }

    /// On the claim connection, so the plan is the one claims get.
    async fn explain_claim(&self, _st: &Statements) -> StoreResult<String> {
        let p = TaskClaimParams::explain();
        let sql = format!("EXPLAIN {}", self.claim.sql);
        let rows = self.claim_query(&sql, &p).fetch_all(&self.claim_pool).await.map_err(classify)?;
        Ok(decode_all(&rows, |r| r.req_text(0))?.join("\n"))
    }

    async fn insert_many(&self, st: &Statements, p: &TaskInsertManyParams<'_>) -> StoreResult<Vec<Created>> {
        self.insert_many_once(st, p).await
    }

    /// A batch where every task returned: one statement over arrays. A
    /// mixed one: one statement per task in a transaction, rows locked in
    /// id order (the order every batch here uses, so two finishing batches
    /// cannot deadlock on each other), then one read of the final states.
    async fn finish_many(&self, st: &Statements, outcomes: &[Outcome], now: Timestamp) -> StoreResult<Vec<Finished>> {
        if outcomes.iter().all(|o| matches!(o, Outcome::Completed { .. })) {
            let (mut ids, mut messages, mut durations, mut peaks) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for o in outcomes {
                if let Outcome::Completed { id, message, duration, peak_memory } = o {
                    ids.push(*id);
                    messages.push(message.as_str());
                    durations.push(*duration);
                    peaks.push(*peak_memory);
                }
            }
            let q = sqlx::query(AssertSqlSafe(&*self.finish_completed_many.sql))
                .bind(ts(&now))
                .bind(ids)
                .bind(messages)
                .bind(durations)
                .bind(peaks);
            let states = decode_all(&q.fetch_all(&self.pool).await.map_err(classify)?, rows::finished)?;
            return Ok(in_outcome_order(outcomes, states));
        }
        let mut ordered: Vec<&Outcome> = outcomes.iter().collect();
        ordered.sort_by_key(|o| o.id());
        let mut tx = self.pool.begin().await.map_err(classify)?;
        for o in ordered {
            let (s, args) = finish_stmt(st, o, &now);
            query(&s.sql, &s.bind(&args)).execute(&mut *tx).await.map_err(classify)?;
        }
        let ids: Vec<i64> = outcomes.iter().map(Outcome::id).collect();
        let mut read = SqlBuilder::new(st.d);
        read.push("SELECT id, status, message FROM ").push(&st.tasks).push(" WHERE ").ids("id", &ids);
        let rows = query(&read.sql, &read.args).fetch_all(&mut *tx).await.map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(in_outcome_order(outcomes, decode_all(&rows, rows::finished)?))
    }

    fn supports_listen(&self) -> bool {
        true
    }

    /// Waits on LISTEN; notifications that piled up meanwhile are taken
    /// together, so a burst of inserts wakes the loop once. A broken or
    /// refused listener (a pooler in transaction mode cannot LISTEN) is
    /// not an error: the wait becomes a sleep, and the listener is built
    /// again next time.
    async fn wait(&self, st: &Statements, max: Duration) -> StoreResult<bool> {
        let deadline = tokio::time::Instant::now() + max;
        let Ok(mut slot) = tokio::time::timeout_at(deadline, self.listener.lock()).await else {
            return Ok(false);
        };
        if slot.is_none() {
            match tokio::time::timeout_at(deadline, self.listen(&st.channel)).await {
                Ok(Ok(l)) => *slot = Some(l),
                Ok(Err(e)) => {
                    drop(slot);
                    tracing::debug!(error = %e, "LISTEN unavailable, polling instead");
                    tokio::time::sleep_until(deadline).await;
                    return Ok(false);
                }
                Err(_) => return Ok(false),
            }
        }
        let Some(listener) = slot.as_mut() else { return Ok(false) };
        // recv() is cancel-safe (sqlx reads whole messages), so the timeout
        // and the engine's select! may drop it at any point.
        match tokio::time::timeout_at(deadline, listener.recv()).await {
            Err(_) => Ok(false),
            Ok(Ok(_)) => {
                // Polled once each, not under a zero timeout: a timer fires
                // on the runtime's next millisecond tick, and that tick was
                // half of a pickup (1.2 ms of 2 between the notification
                // and the claim).
                while let Some(Ok(Some(_))) = ready_now(listener.try_recv()).await {}
                Ok(true)
            }
            Ok(Err(e)) => {
                *slot = None;
                drop(slot);
                tracing::debug!(error = %e, "LISTEN connection lost, polling until it is rebuilt");
                tokio::time::sleep_until(deadline).await;
                Ok(false)
            }
        }
    }

    async fn refresh_statistics(&self, st: &Statements, min_changes: i64, fraction: f64) -> StoreResult<bool> {
        // The counters come from the statistics system (a second or so
        // behind); a table never analyzed has no reltuples and counts all.
        let due: Option<bool> = sqlx::query_scalar(
            "SELECT n_mod_since_analyze > $2 + $3 * GREATEST(n_live_tup, 0) FROM pg_stat_user_tables WHERE relid = to_regclass($1)",
        )
        .bind(&st.tasks)
        .bind(min_changes)
        .bind(fraction)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        if due != Some(true) {
            return Ok(false);
        }
        // In the background: ANALYZE of a large table takes a tenth of a
        // second or more, which the worker loop leading maintenance should
        // not wait for (it halved the first 5,000 tasks after a 200k insert).
        let pool = self.pool.clone();
        let analyze = format!("ANALYZE {}", st.tasks);
        tokio::spawn(async move {
            if let Err(e) = sqlx::query(AssertSqlSafe(analyze)).execute(&pool).await {
                tracing::warn!("stask: could not refresh the planner statistics: {e}");
            }
        });
        Ok(true)
    }
}

/// `f`'s output if it is ready at the first poll, else None (and `f` is
/// dropped: only cancel-safe futures belong here).
async fn ready_now<F: std::future::Future>(f: F) -> Option<F::Output> {
    let mut f = std::pin::pin!(f);
    std::future::poll_fn(|cx| match f.as_mut().poll(cx) {
        std::task::Poll::Ready(v) => std::task::Poll::Ready(Some(v)),
        std::task::Poll::Pending => std::task::Poll::Ready(None),
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_now_polls_once_and_never_waits() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        assert_eq!(rt.block_on(ready_now(async { 7 })), Some(7));
        assert_eq!(rt.block_on(ready_now(std::future::pending::<i32>())), None);
        let later = rt.block_on(async { ready_now(tokio::time::sleep(Duration::from_secs(60))).await });
        assert_eq!(later, None, "a pending timer is not waited for");
    }

    #[test]
    fn sqlstates_are_classified_by_meaning() {
        for busy in ["40001", "40P01", "55P03"] {
            assert_eq!(kind_of_sqlstate(busy), StoreErrorKind::Busy, "{busy}");
        }
        assert_eq!(kind_of_sqlstate("23505"), StoreErrorKind::Conflict);
        for gone in ["08000", "08006", "08P01", "57P01", "57P02", "57P03", "53300", "28P01", "3D000"] {
            assert_eq!(kind_of_sqlstate(gone), StoreErrorKind::Unavailable, "{gone}");
        }
        // Other integrity errors are not "already exists".
        assert_eq!(kind_of_sqlstate("23502"), StoreErrorKind::Other);
        assert_eq!(kind_of_sqlstate("42P01"), StoreErrorKind::SchemaMissing);
    }

    #[test]
    fn connection_failures_are_unavailable() {
        let io = sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused"));
        assert_eq!(classify(io).kind(), StoreErrorKind::Unavailable);
        assert_eq!(classify(sqlx::Error::PoolTimedOut).kind(), StoreErrorKind::Unavailable);
        assert_eq!(classify(sqlx::Error::PoolClosed).kind(), StoreErrorKind::Unavailable);
        assert_eq!(classify(sqlx::Error::RowNotFound).kind(), StoreErrorKind::Other);
    }

    #[test]
    fn a_bad_url_does_not_echo_the_password() {
        let e = "postgres://user:s3cret@/db?sslmode=bogus".parse::<PgConnectOptions>().unwrap_err();
        assert!(!classify(e).to_string().contains("s3cret"));
    }

    #[test]
    fn only_unusable_package_types_are_converted() {
        let cols = |v: &[(&str, &str)]| v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
        let changes = type_changes(
            "w",
            &cols(&[
                ("uuid", "uuid"),
                ("settings", "jsonb"),
                ("created_at", "timestamp(0) without time zone"),
                ("updated_at", "timestamp without time zone"),
                ("active", "boolean"),
            ]),
        );
        assert_eq!(changes.len(), 3, "{changes:?}");
        assert!(changes[0].contains("uuid TYPE VARCHAR(36)"));
        assert!(changes[1].contains("settings TYPE TEXT"));
        assert!(changes[2].contains("created_at TYPE TIMESTAMP(6)"));
        let none = type_changes(
            "t",
            &cols(&[("message", "text"), ("start_at", "timestamp(6) without time zone"), ("status", "smallint")]),
        );
        assert!(none.is_empty(), "{none:?}");
        assert_eq!(timestamp_precision("timestamp(3) with time zone"), None);
    }

    #[test]
    fn every_index_of_the_migration_is_known_by_name() {
        let names = index_names(MIGRATION_INDEXES, "evo_");
        assert_eq!(names.len(), MIGRATION_INDEXES.matches("CREATE ").count());
        assert_eq!(names[0], "evo_s_tasks_claim");
        assert!(names.contains(&"evo_s_workers_identifier_unique".to_string()));
    }
}
