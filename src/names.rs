//! One spelling for every named value gatenet writes or reads: serde's, the one the config
//! file uses. Display, sweep.csv, summary.json and messages all print it, and [`parse`] reads
//! it back, so that every name gatenet writes its config reader accepts.

use serde::de::IntoDeserializer;
use serde::{Deserialize, Serialize};

/// The name serde gives a unit variant, e.g. `"leaky_relu"`.
pub fn name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        other => unreachable!("a named value serializes as a string, not {other:?}"),
    }
}

/// The value a name stands for, as the config reader reads it.
pub fn parse<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, String> {
    T::deserialize(IntoDeserializer::<serde::de::value::Error>::into_deserializer(text))
        .map_err(|e| e.to_string())
}

/// " (did you mean "x"?)" for the valid name nearest to `found`, or nothing when none is near.
pub fn suggest(found: &str, valid: &[String], quote: char) -> String {
    let nearest = valid.iter().min_by_key(|v| edit_distance(found, v));
    match nearest {
        Some(v) if edit_distance(found, v) <= (found.len().max(v.len()) / 3).max(2) => {
            format!(" (did you mean {quote}{v}{quote}?)")
        }
        _ => String::new(),
    }
}

/// Levenshtein distance, case-insensitive.
fn edit_distance(a: &str, b: &str) -> usize {
    strsim::levenshtein(&a.to_lowercase(), &b.to_lowercase())
}

/// A setting that may be unset, as a message shows it: its value, or "nothing".
pub fn shown<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or("nothing".into(), |v| v.to_string())
}

/// The names, quoted and comma-separated: `"a", "b", "c"`.
pub fn list<T: std::fmt::Display>(names: &[T], quote: char) -> String {
    names.iter().map(|n| format!("{quote}{n}{quote}")).collect::<Vec<_>>().join(", ")
}

/// `impl Display` with [`name`], for the config's enums.
#[macro_export]
macro_rules! display_by_name {
    ($($type:ty),+) => {$(
        impl std::fmt::Display for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&$crate::names::name(self))
            }
        }
    )+};
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Init;
    use crate::config::Loss;
    use crate::config::{Activation, OutputActivation};
    use crate::config::{Adapter, BackendName};
    use crate::config::{Gate, Synthetic};
    use crate::config::{OptimizerName, Schedule};

    /// Every variant of an enum, found by trying the names serde's own error lists.
    fn every<T: for<'a> Deserialize<'a> + Serialize + std::fmt::Display + PartialEq + std::fmt::Debug>()
    -> usize {
        let listed = parse::<T>("?").unwrap_err();
        let names: Vec<&str> = listed.split('`').skip(3).step_by(2).collect();
        assert!(!names.is_empty(), "{listed}");
        for written in names {
            let value: T = parse(written).unwrap();
            assert_eq!(value.to_string(), written, "Display writes what the config reads");
            assert_eq!(name(&value), written);
            // And the config file itself accepts it.
            let toml: toml::Value = toml::from_str(&format!("v = \"{value}\"")).unwrap();
            assert_eq!(toml["v"].clone().try_into::<T>().unwrap(), value);
        }
        listed.split('`').skip(3).step_by(2).count()
    }

    #[test]
    fn every_name_gatenet_writes_reads_back_as_the_same_value() {
        assert_eq!(every::<Activation>(), 8);
        every::<OutputActivation>();
        every::<Init>();
        every::<Loss>();
        every::<OptimizerName>();
        every::<Schedule>();
        every::<BackendName>();
        every::<Adapter>();
        every::<Gate>();
        every::<Synthetic>();
        every::<crate::config::Search>();
        assert_eq!(Activation::LeakyRelu.to_string(), "leaky_relu");
    }
}
