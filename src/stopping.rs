//! When training stops and which epochs are kept: the tolerance rule as Burn early-stopping and
//! checkpointing strategies. Both share one [`ToleranceCheck`], so they agree on the epoch at
//! which the run converged and the Learner's event store is asked once per epoch, not twice.

use crate::metrics::MAX_ERROR;
use burn::train::EarlyStoppingStrategy;
use burn::train::checkpoint::{CheckpointingAction, CheckpointingStrategy};
use burn::train::metric::store::{Aggregate, EventStoreClient, Split};
use std::sync::{Arc, Mutex};

/// Whether every validation output of an epoch is within tolerance, remembered for the epoch.
#[derive(Clone)]
pub struct ToleranceCheck {
    tolerance: f64,
    /// The last epoch asked about and its answer.
    last: Arc<Mutex<Option<(usize, bool)>>>,
}

impl ToleranceCheck {
    pub fn new(tolerance: f64) -> ToleranceCheck {
        ToleranceCheck {
            tolerance,
            last: Arc::default(),
        }
    }

    fn converged(&self, epoch: usize, store: &EventStoreClient) -> bool {
        if self.tolerance <= 0.0 {
            return false;
        }
        let mut last = self.last.lock().expect("tolerance lock");
        if let Some((asked, answer)) = *last
            && asked == epoch
        {
            return answer;
        }
        let max_error = store.find_metric(MAX_ERROR, epoch, Aggregate::Mean, &Split::Valid);
        let answer = max_error.is_some_and(|e| e <= self.tolerance);
        *last = Some((epoch, answer));
        answer
    }
}

/// Stops the run at the first epoch whose outputs are all within tolerance.
#[derive(Clone)]
pub struct WithinTolerance(pub ToleranceCheck);

impl EarlyStoppingStrategy for WithinTolerance {
    fn should_stop(&mut self, epoch: usize, store: &EventStoreClient) -> bool {
        self.0.converged(epoch, store)
    }
}

/// Saves every `every` epochs, at the last epoch and at the converged epoch, and keeps the two
/// newest saves (the newest may be cut short by a crash; the one before is the fallback).
pub struct EveryEpochs {
    pub every: usize,
    pub num_epochs: usize,
    pub check: ToleranceCheck,
    pub saved: Vec<usize>,
}

impl CheckpointingStrategy for EveryEpochs {
    fn checkpointing(
        &mut self,
        epoch: usize,
        store: &EventStoreClient,
    ) -> Vec<CheckpointingAction> {
        // Burn asks this before the early-stopping strategy, so the check is made here first.
        let converged = self.check.converged(epoch, store);
        if !(converged || epoch.is_multiple_of(self.every) || epoch >= self.num_epochs) {
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
