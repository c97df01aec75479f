//! One claimed batch: run in order, stored in one transaction; and how
//! big the next one should be.

use crate::engine::service::Engine;
use crate::engine::store::Outcome;
use crate::engine::task::TaskRow;
use crate::engine::work::{Flow, Runner, Tally};
use std::time::Duration;

/// How many tasks to claim next: enough for about 20 ms of work. Claimed
/// tasks wait in this process (and show as running), so slow tasks are
/// claimed one by one and left to other workers, while tiny ones are
/// claimed in batches so that the database round trips are shared.
pub fn next_batch(done: usize, took: Duration, max: i64) -> i64 {
    if done == 0 {
        return 1;
    }
    let per_task = took.as_secs_f64() / done as f64;
    ((0.02 / per_task.max(1e-6)) as i64).clamp(1, max)
}

/// What `run_batch` did.
#[derive(Debug)]
pub struct Ran {
    pub flow: Flow,
    /// The time the tasks themselves took, without the store's: that is
    /// what `next_batch` sizes by. Counting the finish too made a busy
    /// database shrink the batches, and smaller batches mean more commits:
    /// on MariaDB flushing a fresh 50k backlog, batches fell to one or two
    /// tasks and the loop to 300 tasks/s.
    pub took: Duration,
    /// The next batch, claimed while this one was stored (see `run_batch`).
    pub next: Option<Vec<TaskRow>>,
}

/// Runs claimed tasks in order and stores their outcomes in one
/// transaction. Stops early (after storing) when a task ended the process.
///
/// `claim_next` is asked, once the tasks have run, how many to claim next
/// (None: no claim, the loop is about to stop); that claim is sent
/// together with the finish, on another connection, so the loop waits for
/// the slower of the two round trips instead of both one after the other.
/// On a server database that is what keeps it busy between batches: two
/// PostgreSQL workers spent a quarter of the time with the server idle,
/// each waiting for its finish to commit before it asked for more work.
/// (SQLite's calls never wait, so there the two simply run in turn.)
pub fn run_batch<R: Runner>(
    engine: &Engine,
    runner: &mut R,
    tasks: &[TaskRow],
    tally: &mut Tally,
    claim_next: impl FnOnce(usize, Duration) -> Option<i64>,
) -> Result<Ran, R::Error> {
    let mut outcomes = Vec::with_capacity(tasks.len());
    let mut flow = Flow::Continue;
    let started = std::time::Instant::now();
    for (i, task) in tasks.iter().enumerate() {
        let (o, f) = runner.run_one(task, &mut outcomes)?;
        outcomes.push(o);
        if f == Flow::Exit {
            // Hand the rest back untouched so another run takes them.
            for rest in &tasks[i + 1..] {
                outcomes.push(released(engine, rest, "Released: the worker process is exiting"));
            }
            flow = Flow::Exit;
            break;
        }
    }
    let took = started.elapsed();
    let ahead = if flow == Flow::Continue { claim_next(tasks.len(), took) } else { None };
    let (finished, next) = runner.wait(async {
        match ahead {
            Some(n) => {
                let (finished, next) = tokio::join!(engine.finish(&outcomes), engine.claim(n));
                (finished, Some(next))
            }
            None => (engine.finish(&outcomes).await, None),
        }
    });
    let finished = match finished {
        Ok(f) => f,
        Err(e) => {
            // Not left to wait for their lease: the finish failed, but the
            // claim may not have (another connection).
            if let Some(Ok(next)) = next {
                release(engine, runner, &next, "Released: the worker could not store its last batch");
            }
            return Err(e.into());
        }
    };
    for o in &outcomes {
        tally.count(o, finished.iter().find(|f| f.id == o.id()));
    }
    Ok(Ran { flow, took, next: next.transpose()? })
}

/// Hands claimed tasks back without counting their attempt (edge
/// WorkerInactive): pending again at once, for any worker.
pub fn release<R: Runner>(engine: &Engine, runner: &R, tasks: &[TaskRow], why: &str) {
    if tasks.is_empty() {
        return;
    }
    let outcomes: Vec<Outcome> = tasks.iter().map(|t| released(engine, t, why)).collect();
    if let Err(e) = runner.wait(engine.finish(&outcomes)) {
        tracing::warn!("stask: could not hand back {} claimed task(s); they run again when their lease ends: {e}", tasks.len());
    }
}

fn released(engine: &Engine, task: &TaskRow, why: &str) -> Outcome {
    Outcome::Released { id: task.id, message: why.into(), available_at: engine.now() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_holds_about_twenty_milliseconds_of_work() {
        assert_eq!(next_batch(0, Duration::ZERO, 500), 1);
        assert_eq!(next_batch(1, Duration::from_millis(50), 500), 1, "slow tasks one by one");
        assert_eq!(next_batch(10, Duration::from_millis(10), 500), 20);
        assert_eq!(next_batch(100, Duration::from_micros(10), 500), 500, "capped by the option");
    }
}
