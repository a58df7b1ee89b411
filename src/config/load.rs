//! Reading a config file: the TOML parsed with byte spans (toml_edit), each key typed on its
//! own against the serde structs of `schema.rs` (so one bad key does not hide the next), and
//! every problem reported at once with file, line, column, dotted key, what was expected and
//! what was found, and the nearest valid name.

use crate::config::SweepSection;
use crate::config::csv_schema::{Request, Schema};
use crate::config::{Config, DataSection, ModelSection, OptimizerSection, TrainingSection};
use crate::config::{Loss, OutputActivation};
use crate::input::read_bytes;
use crate::names::{list, suggest};
use serde::de::DeserializeOwned;
use std::fmt;
use std::path::{Path, PathBuf};

/// Reads the CSV file a config names (the absolute path, and what the config asks of it) and
/// says what it found. The data layer supplies it (data/dataset.rs), keeping the rows: the
/// config is checked against the file without the config layer reading data.
pub type ReadCsv<'a> = &'a mut dyn FnMut(&Path, &Request) -> Result<Schema, String>;

impl Config {
    /// Reads, types and checks a config file, reading its CSV file (if it names one) with
    /// `read_csv`. Every problem found is in the error. With `any_backend`, a wgpu config is
    /// read by a binary built without wgpu (for `gradcheck`, which always runs on the CPU).
    pub fn load_reading(path: &Path, any_backend: bool, read_csv: ReadCsv) -> Result<Config, ConfigError> {
        let fail = |problems| ConfigError { path: path.to_path_buf(), problems };
        let text = read_text(path).map_err(|message| fail(vec![Problem::whole(message)]))?;
        Config::from_text(path, &text, !any_backend, Some(read_csv))
    }

    /// Reads a run folder's own config.toml: its CSV file is not read again (data.json holds
    /// what it was), and a run trained on wgpu can be read by a binary built without it (to
    /// predict, report or resume on the CPU).
    pub fn load_stored(path: &Path) -> Result<Config, ConfigError> {
        let fail = |problems| ConfigError { path: path.to_path_buf(), problems };
        let text = read_text(path).map_err(|message| fail(vec![Problem::whole(message)]))?;
        Config::from_text(path, &text, false, None)
    }

    /// As [`Config::load_stored`], from the text of a run's config.toml kept elsewhere (a
    /// checkpoint's manifest); `path` is the run's config.toml, for the name and the messages.
    pub fn from_stored_text(path: &Path, text: &str) -> Result<Config, ConfigError> {
        Config::from_text(path, text, false, None)
    }

    fn from_text(
        path: &Path,
        text: &str,
        backend_built_in: bool,
        read_csv: Option<ReadCsv>,
    ) -> Result<Config, ConfigError> {
        let fail = |problems| ConfigError { path: path.to_path_buf(), problems };
        let doc = toml_edit::ImDocument::parse(text).map_err(|e| {
            let at = e.span().map(|span| line_column(text, span.start));
            let message = format!("invalid TOML: {}", e.message().trim_end());
            fail(vec![Problem { at, key: String::new(), message }])
        })?;
        // Keys that do not type are reported and left out, so that the rest is still checked.
        let mut problems = type_each_key(&doc, text);
        let mut table: toml::Table =
            toml::from_str(text).map_err(|e| fail(vec![Problem::whole(e.message().to_string())]))?;
        for problem in &problems {
            remove_key(&mut table, &problem.key);
        }
        let given = Given {
            output_activation: table.get("model").and_then(|m| m.get("output_activation")).is_some(),
            loss: table.get("training").and_then(|t| t.get("loss")).is_some(),
            tolerance: table.get("training").and_then(|t| t.get("tolerance")).is_some(),
            patience: table.get("training").and_then(|t| t.get("patience")).is_some(),
        };
        let mut config: Config = table
            .try_into()
            .map_err(|e: toml::de::Error| fail(vec![Problem::whole(e.message().to_string())]))?;
        if config.name.is_none() {
            // A file name need not be a folder name: `my or.toml` trains into `my-or`.
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
            config.name = stem.map(|stem| {
                stem.chars().map(|c| if c.is_alphanumeric() || "-_.".contains(c) { c } else { '-' }).collect()
            });
        }
        // A user's config only: a run folder's config.toml has every default written out.
        if read_csv.is_some() {
            sampled_data_defaults(&mut config, given);
        }
        // A run folder's config keeps the CSV's absolute path and its schema in data.json; the
        // file itself is read for a config a user gives.
        if let Some(reader) = read_csv
            && let Err(message) = read_data(&mut config, path, (&problems, given), reader)
        {
            problems.push(Problem { at: locate(&doc, text, "data.csv"), key: "data.csv".into(), message });
        }
        for (key, message) in config.validate() {
            if !backend_built_in && key == "backend" {
                continue;
            }
            // A key already reported (or its table) is not reported again.
            let related = |p: &Problem| p.key.starts_with(&key) || key.starts_with(&p.key);
            if !problems.iter().any(related) {
                problems.push(Problem { at: locate(&doc, text, &key), key, message });
            }
        }
        if problems.is_empty() { Ok(config.resolved()) } else { Err(fail(problems)) }
    }
}

