//! `gatenet report RUN_DIR`: what a run folder says about its run, from the artifacts alone.

use crate::commands::predict::load_run_config;
use crate::failure::Failure;
use crate::run::folder::RunDir;
use crate::run::metrics::read_rows;
use crate::run::report_html::{self, Page};
use crate::run::summary::Summary;
use std::fmt::Write;
use std::path::Path;

/// Writes `folder/report.html` from the run folder's files; says where it went.
pub fn html(folder: &Path) -> Result<String, Failure> {
    let run = RunDir::at(folder);
    let config = load_run_config(&run)?;
    let rows = read_rows(&run.metrics(), config.layers()).map_err(Failure::usage)?;
    let summary = Summary::read(&run.summary()).map_err(Failure::usage)?;
    let last = rows.last().map_or(0, |r| r.epoch);
    let unfinished =
        format!("not finished: metrics.csv ends at epoch {last}; continue the run with --resume");
    let stopped = summary.is_none().then_some(unfinished.as_str());
    let page = Page { run: &run, config: &config, rows: &rows, summary: summary.as_ref(), stopped };
    report_html::write(&page).map_err(Failure::runtime)?;
    Ok(format!("report: {}\n", run.report_html().display()))
}

/// The report of the run in `folder`.
pub fn report(folder: &Path) -> Result<String, Failure> {
    let run = RunDir::at(folder);
    let config = load_run_config(&run)?;
    let shown = folder.display().to_string();
    let mut out = String::new();
    let _ = writeln!(out, "config ({}):", run.config().display());
    for line in config.to_toml().lines().filter(|l| !l.is_empty()) {
        let _ = writeln!(out, "  {line}");
    }
    match Summary::read(&run.summary()).map_err(Failure::usage)? {
        Some(summary) => out += &summary.report(&shown),
        None => {
            let epochs =
                std::fs::read_to_string(run.metrics()).map_or(0, |m| m.lines().count().saturating_sub(1));
            // The run's own config.toml continues it (its paths are resolved); the folder
            // above the run is the artifacts folder, when the run's name is its folder's.
            let artifacts = folder
                .parent()
                .filter(|_| folder.file_name() == Some(config.name().as_ref()))
                .map(|p| if p.as_os_str().is_empty() { Path::new(".") } else { p });
            let again = match artifacts {
                Some(artifacts) => crate::shell::resume_command(&run.config(), artifacts),
                None => {
                    "gatenet CONFIG --resume --artifacts DIR (the run's folder is not named after its config)"
                        .into()
                }
            };
            let _ = writeln!(
                out,
                "the run has not finished: metrics.csv ends at epoch {epochs} and there is no summary.json; continue it with `{again}`"
            );
        }
    }
    let pictures: Vec<String> =
        run.pictures().into_iter().filter(|p| p.is_file()).map(|p| p.display().to_string()).collect();
    if !pictures.is_empty() {
        let _ = writeln!(out, "pictures: {}", pictures.join(", "));
    }
    Ok(out)
}
