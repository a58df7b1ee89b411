//! Keeps a run on one CPU core. Burn's CPU backends compute on the calling thread, but the
//! Learner hands every epoch's events to two helper threads (its metric processor and event
//! store) and waits for them: about 26 context switches and 60 futex calls per epoch on a
//! 4-row table. Across cores each hand-off is a cross-CPU wake-up; on one core it is a plain
//! context switch. Measured on a 2-core VM, 5,000 epochs of configs/or-question.toml: 2.0 s
//! unpinned, 1.4 s pinned. The pinned process also runs under SCHED_BATCH (see below).
//!
//! Only for the CPU backends: wgpu's drivers (and a software adapter such as lavapipe) run their
//! own threads, which must keep every core. `GATENET_NO_PIN=1` turns it off.

use crate::backend::BackendName;

/// Pins this process (and the threads it starts afterwards) to the core it is running on, under
/// the batch scheduling policy.
pub fn pin_for(backend: BackendName) {
    if backend == BackendName::Wgpu || std::env::var_os("GATENET_NO_PIN").is_some() {
        return;
    }
    pin_to_current_cpu();
}

#[cfg(target_os = "linux")]
fn pin_to_current_cpu() {
    // SAFETY: plain libc calls on a zeroed cpu_set_t owned by this frame; a failure only
    // leaves the process unpinned, which is always correct.
    unsafe {
        let cpu = libc::sched_getcpu();
        if cpu < 0 {
            return;
        }
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu as usize, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        // SCHED_BATCH: the same priority, without wake-up preemption. A thread that hands an
        // event to another then runs on until it waits, instead of being switched out at
        // every send: 24 context switches per OR epoch instead of 54, 30% less time.
        let param = libc::sched_param { sched_priority: 0 };
        libc::sched_setscheduler(0, libc::SCHED_BATCH, &param);
    }
}

#[cfg(not(target_os = "linux"))]
fn pin_to_current_cpu() {}

/// Pins the calling thread (and the threads it starts afterwards) to core `index` modulo the
/// cores this process may use: a sweep's workers, one per core.
pub fn pin_thread_to(index: usize) {
    #[cfg(target_os = "linux")]
    // SAFETY: plain libc calls on cpu_set_t values owned by this frame; a failure only leaves
    // the thread unpinned.
    unsafe {
        let mut allowed: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut allowed) != 0 {
            return;
        }
        let cpus: Vec<usize> =
            (0..libc::CPU_SETSIZE as usize).filter(|&c| libc::CPU_ISSET(c, &allowed)).collect();
        let Some(&cpu) = cpus.get(index % cpus.len().max(1)) else { return };
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = index;
}
