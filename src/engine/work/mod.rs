//! The worker loop: what `sTask::work()` and `sTask::processPendingTasks()`
//! do between tasks. Claiming, batch sizing, the idle wait, the maintenance
//! cadence, stop conditions and the tally are decided here; the tasks
//! themselves run through a [`Runner`], because only the host can run them
//! (the PHP face runs them on the PHP thread, tests run plain Rust ones).

mod batch;
mod run;
pub mod stop;
mod tally;

pub use batch::{next_batch, release, run_batch, Ran};
pub use run::{run, run_due, Options, Report};
pub use tally::Tally;

use crate::engine::store::Outcome;
use crate::engine::task::TaskRow;
use std::future::Future;

/// What the caller must do after a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// The task ended the process (PHP's `exit()`): the attempt is recorded,
    /// the rest of the batch is handed back, and the loop returns at once.
    Exit,
}

/// Runs claimed tasks for the loop, on the loop's thread.
pub trait Runner {
    /// What running a task can fail with besides the engine's own errors
    /// (the loop's engine calls are converted into it).
    type Error: From<crate::engine::Error>;

    /// Waits for one engine future on the loop's thread. The PHP face hands
    /// queued log records to PHP after each wait, which is why the loop
    /// does not wait on the runtime itself.
    fn wait<F: Future>(&self, f: F) -> F::Output;

    /// Runs one claimed task and returns its outcome, not yet stored.
    /// `pending` holds the outcomes of this batch not stored yet: a runner
    /// that must end the process on the spot stores them first.
    fn run_one(&mut self, task: &TaskRow, pending: &mut Vec<Outcome>) -> Result<(Outcome, Flow), Self::Error>;
}
