//! The pictures of a run, drawn from its whole history at the end of every run (a resumed run
//! redraws them from epoch 1): `loss.svg` and `loss.png` (loss on a log scale, accuracy,
//! learning rate), `boundary.png` (boundary.rs: the network's output over the input square,
//! with the training points on top) and `layers.png` (per-layer gradient and weight norms).

use crate::config::Config;
use crate::data::table::Table;
use crate::model::mlp::Mlp;
use crate::run::axes::{self, EpochAxis, LogAxis, span};
use crate::run::boundary::{self, Plane};
use crate::run::canvas::{Result, fonts, png, svg, text};
use crate::run::folder::RunDir;
use crate::run::metrics::EpochRow;
use crate::run::summary::Task;
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;

/// Draws every picture of the run into its folder: loss.png on a second thread while this
/// one draws the others (the two PNGs of a run cost about the same; 2 cores: about half the
/// wall time). Each file is written whole or not at all.
pub fn draw(
    run: &RunDir,
    rows: &[EpochRow],
    converged_epoch: Option<usize>,
    config: &Config,
    model: &Mlp,
    table: &Table,
) -> Result<()> {
    fonts();
    let (layers, task) = (config.layers(), Task::of(config));
    std::thread::scope(|scope| {
        let loss_png =
            scope.spawn(|| png(&run.loss_png(), (900, 900), |area| loss(area, rows, converged_epoch, task)));
        let others = (|| {
            svg(&run.loss_svg(), (900, 900), |area| loss(area, rows, converged_epoch, task))?;
            png(&run.layers_png(), (900, 600), |area| layer_norms(area, rows, layers))?;
            if table.input_width == 2 {
                let plane = Plane::of(config, table);
                png(&run.boundary_png(), (600, 600), |area| boundary::draw(area, model, table, &plane))?;
            }
            Ok(())
        })();
        let loss_png =
            loss_png.join().unwrap_or_else(|_| Err("internal error (a panic) while drawing loss.png".into()));
        others.and(loss_png)
    })
}

/// loss.svg's picture as SVG text, from the rows so far: for report.html, which inlines it.
pub fn loss_svg(rows: &[EpochRow], converged_epoch: Option<usize>, task: Task) -> Result<String> {
    fonts();
    let mut text = String::new();
    loss(SVGBackend::with_string(&mut text, (900, 900)).into_drawing_area(), rows, converged_epoch, task)?;
    Ok(text)
}

/// Draws a line with its legend entry.
fn labelled_line<B, C>(
    chart: &mut ChartContext<'_, B, C>,
    points: impl IntoIterator<Item = (f64, f64)>,
    color: RGBAColor,
    width: u32,
    label: String,
) -> Result<()>
where
    B: DrawingBackend,
    C: CoordTranslate<From = (f64, f64)>,
{
    chart
        .draw_series(LineSeries::new(points, color.stroke_width(width)))
        .map_err(text)?
        .label(label)
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color));
    Ok(())
}

fn loss<B: DrawingBackend>(
    area: DrawingArea<B, Shift>,
    rows: &[EpochRow],
    converged: Option<usize>,
    task: Task,
) -> Result<()> {
    area.fill(&WHITE).map_err(text)?;
    let panels = area.split_evenly((3, 1));
    let last = rows.last().map_or(1, |r| r.epoch).max(2) as f64;
    loss_panel(&panels[0], rows, 1.0..last, converged)?;
    accuracy_panel(&panels[1], rows, 1.0..last, task)?;
    rate_panel(&panels[2], rows, 1.0..last)?;
    area.present().map_err(text)
}

/// A panel's chart: its caption, margins and label areas, the same in every picture.
fn frame<'a, 'b, B: DrawingBackend>(
    panel: &'a DrawingArea<B, Shift>,
    caption: &str,
) -> ChartBuilder<'a, 'b, B> {
    let mut builder = ChartBuilder::on(panel);
    builder.caption(caption, ("sans-serif", 20)).margin(10).x_label_area_size(30).y_label_area_size(70);
    builder
}

/// The legend of the lines drawn with [`labelled_line`], at `position`.
fn legend<'a, B: DrawingBackend + 'a, C: CoordTranslate>(
    chart: &mut ChartContext<'a, B, C>,
    position: SeriesLabelPosition,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(position)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()
        .map_err(text)
}

