//! Per-layer health, measured every epoch and written to metrics.csv: the L2 norm of each
//! layer's weight gradient and of its weights (during training), and the share of each hidden
//! layer's units that are saturated or dead on the data (during validation). This is what
//! shows the original question's bug: a first layer whose gradient is zero.

use crate::activation::Activation;
use crate::model::Mlp;
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorReadError};
use burn::train::metric::{Metric, MetricMetadata, MetricName, SerializedEntry};
use std::sync::Arc;

/// Burn's name for the metric, and the prefix that ties its entries to metrics.csv columns.
pub const LAYER_HEALTH: &str = "Layer Health";

/// The metrics.csv columns for a net with `layers` Linear layers: for each layer its
/// `grad_norm_<i>` and `weight_norm_<i>`, then for each hidden layer `saturated_<i>` and
/// `dead_<i>` (layers numbered from 1, inputs side first).
pub fn columns(layers: usize) -> Vec<String> {
    let norms = (1..=layers).flat_map(|i| [format!("grad_norm_{i}"), format!("weight_norm_{i}")]);
    let units = (1..layers).flat_map(|i| [format!("saturated_{i}"), format!("dead_{i}")]);
    norms.chain(units).collect()
}

/// Layer `layer`'s weight-gradient norm in a row's health columns (NaN when absent).
pub fn grad_norm(health: &[f64], layer: usize) -> f64 {
    health.get(2 * (layer - 1)).copied().unwrap_or(f64::NAN)
}

/// The share of hidden layer `layer`'s units that are saturated, in a net of `layers` layers.
pub fn saturated(health: &[f64], layers: usize, layer: usize) -> f64 {
    health.get(2 * layers + 2 * (layer - 1)).copied().unwrap_or(f64::NAN)
}

/// The share of hidden layer `layer`'s units that are dead, in a net of `layers` layers.
pub fn dead(health: &[f64], layers: usize, layer: usize) -> f64 {
    health.get(2 * layers + 2 * (layer - 1) + 1).copied().unwrap_or(f64::NAN)
}

/// `[grad_norm_1, weight_norm_1, ...]` for one training step, from the gradients the
/// optimizer will apply (a frozen layer's gradient, removed, counts as zero).
pub fn norms(model: &Mlp, grads: &GradientsParams) -> Tensor<1> {
    let l2 = |t: Tensor<2>| t.square().sum().sqrt();
    let values = model.layers.iter().flat_map(|layer| {
        let weight = layer.weight.val().without_autodiff();
        let grad = grads.get::<2>(layer.weight.id).map_or_else(|| Tensor::zeros([1], &weight.device()), l2);
        [grad, l2(weight)]
    });
    Tensor::cat(values.collect(), 0)
}

/// `[saturated_1, dead_1, ...]` for the hidden layers on one batch, or `None` without hidden
/// layers. A unit is saturated when it sits within 0.01 of a limit of sigmoid or tanh on every
/// row (its gradient is then near zero everywhere), and dead when a relu unit is 0 on every row.
pub fn unit_states(activation: Activation, hidden: &[Tensor<2>]) -> Option<Tensor<1>> {
    let on_every_row = |mask: Tensor<2, burn::tensor::Bool>| mask.float().min_dim(0).mean();
    let values: Vec<Tensor<1>> = hidden
        .iter()
        .flat_map(|a| {
            let zero = || Tensor::<1>::zeros([1], &a.device());
            let saturated = match activation {
                Activation::Sigmoid => {
                    on_every_row(a.clone().lower_elem(0.01).bool_or(a.clone().greater_elem(0.99)))
                }
                Activation::Tanh => on_every_row(a.clone().abs().greater_elem(0.99)),
                _ => zero(),
            };
            let dead = match activation {
                Activation::Relu => on_every_row(a.clone().equal_elem(0.0)),
                _ => zero(),
            };
            [saturated, dead]
        })
        .collect();
    (!values.is_empty()).then(|| Tensor::cat(values, 0))
}

/// What a step hands to [`LayerHealth`]: the step's measures, if it has any.
pub struct HealthInput {
    pub values: Option<Tensor<1>>,
}

/// A text metric (one value per column, not one number) averaging the health measures over an
/// epoch's batches; `metrics.rs` turns its epoch entry into columns.
#[derive(Clone, Default)]
pub struct LayerHealth {
    sum: Vec<f64>,
    batches: usize,
}

impl LayerHealth {
    fn entry(&self) -> SerializedEntry {
        let mean: Vec<String> =
            self.sum.iter().map(|s| (s / self.batches.max(1) as f64).to_string()).collect();
        SerializedEntry::new(mean.join(" "), mean.join(" "))
    }

    /// The values of an entry made by this metric.
    pub fn parse(serialized: &str) -> Vec<f64> {
        serialized.split(' ').filter_map(|v| v.parse().ok()).collect()
    }
}

impl Metric for LayerHealth {
    type Input = HealthInput;

    fn name(&self) -> MetricName {
        Arc::new(LAYER_HEALTH.into())
    }

    fn update(
        &mut self,
        item: &HealthInput,
        _metadata: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        if let Some(values) = &item.values {
            let data = values.clone().try_into_data_as::<f32>()?;
            let values: Vec<f64> = data.iter::<f32>().map(f64::from).collect();
            self.sum.resize(values.len(), 0.0);
            self.sum.iter_mut().zip(values).for_each(|(s, v)| *s += v);
            self.batches += 1;
        }
        Ok(self.entry())
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        Ok(self.entry())
    }

    fn clear(&mut self) {
        *self = LayerHealth::default();
    }
}
