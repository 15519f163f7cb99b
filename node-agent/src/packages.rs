//! The package cache: APKs copied from the room's shared volume, named by SHA-256.
//!
//! ```text
//! <cache>/<sha256>.apk          verified packages; mtime = last use (for LRU eviction)
//! <cache>/.incoming/<sha256>    a copy in progress (never read by anything else)
//! ```
//!
//! A sync runs the real `rsync` (`playrack_volume::copy`) from the room's shared volume — a
//! mounted path or an `rsync://host[:port]/module` daemon URL, named by the controller's
//! command, or else the board's configured one — into `.incoming`, reporting progress, then
//! checks the size and SHA-256 before renaming the file into place. A
//! partial or corrupt copy is deleted, never used. After each sync, least-recently-used
//! packages are evicted until the cache fits its budget (never the one just synced, nor one
//! pinned by a play that is installing it).
//!
//! Names come only from validated hashes, the volume's address is checked
//! (`playrack_volume::Volume::parse`) and the source path inside it is checked to be relative
//! and plain: nothing the controller sends becomes an arbitrary path or an rsync option.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use anyhow::{Context, ensure};

use playrack_volume::{Volume, check_relative};
pub use playrack_volume::{hash_file, is_sha256_hex, package_path as default_source};

/// Which cached files to evict to fit `budget`: oldest use first, skipping `keep`.
/// `files` are `(name, size, last_use)`.
pub fn eviction_order(
    files: &[(String, u64, SystemTime)],
    budget: u64,
    keep: &HashSet<String>,
) -> Vec<String> {
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    let mut by_age: Vec<&(String, u64, SystemTime)> = files.iter().collect();
    by_age.sort_by_key(|f| (f.2, f.0.clone()));
    let mut out = Vec::new();
    for (name, size, _) in by_age {
        if total <= budget {
            break;
        }
        if keep.contains(name) {
            continue;
        }
        total -= size;
        out.push(name.clone());
    }
    out
}

/// The board's package cache.
pub struct PackageCache {
    dir: PathBuf,
    budget: u64,
    shared_volume: String,
    pinned: Mutex<HashSet<String>>,
    syncing: tokio::sync::Mutex<()>,
}

impl PackageCache {
    /// A cache in `dir` of at most `budget` bytes, synced from `shared_volume` (a directory or
    /// an `rsync://` URL).
    pub fn open(dir: PathBuf, budget: u64, shared_volume: String) -> anyhow::Result<PackageCache> {
        std::fs::create_dir_all(dir.join(".incoming"))
            .with_context(|| format!("creating {}", dir.display()))?;
        // Copies interrupted by a crash are never resumed as if whole.
        for e in std::fs::read_dir(dir.join(".incoming"))?.flatten() {
            let _ = std::fs::remove_file(e.path());
        }
        Ok(PackageCache {
            dir,
            budget,
            shared_volume,
            pinned: Mutex::new(HashSet::new()),
            syncing: tokio::sync::Mutex::new(()),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}.apk"))
    }

    /// The verified package, if cached; marks it used (for LRU).
    pub fn get(&self, sha256: &str) -> Option<PathBuf> {
        if !is_sha256_hex(sha256) {
            return None;
        }
        let path = self.path_of(sha256);
        let f = std::fs::File::options().append(true).open(&path).ok()?;
        let _ = f.set_modified(SystemTime::now());
        Some(path)
    }

    /// Keeps `sha256` from eviction until [`PackageCache::unpin`].
    pub fn pin(&self, sha256: &str) {
        self.pinned.lock().unwrap().insert(format!("{sha256}.apk"));
    }

    pub fn unpin(&self, sha256: &str) {
        self.pinned.lock().unwrap().remove(&format!("{sha256}.apk"));
    }

    /// [`PackageCache::sync_from`] the board's configured shared volume.
    pub async fn sync(
        &self,
        sha256: &str,
        size: u64,
        source: &str,
        progress: impl FnMut(u8),
    ) -> anyhow::Result<PathBuf> {
        self.sync_from(None, sha256, size, source, progress).await
    }

    /// Copies package `sha256` (`size` bytes, at `source` inside `volume` — the configured
    /// shared volume when `None` — or the store's default place when `source` is empty) into
    /// the cache. `progress` gets percentages as the copy goes. Returns the verified file.
    pub async fn sync_from(
        &self,
        volume: Option<&str>,
        sha256: &str,
        size: u64,
        source: &str,
        mut progress: impl FnMut(u8),
    ) -> anyhow::Result<PathBuf> {
        ensure!(is_sha256_hex(sha256), "{sha256:?} is not a SHA-256");
        ensure!(
            size <= self.budget,
            "package of {size} bytes exceeds the cache budget of {} bytes",
            self.budget
        );
        let rel = if source.is_empty() {
            default_source(sha256)
        } else {
            source.to_owned()
        };
        check_relative(&rel)?;
        let volume = match volume {
            Some(v) => v,
            None => {
                ensure!(
                    !self.shared_volume.is_empty(),
                    "the controller named no shared volume and none is configured (--shared-volume)"
                );
                &self.shared_volume
            }
        };
        let volume = Volume::parse(volume)?;
        let _one_at_a_time = self.syncing.lock().await;
        if let Some(p) = self.get(sha256) {
            progress(100);
            return Ok(p);
        }
        let tmp = self.dir.join(".incoming").join(sha256);
        let _ = tokio::fs::remove_file(&tmp).await;
        let result = self
            .copy_and_verify(&volume.join(&rel), &tmp, sha256, size, &mut progress)
            .await;
        if let Err(e) = result {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e);
        }
        let dest = self.path_of(sha256);
        tokio::fs::rename(&tmp, &dest).await?;
        progress(100);
        self.evict(sha256)?;
        Ok(dest)
    }

