//! Malformed and hostile inputs, derived from the real fixtures, each asserting the exact code.

mod common;

use common::*;
use playrack_apk::{Limits, inspect_bytes};
use playrack_test_support::fixtures;

const STRING_POOL: u16 = 0x0001;
const RESOURCE_MAP: u16 = 0x0180;
const START_ELEMENT: u16 = 0x0102;
const END_ELEMENT: u16 = 0x0103;
const TYPE_STRING: u8 = 0x03;
const ATTR_LABEL: u32 = 0x0101_0001;
const ATTR_VERSION_CODE: u32 = 0x0101_021b;

fn tapper() -> Vec<u8> {
    fixtures::apk_bytes("tapper-v1")
}

fn tapper_manifest() -> Vec<u8> {
    entry(&tapper(), "AndroidManifest.xml")
}

fn tapper_arsc() -> Vec<u8> {
    entry(&tapper(), "resources.arsc")
}

/// Byte offset of the `ResXMLTree_attribute` (within the manifest) whose name has resource id
/// `id`, in the first element that has one.
fn attribute_offset(manifest: &[u8], id: u32) -> usize {
    let map = find_chunk(manifest, RESOURCE_MAP);
    let ids: Vec<u32> = (map.offset + map.header_size..map.offset + map.size)
        .step_by(4)
        .map(|at| u32_at(manifest, at))
        .collect();
    for c in chunks(manifest)
        .into_iter()
        .filter(|c| c.typ == START_ELEMENT)
    {
        let ext = c.offset + c.header_size;
        let start = u16::from_le_bytes([manifest[ext + 8], manifest[ext + 9]]) as usize;
        let size = u16::from_le_bytes([manifest[ext + 10], manifest[ext + 11]]) as usize;
        let count = u16::from_le_bytes([manifest[ext + 12], manifest[ext + 13]]) as usize;
        for i in 0..count {
            let at = ext + start + i * size;
            let name = u32_at(manifest, at + 4) as usize;
            if ids.get(name) == Some(&id) {
                return at;
            }
        }
    }
    panic!("no attribute with id {id:#x}");
}

/// The manifest with root chunk size fixed up after the body changed length.
fn with_root_size(mut m: Vec<u8>) -> Vec<u8> {
    while !m.len().is_multiple_of(4) {
        m.push(0);
    }
    let len = m.len() as u32;
    put_u32(&mut m, 4, len);
    m
}

// ---------------------------------------------------------------------------------------------
// APK_NOT_A_ZIP

#[test]
fn random_bytes_are_not_a_zip() {
    let mut rng = Rng::new(0x5eed);
    for len in [0usize, 1, 21, 22, 100, 4096, 70_000] {
        assert_code(
            inspect(&rng.bytes(len)),
            "APK_NOT_A_ZIP",
            &format!("{len} random bytes"),
        );
    }
    assert_code(inspect(b"hello, I am a text file"), "APK_NOT_A_ZIP", "text");
}

#[test]
fn truncated_zips_are_not_a_zip() {
    let apk = tapper();
    for keep in [apk.len() / 2, apk.len() - 1, apk.len() - 21, 30] {
        assert_code(
            inspect(&apk[..keep]),
            "APK_NOT_A_ZIP",
            &format!("first {keep} of {} bytes", apk.len()),
        );
    }
}

#[test]
fn central_directory_pointing_outside_the_file_is_not_a_zip() {
    let mut apk = tapper();
    let eocd = apk.len() - 22;
    let past_end = apk.len() as u32 + 10;
    put_u32(&mut apk, eocd + 16, past_end);
    assert_code(
        inspect(&apk),
        "APK_NOT_A_ZIP",
        "central directory offset past the end",
    );

    let mut apk = tapper();
    put_u16(&mut apk, eocd + 8, 11);
    put_u16(&mut apk, eocd + 10, 11);
    assert_code(
        inspect(&apk),
        "APK_NOT_A_ZIP",
        "one more entry than the directory holds",
    );
}

