//! The WebRTC relay: the injector's H.264 and Opus to players' browsers, their input back.
//!
//! One UDP socket carries every session on the board. [`engine::Engine`] (sans-IO, str0m
//! inside) holds every peer; this module is its async shell — one task owning the engine and
//! the socket, fed by commands (sessions attached, peers offered) and media packets, and driven
//! by the engine's deadlines. Per play, [`Relay::attach`] starts two media pumps (video and
//! audio sockets → engine; their queue is bounded, so a relay that falls behind slows the
//! instance's sockets rather than growing) and a control writer (engine → control socket), and
//! hands back the play's [`FrameCount`]. Commands wait on a bounded queue too (their senders
//! wait for room), and session reports are kept as the latest one per session ([`Reports`]):
//! nothing the relay holds grows with how fast players or instances send.
//!
//! - [`input`]: wire input messages → scrcpy control messages.
//! - [`hid`]: the gamepads and mouse a player plugs into the instance (UHID devices).
//! - [`engine`]: peers, media fan-out, key-frame throttle, stats.
//! - [`batch`]: the engine's datagrams, sent a run at a time (`sendmmsg`).

pub mod batch;
pub mod bitrate;
pub mod engine;
pub mod hid;
pub mod input;

/// What the relay does for a session beyond relaying it.
#[derive(Debug, Clone, Copy, Default)]
pub struct StreamOptions {
    /// Let the video's bit rate follow the player's link (the injector must take
    /// SET_VIDEO_BIT_RATE).
    pub bitrate: Option<Bitrate>,
    /// The play's idle kick: the player is warned shortly before it.
    pub idle_kick: Option<std::time::Duration>,
    /// The injector takes Playrack's CUSTOM messages (the page ↔ game channel).
    pub custom: bool,
}

/// How a session's video bit rate may move: inside `window`, from `start_bps` (what the
/// injector was started with).
#[derive(Debug, Clone, Copy)]
pub struct Bitrate {
    pub window: bitrate::Window,
    pub start_bps: u32,
}

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use playrack_scrcpy::StreamEvent;
use playrack_scrcpy::client::MediaReader;
use playrack_scrcpy::control_msg::ControlMsg;
use playrack_wire::agent::LatencySamples;
use playrack_wire::session_token::WatchClaim;
use playrack_wire::signaling::{AgentSignal, PeerRole, StreamStats};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::{mpsc, oneshot};

use crate::recording::{Recorder, Summary};

pub use engine::{BoardNotice, Counters, PeerId, PeerRefused, VideoEvent};
use engine::{Engine, Output};

/// Control messages waiting for a session's device, at most (about a second of a flood at the
/// engine's input rate; a device keeping up never has more than a few).
const CONTROL_QUEUE: usize = 512;
/// Largest device clipboard passed on to players, in bytes (a game's copied text, not a file;
/// well inside the SDK's limit on one signaling message).
const MAX_DEVICE_CLIPBOARD_BYTES: usize = 16 * 1024;
/// Signals waiting for a peer's signaling socket, at most.
pub const SIGNAL_QUEUE: usize = 64;

/// A session's player state for the controller (connection and last input).
#[derive(Debug, Clone)]
pub struct Report {
    pub session: String,
    pub connected: bool,
    /// A player has connected at least once.
    pub played: bool,
    pub last_input: Option<Instant>,
    pub stats: Option<StreamStats>,
    /// Latencies the player reported since the previous report (ms).
    pub latency_ms: LatencySamples,
}

enum Cmd {
    Attach {
        session: String,
        width: u16,
        height: u16,
        control: Option<mpsc::Sender<ControlMsg>>,
        options: StreamOptions,
    },
    Detach {
        session: String,
        reason: String,
    },
    Notice(Option<BoardNotice>),
    AddPeer {
        session: String,
        role: PeerRole,
        watch: Option<WatchClaim>,
        offer: String,
        signals: mpsc::Sender<AgentSignal>,
        reply: oneshot::Sender<Result<(PeerId, String), PeerRefused>>,
    },
    RemovePeer(PeerId),
    /// A recording of the session starts: it needs a key frame.
    KeyFrame(String),
    /// The session's device said something for its players (the game copied text, or
    /// answered on the custom channel).
    ToPlayers {
        session: String,
        signal: AgentSignal,
    },
}

