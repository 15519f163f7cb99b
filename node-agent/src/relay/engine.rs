//! The relay's sans-IO core: every WebRTC peer on the board, fed datagrams, media packets and
//! time, answering with datagrams to send, control messages for the injectors and signals for
//! the peers. No sockets, no tasks, no clocks of its own — [`super::Relay`] is the thin async
//! shell around it, and tests drive it directly.
//!
//! ```text
//!  injector video/audio ──▶ media() ──┐                 ┌──▶ Output::Transmit (UDP)
//!  UDP datagram ─────────▶ receive() ─┼─▶ Engine ─▶ poll ┼──▶ Output::Control (scrcpy)
//!  offer (signaling) ────▶ add_peer()─┘   (str0m Rtc     ├──▶ Output::Signal (to a peer)
//!  time ─────────────────▶ timeout()      per peer)      └──▶ Output::Report (controller)
//! ```
//!
//! Invariants:
//! - The injector's H.264 goes into RTP as it is (Annex-B, packetization-mode 1); nothing is
//!   decoded or re-encoded. A key frame is sent with the session's SPS/PPS in front, so any
//!   peer can start decoding from it.
//! - A frame may arrive in parts (slices, `playrack_slices`): each part is packetized once per
//!   session and written to every peer the moment it arrives, with the frame's RTP time; only
//!   the frame's last packet carries the RTP marker, so the receiver decodes the slices as one
//!   frame while the first were on the wire before the last were encoded. The engine writes
//!   video RTP itself ([`str0m::rtp::StreamTx::write_rtp`]); str0m's sample writer would mark
//!   the end of every part.
//! - A peer gets no frame until its first key frame: a joining peer (a spectator, or a player
//!   back after a network drop) asks for one, and so do the peers' PLI/FIR — together at most
//!   one RESET_VIDEO per session per second ([`RESET_INTERVAL`]).
//! - Only the session's player sends input; a spectator's input, malformed or oversized
//!   messages, and keys that would leave the game (HOME, APP_SWITCH, POWER, …:
//!   [`super::input::allowed_for_player`]) are dropped (and counted) without touching the
//!   session.
//! - A player's input is rate-limited ([`InputBudget`]: a sustained [`INPUT_RATE`] messages a
//!   second, bursts of [`INPUT_BURST`]): a flood is dropped here, before it becomes control
//!   messages, so no queue behind the engine grows with it.
//! - One player per session: a second player connection (the same player reconnecting)
//!   replaces the first.
//! - The video's bit rate follows the player's link inside the spec's window when the
//!   injector can change it in place ([`Engine::adapt_bitrate`]): every peer of such a session
//!   runs str0m's send-side bandwidth estimation (TWCC feedback, which browsers send), the
//!   player's estimate drives [`super::bitrate::BitrateControl`], and each new target goes to
//!   the injector as SET_VIDEO_BIT_RATE. A spectator's link steers nothing.
//! - A player about to be kicked for idling is warned first ([`idle_warning_lead`] before);
//!   any input, or the `here` answer, counts as input again.
//! - A drained board's maintenance notice reaches every peer on it, and every peer that
//!   connects while it stands ([`Engine::set_notice`]).
//! - Frames are shown as soon as they are decoded: every video frame carries the
//!   `playout-delay` RTP header extension with min = max = 0 (mapped in the answer when the
//!   offer carries it, as Chromium's does), which tells the receiver's jitter buffer to hold
//!   nothing back.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use playrack_scrcpy::control_msg::ControlMsg;
use playrack_wire::agent::LatencySamples;
use playrack_wire::input::InputMessage;
use playrack_wire::session_token::WatchClaim;
use playrack_wire::signaling::{AgentSignal, PeerRole, StreamStats};
use str0m::change::SdpOffer;
use str0m::channel::ChannelId;
use str0m::config::CryptoProvider;
use str0m::format::Codec;
use str0m::media::{MediaKind, MediaTime, Mid, Pt};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{AbsCaptureTime, Extension, ExtensionValues, RtpWrite, SeqNo};
use str0m::unversioned::{H264Packetizer, Packetizer};
use str0m::{Candidate, Event, IceConnectionState, Input, Output as RtcOutput, Rtc, RtcConfig};

use super::bitrate::{BitrateControl, Window};
use super::hid::Plugged;
use super::input::{allowed_for_player, to_control};
use str0m::bwe::{Bitrate, BweKind};

/// The id the answer offers for `playout-delay` when the offer does not number it (an offer's
/// own id wins); clear of str0m's standard map (1–4, 10, 11, 13).
const PLAYOUT_DELAY_EXT_ID: u8 = 6;

/// The id the answer offers for `abs-capture-time` when the offer does not number it (an
/// offer's own id wins; str0m maps it only when the offer carries it, which Chromium does once
/// the page asks for it with `setHeaderExtensionsToNegotiate`).
const ABS_CAPTURE_TIME_EXT_ID: u8 = 5;

/// At most one RESET_VIDEO per session in this interval.
pub const RESET_INTERVAL: Duration = Duration::from_secs(1);
/// How often peers get `stats` and the controller a session report.
pub const STATS_INTERVAL: Duration = Duration::from_secs(1);
/// How often a session's report reaches the controller when nothing changed.
pub const REPORT_INTERVAL: Duration = Duration::from_secs(5);
/// The H.264 profile the relay offers: Constrained Baseline 3.1, what the injector encodes.
pub const H264_PROFILE_LEVEL_ID: u32 = 0x42e01f;
/// Input messages a second a player may send, sustained (two fingers moving at 120 Hz, with
/// room to spare), and in a burst.
pub const INPUT_RATE: f64 = 300.0;
pub const INPUT_BURST: f64 = 600.0;

/// A token bucket fed by time: [`INPUT_RATE`] tokens a second, at most [`INPUT_BURST`].
#[derive(Debug, Clone, Copy)]
pub struct InputBudget {
    tokens: f64,
    at: Instant,
}

impl InputBudget {
    pub fn new(now: Instant) -> Self {
        InputBudget {
            tokens: INPUT_BURST,
            at: now,
        }
    }

    /// Takes one message's token; false when the budget is spent.
    pub fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * INPUT_RATE).min(INPUT_BURST);
        self.at = now.max(self.at);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// A peer's handle.
pub type PeerId = u64;

/// Why a peer could not be added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRefused {
    /// `NO_SESSION`, `BAD_SDP`, `NO_VIDEO` …
    pub code: &'static str,
    pub message: String,
}

/// What the engine asks its shell to do.
#[derive(Debug)]
pub enum Output {
    /// Send a datagram from the relay's socket.
    Transmit {
        destination: SocketAddr,
        contents: Vec<u8>,
    },
    /// Write a control message to the session's injector.
    Control {
        session: String,
        message: ControlMsg,
    },
    /// Send a signal to a peer's signaling socket.
    Signal { peer: PeerId, signal: AgentSignal },
    /// The peer is gone (closed, timed out or replaced): close its signaling socket.
    PeerGone { peer: PeerId },
    /// Tell the controller about a session's player.
    Report {
        session: String,
        connected: bool,
        /// Whether a player has connected at least once (the play has started).
        played: bool,
        last_input: Option<Instant>,
        stats: Option<StreamStats>,
        /// Latencies the player reported since the previous report (ms).
        latency_ms: LatencySamples,
    },
}

