//! The engine's behaviour suite. Each behaviour is written once as
//! `async fn name(h: &Harness)`; `conformance!` turns the list into one
//! test per backend: `sqlite::name` (a fresh file), `postgres::name` and
//! `mariadb::name` (fresh tables under a table prefix of their own, dropped
//! when the test passes, kept for a look when it fails). Server URLs come
//! from `STASK_TEST_PG_URL` and `STASK_TEST_MYSQL_URL` (defaults: this
//! machine's servers); an unreachable server fails the test, never skips it.

use stask::engine::config::{Dsn, Settings};
use stask::engine::progress::ProgressDelta;
use stask::engine::query::{Query, Table, Value};
use stask::engine::service::{Attempt, Engine, WorkerLookup};
use stask::engine::store::{CancelOutcome, Created, Outcome, TaskClaimParams, TaskInsertManyParams};
use stask::engine::task::{NewTask, Priority, Status};
use std::time::Duration;

mod common;
use common::{info, mysql_url, pg_url, settings_for};

pub struct Harness {
    pub engine: Engine,
    pub dir: tempfile::TempDir,
    pub settings: Settings,
}

impl Harness {
    async fn sqlite() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        Self::open(settings_for(dir.path()), dir).await
    }

    async fn server(dsn: Dsn, test: &str) -> Harness {
        Self::server_under(dsn, "t", test).await
    }

    /// An isolated set of tables per test: a prefix of its own, `lead`
    /// first.
    async fn server_under(dsn: Dsn, lead: &str, test: &str) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let mut s = settings_for(dir.path());
        s.dsn = dsn;
        let tag: u32 = rand::random::<u32>() % 1_000_000;
        let short: String = test.chars().filter(|c| c.is_ascii_alphanumeric()).take(12).collect();
        s.table_prefix = format!("{lead}{short}{tag}_");
        Self::open(s, dir).await
    }

    async fn open(settings: Settings, dir: tempfile::TempDir) -> Harness {
        let engine = Engine::open(settings.clone()).await.unwrap_or_else(|e| panic!("cannot open {:?}: {e}", settings.dsn));
        engine.migrate().await.unwrap();
        Harness { engine, dir, settings }
    }

    /// A second engine (another process, as far as the database knows) on
    /// the same database.
    async fn twin(&self) -> Engine {
        Engine::open(self.settings.clone()).await.unwrap()
    }

    /// Drops the test's tables on a server backend.
    async fn cleanup(self) {
        if !matches!(self.settings.dsn, Dsn::Sqlite { .. }) {
            self.engine.store().drop_tables().await.unwrap();
        }
    }

    async fn task(&self, identifier: &str, f: impl FnOnce(&mut NewTask)) -> i64 {
        let mut t = NewTask::new(identifier, "run");
        f(&mut t);
        self.engine.create_task(t).await.unwrap().id
    }

    /// An engine on the same database with another lease length.
    async fn with_lease(&self, lease: Duration) -> Engine {
        let mut s = self.settings.clone();
        s.lease_for = lease;
        Engine::open(s).await.unwrap()
    }

    async fn status(&self, id: i64) -> i64 {
        self.engine.require_task(id).await.unwrap().status
    }
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let h = super::Harness::sqlite().await;
                    super::$name(&h).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let dsn = stask::engine::config::Dsn::Postgres { url: super::pg_url() };
                    let h = super::Harness::server(dsn, stringify!($name)).await;
                    super::$name(&h).await;
                    h.cleanup().await;
                }
            )*
        }
        /// PostgreSQL 10 and 11 keep the task table's derived columns with
        /// a trigger (no generated columns before 12); debug builds use
        /// that layout on this newer server for prefixes that start with
        /// `STASK_TEST_PG_TRIGGER_PREFIX`.
        mod postgres_trigger {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    std::env::set_var("STASK_TEST_PG_TRIGGER_PREFIX", "pgtrg");
                    let dsn = stask::engine::config::Dsn::Postgres { url: super::pg_url() };
                    let h = super::Harness::server_under(dsn, "pgtrg", stringify!($name)).await;
                    super::$name(&h).await;
                    let function = format!("{}s_tasks_derive()", h.settings.table_prefix);
                    h.cleanup().await;
                    let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&super::pg_url()).await.unwrap();
                    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP FUNCTION {function}"))).execute(&mut c).await.unwrap();
                }
            )*
        }
        mod mariadb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let dsn = stask::engine::config::Dsn::Mysql { url: super::mysql_url() };
                    let h = super::Harness::server(dsn, stringify!($name)).await;
                    super::$name(&h).await;
                    h.cleanup().await;
                }
            )*
        }
    };
}

conformance!(
    claim_takes_high_priority_first_then_oldest,
    claim_skips_tasks_scheduled_for_later,
    claim_never_returns_a_task_twice_under_concurrency,
    a_failed_attempt_is_retried_with_backoff_then_failed,
    attempts_that_went_wrong_are_kept_and_the_latest_comes_from_the_row,
    cancel_is_immediate_for_pending_and_requested_for_running,
    cancelling_a_completed_task_changes_nothing,
    manual_retry_queues_a_failed_task_with_one_more_attempt,
    finishing_never_overwrites_what_the_worker_decided,
    an_inactive_worker_makes_its_tasks_wait_without_spending_attempts,
    progress_reaches_the_file_and_the_row_and_reports_cancel,
    clean_old_tasks_removes_only_old_completed_tasks,
    stats_count_every_status,
    registering_a_worker_twice_keeps_the_first,
    a_php_package_database_is_converted_once,
    bad_column_values_are_refused,
    an_expired_lease_is_rescued_and_a_live_one_is_not,
    the_heartbeat_keeps_a_long_task_from_being_rescued,
    a_unique_key_returns_the_active_task_instead_of_a_duplicate,
    claim_returns_at_most_the_limit,
    a_new_task_wakes_a_waiting_worker,
    maintenance_has_one_leader_per_database,
    like_matches_the_same_rows_everywhere,
    the_timeline_counts_created_and_ended_tasks_per_hour,
    the_latest_task_of_each_worker_comes_in_one_query,
    counters_per_worker_count_states_retries_and_the_oldest_due_task,
    insert_many_stores_every_field_as_a_single_insert_does,
    insert_many_answers_the_holder_of_a_taken_unique_key,
    insert_many_spans_several_statements_in_input_order,
    insert_many_wakes_a_waiting_worker_once,
    create_tasks_collapses_duplicate_keys_of_a_batch,
    create_tasks_refuses_a_bad_batch_whole,
    the_claim_walks_the_claim_index_however_deep_the_backlog,
    statistics_are_refreshed_once_enough_rows_changed,
    pending_tasks_lists_a_high_priority_task_behind_a_long_queue,
    cancelling_a_preparing_task_flags_it_as_the_state_machine_says,
    throttled_progress_ends_with_every_report_in_the_file_and_the_row,
    a_claim_whose_answer_was_lost_goes_back_to_the_queue,
);

async fn claim_takes_high_priority_first_then_oldest(h: &Harness) {
    let low = h.task("w", |t| t.priority = Priority::Low).await;
    let normal1 = h.task("w", |_| {}).await;
    let high = h.task("w", |t| t.priority = Priority::High).await;
    let normal2 = h.task("w", |_| {}).await;
    let claimed: Vec<i64> = h.engine.claim(10).await.unwrap().iter().map(|t| t.id).collect();
    assert_eq!(claimed, vec![high, normal1, normal2, low]);
    let row = h.engine.require_task(high).await.unwrap();
    assert_eq!(row.status, Status::Running.code());
    assert_eq!(row.attempts, 1);
    assert!(row.lease_owner.is_some() && row.lease_expires_at.is_some());
}

async fn claim_skips_tasks_scheduled_for_later(h: &Harness) {
    let later = h.task("w", |t| t.start_at = Some(chrono::Utc::now() + chrono::Duration::hours(2))).await;
    let due = h.task("w", |t| t.start_at = Some(chrono::Utc::now() - chrono::Duration::seconds(1))).await;
    let claimed: Vec<i64> = h.engine.claim(10).await.unwrap().iter().map(|t| t.id).collect();
    assert_eq!(claimed, vec![due]);
    assert_eq!(h.status(later).await, Status::Pending.code());
    // The scheduled start is kept, not overwritten by the claim.
    assert!(h.engine.require_task(later).await.unwrap().start_at.unwrap() > chrono::Utc::now());
}

