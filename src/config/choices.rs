//! The names a config file can choose among, as serde enums: the string in the TOML file is
//! the choice (candle-nn's idea). What each does lives with what it acts on: the activations
//! and inits in model/, the loss in model/loss.rs, the optimizer and backend in training/.

use serde::{Deserialize, Serialize};

/// The nonlinearity between hidden layers (`model.activation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Sigmoid,
    Tanh,
    Relu,
    /// Negative slope 0.01, as torch.nn.LeakyReLU.
    LeakyRelu,
    /// The exact (erf) form, as torch.nn.GELU.
    Gelu,
    Silu,
    Identity,
    /// tanh whose backward pass is deliberately half what it should be: the kind of bug a
    /// hand-written backprop has. It exists so that gatenet's tests (and curious users) can see
    /// `gatenet gradcheck` catch a wrong gradient; do not train with it.
    TanhHalfGradient,
}

/// The function applied to the last layer (`model.output_activation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputActivation {
    /// Outputs in (0, 1): the natural choice for 0/1 targets such as truth tables.
    Sigmoid,
    /// Raw outputs, for regression targets.
    Identity,
    /// Probabilities over the classes of a CSV class column (each row sums to 1).
    Softmax,
}

/// How `gatenet sweep` picks its settings (`sweep.search`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Search {
    /// Every combination of the listed values.
    Grid,
    /// `sweep.trials` settings drawn from the axes, seeded by the config's seed.
    Random,
}

/// The initialisation scheme for every Linear layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// W and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)): torch.nn.Linear's default, and the bound of
    /// Burn's default Kaiming-uniform (gain 1/sqrt(3)).
    Default,
    /// W ~ N(0, 0.01^2), b = 0: the setting of the numpy question that started this project.
    Small,
    /// W ~ U(-a, a) with a = sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio, 2010), b = 0.
    Xavier,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Mean squared error of the outputs: the convention of ../shared/reference/numpy_mlp.py.
    #[default]
    Mse,
    /// Binary cross-entropy of sigmoid outputs, computed from the logits so that it stays
    /// finite when an output saturates.
    Bce,
    /// Cross-entropy of softmax outputs against one-hot classes, from the logits
    /// (log-softmax), averaged over rows.
    CrossEntropy,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerName {
    Sgd,
    #[default]
    Adam,
    AdamW,
    RmsProp,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    #[default]
    Constant,
    /// Half a cosine from `learning_rate` down to `min_learning_rate` over `num_epochs`.
    Cosine,
    /// Multiply by `gamma` every `step_epochs` epochs.
    Step,
    /// Multiply by `gamma` every epoch.
    Exponential,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendName {
    /// Burn's ndarray CPU backend: the default, and what the reference numbers were measured on.
    #[default]
    Ndarray,
    /// Burn's pure-Rust CPU backend, ndarray's successor; level with it on small nets.
    Flex,
    /// Burn's wgpu backend (Vulkan, Metal, DX12, or a software adapter); needs `--features wgpu`.
    Wgpu,
}

/// Which wgpu adapter to use (`device`); only for `backend = "wgpu"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Adapter {
    /// The best adapter wgpu finds: a high-power GPU first, a software one last.
    #[default]
    Default,
    Discrete,
    Integrated,
    /// A software adapter, such as Mesa's lavapipe (`apt-get install mesa-vulkan-drivers`).
    Cpu,
}

/// What to learn: a truth table (`data.gate`); what each gate computes is in data/table.rs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Gate {
    And,
    Or,
    Nand,
    Nor,
    /// 1 when an odd number of inputs are 1 (parity); the classic XOR for 2 inputs.
    Xor,
    /// 1 when an even number of inputs are 1.
    Xnor,
    /// 1 when more than half of the inputs are 1.
    Majority,
}

/// A synthetic 2-D dataset (`data.synthetic`), drawn in data/synthetic.rs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Synthetic {
    /// Label 1 inside a disc, 0 in a ring around it.
    Circle,
    /// Label 1 where both coordinates have the same sign.
    Xor,
    /// Two Gaussian blobs.
    Gauss,
    /// Two interleaved spirals, a turn and three quarters each.
    Spiral,
    /// Two interleaving half circles (scikit-learn's make_moons).
    Moons,
}

crate::display_by_name!(
    Gate,
    Synthetic,
    Activation,
    OutputActivation,
    Init,
    Loss,
    OptimizerName,
    Schedule,
    BackendName,
    Adapter,
    Search
);
