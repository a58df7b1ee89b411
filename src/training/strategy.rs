//! gatenet's epoch loop, run inside Burn's Learner through its strategy extension point
//! (`SupervisedTraining::with_training_strategy(TrainingStrategy::Custom(..))`). The Learner
//! still owns the model, the optimizer and the schedule and does every step (`train_step`,
//! `lr_step`, `optimizer_step`); its checkpointer still saves. What the loop does itself, on the
//! training thread: each step's measures read once, the epoch's metrics.csv row written, the
//! progress line, and the stop and save decisions, made at the epoch itself from the rows in
//! memory. Burn's default loop hands every item to metric threads and back (about 160 µs of
//! every epoch and 35 µs of every step on this project's machine, BENCHMARKS.md).

use crate::model::mlp::Mlp;
use crate::run::metrics::{EpochRow, MetricsCsv};
use crate::run::report_html::Live;
use crate::training::best::Best;
use crate::training::measures::{EpochSums, Measured, StepOutput};
use crate::training::progress::Progress;
use crate::training::stopping::{Ending, Planned, SaveSchedule, StopRules};
use burn::module::Module;
use burn::train::metric::store::EventStoreClient;
use burn::train::{
    InferenceStep, Learner, LearningCheckpointer, SupervisedLearningStrategy,
    SupervisedTrainingEventProcessor, TrainLoader, TrainOutput, TrainingComponents, ValidLoader,
};
use std::sync::Mutex;
use std::time::Instant;

/// What the loop starts from; handed over once, when Burn calls `fit`.
pub struct LoopStart {
    /// Every epoch's row so far (a resumed run's from metrics.csv).
    pub rows: Vec<EpochRow>,
    pub metrics: MetricsCsv,
    /// The checkpoint schedule and the plan it hands Burn's checkpointer, or `None` for a run
    /// kept in memory.
    pub saves: Option<(SaveSchedule, Planned)>,
    pub rules: StopRules,
    pub progress: Progress,
    /// The validation rows are the training rows, in one full batch an epoch: the forward
    /// pass of an epoch's step is then the previous epoch's validation pass (see `fit`).
    pub one_pass: bool,
    /// Linear layers in the net, for the health columns.
    pub layers: usize,
    pub config_epoch: usize,
    /// When the process started training: the `elapsed_seconds` column counts from it.
    pub started: Instant,
    /// report.html while the run trains, for a run in a folder.
    pub live: Option<Live>,
    /// `training.restore_best`: keep the weights of the epoch with the lowest validation loss,
    /// starting from these (a resumed run's, from its checkpoint).
    pub restore_best: bool,
    pub best: Option<Best>,
}

/// What the loop leaves.
pub struct Looped {
    /// Every epoch's row, from epoch 1.
    pub rows: Vec<EpochRow>,
    /// The epoch that ended the run early, and why.
    pub end: Option<(usize, Ending)>,
    /// A failed metrics.csv write (`epoch N: why`), which ends the run at that epoch.
    pub write_error: Option<String>,
    /// A step whose measures could not be read.
    pub error: Option<String>,
    /// With `training.restore_best`, the best epoch's weights.
    pub best: Option<Best>,
}

pub struct EpochLoop {
    start: Mutex<Option<LoopStart>>,
    looped: Mutex<Option<Looped>>,
}

impl EpochLoop {
    pub fn new(start: LoopStart) -> EpochLoop {
        EpochLoop { start: Mutex::new(Some(start)), looped: Mutex::new(None) }
    }

    /// What the loop left, once Burn's `launch` has returned.
    pub fn take(&self) -> Option<Looped> {
        self.looped.lock().expect("loop lock").take()
    }
}

/// A training step and its measures; the unit states only with `units` (when its forward pass
/// is also a validation pass).
fn measure_step(
    step: TrainOutput<StepOutput>,
    units: bool,
) -> Result<(TrainOutput<StepOutput>, Measured), String> {
    let measured = step.item.measure(units)?;
    Ok((step, measured))
}

/// A training step kept from one epoch to the next (see `LoopStart::one_pass`), and its measures.
type KeptStep = Option<(TrainOutput<StepOutput>, Measured)>;

