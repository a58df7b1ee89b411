//! The settings a sweep tries: every combination of its lists (a grid), or `trials` settings
//! drawn from its axes (a random search, seeded by the config's `seed`: the same config draws
//! the same trials). Bergstra and Bengio (2012) showed why the second often wins: with one
//! axis that matters, nine grid points try three of its values, nine random trials try nine.

use crate::config::space::{Range, Space};
use crate::config::{Config, Search, SweepSection};
use crate::data::rng::SplitMix64;
use crate::run::sweep_results::Setting;

/// The sweep's settings, in the order of its table and sweep.csv.
pub fn settings(base: &Config, sweep: &SweepSection) -> Vec<Setting> {
    match sweep.search() {
        Search::Grid => grid(base, sweep),
        Search::Random => drawn(base, sweep),
    }
}

/// A value listed twice is one setting: its runs would only be counted twice.
fn or_base<T: Clone + PartialEq>(list: &[T], own: T) -> Vec<T> {
    let mut values: Vec<T> = Vec::new();
    for value in if list.is_empty() { std::slice::from_ref(&own) } else { list } {
        if !values.contains(value) {
            values.push(value.clone());
        }
    }
    values
}

/// Every combination of the lists, in a fixed order.
fn grid(base: &Config, sweep: &SweepSection) -> Vec<Setting> {
    let activations = or_base(&sweep.activation, base.model.activation);
    let optimizers = or_base(&sweep.optimizer, base.optimizer.name);
    let rates = or_base(sweep.learning_rate.values(), base.optimizer.learning_rate);
    let inits = or_base(&sweep.init, base.model.init);
    let widths: Vec<Option<usize>> = sweep.width.values().iter().map(|&w| Some(w)).collect();
    let widths = or_base(&widths, None);
    let mut all = Vec::new();
    for &activation in &activations {
        for &optimizer in &optimizers {
            for &learning_rate in &rates {
                for &init in &inits {
                    for &width in &widths {
                        all.push(Setting { activation, optimizer, learning_rate, init, width });
                    }
                }
            }
        }
    }
    all
}

/// Distinct settings drawn one axis after another; the draws stop short of `trials` only when
/// the axes hold fewer distinct settings (lists alone), after a hundred draws per trial.
fn drawn(base: &Config, sweep: &SweepSection) -> Vec<Setting> {
    let mut rng = SplitMix64::new(base.seed);
    let mut all: Vec<Setting> = Vec::new();
    let trials = sweep.trials();
    let activations = or_base(&sweep.activation, base.model.activation);
    let optimizers = or_base(&sweep.optimizer, base.optimizer.name);
    let rates = or_base(sweep.learning_rate.values(), base.optimizer.learning_rate);
    let inits = or_base(&sweep.init, base.model.init);
    for _ in 0..trials.saturating_mul(100) {
        if all.len() == trials {
            break;
        }
        let setting = Setting {
            activation: choose(&mut rng, &activations),
            optimizer: choose(&mut rng, &optimizers),
            learning_rate: match &sweep.learning_rate {
                Space::Range(range) => rate(&mut rng, range),
                Space::Values(_) => choose(&mut rng, &rates),
            },
            init: choose(&mut rng, &inits),
            width: match &sweep.width {
                Space::Range(range) => Some(width(&mut rng, range)),
                Space::Values(values) if values.is_empty() => {
                    rng.next_u64(); // one draw per axis whatever it holds: the stream stays aligned
                    None
                }
                Space::Values(values) => Some(choose(&mut rng, values)),
            },
        };
        if !all.contains(&setting) {
            all.push(setting);
        }
    }
    all
}

fn choose<T: Copy>(rng: &mut SplitMix64, values: &[T]) -> T {
    let index = (rng.unit() * values.len() as f64) as usize;
    values[index.min(values.len() - 1)]
}

/// A rate from the range, to three significant digits: 0.0123, not 0.012345678901234, so
/// that labels read and a config can copy it; the digits beyond say nothing a seed does not.
fn rate(rng: &mut SplitMix64, range: &Range<f64>) -> f64 {
    let u = rng.unit();
    let value = if range.log {
        (range.min.ln() + (range.max.ln() - range.min.ln()) * u).exp()
    } else {
        range.min + (range.max - range.min) * u
    };
    format!("{value:.2e}").parse::<f64>().unwrap_or(value).clamp(range.min, range.max)
}

/// A width from min to max inclusive, each as likely, or each factor as likely with `log`.
fn width(rng: &mut SplitMix64, range: &Range<usize>) -> usize {
    let (min, max, u) = (range.min as f64, range.max as f64, rng.unit());
    let value = if range.log {
        (min.ln() + ((max + 1.0).ln() - min.ln()) * u).exp()
    } else {
        min + (max - min + 1.0) * u
    };
    (value.floor() as usize).clamp(range.min, range.max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Activation, Gate};

    fn random(seed: u64, sweep: SweepSection) -> Vec<Setting> {
        let mut config = Config { seed, ..Config::default() };
        config.data.gate = Some(Gate::Or);
        settings(&config, &SweepSection { search: Some(Search::Random), ..sweep })
    }

    #[test]
    fn a_random_search_draws_the_same_trials_from_the_same_seed_and_others_from_another() {
        let space = || SweepSection {
            learning_rate: Space::Range(Range { min: 1e-4, max: 1.0, log: true }),
            width: Space::Range(Range { min: 2, max: 64, log: true }),
            activation: vec![Activation::Tanh, Activation::Relu],
            trials: Some(50),
            ..SweepSection::default()
        };
        let first = random(7, space());
        assert_eq!(first.len(), 50);
        assert_eq!(first, random(7, space()));
        assert_ne!(first, random(8, space()));
        for s in &first {
            assert!((1e-4..=1.0).contains(&s.learning_rate), "{s:?}");
            assert_eq!(format!("{:.2e}", s.learning_rate).parse::<f64>().unwrap(), s.learning_rate);
            assert!((2..=64).contains(&s.width.unwrap()), "{s:?}");
        }
        // Log-uniform: about as many rates below 0.01 as above (two decades each side).
        let below = first.iter().filter(|s| s.learning_rate < 0.01).count();
        assert!((15..=35).contains(&below), "{below} of 50 below 0.01");
        assert!(first.iter().any(|s| s.activation == Activation::Tanh));
        assert!(first.iter().any(|s| s.activation == Activation::Relu));
    }

    #[test]
    fn a_random_search_over_lists_alone_draws_each_setting_once() {
        let lists = SweepSection {
            activation: vec![Activation::Tanh, Activation::Relu],
            learning_rate: Space::Values(vec![0.1, 0.5]),
            trials: Some(10),
            ..SweepSection::default()
        };
        let drawn = random(0, lists);
        assert_eq!(drawn.len(), 4, "2 x 2 distinct settings: {drawn:?}");
    }

    #[test]
    fn a_width_range_reaches_both_ends() {
        let mut rng = SplitMix64::new(3);
        let range = Range { min: 2, max: 5, log: false };
        let widths: Vec<usize> = (0..200).map(|_| width(&mut rng, &range)).collect();
        for w in 2..=5 {
            assert!(widths.contains(&w), "{w} never drawn");
        }
    }
}
