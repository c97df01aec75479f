//! Property-based fuzzing of the engine's plain-Rust surfaces (issue 11):
//! the router, the whole API (`api::handle` on a real database), JSON body
//! validation, query filters, uploads in one piece and in chunks, and the
//! value conversions. Every property is "never panics" plus what the
//! answer must look like (a 2xx-5xx status, JSON errors).
//!
//! `cargo test --test fuzz` runs 256 cases per property (a few seconds).
//! `STASK_FUZZ_CASES=100000 cargo test --release --test fuzz` (or `make
//! fuzz`) runs long; `STASK_FUZZ_BACKENDS=sqlite,pgsql,mariadb` runs the
//! whole-API property on the server backends too (default: SQLite). A
//! failure prints the shrunk input; nothing is written to disk.

// `suite!` is for the API tests; the fuzz targets pick their backends below.
#[allow(unused_macros)]
#[macro_use]
mod common;

use common::*;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value};
use stask::engine::api::json::{self, Input};
use stask::engine::api::{router, Auth, Body, Request, Response, UploadedFile};
use stask::engine::config::Dsn;
use stask::engine::query::{Op, Query, Table, Value as QValue};
use std::collections::BTreeMap;

fn cases() -> u32 {
    std::env::var("STASK_FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(256)
}

fn runner() -> TestRunner {
    // No regression files: a failure prints its shrunk input, and the
    // strategies below are the place to pin a case that matters.
    TestRunner::new(Config { cases: cases(), failure_persistence: None, ..Config::default() })
}

/// Runs `test` on every value of `strategy`; a panic or a failed
/// `prop_assert!` fails the test with the minimal input.
fn check<S: Strategy>(strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let mut r = runner();
    if let Err(e) = r.run(&strategy, test) {
        panic!("{e}");
    }
}

// ---- strategies -----------------------------------------------------------

/// Any string, weighted towards the characters that break parsers.
fn nasty_string() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => ".{0,24}",
        2 => "[a-z_]{0,12}",
        1 => Just(String::new()),
        1 => "[\\x00-\\x1f%/.\\\\ '\"]{1,8}",
        1 => "[0-9-]{1,22}",
        1 => "\\PC{0,16}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        nasty_string().prop_map(Value::from),
        prop_oneof![Just("high"), Just("low"), Just("10"), Just("pending"), Just("csv"), Just("1,2")].prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            btree_map(key(), inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Field names the API reads, and anything else.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "identifier", "action", "worker", "status", "priority", "data", "options", "page", "per_page", "sort",
            "order", "hours", "limit", "unique", "max_attempts", "start_at", "settings", "schedule", "enabled",
            "cron", "interval", "filename", "upload_id", "size", "chunks", "total_chunks", "name", "force", "days",
            "older_than_days", "clean_cache", "timezone", "type", "at", "_token",
        ])
        .prop_map(String::from),
        1 => nasty_string(),
    ]
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec![
            "tasks", "task", "workers", "worker", "uploads", "chunks", "complete", "download", "progress", "cancel",
            "retry", "upload", "stats", "timeline", "metrics", "health", "settings", "schedule", "performance",
            "summary", "alerts", "cache", "clear", "discover", "rescan", "clean-orphans", "widget", "run", "store",
            "activate", "deactivate", "server-limits", "clean", "1", "2", "0", "-1", "99999999999999999999",
            "product", "found_one", "import", "%2e%2e", "..", ".", "%00", "%ff", "%zz", "a%2Fb",
        ])
        .prop_map(String::from),
        1 => nasty_string(),
        1 => "(%[0-9a-fA-F]{2}){1,4}",
    ]
}

fn path() -> impl Strategy<Value = String> {
    (vec(segment(), 0..6), any::<bool>(), "[?#]?[a-z=&%]{0,8}").prop_map(|(segs, slash, tail)| {
        let mut p = format!("/{}", segs.join("/"));
        if slash {
            p.push('/');
        }
        p + &tail
    })
}

