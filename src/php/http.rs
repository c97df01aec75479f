//! `sTask::handleHttp(array $request): array`: the REST API for PHP hosts.
//!
//! The Laravel routes and the plain front controller build the request
//! array from what their framework received and send back what this
//! returns; routing, validation, authentication and JSON all happen in
//! `engine::api`. This file only converts the array, supplies the
//! [`Host`] (worker classes, widgets, PHP's upload checks) and converts the
//! response. A malformed request array is a programming error of the
//! adapter and throws; anything a client sent wrong is a JSON response.

use crate::engine::api::{self, ApiError, Auth, Body, Host, HostError, Request, UploadedFile};
use crate::engine::config::parse_bytes;
use crate::engine::service::Engine;
use crate::engine::worker::WorkerRow;
use crate::php::context;
use crate::php::convert::{describe, entries, raw_entries, values_of, zval_to_json};
use crate::php::discovery;
use crate::php::exceptions::invalid;
use crate::php::executor::{action_method, action_name};
use crate::php::workers::{cached_instance, clear_instances};
use ext_php_rs::exception::PhpResult;
use ext_php_rs::types::{ZendCallable, ZendHashTable, Zval};
use ext_php_rs::zend::ExecutorGlobals;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const KEYS: &[&str] = &["method", "path", "query", "body", "form", "files", "headers", "auth", "base_url"];

fn field<'a>(req: &'a ZendHashTable, key: &str) -> Option<&'a Zval> {
    req.get(key).map(|z| z.dereference()).filter(|z| !z.is_null())
}

fn string_field(req: &ZendHashTable, key: &str, required: bool) -> PhpResult<Option<String>> {
    match field(req, key) {
        None if required => Err(invalid(&format!("request['{key}']"), "is required")),
        None => Ok(None),
        Some(z) => z
            .string()
            .map(Some)
            .ok_or_else(|| invalid(&format!("request['{key}']"), format!("must be a string, got {}", describe(z)))),
    }
}

fn array_field<'a>(req: &'a ZendHashTable, key: &str) -> PhpResult<Option<&'a ZendHashTable>> {
    match field(req, key) {
        None => Ok(None),
        Some(z) => z
            .array()
            .map(Some)
            .ok_or_else(|| invalid(&format!("request['{key}']"), format!("must be an array, got {}", describe(z)))),
    }
}

/// What the client sent that cannot be read: names or values that are not
/// UTF-8 (`?%ff=1`). The client's fault, so a 400 rather than an exception.
fn unreadable(what: &str) -> ApiError {
    ApiError::bad_request(format!(
        "The request's {what} hold a name or value that cannot be read (not valid UTF-8, or nested too deeply)"
    ))
}

/// `$_GET`/`$_POST` as a JSON object (list keys become "0", "1", …);
/// None when a name or value cannot be read.
fn object_of(ht: Option<&ZendHashTable>, key: &str) -> Option<Map<String, Value>> {
    let mut m = Map::new();
    if let Some(ht) = ht {
        for (k, v) in raw_entries(ht).ok()? {
            m.insert(k.as_string(), zval_to_json(v, key).ok()?);
        }
    }
    Some(m)
}

fn int_of(z: Option<&Zval>) -> Option<i64> {
    let z = z?.dereference();
    z.long().or_else(|| z.str().and_then(|s| s.trim().parse().ok()))
}

/// `$_FILES`: field => [name, type, tmp_name, error, size]. Fields holding
/// several files (`name` is an array) are left out: the API takes one
/// file per field.
fn files_of(ht: Option<&ZendHashTable>) -> PhpResult<Result<BTreeMap<String, UploadedFile>, ApiError>> {
    let mut out = BTreeMap::new();
    let Some(ht) = ht else { return Ok(Ok(out)) };
    // Field names come from the client's multipart body.
    let Ok(list) = raw_entries(ht) else { return Ok(Err(unreadable("file fields"))) };
    for (key, v) in list {
        let key = key.as_string();
        let f = v
            .dereference()
            .array()
            .ok_or_else(|| invalid(&format!("request['files']['{key}']"), "must be an array in $_FILES shape"))?;
        let text = |name: &str| f.get(name).and_then(|z| z.dereference().string());
        if f.get("name").map(|z| z.dereference().is_array()).unwrap_or(false) {
            continue;
        }
        out.insert(
            key,
            UploadedFile {
                name: text("name").unwrap_or_default(),
                mime: text("type").unwrap_or_default(),
                tmp_name: PathBuf::from(text("tmp_name").unwrap_or_default()),
                error: int_of(f.get("error")).unwrap_or(4),
                size: int_of(f.get("size")).unwrap_or(0).max(0) as u64,
            },
        );
    }
    Ok(Ok(out))
}

