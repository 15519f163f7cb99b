//! Other packages' binaries for a test: `CARGO_BIN_EXE_*` names only the test's own crate's,
//! and cargo does not rebuild another crate's for it. One place builds them, with the features
//! the test command builds them with (the virtual device with x264, so it can slice frames).

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use crate::fixtures::workspace_root;

/// The virtual device's features in tests, benchmarks and the browser suite: with x264, so it
/// sends sliced frames when the agent asks (as `scripts/test.sh` builds it).
pub const DEVICE_FEATURES: &[&str] = &["--features", "x264"];

/// The `virtual-device` binary (release: the optimised one, for benchmarks that measure the
/// device's own speed), brought up to date once per process.
pub fn virtual_device(release: bool) -> PathBuf {
    static DEBUG: Mutex<bool> = Mutex::new(false);
    static RELEASE: Mutex<bool> = Mutex::new(false);
    let built = if release { &RELEASE } else { &DEBUG };
    binary(
        built,
        "android-injector",
        "virtual-device",
        release,
        DEVICE_FEATURES,
    )
}

/// `bin` of `package`, built with `features` the first time `built` is false; its path.
///
/// `scripts/test.sh`'s `cargo test --workspace` has just built every debug binary of the
/// workspace with the run's own features (it says so with `PLAYRACK_BINS_BUILT`): building one
/// package alone would resolve other features, rebuild its dependencies and replace the binary
/// (minutes on a cold machine), so a debug binary that exists is then taken as built.
pub fn binary(
    built: &Mutex<bool>,
    package: &str,
    bin: &str,
    release: bool,
    features: &[&str],
) -> PathBuf {
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    let root = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let path = target
        .join(if release { "release" } else { "debug" })
        .join(bin);
    let prebuilt = !release && std::env::var_os("PLAYRACK_BINS_BUILT").is_some() && path.exists();
    if !*built && !prebuilt {
        *built = true;
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", package, "--bin", bin])
            .args(features)
            .args(release.then_some("--release"))
            .current_dir(&root)
            .status()
            .expect("run cargo");
        assert!(status.success(), "building {bin}");
    }
    assert!(path.exists(), "{} missing", path.display());
    path
}
