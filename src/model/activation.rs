//! What the activation functions a config names do: hidden layers use [`Activation`], the last
//! layer [`OutputActivation`] (both named in config/choices.rs).

use crate::config::{Activation, OutputActivation};
use burn::tensor::{Tensor, activation};

impl Activation {
    pub fn forward<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Self::Sigmoid => sigmoid(x),
            Self::Tanh => tanh(x),
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
    tanh(x.mul_scalar(0.5)).add_scalar(1.0).mul_scalar(0.5)
}

/// Layers at least this wide take tanh through exp (see [`tanh`]).
const TANH_BY_EXP: usize = 32;

/// tanh. Burn 0.22.1's ndarray backend computes a float32 tanh through libm's float64 `tanh`,
/// one element at a time: half of a 100,000-row epoch of a 16-64-64-1 tanh net (perf). On a
/// wide layer, 1 - 2 / (exp(2x) + 1) with libm's float32 `exp` is faster even though it is
/// seven tensor ops instead of one; on a narrow one the ops' own cost wins, so Burn's is kept.
/// The choice depends on the width alone, never on the number of rows, so that a row gets the
/// same output in training, `predict --input` and `predict --csv`. The formula's error is
/// absolute (under 1e-7 in float32), not relative: tanh of |x| < 3e-8 comes out as 0.
/// x is clamped to [-15, 15], where tanh is 1 to within 2e-13 in float64: exp(2x) then never
/// overflows.
///
/// On a wide layer the backward pass uses the saved output, tanh' = 1 - tanh^2, instead of
/// differentiating the seven ops (Burn's autodiff would recompute the exp): the value is
/// computed off the graph, and only `x * slope` is tracked, as `y + (p - p.detach())`, which
/// is `y` exactly and has the gradient `slope`.
pub fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if x.dims()[D - 1] < TANH_BY_EXP {
        return activation::tanh(x);
    }
    let y = x
        .clone()
        .detach()
        .clamp(-15.0, 15.0)
        .mul_scalar(2.0)
        .exp()
        .add_scalar(1.0)
        .recip()
        .mul_scalar(-2.0)
        .add_scalar(1.0);
    if !x.is_autodiff() {
        return y;
    }
    let slope = y.clone().square().neg().add_scalar(1.0);
    let tracked = x * slope;
    y + (tracked.clone() - tracked.detach())
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    #[test]
    fn tanh_through_exp_matches_tanh_and_its_gradient_on_a_wide_layer() {
        #[allow(deprecated)] // the reference CPU backend
        let device = Device::ndarray().autodiff();
        let values: Vec<f32> =
            (0..TANH_BY_EXP).map(|i| -20.0 + 40.0 * i as f32 / TANH_BY_EXP as f32).collect();
        let x =
            Tensor::<1>::from_data(TensorData::new(values.clone(), [values.len()]), &device).require_grad();
        let y = tanh(x.clone());
        let grads = y.clone().sum().backward();
        let outputs: Vec<f32> = y.into_data().iter::<f32>().collect();
        let slopes: Vec<f32> = x.grad(&grads).unwrap().into_data().iter::<f32>().collect();
        for ((&v, &t), &slope) in values.iter().zip(&outputs).zip(&slopes) {
            assert!((t - v.tanh()).abs() < 1e-6, "tanh({v}) = {t}");
            let exact = 1.0 - v.tanh() * v.tanh();
            assert!(slope.is_finite() && (slope - exact).abs() < 1e-5, "tanh'({v}) = {slope}, not {exact}");
        }
    }
}