/// Counters for `/metrics`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counters {
    pub video_frames_in: u64,
    pub audio_frames_in: u64,
    pub media_bytes_in: u64,
    pub datagrams_out: u64,
    pub bytes_out: u64,
    pub datagrams_unmatched: u64,
    pub inputs: u64,
    pub inputs_dropped: u64,
    pub video_resets: u64,
    /// NACKs peers sent (each answered from the send buffer, over RTX when negotiated).
    pub nacks: u64,
    /// Video bit rate changes sent to injectors.
    pub bitrate_changes: u64,
}

struct Session {
    width: u16,
    height: u16,
    /// The last H.264 config packet (SPS/PPS, Annex-B).
    config: Option<Vec<u8>>,
    last_reset: Option<Instant>,
    reset_wanted: bool,
    last_input: Option<Instant>,
    connected: bool,
    played: bool,
    /// The injector takes Playrack's own messages: CUSTOM, SENSOR, LOCATION
    /// ([`Engine::allow_custom`]).
    custom: bool,
    /// The gamepads and mouse the player plugged into the instance.
    plugged: Plugged,
    next_report: Instant,
    /// Frames and bytes since `window_start`, for fps and bitrate.
    window_start: Instant,
    window_frames: u32,
    window_bytes: u64,
    stats: StreamStats,
    /// Latencies the player reported since the last report to the controller (at most
    /// `MAX_LATENCY_SAMPLES`, the newest kept).
    latency_ms: LatencySamples,
    /// The video bit rate, when the injector can change it in place.
    bitrate: Option<BitrateControl>,
    /// The play's idle kick, when the player is to be warned before it.
    idle_kick: Option<Duration>,
    /// When the player first connected (the idle clock's start before any input).
    playing_since: Option<Instant>,
    /// The idle warning went out and no input came since.
    idle_warned: bool,
    /// Where the device's video clock (its frames' pts) sits on this machine's clock.
    capture: CaptureClock,
    /// Packetizes the video once for all the session's peers (STAP-A for SPS/PPS, FU-A).
    packetizer: H264Packetizer,
    /// The frame whose parts are arriving (its last not yet).
    frame: Option<FrameInFlight>,
}

/// A frame some of whose parts were sent: what its later parts share.
#[derive(Debug, Clone, Copy)]
struct FrameInFlight {
    pts_us: u64,
    key: bool,
    /// RTP time (90 kHz).
    time: u32,
    captured: SystemTime,
}

/// RTP payload bytes per packet: str0m's datagram target less the SRTP tag, aligned to the
/// SRTP block, as its own packetizing does.
const RTP_PAYLOAD_MTU: usize = (str0m::DATAGRAM_MTU_TARGET - 16) / 16 * 16;

/// One part of a video frame as RTP payloads, for [`Engine::fan_out_video`].
struct VideoPart {
    frame: FrameInFlight,
    /// The frame's first part: the key frame a waiting peer may start from, and the packet
    /// that carries `abs-capture-time`.
    first: bool,
    /// The frame's last part: its last packet carries the marker.
    last: bool,
    /// Shared by every peer's packets (no copy per peer).
    payloads: Vec<Arc<[u8]>>,
}

/// `at` on the wall clock, through a pair of readings of both clocks.
fn wall_clock((i, w): (Instant, SystemTime), at: Instant) -> SystemTime {
    match at.checked_duration_since(i) {
        Some(d) => w + d,
        None => w - (i - at),
    }
}

/// This machine's monotonic and wall clocks read together: the wall clock between two
/// monotonic readings a moment apart, paired with their middle.
fn clock_pair() -> (Instant, SystemTime) {
    let before = Instant::now();
    let wall = SystemTime::now();
    let after = Instant::now();
    (before + (after - before) / 2, wall)
}

/// The device's video clock on this machine's clock: a frame's pts plus the smallest
/// (arrival − pts) seen so far, so a frame's capture instant is never after its arrival and
/// is exact for the frame that travelled fastest (its encode and transfer are the floor every
/// other frame is measured against).
#[derive(Debug, Default, Clone, Copy)]
pub struct CaptureClock {
    /// The instant pts 0 maps to.
    base: Option<Instant>,
}

impl CaptureClock {
    /// The capture instant of a frame with `pts_us` that arrived at `arrival`.
    pub fn capture(&mut self, arrival: Instant, pts_us: u64) -> Instant {
        let pts = Duration::from_micros(pts_us);
        let Some(base) = arrival.checked_sub(pts) else {
            return arrival;
        };
        let base = match self.base {
            Some(b) if b <= base => b,
            _ => base,
        };
        self.base = Some(base);
        base + pts
    }
}

struct Peer {
    session: String,
    role: PeerRole,
    rtc: Rtc,
    video: Option<(Mid, Pt)>,
    audio: Option<(Mid, Pt)>,
    input: Option<ChannelId>,
    /// The watch link it came through (a spectator's).
    watch: Option<String>,
    /// The DataChannel `sensors` (sensor and location readings only).
    sensors: Option<ChannelId>,
    connected: bool,
    waiting_keyframe: bool,
    /// The next video RTP sequence number (the engine writes video RTP itself).
    video_seq: u64,
    rtt: Option<Duration>,
    loss: Option<f32>,
    /// NACKs counted so far (str0m's egress stats are cumulative).
    nacks: u64,
    last_input_error: Option<Instant>,
    input_budget: InputBudget,
    /// When its `Rtc` wants time next.
    deadline: Instant,
}

/// Timeouts due at once that one drain of a peer gives before leaving the rest to the shell
/// (a bound, so a peer that always wants time now cannot hold the engine).
const MAX_IMMEDIATE_TIMEOUTS: u32 = 256;

/// Remote addresses remembered per peer, at most on average (candidate pairs: a handful).
const SOURCES_PER_PEER: usize = 8;

/// See the module doc.
pub struct Engine {
    /// The address peers send to (the host candidate): the public address and the port.
    host: SocketAddr,
    crypto: Arc<CryptoProvider>,
    sessions: HashMap<String, Session>,
    peers: HashMap<PeerId, Peer>,
    /// Which peer each remote address spoke for last: a datagram goes to its peer without
    /// asking every peer (the peers are asked only for a source seen first, e.g. a new ICE
    /// candidate pair). Entries go with their peer.
    by_source: HashMap<SocketAddr, PeerId>,
    next_peer: PeerId,
    out: VecDeque<Output>,
    next_stats: Instant,
    counters: Counters,
    /// What every player on the board is told (a drain's or a scheduled maintenance's
    /// notice), also when they connect later.
    notice: Option<BoardNotice>,
    /// This machine's wall clock at an instant of its monotonic clock: capture instants
    /// become `abs-capture-time`'s NTP timestamps through it.
    wall: (Instant, SystemTime),
}

/// A `MAINTENANCE` notice for every player on the board: the operator's words and, for
/// maintenance scheduled ahead, when it starts (the SDK counts down to it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardNotice {
    pub message: String,
    pub at: Option<playrack_wire::Timestamp>,
}

