//! `report.html`: the whole run on one page, in one self-contained file (no script, no URL:
//! a Content-Security-Policy forbids fetching anything): the outcome and why it stopped, the
//! curves as inline SVG, the rows with their outputs before and after, the diagnosis, the layer
//! health and the decision boundary (the run's own PNGs, inlined), the resolved config and the
//! artifacts. While a run trains, a page without a summary is written every few seconds and
//! reloads itself; the finished run's page does not.

use crate::config::Config;
use crate::run::atomic::write_atomic;
use crate::run::folder::RunDir;
use crate::run::metrics::EpochRow;
use crate::run::pictures;
use crate::run::summary::{Summary, Task};
use base64::Engine as _;
use std::fmt::Write;

/// Seconds between two pages of a run in progress, and between two reloads of it.
pub const LIVE_SECONDS: u64 = 3;

/// The most prediction rows the page lists: a truth table whole, a CSV's first rows.
const LISTED: usize = 50;

/// What the page shows: the run so far (`summary` is `None` while it trains).
pub struct Page<'a> {
    pub run: &'a RunDir,
    /// The run's config: the page shows its config.toml (with the history of its resumes),
    /// or this config's TOML where the file cannot be read.
    pub config: &'a Config,
    pub rows: &'a [EpochRow],
    pub summary: Option<&'a Summary>,
    /// Why a run without a summary no longer trains (interrupted, killed): then the page says
    /// so and does not reload. `None` with no summary: the run is training.
    pub stopped: Option<&'a str>,
}

/// The page of a run in progress, rewritten every [`LIVE_SECONDS`] from a sample of its rows:
/// at most [`LIVE_ROWS`] of them, every epoch until there are that many, then every second,
/// fourth, ... one, so that neither memory nor drawing grows with the run.
pub struct Live {
    run: RunDir,
    config: Config,
    rows: Vec<EpochRow>,
    stride: usize,
    written: std::time::Instant,
}

/// The most rows a live page draws.
pub const LIVE_ROWS: usize = 2000;

impl Live {
    /// For the run in `run`, continuing after `earlier` rows (none for a new run).
    pub fn new(run: RunDir, config: &Config, earlier: &[EpochRow]) -> Live {
        let mut live = Live {
            run,
            config: config.clone(),
            rows: Vec::new(),
            stride: 1,
            written: std::time::Instant::now(),
        };
        earlier.iter().for_each(|row| live.keep(row));
        live
    }

    fn keep(&mut self, row: &EpochRow) {
        if row.epoch % self.stride == 0 {
            self.rows.push(row.clone());
        }
        if self.rows.len() > LIVE_ROWS {
            self.stride *= 2;
            self.rows.retain(|r| r.epoch % self.stride == 0);
        }
    }

    /// After each epoch: the page is rewritten when it is [`LIVE_SECONDS`] old. A page that
    /// cannot be written is skipped: the run's own files matter more, and the finished run's
    /// page (written by `train`) reports its own failure.
    pub fn epoch(&mut self, row: &EpochRow) {
        self.keep(row);
        if self.written.elapsed().as_secs() >= LIVE_SECONDS {
            let page =
                Page { run: &self.run, config: &self.config, rows: &self.rows, summary: None, stopped: None };
            let _ = write(&page);
            self.written = std::time::Instant::now();
        }
    }
}

/// Writes `report.html` into the run folder, whole or not at all.
pub fn write(page: &Page) -> Result<(), String> {
    write_atomic(&page.run.report_html(), html(page).as_bytes())
}

/// The start of a page, up to its heading; `refresh` reloads it every [`LIVE_SECONDS`].
fn head(title: &str, refresh: bool) -> String {
    let refresh = if refresh {
        format!("<meta http-equiv=\"refresh\" content=\"{LIVE_SECONDS}\">\n")
    } else {
        String::new()
    };
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n\
         {refresh}<title>gatenet: {title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n",
        title = escape(title)
    )
}

