//! What a dialect's SQL text differs in, described once per backend and
//! applied when the store connects: every statement is written once with
//! named parameters (`:now`), and `Dialect::stmt` turns it into the
//! backend's placeholders. Bound values travel as one typed list (`Arg`).

use crate::engine::query::{ColumnKind, Table, Value};
use crate::engine::time::{self, Timestamp};
use std::borrow::Cow;
use std::sync::Arc;

/// How a dialect writes placeholders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholders {
    /// `?1` (SQLite): numbered, a name used twice is bound once.
    NumberedQuestion,
    /// `$1` (PostgreSQL): numbered likewise.
    Dollar,
    /// `?` (MySQL): positional only, a name used twice is bound twice.
    Question,
}

/// How a `Query`'s values meet their columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// As they are: SQLite compares by affinity.
    AsIs,
    /// Converted to the column's type: PostgreSQL refuses `'10'` for an
    /// integer and text for a timestamp.
    Typed,
    /// Only timestamps converted (MySQL compares DATETIME with DATETIME to
    /// use the index; the rest it converts itself).
    Timestamps,
}

/// How LIKE matches case-insensitively on every backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Like {
    /// SQLite: LIKE already ignores ASCII case.
    Plain,
    /// PostgreSQL: `CAST(col AS TEXT) ILIKE`, since its LIKE is
    /// case-sensitive and needs text.
    Ilike,
    /// MySQL: `LOWER(col) LIKE LOWER(?)`, because its name columns compare
    /// bytes (mysql.rs, `exact_names_on`).
    Lower,
}

#[derive(Debug, Clone, Copy)]
pub struct Dialect {
    pub placeholders: Placeholders,
    pub binding: Binding,
    pub like: Like,
    /// `UPDATE … RETURNING` (SQLite, PostgreSQL; MySQL has none).
    pub returning: bool,
    /// `INSERT … ON CONFLICT … DO UPDATE … WHERE` (SQLite, PostgreSQL).
    pub upsert: bool,
    /// Appended to a name in ORDER BY so names sort byte-wise, as SQLite
    /// sorts them whatever the database's locale.
    pub byte_order: &'static str,
    /// `LISTEN/NOTIFY` (PostgreSQL): inserts and retries notify `:channel`.
    pub notify: bool,
    /// `SKIP LOCKED` after `FOR UPDATE`, where the server has it.
    pub skip_locked: &'static str,
    /// A limited UPDATE/DELETE goes through a derived table (MySQL refuses
    /// a subquery on the changed table, 1093, and LIMIT inside IN, 1235).
    pub derived_limit: bool,
    pub hour: fn(&str) -> String,
    pub float: fn(&str) -> String,
    pub int: fn(&str) -> String,
}

impl Dialect {
    pub const SQLITE: Dialect = Dialect {
        placeholders: Placeholders::NumberedQuestion,
        binding: Binding::AsIs,
        like: Like::Plain,
        returning: true,
        upsert: true,
        byte_order: "",
        notify: false,
        skip_locked: "",
        derived_limit: false,
        // Timestamps are fixed-width text: the hour is the first 13 characters.
        hour: |c| format!("substr({c}, 1, 13)"),
        float: |e| e.to_string(),
        int: |e| e.to_string(),
    };

    /// AVG and SUM of integers are numeric in PostgreSQL, which sqlx cannot
    /// read without another crate: cast back.
    pub const POSTGRES: Dialect = Dialect {
        placeholders: Placeholders::Dollar,
        binding: Binding::Typed,
        like: Like::Ilike,
        returning: true,
        upsert: true,
        byte_order: " COLLATE \"C\"",
        notify: true,
        skip_locked: " SKIP LOCKED",
        derived_limit: false,
        hour: |c| format!("to_char({c}, 'YYYY-MM-DD HH24')"),
        float: |e| format!("({e})::float8"),
        int: |e| format!("({e})::int8"),
    };

