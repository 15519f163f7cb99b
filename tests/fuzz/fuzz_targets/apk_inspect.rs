//! The whole APK inspection an upload goes through (zip → AXML → manifest → ARSC → icon).
//! What it accepts has a valid package name, a class-name launchable activity, an icon that
//! really is PNG or WebP within the icon limit, and ABIs without `/`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use playrack_apk::{Limits, inspect_bytes, names};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_entries: 256,
        max_uncompressed_total: 1 << 20,
        max_manifest_bytes: 256 << 10,
        max_resources_bytes: 256 << 10,
        max_icon_bytes: 64 << 10,
        max_central_directory_bytes: 1 << 16,
        ..Limits::default()
    };
    let Ok(info) = inspect_bytes(data, &limits) else {
        return;
    };
    assert!(names::is_package_name(&info.package), "{:?}", info.package);
    if let Some(a) = &info.launchable_activity {
        assert!(names::is_class_name(a), "{a:?}");
    }
    if let Some(icon) = &info.icon {
        assert!(icon.bytes.len() as u64 <= limits.max_icon_bytes);
        match icon.mime {
            "image/png" => assert!(icon.bytes.starts_with(b"\x89PNG")),
            "image/webp" => assert!(icon.bytes.starts_with(b"RIFF")),
            other => panic!("icon mime {other}"),
        }
    }
    for abi in &info.abis {
        assert!(!abi.is_empty() && !abi.contains('/'), "{abi:?}");
    }
});
