//! The pictures of a run, drawn from its whole history at the end of every run (a resumed run
//! redraws them from epoch 1): `loss.svg` and `loss.png` (loss on a log scale, accuracy,
//! learning rate), `boundary.png` (the network's output over the input square, with the
//! training points on top) and `layers.png` (per-layer gradient and weight norms).

use crate::data::table::Table;
use crate::model::mlp::Mlp;
use crate::run::atomic::write_atomic;
use crate::run::axes::{self, EpochAxis, LogAxis};
use crate::run::folder::RunDir;
use crate::run::metrics::EpochRow;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ColorType, ImageEncoder};
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};
use std::sync::Once;

pub(crate) type Result<T> = std::result::Result<T, String>;

/// Draws every picture of the run into its folder: loss.png on a second thread while this
/// one draws the others (the two PNGs of a run cost about the same; 2 cores: about half the
/// wall time). Each file is written whole or not at all.
pub fn draw(
    run: &RunDir,
    rows: &[EpochRow],
    converged_epoch: Option<usize>,
    layers: usize,
    model: &Mlp,
    table: &Table,
) -> Result<()> {
    fonts();
    std::thread::scope(|scope| {
        let loss_png =
            scope.spawn(|| png(&run.loss_png(), (900, 900), |area| loss(area, rows, converged_epoch)));
        let others = (|| {
            svg(&run.loss_svg(), (900, 900), |area| loss(area, rows, converged_epoch))?;
            png(&run.layers_png(), (900, 600), |area| layer_norms(area, rows, layers))?;
            if table.input_width == 2 {
                png(&run.boundary_png(), (600, 600), |area| boundary(area, model, table))?;
            }
            Ok(())
        })();
        let loss_png =
            loss_png.join().unwrap_or_else(|_| Err("internal error (a panic) while drawing loss.png".into()));
        others.and(loss_png)
    })
}

/// loss.svg's picture as SVG text, from the rows so far: for report.html, which inlines it.
pub fn loss_svg(rows: &[EpochRow], converged_epoch: Option<usize>) -> Result<String> {
    fonts();
    let mut text = String::new();
    loss(SVGBackend::with_string(&mut text, (900, 900)).into_drawing_area(), rows, converged_epoch)?;
    Ok(text)
}

/// Draws a picture in memory and writes it as a PNG, whole or not at all. The encoding is
/// plotters' own (fast deflate, adaptive filter), measured against the others on the OR run's
/// pictures (callgrind, whole process; sizes of loss, layers and boundary.png): adaptive 153M
/// instructions, 218 + 151 + 45 KB; `Sub` 128M for twice the bytes; no filter 178M for 5 to 20
/// times; default deflate 490M or more for a quarter of the bytes.
pub(crate) fn png(
    path: &std::path::Path,
    (width, height): (u32, u32),
    picture: impl FnOnce(DrawingArea<BitMapBackend<'_>, Shift>) -> Result<()>,
) -> Result<()> {
    let fail = |e: String| format!("cannot draw {}: {e}", path.display());
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    picture(BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area()).map_err(fail)?;
    let mut bytes = Vec::new();
    PngEncoder::new_with_quality(&mut bytes, CompressionType::Fast, FilterType::Adaptive)
        .write_image(&pixels, width, height, ColorType::Rgb8)
        .map_err(|e| fail(e.to_string()))?;
    write_atomic(path, &bytes)
}

/// Draws a picture as SVG text and writes it.
fn svg(
    path: &std::path::Path,
    size: (u32, u32),
    picture: impl FnOnce(DrawingArea<SVGBackend<'_>, Shift>) -> Result<()>,
) -> Result<()> {
    let mut text = String::new();
    picture(SVGBackend::with_string(&mut text, size).into_drawing_area())
        .map_err(|e| format!("cannot draw {}: {e}", path.display()))?;
    write_atomic(path, text.as_bytes())
}

/// Text needs a font: DejaVu Sans, embedded, so that no system font is needed.
pub(crate) fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
    });
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

pub(crate) fn text<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// The finite range of some values, widened when flat; `floor` keeps log scales above zero.
fn span(values: impl Iterator<Item = f64>, floor: f64) -> (f64, f64) {
    let (low, high) = values
        .filter(|v| v.is_finite())
        .map(|v| v.max(floor))
        .fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(v), h.max(v)));
    match (low, high) {
        (l, h) if l > h => (floor.max(1e-3), 1.0),
        (l, h) if l == h => (l / 2.0, h * 2.0 + floor),
        (l, h) => (l, h),
    }
}

