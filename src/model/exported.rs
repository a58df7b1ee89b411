//! A trained network as plain numbers and names, the common ground of every export format
//! (`safetensors.rs`, `onnx.rs`): each layer's weights and biases, the activations, a CSV run's
//! input scaling, and what the inputs and outputs are called. Everything `gatenet predict`
//! uses to answer, and nothing else.

use crate::config::csv_schema::Schema;
use crate::config::{Activation, OutputActivation};
use crate::model::mlp::Mlp;

/// One Linear layer: `y = x W + b`.
pub struct Layer {
    pub inputs: usize,
    pub outputs: usize,
    /// Burn's layout: `[inputs, outputs]`, row-major (torch's is the transpose).
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

impl Layer {
    /// The weights in torch's layout, `[outputs, inputs]`, row-major.
    pub fn weight_out_in(&self) -> Vec<f32> {
        let mut out = vec![0.0; self.weight.len()];
        for i in 0..self.inputs {
            for o in 0..self.outputs {
                out[o * self.inputs + i] = self.weight[i * self.outputs + o];
            }
        }
        out
    }
}

/// A network ready to be written in another tool's format.
pub struct Exported {
    pub layers: Vec<Layer>,
    /// Between hidden layers.
    pub activation: Activation,
    /// On the last layer.
    pub output: OutputActivation,
    /// Per input, the mean and standard deviation a CSV run's network subtracts and divides by
    /// before its first layer: raw values go in, as with `gatenet predict`.
    pub scaling: Option<(Vec<f32>, Vec<f32>)>,
    /// The inputs' names: a CSV run's feature columns, or `in1`, `in2`, ...
    pub features: Vec<String>,
    /// The outputs' names: a CSV run's target columns, or `out1`, ...; one column of class
    /// names for a classifier, whose outputs are `classes`.
    pub targets: Vec<String>,
    pub classes: Option<Vec<String>>,
    /// The run's name, and where the weights came from (`model.bpk`, a checkpoint).
    pub name: String,
    pub source: String,
}

impl Exported {
    /// The numbers of `model`; the names from a CSV run's schema, or numbered.
    pub fn new(model: &Mlp, schema: Option<&Schema>, name: &str, source: &str) -> Exported {
        let layers: Vec<Layer> = model
            .layers
            .iter()
            .map(|linear| {
                let [inputs, outputs] = linear.weight.val().dims();
                let weight = linear.weight.val().into_data().iter::<f32>().collect();
                let bias = match &linear.bias {
                    Some(bias) => bias.val().into_data().iter::<f32>().collect(),
                    None => vec![0.0; outputs],
                };
                Layer { inputs, outputs, weight, bias }
            })
            .collect();
        let numbered = |prefix: &str, n: usize| (1..=n).map(|i| format!("{prefix}{i}")).collect();
        let (inputs, outputs) =
            (layers.first().map_or(0, |l| l.inputs), layers.last().map_or(0, |l| l.outputs));
        let (features, targets, classes) = match schema {
            Some(schema) => (schema.features.clone(), schema.targets.clone(), schema.classes.clone()),
            None => (numbered("in", inputs), numbered("out", outputs), None),
        };
        Exported {
            layers,
            activation: model.activation,
            output: model.output,
            scaling: model.scaling.clone(),
            features,
            targets,
            classes,
            name: name.to_string(),
            source: source.to_string(),
        }
    }

    /// Inputs, each hidden width, outputs.
    pub fn widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self.layers.first().map(|l| l.inputs).into_iter().collect();
        widths.extend(self.layers.iter().map(|l| l.outputs));
        widths
    }

    /// What the activations are called in the config file (and so in the exported metadata).
    /// `tanh_half_gradient` computes tanh: only its gradient differs, and no export has one.
    pub fn activation_name(&self) -> String {
        match self.activation {
            Activation::TanhHalfGradient => Activation::Tanh.to_string(),
            other => other.to_string(),
        }
    }

    /// The metadata every format carries, as text: names as JSON lists, numbers as JSON.
    pub fn metadata(&self) -> Vec<(String, String)> {
        let mut fields = vec![
            ("gatenet_version", env!("CARGO_PKG_VERSION").to_string()),
            ("name", self.name.clone()),
            ("source", self.source.clone()),
            ("widths", json(&self.widths())),
            ("activation", self.activation_name()),
            ("output_activation", self.output.to_string()),
            ("leaky_relu_slope", "0.01".to_string()),
            ("features", json(&self.features)),
            ("targets", json(&self.targets)),
            ("scaled_inputs", (self.scaling.is_some()).to_string()),
        ];
        if let Some(classes) = &self.classes {
            fields.push(("classes", json(classes)));
        }
        fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }
}

/// A list or number as JSON text (of plain strings and numbers, which always serialize).
fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
