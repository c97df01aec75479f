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

/// Runs claimed tasks in order and stores their outcomes in one
/// transaction. Stops early (after storing) when a task ended the process.
/// Answers with the time the tasks themselves took, without the store's:
/// that is what `next_batch` sizes by. Counting the finish too made a busy
/// database shrink the batches, and smaller batches mean more commits: on
/// MariaDB flushing a fresh 50k backlog, batches fell to one or two tasks
/// and the loop to 300 tasks/s.
pub fn run_batch<R: Runner>(
    engine: &Engine,
    runner: &mut R,
    tasks: &[TaskRow],
    tally: &mut Tally,
) -> Result<(Flow, Duration), R::Error> {
    let mut outcomes = Vec::with_capacity(tasks.len());
    let mut flow = Flow::Continue;
    let started = std::time::Instant::now();
    for (i, task) in tasks.iter().enumerate() {
        let (o, f) = runner.run_one(task, &mut outcomes)?;
        outcomes.push(o);
        if f == Flow::Exit {
            // Hand the rest back untouched so another run takes them.
            for rest in &tasks[i + 1..] {
                outcomes.push(Outcome::Released {
                    id: rest.id,
                    message: "Released: the worker process is exiting".into(),
                    available_at: engine.now(),
                });
            }
            flow = Flow::Exit;
            break;
        }
    }
    let ran_for = started.elapsed();
    let finished = runner.wait(engine.finish(&outcomes))?;
    for o in &outcomes {
        tally.count(o, finished.iter().find(|f| f.id == o.id()));
    }
    Ok((flow, ran_for))
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
