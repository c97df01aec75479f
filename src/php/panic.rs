//! Panics at the PHP boundary.
//!
//! ext-php-rs runs every exported function, method and property handler
//! under `catch_unwind` and turns a panic into a plain `Error` ("Rust
//! panic: …"), after Rust's default hook has printed the panic, and a
//! backtrace hint, to stderr (the web server's log for each request). A
//! panic is a bug of ours, never the caller's, but the caller should get
//! what every other failure of the extension gives: an exception of the
//! package's tree, with a plain message.
//!
//! Two pieces, installed once at module startup:
//! - a panic hook that, on the PHP thread, records the message instead of
//!   printing it (runtime threads keep the previous hook: their panics are
//!   not seen by any PHP caller, so the log is where they belong);
//! - a throw hook (`zend_throw_exception_hook`, which PHP calls for every
//!   exception thrown) that replaces the `Error` ext-php-rs throws for a
//!   recorded panic with an `InternalErrorException` (an `sTaskException`)
//!   saying "stask internal error: …".
//!
//! So every entry point is covered, including the ones generated for
//! property reads and writes, without wrapping each one by hand.

use crate::php::exceptions::{class_entry, Kind};
use ext_php_rs::exception::PhpException;
use ext_php_rs::ffi::{self, zend_object};
use ext_php_rs::types::ZendObject;
use ext_php_rs::zend::{ce, ExecutorGlobals};
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicPtr, Ordering};

thread_local! {
    /// Set on the thread that started the module: the PHP thread (PHP is
    /// built NTS; forked children inherit it).
    static PHP_THREAD: Cell<bool> = const { Cell::new(false) };
    /// The last panic on this thread that no `Error` has carried yet.
    static RECORDED: RefCell<Option<String>> = const { RefCell::new(None) };
}

type ThrowHook = unsafe extern "C" fn(*mut zend_object);

static PREVIOUS_THROW_HOOK: AtomicPtr<()> = AtomicPtr::new(std::ptr::null_mut());

/// What ext-php-rs puts before the payload of a panic it reports.
const PANIC_PREFIX: &str = "Rust panic: ";

/// Module startup (MINIT, the PHP thread): installs both hooks.
pub fn install() {
    PHP_THREAD.with(|t| t.set(true));
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if PHP_THREAD.with(|t| t.get()) {
            let payload = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".to_string());
            let at = info.location().map(|l| format!(" ({}:{})", l.file(), l.line())).unwrap_or_default();
            RECORDED.with(|r| *r.borrow_mut() = Some(format!("{payload}{at}")));
        } else {
            previous(info);
        }
    }));
    unsafe {
        let ours: ThrowHook = on_throw;
        if let Some(prev) = ffi::zend_throw_exception_hook.filter(|p| !std::ptr::fn_addr_eq(*p, ours)) {
            PREVIOUS_THROW_HOOK.store(prev as *mut (), Ordering::Release);
        }
        ffi::zend_throw_exception_hook = Some(ours);
    }
}

/// Drops a recorded panic that was handled in Rust (a `catch_unwind` of
/// our own), so that it is not taken for the cause of a later `Error`.
pub fn forget() {
    RECORDED.with(|r| r.borrow_mut().take());
}

/// The message of a panic as the caller sees it.
pub fn message(recorded: &str) -> String {
    format!("stask internal error: {recorded}").replace('\0', "\\0")
}

/// The protected `message` property of a Throwable, read from its
/// property table (no method can be called while an exception is pending).
fn message_of(ex: &ZendObject) -> Option<String> {
    let props = ex.get_properties().ok()?;
    props.get("\0*\0message").and_then(|z| z.string())
}

unsafe extern "C" fn on_throw(ex: *mut zend_object) {
    let replaced = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let recorded = RECORDED.with(|r| r.borrow_mut().take())?;
        let obj = unsafe { ex.as_ref() }?;
        let is_panic = std::ptr::eq(obj.ce, ce::error() as *const _ as *mut _)
            && message_of(obj).is_some_and(|m| m.starts_with(PANIC_PREFIX));
        if !is_panic {
            return None;
        }
        // The Error is EG(exception) now; swap it for ours. Throwing again
        // re-enters this hook, which then finds nothing recorded and passes
        // the new exception on to the previous hook.
        drop(ExecutorGlobals::take_exception());
        PhpException::new(message(&recorded), 0, class_entry(Kind::Internal)).throw();
        Some(())
    }));
    if matches!(replaced, Ok(Some(()))) {
        return;
    }
    let prev = PREVIOUS_THROW_HOOK.load(Ordering::Acquire);
    if !prev.is_null() {
        let prev = unsafe { std::mem::transmute::<*mut (), ThrowHook>(prev) };
        unsafe { prev(ex) };
    }
}
