//! When a run ends and which epochs are saved, decided by the epoch loop (`strategy.rs`) from
//! the rows in memory, at the epoch itself: every output within tolerance, outputs gone NaN,
//! Ctrl-C, or no improvement for `training.patience` epochs. An epoch that ends the run is
//! saved (unless it diverged); Burn's checkpointer carries out the saves the loop plans.

use crate::run::checkpoint::Manifests;
use crate::run::metrics::EpochRow;
use crate::training::interrupt;
use burn::train::checkpoint::{CheckpointingAction, CheckpointingStrategy};
use burn::train::metric::store::EventStoreClient;
use std::sync::{Arc, Mutex};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Every output within tolerance.
    Converged,
    /// Ctrl-C: the epoch was finished and saved.
    Interrupted,
    /// The outputs became NaN or infinite: the epoch is not saved, the previous save stays.
    Diverged,
    /// The validation loss has not improved for `training.patience` epochs.
    NoImprovement,
    /// metrics.csv could not be written (a full disk): the epoch is not saved, so the newest
    /// checkpoint still matches the file, and the run stops.
    WriteFailed,
}

/// What ends a run early: `training.tolerance` (0 for none) and `training.patience`.
#[derive(Clone, Copy)]
pub struct StopRules {
    pub tolerance: f64,
    pub patience: Option<usize>,
}

impl StopRules {
    /// Whether the epoch of the last row ends the run, given every row so far.
    pub fn decide(&self, rows: &[EpochRow]) -> Option<Ending> {
        let last = rows.last()?;
        let diverged = !last.max_error.is_finite();
        let converged = self.tolerance > 0.0 && last.max_error <= self.tolerance;
        let exhausted = || {
            self.patience.is_some_and(|epochs| {
                last_improvement(rows.iter().map(|r| (r.epoch, r.valid_loss)))
                    .is_some_and(|at| last.epoch >= at + epochs)
            })
        };
        match (diverged, converged, interrupt::requested()) {
            (true, _, _) => Some(Ending::Diverged),
            (_, true, _) => Some(Ending::Converged),
            (_, _, true) => Some(Ending::Interrupted),
            _ if exhausted() => Some(Ending::NoImprovement),
            _ => None,
        }
    }
}

/// The epoch of the last improvement in a series of (epoch, validation loss). An improvement
/// must beat the best so far by 0.01% of it, so that a loss creeping down by rounding noise
/// does not keep a finished run going forever.
pub fn last_improvement(losses: impl Iterator<Item = (usize, f64)>) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (epoch, loss) in losses.filter(|(_, l)| l.is_finite()) {
        if best.is_none_or(|(_, b)| loss < b * (1.0 - 1e-4)) {
            best = Some((epoch, loss));
        }
    }
    best.map(|(epoch, _)| epoch)
}

/// Saves every `every` epochs, at the last epoch and at an epoch that ends the run, and keeps
/// the two newest saves (the newest may be cut short by a crash; the one before is the fallback).
pub struct SaveSchedule {
    pub every: usize,
    pub num_epochs: usize,
    pub manifests: Arc<Manifests>,
    /// Saved epochs, oldest first, including those found on disk when resuming.
    pub saved: Vec<usize>,
}

impl SaveSchedule {
    /// What to do with the checkpoints at the end of `epoch`; an epoch to save is announced
    /// to the manifests before Burn writes any of its files.
    pub fn plan(
        &mut self,
        epoch: usize,
        ending: Option<Ending>,
        best_epoch: Option<usize>,
    ) -> Vec<CheckpointingAction> {
        let due = ending.is_some() || epoch.is_multiple_of(self.every) || epoch >= self.num_epochs;
        if matches!(ending, Some(Ending::Diverged | Ending::WriteFailed)) || !due {
            return Vec::new();
        }
        self.manifests.announce(epoch, ending == Some(Ending::Converged), best_epoch);
        self.saved.push(epoch);
        let mut actions = vec![CheckpointingAction::Save];
        while self.saved.len() > 2 {
            actions.push(CheckpointingAction::Delete(self.saved.remove(0)));
        }
        actions
    }
}

/// Burn's checkpointing strategy, answering with what the epoch loop planned for this epoch
/// (Burn's checkpointer asks it only when the loop hands it an epoch).
#[derive(Clone, Default)]
pub struct Planned(Arc<Mutex<Vec<CheckpointingAction>>>);

impl Planned {
    pub fn set(&self, actions: Vec<CheckpointingAction>) {
        *self.0.lock().expect("checkpoint plan lock") = actions;
    }
}

impl CheckpointingStrategy for Planned {
    fn checkpointing(&mut self, _epoch: usize, _store: &EventStoreClient) -> Vec<CheckpointingAction> {
        std::mem::take(&mut *self.0.lock().expect("checkpoint plan lock"))
    }
}
