//! What went wrong, when a run did not converge: findings read off the metrics history, each
//! with a code, a sentence and a concrete hint. The thresholds are rules of thumb, each with its
//! reason next to it; none is tuned to a particular config.

use crate::config::Activation;
use crate::config::Config;
use crate::config::Init;
use crate::config::OptimizerName;
use crate::model::health;
use crate::run::metrics::EpochRow;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable identifier: diverged, loss_rose, plateau, slow_learning, no_gradient,
    /// vanishing_gradients, saturated_units, dead_units.
    pub code: String,
    pub message: String,
    pub hint: String,
}

fn finding(code: &str, message: String, hint: String) -> Finding {
    Finding { code: code.into(), message, hint }
}

/// A learning rate that trains these small nets well for each optimizer: the numpy reference's
/// settings (SGD 0.5 and Adam 0.05 on OR), and torch's RMSprop default.
fn typical_learning_rate(name: OptimizerName) -> f64 {
    match name {
        OptimizerName::Sgd => 0.5,
        OptimizerName::Adam | OptimizerName::AdamW => 0.05,
        OptimizerName::RmsProp => 0.01,
    }
}

/// Findings for a run that did not converge. `outputs` and `targets` are the final answers
/// and the targets, row-major with `width` columns.
pub fn diagnose(
    config: &Config,
    rows: &[EpochRow],
    outputs: &[f32],
    targets: &[f32],
    width: usize,
) -> Vec<Finding> {
    if rows.is_empty() {
        return Vec::new();
    }
    if let Some(diverged) = diverged(config, rows) {
        return vec![diverged];
    }
    let epochs = rows.len();
    // The last fifth of the run, at least 10 epochs: long enough to see a trend.
    let window = (epochs / 5).max(10).min(epochs.saturating_sub(1));
    let run = Run { config, rows, outputs, targets, width, window };
    let mut findings = Vec::new();
    for finding in [loss_rose, plateau, slow_learning, gradients] {
        findings.extend(finding(&run));
    }
    findings.extend(units(&run));
    agree_on_the_rate(&mut findings);
    findings
}

/// One direction for the learning rate: when one finding says to lower it (the steps
/// overshoot, units saturate), no other tells the same run to raise it.
fn agree_on_the_rate(findings: &mut [Finding]) {
    let lower = findings.iter().any(|f| f.hint.starts_with("lower optimizer.learning_rate"));
    for f in findings.iter_mut().filter(|f| lower && f.hint.starts_with("raise optimizer.learning_rate")) {
        f.hint = "widen model.hidden_sizes: the learning rate is not too small (see the hints that lower it)"
            .into();
    }
}

/// What each finding reads: the run, and the window of epochs at its end.
struct Run<'a> {
    config: &'a Config,
    rows: &'a [EpochRow],
    outputs: &'a [f32],
    targets: &'a [f32],
    width: usize,
    window: usize,
}

impl Run<'_> {
    fn last(&self) -> &EpochRow {
        &self.rows[self.rows.len() - 1]
    }

    /// The row before the window.
    fn start(&self) -> &EpochRow {
        &self.rows[self.rows.len() - 1 - self.window]
    }
}

/// A NaN or infinite loss: the one finding that stands alone.
fn diverged(config: &Config, rows: &[EpochRow]) -> Option<Finding> {
    let lr = config.optimizer.learning_rate;
    if let Some(bad) = rows
        .iter()
        .find(|r| !(r.valid_loss.is_finite() && r.max_error.is_finite() && r.train_loss.is_finite()))
    {
        let what = if bad.valid_loss.is_nan() || bad.train_loss.is_nan() { "NaN" } else { "infinite" };
        return Some(finding(
            "diverged",
            format!(
                "the loss became {what} at epoch {}: the updates grew without bound (learning rate {lr})",
                bad.epoch
            ),
            format!(
                "lower optimizer.learning_rate to {} or less; the last finite checkpoint is kept",
                lr / 10.0
            ),
        ));
    }
    None
}

