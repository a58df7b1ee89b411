//! A CSV file as the config describes it: what the config asks of the file ([`Request`]) and
//! what reading it found ([`Schema`]: columns, classes, scaling, size). The schema is part of
//! the resolved config: the config checks its widths and rows against it, and the run folder
//! keeps it as `data.json`, so that `predict` reads new rows the way training did. Reading the
//! file itself is the data layer's (data/csv.rs).

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;

/// How the CSV's columns map to the network: what `predict` needs besides the weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    /// Feature columns, in the order of the network's inputs.
    pub features: Vec<String>,
    /// Target columns, in the order of the outputs (one column of class names for classes).
    pub targets: Vec<String>,
    /// The class names of a text target, sorted; output i is the probability of class i.
    pub classes: Option<Vec<String>>,
    /// Per feature, the training rows' mean and standard deviation: the network sees
    /// (value - mean) / std.
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    /// SHA-256 of the file's bytes: a resumed run must train on the same data.
    pub sha256: String,
    pub rows: usize,
    /// The smallest and largest numeric target, for a regression (`None` for classes).
    #[serde(default)]
    pub target_range: Option<(f32, f32)>,
}

impl Schema {
    pub fn output_width(&self) -> usize {
        self.classes.as_ref().map_or(self.targets.len(), Vec::len)
    }

    /// A run folder's data.json.
    pub fn read(path: &Path) -> Result<Schema, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let schema: Schema =
            serde_json::from_str(&text).map_err(|e| format!("{} is damaged: {e}", path.display()))?;
        let damaged = |what: &str| Err(format!("{} is damaged: {what}", path.display()));
        let widths = schema.mean.len() == schema.features.len() && schema.std.len() == schema.features.len();
        if !widths
            || schema.std.iter().any(|s| !(s.is_finite() && *s > 0.0))
            || schema.mean.iter().any(|m| !m.is_finite())
        {
            return damaged("its scaling does not match its columns");
        }
        let unique = |names: &[String]| names.iter().collect::<BTreeSet<_>>().len() == names.len();
        if schema.features.is_empty() || schema.targets.is_empty() || !unique(&schema.features) {
            return damaged("its column names are missing or repeated");
        }
        if let Some(classes) = &schema.classes {
            let sorted = classes.windows(2).all(|pair| pair[0] < pair[1]);
            if classes.len() < 2 || !sorted || schema.targets.len() != 1 {
                return damaged("its classes are not the sorted, distinct names of one column");
            }
        }
        if schema.sha256.len() != 64 || !schema.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return damaged("its SHA-256 is not 64 hexadecimal digits");
        }
        Ok(schema)
    }
}

/// What the config asks of the file.
pub struct Request<'a> {
    pub targets: &'a [String],
    pub features: Option<&'a [String]>,
    pub valid_fraction: f64,
    pub seed: u64,
    /// Read the target column's values as class names, numbers or not.
    pub classes: bool,
}

/// The rows a CSV file of `rows` rows holds out for validation: at least one.
pub fn held_out(rows: usize, valid_fraction: f64) -> usize {
    ((rows as f64 * valid_fraction).round() as usize).max(1)
}