    /// MySQL's SUM and AVG of integers are DECIMAL: `* 1E0` makes a DOUBLE,
    /// CAST … AS SIGNED an integer. Names compare bytes by their columns'
    /// collation (mysql.rs `exact_names_on`), so ORDER BY needs nothing.
    pub const MYSQL: Dialect = Dialect {
        placeholders: Placeholders::Question,
        binding: Binding::Timestamps,
        like: Like::Lower,
        returning: false,
        upsert: false,
        byte_order: "",
        notify: false,
        skip_locked: " SKIP LOCKED",
        derived_limit: true,
        hour: |c| format!("DATE_FORMAT({c}, '%Y-%m-%d %H')"),
        float: |e| format!("({e}) * 1E0"),
        int: |e| format!("CAST({e} AS SIGNED)"),
    };

    /// `YYYY-MM-DD HH` of a timestamp column.
    pub fn hour(&self, column: &str) -> String {
        (self.hour)(column)
    }

    pub fn float(&self, expr: &str) -> String {
        (self.float)(expr)
    }

    pub fn int(&self, expr: &str) -> String {
        (self.int)(expr)
    }

    /// The n-th (1-based) placeholder.
    pub fn nth(&self, n: usize) -> String {
        match self.placeholders {
            Placeholders::NumberedQuestion => format!("?{n}"),
            Placeholders::Dollar => format!("${n}"),
            Placeholders::Question => "?".into(),
        }
    }

    /// Turns `:name` parameters into this dialect's placeholders. Text in
    /// single quotes and `::` casts are left alone.
    pub fn stmt(&self, named: &str) -> Stmt {
        let mut sql = String::with_capacity(named.len());
        let mut names: Vec<&'static str> = Vec::new();
        let b = named.as_bytes();
        let (mut i, mut quoted) = (0, false);
        while i < b.len() {
            let c = b[i];
            let starts = c == b':' && !quoted && b.get(i + 1).is_some_and(u8::is_ascii_lowercase) && (i == 0 || b[i - 1] != b':');
            if !starts {
                quoted ^= c == b'\'';
                sql.push(c as char);
                i += 1;
                continue;
            }
            let end = (i + 1..b.len()).find(|&j| !(b[j].is_ascii_lowercase() || b[j] == b'_' || b[j].is_ascii_digit()));
            let end = end.unwrap_or(b.len());
            let name = intern(&named[i + 1..end]);
            let n = match self.placeholders {
                Placeholders::Question => {
                    names.push(name);
                    names.len()
                }
                _ => match names.iter().position(|x| *x == name) {
                    Some(k) => k + 1,
                    None => {
                        names.push(name);
                        names.len()
                    }
                },
            };
            sql.push_str(&self.nth(n));
            i = end;
        }
        Stmt { sql: Arc::from(sql), names: names.into() }
    }

    /// A `Query` value as this dialect binds it against `column`.
    pub fn arg_for(&self, table: Table, column: &str, v: &Value) -> Arg<'static> {
        match self.binding {
            Binding::AsIs => Arg::of(v),
            Binding::Typed => Arg::for_column(table.kind(column), v),
            Binding::Timestamps => match (table.kind(column), v) {
                (ColumnKind::Time, Value::Text(s)) => time::from_db(s).map(|t| Arg::Time(Some(t))).unwrap_or_else(|| Arg::of(v)),
                _ => Arg::of(v),
            },
        }
    }
}

/// Parameter names live as long as the statements; the few distinct ones
/// are leaked once per process.
fn intern(name: &str) -> &'static str {
    static NAMES: parking_lot::Mutex<Vec<&'static str>> = parking_lot::Mutex::new(Vec::new());
    let mut names = NAMES.lock();
    if let Some(n) = names.iter().find(|n| **n == name) {
        return n;
    }
    let n: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.push(n);
    n
}

