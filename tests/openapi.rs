//! docs/openapi.json against the implementation. Statically: every row of
//! the route table `ROUTES` is an operation of the document and every
//! operation a row (aliases marked as such), every operation documents
//! its errors with the `Error` schema, every `$ref` resolves. Dynamically
//! (on every backend, through `api::handle` as tests/api.rs drives it): a
//! scenario that reaches every route, successes and failures, and every
//! JSON body it gets back is validated against the schema the document
//! gives for that operation and status, every JSON request body it sends
//! against the documented request body. The validator is the `jsonschema`
//! crate on JSON Schema 2020-12, the dialect of OpenAPI 3.1, with formats
//! checked and integers strict (1.0 is not one); the keywords the document
//! may use are listed in `KEYWORDS` and the document is checked to use no
//! others (an OpenAPI 3.0 word such as `nullable` would pass unchecked).

#[macro_use]
mod common;

use common::*;
use serde_json::{json, Value};
use stask::engine::api::router::{self, ROUTES};
use stask::engine::api::{self, Auth, Body, Request, Response};
use stask::engine::config::ApiSettings;
use stask::engine::maintenance::scheduler::{Scheduler, SchedulerConfig};
use stask::engine::progress::ProgressDelta;
use stask::engine::query::Value as QValue;
use stask::engine::service::Attempt;
use stask::engine::worker::WorkerInfo;
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

fn doc() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

/// A route pattern (`tasks/{id}`) as a path of the document (`/tasks/{id}`).
fn doc_path(pattern: &str) -> String {
    format!("/{pattern}")
}

fn target<'a>(doc: &'a Value, r: &str) -> &'a Value {
    let p = r.strip_prefix('#').unwrap_or_else(|| panic!("only local $refs are used: {r}"));
    doc.pointer(p).unwrap_or_else(|| panic!("dangling $ref {r}"))
}

/// What a (chain of) `$ref` names.
fn deref<'a>(doc: &'a Value, mut v: &'a Value) -> &'a Value {
    while let Some(r) = v.get("$ref").and_then(Value::as_str) {
        v = target(doc, r);
    }
    v
}

/// Every operation of the document: (METHOD, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            out.push((method.to_ascii_uppercase(), path.clone(), op));
        }
    }
    out
}

fn params<'a>(doc: &'a Value, op: &'a Value, location: &str) -> Vec<&'a Value> {
    op.get("parameters")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|p| deref(doc, p)).filter(|p| p["in"] == location).collect())
        .unwrap_or_default()
}

fn path_names(path: &str) -> BTreeSet<String> {
    path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).map(String::from).collect()
}

// ---- JSON Schema 2020-12 -----------------------------------------------------

const KEYWORDS: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "$ref",
    "allOf",
    "anyOf",
    "oneOf",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "format",
    "pattern",
    // Annotations.
    "description",
    "default",
    "contentEncoding",
];

/// The keyword `strict_integers` adds beside every `"type": "integer"`:
/// JSON Schema counts 1.0 as an integer, but a count or an id the API turns
/// into a float is drift.
const STRICT_INTEGER: &str = "x-stask-strict-integer";

struct StrictInteger;

