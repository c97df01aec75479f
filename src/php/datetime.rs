//! `Seiger\sTask\Support\Timestamp`: the `DateTimeImmutable` the engine
//! hands out when Carbon is not loaded. It adds only `__toString()`
//! (`Y-m-d H:i:s`, as Carbon prints), so `"Created: {$task->created_at}"`
//! works outside Laravel too; everything else is `DateTimeImmutable`'s own
//! (its `modify()`, `setTimezone()`… return a `Timestamp` again).
//!
//! Registered with `ClassBuilder` and no object override, so objects keep
//! ext/date's own storage and handlers (see exceptions.rs).

use ext_php_rs::builders::{ClassBuilder, FunctionBuilder};
use ext_php_rs::flags::{DataType, MethodFlags};
use ext_php_rs::types::Zval;
use ext_php_rs::zend::{ce, ClassEntry, ExecuteData};
use std::sync::atomic::{AtomicPtr, Ordering};

pub const CLASS: &str = "Seiger\\sTask\\Support\\Timestamp";

static ENTRY: AtomicPtr<ClassEntry> = AtomicPtr::new(std::ptr::null_mut());

/// The registered class, or None before module startup.
pub fn class_entry() -> Option<&'static ClassEntry> {
    let p = ENTRY.load(Ordering::Acquire);
    (!p.is_null()).then(|| unsafe { &*p })
}

fn date_immutable_ce() -> &'static ClassEntry {
    crate::php::exceptions::core_class("DateTimeImmutable").unwrap_or_else(ce::stdclass)
}

extern "C" fn to_string(ex: &mut ExecuteData, retval: &mut Zval) {
    let text = ex
        .get_self()
        .and_then(|this| this.try_call_method("format", vec![&"Y-m-d H:i:s"]).ok())
        .and_then(|z| z.string())
        .unwrap_or_default();
    let _ = retval.set_string(&text, false);
}

/// Module startup. False when ext/date's class is not there (never on a
/// PHP build: ext/date is always compiled in).
pub fn register() -> bool {
    if crate::php::exceptions::core_class("DateTimeImmutable").is_none() {
        return false;
    }
    let to_string = FunctionBuilder::new("__toString", to_string).returns(DataType::String, false, false);
    ClassBuilder::new(CLASS)
        .extends((date_immutable_ce, "\\DateTimeImmutable"))
        .implements((ce::stringable, "\\Stringable"))
        .method(to_string, MethodFlags::Public)
        .registration(|ce, tables| {
            ENTRY.store(ce as *mut ClassEntry, Ordering::Release);
            std::mem::forget(tables);
        })
        .register()
        .is_ok()
}
