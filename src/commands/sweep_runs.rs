//! Running a sweep's jobs, in threads (wgpu) or in worker processes: `gatenet sweep ... --worker K/N` runs every N-th job of the
//! sweep and reports each as a line of JSON, and the sweep collects the reports. Processes,
//! not threads, because Burn's autodiff graph is behind one process-wide lock.

use crate::config::Config;
use crate::data::dataset::Dataset;
use crate::failure::Failure;
use crate::run::metrics::converged_epoch;
use crate::run::resume::Start;
use crate::run::sweep_results::{RunResult, Setting};
use crate::training::interrupt;
use crate::training::progress::Style;
use crate::training::train::learn;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Runs every setting with every seed, `workers` runs at a time: in as many processes of this
/// program (each `gatenet sweep ... --worker K/N`, see [`work`]) on the CPU backends, in as many
/// threads on wgpu (one device shared, instead of one opened per process). Threads of one
/// process do not scale on the CPU: Burn's autodiff graph is behind one process-wide lock, and
/// two threads ran question-sweep's first two seeds in 9.3 s against 10.4 s on one core.
pub fn sweep(
    base: &Config,
    data: &Dataset,
    jobs: &[(Setting, u64)],
    workers: usize,
) -> Result<Vec<RunResult>, Failure> {
    if workers > 1 && base.backend != crate::config::BackendName::Wgpu {
        return in_processes(jobs, workers, None);
    }
    let device = base.backend.select(base.device).map_err(Failure::usage)?;
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::with_capacity(jobs.len()));
    std::thread::scope(|scope| {
        for worker in 0..workers.max(1) {
            let (next, results, device) = (&next, &results, &device);
            scope.spawn(move || {
                if base.backend != crate::config::BackendName::Wgpu {
                    crate::training::pin::pin_thread_to(worker);
                }
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some((setting, seed)) = jobs.get(index) else { break };
                    if interrupt::requested() {
                        break;
                    }
                    let result = run_one(base, data, setting, *seed, device);
                    results.lock().expect("results lock").push((index, result));
                }
            });
        }
    });
    let mut results = results.into_inner().expect("results lock");
    results.sort_by_key(|(index, _)| *index);
    Ok(results.into_iter().map(|(_, r)| r).collect())
}

/// What a worker process reports of one run: a line of JSON on its stdout.
#[derive(Serialize, Deserialize)]
struct Reported {
    index: usize,
    converged_epoch: Option<usize>,
    /// `f64::to_bits`: exact (serde_json's default parser may round the last digit) and NaN
    /// too, which JSON has no number for.
    final_loss: u64,
    valid_accuracy: u64,
    wall_seconds: f64,
    error: Option<String>,
    cut_short: bool,
    epochs: usize,
}

/// Worker `k` of `n`: runs jobs k, k + n, k + 2n, ... one after another on core `k`, and
/// reports each as it ends. Interleaving gives each worker every n-th seed of every setting,
/// so the workers' shares take about as long.
pub fn work(
    (base, data): (&Config, &Dataset),
    jobs: &[(Setting, u64)],
    k: usize,
    n: usize,
    out: &mut dyn std::io::Write,
) {
    crate::training::pin::pin_thread_to(k);
    let Ok(device) = base.backend.select(base.device) else { return };
    for (index, (setting, seed)) in jobs.iter().cloned().enumerate().skip(k).step_by(n) {
        if interrupt::requested() {
            break;
        }
        if !report(out, index, &run_one(base, data, &setting, seed, &device)) {
            break;
        }
    }
}

/// Reports job `index`'s result to the sweep, as a line of JSON on `out`; false when the sweep
/// is gone (its end of the pipe closed).
pub fn report(out: &mut dyn std::io::Write, index: usize, r: &RunResult) -> bool {
    let reported = Reported {
        index,
        converged_epoch: r.converged_epoch,
        final_loss: r.final_loss.to_bits(),
        valid_accuracy: r.valid_accuracy.to_bits(),
        wall_seconds: r.wall_seconds,
        error: r.error.clone(),
        cut_short: r.cut_short,
        epochs: r.epochs,
    };
    let line = serde_json::to_string(&reported).expect("a result serializes");
    writeln!(out, "{line}").and_then(|_| out.flush()).is_ok()
}

/// Runs the jobs in `workers` processes of this program and collects their reports. A job that
/// no worker reported is a failed run, unless Ctrl-C stopped the sweep before it started.
/// With `given`, worker k reads its jobs from its stdin, `given[k]`, instead of working them out.
pub fn in_processes(
    jobs: &[(Setting, u64)],
    workers: usize,
    given: Option<Vec<String>>,
) -> Result<Vec<RunResult>, Failure> {
    let children = spawn(workers, given)?;
    let outputs = wait_passing_signals_on(children);
    Ok(collect(jobs, workers, outputs))
}

