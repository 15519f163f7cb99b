//! The package cache: APKs copied from the room's shared volume, named by SHA-256.
//!
//! ```text
//! <cache>/<sha256>.apk          verified packages; mtime = last use (for LRU eviction)
//! <cache>/.incoming/<sha256>    a copy in progress (never read by anything else)
//! ```
//!
//! A sync runs the real `rsync` from the shared volume — a mounted path or an
//! `rsync://host[:port]/module` daemon URL — into `.incoming`, parsing `--info=progress2` for
//! progress reports, then checks the size and SHA-256 before renaming the file into place. A
//! partial or corrupt copy is deleted, never used. After each sync, least-recently-used
//! packages are evicted until the cache fits its budget (never the one just synced, nor one
//! pinned by a play that is installing it).
//!
//! Names come only from validated hashes, and the source path inside the shared volume is
//! checked to be relative and plain: nothing the controller sends becomes an arbitrary path.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use anyhow::{Context, bail, ensure};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

/// How long rsync may go without transferring anything before it gives up (its `--timeout`).
pub const RSYNC_IO_TIMEOUT_SECS: u32 = 60;

/// A SHA-256 in lower-case hex.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Where the controller's package store keeps a package inside the shared volume
/// (`apk/<sha[0..2]>/<sha>.apk`), used when a sync names no path.
pub fn default_source(sha256: &str) -> String {
    format!("apk/{}/{sha256}.apk", &sha256[..2])
}

/// A relative, plain path inside the shared volume: no `..`, no leading `/` or `-`, no
/// control characters and nothing rsync would read as a pattern or an option.
pub fn check_source(rel: &str) -> anyhow::Result<()> {
    ensure!(
        !rel.is_empty()
            && !rel.starts_with('/')
            && !rel.starts_with('-')
            && rel
                .split('/')
                .all(|c| !c.is_empty() && c != "." && c != "..")
            && rel
                .bytes()
                .all(|b| { b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-') }),
        "package source {rel:?} is not a plain relative path"
    );
    Ok(())
}

/// The percentage from one `rsync --info=progress2` line (`  1,234,567  45%  1.2MB/s …`).
pub fn parse_progress(line: &str) -> Option<u8> {
    line.split_whitespace()
        .find_map(|t| t.strip_suffix('%'))
        .and_then(|p| p.parse::<u8>().ok())
        .filter(|p| *p <= 100)
}

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
    rsync: PathBuf,
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
            rsync: PathBuf::from("rsync"),
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

    /// The rsync source for a path inside the shared volume.
    fn source_url(&self, rel: &str) -> String {
        let root = self.shared_volume.trim_end_matches('/');
        format!("{root}/{rel}")
    }

    /// Copies package `sha256` (`size` bytes, at `source` inside the shared volume, or the
    /// store's default place when empty) into the cache. `progress` gets percentages as the
    /// copy goes. Returns the verified file.
    pub async fn sync(
        &self,
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
        check_source(&rel)?;
        ensure!(
            !self.shared_volume.is_empty(),
            "no shared volume configured"
        );
        let _one_at_a_time = self.syncing.lock().await;
        if let Some(p) = self.get(sha256) {
            progress(100);
            return Ok(p);
        }
        let tmp = self.dir.join(".incoming").join(sha256);
        let _ = tokio::fs::remove_file(&tmp).await;
        let result = self
            .copy_and_verify(&rel, &tmp, sha256, size, &mut progress)
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
        rel: &str,
        tmp: &Path,
        sha256: &str,
        size: u64,
        progress: &mut impl FnMut(u8),
    ) -> anyhow::Result<()> {
        let src = self.source_url(rel);
        let mut child = tokio::process::Command::new(&self.rsync)
            .args(["--no-motd", "--info=progress2", "--inplace"])
            .arg(format!("--timeout={RSYNC_IO_TIMEOUT_SECS}"))
            .arg("--")
            .arg(&src)
            .arg(tmp)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting rsync")?;
        let mut stdout = child.stdout.take().context("rsync stdout")?;
        let mut stderr = child.stderr.take().context("rsync stderr")?;
        let err_task = tokio::spawn(async move {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s).await;
            s
        });
        // progress2 rewrites one line with '\r'
        let mut buf = [0u8; 4096];
        let mut line = Vec::new();
        let mut last = None;
        loop {
            let n = stdout.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            for &b in &buf[..n] {
                if b == b'\r' || b == b'\n' {
                    if let Some(p) = parse_progress(&String::from_utf8_lossy(&line))
                        && last != Some(p)
                        && p < 100
                    {
                        last = Some(p);
                        progress(p);
                    }
                    line.clear();
                } else {
                    line.push(b);
                }
            }
        }
        let status = child.wait().await?;
        let err = err_task.await.unwrap_or_default();
        if !status.success() {
            bail!("rsync {src} failed ({status}): {}", err.trim());
        }
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

/// SHA-256 (hex) and length of a file.
pub async fn hash_file(path: &Path) -> anyhow::Result<(String, u64)> {
    let mut f = tokio::fs::File::open(path).await?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut len = 0u64;
    loop {
        let n = f.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        len += n as u64;
        h.update(&buf[..n]);
    }
    Ok((hex::encode(h.finalize()), len))
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
    fn progress_lines_sources_and_eviction() {
        assert_eq!(
            parse_progress("      1,048,576  45%   10.00MB/s    0:00:00 (xfr#1, to-chk=0/1)"),
            Some(45)
        );
        assert_eq!(parse_progress("sending incremental file list"), None);
        assert!(check_source("apk/ab/abc.apk").is_ok());
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "-e sh",
            "a//b",
            "a b",
            "a*",
        ] {
            assert!(check_source(bad).is_err(), "{bad}");
        }
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
