//! `Seiger\sTask\Models\sTaskModel`: a task row as a PHP object.
//!
//! Columns are read and written as properties (`$task->progress = 100;
//! $task->save();`) through `__get`/`__set`: reads convert (`meta` and
//! `result` decoded, timestamps as Carbon), writes are checked against the
//! column whitelist and remembered until `save()`.

use crate::engine::progress::ProgressDelta;
use crate::engine::query::{Table, Value};
use crate::engine::task::{self, NewTask, Status, TaskRow};
use crate::engine::time;
use crate::php::collection::{json_serializable, Collection};
use crate::php::columns::{column_value, priority_arg};
use crate::php::context::{block_on, engine};
use crate::php::convert::{
    entries, id_arg, int_arg, json_text_to_zval, string_arg, timestamp_to_zval, value_to_zval, zval_to_json,
};
use crate::php::declared::{Int, Text};
use crate::php::exceptions::{invalid, throw, Kind};
use crate::php::query::Query;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};

#[php_class]
#[php(name = "Seiger\\sTask\\Models\\sTaskModel")]
#[php(implements(ce = json_serializable, stub = "\\JsonSerializable"))]
#[derive(Clone)]
pub struct TaskModel {
    pub row: TaskRow,
    /// Columns written since the last save, in order.
    changes: Vec<(&'static str, Value)>,
    exists: bool,
}

pub fn task_to_zval(row: TaskRow) -> PhpResult<Zval> {
    Ok(TaskModel::from_row(row).into_zval(false)?)
}

impl TaskModel {
    pub fn from_row(row: TaskRow) -> Self {
        TaskModel { row, changes: Vec::new(), exists: true }
    }

    fn id_query(&self) -> PhpResult<crate::engine::query::Query> {
        if !self.exists {
            return Err(throw(Kind::TaskNotFound, format!("Task #{} was deleted", self.row.id)));
        }
        Ok(crate::engine::query::Query::new(Table::Tasks).where_eq("id", Value::Int(self.row.id))?)
    }

    /// A message the worker set and did not save (`$task->message = …;`
    /// then return): the engine records it with the task's end, in the
    /// same write, instead of an update of its own.
    pub fn unsaved_message(&self) -> Option<String> {
        self.changes.iter().find_map(|(c, v)| match (c, v) {
            (&"message", Value::Text(m)) => Some(m.clone()),
            _ => None,
        })
    }

    /// Remembers a write; the last write to a column wins.
    fn stage(&mut self, column: &'static str, value: Value) {
        self.row.set(column, &value);
        self.changes.retain(|(c, _)| *c != column);
        self.changes.push((column, value));
    }

    fn stage_zval(&mut self, name: &str, value: &Zval) -> PhpResult<()> {
        let q = crate::engine::query::Query::new(Table::Tasks);
        let column = q.writable_column(name)?;
        let v = column_value(Table::Tasks, column, value)?;
        self.stage(column, v);
        Ok(())
    }

    fn persist(&mut self) -> PhpResult<bool> {
        if self.changes.is_empty() {
            return Ok(true);
        }
        let q = self.id_query()?;
        let changes = std::mem::take(&mut self.changes);
        let n = block_on(engine()?.update(&q, &changes));
        match n {
            Ok(n) => {
                self.row.updated_at = Some(time::now());
                Ok(n > 0)
            }
            Err(e) => {
                // Keep what was not saved, so a retry can save it.
                self.changes = changes;
                Err(e.into())
            }
        }
    }

    fn column_zval(&self, name: &str) -> PhpResult<Option<Zval>> {
        let Some(v) = self.row.get(name) else { return Ok(None) };
        if task::JSON.contains(&name) {
            return Ok(Some(match &v {
                Value::Text(t) => json_text_to_zval(t)?,
                _ => Zval::null(),
            }));
        }
        if task::TIMESTAMPS.contains(&name) {
            return Ok(Some(match &v {
                Value::Text(t) => match time::from_db(t) {
                    Some(ts) => timestamp_to_zval(&ts)?,
                    None => Zval::null(),
                },
                _ => Zval::null(),
            }));
        }
        Ok(Some(value_to_zval(&v)))
    }

