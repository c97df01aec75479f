//! The per-process tokio runtime and engines.
//!
//! Created lazily on first use, never in MINIT, and fork-safe: the owning
//! pid is checked on every access. A forked child (php-fpm workers,
//! `pcntl_fork`) finds the parent's runtime, whose threads do not exist in
//! the child, and forgets it (dropping it would join threads that are not
//! there and close sockets the parent still uses) before building its own.

use crate::engine::config::Settings;
use crate::engine::service::Engine;
use crate::engine::Result;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use tokio::runtime::{Handle, Runtime};

struct State {
    pid: u32,
    rt: Runtime,
    engines: HashMap<String, Arc<Engine>>,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

fn build_runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("stask-rt")
        .enable_all()
        .on_thread_start(block_signals)
        .build()
        .expect("stask: cannot start the tokio runtime")
}

/// Process signals (SIGTERM, SIGINT, SIGALRM…) must reach the PHP thread,
/// not a runtime thread that happens to be running.
fn block_signals() {
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut set);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Returns the state of this process, replacing an inherited one.
fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    let mut guard = STATE.lock();
    let pid = std::process::id();
    if guard.as_ref().map(|s| s.pid != pid).unwrap_or(false) {
        if let Some(inherited) = guard.take() {
            std::mem::forget(inherited);
        }
    }
    let state = guard.get_or_insert_with(|| State { pid, rt: build_runtime(), engines: HashMap::new() });
    f(state)
}

pub fn handle() -> Handle {
    with_state(|s| s.rt.handle().clone())
}

/// Runs a future to completion on the runtime from the PHP thread. The
/// state lock is released first: the awaited work may need it. Log records
/// the engine queued meanwhile are then handed to the host (on this, the
/// PHP thread; see php::log).
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let out = handle().block_on(fut);
    crate::php::log::deliver();
    out
}

/// The engine for these settings, opened (and for SQLite migrated) once
/// per process.
pub fn engine(settings: &Settings) -> Result<Arc<Engine>> {
    let key = format!("{settings:?}");
    if let Some(e) = with_state(|s| s.engines.get(&key).cloned()) {
        return Ok(e);
    }
    let engine = Arc::new(block_on(Engine::open(settings.clone()))?);
    // One engine per process: a new configuration (configure() at boot, or a
    // test per case) replaces the previous one, whose connections close once
    // nothing uses it any more.
    let old: Vec<Arc<Engine>> = with_state(|s| {
        let old = s.engines.drain().map(|(_, e)| e).collect();
        s.engines.insert(key, engine.clone());
        old
    });
    {
        let _rt = handle().enter();
        drop(old);
    }
    Ok(engine)
}

/// MSHUTDOWN: stop the runtime threads before PHP unloads the library, but
/// only in the process that owns them.
pub fn shutdown() {
    let mut guard = STATE.lock();
    if let Some(state) = guard.take() {
        if state.pid == std::process::id() {
            let State { rt, engines, .. } = state;
            drop(engines);
            rt.shutdown_timeout(std::time::Duration::from_secs(2));
        } else {
            std::mem::forget(state);
        }
    }
}
