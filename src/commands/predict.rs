//! `gatenet predict RUN_DIR`: the trained network of a run folder, answering its own table,
//! rows given with `--input`, or a CSV file. It runs on the CPU (ndarray) whatever backend
//! trained it: the weights are device-free burnpack files.

use crate::config::Config;
use crate::config::csv_schema::{Request as CsvRequest, Schema};
use crate::data::csv::CsvData;
use crate::data::dataset::Dataset;
use crate::data::table::Table;
use crate::failure::Failure;
use crate::model::mlp::Mlp;
use crate::run::checkpoint;
use crate::run::folder::RunDir;
use crate::run::summary::join;
use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// What to predict, and from which weights.
pub struct Request {
    pub run: PathBuf,
    /// A checkpoint's epoch instead of the final model.bpk.
    pub epoch: Option<usize>,
    /// Rows given on the command line, each `1,0`.
    pub inputs: Vec<String>,
    /// A CSV file of rows; the answer is CSV too.
    pub csv: Option<PathBuf>,
}

/// The text to print for `request`.
pub fn predict(request: &Request) -> Result<String, Failure> {
    let run = RunDir::at(&request.run);
    let config = load_run_config(&run)?;
    let (model, source) = load_model(&run, &config, request.epoch)?;
    let names = Names::of(&config);
    let width = names.inputs.len();
    if let Some(csv) = &request.csv {
        let rows = match &config.data.schema {
            Some(schema) => crate::data::csv::read_features(csv, schema).map_err(Failure::usage)?,
            None => read_csv(csv, width)?,
        };
        let outputs = answer(&model, &rows, width);
        return Ok(to_csv(&rows, &outputs, &names));
    }
    let mut out = String::new();
    if request.inputs.is_empty() {
        let table = training_rows(&config)?;
        let outputs = answer(&model, &table.inputs, width);
        let _ = writeln!(out, "{} ({source}):", config.name());
        let _ = writeln!(out, "  {} | target | output", names.inputs.join(" "));
        for row in 0..table.rows() {
            let cells: Vec<String> = table.input_row(row).iter().map(|v| format!("{v:>3}")).collect();
            let targets = names.target(table.target_row(row));
            let answers = names.answer(&outputs[row * names.outputs..(row + 1) * names.outputs]);
            let _ = writeln!(out, "  {} | {targets:>6} | {answers}", cells.join(" "));
        }
        return Ok(out);
    }
    let rows: Vec<f32> = request
        .inputs
        .iter()
        .map(|text| parse_row(text, width).map_err(|e| Failure::usage(format!("--input {text:?}: {e}"))))
        .collect::<Result<Vec<_>, _>>()?
        .concat();
    let outputs = answer(&model, &rows, width);
    for (inputs, answers) in rows.chunks(width).zip(outputs.chunks(names.outputs)) {
        let shown: Vec<String> = inputs.iter().map(f32::to_string).collect();
        let _ = writeln!(out, "{} -> {}", shown.join(" "), names.answer(answers));
    }
    Ok(out)
}

/// The run's training rows: the truth table or synthetic points from the config, or a CSV
/// run's file, read again and checked to be the one it trained on.
fn training_rows(config: &Config) -> Result<std::sync::Arc<Table>, Failure> {
    let (Some(csv), Some(schema)) = (&config.data.csv, &config.data.schema) else {
        let generated = Dataset::generated(&config.data).map(|data| data.split(config.seed).0);
        return generated.ok_or_else(|| Failure::usage("the run's config.toml names no data in [data]"));
    };
    let request = CsvRequest {
        targets: &schema.targets,
        features: Some(&schema.features),
        valid_fraction: config.data.valid_fraction.unwrap_or(0.2),
        seed: config.seed,
        classes: schema.classes.is_some(),
    };
    let gone = |why: String| {
        Failure::usage(format!(
            "{why}; the run's training rows come from it. Give rows with --input or a file with --csv instead"
        ))
    };
    let data = CsvData::read(Path::new(csv), &request).map_err(gone)?;
    if data.schema.sha256 != schema.sha256 {
        return Err(gone(format!("{csv} has changed since the run trained on it")));
    }
    Ok(std::sync::Arc::new(data.train))
}

/// What the inputs and outputs of a run are called.
struct Names {
    inputs: Vec<String>,
    outputs: usize,
    /// The answer's columns in `predict --csv`, after the inputs.
    header: Vec<String>,
    classes: Option<Vec<String>>,
    /// A CSV run with numeric targets.
    regression: bool,
}

