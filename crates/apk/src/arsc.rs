//! `resources.arsc`, the compiled resource table: just enough to resolve a resource id to its
//! values in every configuration.
//!
//! Owns the `RES_TABLE_TYPE` layout: the global value string pool, packages, and their
//! `RES_TABLE_TYPE_TYPE` chunks (one per type and configuration) with dense, sparse or 16-bit
//! entry offsets, simple and compact entries, and each chunk's `ResTable_config` (density,
//! locale). Bags (styles, arrays) are not values and are reported as absent.
//!
//! The table is scanned on demand rather than indexed: a lookup walks the package's chunks,
//! checking each one it touches, so memory stays proportional to the answer, not the table.
//! Choosing *which* value to use (default config for a label, highest density for an icon) is
//! left to the caller.

use crate::chunk::{Bytes, Chunk, STRING_POOL_TYPE, StringPool, Value};
use crate::error::DecodeError;

const TABLE_TYPE: u16 = 0x0002;
const TABLE_PACKAGE_TYPE: u16 = 0x0200;
const TABLE_TYPE_TYPE: u16 = 0x0201;
/// `ResTable_package` without the trailing `typeIdOffset`, the oldest accepted header.
const PACKAGE_HEADER_MIN: usize = 284;
/// `ResTable_type` up to (not including) its `config`.
const TYPE_HEADER_FIXED: usize = 20;
const NO_ENTRY: u32 = 0xffff_ffff;
const FLAG_SPARSE: u8 = 0x01;
const FLAG_OFFSET16: u8 = 0x02;
const ENTRY_FLAG_COMPLEX: u16 = 0x0001;
const ENTRY_FLAG_COMPACT: u16 = 0x0008;

/// `ResTable_config::density` values with special meaning.
pub(crate) const DENSITY_DEFAULT: u16 = 0;
pub(crate) const DENSITY_ANY: u16 = 0xfffe;
pub(crate) const DENSITY_NONE: u16 = 0xffff;

/// The configuration (qualifiers) a value applies to: the raw `ResTable_config` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Config<'a> {
    raw: &'a [u8],
}

impl Config<'_> {
    /// Screen density in dpi (`DENSITY_DEFAULT`, `_ANY`, `_NONE` are special).
    pub(crate) fn density(&self) -> u16 {
        match self.raw.get(14..16) {
            Some(b) => u16::from_le_bytes([b[0], b[1]]),
            None => DENSITY_DEFAULT,
        }
    }

    /// True when no qualifier is set: the `res/values/` configuration.
    pub(crate) fn is_default(&self) -> bool {
        self.raw.iter().skip(4).all(|&b| b == 0)
    }

    /// True when a language or region qualifier is set.
    pub(crate) fn has_locale(&self) -> bool {
        self.raw
            .get(8..12)
            .is_some_and(|l| l.iter().any(|&b| b != 0))
    }
}

/// A value of a resource in one configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConfigValue<'a> {
    pub config: Config<'a>,
    pub value: Value,
}

#[derive(Debug, Clone, Copy)]
struct Package<'a> {
    id: u32,
    chunk: Chunk<'a>,
}

/// A parsed resource table.
#[derive(Debug)]
pub(crate) struct ResourceTable<'a> {
    strings: StringPool<'a>,
    packages: Vec<Package<'a>>,
}

