//! Worker classes from the PHP side: loading, instantiating, reading what
//! they say about themselves, and the per-process instance cache.

use crate::engine::worker::WorkerInfo;
use crate::php::exceptions::{throw, Kind};
use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::types::{ZendObject, Zval};
use ext_php_rs::zend::{ClassEntry, ExecutorGlobals};
use std::cell::RefCell;
use std::collections::HashMap;

pub const TASK_INTERFACE: &str = "Seiger\\sTask\\Contracts\\TaskInterface";

pub fn task_interface() -> Option<&'static ClassEntry> {
    ClassEntry::try_find(TASK_INTERFACE)
}

/// Loads the class through the autoloaders; a throwing autoloader counts
/// as "does not exist" and its exception is not left pending.
pub fn find_class(class: &str) -> Option<&'static ClassEntry> {
    let class = class.trim_start_matches('\\');
    if class.is_empty() {
        return None;
    }
    let ce = ClassEntry::try_find(class);
    if ExecutorGlobals::has_exception() {
        let _ = ExecutorGlobals::take_exception();
        return None;
    }
    ce
}

pub fn class_exists(class: &str) -> bool {
    find_class(class).is_some()
}

fn is_abstract(ce: &ClassEntry) -> bool {
    // ZEND_ACC_INTERFACE | ZEND_ACC_TRAIT | ZEND_ACC_EXPLICIT_ABSTRACT_CLASS | ZEND_ACC_IMPLICIT_ABSTRACT_CLASS
    ce.ce_flags & (1 << 0 | 1 << 1 | 1 << 6 | 1 << 4) != 0
}

/// What a person must fix when a class cannot be a worker: the class is
/// quoted (it may be empty or hold spaces) and the rule is spelled out, so
/// the message alone says what to change.
fn refusal(class: &str, why: &str) -> String {
    format!("Worker class '{class}' {why}; a worker's class must be a class that loads and implements {TASK_INTERFACE}")
}

/// A class name that no autoloader could load: a typo, a package that is
/// not installed, or an autoloader that was not regenerated.
pub fn not_loadable(class: &str) -> (Kind, String) {
    (Kind::WorkerClassNotFound, refusal(class, "could not be autoloaded (check its name, and run composer dump-autoload)"))
}

/// Why a class cannot be a worker, if it cannot.
pub fn check_worker_class(class: &str) -> Result<&'static ClassEntry, (Kind, String)> {
    let ce = find_class(class).ok_or_else(|| not_loadable(class))?;
    let iface = task_interface().ok_or_else(|| (Kind::Base, "TaskInterface is not registered".to_string()))?;
    if !ce.instance_of(iface) {
        return Err((Kind::WorkerInvalidInterface, refusal(class, "does not implement TaskInterface")));
    }
    if is_abstract(ce) {
        return Err((Kind::WorkerClassNotFound, refusal(class, "is abstract and cannot be instantiated")));
    }
    Ok(ce)
}

/// A new object of `class`, its constructor run. Ok(None) when the class
/// is missing; a throwing constructor is an error with its message.
pub fn instantiate(class: &str) -> PhpResult<Option<Zval>> {
    let Some(ce) = find_class(class) else { return Ok(None) };
    if is_abstract(ce) {
        return Ok(None);
    }
    let obj = ZendObject::new(ce);
    if !ce.constructor.is_null() {
        let r = obj.try_call_method("__construct", vec![]);
        if let Some(ex) = ExecutorGlobals::take_exception() {
            let msg = ex.try_call_method("getMessage", vec![]).ok().and_then(|m| m.string()).unwrap_or_default();
            if let Some(kind) = crate::php::exceptions::environment_kind(ex.get_class_entry()) {
                return Err(throw(kind, msg));
            }
            return Err(throw(Kind::WorkerClassNotFound, format!("Worker class {class} could not be constructed: {msg}")));
        }
        r?;
    }
    Ok(Some(obj.into_zval(false)?))
}

/// Calls a no-argument method returning a string, tolerating workers that
/// throw or return something else.
fn string_method(obj: &Zval, name: &str, fallback: &str) -> String {
    let Some(o) = obj.object() else { return fallback.to_string() };
    let r = o.try_call_method(name, vec![]);
    if ExecutorGlobals::has_exception() {
        let _ = ExecutorGlobals::take_exception();
        return fallback.to_string();
    }
    r.ok().and_then(|z| z.string()).unwrap_or_else(|| fallback.to_string())
}

/// What a worker object says about itself, for the registry.
pub fn worker_info(class: &str, obj: &Zval) -> PhpResult<WorkerInfo> {
    let identifier = string_method(obj, "identifier", "");
    if identifier.trim().is_empty() {
        return Err(throw(Kind::InvalidArgument, format!("Worker class {class} returned an empty identifier()")));
    }
    Ok(WorkerInfo {
        scope: string_method(obj, "scope", "stask"),
        title: string_method(obj, "title", ""),
        description: string_method(obj, "description", ""),
        icon: string_method(obj, "icon", ""),
        class: class.trim_start_matches('\\').to_string(),
        identifier,
    })
}

thread_local! {
    /// Worker objects by class, reused across tasks like the PHP package's
    /// in-memory cache; dropped whenever the engine's worker cache changes.
    static INSTANCES: RefCell<(u64, HashMap<String, Zval>)> = RefCell::new((0, HashMap::new()));
}

/// A cached worker object for `class` (generation = the engine cache's).
pub fn cached_instance(class: &str, generation: u64) -> PhpResult<Option<Zval>> {
    let hit = INSTANCES.with(|c| {
        let mut c = c.borrow_mut();
        if c.0 != generation {
            c.1.clear();
            c.0 = generation;
        }
        c.1.get(class).map(|z| z.shallow_clone())
    });
    if hit.is_some() {
        return Ok(hit);
    }
    let made = instantiate(class)?;
    if let Some(z) = &made {
        INSTANCES.with(|c| {
            let mut c = c.borrow_mut();
            if c.1.len() >= 100 {
                c.1.clear();
            }
            c.1.insert(class.to_string(), z.shallow_clone());
        });
    }
    Ok(made)
}

pub fn clear_instances() {
    INSTANCES.with(|c| c.borrow_mut().1.clear());
}
