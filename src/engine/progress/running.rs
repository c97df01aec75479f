//! The progress of the tasks this process runs: a tracker per task while
//! it runs, the snapshot file and the row's mirror written as the throttle
//! allows, the final state written when the outcome is stored. Also the
//! snapshot any task shows (file, mirror or row).

use crate::engine::progress::{ProgressDelta, ProgressFiles, ProgressSnapshot, ProgressTracker};
use crate::engine::store::{Finished, Store, TaskProgressParams};
use crate::engine::task::{Status, TaskRow};
use crate::engine::time;
use crate::engine::{Error, Result};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A running task's progress, and whether it ever reached the disk.
struct Tracked {
    tracker: ProgressTracker,
    reported: bool,
    /// Reports merged since the last write (the throttle held them back):
    /// the task's end writes them, so nothing a worker reported is lost.
    dirty: bool,
}

pub struct RunningProgress {
    store: Arc<dyn Store>,
    files: ProgressFiles,
    /// The least time between two writes of one task's progress.
    interval: Duration,
    trackers: Mutex<HashMap<i64, Tracked>>,
}

impl RunningProgress {
    pub fn new(store: Arc<dyn Store>, files: ProgressFiles, interval: Duration) -> Self {
        RunningProgress { store, files, interval, trackers: Mutex::new(HashMap::new()) }
    }

    pub fn files(&self) -> &ProgressFiles {
        &self.files
    }

    /// Starts tracking a claimed task (no file is written until the worker
    /// reports, so no-op tasks cost no file I/O).
    pub fn begin(&self, task: &TaskRow) {
        let snap = ProgressSnapshot::new(task.id, &task.identifier, &task.action, Status::Running.name());
        self.trackers
            .lock()
            .insert(task.id, Tracked { tracker: ProgressTracker::new(snap, Instant::now()), reported: false, dirty: false });
    }

    /// A worker's `pushProgress`. Returns true when a cancel was requested.
    pub async fn push(&self, id: i64, delta: &ProgressDelta) -> Result<bool> {
        let now = Instant::now();
        let flush = {
            let mut trackers = self.trackers.lock();
            let tracked = match trackers.get_mut(&id) {
                Some(t) => t,
                None => {
                    drop(trackers);
                    return self.push_untracked(id, delta).await;
                }
            };
            tracked.tracker.apply(delta, now);
            if tracked.tracker.should_flush(now, self.interval) {
                tracked.tracker.mark_flushed(now);
                tracked.reported = true;
                tracked.dirty = false;
                Some(tracked.tracker.snapshot().clone())
            } else {
                tracked.dirty = true;
                None
            }
        };
        match flush {
            Some(snap) => self.write(&snap).await,
            None => Ok(false),
        }
    }

    /// Progress for a task this process is not running (a worker that calls
    /// `pushProgress` outside the engine loop): read, merge, write.
    async fn push_untracked(&self, id: i64, delta: &ProgressDelta) -> Result<bool> {
        let task = self.store.task_get(id).await?.ok_or(Error::TaskNotFound(id))?;
        let snap = self.snapshot_of(&task);
        let mut tracker = ProgressTracker::new(snap, Instant::now());
        tracker.apply(delta, Instant::now());
        let snap = tracker.snapshot().clone();
        self.write(&snap).await
    }

    async fn write(&self, snap: &ProgressSnapshot) -> Result<bool> {
        self.files.write(snap).map_err(|e| Error::io(&self.files.path(snap.id), e))?;
        let json = serde_json::to_string(snap).unwrap_or_default();
        let ack = self
            .store
            .task_progress(&TaskProgressParams {
                id: snap.id,
                progress: snap.progress,
                message: snap.message.clone(),
                snapshot: json,
                now: time::now(),
            })
            .await?;
        Ok(ack.map(|a| a.cancel_requested).unwrap_or(false))
    }

    /// After the outcome is stored: the last snapshot of a task that reported
    /// progress says how it ended, as the row says it. Reports the throttle
    /// held back reach the row's mirror too (one write, only then).
    pub async fn finish(&self, f: &Finished) {
        let Some(Tracked { mut tracker, reported, dirty }) = self.trackers.lock().remove(&f.id) else { return };
        if !reported {
            return;
        }
        let status = Status::from_code(f.status).unwrap_or(Status::Pending);
        let delta = ProgressDelta {
            status: Some(status.name().into()),
            progress: (status == Status::Completed).then_some(100),
            message: f.message.clone(),
            eta: Some("—".into()),
            ..Default::default()
        };
        tracker.apply(&delta, Instant::now());
        let snap = tracker.snapshot();
        if let Err(e) = self.files.write(snap) {
            tracing::warn!(task = f.id, "stask: could not write the progress file {}: {e}", self.files.path(f.id).display());
        }
        if dirty {
            let mirror = TaskProgressParams {
                id: f.id,
                progress: snap.progress,
                message: f.message.clone().unwrap_or_else(|| snap.message.clone()),
                snapshot: serde_json::to_string(snap).unwrap_or_default(),
                now: time::now(),
            };
            if let Err(e) = self.store.task_progress(&mirror).await {
                tracing::warn!(task = f.id, "stask: could not store the final progress of task #{}: {e}", f.id);
            }
        }
    }

    /// A task that already has a snapshot gets its final state in it.
    pub fn write_final(&self, id: i64, status: Status, message: &str) {
        if let Ok(Some(snap)) = self.files.read(id) {
            let mut tracker = ProgressTracker::new(snap, Instant::now());
            let delta = ProgressDelta { status: Some(status.name().into()), message: Some(message.into()), ..Default::default() };
            tracker.apply(&delta, Instant::now());
            let _ = self.files.write(tracker.snapshot());
        }
    }

    /// The seed's progress shape for any task: the file if there is one,
    /// else the row's mirror, else what the row itself says.
    pub fn snapshot_of(&self, task: &TaskRow) -> ProgressSnapshot {
        // A file left by an earlier task with the same id (a recreated
        // database) is not this task's.
        let from_file = self.files.read(task.id).ok().flatten().filter(|f| {
            f.identifier == task.identifier
                && f.action == task.action
                && match (chrono::DateTime::parse_from_rfc3339(&f.updated_at), task.created_at) {
                    (Ok(at), Some(created)) => at.with_timezone(&chrono::Utc) >= created,
                    _ => true,
                }
        });
        let from_row = task.snapshot.as_deref().and_then(|s| serde_json::from_str::<ProgressSnapshot>(s).ok());
        let mut snap = from_file.or(from_row).unwrap_or_else(|| {
            let mut s = ProgressSnapshot::new(task.id, &task.identifier, &task.action, task.status_text());
            s.message = task.message.clone().unwrap_or_default();
            s
        });
        // The row is the truth for status and final progress; the file may
        // lag behind by one throttle interval.
        snap.status = task.status_text().into();
        if task.status == Status::Completed.code() {
            snap.progress = 100;
            snap.eta = "—".into();
        } else if snap.progress < task.progress {
            snap.progress = task.progress;
        }
        if let Some(m) = &task.message {
            if Status::from_code(task.status).map(|s| s.is_finished() || s == Status::Pending).unwrap_or(false) {
                snap.message = m.clone();
            }
        }
        snap
    }
}
