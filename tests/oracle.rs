//! gatenet's network against the numpy reference, from the same fixed weights: one forward
//! pass, then one SGD and one Adam update through gatenet's optimizer settings and Burn's
//! Learner, on OR with a 2-6-1 tanh network, sigmoid output and MSE loss.
//!
//! The expected numbers were computed in float64 by `../shared/reference/numpy_mlp.py`, from
//! that folder:
//!
//! ```text
//! python3 - <<'PY'
//! import numpy as np, numpy_mlp as m
//! def fixed():
//!     net = m.MLP([2,6,1], "tanh", "default", np.random.default_rng(0))
//!     net.W[0] = np.array([[0.1*(j+1)*(-1)**j for j in range(6)], [0.3-0.1*j for j in range(6)]])
//!     net.b[0] = np.array([0.05*j-0.1 for j in range(6)])
//!     net.W[1] = np.array([[0.2-0.07*j] for j in range(6)])
//!     net.b[1] = np.array([0.1])
//!     return net
//! print(fixed().forward(m.X_OR)[-1].ravel().tolist(), fixed().loss(m.X_OR, m.Y_OR))
//! for name, lr in [("sgd", 0.5), ("adam", 0.05)]:
//!     net = fixed(); o = m.make_opt(name, net, lr)
//!     o.step(net.backward(net.forward(m.X_OR), m.Y_OR))
//!     print(name, net.forward(m.X_OR)[-1].ravel().tolist())
//! PY
//! ```

use burn::module::{Module, Param, ParamId};
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};
use burn::train::Learner;
use gatenet::config::Gate;
use gatenet::config::{
    Activation, Adapter, BackendName, Loss, ModelSection, OptimizerName, OptimizerSection,
};
use gatenet::model::mlp::Mlp;
use gatenet::training::optim::{optimizer, schedule};

/// float32 against float64, after one step: within 2e-6 of every output.
const CLOSE: f32 = 2e-6;

fn param<const D: usize>(values: Vec<f32>, shape: [usize; D], device: &Device) -> Param<Tensor<D>> {
    Param::initialized(ParamId::new(), Tensor::from_data(TensorData::new(values, shape), device))
        .set_require_grad(true)
}

/// The 2-6-1 network with the weights of the numpy command above (row-major `[in, out]`).
fn fixed(device: &Device) -> Mlp {
    let model =
        ModelSection { hidden_sizes: vec![6], activation: Activation::Tanh, ..ModelSection::default() };
    let mut mlp = Mlp::new(2, 1, &model, Loss::Mse, 0, device);
    let sign = |j: usize| if j % 2 == 0 { 1.0 } else { -1.0 };
    let mut first: Vec<f32> = (0..6).map(|j| 0.1 * (j + 1) as f32 * sign(j)).collect();
    first.extend((0..6).map(|j| 0.3 - 0.1 * j as f32));
    mlp.layers = vec![
        Linear {
            weight: param(first, [2, 6], device),
            bias: Some(param((0..6).map(|j| 0.05 * j as f32 - 0.1).collect(), [6], device)),
        },
        Linear {
            weight: param((0..6).map(|j| 0.2 - 0.07 * j as f32).collect(), [6, 1], device),
            bias: Some(param(vec![0.1], [1], device)),
        },
    ];
    mlp
}

fn answers(mlp: &Mlp, device: &Device) -> Vec<f32> {
    let table = Gate::Or.table(2);
    mlp.forward(table.batch(&[0, 1, 2, 3], device).inputs).into_data().try_to_vec::<f32>().unwrap()
}

fn assert_close(found: &[f32], expected: [f64; 4], what: &str) {
    for (f, e) in found.iter().zip(expected) {
        assert!((f - e as f32).abs() < CLOSE, "{what}: {found:?}, numpy says {expected:?}");
    }
}

/// The outputs after one update with `name` at `learning_rate`, through the Learner.
fn after_one_step(name: OptimizerName, learning_rate: f64) -> Vec<f32> {
    let device = BackendName::Ndarray.select(Adapter::Default).unwrap();
    let autodiff = device.clone().autodiff();
    let section = OptimizerSection { name, learning_rate, ..OptimizerSection::default() };
    let mut learner = Learner::new(fixed(&autodiff), optimizer(&section), schedule(&section, 1, 1).unwrap());
    let batch = Gate::Or.table(2).batch(&[0, 1, 2, 3], &autodiff);
    let step = learner.train_step(batch);
    learner.lr_step();
    learner.optimizer_step(step.grads);
    answers(&learner.model().valid(), &device)
}

#[test]
fn the_forward_pass_from_fixed_weights_matches_numpy() {
    let device = BackendName::Ndarray.select(Adapter::Default).unwrap();
    let expected = [0.5106898792848424, 0.5428457555310202, 0.5273038043153265, 0.55643592290408];
    assert_close(&answers(&fixed(&device), &device), expected, "before training");
}

#[test]
fn one_sgd_update_matches_numpy() {
    let expected = [0.5238468130862163, 0.5597484454840893, 0.5530295204294761, 0.5850071999679237];
    assert_close(&after_one_step(OptimizerName::Sgd, 0.5), expected, "after one SGD step at 0.5");
}

#[test]
fn one_adam_update_matches_numpy() {
    let expected = [0.5303559733513697, 0.5744174293386219, 0.5784356602458843, 0.615134820778004];
    assert_close(&after_one_step(OptimizerName::Adam, 0.05), expected, "after one Adam step at 0.05");
}
