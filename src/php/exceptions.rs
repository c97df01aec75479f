//! The exception tree and the one mapping from engine errors to it.
//!
//! The classes are registered with `ClassBuilder` in module startup rather
//! than as `#[php_class]`: that way they keep `Exception`'s own constructor
//! and handlers, so PHP code can `new` and extend them (EXT-PHP-RS-NOTES §6).
//!
//! ```text
//! Exception
//! └── sTaskException
//!     ├── InvalidArgumentException     bad input (names the argument)
//!     ├── ConfigurationException       DSN, driver, paths, prefix
//!     ├── DatabaseException            the database failed
//!     ├── TaskNotFoundException        (code 404)
//!     ├── TaskCancelledException       thrown inside a worker whose task was cancelled
//!     ├── WorkerNotFoundException      (code 404)
//!     ├── WorkerClassNotFoundException (code 500)
//!     ├── WorkerInvalidInterfaceException (code 500)
//!     ├── WorkerStartupException       worker child processes die at start-up again and again
//!     ├── PermanentFailureException    thrown by a worker: fail the task now, no retries
//!     ├── ConnectionException          the database server cannot be reached (driver, host, port, reason)
//!     ├── SchemaMissingException       the tables are not there: run the migrations
//!     └── StorageException             a file or folder of the storage path (names the path)
//! BadMethodCallException
//! └── ActionNotFoundException          a worker has no method for the task's action (never retried)
//! ```

use crate::engine::Error;
use ext_php_rs::builders::ClassBuilder;
use ext_php_rs::exception::PhpException;
use ext_php_rs::zend::{ce, ClassEntry};
use std::sync::atomic::{AtomicPtr, Ordering};

const NS: &str = "Seiger\\sTask\\Exceptions\\";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Base,
    InvalidArgument,
    Configuration,
    Database,
    TaskNotFound,
    TaskCancelled,
    WorkerNotFound,
    WorkerClassNotFound,
    WorkerInvalidInterface,
    WorkerStartup,
    /// A panic in stask itself: a bug of ours, never the caller's input.
    Internal,
    PermanentFailure,
    ActionNotFound,
    Connection,
    SchemaMissing,
    Storage,
}

const COUNT: usize = 16;

const ALL: [(Kind, &str); COUNT] = [
    (Kind::Base, "sTaskException"),
    (Kind::InvalidArgument, "InvalidArgumentException"),
    (Kind::Configuration, "ConfigurationException"),
    (Kind::Database, "DatabaseException"),
    (Kind::TaskNotFound, "TaskNotFoundException"),
    (Kind::TaskCancelled, "TaskCancelledException"),
    (Kind::WorkerNotFound, "WorkerNotFoundException"),
    (Kind::WorkerClassNotFound, "WorkerClassNotFoundException"),
    (Kind::WorkerInvalidInterface, "WorkerInvalidInterfaceException"),
    (Kind::WorkerStartup, "WorkerStartupException"),
    (Kind::Internal, "InternalErrorException"),
    (Kind::PermanentFailure, "PermanentFailureException"),
    (Kind::ActionNotFound, "ActionNotFoundException"),
    (Kind::Connection, "ConnectionException"),
    (Kind::SchemaMissing, "SchemaMissingException"),
    (Kind::Storage, "StorageException"),
];

static ENTRIES: [AtomicPtr<ClassEntry>; COUNT] = [const { AtomicPtr::new(std::ptr::null_mut()) }; COUNT];

fn slot(kind: Kind) -> usize {
    ALL.iter().position(|(k, _)| *k == kind).unwrap_or(0)
}

pub fn class_entry(kind: Kind) -> &'static ClassEntry {
    let p = ENTRIES[slot(kind)].load(Ordering::Acquire);
    if p.is_null() {
        ce::exception()
    } else {
        unsafe { &*p }
    }
}

fn base_ce() -> &'static ClassEntry {
    class_entry(Kind::Base)
}

macro_rules! keep {
    ($($i:literal),*) => {
        /// `registration` takes a plain `fn`, so one per slot.
        const KEEPERS: [fn(&'static mut ClassEntry, ext_php_rs::args::ArgInfoTables); COUNT] = [$(|ce, tables| {
            ENTRIES[$i].store(ce as *mut ClassEntry, Ordering::Release);
            // The engine keeps pointing into the tables for the process life.
            std::mem::forget(tables);
        }),*];
    };
}
keep!(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);