    async fn copy_and_verify(
        &self,
        src: &str,
        tmp: &Path,
        sha256: &str,
        size: u64,
        progress: &mut impl FnMut(u8),
    ) -> anyhow::Result<()> {
        let dest = tmp.to_str().context("cache path is not UTF-8")?;
        playrack_volume::copy(&["--inplace"], src, dest, progress).await?;
        let got = hash_file(tmp).await?;
        ensure!(
            got.1 == size,
            "copied {} bytes of {src}, expected {size}",
            got.1
        );
        ensure!(
            got.0 == sha256,
            "{src} has SHA-256 {}, expected {sha256}: refused",
            got.0
        );
        Ok(())
    }

    /// Evicts least-recently-used packages over the budget, never `keep_sha`.
    fn evict(&self, keep_sha: &str) -> anyhow::Result<()> {
        let mut files = Vec::new();
        for e in std::fs::read_dir(&self.dir)?.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".apk") {
                continue;
            }
            let md = e.metadata()?;
            files.push((
                name,
                md.len(),
                md.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            ));
        }
        let mut keep = self.pinned.lock().unwrap().clone();
        keep.insert(format!("{keep_sha}.apk"));
        for name in eviction_order(&files, self.budget, &keep) {
            tracing::info!(%name, "evicting a package from the cache");
            let _ = std::fs::remove_file(self.dir.join(name));
        }
        Ok(())
    }
}

/// Gives a file an old last-use time (tests of the LRU order).
pub fn set_last_use(path: &Path, when: SystemTime) -> std::io::Result<()> {
    std::fs::File::options()
        .append(true)
        .open(path)?
        .set_modified(when)
}

/// Used by [`PackageCache::sync`] callers that report progress at most this often.
pub const PROGRESS_INTERVAL: Duration = Duration::from_millis(250);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eviction_goes_by_last_use() {
        let t = |s| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        let files = vec![
            ("a".to_owned(), 40, t(3)),
            ("b".to_owned(), 40, t(1)),
            ("c".to_owned(), 40, t(2)),
        ];
        assert_eq!(eviction_order(&files, 80, &HashSet::new()), ["b"]);
        let keep = HashSet::from(["b".to_owned()]);
        assert_eq!(eviction_order(&files, 40, &keep), ["c", "a"]);
        assert!(eviction_order(&files, 120, &HashSet::new()).is_empty());
    }
}
