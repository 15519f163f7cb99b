//! I420 frames and the few drawing primitives the game needs: rectangles, discs, 7-segment
//! digits. Pixels are BT.601 limited range (luma 16..235), as encoders and browsers expect.

/// A colour in Y'CbCr (BT.601, limited range).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Yuv {
    pub y: u8,
    pub u: u8,
    pub v: u8,
}

impl Yuv {
    pub const BLACK: Yuv = Yuv {
        y: 16,
        u: 128,
        v: 128,
    };
    pub const WHITE: Yuv = Yuv {
        y: 235,
        u: 128,
        v: 128,
    };

    /// From 8-bit RGB (BT.601 limited-range matrix).
    pub fn from_rgb(r: u8, g: u8, b: u8) -> Yuv {
        let (r, g, b) = (r as i32, g as i32, b as i32);
        let y = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
        let u = ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128;
        let v = ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128;
        Yuv {
            y: y.clamp(16, 235) as u8,
            u: u.clamp(16, 240) as u8,
            v: v.clamp(16, 240) as u8,
        }
    }

    /// From hue (degrees), saturation and value in [0, 1].
    pub fn from_hsv(h: f32, s: f32, v: f32) -> Yuv {
        let c = v * s;
        let hp = (h.rem_euclid(360.0)) / 60.0;
        let x = c * (1.0 - ((hp % 2.0) - 1.0).abs());
        let (r, g, b) = match hp as u32 {
            0 => (c, x, 0.0),
            1 => (x, c, 0.0),
            2 => (0.0, c, x),
            3 => (0.0, x, c),
            4 => (x, 0.0, c),
            _ => (c, 0.0, x),
        };
        let m = v - c;
        let to8 = |f: f32| ((f + m) * 255.0).round().clamp(0.0, 255.0) as u8;
        Yuv::from_rgb(to8(r), to8(g), to8(b))
    }
}

/// A planar 4:2:0 frame with tight strides (`width` and `width / 2`); even dimensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct I420 {
    pub width: usize,
    pub height: usize,
    pub y: Vec<u8>,
    pub u: Vec<u8>,
    pub v: Vec<u8>,
}

/// A read-only view of a luma plane with any stride (a decoder's output, or an [`I420`]).
#[derive(Debug, Clone, Copy)]
pub struct LumaRef<'a> {
    pub data: &'a [u8],
    pub width: usize,
    pub height: usize,
    pub stride: usize,
}

impl LumaRef<'_> {
    /// The luma at (x, y), clamped to the plane.
    pub fn at(&self, x: usize, y: usize) -> u8 {
        let x = x.min(self.width.saturating_sub(1));
        let y = y.min(self.height.saturating_sub(1));
        self.data[y * self.stride + x]
    }

    /// The mean luma of the rectangle [x0, x1) × [y0, y1), clamped to the plane.
    pub fn mean(&self, x0: usize, y0: usize, x1: usize, y1: usize) -> u8 {
        let (x1, y1) = (x1.min(self.width), y1.min(self.height));
        if x0 >= x1 || y0 >= y1 {
            return self.at(x0, y0);
        }
        let mut sum = 0u64;
        for row in y0..y1 {
            sum += self.data[row * self.stride + x0..row * self.stride + x1]
                .iter()
                .map(|&v| v as u64)
                .sum::<u64>();
        }
        (sum / ((x1 - x0) * (y1 - y0)) as u64) as u8
    }
}

impl I420 {
    /// A black frame; odd dimensions are rounded down to even.
    pub fn new(width: usize, height: usize) -> I420 {
        let (width, height) = (width & !1, height & !1);
        I420 {
            width,
            height,
            y: vec![16; width * height],
            u: vec![128; width * height / 4],
            v: vec![128; width * height / 4],
        }
    }

