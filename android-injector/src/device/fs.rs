//! The device's sandboxed file system: Android paths mapped onto one per-device data directory.
//!
//! Layout on the host (`<data_dir>` is the `--data-dir` of the device):
//!
//! ```text
//! <data_dir>/fs/data/…            ← /data (apps, /data/local/tmp, /data/data/<pkg>)
//! <data_dir>/fs/data/media/0/…    ← /sdcard, /storage/emulated/0, /storage/self/primary
//! <data_dir>/fs/system/…          ← /system (read-only from the device's point of view)
//! <data_dir>/state/…              ← the device's own records (packages), never mapped
//! ```
//!
//! `/`, `/storage`, `/storage/emulated` and `/storage/self` are virtual directories that only
//! list their children. Every path that comes from the wire or a shell command goes through
//! [`Sandbox::resolve`]: it is normalised lexically (`.`, `..` and repeated slashes, relative
//! paths against the shell's working directory), mapped, and then checked on the host so that
//! no symlink leads outside the data directory. A path that does not map is refused; nothing
//! outside the data directory is ever opened, created or removed.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use playrack_adb_proto::sync::Stat;

/// Where each mapped Android prefix lives under `<data_dir>/fs`, and whether it is writable.
/// Longest prefix first.
const MOUNTS: &[(&str, &str, bool)] = &[
    ("/storage/emulated/0", "data/media/0", true),
    ("/storage/self/primary", "data/media/0", true),
    ("/sdcard", "data/media/0", true),
    ("/data", "data", true),
    ("/system", "system", false),
];

/// Directories that exist only to be listed: (path, children).
const VIRTUAL_DIRS: &[(&str, &[&str])] = &[
    ("/", &["data", "sdcard", "storage", "system"]),
    ("/storage", &["emulated", "self"]),
    ("/storage/emulated", &["0"]),
    ("/storage/self", &["primary"]),
];

/// File system errors, worded like the errno strings Android tools print.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    #[error("No such file or directory")]
    NotFound,
    #[error("Permission denied")]
    PermissionDenied,
    #[error("Read-only file system")]
    ReadOnly,
    #[error("Not a directory")]
    NotADirectory,
    #[error("Is a directory")]
    IsADirectory,
    #[error("File exists")]
    Exists,
    #[error("Directory not empty")]
    NotEmpty,
    #[error("No space left on device (storage quota of {quota} bytes)")]
    QuotaExceeded { quota: u64 },
    #[error("{0}")]
    Io(io::Error),
}

impl FsError {
    /// The errno adb puts on the wire for this error.
    pub fn errno(&self) -> u32 {
        match self {
            FsError::NotFound => 2,
            FsError::PermissionDenied => 13,
            FsError::ReadOnly => 30,
            FsError::NotADirectory => 20,
            FsError::IsADirectory => 21,
            FsError::Exists => 17,
            FsError::NotEmpty => 39,
            FsError::QuotaExceeded { .. } => 28,
            FsError::Io(e) => e.raw_os_error().map(|e| e as u32).unwrap_or(5),
        }
    }
}

impl From<io::Error> for FsError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::NotFound => FsError::NotFound,
            io::ErrorKind::PermissionDenied => FsError::PermissionDenied,
            io::ErrorKind::AlreadyExists => FsError::Exists,
            io::ErrorKind::NotADirectory => FsError::NotADirectory,
            io::ErrorKind::IsADirectory => FsError::IsADirectory,
            io::ErrorKind::DirectoryNotEmpty => FsError::NotEmpty,
            _ => FsError::Io(e),
        }
    }
}

/// A checked Android path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// A real file or directory (existing or not yet) inside the data directory.
    Host {
        android: String,
        host: PathBuf,
        writable: bool,
    },
    /// One of the listing-only directories.
    Virtual {
        android: String,
        children: &'static [&'static str],
    },
}

impl Resolved {
    pub fn android(&self) -> &str {
        match self {
            Resolved::Host { android, .. } | Resolved::Virtual { android, .. } => android,
        }
    }
}

