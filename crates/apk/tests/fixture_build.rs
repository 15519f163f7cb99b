//! The fixture build itself: scripts/build-fixture-apks.sh names missing Debian packages, is
//! idempotent, and `fixtures::build_into` serialises concurrent builders.

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::thread;

use playrack_apk::{Limits, inspect_bytes};
use playrack_test_support::fixtures;

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

/// Also the child half of `env_var_selects_the_directory`: reports which directory `dir()` chose.
#[test]
fn dir_is_the_env_var_or_the_workspace_target() {
    let dir = fixtures::dir();
    assert!(dir.join("tapper-v1.apk").is_file(), "{}", dir.display());
    match std::env::var_os(fixtures::ENV_DIR).filter(|v| !v.is_empty()) {
        Some(want) => assert_eq!(dir, PathBuf::from(want)),
        None => assert_eq!(dir, fixtures::workspace_root().join("target/fixtures")),
    }
    println!("FIXTURE_DIR={}", dir.display());
}

#[test]
fn env_var_selects_the_directory() {
    let run_child = |dir: &PathBuf| {
        let out = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "dir_is_the_env_var_or_the_workspace_target",
                "--nocapture",
            ])
            .env(fixtures::ENV_DIR, dir)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "child failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains(&format!("FIXTURE_DIR={}", dir.display())),
            "{stdout}"
        );
    };

    // A prebuilt directory is used as it is.
    let prebuilt = scratch("fixtures-prebuilt");
    for name in APKS {
        fs::copy(fixtures::apk(name), prebuilt.join(format!("{name}.apk"))).unwrap();
    }
    run_child(&prebuilt);
    assert!(!prebuilt.join(".keystore").exists(), "nothing was rebuilt");

    // A directory without tapper-v1.apk is built on first use.
    let empty = scratch("fixtures-empty").join("fx");
    run_child(&empty);
    for name in APKS {
        assert!(empty.join(format!("{name}.apk")).is_file(), "{name} built");
    }
    fs::remove_dir_all(&prebuilt).unwrap();
    fs::remove_dir_all(empty.parent().unwrap()).unwrap();
}
