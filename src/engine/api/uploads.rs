//! File uploads for import tasks: single files (to a task or a worker) and
//! chunked uploads. The PHP package trusted a client-chosen session id as a
//! folder name, counted no sizes and assembled whatever chunks happened to
//! exist (REFERENCE §13.1 #5). Here the server picks the upload id, every
//! chunk index and size is checked against what was announced, `complete`
//! assembles only a whole file, and folders of abandoned uploads are
//! removed by the cleaner. Files are stored under `storage/uploads` with
//! server-generated names; responses name them relative to the storage
//! folder, never by absolute path.

use crate::engine::api::json::{self, ok, ApiError, ApiResult};
use crate::engine::api::{Ctx, Response, UploadedFile};
use crate::engine::config::ApiSettings;
use crate::engine::query::{Query, Table, Value as QValue};
use crate::engine::task::Status;
use crate::engine::time;
use crate::engine::upload_dirs::{chunks_root, clean_abandoned, new_upload_id, uploads_dir, valid_upload_id, UPLOADS_DIR};
use crate::engine::worker::WorkerRow;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

const MANIFEST: &str = "manifest.json";

/// What a chunked upload announced, kept next to its chunks.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub identifier: String,
    pub original_filename: String,
    pub extension: String,
    pub size: u64,
    pub total_chunks: u64,
    pub chunk_size: u64,
    pub created_at: String,
}

/// The worker's `settings.allowed_extensions`, lowercased; `['csv']` when unset.
pub fn allowed_extensions(w: Option<&WorkerRow>) -> Vec<String> {
    let from_settings = w
        .and_then(|w| serde_json::from_str::<Value>(&w.settings).ok())
        .and_then(|s| s.get("allowed_extensions").cloned())
        .and_then(|v| match v {
            Value::Array(a) => Some(
                a.iter().filter_map(|e| e.as_str()).map(|e| e.trim_start_matches('.').to_ascii_lowercase()).collect::<Vec<_>>(),
            ),
            Value::String(s) => Some(s.split(',').map(|e| e.trim().trim_start_matches('.').to_ascii_lowercase()).collect()),
            _ => None,
        })
        .filter(|v: &Vec<String>| !v.is_empty());
    from_settings.unwrap_or_else(|| vec!["csv".into()])
}

/// Extensions that a web server may run as code or a browser may render as
/// an active page (besides every `php*`). Uploads land under the storage
/// folder, which lives inside the application: one server rule that maps
/// `.phtml` or `.phar` to PHP, or one static route that serves the folder,
/// and an upload becomes code or a same-origin page with script. Imports
/// are data (csv, xlsx, json, xml, txt, zip), so these are refused unless
/// `upload_allow_executable` says otherwise, whatever a worker's settings list.
pub const EXECUTABLE_EXTENSIONS: &[&str] = &[
    "phtml", "pht", "phar", "pgif", "shtml", "shtm", "stm", "htaccess", "htpasswd", "user.ini", "cgi", "fcgi", "pl", "pm", "py",
    "pyc", "rb", "sh", "bash", "ksh", "exe", "dll", "so", "com", "bat", "cmd", "ps1", "vbs", "msi", "jar", "war", "jsp", "jspx",
    "asp", "aspx", "asa", "ashx", "asmx", "js", "mjs", "html", "htm", "xhtml", "xht", "hta", "svg", "svgz", "swf",
];

/// Whether an extension (any case, without the dot) is one a server or a
/// browser may execute: `php`, `php5`, `phps`, … and [`EXECUTABLE_EXTENSIONS`].
pub fn is_executable_extension(ext: &str) -> bool {
    let e = ext.trim().trim_start_matches('.').to_ascii_lowercase();
    e.starts_with("php") || EXECUTABLE_EXTENSIONS.contains(&e.as_str())
}