fn loss_rose(run: &Run) -> Option<Finding> {
    let (last, lr) = (run.last(), run.config.optimizer.learning_rate);
    // Where the loss started: epoch 1's training loss, each batch measured before its update,
    // so with one full batch the loss of the initial weights. (Epoch 1's validation loss is
    // already after an update, and may be after the overshoot.)
    let first = run.rows[0].train_loss;
    let hint = format!("lower optimizer.learning_rate from {lr} to {}", lr / 10.0);
    // Ten percent above where it started, or above where the window started: pushed away from
    // the minimum, not towards it.
    if last.valid_loss > 1.1 * first {
        return Some(finding(
            "loss_rose",
            format!(
                "the loss rose from {first:.4} before the first update to {:.4} at epoch {} ({:+.0}%): the steps overshoot",
                last.valid_loss,
                last.epoch,
                100.0 * (last.valid_loss / first - 1.0)
            ),
            hint,
        ));
    }
    let start = run.start();
    if run.window >= 10 && last.valid_loss > 1.1 * start.valid_loss {
        return Some(finding(
            "loss_rose",
            format!(
                "the loss rose over the last {} epochs, from {:.4} to {:.4}: the steps overshoot",
                run.window, start.valid_loss, last.valid_loss
            ),
            hint,
        ));
    }

    None
}

fn plateau(run: &Run) -> Option<Finding> {
    let (config, last, start, window) = (run.config, run.last(), run.start(), run.window);
    let (lr, optimizer) = (config.optimizer.learning_rate, config.optimizer.name);
    let (outputs, targets, width) = (run.outputs, run.targets, run.width);
    // Plateau: the loss moved by less than 1% over the window, either way (a rise is not a
    // plateau: `loss_rose` says so).
    let drop = start.valid_loss - last.valid_loss;
    let relative = drop / start.valid_loss.max(f64::MIN_POSITIVE);
    if window >= 10 && relative.abs() < 0.01 {
        let mean_targets: Vec<f64> = (0..width)
            .map(|c| {
                targets.iter().skip(c).step_by(width).map(|&t| t as f64).sum::<f64>()
                    / (targets.len() / width) as f64
            })
            .collect();
        let near_mean =
            outputs.iter().enumerate().all(|(i, &o)| (o as f64 - mean_targets[i % width]).abs() < 0.05);
        // Every row answered alike (within 0.01, column by column): the inputs make no difference.
        let first_row = &outputs[..width.min(outputs.len())];
        let alike = outputs.iter().enumerate().all(|(i, &o)| (o - first_row[i % width]).abs() < 0.01);
        let show = |values: &mut dyn Iterator<Item = f64>| {
            values.map(|v| format!("{v:.2}")).collect::<Vec<_>>().join(", ")
        };
        let where_it_sits = match (near_mean, alike) {
            (true, _) => format!(
                "; every output sits near {}, the mean of the targets: the network answers the average and ignores its inputs",
                show(&mut mean_targets.iter().copied())
            ),
            (false, true) => format!(
                "; every row gets the same output, {} (the mean of the targets is {}): the network ignores its inputs",
                show(&mut first_row.iter().map(|&v| v as f64)),
                show(&mut mean_targets.iter().copied())
            ),
            _ => String::new(),
        };
        return Some(finding(
            "plateau",
            format!(
                "the loss is on a plateau at {:.4}: it changed by {:.2}% over the last {window} epochs{where_it_sits}",
                last.valid_loss,
                relative * 100.0
            ),
            match (optimizer, config.model.activation) {
                (OptimizerName::Sgd, _) => "use name = \"adam\" with learning_rate = 0.05: Adam's per-weight steps leave plateaus quickly".into(),
                (_, Activation::Sigmoid) => "use activation = \"tanh\": sigmoid hidden units are not zero-centred and learn slowly".into(),
                _ if lr < typical_learning_rate(optimizer) / 10.0 => format!(
                    "raise optimizer.learning_rate from {lr} to about {}",
                    typical_learning_rate(optimizer)
                ),
                _ => "widen model.hidden_sizes: a wider layer has more directions out of a plateau".into(),
            },
        ));
    }

    None
}

