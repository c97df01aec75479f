//! `Seiger\sTask\Support\Query`: the chainable query of both models.
//!
//! `sTaskModel::where(...)`, the scopes and `sWorker::byScope(...)` return
//! one; each call adds to it and returns `$this`, as Eloquent's builder
//! does. Columns and operators are checked when they are added.

use crate::engine::query::{Dir, Op, Query as EngineQuery, Table, Value};
use crate::engine::task::Status;
use crate::php::collection::Collection;
use crate::php::columns::column_value;
use crate::php::context::{block_on, engine};
use crate::php::convert::{describe, entries, int_arg, string_arg, zval_to_value};
use crate::php::declared::{Int, Text};
use crate::php::exceptions::invalid;
use crate::php::task_model::task_to_zval;
use crate::php::worker_model::worker_to_zval;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendClassObject, ZendHashTable, Zval};

#[php_class]
#[php(name = "Seiger\\sTask\\Support\\Query")]
#[derive(Clone)]
pub struct Query {
    pub q: EngineQuery,
}

impl Query {
    pub fn new(table: Table) -> Self {
        Query { q: EngineQuery::new(table) }
    }

    /// The arguments of a variadic `where(...)`: the count tells
    /// `where('col', null)` from `where('col', '=', null)`.
    pub fn add_where_args(&mut self, args: &[&Zval]) -> PhpResult<()> {
        match args {
            [c] => self.add_where(c, None, None, 1),
            [c, v] => self.add_where(c, Some(v), None, 2),
            [c, o, v] => self.add_where(c, Some(o), Some(v), 3),
            _ => Err(invalid("where", format!("expects 1 to 3 arguments, got {}", args.len()))),
        }
    }

    /// `where(column, value)`, `where(column, op, value)` or
    /// `where(['column' => value, ...])`.
    pub fn add_where(&mut self, column: &Zval, a: Option<&Zval>, b: Option<&Zval>, given: usize) -> PhpResult<()> {
        if let Some(ht) = column.dereference().array() {
            for (k, v) in entries(ht, "column")? {
                let value = zval_to_value(v, "value")?;
                self.q = self.q.clone().where_eq(&k, value)?;
            }
            return Ok(());
        }
        let column = string_arg(column, "column")?;
        let (op, value) = match (a, b, given) {
            (Some(op), Some(v), 3) => (Op::parse(&string_arg(op, "operator")?)?, v),
            (Some(v), _, _) => (Op::Eq, v),
            (None, _, _) => return Err(invalid("where", format!("where('{column}') needs a value"))),
        };
        let value = zval_to_value(value, "value")?;
        self.q = self.q.clone().where_op(&column, op, value)?;
        Ok(())
    }

    pub fn scope(
        &mut self,
        table: Table,
        name: &str,
        f: impl FnOnce(EngineQuery) -> crate::engine::Result<EngineQuery>,
    ) -> PhpResult<()> {
        if self.q.table != table {
            let owner = if table == Table::Tasks { "sTaskModel" } else { "sWorker" };
            return Err(invalid("scope", format!("{name}() is a scope of {owner}")));
        }
        self.q = f(self.q.clone())?;
        Ok(())
    }

    fn status_in(q: EngineQuery, statuses: &[Status]) -> crate::engine::Result<EngineQuery> {
        q.where_in("status", statuses.iter().map(|s| Value::Int(s.code())).collect(), false)
    }

    pub fn rows_as_zvals(&self) -> PhpResult<Vec<Zval>> {
        let e = engine()?;
        match self.q.table {
            Table::Tasks => block_on(e.select_tasks(&self.q))?.into_iter().map(task_to_zval).collect(),
            Table::Workers => block_on(e.select_workers(&self.q))?.into_iter().map(worker_to_zval).collect(),
        }
    }
}

type This<'a> = &'a mut ZendClassObject<Query>;

fn values_of(arr: &ZendHashTable) -> PhpResult<Vec<Value>> {
    crate::php::convert::values_of(arr).into_iter().map(|v| zval_to_value(v, "values")).collect()
}

