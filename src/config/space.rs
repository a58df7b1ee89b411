//! A sweep's axis: the values to try (a grid axis, or the choices of a random search), or a
//! range to sample, `{ min = 1e-4, max = 1.0, log = true }`, as Optuna's `suggest_float` and
//! `suggest_int` take them. Written the same way in a config and, as `1e-4..1:log`, on the
//! command line.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The values of one axis of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Space<T> {
    /// Values to try: every one in a grid, one drawn per trial in a random search. Empty (the
    /// default): the config's own setting.
    Values(Vec<T>),
    /// Every value from `min` to `max`, inclusive; sampled only (a grid cannot list it).
    Range(Range<T>),
}

/// `{ min, max, log }`: with `log`, sampled uniformly in the logarithm, as a learning rate
/// or a width is best searched (each factor of ten as likely as the next).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Range<T> {
    pub min: T,
    pub max: T,
    pub log: bool,
}

impl<T> Default for Space<T> {
    fn default() -> Self {
        Space::Values(Vec::new())
    }
}

impl<T> Space<T> {
    /// The listed values; none for a range.
    pub fn values(&self) -> &[T] {
        match self {
            Space::Values(values) => values,
            Space::Range(_) => &[],
        }
    }

    /// No values and no range: the config's own setting.
    pub fn is_empty(&self) -> bool {
        matches!(self, Space::Values(values) if values.is_empty())
    }

    /// The axis given as several `--option` values: their values together, or one range alone.
    pub fn joined(given: Vec<Space<T>>) -> Result<Option<Space<T>>, String>
    where
        T: fmt::Display,
    {
        if given.len() <= 1 {
            return Ok(given.into_iter().next());
        }
        let mut values = Vec::new();
        for space in given {
            match space {
                Space::Values(more) => values.extend(more),
                Space::Range(range) => {
                    return Err(format!(
                        "expected values, or one range alone, found the range {range} among others"
                    ));
                }
            }
        }
        Ok(Some(Space::Values(values)))
    }

    pub fn range(&self) -> Option<&Range<T>> {
        match self {
            Space::Values(_) => None,
            Space::Range(range) => Some(range),
        }
    }
}

/// The keys a range may have.
const RANGE_KEYS: [&str; 3] = ["min", "max", "log"];

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Space<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SpaceVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for SpaceVisitor<T> {
            type Value = Space<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of values, or a range written { min = ..., max = ..., log = true }")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Space<T>, A::Error> {
                let mut values = Vec::new();
                while let Some(value) = seq.next_element()? {
                    values.push(value);
                }
                Ok(Space::Values(values))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Space<T>, A::Error> {
                let (mut min, mut max, mut log) = (None, None, false);
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "min" => min = Some(map.next_value()?),
                        "max" => max = Some(map.next_value()?),
                        "log" => log = map.next_value()?,
                        other => {
                            let suggestion = crate::names::suggest(other, &RANGE_KEYS.map(String::from), '`');
                            return Err(de::Error::custom(format!(
                                "unknown key `{other}` in a range{suggestion}; expected `min`, `max` and optionally `log`"
                            )));
                        }
                    }
                }
                let min = min.ok_or_else(|| de::Error::missing_field("min"))?;
                let max = max.ok_or_else(|| de::Error::missing_field("max"))?;
                Ok(Space::Range(Range { min, max, log }))
            }
        }
        deserializer.deserialize_any(SpaceVisitor(std::marker::PhantomData))
    }
}

impl<T: std::str::FromStr> std::str::FromStr for Space<T> {
    type Err = String;

    /// `0.5,0.05` (values) or `MIN..MAX`, `MIN..MAX:log` (a range), as the command line has them.
    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let number = |part: &str| {
            part.trim().parse::<T>().map_err(|_| format!("expected a number, found {:?}", part.trim()))
        };
        let (span, log) = match text.strip_suffix(":log") {
            Some(span) => (span, true),
            None => (text, false),
        };
        if let Some((min, max)) = span.split_once("..") {
            return Ok(Space::Range(Range { min: number(min)?, max: number(max)?, log }));
        }
        if log {
            return Err(format!("expected a range MIN..MAX before :log, found {text:?}"));
        }
        text.split(',').map(number).collect::<Result<Vec<T>, String>>().map(Space::Values)
    }
}

impl<T: fmt::Display> fmt::Display for Range<T> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}..{}{}", self.min, self.max, if self.log { ":log" } else { "" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_writes_values_and_ranges() {
        assert_eq!("0.5,0.05".parse(), Ok(Space::Values(vec![0.5, 0.05])));
        assert_eq!("1e-4..1:log".parse(), Ok(Space::Range(Range { min: 1e-4, max: 1.0, log: true })));
        assert_eq!("2..16".parse(), Ok(Space::Range(Range { min: 2usize, max: 16, log: false })));
        assert!("2..x".parse::<Space<usize>>().unwrap_err().contains("\"x\""));
        assert!("0.5:log".parse::<Space<f64>>().unwrap_err().contains("MIN..MAX"));
        let twice = Space::joined(vec!["0.5".parse().unwrap(), "0.05,0.1".parse().unwrap()]);
        assert_eq!(twice, Ok(Some(Space::Values(vec![0.5, 0.05, 0.1]))), "a repeated option adds its values");
        let mixed = Space::joined(vec!["0.5".parse().unwrap(), "1e-3..1".parse::<Space<f64>>().unwrap()]);
        assert!(mixed.unwrap_err().contains("the range 0.001..1 among others"));
    }

    #[test]
    fn a_config_writes_a_list_or_a_table() {
        #[derive(Deserialize)]
        struct Axis {
            rate: Space<f64>,
        }
        let list: Axis = toml::from_str("rate = [0.5, 0.05]").unwrap();
        assert_eq!(list.rate, Space::Values(vec![0.5, 0.05]));
        let range: Axis = toml::from_str("rate = { min = 1e-4, max = 1.0, log = true }").unwrap();
        assert_eq!(range.rate, Space::Range(Range { min: 1e-4, max: 1.0, log: true }));
        let unknown = toml::from_str::<Axis>("rate = { min = 1e-4, max = 1.0, step = 2 }");
        assert!(unknown.err().unwrap().message().contains("unknown key `step` in a range"));
        let missing = toml::from_str::<Axis>("rate = { min = 1e-4 }");
        assert!(missing.err().unwrap().message().contains("missing field `max`"));
    }
}
