//! A sweep's results and its folder's files: one row per run (sweep.csv), the table per
//! setting (sweep.md and the terminal) and the picture (sweep.png), written and read back, and
//! how an interrupted sweep is marked.

use crate::config::{Activation, Config, Init, OptimizerName};
use crate::failure::Failure;
use crate::run::atomic::write_atomic;
use crate::run::folder::RunDir;
use std::fmt::Write;

/// One combination of settings.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Setting {
    pub activation: Activation,
    pub optimizer: OptimizerName,
    pub learning_rate: f64,
    pub init: Init,
    /// Every hidden layer's width, when the sweep sets it.
    pub width: Option<usize>,
}

impl Setting {
    pub fn label(&self) -> String {
        let label =
            format!("{} {} lr {} init {}", self.activation, self.optimizer, self.learning_rate, self.init);
        match self.width {
            Some(width) => format!("{label} width {width}"),
            None => label,
        }
    }

    /// `base` with this setting and seed; the optimizer's own defaults are filled in anew.
    pub fn apply(&self, base: &Config, seed: u64) -> Result<Config, String> {
        let mut config = base.clone();
        config.seed = seed;
        config.model.activation = self.activation;
        config.model.init = self.init;
        let opt = &mut config.optimizer;
        if opt.name != self.optimizer {
            (opt.momentum, opt.epsilon, opt.beta1, opt.beta2) = (None, None, None, None);
        }
        opt.name = self.optimizer;
        opt.learning_rate = self.learning_rate;
        if let Some(width) = self.width {
            config.model.hidden_sizes.iter_mut().for_each(|w| *w = width);
        }
        let problems = config.validate();
        if let Some((key, message)) = problems.first() {
            return Err(format!("{key}: {message}"));
        }
        Ok(config.resolved())
    }
}

/// One run's outcome: a row of sweep.csv.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub setting: Setting,
    pub seed: u64,
    pub converged_epoch: Option<usize>,
    pub final_loss: f64,
    /// The last epoch's validation accuracy: what compares settings of a run without a
    /// tolerance (synthetic or CSV data, trained to a number of epochs or to `patience`).
    pub valid_accuracy: f64,
    pub wall_seconds: f64,
    /// Why the run failed to run at all; such runs count as not converged.
    pub error: Option<String>,
    /// A signal stopped the sweep during this run: it neither converged nor failed, and a
    /// continued sweep runs it again.
    pub cut_short: bool,
    /// The epochs it trained.
    pub epochs: usize,
    /// Successive halving stopped it after `epochs`, for the reason given.
    pub pruned: Option<String>,
}

impl RunResult {
    /// A run of `setting` and `seed` before anything is known of it.
    pub fn not_run(setting: &Setting, seed: u64) -> RunResult {
        RunResult {
            setting: setting.clone(),
            seed,
            converged_epoch: None,
            final_loss: f64::NAN,
            valid_accuracy: f64::NAN,
            wall_seconds: 0.0,
            error: None,
            cut_short: false,
            epochs: 0,
            pruned: None,
        }
    }

    /// The validation loss and accuracy of the run's last epoch, and that epoch: NaN and 0 for
    /// a run with none.
    pub fn last_epoch(&mut self, last: Option<&crate::run::metrics::EpochRow>) {
        self.final_loss = last.map_or(f64::NAN, |r| r.valid_loss);
        self.valid_accuracy = last.map_or(f64::NAN, |r| r.valid_accuracy);
        self.epochs = last.map_or(0, |r| r.epoch);
    }
}

/// Per-combination statistics, one row per setting.
pub struct Row {
    pub setting: Setting,
    pub runs: usize,
    pub converged: usize,
    /// Median, min and max epochs to converge over the converged runs.
    pub epochs: Option<(f64, usize, usize)>,
    /// Over the runs that ran (NaN when none did).
    pub median_valid_accuracy: f64,
    pub median_wall_seconds: f64,
    /// Successive halving stopped the setting's runs after this many epochs.
    pub pruned_at: Option<usize>,
}

/// The table's rows, of the runs that finished (a run cut short says nothing of its setting).
pub fn rows(results: &[RunResult]) -> Vec<Row> {
    let results: Vec<&RunResult> = results.iter().filter(|r| !r.cut_short).collect();
    let mut settings: Vec<Setting> = Vec::new();
    for r in &results {
        if !settings.contains(&r.setting) {
            settings.push(r.setting.clone());
        }
    }
    settings
        .into_iter()
        .map(|setting| {
            let runs: Vec<&RunResult> = results.iter().copied().filter(|r| r.setting == setting).collect();
            let mut epochs: Vec<usize> = runs.iter().filter_map(|r| r.converged_epoch).collect();
            epochs.sort_unstable();
            let mut walls: Vec<f64> = runs.iter().map(|r| r.wall_seconds).collect();
            walls.sort_by(f64::total_cmp);
            let mut accuracies: Vec<f64> =
                runs.iter().map(|r| r.valid_accuracy).filter(|a| !a.is_nan()).collect();
            accuracies.sort_by(f64::total_cmp);
            Row {
                setting,
                runs: runs.len(),
                converged: epochs.len(),
                epochs: (!epochs.is_empty()).then(|| {
                    (
                        median(&epochs.iter().map(|&e| e as f64).collect::<Vec<_>>()),
                        epochs[0],
                        epochs[epochs.len() - 1],
                    )
                }),
                median_valid_accuracy: median(&accuracies),
                median_wall_seconds: median(&walls),
                pruned_at: runs.iter().find(|r| r.pruned.is_some()).map(|r| r.epochs),
            }
        })
        .collect()
}