impl Engine {
    /// An engine whose peers reach it at `host`.
    pub fn new(host: SocketAddr, now: Instant) -> Engine {
        Engine {
            host,
            crypto: Arc::new(str0m::crypto::from_feature_flags()),
            sessions: HashMap::new(),
            peers: HashMap::new(),
            by_source: HashMap::new(),
            next_peer: 1,
            out: VecDeque::new(),
            next_stats: now + STATS_INTERVAL,
            counters: Counters::default(),
            notice: None,
            wall: clock_pair(),
        }
    }

    pub fn counters(&self) -> Counters {
        self.counters
    }

    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    /// Whether `session` has a connected player.
    pub fn is_connected(&self, session: &str) -> bool {
        self.sessions.get(session).is_some_and(|s| s.connected)
    }

    /// A prepared play whose media will arrive through [`Engine::video`] and
    /// [`Engine::audio`]. Adding it again keeps its peers.
    pub fn add_session(&mut self, id: &str, width: u16, height: u16, now: Instant) {
        self.sessions.entry(id.to_owned()).or_insert(Session {
            width,
            height,
            config: None,
            last_reset: None,
            reset_wanted: false,
            last_input: None,
            connected: false,
            played: false,
            custom: false,
            plugged: Plugged::default(),
            next_report: now + REPORT_INTERVAL,
            window_start: now,
            window_frames: 0,
            window_bytes: 0,
            latency_ms: LatencySamples::default(),
            bitrate: None,
            idle_kick: None,
            playing_since: None,
            idle_warned: false,
            capture: CaptureClock::default(),
            packetizer: H264Packetizer::default(),
            frame: None,
            stats: StreamStats {
                width: width.into(),
                height: height.into(),
                ..StreamStats::default()
            },
        });
    }

    /// Tells every connected peer `message` as a `MAINTENANCE` notice, and every peer that
    /// connects from now on; `None` withdraws it (nothing more is sent).
    pub fn set_notice(&mut self, message: Option<BoardNotice>) {
        if let Some(m) = &message
            && self.notice.as_ref() != Some(m)
        {
            for (id, p) in &self.peers {
                if p.connected {
                    self.out.push_back(Output::Signal {
                        peer: *id,
                        signal: maintenance(m),
                    });
                }
            }
        }
        self.notice = message;
    }

    /// What `session`'s device said for its players (the clipboard the game copied, its
    /// custom-channel answers): they are told, its spectators (who only watch) are not.
    pub fn tell_players(&mut self, session: &str, signal: AgentSignal) {
        for (id, p) in &self.peers {
            if p.session == session && p.role == PeerRole::Player && p.connected {
                self.out.push_back(Output::Signal {
                    peer: *id,
                    signal: signal.clone(),
                });
            }
        }
    }

    /// `session`'s injector takes Playrack's own messages: its page may talk to its game
    /// (CUSTOM), and the player's sensors and position reach it (SENSOR, LOCATION).
    pub fn allow_custom(&mut self, session: &str) {
        if let Some(s) = self.sessions.get_mut(session) {
            s.custom = true;
        }
    }

    /// Warns `session`'s player [`idle_warning_lead`] before its idle kick (`IDLE_WARNING`),
    /// once per stretch without input; any input, or the `here` answer, starts a new one.
    pub fn warn_before_idle_kick(&mut self, session: &str, idle_kick: Duration) {
        if let Some(s) = self.sessions.get_mut(session) {
            s.idle_kick = Some(idle_kick);
        }
    }

    /// Lets `session`'s video bit rate follow its player's link inside `window`, starting at
    /// `start_bps` (the rate the injector was started with). Only for an injector that takes
    /// SET_VIDEO_BIT_RATE; peers that join from now on run bandwidth estimation.
    pub fn adapt_bitrate(&mut self, session: &str, window: Window, start_bps: u32) {
        if let Some(s) = self.sessions.get_mut(session) {
            let c = BitrateControl::new(window, start_bps);
            s.stats.target_kbps = c.target() / 1000;
            s.bitrate = Some(c);
        }
    }

    /// Sends the injector a new target, if there is one.
    fn retarget(&mut self, session: &str, target: Option<u32>) {
        let (Some(bit_rate), Some(s)) = (target, self.sessions.get_mut(session)) else {
            return;
        };
        s.stats.target_kbps = bit_rate / 1000;
        self.counters.bitrate_changes += 1;
        tracing::debug!(%session, bit_rate, "video bit rate");
        self.out.push_back(Output::Control {
            session: session.to_owned(),
            message: ControlMsg::SetVideoBitRate { bit_rate },
        });
    }

