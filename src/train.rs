//! One training run, driven by Burn's Learner: the network's train and inference steps, and
//! [`train`], which reads top to bottom as the whole run.

use crate::artifacts::{RunDir, write_atomic};
use crate::config::Config;
use crate::data::{Table, XyBatch, XyLoader};
use crate::metrics::{CsvMetricLogger, EpochRow, FitMetric, History, StepOutput};
use crate::model::Mlp;
use crate::optim::{optimizer, schedule};
use crate::renderer::{ProgressRenderer, Style};
use crate::stopping::{EveryEpochs, ToleranceCheck, WithinTolerance};
use crate::summary::Summary;
use burn::module::Module;
use burn::tensor::Device;
use burn::train::metric::{LearningRateMetric, LossMetric};
use burn::train::{InferenceStep, Learner, SupervisedTraining, TrainOutput, TrainStep};
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

impl TrainStep for Mlp {
    type Input = XyBatch;
    type Output = StepOutput;

    fn step(&self, batch: XyBatch) -> TrainOutput<StepOutput> {
        let output = InferenceStep::step(self, batch);
        TrainOutput::new(self, output.loss.backward(), output)
    }
}

impl InferenceStep for Mlp {
    type Input = XyBatch;
    type Output = StepOutput;

    fn step(&self, batch: XyBatch) -> StepOutput {
        let logits = self.logits(batch.inputs);
        let outputs = self.output.forward(logits.clone());
        let loss = self
            .loss
            .forward(logits, outputs.clone(), batch.targets.clone());
        StepOutput {
            loss,
            outputs,
            targets: batch.targets,
        }
    }
}

/// How the run is shown; everything else comes from the config.
pub struct RunOptions {
    pub quiet: bool,
}

/// Trains the configured network into `run`, and returns what happened.
pub fn train(config: &Config, run: &RunDir, options: &RunOptions) -> Result<Summary, String> {
    let started = Instant::now();
    let device = config.backend.device()?;
    crate::pin::pin_for(config.backend);
    let table = Arc::new(config.data.gate.expect("validated: a data source").table());
    // Built on the autodiff device: weights made from data are tracked only if they start there.
    let model = Mlp::new(
        table.input_width,
        table.target_width,
        &config.model,
        config.training.loss,
        config.seed,
        &device.clone().autodiff(),
    );
    let before = outputs(&model.valid(), &table, &device)?;

    // The resolved config goes to disk first, so that even a run that dies says what it was.
    run.prepare_fresh()?;
    write_atomic(&run.config(), config.to_toml().as_bytes())?;
    let metrics_file = metrics_csv(run)?;

    let batch_size = config.training.batch_size.expect("resolved: batch size");
    let steps_per_epoch = table.rows().div_ceil(batch_size);
    let train_rows = Arc::new(XyLoader::new(
        table.clone(),
        batch_size,
        config.seed,
        true,
        1,
        &device,
    ));
    // A truth table has no rows to hold out: the validation pass re-reads the training rows
    // after each epoch's updates, and that is what the tolerance is checked on.
    let valid_rows = Arc::new(XyLoader::new(
        table.clone(),
        table.rows(),
        config.seed,
        false,
        1,
        &device,
    ));
    let history = History::default();
    let (tolerance, num_epochs) = (config.training.tolerance, config.training.num_epochs);
    let check = ToleranceCheck::new(tolerance);
    let training = SupervisedTraining::new(run.path(), train_rows, valid_rows)
        .metrics((LossMetric::new(), FitMetric::accuracy()))
        .metric_valid_numeric(FitMetric::max_error())
        .metric_train_numeric(LearningRateMetric::new())
        .with_metric_logger(CsvMetricLogger::new(metrics_file, history.clone(), started))
        .with_application_logger(None)
        .renderer(Box::new(ProgressRenderer::new(
            Style::for_stderr(options.quiet),
            history.clone(),
        )))
        .with_default_checkpointers()
        .with_checkpointing_strategy(EveryEpochs {
            every: config.training.checkpoint_every,
            num_epochs,
            check: check.clone(),
            saved: Vec::new(),
        })
        .num_epochs(num_epochs);
    let training = if tolerance > 0.0 {
        training.early_stopping(WithinTolerance(check))
    } else {
        training
    };
    let learner = Learner::new(
        model,
        optimizer(&config.optimizer),
        schedule(&config.optimizer, num_epochs, steps_per_epoch)?,
    );
    let result = training.launch(learner);

    if let Some(error) = result.error {
        return Err(format!("training stopped with an error: {error}"));
    }
    let log = std::mem::take(&mut *history.lock().expect("history lock"));
    if let Some(error) = log.write_error {
        return Err(format!("cannot write {}: {error}", run.metrics().display()));
    }
    let model = result.model;
    model
        .clone()
        .save_file(run.model())
        .map_err(|e| format!("cannot write {}: {e}", run.model().display()))?;
    let after = outputs(&model, &table, &device)?;
    let summary = Summary::new(
        config,
        &table,
        before,
        after,
        &log.rows,
        started.elapsed().as_secs_f64(),
    );
    write_atomic(&run.summary(), summary.to_json().as_bytes())?;
    Ok(summary)
}

/// `metrics.csv`, created with its header.
fn metrics_csv(run: &RunDir) -> Result<std::fs::File, String> {
    let path = run.metrics();
    std::fs::File::create(&path)
        .and_then(|mut file| writeln!(file, "{}", EpochRow::HEADER).map(|_| file))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The network's answer for every row, row-major.
fn outputs(model: &Mlp, table: &Table, device: &Device) -> Result<Vec<f32>, String> {
    let all: Vec<usize> = (0..table.rows()).collect();
    let batch = table.batch(&all, device);
    let data = model.forward(batch.inputs).into_data();
    data.try_to_vec::<f32>()
        .map_err(|e| format!("cannot read the network's outputs: {e:?}"))
}
