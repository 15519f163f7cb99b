//! The fixture build itself: scripts/build-fixture-apks.sh names missing Debian packages, is
//! idempotent, and `fixtures::build_into` serialises concurrent builders.

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::thread;

use playrack_apk::{Limits, fixtures, inspect_bytes};

const APKS: [&str; 4] = ["tapper-v1", "tapper-v2", "runner-v1", "nolauncher"];

fn scratch(name: &str) -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn script() -> PathBuf {
    fixtures::workspace_root().join("scripts/build-fixture-apks.sh")
}

#[test]
fn missing_tools_are_named_with_their_debian_package() {
    let empty_path = scratch("no-tools");
    let out = Command::new("/bin/bash")
        .arg(script())
        .arg(empty_path.join("out"))
        .env("PATH", &empty_path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "must fail without tools: {stderr}");
    for needle in [
        "'aapt' (Debian package: aapt)",
        "'zipalign' (Debian package: zipalign)",
        "'apksigner' (Debian package: apksigner)",
        "'keytool' (Debian package: default-jdk-headless)",
        "apt-get install",
    ] {
        assert!(
            stderr.contains(needle),
            "stderr lacks {needle:?}:\n{stderr}"
        );
    }
    assert!(
        !empty_path.join("out").exists(),
        "nothing is created before the check"
    );
}

#[test]
fn concurrent_builds_then_a_rerun_give_the_same_fixtures() {
    let root = scratch("fixture-build");
    let dir = root.join("fx");

    // Three builders race; the lock lets one build and the others find it done.
    let builders: Vec<_> = (0..3)
        .map(|_| {
            let dir = dir.clone();
            thread::spawn(move || fixtures::build_into(&dir))
        })
        .collect();
    for b in builders {
        b.join().expect("builder thread");
    }
    for name in APKS {
        assert!(dir.join(format!("{name}.apk")).is_file(), "{name} built");
    }
    let leftovers: Vec<String> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-") || n.contains(".old-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary dirs left behind: {leftovers:?}"
    );
    let keystore = dir.join(".keystore/fixtures.p12");
    let key_before = fs::read(&keystore).expect("keystore kept in OUTDIR");

    // Running the script again over the same directory succeeds and reuses the key.
    let out = Command::new("bash")
        .arg(script())
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rerun failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fs::read(&keystore).unwrap(), key_before, "keystore reused");
    assert!(!dir.join(".work").exists(), "work dir cleaned up");

    // What the fresh build declares is exactly what the shared fixtures declare.
    for name in APKS {
        let fresh = inspect_bytes(
            &fs::read(dir.join(format!("{name}.apk"))).unwrap(),
            &Limits::default(),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let shared = inspect_bytes(&fixtures::apk_bytes(name), &Limits::default()).unwrap();
        assert_eq!(fresh, shared, "{name}");
    }
    fs::remove_dir_all(&root).unwrap();
}