impl Names {
    fn of(config: &Config) -> Names {
        let (inputs, outputs) = config.data.widths();
        match &config.data.schema {
            Some(schema) => {
                let mut header: Vec<String> =
                    schema.targets.iter().map(|t| format!("predicted_{t}")).collect();
                if let Some(classes) = &schema.classes {
                    header.extend(classes.iter().map(|c| format!("p_{c}")));
                }
                Names {
                    inputs: schema.features.clone(),
                    outputs,
                    header,
                    classes: schema.classes.clone(),
                    regression: schema.classes.is_none(),
                }
            }
            None => Names {
                inputs: (1..=inputs).map(|i| format!("in{i}")).collect(),
                outputs,
                header: (1..=outputs).map(|i| format!("out{i}")).collect(),
                classes: None,
                regression: false,
            },
        }
    }

    /// One row's target: its class name for classes.
    fn target(&self, target: &[f32]) -> String {
        match &self.classes {
            Some(classes) => classes[most_probable(target)].clone(),
            None => join(target, 0),
        }
    }

    /// One output: a regression's in its own units, which may be small, so every digit; a
    /// probability or a gate's output with 6 decimals.
    fn number(&self, value: f32) -> String {
        if self.regression { value.to_string() } else { format!("{value:.6}") }
    }

    /// One row's outputs: the numbers, led by the most probable class's name for classes.
    fn answer(&self, outputs: &[f32]) -> String {
        match &self.classes {
            Some(classes) => format!("{} ({})", classes[most_probable(outputs)], join(outputs, 6)),
            None => outputs.iter().map(|&v| self.number(v)).collect::<Vec<_>>().join(" "),
        }
    }
}

fn most_probable(outputs: &[f32]) -> usize {
    (0..outputs.len()).max_by(|&a, &b| outputs[a].total_cmp(&outputs[b])).unwrap_or(0)
}

/// The run folder's own config, or an error saying the folder is not a run.
pub fn load_run_config(run: &RunDir) -> Result<Config, Failure> {
    let folder = run.path().display();
    if !run.path().is_dir() {
        return Err(Failure::usage(format!(
            "{folder} is not a folder; expected a run folder such as artifacts/or"
        )));
    }
    if !run.config().is_file() {
        return Err(Failure::usage(format!(
            "{folder} is not a gatenet run folder: it has no config.toml (train one with `gatenet CONFIG`; runs land in artifacts/<name>/)"
        )));
    }
    let mut config = Config::load_stored(&run.config())
        .map_err(|e| Failure::usage(format!("the run's config.toml cannot be used: {e}")))?;
    if config.data.csv.is_some() {
        let schema = Schema::read(&run.data_schema())
            .map_err(|e| Failure::usage(format!("{folder} trained on a CSV file, and {e}")))?;
        // config.toml names the columns too: a data.json that disagrees was edited or mixed up.
        let stored = (config.data.features.as_ref(), config.data.targets.as_ref());
        if stored != (Some(&schema.features), Some(&schema.targets)) {
            let names = |columns: Option<&Vec<String>>| match columns {
                Some(columns) => columns.join(", "),
                None => "none".to_string(),
            };
            return Err(Failure::usage(format!(
                "{folder}: data.json names other columns than config.toml (features {} and targets {} in data.json, features {} and targets {} in config.toml); the run folder was mixed up or edited",
                names(Some(&schema.features)),
                names(Some(&schema.targets)),
                names(stored.0),
                names(stored.1)
            )));
        }
        config.data.schema = Some(std::sync::Arc::new(schema));
    }
    Ok(config)
}

/// The final model.bpk (checked against summary.json) or the checkpoint of `epoch` (checked
/// against its manifest), with the words that say which.
pub fn load_model(run: &RunDir, config: &Config, epoch: Option<usize>) -> Result<(Mlp, String), Failure> {
    #[allow(deprecated)] // the reference CPU backend; see training/backend.rs
    let device = Device::ndarray();
    let empty = Mlp::from_config(config, &device);
    let (path, source) = match epoch {
        None => (run.model(), "model.bpk".to_string()),
        Some(epoch) => {
            // Checked against its manifest before Burn reads it.
            checkpoint::find(run, Some(epoch)).map_err(Failure::usage)?;
            (
                run.checkpoint_file(crate::run::folder::Part::Model, epoch),
                format!("checkpoint of epoch {epoch}"),
            )
        }
    };
    if !path.is_file() {
        return Err(Failure::usage(format!(
            "{} has no model.bpk: the run did not finish (resume it with --resume, or predict from a checkpoint with --epoch N)",
            run.path().display()
        )));
    }
    if epoch.is_none() {
        check_model(run, &path)?;
    }
    let model = empty.try_load_file(&path).map_err(|e| {
        Failure::usage(format!(
            "cannot load {}: {}",
            path.display(),
            crate::run::checkpoint::record_error(&e)
        ))
    })?;
    Ok((model, source))
}

