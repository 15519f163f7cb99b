//! One play's preparation: from a warm instance to a running game with its scrcpy sockets
//! open, the way the controller's `prepare_session` command asks.
//!
//! [`prepare`] runs, in order:
//! 1. `adb connect` to the instance and wait for `sys.boot_completed=1`;
//! 2. `adb install -r` the package from the cache;
//! 3. if the player has an archive: push the tar, extract it into `/data/data/<pkg>` and give
//!    the files back to the app's owner;
//! 4. push the injector (scrcpy server) jar, `adb forward tcp:0 localabstract:scrcpy_<scid>`,
//!    start the server through `adb shell CLASSPATH=… app_process / com.genymobile.scrcpy.Server
//!    <version> …` with the spec's size, bitrate and fps and `tunnel_forward=true`;
//! 5. connect the forwarded sockets (video → audio → control) and read the device name, the
//!    codec ids and the video session packet.
//!
//! What comes back, a [`Play`], holds the open sockets the WebRTC relay will read (video and
//! audio packets) and write (control messages). [`stop`] undoes it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use android_injector::scrcpy::client::{self, CONNECT_ATTEMPTS, CONNECT_DELAY, MediaReader};
use android_injector::scrcpy::options::{LogLevel, SERVER_CLASS, SERVER_PATH};
use android_injector::scrcpy::{Options, StreamEvent};
use anyhow::{Context, bail, ensure};
use tokio::net::TcpStream;
use tokio::process::Child;

use crate::adb::Adb;
use crate::runtime::Instance;

/// How long an instance may take to be online in adb and finish booting.
pub const BOOT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the server may take to send the stream headers once connected.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(20);

/// The injector (scrcpy server) the agent pushes.
#[derive(Debug, Clone)]
pub struct Injector {
    pub jar: PathBuf,
    /// The version argument the server checks byte for byte.
    pub version: String,
}

/// What one play needs.
#[derive(Debug, Clone)]
pub struct PlayRequest {
    pub session_id: String,
    pub package_name: String,
    /// The verified APK in the package cache.
    pub apk: PathBuf,
    /// The player's archive (a `.tar.gz` of the app's data directory), already fetched.
    pub archive: Option<PathBuf>,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub bitrate_bps: u32,
    /// Open the audio socket too (video → audio → control; the device's adbd connects the
    /// forwarded abstract sockets in packet order, so the three cannot be swapped).
    pub audio: bool,
    /// The scrcpy session id: names the device's abstract socket.
    pub scid: u32,
}

/// A prepared play: the server running and its sockets open.
pub struct Play {
    pub session_id: String,
    pub instance: Instance,
    pub serial: String,
    pub forward_port: u16,
    /// The `adb shell` running the server (killed by [`stop`]).
    pub server: Child,
    pub device_name: Option<String>,
    pub video_codec: u32,
    /// The video size the server encodes at.
    pub width: u32,
    pub height: u32,
    /// The video socket (taken by the relay when the play starts streaming).
    pub video: Option<MediaReader<TcpStream>>,
    pub audio_codec: Option<u32>,
    pub audio: Option<MediaReader<TcpStream>>,
    pub control: Option<TcpStream>,
}

/// An Android package name: dot-separated Java identifiers. Checked because it reaches a shell.
pub fn check_package_name(name: &str) -> anyhow::Result<()> {
    ensure!(
        !name.is_empty()
            && name.len() <= 255
            && name.split('.').all(|part| {
                part.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            }),
        "{name:?} is not a package name"
    );
    Ok(())
}

/// The scrcpy options for a play.
pub fn options(req: &PlayRequest) -> Options {
    Options {
        log_level: LogLevel::Info,
        scid: Some(req.scid & 0x7fff_ffff),
        video: true,
        audio: req.audio,
        control: true,
        max_size: req.width.max(req.height),
        max_fps: req.fps as f32,
        video_bit_rate: req.bitrate_bps,
        tunnel_forward: true,
        ..Options::default()
    }
}

/// The shell command that starts the server with `version` (scrcpy's `execute_server()`).
pub fn server_command(options: &Options, version: &str) -> String {
    format!(
        "CLASSPATH={SERVER_PATH} app_process / {SERVER_CLASS} {version} {}",
        options.to_args().join(" ")
    )
}

