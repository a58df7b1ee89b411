//! Per-layer health, measured every epoch and written to metrics.csv: the L2 norm of each
//! layer's weight gradient and of its weights (during training), and the share of each hidden
//! layer's units that are saturated or dead on the data (during validation). This is what
//! shows the original question's bug: a first layer whose gradient is zero. Each step computes
//! them on the device; `measures.rs` averages them over the epoch's batches.

use crate::activation::Activation;
use crate::model::Mlp;
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

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