impl<'i> jsonschema::Keyword<'i> for StrictInteger {
    fn validate(&self, instance: &'i Value) -> Result<(), jsonschema::ValidationError<'i>> {
        if self.is_valid(instance) {
            Ok(())
        } else {
            Err(jsonschema::ValidationError::custom(format!("{instance} is a float, not an integer")))
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        // Other types are left to `type`, which may allow them (`["integer", "null"]`).
        !instance.is_f64()
    }
}

fn strict_integers(v: &mut Value) {
    match v {
        Value::Object(o) => {
            let integer = match o.get("type") {
                Some(Value::String(t)) => t == "integer",
                Some(Value::Array(ts)) => ts.iter().any(|t| t == "integer"),
                _ => false,
            };
            o.values_mut().for_each(strict_integers);
            if integer {
                o.insert(STRICT_INTEGER.into(), Value::Bool(true));
            }
        }
        Value::Array(a) => a.iter_mut().for_each(strict_integers),
        _ => {}
    }
}

thread_local! {
    /// Compiled validators by schema text: the scenario checks the same
    /// few dozen schemas hundreds of times.
    static VALIDATORS: RefCell<HashMap<String, Rc<jsonschema::Validator>>> = RefCell::default();
}

/// A validator for `schema`, a schema of the document: its `$ref`s
/// (`#/components/...`) point into the document, so the document's
/// components travel with it as part of the root. Nothing is fetched.
fn validator(doc: &Value, schema: &Value) -> Rc<jsonschema::Validator> {
    let key = schema.to_string();
    if let Some(v) = VALIDATORS.with(|c| c.borrow().get(&key).cloned()) {
        return v;
    }
    let mut root = schema.clone();
    let o = root.as_object_mut().expect("a schema is an object");
    o.insert("components".into(), doc["components"].clone());
    strict_integers(&mut root);
    let compiled = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .with_keyword(STRICT_INTEGER, |_, _, _| Ok(Box::new(StrictInteger)))
        .build(&root)
        .unwrap_or_else(|e| panic!("a schema of docs/openapi.json does not compile: {e}\n{schema}"));
    let compiled = Rc::new(compiled);
    VALIDATORS.with(|c| c.borrow_mut().insert(key, compiled.clone()));
    compiled
}

fn pointer_at(at: &str) -> &str {
    if at.is_empty() {
        "(the body)"
    } else {
        at
    }
}

/// Each problem of `v` against `s` as "JSON pointer: [keyword] what".
fn validate(doc: &Value, s: &Value, v: &Value) -> Vec<String> {
    validator(doc, s)
        .iter_errors(v)
        .map(|e| format!("{}: [{}] {e}", pointer_at(e.instance_path().as_str()), e.kind().keyword()))
        .collect()
}

// ---- the document itself ----------------------------------------------------

#[test]
fn every_route_is_an_operation_and_every_operation_a_route() {
    let doc = doc();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], "/stask");
    let bearer = &doc["components"]["securitySchemes"]["bearerAuth"];
    assert_eq!((bearer["type"].as_str(), bearer["scheme"].as_str()), (Some("http"), Some("bearer")));
    let mut problems = Vec::new();
    let mut table = BTreeSet::new();
    for def in ROUTES {
        let path = doc_path(def.pattern);
        table.insert((def.method.to_string(), path.clone()));
        let Some(op) = doc["paths"].get(&path).and_then(|p| p.get(def.method.to_ascii_lowercase())) else {
            problems.push(format!("{} {path} (ROUTES) is not in docs/openapi.json", def.method));
            continue;
        };
        let alias_of = op.get("x-stask-alias-of").and_then(Value::as_str);
        match (def.alias, alias_of) {
            (false, Some(a)) => {
                problems.push(format!("{} {path} is canonical in ROUTES but documented as an alias of {a}", def.method))
            }
            (true, None) => problems.push(format!("{} {path} is an alias in ROUTES but has no x-stask-alias-of", def.method)),
            (true, Some(a)) => {
                let (m, p) = a.split_once(' ').unwrap_or_else(|| panic!("x-stask-alias-of is `METHOD /path`: {a}"));
                let canonical = ROUTES.iter().find(|d| !d.alias && d.method == m && doc_path(d.pattern) == p);
                match canonical {
                    None => problems.push(format!("{} {path}: x-stask-alias-of {a} is not a canonical route", def.method)),
                    // An alias reaches its canonical route's handler, unless
                    // its route has no canonical row (identifier in the body).
                    Some(c) if c.route != def.route && ROUTES.iter().any(|d| !d.alias && d.route == def.route) => problems
                        .push(format!("{} {path} runs {:?}, its alias target {a} runs {:?}", def.method, def.route, c.route)),
                    Some(_) => {}
                }
                if op.get("deprecated") != Some(&Value::Bool(false)) {
                    problems.push(format!("{} {path}: an alias says `deprecated: false`", def.method));
                }
            }
            (false, None) => {}
        }
    }
    for (method, path, _) in operations(&doc) {
        if !table.contains(&(method.clone(), path.clone())) {
            problems.push(format!("{method} {path} is documented but not a row of ROUTES"));
        }
    }
    assert!(problems.is_empty(), "docs/openapi.json and ROUTES differ:\n  {}", problems.join("\n  "));
}

/// A response whose JSON schema is (or builds on) `Error`.
fn is_error_schema(doc: &Value, s: &Value) -> bool {
    if s.get("$ref").and_then(Value::as_str) == Some("#/components/schemas/Error") {
        return true;
    }
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        return is_error_schema(doc, target(doc, r));
    }
    ["allOf", "anyOf"]
        .iter()
        .any(|k| s.get(*k).and_then(Value::as_array).is_some_and(|a| a.iter().any(|b| is_error_schema(doc, b))))
}

#[test]
fn every_operation_documents_its_input_and_its_errors() {
    let doc = doc();
    let mut problems = Vec::new();
    let mut ids = BTreeSet::new();
    for (method, path, op) in operations(&doc) {
        let name = format!("{method} {path}");
        let id = op["operationId"].as_str().unwrap_or_default();
        if id.is_empty() || !ids.insert(id.to_string()) {
            problems.push(format!("{name}: operationId missing or not unique: {id:?}"));
        }
        let responses = op["responses"].as_object().expect("responses");
        let mut needed = vec!["200", "401", "413", "500", "503"];
        if path.contains("/{") {
            needed.extend(["400", "404"]);
        }
        let body = op.get("requestBody").map(|b| deref(&doc, b));
        if body.and_then(|b| b.pointer("/content/application~1json")).is_some() {
            needed.extend(["400", "422"]);
        }
        for status in needed {
            if !responses.contains_key(status) {
                problems.push(format!("{name}: no {status} response"));
            }
        }
        for (status, r) in responses {
            let r = deref(&doc, r);
            let content = r["content"].as_object().map(|c| c.len()).unwrap_or(0);
            if r["description"].as_str().unwrap_or("").is_empty() || content == 0 {
                problems.push(format!("{name} {status}: a response needs a description and content"));
            }
            if status.as_str() >= "400" {
                match r.pointer("/content/application~1json/schema") {
                    Some(s) if is_error_schema(&doc, s) => {}
                    _ => problems.push(format!("{name} {status}: the body is not documented as Error")),
                }
            }
        }
        let declared: BTreeSet<String> =
            params(&doc, op, "path").iter().filter_map(|p| p["name"].as_str()).map(String::from).collect();
        if declared != path_names(&path) {
            problems.push(format!("{name}: path parameters {declared:?} differ from the path's {:?}", path_names(&path)));
        }
        for p in params(&doc, op, "path") {
            if p["required"] != true || p["schema"].get("pattern").is_none() {
                problems.push(format!("{name}: path parameter {} must be required, with a pattern", p["name"]));
            }
        }
        if method == "GET" && body.is_some() {
            problems.push(format!("{name}: a GET with a request body"));
        }
    }
    assert!(problems.is_empty(), "docs/openapi.json:\n  {}", problems.join("\n  "));
}

