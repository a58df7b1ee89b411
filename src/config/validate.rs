//! Range and consistency checks that types cannot express, one function per concern, in the
//! order of the file's tables: each finding is a (dotted key, message) that the loader places
//! at its line in the file.

use super::limits::*;
use super::validate_sweep::sweep;
use super::*;
use crate::config::limits::MAX_GATE_INPUTS;
use crate::names::{list, shown};

/// The problems found so far.
pub(super) struct Problems(Vec<(String, String)>);

impl Problems {
    pub(super) fn check(&mut self, ok: bool, key: &str, message: String) {
        if !ok {
            self.0.push((key.to_string(), message));
        }
    }
}

impl Config {
    /// Every problem of the config, as (dotted key, message).
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut problems = Problems(Vec::new());
        for concern in [top, data_source, data_values, model, outputs, optimizer, schedule, sweep, training] {
            concern(self, &mut problems);
        }
        problems.0
    }
}

/// The run name, the backend and its device.
fn top(config: &Config, p: &mut Problems) {
    if let Some(name) = &config.name {
        let usable = !name.is_empty()
            && name != "."
            && name != ".."
            && name.chars().all(|c| c.is_alphanumeric() || "-_.".contains(c));
        p.check(
            usable,
            "name",
            format!("expected a folder name made of letters, digits, '-', '_' and '.', found {name:?}"),
        );
    }
    p.check(
        config.backend != BackendName::Wgpu || cfg!(feature = "wgpu"),
        "backend",
        "\"wgpu\" needs the wgpu cargo feature, which this binary was built without; rebuild with `cargo build --release --features wgpu` (or use backend = \"ndarray\")".into(),
    );
    p.check(
        config.device == Adapter::Default || config.backend == BackendName::Wgpu,
        "device",
        format!("chooses a wgpu adapter and needs backend = \"wgpu\" (backend is \"{}\")", config.backend),
    );
}

/// One data source, and only the `[data]` keys that apply to it.
fn data_source(config: &Config, p: &mut Problems) {
    let data = &config.data;
    let sources = data.sources();
    p.check(
        sources.len() <= 1,
        "data",
        format!(
            "expected one data source, found {}",
            sources.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(" and ")
        ),
    );
    let only = |value: bool, key: &str, allowed: bool, which: &str| {
        (!value || allowed, format!("data.{key}"), format!("applies to {which} only"))
    };
    let (gate, synthetic, csv) = (data.gate.is_some(), data.synthetic.is_some(), data.csv.is_some());
    let split = "`synthetic` and `csv` data (a truth table trains and validates on its own rows)";
    for (ok, key, message) in [
        only(data.inputs.is_some(), "inputs", gate, "`gate` data"),
        only(data.samples.is_some(), "samples", synthetic, "`synthetic` data"),
        only(data.noise.is_some(), "noise", synthetic, "`synthetic` data"),
        only(data.valid_fraction.is_some(), "valid_fraction", synthetic || csv, split),
        only(data.targets.is_some(), "targets", csv, "`csv` data"),
        only(data.features.is_some(), "features", csv, "`csv` data"),
        only(data.classes.is_some(), "classes", csv, "`csv` data"),
    ] {
        p.check(ok, &key, message);
    }
    if csv {
        p.check(
            data.targets.as_ref().is_some_and(|t| !t.is_empty()),
            "data.targets",
            "`csv` data needs the columns to predict: add `targets = [\"column\"]` to [data]".into(),
        );
        if let Some(features) = &data.features {
            p.check(!features.is_empty(), "data.features", "expected at least one column, found []".into());
        }
    }
}

/// The ranges of the `[data]` values, and the patience that needs held-out rows.
fn data_values(config: &Config, p: &mut Problems) {
    let data = &config.data;
    if let Some(samples) = data.samples {
        p.check(
            (10..=1_000_000).contains(&samples),
            "data.samples",
            format!("expected between 10 and 1000000, found {samples}"),
        );
    }
    if let Some(noise) = data.noise {
        p.check(
            (0.0..=1.0).contains(&noise),
            "data.noise",
            format!("expected a number between 0 and 1, found {noise}"),
        );
    }
    if let Some(share) = data.valid_fraction {
        p.check(
            share > 0.0 && share <= 0.9,
            "data.valid_fraction",
            format!("expected a share above 0 and at most 0.9, found {share}"),
        );
    }
    if let Some(patience) = config.training.patience {
        p.check(patience >= 1, "training.patience", format!("expected at least 1 epoch, found {patience}"));
    }
    p.check(
        !data.sources().is_empty(),
        "data",
        "expected a data source: add a [data] table with `gate = \"or\"` (or and, nand, nor, xor, xnor, majority), `synthetic = \"circle\"` (or xor, gauss, spiral, moons), or `csv = \"file.csv\"` with `targets = [\"column\"]`"
            .into(),
    );
    if let Some(inputs) = config.data.inputs {
        p.check(
            (1..=MAX_GATE_INPUTS).contains(&inputs),
            "data.inputs",
            format!("expected between 1 and {MAX_GATE_INPUTS} inputs (2^inputs rows), found {inputs}"),
        );
    }
}