/// The grid of a chart of epochs against a log scale (axes.rs chooses the ticks), with the
/// y axis's title.
fn epoch_log_mesh<'a, B: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, B, Cartesian2d<EpochAxis, LogAxis>>,
    y: &str,
) -> Result<()> {
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&axes::log_label)
        .draw()
        .map_err(text)
}

/// The legend in the corner where it covers the least of `points` (x in epochs, y on the log
/// axis from `low` to `high`).
fn legend_where_empty<'a, B: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, B, Cartesian2d<EpochAxis, LogAxis>>,
    points: &[(f64, f64)],
    (last, low, high): (f64, f64, f64),
) -> Result<()> {
    let shares =
        points.iter().map(|&(x, y)| ((x - 1.0) / (last - 1.0).max(1.0), axes::log_share(y, low, high)));
    legend(chart, axes::emptiest_corner(shares))
}

/// Values no smaller than this are drawn on the log scales.
const FLOOR: f64 = 1e-12;

/// One of a row's values per epoch, finite ones only, above the floor of the log scales.
fn series(rows: &[EpochRow], pick: fn(&EpochRow) -> f64) -> impl Iterator<Item = (f64, f64)> + '_ {
    // NaN is filtered before the floor: `NaN.max(FLOOR)` is FLOOR, which drew a diverged run's
    // NaN as a value near 0.
    rows.iter()
        .map(move |r| (r.epoch as f64, pick(r)))
        .filter(|(_, v)| v.is_finite())
        .map(|(e, v)| (e, v.max(FLOOR)))
}

fn loss_panel<B: DrawingBackend>(
    panel: &DrawingArea<B, Shift>,
    rows: &[EpochRow],
    epochs: std::ops::Range<f64>,
    converged: Option<usize>,
) -> Result<()> {
    let floor = FLOOR;
    let series = |pick| series(rows, pick);
    // Loss, log scale: where most of the story is (a plateau is flat, progress is a slope).
    let (low, high) = span(rows.iter().flat_map(|r| [r.train_loss, r.valid_loss]), floor);
    let mut chart = frame(panel, "loss")
        .build_cartesian_2d(axes::epochs(epochs.end), axes::log(low, high))
        .map_err(text)?;
    epoch_log_mesh(&mut chart, "loss (log scale)")?;
    labelled_line(&mut chart, series(|r| r.train_loss), BLUE.to_rgba(), 1, "train".into())?;
    labelled_line(
        &mut chart,
        series(|r| r.valid_loss),
        RED.to_rgba(),
        1,
        "validation, after the epoch's updates".into(),
    )?;
    if let Some(epoch) = converged {
        let at = epoch as f64;
        let label = format!("every output within tolerance (epoch {epoch})");
        labelled_line(&mut chart, [(at, low), (at, high)], GREEN.to_rgba(), 2, label)?;
    }
    let drawn: Vec<(f64, f64)> = series(|r| r.train_loss).chain(series(|r| r.valid_loss)).collect();
    legend_where_empty(&mut chart, &drawn, (epochs.end, low, high))
}

/// The measures that fit the task: accuracy and the largest error (at most 1) for 0/1 outputs,
/// train and validation accuracy for classes, the largest error in the targets' units, on a
/// log scale, for a regression (where "accuracy" means nothing).
fn accuracy_panel<B: DrawingBackend>(
    panel: &DrawingArea<B, Shift>,
    rows: &[EpochRow],
    epochs: std::ops::Range<f64>,
    task: Task,
) -> Result<()> {
    type Line = (fn(&EpochRow) -> f64, &'static str);
    let largest: Line = (|r| r.max_error, "largest |output - target| on the validation rows");
    let (title, y, lines): (&str, &str, [Line; 2]) = match task {
        Task::Regression => return error_panel(panel, rows, epochs, largest),
        Task::Classes => (
            "accuracy",
            "share of rows classified right",
            [(|r| r.train_accuracy, "train accuracy"), (|r| r.valid_accuracy, "validation accuracy")],
        ),
        Task::Binary => (
            "validation accuracy and largest error",
            "share of rows right, or |error|",
            [(|r| r.valid_accuracy, "validation accuracy"), largest],
        ),
    };
    let (low, high) = (-0.03, 1.05);
    let mut chart =
        frame(panel, title).build_cartesian_2d(axes::epochs(epochs.end), low..high).map_err(text)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y)
        .max_light_lines(0)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&axes::linear_label)
        .draw()
        .map_err(text)?;
    for ((pick, label), colour) in lines.into_iter().zip([BLUE, RED]) {
        labelled_line(&mut chart, series(rows, pick), colour.to_rgba(), 1, label.into())?;
    }
    let last = epochs.end;
    let shares = lines
        .iter()
        .flat_map(|&(pick, _)| series(rows, pick))
        .map(|(x, y)| ((x - 1.0) / (last - 1.0).max(1.0), (y - low) / (high - low)));
    legend(&mut chart, axes::emptiest_corner(shares))
}

