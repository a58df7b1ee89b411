//! `gatenet sweep CONFIG`: the same config over a grid of activations, optimizers, learning
//! rates and inits, each with many seeds, to answer "which setting trains, and how fast?" with
//! numbers rather than one lucky run, or over settings drawn at random from ranges
//! (`sweep_search.rs`). Every run is a Learner run kept in memory (no checkpoints), except a
//! halving sweep's, which go on from their checkpoints (`sweep_halving.rs`); runs go in
//! parallel, one worker process per core, each pinned to its core.

use super::sweep_halving::{Halving, Rung, default_min_epochs, halve, halving_notes, ranked, trials};
use super::sweep_runs::{sweep, work};
use super::sweep_shards::{self, Shard};
use crate::config::space::Space;
use crate::config::{Activation, Config, Init, OptimizerName, Search, SweepSection};
use crate::data::dataset::Dataset;
use crate::failure::Failure;
use crate::run::folder::RunDir;
use crate::run::sweep_results::{
    INTERRUPTED, Row, RunResult, Setting, interrupted, marked, read, rows, write,
};
use crate::training::interrupt;
use std::path::Path;
use std::time::Instant;

/// Every (setting, seed) of the sweep, in the order of its table and sweep.csv.
pub fn jobs(base: &Config, grid: &SweepSection) -> Vec<(Setting, u64)> {
    super::sweep_search::settings(base, grid)
        .into_iter()
        .flat_map(|s| (0..grid.seeds as u64).map(move |seed| (s.clone(), seed)))
        .collect()
}

/// Where a sweep stands when it starts: the runs to do, and the finished ones it keeps.
pub struct Plan {
    /// Every (setting, seed) of the grid, in table order.
    pub all: Vec<(Setting, u64)>,
    /// The ones still to run, in the same order.
    pub todo: Vec<(Setting, u64)>,
    /// Finished runs of an interrupted sweep that `--resume` continues...
    pub kept: Vec<RunResult>,
    /// ... and the folder they came from.
    pub continues: Option<RunDir>,
    /// What the interrupted sweep's sweep.md records of the config, to continue only with it.
    pub config_sha256: String,
    /// With `sweep.halving`: its factor, first rung and seeds.
    pub halving: Option<Halving>,
}

/// A run's place in a sweep: its setting (the label spells every field) and seed.
fn key(setting: &Setting, seed: u64) -> (String, u64) {
    (setting.label(), seed)
}

/// The SHA-256 of the config every run of the sweep starts from, its grid left out: a sweep
/// continues only with the config it began with, though its lists may grow. A halving sweep's
/// grid is in: its trials' folders hold the settings it drew and the rungs it ranked.
fn config_sha256(base: &Config, grid: &SweepSection) -> String {
    let mut config = base.clone();
    config.sweep = grid.halving.map(|_| grid.clone());
    crate::checksum::sha256(config.to_toml().as_bytes())
}

/// What sweep.md says of the config, on the line [`run`] writes.
const CONFIG_LINE: &str = "Config SHA-256: `";

