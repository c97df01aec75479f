//! The route table: every path of the API, its method, and the package's
//! singular paths as aliases of the seed's plural ones. One table serves
//! matching, the 405 `Allow` header, and the route list in the docs.

use crate::engine::api::json::{ok, parse_id, ApiError, ApiResult};
use crate::engine::api::{bulk, download, performance, prometheus, system, tasks, uploads, workers, Ctx, Response};
use serde_json::json;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Root,
    Stats,
    StatsTimeline,
    Health,
    Processes,
    Metrics,
    Clean,
    ServerLimits,
    TaskList,
    TaskCreate,
    TaskShow,
    TaskProgress,
    TaskDownload,
    TaskCancel,
    TaskRetry,
    TasksRetry,
    TasksCancel,
    TaskUpload,
    WorkerList,
    WorkerShow,
    WorkerActivate,
    WorkerDeactivate,
    WorkerActivateByBody,
    WorkerDeactivateByBody,
    WorkerSettingsGet,
    WorkerSettingsPut,
    WorkerScheduleGet,
    WorkerSchedulePut,
    WorkerWidget,
    WorkerRun,
    WorkerUpload,
    WorkerUploadStart,
    WorkersDiscover,
    WorkersRescan,
    WorkersCleanOrphans,
    UploadChunk,
    UploadComplete,
    PerformanceSummary,
    PerformanceWorkers,
    PerformanceAlerts,
    CacheStats,
    CacheClear,
}

/// One row of the table. Patterns are `/`-separated; `{name}` captures a
/// segment. Rows are tried in order, so literal paths come before captures.
pub struct RouteDef {
    pub method: &'static str,
    pub pattern: &'static str,
    pub route: Route,
    /// The PHP package's path for a route whose seed path is another row.
    pub alias: bool,
}

const fn r(method: &'static str, pattern: &'static str, route: Route) -> RouteDef {
    RouteDef { method, pattern, route, alias: false }
}

const fn alias(method: &'static str, pattern: &'static str, route: Route) -> RouteDef {
    RouteDef { method, pattern, route, alias: true }
}

pub const ROUTES: &[RouteDef] = &[
    r("GET", "", Route::Root),
    r("GET", "stats", Route::Stats),
    r("GET", "stats/timeline", Route::StatsTimeline),
    r("GET", "health", Route::Health),
    r("GET", "processes", Route::Processes),
    r("GET", "metrics", Route::Metrics),
    r("POST", "clean", Route::Clean),
    r("GET", "server-limits", Route::ServerLimits),
    // tasks
    r("GET", "tasks", Route::TaskList),
    r("POST", "tasks", Route::TaskCreate),
    alias("POST", "task", Route::TaskCreate),
    alias("POST", "task/store", Route::TaskCreate),
    // bulk actions: literal paths before `tasks/{id}`
    r("POST", "tasks/retry", Route::TasksRetry),
    r("POST", "tasks/cancel", Route::TasksCancel),
    r("GET", "tasks/{id}", Route::TaskShow),
    alias("GET", "task/{id}", Route::TaskShow),
    r("GET", "tasks/{id}/progress", Route::TaskProgress),
    alias("GET", "task/{id}/progress", Route::TaskProgress),
    r("GET", "tasks/{id}/download", Route::TaskDownload),
    alias("GET", "task/{id}/download", Route::TaskDownload),
    r("POST", "tasks/{id}/cancel", Route::TaskCancel),
    alias("POST", "task/{id}/cancel", Route::TaskCancel),
    r("POST", "tasks/{id}/retry", Route::TaskRetry),
    alias("POST", "task/{id}/retry", Route::TaskRetry),
    r("POST", "tasks/{id}/upload", Route::TaskUpload),
    alias("POST", "task/{id}/upload", Route::TaskUpload),
    // workers: literal paths first
    r("GET", "workers", Route::WorkerList),
    r("POST", "workers/discover", Route::WorkersDiscover),
    r("POST", "workers/rescan", Route::WorkersRescan),
    r("POST", "workers/clean-orphans", Route::WorkersCleanOrphans),
    alias("POST", "worker/clean-orphaned", Route::WorkersCleanOrphans),
    alias("POST", "worker/activate", Route::WorkerActivateByBody),
    alias("POST", "worker/deactivate", Route::WorkerDeactivateByBody),
    r("GET", "workers/{identifier}", Route::WorkerShow),
    alias("GET", "worker/{identifier}", Route::WorkerShow),
    r("POST", "workers/{identifier}/activate", Route::WorkerActivate),
    alias("POST", "worker/{identifier}/activate", Route::WorkerActivate),
    r("POST", "workers/{identifier}/deactivate", Route::WorkerDeactivate),
    alias("POST", "worker/{identifier}/deactivate", Route::WorkerDeactivate),
    r("GET", "workers/{identifier}/settings", Route::WorkerSettingsGet),
    r("PUT", "workers/{identifier}/settings", Route::WorkerSettingsPut),
    alias("POST", "workers/{identifier}/settings", Route::WorkerSettingsPut),
    r("GET", "workers/{identifier}/schedule", Route::WorkerScheduleGet),
    r("PUT", "workers/{identifier}/schedule", Route::WorkerSchedulePut),
    alias("POST", "workers/{identifier}/schedule", Route::WorkerSchedulePut),
    r("GET", "workers/{identifier}/widget", Route::WorkerWidget),
    r("POST", "workers/{identifier}/tasks/{action}", Route::WorkerRun),
    alias("POST", "worker/{identifier}/run/{action}", Route::WorkerRun),
    r("POST", "workers/{identifier}/upload", Route::WorkerUpload),
    alias("POST", "worker/{identifier}/upload", Route::WorkerUpload),
    r("POST", "workers/{identifier}/uploads", Route::WorkerUploadStart),
    r("POST", "uploads/{upload_id}/chunks/{index}", Route::UploadChunk),
    r("POST", "uploads/{upload_id}/complete", Route::UploadComplete),
    // performance and cache
    r("GET", "performance/summary", Route::PerformanceSummary),
    r("GET", "performance/workers", Route::PerformanceWorkers),
    r("GET", "performance/alerts", Route::PerformanceAlerts),
    r("GET", "cache/stats", Route::CacheStats),
    r("POST", "cache/clear", Route::CacheClear),
];