    fn array(&self, dates_as_strings: bool) -> PhpResult<Zval> {
        let mut ht = ZendHashTable::with_capacity(task::COLUMNS.len() as u32 + 1);
        for col in task::COLUMNS {
            if matches!(*col, "snapshot" | "lease_owner" | "lease_expires_at" | "cancel_requested") {
                continue;
            }
            let v = if dates_as_strings && task::TIMESTAMPS.contains(col) {
                match self.row.get(col) {
                    Some(Value::Text(t)) => {
                        time::from_db(&t).map(|ts| value_to_zval(&Value::Text(time::iso8601(&ts)))).unwrap_or_else(Zval::null)
                    }
                    _ => Zval::null(),
                }
            } else {
                self.column_zval(col)?.unwrap_or_else(Zval::null)
            };
            ht.insert(*col, v)?;
        }
        ht.insert("status_text", self.row.status_text())?;
        let mut z = Zval::new();
        z.set_hashtable(ht);
        Ok(z)
    }

    /// `create(array)`: the row the attributes describe, validated.
    fn new_task_from(attrs: &ZendHashTable) -> PhpResult<NewTask> {
        let mut identifier = None;
        let mut action = None;
        let mut t = NewTask::new("", "");
        for (key, v) in entries(attrs, "attributes")? {
            match key.as_str() {
                "identifier" => identifier = Some(string_arg(v, "identifier")?),
                "action" => action = Some(string_arg(v, "action")?),
                "status" => {
                    let code = match column_value(Table::Tasks, "status", v)? {
                        Value::Int(c) => c,
                        _ => 10,
                    };
                    t.status =
                        Status::from_code(code).ok_or_else(|| invalid("status", format!("{code} is not a task status")))?;
                }
                "message" => t.message = if v.is_null() { None } else { Some(string_arg(v, "message")?) },
                "started_by" => t.started_by = if v.is_null() { None } else { Some(int_arg(v, "started_by")?) },
                "meta" | "data" => t.meta = if v.is_null() { None } else { Some(zval_to_json(v, "meta")?.to_string()) },
                "result" => t.result = if v.is_null() { None } else { Some(zval_to_json(v, "result")?.to_string()) },
                "priority" => t.priority = priority_arg(v)?,
                "start_at" => t.start_at = crate::php::convert::zval_to_timestamp(v, "start_at")?,
                "max_attempts" => t.max_attempts = int_arg(v, "max_attempts")?,
                "progress" => t.progress = int_arg(v, "progress")?,
                "unique_key" => t.unique_key = if v.is_null() { None } else { Some(string_arg(v, "unique_key")?) },
                other => {
                    let known = crate::engine::query::Query::new(Table::Tasks);
                    known.writable_column(other)?;
                    return Err(invalid(other, "cannot be set when a task is created"));
                }
            }
        }
        t.identifier = identifier.ok_or_else(|| invalid("identifier", "is required"))?;
        t.action = action.ok_or_else(|| invalid("action", "is required"))?;
        Ok(t)
    }

    pub fn query() -> Query {
        Query::new(Table::Tasks)
    }
}

fn q() -> Query {
    TaskModel::query()
}

#[php_impl]
impl TaskModel {
    pub const TASK_STATUS_PENDING: i64 = 10;
    pub const TASK_STATUS_QUEUED: i64 = 10;
    pub const TASK_STATUS_PREPARING: i64 = 15;
    pub const TASK_STATUS_RUNNING: i64 = 20;
    pub const TASK_STATUS_COMPLETED: i64 = 30;
    pub const TASK_STATUS_FINISHED: i64 = 30;
    pub const TASK_STATUS_FAILED: i64 = 40;
    pub const TASK_STATUS_CANCELLED: i64 = 50;

    // ---- static: finders and scopes ----