fn walk_refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => walk_refs(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| walk_refs(x, out)),
        _ => {}
    }
}

fn schema_keywords(s: &Value, at: &str, problems: &mut Vec<String>) {
    let Some(o) = s.as_object() else {
        problems.push(format!("{at}: a schema is an object"));
        return;
    };
    for (k, x) in o {
        if !KEYWORDS.contains(&k.as_str()) {
            problems.push(format!("{at}: keyword `{k}` is not one tests/openapi.rs checks"));
        }
        match k.as_str() {
            "properties" => {
                x.as_object().into_iter().flatten().for_each(|(n, p)| schema_keywords(p, &format!("{at}/{n}"), problems))
            }
            "items" => schema_keywords(x, &format!("{at}/items"), problems),
            "additionalProperties" if x.is_object() => schema_keywords(x, &format!("{at}/*"), problems),
            "allOf" | "anyOf" | "oneOf" => {
                x.as_array().into_iter().flatten().for_each(|b| schema_keywords(b, &format!("{at}/{k}"), problems))
            }
            _ => {}
        }
    }
}

fn walk_schemas(v: &Value, at: &str, problems: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                if k == "schema" {
                    schema_keywords(x, &format!("{at}/schema"), problems);
                } else {
                    walk_schemas(x, &format!("{at}/{k}"), problems);
                }
            }
        }
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| walk_schemas(x, &format!("{at}/{i}"), problems)),
        _ => {}
    }
}

#[test]
fn refs_resolve_components_are_used_and_objects_are_strict() {
    let doc = doc();
    let mut problems = Vec::new();
    let mut refs = Vec::new();
    walk_refs(&doc, &mut refs);
    for r in &refs {
        if r.strip_prefix('#').and_then(|p| doc.pointer(p)).is_none() {
            problems.push(format!("dangling $ref {r}"));
        }
    }
    for kind in ["schemas", "responses", "parameters", "requestBodies"] {
        for name in doc["components"][kind].as_object().expect(kind).keys() {
            let r = format!("#/components/{kind}/{name}");
            if !refs.contains(&r.as_str()) {
                problems.push(format!("{r} is never used"));
            }
        }
    }
    for (name, s) in doc["components"]["schemas"].as_object().unwrap() {
        schema_keywords(s, &format!("#/components/schemas/{name}"), &mut problems);
        // Settings are open: their other keys belong to the worker.
        if s.get("properties").is_some() && name != "Settings" {
            let required = s["required"].as_array().map(|a| a.len()).unwrap_or(0);
            if required == 0 || s["additionalProperties"] != false {
                problems.push(format!("schema {name}: main objects list what is required and allow nothing else"));
            }
        }
    }
    walk_schemas(&doc["paths"], "#/paths", &mut problems);
    walk_schemas(&doc["components"]["parameters"], "#/components/parameters", &mut problems);
    walk_schemas(&doc["components"]["responses"], "#/components/responses", &mut problems);
    walk_schemas(&doc["components"]["requestBodies"], "#/components/requestBodies", &mut problems);
    assert!(problems.is_empty(), "docs/openapi.json:\n  {}", problems.join("\n  "));
}

#[test]
fn the_validator_finds_what_is_wrong() {
    let doc = doc();
    let task = json!({"$ref": "#/components/schemas/Task"});
    let errs = validate(&doc, &task, &json!({"id": 0, "status": 12, "extra": true}));
    let all = errs.join("\n");
    for expected in [
        "/id: [minimum] 0 is less than the minimum",
        "/status: [enum] 12 is not one of",
        "(the body): [additionalProperties]",
        "'extra' was unexpected",
        "(the body): [required] \"identifier\"",
    ] {
        assert!(all.contains(expected), "{expected} not in:\n{all}");
    }
    let error = json!({"$ref": "#/components/schemas/Error"});
    assert!(validate(&doc, &error, &json!({"success": false, "error": "E", "message": "m"})).is_empty());
    assert!(!validate(&doc, &error, &json!({"success": true, "error": "E", "message": "m"})).is_empty());
    assert!(!validate(&doc, &json!({"type": "integer"}), &json!(1.0)).is_empty());
    assert!(!validate(&doc, &json!({"type": "string", "format": "date-time"}), &json!("2025-01-15 10:00")).is_empty());
    let any = json!({"anyOf": [{"type": "null"}, {"type": "string"}]});
    assert!(validate(&doc, &any, &json!(null)).is_empty() && !validate(&doc, &any, &json!(1)).is_empty());
}

// ---- real responses ---------------------------------------------------------

/// Sends requests through `api::handle` and checks each exchange against
/// the document; remembers which rows of ROUTES were reached.
struct Checked<'a> {
    h: &'a H,
    doc: Value,
    reached: RefCell<BTreeSet<(&'static str, &'static str)>>,
}

fn segments_match(pattern: &str, path: &str) -> bool {
    let want: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let got: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    want.len() == got.len() && want.iter().zip(&got).all(|(w, g)| w.starts_with('{') || w == g)
}

impl<'a> Checked<'a> {
    fn new(h: &'a H) -> Self {
        Checked { h, doc: doc(), reached: RefCell::default() }
    }