/// The sweep of `grid` into `folder`; with `resume`, the finished runs of the interrupted
/// sweep there are kept and only the others run. Workers call this too, to get the same list.
pub fn plan(base: &Config, grid: &SweepSection, folder: &RunDir, resume: bool) -> Result<Plan, Failure> {
    let all = jobs(base, grid);
    let config_sha256 = config_sha256(base, grid);
    let (mut kept, mut continues) = (Vec::new(), None);
    if resume {
        let from = interrupted(folder).ok_or_else(|| {
            Failure::usage(format!(
                "nothing to continue: {} holds no interrupted sweep; run the sweep without --resume",
                folder.path().display()
            ))
        })?;
        let md = std::fs::read_to_string(from.sweep_md()).unwrap_or_default();
        let recorded =
            md.split(CONFIG_LINE).nth(1).and_then(|rest| rest.split('`').next()).unwrap_or_default();
        if recorded != config_sha256 {
            return Err(Failure::usage(format!(
                "cannot continue the interrupted sweep in {}: it ran under another config (its sweep.md records SHA-256 {}, this config's is {}); put the config back, or run the sweep anew without --resume",
                from.path().display(),
                recorded.get(..12).unwrap_or("none"),
                &config_sha256[..12]
            )));
        }
        let wanted: std::collections::HashSet<(String, u64)> =
            all.iter().map(|(s, seed)| key(s, *seed)).collect();
        // A run a worker never reported (it crashed) is run again, not kept as a failure. A
        // halving sweep keeps every row, for its wall time only: it replays its rungs.
        let lost = |r: &RunResult| r.error.as_deref().is_some_and(|e| e.starts_with("worker process "));
        let halving = grid.halving.is_some();
        kept = read(&from.sweep_csv())
            .map_err(Failure::usage)?
            .into_iter()
            .filter(|r| (halving || !r.cut_short && !lost(r)) && wanted.contains(&key(&r.setting, r.seed)))
            .collect();
        continues = Some(from);
    }
    let done: std::collections::HashSet<(String, u64)> =
        kept.iter().map(|r| key(&r.setting, r.seed)).collect();
    let todo = all.iter().filter(|(s, seed)| !done.contains(&key(s, *seed))).cloned().collect();
    let max_epochs = grid.max_epochs.unwrap_or(base.training.num_epochs);
    let halving = grid.halving.map(|eta| Halving {
        eta,
        min_epochs: grid.min_epochs.unwrap_or(default_min_epochs(max_epochs, eta)),
        max_epochs,
        seeds: grid.seeds as u64,
        resume,
        sweep_sha256: config_sha256.clone(),
    });
    Ok(Plan { all, todo, kept, continues, config_sha256, halving })
}

/// What a sweep did, for its table and its message.
pub struct Swept {
    /// The table: one row per setting, of the runs that finished.
    pub rows: Vec<Row>,
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
    (base, data): (&Config, &Dataset),
    plan: Plan,
    folder: &RunDir,
    workers: usize,
    go_on: &str,
) -> Result<Swept, Failure> {
    let started = Instant::now();
    let (new, rungs, standings) = match &plan.halving {
        Some(halving) => {
            let mut halved = halve((base, data), &trials(&plan.all), halving, folder, workers)?;
            // A replayed rung took no time here: its time is the interrupted sweep's.
            for r in &mut halved.results {
                let before = plan.kept.iter().find(|k| k.setting == r.setting && k.seed == r.seed);
                r.wall_seconds += before.map_or(0.0, |k| k.wall_seconds);
            }
            (halved.results, halved.rungs, halved.standings)
        }
        None => (sweep(base, data, &plan.todo, workers)?, Vec::new(), Vec::new()),
    };
    let mut by_key: std::collections::HashMap<(String, u64), RunResult> =
        plan.kept.iter().chain(&new).map(|r| (key(&r.setting, r.seed), r.clone())).collect();
    let results: Vec<RunResult> =
        plan.all.iter().filter_map(|(setting, seed)| by_key.remove(&key(setting, *seed))).collect();
    let rows = ranked(rows(&results), &standings);
    let never_started = plan.all.len() - results.len();
    let cut_short = results.iter().filter(|r| r.cut_short).count();
    let finished = results.len() - cut_short;
    let seconds = started.elapsed().as_secs_f64();
    let name = base.name();
    let stopped = interrupt::requested() && (cut_short > 0 || never_started > 0);
    if !stopped {
        let kept = match plan.kept.iter().filter(|r| !r.cut_short).count() {
            0 => String::new(),
            n => format!(" ({n} of them finished before, in the interrupted sweep this continues)"),
        };
        let epochs: usize = results.iter().map(|r| r.epochs).sum();
        let title = format!(
            "{name}: {} runs, {epochs} epochs in {seconds:.1} s on {workers} cores{kept}",
            results.len()
        );
        let notes = plan.halving.as_ref().map_or(String::new(), |h| halving_notes(h, &rungs, &rows));
        write_all(folder, (&results, &rows, &rungs), &title, &notes)?;
        // The interrupted sweep this one continued is done with; another one is left alone.
        let leftover = folder.interrupted_sweep();
        if plan.continues.is_some_and(|from| from.path() == leftover.path()) {
            std::fs::remove_dir_all(leftover.path())
                .map_err(|e| Failure::runtime(format!("cannot remove {}: {e}", leftover.path().display())))?;
        }
        return Ok(Swept { rows, folder: folder.clone(), title, interrupted: None });
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
        "{INTERRUPTED}: {counts}. The table counts the finished runs only; {go_on}.\n\n{CONFIG_LINE}{}`\n\n",
        plan.config_sha256
    );
    write_all(&target, (&results, &rows, &rungs), &title, &note)?;
    let message = format!(
        "sweep interrupted by {}: {counts}; the finished runs are in {}/; {go_on}",
        interrupt::cause(),
        target.path().display()
    );
    Ok(Swept { rows, folder: target, title, interrupted: Some(message) })
}

