//! boundary.png: the network's output over the plane of its two inputs, the training points on
//! top, and a colour bar that says what the colours mean.

use crate::config::Config;
use crate::config::csv_schema::Schema;
use crate::data::table::Table;
use crate::model::mlp::Mlp;
use crate::run::axes::{self, span};
use crate::run::canvas::{Result, text};
use crate::run::summary::Task;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontTransform;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::ops::Range;

/// Blue for 0, white for 0.5, orange for 1, as TensorFlow Playground colours its plane.
fn shade(value: f64) -> RGBColor {
    let v = if value.is_finite() { value.clamp(0.0, 1.0) } else { 0.5 };
    let (zero, half, one) = ((8.0, 119.0, 189.0), (245.0, 245.0, 245.0), (245.0, 147.0, 34.0));
    let mix = |a: (f64, f64, f64), b: (f64, f64, f64), t: f64| {
        RGBColor((a.0 + (b.0 - a.0) * t) as u8, (a.1 + (b.1 - a.1) * t) as u8, (a.2 + (b.2 - a.2) * t) as u8)
    };
    if v < 0.5 { mix(zero, half, v * 2.0) } else { mix(half, one, (v - 0.5) * 2.0) }
}

/// What boundary.png shows: the names of its two axes, what its colour means and the values
/// at the two ends of the colour scale.
pub struct Plane {
    inputs: [String; 2],
    caption: String,
    value: String,
    scale: (f64, f64),
    task: Task,
}

impl Plane {
    /// The CSV's column names on the axes; the colour scale is 0 to 1 for probabilities and the
    /// targets' own range for a regression (matplotlib's default: the data's range), so that
    /// targets of 0.3 to 4.7 are not one flat colour.
    pub fn of(config: &Config, table: &Table) -> Plane {
        let schema = config.data.schema.as_deref();
        let inputs = match schema {
            Some(schema) if schema.features.len() == 2 => {
                [schema.features[0].clone(), schema.features[1].clone()]
            }
            _ => ["input 1".into(), "input 2".into()],
        };
        let task = Task::of(config);
        let first = |what: &str| match table.target_width {
            1 => format!("network {what} over the inputs"),
            n => format!("network {what} over the inputs (the first of {n} outputs)"),
        };
        let (caption, value, scale) = match (task, schema) {
            (Task::Classes, Some(Schema { classes: Some(classes), .. })) => (
                format!("network's probability of class `{}` over the inputs", classes[0]),
                format!("P({})", classes[0]),
                (0.0, 1.0),
            ),
            (Task::Regression, _) => {
                let name = schema.map_or("output".to_string(), |s| s.targets[0].clone());
                let targets = table.targets.iter().step_by(table.target_width).map(|&t| t as f64);
                let (low, high) = span(targets, f64::MIN);
                (first("output"), format!("{name} (output and targets)"), (low, high))
            }
            _ => (first("output"), "output".into(), (0.0, 1.0)),
        };
        Plane { inputs, caption, value, scale, task }
    }

    /// Where `value` lies on the colour scale, from 0 to 1.
    fn share(&self, value: f64) -> f64 {
        (value - self.scale.0) / (self.scale.1 - self.scale.0)
    }
}

/// The data's square with a margin of a fifth of its side, so that what the network does just
/// beyond the training points shows too, while the data fills most of the picture.
fn square(table: &Table) -> (Range<f64>, Range<f64>) {
    let column = |c: usize| span(table.inputs.iter().skip(c).step_by(2).map(|&v| v as f64), f64::MIN);
    let ((x0, x1), (y0, y1)) = (column(0), column(1));
    let (mx, my) = ((x1 - x0).max(1e-6) / 5.0, (y1 - y0).max(1e-6) / 5.0);
    ((x0 - mx)..(x1 + mx), (y0 - my)..(y1 + my))
}