/// What the instances' media sockets bring, on their own bounded queue: when the relay falls
/// behind, the pumps stop reading and TCP holds the rest back on the instance, instead of the
/// agent's memory growing.
enum Media {
    Video(String, VideoEvent),
    Audio(String, u64, Vec<u8>),
}

/// Media events queued for the relay at most (all sessions together: seconds of frames).
const MEDIA_QUEUE: usize = 512;

/// Commands queued for the relay at most (attaches, detaches, peers coming and going).
const CMD_QUEUE: usize = 256;

/// The latest report of each session, waiting for the agent to pass it on: one entry per
/// session however often the relay reports, so a slow way to the controller holds no queue
/// (a newer report says all an older one said). Cheap to clone.
#[derive(Clone, Default)]
pub struct Reports(Arc<(Mutex<HashMap<String, Report>>, tokio::sync::Notify)>);

impl Reports {
    /// Keeps `report` in place of the session's previous one (whose latency samples, not yet
    /// passed on, it carries on, as many as [`LatencySamples`] keeps).
    pub fn put(&self, mut report: Report) {
        let mut reports = self.0.0.lock().unwrap();
        if let Some(old) = reports.remove(&report.session)
            && !old.latency_ms.is_empty()
        {
            let mut samples = old.latency_ms;
            samples.append(report.latency_ms.take());
            report.latency_ms = samples;
        }
        reports.insert(report.session.clone(), report);
        drop(reports);
        self.0.1.notify_one();
    }

    /// Waits for reports and takes all of them.
    pub async fn take(&self) -> Vec<Report> {
        loop {
            let batch: Vec<Report> = self.0.0.lock().unwrap().drain().map(|(_, r)| r).collect();
            if !batch.is_empty() {
                return batch;
            }
            self.0.1.notified().await;
        }
    }
}

/// What `/metrics` shows.
#[derive(Debug, Default, Clone, Copy)]
pub struct Snapshot {
    pub sessions: usize,
    pub peers: usize,
    pub counters: Counters,
}

/// The video frames a session's instance has sent so far, counted as the relay reads them (the
/// watchdog notices a frozen picture by it). Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct FrameCount(Arc<std::sync::atomic::AtomicU64>);

impl FrameCount {
    pub fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn add(&self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A running relay (see the module doc). Cheap to clone.
#[derive(Clone)]
pub struct Relay {
    cmd: mpsc::Sender<Cmd>,
    media: mpsc::Sender<Media>,
    local: SocketAddr,
    snapshot: Arc<Mutex<Snapshot>>,
    /// The attached sessions (kept here too, so signaling can check without a round trip).
    sessions: Arc<Mutex<std::collections::HashSet<String>>>,
    /// Recordings of the attached sessions, fed by their video pumps.
    tapes: Tapes,
    task: Arc<tokio::task::JoinHandle<()>>,
}

impl Relay {
    /// Binds the UDP socket at `bind` and starts the relay; peers are told to send to
    /// `public_ip` (or the bound address) at the bound port. Session reports go to `reports`.
    pub async fn start(
        bind: SocketAddr,
        public_ip: Option<std::net::IpAddr>,
        reports: Reports,
    ) -> std::io::Result<Relay> {
        let socket = UdpSocket::bind(bind).await?;
        let local = socket.local_addr()?;
        let host = SocketAddr::new(
            public_ip.unwrap_or(if local.ip().is_unspecified() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                local.ip()
            }),
            local.port(),
        );
        let (tx, rx) = mpsc::channel(CMD_QUEUE);
        let (media_tx, media_rx) = mpsc::channel(MEDIA_QUEUE);
        let snapshot = Arc::new(Mutex::new(Snapshot::default()));
        let task = tokio::spawn(run(socket, host, rx, media_rx, reports, snapshot.clone()));
        tracing::info!(%local, %host, "WebRTC relay listening");
        Ok(Relay {
            cmd: tx,
            media: media_tx,
            local,
            snapshot,
            sessions: Arc::default(),
            tapes: Tapes::default(),
            task: Arc::new(task),
        })
    }

    /// The bound UDP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub fn snapshot(&self) -> Snapshot {
        *self.snapshot.lock().unwrap()
    }

