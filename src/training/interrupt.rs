//! Ctrl-C, and the signals that ask a process to stop: SIGINT, SIGTERM (`timeout`, `docker
//! stop`, systemd, Slurm preemption, Kubernetes, CI cancellations) and SIGHUP (a closed
//! terminal). The first asks the run to finish its epoch, save a checkpoint and stop (see
//! `stopping.rs`), and the process then exits with 128 + the signal's number (130, 143, 129); a
//! second one exits at once with that code, leaving the last complete checkpoint as it was
//! (checkpoints are only complete once their manifest is renamed in). Installed handlers are
//! delivered to pid 1 too, where the default action of these signals would be ignored.

use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

static SIGNALS: AtomicUsize = AtomicUsize::new(0);
/// The first signal's number, 0 before any.
static FIRST: AtomicI32 = AtomicI32::new(0);

/// True once a stop was asked for.
pub fn requested() -> bool {
    SIGNALS.load(Ordering::Relaxed) > 0
}

/// The exit code of a run a signal stopped: 128 + the first signal's number (130 for Ctrl-C).
pub fn exit_code() -> u8 {
    match FIRST.load(Ordering::Relaxed) {
        0 => crate::failure::INTERRUPTED,
        signal => (128 + signal).clamp(0, 255) as u8,
    }
}

/// The first signal's number (SIGINT before any), to pass the stop on to a sweep's workers.
#[cfg(unix)]
pub fn signal() -> i32 {
    match FIRST.load(Ordering::Relaxed) {
        0 => libc::SIGINT,
        signal => signal,
    }
}

/// The first signal's name, for messages: "Ctrl-C", "SIGTERM" or "SIGHUP".
pub fn cause() -> &'static str {
    #[cfg(unix)]
    match FIRST.load(Ordering::Relaxed) {
        libc::SIGTERM => return "SIGTERM",
        libc::SIGHUP => return "SIGHUP",
        _ => {}
    }
    "Ctrl-C"
}

#[cfg(unix)]
pub fn install() {
    extern "C" fn on_signal(signal: libc::c_int) {
        // Only async-signal-safe work here: atomics, and _exit.
        let _ = FIRST.compare_exchange(0, signal, Ordering::Relaxed, Ordering::Relaxed);
        if SIGNALS.fetch_add(1, Ordering::Relaxed) >= 1 {
            unsafe { libc::_exit(128 + FIRST.load(Ordering::Relaxed)) };
        }
    }
    let handler = on_signal as extern "C" fn(libc::c_int);
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: installs a handler that only touches atomics and calls _exit.
        unsafe {
            libc::signal(signal, handler as libc::sighandler_t);
        }
    }
}

#[cfg(not(unix))]
pub fn install() {}
