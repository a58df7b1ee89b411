//! The network: the MLP module, its activations, its initial weights, its loss, the health of
//! its units, and the formats other tools read it in (safetensors, ONNX).

pub mod activation;
pub mod exported;
pub mod health;
pub mod init;
pub mod loss;
pub mod mlp;
pub mod onnx;
pub mod onnx_proto;
pub mod safetensors;