/// Prepares a play on `instance` (see the module doc).
pub async fn prepare(
    adb: &Adb,
    instance: &Instance,
    injector: &Injector,
    req: &PlayRequest,
) -> anyhow::Result<Play> {
    check_package_name(&req.package_name)?;
    let serial = instance.serial();
    adb.connect(&serial, BOOT_TIMEOUT).await?;
    adb.wait_boot(&serial, BOOT_TIMEOUT).await?;

    adb.install(&serial, &req.apk).await?;

    if let Some(archive) = &req.archive {
        restore_archive(adb, &serial, &req.package_name, archive, req.scid)
            .await
            .context("restoring the player's archive")?;
    }

    adb.push(&serial, &injector.jar, SERVER_PATH)
        .await
        .context("pushing the injector")?;
    let opts = options(req);
    let port = adb
        .forward(&serial, &format!("localabstract:{}", opts.socket_name()))
        .await?;
    let server = adb
        .command()
        .args([
            "-s",
            &serial,
            "shell",
            &server_command(&opts, &injector.version),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("starting the injector")?;
    let mut started = Started {
        adb,
        serial: &serial,
        port,
        server: Some(server),
    };
    let c = client::connect_forward(
        &opts,
        || TcpStream::connect(("127.0.0.1", port)),
        CONNECT_ATTEMPTS,
        CONNECT_DELAY,
    )
    .await;
    let c = match c {
        Ok(c) => c,
        Err(e) => {
            let said = started.server_stderr().await;
            return Err(anyhow::Error::new(e)
                .context(format!("connecting to the injector (it said: {said:?})")));
        }
    };
    let mut video = c.video.context("no video socket")?;
    let (video_codec, width, height) = tokio::time::timeout(HEADER_TIMEOUT, async {
        let mut codec = None;
        loop {
            match video.next().await? {
                Some(StreamEvent::Codec(id)) => codec = Some(id),
                Some(StreamEvent::Session(s)) => {
                    let codec = codec.context("session before codec")?;
                    return Ok::<_, anyhow::Error>((codec, s.width, s.height));
                }
                Some(_) => {}
                None => bail!("the injector closed the video socket"),
            }
        }
    })
    .await
    .context("no video header from the injector")??;
    ensure!(
        video_codec == android_injector::scrcpy::stream::CODEC_ID_H264,
        "the injector streams codec {video_codec:#x}, not H.264"
    );
    let mut audio = c.audio;
    let audio_codec = match audio.as_mut() {
        Some(a) => tokio::time::timeout(HEADER_TIMEOUT, async {
            loop {
                match a.next().await? {
                    Some(StreamEvent::Codec(id)) => return Ok::<_, anyhow::Error>(Some(id)),
                    Some(_) => {}
                    None => return Ok(None),
                }
            }
        })
        .await
        .context("no audio header from the injector")??,
        None => None,
    };
    let server = started.server.take().expect("still held");
    Ok(Play {
        session_id: req.session_id.clone(),
        instance: instance.clone(),
        serial: serial.clone(),
        forward_port: port,
        server,
        device_name: c.device_name,
        video_codec,
        width,
        height,
        video: Some(video),
        audio_codec,
        audio,
        control: c.control,
    })
}

/// Undoes a half-started server if [`prepare`] fails after starting it.
struct Started<'a> {
    adb: &'a Adb,
    serial: &'a str,
    port: u16,
    server: Option<Child>,
}

impl Started<'_> {
    /// Stops the server and returns what it wrote on stderr (for the error report).
    async fn server_stderr(&mut self) -> String {
        use tokio::io::AsyncReadExt;
        let Some(server) = self.server.as_mut() else {
            return String::new();
        };
        let _ = server.start_kill();
        let mut text = String::new();
        if let Some(mut err) = server.stderr.take() {
            let _ =
                tokio::time::timeout(Duration::from_secs(2), err.read_to_string(&mut text)).await;
        }
        text.trim().to_owned()
    }
}

impl Drop for Started<'_> {
    fn drop(&mut self) {
        if let Some(mut s) = self.server.take() {
            let _ = s.start_kill();
            let adb = self.adb.clone();
            let serial = self.serial.to_owned();
            let port = self.port;
            tokio::spawn(async move { adb.remove_forward(&serial, port).await });
        }
    }
}

