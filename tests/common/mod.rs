//! The harness of the API tests (tests/api.rs, tests/openapi.rs): an
//! engine on a real database, a plain Rust `Host` standing in for PHP, and
//! `suite!`, which makes `sqlite::name`, `postgres::name` and
//! `mariadb::name` of each `fn name(h: &H)`.
#![allow(dead_code)]

use serde_json::{json, Value};
use stask::engine::api::{self, Auth, Body, Host, HostError, Request, Response, UploadedFile};
use stask::engine::config::{ApiSettings, Dsn, Settings};
use stask::engine::query::{Query, Table, Value as QValue};
use stask::engine::service::Engine;
use stask::engine::task::NewTask;
use stask::engine::worker::{WorkerInfo, WorkerRow};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const TOKEN: &str = "test-token-0123456789abcdef";

pub struct H {
    pub rt: tokio::runtime::Runtime,
    pub engine: Option<Engine>,
    pub dir: tempfile::TempDir,
    pub settings: Settings,
    pub api: ApiSettings,
}

pub fn pg_url() -> String {
    std::env::var("STASK_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub fn mysql_url() -> String {
    std::env::var("STASK_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

/// What the PHP side would do, in Rust: "classes" are registered by name,
/// a class under `Gone\` no longer loads, an action named `missing` does
/// not exist.
pub struct TestHost<'a> {
    pub h: &'a H,
}

impl Host for TestHost<'_> {
    fn discover(&self) -> Result<Vec<WorkerRow>, HostError> {
        let mut out = Vec::new();
        for id in ["found_one", "found_two"] {
            if let Some(w) = self.h.wait(self.h.engine().register_worker(&info(id))).map_err(|e| HostError(e.to_string()))? {
                out.push(w);
            }
        }
        Ok(out)
    }

    fn rescan(&self) -> Result<Vec<WorkerRow>, HostError> {
        Ok(Vec::new())
    }

    fn clean_orphans(&self) -> Result<u64, HostError> {
        let q =
            Query::new(Table::Workers).where_op("class", stask::engine::query::Op::Like, QValue::Text("Gone%".into())).unwrap();
        self.h.wait(self.h.engine().delete(&q)).map_err(|e| HostError(e.to_string()))
    }

    fn render_widget(&self, w: &WorkerRow) -> Result<String, HostError> {
        if w.identifier == "broken" {
            return Err(HostError("/srv/app/Workers/Broken.php line 3: boom".into()));
        }
        Ok(format!("<div class=\"widget\">{}</div>", w.identifier))
    }

    fn has_action(&self, _w: &WorkerRow, action: &str) -> Option<bool> {
        Some(action != "missing")
    }

    fn actions(&self, w: &WorkerRow) -> Option<Vec<String>> {
        (!w.class.starts_with("Gone")).then(|| vec!["export".into(), "import".into()])
    }

    fn is_uploaded_file(&self, tmp: &Path) -> bool {
        // As PHP's own check (and the CLI's temp-folder rule in
        // src/php/http.rs): only files this harness wrote. Accepting any
        // existing file let a test that names /etc/passwd as `tmp_name`
        // move it into a temp storage folder, which was then deleted.
        let (Ok(file), Ok(root)) = (tmp.canonicalize(), self.h.dir.path().canonicalize()) else { return false };
        file.starts_with(root) && std::fs::symlink_metadata(tmp).map(|m| m.is_file()).unwrap_or(false)
    }

    fn php_upload_limit(&self) -> Option<u64> {
        Some(8 * 1024 * 1024)
    }
}

pub fn info(identifier: &str) -> WorkerInfo {
    WorkerInfo {
        identifier: identifier.into(),
        scope: "tests".into(),
        class: format!("Tests\\{identifier}"),
        title: format!("Title of {identifier}"),
        description: String::new(),
        icon: String::new(),
    }
}

impl H {
    pub fn open(mut settings: Settings, dir: tempfile::TempDir) -> H {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        settings.api.token = Some(TOKEN.into());
        let engine = rt.block_on(async {
            let e = Engine::open(settings.clone()).await.unwrap_or_else(|e| panic!("cannot open {:?}: {e}", settings.dsn));
            e.migrate().await.unwrap();
            e
        });
        let api = settings.api.clone();
        H { rt, engine: Some(engine), dir, settings, api }
    }

    pub fn sqlite() -> H {
        let dir = tempfile::tempdir().unwrap();
        H::open(settings_for(dir.path()), dir)
    }

    pub fn server(dsn: Dsn, test: &str) -> H {
        let dir = tempfile::tempdir().unwrap();
        let mut s = settings_for(dir.path());
        s.dsn = dsn;
        let tag: u32 = rand::random::<u32>() % 1_000_000;
        let short: String = test.chars().filter(|c| c.is_ascii_alphanumeric()).take(12).collect();
        s.table_prefix = format!("a{short}{tag}_");
        H::open(s, dir)
    }

    pub fn engine(&self) -> &Engine {
        self.engine.as_ref().unwrap()
    }

    pub fn wait<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    pub fn storage(&self) -> PathBuf {
        self.settings.storage_path.clone()
    }

    pub fn cleanup(mut self) {
        if !matches!(self.settings.dsn, Dsn::Sqlite { .. }) {
            self.wait(self.engine().store().drop_tables()).unwrap();
        }
        let _g = self.rt.enter();
        drop(self.engine.take());
    }

    pub fn send(&self, req: &Request) -> Response {
        let host = TestHost { h: self };
        api::handle(self.engine(), self.rt.handle(), &host, &self.api, req)
    }

    /// A trusted request (manager user 7) with a JSON body.
    pub fn req(&self, method: &str, path: &str, body: Option<Value>) -> Request {
        let mut r = Request::new(method, path, Auth::Trusted { user_id: Some(7) });
        if let Some(b) = body {
            r.body = b.to_string().into_bytes();
            r.headers.insert("content-type".into(), "application/json".into());
        }
        r
    }

    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let r = self.send(&self.req(method, path, body));
        let v = r.json_body().unwrap_or(Value::Null);
        self.assert_clean(&r);
        (r.status, v)
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        let (p, q) = path.split_once('?').unwrap_or((path, ""));
        let mut r = self.req("GET", p, None);
        for pair in q.split('&').filter(|s| !s.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            r.query.insert(k.to_string(), Value::String(v.to_string()));
        }
        let resp = self.send(&r);
        self.assert_clean(&resp);
        (resp.status, resp.json_body().unwrap_or(Value::Null))
    }

    pub fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call("POST", path, Some(body))
    }

    /// Every error is JSON `{success: false, error, message}` and no
    /// response names a server path.
    pub fn assert_clean(&self, r: &Response) {
        if let Body::Text(t) = &r.body {
            let storage = self.dir.path().to_string_lossy().to_string();
            assert!(!t.contains(&storage), "a response names a server path: {t}");
            assert!(!t.contains("/srv/"), "a response leaks a host error: {t}");
        }
        if r.status >= 400 {
            let v = r.json_body().unwrap_or_else(|| panic!("error without JSON: {:?}", r.body));
            assert_eq!(v["success"], false, "{v}");
            assert!(v["error"].is_string() && v["message"].is_string(), "{v}");
        }
    }

    pub fn worker(&self, identifier: &str, active: bool) -> WorkerRow {
        let w = self.wait(self.engine().register_worker(&info(identifier))).unwrap().unwrap();
        if active {
            assert!(self.wait(self.engine().set_worker_active(identifier, true)).unwrap());
        }
        w
    }

    pub fn task(&self, identifier: &str, action: &str) -> i64 {
        self.wait(self.engine().create_task(NewTask::new(identifier, action))).unwrap().id
    }

    pub fn set(&self, id: i64, set: &[(&'static str, QValue)]) {
        let q = Query::new(Table::Tasks).where_eq("id", QValue::Int(id)).unwrap();
        self.wait(self.engine().update(&q, set)).unwrap();
    }

    pub fn complete_with_result(&self, id: i64, result: &str) {
        self.set(id, &[("status", QValue::Int(30)), ("result", QValue::Text(json!(result).to_string()))]);
    }

    /// A file as PHP would have received it, in a temp folder of its own.
    pub fn upload(&self, name: &str, content: &[u8]) -> UploadedFile {
        let tmp = self.dir.path().join("php-tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let path = tmp.join(format!("php{}", rand::random::<u32>()));
        std::fs::write(&path, content).unwrap();
        UploadedFile { name: name.into(), mime: "text/csv".into(), tmp_name: path, error: 0, size: content.len() as u64 }
    }

    pub fn post_file(&self, path: &str, file: UploadedFile) -> (u16, Value) {
        let mut r = self.req("POST", path, None);
        r.files.insert("file".into(), file);
        let resp = self.send(&r);
        self.assert_clean(&resp);
        (resp.status, resp.json_body().unwrap_or(Value::Null))
    }
}

impl Drop for H {
    fn drop(&mut self) {
        let _g = self.rt.enter();
        drop(self.engine.take());
    }
}

pub fn settings_for(dir: &Path) -> Settings {
    Settings {
        dsn: Dsn::Sqlite { path: dir.join("stask.sqlite") },
        storage_path: dir.join("storage"),
        table_prefix: "evo_".into(),
        base_path: dir.to_path_buf(),
        retry_base_delay: Duration::from_secs(5),
        progress_interval: Duration::from_millis(0),
        lease_for: Duration::from_secs(60),
        connect_timeout: Duration::from_secs(5),
        timezone: chrono_tz::Tz::UTC,
        api: ApiSettings { upload_chunk_size: 1024, upload_max_size: 64 * 1024, upload_max_chunks: 100, ..Default::default() },
    }
}

#[macro_export]
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    let h = $crate::common::H::sqlite();
                    super::$name(&h);
                    h.cleanup();
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    let h = $crate::common::H::server(stask::engine::config::Dsn::Postgres { url: $crate::common::pg_url() }, stringify!($name));
                    super::$name(&h);
                    h.cleanup();
                }
            )*
        }
        mod mariadb {
            $(
                #[test]
                fn $name() {
                    let h = $crate::common::H::server(stask::engine::config::Dsn::Mysql { url: $crate::common::mysql_url() }, stringify!($name));
                    super::$name(&h);
                    h.cleanup();
                }
            )*
        }
    };
}
