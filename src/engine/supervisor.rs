//! Concurrency on one host: N isolated PHP child processes, each running
//! the ordinary worker loop, watched from the runtime.
//!
//! A child that dies in the middle of a task (segfault, `kill -9`, OOM
//! killer) has that attempt recorded with the reason, and is replaced. A
//! task that exceeds its timeout, or ignores a cancel request past the
//! grace period, gets its child killed. On stop, children get SIGTERM,
//! finish their task within the grace period, and are killed after it;
//! what they still hold is released for another worker.
//!
//! A child that dies before it reaches its worker loop (the extension is
//! not loaded, the application does not boot, the script is wrong) has run
//! nothing, and its replacement will die the same way. After
//! `startup_failures` such deaths in a row the supervisor stops its other
//! children and returns `Error::WorkerStartup` with the last child's exit
//! status and its last lines of output, instead of replacing them forever.

use crate::engine::query::{Op, Query, Table, Value};
use crate::engine::service::{Attempt, Engine};
use crate::engine::store::Outcome;
use crate::engine::task::{Status, TaskRow};
use crate::engine::{Error, Result};
use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// Names the file a child creates once it reaches its worker loop
/// (`mark_child_ready`); a child that dies before has failed at start-up.
pub const READY_ENV: &str = "STASK_WORKER_READY";

/// Called by a child's worker loop as it starts: tells the supervisor that
/// this child got past start-up. Outside a supervised child it does nothing.
pub fn mark_child_ready() {
    if let Some(path) = std::env::var_os(READY_ENV) {
        let _ = std::fs::write(path, b"");
    }
}

/// Lines of a child's output kept to explain a start-up death.
const TAIL_LINES: usize = 12;

#[derive(Debug, Clone, PartialEq)]
pub struct SupervisorConfig {
    pub concurrency: usize,
    /// argv of a child: the PHP binary and what makes it run the loop.
    pub command: Vec<String>,
    /// Extra environment of the children.
    pub env: Vec<(String, String)>,
    /// How long children may take to finish their task after a stop.
    pub grace: Duration,
    /// Timeout of a task whose worker sets none (`settings.timeout`); zero
    /// means none.
    pub default_timeout: Duration,
    /// How long a running task may ignore a cancel request.
    pub cancel_grace: Duration,
    /// Stop after this long (zero: until stopped).
    pub max_time: Duration,
    /// Children that died before reaching their worker loop, in a row, after
    /// which the supervisor gives up (`Error::WorkerStartup`).
    pub startup_failures: u32,
}