fn headers_of(ht: Option<&ZendHashTable>) -> PhpResult<Result<BTreeMap<String, String>, ApiError>> {
    let mut out = BTreeMap::new();
    let Some(ht) = ht else { return Ok(Ok(out)) };
    let Ok(list) = raw_entries(ht) else { return Ok(Err(unreadable("headers"))) };
    for (k, v) in list {
        let v = v.dereference();
        // Laravel's `$request->headers->all()` gives a list per name.
        let value = match v.array() {
            Some(list) => values_of(list).into_iter().filter_map(|x| x.dereference().string()).collect::<Vec<_>>().join(", "),
            None if v.is_string() => match v.string() {
                Some(s) => s,
                None => return Ok(Err(unreadable("headers"))),
            },
            None => return Err(invalid("request['headers']", format!("values must be strings, got {}", describe(v)))),
        };
        out.insert(k.as_string().to_ascii_lowercase(), value);
    }
    Ok(Ok(out))
}

fn auth_of(ht: Option<&ZendHashTable>) -> PhpResult<Auth> {
    // No auth array: the safe default, the bearer token.
    let Some(ht) = ht else { return Ok(Auth::Bearer) };
    let mode = field(ht, "mode").and_then(|z| z.string()).unwrap_or_default();
    match mode.as_str() {
        "bearer" => Ok(Auth::Bearer),
        "trusted" => {
            let user_id = match field(ht, "user_id") {
                None => None,
                Some(z) => Some(int_of(Some(z)).ok_or_else(|| {
                    invalid("request['auth']['user_id']", format!("must be an integer or null, got {}", describe(z)))
                })?),
            };
            Ok(Auth::Trusted { user_id })
        }
        other => Err(invalid("request['auth']['mode']", format!("must be 'bearer' or 'trusted', got '{other}'"))),
    }
}

/// The request array as the engine's request. A malformed array (the
/// adapter's bug) throws; what the client sent and cannot be read (bytes
/// that are not UTF-8 in the path, query, form or headers) is the inner
/// `Err`, answered with a 400.
pub fn request_of(req: &ZendHashTable) -> PhpResult<Result<Request, ApiError>> {
    for (key, _) in entries(req, "request")? {
        if !KEYS.contains(&key.as_str()) {
            return Err(invalid("request", format!("unknown key '{key}'; known keys: {}", KEYS.join(", "))));
        }
    }
    let method = string_field(req, "method", true)?.unwrap_or_default();
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(invalid("request['method']", "must be an HTTP method name"));
    }
    let body = match field(req, "body") {
        None => Vec::new(),
        Some(z) if z.is_string() => z.binary::<u8>().unwrap_or_default(),
        Some(z) => return Err(invalid("request['body']", format!("must be a string, got {}", describe(z)))),
    };
    if field(req, "path").is_some_and(|z| z.is_string() && z.str().is_none()) {
        return Ok(Err(unreadable("path")));
    }
    let path = string_field(req, "path", true)?.unwrap_or_default();
    let (query_ht, form_ht) = (array_field(req, "query")?, array_field(req, "form")?);
    let files = match files_of(array_field(req, "files")?)? {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    let headers = match headers_of(array_field(req, "headers")?)? {
        Ok(h) => h,
        Err(e) => return Ok(Err(e)),
    };
    let auth = auth_of(array_field(req, "auth")?)?;
    let base_url = string_field(req, "base_url", false)?.unwrap_or_else(|| "/stask".into());
    let Some(query) = object_of(query_ht, "query") else { return Ok(Err(unreadable("query parameters"))) };
    let Some(form) = object_of(form_ht, "form") else { return Ok(Err(unreadable("form fields"))) };
    Ok(Ok(Request { method, path, query, body, form, files, headers, auth, base_url }))
}

