//! PHP values written into columns: one conversion per column kind, shared
//! by `__set`, `update()`, `create()` and the query builder's `update()`.

use crate::engine::query::{Table, Value};
use crate::engine::task::{Priority, Status};
use crate::engine::time;
use crate::php::convert::{describe, int_arg, string_arg, zval_to_json, zval_to_timestamp};
use crate::php::exceptions::{invalid, throw};
use crate::php::workers::check_worker_class;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::types::Zval;

/// A worker's class, as written through a model or the query builder: it
/// must load, implement TaskInterface and not be abstract, or the task
/// runner would construct whatever class was named (`SplFileObject`) and
/// call its methods. Orphans (a row whose class went with a removed
/// package) exist only because the package went away, never through here.
fn worker_class_arg(z: &Zval) -> PhpResult<String> {
    let class = string_arg(z, "class")?;
    check_worker_class(&class).map_err(|(kind, message)| throw(kind, message))?;
    Ok(class)
}

/// Converts `z` for `column` (already whitelisted) of `table`.
pub fn column_value(table: Table, column: &'static str, z: &Zval) -> PhpResult<Value> {
    let z = z.dereference();
    if table.json_columns().contains(&column) {
        if z.is_null() {
            // A worker's settings column is NOT NULL: null means "no settings".
            return Ok(if table == Table::Workers { Value::Text("{}".into()) } else { Value::Null });
        }
        let json = zval_to_json(z, column)?;
        if table == Table::Workers && !json.is_object() && !matches!(&json, serde_json::Value::Array(a) if a.is_empty()) {
            return Err(invalid(column, format!("settings must be an associative array, got {}", describe(z))));
        }
        return Ok(Value::Text(json.to_string()));
    }
    if table.timestamps().contains(&column) {
        return Ok(match zval_to_timestamp(z, column)? {
            Some(t) => Value::Text(time::to_db(&t)),
            None => Value::Null,
        });
    }
    match (table, column) {
        (Table::Tasks, "status") => {
            if let Some(s) = z.str() {
                if s.trim().parse::<i64>().is_err() {
                    return Status::from_name(s)
                        .map(|st| Value::Int(st.code()))
                        .ok_or_else(|| invalid("status", format!("'{s}' is not a task status")));
                }
            }
            Ok(Value::Int(int_arg(z, "status")?))
        }
        (Table::Tasks, "priority") => Ok(Value::Text(priority_arg(z)?.name().to_string())),
        (Table::Tasks, "started_by" | "peak_memory") if z.is_null() => Ok(Value::Null),
        (Table::Tasks, "progress" | "attempts" | "max_attempts" | "started_by" | "peak_memory") => {
            Ok(Value::Int(int_arg(z, column)?))
        }
        (Table::Tasks, "duration") => match z.double().or_else(|| z.long().map(|i| i as f64)) {
            Some(f) => Ok(Value::Float(f)),
            None if z.is_null() => Ok(Value::Null),
            None => Err(invalid(column, format!("expected a number of seconds, got {}", describe(z)))),
        },
        (Table::Tasks, "message" | "last_error") if z.is_null() => Ok(Value::Null),
        (Table::Workers, "uuid") if z.is_null() => Ok(Value::Null),
        (Table::Workers, "active") => Ok(Value::Bool(bool_arg(z, column)?)),
        (Table::Workers, "position" | "hidden") => Ok(Value::Int(int_arg(z, column)?)),
        (Table::Workers, "class") => Ok(Value::Text(worker_class_arg(z)?)),
        _ => Ok(Value::Text(string_arg(z, column)?)),
    }
}

pub fn bool_arg(z: &Zval, name: &str) -> PhpResult<bool> {
    let z = z.dereference();
    if let Some(b) = z.bool() {
        return Ok(b);
    }
    if let Some(i) = z.long() {
        return Ok(i != 0);
    }
    if let Some(s) = z.str() {
        match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "on" | "yes" => return Ok(true),
            "0" | "false" | "off" | "no" | "" => return Ok(false),
            _ => {}
        }
    }
    Err(invalid(name, format!("expected a boolean, got {}", describe(z))))
}

/// 'low' | 'normal' | 'high', or 1 | 2 | 3 (the admin's ids).
pub fn priority_arg(z: &Zval) -> PhpResult<Priority> {
    let z = z.dereference();
    if let Some(s) = z.str() {
        if let Ok(n) = s.trim().parse::<i64>() {
            return Priority::from_int(n).ok_or_else(|| bad_priority(z));
        }
        return Priority::parse(s).ok_or_else(|| bad_priority(z));
    }
    if let Some(n) = z.long() {
        return Priority::from_int(n).ok_or_else(|| bad_priority(z));
    }
    Err(bad_priority(z))
}

fn bad_priority(z: &Zval) -> ext_php_rs::exception::PhpException {
    invalid("priority", format!("{} is not a priority; use 'low', 'normal' or 'high' (or 1 low, 2 normal, 3 high)", describe(z)))
}
