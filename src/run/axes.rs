//! The axes of gatenet's charts, with ticks a person can read, as matplotlib draws them by
//! default: whole epochs at round steps; log scales labelled at powers of ten, or at 1-2-5 steps
//! (or every digit) when the data spans less than a decade, so that every panel has at least
//! three labels and none overlap. No minor lines: between two decades they filled every pixel
//! and read as a grey band. Axes are padded, so that no curve lies on the frame.

use plotters::coord::combinators::{BindKeyPoints, LogCoord, WithKeyPoints};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::ops::Range;

pub type LogAxis = WithKeyPoints<LogCoord<f64>>;

/// A linear axis labelled at given ticks only. (plotters' own `WithKeyPoints` over a float
/// axis loses the axis's label formatting, which the mesh needs.)
pub struct EpochAxis {
    linear: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ranged for EpochAxis {
    type ValueType = f64;
    type FormatOption = DefaultFormatting;

    fn range(&self) -> Range<f64> {
        self.linear.range()
    }

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.linear.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() { Vec::new() } else { self.ticks.clone() }
    }
}

/// The finite range of some values, widened when flat; `floor` keeps log scales above zero.
pub fn span(values: impl Iterator<Item = f64>, floor: f64) -> (f64, f64) {
    let (low, high) = values
        .filter(|v| v.is_finite())
        .map(|v| v.max(floor))
        .fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(v), h.max(v)));
    match (low, high) {
        (l, h) if l > h => (floor.max(1e-3), 1.0),
        // Flat: around the value, by half of it (at least 0.5 on a linear axis; a log axis,
        // whose floor is above 0, keeps it positive).
        (l, h) if l == h && floor > 0.0 => (l / 2.0, h * 2.0 + floor),
        (l, h) if l == h => (l - 0.5 * l.abs().max(1.0), h + 0.5 * l.abs().max(1.0)),
        (l, h) => (l, h),
    }
}

/// Share of an axis added at each end.
const PAD: f64 = 0.03;

/// Epochs 1 to `last`, labelled at a round step (1, 2, 5, 10, 20, 50, ...) of at most ten ticks.
pub fn epochs(last: f64) -> EpochAxis {
    let last = last.max(2.0);
    let pad = (last - 1.0) * PAD;
    EpochAxis { linear: (1.0 - pad..last + pad).into(), ticks: epoch_ticks(last) }
}

fn epoch_ticks(last: f64) -> Vec<f64> {
    let span = last - 1.0;
    let step = (0..20)
        .flat_map(|k| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(k)))
        .find(|step| span / step <= 10.0)
        .unwrap_or(1e20);
    let first = if step == 1.0 { 1.0 } else { step };
    (0..).map(|i| first + i as f64 * step).take_while(|t| *t <= last).collect()
}

/// A log scale over `low..high` (both > 0), padded by a few percent of its decades.
pub fn log(low: f64, high: f64) -> LogAxis {
    let factor = (high / low).max(1.0).powf(PAD).max(1.05);
    let (low, high) = (low / factor, high * factor);
    (low..high).log_scale().with_key_points(log_ticks(low, high))
}

/// Powers of ten if three or more lie in range (every other one, and so on, past eight), else
/// 1-2-5 steps, else every digit; the ends themselves for a range narrower than that.
fn log_ticks(low: f64, high: f64) -> Vec<f64> {
    let (k0, k1) = (low.log10().floor() as i32, high.log10().ceil() as i32);
    let digits: [&[u32]; 3] = [&[1], &[1, 2, 5], &[1, 2, 3, 4, 5, 6, 7, 8, 9]];
    for mantissas in digits {
        // Written as decimals and parsed, so that 3e-1 is 0.3, not 0.30000000000000004.
        let ticks: Vec<f64> = (k0..=k1)
            .flat_map(|k| mantissas.iter().map(move |m| format!("{m}e{k}").parse::<f64>().unwrap_or(0.0)))
            .filter(|v| (low..=high).contains(v))
            .collect();
        if ticks.len() >= 3 {
            let every = ticks.len().div_ceil(8);
            return ticks.into_iter().step_by(every).collect();
        }
    }
    // Inside the ends, where a label is drawn whole: a sixth, a half and five sixths of the way.
    let at = |share: f64| (low.ln() + share * (high.ln() - low.ln())).exp();
    [at(1.0 / 6.0), at(0.5), at(5.0 / 6.0)].map(|v| format!("{v:.2e}").parse().unwrap_or(v)).to_vec()
}

