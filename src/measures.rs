//! What each step measures, and how an epoch's steps add up to its metrics.csv row.
//!
//! A step packs everything it measures into one small tensor (see [`StepOutput`]), so that the
//! epoch loop reads it from the device once per step. The sums combine batches exactly as the
//! Burn metrics of earlier versions did (`LossMetric`, `LearningRateMetric`, gatenet's accuracy,
//! largest-error and layer-health metrics), so metrics.csv means what it always meant:
//! - loss: the mean of the batch losses (each batch counts once);
//! - accuracy: weighted by the outputs in each batch;
//! - learning rate: the mean over the epoch's steps;
//! - largest error: the largest over the batches, NaN as soon as any batch's is;
//! - layer health: the mean over the batches, column by column.

use crate::health;
use crate::metrics::EpochRow;
use burn::tensor::{ExecutionError, Tensor};
use burn::train::ItemLazy;

/// What one training or validation step hands to the epoch loop.
pub struct StepOutput {
    /// Off the autodiff graph, in this order. Training: loss, accuracy, then
    /// [`health::norms`]. Validation: loss, accuracy, largest error, then
    /// [`health::unit_states`].
    pub measures: Tensor<1>,
    /// Rows x output width of the batch: the weight of its accuracy.
    pub outputs: usize,
}

impl ItemLazy for StepOutput {
    fn sync(self) -> Result<Self, ExecutionError> {
        self.measures.device().flush()?;
        Ok(self)
    }
}

impl StepOutput {
    /// A training step's measures, from its loss and outputs before the update and its
    /// layers' gradient and weight norms.
    pub fn train(
        loss: Tensor<1>,
        outputs: Tensor<2>,
        targets: Tensor<2>,
        classes: bool,
        norms: Tensor<1>,
    ) -> Self {
        let (loss, outputs) = (loss.without_autodiff(), outputs.without_autodiff());
        let count = outputs.shape().num_elements();
        let accuracy = accuracy(outputs, targets, classes);
        StepOutput { measures: Tensor::cat(vec![loss, accuracy, norms], 0), outputs: count }
    }

    /// A validation step's measures, with the hidden layers' unit states when it has any.
    pub fn valid(
        loss: Tensor<1>,
        outputs: Tensor<2>,
        targets: Tensor<2>,
        classes: bool,
        units: Option<Tensor<1>>,
    ) -> Self {
        let count = outputs.shape().num_elements();
        // NaN as soon as the loss is not finite (`+ 0 x loss`), so that a diverging run is
        // caught even before its outputs overflow: `stopping.rs` watches this.
        let max_error = (outputs.clone() - targets.clone()).abs().max() + loss.clone().mul_scalar(0.0);
        let mut parts = vec![loss, accuracy(outputs, targets, classes), max_error];
        parts.extend(units);
        StepOutput { measures: Tensor::cat(parts, 0), outputs: count }
    }

    /// The measures on the host, in float64 (each float32 widened exactly).
    pub fn read(self) -> Result<Vec<f64>, String> {
        let data =
            self.measures.try_into_data().map_err(|e| format!("cannot read a step's measures: {e}"))?;
        Ok(data.iter::<f64>().collect())
    }
}

/// The share of outputs on the same side of 0.5 as their target: the accuracy of a 0/1 table,
/// for any number of output columns. With `classes` (softmax outputs over one-hot targets),
/// the share of rows whose most probable class is the right one.
fn accuracy(outputs: Tensor<2>, targets: Tensor<2>, classes: bool) -> Tensor<1> {
    if classes {
        outputs.argmax(1).equal(targets.argmax(1)).float().mean()
    } else {
        outputs.greater_elem(0.5).equal(targets.greater_elem(0.5)).float().mean()
    }
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
    /// Adds a batch's measures read from a [`StepOutput`]: `fixed` leading values (2 for
    /// training, 3 for validation, with the largest error third), then the health columns.
    fn add(&mut self, values: &[f64], outputs: usize, fixed: usize) {
        self.batches += 1;
        self.loss += values[0];
        self.accuracy = (self.accuracy.0 + values[1] * outputs as f64, self.accuracy.1 + outputs);
        if fixed == 3 {
            let value = values[2];
            // NaN wins, so a diverged batch is never hidden behind a finite one.
            self.max_error = Some(match self.max_error {
                Some(max) if max.is_nan() || !(value.is_nan() || value > max) => max,
                _ => value,
            });
        }
        let health = &values[fixed..];
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
    pub fn add_train(&mut self, values: &[f64], outputs: usize, learning_rate: f64) {
        self.train.add(values, outputs, 2);
        self.learning_rate += learning_rate;
    }

    pub fn add_valid(&mut self, values: &[f64], outputs: usize) {
        self.valid.add(values, outputs, 3);
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

    #[test]
    fn an_epoch_row_averages_losses_per_batch_and_accuracy_per_output() {
        let mut sums = EpochSums::default();
        // One layer: grad_norm_1, weight_norm_1; no hidden layer, so no unit columns.
        sums.add_train(&[0.4, 1.0, 2.0, 10.0], 3, 0.1);
        sums.add_train(&[0.2, 0.0, 4.0, 20.0], 1, 0.3);
        sums.add_valid(&[0.5, 0.5, 0.25], 4);
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
        sums.add_train(&[0.1, 1.0, 0.0, 0.0], 1, 0.1);
        for error in [0.5, f64::NAN, 0.9] {
            sums.add_valid(&[0.1, 1.0, error], 1);
        }
        assert!(sums.row(1, 1, 1, 0.0).max_error.is_nan());
    }
}