async fn claim_never_returns_a_task_twice_under_concurrency(h: &Harness) {
    let n = 600;
    for _ in 0..n {
        h.task("w", |_| {}).await;
    }
    let mut handles = Vec::new();
    for _ in 0..4 {
        let e = h.twin().await;
        handles.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = e.claim(7).await.unwrap();
                if got.is_empty() {
                    break;
                }
                mine.extend(got.iter().map(|t| t.id));
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for hd in handles {
        all.extend(hd.await.unwrap());
    }
    let total = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(total, n, "every task claimed");
    assert_eq!(all.len(), n, "no task claimed twice");
}

async fn a_failed_attempt_is_retried_with_backoff_then_failed(h: &Harness) {
    let id = h.task("w", |t| t.max_attempts = 2).await;
    let task = h.engine.claim(1).await.unwrap().remove(0);
    let boom = || Attempt::Threw { class: "RuntimeException".into(), message: "boom".into() };
    let o = h.engine.outcome(&task, boom(), 0.5, 1024, 0.5);
    let Outcome::Retry { available_at, .. } = &o else { panic!("expected a retry, got {o:?}") };
    assert!(*available_at > chrono::Utc::now() + chrono::Duration::seconds(3));
    h.engine.finish(&[o]).await.unwrap();
    let row = h.engine.require_task(id).await.unwrap();
    assert_eq!(row.status, Status::Pending.code());
    assert_eq!(row.last_error.as_deref(), Some("RuntimeException: boom"));
    assert!(row.message.unwrap().contains("Attempt 1 of 2 failed"));
    // Not claimable before the backoff ends.
    assert!(h.engine.claim(1).await.unwrap().is_empty());

    let q = Query::new(Table::Tasks).where_eq("id", Value::Int(id)).unwrap();
    h.engine.update(&q, &[("status", Value::Int(10))]).await.unwrap();
    let task = h.engine.claim(1).await.unwrap().remove(0);
    assert_eq!(task.attempts, 2);
    let o = h.engine.outcome(&task, boom(), 0.5, 1024, 0.5);
    assert!(matches!(o, Outcome::Failed { .. }));
    h.engine.finish(&[o]).await.unwrap();
    let row = h.engine.require_task(id).await.unwrap();
    assert_eq!(row.status, Status::Failed.code());
    assert!(row.finished_at.is_some());
    assert_eq!(row.peak_memory, Some(1024));
}

async fn cancel_is_immediate_for_pending_and_requested_for_running(h: &Harness) {
    let pending = h.task("w", |_| {}).await;
    assert_eq!(h.engine.cancel(pending).await.unwrap(), CancelOutcome::Cancelled);
    assert_eq!(h.status(pending).await, Status::Cancelled.code());

    let running = h.task("w", |_| {}).await;
    let task = h.engine.claim(1).await.unwrap().remove(0);
    assert_eq!(task.id, running);
    assert_eq!(h.engine.cancel(running).await.unwrap(), CancelOutcome::Requested);
    assert_eq!(h.status(running).await, Status::Running.code());
    assert!(h.engine.cancel_requested(running).await.unwrap());
    h.engine.finish(&[h.engine.outcome(&task, Attempt::Cancelled, 0.1, 0, 0.5)]).await.unwrap();
    assert_eq!(h.status(running).await, Status::Cancelled.code());

    assert!(matches!(h.engine.cancel(999_999).await, Err(stask::engine::Error::TaskNotFound(999_999))));
}

async fn pending_tasks_lists_a_high_priority_task_behind_a_long_queue(h: &Harness) {
    let queue: Vec<NewTask> = (0..60).map(|_| NewTask::new("w", "run")).collect();
    h.engine.create_tasks(queue).await.unwrap();
    let later = h
        .task("w", |t| {
            t.priority = Priority::High;
            t.start_at = Some(chrono::Utc::now() + chrono::Duration::hours(1));
        })
        .await;
    let high = h.task("w", |t| t.priority = Priority::High).await;
    let listed: Vec<i64> = h.engine.pending_tasks(3).await.unwrap().iter().map(|t| t.id).collect();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[0], high, "the due high-priority task comes first: {listed:?}");
    assert!(!listed.contains(&later), "a task not due yet is left out");
    assert!(listed[1] < listed[2], "then the oldest normal ones");
    // The list is what a claim takes, in the same order.
    let claimed: Vec<i64> = h.engine.claim(3).await.unwrap().iter().map(|t| t.id).collect();
    assert_eq!(claimed, listed);
}

async fn cancelling_a_preparing_task_flags_it_as_the_state_machine_says(h: &Harness) {
    use stask::engine::task::{state, Edge};
    assert_eq!(state::transition(Status::Preparing, Edge::CancelPending), None);
    let id = h.task("w", |_| {}).await;
    h.engine.claim(1).await.unwrap();
    let q = Query::new(Table::Tasks).where_eq("id", Value::Int(id)).unwrap();
    h.engine.update(&q, &[("status", Value::Int(Status::Preparing.code()))]).await.unwrap();
    assert_eq!(h.engine.cancel(id).await.unwrap(), CancelOutcome::Requested);
    assert_eq!(h.status(id).await, Status::Preparing.code(), "a worker holds it: only flagged");
    assert!(h.engine.cancel_requested(id).await.unwrap());
}

async fn cancelling_a_completed_task_changes_nothing(h: &Harness) {
    let id = h.task("w", |_| {}).await;
    let task = h.engine.claim(1).await.unwrap().remove(0);
    h.engine.finish(&[h.engine.outcome(&task, Attempt::Returned, 0.1, 0, 0.5)]).await.unwrap();
    let before = h.engine.require_task(id).await.unwrap();
    assert_eq!(h.engine.cancel(id).await.unwrap(), CancelOutcome::NotCancellable(Status::Completed.code()));
    let after = h.engine.require_task(id).await.unwrap();
    assert_eq!(before.status, after.status);
    assert_eq!(after.status, Status::Completed.code());
    assert_eq!(after.progress, 100);
    assert!(!h.engine.retry(id).await.unwrap(), "a completed task is not retried");
}

async fn manual_retry_queues_a_failed_task_with_one_more_attempt(h: &Harness) {
    let id = h.task("w", |t| t.max_attempts = 1).await;
    let task = h.engine.claim(1).await.unwrap().remove(0);
    let o = h.engine.outcome(&task, Attempt::Aborted { reason: "fatal error: out of memory".into() }, 0.1, 0, 0.5);
    h.engine.finish(&[o]).await.unwrap();
    assert_eq!(h.status(id).await, Status::Failed.code());
    assert!(h.engine.retry(id).await.unwrap());
    let row = h.engine.require_task(id).await.unwrap();
    assert_eq!(row.status, Status::Pending.code());
    assert_eq!(row.max_attempts, 2);
    assert!(row.finished_at.is_none());
    assert_eq!(h.engine.claim(1).await.unwrap().len(), 1);
}

async fn finishing_never_overwrites_what_the_worker_decided(h: &Harness) {
    let id = h.task("w", |_| {}).await;
    let task = h.engine.claim(1).await.unwrap().remove(0);
    // The worker failed the task itself (markFailed), then threw.
    let q = Query::new(Table::Tasks).where_eq("id", Value::Int(id)).unwrap();
    h.engine.update(&q, &[("status", Value::Int(40)), ("message", Value::Text("CSV header missing".into()))]).await.unwrap();
    let o = h.engine.outcome(&task, Attempt::Threw { class: "E".into(), message: "x".into() }, 0.1, 0, 0.5);
    h.engine.finish(&[o]).await.unwrap();
    let row = h.engine.require_task(id).await.unwrap();
    assert_eq!(row.status, Status::Failed.code());
    assert_eq!(row.message.as_deref(), Some("CSV header missing"));
}

