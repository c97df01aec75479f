-- Indexes chosen for the hot queries (run after the columns exist), the same
-- set as SQLite's 0002. Every index is paid for on each insert and claim, so
-- there are few:
-- Claim: status = 10 AND available_at <= now ORDER BY priority_rank, id.
-- Rows not yet available (scheduled, backing off) are few and filtered on
-- the way; the rescuer reads running rows through the same index.
CREATE INDEX IF NOT EXISTS {prefix}s_tasks_claim ON {prefix}s_tasks (status, priority_rank, id);
-- Per-worker lists and statistics.
CREATE INDEX IF NOT EXISTS {prefix}s_tasks_identifier ON {prefix}s_tasks (identifier, action);
-- Dashboards and summaries by time window.
CREATE INDEX IF NOT EXISTS {prefix}s_tasks_created ON {prefix}s_tasks (created_at);
-- One active task per unique key (rows without a key are not indexed).
CREATE UNIQUE INDEX IF NOT EXISTS {prefix}s_tasks_unique_active ON {prefix}s_tasks (unique_key) WHERE unique_key IS NOT NULL AND status IN (10, 15, 20);
-- One task per schedule slot and worker (only scheduled tasks are indexed).
CREATE UNIQUE INDEX IF NOT EXISTS {prefix}s_tasks_schedule_slot ON {prefix}s_tasks (identifier, schedule_slot) WHERE schedule_slot IS NOT NULL;
-- Also the arbiter of the worker insert's ON CONFLICT (identifier). A table
-- made by the PHP package already has it under this name (Laravel's
-- `{table}_{column}_unique`), so nothing is built twice.
CREATE UNIQUE INDEX IF NOT EXISTS {prefix}s_workers_identifier_unique ON {prefix}s_workers (identifier);
CREATE INDEX IF NOT EXISTS {prefix}s_workers_order ON {prefix}s_workers (position, identifier);
-- A task's attempts, in order (the task detail).
CREATE INDEX IF NOT EXISTS {prefix}s_task_attempts_task ON {prefix}s_task_attempts (task_id, attempt);
