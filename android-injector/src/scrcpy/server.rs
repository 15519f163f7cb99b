//! The scrcpy-compatible server the virtual device runs when started the way scrcpy starts it
//! (`app_process / com.genymobile.scrcpy.Server 4.1 …`). The async edge around the sans-IO
//! protocol modules, the game and the encoders.
//!
//! Sequence, as `DesktopConnection.java` and `Server.java` do it:
//! 1. open the sockets in order **video → audio → control** (disabled ones skipped) through a
//!    [`Tunnel`]: accept on the abstract socket in forward mode, connect out in reverse mode;
//!    in forward mode write the dummy byte on the first socket as soon as it is accepted;
//! 2. write the 64-byte device name on the first socket;
//! 3. video: codec id, then per capture session a session packet, a config packet (SPS/PPS)
//!    and a key frame, then frames at the frame-rate cap (asked for `playrack_slices=N` and
//!    built with x264: each frame as N packets, one a slice, sent as each is encoded, all but
//!    the last flagged partial); audio: codec id, `OpusHead` config,
//!    20 ms Opus packets; control: read control messages, answer with device messages.
//!
//! Input acts on the shared [`DeviceScreen`] (the game on the display). Touches and scrolls whose
//! (w,h) is not the current video size are dropped, like scrcpy's `PositionMapper`. A malformed
//! control message is logged and closes the control socket only; video and audio go on.
//! Playrack's two extensions are served as its injector serves them: SET_VIDEO_BIT_RATE
//! changes the encoder's rate in place, and a CUSTOM message is the page's message for the
//! game, which echoes it back (a device message of the same type); SENSOR and LOCATION are the
//! player's phone's readings, which the game reads. COPY in the game's text field sets the
//! clipboard, which clipboard sync reports to the client. UHID devices a client plugs in
//! (gamepads, a mouse) live as long as the server's control socket ([`super::uhid`]).
//!
//! Encoding runs on a plain thread per session (openh264 is CPU-bound and blocking) that hands
//! packets to the socket writer through a small bounded channel, so a slow client slows the
//! encoder rather than growing a queue: the same back-pressure MediaCodec gets.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::encode::audio::{AudioEncoder, AudioSynth, CHANNELS, FRAME_SAMPLES, FRAME_US};
use crate::encode::video::{MIN_BIT_RATE, VideoConfig, VideoEncoder, video_size};
use crate::game::{Game, GameConfig, I420, TapStore};
use playrack_scrcpy::control_msg::{
    AKEY_EVENT_ACTION_DOWN, AKEYCODE_COPY, ControlMsg, ControlMsgReader, Position,
};

use super::uhid::UhidDevices;
use playrack_scrcpy::device_msg::DeviceMsg;
use playrack_scrcpy::options::{AudioCodec, Options, VideoCodec};
use playrack_scrcpy::stream::{self, CODEC_ID_ERROR, DUMMY_BYTE, StreamWriter};
pub use playrack_scrcpy::tunnel::Tunnel;

/// Streams handed over by whoever accepts connections on the abstract socket name.
pub struct ChannelTunnel<S>(pub mpsc::Receiver<S>);

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Tunnel for ChannelTunnel<S> {
    type Stream = S;
    async fn open(&mut self) -> io::Result<S> {
        self.0.recv().await.ok_or_else(|| {
            io::Error::new(io::ErrorKind::ConnectionAborted, "abstract socket closed")
        })
    }
}

/// Reverse tunnel: the server connects to the client (scrcpy's default over `adb reverse`).
pub struct TcpConnector(pub std::net::SocketAddr);

impl Tunnel for TcpConnector {
    type Stream = tokio::net::TcpStream;
    async fn open(&mut self) -> io::Result<Self::Stream> {
        tokio::net::TcpStream::connect(self.0).await
    }
}

