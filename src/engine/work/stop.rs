//! A stop requested by SIGTERM/SIGINT while the worker loop runs.
//!
//! A plain `sigaction` handler that only sets a flag: async-signal-safe,
//! inherited by forked children with their own copy of the flag, and
//! removed again (the previous handlers restored) when the guard drops, so
//! the host's own handlers (PHP's) are back afterwards. PHP's handlers
//! cannot run while the PHP thread waits inside the extension, which is
//! why the loop watches for itself.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

extern "C" fn on_signal(_: libc::c_int) {
    REQUESTED.store(true, Ordering::Relaxed);
}

/// Installs the handlers until the guard drops.
pub struct Listening {
    previous: Vec<(libc::c_int, libc::sigaction)>,
}

pub fn listen() -> Listening {
    REQUESTED.store(false, Ordering::Relaxed);
    let mut previous = Vec::new();
    for sig in [libc::SIGTERM, libc::SIGINT] {
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            act.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut act.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, &act, &mut old) == 0 {
                previous.push((sig, old));
            }
        }
    }
    Listening { previous }
}

impl Drop for Listening {
    fn drop(&mut self) {
        for (sig, old) in &self.previous {
            unsafe {
                libc::sigaction(*sig, old, std::ptr::null_mut());
            }
        }
    }
}