/// Captured path segments, by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params(pub BTreeMap<&'static str, String>);

impl Params {
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map(String::as_str).unwrap_or("")
    }

    /// The `{id}` segment as a task id: 400 unless a positive integer.
    pub fn task_id(&self) -> Result<i64, ApiError> {
        let raw = self.get("id");
        parse_id(raw).ok_or_else(|| {
            ApiError::new(400, "Invalid task ID", "Task ID must be a positive integer")
                .with("code", 400.into())
                .with("status", "error".into())
                .with("id", raw.parse::<i64>().map(Into::into).unwrap_or(serde_json::Value::Null))
        })
    }

    /// The `{identifier}` segment, checked as the registry checks names.
    pub fn identifier(&self) -> Result<String, ApiError> {
        let raw = self.get("identifier");
        crate::engine::task::validate_name("identifier", raw).map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok(raw.to_string())
    }
}

/// Decodes `%XX` escapes of one path segment; None for a broken escape or
/// a result that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_string());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The route for a method and path; 404 for an unknown path, 405 (with
/// `Allow`) for a known path with another method.
pub fn resolve(method: &str, path: &str) -> Result<(Route, Params), ApiError> {
    let method = method.trim().to_ascii_uppercase();
    // HEAD is a GET without a body; the adapter drops the body.
    let wanted = if method == "HEAD" { "GET".to_string() } else { method.clone() };
    let path = path.split(['?', '#']).next().unwrap_or("");
    let mut segments = Vec::new();
    for raw in path.split('/').filter(|s| !s.is_empty()) {
        let seg = percent_decode(raw).ok_or_else(|| ApiError::bad_request("the path contains a malformed %-escape"))?;
        if seg.contains('/') || seg == ".." || seg == "." || seg.chars().any(char::is_control) {
            return Err(ApiError::bad_request("the path contains a forbidden segment"));
        }
        segments.push(seg);
    }
    let mut allowed: Vec<&'static str> = Vec::new();
    for def in ROUTES {
        let Some(params) = matches(def.pattern, &segments) else { continue };
        if def.method == wanted {
            return Ok((def.route, params));
        }
        if !allowed.contains(&def.method) {
            allowed.push(def.method);
        }
    }
    if allowed.is_empty() {
        return Err(ApiError::not_found("Not Found", format!("no API route matches {method} {}", shorten(path))));
    }
    let allow = allowed.join(", ");
    Err(ApiError::new(405, "Method Not Allowed", format!("{method} is not allowed here; use {allow}")).header("Allow", &allow))
}

fn shorten(path: &str) -> String {
    let p: String = path.chars().filter(|c| !c.is_control()).take(100).collect();
    if p.is_empty() {
        "/".into()
    } else if p.starts_with('/') {
        p
    } else {
        format!("/{p}")
    }
}

fn matches(pattern: &'static str, segments: &[String]) -> Option<Params> {
    let parts: Vec<&'static str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut params = Params::default();
    for (p, s) in parts.iter().zip(segments) {
        if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            params.0.insert(name, s.clone());
        } else if p != s {
            return None;
        }
    }
    Some(params)
}

/// GET / : what this API is and where its routes are (the table above,
/// without the aliases).
pub fn root(ctx: &Ctx) -> ApiResult<Response> {
    let routes: Vec<_> = ROUTES
        .iter()
        .filter(|r| !r.alias)
        .map(|r| json!({"method": r.method, "path": ctx.url(&format!("/{}", r.pattern))}))
        .collect();
    Ok(ok(json!({"name": "sTask API", "version": env!("CARGO_PKG_VERSION"), "routes": routes})))
}

