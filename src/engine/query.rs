//! The chainable query of `sTaskModel::where(...)->orderBy(...)->get()`.
//!
//! A `Query` is plain data: every column is checked against the table's
//! whitelist and every operator against `Op` when it is added, so the store
//! can build SQL from it with placeholders only.

pub use crate::engine::value::Value;
use crate::engine::{task, worker, Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Tasks,
    Workers,
}

impl Table {
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Table::Tasks => task::COLUMNS,
            Table::Workers => worker::COLUMNS,
        }
    }

    pub fn writable(self) -> &'static [&'static str] {
        match self {
            Table::Tasks => task::WRITABLE,
            Table::Workers => worker::WRITABLE,
        }
    }

    pub fn timestamps(self) -> &'static [&'static str] {
        match self {
            Table::Tasks => task::TIMESTAMPS,
            Table::Workers => worker::TIMESTAMPS,
        }
    }

    pub fn json_columns(self) -> &'static [&'static str] {
        match self {
            Table::Tasks => task::JSON,
            Table::Workers => worker::JSON,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Table::Tasks => "s_tasks",
            Table::Workers => "s_workers",
        }
    }

    /// What a column holds. The stores bind by it (PostgreSQL wants typed
    /// parameters) and conditions are checked against it, so a value the
    /// column cannot hold is refused the same way on every backend instead
    /// of matching nothing (SQLite), failing in the database (PostgreSQL)
    /// or being coerced (MySQL compares `'1abc'` with 1 as equal).
    pub fn kind(self, column: &str) -> ColumnKind {
        if self.timestamps().contains(&column) {
            return ColumnKind::Time;
        }
        match (self, column) {
            (
                Table::Tasks,
                "id" | "status" | "started_by" | "attempts" | "max_attempts" | "progress" | "peak_memory" | "priority_rank",
            ) => ColumnKind::Int,
            (Table::Tasks, "duration") => ColumnKind::Float,
            (Table::Tasks, "cancel_requested") => ColumnKind::Bool,
            (Table::Workers, "id" | "position" | "hidden") => ColumnKind::Int,
            (Table::Workers, "active") => ColumnKind::Bool,
            _ => ColumnKind::Text,
        }
    }

    /// The whitelisted spelling of `name`, or an error listing what exists.
    pub fn column(self, name: &str) -> Result<&'static str> {
        let wanted = name.trim();
        self.columns().iter().copied().find(|c| *c == wanted).ok_or_else(|| {
            Error::invalid(
                "column",
                format!("'{name}' is not a column of {}; known columns: {}", self.noun(), self.columns().join(", ")),
            )
        })
    }
}

/// What a column holds (see [`Table::kind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Int,
    Float,
    Bool,
    Text,
    Time,
}

/// Most values one `whereIn` may list: PostgreSQL and MySQL take at most
/// 65,535 parameters per statement, and a list this long is a mistake.
pub const MAX_IN_VALUES: usize = 10_000;

