//! Successive halving (Jamieson and Talwalkar, 2016; the inner loop of Li et al.'s Hyperband
//! and Optuna's `SuccessiveHalvingPruner`): every trial trains for the first rung's epochs, the
//! best 1/eta by median validation loss go on eta times longer, and so on up to `max_epochs`
//! (`training.num_epochs` unless the sweep says). Each seed of a trial is an ordinary run
//! folder (`trials/`), continued from its checkpoint by gatenet's resume, which is
//! bit-identical: a survivor ends with the weights of one uninterrupted run of its epochs.

use super::sweep_trials::{TrialJob, run_jobs};
use crate::config::Config;
use crate::data::dataset::Dataset;
use crate::failure::Failure;
use crate::run::atomic::write_atomic;
use crate::run::folder::RunDir;
use crate::run::sweep_results::{Row, RunResult, Setting, median};
use crate::training::interrupt;

/// The epochs of each rung, the last `max`, each eta times the one before (rounded down), the
/// first at least `min`: 2000 epochs, eta 3 and min 20 give 24, 74, 222, 666 and 2000.
pub fn rungs(min: usize, max: usize, eta: usize) -> Vec<usize> {
    let mut epochs = vec![max];
    while epochs[0] / eta >= min.max(1) && eta > 1 {
        epochs.insert(0, epochs[0] / eta);
    }
    epochs
}

/// The first rung's fewest epochs unless `sweep.min_epochs` says: three halvings below the last.
pub fn default_min_epochs(max: usize, eta: usize) -> usize {
    (max / eta.saturating_pow(3)).max(1)
}