/// The extension of a client file name, if it is an allowed one. An
/// executable extension is refused even when an old settings row lists
/// it, unless the configuration allows executables.
fn checked_extension(original: &str, allowed: &[String], allow_executable: bool) -> ApiResult<String> {
    let base = original.rsplit(['/', '\\']).next().unwrap_or("");
    let ext = Path::new(base).extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    let shown: Vec<&String> = allowed.iter().filter(|e| allow_executable || !is_executable_extension(e)).collect();
    // `.htaccess` has no extension to Path: its whole name is checked too.
    let name = base.trim_start_matches('.').to_ascii_lowercase();
    if !allow_executable && (is_executable_extension(&ext) || (base.starts_with('.') && is_executable_extension(&name))) {
        let named = if ext.is_empty() { name } else { ext };
        return Err(ApiError::new(
            422,
            "Invalid file type",
            format!(
                "'.{named}' files can be executed by a web server or a browser and are never accepted as uploads \
                 (stask.upload_allow_executable is off); accepted file types: {}",
                shown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ),
        )
        .with("extension", json!(named))
        .with("allowed_extensions", json!(shown)));
    }
    if ext.is_empty() || !ext.bytes().all(|b| b.is_ascii_alphanumeric()) || !allowed.contains(&ext) {
        return Err(ApiError::new(
            422,
            "Invalid file type",
            format!("only these file types are accepted: {}", shown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")),
        )
        .with("allowed_extensions", json!(shown)));
    }
    Ok(ext)
}

/// A client file name for display: its last component, controls removed, short.
fn display_name(original: &str) -> String {
    let base = original.rsplit(['/', '\\']).next().unwrap_or("");
    base.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// `<prefix>_<unix>_<random>.<ext>`, prefix reduced to `[A-Za-z0-9_-]`.
fn stored_name(prefix: &str, ext: &str) -> String {
    let clean: String = prefix.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).take(40).collect();
    let r: [u8; 4] = rand::random();
    let r: String = r.iter().map(|b| format!("{b:02x}")).collect();
    format!("{clean}_{}_{r}.{ext}", time::now().timestamp())
}

fn upload_error(code: i64) -> ApiError {
    match code {
        1 | 2 => ApiError::new(413, "File too large", "the file is larger than the server accepts"),
        3 => ApiError::bad_request("the file was only partially uploaded"),
        4 => ApiError::bad_request("No file uploaded"),
        _ => ApiError::new(500, "Upload failed", "the server could not receive the file"),
    }
}

/// The `file` field, checked: present, received without error, really an
/// upload of this request, at most `max` bytes.
fn received_file<'a>(ctx: &'a Ctx, max: u64) -> ApiResult<(&'a UploadedFile, u64)> {
    let f = ctx.req.files.get("file").ok_or_else(|| ApiError::bad_request("No file uploaded (multipart field 'file')"))?;
    if f.error != 0 {
        return Err(upload_error(f.error));
    }
    if !ctx.host.is_uploaded_file(&f.tmp_name) {
        return Err(ApiError::bad_request("the 'file' field is not a file uploaded with this request"));
    }
    let size = std::fs::metadata(&f.tmp_name).map(|m| m.len()).map_err(|_| ApiError::bad_request("the uploaded file is gone"))?;
    if size > max {
        return Err(ApiError::new(413, "File too large", format!("the file is larger than the limit of {max} bytes")));
    }
    Ok((f, size))
}

fn io_failed(what: &str, e: std::io::Error) -> ApiError {
    tracing::warn!("stask api: {what}: {e}");
    ApiError::new(500, "Upload failed", format!("the server could not {what}"))
}

/// Moves a received file into place (copies when the temp folder is on
/// another file system).
fn move_into(from: &Path, to: &Path) -> std::io::Result<()> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if std::fs::rename(from, to).is_ok() {
        return Ok(());
    }
    std::fs::copy(from, to)?;
    let _ = std::fs::remove_file(from);
    Ok(())
}

