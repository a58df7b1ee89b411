//! Keeps each of a sweep's workers on a core of its own, so that the scheduler does not move
//! two runs onto one core while the other idles. A single training run is not pinned: its
//! epoch loop runs on one thread (Burn's helper threads wait idle until the run ends), and its
//! pictures are drawn on two. Before the epoch loop was gatenet's own, Burn's default loop
//! handed every epoch's events to two helper threads, and a run pinned to one core under
//! SCHED_BATCH was 30% faster; with the new loop pinned and unpinned runs are level (2,200 OR
//! epochs, A/B: 0.98). `GATENET_NO_PIN=1` turns the sweep's pinning off.

/// Pins the calling thread (and the threads it starts afterwards) to core `index` modulo the
/// cores this process may use: a sweep's workers, one per core.
pub fn pin_thread_to(index: usize) {
    if std::env::var_os("GATENET_NO_PIN").is_some() {
        return;
    }
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
