//! A small, strict, read-only zip reader: the APK container.
//!
//! It owns everything about the zip format: finding the end-of-central-directory record, parsing
//! the central directory, following each entry to its local header, inflating (stored and
//! deflate only), checking the CRC-32, and enforcing [`Limits`] on entry count, declared sizes,
//! ratios and bytes actually inflated.
//!
//! Why not the `zip` crate: an APK inspector only needs to read a handful of entries, and it must
//! refuse hostile archives *before* allocating for them. Owning the ~400 lines lets the entry
//! count be checked from the end record before the central directory is read, bounds every
//! offset against the file length and the central directory, rejects duplicate names and
//! mismatched local headers (the ambiguity APK signature attacks rely on), and counts inflated
//! bytes as they are produced. The `zip` crate also changes major version often (2 → 9 within a
//! couple of years) and by default drags in a dozen codecs an APK never uses. Inflation itself
//! is `miniz_oxide`'s streaming decoder.
//!
//! Not supported, by design: ZIP64 (APKs are limited to 4 GiB and Android's own reader
//! rejects ZIP64 APKs), multi-disk archives, encryption, and methods other than stored (0) and
//! deflate (8). The APK Signing Block between the entries and the central directory is fine: it
//! is simply not referenced by any entry.

use std::collections::HashSet;
use std::io::{self, Read, Seek, SeekFrom};

use miniz_oxide::inflate::stream::{InflateState, inflate};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

use crate::error::ApkError;
use crate::limits::{Budget, Limits, RATIO_MIN_BYTES};

const EOCD_SIG: u32 = 0x0605_4b50;
const EOCD_LEN: usize = 22;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const ZIP64_LOCATOR_LEN: u64 = 20;
const CDH_SIG: u32 = 0x0201_4b50;
const CDH_LEN: usize = 46;
const LFH_SIG: u32 = 0x0403_4b50;
const LFH_LEN: usize = 30;
/// Largest zip comment; the end record lies within this many bytes (plus its own) of the end.
const MAX_COMMENT: usize = 0xffff;

/// Compression method "stored": the data is not compressed.
pub const METHOD_STORED: u16 = 0;
/// Compression method "deflate" (raw DEFLATE, RFC 1951).
pub const METHOD_DEFLATE: u16 = 8;

/// One file in the archive, as the central directory describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path inside the archive, e.g. `lib/arm64-v8a/libgame.so` (non-UTF-8 bytes replaced).
    pub name: String,
    /// Compression method ([`METHOD_STORED`], [`METHOD_DEFLATE`], or something unsupported).
    pub method: u16,
    /// General-purpose flags; bit 0 means encrypted.
    pub flags: u16,
    /// CRC-32 of the uncompressed data.
    pub crc32: u32,
    /// Declared compressed size in bytes.
    pub compressed_size: u64,
    /// Declared uncompressed size in bytes. Checked against what inflation actually produces.
    pub uncompressed_size: u64,
    local_header_offset: u64,
}

/// An opened archive: the parsed central directory plus the reader to fetch entry data from.
#[derive(Debug)]
pub struct Archive<R> {
    reader: R,
    entries: Vec<Entry>,
    /// Entry data must end before this offset (the start of the central directory).
    data_end: u64,
    max_ratio: u64,
    budget: Budget,
}

fn not_a_zip(msg: impl Into<String>) -> ApkError {
    ApkError::NotAZip(msg.into())
}