#[test]
fn corrupted_entry_data_fails_its_crc() {
    // resources.arsc is stored (uncompressed) in the fixture; flip one byte of it in place.
    let mut apk = tapper();
    let arsc = tapper_arsc();
    let at = apk
        .windows(arsc.len())
        .position(|w| w == arsc.as_slice())
        .expect("stored arsc bytes appear verbatim");
    apk[at + arsc.len() / 2] ^= 0x55;
    assert_code(
        inspect(&apk),
        "APK_NOT_A_ZIP",
        "flipped byte in resources.arsc",
    );
}

// ---------------------------------------------------------------------------------------------
// APK_NO_MANIFEST

#[test]
fn zip_without_manifest() {
    let apk = repack(&tapper(), |name, d| {
        (name != "AndroidManifest.xml").then_some(d)
    });
    assert_code(inspect(&apk), "APK_NO_MANIFEST", "manifest removed");

    let m = tapper_manifest();
    let mut z = Zip::new();
    z.add("assets/AndroidManifest.xml", Data::Stored(m));
    assert_code(
        inspect(&z.finish()),
        "APK_NO_MANIFEST",
        "manifest not at the root",
    );

    assert_code(
        inspect(&Zip::new().finish()),
        "APK_NO_MANIFEST",
        "empty zip",
    );
}

// ---------------------------------------------------------------------------------------------
// APK_MALFORMED_MANIFEST

/// A named in-place corruption of a manifest.
type Patch = Box<dyn Fn(&mut Vec<u8>)>;

#[test]
fn corrupted_chunk_sizes() {
    let apk = tapper();
    let m = tapper_manifest();
    let pool = find_chunk(&m, STRING_POOL);
    let first_element = find_chunk(&m, START_ELEMENT);
    let cases: Vec<(&str, Patch)> = vec![
        (
            "root size past the end",
            Box::new(|m| put_u32(m, 4, 0x7fff_fff0)),
        ),
        ("root header size 4", Box::new(|m| put_u16(m, 2, 4))),
        ("root type not XML", Box::new(|m| put_u16(m, 0, 0x0002))),
        (
            "string pool size past the root",
            Box::new(move |m| {
                let n = m.len() as u32 * 2;
                put_u32(m, pool.offset + 4, n)
            }),
        ),
        (
            "string pool size smaller than its header",
            Box::new(move |m| put_u32(m, pool.offset + 4, 12)),
        ),
        (
            "string pool size not a multiple of 4",
            Box::new(move |m| put_u32(m, pool.offset + 4, pool.size as u32 + 2)),
        ),
        (
            "element chunk size zero",
            Box::new(move |m| put_u32(m, first_element.offset + 4, 0)),
        ),
        (
            "element header size 2",
            Box::new(move |m| put_u16(m, first_element.offset + 2, 2)),
        ),
        (
            "element chunk grows over its successors",
            Box::new(move |m| put_u32(m, first_element.offset + 4, first_element.size as u32 + 16)),
        ),
    ];
    for (what, patch) in cases {
        let mut bad = m.clone();
        patch(&mut bad);
        assert_code(
            inspect(&with_manifest(&apk, bad)),
            "APK_MALFORMED_MANIFEST",
            what,
        );
    }
}

