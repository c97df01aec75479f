//! Task rows and what creating one takes.

pub mod state;

pub use state::{status_text, Edge, Priority, Status};

use crate::engine::time::{self, Timestamp};
use crate::engine::value::Value;

/// Every column of `{prefix}s_tasks`: the seed's columns first, then what the
/// engine needs. This list is the whitelist for `where`, `orderBy` and updates.
pub const COLUMNS: &[&str] = &[
    "id",
    "identifier",
    "action",
    "status",
    "message",
    "started_by",
    "meta",
    "result",
    "start_at",
    "finished_at",
    "attempts",
    "max_attempts",
    "priority",
    "progress",
    "created_at",
    "updated_at",
    "available_at",
    "started_at",
    "duration",
    "peak_memory",
    "last_error",
    "cancel_requested",
    "lease_owner",
    "lease_expires_at",
    "snapshot",
    "unique_key",
];

/// Columns a caller may write through `update()`/`save()`. The engine owns
/// the lease, the priority rank and the availability time.
pub const WRITABLE: &[&str] = &[
    "identifier",
    "action",
    "status",
    "message",
    "started_by",
    "meta",
    "result",
    "start_at",
    "finished_at",
    "attempts",
    "max_attempts",
    "priority",
    "progress",
    "created_at",
    "updated_at",
    "started_at",
    "duration",
    "peak_memory",
    "last_error",
];

/// Timestamp columns (converted to date objects on the PHP side).
pub const TIMESTAMPS: &[&str] =
    &["start_at", "finished_at", "created_at", "updated_at", "available_at", "started_at", "lease_expires_at"];

/// Columns holding JSON documents (decoded on the PHP side).
pub const JSON: &[&str] = &["meta", "result"];

#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    pub id: i64,
    pub identifier: String,
    pub action: String,
    pub status: i64,
    pub message: Option<String>,
    pub started_by: Option<i64>,
    pub meta: Option<String>,
    pub result: Option<String>,
    pub start_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub attempts: i64,
    pub max_attempts: i64,
    pub priority: String,
    pub progress: i64,
    pub created_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
    pub available_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub duration: Option<f64>,
    pub peak_memory: Option<i64>,
    pub last_error: Option<String>,
    pub cancel_requested: bool,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<Timestamp>,
    pub snapshot: Option<String>,
    pub unique_key: Option<String>,
}

impl TaskRow {
    pub fn status(&self) -> Option<Status> {
        Status::from_code(self.status)
    }

    pub fn status_text(&self) -> &'static str {
        status_text(self.status)
    }

    /// The value of one whitelisted column, as the query layer sees it.
    pub fn get(&self, column: &str) -> Option<Value> {
        let ts = |t: &Option<Timestamp>| t.as_ref().map(|t| Value::Text(time::to_db(t))).unwrap_or(Value::Null);
        let text = |s: &Option<String>| s.clone().map(Value::Text).unwrap_or(Value::Null);
        Some(match column {
            "id" => Value::Int(self.id),
            "identifier" => Value::Text(self.identifier.clone()),
            "action" => Value::Text(self.action.clone()),
            "status" => Value::Int(self.status),
            "message" => text(&self.message),
            "started_by" => self.started_by.map(Value::Int).unwrap_or(Value::Null),
            "meta" => text(&self.meta),
            "result" => text(&self.result),
            "start_at" => ts(&self.start_at),
            "finished_at" => ts(&self.finished_at),
            "attempts" => Value::Int(self.attempts),
            "max_attempts" => Value::Int(self.max_attempts),
            "priority" => Value::Text(self.priority.clone()),
            "progress" => Value::Int(self.progress),
            "created_at" => ts(&self.created_at),
            "updated_at" => ts(&self.updated_at),
            "available_at" => ts(&self.available_at),
            "started_at" => ts(&self.started_at),
            "duration" => self.duration.map(Value::Float).unwrap_or(Value::Null),
            "peak_memory" => self.peak_memory.map(Value::Int).unwrap_or(Value::Null),
            "last_error" => text(&self.last_error),
            "cancel_requested" => Value::Bool(self.cancel_requested),
            "lease_owner" => text(&self.lease_owner),
            "lease_expires_at" => ts(&self.lease_expires_at),
            "snapshot" => text(&self.snapshot),
            "unique_key" => text(&self.unique_key),
            _ => return None,
        })
    }
}

/// What `sTask::create` / `sTaskModel::create` hand to the engine, already
/// validated by `NewTask::validate`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    pub identifier: String,
    pub action: String,
    pub status: Status,
    pub message: Option<String>,
    pub started_by: Option<i64>,
    /// JSON text.
    pub meta: Option<String>,
    pub result: Option<String>,
    pub priority: Priority,
    pub start_at: Option<Timestamp>,
    pub max_attempts: i64,
    pub progress: i64,
    pub unique_key: Option<String>,
}

pub const DEFAULT_MAX_ATTEMPTS: i64 = 3;
const MAX_NAME_LEN: usize = 255;

