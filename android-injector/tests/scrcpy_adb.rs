//! scrcpy's own launch sequence against the virtual device, through Debian's real `adb`:
//! push the server jar, `adb forward tcp:0 localabstract:scrcpy_%08x`, `adb shell
//! CLASSPATH=… app_process / com.genymobile.scrcpy.Server 4.1 …`, then connect to the forwarded
//! port, read the device name, codec and session packets, decode ≥ 120 frames with openh264,
//! and drive the game through the control socket.

mod adb_support;

use std::io::Read;
use std::process::Stdio;
use std::time::Duration;

use adb_support::{AdbServer, InProcessDevice, TIMEOUT};
use android_injector::device::AuthConfig;
use android_injector::game::{LumaRef, read_frame_number, read_probe_block};
use android_injector::scrcpy::app_process::install;
use openh264::decoder::Decoder;
use openh264::formats::YUVSource;
use playrack_scrcpy::client::{self, CONNECT_ATTEMPTS, CONNECT_DELAY};
use playrack_scrcpy::control_msg::*;
use playrack_scrcpy::stream::{CODEC_ID_H264, PacketMerger};
use playrack_scrcpy::{ControlMsg, Options, SCRCPY_VERSION, Session, StreamEvent};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::timeout;

const JAR: &str = "/data/local/tmp/scrcpy-server.jar";

fn push_jar(adb: &AdbServer, serial: &str) {
    let dir = tempfile::tempdir().unwrap();
    let jar = dir.path().join("scrcpy-server");
    std::fs::write(&jar, b"PK\x03\x04 the server jar as scrcpy pushes it").unwrap();
    let o = adb.adb_s(serial, &["push", jar.to_str().unwrap(), JAR]);
    assert!(o.status.success(), "push: {o:?}");
}

#[test]
fn version_mismatch_through_adb_shell() {
    let dev = InProcessDevice::start(AuthConfig::AcceptAny);
    install(&dev.device);
    let adb = AdbServer::start();
    let s = dev.serial();
    adb.connect(&s);
    push_jar(&adb, &s);
    let (out, err, code) = adb.shell(
        &s,
        &format!("CLASSPATH={JAR} app_process / com.genymobile.scrcpy.Server 2.7 scid=00000001"),
    );
    assert_ne!(code, 0, "{out} {err}");
    assert!(
        err.contains("[server] ERROR: The server version (4.1) does not match the client (2.7)"),
        "stderr: {err:?} stdout: {out:?}"
    );
}

