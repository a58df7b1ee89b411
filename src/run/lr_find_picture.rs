//! lr_find.png: the range test's loss against the learning rate, on a log axis, the raw loss
//! faint and the smoothed one drawn over it, the suggested rate marked.

use crate::run::axes::{self, span};
use crate::run::canvas::{Result, fonts, png, text};
use plotters::prelude::*;

/// Draws the test's `(rate, loss, smoothed loss)` points into `path`, with the rate the curve
/// suggests and the one the check chose, when they differ.
pub fn draw(
    path: &std::path::Path,
    points: &[(f64, f64, f64)],
    suggestion: Option<f64>,
    chosen: Option<f64>,
) -> Result<()> {
    fonts();
    png(path, (900, 500), |area| {
        area.fill(&WHITE).map_err(text)?;
        let finite = |v: f64| v.is_finite();
        let (first, last) = span(points.iter().map(|p| p.0), 1e-12);
        // The loss axis stops a little above where the test started: the explosion that ends
        // it would otherwise flatten the part that matters.
        let start = points.iter().map(|p| p.2).find(|v| finite(*v)).unwrap_or(1.0);
        let (low, _) = span(points.iter().map(|p| p.1).chain(points.iter().map(|p| p.2)), f64::MIN);
        let high = (start * 1.2).max(low + 1e-9);
        let mut chart = ChartBuilder::on(&area)
            .caption("learning-rate range test", ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(axes::log(first, last), low - 0.03 * (high - low)..high)
            .map_err(text)?;
        let decimals = axes::decimals(low, high);
        chart
            .configure_mesh()
            .x_desc("learning rate (log scale)")
            .y_desc("loss of the step's batch")
            .x_label_formatter(&axes::log_label)
            .y_label_formatter(&|v| axes::label_with(*v, decimals + 1))
            .max_light_lines(0)
            .draw()
            .map_err(text)?;
        let clipped = |pick: fn(&(f64, f64, f64)) -> f64| {
            points
                .iter()
                .filter(|p| finite(pick(p)))
                .map(move |p| (p.0, pick(p).min(high)))
                .collect::<Vec<_>>()
        };
        let faint = RGBColor(150, 170, 220);
        chart
            .draw_series(LineSeries::new(clipped(|p| p.1), faint.stroke_width(1)))
            .map_err(text)?
            .label("loss")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], faint));
        chart
            .draw_series(LineSeries::new(clipped(|p| p.2), BLUE.stroke_width(2)))
            .map_err(text)?
            .label("smoothed loss")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE));
        let marks = [
            (suggestion, RED, "steepest fall"),
            (chosen.filter(|c| Some(*c) != suggestion), GREEN, "checked best"),
        ];
        for (rate, colour, what) in marks {
            let Some(rate) = rate else { continue };
            chart
                .draw_series(LineSeries::new([(rate, low), (rate, high)], colour.stroke_width(2)))
                .map_err(text)?
                .label(format!("{what}: {rate}"))
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .draw()
            .map_err(text)?;
        area.present().map_err(text)
    })
}