    /// Streams a prepared play: pumps its video and audio sockets into the relay and writes
    /// control messages to its control socket. The pumps end when the sockets close.
    #[allow(clippy::too_many_arguments)]
    pub async fn attach(
        &self,
        session: &str,
        width: u32,
        height: u32,
        video: MediaReader<TcpStream>,
        audio: Option<MediaReader<TcpStream>>,
        control: Option<TcpStream>,
        options: StreamOptions,
    ) -> FrameCount {
        let control_tx = control.map(|sock| {
            let (tx, rx) = mpsc::channel(CONTROL_QUEUE);
            tokio::spawn(control_socket(
                session.to_owned(),
                sock,
                rx,
                self.cmd.clone(),
            ));
            tx
        });
        self.sessions.lock().unwrap().insert(session.to_owned());
        self.tapes.0.lock().unwrap().insert(
            session.to_owned(),
            Tape {
                config: None,
                width: clamp_u16(width),
                height: clamp_u16(height),
                active: Vec::new(),
            },
        );
        let _ = self
            .cmd
            .send(Cmd::Attach {
                session: session.to_owned(),
                width: clamp_u16(width),
                height: clamp_u16(height),
                options: StreamOptions {
                    bitrate: options.bitrate.filter(|_| control_tx.is_some()),
                    ..options
                },
                control: control_tx,
            })
            .await;
        let frames = FrameCount::default();
        tokio::spawn(pump_video(
            session.to_owned(),
            video,
            self.media.clone(),
            frames.clone(),
            self.tapes.clone(),
        ));
        if let Some(audio) = audio {
            tokio::spawn(pump_audio(session.to_owned(), audio, self.media.clone()));
        }
        frames
    }

    /// Starts recording `session`'s video into `path` as recording `id` (from its next key
    /// frame, which is asked for now).
    pub async fn start_recording(
        &self,
        session: &str,
        id: &str,
        path: &std::path::Path,
    ) -> anyhow::Result<()> {
        {
            let mut tapes = self.tapes.0.lock().unwrap();
            let Some(tape) = tapes.get_mut(session) else {
                anyhow::bail!("session {session} is not streaming here");
            };
            if tape.active.iter().any(|a| a.id == id) {
                return Ok(()); // a repeated command
            }
            let file = std::io::BufWriter::new(std::fs::File::create(path)?);
            let mut recorder = Recorder::new(file, tape.width, tape.height);
            if let Some(c) = &tape.config {
                recorder.config(c);
            }
            tape.active.push(Active {
                id: id.to_owned(),
                path: path.to_owned(),
                recorder,
                written: 0,
            });
        }
        let _ = self.cmd.send(Cmd::KeyFrame(session.to_owned())).await;
        Ok(())
    }

    /// Stops recording `id`; answers its file and what it holds (`None` if no such
    /// recording runs here).
    pub fn stop_recording(&self, id: &str) -> Option<Taped> {
        let mut tapes = self.tapes.0.lock().unwrap();
        for tape in tapes.values_mut() {
            if let Some(i) = tape.active.iter().position(|a| a.id == id) {
                return Some(tape.active.swap_remove(i).finish());
            }
        }
        None
    }

    /// Stops every recording of `session` (its play ends) and forgets the session.
    pub fn stop_recordings(&self, session: &str) -> Vec<Taped> {
        let tape = self.tapes.0.lock().unwrap().remove(session);
        tape.map(|t| t.active.into_iter().map(Active::finish).collect())
            .unwrap_or_default()
    }

    /// The play ended: its peers get `ended {reason}`.
    pub async fn detach(&self, session: &str, reason: &str) {
        self.sessions.lock().unwrap().remove(session);
        let _ = self
            .cmd
            .send(Cmd::Detach {
                session: session.to_owned(),
                reason: reason.to_owned(),
            })
            .await;
    }

    /// Tells every player on the board `message` (a `MAINTENANCE` notice), now and when they
    /// connect; `None` withdraws it.
    pub async fn notice(&self, message: Option<BoardNotice>) {
        let _ = self.cmd.send(Cmd::Notice(message)).await;
    }

