//! A compact QR code encoder (byte mode, error correction level M, versions 1–40, automatic
//! mask choice) drawing inline SVG, so try-play links get a scannable code with no dependency
//! and no script. Follows ISO/IEC 18004 the way Project Nayuki's reference implementation lays
//! it out.

use crate::html::{Html, attr};

/// Error-correction codewords per block at level M, by version (index 0 unused).
const ECC_PER_BLOCK: [usize; 41] = [
    0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28,
    28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
];
/// Error-correction blocks at level M, by version.
const BLOCKS: [usize; 41] = [
    0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23,
    25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
];
/// Level M's two format bits.
const ECL_M_BITS: u32 = 0;

/// A QR symbol: `size`×`size` modules, `true` = dark.
pub struct Qr {
    pub size: usize,
    modules: Vec<bool>,
    function: Vec<bool>,
}

fn raw_data_modules(ver: usize) -> usize {
    let mut r = (16 * ver + 128) * ver + 64;
    if ver >= 2 {
        let align = ver / 7 + 2;
        r -= (25 * align - 10) * align - 55;
        if ver >= 7 {
            r -= 36;
        }
    }
    r
}

fn data_codewords(ver: usize) -> usize {
    raw_data_modules(ver) / 8 - ECC_PER_BLOCK[ver] * BLOCKS[ver]
}

fn gf_mul(x: u8, y: u8) -> u8 {
    let mut z: u32 = 0;
    for i in (0..8).rev() {
        z = (z << 1) ^ ((z >> 7) * 0x11D);
        z ^= ((u32::from(y) >> i) & 1) * u32::from(x);
    }
    z as u8
}

fn rs_divisor(degree: usize) -> Vec<u8> {
    let mut result = vec![0u8; degree];
    result[degree - 1] = 1;
    let mut root = 1u8;
    for _ in 0..degree {
        for j in 0..degree {
            result[j] = gf_mul(result[j], root);
            if j + 1 < degree {
                result[j] ^= result[j + 1];
            }
        }
        root = gf_mul(root, 0x02);
    }
    result
}

/// The Reed–Solomon error-correction codewords of `data`.
pub fn rs_remainder(data: &[u8], degree: usize) -> Vec<u8> {
    let divisor = rs_divisor(degree);
    let mut result = vec![0u8; degree];
    for &b in data {
        let factor = b ^ result[0];
        result.remove(0);
        result.push(0);
        for (r, &c) in result.iter_mut().zip(&divisor) {
            *r ^= gf_mul(c, factor);
        }
    }
    result
}

fn alignment_positions(ver: usize) -> Vec<usize> {
    if ver == 1 {
        return Vec::new();
    }
    let size = ver * 4 + 17;
    let n = ver / 7 + 2;
    let step = if ver == 32 {
        26
    } else {
        (ver * 4 + n * 2 + 1) / (n * 2 - 2) * 2
    };
    let mut result = vec![0usize; n];
    result[0] = 6;
    let mut pos = size - 7;
    for i in (1..n).rev() {
        result[i] = pos;
        pos = pos.saturating_sub(step);
    }
    result
}

impl Qr {
    /// Encodes `text` as bytes; `None` if it does not fit in version 40.
    pub fn encode(text: &str) -> Option<Qr> {
        let bytes = text.as_bytes();
        let ver = (1..=40).find(|&v| {
            let count_bits = if v <= 9 { 8 } else { 16 };
            4 + count_bits + bytes.len() * 8 <= data_codewords(v) * 8
                && bytes.len() < (1 << count_bits)
        })?;
        let capacity = data_codewords(ver) * 8;
        let mut bits: Vec<bool> = Vec::with_capacity(capacity);
        let push = |value: u32, n: usize, bits: &mut Vec<bool>| {
            for i in (0..n).rev() {
                bits.push((value >> i) & 1 == 1);
            }
        };
        push(0b0100, 4, &mut bits);
        push(bytes.len() as u32, if ver <= 9 { 8 } else { 16 }, &mut bits);
        for &b in bytes {
            push(u32::from(b), 8, &mut bits);
        }
        let term = (capacity - bits.len()).min(4);
        push(0, term, &mut bits);
        let pad = (8 - bits.len() % 8) % 8;
        push(0, pad, &mut bits);
        let mut data: Vec<u8> = bits
            .chunks(8)
            .map(|c| c.iter().fold(0u8, |acc, &b| (acc << 1) | u8::from(b)))
            .collect();
        let mut pad_byte = 0xECu8;
        while data.len() < data_codewords(ver) {
            data.push(pad_byte);
            pad_byte ^= 0xEC ^ 0x11;
        }
        let codewords = Self::interleave(ver, &data);
        let size = ver * 4 + 17;
        let mut qr = Qr {
            size,
            modules: vec![false; size * size],
            function: vec![false; size * size],
        };
        qr.draw_function_patterns(ver);
        qr.draw_codewords(&codewords);
        let mut best: Option<(u32, u8)> = None;
        for mask in 0..8u8 {
            qr.apply_mask(mask);
            qr.draw_format_bits(mask);
            let p = qr.penalty();
            if best.is_none_or(|(bp, _)| p < bp) {
                best = Some((p, mask));
            }
            qr.apply_mask(mask); // undo (XOR)
        }
        let mask = best.map(|(_, m)| m).unwrap_or(0);
        qr.apply_mask(mask);
        qr.draw_format_bits(mask);
        Some(qr)
    }