/// The device's display and what runs on it, shared by every server instance and the shell
/// (`am start` replaces the game). Holds the clock the sans-IO game is fed from.
pub struct DeviceScreen {
    epoch: Instant,
    game: Game,
    store: Option<TapStore>,
    clipboard: String,
    /// The game's main thread is stuck (`setprop debug.playrack.game.hang 1`): input waits
    /// undispatched, from this moment (µs) on.
    hung: bool,
    undispatched_since_us: Option<u64>,
    /// The capture stopped producing frames (`setprop debug.playrack.video.stall 1`): what a
    /// wedged encoder or a stuck display pipeline looks like from the client.
    video_stalled: bool,
    /// A slow encoder (`setprop debug.playrack.video.slice_delay_ms N`): each slice of a
    /// sliced frame takes this much longer to encode.
    slice_delay: Duration,
}

/// Android's input dispatching timeout: input left undispatched this long is an ANR.
pub const INPUT_DISPATCH_TIMEOUT_US: u64 = 5_000_000;

/// The screen as servers share it.
pub type SharedScreen = Arc<Mutex<DeviceScreen>>;

impl DeviceScreen {
    /// A screen showing `game`; taps are saved through `store` when given.
    pub fn new(game: Game, store: Option<TapStore>) -> DeviceScreen {
        DeviceScreen {
            epoch: Instant::now(),
            game,
            store,
            clipboard: String::new(),
            hung: false,
            video_stalled: false,
            slice_delay: Duration::ZERO,
            undispatched_since_us: None,
        }
    }

    /// Makes each slice of a sliced frame take `delay` longer to encode.
    pub fn set_slice_delay(&mut self, delay: Duration) {
        self.slice_delay = delay;
    }

    /// Stops (or restarts) the frames the video stream sends.
    pub fn set_video_stalled(&mut self, stalled: bool) {
        self.video_stalled = stalled;
    }

    /// Makes the game's main thread stuck (or free again): a stuck game takes no input.
    pub fn set_hung(&mut self, hung: bool) {
        self.hung = hung;
        if !hung {
            self.undispatched_since_us = None;
        }
    }

    /// Whether input reaches the game now; input a stuck game cannot take stays undispatched.
    pub fn dispatch_input(&mut self) -> bool {
        if self.hung {
            let now = self.now_us();
            self.undispatched_since_us.get_or_insert(now);
        }
        !self.hung
    }

    /// Whether input has waited undispatched past [`INPUT_DISPATCH_TIMEOUT_US`].
    pub fn not_responding(&self) -> bool {
        self.undispatched_since_us
            .is_some_and(|t| self.now_us().saturating_sub(t) >= INPUT_DISPATCH_TIMEOUT_US)
    }

    /// Starts `package` on a display of `width`×`height` at `fps`, loading its tap counter
    /// from `files_dir` (`<data>/data/<pkg>/files`).
    pub fn launch(
        package: &str,
        width: u32,
        height: u32,
        fps: u32,
        files_dir: Option<PathBuf>,
    ) -> io::Result<DeviceScreen> {
        let store = files_dir.map(|d| TapStore::new(&d));
        let taps = match &store {
            Some(s) => s.load()?,
            None => 0,
        };
        let config = GameConfig {
            package: package.to_string(),
            width,
            height,
            fps,
        };
        Ok(DeviceScreen::new(Game::new(config, taps), store))
    }

    pub fn shared(self) -> SharedScreen {
        Arc::new(Mutex::new(self))
    }

    /// µs since the screen was created: the time base of the game and of PTS.
    pub fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    pub fn game(&self) -> &Game {
        &self.game
    }

    pub fn game_mut(&mut self) -> &mut Game {
        &mut self.game
    }

    /// Replaces what runs on the display (keeping its size and rate).
    pub fn replace_game(&mut self, game: Game, store: Option<TapStore>) {
        self.game = game;
        self.store = store;
        self.set_hung(false);
    }

    pub fn clipboard(&self) -> &str {
        &self.clipboard
    }

