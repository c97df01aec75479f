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

use super::sql::{Placeholders, SqlBuilder};
use super::*;
use crate::engine::query::{Cond, Table, Value};
use crate::engine::task::{Priority, Status};
use crate::engine::time;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use sqlx::postgres::{PgArguments, PgConnectOptions, PgListener, PgPool, PgPoolOptions, PgRow, Postgres};
use sqlx::{AssertSqlSafe, Column, Row, TypeInfo};
use std::sync::Arc;
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
const CLAIM_SESSION: [(&str, &str); 4] =
    [("enable_sort", "off"), ("enable_bitmapscan", "off"), ("enable_seqscan", "off"), ("synchronous_commit", "off")];

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
];
const ENGINE_WORKER_COLUMNS: &[(&str, &str)] = &[
    ("title", "VARCHAR(255) NOT NULL DEFAULT ''"),
    ("description", "TEXT NOT NULL DEFAULT ''"),
    ("icon", "TEXT NOT NULL DEFAULT ''"),
];

/// The aggregate columns shared by the summary and per-worker statistics.
/// Durations and memory only count attempts that ran to an end. `AVG` of a
/// bigint is numeric in PostgreSQL, so it is cast back to a double.
const SUMMARY_COLUMNS: &str = "COUNT(*) AS total, \
    COALESCE(SUM(CASE WHEN status = 10 THEN 1 ELSE 0 END), 0) AS queued, \
    COALESCE(SUM(CASE WHEN status IN (15, 20) THEN 1 ELSE 0 END), 0) AS running, \
    COALESCE(SUM(CASE WHEN status = 30 THEN 1 ELSE 0 END), 0) AS completed, \
    COALESCE(SUM(CASE WHEN status = 40 THEN 1 ELSE 0 END), 0) AS failed, \
    COALESCE(SUM(CASE WHEN status = 50 THEN 1 ELSE 0 END), 0) AS cancelled, \
    AVG(CASE WHEN status IN (30, 40) THEN duration END)::float8 AS avg_duration, \
    AVG(CASE WHEN status IN (30, 40) THEN peak_memory END)::float8 AS avg_memory, \
    SUM(CASE WHEN status IN (30, 40) THEN duration END)::float8 AS sum_duration";

/// The statements, with the table prefix substituted once.
struct Statements {
    prefix: String,
    tasks: String,
    workers: String,
    /// The LISTEN/NOTIFY channel of this prefix's tasks.
    channel: String,
    /// `id, identifier, …`: the task columns every read returns.
    task_columns: String,
    worker_columns: String,
    insert_task: Arc<str>,
    insert_many: Arc<str>,
    unique_holders: Arc<str>,
    notify: Arc<str>,
    get_task: Arc<str>,
    claim: Arc<str>,
    claim_id: Arc<str>,
    finish_completed: Arc<str>,
    finish_completed_many: Arc<str>,
    finish_retry: Arc<str>,
    finish_failed: Arc<str>,
    finish_cancelled: Arc<str>,
    finish_released: Arc<str>,
    state_of: Arc<str>,
    progress: Arc<str>,
    cancel_pending: Arc<str>,
    cancel_running: Arc<str>,
    status_of: Arc<str>,
    extend_leases: Arc<str>,
    select_expired: Arc<str>,
    rescue_retry: Arc<str>,
    rescue_fail: Arc<str>,
    retry: Arc<str>,
    delete_completed: Arc<str>,
    count_by_status: Arc<str>,
    summary: Arc<str>,
    worker_stats_all: Arc<str>,
    worker_stats_one: Arc<str>,
    common_errors: Arc<str>,
    worker_get: Arc<str>,
    worker_insert: Arc<str>,
    worker_update_info: Arc<str>,
    worker_counts: Arc<str>,
    drop_tables: Arc<str>,
    leader_acquire: Arc<str>,
}