/// Starts `workers` processes of this program, each with this command line and `--worker`.
fn spawn(
    workers: usize,
    given: Option<Vec<String>>,
) -> Result<Vec<std::io::Result<std::process::Child>>, Failure> {
    let program = std::env::current_exe()
        .map_err(|e| Failure::runtime(format!("cannot start the sweep's worker processes: {e}")))?;
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let children = (0..workers)
        .map(|k| {
            let mut command = std::process::Command::new(&program);
            command
                .args(&args)
                .arg(format!("--worker={k}/{workers}"))
                .stdin(if given.is_some() {
                    std::process::Stdio::piped()
                } else {
                    std::process::Stdio::null()
                })
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::inherit());
            // A process group of its own: Ctrl-C on the terminal reaches this process only,
            // which passes the stop on once, below (a second signal would end a worker at once).
            #[cfg(unix)]
            std::os::unix::process::CommandExt::process_group(&mut command, 0);
            let mut child = command.spawn()?;
            // The worker reads all of its stdin before it writes a line, so this cannot block
            // on a full stdout pipe; a worker that died is found by `collect`.
            if let (Some(given), Some(mut stdin)) = (&given, child.stdin.take()) {
                let _ = std::io::Write::write_all(&mut stdin, given[k].as_bytes());
            }
            Ok(child)
        })
        .collect();
    Ok(children)
}

/// Waits for every worker, passing the first signal this process gets on to them, once.
fn wait_passing_signals_on(
    children: Vec<std::io::Result<std::process::Child>>,
) -> Vec<std::io::Result<std::process::Output>> {
    let pids: Vec<Option<u32>> = children.iter().map(|c| c.as_ref().ok().map(|c| c.id())).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> =
            children.into_iter().map(|child| scope.spawn(move || child?.wait_with_output())).collect();
        let mut passed_on = false;
        while !handles.iter().all(|h| h.is_finished()) {
            if !passed_on && interrupt::requested() {
                passed_on = true;
                #[cfg(unix)]
                for (pid, handle) in pids.iter().zip(&handles) {
                    if let (Some(pid), false) = (pid, handle.is_finished()) {
                        // SAFETY: signals a child of this process that has not been reaped.
                        unsafe { libc::kill(*pid as libc::pid_t, interrupt::signal()) };
                    }
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(std::io::Error::other("panic"))))
            .collect()
    })
}

/// Each job's result from the workers' reports: worker k ran jobs k, k + n, k + 2n, ...
fn collect(
    jobs: &[(Setting, u64)],
    workers: usize,
    outputs: Vec<std::io::Result<std::process::Output>>,
) -> Vec<RunResult> {
    let mut reported: Vec<Option<Reported>> = jobs.iter().map(|_| None).collect();
    let mut failures = Vec::new();
    for (k, output) in outputs.into_iter().enumerate() {
        match output {
            Ok(output) => {
                let text = String::from_utf8_lossy(&output.stdout);
                for r in text.lines().filter_map(|line| serde_json::from_str::<Reported>(line).ok()) {
                    let index = r.index;
                    if let Some(slot) = reported.get_mut(index) {
                        *slot = Some(r);
                    }
                }
                if !output.status.success() {
                    failures.push((k, format!("worker process {k} ended with {}", output.status)));
                }
            }
            Err(e) => failures.push((k, format!("worker process {k} could not start: {e}"))),
        }
    }
    let mut results = Vec::with_capacity(jobs.len());
    for (index, ((setting, seed), report)) in jobs.iter().zip(reported).enumerate() {
        let mut result = RunResult::not_run(setting, *seed);
        match report {
            Some(r) => {
                result.converged_epoch = r.converged_epoch;
                result.final_loss = f64::from_bits(r.final_loss);
                result.valid_accuracy = f64::from_bits(r.valid_accuracy);
                result.wall_seconds = r.wall_seconds;
                result.error = r.error;
                result.cut_short = r.cut_short;
                result.epochs = r.epochs;
            }
            // Never started: Ctrl-C ended the sweep first, as in one process.
            None if interrupt::requested() => continue,
            None => {
                let why = failures.iter().find(|(k, _)| index % workers == *k).map(|(_, why)| why.clone());
                result.error = Some(
                    why.unwrap_or_else(|| format!("worker process {} did not report it", index % workers)),
                );
            }
        }
        results.push(result);
    }
    results
}

fn run_one(
    base: &Config,
    data: &Dataset,
    setting: &Setting,
    seed: u64,
    device: &burn::tensor::Device,
) -> RunResult {
    let started = Instant::now();
    let mut result = RunResult::not_run(setting, seed);
    let config = match setting.apply(base, seed) {
        Ok(config) => config,
        Err(why) => {
            result.error = Some(why);
            return result;
        }
    };
    // A panic in one run is that run's failure, not the sweep's.
    let learned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        learn(&config, data, device, Start::in_memory(), Style::Quiet, started)
    }));
    match learned {
        Ok(Ok(learned))
            if matches!(learned.end, Some((_, crate::training::stopping::Ending::Interrupted))) =>
        {
            // How far it got, though a continued sweep runs it again from the start.
            result.cut_short = true;
            result.final_loss = learned.rows.last().map_or(f64::NAN, |r| r.valid_loss);
            result.epochs = learned.rows.last().map_or(0, |r| r.epoch);
        }
        Ok(Ok(learned)) => {
            result.converged_epoch = converged_epoch(&learned.rows, config.training.tolerance);
            result.last_epoch(learned.rows.last());
        }
        Ok(Err(failure)) => result.error = Some(failure.message),
        Err(_) => result.error = Some("internal error (a panic) in this run".into()),
    }
    result.wall_seconds = started.elapsed().as_secs_f64();
    result
}
