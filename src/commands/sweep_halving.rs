//! Successive halving (Jamieson and Talwalkar, 2016; the inner loop of Li et al.'s Hyperband
//! and Optuna's `SuccessiveHalvingPruner`): every trial trains for the first rung's epochs, the
//! best 1/eta by median validation loss go on eta times longer, and so on up to
//! `training.num_epochs`. Each seed of a trial is an ordinary run folder (`trials/`), continued
//! from its checkpoint by gatenet's resume, which is bit-identical: a survivor ends with the
//! weights of one uninterrupted run of its epochs.

use super::sweep_runs::{in_processes, report};
use crate::config::{BackendName, Config};
use crate::data::dataset::Dataset;
use crate::failure::Failure;
use crate::run::folder::{RunDir, trial_name};
use crate::run::metrics::{EpochRow, converged_epoch, read_rows};
use crate::run::summary::{StoppedBy, Summary};
use crate::run::sweep_results::{Row, RunResult, Setting};
use crate::training::interrupt;
use crate::training::train::{Outcome, RunOptions, StartFrom, train};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// The epochs of each rung, the last `max`, each eta times the one before (rounded down), the
/// first at least `min`: 2000 epochs, eta 3 and min 20 give 24, 74, 222, 666 and 2000.
pub fn rungs(min: usize, max: usize, eta: usize) -> Vec<usize> {
    let mut epochs = vec![max];
    while epochs[0] / eta >= min.max(1) && eta > 1 {
        epochs.insert(0, epochs[0] / eta);
    }
    epochs
}

/// The first rung's epochs unless `sweep.min_epochs` says: three halvings below the last.
pub fn default_min_epochs(max: usize, eta: usize) -> usize {
    (max / eta.saturating_pow(3)).max(1)
}

/// A halving sweep's factor, first rung and seeds per trial, and whether it continues an
/// interrupted one.
#[derive(Clone, Copy)]
pub struct Halving {
    pub eta: usize,
    pub min_epochs: usize,
    pub seeds: u64,
    pub resume: bool,
}

/// The trials of a sweep's (setting, seed) list: its settings, in order.
pub fn trials(all: &[(Setting, u64)]) -> Vec<Setting> {
    let mut settings: Vec<Setting> = Vec::new();
    for (setting, _) in all {
        if !settings.contains(setting) {
            settings.push(setting.clone());
        }
    }
    settings
}

/// A halving sweep's table, best first: the settings that reached the last rung, then those
/// pruned later before those pruned sooner; within each, more converged seeds first, then
/// fewer median epochs. Other sweeps keep their order.
pub fn ranked(mut rows: Vec<Row>, rungs: &[Rung]) -> Vec<Row> {
    if rungs.is_empty() {
        return rows;
    }
    let reached = |r: &Row| r.pruned_at.map_or(usize::MAX, |e| e);
    let median = |r: &Row| r.epochs.map_or(f64::INFINITY, |(median, _, _)| median);
    rows.sort_by(|a, b| {
        (reached(b).cmp(&reached(a)))
            .then(b.converged.cmp(&a.converged))
            .then(median(a).total_cmp(&median(b)))
    });
    rows
}

/// What sweep.md says of the halving under its title: the rungs, and the best setting.
pub fn halving_notes(halving: &Halving, rungs: &[Rung], rows: &[Row]) -> String {
    let mut notes = format!(
        "Successive halving, eta {}: each rung keeps the best 1/{} of its trials by median validation loss over {} seeds, and trains them on from their checkpoints.\n\n| rung | epochs | trials | kept |\n|---|---|---|---|\n",
        halving.eta, halving.eta, halving.seeds
    );
    for (r, rung) in rungs.iter().enumerate() {
        notes += &format!("| {} | {} | {} | {} |\n", r + 1, rung.epochs, rung.trials, rung.kept);
    }
    if let Some(best) = rows.first() {
        let epochs =
            best.epochs.map_or("none converged".to_string(), |(m, _, _)| format!("median {m} epochs"));
        notes += &format!(
            "\nBest: `{}`, {}/{} converged, {epochs}.\n\n",
            best.setting.label(),
            best.converged,
            best.runs
        );
    }
    notes
}

/// One rung of a halving sweep, as sweep.md and sweep.png show it.
pub struct Rung {
    pub epochs: usize,
    /// The trials that trained up to it, and those that went on.
    pub trials: usize,
    pub kept: usize,
}

/// One seed of one trial, trained (or continued) to `epochs`: what the sweep hands a worker.
#[derive(Clone, Serialize, Deserialize)]
pub struct TrialJob {
    /// Its place in the rung's list of jobs, by which its report is known.
    pub index: usize,
    pub trial: usize,
    pub setting: Setting,
    pub seed: u64,
    pub epochs: usize,
    /// A new run: the first rung of a sweep not resumed. Every other job first looks in the
    /// trial's folder for what it reached by `epochs` (see [`recorded`]), then continues it.
    pub scratch: bool,
}

/// What a halving sweep did: a result per trial and seed, in trial order, and its rungs.
pub struct Halved {
    pub results: Vec<RunResult>,
    pub rungs: Vec<Rung>,
}