/// A statement in a dialect's SQL, and the parameter name each of its
/// placeholders takes, in order.
#[derive(Debug, Clone)]
pub struct Stmt {
    pub sql: Arc<str>,
    names: Box<[&'static str]>,
}

impl Stmt {
    /// The positional arguments for named ones. A name the statement uses
    /// and `args` lacks is a bug of the statement's caller.
    pub fn bind<'a>(&self, args: &'a [(&str, Arg<'a>)]) -> Vec<Arg<'a>> {
        self.names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let hit = args.get(i).filter(|(n, _)| n == name).or_else(|| args.iter().find(|(n, _)| n == name));
                hit.map(|(_, a)| a.borrowed()).unwrap_or_else(|| panic!("statement parameter :{name} not bound"))
            })
            .collect()
    }
}

/// One bound value, typed. A NULL is typed too: PostgreSQL refuses a text
/// NULL in an integer column.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg<'a> {
    Int(Option<i64>),
    Float(Option<f64>),
    Bool(Option<bool>),
    Text(Option<Cow<'a, str>>),
    Time(Option<Timestamp>),
}

impl<'a> Arg<'a> {
    pub fn int(i: i64) -> Arg<'a> {
        Arg::Int(Some(i))
    }

    pub fn text(s: &'a str) -> Arg<'a> {
        Arg::Text(Some(Cow::Borrowed(s)))
    }

    pub fn opt_text(s: &'a Option<String>) -> Arg<'a> {
        Arg::Text(s.as_deref().map(Cow::Borrowed))
    }

    pub fn time(t: &Timestamp) -> Arg<'a> {
        Arg::Time(Some(*t))
    }

    /// The same value, its text borrowed.
    pub fn borrowed(&self) -> Arg<'_> {
        match self {
            Arg::Text(Some(s)) => Arg::Text(Some(Cow::Borrowed(s.as_ref()))),
            Arg::Text(None) => Arg::Text(None),
            Arg::Int(v) => Arg::Int(*v),
            Arg::Float(v) => Arg::Float(*v),
            Arg::Bool(v) => Arg::Bool(*v),
            Arg::Time(v) => Arg::Time(*v),
        }
    }

