//! The TOML config: serde structs that mirror the file's tables, checked once
//! ([`Config::validate`]) and passed down as typed values. Nothing past this module and
//! `config_file.rs` (which reads the file and reports its problems) reads a config string.
//! Burn's `#[derive(Config)]` is not used for the file because it silently ignores unknown keys.

use crate::commands::sweep::SweepSection;
pub use crate::config::load::{ConfigError, Problem};
use crate::data::csv::Schema;
use crate::data::synthetic::Synthetic;
use crate::data::table::{Gate, MAX_GATE_INPUTS, Table};
use crate::model::activation::{Activation, OutputActivation};
use crate::model::init::Init;
use crate::model::loss::Loss;
use crate::training::backend::{Adapter, BackendName};
use crate::training::optim::{OptimizerName, Schedule};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// A whole config file. Every key has a default except the data source.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Run name: the folder `artifacts/<name>/`. Default: the config file's stem.
    pub name: Option<String>,
    /// Seeds the initial weights and the batch order. Default 42.
    pub seed: u64,
    /// `"ndarray"` (default), `"flex"` or `"wgpu"` (needs the `wgpu` cargo feature).
    pub backend: BackendName,
    /// The wgpu adapter: `"default"`, `"discrete"`, `"integrated"` or `"cpu"` (software).
    pub device: Adapter,
    pub data: DataSection,
    pub model: ModelSection,
    pub optimizer: OptimizerSection,
    pub training: TrainingSection,
    /// `[sweep]`: the grid of `gatenet sweep`; ignored by a plain run.
    pub sweep: Option<SweepSection>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            name: None,
            seed: 42,
            backend: BackendName::default(),
            device: Adapter::default(),
            data: DataSection::default(),
            model: ModelSection::default(),
            optimizer: OptimizerSection::default(),
            training: TrainingSection::default(),
            sweep: None,
        }
    }
}

/// `[data]`: what to learn: a truth table (`gate`), a synthetic 2-D dataset (`synthetic`) or a
/// CSV file (`csv`).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataSection {
    /// A truth table: and, or, nand, nor, xor (parity), xnor, majority.
    pub gate: Option<Gate>,
    /// The gate's number of inputs, 1 to 16 (2^inputs rows). Default 2.
    pub inputs: Option<usize>,
    /// A 2-D dataset: circle, xor, gauss, spiral, moons.
    pub synthetic: Option<Synthetic>,
    /// Points in the synthetic dataset, training and validation together. Default 500.
    pub samples: Option<usize>,
    /// How much the synthetic classes blur into each other, 0 to 1. Default 0.1.
    pub noise: Option<f64>,
    /// The share of the synthetic points or CSV rows held out for validation. Default 0.2.
    pub valid_fraction: Option<f64>,
    /// A CSV file with a header line, relative to the config file. The resolved config (and the
    /// run folder's config.toml) holds the absolute path.
    pub csv: Option<String>,
    /// The CSV columns to predict: numbers (regression, or 0/1 with a sigmoid output), or one
    /// column of class names (softmax over the classes, cross-entropy loss).
    pub targets: Option<Vec<String>>,
    /// The CSV columns the network sees, all numeric. Default: every column but the targets.
    pub features: Option<Vec<String>>,
    /// The CSV's columns, classes and scaling: read from the file by [`Config::load`], or from
    /// the run folder's data.json for a trained run.
    #[serde(skip)]
    pub schema: Option<Arc<Schema>>,
    /// The CSV's training and validation rows, once read.
    #[serde(skip)]
    pub csv_rows: Option<(Arc<Table>, Arc<Table>)>,
}

impl DataSection {
    /// The rows to train on.
    pub fn table(&self, seed: u64) -> Arc<Table> {
        self.split(seed).0
    }

    /// The rows to validate on; `None` when they are the training rows (a truth table).
    pub fn valid_table(&self, seed: u64) -> Option<Arc<Table>> {
        self.split(seed).1
    }

