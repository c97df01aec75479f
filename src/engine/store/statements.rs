//! Every statement the backends share, written once with named parameters
//! and turned into a dialect's SQL when the store connects. The state
//! machine's edges name their statements; their status guards come from
//! `task::state`, where the edges are defined.

use super::dialect::{Dialect, Stmt};
use super::TASK_INSERT_COLUMNS;
use crate::engine::query::Table;
use crate::engine::task::state::status_condition;
use crate::engine::task::Edge;

pub struct Statements {
    pub d: Dialect,
    pub prefix: String,
    pub tasks: String,
    pub workers: String,
    pub leaders: String,
    pub schedules: String,
    pub processes: String,
    pub attempts: String,
    /// `id, identifier, …`: the task columns every read returns, in the
    /// order `rows::task` reads them.
    pub task_columns: String,
    pub worker_columns: String,
    /// The LISTEN/NOTIFY channel of this prefix's tasks (PostgreSQL).
    pub channel: String,
    pub insert_task: Stmt,
    pub get_task: Stmt,
    pub claim_id: Stmt,
    pub finish_completed: Stmt,
    pub finish_retry: Stmt,
    pub finish_failed: Stmt,
    pub finish_cancelled: Stmt,
    pub finish_released: Stmt,
    pub state_of: Stmt,
    pub progress: Stmt,
    pub progress_ack: Stmt,
    pub cancel_pending: Stmt,
    pub cancel_running: Stmt,
    pub status_of: Stmt,
    pub select_expired: Stmt,
    pub rescue_retry: Stmt,
    pub rescue_fail: Stmt,
    pub retry: Stmt,
    pub delete_completed: Stmt,
    pub count_by_status: Stmt,
    pub summary: Stmt,
    pub worker_stats_all: Stmt,
    pub worker_stats_one: Stmt,
    pub common_errors: Stmt,
    pub timeline: Stmt,
    pub latest_per_identifier: Stmt,
    pub counters: Stmt,
    pub worker_get: Stmt,
    pub worker_insert: Stmt,
    pub worker_update_info: Stmt,
    pub worker_counts: Stmt,
    pub leader_upsert: Stmt,
    pub leader_renew: Stmt,
    pub leader_insert: Stmt,
    pub insert_scheduled: Stmt,
    pub schedule_states: Stmt,
    pub schedule_touch: Stmt,
    pub schedule_insert: Stmt,
    pub process_insert: Stmt,
    pub process_beat: Stmt,
    pub process_delete: Stmt,
    pub process_list: Stmt,
    pub process_expire: Stmt,
    pub attempt_insert: Stmt,
    pub attempts_of: Stmt,
    pub attempts_delete_before: Stmt,
}

/// Where a finished or handed-back task lets go of its lease.
const RELEASE: &str = "lease_owner = NULL, lease_expires_at = NULL";