fn loss<B: DrawingBackend>(
    area: DrawingArea<B, Shift>,
    rows: &[EpochRow],
    converged: Option<usize>,
) -> Result<()> {
    area.fill(&WHITE).map_err(text)?;
    let panels = area.split_evenly((3, 1));
    let last = rows.last().map_or(1, |r| r.epoch).max(2) as f64;
    loss_panel(&panels[0], rows, 1.0..last, converged)?;
    accuracy_panel(&panels[1], rows, 1.0..last)?;
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
    rows.iter().map(move |r| (r.epoch as f64, pick(r).max(FLOOR))).filter(|(_, v)| v.is_finite())
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

fn accuracy_panel<B: DrawingBackend>(
    panel: &DrawingArea<B, Shift>,
    rows: &[EpochRow],
    epochs: std::ops::Range<f64>,
) -> Result<()> {
    let series = |pick| series(rows, pick);
    // Accuracy and the largest error, both in [0, 1] for 0/1 targets.
    let (_, top) = span(rows.iter().map(|r| r.max_error), 0.0);
    let mut chart = frame(panel, "accuracy and largest error")
        .build_cartesian_2d(axes::epochs(epochs.end), -0.03..top.max(1.0) * 1.05)
        .map_err(text)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .max_light_lines(0)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(text)?;
    labelled_line(&mut chart, series(|r| r.valid_accuracy), BLUE.to_rgba(), 1, "validation accuracy".into())?;
    labelled_line(&mut chart, series(|r| r.max_error), RED.to_rgba(), 1, "largest |output - target|".into())?;
    let (last, height) = (epochs.end, top.max(1.0) * 1.05);
    let shares = series(|r| r.valid_accuracy)
        .chain(series(|r| r.max_error))
        .map(|(x, y)| ((x - 1.0) / (last - 1.0).max(1.0), y / height));
    legend(&mut chart, axes::emptiest_corner(shares))?;
    Ok(())
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
                .map(|r| (r.epoch as f64, value(r, layer).max(floor)))
                .filter(|(_, v)| v.is_finite());
            let points: Vec<(f64, f64)> = points.collect();
            drawn.extend(&points);
            labelled_line(&mut chart, points, color, 2, format!("layer {layer}"))?;
        }
        legend_where_empty(&mut chart, &drawn, (last, low, high))?;
    }
    area.present().map_err(text)
}

/// Blue for 0, white for 0.5, orange for 1, as TensorFlow Playground colours its plane.
fn shade(value: f32) -> RGBColor {
    let v = if value.is_finite() { value.clamp(0.0, 1.0) } else { 0.5 };
    let (zero, half, one) = ((8.0, 119.0, 189.0), (245.0, 245.0, 245.0), (245.0, 147.0, 34.0));
    let mix = |a: (f32, f32, f32), b: (f32, f32, f32), t: f32| {
        RGBColor((a.0 + (b.0 - a.0) * t) as u8, (a.1 + (b.1 - a.1) * t) as u8, (a.2 + (b.2 - a.2) * t) as u8)
    };
    if v < 0.5 { mix(zero, half, v * 2.0) } else { mix(half, one, (v - 0.5) * 2.0) }
}

fn boundary<B: DrawingBackend>(area: DrawingArea<B, Shift>, model: &Mlp, table: &Table) -> Result<()> {
    area.fill(&WHITE).map_err(text)?;
    // The data's square with a margin of a fifth of its side, so that what the network does
    // just beyond the training points shows too, while the data fills most of the picture.
    let (x_range, y_range) = {
        let column = |c: usize| span(table.inputs.iter().skip(c).step_by(2).map(|&v| v as f64), f64::MIN);
        let ((x0, x1), (y0, y1)) = (column(0), column(1));
        let (mx, my) = ((x1 - x0).max(1e-6) / 5.0, (y1 - y0).max(1e-6) / 5.0);
        ((x0 - mx)..(x1 + mx), (y0 - my)..(y1 + my))
    };
    let steps = 120usize;
    let mut grid = Vec::with_capacity(steps * steps * 2);
    for j in 0..steps {
        for i in 0..steps {
            let x = x_range.start + (x_range.end - x_range.start) * (i as f64 + 0.5) / steps as f64;
            let y = y_range.start + (y_range.end - y_range.start) * (j as f64 + 0.5) / steps as f64;
            grid.extend([x as f32, y as f32]);
        }
    }
    let device = burn::module::Module::devices(model)[0].clone();
    let inputs = burn::tensor::Tensor::<2>::from_data(
        burn::tensor::TensorData::new(grid, [steps * steps, 2]),
        &device,
    );
    let width = table.target_width;
    let values: Vec<f32> = model.forward(inputs).into_data().iter::<f32>().step_by(width).collect();

    let caption = match width {
        1 => "network output over the inputs".to_string(),
        n => format!("network output over the inputs (the first of {n} outputs)"),
    };
    let mut chart = ChartBuilder::on(&area)
        .caption(caption, ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(x_range.clone(), y_range.clone())
        .map_err(text)?;
    chart
        .configure_mesh()
        .x_desc("input 1")
        .y_desc("input 2")
        .x_label_formatter(&axes::linear_label)
        .y_label_formatter(&axes::linear_label)
        .disable_mesh()
        .draw()
        .map_err(text)?;
    let (dx, dy) =
        ((x_range.end - x_range.start) / steps as f64, (y_range.end - y_range.start) / steps as f64);
    chart
        .draw_series((0..steps * steps).map(|k| {
            let (i, j) = ((k % steps) as f64, (k / steps) as f64);
            let corner = (x_range.start + i * dx, y_range.start + j * dy);
            Rectangle::new([corner, (corner.0 + dx, corner.1 + dy)], shade(values[k]).filled())
        }))
        .map_err(text)?;
    // Large markers for a truth table's few rows; small ones for hundreds of points, which would
    // otherwise hide the boundary they are drawn on.
    let radius = if table.rows() <= 16 { 9 } else { 3 };
    let points = (0..table.rows()).map(|row| {
        let (input, target) = (table.input_row(row), table.target_row(row)[0]);
        let at = (input[0] as f64, input[1] as f64);
        // Darker than the plane's colours, so that a point shows on a plane of its own colour.
        let fill = if target >= 0.5 { RGBColor(200, 90, 0) } else { RGBColor(0, 60, 130) };
        EmptyElement::at(at)
            + Circle::new((0, 0), radius, fill.filled())
            // A white ring sets a large marker off the plane; on a small one it would hide the fill.
            + Circle::new((0, 0), radius, if radius > 4 { WHITE.stroke_width(2) } else { fill.stroke_width(1) })
    });
    chart.draw_series(points).map_err(text)?;
    area.present().map_err(text)
}
