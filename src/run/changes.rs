//! What a resume may change: the differences between the config a run was trained under and
//! the one it is continued with, each refused (it defines the model, the data or the
//! optimizer's state) or taken.

use crate::config::{Config, Schedule};

/// The differences between a run's config and the one it is resumed with, as
/// `key: old -> new` lines.
#[derive(Debug, Default)]
pub struct Changes {
    /// Settings a resumed run must keep.
    pub refused: Vec<String>,
    /// Settings it may change: rates, schedule, length, tolerance, checkpoints, backend.
    pub taken: Vec<String>,
    /// Whether a taken change alters how the coming epochs train (the optimizer's settings,
    /// or a cosine schedule's length), as opposed to when the run stops or saves.
    pub retrains: bool,
}

/// What differs in `new`, for resuming a run written under `old`.
pub fn changes(old: &Config, new: &Config) -> Changes {
    // They define the model, the data, the data order or the optimizer's state.
    const FIXED: [&str; 16] = [
        "seed",
        "data.gate",
        "data.targets",
        "data.features",
        "data.inputs",
        "data.synthetic",
        "data.samples",
        "data.noise",
        "data.valid_fraction",
        "model.hidden_sizes",
        "model.activation",
        "model.output_activation",
        "optimizer.name",
        "training.loss",
        "training.batch_size",
        // The best weights so far are kept only by a run that keeps them from its first epoch.
        "training.restore_best",
    ];
    let cosine = new.optimizer.schedule == Schedule::Cosine;
    let (old_values, new_values) = (flatten(old), flatten(new));
    let keys: std::collections::BTreeSet<&String> = old_values.keys().chain(new_values.keys()).collect();
    let mut changes = Changes::default();
    for key in keys {
        let show = |v: Option<&toml::Value>| v.map_or("(none)".to_string(), |v| v.to_string());
        let (a, b) = (old_values.get(key), new_values.get(key));
        // After epoch 0 the weights come from the checkpoint: init no longer matters.
        // The CSV may move: `resume.rs` checks that its bytes are the same.
        if a == b || ["name", "model.init", "data.csv"].contains(&key.as_str()) || key.starts_with("sweep.") {
            continue;
        }
        let line = format!("{key}: {} -> {}", show(a), show(b));
        if FIXED.contains(&key.as_str()) {
            changes.refused.push(line);
            continue;
        }
        // A non-constant schedule's position and rates come back from the checkpoint, so
        // a new rate or schedule would be recorded but not used: refused, not ignored.
        let schedule_key = [
            "optimizer.learning_rate",
            "optimizer.schedule",
            "optimizer.min_learning_rate",
            "optimizer.step_epochs",
            "optimizer.gamma",
        ]
        .contains(&key.as_str());
        if schedule_key
            && (old.optimizer.schedule != Schedule::Constant || new.optimizer.schedule != Schedule::Constant)
        {
            changes.refused.push(format!(
                "{line} (with a schedule other than \"constant\", the rates come from the checkpoint)"
            ));
            continue;
        }
        // The cosine schedule spreads its decay over num_epochs.
        changes.retrains |= key.starts_with("optimizer.")
            || key == "model.freeze"
            || (key == "training.num_epochs" && cosine);
        changes.taken.push(line);
    }
    changes
}

/// Every value of a config by dotted key (`optimizer.learning_rate`).
fn flatten(config: &Config) -> std::collections::BTreeMap<String, toml::Value> {
    let mut flat = std::collections::BTreeMap::new();
    let toml::Value::Table(top) = toml::Value::try_from(config).expect("a config serializes") else {
        return flat;
    };
    for (key, value) in top {
        match value {
            toml::Value::Table(section) => {
                flat.extend(section.into_iter().map(|(inner, v)| (format!("{key}.{inner}"), v)));
            }
            value => {
                flat.insert(key, value);
            }
        }
    }
    flat
}