impl<'a> ResourceTable<'a> {
    /// Checks the table's framing and finds its string pool and packages.
    pub(crate) fn parse(data: &'a [u8]) -> Result<ResourceTable<'a>, DecodeError> {
        let all = Bytes::new(data);
        let root = Chunk::at(all, 0)?;
        if root.typ != TABLE_TYPE {
            return Err(all.err(
                0,
                format!(
                    "the file starts with chunk type {:#06x}, not a resource table ({TABLE_TYPE:#06x})",
                    root.typ
                ),
            ));
        }
        if root.header_size < 12 {
            return Err(all.err(0, "resource table header is shorter than 12 bytes"));
        }
        let mut strings = None;
        let mut packages = Vec::new();
        for chunk in root.children() {
            let chunk = chunk?;
            match chunk.typ {
                STRING_POOL_TYPE if strings.is_none() => strings = Some(StringPool::parse(chunk)?),
                TABLE_PACKAGE_TYPE => {
                    if chunk.header_size < PACKAGE_HEADER_MIN {
                        return Err(chunk.bytes.err(
                            0,
                            format!(
                                "package header is {} bytes, below {PACKAGE_HEADER_MIN}",
                                chunk.header_size
                            ),
                        ));
                    }
                    let id = chunk.bytes.u32(8, "package id")?;
                    packages.push(Package { id, chunk });
                }
                _ => {}
            }
        }
        let strings = strings.ok_or_else(|| all.err(0, "the table has no value string pool"))?;
        if packages.is_empty() {
            return Err(all.err(0, "the table has no packages"));
        }
        Ok(ResourceTable { strings, packages })
    }

    /// A string from the table's value pool (the data of a `TYPE_STRING` value).
    pub(crate) fn string(&self, index: u32) -> Result<String, DecodeError> {
        self.strings.get(index)
    }

    /// Whether the table has a package with the id in the top byte of `res_id`.
    pub(crate) fn has_package_of(&self, res_id: u32) -> bool {
        self.packages.iter().any(|p| p.id == res_id >> 24)
    }

    /// The simple values of `res_id` in every configuration that defines one, in table order.
    /// Empty if the table does not define it (or only as a bag).
    pub(crate) fn values(&self, res_id: u32) -> Result<Vec<ConfigValue<'a>>, DecodeError> {
        let package_id = res_id >> 24;
        let type_id = ((res_id >> 16) & 0xff) as u8;
        let entry = res_id & 0xffff;
        let mut out = Vec::new();
        if type_id == 0 {
            return Ok(out);
        }
        for package in self.packages.iter().filter(|p| p.id == package_id) {
            for chunk in package.chunk.children() {
                let chunk = chunk?;
                if chunk.typ != TABLE_TYPE_TYPE {
                    continue;
                }
                if let Some(v) = lookup_in_type(&chunk, type_id, entry)? {
                    out.push(v);
                }
            }
        }
        Ok(out)
    }
}

/// The value of `entry` in one `ResTable_type` chunk, if the chunk is of `type_id` and has it.
fn lookup_in_type<'a>(
    chunk: &Chunk<'a>,
    type_id: u8,
    entry: u32,
) -> Result<Option<ConfigValue<'a>>, DecodeError> {
    let b = chunk.bytes;
    let id = b.u8(8, "type id")?;
    if id == 0 {
        return Err(b.err(8, "resource type id 0 is invalid"));
    }
    if id != type_id {
        return Ok(None);
    }
    let flags = b.u8(9, "type flags")?;
    let entry_count = b.u32(12, "entry count")? as usize;
    let entries_start = b.u32(16, "entries start")? as usize;
    let config_size = b.u32(TYPE_HEADER_FIXED, "config size")? as usize;
    if config_size < 4 || TYPE_HEADER_FIXED + config_size > chunk.header_size {
        return Err(b.err(
            TYPE_HEADER_FIXED,
            format!(
                "config is {config_size} bytes, which does not fit the {}-byte type header",
                chunk.header_size
            ),
        ));
    }
    let config = Config {
        raw: b
            .slice(TYPE_HEADER_FIXED..TYPE_HEADER_FIXED + config_size, "config")?
            .data,
    };
    let index_width = if flags & (FLAG_SPARSE | FLAG_OFFSET16) == FLAG_OFFSET16 {
        2
    } else {
        4
    };
    let index = b.slice(
        chunk.header_size
            ..chunk
                .header_size
                .saturating_add(entry_count.saturating_mul(index_width)),
        &format!("the {entry_count} entry offsets"),
    )?;
    if entries_start < chunk.header_size || entries_start > b.len() {
        return Err(b.err(
            16,
            format!("entries start at {entries_start}, outside the type chunk"),
        ));
    }

    let offset = if flags & FLAG_SPARSE != 0 {
        // (entry index u16, offset/4 u16) pairs sorted by index.
        let mut found = None;
        for i in 0..entry_count {
            let idx = u32::from(index.u16(i * 4, "sparse entry index")?);
            if idx == entry {
                found = Some(u32::from(index.u16(i * 4 + 2, "sparse entry offset")?) * 4);
                break;
            }
        }
        match found {
            Some(o) => o,
            None => return Ok(None),
        }
    } else {
        if entry as usize >= entry_count {
            return Ok(None);
        }
        let o = if index_width == 2 {
            match index.u16(entry as usize * 2, "entry offset")? {
                0xffff => NO_ENTRY,
                o => u32::from(o) * 4,
            }
        } else {
            index.u32(entry as usize * 4, "entry offset")?
        };
        if o == NO_ENTRY {
            return Ok(None);
        }
        o
    };

    let at = entries_start.saturating_add(offset as usize);
    if at > b.len() {
        return Err(b.err(
            16,
            format!(
                "entry {entry} at offset {offset} lies outside the {}-byte type chunk",
                b.len()
            ),
        ));
    }
    let entry_size = usize::from(b.u16(at, "entry size")?);
    let entry_flags = b.u16(at + 2, "entry flags")?;
    if entry_flags & ENTRY_FLAG_COMPACT != 0 {
        // Compact entry: key u16, flags u16 (type in the high byte), data u32.
        let data = b.u32(at + 4, "compact entry data")?;
        let value = Value {
            data_type: (entry_flags >> 8) as u8,
            data,
        };
        return Ok(Some(ConfigValue { config, value }));
    }
    if entry_size < 8 {
        return Err(b.err(at, format!("entry is {entry_size} bytes, below 8")));
    }
    b.u32(at + 4, "entry key")?;
    if entry_flags & ENTRY_FLAG_COMPLEX != 0 {
        return Ok(None);
    }
    let value = Value::at(&b, at + entry_size)?;
    Ok(Some(ConfigValue { config, value }))
}

