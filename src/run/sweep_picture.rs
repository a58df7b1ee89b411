//! sweep.png: for each setting of a sweep, every seed's epochs to converge, and each run that
//! did not converge.

use crate::run::pictures::{Result, fonts, png, text};
use crate::run::sweep_results::{Row, RunResult};
use plotters::coord::Shift;
use plotters::prelude::*;

/// The sweep's picture: for each combination (a row), every seed's epochs to converge on a log
/// scale, and a red cross at the right edge for each run that did not converge.
pub fn sweep(path: &std::path::Path, results: &[RunResult], rows: &[Row]) -> Result<()> {
    fonts();
    let height = (120 + 40 * rows.len()).min(4000) as u32;
    png(path, (1000, height), |area| sweep_picture(area, results, rows))
}

fn sweep_picture(
    area: DrawingArea<BitMapBackend<'_>, Shift>,
    results: &[RunResult],
    rows: &[Row],
) -> Result<()> {
    area.fill(&WHITE).map_err(text)?;
    let most = results.iter().filter_map(|r| r.converged_epoch).max().unwrap_or(10).max(10) as f64;
    let right = most * 3.0;
    let labels: Vec<String> = rows.iter().map(|r| r.setting.label()).collect();
    let count = rows.len().max(1);
    let mut chart = ChartBuilder::on(&area)
        .caption("epochs to converge per setting (one dot per seed; x: did not converge)", ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(320)
        .build_cartesian_2d((1.0..right).log_scale(), -0.5..count as f64 - 0.5)
        .map_err(text)?;
    chart
        .configure_mesh()
        .x_desc("epochs to converge")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_labels(count)
        .y_label_formatter(&|v| {
            let index = v.round();
            if (v - index).abs() < 0.01 && index >= 0.0 {
                labels.get(index as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .draw()
        .map_err(text)?;
    let row_of = |r: &RunResult| rows.iter().position(|row| row.setting == r.setting).unwrap_or(0) as f64;
    // A small vertical spread by seed, so that equal epochs do not hide each other.
    let jitter = |seed: u64| ((seed % 7) as f64 - 3.0) * 0.06;
    chart
        .draw_series(results.iter().filter_map(|r| {
            r.converged_epoch
                .map(|e| Circle::new((e as f64, row_of(r) + jitter(r.seed)), 4, BLUE.mix(0.7).filled()))
        }))
        .map_err(text)?;
    chart
        .draw_series(
            results
                .iter()
                .filter(|r| r.converged_epoch.is_none())
                .map(|r| Cross::new((right * 0.8, row_of(r) + jitter(r.seed)), 5, RED.stroke_width(2))),
        )
        .map_err(text)?;
    area.present().map_err(text)
}
