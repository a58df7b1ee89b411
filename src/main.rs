//! Parses the command line, runs it, prints the one error message and picks the exit code.
//! Nothing else in gatenet prints an error or exits.

use clap::Parser;
use gatenet::cli::{Cli, Command, RunArgs};
use gatenet::commands::export;
use gatenet::commands::gradcheck::gradcheck;
use gatenet::commands::predict::{Request, predict};
use gatenet::commands::report::report;
use gatenet::commands::sweep;
use gatenet::config::space::Space;
use gatenet::data::dataset::Dataset;
use gatenet::failure::{DIVERGED, Failure, RUNTIME_FAILURE};
use gatenet::run::folder::RunDir;
use gatenet::training::train::{Outcome, RunOptions, StartFrom, train};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Mutex;

/// `say!(stdout, ...)` is print! (and `say!(stderr, ...)` eprint!), dropping what a closed pipe
/// cannot take instead of panicking: a training command's output never ends its run (see `main`).
macro_rules! say {
    ($stream:ident, $($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::$stream(), $($arg)*);
    }};
}

fn main() -> ExitCode {
    let cli = Cli::parse(); // usage errors exit 2, --help and --version 0, both by clap
    install_quiet_panic_hook();
    // A write past a file-size limit (ulimit -f) then fails with an error gatenet reports,
    // instead of the signal killing the process mid-write.
    #[cfg(unix)]
    // SAFETY: setting signal dispositions before any thread starts.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        // `gatenet check c.toml | head -1`: a closed pipe ends a command that only prints
        // quietly, as it does a C tool, instead of a failed print! turning into an "internal
        // error". A training command keeps Rust's default (the signal ignored) and drops what it
        // cannot print: a run is never killed halfway for its output.
        let trains = matches!(cli.command, None | Some(Command::Train { .. } | Command::Sweep { .. }));
        if !trains {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(Ok(code)) => ExitCode::from(code),
        Ok(Err(failure)) => {
            say!(stderr, "error: {}\n", failure.message);
            ExitCode::from(failure.code)
        }
        Err(_) => {
            let message = PANIC_MESSAGE.lock().map(|m| m.clone()).unwrap_or_default().unwrap_or_default();
            say!(
                stderr,
                "error: internal error, a bug in gatenet or Burn; please report it with your config: {message}\n"
            );
            ExitCode::from(RUNTIME_FAILURE)
        }
    }
}

/// Runs the command line; the exit code on success.
fn run(cli: Cli) -> Result<u8, Failure> {
    // -q: warnings and errors only (as pip's -q); -qq: errors only.
    let (quiet, warn) = (cli.quiet >= 1, cli.quiet < 2);
    // What a command prints when it succeeds; `-q` keeps only the exit code.
    let show = |text: &str| {
        if !quiet {
            say!(stdout, "{text}");
        }
    };
    let before_command =
        cli.run.resume || cli.run.resume_from.is_some() || cli.run.artifacts != Path::new("artifacts");
    if cli.command.is_some() && before_command {
        return Err(Failure::usage(
            "--artifacts, --resume and --resume-from go after the command they are for, e.g. `gatenet train CONFIG --artifacts DIR`",
        ));
    }
    if let (Some(_), Some(config)) = (&cli.command, &cli.config) {
        return Err(Failure::usage(format!(
            "{} before the command: give the config once, after the command (`gatenet train CONFIG`) or alone (`gatenet CONFIG`)",
            config.display()
        )));
    }
    match (cli.command, cli.config) {
        (Some(Command::Check { config }), _) => {
            show(&gatenet::commands::check::check(&config)?);
            Ok(0)
        }
        (Some(Command::Train { config, run }), _) => train_config(&config, &run, quiet, warn),
        (Some(Command::Export { run, format, out, epoch }), _) => {
            show(&export::export(&export::Request { run, format, out, epoch })?);
            Ok(0)
        }
        (Some(Command::Predict { run, epoch, inputs, csv }), _) => {
            show(&predict(&Request { run, epoch, inputs, csv })?);
            Ok(0)
        }
        (Some(Command::Gradcheck { config, points }), _) => {
            // Gradcheck always runs on ndarray in float64, so a wgpu config is checked too.
            let (config, data) = Dataset::load(&config, true).map_err(|e| Failure::usage(e.to_string()))?;
            let (results, report) = gradcheck(&config, &data, points)?;
            show(&report);
            Ok(if results.iter().all(|r| r.passed) { 0 } else { RUNTIME_FAILURE })
        }
        (Some(Command::LrFind { config, steps, artifacts }), _) => {
            let found = gatenet::commands::lr_find::lr_find(&config, steps, &artifacts)?;
            show(&found.text);
            Ok(if found.suggested.is_some() { 0 } else { RUNTIME_FAILURE })
        }
        (Some(Command::Trace { config, steps, out, artifacts }), _) => {
            let request = gatenet::commands::trace::Request { config, steps, out, artifacts };
            show(&gatenet::commands::trace::run(&request)?);
            Ok(0)
        }
        (Some(command @ Command::Sweep { .. }), _) => sweep_command(command, &show),
        (Some(Command::Report { run, html }), _) => {
            show(&report(&run)?);
            if html {
                show(&gatenet::commands::report::html(&run)?);
            }
            Ok(0)
        }
        (None, Some(config)) => train_config(&config, &cli.run, quiet, warn),
        (None, None) => {
            Err(Failure::usage("no config file given; try `gatenet configs/or.toml`, or `gatenet --help`"))
        }
    }
}

