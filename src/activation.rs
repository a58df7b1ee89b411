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
    /// tanh whose backward pass is deliberately half what it should be: the kind of bug a
    /// hand-written backprop has. It exists so that gatenet's tests (and curious users) can see
    /// `gatenet gradcheck` catch a wrong gradient; do not train with it.
    TanhHalfGradient,
}

impl Activation {
    pub fn forward<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Self::Sigmoid => sigmoid(x),
            Self::Tanh => activation::tanh(x),
            Self::Relu => activation::relu(x),
            Self::LeakyRelu => activation::leaky_relu(x, 0.01),
            // x * Phi(x) spelled out: Burn 0.22.1's fused gelu has a backward pass that is off
            // by up to 1e-3 relative in float64 (gradcheck caught it); erf's own is exact.
            Self::Gelu => {
                x.clone() * x.div_scalar(std::f64::consts::SQRT_2).erf().add_scalar(1.0).mul_scalar(0.5)
            }
            Self::Silu => x.clone() * sigmoid(x),
            Self::Identity => x,
            // The value is tanh(x) exactly (t - t.detach() is 0), but the gradient flows only
            // through the halved term.
            Self::TanhHalfGradient => {
                let t = activation::tanh(x);
                t.clone().detach() + (t.clone() - t.detach()).mul_scalar(0.5)
            }
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
    /// Probabilities over the classes of a CSV class column (each row sums to 1).
    Softmax,
}

impl OutputActivation {
    pub fn forward<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Self::Sigmoid => sigmoid(x),
            Self::Identity => x,
            Self::Softmax => activation::softmax(x, D - 1),
        }
    }
}

/// The logistic sigmoid as 0.5 (1 + tanh(x / 2)): the same function, exact in float64 and
/// stable at both ends (its slope goes to 0, never to inf / inf). Burn 0.22.1's own `sigmoid`
/// (and `silu`, built on it) rounds through float32 on the ndarray backend even for float64
/// tensors, which `gatenet gradcheck` caught: finite differences then disagree at 1e-2.
pub fn sigmoid<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    activation::tanh(x.mul_scalar(0.5)).add_scalar(1.0).mul_scalar(0.5)
}
