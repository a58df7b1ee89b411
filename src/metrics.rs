//! What is measured each epoch and where it goes: the step output the metrics read, gatenet's
//! two metrics of fit (accuracy and max error), and the metric logger that turns Burn's metric
//! events into one `metrics.csv` row per epoch (instead of Burn's two folders and several files
//! per epoch) and answers the Learner's queries for early stopping from memory.

use crate::health::{self, HealthInput, LAYER_HEALTH, LayerHealth};
use crate::stopping::{Ending, RunEnd};
use burn::tensor::{ExecutionError, Tensor, TensorReadError};
use burn::train::ItemLazy;
use burn::train::logger::MetricLogger;
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{
    Adaptor, LossInput, Metric, MetricAttributes, MetricDefinition, MetricId, MetricMetadata, MetricName,
    Numeric, NumericAttributes, NumericEntry, SerializedEntry,
};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Burn's names for the metrics gatenet registers; the loss and learning-rate metrics are Burn's.
pub const LOSS: &str = "Loss";
pub const LEARNING_RATE: &str = "Learning Rate";
pub const ACCURACY: &str = "Accuracy";
pub const MAX_ERROR: &str = "Max Error";

/// What one training or validation step hands to the metrics.
pub struct StepOutput {
    /// `[1]`: the batch loss.
    pub loss: Tensor<1>,
    /// `[rows, width]`: the network's answers, after the output activation.
    pub outputs: Tensor<2>,
    pub targets: Tensor<2>,
    /// The step's layer-health measures (see `health.rs`): gradient and weight norms when
    /// training, saturated and dead units when validating.
    pub health: Option<Tensor<1>>,
}

impl ItemLazy for StepOutput {
    fn sync(self) -> Result<Self, ExecutionError> {
        // As Burn's RegressionOutput: flush the device, and drop the autodiff graph so that the
        // metric thread neither keeps it alive nor pays for it.
        self.loss.device().flush()?;
        Ok(StepOutput {
            loss: self.loss.without_autodiff(),
            outputs: self.outputs.without_autodiff(),
            targets: self.targets.without_autodiff(),
            health: self.health.map(|h| h.without_autodiff()),
        })
    }
}

impl Adaptor<HealthInput> for StepOutput {
    fn adapt(&self) -> HealthInput {
        HealthInput { values: self.health.clone() }
    }
}

impl Adaptor<LossInput> for StepOutput {
    fn adapt(&self) -> LossInput {
        LossInput::new(self.loss.clone())
    }
}

/// Outputs and targets, for the measures of fit.
pub struct FitInput {
    outputs: Tensor<2>,
    targets: Tensor<2>,
    loss: Tensor<1>,
}

impl Adaptor<FitInput> for StepOutput {
    fn adapt(&self) -> FitInput {
        FitInput { outputs: self.outputs.clone(), targets: self.targets.clone(), loss: self.loss.clone() }
    }
}

/// How an epoch's per-batch values combine into the epoch's value.
#[derive(Clone, Copy)]
enum Combine {
    /// Mean weighted by the number of outputs in each batch.
    Mean,
    Max,
}

/// A measure of fit computed on the device and read back as one number per batch.
#[derive(Clone)]
pub struct FitMetric {
    name: MetricName,
    combine: Combine,
    higher_is_better: bool,
    measure: fn(&FitInput) -> Tensor<1>,
    /// (sum or max, outputs counted) over the epoch so far; `last` is the latest batch.
    epoch: (f64, usize),
    last: (f64, usize),
}

impl FitMetric {
    /// The share of outputs on the same side of 0.5 as their target: the accuracy of a 0/1
    /// table, for any number of output columns (Burn's AccuracyMetric takes an argmax over
    /// columns, which is always right for a single column). With `classes` (softmax outputs
    /// over one-hot targets), the share of rows whose most probable class is the right one.
    pub fn accuracy(classes: bool) -> FitMetric {
        let measure = if classes {
            |f: &FitInput| f.outputs.clone().argmax(1).equal(f.targets.clone().argmax(1)).float().mean()
        } else {
            |f: &FitInput| {
                f.outputs.clone().greater_elem(0.5).equal(f.targets.clone().greater_elem(0.5)).float().mean()
            }
        };
        FitMetric::new(ACCURACY, Combine::Mean, true, measure)
    }

