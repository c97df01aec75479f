//! The store, written once: every `Store` method over the shared statements
//! and a small execution seam (`Backend`) that each dialect implements.
//! A backend overrides only what truly differs (claim, insert many, finish
//! a batch, migrate, wait/notify), each with a comment saying why. Every
//! call goes through one busy/deadlock retry policy (`retry_busy`).

use super::dialect::{Arg, Stmt};
use super::rows::{self, Decode, RowRead};
use super::sql::SqlBuilder;
use super::statements::Statements;
use super::*;
use crate::engine::task::Priority;

/// What an executed statement did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Done {
    pub rows: u64,
    /// The AUTO_INCREMENT id of an insert, where the dialect reports one.
    pub last_id: i64,
}

/// The execution seam a dialect implements: statements in, decoded rows
/// out, plus the operations whose SQL or round trips differ by dialect.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Runs one statement to its end and decodes every row with `f`.
    async fn query<T: Send + 'static>(&self, sql: &str, args: &[Arg<'_>], f: Decode<T>) -> StoreResult<Vec<T>>;
    async fn execute(&self, sql: &str, args: &[Arg<'_>]) -> StoreResult<Done>;

    async fn migrate(&self, st: &Statements) -> StoreResult<()>;
    /// Claims up to `p.limit` due tasks (any order; the caller sorts).
    async fn claim(&self, st: &Statements, p: &TaskClaimParams) -> StoreResult<Vec<TaskRow>>;
    async fn explain_claim(&self, st: &Statements) -> StoreResult<String>;
    async fn insert_many(&self, st: &Statements, p: &TaskInsertManyParams<'_>) -> StoreResult<Vec<Created>>;
    async fn finish_many(&self, st: &Statements, outcomes: &[Outcome], now: Timestamp) -> StoreResult<Vec<Finished>>;

    /// Claims one given task; `UPDATE … RETURNING` where the dialect has it.
    async fn claim_id(&self, st: &Statements, args: &[(&str, Arg<'_>)]) -> StoreResult<Option<TaskRow>> {
        Ok(self.query(&st.claim_id.sql, &st.claim_id.bind(args), rows::task).await?.into_iter().next())
    }

    /// Deletes completed tasks finished before `before`; `DELETE …
    /// RETURNING` where the dialect has it.
    async fn delete_completed(&self, st: &Statements, before: Timestamp) -> StoreResult<Vec<i64>> {
        self.query(&st.delete_completed.sql, &st.delete_completed.bind(&[("before", Arg::time(&before))]), rows::id).await
    }

    fn supports_listen(&self) -> bool {
        false
    }

    async fn wait(&self, _st: &Statements, max: std::time::Duration) -> StoreResult<bool> {
        tokio::time::sleep(max).await;
        Ok(false)
    }

    async fn refresh_statistics(&self, _st: &Statements, _min_changes: i64, _fraction: f64) -> StoreResult<bool> {
        Ok(false)
    }
}

pub struct SqlStore<B: Backend> {
    pub(super) b: B,
    pub(super) st: Statements,
}

impl<B: Backend> SqlStore<B> {
    pub fn new(b: B, st: Statements) -> Self {
        SqlStore { b, st }
    }

    async fn rows<T: Send + 'static>(&self, s: &Stmt, args: &[(&str, Arg<'_>)], f: Decode<T>) -> StoreResult<Vec<T>> {
        let args = s.bind(args);
        retry_busy(|| self.b.query(&s.sql, &args, f)).await
    }

    async fn first<T: Send + 'static>(&self, s: &Stmt, args: &[(&str, Arg<'_>)], f: Decode<T>) -> StoreResult<Option<T>> {
        Ok(self.rows(s, args, f).await?.into_iter().next())
    }

    async fn exec(&self, s: &Stmt, args: &[(&str, Arg<'_>)]) -> StoreResult<Done> {
        let args = s.bind(args);
        retry_busy(|| self.b.execute(&s.sql, &args)).await
    }

    async fn built<T: Send + 'static>(&self, b: &SqlBuilder, f: Decode<T>) -> StoreResult<Vec<T>> {
        retry_busy(|| self.b.query(&b.sql, &b.args, f)).await
    }

    async fn built_exec(&self, b: &SqlBuilder) -> StoreResult<u64> {
        Ok(retry_busy(|| self.b.execute(&b.sql, &b.args)).await?.rows)
    }

    fn select(&self, q: &Query, columns: &str) -> SqlBuilder {
        let mut b = SqlBuilder::new(self.st.d);
        b.push("SELECT ").push(columns).push(" FROM ").push(self.st.table(q.table)).where_clause(q);
        b
    }
}