/// Pushes the archive, extracts it into the app's data directory, and gives the files to the
/// directory's owner (the app's uid).
async fn restore_archive(
    adb: &Adb,
    serial: &str,
    package: &str,
    archive: &Path,
    scid: u32,
) -> anyhow::Result<()> {
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
        .shell(serial, &format!("tar -xzf {remote} -C {dir}"))
        .await?;
    ensure!(o.ok(), "tar -xzf: {} {}", o.stdout.trim(), o.stderr.trim());
    let o = adb
        .shell(serial, &format!("chown -R {owner} {dir}"))
        .await?;
    ensure!(o.ok(), "chown: {}", o.stderr.trim());
    let _ = adb.shell(serial, &format!("rm -f {remote}")).await;
    Ok(())
}

/// Stops the server and removes the forward; the instance itself goes back to the pool.
pub async fn stop(adb: &Adb, mut play: Play) {
    let _ = play.server.start_kill();
    let _ = play.server.wait().await;
    adb.remove_forward(&play.serial, play.forward_port).await;
    adb.disconnect(&play.serial).await;
}

/// Where an [`ArchiveRef`](playrack_wire::agent::ArchiveRef)'s `url` points: the controller
/// names archives by a path relative to itself (`/v1/agent/archives/{id}`), resolved here
/// against the controller's URL; absolute `http(s)://` and `file://` URLs pass unchanged.
pub fn resolve_archive_url(controller_url: &str, url: &str) -> String {
    if url.starts_with('/') && !url.starts_with("//") {
        format!("{}{url}", controller_url.trim_end_matches('/'))
    } else {
        url.to_owned()
    }
}

/// Fetches a player's archive to `dest` (an `http(s)://` URL, sent with `bearer` if given —
/// the board's credential for the controller's archive downloads — or a `file://` URL), and
/// checks its SHA-256; a mismatch deletes it.
pub async fn fetch_archive(
    http: &reqwest::Client,
    url: &str,
    bearer: Option<&str>,
    sha256: &str,
    dest: &Path,
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
        while let Some(chunk) = resp.chunk().await? {
            f.write_all(&chunk).await?;
        }
        f.sync_all().await?;
    } else {
        let path = url
            .strip_prefix("file://")
            .with_context(|| format!("archive URL {url:?} is neither http(s) nor file"))?;
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

    #[test]
    fn the_server_command_carries_the_spec() {
        let req = PlayRequest {
            session_id: "s".into(),
            package_name: "com.example.game".into(),
            apk: "x.apk".into(),
            archive: None,
            width: 720,
            height: 1280,
            fps: 30,
            bitrate_bps: 4_000_000,
            audio: false,
            scid: 0x12ab34cd,
        };
        let o = options(&req);
        assert_eq!(o.socket_name(), "scrcpy_12ab34cd");
        let cmd = server_command(&o, "4.1");
        assert!(cmd.starts_with(
            "CLASSPATH=/data/local/tmp/scrcpy-server.jar app_process / com.genymobile.scrcpy.Server 4.1 "
        ));
        for arg in [
            "scid=12ab34cd",
            "max_size=1280",
            "max_fps=30",
            "video_bit_rate=4000000",
            "tunnel_forward=true",
        ] {
            assert!(cmd.split(' ').any(|a| a == arg), "{arg} in {cmd}");
        }
        let parsed = android_injector::scrcpy::options::parse_command_line(&cmd).unwrap();
        assert_eq!(
            resolve_archive_url("http://ctl:8080/", "/v1/agent/archives/arc_1"),
            "http://ctl:8080/v1/agent/archives/arc_1"
        );
        assert_eq!(
            resolve_archive_url("http://ctl:8080", "https://cdn/x.tar.gz"),
            "https://cdn/x.tar.gz"
        );
        assert_eq!(parsed.options, o);
        assert!(check_package_name("com.example.game").is_ok());
        for bad in ["", "com..x", "a;rm -rf /", "1a.b", "a.b c"] {
            assert!(check_package_name(bad).is_err(), "{bad}");
        }
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
        let url = resolve_archive_url(&base, "/v1/agent/archives/arc_1");
        fetch_archive(
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
            fetch_archive(&reqwest::Client::new(), "/etc/passwd", None, &sha, &dest)
                .await
                .is_err()
        );
    }
}