    /// The largest distance between an output and its target: every output is within tolerance
    /// exactly when this is. NaN as soon as the loss is not finite (`+ 0 x loss`), so that a
    /// diverging run is caught even before its outputs overflow: `stopping.rs` watches this.
    pub fn max_error() -> FitMetric {
        let measure = |f: &FitInput| {
            (f.outputs.clone() - f.targets.clone()).abs().max() + f.loss.clone().mul_scalar(0.0)
        };
        FitMetric::new(MAX_ERROR, Combine::Max, false, measure)
    }

    fn new(
        name: &str,
        combine: Combine,
        higher_is_better: bool,
        measure: fn(&FitInput) -> Tensor<1>,
    ) -> Self {
        FitMetric {
            name: Arc::new(name.into()),
            combine,
            higher_is_better,
            measure,
            epoch: (0.0, 0),
            last: (f64::NAN, 0),
        }
    }

    fn epoch_value(&self) -> f64 {
        match self.combine {
            Combine::Mean => self.epoch.0 / self.epoch.1 as f64,
            Combine::Max => self.epoch.0,
        }
    }

    fn entry(&self, value: f64) -> SerializedEntry {
        SerializedEntry::new(format!("{value:.4}"), value.to_string())
    }
}

impl Metric for FitMetric {
    type Input = FitInput;

    fn name(&self) -> MetricName {
        self.name.clone()
    }

    fn update(
        &mut self,
        item: &FitInput,
        _metadata: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        let count = item.outputs.shape().num_elements();
        let value = (self.measure)(item).try_into_scalar::<f64>()?;
        self.epoch = match self.combine {
            Combine::Mean => (self.epoch.0 + value * count as f64, self.epoch.1 + count),
            // NaN wins, so a diverged batch is never hidden behind a finite one.
            Combine::Max if self.epoch.1 == 0 || value.is_nan() || value > self.epoch.0 => {
                (value, self.epoch.1 + count)
            }
            Combine::Max => (self.epoch.0, self.epoch.1 + count),
        };
        self.last = (value, count);
        Ok(self.entry(value))
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        Ok(self.entry(self.epoch_value()))
    }

    fn clear(&mut self) {
        self.epoch = (0.0, 0);
        self.last = (f64::NAN, 0);
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes { unit: None, higher_is_better: self.higher_is_better }.into()
    }
}

impl Numeric for FitMetric {
    fn value(&self) -> Option<NumericEntry> {
        Some(NumericEntry::Aggregated { aggregated_value: self.last.0, count: self.last.1 })
    }

    fn running_value(&self) -> Option<NumericEntry> {
        Some(NumericEntry::Aggregated { aggregated_value: self.epoch_value(), count: self.epoch.1 })
    }

    fn final_value(&self) -> NumericEntry {
        NumericEntry::Final(self.epoch_value())
    }
}

/// One row of `metrics.csv`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EpochRow {
    pub epoch: usize,
    /// Mean loss of the epoch's training batches, each measured before its update.
    pub train_loss: f64,
    pub train_accuracy: f64,
    /// Mean learning rate over the epoch's steps.
    pub learning_rate: f64,
    /// Loss on the validation rows after the epoch's updates.
    pub valid_loss: f64,
    pub valid_accuracy: f64,
    /// Largest |output - target| on the validation rows after the epoch's updates.
    pub max_error: f64,
    /// The layer-health columns, in the order of `health::columns`.
    pub health: Vec<f64>,
    /// The first epoch trained under the optimizer settings in effect: 1, or the epoch after a
    /// resume that changed how epochs train (config.toml's header lists every change).
    pub config_epoch: usize,
    /// Seconds since this process started training: the only column that differs between
    /// identical runs.
    pub elapsed_seconds: f64,
}

impl EpochRow {
    /// The header of metrics.csv for a net with `layers` Linear layers.
    pub fn header(layers: usize) -> String {
        let mut columns: Vec<String> =
            "epoch,train_loss,train_accuracy,learning_rate,valid_loss,valid_accuracy,max_error"
                .split(',')
                .map(String::from)
                .collect();
        columns.extend(health::columns(layers));
        columns.extend(["config_epoch".to_string(), "elapsed_seconds".to_string()]);
        columns.join(",")
    }