/// Reads the config's CSV file, if it names one, relative to the config file's folder; its
/// schema goes into `config.data`. Skipped while a key it depends on has a problem.
fn read_data(
    config: &mut Config,
    path: &Path,
    (problems, given): (&[Problem], Given),
    read_csv: ReadCsv,
) -> Result<(), String> {
    let data = &config.data;
    let (Some(csv), Some(targets)) = (&data.csv, &data.targets) else { return Ok(()) };
    let depends = ["data", "seed", "training.loss"];
    if data.gate.is_some()
        || data.synthetic.is_some()
        || problems.iter().any(|p| depends.iter().any(|d| p.key.starts_with(d)))
    {
        return Ok(());
    }
    let file = path.parent().unwrap_or(Path::new("")).join(csv);
    let file = std::path::absolute(&file).unwrap_or(file);
    let share = data.valid_fraction.unwrap_or(0.2);
    if !(share > 0.0 && share <= 0.9) {
        return Ok(()); // reported by validate()
    }
    // `classes = true`, or a cross-entropy loss, reads the column's values as class names.
    let classes = data.classes.unwrap_or(false) || config.training.loss == Loss::CrossEntropy;
    let features = data.features.as_deref();
    let request = Request { targets, features, valid_fraction: share, seed: config.seed, classes };
    let schema = read_csv(&file, &request)?;
    // A class column means softmax and cross-entropy unless the file says otherwise (and then
    // validation says what disagrees), as scikit-learn infers its output from the targets.
    if schema.classes.is_some() {
        if !given.output_activation {
            config.model.output_activation = OutputActivation::Softmax;
        }
        if !given.loss {
            config.training.loss = Loss::CrossEntropy;
        }
    }
    config.data.csv = Some(file.to_string_lossy().into_owned());
    config.data.schema = Some(std::sync::Arc::new(schema));
    Ok(())
}

/// Which of the settings that follow from the data the file gives itself.
#[derive(Clone, Copy)]
struct Given {
    output_activation: bool,
    loss: bool,
    tolerance: bool,
    patience: bool,
}

/// Epochs without a better validation loss after which a run on sampled data (synthetic or
/// CSV) stops, unless the config says otherwise: a fifth of its epochs, at least 20. Measured
/// on the minimal synthetic configs (`synthetic = "..."` alone): a fifth (200) stops spiral
/// (which 4 hidden units cannot learn) at epoch 243 instead of 1000. It is a compromise: moons
/// sits on a plateau from epoch 350 to 750 before it learns, which no patience under 400
/// outlasts, so 200 stops it at epoch 549 and 93 % accuracy (99 % at 1000); 50 stopped it at
/// 92 %, and a patience of 400 would run spiral for most of its epochs.
pub fn sampled_patience(num_epochs: usize) -> usize {
    (num_epochs / 5).max(20)
}

