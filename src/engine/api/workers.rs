//! Worker routes: the registry (list with each worker's last task in one
//! extra query, detail), activation, settings and schedule (validated),
//! the worker's widget, and discovery/rescan/orphan cleanup through the
//! host, which alone can load PHP classes.

use crate::engine::api::json::{self, ok, type_name, ApiError, ApiResult};
use crate::engine::api::{schedule, uploads};
use crate::engine::api::{Ctx, HostError, Response};
use crate::engine::query::{Query, Table, Value as QValue};
use crate::engine::store::ScheduleState;
use crate::engine::task::TaskRow;
use crate::engine::time::{self, Timestamp};
use crate::engine::worker::WorkerRow;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Largest settings document, as JSON text.
pub const MAX_SETTINGS_BYTES: usize = 64 * 1024;

fn iso(t: &Option<Timestamp>) -> Value {
    t.as_ref().map(|t| Value::String(time::iso8601(t))).unwrap_or(Value::Null)
}

fn settings_of(w: &WorkerRow) -> Value {
    match serde_json::from_str::<Value>(&w.settings) {
        Ok(v @ Value::Object(_)) => v,
        _ => Value::Object(Map::new()),
    }
}

fn last_task_json(ctx: &Ctx, t: &TaskRow) -> Value {
    json!({
        "id": t.id, "action": t.action, "status": t.status, "status_text": t.status_text(),
        "progress": if t.status == 30 { 100 } else { t.progress },
        // As in the task object: a failure's message may name server files.
        "message": crate::engine::api::tasks::scrub(ctx.engine.settings(), &t.message),
        "created_at": iso(&t.created_at), "finished_at": iso(&t.finished_at),
    })
}

/// The schedule's next run in the application's zone (null when none).
fn next_run(ctx: &Ctx, schedule: &Value) -> Value {
    schedule::next_run(schedule, ctx.engine.settings().timezone, time::now())
}

/// What the scheduler last did for this worker: the task its latest slot
/// created (slot in UTC and in the zone) and when it last looked.
fn last_scheduled_json(ctx: &Ctx, s: &ScheduleState) -> Value {
    let slot_at = s.last_slot.as_deref().and_then(|k| chrono::DateTime::parse_from_rfc3339(k).ok());
    json!({
        "task_id": s.last_task_id,
        "slot": s.last_slot,
        "scheduled_for": slot_at.map(|t| t.with_timezone(&ctx.engine.settings().timezone).to_rfc3339()),
        "evaluated_at": time::iso8601(&s.evaluated_at),
    })
}

/// Every worker's scheduler memory, by identifier.
fn schedule_states(ctx: &Ctx) -> ApiResult<HashMap<String, ScheduleState>> {
    let states = ctx.wait(ctx.engine.store().schedule_states()).map_err(crate::engine::Error::from)?;
    Ok(states.into_iter().map(|s| (s.identifier.clone(), s)).collect())
}

pub fn worker_json(ctx: &Ctx, w: &WorkerRow, last: Option<&TaskRow>, scheduled: Option<&ScheduleState>) -> Value {
    let settings = settings_of(w);
    let schedule = schedule::effective(&settings);
    json!({
        "id": w.id,
        "identifier": w.identifier,
        "class": w.class,
        "title": w.title,
        "description": w.description,
        "icon": w.icon,
        "scope": w.scope,
        "active": w.active,
        "position": w.position,
        "hidden": w.hidden,
        "actions": ctx.host.actions(w),
        "next_run": next_run(ctx, &schedule),
        "schedule": schedule,
        "settings": settings,
        "last_task": last.map(|t| last_task_json(ctx, t)),
        "last_scheduled": scheduled.map(|s| last_scheduled_json(ctx, s)),
        "created_at": iso(&w.created_at),
        "updated_at": iso(&w.updated_at),
    })
}

fn require(ctx: &Ctx, identifier: &str) -> ApiResult<WorkerRow> {
    // The registry row itself (not the cache): these routes show and edit it.
    let q = Query::new(Table::Workers).where_eq("identifier", QValue::Text(identifier.to_string()))?.limit(1)?;
    ctx.wait(ctx.engine.select_workers(&q))?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found("Worker not found", format!("Worker '{identifier}' is not registered")))
}

fn last_tasks(ctx: &Ctx) -> ApiResult<HashMap<String, TaskRow>> {
    Ok(ctx
        .wait(ctx.engine.store().task_latest_per_identifier())
        .map_err(crate::engine::Error::from)?
        .into_iter()
        .map(|t| (t.identifier.clone(), t))
        .collect())
}

