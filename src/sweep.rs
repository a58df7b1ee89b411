//! `gatenet sweep CONFIG`: the same config over a grid of activations, optimizers, learning
//! rates and inits, each with many seeds, to answer "which setting trains, and how fast?" with
//! numbers rather than one lucky run. Every run is a Learner run kept in memory (no
//! checkpoints); runs go in parallel, one worker process per core, each pinned to its core.

use crate::activation::Activation;
use crate::artifacts::{RunDir, write_atomic};
use crate::config::Config;
use crate::failure::Failure;
use crate::init::Init;
use crate::interrupt;
use crate::optim::OptimizerName;
use crate::renderer::Style;
use crate::train::{Start, learn};
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// `[sweep]` in a config, or the same lists on the command line (which win). A list left
/// out (empty here) keeps the config's own setting; a file cannot write an empty one.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SweepSection {
    pub activation: Vec<Activation>,
    pub optimizer: Vec<OptimizerName>,
    pub learning_rate: Vec<f64>,
    pub init: Vec<Init>,
    /// Seeds 0 to seeds - 1 for every combination. Default 20.
    pub seeds: usize,
}

impl Default for SweepSection {
    fn default() -> Self {
        SweepSection {
            activation: Vec::new(),
            optimizer: Vec::new(),
            learning_rate: Vec::new(),
            init: Vec::new(),
            seeds: 20,
        }
    }
}

/// One combination of settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub activation: Activation,
    pub optimizer: OptimizerName,
    pub learning_rate: f64,
    pub init: Init,
}

impl Setting {
    pub fn label(&self) -> String {
        format!("{:?} {} lr {} init {:?}", self.activation, self.optimizer, self.learning_rate, self.init)
            .to_lowercase()
    }

    /// `base` with this setting and seed; the optimizer's own defaults are filled in anew.
    fn apply(&self, base: &Config, seed: u64) -> Result<Config, String> {
        let mut config = base.clone();
        config.seed = seed;
        config.model.activation = self.activation;
        config.model.init = self.init;
        let opt = &mut config.optimizer;
        if opt.name != self.optimizer {
            (opt.momentum, opt.epsilon, opt.beta1, opt.beta2) = (None, None, None, None);
        }
        opt.name = self.optimizer;
        opt.learning_rate = self.learning_rate;
        let problems = config.validate();
        if let Some((key, message)) = problems.first() {
            return Err(format!("{key}: {message}"));
        }
        Ok(config.resolved())
    }
}

/// One run's outcome: a row of sweep.csv.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub setting: Setting,
    pub seed: u64,
    pub converged_epoch: Option<usize>,
    pub final_loss: f64,
    /// The last epoch's validation accuracy: what compares settings of a run without a
    /// tolerance (synthetic or CSV data, trained to a number of epochs or to `patience`).
    pub valid_accuracy: f64,
    pub wall_seconds: f64,
    /// Why the run failed to run at all; such runs count as not converged.
    pub error: Option<String>,
}

