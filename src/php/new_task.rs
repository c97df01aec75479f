//! The named fields of `sTask::create(...)`, and of each element of
//! `sTask::createMany([...])`: one conversion for both, so a value that one
//! accepts the other accepts, and a value one refuses the other refuses with
//! the same message (prefixed `tasks[key].` for an element of a batch).

use crate::engine::task::NewTask;
use crate::php::columns::priority_arg;
use crate::php::convert::{describe, int_arg, raw_entries, string_arg, zval_to_json, zval_to_timestamp, Key};
use crate::php::exceptions::invalid;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};

/// `create()`'s arguments, each as PHP passed it (None when left out).
#[derive(Default)]
pub struct TaskArgs<'a> {
    pub identifier: Option<&'a Zval>,
    pub action: Option<&'a Zval>,
    pub data: Option<&'a Zval>,
    pub priority: Option<&'a Zval>,
    pub user_id: Option<&'a Zval>,
    pub unique: Option<&'a Zval>,
    pub max_attempts: Option<&'a Zval>,
    pub start_at: Option<&'a Zval>,
}

/// The element keys `createMany` reads, with the column names Laravel code
/// tends to use as aliases (`started_by` for `userId`, ...).
const FIELDS: &[(&str, &str)] = &[
    ("identifier", "identifier"),
    ("action", "action"),
    ("data", "data"),
    ("priority", "priority"),
    ("userId", "started_by"),
    ("unique", "unique_key"),
    ("maxAttempts", "max_attempts"),
    ("startAt", "start_at"),
];

fn given(z: Option<&Zval>) -> Option<&Zval> {
    z.filter(|z| !z.dereference().is_null())
}

impl<'a> TaskArgs<'a> {
    /// One element of `createMany`: an array whose keys are `create()`'s
    /// argument names (or their aliases). `at` is `tasks[key]`.
    pub fn from_element(element: &'a Zval, at: &str) -> PhpResult<TaskArgs<'a>> {
        let Some(ht) = element.dereference().array() else {
            return Err(invalid(at, format!("must be an array of create()'s named arguments, got {}", describe(element))));
        };
        let mut args = TaskArgs::default();
        let entries = raw_entries(ht)
            .map_err(|k| invalid(at, format!("array key \"{}\" is not valid UTF-8", k.0.chars().take(40).collect::<String>())))?;
        for (key, v) in entries {
            let name = match &key {
                Key::Name(n) => n.as_str(),
                Key::Index(i) => {
                    return Err(invalid(
                        at,
                        format!("key {i} is not a field name; use identifier, action, data, priority, userId, unique, maxAttempts or startAt"),
                    ))
                }
            };
            let Some(&(canonical, _)) = FIELDS.iter().find(|(c, alias)| *c == name || *alias == name) else {
                return Err(invalid(
                    &format!("{at}.{name}"),
                    "is not a field of a task; use identifier, action, data, priority, userId, unique, maxAttempts or startAt",
                ));
            };
            let slot = match canonical {
                "identifier" => &mut args.identifier,
                "action" => &mut args.action,
                "data" => &mut args.data,
                "priority" => &mut args.priority,
                "userId" => &mut args.user_id,
                "unique" => &mut args.unique,
                "maxAttempts" => &mut args.max_attempts,
                _ => &mut args.start_at,
            };
            if slot.is_some() {
                return Err(invalid(&format!("{at}.{canonical}"), "is given twice (under its name and its alias)"));
            }
            *slot = Some(v);
        }
        Ok(args)
    }

    /// The task these arguments describe, converted as `create()` converts
    /// them; field names in errors are prefixed with `at` (empty for
    /// `create()` itself).
    pub fn to_new_task(&self, at: &str) -> PhpResult<NewTask> {
        let name = |f: &'static str| -> std::borrow::Cow<'static, str> {
            if at.is_empty() {
                f.into()
            } else {
                format!("{at}.{f}").into()
            }
        };
        let required = |z: Option<&Zval>, f: &'static str| -> PhpResult<String> {
            match z {
                Some(z) => string_arg(z, &name(f)),
                None => Err(invalid(&name(f), "is required")),
            }
        };
        let mut t = NewTask::new(required(self.identifier, "identifier")?, required(self.action, "action")?);
        if let Some(u) = given(self.unique) {
            t.unique_key = Some(string_arg(u, &name("unique"))?);
        }
        t.meta = Some(match given(self.data) {
            Some(d) => {
                if !d.dereference().is_array() {
                    return Err(invalid(&name("data"), format!("must be an array, got {}", describe(d))));
                }
                zval_to_json(d, &name("data"))?.to_string()
            }
            None => "[]".into(),
        });
        if let Some(p) = given(self.priority) {
            t.priority = priority_arg(p).map_err(|e| if at.is_empty() { e } else { bad_priority(&name("priority"), p) })?;
        }
        if let Some(u) = given(self.user_id) {
            t.started_by = Some(int_arg(u, &name("userId"))?);
        }
        if let Some(m) = given(self.max_attempts) {
            t.max_attempts = int_arg(m, &name("maxAttempts"))?;
        }
        if let Some(s) = given(self.start_at) {
            t.start_at = zval_to_timestamp(s, &name("startAt"))?;
        }
        // The engine's rules, checked here too so that the message names
        // the element by its key (the engine only knows positions).
        t.validate().map_err(|e| match e {
            crate::engine::Error::InvalidArgument { field, reason } if !at.is_empty() => {
                invalid(&format!("{at}.{field}"), reason)
            }
            other => other.into(),
        })?;
        Ok(t)
    }
}

/// `priority_arg`'s refusal, under an element's field name.
fn bad_priority(field: &str, z: &Zval) -> ext_php_rs::exception::PhpException {
    invalid(field, format!("{} is not a priority; use 'low', 'normal' or 'high' (or 1 low, 2 normal, 3 high)", describe(z)))
}

/// `createMany`'s argument: each element converted and validated, in
/// order, with its key (the answer is keyed the same way).
pub fn batch(tasks: &ZendHashTable) -> PhpResult<Vec<(Key, NewTask)>> {
    let entries = raw_entries(tasks).map_err(|k| {
        invalid("tasks", format!("array key \"{}\" is not valid UTF-8", k.0.chars().take(40).collect::<String>()))
    })?;
    let label = |key: &Key| match key {
        Key::Index(i) => format!("tasks[{i}]"),
        Key::Name(n) => format!("tasks[{n:?}]"),
    };
    let mut out = Vec::with_capacity(entries.len());
    for (key, element) in entries {
        // Converted under the plain field names first: a batch of 100,000
        // should not format 800,000 names it will never show. A refused
        // element is converted again under its own name for the message.
        let t = match TaskArgs::from_element(element, "").and_then(|a| a.to_new_task("")) {
            Ok(t) => t,
            Err(_) => {
                let at = label(&key);
                TaskArgs::from_element(element, &at)?.to_new_task(&at)?;
                return Err(invalid(&at, "was refused"));
            }
        };
        out.push((key, t));
    }
    Ok(out)
}
