//! Task routes: list (filters, sort, pages), detail, progress, create,
//! start a worker action, cancel, retry. A task's JSON is built here once,
//! so the list, the detail and the create responses agree.

use crate::engine::api::download;
use crate::engine::api::json::{self, describe, ok, ApiError, ApiResult, Input};
use crate::engine::api::{Ctx, Response};
use crate::engine::messages;
use crate::engine::progress::ProgressSnapshot;
use crate::engine::query::{Dir, Op, Query, Table, Value as QValue};
use crate::engine::store::{AttemptRow, CancelOutcome};
use crate::engine::task::{validate_name, NewTask, Priority, Status, TaskRow};
use crate::engine::time::{self, Timestamp};
use crate::engine::Error;
use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Columns a list may be sorted by.
pub const SORTABLE: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "started_at",
    "finished_at",
    "status",
    "progress",
    "identifier",
    "action",
    "attempts",
    "duration",
];

pub const MAX_PER_PAGE: i64 = 100;
/// Options/data of one task, as JSON text.
pub const MAX_META_BYTES: usize = 256 * 1024;

fn iso(t: &Option<Timestamp>) -> Value {
    t.as_ref().map(|t| Value::String(time::iso8601(t))).unwrap_or(Value::Null)
}

/// A JSON column as JSON; text that is not JSON stays a string.
pub fn decoded(text: &Option<String>) -> Value {
    match text.as_deref().map(str::trim) {
        None | Some("") => Value::Null,
        Some(t) => serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.to_string())),
    }
}

/// A path string as clients may see it: under the storage folder (or the
/// application root) it becomes relative to it, so responses never show
/// where the application lives on the server.
fn hide_path(settings: &crate::engine::config::Settings, s: &str) -> Option<String> {
    if !s.starts_with('/') {
        return None;
    }
    for root in [&settings.storage_path, &settings.base_path] {
        let root = root.to_string_lossy();
        let root = root.trim_end_matches('/');
        if root.is_empty() {
            continue;
        }
        if let Some(rest) = s.strip_prefix(root).and_then(|r| r.strip_prefix('/')) {
            return Some(rest.to_string());
        }
    }
    None
}

/// `result`/`meta` with server paths in them (a worker's export path, as
/// the package wrote it) made relative: top-level strings only.
pub fn without_server_paths(settings: &crate::engine::config::Settings, mut v: Value) -> Value {
    match &mut v {
        Value::String(s) => {
            if let Some(r) = hide_path(settings, s) {
                *s = r;
            }
        }
        Value::Object(m) => {
            for (_, x) in m.iter_mut() {
                if let Value::String(s) = x {
                    if let Some(r) = hide_path(settings, s) {
                        *s = r;
                    }
                }
            }
        }
        _ => {}
    }
    v
}

/// Free text (messages, errors) with the storage and application folders
/// cut out of any path it mentions (`in /srv/site/app/X.php` -> `in app/X.php`).
pub fn scrub(settings: &crate::engine::config::Settings, text: &Option<String>) -> Value {
    match text {
        Some(t) => Value::String(scrub_str(settings, t)),
        None => Value::Null,
    }
}

pub fn scrub_str(settings: &crate::engine::config::Settings, text: &str) -> String {
    let mut out = text.to_string();
    for root in [&settings.storage_path, &settings.base_path] {
        let root = root.to_string_lossy();
        let root = root.trim_end_matches('/');
        if root.len() > 1 {
            out = out.replace(&format!("{root}/"), "");
        }
    }
    out
}

/// `message_code` and `message_params` of a message the engine wrote
/// (see `messages`), nulls for any other text: clients translate by code.
pub fn coded(message: Option<&str>) -> (Value, Value) {
    match message.and_then(messages::recognise) {
        Some(r) => (Value::String(r.code.to_string()), Value::Object(r.params)),
        None => (Value::Null, Value::Null),
    }
}

/// The code of each log line the engine wrote (`{code, params}`), null for
/// a worker's own lines: the log translates as the message does.
pub fn log_codes(lines: &[String]) -> Value {
    Value::Array(
        lines
            .iter()
            .map(|l| match messages::recognise(l) {
                Some(r) => json!({"code": r.code, "params": r.params}),
                None => Value::Null,
            })
            .collect(),
    )
}

fn can_cancel(t: &TaskRow) -> bool {
    matches!(t.status(), Some(Status::Pending | Status::Preparing | Status::Running))
}

fn can_retry(t: &TaskRow) -> bool {
    matches!(t.status(), Some(Status::Failed | Status::Cancelled))
}

