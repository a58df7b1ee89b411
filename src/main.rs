//! Parses the command line, runs it, prints the one error message and picks the exit code.
//! Nothing else in gatenet prints an error or exits.

use clap::Parser;
use gatenet::artifacts::RunDir;
use gatenet::cli::{Cli, Command, RunArgs};
use gatenet::config::Config;
use gatenet::train::{RunOptions, train};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Mutex;

/// Exit codes, as documented in the README.
const RUNTIME_FAILURE: u8 = 1;
const USAGE_OR_CONFIG: u8 = 2;

struct Failure {
    code: u8,
    message: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse(); // usage errors exit 2, --help and --version 0, both by clap
    install_quiet_panic_hook();
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(failure)) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.code)
        }
        Err(_) => {
            let message = PANIC_MESSAGE
                .lock()
                .map(|m| m.clone())
                .unwrap_or_default()
                .unwrap_or_default();
            eprintln!(
                "error: internal error, a bug in gatenet or Burn; please report it with your config: {message}"
            );
            ExitCode::from(RUNTIME_FAILURE)
        }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    match (cli.command, cli.config) {
        (Some(Command::Check { config }), _) => {
            print!("{}", load(&config)?.to_toml());
            Ok(())
        }
        (Some(Command::Train { config, run }), _) => train_config(&config, &run),
        (None, Some(config)) => train_config(&config, &cli.run),
        (None, None) => Err(Failure {
            code: USAGE_OR_CONFIG,
            message: "no config file given; try `gatenet configs/or.toml`, or `gatenet --help`"
                .into(),
        }),
    }
}

fn train_config(path: &Path, args: &RunArgs) -> Result<(), Failure> {
    let config = load(path)?;
    let run = RunDir::new(&args.artifacts, config.name());
    let summary =
        train(&config, &run, &RunOptions { quiet: args.quiet }).map_err(|message| Failure {
            code: RUNTIME_FAILURE,
            message,
        })?;
    if !args.quiet {
        print!("{}", summary.report(&run.path().display().to_string()));
    }
    Ok(())
}

fn load(path: &Path) -> Result<Config, Failure> {
    Config::load(path).map_err(|e| Failure {
        code: USAGE_OR_CONFIG,
        message: e.to_string(),
    })
}

/// The message of a panic, kept for one clean error line instead of Rust's panic report (a
/// panic here is a bug, never a user's mistake, but the user still gets one readable line).
static PANIC_MESSAGE: Mutex<Option<String>> = Mutex::new(None);

fn install_quiet_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info
            .location()
            .map(|l| format!(" ({}:{})", l.file(), l.line()))
            .unwrap_or_default();
        if let Ok(mut slot) = PANIC_MESSAGE.lock() {
            slot.get_or_insert(format!("{text}{at}"));
        }
    }));
}