impl Statements {
    fn new(prefix: &str) -> Self {
        let t = format!("{prefix}s_tasks");
        let w = format!("{prefix}s_workers");
        let tc = crate::engine::task::COLUMNS.join(", ");
        let wc = crate::engine::worker::COLUMNS.join(", ");
        let s = |sql: String| -> Arc<str> { Arc::from(sql) };
        let stats = |filter: &str| {
            s(format!(
                "SELECT identifier, {SUMMARY_COLUMNS}, MAX(COALESCE(finished_at, started_at, updated_at)) AS last_execution \
                 FROM {t} WHERE created_at >= $1{filter} GROUP BY identifier ORDER BY identifier COLLATE \"C\""
            ))
        };
        Statements {
            // Only the id comes back: the caller knows every other value.
            // NOTIFY wakes idle workers listening on this prefix's channel;
            // PostgreSQL delivers it on commit, and not at all when the
            // insert fails (a unique key taken).
            insert_task: s(format!(
                "INSERT INTO {t} (identifier, action, status, message, started_by, meta, result, start_at, attempts, \
                 max_attempts, priority, priority_rank, progress, created_at, updated_at, available_at, unique_key) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $11, $12, $13, $13, $14, $15) \
                 RETURNING id, pg_notify($16, '')"
            )),
            // Many tasks in one statement: each column travels as one array
            // and `unnest` turns them back into rows, so the statement has
            // 15 parameters whatever the number of rows (no 65535-parameter
            // ceiling, and one prepared plan for every batch size), where a
            // VALUES list would need new SQL text per size. WITH ORDINALITY
            // + ORDER BY feeds the rows in input order, so the sequence
            // hands out ids in that order (`match_returned` relies on it).
            // A key held by an active task is skipped, not an error (the
            // arbiter is the partial unique index, named by its predicate).
            // No NOTIFY here: one per call (`notify`), not one per row.
            insert_many: s(format!(
                "INSERT INTO {t} ({TASK_INSERT_COLUMNS}) \
                 SELECT identifier, action, status, message, started_by, meta, result, start_at, 0, max_attempts, \
                 priority, priority_rank, progress, $15, $15, available_at, unique_key \
                 FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[], $5::int8[], $6::text[], $7::text[], \
                 $8::timestamp[], $9::int8[], $10::text[], $11::int8[], $12::int8[], $13::timestamp[], $14::text[]) \
                 WITH ORDINALITY AS u(identifier, action, status, message, started_by, meta, result, start_at, \
                 max_attempts, priority, priority_rank, progress, available_at, unique_key, ord) \
                 ORDER BY ord \
                 ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND status IN (10, 15, 20) DO NOTHING \
                 RETURNING id, unique_key"
            )),
            // The active tasks holding the keys a batch insert skipped.
            unique_holders: s(format!("SELECT id, unique_key FROM {t} WHERE unique_key = ANY($1) AND status IN (10, 15, 20)")),
            // Once per batch, inside its transaction: delivered on commit.
            notify: s("SELECT pg_notify($1, '')".to_string()),
            get_task: s(format!("SELECT {tc} FROM {t} WHERE id = $1")),
            // Edge Claimed. SKIP LOCKED: candidates another claimer holds are
            // passed over instead of waited for, so no row is claimed twice and
            // claimers do not queue behind each other. A row that changed
            // since the subquery's snapshot is re-checked when it is locked;
            // the locked rows stay ours until commit, so the outer UPDATE
            // finds them by primary key alone (a `status = 10` there made the
            // planner scan every pending and dead index entry per claim).
            // The cursor `(priority_rank, id) > ($5, $6)` starts the index
            // scan after what this process already took.
            // `= ANY(ARRAY(…))`, not `IN (…)`: the planner may run an IN
            // subquery as the inner side of a semi-join, once per outer row,
            // and each run skips the rows this very statement has already
            // updated, so LIMIT 2 claimed every pending row (seen on 15). An
            // ARRAY() subquery is an InitPlan, run exactly once.
            // RETURNING order is not defined; the caller sorts.
            claim: s(format!(
                "UPDATE {t} SET status = 20, attempts = attempts + 1, started_at = $1, updated_at = $1, \
                 lease_owner = $2, lease_expires_at = $3, cancel_requested = false \
                 WHERE id = ANY(ARRAY(SELECT id FROM {t} WHERE status = 10 AND (priority_rank, id) > ($5, $6) AND \
                 (available_at IS NULL OR available_at <= $1) ORDER BY priority_rank, id LIMIT $4 FOR UPDATE SKIP LOCKED)) \
                 RETURNING {tc}"
            )),
            // Edge Claimed for one given task (`sTask::execute`).
            claim_id: s(format!(
                "UPDATE {t} SET status = 20, attempts = attempts + 1, started_at = $1, updated_at = $1, \
                 lease_owner = $2, lease_expires_at = $3, cancel_requested = false WHERE id = $4 AND status = 10 \
                 RETURNING {tc}"
            )),
            // Edge Finished. Guarded: only a task still held (15/20) moves, so
            // what the worker decided itself (markFailed...) stands; a worker
            // that marked itself completed still gets progress 100. The right
            // sides all read the row as it was, as in SQLite.
            finish_completed: s(format!(
                "UPDATE {t} SET status = CASE WHEN status IN (15, 20) THEN 30 ELSE status END, \
                 progress = CASE WHEN status IN (15, 20, 30) THEN 100 ELSE progress END, \
                 message = CASE WHEN status IN (15, 20) THEN $1 ELSE message END, \
                 finished_at = COALESCE(finished_at, $2), duration = $3, peak_memory = $4, \
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = $2 WHERE id = $5"
            )),
            // Edge Finished for a whole batch in one round trip: the same
            // assignments as finish_completed, the per-task values arriving
            // as parallel arrays. It has no status guard (the CASEs are the
            // guard), so RETURNING reports every row: the batch's final
            // states without another query. Rows of one batch belong to one
            // worker, so two batches never lock the same rows.
            finish_completed_many: s(format!(
                "UPDATE {t} AS t SET status = CASE WHEN t.status IN (15, 20) THEN 30 ELSE t.status END, \
                 progress = CASE WHEN t.status IN (15, 20, 30) THEN 100 ELSE t.progress END, \
                 message = CASE WHEN t.status IN (15, 20) THEN v.message ELSE t.message END, \
                 finished_at = COALESCE(t.finished_at, $1), duration = v.duration, peak_memory = v.peak, \
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = $1 \
                 FROM unnest($2::bigint[], $3::text[], $4::float8[], $5::bigint[]) AS v(id, message, duration, peak) \
                 WHERE t.id = v.id RETURNING t.id, t.status, t.message"
            )),
            // Edge FailedWithAttemptsLeft.
            finish_retry: s(format!(
                "UPDATE {t} SET status = 10, message = $1, last_error = $2, available_at = $3, duration = $4, \
                 peak_memory = $5, lease_owner = NULL, lease_expires_at = NULL, updated_at = $6 \
                 WHERE id = $7 AND status IN (15, 20)"
            )),
            // Edges AttemptsExhausted / WorkerMissing.
            finish_failed: s(format!(
                "UPDATE {t} SET status = 40, message = $1, last_error = $2, finished_at = $3, duration = $4, \
                 peak_memory = $5, lease_owner = NULL, lease_expires_at = NULL, updated_at = $3 \
                 WHERE id = $6 AND status IN (15, 20)"
            )),
            // Edge CancelSeen.
            finish_cancelled: s(format!(
                "UPDATE {t} SET status = 50, message = $1, finished_at = $2, duration = $3, peak_memory = $4, \
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = $2 WHERE id = $5 AND status IN (15, 20)"
            )),
            // Edge WorkerInactive: the attempt is given back (GREATEST is
            // PostgreSQL's two-argument MAX).
            finish_released: s(format!(
                "UPDATE {t} SET status = 10, attempts = GREATEST(attempts - 1, 0), message = $1, available_at = $2, \
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = $3 WHERE id = $4 AND status IN (15, 20)"
            )),
            // Read inside the finishing transaction: exact, and one round
            // trip for the whole batch.
            state_of: s(format!("SELECT id, status, message FROM {t} WHERE id = ANY($1)")),
            // Progress mirror; also tells the worker about a cancel request.
            progress: s(format!(
                "UPDATE {t} SET progress = $1, message = $2, snapshot = $3, updated_at = $4 WHERE id = $5 \
                 RETURNING status, cancel_requested"
            )),
            // Edge CancelPending.
            cancel_pending: s(format!(
                "UPDATE {t} SET status = 50, message = 'Cancelled', finished_at = $1, updated_at = $1 \
                 WHERE id = $2 AND {}",
                crate::engine::task::state::status_condition(crate::engine::task::Edge::CancelPending)
            )),
            // A running task is only asked to stop: the worker sees the flag
            // at its next progress report.
            cancel_running: s(format!(
                "UPDATE {t} SET cancel_requested = true, updated_at = $1 WHERE id = $2 AND {}",
                crate::engine::task::state::status_condition(crate::engine::task::Edge::CancelRequested)
            )),
            status_of: s(format!("SELECT status FROM {t} WHERE id = $1")),
            // Heartbeat: only rows this owner still holds; a lease lost to
            // the rescuer stays lost.
            extend_leases: s(format!(
                "UPDATE {t} SET lease_expires_at = $1 WHERE status IN (15, 20) AND lease_owner = $2 AND id = ANY($3)"
            )),
            // The rescuer's batch: running rows past their lease, by id cursor.
            select_expired: s(format!(
                "SELECT {tc} FROM {t} WHERE status IN (15, 20) AND lease_expires_at < $1 AND id > $2 ORDER BY id LIMIT $3"
            )),
            // Edge LeaseExpired with attempts left. The expiry is checked
            // again so that a heartbeat that landed meanwhile wins.
            rescue_retry: s(format!(
                "UPDATE {t} SET status = 10, available_at = $1, message = $2, last_error = $2, lease_owner = NULL, \
                 lease_expires_at = NULL, cancel_requested = false, updated_at = $3 \
                 WHERE id = $4 AND status IN (15, 20) AND lease_expires_at < $3"
            )),
            // Edge LeaseExpired, attempts exhausted.
            rescue_fail: s(format!(
                "UPDATE {t} SET status = 40, message = $1, last_error = $1, finished_at = $2, lease_owner = NULL, \
                 lease_expires_at = NULL, updated_at = $2 WHERE id = $3 AND status IN (15, 20) AND lease_expires_at < $2"
            )),
            // Edge ManualRetry: at least one more attempt is granted. The
            // notification wakes idle workers, as for an insert.
            retry: s(format!(
                "UPDATE {t} SET status = 10, available_at = $1, finished_at = NULL, cancel_requested = false, \
                 message = 'Queued for retry', max_attempts = GREATEST(max_attempts, attempts + 1), progress = 0, \
                 updated_at = $1 WHERE id = $2 AND status IN (40, 50) RETURNING id, pg_notify($3, '')"
            )),
            delete_completed: s(format!("DELETE FROM {t} WHERE status = 30 AND finished_at < $1 RETURNING id")),
            count_by_status: s(format!("SELECT status, COUNT(*) AS n FROM {t} GROUP BY status")),
            summary: s(format!("SELECT {SUMMARY_COLUMNS} FROM {t} WHERE created_at >= $1")),
            // Identifiers sort byte-wise (COLLATE "C"), as SQLite sorts them,
            // whatever the database's locale.
            worker_stats_all: stats(""),
            worker_stats_one: stats(" AND identifier = $2"),
            common_errors: s(format!(
                "SELECT last_error, COUNT(*) AS n FROM {t} WHERE status = 40 AND created_at >= $1 \
                 AND last_error IS NOT NULL GROUP BY last_error ORDER BY n DESC, last_error COLLATE \"C\" LIMIT $2"
            )),
            worker_get: s(format!("SELECT {wc} FROM {w} WHERE identifier = $1")),
            // New workers start inactive and last in order; an existing
            // identifier is left alone (RETURNING yields nothing then). The
            // aggregate SELECT yields one row even on an empty table.
            worker_insert: s(format!(
                "INSERT INTO {w} (identifier, scope, class, active, position, settings, hidden, title, description, \
                 icon, created_at, updated_at) SELECT $1, $2, $3, false, COALESCE(MAX(position), 0) + 1, '{{}}', 0, $4, \
                 $5, $6, $7, $7 FROM {w} ON CONFLICT (identifier) DO NOTHING RETURNING {wc}"
            )),
            worker_update_info: s(format!(
                "UPDATE {w} SET identifier = $1, scope = $2, class = $3, title = $4, description = $5, icon = $6, \
                 updated_at = $7 WHERE id = $8"
            )),
            worker_counts: s(format!(
                "SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN active THEN 1 ELSE 0 END), 0) AS active FROM {w}"
            )),
            drop_tables: s(format!("DROP TABLE IF EXISTS {t}, {w}, {prefix}s_task_leaders")),
            // Take the named lease when it is free, ours, or expired; the
            // row comes back only when we hold it.
            leader_acquire: s(format!(
                "INSERT INTO {prefix}s_task_leaders AS l (name, owner, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at \
                 WHERE l.owner = EXCLUDED.owner OR l.expires_at < $4 RETURNING owner"
            )),
            channel: format!("{prefix}stask_tasks"),
            prefix: prefix.to_string(),
            task_columns: tc,
            worker_columns: wc,
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

// ---- binding -----------------------------------------------------------------

// What a column holds, for binding a `Value` with a type PostgreSQL
// accepts there (one table for the engine: `Table::kind`).
use crate::engine::query::ColumnKind as Kind;

fn kind_of(table: Table, column: &str) -> Kind {
    table.kind(column)
}

/// One bound parameter, typed. A NULL is typed too: PostgreSQL refuses a
/// text NULL in an integer column.
#[derive(Debug, Clone, PartialEq)]
enum Arg {
    Int(Option<i64>),
    Float(Option<f64>),
    Bool(Option<bool>),
    Text(Option<String>),
    Time(Option<NaiveDateTime>),
}

impl Arg {
    /// By the value alone, where no column is involved (LIMIT, OFFSET).
    fn of(v: &Value) -> Arg {
        match v {
            Value::Null => Arg::Text(None),
            Value::Bool(b) => Arg::Bool(Some(*b)),
            Value::Int(i) => Arg::Int(Some(*i)),
            Value::Float(f) => Arg::Float(Some(*f)),
            Value::Text(s) => Arg::Text(Some(s.clone())),
        }
    }

    /// As the column needs it, converting what SQLite would have compared
    /// by affinity (`'10'` against an integer, `1` against a boolean, the
    /// engine's timestamp text against a timestamp). What cannot be
    /// converted is bound as it is, and PostgreSQL reports the mismatch.
    fn for_column(kind: Kind, v: &Value) -> Arg {
        match (kind, v) {
            (Kind::Int, Value::Null) => Arg::Int(None),
            (Kind::Float, Value::Null) => Arg::Float(None),
            (Kind::Bool, Value::Null) => Arg::Bool(None),
            (Kind::Text, Value::Null) => Arg::Text(None),
            (Kind::Time, Value::Null) => Arg::Time(None),

            (Kind::Int, Value::Bool(b)) => Arg::Int(Some(*b as i64)),
            (Kind::Int, Value::Float(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Arg::Int(Some(*f as i64)),
            (Kind::Int, Value::Text(s)) => match (s.trim().parse::<i64>(), s.trim().parse::<f64>()) {
                (Ok(i), _) => Arg::Int(Some(i)),
                (_, Ok(f)) => Arg::Float(Some(f)),
                _ => Arg::of(v),
            },

            (Kind::Float, Value::Int(i)) => Arg::Float(Some(*i as f64)),
            (Kind::Float, Value::Bool(b)) => Arg::Float(Some(*b as i64 as f64)),
            (Kind::Float, Value::Text(s)) => match s.trim().parse::<f64>() {
                Ok(f) => Arg::Float(Some(f)),
                Err(_) => Arg::of(v),
            },

            (Kind::Bool, Value::Int(i)) => Arg::Bool(Some(*i != 0)),
            (Kind::Bool, Value::Float(f)) => Arg::Bool(Some(*f != 0.0)),
            (Kind::Bool, Value::Text(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "t" | "yes" | "on" => Arg::Bool(Some(true)),
                "0" | "false" | "f" | "no" | "off" | "" => Arg::Bool(Some(false)),
                _ => Arg::of(v),
            },

            (Kind::Time, Value::Text(s)) => match time::from_db(s) {
                Some(t) => Arg::Time(Some(t.naive_utc())),
                // A bare date (`2025-01-16`) means its midnight, UTC.
                None => match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
                    Ok(d) => Arg::Time(d.and_hms_opt(0, 0, 0)),
                    Err(_) => Arg::of(v),
                },
            },

            (Kind::Text, Value::Int(i)) => Arg::Text(Some(i.to_string())),
            (Kind::Text, Value::Float(f)) => Arg::Text(Some(f.to_string())),
            (Kind::Text, Value::Bool(b)) => Arg::Text(Some(if *b { "1" } else { "0" }.into())),

            _ => Arg::of(v),
        }
    }
}

type PgQuery<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

fn bind<'q>(q: PgQuery<'q>, a: &Arg) -> PgQuery<'q> {
    match a {
        Arg::Int(v) => q.bind(*v),
        Arg::Float(v) => q.bind(*v),
        Arg::Bool(v) => q.bind(*v),
        Arg::Text(v) => q.bind(v.clone()),
        Arg::Time(v) => q.bind(*v),
    }
}

fn ts(t: &Timestamp) -> NaiveDateTime {
    t.naive_utc()
}

/// The column each value bound by `SqlBuilder::where_clause` was compared
/// with, in binding order; None for a LIKE pattern, which is text whatever
/// the column (the builder compares `CAST(column AS TEXT)` there).
fn where_columns(q: &crate::engine::query::Query) -> Vec<Option<&'static str>> {
    use crate::engine::query::Op;
    let mut cols = Vec::new();
    for c in &q.conds {
        match c {
            Cond::Compare { op: Op::Like | Op::NotLike, .. } => cols.push(None),
            Cond::Compare { column, .. } => cols.push(Some(*column)),
            Cond::IsNull { .. } => {}
            Cond::In { column, values, .. } => cols.extend(values.iter().map(|_| Some(*column))),
        }
    }
    cols
}

/// SQL built with the shared `SqlBuilder` (`$n` placeholders), plus the
/// typed arguments PostgreSQL needs in place of its untyped values.
struct PgSql {
    b: SqlBuilder,
    args: Vec<Arg>,
}

impl PgSql {
    fn new() -> Self {
        PgSql { b: SqlBuilder::new(Placeholders::Dollar), args: Vec::new() }
    }

    fn push(&mut self, s: &str) -> &mut Self {
        self.b.push(s);
        self
    }

    fn bind(&mut self, a: Arg) -> &mut Self {
        // The builder numbers the placeholder; the value it keeps is unused.
        self.b.bind(Value::Null);
        self.args.push(a);
        self
    }

    fn where_clause(&mut self, q: &crate::engine::query::Query) -> &mut Self {
        let cols = where_columns(q);
        self.b.where_clause(q);
        let start = self.args.len();
        for (i, v) in self.b.values[start..].iter().enumerate() {
            self.args.push(match cols.get(i).copied().flatten() {
                Some(c) => Arg::for_column(kind_of(q.table, c), v),
                None => Arg::of(v),
            });
        }
        self
    }

    fn order_limit(&mut self, q: &crate::engine::query::Query, default_order: &str) -> &mut Self {
        self.b.order_limit(q, default_order);
        let start = self.args.len();
        self.args.extend(self.b.values[start..].iter().map(Arg::of));
        self
    }

    fn query(&self) -> PgQuery<'_> {
        self.args.iter().fold(sqlx::query(AssertSqlSafe(self.b.sql.as_str())), bind)
    }
}

// ---- decoding ----------------------------------------------------------------
//
// Integer and timestamp columns are read by their actual type: a table made
// by the PHP package has `smallint`/`integer` where the engine's own has
// `bigint`, and sqlx refuses to decode an int2 as an i64.

type Decoded<T> = Result<T, sqlx::Error>;

fn type_of<'r>(row: &'r PgRow, col: &str) -> Decoded<&'r str> {
    Ok(row.try_column(col)?.type_info().name())
}