fn store_single(ctx: &Ctx, f: &UploadedFile, prefix: &str, ext: &str) -> ApiResult<String> {
    let name = stored_name(prefix, ext);
    let dest = uploads_dir(&ctx.engine.settings().storage_path).join(&name);
    move_into(&f.tmp_name, &dest).map_err(|e| io_failed("store the file", e))?;
    Ok(name)
}

fn worker_for_upload(ctx: &Ctx, identifier: &str) -> ApiResult<WorkerRow> {
    let w = ctx
        .wait(ctx.engine.worker(identifier))?
        .ok_or_else(|| ApiError::not_found("Worker not found", format!("Worker '{identifier}' is not registered")))?;
    if !w.active {
        return Err(ApiError::conflict(format!("Worker '{identifier}' is inactive; activate it first")));
    }
    Ok(w)
}

/// POST /tasks/{id}/upload: a file for a task that has not started yet;
/// its meta gets uploaded_file (relative to storage), original_filename,
/// file_size and uploaded_at.
pub fn task_upload(ctx: &Ctx, id: i64) -> ApiResult<Response> {
    let task = ctx.wait(ctx.engine.require_task(id))?;
    if !matches!(task.status(), Some(Status::Pending | Status::Preparing)) {
        return Err(ApiError::conflict(format!(
            "Task #{id} is {}; files can only be added before it starts",
            task.status_text()
        )));
    }
    let worker = ctx.wait(ctx.engine.worker(&task.identifier))?;
    let allowed = allowed_extensions(worker.as_ref());
    let (f, size) = received_file(ctx, ctx.settings.upload_max_size)?;
    let ext = checked_extension(&f.name, &allowed, ctx.settings.upload_allow_executable)?;
    let name = store_single(ctx, f, &format!("task_{id}"), &ext)?;
    let relative = format!("{UPLOADS_DIR}/{name}");
    let original = display_name(&f.name);
    let mut meta = match serde_json::from_str::<Value>(task.meta.as_deref().unwrap_or("{}")) {
        Ok(Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    meta.insert("uploaded_file".into(), json!(relative));
    meta.insert("original_filename".into(), json!(original));
    meta.insert("file_size".into(), json!(size));
    meta.insert("uploaded_at".into(), json!(time::iso8601(&time::now())));
    // Guarded: a task that started meanwhile keeps the meta it runs with.
    let q = Query::new(Table::Tasks).where_eq("id", QValue::Int(id))?.where_in(
        "status",
        vec![QValue::Int(10), QValue::Int(15)],
        false,
    )?;
    let n = ctx.wait(ctx.engine.update(&q, &[("meta", QValue::Text(Value::Object(meta).to_string()))]))?;
    if n == 0 {
        let _ = std::fs::remove_file(uploads_dir(&ctx.engine.settings().storage_path).join(&name));
        return Err(ApiError::conflict(format!("Task #{id} started before the file arrived")));
    }
    Ok(ok(json!({
        "code": 200, "message": "File uploaded successfully", "result": name, "filename": name,
        "uploaded_file": relative, "original_filename": original, "file_size": size,
    })))
}

/// POST /workers/{identifier}/upload: one file for a later run of the
/// worker (pass the returned name in the run's options).
pub fn worker_upload(ctx: &Ctx, identifier: &str) -> ApiResult<Response> {
    if ctx.req.form.contains_key("chunk_index") || ctx.req.form.contains_key("session_id") {
        return Err(ApiError::invalid(
            "chunk_index",
            "client-chosen chunk sessions are not accepted; start a chunked upload with POST /workers/{identifier}/uploads",
        ));
    }
    let worker = worker_for_upload(ctx, identifier)?;
    let (f, size) = received_file(ctx, ctx.settings.upload_max_size)?;
    let ext = checked_extension(&f.name, &allowed_extensions(Some(&worker)), ctx.settings.upload_allow_executable)?;
    let name = store_single(ctx, f, identifier, &ext)?;
    Ok(ok(json!({
        "code": 200, "message": "File uploaded successfully", "result": name, "filename": name,
        "uploaded_file": format!("{UPLOADS_DIR}/{name}"), "original_filename": display_name(&f.name), "file_size": size,
    })))
}

/// POST /workers/{identifier}/uploads {filename, size, total_chunks}:
/// starts a chunked upload and returns its id.
pub fn start(ctx: &Ctx, identifier: &str) -> ApiResult<Response> {
    let worker = worker_for_upload(ctx, identifier)?;
    let input = json::body(ctx.req)?;
    let original = input.required_str("filename")?;
    let ext = checked_extension(&original, &allowed_extensions(Some(&worker)), ctx.settings.upload_allow_executable)?;
    let s = ctx.settings;
    let size = input.int("size")?.ok_or_else(|| ApiError::invalid("size", "is required (bytes)"))?;
    if size < 1 || size as u64 > s.upload_max_size {
        return Err(ApiError::new(413, "File too large", format!("size must be between 1 and {} bytes", s.upload_max_size))
            .with("field", json!("size")));
    }
    let size = size as u64;
    let needed = size.div_ceil(s.upload_chunk_size.max(1));
    let total = input.int("total_chunks")?.map(|t| t.max(0) as u64).unwrap_or(needed);
    if total < needed || total > size || total > s.upload_max_chunks {
        return Err(ApiError::invalid(
            "total_chunks",
            format!(
                "{total} chunks cannot carry {size} bytes with chunks of at most {} bytes (at most {} chunks)",
                s.upload_chunk_size, s.upload_max_chunks
            ),
        ));
    }
    let storage = &ctx.engine.settings().storage_path;
    let root = chunks_root(storage);
    // Opportunistic: starting an upload is when old ones are worth removing.
    let _ = clean_abandoned(storage, s.upload_stale_after, SystemTime::now());
    // Counting and creating happen under one lock, so parallel starts
    // cannot all see room for one more.
    std::fs::create_dir_all(&root).map_err(|e| io_failed("start the upload", e))?;
    let _lock = DirLock::acquire(&root).map_err(|e| io_failed("start the upload", e))?;
    check_open_caps(&open_uploads(storage, identifier), size, s)?;
    let id = new_upload_id();
    let dir = root.join(&id);
    let manifest = Manifest {
        identifier: identifier.to_string(),
        original_filename: display_name(&original),
        extension: ext,
        size,
        total_chunks: total,
        chunk_size: s.upload_chunk_size,
        created_at: time::iso8601(&time::now()),
    };
    std::fs::create_dir_all(&dir)
        .and_then(|_| std::fs::write(dir.join(MANIFEST), serde_json::to_vec(&manifest).unwrap_or_default()))
        .map_err(|e| io_failed("start the upload", e))?;
    let expires = time::now() + chrono::Duration::from_std(s.upload_stale_after).unwrap_or_default();
    Ok(ok(json!({
        "upload_id": id, "chunk_size": s.upload_chunk_size, "total_chunks": total, "size": size,
        "expires_at": time::iso8601(&expires),
        "chunk_url": ctx.url(&format!("/uploads/{id}/chunks/{{index}}")),
        "complete_url": ctx.url(&format!("/uploads/{id}/complete")),
    })))
}

/// What the chunked uploads in progress hold: how many, how many of one
/// worker, and the bytes they announced (each may fill up to its size).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OpenUploads {
    pub count: u64,
    pub for_worker: u64,
    pub bytes: u64,
}

/// Reads the manifests of the open uploads (interrupted assemblies too:
/// their bytes are still on disk until the cleaner removes them).
pub fn open_uploads(storage: &Path, identifier: &str) -> OpenUploads {
    let mut open = OpenUploads::default();
    let Ok(entries) = std::fs::read_dir(chunks_root(storage)) else { return open };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let id = name.strip_suffix(".assembling").unwrap_or(&name);
        if !valid_upload_id(id) || !entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            continue;
        }
        open.count += 1;
        // A folder without a readable manifest still counts, with no bytes:
        // it is removed when it goes stale.
        let manifest =
            std::fs::read(entry.path().join(MANIFEST)).ok().and_then(|raw| serde_json::from_slice::<Manifest>(&raw).ok());
        if let Some(m) = manifest {
            open.bytes = open.bytes.saturating_add(m.size);
            if m.identifier == identifier {
                open.for_worker += 1;
            }
        }
    }
    open
}

