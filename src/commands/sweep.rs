//! `gatenet sweep CONFIG`: the same config over a grid of activations, optimizers, learning
//! rates and inits, each with many seeds, to answer "which setting trains, and how fast?" with
//! numbers rather than one lucky run. Every run is a Learner run kept in memory (no
//! checkpoints); runs go in parallel, one worker process per core, each pinned to its core.

use crate::config::{Activation, Config, Init, OptimizerName, SweepSection};
use crate::failure::Failure;
use crate::run::folder::RunDir;
use crate::run::sweep_results::{
    INTERRUPTED, Row, RunResult, Setting, interrupted, marked, read, rows, write,
};
use crate::training::interrupt;
use crate::training::progress::Style;
use crate::training::train::{Start, learn};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Every combination of the grid, in a fixed order.
pub fn settings(base: &Config, grid: &SweepSection) -> Vec<Setting> {
    // A value listed twice is one setting: its runs would only be counted twice.
    fn or_base<T: Clone + PartialEq>(list: &[T], own: T) -> Vec<T> {
        let mut values: Vec<T> = Vec::new();
        for value in if list.is_empty() { std::slice::from_ref(&own) } else { list } {
            if !values.contains(value) {
                values.push(value.clone());
            }
        }
        values
    }
    let activations = or_base(&grid.activation, base.model.activation);
    let optimizers = or_base(&grid.optimizer, base.optimizer.name);
    let rates = or_base(&grid.learning_rate, base.optimizer.learning_rate);
    let inits = or_base(&grid.init, base.model.init);
    let mut all = Vec::new();
    for &activation in &activations {
        for &optimizer in &optimizers {
            for &learning_rate in &rates {
                for &init in &inits {
                    all.push(Setting { activation, optimizer, learning_rate, init });
                }
            }
        }
    }
    all
}

/// Every (setting, seed) of the sweep, in the order of its table and sweep.csv.
pub fn jobs(base: &Config, grid: &SweepSection) -> Vec<(Setting, u64)> {
    settings(base, grid)
        .into_iter()
        .flat_map(|s| (0..grid.seeds as u64).map(move |seed| (s.clone(), seed)))
        .collect()
}

/// Runs every setting with every seed, `workers` runs at a time: in as many processes of this
/// program (each `gatenet sweep ... --worker K/N`, see [`work`]) on the CPU backends, in as many
/// threads on wgpu (one device shared, instead of one opened per process). Threads of one
/// process do not scale on the CPU: Burn's autodiff graph is behind one process-wide lock, and
/// two threads ran question-sweep's first two seeds in 9.3 s against 10.4 s on one core.
pub fn sweep(base: &Config, jobs: &[(Setting, u64)], workers: usize) -> Result<Vec<RunResult>, Failure> {
    if workers > 1 && base.backend != crate::config::BackendName::Wgpu {
        return in_processes(jobs, workers);
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
                    let result = run_one(base, setting, *seed, device);
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
}

/// Worker `k` of `n`: runs jobs k, k + n, k + 2n, ... one after another on core `k`, and
/// reports each as it ends. Interleaving gives each worker every n-th seed of every setting,
/// so the workers' shares take about as long.
pub fn work(base: &Config, jobs: &[(Setting, u64)], k: usize, n: usize, out: &mut dyn std::io::Write) {
    crate::training::pin::pin_thread_to(k);
    let Ok(device) = base.backend.select(base.device) else { return };
    for (index, (setting, seed)) in jobs.iter().cloned().enumerate().skip(k).step_by(n) {
        if interrupt::requested() {
            break;
        }
        let r = run_one(base, &setting, seed, &device);
        let reported = Reported {
            index,
            converged_epoch: r.converged_epoch,
            final_loss: r.final_loss.to_bits(),
            valid_accuracy: r.valid_accuracy.to_bits(),
            wall_seconds: r.wall_seconds,
            error: r.error,
            cut_short: r.cut_short,
        };
        let line = serde_json::to_string(&reported).expect("a result serializes");
        if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
            break;
        }
    }
}

/// Runs the jobs in `workers` processes of this program and collects their reports. A job that
/// no worker reported is a failed run, unless Ctrl-C stopped the sweep before it started.
fn in_processes(jobs: &[(Setting, u64)], workers: usize) -> Result<Vec<RunResult>, Failure> {
    let program = std::env::current_exe()
        .map_err(|e| Failure::runtime(format!("cannot start the sweep's worker processes: {e}")))?;
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let children: Vec<std::io::Result<std::process::Child>> = (0..workers)
        .map(|k| {
            let mut command = std::process::Command::new(&program);
            command
                .args(&args)
                .arg(format!("--worker={k}/{workers}"))
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::inherit());
            // A process group of its own: Ctrl-C on the terminal reaches this process only,
            // which passes the stop on once, below (a second signal would end a worker at once).
            #[cfg(unix)]
            std::os::unix::process::CommandExt::process_group(&mut command, 0);
            command.spawn()
        })
        .collect();
    let pids: Vec<Option<u32>> = children.iter().map(|c| c.as_ref().ok().map(|c| c.id())).collect();
    let outputs: Vec<std::io::Result<std::process::Output>> = std::thread::scope(|scope| {
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
    });
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
    Ok(results)
}

