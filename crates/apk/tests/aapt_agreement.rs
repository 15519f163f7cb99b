//! The parser agrees with the real toolchain: `aapt dump badging` is run on each fixture and
//! every field both report is compared.
//!
//! Known, deliberate differences (asserted explicitly below, so they can't drift silently):
//! - Without a resources.arsc, aapt prints an empty label even for a literal `android:label`;
//!   we return the literal (which is what Android shows). Checked against `aapt dump xmltree`.
//! - For an adaptive icon aapt reports the XML; we return the best bitmap fallback.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use playrack_apk::{Limits, inspect};
use playrack_test_support::fixtures;

/// The parts of `aapt dump badging` we compare.
#[derive(Debug, Default)]
struct Badging {
    package: String,
    version_code: String,
    version_name: String,
    sdk: Option<String>,
    target_sdk: Option<String>,
    permissions: Vec<String>,
    label: Option<String>,
    /// application-icon-<density> lines.
    icons: BTreeMap<u32, String>,
    launchable: Option<String>,
    native_code: Vec<String>,
}

fn run_aapt(args: &[&str]) -> String {
    let out = Command::new("aapt")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running aapt: {e} (install the Debian package 'aapt')"));
    assert!(
        out.status.success(),
        "aapt {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("aapt prints UTF-8")
}

/// Values quoted as `key='value'` on a badging line.
fn quoted(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("{key}='"))? + key.len() + 2;
    let end = line[start..].find('\'')? + start;
    Some(line[start..end].to_string())
}

fn all_quoted(rest: &str) -> Vec<String> {
    rest.split('\'')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect()
}

fn badging(path: &str) -> Badging {
    let text = run_aapt(&["dump", "badging", path]);
    let mut b = Badging::default();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("package: ") {
            b.package = quoted(rest, "name").unwrap();
            b.version_code = quoted(rest, "versionCode").unwrap();
            b.version_name = quoted(rest, "versionName").unwrap();
        } else if let Some(rest) = line.strip_prefix("sdkVersion:") {
            b.sdk = all_quoted(rest).into_iter().next();
        } else if let Some(rest) = line.strip_prefix("targetSdkVersion:") {
            b.target_sdk = all_quoted(rest).into_iter().next();
        } else if line.starts_with("uses-permission: ") {
            b.permissions.push(quoted(line, "name").unwrap());
        } else if let Some(rest) = line.strip_prefix("application-label:") {
            b.label = all_quoted(rest).into_iter().next();
        } else if let Some(rest) = line.strip_prefix("application-icon-") {
            let (density, path) = rest.split_once(':').unwrap();
            b.icons
                .insert(density.parse().unwrap(), all_quoted(path).remove(0));
        } else if line.starts_with("launchable-activity: ") {
            b.launchable = quoted(line, "name");
        } else if let Some(rest) = line.strip_prefix("native-code: ") {
            b.native_code = all_quoted(rest);
        }
    }
    b
}

#[test]
fn inspect_agrees_with_aapt_dump_badging() {
    for name in ["tapper-v1", "tapper-v2", "runner-v1", "nolauncher"] {
        let path = fixtures::apk(name);
        let p = path.to_str().unwrap();
        let aapt = badging(p);
        let ours = inspect(std::fs::File::open(&path).unwrap(), &Limits::default()).unwrap();
        eprintln!("{name}: aapt {aapt:?}\n{name}: ours {ours:?}");

        assert_eq!(ours.package, aapt.package, "{name} package");
        assert_eq!(
            ours.version_code.to_string(),
            aapt.version_code,
            "{name} versionCode"
        );
        assert_eq!(
            ours.version_name.as_deref().unwrap_or(""),
            aapt.version_name,
            "{name} versionName"
        );
        assert_eq!(
            ours.min_sdk.map(|v| v.to_string()),
            aapt.sdk,
            "{name} sdkVersion"
        );
        assert_eq!(
            ours.target_sdk.map(|v| v.to_string()),
            aapt.target_sdk,
            "{name} targetSdkVersion"
        );
        assert_eq!(ours.permissions, aapt.permissions, "{name} uses-permission");
        assert_eq!(
            ours.launchable_activity, aapt.launchable,
            "{name} launchable-activity"
        );
        assert_eq!(ours.abis, aapt.native_code, "{name} native-code");

        match &aapt.label {
            Some(label) => assert_eq!(ours.label.as_ref(), Some(label), "{name} label"),
            None => {
                // aapt can't show a label without resources.arsc; the manifest tree has it.
                let tree = run_aapt(&["dump", "xmltree", p, "AndroidManifest.xml"]);
                let line = tree
                    .lines()
                    .find(|l| l.contains("android:label(0x01010001)"))
                    .expect("xmltree shows the label attribute");
                // A: android:label(0x01010001)="Headless Helper" (Raw: "Headless Helper")
                let literal = line.split('"').nth(1).map(str::to_string);
                assert!(literal.as_deref().is_some_and(|l| !l.is_empty()), "{line}");
                assert_eq!(ours.label, literal, "{name} literal label");
            }
        }

        // Best bitmap: aapt's highest-density icon if that is a bitmap; otherwise (adaptive
        // icon XML) ours must be a bitmap of the same resource that aapt's resource dump lists.
        let best = aapt.icons.iter().next_back().map(|(_, p)| p.clone());
        match (&ours.icon, best) {
            (None, None) => {}
            (Some(icon), Some(best)) if best.ends_with(".png") => {
                assert_eq!(icon.path, best, "{name} icon")
            }
            (Some(icon), Some(best)) => {
                assert!(best.ends_with(".xml"), "{name}: {best}");
                let stem = |p: &str| {
                    p.rsplit('/')
                        .next()
                        .unwrap()
                        .split('.')
                        .next()
                        .unwrap()
                        .to_string()
                };
                assert_eq!(stem(&icon.path), stem(&best), "{name}: same resource name");
                let listing = run_aapt(&["list", p]);
                assert!(
                    listing.lines().any(|l| l == icon.path),
                    "{name}: {} is in the APK",
                    icon.path
                );
                assert!(
                    !aapt.icons.values().any(|p| p == &icon.path),
                    "a bitmap aapt did not prefer"
                );
            }
            (ours, aapt) => panic!("{name}: icon mismatch: ours {ours:?}, aapt {aapt:?}"),
        }
    }
}

#[test]
fn runner_has_several_label_configs_like_aapt_says() {
    let path = fixtures::apk("runner-v1");
    let text = run_aapt(&["dump", "badging", path.to_str().unwrap()]);
    assert!(text.contains("application-label-zh:'无尽跑酷'"), "{text}");
    assert!(
        text.contains("application-label-de:'Endloser Läufer'"),
        "{text}"
    );
    let ours = inspect(std::fs::File::open(&path).unwrap(), &Limits::default()).unwrap();
    assert_eq!(ours.label.as_deref(), Some("Endless Runner"));
}
