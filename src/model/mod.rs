//! The network: the MLP module, its activations, its initial weights, its loss, and the
//! health of its units.

pub mod activation;
pub mod health;
pub mod init;
pub mod loss;
pub mod mlp;
