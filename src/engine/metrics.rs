//! Statistics, the performance summary, per-worker statistics and alerts.
//! Every figure comes from one aggregate query (no row loops in Rust).

use crate::engine::query::{Op, Query, Table, Value as QValue};
use crate::engine::service::Engine;
use crate::engine::store::TaskSummaryRow;
use crate::engine::task::Status;
use crate::engine::time;
use crate::engine::{Error, Result};
use serde_json::{json, Map, Value};

/// Alert thresholds (the PHP package's values).
pub const MIN_SUCCESS_RATE: f64 = 95.0;
pub const MAX_AVG_DURATION: f64 = 300.0;
pub const MAX_AVG_MEMORY: f64 = 104_857_600.0;

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Durations keep milliseconds: most tasks take well under a second.
fn round_secs(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Share of finished attempts that completed. With nothing finished there is
/// nothing to complain about, so the rate is 100 (an idle system is healthy).
pub fn success_rate(s: &TaskSummaryRow) -> f64 {
    let finished = s.completed + s.failed;
    if finished == 0 {
        100.0
    } else {
        round2(s.completed as f64 * 100.0 / finished as f64)
    }
}

pub fn error_rate(s: &TaskSummaryRow) -> f64 {
    let finished = s.completed + s.failed;
    if finished == 0 {
        0.0
    } else {
        round2(s.failed as f64 * 100.0 / finished as f64)
    }
}

fn check_hours(hours: i64) -> Result<i64> {
    if !(1..=24 * 366).contains(&hours) {
        return Err(Error::invalid("hours", format!("must be between 1 and 8784, got {hours}")));
    }
    Ok(hours)
}

/// `getStats()`: counts per status plus workers.
pub async fn stats(engine: &Engine) -> Result<Value> {
    let by_status = engine.store().task_count_by_status().await?;
    let count =
        |s: &[Status]| -> i64 { by_status.iter().filter(|(c, _)| s.iter().any(|x| x.code() == *c)).map(|(_, n)| n).sum() };
    let (total_workers, active_workers) = engine.store().worker_counts().await?;
    Ok(json!({
        "pending": count(&[Status::Pending]),
        "preparing": count(&[Status::Preparing]),
        // Preparing is a phase of running: a worker holds the task.
        "running": count(&[Status::Preparing, Status::Running]),
        "completed": count(&[Status::Completed]),
        "failed": count(&[Status::Failed]),
        "cancelled": count(&[Status::Cancelled]),
        "total": by_status.iter().map(|(_, n)| n).sum::<i64>(),
        "total_workers": total_workers,
        "active_workers": active_workers,
    }))
}

/// `getPerformanceMetrics($hours)`: the seed's `period/tasks/performance`.
pub async fn summary(engine: &Engine, hours: i64) -> Result<Value> {
    let hours = check_hours(hours)?;
    let to = time::now();
    let from = to - chrono::Duration::hours(hours);
    let s = engine.store().task_summary(from).await?;
    let workers = engine.store().task_worker_stats(from, None).await?;
    let errors = engine.store().task_common_errors(from, 5).await?;
    let mut per_worker = Map::new();
    for w in &workers {
        per_worker.insert(
            w.identifier.clone(),
            json!({"identifier": w.identifier, "task_count": w.summary.total, "success_rate": success_rate(&w.summary)}),
        );
    }
    Ok(json!({
        "period": {"hours": hours, "from": time::iso8601(&from), "to": time::iso8601(&to)},
        "tasks": {
            "total": s.total, "completed": s.completed, "failed": s.failed,
            "running": s.running, "queued": s.queued, "cancelled": s.cancelled,
        },
        "performance": {
            "success_rate": success_rate(&s),
            "average_duration": round_secs(s.average_duration.unwrap_or(0.0)),
            "average_memory": s.average_memory.unwrap_or(0.0).round() as i64,
            "total_execution_time": round_secs(s.total_duration.unwrap_or(0.0)),
            "error_rate": error_rate(&s),
        },
        "workers": per_worker,
        "errors": {
            "total_errors": s.failed,
            "error_rate": error_rate(&s),
            "common_errors": errors.iter().map(|(m, n)| json!({"message": m, "count": n})).collect::<Vec<_>>(),
        },
    }))
}

/// `getWorkerStats($identifier, $hours)`: keyed by identifier.
pub async fn worker_stats(engine: &Engine, identifier: Option<&str>, hours: i64) -> Result<Value> {
    let hours = check_hours(hours)?;
    // PostgreSQL's text cannot hold NUL: refused alike on every backend.
    if identifier.is_some_and(|i| i.contains('\0')) {
        return Err(crate::engine::Error::invalid("identifier", "must not contain a NUL byte"));
    }
    let from = time::now() - chrono::Duration::hours(hours);
    let rows = engine.store().task_worker_stats(from, identifier).await?;
    let mut out = Map::new();
    for w in rows {
        let s = &w.summary;
        out.insert(
            w.identifier.clone(),
            json!({
                "identifier": w.identifier,
                "total_tasks": s.total,
                "completed": s.completed,
                "failed": s.failed,
                "success_rate": success_rate(s),
                "error_rate": error_rate(s),
                "average_duration": round_secs(s.average_duration.unwrap_or(0.0)),
                "total_execution_time": round_secs(s.total_duration.unwrap_or(0.0)),
                "average_memory": s.average_memory.unwrap_or(0.0).round() as i64,
                "last_execution": w.last_execution.as_ref().map(time::iso8601),
            }),
        );
    }
    Ok(Value::Object(out))
}

fn format_bytes(b: f64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"];
    let mut v = b;
    let mut i = 0;
    while v >= 1024.0 && i < units.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    format!("{:.2} {}", v, units[i])
}

/// Alerts over the last hour. Each fires only on finished attempts, so an
/// idle system raises none.
pub fn alerts_for(s: &TaskSummaryRow) -> Vec<Value> {
    let mut out = Vec::new();
    if s.completed + s.failed == 0 {
        return out;
    }
    let rate = success_rate(s);
    if rate < MIN_SUCCESS_RATE {
        out.push(json!({
            "type": "low_success_rate", "severity": if rate < 50.0 { "critical" } else { "warning" },
            "message": format!("Task success rate is below threshold: {}%", rate),
            "value": rate, "threshold": MIN_SUCCESS_RATE,
        }));
    }
    if let Some(d) = s.average_duration.filter(|d| *d > MAX_AVG_DURATION) {
        out.push(json!({
            "type": "high_execution_time", "severity": "warning",
            "message": format!("Average task execution time exceeds threshold: {}s", round2(d)),
            "value": round2(d), "threshold": MAX_AVG_DURATION,
        }));
    }
    if let Some(m) = s.average_memory.filter(|m| *m > MAX_AVG_MEMORY) {
        out.push(json!({
            "type": "high_memory_usage", "severity": "warning",
            "message": format!("Average memory usage exceeds threshold: {}", format_bytes(m)),
            "value": m.round() as i64, "threshold": MAX_AVG_MEMORY as i64,
        }));
    }
    out
}

pub async fn alerts(engine: &Engine) -> Result<Value> {
    let now = time::now();
    let s = engine.store().task_summary(now - chrono::Duration::hours(1)).await?;
    let mut out = alerts_for(&s);
    // Pending and available: the claim index (status, …) finds them.
    let due = Query::new(Table::Tasks).where_eq("status", QValue::Int(crate::engine::task::Status::Pending.code()))?.where_op(
        "available_at",
        Op::Le,
        QValue::Text(time::to_db(&now)),
    )?;
    let due = engine.store().count(&due).await?;
    let alive = engine.processes_alive().await?;
    if let Some(a) = no_process_alert(due, alive) {
        out.insert(0, a);
    }
    Ok(Value::Array(out))
}

/// Tasks are due and no worker process has been seen for two minutes:
/// nothing will run them (cron stopped, the daemon died).
pub fn no_process_alert(due: i64, alive: usize) -> Option<Value> {
    (due > 0 && alive == 0).then(|| {
        json!({
            "type": "no_worker_process", "severity": "critical",
            "message": format!(
                "{due} task(s) are due and no worker process has been seen for {} minutes: check the cron entry \
                 (php artisan schedule:run) or start php artisan stask:work",
                crate::engine::processes::ALIVE_FOR.as_secs() / 60
            ),
            "value": due, "threshold": 0,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_system_raises_no_alerts() {
        assert!(alerts_for(&TaskSummaryRow { total: 4, queued: 4, ..Default::default() }).is_empty());
        assert_eq!(success_rate(&TaskSummaryRow::default()), 100.0);
    }

    #[test]
    fn failures_and_slow_heavy_tasks_raise_alerts() {
        let s = TaskSummaryRow {
            total: 10,
            completed: 8,
            failed: 2,
            average_duration: Some(400.0),
            average_memory: Some(2.0 * MAX_AVG_MEMORY),
            ..Default::default()
        };
        let a = alerts_for(&s);
        let types: Vec<_> = a.iter().map(|x| x["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["low_success_rate", "high_execution_time", "high_memory_usage"]);
        assert_eq!(a[0]["value"], 80.0);
        assert_eq!(a[0]["message"], "Task success rate is below threshold: 80%");
    }
}
