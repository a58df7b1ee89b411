//! `metrics.csv`: one row per epoch, its header, writing rows as epochs end, and reading the
//! rows back for a resume.

use crate::model::health;
use crate::run::tensorboard::Events;
use std::io::Write;
use std::path::Path;

/// One row of `metrics.csv`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EpochRow {
    pub epoch: usize,
    /// Mean loss of the epoch's training batches, each measured before its update.
    pub train_loss: f64,
    pub train_accuracy: f64,
    /// Mean learning rate over the epoch's steps.
    pub learning_rate: f64,
    /// Loss on the validation rows after the epoch's updates.
    pub valid_loss: f64,
    pub valid_accuracy: f64,
    /// Largest |output - target| on the validation rows after the epoch's updates.
    pub max_error: f64,
    /// The layer-health columns, in the order of `health::columns`.
    pub health: Vec<f64>,
    /// The first epoch trained under the optimizer settings in effect: 1, or the epoch after a
    /// resume that changed how epochs train (config.toml's header lists every change).
    pub config_epoch: usize,
    /// Seconds since this process started training: the only column that differs between
    /// identical runs.
    pub elapsed_seconds: f64,
}

impl EpochRow {
    /// The header of metrics.csv for a net with `layers` Linear layers.
    pub fn header(layers: usize) -> String {
        let mut columns: Vec<String> =
            "epoch,train_loss,train_accuracy,learning_rate,valid_loss,valid_accuracy,max_error"
                .split(',')
                .map(String::from)
                .collect();
        columns.extend(health::columns(layers));
        columns.extend(["config_epoch".to_string(), "elapsed_seconds".to_string()]);
        columns.join(",")
    }

    /// The row's values in the order of the header's columns after `epoch`, as metrics.csv
    /// holds them (`elapsed_seconds` to the microsecond): what TensorBoard's series show.
    pub fn values(&self) -> Vec<f64> {
        let mut values = vec![
            self.train_loss,
            self.train_accuracy,
            self.learning_rate,
            self.valid_loss,
            self.valid_accuracy,
            self.max_error,
        ];
        values.extend(&self.health);
        let elapsed = format!("{:.6}", self.elapsed_seconds).parse().unwrap_or(self.elapsed_seconds);
        values.extend([self.config_epoch as f64, elapsed]);
        values
    }

    fn csv(&self) -> String {
        let all = self.values();
        let measured = &all[..all.len() - 2]; // then config_epoch and elapsed_seconds, below
        let values: Vec<String> = measured.iter().map(|v| v.to_string()).collect();
        format!("{},{},{},{:.6}", self.epoch, values.join(","), self.config_epoch, self.elapsed_seconds)
    }

    /// Reads back a line written by [`EpochRow::csv`].
    fn parse(line: &str) -> Option<EpochRow> {
        let cells: Vec<&str> = line.split(',').collect();
        let (&elapsed, rest) = cells.split_last()?;
        let (&config_epoch, rest) = rest.split_last()?;
        let (&epoch, rest) = rest.split_first()?;
        let values: Vec<f64> = rest.iter().map(|c| c.parse::<f64>().ok()).collect::<Option<_>>()?;
        let [train_loss, train_accuracy, learning_rate, valid_loss, valid_accuracy, max_error] =
            *values.get(..6)?
        else {
            return None;
        };
        Some(EpochRow {
            epoch: epoch.parse().ok()?,
            train_loss,
            train_accuracy,
            learning_rate,
            valid_loss,
            valid_accuracy,
            max_error,
            health: values[6..].to_vec(),
            config_epoch: config_epoch.parse().ok()?,
            elapsed_seconds: elapsed.parse().ok()?,
        })
    }
}

/// Appends rows to an open `metrics.csv` and the run's TensorBoard events, each flushed as its
/// epoch ends; or nothing, for a run kept in memory (a sweep's).
pub struct MetricsCsv {
    file: Option<(std::io::BufWriter<std::fs::File>, Events)>,
}

impl MetricsCsv {
    /// `file` holds the header and every earlier epoch's row, `events` their records.
    pub fn new(file: Option<(std::fs::File, Events)>) -> MetricsCsv {
        MetricsCsv { file: file.map(|(csv, events)| (std::io::BufWriter::new(csv), events)) }
    }

