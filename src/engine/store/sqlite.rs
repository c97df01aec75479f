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

use super::dialect::{Arg, Dialect, Stmt};
use super::generic::{claim_args, finish_stmt, insert_values, Backend, Done, SqlStore};
use super::rows::{self, Decode, RowRead};
use super::statements::Statements;
use super::*;
use crate::engine::time;
use parking_lot::Mutex;
use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{params, Connection, Row, ToSql, TransactionBehavior};
use std::path::Path;
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
    ("schedule_slot", "VARCHAR(32) NULL"),
];

/// Bound parameters per statement: SQLite's `SQLITE_MAX_VARIABLE_NUMBER`
/// since 3.32 (the bundled library is newer), so a multi-row insert takes
/// 32766 / 16 = 2047 rows.
const SQLITE_MAX_VARIABLES: usize = 32766;

pub struct Sqlite {
    conn: Mutex<Connection>,
    claim: Stmt,
}

pub type SqliteStore = SqlStore<Sqlite>;

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

/// Timestamps are stored as the engine's fixed-width text (`time::to_db`),
/// booleans as 0 and 1.
impl ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        let null = ToSqlOutput::Owned(SqlValue::Null);
        Ok(match self {
            Arg::Int(v) => v.map_or(null, |i| ToSqlOutput::Owned(SqlValue::Integer(i))),
            Arg::Bool(v) => v.map_or(null, |b| ToSqlOutput::Owned(SqlValue::Integer(b as i64))),
            Arg::Float(v) => v.map_or(null, |f| ToSqlOutput::Owned(SqlValue::Real(f))),
            Arg::Text(Some(s)) => text_ref(s),
            Arg::Text(None) => null,
            Arg::Time(v) => v.map_or(null, |t| ToSqlOutput::Owned(SqlValue::Text(time::to_db(&t)))),
        })
    }
}

/// A bound text the caller keeps (no copy).
fn text_ref(s: &str) -> ToSqlOutput<'_> {
    ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))
}

struct SqliteRow<'a, 'b>(&'a Row<'b>);

impl RowRead for SqliteRow<'_, '_> {
    fn int(&self, i: usize) -> StoreResult<Option<i64>> {
        self.0.get(i).map_err(classify)
    }

    fn float(&self, i: usize) -> StoreResult<Option<f64>> {
        self.0.get(i).map_err(classify)
    }

    fn text(&self, i: usize) -> StoreResult<Option<String>> {
        self.0.get(i).map_err(classify)
    }

    fn time(&self, i: usize) -> StoreResult<Option<Timestamp>> {
        Ok(self.text(i)?.as_deref().and_then(time::from_db))
    }
}

/// Every row of a statement, the statement stepped to its end. SQLite runs
/// its automatic WAL checkpoint only when an autocommit statement steps to
/// SQLITE_DONE; reading only the first row of an `INSERT … RETURNING`
/// left the WAL unchecked: 448 MB after 20,000 creates, every read slower
/// for it (test `sqlite_wal_is_checkpointed_between_single_writes`).
fn run<T>(conn: &Connection, sql: &str, args: &[Arg<'_>], f: Decode<T>) -> StoreResult<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql).map_err(classify)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(args.iter())).map_err(classify)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(classify)? {
        out.push(f(&SqliteRow(r))?);
    }
    Ok(out)
}

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

impl SqlStore<Sqlite> {
    /// Opens (creating the file and folder) and migrates.
    pub async fn connect(path: &Path, prefix: &str) -> StoreResult<SqliteStore> {
        if let Some(dir) = path.parent() {
            if let Err(e) = std::fs::create_dir_all(dir) {
                return Err(StoreError::new(StoreErrorKind::Unavailable, e));
            }
        }
        let mut conn = open(path).map_err(classify)?;
        migrate_on(&mut conn, prefix)?;
        let st = Statements::new(Dialect::SQLITE, prefix);
        let (t, tc) = (&st.tasks, &st.task_columns);
        // Edge Claimed. Single writer: the subquery and the update are one
        // atomic statement, so no row is claimed twice and the outer WHERE
        // needs only the ids. It must not repeat `status = 10`: SQLite then
        // plans the outer loop as a search of the claim index over every
        // pending row, testing each against the id list (cost grows with
        // the backlog); with ids alone it is one rowid lookup per id
        // (tests/store.rs reads the plan).
        let claim = st.d.stmt(&format!(
            "UPDATE {t} SET status = 20, attempts = attempts + 1, started_at = :now, updated_at = :now, \
             lease_owner = :owner, lease_expires_at = :lease, cancel_requested = false \
             WHERE id IN (SELECT id FROM {t} WHERE status = 10 AND (priority_rank, id) > (:rank, :after) AND \
             (available_at IS NULL OR available_at <= :now) ORDER BY priority_rank, id LIMIT :limit) RETURNING {tc}"
        ));
        Ok(SqlStore::new(Sqlite { conn: Mutex::new(conn), claim }, st))
    }
}