impl Statements {
    pub fn new(d: Dialect, prefix: &str) -> Statements {
        let t = format!("{prefix}s_tasks");
        let w = format!("{prefix}s_workers");
        let l = format!("{prefix}s_task_leaders");
        let sc = format!("{prefix}s_task_schedules");
        let pr = format!("{prefix}s_task_processes");
        let at = format!("{prefix}s_task_attempts");
        let tc = crate::engine::task::COLUMNS.join(", ");
        let wc = crate::engine::worker::COLUMNS.join(", ");
        let bo = d.byte_order;
        let s = |sql: String| d.stmt(&sql);
        // RETURNING where the dialect has it; elsewhere the caller reads back.
        let returning = |cols: &str| if d.returning { format!(" RETURNING {cols}") } else { String::new() };
        // A NOTIFY in the statement that makes a task due: PostgreSQL
        // delivers it on commit, and not at all when the statement fails.
        let notify = if d.notify { ", pg_notify(:channel, '')" } else { "" };
        let held = status_condition(Edge::Finished);
        let summary = [
            "COUNT(*) AS total".to_string(),
            "COUNT(CASE WHEN status = 10 THEN 1 END) AS queued".into(),
            "COUNT(CASE WHEN status IN (15, 20) THEN 1 END) AS running".into(),
            "COUNT(CASE WHEN status = 30 THEN 1 END) AS completed".into(),
            "COUNT(CASE WHEN status = 40 THEN 1 END) AS failed".into(),
            "COUNT(CASE WHEN status = 50 THEN 1 END) AS cancelled".into(),
            // Durations and memory only count attempts that ran to an end.
            format!("{} AS avg_duration", d.float("AVG(CASE WHEN status IN (30, 40) THEN duration END)")),
            format!("{} AS avg_memory", d.float("AVG(CASE WHEN status IN (30, 40) THEN peak_memory END)")),
            format!("{} AS sum_duration", d.float("SUM(CASE WHEN status IN (30, 40) THEN duration END)")),
        ]
        .join(", ");
        let stats = |filter: &str| {
            s(format!(
                "SELECT identifier, {summary}, MAX(COALESCE(finished_at, started_at, updated_at)) AS last_execution \
                 FROM {t} WHERE created_at >= :since{filter} GROUP BY identifier ORDER BY identifier{bo}"
            ))
        };
        // The cleaner's age rule, for attempts whose task is gone (deleted
        // by the cleaner or by hand); a kept task keeps its history.
        let attempts_delete_before = s(format!(
            "DELETE FROM {at} WHERE finished_at < :before AND NOT EXISTS (SELECT 1 FROM {t} WHERE {t}.id = {at}.task_id)"
        ));
        Statements {
            // Only the id comes back: the caller knows every other value.
            insert_task: s(format!(
                "INSERT INTO {t} ({TASK_INSERT_COLUMNS}) VALUES (:identifier, :action, :status, :message, :started_by, \
                 :meta, :result, :start_at, 0, :max_attempts, :priority, :priority_rank, :progress, :now, :now, \
                 :available_at, :unique_key){}{}",
                returning("id"),
                if d.returning { notify } else { "" }
            )),
            get_task: s(format!("SELECT {tc} FROM {t} WHERE id = :id")),
            // Edge Claimed for one given task (`sTask::execute`).
            claim_id: s(format!(
                "UPDATE {t} SET status = 20, attempts = attempts + 1, started_at = :now, updated_at = :now, \
                 lease_owner = :owner, lease_expires_at = :lease, cancel_requested = false WHERE id = :id AND {}{}",
                status_condition(Edge::Claimed),
                returning(&tc)
            )),
            // Edge Finished. Guarded by its CASEs: only a task still held
            // moves, so what the worker decided itself (markFailed...)
            // stands; a worker that marked itself completed still gets
            // progress 100. MySQL assigns left to right with the values
            // already assigned, so `message` and `progress` read `status`
            // before it is overwritten (SQLite and PostgreSQL read the old
            // row either way).
            finish_completed: s(format!(
                "UPDATE {t} SET message = CASE WHEN {held} THEN :message ELSE message END, \
                 progress = CASE WHEN status IN (15, 20, 30) THEN 100 ELSE progress END, \
                 status = CASE WHEN {held} THEN 30 ELSE status END, \
                 finished_at = COALESCE(finished_at, :now), duration = :duration, peak_memory = :peak_memory, \
                 {RELEASE}, updated_at = :now WHERE id = :id{}",
                returning("id, status, message")
            )),
            // Edge FailedWithAttemptsLeft.
            finish_retry: s(format!(
                "UPDATE {t} SET status = 10, message = :message, last_error = :error, available_at = :available_at, \
                 duration = :duration, peak_memory = :peak_memory, {RELEASE}, updated_at = :now WHERE id = :id AND {}{}",
                status_condition(Edge::FailedWithAttemptsLeft),
                returning("id, status, message")
            )),
            // Edges AttemptsExhausted / WorkerMissing.
            finish_failed: s(format!(
                "UPDATE {t} SET status = 40, message = :message, last_error = :error, finished_at = :now, \
                 duration = :duration, peak_memory = :peak_memory, {RELEASE}, updated_at = :now WHERE id = :id AND {}{}",
                status_condition(Edge::AttemptsExhausted),
                returning("id, status, message")
            )),
            // Edge CancelSeen.
            finish_cancelled: s(format!(
                "UPDATE {t} SET status = 50, message = :message, finished_at = :now, duration = :duration, \
                 peak_memory = :peak_memory, {RELEASE}, updated_at = :now WHERE id = :id AND {}{}",
                status_condition(Edge::CancelSeen),
                returning("id, status, message")
            )),
            // Edge WorkerInactive: the attempt is given back. CASE rather
            // than GREATEST/MAX(attempts - 1, 0): on the PHP package's
            // UNSIGNED MySQL column, 0 - 1 is an out-of-range error.
            finish_released: s(format!(
                "UPDATE {t} SET status = 10, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, \
                 message = :message, available_at = :available_at, {RELEASE}, updated_at = :now WHERE id = :id AND {}{}",
                status_condition(Edge::WorkerInactive),
                returning("id, status, message")
            )),
            // Progress mirror; also tells the worker about a cancel request
            // (RETURNING, or `progress_ack` right after).
            progress: s(format!(
                "UPDATE {t} SET progress = :progress, message = :message, snapshot = :snapshot, updated_at = :now \
                 WHERE id = :id{}",
                returning("status, cancel_requested")
            )),
            // Where a task ended up, read inside the finishing transaction.
            state_of: s(format!("SELECT id, status, message FROM {t} WHERE id = :id")),
            progress_ack: s(format!("SELECT status, cancel_requested FROM {t} WHERE id = :id")),
            // Edge CancelPending.
            cancel_pending: s(format!(
                "UPDATE {t} SET status = 50, message = 'Cancelled', finished_at = :now, updated_at = :now \
                 WHERE id = :id AND {}",
                status_condition(Edge::CancelPending)
            )),
            // A running task is only asked to stop: the worker sees the flag
            // at its next progress report.
            cancel_running: s(format!(
                "UPDATE {t} SET cancel_requested = true, updated_at = :now WHERE id = :id AND {}",
                status_condition(Edge::CancelRequested)
            )),
            status_of: s(format!("SELECT status FROM {t} WHERE id = :id")),
            // The rescuer's batch: running rows past their lease, by id cursor.
            select_expired: s(format!(
                "SELECT {tc} FROM {t} WHERE {} AND lease_expires_at < :now AND id > :after ORDER BY id LIMIT :limit",
                status_condition(Edge::LeaseExpired)
            )),
            // Edge LeaseExpired with attempts left. The expiry is checked
            // again so that a heartbeat that landed meanwhile wins (WHERE is
            // evaluated before any assignment).
            rescue_retry: s(format!(
                "UPDATE {t} SET status = 10, available_at = :available_at, message = :message, last_error = :message, \
                 {RELEASE}, cancel_requested = false, updated_at = :now \
                 WHERE id = :id AND {} AND lease_expires_at < :now",
                status_condition(Edge::LeaseExpired)
            )),
            // Edge LeaseExpired, attempts exhausted.
            rescue_fail: s(format!(
                "UPDATE {t} SET status = 40, message = :message, last_error = :message, finished_at = :now, {RELEASE}, \
                 updated_at = :now WHERE id = :id AND {} AND lease_expires_at < :now",
                status_condition(Edge::LeaseExpired)
            )),
            // Edge ManualRetry: at least one more attempt is granted. The
            // notification wakes idle workers, as for an insert.
            retry: s(format!(
                "UPDATE {t} SET status = 10, available_at = :now, finished_at = NULL, cancel_requested = false, \
                 message = 'Queued for retry', \
                 max_attempts = CASE WHEN max_attempts > attempts THEN max_attempts ELSE attempts + 1 END, \
                 progress = 0, updated_at = :now WHERE id = :id AND {}{}",
                status_condition(Edge::ManualRetry),
                if d.notify { format!(" RETURNING id{notify}") } else { String::new() }
            )),
            delete_completed: s(format!("DELETE FROM {t} WHERE status = 30 AND finished_at < :before RETURNING id")),
            count_by_status: s(format!("SELECT status, COUNT(*) AS n FROM {t} GROUP BY status")),
            summary: s(format!("SELECT {summary} FROM {t} WHERE created_at >= :since")),
            worker_stats_all: stats(""),
            worker_stats_one: stats(" AND identifier = :identifier"),
            common_errors: s(format!(
                "SELECT last_error, COUNT(*) AS n FROM {t} WHERE status = 40 AND created_at >= :since \
                 AND last_error IS NOT NULL GROUP BY last_error ORDER BY n DESC, last_error{bo} LIMIT :limit"
            )),
            // Attempts that ended are looked up among tasks created since
            // `:floor` (`timeline_created_floor`), on the created_at index.
            timeline: s(format!(
                "SELECT h, {} AS created, {} AS completed, {} AS failed, {} AS avg_duration FROM ( \
                 SELECT {} AS h, 1 AS c, 0 AS ok, 0 AS ko, NULL AS d FROM {t} WHERE created_at >= :since \
                 UNION ALL \
                 SELECT {}, 0, CASE WHEN status = 30 THEN 1 ELSE 0 END, CASE WHEN status = 40 THEN 1 ELSE 0 END, \
                 duration FROM {t} WHERE created_at >= :floor AND finished_at >= :since AND status IN (30, 40) \
                 ) x GROUP BY h ORDER BY h",
                d.int("SUM(c)"),
                d.int("SUM(ok)"),
                d.int("SUM(ko)"),
                d.float("AVG(d)"),
                d.hour("created_at"),
                d.hour("finished_at"),
            )),
            latest_per_identifier: s(format!(
                "SELECT {tc} FROM {t} WHERE id IN (SELECT MAX(id) FROM {t} GROUP BY identifier) ORDER BY identifier{bo}"
            )),
            // `/metrics` per identifier; only due pending tasks age.
            counters: s(format!(
                "SELECT identifier, COUNT(CASE WHEN status = 10 THEN 1 END) AS pending, \
                 COUNT(CASE WHEN status IN (15, 20) THEN 1 END) AS running, \
                 COUNT(CASE WHEN status = 30 THEN 1 END) AS completed, \
                 COUNT(CASE WHEN status = 40 THEN 1 END) AS failed, \
                 COUNT(CASE WHEN status = 50 THEN 1 END) AS cancelled, {} AS retried, \
                 MIN(CASE WHEN status = 10 AND available_at <= :now THEN available_at END) AS oldest_pending \
                 FROM {t} GROUP BY identifier ORDER BY identifier{bo}",
                d.int("COALESCE(SUM(CASE WHEN attempts > 1 THEN attempts - 1 ELSE 0 END), 0)")
            )),
            worker_get: s(format!("SELECT {wc} FROM {w} WHERE identifier = :identifier")),
            // New workers start inactive and last in order. An existing
            // identifier is left alone: NOT EXISTS skips it, and a racing
            // insert loses on the unique index (a Conflict), which the
            // caller also reads as "taken". The MAX sits in a derived table
            // because an aggregate without GROUP BY yields a row even when
            // WHERE matches nothing.
            worker_insert: s(format!(
                "INSERT INTO {w} (identifier, scope, class, active, position, settings, hidden, title, description, \
                 icon, created_at, updated_at) SELECT :identifier, :scope, :class, false, next.position, '{{}}', 0, \
                 :title, :description, :icon, :now, :now \
                 FROM (SELECT COALESCE(MAX(position), 0) + 1 AS position FROM {w}) AS next \
                 WHERE NOT EXISTS (SELECT 1 FROM {w} AS taken WHERE taken.identifier = :identifier)"
            )),
            worker_update_info: s(format!(
                "UPDATE {w} SET identifier = :identifier, scope = :scope, class = :class, title = :title, \
                 description = :description, icon = :icon, updated_at = :now WHERE id = :id"
            )),
            worker_counts: s(format!("SELECT COUNT(*) AS total, COUNT(CASE WHEN active THEN 1 END) AS active FROM {w}")),
            // Take the named lease when it is free, ours, or expired; the
            // row comes back only when we hold it.
            leader_upsert: s(format!(
                "INSERT INTO {l} AS l (name, owner, expires_at) VALUES (:name, :owner, :until) \
                 ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at \
                 WHERE l.owner = excluded.owner OR l.expires_at < :now RETURNING owner"
            )),
            // Without upsert (MySQL), step 1: renew it, or take it over once
            // expired, in one statement so two askers cannot both pass the
            // condition; rows matched = 1 means we hold it. Not INSERT … ON
            // DUPLICATE KEY UPDATE: MySQL assigns left to right, so the
            // second assignment would test the first one's result.
            leader_renew: s(format!(
                "UPDATE {l} SET owner = :owner, expires_at = :until WHERE name = :name AND (owner = :owner OR expires_at < :now)"
            )),
            // Step 2, when no row matched: a lease nobody ever held. A racing
            // asker that inserted first makes this fail as a Conflict: not ours.
            leader_insert: s(format!("INSERT INTO {l} (name, owner, expires_at) VALUES (:name, :owner, :until)")),
            // A schedule slot's task: the insert itself is the guard, as the
            // unique (identifier, schedule_slot) index refuses a second task
            // for the slot (a Conflict: another host created it).
            insert_scheduled: s(format!(
                "INSERT INTO {t} ({TASK_INSERT_COLUMNS}, schedule_slot) VALUES (:identifier, :action, :status, :message, \
                 :started_by, :meta, :result, :start_at, 0, :max_attempts, :priority, :priority_rank, :progress, :now, :now, \
                 :available_at, :unique_key, :slot){}{}",
                returning("id"),
                if d.returning { notify } else { "" }
            )),
            schedule_states: s(format!("SELECT identifier, evaluated_at, last_slot, last_task_id FROM {sc}")),
            // Evaluations may land out of order (two hosts): the instant
            // only moves forward, and so does the last slot. last_task_id
            // comes first because MySQL assigns left to right with the
            // values already assigned: it must read the old last_slot.
            schedule_touch: s(format!(
                "UPDATE {sc} SET evaluated_at = CASE WHEN evaluated_at < :now THEN :now ELSE evaluated_at END, \
                 last_task_id = CASE WHEN :slot IS NOT NULL AND (last_slot IS NULL OR last_slot < :slot) \
                 THEN :task ELSE last_task_id END, \
                 last_slot = CASE WHEN :slot IS NOT NULL AND (last_slot IS NULL OR last_slot < :slot) \
                 THEN :slot ELSE last_slot END, updated_at = :now WHERE identifier = :identifier"
            )),
            // When the touch matched no row: a racing first insert makes
            // this a Conflict, and the touch is tried again.
            schedule_insert: s(format!(
                "INSERT INTO {sc} (identifier, evaluated_at, last_slot, last_task_id, updated_at) \
                 VALUES (:identifier, :now, :slot, :task, :now)"
            )),
            d,
            channel: format!("{prefix}stask_tasks"),
            prefix: prefix.to_string(),
            task_columns: tc,
            worker_columns: wc,
            tasks: t,
            workers: w,
            // Live processes: one row per worker loop, owned by its engine.
            process_insert: s(format!(
                "INSERT INTO {pr} (owner, host, pid, version, started_at, heartbeat_at, tasks_done, current_task) \
                 VALUES (:owner, :host, :pid, :version, :started, :now, :done, :current)"
            )),
            process_beat: s(format!(
                "UPDATE {pr} SET heartbeat_at = :now, tasks_done = :done, current_task = :current WHERE owner = :owner"
            )),
            process_delete: s(format!("DELETE FROM {pr} WHERE owner = :owner")),
            process_list: s(format!(
                "SELECT owner, host, pid, version, started_at, heartbeat_at, tasks_done, current_task FROM {pr} \
                 ORDER BY started_at, owner"
            )),
            process_expire: s(format!("DELETE FROM {pr} WHERE heartbeat_at < :before")),
            attempt_insert: s(format!(
                "INSERT INTO {at} (task_id, attempt, started_at, finished_at, duration, peak_memory, owner, outcome, \
                 error_class, message, trace) VALUES (:task_id, :attempt, :started_at, :finished_at, :duration, \
                 :peak_memory, :owner, :outcome, :error_class, :message, :trace)"
            )),
            attempts_of: s(format!(
                "SELECT task_id, attempt, started_at, finished_at, duration, peak_memory, owner, outcome, error_class, \
                 message, trace FROM {at} WHERE task_id = :task_id ORDER BY attempt, id"
            )),
            attempts_delete_before,
            leaders: l,
            schedules: sc,
            processes: pr,
            attempts: at,
        }
    }

    pub fn table(&self, table: Table) -> &str {
        match table {
            Table::Tasks => &self.tasks,
            Table::Workers => &self.workers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_channel_and_tables_carry_the_prefix() {
        let st = Statements::new(Dialect::POSTGRES, "evo_");
        assert_eq!(st.channel, "evo_stask_tasks");
        assert!(st.insert_task.sql.contains("INSERT INTO evo_s_tasks"));
        assert!(st.insert_task.sql.contains("pg_notify($16, '')"), "{}", st.insert_task.sql);
        assert!(!st.get_task.sql.contains('*'), "reads list their columns");
    }
}
