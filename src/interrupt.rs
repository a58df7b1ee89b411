//! Ctrl-C. The first SIGINT asks the run to finish its epoch, save a checkpoint and stop (see
//! `stopping.rs`); a second one exits at once with code 130, leaving the last complete
//! checkpoint as it was (checkpoints are only complete once their manifest is renamed in).

use std::sync::atomic::{AtomicUsize, Ordering};

static SIGNALS: AtomicUsize = AtomicUsize::new(0);

/// True once Ctrl-C was pressed.
pub fn requested() -> bool {
    SIGNALS.load(Ordering::Relaxed) > 0
}

#[cfg(unix)]
pub fn install() {
    extern "C" fn on_sigint(_: libc::c_int) {
        // Only async-signal-safe work here: an atomic add, and _exit.
        if SIGNALS.fetch_add(1, Ordering::Relaxed) >= 1 {
            unsafe { libc::_exit(130) };
        }
    }
    let handler = on_sigint as extern "C" fn(libc::c_int);
    // SAFETY: installs a handler that only touches an atomic and calls _exit.
    unsafe {
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
    }
}

#[cfg(not(unix))]
pub fn install() {}