fn read_exact_or_truncated<R: Read>(r: &mut R, buf: &mut [u8], what: &str) -> Result<(), ApkError> {
    r.read_exact(buf).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            not_a_zip(format!("the file ends in the middle of the {what}"))
        } else {
            ApkError::Io(e)
        }
    })
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl<R: Read + Seek> Archive<R> {
    /// Reads the end record and the central directory, checking them against `limits`.
    /// Entry data is not touched until [`Archive::read`].
    pub fn open(mut reader: R, limits: &Limits) -> Result<Self, ApkError> {
        let file_len = reader.seek(SeekFrom::End(0))?;
        if file_len < EOCD_LEN as u64 {
            return Err(not_a_zip(format!(
                "the file is {file_len} bytes long, too short to be a zip archive"
            )));
        }

        // The end record is the last thing in the file, followed only by its comment.
        let tail_len = file_len.min((EOCD_LEN + MAX_COMMENT) as u64);
        let tail_start = file_len - tail_len;
        let mut tail = vec![0u8; tail_len as usize];
        reader.seek(SeekFrom::Start(tail_start))?;
        read_exact_or_truncated(&mut reader, &mut tail, "end of the file")?;
        let eocd_in_tail = (0..=tail.len() - EOCD_LEN)
            .rev()
            .find(|&i| {
                u32_at(&tail, i) == EOCD_SIG
                    && i + EOCD_LEN + usize::from(u16_at(&tail, i + 20)) <= tail.len()
            })
            .ok_or_else(|| {
                not_a_zip(
                    "no zip end-of-central-directory record found; \
                     the file is not a zip archive or is truncated",
                )
            })?;
        let eocd_pos = tail_start + eocd_in_tail as u64;
        let eocd = &tail[eocd_in_tail..eocd_in_tail + EOCD_LEN];
        let disk = u16_at(eocd, 4);
        let cd_disk = u16_at(eocd, 6);
        let entries_here = u16_at(eocd, 8);
        let entries_total = u16_at(eocd, 10);
        let cd_size = u64::from(u32_at(eocd, 12));
        let cd_offset = u64::from(u32_at(eocd, 16));

        if eocd_pos >= ZIP64_LOCATOR_LEN {
            let at = eocd_pos - ZIP64_LOCATOR_LEN;
            let mut sig = [0u8; 4];
            reader.seek(SeekFrom::Start(at))?;
            read_exact_or_truncated(&mut reader, &mut sig, "ZIP64 locator")?;
            if u32::from_le_bytes(sig) == ZIP64_LOCATOR_SIG {
                return Err(not_a_zip(
                    "ZIP64 archives are not supported (Android does not accept ZIP64 APKs)",
                ));
            }
        }
        if disk != 0 || cd_disk != 0 || entries_here != entries_total {
            return Err(not_a_zip(
                "multi-disk (split) zip archives are not supported",
            ));
        }
        if entries_total == 0xffff || cd_size == 0xffff_ffff || cd_offset == 0xffff_ffff {
            return Err(not_a_zip(
                "ZIP64 archives are not supported (Android does not accept ZIP64 APKs)",
            ));
        }
        if usize::from(entries_total) > limits.max_entries {
            return Err(ApkError::ZipBomb(format!(
                "the archive lists {entries_total} entries; the limit is {}",
                limits.max_entries
            )));
        }
        if cd_offset
            .checked_add(cd_size)
            .is_none_or(|end| end > eocd_pos)
        {
            return Err(not_a_zip(format!(
                "the central directory (offset {cd_offset}, {cd_size} bytes) does not end before \
                 the end record at offset {eocd_pos}; the file is truncated or corrupt"
            )));
        }
        if cd_size > limits.max_central_directory_bytes {
            return Err(ApkError::ZipBomb(format!(
                "the central directory is {cd_size} bytes; the limit is {}",
                limits.max_central_directory_bytes
            )));
        }

        let mut cd = vec![0u8; cd_size as usize];
        reader.seek(SeekFrom::Start(cd_offset))?;
        read_exact_or_truncated(&mut reader, &mut cd, "central directory")?;

        let entries = parse_central_directory(&cd, entries_total, cd_offset, limits)?;
        Ok(Archive {
            reader,
            entries,
            data_end: cd_offset,
            max_ratio: limits.max_ratio,
            budget: Budget::new(limits.max_uncompressed_total),
        })
    }

    /// Every entry, in central-directory order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Index of the entry with exactly this name.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.name == name)
    }

    /// Reads and inflates entry `index`, refusing more than `max_bytes` of output.
    ///
    /// Enforced while inflating, whatever the headers declare: at most `max_bytes`, at most the
    /// declared uncompressed size, at most [`Limits::max_ratio`] times the compressed size (past
    /// [`RATIO_MIN_BYTES`]), and at most [`Limits::max_uncompressed_total`] over every read of
    /// this archive. The CRC-32 is verified.
    pub fn read(&mut self, index: usize, max_bytes: u64) -> Result<Vec<u8>, ApkError> {
        let entry = self
            .entries
            .get(index)
            .ok_or_else(|| not_a_zip(format!("no entry number {index}")))?
            .clone();
        let name = &entry.name;
        if entry.uncompressed_size > max_bytes {
            return Err(ApkError::ZipBomb(format!(
                "entry {name} declares {} bytes uncompressed; the limit for it is {max_bytes}",
                entry.uncompressed_size
            )));
        }
        if entry.flags & 1 != 0 {
            return Err(not_a_zip(format!("entry {name} is encrypted")));
        }
        if entry.method != METHOD_STORED && entry.method != METHOD_DEFLATE {
            return Err(not_a_zip(format!(
                "entry {name} uses compression method {}; only stored (0) and deflate (8) are \
                 supported",
                entry.method
            )));
        }

        // Local header: its name must match the central directory's; its extra field length
        // may differ (zipalign pads it).
        let mut lfh = [0u8; LFH_LEN];
        self.reader
            .seek(SeekFrom::Start(entry.local_header_offset))?;
        read_exact_or_truncated(&mut self.reader, &mut lfh, "local file header")?;
        if u32_at(&lfh, 0) != LFH_SIG {
            return Err(not_a_zip(format!(
                "entry {name}: no local file header at offset {}",
                entry.local_header_offset
            )));
        }
        let name_len = u16_at(&lfh, 26);
        let extra_len = u16_at(&lfh, 28);
        let mut local_name = vec![0u8; usize::from(name_len)];
        read_exact_or_truncated(&mut self.reader, &mut local_name, "local file header")?;
        if String::from_utf8_lossy(&local_name) != entry.name.as_str() {
            return Err(not_a_zip(format!(
                "entry {name}: the local header names it {:?}",
                String::from_utf8_lossy(&local_name)
            )));
        }
        let data_start =
            entry.local_header_offset + LFH_LEN as u64 + u64::from(name_len) + u64::from(extra_len);
        if data_start
            .checked_add(entry.compressed_size)
            .is_none_or(|end| end > self.data_end)
        {
            return Err(not_a_zip(format!(
                "entry {name}: its data ({} bytes at offset {data_start}) runs into the central \
                 directory",
                entry.compressed_size
            )));
        }
        self.reader.seek(SeekFrom::Start(data_start))?;

        // Output ceiling: the smallest of the caller's limit, the declared size and the ratio
        // limit. Exceeding the declared size means the header lies: treated as a bomb.
        let ratio_cap = entry
            .compressed_size
            .saturating_mul(self.max_ratio)
            .max(RATIO_MIN_BYTES);
        let cap = max_bytes.min(ratio_cap).min(entry.uncompressed_size);
        let mut src = (&mut self.reader).take(entry.compressed_size);
        let data = match entry.method {
            METHOD_STORED => {
                if entry.compressed_size != entry.uncompressed_size {
                    return Err(not_a_zip(format!(
                        "entry {name} is stored (uncompressed) but declares {} bytes compressed \
                         and {} uncompressed",
                        entry.compressed_size, entry.uncompressed_size
                    )));
                }
                let mut data = vec![0u8; entry.compressed_size as usize];
                read_exact_or_truncated(&mut src, &mut data, "entry data")?;
                if !self.budget.spend(data.len() as u64) {
                    return Err(self.over_budget());
                }
                data
            }
            _ => inflate_capped(&mut src, cap, &mut self.budget, name)?,
        };

        if data.len() as u64 != entry.uncompressed_size {
            return Err(not_a_zip(format!(
                "entry {name} inflates to {} bytes but declares {}; the archive is corrupt",
                data.len(),
                entry.uncompressed_size
            )));
        }
        let crc = crc32(&data);
        if crc != entry.crc32 {
            return Err(not_a_zip(format!(
                "entry {name} is corrupt: CRC-32 {crc:#010x}, expected {:#010x}",
                entry.crc32
            )));
        }
        Ok(data)
    }

    fn over_budget(&self) -> ApkError {
        ApkError::ZipBomb(format!(
            "more than {} bytes inflated in total (limit {})",
            self.budget.used(),
            self.budget.max()
        ))
    }
}

