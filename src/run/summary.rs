//! The outcome of a run: `summary.json`, and the report printed at the end (the truth table
//! with the outputs before and after training side by side).

use crate::config::{Config, OutputActivation};
use crate::data::table::Table;
use crate::run::diagnosis::{Finding, diagnose};
use crate::run::metrics::EpochRow;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt::Write;

/// summary.json. JSON has no NaN: a diverged run's NaN numbers are written as `null` and read
/// back as NaN.
#[derive(Debug, Serialize, Deserialize)]
pub struct Summary {
    pub name: String,
    pub backend: String,
    /// e.g. "2-6-1 tanh, sigmoid output".
    pub network: String,
    pub epochs_run: usize,
    #[serde(deserialize_with = "nan_if_null")]
    pub final_loss: f64,
    /// The share of validation outputs on the right side of 0.5 after the last epoch (the
    /// training rows again for a truth table).
    #[serde(deserialize_with = "nan_if_null")]
    pub valid_accuracy: f64,
    /// Largest |output - target| after the last epoch.
    #[serde(deserialize_with = "nan_if_null")]
    pub max_error: f64,
    pub tolerance: f64,
    pub converged: bool,
    /// The first epoch after which every output was within tolerance.
    pub converged_epoch: Option<usize>,
    /// The loss became NaN or infinite; model.bpk was not written.
    pub diverged: bool,
    /// Why the run ended (`None` in a summary written before gatenet recorded it).
    #[serde(default)]
    pub stopped_by: Option<StoppedBy>,
    /// `training.num_epochs` and `training.patience`, for the words of the outcome.
    #[serde(default)]
    pub num_epochs: usize,
    #[serde(default)]
    pub patience: Option<usize>,
    /// What the outputs are, and so which measures fit them.
    #[serde(default)]
    pub task: Task,
    /// A regression's fit on the validation rows, every one of them.
    #[serde(default)]
    pub regression: Option<Fit>,
    /// The newest complete checkpoint, the one `--resume` would continue from.
    pub last_checkpoint: Option<usize>,
    /// With `training.restore_best`: the epoch with the lowest validation loss, and whether
    /// model.bpk holds its weights rather than the last epoch's (a run that converged keeps
    /// its converged weights).
    #[serde(default)]
    pub best_epoch: Option<usize>,
    #[serde(default)]
    pub restored_best: bool,
    /// SHA-256 of model.bpk as written: `predict` refuses a file that no longer matches.
    #[serde(default)]
    pub model_sha256: Option<String>,
    pub wall_seconds: f64,
    /// Rows in the training data; `predictions` lists the first [`LISTED_ROWS`] of them.
    #[serde(default)]
    pub training_rows: usize,
    pub predictions: Vec<Prediction>,
    /// Why a run that did not converge did not: empty for a converged run.
    pub diagnosis: Vec<Finding>,
}

/// Why a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoppedBy {
    /// Every output came within `training.tolerance` of its target.
    Converged,
    /// The validation loss did not improve for `training.patience` epochs.
    Patience,
    /// It ran every epoch of `training.num_epochs`.
    NumEpochs,
    /// The loss became NaN or infinite.
    Diverged,
}

/// How well a regression fits: root mean squared and mean absolute error in the targets' own
/// units, and R² (1 is a perfect fit, 0 no better than always answering the mean), over every
/// output of every validation row.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    pub rmse: f64,
    pub mae: f64,
    pub r2: f64,
}

impl Fit {
    /// The fit of `outputs` to `targets` (both row-major, the same length).
    pub fn of(outputs: &[f32], targets: &[f32]) -> Fit {
        let n = targets.len().max(1) as f64;
        let pairs = || outputs.iter().zip(targets).map(|(&o, &t)| (o as f64, t as f64));
        let mean = targets.iter().map(|&t| t as f64).sum::<f64>() / n;
        let squared: f64 = pairs().map(|(o, t)| (o - t).powi(2)).sum();
        let spread: f64 = targets.iter().map(|&t| (t as f64 - mean).powi(2)).sum();
        Fit {
            rmse: (squared / n).sqrt(),
            mae: pairs().map(|(o, t)| (o - t).abs()).sum::<f64>() / n,
            r2: if spread > 0.0 { 1.0 - squared / spread } else { f64::NAN },
        }
    }
}

/// What a network's outputs are: the measures that fit them differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Outputs in (0, 1) against 0/1 targets (a truth table, synthetic classes): the largest
    /// error says whether every output is on target.
    #[default]
    Binary,
    /// Probabilities over classes (softmax): accuracy.
    Classes,
    /// Numbers in the targets' own units (identity output): the root mean squared error.
    Regression,
}

