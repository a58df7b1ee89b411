//! One training run, driven by Burn's Learner: the network's train and inference steps, and
//! [`train`], which reads top to bottom as the whole run.

use crate::artifacts::{Part, RunDir, write_atomic};
use crate::checkpoint::{Manifests, SafeCheckpointer};
use crate::config::Config;
use crate::data::{Table, XyBatch, XyLoader};
use crate::failure::Failure;
use crate::health::{self, LayerHealth};
use crate::metrics::{CsvMetricLogger, FitMetric, History, StepOutput, create_csv};
use crate::model::Mlp;
use crate::optim::{optimizer, schedule};
use crate::pictures;
use crate::renderer::{ProgressRenderer, Style};
use crate::resume::{self, Plan, Resumed};
use crate::stopping::{Ending, RunEnd, SaveSchedule, StopAtEnd};
use crate::summary::Summary;
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};
use burn::train::metric::{LearningRateMetric, LossMetric};
use burn::train::{InferenceStep, Learner, SupervisedTraining, TrainOutput, TrainStep};
use std::sync::Arc;
use std::time::Instant;

impl TrainStep for Mlp {
    type Input = XyBatch;
    type Output = StepOutput;

    fn step(&self, batch: XyBatch) -> TrainOutput<StepOutput> {
        let (mut output, _) = self.evaluate(batch);
        let mut grads = GradientsParams::from_grads(output.loss.backward(), self);
        // A frozen layer's gradient is dropped: the optimizer then leaves its weights alone.
        for layer in self.frozen.iter().filter_map(|&number| self.layers.get(number - 1)) {
            grads.remove::<2>(layer.weight.id);
            if let Some(bias) = &layer.bias {
                grads.remove::<1>(bias.id);
            }
        }
        output.health = Some(health::norms(self, &grads));
        TrainOutput { grads, item: output }
    }
}

impl InferenceStep for Mlp {
    type Input = XyBatch;
    type Output = StepOutput;

    fn step(&self, batch: XyBatch) -> StepOutput {
        let (mut output, hidden) = self.evaluate(batch);
        output.health = health::unit_states(self.activation, &hidden);
        output
    }
}

impl Mlp {
    /// Loss and outputs of a batch, and the hidden layers' activations.
    fn evaluate(&self, batch: XyBatch) -> (StepOutput, Vec<Tensor<2>>) {
        let (logits, hidden) = self.traced(batch.inputs);
        let outputs = self.output.forward(logits.clone());
        let loss = self.loss.forward(logits, outputs.clone(), batch.targets.clone());
        (StepOutput { loss, outputs, targets: batch.targets, health: None }, hidden)
    }
}

/// How a run starts, and how it is shown; everything else comes from the config.
pub struct RunOptions {
    /// `None` for a new run; `Some(None)` continues from the newest complete checkpoint,
    /// `Some(Some(epoch))` from that epoch's.
    pub resume: Option<Option<usize>>,
    pub quiet: bool,
}

/// How a run ended.
pub enum Outcome {
    Finished(Summary),
    /// The outputs became NaN or infinite; the summary says when and why.
    Diverged(Summary),
    /// Ctrl-C: the epoch was finished and checkpointed.
    Interrupted {
        epoch: usize,
    },
    /// A resumed run had nothing left to do; the message says why.
    NothingToDo(String),
}