    /// By the value alone, where no column is involved (LIMIT, OFFSET).
    pub fn of(v: &Value) -> Arg<'static> {
        match v {
            Value::Null => Arg::Text(None),
            Value::Bool(b) => Arg::Bool(Some(*b)),
            Value::Int(i) => Arg::Int(Some(*i)),
            Value::Float(f) => Arg::Float(Some(*f)),
            Value::Text(s) => Arg::Text(Some(Cow::Owned(s.clone()))),
        }
    }

    /// As the column needs it, converting what SQLite would have compared
    /// by affinity (`'10'` against an integer, `1` against a boolean, the
    /// engine's timestamp text against a timestamp). What cannot be
    /// converted is bound as it is, and the server reports the mismatch.
    pub fn for_column(kind: ColumnKind, v: &Value) -> Arg<'static> {
        use ColumnKind as K;
        match (kind, v) {
            (K::Int, Value::Null) => Arg::Int(None),
            (K::Float, Value::Null) => Arg::Float(None),
            (K::Bool, Value::Null) => Arg::Bool(None),
            (K::Text, Value::Null) => Arg::Text(None),
            (K::Time, Value::Null) => Arg::Time(None),

            (K::Int, Value::Bool(b)) => Arg::Int(Some(*b as i64)),
            (K::Int, Value::Float(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Arg::Int(Some(*f as i64)),
            (K::Int, Value::Text(s)) => match (s.trim().parse::<i64>(), s.trim().parse::<f64>()) {
                (Ok(i), _) => Arg::Int(Some(i)),
                (_, Ok(f)) => Arg::Float(Some(f)),
                _ => Arg::of(v),
            },

            (K::Float, Value::Int(i)) => Arg::Float(Some(*i as f64)),
            (K::Float, Value::Bool(b)) => Arg::Float(Some(*b as i64 as f64)),
            (K::Float, Value::Text(s)) => match s.trim().parse::<f64>() {
                Ok(f) => Arg::Float(Some(f)),
                Err(_) => Arg::of(v),
            },

            (K::Bool, Value::Int(i)) => Arg::Bool(Some(*i != 0)),
            (K::Bool, Value::Float(f)) => Arg::Bool(Some(*f != 0.0)),
            (K::Bool, Value::Text(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "t" | "yes" | "on" => Arg::Bool(Some(true)),
                "0" | "false" | "f" | "no" | "off" | "" => Arg::Bool(Some(false)),
                _ => Arg::of(v),
            },

            (K::Time, Value::Text(s)) => match time::from_db(s) {
                Some(t) => Arg::Time(Some(t)),
                // A bare date (`2025-01-16`) means its midnight, UTC.
                None => match chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
                    Ok(d) => Arg::Time(d.and_hms_opt(0, 0, 0).map(|t| t.and_utc())),
                    Err(_) => Arg::of(v),
                },
            },

            (K::Text, Value::Int(i)) => Arg::Text(Some(Cow::Owned(i.to_string()))),
            (K::Text, Value::Float(f)) => Arg::Text(Some(Cow::Owned(f.to_string()))),
            (K::Text, Value::Bool(b)) => Arg::Text(Some(Cow::Borrowed(if *b { "1" } else { "0" }))),

            _ => Arg::of(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_parameters_become_each_dialects_placeholders() {
        let named = "UPDATE t SET a = :now, b = :id::int8, c = ':x' WHERE d = :now";
        let s = Dialect::SQLITE.stmt(named);
        assert_eq!(&*s.sql, "UPDATE t SET a = ?1, b = ?2::int8, c = ':x' WHERE d = ?1");
        let p = Dialect::POSTGRES.stmt(named);
        assert_eq!(&*p.sql, "UPDATE t SET a = $1, b = $2::int8, c = ':x' WHERE d = $1");
        let m = Dialect::MYSQL.stmt(named);
        assert_eq!(&*m.sql, "UPDATE t SET a = ?, b = ?::int8, c = ':x' WHERE d = ?");
        let args = [("id", Arg::int(7)), ("now", Arg::int(1))];
        assert_eq!(s.bind(&args), vec![Arg::int(1), Arg::int(7)]);
        assert_eq!(m.bind(&args), vec![Arg::int(1), Arg::int(7), Arg::int(1)]);
    }

    #[test]
    fn columns_have_the_kind_of_their_schema_type() {
        assert_eq!(Table::Tasks.kind("status"), ColumnKind::Int);
        assert_eq!(Table::Tasks.kind("lease_expires_at"), ColumnKind::Time);
        assert_eq!(Table::Tasks.kind("cancel_requested"), ColumnKind::Bool);
        assert_eq!(Table::Tasks.kind("duration"), ColumnKind::Float);
        assert_eq!(Table::Tasks.kind("meta"), ColumnKind::Text);
        assert_eq!(Table::Workers.kind("active"), ColumnKind::Bool);
        assert_eq!(Table::Workers.kind("hidden"), ColumnKind::Int);
        assert_eq!(Table::Workers.kind("settings"), ColumnKind::Text);
    }

    #[test]
    fn values_are_bound_as_their_column_needs() {
        let time = |s: &str| Arg::Time(time::from_db(s));
        assert_eq!(
            Arg::for_column(ColumnKind::Time, &Value::Text("2025-01-02 03:04:05.123456".into())),
            time("2025-01-02 03:04:05.123456")
        );
        assert_eq!(Arg::for_column(ColumnKind::Time, &Value::Text("2025-01-02".into())), time("2025-01-02 00:00:00"));
        assert_eq!(Arg::for_column(ColumnKind::Time, &Value::Null), Arg::Time(None));
        assert_eq!(Arg::for_column(ColumnKind::Int, &Value::Text(" 10 ".into())), Arg::int(10));
        assert_eq!(Arg::for_column(ColumnKind::Int, &Value::Null), Arg::Int(None));
        assert_eq!(Arg::for_column(ColumnKind::Bool, &Value::Int(1)), Arg::Bool(Some(true)));
        assert_eq!(Arg::for_column(ColumnKind::Bool, &Value::Text("0".into())), Arg::Bool(Some(false)));
        assert_eq!(Arg::for_column(ColumnKind::Text, &Value::Int(7)), Arg::text("7"));
        assert_eq!(Arg::for_column(ColumnKind::Float, &Value::Int(2)), Arg::Float(Some(2.0)));
        // Not convertible: bound as is, for PostgreSQL to refuse.
        assert_eq!(Arg::for_column(ColumnKind::Int, &Value::Text("ten".into())), Arg::text("ten"));
    }
}