    /// A CSV file's rows are shared, not copied: they may be large.
    fn split(&self, seed: u64) -> (Arc<Table>, Option<Arc<Table>>) {
        match (self.gate, self.synthetic, &self.csv_rows) {
            (Some(gate), _, _) => (Arc::new(gate.table(self.inputs.unwrap_or(2))), None),
            (None, Some(kind), _) => {
                let all = kind.table(self.samples.unwrap_or(500), self.noise.unwrap_or(0.1), seed);
                let (train, valid) = all.shuffled_split(self.valid_rows(), seed);
                (Arc::new(train), Some(Arc::new(valid)))
            }
            (None, None, Some(rows)) => (rows.0.clone(), Some(rows.1.clone())),
            (None, None, None) => panic!("validated and loaded: a data source"),
        }
    }

    fn valid_rows(&self) -> usize {
        let samples = self.samples.unwrap_or(500);
        ((samples as f64 * self.valid_fraction.unwrap_or(0.2)).round() as usize)
            .clamp(1, samples.saturating_sub(1).max(1))
    }

    /// Inputs and outputs per row; (0, 0) for a CSV file not read yet.
    pub fn widths(&self) -> (usize, usize) {
        match (&self.schema, self.synthetic) {
            (Some(schema), _) => (schema.features.len(), schema.output_width()),
            (None, Some(_)) => (2, 1),
            (None, None) if self.csv.is_some() => (0, 0),
            (None, None) => (self.inputs.unwrap_or(2), 1),
        }
    }

    /// Rows in the training data; 0 for a CSV file not read yet.
    pub fn rows(&self) -> usize {
        match (&self.csv_rows, self.synthetic) {
            (Some(rows), _) => rows.0.rows(),
            (None, Some(_)) => self.samples.unwrap_or(500).saturating_sub(self.valid_rows()),
            (None, None) if self.csv.is_some() => 0,
            (None, None) => 1 << self.inputs.unwrap_or(2).min(MAX_GATE_INPUTS),
        }
    }

    /// Validation rows: held-out ones, or `rows` for a truth table (validated on its own rows).
    fn valid_rows_or(&self, rows: usize) -> usize {
        match (&self.csv_rows, self.synthetic) {
            (Some(rows), _) => rows.1.rows(),
            (None, Some(_)) => self.valid_rows(),
            _ => rows,
        }
    }

    /// Whether the rows are known: always, except for a CSV file not read yet.
    fn known(&self) -> bool {
        self.csv.is_none() || self.csv_rows.is_some()
    }
}

/// `[model]`: the network between the inputs and the outputs.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSection {
    /// Widths of the hidden layers; `[]` is a single Linear layer. Default `[4]`.
    pub hidden_sizes: Vec<usize>,
    /// Between hidden layers. Default `"tanh"`.
    pub activation: Activation,
    /// On the last layer. Default `"sigmoid"`.
    pub output_activation: OutputActivation,
    /// `"default"` (torch's), `"small"` or `"xavier"`.
    pub init: Init,
    /// Layers (numbered from 1 on the input side) whose weights never change: their gradient
    /// is dropped. `[1]` reproduces the original question's bug, a first layer that never
    /// learns. Default `[]`.
    pub freeze: Vec<usize>,
}

impl Default for ModelSection {
    fn default() -> Self {
        Self {
            hidden_sizes: vec![4],
            activation: Activation::Tanh,
            output_activation: OutputActivation::Sigmoid,
            init: Init::Default,
            freeze: Vec::new(),
        }
    }
}

/// `[optimizer]`: how the weights move. Settings that do not apply to the chosen optimizer or
/// schedule are refused rather than ignored; the resolved config fills in the ones that apply.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimizerSection {
    /// `"sgd"`, `"adam"` (default), `"adamw"` or `"rmsprop"`.
    pub name: OptimizerName,
    /// Step size at the start of the schedule. Default 0.01.
    pub learning_rate: f64,
    /// sgd and rmsprop only. Default 0 (torch's; Burn's default is 0.9 for rmsprop).
    pub momentum: Option<f64>,
    /// L2 penalty (decoupled for adamw). Default 0.
    pub weight_decay: f64,
    /// adam, adamw and rmsprop only. Default 1e-8 (torch's; Burn's is 1e-5).
    pub epsilon: Option<f64>,
    /// adam and adamw only. Defaults 0.9 and 0.999.
    pub beta1: Option<f64>,
    pub beta2: Option<f64>,
    /// `"constant"` (default), `"cosine"`, `"step"` or `"exponential"`.
    pub schedule: Schedule,
    /// cosine only: the rate reached at the last epoch. Default 0.
    pub min_learning_rate: Option<f64>,
    /// step only: epochs between two decays. Required for step.
    pub step_epochs: Option<usize>,
    /// step and exponential: the factor per decay (step, default 0.1) or per epoch
    /// (exponential, default 0.99).
    pub gamma: Option<f64>,
}

