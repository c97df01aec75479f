//! The worker loop's policy (engine::work) on every backend, with a plain
//! Rust `Runner` standing in for the PHP thread: when the loop stops, how
//! many tasks it claims at a time, what it hands back, and what
//! `run_due` leaves for later. Real databases; only the tasks are Rust.

#[macro_use]
mod common;

use common::*;
use stask::engine::query::{Query, Table, Value as QValue};
use stask::engine::service::Attempt;
use stask::engine::store::Outcome;
use stask::engine::task::{NewTask, Status, TaskRow};
use stask::engine::work::{self, Flow, Options, Runner};
use std::cell::Cell;
use std::time::{Duration, Instant};

suite!(
    stop_when_empty_works_the_queue_then_returns,
    max_tasks_never_claims_more_than_it_may_run,
    batches_grow_for_fast_tasks_up_to_the_option,
    slow_tasks_are_claimed_one_by_one,
    a_slow_database_does_not_shrink_the_batches,
    max_seconds_ends_an_idle_loop,
    a_stop_request_ends_the_loop_after_the_batch,
    a_batch_claimed_beside_the_finish_goes_back_when_the_loop_stops,
    a_retry_due_at_once_is_not_missed_by_the_claim_beside_its_finish,
    a_task_that_ends_the_process_hands_the_rest_of_its_batch_back,
    the_rescue_pass_runs_once_per_half_lease_however_many_loops,
    run_due_leaves_tasks_created_meanwhile_for_later,
);

/// Runs every task as a worker that returns at once (or after `delay`),
/// recording the size of each batch it was given.
struct Plain<'a> {
    h: &'a H,
    delay: Duration,
    batches: Vec<usize>,
    /// Answers `Flow::Exit` for this task.
    exit_on: Option<i64>,
    /// Queues one more task from inside each task.
    enqueue: bool,
    /// Added to every engine call: a database that answers slowly.
    store_delay: Duration,
    /// The first attempt of every task asks to be retried at once.
    retry_first: bool,
    /// Tasks started so far, readable while the loop holds the runner.
    started: std::rc::Rc<Cell<usize>>,
}

impl<'a> Plain<'a> {
    fn new(h: &'a H) -> Self {
        Plain {
            h,
            delay: Duration::ZERO,
            batches: Vec::new(),
            exit_on: None,
            enqueue: false,
            store_delay: Duration::ZERO,
            retry_first: false,
            started: Default::default(),
        }
    }

    fn ran(&self) -> usize {
        self.batches.iter().sum()
    }
}

impl Runner for Plain<'_> {
    type Error = stask::engine::Error;

    fn wait<F: std::future::Future>(&self, f: F) -> F::Output {
        let out = self.h.rt.block_on(f);
        std::thread::sleep(self.store_delay);
        out
    }

    fn run_one(&mut self, task: &TaskRow, pending: &mut Vec<Outcome>) -> Result<(Outcome, Flow), Self::Error> {
        if pending.is_empty() {
            self.batches.push(0);
        }
        *self.batches.last_mut().unwrap() += 1;
        self.started.set(self.started.get() + 1);
        std::thread::sleep(self.delay);
        if self.enqueue {
            self.wait(self.h.engine().create_task(NewTask::new("plain", "again")))?;
        }
        let flow = if self.exit_on == Some(task.id) { Flow::Exit } else { Flow::Continue };
        if self.retry_first && task.attempts == 1 {
            let available_at = self.h.engine().now();
            let retry = Outcome::Retry {
                id: task.id,
                message: "again".into(),
                error: "again".into(),
                available_at,
                duration: 0.0,
                peak_memory: 0,
            };
            return Ok((retry, flow));
        }
        Ok((self.h.engine().outcome(task, Attempt::Returned, self.delay.as_secs_f64(), 0, 0.5), flow))
    }
}

fn tasks(h: &H, n: usize) -> Vec<i64> {
    (0..n).map(|_| h.task("plain", "run")).collect()
}

fn count(h: &H, status: Status) -> i64 {
    let q = Query::new(Table::Tasks).where_eq("status", QValue::Int(status.code())).unwrap();
    h.wait(h.engine().count(&q)).unwrap()
}

fn once() -> Options {
    Options { stop_when_empty: true, sleep: Some(0.0), ..Default::default() }
}