/// GET /workers (`?active=1` for active ones only).
pub fn list(ctx: &Ctx) -> ApiResult<Response> {
    let q = json::Input::from_query(ctx.req);
    let mut query = Query::new(Table::Workers)
        .order_by("position", crate::engine::query::Dir::Asc)?
        .order_by("identifier", crate::engine::query::Dir::Asc)?;
    if let Some(active) = q.bool("active")? {
        query = query.where_eq("active", QValue::Bool(active))?;
    }
    let rows = ctx.wait(ctx.engine.select_workers(&query))?;
    let last = last_tasks(ctx)?;
    let scheduled = schedule_states(ctx)?;
    let workers: Vec<Value> =
        rows.iter().map(|w| worker_json(ctx, w, last.get(&w.identifier), scheduled.get(&w.identifier))).collect();
    Ok(ok(json!({"workers": workers, "total": rows.len()})))
}

/// GET /workers/{identifier}
pub fn show(ctx: &Ctx, identifier: &str) -> ApiResult<Response> {
    let w = require(ctx, identifier)?;
    let q = Query::new(Table::Tasks)
        .where_eq("identifier", QValue::Text(identifier.to_string()))?
        .order_by("id", crate::engine::query::Dir::Desc)?
        .limit(1)?;
    let last = ctx.wait(ctx.engine.select_tasks(&q))?.into_iter().next();
    let scheduled = schedule_states(ctx)?;
    Ok(ok(json!({"worker": worker_json(ctx, &w, last.as_ref(), scheduled.get(identifier))})))
}

/// POST /workers/{identifier}/activate|deactivate, and the package's
/// `POST /worker/activate` with `{identifier}` in the body.
pub fn set_active(ctx: &Ctx, identifier: Option<String>, active: bool) -> ApiResult<Response> {
    let identifier = match identifier {
        Some(i) => i,
        None => {
            let i = json::body(ctx.req)?.required_str("identifier")?;
            crate::engine::task::validate_name("identifier", &i)?;
            i
        }
    };
    if !ctx.wait(ctx.engine.set_worker_active(&identifier, active))? {
        return Err(ApiError::not_found("Worker not found", format!("Worker '{identifier}' is not registered")));
    }
    ctx.host.clear_worker_instances();
    let w = require(ctx, &identifier)?;
    Ok(ok(json!({
        "message": if active { "Worker activated" } else { "Worker deactivated" },
        "worker": worker_json(ctx, &w, None, None),
    })))
}

fn save_settings(ctx: &Ctx, identifier: &str, settings: &Value) -> ApiResult<()> {
    let text = serde_json::to_string(settings).unwrap_or_else(|_| "{}".into());
    if text.len() > MAX_SETTINGS_BYTES {
        return Err(ApiError::new(413, "Payload Too Large", format!("settings are larger than {MAX_SETTINGS_BYTES} bytes")));
    }
    let q = Query::new(Table::Workers).where_eq("identifier", QValue::Text(identifier.to_string()))?;
    ctx.wait(ctx.engine.update(&q, &[("settings", QValue::Text(text))]))?;
    ctx.host.clear_worker_instances();
    Ok(())
}

/// GET /workers/{identifier}/settings
pub fn settings_get(ctx: &Ctx, identifier: &str) -> ApiResult<Response> {
    let w = require(ctx, identifier)?;
    Ok(ok(json!({"identifier": w.identifier, "settings": settings_of(&w)})))
}

/// Checks the keys the engine and the package give a meaning to; other
/// keys are the worker's own and are kept as they are.
pub fn validate_settings(s: &Map<String, Value>, allow_executable: bool) -> ApiResult<()> {
    if let Some(v) = s.get("allowed_extensions") {
        let Value::Array(items) = v else {
            return Err(ApiError::invalid("allowed_extensions", format!("must be a list of extensions, got {}", type_name(v))));
        };
        for e in items {
            let ok = e
                .as_str()
                .map(|e| !e.is_empty() && e.len() <= 10 && e.bytes().all(|b| b.is_ascii_alphanumeric()))
                .unwrap_or(false);
            if !ok {
                return Err(ApiError::invalid(
                    "allowed_extensions",
                    format!("{} is not a file extension (letters and digits, no dot)", json::describe(e)),
                ));
            }
            let ext = e.as_str().unwrap_or_default();
            if !allow_executable && uploads::is_executable_extension(ext) {
                return Err(ApiError::invalid(
                    "allowed_extensions",
                    format!(
                        "'{ext}' files can be executed by a web server or a browser and are not accepted for uploads \
                         (stask.upload_allow_executable is off)"
                    ),
                )
                .with("extension", json!(ext.to_ascii_lowercase())));
            }
        }
    }
    if let Some(v) = s.get("timeout") {
        let ok = v.as_f64().map(|f| f.is_finite() && (0.0..=86_400.0).contains(&f)).unwrap_or(false);
        if !ok {
            return Err(ApiError::invalid("timeout", "must be a number of seconds between 0 and 86400"));
        }
    }
    Ok(())
}