    /// The play ended: its peers get `ended {reason}` and are closed.
    pub fn remove_session(&mut self, id: &str, reason: &str) {
        if self.sessions.remove(id).is_none() {
            return;
        }
        let gone: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.session == id)
            .map(|(k, _)| *k)
            .collect();
        for peer in gone {
            self.out.push_back(Output::Signal {
                peer,
                signal: AgentSignal::Ended {
                    reason: reason.to_owned(),
                },
            });
            self.close_peer(peer);
        }
    }

    /// Answers a peer's SDP offer for `session`. The answer carries the relay's only
    /// candidate (the relay is ICE-lite: the peer runs the checks).
    pub fn add_peer(
        &mut self,
        session: &str,
        role: PeerRole,
        offer_sdp: &str,
        now: Instant,
    ) -> Result<(PeerId, String), PeerRefused> {
        self.add_watcher(session, role, None, offer_sdp, now)
    }

    /// [`Engine::add_peer`] for a spectator that came through a watch link: refused with
    /// `WATCH_FULL` while the link's `max_viewers` spectators are on the session.
    pub fn add_watcher(
        &mut self,
        session: &str,
        role: PeerRole,
        watch: Option<&WatchClaim>,
        offer_sdp: &str,
        now: Instant,
    ) -> Result<(PeerId, String), PeerRefused> {
        let refuse = |code, message: String| PeerRefused { code, message };
        if !self.sessions.contains_key(session) {
            return Err(refuse(
                "NO_SESSION",
                format!("session {session} is not streaming on this board"),
            ));
        }
        if let Some(w) = watch {
            let watching = self
                .peers
                .values()
                .filter(|p| p.session == session && p.watch.as_deref() == Some(w.link.as_str()))
                .count();
            if watching >= w.max_viewers as usize {
                return Err(refuse(
                    "WATCH_FULL",
                    format!(
                        "this watch link admits {} viewers at once, and they are here",
                        w.max_viewers
                    ),
                ));
            }
        }
        let offer = SdpOffer::from_sdp_string(offer_sdp)
            .map_err(|e| refuse("BAD_SDP", format!("the offer is not valid SDP: {e}")))?;
        let window = self.sessions[session]
            .bitrate
            .as_ref()
            .map(|c| (c.window(), c.target()));
        let mut rtc = RtcConfig::new()
            .set_crypto_provider(self.crypto.clone())
            .set_ice_lite(true)
            .clear_codecs()
            .enable_h264(true)
            .enable_opus(true, false)
            .set_stats_interval(Some(STATS_INTERVAL))
            .set_extension(PLAYOUT_DELAY_EXT_ID, Extension::PlayoutDelay)
            .set_extension(ABS_CAPTURE_TIME_EXT_ID, Extension::AbsoluteCaptureTime)
            // The first estimate is this one, and it must keep the target where it is.
            .enable_bwe(window.map(|(_, target)| {
                Bitrate::bps((f64::from(target) / super::bitrate::HEADROOM) as u64)
            }))
            .build(now);
        if let Some((window, _)) = window {
            // Probe up to the window's top; pad nothing beyond str0m's own floor.
            rtc.bwe()
                .set_bitrate(Bitrate::ZERO, Bitrate::bps(u64::from(window.max_bps)));
        }
        let candidate = Candidate::host(self.host, "udp")
            .map_err(|e| refuse("INTERNAL", format!("host candidate {}: {e}", self.host)))?;
        rtc.add_local_candidate(candidate);
        let answer = rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| refuse("BAD_SDP", format!("the offer cannot be answered: {e}")))?;
        let answer_sdp = answer.to_sdp_string();
        if !answer_sdp.contains("m=video") {
            return Err(refuse(
                "NO_VIDEO",
                "the offer has no video to receive".into(),
            ));
        }
        let id = self.next_peer;
        self.next_peer += 1;
        if role == PeerRole::Player {
            // The same player again (a reconnect, another tab): the newest connection wins.
            let old: Vec<PeerId> = self
                .peers
                .iter()
                .filter(|(_, p)| p.session == session && p.role == PeerRole::Player)
                .map(|(k, _)| *k)
                .collect();
            for peer in old {
                self.out.push_back(Output::Signal {
                    peer,
                    signal: AgentSignal::Notice {
                        code: "REPLACED".into(),
                        message: "the player connected again elsewhere".into(),
                        at: None,
                    },
                });
                self.close_peer(peer);
            }
        }
        self.peers.insert(
            id,
            Peer {
                session: session.to_owned(),
                role,
                rtc,
                video: None,
                audio: None,
                input: None,
                watch: watch.map(|w| w.link.clone()),
                sensors: None,
                connected: false,
                waiting_keyframe: true,
                video_seq: u64::from(rand::random::<u16>()),
                rtt: None,
                loss: None,
                nacks: 0,
                last_input_error: None,
                input_budget: InputBudget::new(now),
                deadline: now,
            },
        );
        Ok((id, answer_sdp))
    }

    /// The peer said bye or its signaling socket closed.
    pub fn remove_peer(&mut self, peer: PeerId) {
        self.close_peer(peer);
    }

    fn close_peer(&mut self, id: PeerId) {
        let Some(mut peer) = self.peers.remove(&id) else {
            return;
        };
        self.by_source.retain(|_, p| *p != id);
        peer.rtc.disconnect();
        tracing::info!(peer = id, session = %peer.session, role = ?peer.role, "peer closed");
        self.out.push_back(Output::PeerGone { peer: id });
        if peer.role == PeerRole::Player && peer.connected {
            self.update_connected(&peer.session);
        }
        if peer.role == PeerRole::Player
            && let Some(s) = self.sessions.get_mut(&peer.session)
        {
            for message in s.plugged.release() {
                self.out.push_back(Output::Control {
                    session: peer.session.clone(),
                    message,
                });
            }
        }
    }

    /// A datagram arrived on the relay's socket. Returns whether a peer took it.
    pub fn receive(&mut self, now: Instant, source: SocketAddr, contents: &[u8]) -> bool {
        let Ok(contents) = contents.try_into() else {
            self.counters.datagrams_unmatched += 1;
            return false;
        };
        let input = Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
                source,
                destination: self.host,
                contents,
            },
        );
        let known = self
            .by_source
            .get(&source)
            .copied()
            .filter(|id| self.peers.get(id).is_some_and(|p| p.rtc.accepts(&input)));
        let Some(id) = known.or_else(|| {
            let (&id, _) = self.peers.iter().find(|(_, p)| p.rtc.accepts(&input))?;
            // A cache, bounded: sources beyond a few per peer (spoofed binding requests
            // for a known username) start it afresh.
            if self.by_source.len() >= SOURCES_PER_PEER * self.peers.len() {
                self.by_source.clear();
            }
            self.by_source.insert(source, id);
            Some(id)
        }) else {
            self.counters.datagrams_unmatched += 1;
            return false;
        };
        let peer = self.peers.get_mut(&id).expect("found above");
        if let Err(e) = peer.rtc.handle_input(input) {
            tracing::debug!(peer = id, "peer input failed: {e}");
            self.close_peer(id);
        }
        self.drain(id, now);
        true
    }

    /// One event of a session's video socket.
    pub fn video(&mut self, now: Instant, session: &str, event: VideoEvent) {
        let Some(s) = self.sessions.get_mut(session) else {
            return;
        };
        match event {
            VideoEvent::Size { width, height } => {
                s.width = width;
                s.height = height;
                s.stats.width = width.into();
                s.stats.height = height.into();
            }
            VideoEvent::Config(config) => s.config = Some(config),
            VideoEvent::Frame {
                pts_us,
                key,
                data,
                last,
            } => {
                self.counters.media_bytes_in += data.len() as u64;
                s.window_bytes += data.len() as u64;
                if last {
                    self.counters.video_frames_in += 1;
                    s.window_frames += 1;
                }
                let started = s.frame.filter(|f| f.pts_us == pts_us);
                let first = started.is_none();
                let frame = match started {
                    Some(f) => f,
                    None => {
                        let captured = s.capture.capture(now, pts_us);
                        FrameInFlight {
                            pts_us,
                            key,
                            time: (pts_us * 9 / 100) as u32,
                            captured: wall_clock(self.wall, captured),
                        }
                    }
                };
                let payloads = match (&s.config, first && key) {
                    (Some(config), true) if !starts_with_sps(&data) => {
                        let mut v = Vec::with_capacity(config.len() + data.len());
                        v.extend_from_slice(config);
                        v.extend_from_slice(&data);
                        s.packetizer.packetize(RTP_PAYLOAD_MTU, &v)
                    }
                    _ => s.packetizer.packetize(RTP_PAYLOAD_MTU, &data),
                };
                let payloads = match payloads {
                    Ok(p) => p.into_iter().map(Arc::from).collect(),
                    Err(e) => {
                        tracing::debug!(%session, "video packetizing: {e}");
                        return;
                    }
                };
                // only a part that goes out is part of the frame in flight
                s.frame = (!last).then_some(frame);
                let part = VideoPart {
                    frame,
                    first,
                    last,
                    payloads,
                };
                self.fan_out_video(now, session, &part);
            }
        }
    }

    /// One Opus packet of a session's audio socket.
    pub fn audio(&mut self, now: Instant, session: &str, pts_us: u64, data: Vec<u8>) {
        let Some(s) = self.sessions.get_mut(session) else {
            return;
        };
        self.counters.audio_frames_in += 1;
        self.counters.media_bytes_in += data.len() as u64;
        s.window_bytes += data.len() as u64;
        let time = MediaTime::new(pts_us * 48 / 1000, str0m::media::Frequency::FORTY_EIGHT_KHZ);
        self.fan_out_audio(now, session, time, data.into());
    }

    /// Writes one Opus packet to every connected peer of `session` and drains them.
    fn fan_out_audio(&mut self, now: Instant, session: &str, time: MediaTime, payload: Arc<[u8]>) {
        let ids = self.connected_peers(session);
        for id in ids {
            let peer = self.peers.get_mut(&id).expect("listed above");
            if let Some((mid, pt)) = peer.audio
                && let Some(w) = peer.rtc.writer(mid)
                && let Err(e) = w.write(pt, now, time, payload.clone())
            {
                tracing::debug!(peer = id, "audio write: {e}");
            }
            self.drain(id, now);
        }
    }

    /// Writes one part of a video frame to every connected peer of `session` (from a peer's
    /// first key frame on) and drains them, so its packets leave now: playout delay 0 on
    /// every packet, `abs-capture-time` on the frame's first, the marker on its last.
    fn fan_out_video(&mut self, now: Instant, session: &str, part: &VideoPart) {
        let ids = self.connected_peers(session);
        let n = part.payloads.len();
        for id in ids {
            let peer = self.peers.get_mut(&id).expect("listed above");
            if peer.waiting_keyframe {
                if !(part.first && part.frame.key) {
                    continue;
                }
                peer.waiting_keyframe = false;
            }
            let Some((mid, pt)) = peer.video else {
                continue;
            };
            let mut api = peer.rtc.direct_api();
            let Some(stream) = api.stream_tx_by_mid(mid, None) else {
                continue;
            };
            for (i, payload) in part.payloads.iter().enumerate() {
                let mut ext = ExtensionValues {
                    play_delay_min: Some(MediaTime::ZERO),
                    play_delay_max: Some(MediaTime::ZERO),
                    ..ExtensionValues::default()
                };
                if part.first && i == 0 {
                    ext.abs_capture_time = Some(AbsCaptureTime {
                        capture_time: part.frame.captured,
                        clock_offset: Some(0),
                    });
                }
                let seq: SeqNo = peer.video_seq.into();
                peer.video_seq += 1;
                stream.write_rtp(
                    RtpWrite::new(pt, seq, part.frame.time, now, payload.clone())
                        .marker(part.last && i + 1 == n)
                        .ext_vals(ext)
                        .nackable(true),
                );
            }
            self.drain(id, now);
        }
    }

    /// The session's peers whose media flows.
    fn connected_peers(&self, session: &str) -> Vec<PeerId> {
        self.peers
            .iter()
            .filter(|(_, p)| p.session == session && p.connected)
            .map(|(k, _)| *k)
            .collect()
    }

    /// Drives time: the peers whose deadline passed (retransmissions, ICE consent, pacing),
    /// stats, the reset throttle. Call at [`Engine::next_deadline`].
    pub fn timeout(&mut self, now: Instant) {
        let due: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(k, _)| *k)
            .collect();
        for id in due {
            if let Some(p) = self.peers.get_mut(&id)
                && let Err(e) = p.rtc.handle_input(Input::Timeout(now))
            {
                tracing::debug!(peer = id, "peer timeout failed: {e}");
                self.close_peer(id);
            }
            self.drain(id, now);
        }
        if now >= self.next_stats {
            self.next_stats = now + STATS_INTERVAL;
            self.tick_stats(now);
        }
        let sessions: Vec<String> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.reset_wanted)
            .map(|(k, _)| k.clone())
            .collect();
        for s in sessions {
            self.want_keyframe(&s, now);
        }
    }

    /// When [`Engine::timeout`] must run next.
    pub fn next_deadline(&self) -> Instant {
        let mut next = self.next_stats;
        for p in self.peers.values() {
            next = next.min(p.deadline);
        }
        for s in self.sessions.values() {
            if s.reset_wanted
                && let Some(t) = s.last_reset
            {
                next = next.min(t + RESET_INTERVAL);
            }
        }
        next
    }

    /// The next output for the shell.
    pub fn poll(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Polls one peer's `Rtc` until it wants time later than `now` (kept as the peer's
    /// deadline). Time it wants now is given at once: str0m's pacer asks for a timeout after
    /// every packet it releases, and a round through the shell's timer (a millisecond's
    /// granularity) per packet would hold a frame back by a millisecond a packet.
    fn drain(&mut self, id: PeerId, now: Instant) {
        let mut immediate = 0;
        loop {
            let Some(peer) = self.peers.get_mut(&id) else {
                return;
            };
            if !peer.rtc.is_alive() {
                self.close_peer(id);
                return;
            }
            let output = match peer.rtc.poll_output() {
                Ok(o) => o,
                Err(e) => {
                    tracing::debug!(peer = id, "peer failed: {e}");
                    self.close_peer(id);
                    return;
                }
            };
            match output {
                RtcOutput::Timeout(t) => {
                    if t <= now && immediate < MAX_IMMEDIATE_TIMEOUTS {
                        immediate += 1;
                        if let Err(e) = peer.rtc.handle_input(Input::Timeout(now)) {
                            tracing::debug!(peer = id, "peer failed: {e}");
                            self.close_peer(id);
                            return;
                        }
                        continue;
                    }
                    peer.deadline = t;
                    return;
                }
                RtcOutput::Transmit(t) => {
                    self.counters.datagrams_out += 1;
                    self.counters.bytes_out += t.contents.len() as u64;
                    self.out.push_back(Output::Transmit {
                        destination: t.destination,
                        contents: t.contents.into(),
                    });
                }
                RtcOutput::Event(e) => self.on_event(id, e, now),
            }
        }
    }

    fn on_event(&mut self, id: PeerId, event: Event, now: Instant) {
        let Some(peer) = self.peers.get_mut(&id) else {
            return;
        };
        match event {
            Event::Connected => {
                peer.connected = true;
                peer.waiting_keyframe = true;
                let (session, role) = (peer.session.clone(), peer.role);
                tracing::info!(peer = id, %session, ?role, "peer connected");
                if let Some(m) = &self.notice {
                    self.out.push_back(Output::Signal {
                        peer: id,
                        signal: maintenance(m),
                    });
                }
                self.want_keyframe(&session, now);
                if role == PeerRole::Player {
                    if let Some(s) = self.sessions.get_mut(&session) {
                        s.playing_since.get_or_insert(now);
                    }
                    self.update_connected(&session);
                }
            }
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                tracing::info!(peer = id, "peer disconnected");
                self.close_peer(id);
            }
            Event::MediaAdded(m) => {
                let pt = peer.rtc.writer(m.mid).and_then(|w| {
                    let params: Vec<_> = w.payload_params().cloned().collect();
                    pick_pt(m.kind, &params)
                });
                match (m.kind, pt) {
                    (MediaKind::Video, Some(pt)) => peer.video = Some((m.mid, pt)),
                    (MediaKind::Audio, Some(pt)) => peer.audio = Some((m.mid, pt)),
                    (kind, None) => tracing::info!(peer = id, ?kind, "no usable codec offered"),
                }
            }
            Event::ChannelOpen(cid, label) if label == "input" => peer.input = Some(cid),
            Event::ChannelOpen(cid, label) if label == "sensors" => peer.sensors = Some(cid),
            Event::ChannelData(d) => {
                let on_sensors = Some(d.id) == peer.sensors;
                if Some(d.id) != peer.input && !on_sensors {
                    return;
                }
                self.counters.inputs += 1;
                let session = peer.session.clone();
                let refusal = if peer.role != PeerRole::Player {
                    Some((
                        "INPUT_NOT_ALLOWED",
                        "spectators cannot send input".to_owned(),
                    ))
                } else if !peer.input_budget.take(now) {
                    Some((
                        "INPUT_RATE_LIMITED",
                        format!("more than {INPUT_RATE} input messages a second"),
                    ))
                } else {
                    match InputMessage::parse(&d.data) {
                        Ok(InputMessage::Sensor { .. } | InputMessage::Location { .. })
                            if !on_sensors =>
                        {
                            Some((
                                "BAD_INPUT",
                                "sensor and location readings go on the sensors channel".to_owned(),
                            ))
                        }
                        Ok(
                            ref msg @ (InputMessage::Sensor { .. } | InputMessage::Location { .. }),
                        ) => {
                            // For the game, not play: it does not count as input either.
                            match self.sessions.get(&session) {
                                Some(s) if s.custom => {
                                    for message in to_control(msg, s.width, s.height) {
                                        self.out.push_back(Output::Control {
                                            session: session.clone(),
                                            message,
                                        });
                                    }
                                    None
                                }
                                _ => Some((
                                    "SENSORS_UNSUPPORTED",
                                    "this board's injector takes no sensor readings".to_owned(),
                                )),
                            }
                        }
                        Ok(_) if on_sensors => Some((
                            "BAD_INPUT",
                            "the sensors channel carries sensor and location readings only"
                                .to_owned(),
                        )),
                        Ok(msg) if !allowed_for_player(&msg) => Some((
                            "INPUT_NOT_ALLOWED",
                            "this key would leave the game".to_owned(),
                        )),
                        Ok(InputMessage::Quality { max_kbps }) => {
                            let target = self.sessions.get_mut(&session).and_then(|s| {
                                s.bitrate
                                    .as_mut()?
                                    .set_ceiling(max_kbps.map(|k| k.saturating_mul(1000)), now)
                            });
                            self.retarget(&session, target);
                            None
                        }
                        Ok(InputMessage::Custom { data }) => {
                            // For the game, not play: it does not count as input either.
                            match self.sessions.get(&session) {
                                Some(s) if s.custom => {
                                    self.out.push_back(Output::Control {
                                        session: session.clone(),
                                        message: ControlMsg::Custom { data },
                                    });
                                    None
                                }
                                _ => Some((
                                    "CUSTOM_UNSUPPORTED",
                                    "this board's injector has no custom channel".to_owned(),
                                )),
                            }
                        }
                        Ok(InputMessage::Latency { ms, .. }) => {
                            // A measurement, not play: it does not count as input (idle kick).
                            if let Some(s) = self.sessions.get_mut(&session) {
                                s.latency_ms.push(ms);
                            }
                            None
                        }
                        Ok(msg) => {
                            if let Some(s) = self.sessions.get_mut(&session) {
                                s.last_input = Some(now);
                                if s.idle_warned {
                                    // The controller's idle clock must hear of it before the
                                    // kick: report at the next tick, not the next interval.
                                    s.idle_warned = false;
                                    s.next_report = now;
                                }
                                let controls = s
                                    .plugged
                                    .input(&msg)
                                    .unwrap_or_else(|| to_control(&msg, s.width, s.height));
                                for message in controls {
                                    self.out.push_back(Output::Control {
                                        session: session.clone(),
                                        message,
                                    });
                                }
                            }
                            None
                        }
                        Err(e) => Some(("BAD_INPUT", e.to_string())),
                    }
                };
                if let Some((code, message)) = refusal {
                    self.counters.inputs_dropped += 1;
                    let peer = self.peers.get_mut(&id).expect("still here");
                    // Tell the peer, at most once a second.
                    if peer
                        .last_input_error
                        .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1))
                    {
                        peer.last_input_error = Some(now);
                        self.out.push_back(Output::Signal {
                            peer: id,
                            signal: AgentSignal::Error {
                                code: code.into(),
                                message,
                            },
                        });
                    }
                }
            }
            Event::KeyframeRequest(_) => {
                let session = peer.session.clone();
                self.want_keyframe(&session, now);
            }
            Event::MediaEgressStats(s) if peer.video.is_some_and(|(mid, _)| mid == s.mid) => {
                peer.rtt = s.rtt.or(peer.rtt);
                peer.loss = s.loss.or(peer.loss);
                self.counters.nacks += s.nacks.saturating_sub(peer.nacks);
                peer.nacks = peer.nacks.max(s.nacks);
            }
            Event::PeerStats(s) => {
                peer.rtt = s.rtt.or(peer.rtt);
                peer.loss = s.egress_loss_fraction.or(peer.loss);
            }
            Event::EgressBitrateEstimate(BweKind::Twcc { estimate, .. })
                if peer.role == PeerRole::Player =>
            {
                let session = peer.session.clone();
                let target = self.sessions.get_mut(&session).and_then(|s| {
                    let c = s.bitrate.as_mut()?;
                    let t = c.on_estimate(estimate.as_u64(), now);
                    s.stats.estimate_kbps = c.estimate().unwrap_or(0) / 1000;
                    t
                });
                self.retarget(&session, target);
            }
            _ => {}
        }
    }

    /// Asks the session's injector for a key frame (a recording starts), within the same
    /// limit as the peers' requests.
    pub fn request_keyframe(&mut self, session: &str, now: Instant) {
        self.want_keyframe(session, now);
    }

    /// Asks the session's injector for a key frame, at most once per [`RESET_INTERVAL`];
    /// a request inside the interval is remembered and sent when it ends.
    fn want_keyframe(&mut self, session: &str, now: Instant) {
        let Some(s) = self.sessions.get_mut(session) else {
            return;
        };
        if s.last_reset
            .is_some_and(|t| now.duration_since(t) < RESET_INTERVAL)
        {
            s.reset_wanted = true;
            return;
        }
        s.reset_wanted = false;
        s.last_reset = Some(now);
        self.counters.video_resets += 1;
        self.out.push_back(Output::Control {
            session: session.to_owned(),
            message: ControlMsg::ResetVideo,
        });
    }

    /// Recomputes whether the session's player is connected and reports a change.
    fn update_connected(&mut self, session: &str) {
        let connected = self
            .peers
            .values()
            .any(|p| p.session == session && p.role == PeerRole::Player && p.connected);
        let Some(s) = self.sessions.get_mut(session) else {
            return;
        };
        if s.connected != connected {
            s.connected = connected;
            s.played |= connected;
            self.out.push_back(Output::Report {
                session: session.to_owned(),
                connected,
                played: s.played,
                last_input: s.last_input,
                stats: None,
                latency_ms: s.latency_ms.take(),
            });
        }
    }

    /// Once per [`STATS_INTERVAL`]: stats to every peer, and a report to the controller every
    /// [`REPORT_INTERVAL`].
    fn tick_stats(&mut self, now: Instant) {
        for (id, s) in self.sessions.iter_mut() {
            let secs = now.duration_since(s.window_start).as_secs_f32().max(0.001);
            let player = self
                .peers
                .values()
                .find(|p| &p.session == id && p.role == PeerRole::Player && p.connected);
            s.stats = StreamStats {
                bitrate_kbps: (s.window_bytes as f32 * 8.0 / 1000.0 / secs) as u32,
                target_kbps: s.stats.target_kbps,
                estimate_kbps: s.stats.estimate_kbps,
                fps: s.window_frames as f32 / secs,
                rtt_ms: player
                    .and_then(|p| p.rtt)
                    .map_or(0, |r| r.as_millis() as u32),
                loss: player.and_then(|p| p.loss).unwrap_or(0.0),
                width: s.width.into(),
                height: s.height.into(),
            };
            s.window_start = now;
            s.window_frames = 0;
            s.window_bytes = 0;
            let idle_warning = match (s.idle_kick, s.last_input.or(s.playing_since)) {
                (Some(kick), Some(since)) if s.connected && !s.idle_warned => {
                    let lead = idle_warning_lead(kick);
                    (now.saturating_duration_since(since) + lead >= kick).then_some(lead)
                }
                _ => None,
            };
            if let Some(lead) = idle_warning {
                s.idle_warned = true;
                for (peer, p) in &self.peers {
                    if &p.session == id && p.connected && p.role == PeerRole::Player {
                        self.out.push_back(Output::Signal {
                            peer: *peer,
                            signal: AgentSignal::Notice {
                                code: "IDLE_WARNING".into(),
                                message: format!(
                                    "No input for a while: this play ends in {} s unless you are still there.",
                                    lead.as_secs()
                                ),
                                at: None,
                            },
                        });
                    }
                }
            }
            for (peer, p) in &self.peers {
                if &p.session == id && p.connected {
                    self.out.push_back(Output::Signal {
                        peer: *peer,
                        signal: AgentSignal::Stats {
                            stats: s.stats.clone(),
                        },
                    });
                }
            }
            if now >= s.next_report {
                s.next_report = now + REPORT_INTERVAL;
                self.out.push_back(Output::Report {
                    session: id.clone(),
                    connected: s.connected,
                    played: s.played,
                    last_input: s.last_input,
                    stats: Some(s.stats.clone()),
                    latency_ms: s.latency_ms.take(),
                });
            }
        }
    }
}