fn null_in(col: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode { index: col.to_string(), source: "unexpected NULL".into() }
}

fn get_opt_int(row: &PgRow, col: &str) -> Decoded<Option<i64>> {
    Ok(match type_of(row, col)? {
        "INT2" => row.try_get::<Option<i16>, _>(col)?.map(i64::from),
        "INT4" => row.try_get::<Option<i32>, _>(col)?.map(i64::from),
        "BOOL" => row.try_get::<Option<bool>, _>(col)?.map(i64::from),
        "FLOAT4" => row.try_get::<Option<f32>, _>(col)?.map(|f| f as i64),
        "FLOAT8" => row.try_get::<Option<f64>, _>(col)?.map(|f| f as i64),
        _ => row.try_get::<Option<i64>, _>(col)?,
    })
}

fn get_int(row: &PgRow, col: &str) -> Decoded<i64> {
    get_opt_int(row, col)?.ok_or_else(|| null_in(col))
}

fn get_opt_f64(row: &PgRow, col: &str) -> Decoded<Option<f64>> {
    Ok(match type_of(row, col)? {
        "FLOAT4" => row.try_get::<Option<f32>, _>(col)?.map(f64::from),
        "INT2" | "INT4" | "INT8" => get_opt_int(row, col)?.map(|i| i as f64),
        _ => row.try_get::<Option<f64>, _>(col)?,
    })
}

