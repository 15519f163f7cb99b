//! The building blocks shared by Android's two binary resource formats (`axml` and `arsc`):
//! bounds-checked little-endian reads, `ResChunk_header` framing, `ResStringPool` (UTF-8 and
//! UTF-16) and typed `Res_value`s.
//!
//! Layouts follow AOSP `frameworks/base/libs/androidfw/include/androidfw/ResourceTypes.h`.
//! Every read checks its bounds and returns a [`DecodeError`] carrying the absolute byte offset;
//! nothing here panics on any input, and no allocation is larger than the input it describes.

use std::ops::Range;

use crate::error::DecodeError;

/// `RES_STRING_POOL_TYPE`.
pub(crate) const STRING_POOL_TYPE: u16 = 0x0001;
/// `ResStringPool_header::UTF8_FLAG`.
const UTF8_FLAG: u32 = 1 << 8;
/// A string-pool reference meaning "no string".
pub(crate) const NO_STRING: u32 = 0xffff_ffff;

/// `Res_value::dataType` values this crate interprets.
pub(crate) mod data_type {
    pub const NULL: u8 = 0x00;
    pub const REFERENCE: u8 = 0x01;
    pub const STRING: u8 = 0x03;
    pub const DYNAMIC_REFERENCE: u8 = 0x07;
    pub const INT_DEC: u8 = 0x10;
    pub const INT_HEX: u8 = 0x11;
    pub const INT_BOOLEAN: u8 = 0x12;
}

/// A byte slice that knows its absolute offset in the file, so errors can point at the byte.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bytes<'a> {
    pub data: &'a [u8],
    /// Absolute offset of `data[0]` in the decoded file.
    pub base: usize,
}

impl<'a> Bytes<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Bytes { data, base: 0 }
    }

    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }

    pub(crate) fn err(&self, at: usize, what: impl Into<String>) -> DecodeError {
        DecodeError::new(self.base.saturating_add(at), what)
    }

    /// The sub-slice `range`, or an error naming `what` if it does not fit.
    pub(crate) fn slice(&self, range: Range<usize>, what: &str) -> Result<Bytes<'a>, DecodeError> {
        if range.start > range.end || range.end > self.data.len() {
            return Err(self.err(
                range.start,
                format!(
                    "{what} (bytes {}..{}) runs past the end of its container ({} bytes)",
                    range.start,
                    range.end,
                    self.data.len()
                ),
            ));
        }
        Ok(Bytes {
            data: &self.data[range.clone()],
            base: self.base + range.start,
        })
    }

    pub(crate) fn u8(&self, at: usize, what: &str) -> Result<u8, DecodeError> {
        self.data
            .get(at)
            .copied()
            .ok_or_else(|| self.err(at, format!("{what} is past the end of the data")))
    }

    pub(crate) fn u16(&self, at: usize, what: &str) -> Result<u16, DecodeError> {
        let end = at.checked_add(2);
        match end.and_then(|end| self.data.get(at..end)) {
            Some(b) => Ok(u16::from_le_bytes([b[0], b[1]])),
            None => Err(self.err(at, format!("{what} is past the end of the data"))),
        }
    }

    pub(crate) fn u32(&self, at: usize, what: &str) -> Result<u32, DecodeError> {
        let end = at.checked_add(4);
        match end.and_then(|end| self.data.get(at..end)) {
            Some(b) => Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            None => Err(self.err(at, format!("{what} is past the end of the data"))),
        }
    }
}

/// One `ResChunk_header`-framed chunk.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Chunk<'a> {
    pub typ: u16,
    pub header_size: usize,
    /// The whole chunk, header included.
    pub bytes: Bytes<'a>,
}

impl<'a> Chunk<'a> {
    /// Reads the chunk starting at `at` in `within`; it must lie entirely inside `within`.
    pub(crate) fn at(within: Bytes<'a>, at: usize) -> Result<Chunk<'a>, DecodeError> {
        let typ = within.u16(at, "chunk type")?;
        let header_size = usize::from(within.u16(at + 2, "chunk header size")?);
        let size = within.u32(at + 4, "chunk size")? as usize;
        if header_size < 8 {
            return Err(within.err(
                at,
                format!("chunk of type {typ:#06x} has a header size of {header_size}, below 8"),
            ));
        }
        if size < header_size {
            return Err(within.err(
                at,
                format!(
                    "chunk of type {typ:#06x} is {size} bytes, smaller than its {header_size}-byte \
                     header"
                ),
            ));
        }
        if !size.is_multiple_of(4) {
            return Err(within.err(
                at,
                format!("chunk of type {typ:#06x} has size {size}, not a multiple of 4"),
            ));
        }
        let end = at
            .checked_add(size)
            .ok_or_else(|| within.err(at, "chunk size overflows"))?;
        let bytes = within.slice(at..end, &format!("chunk of type {typ:#06x}"))?;
        Ok(Chunk {
            typ,
            header_size,
            bytes,
        })
    }

    /// The child chunks that follow this chunk's header.
    pub(crate) fn children(&self) -> Children<'a> {
        Children {
            within: self.bytes,
            pos: self.header_size,
        }
    }
}