/// `value` as `column` can compare it, or why it cannot. Timestamps are
/// left to the stores, which parse the text forms they accept.
fn comparable(table: Table, column: &'static str, value: Value) -> Result<Value> {
    let refuse = |what: &str, v: &Value| {
        let shown = match v {
            Value::Text(t) => format!("'{}'", t.chars().take(60).collect::<String>()),
            other => format!("{other:?}"),
        };
        Err(Error::invalid("value", format!("column '{column}' holds {what}; {shown} is not one")))
    };
    match (table.kind(column), value) {
        (_, Value::Null) => Ok(Value::Null),
        // PostgreSQL's text cannot hold NUL (an error there, a match
        // elsewhere): refused alike on every backend.
        (_, Value::Text(t)) if t.contains('\0') => {
            Err(Error::invalid("value", format!("a value for column '{column}' must not contain a NUL byte")))
        }
        (ColumnKind::Int, Value::Int(i)) => Ok(Value::Int(i)),
        (ColumnKind::Int, Value::Bool(b)) => Ok(Value::Int(b as i64)),
        (ColumnKind::Int, Value::Float(f)) if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Value::Int(f as i64)),
        (ColumnKind::Int, Value::Text(t)) if t.trim().parse::<i64>().is_ok() => Ok(Value::Int(t.trim().parse().unwrap_or(0))),
        (ColumnKind::Int, v) => refuse("integers", &v),
        (ColumnKind::Float, Value::Int(i)) => Ok(Value::Float(i as f64)),
        (ColumnKind::Float, Value::Float(f)) if f.is_finite() => Ok(Value::Float(f)),
        (ColumnKind::Float, Value::Text(t)) if t.trim().parse::<f64>().map(f64::is_finite).unwrap_or(false) => {
            Ok(Value::Float(t.trim().parse().unwrap_or(0.0)))
        }
        (ColumnKind::Float, v) => refuse("numbers", &v),
        (ColumnKind::Bool, Value::Bool(b)) => Ok(Value::Bool(b)),
        (ColumnKind::Bool, Value::Int(i)) if i == 0 || i == 1 => Ok(Value::Bool(i == 1)),
        (ColumnKind::Bool, Value::Text(t)) => match t.trim().to_ascii_lowercase().as_str() {
            "1" | "true" => Ok(Value::Bool(true)),
            "0" | "false" | "" => Ok(Value::Bool(false)),
            _ => refuse("booleans", &Value::Text(t)),
        },
        (ColumnKind::Bool, v) => refuse("booleans", &v),
        (ColumnKind::Text, Value::Int(i)) => Ok(Value::Text(i.to_string())),
        (ColumnKind::Text, Value::Bool(b)) => Ok(Value::Text((b as i64).to_string())),
        (ColumnKind::Text, Value::Float(f)) if f.is_finite() => Ok(Value::Text(f.to_string())),
        (ColumnKind::Text, Value::Text(t)) => Ok(Value::Text(t)),
        (ColumnKind::Text, v) => refuse("text", &v),
        (ColumnKind::Time, Value::Float(f)) if !f.is_finite() => refuse("timestamps", &Value::Float(f)),
        (ColumnKind::Time, v) => Ok(v),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
    NotLike,
}