#[cfg(test)]
pub(crate) mod test_support {
    //! A tiny resource-table writer for unit tests.
    use crate::chunk::test_support::{chunk, string_pool};

    /// One `ResTable_type` chunk: `entries[i]` is `Some((data_type, data))` or absent.
    pub struct TypeChunk {
        pub type_id: u8,
        /// Config bytes after the 4-byte size: e.g. density at offset 10 of this slice.
        pub config_tail: Vec<u8>,
        pub entries: Vec<Option<(u8, u32)>>,
    }

    pub fn table(values: &[&str], package_id: u32, types: &[TypeChunk]) -> Vec<u8> {
        let mut pkg_body = string_pool(&["string", "drawable"], true);
        pkg_body.extend(string_pool(&["key"], true));
        for t in types {
            let config_size = 4 + t.config_tail.len();
            let mut header = vec![t.type_id, 0, 0, 0];
            header.extend_from_slice(&(t.entries.len() as u32).to_le_bytes());
            let entries_start = 8 + 12 + config_size + 4 * t.entries.len();
            header.extend_from_slice(&(entries_start as u32).to_le_bytes());
            header.extend_from_slice(&(config_size as u32).to_le_bytes());
            header.extend_from_slice(&t.config_tail);
            let mut offsets = Vec::new();
            let mut data = Vec::new();
            for e in &t.entries {
                match e {
                    Some((typ, d)) => {
                        offsets.extend_from_slice(&(data.len() as u32).to_le_bytes());
                        data.extend_from_slice(&8u16.to_le_bytes());
                        data.extend_from_slice(&0u16.to_le_bytes());
                        data.extend_from_slice(&0u32.to_le_bytes());
                        data.extend_from_slice(&8u16.to_le_bytes());
                        data.push(0);
                        data.push(*typ);
                        data.extend_from_slice(&d.to_le_bytes());
                    }
                    None => offsets.extend_from_slice(&u32::MAX.to_le_bytes()),
                }
            }
            offsets.extend(data);
            pkg_body.extend(chunk(super::TABLE_TYPE_TYPE, &header, &offsets));
        }
        let mut pkg_header = Vec::new();
        pkg_header.extend_from_slice(&package_id.to_le_bytes());
        pkg_header.extend_from_slice(&[0u8; 256]);
        let type_strings = 288u32;
        let key_strings =
            type_strings + u32::from_le_bytes([pkg_body[4], pkg_body[5], pkg_body[6], pkg_body[7]]);
        for v in [type_strings, 0, key_strings, 0, 0] {
            pkg_header.extend_from_slice(&v.to_le_bytes());
        }
        let mut body = string_pool(values, true);
        body.extend(chunk(super::TABLE_PACKAGE_TYPE, &pkg_header, &pkg_body));
        chunk(super::TABLE_TYPE, &1u32.to_le_bytes(), &body)
    }

