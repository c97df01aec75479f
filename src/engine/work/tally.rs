//! Where the tasks a loop ran ended up.

use crate::engine::store::{Finished, Outcome};
use crate::engine::task::Status;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub processed: i64,
    pub completed: i64,
    pub failed: i64,
    pub retried: i64,
    pub cancelled: i64,
    /// Handed back without an attempt (inactive worker, exiting process).
    pub waiting: i64,
}

impl Tally {
    /// Counts where a task ended up (a worker may have failed it itself).
    pub fn count(&mut self, o: &Outcome, f: Option<&Finished>) {
        if let Outcome::Released { .. } = o {
            self.waiting += 1;
            return;
        }
        self.processed += 1;
        match f.and_then(|f| Status::from_code(f.status)) {
            Some(Status::Completed) => self.completed += 1,
            Some(Status::Failed) => self.failed += 1,
            Some(Status::Cancelled) => self.cancelled += 1,
            Some(Status::Pending) => self.retried += 1,
            // Rows deleted by their worker, or left running by a guard.
            _ => {}
        }
    }
}
