//! The TOML config: serde structs that mirror the file's tables, checked once
//! ([`Config::validate`]) and passed down as typed values. Nothing past this module and
//! `load.rs` (which reads the file and reports its problems) reads a config string.
//! Burn's `#[derive(Config)]` is not used for the file because it silently ignores unknown keys.

use crate::config::Init;
use crate::config::Loss;
use crate::config::csv_schema::{Schema, held_out};
use crate::config::limits::MAX_GATE_INPUTS;
use crate::config::space::Space;
use crate::config::{Activation, OutputActivation};
use crate::config::{Adapter, BackendName};
use crate::config::{Gate, Synthetic};
use crate::config::{OptimizerName, Schedule, Search};
use serde::{Deserialize, Serialize};
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
    /// `true`: the target column's values are class names even where they are numbers (digits
    /// 0 to 9, a 0/1 `survived`). Default: a column of text is classes, numbers are numbers;
    /// `loss = "cross_entropy"` asks for classes too.
    pub classes: Option<bool>,
    /// The CSV's columns, classes, scaling and size: found by reading the file while the config
    /// is loaded ([`Config::load_reading`]), or the run folder's data.json for a trained run.
    /// The rows themselves belong to the data layer (data/dataset.rs).
    #[serde(skip)]
    pub schema: Option<Arc<Schema>>,
}

impl DataSection {
    /// The data sources the config names: gate, synthetic, csv.
    pub fn sources(&self) -> Vec<&'static str> {
        [("gate", self.gate.is_some()), ("synthetic", self.synthetic.is_some()), ("csv", self.csv.is_some())]
            .iter()
            .filter_map(|&(key, set)| set.then_some(key))
            .collect()
    }

    /// The synthetic points held out for validation.
    pub fn synthetic_valid_rows(&self) -> usize {
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
        match (&self.schema, self.synthetic) {
            (Some(schema), _) => schema.rows.saturating_sub(self.csv_valid_rows(schema)),
            (None, Some(_)) => self.samples.unwrap_or(500).saturating_sub(self.synthetic_valid_rows()),
            (None, None) if self.csv.is_some() => 0,
            (None, None) => 1 << self.inputs.unwrap_or(2).min(MAX_GATE_INPUTS),
        }
    }

    /// Validation rows: held-out ones, or `rows` for a truth table (validated on its own rows).
    pub(crate) fn valid_rows_or(&self, rows: usize) -> usize {
        match (&self.schema, self.synthetic) {
            (Some(schema), _) => self.csv_valid_rows(schema),
            (None, Some(_)) => self.synthetic_valid_rows(),
            _ => rows,
        }
    }

    fn csv_valid_rows(&self, schema: &Schema) -> usize {
        held_out(schema.rows, self.valid_fraction.unwrap_or(0.2))
    }

    /// Whether the rows are known: always, except for a CSV file not read yet.
    pub(crate) fn known(&self) -> bool {
        self.csv.is_none() || self.schema.is_some()
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
    /// Default 0.1; 0 for sampled (synthetic or CSV) data, whose noisy points never all come
    /// within a tolerance (load.rs: `sampled_data_defaults`).
    pub tolerance: f64,
    /// Epochs between checkpoints; the last epoch is always saved. Default 100.
    pub checkpoint_every: usize,
    /// Stop when the validation loss has not improved for this many epochs. Default: never;
    /// for sampled data that sets no tolerance either, a fifth of `num_epochs`.
    pub patience: Option<usize>,
    /// End every run with the weights of the epoch with the lowest validation loss in
    /// model.bpk, however it ended. Default false.
    pub restore_best: bool,
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
            restore_best: false,
        }
    }
}

/// `[sweep]` in a config, or the same axes on the command line (which win). An axis left
/// out (empty here) keeps the config's own setting; a file cannot write an empty list. An axis
/// may be a list or, for the numbers, a range (`space.rs`), which only a random search samples.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SweepSection {
    // An axis left out is written out left out: an empty list would not read back.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub activation: Vec<Activation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub optimizer: Vec<OptimizerName>,
    #[serde(skip_serializing_if = "Space::is_empty")]
    pub learning_rate: Space<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub init: Vec<Init>,
    /// The width of every hidden layer (their number stays the config's).
    #[serde(skip_serializing_if = "Space::is_empty")]
    pub width: Space<usize>,
    /// Seeds 0 to seeds - 1 for every setting. Default 20.
    pub seeds: usize,
    /// `grid` (every combination) or `random` (`trials` settings drawn from the axes). Default:
    /// random when an axis is a range, else grid.
    pub search: Option<Search>,
    /// The settings a random search draws. Default 20.
    pub trials: Option<usize>,
    /// Successive halving: after each rung keep the best 1/halving of the settings, and train
    /// them halving times longer, from `min_epochs` up to `max_epochs`.
    pub halving: Option<usize>,
    /// The fewest epochs of the first rung, which is `training.num_epochs` / halving^k for the
    /// largest k that keeps it at least this. Default: `training.num_epochs` / halving^3, at
    /// least 1.
    pub min_epochs: Option<usize>,
    /// The last rung's epochs. Default: `training.num_epochs`.
    pub max_epochs: Option<usize>,
}

impl Default for SweepSection {
    fn default() -> Self {
        SweepSection {
            activation: Vec::new(),
            optimizer: Vec::new(),
            learning_rate: Space::default(),
            init: Vec::new(),
            width: Space::default(),
            seeds: 20,
            search: None,
            trials: None,
            halving: None,
            min_epochs: None,
            max_epochs: None,
        }
    }
}

impl SweepSection {
    /// The search the sweep runs: the one it names, else random when an axis is a range.
    pub fn search(&self) -> Search {
        let ranged = self.learning_rate.range().is_some() || self.width.range().is_some();
        self.search.unwrap_or(if ranged { Search::Random } else { Search::Grid })
    }

    /// The settings a random search draws (20 unless `trials` says).
    pub fn trials(&self) -> usize {
        self.trials.unwrap_or(20)
    }
}

impl Config {
    /// The number of Linear layers: one per hidden layer, and the output layer.
    pub fn layers(&self) -> usize {
        self.model.hidden_sizes.len() + 1
    }

    /// The run name; set from the file stem by loading when the file has none (a path always
    /// has one: a config is a file), so the fallback names only a config built in code.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("gatenet")
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

    /// The resolved config as TOML, the text of `config.toml` and of `gatenet check`.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a validated config serializes")
    }
}
