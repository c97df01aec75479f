//! The API's own routes: a health check for load balancers and monitoring,
//! the cleaner, and the upload limits clients must respect. (The index,
//! which lists the route table, lives with the table in `router`.)

use crate::engine::api::json::{self, ok, ApiError, ApiResult};
use crate::engine::api::{Ctx, Response};
use crate::engine::maintenance::cleaner::{Cleaner, CleanerConfig};
use crate::engine::processes::{alive_count, is_alive, ALIVE_FOR};
use crate::engine::time;
use serde_json::json;

/// GET /health: 200 when the database answers and the storage folder is
/// writable, else 503 with what is wrong (no paths, no driver errors).
pub fn health(ctx: &Ctx) -> ApiResult<Response> {
    let started = std::time::Instant::now();
    let db = ctx.wait(ctx.engine.store().task_count_by_status());
    let db_ms = started.elapsed().as_secs_f64() * 1000.0;
    let storage = ctx.engine.settings().storage_path.clone();
    let storage_ok = std::fs::create_dir_all(&storage).is_ok()
        && std::fs::metadata(&storage).map(|m| !m.permissions().readonly()).unwrap_or(false);
    let (db_ok, pending) = match &db {
        Ok(rows) => (true, rows.iter().filter(|(s, _)| *s == 10).map(|(_, n)| n).sum::<i64>()),
        Err(e) => {
            tracing::warn!("stask api: health check: {e}");
            (false, 0)
        }
    };
    // Whether anything works the queue: the registry's live processes.
    let (alive, last_seen) = match ctx.wait(ctx.engine.processes()) {
        Ok(rows) => {
            let now = time::now();
            let alive = alive_count(&rows, now);
            (alive, rows.iter().map(|p| p.heartbeat_at).max().map(|t| time::iso8601(&t)))
        }
        Err(_) => (0, None),
    };
    let body = json!({
        "status": if db_ok && storage_ok { "ok" } else { "error" },
        "processes": {"alive": alive, "last_heartbeat": last_seen},
        "database": {"ok": db_ok, "driver": ctx.engine.settings().dsn.driver_name(), "latency_ms": (db_ms * 10.0).round() / 10.0},
        "storage": {"ok": storage_ok},
        "queue": {"pending": pending},
        "version": env!("CARGO_PKG_VERSION"),
        "time": time::iso8601(&time::now()),
    });
    if db_ok && storage_ok {
        Ok(ok(body))
    } else {
        let mut e = ApiError::new(
            503,
            "Service Unavailable",
            if db_ok { "The storage folder is not writable" } else { "The task database is not reachable" },
        )
        .header("Retry-After", "5");
        if let serde_json::Value::Object(m) = body {
            e.extra = m;
        }
        Err(e)
    }
}

/// GET /processes: every registered worker process (host, pid, version,
/// start, last heartbeat, tasks done, the task it runs), with whether it is
/// alive: one unseen for two minutes is not.
pub fn processes(ctx: &Ctx) -> ApiResult<Response> {
    let rows = ctx.wait(ctx.engine.processes())?;
    let now = time::now();
    let list: Vec<serde_json::Value> = rows
        .iter()
        .map(|p| {
            json!({
                "host": p.host, "pid": p.pid, "version": p.version,
                "started_at": time::iso8601(&p.started_at), "heartbeat_at": time::iso8601(&p.heartbeat_at),
                "tasks_done": p.tasks_done, "current_task": p.current_task, "alive": is_alive(p, now),
            })
        })
        .collect();
    let alive = alive_count(&rows, now);
    Ok(ok(json!({"processes": list, "alive": alive, "alive_within_seconds": ALIVE_FOR.as_secs()})))
}

/// POST /clean {days}: completed tasks older than `days` (default 30),
/// idle progress files and abandoned chunked uploads.
pub fn clean(ctx: &Ctx) -> ApiResult<Response> {
    let input = json::body(ctx.req)?;
    let days = input.int_in("days", 30, 0..=36_500)?;
    let cleaner = Cleaner::new(ctx.engine, CleanerConfig { older_than_days: days, ..Default::default() })?;
    let report = ctx.wait(cleaner.run_once())?;
    Ok(ok(json!({
        "message": format!("Cleaned {} tasks", report.deleted_tasks),
        "deleted_tasks": report.deleted_tasks,
        "deleted_progress_files": report.deleted_progress_files,
        "deleted_uploads": report.deleted_uploads,
    })))
}

/// GET /server-limits: the limits the server enforces (the package's keys,
/// with real values: the configured limits, capped by PHP's own).
pub fn server_limits(ctx: &Ctx) -> ApiResult<Response> {
    let s = ctx.settings;
    let php = ctx.host.php_upload_limit();
    let single = php.map(|p| p.min(s.upload_max_size)).unwrap_or(s.upload_max_size);
    // A chunk travels in one request, so PHP's limit caps it too.
    let chunk = php.map(|p| p.min(s.upload_chunk_size)).unwrap_or(s.upload_chunk_size);
    Ok(ok(json!({
        "maxFileSize": s.upload_max_size,
        "chunkSize": chunk,
        "singleUploadLimit": single,
        "maxChunks": s.upload_max_chunks,
        "maxBodySize": s.max_body,
        "phpUploadLimit": php,
    })))
}