fn run_one(base: &Config, setting: &Setting, seed: u64, device: &burn::tensor::Device) -> RunResult {
    let started = Instant::now();
    let mut result = RunResult::not_run(setting, seed);
    let config = match setting.apply(base, seed) {
        Ok(config) => config,
        Err(why) => {
            result.error = Some(why);
            return result;
        }
    };
    let start = Start { epoch: 0, rows: Vec::new(), config_epoch: 1, saves: None };
    // A panic in one run is that run's failure, not the sweep's.
    let learned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        learn(&config, device, start, Style::Quiet, started)
    }));
    match learned {
        Ok(Ok(learned))
            if matches!(learned.end, Some((_, crate::training::stopping::Ending::Interrupted))) =>
        {
            result.cut_short = true;
        }
        Ok(Ok(learned)) => {
            let tolerance = config.training.tolerance;
            result.converged_epoch =
                learned.rows.iter().find(|r| tolerance > 0.0 && r.max_error <= tolerance).map(|r| r.epoch);
            result.final_loss = learned.rows.last().map_or(f64::NAN, |r| r.valid_loss);
            result.valid_accuracy = learned.rows.last().map_or(f64::NAN, |r| r.valid_accuracy);
        }
        Ok(Err(failure)) => result.error = Some(failure.message),
        Err(_) => result.error = Some("internal error (a panic) in this run".into()),
    }
    result.wall_seconds = started.elapsed().as_secs_f64();
    result
}

/// Where a sweep stands when it starts: the runs to do, and the finished ones it keeps.
pub struct Plan {
    /// Every (setting, seed) of the grid, in table order.
    pub all: Vec<(Setting, u64)>,
    /// The ones still to run, in the same order.
    pub todo: Vec<(Setting, u64)>,
    /// Finished runs of an interrupted sweep that `--resume` continues.
    pub kept: Vec<RunResult>,
}

/// The sweep of `grid` into `folder`; with `resume`, the finished runs of the interrupted
/// sweep there are kept and only the others run. Workers call this too, to get the same list.
pub fn plan(base: &Config, grid: &SweepSection, folder: &RunDir, resume: bool) -> Result<Plan, Failure> {
    let all = jobs(base, grid);
    let mut kept = Vec::new();
    if resume {
        let from = interrupted(folder).ok_or_else(|| {
            Failure::usage(format!(
                "nothing to continue: {} holds no interrupted sweep; run the sweep without --resume",
                folder.path().display()
            ))
        })?;
        let earlier = read(&from.sweep_csv()).map_err(Failure::usage)?;
        kept = earlier
            .into_iter()
            .filter(|r| !r.cut_short && all.iter().any(|(s, seed)| *s == r.setting && *seed == r.seed))
            .collect();
    }
    let done = |(s, seed): &(Setting, u64)| kept.iter().any(|r| r.setting == *s && r.seed == *seed);
    let todo = all.iter().filter(|job| !done(job)).cloned().collect();
    Ok(Plan { all, todo, kept })
}

/// What a sweep did, for its table and its message.
pub struct Swept {
    /// Every run that started (or was kept from the sweep it continues), in table order.
    pub results: Vec<RunResult>,
    pub never_started: usize,
    /// Where its files went.
    pub folder: RunDir,
    pub title: String,
    /// For an interrupted sweep: what finished, what did not, and how to go on.
    pub interrupted: Option<String>,
}