#[test]
fn truncated_string_pool() {
    let apk = tapper();
    let m = tapper_manifest();
    let pool = find_chunk(&m, STRING_POOL);

    // The document simply stops half-way through the pool (root size adjusted to match).
    let cut = with_root_size(m[..pool.offset + pool.size / 2].to_vec());
    assert_code(
        inspect(&with_manifest(&apk, cut)),
        "APK_MALFORMED_MANIFEST",
        "document ends in the pool",
    );

    // The file ends half-way through the pool, root size unchanged.
    let cut = m[..pool.offset + pool.size / 2].to_vec();
    assert_code(
        inspect(&with_manifest(&apk, cut)),
        "APK_MALFORMED_MANIFEST",
        "file ends in the pool",
    );

    let mut bad = m.clone();
    put_u32(&mut bad, pool.offset + 8, 0x00ff_ffff);
    assert_code(
        inspect(&with_manifest(&apk, bad)),
        "APK_MALFORMED_MANIFEST",
        "string count too large",
    );

    let mut bad = m.clone();
    put_u32(&mut bad, pool.offset + 20, pool.size as u32 + 64);
    assert_code(
        inspect(&with_manifest(&apk, bad)),
        "APK_MALFORMED_MANIFEST",
        "strings start past the pool",
    );

    // Every string offset points past the strings area.
    let mut bad = m.clone();
    let count = u32_at(&m, pool.offset + 8) as usize;
    for i in 0..count {
        put_u32(
            &mut bad,
            pool.offset + pool.header_size + 4 * i,
            0x00ff_fff0,
        );
    }
    assert_code(
        inspect(&with_manifest(&apk, bad)),
        "APK_MALFORMED_MANIFEST",
        "string offsets out of range",
    );

    // A string's length claims more characters than the pool holds.
    let mut bad = m.clone();
    let strings_start = pool.offset + u32_at(&m, pool.offset + 20) as usize;
    for i in 0..count {
        let at = strings_start + u32_at(&m, pool.offset + pool.header_size + 4 * i) as usize;
        put_u16(&mut bad, at, 0x7fff);
    }
    assert_code(
        inspect(&with_manifest(&apk, bad)),
        "APK_MALFORMED_MANIFEST",
        "string lengths too long",
    );
}

#[test]
fn out_of_range_string_indices() {
    let apk = tapper();
    let m = tapper_manifest();
    let first_element = find_chunk(&m, START_ELEMENT);
    let ext = first_element.offset + first_element.header_size;
    let label = attribute_offset(&m, ATTR_LABEL);
    let version_code = attribute_offset(&m, ATTR_VERSION_CODE);
    let string_attr = (0..)
        .map(|i| ext + 20 + i * 20)
        .find(|&at| m[at + 15] == TYPE_STRING)
        .unwrap();
    let end = find_chunk(&m, END_ELEMENT);

    let cases: Vec<(&str, usize, u32)> = vec![
        ("element name", ext + 4, 0xffff),
        ("element namespace", ext, 0x7fff_0000),
        ("attribute name (versionCode)", version_code + 4, 0x1_0000),
        ("attribute namespace (label)", label, 0xfff0),
        ("attribute raw value", string_attr + 8, 0xfffe),
        (
            "attribute typed string value",
            string_attr + 16,
            0x00ff_ffff,
        ),
        (
            "end element name mismatch",
            end.offset + end.header_size + 4,
            0xffff,
        ),
    ];
    for (what, at, value) in cases {
        let mut bad = m.clone();
        put_u32(&mut bad, at, value);
        assert_code(
            inspect(&with_manifest(&apk, bad)),
            "APK_MALFORMED_MANIFEST",
            what,
        );
    }
}

#[test]
fn corrupted_attribute_layout() {
    let apk = tapper();
    let m = tapper_manifest();
    let first_element = find_chunk(&m, START_ELEMENT);
    let ext = first_element.offset + first_element.header_size;
    let cases: Vec<(&str, usize, u16)> = vec![
        ("attribute count past the chunk", ext + 12, 0xffff),
        ("attribute stride below 20", ext + 10, 4),
        ("attribute start inside the element header", ext + 8, 2),
        ("attribute start past the chunk", ext + 8, 0xfff0),
    ];
    for (what, at, value) in cases {
        let mut bad = m.clone();
        put_u16(&mut bad, at, value);
        assert_code(
            inspect(&with_manifest(&apk, bad)),
            "APK_MALFORMED_MANIFEST",
            what,
        );
    }
    let mut bad = m.clone();
    let vc = attribute_offset(&m, ATTR_VERSION_CODE);
    put_u16(&mut bad, vc + 12, 2); // Res_value.size
    assert_code(
        inspect(&with_manifest(&apk, bad)),
        "APK_MALFORMED_MANIFEST",
        "typed value size 2",
    );
}