fn parse_central_directory(
    cd: &[u8],
    count: u16,
    cd_offset: u64,
    limits: &Limits,
) -> Result<Vec<Entry>, ApkError> {
    let mut entries = Vec::with_capacity(usize::from(count));
    let mut seen = HashSet::with_capacity(usize::from(count));
    let mut pos = 0usize;
    let mut declared_total: u64 = 0;
    for n in 0..count {
        let at = cd_offset + pos as u64;
        if cd.len() - pos < CDH_LEN || u32_at(cd, pos) != CDH_SIG {
            return Err(not_a_zip(format!(
                "central directory entry {n} at offset {at} is missing or truncated"
            )));
        }
        let h = &cd[pos..pos + CDH_LEN];
        let flags = u16_at(h, 8);
        let method = u16_at(h, 10);
        let crc = u32_at(h, 16);
        let compressed_size = u64::from(u32_at(h, 20));
        let uncompressed_size = u64::from(u32_at(h, 24));
        let name_len = usize::from(u16_at(h, 28));
        let extra_len = usize::from(u16_at(h, 30));
        let comment_len = usize::from(u16_at(h, 32));
        let disk_start = u16_at(h, 34);
        let local_header_offset = u64::from(u32_at(h, 42));
        let var_len = name_len + extra_len + comment_len;
        if cd.len() - pos - CDH_LEN < var_len {
            return Err(not_a_zip(format!(
                "central directory entry {n} at offset {at} runs past the end of the directory"
            )));
        }
        let name =
            String::from_utf8_lossy(&cd[pos + CDH_LEN..pos + CDH_LEN + name_len]).into_owned();
        pos += CDH_LEN + var_len;

        if compressed_size == 0xffff_ffff
            || uncompressed_size == 0xffff_ffff
            || local_header_offset == 0xffff_ffff
        {
            return Err(not_a_zip(format!(
                "entry {name} uses ZIP64 sizes, which are not supported"
            )));
        }
        if disk_start != 0 {
            return Err(not_a_zip(format!("entry {name} starts on another disk")));
        }
        if local_header_offset + LFH_LEN as u64 > cd_offset {
            return Err(not_a_zip(format!(
                "entry {name}: local header offset {local_header_offset} is past the entry data"
            )));
        }
        if uncompressed_size >= RATIO_MIN_BYTES
            && uncompressed_size > compressed_size.saturating_mul(limits.max_ratio)
        {
            return Err(ApkError::ZipBomb(format!(
                "entry {name} declares {uncompressed_size} bytes from {compressed_size} \
                 compressed, a ratio over the limit of {}:1",
                limits.max_ratio
            )));
        }
        declared_total = declared_total.saturating_add(uncompressed_size);
        if declared_total > limits.max_uncompressed_total {
            return Err(ApkError::ZipBomb(format!(
                "the entries declare more than {} bytes uncompressed in total (limit {})",
                declared_total, limits.max_uncompressed_total
            )));
        }
        if !seen.insert(name.clone()) {
            return Err(not_a_zip(format!(
                "the archive has two entries named {name} (Android rejects such APKs)"
            )));
        }
        entries.push(Entry {
            name,
            method,
            flags,
            crc32: crc,
            compressed_size,
            uncompressed_size,
            local_header_offset,
        });
    }
    Ok(entries)
}