    /// Answers a peer's offer; the peer's later signals (stats, ended, errors) arrive on
    /// `signals`, which closes when the peer is gone.
    pub async fn add_peer(
        &self,
        session: &str,
        role: PeerRole,
        watch: Option<WatchClaim>,
        offer: String,
        signals: mpsc::Sender<AgentSignal>,
    ) -> Result<(PeerId, String), PeerRefused> {
        let (reply, rx) = oneshot::channel();
        let gone = || PeerRefused {
            code: "UNAVAILABLE",
            message: "the relay is shutting down".into(),
        };
        self.cmd
            .send(Cmd::AddPeer {
                session: session.to_owned(),
                role,
                watch,
                offer,
                signals,
                reply,
            })
            .await
            .map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// Whether `session` is attached (streaming on this board).
    pub fn has_session(&self, session: &str) -> bool {
        self.sessions.lock().unwrap().contains(session)
    }

    pub async fn remove_peer(&self, peer: PeerId) {
        let _ = self.cmd.send(Cmd::RemovePeer(peer)).await;
    }

    /// Stops the relay task.
    pub fn shutdown(&self) {
        self.task.abort();
    }
}

fn clamp_u16(v: u32) -> u16 {
    v.min(u32::from(u16::MAX)) as u16
}

/// The relay task: the engine, the socket, and the routes to sessions and peers.
async fn run(
    socket: UdpSocket,
    host: SocketAddr,
    mut cmds: mpsc::Receiver<Cmd>,
    mut media: mpsc::Receiver<Media>,
    reports: Reports,
    snapshot: Arc<Mutex<Snapshot>>,
) {
    let mut engine = Engine::new(host, Instant::now());
    let mut controls: HashMap<String, mpsc::Sender<ControlMsg>> = HashMap::new();
    let mut signals: HashMap<PeerId, mpsc::Sender<AgentSignal>> = HashMap::new();
    let mut buf = vec![0u8; 2048];
    let mut datagrams = batch::Batch::new();
    let mut deadline = Instant::now();
    loop {
        tokio::select! {
            // Commands before media: a session's attach is always in before its first frame.
            biased;
            cmd = cmds.recv() => {
                let Some(cmd) = cmd else { break };
                let now = Instant::now();
                match cmd {
                    Cmd::Attach { session, width, height, control, options } => {
                        engine.add_session(&session, width, height, now);
                        if let Some(b) = options.bitrate {
                            engine.adapt_bitrate(&session, b.window, b.start_bps);
                        }
                        if let Some(idle) = options.idle_kick {
                            engine.warn_before_idle_kick(&session, idle);
                        }
                        if options.custom {
                            engine.allow_custom(&session);
                        }
                        if let Some(c) = control {
                            controls.insert(session, c);
                        }
                    }
                    Cmd::Notice(message) => engine.set_notice(message),
                    Cmd::ToPlayers { session, signal } => engine.tell_players(&session, signal),
                    Cmd::Detach { session, reason } => {
                        engine.remove_session(&session, &reason);
                        controls.remove(&session);
                    }
                    Cmd::AddPeer { session, role, watch, offer, signals: tx, reply } => {
                        let r = engine.add_watcher(&session, role, watch.as_ref(), &offer, now);
                        if let Ok((id, _)) = &r {
                            signals.insert(*id, tx);
                        }
                        let _ = reply.send(r);
                    }
                    Cmd::RemovePeer(id) => engine.remove_peer(id),
                    Cmd::KeyFrame(session) => engine.request_keyframe(&session, now),
                }
            }
            r = socket.recv_from(&mut buf) => match r {
                Ok((n, source)) => {
                    engine.receive(Instant::now(), source, &buf[..n]);
                }
                // ICMP port unreachable from a gone peer, and the like.
                Err(e) => tracing::debug!("relay socket: {e}"),
            },
            Some(m) = media.recv() => {
                let now = Instant::now();
                match m {
                    Media::Video(session, event) => engine.video(now, &session, event),
                    Media::Audio(session, pts, data) => engine.audio(now, &session, pts, data),
                }
            }
            _ = tokio::time::sleep_until(deadline.into()) => {}
        }
        let now = Instant::now();
        if now >= engine.next_deadline() {
            engine.timeout(now);
        }
        // never spin on a deadline that has already passed
        deadline = engine.next_deadline().max(now + Duration::from_micros(500));
        while let Some(out) = engine.poll() {
            match out {
                Output::Transmit {
                    destination,
                    contents,
                } => {
                    datagrams.push(destination, contents);
                    if datagrams.is_full() {
                        send(&socket, &mut datagrams).await;
                    }
                }
                Output::Control { session, message } => {
                    // A device that reads its control socket slower than input arrives loses
                    // the excess here rather than the agent growing a queue for it.
                    if let Some(c) = controls.get(&session)
                        && let Err(mpsc::error::TrySendError::Full(_)) = c.try_send(message)
                    {
                        tracing::debug!(%session, "control queue full: input dropped");
                    }
                }
                Output::Signal { peer, signal } => {
                    // Likewise a signaling socket that does not drain loses signals (stats
                    // and errors are sent again; `ended` closes the peer anyway).
                    if let Some(s) = signals.get(&peer) {
                        let _ = s.try_send(signal);
                    }
                }
                Output::PeerGone { peer } => {
                    signals.remove(&peer);
                }
                Output::Report {
                    session,
                    connected,
                    played,
                    last_input,
                    stats,
                    latency_ms,
                } => {
                    reports.put(Report {
                        session,
                        connected,
                        played,
                        last_input,
                        stats,
                        latency_ms,
                    });
                }
            }
        }
        send(&socket, &mut datagrams).await;
        *snapshot.lock().unwrap() = Snapshot {
            sessions: engine.session_count(),
            peers: engine.peer_count(),
            counters: engine.counters(),
        };
    }
}

/// Sends the batch, waiting for room in the socket's buffer when it is full; a datagram the
/// socket refuses (a gone peer's unreachable address) is dropped.
async fn send(socket: &UdpSocket, out: &mut batch::Batch) {
    use std::os::fd::AsRawFd;
    while !out.is_empty() {
        match socket.try_io(tokio::io::Interest::WRITABLE, || {
            out.send(socket.as_raw_fd())
        }) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if let Err(e) = socket.writable().await {
                    tracing::debug!("relay socket: {e}");
                    return;
                }
            }
            Err(e) => {
                tracing::debug!(destination = ?out.next_destination(), "relay send: {e}");
                out.drop_next();
            }
        }
    }
}