/// A halving sweep's factor, its first rung's fewest epochs and its seeds per trial, and
/// whether it continues an interrupted one.
#[derive(Clone)]
pub struct Halving {
    pub eta: usize,
    pub min_epochs: usize,
    /// The last rung's epochs: `sweep.max_epochs`, else `training.num_epochs`.
    pub max_epochs: usize,
    pub seeds: u64,
    pub resume: bool,
    /// The sweep's config SHA-256, kept in trials/ so that a resume continues only its own trials.
    pub sweep_sha256: String,
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

/// A halving sweep's table, best first: more converged seeds, then fewer median epochs to
/// converge, then a finite loss (a trial that diverged or failed comes last, however far it
/// got), then the later rung reached, then the lower median validation loss there. Other
/// sweeps keep their order.
pub fn ranked(mut rows: Vec<Row>, standings: &[(Setting, Standing)]) -> Vec<Row> {
    if standings.is_empty() {
        return rows;
    }
    let standing = |r: &Row| {
        standings
            .iter()
            .find(|(s, _)| *s == r.setting)
            .map_or((0, f64::INFINITY), |(_, s)| (s.reached, s.score))
    };
    let median = |r: &Row| r.epochs.map_or(f64::INFINITY, |(median, _, _)| median);
    rows.sort_by(|a, b| {
        let ((reached_a, score_a), (reached_b, score_b)) = (standing(a), standing(b));
        (b.converged.cmp(&a.converged))
            .then(median(a).total_cmp(&median(b)))
            .then(score_b.is_finite().cmp(&score_a.is_finite()))
            .then(reached_b.cmp(&reached_a))
            .then(score_a.total_cmp(&score_b))
    });
    rows
}

/// What sweep.md says of the halving under its title: the rungs, and the best setting.
pub fn halving_notes(halving: &Halving, rungs: &[Rung], rows: &[Row]) -> String {
    let mut notes = format!(
        "Successive halving, eta {}: each rung keeps the best 1/{} of its trials by median validation loss over {} seeds, and trains them on from their checkpoints; a trial whose every seed ended by itself (converged, stopped by patience, diverged) leaves the race.\n\n| rung | epochs | trials | ended by themselves | went on |\n|---|---|---|---|---|\n",
        halving.eta, halving.eta, halving.seeds
    );
    for (r, rung) in rungs.iter().enumerate() {
        notes +=
            &format!("| {} | {} | {} | {} | {} |\n", r + 1, rung.epochs, rung.trials, rung.ended, rung.kept);
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
    /// The trials that trained up to it, those whose every seed ended by itself there
    /// (converged, patience, diverged, failed), and those of the others that went on.
    pub trials: usize,
    pub ended: usize,
    pub kept: usize,
}

/// What a halving sweep did: a result per trial and seed, in trial order, its rungs, and
/// where each trial stood when it left.
pub struct Halved {
    pub results: Vec<RunResult>,
    pub rungs: Vec<Rung>,
    pub standings: Vec<(Setting, Standing)>,
}

/// Where a trial stood when it left the sweep: the rungs it trained in, and its median
/// validation loss after the last of them.
#[derive(Clone, Copy)]
pub struct Standing {
    pub reached: usize,
    pub score: f64,
}

/// Runs successive halving over `settings` (the trials, in order), each with seeds 0 to
/// `seeds` - 1, in the run folders under `folder`. A trial whose every seed has ended by itself
/// (converged, stopped by patience, diverged or failed) leaves the race: the best 1/eta of the
/// others go on.
pub fn halve(
    (base, data): (&Config, &Dataset),
    settings: &[Setting],
    halving: &Halving,
    folder: &RunDir,
    workers: usize,
) -> Result<Halved, Failure> {
    let Halving { eta, min_epochs, max_epochs, seeds, resume, ref sweep_sha256 } = *halving;
    let budgets = rungs(min_epochs, max_epochs, eta);
    trials_of(folder, sweep_sha256, resume)?;
    let per = seeds as usize;
    let mut results: Vec<RunResult> =
        settings.iter().flat_map(|s| (0..seeds).map(move |seed| RunResult::not_run(s, seed))).collect();
    // Still training: it ran its rung's every epoch, and neither converged, diverged nor failed.
    let mut open = vec![true; results.len()];
    let mut standings = vec![Standing { reached: 0, score: f64::INFINITY }; settings.len()];
    let mut alive: Vec<usize> = (0..settings.len()).collect();
    let mut done = Vec::new();
    for (r, &epochs) in budgets.iter().enumerate() {
        if alive.is_empty() {
            break; // every trial left the race by itself: no rung is left to train
        }
        let places: Vec<usize> =
            alive.iter().flat_map(|&t| (0..per).map(move |s| t * per + s)).filter(|&i| open[i]).collect();
        let jobs = TrialJob::all(&places, (settings, per), epochs, r == 0 && !resume);
        // Ran this rung to its end, or ended by itself in it.
        let mut completed = vec![false; results.len()];
        for new in run_jobs((base, data), folder, &jobs, workers)? {
            let Some(&i) =
                places.iter().find(|&&i| results[i].setting == new.setting && results[i].seed == new.seed)
            else {
                continue;
            };
            completed[i] = !new.cut_short;
            open[i] = new.error.is_none()
                && !new.cut_short
                && new.converged_epoch.is_none()
                && new.epochs == epochs
                && new.final_loss.is_finite();
            let wall_seconds = results[i].wall_seconds + new.wall_seconds;
            results[i] = RunResult { wall_seconds, ..new };
        }
        let last = r + 1 == budgets.len();
        let racing: Vec<usize> =
            alive.iter().copied().filter(|&t| open[t * per..(t + 1) * per].contains(&true)).collect();
        // A stop that came once nothing was left to train stops nothing.
        let unfinished = places.iter().any(|&i| !completed[i]);
        if interrupt::requested() && (unfinished || (!last && !racing.is_empty())) {
            // The runs that had not finished the rung, or would have gone on, were cut short
            // where they stand.
            for &i in &places {
                results[i].cut_short = !completed[i] || (open[i] && !last);
            }
            return Ok(Halved { results, rungs: done, standings: Vec::new() });
        }
        for &t in &alive {
            standings[t] = Standing { reached: r + 1, score: median_loss(&results[t * per..(t + 1) * per]) };
        }
        let keep = if last { racing.len() } else { racing.len().div_ceil(eta) };
        let rung = format!("rung {} of {} ({epochs} epochs)", r + 1, budgets.len());
        done.push(Rung { epochs, trials: alive.len(), ended: alive.len() - racing.len(), kept: keep });
        alive = prune((&mut results, &mut open), (&racing, &standings), keep, &rung);
    }
    let standings = settings.iter().cloned().zip(standings).collect();
    Ok(Halved { results, rungs: done, standings })
}

/// Makes trials/ this sweep's: a new sweep replaces an earlier one's trials (they are not mixed
/// in) and records its SHA-256 there; a resumed one continues only from trials that record its
/// own, not those of another sweep that replaced them since.
fn trials_of(folder: &RunDir, sweep_sha256: &str, resume: bool) -> Result<(), Failure> {
    let (trials, record) = (folder.trials(), folder.trials_sha256());
    if resume {
        let found = std::fs::read_to_string(&record).unwrap_or_default();
        if found.trim() != sweep_sha256 {
            return Err(Failure::usage(format!(
                "cannot continue the interrupted halving sweep: {}/ holds another sweep's trials (a halving sweep run since without --resume replaced them); run the sweep anew without --resume",
                trials.display()
            )));
        }
        return Ok(());
    }
    match std::fs::remove_dir_all(&trials) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(Failure::runtime(format!("cannot remove {}: {e}", trials.display())));
        }
        _ => {}
    }
    std::fs::create_dir_all(&trials)
        .map_err(|e| Failure::runtime(format!("cannot create {}: {e}", trials.display())))?;
    write_atomic(&record, format!("{sweep_sha256}\n").as_bytes()).map_err(Failure::runtime)
}