impl RunResult {
    /// A run of `setting` and `seed` before anything is known of it.
    fn not_run(setting: &Setting, seed: u64) -> RunResult {
        RunResult {
            setting: setting.clone(),
            seed,
            converged_epoch: None,
            final_loss: f64::NAN,
            valid_accuracy: f64::NAN,
            wall_seconds: 0.0,
            error: None,
        }
    }
}

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
fn jobs(base: &Config, grid: &SweepSection) -> Vec<(Setting, u64)> {
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
pub fn sweep(base: &Config, grid: &SweepSection, workers: usize) -> Result<Vec<RunResult>, Failure> {
    let jobs = jobs(base, grid);
    if workers > 1 && base.backend != crate::backend::BackendName::Wgpu {
        return in_processes(&jobs, workers);
    }
    let device = base.backend.select(base.device).map_err(Failure::usage)?;
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::with_capacity(jobs.len()));
    std::thread::scope(|scope| {
        for worker in 0..workers.max(1) {
            let (jobs, next, results, device) = (&jobs, &next, &results, &device);
            scope.spawn(move || {
                if base.backend != crate::backend::BackendName::Wgpu {
                    crate::pin::pin_thread_to(worker);
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
}

/// Worker `k` of `n`: runs jobs k, k + n, k + 2n, ... one after another on core `k`, and
/// reports each as it ends. Interleaving gives each worker every n-th seed of every setting,
/// so the workers' shares take about as long.
pub fn work(base: &Config, grid: &SweepSection, k: usize, n: usize, out: &mut dyn std::io::Write) {
    crate::pin::pin_thread_to(k);
    let Ok(device) = base.backend.select(base.device) else { return };
    for (index, (setting, seed)) in jobs(base, grid).into_iter().enumerate().skip(k).step_by(n) {
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
        Ok(Ok(learned)) if matches!(learned.end, Some((_, crate::stopping::Ending::Interrupted))) => {
            result.error = Some("interrupted by Ctrl-C".into());
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

/// Per-combination statistics, one row per setting.
pub struct Row {
    pub setting: Setting,
    pub runs: usize,
    pub converged: usize,
    /// Median, min and max epochs to converge over the converged runs.
    pub epochs: Option<(f64, usize, usize)>,
    /// Over the runs that ran (NaN when none did).
    pub median_valid_accuracy: f64,
    pub median_wall_seconds: f64,
}

pub fn rows(results: &[RunResult]) -> Vec<Row> {
    let mut settings: Vec<Setting> = Vec::new();
    for r in results {
        if !settings.contains(&r.setting) {
            settings.push(r.setting.clone());
        }
    }
    settings
        .into_iter()
        .map(|setting| {
            let runs: Vec<&RunResult> = results.iter().filter(|r| r.setting == setting).collect();
            let mut epochs: Vec<usize> = runs.iter().filter_map(|r| r.converged_epoch).collect();
            epochs.sort_unstable();
            let mut walls: Vec<f64> = runs.iter().map(|r| r.wall_seconds).collect();
            walls.sort_by(f64::total_cmp);
            let mut accuracies: Vec<f64> =
                runs.iter().map(|r| r.valid_accuracy).filter(|a| !a.is_nan()).collect();
            accuracies.sort_by(f64::total_cmp);
            Row {
                setting,
                runs: runs.len(),
                converged: epochs.len(),
                epochs: (!epochs.is_empty()).then(|| {
                    (
                        median(&epochs.iter().map(|&e| e as f64).collect::<Vec<_>>()),
                        epochs[0],
                        epochs[epochs.len() - 1],
                    )
                }),
                median_valid_accuracy: median(&accuracies),
                median_wall_seconds: median(&walls),
            }
        })
        .collect()
}

fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The per-combination table, as Markdown (sweep.md and the terminal).
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| setting | converged | median epochs | min | max | median valid accuracy | median wall ms |\n|---|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let (median, min, max) = match row.epochs {
            Some((median, min, max)) => (format!("{median}"), min.to_string(), max.to_string()),
            None => ("-".into(), "-".into(), "-".into()),
        };
        let accuracy = match row.median_valid_accuracy {
            a if a.is_nan() => "-".to_string(),
            a => format!("{:.1}%", 100.0 * a),
        };
        let _ = writeln!(
            out,
            "| {} | {}/{} | {median} | {min} | {max} | {accuracy} | {:.1} |",
            row.setting.label(),
            row.converged,
            row.runs,
            row.median_wall_seconds * 1e3
        );
    }
    out
}

/// Writes sweep.csv, sweep.md and sweep.png into `folder`.
pub fn write(folder: &RunDir, results: &[RunResult], rows: &[Row], title: &str) -> Result<(), Failure> {
    std::fs::create_dir_all(folder.path())
        .map_err(|e| Failure::runtime(format!("cannot create {}: {e}", folder.path().display())))?;
    let mut csv = String::from(
        "activation,optimizer,learning_rate,init,seed,converged,epochs_to_converge,final_loss,wall_seconds,valid_accuracy,error\n",
    );
    for r in results {
        let s = &r.setting;
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{},{},{:.6},{:.4},{}",
            format!("{:?}", s.activation).to_lowercase(),
            s.optimizer,
            s.learning_rate,
            format!("{:?}", s.init).to_lowercase(),
            r.seed,
            r.converged_epoch.is_some(),
            r.converged_epoch.map_or(String::new(), |e| e.to_string()),
            r.final_loss,
            r.wall_seconds,
            r.valid_accuracy,
            r.error.as_deref().unwrap_or("").replace(',', ";")
        );
    }
    write_atomic(&folder.sweep_csv(), csv.as_bytes()).map_err(Failure::runtime)?;
    let markdown = format!("# {title}\n\n{}", table(rows));
    write_atomic(&folder.sweep_md(), markdown.as_bytes()).map_err(Failure::runtime)?;
    crate::pictures::sweep(&folder.sweep_png(), results, rows).map_err(Failure::runtime)
}