#[php_impl]
impl Query {
    /// where(column, value) / where(column, operator, value) / where([column => value])
    #[php(name = "where")]
    pub fn where_<'a>(self_: This<'a>, args: &[&Zval]) -> PhpResult<This<'a>> {
        self_.add_where_args(args)?;
        Ok(self_)
    }

    pub fn where_in<'a>(self_: This<'a>, column: String, values: &ZendHashTable) -> PhpResult<This<'a>> {
        self_.q = self_.q.clone().where_in(&column, values_of(values)?, false)?;
        Ok(self_)
    }

    pub fn where_not_in<'a>(self_: This<'a>, column: String, values: &ZendHashTable) -> PhpResult<This<'a>> {
        self_.q = self_.q.clone().where_in(&column, values_of(values)?, true)?;
        Ok(self_)
    }

    pub fn where_null(self_: This<'_>, column: String) -> PhpResult<This<'_>> {
        self_.q = self_.q.clone().where_null(&column, false)?;
        Ok(self_)
    }

    pub fn where_not_null(self_: This<'_>, column: String) -> PhpResult<This<'_>> {
        self_.q = self_.q.clone().where_null(&column, true)?;
        Ok(self_)
    }

    #[php(defaults(direction = "asc".to_string()))]
    pub fn order_by(self_: This<'_>, column: String, direction: String) -> PhpResult<This<'_>> {
        self_.q = self_.q.clone().order_by(&column, Dir::parse(&direction)?)?;
        Ok(self_)
    }

    pub fn order_by_desc(self_: This<'_>, column: String) -> PhpResult<This<'_>> {
        self_.q = self_.q.clone().order_by(&column, Dir::Desc)?;
        Ok(self_)
    }

    #[php(defaults(column = "created_at".to_string()))]
    pub fn latest(self_: This<'_>, column: String) -> PhpResult<This<'_>> {
        self_.q = self_.q.clone().order_by(&column, Dir::Desc)?.order_by("id", Dir::Desc)?;
        Ok(self_)
    }

    #[php(defaults(column = "created_at".to_string()))]
    pub fn oldest(self_: This<'_>, column: String) -> PhpResult<This<'_>> {
        self_.q = self_.q.clone().order_by(&column, Dir::Asc)?;
        Ok(self_)
    }

    pub fn limit<'a>(self_: This<'a>, count: Int) -> PhpResult<This<'a>> {
        self_.q = self_.q.clone().limit(int_arg(count.0, "limit")?)?;
        Ok(self_)
    }

    pub fn take<'a>(self_: This<'a>, count: Int) -> PhpResult<This<'a>> {
        Self::limit(self_, count)
    }

    pub fn offset<'a>(self_: This<'a>, count: Int) -> PhpResult<This<'a>> {
        self_.q = self_.q.clone().offset(int_arg(count.0, "offset")?)?;
        Ok(self_)
    }

    pub fn skip<'a>(self_: This<'a>, count: Int) -> PhpResult<This<'a>> {
        Self::offset(self_, count)
    }

    // ---- sTaskModel scopes ----

    pub fn pending(self_: This<'_>) -> PhpResult<This<'_>> {
        self_.scope(Table::Tasks, "pending", |q| Self::status_in(q, &[Status::Pending]))?;
        Ok(self_)
    }

    pub fn queued(self_: This<'_>) -> PhpResult<This<'_>> {
        self_.scope(Table::Tasks, "queued", |q| Self::status_in(q, &[Status::Pending]))?;
        Ok(self_)
    }

    pub fn preparing(self_: This<'_>) -> PhpResult<This<'_>> {
        self_.scope(Table::Tasks, "preparing", |q| Self::status_in(q, &[Status::Preparing]))?;
        Ok(self_)
    }

    pub fn running(self_: This<'_>) -> PhpResult<This<'_>> {
        self_.scope(Table::Tasks, "running", |q| Self::status_in(q, &[Status::Running]))?;
        Ok(self_)
    }

    pub fn completed(self_: This<'_>) -> PhpResult<This<'_>> {
        self_.scope(Table::Tasks, "completed", |q| Self::status_in(q, &[Status::Completed]))?;
        Ok(self_)
    }

    pub fn finished(self_: This<'_>) -> PhpResult<This<'_>> {
        self_.scope(Table::Tasks, "finished", |q| Self::status_in(q, &[Status::Completed]))?;
        Ok(self_)
    }

    pub fn failed(self_: This<'_>) -> PhpResult<This<'_>> {
        self_.scope(Table::Tasks, "failed", |q| Self::status_in(q, &[Status::Failed]))?;
        Ok(self_)
    }

    pub fn cancelled(self_: This<'_>) -> PhpResult<This<'_>> {
        self_.scope(Table::Tasks, "cancelled", |q| Self::status_in(q, &[Status::Cancelled]))?;
        Ok(self_)
    }

    /// Pending, preparing or running.
    pub fn incomplete(self_: This<'_>) -> PhpResult<This<'_>> {
        self_
            .scope(Table::Tasks, "incomplete", |q| Self::status_in(q, &[Status::Pending, Status::Preparing, Status::Running]))?;
        Ok(self_)
    }

    pub fn by_identifier<'a>(self_: This<'a>, identifier: Text) -> PhpResult<This<'a>> {
        let v = Value::Text(string_arg(identifier.0, "identifier")?);
        self_.scope(Table::Tasks, "byIdentifier", |q| q.where_eq("identifier", v))?;
        Ok(self_)
    }

    pub fn by_action<'a>(self_: This<'a>, action: Text) -> PhpResult<This<'a>> {
        let v = Value::Text(string_arg(action.0, "action")?);
        self_.scope(Table::Tasks, "byAction", |q| q.where_eq("action", v))?;
        Ok(self_)
    }

    pub fn high_priority(self_: This<'_>) -> PhpResult<This<'_>> {
        self_.scope(Table::Tasks, "highPriority", |q| q.where_eq("priority", Value::Text("high".into())))?;
        Ok(self_)
    }

    pub fn normal_priority(self_: This<'_>) -> PhpResult<This<'_>> {
        self_.scope(Table::Tasks, "normalPriority", |q| q.where_eq("priority", Value::Text("normal".into())))?;
        Ok(self_)
    }

    pub fn low_priority(self_: This<'_>) -> PhpResult<This<'_>> {
        self_.scope(Table::Tasks, "lowPriority", |q| q.where_eq("priority", Value::Text("low".into())))?;
        Ok(self_)
    }

    // ---- sWorker scopes ----

    pub fn active(self_: This<'_>) -> PhpResult<This<'_>> {
        self_.scope(Table::Workers, "active", |q| q.where_eq("active", Value::Bool(true)))?;
        Ok(self_)
    }

    pub fn visible(self_: This<'_>) -> PhpResult<This<'_>> {
        self_.scope(Table::Workers, "visible", |q| q.where_eq("hidden", Value::Int(0)))?;
        Ok(self_)
    }

    pub fn by_scope<'a>(self_: This<'a>, scope: Text) -> PhpResult<This<'a>> {
        let v = Value::Text(string_arg(scope.0, "scope")?);
        self_.scope(Table::Workers, "byScope", |q| q.where_eq("scope", v))?;
        Ok(self_)
    }

    /// Position, then identifier.
    pub fn ordered(self_: This<'_>) -> PhpResult<This<'_>> {
        self_.scope(Table::Workers, "ordered", |q| q.order_by("position", Dir::Asc)?.order_by("identifier", Dir::Asc))?;
        Ok(self_)
    }

    // ---- terminal operations ----

    pub fn get(&self) -> PhpResult<Collection> {
        Ok(Collection::from_items(self.rows_as_zvals()?))
    }

    pub fn first(&self) -> PhpResult<Zval> {
        let mut one = self.clone();
        one.q = one.q.limit(1)?;
        Ok(one.rows_as_zvals()?.into_iter().next().unwrap_or_else(Zval::null))
    }

    pub fn find(&self, id: Int) -> PhpResult<Zval> {
        let mut one = self.clone();
        one.q = one.q.where_eq("id", Value::Int(int_arg(id.0, "id")?))?.limit(1)?;
        Ok(one.rows_as_zvals()?.into_iter().next().unwrap_or_else(Zval::null))
    }

    pub fn count(&self) -> PhpResult<i64> {
        let mut q = self.q.clone();
        q.order.clear();
        q.limit = None;
        q.offset = None;
        Ok(block_on(engine()?.count(&q))?)
    }

    pub fn exists(&self) -> PhpResult<bool> {
        Ok(self.count()? > 0)
    }

    pub fn doesnt_exist(&self) -> PhpResult<bool> {
        Ok(self.count()? == 0)
    }

    /// Deletes every matched row; returns how many.
    pub fn delete(&self) -> PhpResult<i64> {
        Ok(block_on(engine()?.delete(&self.q))? as i64)
    }

    /// Writes the given columns on every matched row; returns how many.
    pub fn update(&self, values: &ZendHashTable) -> PhpResult<i64> {
        let mut set = Vec::with_capacity(values.len());
        for (k, v) in entries(values, "values")? {
            let col = self.q.writable_column(&k)?;
            set.push((col, column_value(self.q.table, col, v)?));
        }
        Ok(block_on(engine()?.update(&self.q, &set))? as i64)
    }

    /// The values of one column, as a collection.
    pub fn pluck(&self, column: String) -> PhpResult<Collection> {
        self.q.table.column(&column)?;
        self.get()?.pluck_column(&column)
    }

    pub fn value(&self, column: String) -> PhpResult<Zval> {
        self.q.table.column(&column)?;
        let first = self.first()?;
        match first.object() {
            Some(o) => Ok(o.try_call_method("__get", vec![&column])?),
            None => Ok(Zval::null()),
        }
    }

    /// The query as text, for debugging (`toSql()` in Laravel).
    pub fn describe(&self) -> String {
        format!("{:?}", self.q)
    }
}

pub fn describe_arg(z: &Zval) -> String {
    describe(z)
}