/// Inflates raw DEFLATE from `src`, producing at most `cap` bytes.
fn inflate_capped<S: Read>(
    src: &mut S,
    cap: u64,
    budget: &mut Budget,
    name: &str,
) -> Result<Vec<u8>, ApkError> {
    const IN_CHUNK: usize = 16 * 1024;
    const OUT_CHUNK: usize = 32 * 1024;
    let mut state = InflateState::new_boxed(DataFormat::Raw);
    let mut input = vec![0u8; IN_CHUNK];
    let mut in_pos = 0usize;
    let mut in_len = 0usize;
    let mut eof = false;
    let mut chunk = vec![0u8; OUT_CHUNK];
    let mut out = Vec::with_capacity(cap.min(1024 * 1024) as usize);
    loop {
        if in_pos == in_len && !eof {
            in_len = src.read(&mut input)?;
            in_pos = 0;
            eof = in_len == 0;
        }
        let res = inflate(
            &mut state,
            &input[in_pos..in_len],
            &mut chunk,
            MZFlush::None,
        );
        in_pos += res.bytes_consumed;
        let produced = res.bytes_written;
        if out.len() as u64 + produced as u64 > cap {
            return Err(ApkError::ZipBomb(format!(
                "entry {name} inflates to more than {cap} bytes, past its declared size or the \
                 ratio limit"
            )));
        }
        if !budget.spend(produced as u64) {
            return Err(ApkError::ZipBomb(format!(
                "more than {} bytes inflated in total (limit {})",
                budget.used(),
                budget.max()
            )));
        }
        out.extend_from_slice(&chunk[..produced]);
        match res.status {
            Ok(MZStatus::StreamEnd) => return Ok(out),
            Ok(_) => {}
            Err(MZError::Buf) => {}
            Err(_) => {
                return Err(not_a_zip(format!(
                    "entry {name} is corrupt: invalid deflate data"
                )));
            }
        }
        if res.bytes_consumed == 0 && produced == 0 && in_pos == in_len && eof {
            return Err(not_a_zip(format!(
                "entry {name} is corrupt: its deflate data ends early"
            )));
        }
        if res.bytes_consumed == 0 && produced == 0 && in_pos < in_len {
            return Err(not_a_zip(format!(
                "entry {name} is corrupt: the deflate decoder made no progress"
            )));
        }
    }
}

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// The zip CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) of `data`.
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for &b in data {
        c = CRC_TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    c ^ 0xffff_ffff
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A minimal zip writer for unit tests: stored entries only.
    fn stored_zip(entries: &[(&str, &[u8])], comment: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut cd = Vec::new();
        for (name, data) in entries {
            let off = out.len() as u32;
            let crc = crc32(data);
            out.extend_from_slice(&LFH_SIG.to_le_bytes());
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&crc.to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
            cd.extend_from_slice(&CDH_SIG.to_le_bytes());
            cd.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            cd.extend_from_slice(&crc.to_le_bytes());
            cd.extend_from_slice(&(data.len() as u32).to_le_bytes());
            cd.extend_from_slice(&(data.len() as u32).to_le_bytes());
            cd.extend_from_slice(&(name.len() as u16).to_le_bytes());
            cd.extend_from_slice(&[0; 12]);
            cd.extend_from_slice(&off.to_le_bytes());
            cd.extend_from_slice(name.as_bytes());
        }
        let cd_off = out.len() as u32;
        out.extend_from_slice(&cd);
        out.extend_from_slice(&EOCD_SIG.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(cd.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_off.to_le_bytes());
        out.extend_from_slice(&(comment.len() as u16).to_le_bytes());
        out.extend_from_slice(comment);
        out
    }

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn reads_stored_entries_even_behind_a_comment() {
        let zip = stored_zip(
            &[("a.txt", b"hello"), ("dir/b", b"")],
            b"a comment PK\x05\x06",
        );
        let mut a = Archive::open(Cursor::new(zip), &Limits::default()).unwrap();
        assert_eq!(a.entries().len(), 2);
        let i = a.find("a.txt").unwrap();
        assert_eq!(a.read(i, 100).unwrap(), b"hello");
        let j = a.find("dir/b").unwrap();
        assert_eq!(a.read(j, 100).unwrap(), b"");
        assert_eq!(a.find("missing"), None);
    }

    #[test]
    fn empty_archive_is_a_zip() {
        let a = Archive::open(Cursor::new(stored_zip(&[], b"")), &Limits::default()).unwrap();
        assert!(a.entries().is_empty());
    }

    #[test]
    fn per_read_limit_is_a_bomb() {
        let zip = stored_zip(&[("big", &[7u8; 64])], b"");
        let mut a = Archive::open(Cursor::new(zip), &Limits::default()).unwrap();
        assert_eq!(a.read(0, 63).unwrap_err().code(), "APK_ZIP_BOMB");
        assert_eq!(a.read(0, 64).unwrap().len(), 64);
    }

    #[test]
    fn total_budget_counts_every_read() {
        let zip = stored_zip(&[("a", &[1u8; 40]), ("b", &[2u8; 40])], b"");
        let limits = Limits {
            max_uncompressed_total: 100,
            ..Limits::default()
        };
        let mut a = Archive::open(Cursor::new(zip), &limits).unwrap();
        a.read(0, 100).unwrap();
        a.read(1, 100).unwrap();
        let err = a.read(0, 100).unwrap_err();
        assert_eq!(err.code(), "APK_ZIP_BOMB", "{err}");
    }

    #[test]
    fn duplicate_names_are_rejected() {
        let zip = stored_zip(&[("x", b"1"), ("x", b"2")], b"");
        let err = Archive::open(Cursor::new(zip), &Limits::default()).unwrap_err();
        assert_eq!(err.code(), "APK_NOT_A_ZIP");
        assert!(err.to_string().contains("two entries named x"), "{err}");
    }

    #[test]
    fn crc_mismatch_is_detected() {
        let mut zip = stored_zip(&[("x", b"abcd")], b"");
        // Flip a data byte: the local header is 30 bytes, the name 1.
        zip[31] ^= 0xff;
        let mut a = Archive::open(Cursor::new(zip), &Limits::default()).unwrap();
        let err = a.read(0, 100).unwrap_err();
        assert_eq!(err.code(), "APK_NOT_A_ZIP");
        assert!(err.to_string().contains("CRC-32"), "{err}");
    }

    #[test]
    fn deflate_round_trip() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let packed = miniz_oxide::deflate::compress_to_vec(&data, 6);
        let mut budget = Budget::new(u64::MAX);
        let out = inflate_capped(&mut Cursor::new(&packed), 100_000, &mut budget, "t").unwrap();
        assert_eq!(out, data);
        let err = inflate_capped(&mut Cursor::new(&packed), 99_999, &mut budget, "t").unwrap_err();
        assert_eq!(err.code(), "APK_ZIP_BOMB");
        let cut = &packed[..packed.len() / 2];
        let err = inflate_capped(&mut Cursor::new(cut), 100_000, &mut budget, "t").unwrap_err();
        assert_eq!(err.code(), "APK_NOT_A_ZIP", "{err}");
    }
}
