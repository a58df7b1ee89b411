//! One training run, driven by Burn's Learner (the steps it calls are step.rs's): [`train`],
//! which reads top to bottom as the whole run.

use crate::config::Config;
use crate::data::dataset::Dataset;
use crate::data::table::{Table, XyLoader};
use crate::failure::Failure;
use crate::model::mlp::Mlp;
use crate::run::atomic::write_atomic;
use crate::run::checkpoint::SafeCheckpointer;
use crate::run::folder::{Part, RunDir};
use crate::run::metrics::{EpochRow, MetricsCsv, create_csv};
use crate::run::pictures;
use crate::run::report_html::{self, Live, Page};
use crate::run::resume::{self, Plan, Resumed, Saves, Start};
use crate::run::summary::{Fit, LISTED_ROWS, StoppedBy, Summary, Task};
use crate::training::best::{self, Best};
use crate::training::optim::{optimizer, schedule};
use crate::training::progress::{Progress, Silent, Style};
use crate::training::stopping::{Ending, Planned, SaveSchedule, StopRules};
use crate::training::strategy::{EpochLoop, LoopStart, Looped};
use burn::module::Module;
use burn::tensor::Device;
use burn::train::{Learner, SupervisedTraining, TrainingStrategy};
use std::io::Write as _;
use std::sync::Arc;
use std::time::Instant;

/// Where a run starts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StartFrom {
    /// A new run, from the config's initial weights.
    Scratch,
    /// The run in the folder, from its newest complete checkpoint (`--resume`).
    Newest,
    /// The run in the folder, from the checkpoint of this epoch (`--resume-from`).
    Epoch(usize),
}

impl StartFrom {
    /// The checkpoint's epoch, when one is named.
    fn epoch(self) -> Option<usize> {
        match self {
            StartFrom::Epoch(epoch) => Some(epoch),
            StartFrom::Scratch | StartFrom::Newest => None,
        }
    }
}

/// How a run starts, and how it is shown; everything else comes from the config.
pub struct RunOptions {
    pub from: StartFrom,
    /// No progress line.
    pub quiet: bool,
    /// Print warnings (a skipped checkpoint, a picture not drawn).
    pub warn: bool,
    /// Draw the pictures and report.html when the run ends. A halving sweep's trials do not:
    /// drawn at every rung, they were three quarters of a trial folder's bytes.
    pub pictures: bool,
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
    /// A resumed run had nothing left to do; the message says why (not an error: shown
    /// unless quiet).
    NothingToDo(String),
}

