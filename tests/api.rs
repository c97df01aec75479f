//! The REST API, end to end through `api::handle`, on every backend: each
//! behaviour is written once as `fn name(h: &H)` and `suite!` makes
//! `sqlite::name`, `postgres::name` and `mariadb::name` of it, as
//! tests/store.rs does. Real databases, real files; only the PHP side is a
//! plain Rust `Host`. An unreachable server fails the test, never skips it.

#[macro_use]
mod common;

use common::*;
use serde_json::{json, Value};
use stask::engine::api::{self, Auth, Body, Request};
use stask::engine::config::{ApiSettings, Dsn};
use stask::engine::query::{Query, Table, Value as QValue};
use stask::engine::service::{Attempt, Engine};
use stask::engine::task::NewTask;
use std::time::Duration;

suite!(
    bearer_mode_needs_the_configured_token,
    http_errors_are_json_with_the_right_status,
    starting_a_worker_action_answers_as_the_seed_shows,
    progress_has_the_seed_shape_and_the_package_errors,
    the_task_list_filters_sorts_and_pages,
    task_detail_cancel_and_retry,
    bulk_retry_by_filter_and_cancel_by_ids,
    engine_messages_carry_a_code_and_their_values,
    creating_a_task_validates_its_input,
    workers_list_detail_and_activation,
    settings_and_schedule_are_validated_and_stored_where_base_worker_reads_them,
    cron_schedules_and_the_missed_policy_are_validated_by_field_and_show_their_next_run,
    discovery_rescan_orphans_and_widgets_go_through_the_host,
    stats_timeline_performance_and_cache_have_the_seed_keys,
    downloads_serve_only_files_inside_the_storage_folder,
    downloads_never_serve_the_database_its_journals_snapshots_or_chunks,
    names_compare_byte_for_byte_and_a_nul_byte_is_a_422,
    single_uploads_check_type_and_size_and_fill_the_task_meta,
    chunked_uploads_are_checked_and_assembled_only_when_complete,
    abandoned_chunked_uploads_are_cleaned,
    metrics_health_clean_and_limits,
    no_input_makes_the_api_panic_or_answer_without_json,
    executable_upload_extensions_are_refused_unless_configured,
    open_chunked_uploads_are_capped_in_number_and_bytes,
);

fn bearer_mode_needs_the_configured_token(h: &H) {
    let bearer = |header: Option<&str>| {
        let mut r = Request::new("GET", "/stats", Auth::Bearer);
        if let Some(v) = header {
            r.headers.insert("authorization".into(), v.into());
        }
        h.send(&r)
    };
    let r = bearer(None);
    assert_eq!(r.status, 401);
    assert!(r.header("WWW-Authenticate").unwrap().starts_with("Bearer"));
    assert_eq!(bearer(Some("Bearer wrong-token-0123456789abcdef")).status, 401);
    assert_eq!(bearer(Some(&format!("Basic {TOKEN}"))).status, 401);
    assert_eq!(bearer(Some(&format!("Bearer {TOKEN}x"))).status, 401);
    let r = bearer(Some(&format!("Bearer {TOKEN}")));
    assert_eq!(r.status, 200);
    assert!(r.json_body().unwrap()["total"].is_i64());
    // Unknown routes are not revealed without the token either.
    let mut r = Request::new("GET", "/nope", Auth::Bearer);
    r.headers.insert("authorization".into(), "Bearer nope".into());
    assert_eq!(h.send(&r).status, 401);
    // No token configured: refused, with the setting to use.
    let open = ApiSettings { token: None, ..h.api.clone() };
    let host = TestHost { h };
    let r = api::handle(h.engine(), h.rt.handle(), &host, &open, &Request::new("GET", "/stats", Auth::Bearer));
    assert_eq!(r.status, 503);
    let msg = r.json_body().unwrap()["message"].as_str().unwrap().to_string();
    assert!(msg.contains("stask.api_token") && msg.contains("STASK_API_TOKEN"), "{msg}");
    // A trusted host needs no token.
    let r = api::handle(h.engine(), h.rt.handle(), &host, &open, &h.req("GET", "/stats", None));
    assert_eq!(r.status, 200);
}

fn http_errors_are_json_with_the_right_status(h: &H) {
    assert_eq!(h.get("/nope").0, 404);
    let r = h.send(&h.req("DELETE", "/tasks", None));
    assert_eq!(r.status, 405);
    assert_eq!(r.header("Allow"), Some("GET, POST"));
    h.assert_clean(&r);
    // Malformed JSON, a body that is not an object, an oversized body.
    let mut r = h.req("POST", "/tasks", None);
    r.body = b"{\"identifier\": ".to_vec();
    let resp = h.send(&r);
    assert_eq!((resp.status, resp.json_body().unwrap()["error"].as_str()), (400, Some("Malformed JSON")));
    assert_eq!(h.post("/tasks", json!([1, 2])).0, 422);
    // A form post reads the form, whatever the raw body holds.
    let mut r = h.req("POST", "/tasks", None);
    r.headers.insert("content-type".into(), "application/x-www-form-urlencoded".into());
    r.body = b"identifier=mailer&action=send".to_vec();
    r.form.insert("identifier".into(), json!("mailer"));
    r.form.insert("action".into(), json!("send"));
    r.form.insert("priority".into(), json!("3"));
    let resp = h.send(&r);
    assert_eq!((resp.status, resp.json_body().unwrap()["task"]["priority"].as_str()), (200, Some("high")));
    assert_eq!(h.post("/tasks", json!("x")).0, 422);
    let mut r = h.req("POST", "/tasks", None);
    r.body = vec![b' '; (h.api.max_body + 1) as usize];
    assert_eq!(h.send(&r).status, 413);
    // Ids: not numeric, zero, negative, huge; unknown ones.
    for bad in ["abc", "0", "-1", "1.5", "99999999999999999999999"] {
        assert_eq!(h.get(&format!("/tasks/{bad}")).0, 400, "{bad}");
    }
    assert_eq!(h.get("/tasks/424242").0, 404);
    assert_eq!(h.post("/tasks/424242/cancel", json!({})).0, 404);
    assert_eq!(h.get("/workers/nobody").0, 404);
    // Path tricks never reach a handler.
    assert_eq!(h.get("/tasks/%2e%2e/download").0, 400);
    assert_eq!(h.get("/tasks/1/download/../../etc/passwd").0, 400);
    // Wrong types in the query string.
    assert_eq!(h.get("/tasks?page=first").0, 422);
    assert_eq!(h.get("/performance/summary?hours=0").0, 422);
    assert_eq!(h.get("/performance/summary?hours=x").0, 422);
}