impl NewTask {
    pub fn new(identifier: impl Into<String>, action: impl Into<String>) -> Self {
        NewTask {
            identifier: identifier.into(),
            action: action.into(),
            status: Status::Pending,
            message: None,
            started_by: None,
            meta: Some("[]".into()),
            result: None,
            priority: Priority::Normal,
            start_at: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            progress: 0,
            unique_key: None,
        }
    }

    /// The row this task becomes once inserted with `id` at `now`.
    pub fn row(&self, id: i64, now: Timestamp, available_at: Timestamp) -> TaskRow {
        TaskRow {
            id,
            identifier: self.identifier.clone(),
            action: self.action.clone(),
            status: self.status.code(),
            message: self.message.clone(),
            started_by: self.started_by,
            meta: self.meta.clone(),
            result: self.result.clone(),
            start_at: self.start_at,
            finished_at: None,
            attempts: 0,
            max_attempts: self.max_attempts,
            priority: self.priority.name().to_string(),
            progress: self.progress,
            created_at: Some(now),
            updated_at: Some(now),
            available_at: Some(available_at),
            started_at: None,
            duration: None,
            peak_memory: None,
            last_error: None,
            cancel_requested: false,
            lease_owner: None,
            lease_expires_at: None,
            snapshot: None,
            unique_key: self.unique_key.clone(),
        }
    }

    /// Rejects what would make a task that can never run correctly.
    pub fn validate(&self) -> crate::engine::Result<()> {
        use crate::engine::Error;
        validate_name("identifier", &self.identifier)?;
        validate_name("action", &self.action)?;
        if !(1..=1000).contains(&self.max_attempts) {
            return Err(Error::invalid("max_attempts", format!("must be between 1 and 1000, got {}", self.max_attempts)));
        }
        if let Some(k) = &self.unique_key {
            if k.contains('\0') {
                return Err(Error::invalid("unique", "a unique key must not contain a NUL byte"));
            }
            if k.trim().is_empty() || k.len() > 255 {
                return Err(Error::invalid("unique", format!("a unique key must be 1 to 255 bytes, got {} bytes", k.len())));
            }
        }
        if !(0..=100).contains(&self.progress) {
            return Err(Error::invalid("progress", format!("must be between 0 and 100, got {}", self.progress)));
        }
        // PostgreSQL's text cannot hold NUL: refused alike on every backend
        // (as an update of these columns is).
        for (field, text) in [("message", &self.message), ("meta", &self.meta), ("result", &self.result)] {
            if text.as_deref().is_some_and(|t| t.contains('\0')) {
                return Err(Error::invalid(field, "must not contain a NUL byte"));
            }
        }
        // MySQL's TEXT holds 65,535 bytes (an update is held to the same).
        if let Some(m) = self.message.as_deref().filter(|m| m.len() > 65_535) {
            return Err(Error::invalid("message", format!("must be at most 65535 bytes, got {}", m.len())));
        }
        Ok(())
    }
}

/// Identifiers and actions: non-empty, at most 255 bytes, no control characters.
pub fn validate_name(field: &str, value: &str) -> crate::engine::Result<()> {
    use crate::engine::Error;
    if value.trim().is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if value.len() > MAX_NAME_LEN {
        return Err(Error::invalid(field, format!("must be at most {MAX_NAME_LEN} bytes, got {}", value.len())));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid(field, format!("must not contain control characters: {value:?}")));
    }
    Ok(())
}

fn as_ts(v: &Value) -> Option<Timestamp> {
    match v {
        Value::Text(s) => time::from_db(s),
        _ => None,
    }
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Text(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Bool(b) => Some((*b as i64).to_string()),
    }
}

fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Bool(b) => Some(*b as i64),
        Value::Float(f) => Some(*f as i64),
        Value::Text(s) => s.parse().ok(),
        Value::Null => None,
    }
}

impl TaskRow {
    /// Mirrors a written column into the in-memory row (after the engine
    /// accepted the value), so the PHP object reads back what it wrote.
    pub fn set(&mut self, column: &str, v: &Value) {
        match column {
            "identifier" => self.identifier = as_text(v).unwrap_or_default(),
            "action" => self.action = as_text(v).unwrap_or_default(),
            "status" => self.status = as_int(v).unwrap_or(self.status),
            "message" => self.message = as_text(v),
            "started_by" => self.started_by = as_int(v),
            "meta" => self.meta = as_text(v),
            "result" => self.result = as_text(v),
            "start_at" => self.start_at = as_ts(v),
            "finished_at" => self.finished_at = as_ts(v),
            "attempts" => self.attempts = as_int(v).unwrap_or(0),
            "max_attempts" => self.max_attempts = as_int(v).unwrap_or(DEFAULT_MAX_ATTEMPTS),
            "priority" => self.priority = as_text(v).unwrap_or_else(|| "normal".into()),
            "progress" => self.progress = as_int(v).unwrap_or(0),
            "created_at" => self.created_at = as_ts(v),
            "updated_at" => self.updated_at = as_ts(v),
            "started_at" => self.started_at = as_ts(v),
            "duration" => {
                self.duration = match v {
                    Value::Float(f) => Some(*f),
                    other => as_int(other).map(|i| i as f64),
                }
            }
            "peak_memory" => self.peak_memory = as_int(v),
            "last_error" => self.last_error = as_text(v),
            _ => {}
        }
    }
}