/// PUT /workers/{identifier}/settings: replaces the settings object (the
/// body, or `{"settings": {...}}`). The schedule has its own route and is
/// kept unless the body carries one, which is then validated.
pub fn settings_put(ctx: &Ctx, identifier: &str) -> ApiResult<Response> {
    let w = require(ctx, identifier)?;
    let input = json::body(ctx.req)?;
    let mut incoming = match input.0.get("settings") {
        Some(Value::Object(m)) if input.0.len() == 1 => m.clone(),
        Some(Value::Array(a)) if input.0.len() == 1 && a.is_empty() => Map::new(),
        Some(other) if input.0.len() == 1 => {
            return Err(ApiError::invalid("settings", format!("must be an object, got {}", type_name(other))))
        }
        _ => input.0.clone(),
    };
    incoming.remove("_token");
    validate_settings(&incoming, ctx.settings.upload_allow_executable)?;
    match incoming.get("schedule") {
        Some(s) => {
            let s = schedule::validate(s)?;
            incoming.insert("schedule".into(), s);
        }
        None => {
            if let Some(s) = settings_of(&w).get("schedule") {
                incoming.insert("schedule".into(), s.clone());
            }
        }
    }
    let settings = Value::Object(incoming);
    save_settings(ctx, identifier, &settings)?;
    Ok(ok(json!({"identifier": identifier, "settings": settings, "message": "Settings saved"})))
}

/// GET /workers/{identifier}/schedule: stored over the defaults.
pub fn schedule_get(ctx: &Ctx, identifier: &str) -> ApiResult<Response> {
    let w = require(ctx, identifier)?;
    let schedule = schedule::effective(&settings_of(&w));
    Ok(ok(json!({"identifier": w.identifier, "next_run": next_run(ctx, &schedule), "schedule": schedule})))
}

/// PUT /workers/{identifier}/schedule: the body (or `{"schedule": ...}`)
/// validated and stored in `settings.schedule`; other settings kept.
pub fn schedule_put(ctx: &Ctx, identifier: &str) -> ApiResult<Response> {
    let w = require(ctx, identifier)?;
    let input = json::body(ctx.req)?;
    let mut raw = match input.0.get("schedule") {
        Some(s) if input.0.len() == 1 => s.clone(),
        _ => Value::Object(input.0.clone()),
    };
    if let Value::Object(m) = &mut raw {
        m.remove("_token");
    }
    let schedule = schedule::validate(&raw)?;
    let mut settings = settings_of(&w);
    settings["schedule"] = schedule.clone();
    save_settings(ctx, identifier, &settings)?;
    Ok(ok(json!({
        "identifier": identifier, "next_run": next_run(ctx, &schedule), "schedule": schedule, "message": "Schedule saved",
    })))
}

fn host_failed(what: &str, e: HostError) -> ApiError {
    tracing::warn!("stask api: {what} failed: {}", e.0);
    ApiError::new(500, "Server Error", format!("{what} failed; the server log has the details"))
}

/// GET /workers/{identifier}/widget: `{html}` from the worker's renderWidget().
pub fn widget(ctx: &Ctx, identifier: &str) -> ApiResult<Response> {
    let w = require(ctx, identifier)?;
    let html = ctx.host.render_widget(&w).map_err(|e| host_failed("Rendering the worker's widget", e))?;
    Ok(ok(json!({"identifier": identifier, "html": html})))
}

/// POST /workers/discover
pub fn discover(ctx: &Ctx) -> ApiResult<Response> {
    let rows = ctx.host.discover().map_err(|e| host_failed("Worker discovery", e))?;
    let n = rows.len();
    Ok(ok(json!({
        "message": format!("Discovered {n} new worker{}", if n == 1 { "" } else { "s" }),
        "discovered": n,
        "workers": rows.iter().map(|w| worker_json(ctx, w, None, None)).collect::<Vec<_>>(),
    })))
}

/// POST /workers/rescan
pub fn rescan(ctx: &Ctx) -> ApiResult<Response> {
    let rows = ctx.host.rescan().map_err(|e| host_failed("Worker rescan", e))?;
    let n = rows.len();
    Ok(ok(json!({
        "message": format!("Updated {n} worker{}", if n == 1 { "" } else { "s" }),
        "updated": n,
        "workers": rows.iter().map(|w| worker_json(ctx, w, None, None)).collect::<Vec<_>>(),
    })))
}

/// POST /workers/clean-orphans
pub fn clean_orphans(ctx: &Ctx) -> ApiResult<Response> {
    let n = ctx.host.clean_orphans().map_err(|e| host_failed("Removing orphaned workers", e))?;
    Ok(ok(json!({"message": format!("Removed {n} orphaned workers"), "deleted": n})))
}
