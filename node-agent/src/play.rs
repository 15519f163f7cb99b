//! One play's preparation: from a warm instance to a running game with its scrcpy sockets
//! open, the way the controller's `prepare_session` command asks.
//!
//! [`prepare`] runs, in order:
//! 1. `adb connect` to the instance and wait for `sys.boot_completed=1`;
//! 2. `adb install -r` the package from the cache;
//! 3. if the player has an archive: restore it (see [`crate::archive`]);
//! 4. start the game (`am start -W -S -n <pkg>/<activity>`, or the launcher intent);
//!
//! On an instance the warm pool primed with the play's game ([`prime`] ran steps 1, 2 and 4
//! ahead of any player), steps 2 and 4 are skipped — the game only comes to the front — unless
//! the player has an archive: then the game is stopped, the archive restored and the game
//! started afresh, so it reads the player's save (the install is still saved).
//!
//! 5. push the injector (scrcpy server) jar, `adb forward tcp:0 localabstract:scrcpy_<scid>`,
//!    start the server through `adb shell CLASSPATH=… app_process / com.genymobile.scrcpy.Server
//!    <version> …` with the spec's size, bitrate and fps and `tunnel_forward=true`;
//! 6. connect the forwarded sockets (video → audio → control) and read the device name, the
//!    codec ids and the video session packet.
//!
//! What comes back, a [`Play`], holds the open sockets the WebRTC relay will read (video and
//! audio packets) and write (control messages). [`stop`] undoes it.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use playrack_apk::names::{check_activity_name, check_package_name};
use playrack_scrcpy::client::{self, CONNECT_ATTEMPTS, CONNECT_DELAY, MediaReader};
use playrack_scrcpy::encoders::{self, Encoder, EncoderKind};
use playrack_scrcpy::options::{LogLevel, SERVER_CLASS, SERVER_PATH};
use playrack_scrcpy::{Options, StreamEvent};
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
    /// The activity to start (the APK's launchable activity); `None` asks for the launcher
    /// intent.
    pub launch_activity: Option<String>,
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
    /// How the video encoder is chosen.
    pub encoder: EncoderChoice,
    /// The instance holds this game ready (installed and started by [`prime`]).
    pub primed: bool,
    /// Slices per video frame asked of the injector (0: whole frames).
    pub slices: u8,
}

/// The video encoder of a play: one already chosen for this board, or chosen now from the
/// instance's list (see [`choose_encoder`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncoderChoice {
    /// This one (`None`: the server's default).
    Known(Option<String>),
    /// List the instance's encoders and pick one, never one of these.
    Pick { deny: Vec<String> },
}

/// The encoder a board should use: the first hardware H.264 encoder not denied, else the
/// first software (or hybrid) one not denied; `None` leaves the choice to the server.
pub fn choose_encoder<'a>(listed: &'a [Encoder], deny: &[String]) -> Option<&'a Encoder> {
    let usable = |e: &&Encoder| e.codec == "h264" && !deny.iter().any(|d| d == &e.name);
    listed
        .iter()
        .filter(usable)
        .find(|e| e.kind == EncoderKind::Hardware)
        .or_else(|| listed.iter().find(usable))
}

/// Lists the video encoders of the instance at `serial` with the pushed injector.
async fn list_encoders(adb: &Adb, serial: &str, version: &str) -> anyhow::Result<Vec<Encoder>> {
    let opts = Options {
        log_level: LogLevel::Info,
        list_encoders: true,
        ..Options::default()
    };
    let o = adb.shell(serial, &server_command(&opts, version)).await?;
    ensure!(o.ok(), "listing the encoders: {}", o.stderr.trim());
    Ok(encoders::parse_list(&o.stdout))
}

