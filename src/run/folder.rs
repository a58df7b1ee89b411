//! The run folder `artifacts/<name>/`: the only module that spells a file name in it.
//!
//! ```text
//! artifacts/<name>/
//!   config.toml      the resolved config, written before training starts
//!   data.json        a CSV run's columns, classes and feature scaling, for `predict`
//!   metrics.csv      one row per epoch
//!   checkpoint/      per saved epoch E: Burn's model-E.bpk, optim-E.bpk, scheduler-E.bpk and
//!                    gatenet's manifest-E.json (written last); the two newest saves are kept
//!   model.bpk        the final weights
//!   summary.json     the outcome, and every row's prediction before and after training
//!   report.html      the whole run on one page, rewritten every few seconds while it trains
//!   tensorboard/     the metrics as TensorBoard event files (`tensorboard --logdir artifacts`)
//!   model.onnx, model.safetensors, model-epoch-E.*   written by `gatenet export`
//!
//! artifacts/<name>-trace.json     `gatenet trace`: every number of the first optimizer steps
//! artifacts/<name>-lr-find/        `gatenet lr-find`: lr_find.csv (rate, loss, smoothed) and .png
//! artifacts/<name>-sweep/
//!   sweep.csv        one row per run: setting, seed, outcome, state (finished, cut_short, pruned)
//!   sweep.md         the table per setting; an interrupted sweep's says so and how to go on
//!   sweep.png        epochs to converge per setting
//!   interrupted/     an interrupted sweep's three files, when the folder holds a complete one
//!   trials/trial-T-seed-S/   with --halving: each trial's run folder, continued rung by rung
//!   trials/sweep.sha256      the config SHA-256 of the sweep whose trials they are
//! artifacts/<name>-sweep-shard-K-of-N/   `sweep --shard K/N`: its runs' sweep files, and
//!   shard.json       which shard of which sweep, for `gatenet sweep merge`
//! ```

use crate::run::atomic::create_beside;
use std::path::{Path, PathBuf};

/// `gatenet trace`'s file unless told otherwise: beside the run folder (a trace is no run's).
pub fn trace_json(artifacts: &Path, name: &str) -> PathBuf {
    artifacts.join(format!("{name}-trace.json"))
}

/// The run name of a trial's seed: `trial-007-seed-2`.
pub fn trial_name(trial: usize, seed: u64) -> String {
    format!("trial-{trial:03}-seed-{seed}")
}

