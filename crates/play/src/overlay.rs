//! Text in the window, sans-IO: what the screen says before the play's picture (the game, the
//! line's position, connecting, why it ended) and the F3 figures over the video, as lines made
//! from [`Status`] and [`Stats`], and the drawing of such lines into a 0RGB buffer (the
//! softbuffer surface's words) with the public-domain 8×8 bitmap font of `font8x8`, scaled
//! [`SCALE`]×. Pure functions: no window, no clock.

use font8x8::legacy::{BASIC_LEGACY, LATIN_LEGACY};
use playrack_client::stats::Stats;

use crate::session::Status;

/// Each font pixel is drawn as a SCALE × SCALE square.
pub const SCALE: usize = 2;
/// A character's cell, pixels each way.
pub const CELL: usize = 8 * SCALE;
/// From one line's top to the next's.
pub const LINE: usize = CELL + 4;
/// The text's colour.
pub const TEXT: u32 = 0x00f0_f0f0;
/// The figures panel's colour (its exact pixels are what the window test looks for).
pub const PANEL: u32 = 0x0020_2030;
/// Between the panel's edge and its text.
pub const PAD: usize = 6;
/// Between the window's edge and the panel.
pub const MARGIN: usize = 8;

/// The glyph of `c`: rows top to bottom, bit 0 the leftmost pixel; `?` for what the font lacks.
fn glyph(c: char) -> [u8; 8] {
    let c = c as u32;
    match c {
        0x20..0x7f => BASIC_LEGACY[c as usize],
        0xa0..=0xff => LATIN_LEGACY[(c - 0xa0) as usize],
        _ => BASIC_LEGACY[b'?' as usize],
    }
}

/// Draws `text` with its top-left at (`x`, `y`) in `buf` (`width × height` words, a row after
/// another), clipped to the buffer.
pub fn draw_text(
    buf: &mut [u32],
    width: usize,
    height: usize,
    x: usize,
    y: usize,
    text: &str,
    color: u32,
) {
    let height = height.min(buf.len() / width.max(1));
    for (i, c) in text.chars().enumerate() {
        let left = x + i * CELL;
        if left >= width {
            break;
        }
        for (row, bits) in glyph(c).into_iter().enumerate() {
            for col in (0..8).filter(|col| bits >> col & 1 == 1) {
                for dy in 0..SCALE {
                    let py = y + row * SCALE + dy;
                    if py >= height {
                        break;
                    }
                    let px = left + col * SCALE;
                    let end = (px + SCALE).min(width);
                    if px < end {
                        buf[py * width + px..py * width + end].fill(color);
                    }
                }
            }
        }
    }
}

/// Draws `lines` from (`x`, `y`), one [`LINE`] apart.
pub fn draw_lines(
    buf: &mut [u32],
    width: usize,
    height: usize,
    x: usize,
    y: usize,
    lines: &[String],
    color: u32,
) {
    for (i, l) in lines.iter().enumerate() {
        draw_text(buf, width, height, x, y + i * LINE, l, color);
    }
}

/// The pixels `lines` take: the widest line's width and every line's height.
pub fn text_size(lines: &[String]) -> (usize, usize) {
    let w = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0) * CELL;
    let h = match lines.len() {
        0 => 0,
        n => (n - 1) * LINE + CELL,
    };
    (w, h)
}

/// Fills `(x, y, w, h)` of `buf` with `color`, clipped.
pub fn fill(buf: &mut [u32], width: usize, height: usize, rect: [usize; 4], color: u32) {
    let [x, y, w, h] = rect;
    let height = height.min(buf.len() / width.max(1));
    let (x0, x1) = (x.min(width), (x + w).min(width));
    for row in y.min(height)..(y + h).min(height) {
        buf[row * width + x0..row * width + x1].fill(color);
    }
}

/// The figures panel: `lines` on [`PANEL`] at the window's top-left corner.
pub fn draw_panel(buf: &mut [u32], width: usize, height: usize, lines: &[String]) {
    let (w, h) = text_size(lines);
    fill(
        buf,
        width,
        height,
        [MARGIN, MARGIN, w + 2 * PAD, h + 2 * PAD],
        PANEL,
    );
    draw_lines(buf, width, height, MARGIN + PAD, MARGIN + PAD, lines, TEXT);
}

/// The screen's message: `lines` wrapped to the window's width, each centred, the block in
/// the middle.
pub fn draw_centred(buf: &mut [u32], width: usize, height: usize, lines: &[String]) {
    let cols = (width.saturating_sub(2 * MARGIN) / CELL).max(1);
    let lines: Vec<String> = lines.iter().flat_map(|l| wrap(l, cols)).collect();
    let (_, h) = text_size(&lines);
    let top = height.saturating_sub(h) / 2;
    for (i, l) in lines.iter().enumerate() {
        let w = l.chars().count() * CELL;
        draw_text(
            buf,
            width,
            height,
            width.saturating_sub(w) / 2,
            top + i * LINE,
            l,
            TEXT,
        );
    }
}

