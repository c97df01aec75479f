//! SQL text built at run time from a `Query`: WHERE/ORDER/LIMIT clauses,
//! and the UPDATE/DELETE/SELECT around them. Columns come from the
//! whitelist in `Query`, values become placeholders, so nothing the caller
//! typed reaches the SQL text.

use super::dialect::{Arg, Dialect, Like};
use crate::engine::query::{Cond, Dir, Op, Query, Table, Value};
use crate::engine::task::{Priority, Status};
use crate::engine::time::Timestamp;

/// Accumulates SQL text and its bound values in order.
pub struct SqlBuilder {
    pub sql: String,
    pub args: Vec<Arg<'static>>,
    d: Dialect,
}

impl SqlBuilder {
    pub fn new(d: Dialect) -> Self {
        SqlBuilder { sql: String::with_capacity(128), args: Vec::new(), d }
    }

    pub fn push(&mut self, s: &str) -> &mut Self {
        self.sql.push_str(s);
        self
    }

    pub fn bind(&mut self, a: Arg<'static>) -> &mut Self {
        self.args.push(a);
        let p = self.d.nth(self.args.len());
        self.sql.push_str(&p);
        self
    }

    /// ` WHERE …` for the query's conditions (nothing when there are none).
    pub fn where_clause(&mut self, q: &Query) -> &mut Self {
        let d = self.d;
        for (i, c) in q.conds.iter().enumerate() {
            self.push(if i == 0 { " WHERE " } else { " AND " });
            match c {
                // A LIKE pattern is text whatever the column.
                Cond::Compare { column, op: op @ (Op::Like | Op::NotLike), value } => match d.like {
                    Like::Ilike => {
                        let op = if *op == Op::Like { " ILIKE " } else { " NOT ILIKE " };
                        self.push("CAST(").push(column).push(" AS TEXT)").push(op).bind(Arg::of(value));
                    }
                    Like::Lower => {
                        self.push("LOWER(").push(column).push(") ").push(op.sql()).push(" LOWER(");
                        self.bind(Arg::of(value)).push(")");
                    }
                    Like::Plain => {
                        self.push(column).push(" ").push(op.sql()).push(" ").bind(Arg::of(value));
                    }
                },
                Cond::Compare { column, op, value } => {
                    self.push(column).push(" ").push(op.sql()).push(" ");
                    self.bind(d.arg_for(q.table, column, value));
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
                        self.bind(d.arg_for(q.table, column, v));
                    }
                    self.push(")");
                }
            }
        }
        self
    }

    /// `column IN (…)` over ids.
    pub fn ids(&mut self, column: &str, ids: &[i64]) -> &mut Self {
        self.push(column).push(" IN (");
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(Arg::int(*id));
        }
        self.push(")")
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
                self.push(" LIMIT ").bind(Arg::int(l));
                if let Some(o) = o {
                    self.push(" OFFSET ").bind(Arg::int(o));
                }
            }
            (None, Some(o)) => {
                // SQLite and MySQL need a LIMIT before OFFSET.
                self.push(" LIMIT ").bind(Arg::int(i64::MAX)).push(" OFFSET ").bind(Arg::int(o));
            }
            (None, None) => {}
        }
        self
    }

    /// ` WHERE …` of an UPDATE or DELETE; a limited one picks its rows by
    /// id in a subquery (no backend has a portable `UPDATE … LIMIT`), on
    /// MySQL through a derived table (`Dialect::derived_limit`), which
    /// MySQL materialises. ORDER BY without LIMIT or OFFSET changes nothing
    /// about which rows match.
    pub fn limited_where(&mut self, table: &str, q: &Query) -> &mut Self {
        if q.limit.is_none() && q.offset.is_none() {
            return self.where_clause(q);
        }
        let derived = self.d.derived_limit;
        self.push(if derived { " WHERE id IN (SELECT id FROM (SELECT id FROM " } else { " WHERE id IN (SELECT id FROM " });
        self.push(table).where_clause(q).order_limit(q, "id ASC");
        self.push(if derived { ") AS picked)" } else { ")" })
    }

    /// `UPDATE … SET` for whitelisted columns. The engine keeps its own
    /// claim columns (priority rank, availability) in step with what the
    /// caller wrote. The assignments it adds read only bound values or
    /// columns no assignment here writes (`start_at` is read only when the
    /// caller did not set it), so MySQL's left-to-right SET changes nothing.
    pub fn update(&mut self, table: &str, q: &Query, set: &[(&'static str, Value)], now: Timestamp) -> &mut Self {
        let d = self.d;
        let now_arg = || Arg::Time(Some(now));
        self.push("UPDATE ").push(table).push(" SET ");
        let mut first = true;
        let mut sep = |b: &mut Self| {
            if !first {
                b.push(", ");
            }
            first = false;
        };
        for (col, v) in set {
            sep(self);
            self.push(col).push(" = ").bind(d.arg_for(q.table, col, v));
        }
        if q.table == Table::Tasks {
            let find = |c: &str| set.iter().find(|(k, _)| *k == c).map(|(_, v)| v.clone());
            if let Some(p) = find("priority") {
                let rank = match &p {
                    Value::Text(s) => Priority::rank_of_name(s),
                    _ => Priority::Normal.rank(),
                };
                sep(self);
                self.push("priority_rank = ").bind(Arg::int(rank));
            }
            if let Some(start) = find("start_at") {
                sep(self);
                self.push("available_at = COALESCE(").bind(d.arg_for(q.table, "start_at", &start));
                self.push(", ").bind(now_arg()).push(")");
            } else if find("status") == Some(Value::Int(Status::Pending.code())) {
                // Queued again by hand: due now, or at its scheduled time.
                sep(self);
                self.push("available_at = CASE WHEN start_at > ").bind(now_arg());
                self.push(" THEN start_at ELSE ").bind(now_arg()).push(" END, cancel_requested = false");
            }
        }
        if !set.iter().any(|(c, _)| *c == "updated_at") {
            sep(self);
            self.push("updated_at = ").bind(now_arg());
        }
        self.limited_where(table, q)
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
        let mut b = SqlBuilder::new(Dialect::POSTGRES);
        b.push("SELECT * FROM t").where_clause(&q).order_limit(&q, "id");
        assert_eq!(b.sql, "SELECT * FROM t WHERE status = $1 AND priority IN ($2, $3) ORDER BY id LIMIT $4");
        assert_eq!(b.args.len(), 4);
    }

    #[test]
    fn an_empty_in_list_matches_nothing() {
        let q = Query::new(Table::Tasks).where_in("id", vec![], false).unwrap();
        let mut b = SqlBuilder::new(Dialect::MYSQL);
        b.where_clause(&q);
        assert_eq!(b.sql, " WHERE 1 = 0");
    }

    #[test]
    fn where_values_are_typed_by_the_column_they_meet() {
        let q = Query::new(Table::Tasks)
            .where_op("created_at", Op::Ge, Value::Text("2025-01-01 00:00:00.000000".into()))
            .unwrap()
            .where_null("start_at", true)
            .unwrap()
            .where_in("status", vec![Value::Text("10".into()), Value::Int(15)], false)
            .unwrap()
            .limit(5)
            .unwrap();
        let mut s = SqlBuilder::new(Dialect::POSTGRES);
        s.push("SELECT id FROM t").where_clause(&q).order_limit(&q, "id");
        assert_eq!(
            s.sql,
            "SELECT id FROM t WHERE created_at >= $1 AND start_at IS NOT NULL AND status IN ($2, $3) ORDER BY id LIMIT $4"
        );
        assert!(matches!(s.args[0], Arg::Time(Some(_))));
        assert_eq!(&s.args[1..], &[Arg::int(10), Arg::int(15), Arg::int(5)]);
    }

    #[test]
    fn requeueing_by_hand_makes_the_task_due_and_clears_a_cancel() {
        let q = Query::new(Table::Tasks).where_eq("id", Value::Int(3)).unwrap();
        let now = chrono::Utc::now();
        let mut s = SqlBuilder::new(Dialect::POSTGRES);
        s.update("t", &q, &[("status", Value::Int(10)), ("priority", Value::Text("high".into()))], now);
        assert_eq!(
            s.sql,
            "UPDATE t SET status = $1, priority = $2, priority_rank = $3, available_at = CASE WHEN start_at > $4 \
             THEN start_at ELSE $5 END, cancel_requested = false, updated_at = $6 WHERE id = $7"
        );
        assert_eq!(s.args[2], Arg::int(1));
        assert_eq!(s.args.len(), 7);
        let ordered = q.clone().order_by("id", crate::engine::query::Dir::Desc).unwrap().limit(1).unwrap();
        let mut s = SqlBuilder::new(Dialect::POSTGRES);
        s.update("t", &ordered, &[("progress", Value::Int(5))], now);
        assert!(s.sql.ends_with("WHERE id IN (SELECT id FROM t WHERE id = $3 ORDER BY id DESC LIMIT $4)"), "{}", s.sql);
    }

    #[test]
    fn a_limited_update_goes_through_a_derived_table_on_mysql() {
        let q = Query::new(Table::Tasks).where_eq("status", Value::Int(10)).unwrap().limit(2).unwrap();
        let mut s = SqlBuilder::new(Dialect::MYSQL);
        s.update("t", &q, &[("progress", Value::Int(5))], chrono::Utc::now());
        assert!(
            s.sql.ends_with("WHERE id IN (SELECT id FROM (SELECT id FROM t WHERE status = ? ORDER BY id ASC LIMIT ?) AS picked)"),
            "{}",
            s.sql
        );
    }
}
