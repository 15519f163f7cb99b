//! Large game APKs for the benchmarks (ingest, tap to first frame): built from a fixture with
//! the `zip` crate.

/// A large game: `base`'s entries plus one stored (uncompressed) asset of `mb` MiB of random
/// bytes, as big games carry (`assets/level-data.bin`). The size is in data an APK parser
/// must not read and a hash must; the virtual device reads it all at a cold start.
pub fn with_assets(base: Vec<u8>, mb: usize) -> Vec<u8> {
    use std::io::Write;
    let mut src = zip::ZipArchive::new(std::io::Cursor::new(base)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::with_capacity(mb << 20)));
    for i in 0..src.len() {
        let entry = src.by_index_raw(i).unwrap();
        out.raw_copy_file(entry).unwrap();
    }
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    out.start_file("assets/level-data.bin", stored).unwrap();
    let mut state = 0x9E3779B97F4A7C15u64;
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..mb {
        for b in block.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            b.copy_from_slice(&state.to_le_bytes()[..b.len()]);
        }
        out.write_all(&block).unwrap();
    }
    out.finish().unwrap().into_inner()
}