    fn send_with(&self, req: &Request, settings: &ApiSettings) -> Response {
        let host = TestHost { h: self.h };
        let resp = api::handle(self.h.engine(), self.h.rt.handle(), &host, settings, req);
        self.check_exchange(req, &resp);
        resp
    }

    fn send(&self, req: &Request) -> Response {
        self.send_with(req, &self.h.api)
    }

    /// `path` may carry a query string; a body is sent as JSON.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let (p, q) = path.split_once('?').unwrap_or((path, ""));
        let mut r = self.h.req(method, p, body);
        for pair in q.split('&').filter(|s| !s.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            r.query.insert(k.to_string(), Value::String(v.to_string()));
        }
        let resp = self.send(&r);
        (resp.status, resp.json_body().unwrap_or(Value::Null))
    }

    fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, None)
    }

    fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call("POST", path, Some(body))
    }

    /// A POST without a body (routes that read none).
    fn post0(&self, path: &str) -> (u16, Value) {
        self.call("POST", path, None)
    }

    fn file(&self, path: &str, name: &str, content: &[u8]) -> (u16, Value) {
        let mut r = self.h.req("POST", path, None);
        r.files.insert("file".into(), self.h.upload(name, content));
        let resp = self.send(&r);
        (resp.status, resp.json_body().unwrap_or(Value::Null))
    }

    fn fail(&self, req: &Request, resp: &Response, what: String) -> ! {
        let body = match &resp.body {
            Body::Text(t) => t.clone(),
            Body::File(f) => format!("<file {}>", f.display()),
        };
        panic!("{} {} → {}: {what}\nresponse body: {body}", req.method, req.path, resp.status)
    }

    fn check_exchange(&self, req: &Request, resp: &Response) {
        let doc = &self.doc;
        let routed = router::resolve(&req.method, &req.path).ok();
        let row = routed.as_ref().and_then(|(route, _)| {
            let def = ROUTES.iter().find(|d| d.method == req.method && segments_match(d.pattern, &req.path));
            if let Some(d) = def {
                assert_eq!(d.route, *route, "{} {}: the test's matcher disagrees with the router", req.method, req.path);
            }
            def
        });
        let fallback = json!({"description": "no operation", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
        let (spec, op) = match row {
            Some(def) => {
                self.reached.borrow_mut().insert((def.method, def.pattern));
                let path = doc_path(def.pattern);
                let op = doc["paths"][&path]
                    .get(def.method.to_ascii_lowercase())
                    .unwrap_or_else(|| self.fail(req, resp, format!("{} {path} is not in the document", def.method)));
                let key = resp.status.to_string();
                let spec = op["responses"]
                    .get(&key)
                    .unwrap_or_else(|| self.fail(req, resp, format!("status {key} is not documented for {} {path}", def.method)));
                (deref(doc, spec).clone(), Some(op))
            }
            // Unknown path, other method (405), a path the router refuses:
            // no operation, but still the Error shape.
            None if resp.status >= 400 => (fallback, None),
            None => self.fail(req, resp, "a success for a request that matches no route".into()),
        };
        let ct = resp.header("Content-Type").unwrap_or("");
        match &resp.body {
            Body::Text(t) if ct.starts_with("application/json") => {
                let Some(schema) = spec.pointer("/content/application~1json/schema") else {
                    self.fail(req, resp, "the document gives no JSON body for this status".into())
                };
                let v: Value = serde_json::from_str(t).unwrap_or_else(|e| self.fail(req, resp, format!("not JSON: {e}")));
                let errs = validate(doc, schema, &v);
                if !errs.is_empty() {
                    self.fail(req, resp, format!("the body does not match docs/openapi.json:\n  {}", errs.join("\n  ")));
                }
            }
            _ => {
                if spec["content"].get(ct).is_none() {
                    self.fail(req, resp, format!("Content-Type {ct:?} is not documented for this status"));
                }
            }
        }
        if let (Some(op), true) = (op, (200..300).contains(&resp.status)) {
            self.check_request(req, resp, op);
        }
    }

    /// What a successful request sent is what the operation documents.
    fn check_request(&self, req: &Request, resp: &Response, op: &Value) {
        let doc = &self.doc;
        let query: BTreeSet<&str> = params(doc, op, "query").iter().filter_map(|p| p["name"].as_str()).collect();
        for k in req.query.keys() {
            if !query.contains(k.as_str()) {
                self.fail(req, resp, format!("query parameter `{k}` is not documented"));
            }
        }
        let body = op.get("requestBody").map(|b| deref(doc, b));
        if !req.files.is_empty() {
            let documented = body.and_then(|b| b.pointer("/content/multipart~1form-data/schema/properties/file")).is_some();
            if !documented {
                self.fail(req, resp, "a file upload that the operation does not document".into());
            }
        }
        if req.body.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let Some(schema) = body.and_then(|b| b.pointer("/content/application~1json/schema")) else {
            self.fail(req, resp, "a JSON request body that the operation does not document".into())
        };
        let sent: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let errs = validate(doc, schema, &sent);
        if !errs.is_empty() {
            self.fail(req, resp, format!("the request body does not match docs/openapi.json:\n  {}", errs.join("\n  ")));
        }
    }

    fn assert_every_route_reached(&self) {
        let reached = self.reached.borrow();
        let missing: Vec<String> = ROUTES
            .iter()
            .filter(|d| !reached.contains(&(d.method, d.pattern)))
            .map(|d| format!("{} /{}", d.method, d.pattern))
            .collect();
        assert!(
            missing.is_empty(),
            "the scenario never reaches these routes, so their responses go unchecked:\n  {}",
            missing.join("\n  ")
        );
    }
}

suite!(real_responses_match_the_document, a_response_that_breaks_the_document_fails_the_check);

/// The check refuses drift: a real response, changed the way a regression
/// would change it, fails it with the problem named.
fn a_response_that_breaks_the_document_fails_the_check(h: &H) {
    let c = Checked::new(h);
    let req = h.req("GET", "/stats", None);
    let real = c.send(&req);
    let body = real.json_body().expect("a JSON body");
    let refusal = |changed: Value| -> String {
        let resp = Response::json(real.status, &changed);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| c.check_exchange(&req, &resp)));
        let why = outcome.expect_err("a body that breaks docs/openapi.json passed the check");
        why.downcast_ref::<String>().cloned().unwrap_or_default()
    };
    let mut wrong_type = body.clone();
    wrong_type["total"] = json!("12");
    assert!(refusal(wrong_type).contains("/total: [type]"));
    let mut undocumented = body.clone();
    undocumented["surprise"] = json!(1);
    assert!(refusal(undocumented).contains("'surprise' was unexpected"));
    let mut missing = body.clone();
    missing.as_object_mut().unwrap().remove("pending");
    assert!(refusal(missing).contains("[required] \"pending\""));
    let mut float = body.clone();
    float["total"] = json!(12.0);
    assert!(refusal(float).contains(&format!("/total: [{STRICT_INTEGER}]")));
    // The unchanged body still passes: the refusals are about the changes.
    c.check_exchange(&req, &Response::json(real.status, &body));
}