async fn an_inactive_worker_makes_its_tasks_wait_without_spending_attempts(h: &Harness) {
    h.engine.register_worker(&info("mailer")).await.unwrap().unwrap();
    assert!(matches!(h.engine.lookup_worker("mailer").await.unwrap(), WorkerLookup::Inactive(_)));
    assert!(matches!(h.engine.lookup_worker("nobody").await.unwrap(), WorkerLookup::Missing));
    assert!(matches!(h.engine.lookup_worker("system").await.unwrap(), WorkerLookup::Native));
    let id = h.task("mailer", |_| {}).await;
    let task = h.engine.claim(1).await.unwrap().remove(0);
    h.engine.finish(&[h.engine.inactive_worker_outcome(&task)]).await.unwrap();
    let row = h.engine.require_task(id).await.unwrap();
    assert_eq!(row.status, Status::Pending.code());
    assert_eq!(row.attempts, 0);
    assert!(row.message.unwrap().contains("inactive"));
    assert!(h.engine.claim(1).await.unwrap().is_empty(), "it waits before it is looked at again");
    // Activating the worker makes its waiting tasks due at once.
    assert!(h.engine.set_worker_active("mailer", true).await.unwrap());
    assert!(matches!(h.engine.lookup_worker("mailer").await.unwrap(), WorkerLookup::Class(_)));
    assert_eq!(h.engine.claim(1).await.unwrap().len(), 1);
}

async fn throttled_progress_ends_with_every_report_in_the_file_and_the_row(h: &Harness) {
    let mut settings = h.settings.clone();
    settings.progress_interval = Duration::from_secs(60);
    let engine = Engine::open(settings).await.unwrap();
    let id = h.task("w", |_| {}).await;
    let task = engine.claim(1).await.unwrap().remove(0);
    engine.progress_begin(&task);
    for i in 1..=5 {
        let delta =
            ProgressDelta { processed: Some(i), total: Some(5), message: Some(format!("step {i}")), ..Default::default() };
        engine.progress_push(id, &delta).await.unwrap();
    }
    let row = engine.require_task(id).await.unwrap();
    assert!(row.progress < 100, "the throttle held reports back while the task ran");
    engine.finish(&[engine.outcome(&task, Attempt::Returned, 0.1, 0, 0.5)]).await.unwrap();
    let steps: Vec<String> = (1..=5).map(|i| format!("step {i}")).collect();
    let file = engine.files().read(id).unwrap().expect("snapshot file");
    assert_eq!((file.processed, file.total, file.status.as_str()), (5, 5, "completed"));
    assert!(steps.iter().all(|s| file.log_lines.contains(s)), "{:?}", file.log_lines);
    let row = engine.require_task(id).await.unwrap();
    let mirror: stask::engine::progress::ProgressSnapshot = serde_json::from_str(&row.snapshot.unwrap()).unwrap();
    assert_eq!((mirror.processed, mirror.total, mirror.status.as_str()), (5, 5, "completed"));
    assert!(steps.iter().all(|s| mirror.log_lines.contains(s)), "{:?}", mirror.log_lines);
    assert_eq!(row.progress, 100);
    assert_eq!(row.message.as_deref(), Some("Task completed successfully"));
}

async fn progress_reaches_the_file_and_the_row_and_reports_cancel(h: &Harness) {
    let id = h.task("w", |_| {}).await;
    let task = h.engine.claim(1).await.unwrap().remove(0);
    h.engine.progress_begin(&task);
    let delta = ProgressDelta {
        processed: Some(45),
        total: Some(100),
        message: Some("Processing items...".into()),
        ..Default::default()
    };
    assert!(!h.engine.progress_push(id, &delta).await.unwrap());
    let file = h.engine.files().read(id).unwrap().expect("snapshot file");
    assert_eq!(file.progress, 45);
    assert_eq!(file.status, "running");
    assert_eq!(file.log_lines, vec!["Processing items...".to_string()]);
    let row = h.engine.require_task(id).await.unwrap();
    assert_eq!(row.progress, 45);
    assert!(row.snapshot.unwrap().contains("Processing items"));

    h.engine.cancel(id).await.unwrap();
    let delta = ProgressDelta { progress: Some(50), ..Default::default() };
    assert!(h.engine.progress_push(id, &delta).await.unwrap(), "the worker learns of the cancel");

    h.engine.finish(&[h.engine.outcome(&task, Attempt::Cancelled, 0.1, 0, 0.5)]).await.unwrap();
    let snap = h.engine.progress_of(id).await.unwrap();
    assert_eq!(snap.status, "cancelled");
}

async fn clean_old_tasks_removes_only_old_completed_tasks(h: &Harness) {
    use stask::engine::maintenance::cleaner::{Cleaner, CleanerConfig};
    let old = h.task("w", |_| {}).await;
    let recent = h.task("w", |_| {}).await;
    let failed = h.task("w", |_| {}).await;
    let q = |id| Query::new(Table::Tasks).where_eq("id", Value::Int(id)).unwrap();
    let long_ago = Value::Text("2020-01-01 00:00:00.000000".into());
    h.engine.update(&q(old), &[("status", Value::Int(30)), ("finished_at", long_ago.clone())]).await.unwrap();
    h.engine
        .update(
            &q(recent),
            &[("status", Value::Int(30)), ("finished_at", Value::Text(stask::engine::time::to_db(&chrono::Utc::now())))],
        )
        .await
        .unwrap();
    h.engine.update(&q(failed), &[("status", Value::Int(40)), ("finished_at", long_ago)]).await.unwrap();
    let cleaner = Cleaner::new(&h.engine, CleanerConfig { older_than_days: 30, ..Default::default() }).unwrap();
    assert_eq!(cleaner.clean_tasks().await.unwrap(), 1);
    assert!(h.engine.find_task(old).await.unwrap().is_none());
    assert!(h.engine.find_task(recent).await.unwrap().is_some());
    assert!(h.engine.find_task(failed).await.unwrap().is_some());
    assert!(Cleaner::new(&h.engine, CleanerConfig { older_than_days: -1, ..Default::default() }).is_err());
}

async fn stats_count_every_status(h: &Harness) {
    for _ in 0..3 {
        h.task("w", |_| {}).await;
    }
    let t = h.engine.claim(1).await.unwrap().remove(0);
    h.engine.finish(&[h.engine.outcome(&t, Attempt::Returned, 2.0, 4096, 0.5)]).await.unwrap();
    let running = h.engine.claim(1).await.unwrap();
    assert_eq!(running.len(), 1);
    let s = stask::engine::metrics::stats(&h.engine).await.unwrap();
    assert_eq!(
        (s["pending"].as_i64(), s["running"].as_i64(), s["completed"].as_i64(), s["total"].as_i64()),
        (Some(1), Some(1), Some(1), Some(3))
    );
    let m = stask::engine::metrics::summary(&h.engine, 24).await.unwrap();
    assert_eq!(m["performance"]["average_duration"], 2.0);
    assert_eq!(m["performance"]["average_memory"], 4096);
    assert_eq!(m["performance"]["success_rate"], 100.0);
    // A task is due and no worker process is registered: that alert only.
    let alerts = stask::engine::metrics::alerts(&h.engine).await.unwrap();
    let types: Vec<&str> = alerts.as_array().unwrap().iter().map(|a| a["type"].as_str().unwrap()).collect();
    assert_eq!(types, vec!["no_worker_process"], "{alerts}");
    assert_eq!(alerts[0]["value"], 1);
    // With a worker loop running, and nothing failed in the last hour: none.
    let live = h.engine.process_start().await.unwrap();
    assert_eq!(stask::engine::metrics::alerts(&h.engine).await.unwrap(), serde_json::json!([]));
    live.stop().await;
}

async fn registering_a_worker_twice_keeps_the_first(h: &Harness) {
    let first = h.engine.register_worker(&info("product")).await.unwrap().unwrap();
    let second = h.engine.register_worker(&info("mailer")).await.unwrap().unwrap();
    assert!(!first.active, "new workers start inactive");
    assert_eq!(second.position, first.position + 1);
    assert!(h.engine.register_worker(&info("product")).await.unwrap().is_none());
}