#[derive(Clone)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    pub fn new(artifacts: &Path, name: &str) -> RunDir {
        RunDir { root: artifacts.join(name) }
    }

    /// The folder of a config's learning-rate range test.
    pub fn lr_find(artifacts: &Path, name: &str) -> RunDir {
        RunDir { root: artifacts.join(format!("{name}-lr-find")) }
    }

    pub fn lr_find_csv(&self) -> PathBuf {
        self.root.join("lr_find.csv")
    }

    pub fn lr_find_png(&self) -> PathBuf {
        self.root.join("lr_find.png")
    }

    /// A run folder given by its path, as `gatenet predict artifacts/or` does.
    pub fn at(path: &Path) -> RunDir {
        RunDir { root: path.to_path_buf() }
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    pub fn config(&self) -> PathBuf {
        self.root.join("config.toml")
    }

    /// A CSV run's [`crate::config::csv_schema::Schema`].
    pub fn data_schema(&self) -> PathBuf {
        self.root.join("data.json")
    }

    pub fn metrics(&self) -> PathBuf {
        self.root.join("metrics.csv")
    }

    /// The run's TensorBoard event file: one name, so that a resumed run continues it.
    /// TensorBoard reads any file whose name holds `tfevents`.
    pub fn tensorboard_events(&self) -> PathBuf {
        self.root.join("tensorboard").join("events.out.tfevents.gatenet")
    }

    pub fn checkpoints(&self) -> PathBuf {
        self.root.join("checkpoint")
    }

    pub fn model(&self) -> PathBuf {
        self.root.join("model.bpk")
    }

    pub fn summary(&self) -> PathBuf {
        self.root.join("summary.json")
    }

    /// The whole run on one self-contained page.
    pub fn report_html(&self) -> PathBuf {
        self.root.join("report.html")
    }

    /// Loss, accuracy and learning rate per epoch, as a vector picture.
    pub fn loss_svg(&self) -> PathBuf {
        self.root.join("loss.svg")
    }

    /// The same picture as `loss_svg`, as pixels.
    pub fn loss_png(&self) -> PathBuf {
        self.root.join("loss.png")
    }

    /// The network's output over the input square, for 2-input data.
    pub fn boundary_png(&self) -> PathBuf {
        self.root.join("boundary.png")
    }

    /// Per-layer gradient and weight norms per epoch.
    pub fn layers_png(&self) -> PathBuf {
        self.root.join("layers.png")
    }

    /// A sweep shard's record of which shard of which sweep it is (`gatenet sweep --shard`).
    pub fn shard_json(&self) -> PathBuf {
        self.root.join("shard.json")
    }

    /// A sweep folder's table of runs, one row per run.
    pub fn sweep_csv(&self) -> PathBuf {
        self.root.join("sweep.csv")
    }

    /// A sweep folder's per-combination table.
    pub fn sweep_md(&self) -> PathBuf {
        self.root.join("sweep.md")
    }

    /// A sweep folder's picture: epochs to converge per combination.
    pub fn sweep_png(&self) -> PathBuf {
        self.root.join("sweep.png")
    }

    /// A halving sweep's trial runs: each an ordinary run folder, continued from its
    /// checkpoint from one rung to the next.
    pub fn trials(&self) -> PathBuf {
        self.root.join("trials")
    }

    /// The config SHA-256 of the halving sweep whose trials these are.
    pub fn trials_sha256(&self) -> PathBuf {
        self.trials().join("sweep.sha256")
    }

    /// The run of one trial's seed, named for the trial's place in sweep order.
    pub fn trial(&self, trial: usize, seed: u64) -> RunDir {
        RunDir::new(&self.trials(), &trial_name(trial, seed))
    }

    /// Where an interrupted sweep goes when its folder holds a complete one: a sweep folder
    /// of its own inside, so that the complete sweep is not replaced.
    pub fn interrupted_sweep(&self) -> RunDir {
        RunDir { root: self.root.join("interrupted") }
    }

    /// A network exported for other tools (`gatenet export`): `model.onnx`, or
    /// `model-epoch-50.safetensors` from the checkpoint of epoch 50.
    pub fn export(&self, extension: &str, epoch: Option<usize>) -> PathBuf {
        match epoch {
            None => self.root.join(format!("model.{extension}")),
            Some(epoch) => self.root.join(format!("model-epoch-{epoch}.{extension}")),
        }
    }

    /// The exports in the folder: they describe weights that a new or resumed run replaces.
    fn exports(&self) -> Vec<PathBuf> {
        let entries = std::fs::read_dir(&self.root).into_iter().flatten().flatten();
        entries
            .map(|e| e.path())
            .filter(|p| {
                let name = p.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                name.starts_with("model") && (name.ends_with(".onnx") || name.ends_with(".safetensors"))
            })
            .collect()
    }

    /// The names in the folder a user would look at, sorted: no hidden files (`.lock`) and no
    /// leftovers of interrupted writes (`*.tmp`). Empty for a folder that cannot be read.
    pub fn listing(&self) -> Vec<String> {
        let entries = std::fs::read_dir(&self.root).into_iter().flatten().flatten();
        let mut names: Vec<String> = entries
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| !name.starts_with('.') && !name.ends_with(".tmp"))
            .collect();
        names.sort();
        names
    }

    /// Every picture a run may have.
    pub fn pictures(&self) -> Vec<PathBuf> {
        vec![self.loss_svg(), self.loss_png(), self.boundary_png(), self.layers_png()]
    }

    /// One of the files of the checkpoint of `epoch`.
    pub fn checkpoint_file(&self, part: Part, epoch: usize) -> PathBuf {
        self.checkpoints().join(format!("{}-{epoch}.bpk", part.name()))
    }

    /// The manifest that makes the checkpoint of `epoch` count: written last, atomically.
    pub fn manifest(&self, epoch: usize) -> PathBuf {
        self.checkpoints().join(format!("manifest-{epoch}.json"))
    }

    /// Every epoch that has any checkpoint file or manifest, complete or not, newest first.
    pub fn checkpoint_epochs(&self) -> Vec<usize> {
        let mut epochs: Vec<usize> =
            self.checkpoint_entries().iter().filter_map(|(_, epoch)| *epoch).collect();
        epochs.sort_unstable_by(|a, b| b.cmp(a));
        epochs.dedup();
        epochs
    }

    /// The checkpoint folder's files with the epoch they belong to; `None` for leftovers of an
    /// interrupted write (`*.tmp`). Other files are not listed.
    fn checkpoint_entries(&self) -> Vec<(PathBuf, Option<usize>)> {
        let Ok(entries) = std::fs::read_dir(self.checkpoints()) else {
            return Vec::new();
        };
        let parse = |name: &str| -> Option<Option<usize>> {
            if name.ends_with(".tmp") {
                return Some(None);
            }
            let stem = name.strip_suffix(".bpk").or_else(|| name.strip_suffix(".json"))?;
            let (prefix, epoch) = stem.rsplit_once('-')?;
            let known = prefix == "manifest" || Part::EVERY.iter().any(|p| p.name() == prefix);
            known.then(|| epoch.parse().ok()).flatten().map(Some)
        };
        entries
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                let epoch = parse(path.file_name()?.to_str()?)?;
                Some((path, epoch))
            })
            .collect()
    }

    /// Removes every file of the checkpoint of `epoch`, the manifest first, so that the epoch
    /// never looks complete with a file missing.
    pub fn remove_checkpoint(&self, epoch: usize) -> Result<(), String> {
        Part::EVERY.iter().try_for_each(|&part| self.remove_checkpoint_part(epoch, part))
    }

    /// Removes one part of the checkpoint of `epoch`, after its manifest (see
    /// `remove_checkpoint`); Burn deletes the three parts from three threads.
    pub fn remove_checkpoint_part(&self, epoch: usize, part: Part) -> Result<(), String> {
        remove_if_present(&self.manifest(epoch))?;
        remove_if_present(&self.checkpoint_file(part, epoch))
    }

    /// Removes what only a finished run has (model.bpk, summary.json, the pictures, exports of
    /// the final model): a resumed run writes them anew when it ends.
    pub fn remove_outputs(&self) -> Result<(), String> {
        let final_exports =
            self.exports().into_iter().filter(|p| !p.to_string_lossy().contains("model-epoch-"));
        [self.model(), self.summary(), self.report_html()]
            .into_iter()
            .chain(self.pictures())
            .chain(final_exports)
            .try_for_each(|p| remove_if_present(&p))
    }

    /// Removes the leftovers of writes that a crash cut short; returns how many there were.
    pub fn remove_stray_tmp(&self) -> Result<usize, String> {
        let mut tmp: Vec<PathBuf> =
            self.checkpoint_entries().into_iter().filter(|(_, e)| e.is_none()).map(|(p, _)| p).collect();
        let top = std::fs::read_dir(&self.root).into_iter().flatten().flatten().map(|e| e.path());
        tmp.extend(top.filter(|p| p.extension().is_some_and(|x| x == "tmp")));
        tmp.iter().try_for_each(|p| remove_if_present(p))?;
        Ok(tmp.len())
    }

    /// Makes the folder ready for a new run: files of a previous run in it are removed, so that
    /// nothing in it can be mistaken for part of this run. Anything else is left alone.
    pub fn prepare_fresh(&self) -> Result<(), String> {
        std::fs::create_dir_all(self.checkpoints())
            .map_err(|e| format!("cannot create the run folder {}: {e}", self.root.display()))?;
        for file in [self.config(), self.data_schema(), self.metrics(), self.tensorboard_events()]
            .into_iter()
            .chain([self.model(), self.summary(), self.report_html()])
            .into_iter()
            .chain(self.pictures())
            .chain(self.exports())
        {
            remove_if_present(&file)?;
        }
        for (path, _) in self.checkpoint_entries() {
            remove_if_present(&path)?;
        }
        Ok(())
    }
}