/// The progress snapshot mirrored in the row (no file read).
pub fn row_snapshot(t: &TaskRow) -> Option<ProgressSnapshot> {
    t.snapshot.as_deref().and_then(|s| serde_json::from_str(s).ok())
}

/// Every column a client may see, decoded, plus what the UI needs.
pub fn task_json(ctx: &Ctx, t: &TaskRow, worker_title: Option<&str>, snap: Option<&ProgressSnapshot>, with_log: bool) -> Value {
    let downloadable = t.status == Status::Completed.code() && download::result_file(ctx.engine.settings(), t).is_ok();
    let mut progress = t.progress;
    let mut eta = Value::Null;
    let (mut processed, mut total) = (0, 0);
    if let Some(s) = snap {
        progress = progress.max(s.progress);
        processed = s.processed;
        total = s.total;
        eta = Value::String(s.eta.clone());
    }
    if t.status == Status::Completed.code() {
        progress = 100;
    }
    let message = scrub(ctx.engine.settings(), &t.message);
    let (message_code, message_params) = coded(message.as_str());
    let mut o = json!({
        "id": t.id,
        "identifier": t.identifier,
        "action": t.action,
        "status": t.status,
        "status_text": t.status_text(),
        "message": message,
        "message_code": message_code,
        "message_params": message_params,
        "started_by": t.started_by,
        "meta": without_server_paths(ctx.engine.settings(), decoded(&t.meta)),
        "result": without_server_paths(ctx.engine.settings(), decoded(&t.result)),
        "priority": t.priority,
        "progress": progress,
        "processed": processed,
        "total": total,
        "eta": eta,
        "attempts": t.attempts,
        "max_attempts": t.max_attempts,
        "duration": t.duration,
        "peak_memory": t.peak_memory,
        "last_error": scrub(ctx.engine.settings(), &t.last_error),
        "cancel_requested": t.cancel_requested,
        "unique_key": t.unique_key,
        "start_at": iso(&t.start_at),
        "available_at": iso(&t.available_at),
        "started_at": iso(&t.started_at),
        "finished_at": iso(&t.finished_at),
        "created_at": iso(&t.created_at),
        "updated_at": iso(&t.updated_at),
        "worker_title": worker_title,
        "can_cancel": can_cancel(t),
        "can_retry": can_retry(t),
        "download_url": if downloadable { Value::String(ctx.url(&format!("/tasks/{}/download", t.id))) } else { Value::Null },
        "progress_url": ctx.url(&format!("/tasks/{}/progress", t.id)),
    });
    if with_log {
        let settings = ctx.engine.settings();
        let lines: Vec<String> = snap.map(|s| s.log_lines.iter().map(|l| scrub_str(settings, l)).collect()).unwrap_or_default();
        let codes = log_codes(&lines);
        o["log_lines"] = json!(lines);
        o["log_codes"] = codes;
    }
    o
}

/// Titles of the workers of these tasks, in one query.
fn titles(ctx: &Ctx, rows: &[TaskRow]) -> ApiResult<HashMap<String, String>> {
    let mut ids: Vec<String> = rows.iter().map(|t| t.identifier.clone()).collect();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let q = Query::new(Table::Workers).where_in("identifier", ids.into_iter().map(QValue::Text).collect(), false)?;
    Ok(ctx.wait(ctx.engine.select_workers(&q))?.into_iter().map(|w| (w.identifier, w.title)).collect())
}

/// `2025-01-15` (a whole day: from its start, to its end) or a date-time
/// (`2025-01-15T10:00:00Z`, with an offset, or naive = UTC).
pub fn parse_date(raw: &str, end_of_day: bool) -> Option<Timestamp> {
    let raw = raw.trim();
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let t = if end_of_day { d.and_hms_micro_opt(23, 59, 59, 999_999)? } else { d.and_hms_opt(0, 0, 0)? };
        return Some(Utc.from_utc_datetime(&t));
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(raw, f) {
            return Some(Utc.from_utc_datetime(&n));
        }
    }
    None
}

pub fn status_codes(items: &[String]) -> ApiResult<Vec<QValue>> {
    items
        .iter()
        .map(|s| {
            let code = match s.parse::<i64>() {
                Ok(c) => Status::from_code(c),
                Err(_) => Status::from_name(&s.to_ascii_lowercase()),
            };
            code.map(|c| QValue::Int(c.code())).ok_or_else(|| {
                ApiError::invalid(
                    "status",
                    format!("'{s}' is not a status; use pending, preparing, running, completed, failed, cancelled or 10..50"),
                )
            })
        })
        .collect()
}

