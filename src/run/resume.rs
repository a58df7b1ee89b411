//! Getting a run folder ready to continue: the config checked against the run's own, the
//! checkpoint to continue from found and verified, newer leftovers removed, and metrics.csv cut
//! back to that checkpoint's epoch. Nothing is changed on disk until every check has passed.

use crate::config::Config;
use crate::failure::Failure;
use crate::model::mlp::Mlp;
use crate::run::atomic::write_atomic;
use crate::run::changes::{Changes, changes};
use crate::run::checkpoint::{self, Manifests};
use crate::run::folder::Part;
use crate::run::folder::RunDir;
use crate::run::metrics::{CutCsv, EpochRow, open_events};
use crate::run::tensorboard::Events;
use burn::module::Module;
use std::sync::Arc;

/// Where a run's training starts: after `epoch` (0 for a new run), with the metrics rows so
/// far. The one shape of a run's state from the folder to the Learner; what comes back is
/// `training::train::Learned`.
pub struct Start {
    /// The checkpoint's epoch: training goes on from the next one.
    pub epoch: usize,
    pub rows: Vec<EpochRow>,
    /// The `config_epoch` of the rows this run adds: the first epoch trained under the current
    /// optimizer settings.
    pub config_epoch: usize,
    /// The run folder's metrics.csv and checkpoints, or `None` for a run kept in memory (a
    /// sweep's).
    pub saves: Option<Saves>,
    /// With `training.restore_best`, the best epoch up to `epoch`, whose weights are the
    /// checkpoint's `best` part.
    pub best_epoch: Option<usize>,
}

impl Start {
    /// A run kept in memory, from its initial weights.
    pub fn in_memory() -> Start {
        Start { epoch: 0, rows: Vec::new(), config_epoch: 1, saves: None, best_epoch: None }
    }
}

/// Where a run in a folder writes as it trains.
pub struct Saves {
    /// metrics.csv and the TensorBoard events, cut back to the start's rows and open for
    /// appending.
    pub metrics: std::fs::File,
    pub events: Events,
    pub manifests: Arc<Manifests>,
    /// Complete checkpoints so far, oldest first, for the save schedule's retention.
    pub saved: Vec<usize>,
}

impl Saves {
    /// The saves of the run in `run` under `config` (written as `config_toml`), continuing
    /// after `rows` with metrics.csv open at their end and checkpoints `saved`: the TensorBoard
    /// events are cut back to the same rows.
    pub fn open(
        run: &RunDir,
        (config, config_toml): (&Config, &str),
        (metrics, rows): (std::fs::File, &[EpochRow]),
        saved: Vec<usize>,
    ) -> Result<Saves, Failure> {
        let manifests = Manifests::new(run.clone(), config_toml, config.seed, config.training.tolerance);
        let events =
            open_events(&run.tensorboard_events(), config.layers(), rows).map_err(Failure::runtime)?;
        Ok(Saves { metrics, events, manifests, saved })
    }
}

/// A run in its folder, ready to train: a new one, or one continuing after its checkpoint.
pub struct Resumed {
    pub start: Start,
    /// The config to continue with: the one given, except `model.init`, which is the run's
    /// own (after epoch 0 the weights come from the checkpoint; the initial outputs in
    /// summary.json still come from the original init).
    pub config: Config,
    /// Train no further than this epoch: set when a finished run only lacks its final files.
    pub stop_at: Option<usize>,
    /// Damaged or incomplete checkpoints passed over to reach `epoch`, each in a sentence.
    pub skipped: Vec<String>,
}

pub enum Plan {
    Continue(Box<Resumed>),
    /// Nothing left to train; the message says why and what to change.
    Done {
        message: String,
        skipped: Vec<String>,
    },
}

/// Refuses a resume into a folder where no run was trained: checked before the folder is locked
/// (locking creates it), so that a failed resume leaves no empty folder behind.
pub fn require_run(run: &RunDir) -> Result<(), Failure> {
    if run.config().is_file() {
        return Ok(());
    }
    Err(Failure::usage(format!(
        "nothing to resume in {}/: no run was trained there (it has no config.toml); train it first without --resume",
        run.path().display()
    )))
}