/// One epoch: every training batch stepped by the Learner, then the validation rows measured
/// on the weights after the epoch's updates. With `one_pass`, the step after the update is
/// that validation pass, and it is kept in `next_step` as the next epoch's step: the numbers
/// of a separate validation pass, bit for bit, for one forward pass less.
fn run_epoch(
    learner: &mut Learner<Mlp>,
    train: &TrainLoader<Mlp>,
    valid: &ValidLoader<Mlp>,
    one_pass: bool,
    next_step: &mut KeptStep,
) -> Result<EpochSums, String> {
    let mut sums = EpochSums::default();
    for batch in train.iter() {
        let batch = batch.map_err(|e| e.to_string())?;
        let (step, measured) = match next_step.take() {
            Some(step) => step,
            None => measure_step(learner.train_step(batch.clone()), one_pass)?,
        };
        learner.lr_step();
        sums.add_train(&measured, learner.lr_current().base());
        learner.optimizer_step(step.grads);
        if one_pass {
            let step = measure_step(learner.train_step(batch), true)?;
            sums.add_valid(&step.1);
            *next_step = Some(step);
        }
    }
    if !one_pass {
        // The weights after the epoch's updates, off the autodiff graph.
        let model = learner.model().valid();
        for batch in valid.iter() {
            let step = InferenceStep::step(&model, batch.map_err(|e| e.to_string())?);
            sums.add_valid(&step.measure(true)?);
        }
    }
    Ok(sums)
}

/// Saves the checkpoint of `epoch` if the schedule says so: the best weights so far first
/// (gatenet's own part, which the manifest waits for as for Burn's three), then Burn's.
fn save(
    (schedule, planned): &mut (SaveSchedule, Planned),
    (checkpointer, learner, store): (&mut LearningCheckpointer<Mlp>, &Learner<Mlp>, &EventStoreClient),
    epoch: usize,
    (ending, best): (Option<Ending>, Option<&Best>),
) -> Result<(), String> {
    let actions = schedule.plan(epoch, ending, best.map(|b| b.epoch));
    if !actions.is_empty() {
        best.map_or(Ok(()), |b| b.save(&schedule.manifests, epoch))?;
        planned.set(actions);
        checkpointer.checkpoint(learner, epoch, store);
    }
    Ok(())
}

impl SupervisedLearningStrategy<Mlp> for EpochLoop {
    fn fit(
        &self,
        components: TrainingComponents<Mlp>,
        mut learner: Learner<Mlp>,
        train: TrainLoader<Mlp>,
        valid: ValidLoader<Mlp>,
        first_epoch: usize,
    ) -> (Mlp, SupervisedTrainingEventProcessor<Mlp>) {
        let start = self.start.lock().expect("loop lock").take().expect("fit is called once");
        let LoopStart {
            mut rows,
            mut metrics,
            mut saves,
            rules,
            mut progress,
            one_pass,
            layers,
            config_epoch,
            started,
            mut live,
            restore_best,
            mut best,
        } = start;
        let mut checkpointer = components.checkpointer;
        let (mut end, mut write_error, mut error) = (None, None, None);
        let mut next_step: KeptStep = None;

        for epoch in first_epoch..=components.num_epochs {
            let sums = match run_epoch(&mut learner, &train, &valid, one_pass, &mut next_step) {
                Ok(sums) => sums,
                Err(why) => {
                    error = Some(format!("epoch {epoch}: {why}"));
                    break;
                }
            };
            let row = sums.row(epoch, layers, config_epoch, started.elapsed().as_secs_f64());
            if restore_best {
                Best::keep(&mut best, &row, || learner.model().valid());
            }
            let written = metrics.append(&row);
            progress.epoch(&row);
            if let Some(live) = &mut live {
                live.epoch(&row);
            }
            rows.push(row);
            let ending = match written {
                Err(why) => {
                    write_error = Some(format!("epoch {epoch}: {why}"));
                    Some(Ending::WriteFailed)
                }
                Ok(()) => rules.decide(&rows),
            };
            // The row is on its way to the disk before any checkpoint of its epoch: the
            // manifest that makes a checkpoint count syncs metrics.csv first.
            if let (Some(saves), Some(checkpointer)) = (&mut saves, &mut checkpointer) {
                let plan = (ending, best.as_ref());
                if let Err(why) = save(saves, (checkpointer, &learner, &components.event_store), epoch, plan)
                {
                    (write_error, end) =
                        (Some(format!("epoch {epoch}: {why}")), Some((epoch, Ending::WriteFailed)));
                    break;
                }
            }
            if let Some(ending) = ending {
                end = Some((epoch, ending));
                break;
            }
            // A save that failed on a checkpointer thread stops the run; `launch` reports it.
            if components.interrupter.should_stop() {
                break;
            }
        }
        progress.end();
        *self.looped.lock().expect("loop lock") = Some(Looped { rows, end, write_error, error, best });
        // Dropping the checkpointer waits for its threads: every save is on disk when
        // `launch` returns.
        drop(checkpointer);
        (learner.model(), components.event_processor)
    }
}