async fn a_php_package_database_is_converted_once(h: &Harness) {
    if !matches!(h.settings.dsn, Dsn::Sqlite { .. }) {
        // The server dialects run their own conversion test below.
        return a_php_package_server_database_is_converted_once(h).await;
    }
    // Tables shaped as the PHP package's migration makes them, with its codes.
    let path = h.dir.path().join("legacy.sqlite");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE evo_s_workers (id INTEGER PRIMARY KEY AUTOINCREMENT, uuid VARCHAR NULL, identifier VARCHAR NOT NULL UNIQUE,
               scope VARCHAR NOT NULL DEFAULT '', class VARCHAR NOT NULL, active INTEGER NOT NULL DEFAULT 0, position INTEGER NOT NULL DEFAULT 0,
               settings TEXT NOT NULL DEFAULT '[]', hidden INTEGER NOT NULL DEFAULT 0, created_at TEXT, updated_at TEXT);
             CREATE TABLE evo_s_tasks (id INTEGER PRIMARY KEY AUTOINCREMENT, identifier VARCHAR NOT NULL, action VARCHAR NOT NULL,
               status INTEGER NOT NULL DEFAULT 10, message TEXT, started_by INTEGER, meta TEXT, result TEXT, start_at TEXT, finished_at TEXT,
               attempts INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL DEFAULT 3, priority VARCHAR NOT NULL DEFAULT 'normal',
               progress INTEGER NOT NULL DEFAULT 0, created_at TEXT, updated_at TEXT);
             INSERT INTO evo_s_tasks (identifier, action, status, priority, created_at) VALUES
               ('a','x',10,'high','2025-01-01 10:00:00'), ('a','x',30,'normal','2025-01-01 10:00:00'), ('a','x',50,'normal','2025-01-01 10:00:00'),
               ('a','x',80,'low','2025-01-01 10:00:00'), ('a','x',100,'normal','2025-01-01 10:00:00');",
        )
        .unwrap();
    }
    let mut s = settings_for(h.dir.path());
    s.dsn = Dsn::Sqlite { path: path.clone() };
    let e = Engine::open(s.clone()).await.unwrap();
    let statuses: Vec<i64> = e.select_tasks(&Query::new(Table::Tasks)).await.unwrap().iter().map(|t| t.status).collect();
    assert_eq!(statuses, vec![10, 15, 20, 30, 40]);
    // Opening again converts nothing twice.
    drop(e);
    let e = Engine::open(s).await.unwrap();
    let statuses: Vec<i64> = e.select_tasks(&Query::new(Table::Tasks)).await.unwrap().iter().map(|t| t.status).collect();
    assert_eq!(statuses, vec![10, 15, 20, 30, 40]);
    assert_eq!(e.claim(5).await.unwrap().len(), 1, "the converted pending task is claimable");
}

async fn bad_column_values_are_refused(h: &Harness) {
    let id = h.task("w", |_| {}).await;
    let q = Query::new(Table::Tasks).where_eq("id", Value::Int(id)).unwrap();
    assert!(h.engine.update(&q, &[("status", Value::Int(80))]).await.is_err());
    assert!(h.engine.update(&q, &[("priority", Value::Text("urgent".into()))]).await.is_err());
    assert!(h.engine.update(&q, &[("progress", Value::Int(101))]).await.is_err());
    assert!(h.engine.create_task(NewTask::new("", "run")).await.is_err());
    assert!(h.engine.create_task(NewTask::new("w", "  ")).await.is_err());
    assert_eq!(h.engine.require_task(id).await.unwrap().status, 10, "nothing changed");
}

async fn an_expired_lease_is_rescued_and_a_live_one_is_not(h: &Harness) {
    let dead = h.task("w", |t| t.max_attempts = 3).await;
    let last_chance = h.task("w", |t| t.max_attempts = 1).await;
    let live = h.task("w", |_| {}).await;
    // Another process claims the first two and dies (no finish, no heartbeat).
    let crashed = h.twin().await;
    assert_eq!(crashed.claim(2).await.unwrap().len(), 2);
    drop(crashed);
    let past = Value::Text("2020-01-01 00:00:00.000000".into());
    let q = Query::new(Table::Tasks).where_in("id", vec![Value::Int(dead), Value::Int(last_chance)], false).unwrap();
    h.engine.store().update(&q, &[("lease_expires_at", past)], chrono::Utc::now()).await.unwrap();
    let mine = h.engine.claim(1).await.unwrap();
    assert_eq!(mine[0].id, live);

    let report = h.engine.rescue_expired().await.unwrap();
    assert_eq!((report.requeued, report.failed), (1, 1));
    let row = h.engine.require_task(dead).await.unwrap();
    assert_eq!(row.status, Status::Pending.code());
    assert!(row.message.unwrap().contains("lease"));
    assert!(row.lease_owner.is_none());
    let row = h.engine.require_task(last_chance).await.unwrap();
    assert_eq!(row.status, Status::Failed.code());
    assert!(row.message.unwrap().contains("no attempts remain"));
    assert_eq!(h.status(live).await, Status::Running.code(), "a live lease is left alone");
    assert_eq!(h.engine.rescue_expired().await.unwrap(), Default::default(), "nothing is rescued twice");
    // Both lost attempts are in their tasks' history, with the dead owner.
    for id in [dead, last_chance] {
        let row = h.engine.require_task(id).await.unwrap();
        let history = h.engine.attempts(&row).await.unwrap();
        assert_eq!(history[0].outcome, "lost", "{history:?}");
        assert!(history[0].owner.as_deref().is_some_and(|o| o != h.engine.owner()), "{history:?}");
    }
}

async fn attempts_that_went_wrong_are_kept_and_the_latest_comes_from_the_row(h: &Harness) {
    let id = h.task("w", |t| t.max_attempts = 3).await;
    let task = h.engine.claim(1).await.unwrap().remove(0);
    let boom = Attempt::Threw { class: "RuntimeException".into(), message: "boom @ Worker.php:12".into() };
    let o = h.engine.outcome(&task, boom, 0.25, 2048, 0.5);
    let base = h.settings.base_path.to_string_lossy().to_string();
    h.engine.attach_trace(id, &format!("RuntimeException thrown at {base}/app/Worker.php:12\n#0 {base}/vendor/x.php(3): f()"));
    h.engine.finish(&[o]).await.unwrap();
    let row = h.engine.require_task(id).await.unwrap();
    let history = h.engine.attempts(&row).await.unwrap();
    assert_eq!(history.len(), 1, "a pending task shows what went wrong so far: {history:?}");
    let first = &history[0];
    assert_eq!((first.attempt, first.outcome.as_str()), (1, "retried"));
    assert_eq!(
        (first.error_class.as_deref(), first.message.as_deref()),
        (Some("RuntimeException"), Some("boom @ Worker.php:12"))
    );
    assert_eq!((first.duration, first.peak_memory), (Some(0.25), Some(2048)));
    assert_eq!(first.owner.as_deref(), Some(h.engine.owner()));
    assert_eq!(
        first.trace.as_deref(),
        Some("RuntimeException thrown at app/Worker.php:12\n#0 vendor/x.php(3): f()"),
        "paths relative"
    );
    assert!(first.started_at.is_some());

    // The second attempt completes: nothing more is written for it, and
    // the row supplies it.
    let q = Query::new(Table::Tasks).where_eq("id", Value::Int(id)).unwrap();
    h.engine.update(&q, &[("status", Value::Int(10))]).await.unwrap();
    let task = h.engine.claim(1).await.unwrap().remove(0);
    let running = h.engine.attempts(&h.engine.require_task(id).await.unwrap()).await.unwrap();
    assert_eq!(running.iter().map(|a| (a.attempt, a.outcome.as_str())).collect::<Vec<_>>(), vec![(1, "retried"), (2, "running")]);
    h.engine.finish(&[h.engine.outcome(&task, Attempt::Returned, 0.5, 4096, 0.5)]).await.unwrap();
    let row = h.engine.require_task(id).await.unwrap();
    let history = h.engine.attempts(&row).await.unwrap();
    assert_eq!(
        history.iter().map(|a| (a.attempt, a.outcome.as_str())).collect::<Vec<_>>(),
        vec![(1, "retried"), (2, "completed")]
    );
    assert_eq!(h.engine.store().attempts_of(id).await.unwrap().len(), 1, "a completed attempt writes no history row");

    // The cleaner's age rule removes history only with its task.
    let far = chrono::Utc::now() + chrono::Duration::days(1);
    assert_eq!(h.engine.store().attempts_delete_before(far).await.unwrap(), 0, "the task is still there");
    h.engine.delete(&q).await.unwrap();
    assert_eq!(h.engine.store().attempts_delete_before(far).await.unwrap(), 1);
}

