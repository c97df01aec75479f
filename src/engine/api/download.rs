//! Downloads of a completed task's result file. The PHP package served any
//! path a worker wrote into `result` (REFERENCE §13.1 #4); here only regular
//! files inside the storage folder are served, after resolving symlinks,
//! so neither `../` nor a link can reach anything else. The storage folder
//! also holds the engine's own files, which are never a task's result: the
//! SQLite database with its `-wal`, `-shm` and `-journal` companions (the
//! WAL holds the latest pages of every row), the progress snapshots
//! (`{id}.json`, and their `.~…` temp files) and the upload chunks
//! (`uploads/.chunks`); hidden files (a name starting with `.`) are refused
//! too.

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
    /// The SQLite database or one of its companions (`-wal`, `-shm`, `-journal`).
    Database,
    /// A progress snapshot, an upload chunk, or another hidden file.
    EngineFile,
    NotAFile,
}

/// Whether `real` (canonical) is the SQLite database or a file named after
/// it in its folder: SQLite's `-wal`, `-shm` and `-journal` files.
fn is_database(settings: &Settings, real: &Path) -> bool {
    let Dsn::Sqlite { path } = &settings.dsn else { return false };
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else { return false };
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let Ok(dir) = dir.canonicalize() else { return false };
    let name = name.as_encoded_bytes();
    let beside = real.parent() == Some(dir.as_path()) && real.file_name().is_some_and(|f| f.as_encoded_bytes().starts_with(name));
    // Or a link to the database under another name.
    beside || path.canonicalize().is_ok_and(|db| db == real)
}

/// Whether `rel` (inside the storage folder) is one of the engine's own
/// files: a hidden component (progress temp files `.~…`, `uploads/.chunks`,
/// lock files) or a progress snapshot `{id}.json` at the top.
fn is_engine_file(rel: &Path) -> bool {
    let parts: Vec<&[u8]> = rel.components().map(|c| c.as_os_str().as_encoded_bytes()).collect();
    if parts.iter().any(|p| p.starts_with(b".")) {
        return true;
    }
    match parts.as_slice() {
        [only] => only.strip_suffix(b".json").is_some_and(|stem| !stem.is_empty() && stem.iter().all(|b| b.is_ascii_digit())),
        _ => false,
    }
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
/// one of the engine's own files (the module doc lists them).
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
    let rel = match real.strip_prefix(&storage) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel,
        _ => return Err(Refused::OutsideStorage),
    };
    if is_database(settings, &real) {
        return Err(Refused::Database);
    }
    if is_engine_file(rel) {
        return Err(Refused::EngineFile);
    }
    // Canonical, so no link is left: a regular file, not a folder, FIFO or device.
    if !std::fs::symlink_metadata(&real).map(|m| m.file_type().is_file()).unwrap_or(false) {
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

    #[test]
    fn engine_files_are_told_from_task_results() {
        for own in ["12.json", ".~7.123.456.json", "uploads/.chunks/abc/000001.part", ".env", "a/.lock"] {
            assert!(is_engine_file(Path::new(own)), "{own}");
        }
        for result in ["exports/12.json", "report.json", "x12.json", "12.json.csv", "uploads/list.csv"] {
            assert!(!is_engine_file(Path::new(result)), "{result}");
        }
    }
}
