//! The rescuer: tasks whose lease ran out (their host crashed, the process
//! was killed with -9, the machine lost power) go back to pending while
//! attempts remain, else they fail with a message saying why.
//!
//! A task that runs long keeps its lease fresh through the heartbeat
//! (`lease.rs`), so only dead owners are rescued. The update re-checks the
//! expiry, so a heartbeat that lands between select and update wins.

use crate::engine::maintenance::Scope;
use crate::engine::retry::{self, Decision};
use crate::engine::store::{AttemptRow, Rescue, RescueParams};
use crate::engine::task::TaskRow;
use crate::engine::time::Timestamp;
use crate::engine::{Error, Result};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct RescuerConfig {
    pub batch: i64,
    pub retry_base_delay: Duration,
}

impl Default for RescuerConfig {
    fn default() -> Self {
        RescuerConfig { batch: 100, retry_base_delay: Duration::from_secs(5) }
    }
}

impl RescuerConfig {
    pub fn validate(&self) -> Result<()> {
        if !(1..=10_000).contains(&self.batch) {
            return Err(Error::invalid("batch", format!("must be between 1 and 10000, got {}", self.batch)));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RescueReport {
    pub requeued: u64,
    pub failed: u64,
}

/// What becomes of one expired task (pure, tested without a database).
pub fn decide(task: &TaskRow, now: Timestamp, base: Duration, unit: f64) -> (Rescue, String) {
    let owner = task.lease_owner.clone().unwrap_or_else(|| "an unknown worker".into());
    match retry::decide(task.attempts, task.max_attempts, now, base, unit) {
        Decision::RetryAt(at) => (
            Rescue::Retry { available_at: at },
            format!(
                "Rescued: the lease of {owner} expired during attempt {} of {} (the worker stopped without reporting); queued again",
                task.attempts, task.max_attempts
            ),
        ),
        Decision::Fail => (
            Rescue::Fail,
            format!(
                "Failed: the lease of {owner} expired during attempt {} of {} (the worker stopped without reporting) and no attempts remain",
                task.attempts, task.max_attempts
            ),
        ),
    }
}

pub struct Rescuer<'a> {
    scope: Scope<'a>,
    config: RescuerConfig,
}

impl<'a> Rescuer<'a> {
    pub fn new(scope: impl Into<Scope<'a>>, config: RescuerConfig) -> Result<Self> {
        config.validate()?;
        Ok(Rescuer { scope: scope.into(), config })
    }

    pub async fn run_once(&self, now: Timestamp) -> Result<RescueReport> {
        let mut report = RescueReport::default();
        let mut after = 0;
        loop {
            let expired = self.scope.store.task_select_expired(now, after, self.config.batch).await?;
            for task in &expired {
                let (to, message) = decide(task, now, self.config.retry_base_delay, rand::random());
                let fail = to == Rescue::Fail;
                let log_message = message.clone();
                if self.scope.store.task_rescue(&RescueParams { id: task.id, now, message, to }).await? {
                    tracing::warn!(
                        task = task.id,
                        worker = task.identifier.as_str(),
                        action = task.action.as_str(),
                        owner = task.lease_owner.as_deref().unwrap_or(""),
                        "stask: task #{} ({}/{}) rescued from an expired lease: {log_message}",
                        task.id,
                        task.identifier,
                        task.action
                    );
                    if fail {
                        report.failed += 1;
                    } else {
                        report.requeued += 1;
                    }
                    // The lost attempt in the task's history, with its owner.
                    let lost = AttemptRow {
                        task_id: task.id,
                        attempt: task.attempts,
                        started_at: task.started_at,
                        finished_at: now,
                        duration: None,
                        peak_memory: None,
                        owner: task.lease_owner.clone(),
                        outcome: "lost".into(),
                        error_class: None,
                        message: Some(log_message.clone()),
                        trace: None,
                    };
                    if let Err(e) = self.scope.store.attempt_insert_many(&[lost]).await {
                        tracing::warn!("stask: could not keep the lost attempt of task #{} in its history: {e}", task.id);
                    }
                }
            }
            match expired.last() {
                Some(last) if expired.len() as i64 == self.config.batch => after = last.id,
                _ => break,
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::task::{NewTask, Status};

    fn running(attempts: i64, max: i64) -> TaskRow {
        let mut t = NewTask::new("w", "run").row(7, chrono::Utc::now(), chrono::Utc::now());
        t.status = Status::Running.code();
        t.attempts = attempts;
        t.max_attempts = max;
        t.lease_owner = Some("host-a:42".into());
        t
    }

    #[test]
    fn an_expired_task_with_attempts_left_is_queued_again() {
        let (to, msg) = decide(&running(1, 3), chrono::Utc::now(), Duration::from_secs(1), 0.5);
        assert!(matches!(to, Rescue::Retry { .. }));
        assert!(msg.contains("host-a:42") && msg.contains("attempt 1 of 3"), "{msg}");
    }

    #[test]
    fn rescue_fails_the_task_when_attempts_are_exhausted() {
        let (to, msg) = decide(&running(3, 3), chrono::Utc::now(), Duration::from_secs(1), 0.5);
        assert_eq!(to, Rescue::Fail);
        assert!(msg.contains("no attempts remain"), "{msg}");
    }
}