impl Default for OptimizerSection {
    fn default() -> Self {
        Self {
            name: OptimizerName::Adam,
            learning_rate: 0.01,
            momentum: None,
            weight_decay: 0.0,
            epsilon: None,
            beta1: None,
            beta2: None,
            schedule: Schedule::Constant,
            min_learning_rate: None,
            step_epochs: None,
            gamma: None,
        }
    }
}

/// `[training]`: how long and when to stop.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainingSection {
    /// Total epochs, counting those already run when resuming. Default 1000.
    pub num_epochs: usize,
    /// Rows per optimizer step. Default: every row (full batch).
    pub batch_size: Option<usize>,
    /// `"mse"` (default, mean over every output) or `"bce"` (needs a sigmoid output).
    pub loss: Loss,
    /// Stop once every output is within this distance of its target; 0 never stops early.
    /// Default 0.1.
    pub tolerance: f64,
    /// Epochs between checkpoints; the last epoch is always saved. Default 100.
    pub checkpoint_every: usize,
    /// Stop when the validation loss has not improved for this many epochs. Default: never.
    pub patience: Option<usize>,
}

impl Default for TrainingSection {
    fn default() -> Self {
        Self {
            num_epochs: 1000,
            batch_size: None,
            loss: Loss::Mse,
            tolerance: 0.1,
            checkpoint_every: 100,
            patience: None,
        }
    }
}

/// The widest hidden layer accepted: far past what a dense net on tabular data needs, and small
/// enough that a typo like `1000000000` is refused before anything is allocated.
const MAX_WIDTH: usize = 100_000;

/// The most epochs accepted: 10^8 epochs take about 8 hours at gatenet's fastest, and keep
/// every count of optimizer steps far below the 2^31 at which Burn's step scheduler stops.
const MAX_EPOCHS: usize = 100_000_000;

/// The largest learning rate accepted. 1000 still trains (and diverges, which gatenet reports
/// and diagnoses); a rate like 1e30 is a typo, and every weight would be at its limit after the
/// first step.
const MAX_LEARNING_RATE: f64 = 1e6;

/// The most runs a sweep accepts (settings x seeds).
const MAX_SWEEP_RUNS: usize = 1_000_000;

/// The most parameters accepted: 10^8 weights take 1.6 GB with Adam's two moments and a
/// gradient (4 bytes each), a sixth of this project's 24 GB machines; refused before allocating.
const MAX_PARAMETERS: usize = 100_000_000;

impl Config {
    /// The number of Linear layers: one per hidden layer, and the output layer.
    pub fn layers(&self) -> usize {
        self.model.hidden_sizes.len() + 1
    }

    /// The run name; set by [`Config::load`] from the file stem when the file has none.
    pub fn name(&self) -> &str {
        self.name.as_deref().expect("load() sets the name")
    }

