//! `gatenet gradcheck CONFIG`: the loss gradient of every parameter, from Burn's autodiff and
//! from central finite differences, side by side. The answer to "is my backprop right?" that
//! the question which started gatenet never got.
//!
//! It runs in float64 on the ndarray backend, where central differences with a step of 1e-6
//! are accurate to about 1e-9 relative (truncation ~ step^2, rounding ~ 1e-16 / step). A
//! parameter passes when its relative error is below 1e-6, or its absolute error below 1e-9
//! (for gradients that are zero or nearly so, where a relative error means nothing).

use crate::config::Config;
use crate::data::dataset::Dataset;
use crate::data::rng::SplitMix64;
use crate::failure::Failure;
use crate::model::mlp::Mlp;
use burn::module::{Module, Param, ParamId};
use burn::nn::Linear;
use burn::tensor::{Device, FloatDType, Tensor, TensorData};
use std::fmt::Write;

/// The finite-difference step.
const STEP: f64 = 1e-6;
/// The relative error a parameter may have.
pub const RELATIVE_TOLERANCE: f64 = 1e-6;
/// The absolute error below which a near-zero gradient passes.
pub const ABSOLUTE_TOLERANCE: f64 = 1e-9;

/// One parameter tensor's result.
pub struct Checked {
    /// e.g. "layer 1 weight".
    pub name: String,
    pub checked: usize,
    pub total: usize,
    pub max_absolute: f64,
    pub max_relative: f64,
    /// The element with the largest relative error, as `[row, column]` or `[index]`.
    pub worst: String,
    pub passed: bool,
}

/// Checks every parameter (or `points` elements of each at most, chosen at random), and
/// returns the results with the report to print.
pub fn gradcheck(
    config: &Config,
    data: &Dataset,
    points: Option<usize>,
) -> Result<(Vec<Checked>, String), Failure> {
    #[allow(deprecated)] // ndarray: the CPU backend that computes in float64
    let mut device = Device::ndarray();
    device
        .configure(FloatDType::F64)
        .map_err(|e| Failure::runtime(format!("cannot switch the ndarray backend to float64: {e:?}")))?;
    let (table, _) = data.split(config.seed);
    let all: Vec<usize> = (0..table.rows()).collect();
    let autodiff = device.clone().autodiff();
    let model = Mlp::from_config(config, &autodiff);
    let batch = table.batch(&all, &autodiff);
    let loss_of = |m: &Mlp, inputs: Tensor<2>, targets: Tensor<2>| {
        let logits = m.logits(inputs);
        m.loss.forward(logits.clone(), m.output.forward(logits), targets)
    };
    let grads = loss_of(&model, batch.inputs, batch.targets).backward();
    let plain = model.valid();
    let batch = table.batch(&all, &device);
    let loss_at = |m: &Mlp| loss_of(m, batch.inputs.clone(), batch.targets.clone()).into_scalar::<f64>();

    let mut rng = SplitMix64::new(config.seed);
    let mut results = Vec::new();
    for (i, layer) in model.layers.iter().enumerate() {
        let weight_grad = values(layer.weight.val().grad(&grads));
        let bias = layer.bias.as_ref().expect("gatenet's layers have biases");
        let bias_grad = values(bias.val().grad(&grads));
        let [rows, columns] = layer.weight.val().dims();
        for (part, analytic, shape) in
            [("weight", weight_grad, vec![rows, columns]), ("bias", bias_grad, vec![columns])]
        {
            let original: Vec<f64> = values(Some(if part == "weight" {
                plain.layers[i].weight.val()
            } else {
                bias_of(&plain.layers[i])
            }));
            let chosen = choose(original.len(), points, &mut rng);
            let numeric = chosen.iter().map(|&k| {
                let at = |delta: f64| {
                    let mut moved = original.clone();
                    moved[k] += delta;
                    loss_at(&with_values(&plain, i, part, moved, &shape, &device))
                };
                (at(STEP) - at(-STEP)) / (2.0 * STEP)
            });
            let mut checked = Checked {
                name: format!("layer {} {part}", i + 1),
                checked: chosen.len(),
                total: original.len(),
                max_absolute: 0.0,
                max_relative: 0.0,
                worst: String::new(),
                passed: true,
            };
            for (&k, n) in chosen.iter().zip(numeric.collect::<Vec<_>>()) {
                let a = analytic.get(k).copied().unwrap_or(0.0);
                let absolute = (a - n).abs();
                let relative = absolute / a.abs().max(n.abs()).max(f64::MIN_POSITIVE);
                let fails = !(absolute <= ABSOLUTE_TOLERANCE || relative <= RELATIVE_TOLERANCE);
                checked.max_absolute = checked.max_absolute.max(absolute);
                if relative > checked.max_relative || checked.worst.is_empty() || (fails && checked.passed) {
                    checked.max_relative = checked.max_relative.max(relative);
                    let index = if shape.len() == 2 {
                        format!("[{}, {}]", k / shape[1], k % shape[1])
                    } else {
                        format!("[{k}]")
                    };
                    checked.worst = format!("{index}: autodiff {a:.6e}, finite differences {n:.6e}");
                }
                checked.passed &= !fails;
            }
            results.push(checked);
        }
    }
    let report = report(config, &results);
    Ok((results, report))
}

