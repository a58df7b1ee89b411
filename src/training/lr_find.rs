//! The learning-rate range test (Smith 2015, "Cyclical Learning Rates for Training Neural
//! Networks"; fastai's `lr_find`, Lightning's `Tuner.lr_find`): from the config's first weights,
//! one optimizer step per rate, the rate raised exponentially from 1e-7 to 10, the loss of
//! each step's batch recorded before its update, until the loss explodes.
//!
//! The suggestion is where the smoothed loss falls fastest, before its minimum. Lightning
//! takes the steepest slope of the raw curve, which one noisy step or an early spike decides;
//! here the curve is a centred moving average of seven rates (fastai's exponential average
//! lags the curve: on XOR with Adam its steepest fall came at 1.1, the raw loss's at 0.4), the
//! slope is taken over five rates on both sides, and only a descent that brings the loss below
//! 90 % of where the test started counts. The test stops on the exponential average, as
//! fastai's does, once it is four times its lowest value.

use crate::config::Config;
use crate::data::dataset::Dataset;
use crate::model::mlp::Mlp;
use crate::training::optim::optimizer;
use burn::data::dataloader::DataLoader;
use burn::tensor::Device;
use burn::train::TrainStep;

/// The rates tried: from `FIRST` to `LAST` in geometric steps, 100 by default (fastai's).
pub const FIRST: f64 = 1e-7;
pub const LAST: f64 = 10.0;
pub const STEPS: usize = 100;
/// The running average's weight of the past, for the stop: 0.9 over 100 steps (fastai uses
/// 0.98; over so few steps that lags the curve by a decade of rates).
const SMOOTHING: f64 = 0.9;
/// The test stops once the smoothed loss exceeds this many times its lowest value.
const EXPLODED: f64 = 4.0;
/// Steps on each side of the centred moving average.
const CENTRE: usize = 3;
/// Rates on each side over which a slope is taken.
const WINDOW: usize = 5;

/// One step of the test.
#[derive(Clone, Debug)]
pub struct Point {
    pub learning_rate: f64,
    pub loss: f64,
    pub smoothed: f64,
}

/// The test's curve and the rate it suggests.
pub struct RangeTest {
    pub points: Vec<Point>,
    /// `None` when the loss never fell.
    pub suggestion: Option<f64>,
    /// How the suggestion was chosen, in words.
    pub how: String,
}

/// The rate of step `k` of `steps`.
fn rate(k: usize, steps: usize) -> f64 {
    FIRST * (LAST / FIRST).powf(k as f64 / (steps.max(2) - 1) as f64)
}

/// Runs the range test of `steps` steps on the config's data, from its first weights, on
/// `device`.
pub fn range_test(
    config: &Config,
    data: &Dataset,
    steps: usize,
    device: &Device,
) -> Result<RangeTest, String> {
    let (table, _) = data.split(config.seed);
    let autodiff = device.clone().autodiff();
    let mut model = Mlp::from_config(config, &autodiff);
    let batch_size = config.training.batch_size.unwrap_or(table.rows()).max(1);
    let loader = crate::data::table::XyLoader::new(table, batch_size, config.seed, true, 1, &autodiff);
    let mut optim = optimizer(&config.optimizer);
    let mut points: Vec<Point> = Vec::with_capacity(steps.min(1 << 16));
    let (mut average, mut lowest) = (0.0, f64::INFINITY);
    'test: loop {
        for batch in loader.iter() {
            let k = points.len();
            if k == steps {
                break 'test;
            }
            let batch = batch.map_err(|e| format!("cannot read a batch: {e}"))?;
            let output = TrainStep::step(&model, batch);
            let loss = output.item.loss.into_scalar::<f64>();
            let learning_rate = rate(k, steps);
            model = optim.step(learning_rate, model, output.grads);
            average = SMOOTHING * average + (1.0 - SMOOTHING) * loss;
            let smoothed = average / (1.0 - SMOOTHING.powi(k as i32 + 1));
            points.push(Point { learning_rate, loss, smoothed });
            lowest = lowest.min(smoothed);
            if !loss.is_finite() || smoothed > EXPLODED * lowest {
                break 'test;
            }
        }
    }
    centre(&mut points);
    let (suggestion, how) = suggest(&points);
    Ok(RangeTest { points, suggestion, how })
}

