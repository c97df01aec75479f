//! Bulk task routes: retry every failed task a list filter matches, cancel
//! a selection of tasks by id. Each task changes state through the engine's
//! own `retry`/`cancel` (the state machine decides, row by row), so a bulk
//! action does exactly what the single actions would, and the answer names
//! every id it left alone and why.

use crate::engine::api::json::{self, describe, int_of, ok, ApiError, ApiResult, Input};
use crate::engine::api::tasks::{list_filter, status_codes};
use crate::engine::api::{Ctx, Response};
use crate::engine::query::{Dir, Query, Table, Value as QValue};
use crate::engine::store::CancelOutcome;
use crate::engine::task::{Status, TaskRow};
use crate::engine::Error;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Most tasks one bulk request changes: each is its own state change, so a
/// request stays well within a web server's time limit on every backend.
pub const MAX_BULK: i64 = 1000;

/// The list's filters (`GET /tasks`); paging and sorting mean nothing to a
/// retry of every match, so they are refused rather than ignored.
const FILTERS: &[&str] = &["status", "identifier", "worker", "action", "priority", "from", "to"];

/// The filter of `POST /tasks/retry`: the query string, then the body's
/// fields over it (`_token` aside); unknown keys are refused.
fn retry_input(ctx: &Ctx) -> ApiResult<Input> {
    let mut fields = ctx.req.query.clone();
    fields.extend(json::body(ctx.req)?.0);
    fields.remove("_token");
    if let Some(key) = fields.keys().find(|k| !FILTERS.contains(&k.as_str()) && k.as_str() != "limit") {
        return Err(ApiError::invalid(
            key,
            format!("is not a filter of the task list; use {}, limit (1..{MAX_BULK})", FILTERS.join(", ")),
        ));
    }
    Ok(Input(fields))
}

/// The statuses to retry: `failed` unless the filter names failed and/or
/// cancelled (the only states a retry applies from).
fn retry_statuses(input: &Input) -> ApiResult<Vec<Value>> {
    let named = input.list("status")?.filter(|s| !s.is_empty()).unwrap_or_else(|| vec![Status::Failed.name().to_string()]);
    for (name, code) in named.iter().zip(status_codes(&named)?) {
        let retryable = matches!(code, QValue::Int(c) if c == Status::Failed.code() || c == Status::Cancelled.code());
        if !retryable {
            return Err(ApiError::invalid("status", format!("'{name}' tasks cannot be retried; use failed or cancelled")));
        }
    }
    Ok(named.into_iter().map(Value::String).collect())
}

/// One id the action left alone.
fn skipped(id: i64, reason: &str, status: Option<&TaskRow>) -> Value {
    json!({"id": id, "reason": reason, "status": status.map(|t| t.status_text())})
}

/// POST /tasks/retry: every failed (or cancelled, when the filter says so)
/// task the list's filters match, oldest first, at most `limit` per request.
pub fn retry(ctx: &Ctx) -> ApiResult<Response> {
    let mut input = retry_input(ctx)?;
    let limit = input.int_in("limit", MAX_BULK, 1..=MAX_BULK)?;
    let statuses = retry_statuses(&input)?;
    input.0.insert("status".into(), Value::Array(statuses));
    let filter = list_filter(&input)?;
    let rows = ctx.wait(ctx.engine.select_tasks(&filter.clone().order_by("id", Dir::Asc)?.limit(limit)?))?;
    let mut retried = Vec::new();
    let mut not_retried = Vec::new();
    for t in &rows {
        match ctx.wait(ctx.engine.retry(t.id)) {
            Ok(true) => retried.push(t.id),
            // It moved since it was read (retried by someone else, say).
            Ok(false) => {
                let now = ctx.wait(ctx.engine.find_task(t.id))?;
                not_retried.push(skipped(t.id, if now.is_some() { "not_retryable" } else { "not_found" }, now.as_ref()));
            }
            Err(Error::TaskNotFound(_)) => not_retried.push(skipped(t.id, "not_found", None)),
            Err(e) => return Err(e.into()),
        }
    }
    let remaining = ctx.wait(ctx.engine.count(&filter))?;
    Ok(ok(json!({
        "retried": retried.len(),
        "retried_ids": retried,
        "not_retried": not_retried,
        "remaining": remaining,
        "message": format!("{} task(s) queued for retry", retried.len()),
    })))
}

/// `ids`: 1..MAX_BULK positive integers, duplicates dropped, order kept.
fn ids_of(input: &Input) -> ApiResult<Vec<i64>> {
    let list = match input.get("ids") {
        None => return Err(ApiError::invalid("ids", "is required: a list of task ids")),
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(ApiError::invalid("ids", format!("expected a list of task ids, got {}", json::type_name(other))))
        }
    };
    if list.is_empty() {
        return Err(ApiError::invalid("ids", "must name at least one task"));
    }
    if list.len() as i64 > MAX_BULK {
        return Err(ApiError::invalid("ids", format!("at most {MAX_BULK} ids per request, got {}", list.len())));
    }
    let mut ids = Vec::with_capacity(list.len());
    for v in list {
        let id = int_of(v)
            .filter(|id| *id > 0)
            .ok_or_else(|| ApiError::invalid("ids", format!("{} is not a task id (a positive integer)", describe(v))))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

fn rows_by_id(ctx: &Ctx, ids: &[i64]) -> ApiResult<HashMap<i64, TaskRow>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let q = Query::new(Table::Tasks).where_in("id", ids.iter().map(|id| QValue::Int(*id)).collect(), false)?;
    Ok(ctx.wait(ctx.engine.select_tasks(&q))?.into_iter().map(|t| (t.id, t)).collect())
}

/// POST /tasks/cancel {"ids": [...]}: pending tasks end at once, running
/// ones are asked to stop at their next progress report (`requested`).
pub fn cancel(ctx: &Ctx) -> ApiResult<Response> {
    let input = json::body(ctx.req)?;
    if let Some(key) = input.0.keys().find(|k| !["ids", "_token"].contains(&k.as_str())) {
        return Err(ApiError::invalid(key, "is not a field of a bulk cancel; send {\"ids\": [task ids]}"));
    }
    let ids = ids_of(&input)?;
    let before = rows_by_id(ctx, &ids)?;
    let (mut cancelled, mut requested) = (Vec::new(), Vec::new());
    let mut not_cancelled = Vec::new();
    for &id in &ids {
        if !before.contains_key(&id) {
            not_cancelled.push(skipped(id, "not_found", None));
            continue;
        }
        match ctx.wait(ctx.engine.cancel(id)) {
            // The outcome decides, not a read afterwards: a running task may
            // have seen the request and stopped before that read.
            Ok(CancelOutcome::Cancelled) => cancelled.push(id),
            Ok(CancelOutcome::Requested) => requested.push(id),
            Ok(_) => {
                let now = ctx.wait(ctx.engine.find_task(id))?;
                not_cancelled.push(skipped(id, if now.is_some() { "finished" } else { "not_found" }, now.as_ref()));
            }
            Err(Error::TaskNotFound(_)) => not_cancelled.push(skipped(id, "not_found", None)),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(ok(json!({
        "cancelled": cancelled.len(),
        "cancelled_ids": cancelled,
        "requested": requested.len(),
        "requested_ids": requested,
        "not_cancelled": not_cancelled,
        "message": format!("{} task(s) cancelled, {} asked to stop", cancelled.len(), requested.len()),
    })))
}
