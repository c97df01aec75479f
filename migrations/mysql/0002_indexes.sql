-- Indexes chosen for the hot queries (run after the columns exist). Every
-- index is paid for on each insert and claim, so there are few. MySQL has no
-- CREATE INDEX IF NOT EXISTS: the store creates each one whose name is not
-- in information_schema.STATISTICS yet, so each statement names its index
-- right after INDEX and its table right after ON.
-- Claim: status = 10 AND available_at <= now ORDER BY priority_rank, id,
-- locked with FOR UPDATE SKIP LOCKED along this index. The rescuer reads
-- running rows through it too. A conversion creates it only after its status
-- update committed, so its absence tells an interrupted conversion apart
-- from a finished one.
CREATE INDEX {prefix}s_tasks_claim ON {prefix}s_tasks (status, priority_rank, id);
-- Per-worker lists and statistics. Prefixes keep the key under InnoDB's
-- 3072-byte limit in utf8mb4 (4 bytes a character) on any row format.
CREATE INDEX {prefix}s_tasks_identifier ON {prefix}s_tasks (identifier(191), action(191));
-- Dashboards and summaries by time window.
CREATE INDEX {prefix}s_tasks_created ON {prefix}s_tasks (created_at);
-- One active task per unique key (unique_active is NULL otherwise, and NULLs
-- never collide).
CREATE UNIQUE INDEX {prefix}s_tasks_unique_active ON {prefix}s_tasks (unique_active);
-- One task per schedule slot and worker. No partial index here: NULLs
-- (every unscheduled task) never collide. The identifier prefix is the one
-- the identifier index uses; identifiers longer than 191 characters that
-- share it would share slots, which no real worker name does.
CREATE UNIQUE INDEX {prefix}s_tasks_schedule_slot ON {prefix}s_tasks (identifier(191), schedule_slot);
CREATE UNIQUE INDEX {prefix}s_workers_identifier_unique ON {prefix}s_workers (identifier);
CREATE INDEX {prefix}s_workers_order ON {prefix}s_workers (position, identifier);
-- A task's attempts, in order (the task detail).
CREATE INDEX {prefix}s_task_attempts_task ON {prefix}s_task_attempts (task_id, attempt);