/// sweep.csv, sweep.md and sweep.png (of the runs that finished) into `folder`.
fn write_all(
    folder: &RunDir,
    (results, rows, rungs): (&[RunResult], &[Row], &[Rung]),
    title: &str,
    notes: &str,
) -> Result<(), Failure> {
    write(folder, results, rows, title, notes)?;
    let finished: Vec<RunResult> = results.iter().filter(|r| !r.cut_short).cloned().collect();
    let rungs: Vec<usize> = rungs.iter().map(|r| r.epochs).collect();
    crate::run::sweep_picture::sweep(&folder.sweep_png(), &finished, rows, &rungs)
        .map_err(Failure::runtime)?;
    crate::run::report_html::write_sweep(folder, title, notes, rows).map_err(Failure::runtime)
}

/// The sweep's axes and settings from the command line; each given one replaces the config's.
pub struct Lists {
    pub activation: Vec<Activation>,
    pub optimizer: Vec<OptimizerName>,
    pub learning_rate: Option<Space<f64>>,
    pub init: Vec<Init>,
    pub width: Option<Space<usize>>,
    pub seeds: Option<usize>,
    pub search: Option<Search>,
    pub trials: Option<usize>,
    pub halving: Option<usize>,
    pub min_epochs: Option<usize>,
    pub max_epochs: Option<usize>,
    /// `--shard K/N`: only that shard's runs.
    pub shard: Option<(usize, usize)>,
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
    let (config, data) = Dataset::load(path, false).map_err(|e| Failure::usage(e.to_string()))?;
    let shard = lists.shard;
    let grid = grid(&config, lists)?;
    refuse_halving_with(&grid, shard)?;
    let folder = match shard {
        Some(shard) => sweep_shards::folder(artifacts, config.name(), shard),
        None => RunDir::new(artifacts, &format!("{}-sweep", config.name())),
    };
    let plan = |folder: &RunDir| -> Result<(Plan, usize, String), Failure> {
        let mut plan = plan(&config, &grid, folder, resume)?;
        // Every run of the whole sweep, in order: shards of one sweep share them.
        let keys: Vec<String> =
            plan.all.iter().map(|(s, seed)| format!("{} seed {seed}\n", s.label())).collect();
        let (total, jobs_sha256) = (plan.all.len(), crate::checksum::sha256(keys.concat().as_bytes()));
        if let Some(shard) = shard {
            only(&mut plan, shard);
        }
        Ok((plan, total, jobs_sha256))
    };
    if let Some((k, n)) = worker {
        match grid.halving {
            Some(_) => super::sweep_trials::work((&config, &data), &folder, k, &mut std::io::stdin(), out),
            None => work((&config, &data), &plan(&folder)?.0.todo, k, n, out),
        }
        return Ok(None);
    }
    if folder.config().is_file() {
        return Err(Failure::usage(format!(
            "{} is the folder of a training run (it has a config.toml), not of a sweep; give the sweep's config another `name`",
            folder.path().display()
        )));
    }
    let (plan, total, jobs_sha256) = plan(&folder)?;
    folder.ensure_writable().map_err(Failure::runtime)?;
    // A shard's record goes first and comes back last: no old one describes new results.
    crate::run::folder::remove_if_present(&folder.shard_json()).map_err(Failure::runtime)?;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let go_on = format!("continue with `{}`", crate::shell::resume_command_line(std::env::args_os().skip(1)));
    let config_sha256 = plan.config_sha256.clone();
    let swept = run((&config, &data), plan, &folder, workers, &go_on)?;
    if let (Some((k, n)), None) = (shard, &swept.interrupted) {
        let name = config.name().to_string();
        sweep_shards::record(&folder, &Shard { name, shard: k, of: n, total, config_sha256, jobs_sha256 })?;
    }
    Ok(Some(swept))
}