/// Replaces each point's running average by the mean of the raw losses within `CENTRE` steps
/// of it on either side.
fn centre(points: &mut [Point]) {
    let raw: Vec<f64> = points.iter().map(|p| p.loss).collect();
    for (k, point) in points.iter_mut().enumerate() {
        let near = &raw[k.saturating_sub(CENTRE)..(k + CENTRE + 1).min(raw.len())];
        point.smoothed = near.iter().sum::<f64>() / near.len() as f64;
    }
}

/// The rate where the smoothed loss falls fastest against the logarithm of the rate, before
/// its minimum.
fn suggest(points: &[Point]) -> (Option<f64>, String) {
    let finite: Vec<&Point> = points.iter().take_while(|p| p.smoothed.is_finite()).collect();
    let Some(minimum) = (0..finite.len()).min_by(|&a, &b| finite[a].smoothed.total_cmp(&finite[b].smoothed))
    else {
        return (None, "the loss was not finite at the first rate".into());
    };
    // Where the test started: the median of its first smoothed values, which one noisy first
    // batch does not decide.
    let mut first: Vec<f64> = finite.iter().take(2 * WINDOW).map(|p| p.smoothed).collect();
    first.sort_by(f64::total_cmp);
    let start = first[first.len() / 2];
    if finite[minimum].smoothed > 0.9 * start {
        let message = format!(
            "the smoothed loss never fell below 90% of its first value ({start:.4}) at any rate from {FIRST:e} to {}",
            finite.last().map_or(LAST, |p| p.learning_rate)
        );
        return (None, message);
    }
    let slope = |k: usize| {
        let (a, b) = (k.saturating_sub(WINDOW), (k + WINDOW).min(minimum));
        let run = (finite[b].learning_rate / finite[a].learning_rate).ln();
        if b > a { (finite[b].smoothed - finite[a].smoothed) / run } else { 0.0 }
    };
    // Past the moving average's first rates, which are its warm-up.
    let steepest =
        (WINDOW.min(minimum)..minimum).min_by(|&a, &b| slope(a).total_cmp(&slope(b))).unwrap_or(minimum);
    let rate = finite[steepest].learning_rate;
    let how = format!(
        "the steepest fall of the smoothed loss (a moving average of {} rates, each slope taken over {WINDOW} rates either side), before its minimum {:.4} at rate {:.2e}",
        2 * CENTRE + 1,
        finite[minimum].smoothed,
        finite[minimum].learning_rate
    );
    (Some(round_rate(rate)), how)
}

/// A rate rounded to two significant figures, as a person would write it in a config.
fn round_rate(rate: f64) -> f64 {
    format!("{rate:.1e}").parse().unwrap_or(rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flat loss with noise and an early spike down, then a real descent from step 60.
    fn curve() -> Vec<Point> {
        (0..STEPS)
            .map(|k| {
                let noise = if k % 2 == 0 { 0.004 } else { -0.004 };
                let spike = if k == 8 { -0.1 } else { 0.0 };
                let descent = if k < 60 { 0.0 } else { 0.2 * (1.0 - (-((k - 60) as f64) / 8.0).exp()) };
                Point { learning_rate: rate(k, STEPS), loss: 0.25 + noise + spike - descent, smoothed: 0.0 }
            })
            .collect()
    }

    #[test]
    fn an_early_spike_and_noise_do_not_decide_the_suggestion_the_descent_does() {
        let mut points = curve();
        centre(&mut points);
        let (suggestion, how) = suggest(&points);
        let suggestion = suggestion.expect("a rate");
        // The descent starts at step 60 and is steepest there: within a few steps of it.
        assert!((rate(58, STEPS)..=rate(66, STEPS)).contains(&suggestion), "{suggestion:e}: {how}");
    }

    #[test]
    fn a_loss_that_never_falls_by_a_tenth_gets_no_suggestion() {
        let mut points: Vec<Point> = curve().into_iter().take(55).collect();
        centre(&mut points);
        let (suggestion, how) = suggest(&points);
        assert_eq!(suggestion, None, "{how}");
        assert!(how.contains("never fell below 90%"), "{how}");
    }
}
