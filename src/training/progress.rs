//! What the terminal shows while training runs: a progress line on stderr, redrawn at most ten
//! times a second on a terminal, or a plain line every tenth of the run when piped. Burn's own
//! renderers print a debug line per batch, or take over the terminal; gatenet hands Burn a
//! silent one, and its epoch loop draws this line itself.

use crate::run::metrics::EpochRow;
use burn::train::LearnerSummary;
use burn::train::logger::MetricLogger;
use burn::train::logger::{EvaluationProgressLogger, TrainingProgressLogger};
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, NumericEntry};
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

/// The progress line of one run, drawn by the epoch loop after each epoch's row.
pub struct Progress {
    style: Style,
    total_epochs: usize,
    first_epoch: usize,
    started: Instant,
    last_draw: Option<Instant>,
}

impl Progress {
    /// A run that trains epochs `first_epoch` to `total_epochs`.
    pub fn new(style: Style, first_epoch: usize, total_epochs: usize) -> Progress {
        Progress { style, total_epochs, first_epoch, started: Instant::now(), last_draw: None }
    }

    /// Shows the epoch of `latest`, just ended.
    pub fn epoch(&mut self, latest: &EpochRow) {
        let epoch = latest.epoch;
        match self.style {
            Style::Quiet => {}
            Style::Bar => {
                if self.last_draw.is_none_or(|t| t.elapsed() >= Duration::from_millis(100)) {
                    self.last_draw = Some(Instant::now());
                    let _ = write!(std::io::stderr(), "\r\x1b[2K{}", self.line(latest));
                    let _ = std::io::stderr().flush();
                }
            }
            Style::Lines => {
                let tenth = (self.total_epochs / 10).max(1);
                if epoch.is_multiple_of(tenth) {
                    let _ = writeln!(std::io::stderr(), "{}", self.line(latest));
                }
            }
        }
    }

    /// Clears a redrawn line once the run ends.
    pub fn end(&mut self) {
        if self.style == Style::Bar && self.last_draw.is_some() {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }

    fn line(&self, latest: &EpochRow) -> String {
        let epoch = latest.epoch;
        let done = epoch + 1 - self.first_epoch;
        let rate = done as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
        let metrics = format!(
            "  loss {:.6}  max error {:.4}  lr {:.3e}",
            latest.valid_loss, latest.max_error, latest.learning_rate
        );
        const WIDTH: usize = 20;
        let filled = (epoch * WIDTH / self.total_epochs.max(1)).min(WIDTH);
        let bar = format!("[{}{}]", "#".repeat(filled), "-".repeat(WIDTH - filled));
        format!("epoch {epoch}/{} {bar}{metrics}  {rate:.0} epochs/s", self.total_epochs)
    }
}

/// Burn's renderer and metric logger for a Learner whose epoch loop reports by itself: Burn
/// hears only the start and the end of the run, and has nothing to show or store.
pub struct Silent;

impl TrainingProgressLogger for Silent {
    fn start(&mut self, _total: usize, _starting: usize, _items: Option<usize>, _label: Option<&str>) {}
    fn update_epoch(&mut self, _epoch: usize) {}
    fn end(&mut self) {}
    fn start_split(&mut self, _split: &str, _total_items: usize) {}
    fn update_split(&mut self, _items_processed: usize) {}
    fn end_split(&mut self) {}
    fn log_event_training(&mut self, _event: String) {}
}

impl MetricsRendererTraining for Silent {
    fn update_train(&mut self, _state: MetricState) {}
    fn update_valid(&mut self, _state: MetricState) {}
    fn on_train_end(&mut self, _summary: Option<LearnerSummary>) -> Result<(), Box<dyn core::error::Error>> {
        Ok(())
    }
}

impl MetricsRendererEvaluation for Silent {
    fn update_test(&mut self, _name: EvaluationName, _state: MetricState) {}
    fn on_test_end(&mut self, _summary: Option<LearnerSummary>) -> Result<(), Box<dyn core::error::Error>> {
        Ok(())
    }
}

impl EvaluationProgressLogger for Silent {
    fn start_global_progress(&mut self, _total_tests: usize) {}
    fn start_test(&mut self, _name: &str, _total_items: usize) {}
    fn update_test_progress(&mut self, _items_processed: usize) {}
    fn end_test(&mut self) {}
    fn end_global_progress(&mut self) {}
    fn log_event_evaluation(&mut self, _event: String) {}
}

impl MetricsRenderer for Silent {
    fn manual_close(&mut self) {}
    fn register_metric(&mut self, _definition: MetricDefinition) {}
}

impl MetricLogger for Silent {
    fn log(&mut self, _update: MetricsUpdate, _epoch: usize, _split: &Split) {}
    fn read_numeric(
        &mut self,
        _name: &str,
        _epoch: usize,
        _split: &Split,
    ) -> Result<Vec<NumericEntry>, String> {
        Ok(Vec::new())
    }
    fn log_metric_definition(&mut self, _definition: MetricDefinition) {}
    fn log_epoch_summary(&mut self, _summary: EpochSummary) {}
}