/// Calls the handler of a resolved route.
pub fn run(ctx: &Ctx, route: Route, p: &Params) -> Result<Response, ApiError> {
    match route {
        Route::Root => root(ctx),
        Route::Stats => performance::stats(ctx),
        Route::StatsTimeline => performance::timeline(ctx),
        Route::Health => system::health(ctx),
        Route::Processes => system::processes(ctx),
        Route::Metrics => prometheus::metrics(ctx),
        Route::Clean => system::clean(ctx),
        Route::ServerLimits => system::server_limits(ctx),
        Route::TaskList => tasks::list(ctx),
        Route::TaskCreate => tasks::create(ctx),
        Route::TaskShow => tasks::show(ctx, p.task_id()?),
        Route::TaskProgress => tasks::progress(ctx, p.task_id()?),
        Route::TaskDownload => download::download(ctx, p.task_id()?),
        Route::TaskCancel => tasks::cancel(ctx, p.task_id()?),
        Route::TaskRetry => tasks::retry(ctx, p.task_id()?),
        Route::TasksRetry => bulk::retry(ctx),
        Route::TasksCancel => bulk::cancel(ctx),
        Route::TaskUpload => uploads::task_upload(ctx, p.task_id()?),
        Route::WorkerList => workers::list(ctx),
        Route::WorkerShow => workers::show(ctx, &p.identifier()?),
        Route::WorkerActivate => workers::set_active(ctx, Some(p.identifier()?), true),
        Route::WorkerDeactivate => workers::set_active(ctx, Some(p.identifier()?), false),
        Route::WorkerActivateByBody => workers::set_active(ctx, None, true),
        Route::WorkerDeactivateByBody => workers::set_active(ctx, None, false),
        Route::WorkerSettingsGet => workers::settings_get(ctx, &p.identifier()?),
        Route::WorkerSettingsPut => workers::settings_put(ctx, &p.identifier()?),
        Route::WorkerScheduleGet => workers::schedule_get(ctx, &p.identifier()?),
        Route::WorkerSchedulePut => workers::schedule_put(ctx, &p.identifier()?),
        Route::WorkerWidget => workers::widget(ctx, &p.identifier()?),
        Route::WorkerRun => tasks::run_action(ctx, &p.identifier()?, p.get("action")),
        Route::WorkerUpload => uploads::worker_upload(ctx, &p.identifier()?),
        Route::WorkerUploadStart => uploads::start(ctx, &p.identifier()?),
        Route::WorkersDiscover => workers::discover(ctx),
        Route::WorkersRescan => workers::rescan(ctx),
        Route::WorkersCleanOrphans => workers::clean_orphans(ctx),
        Route::UploadChunk => uploads::chunk(ctx, p.get("upload_id"), p.get("index")),
        Route::UploadComplete => uploads::complete(ctx, p.get("upload_id")),
        Route::PerformanceSummary => performance::summary(ctx),
        Route::PerformanceWorkers => performance::workers(ctx),
        Route::PerformanceAlerts => performance::alerts(ctx),
        Route::CacheStats => performance::cache_stats(ctx),
        Route::CacheClear => performance::cache_clear(ctx),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(m: &str, p: &str) -> Result<Route, u16> {
        resolve(m, p).map(|(r, _)| r).map_err(|e| e.status)
    }

    #[test]
    fn seed_paths_and_package_aliases_reach_the_same_handler() {
        assert_eq!(route("POST", "/workers/product/tasks/import"), Ok(Route::WorkerRun));
        assert_eq!(route("POST", "/worker/product/run/import"), Ok(Route::WorkerRun));
        assert_eq!(route("GET", "/tasks/5/progress"), Ok(Route::TaskProgress));
        assert_eq!(route("GET", "/task/5/progress/"), Ok(Route::TaskProgress));
        assert_eq!(route("POST", "/task/store"), Ok(Route::TaskCreate));
        assert_eq!(route("GET", ""), Ok(Route::Root));
        assert_eq!(route("GET", "/"), Ok(Route::Root));
        assert_eq!(route("post", "/workers/discover"), Ok(Route::WorkersDiscover));
        assert_eq!(route("POST", "/tasks/retry"), Ok(Route::TasksRetry));
        assert_eq!(route("POST", "/tasks/cancel"), Ok(Route::TasksCancel));
        assert_eq!(route("POST", "/tasks/7/cancel"), Ok(Route::TaskCancel));
    }

    #[test]
    fn unknown_paths_are_404_and_wrong_methods_405_with_allow() {
        assert_eq!(route("GET", "/nope"), Err(404));
        assert_eq!(route("DELETE", "/tasks"), Err(405));
        let e = resolve("GET", "/cache/clear").unwrap_err();
        assert_eq!(e.headers, vec![("Allow".to_string(), "POST".to_string())]);
        assert_eq!(route("GET", "/tasks/%2e%2e/x"), Err(400));
        assert_eq!(route("GET", "/tasks/%zz"), Err(400));
    }
}