/// The list's query (filters only), from the query string (or the bulk
/// retry's input, which takes the same filters).
pub fn list_filter(q: &Input) -> ApiResult<Query> {
    let mut query = Query::new(Table::Tasks);
    if let Some(st) = q.list("status")? {
        if !st.is_empty() {
            query = query.where_in("status", status_codes(&st)?, false)?;
        }
    }
    let worker = match q.str("identifier")? {
        Some(w) => Some(w),
        None => q.str("worker")?,
    };
    if let Some(w) = worker.filter(|w| !w.trim().is_empty()) {
        query = query.where_eq("identifier", QValue::Text(w.trim().to_string()))?;
    }
    if let Some(a) = q.str("action")?.filter(|a| !a.trim().is_empty()) {
        query = query.where_eq("action", QValue::Text(a.trim().to_string()))?;
    }
    if let Some(p) = q.list("priority")? {
        if !p.is_empty() {
            let names = p
                .iter()
                .map(|x| {
                    Priority::parse(x)
                        .or_else(|| x.parse::<i64>().ok().and_then(Priority::from_int))
                        .map(|p| QValue::Text(p.name().to_string()))
                        .ok_or_else(|| ApiError::invalid("priority", format!("'{x}' is not low, normal or high")))
                })
                .collect::<ApiResult<Vec<_>>>()?;
            query = query.where_in("priority", names, false)?;
        }
    }
    for (key, op, end) in [("from", Op::Ge, false), ("to", Op::Le, true)] {
        if let Some(raw) = q.str(key)?.filter(|r| !r.trim().is_empty()) {
            let t = parse_date(&raw, end).ok_or_else(|| {
                ApiError::invalid(
                    key,
                    format!("{} is not a date (2025-01-15) or ISO 8601 date-time", describe(&Value::String(raw.clone()))),
                )
            })?;
            query = query.where_op("created_at", op, QValue::Text(time::to_db(&t)))?;
        }
    }
    Ok(query)
}

/// GET /tasks
pub fn list(ctx: &Ctx) -> ApiResult<Response> {
    let q = Input::from_query(ctx.req);
    let page = q.int_in("page", 1, 1..=1_000_000)?;
    let per_page = q.int_in("per_page", 20, 1..=MAX_PER_PAGE)?;
    let sort = q.str("sort")?.unwrap_or_else(|| "id".into());
    let sort = SORTABLE.iter().copied().find(|c| *c == sort.trim()).ok_or_else(|| {
        ApiError::invalid(
            "sort",
            format!("{} is not sortable; use {}", describe(&Value::String(sort.clone())), SORTABLE.join(", ")),
        )
    })?;
    let dir = match q.str("dir")?.or(q.str("direction")?).as_deref().map(str::trim) {
        None | Some("") => Dir::Desc,
        Some(d) => Dir::parse(d).map_err(|_| ApiError::invalid("dir", "must be asc or desc"))?,
    };
    let filter = list_filter(&q)?;
    let total = ctx.wait(ctx.engine.count(&filter))?;
    let mut query = filter.order_by(sort, dir)?;
    if sort != "id" {
        query = query.order_by("id", dir)?;
    }
    let query = query.limit(per_page)?.offset((page - 1) * per_page)?;
    let rows = ctx.wait(ctx.engine.select_tasks(&query))?;
    let titles = titles(ctx, &rows)?;
    let data: Vec<Value> = rows
        .iter()
        .map(|t| task_json(ctx, t, titles.get(&t.identifier).map(String::as_str), row_snapshot(t).as_ref(), false))
        .collect();
    let pages = if total == 0 { 0 } else { (total + per_page - 1) / per_page };
    Ok(ok(json!({
        "data": data,
        "pagination": {"page": page, "per_page": per_page, "total": total, "pages": pages},
    })))
}

fn worker_title(ctx: &Ctx, identifier: &str) -> ApiResult<Option<String>> {
    Ok(ctx.wait(ctx.engine.worker(identifier))?.map(|w| w.title))
}

/// GET /tasks/{id}
pub fn show(ctx: &Ctx, id: i64) -> ApiResult<Response> {
    let task = ctx.wait(ctx.engine.require_task(id))?;
    let snap = ctx.wait(ctx.engine.progress_of(id))?;
    let title = worker_title(ctx, &task.identifier)?;
    let history: Vec<Value> = ctx.wait(ctx.engine.attempts(&task))?.iter().map(|a| attempt_json(ctx, a)).collect();
    // A pending task with nothing to run it says so (the module explains).
    let alive = ctx.wait(ctx.engine.processes_alive())?;
    Ok(ok(json!({
        "task": task_json(ctx, &task, title.as_deref(), Some(&snap), true),
        "history": history,
        "worker_processes": alive,
    })))
}

