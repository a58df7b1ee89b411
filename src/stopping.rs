//! When a run ends and which epochs are saved: Burn's checkpointing and early-stopping
//! strategies for gatenet. The checkpointing strategy, which Burn asks first at the end of every
//! epoch, decides whether the epoch ends the run (every output within tolerance, outputs gone
//! NaN, or Ctrl-C); the early-stopping strategy only reads that decision. So an epoch that ends
//! the run is saved first (unless it diverged), and the event store is asked once per epoch.

use crate::checkpoint::Manifests;
use crate::interrupt;
use crate::metrics::MAX_ERROR;
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
}

/// The epoch that ends the run early, once decided; shared by the two strategies.
#[derive(Clone, Default)]
pub struct RunEnd(Arc<Mutex<Option<(usize, Ending)>>>);

impl RunEnd {
    pub fn get(&self) -> Option<(usize, Ending)> {
        *self.0.lock().expect("run end lock")
    }

    fn set(&self, epoch: usize, ending: Ending) {
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
    /// Saved epochs, oldest first, including those found on disk when resuming.
    pub saved: Vec<usize>,
}

/// Whether `epoch` ends the run, recorded in `end`. It asks the store for the epoch's largest
/// validation error, NaN or infinite once the run diverged. Asking is also a barrier: the
/// question travels through the Learner's event-store thread behind the epoch's metrics, so once
/// it is answered the epoch's metrics.csv row is on disk, before any checkpoint of it is written.
fn decide(epoch: usize, store: &EventStoreClient, tolerance: f64, end: &RunEnd) -> Option<Ending> {
    let max_error = store.find_metric(MAX_ERROR, epoch, Aggregate::Mean, &Split::Valid);
    let diverged = max_error.is_some_and(|e| !e.is_finite());
    let converged = tolerance > 0.0 && max_error.is_some_and(|e| e <= tolerance);
    let ending = match (diverged, converged, interrupt::requested()) {
        (true, _, _) => Some(Ending::Diverged),
        (_, true, _) => Some(Ending::Converged),
        (_, _, true) => Some(Ending::Interrupted),
        _ => None,
    };
    if let Some(ending) = ending {
        end.set(epoch, ending);
    }
    ending
}

impl CheckpointingStrategy for SaveSchedule {
    fn checkpointing(&mut self, epoch: usize, store: &EventStoreClient) -> Vec<CheckpointingAction> {
        let ending = decide(epoch, store, self.tolerance, &self.end);
        let due = ending.is_some() || epoch.is_multiple_of(self.every) || epoch >= self.num_epochs;
        if ending == Some(Ending::Diverged) || !due {
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
    pub decides: Option<f64>,
}

impl EarlyStoppingStrategy for StopAtEnd {
    fn should_stop(&mut self, epoch: usize, store: &EventStoreClient) -> bool {
        if let Some(tolerance) = self.decides {
            decide(epoch, store, tolerance, &self.end);
        }
        self.end.get().is_some_and(|(ended, _)| ended == epoch)
    }
}