    pub fn find(id: Int) -> PhpResult<Option<TaskModel>> {
        let id = id_arg(id.0, "id")?;
        Ok(block_on(engine()?.find_task(id))?.map(TaskModel::from_row))
    }

    pub fn find_or_fail(id: Int) -> PhpResult<TaskModel> {
        let id = id_arg(id.0, "id")?;
        Ok(TaskModel::from_row(block_on(engine()?.require_task(id))?))
    }

    /// Inserts a task from an attribute array (the seed's Example 4).
    pub fn create(attributes: &ZendHashTable) -> PhpResult<TaskModel> {
        let t = Self::new_task_from(attributes)?;
        Ok(TaskModel::from_row(block_on(engine()?.create_task(t))?))
    }

    #[php(name = "query")]
    pub fn query_() -> Query {
        q()
    }

    #[php(name = "where")]
    pub fn where_(args: &[&Zval]) -> PhpResult<Query> {
        let mut query = q();
        query.add_where_args(args)?;
        Ok(query)
    }

    pub fn where_in(column: String, values: &ZendHashTable) -> PhpResult<Query> {
        let mut query = q();
        query.q = query.q.clone().where_in(
            &column,
            crate::php::convert::values_of(values)
                .into_iter()
                .map(|v| crate::php::convert::zval_to_value(v, "values"))
                .collect::<PhpResult<_>>()?,
            false,
        )?;
        Ok(query)
    }

    pub fn all() -> PhpResult<Collection> {
        q().get()
    }

    #[php(defaults(column = "created_at".to_string()))]
    pub fn latest(column: String) -> PhpResult<Query> {
        let mut query = q();
        query.q = query
            .q
            .clone()
            .order_by(&column, crate::engine::query::Dir::Desc)?
            .order_by("id", crate::engine::query::Dir::Desc)?;
        Ok(query)
    }

    #[php(defaults(direction = "asc".to_string()))]
    pub fn order_by(column: String, direction: String) -> PhpResult<Query> {
        let mut query = q();
        query.q = query.q.clone().order_by(&column, crate::engine::query::Dir::parse(&direction)?)?;
        Ok(query)
    }

    pub fn count() -> PhpResult<i64> {
        q().count()
    }

    pub fn pending() -> PhpResult<Query> {
        scoped(|s| s.pending_scope())
    }
    pub fn queued() -> PhpResult<Query> {
        scoped(|s| s.status_scope(&[Status::Pending]))
    }
    pub fn preparing() -> PhpResult<Query> {
        scoped(|s| s.status_scope(&[Status::Preparing]))
    }
    pub fn running() -> PhpResult<Query> {
        scoped(|s| s.status_scope(&[Status::Running]))
    }
    pub fn completed() -> PhpResult<Query> {
        scoped(|s| s.status_scope(&[Status::Completed]))
    }
    pub fn finished() -> PhpResult<Query> {
        scoped(|s| s.status_scope(&[Status::Completed]))
    }
    pub fn failed() -> PhpResult<Query> {
        scoped(|s| s.status_scope(&[Status::Failed]))
    }
    pub fn cancelled() -> PhpResult<Query> {
        scoped(|s| s.status_scope(&[Status::Cancelled]))
    }
    pub fn incomplete() -> PhpResult<Query> {
        scoped(|s| s.status_scope(&[Status::Pending, Status::Preparing, Status::Running]))
    }
    pub fn by_identifier(identifier: Text) -> PhpResult<Query> {
        let v = string_arg(identifier.0, "identifier")?;
        scoped(|s| s.eq_scope("identifier", v))
    }
    pub fn by_action(action: Text) -> PhpResult<Query> {
        let v = string_arg(action.0, "action")?;
        scoped(|s| s.eq_scope("action", v))
    }
    pub fn high_priority() -> PhpResult<Query> {
        scoped(|s| s.eq_scope("priority", "high".into()))
    }
    pub fn normal_priority() -> PhpResult<Query> {
        scoped(|s| s.eq_scope("priority", "normal".into()))
    }
    pub fn low_priority() -> PhpResult<Query> {
        scoped(|s| s.eq_scope("priority", "low".into()))
    }

