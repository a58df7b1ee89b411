//! Every number of a run's first optimizer steps, for a learner to diff against their own
//! backprop: per layer the input, `z`, `a`, and `dL/da`, `dL/dz`, `dL/dW`, `dL/db`, the weights
//! before and after, and the optimizer's state.
//!
//! The step is the one `gatenet train` takes: the same batches, Burn's `TrainStep` (frozen
//! layers' gradients dropped), the schedule's rate and Burn's optimizer, so that the weights
//! after step N are those a run has after N steps (what it saves, when N ends an epoch). The parameter gradients are the ones the
//! optimizer is handed. The gradients of the intermediates come from Burn's autodiff too: the
//! forward pass is run again from a copy of `z` (or `a`) made a leaf that requires a gradient,
//! so that autodiff differentiates the rest of the network with respect to it.

use crate::config::{Config, Loss};
use crate::data::dataset::Dataset;
use crate::data::table::XyBatch;
use crate::model::mlp::Mlp;
use crate::training::optim::{optimizer, schedule};
use burn::data::dataloader::DataLoader;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};
use burn::train::TrainStep;
use serde::Serialize;

/// How Burn lays out a Linear layer, against torch's.
pub const LAYOUT: &str = "W is [in, out] and z = a_prev @ W + b, as Burn stores it; torch's nn.Linear keeps \
                          W.T ([out, in]) and computes a_prev @ W.T + b";

/// The trace of the first steps, as trace.json holds it.
#[derive(Serialize)]
pub struct Trace {
    pub network: String,
    pub loss: String,
    pub optimizer: String,
    pub weight_layout: &'static str,
    pub steps: Vec<Step>,
}

#[derive(Serialize)]
pub struct Step {
    /// From 1.
    pub step: usize,
    pub epoch: usize,
    pub learning_rate: f64,
    /// The batch's loss, before the update.
    pub loss: f64,
    /// `[rows, inputs]`: what the first layer sees (a CSV's features after their scaling).
    pub input: Vec<Vec<f32>>,
    pub targets: Vec<Vec<f32>>,
    pub layers: Vec<Layer>,
}

#[derive(Serialize)]
pub struct Layer {
    /// From 1 on the input side.
    pub layer: usize,
    /// The activation applied to `z`: the hidden one, or the output's.
    pub activation: String,
    /// Shapes of the arrays below, by name.
    pub shapes: Shapes,
    pub weight_before: Vec<Vec<f32>>,
    pub bias_before: Vec<f32>,
    /// `a_prev @ W + b`, `[rows, out]`.
    pub z: Vec<Vec<f32>>,
    pub a: Vec<Vec<f32>>,
    /// Absent for the last layer of a loss computed from its logits (`bce`, `cross_entropy`),
    /// which does not read `a`.
    #[serde(rename = "dL_da")]
    pub dl_da: Option<Vec<Vec<f32>>>,
    #[serde(rename = "dL_dz")]
    pub dl_dz: Vec<Vec<f32>>,
    /// What the optimizer is handed (absent for a frozen layer, whose gradient is dropped).
    #[serde(rename = "dL_dW")]
    pub dl_dw: Option<Vec<Vec<f32>>>,
    #[serde(rename = "dL_db")]
    pub dl_db: Option<Vec<f32>>,
    pub weight_after: Vec<Vec<f32>>,
    pub bias_after: Vec<f32>,
    /// The optimizer's state for this layer's weight and bias after the step, by Burn's names
    /// (Adam's `momentum.moment_1`, `momentum.moment_2`, `momentum.time`; none for plain SGD).
    pub optimizer_state: Vec<State>,
}

#[derive(Serialize)]
pub struct Shapes {
    pub weight: [usize; 2],
    pub z: [usize; 2],
}