/// A recording's end: its id, file and what the file holds (or why it could not be
/// finished).
pub struct Taped {
    pub id: String,
    pub path: std::path::PathBuf,
    pub result: anyhow::Result<Summary>,
}

/// Bytes of video one recording takes at most on the board: past it, the recording keeps what
/// it has and ignores further frames until it is stopped (the MP4 writer also needs its
/// `mdat` under 4 GiB).
pub const RECORDING_MAX_BYTES: u64 = 1 << 30;

/// One recording being written.
struct Active {
    id: String,
    path: std::path::PathBuf,
    recorder: Recorder<std::io::BufWriter<std::fs::File>>,
    /// Video bytes fed so far.
    written: u64,
}

impl Active {
    fn finish(self) -> Taped {
        Taped {
            id: self.id,
            path: self.path,
            result: self.recorder.finish(),
        }
    }
}

/// A session's recordings, with what a recording joining later needs: the last codec
/// configuration and the video size.
struct Tape {
    config: Option<Vec<u8>>,
    width: u16,
    height: u16,
    active: Vec<Active>,
}

/// Every attached session's [`Tape`] (cheap to clone; the video pumps feed it).
#[derive(Clone, Default)]
struct Tapes(Arc<Mutex<HashMap<String, Tape>>>);

impl Tapes {
    fn config(&self, session: &str, c: &[u8]) {
        if let Some(t) = self.0.lock().unwrap().get_mut(session) {
            t.config = Some(c.to_vec());
            for a in &mut t.active {
                a.recorder.config(c);
            }
        }
    }

    /// Feeds a frame to the session's recordings; one that fails to write is dropped (its
    /// file removed), the others go on.
    fn frame(&self, session: &str, pts: u64, key: bool, data: &[u8]) {
        let mut tapes = self.0.lock().unwrap();
        let Some(t) = tapes.get_mut(session) else {
            return;
        };
        if t.active.is_empty() {
            return;
        }
        t.active.retain_mut(|a| {
            if a.written + data.len() as u64 > RECORDING_MAX_BYTES {
                return true; // full: kept as it is until stopped
            }
            a.written += data.len() as u64;
            match a.recorder.frame(pts, key, data) {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!(%session, recording = %a.id, "recording dropped: {e:#}");
                    let _ = std::fs::remove_file(&a.path);
                    false
                }
            }
        });
    }
}

