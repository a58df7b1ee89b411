//! sweep.png: for each setting of a sweep, every seed's epochs to converge, and each run that
//! did not converge.

use crate::run::axes;
use crate::run::canvas::{Result, fonts, png, text};
use crate::run::sweep_results::{Row, RunResult};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The sweep's picture: for each setting (a row, in the table's order from the top), every
/// seed's epochs to converge on a log scale; the runs that did not converge are counted in
/// words at the row's end, not drawn as points on an axis they have no value on.
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
    // Room at the right for the words: the slowest run at 60% of the log axis, the words from
    // 70% on (about 200 of its 660 pixels).
    let right = most.powf(1.0 / 0.6).max(100.0);
    let words_at = right.powf(0.7);
    let labels: Vec<String> = rows.iter().map(|r| r.setting.label()).collect();
    let count = rows.len().max(1);
    let mut chart = ChartBuilder::on(&area)
        .caption("epochs to converge per setting (one dot per seed)", ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(320)
        .build_cartesian_2d(axes::log(1.0, right), -0.5..count as f64 - 0.5)
        .map_err(text)?;
    // The first row of the table at the top.
    let y_of = |index: usize| (count - 1 - index) as f64;
    chart
        .configure_mesh()
        .x_desc("epochs to converge (log scale)")
        .max_light_lines(0)
        .x_label_formatter(&|v| format!("{v}"))
        .y_labels(count)
        .y_label_formatter(&|v| {
            let index = v.round();
            if (v - index).abs() < 0.01 && index >= 0.0 && (index as usize) < count {
                labels.get(count - 1 - index as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .draw()
        .map_err(text)?;
    let row_of = |r: &RunResult| y_of(rows.iter().position(|row| row.setting == r.setting).unwrap_or(0));
    // A small vertical spread by seed, so that equal epochs do not hide each other.
    let jitter = |seed: u64| ((seed % 7) as f64 - 3.0) * 0.06;
    chart
        .draw_series(results.iter().filter_map(|r| {
            r.converged_epoch
                .map(|e| Circle::new((e as f64, row_of(r) + jitter(r.seed)), 4, BLUE.mix(0.7).filled()))
        }))
        .map_err(text)?;
    let style = ("sans-serif", 15).into_font().color(&RED).pos(Pos::new(HPos::Left, VPos::Center));
    for (index, row) in rows.iter().enumerate() {
        let missed = row.runs - row.converged;
        if missed > 0 {
            let words = format!("{missed} of {} did not converge", row.runs);
            chart.draw_series([Text::new(words, (words_at, y_of(index)), style.clone())]).map_err(text)?;
        }
    }
    area.present().map_err(text)
}
