//! Worker registry rows (`{prefix}s_workers`).

use crate::engine::time::{self, Timestamp};
use crate::engine::value::Value;

/// Every column of `{prefix}s_workers`; the whitelist for queries and updates.
pub const COLUMNS: &[&str] = &[
    "id",
    "uuid",
    "identifier",
    "scope",
    "class",
    "active",
    "position",
    "settings",
    "hidden",
    "title",
    "description",
    "icon",
    "created_at",
    "updated_at",
];

pub const WRITABLE: &[&str] =
    &["uuid", "identifier", "scope", "class", "active", "position", "settings", "hidden", "title", "description", "icon"];

pub const TIMESTAMPS: &[&str] = &["created_at", "updated_at"];
pub const JSON: &[&str] = &["settings"];

/// Identifier of the worker built into the extension (the seed's Example 4).
pub const SYSTEM_IDENTIFIER: &str = "system";

#[derive(Debug, Clone, PartialEq)]
pub struct WorkerRow {
    pub id: i64,
    pub uuid: Option<String>,
    pub identifier: String,
    pub scope: String,
    pub class: String,
    pub active: bool,
    pub position: i64,
    /// JSON object text.
    pub settings: String,
    pub hidden: i64,
    pub title: String,
    pub description: String,
    pub icon: String,
    pub created_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
}

impl WorkerRow {
    pub fn get(&self, column: &str) -> Option<Value> {
        let ts = |t: &Option<Timestamp>| t.as_ref().map(|t| Value::Text(time::to_db(t))).unwrap_or(Value::Null);
        Some(match column {
            "id" => Value::Int(self.id),
            "uuid" => self.uuid.clone().map(Value::Text).unwrap_or(Value::Null),
            "identifier" => Value::Text(self.identifier.clone()),
            "scope" => Value::Text(self.scope.clone()),
            "class" => Value::Text(self.class.clone()),
            "active" => Value::Bool(self.active),
            "position" => Value::Int(self.position),
            "settings" => Value::Text(self.settings.clone()),
            "hidden" => Value::Int(self.hidden),
            "title" => Value::Text(self.title.clone()),
            "description" => Value::Text(self.description.clone()),
            "icon" => Value::Text(self.icon.clone()),
            "created_at" => ts(&self.created_at),
            "updated_at" => ts(&self.updated_at),
            _ => return None,
        })
    }
}

/// What discovery learned from a worker class, stored so that lists never
/// instantiate workers (the PHP package's N+1).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerInfo {
    pub identifier: String,
    pub scope: String,
    pub class: String,
    pub title: String,
    pub description: String,
    pub icon: String,
}

impl WorkerRow {
    /// Mirrors a written column into the in-memory row.
    pub fn set(&mut self, column: &str, v: &Value) {
        let text = |v: &Value| match v {
            Value::Text(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Bool(b) => (*b as i64).to_string(),
            Value::Null => String::new(),
        };
        let int = |v: &Value| match v {
            Value::Int(i) => *i,
            Value::Bool(b) => *b as i64,
            Value::Float(f) => *f as i64,
            Value::Text(s) => s.parse().unwrap_or(0),
            Value::Null => 0,
        };
        match column {
            "uuid" => self.uuid = if matches!(v, Value::Null) { None } else { Some(text(v)) },
            "identifier" => self.identifier = text(v),
            "scope" => self.scope = text(v),
            "class" => self.class = text(v),
            "active" => self.active = int(v) != 0,
            "position" => self.position = int(v),
            "settings" => self.settings = text(v),
            "hidden" => self.hidden = int(v),
            "title" => self.title = text(v),
            "description" => self.description = text(v),
            "icon" => self.icon = text(v),
            _ => {}
        }
    }
}
