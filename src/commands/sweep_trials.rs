//! A halving sweep's trials: one seed of one setting trained to a rung's epochs in its own run
//! folder, a new run or one continued from its checkpoint, in worker processes (each given its
//! jobs on stdin) or here; and, for a resumed sweep, what a trial's folder already holds.

use super::sweep_runs::{in_processes, report};
use crate::config::{BackendName, Config};
use crate::data::dataset::Dataset;
use crate::failure::Failure;
use crate::run::folder::{RunDir, trial_name};
use crate::run::metrics::{EpochRow, converged_epoch, read_rows};
use crate::run::summary::{StoppedBy, Summary};
use crate::run::sweep_results::{RunResult, Setting};
use crate::training::interrupt;
use crate::training::train::{Outcome, RunOptions, StartFrom, train};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// One seed of one trial, trained (or continued) to `epochs`: what the sweep hands a worker.
#[derive(Clone, Serialize, Deserialize)]
pub struct TrialJob {
    /// Its place in the rung's list of jobs, by which its report is known.
    pub index: usize,
    pub trial: usize,
    pub setting: Setting,
    /// The setting's rate, exactly: serde_json's default parser may round a float's last digit.
    pub learning_rate_bits: u64,
    pub seed: u64,
    pub epochs: usize,
    /// A new run: the first rung of a sweep not resumed. Every other job first looks in the
    /// trial's folder for what it reached by `epochs` (see [`recorded`]), then continues it.
    pub scratch: bool,
}

impl TrialJob {
    /// The jobs of a rung: each place (trial * seeds + seed) of `settings`, to `epochs`.
    pub fn all(
        places: &[usize],
        (settings, per): (&[Setting], usize),
        epochs: usize,
        scratch: bool,
    ) -> Vec<TrialJob> {
        places
            .iter()
            .enumerate()
            .map(|(index, &i)| TrialJob {
                index,
                trial: i / per,
                setting: settings[i / per].clone(),
                learning_rate_bits: settings[i / per].learning_rate.to_bits(),
                seed: (i % per) as u64,
                epochs,
                scratch,
            })
            .collect()
    }
}

/// A rung's jobs: in worker processes, each given its share on stdin, on the CPU backends; one
/// after another here on wgpu (one device) or one core.
pub fn run_jobs(
    (base, data): (&Config, &Dataset),
    folder: &RunDir,
    jobs: &[TrialJob],
    workers: usize,
) -> Result<Vec<RunResult>, Failure> {
    if workers > 1 && base.backend != BackendName::Wgpu {
        let mut given = vec![String::new(); workers];
        for job in jobs {
            let line = serde_json::to_string(job).expect("a job serializes");
            given[job.index % workers] += &format!("{line}\n");
        }
        let pairs: Vec<(Setting, u64)> = jobs.iter().map(|j| (j.setting.clone(), j.seed)).collect();
        return in_processes(&pairs, workers, Some(given));
    }
    Ok(jobs
        .iter()
        .take_while(|_| !interrupt::requested())
        .map(|job| run_trial((base, data), folder, job))
        .collect())
}

/// Worker `k`: the jobs on `input`, one after another on core `k`, each reported as it ends.
pub fn work(
    (base, data): (&Config, &Dataset),
    folder: &RunDir,
    k: usize,
    input: &mut dyn std::io::Read,
    out: &mut dyn std::io::Write,
) {
    crate::training::pin::pin_thread_to(k);
    let mut text = String::new();
    if input.read_to_string(&mut text).is_err() {
        return;
    }
    for mut job in text.lines().filter_map(|line| serde_json::from_str::<TrialJob>(line).ok()) {
        job.setting.learning_rate = f64::from_bits(job.learning_rate_bits);
        if interrupt::requested() || !report(out, job.index, &run_trial((base, data), folder, &job)) {
            break;
        }
    }
}

/// Trains one trial's seed to the job's epochs in its run folder: a new run on the first
/// rung, the run there continued from its newest checkpoint on the others.
fn run_trial((base, data): (&Config, &Dataset), folder: &RunDir, job: &TrialJob) -> RunResult {
    let started = Instant::now();
    let mut result = RunResult::not_run(&job.setting, job.seed);
    let mut config = match job.setting.apply(base, job.seed) {
        Ok(config) => config,
        Err(why) => {
            result.error = Some(why);
            return result;
        }
    };
    (config.name, config.sweep) = (Some(trial_name(job.trial, job.seed)), None);
    config.training.num_epochs = job.epochs;
    let run = folder.trial(job.trial, job.seed);
    if !job.scratch
        && let Some(rows) = recorded(&run, &config, job.epochs)
    {
        result.converged_epoch = converged_epoch(&rows, config.training.tolerance);
        result.last_epoch(rows.last());
        return result;
    }
    let continues = !job.scratch && crate::run::checkpoint::find(&run, None).is_ok();
    let from = if continues { StartFrom::Newest } else { StartFrom::Scratch };
    let options = RunOptions { from, quiet: true, warn: false, pictures: false };
    // A panic in one run is that run's failure, not the sweep's.
    let trained =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| train(&config, data, &run, &options)));
    let summary = match trained {
        Ok(Ok(Outcome::Finished(summary) | Outcome::Diverged(summary))) => Some(summary),
        // Stopped where its checkpoint is: what it reached is in its metrics.csv.
        Ok(Ok(Outcome::Interrupted { .. })) => {
            result.cut_short = true;
            result.last_epoch(read_rows(&run.metrics(), config.layers()).unwrap_or_default().last());
            None
        }
        // Converged at its last rung already: what it reached is in its folder.
        Ok(Ok(Outcome::NothingToDo(why))) => match Summary::read(&run.summary()) {
            Ok(Some(summary)) => Some(summary),
            _ => {
                result.error = Some(why);
                None
            }
        },
        Ok(Err(failure)) => {
            result.error = Some(failure.message);
            None
        }
        Err(_) => {
            result.error = Some("internal error (a panic) in this run".into());
            None
        }
    };
    if let Some(summary) = summary {
        result.converged_epoch = summary.converged_epoch;
        result.final_loss = summary.final_loss;
        result.valid_accuracy = summary.valid_accuracy;
        result.epochs = summary.epochs_run;
    }
    result.wall_seconds = started.elapsed().as_secs_f64();
    result
}

/// The rows of the run in `run` up to `epochs`, when it has them all already: they reach that
/// epoch (a later rung of the interrupted sweep trained it further), or the run ended by itself
/// before it (converged, stopped by patience, diverged). A resumed halving sweep replays its
/// rungs from these instead of training them again, and ranks what an uninterrupted one did.
fn recorded(run: &RunDir, config: &Config, epochs: usize) -> Option<Vec<EpochRow>> {
    let mut rows = read_rows(&run.metrics(), config.layers()).ok()?;
    rows.retain(|r| r.epoch <= epochs);
    let last = rows.last()?.epoch;
    let ended = || {
        let summary = Summary::read(&run.summary()).ok()??;
        Some(summary.epochs_run == last && summary.stopped_by? != StoppedBy::NumEpochs)
    };
    (last == epochs || ended() == Some(true)).then_some(rows)
}
