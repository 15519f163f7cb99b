//! The scrcpy server started the way scrcpy starts it, through the virtual device's shell
//! (`CLASSPATH=… app_process / com.genymobile.scrcpy.Server 4.1 …`), reached through the
//! device's abstract socket, with the game started by the device hooks.

use std::sync::Arc;
use std::time::Duration;

use android_injector::device::packages::InstalledPackage;
use android_injector::device::props::Identity;
use android_injector::device::shell::{Input, Io, Output, Session};
use android_injector::device::{AuthConfig, Device, DeviceConfig, DeviceHooks};
use android_injector::scrcpy::app_process::{GameHooks, LAUNCHER_PACKAGE, install};
use playrack_scrcpy::control_msg::*;
use playrack_scrcpy::stream::CODEC_ID_H264;
use playrack_scrcpy::{ControlMsg, Demuxer, DemuxerConfig, Options, StreamEvent, StreamKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(60);
const JAR: &str = "/data/local/tmp/scrcpy-server.jar";

fn device(dir: &std::path::Path) -> Arc<Device> {
    Device::open(DeviceConfig {
        data_dir: dir.to_path_buf(),
        identity: Identity {
            serial: "scrcpy0001".into(),
            model: "Playrack VD".into(),
            product: "playrack_arm64".into(),
            width: 720,
            height: 1280,
            dpi: 320,
            fps: 60,
        },
        boot_delay: Duration::ZERO,
        storage_quota: 1 << 30,
        auth: AuthConfig::AcceptAny,
    })
    .unwrap()
}

/// Runs one shell line; returns (status, stdout, stderr).
async fn sh(device: &Arc<Device>, line: &str) -> (i32, String, String) {
    let (out_w, mut out_r) = tokio::io::duplex(1 << 20);
    let (err_w, mut err_r) = tokio::io::duplex(1 << 20);
    let io = Io {
        stdin: Input::empty(),
        stdout: Output::new(out_w),
        stderr: Output::new(err_w),
    };
    let status = Session::new(device.clone()).run(line, &io).await;
    drop(io);
    let (mut out, mut err) = (String::new(), String::new());
    out_r.read_to_string(&mut out).await.unwrap();
    err_r.read_to_string(&mut err).await.unwrap();
    (status, out, err)
}

fn push_jar(device: &Device) {
    let (_, host) = device.fs.writable_path("/", JAR).unwrap();
    std::fs::write(host, b"PK\x03\x04 not really a jar").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_mismatch_fails_like_scrcpy() {
    let dir = tempfile::tempdir().unwrap();
    let d = device(dir.path());
    install(&d);
    push_jar(&d);
    let (status, _, err) = sh(
        &d,
        &format!("CLASSPATH={JAR} app_process / com.genymobile.scrcpy.Server 3.3.4 scid=0000002a"),
    )
    .await;
    assert_eq!(status, 1);
    assert_eq!(
        err,
        "[server] ERROR: The server version (4.1) does not match the client (3.3.4)\n"
    );
    // a bad option is the server's error too
    let (status, _, err) = sh(
        &d,
        &format!(
            "CLASSPATH={JAR} app_process / com.genymobile.scrcpy.Server 4.1 video_codec=mpeg2"
        ),
    )
    .await;
    assert_eq!(status, 1);
    assert!(
        err.contains("[server] ERROR: Video codec mpeg2 not supported"),
        "{err}"
    );
    // another class cannot be run
    let (status, _, err) = sh(
        &d,
        &format!("CLASSPATH={JAR} app_process / com.example.Main"),
    )
    .await;
    assert_eq!(status, 1);
    assert!(err.contains("ClassNotFoundException"), "{err}");
    // without the pushed jar the class is not found either
    let (_, host) = d.fs.writable_path("/", JAR).unwrap();
    std::fs::remove_file(host).unwrap();
    let (status, _, err) = sh(
        &d,
        &format!("CLASSPATH={JAR} app_process / com.genymobile.scrcpy.Server 4.1"),
    )
    .await;
    assert_eq!(status, 1);
    assert!(err.contains("Didn't find class"), "{err}");
}

async fn connect_abstract(d: &Device, name: &str) -> DuplexStream {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match d.sockets().connect(name) {
            Ok(s) => return s,
            Err(_) if tokio::time::Instant::now() < deadline => {
                // the server has not started listening yet; adb's client retries likewise
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("{name}: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_process_serves_the_game_on_the_abstract_socket() {
    let dir = tempfile::tempdir().unwrap();
    let d = device(dir.path());
    let screen = install(&d);
    push_jar(&d);
    assert_eq!(
        screen.lock().unwrap().game().config().package,
        LAUNCHER_PACKAGE
    );

    // the hooks start the app's game (what `am start` does once the package is installed)
    let hooks = GameHooks {
        screen: screen.clone(),
    };
    let app = InstalledPackage {
        package: "com.playrack.tapper".into(),
        version_code: 1,
        version_name: None,
        launchable_activity: Some("com.playrack.tapper.Main".into()),
        apk_path: "/data/app/com.playrack.tapper/base.apk".into(),
        label: None,
    };
    hooks.app_started(&d, &app, "com.playrack.tapper.Main");
    assert_eq!(
        screen.lock().unwrap().game().config().package,
        "com.playrack.tapper"
    );

    let args =
        "scid=0000002a log_level=info tunnel_forward=true audio=false max_size=640 max_fps=30";
    let line = format!("CLASSPATH={JAR} app_process / com.genymobile.scrcpy.Server 4.1 {args}");
    let options = Options::parse(
        &std::iter::once("4.1")
            .chain(args.split(' '))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let d2 = d.clone();
    let server = tokio::spawn(async move { sh(&d2, &line).await });

    let mut video = connect_abstract(&d, "scrcpy_0000002a").await;
    let mut dummy = [0xffu8];
    timeout(WAIT, video.read_exact(&mut dummy))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dummy, [0]);
    let mut control = connect_abstract(&d, "scrcpy_0000002a").await;

    let mut cfg = DemuxerConfig::for_socket(&options, StreamKind::Video, true);
    cfg.dummy_byte = false;
    let mut demux = Demuxer::new(cfg);
    let mut events = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut decoder = openh264::decoder::Decoder::new().unwrap();
    let mut merger = playrack_scrcpy::stream::PacketMerger::new();
    let mut decoded = 0;
    while decoded < 10 {
        let n = timeout(WAIT, video.read(&mut buf)).await.unwrap().unwrap();
        assert!(n > 0, "video closed early");
        demux.feed(&buf[..n]);
        while let Some(e) = demux.poll().unwrap() {
            match &e {
                StreamEvent::Config(c) => merger.config(c.clone()),
                StreamEvent::Frame { data, .. } => {
                    if let Some(yuv) = decoder.decode(&merger.merge(data.clone())).unwrap() {
                        use openh264::formats::YUVSource;
                        assert_eq!(yuv.dimensions(), (360, 640));
                        decoded += 1;
                    }
                }
                _ => {}
            }
            events.push(e);
        }
    }
    assert_eq!(events[0], StreamEvent::DeviceName("Playrack VD".into()));
    assert_eq!(events[1], StreamEvent::Codec(CODEC_ID_H264));
    assert!(matches!(
        events[2],
        StreamEvent::Session(s) if (s.width, s.height) == (360, 640)
    ));

    // a tap through the control socket is counted and saved in the app's data
    let mut m = Vec::new();
    for action in [AMOTION_EVENT_ACTION_DOWN, AMOTION_EVENT_ACTION_UP] {
        ControlMsg::InjectTouchEvent {
            action,
            pointer_id: 0,
            position: Position {
                x: 180,
                y: 400,
                width: 360,
                height: 640,
            },
            pressure: 1.0,
            action_button: 0,
            buttons: 0,
        }
        .serialize(&mut m);
    }
    // and the device name on GET_CLIPBOARD round trip proves the control socket is served
    ControlMsg::GetClipboard { copy_key: 0 }.serialize(&mut m);
    control.write_all(&m).await.unwrap();
    let mut reply = [0u8; 5];
    timeout(WAIT, control.read_exact(&mut reply))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reply, [0, 0, 0, 0, 0], "an empty clipboard");
    assert_eq!(screen.lock().unwrap().game().taps(), 1);
    let (_, taps) =
        d.fs.host_path("/", "/data/data/com.playrack.tapper/files/taps")
            .unwrap();
    assert_eq!(std::fs::read_to_string(taps).unwrap(), "1\n");

    // `input tap` from the shell reaches the same game
    let (status, _, err) = sh(&d, "input tap 100 200").await;
    assert_eq!(status, 0, "{err}");
    assert_eq!(screen.lock().unwrap().game().taps(), 2);

    // `wm size` turns the display landscape: the capture restarts at the new size (a new
    // session packet, configuration and key frame), and frames decode at it; reset, it turns back
    for (cmd, size) in [
        ("wm size 1280x720", (640, 360)),
        ("wm size reset", (360, 640)),
    ] {
        let (status, _, err) = sh(&d, cmd).await;
        assert_eq!(status, 0, "{err}");
        let (mut session, mut decoded_at) = (false, None);
        while decoded_at.is_none() {
            let n = timeout(WAIT, video.read(&mut buf)).await.unwrap().unwrap();
            assert!(n > 0, "video closed early");
            demux.feed(&buf[..n]);
            while let Some(e) = demux.poll().unwrap() {
                match &e {
                    StreamEvent::Session(s) => session = (s.width, s.height) == size,
                    StreamEvent::Config(c) => merger.config(c.clone()),
                    StreamEvent::Frame { data, .. } if session => {
                        if let Some(yuv) = decoder.decode(&merger.merge(data.clone())).unwrap() {
                            use openh264::formats::YUVSource;
                            decoded_at = Some(yuv.dimensions());
                        }
                    }
                    _ => {}
                }
            }
        }
        assert_eq!(
            decoded_at,
            Some((size.0 as usize, size.1 as usize)),
            "{cmd}"
        );
    }

    // the client leaves: the server exits 0
    drop(video);
    drop(control);
    let (status, _, err) = timeout(WAIT, server).await.unwrap().unwrap();
    assert_eq!(status, 0, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tap_counter_survives_a_tar_of_the_app_data_into_a_fresh_device() {
    let pkg = "com.playrack.tapper";
    let app = InstalledPackage {
        package: pkg.into(),
        version_code: 1,
        version_name: None,
        launchable_activity: None,
        apk_path: format!("/data/app/{pkg}/base.apk"),
        label: None,
    };

    // device A: three taps, then the node agent's save: tar of /data/data/<pkg>
    let dir_a = tempfile::tempdir().unwrap();
    let a = device(dir_a.path());
    let screen_a = install(&a);
    GameHooks {
        screen: screen_a.clone(),
    }
    .app_started(&a, &app, "");
    for _ in 0..3 {
        let (status, _, err) = sh(&a, "input tap 300 700").await;
        assert_eq!(status, 0, "{err}");
    }
    assert_eq!(screen_a.lock().unwrap().game().taps(), 3);
    let (status, _, err) = sh(
        &a,
        &format!("tar -czf /sdcard/save.tgz -C /data/data {pkg}"),
    )
    .await;
    assert_eq!(status, 0, "{err}");
    let (_, archive) = a.fs.host_path("/", "/sdcard/save.tgz").unwrap();

    // device B: restore the archive, start the app: the counter goes on from 3
    let dir_b = tempfile::tempdir().unwrap();
    let b = device(dir_b.path());
    let screen_b = install(&b);
    let (_, dest) = b.fs.writable_path("/", "/sdcard/save.tgz").unwrap();
    std::fs::copy(archive, dest).unwrap();
    let (status, _, err) = sh(&b, "tar -xzf /sdcard/save.tgz -C /data/data").await;
    assert_eq!(status, 0, "{err}");
    GameHooks {
        screen: screen_b.clone(),
    }
    .app_started(&b, &app, "");
    assert_eq!(screen_b.lock().unwrap().game().taps(), 3);
    let (status, _, err) = sh(&b, "input tap 10 700").await;
    assert_eq!(status, 0, "{err}");
    let (_, taps) =
        b.fs.host_path("/", &format!("/data/data/{pkg}/files/taps"))
            .unwrap();
    assert_eq!(std::fs::read_to_string(taps).unwrap(), "4\n");
    // and the counter is drawn: the 7-segment panel differs between 3 and 4 taps, and is the
    // same for two games at the same count
    let panel = |screen: &android_injector::scrcpy::server::SharedScreen| {
        let mut f = android_injector::game::I420::new(720, 1280);
        screen.lock().unwrap().game_mut().render(&mut f, 0);
        let (cx, cy, ch) = android_injector::game::Layout::new(720, 1280).counter;
        (cy..cy + ch)
            .flat_map(|y| f.y[y * 720 + cx..y * 720 + cx + 6 * ch * 2 / 3].to_vec())
            .collect::<Vec<u8>>()
    };
    let (three, four) = (panel(&screen_a), panel(&screen_b));
    assert_ne!(three, four);
    sh(&a, "input tap 300 700").await;
    assert_eq!(panel(&screen_a), four);
}

/// `list_encoders=true` prints the device's encoders the way scrcpy's server logs them and
/// exits without opening a socket; a board without the hardware encoder lists only Android's
/// software one, a ROM without either lists none; asking for an encoder the device lacks (or
/// for the default one where there is none) fails as the server does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_lists_its_encoders_and_refuses_one_it_lacks() {
    use playrack_scrcpy::encoders::{self, EncoderKind, HW_AVC, SW_AVC};
    let server = format!("CLASSPATH={JAR} app_process / com.genymobile.scrcpy.Server 4.1");
    for hw in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let d = device(dir.path());
        install(&d);
        push_jar(&d);
        if !hw {
            d.props.set(encoders::HW_ENCODER_PROPERTY, "0").unwrap();
        }
        let (code, out, err) = sh(&d, &format!("{server} list_encoders=true")).await;
        assert_eq!((code, err.as_str()), (0, ""), "{out}");
        assert!(
            out.starts_with(
                "[server] INFO: Device: [Playrack] Playrack Playrack VD (Android 13)\n"
            ),
            "{out}"
        );
        assert!(
            out.contains("[server] INFO: List of video encoders:\n"),
            "{out}"
        );
        assert!(
            out.contains(&format!(
                "--audio-codec=opus --audio-encoder={}",
                encoders::SW_OPUS
            )),
            "{out}"
        );
        let listed = encoders::parse_list(&out);
        let names: Vec<(&str, EncoderKind)> =
            listed.iter().map(|e| (e.name.as_str(), e.kind)).collect();
        let mut want = vec![(SW_AVC, EncoderKind::Software)];
        if hw {
            want.insert(0, (HW_AVC, EncoderKind::Hardware));
        }
        assert_eq!(names, want, "{out}");
        assert!(
            d.sockets().connect("scrcpy").is_err(),
            "no socket is opened for a list"
        );
        // Quiet at log level warn, as Ln.i is.
        let (code, out, _) = sh(&d, &format!("{server} list_encoders=true log_level=warn")).await;
        assert_eq!((code, out.as_str()), (0, ""));
        let (code, _, err) = sh(
            &d,
            &format!("{server} video_encoder=OMX.none.avc tunnel_forward=true"),
        )
        .await;
        assert_eq!(code, 1);
        assert!(err.starts_with("[server] ERROR: Video encoder 'OMX.none.avc' for h264 not found\nList of video encoders:"), "{err}");
        if !hw {
            let (code, _, err) = sh(
                &d,
                &format!("{server} video_encoder={HW_AVC} tunnel_forward=true"),
            )
            .await;
            assert_eq!(code, 1, "the missing hardware encoder is refused: {err}");
        }
    }

    // A ROM with no H.264 encoder at all lists none and cannot start a video stream with the
    // server's default, as `MediaCodec.createEncoderByType` fails on such a device.
    let dir = tempfile::tempdir().unwrap();
    let d = device(dir.path());
    install(&d);
    push_jar(&d);
    d.props.set(encoders::HW_ENCODER_PROPERTY, "0").unwrap();
    d.props.set(encoders::SW_ENCODER_PROPERTY, "0").unwrap();
    let (code, out, _) = sh(&d, &format!("{server} list_encoders=true")).await;
    assert_eq!(code, 0);
    assert!(encoders::parse_list(&out).is_empty(), "{out}");
    let (code, _, err) = sh(&d, &format!("{server} tunnel_forward=true")).await;
    assert_eq!(code, 1);
    assert!(
        err.starts_with("[server] ERROR: Could not create default video encoder for h264\n"),
        "{err}"
    );
    assert!(
        d.sockets().connect("scrcpy").is_err(),
        "no socket without an encoder"
    );
    // Listing needs no encoder.
    let (code, _, err) = sh(
        &d,
        &format!("{server} video=false audio=false list_encoders=true"),
    )
    .await;
    assert_eq!((code, err.as_str()), (0, ""));
}