fn response_array(r: api::Response) -> PhpResult<Zval> {
    let mut out = ZendHashTable::new();
    out.insert("status", r.status as i64)?;
    let mut headers = ZendHashTable::new();
    for (k, v) in r.headers {
        headers.insert(k.as_str(), v)?;
    }
    let mut hz = Zval::new();
    hz.set_hashtable(headers);
    out.insert("headers", hz)?;
    match r.body {
        Body::Text(t) => out.insert("body", t)?,
        Body::File(p) => out.insert("file", p.to_string_lossy().into_owned())?,
    }
    let mut z = Zval::new();
    z.set_hashtable(out);
    Ok(z)
}

/// Calls a PHP function, turning a thrown exception into an error.
fn call(name: &str, args: Vec<&dyn ext_php_rs::convert::IntoZvalDyn>) -> Result<Zval, HostError> {
    let f = ZendCallable::try_from_name(name).map_err(|_| HostError(format!("{name}() is not available")))?;
    let r = f.try_call(args);
    if let Some(ex) = ExecutorGlobals::take_exception() {
        let msg = ex.try_call_method("getMessage", vec![]).ok().and_then(|m| m.string()).unwrap_or_default();
        return Err(HostError(format!("{name}() threw: {msg}")));
    }
    r.map_err(|e| HostError(format!("{name}() failed: {e:?}")))
}

struct PhpHost {
    engine: Arc<Engine>,
}

impl PhpHost {
    fn instance(&self, w: &WorkerRow) -> Result<Zval, HostError> {
        let made = cached_instance(&w.class, self.engine.cache_generation());
        if let Some(ex) = ExecutorGlobals::take_exception() {
            let msg = ex.try_call_method("getMessage", vec![]).ok().and_then(|m| m.string()).unwrap_or_default();
            return Err(HostError(format!("worker class {} threw: {msg}", w.class)));
        }
        made.map_err(|e| HostError(format!("{e:?}")))?
            .ok_or_else(|| HostError(format!("worker class {} cannot be loaded", w.class)))
    }
}

impl Host for PhpHost {
    fn discover(&self) -> Result<Vec<WorkerRow>, HostError> {
        discovery::discover(&self.engine).map_err(|e| HostError(format!("{e:?}")))
    }

    fn rescan(&self) -> Result<Vec<WorkerRow>, HostError> {
        discovery::rescan(&self.engine).map_err(|e| HostError(format!("{e:?}")))
    }

    fn clean_orphans(&self) -> Result<u64, HostError> {
        discovery::clean_orphans(&self.engine).map(|n| n.max(0) as u64).map_err(|e| HostError(format!("{e:?}")))
    }

    fn render_widget(&self, w: &WorkerRow) -> Result<String, HostError> {
        let obj = self.instance(w)?;
        let o = obj.object().ok_or_else(|| HostError("the worker is not an object".into()))?;
        let r = o.try_call_method("renderWidget", vec![]);
        if let Some(ex) = ExecutorGlobals::take_exception() {
            let msg = ex.try_call_method("getMessage", vec![]).ok().and_then(|m| m.string()).unwrap_or_default();
            return Err(HostError(format!("{}::renderWidget() threw: {msg}", w.class)));
        }
        let r = r.map_err(|e| HostError(format!("{}::renderWidget() failed: {e:?}", w.class)))?;
        r.string().ok_or_else(|| HostError(format!("{}::renderWidget() did not return a string", w.class)))
    }

    fn has_action(&self, w: &WorkerRow, action: &str) -> Option<bool> {
        let obj = self.instance(w).ok()?;
        let method = action_method(action);
        let mut callable = ZendHashTable::new();
        callable.push(obj.shallow_clone()).ok()?;
        callable.push(method.as_str()).ok()?;
        let mut cz = Zval::new();
        cz.set_hashtable(callable);
        // is_callable from outside the class: public methods only.
        call("is_callable", vec![&cz]).ok()?.bool()
    }

    fn actions(&self, w: &WorkerRow) -> Option<Vec<String>> {
        // Called from outside the class, get_class_methods lists public
        // methods only: exactly the ones has_action accepts.
        let methods = call("get_class_methods", vec![&w.class]).ok()?;
        let list = methods.array()?;
        let mut out: Vec<String> =
            values_of(list).into_iter().filter_map(|m| m.string()).filter_map(|m| action_name(&m)).collect();
        out.sort();
        out.dedup();
        Some(out)
    }