    pub fn luma(&self) -> LumaRef<'_> {
        LumaRef {
            data: &self.y,
            width: self.width,
            height: self.height,
            stride: self.width,
        }
    }

    /// Fills the whole frame.
    pub fn clear(&mut self, c: Yuv) {
        self.y.fill(c.y);
        self.u.fill(c.u);
        self.v.fill(c.v);
    }

    /// Fills [x0, x1) × [y0, y1), clipped to the frame. Chroma covers every 2×2 block the
    /// rectangle touches.
    pub fn fill_rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, c: Yuv) {
        let (w, h) = (self.width as i64, self.height as i64);
        let (x0, y0, x1, y1) = (x0.max(0), y0.max(0), x1.min(w), y1.min(h));
        if x0 >= x1 || y0 >= y1 {
            return;
        }
        let (x0, y0, x1, y1) = (x0 as usize, y0 as usize, x1 as usize, y1 as usize);
        for row in y0..y1 {
            self.y[row * self.width + x0..row * self.width + x1].fill(c.y);
        }
        let cw = self.width / 2;
        let (cx0, cy0, cx1, cy1) = (x0 / 2, y0 / 2, x1.div_ceil(2), y1.div_ceil(2));
        for row in cy0..cy1 {
            self.u[row * cw + cx0..row * cw + cx1].fill(c.u);
            self.v[row * cw + cx0..row * cw + cx1].fill(c.v);
        }
    }

    /// Fills a disc of radius `r` centred on (cx, cy), one horizontal span per row.
    pub fn fill_disc(&mut self, cx: i64, cy: i64, r: i64, c: Yuv) {
        for dy in -r..=r {
            let half = (((r * r - dy * dy) as f64).sqrt()) as i64;
            let y = cy + dy;
            self.fill_rect(cx - half, y, cx + half + 1, y + 1, c);
        }
    }

    /// Draws a non-negative number with 7-segment digits, `digit_h` tall, starting at (x, y).
    pub fn draw_number(
        &mut self,
        x: i64,
        y: i64,
        digit_h: i64,
        value: u64,
        min_digits: usize,
        c: Yuv,
    ) {
        let s = format!("{value:0min_digits$}");
        let dw = digit_h / 2;
        let gap = (digit_h / 6).max(2);
        for (i, ch) in s.bytes().enumerate() {
            let dx = x + i as i64 * (dw + gap);
            self.draw_digit(dx, y, dw, digit_h, ch - b'0', c);
        }
    }

    /// One 7-segment digit in a `w`×`h` cell.
    fn draw_digit(&mut self, x: i64, y: i64, w: i64, h: i64, d: u8, c: Yuv) {
        // Segments a..g as bits 0..6: a top, b top-right, c bottom-right, d bottom,
        // e bottom-left, f top-left, g middle.
        const SEGMENTS: [u8; 10] = [
            0b011_1111, 0b000_0110, 0b101_1011, 0b100_1111, 0b110_0110, 0b110_1101, 0b111_1101,
            0b000_0111, 0b111_1111, 0b110_1111,
        ];
        let t = (h / 8).max(2);
        let mid = y + h / 2 - t / 2;
        let s = SEGMENTS[d as usize % 10];
        let seg = |i: u32| s & (1 << i) != 0;
        if seg(0) {
            self.fill_rect(x, y, x + w, y + t, c);
        }
        if seg(1) {
            self.fill_rect(x + w - t, y, x + w, y + h / 2, c);
        }
        if seg(2) {
            self.fill_rect(x + w - t, y + h / 2, x + w, y + h, c);
        }
        if seg(3) {
            self.fill_rect(x, y + h - t, x + w, y + h, c);
        }
        if seg(4) {
            self.fill_rect(x, y + h / 2, x + t, y + h, c);
        }
        if seg(5) {
            self.fill_rect(x, y, x + t, y + h / 2, c);
        }
        if seg(6) {
            self.fill_rect(x, mid, x + w, mid + t, c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rect_and_disc_are_clipped() {
        let mut f = I420::new(64, 32);
        f.fill_rect(-10, -10, 8, 8, Yuv::WHITE);
        assert_eq!(f.luma().at(0, 0), 235);
        assert_eq!(f.luma().at(8, 8), 16);
        f.fill_disc(60, 30, 10, Yuv::WHITE);
        assert_eq!(f.luma().at(60, 30), 235);
        assert_eq!(f.luma().mean(0, 0, 8, 8), 235);
    }

    #[test]
    fn primary_colours() {
        assert_eq!(Yuv::from_rgb(0, 0, 0), Yuv::BLACK);
        assert_eq!(Yuv::from_rgb(255, 255, 255).y, 235);
        let red = Yuv::from_hsv(0.0, 1.0, 1.0);
        assert!(red.v > 200 && red.u < 128);
    }
}
