//! The network's steps as Burn's Learner calls them: a training step (forward, loss, backward,
//! frozen layers' gradients dropped) and an inference step, with the measures each reads.

use crate::config::OutputActivation;
use crate::data::table::XyBatch;
use crate::model::mlp::Mlp;
use crate::training::measures::StepOutput;
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use burn::train::{InferenceStep, TrainOutput, TrainStep};

impl TrainStep for Mlp {
    type Input = XyBatch;
    type Output = StepOutput;

    fn step(&self, batch: XyBatch) -> TrainOutput<StepOutput> {
        let (mut output, loss) = self.evaluate(batch);
        let mut grads = GradientsParams::from_grads(loss.backward(), self);
        // A frozen layer's gradient is dropped: the optimizer then leaves its weights alone.
        for layer in self.frozen.iter().filter_map(|&number| self.layers.get(number - 1)) {
            grads.remove::<2>(layer.weight.id);
            if let Some(bias) = &layer.bias {
                grads.remove::<1>(bias.id);
            }
        }
        output.layers = self
            .layers
            .iter()
            .map(|layer| (grads.get::<2>(layer.weight.id), layer.weight.val().without_autodiff()))
            .collect();
        TrainOutput { grads, item: output }
    }
}

impl InferenceStep for Mlp {
    type Input = XyBatch;
    type Output = StepOutput;

    fn step(&self, batch: XyBatch) -> StepOutput {
        self.evaluate(batch).0
    }
}

impl Mlp {
    /// A batch's outputs, loss and hidden activations (off the autodiff graph), and the loss
    /// to differentiate.
    fn evaluate(&self, batch: XyBatch) -> (StepOutput, Tensor<1>) {
        let (logits, hidden) = self.traced(batch.inputs);
        let outputs = self.output.forward(logits.clone());
        let loss = self.loss.forward(logits, outputs.clone(), batch.targets.clone());
        let output = StepOutput {
            loss: loss.clone().without_autodiff(),
            outputs: outputs.without_autodiff(),
            targets: batch.targets.without_autodiff(),
            hidden: hidden.into_iter().map(Tensor::without_autodiff).collect(),
            layers: Vec::new(),
            classes: self.output == OutputActivation::Softmax,
            activation: self.activation,
        };
        (output, loss)
    }
}