/// A route of the table, mostly with its own method, its parameters
/// filled in with known values and not.
fn route_line() -> impl Strategy<Value = (String, String)> {
    let templates: Vec<(&'static str, &'static str)> =
        stask::engine::api::router::ROUTES.iter().map(|r| (r.method, r.pattern)).collect();
    let id = prop_oneof![4 => (1i64..4).prop_map(|i| i.to_string()), 1 => segment()];
    let name = prop_oneof![
        4 => prop::sample::select(vec!["product", "found_one", "nobody", "PRODUCT", "product%20"]).prop_map(String::from),
        1 => segment(),
    ];
    let action =
        prop_oneof![4 => prop::sample::select(vec!["import", "export", "missing"]).prop_map(String::from), 1 => segment()];
    let index = prop_oneof![4 => (0i64..4).prop_map(|i| i.to_string()), 1 => segment()];
    let other_method = prop::option::weighted(0.2, method());
    (prop::sample::select(templates), id, name, action, "[0-9a-f]{32}|[a-z0-9-]{0,40}", index, other_method).prop_map(
        |((m, t), id, name, action, upload, index, other_method)| {
            let filled = t
                .replace("{id}", &id)
                .replace("{identifier}", &name)
                .replace("{action}", &action)
                .replace("{upload_id}", &upload)
                .replace("{index}", &index);
            (other_method.unwrap_or_else(|| m.to_string()), format!("/{}", filled.trim_start_matches('/')))
        },
    )
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(vec!["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "get", "post"])
            .prop_map(String::from),
        1 => "[A-Za-z]{1,10}",
        1 => nasty_string(),
    ]
}

fn headers() -> impl Strategy<Value = BTreeMap<String, String>> {
    let content_type = prop::sample::select(vec![
        "application/json",
        "application/json; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/octet-stream",
        "text/plain",
        "",
    ]);
    (
        prop::option::of(content_type),
        prop::option::of(prop_oneof![Just(format!("Bearer {TOKEN}")), Just("Bearer nope".to_string()), nasty_string()]),
        btree_map("[a-z-]{1,16}", nasty_string(), 0..4),
        prop::option::of(prop_oneof![Just("1048576".to_string()), "[0-9]{1,20}", nasty_string()]),
    )
        .prop_map(|(ct, auth, mut extra, length)| {
            if let Some(ct) = ct {
                extra.insert("content-type".into(), ct.into());
            }
            if let Some(a) = auth {
                extra.insert("authorization".into(), a);
            }
            if let Some(l) = length {
                extra.insert("content-length".into(), l);
            }
            extra
        })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => json_value().prop_map(|v| v.to_string().into_bytes()),
        2 => btree_map(key(), json_value(), 0..6).prop_map(|m| Value::Object(m.into_iter().collect()).to_string().into_bytes()),
        2 => vec(any::<u8>(), 0..200),
        1 => Just(Vec::new()),
        1 => (1usize..300).prop_map(|n| format!("{}1{}", "[".repeat(n), "]".repeat(n)).into_bytes()),
        1 => "[a-z_]{1,8}=[^&]{0,8}(&[a-z_]{1,8}=[^&]{0,8}){0,3}".prop_map(String::into_bytes),
    ]
}

fn object() -> impl Strategy<Value = Map<String, Value>> {
    btree_map(key(), json_value(), 0..6).prop_map(|m| m.into_iter().collect())
}

fn auth() -> impl Strategy<Value = Auth> {
    prop_oneof![
        4 => prop::option::of(-3i64..100).prop_map(|user_id| Auth::Trusted { user_id }),
        1 => Just(Auth::Bearer),
    ]
}