fn values<const D: usize>(tensor: Option<Tensor<D>>) -> Vec<f64> {
    tensor.map(|t| t.into_data().iter::<f64>().collect()).unwrap_or_default()
}

fn bias_of(layer: &Linear) -> Tensor<2> {
    let bias = layer.bias.as_ref().expect("gatenet's layers have biases").val();
    let [width] = bias.dims();
    bias.reshape([1, width])
}

/// A copy of `model` whose layer `i` has `part` replaced by `values`.
fn with_values(model: &Mlp, i: usize, part: &str, values: Vec<f64>, shape: &[usize], device: &Device) -> Mlp {
    let mut moved = model.clone();
    let layer = &mut moved.layers[i];
    if part == "weight" {
        let tensor = Tensor::<2>::from_data(TensorData::new(values, [shape[0], shape[1]]), device);
        layer.weight = Param::initialized(layer.weight.id, tensor);
    } else {
        let id = layer.bias.as_ref().map_or_else(ParamId::new, |b| b.id);
        let tensor = Tensor::<1>::from_data(TensorData::new(values, [shape[0]]), device);
        layer.bias = Some(Param::initialized(id, tensor));
    }
    moved
}

/// All indices below `len`, or `points` of them drawn without repeats.
fn choose(len: usize, points: Option<usize>, rng: &mut SplitMix64) -> Vec<usize> {
    let mut all: Vec<usize> = (0..len).collect();
    match points {
        Some(n) if n < len => {
            for i in 0..n {
                let j = i + (rng.next_u64() % (len - i) as u64) as usize;
                all.swap(i, j);
            }
            all.truncate(n);
            all.sort_unstable();
            all
        }
        _ => all,
    }
}

fn report(config: &Config, results: &[Checked]) -> String {
    let mut out = String::new();
    let mut widths = vec![config.data.widths().0.to_string()];
    widths.extend(config.model.hidden_sizes.iter().map(|w| w.to_string()));
    widths.push(config.data.widths().1.to_string());
    let _ = writeln!(
        out,
        "gradcheck {}: {} {} net, {} loss, float64, central differences with a step of {STEP:e}",
        config.name(),
        widths.join("-"),
        config.model.activation,
        config.training.loss
    );
    let _ = writeln!(
        out,
        "  {:<16} {:>9} {:>14} {:>14}  worst element",
        "parameter", "checked", "max abs error", "max rel error"
    );
    for r in results {
        let _ = writeln!(
            out,
            "  {:<16} {:>9} {:>14.2e} {:>14.2e}  {}{}",
            r.name,
            format!("{}/{}", r.checked, r.total),
            r.max_absolute,
            r.max_relative,
            r.worst,
            if r.passed { "" } else { "  FAILS" }
        );
    }
    match results.iter().filter(|r| !r.passed).max_by(|a, b| a.max_relative.total_cmp(&b.max_relative)) {
        None => {
            let _ = writeln!(
                out,
                "pass: every gradient agrees (relative error below {RELATIVE_TOLERANCE:e}, or absolute below {ABSOLUTE_TOLERANCE:e})"
            );
        }
        Some(worst) => {
            let _ = writeln!(
                out,
                "FAIL: the gradient of {} disagrees with finite differences (relative error {:.2e} > {RELATIVE_TOLERANCE:e}), at {}",
                worst.name, worst.max_relative, worst.worst
            );
        }
    }
    out
}
