//! What happens after a failed attempt: pure decisions, no database.

use crate::engine::time::Timestamp;
use std::time::Duration;

/// Backoff never grows past this, whatever the attempt count.
pub const MAX_DELAY: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// Back to pending, claimable from this time.
    RetryAt(Timestamp),
    /// Attempts exhausted: the task is failed for good.
    Fail,
}

/// `base * 2^(attempt-1)`, capped, then spread by ±`jitter` (0..1) so that a
/// burst of failures does not come back as a burst. `unit` is a random number
/// in [0, 1) supplied by the caller, which keeps this function pure.
pub fn backoff(attempt: i64, base: Duration, jitter: f64, unit: f64) -> Duration {
    let exp = (attempt.max(1) - 1).min(30) as i32;
    let raw = base.as_secs_f64() * 2f64.powi(exp);
    let capped = raw.min(MAX_DELAY.as_secs_f64());
    let spread = 1.0 + jitter.clamp(0.0, 1.0) * (2.0 * unit.clamp(0.0, 1.0) - 1.0);
    Duration::from_secs_f64((capped * spread).max(0.0))
}

/// `attempts` counts the attempt that just failed.
pub fn decide(attempts: i64, max_attempts: i64, now: Timestamp, base: Duration, unit: f64) -> Decision {
    if attempts >= max_attempts {
        return Decision::Fail;
    }
    let delay = backoff(attempts, base, 0.2, unit);
    Decision::RetryAt(now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::zero()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let b = Duration::from_secs(5);
        assert_eq!(backoff(1, b, 0.0, 0.5), Duration::from_secs(5));
        assert_eq!(backoff(2, b, 0.0, 0.5), Duration::from_secs(10));
        assert_eq!(backoff(3, b, 0.0, 0.5), Duration::from_secs(20));
        assert_eq!(backoff(40, b, 0.0, 0.5), MAX_DELAY);
    }

    #[test]
    fn jitter_stays_within_its_band() {
        let b = Duration::from_secs(10);
        assert_eq!(backoff(1, b, 0.2, 0.0), Duration::from_secs(8));
        assert_eq!(backoff(1, b, 0.2, 1.0), Duration::from_secs(12));
    }

    #[test]
    fn a_task_is_failed_when_attempts_are_exhausted() {
        let now = chrono::Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(decide(3, 3, now, Duration::from_secs(5), 0.5), Decision::Fail);
        assert_eq!(decide(1, 3, now, Duration::from_secs(5), 0.5), Decision::RetryAt(now + chrono::Duration::seconds(5)));
    }
}