    /// Saves the tap count and the text field if they changed.
    pub fn persist(&mut self) {
        if self.game.take_taps_dirty()
            && let Some(store) = &self.store
            && let Err(e) = store.save(self.game.taps())
        {
            tracing::warn!(
                "could not save the tap counter to {}: {e}",
                store.path().display()
            );
        }
        if self.game.take_scroll_dirty()
            && let Some(store) = &self.store
            && let Err(e) = store.save_scroll(self.game.scrolled())
        {
            tracing::warn!(
                "could not save the scroll position to {}: {e}",
                store.scroll_path().display()
            );
        }
        if self.game.take_text_dirty()
            && let Some(store) = &self.store
            && let Err(e) = store.save_text(self.game.typed_text())
        {
            tracing::warn!(
                "could not save the text field to {}: {e}",
                store.text_path().display()
            );
        }
        for (name, contents) in self.game.take_readouts() {
            if let Some(store) = &self.store
                && let Err(e) = store.save_readout(name, &contents)
            {
                tracing::warn!("could not save the game's {name}: {e}");
            }
        }
    }
}

/// The video size of the current capture session, as (w << 32 | h); touches must match it.
#[derive(Default)]
struct VideoSize(AtomicU64);

impl VideoSize {
    fn set(&self, w: u32, h: u32) {
        self.0
            .store(((w as u64) << 32) | h as u64, Ordering::SeqCst);
    }
    fn get(&self) -> (u32, u32) {
        let v = self.0.load(Ordering::SeqCst);
        ((v >> 32) as u32, v as u32)
    }
}

/// Input that arrived since the encoder last looked: the encoder renders the frame that shows
/// it at once instead of at its next tick, as a real device's display produces a frame as soon
/// as the game redraws for the input.
#[derive(Default)]
struct InputWake {
    pending: std::sync::Mutex<bool>,
    arrived: std::sync::Condvar,
}

impl InputWake {
    fn notify(&self) {
        *self.pending.lock().unwrap() = true;
        self.arrived.notify_one();
    }

    /// Sleeps until `deadline` or until input arrives, whichever comes first; true when input
    /// woke it.
    fn wait_until(&self, deadline: Instant) -> bool {
        let mut pending = self.pending.lock().unwrap();
        loop {
            if std::mem::take(&mut *pending) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            pending = self
                .arrived
                .wait_timeout(pending, deadline - now)
                .unwrap()
                .0;
        }
    }
}

/// State shared by the video, audio and control halves of one server.
struct Shared {
    screen: SharedScreen,
    options: Options,
    video_size: VideoSize,
    reset_video: AtomicBool,
    /// The video bit rate: `video_bit_rate` until SET_VIDEO_BIT_RATE changes it (a restarted
    /// capture keeps the latest).
    video_bit_rate: AtomicU32,
    input: InputWake,
}

/// Runs one scrcpy server session until every socket is done. Errors opening the sockets are
/// returned; errors on an open socket end that socket only (and are logged).
pub async fn run<T: Tunnel>(
    options: Options,
    device_name: &str,
    screen: SharedScreen,
    mut tunnel: T,
) -> io::Result<()> {
    let first_needs_dummy = options.tunnel_forward && options.send_dummy_byte;
    let mut sockets: Vec<T::Stream> = Vec::new();
    let wanted = [options.video, options.audio, options.control]
        .iter()
        .filter(|b| **b)
        .count();
    for i in 0..wanted {
        let mut s = tunnel.open().await?;
        if i == 0 && first_needs_dummy {
            s.write_all(&[DUMMY_BYTE]).await?;
        }
        sockets.push(s);
    }
    if options.send_device_meta
        && let Some(first) = sockets.first_mut()
    {
        first.write_all(&stream::device_meta(device_name)).await?;
    }

    let (display_w, display_h) = {
        let s = screen.lock().unwrap();
        (s.game.config().width, s.game.config().height)
    };
    let (vw, vh) = video_size(
        display_w,
        display_h,
        options.max_size,
        options.min_size_alignment,
    );
    let shared = Arc::new(Shared {
        screen,
        options: options.clone(),
        video_size: VideoSize::default(),
        reset_video: AtomicBool::new(false),
        video_bit_rate: AtomicU32::new(options.video_bit_rate),
        input: InputWake::default(),
    });
    shared.video_size.set(vw, vh);

    let mut sockets = sockets.into_iter();
    let mut tasks = Vec::new();
    if options.video {
        let s = sockets.next().expect("video socket");
        tasks.push(tokio::spawn(video_stream(shared.clone(), s)));
    }
    if options.audio {
        let s = sockets.next().expect("audio socket");
        tasks.push(tokio::spawn(audio_stream(shared.clone(), s)));
    }
    if options.control {
        let s = sockets.next().expect("control socket");
        tasks.push(tokio::spawn(control(shared.clone(), s)));
    }
    for t in tasks {
        if let Err(e) = t.await {
            tracing::error!("scrcpy server task failed: {e}");
        }
    }
    Ok(())
}

