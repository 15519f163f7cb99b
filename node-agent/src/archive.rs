//! Save archives on the board: a player's game state between plays.
//!
//! An archive is a gzip'd tar of the app's private data and its external files, named from
//! the filesystem root: members are `data/data/<pkg>/…` and `sdcard/Android/data/<pkg>/…`,
//! nothing else.
//! - [`save`]: at the end of a play, `adb exec-out tar -czf - -C / <those dirs>` streamed to a
//!   local file while hashing; the result is checked like any archive before it is uploaded.
//! - [`upload`]: `PUT /v1/agent/sessions/{id}/archive` with the board credential, the SHA-256
//!   and the instance's Android API level; the controller keeps it for the player's next play.
//! - [`fetch`]: at the start of a play, the controller's copy (hash-checked).
//! - [`check`]: before restoring (or uploading), every member must lie inside the two
//!   directories of *this* package, be a plain file or directory, and have no `..` — an
//!   archive never writes anywhere else on an instance, whatever produced it.
//! - [`restore`]: push, `tar -xzf … -C /`, and give the private files back to the app's uid.

use std::path::Path;

use anyhow::{Context, bail, ensure};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::adb::Adb;

// The member check reads only bytes, so it lives in its own file with no other dependency on
// this crate: the fuzz target `archive_check` (tests/fuzz) compiles that file as it is.
mod members;
pub use members::{check_tar_gz, roots};

/// Largest archive the agent saves or restores (the controller has its own limit too).
pub const MAX_ARCHIVE_BYTES: u64 = 512 << 20;
/// What an archive may expand to, and how many members it may hold: a small `.tar.gz` can
/// expand to far more than the instance's disk (a gzip bomb), so the check adds up the
/// members' sizes as it reads and stops at the limit.
pub const MAX_EXPANDED_BYTES: u64 = 2 << 30;
pub const MAX_MEMBERS: usize = 100_000;

/// Checks a `.tar.gz` archive of `package` (see the module doc); returns its member count.
pub fn check(path: &Path, package: &str) -> anyhow::Result<usize> {
    check_within(path, package, MAX_EXPANDED_BYTES, MAX_MEMBERS)
}

/// [`check`] with the expansion and member limits given.
pub fn check_within(
    path: &Path,
    package: &str,
    max_expanded: u64,
    max_members: usize,
) -> anyhow::Result<usize> {
    playrack_apk::names::check_package_name(package)?;
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    check_tar_gz(file, package, max_expanded, max_members)
}

/// Saves the app's data from the instance `serial` to `dest`; returns its SHA-256 and size.
pub async fn save(
    adb: &Adb,
    serial: &str,
    package: &str,
    dest: &Path,
) -> anyhow::Result<(String, u64)> {
    playrack_apk::names::check_package_name(package)?;
    let mut dirs = Vec::new();
    for dir in roots(package) {
        // toybox tar fails on a missing path: include only what exists
        let o = adb.shell(serial, &format!("ls -d /{dir}")).await?;
        if o.ok() {
            dirs.push(dir);
        }
    }
    ensure!(!dirs.is_empty(), "{package} has no data to save");
    let mut child = adb
        .command()
        .args([
            "-s",
            serial,
            "exec-out",
            &format!("tar -czf - -C / {}", dirs.join(" ")),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting adb exec-out tar")?;
    let mut out = child.stdout.take().expect("piped");
    let mut file = tokio::fs::File::create(dest)
        .await
        .with_context(|| format!("creating {}", dest.display()))?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        use tokio::io::AsyncReadExt;
        let n = out.read(&mut buf).await.context("reading exec-out")?;
        if n == 0 {
            break;
        }
        size += n as u64;
        ensure!(
            size <= MAX_ARCHIVE_BYTES,
            "the archive exceeds {MAX_ARCHIVE_BYTES} bytes"
        );
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n]).await?;
    }
    file.sync_all().await?;
    let status = child.wait().await?;
    ensure!(status.success(), "adb exec-out tar exited with {status}");
    // exec-out has no exit code of the remote command: a readable archive is the proof
    let path = dest.to_owned();
    let pkg = package.to_owned();
    let members = tokio::task::spawn_blocking(move || check(&path, &pkg)).await??;
    ensure!(members > 0, "the saved archive is empty");
    Ok((hex::encode(hasher.finalize()), size))
}

