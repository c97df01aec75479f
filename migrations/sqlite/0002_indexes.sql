-- Indexes chosen for the hot queries (run after the columns exist).
-- Claim: status = 10 AND available_at <= now ORDER BY priority_rank, id.
CREATE INDEX IF NOT EXISTS {prefix}s_tasks_claim ON {prefix}s_tasks (status, priority_rank, id);
-- Scheduled and backed-off tasks: the claim skips rows not yet available.
CREATE INDEX IF NOT EXISTS {prefix}s_tasks_available ON {prefix}s_tasks (status, available_at);
-- Rescue of expired leases.
CREATE INDEX IF NOT EXISTS {prefix}s_tasks_lease ON {prefix}s_tasks (status, lease_expires_at);
-- Per-worker lists and stats, cleanup by age, dashboards by time.
CREATE INDEX IF NOT EXISTS {prefix}s_tasks_identifier ON {prefix}s_tasks (identifier, action);
CREATE INDEX IF NOT EXISTS {prefix}s_tasks_created ON {prefix}s_tasks (created_at);
CREATE INDEX IF NOT EXISTS {prefix}s_tasks_finished ON {prefix}s_tasks (status, finished_at);
-- One active task per unique key (NULL keys are not compared).
CREATE UNIQUE INDEX IF NOT EXISTS {prefix}s_tasks_unique_active ON {prefix}s_tasks (unique_key) WHERE unique_key IS NOT NULL AND status IN (10, 15, 20);
CREATE UNIQUE INDEX IF NOT EXISTS {prefix}s_workers_identifier_unique ON {prefix}s_workers (identifier);
CREATE INDEX IF NOT EXISTS {prefix}s_workers_order ON {prefix}s_workers (position, identifier);
