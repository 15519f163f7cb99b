//! The APK container: `playrack_apk::zip::Archive` over arbitrary bytes. Every entry it lists
//! is read within a byte cap; what it returns never exceeds the cap or the entry's declared
//! size, and its CRC-32 matches (the reader checks it; this proves nothing slips past).
#![no_main]
use libfuzzer_sys::fuzz_target;
use playrack_apk::Limits;
use playrack_apk::zip::{Archive, crc32};
use std::io::Cursor;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_entries: 256,
        max_uncompressed_total: 1 << 20,
        max_central_directory_bytes: 1 << 16,
        ..Limits::default()
    };
    let Ok(mut archive) = Archive::open(Cursor::new(data), &limits) else {
        return;
    };
    let entries = archive.entries().to_vec();
    assert!(entries.len() <= limits.max_entries);
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(archive.find(&e.name), Some(i), "names are unique");
        if let Ok(bytes) = archive.read(i, 64 * 1024) {
            assert!(bytes.len() as u64 <= 64 * 1024);
            assert_eq!(bytes.len() as u64, e.uncompressed_size);
            assert_eq!(crc32(&bytes), e.crc32);
        }
    }
});
