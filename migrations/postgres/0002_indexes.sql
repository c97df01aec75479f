-- Indexes chosen for the hot queries (run after the columns exist). Every
-- index is paid for on each insert and claim, so there are few, and none
-- holds `status`, even in its WHERE: a finish (running -> completed) then
-- changes no indexed column, and PostgreSQL stores it as a HOT update, on
-- the row's own page with no new index entry (fillfactor leaves it room).
-- With `status` indexed, every finish wrote a new entry into every index.
-- Claim: pending (claim_rank IS NOT NULL, the rank while status = 10) AND
-- available_at <= now ORDER BY claim_rank, id. Rows not yet available
-- (scheduled, backing off) are few and filtered on the way.
CREATE INDEX IF NOT EXISTS {prefix}s_tasks_claim ON {prefix}s_tasks (claim_rank, id) WHERE claim_rank IS NOT NULL;
-- Per-worker lists and statistics.
CREATE INDEX IF NOT EXISTS {prefix}s_tasks_identifier ON {prefix}s_tasks (identifier, action);
-- Dashboards and summaries by time window.
CREATE INDEX IF NOT EXISTS {prefix}s_tasks_created ON {prefix}s_tasks (created_at);
-- One active task per unique key: unique_active is the key while the task
-- is pending, preparing or running (rows without one are not indexed).
CREATE UNIQUE INDEX IF NOT EXISTS {prefix}s_tasks_unique_active ON {prefix}s_tasks (unique_active) WHERE unique_active IS NOT NULL;
-- A task by its key, whatever its status (the key never changes).
CREATE INDEX IF NOT EXISTS {prefix}s_tasks_unique_key ON {prefix}s_tasks (unique_key) WHERE unique_key IS NOT NULL;
-- One task per schedule slot and worker (only scheduled tasks are indexed).
CREATE UNIQUE INDEX IF NOT EXISTS {prefix}s_tasks_schedule_slot ON {prefix}s_tasks (identifier, schedule_slot) WHERE schedule_slot IS NOT NULL;
-- Also the arbiter of the worker insert's ON CONFLICT (identifier). A table
-- made by the PHP package already has it under this name (Laravel's
-- `{table}_{column}_unique`), so nothing is built twice.
CREATE UNIQUE INDEX IF NOT EXISTS {prefix}s_workers_identifier_unique ON {prefix}s_workers (identifier);
CREATE INDEX IF NOT EXISTS {prefix}s_workers_order ON {prefix}s_workers (position, identifier);
-- A task's attempts, in order (the task detail).
CREATE INDEX IF NOT EXISTS {prefix}s_task_attempts_task ON {prefix}s_task_attempts (task_id, attempt);