/// The futures never await: each runs its statement on the calling thread.
#[async_trait]
impl Backend for Sqlite {
    async fn query<T: Send + 'static>(&self, sql: &str, args: &[Arg<'_>], f: Decode<T>) -> StoreResult<Vec<T>> {
        run(&self.conn.lock(), sql, args, f)
    }

    async fn execute(&self, sql: &str, args: &[Arg<'_>]) -> StoreResult<Done> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare_cached(sql).map_err(classify)?;
        let rows = stmt.execute(rusqlite::params_from_iter(args.iter())).map_err(classify)? as u64;
        Ok(Done { rows, last_id: conn.last_insert_rowid() })
    }

    async fn migrate(&self, st: &Statements) -> StoreResult<()> {
        migrate_on(&mut self.conn.lock(), &st.prefix)
    }

    async fn claim(&self, _st: &Statements, p: &TaskClaimParams) -> StoreResult<Vec<TaskRow>> {
        run(&self.conn.lock(), &self.claim.sql, &self.claim.bind(&claim_args(p)), rows::task)
    }

    async fn explain_claim(&self, _st: &Statements) -> StoreResult<String> {
        let sql = format!("EXPLAIN QUERY PLAN {}", self.claim.sql);
        let p = TaskClaimParams::explain();
        let lines = run(&self.conn.lock(), &sql, &self.claim.bind(&claim_args(&p)), |r| r.req_text(3))?;
        Ok(lines.join("\n"))
    }

    async fn insert_many(&self, st: &Statements, p: &TaskInsertManyParams<'_>) -> StoreResult<Vec<Created>> {
        let mut conn = self.conn.lock();
        // IMMEDIATE: the write lock first, so the batch never fails half-way
        // on a writer that came in between (busy_timeout waits for it), and
        // nothing changes under the key lookup below.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(classify)?;
        let mut ids: Vec<Option<i64>> = Vec::with_capacity(p.tasks.len());
        for chunk in insert_chunks(p.tasks, SQLITE_MAX_VARIABLES / TASK_INSERT_PARAMS, INSERT_CHUNK_BYTES) {
            let tasks = &p.tasks[chunk];
            // Conflicts on the unique index are skipped, not failed: the
            // RETURNING rows are paired with the tasks (`match_returned`).
            // Built per size; the statement cache keeps the sizes in use.
            let tail = " ON CONFLICT DO NOTHING RETURNING id, unique_key";
            let (sql, args) = insert_values(&st.tasks, tasks, p.now, tail);
            let returned = run(&tx, &sql, &args, rows::id_key)?;
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
                st.tasks,
                vec!["?"; keys.len()].join(", ")
            );
            let args: Vec<Arg<'_>> = keys.iter().map(|k| Arg::text(k)).collect();
            for (id, key) in run(&tx, &sql, &args, rows::id_key)? {
                holders.insert(key.unwrap_or_default(), id);
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

    /// One statement per task in one IMMEDIATE transaction: each finish
    /// returns the row's state; a guarded one that left the row alone (the
    /// worker decided itself) returns nothing, and the state is read.
    async fn finish_many(&self, st: &Statements, outcomes: &[Outcome], now: Timestamp) -> StoreResult<Vec<Finished>> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(classify)?;
        let mut finished = Vec::with_capacity(outcomes.len());
        for o in outcomes {
            let (s, args) = finish_stmt(st, o, &now);
            let mut f = run(&tx, &s.sql, &s.bind(&args), rows::finished)?;
            if f.is_empty() {
                f = run(&tx, &st.state_of.sql, &st.state_of.bind(&[("id", Arg::int(o.id()))]), rows::finished)?;
            }
            finished.extend(f);
        }
        tx.commit().map_err(classify)?;
        Ok(finished)
    }
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
    for stmt in migration_statements(MIGRATION_TABLES, p) {
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
        tx.execute_batch(&convert_legacy_rows(&format!("{p}s_tasks"), "")).map_err(classify)?;
    }
    for stmt in migration_statements(MIGRATION_INDEXES, p) {
        tx.execute_batch(&stmt).map_err(classify)?;
    }
    tx.commit().map_err(classify)
}