/// Trains the configured network into `run` (or continues the run there), and says how it ended.
pub fn train(config: &Config, run: &RunDir, options: &RunOptions) -> Result<Outcome, Failure> {
    let started = Instant::now();
    let device = config.backend.select(config.device).map_err(Failure::usage)?;
    crate::pin::pin_for(config.backend);

    // A new run writes its config before anything else, so that even a run that dies says
    // what it was; a resumed one is checked against the run folder and the checkpoint first.
    let resumed = match options.resume {
        None => fresh(config, run)?,
        Some(from) => match resume::prepare(config, run, from)? {
            Plan::Continue(resumed) => *resumed,
            Plan::Done(message) => return Ok(Outcome::NothingToDo(message)),
        },
    };
    let Resumed { epoch: start, metrics, rows, config_epoch, saved, config, config_toml } = resumed;

    let table = Arc::new(config.data.gate.expect("validated: a data source").table());
    // Built on the autodiff device: weights made from data are tracked only if they start there.
    let autodiff = device.clone().autodiff();
    let model = Mlp::new(
        table.input_width,
        table.target_width,
        &config.model,
        config.training.loss,
        config.seed,
        &autodiff,
    );
    let before = outputs(&model.valid(), &table, &device)?;
    let batch_size = config.training.batch_size.expect("resolved: batch size");
    let steps_per_epoch = table.rows().div_ceil(batch_size);
    let train_rows = XyLoader::new(table.clone(), batch_size, config.seed, true, start + 1, &device);
    // A truth table has no rows to hold out: the validation pass re-reads the training rows
    // after each epoch's updates, and that is what the tolerance is checked on.
    let valid_rows = XyLoader::new(table.clone(), table.rows(), config.seed, false, start + 1, &device);

    let (tolerance, num_epochs) = (config.training.tolerance, config.training.num_epochs);
    let history = History::default();
    history.lock().expect("history lock").rows = rows;
    let end = RunEnd::default();
    let manifests = Manifests::new(run.clone(), &config_toml, config.seed, tolerance);
    let saver = |part| SafeCheckpointer::new(part, manifests.clone());
    let schedule_of_saves = SaveSchedule {
        every: config.training.checkpoint_every,
        num_epochs,
        tolerance,
        end: end.clone(),
        manifests: manifests.clone(),
        saved,
    };
    let mut training = SupervisedTraining::new(run.path(), Arc::new(train_rows), Arc::new(valid_rows))
        .metrics((LossMetric::new(), FitMetric::accuracy()))
        .metric_valid_numeric(FitMetric::max_error())
        .metric_train_numeric(LearningRateMetric::new())
        .metric_train(LayerHealth::default())
        .metric_valid(LayerHealth::default())
        .with_metric_logger(CsvMetricLogger::new(
            metrics,
            history.clone(),
            started,
            config_epoch,
            config.layers(),
        ))
        .with_application_logger(None)
        .renderer(Box::new(ProgressRenderer::new(Style::for_stderr(options.quiet), history.clone())))
        .with_custom_checkpointers(saver(Part::Model), saver(Part::Optim), saver(Part::Scheduler))
        .with_checkpointing_strategy(schedule_of_saves)
        .early_stopping(StopAtEnd(end.clone()))
        .num_epochs(num_epochs);
    if start > 0 {
        training = training.checkpoint(start);
    }
    let lr = schedule(&config.optimizer, num_epochs, steps_per_epoch).map_err(Failure::usage)?;
    let result = training.launch(Learner::new(model, optimizer(&config.optimizer), lr));

    if let Some(error) = result.error {
        return Err(Failure::runtime(format!("training stopped with an error: {error}")));
    }
    let log = std::mem::take(&mut *history.lock().expect("history lock"));
    if let Some(error) = log.write_error {
        return Err(Failure::runtime(format!("cannot write {}: {error}", run.metrics().display())));
    }
    if let Some((epoch, Ending::Interrupted)) = end.get() {
        return Ok(Outcome::Interrupted { epoch });
    }
    // A diverged run keeps its last finite checkpoint instead of writing NaN weights.
    let diverged = matches!(end.get(), Some((_, Ending::Diverged)));
    let model = result.model;
    if !diverged {
        let model_path = run.model();
        let saved = model.clone().save_file(&model_path);
        saved.map_err(|e| Failure::runtime(format!("cannot write {}: {e}", model_path.display())))?;
    }
    let after = outputs(&model, &table, &device)?;
    let mut summary =
        Summary::new(&config, &table, before, after, &log.rows, started.elapsed().as_secs_f64());
    summary.last_checkpoint = run.checkpoint_epochs().first().copied();
    write_atomic(&run.summary(), summary.to_json().as_bytes()).map_err(Failure::runtime)?;
    // A picture that cannot be drawn does not undo a finished run: it is reported, not fatal.
    if let Err(message) =
        pictures::draw(run, &log.rows, summary.converged_epoch, config.layers(), &model, &table)
    {
        eprintln!("warning: {message}");
    }
    Ok(if diverged { Outcome::Diverged(summary) } else { Outcome::Finished(summary) })
}

/// Clears the run folder for a new run and writes its config and the metrics header.
fn fresh(config: &Config, run: &RunDir) -> Result<Resumed, Failure> {
    run.prepare_fresh().map_err(Failure::runtime)?;
    let config_toml = config.to_toml();
    write_atomic(&run.config(), config_toml.as_bytes()).map_err(Failure::runtime)?;
    let metrics = create_csv(&run.metrics(), config.layers()).map_err(Failure::runtime)?;
    Ok(Resumed {
        epoch: 0,
        metrics,
        rows: Vec::new(),
        config_epoch: 1,
        saved: Vec::new(),
        config: config.clone(),
        config_toml,
    })
}

/// The network's answer for every row, row-major.
fn outputs(model: &Mlp, table: &Table, device: &Device) -> Result<Vec<f32>, Failure> {
    let all: Vec<usize> = (0..table.rows()).collect();
    let batch = table.batch(&all, device);
    let data = model.forward(batch.inputs).into_data();
    data.try_to_vec::<f32>()
        .map_err(|e| Failure::runtime(format!("cannot read the network's outputs: {e:?}")))
}
