//! `gatenet lr-find CONFIG`: the learning-rate range test, its suggestion, and the suggestion
//! checked by training the config with it and with a tenth of it. Writes
//! `artifacts/<name>-lr-find/` (lr_find.csv, lr_find.png).

use crate::config::{Config, Schedule};
use crate::data::dataset::Dataset;
use crate::failure::Failure;
use crate::run::atomic::write_atomic;
use crate::run::folder::RunDir;
use crate::run::lr_find_picture;
use crate::run::metrics::converged_epoch;
use crate::run::resume::Start;
use crate::training::lr_find::{FIRST, LAST, RangeTest, range_test};
use crate::training::progress::Style;
use crate::training::train::learn;
use burn::tensor::Device;
use std::fmt::Write;
use std::path::Path;
use std::time::Instant;

/// What `lr-find` found: the text to print, and whether it could suggest a rate.
pub struct Found {
    pub text: String,
    pub suggested: Option<f64>,
}

pub fn lr_find(path: &Path, steps: usize, artifacts: &Path) -> Result<Found, Failure> {
    let (config, data) = Dataset::load(path, false).map_err(|e| Failure::usage(e.to_string()))?;
    let device = config.backend.select(config.device).map_err(Failure::usage)?;
    let test = range_test(&config, &data, steps, &device).map_err(Failure::runtime)?;
    let folder = RunDir::lr_find(artifacts, config.name());
    std::fs::create_dir_all(folder.path())
        .map_err(|e| Failure::runtime(format!("cannot create {}: {e}", folder.path().display())))?;
    write_atomic(&folder.lr_find_csv(), csv(&test).as_bytes()).map_err(Failure::runtime)?;

    let mut text = String::new();
    let last = test.points.last().map_or(FIRST, |p| p.learning_rate);
    let ended =
        if last < LAST { format!(" (stopped at {last:.2e}: the loss exploded)") } else { String::new() };
    let _ = writeln!(
        text,
        "lr-find {}: {} rates from {FIRST:e} to {LAST}, one {} step each{ended}",
        config.name(),
        test.points.len(),
        config.optimizer.name
    );
    let mut suggested = None;
    match test.suggestion.map(|rate| fit_schedule(&config, rate)) {
        Some(rate) => {
            let _ = writeln!(text, "the range test suggests learning_rate = {rate}: {}", test.how);
            let epochs = config.training.num_epochs;
            let _ = writeln!(text, "checked, training the config for its {epochs} epochs:");
            let mut checks = Vec::new();
            for tried in [rate, tenth(rate)] {
                let checked = check(&config, &data, &device, tried)?;
                let _ = writeln!(text, "  learning_rate = {tried}: {}", checked.said);
                checks.push((tried, checked));
            }
            // The check decides between the two: the range test sees a hundred steps, the
            // check the whole run (on XOR with Adam the steepest fall, 1.1, oscillates for good
            // where a tenth of it converges in 36 epochs).
            let (best, why) = pick(&checks);
            match best {
                Some(rate) => writeln!(text, "use learning_rate = {rate}: {why}"),
                None => writeln!(text, "no rate to use: {why}; lower the rate, or --steps more"),
            }
            .ok();
            suggested = best;
        }
        None => {
            let more = 10 * test.points.len();
            let _ = writeln!(
                text,
                "no rate to suggest: {} (a deep net or small batches may need more steps: --steps {more})",
                test.how
            );
        }
    }
    let points: Vec<(f64, f64, f64)> =
        test.points.iter().map(|p| (p.learning_rate, p.loss, p.smoothed)).collect();
    lr_find_picture::draw(&folder.lr_find_png(), &points, test.suggestion, suggested)
        .map_err(Failure::runtime)?;
    let _ = writeln!(text, "written: {}/ (lr_find.csv, lr_find.png)", folder.path().display());
    Ok(Found { text, suggested })
}

/// The better of the checked rates: converged in the fewest epochs, or else the lowest
/// validation loss.
fn pick(checks: &[(f64, Checked)]) -> (Option<f64>, String) {
    let converged =
        checks.iter().filter_map(|(rate, c)| c.converged.map(|e| (*rate, e))).min_by_key(|(_, e)| *e);
    if let Some((rate, epoch)) = converged {
        return (Some(rate), format!("it trains the config to its tolerance soonest, at epoch {epoch}"));
    }
    let lowest = checks.iter().min_by(|a, b| a.1.lowest_loss.total_cmp(&b.1.lowest_loss));
    match lowest {
        Some((rate, c)) if c.lowest_loss.is_finite() => {
            (Some(*rate), format!("it reaches the lower validation loss, {:.4}", c.lowest_loss))
        }
        _ => (None, "neither trains without diverging".into()),
    }
}

/// Burn's cosine and exponential schedules need a rate of at most 1.
fn fit_schedule(config: &Config, rate: f64) -> f64 {
    match config.optimizer.schedule {
        Schedule::Cosine | Schedule::Exponential => rate.min(1.0),
        _ => rate,
    }
}

/// A tenth of a rate, written as the rate is (0.23, not 0.023000000000000003).
fn tenth(rate: f64) -> f64 {
    format!("{:.1e}", rate / 10.0).parse().unwrap_or(rate / 10.0)
}

/// How training at a rate went.
struct Checked {
    said: String,
    converged: Option<usize>,
    lowest_loss: f64,
}

/// Trains the config in memory at `rate` and says how it went.
fn check(config: &Config, data: &Dataset, device: &Device, rate: f64) -> Result<Checked, Failure> {
    let mut config = config.clone();
    config.optimizer.learning_rate = rate;
    // A cosine schedule's floor may not exceed its start.
    config.optimizer.min_learning_rate = config.optimizer.min_learning_rate.map(|floor| floor.min(rate));
    let learned = learn(&config, data, device, Start::in_memory(), Style::Quiet, Instant::now())?;
    let tolerance = config.training.tolerance;
    let rows = &learned.rows;
    let converged = converged_epoch(rows, tolerance);
    // The lowest finite validation loss, and its epoch.
    let best =
        rows.iter().filter(|r| r.valid_loss.is_finite()).min_by(|a, b| a.valid_loss.total_cmp(&b.valid_loss));
    let lowest_loss = best.map_or(f64::INFINITY, |r| r.valid_loss);
    let said = match (converged, rows.last(), best) {
        (Some(epoch), _, _) => format!("every output within {tolerance} at epoch {epoch}"),
        (None, Some(row), _) if !row.valid_loss.is_finite() => format!("diverged by epoch {}", row.epoch),
        (None, Some(row), Some(best)) => {
            let missed =
                if tolerance > 0.0 { format!("largest error {:.4}, ", row.max_error) } else { String::new() };
            format!(
                "{missed}validation loss {:.4} after {} epochs (lowest {:.4}, at epoch {})",
                row.valid_loss, row.epoch, best.valid_loss, best.epoch
            )
        }
        (None, _, _) => "no epoch trained".into(),
    };
    Ok(Checked { said, converged, lowest_loss })
}

fn csv(test: &RangeTest) -> String {
    let mut text = String::from("step,learning_rate,loss,smoothed_loss\n");
    for (k, p) in test.points.iter().enumerate() {
        let _ = writeln!(text, "{},{:e},{},{}", k + 1, p.learning_rate, p.loss, p.smoothed);
    }
    text
}