#[test]
fn scrcpy_launch_sequence_over_adb_forward() {
    let dev = InProcessDevice::start(AuthConfig::AcceptAny);
    let screen = install(&dev.device);
    let adb = AdbServer::start();
    let serial = dev.serial();
    adb.connect(&serial);
    push_jar(&adb, &serial);

    let args = [
        "scid=12ab34cd",
        "log_level=info",
        "audio=false",
        "max_size=640",
        "max_fps=60",
        "video_bit_rate=2000000",
        "tunnel_forward=true",
    ];
    let mut argv = vec![SCRCPY_VERSION];
    argv.extend_from_slice(&args);
    let options = Options::parse(&argv).unwrap();
    assert_eq!(options.socket_name(), "scrcpy_12ab34cd");

    // adb forward tcp:0 localabstract:scrcpy_12ab34cd
    let o = adb.adb_s(
        &serial,
        &[
            "forward",
            "tcp:0",
            &format!("localabstract:{}", options.socket_name()),
        ],
    );
    assert!(o.status.success(), "forward: {o:?}");
    let port: u16 = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();

    // adb shell CLASSPATH=… app_process / com.genymobile.scrcpy.Server 4.1 …, as scrcpy runs it
    let mut shell = adb
        .command()
        .args(["-s", &serial, "shell", &options.command_line()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // scrcpy's client: connect, wait for the dummy byte (retrying while the server starts)
        let mut c = timeout(
            TIMEOUT,
            client::connect_forward(
                &options,
                || TcpStream::connect(("127.0.0.1", port)),
                CONNECT_ATTEMPTS,
                CONNECT_DELAY,
            ),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(
            c.device_name.as_deref(),
            Some(adb_support::identity().model.as_str())
        );
        assert!(c.audio.is_none());
        let mut video = c.video.take().unwrap();
        let mut control = c.control.take().unwrap();
        control.set_nodelay(true).unwrap();
        let mut next = async || {
            timeout(TIMEOUT, video.next())
                .await
                .unwrap()
                .unwrap()
                .expect("video closed")
        };
        assert_eq!(next().await, StreamEvent::Codec(CODEC_ID_H264));
        assert_eq!(
            next().await,
            StreamEvent::Session(Session {
                width: 360,
                height: 640,
                resized: false
            })
        );

        let mut decoder = Decoder::new().unwrap();
        let mut merger = PacketMerger::new();
        let mut pictures = 0;
        let mut last_number = None;
        let mut phase = 0;
        let (x, y) = (180usize, 470usize);
        while phase < 3 {
            let (data, _key) = match next().await {
                StreamEvent::Config(c) => {
                    merger.config(c);
                    continue;
                }
                StreamEvent::Frame { data, key, .. } => (data, key),
                other => panic!("unexpected {other:?}"),
            };
            let Some(yuv) = decoder.decode(&merger.merge(data)).unwrap() else {
                continue;
            };
            let (w, h) = yuv.dimensions();
            assert_eq!((w, h), (360, 640));
            let luma = LumaRef {
                data: yuv.y(),
                width: w,
                height: h,
                stride: yuv.strides().0,
            };
            let n = read_frame_number(luma);
            if let Some(l) = last_number {
                assert!(n > l, "frame numbers increase: {l} then {n}");
            }
            last_number = Some(n);
            pictures += 1;
            match phase {
                // ≥ 120 frames first, then a touch at (x, y)
                0 if pictures >= 120 => {
                    assert!(luma.at(x, y) < 150, "background before the touch");
                    let mut m = Vec::new();
                    for action in [AMOTION_EVENT_ACTION_DOWN, AMOTION_EVENT_ACTION_UP] {
                        ControlMsg::InjectTouchEvent {
                            action,
                            pointer_id: POINTER_ID_GENERIC_FINGER,
                            position: Position {
                                x: x as i32,
                                y: y as i32,
                                width: 360,
                                height: 640,
                            },
                            pressure: 1.0,
                            action_button: 0,
                            buttons: 0,
                        }
                        .serialize(&mut m);
                    }
                    control.write_all(&m).await.unwrap();
                    phase = 1;
                }
                // the mark shows; then the latency probe
                1 if luma.at(x, y) >= 200 => {
                    assert!(!read_probe_block(luma));
                    let f12 = ControlMsg::InjectKeycode {
                        action: AKEY_EVENT_ACTION_DOWN,
                        keycode: AKEYCODE_F12,
                        repeat: 0,
                        metastate: 0,
                    };
                    control.write_all(&f12.to_bytes()).await.unwrap();
                    phase = 2;
                }
                2 if read_probe_block(luma) => {
                    let toggled = screen.lock().unwrap().game().probe_toggle_frame();
                    assert_eq!(
                        toggled,
                        Some(n),
                        "lit in the frame rendered right after F12"
                    );
                    phase = 3;
                }
                _ => assert!(pictures < 2000, "stuck in phase {phase}"),
            }
        }
        assert!(pictures >= 120);
        assert_eq!(screen.lock().unwrap().game().taps(), 1);
        // the client leaves
        drop(control);
    });
    drop(rt);

    // the server exits 0 once its client is gone, and `adb shell` with it
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let status = shell.wait();
        let mut err = String::new();
        if let Some(mut e) = shell.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        let _ = tx.send((status, err));
    });
    let (status, err) = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("app_process did not exit after the client left");
    assert_eq!(status.unwrap().code(), Some(0), "stderr: {err}");
}