impl RunDir {
    /// Creates the folder and writes and removes a file in it: for a sweep, whose files are all
    /// written at its end, so that a folder it cannot write is found before its first run.
    pub fn ensure_writable(&self) -> Result<(), String> {
        let fail = |e: std::io::Error| format!("cannot write into {}: {e}", self.root.display());
        std::fs::create_dir_all(&self.root).map_err(fail)?;
        let (probe, _file) = create_beside(&self.root.join(".probe")).map_err(fail)?;
        std::fs::remove_file(probe).map_err(fail)
    }
}

/// The three files Burn saves per checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    Model,
    Optim,
    Scheduler,
    /// The weights of the epoch with the lowest validation loss so far, for a run with
    /// `training.restore_best`: gatenet's own part, beside Burn's three.
    Best,
}

impl Part {
    /// The parts Burn's checkpointer writes.
    pub const ALL: [Part; 3] = [Part::Model, Part::Optim, Part::Scheduler];
    /// Every part a checkpoint may have.
    pub const EVERY: [Part; 4] = [Part::Model, Part::Optim, Part::Scheduler, Part::Best];

    pub fn name(self) -> &'static str {
        match self {
            Part::Model => "model",
            Part::Optim => "optim",
            Part::Scheduler => "scheduler",
            Part::Best => "best",
        }
    }
}

pub fn remove_if_present(path: &Path) -> Result<(), String> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("cannot remove {}: {e}", path.display()))
        }
        _ => Ok(()),
    }
}