    /// Range and consistency checks that types cannot express, as (dotted key, message).
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, key: &str, message: String| {
            if !ok {
                problems.push((key.to_string(), message));
            }
        };
        if let Some(name) = &self.name {
            let usable = !name.is_empty()
                && name != "."
                && name != ".."
                && name.chars().all(|c| c.is_alphanumeric() || "-_.".contains(c));
            check(
                usable,
                "name",
                format!("expected a folder name made of letters, digits, '-', '_' and '.', found {name:?}"),
            );
        }
        check(
            self.backend != BackendName::Wgpu || cfg!(feature = "wgpu"),
            "backend",
            "\"wgpu\" needs the wgpu cargo feature, which this binary was built without; rebuild with `cargo build --release --features wgpu` (or use backend = \"ndarray\")".into(),
        );
        check(
            self.device == Adapter::Default || self.backend == BackendName::Wgpu,
            "device",
            format!("chooses a wgpu adapter and needs backend = \"wgpu\" (backend is \"{}\")", self.backend),
        );
        let data = &self.data;
        let sources: Vec<&str> = [
            ("gate", data.gate.is_some()),
            ("synthetic", data.synthetic.is_some()),
            ("csv", data.csv.is_some()),
        ]
        .iter()
        .filter_map(|&(key, set)| set.then_some(key))
        .collect();
        check(
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
        ] {
            check(ok, &key, message);
        }
        if csv {
            check(
                data.targets.as_ref().is_some_and(|t| !t.is_empty()),
                "data.targets",
                "`csv` data needs the columns to predict: add `targets = [\"column\"]` to [data]".into(),
            );
            if let Some(features) = &data.features {
                check(!features.is_empty(), "data.features", "expected at least one column, found []".into());
            }
        }
        if let Some(samples) = data.samples {
            check(
                (10..=1_000_000).contains(&samples),
                "data.samples",
                format!("expected between 10 and 1000000, found {samples}"),
            );
        }
        if let Some(noise) = data.noise {
            check(
                (0.0..=1.0).contains(&noise),
                "data.noise",
                format!("expected a number between 0 and 1, found {noise}"),
            );
        }
        if let Some(share) = data.valid_fraction {
            check(
                share > 0.0 && share <= 0.9,
                "data.valid_fraction",
                format!("expected a share above 0 and at most 0.9, found {share}"),
            );
        }
        if let Some(patience) = self.training.patience {
            check(patience >= 1, "training.patience", format!("expected at least 1 epoch, found {patience}"));
        }
        check(
            !sources.is_empty(),
            "data",
            "expected a data source: add a [data] table with `gate = \"or\"` (or and, nand, nor, xor, xnor, majority), `synthetic = \"circle\"` (or xor, gauss, spiral, moons), or `csv = \"file.csv\"` with `targets = [\"column\"]`"
                .into(),
        );
        if let Some(inputs) = self.data.inputs {
            check(
                (1..=MAX_GATE_INPUTS).contains(&inputs),
                "data.inputs",
                format!("expected between 1 and {MAX_GATE_INPUTS} inputs (2^inputs rows), found {inputs}"),
            );
        }

        let model = &self.model;
        for (i, &width) in model.hidden_sizes.iter().enumerate() {
            check(
                (1..=MAX_WIDTH).contains(&width),
                "model.hidden_sizes",
                format!("expected every width between 1 and {MAX_WIDTH}, found {width} at position {i}"),
            );
        }
        let layers = model.hidden_sizes.len() + 1;
        for &layer in &model.freeze {
            check(
                (1..=layers).contains(&layer),
                "model.freeze",
                format!(
                    "expected layer numbers between 1 and {layers} (the net has {layers} Linear layers), found {layer}"
                ),
            );
        }
        if model.hidden_sizes.iter().all(|w| (1..=MAX_WIDTH).contains(w)) && self.data.known() {
            let (inputs, outputs) = self.data.widths();
            // A gate's width is capped for this count only: data.inputs is refused above 16.
            let inputs = if self.data.gate.is_some() { inputs.min(MAX_GATE_INPUTS) } else { inputs };
            let mut widths = vec![inputs];
            widths.extend(&model.hidden_sizes);
            widths.push(outputs);
            let params: usize = widths.windows(2).map(|p| p[0] * p[1] + p[1]).sum();
            check(
                params <= MAX_PARAMETERS,
                "model.hidden_sizes",
                format!(
                    "the network would have {params} parameters (about {:.1} GB with the optimizer's state); at most {MAX_PARAMETERS} are accepted",
                    params as f64 * 16.0 / 1e9
                ),
            );
        }
        check(
            !(self.training.loss == Loss::Bce && model.output_activation != OutputActivation::Sigmoid),
            "training.loss",
            "\"bce\" needs probabilities: set model.output_activation = \"sigmoid\", or use loss = \"mse\""
                .into(),
        );
        let softmax = model.output_activation == OutputActivation::Softmax;
        let cross_entropy = self.training.loss == Loss::CrossEntropy;
        match self.data.schema.as_ref().and_then(|s| s.classes.as_ref().map(|c| (c, &s.targets[0]))) {
            Some((classes, column)) => check(
                softmax && cross_entropy,
                "training.loss",
                format!(
                    "column {column:?} holds {} classes ({}): set training.loss = \"cross_entropy\" and model.output_activation = \"softmax\"",
                    classes.len(),
                    list(&classes[..classes.len().min(5)], '"')
                ),
            ),
            None if self.data.known() => {
                // A sigmoid output (and bce) lives in (0, 1): numeric targets outside it can
                // never be reached.
                if let Some((low, high)) = self.data.schema.as_ref().and_then(|s| s.target_range) {
                    let outside = low < 0.0 || high > 1.0;
                    check(
                        !(outside && model.output_activation == OutputActivation::Sigmoid),
                        "model.output_activation",
                        format!(
                            "the targets range from {low} to {high}, and a sigmoid output stays between 0 and 1: set output_activation = \"identity\" for regression (with loss = \"mse\")"
                        ),
                    );
                }
                check(
                    !cross_entropy,
                    "training.loss",
                    "\"cross_entropy\" needs classes: a `csv` target column of class names".into(),
                );
                check(
                    !softmax,
                    "model.output_activation",
                    "\"softmax\" needs classes: a `csv` target column of class names".into(),
                );
            }
            None => {}
        }

