//! `gatenet check CONFIG`: the config with every default filled in, under a comment that says
//! what training it takes; nothing is written.

use crate::config::Config;
use crate::data::dataset::Dataset;
use crate::failure::Failure;
use std::fmt;
use std::path::Path;

/// What `gatenet check` prints for the config file at `path`: still a config file.
pub fn check(path: &Path) -> Result<String, Failure> {
    let (config, _) = Dataset::load(path, false).map_err(|e| Failure::usage(e.to_string()))?;
    Ok(format!("# {}\n{}", estimate(&config), config.to_toml()))
}

/// What a config's training takes.
#[derive(Debug)]
pub struct Estimate {
    pub parameters: usize,
    /// Peak memory, roughly.
    pub bytes: f64,
}

impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} parameters; training needs about {:.0} MB of memory", self.parameters, self.bytes / 1e6)
    }
}

/// What training this config takes, estimated before anything is allocated: parameter
/// count and peak memory (`gatenet check` prints it).
pub fn estimate(config: &Config) -> Estimate {
    let (inputs, outputs) = config.data.widths();
    let mut widths = vec![inputs];
    widths.extend(&config.model.hidden_sizes);
    widths.push(outputs);
    let parameters: usize = widths.windows(2).map(|p| p[0] * p[1] + p[1]).sum();
    let rows = config.data.rows();
    let batch = config.training.batch_size.unwrap_or(rows).max(1);
    let f32s = |n: usize| n as f64 * 4.0;
    // Weights, their gradient and up to two optimizer moments (Adam's), kept twice over
    // while a checkpoint is written.
    let model = f32s(parameters) * 5.0;
    // Each layer's output and its gradient for a training batch; the validation pass and
    // the before/after outputs evaluate at most all rows, or 1,000, at once.
    let evaluated =
        batch.max(config.data.valid_rows_or(rows).min(rows)).max(rows.min(crate::run::summary::LISTED_ROWS));
    let activations = f32s(widths.iter().sum::<usize>() * evaluated) * 3.0;
    // The rows, each with its inputs and targets.
    let data = f32s(rows * (inputs + outputs)) * 1.25;
    // The binary, Burn and the Learner's threads, measured on an OR run.
    let base = 14e6;
    Estimate { parameters, bytes: model + activations + data + base }
}