fn slow_learning(run: &Run) -> Option<Finding> {
    let (config, last, start, window, epochs) =
        (run.config, run.last(), run.start(), run.window, run.rows.len());
    let (lr, optimizer) = (config.optimizer.learning_rate, config.optimizer.name);
    // Slow learning: at the window's rate, how long until the largest error (what the
    // tolerance stops on) comes within the tolerance; while it does not fall (the outputs
    // crowd towards the targets' mean first), until the loss reaches tolerance^2, which every
    // output within tolerance implies. Errors shrink by a factor per epoch, not by a step: the
    // rate is fitted on their logarithm. (A straight line through the loss, used before, gave
    // hints 30 % short on two SGD XOR runs: 440 epochs for 629, 110 for 159.)
    let tolerance = config.training.tolerance;
    let goal = tolerance * tolerance;
    let falling = if last.max_error < start.max_error {
        Some(("largest error", start.max_error, last.max_error, tolerance))
    } else if last.valid_loss < start.valid_loss {
        Some(("loss", start.valid_loss, last.valid_loss, goal))
    } else {
        // Neither falls: a plateau or a rise, which say so. No estimate.
        None
    };
    if let Some((measure, from, to, target)) = falling.filter(|f| tolerance > 0.0 && f.2 > f.3) {
        let per_epoch = (from / to).ln() / window.max(1) as f64;
        let needed = (to / target).ln() / per_epoch;
        // Enough decimals to show the two apart (a plateau's largest error moves in the fifth).
        let digits = (4..=8).step_by(2).find(|&d| format!("{from:.d$}") != format!("{to:.d$}")).unwrap_or(8);
        let (from, to) = (format!("{from:.digits$}"), format!("{to:.digits$}"));
        let reach = match measure {
            "loss" => format!("reach {goal:.4} (every output within {tolerance})"),
            _ => format!("come within {tolerance}"),
        };
        let typical = typical_learning_rate(optimizer);
        let message = format!(
            "at the rate of the last {window} epochs (the {measure} fell from {from} to {to}), it would take about {} more epochs to {reach} with learning rate {lr}",
            round_to_2_figures(needed)
        );
        // Up to twice the run's length again: more epochs are the simple fix.
        let (code, hint) = if needed <= 2.0 * epochs as f64 {
            (
                "needs_more_epochs",
                // Three times the estimate: the rate slows as the outputs near their targets
                // (on those runs the last fifth of the way took the longest).
                format!(
                    "continue with --resume, training.num_epochs raised to about {}",
                    round_to_2_figures(epochs as f64 + 3.0 * needed)
                ),
            )
        } else if lr < typical / 10.0 {
            (
                "slow_learning",
                format!(
                    "raise optimizer.learning_rate from {lr} to about {typical} (a setting that trains such nets in hundreds of epochs)"
                ),
            )
        } else {
            ("slow_learning", faster(config))
        };
        return Some(finding(code, message, hint));
    }

    None
}

/// What would train faster than the config's own settings: only what it does not use yet.
fn faster(config: &Config) -> String {
    let (lr, optimizer) = (config.optimizer.learning_rate, config.optimizer.name);
    let typical = typical_learning_rate(optimizer);
    if optimizer == OptimizerName::Sgd {
        format!("use name = \"adam\" with learning_rate = {}", typical_learning_rate(OptimizerName::Adam))
    } else if config.model.activation == Activation::Sigmoid {
        "use activation = \"tanh\": zero-centred units learn faster than sigmoid ones".into()
    } else if lr < typical {
        format!("raise optimizer.learning_rate from {lr} to about {typical}")
    } else {
        "raise training.num_epochs, or widen model.hidden_sizes".into()
    }
}

