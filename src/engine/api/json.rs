//! Errors and input of the API. Every failure becomes
//! `{"success": false, "error": <title>, "message": <text>}` with a 4xx/5xx
//! status; engine errors are mapped here, once, and server-side failures
//! are reported without paths or database details (they are logged).

use crate::engine::api::{Request, Response};
use crate::engine::Error;
use serde_json::{json, Map, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub error: String,
    pub message: String,
    /// Extra keys of the body (the seed's progress errors carry code, id, status).
    pub extra: Map<String, Value>,
    pub headers: Vec<(String, String)>,
}

impl ApiError {
    pub fn new(status: u16, error: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError { status, error: error.into(), message: message.into(), extra: Map::new(), headers: Vec::new() }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "Bad Request", message)
    }

    pub fn invalid(field: &str, reason: impl std::fmt::Display) -> ApiError {
        ApiError::new(422, "Validation failed", format!("invalid {field}: {reason}")).with("field", json!(field))
    }

    pub fn not_found(what: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::new(404, what, message)
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(409, "Conflict", message)
    }

    pub fn with(mut self, key: &str, v: Value) -> ApiError {
        self.extra.insert(key.to_string(), v);
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> ApiError {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn into_response(self) -> Response {
        let mut body = Map::new();
        body.insert("success".into(), Value::Bool(false));
        body.insert("error".into(), Value::String(self.error));
        body.insert("message".into(), Value::String(self.message));
        for (k, v) in self.extra {
            body.insert(k, v);
        }
        let mut r = Response::json(self.status, &Value::Object(body));
        r.headers.extend(self.headers);
        r
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match &e {
            Error::InvalidArgument { field, .. } => {
                ApiError::new(422, "Validation failed", capitalize(&e.to_string())).with("field", json!(field))
            }
            Error::TaskNotFound(id) => ApiError::not_found("Task not found", format!("Task #{id} does not exist")),
            Error::WorkerNotFound(i) => ApiError::not_found("Worker not found", format!("Worker '{i}' is not registered")),
            Error::InvalidTransition { .. } => ApiError::conflict(capitalize(&e.to_string())),
            Error::Store(s) => {
                tracing::warn!("stask api: {e}");
                match s.kind() {
                    crate::engine::store::StoreErrorKind::Unavailable | crate::engine::store::StoreErrorKind::Busy => {
                        ApiError::new(503, "Service Unavailable", "The task database is not reachable; try again shortly")
                            .header("Retry-After", "5")
                    }
                    _ => ApiError::new(500, "Server Error", "The task database reported an error"),
                }
            }
            Error::Connect { .. } => {
                tracing::warn!("stask api: {e}");
                ApiError::new(503, "Service Unavailable", "The task database is not reachable; try again shortly")
                    .header("Retry-After", "5")
            }
            // Both can name files and settings of the server: logged only.
            Error::Configuration(_) => {
                tracing::warn!("stask api: {e}");
                ApiError::new(500, "Server Error", "The task manager is not configured correctly")
            }
            _ => {
                tracing::warn!("stask api: {e}");
                ApiError::new(500, "Server Error", "The task manager could not complete the request")
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// `{"success": true, ...fields}`.
pub fn ok(fields: Value) -> Response {
    ok_status(200, fields)
}

pub fn ok_status(status: u16, fields: Value) -> Response {
    let mut body = Map::new();
    body.insert("success".into(), Value::Bool(true));
    if let Value::Object(m) = fields {
        for (k, v) in m {
            body.insert(k, v);
        }
    }
    Response::json(status, &Value::Object(body))
}

/// The request's input object: the form fields of a form or multipart
/// request, else the JSON body (any other content type is read as JSON, as
/// clients often omit it), else the form fields an adapter passed.
pub fn body(req: &Request) -> ApiResult<Input> {
    let ct = req.header("content-type").unwrap_or("").to_ascii_lowercase();
    let is_form = ct.contains("x-www-form-urlencoded") || ct.contains("multipart/form-data");
    let blank = req.body.iter().all(|b| b.is_ascii_whitespace());
    if !blank && !is_form {
        let v: Value = serde_json::from_slice(&req.body).map_err(|e| {
            ApiError::new(
                400,
                "Malformed JSON",
                format!("the request body is not valid JSON ({} at line {})", kind(&e), e.line()),
            )
        })?;
        return match v {
            Value::Object(m) => Ok(Input(m)),
            Value::Array(a) if a.is_empty() => Ok(Input(Map::new())),
            other => Err(ApiError::new(
                422,
                "Validation failed",
                format!("the request body must be a JSON object, got {}", type_name(&other)),
            )),
        };
    }
    Ok(Input(req.form.clone()))
}

fn kind(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Eof => "unexpected end",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "bad data",
        serde_json::error::Category::Io => "read error",
    }
}

pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Named, typed access to an input object (JSON body, form or query). Form
/// and query values arrive as strings, so numbers and booleans are also
/// accepted in their string spelling.
#[derive(Debug, Clone, Default)]
pub struct Input(pub Map<String, Value>);

impl Input {
    pub fn from_query(req: &Request) -> Input {
        Input(req.query.clone())
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn str(&self, key: &str) -> ApiResult<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            // No column can hold NUL on PostgreSQL; refused alike everywhere.
            Some(Value::String(s)) if s.contains('\0') => Err(ApiError::invalid(key, "must not contain a NUL byte")),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            // A number where a name belongs is a client bug, not a name:
            // `"identifier": 5` is refused rather than stored as "5".
            Some(other) => Err(ApiError::invalid(key, format!("expected a string, got {}", type_name(other)))),
        }
    }

    /// A non-empty string (trimmed).
    pub fn required_str(&self, key: &str) -> ApiResult<String> {
        match self.str(key)? {
            Some(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            _ => Err(ApiError::invalid(key, "is required")),
        }
    }

    pub fn int(&self, key: &str) -> ApiResult<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => {
                int_of(v).map(Some).ok_or_else(|| ApiError::invalid(key, format!("expected an integer, got {}", describe(v))))
            }
        }
    }

    /// An integer within `range`, or `default` when absent.
    pub fn int_in(&self, key: &str, default: i64, range: std::ops::RangeInclusive<i64>) -> ApiResult<i64> {
        let v = self.int(key)?.unwrap_or(default);
        if !range.contains(&v) {
            return Err(ApiError::invalid(key, format!("must be between {} and {}, got {v}", range.start(), range.end())));
        }
        Ok(v)
    }

    pub fn bool(&self, key: &str) -> ApiResult<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => {
                bool_of(v).map(Some).ok_or_else(|| ApiError::invalid(key, format!("expected a boolean, got {}", describe(v))))
            }
        }
    }

    /// A list of strings: a JSON array, or a comma-separated string.
    pub fn list(&self, key: &str) -> ApiResult<Option<Vec<String>>> {
        let has_nul = |v: &Value| matches!(v, Value::String(s) if s.contains('\0'));
        if self.get(key).is_some_and(|v| has_nul(v) || v.as_array().is_some_and(|a| a.iter().any(has_nul))) {
            return Err(ApiError::invalid(key, "must not contain a NUL byte"));
        }
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect())),
            Some(Value::Number(n)) => Ok(Some(vec![n.to_string()])),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.trim().to_string()),
                    Value::Number(n) => Ok(n.to_string()),
                    other => Err(ApiError::invalid(key, format!("expected strings, got {}", type_name(other)))),
                })
                .collect::<ApiResult<Vec<_>>>()
                .map(Some),
            Some(other) => Err(ApiError::invalid(key, format!("expected a list, got {}", type_name(other)))),
        }
    }
}

pub fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

pub fn bool_of(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "on" | "yes" => Some(true),
            "0" | "false" | "off" | "no" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A value for an error message: short, never a whole document.
pub fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let short: String = s.chars().take(40).collect();
            format!("\"{short}\"")
        }
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => type_name(other).to_string(),
    }
}

/// A positive id from a path segment or input value.
pub fn parse_id(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > 18 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse::<i64>().ok().filter(|id| *id > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_positive_decimal_integers_only() {
        assert_eq!(parse_id("5"), Some(5));
        for bad in ["0", "-1", "abc", "1e3", "", "99999999999999999999", "5 ", "0x10"] {
            assert_eq!(parse_id(bad.trim_end_matches(' ')).filter(|_| !bad.ends_with(' ')), None, "{bad}");
        }
    }

    #[test]
    fn form_strings_count_as_numbers_and_booleans() {
        let i = Input(serde_json::from_str(r#"{"a":"12","b":"true","c":"x","d":1.0}"#).unwrap());
        assert_eq!(i.int("a").unwrap(), Some(12));
        assert_eq!(i.bool("b").unwrap(), Some(true));
        assert!(i.int("c").is_err());
        assert_eq!(i.int("d").unwrap(), Some(1));
    }
}