/// Trains the configured network into `run` (or continues the run there), and says how it ended.
pub fn train(
    config: &Config,
    data: &Dataset,
    run: &RunDir,
    options: &RunOptions,
) -> Result<Outcome, Failure> {
    let started = Instant::now();
    let device = config.backend.select(config.device).map_err(Failure::usage)?;
    if options.from != StartFrom::Scratch {
        resume::require_run(run)?;
    }
    let _lock = run.lock().map_err(Failure::usage)?;
    let warn = |message: &str| {
        if options.warn {
            let _ = writeln!(std::io::stderr(), "warning: {message}");
        }
    };

    let resumed = match starting(config, run, options.from, &warn)? {
        Ok(resumed) => resumed,
        Err(nothing) => return Ok(nothing),
    };
    let Resumed { start, config, stop_at, skipped } = resumed;
    skipped.iter().for_each(|w| warn(w));
    // A run that only lacks its final files trains no further than its checkpoint.
    let mut learning = config.clone();
    learning.training.num_epochs = stop_at.unwrap_or(config.training.num_epochs);
    let learned = learn(&learning, data, &device, start, Style::for_stderr(options.quiet), started)?;
    let Learned { model, rows, end, before, table, valid, best } = learned;
    let converged = matches!(end, Some((_, Ending::Converged)));
    let (model, best_epoch, restored) = best::chosen(model, best, converged, rows.last().map(|r| r.epoch));
    if config.training.restore_best && best_epoch.is_none() && !rows.is_empty() {
        warn("training.restore_best: no epoch had a finite validation loss; model.bpk has the last weights");
    }
    // Ctrl-C during the last epoch still lets the run finish: nothing is left to resume.
    if let Some((epoch, Ending::Interrupted)) = end
        && epoch < learning.training.num_epochs
    {
        let (total, cause) = (learning.training.num_epochs, crate::training::interrupt::cause());
        let why = format!("interrupted after epoch {epoch} of {total} ({cause}): continue it with --resume");
        if restored {
            save_model(&model, run)?;
        }
        page(run, &config, &rows, None, Some(&why)).unwrap_or_else(|message| warn(&message));
        return Ok(Outcome::Interrupted { epoch });
    }
    // A diverged run keeps its last finite checkpoint instead of writing NaN weights (its best
    // weights, with restore_best, are finite).
    let diverged = matches!(end, Some((_, Ending::Diverged)));
    if !diverged || restored {
        save_model(&model, run)?;
    }
    let after = outputs(&model, &table, LISTED_ROWS, &device)?;
    let elapsed = started.elapsed().as_secs_f64();
    let mut summary = Summary::new(&config, &table, before, after, &rows, stopped_by(end), elapsed);
    if summary.task == Task::Regression {
        summary.regression = Some(Fit::of(&outputs(&model, &valid, valid.rows(), &device)?, &valid.targets));
    }
    (summary.best_epoch, summary.restored_best) = (best_epoch, restored);
    summary.model_sha256 = std::fs::read(run.model())
        .ok()
        .filter(|_| !diverged || restored)
        .map(|b| crate::checksum::sha256(&b));
    summary.last_checkpoint = crate::run::checkpoint::find(run, None).ok().map(|found| found.manifest.epoch);
    if options.pictures {
        drawn(run, (&config, &model, &table), &rows, &summary)?;
    }
    // summary.json last: it marks the run finished, so a run killed while drawing is finished
    // by `--resume` (pictures and all) instead of looking done.
    write_atomic(&run.summary(), summary.to_json().as_bytes()).map_err(Failure::runtime)?;
    Ok(if diverged { Outcome::Diverged(summary) } else { Outcome::Finished(summary) })
}

/// The pictures and report.html of a finished run. One that cannot be written (a full disk)
/// fails the run as metrics.csv would: the weights are saved, summary.json is not, so
/// `--resume` draws them once there is room.
fn drawn(
    run: &RunDir,
    (config, model, table): (&Config, &Mlp, &Table),
    rows: &[EpochRow],
    summary: &Summary,
) -> Result<(), Failure> {
    pictures::draw(run, rows, summary.converged_epoch, config, model, table)
        .and_then(|()| page(run, config, rows, Some(summary), None))
        .map_err(|why| {
            Failure::runtime(format!(
                "{why}; the run is trained and model.bpk saved: make room, then finish it with --resume"
            ))
        })
}

/// Burn's checkpointers for a run in a folder, gatenet's own (atomic files, checksums, the
/// manifest last), saving when the epoch loop's schedule says; none for a run in memory.
fn checkpointed(
    training: SupervisedTraining<Mlp>,
    saves: Option<(Arc<crate::run::checkpoint::Manifests>, Vec<usize>)>,
    config: &Config,
) -> (SupervisedTraining<Mlp>, Option<(SaveSchedule, Planned)>) {
    let Some((manifests, saved)) = saves else { return (training, None) };
    let planned = Planned::default();
    let saver = |part| SafeCheckpointer::new(part, manifests.clone());
    let training = training
        .with_custom_checkpointers(saver(Part::Model), saver(Part::Optim), saver(Part::Scheduler))
        .with_checkpointing_strategy(planned.clone());
    let (every, num_epochs) = (config.training.checkpoint_every, config.training.num_epochs);
    (training, Some((SaveSchedule { every, num_epochs, manifests, saved }, planned)))
}

/// Where the run starts, or why there is nothing to do. A new run writes its config before
/// anything else, so that even a run that dies says what it was; a resumed one is checked
/// against the run folder and the checkpoint first.
fn starting(
    config: &Config,
    run: &RunDir,
    from: StartFrom,
    warn: &dyn Fn(&str),
) -> Result<Result<Resumed, Outcome>, Failure> {
    Ok(Ok(match from {
        StartFrom::Scratch => fresh(config, run)?,
        StartFrom::Newest | StartFrom::Epoch(_) => match resume::prepare(config, run, from.epoch())? {
            Plan::Continue(resumed) => *resumed,
            Plan::Done { message, skipped } => {
                skipped.iter().for_each(|w| warn(w));
                return Ok(Err(Outcome::NothingToDo(message)));
            }
        },
    }))
}

