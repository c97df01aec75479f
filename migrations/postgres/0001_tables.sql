-- stask schema for PostgreSQL 10+. `{prefix}` is replaced with the table prefix.
-- Idempotent: a database created by the PHP package keeps its tables; the
-- store adds the engine's columns to them and converts the status codes.
-- Every timestamp is `timestamp(6) without time zone` holding UTC: the
-- engine binds and reads UTC values, so the session time zone never matters.
-- JSON documents (meta, result, settings) are TEXT so they round-trip byte
-- for byte, as on SQLite and MySQL.

CREATE TABLE IF NOT EXISTS {prefix}s_workers (
    id BIGSERIAL PRIMARY KEY,
    uuid VARCHAR(36) NULL,
    identifier VARCHAR(255) NOT NULL,
    scope VARCHAR(255) NOT NULL DEFAULT '',
    class VARCHAR(255) NOT NULL,
    active BOOLEAN NOT NULL DEFAULT false,
    position INTEGER NOT NULL DEFAULT 0,
    settings TEXT NOT NULL DEFAULT '{}',
    hidden INTEGER NOT NULL DEFAULT 0,
    title VARCHAR(255) NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    icon TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP(6) WITHOUT TIME ZONE NULL,
    updated_at TIMESTAMP(6) WITHOUT TIME ZONE NULL
);

CREATE TABLE IF NOT EXISTS {prefix}s_tasks (
    id BIGSERIAL PRIMARY KEY,
    identifier VARCHAR(255) NOT NULL,
    action VARCHAR(255) NOT NULL,
    status SMALLINT NOT NULL DEFAULT 10,
    message TEXT NULL,
    started_by BIGINT NULL,
    meta TEXT NULL,
    result TEXT NULL,
    start_at TIMESTAMP(6) WITHOUT TIME ZONE NULL,
    finished_at TIMESTAMP(6) WITHOUT TIME ZONE NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 3,
    priority VARCHAR(255) NOT NULL DEFAULT 'normal',
    progress INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP(6) WITHOUT TIME ZONE NULL,
    updated_at TIMESTAMP(6) WITHOUT TIME ZONE NULL,
    -- engine columns
    priority_rank INTEGER NOT NULL DEFAULT 5,
    available_at TIMESTAMP(6) WITHOUT TIME ZONE NULL,
    started_at TIMESTAMP(6) WITHOUT TIME ZONE NULL,
    duration DOUBLE PRECISION NULL,
    peak_memory BIGINT NULL,
    last_error TEXT NULL,
    cancel_requested BOOLEAN NOT NULL DEFAULT false,
    lease_owner VARCHAR(255) NULL,
    lease_expires_at TIMESTAMP(6) WITHOUT TIME ZONE NULL,
    snapshot TEXT NULL,
    unique_key VARCHAR(255) NULL,
    -- The schedule slot (UTC instant) a scheduled `make` task was created
    -- for; unique per worker, so a slot fires once however many hosts run.
    schedule_slot VARCHAR(32) NULL
    -- claim_rank and unique_active, derived from status, are added by the
    -- store (postgres.rs, DERIVED_COLUMNS): generated columns on 12+, a
    -- trigger on 10 and 11, which cannot parse the generated ones.
);

-- Named leases between hosts: the maintenance leader (one rescuer per
-- database, not one per host).
CREATE TABLE IF NOT EXISTS {prefix}s_task_leaders (
    name VARCHAR(64) PRIMARY KEY,
    owner VARCHAR(255) NOT NULL,
    expires_at TIMESTAMP(6) WITHOUT TIME ZONE NOT NULL
);

-- The scheduler's memory per worker: when its schedule was last evaluated
-- (a slot with no evaluation in its grace time was missed) and the last
-- task a slot created (shown on the worker's card).
CREATE TABLE IF NOT EXISTS {prefix}s_task_schedules (
    identifier VARCHAR(255) NOT NULL PRIMARY KEY,
    evaluated_at TIMESTAMP(6) WITHOUT TIME ZONE NOT NULL,
    last_slot VARCHAR(32) NULL,
    last_task_id BIGINT NULL,
    updated_at TIMESTAMP(6) WITHOUT TIME ZONE NOT NULL
);

-- Live worker processes: each worker loop registers itself, beats every
-- few seconds and removes itself on exit; one killed outright stops beating
-- and counts as gone after two minutes (the leader deletes its row later).
CREATE TABLE IF NOT EXISTS {prefix}s_task_processes (
    owner VARCHAR(255) NOT NULL PRIMARY KEY,
    host VARCHAR(255) NOT NULL,
    pid BIGINT NOT NULL,
    version VARCHAR(32) NOT NULL,
    started_at TIMESTAMP(6) WITHOUT TIME ZONE NOT NULL,
    heartbeat_at TIMESTAMP(6) WITHOUT TIME ZONE NOT NULL,
    tasks_done BIGINT NOT NULL DEFAULT 0,
    current_task BIGINT NULL
);

-- Attempts that did not end a task well (failed, lost, cancelled), one row
-- each, with the error's class, message and a bounded stack trace. A task
-- that completes at its first attempt writes none: its row says it all,
-- and the hot path stays one write per task.
CREATE TABLE IF NOT EXISTS {prefix}s_task_attempts (
    id BIGSERIAL PRIMARY KEY,
    task_id BIGINT NOT NULL,
    attempt INTEGER NOT NULL,
    started_at TIMESTAMP(6) WITHOUT TIME ZONE NULL,
    finished_at TIMESTAMP(6) WITHOUT TIME ZONE NOT NULL,
    duration DOUBLE PRECISION NULL,
    peak_memory BIGINT NULL,
    owner VARCHAR(255) NULL,
    outcome VARCHAR(16) NOT NULL,
    error_class VARCHAR(255) NULL,
    message TEXT NULL,
    trace TEXT NULL
);
