-- stask schema for MySQL 8 and MariaDB 10.5+. `{prefix}` is replaced with
-- the table prefix. Idempotent: a database created by the PHP package keeps
-- its tables; the store adds the engine's columns to them, turns their
-- TIMESTAMP columns into DATETIME(6) and converts the status codes.
--
-- Every timestamp is DATETIME(6) holding UTC (each session sets
-- time_zone = '+00:00'): microseconds like the other dialects, and no 2038
-- limit as with TIMESTAMP. JSON documents are LONGTEXT, not JSON: MySQL's JSON
-- type rewrites the text (key order, spacing), and the engine hands back
-- exactly what it was given. TEXT defaults are written as expressions
-- (`DEFAULT ('')`), the only form MySQL 8 accepts for TEXT columns.
-- The tables use utf8mb4_unicode_ci as Laravel does (LIKE ignores case, as in
-- SQLite); the unique key compares bytes (utf8mb4_bin), as in SQLite and
-- PostgreSQL. The names rows are looked up by (s_workers.identifier,
-- s_tasks.identifier and action) are then given the server's padless binary
-- collation by the store (mysql.rs, `exact_names_on`), which differs between
-- MariaDB and MySQL, so that `PRODUCT` and `product ` do not find `product`.

CREATE TABLE IF NOT EXISTS {prefix}s_workers (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    uuid VARCHAR(36) NULL,
    identifier VARCHAR(255) NOT NULL,
    scope VARCHAR(255) NOT NULL DEFAULT '',
    class VARCHAR(255) NOT NULL,
    active TINYINT(1) NOT NULL DEFAULT 0,
    position INT NOT NULL DEFAULT 0,
    settings LONGTEXT NOT NULL DEFAULT ('{}'),
    hidden TINYINT(1) NOT NULL DEFAULT 0,
    title VARCHAR(255) NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT (''),
    icon TEXT NOT NULL DEFAULT (''),
    created_at DATETIME(6) NULL,
    updated_at DATETIME(6) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS {prefix}s_tasks (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    identifier VARCHAR(255) NOT NULL,
    action VARCHAR(255) NOT NULL,
    status SMALLINT NOT NULL DEFAULT 10,
    message TEXT NULL,
    started_by BIGINT NULL,
    meta LONGTEXT NULL,
    result LONGTEXT NULL,
    start_at DATETIME(6) NULL,
    finished_at DATETIME(6) NULL,
    attempts INT NOT NULL DEFAULT 0,
    max_attempts INT NOT NULL DEFAULT 3,
    priority VARCHAR(255) NOT NULL DEFAULT 'normal',
    progress SMALLINT NOT NULL DEFAULT 0,
    created_at DATETIME(6) NULL,
    updated_at DATETIME(6) NULL,
    -- engine columns
    priority_rank SMALLINT NOT NULL DEFAULT 5,
    available_at DATETIME(6) NULL,
    started_at DATETIME(6) NULL,
    duration DOUBLE NULL,
    peak_memory BIGINT NULL,
    last_error TEXT NULL,
    cancel_requested TINYINT(1) NOT NULL DEFAULT 0,
    lease_owner VARCHAR(255) NULL,
    lease_expires_at DATETIME(6) NULL,
    snapshot LONGTEXT NULL,
    unique_key VARCHAR(255) COLLATE utf8mb4_bin NULL,
    -- The schedule slot (UTC instant) a scheduled `make` task was created
    -- for; unique per worker, so a slot fires once however many hosts run.
    schedule_slot VARCHAR(32) NULL,
    -- MySQL has no partial index: this column holds the key only while the
    -- task is active (pending, preparing, running), and its UNIQUE index
    -- (0002) lets any number of NULLs through. STORED works on both MySQL 8
    -- and MariaDB 10.5 (a unique index on a VIRTUAL column does not on every
    -- version). The store adds it to converted tables with the same text.
    unique_active VARCHAR(255) COLLATE utf8mb4_bin AS (CASE WHEN status IN (10, 15, 20) THEN unique_key END) STORED
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Named leases between hosts: the maintenance leader (one rescuer per
-- database, not one per host). Names compare as bytes.
CREATE TABLE IF NOT EXISTS {prefix}s_task_leaders (
    name VARCHAR(64) NOT NULL PRIMARY KEY,
    owner VARCHAR(255) NOT NULL,
    expires_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The scheduler's memory per worker: when its schedule was last evaluated
-- (a slot with no evaluation in its grace time was missed) and the last
-- task a slot created (shown on the worker's card).
CREATE TABLE IF NOT EXISTS {prefix}s_task_schedules (
    identifier VARCHAR(255) NOT NULL PRIMARY KEY,
    evaluated_at DATETIME(6) NOT NULL,
    last_slot VARCHAR(32) NULL,
    last_task_id BIGINT NULL,
    updated_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Live worker processes: each worker loop registers itself, beats every
-- few seconds and removes itself on exit; one killed outright stops beating
-- and counts as gone after two minutes (the leader deletes its row later).
CREATE TABLE IF NOT EXISTS {prefix}s_task_processes (
    owner VARCHAR(255) NOT NULL PRIMARY KEY,
    host VARCHAR(255) NOT NULL,
    pid BIGINT NOT NULL,
    version VARCHAR(32) NOT NULL,
    started_at DATETIME(6) NOT NULL,
    heartbeat_at DATETIME(6) NOT NULL,
    tasks_done BIGINT NOT NULL DEFAULT 0,
    current_task BIGINT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Attempts that did not end a task well (failed, lost, cancelled), one row
-- each, with the error's class, message and a bounded stack trace. A task
-- that completes at its first attempt writes none: its row says it all,
-- and the hot path stays one write per task.
CREATE TABLE IF NOT EXISTS {prefix}s_task_attempts (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    task_id BIGINT NOT NULL,
    attempt INTEGER NOT NULL,
    started_at DATETIME(6) NULL,
    finished_at DATETIME(6) NOT NULL,
    duration DOUBLE NULL,
    peak_memory BIGINT NULL,
    owner VARCHAR(255) NULL,
    outcome VARCHAR(16) NOT NULL,
    error_class VARCHAR(255) NULL,
    message MEDIUMTEXT NULL,
    trace MEDIUMTEXT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