/// What the encoder thread hands to the socket writer.
enum VideoOut {
    Session(u32, u32),
    Packet {
        pts: u64,
        config: bool,
        key: bool,
        data: Vec<u8>,
        /// More packets of this frame follow (`playrack_slices`).
        more: bool,
    },
}

/// A capture session's encoder: openh264's whole frames, or (`playrack_slices`, in a build
/// with x264) x264's slices, each handed on as soon as it is encoded.
enum SessionEncoder {
    Whole(Box<VideoEncoder>),
    #[cfg(feature = "x264")]
    Sliced(crate::encode::sliced::SlicedEncoder),
}

impl SessionEncoder {
    fn new(config: VideoConfig, slices: u8) -> Result<SessionEncoder, String> {
        #[cfg(feature = "x264")]
        if slices > 0 {
            return crate::encode::sliced::SlicedEncoder::new(
                config.width,
                config.height,
                config.fps.round().max(1.0) as u32,
                config.bit_rate.max(MIN_BIT_RATE),
                slices.into(),
                crate::encode::sliced::Refresh::DEVICE,
            )
            .map(SessionEncoder::Sliced)
            .map_err(|e| e.to_string());
        }
        #[cfg(not(feature = "x264"))]
        if slices > 0 {
            tracing::debug!("playrack_slices: this build encodes whole frames (no x264)");
        }
        VideoEncoder::new(config)
            .map(|e| SessionEncoder::Whole(Box::new(e)))
            .map_err(|e| e.to_string())
    }

    fn bit_rate(&self) -> u32 {
        match self {
            SessionEncoder::Whole(e) => e.config().bit_rate,
            #[cfg(feature = "x264")]
            SessionEncoder::Sliced(e) => e.bit_rate(),
        }
    }

    fn set_bit_rate(&mut self, bit_rate: u32) -> Result<(), String> {
        match self {
            SessionEncoder::Whole(e) => e.set_bit_rate(bit_rate).map_err(|e| e.to_string()),
            #[cfg(feature = "x264")]
            SessionEncoder::Sliced(e) => e
                .set_bit_rate(bit_rate.max(MIN_BIT_RATE))
                .map_err(|e| e.to_string()),
        }
    }