/// Normalises an Android path: absolute, no `.`/`..`/empty components. `..` at the root stays
/// at the root, as in the kernel. Relative paths are taken against `cwd`.
pub fn normalize(cwd: &str, path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let joined;
    let full = if path.starts_with('/') {
        path
    } else {
        joined = format!("{cwd}/{path}");
        &joined
    };
    for part in full.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The per-device file system.
#[derive(Debug)]
pub struct Sandbox {
    /// `<data_dir>/fs`, canonicalised.
    root: PathBuf,
    quota: u64,
}

impl Sandbox {
    /// Opens (creating if needed) the file system under `data_dir`, with a storage quota in
    /// bytes for everything written through the device.
    pub fn open(data_dir: &Path, quota: u64) -> io::Result<Sandbox> {
        let root = data_dir.join("fs");
        for dir in [
            "data/local/tmp",
            "data/data",
            "data/app",
            "data/media/0/Download",
            "system/bin",
        ] {
            fs::create_dir_all(root.join(dir))?;
        }
        Ok(Sandbox {
            root: root.canonicalize()?,
            quota,
        })
    }

    /// The storage quota in bytes.
    pub fn quota(&self) -> u64 {
        self.quota
    }

    /// Maps and checks an Android path (see the module doc).
    pub fn resolve(&self, cwd: &str, path: &str) -> Result<Resolved, FsError> {
        if path.contains('\0') {
            return Err(FsError::NotFound);
        }
        let android = normalize(cwd, path);
        if let Some((_, children)) = VIRTUAL_DIRS.iter().find(|(p, _)| *p == android) {
            return Ok(Resolved::Virtual { android, children });
        }
        for (prefix, dir, writable) in MOUNTS {
            let rest = if android == *prefix {
                Some("")
            } else {
                android
                    .strip_prefix(prefix)
                    .and_then(|r| r.strip_prefix('/'))
            };
            if let Some(rest) = rest {
                let mut host = self.root.join(dir);
                if !rest.is_empty() {
                    host.push(rest);
                }
                self.check_inside(&host)?;
                return Ok(Resolved::Host {
                    android,
                    host,
                    writable: *writable,
                });
            }
        }
        // Outside the map: the device has nothing there we are willing to show.
        Err(FsError::PermissionDenied)
    }

    /// Refuses host paths whose existing part resolves (through symlinks) outside the root.
    fn check_inside(&self, host: &Path) -> Result<(), FsError> {
        let mut probe = host.to_path_buf();
        loop {
            match probe.canonicalize() {
                Ok(real) => {
                    return if real.starts_with(&self.root) {
                        Ok(())
                    } else {
                        Err(FsError::PermissionDenied)
                    };
                }
                Err(_) => {
                    // A dangling symlink is not followed to its target: refuse it outright.
                    if fs::symlink_metadata(&probe).is_ok() {
                        return Err(FsError::PermissionDenied);
                    }
                    if !probe.pop() {
                        return Err(FsError::PermissionDenied);
                    }
                }
            }
        }
    }

    /// Resolves a path that must be a real (host-backed) location; returns the host path.
    pub fn host_path(&self, cwd: &str, path: &str) -> Result<(String, PathBuf), FsError> {
        match self.resolve(cwd, path)? {
            Resolved::Host { android, host, .. } => Ok((android, host)),
            Resolved::Virtual { .. } => Err(FsError::IsADirectory),
        }
    }

    /// Like [`Sandbox::host_path`], for a location about to be created, written or removed.
    pub fn writable_path(&self, cwd: &str, path: &str) -> Result<(String, PathBuf), FsError> {
        match self.resolve(cwd, path)? {
            Resolved::Host {
                android,
                host,
                writable: true,
            } => {
                // The mount points themselves are not removable or replaceable.
                if MOUNTS.iter().any(|(p, _, _)| *p == android) {
                    return Err(FsError::PermissionDenied);
                }
                Ok((android, host))
            }
            Resolved::Host { .. } => Err(FsError::ReadOnly),
            Resolved::Virtual { .. } => Err(FsError::ReadOnly),
        }
    }

    /// stat(2) (following symlinks inside the sandbox).
    pub fn stat(&self, cwd: &str, path: &str) -> Result<Stat, FsError> {
        match self.resolve(cwd, path)? {
            Resolved::Host { host, .. } => Ok(to_stat(&fs::metadata(host)?)),
            Resolved::Virtual { .. } => Ok(virtual_dir_stat()),
        }
    }

    /// lstat(2).
    pub fn lstat(&self, cwd: &str, path: &str) -> Result<Stat, FsError> {
        match self.resolve(cwd, path)? {
            Resolved::Host { host, .. } => Ok(to_stat(&fs::symlink_metadata(host)?)),
            Resolved::Virtual { .. } => Ok(virtual_dir_stat()),
        }
    }

    /// Directory entries (name, lstat), sorted by name, without `.` and `..`.
    pub fn read_dir(&self, cwd: &str, path: &str) -> Result<Vec<(String, Stat)>, FsError> {
        match self.resolve(cwd, path)? {
            Resolved::Virtual { children, .. } => Ok(children
                .iter()
                .map(|c| (c.to_string(), virtual_dir_stat()))
                .collect()),
            Resolved::Host { host, .. } => {
                let meta = fs::metadata(&host)?;
                if !meta.is_dir() {
                    return Err(FsError::NotADirectory);
                }
                let mut out = Vec::new();
                for entry in fs::read_dir(&host)? {
                    let entry = entry?;
                    let name = entry.file_name().to_string_lossy().into_owned();
                    out.push((name, to_stat(&entry.path().symlink_metadata()?)));
                }
                out.sort_by(|a, b| a.0.cmp(&b.0));
                Ok(out)
            }
        }
    }

    /// Opens a regular file for reading.
    pub fn open_read(&self, cwd: &str, path: &str) -> Result<fs::File, FsError> {
        let (_, host) = self.host_path(cwd, path)?;
        if fs::metadata(&host)?.is_dir() {
            return Err(FsError::IsADirectory);
        }
        Ok(fs::File::open(host)?)
    }

    /// Creates (or truncates) a file, creating missing parent directories as adbd's sync does.
    pub fn create_file(
        &self,
        cwd: &str,
        path: &str,
    ) -> Result<(String, PathBuf, fs::File), FsError> {
        let (android, host) = self.writable_path(cwd, path)?;
        if let Some(parent) = host.parent() {
            fs::create_dir_all(parent)?;
            // The parent chain was just created inside the root; re-check for symlinks.
            self.check_inside(parent)?;
        }
        if host.is_dir() {
            return Err(FsError::IsADirectory);
        }
        let f = fs::File::create(&host)?;
        Ok((android, host, f))
    }

    /// Opens a file for appending (shell `>>`), creating it if missing.
    pub fn append_file(&self, cwd: &str, path: &str) -> Result<fs::File, FsError> {
        let (_, host) = self.writable_path(cwd, path)?;
        Ok(fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(host)?)
    }

    /// mkdir, with `-p` semantics when `parents`.
    pub fn mkdir(&self, cwd: &str, path: &str, parents: bool) -> Result<(), FsError> {
        match self.resolve(cwd, path) {
            Ok(Resolved::Virtual { .. }) if parents => return Ok(()),
            Ok(Resolved::Virtual { .. }) => return Err(FsError::Exists),
            Ok(Resolved::Host { host, .. }) if host.is_dir() => {
                return if parents {
                    Ok(())
                } else {
                    Err(FsError::Exists)
                };
            }
            _ => {}
        }
        let (_, host) = self.writable_path(cwd, path)?;
        if parents {
            fs::create_dir_all(&host)?;
        } else {
            fs::create_dir(&host)?;
        }
        Ok(())
    }

    /// Removes a file, or a directory tree when `recursive`.
    pub fn remove(&self, cwd: &str, path: &str, recursive: bool) -> Result<(), FsError> {
        let (_, host) = self.writable_path(cwd, path)?;
        let meta = fs::symlink_metadata(&host)?;
        if meta.is_dir() {
            if !recursive {
                return Err(FsError::IsADirectory);
            }
            fs::remove_dir_all(&host)?;
        } else {
            fs::remove_file(&host)?;
        }
        Ok(())
    }

    /// Renames within the sandbox.
    pub fn rename(&self, cwd: &str, from: &str, to: &str) -> Result<(), FsError> {
        let (_, a) = self.writable_path(cwd, from)?;
        let (_, b) = self.writable_path(cwd, to)?;
        fs::rename(a, b)?;
        Ok(())
    }

    /// Bytes used by regular files under the data directory (what the quota counts).
    pub fn usage(&self) -> u64 {
        fn walk(p: &Path) -> u64 {
            let Ok(rd) = fs::read_dir(p) else { return 0 };
            rd.flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => walk(&e.path()),
                    Ok(t) if t.is_file() => e.metadata().map(|m| m.len()).unwrap_or(0),
                    _ => 0,
                })
                .sum()
        }
        walk(&self.root)
    }

    /// A tracker that fails once `extra` more bytes would pass the quota.
    pub fn quota_tracker(&self) -> QuotaTracker {
        QuotaTracker {
            used: self.usage(),
            quota: self.quota,
        }
    }
}

