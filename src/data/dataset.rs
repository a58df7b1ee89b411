//! The rows a config names, made or read once: a truth table, synthetic points drawn per seed,
//! or a CSV file's rows. [`Dataset::load`] is where a config file and its data come in
//! together: the config layer checks the file's shape (through the reader given to it) and
//! this layer keeps the rows, so the config never holds data.

use crate::config::csv_schema::{Request, Schema};
use crate::config::{Config, ConfigError, DataSection, Problem, Synthetic};
use crate::data::csv::CsvData;
use crate::data::table::Table;
use std::path::Path;
use std::sync::Arc;

/// What a run learns from.
#[derive(Clone, Debug)]
pub enum Dataset {
    /// A truth table, validated on its own rows.
    Gate(Arc<Table>),
    /// Synthetic points: drawn from each run's seed, so a sweep's seeds see different points.
    Synthetic { kind: Synthetic, samples: usize, noise: f64, valid_rows: usize },
    /// A CSV file's rows, split once with the config's seed (shared, not copied: they may be
    /// large).
    Csv { train: Arc<Table>, valid: Arc<Table> },
}

impl Dataset {
    /// Reads, types and checks a config file and reads the data it names. Every problem found
    /// (the CSV file's included, at its `data.csv` line) is in the error.
    pub fn load(path: &Path, any_backend: bool) -> Result<(Config, Dataset), ConfigError> {
        let mut rows = None;
        let mut read_csv = |file: &Path, request: &Request<'_>| -> Result<Schema, String> {
            let read = CsvData::read(file, request)?;
            rows = Some((Arc::new(read.train), Arc::new(read.valid)));
            Ok(read.schema)
        };
        let config = Config::load_reading(path, any_backend, &mut read_csv)?;
        let dataset = match (Dataset::generated(&config.data), rows) {
            (Some(dataset), _) => dataset,
            (None, Some((train, valid))) => Dataset::Csv { train, valid },
            // Validation refuses a config without a data source; this says so rather than panic.
            (None, None) => {
                let problem = Problem::whole("expected a data source in [data], found none".into());
                return Err(ConfigError { path: path.to_path_buf(), problems: vec![problem] });
            }
        };
        Ok((config, dataset))
    }

    /// The truth table or synthetic points a config's `[data]` describes; `None` for a CSV file,
    /// which only [`Dataset::load`] reads.
    pub fn generated(data: &DataSection) -> Option<Dataset> {
        if let Some(gate) = data.gate {
            return Some(Dataset::Gate(Arc::new(gate.table(data.inputs.unwrap_or(2)))));
        }
        data.synthetic.map(|kind| Dataset::Synthetic {
            kind,
            samples: data.samples.unwrap_or(500),
            noise: data.noise.unwrap_or(0.1),
            valid_rows: data.synthetic_valid_rows(),
        })
    }

    /// The rows to train on, and those to validate on (`None` when they are the training rows,
    /// as for a truth table) for a run with `seed`.
    pub fn split(&self, seed: u64) -> (Arc<Table>, Option<Arc<Table>>) {
        match self {
            Dataset::Gate(table) => (table.clone(), None),
            Dataset::Synthetic { kind, samples, noise, valid_rows } => {
                let all = kind.table(*samples, *noise, seed);
                let (train, valid) = all.shuffled_split(*valid_rows, seed);
                (Arc::new(train), Some(Arc::new(valid)))
            }
            Dataset::Csv { train, valid } => (train.clone(), Some(valid.clone())),
        }
    }
}
