//! `gatenet check CONFIG`: the config with every default filled in, each default worth a word
//! with a comment that says why it is what it is, under a comment that says what training it takes;
//! nothing is written.

use crate::config::{Config, OptimizerName};
use crate::data::dataset::Dataset;
use crate::failure::Failure;
use std::fmt;
use std::path::Path;

/// What `gatenet check` prints for the config file at `path`: still a config file.
pub fn check(path: &Path) -> Result<String, Failure> {
    let (config, _) = Dataset::load(path, false).map_err(|e| Failure::usage(e.to_string()))?;
    // The file parsed as it is, to tell its own settings from the defaults (it loaded above).
    let given: toml::Table =
        std::fs::read_to_string(path).ok().and_then(|text| toml::from_str(&text).ok()).unwrap_or_default();
    Ok(format!("# {}\n{}", estimate(&config), annotated(&config, &given)))
}

/// The resolved config's TOML with `# default: why` after each setting the file left out.
fn annotated(config: &Config, given: &toml::Table) -> String {
    let mut section = String::new();
    let mut out = String::new();
    for line in config.to_toml().lines() {
        out.push_str(line);
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
        } else if let Some((key, _)) = line.split_once(" = ") {
            let table =
                if section.is_empty() { Some(given) } else { given.get(&section).and_then(|t| t.as_table()) };
            let full = if section.is_empty() { key.to_string() } else { format!("{section}.{key}") };
            if !table.is_some_and(|t| t.contains_key(key))
                && let Some(why) = why_default(config, &full)
            {
                out.push_str("  # default: ");
                out.push_str(&why);
            }
        }
        out.push('\n');
    }
    out
}

/// Why a default is what it is, for the settings where that is worth a line.
fn why_default(config: &Config, key: &str) -> Option<String> {
    let sampled = config.data.synthetic.is_some() || config.data.csv.is_some();
    let classes = config.data.schema.as_ref().is_some_and(|s| s.classes.is_some());
    let t = &config.training;
    Some(match key {
        "seed" => "the same seed gives the same run, bit for bit".into(),
        "data.samples" => "points to draw: enough for the 2-D shapes, a second or two to train".into(),
        "data.noise" => "the points blur near the boundary, as measured data does".into(),
        "data.valid_fraction" => {
            "a fifth of the rows held out: validation loss and accuracy are measured on them".into()
        }
        "data.features" => "every column that is not a target".into(),
        "data.inputs" => "a two-input gate".into(),
        "model.hidden_sizes" => {
            "one small hidden layer: enough for any two-input gate (XOR needs two units)".into()
        }
        "model.activation" => "zero-centred, so the first steps are not biased one way".into(),
        "model.output_activation" if classes => {
            "the target column holds classes: one probability per class".into()
        }
        "model.output_activation" => "outputs between 0 and 1, for 0/1 targets".into(),
        "training.loss" if classes => "the target column holds classes".into(),
        "optimizer.name" => "per-weight step sizes, which leave plateaus quickly".into(),
        "optimizer.learning_rate" => match config.optimizer.name {
            OptimizerName::Sgd => "a common first try for SGD: raise it if the loss falls slowly".into(),
            _ => "ten times torch's 1e-3: small, full-batch data takes larger steps".into(),
        },
        "optimizer.epsilon" | "optimizer.beta1" | "optimizer.beta2" => "torch's values".into(),
        "training.num_epochs" => "an upper bound: the run stops earlier on tolerance or patience".into(),
        "training.batch_size" => "every training row: one exact gradient step per epoch".into(),
        "training.tolerance" if sampled => {
            "none for sampled data: noisy points never all come within a tolerance; patience stops the run"
                .into()
        }
        "training.tolerance" => format!("learned = every output within {} of its 0/1 target", t.tolerance),
        "training.patience" if sampled => format!(
            "for sampled data, a fifth of num_epochs (at least 20): stop once the validation loss has not \
             improved for {} epochs",
            t.patience.unwrap_or(0)
        ),
        "training.checkpoint_every" => "the last epoch is saved too; two newest checkpoints are kept".into(),
        _ => return None,
    })
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
