//! QR codes for try-play links, as inline SVG (no script, no image file): the maintained
//! `qrcode` crate encodes the text (error correction level M, the smallest version that fits,
//! the best mask); this module draws its modules as one SVG path inside a 4-module quiet zone.

use crate::html::{Markup, Text, html};
use qrcode::{Color, EcLevel, QrCode};
use std::fmt::Write;

/// The quiet zone around the symbol, in modules (the standard asks for 4).
const QUIET: usize = 4;
/// Screen pixels per module.
const SCALE: usize = 4;

/// `text` as an inline SVG QR code labelled `label`, or `None` if it is too long for one.
pub fn svg(text: &str, label: &str) -> Option<Markup> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let size = code.width();
    let dim = size + 2 * QUIET;
    let mut path = String::new();
    for (i, color) in code.to_colors().into_iter().enumerate() {
        if color == Color::Dark {
            let _ = write!(path, "M{} {}h1v1h-1z", i % size + QUIET, i / size + QUIET);
        }
    }
    Some(html! {
        svg class="qr-code" role="img" aria-label=(Text(label)) viewBox={ "0 0 " (dim) " " (dim) }
            width=(dim * SCALE) height=(dim * SCALE) shape-rendering="crispEdges"
            data-testid="qr-code"
        {
            rect width=(dim) height=(dim) fill="#fff" {}
            path d=(path) fill="#000" {}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dark modules of a drawn code, read back from its path.
    fn dark(svg: &str) -> Vec<(usize, usize)> {
        let d = &svg[svg.find(" d=\"").unwrap() + 4..];
        let d = &d[..d.find('"').unwrap()];
        d.split('M')
            .filter(|m| !m.is_empty())
            .map(|m| {
                let m = m.trim_end_matches("h1v1h-1z");
                let (x, y) = m.split_once(' ').unwrap();
                (
                    x.parse::<usize>().unwrap() - QUIET,
                    y.parse::<usize>().unwrap() - QUIET,
                )
            })
            .collect()
    }

    #[test]
    fn a_link_is_drawn_with_finders_and_timing() {
        let url = "https://play.example.com/play/AbCdEf0123";
        let svg = svg(url, "QR code").unwrap().into_string();
        let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).unwrap();
        let n = code.width();
        assert_eq!(n, 29, "41 bytes fit version 3 at level M");
        assert!(
            svg.contains(&format!("viewBox=\"0 0 {0} {0}\"", n + 8)),
            "{svg}"
        );
        let dark = dark(&svg);
        let is_dark = |x, y| dark.contains(&(x, y));
        // finder corners are dark, separators light, timing patterns alternate
        assert!(is_dark(0, 0) && is_dark(n - 1, 0) && is_dark(0, n - 1));
        assert!(!is_dark(7, 0));
        for i in 8..n - 8 {
            assert_eq!(is_dark(i, 6), i % 2 == 0);
            assert_eq!(is_dark(6, i), i % 2 == 0);
        }
        assert!(is_dark(8, n - 8), "the dark module");
    }

    #[test]
    fn too_long_is_none_and_the_label_is_escaped() {
        assert!(svg(&"x".repeat(3000), "x").is_none());
        let svg = svg("hi", "<label>").unwrap().into_string();
        assert!(svg.contains("aria-label=\"&lt;label&gt;\""), "{svg}");
        assert!(svg.contains("data-testid=\"qr-code\""));
    }
}
