//! The task state machine, in one place.
//!
//! ```text
//!            create / manual retry / retry after backoff / released
//!                 ┌──────────────────────────────────────────────┐
//!                 v                                              │
//!   ┌────────► Pending(10) ──claimed──► Running(20) ──finished──► Completed(30)
//!   │             │  ▲                   │    │  ▲
//!   │   cancel    │  └─worker inactive───┘    │  └─ worker sets Preparing(15) and back
//!   │             v                           ├──error, attempts left──► Pending (available later)
//!   │        Cancelled(50) ◄──cancel seen─────┤
//!   │             │                           └──error, attempts exhausted / no worker──► Failed(40)
//!   └─manual retry┴───────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! Status numbers are the seed's (10..50). Rows written by the PHP package
//! (30 preparing, 50 running, 80 completed, 100 failed) are converted once
//! by the migration.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Status {
    Pending = 10,
    Preparing = 15,
    Running = 20,
    Completed = 30,
    Failed = 40,
    Cancelled = 50,
}

impl Status {
    pub const ALL: [Status; 6] =
        [Status::Pending, Status::Preparing, Status::Running, Status::Completed, Status::Failed, Status::Cancelled];

    pub fn code(self) -> i64 {
        self as i64
    }

    pub fn from_code(code: i64) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The `status_text` string (also the progress file's `status`).
    pub fn name(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Preparing => "preparing",
            Status::Running => "running",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn from_name(name: &str) -> Option<Status> {
        match name {
            "queued" => Some(Status::Pending),
            "finished" => Some(Status::Completed),
            _ => Status::ALL.into_iter().find(|s| s.name() == name),
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(self, Status::Completed | Status::Failed | Status::Cancelled)
    }

    /// Preparing and Running both mean "a worker holds it".
    pub fn is_active(self) -> bool {
        matches!(self, Status::Preparing | Status::Running)
    }
}

/// `status_text` of a raw code, `unknown` for anything else.
pub fn status_text(code: i64) -> &'static str {
    Status::from_code(code).map(Status::name).unwrap_or("unknown")
}

/// Why a task moves; each state-changing query names its edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    Claimed,
    Finished,
    FailedWithAttemptsLeft,
    AttemptsExhausted,
    WorkerMissing,
    WorkerInactive,
    LeaseExpired,
    /// A cancel of a task no worker holds: it ends at once.
    CancelPending,
    /// A cancel of a task a worker holds (preparing or running): the row
    /// keeps its state and is flagged; the worker stops at its next report.
    CancelRequested,
    CancelSeen,
    ManualRetry,
}

/// The table of allowed moves. `None` means the edge does not apply from `from`.
pub fn transition(from: Status, edge: Edge) -> Option<Status> {
    use Edge::*;
    use Status::*;
    match (from, edge) {
        (Pending, Claimed) => Some(Running),
        (Running | Preparing, Finished) => Some(Completed),
        (Running | Preparing, FailedWithAttemptsLeft) => Some(Pending),
        (Running | Preparing, AttemptsExhausted | WorkerMissing) => Some(Failed),
        (Running | Preparing, WorkerInactive | LeaseExpired) => Some(Pending),
        (Pending, CancelPending) => Some(Cancelled),
        (Preparing, CancelRequested) => Some(Preparing),
        (Running, CancelRequested) => Some(Running),
        (Running | Preparing, CancelSeen) => Some(Cancelled),
        (Failed | Cancelled, ManualRetry) => Some(Pending),
        _ => None,
    }
}

/// The states `edge` applies from, in code order: what the SQL of that
/// edge may match.
pub fn sources(edge: Edge) -> Vec<Status> {
    Status::ALL.into_iter().filter(|s| transition(*s, edge).is_some()).collect()
}

/// The `status` condition of `edge`'s SQL, built from the table above
/// (`status = 10`, `status IN (15, 20)`), so the queries apply exactly the
/// moves the state machine allows.
pub fn status_condition(edge: Edge) -> String {
    let codes: Vec<String> = sources(edge).iter().map(|s| s.code().to_string()).collect();
    match codes.as_slice() {
        [] => "1 = 0".to_string(),
        [one] => format!("status = {one}"),
        many => format!("status IN ({})", many.join(", ")),
    }
}

/// Task priority. Stored as the name; ordered high, normal, low by `rank`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Priority {
    High,
    Normal,
    Low,
}

