//! When a run ends and which epochs are saved: Burn's checkpointing and early-stopping
//! strategies for gatenet. The checkpointing strategy, which Burn asks first at the end of every
//! epoch, decides whether the epoch ends the run (every output within tolerance, outputs gone
//! NaN, or Ctrl-C); the early-stopping strategy only reads that decision. So an epoch that ends
//! the run is saved first (unless it diverged), and the event store is asked once per epoch.

use crate::checkpoint::Manifests;
use crate::interrupt;
use crate::metrics::{History, MAX_ERROR};
use burn::train::EarlyStoppingStrategy;
use burn::train::checkpoint::{CheckpointingAction, CheckpointingStrategy};
use burn::train::metric::store::{Aggregate, EventStoreClient, Split};
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

/// `training.patience`, with the history it reads the validation losses from.
#[derive(Clone)]
pub struct Patience {
    pub epochs: usize,
    pub history: History,
}

impl Patience {
    /// True when the validation loss last improved `epochs` or more epochs before `epoch`. An
    /// improvement must beat the best so far by 0.01% of it, so that a loss creeping down by
    /// rounding noise does not keep a finished run going forever.
    fn exhausted(&self, epoch: usize) -> bool {
        let log = self.history.lock().expect("history lock");
        last_improvement(log.rows.iter().map(|r| (r.epoch, r.valid_loss)))
            .is_some_and(|at| epoch >= at + self.epochs)
    }
}

/// The epoch of the last improvement in a series of (epoch, validation loss).
pub fn last_improvement(losses: impl Iterator<Item = (usize, f64)>) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (epoch, loss) in losses.filter(|(_, l)| l.is_finite()) {
        if best.is_none_or(|(_, b)| loss < b * (1.0 - 1e-4)) {
            best = Some((epoch, loss));
        }
    }
    best.map(|(epoch, _)| epoch)
}

/// The epoch that ends the run early, once decided; shared by the two strategies.
#[derive(Clone, Default)]
pub struct RunEnd(Arc<Mutex<Option<(usize, Ending)>>>);

impl RunEnd {
    pub fn get(&self) -> Option<(usize, Ending)> {
        *self.0.lock().expect("run end lock")
    }

    pub(crate) fn set(&self, epoch: usize, ending: Ending) {
        *self.0.lock().expect("run end lock") = Some((epoch, ending));
    }
}

/// Saves every `every` epochs, at the last epoch and at an epoch that ends the run, and keeps
/// the two newest saves (the newest may be cut short by a crash; the one before is the fallback).
pub struct SaveSchedule {
    pub every: usize,
    pub num_epochs: usize,
    pub tolerance: f64,
    pub end: RunEnd,
    pub manifests: Arc<Manifests>,
    pub patience: Option<Patience>,
    /// Saved epochs, oldest first, including those found on disk when resuming.
    pub saved: Vec<usize>,
}

/// Whether `epoch` ends the run, recorded in `end`. It asks the store for the epoch's largest
/// validation error, NaN or infinite once the run diverged. Asking is also a barrier: the
/// question travels through the Learner's event-store thread behind the epoch's metrics, so once
/// it is answered the epoch's metrics.csv row is on disk, before any checkpoint of it is written.
fn decide(
    epoch: usize,
    store: &EventStoreClient,
    tolerance: f64,
    patience: &Option<Patience>,
    end: &RunEnd,
) -> Option<Ending> {
    let max_error = store.find_metric(MAX_ERROR, epoch, Aggregate::Mean, &Split::Valid);
    // Set by the metric logger, whose work on this epoch the question above waited for.
    if let Some((ended, Ending::WriteFailed)) = end.get()
        && ended == epoch
    {
        return Some(Ending::WriteFailed);
    }
    let diverged = max_error.is_some_and(|e| !e.is_finite());
    let converged = tolerance > 0.0 && max_error.is_some_and(|e| e <= tolerance);
    let ending = match (diverged, converged, interrupt::requested()) {
        (true, _, _) => Some(Ending::Diverged),
        (_, true, _) => Some(Ending::Converged),
        (_, _, true) => Some(Ending::Interrupted),
        // The barrier above puts this epoch's row in the history first.
        _ if patience.as_ref().is_some_and(|p| p.exhausted(epoch)) => Some(Ending::NoImprovement),
        _ => None,
    };
    if let Some(ending) = ending {
        end.set(epoch, ending);
    }
    ending
}

impl CheckpointingStrategy for SaveSchedule {
    fn checkpointing(&mut self, epoch: usize, store: &EventStoreClient) -> Vec<CheckpointingAction> {
        let ending = decide(epoch, store, self.tolerance, &self.patience, &self.end);
        let due = ending.is_some() || epoch.is_multiple_of(self.every) || epoch >= self.num_epochs;
        if matches!(ending, Some(Ending::Diverged | Ending::WriteFailed)) || !due {
            return Vec::new();
        }
        self.manifests.announce(epoch, ending == Some(Ending::Converged));
        self.saved.push(epoch);
        let mut actions = vec![CheckpointingAction::Save];
        while self.saved.len() > 2 {
            actions.push(CheckpointingAction::Delete(self.saved.remove(0)));
        }
        actions
    }
}

/// Stops the run at the epoch that ends it: decided by [`SaveSchedule`] when the run saves
/// checkpoints, or here (`decides` holds the tolerance) when it does not, as in a sweep.
#[derive(Clone)]
pub struct StopAtEnd {
    pub end: RunEnd,
    /// The tolerance and patience, when this strategy decides.
    pub decides: Option<(f64, Option<Patience>)>,
}

impl EarlyStoppingStrategy for StopAtEnd {
    fn should_stop(&mut self, epoch: usize, store: &EventStoreClient) -> bool {
        if let Some((tolerance, patience)) = &self.decides {
            decide(epoch, store, *tolerance, patience, &self.end);
        }
        self.end.get().is_some_and(|(ended, _)| ended == epoch)
    }
}