/// A new task's named arguments (`insert_task`, `insert_scheduled`).
fn task_args<'a>(t: &'a NewTask, now: &Timestamp, available: &Timestamp, channel: &'a str) -> [(&'static str, Arg<'a>); 16] {
    [
        ("identifier", Arg::text(&t.identifier)),
        ("action", Arg::text(&t.action)),
        ("status", Arg::int(t.status.code())),
        ("message", Arg::opt_text(&t.message)),
        ("started_by", Arg::Int(t.started_by)),
        ("meta", Arg::opt_text(&t.meta)),
        ("result", Arg::opt_text(&t.result)),
        ("start_at", Arg::Time(t.start_at)),
        ("max_attempts", Arg::int(t.max_attempts)),
        ("priority", Arg::text(t.priority.name())),
        ("priority_rank", Arg::int(t.priority.rank())),
        ("progress", Arg::int(t.progress)),
        ("now", Arg::time(now)),
        ("available_at", Arg::time(available)),
        ("unique_key", Arg::opt_text(&t.unique_key)),
        ("channel", Arg::text(channel)),
    ]
}

/// A process row's named arguments (`now` is its heartbeat).
fn process_args(p: &ProcessRow) -> [(&'static str, Arg<'_>); 8] {
    [
        ("started", Arg::time(&p.started_at)),
        ("owner", Arg::text(&p.owner)),
        ("host", Arg::text(&p.host)),
        ("pid", Arg::int(p.pid)),
        ("version", Arg::text(&p.version)),
        ("now", Arg::time(&p.heartbeat_at)),
        ("done", Arg::int(p.tasks_done)),
        ("current", Arg::Int(p.current_task)),
    ]
}

fn worker_args<'a>(info: &'a WorkerInfo, now: &Timestamp) -> [(&'static str, Arg<'a>); 7] {
    [
        ("identifier", Arg::text(&info.identifier)),
        ("scope", Arg::text(&info.scope)),
        ("class", Arg::text(&info.class)),
        ("title", Arg::text(&info.title)),
        ("description", Arg::text(&info.description)),
        ("icon", Arg::text(&info.icon)),
        ("now", Arg::time(now)),
    ]
}

#[async_trait]
impl<B: Backend> Store for SqlStore<B> {
    fn supports_listen(&self) -> bool {
        self.b.supports_listen()
    }

    async fn task_wait(&self, max: std::time::Duration) -> StoreResult<bool> {
        self.b.wait(&self.st, max).await
    }

    async fn migrate(&self) -> StoreResult<()> {
        retry_busy(|| self.b.migrate(&self.st)).await
    }

    async fn task_insert(&self, t: &NewTask, now: Timestamp) -> StoreResult<TaskRow> {
        let available = available_at(t, now);
        let args = task_args(t, &now, &available, &self.st.channel);
        let id = if self.st.d.returning {
            let id = self.first(&self.st.insert_task, &args, rows::id).await?;
            id.ok_or_else(|| StoreError::new(StoreErrorKind::Other, "an insert returned no id"))?
        } else {
            self.exec(&self.st.insert_task, &args).await?.last_id
        };
        Ok(t.row(id, now, available))
    }

    async fn task_insert_many(&self, p: &TaskInsertManyParams<'_>) -> StoreResult<Vec<Created>> {
        if p.tasks.is_empty() {
            return Ok(Vec::new());
        }
        retry_busy(|| self.b.insert_many(&self.st, p)).await
    }

    async fn task_get(&self, id: i64) -> StoreResult<Option<TaskRow>> {
        self.first(&self.st.get_task, &[("id", Arg::int(id))], rows::task).await
    }