/// Runs successive halving over `settings` (the trials, in order), each with seeds 0 to
/// `seeds` - 1, in the run folders under `folder`.
pub fn halve(
    (base, data): (&Config, &Dataset),
    settings: &[Setting],
    halving: &Halving,
    folder: &RunDir,
    workers: usize,
) -> Result<Halved, Failure> {
    let Halving { eta, min_epochs, seeds, resume } = *halving;
    let budgets = rungs(min_epochs, base.training.num_epochs, eta);
    // The trials of an earlier halving sweep in this folder are replaced, not mixed in; those
    // of the interrupted one a resumed sweep continues are what it continues from.
    match std::fs::remove_dir_all(folder.trials()) {
        Err(e) if !resume && e.kind() != std::io::ErrorKind::NotFound => {
            return Err(Failure::runtime(format!("cannot remove {}: {e}", folder.trials().display())));
        }
        _ => {}
    }
    let per = seeds as usize;
    let mut results: Vec<RunResult> =
        settings.iter().flat_map(|s| (0..seeds).map(move |seed| RunResult::not_run(s, seed))).collect();
    // Still training: it ran its rung's every epoch, and neither converged, diverged nor failed.
    let mut open = vec![true; results.len()];
    let mut alive: Vec<usize> = (0..settings.len()).collect();
    let mut done = Vec::new();
    for (r, &epochs) in budgets.iter().enumerate() {
        let places: Vec<usize> =
            alive.iter().flat_map(|&t| (0..per).map(move |s| t * per + s)).filter(|&i| open[i]).collect();
        let jobs: Vec<TrialJob> = places
            .iter()
            .enumerate()
            .map(|(index, &i)| TrialJob {
                index,
                trial: i / per,
                setting: settings[i / per].clone(),
                seed: (i % per) as u64,
                epochs,
                scratch: r == 0 && !resume,
            })
            .collect();
        for new in run_jobs((base, data), folder, &jobs, workers)? {
            let Some(&i) =
                places.iter().find(|&&i| results[i].setting == new.setting && results[i].seed == new.seed)
            else {
                continue;
            };
            open[i] = new.error.is_none()
                && !new.cut_short
                && new.converged_epoch.is_none()
                && new.epochs == epochs
                && new.final_loss.is_finite();
            let wall_seconds = results[i].wall_seconds + new.wall_seconds;
            results[i] = RunResult { wall_seconds, ..new };
        }
        if interrupt::requested() {
            // Every run that would have gone on was cut short, where it stands.
            results.iter_mut().zip(&open).filter(|(_, open)| **open).for_each(|(r, _)| r.cut_short = true);
            return Ok(Halved { results, rungs: done });
        }
        let keep = if r + 1 == budgets.len() { alive.len() } else { alive.len().div_ceil(eta) };
        let rung = format!("rung {} of {} ({epochs} epochs)", r + 1, budgets.len());
        done.push(Rung { epochs, trials: alive.len(), kept: keep });
        alive = prune((&mut results, &mut open, per), &alive, keep, &rung);
    }
    Ok(Halved { results, rungs: done })
}

/// The best `keep` of the `alive` trials by median validation loss, in trial order; the
/// others' runs that would have gone on are marked pruned at `rung`, with their standing.
fn prune(
    (results, open, per): (&mut [RunResult], &mut [bool], usize),
    alive: &[usize],
    keep: usize,
    rung: &str,
) -> Vec<usize> {
    let score: Vec<f64> =
        (0..results.len() / per).map(|t| median_loss(&results[t * per..(t + 1) * per])).collect();
    let mut ranked = alive.to_vec();
    // A stable sort: trials of equal loss keep their order, the order they were drawn in.
    ranked.sort_by(|&a, &b| score[a].total_cmp(&score[b]));
    for (place, &t) in ranked.iter().enumerate().skip(keep) {
        let why = format!(
            "{rung}: median validation loss {:.4} ranked {} of {}; the best {keep} went on",
            score[t],
            place + 1,
            alive.len()
        );
        for i in t * per..(t + 1) * per {
            if std::mem::take(&mut open[i]) {
                results[i].pruned = Some(why.clone());
            }
        }
    }
    let mut kept = ranked[..keep].to_vec();
    kept.sort_unstable();
    kept
}

/// The median final validation loss of a trial's seeds; a run that failed or diverged counts
/// as infinitely bad.
fn median_loss(runs: &[RunResult]) -> f64 {
    let mut losses: Vec<f64> = runs
        .iter()
        .map(|r| if r.error.is_none() && r.final_loss.is_finite() { r.final_loss } else { f64::INFINITY })
        .collect();
    losses.sort_by(f64::total_cmp);
    match losses.len() {
        0 => f64::INFINITY,
        n if n % 2 == 1 => losses[n / 2],
        n => (losses[n / 2 - 1] + losses[n / 2]) / 2.0,
    }
}

/// A rung's jobs: in worker processes, each given its share on stdin, on the CPU backends; one
/// after another here on wgpu (one device) or one core.
fn run_jobs(
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
    for job in text.lines().filter_map(|line| serde_json::from_str::<TrialJob>(line).ok()) {
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
        let last = rows.last().expect("recorded rows");
        (result.final_loss, result.valid_accuracy, result.epochs) =
            (last.valid_loss, last.valid_accuracy, last.epoch);
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
        Ok(Ok(Outcome::Interrupted { .. })) => {
            result.cut_short = true;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rungs_grow_by_eta_up_to_the_last() {
        assert_eq!(rungs(20, 2000, 3), vec![24, 74, 222, 666, 2000]);
        assert_eq!(rungs(default_min_epochs(2000, 3), 2000, 3), vec![74, 222, 666, 2000]);
        assert_eq!(rungs(1000, 1000, 2), vec![1000]);
        assert_eq!(rungs(1, 8, 2), vec![1, 2, 4, 8]);
    }
}
