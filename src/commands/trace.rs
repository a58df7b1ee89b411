//! `gatenet trace CONFIG [--steps N] [--out FILE]`: every number of the run's first optimizer
//! steps, printed as per-layer tables for a small net and written whole as JSON, to diff
//! against a backprop of one's own.

use crate::data::dataset::Dataset;
use crate::failure::Failure;
use crate::run::atomic::write_atomic;
use crate::training::trace::{Layer, Step, Trace, trace};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Most rows and layer widths whose numbers are printed; larger nets print their shapes and
/// leave the numbers to the JSON file.
const PRINTED: usize = 16;

pub struct Request {
    pub config: PathBuf,
    pub steps: usize,
    pub out: Option<PathBuf>,
    pub artifacts: PathBuf,
}

/// Traces the config's first steps, writes the JSON, and returns the tables to print.
pub fn run(request: &Request) -> Result<String, Failure> {
    let (config, data) = Dataset::load(&request.config, false).map_err(|e| Failure::usage(e.to_string()))?;
    let device = config.backend.select(config.device).map_err(Failure::usage)?;
    let traced = trace(&config, &data, request.steps, &device).map_err(Failure::runtime)?;
    let out = request
        .out
        .clone()
        .unwrap_or_else(|| crate::run::folder::trace_json(&request.artifacts, config.name()));
    if let Some(folder) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .map_err(|e| Failure::runtime(format!("cannot create {}: {e}", folder.display())))?;
    }
    let json = serde_json::to_string_pretty(&traced).map_err(|e| Failure::runtime(e.to_string()))?;
    write_atomic(&out, json.as_bytes()).map_err(Failure::runtime)?;
    Ok(tables(&traced, &out))
}

/// The trace as text: per step and per layer, every array as rows of numbers.
fn tables(trace: &Trace, out: &Path) -> String {
    let mut text =
        format!("{} with {} loss, {}\n{}\n", trace.network, trace.loss, trace.optimizer, trace.weight_layout);
    for step in &trace.steps {
        step_table(&mut text, step);
    }
    let _ = writeln!(text, "every number, as JSON: {}", out.display());
    text
}

fn step_table(text: &mut String, step: &Step) {
    let _ = writeln!(
        text,
        "\nstep {} (epoch {}, {} rows, learning rate {}): loss {:.6}",
        step.step,
        step.epoch,
        step.input.len(),
        step.learning_rate,
        step.loss
    );
    let small = step.input.len() <= PRINTED
        && step.layers.iter().all(|l| l.shapes.weight.iter().all(|&w| w <= PRINTED));
    if !small {
        for layer in &step.layers {
            let [fan_in, fan_out] = layer.shapes.weight;
            let _ = writeln!(text, "layer {}: {fan_in} -> {fan_out}, {}", layer.layer, layer.activation);
        }
        let _ = writeln!(text, "(more than {PRINTED} rows or units: the numbers are in the JSON file only)");
        return;
    }
    matrix(text, "a0 (input)", &step.input);
    matrix(text, "target", &step.targets);
    for layer in &step.layers {
        layer_table(text, layer);
    }
}

fn layer_table(text: &mut String, layer: &Layer) {
    let (n, [fan_in, fan_out]) = (layer.layer, layer.shapes.weight);
    let _ = writeln!(
        text,
        "\nlayer {n}: z{n} = a{} @ W{n} + b{n}, a{n} = {}(z{n})   W{n} is [{fan_in}, {fan_out}]",
        n - 1,
        layer.activation
    );
    matrix(text, &format!("W{n} before"), &layer.weight_before);
    matrix(text, &format!("b{n} before"), std::slice::from_ref(&layer.bias_before));
    matrix(text, &format!("z{n}"), &layer.z);
    matrix(text, &format!("a{n}"), &layer.a);
    match &layer.dl_da {
        Some(dl_da) => matrix(text, &format!("dL/da{n}"), dl_da),
        None => {
            let _ = writeln!(text, "  dL/da{n}: none: the loss is computed from the logits z{n}");
        }
    }
    matrix(text, &format!("dL/dz{n}"), &layer.dl_dz);
    match (&layer.dl_dw, &layer.dl_db) {
        (Some(dl_dw), Some(dl_db)) => {
            matrix(text, &format!("dL/dW{n} = a{}.T @ dL/dz{n}", n - 1), dl_dw);
            matrix(text, &format!("dL/db{n} (sum over rows)"), std::slice::from_ref(dl_db));
        }
        _ => {
            let _ = writeln!(text, "  dL/dW{n}, dL/db{n}: dropped (a frozen layer)");
        }
    }
    matrix(text, &format!("W{n} after"), &layer.weight_after);
    matrix(text, &format!("b{n} after"), std::slice::from_ref(&layer.bias_after));
    for state in &layer.optimizer_state {
        let name = format!("{} {}", state.name, shape(&state.shape));
        match state.shape.as_slice() {
            [_, columns] => {
                matrix(text, &name, &state.values.chunks(*columns).map(<[f32]>::to_vec).collect::<Vec<_>>())
            }
            _ => matrix(text, &name, std::slice::from_ref(&state.values)),
        }
    }
}

fn shape(dims: &[usize]) -> String {
    let dims: Vec<String> = dims.iter().map(usize::to_string).collect();
    format!("[{}]", dims.join(", "))
}

/// A labelled block of rows, the label on the first: six decimals, or, where a value of the
/// block is too small or large for them to show (a step of 1e-6), in scientific notation.
fn matrix(text: &mut String, label: &str, rows: &[Vec<f32>]) {
    let plain = rows.iter().flatten().all(|v| *v == 0.0 || (1e-3..1e4).contains(&v.abs()));
    for (i, row) in rows.iter().enumerate() {
        let label = if i == 0 { label } else { "" };
        let numbers: Vec<String> =
            row.iter().map(|v| if plain { format!("{v:>12.6}") } else { format!("{v:>12.4e}") }).collect();
        let _ = writeln!(text, "  {label:<28}{}", numbers.join(""));
    }
}