    /// `statusText(30)` → "completed".
    pub fn status_text(status: &Zval) -> PhpResult<String> {
        Ok(task::status_text(int_arg(status, "status")?).to_string())
    }

    // ---- instance: properties ----

    pub fn __get(&self, name: String) -> PhpResult<Zval> {
        if name == "status_text" {
            return Ok(value_to_zval(&Value::Text(self.row.status_text().into())));
        }
        if name == "exists" {
            return Ok(value_to_zval(&Value::Bool(self.exists)));
        }
        if name == "snapshot" {
            return Ok(Zval::null());
        }
        // Eloquent answers null for attributes it does not have.
        Ok(self.column_zval(&name)?.unwrap_or_else(Zval::null))
    }

    pub fn __set(&mut self, name: String, value: &Zval) -> PhpResult<()> {
        self.stage_zval(&name, value)
    }

    pub fn __isset(&self, name: String) -> bool {
        name == "status_text" || self.row.get(&name).map(|v| !matches!(v, Value::Null)).unwrap_or(false)
    }

    // ---- instance: state ----

    pub fn is_pending(&self) -> bool {
        self.row.status == Status::Pending.code()
    }

    /// Preparing or running: a worker holds the task.
    pub fn is_running(&self) -> bool {
        self.row.status().map(Status::is_active).unwrap_or(false)
    }

    /// Completed, failed or cancelled.
    pub fn is_finished(&self) -> bool {
        self.row.status().map(Status::is_finished).unwrap_or(false)
    }

    pub fn is_completed(&self) -> bool {
        self.row.status == Status::Completed.code()
    }

    pub fn is_failed(&self) -> bool {
        self.row.status == Status::Failed.code()
    }

    /// Cancelled, or a cancel was requested while it runs.
    pub fn is_cancelled(&self) -> PhpResult<bool> {
        if self.row.status == Status::Cancelled.code() {
            return Ok(true);
        }
        if !self.is_running() || !self.exists {
            return Ok(false);
        }
        Ok(block_on(engine()?.cancel_requested(self.row.id))?)
    }

    /// Failed or cancelled: `sTask::retry()` would queue it again.
    pub fn can_retry(&self) -> bool {
        matches!(self.row.status(), Some(Status::Failed) | Some(Status::Cancelled))
    }

    /// A new object with the row as the database has it now. Unlike
    /// Eloquent, the object it is called on is brought up to date too when
    /// it holds no unsaved writes, so the seed's
    /// `while (!$task->fresh()->isFinished()) {…} if ($task->status === 30)`
    /// reads the finished task.
    pub fn fresh(&mut self) -> PhpResult<Option<TaskModel>> {
        let row = block_on(engine()?.find_task(self.row.id))?;
        if let Some(r) = &row {
            if self.changes.is_empty() {
                self.row = r.clone();
            }
        }
        Ok(row.map(TaskModel::from_row))
    }

    /// Reloads this object from the database (unsaved writes are dropped).
    pub fn refresh(&mut self) -> PhpResult<()> {
        let row = block_on(engine()?.require_task(self.row.id))?;
        self.row = row;
        self.changes.clear();
        Ok(())
    }

    pub fn save(&mut self) -> PhpResult<bool> {
        self.persist()
    }

    pub fn update(&mut self, attributes: &ZendHashTable) -> PhpResult<bool> {
        for (k, v) in entries(attributes, "attributes")? {
            self.stage_zval(&k, v)?;
        }
        self.persist()
    }

    pub fn delete(&mut self) -> PhpResult<bool> {
        let q = self.id_query()?;
        let n = block_on(engine()?.delete(&q))?;
        self.exists = false;
        Ok(n > 0)
    }

    pub fn to_array(&self) -> PhpResult<Zval> {
        self.array(true)
    }

    pub fn json_serialize(&self) -> PhpResult<Zval> {
        self.array(true)
    }

    pub fn get_key(&self) -> i64 {
        self.row.id
    }

    // ---- instance: lifecycle helpers of the PHP package ----