    fn interleave(ver: usize, data: &[u8]) -> Vec<u8> {
        let nblocks = BLOCKS[ver];
        let ecc_len = ECC_PER_BLOCK[ver];
        let raw = raw_data_modules(ver) / 8;
        let short = nblocks - raw % nblocks;
        let short_len = raw / nblocks;
        let mut blocks: Vec<Vec<u8>> = Vec::with_capacity(nblocks);
        let mut k = 0;
        for i in 0..nblocks {
            let len = short_len - ecc_len + usize::from(i >= short);
            let dat = &data[k..k + len];
            k += len;
            let ecc = rs_remainder(dat, ecc_len);
            let mut b = dat.to_vec();
            if i < short {
                b.push(0);
            }
            b.extend(ecc);
            blocks.push(b);
        }
        let mut out = Vec::with_capacity(raw);
        for i in 0..blocks[0].len() {
            for (j, b) in blocks.iter().enumerate() {
                if i != short_len - ecc_len || j >= short {
                    out.push(b[i]);
                }
            }
        }
        out
    }

    pub fn get(&self, x: usize, y: usize) -> bool {
        self.modules[y * self.size + x]
    }

    fn set_function(&mut self, x: usize, y: usize, dark: bool) {
        self.modules[y * self.size + x] = dark;
        self.function[y * self.size + x] = true;
    }

    fn draw_function_patterns(&mut self, ver: usize) {
        let size = self.size;
        for i in 0..size {
            self.set_function(6, i, i % 2 == 0);
            self.set_function(i, 6, i % 2 == 0);
        }
        for (cx, cy) in [(3, 3), (size - 4, 3), (3, size - 4)] {
            for dy in -4i32..=4 {
                for dx in -4i32..=4 {
                    let (x, y) = (cx as i32 + dx, cy as i32 + dy);
                    if x >= 0 && y >= 0 && (x as usize) < size && (y as usize) < size {
                        let d = dx.abs().max(dy.abs());
                        self.set_function(x as usize, y as usize, d != 2 && d != 4);
                    }
                }
            }
        }
        let pos = alignment_positions(ver);
        let n = pos.len();
        for i in 0..n {
            for j in 0..n {
                let corner = (i == 0 && (j == 0 || j == n - 1)) || (i == n - 1 && j == 0);
                if corner {
                    continue;
                }
                for dy in -2i32..=2 {
                    for dx in -2i32..=2 {
                        let x = (pos[i] as i32 + dx) as usize;
                        let y = (pos[j] as i32 + dy) as usize;
                        self.set_function(x, y, dx.abs().max(dy.abs()) != 1);
                    }
                }
            }
        }
        self.draw_format_bits(0); // reserve
        if ver >= 7 {
            let mut rem = ver as u32;
            for _ in 0..12 {
                rem = (rem << 1) ^ ((rem >> 11) * 0x1F25);
            }
            let bits = (ver as u32) << 12 | rem;
            for i in 0..18 {
                let bit = (bits >> i) & 1 == 1;
                let a = size - 11 + i % 3;
                let b = i / 3;
                self.set_function(a, b, bit);
                self.set_function(b, a, bit);
            }
        }
    }

    fn draw_format_bits(&mut self, mask: u8) {
        let data = ECL_M_BITS << 3 | u32::from(mask);
        let mut rem = data;
        for _ in 0..10 {
            rem = (rem << 1) ^ ((rem >> 9) * 0x537);
        }
        let bits = (data << 10 | rem) ^ 0x5412;
        let bit = |i: usize| (bits >> i) & 1 == 1;
        let size = self.size;
        for i in 0..=5 {
            self.set_function(8, i, bit(i));
        }
        self.set_function(8, 7, bit(6));
        self.set_function(8, 8, bit(7));
        self.set_function(7, 8, bit(8));
        for i in 9..15 {
            self.set_function(14 - i, 8, bit(i));
        }
        for i in 0..8 {
            self.set_function(size - 1 - i, 8, bit(i));
        }
        for i in 8..15 {
            self.set_function(8, size - 15 + i, bit(i));
        }
        self.set_function(8, size - 8, true);
    }

    fn draw_codewords(&mut self, data: &[u8]) {
        let size = self.size;
        let mut i = 0usize;
        let mut right = size as i32 - 1;
        while right >= 1 {
            if right == 6 {
                right = 5;
            }
            for vert in 0..size {
                for j in 0..2 {
                    let x = (right - j) as usize;
                    let upward = (right + 1) & 2 == 0;
                    let y = if upward { size - 1 - vert } else { vert };
                    if !self.function[y * size + x] && i < data.len() * 8 {
                        self.modules[y * size + x] = (data[i >> 3] >> (7 - (i & 7))) & 1 == 1;
                        i += 1;
                    }
                }
            }
            right -= 2;
        }
    }