        let opt = &self.optimizer;
        let lr = opt.learning_rate;
        check(
            lr.is_finite() && lr > 0.0 && lr <= MAX_LEARNING_RATE,
            "optimizer.learning_rate",
            format!("expected a number > 0 and at most {MAX_LEARNING_RATE:e}, found {lr}"),
        );
        if matches!(opt.schedule, Schedule::Cosine | Schedule::Exponential) {
            check(
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
            check(ok, &key, message);
        }
        let in_unit = |v: Option<f64>| v.is_none_or(|v| (0.0..1.0).contains(&v));
        check(
            in_unit(opt.momentum),
            "optimizer.momentum",
            format!("expected a number in [0, 1), found {}", show(opt.momentum)),
        );
        check(
            in_unit(opt.beta1),
            "optimizer.beta1",
            format!("expected a number in [0, 1), found {}", show(opt.beta1)),
        );
        check(
            in_unit(opt.beta2),
            "optimizer.beta2",
            format!("expected a number in [0, 1), found {}", show(opt.beta2)),
        );
        check(
            opt.epsilon.is_none_or(|e| e.is_finite() && e > 0.0),
            "optimizer.epsilon",
            format!("expected a finite number > 0, found {}", show(opt.epsilon)),
        );
        let wd = opt.weight_decay;
        check(
            wd.is_finite() && wd >= 0.0,
            "optimizer.weight_decay",
            format!("expected a finite number >= 0, found {wd}"),
        );

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
            check(ok, &key, message);
        }
        if let Some(min) = opt.min_learning_rate {
            check(
                min.is_finite() && (0.0..=lr).contains(&min),
                "optimizer.min_learning_rate",
                format!("expected a number between 0 and learning_rate ({lr}), found {min}"),
            );
        }
        if opt.schedule == Schedule::Step {
            check(
                opt.step_epochs.is_some_and(|s| s >= 1),
                "optimizer.step_epochs",
                format!(
                    "schedule = \"step\" needs step_epochs >= 1 (epochs between decays), found {}",
                    show(opt.step_epochs)
                ),
            );
        }
        if let Some(gamma) = opt.gamma {
            check(
                gamma > 0.0 && gamma <= 1.0,
                "optimizer.gamma",
                format!("expected a number in (0, 1], found {gamma}"),
            );
        }