/// The network's first output at the centres of a `steps` by `steps` grid over the square, row
/// by row from the bottom left, in one batch.
fn outputs(model: &Mlp, (x, y): (&Range<f64>, &Range<f64>), steps: usize, width: usize) -> Vec<f32> {
    let mut grid = Vec::with_capacity(steps * steps * 2);
    for j in 0..steps {
        for i in 0..steps {
            let at = |range: &Range<f64>, k: usize| {
                range.start + (range.end - range.start) * (k as f64 + 0.5) / steps as f64
            };
            grid.extend([at(x, i) as f32, at(y, j) as f32]);
        }
    }
    let device = burn::module::Module::devices(model)[0].clone();
    let inputs = burn::tensor::Tensor::<2>::from_data(
        burn::tensor::TensorData::new(grid, [steps * steps, 2]),
        &device,
    );
    model.forward(inputs).into_data().iter::<f32>().step_by(width).collect()
}

pub fn draw<B: DrawingBackend>(
    area: DrawingArea<B, Shift>,
    model: &Mlp,
    table: &Table,
    plane: &Plane,
) -> Result<()> {
    area.fill(&WHITE).map_err(text)?;
    let (x_range, y_range) = square(table);
    let steps = 120usize;
    let values = outputs(model, (&x_range, &y_range), steps, table.target_width);

    // The caption over both, then the plane on the left and its colour bar on the right, as
    // matplotlib's `colorbar()` places it.
    let area = area.titled(&plane.caption, ("sans-serif", 20)).map_err(text)?;
    let (left, right) = area.split_horizontally(area.dim_in_pixel().0 as i32 - 100);
    let labels = |range: &Range<f64>| axes::decimals(range.start, range.end);
    let (x_decimals, y_decimals) = (labels(&x_range), labels(&y_range));
    let mut chart = ChartBuilder::on(&left)
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(50)
        .build_cartesian_2d(x_range.clone(), y_range.clone())
        .map_err(text)?;
    chart
        .configure_mesh()
        .x_desc(&plane.inputs[0])
        .y_desc(&plane.inputs[1])
        .x_label_formatter(&|v| axes::label_with(*v, x_decimals))
        .y_label_formatter(&|v| axes::label_with(*v, y_decimals))
        .disable_mesh()
        .draw()
        .map_err(text)?;
    let (dx, dy) =
        ((x_range.end - x_range.start) / steps as f64, (y_range.end - y_range.start) / steps as f64);
    chart
        .draw_series((0..steps * steps).map(|k| {
            let (i, j) = ((k % steps) as f64, (k / steps) as f64);
            let corner = (x_range.start + i * dx, y_range.start + j * dy);
            let colour = shade(plane.share(values[k] as f64));
            Rectangle::new([corner, (corner.0 + dx, corner.1 + dy)], colour.filled())
        }))
        .map_err(text)?;
    // Large markers for a truth table's few rows; small ones for hundreds of points, which would
    // otherwise hide the boundary they are drawn on.
    let radius = if table.rows() <= 16 { 9 } else { 3 };
    let points = (0..table.rows()).map(|row| {
        let (input, target) = (table.input_row(row), table.target_row(row)[0] as f64);
        let at = (input[0] as f64, input[1] as f64);
        let (fill, ring) = match plane.task {
            // A number on the plane's own scale, ringed in black to show where it is.
            Task::Regression => (shade(plane.share(target)), BLACK.stroke_width(1)),
            // Darker than the plane's colours, so that a point shows on a plane of its own
            // colour; a white ring sets a large marker off the plane, on a small one it would
            // hide the fill.
            _ => {
                let fill = if target >= 0.5 { RGBColor(200, 90, 0) } else { RGBColor(0, 60, 130) };
                (fill, if radius > 4 { WHITE.stroke_width(2) } else { fill.stroke_width(1) })
            }
        };
        EmptyElement::at(at) + Circle::new((0, 0), radius, fill.filled()) + Circle::new((0, 0), radius, ring)
    });
    chart.draw_series(points).map_err(text)?;
    colour_bar(&right, plane)?;
    area.present().map_err(text)
}

