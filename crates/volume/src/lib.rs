//! Shared volumes: where a machine room keeps one copy of every package deployed there.
//!
//! A volume is an absolute path (mounted where it is read or written) or an rsync daemon module
//! (`rsync://host[:port]/module[/path]`). Inside it, a package lives at a path named by its
//! SHA-256 ([`package_path`]), the package store's own layout. The controller writes packages
//! onto room volumes; boards copy them from their room's volume into their caches. Both run
//! the real `rsync` through [`copy`], which reports `--info=progress2` percentages.
//!
//! Volume addresses and paths inside a volume are checked by hand ([`Volume::parse`],
//! [`check_relative`]) rather than by a URL library: they end up as `rsync` arguments, so the
//! rule is a strict allow-list of plain characters (nothing rsync reads as an option, a
//! pattern or a remote-shell host), which a general URL parser would not enforce.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

/// How long rsync may go without transferring anything before it gives up (its `--timeout`).
pub const IO_TIMEOUT_SECS: u32 = 60;
/// How long rsync may take to reach a daemon (its `--contimeout`).
pub const CONNECT_TIMEOUT_SECS: u32 = 10;

/// A SHA-256 in lower-case hex.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Where a package lives inside a volume (and inside the controller's package store):
/// `apk/<sha[0..2]>/<sha>.apk`.
pub fn package_path(sha256: &str) -> String {
    format!("apk/{}/{sha256}.apk", &sha256[..2.min(sha256.len())])
}

fn plain_component(c: &str) -> bool {
    !c.is_empty()
        && c != "."
        && c != ".."
        && !c.starts_with('-')
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A relative, plain path inside a volume: no `..`, no leading `/` or `-`, no control
/// characters and nothing rsync would read as a pattern or an option.
pub fn check_relative(rel: &str) -> Result<(), VolumeError> {
    if !rel.is_empty() && rel.split('/').all(plain_component) {
        Ok(())
    } else {
        Err(VolumeError::Path(rel.to_owned()))
    }
}

/// A shared volume's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Volume {
    /// A directory (a mount point on whoever reads or writes it).
    Local(String),
    /// An rsync daemon module, `rsync://host[:port]/module[/path]` (no trailing `/`).
    Daemon(String),
}

impl Volume {
    /// Checks an address: an absolute path of plain components (not `/` itself), or an `rsync://` URL whose
    /// host is a name or an IPv4 address, with an optional port, a module and plain path
    /// components. A trailing `/` is dropped.
    pub fn parse(v: &str) -> Result<Volume, VolumeError> {
        let bad = || VolumeError::Address(v.to_owned());
        if v.len() > 1024 {
            return Err(bad());
        }
        let trimmed = v.strip_suffix('/').unwrap_or(v);
        if let Some(rest) = trimmed.strip_prefix("rsync://") {
            let (authority, path) = rest.split_once('/').ok_or_else(bad)?;
            let (host, port) = match authority.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            };
            let host_ok = !host.is_empty()
                && !host.starts_with(['-', '.'])
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'));
            // Digits only: `u16::from_str` also takes a leading `+`.
            let port_ok = port.is_none_or(|p| {
                p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|p| p > 0)
            });
            if host_ok && port_ok && check_relative(path).is_ok() {
                return Ok(Volume::Daemon(trimmed.to_owned()));
            }
            return Err(bad());
        }
        match trimmed.strip_prefix('/') {
            Some(rest) if rest.split('/').all(plain_component) => Ok(Volume::Local(trimmed.into())),
            _ => Err(bad()),
        }
    }

    /// The rsync argument naming `rel` inside this volume.
    pub fn join(&self, rel: &str) -> String {
        match self {
            Volume::Local(root) | Volume::Daemon(root) => {
                format!("{}/{rel}", root.trim_end_matches('/'))
            }
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Volume::Local(s) | Volume::Daemon(s) => s,
        }
    }

    pub fn is_daemon(&self) -> bool {
        matches!(self, Volume::Daemon(_))
    }
}

impl std::fmt::Display for Volume {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error(
        "shared volume `{0}` must be an absolute path or an rsync://host[:port]/module URL of plain names"
    )]
    Address(String),
    #[error("`{0}` is not a plain relative path inside a volume")]
    Path(String),
    #[error("starting rsync: {0}")]
    Start(std::io::Error),
    /// rsync ran and failed; `code` is its exit code (10 and 12 mean it could not reach or
    /// talk to the other end, 23 that a file was missing or unreadable).
    #[error("rsync {what} failed (exit {code:?}): {stderr}")]
    Rsync {
        what: String,
        code: Option<i32>,
        stderr: String,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The percentage from one `rsync --info=progress2` line (`  1,234,567  45%  1.2MB/s …`).
pub fn parse_progress(line: &str) -> Option<u8> {
    line.split_whitespace()
        .find_map(|t| t.strip_suffix('%'))
        .and_then(|p| p.parse::<u8>().ok())
        .filter(|p| *p <= 100)
}

/// Runs `rsync [extra] -- src dest`, calling `progress` with each new percentage below 100
/// (rsync writes progress2 as one line rewritten with `\r`). A daemon that cannot be reached
/// fails within [`CONNECT_TIMEOUT_SECS`]; a transfer that stalls, within [`IO_TIMEOUT_SECS`].
/// The child is killed if the future is dropped.
pub async fn copy(
    extra: &[&str],
    src: &str,
    dest: &str,
    mut progress: impl FnMut(u8),
) -> Result<(), VolumeError> {
    let mut cmd = tokio::process::Command::new("rsync");
    cmd.args(["--no-motd", "--info=progress2"])
        .arg(format!("--timeout={IO_TIMEOUT_SECS}"));
    if src.starts_with("rsync://") || dest.starts_with("rsync://") {
        cmd.arg(format!("--contimeout={CONNECT_TIMEOUT_SECS}"));
    }
    let mut child = cmd
        .args(extra)
        .arg("--")
        .arg(src)
        .arg(dest)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(VolumeError::Start)?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let err_task = tokio::spawn(async move {
        let mut s = Vec::new();
        // At most 64 KiB of diagnostics are kept.
        let _ = (&mut stderr).take(64 << 10).read_to_end(&mut s).await;
        String::from_utf8_lossy(&s).into_owned()
    });
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
                    && last.is_none_or(|l| p > l)
                    && p < 100
                {
                    last = Some(p);
                    progress(p);
                }
                line.clear();
            } else if line.len() < 512 {
                line.push(b);
            }
        }
    }
    let status = child.wait().await?;
    let stderr = err_task.await.unwrap_or_default();
    if status.success() {
        Ok(())
    } else {
        Err(VolumeError::Rsync {
            what: format!("{src} → {dest}"),
            code: status.code(),
            stderr: stderr.trim().to_owned(),
        })
    }
}