/// A class of PHP itself (SPL, ext/date) during module startup, read from
/// `CG(class_table)`: the executor's class table, which
/// `ClassEntry::try_find` reads, does not exist yet then.
pub fn core_class(name: &str) -> Option<&'static ClassEntry> {
    // SAFETY: module startup runs on the one PHP thread; the class table
    // lives for the process, and the lookup copies the name it lowercases.
    let found = unsafe {
        let table = ext_php_rs::ffi::compiler_globals.class_table;
        if table.is_null() {
            return None;
        }
        ext_php_rs::ffi::zend_hash_str_find_ptr_lc(table, name.as_ptr().cast(), name.len()) as *mut ClassEntry
    };
    (!found.is_null()).then(|| unsafe { &*found })
}

/// SPL's `BadMethodCallException` (SPL starts before any loaded extension).
fn bad_method_call_ce() -> &'static ClassEntry {
    core_class("BadMethodCallException").unwrap_or_else(ce::exception)
}

/// The kind of an exception about the engine's surroundings (the database
/// cannot be reached, the tables are missing, a storage path...): passed on
/// as it is rather than blamed on whatever code happened to meet it.
pub fn environment_kind(ex_class: &ClassEntry) -> Option<Kind> {
    [Kind::Connection, Kind::SchemaMissing, Kind::Storage, Kind::Database, Kind::Configuration].into_iter().find(|k| {
        let p = ENTRIES[slot(*k)].load(Ordering::Acquire);
        !p.is_null() && ex_class.instance_of(unsafe { &*p })
    })
}

/// Whether a worker's exception says the task can never succeed: a
/// `PermanentFailureException` (or a subclass) or an `ActionNotFoundException`.
pub fn is_permanent(ex_class: &ClassEntry) -> bool {
    [Kind::PermanentFailure, Kind::ActionNotFound].iter().any(|k| {
        let p = ENTRIES[slot(*k)].load(Ordering::Acquire);
        !p.is_null() && ex_class.instance_of(unsafe { &*p })
    })
}

/// Module startup: registers the tree, base first.
pub fn register() -> bool {
    for (i, (kind, name)) in ALL.iter().enumerate() {
        let full = format!("{NS}{name}");
        let builder = ClassBuilder::new(full);
        let builder = if *kind == Kind::Base {
            builder.extends((ce::exception, "\\Exception"))
        } else if *kind == Kind::ActionNotFound {
            builder.extends((bad_method_call_ce, "\\BadMethodCallException"))
        } else {
            builder.extends((base_ce, "\\Seiger\\sTask\\Exceptions\\sTaskException"))
        };
        let r = builder.registration(KEEPERS[i]).register();
        if r.is_err() {
            return false;
        }
    }
    true
}

pub fn throw(kind: Kind, message: impl Into<String>) -> PhpException {
    let code = match kind {
        Kind::TaskNotFound | Kind::WorkerNotFound => 404,
        Kind::WorkerClassNotFound | Kind::WorkerInvalidInterface => 500,
        Kind::InvalidArgument => 400,
        _ => 0,
    };
    // PHP cannot build an exception whose message holds a NUL byte (the
    // message would become an `Error` about that instead): a refused value
    // quoted in the message, or an anonymous class name, may carry one.
    PhpException::new(message.into().replace('\0', "\\0"), code, class_entry(kind))
}

pub fn invalid(field: &str, reason: impl std::fmt::Display) -> PhpException {
    throw(Kind::InvalidArgument, format!("Invalid {field}: {reason}"))
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

impl From<Error> for PhpException {
    fn from(e: Error) -> Self {
        let kind = match &e {
            Error::InvalidArgument { .. } | Error::InvalidTransition { .. } => Kind::InvalidArgument,
            Error::Configuration(_) => Kind::Configuration,
            Error::TaskNotFound(_) => Kind::TaskNotFound,
            Error::WorkerNotFound(_) => Kind::WorkerNotFound,
            Error::Store(_) => Kind::Database,
            Error::Connect { .. } => Kind::Connection,
            Error::SchemaMissing { .. } => Kind::SchemaMissing,
            Error::Io { .. } => Kind::Storage,
            Error::WorkerStartup { .. } => Kind::WorkerStartup,
        };
        throw(kind, capitalize(&e.to_string()))
    }
}
