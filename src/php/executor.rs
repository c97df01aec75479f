//! Running tasks on the PHP thread: resolve the worker, call it, turn what
//! happened into an outcome. The engine's worker loop (`engine::work`)
//! claims, batches and stores; it runs each task through `PhpRunner`.
//!
//! Only this thread calls PHP; every database call is a short `block_on`
//! between PHP calls, never around one (a worker re-enters the extension
//! through `pushProgress`).

use crate::engine::maintenance::cleaner::{Cleaner, CleanerConfig};
use crate::engine::query::{Query, Table, Value};
use crate::engine::service::{Attempt, Engine, WorkerLookup};
use crate::engine::store::Outcome;
use crate::engine::task::TaskRow;
use crate::engine::work::{Flow, Runner};
use crate::php::context::block_on;
use crate::php::convert::{json_text_to_zval, value_to_zval};
use crate::php::task_model::TaskModel;
use crate::php::workers::cached_instance;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::{PhpException, PhpResult};
use ext_php_rs::types::{ZendCallable, Zval};
use ext_php_rs::zend::{try_catch, ExecutorGlobals};
use std::panic::AssertUnwindSafe;
use std::time::Instant;

fn php_call(name: &str, args: Vec<&dyn ext_php_rs::convert::IntoZvalDyn>) -> Option<Zval> {
    ZendCallable::try_from_name(name).ok()?.try_call(args).ok()
}

// The Zend memory manager's own functions (what memory_get_peak_usage() and
// memory_reset_peak_usage() call), exported by every PHP 8.2+ binary: called
// directly, not through a PHP function looked up by name for every task.
extern "C" {
    fn zend_memory_peak_usage(real_usage: bool) -> usize;
    fn zend_memory_reset_peak_usage();
}

fn peak_memory() -> i64 {
    i64::try_from(unsafe { zend_memory_peak_usage(false) }).unwrap_or(i64::MAX)
}

fn reset_peak_memory() {
    unsafe { zend_memory_reset_peak_usage() }
}

fn exception_is_exit() -> bool {
    ExecutorGlobals::get().exception().and_then(|e| e.get_class_name().ok()).map(|n| n == "UnwindExit").unwrap_or(false)
}

/// The last PHP error if it was fatal (E_ERROR, E_CORE_ERROR,
/// E_COMPILE_ERROR, E_USER_ERROR): memory_limit, max_execution_time...
/// Read from PHP's globals, not through `error_get_last()`: after a memory
/// blow-up there is no room left to build its array.
fn last_fatal_error() -> Option<String> {
    let pg = ext_php_rs::zend::ProcessGlobals::get();
    if pg.last_error_type & (1 | 16 | 64 | 256) == 0 || pg.last_error_message.is_null() {
        return None;
    }
    let msg = unsafe { &*(pg.last_error_message as *const ext_php_rs::types::ZendStr) };
    msg.as_str().ok().map(str::to_string)
}

fn last_error_message() -> String {
    last_fatal_error().unwrap_or_else(|| "the worker stopped with a fatal error".into())
}

/// `task{Studly}` from an action: lowercased, `-`/`_` as word breaks.
pub fn action_method(action: &str) -> String {
    let mut out = String::from("task");
    for word in action.split(['-', '_', ' ']).filter(|w| !w.is_empty()) {
        let lower = word.to_lowercase();
        let mut c = lower.chars();
        if let Some(f) = c.next() {
            out.extend(f.to_uppercase());
            out.push_str(c.as_str());
        }
    }
    out
}