/// Uploaded files as an adapter passes them: real temp files, missing
/// ones, PHP's error codes, sizes that lie.
fn files(tmp: std::path::PathBuf) -> impl Strategy<Value = BTreeMap<String, UploadedFile>> {
    let file = (
        prop_oneof![Just("list.csv".to_string()), Just("x.php".to_string()), Just("../../e.csv".to_string()), nasty_string()],
        prop_oneof![Just("text/csv".to_string()), nasty_string()],
        prop_oneof![Just(0i64), Just(1), Just(4), -5i64..10],
        any::<u64>(),
        prop_oneof![Just(0u8), Just(1), Just(2)],
        vec(any::<u8>(), 0..64),
    )
        .prop_map(move |(name, mime, error, size, where_, content)| {
            let tmp_name = match where_ {
                0 => {
                    let p = tmp.join(format!("php{}", rand::random::<u64>()));
                    std::fs::create_dir_all(&tmp).unwrap();
                    std::fs::write(&p, &content).unwrap();
                    p
                }
                1 => tmp.join("missing"),
                _ => "/etc/passwd".into(),
            };
            let size = if where_ == 0 && size % 2 == 0 { content.len() as u64 } else { size };
            UploadedFile { name, mime, tmp_name, error, size }
        });
    btree_map(prop_oneof![Just("file".to_string()), Just("chunk".to_string()), nasty_string()], file, 0..3)
}

// ---- properties -----------------------------------------------------------

/// Every answer: a status from 200 to 599; errors are JSON `{success:
/// false, error, message}`; successes are JSON, a file, or the Prometheus
/// text of /metrics.
fn assert_answer(req: &Request, r: &Response) -> Result<(), TestCaseError> {
    prop_assert!((200..=599).contains(&r.status), "status {} for {} {}", r.status, req.method, req.path);
    match &r.body {
        Body::File(p) => prop_assert!(r.status == 200 && p.is_file(), "a file answer is a 200 with a file"),
        Body::Text(t) => {
            let ct = r.header("Content-Type").unwrap_or("");
            if ct.starts_with("text/plain") {
                prop_assert!(r.status == 200, "text only for /metrics: {} {}", req.method, req.path);
            } else {
                let v: Value = serde_json::from_str(t).map_err(|e| TestCaseError::fail(format!("not JSON ({e}): {t}")))?;
                if r.status >= 400 {
                    prop_assert_eq!(&v["success"], &Value::Bool(false), "{}", t);
                    prop_assert!(v["message"].is_string() && v["error"].is_string(), "{}", t);
                }
            }
        }
    }
    Ok(())
}

#[test]
fn the_router_never_panics_and_answers_400_404_or_405() {
    check((method(), path()), |(m, p)| {
        match router::resolve(&m, &p) {
            Ok(_) => {}
            Err(e) => {
                let r = e.into_response();
                prop_assert!([400, 404, 405].contains(&r.status), "{} {} -> {}", m, p, r.status);
                prop_assert!(r.json_body().is_some());
            }
        }
        Ok(())
    });
}

#[test]
fn the_whole_api_answers_every_request_with_json_and_a_status() {
    let backends = std::env::var("STASK_FUZZ_BACKENDS").unwrap_or_else(|_| "sqlite".into());
    for backend in backends.split(',').map(str::trim).filter(|b| !b.is_empty()) {
        let h = match backend {
            "sqlite" => H::sqlite(),
            "pgsql" | "postgres" => H::server(Dsn::Postgres { url: pg_url() }, "fuzz_api"),
            "mariadb" | "mysql" => H::server(Dsn::Mysql { url: mysql_url() }, "fuzz_api"),
            other => panic!("STASK_FUZZ_BACKENDS: unknown backend {other}"),
        };
        // Something to find: a worker, tasks in several states, a result file.
        h.worker("product", true);
        h.worker("found_one", false);
        let done = h.task("product", "export");
        std::fs::create_dir_all(h.storage().join("exports")).unwrap();
        std::fs::write(h.storage().join("exports/r.csv"), "a\n").unwrap();
        h.complete_with_result(done, "exports/r.csv");
        h.task("product", "import");
        let tmp = h.dir.path().join("php-tmp");
        let seen = std::cell::RefCell::new(BTreeMap::<u16, u32>::new());
        let line = prop_oneof![3 => route_line(), 1 => (method(), path())];
        let strategy = (line, object(), body(), object(), headers(), auth(), files(tmp));
        check(strategy, |((method, path), query, body, form, headers, auth, files)| {
            let req = Request { method, path, query, body, form, files, headers, auth, base_url: "/stask".into() };
            let r = h.send(&req);
            *seen.borrow_mut().entry(r.status).or_default() += 1;
            if r.status >= 500 {
                // Allowed (the database may fail), but worth a look in long runs.
                let body = match &r.body {
                    Body::Text(t) => t.chars().take(300).collect::<String>(),
                    Body::File(p) => p.display().to_string(),
                };
                eprintln!("fuzz api on {backend}: {} for {} {} query {:?} -> {body}", r.status, req.method, req.path, req.query);
            }
            assert_answer(&req, &r)
        });
        // Shown with --nocapture: which answers the cases reached.
        eprintln!("fuzz api on {backend}: statuses {:?}", seen.borrow());
        h.cleanup();
    }
}