/// The instance's Android API level (`ro.build.version.sdk`).
pub async fn sdk_level(adb: &Adb, serial: &str) -> anyhow::Result<u32> {
    let o = adb.shell(serial, "getprop ro.build.version.sdk").await?;
    o.stdout
        .trim()
        .parse()
        .with_context(|| format!("ro.build.version.sdk is {:?}", o.stdout.trim()))
}

/// Uploads a saved archive for `session_id` to the controller.
pub async fn upload(
    http: &reqwest::Client,
    controller_url: &str,
    credential: &str,
    session_id: &str,
    path: &Path,
    sha256: &str,
    sdk: u32,
) -> anyhow::Result<()> {
    let url = format!(
        "{}/v1/agent/sessions/{session_id}/archive",
        controller_url.trim_end_matches('/')
    );
    let headers = [
        ("x-archive-sha256", sha256.to_owned()),
        ("x-android-sdk", sdk.to_string()),
    ];
    crate::upload::put_file(http, &url, credential, "the archive", &headers, Some(path)).await
}

/// Pushes a checked archive, extracts it at `/`, and gives the private files to the app's uid.
pub async fn restore(
    adb: &Adb,
    serial: &str,
    package: &str,
    archive: &Path,
    scid: u32,
) -> anyhow::Result<()> {
    let (path, pkg) = (archive.to_owned(), package.to_owned());
    tokio::task::spawn_blocking(move || check(&path, &pkg))
        .await?
        .context("the archive is not this game's")?;
    let remote = format!("/data/local/tmp/playrack-archive-{scid:08x}.tar.gz");
    let dir = format!("/data/data/{package}");
    adb.push(serial, archive, &remote).await?;
    let o = adb.shell(serial, &format!("mkdir -p {dir}")).await?;
    ensure!(o.ok(), "mkdir {dir}: {}", o.stderr.trim());
    let o = adb.shell(serial, &format!("stat -c %u:%g {dir}")).await?;
    let owner = o.stdout.trim().to_owned();
    ensure!(
        o.ok() && owner.split(':').all(|p| p.parse::<u32>().is_ok()),
        "owner of {dir}: {:?} {}",
        owner,
        o.stderr.trim()
    );
    let o = adb
        .shell(serial, &format!("tar -xzf {remote} -C /"))
        .await?;
    ensure!(o.ok(), "tar -xzf: {} {}", o.stdout.trim(), o.stderr.trim());
    let o = adb
        .shell(serial, &format!("chown -R {owner} {dir}"))
        .await?;
    ensure!(o.ok(), "chown: {}", o.stderr.trim());
    let _ = adb.shell(serial, &format!("rm -f {remote}")).await;
    Ok(())
}

/// Where an [`ArchiveRef`](playrack_wire::agent::ArchiveRef)'s `url` points: the controller
/// names archives by a path relative to itself (`/v1/agent/archives/{id}`), resolved here
/// against the controller's URL; absolute `http(s)://` and `file://` URLs pass unchanged.
pub fn resolve_url(controller_url: &str, url: &str) -> String {
    if url.starts_with('/') && !url.starts_with("//") {
        format!("{}{url}", controller_url.trim_end_matches('/'))
    } else {
        url.to_owned()
    }
}

