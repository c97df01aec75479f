//! Downloads of a completed task's result file. The PHP package served any
//! path a worker wrote into `result` (REFERENCE §13.1 #4); here only regular
//! files inside the storage folder are served, after resolving symlinks,
//! so neither `../` nor a link can reach anything else.

use crate::engine::api::json::{ApiError, ApiResult};
use crate::engine::api::{Body, Ctx, Response};
use crate::engine::config::{Dsn, Settings};
use crate::engine::task::{Status, TaskRow};
use serde_json::Value;
use std::path::{Component, Path, PathBuf};

/// Why a result cannot be served (all answered 404; logged with reasons).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    NoResult,
    Missing,
    OutsideStorage,
    NotAFile,
}

/// The path a result names: a JSON string, or an object's `file`/`path`.
fn named_path(t: &TaskRow) -> Option<String> {
    let raw = t.result.as_deref()?.trim();
    if raw.is_empty() {
        return None;
    }
    let v: Value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()));
    match v {
        Value::String(s) => Some(s),
        Value::Object(m) => ["file", "path", "file_path", "filename"].iter().find_map(|k| m.get(*k)?.as_str().map(String::from)),
        _ => None,
    }
    .filter(|s| !s.trim().is_empty() && !s.contains('\0'))
}

/// The real path of the task's result file, if it may be served: relative
/// names resolve under the storage folder; either way the resolved path
/// (symlinks followed) must lie inside it and be a regular file, and never
/// the SQLite database.
pub fn result_file(settings: &Settings, t: &TaskRow) -> Result<PathBuf, Refused> {
    let name = named_path(t).ok_or(Refused::NoResult)?;
    let storage = settings.storage_path.canonicalize().map_err(|_| Refused::Missing)?;
    let p = Path::new(&name);
    let candidate = if p.is_absolute() {
        p.to_path_buf()
    } else {
        if p.components().any(|c| matches!(c, Component::ParentDir)) {
            return Err(Refused::OutsideStorage);
        }
        settings.storage_path.join(p)
    };
    let real = candidate.canonicalize().map_err(|_| Refused::Missing)?;
    if !real.starts_with(&storage) || real == storage {
        return Err(Refused::OutsideStorage);
    }
    if let Dsn::Sqlite { path } = &settings.dsn {
        if path.canonicalize().map(|db| real.starts_with(db)).unwrap_or(false) {
            return Err(Refused::OutsideStorage);
        }
    }
    if !real.metadata().map(|m| m.is_file()).unwrap_or(false) {
        return Err(Refused::NotAFile);
    }
    Ok(real)
}

pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("csv") => "text/csv",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some("xls") => "application/vnd.ms-excel",
        Some("json") => "application/json",
        Some("xml") => "application/xml",
        Some("txt") => "text/plain",
        Some("zip") => "application/zip",
        _ => "application/octet-stream",
    }
}

/// `attachment; filename="…"; filename*=UTF-8''…`: a quoted ASCII name
/// without quotes or controls, and the exact name percent-encoded.
pub fn disposition(name: &str) -> String {
    let ascii: String =
        name.chars().map(|c| if c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\' { c } else { '_' }).collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// GET /tasks/{id}/download
pub fn download(ctx: &Ctx, id: i64) -> ApiResult<Response> {
    let task = ctx.wait(ctx.engine.require_task(id))?;
    if task.status != Status::Completed.code() {
        return Err(
            ApiError::new(400, "Task not completed", "Task must be completed before downloading").with("code", 400.into())
        );
    }
    let path = result_file(ctx.engine.settings(), &task).map_err(|why| {
        tracing::info!("stask api: task #{id} result not served: {why:?}");
        ApiError::not_found("Export file not found", "Export file is not available").with("code", 404.into())
    })?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| format!("task-{id}"));
    let size = path.metadata().map(|m| m.len()).unwrap_or(0);
    Ok(Response {
        status: 200,
        headers: vec![
            ("Content-Type".into(), content_type(&path).into()),
            ("Content-Disposition".into(), disposition(&name)),
            ("Content-Length".into(), size.to_string()),
            ("X-Content-Type-Options".into(), "nosniff".into()),
            ("Cache-Control".into(), "no-store".into()),
        ],
        body: Body::File(path),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_in_the_header() {
        assert_eq!(disposition("a b.csv"), "attachment; filename=\"a b.csv\"; filename*=UTF-8''a%20b.csv");
        assert!(disposition("x\"\r\n.csv").starts_with("attachment; filename=\"x___.csv\""));
        assert_eq!(content_type(Path::new("/x/Y.XLSX")), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        assert_eq!(content_type(Path::new("/x/y")), "application/octet-stream");
    }
}
