//! `gatenet predict RUN_DIR`: the trained network of a run folder, answering its own table,
//! rows given with `--input`, or a CSV file. It runs on the CPU (ndarray) whatever backend
//! trained it: the weights are device-free burnpack files.

use crate::artifacts::RunDir;
use crate::checkpoint;
use crate::config::Config;
use crate::failure::Failure;
use crate::model::Mlp;
use crate::summary::join;
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
    let table = config.data.table(config.seed);
    let (model, source) = load_model(&run, &config, request.epoch)?;
    let width = table.input_width;
    if let Some(csv) = &request.csv {
        let rows = read_csv(csv, width)?;
        let outputs = answer(&model, &rows, width);
        return Ok(to_csv(&rows, &outputs, width, table.target_width));
    }
    let mut out = String::new();
    if request.inputs.is_empty() {
        let outputs = answer(&model, &table.inputs, width);
        let _ = writeln!(out, "{} ({source}):", config.name());
        let header: Vec<String> = (1..=width).map(|i| format!("in{i}")).collect();
        let _ = writeln!(out, "  {} | target | output", header.join(" "));
        for row in 0..table.rows() {
            let cells: Vec<String> = table.input_row(row).iter().map(|v| format!("{v:>3}")).collect();
            let targets = join(table.target_row(row), 0);
            let answers = join(&outputs[row * table.target_width..(row + 1) * table.target_width], 6);
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
    for (inputs, answers) in rows.chunks(width).zip(outputs.chunks(table.target_width)) {
        let _ = writeln!(out, "{} -> {}", join(inputs, 0), join(answers, 6));
    }
    Ok(out)
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
    Config::load_stored(&run.config())
        .map_err(|e| Failure::usage(format!("the run's config.toml cannot be used: {e}")))
}

fn load_model(run: &RunDir, config: &Config, epoch: Option<usize>) -> Result<(Mlp, String), Failure> {
    #[allow(deprecated)] // the reference CPU backend; see backend.rs
    let device = Device::ndarray();
    let empty = Mlp::from_config(config, &device);
    let (path, source) = match epoch {
        None => (run.model(), "model.bpk".to_string()),
        Some(epoch) => {
            // Checked against its manifest before Burn reads it.
            checkpoint::find(run, Some(epoch)).map_err(Failure::usage)?;
            (
                run.checkpoint_file(crate::artifacts::Part::Model, epoch),
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
    let model = empty
        .try_load_file(&path)
        .map_err(|e| Failure::usage(format!("cannot load {}: {e}", path.display())))?;
    Ok((model, source))
}

/// The network's answers for rows given row-major with `width` inputs each.
fn answer(model: &Mlp, rows: &[f32], width: usize) -> Vec<f32> {
    let device = model.devices()[0].clone();
    let inputs = Tensor::<2>::from_data(TensorData::new(rows.to_vec(), [rows.len() / width, width]), &device);
    model.forward(inputs).into_data().iter::<f32>().collect()
}

fn parse_row(text: &str, width: usize) -> Result<Vec<f32>, String> {
    let cells: Vec<&str> = text.split(',').map(str::trim).collect();
    if cells.len() != width {
        return Err(format!("expected {width} comma-separated inputs, found {}", cells.len()));
    }
    cells
        .iter()
        .enumerate()
        .map(|(i, cell)| match cell.parse::<f32>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(format!("input {} is not a finite number: {cell:?}", i + 1)),
        })
        .collect()
}

/// Rows of a CSV file with `width` numbers each; a first line that is not numbers is a header.
fn read_csv(path: &Path, width: usize) -> Result<Vec<f32>, Failure> {
    let shown = path.display();
    let text =
        std::fs::read_to_string(path).map_err(|e| Failure::usage(format!("cannot read {shown}: {e}")))?;
    let mut rows = Vec::new();
    for (number, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match parse_row(line, width) {
            Ok(row) => rows.extend(row),
            Err(_) if number == 0 => continue, // a header
            Err(e) => return Err(Failure::usage(format!("{shown}:{}: {e}", number + 1))),
        }
    }
    if rows.is_empty() {
        return Err(Failure::usage(format!("{shown} has no rows to predict")));
    }
    Ok(rows)
}

fn to_csv(rows: &[f32], outputs: &[f32], width: usize, outputs_per_row: usize) -> String {
    let mut header: Vec<String> = (1..=width).map(|i| format!("in{i}")).collect();
    header.extend((1..=outputs_per_row).map(|i| format!("out{i}")));
    let mut out = header.join(",") + "\n";
    for (inputs, answers) in rows.chunks(width).zip(outputs.chunks(outputs_per_row)) {
        let cells: Vec<String> =
            inputs.iter().map(|v| v.to_string()).chain(answers.iter().map(|v| format!("{v:.6}"))).collect();
        out += &(cells.join(",") + "\n");
    }
    out
}
