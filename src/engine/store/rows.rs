//! Reading result rows, once for every backend: a backend answers for one
//! column at a time (`RowRead`), the decoders here build the engine's rows.
//! Columns are read by position: every statement lists its columns
//! (`task::COLUMNS`, `worker::COLUMNS`, or the order of its SELECT), and
//! looking each column up by name cost 18 % of a worker's time on SQLite
//! (rusqlite compares the names one by one).

use super::{IdentifierCounters, StoreError, StoreErrorKind, StoreResult, TaskSummaryRow, TimelineRow};
use crate::engine::task::TaskRow;
use crate::engine::time::Timestamp;
use crate::engine::worker::WorkerRow;

/// One column of the current row, by position. Each backend reads the
/// widths and types its tables hold (a PHP package table has smallints and
/// booleans where the engine's own has bigints) into these few.
pub trait RowRead {
    fn int(&self, i: usize) -> StoreResult<Option<i64>>;
    fn float(&self, i: usize) -> StoreResult<Option<f64>>;
    fn text(&self, i: usize) -> StoreResult<Option<String>>;
    fn time(&self, i: usize) -> StoreResult<Option<Timestamp>>;

    fn req_int(&self, i: usize) -> StoreResult<i64> {
        self.int(i)?.ok_or_else(|| null_in(i))
    }

    fn req_text(&self, i: usize) -> StoreResult<String> {
        self.text(i)?.ok_or_else(|| null_in(i))
    }

    fn bool(&self, i: usize) -> StoreResult<bool> {
        Ok(self.req_int(i)? != 0)
    }
}

fn null_in(i: usize) -> StoreError {
    StoreError::new(StoreErrorKind::Other, format!("unexpected NULL in column {i}"))
}

pub type Decode<T> = fn(&dyn RowRead) -> StoreResult<T>;

pub fn task(r: &dyn RowRead) -> StoreResult<TaskRow> {
    Ok(TaskRow {
        id: r.req_int(0)?,
        identifier: r.req_text(1)?,
        action: r.req_text(2)?,
        status: r.req_int(3)?,
        message: r.text(4)?,
        started_by: r.int(5)?,
        meta: r.text(6)?,
        result: r.text(7)?,
        start_at: r.time(8)?,
        finished_at: r.time(9)?,
        attempts: r.req_int(10)?,
        max_attempts: r.req_int(11)?,
        priority: r.req_text(12)?,
        progress: r.req_int(13)?,
        created_at: r.time(14)?,
        updated_at: r.time(15)?,
        available_at: r.time(16)?,
        started_at: r.time(17)?,
        duration: r.float(18)?,
        peak_memory: r.int(19)?,
        last_error: r.text(20)?,
        cancel_requested: r.bool(21)?,
        lease_owner: r.text(22)?,
        lease_expires_at: r.time(23)?,
        snapshot: r.text(24)?,
        unique_key: r.text(25)?,
    })
}

pub fn worker(r: &dyn RowRead) -> StoreResult<WorkerRow> {
    Ok(WorkerRow {
        id: r.req_int(0)?,
        uuid: r.text(1)?,
        identifier: r.req_text(2)?,
        scope: r.req_text(3)?,
        class: r.req_text(4)?,
        active: r.bool(5)?,
        position: r.req_int(6)?,
        settings: r.text(7)?.unwrap_or_else(|| "{}".into()),
        hidden: r.req_int(8)?,
        title: r.req_text(9)?,
        description: r.req_text(10)?,
        icon: r.req_text(11)?,
        created_at: r.time(12)?,
        updated_at: r.time(13)?,
    })
}

/// The columns of `SUMMARY` from position `at`.
pub fn summary_at(r: &dyn RowRead, at: usize) -> StoreResult<TaskSummaryRow> {
    Ok(TaskSummaryRow {
        total: r.req_int(at)?,
        queued: r.req_int(at + 1)?,
        running: r.req_int(at + 2)?,
        completed: r.req_int(at + 3)?,
        failed: r.req_int(at + 4)?,
        cancelled: r.req_int(at + 5)?,
        average_duration: r.float(at + 6)?,
        average_memory: r.float(at + 7)?,
        total_duration: r.float(at + 8)?,
    })
}

pub fn summary(r: &dyn RowRead) -> StoreResult<TaskSummaryRow> {
    summary_at(r, 0)
}

pub fn counters(r: &dyn RowRead) -> StoreResult<IdentifierCounters> {
    Ok(IdentifierCounters {
        identifier: r.req_text(0)?,
        pending: r.req_int(1)?,
        running: r.req_int(2)?,
        completed: r.req_int(3)?,
        failed: r.req_int(4)?,
        cancelled: r.req_int(5)?,
        retried: r.req_int(6)?,
        oldest_pending: r.time(7)?,
    })
}

/// A timeline row; None for an hour bucket that does not parse.
pub fn timeline(r: &dyn RowRead) -> StoreResult<Option<TimelineRow>> {
    let Some(hour) = super::parse_hour(&r.req_text(0)?) else { return Ok(None) };
    Ok(Some(TimelineRow {
        hour,
        created: r.req_int(1)?,
        completed: r.req_int(2)?,
        failed: r.req_int(3)?,
        average_duration: r.float(4)?,
    }))
}

pub fn id(r: &dyn RowRead) -> StoreResult<i64> {
    r.req_int(0)
}

pub fn int_pair(r: &dyn RowRead) -> StoreResult<(i64, i64)> {
    Ok((r.req_int(0)?, r.req_int(1)?))
}

/// `id, status, message`: where a finished task ended up.
pub fn finished(r: &dyn RowRead) -> StoreResult<super::Finished> {
    Ok(super::Finished { id: r.req_int(0)?, status: r.req_int(1)?, message: r.text(2)? })
}

/// `id, unique_key` of an insert's RETURNING.
pub fn id_key(r: &dyn RowRead) -> StoreResult<(i64, Option<String>)> {
    Ok((r.req_int(0)?, r.text(1)?))
}