fn stop_when_empty_works_the_queue_then_returns(h: &H) {
    tasks(h, 12);
    let mut r = Plain::new(h);
    let report = work::run(h.engine(), &mut r, &once(), || false).unwrap();
    assert_eq!((report.tally.processed, report.tally.completed), (12, 12));
    assert!(!report.stopped_by_signal);
    assert_eq!(count(h, Status::Completed), 12);
    assert_eq!(count(h, Status::Pending) + count(h, Status::Running), 0);
    let json = report.to_json();
    let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["processed", "completed", "failed", "retried", "cancelled", "waiting", "seconds", "per_second", "stopped_by_signal"]
    );
}

fn max_tasks_never_claims_more_than_it_may_run(h: &H) {
    tasks(h, 20);
    let mut r = Plain::new(h);
    let report = work::run(h.engine(), &mut r, &Options { max_tasks: 7, ..once() }, || false).unwrap();
    assert_eq!(report.tally.processed, 7);
    assert_eq!(r.ran(), 7);
    assert_eq!(count(h, Status::Completed), 7);
    assert_eq!(count(h, Status::Running), 0, "nothing claimed beyond max_tasks");
    assert_eq!(count(h, Status::Pending), 13);
}

fn batches_grow_for_fast_tasks_up_to_the_option(h: &H) {
    tasks(h, 60);
    let mut r = Plain::new(h);
    let report = work::run(h.engine(), &mut r, &Options { batch: 8, ..once() }, || false).unwrap();
    assert_eq!(report.tally.processed, 60);
    assert_eq!(r.batches[0], 1, "the first claim takes one task: nothing is known of their cost yet");
    assert!(r.batches.iter().all(|&b| b <= 8), "{:?}", r.batches);
    assert!(r.batches.contains(&8), "fast tasks fill the batch: {:?}", r.batches);
}

fn slow_tasks_are_claimed_one_by_one(h: &H) {
    tasks(h, 3);
    let mut r = Plain::new(h);
    r.delay = Duration::from_millis(40);
    work::run(h.engine(), &mut r, &once(), || false).unwrap();
    assert_eq!(r.batches, vec![1, 1, 1]);
}

/// Batches are sized by the tasks' own time: a database slow to store a
/// batch (a server flushing a fresh backlog) must not make the loop claim
/// fewer tasks at a time, which would only add commits.
fn a_slow_database_does_not_shrink_the_batches(h: &H) {
    tasks(h, 30);
    let mut r = Plain::new(h);
    r.store_delay = Duration::from_millis(30);
    work::run(h.engine(), &mut r, &Options { batch: 10, ..once() }, || false).unwrap();
    assert_eq!(r.batches[0], 1);
    assert_eq!(r.batches[1..4], [10, 10, 9], "instant tasks fill the batch however slow the store: {:?}", r.batches);
}