/// Checks that `config` may continue the run in `run` (see [`require_run`]) and prepares it.
/// Warnings (checkpoints skipped as damaged) are printed to stderr.
pub fn prepare(config: &Config, run: &RunDir, from: Option<usize>) -> Result<Plan, Failure> {
    let folder = run.path().display();
    // Against the run folder's config.toml first, naming every difference; then against the
    // config the checkpoint was trained under, kept in its manifest, which is the record a
    // resume must match: the folder's config.toml is a file anyone can edit.
    let stored = Config::load_stored(&run.config())
        .map_err(|e| Failure::usage(format!("cannot resume: the run's own config cannot be read: {e}")))?;
    let mut config = config.clone();
    config.model.init = stored.model.init;
    refuse_fixed(&folder, &changes(&stored, &config), "the run's config.toml")?;
    same_csv(&config, run)?;
    let found = checkpoint::find(run, from).map_err(Failure::usage)?;
    let epoch = found.manifest.epoch;
    fits(run, &config, &found.manifest).map_err(|why| {
        Failure::usage(format!("cannot resume from the checkpoint of epoch {epoch}: {why}"))
    })?;
    let (saved, saved_toml) = trained_under(run, &found.manifest)
        .map_err(|e| Failure::usage(format!("cannot resume: the run's own config cannot be read: {e}")))?;
    let changes = changes(&saved, &config);
    let against = format!(
        "the config the checkpoint of epoch {epoch} was trained under (the run's config.toml was edited since)"
    );
    refuse_fixed(&folder, &changes, &against)?;
    // Damaged run data, like a damaged checkpoint: a usage error, nothing was trained.
    let cut = CutCsv::read(&run.metrics(), epoch, config.layers()).map_err(Failure::usage)?;

    // A run whose last checkpoint ends it needs no more epochs; if it stopped before writing
    // model.bpk and summary.json (killed, or Ctrl-C in its last epoch), resuming finishes it.
    let finished = run.model().is_file() && run.summary().is_file();
    let done = nothing_left(epoch, &config, &found.manifest);
    if let (Some(message), true) = (&done, finished) {
        return Ok(Plan::Done { message: format!("{folder}/ {message}"), skipped: found.skipped });
    }

    // Every check passed: from here on the folder is changed. The outputs of an earlier end
    // go, so that nothing in the folder describes a run that is being continued.
    run.remove_stray_tmp().map_err(Failure::runtime)?;
    for newer in run.checkpoint_epochs().into_iter().filter(|&e| e > epoch) {
        run.remove_checkpoint(newer).map_err(Failure::runtime)?;
    }
    run.remove_outputs().map_err(Failure::runtime)?;
    let metrics = cut.write(&run.metrics()).map_err(Failure::runtime)?;
    let last_config_epoch = cut.rows.last().map_or(1, |r| r.config_epoch);
    let config_epoch = if changes.retrains { epoch + 1 } else { last_config_epoch };
    let config_toml = with_history(&saved_toml, &config, epoch, &changes.taken);
    write_atomic(&run.config(), config_toml.as_bytes()).map_err(Failure::runtime)?;
    let mut saved: Vec<usize> = run.checkpoint_epochs().into_iter().filter(|&e| e <= epoch).collect();
    saved.reverse();
    // Finishing trains no epoch: the run ends where its checkpoint is.
    let stop_at = done.map(|_| epoch);
    let saves = Saves::open(run, (&config, &config_toml), (metrics, &cut.rows), saved)?;
    let best_epoch = found.manifest.best_epoch;
    let start = Start { epoch, rows: cut.rows, config_epoch, saves: Some(saves), best_epoch };
    Ok(Plan::Continue(Box::new(Resumed { start, config, stop_at, skipped: found.skipped })))
}

/// Refuses a CSV file whose bytes are not those the run trained on.
fn same_csv(config: &Config, run: &RunDir) -> Result<(), Failure> {
    let folder = run.path().display();
    if let Some(schema) = &config.data.schema {
        let stored = crate::config::csv_schema::Schema::read(&run.data_schema())
            .map_err(|e| Failure::usage(format!("cannot resume {folder}/: {e}")))?;
        if stored.sha256 != schema.sha256 {
            return Err(Failure::usage(format!(
                "cannot resume {folder}/: the CSV file {} is not the one the run trained on (its SHA-256 was {}, now {}); put the original back, or train a new run under another `name`",
                config.data.csv.as_deref().unwrap_or_default(),
                stored.sha256.get(..12).unwrap_or_default(),
                &schema.sha256[..12]
            )));
        }
    }
    Ok(())
}