/// Writes the run's model.bpk.
fn save_model(model: &Mlp, run: &RunDir) -> Result<(), Failure> {
    let path = run.model();
    model
        .clone()
        .save_file(&path)
        .map_err(|e| Failure::runtime(format!("cannot write {}: {e}", path.display())))
}

/// report.html of a run that ended: finished, with its summary, or stopped, saying why.
fn page(
    run: &RunDir,
    config: &Config,
    rows: &[EpochRow],
    summary: Option<&Summary>,
    stopped: Option<&str>,
) -> Result<(), String> {
    report_html::write(&Page { run, config, rows, summary, stopped })
}

/// Why a run ended, in summary.json's words.
fn stopped_by(end: Option<(usize, Ending)>) -> StoppedBy {
    match end {
        Some((_, Ending::Converged)) => StoppedBy::Converged,
        Some((_, Ending::NoImprovement)) => StoppedBy::Patience,
        Some((_, Ending::Diverged)) => StoppedBy::Diverged,
        // Ctrl-C in the last epoch (which finished it), or a run that ran every epoch.
        _ => StoppedBy::NumEpochs,
    }
}

/// What one Learner run leaves.
pub struct Learned {
    /// The final weights, in inference mode.
    pub model: Mlp,
    /// Every epoch's metrics, from epoch 1.
    pub rows: Vec<EpochRow>,
    /// The epoch that ended the run early, and why.
    pub end: Option<(usize, Ending)>,
    /// Every row's output from the initial weights.
    pub before: Vec<f32>,
    pub table: Arc<Table>,
    /// The rows validated on (the training rows, for a truth table).
    pub valid: Arc<Table>,
    /// With `training.restore_best`, the weights of the epoch with the lowest validation loss.
    pub best: Option<Best>,
}

/// One run of Burn's Learner on `device`, from `start` to `num_epochs` or an early end,
/// through gatenet's epoch loop (`strategy.rs`).
pub fn learn(
    config: &Config,
    data: &Dataset,
    device: &Device,
    start: Start,
    style: Style,
    started: Instant,
) -> Result<Learned, Failure> {
    let (table, held_out) = data.split(config.seed);
    // Built on the autodiff device: weights made from data are tracked only if they start there.
    let autodiff = device.clone().autodiff();
    let model = Mlp::from_config(config, &autodiff);
    let before = outputs(&model.valid(), &table, LISTED_ROWS, device)?;
    // Unset only in a config not resolved yet: full batch, as the resolved one says.
    let batch_size = config.training.batch_size.unwrap_or(table.rows()).max(1);
    let steps_per_epoch = table.rows().div_ceil(batch_size);
    let first = start.epoch + 1;
    // Training batches on the autodiff device, validation off it, as Burn's own loop has them.
    let train_rows = XyLoader::new(table.clone(), batch_size, config.seed, true, first, &autodiff);
    // A truth table has no rows to hold out: the validation pass re-reads the training rows
    // after each epoch's updates, and that is what the tolerance is checked on. Synthetic data
    // holds out `valid_fraction` of its points.
    // Then, with one full batch an epoch, the validation pass is the next step's forward pass.
    let one_pass = held_out.is_none() && steps_per_epoch == 1;
    let valid_table = held_out.unwrap_or_else(|| table.clone());
    let valid_rows =
        XyLoader::new(valid_table.clone(), valid_table.rows(), config.seed, false, first, device);

    let num_epochs = config.training.num_epochs;
    let rules = StopRules { tolerance: config.training.tolerance, patience: config.training.patience };
    let (file, saves) = start
        .saves
        .map(|Saves { metrics, events, manifests, saved }| ((metrics, events), (manifests, saved)))
        .unzip();
    // Without saves nothing is written to the folder: no checkpointer, no application log.
    let folder = saves.as_ref().map_or_else(std::env::temp_dir, |(manifests, _)| manifests.folder());
    let run = saves.as_ref().map(|(manifests, _)| manifests.run().clone());
    let training = SupervisedTraining::new(folder, Arc::new(train_rows), Arc::new(valid_rows))
        .with_metric_logger(Silent)
        .with_application_logger(None)
        .renderer(Box::new(Silent))
        .num_epochs(num_epochs);
    let (mut training, saves) = checkpointed(training, saves, config);
    if start.epoch > 0 {
        training = training.checkpoint(start.epoch);
    }
    let live = run.as_ref().map(|run| Live::new(run.clone(), config, &start.rows));
    let best = best::at_start(config, (start.epoch, start.best_epoch, &start.rows), run.as_ref(), device)?;
    let epoch_loop = Arc::new(EpochLoop::new(LoopStart {
        restore_best: config.training.restore_best,
        best,
        live,
        rows: start.rows,
        metrics: MetricsCsv::new(file),
        saves,
        rules,
        progress: Progress::new(style, first, num_epochs),
        one_pass,
        layers: config.layers(),
        config_epoch: start.config_epoch,
        started,
    }));
    training = training.with_training_strategy(TrainingStrategy::Custom(epoch_loop.clone()));
    let lr = schedule(&config.optimizer, num_epochs, steps_per_epoch).map_err(Failure::usage)?;
    let result = training.launch(Learner::new(model, optimizer(&config.optimizer), lr));

    let looped = epoch_loop.take().expect("the epoch loop ran");
    failed(result.error.map(|e| e.to_string()), &looped, run.as_ref())?;
    let Looped { rows, end, best, .. } = looped;
    Ok(Learned { model: result.model, rows, end, before, table, valid: valid_table, best })
}