/// Checks model.bpk against the checksum summary.json recorded when it was written. A run
/// folder without a summary.json has nothing to check against; one whose summary.json lacks the
/// checksum (edited out) is refused, so that deleting a line cannot turn the check off.
fn check_model(run: &RunDir, path: &Path) -> Result<(), Failure> {
    let Some(summary) = crate::run::summary::Summary::read(&run.summary()).map_err(Failure::usage)? else {
        return Ok(());
    };
    let Some(expected) = summary.model_sha256.as_deref() else {
        return Err(Failure::usage(format!(
            "{} has no model_sha256 to check {} against (was it edited?); predict from a checkpoint with --epoch N, or train the run again",
            run.summary().display(),
            path.display()
        )));
    };
    let bytes =
        std::fs::read(path).map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    if crate::checksum::sha256(&bytes) != expected {
        return Err(Failure::usage(format!(
            "{} is damaged: it no longer matches the SHA-256 that summary.json recorded when it was written; predict from a checkpoint with --epoch N, or train the run again",
            path.display()
        )));
    }
    Ok(())
}

/// The network's answers for rows given row-major with `width` inputs each.
/// 1,000 rows at a time, so that a large file does not hold every layer's output at once.
fn answer(model: &Mlp, rows: &[f32], width: usize) -> Vec<f32> {
    let device = model.devices()[0].clone();
    let mut outputs = Vec::new();
    for chunk in rows.chunks(1000 * width) {
        let inputs =
            Tensor::<2>::from_data(TensorData::new(chunk.to_vec(), [chunk.len() / width, width]), &device);
        outputs.extend(model.forward(inputs).into_data().iter::<f32>());
    }
    outputs
}

/// A row given with `--input`: comma-separated numbers.
fn parse_row(text: &str, width: usize) -> Result<Vec<f32>, String> {
    parse_cells(&text.split(',').map(str::trim).collect::<Vec<_>>(), width)
}

/// `width` cells as the float32 numbers the network takes.
fn parse_cells(cells: &[&str], width: usize) -> Result<Vec<f32>, String> {
    if cells.len() != width {
        return Err(format!("expected {width} comma-separated inputs, found {}", cells.len()));
    }
    cells
        .iter()
        .enumerate()
        .map(|(i, cell)| match (cell.parse::<f32>(), cell.parse::<f64>()) {
            (Ok(v), _) if v.is_finite() => Ok(v),
            // The network computes in float32: 1e40 is a number, but not one it can take.
            (_, Ok(v)) if v.is_finite() => Err(format!(
                "input {} is {cell}, beyond the float32 range the network computes in (about ±3.4e38)",
                i + 1
            )),
            _ => Err(format!("input {} is not a finite number: {cell:?}", i + 1)),
        })
        .collect()
}

/// Rows of a CSV file with `width` numbers each; a first line that is not numbers is a header.
/// Read with the same reader as a training CSV (quoting, CRLF, line numbers).
fn read_csv(path: &Path, width: usize) -> Result<Vec<f32>, Failure> {
    let shown = path.display();
    let bytes = crate::input::read_bytes(path, "CSV", crate::data::csv::MAX_CSV_BYTES);
    let text =
        bytes.and_then(crate::data::csv_rows::utf8).map_err(|e| Failure::usage(format!("{shown}: {e}")))?;
    let failed = |e: String| Failure::usage(format!("{shown}: {e}"));
    let mut reader = crate::data::csv_rows::Rows::numbers(&text).map_err(failed)?;
    let first: Vec<&str> = reader.header.iter().map(String::as_str).collect();
    let mut rows = parse_cells(&first, width).unwrap_or_default(); // else it is a header
    while let Some((line, record)) = reader.next_row().map_err(failed)? {
        let cells: Vec<&str> = record.iter().collect();
        rows.extend(parse_cells(&cells, width).map_err(|e| Failure::usage(format!("{shown}:{line}: {e}")))?);
    }
    if rows.is_empty() {
        return Err(Failure::usage(format!("{shown} has no rows to predict")));
    }
    Ok(rows)
}

fn to_csv(rows: &[f32], outputs: &[f32], names: &Names) -> String {
    let width = names.inputs.len();
    let header: Vec<&String> = names.inputs.iter().chain(&names.header).collect();
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record(&header);
    for (inputs, answers) in rows.chunks(width).zip(outputs.chunks(names.outputs)) {
        let mut cells: Vec<String> = inputs.iter().map(|v| v.to_string()).collect();
        if let Some(classes) = &names.classes {
            cells.push(classes[most_probable(answers)].clone());
        }
        cells.extend(answers.iter().map(|&v| names.number(v)));
        let _ = writer.write_record(&cells);
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}