fn get_bool(row: &PgRow, col: &str) -> Decoded<bool> {
    match type_of(row, col)? {
        "BOOL" => row.try_get::<Option<bool>, _>(col)?.ok_or_else(|| null_in(col)),
        _ => Ok(get_int(row, col)? != 0),
    }
}

fn get_ts(row: &PgRow, col: &str) -> Decoded<Option<Timestamp>> {
    Ok(match type_of(row, col)? {
        "TIMESTAMPTZ" => row.try_get::<Option<DateTime<Utc>>, _>(col)?,
        "TEXT" | "VARCHAR" | "BPCHAR" => row.try_get::<Option<String>, _>(col)?.as_deref().and_then(time::from_db),
        _ => row.try_get::<Option<NaiveDateTime>, _>(col)?.map(|n| n.and_utc()),
    })
}

fn task_from_row(row: &PgRow) -> Decoded<TaskRow> {
    Ok(TaskRow {
        id: get_int(row, "id")?,
        identifier: row.try_get("identifier")?,
        action: row.try_get("action")?,
        status: get_int(row, "status")?,
        message: row.try_get("message")?,
        started_by: get_opt_int(row, "started_by")?,
        meta: row.try_get("meta")?,
        result: row.try_get("result")?,
        start_at: get_ts(row, "start_at")?,
        finished_at: get_ts(row, "finished_at")?,
        attempts: get_int(row, "attempts")?,
        max_attempts: get_int(row, "max_attempts")?,
        priority: row.try_get("priority")?,
        progress: get_int(row, "progress")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
        available_at: get_ts(row, "available_at")?,
        started_at: get_ts(row, "started_at")?,
        duration: get_opt_f64(row, "duration")?,
        peak_memory: get_opt_int(row, "peak_memory")?,
        last_error: row.try_get("last_error")?,
        cancel_requested: get_bool(row, "cancel_requested")?,
        lease_owner: row.try_get("lease_owner")?,
        lease_expires_at: get_ts(row, "lease_expires_at")?,
        snapshot: row.try_get("snapshot")?,
        unique_key: row.try_get("unique_key")?,
    })
}

