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
/// words at the row's end, not drawn as points on an axis they have no value on. A halving
/// sweep's rungs are dashed lines at their epochs, and a pruned setting says where it stopped.
pub fn sweep(path: &std::path::Path, results: &[RunResult], rows: &[Row], rungs: &[usize]) -> Result<()> {
    fonts();
    let height = (120 + 40 * rows.len()).min(4000) as u32;
    png(path, (1000, height), |area| sweep_picture(area, results, rows, rungs))
}

fn sweep_picture(
    area: DrawingArea<BitMapBackend<'_>, Shift>,
    results: &[RunResult],
    rows: &[Row],
    rungs: &[usize],
) -> Result<()> {
    area.fill(&WHITE).map_err(text)?;
    let converged = results.iter().filter_map(|r| r.converged_epoch);
    let most = converged.chain(rungs.iter().copied()).max().unwrap_or(10).max(10) as f64;
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
        .x_desc(if rungs.is_empty() {
            "epochs to converge (log scale)"
        } else {
            "epochs to converge (log scale); dashed: the rungs of successive halving"
        })
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
    let grey = RGBColor(110, 110, 110);
    for &epochs in rungs {
        let x = epochs as f64;
        let dashes = (0..count * 4).map(|i| {
            let y = -0.5 + i as f64 / 4.0;
            PathElement::new(vec![(x, y), (x, y + 0.125)], grey.stroke_width(1))
        });
        chart.draw_series(dashes).map_err(text)?;
        // The epochs alone: rungs eta times apart on the log axis leave room for four digits.
        let label = ("sans-serif", 13).into_font().color(&grey).pos(Pos::new(HPos::Center, VPos::Top));
        let words = epochs.to_string();
        chart.draw_series([Text::new(words, (x, count as f64 - 0.5), label)]).map_err(text)?;
    }
    let style = ("sans-serif", 15).into_font().color(&RED).pos(Pos::new(HPos::Left, VPos::Center));
    let pruned_style = style.clone().color(&grey);
    for (index, row) in rows.iter().enumerate() {
        let missed = row.runs - row.converged;
        let (words, style) = match row.pruned_at {
            Some(epochs) => (format!("pruned after {epochs} epochs"), pruned_style.clone()),
            None if missed > 0 => (format!("{missed} of {} did not converge", row.runs), style.clone()),
            None => continue,
        };
        chart.draw_series([Text::new(words, (words_at, y_of(index)), style)]).map_err(text)?;
    }
    area.present().map_err(text)
}