/// `taskSyncStock` -> `sync_stock`: the action a public `task*` method
/// answers to (the inverse of `action_method`); None for other methods.
pub fn action_name(method: &str) -> Option<String> {
    let rest = method.strip_prefix("task")?;
    if !rest.starts_with(|c: char| c.is_ascii_uppercase()) {
        return None;
    }
    // A word starts at an upper-case letter after a lower-case one or a
    // digit, or at the last capital of an acronym (`CSVFile` -> csv_file).
    let chars: Vec<char> = rest.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if i > 0 && c.is_ascii_uppercase() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if !prev.is_ascii_uppercase() || next_lower {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    Some(out)
}

/// Runs one claimed task and returns its outcome (not yet stored).
pub fn run_one(engine: &Engine, task: &TaskRow, pending: &mut Vec<Outcome>) -> PhpResult<(Outcome, Flow)> {
    let lookup = block_on(engine.lookup_worker(&task.identifier))?;
    let row = match lookup {
        WorkerLookup::Missing => return Ok((engine.missing_worker_outcome(task), Flow::Continue)),
        WorkerLookup::Inactive(_) => return Ok((engine.inactive_worker_outcome(task), Flow::Continue)),
        WorkerLookup::Native => return Ok((run_system(engine, task), Flow::Continue)),
        WorkerLookup::Class(row) => row,
    };
    let worker = match cached_instance(&row.class, engine.cache_generation()) {
        Ok(Some(w)) => w,
        Ok(None) => {
            let attempt = Attempt::Threw {
                class: String::new(),
                message: format!(
                    "worker class {} of '{}' cannot be loaded; check the autoloader or run sTask::cleanOrphanedWorkers()",
                    row.class, row.identifier
                ),
            };
            return Ok((engine.outcome(task, attempt, 0.0, 0, rand::random()), Flow::Continue));
        }
        Err(e) => {
            let attempt = Attempt::Threw { class: String::new(), message: format!("{e:?}") };
            return Ok((engine.outcome(task, attempt, 0.0, 0, rand::random()), Flow::Continue));
        }
    };

    engine.progress_begin(task);
    let task_zv = TaskModel::from_row(task.clone()).into_zval(false)?;
    let meta = match task.meta.as_deref() {
        Some(m) => {
            let z = json_text_to_zval(m)?;
            if z.is_array() {
                z
            } else {
                Zval::new_array()
            }
        }
        None => Zval::new_array(),
    };
    let action = value_to_zval(&Value::Text(task.action.clone()));
    let has_invoke =
        worker.object().map(|o| o.get_class_entry()).map(|ce| has_invoke_action(ce.name().unwrap_or_default())).unwrap_or(false);
    let direct = action_method(&task.action);

    reset_peak_memory();
    // So that a fatal error seen afterwards is this task's.
    let _ = php_call("error_clear_last", vec![]);
    let started = Instant::now();
    let call = try_catch(AssertUnwindSafe(|| {
        let obj = worker.object().expect("worker is an object");
        if has_invoke {
            let _ = obj.try_call_method("invokeAction", vec![&action, &task_zv, &meta]);
        } else {
            // Workers that implement only TaskInterface: dispatch here.
            // No such method is an error without a PHP exception.
            return obj.try_call_method(&direct, vec![&task_zv, &meta]).is_err() && !ExecutorGlobals::has_exception();
        }
        false
    }));
    let duration = started.elapsed().as_secs_f64();
    let peak = peak_memory();

    if call.is_err() {
        // A fatal error (memory_limit, E_ERROR) jumped over the worker.
        // Record this attempt, then let PHP continue its shutdown.
        let attempt = Attempt::Aborted { reason: format!("fatal error: {}", last_error_message()) };
        let o = engine.outcome(task, attempt, duration, peak, rand::random());
        pending.push(o);
        let _ = block_on(engine.finish(pending));
        pending.clear();
        unsafe { ext_php_rs::zend::bailout() };
    }
    if matches!(call, Ok(true)) {
        let class = worker.object().and_then(|o| o.get_class_name().ok()).unwrap_or_default();
        let attempt = Attempt::Permanent {
            class: "Seiger\\sTask\\Exceptions\\ActionNotFoundException".into(),
            message: format!("{class} missing action method {direct}()"),
        };
        return Ok((engine.outcome(task, attempt, duration, peak, rand::random()), Flow::Continue));
    }
    if ExecutorGlobals::has_exception() {
        if exception_is_exit() {
            // PHP unwinds fatal errors (memory_limit…) the same way as exit().
            let reason = match last_fatal_error() {
                Some(msg) => format!("fatal error: {msg}"),
                None => "the worker called exit()".into(),
            };
            let attempt = Attempt::Aborted { reason };
            return Ok((engine.outcome(task, attempt, duration, peak, rand::random()), Flow::Exit));
        }
        let ex = ExecutorGlobals::take_exception().expect("an exception is pending");
        let class = ex.get_class_name().unwrap_or_default();
        let message = ex.try_call_method("getMessage", vec![]).ok().and_then(|m| m.string()).unwrap_or_default();
        // Where it was thrown, then the trace (the history cuts the
        // application's folder from the paths).
        let trace = {
            let file = ex.try_call_method("getFile", vec![]).ok().and_then(|m| m.string()).unwrap_or_default();
            let line = ex.try_call_method("getLine", vec![]).ok().and_then(|m| m.long()).unwrap_or(0);
            let frames = ex.try_call_method("getTraceAsString", vec![]).ok().and_then(|m| m.string()).unwrap_or_default();
            format!("{class} thrown at {file}:{line}\n{frames}")
        };
        let attempt = if class == "Seiger\\sTask\\Exceptions\\TaskCancelledException" {
            Attempt::Cancelled
        } else {
            let file = ex.try_call_method("getFile", vec![]).ok().and_then(|m| m.string()).unwrap_or_default();
            let line = ex.try_call_method("getLine", vec![]).ok().and_then(|m| m.long()).unwrap_or(0);
            let base = file.rsplit('/').next().unwrap_or_default().to_string();
            let message = if base.is_empty() { message } else { format!("{message} @ {base}:{line}") };
            if crate::php::exceptions::is_permanent(ex.get_class_entry()) {
                Attempt::Permanent { class, message }
            } else {
                Attempt::Threw { class, message }
            }
        };
        let outcome = engine.outcome(task, attempt, duration, peak, rand::random());
        engine.attach_trace(task.id, &trace);
        return Ok((outcome, Flow::Continue));
    }
    let mut outcome = engine.outcome(task, Attempt::Returned, duration, peak, rand::random());
    if let (Outcome::Completed { message, .. }, Some(m)) = (&mut outcome, unsaved_message(&task_zv)) {
        *message = m;
    }
    Ok((outcome, Flow::Continue))
}

fn unsaved_message(task_zv: &Zval) -> Option<String> {
    task_zv.extract::<&TaskModel>().and_then(|t| t.unsaved_message())
}

fn method_exists(class: &str, method: &str) -> bool {
    php_call("method_exists", vec![&class.to_string(), &method.to_string()]).map(|z| z.is_true()).unwrap_or(false)
}

thread_local! {
    /// class => whether it has `invokeAction` (a class's methods do not
    /// change while the process lives; asked once, not for every task).
    static HAS_INVOKE: std::cell::RefCell<std::collections::HashMap<String, bool>> = Default::default();
}

fn has_invoke_action(class: &str) -> bool {
    if let Some(known) = HAS_INVOKE.with(|m| m.borrow().get(class).copied()) {
        return known;
    }
    let has = method_exists(class, "invokeAction");
    HAS_INVOKE.with(|m| m.borrow_mut().insert(class.to_string(), has));
    has
}

/// The native `system` worker. Its one action, `cleanup` (the seed's
/// Example 4), runs on the runtime; meta `older_than_days`, `clean_cache`.
fn run_system(engine: &Engine, task: &TaskRow) -> Outcome {
    let started = Instant::now();
    let meta: serde_json::Value = task.meta.as_deref().and_then(|m| serde_json::from_str(m).ok()).unwrap_or_default();
    let attempt = match task.action.as_str() {
        "cleanup" => {
            let config = CleanerConfig {
                older_than_days: meta.get("older_than_days").and_then(|v| v.as_i64()).unwrap_or(30),
                clean_cache: meta.get("clean_cache").and_then(|v| v.as_bool()).unwrap_or(false),
                ..Default::default()
            };
            let run = async {
                let report = Cleaner::new(engine, config)?.run_once().await?;
                let q = Query::new(Table::Tasks).where_eq("id", Value::Int(task.id))?;
                let result = serde_json::to_string(&report).unwrap_or_default();
                engine.update(&q, &[("result", Value::Text(result))]).await?;
                Ok::<_, crate::engine::Error>(())
            };
            match block_on(run) {
                Ok(()) => Attempt::Returned,
                Err(e) => Attempt::Threw { class: String::new(), message: e.to_string() },
            }
        }
        other => Attempt::Threw {
            class: String::new(),
            message: format!("the system worker has no action '{other}'; available actions: cleanup"),
        },
    };
    engine.outcome(task, attempt, started.elapsed().as_secs_f64(), 0, rand::random())
}

/// The engine's worker loop runs its tasks through this, on the PHP thread.
pub struct PhpRunner<'a> {
    pub engine: &'a Engine,
}

impl Runner for PhpRunner<'_> {
    type Error = PhpException;

    fn wait<F: std::future::Future>(&self, f: F) -> F::Output {
        block_on(f)
    }

    fn run_one(&mut self, task: &TaskRow, pending: &mut Vec<Outcome>) -> PhpResult<(Outcome, Flow)> {
        run_one(self.engine, task, pending)
    }
}