/// Counts bytes as they are written and refuses those past the quota.
#[derive(Debug, Clone, Copy)]
pub struct QuotaTracker {
    used: u64,
    quota: u64,
}

impl QuotaTracker {
    /// Accounts for `n` more bytes.
    pub fn add(&mut self, n: u64) -> Result<(), FsError> {
        self.used = self.used.saturating_add(n);
        if self.used > self.quota {
            Err(FsError::QuotaExceeded { quota: self.quota })
        } else {
            Ok(())
        }
    }

    /// Gives back bytes (a file replaced or removed while tracking).
    pub fn release(&mut self, n: u64) {
        self.used = self.used.saturating_sub(n);
    }
}

fn virtual_dir_stat() -> Stat {
    Stat {
        mode: 0o040755,
        nlink: 2,
        size: 4096,
        ..Default::default()
    }
}

/// Converts host metadata into what the device reports. Ownership is what Android's shell
/// user would see: root for directories outside /data/local/tmp would need more bookkeeping,
/// so everything reports uid/gid 2000 (shell).
pub fn to_stat(m: &fs::Metadata) -> Stat {
    use std::os::unix::fs::MetadataExt;
    Stat {
        dev: m.dev(),
        ino: m.ino(),
        mode: m.mode(),
        nlink: m.nlink() as u32,
        uid: 2000,
        gid: 2000,
        size: m.size(),
        atime: m.atime(),
        mtime: m.mtime(),
        ctime: m.ctime(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox() -> (tempfile::TempDir, Sandbox) {
        let dir = tempfile::tempdir().unwrap();
        let sb = Sandbox::open(dir.path(), 1 << 20).unwrap();
        (dir, sb)
    }

    #[test]
    fn normalizes_like_the_kernel() {
        assert_eq!(normalize("/", "data//local/./tmp/"), "/data/local/tmp");
        assert_eq!(normalize("/data/local", "../../../../etc"), "/etc");
        assert_eq!(normalize("/data/local/tmp", "x"), "/data/local/tmp/x");
        assert_eq!(normalize("/", "/.."), "/");
    }

    #[test]
    fn maps_the_android_prefixes() {
        let (dir, sb) = sandbox();
        let root = dir.path().canonicalize().unwrap().join("fs");
        let host = |p: &str| sb.host_path("/", p).unwrap().1;
        assert_eq!(host("/data/local/tmp/a"), root.join("data/local/tmp/a"));
        assert_eq!(host("/sdcard/x"), root.join("data/media/0/x"));
        assert_eq!(host("/storage/emulated/0/x"), root.join("data/media/0/x"));
        assert_eq!(host("/system/bin"), root.join("system/bin"));
        assert!(matches!(
            sb.resolve("/", "/storage"),
            Ok(Resolved::Virtual { .. })
        ));
    }

    #[test]
    fn traversal_and_unmapped_paths_are_refused() {
        let (_dir, sb) = sandbox();
        for p in [
            "/etc/passwd",
            "/data/../etc/passwd",
            "/data/local/tmp/../../../../../etc/passwd",
            "/proc/self/environ",
            "/dev/null",
        ] {
            assert!(
                matches!(sb.resolve("/", p), Err(FsError::PermissionDenied)),
                "{p}"
            );
        }
        assert!(matches!(
            sb.create_file("/", "/system/x"),
            Err(FsError::ReadOnly)
        ));
        assert!(matches!(
            sb.remove("/", "/data", true),
            Err(FsError::PermissionDenied)
        ));
        assert!(matches!(sb.remove("/", "/", true), Err(FsError::ReadOnly)));
    }

    #[test]
    fn symlinks_out_of_the_sandbox_are_refused() {
        let (dir, sb) = sandbox();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"s").unwrap();
        let tmp = dir.path().join("fs/data/local/tmp");
        std::os::unix::fs::symlink(outside.path(), tmp.join("out")).unwrap();
        std::os::unix::fs::symlink("/nonexistent/x", tmp.join("dangling")).unwrap();
        std::os::unix::fs::symlink(tmp.join("inside"), tmp.join("ok")).unwrap();
        std::fs::write(tmp.join("inside"), b"i").unwrap();
        assert!(matches!(
            sb.open_read("/", "/data/local/tmp/out/secret"),
            Err(FsError::PermissionDenied)
        ));
        assert!(matches!(
            sb.create_file("/", "/data/local/tmp/out/new"),
            Err(FsError::PermissionDenied)
        ));
        assert!(matches!(
            sb.create_file("/", "/data/local/tmp/dangling"),
            Err(FsError::PermissionDenied)
        ));
        assert!(!std::path::Path::new("/nonexistent/x").exists());
        assert!(sb.open_read("/", "/data/local/tmp/ok").is_ok());
    }

    #[test]
    fn quota_tracker_refuses_past_the_limit() {
        let (_dir, sb) = sandbox();
        let mut q = sb.quota_tracker();
        q.add(1 << 19).unwrap();
        q.add(1 << 19).unwrap();
        assert!(matches!(
            q.add(1),
            Err(FsError::QuotaExceeded { quota: 1048576 })
        ));
    }
}