    fn csv(&self) -> String {
        let fixed = [
            self.train_loss,
            self.train_accuracy,
            self.learning_rate,
            self.valid_loss,
            self.valid_accuracy,
            self.max_error,
        ];
        let values: Vec<String> = fixed.iter().chain(&self.health).map(|v| v.to_string()).collect();
        format!("{},{},{},{:.6}", self.epoch, values.join(","), self.config_epoch, self.elapsed_seconds)
    }

    /// Reads back a line written by [`EpochRow::csv`].
    fn parse(line: &str) -> Option<EpochRow> {
        let cells: Vec<&str> = line.split(',').collect();
        let (&elapsed, rest) = cells.split_last()?;
        let (&config_epoch, rest) = rest.split_last()?;
        let (&epoch, rest) = rest.split_first()?;
        let values: Vec<f64> = rest.iter().map(|c| c.parse::<f64>().ok()).collect::<Option<_>>()?;
        let [train_loss, train_accuracy, learning_rate, valid_loss, valid_accuracy, max_error] =
            *values.get(..6)?
        else {
            return None;
        };
        Some(EpochRow {
            epoch: epoch.parse().ok()?,
            train_loss,
            train_accuracy,
            learning_rate,
            valid_loss,
            valid_accuracy,
            max_error,
            health: values[6..].to_vec(),
            config_epoch: config_epoch.parse().ok()?,
            elapsed_seconds: elapsed.parse().ok()?,
        })
    }

    fn set(&mut self, split: &Split, name: &str, value: f64) {
        let slot = match (split, name) {
            (Split::Train, LOSS) => &mut self.train_loss,
            (Split::Train, ACCURACY) => &mut self.train_accuracy,
            (Split::Train, LEARNING_RATE) => &mut self.learning_rate,
            (Split::Valid, LOSS) => &mut self.valid_loss,
            (Split::Valid, ACCURACY) => &mut self.valid_accuracy,
            (Split::Valid, MAX_ERROR) => &mut self.max_error,
            _ => return,
        };
        *slot = value;
    }
}

/// The epochs run so far, shared between the logger (which fills it on Burn's metric thread)
/// and whoever reports on the run.
pub type History = Arc<Mutex<RunLog>>;

#[derive(Debug, Default)]
pub struct RunLog {
    pub rows: Vec<EpochRow>,
    /// The first failed write to `metrics.csv`: Burn's metric thread cannot report it, so it
    /// ends the run at that epoch and `train` reports it.
    pub write_error: Option<String>,
}