fn worker_from_row(row: &PgRow) -> Decoded<WorkerRow> {
    Ok(WorkerRow {
        id: get_int(row, "id")?,
        uuid: row.try_get("uuid")?,
        identifier: row.try_get("identifier")?,
        scope: row.try_get("scope")?,
        class: row.try_get("class")?,
        active: get_bool(row, "active")?,
        position: get_int(row, "position")?,
        settings: row.try_get::<Option<String>, _>("settings")?.unwrap_or_else(|| "{}".into()),
        hidden: get_int(row, "hidden")?,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        icon: row.try_get("icon")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

fn summary_from_row(row: &PgRow) -> Decoded<TaskSummaryRow> {
    Ok(TaskSummaryRow {
        total: get_int(row, "total")?,
        queued: get_int(row, "queued")?,
        running: get_int(row, "running")?,
        completed: get_int(row, "completed")?,
        failed: get_int(row, "failed")?,
        cancelled: get_int(row, "cancelled")?,
        average_duration: get_opt_f64(row, "avg_duration")?,
        average_memory: get_opt_f64(row, "avg_memory")?,
        total_duration: get_opt_f64(row, "sum_duration")?,
    })
}

fn decode_all<T>(rows: Vec<PgRow>, f: impl Fn(&PgRow) -> Decoded<T>) -> StoreResult<Vec<T>> {
    rows.iter().map(|r| f(r).map_err(classify)).collect()
}

// ---- the store ---------------------------------------------------------------

pub struct PostgresStore {
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
    st: Statements,
}

impl PostgresStore {
    /// Connects (one direct connection is opened at once, so a wrong address
    /// or password fails here with its own reason: the pool would retry a
    /// refused connection until its acquire timeout and then only say it
    /// timed out). Server databases are migrated explicitly.
    pub async fn connect(url: &str, prefix: &str) -> StoreResult<PostgresStore> {
        let options: PgConnectOptions = url.parse().map_err(classify)?;
        let first = sqlx::ConnectOptions::connect(&options).await.map_err(classify)?;
        let _ = sqlx::Connection::close(first).await;
        let pool = pool_options(MAX_CONNECTIONS).connect_lazy_with(options.clone());
        let claim_pool = pool_options(1).connect_lazy_with(options.clone().options(CLAIM_SESSION));
        Ok(PostgresStore { pool, claim_pool, options, listener: tokio::sync::Mutex::new(None), st: Statements::new(prefix) })
    }

    async fn rows<T>(&self, q: PgQuery<'_>, f: impl Fn(&PgRow) -> Decoded<T>) -> StoreResult<Vec<T>> {
        let rows = q.fetch_all(&self.pool).await.map_err(classify)?;
        decode_all(rows, f)
    }

    async fn execute(&self, q: PgQuery<'_>) -> StoreResult<u64> {
        Ok(q.execute(&self.pool).await.map_err(classify)?.rows_affected())
    }

    /// `task_insert_many` in one transaction: the chunks, then the holders
    /// of skipped keys; a key whose holder finished meanwhile (READ
    /// COMMITTED: each statement sees what committed before it) is
    /// inserted again, up to three rounds.
    async fn insert_many_once(&self, p: &TaskInsertManyParams<'_>) -> StoreResult<Vec<Created>> {
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
                let q = Self::stmt(&self.st.insert_many)
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
                    .bind(col(&|t| t.unique_key.as_deref()))
                    .bind(ts(&p.now));
                let rows = q.fetch_all(&mut *tx).await.map_err(classify)?;
                let returned = rows
                    .iter()
                    .map(|r| Ok((get_int(r, "id")?, r.try_get::<Option<String>, _>("unique_key")?)))
                    .collect::<Decoded<Vec<_>>>()
                    .map_err(classify)?;
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
            let rows = Self::stmt(&self.st.unique_holders).bind(keys).fetch_all(&mut *tx).await.map_err(classify)?;
            let mut holders = std::collections::HashMap::new();
            for r in &rows {
                let key: Option<String> = r.try_get("unique_key").map_err(classify)?;
                holders.insert(key.unwrap_or_default(), get_int(r, "id").map_err(classify)?);
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
            Self::stmt(&self.st.notify).bind(self.st.channel.as_str()).execute(&mut *tx).await.map_err(classify)?;
        }
        tx.commit().await.map_err(classify)?;
        Ok(out.into_iter().map(|c| c.expect("every task was inserted or matched")).collect())
    }

    fn stmt(sql: &Arc<str>) -> PgQuery<'static> {
        sqlx::query(AssertSqlSafe(sql.clone()))
    }

    fn select_sql(&self, query: &crate::engine::query::Query, head: &str) -> PgSql {
        let mut s = PgSql::new();
        s.push(head).push(self.st.table(query.table));
        s.where_clause(query);
        s
    }

    /// A listener subscribed to this prefix's channel, on a connection of
    /// its own so that it never takes a slot of the query pool.
    async fn listen(&self) -> Result<PgListener, sqlx::Error> {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_lazy_with(self.options.clone());
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(&self.st.channel).await?;
        Ok(listener)
    }

    async fn claim_once(&self, p: &TaskClaimParams) -> StoreResult<Vec<TaskRow>> {
        let q = Self::stmt(&self.st.claim)
            .bind(ts(&p.now))
            .bind(p.owner.as_str())
            .bind(ts(&p.lease_expires_at))
            .bind(p.limit)
            .bind(p.after.0 as i32)
            .bind(p.after.1);
        let rows = q.fetch_all(&self.claim_pool).await.map_err(classify)?;
        decode_all(rows, task_from_row)
    }

    /// The common case, a batch where every task returned: one statement.
    async fn finish_all_completed(&self, outcomes: &[Outcome], now: Timestamp) -> StoreResult<Vec<Finished>> {
        let (mut ids, mut messages, mut durations, mut peaks) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for o in outcomes {
            if let Outcome::Completed { id, message, duration, peak_memory } = o {
                ids.push(*id);
                messages.push(message.clone());
                durations.push(*duration);
                peaks.push(*peak_memory);
            }
        }
        let q = Self::stmt(&self.st.finish_completed_many)
            .bind(ts(&now))
            .bind(ids.as_slice())
            .bind(messages.as_slice())
            .bind(durations.as_slice())
            .bind(peaks.as_slice());
        let rows = q.fetch_all(&self.pool).await.map_err(classify)?;
        let states = decode_all(rows, |r| {
            Ok(Finished { id: get_int(r, "id")?, status: get_int(r, "status")?, message: r.try_get("message")? })
        })?;
        Ok(outcomes.iter().filter_map(|o| states.iter().find(|f| f.id == o.id()).cloned()).collect())
    }

    async fn finish_once(&self, outcomes: &[Outcome], now: Timestamp) -> StoreResult<Vec<Finished>> {
        if outcomes.iter().all(|o| matches!(o, Outcome::Completed { .. })) {
            return self.finish_all_completed(outcomes, now).await;
        }
        let now = ts(&now);
        // Rows are locked in id order, the order every batch here uses, so
        // two finishing batches cannot deadlock on each other.
        let mut ordered: Vec<&Outcome> = outcomes.iter().collect();
        ordered.sort_by_key(|o| o.id());
        let mut tx = self.pool.begin().await.map_err(classify)?;
        for o in ordered {
            let q = match o {
                Outcome::Completed { id, message, duration, peak_memory } => Self::stmt(&self.st.finish_completed)
                    .bind(message.as_str())
                    .bind(now)
                    .bind(*duration)
                    .bind(*peak_memory)
                    .bind(*id),
                Outcome::Retry { id, message, error, available_at, duration, peak_memory } => Self::stmt(&self.st.finish_retry)
                    .bind(message.as_str())
                    .bind(error.as_str())
                    .bind(ts(available_at))
                    .bind(*duration)
                    .bind(*peak_memory)
                    .bind(now)
                    .bind(*id),
                Outcome::Failed { id, message, error, duration, peak_memory } => Self::stmt(&self.st.finish_failed)
                    .bind(message.as_str())
                    .bind(error.as_str())
                    .bind(now)
                    .bind(*duration)
                    .bind(*peak_memory)
                    .bind(*id),
                Outcome::Cancelled { id, message, duration, peak_memory } => Self::stmt(&self.st.finish_cancelled)
                    .bind(message.as_str())
                    .bind(now)
                    .bind(*duration)
                    .bind(*peak_memory)
                    .bind(*id),
                Outcome::Released { id, message, available_at } => {
                    Self::stmt(&self.st.finish_released).bind(message.as_str()).bind(ts(available_at)).bind(now).bind(*id)
                }
            };
            q.execute(&mut *tx).await.map_err(classify)?;
        }
        let ids: Vec<i64> = outcomes.iter().map(Outcome::id).collect();
        let rows = Self::stmt(&self.st.state_of).bind(ids.as_slice()).fetch_all(&mut *tx).await.map_err(classify)?;
        let states = decode_all(rows, |r| {
            Ok(Finished { id: get_int(r, "id")?, status: get_int(r, "status")?, message: r.try_get("message")? })
        })?;
        tx.commit().await.map_err(classify)?;
        // In the outcomes' order, as SQLite answers.
        Ok(outcomes.iter().filter_map(|o| states.iter().find(|f| f.id == o.id()).cloned()).collect())
    }

    async fn extend_once(&self, p: &LeaseExtendParams) -> StoreResult<u64> {
        let q = Self::stmt(&self.st.extend_leases).bind(ts(&p.expires_at)).bind(p.owner.as_str()).bind(p.ids.as_slice());
        self.execute(q).await
    }

    async fn migrate_once(&self) -> StoreResult<()> {
        let p = &self.st.prefix;
        let mut tx = self.pool.begin().await.map_err(classify)?;
        // Two processes migrating at once queue here; the lock is released
        // with the transaction. DDL is transactional in PostgreSQL, so a
        // failure leaves the tables as they were.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(format!("stask migrate {p}"))
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        let before = table_columns(&mut tx, &self.st.tasks).await?;
        let converting = !before.is_empty() && !before.iter().any(|(c, _)| c == "available_at");
        run_script(&mut tx, MIGRATION_TABLES, p).await?;

        // A table created by the PHP package lacks the engine's columns.
        // Only what is missing is altered: even a no-op ALTER TABLE takes
        // an exclusive lock, and migrate() may run on a busy database.
        for (table, wanted) in [(&self.st.tasks, ENGINE_TASK_COLUMNS), (&self.st.workers, ENGINE_WORKER_COLUMNS)] {
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
            // The PHP package used 10 queued, 30 preparing, 50 running,
            // 80 completed, 100 failed. Order matters: 30 must move before 80
            // becomes 30, and 50 before anything becomes 50.
            for (from, to) in [(30, 15), (50, 20), (80, 30), (100, 40)] {
                ddl(&mut tx, format!("UPDATE {p}s_tasks SET status = {to} WHERE status = {from}")).await?;
            }
            ddl(
                &mut tx,
                format!(
                    "UPDATE {p}s_tasks SET available_at = COALESCE(start_at, created_at), \
                     priority_rank = CASE priority WHEN 'high' THEN 1 WHEN 'low' THEN 10 ELSE 5 END"
                ),
            )
            .await?;
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
}

impl Drop for PostgresStore {
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
    decode_all(rows, |r| Ok((r.try_get::<String, _>("name")?, r.try_get::<String, _>("type")?)))
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
impl Store for PostgresStore {
    fn supports_listen(&self) -> bool {
        true
    }

    /// Waits on LISTEN; notifications that piled up meanwhile are taken
    /// together, so a burst of inserts wakes the loop once. A broken or
    /// refused listener (a pooler in transaction mode cannot LISTEN) is
    /// not an error: the wait becomes a sleep, and the listener is built
    /// again next time.
    async fn task_wait(&self, max: Duration) -> StoreResult<bool> {
        let deadline = tokio::time::Instant::now() + max;
        let Ok(mut slot) = tokio::time::timeout_at(deadline, self.listener.lock()).await else {
            return Ok(false);
        };
        if slot.is_none() {
            match tokio::time::timeout_at(deadline, self.listen()).await {
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
                while let Ok(Ok(Some(_))) = tokio::time::timeout(Duration::ZERO, listener.try_recv()).await {}
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

    async fn migrate(&self) -> StoreResult<()> {
        retry_busy(|| self.migrate_once()).await
    }

    async fn task_insert(&self, t: &NewTask, now: Timestamp) -> StoreResult<TaskRow> {
        let available = match t.start_at {
            Some(s) if s > now => s,
            _ => now,
        };
        let q = Self::stmt(&self.st.insert_task)
            .bind(t.identifier.as_str())
            .bind(t.action.as_str())
            .bind(t.status.code())
            .bind(t.message.as_deref())
            .bind(t.started_by)
            .bind(t.meta.as_deref())
            .bind(t.result.as_deref())
            .bind(t.start_at.as_ref().map(ts))
            .bind(t.max_attempts)
            .bind(t.priority.name())
            .bind(t.priority.rank())
            .bind(t.progress)
            .bind(ts(&now))
            .bind(ts(&available))
            .bind(t.unique_key.as_deref())
            .bind(self.st.channel.as_str());
        let row = q.fetch_one(&self.pool).await.map_err(classify)?;
        let id = get_int(&row, "id").map_err(classify)?;
        Ok(t.row(id, now, available))
    }

    async fn task_insert_many(&self, p: &TaskInsertManyParams<'_>) -> StoreResult<Vec<Created>> {
        if p.tasks.is_empty() {
            return Ok(Vec::new());
        }
        retry_busy(|| self.insert_many_once(p)).await
    }

    async fn task_get(&self, id: i64) -> StoreResult<Option<TaskRow>> {
        Ok(self.rows(Self::stmt(&self.st.get_task).bind(id), task_from_row).await?.into_iter().next())
    }

    async fn task_select(&self, query: &crate::engine::query::Query) -> StoreResult<Vec<TaskRow>> {
        let mut s = self.select_sql(query, &format!("SELECT {} FROM ", self.st.task_columns));
        s.order_limit(query, "id ASC");
        self.rows(s.query(), task_from_row).await
    }

    async fn task_claim(&self, p: &TaskClaimParams) -> StoreResult<Vec<TaskRow>> {
        let mut tasks = retry_busy(|| self.claim_once(p)).await?;
        tasks.sort_by_key(|t| (Priority::rank_of_name(&t.priority), t.id));
        Ok(tasks)
    }

    async fn task_claim_id(&self, id: i64, p: &TaskClaimParams) -> StoreResult<Option<TaskRow>> {
        let q = Self::stmt(&self.st.claim_id).bind(ts(&p.now)).bind(p.owner.as_str()).bind(ts(&p.lease_expires_at)).bind(id);
        Ok(self.rows(q, task_from_row).await?.into_iter().next())
    }

    async fn refresh_statistics(&self, min_changes: i64, fraction: f64) -> StoreResult<bool> {
        // The counters come from the statistics system (a second or so
        // behind); a table never analyzed has no reltuples and counts all.
        let due: Option<bool> = sqlx::query_scalar(
            "SELECT n_mod_since_analyze > $2 + $3 * GREATEST(n_live_tup, 0) FROM pg_stat_user_tables WHERE relid = to_regclass($1)",
        )
        .bind(&self.st.tasks)
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
        let analyze = format!("ANALYZE {}", self.st.tasks);
        tokio::spawn(async move {
            if let Err(e) = sqlx::query(AssertSqlSafe(analyze)).execute(&pool).await {
                tracing::warn!("stask: could not refresh the planner statistics: {e}");
            }
        });
        Ok(true)
    }

    /// On the claim connection, so the plan is the one claims get.
    async fn explain_claim(&self) -> StoreResult<String> {
        let p = TaskClaimParams::explain();
        let rows = sqlx::query(AssertSqlSafe(format!("EXPLAIN {}", self.st.claim)))
            .bind(ts(&p.now))
            .bind(p.owner.as_str())
            .bind(ts(&p.lease_expires_at))
            .bind(p.limit)
            .bind(p.after.0 as i32)
            .bind(p.after.1)
            .fetch_all(&self.claim_pool)
            .await
            .map_err(classify)?;
        let lines: Result<Vec<String>, _> = rows.iter().map(|r| r.try_get::<String, _>(0)).collect();
        Ok(lines.map_err(classify)?.join("\n"))
    }

    async fn task_finish_many(&self, outcomes: &[Outcome], now: Timestamp) -> StoreResult<Vec<Finished>> {
        if outcomes.is_empty() {
            return Ok(Vec::new());
        }
        retry_busy(|| self.finish_once(outcomes, now)).await
    }

    async fn task_extend_leases(&self, p: &LeaseExtendParams) -> StoreResult<u64> {
        if p.ids.is_empty() {
            return Ok(0);
        }
        retry_busy(|| self.extend_once(p)).await
    }

    async fn task_select_expired(&self, now: Timestamp, after_id: i64, limit: i64) -> StoreResult<Vec<TaskRow>> {
        let q = Self::stmt(&self.st.select_expired).bind(ts(&now)).bind(after_id).bind(limit);
        self.rows(q, task_from_row).await
    }

    async fn task_rescue(&self, p: &RescueParams) -> StoreResult<bool> {
        let now = ts(&p.now);
        let q = match &p.to {
            Rescue::Retry { available_at } => {
                Self::stmt(&self.st.rescue_retry).bind(ts(available_at)).bind(p.message.as_str()).bind(now).bind(p.id)
            }
            Rescue::Fail => Self::stmt(&self.st.rescue_fail).bind(p.message.as_str()).bind(now).bind(p.id),
        };
        Ok(self.execute(q).await? == 1)
    }

    async fn task_progress(&self, p: &TaskProgressParams) -> StoreResult<Option<ProgressAck>> {
        let q = Self::stmt(&self.st.progress)
            .bind(p.progress)
            .bind(p.message.as_str())
            .bind(p.snapshot.as_str())
            .bind(ts(&p.now))
            .bind(p.id);
        let acks = self
            .rows(q, |r| Ok(ProgressAck { status: get_int(r, "status")?, cancel_requested: get_bool(r, "cancel_requested")? }))
            .await?;
        Ok(acks.into_iter().next())
    }

    async fn task_cancel(&self, id: i64, now: Timestamp) -> StoreResult<CancelOutcome> {
        if self.execute(Self::stmt(&self.st.cancel_pending).bind(ts(&now)).bind(id)).await? == 1 {
            return Ok(CancelOutcome::Cancelled);
        }
        if self.execute(Self::stmt(&self.st.cancel_running).bind(ts(&now)).bind(id)).await? == 1 {
            return Ok(CancelOutcome::Requested);
        }
        let status = self.rows(Self::stmt(&self.st.status_of).bind(id), |r| get_int(r, "status")).await?;
        Ok(match status.first() {
            Some(s) => CancelOutcome::NotCancellable(*s),
            None => CancelOutcome::NotFound,
        })
    }

    async fn task_retry(&self, id: i64, now: Timestamp) -> StoreResult<bool> {
        let q = Self::stmt(&self.st.retry).bind(ts(&now)).bind(id).bind(self.st.channel.as_str());
        Ok(q.fetch_optional(&self.pool).await.map_err(classify)?.is_some())
    }

    async fn task_delete_completed_before(&self, before: Timestamp) -> StoreResult<Vec<i64>> {
        self.rows(Self::stmt(&self.st.delete_completed).bind(ts(&before)), |r| get_int(r, "id")).await
    }

    async fn task_count_by_status(&self) -> StoreResult<Vec<(i64, i64)>> {
        self.rows(Self::stmt(&self.st.count_by_status), |r| Ok((get_int(r, "status")?, get_int(r, "n")?))).await
    }

    async fn task_summary(&self, since: Timestamp) -> StoreResult<TaskSummaryRow> {
        let mut rows = self.rows(Self::stmt(&self.st.summary).bind(ts(&since)), summary_from_row).await?;
        Ok(rows.pop().unwrap_or_default())
    }

    async fn task_worker_stats(&self, since: Timestamp, identifier: Option<&str>) -> StoreResult<Vec<WorkerStatsRow>> {
        let q = match identifier {
            Some(i) => Self::stmt(&self.st.worker_stats_one).bind(ts(&since)).bind(i.to_string()),
            None => Self::stmt(&self.st.worker_stats_all).bind(ts(&since)),
        };
        self.rows(q, |r| {
            Ok(WorkerStatsRow {
                identifier: r.try_get("identifier")?,
                summary: summary_from_row(r)?,
                last_execution: get_ts(r, "last_execution")?,
            })
        })
        .await
    }

    async fn task_common_errors(&self, since: Timestamp, limit: i64) -> StoreResult<Vec<(String, i64)>> {
        let q = Self::stmt(&self.st.common_errors).bind(ts(&since)).bind(limit);
        self.rows(q, |r| Ok((r.try_get::<String, _>("last_error")?, get_int(r, "n")?))).await
    }

    async fn task_timeline(&self, since: Timestamp) -> StoreResult<Vec<TimelineRow>> {
        let t = &self.st.tasks;
        let sql: Arc<str> = Arc::from(format!(
            "SELECT h, SUM(c)::int8 AS created, SUM(ok)::int8 AS completed, SUM(ko)::int8 AS failed, \
             AVG(d)::float8 AS avg_duration FROM ( \
             SELECT to_char(created_at, 'YYYY-MM-DD HH24') AS h, 1 AS c, 0 AS ok, 0 AS ko, NULL::float8 AS d \
             FROM {t} WHERE created_at >= $1 \
             UNION ALL \
             SELECT to_char(finished_at, 'YYYY-MM-DD HH24'), 0, CASE WHEN status = 30 THEN 1 ELSE 0 END, \
             CASE WHEN status = 40 THEN 1 ELSE 0 END, duration::float8 FROM {t} \
             WHERE created_at >= $2 AND finished_at >= $1 AND status IN (30, 40) \
             ) x GROUP BY h ORDER BY h"
        ));
        let rows = self
            .rows(Self::stmt(&sql).bind(ts(&since)).bind(ts(&timeline_created_floor(since))), |r| {
                Ok((
                    r.try_get::<String, _>("h")?,
                    get_int(r, "created")?,
                    get_int(r, "completed")?,
                    get_int(r, "failed")?,
                    get_opt_f64(r, "avg_duration")?,
                ))
            })
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(h, created, completed, failed, average_duration)| {
                Some(TimelineRow { hour: parse_hour(&h)?, created, completed, failed, average_duration })
            })
            .collect())
    }

    async fn task_latest_per_identifier(&self) -> StoreResult<Vec<TaskRow>> {
        let t = &self.st.tasks;
        let sql: Arc<str> = Arc::from(format!(
            "SELECT {} FROM {t} WHERE id IN (SELECT MAX(id) FROM {t} GROUP BY identifier) ORDER BY identifier COLLATE \"C\"",
            self.st.task_columns
        ));
        self.rows(Self::stmt(&sql), task_from_row).await
    }

    async fn task_counters(&self, now: Timestamp) -> StoreResult<Vec<IdentifierCounters>> {
        // SUM of a bigint is numeric in PostgreSQL, hence the casts.
        let sql: Arc<str> = Arc::from(format!(
            "SELECT identifier, \
             COUNT(CASE WHEN status = 10 THEN 1 END) AS pending, \
             COUNT(CASE WHEN status IN (15, 20) THEN 1 END) AS running, \
             COUNT(CASE WHEN status = 30 THEN 1 END) AS completed, \
             COUNT(CASE WHEN status = 40 THEN 1 END) AS failed, \
             COUNT(CASE WHEN status = 50 THEN 1 END) AS cancelled, \
             COALESCE(SUM(CASE WHEN attempts > 1 THEN attempts - 1 ELSE 0 END), 0)::int8 AS retried, \
             MIN(CASE WHEN status = 10 AND available_at <= $1 THEN available_at END) AS oldest_pending \
             FROM {} GROUP BY identifier ORDER BY identifier COLLATE \"C\"",
            self.st.tasks
        ));
        self.rows(Self::stmt(&sql).bind(ts(&now)), |r| {
            Ok(IdentifierCounters {
                identifier: r.try_get("identifier")?,
                pending: get_int(r, "pending")?,
                running: get_int(r, "running")?,
                completed: get_int(r, "completed")?,
                failed: get_int(r, "failed")?,
                cancelled: get_int(r, "cancelled")?,
                retried: get_int(r, "retried")?,
                oldest_pending: get_ts(r, "oldest_pending")?,
            })
        })
        .await
    }

    async fn worker_select(&self, query: &crate::engine::query::Query) -> StoreResult<Vec<WorkerRow>> {
        let mut s = self.select_sql(query, &format!("SELECT {} FROM ", self.st.worker_columns));
        // Byte order for identifiers, as SQLite sorts them.
        s.order_limit(query, "position ASC, identifier COLLATE \"C\" ASC");
        self.rows(s.query(), worker_from_row).await
    }

    async fn worker_get(&self, identifier: &str) -> StoreResult<Option<WorkerRow>> {
        let q = Self::stmt(&self.st.worker_get).bind(identifier.to_string());
        Ok(self.rows(q, worker_from_row).await?.into_iter().next())
    }

    async fn worker_insert(&self, info: &WorkerInfo, now: Timestamp) -> StoreResult<Option<WorkerRow>> {
        let q = Self::stmt(&self.st.worker_insert)
            .bind(info.identifier.as_str())
            .bind(info.scope.as_str())
            .bind(info.class.as_str())
            .bind(info.title.as_str())
            .bind(info.description.as_str())
            .bind(info.icon.as_str())
            .bind(ts(&now));
        Ok(self.rows(q, worker_from_row).await?.into_iter().next())
    }

    async fn worker_update_info(&self, id: i64, info: &WorkerInfo, now: Timestamp) -> StoreResult<bool> {
        let q = Self::stmt(&self.st.worker_update_info)
            .bind(info.identifier.as_str())
            .bind(info.scope.as_str())
            .bind(info.class.as_str())
            .bind(info.title.as_str())
            .bind(info.description.as_str())
            .bind(info.icon.as_str())
            .bind(ts(&now))
            .bind(id);
        Ok(self.execute(q).await? == 1)
    }

    async fn worker_counts(&self) -> StoreResult<(i64, i64)> {
        let rows = self.rows(Self::stmt(&self.st.worker_counts), |r| Ok((get_int(r, "total")?, get_int(r, "active")?))).await?;
        Ok(rows.into_iter().next().unwrap_or((0, 0)))
    }

    async fn drop_tables(&self) -> StoreResult<()> {
        sqlx::raw_sql(AssertSqlSafe(self.st.drop_tables.clone())).execute(&self.pool).await.map_err(classify)?;
        Ok(())
    }

    async fn leader_acquire(&self, name: &str, owner: &str, until: Timestamp, now: Timestamp) -> StoreResult<bool> {
        let rows = retry_busy(|| async {
            let q = Self::stmt(&self.st.leader_acquire).bind(name).bind(owner).bind(ts(&until)).bind(ts(&now));
            q.fetch_all(&self.pool).await.map_err(classify)
        })
        .await?;
        Ok(!rows.is_empty())
    }

    async fn create_legacy_tables_for_tests(&self) -> StoreResult<()> {
        // What the package's Laravel migration makes on PostgreSQL: native
        // uuid, json settings, varchar(255) message, timestamp(0) columns,
        // Laravel's index names, and its status codes in the rows.
        let p = &self.st.prefix;
        let script = format!(
            "CREATE TABLE {p}s_workers (id BIGSERIAL PRIMARY KEY, uuid UUID NULL, identifier VARCHAR(255) NOT NULL, \
               scope VARCHAR(255) NOT NULL DEFAULT '', class VARCHAR(255) NOT NULL, active BOOLEAN NOT NULL DEFAULT false, \
               position INTEGER NOT NULL DEFAULT 0, settings JSON NOT NULL DEFAULT '[]', hidden INTEGER NOT NULL DEFAULT 0, \
               created_at TIMESTAMP(0) WITHOUT TIME ZONE NULL, updated_at TIMESTAMP(0) WITHOUT TIME ZONE NULL, \
               CONSTRAINT {p}s_workers_identifier_unique UNIQUE (identifier), CONSTRAINT {p}s_workers_uuid_unique UNIQUE (uuid)); \
             CREATE TABLE {p}s_tasks (id BIGSERIAL PRIMARY KEY, identifier VARCHAR(255) NOT NULL, action VARCHAR(255) NOT NULL, \
               status SMALLINT NOT NULL DEFAULT 10, message VARCHAR(255) NULL, started_by INTEGER NULL, meta TEXT NULL, \
               result TEXT NULL, start_at TIMESTAMP(0) WITHOUT TIME ZONE NULL, finished_at TIMESTAMP(0) WITHOUT TIME ZONE NULL, \
               attempts INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL DEFAULT 3, \
               priority VARCHAR(255) NOT NULL DEFAULT 'normal', progress INTEGER NOT NULL DEFAULT 0, \
               created_at TIMESTAMP(0) WITHOUT TIME ZONE NULL, updated_at TIMESTAMP(0) WITHOUT TIME ZONE NULL); \
             CREATE INDEX {p}s_tasks_identifier_action_index ON {p}s_tasks (identifier, action); \
             CREATE INDEX {p}s_tasks_status_index ON {p}s_tasks (status); \
             CREATE INDEX {p}s_tasks_created_at_index ON {p}s_tasks (created_at); \
             INSERT INTO {p}s_workers (uuid, identifier, scope, class, active, position, settings, hidden, created_at, updated_at) \
               VALUES ('6f1c2b7e-3d4a-4f5b-9c8d-0e1f2a3b4c5d', 'legacy', 'tests', 'Tests\\Legacy', true, 1, '[]', 0, \
               '2025-01-01 10:00:00', '2025-01-01 10:00:00'); \
             INSERT INTO {p}s_tasks (identifier, action, status, priority, created_at) VALUES \
               ('a', 'x', 10, 'high', '2025-01-01 10:00:00'), ('a', 'x', 30, 'normal', '2025-01-01 10:00:00'), \
               ('a', 'x', 50, 'normal', '2025-01-01 10:00:00'), ('a', 'x', 80, 'low', '2025-01-01 10:00:00'), \
               ('a', 'x', 100, 'normal', '2025-01-01 10:00:00');"
        );
        let mut tx = self.pool.begin().await.map_err(classify)?;
        ddl(&mut tx, script).await?;
        tx.commit().await.map_err(classify)
    }

    async fn count(&self, query: &crate::engine::query::Query) -> StoreResult<i64> {
        let s = self.select_sql(query, "SELECT COUNT(*) AS n FROM ");
        Ok(self.rows(s.query(), |r| get_int(r, "n")).await?.into_iter().next().unwrap_or(0))
    }

    async fn delete(&self, query: &crate::engine::query::Query) -> StoreResult<u64> {
        let table = self.st.table(query.table);
        let mut s = PgSql::new();
        if query.limit.is_some() || !query.order.is_empty() {
            // PostgreSQL has no DELETE … LIMIT/ORDER BY: go through the ids.
            s.push("DELETE FROM ").push(table).push(" WHERE id IN (SELECT id FROM ").push(table);
            s.where_clause(query);
            s.order_limit(query, "id ASC");
            s.push(")");
        } else {
            s.push("DELETE FROM ").push(table);
            s.where_clause(query);
        }
        self.execute(s.query()).await
    }

    async fn update(
        &self,
        query: &crate::engine::query::Query,
        set: &[(&'static str, Value)],
        now: Timestamp,
    ) -> StoreResult<u64> {
        let s = update_sql(self.st.table(query.table), query, set, now);
        self.execute(s.query()).await
    }
}

/// `UPDATE … SET` for whitelisted columns, as `update_sql` in sqlite.rs: the
/// engine keeps its own claim columns (priority rank, availability) in step
/// with what the caller wrote. Values are bound by their column's type.
fn update_sql(table: &str, query: &crate::engine::query::Query, set: &[(&'static str, Value)], now: Timestamp) -> PgSql {
    let mut s = PgSql::new();
    s.push("UPDATE ").push(table).push(" SET ");
    let mut first = true;
    let mut sep = |s: &mut PgSql| {
        if !first {
            s.push(", ");
        }
        first = false;
    };
    for (col, v) in set {
        sep(&mut s);
        s.push(col).push(" = ");
        s.bind(Arg::for_column(kind_of(query.table, col), v));
    }
    let now_arg = || Arg::Time(Some(ts(&now)));
    if query.table == Table::Tasks {
        let find = |c: &str| set.iter().find(|(k, _)| *k == c).map(|(_, v)| v.clone());
        if let Some(p) = find("priority") {
            let rank = match &p {
                Value::Text(name) => Priority::rank_of_name(name),
                _ => Priority::Normal.rank(),
            };
            sep(&mut s);
            s.push("priority_rank = ");
            s.bind(Arg::Int(Some(rank)));
        }
        if let Some(start) = find("start_at") {
            sep(&mut s);
            s.push("available_at = COALESCE(");
            s.bind(Arg::for_column(Kind::Time, &start));
            s.push(", ");
            s.bind(now_arg());
            s.push(")");
        } else if find("status") == Some(Value::Int(Status::Pending.code())) {
            // Queued again by hand: due now, or at its scheduled time.
            sep(&mut s);
            s.push("available_at = CASE WHEN start_at > ");
            s.bind(now_arg());
            s.push(" THEN start_at ELSE ");
            s.bind(now_arg());
            s.push(" END, cancel_requested = false");
        }
    }
    if !set.iter().any(|(c, _)| *c == "updated_at") {
        sep(&mut s);
        s.push("updated_at = ");
        s.bind(now_arg());
    }
    if query.limit.is_some() || !query.order.is_empty() {
        s.push(" WHERE id IN (SELECT id FROM ").push(table);
        s.where_clause(query);
        s.order_limit(query, "id ASC");
        s.push(")");
    } else {
        s.where_clause(query);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::query::{Op, Query};

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
    fn values_are_bound_as_their_column_needs() {
        let time = |s: &str| Arg::Time(Some(NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()));
        assert_eq!(
            Arg::for_column(Kind::Time, &Value::Text("2025-01-02 03:04:05.123456".into())),
            time("2025-01-02 03:04:05.123456")
        );
        assert_eq!(Arg::for_column(Kind::Time, &Value::Text("2025-01-02".into())), time("2025-01-02 00:00:00"));
        assert_eq!(Arg::for_column(Kind::Time, &Value::Null), Arg::Time(None));
        assert_eq!(Arg::for_column(Kind::Int, &Value::Text(" 10 ".into())), Arg::Int(Some(10)));
        assert_eq!(Arg::for_column(Kind::Int, &Value::Null), Arg::Int(None));
        assert_eq!(Arg::for_column(Kind::Bool, &Value::Int(1)), Arg::Bool(Some(true)));
        assert_eq!(Arg::for_column(Kind::Bool, &Value::Text("0".into())), Arg::Bool(Some(false)));
        assert_eq!(Arg::for_column(Kind::Text, &Value::Int(7)), Arg::Text(Some("7".into())));
        assert_eq!(Arg::for_column(Kind::Float, &Value::Int(2)), Arg::Float(Some(2.0)));
        // Not convertible: bound as is, for PostgreSQL to refuse.
        assert_eq!(Arg::for_column(Kind::Int, &Value::Text("ten".into())), Arg::Text(Some("ten".into())));
    }

    #[test]
    fn columns_have_the_kind_of_their_schema_type() {
        assert_eq!(kind_of(Table::Tasks, "status"), Kind::Int);
        assert_eq!(kind_of(Table::Tasks, "lease_expires_at"), Kind::Time);
        assert_eq!(kind_of(Table::Tasks, "cancel_requested"), Kind::Bool);
        assert_eq!(kind_of(Table::Tasks, "duration"), Kind::Float);
        assert_eq!(kind_of(Table::Tasks, "meta"), Kind::Text);
        assert_eq!(kind_of(Table::Workers, "active"), Kind::Bool);
        assert_eq!(kind_of(Table::Workers, "hidden"), Kind::Int);
        assert_eq!(kind_of(Table::Workers, "settings"), Kind::Text);
    }

    #[test]
    fn where_values_are_typed_by_the_column_they_meet() {
        let q = Query::new(Table::Tasks)
            .where_op("created_at", Op::Ge, Value::Text("2025-01-01 00:00:00.000000".into()))
            .unwrap()
            .where_null("start_at", true)
            .unwrap()
            .where_in("status", vec![Value::Text("10".into()), Value::Int(15)], false)
            .unwrap()
            .limit(5)
            .unwrap();
        let mut s = PgSql::new();
        s.push("SELECT id FROM t").where_clause(&q).order_limit(&q, "id");
        assert_eq!(
            s.b.sql,
            "SELECT id FROM t WHERE created_at >= $1 AND start_at IS NOT NULL AND status IN ($2, $3) ORDER BY id LIMIT $4"
        );
        assert!(matches!(s.args[0], Arg::Time(Some(_))));
        assert_eq!(&s.args[1..], &[Arg::Int(Some(10)), Arg::Int(Some(15)), Arg::Int(Some(5))]);
    }

    #[test]
    fn requeueing_by_hand_makes_the_task_due_and_clears_a_cancel() {
        let q = Query::new(Table::Tasks).where_eq("id", Value::Int(3)).unwrap();
        let now = chrono::Utc::now();
        let s = update_sql("t", &q, &[("status", Value::Int(10)), ("priority", Value::Text("high".into()))], now);
        assert_eq!(
            s.b.sql,
            "UPDATE t SET status = $1, priority = $2, priority_rank = $3, available_at = CASE WHEN start_at > $4 \
             THEN start_at ELSE $5 END, cancel_requested = false, updated_at = $6 WHERE id = $7"
        );
        assert_eq!(s.args[2], Arg::Int(Some(1)));
        assert_eq!(s.args.len(), 7);
        let ordered = q.clone().order_by("id", crate::engine::query::Dir::Desc).unwrap().limit(1).unwrap();
        let s = update_sql("t", &ordered, &[("progress", Value::Int(5))], now);
        assert!(s.b.sql.ends_with("WHERE id IN (SELECT id FROM t WHERE id = $3 ORDER BY id DESC LIMIT $4)"), "{}", s.b.sql);
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

    #[test]
    fn the_channel_and_tables_carry_the_prefix() {
        let st = Statements::new("evo_");
        assert_eq!(st.channel, "evo_stask_tasks");
        assert!(st.claim.contains("FOR UPDATE SKIP LOCKED"));
        assert!(st.insert_task.contains("INSERT INTO evo_s_tasks"));
        assert!(!st.get_task.contains('*'), "reads list their columns");
    }
}
