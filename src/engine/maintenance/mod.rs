//! Maintenance: the rescuer (expired leases), the cleaner (old tasks,
//! progress files, abandoned uploads), the scheduler (worker schedules'
//! tasks) and the planner statistics.
//!
//! Each works on a [`Scope`] (the database, the progress files, the
//! settings), never on the `Engine`: the engine calls maintenance, so
//! maintenance must not need the engine. `From<&Engine>` (in `service`)
//! makes the engine's scope.

pub mod cleaner;
pub mod rescuer;
pub mod scheduler;
pub mod statistics;

use crate::engine::cache::WorkerCache;
use crate::engine::config::Settings;
use crate::engine::progress::ProgressFiles;
use crate::engine::store::Store;
use crate::engine::worker::WorkerRow;
use parking_lot::Mutex;

/// What maintenance may touch.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    pub store: &'a dyn Store,
    pub files: &'a ProgressFiles,
    pub settings: &'a Settings,
    /// Dropped by a cleaner asked to (`clean_cache`).
    pub worker_cache: &'a Mutex<WorkerCache<Option<WorkerRow>>>,
}