/// Iterator over consecutive chunks; stops after the first error.
pub(crate) struct Children<'a> {
    within: Bytes<'a>,
    pos: usize,
}

impl<'a> Iterator for Children<'a> {
    type Item = Result<Chunk<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.within.len() {
            return None;
        }
        match Chunk::at(self.within, self.pos) {
            Ok(c) => {
                self.pos += c.bytes.len();
                Some(Ok(c))
            }
            Err(e) => {
                self.pos = self.within.len();
                Some(Err(e))
            }
        }
    }
}

/// A decoded `ResStringPool` chunk. Strings are decoded on demand by [`StringPool::get`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct StringPool<'a> {
    count: u32,
    utf8: bool,
    offsets: Bytes<'a>,
    strings: Bytes<'a>,
}

impl<'a> StringPool<'a> {
    pub(crate) fn parse(chunk: Chunk<'a>) -> Result<StringPool<'a>, DecodeError> {
        let b = chunk.bytes;
        if chunk.typ != STRING_POOL_TYPE {
            return Err(b.err(
                0,
                format!(
                    "expected a string pool, found chunk type {:#06x}",
                    chunk.typ
                ),
            ));
        }
        if chunk.header_size < 28 {
            return Err(b.err(
                0,
                format!(
                    "string pool header is {} bytes, below 28",
                    chunk.header_size
                ),
            ));
        }
        let count = b.u32(8, "string count")?;
        let style_count = b.u32(12, "style count")?;
        let flags = b.u32(16, "string pool flags")?;
        let strings_start = b.u32(20, "strings start")? as usize;
        let styles_start = b.u32(24, "styles start")? as usize;
        let size = b.len();

        let offsets_len = (count as usize)
            .checked_mul(4)
            .filter(|&n| n <= size)
            .ok_or_else(|| {
                b.err(
                    8,
                    format!("string count {count} cannot fit in a {size}-byte pool"),
                )
            })?;
        let offsets = b.slice(
            chunk.header_size..chunk.header_size + offsets_len,
            &format!("the {count} string offsets"),
        )?;
        let style_offsets_len = (style_count as usize)
            .checked_mul(4)
            .filter(|&n| n <= size)
            .ok_or_else(|| {
                b.err(
                    12,
                    format!("style count {style_count} cannot fit in a {size}-byte pool"),
                )
            })?;
        let styles_at = chunk.header_size + offsets_len;
        b.slice(
            styles_at..styles_at + style_offsets_len,
            &format!("the {style_count} style offsets"),
        )?;

        let strings = if count == 0 {
            b.slice(size..size, "empty strings area")?
        } else {
            let end = if style_count > 0 && styles_start != 0 {
                styles_start
            } else {
                size
            };
            if strings_start < chunk.header_size + offsets_len + style_offsets_len {
                return Err(b.err(
                    20,
                    format!("strings start at {strings_start}, inside the string pool's header or offsets"),
                ));
            }
            b.slice(strings_start..end, "the strings area")?
        };
        Ok(StringPool {
            count,
            utf8: flags & UTF8_FLAG != 0,
            offsets,
            strings,
        })
    }

    /// Number of strings in the pool.
    #[cfg(test)]
    pub(crate) fn len(&self) -> u32 {
        self.count
    }

    /// Errors unless `index` names a string in this pool.
    pub(crate) fn check_index(&self, index: u32, what: &str) -> Result<(), DecodeError> {
        if index < self.count {
            Ok(())
        } else {
            Err(self.offsets.err(
                0,
                format!(
                    "{what} refers to string #{index}, but the string pool has {} strings",
                    self.count
                ),
            ))
        }
    }

    /// Whether string `index` is exactly `s`. Compares lengths first and never allocates, so it
    /// is cheap even for huge strings; false for invalid indices or malformed entries.
    pub(crate) fn equals(&self, index: u32, s: &str) -> bool {
        self.raw(index).is_ok_and(|(text, utf8)| {
            if utf8 {
                text == s.as_bytes()
            } else {
                text.len() == s.encode_utf16().count() * 2
                    && text
                        .chunks_exact(2)
                        .map(|c| u16::from_le_bytes([c[0], c[1]]))
                        .eq(s.encode_utf16())
            }
        })
    }

    /// Decodes string `index`. Invalid UTF-8/UTF-16 sequences become U+FFFD; lengths and
    /// terminators are checked strictly.
    pub(crate) fn get(&self, index: u32) -> Result<String, DecodeError> {
        let (text, utf8) = self.raw(index)?;
        if utf8 {
            Ok(String::from_utf8_lossy(text).into_owned())
        } else {
            let utf16: Vec<u16> = text
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            Ok(String::from_utf16_lossy(&utf16))
        }
    }

    /// The encoded bytes of string `index` (without length prefix or terminator), and whether
    /// they are UTF-8 (else UTF-16LE). Checks the index, offsets, lengths and terminator.
    fn raw(&self, index: u32) -> Result<(&'a [u8], bool), DecodeError> {
        self.check_index(index, "a reference")?;
        let offset = self.offsets.u32(index as usize * 4, "string offset")? as usize;
        let s = self.strings;
        if offset >= s.len() {
            return Err(s.err(
                0,
                format!(
                    "string #{index} starts at offset {offset}, outside the {}-byte strings area",
                    s.len()
                ),
            ));
        }
        let (start, len, nul) = if self.utf8 {
            // Two lengths, each 1 or 2 bytes: UTF-16 units (unused here), then UTF-8 bytes.
            let (_, n1) = utf8_len(&s, offset)?;
            let (byte_len, n2) = utf8_len(&s, offset + n1)?;
            let start = offset + n1 + n2;
            let nul = s.u8(start + byte_len, "string terminator").map(u16::from);
            (start, byte_len, nul)
        } else {
            let first = s.u16(offset, "string length")?;
            let (units, header) = if first & 0x8000 != 0 {
                let second = s.u16(offset + 2, "string length")?;
                ((usize::from(first & 0x7fff) << 16) | usize::from(second), 4)
            } else {
                (usize::from(first), 2)
            };
            // Checked: on 32-bit targets 2 * 0x7fff_ffff units would overflow.
            let Some(bytes) = units.checked_mul(2).filter(|&b| b <= s.len()) else {
                return Err(s.err(
                    offset,
                    format!("string #{index} claims {units} UTF-16 units"),
                ));
            };
            let start = offset + header;
            let nul = s.u16(start + bytes, "string terminator");
            (start, bytes, nul)
        };
        let text = s.slice(start..start + len, &format!("string #{index}"))?;
        if nul? != 0 {
            return Err(s.err(
                start + len,
                format!("string #{index} is not NUL-terminated"),
            ));
        }
        Ok((text.data, self.utf8))
    }
}

/// A UTF-8 pool length: one byte, or two if the high bit is set. Returns (length, bytes used).
fn utf8_len(s: &Bytes<'_>, at: usize) -> Result<(usize, usize), DecodeError> {
    let first = s.u8(at, "string length")?;
    if first & 0x80 != 0 {
        let second = s.u8(at + 1, "string length")?;
        Ok(((usize::from(first & 0x7f) << 8) | usize::from(second), 2))
    } else {
        Ok((usize::from(first), 1))
    }
}

/// A typed `Res_value`: its data type and 32 bits of data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Value {
    pub data_type: u8,
    pub data: u32,
}

