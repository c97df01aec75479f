//! Engine events for the host's log.
//!
//! The engine reports what a site owner needs to know (a task failed, was
//! retried or rescued; the database went away and came back; a lease was
//! lost; a worker process crashed) with `tracing` macros, often on tokio
//! runtime threads, where PHP must never be called. The subscriber here
//! only queues each event as a [`Record`]; the PHP layer takes the queue on
//! the PHP thread (after each call into the runtime, so also in the worker
//! loop) and hands it to the host's logger or to `error_log`.
//!
//! Only events of this crate are kept (sqlx's own statement logging is
//! not), at or above the configured [`Level`]; the queue is bounded, and
//! what does not fit is counted and reported with the next record.

use parking_lot::Mutex;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record as SpanRecord};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};

/// Records kept while nobody takes them (a long `block_on`).
pub const QUEUE_MAX: usize = 1000;

/// How much the host hears. Ordered: `Off` < `Error` < ... < `Debug`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Off = 0,
    Error = 1,
    Warning = 2,
    Info = 3,
    Debug = 4,
}

impl Level {
    /// `error`, `warning` (or `warn`), `info`, `debug`, `off` (or `none`),
    /// any case; PSR-3's `critical`, `alert`, `emergency` count as error and
    /// `notice` as info.
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "off" | "none" | "false" | "0" => Level::Off,
            "error" | "critical" | "alert" | "emergency" => Level::Error,
            "warning" | "warn" => Level::Warning,
            "info" | "notice" => Level::Info,
            "debug" | "trace" => Level::Debug,
            _ => return None,
        })
    }

    /// The PSR-3 name the host's logger is called with.
    pub fn name(self) -> &'static str {
        match self {
            Level::Off => "off",
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }

    fn of(l: &tracing::Level) -> Level {
        match *l {
            tracing::Level::ERROR => Level::Error,
            tracing::Level::WARN => Level::Warning,
            tracing::Level::INFO => Level::Info,
            _ => Level::Debug,
        }
    }

    fn from_u8(n: u8) -> Level {
        match n {
            0 => Level::Off,
            1 => Level::Error,
            2 => Level::Warning,
            3 => Level::Info,
            _ => Level::Debug,
        }
    }
}

/// One engine event: its level, its message, and its named fields (task,
/// worker, action, error...) in the order they were given.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub level: Level,
    pub message: String,
    pub fields: Vec<(String, String)>,
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Warning as u8);
static PENDING: AtomicBool = AtomicBool::new(false);
static DROPPED: AtomicU64 = AtomicU64::new(0);
static QUEUE: Mutex<VecDeque<Record>> = Mutex::new(VecDeque::new());

/// The level records are kept from (default warning).
pub fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

pub fn level() -> Level {
    Level::from_u8(LEVEL.load(Ordering::Relaxed))
}

/// Installs the queueing subscriber as the process's default, once. False
/// when another subscriber was there first (then nothing is queued).
pub fn install() -> bool {
    static INSTALLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *INSTALLED.get_or_init(|| tracing::subscriber::set_global_default(QueueSubscriber).is_ok())
}

/// Whether records wait (one atomic load: the hot path's whole cost).
pub fn pending() -> bool {
    PENDING.load(Ordering::Acquire)
}

/// Takes every queued record, oldest first. A record saying how many were
/// dropped comes first when the queue overflowed.
pub fn take() -> Vec<Record> {
    if !pending() {
        return Vec::new();
    }
    let mut q = QUEUE.lock();
    PENDING.store(false, Ordering::Release);
    let mut out: Vec<Record> = q.drain(..).collect();
    drop(q);
    let dropped = DROPPED.swap(0, Ordering::Relaxed);
    if dropped > 0 {
        out.insert(
            0,
            Record {
                level: Level::Warning,
                message: format!("stask: {dropped} log record(s) were dropped (more than {QUEUE_MAX} waited)"),
                fields: vec![("dropped".into(), dropped.to_string())],
            },
        );
    }
    out
}

/// Queues a record (what the subscriber does with each event).
pub fn push(record: Record) {
    if record.level > level() || record.level == Level::Off {
        return;
    }
    let mut q = QUEUE.lock();
    if q.len() >= QUEUE_MAX {
        q.pop_front();
        DROPPED.fetch_add(1, Ordering::Relaxed);
    }
    q.push_back(record);
    PENDING.store(true, Ordering::Release);
}

struct QueueSubscriber;

fn ours(meta: &Metadata<'_>) -> bool {
    meta.target() == "stask" || meta.target().starts_with("stask::")
}

impl Subscriber for QueueSubscriber {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        // The level may change at run time: ask `enabled` each time.
        if ours(meta) && meta.is_event() {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        ours(meta) && Level::of(meta.level()) <= level()
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _span: &Id, _values: &SpanRecord<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let meta = event.metadata();
        let mut v = Fields::default();
        event.record(&mut v);
        push(Record { level: Level::of(meta.level()), message: v.message, fields: v.fields });
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

#[derive(Default)]
struct Fields {
    message: String,
    fields: Vec<(String, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.fields.push((field.name().to_string(), value.to_string()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut s = String::new();
        let _ = write!(s, "{value:?}");
        if field.name() == "message" {
            self.message = s;
        } else {
            self.fields.push((field.name().to_string(), s));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_and_order() {
        assert_eq!(Level::parse("WARNING"), Some(Level::Warning));
        assert_eq!(Level::parse("notice"), Some(Level::Info));
        assert_eq!(Level::parse("off"), Some(Level::Off));
        assert_eq!(Level::parse("loud"), None);
        assert!(Level::Error < Level::Warning && Level::Info < Level::Debug);
    }

    #[test]
    fn the_subscriber_queues_our_events_with_their_fields() {
        let _guard = tracing::subscriber::set_default(QueueSubscriber);
        set_level(Level::Info);
        let _ = take();
        tracing::warn!(task = 7, worker = "mailer", "stask: task #7 failed");
        tracing::debug!("stask: not kept at info");
        tracing::warn!(target: "sqlx::query", "not ours");
        let got = take();
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].level, Level::Warning);
        assert_eq!(got[0].message, "stask: task #7 failed");
        assert_eq!(got[0].fields, vec![("task".to_string(), "7".to_string()), ("worker".to_string(), "mailer".to_string())]);
        assert!(take().is_empty());
        set_level(Level::Warning);
    }
}
