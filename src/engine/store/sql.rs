//! SQL text shared by the dialects: WHERE/ORDER/LIMIT clauses built from a
//! `Query`. Columns come from the whitelist in `Query`, values become
//! placeholders, so nothing the caller typed reaches the SQL text.

use crate::engine::query::{Cond, Dir, Op, Query, Value};

/// How a dialect writes its n-th placeholder (1-based).
#[derive(Debug, Clone, Copy)]
pub enum Placeholders {
    /// `?` (SQLite, MySQL)
    Question,
    /// `$1` (PostgreSQL)
    Dollar,
}

impl Placeholders {
    pub fn nth(self, n: usize) -> String {
        match self {
            Placeholders::Question => "?".into(),
            Placeholders::Dollar => format!("${n}"),
        }
    }
}

/// Accumulates SQL text and its bound values in order.
pub struct SqlBuilder {
    pub sql: String,
    pub values: Vec<Value>,
    style: Placeholders,
    /// MySQL: `LOWER(col) LIKE LOWER(?)`, because its name columns compare
    /// bytes (mysql.rs, `exact_names_on`) and LIKE is case-insensitive on
    /// every backend.
    pub fold_like: bool,
}

impl SqlBuilder {
    pub fn new(style: Placeholders) -> Self {
        SqlBuilder { sql: String::with_capacity(128), values: Vec::new(), style, fold_like: false }
    }

    pub fn push(&mut self, s: &str) -> &mut Self {
        self.sql.push_str(s);
        self
    }

    pub fn bind(&mut self, v: Value) -> &mut Self {
        self.values.push(v);
        let p = self.style.nth(self.values.len());
        self.sql.push_str(&p);
        self
    }

    /// ` WHERE …` for the query's conditions (nothing when there are none).
    pub fn where_clause(&mut self, q: &Query) -> &mut Self {
        for (i, c) in q.conds.iter().enumerate() {
            self.push(if i == 0 { " WHERE " } else { " AND " });
            match c {
                Cond::Compare { column, op: op @ (Op::Like | Op::NotLike), value }
                    if matches!(self.style, Placeholders::Dollar) =>
                {
                    // PostgreSQL: LIKE is case-sensitive and needs text; match
                    // SQLite and MySQL (case-insensitive, any column).
                    let op = if *op == Op::Like { " ILIKE " } else { " NOT ILIKE " };
                    self.push("CAST(").push(column).push(" AS TEXT)").push(op);
                    self.bind(value.clone());
                }
                Cond::Compare { column, op: op @ (Op::Like | Op::NotLike), value } if self.fold_like => {
                    self.push("LOWER(").push(column).push(") ").push(op.sql()).push(" LOWER(");
                    self.bind(value.clone());
                    self.push(")");
                }
                Cond::Compare { column, op, value } => {
                    self.push(column).push(" ").push(op.sql()).push(" ");
                    self.bind(value.clone());
                }
                Cond::IsNull { column, negate } => {
                    self.push(column).push(if *negate { " IS NOT NULL" } else { " IS NULL" });
                }
                Cond::In { column, values, negate } => {
                    if values.is_empty() {
                        // `IN ()` is a syntax error; an empty set matches nothing.
                        self.push(if *negate { "1 = 1" } else { "1 = 0" });
                        continue;
                    }
                    self.push(column).push(if *negate { " NOT IN (" } else { " IN (" });
                    for (j, v) in values.iter().enumerate() {
                        if j > 0 {
                            self.push(", ");
                        }
                        self.bind(v.clone());
                    }
                    self.push(")");
                }
            }
        }
        self
    }

    /// ` ORDER BY … LIMIT … OFFSET …`; `id` breaks ties so pages are stable.
    pub fn order_limit(&mut self, q: &Query, default_order: &str) -> &mut Self {
        if q.order.is_empty() {
            self.push(" ORDER BY ").push(default_order);
        } else {
            self.push(" ORDER BY ");
            for (i, (col, dir)) in q.order.iter().enumerate() {
                if i > 0 {
                    self.push(", ");
                }
                self.push(col).push(if *dir == Dir::Desc { " DESC" } else { " ASC" });
            }
            if !q.order.iter().any(|(c, _)| *c == "id") {
                self.push(", id ASC");
            }
        }
        match (q.limit, q.offset) {
            (Some(l), o) => {
                self.push(" LIMIT ");
                self.bind(Value::Int(l));
                if let Some(o) = o {
                    self.push(" OFFSET ");
                    self.bind(Value::Int(o));
                }
            }
            (None, Some(o)) => {
                // SQLite and MySQL need a LIMIT before OFFSET.
                self.push(" LIMIT ");
                self.bind(Value::Int(i64::MAX));
                self.push(" OFFSET ");
                self.bind(Value::Int(o));
            }
            (None, None) => {}
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::query::{Op, Table};

    #[test]
    fn values_become_placeholders_in_order() {
        let q = Query::new(Table::Tasks)
            .where_op("status", Op::Eq, Value::Int(10))
            .unwrap()
            .where_in("priority", vec![Value::Text("high".into()), Value::Text("low".into())], false)
            .unwrap()
            .limit(5)
            .unwrap();
        let mut b = SqlBuilder::new(Placeholders::Dollar);
        b.push("SELECT * FROM t").where_clause(&q).order_limit(&q, "id");
        assert_eq!(b.sql, "SELECT * FROM t WHERE status = $1 AND priority IN ($2, $3) ORDER BY id LIMIT $4");
        assert_eq!(b.values.len(), 4);
    }

    #[test]
    fn an_empty_in_list_matches_nothing() {
        let q = Query::new(Table::Tasks).where_in("id", vec![], false).unwrap();
        let mut b = SqlBuilder::new(Placeholders::Question);
        b.where_clause(&q);
        assert_eq!(b.sql, " WHERE 1 = 0");
    }
}