fn gradients(run: &Run) -> Option<Finding> {
    let (rows, config, window, epochs) = (run.rows, run.config, run.window, run.rows.len());
    let lr = config.optimizer.learning_rate;
    // Gradients: the first layer against the last, averaged over the window.
    let layers = config.layers();
    let mean = |f: &dyn Fn(&EpochRow) -> f64| {
        rows[epochs - 1 - window..].iter().map(f).sum::<f64>() / (window + 1) as f64
    };
    if layers >= 2 {
        let first_grad = mean(&|r| health::grad_norm(&r.health, 1));
        let last_grad = mean(&|r| health::grad_norm(&r.health, layers));
        if first_grad == 0.0 && config.model.freeze.contains(&1) {
            return Some(finding(
                "no_gradient",
                "layer 1 gets no gradient at all (model.freeze holds it still): only the layers after it learn, so the network can only re-weight features that never change".into(),
                "remove 1 from model.freeze".into(),
            ));
        } else if first_grad == 0.0 {
            return Some(finding(
                "vanishing_gradients",
                "layer 1's weight gradient is exactly zero, so layer 1 no longer learns".into(),
                format!(
                    "lower optimizer.learning_rate from {lr}: zero gradients come from saturated or dead units"
                ),
            ));
        } else if last_grad > 0.0 && first_grad / last_grad < 1e-2 {
            // Two orders of magnitude: the first layer learns a hundred times slower.
            return Some(finding(
                "vanishing_gradients",
                format!(
                    "layer 1's weight gradient ({first_grad:.2e}) is {:.0} times smaller than layer {layers}'s ({last_grad:.2e})",
                    last_grad / first_grad
                ),
                match (config.model.init, config.model.activation) {
                    (Init::Small, _) => {
                        "use init = \"default\": weights of 0.01 shrink the gradient at every layer".into()
                    }
                    (_, Activation::Sigmoid) => {
                        "use activation = \"tanh\": sigmoid's slope is at most 0.25".into()
                    }
                    _ => "use name = \"adam\", which scales each weight's step by its own gradient".into(),
                },
            ));
        }
    }

    None
}

/// Half a layer or more saturated or dead at the end of the run.
fn units(run: &Run) -> Vec<Finding> {
    let (last, layers, lr) = (run.last(), run.config.layers(), run.config.optimizer.learning_rate);
    let typical = typical_learning_rate(run.config.optimizer.name);
    // What saturates units: steps too large, or a wide init; only what the config does.
    let unsaturate = if lr > typical {
        format!(
            "lower optimizer.learning_rate from {lr} to about {typical}: large steps drive units to their limits"
        )
    } else if run.config.model.init != Init::Default {
        "use init = \"default\"".into()
    } else {
        "use activation = \"leaky_relu\", which has no limit to saturate at".into()
    };
    let mut findings = Vec::new();
    // Units: at the end of the run, half a layer or more saturated or dead.
    for layer in 1..layers {
        let saturated = health::saturated(&last.health, layers, layer);
        if saturated >= 0.5 {
            findings.push(finding(
                "saturated_units",
                format!(
                    "{:.0}% of layer {layer}'s units are saturated on every row: their gradient is near zero",
                    saturated * 100.0
                ),
                unsaturate.clone(),
            ));
        }
        let dead = health::dead(&last.health, layers, layer);
        if dead >= 0.5 {
            findings.push(finding(
                "dead_units",
                format!(
                    "{:.0}% of layer {layer}'s relu units are 0 on every row: they no longer learn",
                    dead * 100.0
                ),
                "use activation = \"leaky_relu\", or lower optimizer.learning_rate".into(),
            ));
        }
    }
    findings
}

fn round_to_2_figures(x: f64) -> String {
    if x < 100.0 {
        return format!("{x:.0}");
    }
    let scale = 10f64.powi(x.log10().floor() as i32 - 1);
    let rounded = (x / scale).round() * scale;
    // Thousands separators, as the README's numbers are written.
    let digits = format!("{rounded:.0}");
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
