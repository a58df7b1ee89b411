//! What each step measures, and how an epoch's steps add up to its metrics.csv row.
//!
//! The sums combine batches as the Burn metrics of earlier versions did (`LossMetric`,
//! `LearningRateMetric`, gatenet's accuracy, largest-error and layer-health metrics), so
//! metrics.csv means what it always meant (accuracy and norms are now counted in float64, where
//! the device's float32 means rounded at the 8th digit):
//! - loss: the mean of the batch losses (each batch counts once);
//! - accuracy: weighted by the outputs in each batch;
//! - learning rate: the mean over the epoch's steps;
//! - largest error: the largest over the batches, NaN as soon as any batch's is;
//! - layer health: the mean over the batches, column by column.

use crate::config::Activation;
use crate::model::health;
use crate::run::metrics::EpochRow;
use burn::tensor::{ExecutionError, Tensor};
use burn::train::ItemLazy;

/// What one training or validation step hands to the epoch loop: its tensors, off the autodiff
/// graph, for [`StepOutput::measure`] to read. Reading a few small tensors and measuring them on
/// the host costs a fraction of the tensor ops and the concatenation that would measure them on
/// the device (callgrind: about 25,000 instructions for one `cat` of ten scalars).
pub struct StepOutput {
    /// `[1]`: the batch loss.
    pub loss: Tensor<1>,
    /// `[rows, width]`: the network's answers, after the output activation.
    pub outputs: Tensor<2>,
    pub targets: Tensor<2>,
    /// Each hidden layer's activations, `[rows, width]`.
    pub hidden: Vec<Tensor<2>>,
    /// A training step's Linear layers: each weight gradient (`None` for a frozen layer, whose
    /// gradient is dropped) and each weight matrix, before the update. Empty for validation.
    pub layers: Vec<(Option<Tensor<2>>, Tensor<2>)>,
    /// Softmax outputs over one-hot classes, whose accuracy is that of the most probable class.
    pub classes: bool,
    pub activation: Activation,
}

impl ItemLazy for StepOutput {
    fn sync(self) -> Result<Self, ExecutionError> {
        self.loss.device().flush()?;
        Ok(self)
    }
}

/// A step's measures, on the host.
pub struct Measured {
    pub loss: f64,
    pub accuracy: f64,
    /// Rows x output width of the batch: the weight of its accuracy.
    pub outputs: usize,
    /// The largest |output - target|; NaN as soon as the loss is not finite, so that a
    /// diverging run is caught even before its outputs overflow (`stopping.rs` watches it).
    pub max_error: f64,
    /// `[grad_norm_1, weight_norm_1, ...]` of a training step (empty for validation).
    pub norms: Vec<f64>,
    /// `[saturated_1, dead_1, ...]` of the hidden layers, when asked for.
    pub units: Vec<f64>,
}

impl StepOutput {
    /// Reads the step's tensors and measures them; the hidden layers' unit states only with
    /// `units` (a validation pass).
    pub fn measure(&self, units: bool) -> Result<Measured, String> {
        let loss = f64::from(read(&self.loss)?.first().copied().unwrap_or(f32::NAN));
        let (outputs, targets) = (read(&self.outputs)?, read(&self.targets)?);
        let width = self.outputs.dims()[1].max(1);
        let (accuracy, max_error) = fit(&outputs, &targets, width, self.classes);
        let mut norms = Vec::with_capacity(2 * self.layers.len());
        for (grad, weight) in &self.layers {
            norms.push(grad.as_ref().map_or(Ok(0.0), |g| read(g).map(|v| health::l2_norm(&v)))?);
            norms.push(health::l2_norm(&read(weight)?));
        }
        let mut states = Vec::new();
        if units {
            for layer in &self.hidden {
                states.extend(health::unit_states(self.activation, &read(layer)?, layer.dims()[1].max(1)));
            }
        }
        Ok(Measured {
            loss,
            accuracy,
            outputs: outputs.len(),
            max_error: if loss.is_finite() { max_error } else { f64::NAN },
            norms,
            units: states,
        })
    }
}