/// The caps on open chunked uploads: without them a token holder opens
/// any number of uploads, each up to `upload_max_size`, and fills the disk.
/// Too many open: 429 (they free up as uploads complete or go stale); too
/// many bytes announced: 507.
#[allow(clippy::result_large_err)] // ApiError, as every handler of the API returns
pub fn check_open_caps(open: &OpenUploads, size: u64, s: &ApiSettings) -> ApiResult<()> {
    let retry = (s.upload_stale_after.as_secs() / 4).clamp(60, 3600).to_string();
    if open.count >= s.upload_max_open {
        return Err(ApiError::new(
            429,
            "Too many open uploads",
            format!(
                "{} chunked uploads are open, the limit is {} (stask.upload_max_open); complete them or wait until unfinished ones expire",
                open.count, s.upload_max_open
            ),
        )
        .with("limit", json!(s.upload_max_open))
        .header("Retry-After", &retry));
    }
    if open.for_worker >= s.upload_max_open_per_worker {
        return Err(ApiError::new(
            429,
            "Too many open uploads",
            format!(
                "{} chunked uploads of this worker are open, the limit is {} (stask.upload_max_open_per_worker); complete them or wait until unfinished ones expire",
                open.for_worker, s.upload_max_open_per_worker
            ),
        )
        .with("limit", json!(s.upload_max_open_per_worker))
        .header("Retry-After", &retry));
    }
    if open.bytes.saturating_add(size) > s.upload_max_open_bytes {
        return Err(ApiError::new(
            507,
            "Insufficient Storage",
            format!(
                "open chunked uploads already reserve {} bytes; {size} more would pass the limit of {} bytes (stask.upload_max_open_bytes)",
                open.bytes, s.upload_max_open_bytes
            ),
        )
        .with("limit", json!(s.upload_max_open_bytes))
        .header("Retry-After", &retry));
    }
    Ok(())
}