fn starting_a_worker_action_answers_as_the_seed_shows(h: &H) {
    assert_eq!(h.post("/workers/product/tasks/import", json!({})).0, 404);
    h.worker("product", false);
    let (status, v) = h.post("/workers/product/tasks/import", json!({"force": true}));
    assert_eq!(status, 409, "inactive worker: {v}");
    assert!(h.wait(h.engine().set_worker_active("product", true)).unwrap());
    let (status, v) = h.post("/workers/product/tasks/import", json!({"force": true, "batch_size": 100, "_token": "csrf"}));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v.as_object().unwrap().keys().collect::<Vec<_>>(), vec!["success", "id", "message"]);
    assert_eq!((v["success"].as_bool(), v["message"].as_str()), (Some(true), Some("Task created successfully")));
    let task = h.wait(h.engine().require_task(v["id"].as_i64().unwrap())).unwrap();
    assert_eq!((task.identifier.as_str(), task.action.as_str(), task.started_by), ("product", "import", Some(7)));
    assert_eq!(serde_json::from_str::<Value>(task.meta.as_deref().unwrap()).unwrap(), json!({"force": true, "batch_size": 100}));
    // The package's path, options wrapped.
    let (status, v) = h.post("/worker/product/run/export", json!({"options": {"format": "csv"}}));
    assert_eq!(status, 200, "{v}");
    let task = h.wait(h.engine().require_task(v["id"].as_i64().unwrap())).unwrap();
    assert_eq!(serde_json::from_str::<Value>(task.meta.as_deref().unwrap()).unwrap(), json!({"format": "csv"}));
    assert_eq!(task.priority.as_str(), "normal");
    // Wrapped options may carry the task's priority; bare ones keep the key as an option.
    let (status, v) = h.post("/workers/product/tasks/export", json!({"options": {"format": "csv"}, "priority": "high"}));
    assert_eq!(status, 200, "{v}");
    let task = h.wait(h.engine().require_task(v["id"].as_i64().unwrap())).unwrap();
    assert_eq!((task.priority.as_str(), task.meta.as_deref()), ("high", Some(r#"{"format":"csv"}"#)));
    let (status, v) = h.post("/workers/product/tasks/export", json!({"priority": "high"}));
    assert_eq!(status, 200, "{v}");
    let task = h.wait(h.engine().require_task(v["id"].as_i64().unwrap())).unwrap();
    assert_eq!((task.priority.as_str(), task.meta.as_deref()), ("normal", Some(r#"{"priority":"high"}"#)));
    let (status, v) = h.post("/workers/product/tasks/export", json!({"options": {}, "priority": "urgent"}));
    assert_eq!(status, 422, "{v}");
    assert!(v["message"].as_str().unwrap_or_default().contains("low, normal or high"), "{v}");
    // Undeclared actions, odd action names and non-object options.
    assert_eq!(h.post("/workers/product/tasks/missing", json!({})).0, 404);
    assert_eq!(h.post("/workers/product/tasks/im%20port", json!({})).0, 400);
    assert_eq!(h.post("/workers/product/tasks/import", json!({"options": 5})).0, 422);
    assert_eq!(h.call("POST", "/workers/product/tasks/import", None).0, 200, "no body = no options");
}

fn progress_has_the_seed_shape_and_the_package_errors(h: &H) {
    let id = h.task("w", "run");
    let (status, v) = h.get(&format!("/tasks/{id}/progress"));
    assert_eq!(status, 200);
    for key in ["success", "code", "id", "status", "progress", "message", "eta", "processed", "total", "log_lines"] {
        assert!(v.get(key).is_some(), "progress lacks {key}: {v}");
    }
    assert_eq!((v["status"].as_str(), v["code"].as_i64(), v["id"].as_i64()), (Some("pending"), Some(200), Some(id)));
    let delta = stask::engine::progress::ProgressDelta {
        progress: Some(45),
        message: Some("Processing items...".into()),
        processed: Some(45),
        total: Some(100),
        ..Default::default()
    };
    h.wait(h.engine().progress_push(id, &delta)).unwrap();
    let (_, v) = h.get(&format!("/task/{id}/progress"));
    assert_eq!((v["progress"].as_i64(), v["processed"].as_i64(), v["total"].as_i64()), (Some(45), Some(45), Some(100)));
    assert_eq!(v["log_lines"], json!(["Processing items..."]));
    // Server paths in what a worker reports are cut down to relative ones.
    let delta = stask::engine::progress::ProgressDelta {
        message: Some(format!("Wrote {}/exports/p.csv", h.storage().display())),
        ..Default::default()
    };
    h.wait(h.engine().progress_push(id, &delta)).unwrap();
    let (_, v) = h.get(&format!("/tasks/{id}/progress"));
    assert_eq!(v["message"], "Wrote exports/p.csv");
    assert_eq!(v["log_lines"][1], "Wrote exports/p.csv");
    let (status, v) = h.get("/tasks/0/progress");
    assert_eq!((status, v["error"].as_str(), v["status"].as_str()), (400, Some("Invalid task ID"), Some("error")));
    let (status, v) = h.get("/tasks/999999/progress");
    assert_eq!(
        (status, v["status"].as_str(), v["code"].as_i64(), v["id"].as_i64()),
        (404, Some("not_found"), Some(404), Some(999999))
    );
}

fn the_task_list_filters_sorts_and_pages(h: &H) {
    h.worker("alpha", true);
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut t = NewTask::new(if i % 2 == 0 { "alpha" } else { "beta" }, if i < 3 { "import" } else { "export" });
        t.priority = if i == 4 { stask::engine::task::Priority::High } else { stask::engine::task::Priority::Normal };
        ids.push(h.wait(h.engine().create_task(t)).unwrap().id);
    }
    h.set(ids[1], &[("status", QValue::Int(40))]);
    h.set(ids[2], &[("status", QValue::Int(30))]);
    let list = |q: &str| {
        let (status, v) = h.get(&format!("/tasks{q}"));
        assert_eq!(status, 200, "{q}: {v}");
        let got: Vec<i64> = v["data"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
        (got, v)
    };
    let (got, v) = list("");
    assert_eq!(got, ids.iter().rev().copied().collect::<Vec<_>>(), "newest first by default");
    assert_eq!(v["pagination"], json!({"page": 1, "per_page": 20, "total": 5, "pages": 1}));
    assert_eq!(v["data"][4]["worker_title"], "Title of alpha");
    assert_eq!(v["data"][0]["created_at"].as_str().unwrap().len(), 20, "ISO 8601 UTC");
    assert_eq!(list("?status=failed,completed").0, vec![ids[2], ids[1]]);
    assert_eq!(list("?status=40").0, vec![ids[1]]);
    assert_eq!(list("?identifier=beta").0, vec![ids[3], ids[1]]);
    assert_eq!(list("?worker=alpha&action=import").0, vec![ids[2], ids[0]]);
    assert_eq!(list("?priority=high").0, vec![ids[4]]);
    assert_eq!(list("?sort=id&dir=asc&per_page=2&page=2").0, vec![ids[2], ids[3]]);
    let (got, v) = list("?per_page=2&page=3");
    assert_eq!((got, &v["pagination"]["pages"]), (vec![ids[0]], &json!(3)));
    assert_eq!(list("?page=9").0, Vec::<i64>::new());
    let today = stask::engine::time::now().format("%Y-%m-%d").to_string();
    assert_eq!(list(&format!("?from={today}&to={today}")).0.len(), 5);
    assert_eq!(list("?to=2000-01-01").0.len(), 0);
    assert_eq!(list("?from=2000-01-01T00:00:00Z").0.len(), 5);
    for bad in [
        "?per_page=101",
        "?per_page=0",
        "?sort=meta",
        "?sort=id;drop",
        "?dir=up",
        "?status=done",
        "?priority=urgent",
        "?from=yesterday",
    ] {
        assert_eq!(h.get(&format!("/tasks{bad}")).0, 422, "{bad}");
    }
}

fn task_detail_cancel_and_retry(h: &H) {
    let id = h.task("w", "run");
    let (status, v) = h.get(&format!("/tasks/{id}"));
    assert_eq!(status, 200);
    let t = &v["task"];
    for key in [
        "id",
        "identifier",
        "action",
        "status",
        "status_text",
        "message",
        "meta",
        "result",
        "attempts",
        "max_attempts",
        "duration",
        "peak_memory",
        "last_error",
        "started_at",
        "finished_at",
        "created_at",
        "eta",
        "log_lines",
        "worker_title",
        "can_cancel",
        "can_retry",
        "download_url",
        "priority",
        "progress",
    ] {
        assert!(t.get(key).is_some(), "task lacks {key}: {t}");
    }
    assert_eq!((t["can_cancel"].as_bool(), t["can_retry"].as_bool(), t["meta"].clone()), (Some(true), Some(false), json!([])));
    assert_eq!(h.get(&format!("/task/{id}")).1["task"]["id"], id);
    assert_eq!(h.post(&format!("/tasks/{id}/retry"), json!({})).0, 409, "pending tasks are not retried");
    let (status, v) = h.post(&format!("/tasks/{id}/cancel"), json!({}));
    assert_eq!((status, v["status"].as_i64(), v["message"].as_str()), (200, Some(50), Some("Task cancelled")));
    let (status, v) = h.post(&format!("/task/{id}/cancel"), json!({}));
    assert_eq!(status, 409, "{v}");
    let (status, v) = h.post(&format!("/tasks/{id}/retry"), json!({}));
    assert_eq!((status, v["status"].as_i64()), (200, Some(10)));
    let (_, v) = h.get(&format!("/tasks/{id}"));
    assert_eq!((v["task"]["can_cancel"].as_bool(), v["task"]["status_text"].as_str()), (Some(true), Some("pending")));
    // A running task: cancel is requested, not done.
    let claimed = h.wait(h.engine().claim(1)).unwrap();
    assert_eq!(claimed[0].id, id);
    let (status, v) = h.post(&format!("/tasks/{id}/cancel"), json!({}));
    assert_eq!((status, v["status"].as_i64()), (200, Some(20)));
    assert!(v["message"].as_str().unwrap().contains("requested"));
    let o = h.engine().outcome(&claimed[0], Attempt::Cancelled, 0.1, 0, 0.5);
    h.wait(h.engine().finish(&[o])).unwrap();
}

fn bulk_retry_by_filter_and_cancel_by_ids(h: &H) {
    let failed = |w: &str, a: &str| {
        let id = h.task(w, a);
        h.set(id, &[("status", QValue::Int(40))]);
        id
    };
    let (a1, a2, b1) = (failed("alpha", "import"), failed("alpha", "export"), failed("beta", "import"));
    let done = h.task("alpha", "import");
    h.set(done, &[("status", QValue::Int(30))]);
    let stopped = h.task("alpha", "import");
    h.post(&format!("/tasks/{stopped}/cancel"), json!({}));
    let status_of = |id: i64| h.get(&format!("/tasks/{id}")).1["task"]["status_text"].as_str().unwrap().to_string();

    // The list's filters pick the failed tasks; a cancelled one only when asked.
    let (status, v) = h.post("/tasks/retry", json!({"identifier": "alpha", "action": "import", "limit": 1}));
    assert_eq!(status, 200, "{v}");
    assert_eq!((v["retried"].clone(), v["retried_ids"].clone(), v["remaining"].clone()), (json!(1), json!([a1]), json!(0)));
    // The filters may come in the query string, as the list takes them.
    let mut r = h.req("POST", "/tasks/retry", Some(json!({})));
    r.query.insert("worker".into(), json!("alpha"));
    let v = h.send(&r).json_body().unwrap();
    assert_eq!((v["retried_ids"].clone(), v["not_retried"].clone()), (json!([a2]), json!([])));
    assert_eq!(
        (status_of(a1), status_of(a2), status_of(b1), status_of(done), status_of(stopped)),
        ("pending".into(), "pending".into(), "failed".into(), "completed".into(), "cancelled".into())
    );
    let (_, v) = h.post("/tasks/retry", json!({"status": ["cancelled", "failed"], "from": "2000-01-01"}));
    assert_eq!((v["retried"].clone(), v["remaining"].clone()), (json!(2), json!(0)), "{v}");
    assert_eq!((status_of(b1), status_of(stopped)), ("pending".into(), "pending".into()));
    let (_, v) = h.post("/tasks/retry", json!({}));
    assert_eq!((v["retried"].clone(), v["message"].clone()), (json!(0), json!("0 task(s) queued for retry")));
    for bad in [
        json!({"status": "completed"}),
        json!({"status": "pending,failed"}),
        json!({"status": "done"}),
        json!({"limit": 0}),
        json!({"limit": 1001}),
        json!({"page": 2}),
        json!({"sort": "id"}),
        json!({"identifier": 5}),
        json!({"from": "yesterday"}),
    ] {
        let (status, v) = h.post("/tasks/retry", bad.clone());
        assert_eq!((status, v["error"].as_str()), (422, Some("Validation failed")), "{bad}: {v}");
    }

    // Cancel: pending ends at once, running is asked to stop, the rest is named.
    let (p1, p2, run) = (h.task("gamma", "a"), h.task("gamma", "b"), h.task("gamma", "c"));
    h.set(run, &[("status", QValue::Int(20))]);
    let (status, v) = h.post("/tasks/cancel", json!({"ids": [p1, done, p2, 999_999, run, p1]}));
    assert_eq!(status, 200, "{v}");
    assert_eq!((v["cancelled"].clone(), v["cancelled_ids"].clone()), (json!(2), json!([p1, p2])));
    assert_eq!((v["requested"].clone(), v["requested_ids"].clone()), (json!(1), json!([run])));
    assert_eq!(
        v["not_cancelled"],
        json!([{"id": done, "reason": "finished", "status": "completed"}, {"id": 999_999, "reason": "not_found", "status": null}])
    );
    assert_eq!((status_of(p1), status_of(run)), ("cancelled".into(), "running".into()));
    assert_eq!(h.get(&format!("/tasks/{run}")).1["task"]["cancel_requested"], json!(true));
    let many: Vec<i64> = (1..=1001).collect();
    for bad in [
        json!({}),
        json!({"ids": []}),
        json!({"ids": "1,2"}),
        json!({"ids": [1, "x"]}),
        json!({"ids": [0]}),
        json!({"ids": [-3]}),
        json!({"ids": [1.5]}),
        json!({"ids": [null]}),
        json!({"ids": many}),
        json!({"ids": [1], "force": true}),
    ] {
        let (status, v) = h.post("/tasks/cancel", bad.clone());
        assert_eq!((status, v["error"].as_str(), v["field"].is_string()), (422, Some("Validation failed"), true), "{bad}: {v}");
    }
    assert_eq!(h.get("/tasks/cancel").0, 400, "GET of a bulk path is a (bad) task id");
}

fn engine_messages_carry_a_code_and_their_values(h: &H) {
    let coded = |id: i64| {
        let t = h.get(&format!("/tasks/{id}")).1["task"].clone();
        let p = h.get(&format!("/tasks/{id}/progress")).1;
        assert_eq!((&p["message_code"], &p["message_params"]), (&t["message_code"], &t["message_params"]), "{p}");
        (t["message"].as_str().unwrap_or("").to_string(), t["message_code"].clone(), t["message_params"].clone())
    };
    let id = h.task("w", "run");
    assert_eq!(coded(id), (String::new(), Value::Null, Value::Null));
    let claimed = h.wait(h.engine().claim_one(id)).unwrap().unwrap();
    let threw = Attempt::Threw { class: "RuntimeException".into(), message: "boom".into() };
    h.wait(h.engine().finish(&[h.engine().outcome(&claimed, threw, 0.1, 0, 0.5)])).unwrap();
    let (text, code, params) = coded(id);
    assert_eq!(code, "retrying", "{text}");
    assert_eq!(
        (&params["attempt"], &params["max"], &params["error"]),
        (&json!("1"), &json!("3"), &json!("RuntimeException: boom"))
    );
    assert!(text.ends_with(params["at"].as_str().unwrap()), "{text}");
    h.post(&format!("/tasks/{id}/cancel"), json!({}));
    assert_eq!(coded(id), ("Cancelled".into(), json!("cancelled"), json!({})));
    h.post(&format!("/tasks/{id}/retry"), json!({}));
    assert_eq!(coded(id).1, "queued_for_retry");
    let claimed = h.wait(h.engine().claim_one(id)).unwrap().unwrap();
    h.wait(h.engine().finish(&[h.engine().outcome(&claimed, Attempt::Returned, 0.1, 0, 0.5)])).unwrap();
    assert_eq!(coded(id), ("Task completed successfully".into(), json!("completed"), json!({})));
    let v = h.get(&format!("/tasks/{id}")).1;
    let (lines, codes) = (v["task"]["log_lines"].as_array().unwrap().clone(), v["task"]["log_codes"].as_array().unwrap().clone());
    assert_eq!(lines.len(), codes.len(), "{v}");
    // A worker's own text has no code.
    h.set(id, &[("message", QValue::Text("Imported 40 of 3000".into()))]);
    assert_eq!(coded(id).1, Value::Null);
    let missing = h.task("nobody", "run");
    let claimed = h.wait(h.engine().claim_one(missing)).unwrap().unwrap();
    h.wait(h.engine().finish(&[h.engine().missing_worker_outcome(&claimed)])).unwrap();
    assert_eq!(coded(missing).2, json!({"worker": "nobody", "id": missing.to_string()}));
}

fn creating_a_task_validates_its_input(h: &H) {
    let (status, v) =
        h.post("/tasks", json!({"identifier": "mailer", "action": "send", "data": {"to": "a@b.c"}, "priority": "high"}));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["message"], "Task created successfully");
    let t = &v["task"];
    assert_eq!(
        (t["priority"].as_str(), t["started_by"].as_i64(), t["meta"]["to"].as_str()),
        (Some("high"), Some(7), Some("a@b.c"))
    );
    assert_eq!(h.post("/task", json!({"identifier": "mailer", "action": "send"})).0, 200);
    assert_eq!(
        h.post("/task/store", json!({"identifier": "mailer", "action": "send", "priority": 1})).1["task"]["priority"],
        "low"
    );
    for bad in [
        json!({"action": "send"}),
        json!({"identifier": "", "action": "send"}),
        json!({"identifier": "mailer"}),
        json!({"identifier": ["x"], "action": "send"}),
        json!({"identifier": 5, "action": "send"}),
        json!({"identifier": "mailer", "action": 1.5}),
        json!({"identifier": "mailer", "action": "send", "priority": "urgent"}),
        json!({"identifier": "mailer", "action": "send", "data": "text"}),
        json!({"identifier": "mailer", "action": "send", "max_attempts": 0}),
        json!({"identifier": "mailer", "action": "send", "bogus": 1}),
        json!({"identifier": "mailer", "action": "send", "start_at": "soon"}),
    ] {
        let (status, v) = h.post("/tasks", bad.clone());
        assert_eq!(status, 422, "{bad}: {v}");
    }
    let big = "x".repeat(300 * 1024);
    let mut r = h.req("POST", "/tasks", Some(json!({"identifier": "m", "action": "a", "data": {"big": big}})));
    r.body.truncate(r.body.len());
    let big_api = ApiSettings { max_body: 4 * 1024 * 1024, ..h.api.clone() };
    let host = TestHost { h };
    assert_eq!(api::handle(h.engine(), h.rt.handle(), &host, &big_api, &r).status, 413, "data over the meta limit");
}

fn workers_list_detail_and_activation(h: &H) {
    h.worker("beta", false);
    h.worker("alpha", true);
    let t1 = h.task("alpha", "one");
    let t2 = h.task("alpha", "two");
    let (status, v) = h.get("/workers");
    assert_eq!(status, 200);
    let ws = v["workers"].as_array().unwrap();
    assert_eq!(ws.len(), 2);
    let alpha = ws.iter().find(|w| w["identifier"] == "alpha").unwrap();
    for key in [
        "identifier",
        "class",
        "title",
        "description",
        "icon",
        "scope",
        "active",
        "position",
        "settings",
        "schedule",
        "next_run",
        "last_task",
        "actions",
    ] {
        assert!(alpha.get(key).is_some(), "worker lacks {key}");
    }
    assert_eq!(alpha["actions"], json!(["export", "import"]), "the host's declared actions");
    assert_eq!((alpha["active"].as_bool(), alpha["last_task"]["id"].as_i64()), (Some(true), Some(t2)));
    assert_eq!(alpha["schedule"]["type"], "manual");
    let beta = ws.iter().find(|w| w["identifier"] == "beta").unwrap();
    assert!(beta["last_task"].is_null());
    assert_eq!(h.get("/workers?active=1").1["workers"].as_array().unwrap().len(), 1);
    let (status, v) = h.get("/workers/alpha");
    assert_eq!((status, v["worker"]["last_task"]["id"].as_i64()), (200, Some(t2)));
    // A failure's message naming a server file shows relative, as in the task object.
    let storage = h.storage().to_string_lossy().into_owned();
    let q = Query::new(Table::Tasks).where_eq("id", QValue::Int(t2)).unwrap();
    let message = format!("Error: cannot open {storage}/uploads/x.csv");
    h.wait(h.engine().update(&q, &[("message", QValue::Text(message))])).unwrap();
    for route in ["/workers", "/workers/alpha"] {
        let (_, v) = h.get(route);
        assert!(!v.to_string().contains(&storage), "{route} shows the storage path: {v}");
        assert!(v.to_string().contains("cannot open uploads/x.csv"), "{route}: {v}");
    }
    assert_ne!(t1, t2);
    let (status, v) = h.post("/workers/beta/activate", json!({}));
    assert_eq!((status, v["worker"]["active"].as_bool(), v["message"].as_str()), (200, Some(true), Some("Worker activated")));
    let (status, v) = h.post("/worker/deactivate", json!({"identifier": "beta"}));
    assert_eq!((status, v["worker"]["active"].as_bool()), (200, Some(false)));
    assert_eq!(h.post("/worker/activate", json!({})).0, 422);
    assert_eq!(h.post("/worker/activate", json!({"identifier": "ghost"})).0, 404);
    assert_eq!(h.post("/workers/ghost/deactivate", json!({})).0, 404);
}

fn settings_and_schedule_are_validated_and_stored_where_base_worker_reads_them(h: &H) {
    h.worker("importer", true);
    let (status, v) = h.get("/workers/importer/settings");
    assert_eq!((status, v["settings"].clone()), (200, json!({})));
    let (status, v) =
        h.call("PUT", "/workers/importer/settings", Some(json!({"allowed_extensions": ["csv", "xlsx"], "api": {"key": "k"}})));
    assert_eq!(status, 200, "{v}");
    assert_eq!(h.call("PUT", "/workers/importer/settings", Some(json!({"allowed_extensions": [".csv"]}))).0, 422);
    assert_eq!(h.call("PUT", "/workers/importer/settings", Some(json!({"allowed_extensions": "csv"}))).0, 422);
    assert_eq!(h.call("PUT", "/workers/importer/settings", Some(json!({"timeout": -1}))).0, 422);
    assert_eq!(h.call("PUT", "/workers/importer/settings", Some(json!({"settings": 3}))).0, 422);
    assert_eq!(h.call("PUT", "/workers/ghost/settings", Some(json!({}))).0, 404);
    let weekly =
        json!({"type": "periodic", "enabled": true, "time": "6:30", "frequency": "weekly", "days": ["friday", "Monday"]});
    let (status, v) = h.call("PUT", "/workers/importer/schedule", Some(weekly));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["schedule"]["days"], json!(["monday", "friday"]));
    // Stored inside the settings, beside what was there.
    let row = h.wait(h.engine().select_workers(&Query::new(Table::Workers))).unwrap().remove(0);
    let stored: Value = serde_json::from_str(&row.settings).unwrap();
    assert_eq!(stored["schedule"]["time"], "06:30");
    assert_eq!(stored["schedule"]["type"], "periodic");
    assert_eq!(stored["api"]["key"], "k");
    assert_eq!(stored["allowed_extensions"], json!(["csv", "xlsx"]));
    let (_, v) = h.get("/workers/importer/schedule");
    assert_eq!((v["schedule"]["frequency"].as_str(), v["schedule"]["enabled"].as_bool()), (Some("weekly"), Some(true)));
    // Saving settings without a schedule keeps the schedule.
    h.call("PUT", "/workers/importer/settings", Some(json!({"settings": {"batch": 10}})));
    let (_, v) = h.get("/workers/importer/settings");
    assert_eq!((v["settings"]["batch"].as_i64(), v["settings"]["schedule"]["time"].as_str()), (Some(10), Some("06:30")));
    for bad in [
        json!({"type": "periodic", "time": "6:30", "frequency": "weekly"}),
        json!({"type": "regular", "start_time": "25:00", "end_time": "10:00"}),
        json!({"type": "sometimes"}),
        json!({"schedule": {"type": "once"}}),
    ] {
        assert_eq!(h.call("PUT", "/workers/importer/schedule", Some(bad.clone())).0, 422, "{bad}");
    }
    let (status, v) = h.post("/workers/importer/schedule", json!({"schedule": {"type": "regular", "enabled": true, "start_time": "08:00", "end_time": "18:00", "interval": "every_15min"}}));
    assert_eq!((status, v["schedule"]["interval"].as_str()), (200, Some("every_15min")));
    assert!(v["next_run"].is_string(), "{v}");
}

fn cron_schedules_and_the_missed_policy_are_validated_by_field_and_show_their_next_run(h: &H) {
    h.worker("importer", true);
    let (status, v) = h.call(
        "PUT",
        "/workers/importer/schedule",
        Some(json!({"type": "cron", "enabled": true, "expression": "  0 3 * *  SUN ", "missed": "run_once"})),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["schedule"]["expression"], "0 3 * * SUN");
    assert_eq!(v["schedule"]["missed"], "run_once");
    // The harness runs in UTC: the next Sunday 03:00, with its offset.
    let next = v["next_run"].as_str().unwrap_or_else(|| panic!("{v}"));
    let at = chrono::DateTime::parse_from_rfc3339(next).unwrap();
    assert!(next.ends_with("T03:00:00+00:00"), "{next}");
    assert_eq!(chrono::Datelike::weekday(&at), chrono::Weekday::Sun);
    assert!(at > chrono::Utc::now() && at < chrono::Utc::now() + chrono::TimeDelta::days(7), "{next}");
    let row = h.wait(h.engine().select_workers(&Query::new(Table::Workers))).unwrap().remove(0);
    let stored: Value = serde_json::from_str(&row.settings).unwrap();
    assert_eq!((stored["schedule"]["type"].as_str(), stored["schedule"]["missed"].as_str()), (Some("cron"), Some("run_once")));
    // The same next run in the list, the detail and the schedule route.
    assert_eq!(h.get("/workers").1["workers"][0]["next_run"], next);
    assert_eq!(h.get("/workers/importer").1["worker"]["next_run"], next);
    assert_eq!(h.get("/workers/importer/schedule").1["next_run"], next);
    for (bad, field) in [
        (json!({"type": "cron", "enabled": true}), "expression"),
        (json!({"type": "cron", "expression": "0 3 * * * *"}), "expression"),
        (json!({"type": "cron", "expression": "0 25 * * *"}), "expression"),
        (json!({"type": "cron", "expression": "0 0 30 2 *"}), "expression"),
        (json!({"type": "cron", "expression": 5}), "expression"),
        (json!({"type": "periodic", "time": "*:05", "missed": "sometimes"}), "missed"),
        (json!({"type": "regular", "start_time": "09:10", "end_time": "09:50", "interval": "hourly"}), "interval"),
    ] {
        let (status, v) = h.call("PUT", "/workers/importer/schedule", Some(bad.clone()));
        assert_eq!((status, v["field"].as_str()), (422, Some(field)), "{bad}: {v}");
        assert!(v["message"].as_str().unwrap_or_default().contains(field), "{bad}: {v}");
    }
    // The refused schedules left the stored one alone.
    assert_eq!(h.get("/workers/importer/schedule").1["schedule"]["expression"], "0 3 * * SUN");
    // Disabled, manual, or a once in the past: no next run.
    for s in [
        json!({"type": "cron", "enabled": false, "expression": "* * * * *"}),
        json!({"type": "manual", "enabled": true}),
        json!({"type": "once", "enabled": true, "datetime": "2001-01-01 00:00"}),
    ] {
        let (status, v) = h.call("PUT", "/workers/importer/schedule", Some(s.clone()));
        assert_eq!((status, v["next_run"].clone()), (200, Value::Null), "{s}");
        assert_eq!(v["schedule"]["missed"], "skip", "{s}");
    }
}

fn discovery_rescan_orphans_and_widgets_go_through_the_host(h: &H) {
    let (status, v) = h.post("/workers/discover", json!({}));
    assert_eq!((status, v["discovered"].as_i64()), (200, Some(2)));
    assert_eq!(v["workers"][0]["active"], false, "new workers start inactive");
    assert_eq!(h.post("/workers/discover", json!({})).1["discovered"], 0);
    assert_eq!(h.post("/workers/rescan", json!({})).1["updated"], 0);
    let mut gone = info("gone");
    gone.class = "Gone\\Worker".into();
    h.wait(h.engine().register_worker(&gone)).unwrap();
    let (status, v) = h.post("/worker/clean-orphaned", json!({}));
    assert_eq!((status, v["deleted"].as_i64(), v["message"].as_str()), (200, Some(1), Some("Removed 1 orphaned workers")));
    assert_eq!(h.post("/workers/clean-orphans", json!({})).1["deleted"], 0);
    let (status, v) = h.get("/workers/found_one/widget");
    assert_eq!((status, v["html"].as_str()), (200, Some("<div class=\"widget\">found_one</div>")));
    h.worker("broken", true);
    let (status, v) = h.get("/workers/broken/widget");
    assert_eq!(status, 500, "{v}");
    assert_eq!(h.get("/workers/ghost/widget").0, 404);
    assert_eq!(h.get("/workers/discover").0, 404, "GET is not discovery");
}

fn stats_timeline_performance_and_cache_have_the_seed_keys(h: &H) {
    h.worker("w", true);
    let a = h.task("w", "run");
    h.task("w", "run");
    let claimed = h.wait(h.engine().claim(1)).unwrap();
    assert_eq!(claimed[0].id, a);
    let o = h.engine().outcome(&claimed[0], Attempt::Returned, 1.5, 1024, 0.5);
    h.wait(h.engine().finish(&[o])).unwrap();
    let (status, v) = h.get("/stats");
    assert_eq!(status, 200);
    assert!(v.get("success").is_none(), "getStats verbatim");
    assert_eq!(
        (v["pending"].as_i64(), v["completed"].as_i64(), v["total"].as_i64(), v["active_workers"].as_i64()),
        (Some(1), Some(1), Some(2), Some(1))
    );
    let (status, v) = h.get("/stats/timeline?hours=3");
    assert_eq!(status, 200);
    let tl = v["timeline"].as_array().unwrap();
    assert_eq!(tl.len(), 3);
    let last = &tl[2];
    assert_eq!(
        (last["created"].as_i64(), last["completed"].as_i64(), last["avg_duration"].as_f64()),
        (Some(2), Some(1), Some(1.5))
    );
    assert_eq!(tl[0]["created"], 0);
    assert_eq!(h.get("/stats/timeline?hours=0").0, 422);
    let (status, v) = h.get("/performance/summary?hours=24");
    assert_eq!(status, 200);
    assert_eq!(v["period"]["hours"], 24);
    assert_eq!(
        (v["tasks"]["total"].as_i64(), v["tasks"]["completed"].as_i64(), v["tasks"]["queued"].as_i64()),
        (Some(2), Some(1), Some(1))
    );
    for key in ["success_rate", "average_duration", "average_memory"] {
        assert!(v["performance"][key].is_number(), "{key}");
    }
    let (_, v) = h.get("/performance/workers?hours=24");
    assert_eq!(v["workers"]["w"]["total_tasks"], 2);
    assert!(v["workers"]["w"]["last_execution"].is_string());
    assert_eq!(h.get("/performance/workers?identifier=nobody").1["workers"], json!({}));
    // A task is queued and no worker process runs: only that alert.
    let (_, v) = h.get("/performance/alerts");
    assert_eq!(v["alerts"][0]["type"], "no_worker_process", "{v}");
    assert_eq!(v["alerts"].as_array().map(Vec::len), Some(1), "{v}");
    let live = h.wait(h.engine().process_start()).unwrap();
    assert_eq!(h.get("/performance/alerts").1["alerts"], json!([]));
    h.wait(live.stop());
    let (_, v) = h.get("/cache/stats");
    for key in ["hits", "misses", "evictions", "hit_rate", "cache_size", "memory_usage"] {
        assert!(v["cache_stats"].get(key).is_some(), "{key}");
    }
    let (status, v) = h.post("/cache/clear", json!({"identifier": "w"}));
    assert_eq!((status, v), (200, json!({"success": true, "message": "Cache cleared successfully"})));
    assert_eq!(h.call("POST", "/cache/clear", None).0, 200);
}

fn downloads_serve_only_files_inside_the_storage_folder(h: &H) {
    let storage = h.storage();
    std::fs::create_dir_all(storage.join("exports")).unwrap();
    std::fs::write(storage.join("exports/report.csv"), "a,b\n1,2\n").unwrap();
    let outside = h.dir.path().join("secret.txt");
    std::fs::write(&outside, "secret").unwrap();
    std::os::unix::fs::symlink(&outside, storage.join("exports/link.csv")).unwrap();
    let download = |id: i64| h.send(&h.req("GET", &format!("/tasks/{id}/download"), None));

    let id = h.task("w", "export");
    let r = download(id);
    assert_eq!((r.status, r.json_body().unwrap()["error"].as_str()), (400, Some("Task not completed")));
    h.complete_with_result(id, "exports/report.csv");
    let r = download(id);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, Body::File(storage.join("exports/report.csv").canonicalize().unwrap()));
    assert_eq!(r.header("Content-Type"), Some("text/csv"));
    assert!(r.header("Content-Disposition").unwrap().starts_with("attachment; filename=\"report.csv\""));
    assert_eq!(r.header("Content-Length"), Some("8"));
    let (_, v) = h.get(&format!("/tasks/{id}"));
    assert_eq!(v["task"]["download_url"], format!("/stask/tasks/{id}/download"));
    // The same file by absolute path is fine: it is inside the storage folder.
    let abs = h.task("w", "export");
    h.complete_with_result(abs, &storage.join("exports/report.csv").to_string_lossy());
    assert_eq!(download(abs).status, 200);
    assert_eq!(h.send(&h.req("GET", &format!("/task/{abs}/download"), None)).status, 200);
    for evil in [
        outside.to_string_lossy().into_owned(),
        "/etc/passwd".into(),
        "../secret.txt".into(),
        "exports/../../secret.txt".into(),
        "exports/link.csv".into(),
        "exports".into(),
        "stask.sqlite".into(),
        "exports/nothing.csv".into(),
        "".into(),
    ] {
        let id = h.task("w", "export");
        h.complete_with_result(id, &evil);
        let r = download(id);
        h.assert_clean(&r);
        assert_eq!((r.status, r.json_body().unwrap()["error"].as_str()), (404, Some("Export file not found")), "{evil}");
        assert!(h.get(&format!("/tasks/{id}")).1["task"]["download_url"].is_null(), "{evil}");
    }
    // The SQLite database, when it lies in the storage folder, is never served.
    let db = h.task("w", "export");
    std::fs::write(storage.join("stask.sqlite"), "db").unwrap();
    if let Dsn::Sqlite { .. } = h.settings.dsn {
        let mut s = h.settings.clone();
        s.dsn = Dsn::Sqlite { path: storage.join("stask.sqlite") };
        let mut t = h.wait(h.engine().require_task(db)).unwrap();
        t.status = 30;
        t.result = Some("\"stask.sqlite\"".into());
        assert!(stask::engine::api::download::result_file(&s, &t).is_err());
    }
}

fn downloads_never_serve_the_database_its_journals_snapshots_or_chunks(h: &H) {
    use stask::engine::api::download::{result_file, Refused};
    let storage = h.storage();
    std::fs::create_dir_all(storage.join("uploads/.chunks/u1")).unwrap();
    std::fs::create_dir_all(storage.join("exports")).unwrap();
    for (name, body) in [
        ("stask.sqlite", "db"),
        ("stask.sqlite-wal", "wal pages"),
        ("stask.sqlite-shm", "shm"),
        ("stask.sqlite-journal", "journal"),
        ("41.json", r#"{"id":41}"#),
        (".~41.1.2.json", "{}"),
        ("uploads/.chunks/u1/000000.part", "chunk"),
        ("uploads/.chunks/u1/manifest.json", "{}"),
        ("exports/41.json", "a result may be named like a snapshot in a subfolder"),
    ] {
        std::fs::write(storage.join(name), body).unwrap();
    }
    let abs = |name: &str| storage.join(name).to_string_lossy().into_owned();
    let refused: Vec<(String, Refused)> = vec![
        ("stask.sqlite-wal".into(), Refused::Database),
        (abs("stask.sqlite-wal"), Refused::Database),
        ("stask.sqlite-shm".into(), Refused::Database),
        ("stask.sqlite-journal".into(), Refused::Database),
        ("stask.sqlite".into(), Refused::Database),
        ("41.json".into(), Refused::EngineFile),
        (abs("41.json"), Refused::EngineFile),
        (".~41.1.2.json".into(), Refused::EngineFile),
        ("uploads/.chunks/u1/000000.part".into(), Refused::EngineFile),
        ("uploads/.chunks/u1/manifest.json".into(), Refused::EngineFile),
        ("uploads/.chunks/u1".into(), Refused::EngineFile),
        ("uploads".into(), Refused::NotAFile),
    ];
    // The default SQLite place is the storage folder; the rules hold for any DSN.
    let mut in_storage = h.settings.clone();
    in_storage.dsn = Dsn::Sqlite { path: storage.join("stask.sqlite") };
    for (name, why) in &refused {
        for result in [serde_json::to_string(name).unwrap(), json!({"file": name}).to_string()] {
            let id = h.task("w", "export");
            h.complete_with_result(id, name);
            let mut t = h.wait(h.engine().require_task(id)).unwrap();
            t.result = Some(result.clone());
            assert_eq!(result_file(&in_storage, &t), Err(why.clone()), "{result}");
        }
    }
    // Through the API, with this harness's own settings (its database lies
    // elsewhere): snapshots and chunks are 404 on every backend.
    let download = |id: i64| h.send(&h.req("GET", &format!("/tasks/{id}/download"), None));
    for name in ["41.json", ".~41.1.2.json", "uploads/.chunks/u1/000000.part", "uploads/.chunks/u1/manifest.json"] {
        let id = h.task("w", "export");
        h.complete_with_result(id, name);
        let r = download(id);
        assert_eq!((r.status, r.json_body().unwrap()["error"].as_str()), (404, Some("Export file not found")), "{name}");
    }
    if let Dsn::Sqlite { path } = &h.settings.dsn {
        // The harness's database with its WAL, by absolute path (it lies outside storage: 404 either way).
        for name in [path.clone(), path.with_extension("sqlite-wal")] {
            let id = h.task("w", "export");
            h.complete_with_result(id, &name.to_string_lossy());
            assert_eq!(download(id).status, 404, "{}", name.display());
        }
    }
    let id = h.task("w", "export");
    h.complete_with_result(id, "exports/41.json");
    assert_eq!(download(id).status, 200);
    // A FIFO is not a file to stream.
    let fifo = storage.join("exports/pipe.csv");
    let c = std::ffi::CString::new(fifo.to_string_lossy().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let id = h.task("w", "export");
    h.complete_with_result(id, "exports/pipe.csv");
    assert_eq!(download(id).status, 404);
}

fn names_compare_byte_for_byte_and_a_nul_byte_is_a_422(h: &H) {
    h.worker("product", true);
    let id = h.task("product", "import");
    assert_eq!(h.get("/workers/product").0, 200);
    // MariaDB's default collation ignored case and trailing spaces.
    for other in ["/workers/PRODUCT", "/workers/Product", "/workers/product%20", "/workers/product%20%20"] {
        assert_eq!(h.get(other).0, 404, "{other}");
    }
    let listed = |q: &str| {
        let (status, v) = h.get(&format!("/tasks{q}"));
        assert_eq!(status, 200, "{q}: {v}");
        v["data"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect::<Vec<_>>()
    };
    assert_eq!(listed("?identifier=product"), vec![id]);
    // (Query filters are trimmed by the API on purpose, so only case is tried there.)
    for q in ["?identifier=PRODUCT", "?worker=Product", "?identifier=product&action=IMPORT"] {
        assert_eq!(listed(q), Vec::<i64>::new(), "{q}");
    }
    let q = Query::new(stask::engine::query::Table::Tasks).where_eq("identifier", QValue::Text("PRODUCT".into())).unwrap();
    assert_eq!(h.wait(h.engine().count(&q)).unwrap(), 0);
    // A NUL byte: PostgreSQL's text cannot hold one (a 500 there, a match or
    // a miss elsewhere); a 422 on every backend.
    for q in ["?identifier=a\0b", "?action=a\0b", "?worker=a\0b", "?status=10\0"] {
        let (status, v) = h.get(&format!("/tasks{q}"));
        assert_eq!(status, 422, "{q}: {v}");
    }
    for body in [
        json!({"identifier": "a\0b", "action": "x"}),
        json!({"identifier": "a", "action": "x\0"}),
        json!({"identifier": "a", "action": "x", "unique": "k\0"}),
    ] {
        let (status, v) = h.post("/tasks", body.clone());
        assert_eq!(status, 422, "{body}: {v}");
    }
    assert_eq!(h.get("/workers/a%00b").0, 400, "a path segment with a control character");
    assert!(Query::new(stask::engine::query::Table::Tasks).where_eq("identifier", QValue::Text("a\0b".into())).is_err());
    // LIKE patterns too, on any column (found by tests/fuzz.rs).
    let like = |col: &str| {
        Query::new(stask::engine::query::Table::Tasks).where_op(col, stask::engine::query::Op::Like, QValue::Text("%\0".into()))
    };
    assert!(like("id").is_err() && like("message").is_err());
    let set = Query::new(stask::engine::query::Table::Tasks).where_eq("id", QValue::Int(id)).unwrap();
    assert!(h.wait(h.engine().update(&set, &[("message", QValue::Text("a\0b".into()))])).is_err());
}

fn single_uploads_check_type_and_size_and_fill_the_task_meta(h: &H) {
    h.worker("importer", true);
    let id = h.task("importer", "import");
    let (status, v) = h.post_file(&format!("/tasks/{id}/upload"), h.upload("../../Products 2025.CSV", b"sku,qty\n1,2\n"));
    assert_eq!(status, 200, "{v}");
    let name = v["filename"].as_str().unwrap().to_string();
    assert!(name.starts_with(&format!("task_{id}_")) && name.ends_with(".csv"), "{name}");
    assert_eq!((v["original_filename"].as_str(), v["file_size"].as_i64()), (Some("Products 2025.CSV"), Some(12)));
    assert_eq!(v["uploaded_file"], format!("uploads/{name}"));
    assert_eq!(std::fs::read(h.storage().join("uploads").join(&name)).unwrap(), b"sku,qty\n1,2\n");
    let meta: Value = serde_json::from_str(h.wait(h.engine().require_task(id)).unwrap().meta.as_deref().unwrap()).unwrap();
    assert_eq!(meta["uploaded_file"], format!("uploads/{name}"));
    assert_eq!((meta["original_filename"].as_str(), meta["file_size"].as_i64()), (Some("Products 2025.CSV"), Some(12)));
    assert!(meta["uploaded_at"].is_string());
    // Wrong type, too large, nothing sent, a failed upload, a forged path.
    assert_eq!(h.post_file(&format!("/tasks/{id}/upload"), h.upload("shell.php", b"<?php")).0, 422);
    assert_eq!(h.post_file(&format!("/tasks/{id}/upload"), h.upload("big.csv", &vec![b'x'; 64 * 1024 + 1])).0, 413);
    assert_eq!(h.call("POST", &format!("/tasks/{id}/upload"), None).0, 400);
    let mut failed = h.upload("a.csv", b"x");
    failed.error = 1;
    assert_eq!(h.post_file(&format!("/tasks/{id}/upload"), failed).0, 413);
    let mut forged = h.upload("a.csv", b"x");
    forged.tmp_name = h.dir.path().join("does-not-exist");
    assert_eq!(h.post_file(&format!("/tasks/{id}/upload"), forged).0, 400);
    // Only before the task starts.
    h.set(id, &[("status", QValue::Int(30))]);
    assert_eq!(h.post_file(&format!("/tasks/{id}/upload"), h.upload("a.csv", b"x")).0, 409);
    // A worker's own extensions; the package's client-chosen chunk sessions are refused.
    h.call("PUT", "/workers/importer/settings", Some(json!({"allowed_extensions": ["xlsx"]})));
    assert_eq!(h.post_file("/workers/importer/upload", h.upload("a.csv", b"x")).0, 422);
    let (status, v) = h.post_file("/worker/importer/upload", h.upload("a.xlsx", b"xlsx"));
    assert_eq!(status, 200, "{v}");
    assert!(v["result"].as_str().unwrap().starts_with("importer_"));
    let mut r = h.req("POST", "/workers/importer/upload", None);
    r.files.insert("file".into(), h.upload("a.xlsx", b"x"));
    r.form.insert("chunk_index".into(), json!("0"));
    r.form.insert("session_id".into(), json!("../../etc"));
    assert_eq!(h.send(&r).status, 422);
    h.worker("idle", false);
    assert_eq!(h.post_file("/workers/idle/upload", h.upload("a.csv", b"x")).0, 409);
    assert_eq!(h.post_file("/workers/ghost/upload", h.upload("a.csv", b"x")).0, 404);
}

fn chunked_uploads_are_checked_and_assembled_only_when_complete(h: &H) {
    h.worker("importer", true);
    let content: Vec<u8> = (0..2500u32).map(|i| (i % 251) as u8).collect();
    let start = |body: Value| h.post("/workers/importer/uploads", body);
    assert_eq!(start(json!({"filename": "a.exe", "size": 10})).0, 422);
    assert_eq!(start(json!({"filename": "a.csv", "size": 0})).0, 413);
    assert_eq!(start(json!({"filename": "a.csv", "size": 65 * 1024})).0, 413);
    assert_eq!(start(json!({"filename": "a.csv", "size": 2500, "total_chunks": 2})).0, 422, "chunks too small");
    assert_eq!(start(json!({"filename": "a.csv", "size": 2500, "total_chunks": 101})).0, 422, "too many chunks");
    assert_eq!(start(json!({"filename": "a.csv"})).0, 422);
    let (status, v) = start(json!({"filename": "data.csv", "size": 2500, "total_chunks": 3}));
    assert_eq!(status, 200, "{v}");
    let id = v["upload_id"].as_str().unwrap().to_string();
    assert_eq!((id.len(), v["chunk_size"].as_i64()), (32, Some(1024)));
    let chunk = |i: &str, data: &[u8]| h.post_file(&format!("/uploads/{id}/chunks/{i}"), h.upload("blob", data));
    assert_eq!(chunk("0", &content[..1024]).0, 200);
    // Out of range, not a number, too big for a chunk.
    assert_eq!(chunk("3", &content[..10]).0, 422);
    assert_eq!(chunk("-1", &content[..10]).0, 422);
    assert_eq!(chunk("x", &content[..10]).0, 422);
    assert_eq!(chunk("1", &vec![0u8; 1025]).0, 413);
    // Incomplete: refused, and the upload stays.
    let (status, v) = h.post(&format!("/uploads/{id}/complete"), json!({}));
    assert_eq!((status, v["missing_chunks"].clone()), (409, json!([1, 2])));
    assert_eq!(chunk("2", &content[2048..]).0, 200);
    assert_eq!(chunk("1", &vec![0u8; 1024]).0, 200, "exactly fits");
    let (status, v) = h.post(&format!("/uploads/{id}/complete"), json!({}));
    assert_eq!((status, v["filename"].is_string()), (200, true), "sizes add up: {v}");
    // Chunks that would overflow the announced size.
    let (_, v) = start(json!({"filename": "small.csv", "size": 1500, "total_chunks": 2}));
    let small = v["upload_id"].as_str().unwrap().to_string();
    let put = |i: &str, n: usize| h.post_file(&format!("/uploads/{small}/chunks/{i}"), h.upload("blob", &vec![1u8; n])).0;
    assert_eq!(put("0", 1024), 200);
    assert_eq!(put("1", 1000), 413);
    assert_eq!(put("1", 476), 200);
    assert_eq!(h.post(&format!("/uploads/{small}/complete"), json!({})).1["file_size"], 1500);
    // The first file holds zeros in the middle; now do it right with another upload.
    let (_, v) = start(json!({"filename": "data.csv", "size": 2500}));
    let id = v["upload_id"].as_str().unwrap().to_string();
    assert_eq!(v["total_chunks"], 3);
    let chunk = |i: &str, data: &[u8]| h.post_file(&format!("/uploads/{id}/chunks/{i}"), h.upload("blob", data));
    for (i, part) in content.chunks(1024).enumerate().rev() {
        assert_eq!(chunk(&i.to_string(), part).0, 200);
    }
    assert_eq!(chunk("1", &content[..1023]).1["received_bytes"], 2499, "a re-sent chunk replaces the old one");
    let (status, v) = h.post(&format!("/uploads/{id}/complete"), json!({}));
    assert_eq!((status, v["error"].as_str()), (422, Some("Size mismatch")));
    assert_eq!(chunk("1", &content[1024..2048]).0, 200);
    let (status, v) = h.post(&format!("/uploads/{id}/complete"), json!({}));
    assert_eq!(status, 200, "{v}");
    let name = v["filename"].as_str().unwrap();
    assert_eq!((v["original_filename"].as_str(), v["file_size"].as_i64()), (Some("data.csv"), Some(2500)));
    assert_eq!(std::fs::read(h.storage().join("uploads").join(name)).unwrap(), content);
    assert!(!h.storage().join("uploads/.chunks").join(&id).exists(), "chunks are removed");
    assert_eq!(h.post(&format!("/uploads/{id}/complete"), json!({})).0, 404, "completed once");
    assert_eq!(h.post("/uploads/../../etc/complete", json!({})).0, 400);
    assert_eq!(h.post("/uploads/0123456789abcdef0123456789abcdef/complete", json!({})).0, 404);
    assert_eq!(h.post("/uploads/not-an-id/chunks/0", json!({})).0, 400);
}

fn abandoned_chunked_uploads_are_cleaned(h: &H) {
    use stask::engine::maintenance::cleaner::{Cleaner, CleanerConfig};
    h.worker("importer", true);
    let (_, v) = h.post("/workers/importer/uploads", json!({"filename": "a.csv", "size": 10}));
    let id = v["upload_id"].as_str().unwrap().to_string();
    let dir = h.storage().join("uploads/.chunks").join(&id);
    assert!(dir.is_dir());
    // Fresh uploads stay.
    let report = h.wait(Cleaner::new(h.engine(), CleanerConfig::default()).unwrap().run_once()).unwrap();
    assert_eq!(report.deleted_uploads, 0);
    assert!(dir.is_dir());
    // With an engine whose uploads go stale after 10 ms, it goes.
    let mut s = h.settings.clone();
    s.api.upload_stale_after = Duration::from_millis(10);
    std::thread::sleep(Duration::from_millis(30));
    let e = h.wait(Engine::open(s)).unwrap();
    let report = h.wait(Cleaner::new(&e, CleanerConfig::default()).unwrap().run_once()).unwrap();
    assert_eq!(report.deleted_uploads, 1);
    assert!(!dir.exists());
    {
        let _g = h.rt.enter();
        drop(e);
    }
    assert_eq!(h.post(&format!("/uploads/{id}/complete"), json!({})).0, 404);
}

fn metrics_health_clean_and_limits(h: &H) {
    h.worker("w", true);
    let a = h.task("w", "run");
    h.task("w", "run");
    h.set(a, &[("status", QValue::Int(40)), ("attempts", QValue::Int(3))]);
    let r = h.send(&h.req("GET", "/metrics", None));
    assert_eq!((r.status, r.header("Content-Type")), (200, Some("text/plain; version=0.0.4; charset=utf-8")));
    let Body::Text(text) = &r.body else { panic!("metrics are text") };
    for line in [
        "stask_tasks_processed_total{worker=\"w\"} 1",
        "stask_tasks_failed_total{worker=\"w\"} 1",
        "stask_tasks_retried_total{worker=\"w\"} 2",
        "stask_queue_depth{worker=\"w\"} 1",
        "stask_tasks_running{worker=\"w\"} 0",
        "stask_workers{state=\"active\"} 1",
        "# TYPE stask_oldest_pending_age_seconds gauge",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line}:\n{text}");
    }
    let (status, v) = h.get("/health");
    assert_eq!((status, v["status"].as_str(), v["database"]["ok"].as_bool()), (200, Some("ok"), Some(true)));
    let old = h.task("w", "run");
    h.set(old, &[("status", QValue::Int(30)), ("finished_at", QValue::Text("2000-01-01 00:00:00".into()))]);
    assert_eq!(h.post("/clean", json!({"days": -1})).0, 422);
    assert_eq!(h.post("/clean", json!({"days": "many"})).0, 422);
    let (status, v) = h.post("/clean", json!({"days": 7}));
    assert_eq!((status, v["deleted_tasks"].as_i64(), v["message"].as_str()), (200, Some(1), Some("Cleaned 1 tasks")));
    let (status, v) = h.get("/server-limits");
    assert_eq!(status, 200);
    assert_eq!(
        (v["maxFileSize"].as_i64(), v["chunkSize"].as_i64(), v["singleUploadLimit"].as_i64()),
        (Some(64 * 1024), Some(1024), Some(64 * 1024))
    );
    assert_eq!(v["phpUploadLimit"], 8 * 1024 * 1024);
    let (status, v) = h.get("/");
    assert_eq!(status, 200);
    assert!(v["routes"].as_array().unwrap().iter().any(|r| r["path"] == "/stask/tasks/{id}/progress"));
}

fn no_input_makes_the_api_panic_or_answer_without_json(h: &H) {
    h.worker("w", true);
    let id = h.task("w", "run");
    let paths = [
        "".to_string(),
        "//".into(),
        format!("/tasks/{id}"),
        format!("/tasks/{id}/cancel"),
        "/tasks/9223372036854775807".into(),
        "/tasks/%00".into(),
        "/tasks/%ff%fe".into(),
        "/workers/w".into(),
        "/workers/%E2%9C%93/settings".into(),
        "/workers/w/tasks/run".into(),
        "/workers/w/schedule".into(),
        "/workers/w/uploads".into(),
        "/uploads/ffffffffffffffffffffffffffffffff/chunks/99999999999999999999".into(),
        "/stats/timeline".into(),
        "/clean".into(),
        "/cache/clear".into(),
        "/worker/activate".into(),
        format!("/{}", "a/".repeat(200)),
    ];
    let bodies: [&[u8]; 7] = [b"", b"null", b"{}", b"[]", b"{\"options\": [1]}", b"\xff\xfe\x00", b"{\"a\": 1e999}"];
    for method in ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "g e t", ""] {
        for path in &paths {
            for body in bodies {
                let mut r = h.req(method, path, None);
                r.body = body.to_vec();
                r.query.insert("hours".into(), json!({"nested": [1]}));
                r.query.insert("page".into(), json!(-5));
                let resp = h.send(&r);
                h.assert_clean(&resp);
                assert!(resp.status < 500 || resp.status == 503, "{method} {path} {body:?}: {:?}", resp.body);
            }
        }
    }
}

/// Issue 11 #4: a worker's settings may not open uploads to code, and an
/// old settings row that lists `php` does not either.
fn executable_upload_extensions_are_refused_unless_configured(h: &H) {
    h.worker("importer", true);
    for ext in ["php", "phtml", "phar", "PHP5", "pht", "shtml", "htaccess", "cgi", "pl", "py", "sh", "exe", "js", "html", "svg"] {
        let (status, v) = h.call("PUT", "/workers/importer/settings", Some(json!({"allowed_extensions": ["csv", ext]})));
        assert_eq!(status, 422, "{ext}: {v}");
        assert_eq!(v["field"], "allowed_extensions");
        assert!(v["message"].as_str().unwrap().contains(&format!("'{ext}'")), "{ext}: {v}");
    }
    // A row written before the check (or by hand) still cannot store code.
    let q = Query::new(Table::Workers).where_eq("identifier", QValue::Text("importer".into())).unwrap();
    h.wait(h.engine().update(&q, &[("settings", QValue::Text(r#"{"allowed_extensions":["php","phtml","phar","csv"]}"#.into()))]))
        .unwrap();
    for name in ["shell.php", "shell.phtml", "shell.PHAR"] {
        let (status, v) = h.post_file("/workers/importer/upload", h.upload(name, b"<?php echo 1;"));
        assert_eq!(status, 422, "{name}: {v}");
        let ext = name.rsplit('.').next().unwrap().to_ascii_lowercase();
        assert!(v["message"].as_str().unwrap().contains(&format!("'.{ext}'")), "{v}");
        assert_eq!(v["allowed_extensions"], json!(["csv"]), "executables are not offered");
    }
    let (status, v) = h.post("/workers/importer/uploads", json!({"filename": "shell.php", "size": 10}));
    assert_eq!((status, v["extension"].as_str()), (422, Some("php")), "{v}");
    let id = h.task("importer", "import");
    assert_eq!(h.post_file(&format!("/tasks/{id}/upload"), h.upload("x.php", b"<?php")).0, 422);
    let stored: Vec<_> = std::fs::read_dir(h.storage().join("uploads")).map(|d| d.flatten().collect()).unwrap_or_default();
    assert!(stored.iter().all(|e| !e.file_name().to_string_lossy().contains(".ph")), "nothing executable stored");
    assert_eq!(h.post_file("/workers/importer/upload", h.upload("fine.csv", b"a,b\n")).0, 200);

    // Explicitly allowed by the configuration: accepted and stored.
    let allow = ApiSettings { upload_allow_executable: true, ..h.api.clone() };
    let host = TestHost { h };
    let put = h.req("PUT", "/workers/importer/settings", Some(json!({"allowed_extensions": ["php", "phtml", "phar"]})));
    assert_eq!(api::handle(h.engine(), h.rt.handle(), &host, &allow, &put).status, 200);
    let mut r = h.req("POST", "/workers/importer/upload", None);
    r.files.insert("file".into(), h.upload("shell.php", b"<?php"));
    let resp = api::handle(h.engine(), h.rt.handle(), &host, &allow, &r);
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    assert!(resp.json_body().unwrap()["result"].as_str().unwrap().ends_with(".php"));
}

/// Issue 11 #6: a token holder cannot open chunked uploads without end.
fn open_chunked_uploads_are_capped_in_number_and_bytes(h: &H) {
    h.worker("importer", true);
    h.worker("other", true);
    let caps = ApiSettings {
        upload_max_open: 3,
        upload_max_open_per_worker: 2,
        upload_max_open_bytes: 10_000,
        upload_chunk_size: 1024,
        ..h.api.clone()
    };
    let host = TestHost { h };
    let start = |worker: &str, size: u64| {
        let r = h.req("POST", &format!("/workers/{worker}/uploads"), Some(json!({"filename": "a.csv", "size": size})));
        let resp = api::handle(h.engine(), h.rt.handle(), &host, &caps, &r);
        h.assert_clean(&resp);
        (resp.status, resp.json_body().unwrap(), resp.header("Retry-After").map(str::to_string))
    };
    let (status, first, _) = start("importer", 4000);
    assert_eq!(status, 200, "{first}");
    assert_eq!(start("importer", 10).0, 200);
    let (status, v, retry) = start("importer", 10);
    assert_eq!((status, v["error"].as_str()), (429, Some("Too many open uploads")), "per worker: {v}");
    assert!(v["message"].as_str().unwrap().contains("upload_max_open_per_worker") && retry.is_some(), "{v}");
    // The bytes the open uploads announced count against the cap.
    let (status, v, _) = start("other", 6000);
    assert_eq!((status, v["error"].as_str()), (507, Some("Insufficient Storage")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("upload_max_open_bytes"), "{v}");
    assert_eq!(start("other", 10).0, 200);
    let (status, v, _) = start("other", 10);
    assert_eq!(status, 429, "global: {v}");
    assert!(v["message"].as_str().unwrap().contains("stask.upload_max_open)"), "{v}");
    // A completed upload frees its slot.
    let id = first["upload_id"].as_str().unwrap().to_string();
    for i in 0..4u64 {
        let size = if i == 3 { 4000 - 3 * 1024 } else { 1024 };
        assert_eq!(h.post_file(&format!("/uploads/{id}/chunks/{i}"), h.upload("blob", &vec![7u8; size as usize])).0, 200);
    }
    assert_eq!(h.post(&format!("/uploads/{id}/complete"), json!({})).0, 200);
    assert_eq!(start("other", 10).0, 200);
}