    async fn task_select(&self, q: &Query) -> StoreResult<Vec<TaskRow>> {
        let mut b = self.select(q, &self.st.task_columns);
        b.order_limit(q, "id ASC");
        self.built(&b, rows::task).await
    }

    async fn task_claim(&self, p: &TaskClaimParams) -> StoreResult<Vec<TaskRow>> {
        if p.limit <= 0 {
            return Ok(Vec::new());
        }
        let mut tasks = retry_busy(|| self.b.claim(&self.st, p)).await?;
        // Highest priority, then oldest: RETURNING order is not defined.
        tasks.sort_by_key(|t| (Priority::rank_of_name(&t.priority), t.id));
        Ok(tasks)
    }

    async fn task_claim_id(&self, id: i64, p: &TaskClaimParams) -> StoreResult<Option<TaskRow>> {
        let args = [
            ("now", Arg::time(&p.now)),
            ("owner", Arg::text(&p.owner)),
            ("lease", Arg::time(&p.lease_expires_at)),
            ("id", Arg::int(id)),
        ];
        retry_busy(|| self.b.claim_id(&self.st, &args)).await
    }

    async fn explain_claim(&self) -> StoreResult<String> {
        self.b.explain_claim(&self.st).await
    }

    async fn refresh_statistics(&self, min_changes: i64, fraction: f64) -> StoreResult<bool> {
        retry_busy(|| self.b.refresh_statistics(&self.st, min_changes, fraction)).await
    }

    async fn task_finish_many(&self, outcomes: &[Outcome], now: Timestamp) -> StoreResult<Vec<Finished>> {
        if outcomes.is_empty() {
            return Ok(Vec::new());
        }
        retry_busy(|| self.b.finish_many(&self.st, outcomes, now)).await
    }

    async fn task_extend_leases(&self, p: &LeaseExtendParams) -> StoreResult<u64> {
        if p.ids.is_empty() {
            return Ok(0);
        }
        // Heartbeat: only rows this owner still holds; a lease lost to the
        // rescuer stays lost.
        let mut b = SqlBuilder::new(self.st.d);
        b.push("UPDATE ").push(&self.st.tasks).push(" SET lease_expires_at = ").bind(Arg::Time(Some(p.expires_at)));
        b.push(" WHERE status IN (15, 20) AND lease_owner = ").bind(Arg::Text(Some(p.owner.clone().into())));
        b.push(" AND ").ids("id", &p.ids);
        self.built_exec(&b).await
    }

    async fn task_select_expired(&self, now: Timestamp, after_id: i64, limit: i64) -> StoreResult<Vec<TaskRow>> {
        let args = [("now", Arg::time(&now)), ("after", Arg::int(after_id)), ("limit", Arg::int(limit))];
        self.rows(&self.st.select_expired, &args, rows::task).await
    }

    async fn task_rescue(&self, p: &RescueParams) -> StoreResult<bool> {
        let (now, message, id) = (("now", Arg::time(&p.now)), ("message", Arg::text(&p.message)), ("id", Arg::int(p.id)));
        let done = match &p.to {
            Rescue::Retry { available_at } => {
                self.exec(&self.st.rescue_retry, &[("available_at", Arg::time(available_at)), message, now, id]).await?
            }
            Rescue::Fail => self.exec(&self.st.rescue_fail, &[message, now, id]).await?,
        };
        Ok(done.rows == 1)
    }

    async fn task_progress(&self, p: &TaskProgressParams) -> StoreResult<Option<ProgressAck>> {
        let args = [
            ("progress", Arg::int(p.progress)),
            ("message", Arg::text(&p.message)),
            ("snapshot", Arg::text(&p.snapshot)),
            ("now", Arg::time(&p.now)),
            ("id", Arg::int(p.id)),
        ];
        let ack = |r: &dyn RowRead| Ok(ProgressAck { status: r.req_int(0)?, cancel_requested: r.bool(1)? });
        if self.st.d.returning {
            return self.first(&self.st.progress, &args, ack).await;
        }
        // No RETURNING: what the row says right after.
        self.exec(&self.st.progress, &args).await?;
        self.first(&self.st.progress_ack, &args[4..], ack).await
    }