/// A sweep folder's page: its title and notes, the table of settings, sweep.png.
pub fn write_sweep(
    folder: &RunDir,
    title: &str,
    notes: &str,
    rows: &[crate::run::sweep_results::Row],
) -> Result<(), String> {
    let mut out = head(title, false);
    if !notes.trim().is_empty() {
        // Paragraphs, and the Markdown tables among them (a halving sweep's rungs) as tables.
        out.push_str("<section id=\"notes\">\n");
        for block in notes.trim().split("\n\n") {
            if block.starts_with('|') {
                out.push_str(&html_table(block, ""));
            } else {
                let _ = writeln!(out, "<p>{}</p>", escape(block));
            }
        }
        out.push_str("</section>\n");
    }
    let _ = writeln!(out, "<section id=\"settings\">\n<h2>Settings</h2>");
    // The same table as sweep.md, from its Markdown.
    out.push_str(&html_table(&crate::run::sweep_results::table(rows), " class=\"setting\""));
    out.push_str("</section>\n");
    inline_png(&mut out, "picture", "Epochs to converge", &folder.sweep_png());
    artifacts(&mut out, folder, true);
    out.push_str("</body>\n</html>\n");
    write_atomic(&folder.report_html(), out.as_bytes())
}

/// A Markdown table (header, separator, rows) as an HTML one, each row with `class`.
fn html_table(markdown: &str, class: &str) -> String {
    let mut out = String::from("<table>\n");
    for (i, line) in markdown.lines().enumerate().filter(|(i, _)| *i != 1) {
        let (tag, class) = if i == 0 { ("th", "") } else { ("td", class) };
        let cells: String = line
            .trim_matches('|')
            .split('|')
            .map(|c| format!("<{tag}>{}</{tag}>", escape(c.trim())))
            .collect();
        let _ = writeln!(out, "<tr{class}>{cells}</tr>");
    }
    out + "</table>\n"
}

/// The page's text.
pub fn html(page: &Page) -> String {
    let mut out = head(page.config.name(), page.summary.is_none() && page.stopped.is_none());
    outcome(&mut out, page);
    curves(&mut out, page);
    if let Some(summary) = page.summary {
        predictions(&mut out, summary);
        diagnosis(&mut out, summary);
        images(&mut out, page.run);
    }
    let _ = write!(
        out,
        "<section id=\"config\">\n<h2>Config</h2>\n<pre>{}</pre>\n</section>\n",
        escape(&std::fs::read_to_string(page.run.config()).unwrap_or_else(|_| page.config.to_toml()))
    );
    artifacts(&mut out, page.run, page.summary.is_some());
    out.push_str("</body>\n</html>\n");
    out
}

const STYLE: &str = "body{font-family:sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse}td,th{padding:2px 10px;text-align:right;border-bottom:1px solid #ddd}\
pre{background:#f6f6f6;padding:1em;overflow-x:auto}.ok{color:#070}.bad{color:#b00}\
li.finding{margin-bottom:.6em}.hint{color:#555}img,svg{max-width:100%;height:auto}";

fn outcome(out: &mut String, page: &Page) {
    let _ = writeln!(out, "<section id=\"outcome\">");
    match page.summary {
        Some(summary) => {
            let class = if summary.converged { "ok" } else { "bad" };
            let _ = writeln!(
                out,
                "<p>{} on {}</p>\n<p class=\"{class}\" id=\"verdict\">{}</p>",
                escape(&summary.network),
                escape(&summary.backend),
                escape(&summary.outcome())
            );
        }
        None if page.stopped.is_some() => {
            let _ = writeln!(
                out,
                "<p class=\"bad\" id=\"verdict\">{}</p>",
                escape(page.stopped.unwrap_or_default())
            );
        }
        None => {
            let last = page.rows.last();
            let _ = writeln!(
                out,
                "<p id=\"verdict\">training: epoch {}, validation loss {}; this page reloads every {LIVE_SECONDS} s until the run ends</p>",
                last.map_or(0, |r| r.epoch),
                last.map_or("none yet".into(), |r| format!("{:.4e}", r.valid_loss))
            );
        }
    }
    let _ = writeln!(out, "</section>");
}

