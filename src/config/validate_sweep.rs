//! The checks of `[sweep]`: its axes (every listed value and both ends of a range within
//! bounds, a range's min at most its max), its size, and the search and halving settings that
//! go together.

use super::limits::*;
use super::space::Space;
use super::validate::Problems;
use super::*;

/// The axes, the number of runs, the search and successive halving.
pub(super) fn sweep(config: &Config, p: &mut Problems) {
    let Some(sweep) = &config.sweep else { return };
    p.check(
        (1..=10_000).contains(&sweep.seeds),
        "sweep.seeds",
        format!("expected between 1 and 10000, found {}", sweep.seeds),
    );
    let rate_ok = |lr: f64| lr.is_finite() && lr > 0.0 && lr <= MAX_LEARNING_RATE;
    let rates = format!("numbers > 0 and at most {MAX_LEARNING_RATE:e}");
    axis(p, "sweep.learning_rate", &sweep.learning_rate, rate_ok, &rates);
    let widths = format!("whole numbers from 1 to {MAX_WIDTH}");
    axis(p, "sweep.width", &sweep.width, |w| (1..=MAX_WIDTH).contains(&w), &widths);
    let widest = sweep.width.values().iter().copied().chain(sweep.width.range().map(|r| r.max)).max();
    if let Some(widest) = widest.filter(|w| (1..=MAX_WIDTH).contains(w))
        && config.data.known()
    {
        let hidden = vec![widest; config.model.hidden_sizes.len()];
        super::validate::size(config, &hidden, "sweep.width", p);
    }
    let swept_width = !sweep.width.is_empty();
    p.check(
        !swept_width || !config.model.hidden_sizes.is_empty(),
        "sweep.width",
        "sets the width of every hidden layer, and model.hidden_sizes has none; give the model a hidden layer".into(),
    );
    let search = sweep.search();
    let ranged =
        [("learning_rate", sweep.learning_rate.range().is_some()), ("width", sweep.width.range().is_some())];
    if let (Search::Grid, Some((name, _))) = (search, ranged.iter().find(|(_, r)| *r)) {
        p.check(
            false,
            "sweep.search",
            format!("a grid tries every listed value, and sweep.{name} is a range, which only a random search samples; list its values, or set search = \"random\""),
        );
    }
    if let Some(trials) = sweep.trials {
        p.check(
            search == Search::Random,
            "sweep.trials",
            "is the number of settings a random search draws; set search = \"random\" (or give an axis as a range)".into(),
        );
        p.check(
            (1..=10_000).contains(&trials),
            "sweep.trials",
            format!("expected between 1 and 10000, found {trials}"),
        );
    }
    let runs = match search {
        Search::Grid => [
            sweep.activation.len(),
            sweep.optimizer.len(),
            sweep.learning_rate.values().len(),
            sweep.init.len(),
            sweep.width.values().len(),
        ]
        .iter()
        .fold(sweep.seeds.min(10_000), |product, &n| product.saturating_mul(n.max(1))),
        Search::Random => sweep.trials().min(10_000) * sweep.seeds.min(10_000),
    };
    p.check(
        runs <= MAX_SWEEP_RUNS,
        "sweep",
        format!("the sweep has {runs} runs; at most {MAX_SWEEP_RUNS} are accepted"),
    );
    halving(config, sweep, p);
}

/// One axis: each listed value, or the range's ends, `ok`; a range's min at most its max.
fn axis<T: Copy + PartialOrd + std::fmt::Display>(
    p: &mut Problems,
    key: &str,
    space: &Space<T>,
    ok: impl Fn(T) -> bool,
    expected: &str,
) {
    for &value in space.values() {
        p.check(ok(value), key, format!("expected {expected}, found {value}"));
    }
    if let Some(range) = space.range() {
        // A rate's log needs min > 0, which `ok` already asks of every rate.
        p.check(ok(range.min), key, format!("expected a range of {expected}, found min = {}", range.min));
        p.check(ok(range.max), key, format!("expected a range of {expected}, found max = {}", range.max));
        p.check(
            range.min <= range.max,
            key,
            format!("expected min <= max, found min = {} and max = {}", range.min, range.max),
        );
    }
}

/// `halving` and `min_epochs`: a factor of at least 2, a first rung no longer than the last,
/// and a schedule that a continued run follows exactly.
fn halving(config: &Config, sweep: &SweepSection, p: &mut Problems) {
    if let Some(max) = sweep.max_epochs {
        p.check(
            sweep.halving.is_some(),
            "sweep.max_epochs",
            "is the last rung of successive halving; set sweep.halving (e.g. 3) too, or training.num_epochs"
                .into(),
        );
        p.check(
            (1..=MAX_EPOCHS).contains(&max),
            "sweep.max_epochs",
            format!("expected between 1 and {MAX_EPOCHS}, found {max}"),
        );
    }
    let num_epochs = sweep.max_epochs.unwrap_or(config.training.num_epochs);
    if let Some(eta) = sweep.halving {
        p.check(
            (2..=100).contains(&eta),
            "sweep.halving",
            format!("expected between 2 and 100, found {eta}"),
        );
        // A cosine schedule anneals over num_epochs: a trial trained to a rung's epochs and then
        // continued would not follow the schedule of one run of the last rung's length.
        p.check(
            config.optimizer.schedule != Schedule::Cosine,
            "sweep.halving",
            "continues trials from their checkpoints, and a cosine schedule anneals over num_epochs, so a continued trial would not be the run it stands for; use schedule = \"constant\", \"step\" or \"exponential\"".into(),
        );
    }
    if let Some(min) = sweep.min_epochs {
        p.check(
            sweep.halving.is_some(),
            "sweep.min_epochs",
            "is the first rung of successive halving; set sweep.halving (e.g. 3) too".into(),
        );
        p.check(
            (1..=num_epochs).contains(&min),
            "sweep.min_epochs",
            format!("expected between 1 and the last rung's {num_epochs} epochs (sweep.max_epochs, else training.num_epochs), found {min}"),
        );
    }
}
