//! The package store: the controller's directory holding each APK once, named by its SHA-256,
//! plus the icons extracted from them and the scratch files of uploads in progress. Packages
//! are laid out as on a room's shared volume (`playrack_volume::package_path`), where the
//! placer (`deploy::placer`) copies them; boards never read the store.
//!
//! ```text
//! <root>/apk/<sha[0..2]>/<sha>.apk   packages, immutable once written
//! <root>/icons/<sha>                 the package's icon (PNG or WebP bytes)
//! <root>/.incoming/<upload id>.part  uploads in progress
//! <root>/.verify/<room>-<sha>        a volume's copy read back to be verified (deploy::placer)
//! ```
//! Every name is built here from validated ids and hashes: nothing a client sends becomes a path.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

pub struct PackageStore {
    root: PathBuf,
}

/// A SHA-256 in lower-case hex: the only thing that names a stored package.
pub use playrack_volume::is_sha256_hex;

/// Ids the controller generates: `<prefix>_<base32>`.
fn is_safe_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl PackageStore {
    pub fn open(root: &Path) -> io::Result<Self> {
        for dir in ["apk", "icons", ".incoming"] {
            fs::create_dir_all(root.join(dir))?;
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn part_path(&self, upload_id: &str) -> io::Result<PathBuf> {
        if !is_safe_id(upload_id) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "bad upload id"));
        }
        Ok(self
            .root
            .join(".incoming")
            .join(format!("{upload_id}.part")))
    }

    pub fn apk_path(&self, sha256: &str) -> io::Result<PathBuf> {
        if !is_sha256_hex(sha256) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "bad sha256"));
        }
        // The store is laid out as a shared volume is, so a room's volume may be the store.
        Ok(self.root.join(playrack_volume::package_path(sha256)))
    }

    pub fn icon_path(&self, sha256: &str) -> io::Result<PathBuf> {
        if !is_sha256_hex(sha256) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "bad sha256"));
        }
        Ok(self.root.join("icons").join(sha256))
    }

    /// Moves a finished scratch file into the store under its hash: fsync the data, rename
    /// (atomic on one filesystem), fsync the directory so the name survives a power cut. If the
    /// same bytes are already stored, the scratch file is simply dropped.
    pub fn commit(&self, part: &Path, sha256: &str) -> io::Result<PathBuf> {
        let dest = self.apk_path(sha256)?;
        File::open(part)?.sync_all()?;
        let dir = dest.parent().expect("apk path has a parent");
        fs::create_dir_all(dir)?;
        if dest.exists() {
            fs::remove_file(part)?;
        } else {
            fs::rename(part, &dest)?;
            File::open(dir)?.sync_all()?;
        }
        Ok(dest)
    }

    /// Writes an icon atomically (temp file + rename).
    pub fn put_icon(&self, sha256: &str, bytes: &[u8]) -> io::Result<()> {
        let dest = self.icon_path(sha256)?;
        // A temp name of its own: two versions of one APK may settle (and write this icon) at
        // once, and must not rename each other's temp file away.
        let tmp = dest.with_extension(format!("{}.tmp", crate::db::random_token(12)));
        fs::write(&tmp, bytes)?;
        File::open(&tmp)?.sync_all()?;
        fs::rename(tmp, dest)
    }

    /// Deletes a package and its icon (missing files are fine).
    pub fn remove(&self, sha256: &str) -> io::Result<()> {
        for path in [self.apk_path(sha256)?, self.icon_path(sha256)?] {
            match fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// Deletes scratch files whose upload is not in `keep`; returns how many.
    pub fn remove_parts_except(&self, keep: &[String]) -> io::Result<usize> {
        let mut removed = 0;
        for entry in fs::read_dir(self.root.join(".incoming"))? {
            let path = entry?.path();
            let id = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            if !keep.iter().any(|k| k == id) {
                fs::remove_file(&path)?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Deletes packages (and icons) whose hash is not in `keep`; returns how many packages.
    pub fn remove_apks_except(&self, keep: &[String]) -> io::Result<usize> {
        let mut removed = 0;
        for shard in fs::read_dir(self.root.join("apk"))? {
            for entry in fs::read_dir(shard?.path())? {
                let path = entry?.path();
                let sha = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default()
                    .to_owned();
                if !keep.contains(&sha) {
                    fs::remove_file(&path)?;
                    let _ = fs::remove_file(self.root.join("icons").join(&sha));
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    /// Every stored package hash (for tests and the operator's view).
    pub fn list(&self) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        for shard in fs::read_dir(self.root.join("apk"))? {
            for entry in fs::read_dir(shard?.path())? {
                if let Some(s) = entry?.path().file_stem().and_then(|s| s.to_str()) {
                    out.push(s.to_owned());
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_only_from_validated_ids() {
        let dir = tempfile::tempdir().unwrap();
        let store = PackageStore::open(dir.path()).unwrap();
        assert!(store.part_path("upl_abc").is_ok());
        for bad in ["../x", "a/b", "", "x.y"] {
            assert!(store.part_path(bad).is_err(), "{bad}");
        }
        assert!(store.apk_path(&"a".repeat(64)).is_ok());
        assert!(store.apk_path(&"A".repeat(64)).is_err());
        assert!(store.apk_path("../../etc/passwd").is_err());
    }

    #[test]
    fn commit_is_idempotent_for_identical_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let store = PackageStore::open(dir.path()).unwrap();
        let sha = "ab".repeat(32);
        for id in ["upl_a", "upl_b"] {
            let part = store.part_path(id).unwrap();
            fs::write(&part, b"same bytes").unwrap();
            let dest = store.commit(&part, &sha).unwrap();
            assert!(!part.exists());
            assert_eq!(fs::read(dest).unwrap(), b"same bytes");
        }
        assert_eq!(store.list().unwrap(), vec![sha.clone()]);
        store.remove(&sha).unwrap();
        assert!(store.list().unwrap().is_empty());
    }

    #[test]
    fn the_same_icon_can_be_written_by_two_versions_at_once() {
        // Two uploads of one APK settle side by side and both store its icon.
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(PackageStore::open(dir.path()).unwrap());
        let sha = "cd".repeat(32);
        let writers: Vec<_> = (0..4)
            .map(|_| {
                let (store, sha) = (store.clone(), sha.clone());
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        store.put_icon(&sha, b"\x89PNG icon").unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().expect("no writer fails");
        }
        let icons: Vec<_> = fs::read_dir(dir.path().join("icons")).unwrap().collect();
        assert_eq!(icons.len(), 1, "no temp file is left behind");
        assert_eq!(
            fs::read(store.icon_path(&sha).unwrap()).unwrap(),
            b"\x89PNG icon"
        );
    }
}