        if let Some(sweep) = &self.sweep {
            check(
                (1..=10_000).contains(&sweep.seeds),
                "sweep.seeds",
                format!("expected between 1 and 10000, found {}", sweep.seeds),
            );
            let runs =
                [sweep.activation.len(), sweep.optimizer.len(), sweep.learning_rate.len(), sweep.init.len()]
                    .iter()
                    .fold(sweep.seeds.min(10_000), |product, &n| product.saturating_mul(n.max(1)));
            check(
                runs <= MAX_SWEEP_RUNS,
                "sweep",
                format!("the grid has {runs} runs; at most {MAX_SWEEP_RUNS} are accepted"),
            );
            for &lr in &sweep.learning_rate {
                check(
                    lr.is_finite() && lr > 0.0 && lr <= MAX_LEARNING_RATE,
                    "sweep.learning_rate",
                    format!("expected numbers > 0 and at most {MAX_LEARNING_RATE:e}, found {lr}"),
                );
            }
        }
        let t = &self.training;
        check(
            (1..=MAX_EPOCHS).contains(&t.num_epochs),
            "training.num_epochs",
            format!("expected between 1 and {MAX_EPOCHS}, found {}", t.num_epochs),
        );
        check(
            t.checkpoint_every >= 1,
            "training.checkpoint_every",
            format!("expected at least 1, found {}", t.checkpoint_every),
        );
        check(
            t.tolerance.is_finite() && t.tolerance >= 0.0,
            "training.tolerance",
            format!("expected a finite number >= 0 (0 never stops early), found {}", t.tolerance),
        );
        if let Some(batch) = t.batch_size {
            let known = !sources.is_empty() && self.data.known();
            let expected = if known {
                format!("between 1 and the {} training rows", self.data.rows())
            } else {
                "at least 1".into()
            };
            let rows = if known { self.data.rows() } else { usize::MAX };
            check(
                (1..=rows).contains(&batch),
                "training.batch_size",
                format!("expected {expected}, found {batch}"),
            );
        }
        problems
    }

    /// The config with every default that applies written out, as saved in the run folder.
    pub fn resolved(mut self) -> Config {
        let opt = &mut self.optimizer;
        use OptimizerName::*;
        match opt.name {
            Sgd => opt.momentum = opt.momentum.or(Some(0.0)),
            RmsProp => {
                opt.momentum = opt.momentum.or(Some(0.0));
                opt.epsilon = opt.epsilon.or(Some(1e-8));
            }
            Adam | AdamW => {
                opt.epsilon = opt.epsilon.or(Some(1e-8));
                opt.beta1 = opt.beta1.or(Some(0.9));
                opt.beta2 = opt.beta2.or(Some(0.999));
            }
        }
        match opt.schedule {
            Schedule::Constant => {}
            Schedule::Cosine => opt.min_learning_rate = opt.min_learning_rate.or(Some(0.0)),
            Schedule::Step => opt.gamma = opt.gamma.or(Some(0.1)),
            Schedule::Exponential => opt.gamma = opt.gamma.or(Some(0.99)),
        }
        if self.data.synthetic.is_some() {
            self.data.samples = self.data.samples.or(Some(500));
            self.data.noise = self.data.noise.or(Some(0.1));
        }
        if self.data.synthetic.is_some() || self.data.csv.is_some() {
            self.data.valid_fraction = self.data.valid_fraction.or(Some(0.2));
        }
        if let Some(schema) = &self.data.schema {
            self.data.features = Some(schema.features.clone());
        }
        if self.data.known() {
            self.data.inputs = self.data.inputs.or(self.data.gate.map(|_| 2));
            self.training.batch_size = self.training.batch_size.or(Some(self.data.rows()));
        }
        self
    }

    /// What differs in `new`, for resuming a run written under `self`.
    pub fn changes(&self, new: &Config) -> Changes {
        // They define the model, the data, the data order or the optimizer's state.
        const FIXED: [&str; 15] = [
            "seed",
            "data.gate",
            "data.targets",
            "data.features",
            "data.inputs",
            "data.synthetic",
            "data.samples",
            "data.noise",
            "data.valid_fraction",
            "model.hidden_sizes",
            "model.activation",
            "model.output_activation",
            "optimizer.name",
            "training.loss",
            "training.batch_size",
        ];
        let cosine = new.optimizer.schedule == Schedule::Cosine;
        let (old_values, new_values) = (flatten(self), flatten(new));
        let keys: std::collections::BTreeSet<&String> = old_values.keys().chain(new_values.keys()).collect();
        let mut changes = Changes::default();
        for key in keys {
            let show = |v: Option<&toml::Value>| v.map_or("(none)".to_string(), |v| v.to_string());
            let (a, b) = (old_values.get(key), new_values.get(key));
            // After epoch 0 the weights come from the checkpoint: init no longer matters.
            // The CSV may move: `resume.rs` checks that its bytes are the same.
            if a == b
                || ["name", "model.init", "data.csv"].contains(&key.as_str())
                || key.starts_with("sweep.")
            {
                continue;
            }
            let line = format!("{key}: {} -> {}", show(a), show(b));
            if FIXED.contains(&key.as_str()) {
                changes.refused.push(line);
                continue;
            }
            // A non-constant schedule's position and rates come back from the checkpoint, so
            // a new rate or schedule would be recorded but not used: refused, not ignored.
            let schedule_key = [
                "optimizer.learning_rate",
                "optimizer.schedule",
                "optimizer.min_learning_rate",
                "optimizer.step_epochs",
                "optimizer.gamma",
            ]
            .contains(&key.as_str());
            if schedule_key
                && (self.optimizer.schedule != Schedule::Constant
                    || new.optimizer.schedule != Schedule::Constant)
            {
                changes.refused.push(format!(
                    "{line} (with a schedule other than \"constant\", the rates come from the checkpoint)"
                ));
                continue;
            }
            // The cosine schedule spreads its decay over num_epochs.
            changes.retrains |= key.starts_with("optimizer.")
                || key == "model.freeze"
                || (key == "training.num_epochs" && cosine);
            changes.taken.push(line);
        }
        changes
    }

    /// What training this config takes, estimated before anything is allocated: parameter
    /// count and peak memory (`gatenet check` prints it).
    pub fn estimate(&self) -> Estimate {
        let (inputs, outputs) = self.data.widths();
        let mut widths = vec![inputs];
        widths.extend(&self.model.hidden_sizes);
        widths.push(outputs);
        let parameters: usize = widths.windows(2).map(|p| p[0] * p[1] + p[1]).sum();
        let rows = self.data.rows();
        let batch = self.training.batch_size.unwrap_or(rows).max(1);
        let f32s = |n: usize| n as f64 * 4.0;
        // Weights, their gradient and up to two optimizer moments (Adam's), kept twice over
        // while a checkpoint is written.
        let model = f32s(parameters) * 5.0;
        // Each layer's output and its gradient for a training batch; the validation pass and
        // the before/after outputs evaluate at most all rows, or 1,000, at once.
        let evaluated = batch
            .max(self.data.valid_rows_or(rows).min(rows))
            .max(rows.min(crate::run::summary::LISTED_ROWS));
        let activations = f32s(widths.iter().sum::<usize>() * evaluated) * 3.0;
        // The rows, each with its inputs and targets.
        let data = f32s(rows * (inputs + outputs)) * 1.25;
        // The binary, Burn and the Learner's threads, measured on an OR run.
        let base = 14e6;
        Estimate { parameters, bytes: model + activations + data + base }
    }

    /// The resolved config as TOML, the text of `config.toml` and of `gatenet check`.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a validated config serializes")
    }
}

