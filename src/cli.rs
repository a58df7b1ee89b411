//! The command line: `gatenet CONFIG`, `gatenet train CONFIG`, `gatenet check CONFIG`.
//! Hyper-parameters live only in the config file; flags only say where and how to run.

use crate::config::space::Space;
use crate::config::{Activation, Init, OptimizerName, Search};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "gatenet",
    version,
    about = "Train small dense neural networks from one TOML config, on Burn.",
    long_about = "Train small dense neural networks from one TOML config, on Burn.\n\n\
        `gatenet configs/or.toml` trains the network that config describes and writes everything \
        about the run to artifacts/<name>/: the resolved config, metrics.csv, checkpoints, the final \
        model and summary.json.\n\n\
        Exit codes: 0 success, 1 failure during a run, 2 usage, config or data error, 3 training \
        diverged, 130 / 143 / 129 interrupted by Ctrl-C / SIGTERM / SIGHUP (the epoch was saved; \
        --resume continues).",
    // `gatenet or.toml` and `gatenet check or.toml` both: a first word that names a command
    // is the command, anything else is a config file. Not `args_conflicts_with_subcommands`,
    // which would refuse `gatenet -q check or.toml`.
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Config file to train (the same as `gatenet train CONFIG`).
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub run: RunArgs,
    /// Print only warnings and errors: no progress line, no report, no table; `-qq` only
    /// errors. The exit code says how it went. Works with every command.
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub quiet: u8,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train the network a config file describes.
    Train {
        /// Config file, e.g. configs/or.toml.
        config: PathBuf,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Check a config file and print it with every default filled in; writes nothing.
    Check {
        /// Config file, e.g. configs/or.toml.
        config: PathBuf,
    },
    /// Print a trained network's answers: its own table, rows given with --input, or a CSV file.
    Predict {
        /// Run folder, e.g. artifacts/or.
        run: PathBuf,
        /// Use the checkpoint of this epoch instead of the final model.bpk.
        #[arg(long, value_name = "N")]
        epoch: Option<usize>,
        /// A row of inputs, comma-separated, e.g. --input 1,0; may be repeated.
        #[arg(long = "input", value_name = "VALUES", allow_hyphen_values = true)]
        inputs: Vec<String>,
        /// A CSV file of input rows (a header line is allowed); prints CSV with the outputs.
        #[arg(long, value_name = "FILE", conflicts_with = "inputs")]
        csv: Option<PathBuf>,
    },
    /// Write a trained network for other tools: safetensors (PyTorch, numpy) or ONNX
    /// (onnxruntime), with the scaling, activations and names `predict` uses.
    Export {
        /// Run folder, e.g. artifacts/or.
        run: PathBuf,
        #[arg(long, value_enum)]
        format: crate::commands::export::Format,
        /// The file to write [default: RUN_DIR/model.<format>, or model-epoch-N.<format>].
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Export the checkpoint of this epoch instead of the final model.bpk.
        #[arg(long, value_name = "N")]
        epoch: Option<usize>,
    },
    /// Compare every parameter's loss gradient from Burn's autodiff with central finite
    /// differences, in float64; exit 1 naming the worst parameter when one disagrees.
    Gradcheck {
        /// Config file, e.g. configs/or.toml.
        config: PathBuf,
        /// Check at most N randomly chosen elements of each parameter (for large nets).
        #[arg(long, value_name = "N", value_parser = at_least_one)]
        points: Option<usize>,
    },
    /// Print and write every number of the run's first optimizer steps: per layer the input,
    /// z, a, dL/da, dL/dz, dL/dW, dL/db, the weights before and after, the optimizer's state;
    /// to diff against a backprop of your own. Writes DIR/<name>-trace.json.
    Trace {
        /// Config file, e.g. configs/or-question.toml.
        config: PathBuf,
        /// Optimizer steps to trace.
        #[arg(long, value_name = "N", default_value_t = 1, value_parser = at_least_one)]
        steps: usize,
        /// The JSON file to write [default: DIR/<name>-trace.json, DIR from --artifacts].
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Folder for the default JSON file.
        #[arg(long, value_name = "DIR", default_value = "artifacts")]
        artifacts: PathBuf,
    },
    /// Find a learning rate: the range test (one step per rate, 1e-7 to 10, until the loss
    /// explodes), a suggestion where the smoothed loss falls fastest, checked by training the
    /// config with it and with a tenth of it; the better of the two is the one to use. Writes
    /// DIR/<name>-lr-find/ (lr_find.csv, lr_find.png); exit 1 when no rate makes the loss fall.
    LrFind {
        /// Config file, e.g. configs/or-question.toml.
        config: PathBuf,
        /// Rates tried, one optimizer step each.
        #[arg(long, value_name = "N", default_value_t = 100, value_parser = at_least_two)]
        steps: usize,
        /// Folder for the lr-find folder.
        #[arg(long, value_name = "DIR", default_value = "artifacts")]
        artifacts: PathBuf,
    },
    /// Train the config over a grid of settings, many seeds each, in parallel; write
    /// artifacts/<name>-sweep/ (sweep.csv, sweep.md, sweep.png) and print the table.
    #[command(args_conflicts_with_subcommands = true)]
    Sweep {
        #[command(subcommand)]
        action: Option<SweepAction>,
        /// Config file; its [sweep] table gives the grid unless the options below do.
        config: Option<PathBuf>,
        /// Hidden activations, comma-separated, e.g. sigmoid,tanh,relu.
        #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = named::<Activation>)]
        activation: Vec<Activation>,
        /// Optimizers, comma-separated, e.g. sgd,adam.
        #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = named::<OptimizerName>)]
        optimizer: Vec<OptimizerName>,
        /// Learning rates, comma-separated, e.g. 0.5,0.05 (repeating the option adds values),
        /// or one range to sample, MIN..MAX or MIN..MAX:log (log-uniform), e.g. 1e-4..1:log.
        #[arg(long, value_name = "LIST|RANGE", value_parser = space::<f64>)]
        learning_rate: Vec<Space<f64>>,
        /// Inits, comma-separated, e.g. default,small.
        #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = named::<Init>)]
        init: Vec<Init>,
        /// Widths of every hidden layer, comma-separated, e.g. 4,8,16 (repeating the option adds
        /// values), or one range, e.g. 2..64:log.
        #[arg(long, value_name = "LIST|RANGE", value_parser = space::<usize>)]
        width: Vec<Space<usize>>,
        /// grid (every combination) or random (--trials settings drawn from the axes, seeded by
        /// the config's seed) [default: random when an axis is a range, else grid].
        #[arg(long, value_name = "HOW", value_parser = named::<Search>)]
        search: Option<Search>,
        /// The settings a random search draws [default: the config's sweep.trials, or 20].
        #[arg(long, value_name = "N")]
        trials: Option<usize>,
        /// Successive halving: train every setting --min-epochs, keep the best 1/ETA by median
        /// validation loss, continue those from their checkpoints ETA times longer, and so on
        /// up to --max-epochs.
        #[arg(long, value_name = "ETA")]
        halving: Option<usize>,
        /// The fewest epochs of --halving's first rung, which is num_epochs / ETA^k for the
        /// largest k that keeps it at least N [default: N = num_epochs / ETA^3, at least 1].
        #[arg(long, value_name = "N")]
        min_epochs: Option<usize>,
        /// The last rung of --halving [default: training.num_epochs].
        #[arg(long, value_name = "N")]
        max_epochs: Option<usize>,
        /// Seeds 0 to N-1 for every combination [default: the config's sweep.seeds, or 20].
        #[arg(long, value_name = "N")]
        seeds: Option<usize>,
        /// Run only shard K of N (K from 0) of the sweep, for a job array: the runs whose place
        /// in the sweep is K modulo N, into DIR/<name>-sweep-shard-K-of-N/; `sweep merge` puts
        /// the shards together. `auto` reads Slurm's SLURM_ARRAY_TASK_ID and _COUNT; `auto/N`
        /// a Kubernetes Indexed Job's JOB_COMPLETION_INDEX.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        /// Internal: run as worker K of N processes (started by the sweep itself), printing
        /// each run's result as a line of JSON.
        #[arg(long, value_name = "K/N", hide = true, value_parser = parse_worker)]
        worker: Option<(usize, usize)>,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Print what a run folder says about its run: config, outcome, predictions, diagnosis,
    /// pictures.
    Report {
        /// Run folder, e.g. artifacts/or.
        run: PathBuf,
        /// Also write RUN_DIR/report.html (every finished run has one; this writes it for any
        /// run folder, finished or not) and say where it is.
        #[arg(long)]
        html: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum SweepAction {
    /// Merge the folders of a sweep's shards (`sweep --shard K/N`) into the sweep.csv, sweep.md
    /// and sweep.png one process would have written, in DIR/<name>-sweep/; refuses (exit 2)
    /// shards of different sweeps, a shard given twice, and a set with one missing.
    Merge {
        /// The shard folders, e.g. artifacts/or-sweep-shard-*-of-3.
        #[arg(required = true, value_name = "FOLDER")]
        folders: Vec<PathBuf>,
        /// Folder for the merged sweep folder.
        #[arg(long, value_name = "DIR", default_value = "artifacts")]
        artifacts: PathBuf,
    },
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Folder that holds the run folders; the run goes to DIR/<name>/.
    #[arg(long, value_name = "DIR", default_value = "artifacts")]
    pub artifacts: PathBuf,
    /// Continue the run in DIR/<name>/ from its newest complete checkpoint. The config may
    /// change rates, schedule, num_epochs, tolerance and checkpoint_every, nothing that
    /// defines the model or the data. With `sweep`: continue the interrupted sweep, keeping
    /// its finished runs.
    #[arg(long)]
    pub resume: bool,
    /// Continue from the checkpoint of this epoch instead of the newest; later checkpoints
    /// and metrics rows are discarded. Implies --resume.
    #[arg(long, value_name = "EPOCH")]
    pub resume_from: Option<usize>,
}

/// `K/N` with K < N.
fn parse_worker(text: &str) -> Result<(usize, usize), String> {
    let parsed = text.split_once('/').and_then(|(k, n)| Some((k.parse().ok()?, n.parse().ok()?)));
    match parsed {
        Some((k, n)) if k < n => Ok((k, n)),
        _ => Err(format!("expected K/N with K < N, found {text:?}")),
    }
}

/// A count that must check something: `--points 0` would pass while checking nothing.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("expected a whole number of at least 1, found {text:?}")),
    }
}

/// A range of rates needs two ends.
fn at_least_two(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 2 => Ok(n),
        _ => Err(format!("expected a whole number of at least 2, found {text:?}")),
    }
}

/// A name as the config file spells it, with the config's words when it is not one.
fn named<T: for<'a> serde::Deserialize<'a>>(text: &str) -> Result<T, String> {
    crate::names::parse(text.trim()).map_err(|e| crate::config::load::explain(e, None))
}

/// A sweep axis: a list, or a range to sample (`space.rs`).
fn space<T: std::str::FromStr>(text: &str) -> Result<Space<T>, String> {
    text.parse()
}