    /// Encodes one frame, handing each packet to `send` as soon as it exists; `Ok(false)` once
    /// `send` says the writer is gone. A sliced frame's SPS/PPS go first as one config packet
    /// (as MediaCodec's codec-config buffer), an SEI rides with the slice after it, and each
    /// slice is its own packet, flagged while more follow; `slice_delay` is added after each
    /// slice but the last.
    fn encode(
        &mut self,
        frame: &I420,
        pts: u64,
        #[cfg_attr(not(feature = "x264"), allow(unused_variables))] slice_delay: Duration,
        send: &mut dyn FnMut(VideoOut) -> bool,
    ) -> Result<bool, String> {
        match self {
            SessionEncoder::Whole(e) => {
                for p in e.encode(frame, pts).map_err(|e| e.to_string())? {
                    let item = VideoOut::Packet {
                        pts,
                        config: p.config,
                        key: p.key,
                        data: p.data,
                        more: false,
                    };
                    if !send(item) {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            #[cfg(feature = "x264")]
            SessionEncoder::Sliced(e) => {
                let mut alive = true;
                let mut config = Vec::new();
                let mut prefix = Vec::new();
                e.encode(frame, pts, &mut |nal| {
                    if !alive {
                        return;
                    }
                    match nal.kind {
                        7 | 8 => config.extend_from_slice(&nal.data),
                        1 | 5 => {
                            if !config.is_empty() {
                                let data = std::mem::take(&mut config);
                                alive = send(VideoOut::Packet {
                                    pts: 0,
                                    config: true,
                                    key: false,
                                    data,
                                    more: false,
                                });
                            }
                            let mut data = std::mem::take(&mut prefix);
                            data.extend_from_slice(&nal.data);
                            alive = alive
                                && send(VideoOut::Packet {
                                    pts,
                                    config: false,
                                    key: nal.kind == 5,
                                    data,
                                    more: !nal.ends_frame,
                                });
                            if alive && !nal.ends_frame && !slice_delay.is_zero() {
                                std::thread::sleep(slice_delay);
                            }
                        }
                        _ => prefix.extend_from_slice(&nal.data),
                    }
                })
                .map_err(|e| e.to_string())?;
                Ok(alive)
            }
        }
    }
}

/// The frame interval: the display's rate, capped by `max_fps`.
fn frame_interval(display_fps: u32, max_fps: f32) -> (f32, Duration) {
    let mut fps = display_fps.max(1) as f32;
    if max_fps > 0.0 {
        fps = fps.min(max_fps);
    }
    (fps, Duration::from_secs_f64(1.0 / fps as f64))
}

async fn video_stream<S: AsyncWrite + Unpin + Send>(shared: Arc<Shared>, mut sock: S) {
    let w = StreamWriter::from_options(&shared.options);
    let mut out = Vec::new();
    if shared.options.video_codec != VideoCodec::H264 {
        tracing::error!(
            "video codec {} not available on this device",
            shared.options.video_codec.name()
        );
        w.codec_id(&mut out, CODEC_ID_ERROR);
        let _ = sock.write_all(&out).await;
        return;
    }
    w.codec_id(&mut out, VideoCodec::H264.id());
    if sock.write_all(&out).await.is_err() {
        return;
    }
    let (tx, mut rx) = mpsc::channel::<VideoOut>(4);
    let enc_shared = shared.clone();
    let thread = std::thread::Builder::new()
        .name("scrcpy-video".into())
        .spawn(move || encode_loop(enc_shared, tx));
    if let Err(e) = thread {
        tracing::error!("could not start the video encoder thread: {e}");
        return;
    }
    while let Some(item) = rx.recv().await {
        out.clear();
        match item {
            VideoOut::Session(width, height) => w.session(&mut out, width, height, false),
            VideoOut::Packet {
                pts,
                config,
                key,
                data,
                more,
            } => {
                if more {
                    w.partial(&mut out, pts, key, &data)
                } else {
                    w.packet(&mut out, pts, config, key, &data)
                }
            }
        }
        if let Err(e) = sock.write_all(&out).await {
            tracing::debug!("video socket closed: {e}");
            break;
        }
    }
    // dropping `rx` stops the encoder thread at its next send
}

/// Renders and encodes frames at the cap until the writer goes away. Input wakes it early: the
/// frame showing the input is rendered at once, at least half a frame interval after the last
/// one (so a stream of input runs at most twice the cap), and the ticks restart from it.
fn encode_loop(shared: Arc<Shared>, tx: mpsc::Sender<VideoOut>) {
    let o = &shared.options;
    let display_fps = shared.screen.lock().unwrap().game.config().fps;
    let (fps, interval) = frame_interval(display_fps, o.max_fps);
    let display_size = |s: &DeviceScreen| (s.game.config().width, s.game.config().height);
    'session: loop {
        shared.reset_video.store(false, Ordering::SeqCst);
        // A capture session at the display's current size: scrcpy's server restarts the
        // capture when the display's size changes (a new session packet, configuration and
        // key frame follow), as it does on RESET_VIDEO.
        let display = display_size(&shared.screen.lock().unwrap());
        let (vw, vh) = video_size(display.0, display.1, o.max_size, o.min_size_alignment);
        let mut frame = I420::new(vw as usize, vh as usize);
        let config = VideoConfig {
            width: vw,
            height: vh,
            bit_rate: shared.video_bit_rate.load(Ordering::SeqCst),
            fps,
        };
        let mut encoder = match SessionEncoder::new(config, o.playrack_slices) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!("video encoder: {e}");
                return;
            }
        };
        shared.video_size.set(vw, vh);
        if tx.blocking_send(VideoOut::Session(vw, vh)).is_err() {
            return;
        }
        let mut next = Instant::now();
        let mut last = next.checked_sub(interval).unwrap_or(next);
        loop {
            if shared.reset_video.load(Ordering::SeqCst) {
                tracing::info!("RESET_VIDEO: restarting the capture session");
                continue 'session;
            }
            let now = Instant::now();
            if next > now && shared.input.wait_until(next) {
                let earliest = last + interval / 2;
                let now = Instant::now();
                if earliest > now {
                    std::thread::sleep(earliest - now);
                }
                next = Instant::now();
            }
            next += interval;
            // never try to catch up more than one frame late
            let now = Instant::now();
            if next + interval < now {
                next = now;
            }
            let (pts, slice_delay) = {
                let mut s = shared.screen.lock().unwrap();
                if s.video_stalled {
                    continue;
                }
                if display_size(&s) != display {
                    tracing::info!("display size changed: restarting the capture session");
                    continue 'session;
                }
                let t = s.now_us();
                s.game.render(&mut frame, t);
                (t, s.slice_delay)
            };
            last = Instant::now();
            let bit_rate = shared.video_bit_rate.load(Ordering::SeqCst);
            if bit_rate != encoder.bit_rate()
                && let Err(e) = encoder.set_bit_rate(bit_rate)
            {
                tracing::warn!("video bit rate {bit_rate}: {e}");
            }
            let mut send = |item| tx.blocking_send(item).is_ok();
            match encoder.encode(&frame, pts, slice_delay, &mut send) {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    tracing::error!("video encode: {e}");
                    return;
                }
            }
        }
    }
}

