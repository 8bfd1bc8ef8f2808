//! `GET /sites/{site}/views/{id}/image` (REST "Query View Image"; tableauserverclient `views.populate_image`): a
//! PNG of the view. The emulator renders no visualisation: it draws, in an 8x8 bitmap font, a banner saying the
//! image is emulated, the view's name, its workbook, its sheet type and the fields the sheet uses, so a test or a
//! reviewer can tell which view (and which version of it) an image shows. The same view state gives the same bytes.
//! `resolution=high` doubles the scale, as Cloud returns a larger image for it.

use http::{HeaderValue, Response, StatusCode};

use super::{Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use axum::body::Body;

/// Pixels per font pixel at the default resolution.
const SCALE: usize = 2;
/// Characters per line before a line is cut.
const COLUMNS: usize = 60;
/// Margin around the text, in font pixels.
const MARGIN: usize = 4;

pub fn get(ctx: &Ctx, id: &str) -> ApiResult<Reply> {
    let lines = {
        let state = ctx.shared.lock();
        let (workbook, view) =
            state.workbooks.iter().find_map(|w| w.views.iter().find(|v| v.id == id).map(|v| (w, v))).ok_or_else(
                || ApiError::new(404011, "Resource Not Found", format!("View '{id}' could not be found.")),
            )?;
        let mut lines = vec![
            "EMULATED VIEW IMAGE (tabops emulator)".to_owned(),
            String::new(),
            format!("View: {}", view.name),
            format!("Workbook: {}", workbook.content.name),
            format!("Sheet type: {}", view.sheet_type),
            String::new(),
        ];
        if view.fields.is_empty() {
            lines.push("Fields: (none listed)".to_owned());
        } else {
            lines.push("Fields:".to_owned());
            lines.extend(view.fields.iter().map(|f| format!("  - {f}")));
        }
        lines
    };
    let scale =
        if ctx.query.get("resolution").is_some_and(|r| r.eq_ignore_ascii_case("high")) { SCALE * 2 } else { SCALE };
    let png = render(&lines, scale).map_err(|err| {
        ApiError::new(500000, "Internal Server Error", format!("cannot encode the view image: {err}"))
    })?;
    let mut response = Response::new(Body::from(png));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    Ok(Reply::Raw(response))
}

/// Black text on white, one 8x8 glyph per character (ASCII; anything else is drawn as `?`), as a grayscale PNG.
fn render(lines: &[String], scale: usize) -> Result<Vec<u8>, png::EncodingError> {
    let width = (COLUMNS * 8 + 2 * MARGIN) * scale;
    let height = ((lines.len() * 10).max(10) + 2 * MARGIN) * scale;
    let mut pixels = vec![0xffu8; width * height];
    for (row, line) in lines.iter().enumerate() {
        for (column, c) in line.chars().take(COLUMNS).enumerate() {
            let glyph = font8x8::legacy::BASIC_LEGACY[if c.is_ascii() { c as usize } else { '?' as usize }];
            for (gy, bits) in glyph.iter().enumerate() {
                for gx in 0..8 {
                    if bits & (1 << gx) == 0 {
                        continue;
                    }
                    let (x0, y0) = ((MARGIN + column * 8 + gx) * scale, (MARGIN + row * 10 + gy) * scale);
                    for y in y0..y0 + scale {
                        pixels[y * width + x0..y * width + x0 + scale].fill(0);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width as u32, height as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> (png::OutputInfo, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        pixels.truncate(info.buffer_size());
        (info, pixels)
    }

    #[test]
    fn the_image_is_a_grayscale_png_with_one_text_row_per_line_and_the_same_bytes_each_time() {
        let lines: Vec<String> = ["EMULATED", "View: Map", "Fields:", "  - Sales"].map(str::to_owned).into();
        let bytes = render(&lines, SCALE).unwrap();
        assert_eq!(bytes, render(&lines, SCALE).unwrap(), "deterministic");
        let (info, pixels) = decode(&bytes);
        assert_eq!(
            (info.width as usize, info.height as usize),
            ((COLUMNS * 8 + 2 * MARGIN) * 2, (40 + 2 * MARGIN) * 2)
        );
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        let ink = pixels.iter().filter(|p| **p == 0).count();
        assert!(ink > 100, "text is drawn ({ink} black pixels)");
        // Another field is another picture; the high resolution doubles both sides.
        let other: Vec<String> = ["EMULATED", "View: Map", "Fields:", "  - Profit"].map(str::to_owned).into();
        assert_ne!(render(&other, SCALE).unwrap(), bytes);
        let (high, _) = decode(&render(&lines, SCALE * 2).unwrap());
        assert_eq!((high.width, high.height), (info.width * 2, info.height * 2));
        if let Some(path) = std::env::var_os("TABOPS_VIEW_IMAGE_SAMPLE") {
            std::fs::write(path, &bytes).unwrap();
        }
    }
}
