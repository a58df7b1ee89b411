//! The activation functions a config can name, as serde enums: the string in the TOML file is
//! the function (candle-nn's idea). Hidden layers use [`Activation`]; the last layer uses
//! [`OutputActivation`].

use burn::tensor::{Tensor, activation};
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
}

impl Activation {
    pub fn forward<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Self::Sigmoid => activation::sigmoid(x),
            Self::Tanh => activation::tanh(x),
            Self::Relu => activation::relu(x),
            Self::LeakyRelu => activation::leaky_relu(x, 0.01),
            Self::Gelu => activation::gelu(x),
            Self::Silu => activation::silu(x),
            Self::Identity => x,
        }
    }
}

/// The function applied to the last layer (`model.output_activation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputActivation {
    /// Outputs in (0, 1): the natural choice for 0/1 targets such as truth tables.
    Sigmoid,
    /// Raw outputs, for regression targets.
    Identity,
}

impl OutputActivation {
    pub fn forward<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Self::Sigmoid => activation::sigmoid(x),
            Self::Identity => x,
        }
    }
}