async fn audio_stream<S: AsyncWrite + Unpin + Send>(shared: Arc<Shared>, mut sock: S) {
    let w = StreamWriter::from_options(&shared.options);
    let mut out = Vec::new();
    let codec = shared.options.audio_codec;
    let mut encoder = match codec {
        AudioCodec::Opus => match AudioEncoder::new(shared.options.audio_bit_rate) {
            Ok(e) => Some(e),
            Err(e) => {
                tracing::error!("audio encoder: {e}");
                w.codec_id(&mut out, CODEC_ID_ERROR);
                let _ = sock.write_all(&out).await;
                return;
            }
        },
        AudioCodec::Raw => None,
        other => {
            tracing::error!("audio codec {} not available on this device", other.name());
            w.codec_id(&mut out, CODEC_ID_ERROR);
            let _ = sock.write_all(&out).await;
            return;
        }
    };
    w.codec_id(&mut out, codec.id());
    if let Some(e) = &encoder {
        w.packet(&mut out, 0, true, false, &e.opus_head());
    }
    if sock.write_all(&out).await.is_err() {
        return;
    }
    let (mut synth, mut seen_taps) = {
        let s = shared.screen.lock().unwrap();
        (
            AudioSynth::for_package(&s.game.config().package),
            s.game.taps(),
        )
    };
    let mut pcm = vec![0i16; FRAME_SAMPLES * CHANNELS];
    let mut ticker = tokio::time::interval(Duration::from_micros(FRAME_US));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut pts = shared.screen.lock().unwrap().now_us();
    loop {
        ticker.tick().await;
        let taps = shared.screen.lock().unwrap().game.taps();
        if taps > seen_taps {
            synth.click((taps - seen_taps).min(u32::MAX as u64) as u32);
        }
        seen_taps = taps;
        synth.render(&mut pcm);
        let data = match &mut encoder {
            Some(e) => match e.encode(&pcm) {
                Ok(d) => d,
                Err(err) => {
                    tracing::error!("audio encode: {err}");
                    return;
                }
            },
            // raw: 16-bit little-endian PCM, what scrcpy's `raw` codec carries
            None => pcm.iter().flat_map(|s| s.to_le_bytes()).collect(),
        };
        out.clear();
        w.packet(&mut out, pts, false, false, &data);
        pts += FRAME_US;
        if let Err(e) = sock.write_all(&out).await {
            tracing::debug!("audio socket closed: {e}");
            return;
        }
    }
}