fn show<T: fmt::Display>(value: Option<T>) -> String {
    value.map_or("nothing".into(), |v| v.to_string())
}

/// What a config's training takes.
#[derive(Debug)]
pub struct Estimate {
    pub parameters: usize,
    /// Peak memory, roughly.
    pub bytes: f64,
}

impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} parameters; training needs about {:.0} MB of memory", self.parameters, self.bytes / 1e6)
    }
}

/// The differences between a run's config and the one it is resumed with, as
/// `key: old -> new` lines.
#[derive(Debug, Default)]
pub struct Changes {
    /// Settings a resumed run must keep.
    pub refused: Vec<String>,
    /// Settings it may change: rates, schedule, length, tolerance, checkpoints, backend.
    pub taken: Vec<String>,
    /// Whether a taken change alters how the coming epochs train (the optimizer's settings,
    /// or a cosine schedule's length), as opposed to when the run stops or saves.
    pub retrains: bool,
}

/// Every value of a config by dotted key (`optimizer.learning_rate`).
fn flatten(config: &Config) -> std::collections::BTreeMap<String, toml::Value> {
    let mut flat = std::collections::BTreeMap::new();
    let toml::Value::Table(top) = toml::Value::try_from(config).expect("a config serializes") else {
        return flat;
    };
    for (key, value) in top {
        match value {
            toml::Value::Table(section) => {
                flat.extend(section.into_iter().map(|(inner, v)| (format!("{key}.{inner}"), v)));
            }
            value => {
                flat.insert(key, value);
            }
        }
    }
    flat
}

