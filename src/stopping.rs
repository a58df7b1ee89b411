//! When training stops and which epochs are kept: the tolerance rule as Burn early-stopping and
//! checkpointing strategies. Both ask the Learner's event store for the epoch's max error, so
//! they always agree on the epoch at which the run converged.

use crate::metrics::MAX_ERROR;
use burn::train::EarlyStoppingStrategy;
use burn::train::checkpoint::{CheckpointingAction, CheckpointingStrategy};
use burn::train::metric::store::{Aggregate, EventStoreClient, Split};

/// True when every validation output of `epoch` is within `tolerance` of its target.
fn converged(tolerance: f64, epoch: usize, store: &EventStoreClient) -> bool {
    tolerance > 0.0
        && store
            .find_metric(MAX_ERROR, epoch, Aggregate::Mean, &Split::Valid)
            .is_some_and(|max_error| max_error <= tolerance)
}

/// Stops the run at the first epoch whose outputs are all within tolerance.
#[derive(Clone)]
pub struct WithinTolerance {
    pub tolerance: f64,
}

impl EarlyStoppingStrategy for WithinTolerance {
    fn should_stop(&mut self, epoch: usize, store: &EventStoreClient) -> bool {
        converged(self.tolerance, epoch, store)
    }
}

/// Saves every `every` epochs, at the last epoch and at the converged epoch, and keeps the two
/// newest saves (the newest may be cut short by a crash; the one before is the fallback).
pub struct EveryEpochs {
    pub every: usize,
    pub num_epochs: usize,
    pub tolerance: f64,
    pub saved: Vec<usize>,
}

impl CheckpointingStrategy for EveryEpochs {
    fn checkpointing(
        &mut self,
        epoch: usize,
        store: &EventStoreClient,
    ) -> Vec<CheckpointingAction> {
        let due = epoch % self.every == 0
            || epoch >= self.num_epochs
            || converged(self.tolerance, epoch, store);
        if !due {
            return Vec::new();
        }
        self.saved.push(epoch);
        let mut actions = vec![CheckpointingAction::Save];
        if self.saved.len() > 2 {
            actions.push(CheckpointingAction::Delete(self.saved.remove(0)));
        }
        actions
    }
}