#[test]
fn chunked_uploads_take_any_sequence_of_chunks_without_panicking() {
    let h = H::sqlite();
    h.worker("product", true);
    let step = (prop_oneof![Just(0u8), Just(1), Just(2), Just(3)], -2i64..6, vec(any::<u8>(), 0..48), object());
    let seen = std::cell::RefCell::new(BTreeMap::<String, u32>::new());
    let chunks = h.storage().join("uploads/.chunks");
    check(vec(step, 1..10), |steps| {
        // Each case starts with no open upload (their number is capped).
        let _ = std::fs::remove_dir_all(&chunks);
        let mut upload_id = String::from("none");
        for (kind, index, bytes, fields) in steps {
            let mut req = match kind {
                // Start one: the init route takes the file's name, size and chunk count.
                0 => {
                    let mut r = h.req("POST", "/workers/product/uploads", None);
                    let mut v = fields.clone();
                    v.entry("filename").or_insert(Value::from("list.csv"));
                    v.entry("size").or_insert(Value::from(48));
                    r.body = Value::Object(v).to_string().into_bytes();
                    r.headers.insert("content-type".into(), "application/json".into());
                    r
                }
                1 | 2 => {
                    // Kind 1 sends the one chunk a 48-byte file has (multipart
                    // `file`); kind 2 any bytes, as the file or as the raw body.
                    let (index, content) = if kind == 1 { (0, vec![b'x'; 48]) } else { (index, bytes.clone()) };
                    let mut r = h.req("POST", &format!("/uploads/{upload_id}/chunks/{index}"), None);
                    if kind == 1 || index % 2 == 0 {
                        r.files.insert("file".into(), h.upload("blob", &content));
                    } else {
                        r.body = content;
                    }
                    r.headers.insert("content-type".into(), "application/octet-stream".into());
                    r
                }
                _ => h.req("POST", &format!("/uploads/{upload_id}/complete"), Some(Value::Object(fields.clone()))),
            };
            req.query = fields.clone();
            let r = h.send(&req);
            let route = ["init", "chunk", "chunk", "complete"][kind as usize];
            *seen.borrow_mut().entry(format!("{route} {}", r.status)).or_default() += 1;
            assert_answer(&req, &r)?;
            if let Some(id) = r.json_body().and_then(|v| {
                v.get("upload_id").or_else(|| v.pointer("/upload/upload_id")).and_then(Value::as_str).map(String::from)
            }) {
                upload_id = id;
            }
        }
        Ok(())
    });
    eprintln!("fuzz chunked uploads: {:?}", seen.borrow());
    h.cleanup();
}

#[test]
fn json_bodies_are_an_object_or_a_4xx() {
    let content_types = prop::option::of(prop::sample::select(vec![
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "text/plain",
    ]));
    check((body(), content_types, object()), |(body, ct, form)| {
        let mut req = Request::new("POST", "/tasks", Auth::Trusted { user_id: Some(1) });
        req.body = body;
        req.form = form;
        if let Some(ct) = ct {
            req.headers.insert("content-type".into(), ct.into());
        }
        if let Err(e) = json::body(&req) {
            let r = e.into_response();
            prop_assert!([400, 413, 422].contains(&r.status), "{}", r.status);
        }
        Ok(())
    });
}