/// Sampled points are noisy: some never come within the default tolerance of their targets,
/// which would run every epoch of every such config. Unless the config sets a tolerance, such
/// data has none, and stops by patience on its held-out rows (unless that is set too), as
/// scikit-learn's and Keras's early stopping do.
fn sampled_data_defaults(config: &mut Config, given: Given) {
    let sampled = config.data.synthetic.is_some() || config.data.csv.is_some();
    if sampled && !given.tolerance {
        config.training.tolerance = 0.0;
        if !given.patience {
            config.training.patience = Some(sampled_patience(config.training.num_epochs));
        }
    }
}

/// The largest config read: a TOML file of gatenet's is a few KB, and reading a larger file
/// whole (a data file passed by mistake, `/dev/zero`) would only delay the error, or never end.
const MAX_CONFIG_BYTES: u64 = 4 << 20;

fn read_text(path: &Path) -> Result<String, String> {
    let bytes = read_bytes(path, "TOML", MAX_CONFIG_BYTES)?;
    String::from_utf8(bytes).map_err(|e| {
        format!("expected UTF-8 text, found a non-UTF-8 byte at offset {}", e.utf8_error().valid_up_to())
    })
}

/// The tables of the file, each with the struct that types its keys.
/// Types one `key = value` line against a table's struct.
type KeyTyper = fn(&str) -> Result<(), String>;

const SECTIONS: [(&str, KeyTyper); 5] = [
    ("data", type_key::<DataSection>),
    ("model", type_key::<ModelSection>),
    ("optimizer", type_key::<OptimizerSection>),
    ("training", type_key::<TrainingSection>),
    ("sweep", type_key::<SweepSection>),
];

/// Types every key of the file on its own, so that all bad keys are reported, not the first.
fn type_each_key(doc: &toml_edit::ImDocument<&str>, text: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    let root = doc.as_table();
    for (key, item) in root.iter() {
        let section = SECTIONS.iter().find(|(name, _)| *name == key);
        match (section, item.as_table_like()) {
            (Some((name, type_section_key)), Some(table)) => {
                for (inner, inner_item) in table.iter() {
                    let empty = inner_item.as_array().is_some_and(|a| a.is_empty());
                    if *name == "sweep" && empty && inner != "seeds" {
                        // Absent keeps the model's own setting; an empty list would silently do
                        // the same while looking like a sweep over nothing.
                        let at = table.key(inner).and_then(|k| k.span()).map(|s| line_column(text, s.start));
                        let message = format!(
                            "an empty list sweeps nothing; list the values to try, or leave `{inner}` out to keep the config's own setting"
                        );
                        problems.push(Problem { at, key: format!("sweep.{inner}"), message });
                        continue;
                    }
                    if let Err(message) = type_section_key(&source_of(inner, inner_item, text)) {
                        let at = table.key(inner).and_then(|k| k.span()).map(|s| line_column(text, s.start));
                        problems.push(Problem {
                            at,
                            key: format!("{name}.{inner}"),
                            message: explain(message, Some(name)),
                        });
                    }
                }
            }
            (Some((name, _)), None) if item.is_array_of_tables() => {
                let at = root.key(key).and_then(|k| k.span()).map(|s| line_column(text, s.start));
                let message =
                    format!("expected one table written [{name}], found [[{name}]] (an array of tables)");
                problems.push(Problem { at, key: key.to_string(), message });
            }
            _ => {
                if let Err(message) = type_key::<Config>(&source_of(key, item, text)) {
                    let at = root.key(key).and_then(|k| k.span()).map(|s| line_column(text, s.start));
                    problems.push(Problem { at, key: key.to_string(), message: explain(message, None) });
                }
            }
        }
    }
    problems
}

/// `key = value` as TOML text, with the value copied from the file, so that serde types it
/// exactly as it would inside the whole file.
fn source_of(key: &str, item: &toml_edit::Item, text: &str) -> String {
    let value = match item {
        toml_edit::Item::Value(v) => v.span().map_or("{}", |s| &text[s]),
        toml_edit::Item::ArrayOfTables(_) => "[{}]",
        // A sub-table such as `[sweep.learning_rate]` (how a range is written back): typed as
        // the inline table it equals.
        toml_edit::Item::Table(table) => {
            let inline = table.clone().into_inline_table().to_string();
            return format!("{} = {inline}", toml_edit::Key::new(key).display_repr());
        }
        _ => "{}",
    };
    format!("{} = {value}", toml_edit::Key::new(key).display_repr())
}

