//! Statistics, the hourly timeline, the seed's performance routes and the
//! worker cache routes. The figures come from `metrics` (one aggregate
//! query each); this file only shapes them as the seed shows them.

use crate::engine::api::json::{ok, ApiError, ApiResult, Input};
use crate::engine::api::{Ctx, Response};
use crate::engine::metrics;
use crate::engine::time;
use serde_json::json;

fn hours(ctx: &Ctx) -> ApiResult<i64> {
    Input::from_query(ctx.req).int_in("hours", 24, 1..=24 * 366)
}

/// GET /stats: `getStats()` verbatim (no `success` wrapper, as the package).
pub fn stats(ctx: &Ctx) -> ApiResult<Response> {
    let v = ctx.wait(metrics::stats(ctx.engine))?;
    Ok(Response::json(200, &v))
}

/// GET /stats/timeline?hours=24: one entry per hour, oldest first, hours
/// without activity included as zeros so charts need no gap filling.
pub fn timeline(ctx: &Ctx) -> ApiResult<Response> {
    let hours = Input::from_query(ctx.req).int_in("hours", 24, 1..=24 * 31)?;
    let now = time::now();
    let this_hour = now
        .date_naive()
        .and_hms_opt(chrono::Timelike::hour(&now), 0, 0)
        .map(|n| n.and_utc())
        .ok_or_else(|| ApiError::new(500, "Server Error", "the clock is out of range"))?;
    let from = this_hour - chrono::Duration::hours(hours - 1);
    let rows = ctx.wait(ctx.engine.store().task_timeline(from)).map_err(crate::engine::Error::from)?;
    let mut out = Vec::with_capacity(hours as usize);
    for i in 0..hours {
        let hour = from + chrono::Duration::hours(i);
        let row = rows.iter().find(|r| r.hour == hour);
        out.push(json!({
            "hour": time::iso8601(&hour),
            "created": row.map(|r| r.created).unwrap_or(0),
            "completed": row.map(|r| r.completed).unwrap_or(0),
            "failed": row.map(|r| r.failed).unwrap_or(0),
            "avg_duration": row.and_then(|r| r.average_duration).map(|d| (d * 1000.0).round() / 1000.0),
        }));
    }
    Ok(ok(json!({
        "hours": hours, "from": time::iso8601(&from), "to": time::iso8601(&now), "timeline": out,
    })))
}

/// GET /performance/summary?hours=24: the seed's `period/tasks/performance`
/// at the top level (plus workers and errors).
pub fn summary(ctx: &Ctx) -> ApiResult<Response> {
    let v = ctx.wait(metrics::summary(ctx.engine, hours(ctx)?))?;
    Ok(ok(v))
}

/// GET /performance/workers?hours=24[&identifier=]: key `workers`.
pub fn workers(ctx: &Ctx) -> ApiResult<Response> {
    let q = Input::from_query(ctx.req);
    let identifier = q.str("identifier")?.filter(|i| !i.trim().is_empty());
    let v = ctx.wait(metrics::worker_stats(ctx.engine, identifier.as_deref(), hours(ctx)?))?;
    Ok(ok(json!({"workers": v})))
}

/// GET /performance/alerts: key `alerts`.
pub fn alerts(ctx: &Ctx) -> ApiResult<Response> {
    let v = ctx.wait(metrics::alerts(ctx.engine))?;
    Ok(ok(json!({"alerts": v})))
}

/// GET /cache/stats: key `cache_stats` (this process's worker cache).
pub fn cache_stats(ctx: &Ctx) -> ApiResult<Response> {
    let s = ctx.engine.cache_stats();
    Ok(ok(json!({"cache_stats": {
        "hits": s.hits, "misses": s.misses, "evictions": s.evictions, "hit_rate": s.hit_rate,
        "cache_size": s.cache_size, "memory_usage": ctx.host.memory_usage(),
    }})))
}

/// POST /cache/clear {identifier?}
pub fn cache_clear(ctx: &Ctx) -> ApiResult<Response> {
    let input = crate::engine::api::json::body(ctx.req)?;
    let identifier = input.str("identifier")?.filter(|i| !i.trim().is_empty());
    if let Some(i) = &identifier {
        crate::engine::task::validate_name("identifier", i)?;
    }
    ctx.engine.invalidate_workers(identifier.as_deref());
    ctx.host.clear_worker_instances();
    Ok(ok(json!({"message": "Cache cleared successfully"})))
}