/// An exclusive `flock` on the chunks folder, released when dropped (also
/// when the process dies, so a crash cannot leave it held).
struct DirLock(std::fs::File);

impl DirLock {
    fn acquire(root: &Path) -> std::io::Result<DirLock> {
        use std::os::unix::io::AsRawFd;
        let f = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(root.join(".lock"))?;
        // SAFETY: flock on a descriptor we own; it blocks only while another
        // start of this host counts the uploads.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(DirLock(f))
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        use std::os::unix::io::AsRawFd;
        // SAFETY: as in acquire; closing the file would release it anyway.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}

fn session(ctx: &Ctx, upload_id: &str) -> ApiResult<(PathBuf, Manifest)> {
    if !valid_upload_id(upload_id) {
        return Err(ApiError::bad_request("the upload id is not one this server issues"));
    }
    let dir = chunks_root(&ctx.engine.settings().storage_path).join(upload_id);
    let raw = std::fs::read(dir.join(MANIFEST)).map_err(|_| {
        ApiError::not_found("Upload not found", "no upload in progress has this id (it may have expired or completed)")
    })?;
    let m: Manifest = serde_json::from_slice(&raw)
        .map_err(|_| ApiError::new(500, "Upload failed", "the upload's record is damaged; start again"))?;
    Ok((dir, m))
}

fn chunk_path(dir: &Path, index: u64) -> PathBuf {
    dir.join(format!("{index:06}.part"))
}

/// (received indexes, bytes received) of an upload folder.
fn received(dir: &Path, m: &Manifest) -> (Vec<u64>, u64) {
    let mut idx = Vec::new();
    let mut bytes = 0;
    for i in 0..m.total_chunks {
        if let Ok(meta) = std::fs::metadata(chunk_path(dir, i)) {
            idx.push(i);
            bytes += meta.len();
        }
    }
    (idx, bytes)
}

/// POST /uploads/{upload_id}/chunks/{index} (multipart `file`).
pub fn chunk(ctx: &Ctx, upload_id: &str, index: &str) -> ApiResult<Response> {
    let (dir, m) = session(ctx, upload_id)?;
    let index =
        index.parse::<u64>().ok().filter(|i| *i < m.total_chunks && index.bytes().all(|b| b.is_ascii_digit())).ok_or_else(
            || ApiError::invalid("index", format!("must be a chunk number from 0 to {}", m.total_chunks.saturating_sub(1))),
        )?;
    let (f, size) = received_file(ctx, m.chunk_size)?;
    if size == 0 {
        return Err(ApiError::invalid("file", "a chunk must not be empty"));
    }
    let dest = chunk_path(&dir, index);
    let previous = std::fs::metadata(&dest).map(|x| x.len()).unwrap_or(0);
    let (_, bytes) = received(&dir, &m);
    if bytes.saturating_sub(previous) + size > m.size {
        return Err(ApiError::new(
            413,
            "Upload too large",
            format!("the chunks would exceed the announced size of {} bytes", m.size),
        ));
    }
    move_into(&f.tmp_name, &dest).map_err(|e| io_failed("store the chunk", e))?;
    let (idx, bytes) = received(&dir, &m);
    Ok(ok(json!({
        "upload_id": upload_id, "index": index, "received_chunks": idx.len(), "total_chunks": m.total_chunks,
        "received_bytes": bytes, "size": m.size,
    })))
}

/// POST /uploads/{upload_id}/complete: assembles a complete upload.
pub fn complete(ctx: &Ctx, upload_id: &str) -> ApiResult<Response> {
    let (dir, m) = session(ctx, upload_id)?;
    let (idx, bytes) = received(&dir, &m);
    if (idx.len() as u64) < m.total_chunks {
        let missing: Vec<u64> = (0..m.total_chunks).filter(|i| !idx.contains(i)).take(50).collect();
        return Err(ApiError::conflict(format!(
            "{} of {} chunks are missing",
            m.total_chunks - idx.len() as u64,
            m.total_chunks
        ))
        .with("missing_chunks", json!(missing)));
    }
    if bytes != m.size {
        return Err(ApiError::new(422, "Size mismatch", format!("received {bytes} bytes, but the upload announced {}", m.size)));
    }
    // Claimed by renaming: a second `complete` racing this one finds nothing.
    let work = dir.with_extension("assembling");
    std::fs::rename(&dir, &work).map_err(|_| ApiError::conflict("this upload is already being completed"))?;
    let name = stored_name(&m.identifier, &m.extension);
    let dest = uploads_dir(&ctx.engine.settings().storage_path).join(&name);
    let result = assemble(&work, &m, &dest);
    let _ = std::fs::remove_dir_all(&work);
    if let Err(e) = result {
        let _ = std::fs::remove_file(&dest);
        return Err(io_failed("assemble the file", e));
    }
    Ok(ok(json!({
        "code": 200, "message": "File uploaded successfully", "filename": name, "result": name,
        "uploaded_file": format!("{UPLOADS_DIR}/{name}"), "original_filename": m.original_filename, "file_size": m.size,
    })))
}

fn assemble(dir: &Path, m: &Manifest, dest: &Path) -> std::io::Result<()> {
    let tmp = dest.with_extension("partial");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        let mut buf = vec![0u8; 64 * 1024];
        for i in 0..m.total_chunks {
            let mut f = std::fs::File::open(chunk_path(dir, i))?;
            loop {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                out.write_all(&buf[..n])?;
            }
        }
        out.flush()?;
    }
    if std::fs::metadata(&tmp)?.len() != m.size {
        let _ = std::fs::remove_file(&tmp);
        return Err(std::io::Error::other("assembled size differs from the announced size"));
    }
    std::fs::rename(&tmp, dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_come_from_the_worker_settings_with_csv_by_default() {
        assert_eq!(allowed_extensions(None), vec!["csv"]);
        assert!(checked_extension("a.CSV", &["csv".into()], false).is_ok());
        assert!(checked_extension("a.php", &["csv".into()], false).is_err());
        assert!(checked_extension("csv", &["csv".into()], false).is_err());
        assert!(checked_extension("../x.csv", &["csv".into()], false).is_ok());
        assert_eq!(display_name("C:\\Users\\x\\data.csv"), "data.csv");
    }

    #[test]
    fn executable_extensions_are_refused_even_when_settings_list_them() {
        let listed: Vec<String> = ["csv", "php", "phtml", "phar", "svg"].iter().map(|s| s.to_string()).collect();
        for name in ["shell.php", "x.PHP5", "a.phtml", "b.phar", "c.pht", "d.shtml", "e.svg", "f.html", "g.js", ".htaccess"] {
            let e = checked_extension(name, &listed, false).unwrap_err();
            assert_eq!(e.status, 422, "{name}");
            let ext = name.rsplit('.').next().unwrap().to_ascii_lowercase();
            assert!(e.message.contains(&format!("'.{ext}'")), "{name}: {}", e.message);
            assert!(!e.message.contains("php,"), "executables are not offered as accepted: {}", e.message);
        }
        assert_eq!(checked_extension("ok.phtml", &listed, true).unwrap(), "phtml");
        assert_eq!(checked_extension("ok.csv", &listed, false).unwrap(), "csv");
        assert!(!is_executable_extension("csv") && !is_executable_extension("xlsx") && is_executable_extension("Php7"));
    }

    #[test]
    fn open_upload_caps_answer_429_then_507() {
        let s =
            ApiSettings { upload_max_open: 3, upload_max_open_per_worker: 2, upload_max_open_bytes: 100, ..Default::default() };
        let open = |count, for_worker, bytes| OpenUploads { count, for_worker, bytes };
        assert!(check_open_caps(&open(2, 1, 50), 50, &s).is_ok());
        assert_eq!(check_open_caps(&open(3, 0, 0), 1, &s).unwrap_err().status, 429);
        assert_eq!(check_open_caps(&open(2, 2, 0), 1, &s).unwrap_err().status, 429);
        let e = check_open_caps(&open(2, 1, 50), 51, &s).unwrap_err();
        assert_eq!((e.status, e.error.as_str()), (507, "Insufficient Storage"));
    }

    #[test]
    fn open_uploads_are_counted_from_their_manifests() {
        let dir = tempfile::tempdir().unwrap();
        let root = chunks_root(dir.path());
        for (who, size) in [("product", 10u64), ("product", 20), ("other", 5)] {
            let d = root.join(new_upload_id());
            std::fs::create_dir_all(&d).unwrap();
            let m = Manifest {
                identifier: who.into(),
                original_filename: "a.csv".into(),
                extension: "csv".into(),
                size,
                total_chunks: 1,
                chunk_size: 1024,
                created_at: String::new(),
            };
            std::fs::write(d.join(MANIFEST), serde_json::to_vec(&m).unwrap()).unwrap();
        }
        std::fs::create_dir_all(root.join("not-an-upload")).unwrap();
        assert_eq!(open_uploads(dir.path(), "product"), OpenUploads { count: 3, for_worker: 2, bytes: 35 });
    }
}
