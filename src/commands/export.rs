//! `gatenet export RUN_DIR --format safetensors|onnx`: a trained network in a format other
//! tools read, carrying everything `gatenet predict` uses (README, "Using a trained network
//! elsewhere").

use crate::commands::predict::{load_model, load_run_config};
use crate::failure::Failure;
use crate::model::exported::Exported;
use crate::run::atomic::write_atomic;
use crate::run::folder::RunDir;
use std::path::PathBuf;

/// The formats `export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Tensors in torch's layout for `load_state_dict(strict=True)`, metadata in the header.
    Safetensors,
    /// One ONNX graph (opset 17) from raw inputs to outputs, for onnxruntime and friends.
    Onnx,
}

impl Format {
    /// The file name's extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Safetensors => "safetensors",
            Format::Onnx => "onnx",
        }
    }
}

/// What to export, and where.
pub struct Request {
    pub run: PathBuf,
    pub format: Format,
    /// Default: in the run folder (see [`RunDir::export`]).
    pub out: Option<PathBuf>,
    /// A checkpoint's epoch instead of the final model.bpk.
    pub epoch: Option<usize>,
}

/// Writes the export, whole or not at all, and says where it went.
pub fn export(request: &Request) -> Result<String, Failure> {
    let run = RunDir::at(&request.run);
    let config = load_run_config(&run)?;
    let (model, source) = load_model(&run, &config, request.epoch)?;
    let network = Exported::new(&model, config.data.schema.as_deref(), config.name(), &source);
    let bytes = match request.format {
        Format::Safetensors => crate::model::safetensors::encode(&network).map_err(Failure::runtime)?,
        Format::Onnx => crate::model::onnx::encode(&network),
    };
    let out = request.out.clone().unwrap_or_else(|| run.export(request.format.extension(), request.epoch));
    if out.is_dir() {
        return Err(Failure::usage(format!(
            "--out {} is a folder; expected a file name such as {}",
            out.display(),
            out.join(format!("model.{}", request.format.extension())).display()
        )));
    }
    write_atomic(&out, &bytes).map_err(Failure::usage)?;
    Ok(format!(
        "wrote {} ({} bytes): the {source} of {}, {}\n",
        out.display(),
        bytes.len(),
        run.path().display(),
        shape(&network)
    ))
}

/// `2 -> 4 tanh -> 1 sigmoid`.
fn shape(network: &Exported) -> String {
    let widths = network.widths();
    if widths.len() < 2 {
        return "no layers".into();
    }
    let mut parts = vec![widths[0].to_string()];
    let hidden = &widths[1..widths.len() - 1];
    parts.extend(hidden.iter().map(|w| format!("{w} {}", network.activation_name())));
    parts.push(format!("{} {}", widths[widths.len() - 1], network.output));
    parts.join(" -> ")
}
