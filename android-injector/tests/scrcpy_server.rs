//! The scrcpy-compatible server end to end, in-process over loopback TCP: a client built from
//! our own demuxer connects the way scrcpy's does (forward tunnel: video, dummy byte, audio,
//! control), decodes the H.264 with openh264's decoder and the Opus with libopus, and drives
//! the game through the control socket.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use android_injector::game::{LumaRef, read_frame_number, read_probe_block};
use android_injector::scrcpy::server::{self, DeviceScreen, SharedScreen};
use openh264::decoder::Decoder;
use openh264::formats::YUVSource;
use playrack_scrcpy::client::{self, Client, MediaReader};
use playrack_scrcpy::control_msg::*;
use playrack_scrcpy::device_msg::DeviceMsgReader;
use playrack_scrcpy::stream::{CODEC_ID_H264, CODEC_ID_OPUS, PacketMerger};
use playrack_scrcpy::{ControlMsg, DeviceMsg, Options, SCRCPY_VERSION, Session, StreamEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Generous: debug builds on two shared cores.
const WAIT: Duration = Duration::from_secs(60);
const DEVICE_NAME: &str = "Playrack Virtual Device";

struct Server {
    addr: SocketAddr,
    screen: SharedScreen,
    options: Options,
}

async fn start(args: &[&str], files_dir: Option<&Path>) -> Server {
    let mut argv = vec![SCRCPY_VERSION];
    argv.extend_from_slice(args);
    let options = Options::parse(&argv).unwrap();
    let screen = DeviceScreen::launch(
        "com.playrack.testgame",
        720,
        1280,
        60,
        files_dir.map(Path::to_path_buf),
    )
    .unwrap()
    .shared();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (o, s) = (options.clone(), screen.clone());
    tokio::spawn(async move {
        if let Err(e) = server::run(o, DEVICE_NAME, s, listener).await {
            eprintln!("server ended: {e}");
        }
    });
    Server {
        addr,
        screen,
        options,
    }
}

type Reader = MediaReader<TcpStream>;

/// Connects like scrcpy's client in forward mode (first socket, its dummy byte, the others,
/// then the device name), with the library's client.
async fn connect(s: &Server) -> Client<TcpStream> {
    let addr = s.addr;
    let c = timeout(
        WAIT,
        client::connect_forward(
            &s.options,
            || TcpStream::connect(addr),
            client::CONNECT_ATTEMPTS,
            client::CONNECT_DELAY,
        ),
    )
    .await
    .unwrap()
    .unwrap();
    if let Some(control) = &c.control {
        control.set_nodelay(true).unwrap();
    }
    c
}

/// A server started with `args` plus `tunnel_forward=true audio=false`, connected: its video
/// socket past the codec id (H.264), and its control socket.
async fn video_only(args: &[&str]) -> (Server, Reader, TcpStream) {
    let mut all = vec!["tunnel_forward=true", "audio=false"];
    all.extend_from_slice(args);
    let s = start(&all, None).await;
    let mut c = connect(&s).await;
    let mut video = c.video.take().unwrap();
    let control = c.control.take().unwrap();
    assert_eq!(next(&mut video).await, StreamEvent::Codec(CODEC_ID_H264));
    (s, video, control)
}

async fn next(rx: &mut Reader) -> StreamEvent {
    timeout(WAIT, rx.next())
        .await
        .expect("timed out waiting for the stream")
        .expect("stream error")
        .expect("stream closed")
}

/// A decoded frame's luma, copied out of the decoder.
struct Picture {
    width: usize,
    height: usize,
    y: Vec<u8>,
    stride: usize,
}

impl Picture {
    fn luma(&self) -> LumaRef<'_> {
        LumaRef {
            data: &self.y,
            width: self.width,
            height: self.height,
            stride: self.stride,
        }
    }
}

/// Demuxed video → decoded pictures, with config packets merged into the next frame.
struct VideoClient {
    rx: Reader,
    decoder: Decoder,
    merger: PacketMerger,
    sessions: Vec<Session>,
    key_frames: usize,
    /// The PTS of the last frame decoded (device time, µs).
    last_pts: u64,
}