/// Fetches a player's archive to `dest` (an `http(s)://` URL, sent with `bearer` if given —
/// the board's credential for the controller's archive downloads — or a `file://` URL), and
/// checks its SHA-256; a mismatch deletes it.
pub async fn fetch(
    http: &reqwest::Client,
    url: &str,
    bearer: Option<&str>,
    sha256: &str,
    dest: &Path,
) -> anyhow::Result<()> {
    fetch_capped(http, url, bearer, sha256, dest, MAX_ARCHIVE_BYTES).await
}

/// [`fetch`], refusing (and deleting) an archive larger than `max` bytes.
async fn fetch_capped(
    http: &reqwest::Client,
    url: &str,
    bearer: Option<&str>,
    sha256: &str,
    dest: &Path,
    max: u64,
) -> anyhow::Result<()> {
    use tokio::io::AsyncWriteExt;
    if url.starts_with("http://") || url.starts_with("https://") {
        let mut req = http.get(url);
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        let mut resp = req
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .with_context(|| format!("fetching {url}"))?;
        let mut f = tokio::fs::File::create(dest).await?;
        let mut size = 0u64;
        while let Some(chunk) = resp.chunk().await? {
            size += chunk.len() as u64;
            if size > max {
                drop(f);
                let _ = tokio::fs::remove_file(dest).await;
                bail!("archive {url} is larger than {max} bytes");
            }
            f.write_all(&chunk).await?;
        }
        f.sync_all().await?;
    } else {
        let path = url
            .strip_prefix("file://")
            .with_context(|| format!("archive URL {url:?} is neither http(s) nor file"))?;
        let len = tokio::fs::metadata(path)
            .await
            .with_context(|| format!("reading {path}"))?
            .len();
        ensure!(len <= max, "archive {url} is larger than {max} bytes");
        tokio::fs::copy(path, dest)
            .await
            .with_context(|| format!("copying {path}"))?;
    }
    let (got, _) = crate::packages::hash_file(dest).await?;
    if got != sha256 {
        let _ = tokio::fs::remove_file(dest).await;
        bail!("archive {url} has SHA-256 {got}, expected {sha256}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes a .tar.gz with `members` (name, is_dir) to a temp file.
    fn archive(members: &[(&str, bool)]) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        let gz = flate2::write::GzEncoder::new(f.reopen().unwrap(), flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        for (name, dir) in members {
            let mut h = tar::Header::new_gnu();
            if *dir {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                h.set_mode(0o755);
                b.append_data(&mut h, name, std::io::empty()).unwrap();
            } else {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(2);
                h.set_mode(0o644);
                // The tar crate refuses to write `..`; a hostile archive would have it, so the
                // name goes into the header's bytes directly.
                let raw = &mut h.as_old_mut().name;
                raw.fill(0);
                raw[..name.len()].copy_from_slice(name.as_bytes());
                h.set_cksum();
                b.append(&h, &b"42"[..]).unwrap();
            }
        }
        b.into_inner().unwrap().finish().unwrap();
        f
    }

    #[test]
    fn only_this_games_directories_may_be_in_an_archive() {
        let good = archive(&[
            ("data/", true),
            ("data/data/", true),
            ("data/data/com.x.game/", true),
            ("data/data/com.x.game/files/taps", false),
            ("sdcard/Android/data/com.x.game/cache.bin", false),
        ]);
        assert_eq!(check(good.path(), "com.x.game").unwrap(), 5);
        for bad in [
            &[("data/data/com.x.gamer/files/taps", false)][..],
            &[("data/data/com.other/files/taps", false)][..],
            &[("system/bin/sh", false)][..],
            &[("data/local/tmp/x", false)][..],
            &[("data/data/com.x.game/../../../etc/passwd", false)][..],
            &[("data/data/", false)][..],
        ] {
            let f = archive(bad);
            assert!(check(f.path(), "com.x.game").is_err(), "{bad:?}");
        }
        // not an archive at all, or a truncated one
        let junk = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(junk.path(), b"not gzip").unwrap();
        assert!(check(junk.path(), "com.x.game").is_err());
        let bytes = std::fs::read(good.path()).unwrap();
        std::fs::write(junk.path(), &bytes[..bytes.len() / 2]).unwrap();
        assert!(check(junk.path(), "com.x.game").is_err());
        // a package name that is not one never reaches a shell
        assert!(check(good.path(), "com.x.game; rm -rf /").is_err());
    }

    #[tokio::test]
    async fn a_download_past_the_size_limit_is_refused_and_deleted() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let _ = sock.read(&mut buf).await;
                let body = vec![b'x'; 100];
                let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(&body).await;
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a.tar.gz");
        let url = format!("http://{addr}/a.tar.gz");
        let http = reqwest::Client::new();
        let e = fetch_capped(&http, &url, None, "00", &dest, 10)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("larger than 10 bytes"), "{e}");
        assert!(!dest.exists(), "the partial download is deleted");
        // Under the limit it is fetched (and then judged by its hash).
        let e = fetch_capped(&http, &url, None, "00", &dest, 100)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("SHA-256"), "{e}");
    }

    #[test]
    fn an_archive_that_expands_too_far_or_holds_too_many_members_is_refused() {
        let f = archive(&[
            ("data/data/com.x.game/a", false),
            ("data/data/com.x.game/b", false),
            ("data/data/com.x.game/c", false),
        ]);
        // three members of two bytes each
        assert_eq!(check_within(f.path(), "com.x.game", 6, 3).unwrap(), 3);
        let e = check_within(f.path(), "com.x.game", 5, 3).unwrap_err();
        assert!(
            e.to_string().contains("expands to more than 5 bytes"),
            "{e}"
        );
        let e = check_within(f.path(), "com.x.game", 6, 2).unwrap_err();
        assert!(e.to_string().contains("more than 2 members"), "{e}");
    }

    #[test]
    fn controller_relative_urls_resolve_against_the_controller() {
        assert_eq!(
            resolve_url("http://ctl:8080/", "/v1/agent/archives/arc_1"),
            "http://ctl:8080/v1/agent/archives/arc_1"
        );
        assert_eq!(
            resolve_url("http://ctl:8080", "https://cdn/x.tar.gz"),
            "https://cdn/x.tar.gz"
        );
    }

    /// A controller-relative archive URL is fetched from the controller with the board's
    /// credential as the bearer, and the bytes are checked against the hash.
    #[tokio::test]
    async fn an_archive_is_fetched_from_the_controller_with_the_board_credential() {
        use sha2::{Digest, Sha256};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let body = b"an archive's bytes".to_vec();
        let sha = hex::encode(Sha256::digest(&body));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        let served = body.clone();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = s.read(&mut buf).await.unwrap();
                assert!(n > 0);
                req.extend_from_slice(&buf[..n]);
            }
            let req = String::from_utf8(req).unwrap().to_ascii_lowercase();
            let ok = req.starts_with("get /v1/agent/archives/arc_1 ")
                && req.contains("authorization: bearer board-secret\r\n");
            let head = if ok {
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    served.len()
                )
            } else {
                "HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    .to_owned()
            };
            s.write_all(head.as_bytes()).await.unwrap();
            if ok {
                s.write_all(&served).await.unwrap();
            }
            s.shutdown().await.unwrap();
            req
        });
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a.tar.gz");
        let url = resolve_url(&base, "/v1/agent/archives/arc_1");
        fetch(
            &reqwest::Client::new(),
            &url,
            Some("board-secret"),
            &sha,
            &dest,
        )
        .await
        .unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), body);
        let req = server.await.unwrap();
        assert!(req.contains("authorization: bearer board-secret"), "{req}");
        // A bare path that is not a URL is refused rather than read from the board's disk.
        assert!(
            fetch(&reqwest::Client::new(), "/etc/passwd", None, &sha, &dest)
                .await
                .is_err()
        );
    }
}