fn remove_key(table: &mut toml::Table, dotted: &str) {
    match dotted.split_once('.') {
        Some((section, key)) => {
            if let Some(toml::Value::Table(inner)) = table.get_mut(section) {
                inner.remove(key);
            }
        }
        None => {
            table.remove(dotted);
        }
    }
}

fn type_key<T: DeserializeOwned>(source: &str) -> Result<(), String> {
    toml::from_str::<T>(source).map(|_| ()).map_err(|e| e.message().trim_end().to_string())
}

/// Rewords serde's messages for people who write TOML, and suggests the nearest valid name.
pub fn explain(message: String, table: Option<&str>) -> String {
    let quoted = |s: &str| s.split('`').skip(1).step_by(2).map(str::to_string).collect::<Vec<_>>();
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let words = quoted(rest);
        let (found, valid) = words.split_first().map_or(("", &[][..]), |(f, v)| (f.as_str(), v));
        let place = table.map_or("at the top level".to_string(), |t| format!("in [{t}]"));
        return format!(
            "unknown key `{found}` {place}{}; expected one of {}",
            suggest(found, valid, '`'),
            list(valid, '`')
        );
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let words = quoted(rest);
        let (found, valid) = words.split_first().map_or(("", &[][..]), |(f, v)| (f.as_str(), v));
        return format!(
            "unknown value \"{found}\"{}; expected one of {}",
            suggest(found, valid, '"'),
            list(valid, '"')
        );
    }
    let mut message = message;
    for (serde_says, we_say) in [
        ("expected f64", "expected a number"),
        ("expected u64", "expected a whole number >= 0"),
        ("expected usize", "expected a whole number >= 0"),
        ("expected a sequence", "expected an array"),
        ("expected a string", "expected a string"),
    ] {
        message = message.replace(serde_says, we_say);
    }
    if message.contains("expected struct") {
        let found = message.split(',').next().unwrap_or_default();
        return format!("expected a table, found {}", found.replace("invalid type: ", ""));
    }
    message.replace("invalid type: ", "found ").replace("invalid value: ", "found ")
}

/// Where a dotted key (`optimizer.learning_rate`) is written in the file, if it is.
fn locate(doc: &toml_edit::ImDocument<&str>, text: &str, dotted: &str) -> Option<(usize, usize)> {
    let (table, key) = match dotted.split_once('.') {
        Some((section, key)) => (doc.get(section)?.as_table_like()?, key),
        None => (doc.as_table() as &dyn toml_edit::TableLike, dotted),
    };
    let span = table.key(key)?.span()?;
    Some(line_column(text, span.start))
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Everything wrong with one config file.
#[derive(Debug)]
pub struct ConfigError {
    pub path: PathBuf,
    pub problems: Vec<Problem>,
}

/// One problem: where, which key, and what was expected and found.
#[derive(Debug)]
pub struct Problem {
    /// Line and column, when the problem is at a place in the file.
    pub at: Option<(usize, usize)>,
    /// The dotted key, empty for the file as a whole.
    pub key: String,
    pub message: String,
}

impl Problem {
    /// A problem of the whole file, at no one key.
    pub fn whole(message: String) -> Problem {
        Problem { at: None, key: String::new(), message }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.problems.len();
        if count > 1 {
            writeln!(f, "{} has {count} problems:", self.path.display())?;
        }
        for (i, p) in self.problems.iter().enumerate() {
            let indent = if count > 1 { "  " } else { "" };
            write!(f, "{indent}{}", self.path.display())?;
            if let Some((line, column)) = p.at {
                write!(f, ":{line}:{column}")?;
            }
            if !p.key.is_empty() {
                write!(f, ": {}", p.key)?;
            }
            write!(f, ": {}", p.message)?;
            if i + 1 < count {
                writeln!(f)?;
            }
        }
        Ok(())
    }
}