impl VideoClient {
    fn new(rx: Reader) -> VideoClient {
        VideoClient {
            rx,
            decoder: Decoder::new().unwrap(),
            merger: PacketMerger::new(),
            sessions: Vec::new(),
            key_frames: 0,
            last_pts: 0,
        }
    }

    /// The next decoded picture.
    async fn picture(&mut self) -> Picture {
        loop {
            match next(&mut self.rx).await {
                StreamEvent::Session(s) => self.sessions.push(s),
                StreamEvent::Config(c) => self.merger.config(c),
                StreamEvent::Frame { key, data, pts } => {
                    self.last_pts = pts;
                    if key {
                        self.key_frames += 1;
                    }
                    let packet = self.merger.merge(data);
                    if let Some(yuv) = self.decoder.decode(&packet).unwrap() {
                        let (width, height) = yuv.dimensions();
                        let stride = yuv.strides().0;
                        return Picture {
                            width,
                            height,
                            stride,
                            y: yuv.y().to_vec(),
                        };
                    }
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// Decodes until `pred` holds for a picture, returning it.
    async fn until(&mut self, what: &str, mut pred: impl FnMut(&Picture) -> bool) -> Picture {
        for _ in 0..2000 {
            let p = self.picture().await;
            if pred(&p) {
                return p;
            }
        }
        panic!("never saw {what}");
    }
}

fn touch(action: u8, id: u64, x: i32, y: i32, w: u16, h: u16) -> Vec<u8> {
    ControlMsg::InjectTouchEvent {
        action,
        pointer_id: id,
        position: Position {
            x,
            y,
            width: w,
            height: h,
        },
        pressure: 1.0,
        action_button: 0,
        buttons: 0,
    }
    .to_bytes()
}

fn key(action: u8, keycode: i32) -> Vec<u8> {
    ControlMsg::InjectKeycode {
        action,
        keycode,
        repeat: 0,
        metastate: 0,
    }
    .to_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_decodes_and_reacts_to_touch_probe_and_reset() {
    let data = tempfile::tempdir().unwrap();
    let files = data.path().join("data/com.playrack.testgame/files");
    let s = start(
        &[
            "scid=0badcafe",
            "log_level=info",
            "tunnel_forward=true",
            "max_size=640",
            "max_fps=60",
            "video_bit_rate=2000000",
            "audio=false",
        ],
        Some(&files),
    )
    .await;
    assert_eq!(s.options.socket_name(), "scrcpy_0badcafe");
    let mut c = connect(&s).await;
    let mut video = c.video.take().unwrap();
    let mut control = c.control.take().unwrap();
    assert!(c.audio.is_none());

    // device name, codec, session, then config and a key frame
    assert_eq!(c.device_name.as_deref(), Some(DEVICE_NAME));
    assert_eq!(next(&mut video).await, StreamEvent::Codec(CODEC_ID_H264));
    let session = Session {
        width: 360,
        height: 640,
        resized: false,
    };
    assert_eq!(next(&mut video).await, StreamEvent::Session(session));
    let mut v = VideoClient::new(video);
    v.sessions.push(session);

    // ≥ 120 frames at the requested size, with increasing frame numbers
    let mut last = None;
    for _ in 0..120 {
        let p = v.picture().await;
        assert_eq!((p.width, p.height), (360, 640));
        let n = read_frame_number(p.luma());
        if let Some(l) = last {
            assert!(n > l, "frame numbers must increase: {l} then {n}");
        }
        last = Some(n);
    }
    assert_eq!(v.key_frames, 1, "one IDR: the interval is 10 s");
    assert!(last.unwrap() >= 119);

    // a touch with a stale video size is ignored, one with the current size leaves a mark
    let (ax, ay) = (180, 470); // video coordinates, in the open background
    let (bx, by) = (90, 560);
    let before = v.picture().await;
    let (la, lb) = (before.luma().at(ax, ay), before.luma().at(bx, by));
    assert!(la < 150 && lb < 150, "background is dark: {la} {lb}");
    let mut msgs = touch(
        AMOTION_EVENT_ACTION_DOWN,
        1,
        bx as i32 * 2,
        by as i32 * 2,
        720,
        1280,
    );
    msgs.extend(touch(
        AMOTION_EVENT_ACTION_UP,
        1,
        bx as i32 * 2,
        by as i32 * 2,
        720,
        1280,
    ));
    msgs.extend(touch(
        AMOTION_EVENT_ACTION_DOWN,
        POINTER_ID_GENERIC_FINGER,
        ax as i32,
        ay as i32,
        360,
        640,
    ));
    msgs.extend(touch(
        AMOTION_EVENT_ACTION_UP,
        POINTER_ID_GENERIC_FINGER,
        ax as i32,
        ay as i32,
        360,
        640,
    ));
    control.write_all(&msgs).await.unwrap();
    let marked = v
        .until("the touch mark", |p| p.luma().at(ax, ay) >= 200)
        .await;
    assert!(
        marked.luma().at(bx, by) < 150,
        "the stale-size touch was dropped"
    );
    assert_eq!(s.screen.lock().unwrap().game().taps(), 1);
    assert_eq!(std::fs::read_to_string(files.join("taps")).unwrap(), "1\n");

    // F12 toggles the probe in the very frame rendered next
    let p = v.picture().await;
    assert!(!read_probe_block(p.luma()));
    control
        .write_all(&key(AKEY_EVENT_ACTION_DOWN, AKEYCODE_F12))
        .await
        .unwrap();
    let mut prev = read_frame_number(p.luma());
    let lit = v
        .until("the probe", |p| {
            let on = read_probe_block(p.luma());
            if !on {
                prev = read_frame_number(p.luma());
            }
            on
        })
        .await;
    let first_on = read_frame_number(lit.luma());
    let toggled = s.screen.lock().unwrap().game().probe_toggle_frame();
    assert_eq!(
        Some(first_on),
        toggled,
        "the first lit frame is the one rendered after F12"
    );
    assert_eq!(prev + 1, first_on, "and the frame before it was dark");
    for _ in 0..5 {
        assert!(read_probe_block(v.picture().await.luma()), "stays on");
    }
    control
        .write_all(&key(AKEY_EVENT_ACTION_DOWN, AKEYCODE_F12))
        .await
        .unwrap();
    v.until("the probe off", |p| !read_probe_block(p.luma()))
        .await;

    // RESET_VIDEO: a new session packet, config and key frame; decoding goes on
    control
        .write_all(&ControlMsg::ResetVideo.to_bytes())
        .await
        .unwrap();
    let keys_before = v.key_frames;
    let sessions_before = v.sessions.len();
    v.until("a new key frame", |_| true).await;
    for _ in 0..200 {
        if v.key_frames > keys_before {
            break;
        }
        v.picture().await;
    }
    assert_eq!(v.key_frames, keys_before + 1);
    assert_eq!(v.sessions.len(), sessions_before + 1);
    assert_eq!(v.sessions.last(), Some(&session));
    let p = v.picture().await;
    assert_eq!((p.width, p.height), (360, 640));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_is_shown_in_a_frame_rendered_at_once_not_at_the_next_tick() {
    // One frame a second: without input, frames are a second apart in device time.
    let (_s, video, mut control) = video_only(&["max_size=320", "max_fps=1"]).await;
    let mut v = VideoClient::new(video);
    v.picture().await;
    let dark = v.picture().await;
    assert!(!read_probe_block(dark.luma()));
    let before = v.last_pts;

    control
        .write_all(&key(AKEY_EVENT_ACTION_DOWN, AKEYCODE_F12))
        .await
        .unwrap();
    let lit = v.picture().await;
    assert!(
        read_probe_block(lit.luma()),
        "the very next frame shows the input"
    );
    let early = v.last_pts - before;
    assert!(
        early < 900_000,
        "the frame showing the input came {early} µs after the last one: at the tick, not at once"
    );
    // Without more input the cap holds: the next frame comes a whole interval later.
    v.picture().await;
    let steady = v.last_pts - before - early;
    assert!(
        (900_000..1_100_000).contains(&steady),
        "the frame after it came {steady} µs later"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_is_opus_with_a_click_per_tap() {
    let s = start(&["tunnel_forward=true", "max_size=320", "max_fps=15"], None).await;
    let mut c = connect(&s).await;
    let mut audio = c.audio.take().unwrap();
    let mut video = c.video.take().unwrap();
    let mut control = c.control.take().unwrap();
    assert_eq!(next(&mut audio).await, StreamEvent::Codec(CODEC_ID_OPUS));
    let StreamEvent::Config(head) = next(&mut audio).await else {
        panic!("expected the OpusHead config packet");
    };
    assert_eq!(head.len(), 19);
    assert_eq!(&head[..8], b"OpusHead");
    assert_eq!(head[9], 2, "stereo");
    assert_eq!(u32::from_le_bytes(head[12..16].try_into().unwrap()), 48_000);

    let mut dec = opus::Decoder::new(48_000, opus::Channels::Stereo).unwrap();
    let mut pcm = vec![0i16; 960 * 2];
    let mut decode = async |audio: &mut Reader| -> (u64, i16) {
        let StreamEvent::Frame { pts, key, data } = next(audio).await else {
            panic!("expected an audio frame");
        };
        assert!(!key);
        let n = dec.decode(&data, &mut pcm, false).unwrap();
        assert_eq!(n, 960, "20 ms at 48 kHz");
        (pts, pcm.iter().map(|v| v.saturating_abs()).max().unwrap())
    };
    let mut last_pts = 0;
    for _ in 0..10 {
        let (pts, peak) = decode(&mut audio).await;
        assert!(pts > last_pts || last_pts == 0);
        last_pts = pts;
        assert!(peak < 5000, "a quiet tone before any tap: {peak}");
    }
    // tap at the current video size, which the session packet tells
    let (w, h) = loop {
        if let StreamEvent::Session(s) = next(&mut video).await {
            break (s.width as u16, s.height as u16);
        }
    };
    assert_eq!(
        (w, h),
        (184, 320),
        "720x1280 capped to 320, sides multiples of 8"
    );
    let mut m = touch(AMOTION_EVENT_ACTION_DOWN, 3, 90, 200, w, h);
    m.extend(touch(AMOTION_EVENT_ACTION_UP, 3, 90, 200, w, h));
    control.write_all(&m).await.unwrap();
    let mut loud = false;
    for _ in 0..100 {
        let (_, peak) = decode(&mut audio).await;
        if peak > 10_000 {
            loud = true;
            break;
        }
    }
    assert!(loud, "the tap's click is heard");
    assert_eq!(s.screen.lock().unwrap().game().taps(), 1);
}

/// The next device message on the control socket (within [`WAIT`]).
async fn next_device_msg(control: &mut TcpStream, r: &mut DeviceMsgReader) -> DeviceMsg {
    let mut buf = [0u8; 1024];
    loop {
        if let Some(msg) = r.next_msg().unwrap() {
            return msg;
        }
        let n = timeout(WAIT, control.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "the control socket closed");
        r.push(&buf[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clipboard_and_bad_control_message() {
    let s = start(
        &[
            "tunnel_forward=true",
            "audio=false",
            "max_size=320",
            "max_fps=10",
        ],
        None,
    )
    .await;
    let mut c = connect(&s).await;
    assert_eq!(c.device_name.as_deref(), Some(DEVICE_NAME));
    let mut video = c.video.take().unwrap();
    let mut control = c.control.take().unwrap();

    // SET_CLIPBOARD with a sequence is acknowledged; GET_CLIPBOARD answers with the text
    let mut m = ControlMsg::SetClipboard {
        sequence: 0x0102030405060708,
        paste: true,
        text: "héllo".into(),
    }
    .to_bytes();
    m.extend(
        ControlMsg::SetClipboard {
            sequence: 0,
            paste: false,
            text: "second".into(),
        }
        .to_bytes(),
    );
    m.extend(
        ControlMsg::GetClipboard {
            copy_key: COPY_KEY_NONE,
        }
        .to_bytes(),
    );
    m.extend(
        ControlMsg::InjectText {
            text: "typed".into(),
        }
        .to_bytes(),
    );
    m.extend(
        ControlMsg::BackOrScreenOn {
            action: AKEY_EVENT_ACTION_DOWN,
        }
        .to_bytes(),
    );
    control.write_all(&m).await.unwrap();
    let mut r = DeviceMsgReader::new();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while got.len() < 2 {
        let n = timeout(WAIT, control.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0);
        r.push(&buf[..n]);
        while let Some(msg) = r.next_msg().unwrap() {
            got.push(msg);
        }
    }
    assert_eq!(
        got,
        vec![
            DeviceMsg::AckClipboard {
                sequence: 0x0102030405060708
            },
            DeviceMsg::Clipboard {
                text: "second".into()
            },
        ],
        "no ACK for sequence 0"
    );
    // The text and the key come after GET_CLIPBOARD in the stream, so the device may still
    // be handling them when the clipboard's answer arrives: wait for them, with a deadline.
    let deadline = std::time::Instant::now() + WAIT;
    let handled = || {
        let screen = s.screen.lock().unwrap();
        let game = screen.game();
        game.typed_text() == "héllotyped"
            && game
                .keys()
                .contains(&(AKEY_EVENT_ACTION_DOWN, AKEYCODE_BACK))
    };
    while !handled() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    {
        let screen = s.screen.lock().unwrap();
        assert_eq!(screen.clipboard(), "second");
        assert_eq!(screen.game().typed_text(), "héllotyped", "paste then text");
        assert!(
            screen
                .game()
                .keys()
                .contains(&(AKEY_EVENT_ACTION_DOWN, AKEYCODE_BACK))
        );
    }

    // COPY in the game's field puts its text on the clipboard, and the device says so
    // (clipboard sync, on by default)
    let copy = |action| ControlMsg::InjectKeycode {
        action,
        keycode: AKEYCODE_COPY,
        repeat: 0,
        metastate: 0,
    };
    let mut m = copy(AKEY_EVENT_ACTION_DOWN).to_bytes();
    m.extend(copy(AKEY_EVENT_ACTION_UP).to_bytes());
    control.write_all(&m).await.unwrap();
    let copied = next_device_msg(&mut control, &mut r).await;
    assert_eq!(
        copied,
        DeviceMsg::Clipboard {
            text: "héllotyped".into()
        }
    );
    assert_eq!(s.screen.lock().unwrap().clipboard(), "héllotyped");

    // Playrack's custom channel: the game echoes what its page sends
    control
        .write_all(
            &ControlMsg::Custom {
                data: "ping 你好".into(),
            }
            .to_bytes(),
        )
        .await
        .unwrap();
    let echoed = next_device_msg(&mut control, &mut r).await;
    assert_eq!(
        echoed,
        DeviceMsg::Custom {
            data: "ping 你好".into()
        }
    );

    // an unknown message type closes the control socket only
    control.write_all(&[0xee, 1, 2, 3]).await.unwrap();
    let n = timeout(WAIT, control.read(&mut buf)).await.unwrap();
    assert!(matches!(n, Ok(0) | Err(_)), "control socket closed: {n:?}");
    // video goes on
    let mut frames = 0;
    while frames < 5 {
        if let StreamEvent::Frame { .. } = next(&mut video).await {
            frames += 1;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reverse_tunnel_has_no_dummy_byte_and_unsupported_codec_is_an_error() {
    // reverse mode: the server connects to us
    let mut listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = Options::parse(&[
        SCRCPY_VERSION,
        "video_codec=h265",
        "audio=false",
        "control=false",
    ])
    .unwrap();
    let screen = DeviceScreen::launch("com.x", 720, 1280, 60, None)
        .unwrap()
        .shared();
    let o = options.clone();
    tokio::spawn(async move {
        let _ = server::run(o, "dev", screen, server::TcpConnector(addr)).await;
    });
    // no dummy byte in reverse mode: the device name is the first thing on the socket
    let mut c = timeout(WAIT, client::accept_reverse(&options, &mut listener))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.device_name.as_deref(), Some("dev"));
    let mut video = c.video.take().unwrap();
    // h265 is not available: codec id 1, a configuration error, then the stream ends
    assert_eq!(next(&mut video).await, StreamEvent::Codec(1));
    assert_eq!(timeout(WAIT, video.next()).await.unwrap().unwrap(), None);
}

/// Bytes of the next `n` frames; whether any was a key frame, a config or a new session.
async fn frame_bytes(rx: &mut Reader, n: usize) -> (usize, bool) {
    let (mut bytes, mut restarted, mut frames) = (0, false, 0);
    while frames < n {
        match next(rx).await {
            StreamEvent::Frame { key, data, .. } => {
                bytes += data.len();
                restarted |= key;
                frames += 1;
            }
            StreamEvent::Config(_) | StreamEvent::Session(_) => restarted = true,
            other => panic!("unexpected {other:?}"),
        }
    }
    (bytes, restarted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_video_bit_rate_changes_the_stream_in_place() {
    let (_s, mut video, mut control) = video_only(&["max_fps=30", "video_bit_rate=4000000"]).await;
    frame_bytes(&mut video, 30).await;
    let (high, _) = frame_bytes(&mut video, 60).await;

    let msg = ControlMsg::SetVideoBitRate { bit_rate: 200_000 }.to_bytes();
    control.write_all(&msg).await.unwrap();
    let (_, restarted) = frame_bytes(&mut video, 30).await;
    let (low, restarted_later) = frame_bytes(&mut video, 60).await;
    assert!(
        !restarted && !restarted_later,
        "the rate changed without a key frame or a new session"
    );
    // 60 frames at 30 fps: two seconds. openh264 cannot reach 200 kb/s at 720p without
    // skipping frames (the game's picture needs ~400 kb/s at its coarsest), but it goes well
    // down.
    assert!(
        2 * high > 3 * low,
        "{} kb/s at 4 Mb/s, {} kb/s at 200 kb/s",
        high * 8 / 2000,
        low * 8 / 2000
    );
}

/// `playrack_slices=4` (a build with x264): each frame comes as four packets with one PTS, the
/// first three flagged partial; joined they decode to the game; and a slice is on the socket
/// while the encoder is still busy with the next (a slow encoder makes the gap visible).
#[cfg(feature = "x264")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sliced_frames_leave_slice_by_slice_and_decode_whole() {
    use std::time::Instant;
    let (s, mut video, _control) = video_only(&["max_size=640", "playrack_slices=4"]).await;
    assert!(matches!(next(&mut video).await, StreamEvent::Session(_)));
    let mut decoder = Decoder::new().unwrap();
    let mut merger = PacketMerger::new();
    // (first part's arrival, last part's arrival) per frame
    let mut read_frame = async |video: &mut Reader| -> (Instant, Instant, Picture) {
        let mut parts = 0;
        let mut pts_seen = None;
        let mut first = None;
        let mut au = Vec::new();
        loop {
            match next(video).await {
                StreamEvent::Config(c) => merger.config(c),
                StreamEvent::FramePart { pts, data, .. } => {
                    first.get_or_insert_with(Instant::now);
                    assert!(pts_seen.is_none_or(|p| p == pts), "one PTS per frame");
                    pts_seen = Some(pts);
                    parts += 1;
                    au.extend(merger.merge(data));
                }
                StreamEvent::Frame { pts, data, .. } => {
                    let last = Instant::now();
                    assert!(pts_seen.is_none_or(|p| p == pts), "one PTS per frame");
                    assert_eq!(parts, 3, "three parts before the frame's last slice");
                    au.extend(merger.merge(data));
                    let yuv = decoder
                        .decode(&au)
                        .unwrap()
                        .expect("the joined frame decodes");
                    let (width, height) = yuv.dimensions();
                    let picture = Picture {
                        width,
                        height,
                        stride: yuv.strides().0,
                        y: yuv.y().to_vec(),
                    };
                    return (first.unwrap_or(last), last, picture);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    };
    let mut numbers = Vec::new();
    for _ in 0..10 {
        let (_, _, p) = read_frame(&mut video).await;
        assert_eq!((p.width, p.height), (360, 640));
        numbers.push(read_frame_number(p.luma()));
    }
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");

    s.screen
        .lock()
        .unwrap()
        .set_slice_delay(Duration::from_millis(40));
    // a frame encoded after the switch: its first slice arrived ≥ 3 × 40 ms before its last
    let mut gap = Duration::ZERO;
    for _ in 0..5 {
        let (first, last, _) = read_frame(&mut video).await;
        gap = gap.max(last - first);
    }
    assert!(
        gap >= Duration::from_millis(110),
        "first-to-last slice: {gap:?}"
    );
}