/// Runs the plan and writes the sweep's files: a complete sweep into `folder` (an interrupted
/// one it continued is then removed), an interrupted one there too unless that would replace a
/// complete sweep, in which case into `folder/interrupted/`.
pub fn run(
    base: &Config,
    plan: Plan,
    folder: &RunDir,
    workers: usize,
    again: &str,
) -> Result<Swept, Failure> {
    let started = Instant::now();
    let new = sweep(base, &plan.todo, workers)?;
    let mut results = Vec::with_capacity(plan.all.len());
    for (setting, seed) in &plan.all {
        let found = |r: &&RunResult| r.setting == *setting && r.seed == *seed;
        if let Some(r) = plan.kept.iter().find(found).or_else(|| new.iter().find(found)) {
            results.push(r.clone());
        }
    }
    let rows = rows(&results);
    let never_started = plan.all.len() - results.len();
    let cut_short = results.iter().filter(|r| r.cut_short).count();
    let finished = results.len() - cut_short;
    let seconds = started.elapsed().as_secs_f64();
    let name = base.name();
    let stopped = interrupt::requested() && (cut_short > 0 || never_started > 0);
    if !stopped {
        let kept = match plan.kept.len() {
            0 => String::new(),
            n => format!(" ({n} of them finished before, in the interrupted sweep this continues)"),
        };
        let title = format!("{name}: {} runs in {seconds:.1} s on {workers} cores{kept}", results.len());
        write_all(folder, &results, &rows, &title, "")?;
        let leftover = folder.interrupted_sweep();
        if leftover.path().is_dir() {
            std::fs::remove_dir_all(leftover.path())
                .map_err(|e| Failure::runtime(format!("cannot remove {}: {e}", leftover.path().display())))?;
        }
        return Ok(Swept { results, never_started: 0, folder: folder.clone(), title, interrupted: None });
    }
    let complete_there = folder.sweep_md().is_file() && !marked(folder);
    let target = if complete_there { folder.interrupted_sweep() } else { folder.clone() };
    let counts = format!(
        "{finished} of {} runs finished, {cut_short} cut short, {never_started} never started",
        plan.all.len()
    );
    let title = format!(
        "{name}: interrupted by {} after {seconds:.1} s on {workers} cores: {counts}",
        interrupt::cause()
    );
    let note = format!(
        "{INTERRUPTED}: {counts}. The table counts the finished runs only. Continue with `{again}`.\n\n"
    );
    write_all(&target, &results, &rows, &title, &note)?;
    let message = format!(
        "sweep interrupted by {}: {counts}; the finished runs are in {}/; continue with `{again}`",
        interrupt::cause(),
        target.path().display()
    );
    Ok(Swept { results, never_started, folder: target, title, interrupted: Some(message) })
}

/// sweep.csv, sweep.md and sweep.png (of the runs that finished) into `folder`.
fn write_all(
    folder: &RunDir,
    results: &[RunResult],
    rows: &[Row],
    title: &str,
    notes: &str,
) -> Result<(), Failure> {
    write(folder, results, rows, title, notes)?;
    let finished: Vec<RunResult> = results.iter().filter(|r| !r.cut_short).cloned().collect();
    crate::run::pictures::sweep(&folder.sweep_png(), &finished, rows).map_err(Failure::runtime)
}

/// The sweep's lists from the command line; each given one replaces the config's own.
pub struct Lists {
    pub activation: Vec<Activation>,
    pub optimizer: Vec<OptimizerName>,
    pub learning_rate: Vec<f64>,
    pub init: Vec<Init>,
    pub seeds: Option<usize>,
}

/// `gatenet sweep CONFIG` into `artifacts` (continuing an interrupted sweep with `resume`), or,
/// as `--worker K/N`, one worker's share of it, whose reports go to `out` (then `None`).
pub fn command(
    path: &Path,
    lists: Lists,
    worker: Option<(usize, usize)>,
    (artifacts, resume): (&Path, bool),
    out: &mut dyn std::io::Write,
) -> Result<Option<Swept>, Failure> {
    let config = Config::load(path).map_err(|e| Failure::usage(e.to_string()))?;
    let grid = grid(&config, lists)?;
    let folder = RunDir::new(artifacts, &format!("{}-sweep", config.name()));
    if let Some((k, n)) = worker {
        work(&config, &plan(&config, &grid, &folder, resume)?.todo, k, n, out);
        return Ok(None);
    }
    if folder.config().is_file() {
        return Err(Failure::usage(format!(
            "{} is the folder of a training run (it has a config.toml), not of a sweep; give the sweep's config another `name`",
            folder.path().display()
        )));
    }
    let plan = plan(&config, &grid, &folder, resume)?;
    folder.ensure_writable().map_err(Failure::runtime)?;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let again = crate::shell::resume_command_line(std::env::args_os().skip(1));
    run(&config, plan, &folder, workers, &again).map(Some)
}

/// The config's `[sweep]` with the command line's lists, checked as the config's own was.
fn grid(config: &Config, lists: Lists) -> Result<SweepSection, Failure> {
    let mut grid = config.sweep.clone().unwrap_or_default();
    fn replace<T>(list: &mut Vec<T>, given: Vec<T>) {
        if !given.is_empty() {
            *list = given;
        }
    }
    replace(&mut grid.activation, lists.activation);
    replace(&mut grid.optimizer, lists.optimizer);
    replace(&mut grid.learning_rate, lists.learning_rate);
    replace(&mut grid.init, lists.init);
    grid.seeds = lists.seeds.unwrap_or(grid.seeds);
    let mut merged = config.clone();
    merged.sweep = Some(grid.clone());
    if let Some((key, message)) = merged.validate().into_iter().find(|(key, _)| key.starts_with("sweep.")) {
        let option = format!("--{}", key.trim_start_matches("sweep.").replace('_', "-"));
        return Err(Failure::usage(format!("{option} (or {key}): {message}")));
    }
    Ok(grid)
}

impl Swept {
    /// The title, the table and where the files are: what the terminal shows.
    pub fn report(&self) -> String {
        format!(
            "{}\n{}sweep: {}/ (sweep.csv, sweep.md, sweep.png)\n",
            self.title,
            crate::run::sweep_results::table(&rows(&self.results)),
            self.folder.path().display()
        )
    }
}