/// SHA-256 (hex) and length of a file.
pub async fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
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

/// How long to wait before placing again after `attempts` failures: 2 s doubling, at most a
/// minute.
pub fn retry_after(attempts: u32) -> Duration {
    Duration::from_secs(2u64.saturating_pow(attempts.clamp(1, 6)).min(60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        for (good, want) in [
            ("/mnt/packages", Volume::Local("/mnt/packages".into())),
            ("/mnt/packages/", Volume::Local("/mnt/packages".into())),
            (
                "rsync://fra-1.storage.test/packages",
                Volume::Daemon("rsync://fra-1.storage.test/packages".into()),
            ),
            (
                "rsync://127.0.0.1:8730/packages/sub/",
                Volume::Daemon("rsync://127.0.0.1:8730/packages/sub".into()),
            ),
        ] {
            assert_eq!(Volume::parse(good).unwrap(), want, "{good}");
        }
        for bad in [
            "",
            "/",
            "relative/path",
            "/mnt/../etc",
            "/mnt/./x",
            "/mnt//x",
            "/mnt/a b",
            "/mnt/-e",
            "rsync://",
            "rsync://host",
            "rsync://host/",
            "rsync://-oProxyCommand=x/m",
            "rsync://host:0/m",
            "rsync://host:99999/m",
            "rsync://host:+460/m",
            "rsync://host:/m",
            "rsync://user@host/m",
            "rsync://host/m/../x",
            "rsync://host/m*",
            "ftp://host/m",
            "host:/mnt/x",
        ] {
            assert!(Volume::parse(bad).is_err(), "{bad:?}");
        }
        let v = Volume::parse("rsync://h:1/m").unwrap();
        assert_eq!(v.join("apk/ab/x.apk"), "rsync://h:1/m/apk/ab/x.apk");
        assert_eq!(Volume::parse("/v/").unwrap().join("apk"), "/v/apk");
    }

    #[test]
    fn relative_paths_progress_and_backoff() {
        let sha = "ab".repeat(32);
        assert_eq!(package_path(&sha), format!("apk/ab/{sha}.apk"));
        assert!(is_sha256_hex(&sha) && !is_sha256_hex("AB") && !is_sha256_hex(&"g".repeat(64)));
        assert!(check_relative("apk/ab/abc.apk").is_ok());
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "-e sh",
            "a//b",
            "a b",
            "a*",
            "a/-x",
        ] {
            assert!(check_relative(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_progress("      1,048,576  45%   10.00MB/s    0:00:00 (xfr#1, to-chk=0/1)"),
            Some(45)
        );
        assert_eq!(parse_progress("sending incremental file list"), None);
        assert_eq!(parse_progress("x 101%"), None);
        assert_eq!(retry_after(0), Duration::from_secs(2));
        assert_eq!(retry_after(3), Duration::from_secs(8));
        assert_eq!(retry_after(40), Duration::from_secs(60));
    }

    #[tokio::test]
    async fn copies_with_progress_and_says_why_a_copy_failed() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.bin");
        let bytes: Vec<u8> = (0..(4u32 << 20)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&src, &bytes).unwrap();
        let dest = dir.path().join("deep/er/dest.bin");
        let mut seen = Vec::new();
        copy(
            &["--mkpath"],
            src.to_str().unwrap(),
            dest.to_str().unwrap(),
            |p| seen.push(p),
        )
        .await
        .unwrap();
        assert_eq!(
            hash_file(&dest).await.unwrap(),
            hash_file(&src).await.unwrap()
        );
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
        let missing = dir.path().join("missing");
        match copy(
            &[],
            missing.to_str().unwrap(),
            dest.to_str().unwrap(),
            |_| {},
        )
        .await
        {
            Err(VolumeError::Rsync { code, stderr, .. }) => {
                assert_eq!(code, Some(23), "{stderr}");
                assert!(stderr.contains("missing"), "{stderr}");
            }
            other => panic!("{other:?}"),
        }
        // Nothing listens on port 1 of loopback.
        match copy(
            &[],
            src.to_str().unwrap(),
            "rsync://127.0.0.1:1/m/x",
            |_| {},
        )
        .await
        {
            Err(VolumeError::Rsync { code, .. }) => assert_eq!(code, Some(10)),
            other => panic!("{other:?}"),
        }
    }
}