    /// Config tail (after `size`) with only the density set; 28-byte config in all.
    pub fn density(dpi: u16) -> Vec<u8> {
        let mut c = vec![0u8; 24];
        c[10..12].copy_from_slice(&dpi.to_le_bytes());
        c
    }

    /// Config tail with only the language set.
    pub fn language(lang: &str) -> Vec<u8> {
        let mut c = vec![0u8; 24];
        c[4..6].copy_from_slice(lang.as_bytes());
        c
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use crate::chunk::data_type;

    #[test]
    fn finds_values_in_every_config() {
        let bytes = table(
            &["Hello", "Hallo"],
            0x7f,
            &[
                TypeChunk {
                    type_id: 1,
                    config_tail: vec![0; 24],
                    entries: vec![None, Some((data_type::STRING, 0))],
                },
                TypeChunk {
                    type_id: 1,
                    config_tail: language("de"),
                    entries: vec![None, Some((data_type::STRING, 1))],
                },
                TypeChunk {
                    type_id: 2,
                    config_tail: density(480),
                    entries: vec![Some((data_type::REFERENCE, 0x7f01_0001))],
                },
            ],
        );
        let t = ResourceTable::parse(&bytes).unwrap();
        let vs = t.values(0x7f01_0001).unwrap();
        assert_eq!(vs.len(), 2);
        assert!(vs[0].config.is_default() && !vs[0].config.has_locale());
        assert!(!vs[1].config.is_default() && vs[1].config.has_locale());
        assert_eq!(t.string(vs[0].value.data).unwrap(), "Hello");
        assert_eq!(t.string(vs[1].value.data).unwrap(), "Hallo");

        let d = t.values(0x7f02_0000).unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].config.density(), 480);
        assert_eq!(d[0].value.reference(), Some(0x7f01_0001));

        assert!(t.values(0x7f01_0000).unwrap().is_empty(), "NO_ENTRY");
        assert!(
            t.values(0x7f01_0009).unwrap().is_empty(),
            "past entry count"
        );
        assert!(
            t.values(0x0101_0001).unwrap().is_empty(),
            "framework package"
        );
        assert!(t.has_package_of(0x7f00_0000) && !t.has_package_of(0x0100_0000));
    }

    #[test]
    fn entry_offsets_out_of_range_are_errors() {
        let mut bytes = table(
            &["x"],
            0x7f,
            &[TypeChunk {
                type_id: 1,
                config_tail: vec![0; 24],
                entries: vec![Some((data_type::STRING, 0))],
            }],
        );
        // The single entry offset is the last u32 before the 16 entry bytes at the end.
        let at = bytes.len() - 16 - 4;
        bytes[at..at + 4].copy_from_slice(&0x1000u32.to_le_bytes());
        let t = ResourceTable::parse(&bytes).unwrap();
        assert!(t.values(0x7f01_0000).is_err());
    }

    #[test]
    fn every_truncation_fails_cleanly() {
        let bytes = table(
            &["x"],
            0x7f,
            &[TypeChunk {
                type_id: 1,
                config_tail: vec![0; 24],
                entries: vec![Some((data_type::STRING, 0))],
            }],
        );
        assert!(ResourceTable::parse(&bytes).is_ok());
        for len in 0..bytes.len() {
            let r = ResourceTable::parse(&bytes[..len]).and_then(|t| t.values(0x7f01_0000));
            assert!(r.is_err(), "prefix of {len} bytes");
        }
    }
}