impl Priority {
    pub fn name(self) -> &'static str {
        match self {
            Priority::High => "high",
            Priority::Normal => "normal",
            Priority::Low => "low",
        }
    }

    /// Sort key of the claim query (lower runs first).
    pub fn rank(self) -> i64 {
        match self {
            Priority::High => 1,
            Priority::Normal => 5,
            Priority::Low => 10,
        }
    }

    pub fn parse(name: &str) -> Option<Priority> {
        match name.trim().to_ascii_lowercase().as_str() {
            "high" => Some(Priority::High),
            "normal" => Some(Priority::Normal),
            "low" => Some(Priority::Low),
            _ => None,
        }
    }

    /// Integer priorities use the admin filter's ids: 1 low, 2 normal, 3 high.
    pub fn from_int(n: i64) -> Option<Priority> {
        match n {
            1 => Some(Priority::Low),
            2 => Some(Priority::Normal),
            3 => Some(Priority::High),
            _ => None,
        }
    }

    pub fn rank_of_name(name: &str) -> i64 {
        Priority::parse(name).unwrap_or(Priority::Normal).rank()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_follow_the_seed() {
        assert_eq!(Status::Pending.code(), 10);
        assert_eq!(Status::Completed.code(), 30);
        assert_eq!(Status::Cancelled.code(), 50);
        assert_eq!(status_text(30), "completed");
        assert_eq!(status_text(80), "unknown");
        assert_eq!(Status::from_name("queued"), Some(Status::Pending));
    }

    #[test]
    fn walking_the_table_only_finished_states_are_terminal() {
        let edges = [
            Edge::Claimed,
            Edge::Finished,
            Edge::FailedWithAttemptsLeft,
            Edge::AttemptsExhausted,
            Edge::WorkerMissing,
            Edge::WorkerInactive,
            Edge::LeaseExpired,
            Edge::CancelPending,
            Edge::CancelRequested,
            Edge::CancelSeen,
        ];
        for s in [Status::Completed, Status::Failed, Status::Cancelled] {
            for e in edges {
                assert_eq!(transition(s, e), None, "{s:?} --{e:?}");
            }
        }
        assert_eq!(transition(Status::Completed, Edge::ManualRetry), None);
        assert_eq!(transition(Status::Failed, Edge::ManualRetry), Some(Status::Pending));
        assert_eq!(transition(Status::Pending, Edge::Claimed), Some(Status::Running));
        assert_eq!(transition(Status::Running, Edge::Claimed), None);
    }

    #[test]
    fn a_cancel_ends_only_a_task_no_worker_holds() {
        assert_eq!(transition(Status::Pending, Edge::CancelPending), Some(Status::Cancelled));
        assert_eq!(transition(Status::Preparing, Edge::CancelPending), None);
        assert_eq!(transition(Status::Preparing, Edge::CancelRequested), Some(Status::Preparing));
        assert_eq!(transition(Status::Running, Edge::CancelRequested), Some(Status::Running));
        assert_eq!(status_condition(Edge::CancelPending), "status = 10");
        assert_eq!(status_condition(Edge::CancelRequested), "status IN (15, 20)");
    }

    #[test]
    fn priorities_order_high_normal_low() {
        assert!(Priority::High.rank() < Priority::Normal.rank());
        assert!(Priority::Normal.rank() < Priority::Low.rank());
        assert_eq!(Priority::from_int(3), Some(Priority::High));
        assert_eq!(Priority::from_int(7), None);
        assert_eq!(Priority::parse("HIGH"), Some(Priority::High));
    }
}