async fn control<S: AsyncRead + AsyncWrite + Unpin + Send>(shared: Arc<Shared>, sock: S) {
    let mut uhid = UhidDevices::default();
    control_loop(&shared, sock, &mut uhid).await;
    // The server's uhid fds close with it: the devices its client plugged in go.
    let mut screen = shared.screen.lock().unwrap();
    uhid.unplug_all(&mut screen.game);
    screen.persist();
}

async fn control_loop<S: AsyncRead + AsyncWrite + Unpin + Send>(
    shared: &Shared,
    sock: S,
    uhid: &mut UhidDevices,
) {
    let (mut rd, mut wr) = tokio::io::split(sock);
    let mut reader = ControlMsgReader::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match rd.read(&mut buf).await {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) => {
                tracing::debug!("control socket: {e}");
                return;
            }
        };
        reader.push(&buf[..n]);
        loop {
            match reader.next_msg() {
                Ok(Some(msg)) => {
                    let input = is_input(&msg);
                    let reply = handle_control(shared, uhid, msg);
                    if input {
                        shared.input.notify();
                    }
                    if let Some(reply) = reply
                        && let Err(e) = wr.write_all(&reply.to_bytes()).await
                    {
                        tracing::debug!("control socket: {e}");
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    // scrcpy's controller stops on a ControlProtocolException; the socket closes,
                    // the streams go on.
                    tracing::warn!("control protocol error, closing the control socket: {e}");
                    let _ = wr.shutdown().await;
                    return;
                }
            }
        }
    }
}

/// Maps a position computed against the current video size to display coordinates, or `None`
/// when the sizes differ (scrcpy's `PositionMapper.map`).
fn map_position(shared: &Shared, p: &Position, display: (u32, u32)) -> Option<(i32, i32)> {
    let (vw, vh) = shared.video_size.get();
    if p.width as u32 != vw || p.height as u32 != vh {
        tracing::debug!(
            "ignoring event for {}x{}: the video is {vw}x{vh}",
            p.width,
            p.height
        );
        return None;
    }
    let x = (p.x as i64 * display.0 as i64 / vw.max(1) as i64) as i32;
    let y = (p.y as i64 * display.1 as i64 / vh.max(1) as i64) as i32;
    Some((x, y))
}

/// Whether the message is input to the game (what a hung game stops taking).
fn is_input(msg: &ControlMsg) -> bool {
    matches!(
        msg,
        ControlMsg::InjectKeycode { .. }
            | ControlMsg::InjectText { .. }
            | ControlMsg::InjectTouchEvent { .. }
            | ControlMsg::InjectScrollEvent { .. }
            | ControlMsg::BackOrScreenOn { .. }
            | ControlMsg::UhidInput { .. }
    )
}