/// One attempt of the history: messages and traces scrubbed as a task's
/// message is (no server paths).
fn attempt_json(ctx: &Ctx, a: &AttemptRow) -> Value {
    let settings = ctx.engine.settings();
    json!({
        "attempt": a.attempt, "outcome": a.outcome,
        "started_at": a.started_at.as_ref().map(time::iso8601), "finished_at": time::iso8601(&a.finished_at),
        "duration": a.duration, "peak_memory": a.peak_memory, "owner": a.owner,
        "error_class": a.error_class,
        "message": a.message.as_deref().map(|m| scrub_str(settings, m)),
        "trace": a.trace.as_deref().map(|t| scrub_str(settings, t)),
    })
}

/// GET /tasks/{id}/progress: the seed's shape plus processed, total,
/// log_lines; errors in the package's shape (code, id, status).
pub fn progress(ctx: &Ctx, id: i64) -> ApiResult<Response> {
    let snap = match ctx.wait(ctx.engine.progress_of(id)) {
        Ok(s) => s,
        Err(Error::TaskNotFound(_)) => {
            return Err(ApiError::not_found("Task not found", format!("Task #{id} does not exist"))
                .with("code", 404.into())
                .with("id", id.into())
                .with("status", "not_found".into()))
        }
        Err(e) => return Err(e.into()),
    };
    let settings = ctx.engine.settings();
    let log_lines: Vec<String> = snap.log_lines.iter().map(|l| scrub_str(settings, l)).collect();
    let message = scrub_str(settings, &snap.message);
    let (message_code, message_params) = coded(Some(&message));
    let codes = log_codes(&log_lines);
    Ok(ok(json!({
        "code": 200, "id": snap.id, "status": snap.status, "progress": snap.progress,
        "message": message, "message_code": message_code, "message_params": message_params,
        "eta": snap.eta, "processed": snap.processed, "total": snap.total, "log_lines": log_lines, "log_codes": codes,
        "identifier": snap.identifier, "action": snap.action, "updated_at": snap.updated_at,
    })))
}

/// An options/data object as JSON text, within the size limit.
fn meta_text(field: &str, v: Option<&Value>) -> ApiResult<String> {
    let v = match v {
        None | Some(Value::Null) => return Ok("[]".into()),
        Some(Value::Array(a)) if a.is_empty() => return Ok("[]".into()),
        Some(v @ (Value::Object(_) | Value::Array(_))) => v,
        Some(other) => return Err(ApiError::invalid(field, format!("must be an object, got {}", json::type_name(other)))),
    };
    let text = serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
    if text.len() > MAX_META_BYTES {
        return Err(ApiError::new(413, "Payload Too Large", format!("{field} is larger than {MAX_META_BYTES} bytes")));
    }
    Ok(text)
}

/// A priority as a name (`high`) or its number, as `sTask::create` takes it.
fn priority_of(p: &Value) -> ApiResult<Priority> {
    match p {
        Value::String(s) => Priority::parse(s).or_else(|| s.trim().parse::<i64>().ok().and_then(Priority::from_int)),
        Value::Number(n) => n.as_i64().and_then(Priority::from_int),
        _ => None,
    }
    .ok_or_else(|| ApiError::invalid("priority", format!("must be low, normal or high, got {}", describe(p))))
}

/// POST /tasks: {identifier, action, data, priority}.
pub fn create(ctx: &Ctx) -> ApiResult<Response> {
    let input = json::body(ctx.req)?;
    for key in input.0.keys() {
        if !["identifier", "action", "data", "priority", "max_attempts", "start_at", "_token"].contains(&key.as_str()) {
            return Err(ApiError::invalid(
                key,
                "is not a field of a task; use identifier, action, data, priority, max_attempts, start_at",
            ));
        }
    }
    let identifier = input.required_str("identifier")?;
    let action = input.required_str("action")?;
    let mut t = NewTask::new(identifier, action);
    t.meta = Some(meta_text("data", input.get("data"))?);
    if let Some(p) = input.get("priority") {
        t.priority = priority_of(p)?;
    }
    if let Some(m) = input.int("max_attempts")? {
        t.max_attempts = m;
    }
    if let Some(s) = input.str("start_at")? {
        t.start_at = Some(parse_date(&s, false).ok_or_else(|| ApiError::invalid("start_at", "must be an ISO 8601 date-time"))?);
    }
    t.started_by = ctx.user_id();
    let row = ctx.wait(ctx.engine.create_task(t))?;
    let title = worker_title(ctx, &row.identifier)?;
    Ok(ok(json!({
        "task": task_json(ctx, &row, title.as_deref(), None, false),
        "message": "Task created successfully",
    })))
}