/// How long before an idle kick the player is warned: a quarter of the idle time, at least
/// 5 s and at most 30 s (never more than the idle time itself).
pub fn idle_warning_lead(idle_kick: Duration) -> Duration {
    (idle_kick / 4)
        .clamp(Duration::from_secs(5), Duration::from_secs(30))
        .min(idle_kick)
}

/// The board's maintenance notice as a peer gets it.
fn maintenance(n: &BoardNotice) -> AgentSignal {
    AgentSignal::Notice {
        code: "MAINTENANCE".into(),
        message: n.message.clone(),
        at: n.at,
    }
}

/// What a session's video socket carries, as the relay needs it.
#[derive(Debug, Clone)]
pub enum VideoEvent {
    /// The encoder's (new) size, from the session packet.
    Size { width: u16, height: u16 },
    /// SPS/PPS (Annex-B).
    Config(Vec<u8>),
    /// One access unit (Annex-B) with its presentation time in microseconds, or a part of
    /// one (one or more slices): the parts of a frame share its pts, and only the last has
    /// `last`.
    Frame {
        pts_us: u64,
        key: bool,
        data: Vec<u8>,
        last: bool,
    },
}

/// The payload type to send `kind` with: H.264 Constrained Baseline, packetization-mode 1
/// for video; Opus for audio.
fn pick_pt(kind: MediaKind, params: &[str0m::format::PayloadParams]) -> Option<Pt> {
    match kind {
        MediaKind::Video => params
            .iter()
            .filter(|p| p.spec().codec == Codec::H264)
            .filter(|p| p.spec().format.packetization_mode == Some(1))
            .max_by_key(|p| p.spec().format.profile_level_id == Some(H264_PROFILE_LEVEL_ID))
            .map(|p| p.pt()),
        MediaKind::Audio => params
            .iter()
            .find(|p| p.spec().codec == Codec::Opus)
            .map(|p| p.pt()),
    }
}

