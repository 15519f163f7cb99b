//! Shared helpers for the integration tests: a small zip writer, repacking a real fixture with
//! some entries changed, and walking AXML chunks to find bytes worth corrupting.
#![allow(dead_code)] // each test binary uses a different subset

use std::io::Cursor;

use miniz_oxide::deflate::core::{CompressorOxide, create_comp_flags_from_zip_params};
use miniz_oxide::deflate::stream::deflate;
use miniz_oxide::{MZFlush, MZStatus};
use playrack_apk::zip::{Archive, crc32};
use playrack_apk::{ApkError, ApkInfo, Limits};

/// How an entry's data is written.
#[derive(Clone)]
pub enum Data {
    Stored(Vec<u8>),
    /// Deflated from these bytes.
    Deflate(Vec<u8>),
    /// Already-deflated bytes, with the declared uncompressed size and CRC given explicitly.
    Raw {
        deflated: Vec<u8>,
        uncompressed_size: u32,
        crc: u32,
    },
}

pub struct Zip {
    out: Vec<u8>,
    cd: Vec<u8>,
    count: u16,
}

impl Zip {
    pub fn new() -> Self {
        Zip {
            out: Vec::new(),
            cd: Vec::new(),
            count: 0,
        }
    }

    pub fn add(&mut self, name: &str, data: Data) -> &mut Self {
        let (method, payload, usize_, crc) = match data {
            Data::Stored(d) => (0u16, d.clone(), d.len() as u32, crc32(&d)),
            Data::Deflate(d) => (
                8,
                miniz_oxide::deflate::compress_to_vec(&d, 6),
                d.len() as u32,
                crc32(&d),
            ),
            Data::Raw {
                deflated,
                uncompressed_size,
                crc,
            } => (8, deflated, uncompressed_size, crc),
        };
        let offset = self.out.len() as u32;
        let o = &mut self.out;
        o.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        o.extend_from_slice(&20u16.to_le_bytes());
        o.extend_from_slice(&0u16.to_le_bytes());
        o.extend_from_slice(&method.to_le_bytes());
        o.extend_from_slice(&[0; 4]);
        o.extend_from_slice(&crc.to_le_bytes());
        o.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        o.extend_from_slice(&usize_.to_le_bytes());
        o.extend_from_slice(&(name.len() as u16).to_le_bytes());
        o.extend_from_slice(&0u16.to_le_bytes());
        o.extend_from_slice(name.as_bytes());
        o.extend_from_slice(&payload);

        let c = &mut self.cd;
        c.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        c.extend_from_slice(&20u16.to_le_bytes());
        c.extend_from_slice(&20u16.to_le_bytes());
        c.extend_from_slice(&0u16.to_le_bytes());
        c.extend_from_slice(&method.to_le_bytes());
        c.extend_from_slice(&[0; 4]);
        c.extend_from_slice(&crc.to_le_bytes());
        c.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        c.extend_from_slice(&usize_.to_le_bytes());
        c.extend_from_slice(&(name.len() as u16).to_le_bytes());
        c.extend_from_slice(&[0; 12]);
        c.extend_from_slice(&offset.to_le_bytes());
        c.extend_from_slice(name.as_bytes());
        self.count += 1;
        self
    }

    /// Adds an entry whose central-directory record declares `compressed`/`uncompressed` sizes
    /// for data that is not actually there (to test declared-size checks).
    pub fn add_phantom(&mut self, name: &str, compressed: u32, uncompressed: u32) -> &mut Self {
        let offset = self.out.len() as u32;
        self.out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        self.out.extend_from_slice(&[0; 26]);
        let c = &mut self.cd;
        c.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        c.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        c.extend_from_slice(&compressed.to_le_bytes());
        c.extend_from_slice(&uncompressed.to_le_bytes());
        c.extend_from_slice(&(name.len() as u16).to_le_bytes());
        c.extend_from_slice(&[0; 12]);
        c.extend_from_slice(&offset.to_le_bytes());
        c.extend_from_slice(name.as_bytes());
        self.count += 1;
        self
    }

    pub fn finish(&self) -> Vec<u8> {
        let mut out = self.out.clone();
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&self.cd);
        out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&self.count.to_le_bytes());
        out.extend_from_slice(&self.count.to_le_bytes());
        out.extend_from_slice(&(self.cd.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }
}

/// Every entry of an APK, decompressed, in order.
pub fn entries(apk: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut a = Archive::open(Cursor::new(apk), &Limits::default()).expect("fixture opens");
    let names: Vec<String> = a.entries().iter().map(|e| e.name.clone()).collect();
    names
        .into_iter()
        .enumerate()
        .map(|(i, n)| {
            let d = a.read(i, u64::MAX).expect("fixture entry reads");
            (n, d)
        })
        .collect()
}