async fn pump_video(
    session: String,
    mut video: MediaReader<TcpStream>,
    media: mpsc::Sender<Media>,
    frames: FrameCount,
    tapes: Tapes,
) {
    // A sliced frame's parts so far, joined for the recorder (which keeps whole frames);
    // a frame past the demuxer's packet bound is not recorded.
    let mut parts: Vec<u8> = Vec::new();
    let mut oversized = false;
    loop {
        let event = match video.next().await {
            Ok(Some(e)) => e,
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(%session, "video socket: {e}");
                break;
            }
        };
        let v = match event {
            StreamEvent::Session(s) => VideoEvent::Size {
                width: clamp_u16(s.width),
                height: clamp_u16(s.height),
            },
            StreamEvent::Config(c) => {
                tapes.config(&session, &c);
                VideoEvent::Config(c)
            }
            StreamEvent::FramePart { pts, key, data } => {
                if parts.len() + data.len() > playrack_scrcpy::stream::MAX_PACKET_SIZE {
                    parts.clear();
                    oversized = true;
                } else if !oversized {
                    parts.extend_from_slice(&data);
                }
                VideoEvent::Frame {
                    pts_us: pts,
                    key,
                    data,
                    last: false,
                }
            }
            StreamEvent::Frame { pts, key, data } => {
                frames.add();
                if std::mem::take(&mut oversized) {
                    tracing::warn!(%session, "a sliced frame over the packet bound: not recorded");
                } else if parts.is_empty() {
                    tapes.frame(&session, pts, key, &data);
                } else {
                    parts.extend_from_slice(&data);
                    tapes.frame(&session, pts, key, &parts);
                }
                parts.clear();
                VideoEvent::Frame {
                    pts_us: pts,
                    key,
                    data,
                    last: true,
                }
            }
            _ => continue,
        };
        if media.send(Media::Video(session.clone(), v)).await.is_err() {
            break;
        }
    }
    tracing::debug!(%session, "video pump ended");
}

async fn pump_audio(
    session: String,
    mut audio: MediaReader<TcpStream>,
    media: mpsc::Sender<Media>,
) {
    loop {
        match audio.next().await {
            Ok(Some(StreamEvent::Frame { pts, data, .. })) => {
                if media
                    .send(Media::Audio(session.clone(), pts, data))
                    .await
                    .is_err()
                {
                    break;
                }
            }
            // OpusHead config packets are not sent over RTP.
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(%session, "audio socket: {e}");
                break;
            }
        }
    }
}

/// Writes control messages to the injector; drains what the device sends back (clipboard).
/// Writes the session's control messages to its control socket, and reads the device's
/// messages from it: the clipboard the game copied goes to the engine (for the players); the
/// rest (acknowledgements, UHID output) is dropped. A malformed device message ends the
/// reading, not the session.
async fn control_socket(
    session: String,
    sock: TcpStream,
    mut rx: mpsc::Receiver<ControlMsg>,
    cmd: mpsc::Sender<Cmd>,
) {
    let (mut read, mut write) = sock.into_split();
    let reading = session.clone();
    tokio::spawn(async move {
        let mut reader = playrack_scrcpy::device_msg::DeviceMsgReader::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = read.read(&mut buf).await {
            if n == 0 {
                break;
            }
            reader.push(&buf[..n]);
            loop {
                match reader.next_msg() {
                    Ok(Some(msg)) => {
                        use playrack_scrcpy::device_msg::DeviceMsg;
                        let signal = match msg {
                            DeviceMsg::Clipboard { text }
                                if text.len() <= MAX_DEVICE_CLIPBOARD_BYTES =>
                            {
                                AgentSignal::Clipboard { text }
                            }
                            DeviceMsg::Custom { data } => AgentSignal::Custom { data },
                            _ => continue,
                        };
                        if cmd
                            .try_send(Cmd::ToPlayers {
                                session: reading.clone(),
                                signal,
                            })
                            .is_err()
                        {
                            tracing::debug!(session = %reading, "relay busy: a device message dropped");
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(session = %reading, "control socket: {e}");
                        return;
                    }
                }
            }
        }
    });
    let mut bytes = Vec::new();
    while let Some(msg) = rx.recv().await {
        bytes.clear();
        msg.serialize(&mut bytes);
        if let Err(e) = write.write_all(&bytes).await {
            tracing::warn!(%session, "control socket: {e}");
            break;
        }
    }
}
