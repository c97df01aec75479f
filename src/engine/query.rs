//! The chainable query of `sTaskModel::where(...)->orderBy(...)->get()`.
//!
//! A `Query` is plain data: every column is checked against the table's
//! whitelist and every operator against `Op` when it is added, so the store
//! can build SQL from it with placeholders only.

use crate::engine::{task, worker, Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

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
            _ => Cond::Compare { column, op, value },
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