fn max_seconds_ends_an_idle_loop(h: &H) {
    let mut r = Plain::new(h);
    let started = Instant::now();
    let report =
        work::run(h.engine(), &mut r, &Options { max_seconds: 0.3, sleep: Some(0.05), ..Default::default() }, || false).unwrap();
    assert_eq!(report.tally.processed, 0);
    assert!(started.elapsed() >= Duration::from_millis(300), "{:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}

fn a_stop_request_ends_the_loop_after_the_batch(h: &H) {
    tasks(h, 5);
    let mut r = Plain::new(h);
    r.delay = Duration::from_millis(40);
    // Asked to stop while the third task runs: its batch is the last. The
    // loop claims the next batch beside each finish; the stop is seen
    // before that claim, so nothing is taken that would then be released.
    let started = r.started.clone();
    let stop = || started.get() >= 3;
    let report = work::run(h.engine(), &mut r, &Options::default(), stop).unwrap();
    assert_eq!(report.tally.processed, 3);
    assert!(report.stopped_by_signal);
    assert_eq!(count(h, Status::Pending), 2);
    assert_eq!(r.batches, [1, 1, 1], "slow tasks one at a time");
}

fn a_batch_claimed_beside_the_finish_goes_back_when_the_loop_stops(h: &H) {
    tasks(h, 5);
    let mut r = Plain::new(h);
    r.delay = Duration::from_millis(40);
    // Checked before each claim and before the claim beside each finish:
    // the third check comes after the second batch was claimed that way.
    let checks = Cell::new(0);
    let stop = || {
        checks.set(checks.get() + 1);
        checks.get() > 2
    };
    let report = work::run(h.engine(), &mut r, &Options::default(), stop).unwrap();
    assert_eq!(report.tally.processed, 1);
    assert_eq!(count(h, Status::Pending), 4, "the batch claimed ahead is pending again");
    assert_eq!(count(h, Status::Running), 0);
    let q = Query::new(Table::Tasks).where_eq("message", QValue::Text("Released: the worker loop stopped".into())).unwrap();
    let released = h.wait(h.engine().select_tasks(&q)).unwrap();
    assert_eq!(released.len(), 1, "one slow task was claimed ahead");
    assert_eq!(released[0].attempts, 0, "a released task used no attempt");
}

fn a_retry_due_at_once_is_not_missed_by_the_claim_beside_its_finish(h: &H) {
    // One task: the claim beside its retry's finish finds nothing else,
    // and on a server database it may run before that finish commits.
    let id = h.task("plain", "run");
    let mut r = Plain::new(h);
    r.retry_first = true;
    let report = work::run(h.engine(), &mut r, &once(), || false).unwrap();
    assert_eq!((report.tally.processed, report.tally.retried, report.tally.completed), (2, 1, 1));
    let t = h.wait(h.engine().require_task(id)).unwrap();
    assert_eq!((t.status, t.attempts), (Status::Completed.code(), 2));
}

fn the_rescue_pass_runs_once_per_half_lease_however_many_loops(h: &H) {
    let engine_with = |lease: Duration| {
        let mut s = h.settings.clone();
        s.lease_for = lease;
        h.wait(stask::engine::service::Engine::open(s)).unwrap()
    };
    // This process: 2 s leases, so a rescue pass at most every second.
    let this = engine_with(Duration::from_secs(2));
    let mut r = Plain::new(h);
    let started = Instant::now();
    work::run(&this, &mut r, &once(), || false).unwrap();
    // Another process claims a task and dies: its lease ends in 50 ms.
    let id = h.task("plain", "run");
    let dead = engine_with(Duration::from_millis(50));
    assert_eq!(h.wait(dead.claim(1)).unwrap().len(), 1);
    drop(dead);
    std::thread::sleep(Duration::from_millis(100));
    // A second loop within the second: no pass, the task stays running.
    work::run(&this, &mut r, &once(), || false).unwrap();
    assert!(started.elapsed() < Duration::from_secs(1), "too slow to check the cadence: {:?}", started.elapsed());
    assert_eq!(h.wait(h.engine().require_task(id)).unwrap().status, Status::Running.code());
    // Past it, the next loop's pass puts the task back (after a backoff).
    std::thread::sleep(Duration::from_secs(1).saturating_sub(started.elapsed()) + Duration::from_millis(50));
    work::run(&this, &mut r, &once(), || false).unwrap();
    let t = h.wait(h.engine().require_task(id)).unwrap();
    assert_eq!(t.status, Status::Pending.code(), "{:?}", t.message);
    assert_eq!(r.ran(), 0);
}

fn a_task_that_ends_the_process_hands_the_rest_of_its_batch_back(h: &H) {
    let ids = tasks(h, 4);
    let claimed = h.wait(h.engine().claim(4)).unwrap();
    assert_eq!(claimed.len(), 4);
    let mut r = Plain::new(h);
    r.exit_on = Some(claimed[1].id);
    let mut tally = work::Tally::default();
    assert_eq!(work::run_batch(h.engine(), &mut r, &claimed, &mut tally, |_, _| Some(10)).unwrap().flow, Flow::Exit);
    assert_eq!((tally.processed, tally.completed, tally.waiting), (2, 2, 2));
    assert_eq!(r.ran(), 2);
    assert_eq!(count(h, Status::Pending), 2, "the two tasks after it are pending again");
    let again = h.wait(h.engine().require_task(claimed[3].id)).unwrap();
    assert_eq!(again.message.as_deref(), Some("Released: the worker process is exiting"));
    assert_eq!(again.attempts, 0, "a released task used no attempt");
    assert!(ids.contains(&again.id));
}

fn run_due_leaves_tasks_created_meanwhile_for_later(h: &H) {
    tasks(h, 4);
    let mut r = Plain::new(h);
    r.enqueue = true;
    let tally = work::run_due(h.engine(), &mut r, 10).unwrap();
    assert_eq!(tally.processed, 4, "bounded by what was due at the start");
    assert_eq!(count(h, Status::Pending), 4, "the tasks the tasks created wait for the next call");
}