/// A linear axis's label with one decimal, never `-0.0` (a value just below zero rounds to it).
pub fn linear_label(value: &f64) -> String {
    label_with(*value, 1)
}

/// The decimals a linear axis from `low` to `high` needs for its labels to differ, at about ten
/// ticks: none for 20 to 220 (`20`, `40`), one for -0.3 to 1.3, two for 0.31 to 0.47.
pub fn decimals(low: f64, high: f64) -> usize {
    let step = (high - low).abs() / 10.0;
    if !(step.is_finite() && step > 0.0) {
        return 1;
    }
    (-step.log10().floor()).clamp(0.0, 6.0) as usize
}

/// At most `most` round ticks (steps of 1, 2 or 5 times a power of ten) from `low` to `high`.
pub fn linear_ticks(low: f64, high: f64, most: usize) -> Vec<f64> {
    let span = high - low;
    if !(span.is_finite() && span > 0.0) {
        return vec![low];
    }
    let step = (-20..20)
        .flat_map(|k| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(k)))
        .find(|step| span / step < most as f64)
        .unwrap_or(span);
    let first = (low / step).ceil() as i64;
    (first..).map(|i| i as f64 * step).take_while(|t| *t <= high + step * 1e-9).collect()
}

/// `value` with `decimals` decimals, never `-0.0`.
pub fn label_with(value: f64, decimals: usize) -> String {
    let scale = 10f64.powi(decimals as i32);
    let rounded = (value * scale).round() / scale + 0.0;
    format!("{rounded:.decimals$}")
}

/// A log axis's label: `1e-3`, `5e-2`, `1.5e-1`.
pub fn log_label(value: &f64) -> String {
    format!("{value:e}")
}

/// The corner of a chart where a legend covers the fewest of the `points`, given as shares of
/// the chart's width and height (0 to 1, from the bottom left).
pub fn emptiest_corner(points: impl Iterator<Item = (f64, f64)>) -> SeriesLabelPosition {
    let corners = [
        (SeriesLabelPosition::UpperRight, 0.6, 0.7),
        (SeriesLabelPosition::UpperLeft, 0.0, 0.7),
        (SeriesLabelPosition::LowerRight, 0.6, 0.0),
        (SeriesLabelPosition::LowerLeft, 0.0, 0.0),
    ];
    let mut covered = [0usize; 4];
    for (x, y) in points {
        for (i, (_, left, bottom)) in corners.iter().enumerate() {
            if (*left..left + 0.4).contains(&x) && (*bottom..bottom + 0.3).contains(&y) {
                covered[i] += 1;
            }
        }
    }
    let best = (0..4).min_by_key(|&i| covered[i]).unwrap_or(0);
    corners[best].0.clone()
}

/// Where `value` sits on a log axis from `low` to `high`, as a share of its height.
pub fn log_share(value: f64, low: f64, high: f64) -> f64 {
    (value.ln() - low.ln()) / (high.ln() - low.ln())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_never_too_few_or_too_many() {
        assert_eq!(epoch_ticks(6.0), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(epoch_ticks(5000.0).last(), Some(&5000.0));
        assert!(epoch_ticks(5000.0).len() <= 10);
        // A constant learning rate of 0.05, widened by `span` to 0.025..0.1: readable labels.
        let ticks = log_ticks(0.025, 0.1);
        assert!(ticks.len() >= 3 && ticks.contains(&0.05), "{ticks:?}");
        assert_eq!(log_ticks(1e-6, 1.0), [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]);
        assert!(log_ticks(1e-12, 10.0).len() <= 8);
        let narrow = log_ticks(0.2490, 0.2510);
        assert_eq!(narrow.len(), 3, "{narrow:?}");
        assert_eq!(log_label(&0.05), "5e-2");
        assert_eq!(linear_label(&-0.04), "0.0");
        assert_eq!(linear_label(&-0.06), "-0.1");
        assert_eq!((decimals(20.0, 220.0), decimals(-0.3, 1.3), decimals(0.31, 0.47)), (0, 1, 2));
        assert_eq!(label_with(-0.001, 2), "0.00");
        assert_eq!(linear_ticks(0.0, 1.0, 6), [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]);
        assert_eq!(linear_ticks(0.3, 4.7, 6), [1.0, 2.0, 3.0, 4.0]);
    }
}
