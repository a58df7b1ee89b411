//! What the terminal shows while training runs: a progress line on stderr, redrawn at most ten
//! times a second on a terminal, or a plain line every tenth of the run when piped. Burn's own
//! renderers print a debug line per batch, or take over the terminal; this one implements
//! Burn's renderer traits with nothing else to say.

use crate::metrics::History;
use burn::train::LearnerSummary;
use burn::train::logger::{EvaluationProgressLogger, TrainingProgressLogger};
use burn::train::metric::MetricDefinition;
use burn::train::renderer::{
    EvaluationName, MetricState, MetricsRenderer, MetricsRendererEvaluation, MetricsRendererTraining,
};
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// A line redrawn in place (stderr is a terminal).
    Bar,
    /// A line per tenth of the run (stderr is a file or a pipe).
    Lines,
    Quiet,
}

impl Style {
    pub fn for_stderr(quiet: bool) -> Style {
        match (quiet, std::io::stderr().is_terminal()) {
            (true, _) => Style::Quiet,
            (false, true) => Style::Bar,
            (false, false) => Style::Lines,
        }
    }
}

pub struct ProgressRenderer {
    style: Style,
    history: History,
    total_epochs: usize,
    first_epoch: usize,
    started: Instant,
    last_draw: Option<Instant>,
}

impl ProgressRenderer {
    pub fn new(style: Style, history: History) -> ProgressRenderer {
        ProgressRenderer {
            style,
            history,
            total_epochs: 0,
            first_epoch: 1,
            started: Instant::now(),
            last_draw: None,
        }
    }

    fn line(&self, epoch: usize) -> String {
        let log = self.history.lock().expect("history lock");
        let latest = log.rows.last();
        let done = epoch + 1 - self.first_epoch;
        let rate = done as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
        let metrics = latest.map_or(String::new(), |r| {
            format!("  loss {:.6}  max error {:.4}  lr {:.3e}", r.valid_loss, r.max_error, r.learning_rate)
        });
        const WIDTH: usize = 20;
        let filled = (epoch * WIDTH / self.total_epochs.max(1)).min(WIDTH);
        let bar = format!("[{}{}]", "#".repeat(filled), "-".repeat(WIDTH - filled));
        format!("epoch {epoch}/{} {bar}{metrics}  {rate:.0} epochs/s", self.total_epochs)
    }
}

impl TrainingProgressLogger for ProgressRenderer {
    fn start(
        &mut self,
        total_epochs: usize,
        starting_epoch: usize,
        _total_items: Option<usize>,
        _label: Option<&str>,
    ) {
        self.total_epochs = total_epochs;
        self.first_epoch = starting_epoch;
        self.started = Instant::now();
    }

    fn update_epoch(&mut self, epoch: usize) {
        match self.style {
            Style::Quiet => {}
            Style::Bar => {
                if self.last_draw.is_none_or(|t| t.elapsed() >= Duration::from_millis(100)) {
                    self.last_draw = Some(Instant::now());
                    let _ = write!(std::io::stderr(), "\r\x1b[2K{}", self.line(epoch));
                    let _ = std::io::stderr().flush();
                }
            }
            Style::Lines => {
                let tenth = (self.total_epochs / 10).max(1);
                if epoch.is_multiple_of(tenth) {
                    let _ = writeln!(std::io::stderr(), "{}", self.line(epoch));
                }
            }
        }
    }

    fn end(&mut self) {
        if self.style == Style::Bar && self.last_draw.is_some() {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }

    fn start_split(&mut self, _split: &str, _total_items: usize) {}
    fn update_split(&mut self, _items_processed: usize) {}
    fn end_split(&mut self) {}
    fn log_event_training(&mut self, _event: String) {}
}

impl MetricsRendererTraining for ProgressRenderer {
    fn update_train(&mut self, _state: MetricState) {}
    fn update_valid(&mut self, _state: MetricState) {}
    fn on_train_end(&mut self, _summary: Option<LearnerSummary>) -> Result<(), Box<dyn core::error::Error>> {
        Ok(())
    }
}

impl MetricsRendererEvaluation for ProgressRenderer {
    fn update_test(&mut self, _name: EvaluationName, _state: MetricState) {}
    fn on_test_end(&mut self, _summary: Option<LearnerSummary>) -> Result<(), Box<dyn core::error::Error>> {
        Ok(())
    }
}

impl EvaluationProgressLogger for ProgressRenderer {
    fn start_global_progress(&mut self, _total_tests: usize) {}
    fn start_test(&mut self, _name: &str, _total_items: usize) {}
    fn update_test_progress(&mut self, _items_processed: usize) {}
    fn end_test(&mut self) {}
    fn end_global_progress(&mut self) {}
    fn log_event_evaluation(&mut self, _event: String) {}
}

impl MetricsRenderer for ProgressRenderer {
    fn manual_close(&mut self) {}
    fn register_metric(&mut self, _definition: MetricDefinition) {}
}
