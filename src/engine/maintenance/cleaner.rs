//! The cleaner: removes old completed tasks, stale progress files and the
//! chunk folders of uploads that were never completed (a client that gave
//! up must not fill the disk). Also what the native `system` worker's
//! `cleanup` action runs.

use crate::engine::maintenance::Scope;
use crate::engine::{Error, Result};
use serde::Serialize;
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, PartialEq)]
pub struct CleanerConfig {
    /// Completed tasks finished longer ago than this are deleted.
    pub older_than_days: i64,
    /// Progress snapshots untouched for this long are deleted.
    pub progress_max_age: Duration,
    /// Also drop the worker cache (the seed's `clean_cache`).
    pub clean_cache: bool,
}

impl Default for CleanerConfig {
    fn default() -> Self {
        CleanerConfig {
            older_than_days: 30,
            progress_max_age: crate::engine::progress::PROGRESS_FILE_MAX_AGE,
            clean_cache: false,
        }
    }
}

impl CleanerConfig {
    pub fn validate(&self) -> Result<()> {
        if !(0..=36_500).contains(&self.older_than_days) {
            return Err(Error::invalid("days", format!("must be between 0 and 36500, got {}", self.older_than_days)));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CleanReport {
    pub deleted_tasks: u64,
    pub deleted_progress_files: u64,
    pub cache_cleared: bool,
    pub deleted_uploads: u64,
}

pub struct Cleaner<'a> {
    scope: Scope<'a>,
    config: CleanerConfig,
}

impl<'a> Cleaner<'a> {
    pub fn new(scope: impl Into<Scope<'a>>, config: CleanerConfig) -> Result<Self> {
        config.validate()?;
        Ok(Cleaner { scope: scope.into(), config })
    }

    /// Deletes completed tasks (and their progress files) finished before
    /// the cut-off.
    pub async fn clean_tasks(&self) -> Result<u64> {
        let before = crate::engine::time::now() - chrono::Duration::days(self.config.older_than_days);
        let ids = self.scope.store.task_delete_completed_before(before).await?;
        for id in &ids {
            let _ = self.scope.files.remove(*id);
        }
        // Attempts by the same age rule: those of the tasks just deleted,
        // and of tasks deleted another way.
        self.scope.store.attempts_delete_before(before).await?;
        Ok(ids.len() as u64)
    }

    /// Progress files untouched for `progress_max_age`.
    pub fn clean_progress_files(&self) -> Result<u64> {
        let files = self.scope.files;
        files.cleanup(self.config.progress_max_age, SystemTime::now()).map(|n| n as u64).map_err(|e| Error::io(files.dir(), e))
    }

    /// Chunk folders of uploads untouched for the configured time
    /// (`upload_stale_hours`, default 24).
    pub fn clean_abandoned_uploads(&self) -> Result<u64> {
        let settings = self.scope.settings;
        crate::engine::upload_dirs::clean_abandoned(&settings.storage_path, settings.api.upload_stale_after, SystemTime::now())
            .map(|n| n as u64)
            .map_err(|e| Error::io(&settings.storage_path, e))
    }

    pub async fn run_once(&self) -> Result<CleanReport> {
        let deleted_tasks = self.clean_tasks().await?;
        let deleted_progress_files = self.clean_progress_files()?;
        let deleted_uploads = self.clean_abandoned_uploads()?;
        if self.config.clean_cache {
            self.scope.worker_cache.lock().clear();
        }
        Ok(CleanReport { deleted_tasks, deleted_progress_files, cache_cleared: self.config.clean_cache, deleted_uploads })
    }
}
