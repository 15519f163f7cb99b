//! Every field of every real fixture APK (built by scripts/build-fixture-apks.sh), asserted.

mod common;

use std::fs::File;

use playrack_apk::{ApkInfo, Icon, Limits, inspect};
use playrack_test_support::fixtures;

fn inspect_fixture(name: &str) -> ApkInfo {
    // Through a File, the way the controller and the device use it.
    let file = File::open(fixtures::apk(name)).expect("open fixture");
    inspect(file, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {} — {e}", e.code()))
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[12..16], b"IHDR");
    (
        u32::from_be_bytes(bytes[16..20].try_into().unwrap()),
        u32::from_be_bytes(bytes[20..24].try_into().unwrap()),
    )
}

fn assert_icon(name: &str, icon: &Icon, path: &str, density: u16, px: u32) {
    assert_eq!(icon.path, path, "{name} icon path");
    assert_eq!(icon.mime, "image/png", "{name} icon mime");
    assert_eq!(icon.density, density, "{name} icon density");
    assert_eq!(png_size(&icon.bytes), (px, px), "{name} icon pixel size");
    let in_zip = common::entry(&fixtures::apk_bytes(name), path);
    assert_eq!(icon.bytes, in_zip, "{name} icon bytes are the zip entry's");
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn tapper_v1() {
    let info = inspect_fixture("tapper-v1");
    let icon = info.icon.clone().expect("tapper has an icon");
    assert_icon(
        "tapper-v1",
        &icon,
        "res/drawable-xhdpi-v4/icon.png",
        320,
        96,
    );
    assert_eq!(
        info,
        ApkInfo {
            package: "com.playrack.demo.tapper".into(),
            version_code: 1,
            version_name: Some("1.0".into()),
            min_sdk: Some(24),
            target_sdk: Some(33),
            launchable_activity: Some("com.playrack.demo.tapper.MainActivity".into()),
            permissions: strings(&["android.permission.INTERNET", "android.permission.VIBRATE"]),
            label: Some("Tap Tap Demo".into()),
            icon: Some(icon),
            abis: strings(&["arm64-v8a", "armeabi-v7a"]),
        }
    );
}

#[test]
fn tapper_v2_differs_only_in_version() {
    let v1 = inspect_fixture("tapper-v1");
    let v2 = inspect_fixture("tapper-v2");
    assert_eq!(v2.version_code, 2);
    assert_eq!(v2.version_name.as_deref(), Some("1.1"));
    assert_eq!(
        ApkInfo {
            version_code: 1,
            version_name: Some("1.0".into()),
            ..v2
        },
        v1,
        "every other field of tapper-v2 equals tapper-v1's"
    );
}

#[test]
fn runner_v1() {
    let info = inspect_fixture("runner-v1");
    let icon = info.icon.clone().expect("runner has an icon");
    // mipmap-anydpi-v26/ic_launcher.xml (adaptive) is skipped for the best bitmap.
    assert_icon(
        "runner-v1",
        &icon,
        "res/mipmap-xxxhdpi-v4/ic_launcher.png",
        640,
        192,
    );
    assert_eq!(
        info,
        ApkInfo {
            package: "com.playrack.demo.runner".into(),
            version_code: 7,
            version_name: Some("2.3.0".into()),
            min_sdk: Some(21),
            target_sdk: Some(34),
            launchable_activity: Some("com.playrack.demo.runner.RunnerActivity".into()),
            permissions: vec![],
            // The default configuration's value, not values-de or values-zh.
            label: Some("Endless Runner".into()),
            icon: Some(icon),
            abis: vec![],
        }
    );
}

#[test]
fn nolauncher() {
    let info = inspect_fixture("nolauncher");
    assert_eq!(
        info,
        ApkInfo {
            package: "com.playrack.demo.nolauncher".into(),
            version_code: 3,
            version_name: Some("0.3".into()),
            min_sdk: Some(26),
            target_sdk: None,
            launchable_activity: None,
            permissions: strings(&["android.permission.FOREGROUND_SERVICE"]),
            // A literal label: no resources.arsc in this APK at all.
            label: Some("Headless Helper".into()),
            icon: None,
            abis: strings(&["x86_64"]),
        }
    );
    let names: Vec<String> = common::entries(&fixtures::apk_bytes("nolauncher"))
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(!names.contains(&"resources.arsc".to_string()), "{names:?}");
}

#[test]
fn fixtures_are_signed_real_apks() {
    for name in ["tapper-v1", "tapper-v2", "runner-v1", "nolauncher"] {
        let bytes = fixtures::apk_bytes(name);
        let names: Vec<String> = common::entries(&bytes)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert!(
            names
                .iter()
                .any(|n| n.starts_with("META-INF/") && n.ends_with(".RSA")),
            "{name}: {names:?}"
        );
        // APK Signature Scheme v2 block sits before the central directory.
        assert!(
            bytes.windows(16).any(|w| w == b"APK Sig Block 42"),
            "{name} has an APK signing block"
        );
    }
}

#[test]
fn apk_name_may_carry_the_extension() {
    assert_eq!(fixtures::apk("runner-v1"), fixtures::apk("runner-v1.apk"));
    assert!(fixtures::dir().join("runner-v1.apk").is_file());
}