    fn apply_mask(&mut self, mask: u8) {
        let size = self.size;
        for y in 0..size {
            for x in 0..size {
                let invert = match mask {
                    0 => (x + y) % 2 == 0,
                    1 => y % 2 == 0,
                    2 => x % 3 == 0,
                    3 => (x + y) % 3 == 0,
                    4 => (x / 3 + y / 2) % 2 == 0,
                    5 => x * y % 2 + x * y % 3 == 0,
                    6 => (x * y % 2 + x * y % 3) % 2 == 0,
                    _ => ((x + y) % 2 + x * y % 3) % 2 == 0,
                };
                if invert && !self.function[y * size + x] {
                    self.modules[y * size + x] ^= true;
                }
            }
        }
    }

    /// The standard's penalty score (runs, 2×2 blocks, finder-like patterns, balance).
    fn penalty(&self) -> u32 {
        let n = self.size;
        let mut p = 0u32;
        let line = |get: &dyn Fn(usize) -> bool, p: &mut u32| {
            let mut run = 1;
            for i in 1..n {
                if get(i) == get(i - 1) {
                    run += 1;
                    if run == 5 {
                        *p += 3;
                    } else if run > 5 {
                        *p += 1;
                    }
                } else {
                    run = 1;
                }
            }
            // finder-like 1:1:3:1:1 with four light modules on one side
            let pat = [true, false, true, true, true, false, true];
            for i in 0..n.saturating_sub(6) {
                if (0..7).all(|k| get(i + k) == pat[k]) {
                    let before = i >= 4 && (i - 4..i).all(|k| !get(k));
                    let after = i + 11 <= n && (i + 7..i + 11).all(|k| !get(k));
                    if before || after {
                        *p += 40;
                    }
                }
            }
        };
        for y in 0..n {
            line(&|x| self.get(x, y), &mut p);
        }
        for x in 0..n {
            line(&|y| self.get(x, y), &mut p);
        }
        for y in 0..n - 1 {
            for x in 0..n - 1 {
                let c = self.get(x, y);
                if c == self.get(x + 1, y) && c == self.get(x, y + 1) && c == self.get(x + 1, y + 1)
                {
                    p += 3;
                }
            }
        }
        let dark = self.modules.iter().filter(|&&d| d).count() as u32;
        let total = (n * n) as u32;
        let k = ((dark * 20).abs_diff(total * 10))
            .div_ceil(total)
            .saturating_sub(1);
        p + k * 10
    }
}

/// `text` as an inline SVG QR code with a 4-module quiet zone, or `None` if it is too long.
pub fn svg(text: &str, label: &str) -> Option<Html> {
    let qr = Qr::encode(text)?;
    let dim = qr.size + 8;
    let mut path = String::new();
    for y in 0..qr.size {
        for x in 0..qr.size {
            if qr.get(x, y) {
                path.push_str(&format!("M{} {}h1v1h-1z", x + 4, y + 4));
            }
        }
    }
    Some(Html::trusted(format!(
        "<svg class=\"qr-code\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {dim} {dim}\" width=\"{w}\" height=\"{w}\" shape-rendering=\"crispEdges\" data-testid=\"qr-code\"><rect width=\"{dim}\" height=\"{dim}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>",
        attr(label),
        w = dim * 4,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reed_solomon_matches_the_standard_example() {
        // "HELLO WORLD" at 1-M (ISO/IEC 18004 annex / the well-known tutorial example).
        let data = [
            32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17,
        ];
        assert_eq!(
            rs_remainder(&data, 10),
            vec![196, 35, 39, 119, 235, 215, 231, 226, 93, 23]
        );
    }

    #[test]
    fn capacities_match_the_tables() {
        // Data codewords at level M: version 1 → 16, 5 → 86, 10 → 216, 40 → 2334.
        assert_eq!(data_codewords(1), 16);
        assert_eq!(data_codewords(5), 86);
        assert_eq!(data_codewords(10), 216);
        assert_eq!(data_codewords(40), 2334);
        assert_eq!(alignment_positions(7), vec![6, 22, 38]);
        assert_eq!(alignment_positions(32), vec![6, 34, 60, 86, 112, 138]);
    }

    #[test]
    fn a_link_encodes_with_finders_and_timing() {
        let qr = Qr::encode("https://play.example.com/play/AbCdEf0123").unwrap();
        assert_eq!(qr.size, 29); // version 3: 41 bytes fit in 3-M (42)
        // finder corners are dark, separators light, timing alternates
        assert!(qr.get(0, 0) && qr.get(qr.size - 1, 0) && qr.get(0, qr.size - 1));
        assert!(!qr.get(7, 0));
        for i in 8..qr.size - 8 {
            assert_eq!(qr.get(i, 6), i % 2 == 0);
            assert_eq!(qr.get(6, i), i % 2 == 0);
        }
        assert!(qr.get(8, qr.size - 8), "dark module");
        assert!(Qr::encode(&"x".repeat(3000)).is_none());
        assert!(
            svg("hi", "<label>")
                .unwrap()
                .as_str()
                .contains("&lt;label&gt;")
        );
    }
}