/// The median of sorted numbers; NaN of none.
pub fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The per-combination table, as Markdown (sweep.md and the terminal); a column for the
/// epoch successive halving stopped a setting at, when it stopped any.
pub fn table(rows: &[Row]) -> String {
    let halved = rows.iter().any(|r| r.pruned_at.is_some());
    let mut out = String::from(
        "| setting | converged | median epochs | min | max | median valid accuracy | median wall ms |",
    );
    out.push_str(if halved { " pruned at epoch |\n" } else { "\n" });
    out.push_str("|---|---|---|---|---|---|---|");
    out.push_str(if halved { "---|\n" } else { "\n" });
    for row in rows {
        let (median, min, max) = match row.epochs {
            Some((median, min, max)) => (format!("{median}"), min.to_string(), max.to_string()),
            None => ("-".into(), "-".into(), "-".into()),
        };
        let accuracy = match row.median_valid_accuracy {
            a if a.is_nan() => "-".to_string(),
            a => format!("{:.1}%", 100.0 * a),
        };
        let _ = write!(
            out,
            "| {} | {}/{} | {median} | {min} | {max} | {accuracy} | {:.1} |",
            row.setting.label(),
            row.converged,
            row.runs,
            row.median_wall_seconds * 1e3
        );
        if halved {
            let _ = write!(out, " {} |", row.pruned_at.map_or("-".to_string(), |e| e.to_string()));
        }
        out.push('\n');
    }
    out
}

/// sweep.csv's columns, in order.
const COLUMNS: [&str; 15] = [
    "activation",
    "optimizer",
    "learning_rate",
    "init",
    "seed",
    "converged",
    "epochs_to_converge",
    "final_loss",
    "wall_seconds",
    "valid_accuracy",
    "error",
    "state",
    "width",
    "epochs",
    "pruned_because",
];

/// The columns of a sweep.csv written before widths, epochs trained and pruning.
const OLD_COLUMNS: usize = 12;

/// Writes sweep.csv and sweep.md into `folder`; `notes` go under sweep.md's title.
pub fn write(
    folder: &RunDir,
    results: &[RunResult],
    rows: &[Row],
    title: &str,
    notes: &str,
) -> Result<(), Failure> {
    std::fs::create_dir_all(folder.path())
        .map_err(|e| Failure::runtime(format!("cannot create {}: {e}", folder.path().display())))?;
    let mut csv = csv::Writer::from_writer(Vec::new());
    let _ = csv.write_record(COLUMNS);
    for r in results {
        let s = &r.setting;
        let _ = csv.write_record([
            s.activation.to_string(),
            s.optimizer.to_string(),
            s.learning_rate.to_string(),
            s.init.to_string(),
            r.seed.to_string(),
            r.converged_epoch.is_some().to_string(),
            r.converged_epoch.map_or(String::new(), |e| e.to_string()),
            r.final_loss.to_string(),
            format!("{:.6}", r.wall_seconds),
            format!("{:.4}", r.valid_accuracy),
            r.error.clone().unwrap_or_default(),
            state(r).to_string(),
            s.width.map_or(String::new(), |w| w.to_string()),
            r.epochs.to_string(),
            r.pruned.clone().unwrap_or_default(),
        ]);
    }
    let csv = csv.into_inner().map_err(|e| Failure::runtime(format!("cannot write sweep.csv: {e}")))?;
    write_atomic(&folder.sweep_csv(), &csv).map_err(Failure::runtime)?;
    let markdown = format!("# {title}\n\n{notes}{}", table(rows));
    write_atomic(&folder.sweep_md(), markdown.as_bytes()).map_err(Failure::runtime)?;
    Ok(())
}

/// sweep.csv's `state` of a run that ended by itself (converged, or not, or failed)...
const FINISHED: &str = "finished";
/// ... of one a signal stopped...
const CUT_SHORT: &str = "cut_short";
/// ... and of one successive halving stopped.
const PRUNED: &str = "pruned";

fn state(r: &RunResult) -> &'static str {
    match (r.cut_short, &r.pruned) {
        (true, _) => CUT_SHORT,
        (false, Some(_)) => PRUNED,
        (false, None) => FINISHED,
    }
}