#[derive(Serialize)]
pub struct State {
    /// e.g. "weight moment_1".
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// Traces the first `steps` optimizer steps of the run the config describes, on `device`.
pub fn trace(config: &Config, data: &Dataset, steps: usize, device: &Device) -> Result<Trace, String> {
    let (table, _) = data.split(config.seed);
    let autodiff = device.clone().autodiff();
    let mut model = Mlp::from_config(config, &autodiff);
    let batch_size = config.training.batch_size.unwrap_or(table.rows()).max(1);
    let steps_per_epoch = table.rows().div_ceil(batch_size);
    let loader =
        crate::data::table::XyLoader::new(table.clone(), batch_size, config.seed, true, 1, &autodiff);
    let mut optim = optimizer(&config.optimizer);
    let mut rates = schedule(&config.optimizer, config.training.num_epochs, steps_per_epoch)?;
    let mut traced = Vec::with_capacity(steps.min(1024));
    'epochs: for epoch in 1.. {
        for batch in loader.iter() {
            if traced.len() == steps {
                break 'epochs;
            }
            // As Burn's Learner: the step, then the rate, then the update.
            let before = model.clone();
            let batch = batch.map_err(|e| format!("cannot read a batch: {e}"))?;
            let output = TrainStep::step(&model, batch.clone());
            let learning_rate = rates.step().base();
            let grads = output.grads;
            let parameter_grads: Vec<_> = model
                .layers
                .iter()
                .map(|l| (grads.get::<2>(l.weight.id), l.bias.as_ref().and_then(|b| grads.get::<1>(b.id))))
                .collect();
            model = optim.step(learning_rate, model, grads);
            let loss = output.item.loss.into_scalar::<f64>();
            let step =
                Step { step: traced.len() + 1, epoch, learning_rate, loss, ..layers(&before, &batch)? };
            let state = optim.into_bytes().map_err(|e| format!("cannot read the optimizer's state: {e}"))?;
            traced.push(with_updates(step, parameter_grads, &model, state)?);
        }
    }
    let model_section = &config.model;
    let (inputs, outputs) = config.data.widths();
    let mut widths = vec![inputs.to_string()];
    widths.extend(model_section.hidden_sizes.iter().map(|w| w.to_string()));
    widths.push(outputs.to_string());
    Ok(Trace {
        network: format!(
            "{} {}, {} output",
            widths.join("-"),
            model_section.activation,
            model_section.output_activation
        ),
        loss: config.training.loss.to_string(),
        optimizer: format!("{} at learning rate {}", config.optimizer.name, config.optimizer.learning_rate),
        weight_layout: LAYOUT,
        steps: traced,
    })
}

/// The forward pass of `model` on `batch` layer by layer, and the loss's gradient with respect
/// to each layer's `z` and `a`.
fn layers(model: &Mlp, batch: &XyBatch) -> Result<Step, String> {
    let count = model.layers.len();
    let mut input = model.scaled(batch.inputs.clone());
    let first = input.clone();
    let mut layers = Vec::with_capacity(count);
    for (i, linear) in model.layers.iter().enumerate() {
        let z = linear.forward(input.clone());
        let a = model.activate(i, z.clone());
        // dL/dz and dL/da: the rest of the pass from a leaf copy of each.
        let from_z = z.clone().detach().require_grad();
        let dl_dz = model.loss_from(i, from_z.clone(), None, &batch.targets).backward();
        // The last layer's `a` is read by the loss only for mse: bce and cross-entropy read its
        // logits (and autodiff has nothing to differentiate).
        let reads_a = i + 1 < count || model.loss == Loss::Mse;
        let from_a = a.clone().detach().require_grad();
        let dl_da = reads_a
            .then(|| model.loss_from(i, z.clone().detach(), Some(from_a.clone()), &batch.targets).backward());
        let grad = |t: Tensor<2>, grads| t.grad(grads).map(rows).transpose();
        let [fan_in, fan_out] = linear.weight.val().dims();
        layers.push(Layer {
            layer: i + 1,
            activation: model.activation_name(i),
            shapes: Shapes { weight: [fan_in, fan_out], z: z.dims() },
            weight_before: rows(linear.weight.val())?,
            bias_before: flat(bias(linear))?,
            z: rows(z)?,
            a: rows(a.clone())?,
            dl_da: match &dl_da {
                Some(grads) => grad(from_a, grads)?,
                None => None,
            },
            dl_dz: grad(from_z, &dl_dz)?.ok_or("autodiff gave no gradient for z")?,
            dl_dw: None,
            dl_db: None,
            weight_after: Vec::new(),
            bias_after: Vec::new(),
            optimizer_state: Vec::new(),
        });
        input = a;
    }
    Ok(Step {
        step: 0,
        epoch: 0,
        learning_rate: 0.0,
        loss: 0.0,
        input: rows(first)?,
        targets: rows(batch.targets.clone())?,
        layers,
    })
}