fn real_responses_match_the_document(h: &H) {
    let c = Checked::new(h);
    h.worker("product", true);
    h.worker("idle", false);
    api_and_statistics(&c);
    let done = tasks_run_by_the_engine(&c);
    workers_settings_and_schedules(&c);
    uploads(&c);
    failures(&c, done);
    documented_query_parameters_are_read(&c);
    let (status, v) = c.post("/clean", json!({"days": 0}));
    assert_eq!(status, 200, "{v}");
    c.assert_every_route_reached();
}

fn api_and_statistics(c: &Checked) {
    let (status, v) = c.get("/");
    assert_eq!(status, 200);
    // The index lists exactly the canonical operations of the document.
    let listed: BTreeSet<String> = v["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r["method"].as_str().unwrap(), r["path"].as_str().unwrap().trim_start_matches("/stask")))
        .collect();
    let canonical: BTreeSet<String> = operations(&c.doc)
        .into_iter()
        .filter(|(_, _, op)| op.get("x-stask-alias-of").is_none())
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    assert_eq!(listed, canonical, "GET / and the document list different canonical routes");
    for path in ["/stats", "/stats/timeline?hours=3", "/health", "/metrics", "/server-limits", "/cache/stats", "/processes"] {
        assert_eq!(c.get(path).0, 200, "{path}");
    }
    // A worker loop registered: the registry, health and metrics count it.
    let live = c.h.wait(c.h.engine().process_start()).unwrap();
    let (_, v) = c.get("/processes");
    assert_eq!((v["alive"].as_i64(), v["processes"][0]["alive"].as_bool()), (Some(1), Some(true)), "{v}");
    assert_eq!(v["processes"][0]["pid"].as_i64(), Some(std::process::id() as i64));
    assert_eq!(c.get("/health").1["processes"]["alive"], 1);
    c.h.wait(live.stop());
    assert_eq!(c.get("/processes").1["processes"], json!([]));
    assert_eq!(c.post("/cache/clear", json!({"identifier": "product"})).0, 200);
    assert_eq!(c.post("/cache/clear", json!({})).0, 200);
}

/// Tasks created through the API and run by the engine, so progress,
/// results, failures and downloads exist. Returns a completed task.
fn tasks_run_by_the_engine(c: &Checked) -> i64 {
    let h = c.h;
    let (status, v) = c.post(
        "/tasks",
        json!({"identifier": "product", "action": "export", "data": {"format": "csv"}, "priority": "high", "max_attempts": 2}),
    );
    assert_eq!(status, 200, "{v}");
    let done = v["task"]["id"].as_i64().unwrap();
    let (_, v) = c.post("/task", json!({"identifier": "product", "action": "import", "max_attempts": 1}));
    let failing = v["task"]["id"].as_i64().unwrap();
    let (_, v) = c.post(
        "/task/store",
        json!({"identifier": "product", "action": "import", "priority": 1, "start_at": "2020-01-01T00:00:00Z"}),
    );
    let waiting = v["task"]["id"].as_i64().unwrap();
    assert_eq!(c.get(&format!("/tasks/{waiting}/progress")).0, 200, "queued tasks have progress");

    // Running, with progress reported.
    let task = h.wait(h.engine().claim_one(done)).unwrap().expect("claimed");
    h.engine().progress_begin(&task);
    let delta = ProgressDelta {
        processed: Some(5),
        total: Some(10),
        progress: Some(50),
        message: Some("Exporting…".into()),
        ..Default::default()
    };
    h.wait(h.engine().progress_push(done, &delta)).unwrap();
    let (_, v) = c.get(&format!("/tasks/{done}/progress"));
    assert_eq!((v["status"].as_str(), v["processed"].as_i64()), (Some("running"), Some(5)), "{v}");
    assert_eq!(c.get(&format!("/task/{done}/progress")).0, 200);
    assert_eq!(c.get("/tasks?status=running").1["pagination"]["total"], 1);
    assert_eq!(c.get(&format!("/tasks/{done}")).0, 200);
    let o = h.engine().outcome(&task, Attempt::Returned, 0.4, 2048, 1.0);
    h.wait(h.engine().finish(&[o])).unwrap();
    std::fs::create_dir_all(h.storage().join("exports")).unwrap();
    std::fs::write(h.storage().join("exports/report.csv"), b"sku\n1\n").unwrap();
    h.set(done, &[("result", QValue::Text(json!("exports/report.csv").to_string()))]);

    // Failed for good (one attempt).
    let task = h.wait(h.engine().claim_one(failing)).unwrap().expect("claimed");
    let threw = Attempt::Threw { class: "RuntimeException".into(), message: "boom".into() };
    let o = h.engine().outcome(&task, threw, 0.1, 1024, 1.0);
    h.wait(h.engine().finish(&[o])).unwrap();

    let (_, v) = c.get(&format!("/tasks/{done}"));
    assert!(v["task"]["download_url"].is_string(), "{v}");
    assert_eq!(c.get(&format!("/task/{failing}")).1["task"]["status_text"], "failed");
    for path in [format!("/tasks/{done}/download"), format!("/task/{done}/download")] {
        assert_eq!(c.send(&h.req("GET", &path, None)).status, 200, "{path}");
    }
    let lists = [
        "/tasks",
        "/tasks?status=completed,failed&identifier=product&priority=high,normal&from=2000-01-01&to=2100-01-01T00:00:00Z&sort=created_at&dir=asc&page=1&per_page=5",
        "/tasks?worker=product&action=import&direction=asc&sort=duration",
    ];
    for path in lists {
        let (status, v) = c.get(path);
        assert_eq!(status, 200, "{path}: {v}");
    }
    for path in ["/performance/summary?hours=48", "/performance/workers?identifier=product", "/performance/alerts", "/stats"] {
        assert_eq!(c.get(path).0, 200, "{path}");
    }
    let (_, v) = c.get("/performance/alerts");
    assert!(!v["alerts"].as_array().unwrap().is_empty(), "one of two finished tasks failed: {v}");
    // Retry and cancel through both paths.
    for (path, status) in [
        (format!("/tasks/{failing}/retry"), 10),
        (format!("/task/{failing}/cancel"), 50),
        (format!("/task/{failing}/retry"), 10),
        (format!("/tasks/{failing}/cancel"), 50),
    ] {
        let (s, v) = c.post0(&path);
        assert_eq!((s, v["status"].as_i64()), (200, Some(status)), "{path}: {v}");
    }
    // The bulk forms: retry by the list's filters, cancel by ids.
    let (s, v) =
        c.post("/tasks/retry", json!({"status": ["cancelled"], "identifier": "product", "to": "2100-01-01", "limit": 10}));
    assert_eq!((s, v["retried_ids"].clone()), (200, json!([failing])), "{v}");
    let (s, v) = c.post("/tasks/cancel", json!({"ids": [failing, done, 999_999], "_token": "csrf"}));
    assert_eq!(
        (s, v["cancelled_ids"].clone(), v["not_cancelled"].as_array().map(Vec::len)),
        (200, json!([failing]), Some(2)),
        "{v}"
    );
    // Starting worker actions, both paths.
    let (status, v) = c.post("/workers/product/tasks/import", json!({"force": true, "_token": "csrf"}));
    assert_eq!(status, 200, "{v}");
    assert_eq!(c.post("/worker/product/run/export", json!({"options": {"format": "xlsx"}})).0, 200);
    done
}

fn workers_settings_and_schedules(c: &Checked) {
    let h = c.h;
    for path in ["/workers", "/workers?active=true", "/workers/product", "/worker/product", "/workers/product/widget"] {
        assert_eq!(c.get(path).0, 200, "{path}");
    }
    for (path, body) in [
        ("/workers/idle/activate", None),
        ("/worker/idle/deactivate", None),
        ("/worker/idle/activate", None),
        ("/workers/idle/deactivate", None),
        ("/worker/activate", Some(json!({"identifier": "idle"}))),
        ("/worker/deactivate", Some(json!({"identifier": "idle"}))),
    ] {
        let (status, v) = c.call("POST", path, body);
        assert_eq!(status, 200, "{path}: {v}");
    }
    assert_eq!(c.get("/workers/product/settings").0, 200);
    let settings = json!({"allowed_extensions": ["csv", "txt"], "timeout": 60, "batch": 100});
    assert_eq!(c.call("PUT", "/workers/product/settings", Some(settings.clone())).0, 200);
    let (status, v) = c.post("/workers/product/settings", json!({"settings": settings}));
    assert_eq!(status, 200, "{v}");
    assert_eq!(c.get("/workers/product/schedule").0, 200);
    let weekly =
        json!({"type": "periodic", "enabled": true, "time": "9:05", "frequency": "weekly", "days": ["Friday", "monday"]});
    assert_eq!(c.call("PUT", "/workers/product/schedule", Some(weekly)).0, 200);
    let regular = json!({"schedule": {"type": "regular", "start_time": "22:00", "end_time": "02:00", "interval": "every_15min"}});
    assert_eq!(c.post("/workers/product/schedule", regular).0, 200);
    assert_eq!(c.get("/workers/product").1["worker"]["schedule"]["interval"], "every_15min");
    let cron = json!({"type": "cron", "enabled": true, "expression": "*/15 9-17 * * MON-FRI", "missed": "run_once"});
    let (status, v) = c.call("PUT", "/workers/product/schedule", Some(cron));
    assert_eq!((status, v["next_run"].is_string()), (200, true), "{v}");
    // Once the scheduler created a slot's task, the worker shows it.
    c.h.worker("nightly", true);
    let cron = json!({"type": "cron", "enabled": true, "expression": "*/15 9-17 * * MON-FRI"});
    assert_eq!(c.call("PUT", "/workers/nightly/schedule", Some(cron)).0, 200);
    let config = SchedulerConfig { timezone: chrono_tz::Tz::UTC, grace: std::time::Duration::from_secs(120) };
    let slot = chrono::DateTime::parse_from_rfc3339("2026-06-01T09:15:20Z").unwrap().with_timezone(&chrono::Utc);
    let report = c.h.wait(Scheduler::new(c.h.engine(), config).run_once(slot)).unwrap();
    // `product` has the same cron schedule and fires too.
    let nightly = report.created.iter().find(|(w, _, _)| w == "nightly").unwrap_or_else(|| panic!("{report:?}")).2;
    for path in ["/workers/nightly", "/workers"] {
        let (_, v) = c.get(path);
        let w = match v["workers"].as_array() {
            Some(all) => all.iter().find(|w| w["identifier"] == "nightly").unwrap().clone(),
            None => v["worker"].clone(),
        };
        assert_eq!(w["last_scheduled"]["slot"], "2026-06-01T09:15:00Z", "{v}");
        assert_eq!(w["last_scheduled"]["task_id"], nightly);
    }
    // Discovery and orphans go through the host.
    assert_eq!(c.post0("/workers/discover").1["discovered"], 2);
    assert_eq!(c.post0("/workers/rescan").0, 200);
    let gone = WorkerInfo {
        identifier: "gone".into(),
        scope: "tests".into(),
        class: "Gone\\Worker".into(),
        title: "Gone".into(),
        description: String::new(),
        icon: String::new(),
    };
    h.wait(h.engine().register_worker(&gone)).unwrap();
    assert_eq!(c.post0("/workers/clean-orphans").1["deleted"], 1);
    assert_eq!(c.post0("/worker/clean-orphaned").1["deleted"], 0);
}

fn uploads(c: &Checked) {
    let h = c.h;
    let pending = h.task("product", "import");
    for path in [format!("/tasks/{pending}/upload"), format!("/task/{pending}/upload")] {
        let (status, v) = c.file(&path, "Products.csv", b"sku,qty\n1,2\n");
        assert_eq!(status, 200, "{path}: {v}");
    }
    for path in ["/workers/product/upload", "/worker/product/upload"] {
        assert_eq!(c.file(path, "notes.txt", b"hello").0, 200, "{path}");
    }
    let (status, v) = c.post("/workers/product/uploads", json!({"filename": "big.csv", "size": 1500}));
    assert_eq!(status, 200, "{v}");
    let id = v["upload_id"].as_str().unwrap().to_string();
    assert_eq!(c.file(&format!("/uploads/{id}/chunks/0"), "blob", &[b'a'; 1024]).0, 200);
    let (status, v) = c.post0(&format!("/uploads/{id}/complete"));
    assert_eq!((status, v["missing_chunks"].clone()), (409, json!([1])), "{v}");
    assert_eq!(c.file(&format!("/uploads/{id}/chunks/1"), "blob", &[b'b'; 476]).0, 200);
    let (status, v) = c.post0(&format!("/uploads/{id}/complete"));
    assert_eq!((status, v["file_size"].as_i64()), (200, Some(1500)), "{v}");
    assert_eq!(c.post0(&format!("/uploads/{id}/complete")).0, 404);
    assert_eq!(c.post("/uploads/not-an-id/complete", json!({})).0, 400);
    let (status, v) = c.file("/workers/product/upload", "shell.php", b"<?php");
    assert_eq!((status, v["error"].as_str()), (422, Some("Invalid file type")), "{v}");
    assert_eq!(c.post("/workers/product/uploads", json!({"filename": "a.csv", "size": 1_000_000_000})).0, 413);
    assert_eq!(c.file("/workers/idle/upload", "a.csv", b"x").0, 409);
    assert_eq!(c.call("POST", &format!("/tasks/{pending}/upload"), None).0, 400, "no file");
    // Executable types in the settings; caps on open chunked uploads (429, 507).
    let (status, v) = c.call("PUT", "/workers/product/settings", Some(json!({"allowed_extensions": ["phtml"]})));
    assert_eq!((status, v["extension"].as_str()), (422, Some("phtml")), "{v}");
    let capped = ApiSettings { upload_max_open: 1, upload_max_open_bytes: 2000, ..h.api.clone() };
    let start = |size: u64| {
        let r = h.req("POST", "/workers/product/uploads", Some(json!({"filename": "a.csv", "size": size})));
        let resp = c.send_with(&r, &capped);
        (resp.status, resp.json_body().unwrap_or(Value::Null))
    };
    assert_eq!(start(2001).0, 507);
    let (status, v) = start(100);
    assert_eq!(status, 200, "{v}");
    assert_eq!(start(100).0, 429);
}

fn failures(c: &Checked, done: i64) {
    let h = c.h;
    // Authentication (before routing) and a server without a token.
    let mut bearer = Request::new("GET", "/tasks", Auth::Bearer);
    assert_eq!(c.send(&bearer).status, 401);
    bearer.headers.insert("authorization".into(), format!("Bearer {TOKEN}"));
    assert_eq!(c.send(&bearer).status, 200);
    assert_eq!(c.send(&Request::new("GET", "/nope", Auth::Bearer)).status, 401);
    let open = ApiSettings { token: None, ..h.api.clone() };
    assert_eq!(c.send_with(&Request::new("GET", "/stats", Auth::Bearer), &open).status, 503);
    // Routing.
    assert_eq!(c.get("/nope").0, 404);
    let r = c.send(&h.req("DELETE", "/tasks", None));
    assert_eq!((r.status, r.header("Allow")), (405, Some("GET, POST")));
    assert_eq!(c.get("/tasks/%zz").0, 400);
    // Bodies.
    let mut big = h.req("POST", "/tasks", None);
    big.body = vec![b' '; (h.api.max_body + 1) as usize];
    assert_eq!(c.send(&big).status, 413);
    let mut broken = h.req("POST", "/tasks", None);
    broken.body = b"{\"identifier\": ".to_vec();
    broken.headers.insert("content-type".into(), "application/json".into());
    assert_eq!(c.send(&broken).status, 400);
    let (status, v) = c.post("/tasks", json!({"identifier": "product", "action": "x", "colour": "red"}));
    assert_eq!((status, v["field"].as_str()), (422, Some("colour")), "{v}");
    // Task ids and states.
    for path in ["/tasks/abc", "/tasks/0/progress", "/task/-1/download"] {
        let (status, v) = c.get(path);
        assert_eq!((status, v["error"].as_str()), (400, Some("Invalid task ID")), "{path}: {v}");
    }
    assert_eq!(c.get("/tasks/999999").0, 404);
    let (status, v) = c.get("/tasks/999999/progress");
    assert_eq!((status, v["status"].as_str()), (404, Some("not_found")), "{v}");
    assert_eq!(c.post(&format!("/tasks/{done}/cancel"), json!({})).0, 409);
    assert_eq!(c.post(&format!("/tasks/{done}/retry"), json!({})).0, 409);
    let (status, v) = c.post("/tasks/retry", json!({"status": "completed"}));
    assert_eq!((status, v["field"].as_str()), (422, Some("status")), "{v}");
    let (status, v) = c.post("/tasks/cancel", json!({"ids": []}));
    assert_eq!((status, v["field"].as_str()), (422, Some("ids")), "{v}");
    let mut broken = h.req("POST", "/tasks/cancel", None);
    broken.body = b"{\"ids\": [".to_vec();
    assert_eq!(c.send(&broken).status, 400);
    let pending = h.task("product", "export");
    assert_eq!(c.get(&format!("/tasks/{pending}/download")).0, 400);
    let bare = h.task("product", "export");
    h.set(bare, &[("status", QValue::Int(30))]);
    assert_eq!(c.get(&format!("/task/{bare}/download")).1["error"], "Export file not found");
    // Workers.
    assert_eq!(c.get("/workers/ghost").0, 404);
    assert_eq!(c.post("/worker/activate", json!({})).0, 422);
    assert_eq!(c.post("/workers/idle/tasks/run", json!({})).0, 409);
    assert_eq!(c.post("/workers/product/tasks/missing", json!({})).0, 404);
    assert_eq!(c.post("/workers/product/tasks/bad%20name", json!({})).0, 400);
    assert_eq!(c.call("PUT", "/workers/product/schedule", Some(json!({"type": "cron"}))).0, 422);
    assert_eq!(c.call("PUT", "/workers/product/settings", Some(json!({"timeout": -1}))).0, 422);
    assert_eq!(c.post("/clean", json!({"days": -1})).0, 422);
    // An unwritable storage folder: 503 with the health keys.
    use std::os::unix::fs::PermissionsExt;
    let storage = h.storage();
    std::fs::set_permissions(&storage, std::fs::Permissions::from_mode(0o555)).unwrap();
    let (status, v) = c.get("/health");
    std::fs::set_permissions(&storage, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!((status, v["storage"]["ok"].as_bool()), (503, Some(false)), "{v}");
}

/// Each query parameter the document gives a type, enum, pattern or
/// format is really read: a wrong value is a 422 naming it.
fn documented_query_parameters_are_read(c: &Checked) {
    let doc = c.doc.clone();
    let mut tried = 0;
    for (method, path, op) in operations(&doc) {
        for p in params(&doc, op, "query") {
            let s = &p["schema"];
            let constrained = s["type"] != "string" || ["enum", "pattern", "format"].iter().any(|k| s.get(*k).is_some());
            if !constrained {
                continue;
            }
            assert!(method == "GET" && !path.contains('{'), "{method} {path}: query parameters on a GET without path parameters");
            let name = p["name"].as_str().unwrap();
            let (status, v) = c.get(&format!("{path}?{name}=bogus!"));
            let field = p.get("x-stask-alias-of").and_then(Value::as_str).unwrap_or(name);
            assert_eq!((status, v["field"].as_str()), (422, Some(field)), "{path}?{name}=bogus!: {v}");
            tried += 1;
        }
    }
    assert!(tried >= 12, "only {tried} query parameters were tried");
}