/// The widths, the frozen layers and the size of the network.
fn model(config: &Config, p: &mut Problems) {
    let model = &config.model;
    for (i, &width) in model.hidden_sizes.iter().enumerate() {
        p.check(
            (1..=MAX_WIDTH).contains(&width),
            "model.hidden_sizes",
            format!("expected every width between 1 and {MAX_WIDTH}, found {width} at position {i}"),
        );
    }
    let layers = model.hidden_sizes.len() + 1;
    for &layer in &model.freeze {
        p.check(
            (1..=layers).contains(&layer),
            "model.freeze",
            format!(
                "expected layer numbers between 1 and {layers} (the net has {layers} Linear layers), found {layer}"
            ),
        );
    }
    if model.hidden_sizes.iter().all(|w| (1..=MAX_WIDTH).contains(w)) && config.data.known() {
        size(config, &model.hidden_sizes, "model.hidden_sizes", p);
    }
    p.check(
        !(config.training.loss == Loss::Bce && model.output_activation != OutputActivation::Sigmoid),
        "training.loss",
        "\"bce\" needs probabilities: set model.output_activation = \"sigmoid\", or use loss = \"mse\""
            .into(),
    );
}

/// The network's parameters with these hidden widths, at most [`MAX_PARAMETERS`]; for data
/// whose widths are known.
pub(super) fn size(config: &Config, hidden: &[usize], key: &str, p: &mut Problems) {
    let (inputs, outputs) = config.data.widths();
    // A gate's width is capped for this count only: data.inputs is refused above 16.
    let inputs = if config.data.gate.is_some() { inputs.min(MAX_GATE_INPUTS) } else { inputs };
    let mut widths = vec![inputs];
    widths.extend(hidden);
    widths.push(outputs);
    let params = widths.windows(2).map(|p| p[0] * p[1] + p[1]).fold(0usize, usize::saturating_add);
    p.check(
        params <= MAX_PARAMETERS,
        key,
        format!(
            "the network would have {params} parameters (about {:.1} GB with the optimizer's state); at most {MAX_PARAMETERS} are accepted",
            params as f64 * 16.0 / 1e9
        ),
    );
}

/// The output activation and the loss, against the targets the data has.
fn outputs(config: &Config, p: &mut Problems) {
    let model = &config.model;
    let softmax = model.output_activation == OutputActivation::Softmax;
    let cross_entropy = config.training.loss == Loss::CrossEntropy;
    match config.data.schema.as_ref().and_then(|s| s.classes.as_ref().map(|c| (c, &s.targets[0]))) {
        Some((classes, column)) => p.check(
            softmax && cross_entropy,
            "training.loss",
            format!(
                "column {column:?} holds {} classes ({}): set training.loss = \"cross_entropy\" and model.output_activation = \"softmax\"",
                classes.len(),
                list(&classes[..classes.len().min(5)], '"')
            ),
        ),
        None if config.data.known() => {
            // A sigmoid output (and bce) lives in (0, 1): numeric targets outside it can
            // never be reached.
            if let Some((low, high)) = config.data.schema.as_ref().and_then(|s| s.target_range) {
                let outside = low < 0.0 || high > 1.0;
                p.check(
                    !(outside && model.output_activation == OutputActivation::Sigmoid),
                    "model.output_activation",
                    format!(
                        "the targets range from {low} to {high}, and a sigmoid output stays between 0 and 1: set output_activation = \"identity\" for regression (with loss = \"mse\")"
                    ),
                );
            }
            p.check(
                !cross_entropy,
                "training.loss",
                "\"cross_entropy\" needs classes: a `csv` target column of class names (for a column of numbers that are classes, such as 0 to 9, set `classes = true` in [data])".into(),
            );
            p.check(
                !softmax,
                "model.output_activation",
                "\"softmax\" needs classes: a `csv` target column of class names (for a column of numbers that are classes, such as 0 to 9, set `classes = true` in [data])".into(),
            );
        }
        None => {}
    }
}