/// Burn's metric logger for gatenet: one CSV row per epoch, written as soon as the epoch's
/// validation ends, and the epoch values kept in memory for the Learner's queries.
pub struct CsvMetricLogger {
    /// metrics.csv, or nothing for a run kept in memory (a sweep's).
    file: Option<std::io::BufWriter<std::fs::File>>,
    names: HashMap<MetricId, MetricName>,
    row: EpochRow,
    history: History,
    /// Epoch values, for `read_numeric` (early stopping and checkpoint decisions).
    finals: HashMap<(String, usize, &'static str), f64>,
    started: Instant,
    config_epoch: usize,
    /// Linear layers in the net: where the training and validation health values go.
    layers: usize,
    /// Told when a row cannot be written, so that the run stops at that epoch.
    end: RunEnd,
}

impl CsvMetricLogger {
    /// Appends to an open `metrics.csv` that holds its header and every earlier epoch's row,
    /// for a net with `layers` Linear layers.
    pub fn new(
        file: Option<std::fs::File>,
        history: History,
        started: Instant,
        config_epoch: usize,
        layers: usize,
        end: RunEnd,
    ) -> Self {
        CsvMetricLogger {
            file: file.map(std::io::BufWriter::new),
            names: HashMap::new(),
            row: EpochRow::default(),
            history,
            finals: HashMap::new(),
            started,
            config_epoch,
            layers,
            end,
        }
    }
}

/// Opens `metrics.csv` for a new run of a net with `layers` Linear layers: the file is created
/// with only its header.
pub fn create_csv(path: &Path, layers: usize) -> Result<std::fs::File, String> {
    std::fs::File::create(path)
        .and_then(|mut file| writeln!(file, "{}", EpochRow::header(layers)).map(|_| file))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// `metrics.csv` cut back to its rows for epochs 1 to `epoch`, the state of the checkpoint a run
/// resumes from: rows of later epochs (run after that checkpoint) and a partial last line are
/// dropped; a missing row is an error, never a gap. Nothing is written until [`CutCsv::write`].
pub struct CutCsv {
    text: String,
    pub rows: Vec<EpochRow>,
}

impl CutCsv {
    pub fn read(path: &Path, epoch: usize, layers: usize) -> Result<CutCsv, String> {
        let shown = path.display();
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        let mut lines = text.lines();
        let header = EpochRow::header(layers);
        if lines.next() != Some(header.as_str()) {
            return Err(format!("{shown}: the first line is not gatenet's header `{header}`"));
        }
        let mut kept = header + "\n";
        let mut rows = Vec::new();
        for (i, line) in lines.take(epoch).enumerate() {
            match EpochRow::parse(line) {
                Some(row) if row.epoch == i + 1 => rows.push(row),
                _ => {
                    return Err(format!(
                        "{shown}:{}: expected the row of epoch {}, found {line:?}",
                        i + 2,
                        i + 1
                    ));
                }
            }
            kept.push_str(line);
            kept.push('\n');
        }
        if rows.len() < epoch {
            return Err(format!(
                "{shown} has rows for epochs 1 to {}, but the checkpoint is at epoch {epoch}",
                rows.len()
            ));
        }
        Ok(CutCsv { text: kept, rows })
    }

    /// Replaces the file with the cut rows, atomically, and opens it for appending.
    pub fn write(&self, path: &Path) -> Result<std::fs::File, String> {
        crate::artifacts::write_atomic(path, self.text.as_bytes())?;
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot append to {}: {e}", path.display()))
    }
}

fn split_name(split: &Split) -> &'static str {
    split.clone().into()
}

impl MetricLogger for CsvMetricLogger {
    fn log(&mut self, update: MetricsUpdate, epoch: usize, split: &Split) {
        for entry in update.entries {
            // The layer-health metric's last entry of a split is its epoch mean.
            if self.names.get(&entry.metric_id).is_some_and(|n| n.as_str() == LAYER_HEALTH) {
                let values = LayerHealth::parse(&entry.serialized_entry.serialized);
                let norms = 2 * self.layers;
                self.row.health.resize(health::columns(self.layers).len(), f64::NAN);
                let slots = if *split == Split::Train { 0..norms } else { norms..self.row.health.len() };
                self.row.health[slots].iter_mut().zip(values).for_each(|(slot, v)| *slot = v);
            }
        }
        for numeric in update.entries_numeric {
            // Per-batch entries are skipped: only the epoch's final values make a row.
            let Some(NumericEntry::Final(value)) = numeric.numeric_entry else {
                continue;
            };
            let Some(name) = self.names.get(&numeric.entry.metric_id) else {
                continue;
            };
            self.finals.insert((name.to_string(), epoch, split_name(split)), value);
            self.row.set(split, name, value);
        }
    }

    fn read_numeric(&mut self, name: &str, epoch: usize, split: &Split) -> Result<Vec<NumericEntry>, String> {
        let key = (name.to_string(), epoch, split_name(split));
        Ok(self.finals.get(&key).map(|v| vec![NumericEntry::Final(*v)]).unwrap_or_default())
    }

    fn log_metric_definition(&mut self, definition: MetricDefinition) {
        self.names.insert(definition.metric_id, definition.name);
    }

    fn log_epoch_summary(&mut self, summary: EpochSummary) {
        // Validation ends every epoch, after training: the row is complete.
        if summary.split != Split::Valid {
            return;
        }
        // Only the epoch just ended is ever asked for again: older values would only grow.
        let ended = summary.epoch_number;
        self.finals.retain(|(_, epoch, _), _| *epoch >= ended);
        let mut row = std::mem::take(&mut self.row);
        row.epoch = summary.epoch_number;
        row.config_epoch = self.config_epoch;
        row.health.resize(health::columns(self.layers).len(), f64::NAN);
        row.elapsed_seconds = self.started.elapsed().as_secs_f64();
        let written = match &mut self.file {
            Some(file) => writeln!(file, "{}", row.csv()).and_then(|_| file.flush()),
            None => Ok(()),
        };
        let mut log = self.history.lock().expect("history lock");
        if let (Err(e), None) = (written, &log.write_error) {
            log.write_error = Some(format!("epoch {}: {e}", row.epoch));
            self.end.set(row.epoch, Ending::WriteFailed);
        }
        log.rows.push(row);
    }
}
