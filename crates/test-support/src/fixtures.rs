//! Test support: real, signed APKs built by `scripts/build-fixture-apks.sh` with Debian's
//! `aapt`, `zipalign` and `apksigner`, from the sources in `tests/fixtures/apk-src/`.
//!
//! [`dir`] builds them on first use and caches them; any crate's tests can call
//! `playrack_test_support::fixtures::apk("tapper-v1")`.
//!
//! Where they live: `$PLAYRACK_FIXTURES` if set (built there if `tapper-v1.apk` is missing),
//! otherwise `<workspace>/target/fixtures`, rebuilt whenever the script or the sources change.
//! Concurrent test processes serialise on an exclusive lock on `<dir>.lock`; the build goes to a
//! temporary sibling directory that is renamed into place, so nobody sees a half-built set.
//! `tests/fixtures/README.md` lists the APKs and what each one exercises.

use std::fs::{self, File};
use std::hash::{DefaultHasher, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Environment variable naming a prebuilt (or to-be-built) fixture directory.
pub const ENV_DIR: &str = "PLAYRACK_FIXTURES";
/// The APK whose presence marks a complete fixture directory.
const MARKER: &str = "tapper-v1.apk";
/// Fingerprint of the script and sources the default directory was built from.
const STAMP: &str = ".sources-fingerprint";
/// Debian packages providing the tools the build script needs.
pub const DEBIAN_PACKAGES: &str =
    "aapt zipalign apksigner android-framework-res default-jdk-headless python3";

/// The workspace root, found from this crate's manifest directory (`crates/test-support`).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    match manifest_dir
        .ancestors()
        .find(|p| p.join("scripts/build-fixture-apks.sh").is_file())
    {
        Some(root) => root.to_path_buf(),
        None => manifest_dir.join("../.."),
    }
}

fn script() -> PathBuf {
    workspace_root().join("scripts/build-fixture-apks.sh")
}

fn sources() -> PathBuf {
    workspace_root().join("tests/fixtures/apk-src")
}

/// The directory holding the fixture APKs, building it first if needed. Panics (it is test
/// support) with the build script's output and the Debian packages to install if that fails.
pub fn dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| match std::env::var_os(ENV_DIR) {
        Some(d) if !d.is_empty() => {
            let d = PathBuf::from(d);
            ensure(&d, None);
            d
        }
        _ => {
            let d = workspace_root().join("target/fixtures");
            ensure(&d, Some(fingerprint()));
            d
        }
    })
    .clone()
}

/// Builds the fixtures into `dir` unless it already holds them, with the same locking and
/// atomic rename as [`dir`]. For tests of the build itself; everyone else wants [`dir`].
pub fn build_into(dir: &Path) {
    ensure(dir, None);
}

/// Path of fixture `name` (`"tapper-v1"` or `"tapper-v1.apk"`). Panics if it does not exist.
pub fn apk(name: &str) -> PathBuf {
    let file = if name.ends_with(".apk") {
        name.to_string()
    } else {
        format!("{name}.apk")
    };
    let path = dir().join(file);
    assert!(
        path.is_file(),
        "no fixture APK {} (see tests/fixtures/README.md for the list)",
        path.display()
    );
    path
}

/// The bytes of fixture `name`.
pub fn apk_bytes(name: &str) -> Vec<u8> {
    let path = apk(name);
    fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn is_current(dir: &Path, stamp: Option<&str>) -> bool {
    if !dir.join(MARKER).is_file() {
        return false;
    }
    match stamp {
        None => true,
        Some(want) => fs::read_to_string(dir.join(STAMP)).is_ok_and(|have| have == want),
    }
}

/// Makes sure `dir` holds current fixtures, building them under an exclusive file lock.
fn ensure(dir: &Path, stamp: Option<String>) {
    if is_current(dir, stamp.as_deref()) {
        return;
    }
    let parent = dir.parent().unwrap_or(Path::new("."));
    let base = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "fixtures".into());
    fs::create_dir_all(parent).unwrap_or_else(|e| panic!("creating {}: {e}", parent.display()));
    let lock_path = parent.join(format!("{base}.lock"));
    let lock = File::create(&lock_path)
        .unwrap_or_else(|e| panic!("creating lock file {}: {e}", lock_path.display()));
    lock.lock()
        .unwrap_or_else(|e| panic!("locking {}: {e}", lock_path.display()));

    // Another process may have finished the build while we waited for the lock.
    if is_current(dir, stamp.as_deref()) {
        return;
    }
    let pid = std::process::id();
    let tmp = parent.join(format!(".{base}.tmp-{pid}"));
    let _ = fs::remove_dir_all(&tmp);
    let output = Command::new("bash")
        .arg(script())
        .arg(&tmp)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "could not run bash {}: {e}\nInstall the fixture tools with: \
                 apt-get install {DEBIAN_PACKAGES}",
                script().display()
            )
        });
    if !output.status.success() || !tmp.join(MARKER).is_file() {
        let _ = fs::remove_dir_all(&tmp);
        panic!(
            "building the fixture APKs failed ({}): {} {}\n--- stderr ---\n{}\n--- stdout ---\n{}\n\
             The script needs Debian's Android tools; install them with:\n    \
             apt-get install {DEBIAN_PACKAGES}\n(scripts/install-deps.sh does this.)",
            output.status,
            script().display(),
            tmp.display(),
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout),
        );
    }
    if let Some(stamp) = &stamp {
        fs::write(tmp.join(STAMP), stamp)
            .unwrap_or_else(|e| panic!("writing {}: {e}", tmp.join(STAMP).display()));
    }
    // A directory cannot be renamed over a non-empty one: move the old set aside first.
    let old = parent.join(format!(".{base}.old-{pid}"));
    if dir.exists() {
        fs::rename(dir, &old).unwrap_or_else(|e| panic!("moving aside {}: {e}", dir.display()));
    }
    fs::rename(&tmp, dir)
        .unwrap_or_else(|e| panic!("renaming {} to {}: {e}", tmp.display(), dir.display()));
    let _ = fs::remove_dir_all(&old);
    // The lock is released when `lock` is dropped.
}

/// A fingerprint of the build script and every file under the fixture sources, so the cached
/// APKs are rebuilt when either changes.
fn fingerprint() -> String {
    let mut files = Vec::new();
    collect_files(&sources(), &mut files);
    files.push(script());
    files.sort();
    let mut h = DefaultHasher::new();
    let root = workspace_root();
    for f in &files {
        h.write(
            f.strip_prefix(&root)
                .unwrap_or(f)
                .to_string_lossy()
                .as_bytes(),
        );
        h.write(&fs::read(f).unwrap_or_default());
    }
    format!("{:016x}\n", h.finish())
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_files(&p, out);
        } else {
            out.push(p);
        }
    }
}
