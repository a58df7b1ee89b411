//! A trained network as a safetensors file that PyTorch's `load_state_dict(strict=True)` takes
//! for a module holding `self.layers = nn.ModuleList([nn.Linear(...), ...])` (README, "Using a
//! trained network elsewhere"): `layers.{i}.weight` in torch's `[out, in]` layout and
//! `layers.{i}.bias`, plus `input_mean` and `input_std` (buffers of that module) for a CSV run,
//! and the activations and names in the header's metadata.
//!
//! Written with the `safetensors` crate itself rather than burn-store's PyTorch adapter: the
//! adapter writes a module's parameters, and this file also carries the scaling and metadata.

use crate::model::exported::Exported;
use safetensors::tensor::{Dtype, TensorView};
use std::collections::HashMap;

/// The file's bytes.
pub fn encode(network: &Exported) -> Result<Vec<u8>, String> {
    let bytes = |values: &[f32]| values.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (i, layer) in network.layers.iter().enumerate() {
        tensors.push((
            format!("layers.{i}.weight"),
            vec![layer.outputs, layer.inputs],
            bytes(&layer.weight_out_in()),
        ));
        tensors.push((format!("layers.{i}.bias"), vec![layer.outputs], bytes(&layer.bias)));
    }
    if let Some((mean, std)) = &network.scaling {
        tensors.push(("input_mean".into(), vec![mean.len()], bytes(mean)));
        tensors.push(("input_std".into(), vec![std.len()], bytes(std)));
    }
    let views = tensors
        .iter()
        .map(|(name, shape, data)| Ok((name.as_str(), TensorView::new(Dtype::F32, shape.clone(), data)?)))
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()
        .map_err(|e| format!("cannot lay out the tensors: {e}"))?;
    let mut metadata: HashMap<String, String> = network.metadata().into_iter().collect();
    // What torch's own `save_file` writes; readers such as transformers check it.
    metadata.insert("format".into(), "pt".into());
    metadata.insert("weight_layout".into(), "torch: layers.{i}.weight is [out, in]; y = x W^T + b".into());
    safetensors::serialize(views, Some(metadata)).map_err(|e| format!("cannot write safetensors: {e}"))
}