    async fn task_cancel(&self, id: i64, now: Timestamp) -> StoreResult<CancelOutcome> {
        let args = [("now", Arg::time(&now)), ("id", Arg::int(id))];
        if self.exec(&self.st.cancel_pending, &args).await?.rows == 1 {
            return Ok(CancelOutcome::Cancelled);
        }
        if self.exec(&self.st.cancel_running, &args).await?.rows == 1 {
            return Ok(CancelOutcome::Requested);
        }
        Ok(match self.first(&self.st.status_of, &args[1..], rows::id).await? {
            Some(s) => CancelOutcome::NotCancellable(s),
            None => CancelOutcome::NotFound,
        })
    }

    async fn task_retry(&self, id: i64, now: Timestamp) -> StoreResult<bool> {
        let args = [("now", Arg::time(&now)), ("id", Arg::int(id)), ("channel", Arg::text(&self.st.channel))];
        if self.st.d.notify {
            return Ok(!self.rows(&self.st.retry, &args, rows::id).await?.is_empty());
        }
        Ok(self.exec(&self.st.retry, &args).await?.rows == 1)
    }

    async fn task_delete_completed_before(&self, before: Timestamp) -> StoreResult<Vec<i64>> {
        retry_busy(|| self.b.delete_completed(&self.st, before)).await
    }

    async fn task_count_by_status(&self) -> StoreResult<Vec<(i64, i64)>> {
        self.rows(&self.st.count_by_status, &[], rows::int_pair).await
    }

    async fn task_summary(&self, since: Timestamp) -> StoreResult<TaskSummaryRow> {
        Ok(self.first(&self.st.summary, &[("since", Arg::time(&since))], rows::summary).await?.unwrap_or_default())
    }

    async fn task_worker_stats(&self, since: Timestamp, identifier: Option<&str>) -> StoreResult<Vec<WorkerStatsRow>> {
        let row = |r: &dyn RowRead| {
            Ok(WorkerStatsRow { identifier: r.req_text(0)?, summary: rows::summary_at(r, 1)?, last_execution: r.time(10)? })
        };
        match identifier {
            Some(i) => {
                let args = [("since", Arg::time(&since)), ("identifier", Arg::text(i))];
                self.rows(&self.st.worker_stats_one, &args, row).await
            }
            None => self.rows(&self.st.worker_stats_all, &[("since", Arg::time(&since))], row).await,
        }
    }

    async fn task_common_errors(&self, since: Timestamp, limit: i64) -> StoreResult<Vec<(String, i64)>> {
        let args = [("since", Arg::time(&since)), ("limit", Arg::int(limit))];
        self.rows(&self.st.common_errors, &args, |r| Ok((r.req_text(0)?, r.req_int(1)?))).await
    }

    async fn task_timeline(&self, since: Timestamp) -> StoreResult<Vec<TimelineRow>> {
        let args = [("since", Arg::time(&since)), ("floor", Arg::Time(Some(timeline_created_floor(since))))];
        Ok(self.rows(&self.st.timeline, &args, rows::timeline).await?.into_iter().flatten().collect())
    }

    async fn task_latest_per_identifier(&self) -> StoreResult<Vec<TaskRow>> {
        self.rows(&self.st.latest_per_identifier, &[], rows::task).await
    }

    async fn task_counters(&self, now: Timestamp) -> StoreResult<Vec<IdentifierCounters>> {
        self.rows(&self.st.counters, &[("now", Arg::time(&now))], rows::counters).await
    }

    async fn worker_select(&self, q: &Query) -> StoreResult<Vec<WorkerRow>> {
        let mut b = self.select(q, &self.st.worker_columns);
        b.order_limit(q, &format!("position ASC, identifier{} ASC", self.st.d.byte_order));
        self.built(&b, rows::worker).await
    }

    async fn worker_get(&self, identifier: &str) -> StoreResult<Option<WorkerRow>> {
        self.first(&self.st.worker_get, &[("identifier", Arg::text(identifier))], rows::worker).await
    }