/// Acts on one control message; returns the device message to send back, if any.
fn handle_control(shared: &Shared, uhid: &mut UhidDevices, msg: ControlMsg) -> Option<DeviceMsg> {
    let mut screen = shared.screen.lock().unwrap();
    let now = screen.now_us();
    let display = (screen.game.config().width, screen.game.config().height);
    if is_input(&msg) && !screen.dispatch_input() {
        return None;
    }
    match msg {
        ControlMsg::InjectKeycode {
            action, keycode, ..
        } => {
            screen.game.key(action, keycode, now);
            screen.persist();
            // COPY in the game's focused field puts its text on the clipboard; with clipboard
            // sync on (scrcpy's default), the server tells the client of every change the
            // device makes (the same text again included, as Android notifies each set).
            if keycode == AKEYCODE_COPY && action == AKEY_EVENT_ACTION_DOWN {
                let text = screen.game.typed_text().to_owned();
                if !text.is_empty() {
                    screen.clipboard = text.clone();
                    if shared.options.clipboard_autosync {
                        return Some(DeviceMsg::Clipboard { text });
                    }
                }
            }
        }
        ControlMsg::InjectText { text } => {
            screen.game.text(&text, now);
            screen.persist();
        }
        ControlMsg::InjectTouchEvent {
            action,
            pointer_id,
            position,
            ..
        } => {
            if let Some((x, y)) = map_position(shared, &position, display) {
                screen.game.touch(action, pointer_id, x, y, now);
                screen.persist();
            }
        }
        ControlMsg::InjectScrollEvent {
            position,
            hscroll,
            vscroll,
            ..
        } => {
            if map_position(shared, &position, display).is_some() {
                screen.game.scroll(hscroll, vscroll);
                screen.persist();
            }
        }
        ControlMsg::BackOrScreenOn { action } => screen.game.back_or_screen_on(action, now),
        ControlMsg::GetClipboard { .. } => {
            return Some(DeviceMsg::Clipboard {
                text: screen.clipboard.clone(),
            });
        }
        ControlMsg::SetClipboard {
            sequence,
            paste,
            text,
        } => {
            if paste {
                screen.game.text(&text, now);
                screen.persist();
            }
            screen.clipboard = text;
            if sequence != 0 {
                return Some(DeviceMsg::AckClipboard { sequence });
            }
        }
        ControlMsg::ResetVideo => shared.reset_video.store(true, Ordering::SeqCst),
        ControlMsg::SetVideoBitRate { bit_rate } => {
            tracing::info!("SET_VIDEO_BIT_RATE {bit_rate}");
            shared
                .video_bit_rate
                .store(bit_rate.max(MIN_BIT_RATE), Ordering::SeqCst);
        }
        // Playrack's custom channel: the game answers its page with what it got.
        ControlMsg::Custom { data } => return Some(DeviceMsg::Custom { data }),
        ControlMsg::UhidCreate {
            id,
            name,
            report_desc,
            ..
        } => {
            uhid.create(&mut screen.game, id, &name, &report_desc);
            screen.persist();
        }
        ControlMsg::UhidInput { id, data } => {
            uhid.input(&mut screen.game, id, &data);
            screen.persist();
        }
        ControlMsg::UhidDestroy { id } => {
            uhid.destroy(&mut screen.game, id);
            screen.persist();
        }
        // The player's phone, as a virtual sensor and a mock location provider report it; a
        // reading that is not a number reaches no listener.
        ControlMsg::Sensor { kind, values } if values.iter().all(|v| v.is_finite()) => {
            screen.game.sensor(kind, values);
            screen.persist();
        }
        ControlMsg::Location {
            latitude,
            longitude,
            accuracy,
        } if latitude.is_finite() && longitude.is_finite() && accuracy.is_finite() => {
            screen.game.location(latitude, longitude, accuracy);
            screen.persist();
        }
        other => tracing::debug!("control message {} has no effect here", other.msg_type()),
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_rate_cap() {
        assert_eq!(frame_interval(60, 0.0).0, 60.0);
        assert_eq!(frame_interval(60, 30.0).0, 30.0);
        assert_eq!(frame_interval(30, 60.0).0, 30.0);
    }
}