/// The colour scale as a bar with its own labelled axis on its right, aligned with the plane
/// beside it. The labels are placed here: plotters right-aligns a right-hand axis's labels by
/// a text-width estimate that the embedded font does not give, which drew them over the bar.
fn colour_bar<B: DrawingBackend>(area: &DrawingArea<B, Shift>, plane: &Plane) -> Result<()> {
    let (low, high) = plane.scale;
    let mut bar = ChartBuilder::on(area)
        .margin(10)
        .margin_left(0)
        .margin_right(75)
        .x_label_area_size(35)
        .build_cartesian_2d(0.0..1.0, low..high)
        .map_err(text)?;
    let steps = 100;
    let rung = (high - low) / steps as f64;
    bar.draw_series((0..steps).map(|k| {
        let from = low + k as f64 * rung;
        Rectangle::new([(0.0, from), (1.0, from + rung)], shade(plane.share(from + rung / 2.0)).filled())
    }))
    .map_err(text)?;
    let ticks = axes::linear_ticks(low, high, 6);
    let decimals = ticks.windows(2).next().map_or(1, |pair| axes::decimals(0.0, 10.0 * (pair[1] - pair[0])));
    let font = TextStyle::from(("sans-serif", 11).into_font());
    bar.draw_series(ticks.iter().map(|&value| {
        EmptyElement::at((1.0, value))
            + PathElement::new([(0, 0), (4, 0)], BLACK)
            + Text::new(
                axes::label_with(value, decimals),
                (7, 0),
                font.pos(Pos::new(HPos::Left, VPos::Center)),
            )
    }))
    .map_err(text)?;
    bar.draw_series([Rectangle::new([(0.0, low), (1.0, high)], BLACK.stroke_width(1))]).map_err(text)?;
    let (width, height) = area.dim_in_pixel();
    let title = font.transform(FontTransform::Rotate270).pos(Pos::new(HPos::Center, VPos::Center));
    area.draw_text(&plane.value, &title, (width as i32 - 28, (height as i32 - 35) / 2)).map_err(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::canvas::fonts;

    /// The `<text>` contents of an SVG.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| Some(t.split_once('>')?.1.split_once("</text>")?.0.trim().to_string()))
            .collect()
    }

    #[test]
    fn a_regression_plane_names_its_axes_after_the_csv_columns_and_scales_its_colours_to_the_targets() {
        let dir = tempfile::tempdir().unwrap();
        let rows: String = (0..40)
            .map(|i| format!("{},{},{:.2}\n", 40 + 4 * i, i % 7, 0.3 + 4.4 * i as f64 / 39.0))
            .collect();
        std::fs::write(dir.path().join("house.csv"), format!("area_m2,age_years,price_k\n{rows}")).unwrap();
        let config = "[data]\ncsv = \"house.csv\"\ntargets = [\"price_k\"]\n[model]\noutput_activation = \"identity\"\n[training]\nloss = \"mse\"\n";
        std::fs::write(dir.path().join("house.toml"), config).unwrap();
        let (config, data) =
            crate::data::dataset::Dataset::load(&dir.path().join("house.toml"), false).unwrap();
        let (train, _) = data.split(config.seed);
        let model = Mlp::from_config(&config, &burn::tensor::Device::flex());
        let plane = Plane::of(&config, &train);
        fonts();
        let mut svg = String::new();
        draw(SVGBackend::with_string(&mut svg, (600, 600)).into_drawing_area(), &model, &train, &plane)
            .unwrap();
        let texts = texts(&svg);
        for name in ["area_m2", "age_years", "price_k (output and targets)"] {
            assert!(texts.iter().any(|t| t == name), "no label {name:?} in {texts:?}");
        }
        // The colour bar is labelled over the targets' range, not clamped at 1.
        assert!(texts.iter().any(|t| t == "4.0") && texts.iter().any(|t| t == "1.0"), "{texts:?}");
    }
}
