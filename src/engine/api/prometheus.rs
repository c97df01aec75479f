//! `/metrics` in the Prometheus text format 0.0.4, from one GROUP BY over
//! the tasks table: so every host of a cluster reports the same figures,
//! whichever one is scraped. The "counters" are counts of rows still in the
//! table; `clean` deleting old tasks makes them drop, which Prometheus
//! treats as a counter reset.

use crate::engine::api::json::ApiResult;
use crate::engine::api::{Ctx, Response};
use crate::engine::store::IdentifierCounters;
use crate::engine::time::{self, Timestamp};
use std::fmt::Write;

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A label value with `\`, `"` and newlines escaped, as the format requires.
pub fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

type Pick = fn(&IdentifierCounters, Timestamp) -> f64;

/// The exposition text for these rows at `now`.
pub fn render(rows: &[IdentifierCounters], workers: (i64, i64), alive: usize, now: Timestamp) -> String {
    let metrics: [(&str, &str, &str, Pick); 8] = [
        ("stask_tasks_processed_total", "counter", "Tasks that ran to an end (completed or failed), per worker.", |r, _| {
            (r.completed + r.failed) as f64
        }),
        ("stask_tasks_completed_total", "counter", "Tasks completed, per worker.", |r, _| r.completed as f64),
        ("stask_tasks_failed_total", "counter", "Tasks failed for good, per worker.", |r, _| r.failed as f64),
        (
            "stask_tasks_retried_total",
            "counter",
            "Attempts that were retried (attempts beyond the first), per worker.",
            |r, _| r.retried as f64,
        ),
        ("stask_tasks_cancelled_total", "counter", "Tasks cancelled, per worker.", |r, _| r.cancelled as f64),
        ("stask_queue_depth", "gauge", "Pending tasks, per worker.", |r, _| r.pending as f64),
        ("stask_tasks_running", "gauge", "Tasks held by a worker process (preparing or running), per worker.", |r, _| {
            r.running as f64
        }),
        (
            "stask_oldest_pending_age_seconds",
            "gauge",
            "Age of the oldest due pending task, per worker (0 when none waits).",
            |r, now| r.oldest_pending.map(|t| ((now - t).num_milliseconds().max(0) as f64) / 1000.0).unwrap_or(0.0),
        ),
    ];
    let mut out = String::new();
    for (name, kind, help, pick) in metrics {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for r in rows {
            let _ = writeln!(out, "{name}{{worker=\"{}\"}} {}", escape_label(&r.identifier), pick(r, now));
        }
    }
    let _ = writeln!(out, "# HELP stask_workers Registered workers by state.");
    let _ = writeln!(out, "# TYPE stask_workers gauge");
    let _ = writeln!(out, "stask_workers{{state=\"active\"}} {}", workers.1);
    let _ = writeln!(out, "stask_workers{{state=\"inactive\"}} {}", workers.0 - workers.1);
    let _ = writeln!(out, "# HELP stask_worker_processes Worker processes whose heartbeat is under two minutes old.");
    let _ = writeln!(out, "# TYPE stask_worker_processes gauge");
    let _ = writeln!(out, "stask_worker_processes {alive}");
    let _ = writeln!(out, "# HELP stask_scrape_timestamp_seconds When these figures were read from the database.");
    let _ = writeln!(out, "# TYPE stask_scrape_timestamp_seconds gauge");
    let _ = writeln!(out, "stask_scrape_timestamp_seconds {}", time::to_epoch_micros(&now) / 1_000_000);
    out
}

/// GET /metrics
pub fn metrics(ctx: &Ctx) -> ApiResult<Response> {
    let now = time::now();
    let rows = ctx.wait(ctx.engine.store().task_counters(now)).map_err(crate::engine::Error::from)?;
    let workers = ctx.wait(ctx.engine.store().worker_counts()).map_err(crate::engine::Error::from)?;
    let alive = ctx.wait(ctx.engine.processes_alive())?;
    Ok(Response::text(200, CONTENT_TYPE, render(&rows, workers, alive, now)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_format_has_help_type_and_escaped_labels() {
        let now = time::now();
        let rows = vec![IdentifierCounters {
            identifier: "we\"ird\\name".into(),
            pending: 3,
            completed: 2,
            failed: 1,
            retried: 4,
            oldest_pending: Some(now - chrono::Duration::seconds(90)),
            ..Default::default()
        }];
        let text = render(&rows, (3, 2), 1, now);
        assert!(text.contains("# TYPE stask_tasks_processed_total counter\n"));
        assert!(text.contains("stask_tasks_processed_total{worker=\"we\\\"ird\\\\name\"} 3\n"), "{text}");
        assert!(text.contains("stask_queue_depth{worker=\"we\\\"ird\\\\name\"} 3\n"));
        assert!(text.contains("stask_oldest_pending_age_seconds{worker=\"we\\\"ird\\\\name\"} 90\n"));
        assert!(text.contains("stask_workers{state=\"inactive\"} 1\n"));
        assert!(text.contains("stask_worker_processes 1\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert_eq!(line.split(' ').count(), 2, "{line}");
        }
    }
}