/// Rewrites `apk` as a plain (unsigned) zip: `edit` sees each entry and returns its new bytes,
/// or `None` to drop it. XML and .arsc are deflated, everything else stored.
pub fn repack(apk: &[u8], mut edit: impl FnMut(&str, Vec<u8>) -> Option<Vec<u8>>) -> Vec<u8> {
    let mut z = Zip::new();
    for (name, data) in entries(apk) {
        if let Some(d) = edit(&name, data) {
            let data = if name.ends_with(".xml") {
                Data::Deflate(d)
            } else {
                Data::Stored(d)
            };
            z.add(&name, data);
        }
    }
    z.finish()
}

/// `apk` with `AndroidManifest.xml` replaced by `manifest`.
pub fn with_manifest(apk: &[u8], manifest: Vec<u8>) -> Vec<u8> {
    let mut m = Some(manifest);
    repack(apk, |name, d| {
        if name == "AndroidManifest.xml" {
            m.take()
        } else {
            Some(d)
        }
    })
}

/// `apk` with `resources.arsc` replaced (or removed with `None`).
pub fn with_resources(apk: &[u8], arsc: Option<Vec<u8>>) -> Vec<u8> {
    let mut r = Some(arsc);
    repack(apk, |name, d| {
        if name == "resources.arsc" {
            r.take().flatten()
        } else {
            Some(d)
        }
    })
}

pub fn entry(apk: &[u8], name: &str) -> Vec<u8> {
    entries(apk)
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no entry {name}"))
        .1
}

/// A chunk found by [`chunks`]: offset, type, header size, size.
#[derive(Debug, Clone, Copy)]
pub struct ChunkAt {
    pub offset: usize,
    pub typ: u16,
    pub header_size: usize,
    pub size: usize,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

pub fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

pub fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

pub fn put_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

/// The top-level child chunks of a binary XML or resource table file (well-formed input).
pub fn chunks(file: &[u8]) -> Vec<ChunkAt> {
    let mut out = Vec::new();
    let mut pos = u16_at(file, 2) as usize;
    while pos + 8 <= file.len() {
        let c = ChunkAt {
            offset: pos,
            typ: u16_at(file, pos),
            header_size: u16_at(file, pos + 2) as usize,
            size: u32_at(file, pos + 4) as usize,
        };
        out.push(c);
        pos += c.size;
    }
    out
}

pub fn find_chunk(file: &[u8], typ: u16) -> ChunkAt {
    chunks(file)
        .into_iter()
        .find(|c| c.typ == typ)
        .unwrap_or_else(|| panic!("no chunk of type {typ:#06x}"))
}

/// A raw DEFLATE stream that inflates to `mib` MiB of zeros, built by repeating one
/// sync-flushed block (so it is small and quick to make).
pub fn deflated_zeros(mib: usize) -> Vec<u8> {
    let mut c = CompressorOxide::new(create_comp_flags_from_zip_params(1, -15, 0));
    let zeros = vec![0u8; 1024 * 1024];
    let mut buf = vec![0u8; 64 * 1024];
    let r = deflate(&mut c, &zeros, &mut buf, MZFlush::Sync);
    assert_eq!(r.bytes_consumed, zeros.len());
    assert!(matches!(r.status, Ok(MZStatus::Ok)), "{:?}", r.status);
    let block = &buf[..r.bytes_written];
    let mut out = Vec::with_capacity(block.len() * mib + 2);
    for _ in 0..mib {
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&[0x03, 0x00]); // final, empty, fixed-Huffman block
    out
}

/// CRC-32 of `mib` MiB of zeros.
pub fn zeros_crc(mib: usize) -> u32 {
    crc32(&vec![0u8; mib * 1024 * 1024])
}

/// Inspects bytes with default limits.
pub fn inspect(apk: &[u8]) -> Result<ApkInfo, ApkError> {
    playrack_apk::inspect_bytes(apk, &Limits::default())
}

/// Asserts `r` failed with `code`, printing the message either way for the log.
#[track_caller]
pub fn assert_code(r: Result<ApkInfo, ApkError>, code: &str, case: &str) {
    match r {
        Ok(info) => panic!("{case}: expected {code}, but inspection succeeded: {info:?}"),
        Err(e) => {
            eprintln!("{case}: {} — {e}", e.code());
            assert_eq!(e.code(), code, "{case}: {e}");
        }
    }
}

/// A tiny deterministic PRNG (xorshift64*), so the property tests are reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}