impl Op {
    pub fn parse(s: &str) -> Result<Op> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "=" | "==" => Op::Eq,
            "!=" | "<>" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "like" => Op::Like,
            "not like" => Op::NotLike,
            _ => {
                return Err(Error::invalid(
                    "operator",
                    format!("'{s}' is not supported; use =, !=, <>, <, <=, >, >=, like or not like"),
                ))
            }
        })
    }

    pub fn sql(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "<>",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Like => "LIKE",
            Op::NotLike => "NOT LIKE",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Compare {
        column: &'static str,
        op: Op,
        value: Value,
    },
    /// `= NULL` becomes `IS NULL` (as Eloquent does).
    IsNull {
        column: &'static str,
        negate: bool,
    },
    In {
        column: &'static str,
        values: Vec<Value>,
        negate: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Asc,
    Desc,
}

impl Dir {
    pub fn parse(s: &str) -> Result<Dir> {
        match s.trim().to_ascii_lowercase().as_str() {
            "asc" => Ok(Dir::Asc),
            "desc" => Ok(Dir::Desc),
            _ => Err(Error::invalid("direction", format!("'{s}' must be 'asc' or 'desc'"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub table: Table,
    pub conds: Vec<Cond>,
    pub order: Vec<(&'static str, Dir)>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl Query {
    pub fn new(table: Table) -> Self {
        Query { table, conds: Vec::new(), order: Vec::new(), limit: None, offset: None }
    }

    pub fn where_op(mut self, column: &str, op: Op, value: Value) -> Result<Self> {
        let column = self.table.column(column)?;
        let cond = match (op, &value) {
            (Op::Eq, Value::Null) => Cond::IsNull { column, negate: false },
            (Op::Ne, Value::Null) => Cond::IsNull { column, negate: true },
            (_, Value::Null) => {
                return Err(Error::invalid("value", format!("null can only be compared with = or != (column '{column}')")))
            }
            (Op::Like | Op::NotLike, Value::Text(t)) if t.contains('\0') => {
                return Err(Error::invalid("value", format!("a pattern for column '{column}' must not contain a NUL byte")))
            }
            // LIKE patterns are text whatever the column holds.
            (Op::Like | Op::NotLike, _) => Cond::Compare { column, op, value },
            _ => Cond::Compare { column, op, value: comparable(self.table, column, value)? },
        };
        self.conds.push(cond);
        Ok(self)
    }

    pub fn where_eq(self, column: &str, value: Value) -> Result<Self> {
        self.where_op(column, Op::Eq, value)
    }

    pub fn where_in(mut self, column: &str, values: Vec<Value>, negate: bool) -> Result<Self> {
        let column = self.table.column(column)?;
        if values.iter().any(|v| matches!(v, Value::Null)) {
            return Err(Error::invalid("value", format!("whereIn on '{column}' cannot contain null")));
        }
        if values.len() > MAX_IN_VALUES {
            return Err(Error::invalid(
                "value",
                format!("whereIn on '{column}' lists {} values; at most {MAX_IN_VALUES} are accepted", values.len()),
            ));
        }
        let values = values.into_iter().map(|v| comparable(self.table, column, v)).collect::<Result<Vec<_>>>()?;
        self.conds.push(Cond::In { column, values, negate });
        Ok(self)
    }

    pub fn where_null(mut self, column: &str, negate: bool) -> Result<Self> {
        let column = self.table.column(column)?;
        self.conds.push(Cond::IsNull { column, negate });
        Ok(self)
    }

    pub fn order_by(mut self, column: &str, dir: Dir) -> Result<Self> {
        let column = self.table.column(column)?;
        self.order.push((column, dir));
        Ok(self)
    }

    /// Claim order: priority rank, then id. `priority_rank` is an internal
    /// column (not one a caller may name), so this is the engine's own way
    /// to sort by it.
    pub fn order_by_claim_key(mut self) -> Self {
        self.order = vec![("priority_rank", Dir::Asc), ("id", Dir::Asc)];
        self
    }

    pub fn limit(mut self, n: i64) -> Result<Self> {
        if n < 0 {
            return Err(Error::invalid("limit", format!("must not be negative, got {n}")));
        }
        self.limit = Some(n);
        Ok(self)
    }

    pub fn offset(mut self, n: i64) -> Result<Self> {
        if n < 0 {
            return Err(Error::invalid("offset", format!("must not be negative, got {n}")));
        }
        self.offset = Some(n);
        Ok(self)
    }

    /// Checks an update's columns against the writable whitelist.
    pub fn writable_column(&self, name: &str) -> Result<&'static str> {
        let col = self.table.column(name)?;
        if !self.table.writable().contains(&col) {
            return Err(Error::invalid("column", format!("'{col}' is managed by the engine and cannot be written")));
        }
        Ok(col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_columns_and_operators_are_rejected_with_the_name() {
        let e = Query::new(Table::Tasks).where_eq("status; DROP TABLE x", Value::Int(1)).unwrap_err();
        assert!(e.to_string().contains("status; DROP TABLE x"), "{e}");
        assert!(Op::parse("~").is_err());
        assert!(Query::new(Table::Tasks).order_by("id", Dir::parse("sideways").unwrap_or(Dir::Asc)).is_ok());
    }

    #[test]
    fn values_a_column_cannot_hold_are_refused_the_same_on_every_backend() {
        let q = || Query::new(Table::Tasks);
        for bad in [Value::Text("1abc".into()), Value::Text("product".into()), Value::Float(1.5), Value::Float(f64::NAN)] {
            let e = q().where_eq("id", bad.clone()).unwrap_err();
            assert!(e.to_string().contains("'id' holds integers"), "{bad:?}: {e}");
        }
        assert_eq!(
            q().where_eq("id", Value::Text(" 12 ".into())).unwrap().conds,
            vec![Cond::Compare { column: "id", op: Op::Eq, value: Value::Int(12) }]
        );
        assert_eq!(
            q().where_eq("identifier", Value::Int(5)).unwrap().conds,
            vec![Cond::Compare { column: "identifier", op: Op::Eq, value: Value::Text("5".into()) }]
        );
        assert!(q().where_eq("cancel_requested", Value::Text("maybe".into())).is_err());
        assert!(q().where_in("status", vec![Value::Int(10), Value::Text("x".into())], false).is_err());
        assert!(q().where_in("id", (0..=MAX_IN_VALUES as i64).map(Value::Int).collect(), false).is_err());
        assert!(q().where_op("id", Op::Like, Value::Text("1%".into())).is_ok());
    }

    #[test]
    fn equality_with_null_becomes_is_null() {
        let q = Query::new(Table::Tasks).where_eq("start_at", Value::Null).unwrap();
        assert_eq!(q.conds, vec![Cond::IsNull { column: "start_at", negate: false }]);
    }

    #[test]
    fn engine_columns_cannot_be_written() {
        let q = Query::new(Table::Tasks);
        assert!(q.writable_column("lease_owner").is_err());
        assert!(q.writable_column("progress").is_ok());
    }
}