#[test]
fn query_filters_read_any_value_or_refuse_it_with_a_422() {
    check((object(), key()), |(query, k)| {
        let mut req = Request::new("GET", "/tasks", Auth::Trusted { user_id: None });
        req.query = query;
        let input = Input::from_query(&req);
        let results = [
            input.str(&k).map(|_| ()),
            input.required_str(&k).map(|_| ()),
            input.int(&k).map(|_| ()),
            input.int_in(&k, 20, 1..=100).map(|_| ()),
            input.bool(&k).map(|_| ()),
            input.list(&k).map(|_| ()),
        ];
        for r in results {
            if let Err(e) = r {
                prop_assert_eq!(e.into_response().status, 422);
            }
        }
        if let Ok(Some(s)) = input.str(&k) {
            prop_assert!(!s.contains('\0'), "a NUL byte passed the filter");
        }
        Ok(())
    });
}

#[test]
fn the_query_builder_takes_any_column_operator_and_value_or_refuses_them() {
    let column = prop_oneof![
        prop::sample::select(vec![
            "id",
            "identifier",
            "action",
            "status",
            "priority",
            "progress",
            "attempts",
            "created_at",
            "meta",
            "message",
            "cancel_requested",
            "duration",
            "class",
            "active",
            "settings",
        ])
        .prop_map(String::from),
        nasty_string(),
    ];
    let value = prop_oneof![
        Just(QValue::Null),
        any::<bool>().prop_map(QValue::Bool),
        any::<i64>().prop_map(QValue::Int),
        any::<f64>().prop_map(QValue::Float),
        nasty_string().prop_map(QValue::Text),
    ];
    let op = prop::sample::select(vec!["=", "!=", "<>", "<", "<=", ">", ">=", "like", "not like", "in", "~", ""]);
    let table = prop::sample::select(vec![Table::Tasks, Table::Workers]);
    check((table, column, op, value.clone(), vec(value, 0..5)), |(table, column, op, v, many)| {
        let q = Query::new(table);
        if let Ok(op) = Op::parse(op) {
            if let Ok(q) = q.clone().where_op(&column, op, v.clone()) {
                if let Some(stask::engine::query::Cond::Compare { value: QValue::Text(t), .. }) = q.conds.last() {
                    prop_assert!(!t.contains('\0'));
                }
            }
        }
        let _ = q.clone().where_eq(&column, v);
        let _ = q.clone().where_in(&column, many.clone(), false);
        let _ = q.where_in(&column, many, true);
        Ok(())
    });
}

#[test]
fn value_conversions_never_panic_and_keep_their_promises() {
    check((json_value(), nasty_string()), |(v, s)| {
        let _ = json::int_of(&v);
        let _ = json::bool_of(&v);
        prop_assert!(!json::describe(&v).is_empty());
        let _ = json::type_name(&v);
        if let Some(id) = json::parse_id(&s) {
            prop_assert!(id > 0, "{} -> {}", s, id);
        }
        let _ = stask::engine::config::parse_bytes(&s);
        let _ = stask::engine::config::Dsn::parse(&s);
        let _ = stask::engine::task::Status::from_name(&s);
        let _ = stask::engine::task::Priority::parse(&s);
        if let Some(t) = stask::engine::time::from_db(&s) {
            let again = stask::engine::time::to_db(&t);
            prop_assert_eq!(stask::engine::time::from_db(&again), Some(t));
        }
        // A download's file name always makes a header value.
        let d = stask::engine::api::download::disposition(&s);
        prop_assert!(d.is_ascii() && !d.chars().any(|c| c.is_ascii_control()), "{:?}", d);
        let _ = stask::engine::api::download::content_type(std::path::Path::new(&s));
        Ok(())
    });
}

#[test]
fn timestamps_round_trip_through_their_database_text() {
    check(-62_135_596_800_000_000i64..253_402_300_799_000_000, |micros| {
        if let Some(t) = stask::engine::time::from_epoch_micros(micros) {
            let text = stask::engine::time::to_db(&t);
            prop_assert_eq!(stask::engine::time::from_db(&text), Some(t), "{}", text);
        }
        Ok(())
    });
}