/// The best `keep` of the `racing` trials by their standing, in trial order; the others' runs
/// that would have gone on are marked pruned at `rung`, with their standing.
fn prune(
    (results, open): (&mut [RunResult], &mut [bool]),
    (racing, standings): (&[usize], &[Standing]),
    keep: usize,
    rung: &str,
) -> Vec<usize> {
    let per = results.len() / standings.len().max(1);
    let mut ranked = racing.to_vec();
    // A stable sort: trials of equal loss keep their order, the order they were drawn in.
    ranked.sort_by(|&a, &b| standings[a].score.total_cmp(&standings[b].score));
    for (place, &t) in ranked.iter().enumerate().skip(keep) {
        let why = format!(
            "{rung}: median validation loss {} ranked {} of {}; the best {keep} went on",
            shown(standings[t].score),
            place + 1,
            racing.len()
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

/// A loss in a sentence: four decimals, or three significant digits when those would show
/// none or a row of them (a diverging run's 6.3e32).
fn shown(loss: f64) -> String {
    if loss.is_finite() && loss != 0.0 && !(1e-3..1e4).contains(&loss.abs()) {
        format!("{loss:.2e}")
    } else {
        format!("{loss:.4}")
    }
}

/// The median final validation loss of a trial's seeds (it has at least one); a run that
/// failed or diverged counts as infinitely bad.
fn median_loss(runs: &[RunResult]) -> f64 {
    let mut losses: Vec<f64> = runs
        .iter()
        .map(|r| if r.error.is_none() && r.final_loss.is_finite() { r.final_loss } else { f64::INFINITY })
        .collect();
    losses.sort_by(f64::total_cmp);
    median(&losses)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Activation, Init, OptimizerName};
    use crate::run::sweep_results::rows;

    #[test]
    fn a_trial_that_diverged_comes_last_however_far_it_got() {
        let setting = |learning_rate| Setting {
            activation: Activation::Tanh,
            optimizer: OptimizerName::Sgd,
            learning_rate,
            init: Init::Default,
            width: None,
        };
        let result = |learning_rate, final_loss| RunResult {
            final_loss,
            ..RunResult::not_run(&setting(learning_rate), 0)
        };
        let results = [result(5.0, f64::INFINITY), result(0.1, 0.7), result(0.01, 0.5)];
        let standings = vec![
            (setting(5.0), Standing { reached: 2, score: f64::INFINITY }),
            (setting(0.1), Standing { reached: 1, score: 0.7 }),
            (setting(0.01), Standing { reached: 1, score: 0.5 }),
        ];
        let order: Vec<f64> =
            ranked(rows(&results), &standings).iter().map(|r| r.setting.learning_rate).collect();
        assert_eq!(order, [0.01, 0.1, 5.0], "the lower loss first, the diverged trial last");
    }

    #[test]
    fn rungs_grow_by_eta_up_to_the_last() {
        assert_eq!(rungs(20, 2000, 3), vec![24, 74, 222, 666, 2000]);
        assert_eq!(rungs(default_min_epochs(2000, 3), 2000, 3), vec![74, 222, 666, 2000]);
        assert_eq!(rungs(1000, 1000, 2), vec![1000]);
        assert_eq!(rungs(1, 8, 2), vec![1, 2, 4, 8]);
    }
}
