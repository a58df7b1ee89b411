//! The pictures of a run: written at the end, valid images, not blank.

use super::{repo, train};
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
    // The plot spans inputs -0.5 to 1.5 over pixels 50 to 590 across and 560 to 40 down:
    // sample just outside the points (0, 0) and (1, 1), away from the square's centre.
    let near_0_0 = at(165, 450);
    let near_1_1 = at(475, 150);
    let blue = |p: [u8; 3]| p[2] > p[0] + 60;
    let orange = |p: [u8; 3]| p[0] > p[2] + 60;
    assert!(blue(near_0_0), "OR is 0 at (0, 0): {near_0_0:?}");
    assert!(orange(near_1_1), "OR is 1 at (1, 1): {near_1_1:?}");
}