/// Successive halving ranks every trial after each rung, so it runs on one machine: `--shard`
/// does not go with it.
fn refuse_halving_with(grid: &SweepSection, shard: Option<(usize, usize)>) -> Result<(), Failure> {
    if grid.halving.is_some() && shard.is_some() {
        return Err(Failure::usage(
            "--halving (or sweep.halving) ranks every trial after each rung, so a halving sweep runs on one machine and cannot be split with --shard; shard a grid or random search without halving",
        ));
    }
    Ok(())
}

/// Keeps only shard `shard`'s runs of the plan: those whose place in the sweep's order is K
/// modulo N.
fn only(plan: &mut Plan, shard: (usize, usize)) {
    let mine: std::collections::HashSet<(String, u64)> = sweep_shards::places(plan.all.len(), shard)
        .into_iter()
        .map(|i| key(&plan.all[i].0, plan.all[i].1))
        .collect();
    plan.all.retain(|(s, seed)| mine.contains(&key(s, *seed)));
    plan.todo.retain(|(s, seed)| mine.contains(&key(s, *seed)));
    plan.kept.retain(|r| mine.contains(&key(&r.setting, r.seed)));
}

/// `gatenet sweep merge FOLDER...`: the shards' runs, in the sweep's order, written as one
/// process would have written them into `artifacts/<name>-sweep/`.
pub fn merge(folders: &[std::path::PathBuf], artifacts: &Path) -> Result<Swept, Failure> {
    let (name, results) = sweep_shards::merge(folders)?;
    let folder = RunDir::new(artifacts, &format!("{name}-sweep"));
    folder.ensure_writable().map_err(Failure::runtime)?;
    let rows = rows(&results);
    let title = format!("{name}: {} runs, merged from {} shard folders", results.len(), folders.len());
    write_all(&folder, (&results, &rows, &[]), &title, "")?;
    Ok(Swept { rows, folder, title, interrupted: None })
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
    replace(&mut grid.init, lists.init);
    grid.learning_rate = lists.learning_rate.unwrap_or(grid.learning_rate);
    grid.width = lists.width.unwrap_or(grid.width);
    grid.seeds = lists.seeds.unwrap_or(grid.seeds);
    grid.search = lists.search.or(grid.search);
    grid.trials = lists.trials.or(grid.trials);
    grid.halving = lists.halving.or(grid.halving);
    grid.min_epochs = lists.min_epochs.or(grid.min_epochs);
    grid.max_epochs = lists.max_epochs.or(grid.max_epochs);
    let mut merged = config.clone();
    merged.sweep = Some(grid.clone());
    if let Some((key, message)) = merged.validate().into_iter().find(|(key, _)| key.starts_with("sweep")) {
        let option = match key.strip_prefix("sweep.") {
            Some(name) => format!("--{}", name.replace('_', "-")),
            None => "--seeds and the lists".to_string(),
        };
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
            crate::run::sweep_results::table(&self.rows),
            self.folder.path().display()
        )
    }
}