impl SupervisorConfig {
    pub fn validate(&self) -> Result<()> {
        if !(1..=64).contains(&self.concurrency) {
            return Err(Error::invalid("concurrency", format!("must be between 1 and 64, got {}", self.concurrency)));
        }
        if self.command.is_empty() || self.command[0].trim().is_empty() {
            return Err(Error::invalid("command", "needs at least the PHP binary"));
        }
        if self.startup_failures == 0 {
            return Err(Error::invalid("startup_failures", "must be at least 1"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SupervisorReport {
    pub started: u64,
    pub replaced: u64,
    pub killed_for_timeout: u64,
    pub killed_for_cancel: u64,
    pub attempts_recorded: u64,
    pub released: u64,
}

struct Slot {
    child: Child,
    pid: u32,
    started: Instant,
    /// Created by the child when it reaches its worker loop.
    ready_file: PathBuf,
    ready: bool,
    /// The last lines the child wrote (stdout and stderr).
    tail: Arc<Mutex<VecDeque<String>>>,
    forwarders: Vec<std::thread::JoinHandle<()>>,
}

impl Slot {
    fn is_ready(&mut self) -> bool {
        self.ready = self.ready || self.ready_file.exists();
        self.ready
    }

    /// What the child wrote last, once its output has been read to the end
    /// (bounded: a grandchild may hold the pipe open).
    fn last_output(&mut self) -> Vec<String> {
        let until = Instant::now() + Duration::from_secs(1);
        while self.forwarders.iter().any(|f| !f.is_finished()) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.tail.lock().map(|t| t.iter().cloned().collect()).unwrap_or_default()
    }
}

/// The children's ready files, removed with the supervisor.
struct ReadyDir(PathBuf);

impl ReadyDir {
    fn create() -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("stask-supervisor-{}-{:08x}", std::process::id(), rand::random::<u32>()));
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(ReadyDir(dir))
    }
}

impl Drop for ReadyDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies a child's stdout or stderr to ours, line by line, keeping the
/// last lines. A plain thread, not a runtime task: writing to a terminal or
/// a full pipe blocks, and must not hold a runtime worker. Signals are
/// blocked in it so that SIGTERM reaches the PHP thread's handlers.
fn forward(fd: std::os::fd::OwnedFd, to_stderr: bool, tail: Arc<Mutex<VecDeque<String>>>) -> Option<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("stask-child-io".into())
        .spawn(move || {
            unsafe {
                let mut all: libc::sigset_t = std::mem::zeroed();
                libc::sigfillset(&mut all);
                libc::pthread_sigmask(libc::SIG_BLOCK, &all, std::ptr::null_mut());
            }
            let mut reader = std::io::BufReader::new(std::fs::File::from(fd));
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                if to_stderr {
                    let _ = std::io::stderr().lock().write_all(&line);
                } else {
                    let mut out = std::io::stdout().lock();
                    let _ = out.write_all(&line);
                    let _ = out.flush();
                }
                let text = String::from_utf8_lossy(&line).trim_end().to_string();
                if text.trim().is_empty() {
                    continue;
                }
                if let Ok(mut t) = tail.lock() {
                    if t.len() == TAIL_LINES {
                        t.pop_front();
                    }
                    t.push_back(text);
                }
            }
        })
        .ok()
}

/// The owner prefix of every lease a child takes (`host:pid:`).
fn owner_prefix(engine: &Engine, pid: u32) -> String {
    let host = engine.owner().split(':').next().unwrap_or("localhost").to_string();
    format!("{host}:{pid}:")
}

fn spawn(config: &SupervisorConfig, ready_dir: &Path) -> Result<Slot> {
    let ready_file = ready_dir.join(format!("{:016x}", rand::random::<u64>()));
    let mut cmd = Command::new(&config.command[0]);
    cmd.args(&config.command[1..])
        .env("STASK_WORKER_CHILD", "1")
        .env(READY_ENV, &ready_file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(false);
    for (k, v) in &config.env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().map_err(|e| Error::invalid("command", format!("cannot start {}: {e}", config.command[0])))?;
    let pid = child.id().unwrap_or(0);
    let tail = Arc::new(Mutex::new(VecDeque::new()));
    let mut forwarders = Vec::new();
    if let Some(fd) = child.stdout.take().and_then(|o| o.into_owned_fd().ok()) {
        forwarders.extend(forward(fd, false, tail.clone()));
    }
    if let Some(fd) = child.stderr.take().and_then(|o| o.into_owned_fd().ok()) {
        forwarders.extend(forward(fd, true, tail.clone()));
    }
    Ok(Slot { child, pid, started: Instant::now(), ready_file, ready: false, tail, forwarders })
}

/// The message of a supervisor that gave up: the last child's exit and output.
fn startup_error(failures: u32, status: String, output: &[String]) -> Error {
    let output =
        if output.is_empty() { "it wrote nothing".to_string() } else { format!("its last output:\n{}", output.join("\n")) };
    Error::WorkerStartup { failures, status, output }
}

fn signal(pid: u32, sig: i32) {
    if pid > 0 {
        unsafe {
            libc::kill(pid as i32, sig);
        }
    }
}

/// Tasks a child process holds right now.
async fn held_by(engine: &Engine, pid: u32) -> Result<Vec<TaskRow>> {
    let q = Query::new(Table::Tasks)
        .where_in("status", vec![Value::Int(Status::Preparing.code()), Value::Int(Status::Running.code())], false)?
        .where_op("lease_owner", Op::Like, Value::Text(format!("{}%", owner_prefix(engine, pid))))?;
    engine.select_tasks(&q).await
}

/// Records how the attempts of a dead or killed child ended.
async fn settle(engine: &Engine, pid: u32, how: impl Fn(&TaskRow) -> Outcome) -> Result<u64> {
    let held = held_by(engine, pid).await?;
    let outcomes: Vec<Outcome> = held.iter().map(how).collect();
    engine.finish(&outcomes).await?;
    Ok(outcomes.len() as u64)
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit code {c}"),
        (None, Some(9)) => "killed (SIGKILL; out of memory or kill -9)".into(),
        (None, Some(11)) => "crashed (SIGSEGV)".into(),
        (None, Some(s)) => format!("signal {s}"),
        _ => "unknown status".into(),
    }
}

/// The task's own timeout (`settings.timeout` of its worker), else the default.
async fn timeout_of(engine: &Engine, task: &TaskRow, default: Duration) -> Duration {
    let from_worker = match engine.worker(&task.identifier).await {
        Ok(Some(w)) => serde_json::from_str::<serde_json::Value>(&w.settings)
            .ok()
            .and_then(|s| s.get("timeout").and_then(|t| t.as_f64()))
            .filter(|t| *t > 0.0)
            .map(Duration::from_secs_f64),
        _ => None,
    };
    from_worker.unwrap_or(default)
}

pub async fn run(engine: &Engine, config: SupervisorConfig, stop: impl Fn() -> bool) -> Result<SupervisorReport> {
    config.validate()?;
    let ready_dir = ReadyDir::create()?;
    let mut report = SupervisorReport::default();
    // A slot is empty once its child ended on its own with exit code 0
    // (max_tasks, max_seconds or stop_when_empty reached): it is not
    // replaced, and the supervisor ends when every slot is empty.
    let mut slots: Vec<Option<Slot>> = Vec::with_capacity(config.concurrency);
    for _ in 0..config.concurrency {
        slots.push(Some(spawn(&config, &ready_dir.0)?));
        report.started += 1;
    }
    let started = Instant::now();
    // When a cancel request was first seen per task.
    let mut cancel_seen: HashMap<i64, Instant> = HashMap::new();
    let mut recent_crashes: Vec<Instant> = Vec::new();
    // Children in a row that died before their worker loop; any child that
    // reaches it resets the count. No time window: a dead child is replaced
    // at once, so a streak builds within seconds (plus the back-off below),
    // and a child that keeps failing later is a task problem, recorded
    // per attempt, not a start-up one.
    let mut startup_failures = 0u32;
    let mut gave_up: Option<Error> = None;
    'supervise: loop {
        if stop() || (!config.max_time.is_zero() && started.elapsed() >= config.max_time) {
            break;
        }
        if slots.iter().all(Option::is_none) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        for entry in slots.iter_mut() {
            let Some(slot) = entry.as_mut() else { continue };
            if !slot.ready && slot.is_ready() {
                startup_failures = 0;
            }
            // A child that ended: record what it held, replace it.
            if let Ok(Some(status)) = slot.child.try_wait() {
                let pid = slot.pid;
                let reached_loop = slot.is_ready();
                let ran = slot.started.elapsed().as_secs_f64();
                let why = describe_exit(status);
                if !status.success() {
                    tracing::warn!(pid, "stask: worker process {pid} ended ({why}) after {ran:.1} s; it is replaced");
                }
                let n = settle(engine, pid, |t| {
                    engine.outcome(
                        t,
                        Attempt::Aborted { reason: format!("the worker process ended ({why})") },
                        ran,
                        0,
                        rand::random(),
                    )
                })
                .await?;
                report.attempts_recorded += n;
                if stop() || (status.success() && n == 0) {
                    *entry = None;
                    continue;
                }
                if !reached_loop && n == 0 {
                    startup_failures += 1;
                    if startup_failures >= config.startup_failures {
                        let output = slot.last_output();
                        gave_up = Some(startup_error(startup_failures, why, &output));
                        *entry = None;
                        break 'supervise;
                    }
                    // Back off (0.25, 0.5, 1, 2 s...): a database or a file
                    // that is back a moment later is given that moment.
                    tokio::time::sleep(Duration::from_millis(250 << (startup_failures - 1).min(3))).await;
                }
                // A child that keeps dying at once must not spin the CPU.
                recent_crashes.retain(|t| t.elapsed() < Duration::from_secs(10));
                recent_crashes.push(Instant::now());
                if recent_crashes.len() > 3 * config.concurrency {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                *entry = Some(spawn(&config, &ready_dir.0)?);
                report.replaced += 1;
                continue;
            }
            // Timeouts and ignored cancels: kill, record, replace.
            let pid = slot.pid;
            for task in held_by(engine, pid).await? {
                let ran_for = task.started_at.map(|s| (chrono::Utc::now() - s).to_std().unwrap_or_default()).unwrap_or_default();
                let limit = timeout_of(engine, &task, config.default_timeout).await;
                let timed_out = !limit.is_zero() && ran_for > limit;
                let cancel_overdue = task.cancel_requested
                    && cancel_seen.entry(task.id).or_insert_with(Instant::now).elapsed() > config.cancel_grace;
                if !(timed_out || cancel_overdue) {
                    continue;
                }
                signal(pid, libc::SIGKILL);
                let _ = slot.child.wait().await;
                let attempt = if cancel_overdue {
                    report.killed_for_cancel += 1;
                    Attempt::Cancelled
                } else {
                    report.killed_for_timeout += 1;
                    Attempt::Aborted {
                        reason: format!(
                            "timed out after {:.0}s (limit {:.0}s); the worker process was killed",
                            ran_for.as_secs_f64(),
                            limit.as_secs_f64()
                        ),
                    }
                };
                let n = settle(engine, pid, |t| {
                    if t.id == task.id {
                        engine.outcome(t, attempt.clone(), ran_for.as_secs_f64(), 0, rand::random())
                    } else {
                        Outcome::Released {
                            id: t.id,
                            message: "Released: its worker process was killed".into(),
                            available_at: engine.now(),
                        }
                    }
                })
                .await?;
                report.attempts_recorded += n;
                cancel_seen.remove(&task.id);
                *entry = Some(spawn(&config, &ready_dir.0)?);
                report.replaced += 1;
                break;
            }
        }
    }

    // Stop: SIGTERM, a grace period to finish, then SIGKILL and release.
    for s in slots.iter().flatten() {
        signal(s.pid, libc::SIGTERM);
    }
    let deadline = Instant::now() + config.grace;
    for s in slots.iter_mut().flatten() {
        let left = deadline.saturating_duration_since(Instant::now());
        if tokio::time::timeout(left, s.child.wait()).await.is_err() {
            signal(s.pid, libc::SIGKILL);
            let _ = s.child.wait().await;
        }
        report.released += settle(engine, s.pid, |t| Outcome::Released {
            id: t.id,
            message: "Released: the worker stopped before the task finished".into(),
            available_at: engine.now(),
        })
        .await?;
    }
    match gave_up {
        Some(e) => Err(e),
        None => Ok(report),
    }
}