#[test]
fn structurally_broken_documents() {
    let apk = tapper();
    let m = tapper_manifest();
    // The last end tag is </manifest> (only the end of the namespace follows it).
    let last = chunks(&m)
        .into_iter()
        .rfind(|c| c.typ == END_ELEMENT)
        .unwrap();
    let unclosed = with_root_size(m[..last.offset].to_vec());
    assert_code(
        inspect(&with_manifest(&apk, unclosed)),
        "APK_MALFORMED_MANIFEST",
        "</manifest> missing",
    );

    let cut = m[..m.len() - 100].to_vec();
    assert_code(
        inspect(&with_manifest(&apk, cut)),
        "APK_MALFORMED_MANIFEST",
        "last 100 bytes cut",
    );

    assert_code(
        inspect(&with_manifest(&apk, Vec::new())),
        "APK_MALFORMED_MANIFEST",
        "empty manifest",
    );

    let text =
        b"<?xml version=\"1.0\"?>\n<manifest package=\"a.b\" android:versionCode=\"1\"/>".to_vec();
    let err = inspect(&with_manifest(&apk, text)).unwrap_err();
    assert_eq!(err.code(), "APK_MALFORMED_MANIFEST");
    assert!(err.to_string().contains("plain-text XML"), "{err}");

    // Root element renamed: the UTF-16 string "manifest" becomes "manifesx".
    let utf16 = |s: &str| {
        s.encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect::<Vec<u8>>()
    };
    let needle = [&[8u8, 0][..], &utf16("manifest"), &[0, 0]].concat();
    let at = m.windows(needle.len()).position(|w| w == needle).unwrap();
    let mut bad = m.clone();
    bad[at + 2 + 14] = b'x';
    let err = inspect(&with_manifest(&apk, bad)).unwrap_err();
    assert_eq!(err.code(), "APK_MALFORMED_MANIFEST");
    assert!(err.to_string().contains("<manifesx>"), "{err}");
}

#[test]
fn unsafe_package_name_is_rejected() {
    let apk = tapper();
    let m = tapper_manifest();
    let utf16 = |s: &str| {
        s.encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect::<Vec<u8>>()
    };
    let needle = utf16("com.playrack.demo.tapper");
    let at = m.windows(needle.len()).position(|w| w == needle).unwrap();
    let mut bad = m.clone();
    bad[at + 2 * 3] = b';'; // "com;playrack.demo.tapper"
    assert_code(
        inspect(&with_manifest(&apk, bad)),
        "APK_MALFORMED_MANIFEST",
        "package with ';'",
    );
}

// ---------------------------------------------------------------------------------------------
// APK_MISSING_FIELD

#[test]
fn manifest_without_version_code() {
    let apk = tapper();
    let m = tapper_manifest();
    // Re-map the versionCode attribute's resource id: the manifest no longer declares one.
    let map = find_chunk(&m, RESOURCE_MAP);
    let mut bad = m.clone();
    let slot = (map.offset + map.header_size..map.offset + map.size)
        .step_by(4)
        .find(|&at| u32_at(&m, at) == ATTR_VERSION_CODE)
        .unwrap();
    put_u32(&mut bad, slot, 0x0101_ffff);
    let err = inspect(&with_manifest(&apk, bad)).unwrap_err();
    assert_eq!(err.code(), "APK_MISSING_FIELD", "{err}");
    assert!(err.to_string().contains("versionCode"), "{err}");
}