async fn the_heartbeat_keeps_a_long_task_from_being_rescued(h: &Harness) {
    let e = h.with_lease(Duration::from_secs(1)).await;
    let id = e.create_task(NewTask::new("w", "run")).await.unwrap().id;
    e.claim(1).await.unwrap();
    // Three lease periods pass while the task "runs".
    tokio::time::sleep(Duration::from_millis(3200)).await;
    assert_eq!(e.rescue_expired().await.unwrap(), Default::default());
    let row = e.require_task(id).await.unwrap();
    assert_eq!(row.status, Status::Running.code());
    assert!(row.lease_expires_at.unwrap() > chrono::Utc::now());
}

/// The PHP package's tables on a server database, with its status codes:
/// migrate() adds the engine's columns and converts the codes once.
async fn a_php_package_server_database_is_converted_once(h: &Harness) {
    h.engine.store().drop_tables().await.unwrap();
    create_legacy_tables(h).await;
    h.engine.migrate().await.unwrap();
    h.engine.migrate().await.unwrap();
    let statuses: Vec<i64> = h.engine.select_tasks(&Query::new(Table::Tasks)).await.unwrap().iter().map(|t| t.status).collect();
    assert_eq!(statuses, vec![10, 15, 20, 30, 40]);
    assert_eq!(h.engine.claim(5).await.unwrap().len(), 1, "the converted pending task is claimable");
}

/// The PHP package's tables as its Laravel migration makes them on this
/// server, with one task in each of its status codes (10, 30, 50, 80, 100),
/// written through a connection of the test's own.
async fn create_legacy_tables(h: &Harness) {
    use sqlx::{AssertSqlSafe, Connection, Executor};
    let p = &h.settings.table_prefix;
    match &h.settings.dsn {
        // What the package's Laravel migration makes on PostgreSQL: native
        // uuid, json settings, varchar(255) message, timestamp(0) columns,
        // Laravel's index names, and its status codes in the rows.
        Dsn::Postgres { url } => {
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
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            c.execute(sqlx::raw_sql(AssertSqlSafe(script))).await.unwrap();
        }
        // On MySQL (REFERENCE.md 2.1, 2.2): TIMESTAMP columns, unsigned
        // integers, a JSON `settings` (without the package's `JSON_ARRAY()`
        // default, which not every server accepts), Laravel's index names.
        Dsn::Mysql { url } => {
            let mut c = sqlx::MySqlConnection::connect(url).await.unwrap();
            c.execute("SET time_zone = '+00:00'").await.unwrap();
            for stmt in [
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
                )
            ] {
                c.execute(sqlx::raw_sql(AssertSqlSafe(stmt))).await.unwrap();
            }
        }
        Dsn::Sqlite { .. } => unreachable!("the SQLite conversion test builds its own file"),
    }
}

async fn a_unique_key_returns_the_active_task_instead_of_a_duplicate(h: &Harness) {
    let unique = |key: &str| {
        let mut t = NewTask::new("w", "sync");
        t.unique_key = Some(key.into());
        t
    };
    let first = h.engine.create_task(unique("sync-42")).await.unwrap();
    // Racing creators, one of them another process: all get the same task.
    let twin = h.twin().await;
    let (a, b) = tokio::join!(h.engine.create_task(unique("sync-42")), twin.create_task(unique("sync-42")));
    assert_eq!((a.unwrap().id, b.unwrap().id), (first.id, first.id));
    let other = h.engine.create_task(unique("sync-43")).await.unwrap();
    assert_ne!(other.id, first.id);
    // Once the task finished, the key is free again.
    let claimed = h.engine.claim(1).await.unwrap().remove(0);
    assert_eq!(claimed.id, first.id);
    h.engine.finish(&[h.engine.outcome(&claimed, Attempt::Returned, 0.1, 0, 0.5)]).await.unwrap();
    let again = h.engine.create_task(unique("sync-42")).await.unwrap();
    assert_ne!(again.id, first.id);
    let mut bad = unique("");
    bad.unique_key = Some(" ".into());
    assert!(h.engine.create_task(bad).await.is_err());
}

async fn claim_returns_at_most_the_limit(h: &Harness) {
    for _ in 0..3 {
        h.task("w", |_| {}).await;
    }
    assert_eq!(h.engine.claim(2).await.unwrap().len(), 2);
    assert_eq!(h.engine.claim(5).await.unwrap().len(), 1);
    assert!(h.engine.claim(5).await.unwrap().is_empty());
}