/// POST /workers/{identifier}/tasks/{action}: the seed's "start task".
/// The body is the options object, or `{"options": {...}, "priority": ...}`:
/// only the wrapped form can set the priority, since in the bare form every
/// key (a worker option named `priority` too) belongs to the worker.
pub fn run_action(ctx: &Ctx, identifier: &str, action: &str) -> ApiResult<Response> {
    validate_name("action", action).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if !action.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') || action.len() > 64 {
        return Err(ApiError::bad_request("the action may only contain letters, digits, '_' and '-' (at most 64)"));
    }
    let worker = ctx
        .wait(ctx.engine.worker(identifier))?
        .ok_or_else(|| ApiError::not_found("Worker not found", format!("Worker '{identifier}' is not registered")))?;
    if !worker.active {
        return Err(ApiError::conflict(format!("Worker '{identifier}' is inactive; activate it first")));
    }
    if ctx.host.has_action(&worker, action) == Some(false) {
        return Err(ApiError::not_found("Action not found", format!("Worker '{identifier}' has no action '{action}'")));
    }
    let input = json::body(ctx.req)?;
    let wrapped = input.get("options").is_some();
    let mut options: Map<String, Value> = match input.get("options") {
        Some(Value::Object(o)) => o.clone(),
        Some(Value::Array(a)) if a.is_empty() => Map::new(),
        Some(other) => return Err(ApiError::invalid("options", format!("must be an object, got {}", json::type_name(other)))),
        None => input.0.clone(),
    };
    options.remove("_token");
    let mut t = NewTask::new(identifier, action);
    if let (true, Some(p)) = (wrapped, input.get("priority")) {
        t.priority = priority_of(p)?;
    }
    t.meta = Some(meta_text("options", Some(&Value::Object(options)))?);
    t.started_by = ctx.user_id();
    let row = ctx.wait(ctx.engine.create_task(t))?;
    Ok(ok(json!({"id": row.id, "message": "Task created successfully"})))
}

/// POST /tasks/{id}/cancel: pending tasks at once, running ones at their
/// next progress report; 409 for finished tasks.
pub fn cancel(ctx: &Ctx, id: i64) -> ApiResult<Response> {
    let before = ctx.wait(ctx.engine.require_task(id))?;
    let outcome = ctx.wait(ctx.engine.cancel(id))?;
    if let CancelOutcome::NotCancellable(_) = outcome {
        // Read again: the task may have ended since `before` (a worker finished it meanwhile).
        let now = ctx.wait(ctx.engine.require_task(id)).unwrap_or(before);
        return Err(ApiError::conflict(format!("Task #{id} is {} and cannot be cancelled", now.status_text())));
    }
    let after = ctx.wait(ctx.engine.require_task(id))?;
    // From the outcome, not `after`: the worker may have stopped already.
    let message = if outcome == CancelOutcome::Cancelled {
        "Task cancelled"
    } else {
        "Cancellation requested; the task stops at its next progress report"
    };
    Ok(ok(json!({"id": id, "status": after.status, "status_text": after.status_text(), "message": message})))
}

/// POST /tasks/{id}/retry: failed or cancelled tasks only (409 otherwise).
pub fn retry(ctx: &Ctx, id: i64) -> ApiResult<Response> {
    let before = ctx.wait(ctx.engine.require_task(id))?;
    if !ctx.wait(ctx.engine.retry(id))? {
        let now = ctx.wait(ctx.engine.require_task(id)).unwrap_or(before);
        return Err(ApiError::conflict(format!(
            "Task #{id} is {}; only failed or cancelled tasks can be retried",
            now.status_text()
        )));
    }
    // What the retry did (pending), not a re-read: a worker process may
    // already have claimed the task, which would contradict the message.
    let pending = Status::Pending;
    Ok(ok(json!({"id": id, "status": pending.code(), "status_text": pending.name(), "message": "Task queued for retry"})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_whole_days_or_date_times() {
        assert_eq!(time::iso8601(&parse_date("2025-01-15", false).unwrap()), "2025-01-15T00:00:00Z");
        assert_eq!(time::iso8601(&parse_date("2025-01-15", true).unwrap()), "2025-01-15T23:59:59Z");
        assert_eq!(time::iso8601(&parse_date("2025-01-15T10:00:00+02:00", false).unwrap()), "2025-01-15T08:00:00Z");
        assert!(parse_date("yesterday", false).is_none());
        assert!(parse_date("2025-13-01", false).is_none());
    }
}
