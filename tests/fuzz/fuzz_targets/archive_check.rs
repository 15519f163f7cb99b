//! The save-archive check the node agent runs before it restores (or uploads) a player's
//! archive (`node-agent/src/archive/members.rs`). The input is the tar stream (gzipped here,
//! so the fuzzer mutates tar headers, not deflate). Whatever it accepts stays within the
//! member and expansion limits, and every member — by `std::path` components, an independent
//! reading of the names — is relative, has no `..`, and lies inside this package's two data
//! directories (or is a directory on the way to them).
#![no_main]
use flate2::Compression;
use flate2::write::GzEncoder;
use libfuzzer_sys::fuzz_target;
use playrack_fuzz::archive_members::{check_tar_gz, roots};
use std::io::Write;
use std::path::{Component, Path, PathBuf};

const PACKAGE: &str = "com.x.game";
const MAX_EXPANDED: u64 = 1 << 20;
const MAX_MEMBERS: usize = 64;

fuzz_target!(|data: &[u8]| {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(data).unwrap();
    let gz = gz.finish().unwrap();
    let Ok(n) = check_tar_gz(&gz[..], PACKAGE, MAX_EXPANDED, MAX_MEMBERS) else {
        return;
    };
    assert!(n <= MAX_MEMBERS);
    let roots = roots(PACKAGE);
    let mut tar = tar::Archive::new(data);
    let mut seen = 0;
    let mut expanded = 0u64;
    for entry in tar.entries().unwrap() {
        let entry = entry.unwrap();
        expanded += entry.size();
        let path = entry.path().unwrap().into_owned();
        for c in path.components() {
            assert!(
                matches!(c, Component::Normal(_) | Component::CurDir),
                "accepted member {path:?} has component {c:?}"
            );
        }
        let path: PathBuf = path
            .components()
            .filter(|c| *c != Component::CurDir)
            .collect();
        let kind = entry.header().entry_type();
        assert!(
            kind.is_file() || kind.is_dir(),
            "accepted {path:?} of kind {kind:?}"
        );
        let inside = roots.iter().any(|r| path.starts_with(Path::new(r)));
        let above = roots.iter().any(|r| Path::new(r).starts_with(&path));
        assert!(
            inside || (above && kind.is_dir()),
            "accepted member {path:?} is outside"
        );
        seen += 1;
    }
    assert_eq!(seen, n);
    assert!(expanded <= MAX_EXPANDED);
});