async fn a_new_task_wakes_a_waiting_worker(h: &Harness) {
    let store = h.engine.store().clone();
    let listens = store.supports_listen();
    let started = std::time::Instant::now();
    let waiter = tokio::spawn(async move { store.task_wait(Duration::from_secs(5)).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Another process enqueues.
    h.twin().await.create_task(NewTask::new("w", "run")).await.unwrap();
    let woke = waiter.await.unwrap().unwrap();
    if listens {
        assert!(woke, "a listening store wakes on a new task");
        assert!(started.elapsed() < Duration::from_secs(3));
    } else {
        assert!(!woke, "a polling store just sleeps");
    }
}

async fn maintenance_has_one_leader_per_database(h: &Harness) {
    let other = h.with_lease(Duration::from_secs(1)).await;
    assert!(other.lead_maintenance().await.unwrap(), "the first asker leads");
    assert!(other.lead_maintenance().await.unwrap(), "and renews");
    assert!(!h.engine.lead_maintenance().await.unwrap(), "a second host does not lead meanwhile");
    assert_eq!(h.engine.rescue_expired().await.unwrap(), Default::default(), "nor rescue");
    drop(other);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(h.engine.lead_maintenance().await.unwrap(), "an expired leadership passes on");
}

async fn like_matches_the_same_rows_everywhere(h: &Harness) {
    use stask::engine::query::Op;
    h.task("Product_Sync", |t| t.message = Some("Imported 5 of 10".into())).await;
    h.task("mailer", |_| {}).await;
    let count = |col: &str, pattern: &str| {
        let q = Query::new(Table::Tasks).where_op(col, Op::Like, Value::Text(pattern.into())).unwrap();
        async move { h.engine.count(&q).await.unwrap() }
    };
    assert_eq!(count("identifier", "product%").await, 1, "case-insensitive");
    assert_eq!(count("message", "%5 of%").await, 1);
    assert_eq!(count("status", "1%").await, 2, "any column type");
}

async fn the_timeline_counts_created_and_ended_tasks_per_hour(h: &Harness) {
    let now = h.engine.now();
    let ok = h.task("a", |_| {}).await;
    let bad = h.task("a", |t| t.max_attempts = 1).await;
    let _waiting = h.task("b", |_| {}).await;
    // One created three hours ago and finished two hours ago: it counts as
    // created in its hour and completed in the other.
    let old = h.task("b", |_| {}).await;
    let q = |id| Query::new(Table::Tasks).where_eq("id", Value::Int(id)).unwrap();
    let at = |hours: i64| Value::Text(stask::engine::time::to_db(&(now - chrono::Duration::hours(hours))));
    h.engine
        .update(
            &q(old),
            &[("created_at", at(3)), ("finished_at", at(2)), ("status", Value::Int(30)), ("duration", Value::Float(4.0))],
        )
        .await
        .unwrap();
    // Created beyond the runtime horizon: its end is not looked for.
    let ancient = h.task("b", |_| {}).await;
    h.engine
        .update(&q(ancient), &[("created_at", at(24 * 10)), ("finished_at", at(2)), ("status", Value::Int(40))])
        .await
        .unwrap();
    let claimed = h.engine.claim(10).await.unwrap();
    let outcomes: Vec<_> = claimed
        .iter()
        .filter(|t| t.id == ok || t.id == bad)
        .map(|t| {
            let a = if t.id == ok { Attempt::Returned } else { Attempt::Aborted { reason: "boom".into() } };
            h.engine.outcome(t, a, 2.0, 0, 0.5)
        })
        .collect();
    h.engine.finish(&outcomes).await.unwrap();
    let rows = h.engine.store().task_timeline(now - chrono::Duration::hours(5)).await.unwrap();
    let hour = |t: chrono::DateTime<chrono::Utc>| {
        use chrono::Timelike;
        t.date_naive().and_hms_opt(t.hour(), 0, 0).unwrap().and_utc()
    };
    let find = |t| rows.iter().find(|r| r.hour == hour(t)).cloned().unwrap_or_else(|| panic!("no row for {t}: {rows:?}"));
    let three = find(now - chrono::Duration::hours(3));
    assert_eq!((three.created, three.completed, three.failed), (1, 0, 0));
    let two = find(now - chrono::Duration::hours(2));
    assert_eq!((two.created, two.completed, two.failed, two.average_duration), (0, 1, 0, Some(4.0)));
    // The tasks created and ended now (this hour, or the next if the clock
    // just turned): 3 created, 1 completed, 1 failed, 2 s on average.
    let recent: Vec<_> = rows.iter().filter(|r| r.hour >= hour(now)).collect();
    assert_eq!(recent.iter().map(|r| r.created).sum::<i64>(), 3);
    assert_eq!(recent.iter().map(|r| r.completed).sum::<i64>(), 1);
    assert_eq!(recent.iter().map(|r| r.failed).sum::<i64>(), 1);
    assert!(recent.iter().any(|r| r.average_duration == Some(2.0)), "{rows:?}");
    assert!(rows.windows(2).all(|w| w[0].hour < w[1].hour), "oldest first");
    assert!(h.engine.store().task_timeline(now + chrono::Duration::hours(1)).await.unwrap().is_empty());
}

async fn the_latest_task_of_each_worker_comes_in_one_query(h: &Harness) {
    assert!(h.engine.store().task_latest_per_identifier().await.unwrap().is_empty());
    h.task("alpha", |_| {}).await;
    let a2 = h.task("alpha", |_| {}).await;
    let b1 = h.task("beta", |_| {}).await;
    let latest = h.engine.store().task_latest_per_identifier().await.unwrap();
    let ids: Vec<_> = latest.iter().map(|t| (t.identifier.as_str(), t.id)).collect();
    assert_eq!(ids, vec![("alpha", a2), ("beta", b1)]);
}

async fn counters_per_worker_count_states_retries_and_the_oldest_due_task(h: &Harness) {
    let now = h.engine.now();
    let first = h.task("alpha", |_| {}).await;
    h.task("alpha", |_| {}).await;
    // Not due yet: queued, but not waiting.
    h.task("alpha", |t| t.start_at = Some(now + chrono::Duration::hours(1))).await;
    let done = h.task("beta", |_| {}).await;
    let q = |id| Query::new(Table::Tasks).where_eq("id", Value::Int(id)).unwrap();
    h.engine.update(&q(done), &[("status", Value::Int(30)), ("attempts", Value::Int(3))]).await.unwrap();
    let failed = h.task("beta", |_| {}).await;
    h.engine.update(&q(failed), &[("status", Value::Int(40)), ("attempts", Value::Int(2))]).await.unwrap();
    let later = now + chrono::Duration::seconds(5);
    let rows = h.engine.store().task_counters(later).await.unwrap();
    assert_eq!(rows.len(), 2);
    let alpha = &rows[0];
    assert_eq!((alpha.identifier.as_str(), alpha.pending, alpha.running, alpha.retried), ("alpha", 3, 0, 0));
    let first_at = h.engine.require_task(first).await.unwrap().available_at.unwrap();
    let oldest = alpha.oldest_pending.expect("a due pending task");
    assert!((oldest - first_at).num_milliseconds().abs() < 1000, "{oldest} vs {first_at}");
    let beta = &rows[1];
    assert_eq!((beta.identifier.as_str(), beta.pending, beta.completed, beta.failed, beta.retried), ("beta", 0, 1, 1, 3));
    assert_eq!(beta.oldest_pending, None);
}

fn varied_tasks() -> Vec<NewTask> {
    let later = stask::engine::time::now() + chrono::Duration::hours(2);
    let mut out = Vec::new();
    for i in 0..6 {
        let mut t = NewTask::new(format!("w{}", i % 2), format!("act_{i}"));
        t.priority = [Priority::Low, Priority::Normal, Priority::High][i % 3];
        t.meta = Some(format!("{{\"i\":{i},\"name\":\"ü\\u00e9 {i}\"}}"));
        t.started_by = (i % 2 == 0).then_some(40 + i as i64);
        t.max_attempts = 1 + i as i64;
        t.start_at = (i == 3).then_some(later);
        t.unique_key = (i == 4).then(|| "only-key".to_string());
        out.push(t);
    }
    out
}

/// The columns a caller chose, as stored (ids and clocks left out).
fn chosen(t: &stask::engine::task::TaskRow) -> String {
    format!(
        "{} {} {} {:?} {:?} {:?} {} {} {:?} {} {:?} {}",
        t.identifier,
        t.action,
        t.status,
        t.meta,
        t.started_by,
        t.start_at.map(|s| s.timestamp()),
        t.max_attempts,
        t.priority,
        t.unique_key,
        t.attempts,
        t.message,
        t.progress
    )
}

async fn insert_many_stores_every_field_as_a_single_insert_does(h: &Harness) {
    let tasks = varied_tasks();
    let mut singles = Vec::new();
    for t in &tasks {
        let mut t = t.clone();
        t.unique_key = t.unique_key.map(|k| format!("{k}-single"));
        singles.push(h.engine.create_task(t).await.unwrap().id);
    }
    let now = h.engine.now();
    let created = h.engine.store().task_insert_many(&TaskInsertManyParams { tasks: &tasks, now }).await.unwrap();
    assert_eq!(created.len(), tasks.len());
    assert!(created.iter().all(|c| !c.existing));
    for ((c, single), t) in created.iter().zip(&singles).zip(&tasks) {
        let many = h.engine.require_task(c.id).await.unwrap();
        let mut one = h.engine.require_task(*single).await.unwrap();
        one.unique_key = one.unique_key.map(|k| k.trim_end_matches("-single").to_string());
        assert_eq!(chosen(&many), chosen(&one));
        assert_eq!(many.identifier, t.identifier, "answers are in input order");
        assert_eq!(many.created_at.map(|c| c.timestamp_micros()), Some(now.timestamp_micros()));
        let due = many.available_at.unwrap();
        assert_eq!(due.timestamp(), t.start_at.unwrap_or(now).timestamp(), "available_at follows start_at");
    }
    // Claimed in priority order, the scheduled one left out.
    let claimed = h.engine.claim(20).await.unwrap();
    assert_eq!(claimed.len(), 2 * tasks.len() - 2);
    let ranks: Vec<i64> = claimed.iter().map(|t| Priority::rank_of_name(&t.priority)).collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
    assert!(h.engine.store().task_insert_many(&TaskInsertManyParams { tasks: &[], now }).await.unwrap().is_empty());
}

async fn insert_many_answers_the_holder_of_a_taken_unique_key(h: &Harness) {
    let keyed = |k: &str| {
        let mut t = NewTask::new("w", "sync");
        t.unique_key = Some(k.into());
        t
    };
    let held = h.engine.create_task(keyed("held")).await.unwrap().id;
    // A finished task frees its key.
    let done = h.engine.create_task(keyed("freed")).await.unwrap().id;
    h.engine
        .update(&Query::new(Table::Tasks).where_eq("id", Value::Int(done)).unwrap(), &[("status", Value::Int(30))])
        .await
        .unwrap();
    let batch = vec![NewTask::new("w", "plain"), keyed("held"), keyed("freed"), keyed("new"), NewTask::new("w", "plain")];
    let now = h.engine.now();
    let created = h.engine.store().task_insert_many(&TaskInsertManyParams { tasks: &batch, now }).await.unwrap();
    assert_eq!(created[1], Created { id: held, existing: true });
    assert!(!created[2].existing && created[2].id != done);
    assert!(!created[3].existing && !created[0].existing && !created[4].existing);
    let ids: Vec<i64> = [0, 2, 3, 4].iter().map(|&i| created[i].id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "new ids follow input order: {ids:?}");
    assert_eq!(h.engine.require_task(created[3].id).await.unwrap().unique_key.as_deref(), Some("new"));
    assert_eq!(h.engine.require_task(created[4].id).await.unwrap().action, "plain");
    // Only one new active holder per key: the same batch again inserts
    // only the tasks without a key.
    let again = h.engine.store().task_insert_many(&TaskInsertManyParams { tasks: &batch, now }).await.unwrap();
    assert_eq!(again.iter().map(|c| c.existing).collect::<Vec<_>>(), vec![false, true, true, true, false]);
    assert_eq!((again[1].id, again[2].id, again[3].id), (held, created[2].id, created[3].id));
    let total = h.engine.count(&Query::new(Table::Tasks)).await.unwrap();
    // held and freed, the batch's four new tasks, then its two plain ones again.
    assert_eq!(total, 2 + 4 + 2);
}

async fn insert_many_spans_several_statements_in_input_order(h: &Harness) {
    // More rows than any dialect puts in one statement (SQLite 2047, MySQL
    // 1000, PostgreSQL 5000), and one row larger than a chunk's byte budget.
    let n = 10_500;
    let mut tasks: Vec<NewTask> = (0..n)
        .map(|i| {
            let mut t = NewTask::new("bulk", format!("a{i}"));
            t.meta = Some(format!("{{\"i\":{i}}}"));
            if i % 1000 == 7 {
                t.unique_key = Some(format!("k{i}"));
            }
            t
        })
        .collect();
    tasks[5000].meta = Some(format!("{{\"big\":\"{}\"}}", "x".repeat(5 << 20)));
    let now = h.engine.now();
    let created = h.engine.store().task_insert_many(&TaskInsertManyParams { tasks: &tasks, now }).await.unwrap();
    assert_eq!(created.len(), n);
    assert!(created.windows(2).all(|w| w[0].id < w[1].id), "ids ascend with the input");
    for i in [0, 7, 999, 1000, 2046, 2047, 4999, 5000, 5001, 10_007, n - 1] {
        let row = h.engine.require_task(created[i].id).await.unwrap();
        assert_eq!(row.action, format!("a{i}"));
    }
    assert_eq!(h.engine.require_task(created[5000].id).await.unwrap().meta.unwrap().len(), (5 << 20) + 10);
    assert_eq!(h.engine.count(&Query::new(Table::Tasks)).await.unwrap(), n as i64);
}

async fn insert_many_wakes_a_waiting_worker_once(h: &Harness) {
    let store = h.engine.store().clone();
    let listens = store.supports_listen();
    let waiter = tokio::spawn(async move { store.task_wait(Duration::from_secs(5)).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let twin = h.twin().await;
    let tasks: Vec<NewTask> = (0..50).map(|i| NewTask::new("w", format!("a{i}"))).collect();
    twin.create_tasks(tasks).await.unwrap();
    let woke = waiter.await.unwrap().unwrap();
    assert_eq!(woke, listens, "a listening store wakes on a batch, a polling one sleeps");
    if listens {
        // One notification for the batch: nothing is left to wake a second wait.
        let again = h.engine.store().task_wait(Duration::from_millis(300)).await.unwrap();
        assert!(!again, "one NOTIFY per batch, not one per row");
    }
}

async fn create_tasks_collapses_duplicate_keys_of_a_batch(h: &Harness) {
    let keyed = |k: &str, action: &str| {
        let mut t = NewTask::new("w", action);
        t.unique_key = Some(k.into());
        t
    };
    let held = h.engine.create_task(keyed("b", "before")).await.unwrap().id;
    let batch = vec![keyed("a", "first"), keyed("b", "x"), keyed("a", "second"), NewTask::new("w", "free"), keyed("b", "y")];
    let created = h.engine.create_tasks(batch).await.unwrap();
    let ids: Vec<i64> = created.iter().map(|c| c.id).collect();
    assert_eq!(ids[0], ids[2]);
    assert_eq!((ids[1], ids[4]), (held, held));
    assert_eq!(created.iter().map(|c| c.existing).collect::<Vec<_>>(), vec![false, true, true, false, true]);
    assert_eq!(h.engine.require_task(ids[0]).await.unwrap().action, "first", "the first of the batch wins");
    assert_eq!(h.engine.count(&Query::new(Table::Tasks)).await.unwrap(), 3);
    assert!(h.engine.create_tasks(Vec::new()).await.unwrap().is_empty());
}

async fn create_tasks_refuses_a_bad_batch_whole(h: &Harness) {
    let mut bad = NewTask::new("w", "run");
    bad.max_attempts = 0;
    let batch = vec![NewTask::new("w", "run"), NewTask::new("w", "run"), bad];
    let err = h.engine.create_tasks(batch).await.unwrap_err().to_string();
    assert!(err.contains("tasks[2].max_attempts"), "{err}");
    let batch = vec![NewTask::new("w", "run"), NewTask::new(" ", "run")];
    let err = h.engine.create_tasks(batch).await.unwrap_err().to_string();
    assert!(err.contains("tasks[1].identifier"), "{err}");
    assert_eq!(h.engine.count(&Query::new(Table::Tasks)).await.unwrap(), 0, "nothing of a refused batch is written");
}

/// A claim's cost must not grow with the queue: the database walks the
/// claim index in order and stops after the limit, and marks the rows by
/// primary key. Read from the plan the database chooses with a 20,000-deep
/// backlog and the statistics the inserts left (none on PostgreSQL, whose
/// planner otherwise sorts every pending row per claim).
async fn the_claim_walks_the_claim_index_however_deep_the_backlog(h: &Harness) {
    let backlog: Vec<NewTask> = (0..20_000).map(|i| NewTask::new("w", format!("a{}", i % 7))).collect();
    let now = h.engine.now();
    h.engine.store().task_insert_many(&TaskInsertManyParams { tasks: &backlog, now }).await.unwrap();
    let plan = h.engine.store().explain_claim().await.unwrap();
    let claim_index = format!("{}s_tasks_claim", h.settings.table_prefix);
    let lines: Vec<&str> = plan.lines().collect();
    match &h.settings.dsn {
        Dsn::Sqlite { .. } => {
            // The subquery searches the claim index (ordered, LIMIT); the update
            // finds each claimed id by rowid. No full scan, no sort.
            assert!(
                lines.iter().any(|l| l.contains(&format!("SEARCH {}s_tasks USING INTEGER PRIMARY KEY", h.settings.table_prefix))),
                "{plan}"
            );
            assert!(
                lines.iter().any(|l| l.contains(&format!("INDEX {claim_index} (status=?")) && !l.contains("COVERING")),
                "{plan}"
            );
            assert!(
                !lines.iter().any(|l| l.contains(&format!("INDEX {claim_index} (status=?)"))),
                "the update walks the pending rows: {plan}"
            );
            assert!(!plan.contains("SCAN ") && !plan.contains("TEMP B-TREE"), "{plan}");
        }
        Dsn::Postgres { .. } => {
            assert!(plan.contains(&format!("Index Scan using {claim_index} on ")), "{plan}");
            for walk in ["Seq Scan", "Sort", "Bitmap Heap Scan"] {
                assert!(!plan.contains(walk), "{walk} in the claim: {plan}");
            }
            // The same once the statistics are fresh (what maintenance does;
            // the server's counters can lag the inserts by up to 10 s).
            let mut refreshed = false;
            for _ in 0..60 {
                refreshed = h.engine.store().refresh_statistics(0, 0.0).await.unwrap();
                if refreshed {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            assert!(refreshed, "no ANALYZE within 15 s");
            // It runs in the background: done when nothing is due any more.
            for _ in 0..60 {
                if !h.engine.store().refresh_statistics(0, 0.0).await.unwrap() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            let analyzed = h.engine.store().explain_claim().await.unwrap();
            assert!(analyzed.contains(&format!("Index Scan using {claim_index} on ")), "{analyzed}");
        }
        Dsn::Mysql { .. } => {
            assert_eq!(lines.len(), 2, "{plan}");
            assert!(lines[0].contains(&format!("key={claim_index} ")), "{plan}");
            assert!(!lines[0].contains("filesort") && !lines[0].contains("type=ALL"), "{plan}");
            assert!(lines[1].contains("key=PRIMARY ") && lines[1].contains("type=range"), "{plan}");
        }
    }
    // And the plan does what it says: the oldest first, exactly the limit.
    let claimed = h.engine.claim(100).await.unwrap();
    assert_eq!(claimed.len(), 100);
    assert!(claimed.windows(2).all(|w| w[0].id < w[1].id));
}

/// The maintenance leader refreshes PostgreSQL's planner statistics once
/// enough rows changed (its servers may run without autovacuum); the other
/// backends need none (InnoDB keeps its own; SQLite plans without them).
async fn statistics_are_refreshed_once_enough_rows_changed(h: &Harness) {
    use stask::engine::maintenance::statistics::{Statistics, StatisticsConfig};
    let stats = Statistics::new(&h.engine, StatisticsConfig { min_changes: 500, fraction: 0.1 }).unwrap();
    let tasks: Vec<NewTask> = (0..2_000).map(|_| NewTask::new("w", "a")).collect();
    let now = h.engine.now();
    h.engine.store().task_insert_many(&TaskInsertManyParams { tasks: &tasks, now }).await.unwrap();
    let is_postgres = matches!(h.settings.dsn, Dsn::Postgres { .. });
    // The server's counters lag the inserts (up to 10 s when idle).
    let mut refreshed = stats.run_once().await.unwrap();
    for _ in 0..60 {
        if refreshed || !is_postgres {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        refreshed = stats.run_once().await.unwrap();
    }
    assert_eq!(refreshed, is_postgres);
    // Fresh once the background ANALYZE is done: nothing to do until the
    // table changes again.
    if is_postgres {
        let mut due = true;
        for _ in 0..60 {
            tokio::time::sleep(Duration::from_millis(250)).await;
            due = stats.run_once().await.unwrap();
            if !due {
                break;
            }
        }
        assert!(!due, "still due 15 s after the refresh");
    }
}

/// SQLite checkpoints its WAL only when an autocommit statement runs to its
/// end: a create (INSERT … RETURNING) or a progress report read with one
/// step left the WAL growing by every commit (448 MB after 20,000 creates).
/// With the automatic checkpoint running, the file stays near its 1,000-page
/// threshold (4 MB) however many tasks are created one by one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_wal_is_checkpointed_between_single_writes() {
    let h = Harness::sqlite().await;
    let wal = h.dir.path().join("stask.sqlite-wal");
    for _ in 0..3_000 {
        let id = h.task("w", |_| {}).await;
        h.engine.progress_push(id, &ProgressDelta { progress: Some(1), ..Default::default() }).await.unwrap();
    }
    let size = std::fs::metadata(&wal).unwrap().len();
    assert!(size < 8 << 20, "the WAL grew to {size} bytes");
}

async fn a_claim_whose_answer_was_lost_goes_back_to_the_queue(h: &Harness) {
    let lost1 = h.task("w", |_| {}).await;
    let lost2 = h.task("w", |_| {}).await;
    let kept = h.task("w", |_| {}).await;
    // What a claim that committed while its reply was lost (a server
    // restart between COMMIT and the answer) leaves behind: rows under
    // this process's lease that the process never heard of.
    let now = chrono::Utc::now();
    let p = TaskClaimParams {
        now,
        limit: 2,
        owner: h.engine.owner().to_string(),
        lease_expires_at: now + chrono::Duration::minutes(5),
        after: (0, 0),
    };
    let taken: Vec<i64> = h.engine.store().task_claim(&p).await.unwrap().iter().map(|t| t.id).collect();
    assert_eq!(taken, vec![lost1, lost2]);
    let held: Vec<i64> = h.engine.claim(10).await.unwrap().iter().map(|t| t.id).collect();
    assert_eq!(held, vec![kept]);

    assert_eq!(h.engine.release_lost_claims().await, 2);
    for id in [lost1, lost2] {
        let row = h.engine.require_task(id).await.unwrap();
        assert_eq!(row.status, Status::Pending.code(), "task {id} is back in the queue");
        assert_eq!(row.attempts, 0, "the interrupted claim did not spend an attempt");
        assert!(row.lease_owner.is_none());
    }
    assert_eq!(h.status(kept).await, Status::Running.code(), "a task this process runs keeps its lease");
    assert_eq!(h.engine.release_lost_claims().await, 0, "nothing is given back twice");
    let again: Vec<i64> = h.engine.claim(10).await.unwrap().iter().map(|t| t.id).collect();
    assert_eq!(again, vec![lost1, lost2], "and they are claimed again");
}

/// PostgreSQL: no index of the task table holds `status`, even in its
/// WHERE, so that finishing a task (running -> completed) is a HOT update
/// (no new index entries). A table of the previous layout (claim index on
/// status, unique index with status in its predicate, no derived columns)
/// is brought to this one by migrate(), keeping its tasks and what they
/// hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_task_table_of_the_previous_layout_is_upgraded_and_finishes_are_hot() {
    let h = Harness::server(Dsn::Postgres { url: pg_url() }, "upgradelayout").await;
    let p = h.settings.table_prefix.clone();
    let t = format!("{p}s_tasks");
    let keyed = h.task("w", |t| t.unique_key = Some("k".into())).await;
    let plain = h.task("w", |_| {}).await;
    let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&pg_url()).await.unwrap();
    let ddl = |sql: String| sqlx::raw_sql(sqlx::AssertSqlSafe(sql));
    ddl(format!(
        "DROP INDEX {p}s_tasks_claim; DROP INDEX {p}s_tasks_unique_active; DROP INDEX {p}s_tasks_unique_key; \
         ALTER TABLE {t} DROP COLUMN claim_rank, DROP COLUMN unique_active, RESET (fillfactor); \
         CREATE INDEX {p}s_tasks_claim ON {t} (status, priority_rank, id); \
         CREATE UNIQUE INDEX {p}s_tasks_unique_active ON {t} (unique_key) WHERE unique_key IS NOT NULL AND status IN (10, 15, 20)"
    ))
    .execute(&mut c)
    .await
    .unwrap();

    let engine = h.twin().await;
    engine.migrate().await.unwrap();
    let defs: Vec<String> = sqlx::query_scalar("SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = $1::regclass")
        .bind(&t)
        .fetch_all(&mut c)
        .await
        .unwrap();
    assert!(defs.iter().any(|d| d.contains("(claim_rank, id) WHERE (claim_rank IS NOT NULL)")), "{defs:?}");
    assert!(defs.iter().any(|d| d.contains("UNIQUE INDEX") && d.contains("(unique_active)")), "{defs:?}");
    assert!(!defs.iter().any(|d| d.contains("status")), "an index holds status: {defs:?}");
    let options: Option<Vec<String>> =
        sqlx::query_scalar("SELECT reloptions FROM pg_class WHERE oid = $1::regclass").bind(&t).fetch_one(&mut c).await.unwrap();
    assert_eq!(options, Some(vec!["fillfactor=50".to_string()]));

    // What the tasks held survives: the key still returns its task, and
    // both are claimed in order.
    let again = engine.create_task({
        let mut n = NewTask::new("w", "run");
        n.unique_key = Some("k".into());
        n
    });
    assert_eq!(again.await.unwrap().id, keyed);
    let claimed = engine.claim(10).await.unwrap();
    assert_eq!(claimed.iter().map(|t| t.id).collect::<Vec<_>>(), vec![keyed, plain]);

    // Finishes are HOT updates (the server's counters lag by up to a few
    // seconds).
    let outcomes: Vec<Outcome> = claimed.iter().map(|t| engine.outcome(t, Attempt::Returned, 0.01, 0, 1.0)).collect();
    engine.finish(&outcomes).await.unwrap();
    let mut hot = 0i64;
    for _ in 0..60 {
        hot = sqlx::query_scalar("SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relid = $1::regclass")
            .bind(&t)
            .fetch_one(&mut c)
            .await
            .unwrap();
        if hot >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(hot >= 1, "no finish was a HOT update");
    drop(engine);
    h.cleanup().await;
}