/// The step's parameter gradients, the weights after it and the optimizer's state (Burn's
/// record of it, whose entries are named `{param_id}.{field}`).
fn with_updates(
    mut step: Step,
    grads: Vec<(Option<Tensor<2>>, Option<Tensor<1>>)>,
    after: &Mlp,
    state: burn::tensor::Bytes,
) -> Result<Step, String> {
    let unreadable = |e: burn_pack::Error| format!("cannot read the optimizer's state: {e}");
    let reader = burn_pack::Reader::from_bytes(state).map_err(unreadable)?;
    let scalars = reader.scalars().clone();
    let tensors = reader.into_tensors().map_err(unreadable)?;
    for ((layer, (weight_grad, bias_grad)), linear) in step.layers.iter_mut().zip(grads).zip(&after.layers) {
        layer.dl_dw = weight_grad.map(rows).transpose()?;
        layer.dl_db = bias_grad.map(flat).transpose()?;
        layer.weight_after = rows(linear.weight.val())?;
        layer.bias_after = flat(bias(linear))?;
        let bias_id = linear.bias.as_ref().map(|b| b.id.val());
        for (part, id) in [("weight", Some(linear.weight.id.val())), ("bias", bias_id)] {
            let Some(id) = id else { continue };
            let prefix = format!("{id}.");
            for tensor in tensors.iter().filter(|t| t.name.starts_with(&prefix)) {
                let bytes = tensor.to_bytes().map_err(unreadable)?;
                let values =
                    bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
                layer.optimizer_state.push(State {
                    name: format!("{part} {}", &tensor.name[prefix.len()..]),
                    shape: tensor.shape.to_vec(),
                    values,
                });
            }
            for (key, value) in scalars.iter().filter(|(k, _)| k.starts_with(&prefix)) {
                let name = &key[prefix.len()..];
                // `__rank` and the like are Burn's bookkeeping, not the optimizer's state.
                let value = match value {
                    burn_pack::Scalar::Int(v) => *v as f32,
                    burn_pack::Scalar::UInt(v) => *v as f32,
                    burn_pack::Scalar::Float(v) => *v as f32,
                    burn_pack::Scalar::Bool(v) => f32::from(u8::from(*v)),
                };
                if !name.starts_with("__") {
                    layer.optimizer_state.push(State {
                        name: format!("{part} {name}"),
                        shape: Vec::new(),
                        values: vec![value],
                    });
                }
            }
        }
    }
    Ok(step)
}

fn bias(linear: &Linear) -> Tensor<1> {
    linear.bias.as_ref().expect("gatenet's layers have biases").val()
}

fn flat(tensor: Tensor<1>) -> Result<Vec<f32>, String> {
    tensor.into_data().try_to_vec::<f32>().map_err(|e| format!("cannot read a tensor: {e:?}"))
}

/// A `[rows, columns]` tensor as nested rows, as numpy's `tolist()` gives them.
fn rows(tensor: Tensor<2>) -> Result<Vec<Vec<f32>>, String> {
    let [_, columns] = tensor.dims();
    let values =
        tensor.into_data().try_to_vec::<f32>().map_err(|e| format!("cannot read a tensor: {e:?}"))?;
    Ok(values.chunks(columns.max(1)).map(<[f32]>::to_vec).collect())
}