/// Whether an Annex-B buffer begins with an SPS NAL unit.
fn starts_with_sps(data: &[u8]) -> bool {
    let nal = match data {
        [0, 0, 0, 1, n, ..] | [0, 0, 1, n, ..] => *n,
        _ => return false,
    };
    nal & 0x1f == 7
}

#[cfg(test)]
mod budget_tests {
    use super::*;

    #[test]
    fn the_input_budget_allows_a_burst_then_the_sustained_rate() {
        let t0 = Instant::now();
        let mut b = InputBudget::new(t0);
        let burst = (0..2 * INPUT_BURST as usize).filter(|_| b.take(t0)).count();
        assert_eq!(burst, INPUT_BURST as usize);
        assert!(!b.take(t0));
        // A tenth of a second later, a tenth of a second's worth.
        let t1 = t0 + Duration::from_millis(100);
        let more = (0..1000).filter(|_| b.take(t1)).count();
        assert_eq!(more, (INPUT_RATE / 10.0) as usize);
        // An idle minute refills only up to the burst.
        let t2 = t1 + Duration::from_secs(60);
        assert_eq!(
            (0..2000).filter(|_| b.take(t2)).count(),
            INPUT_BURST as usize
        );
        // Time going backwards takes nothing away.
        assert!(!b.take(t0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A player's offer with video only and no header extensions (add what a test needs).
    const BARE: playrack_client::media::Offer = playrack_client::media::Offer {
        audio: false,
        playout_delay: false,
        capture_time: false,
    };

    /// The native player's offer, as the agent receives it.
    fn test_offer(what: playrack_client::media::Offer) -> String {
        let local = "127.0.0.1:5000".parse().unwrap();
        playrack_client::media::Media::offer(local, what, Instant::now()).1
    }

    #[test]
    fn the_idle_warning_comes_a_quarter_of_the_idle_time_early_within_5_to_30_s() {
        let s = Duration::from_secs;
        assert_eq!(idle_warning_lead(s(120)), s(30));
        assert_eq!(idle_warning_lead(s(600)), s(30));
        assert_eq!(idle_warning_lead(s(40)), s(10));
        assert_eq!(idle_warning_lead(s(20)), s(5));
        assert_eq!(idle_warning_lead(s(3)), s(3));
    }

    #[test]
    fn key_frames_get_parameter_sets_only_when_missing() {
        assert!(starts_with_sps(&[0, 0, 0, 1, 0x67, 1]));
        assert!(starts_with_sps(&[0, 0, 1, 0x27]));
        assert!(!starts_with_sps(&[0, 0, 0, 1, 0x65]));
        assert!(!starts_with_sps(&[1, 2]));
    }

    #[test]
    fn offers_for_unknown_sessions_and_bad_sdp_are_refused() {
        let now = Instant::now();
        let mut e = Engine::new("127.0.0.1:9".parse().unwrap(), now);
        let err = e
            .add_peer("ses_x", PeerRole::Player, "v=0", now)
            .unwrap_err();
        assert_eq!(err.code, "NO_SESSION");
        e.add_session("ses_x", 360, 640, now);
        for bad in ["", "v=0", "hello\r\nworld", "v=0\r\nm=video 9 UDP 96\r\n"] {
            let err = e.add_peer("ses_x", PeerRole::Player, bad, now).unwrap_err();
            assert_eq!(err.code, "BAD_SDP", "{bad:?}");
        }
        assert_eq!(e.peer_count(), 0);
    }

    #[test]
    fn the_answer_maps_playout_delay_when_the_offer_does() {
        let now = Instant::now();
        let mut e = Engine::new("127.0.0.1:9".parse().unwrap(), now);
        e.add_session("s", 360, 640, now);
        let offer = |ext: bool| {
            test_offer(playrack_client::media::Offer {
                playout_delay: ext,
                ..BARE
            })
        };
        let (_, answer) = e
            .add_peer("s", PeerRole::Player, &offer(true), now)
            .unwrap();
        assert!(
            answer
                .contains("a=extmap:12 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"),
            "{answer}"
        );
        let (_, answer) = e
            .add_peer("s", PeerRole::Spectator, &offer(false), now)
            .unwrap();
        assert!(!answer.contains("playout-delay"), "{answer}");
    }

    #[test]
    fn the_answer_maps_abs_capture_time_when_the_offer_does() {
        let now = Instant::now();
        let mut e = Engine::new("127.0.0.1:9".parse().unwrap(), now);
        e.add_session("s", 360, 640, now);
        let offer = |ext: bool| {
            test_offer(playrack_client::media::Offer {
                capture_time: ext,
                ..BARE
            })
        };
        let (_, answer) = e
            .add_peer("s", PeerRole::Player, &offer(true), now)
            .unwrap();
        assert!(
            answer.contains(
                "a=extmap:14 http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time"
            ),
            "{answer}"
        );
        let (_, answer) = e
            .add_peer("s", PeerRole::Spectator, &offer(false), now)
            .unwrap();
        assert!(!answer.contains("abs-capture-time"), "{answer}");
    }

    #[test]
    fn a_frames_capture_instant_is_its_pts_on_the_fastest_frames_clock() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let ms = Duration::from_millis;
        let mut c = CaptureClock::default();
        // pts 0 arrives 8 ms after capture (unknown to the clock): it is the floor so far.
        assert_eq!(c.capture(t0, 0), t0);
        // pts 16.7 ms arrives 12 ms late against that floor: captured at t0 + 16.7 ms.
        assert_eq!(
            c.capture(t0 + ms(29), 16_700),
            t0 + Duration::from_micros(16_700)
        );
        // A faster frame moves the floor earlier; every capture stays before its arrival.
        assert_eq!(c.capture(t0 + ms(30), 33_400), t0 + ms(30));
        let later = c.capture(t0 + ms(60), 50_000);
        assert_eq!(later, t0 + ms(30) + Duration::from_micros(16_600));
        assert!(later <= t0 + ms(60));
        // A pts past the monotonic clock's start is taken as arriving at once.
        let mut c = CaptureClock::default();
        let huge = u64::MAX / 4;
        assert_eq!(c.capture(t0, huge), t0);
    }

    #[test]
    fn a_watch_link_admits_its_viewer_limit_and_no_more() {
        let now = Instant::now();
        let mut e = Engine::new("127.0.0.1:9".parse().unwrap(), now);
        e.add_session("s", 360, 640, now);
        let offer = || test_offer(BARE);
        let link = |id: &str, max| WatchClaim {
            link: id.into(),
            max_viewers: max,
        };
        let watch = |e: &mut Engine, l: &WatchClaim| {
            e.add_watcher("s", PeerRole::Spectator, Some(l), &offer(), now)
        };
        let (first, _) = watch(&mut e, &link("wat_a", 2)).unwrap();
        watch(&mut e, &link("wat_a", 2)).unwrap();
        let full = watch(&mut e, &link("wat_a", 2)).unwrap_err();
        assert_eq!(full.code, "WATCH_FULL");
        // Another link, and spectators of the operator's console, count apart.
        watch(&mut e, &link("wat_b", 1)).unwrap();
        e.add_peer("s", PeerRole::Spectator, &offer(), now).unwrap();
        // One leaves: the next gets in.
        e.remove_peer(first);
        watch(&mut e, &link("wat_a", 2)).unwrap();
    }

    #[test]
    fn the_games_clipboard_goes_to_its_players_only() {
        let now = Instant::now();
        let mut e = Engine::new("127.0.0.1:9".parse().unwrap(), now);
        e.add_session("s", 360, 640, now);
        e.add_session("t", 360, 640, now);
        let offer = || test_offer(BARE);
        let (player, _) = e.add_peer("s", PeerRole::Player, &offer(), now).unwrap();
        let (watcher, _) = e.add_peer("s", PeerRole::Spectator, &offer(), now).unwrap();
        let (other, _) = e.add_peer("t", PeerRole::Player, &offer(), now).unwrap();
        for id in [player, watcher, other] {
            e.peers.get_mut(&id).unwrap().connected = true;
        }
        while e.poll().is_some() {}
        e.tell_players(
            "s",
            AgentSignal::Clipboard {
                text: "礼包码".into(),
            },
        );
        let told: Vec<(PeerId, AgentSignal)> = std::iter::from_fn(|| e.poll())
            .filter_map(|o| match o {
                Output::Signal { peer, signal } => Some((peer, signal)),
                _ => None,
            })
            .collect();
        assert_eq!(
            told,
            vec![(
                player,
                AgentSignal::Clipboard {
                    text: "礼包码".into()
                }
            )]
        );
    }

    #[test]
    fn resets_are_throttled_to_one_a_second_and_the_wanted_one_follows() {
        let t0 = Instant::now();
        let mut e = Engine::new("127.0.0.1:9".parse().unwrap(), t0);
        e.add_session("s", 360, 640, t0);
        e.want_keyframe("s", t0);
        e.want_keyframe("s", t0 + Duration::from_millis(100));
        e.want_keyframe("s", t0 + Duration::from_millis(200));
        let resets = |e: &mut Engine| {
            std::iter::from_fn(|| e.poll())
                .filter(|o| {
                    matches!(
                        o,
                        Output::Control {
                            message: ControlMsg::ResetVideo,
                            ..
                        }
                    )
                })
                .count()
        };
        assert_eq!(resets(&mut e), 1);
        e.timeout(t0 + Duration::from_millis(300));
        assert!(
            e.next_deadline() <= t0 + RESET_INTERVAL,
            "wakes for the pending reset"
        );
        assert_eq!(resets(&mut e), 0);
        e.timeout(t0 + RESET_INTERVAL);
        assert_eq!(resets(&mut e), 1);
        assert_eq!(e.counters().video_resets, 2);
    }
}