    fn is_uploaded_file(&self, tmp: &Path) -> bool {
        // The CLI has no uploads; there the array comes from a test, a
        // command or a long-running CLI server, which PHP's check would
        // always refuse. It must still name a temp file: the file is moved
        // away, and a forged `tmp_name` of /etc/passwd or .env would
        // otherwise be taken from where it belongs into the uploads folder.
        if call("php_sapi_name", vec![]).ok().and_then(|z| z.string()).as_deref() == Some("cli") {
            let ini = |name: &str| call("ini_get", vec![&name]).ok().and_then(|z| z.string()).filter(|s| !s.is_empty());
            let temp = call("sys_get_temp_dir", vec![]).ok().and_then(|z| z.string());
            let is_regular = std::fs::symlink_metadata(tmp).map(|m| m.file_type().is_file()).unwrap_or(false);
            let Ok(real) = tmp.canonicalize() else { return false };
            return is_regular
                && [ini("upload_tmp_dir"), temp]
                    .into_iter()
                    .flatten()
                    .filter_map(|d| std::fs::canonicalize(d).ok())
                    .any(|d| real.starts_with(&d) && real != d);
        }
        let p = tmp.to_string_lossy().into_owned();
        call("is_uploaded_file", vec![&p]).ok().and_then(|z| z.bool()).unwrap_or(false)
    }

    fn php_upload_limit(&self) -> Option<u64> {
        let ini = |name: &str| call("ini_get", vec![&name]).ok().and_then(|z| z.string()).and_then(|s| parse_bytes(&s));
        // 0 means "no limit" for both.
        [ini("upload_max_filesize"), ini("post_max_size")].into_iter().flatten().filter(|v| *v > 0).min()
    }

    fn memory_usage(&self) -> i64 {
        call("memory_get_usage", vec![&true]).ok().and_then(|z| z.long()).unwrap_or(0)
    }

    fn clear_worker_instances(&self) {
        clear_instances();
    }
}

/// `sTask::handleHttp()`.
pub fn handle(request: &ZendHashTable) -> PhpResult<Zval> {
    // A test seam of debug builds: tests/php/PanicTest.php checks that a
    // panic reaches PHP as an sTaskException with a plain message and
    // nothing on stderr (src/php/panic.rs).
    if cfg!(debug_assertions) && std::env::var_os("STASK_TEST_PANIC").is_some() {
        panic!("panic requested by STASK_TEST_PANIC");
    }
    let req = match request_of(request)? {
        Ok(r) => r,
        Err(e) => return response_array(e.into_response()),
    };
    let settings = context::settings()?;
    // Authentication first: nothing, not even "the database is down", is
    // said to a client without the token.
    if let Err(e) = api::auth::check(&req, &settings.api) {
        return response_array(e.into_response());
    }
    let engine = match crate::runtime::engine(&settings) {
        Ok(e) => e,
        Err(e) => return response_array(api::ApiError::from(e).into_response()),
    };
    let host = PhpHost { engine: engine.clone() };
    let rt = crate::runtime::handle();
    // The API answers every input with a status; should a bug still panic,
    // the client gets a 500 rather than the PHP process an abort.
    let resp = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| api::handle(&engine, &rt, &host, &settings.api, &req)))
        .unwrap_or_else(|_| {
            crate::php::panic::forget();
            api::ApiError::new(500, "Server Error", "The task manager could not complete the request").into_response()
        });
    response_array(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_map_to_task_methods_as_base_worker_does() {
        assert_eq!(action_method("sync_stock"), "taskSyncStock");
        assert_eq!(action_method("import-csv"), "taskImportCsv");
        assert_eq!(action_method("make"), "taskMake");
    }

    #[test]
    fn task_methods_name_their_actions() {
        assert_eq!(action_name("taskSyncStock").as_deref(), Some("sync_stock"));
        assert_eq!(action_name("taskMake").as_deref(), Some("make"));
        assert_eq!(action_name("taskImportCSV").as_deref(), Some("import_csv"));
        assert_eq!(action_name("taskCSVFile2Feed").as_deref(), Some("csv_file2_feed"));
        assert_eq!(action_method(&action_name("taskImportCsv").unwrap()), "taskImportCsv");
        assert_eq!(action_name("taskIds"), Some("ids".into()));
        assert_eq!(action_name("tasks"), None);
        assert_eq!(action_name("task"), None);
        assert_eq!(action_name("renderWidget"), None);
    }
}
