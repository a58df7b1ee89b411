//! What every picture is drawn with: the embedded font, plotters' errors as text, and the
//! writing of a drawing to its file, whole or not at all.

use crate::run::atomic::write_atomic;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ColorType, ImageEncoder};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};
use std::sync::Once;

pub(crate) type Result<T> = std::result::Result<T, String>;

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
pub(crate) fn svg(
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

pub(crate) fn text<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}
