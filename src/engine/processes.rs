//! Live worker processes: every worker loop registers itself (host, pid,
//! version, start), beats every few seconds with the tasks it has done and
//! the one it runs, and removes itself when it ends. A process killed
//! outright (kill -9, OOM, a lost server) stops beating: it counts as gone
//! once its heartbeat is older than [`ALIVE_FOR`], and the maintenance
//! leader deletes its row later. This is what tells a site owner whether
//! anything is working the queue at all.

use crate::engine::lease::Held;
use crate::engine::store::{ProcessRow, Store};
use crate::engine::time::{self, Timestamp};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How often a live process writes its heartbeat. It runs on the runtime,
/// not the PHP thread, so a task busy for minutes keeps its process alive.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(15);

/// A process unseen this long is gone (8 missed heartbeats): the "no worker
/// process has been seen for 2 minutes" of the alert and the health check.
pub const ALIVE_FOR: Duration = Duration::from_secs(120);

/// Rows of gone processes stay this long (a dashboard can show what died),
/// then the maintenance leader deletes them.
pub const FORGET_AFTER: Duration = Duration::from_secs(3600);

/// Whether a row's heartbeat is recent enough at `now`.
pub fn is_alive(p: &ProcessRow, now: Timestamp) -> bool {
    p.heartbeat_at >= now - chrono::Duration::from_std(ALIVE_FOR).unwrap_or_default()
}

/// How many of `rows` are alive at `now`.
pub fn alive_count(rows: &[ProcessRow], now: Timestamp) -> usize {
    rows.iter().filter(|p| is_alive(p, now)).count()
}

/// A registered worker loop. Dropping it stops the heartbeat; `stop`
/// (awaited) also removes the row at once.
pub struct Live {
    row: ProcessRow,
    store: Arc<dyn Store>,
    done: Arc<AtomicI64>,
    beat: tokio::task::JoinHandle<()>,
}

impl Live {
    pub async fn start(store: Arc<dyn Store>, held: Arc<Held>, owner: &str) -> crate::engine::Result<Live> {
        let now = time::now();
        let row = ProcessRow {
            owner: owner.to_string(),
            host: owner.split(':').next().unwrap_or_default().to_string(),
            pid: std::process::id() as i64,
            version: env!("CARGO_PKG_VERSION").to_string(),
            started_at: now,
            heartbeat_at: now,
            tasks_done: 0,
            current_task: None,
        };
        store.process_register(&row).await?;
        let done = Arc::new(AtomicI64::new(0));
        let beat = tokio::spawn(heartbeat(Arc::downgrade(&store), held, row.clone(), done.clone()));
        Ok(Live { row, store, done, beat })
    }

    /// The tasks this loop has finished, for the next heartbeat.
    pub fn set_done(&self, n: i64) {
        self.done.store(n, Ordering::Relaxed);
    }

    pub async fn stop(self) {
        self.beat.abort();
        if let Err(e) = self.store.process_remove(&self.row.owner).await {
            tracing::warn!(
                "stask: could not remove this worker process from the registry (it expires in {} s): {e}",
                ALIVE_FOR.as_secs()
            );
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.beat.abort();
    }
}

async fn heartbeat(store: Weak<dyn Store>, held: Arc<Held>, mut row: ProcessRow, done: Arc<AtomicI64>) {
    let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(store) = store.upgrade() else { return };
        row.heartbeat_at = time::now();
        row.tasks_done = done.load(Ordering::Relaxed);
        row.current_task = held.snapshot().into_iter().min();
        let beat = match store.process_beat(&row).await {
            // Expired while this process stalled (or deleted by hand): back.
            Ok(false) => store.process_register(&row).await.map(|_| true),
            other => other,
        };
        if let Err(e) = beat {
            tracing::warn!("stask: worker process heartbeat failed (tried again in {} s): {e}", HEARTBEAT_EVERY.as_secs());
        }
    }
}