    pub fn mark_as_running(&mut self) -> PhpResult<()> {
        let now = Value::Text(time::to_db(&time::now()));
        self.stage("status", Value::Int(Status::Running.code()));
        self.stage("started_at", now);
        self.stage("attempts", Value::Int(self.row.attempts + 1));
        self.persist().map(|_| ())
    }

    pub fn mark_as_finished(&mut self, message: Option<String>) -> PhpResult<()> {
        let now = Value::Text(time::to_db(&time::now()));
        self.stage("status", Value::Int(Status::Completed.code()));
        self.stage("progress", Value::Int(100));
        self.stage("message", Value::Text(message.unwrap_or_else(|| "Task completed successfully".into())));
        self.stage("finished_at", now);
        self.persist().map(|_| ())
    }

    pub fn mark_as_failed(&mut self, message: String) -> PhpResult<()> {
        let now = Value::Text(time::to_db(&time::now()));
        self.stage("status", Value::Int(Status::Failed.code()));
        self.stage("last_error", Value::Text(message.clone()));
        self.stage("message", Value::Text(message));
        self.stage("finished_at", now);
        self.persist().map(|_| ())
    }

    pub fn update_progress(&mut self, progress: &Zval, message: Option<String>) -> PhpResult<()> {
        let p = int_arg(progress, "progress")?.clamp(0, 100);
        self.stage("progress", Value::Int(p));
        self.stage("message", message.map(Value::Text).unwrap_or(Value::Null));
        self.persist().map(|_| ())
    }

    /// The worker's progress report: keys status, progress, processed,
    /// total, eta, message. Throws TaskCancelledException when the task was
    /// cancelled meanwhile, so the worker stops where it stands.
    pub fn push_progress(&mut self, delta: Option<&ZendHashTable>) -> PhpResult<()> {
        let mut d = ProgressDelta::default();
        if let Some(delta) = delta {
            for (key, v) in entries(delta, "progress")? {
                let text = |v: &Zval| -> Option<String> {
                    if v.is_null() {
                        None
                    } else {
                        v.coerce_to_string()
                    }
                };
                match key.as_str() {
                    "status" => d.status = text(v),
                    "progress" => d.progress = Some(int_arg(v, "progress")?),
                    "processed" => d.processed = Some(int_arg(v, "processed")?),
                    "total" => d.total = Some(int_arg(v, "total")?),
                    "eta" => d.eta = text(v),
                    "message" => d.message = text(v),
                    // The PHP package's payload also carries these; they are
                    // the task's own and not taken from the worker.
                    "id" | "identifier" | "action" | "result" | "code" => {}
                    other => {
                        return Err(invalid(
                            "progress",
                            format!("unknown key '{other}'; use status, progress, processed, total, eta or message"),
                        ))
                    }
                }
            }
        }
        if let Some(p) = d.progress {
            self.row.progress = p.clamp(0, 100);
        }
        if let Some(m) = &d.message {
            self.row.message = Some(m.clone());
        }
        let cancelled = block_on(engine()?.progress_push(self.row.id, &d))?;
        if cancelled {
            return Err(throw(Kind::TaskCancelled, format!("Task #{} was cancelled", self.row.id)));
        }
        Ok(())
    }
}

/// A fresh tasks query with one scope applied.
fn scoped(f: impl FnOnce(&mut Query) -> PhpResult<()>) -> PhpResult<Query> {
    let mut query = q();
    f(&mut query)?;
    Ok(query)
}

impl Query {
    fn status_scope(&mut self, statuses: &[Status]) -> PhpResult<()> {
        self.q = self.q.clone().where_in("status", statuses.iter().map(|s| Value::Int(s.code())).collect(), false)?;
        Ok(())
    }

    fn pending_scope(&mut self) -> PhpResult<()> {
        self.status_scope(&[Status::Pending])
    }

    fn eq_scope(&mut self, column: &str, value: String) -> PhpResult<()> {
        self.q = self.q.clone().where_eq(column, Value::Text(value))?;
        Ok(())
    }
}