/// The runs sweep.csv records, as written by [`write`]; the error names the file and line.
pub fn read(path: &std::path::Path) -> Result<Vec<RunResult>, String> {
    let shown = path.display();
    let bytes = crate::input::read_bytes(path, "CSV", crate::data::csv::MAX_CSV_BYTES)
        .map_err(|e| format!("{shown}: {e}"))?;
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let header = reader.headers().map_err(|e| format!("{shown}: {e}"))?.clone();
    // The first twelve columns alone: a sweep.csv written before widths, epochs and pruning
    // (cells past a row's end read as empty).
    let old = header.len() == OLD_COLUMNS && header.iter().eq(COLUMNS[..OLD_COLUMNS].iter().copied());
    if header.iter().ne(COLUMNS) && !old {
        return Err(format!(
            "{shown}: expected the header {}, found {}",
            COLUMNS.join(","),
            header.iter().collect::<Vec<_>>().join(",")
        ));
    }
    let mut results = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let damaged = |what: &str| {
            format!("{shown}:{line}: {what}; the file is damaged (it is written by gatenet sweep)")
        };
        let record = record.map_err(|e| damaged(&e.to_string()))?;
        let cell = |k: usize| record.get(k).unwrap_or_default();
        let number = |k: usize| {
            cell(k)
                .parse::<f64>()
                .map_err(|_| damaged(&format!("{} is not a number: {:?}", COLUMNS[k], cell(k))))
        };
        let setting = Setting {
            activation: crate::names::parse(cell(0)).map_err(|e| damaged(&e))?,
            optimizer: crate::names::parse(cell(1)).map_err(|e| damaged(&e))?,
            learning_rate: number(2)?,
            init: crate::names::parse(cell(3)).map_err(|e| damaged(&e))?,
            width: match cell(12) {
                "" => None,
                width => Some(width.parse().map_err(|_| damaged("width is not a whole number"))?),
            },
        };
        let mut result = RunResult::not_run(
            &setting,
            cell(4).parse().map_err(|_| damaged("the seed is not a whole number"))?,
        );
        result.converged_epoch = match cell(6) {
            "" => None,
            epoch => Some(epoch.parse().map_err(|_| damaged("epochs_to_converge is not a whole number"))?),
        };
        result.final_loss = number(7)?;
        result.wall_seconds = number(8)?;
        result.valid_accuracy = number(9)?;
        result.error = Some(cell(10).to_string()).filter(|e| !e.is_empty());
        result.cut_short = match cell(11) {
            FINISHED | PRUNED => false,
            CUT_SHORT => true,
            other => {
                return Err(damaged(&format!(
                    "state is {other:?}, expected {FINISHED}, {CUT_SHORT} or {PRUNED}"
                )));
            }
        };
        result.epochs = match (old, cell(13)) {
            (true, _) => result.converged_epoch.unwrap_or(0),
            (false, epochs) => epochs.parse().map_err(|_| damaged("epochs is not a whole number"))?,
        };
        result.pruned = match (cell(11), cell(14)) {
            (PRUNED, why) => Some(why.to_string()),
            _ => None,
        };
        results.push(result);
    }
    Ok(results)
}

/// The line of sweep.md that marks an interrupted sweep.
pub const INTERRUPTED: &str = "**Interrupted**";

/// The folder of the interrupted sweep in `folder`, if there is one: `interrupted/` beside a
/// complete sweep, else the folder itself when its sweep.md says it was interrupted.
pub fn interrupted(folder: &RunDir) -> Option<RunDir> {
    let inner = folder.interrupted_sweep();
    [inner, folder.clone()].into_iter().find(|dir| dir.sweep_csv().is_file() && marked(dir))
}

/// Whether the sweep.md in `dir` is an interrupted sweep's.
pub fn marked(dir: &RunDir) -> bool {
    std::fs::read_to_string(dir.sweep_md()).is_ok_and(|md| md.lines().any(|l| l.starts_with(INTERRUPTED)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sweep_csv_of_twelve_columns_from_before_widths_and_pruning_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sweep.csv");
        let old = "activation,optimizer,learning_rate,init,seed,converged,epochs_to_converge,final_loss,wall_seconds,valid_accuracy,error,state\n\
                   tanh,adam,0.05,default,0,true,28,0.001,0.1,1.0000,,finished\n\
                   tanh,adam,0.05,default,1,false,,0.2,0.3,0.7500,,cut_short\n";
        std::fs::write(&path, old).unwrap();
        let results = read(&path).unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(
            (results[0].converged_epoch, results[0].epochs, results[0].setting.width),
            (Some(28), 28, None)
        );
        assert!(results[1].cut_short && results[1].pruned.is_none());
        let thirteen = old.replacen(",state\n", ",state,width\n", 1);
        std::fs::write(&path, thirteen).unwrap();
        assert!(read(&path).unwrap_err().contains("expected the header"), "only the old or the new header");
    }
}
