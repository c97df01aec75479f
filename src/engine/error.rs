//! The engine's one error type. Messages are lowercase, name the offending
//! value, and never contain a DSN or a password. `src/php/exceptions.rs`
//! maps each variant to a PHP exception class, once.

use crate::engine::store::{StoreError, StoreErrorKind};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A caller passed a value the engine refuses (empty identifier, unknown
    /// priority, unknown column...). `field` names the argument.
    #[error("invalid {field}: {reason}")]
    InvalidArgument { field: String, reason: String },

    /// The configuration (DSN, storage path, driver) cannot be used.
    #[error("configuration error: {0}")]
    Configuration(String),

    /// No task row has this id.
    #[error("task #{0} does not exist")]
    TaskNotFound(i64),

    /// No worker row has this identifier.
    #[error("worker '{0}' is not registered")]
    WorkerNotFound(String),

    /// The requested move is not an edge of the task state machine.
    #[error("task #{id} is {from}; it cannot be {action}")]
    InvalidTransition { id: i64, from: &'static str, action: &'static str },

    /// Reading or writing a file under the storage folder failed.
    #[error("storage error at {path}: {source}")]
    Io { path: String, source: std::io::Error },

    /// Worker child processes kept dying before they reached their worker
    /// loop (extension not loaded, application failing to boot), so the
    /// supervisor stopped instead of replacing them forever. `status` is the
    /// last child's exit, `output` its last lines.
    #[error("worker processes keep failing at start-up: {failures} in a row ended before running any task, the last with {status}; {output}")]
    WorkerStartup { failures: u32, status: String, output: String },

    /// The database server could not be reached: which driver, where, and
    /// the operating system's reason ("connection refused") or the timeout.
    #[error("cannot connect to the {driver} server at {host}:{port}: {reason}")]
    Connect { driver: &'static str, host: String, port: u16, reason: String },

    /// The tables are not there (never migrated, or another prefix).
    #[error("the sTask tables are missing ({detail}): run `php artisan migrate` (or `sTask::migrate()`)")]
    SchemaMissing { detail: String },

    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        if e.kind() == StoreErrorKind::SchemaMissing {
            return Error::SchemaMissing { detail: e.detail() };
        }
        Error::Store(e)
    }
}

impl Error {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidArgument { field: field.into(), reason: reason.into() }
    }

    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Error::Io { path: path.display().to_string(), source }
    }
}