/// The error that stopped training, if one did: Burn's, the epoch loop's, or a write that
/// failed (with what is left to resume from).
fn failed(learner_error: Option<String>, looped: &Looped, run: Option<&RunDir>) -> Result<(), Failure> {
    if let Some(error) = learner_error {
        return Err(Failure::runtime(format!("training stopped with an error: {error}")));
    }
    if let Some(error) = &looped.error {
        return Err(Failure::runtime(format!("training stopped with an error: {error}")));
    }
    if let (Some(error), Some(run)) = (&looped.write_error, run) {
        let kept = crate::run::checkpoint::find(run, None).ok().map(|found| found.manifest.epoch);
        let resume = match kept {
            Some(epoch) => {
                format!("the checkpoint of epoch {epoch} is intact: make room, then continue with --resume")
            }
            None => "no checkpoint was saved before it".into(),
        };
        return Err(Failure::runtime(format!(
            "cannot write {} at {error}; the run stopped there, and {resume}",
            run.metrics().display()
        )));
    }
    Ok(())
}

/// Clears the run folder for a new run and writes its config and the metrics header.
fn fresh(config: &Config, run: &RunDir) -> Result<Resumed, Failure> {
    run.prepare_fresh().map_err(Failure::runtime)?;
    let config_toml = config.to_toml();
    write_atomic(&run.config(), config_toml.as_bytes()).map_err(Failure::runtime)?;
    if let Some(schema) = &config.data.schema {
        let json = serde_json::to_string_pretty(&**schema).expect("a schema serializes") + "\n";
        write_atomic(&run.data_schema(), json.as_bytes()).map_err(Failure::runtime)?;
    }
    let metrics = create_csv(&run.metrics(), config.layers()).map_err(Failure::runtime)?;
    let saves = Saves::open(run, (config, &config_toml), (metrics, &[]), Vec::new())?;
    let start = Start { saves: Some(saves), ..Start::in_memory() };
    Ok(Resumed { start, config: config.clone(), stop_at: None, skipped: Vec::new() })
}

/// Rows answered in one forward pass at the end of a run: as many as summary.json lists, so
/// that its rows take one pass, as before a regression's whole validation set was measured.
const ANSWER_BATCH: usize = LISTED_ROWS;

/// The network's answer for the first `rows` rows of `table`, row-major, [`ANSWER_BATCH`] rows
/// at a time, so that a large validation set is not held in one pass.
fn outputs(model: &Mlp, table: &Table, rows: usize, device: &Device) -> Result<Vec<f32>, Failure> {
    let rows = rows.min(table.rows());
    let mut all = Vec::with_capacity(rows * table.target_width);
    for start in (0..rows).step_by(ANSWER_BATCH) {
        let batch: Vec<usize> = (start..rows.min(start + ANSWER_BATCH)).collect();
        let data = model.forward(table.batch(&batch, device).inputs).into_data();
        let values = data
            .try_to_vec::<f32>()
            .map_err(|e| Failure::runtime(format!("cannot read the network's outputs: {e:?}")))?;
        all.extend(values);
    }
    Ok(all)
}
