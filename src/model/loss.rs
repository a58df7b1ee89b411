//! The training loss (`training.loss`): one scalar per batch, averaged over every output of
//! every row, as `torch.nn.MSELoss()` and `BCEWithLogitsLoss()` do, or over every row for
//! `CrossEntropyLoss()`.

use crate::config::Loss;
use burn::tensor::Tensor;
use burn::tensor::activation::log_softmax;

impl Loss {
    /// `logits` are the last layer before its output activation and `outputs` after it, both
    /// `[rows, width]` like `targets`; returns a `[1]` tensor.
    pub fn forward(self, logits: Tensor<2>, outputs: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
        match self {
            Self::Mse => (outputs - targets).square().mean(),
            // max(z, 0) - z t + log(1 + exp(-|z|)): the stable form of
            // -(t log s(z) + (1 - t) log(1 - s(z))).
            Self::Bce => {
                let z = logits;
                let softplus = z.clone().abs().neg().exp().log1p();
                (z.clone().clamp_min(0.0) - z * targets + softplus).mean()
            }
            Self::CrossEntropy => (log_softmax(logits, 1) * targets).sum_dim(1).neg().mean(),
        }
    }
}