    async fn worker_insert(&self, info: &WorkerInfo, now: Timestamp) -> StoreResult<Option<WorkerRow>> {
        match self.exec(&self.st.worker_insert, &worker_args(info, &now)).await {
            Ok(done) if done.rows == 1 => self.worker_get(&info.identifier).await,
            Ok(_) => Ok(None),
            Err(e) if e.kind() == StoreErrorKind::Conflict => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn worker_update_info(&self, id: i64, info: &WorkerInfo, now: Timestamp) -> StoreResult<bool> {
        let mut args = worker_args(info, &now).to_vec();
        args.push(("id", Arg::int(id)));
        // Rows matched, not changed (sqlx asks MySQL for CLIENT_FOUND_ROWS),
        // so an identical refresh still answers true.
        Ok(self.exec(&self.st.worker_update_info, &args).await?.rows == 1)
    }

    async fn worker_counts(&self) -> StoreResult<(i64, i64)> {
        Ok(self.first(&self.st.worker_counts, &[], rows::int_pair).await?.unwrap_or((0, 0)))
    }

    async fn leader_acquire(&self, name: &str, owner: &str, until: Timestamp, now: Timestamp) -> StoreResult<bool> {
        let args =
            [("name", Arg::text(name)), ("owner", Arg::text(owner)), ("until", Arg::time(&until)), ("now", Arg::time(&now))];
        if self.st.d.upsert {
            return Ok(!self.rows(&self.st.leader_upsert, &args, |r| r.req_text(0)).await?.is_empty());
        }
        if self.exec(&self.st.leader_renew, &args).await?.rows == 1 {
            return Ok(true);
        }
        match self.exec(&self.st.leader_insert, &args).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == StoreErrorKind::Conflict => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn task_insert_scheduled(&self, t: &NewTask, slot: &str, now: Timestamp) -> StoreResult<Option<i64>> {
        let available = available_at(t, now);
        let mut args = task_args(t, &now, &available, &self.st.channel).to_vec();
        args.push(("slot", Arg::text(slot)));
        let inserted = if self.st.d.returning {
            self.first(&self.st.insert_scheduled, &args, rows::id).await
        } else {
            self.exec(&self.st.insert_scheduled, &args).await.map(|d| Some(d.last_id))
        };
        match inserted {
            Err(e) if e.kind() == StoreErrorKind::Conflict => Ok(None),
            other => other,
        }
    }

    async fn schedule_states(&self) -> StoreResult<Vec<ScheduleState>> {
        let row = |r: &dyn RowRead| {
            Ok(ScheduleState {
                identifier: r.req_text(0)?,
                evaluated_at: r.time(1)?.unwrap_or_else(crate::engine::time::now),
                last_slot: r.text(2)?,
                last_task_id: r.int(3)?,
            })
        };
        self.rows(&self.st.schedule_states, &[], row).await
    }

    async fn schedule_record(&self, identifier: &str, now: Timestamp, created: Option<(&str, i64)>) -> StoreResult<()> {
        let args = [
            ("identifier", Arg::text(identifier)),
            ("now", Arg::time(&now)),
            ("slot", Arg::Text(created.map(|(s, _)| s.into()))),
            ("task", Arg::Int(created.map(|(_, id)| id))),
        ];
        for _ in 0..2 {
            if self.exec(&self.st.schedule_touch, &args).await?.rows == 1 {
                return Ok(());
            }
            match self.exec(&self.st.schedule_insert, &args).await {
                Err(e) if e.kind() == StoreErrorKind::Conflict => continue,
                other => return other.map(|_| ()),
            }
        }
        Ok(())
    }

    async fn process_register(&self, p: &ProcessRow) -> StoreResult<()> {
        // Delete then insert: one path on every dialect, and a row left by
        // an earlier engine with this owner (a reused pid) is replaced.
        self.process_remove(&p.owner).await?;
        self.exec(&self.st.process_insert, &process_args(p)).await.map(|_| ())
    }

    async fn process_beat(&self, p: &ProcessRow) -> StoreResult<bool> {
        Ok(self.exec(&self.st.process_beat, &process_args(p)).await?.rows == 1)
    }

    async fn process_remove(&self, owner: &str) -> StoreResult<()> {
        self.exec(&self.st.process_delete, &[("owner", Arg::text(owner))]).await.map(|_| ())
    }

    async fn processes(&self) -> StoreResult<Vec<ProcessRow>> {
        let row = |r: &dyn RowRead| {
            let now = crate::engine::time::now;
            Ok(ProcessRow {
                owner: r.req_text(0)?,
                host: r.req_text(1)?,
                pid: r.req_int(2)?,
                version: r.req_text(3)?,
                started_at: r.time(4)?.unwrap_or_else(now),
                heartbeat_at: r.time(5)?.unwrap_or_else(now),
                tasks_done: r.req_int(6)?,
                current_task: r.int(7)?,
            })
        };
        self.rows(&self.st.process_list, &[], row).await
    }

    async fn process_expire(&self, before: Timestamp) -> StoreResult<u64> {
        Ok(self.exec(&self.st.process_expire, &[("before", Arg::time(&before))]).await?.rows)
    }

    async fn attempt_insert_many(&self, attempts: &[AttemptRow]) -> StoreResult<()> {
        // One statement each: only attempts that went wrong are kept, so
        // these are few, and a batch of them is rare.
        for a in attempts {
            let args = [
                ("task_id", Arg::int(a.task_id)),
                ("attempt", Arg::int(a.attempt)),
                ("started_at", Arg::Time(a.started_at)),
                ("finished_at", Arg::time(&a.finished_at)),
                ("duration", Arg::Float(a.duration)),
                ("peak_memory", Arg::Int(a.peak_memory)),
                ("owner", Arg::opt_text(&a.owner)),
                ("outcome", Arg::text(&a.outcome)),
                ("error_class", Arg::opt_text(&a.error_class)),
                ("message", Arg::opt_text(&a.message)),
                ("trace", Arg::opt_text(&a.trace)),
            ];
            self.exec(&self.st.attempt_insert, &args).await?;
        }
        Ok(())
    }

    async fn attempts_of(&self, task_id: i64) -> StoreResult<Vec<AttemptRow>> {
        let row = |r: &dyn RowRead| {
            Ok(AttemptRow {
                task_id: r.req_int(0)?,
                attempt: r.req_int(1)?,
                started_at: r.time(2)?,
                finished_at: r.time(3)?.unwrap_or_else(crate::engine::time::now),
                duration: r.float(4)?,
                peak_memory: r.int(5)?,
                owner: r.text(6)?,
                outcome: r.req_text(7)?,
                error_class: r.text(8)?,
                message: r.text(9)?,
                trace: r.text(10)?,
            })
        };
        self.rows(&self.st.attempts_of, &[("task_id", Arg::int(task_id))], row).await
    }

    async fn attempts_delete_before(&self, before: Timestamp) -> StoreResult<u64> {
        Ok(self.exec(&self.st.attempts_delete_before, &[("before", Arg::time(&before))]).await?.rows)
    }

    #[cfg(feature = "test-support")]
    async fn drop_tables(&self) -> StoreResult<()> {
        let st = &self.st;
        for table in [&st.tasks, &st.workers, &st.leaders, &st.schedules, &st.processes, &st.attempts] {
            self.b.execute(&format!("DROP TABLE IF EXISTS {table}"), &[]).await?;
        }
        Ok(())
    }

    async fn count(&self, q: &Query) -> StoreResult<i64> {
        Ok(self.built(&self.select(q, "COUNT(*) AS n"), rows::id).await?.into_iter().next().unwrap_or(0))
    }

    async fn delete(&self, q: &Query) -> StoreResult<u64> {
        let table = self.st.table(q.table);
        let mut b = SqlBuilder::new(self.st.d);
        b.push("DELETE FROM ").push(table).limited_where(table, q);
        self.built_exec(&b).await
    }

    async fn update(&self, q: &Query, set: &[(&'static str, Value)], now: Timestamp) -> StoreResult<u64> {
        let mut b = SqlBuilder::new(self.st.d);
        b.update(self.st.table(q.table), q, set, now);
        self.built_exec(&b).await
    }
}

/// The statement of one outcome's edge, with its arguments.
pub fn finish_stmt<'a>(st: &'a Statements, o: &'a Outcome, now: &Timestamp) -> (&'a Stmt, Vec<(&'static str, Arg<'a>)>) {
    let now = ("now", Arg::time(now));
    let spent = |duration: &f64, peak: &i64| [("duration", Arg::Float(Some(*duration))), ("peak_memory", Arg::int(*peak))];
    let (s, mut args) = match o {
        Outcome::Completed { message, duration, peak_memory, .. } => {
            let mut a = vec![("message", Arg::text(message)), now];
            a.extend(spent(duration, peak_memory));
            (&st.finish_completed, a)
        }
        Outcome::Retry { message, error, available_at, duration, peak_memory, .. } => {
            let mut a =
                vec![("message", Arg::text(message)), ("error", Arg::text(error)), ("available_at", Arg::time(available_at))];
            a.extend(spent(duration, peak_memory));
            a.push(now);
            (&st.finish_retry, a)
        }
        Outcome::Failed { message, error, duration, peak_memory, .. } => {
            let mut a = vec![("message", Arg::text(message)), ("error", Arg::text(error)), now];
            a.extend(spent(duration, peak_memory));
            (&st.finish_failed, a)
        }
        Outcome::Cancelled { message, duration, peak_memory, .. } => {
            let mut a = vec![("message", Arg::text(message)), now];
            a.extend(spent(duration, peak_memory));
            (&st.finish_cancelled, a)
        }
        Outcome::Released { message, available_at, .. } => {
            (&st.finish_released, vec![("message", Arg::text(message)), ("available_at", Arg::time(available_at)), now])
        }
    };
    args.push(("id", Arg::int(o.id())));
    (s, args)
}

/// A multi-row `INSERT … VALUES` of `tasks` (SQLite, MySQL), `tail`
/// appended, with their values borrowed from the tasks: a batch of 100,000
/// rows should not copy every data document once more on its way out.
pub fn insert_values<'a>(table: &str, tasks: &'a [NewTask], now: Timestamp, tail: &str) -> (String, Vec<Arg<'a>>) {
    let row = "(?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)";
    let sql = format!("INSERT INTO {table} ({TASK_INSERT_COLUMNS}) VALUES {}{tail}", vec![row; tasks.len()].join(", "));
    let mut args = Vec::with_capacity(tasks.len() * TASK_INSERT_PARAMS);
    for t in tasks {
        args.extend([
            Arg::text(&t.identifier),
            Arg::text(&t.action),
            Arg::int(t.status.code()),
            Arg::opt_text(&t.message),
            Arg::Int(t.started_by),
            Arg::opt_text(&t.meta),
            Arg::opt_text(&t.result),
            Arg::Time(t.start_at),
            Arg::int(t.max_attempts),
            Arg::text(t.priority.name()),
            Arg::int(t.priority.rank()),
            Arg::int(t.progress),
            Arg::time(&now),
            Arg::time(&now),
            Arg::Time(Some(available_at(t, now))),
            Arg::opt_text(&t.unique_key),
        ]);
    }
    (sql, args)
}

/// The claim's arguments: now, owner, lease end, limit and the cursor.
pub fn claim_args(p: &TaskClaimParams) -> [(&'static str, Arg<'_>); 6] {
    [
        ("now", Arg::time(&p.now)),
        ("owner", Arg::text(&p.owner)),
        ("lease", Arg::time(&p.lease_expires_at)),
        ("limit", Arg::int(p.limit)),
        ("rank", Arg::int(p.after.0)),
        ("after", Arg::int(p.after.1)),
    ]
}

/// The outcomes' final states in the outcomes' order, as every backend
/// answers.
pub fn in_outcome_order(outcomes: &[Outcome], states: Vec<Finished>) -> Vec<Finished> {
    outcomes.iter().filter_map(|o| states.iter().find(|f| f.id == o.id()).cloned()).collect()
}
