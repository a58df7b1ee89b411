//! `training.restore_best`: the weights of the epoch with the lowest validation loss, kept as
//! the run trains, saved with each checkpoint as its `best` part, and read back on resume.

use crate::config::Config;
use crate::failure::Failure;
use crate::model::mlp::Mlp;
use crate::run::checkpoint::Manifests;
use crate::run::folder::{Part, RunDir};
use crate::run::metrics::EpochRow;
use burn::module::Module;
use burn::tensor::Device;

/// The weights of the epoch with the lowest validation loss so far.
pub struct Best {
    pub epoch: usize,
    pub loss: f64,
    /// Off the autodiff graph.
    pub model: Mlp,
}

impl Best {
    /// Keeps the weights of `row`'s epoch (`weights` gives them) if its loss is the lowest so
    /// far; the first epoch of the lowest loss wins, a later tie is no better.
    pub fn keep(best: &mut Option<Best>, row: &EpochRow, weights: impl FnOnce() -> Mlp) {
        if row.valid_loss.is_finite() && best.as_ref().is_none_or(|b| row.valid_loss < b.loss) {
            *best = Some(Best { epoch: row.epoch, loss: row.valid_loss, model: weights() });
        }
    }

    /// Writes the weights, as Burn's record bytes (as model.bpk holds them), as the `best`
    /// part of the checkpoint of `epoch`.
    pub fn save(&self, manifests: &Manifests, epoch: usize) -> Result<(), String> {
        let bytes = self.model.clone().into_record().into_bytes();
        let bytes = bytes.map_err(|e| format!("cannot encode the best weights: {e}"))?;
        manifests.write_best(epoch, &bytes)
    }
}

/// The weights a run ends with, the best epoch and whether they are its weights: with
/// `training.restore_best`, the best epoch's, however the run ended, but for a run that
/// converged: its last weights are the ones within the tolerance.
pub fn chosen(
    last: Mlp,
    best: Option<Best>,
    converged: bool,
    last_epoch: Option<usize>,
) -> (Mlp, Option<usize>, bool) {
    let epoch = best.as_ref().map(|b| b.epoch);
    match best.filter(|b| !converged || Some(b.epoch) == last_epoch) {
        Some(best) => (best.model, epoch, true),
        None => (last, epoch, false),
    }
}

/// The best weights a run starts with, from the checkpoint of epoch `checkpoint`, whose
/// manifest names `best_epoch`: a resumed run's, when it keeps them (`training.restore_best`);
/// none for a new run.
pub fn at_start(
    config: &Config,
    (checkpoint, best_epoch, rows): (usize, Option<usize>, &[EpochRow]),
    run: Option<&RunDir>,
    device: &Device,
) -> Result<Option<Best>, Failure> {
    match (config.training.restore_best, best_epoch, run) {
        (true, Some(epoch), Some(run)) => resumed(config, run, (checkpoint, rows), epoch, device).map(Some),
        _ => Ok(None),
    }
}

/// The best weights a resumed run had kept: the `best` part of its checkpoint, and the loss
/// of that epoch from its metrics.
fn resumed(
    config: &Config,
    run: &RunDir,
    (checkpoint, rows): (usize, &[EpochRow]),
    epoch: usize,
    device: &Device,
) -> Result<Best, Failure> {
    let path = run.checkpoint_file(Part::Best, checkpoint);
    let record = burn::store::ModuleRecord::load(&path).map_err(|e| {
        Failure::usage(format!(
            "cannot read {}: {}",
            path.display(),
            crate::run::checkpoint::record_error(&e)
        ))
    })?;
    let model = Mlp::from_config(config, device).try_load_record(record).map_err(|e| {
        Failure::usage(format!(
            "{} does not fit this network: {}",
            path.display(),
            crate::run::checkpoint::record_error(&e)
        ))
    })?;
    let loss = rows.iter().find(|r| r.epoch == epoch).map_or(f64::INFINITY, |r| r.valid_loss);
    Ok(Best { epoch, loss, model })
}
