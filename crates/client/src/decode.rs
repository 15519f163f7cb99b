//! Decoding access units into pictures with openh264 (the PC client, the JVM tests, the
//! project's own tests and benchmarks). Android hosts decode with MediaCodec instead and never
//! build this module (the `openh264` feature).

use openh264::decoder::Decoder as Openh264;
use openh264::formats::YUVSource;

/// Why a picture could not be decoded.
#[derive(Debug, thiserror::Error)]
#[error("H.264 decoding failed: {0}")]
pub struct DecodeError(String);

/// A decoded picture: its size and planes, tightly packed (I420).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub width: usize,
    pub height: usize,
    /// `width × height` bytes.
    pub y: Vec<u8>,
    /// `⌈width/2⌉ × ⌈height/2⌉` bytes each.
    pub u: Vec<u8>,
    pub v: Vec<u8>,
}

impl Picture {
    /// Writes the picture as 0RGB words (a window's software buffer), BT.601 limited range.
    pub fn write_rgb32(&self, out: &mut Vec<u32>) {
        out.clear();
        out.reserve(self.width * self.height);
        let cw = self.width.div_ceil(2);
        for row in 0..self.height {
            for col in 0..self.width {
                let y = i32::from(self.y[row * self.width + col]) - 16;
                let c = (row / 2) * cw + col / 2;
                let u = i32::from(self.u[c]) - 128;
                let v = i32::from(self.v[c]) - 128;
                let r = (298 * y + 409 * v + 128) >> 8;
                let g = (298 * y - 100 * u - 208 * v + 128) >> 8;
                let b = (298 * y + 516 * u + 128) >> 8;
                let [r, g, b] = [r, g, b].map(|x| x.clamp(0, 255) as u32);
                out.push((r << 16) | (g << 8) | b);
            }
        }
    }
}

/// An openh264 decoder.
pub struct Decoder {
    inner: Openh264,
}

impl Decoder {
    pub fn new() -> Result<Decoder, DecodeError> {
        Ok(Decoder {
            inner: Openh264::new().map_err(|e| DecodeError(e.to_string()))?,
        })
    }

    /// Decodes one Annex-B access unit: the picture it completes, if any.
    pub fn decode(&mut self, access_unit: &[u8]) -> Result<Option<Picture>, DecodeError> {
        let Some(yuv) = self
            .inner
            .decode(access_unit)
            .map_err(|e| DecodeError(e.to_string()))?
        else {
            return Ok(None);
        };
        let (width, height) = yuv.dimensions();
        let (sy, su, sv) = yuv.strides();
        let plane = |data: &[u8], stride: usize, w: usize, h: usize| {
            let mut out = Vec::with_capacity(w * h);
            for row in 0..h {
                out.extend_from_slice(&data[row * stride..row * stride + w]);
            }
            out
        };
        let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
        Ok(Some(Picture {
            width,
            height,
            y: plane(yuv.y(), sy, width, height),
            u: plane(yuv.u(), su, cw, ch),
            v: plane(yuv.v(), sv, cw, ch),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_or_nothing_never_a_picture() {
        let mut d = Decoder::new().unwrap();
        for bad in [
            &b""[..],
            b"\x00\x00\x00\x01",
            b"\x00\x00\x00\x01\x67\xff\xff\xff",
            &[0xffu8; 64],
        ] {
            assert!(!matches!(d.decode(bad), Ok(Some(_))), "{bad:?}");
        }
    }

    #[test]
    fn rgb_conversion_maps_black_white_and_red() {
        let p = Picture {
            width: 3,
            height: 1,
            y: vec![16, 235, 81],
            u: vec![128, 90],
            v: vec![128, 240],
        };
        let mut out = Vec::new();
        p.write_rgb32(&mut out);
        assert_eq!(out[0], 0x000000);
        assert_eq!(out[1], 0xffffff);
        let red = out[2];
        assert!(
            red >> 16 > 0xf0 && (red >> 8) & 0xff < 0x10 && red & 0xff < 0x10,
            "{red:06x}"
        );
    }
}