/// `"a", "b", "c"`: names as a config would spell them.
pub(crate) fn list<T: fmt::Display>(names: &[T], quote: char) -> String {
    names.iter().map(|n| format!("{quote}{n}{quote}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.toml");
        std::fs::write(&path, text).unwrap();
        Config::load(&path)
    }

    fn problems(text: &str) -> Vec<String> {
        let err = load_text(text).expect_err("the config should be refused");
        err.problems.iter().map(|p| format!("{:?} {}: {}", p.at, p.key, p.message)).collect()
    }

    const MINIMAL: &str = "[data]\ngate = \"or\"\n";

    #[test]
    fn a_minimal_config_gets_every_default_and_the_file_stem_as_name() {
        let config = load_text(MINIMAL).unwrap();
        assert_eq!(config.name(), "test");
        assert_eq!(config.seed, 42);
        assert_eq!(config.optimizer.epsilon, Some(1e-8));
        assert_eq!(config.training.batch_size, Some(4));
    }

    #[test]
    fn every_table_rejects_a_misspelled_key_by_name_with_a_suggestion() {
        for (table, bad, good) in [
            ("data", "gat = \"or\"", "gate"),
            ("model", "hiden_sizes = [2]", "hidden_sizes"),
            ("optimizer", "learning_rat = 0.1", "learning_rate"),
            ("training", "num_epoch = 3", "num_epochs"),
        ] {
            let text = format!("[data]\ngate = \"or\"\n[{table}]\n{bad}\n")
                .replace("[data]\ngate = \"or\"\n[data]\n", "[data]\n");
            let found = problems(&text).join("\n");
            assert!(found.contains(&format!("did you mean `{good}`")), "{table}: {found}");
            assert!(found.contains(&format!("[{table}]")), "{table}: {found}");
        }
        let top = problems("sed = 1\n[data]\ngate = \"or\"\n").join("\n");
        assert!(top.contains("did you mean `seed`") && top.contains("Some((1, 1))"), "{top}");
    }

    #[test]
    fn all_problems_in_a_file_are_reported_with_line_and_column() {
        let found = problems(
            "[data]\ngate = \"or\"\n[model]\nactivation = \"tanhh\"\n[optimizer]\nlearning_rate = \"fast\"\n[training]\nnum_epochs = 0\n",
        );
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(
            found[0].contains("Some((4, 1)) model.activation") && found[0].contains("did you mean \"tanh\""),
            "{found:?}"
        );
        assert!(
            found[1].contains("Some((6, 1)) optimizer.learning_rate")
                && found[1].contains("expected a number"),
            "{found:?}"
        );
    }

    #[test]
    fn out_of_range_values_name_their_key_and_what_was_found() {
        let found = problems("[data]\ngate = \"or\"\n[model]\nhidden_sizes = [0]\n[optimizer]\nlearning_rate = -1.0\n[training]\nnum_epochs = 0\nbatch_size = 9\n").join("\n");
        for expected in [
            "model.hidden_sizes",
            "optimizer.learning_rate: expected a number > 0 and at most 1e6, found -1",
            "training.num_epochs: expected between 1 and 100000000, found 0",
            "training.batch_size",
        ] {
            assert!(found.contains(expected), "{expected} missing in {found}");
        }
    }

    #[test]
    fn settings_that_do_not_apply_to_the_optimizer_are_refused() {
        let found =
            problems("[data]\ngate = \"or\"\n[optimizer]\nname = \"adam\"\nmomentum = 0.9\n").join("\n");
        assert!(found.contains("optimizer.momentum: does not apply to name = \"adam\""), "{found}");
    }

    #[test]
    fn a_syntax_error_names_line_and_column() {
        let found = problems("[data]\ngate = \"or\n").join("\n");
        assert!(found.contains("Some((2,") && found.contains("invalid TOML"), "{found}");
    }

    #[test]
    fn a_missing_data_table_says_what_to_add() {
        assert!(problems("seed = 1\n").join("\n").contains("add a [data] table"));
    }

    #[test]
    fn the_resolved_config_reads_back_as_the_same_config() {
        let config =
            load_text("[data]\ngate = \"xor\"\n[optimizer]\nname = \"sgd\"\nlearning_rate = 0.5\n").unwrap();
        let again = load_text(&config.to_toml()).unwrap();
        assert_eq!(config.to_toml(), again.to_toml());
    }
}