/// Tensors at least this large are copied on the device before they are read (see [`read`]).
const COPY_BEFORE_READ: usize = 64;

fn read<const D: usize>(tensor: &Tensor<D>) -> Result<Vec<f32>, String> {
    // burn-ndarray 0.22.1 hands over a tensor's buffer only when nothing else holds it; a
    // shared one (the weights, still the model's) is read element by element through a
    // dynamic-shape iterator, about 37 ns an element (perf: 14% of a 16-64-64-1 epoch). A copy
    // made on the device (x 1, exact) is a buffer of its own, handed over as it is.
    let tensor = match tensor.shape().num_elements() {
        n if n >= COPY_BEFORE_READ => tensor.clone().mul_scalar(1.0),
        _ => tensor.clone(),
    };
    let data = tensor.try_into_data().map_err(|e| format!("cannot read a step's values: {e}"))?;
    // Float64 data (as `gatenet gradcheck` uses) is converted; float32 copied as it is.
    Ok(data.as_slice::<f32>().map(<[f32]>::to_vec).unwrap_or_else(|_| data.iter::<f32>().collect()))
}

/// Accuracy and the largest error of `outputs` against `targets`, `width` columns a row.
/// Accuracy is the share of outputs on the same side of 0.5 as their target (a 0/1 table, any
/// number of columns) or, with `classes`, the share of rows whose most probable class is the
/// right one. A NaN output makes the largest error NaN.
fn fit(outputs: &[f32], targets: &[f32], width: usize, classes: bool) -> (f64, f64) {
    let max_error = outputs
        .iter()
        .zip(targets)
        .map(|(&o, &t)| (o - t).abs())
        .fold(0.0f32, |max, e| if max.is_nan() || e.is_nan() { f32::NAN } else { max.max(e) });
    let right = if classes {
        let argmax = |row: &[f32]| {
            row.iter().enumerate().fold(0, |best, (i, &v)| if v > row[best] { i } else { best })
        };
        let rows = outputs.chunks(width).zip(targets.chunks(width));
        rows.filter(|(o, t)| argmax(o) == argmax(t)).count() as f64 / (outputs.len() / width).max(1) as f64
    } else {
        let same_side = outputs.iter().zip(targets).filter(|&(&o, &t)| (o > 0.5) == (t > 0.5)).count();
        same_side as f64 / outputs.len().max(1) as f64
    };
    (right, f64::from(max_error))
}

/// One split's batches so far in an epoch.
#[derive(Default)]
pub struct SplitSums {
    batches: usize,
    loss: f64,
    /// (sum of accuracy x outputs, outputs)
    accuracy: (f64, usize),
    max_error: Option<f64>,
    health: Vec<f64>,
}

impl SplitSums {
    /// Adds a batch's measures; its health columns are `health` (the norms of a training step,
    /// the unit states of a validation one).
    fn add(&mut self, step: &Measured, health: &[f64]) {
        self.batches += 1;
        self.loss += step.loss;
        self.accuracy =
            (self.accuracy.0 + step.accuracy * step.outputs as f64, self.accuracy.1 + step.outputs);
        let value = step.max_error;
        // NaN wins, so a diverged batch is never hidden behind a finite one.
        self.max_error = Some(match self.max_error {
            Some(max) if max.is_nan() || !(value.is_nan() || value > max) => max,
            _ => value,
        });
        self.health.resize(health.len(), 0.0);
        self.health.iter_mut().zip(health).for_each(|(sum, v)| *sum += v);
    }

    fn mean_loss(&self) -> f64 {
        self.loss / self.batches as f64
    }

    fn mean_accuracy(&self) -> f64 {
        self.accuracy.0 / self.accuracy.1 as f64
    }

    fn mean_health(&self) -> impl Iterator<Item = f64> + '_ {
        self.health.iter().map(|s| s / self.batches.max(1) as f64)
    }
}

/// One epoch's batches, training and validation.
#[derive(Default)]
pub struct EpochSums {
    train: SplitSums,
    learning_rate: f64,
    valid: SplitSums,
}