/// `gatenet sweep merge FOLDER...`, or `gatenet sweep CONFIG` (as a whole, one shard, or a
/// worker process of either).
fn sweep_command(command: Command, show: &dyn Fn(&str)) -> Result<u8, Failure> {
    let Command::Sweep {
        action,
        config,
        activation,
        optimizer,
        learning_rate,
        init,
        width,
        search,
        trials,
        halving,
        min_epochs,
        max_epochs,
        seeds,
        shard,
        worker,
        run,
    } = command
    else {
        unreachable!("called with a sweep command")
    };
    if let Some(gatenet::cli::SweepAction::Merge { folders, artifacts }) = action {
        show(&sweep::merge(&folders, &artifacts)?.report());
        return Ok(0);
    }
    let config = config.ok_or_else(|| {
        Failure::usage(
            "sweep: give a config file (`gatenet sweep CONFIG`), or `gatenet sweep merge FOLDER...`",
        )
    })?;
    let shard = shard
        .map(|text| gatenet::commands::sweep_shards::parse(&text, &|name| std::env::var(name).ok()))
        .transpose()
        .map_err(Failure::usage)?;
    let axis = |option: &str, e: String| Failure::usage(format!("{option}: {e}"));
    let learning_rate = Space::joined(learning_rate).map_err(|e| axis("--learning-rate", e))?;
    let width = Space::joined(width).map_err(|e| axis("--width", e))?;
    let lists = sweep::Lists {
        activation,
        optimizer,
        learning_rate,
        init,
        width,
        seeds,
        search,
        trials,
        halving,
        min_epochs,
        max_epochs,
        shard,
    };
    sweep_config(&config, lists, worker, &run, show)
}

fn sweep_config(
    path: &Path,
    lists: sweep::Lists,
    worker: Option<(usize, usize)>,
    args: &RunArgs,
    show: &dyn Fn(&str),
) -> Result<u8, Failure> {
    if args.resume_from.is_some() {
        return Err(Failure::usage(
            "--resume-from continues a training run from one checkpoint; a sweep continues with --resume",
        ));
    }
    gatenet::training::interrupt::install();
    let Some(swept) =
        sweep::command(path, lists, worker, (&args.artifacts, args.resume), &mut std::io::stdout())?
    else {
        return Ok(0); // a worker, whose reports went to stdout
    };
    show(&swept.report());
    if let Some(message) = &swept.interrupted {
        say!(stderr, "{message}\n");
    }
    Ok(if gatenet::training::interrupt::requested() { gatenet::training::interrupt::exit_code() } else { 0 })
}

fn train_config(path: &Path, args: &RunArgs, quiet: bool, warn: bool) -> Result<u8, Failure> {
    let (config, data) = Dataset::load(path, false).map_err(|e| Failure::usage(e.to_string()))?;
    let run = RunDir::new(&args.artifacts, config.name());
    let from = match (args.resume_from, args.resume) {
        (Some(epoch), _) => StartFrom::Epoch(epoch),
        (None, true) => StartFrom::Newest,
        (None, false) => StartFrom::Scratch,
    };
    gatenet::training::interrupt::install();
    let outcome = train(&config, &data, &run, &RunOptions { from, quiet, warn, pictures: true })?;
    let folder = run.path().display().to_string();
    match outcome {
        Outcome::Finished(summary) => {
            if !quiet {
                say!(stdout, "{}", summary.report(&folder));
            }
            Ok(0)
        }
        Outcome::Diverged(summary) => {
            say!(stderr, "{}", summary.report(&folder));
            Ok(DIVERGED)
        }
        Outcome::NothingToDo(message) => {
            if !quiet {
                say!(stderr, "{message}\n");
            }
            Ok(0)
        }
        Outcome::Interrupted { epoch } => {
            let again = gatenet::shell::resume_command(path, &args.artifacts);
            let cause = gatenet::training::interrupt::cause();
            say!(
                stderr,
                "interrupted: epoch {epoch} finished and saved in {folder}/ ({cause}); continue with `{again}`\n"
            );
            Ok(gatenet::training::interrupt::exit_code())
        }
    }
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
        let at = info.location().map(|l| format!(" ({}:{})", l.file(), l.line())).unwrap_or_default();
        if let Ok(mut slot) = PANIC_MESSAGE.lock() {
            slot.get_or_insert(format!("{text}{at}"));
        }
    }));
}