/// Why the run needs no more epochs, if it does not: it ran them all, or it converged.
fn nothing_left(epoch: usize, config: &Config, manifest: &checkpoint::Manifest) -> Option<String> {
    let training = &config.training;
    if epoch >= training.num_epochs {
        Some(format!(
            "already ran {epoch} epochs, and training.num_epochs is {}: nothing to do; raise num_epochs to train further",
            training.num_epochs
        ))
    } else if manifest.converged && training.tolerance >= manifest.tolerance {
        Some(format!(
            "converged at epoch {epoch} (every output within {}): nothing to do; lower training.tolerance to train further",
            manifest.tolerance
        ))
    } else {
        None
    }
}

/// Refuses changes to the settings that define the model, the data or the optimizer's state,
/// listing each against `what` they differ from.
fn refuse_fixed(folder: &impl std::fmt::Display, changes: &Changes, what: &str) -> Result<(), Failure> {
    if changes.refused.is_empty() {
        return Ok(());
    }
    Err(Failure::usage(format!(
        "cannot resume {folder}/: these settings define the model, the data or the optimizer's state, and differ from {what}:\n  {}\nput them back, or train a new run under another `name`",
        changes.refused.join("\n  ")
    )))
}

/// The config the checkpoint was trained under: the text its manifest keeps (checked against
/// the manifest's checksum), or, for a manifest written before gatenet kept it, the run
/// folder's config.toml; with its text, whose header lists the resumes before that checkpoint.
fn trained_under(run: &RunDir, manifest: &checkpoint::Manifest) -> Result<(Config, String), String> {
    let text = match &manifest.config_toml {
        Some(text) if crate::checksum::sha256(text.as_bytes()) == manifest.config_sha256 => text.clone(),
        Some(_) => {
            return Err(format!(
                "the config kept in the manifest of epoch {} no longer matches its SHA-256",
                manifest.epoch
            ));
        }
        None => {
            std::fs::read_to_string(run.config()).map_err(|e| format!("{}: {e}", run.config().display()))?
        }
    };
    let config = Config::from_stored_text(&run.config(), &text).map_err(|e| e.to_string())?;
    Ok((config, text))
}

/// Whether the checkpoint belongs to this config's network and data order: its model record
/// must load into the network the config describes (Burn would panic on a mismatch), and its
/// seed must be the config's.
fn fits(run: &RunDir, config: &Config, manifest: &checkpoint::Manifest) -> Result<(), String> {
    if manifest.seed != config.seed {
        return Err(format!(
            "it was written with seed {}, and the config has seed {}",
            manifest.seed, config.seed
        ));
    }
    #[allow(deprecated)] // a CPU device only to try the record on
    let device = burn::tensor::Device::ndarray();
    let model = Mlp::from_config(config, &device);
    let path = run.checkpoint_file(Part::Model, manifest.epoch);
    let record = burn::store::ModuleRecord::load(&path)
        .map_err(|e| format!("cannot read {}: {}", path.display(), checkpoint::record_error(&e)))?;
    model.try_load_record(record).map(|_| ()).map_err(|e| {
        format!("its weights do not fit the network of this config: {}", checkpoint::record_error(&e))
    })
}

/// The new config.toml: the header of the checkpoint's (a comment line per earlier change), a line
/// for this resume's changes if any, then the resolved config.
fn with_history(old: &str, config: &Config, epoch: usize, taken: &[String]) -> String {
    let mut text: String = old.lines().take_while(|l| l.starts_with('#')).map(|l| format!("{l}\n")).collect();
    if !taken.is_empty() {
        text.push_str(&format!(
            "# resumed after epoch {epoch}, from epoch {}: {}\n",
            epoch + 1,
            taken.join("; ")
        ));
    }
    text + &config.to_toml()
}
