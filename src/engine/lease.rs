//! Leases: a claimed task records its owner (host:pid) and an expiry. While
//! PHP runs the task, the heartbeat below pushes the expiry forward.

use crate::engine::store::{LeaseExtendParams, Store};
use crate::engine::time;
use parking_lot::Mutex;
use std::collections::HashSet;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// The tasks this process is running right now, and which of them are
/// being finished (their end on its way to the database).
#[derive(Debug, Default)]
pub struct Held {
    ids: Mutex<HashSet<i64>>,
    finishing: Mutex<HashSet<i64>>,
}

impl Held {
    pub fn add(&self, id: i64) {
        self.ids.lock().insert(id);
    }

    pub fn remove(&self, id: i64) {
        self.ids.lock().remove(&id);
        self.finishing.lock().remove(&id);
    }

    pub fn contains(&self, id: i64) -> bool {
        self.ids.lock().contains(&id)
    }

    /// Marks tasks whose end is being written: still held (the heartbeat
    /// keeps extending them until the write is done), but a row that is
    /// already finished is not a lost lease.
    pub fn finishing(&self, ids: impl IntoIterator<Item = i64>) {
        self.finishing.lock().extend(ids);
    }

    /// Held and not being finished: the tasks whose lease must still hold.
    pub fn running(&self, id: i64) -> bool {
        self.contains(id) && !self.finishing.lock().contains(&id)
    }

    pub fn snapshot(&self) -> Vec<i64> {
        self.ids.lock().iter().copied().collect()
    }
}

/// Runs on the runtime, not the PHP thread: a task busy in PHP for minutes
/// must not look dead to the rescuer on another host. Stops when the
/// engine (the last strong reference to the store) is gone.
pub async fn heartbeat(store: Weak<dyn Store>, held: Arc<Held>, owner: String, lease_for: Duration) {
    let every = (lease_for / 3).max(Duration::from_millis(200));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(store) = store.upgrade() else { return };
        let ids = held.snapshot();
        if ids.is_empty() {
            continue;
        }
        let expires_at = time::now() + chrono::Duration::from_std(lease_for).unwrap_or_default();
        let held_now = ids.len() as u64;
        let p = LeaseExtendParams { ids, owner: owner.clone(), expires_at };
        match store.task_extend_leases(&p).await {
            // A missed beat is retried at the next tick; the lease is three
            // beats long.
            Err(e) => tracing::warn!(owner = owner.as_str(), error = %e, "stask: lease heartbeat failed: {e}"),
            // Fewer rows than held: a task finished meanwhile, or its lease
            // was lost (rescued by another host after a long stall).
            Ok(n) if n < held_now => {
                // Tasks that finished meanwhile are not lost: a batch whose end
                // committed just before this update (and whose finish call has
                // not returned yet) showed as "100 of 100 lost" at full speed.
                let still: Vec<i64> = p.ids.iter().copied().filter(|id| held.running(*id)).collect();
                if still.len() as u64 > n {
                    tracing::warn!(
                        owner = owner.as_str(),
                        "stask: lease lost: {} of {} task(s) held by {owner} were not extended (rescued elsewhere, or cancelled)",
                        still.len() as u64 - n,
                        still.len()
                    );
                }
            }
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Held;

    #[test]
    fn a_task_being_finished_is_held_but_not_running() {
        let held = Held::default();
        held.add(1);
        held.add(2);
        held.finishing([2]);
        assert!(held.running(1));
        assert!(!held.running(2), "its end is on its way: not a lost lease");
        assert!(held.contains(2), "still extended until the end is written");
        held.remove(2);
        assert!(!held.contains(2));
        held.add(2);
        assert!(held.running(2), "a later claim of the same id starts clean");
    }
}