impl Task {
    /// The output activation decides: it is what makes the outputs a 0/1 answer, probabilities
    /// or numbers.
    pub fn of(config: &Config) -> Task {
        match config.model.output_activation {
            OutputActivation::Sigmoid => Task::Binary,
            OutputActivation::Softmax => Task::Classes,
            OutputActivation::Identity => Task::Regression,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Prediction {
    pub inputs: Vec<f32>,
    pub target: Vec<f32>,
    /// After training.
    #[serde(deserialize_with = "nans_if_null")]
    pub output: Vec<f32>,
    /// Before the first update, from the initial weights.
    pub initial_output: Vec<f32>,
}

/// The most training rows summary.json lists with their predictions: every row of a truth table
/// or a small CSV, and a sample of a large one (100,000 rows would make a 45 MB file).
pub const LISTED_ROWS: usize = 1000;

fn nan_if_null<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

fn nans_if_null<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
    Ok(Vec::<Option<f32>>::deserialize(d)?.into_iter().map(|v| v.unwrap_or(f32::NAN)).collect())
}

impl Summary {
    pub fn new(
        config: &Config,
        table: &Table,
        before: Vec<f32>,
        after: Vec<f32>,
        rows: &[EpochRow],
        stopped_by: StoppedBy,
        wall_seconds: f64,
    ) -> Summary {
        let tolerance = config.training.tolerance;
        let last = rows.last();
        let max_error = last.map_or(f64::NAN, |r| r.max_error);
        let converged_epoch = crate::run::metrics::converged_epoch(rows, tolerance);
        let width = table.target_width;
        let diverged = rows.iter().any(|r| !r.max_error.is_finite());
        // Without a tolerance there is no "converged" to miss; only a divergence is diagnosed.
        let diagnosed = converged_epoch.is_none() && (tolerance > 0.0 || diverged);
        let diagnosis = if diagnosed {
            diagnose(config, rows, &after, &table.targets[..after.len()], width)
        } else {
            Vec::new()
        };
        let predictions = (0..table.rows().min(LISTED_ROWS))
            .map(|row| Prediction {
                inputs: table.input_row(row).to_vec(),
                target: table.target_row(row).to_vec(),
                output: after[row * width..(row + 1) * width].to_vec(),
                initial_output: before[row * width..(row + 1) * width].to_vec(),
            })
            .collect();
        let mut widths = vec![table.input_width.to_string()];
        widths.extend(config.model.hidden_sizes.iter().map(|w| w.to_string()));
        widths.push(width.to_string());
        let model = &config.model;
        let network =
            format!("{} {}, {} output", widths.join("-"), model.activation, model.output_activation);
        Summary {
            name: config.name().to_string(),
            backend: config.backend.to_string(),
            network,
            epochs_run: last.map_or(0, |r| r.epoch),
            final_loss: last.map_or(f64::NAN, |r| r.valid_loss),
            valid_accuracy: last.map_or(f64::NAN, |r| r.valid_accuracy),
            max_error,
            tolerance,
            converged: converged_epoch.is_some(),
            converged_epoch,
            diverged,
            // The rows decide for a run that converged or diverged, however its last call ended
            // (a resume that only finished its files ran no epoch).
            stopped_by: Some(match (converged_epoch, diverged) {
                (Some(_), _) => StoppedBy::Converged,
                (None, true) => StoppedBy::Diverged,
                (None, false) => stopped_by,
            }),
            num_epochs: config.training.num_epochs,
            patience: config.training.patience,
            regression: None,
            task: Task::of(config),
            last_checkpoint: None,
            best_epoch: None,
            restored_best: false,
            model_sha256: None,
            wall_seconds,
            training_rows: table.rows(),
            predictions,
            diagnosis,
        }
    }

    /// A run folder's summary.json: `None` when the run has none (it has not finished).
    pub fn read(path: &std::path::Path) -> Result<Option<Summary>, String> {
        let Ok(text) = std::fs::read_to_string(path) else { return Ok(None) };
        serde_json::from_str(&text).map(Some).map_err(|e| format!("{} is damaged: {e}", path.display()))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a summary serializes") + "\n"
    }

    /// The measure that fits the task, after the last epoch: the largest error of 0/1
    /// outputs, the accuracy of classes, the RMSE of a regression (the square root of its
    /// validation MSE).
    pub fn measure(&self) -> String {
        match self.task {
            Task::Binary => format!("the largest error is {:.4}", self.max_error),
            Task::Classes => format!("validation accuracy {:.1}%", 100.0 * self.valid_accuracy),
            Task::Regression => match self.regression {
                Some(fit) => format!("validation RMSE {:.4}, MAE {:.4}, R² {:.4}", fit.rmse, fit.mae, fit.r2),
                None => format!("validation RMSE {:.4}", self.final_loss.sqrt()),
            },
        }
    }

    /// One line: converged, diverged or not, when, why it stopped, and how long it took.
    pub fn outcome(&self) -> String {
        match self.best_epoch.filter(|_| self.restored_best) {
            Some(epoch) => format!(
                "{}\nrestored the best weights: model.bpk holds epoch {epoch}'s, the lowest validation loss (training.restore_best)",
                self.ended()
            ),
            None => self.ended(),
        }
    }

    fn ended(&self) -> String {
        let ms = self.wall_seconds * 1000.0;
        if self.stopped_by == Some(StoppedBy::Patience) && self.converged_epoch.is_none() {
            return format!(
                "stopped early by training.patience: the validation loss had not improved for {} epochs, after {} of {} epochs; {} ({ms:.0} ms)",
                self.patience.unwrap_or_default(),
                self.epochs_run,
                self.num_epochs,
                self.measure()
            );
        }
        match self.converged_epoch {
            Some(epoch) => format!(
                "converged: every output within {} of its target from epoch {epoch} ({} epochs, {ms:.0} ms)",
                self.tolerance, self.epochs_run
            ),
            None if self.diverged => format!(
                "diverged: the loss became NaN or infinite at epoch {}; {}{} ({ms:.0} ms)",
                self.epochs_run,
                if self.restored_best { "" } else { "model.bpk was not written, and " },
                match self.last_checkpoint {
                    Some(epoch) => format!("the checkpoint of epoch {epoch}, the last finite one, is kept"),
                    None => "no checkpoint was saved before it".into(),
                }
            ),
            None if self.tolerance > 0.0 => format!(
                "not converged: after {} epochs the largest error is {:.4}, above the tolerance {}{} ({ms:.0} ms)",
                self.epochs_run,
                self.max_error,
                self.tolerance,
                match self.task {
                    Task::Binary => String::new(),
                    _ => format!("; {}", self.measure()),
                }
            ),
            None => format!(
                "trained all {} epochs (no tolerance set); {} ({ms:.0} ms)",
                self.epochs_run,
                self.measure()
            ),
        }
    }

    /// The end-of-run report: every row's inputs, target, and output before and after.
    pub fn report(&self, run_folder: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}: {} on {}", self.name, self.network, self.backend);
        let inputs = self.predictions.first().map_or(0, |p| p.inputs.len());
        let header: Vec<String> = (1..=inputs).map(|i| format!("in{i}")).collect();
        if self.predictions.len() <= 16 {
            let _ = writeln!(out, "  {} | target | before -> after", header.join(" "));
        }
        // A table of hundreds of points says less than its accuracy: long ones are summarised.
        if self.predictions.len() > 16 {
            let rows = self.training_rows.max(self.predictions.len());
            let listed = match self.predictions.len() {
                n if n < rows => format!("the first {n} listed in summary.json"),
                _ => "listed in summary.json".into(),
            };
            let _ = writeln!(out, "  ({rows} training rows, {listed})");
            if self.task != Task::Regression {
                let _ = writeln!(out, "validation accuracy {:.1}%", 100.0 * self.valid_accuracy);
            }
        }
        for p in self.predictions.iter().take_while(|_| self.predictions.len() <= 16) {
            let cells: Vec<String> = p.inputs.iter().map(|v| format!("{v:>3}")).collect();
            let fits = p.output.iter().zip(&p.target).all(|(o, t)| ((o - t).abs() as f64) <= self.tolerance);
            let mark = if self.tolerance > 0.0 && fits { "ok" } else { "" };
            let _ = writeln!(
                out,
                "  {} | {:>6} | {} -> {}  {mark}",
                cells.join(" "),
                join(&p.target, 0),
                join(&p.initial_output, 4),
                join(&p.output, 4)
            );
        }
        let _ = writeln!(out, "{}", self.outcome());
        if !self.diagnosis.is_empty() {
            let _ = writeln!(out, "diagnosis:");
            for f in &self.diagnosis {
                let _ = writeln!(
                    out,
                    "  {}: {}
    hint: {}",
                    f.code, f.message, f.hint
                );
            }
        }
        // What the folder holds, as listed now: data.json and boundary.png only for some runs.
        let files: Vec<String> = crate::run::folder::RunDir::at(std::path::Path::new(run_folder))
            .listing()
            .into_iter()
            .map(|name| if name == "checkpoint" { name + "/" } else { name })
            .collect();
        let _ = writeln!(out, "artifacts: {run_folder}/ ({})", files.join(", "));
        out
    }
}

/// Numbers separated by spaces, with `decimals` decimals.
pub fn join(values: &[f32], decimals: usize) -> String {
    values.iter().map(|v| format!("{v:.decimals$}")).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::Fit;

    #[test]
    fn a_perfect_fit_has_r2_one_and_answering_the_mean_has_r2_zero() {
        let targets = [1.0, 2.0, 3.0, 6.0];
        assert_eq!(Fit::of(&targets, &targets), Fit { rmse: 0.0, mae: 0.0, r2: 1.0 });
        let mean = Fit::of(&[3.0; 4], &targets);
        assert_eq!(mean.r2, 0.0);
        assert_eq!(mean.mae, 1.5);
        assert!((mean.rmse - 3.5f64.sqrt()).abs() < 1e-12);
    }
}
