//! The REST API of sTask (`/stask/...`), in the engine so that every host
//! (the Laravel routes, the plain front controller, tests) gets the same
//! routing, validation, authentication and JSON without re-implementing any
//! of it. Adapters only translate their request into a [`Request`] and send
//! the [`Response`] back.
//!
//! Handlers are plain synchronous functions: the few things only PHP can do
//! (load worker classes, render a widget) go through [`Host`], whose PHP
//! implementation may itself wait on the runtime, so handlers must not be
//! inside a `block_on` when they call it. Engine futures are awaited one at
//! a time through [`Ctx::wait`].

pub mod auth;
pub mod bulk;
pub mod download;
pub mod json;
pub mod performance;
pub mod prometheus;
pub mod router;
pub mod schedule;
pub mod system;
pub mod tasks;
pub mod uploads;
pub mod workers;

use crate::engine::config::ApiSettings;
use crate::engine::service::Engine;
use crate::engine::worker::WorkerRow;
pub use json::ApiError;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Who is asking, as the adapter established it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// The engine checks `Authorization: Bearer <token>` itself.
    Bearer,
    /// The host authenticated a manager, checked the `stask` permission and
    /// (for state changes) CSRF; `user_id` becomes the task's `started_by`.
    Trusted { user_id: Option<i64> },
}

/// One uploaded file, as PHP's `$_FILES` describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadedFile {
    /// The client's file name (only its extension is used).
    pub name: String,
    pub mime: String,
    /// Where PHP put it; moved away before the request ends.
    pub tmp_name: PathBuf,
    /// PHP's `UPLOAD_ERR_*` code (0 = OK).
    pub error: i64,
    pub size: u64,
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Relative to the API root, e.g. `/tasks/5/progress`.
    pub path: String,
    pub query: Map<String, Value>,
    pub body: Vec<u8>,
    pub form: Map<String, Value>,
    pub files: BTreeMap<String, UploadedFile>,
    /// Lowercase names.
    pub headers: BTreeMap<String, String>,
    pub auth: Auth,
    /// The API root as the client sees it (`/stask`), for URLs in responses.
    pub base_url: String,
}

impl Request {
    /// A request with nothing but a method and a path (tests, adapters).
    pub fn new(method: &str, path: &str, auth: Auth) -> Request {
        Request {
            method: method.to_string(),
            path: path.to_string(),
            query: Map::new(),
            body: Vec::new(),
            form: Map::new(),
            files: BTreeMap::new(),
            headers: BTreeMap::new(),
            auth,
            base_url: "/stask".into(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Text(String),
    /// A file the adapter streams (downloads); always inside the storage folder.
    File(PathBuf),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl Response {
    pub fn json(status: u16, v: &Value) -> Response {
        Response {
            status,
            headers: vec![
                ("Content-Type".into(), "application/json; charset=utf-8".into()),
                ("Cache-Control".into(), "no-store".into()),
                // Bodies carry worker-supplied text (widget HTML, messages):
                // never let a browser sniff them into a page.
                ("X-Content-Type-Options".into(), "nosniff".into()),
            ],
            body: Body::Text(serde_json::to_string(v).unwrap_or_else(|_| "{}".into())),
        }
    }

    pub fn text(status: u16, content_type: &str, body: String) -> Response {
        Response {
            status,
            headers: vec![
                ("Content-Type".into(), content_type.into()),
                ("Cache-Control".into(), "no-store".into()),
                ("X-Content-Type-Options".into(), "nosniff".into()),
            ],
            body: Body::Text(body),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The body as JSON (tests and adapters that inspect it).
    pub fn json_body(&self) -> Option<Value> {
        match &self.body {
            Body::Text(t) => serde_json::from_str(t).ok(),
            Body::File(_) => None,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Why the host could not do what was asked; the message is logged, the
/// client gets a generic one (it may name files of the application).
#[derive(Debug, Clone, PartialEq)]
pub struct HostError(pub String);

/// What only the PHP side can do. `src/php/http.rs` implements it; tests
/// use a plain Rust one.
pub trait Host {
    /// Registers worker classes found through Composer (new rows, inactive).
    fn discover(&self) -> Result<Vec<WorkerRow>, HostError>;
    /// Refreshes what the registry stores from each class; the changed rows.
    fn rescan(&self) -> Result<Vec<WorkerRow>, HostError>;
    /// Deletes rows whose class no longer loads; how many.
    fn clean_orphans(&self) -> Result<u64, HostError>;
    /// The worker's `renderWidget()` HTML.
    fn render_widget(&self, worker: &WorkerRow) -> Result<String, HostError>;
    /// Whether the worker class declares the action (`task<Action>` public
    /// method). None when the host cannot tell (the task is created and the
    /// worker reports an unknown action).
    fn has_action(&self, _worker: &WorkerRow, _action: &str) -> Option<bool> {
        None
    }
    /// The actions the worker class declares (`taskSyncStock` -> `sync_stock`),
    /// so clients offer a choice instead of a free text field. None when
    /// the class cannot be loaded.
    fn actions(&self, _worker: &WorkerRow) -> Option<Vec<String>> {
        None
    }
    /// Whether `tmp_name` really is a file PHP received in this request
    /// (`is_uploaded_file`), so a forged `files` array cannot move arbitrary
    /// files into the uploads folder.
    fn is_uploaded_file(&self, _tmp_name: &std::path::Path) -> bool {
        true
    }
    /// The largest upload PHP itself accepts (`upload_max_filesize` and
    /// `post_max_size`, the smaller), for `/server-limits`.
    fn php_upload_limit(&self) -> Option<u64> {
        None
    }
    /// PHP's memory use, for the cache statistics.
    fn memory_usage(&self) -> i64 {
        0
    }
    /// Drops worker instances the host keeps (after a cache clear).
    fn clear_worker_instances(&self) {}
}

/// What a handler works with.
pub struct Ctx<'a> {
    pub engine: &'a Engine,
    pub rt: &'a tokio::runtime::Handle,
    pub host: &'a dyn Host,
    pub settings: &'a ApiSettings,
    pub req: &'a Request,
}

impl<'a> Ctx<'a> {
    /// Waits for one engine future. Never called while another wait runs.
    pub fn wait<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// `user_id` of a trusted request (the task's `started_by`).
    pub fn user_id(&self) -> Option<i64> {
        match &self.req.auth {
            Auth::Trusted { user_id } => *user_id,
            Auth::Bearer => None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.req.base_url.trim_end_matches('/'), path)
    }
}

/// Answers one request. Never panics on input: every failure is a JSON
/// error with a status code.
pub fn handle(engine: &Engine, rt: &tokio::runtime::Handle, host: &dyn Host, settings: &ApiSettings, req: &Request) -> Response {
    let ctx = Ctx { engine, rt, host, settings, req };
    match dispatch(&ctx) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn dispatch(ctx: &Ctx) -> Result<Response, ApiError> {
    auth::check(ctx.req, ctx.settings)?;
    if ctx.req.body.len() as u64 > ctx.settings.max_body {
        return Err(ApiError::new(
            413,
            "Payload Too Large",
            format!("the request body is larger than the limit of {} bytes", ctx.settings.max_body),
        ));
    }
    let (route, params) = router::resolve(&ctx.req.method, &ctx.req.path)?;
    router::run(ctx, route, &params)
}