impl Value {
    /// Reads the 8-byte `Res_value` at `at`.
    pub(crate) fn at(b: &Bytes<'_>, at: usize) -> Result<Value, DecodeError> {
        let size = b.u16(at, "value size")?;
        if size < 8 {
            return Err(b.err(at, format!("typed value has size {size}, below 8")));
        }
        Ok(Value {
            data_type: b.u8(at + 3, "value type")?,
            data: b.u32(at + 4, "value data")?,
        })
    }

    /// The resource id this value points at, if it is a (dynamic) reference.
    pub(crate) fn reference(&self) -> Option<u32> {
        matches!(
            self.data_type,
            data_type::REFERENCE | data_type::DYNAMIC_REFERENCE
        )
        .then_some(self.data)
        .filter(|&id| id != 0)
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Builders for hand-made chunks, shared by the unit tests of `chunk`, `axml` and `arsc`.

    pub fn chunk(typ: u16, header: &[u8], body: &[u8]) -> Vec<u8> {
        let header_size = 8 + header.len();
        let size = header_size + body.len();
        assert_eq!(size % 4, 0, "test chunks must be 4-byte aligned");
        let mut out = Vec::new();
        out.extend_from_slice(&typ.to_le_bytes());
        out.extend_from_slice(&(header_size as u16).to_le_bytes());
        out.extend_from_slice(&(size as u32).to_le_bytes());
        out.extend_from_slice(header);
        out.extend_from_slice(body);
        out
    }

    /// A string pool chunk holding `strings`, UTF-8 or UTF-16 encoded.
    pub fn string_pool(strings: &[&str], utf8: bool) -> Vec<u8> {
        let mut data = Vec::new();
        let mut offsets = Vec::new();
        for s in strings {
            offsets.extend_from_slice(&(data.len() as u32).to_le_bytes());
            if utf8 {
                let units = s.encode_utf16().count();
                push_len8(&mut data, units);
                push_len8(&mut data, s.len());
                data.extend_from_slice(s.as_bytes());
                data.push(0);
            } else {
                let units: Vec<u16> = s.encode_utf16().collect();
                if units.len() > 0x7fff {
                    data.extend_from_slice(&((units.len() >> 16) as u16 | 0x8000).to_le_bytes());
                    data.extend_from_slice(&(units.len() as u16).to_le_bytes());
                } else {
                    data.extend_from_slice(&(units.len() as u16).to_le_bytes());
                }
                for u in units {
                    data.extend_from_slice(&u.to_le_bytes());
                }
                data.extend_from_slice(&[0, 0]);
            }
        }
        while data.len() % 4 != 0 {
            data.push(0);
        }
        let strings_start = 28 + offsets.len();
        let mut header = Vec::new();
        header.extend_from_slice(&(strings.len() as u32).to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes());
        header.extend_from_slice(&(if utf8 { 0x100u32 } else { 0 }).to_le_bytes());
        header.extend_from_slice(&(strings_start as u32).to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes());
        let mut body = offsets;
        body.extend_from_slice(&data);
        chunk(super::STRING_POOL_TYPE, &header, &body)
    }

    fn push_len8(out: &mut Vec<u8>, n: usize) {
        if n > 0x7f {
            out.push(((n >> 8) as u8) | 0x80);
            out.push(n as u8);
        } else {
            out.push(n as u8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    fn pool(bytes: &[u8]) -> Result<StringPool<'_>, DecodeError> {
        StringPool::parse(Chunk::at(Bytes::new(bytes), 0)?)
    }

    #[test]
    fn utf8_and_utf16_pools_decode_the_same_strings() {
        let long = "x".repeat(300); // needs the two-byte length form
        let strings = ["", "manifest", "无尽跑酷", "Läufer 🎮", long.as_str()];
        for utf8 in [true, false] {
            let bytes = string_pool(&strings, utf8);
            let p = pool(&bytes).unwrap();
            assert_eq!(p.len(), strings.len() as u32);
            for (i, s) in strings.iter().enumerate() {
                assert_eq!(p.get(i as u32).unwrap(), *s, "utf8={utf8} #{i}");
            }
            let err = p.get(strings.len() as u32).unwrap_err();
            assert!(err.what.contains("has 5 strings"), "{err}");
        }
    }

    #[test]
    fn string_running_past_the_pool_is_an_error() {
        let mut bytes = string_pool(&["hello"], true);
        // The UTF-8 byte length of "hello" sits right after the UTF-16 length.
        let len_at = 28 + 4 + 1;
        bytes[len_at] = 0x7f;
        let p = pool(&bytes).unwrap();
        let err = p.get(0).unwrap_err();
        assert!(err.what.contains("runs past the end"), "{err}");
    }

    #[test]
    fn missing_terminator_is_an_error() {
        let mut bytes = string_pool(&["abc"], false);
        let nul_at = 28 + 4 + 2 + 6;
        bytes[nul_at] = b'!';
        let err = pool(&bytes).unwrap().get(0).unwrap_err();
        assert!(err.what.contains("not NUL-terminated"), "{err}");
    }

    #[test]
    fn huge_counts_are_rejected_without_allocating() {
        let mut bytes = string_pool(&["a", "b"], true);
        bytes[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(pool(&bytes).is_err());
        let mut bytes = string_pool(&["a"], true);
        bytes[12..16].copy_from_slice(&0x4000_0000u32.to_le_bytes());
        assert!(pool(&bytes).is_err());
    }

    #[test]
    fn chunk_framing_is_checked() {
        let good = chunk(0x1234, &[0; 4], &[0; 8]);
        assert!(Chunk::at(Bytes::new(&good), 0).is_ok());
        let mut small_header = good.clone();
        small_header[2] = 4;
        assert!(Chunk::at(Bytes::new(&small_header), 0).is_err());
        let mut too_big = good.clone();
        too_big[4] = 24;
        assert!(Chunk::at(Bytes::new(&too_big), 0).is_err());
        let mut unaligned = good.clone();
        unaligned[4] = 18;
        assert!(Chunk::at(Bytes::new(&unaligned), 0).is_err());
        assert!(Chunk::at(Bytes::new(&good[..6]), 0).is_err());
        assert!(Chunk::at(Bytes::new(&good), usize::MAX - 1).is_err());
    }
}