/// `text` in lines of at most `cols` characters, broken at spaces where it can be.
pub fn wrap(text: &str, cols: usize) -> Vec<String> {
    let cols = cols.max(1);
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        // a word longer than a line is cut
        while word.len() > cols {
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
            }
            out.push(word.drain(..cols).collect());
        }
        let len = line.chars().count();
        if len > 0 && len + 1 + word.len() > cols {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.extend(word);
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

/// What the screen says while there is no picture to show (empty when there is): `game` is
/// the link's game once its card came.
pub fn screen_lines(status: &Status, game: Option<&str>, has_picture: bool) -> Vec<String> {
    let mut lines: Vec<String> = game
        .filter(|_| {
            matches!(
                status,
                Status::Card { .. } | Status::Queued { .. } | Status::Connecting
            )
        })
        .map(|g| vec![g.to_owned(), String::new()])
        .unwrap_or_default();
    match status {
        Status::Starting => lines.push("Starting...".into()),
        Status::Card { game } => {
            if lines.is_empty() {
                lines.extend([game.clone(), String::new()]);
            }
            lines.push("Getting a seat...".into());
        }
        Status::Queued {
            position,
            length,
            eta_secs,
        } => {
            lines.push(format!("In line: {position} of {length}"));
            lines.push(match eta_secs {
                0 => "Any moment now".into(),
                s if *s < 120 => format!("About {s} s"),
                s => format!("About {} min", s.div_ceil(60)),
            });
        }
        Status::Connecting => lines.push("Connecting...".into()),
        Status::Playing if has_picture => {}
        Status::Playing => lines.push("Waiting for the picture...".into()),
        Status::Ended(why) => {
            lines.extend(["The play has ended".into(), String::new(), why.clone()]);
        }
        Status::Failed(why) => {
            lines.extend(["Could not play".into(), String::new(), why.clone()]);
        }
    }
    lines
}

/// The F3 panel's lines: the stream's figures and the sound frames decoded.
pub fn figure_lines(s: &Stats, audio_frames: u64) -> Vec<String> {
    let mut lines = vec![
        format!("{:.0} fps {} kb/s", s.fps, s.bitrate_kbps),
        format!("rtt {} ms", s.rtt_ms),
        format!("jitter {:.1} ms", s.jitter_ms),
        format!("loss {:.1}%", s.loss * 100.0),
    ];
    match &s.latency {
        Some(l) => {
            lines.push(format!("latency ~{:.0} ms", l.estimated_ms));
            lines.push(format!("decode {:.1} ms", l.decode_ms));
        }
        None => lines.push("latency -".into()),
    }
    if let Some(ms) = s.last_input_to_frame_ms {
        lines.push(format!("probe {ms:.1} ms"));
    }
    lines.push(match (s.width, s.height) {
        (Some(w), Some(h)) => format!("{w}x{h}"),
        _ => "no picture yet".into(),
    });
    lines.push(format!("audio {audio_frames} frames"));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use playrack_client::stats::Latency;

    /// The lit pixels' bounding box, (x0, y0, x1, y1) exclusive.
    fn lit_box(buf: &[u32], width: usize) -> Option<(usize, usize, usize, usize)> {
        let mut b: Option<(usize, usize, usize, usize)> = None;
        for (i, _) in buf.iter().enumerate().filter(|(_, p)| **p != 0) {
            let (x, y) = (i % width, i / width);
            b = Some(match b {
                None => (x, y, x + 1, y + 1),
                Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1)),
            });
        }
        b
    }

    #[test]
    fn an_eight_lights_its_glyph_box_and_nothing_else() {
        let (w, h) = (40, 30);
        let mut buf = vec![0; w * h];
        draw_text(&mut buf, w, h, 5, 3, "8", TEXT);
        // the font's 8 is 6 pixels wide and 7 high: 12 × 14 at 2×
        assert_eq!(lit_box(&buf, w), Some((5, 3, 5 + 12, 3 + 14)));
        // its waist (row 3, columns 1–4) is lit, its holes (row 1, columns 2–3) are not
        assert_eq!(buf[(3 + 3 * SCALE) * w + 5 + SCALE], TEXT);
        assert_eq!(buf[(3 + SCALE) * w + 5 + 2 * SCALE], 0);
        assert!(buf.iter().all(|&p| p == 0 || p == TEXT));
        // a space draws nothing; unknown characters draw the font's '?'
        let mut blank = vec![0; w * h];
        draw_text(&mut blank, w, h, 0, 0, " ", TEXT);
        assert!(blank.iter().all(|&p| p == 0));
        let (mut a, mut b) = (vec![0; w * h], vec![0; w * h]);
        draw_text(&mut a, w, h, 0, 0, "中", TEXT);
        draw_text(&mut b, w, h, 0, 0, "?", TEXT);
        assert_eq!(a, b);
    }

    #[test]
    fn text_is_clipped_to_the_buffer() {
        let (w, h) = (20, 10);
        let mut buf = vec![0; w * h];
        // starts inside, runs off the right and the bottom; one off the buffer entirely
        draw_text(&mut buf, w, h, 10, 4, "88", TEXT);
        draw_text(&mut buf, w, h, 100, 100, "8", TEXT);
        assert!(
            lit_box(&buf, w)
                .is_some_and(|(x0, y0, x1, y1)| x0 >= 10 && y0 >= 4 && x1 <= w && y1 <= h)
        );
        // a buffer shorter than width × height is not overrun
        let mut short = vec![0; w * 3];
        draw_text(&mut short, w, h, 0, 0, "8", TEXT);
    }

    #[test]
    fn the_panel_covers_the_text_and_the_rest_is_untouched() {
        let (w, h) = (200, 100);
        let mut buf = vec![1; w * h];
        let lines = vec!["60 fps".to_owned(), "rtt 3 ms".to_owned()];
        draw_panel(&mut buf, w, h, &lines);
        let (tw, th) = text_size(&lines);
        assert_eq!((tw, th), (8 * CELL, LINE + CELL));
        let (x1, y1) = (MARGIN + tw + 2 * PAD, MARGIN + th + 2 * PAD);
        for y in 0..h {
            for x in 0..w {
                let p = buf[y * w + x];
                if (MARGIN..x1).contains(&x) && (MARGIN..y1).contains(&y) {
                    assert!(p == PANEL || p == TEXT, "({x}, {y})");
                } else {
                    assert_eq!(p, 1, "({x}, {y})");
                }
            }
        }
        assert!(buf.contains(&TEXT));
    }

    #[test]
    fn centred_lines_wrap_to_the_window() {
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), [""]);
        let (w, h) = (100, 100);
        let mut buf = vec![0; w * h];
        draw_centred(&mut buf, w, h, &["8".to_owned()]);
        let (x0, y0, x1, y1) = lit_box(&buf, w).unwrap();
        // the cell (16 × 16) sits in the middle; the glyph is its top-left 12 × 14
        assert_eq!((x0, y0), ((w - CELL) / 2, (h - CELL) / 2));
        assert_eq!((x1 - x0, y1 - y0), (12, 14));
    }

    #[test]
    fn the_screen_says_where_the_play_stands() {
        let q = Status::Queued {
            position: 3,
            length: 7,
            eta_secs: 42,
        };
        assert_eq!(
            screen_lines(&q, Some("Tetra"), false),
            ["Tetra", "", "In line: 3 of 7", "About 42 s"]
        );
        let long = Status::Queued {
            position: 1,
            length: 1,
            eta_secs: 300,
        };
        assert_eq!(screen_lines(&long, None, false)[1], "About 5 min");
        assert_eq!(
            screen_lines(&Status::Card { game: "G".into() }, Some("G"), false),
            ["G", "", "Getting a seat..."]
        );
        assert_eq!(
            screen_lines(&Status::Connecting, Some("G"), true),
            ["G", "", "Connecting..."]
        );
        assert!(screen_lines(&Status::Playing, Some("G"), true).is_empty());
        assert_eq!(
            screen_lines(&Status::Playing, None, false),
            ["Waiting for the picture..."]
        );
        assert_eq!(
            screen_lines(&Status::Ended("IDLE_TIMEOUT".into()), Some("G"), true),
            ["The play has ended", "", "IDLE_TIMEOUT"]
        );
        assert_eq!(
            screen_lines(&Status::Failed("link revoked".into()), None, false),
            ["Could not play", "", "link revoked"]
        );
        assert_eq!(
            screen_lines(&Status::Starting, None, false),
            ["Starting..."]
        );
    }

    #[test]
    fn the_figures_panel_names_each_figure() {
        let s = Stats {
            fps: 59.6,
            bitrate_kbps: 2400,
            rtt_ms: 12,
            jitter_ms: 1.5,
            loss: 0.012,
            width: Some(720),
            height: Some(1280),
            last_input_to_frame_ms: Some(48.3),
            latency: Some(Latency {
                decode_ms: 3.06,
                estimated_ms: 45.4,
                ..Latency::default()
            }),
            ..Stats::default()
        };
        assert_eq!(
            figure_lines(&s, 250),
            [
                "60 fps 2400 kb/s",
                "rtt 12 ms",
                "jitter 1.5 ms",
                "loss 1.2%",
                "latency ~45 ms",
                "decode 3.1 ms",
                "probe 48.3 ms",
                "720x1280",
                "audio 250 frames",
            ]
        );
        let none = figure_lines(&Stats::default(), 0);
        assert!(none.contains(&"latency -".to_owned()), "{none:?}");
        assert!(none.contains(&"no picture yet".to_owned()), "{none:?}");
        // every line fits a 360-pixel window at 2×
        assert!(
            figure_lines(&s, 9_999_999)
                .iter()
                .all(|l| MARGIN + 2 * PAD + l.chars().count() * CELL <= 360)
        );
    }
}