#[test]
fn manifest_without_package() {
    let apk = tapper();
    let m = tapper_manifest();
    let utf16 = |s: &str| {
        s.encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect::<Vec<u8>>()
    };
    let needle = [&[7u8, 0][..], &utf16("package"), &[0, 0]].concat();
    let at = m.windows(needle.len()).position(|w| w == needle).unwrap();
    let mut bad = m.clone();
    bad[at + 2 + 12] = b'f'; // the attribute is now called "packagf"
    let err = inspect(&with_manifest(&apk, bad)).unwrap_err();
    assert_eq!(err.code(), "APK_MISSING_FIELD", "{err}");
    assert!(err.to_string().contains("package"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// APK_MALFORMED_RESOURCES

#[test]
fn resources_needed_for_the_label() {
    let apk = tapper();
    let arsc = tapper_arsc();
    assert_code(
        inspect(&with_resources(&apk, None)),
        "APK_MALFORMED_RESOURCES",
        "arsc removed",
    );

    let mut rng = Rng::new(7);
    assert_code(
        inspect(&with_resources(&apk, Some(rng.bytes(arsc.len())))),
        "APK_MALFORMED_RESOURCES",
        "arsc replaced by random bytes",
    );
    assert_code(
        inspect(&with_resources(&apk, Some(arsc[..arsc.len() / 2].to_vec()))),
        "APK_MALFORMED_RESOURCES",
        "arsc truncated",
    );
    let mut bad = arsc.clone();
    put_u16(&mut bad, 0, 0x0003);
    assert_code(
        inspect(&with_resources(&apk, Some(bad))),
        "APK_MALFORMED_RESOURCES",
        "arsc root type",
    );

    let pool = find_chunk(&arsc, STRING_POOL);
    let mut bad = arsc.clone();
    put_u32(&mut bad, pool.offset + 8, 0x0fff_ffff);
    assert_code(
        inspect(&with_resources(&apk, Some(bad))),
        "APK_MALFORMED_RESOURCES",
        "value pool count",
    );

    // The label points at an entry the table does not have.
    let m = tapper_manifest();
    let label = attribute_offset(&m, ATTR_LABEL);
    let mut bad = m.clone();
    let id = u32_at(&m, label + 16);
    assert_eq!(id >> 24, 0x7f, "the label is an app resource reference");
    put_u32(&mut bad, label + 16, id | 0xff);
    let err = inspect(&with_manifest(&apk, bad)).unwrap_err();
    assert_eq!(err.code(), "APK_MALFORMED_RESOURCES", "{err}");
    assert!(err.to_string().contains("does not define"), "{err}");
}

#[test]
fn framework_label_reference_needs_no_table() {
    let apk = tapper();
    let m = tapper_manifest();
    let label = attribute_offset(&m, ATTR_LABEL);
    let mut bad = m.clone();
    put_u32(&mut bad, label + 16, 0x0104_0001); // @android:string/…
    let info = inspect(&with_manifest(&apk, bad)).unwrap();
    assert_eq!(info.label, None);
    assert_eq!(info.package, "com.playrack.demo.tapper");
}

// ---------------------------------------------------------------------------------------------
// APK_ZIP_BOMB

const BOMB_MIB: usize = 200;

#[test]
fn honest_bomb_is_rejected_by_its_ratio() {
    let zeros = deflated_zeros(BOMB_MIB);
    eprintln!("{BOMB_MIB} MiB of zeros deflate to {} bytes", zeros.len());
    let mut z = Zip::new();
    z.add("AndroidManifest.xml", Data::Deflate(tapper_manifest()));
    z.add(
        "assets/zeros.bin",
        Data::Raw {
            deflated: zeros,
            uncompressed_size: (BOMB_MIB * 1024 * 1024) as u32,
            crc: 0,
        },
    );
    let bomb = z.finish();
    assert_code(
        inspect(&bomb),
        "APK_ZIP_BOMB",
        "200 MiB of zeros, ratio > 100",
    );

    // Allowed ratio but not that much in total: still a bomb, from the declared total.
    let limits = Limits {
        max_ratio: 10_000,
        max_uncompressed_total: 100 * 1024 * 1024,
        ..Limits::default()
    };
    assert_code(
        inspect_bytes(&bomb, &limits),
        "APK_ZIP_BOMB",
        "declared total over 100 MiB",
    );

    // With generous limits it's just a big asset the inspector never needs to inflate.
    let limits = Limits {
        max_ratio: 10_000,
        ..Limits::default()
    };
    let err = inspect_bytes(&bomb, &limits).unwrap_err();
    // The manifest alone (no resources.arsc) fails later, on the label, proving the zip passed.
    assert_eq!(err.code(), "APK_MALFORMED_RESOURCES", "{err}");
}

#[test]
fn lying_bomb_is_caught_while_inflating() {
    let real = tapper_manifest();
    // The manifest entry declares the real manifest's size, but inflates to 200 MiB of zeros.
    let mut z = Zip::new();
    z.add(
        "AndroidManifest.xml",
        Data::Raw {
            deflated: deflated_zeros(BOMB_MIB),
            uncompressed_size: real.len() as u32,
            crc: 0,
        },
    );
    let err = inspect(&z.finish()).unwrap_err();
    assert_eq!(err.code(), "APK_ZIP_BOMB", "{err}");
    assert!(err.to_string().contains("inflates to more than"), "{err}");

    // Declares 3 MiB (under the 4 MiB manifest limit, ratio under 100): still stopped at 3 MiB.
    let mut z = Zip::new();
    z.add(
        "AndroidManifest.xml",
        Data::Raw {
            deflated: deflated_zeros(BOMB_MIB),
            uncompressed_size: 3 * 1024 * 1024,
            crc: 0,
        },
    );
    let err = inspect(&z.finish()).unwrap_err();
    assert_eq!(err.code(), "APK_ZIP_BOMB", "{err}");
}

#[test]
fn too_many_entries() {
    let limits = Limits::default();
    let mut z = Zip::new();
    z.add("AndroidManifest.xml", Data::Deflate(tapper_manifest()));
    for i in 0..limits.max_entries {
        z.add(&format!("assets/{i}"), Data::Stored(Vec::new()));
    }
    assert_code(
        inspect(&z.finish()),
        "APK_ZIP_BOMB",
        "max_entries + 1 entries",
    );

    let tight = Limits {
        max_entries: 5,
        ..Limits::default()
    };
    assert_code(
        inspect_bytes(&tapper(), &tight),
        "APK_ZIP_BOMB",
        "tapper with max_entries 5",
    );
}

#[test]
fn declared_sizes_over_the_total() {
    let mut z = Zip::new();
    z.add("AndroidManifest.xml", Data::Deflate(tapper_manifest()));
    for i in 0..5 {
        z.add_phantom(&format!("assets/huge{i}"), 1 << 30, 1 << 30);
    }
    assert_code(inspect(&z.finish()), "APK_ZIP_BOMB", "5 x 1 GiB declared");
}

#[test]
fn per_file_limits() {
    let small_manifest = Limits {
        max_manifest_bytes: 1000,
        ..Limits::default()
    };
    assert_code(
        inspect_bytes(&tapper(), &small_manifest),
        "APK_ZIP_BOMB",
        "manifest over 1000 bytes",
    );
    let small_arsc = Limits {
        max_resources_bytes: 100,
        ..Limits::default()
    };
    assert_code(
        inspect_bytes(&tapper(), &small_arsc),
        "APK_ZIP_BOMB",
        "arsc over 100 bytes",
    );

    // An icon over its limit is skipped for a smaller density, not an error.
    let icon_limit = Limits {
        max_icon_bytes: 99, // xhdpi is 104 bytes, hdpi 100, mdpi 97
        ..Limits::default()
    };
    let info = inspect_bytes(&tapper(), &icon_limit).unwrap();
    let icon = info.icon.expect("a smaller icon fits");
    assert!(icon.bytes.len() <= 99, "{icon:?}");
    assert_eq!(icon.path, "res/drawable-mdpi-v4/icon.png");
}

#[test]
fn every_error_message_is_for_humans() {
    let err = inspect(b"nope").unwrap_err();
    assert!(err.to_string().starts_with("not a valid APK"), "{err}");
    let err = inspect(&repack(&tapper(), |n, d| {
        (n != "AndroidManifest.xml").then_some(d)
    }))
    .unwrap_err();
    assert!(err.to_string().contains("no AndroidManifest.xml"), "{err}");
}