/// One error measure per epoch, on a log scale.
fn error_panel<B: DrawingBackend>(
    panel: &DrawingArea<B, Shift>,
    rows: &[EpochRow],
    epochs: std::ops::Range<f64>,
    (pick, label): (fn(&EpochRow) -> f64, &'static str),
) -> Result<()> {
    let (low, high) = span(rows.iter().map(pick), FLOOR);
    let mut chart = frame(panel, "largest error")
        .build_cartesian_2d(axes::epochs(epochs.end), axes::log(low, high))
        .map_err(text)?;
    epoch_log_mesh(&mut chart, "|output - target| (log scale)")?;
    let points: Vec<(f64, f64)> = series(rows, pick).collect();
    labelled_line(&mut chart, points.iter().copied(), RED.to_rgba(), 1, label.into())?;
    legend_where_empty(&mut chart, &points, (epochs.end, low, high))
}

fn rate_panel<B: DrawingBackend>(
    panel: &DrawingArea<B, Shift>,
    rows: &[EpochRow],
    epochs: std::ops::Range<f64>,
) -> Result<()> {
    let floor = FLOOR;
    // Learning rate, log scale: schedules are geometric.
    let (low, high) = span(rows.iter().map(|r| r.learning_rate), floor);
    let mut chart = frame(panel, "learning rate")
        .build_cartesian_2d(axes::epochs(epochs.end), axes::log(low, high))
        .map_err(text)?;
    epoch_log_mesh(&mut chart, "learning rate (log scale)")?;
    chart.draw_series(LineSeries::new(series(rows, |r| r.learning_rate), &BLACK)).map_err(text)?;
    Ok(())
}

fn layer_norms<B: DrawingBackend>(
    area: DrawingArea<B, Shift>,
    rows: &[EpochRow],
    layers: usize,
) -> Result<()> {
    area.fill(&WHITE).map_err(text)?;
    let panels = area.split_evenly((2, 1));
    let last = rows.last().map_or(1, |r| r.epoch).max(2) as f64;
    let floor = FLOOR;
    for (panel, (title, offset)) in
        panels.iter().zip([("weight-gradient L2 norm per layer", 0), ("weight L2 norm per layer", 1)])
    {
        // The health columns hold grad_norm_i, weight_norm_i for each layer i (health.rs).
        let value =
            |r: &EpochRow, layer: usize| r.health.get(2 * (layer - 1) + offset).copied().unwrap_or(f64::NAN);
        let (low, high) = span(rows.iter().flat_map(|r| (1..=layers).map(move |l| value(r, l))), floor);
        let mut chart =
            frame(panel, title).build_cartesian_2d(axes::epochs(last), axes::log(low, high)).map_err(text)?;
        epoch_log_mesh(&mut chart, "L2 norm (log scale)")?;
        let mut drawn = Vec::new();
        for layer in 1..=layers {
            let color = Palette99::pick(layer - 1).to_rgba();
            let points = rows
                .iter()
                .map(|r| (r.epoch as f64, value(r, layer)))
                .filter(|(_, v)| v.is_finite())
                .map(|(e, v)| (e, v.max(floor)));
            let points: Vec<(f64, f64)> = points.collect();
            drawn.extend(&points);
            labelled_line(&mut chart, points, color, 2, format!("layer {layer}"))?;
        }
        legend_where_empty(&mut chart, &drawn, (last, low, high))?;
    }
    area.present().map_err(text)
}
