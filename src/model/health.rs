//! Per-layer health, measured every epoch and written to metrics.csv: the L2 norm of each
//! layer's weight gradient and of its weights (during training), and the share of each hidden
//! layer's units that are saturated or dead on the data (during validation). This is what
//! shows the original question's bug: a first layer whose gradient is zero. Each step's values are
//! read from the device and measured here; `training/measures.rs` averages them over the epoch's batches.

use crate::config::Activation;

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

/// The L2 norm of a layer's weights or weight gradient, summed in float64.
pub fn l2_norm(values: &[f32]) -> f64 {
    values.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>().sqrt()
}

/// `[saturated, dead]` for one hidden layer's activations on one batch, `width` units a row,
/// row-major. A unit is saturated when it sits within 0.01 of a limit of sigmoid or tanh on
/// every row (its gradient is then near zero everywhere), and dead when a relu unit is 0 on
/// every row; each is the share of the layer's units.
pub fn unit_states(activation: Activation, values: &[f32], width: usize) -> [f64; 2] {
    let on_every_row =
        |unit: usize, test: &dyn Fn(f32) -> bool| values.iter().skip(unit).step_by(width).all(|&a| test(a));
    let share = |test: &dyn Fn(f32) -> bool| {
        (0..width).filter(|&unit| on_every_row(unit, test)).count() as f64 / width as f64
    };
    let saturated = match activation {
        Activation::Sigmoid => share(&|a| a < 0.01 || a > 0.99),
        Activation::Tanh => share(&|a| a.abs() > 0.99),
        _ => 0.0,
    };
    let dead = match activation {
        Activation::Relu => share(&|a| a == 0.0),
        _ => 0.0,
    };
    [saturated, dead]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_counts_as_saturated_or_dead_only_when_it_is_on_every_row() {
        // Two rows of three units: unit 0 is pinned at 1 on both rows, unit 1 only on one.
        let rows = [0.995, 0.995, 0.0, 0.999, 0.2, 0.0];
        assert_eq!(unit_states(Activation::Tanh, &rows, 3), [1.0 / 3.0, 0.0]);
        assert_eq!(unit_states(Activation::Relu, &rows, 3), [0.0, 1.0 / 3.0]);
        assert_eq!(unit_states(Activation::Sigmoid, &rows, 3), [2.0 / 3.0, 0.0], "0 is below 0.01");
        assert_eq!(l2_norm(&[3.0, 4.0]), 5.0);
    }
}
