//! The window's geometry, pure: where the picture sits in the window (letterboxed, aspect kept),
//! a window position as a normalised point of the video (what touch input carries), and the
//! nearest-neighbour scaling of the decoded picture into the window's pixels.

/// A rectangle in window pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// The largest rectangle of the picture's aspect inside the window, centred (letterboxing).
pub fn fit(window: (u32, u32), picture: (u32, u32)) -> Rect {
    let (ww, wh) = window;
    let (pw, ph) = picture;
    if ww == 0 || wh == 0 || pw == 0 || ph == 0 {
        return Rect {
            x: 0,
            y: 0,
            width: 0,
            height: 0,
        };
    }
    // compare ww/wh with pw/ph without floats
    let (width, height) = if u64::from(ww) * u64::from(ph) > u64::from(wh) * u64::from(pw) {
        // the window is wider: bars left and right
        ((u64::from(wh) * u64::from(pw) / u64::from(ph)) as u32, wh)
    } else {
        (ww, (u64::from(ww) * u64::from(ph) / u64::from(pw)) as u32)
    };
    Rect {
        x: (ww - width) / 2,
        y: (wh - height) / 2,
        width,
        height,
    }
}

/// A window position (pixels) as a point of the video, 0.0–1.0 each way; `None` on the bars.
pub fn to_video(r: Rect, x: f64, y: f64) -> Option<(f32, f32)> {
    if r.width == 0 || r.height == 0 {
        return None;
    }
    let nx = (x - f64::from(r.x)) / f64::from(r.width);
    let ny = (y - f64::from(r.y)) / f64::from(r.height);
    ((0.0..1.0).contains(&nx) && (0.0..1.0).contains(&ny)).then_some((nx as f32, ny as f32))
}

/// Draws `src` (`sw × sh` 0RGB words) scaled into `r` of `dst` (`dw` words a row), the rest
/// filled with `background`.
pub fn blit(src: &[u32], sw: u32, sh: u32, dst: &mut [u32], dw: u32, r: Rect, background: u32) {
    dst.fill(background);
    if sw == 0 || sh == 0 || r.width == 0 || r.height == 0 || src.len() < (sw * sh) as usize {
        return;
    }
    let cols: Vec<usize> = (0..r.width)
        .map(|c| (u64::from(c) * u64::from(sw) / u64::from(r.width)) as usize)
        .collect();
    for row in 0..r.height {
        let sy = (u64::from(row) * u64::from(sh) / u64::from(r.height)) as usize;
        let line = &src[sy * sw as usize..(sy + 1) * sw as usize];
        let start = ((r.y + row) * dw + r.x) as usize;
        let Some(out) = dst.get_mut(start..start + r.width as usize) else {
            return;
        };
        for (o, &c) in out.iter_mut().zip(&cols) {
            *o = line[c];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_portrait_game_in_a_landscape_window_gets_bars_left_and_right() {
        let r = fit((1280, 720), (360, 640));
        assert_eq!(
            r,
            Rect {
                x: 437,
                y: 0,
                width: 405,
                height: 720
            }
        );
        assert_eq!(to_video(r, 437.0, 0.0), Some((0.0, 0.0)));
        assert_eq!(to_video(r, 437.0 + 202.5, 360.0), Some((0.5, 0.5)));
        assert_eq!(to_video(r, 100.0, 360.0), None, "on the bar");
        assert_eq!(to_video(r, 437.0 + 405.0, 10.0), None, "just past the edge");
    }

    #[test]
    fn a_landscape_picture_in_a_tall_window_gets_bars_above_and_below() {
        let r = fit((400, 1000), (1280, 720));
        assert_eq!(
            r,
            Rect {
                x: 0,
                y: 387,
                width: 400,
                height: 225
            }
        );
        assert_eq!(fit((0, 10), (1, 1)).width, 0);
        assert_eq!(fit((10, 10), (0, 1)).height, 0);
        assert_eq!(to_video(fit((0, 0), (1, 1)), 0.0, 0.0), None);
    }

    #[test]
    fn blit_scales_into_the_rectangle_and_fills_the_bars() {
        // a 2×2 picture into a 6×4 window: fits as 4×4 at x 1
        let src = [1, 2, 3, 4];
        let mut dst = vec![0; 24];
        let r = fit((6, 4), (2, 2));
        blit(&src, 2, 2, &mut dst, 6, r, 9);
        #[rustfmt::skip]
        let want = vec![
            9, 1, 1, 2, 2, 9,
            9, 1, 1, 2, 2, 9,
            9, 3, 3, 4, 4, 9,
            9, 3, 3, 4, 4, 9,
        ];
        assert_eq!(dst, want);
        // a source too short for its size draws nothing but the background
        blit(&src[..3], 2, 2, &mut dst, 6, r, 7);
        assert!(dst.iter().all(|&p| p == 7));
    }
}