/// The curves: a finished run's own loss.svg, drawn from every epoch just before this page;
/// drawn here from the rows given for a run in progress (or a folder that lost its loss.svg).
fn curves(out: &mut String, page: &Page) {
    let _ = writeln!(out, "<section id=\"curves\">\n<h2>Loss, accuracy and learning rate</h2>");
    let drawn = std::fs::read_to_string(page.run.loss_svg()).ok().filter(|_| page.summary.is_some());
    let converged = page.summary.and_then(|s| s.converged_epoch);
    match drawn.map_or_else(|| pictures::loss_svg(page.rows, converged, Task::of(page.config)), Ok) {
        // The SVG's own text, without its XML declaration: an inline <svg> element.
        Ok(svg) => out.push_str(svg.find("<svg").map_or("", |at| &svg[at..])),
        Err(why) => {
            let _ = writeln!(out, "<p class=\"bad\">{}</p>", escape(&why));
        }
    }
    let _ = writeln!(out, "</section>");
}

fn predictions(out: &mut String, summary: &Summary) {
    let _ = writeln!(out, "<section id=\"predictions\">\n<h2>Predictions</h2>");
    let listed = summary.predictions.len().min(LISTED);
    if summary.training_rows > listed {
        let _ = writeln!(out, "<p>The first {listed} of {} training rows.</p>", summary.training_rows);
    }
    let _ = writeln!(out, "<table>\n<tr><th>inputs</th><th>target</th><th>before</th><th>after</th></tr>");
    for p in summary.predictions.iter().take(listed) {
        let _ = writeln!(
            out,
            "<tr class=\"prediction\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            crate::run::summary::join(&p.inputs, 3),
            crate::run::summary::join(&p.target, 3),
            crate::run::summary::join(&p.initial_output, 4),
            crate::run::summary::join(&p.output, 4)
        );
    }
    let _ = writeln!(out, "</table>\n</section>");
}

fn diagnosis(out: &mut String, summary: &Summary) {
    if summary.diagnosis.is_empty() {
        return;
    }
    let _ = writeln!(out, "<section id=\"diagnosis\">\n<h2>Diagnosis</h2>\n<ul>");
    for f in &summary.diagnosis {
        let _ = writeln!(
            out,
            "<li class=\"finding\" data-code=\"{code}\"><b>{code}</b>: {}<br><span class=\"hint\">hint: {}</span></li>",
            escape(&f.message),
            escape(&f.hint),
            code = escape(&f.code)
        );
    }
    let _ = writeln!(out, "</ul>\n</section>");
}

/// The run's layer-health and boundary pictures, inlined as data URLs.
fn images(out: &mut String, run: &RunDir) {
    for (id, title, path) in
        [("layers", "Layer health", run.layers_png()), ("boundary", "Decision boundary", run.boundary_png())]
    {
        inline_png(out, id, title, &path);
    }
}

/// A section holding the PNG at `path` as a data URL; nothing when there is no such file.
fn inline_png(out: &mut String, id: &str, title: &str, path: &std::path::Path) {
    let Ok(bytes) = std::fs::read(path) else { return };
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    let _ = writeln!(
        out,
        "<section id=\"{id}\">\n<h2>{title}</h2>\n<img alt=\"{title}\" src=\"data:image/png;base64,{data}\">\n</section>"
    );
}

/// The folder's files, with this page and (for a finished run) summary.json, which are written
/// after the page is made.
fn artifacts(out: &mut String, run: &RunDir, finished: bool) {
    let mut files = run.listing();
    for written in ["report.html", "summary.json"].iter().take(if finished { 2 } else { 1 }) {
        if !files.iter().any(|f| f == written) {
            files.push(written.to_string());
        }
    }
    files.sort();
    let _ = writeln!(out, "<section id=\"artifacts\">\n<h2>Artifacts</h2>\n<ul>");
    for file in files {
        let _ = writeln!(out, "<li>{}</li>", escape(&file));
    }
    let _ = writeln!(out, "</ul>\n</section>");
}

/// Text as HTML: `<`, `>`, `&` and quotes escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
