//! The pictures of a run: written at the end, valid images, not blank.

use super::{config_file, gatenet, repo, train};
use std::path::Path;

/// Width, height and RGB pixels of a PNG.
pub(super) fn decode(path: &Path) -> (u32, u32, Vec<[u8; 3]>) {
    let decoder =
        png::Decoder::new(std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
    let mut reader = decoder.read_info().expect("a valid PNG");
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer).expect("a PNG frame");
    let channels = info.color_type.samples();
    let pixels = buffer[..info.buffer_size()].chunks(channels).map(|p| [p[0], p[1], p[2]]).collect();
    (info.width, info.height, pixels)
}

fn variance(pixels: &[[u8; 3]]) -> f64 {
    let values: Vec<f64> = pixels.iter().flat_map(|p| p.iter().map(|&c| c as f64)).collect();
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64
}

/// The plane's blue (outputs near 0) and orange (near 1), by their red and blue channels: in
/// i32, as a u8 sum would wrap past 255 in a release build.
fn blue(p: [u8; 3]) -> bool {
    p[2] as i32 > p[0] as i32 + 60
}

fn orange(p: [u8; 3]) -> bool {
    p[0] as i32 > p[2] as i32 + 60
}

#[test]
fn a_run_draws_its_loss_boundary_and_layer_pictures() {
    let dir = tempfile::tempdir().unwrap();
    train(&repo().join("configs/or.toml"), dir.path());
    let run = dir.path().join("artifacts/or");
    for (file, size) in [("loss.png", (900, 900)), ("layers.png", (900, 600)), ("boundary.png", (600, 600))] {
        let (width, height, pixels) = decode(&run.join(file));
        assert_eq!((width, height), size, "{file}");
        assert!(variance(&pixels) > 100.0, "{file} looks blank");
    }
    let svg = std::fs::read_to_string(run.join("loss.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("loss") && svg.contains("<polyline"), "loss.svg");
}

#[test]
fn the_boundary_picture_is_blue_near_0_0_and_orange_near_1_1_for_or() {
    let dir = tempfile::tempdir().unwrap();
    train(&repo().join("configs/or.toml"), dir.path());
    let (width, _, pixels) = decode(&dir.path().join("artifacts/or/boundary.png"));
    let at = |x: usize, y: usize| pixels[y * width as usize + x];
    // The plane spans inputs -0.2 to 1.2 over pixels 60 to 490 across and 550 to 35 down (its
    // colour bar takes the right 100): sample near the points (0, 0) and (1, 1).
    let near_0_0 = at(165, 450);
    let near_1_1 = at(475, 150);
    assert!(blue(near_0_0), "OR is 0 at (0, 0): {near_0_0:?}");
    assert!(orange(near_1_1), "OR is 1 at (1, 1): {near_1_1:?}");
}

/// A text of an SVG drawing as its box: left, top, right, bottom, in pixels.
#[derive(Debug)]
struct Label {
    text: String,
    bounds: [f64; 4],
}

/// The width of `text` in DejaVu Sans, in em, from its advance widths (rounded up): digits
/// 0.636, narrow letters and punctuation about 0.35, capitals and m, w about 0.8, the other
/// letters about 0.6.
fn em_width(text: &str) -> f64 {
    text.chars()
        .map(|c| match c {
            '0'..='9' => 0.64,
            ' ' | '|' | '\'' | '.' | ',' | ':' | ';' | '-' | '(' | ')' | 'i' | 'j' | 'l' | 't' | 'f'
            | 'r' => 0.4,
            'A'..='Z' | 'm' | 'w' => 0.8,
            _ => 0.62,
        })
        .sum()
}

/// Every `<text>` of an SVG that plotters wrote, with a box estimated from its position,
/// anchor and size ([`em_width`] wide, 0.95 em high: DejaVu Sans's ascent and descent).
fn labels(svg: &str) -> Vec<Label> {
    let attribute = |tag: &str, name: &str| {
        let key = format!(" {name}=\"");
        tag.split_once(&key).and_then(|(_, rest)| rest.split_once('"')).map(|(value, _)| value.to_string())
    };
    svg.split("<text")
        .skip(1)
        .map(|element| {
            let (tag, rest) = element.split_once('>').expect("a <text> tag");
            let text = rest.split_once("</text>").expect("a closed <text>").0.trim();
            let text =
                text.replace("&apos;", "'").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">");
            let number = |name: &str| attribute(tag, name).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            let (x, y, size) = (number("x"), number("y"), number("font-size"));
            let width = size * em_width(&text);
            // plotters' dy: 0.76em puts the top at y, 0.5ex centres the text on it, -0.5ex its foot.
            let top = match attribute(tag, "dy").as_deref() {
                Some("0.76em") => y,
                Some("-0.5ex") => y - 0.95 * size,
                _ => y - 0.475 * size,
            };
            let left = match attribute(tag, "text-anchor").as_deref() {
                Some("middle") => x - width / 2.0,
                Some("end") => x - width,
                _ => x,
            };
            let bounds = if attribute(tag, "transform").is_some_and(|t| t.starts_with("rotate(270")) {
                // Turned a quarter about (x, y): the text runs up the page, centred on y.
                [x, y - width / 2.0, x + 0.95 * size, y + width / 2.0]
            } else {
                [left, top, left + width, top + 0.95 * size]
            };
            Label { text, bounds }
        })
        .collect()
}

/// The labels that overlap another, or leave the picture of `width` by `height`.
fn misplaced(labels: &[Label], (width, height): (f64, f64)) -> Vec<String> {
    let mut found = Vec::new();
    for (i, a) in labels.iter().enumerate() {
        let [l, t, r, b] = a.bounds;
        if l < -0.5 || t < -0.5 || r > width + 0.5 || b > height + 0.5 {
            found.push(format!("{:?} leaves the picture: {:?}", a.text, a.bounds));
        }
        for other in &labels[i + 1..] {
            let [l2, t2, r2, b2] = other.bounds;
            // One pixel of slack: boxes that only touch do not cover each other.
            if l < r2 - 1.0 && l2 < r - 1.0 && t < b2 - 1.0 && t2 < b - 1.0 {
                found.push(format!("{:?} overlaps {:?}", a.text, other.text));
            }
        }
    }
    found
}

#[test]
fn no_label_of_the_loss_picture_overlaps_another_or_is_cut_at_its_edge() {
    let dir = tempfile::tempdir().unwrap();
    // A regression that diverges (its numbers grow to 1e35), a 3-epoch run, a classifier, OR.
    let short = "[data]\ngate = \"xor\"\n[training]\nnum_epochs = 3\n";
    let configs = [
        super::diverging_regression(dir.path(), "diverging", ""),
        config_file(dir.path(), "short.toml", short),
        repo().join("configs/fruit.toml"),
        repo().join("configs/or.toml"),
    ];
    for config in &configs {
        let out = gatenet(&["-q", config.to_str().unwrap(), "--artifacts", "artifacts"], dir.path());
        let name = config.file_stem().unwrap().to_str().unwrap();
        let svg = std::fs::read_to_string(dir.path().join("artifacts").join(name).join("loss.svg"))
            .unwrap_or_else(|e| panic!("{name}: no loss.svg ({e}); exit {:?}", out.status.code()));
        let labels = labels(&svg);
        assert!(labels.len() > 20, "{name}: only {} labels", labels.len());
        let found = misplaced(&labels, (900.0, 900.0));
        assert!(found.is_empty(), "{name}'s loss.svg:\n{}", found.join("\n"));
    }
}

#[test]
fn the_layout_check_finds_labels_that_overlap_or_leave_the_picture() {
    let label = |text: &str, bounds| Label { text: text.into(), bounds };
    let found = misplaced(
        &[
            label("1e-1", [10.0, 10.0, 40.0, 20.0]),
            label("9e-2", [12.0, 15.0, 42.0, 25.0]),
            label("5000", [880.0, 0.0, 910.0, 10.0]),
        ],
        (900.0, 900.0),
    );
    assert_eq!(found.len(), 2, "{found:?}");
}

#[test]
fn the_boundary_picture_has_a_colour_bar_from_blue_at_0_to_orange_at_1() {
    let dir = tempfile::tempdir().unwrap();
    train(&repo().join("configs/or.toml"), dir.path());
    let (width, height, pixels) = decode(&dir.path().join("artifacts/or/boundary.png"));
    let at = |x: u32, y: u32| pixels[(y * width + x) as usize];
    let white = |p: [u8; 3]| p.iter().all(|&c| c > 225);
    // A column of the right 100 pixels that runs orange at the top, white midway, blue below:
    // the scale, with 1 at the top, as matplotlib's colour bar.
    let bar = (width - 100..width).find(|&x| {
        let column: Vec<[u8; 3]> = (0..height).map(|y| at(x, y)).collect();
        let first_orange = column.iter().position(|&p| orange(p));
        let last_blue = column.iter().rposition(|&p| blue(p));
        let runs = |from: usize, to: usize| column[from..to].iter().any(|&p| white(p));
        matches!((first_orange, last_blue), (Some(o), Some(b)) if o < b && b - o > height as usize / 2 && runs(o, b))
            && (0..height).filter(|&y| blue(at(x, y))).count() > 100
    });
    assert!(bar.is_some(), "no colour bar in the right 100 pixels of boundary.png");
}

#[test]
fn a_regression_plane_spans_its_targets_instead_of_saturating_at_1() {
    let dir = tempfile::tempdir().unwrap();
    // Targets from 0.3 to 4.7 that grow with the first column: the plane runs blue to orange.
    let rows: String = (0..80)
        .map(|i| format!("{},{},{:.2}\n", 40 + 2 * i, (i * 7) % 80, 0.3 + 4.4 * i as f64 / 79.0))
        .collect();
    std::fs::write(dir.path().join("house.csv"), format!("area_m2,age_years,price_k\n{rows}")).unwrap();
    let config = "[data]\ncsv = \"house.csv\"\ntargets = [\"price_k\"]\n[model]\noutput_activation = \"identity\"\n\
        [optimizer]\nname = \"adam\"\nlearning_rate = 0.02\n[training]\nloss = \"mse\"\nnum_epochs = 200\n";
    train(&config_file(dir.path(), "house.toml", config), dir.path());
    let (width, _, pixels) = decode(&dir.path().join("artifacts/house/boundary.png"));
    let plane: Vec<[u8; 3]> = (60..540)
        .flat_map(|y| (70..480).map(move |x| (x, y)))
        .map(|(x, y)| pixels[y * width as usize + x])
        .collect();
    let share = |keep: &dyn Fn(&[u8; 3]) -> bool| {
        plane.iter().filter(|p| keep(p)).count() as f64 / plane.len() as f64
    };
    let (blue, orange) = (share(&|p| blue(*p)), share(&|p| orange(*p)));
    assert!(
        blue > 0.15 && orange > 0.15,
        "the plane is {:.0}% blue and {:.0}% orange",
        100.0 * blue,
        100.0 * orange
    );
}
