//! The network: a multi-layer perceptron, Linear layers with the chosen activation between them
//! and the output activation last. Training concerns (loss, steps) live in `training/train.rs`.

use crate::config::Loss;
use crate::config::{Activation, OutputActivation};
use crate::config::{Config, ModelSection};
use crate::data::rng::SplitMix64;
use burn::module::{Module, Param, ParamId};
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};

#[derive(Module, Debug)]
pub struct Mlp {
    /// Field names are part of the checkpoint format (`layers.0.weight`, ...): keep them.
    pub layers: Vec<Linear>,
    #[module(skip)]
    pub activation: Activation,
    #[module(skip)]
    pub output: OutputActivation,
    /// What the network is trained to minimise; read by `training/train.rs`'s steps.
    #[module(skip)]
    pub loss: Loss,
    /// Layers, numbered from 1, whose gradients the training step drops (`model.freeze`).
    #[module(skip)]
    pub frozen: Vec<usize>,
    /// Per input, the (mean, std) the network subtracts and divides by before its first layer:
    /// a CSV run's feature scaling, kept with the weights so that every caller of `forward`
    /// (training, pictures, predict) feeds it raw values. `None` for gates and synthetic data.
    #[module(skip)]
    pub scaling: Option<(Vec<f32>, Vec<f32>)>,
}

impl Mlp {
    /// Builds the network `input_width -> hidden_sizes... -> output_width` with weights drawn
    /// from `seed`, identical on every backend.
    pub fn new(
        input_width: usize,
        output_width: usize,
        model: &ModelSection,
        loss: Loss,
        seed: u64,
        device: &Device,
    ) -> Mlp {
        let mut widths = vec![input_width];
        widths.extend(&model.hidden_sizes);
        widths.push(output_width);
        let mut rng = SplitMix64::new(seed);
        let layers = widths
            .windows(2)
            .enumerate()
            .map(|(i, pair)| {
                let (fan_in, fan_out) = (pair[0], pair[1]);
                let (weights, biases) = model.init.layer(fan_in, fan_out, &mut rng);
                let id = 2 * i as u64;
                Linear {
                    weight: param(id + 1, weights, [fan_in, fan_out], device),
                    bias: Some(param(id + 2, biases, [fan_out], device)),
                }
            })
            .collect();
        Mlp {
            layers,
            activation: model.activation,
            output: model.output_activation,
            loss,
            frozen: model.freeze.clone(),
            scaling: None,
        }
    }

    /// The network a config describes, for its data's widths, with its first weights.
    pub fn from_config(config: &Config, device: &Device) -> Mlp {
        let (inputs, outputs) = config.data.widths();
        let mut mlp = Mlp::new(inputs, outputs, &config.model, config.training.loss, config.seed, device);
        mlp.scaling = config.data.schema.as_ref().map(|s| (s.mean.clone(), s.std.clone()));
        mlp
    }

    /// `[rows, input_width] -> [rows, output_width]`, before the output activation.
    pub fn logits(&self, inputs: Tensor<2>) -> Tensor<2> {
        self.traced(inputs).0
    }

    /// The logits and each hidden layer's activations (`[rows, width]`), for the health
    /// measures of `health.rs` and `training/measures.rs`.
    pub fn traced(&self, inputs: Tensor<2>) -> (Tensor<2>, Vec<Tensor<2>>) {
        let (last, hidden_layers) = self.layers.split_last().expect("an Mlp has at least one layer");
        let mut hidden = Vec::with_capacity(hidden_layers.len());
        let mut x = self.scaled(inputs);
        for layer in hidden_layers {
            x = self.activation.forward(layer.forward(x));
            hidden.push(x.clone());
        }
        (last.forward(x), hidden)
    }

    /// The inputs as the first layer sees them: a CSV's features scaled, others as they are.
    pub fn scaled(&self, inputs: Tensor<2>) -> Tensor<2> {
        match &self.scaling {
            None => inputs,
            Some((mean, std)) => {
                let row = |values: &[f32]| {
                    Tensor::<2>::from_data(
                        TensorData::new(values.to_vec(), [1, values.len()]),
                        &inputs.device(),
                    )
                };
                (inputs.clone() - row(mean)) / row(std)
            }
        }
    }

    /// Layer `index`'s (from 0) activation of its `z`: the hidden activation, or the output
    /// activation on the last layer.
    pub fn activate(&self, index: usize, z: Tensor<2>) -> Tensor<2> {
        if index + 1 == self.layers.len() { self.output.forward(z) } else { self.activation.forward(z) }
    }

    /// The name of [`Mlp::activate`]'s activation, as the config spells it.
    pub fn activation_name(&self, index: usize) -> String {
        if index + 1 == self.layers.len() { self.output.to_string() } else { self.activation.to_string() }
    }

    /// The loss of the rest of the forward pass from layer `index`'s `z` (and its activation
    /// `a`, when given instead of computed from `z`): what `gatenet trace` differentiates to
    /// get dL/dz and dL/da from autodiff.
    pub fn loss_from(
        &self,
        index: usize,
        z: Tensor<2>,
        a: Option<Tensor<2>>,
        targets: &Tensor<2>,
    ) -> Tensor<1> {
        let mut logits = z.clone();
        let mut a = a.unwrap_or_else(|| self.activate(index, z));
        for (j, layer) in self.layers.iter().enumerate().skip(index + 1) {
            logits = layer.forward(a);
            a = self.activate(j, logits.clone());
        }
        self.loss.forward(logits, a, targets.clone())
    }

    /// `[rows, input_width] -> [rows, output_width]`: what the network answers.
    pub fn forward(&self, inputs: Tensor<2>) -> Tensor<2> {
        self.output.forward(self.logits(inputs))
    }
}

/// A trainable parameter with a fixed id (Burn draws random ones), so that the same config saves
/// the same bytes: checkpoints and model.bpk are reproducible bit for bit.
fn param<const D: usize>(id: u64, values: Vec<f32>, shape: [usize; D], device: &Device) -> Param<Tensor<D>> {
    let tensor = Tensor::from_data(TensorData::new(values, shape), device);
    Param::initialized(ParamId::from(id), tensor).set_require_grad(true)
}