/// A prepared play: the server running and its sockets open.
pub struct Play {
    pub session_id: String,
    pub package_name: String,
    pub instance: Instance,
    pub serial: String,
    pub forward_port: u16,
    /// The `adb shell` running the server (killed by [`stop`]).
    pub server: Child,
    /// The video encoder asked for (`None`: the server's default).
    pub video_encoder: Option<String>,
    /// The game's watchdog (see [`crate::watchdog`]), stopped by [`stop`].
    pub watchdog: Option<tokio::task::AbortHandle>,
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
        playrack_slices: req.slices,
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

/// The shell command that brings `package` to the front: started afresh (`fresh`: stopped
/// first, waited for) or its task brought back as it was. Names are checked before they reach
/// the shell.
pub fn start_command(package: &str, activity: Option<&str>, fresh: bool) -> anyhow::Result<String> {
    check_package_name(package)?;
    Ok(match activity {
        Some(activity) => {
            check_activity_name(activity)?;
            let flags = if fresh { "-W -S " } else { "" };
            format!("am start {flags}-n {package}/{activity}")
        }
        None => format!("monkey -p {package} -c android.intent.category.LAUNCHER 1"),
    })
}

/// Gets `package` ready on a blank warm instance ahead of any player: installed from `apk`
/// and started up to its first frame (`am start -W` answers then).
pub async fn prime(
    adb: &Adb,
    instance: &Instance,
    apk: &std::path::Path,
    package: &str,
    activity: Option<&str>,
) -> anyhow::Result<()> {
    check_package_name(package)?;
    let serial = instance.serial();
    adb.connect(&serial, BOOT_TIMEOUT).await?;
    adb.wait_boot(&serial, BOOT_TIMEOUT).await?;
    adb.install(&serial, apk).await?;
    start(adb, &serial, package, activity, true).await
}

/// Starts `package` (see [`start_command`]) and checks that Android did.
async fn start(
    adb: &Adb,
    serial: &str,
    package: &str,
    activity: Option<&str>,
    fresh: bool,
) -> anyhow::Result<()> {
    let o = adb
        .shell(serial, &start_command(package, activity, fresh)?)
        .await?;
    ensure!(
        o.ok() && !o.stdout.contains("Error"),
        "starting {package}: {} {}",
        o.stdout.trim(),
        o.stderr.trim()
    );
    Ok(())
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

    if !req.primed {
        adb.install(&serial, &req.apk).await?;
    }

    if let Some(archive) = &req.archive {
        if req.primed {
            // The primed game runs: it must not hold its files while they are replaced.
            let o = adb
                .shell(&serial, &format!("am force-stop {}", req.package_name))
                .await?;
            ensure!(o.ok(), "stopping {}: {}", req.package_name, o.stderr.trim());
        }
        crate::archive::restore(adb, &serial, &req.package_name, archive, req.scid)
            .await
            .context("restoring the player's archive")?;
    }

    // The game comes to the foreground before the capture starts: started afresh, or, when
    // primed and nothing was restored, brought to the front as it is.
    let fresh = !req.primed || req.archive.is_some();
    let activity = req.launch_activity.as_deref();
    start(adb, &serial, &req.package_name, activity, fresh).await?;

    adb.push(&serial, &injector.jar, SERVER_PATH)
        .await
        .context("pushing the injector")?;
    let video_encoder = match &req.encoder {
        EncoderChoice::Known(e) => e.clone(),
        EncoderChoice::Pick { deny } => {
            let listed = list_encoders(adb, &serial, &injector.version).await?;
            let chosen = choose_encoder(&listed, deny);
            match chosen {
                Some(e) => {
                    tracing::info!(encoder = %e.name, hardware = (e.kind == EncoderKind::Hardware), "video encoder chosen")
                }
                None => tracing::warn!(?listed, "no usable H.264 encoder listed; the server picks"),
            }
            chosen.map(|e| e.name.clone())
        }
    };
    let mut opts = options(req);
    opts.video_encoder = video_encoder.clone();
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
        video_codec == playrack_scrcpy::stream::CODEC_ID_H264,
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
        package_name: req.package_name.clone(),
        instance: instance.clone(),
        serial: serial.clone(),
        forward_port: port,
        server,
        video_encoder,
        watchdog: None,
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

/// Stops the server and removes the forward; the instance itself goes back to the pool.
pub async fn stop(adb: &Adb, mut play: Play) {
    if let Some(w) = play.watchdog.take() {
        w.abort();
    }
    let _ = play.server.start_kill();
    let _ = play.server.wait().await;
    adb.remove_forward(&play.serial, play.forward_port).await;
    adb.disconnect(&play.serial).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hardware_encoder_is_preferred_unless_denied() {
        let e = |name: &str, codec: &str, kind| Encoder {
            codec: codec.into(),
            name: name.into(),
            kind,
            vendor: false,
        };
        let listed = vec![
            e("c2.android.hevc.encoder", "h265", EncoderKind::Hardware),
            e("c2.android.avc.encoder", "h264", EncoderKind::Software),
            e("c2.rk.avc.encoder", "h264", EncoderKind::Hardware),
            e("OMX.rk.video_encoder.avc", "h264", EncoderKind::Hardware),
        ];
        let pick = |deny: &[&str]| {
            let deny: Vec<String> = deny.iter().map(|d| d.to_string()).collect();
            choose_encoder(&listed, &deny).map(|e| e.name.clone())
        };
        assert_eq!(pick(&[]).as_deref(), Some("c2.rk.avc.encoder"));
        assert_eq!(
            pick(&["c2.rk.avc.encoder"]).as_deref(),
            Some("OMX.rk.video_encoder.avc")
        );
        assert_eq!(
            pick(&["c2.rk.avc.encoder", "OMX.rk.video_encoder.avc"]).as_deref(),
            Some("c2.android.avc.encoder"),
            "the software encoder is the fallback"
        );
        assert_eq!(
            pick(&[
                "c2.rk.avc.encoder",
                "OMX.rk.video_encoder.avc",
                "c2.android.avc.encoder"
            ]),
            None
        );
        assert_eq!(choose_encoder(&[], &[]), None);
    }

    #[test]
    fn the_server_command_carries_the_spec() {
        let req = PlayRequest {
            session_id: "s".into(),
            package_name: "com.example.game".into(),
            launch_activity: None,
            apk: "x.apk".into(),
            archive: None,
            width: 720,
            height: 1280,
            fps: 30,
            bitrate_bps: 4_000_000,
            audio: false,
            scid: 0x12ab34cd,
            encoder: EncoderChoice::Known(None),
            primed: false,
            slices: 4,
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
            "playrack_slices=4",
        ] {
            assert!(cmd.split(' ').any(|a| a == arg), "{arg} in {cmd}");
        }
        let parsed = playrack_scrcpy::options::parse_command_line(&cmd).unwrap();
        assert_eq!(parsed.options, o);
        assert!(check_package_name("com.example.game").is_ok());
        for ok in [".MainActivity", "com.x.Main$Inner", "a_b.C1"] {
            assert!(check_activity_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", ".Main; reboot", "a/../b", "$(id)", "a..b"] {
            assert!(check_activity_name(bad).is_err(), "{bad}");
        }
        for bad in ["", "com..x", "a;rm -rf /", "1a.b", "a.b c"] {
            assert!(check_package_name(bad).is_err(), "{bad}");
        }
    }
}