impl EpochSums {
    /// A training step's measures, and the learning rate it was updated with.
    pub fn add_train(&mut self, step: &Measured, learning_rate: f64) {
        self.train.add(step, &step.norms);
        self.learning_rate += learning_rate;
    }

    /// A validation step's measures: the weights after the epoch's updates, on the
    /// validation rows.
    pub fn add_valid(&mut self, step: &Measured) {
        self.valid.add(step, &step.units);
    }

    /// The epoch's metrics.csv row, for a net of `layers` Linear layers; `config_epoch` and
    /// `elapsed_seconds` are the caller's.
    pub fn row(&self, epoch: usize, layers: usize, config_epoch: usize, elapsed_seconds: f64) -> EpochRow {
        let columns = health::columns(layers).len();
        let norms = 2 * layers;
        let mut health = vec![f64::NAN; columns];
        health[..norms].iter_mut().zip(self.train.mean_health()).for_each(|(slot, v)| *slot = v);
        health[norms..].iter_mut().zip(self.valid.mean_health()).for_each(|(slot, v)| *slot = v);
        EpochRow {
            epoch,
            train_loss: self.train.mean_loss(),
            train_accuracy: self.train.mean_accuracy(),
            learning_rate: self.learning_rate / self.train.batches as f64,
            valid_loss: self.valid.mean_loss(),
            valid_accuracy: self.valid.mean_accuracy(),
            max_error: self.valid.max_error.unwrap_or(f64::NAN),
            health,
            config_epoch,
            elapsed_seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(loss: f64, accuracy: f64, outputs: usize, max_error: f64, health: &[f64]) -> Measured {
        Measured { loss, accuracy, outputs, max_error, norms: health.to_vec(), units: health.to_vec() }
    }

    #[test]
    fn an_epoch_row_averages_losses_per_batch_and_accuracy_per_output() {
        let mut sums = EpochSums::default();
        // One layer: grad_norm_1, weight_norm_1; no hidden layer, so no unit columns.
        sums.add_train(&step(0.4, 1.0, 3, 0.0, &[2.0, 10.0]), 0.1);
        sums.add_train(&step(0.2, 0.0, 1, 0.0, &[4.0, 20.0]), 0.3);
        sums.add_valid(&step(0.5, 0.5, 4, 0.25, &[]));
        let row = sums.row(7, 1, 1, 0.5);
        assert!((row.train_loss - 0.3).abs() < 1e-12, "mean of 0.4 and 0.2: {}", row.train_loss);
        assert_eq!(row.train_accuracy, 0.75, "3 of 4 outputs right");
        assert!((row.learning_rate - 0.2).abs() < 1e-12);
        assert_eq!((row.valid_loss, row.valid_accuracy, row.max_error), (0.5, 0.5, 0.25));
        assert_eq!(row.health, [3.0, 15.0]);
        assert_eq!(row.epoch, 7);
    }

    #[test]
    fn a_nan_largest_error_is_never_hidden_by_a_finite_one() {
        let mut sums = EpochSums::default();
        sums.add_train(&step(0.1, 1.0, 1, 0.0, &[0.0, 0.0]), 0.1);
        for error in [0.5, f64::NAN, 0.9] {
            sums.add_valid(&step(0.1, 1.0, 1, error, &[]));
        }
        assert!(sums.row(1, 1, 1, 0.0).max_error.is_nan());
    }

    #[test]
    fn accuracy_counts_outputs_on_the_targets_side_of_one_half_or_the_right_class() {
        let (outputs, targets) = ([0.9, 0.2, 0.6, 0.1], [1.0, 0.0, 0.0, 0.0]);
        let (accuracy, max_error) = fit(&outputs, &targets, 1, false);
        assert_eq!(accuracy, 0.75);
        assert!((max_error - 0.6).abs() < 1e-7);
        // Two rows of three classes: the first row's most probable class is right.
        let (outputs, targets) = ([0.2, 0.7, 0.1, 0.5, 0.3, 0.2], [0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
        assert_eq!(fit(&outputs, &targets, 3, true).0, 0.5);
        assert!(fit(&[f32::NAN, 0.0], &[0.0, 0.0], 1, false).1.is_nan());
    }
}