    pub fn append(&mut self, row: &EpochRow) -> std::io::Result<()> {
        match &mut self.file {
            Some((file, events)) => {
                writeln!(file, "{}", row.csv()).and_then(|_| file.flush())?;
                events.append(row.epoch, &row.values())
            }
            None => Ok(()),
        }
    }
}

/// The first epoch after which every output was within `tolerance` (0: none ever is): the
/// epoch a run converged, in summary.json, sweep.csv and lr-find's checks alike.
pub fn converged_epoch(rows: &[EpochRow], tolerance: f64) -> Option<usize> {
    rows.iter().find(|r| tolerance > 0.0 && r.max_error <= tolerance).map(|r| r.epoch)
}

/// Every whole row of a run's metrics.csv, as far as they go (a run killed mid-line ends one
/// early); an error only for a file that is not gatenet's.
pub fn read_rows(path: &Path, layers: usize) -> Result<Vec<EpochRow>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(rows_after_header(&text, path, layers)?.map_while(EpochRow::parse).collect())
}

/// The lines of metrics.csv's text after its header, once the header is gatenet's for a net of
/// `layers` Linear layers.
fn rows_after_header<'a>(text: &'a str, path: &Path, layers: usize) -> Result<std::str::Lines<'a>, String> {
    let mut lines = text.lines();
    let header = EpochRow::header(layers);
    if lines.next() != Some(header.as_str()) {
        return Err(format!("{}: the first line is not gatenet's header `{header}`", path.display()));
    }
    Ok(lines)
}

/// The run's TensorBoard events for a net with `layers` Linear layers, continuing after `rows`
/// (none for a new run): a series per metrics.csv column after `epoch`, named as the column.
pub fn open_events(path: &Path, layers: usize, rows: &[EpochRow]) -> Result<Events, String> {
    let tags = EpochRow::header(layers).split(',').skip(1).map(String::from).collect();
    let earlier: Vec<(usize, Vec<f64>)> = rows.iter().map(|r| (r.epoch, r.values())).collect();
    Events::open(path, tags, &earlier)
}

/// Creates `metrics.csv` for a new run of a net with `layers` Linear layers, with only its
/// header; it must not exist.
pub fn create_csv(path: &Path, layers: usize) -> Result<std::fs::File, String> {
    // create_new: the run folder was just cleared, and a link planted at this name since is
    // refused rather than followed.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut file| writeln!(file, "{}", EpochRow::header(layers)).map(|_| file))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// `metrics.csv` cut back to its rows for epochs 1 to `epoch`, the state of the checkpoint a run
/// resumes from: rows of later epochs (run after that checkpoint) and a partial last line are
/// dropped; a missing row is an error, never a gap. Nothing is written until [`CutCsv::write`].
pub struct CutCsv {
    text: String,
    pub rows: Vec<EpochRow>,
}

impl CutCsv {
    pub fn read(path: &Path, epoch: usize, layers: usize) -> Result<CutCsv, String> {
        let shown = path.display();
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        let lines = rows_after_header(&text, path, layers)?;
        let mut kept = EpochRow::header(layers) + "\n";
        let mut rows = Vec::new();
        for (i, line) in lines.take(epoch).enumerate() {
            match EpochRow::parse(line) {
                Some(row) if row.epoch == i + 1 => rows.push(row),
                _ => {
                    return Err(format!(
                        "{shown}:{}: expected the row of epoch {}, found {line:?}",
                        i + 2,
                        i + 1
                    ));
                }
            }
            kept.push_str(line);
            kept.push('\n');
        }
        if rows.len() < epoch {
            return Err(format!(
                "{shown} has rows for epochs 1 to {}, but the checkpoint is at epoch {epoch}",
                rows.len()
            ));
        }
        Ok(CutCsv { text: kept, rows })
    }

    /// Replaces the file with the cut rows, atomically, and opens it for appending.
    pub fn write(&self, path: &Path) -> Result<std::fs::File, String> {
        crate::run::atomic::write_atomic(path, self.text.as_bytes())?;
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot append to {}: {e}", path.display()))
    }
}
