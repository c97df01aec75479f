//! Delivers the engine's log records (`engine::log`) to the host, on the
//! PHP thread only: after every call into the runtime (`runtime::block_on`
//! calls [`deliver`]), so a worker loop delivers as it goes and every
//! exported function before it returns.
//!
//! Where records go: the callable given to `sTask::setLogger()` (the
//! Laravel/Evolution provider passes the host's logger, on the channel of
//! `config('stask.log_channel')`), else PHP's `error_log()` (the SAPI's log
//! or the `error_log` file; never the page). The level comes from
//! `STASK_LOG`, else `setLogger()`'s level, else `stask.log_level`, else
//! warning.

use crate::engine::log::{self, Level, Record};
use ext_php_rs::convert::IntoZvalDyn;
use ext_php_rs::types::ZendCallable;
use ext_php_rs::types::{ZendHashTable, Zval};
use ext_php_rs::zend::ExecutorGlobals;
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set at module startup: records may be delivered through PHP.
static READY: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// The host's logger (a PHP callable), for this request.
    static SINK: RefCell<Option<Zval>> = const { RefCell::new(None) };
    /// A delivery is under way (the logger may call back into sTask).
    static DELIVERING: Cell<bool> = const { Cell::new(false) };
}

/// A level given to `setLogger()`: the ini setting no longer applies.
static EXPLICIT: AtomicBool = AtomicBool::new(false);

/// Module startup: the subscriber, and the level of `STASK_LOG`.
pub fn startup() {
    log::install();
    if let Some(level) = env_level() {
        log::set_level(level);
    }
    READY.store(true, Ordering::Release);
}

fn env_level() -> Option<Level> {
    std::env::var("STASK_LOG").ok().and_then(|v| Level::parse(&v))
}

/// The `stask.log_level` ini value, each time the settings are read (before
/// any engine work): `STASK_LOG` wins, then a level given to
/// `setLogger()`, then this.
pub fn apply_ini(value: Option<&str>) {
    let level = env_level().or_else(|| if EXPLICIT.load(Ordering::Relaxed) { None } else { value.and_then(Level::parse) });
    if let Some(l) = level {
        log::set_level(l);
    }
}

/// `sTask::setLogger($logger, $level)`: routes records to `$logger` (null:
/// back to `error_log`), and sets the level when one is given.
pub fn set_logger(logger: Option<Zval>, level: Option<&str>) -> Result<(), String> {
    let given = match level {
        Some(l) if !l.trim().is_empty() => {
            Some(Level::parse(l).ok_or_else(|| format!("unknown log level '{l}'; use error, warning, info, debug or off"))?)
        }
        _ => None,
    };
    if given.is_some() {
        EXPLICIT.store(true, Ordering::Relaxed);
    }
    if let Some(l) = env_level().or(given) {
        log::set_level(l);
    }
    SINK.with(|s| *s.borrow_mut() = logger);
    Ok(())
}

/// The level records are kept from, by name.
pub fn level_name() -> &'static str {
    log::level().name()
}

/// Request shutdown: what is still queued goes to `error_log` (the host's
/// logger may already be torn down), and the logger is forgotten.
pub fn request_shutdown() {
    SINK.with(|s| s.borrow_mut().take());
    deliver();
}

/// Hands every queued record to the host. Cheap when nothing waits.
pub fn deliver() {
    if !log::pending() || !READY.load(Ordering::Acquire) || DELIVERING.with(Cell::get) {
        return;
    }
    // PHP cannot run code while an exception is on its way: later.
    if ExecutorGlobals::has_exception() {
        return;
    }
    DELIVERING.with(|d| d.set(true));
    for record in log::take() {
        if !to_sink(&record) {
            to_error_log(&record);
        }
    }
    DELIVERING.with(|d| d.set(false));
}

fn context(record: &Record) -> Zval {
    let mut ht = ZendHashTable::new();
    for (k, v) in &record.fields {
        let r = match (k.as_str(), v.parse::<i64>()) {
            ("task" | "pid" | "dropped", Ok(n)) => ht.insert(k.as_str(), n),
            _ => ht.insert(k.as_str(), v.as_str()),
        };
        let _ = r;
    }
    let mut z = Zval::new();
    z.set_hashtable(ht);
    z
}

/// The host's logger; false when there is none or it failed.
fn to_sink(record: &Record) -> bool {
    SINK.with(|s| {
        let sink = s.borrow();
        let Some(callable) = sink.as_ref() else { return false };
        let Ok(f) = ZendCallable::new(callable) else { return false };
        let level = record.level.name();
        let message = record.message.as_str();
        let ctx = context(record);
        let args: Vec<&dyn IntoZvalDyn> = vec![&level, &message, &ctx];
        let ok = f.try_call(args).is_ok();
        // A logger that throws must not break the caller: its exception is
        // dropped and the record goes to error_log instead.
        if ExecutorGlobals::take_exception().is_some() {
            return false;
        }
        ok
    })
}

/// One line for `error_log`: `stask [warning] task #5 ... {"task":5,...}`.
pub fn line(record: &Record) -> String {
    let text = record.message.strip_prefix("stask: ").unwrap_or(&record.message);
    let mut out = format!("stask [{}] {}", record.level.name(), text);
    if !record.fields.is_empty() {
        let fields: serde_json::Map<String, serde_json::Value> =
            record.fields.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
        out.push(' ');
        out.push_str(&serde_json::Value::Object(fields).to_string());
    }
    out.replace(['\n', '\r'], " ")
}

fn to_error_log(record: &Record) {
    let msg = line(record);
    if let Ok(f) = ZendCallable::try_from_name("error_log") {
        let _ = f.try_call(vec![&msg]);
        let _ = ExecutorGlobals::take_exception();
    }
}