/// The learning rate, and only the optimizer keys that apply to the optimizer named.
fn optimizer(config: &Config, p: &mut Problems) {
    let opt = &config.optimizer;
    let lr = opt.learning_rate;
    p.check(
        lr.is_finite() && lr > 0.0 && lr <= MAX_LEARNING_RATE,
        "optimizer.learning_rate",
        format!("expected a number > 0 and at most {MAX_LEARNING_RATE:e}, found {lr}"),
    );
    if matches!(opt.schedule, Schedule::Cosine | Schedule::Exponential) {
        p.check(
            lr <= 1.0,
            "optimizer.learning_rate",
            format!(
                "the {} schedule needs a learning rate of at most 1 (a limit of Burn's schedulers), found {lr}",
                opt.schedule
            ),
        );
    }
    let applies = |key: &str, value: bool, allowed: &[OptimizerName]| {
        (
            !value || allowed.contains(&opt.name),
            format!("optimizer.{key}"),
            format!("does not apply to name = \"{}\"; it is used by {}", opt.name, list(allowed, '"')),
        )
    };
    use OptimizerName::*;
    for (ok, key, message) in [
        applies("momentum", opt.momentum.is_some(), &[Sgd, RmsProp]),
        applies("epsilon", opt.epsilon.is_some(), &[Adam, AdamW, RmsProp]),
        applies("beta1", opt.beta1.is_some(), &[Adam, AdamW]),
        applies("beta2", opt.beta2.is_some(), &[Adam, AdamW]),
    ] {
        p.check(ok, &key, message);
    }
    let in_unit = |v: Option<f64>| v.is_none_or(|v| (0.0..1.0).contains(&v));
    p.check(
        in_unit(opt.momentum),
        "optimizer.momentum",
        format!("expected a number in [0, 1), found {}", shown(opt.momentum)),
    );
    p.check(
        in_unit(opt.beta1),
        "optimizer.beta1",
        format!("expected a number in [0, 1), found {}", shown(opt.beta1)),
    );
    p.check(
        in_unit(opt.beta2),
        "optimizer.beta2",
        format!("expected a number in [0, 1), found {}", shown(opt.beta2)),
    );
    p.check(
        opt.epsilon.is_none_or(|e| e.is_finite() && e > 0.0),
        "optimizer.epsilon",
        format!("expected a finite number > 0, found {}", shown(opt.epsilon)),
    );
    let wd = opt.weight_decay;
    p.check(
        wd.is_finite() && wd >= 0.0,
        "optimizer.weight_decay",
        format!("expected a finite number >= 0, found {wd}"),
    );
}

/// Only the schedule keys that apply to the schedule named, in their ranges.
fn schedule(config: &Config, p: &mut Problems) {
    let opt = &config.optimizer;
    let lr = opt.learning_rate;
    let schedule_applies = |key: &str, value: bool, allowed: &[Schedule]| {
        (
            !value || allowed.contains(&opt.schedule),
            format!("optimizer.{key}"),
            format!(
                "does not apply to schedule = \"{}\"; it is used by {}",
                opt.schedule,
                list(allowed, '"')
            ),
        )
    };
    for (ok, key, message) in [
        schedule_applies("min_learning_rate", opt.min_learning_rate.is_some(), &[Schedule::Cosine]),
        schedule_applies("step_epochs", opt.step_epochs.is_some(), &[Schedule::Step]),
        schedule_applies("gamma", opt.gamma.is_some(), &[Schedule::Step, Schedule::Exponential]),
    ] {
        p.check(ok, &key, message);
    }
    if let Some(min) = opt.min_learning_rate {
        p.check(
            min.is_finite() && (0.0..=lr).contains(&min),
            "optimizer.min_learning_rate",
            format!("expected a number between 0 and learning_rate ({lr}), found {min}"),
        );
    }
    if opt.schedule == Schedule::Step {
        p.check(
            opt.step_epochs.is_some_and(|s| s >= 1),
            "optimizer.step_epochs",
            format!(
                "schedule = \"step\" needs step_epochs >= 1 (epochs between decays), found {}",
                shown(opt.step_epochs)
            ),
        );
    }
    if let Some(gamma) = opt.gamma {
        p.check(
            gamma > 0.0 && gamma <= 1.0,
            "optimizer.gamma",
            format!("expected a number in (0, 1], found {gamma}"),
        );
    }
}

/// Epochs, checkpoints, tolerance, and a batch no larger than the training rows.
fn training(config: &Config, p: &mut Problems) {
    let t = &config.training;
    p.check(
        (1..=MAX_EPOCHS).contains(&t.num_epochs),
        "training.num_epochs",
        format!("expected between 1 and {MAX_EPOCHS}, found {}", t.num_epochs),
    );
    p.check(
        t.checkpoint_every >= 1,
        "training.checkpoint_every",
        format!("expected at least 1, found {}", t.checkpoint_every),
    );
    p.check(
        t.tolerance.is_finite() && t.tolerance >= 0.0,
        "training.tolerance",
        format!("expected a finite number >= 0 (0 never stops early), found {}", t.tolerance),
    );
    if let Some(batch) = t.batch_size {
        let known = !config.data.sources().is_empty() && config.data.known();
        let expected = if known {
            format!("between 1 and the {} training rows", config.data.rows())
        } else {
            "at least 1".into()
        };
        let rows = if known { config.data.rows() } else { usize::MAX };
        p.check(
            (1..=rows).contains(&batch),
            "training.batch_size",
            format!("expected {expected}, found {batch}"),
        );
    }
}
