//! The project's native player in tests and benchmarks: `playrack-client`'s connection (the
//! offer the H5 SDK makes, str0m on a real UDP socket, the agent's signaling) and its openh264
//! decoder, with counters over what arrives. The raw signaling helpers below are for tests of
//! what the agent refuses.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use android_injector::game::LumaRef;
use futures_util::{SinkExt, StreamExt};
use playrack_client::connection::{ConnectError, Connection, Event};
use playrack_client::decode::Decoder;
use playrack_client::media::{MediaEvent, Offer};
use playrack_client::stats::StatsTracker;
use playrack_wire::input::InputMessage;
use playrack_wire::signaling::{AgentSignal, ClientSignal, PeerRole, StreamStats};
use tokio::net::{TcpStream, UdpSocket};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The last decoded picture, readable as the game's luma.
pub struct Picture(playrack_client::decode::Picture);

impl std::ops::Deref for Picture {
    type Target = playrack_client::decode::Picture;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Picture {
    pub fn luma(&self) -> LumaRef<'_> {
        LumaRef {
            data: &self.0.y,
            width: self.0.width,
            height: self.0.height,
            stride: self.0.width,
        }
    }
}

pub struct Peer {
    conn: Connection,
    decoder: Decoder,
    pub connected: bool,
    pub channel_open: bool,
    pub video_frames: u32,
    pub keyframes: u32,
    pub decoded: u32,
    pub decode_errors: u32,
    pub audio_packets: u32,
    /// Video frames that came with the `playout-delay` extension saying min = max = 0.
    pub zero_playout_delay_frames: u32,
    /// Video frames that came with an `abs-capture-time` no later than their arrival here.
    pub captured_frames: u32,
    /// The largest arrival − capture seen, ms (the device's encode and the relay beyond the
    /// fastest frame's).
    pub max_capture_to_arrival_ms: f64,
    /// The longest a frame took from its first RTP packet's arrival to its last's (when
    /// str0m hands the frame over): slices sent as they are encoded spread a frame out.
    pub max_first_to_last_packet: Duration,
    pub picture: Option<Picture>,
    /// Signals received while driving (stats, notices, errors, ended).
    pub signals: Vec<AgentSignal>,
    pub ws_closed: bool,
    /// What `stats()` says (the native player's, the H5 SDK's fields).
    pub stats: StatsTracker,
}

impl Peer {
    /// Signals with the agent at `url` (hello → welcome → offer → answer) and returns the
    /// connected-to-be peer, or the agent's refusal.
    pub async fn connect(url: &str, token: &str, role: PeerRole) -> Result<Peer, AgentSignal> {
        Self::connect_from(url, token, role, std::net::Ipv4Addr::LOCALHOST.into()).await
    }

    /// [`Peer::connect`] with the media socket at `ip`.
    pub async fn connect_from(
        url: &str,
        token: &str,
        role: PeerRole,
        ip: std::net::IpAddr,
    ) -> Result<Peer, AgentSignal> {
        let socket = UdpSocket::bind((ip, 0)).await.unwrap();
        Self::connect_on(url, token, role, socket).await
    }

    /// [`Peer::connect`] with the media on `socket`.
    pub async fn connect_on(
        url: &str,
        token: &str,
        role: PeerRole,
        socket: UdpSocket,
    ) -> Result<Peer, AgentSignal> {
        Self::connect_trusting(url, token, role, socket, None).await
    }

    /// [`Peer::connect_on`], for a `wss://` URL trusting what `tls` trusts.
    pub async fn connect_trusting(
        url: &str,
        token: &str,
        role: PeerRole,
        socket: UdpSocket,
        tls: Option<std::sync::Arc<rustls::ClientConfig>>,
    ) -> Result<Peer, AgentSignal> {
        let conn = match Connection::open(url, token, role, socket, Offer::default(), tls).await {
            Ok(c) => c,
            Err(ConnectError::Refused(s)) => return Err(s),
            Err(e) => panic!("signaling with {url}: {e}"),
        };
        Ok(Peer {
            conn,
            decoder: Decoder::new().unwrap(),
            connected: false,
            channel_open: false,
            video_frames: 0,
            keyframes: 0,
            decoded: 0,
            decode_errors: 0,
            audio_packets: 0,
            zero_playout_delay_frames: 0,
            captured_frames: 0,
            max_capture_to_arrival_ms: 0.0,
            max_first_to_last_packet: Duration::ZERO,
            picture: None,
            signals: Vec::new(),
            ws_closed: false,
            stats: StatsTracker::new(Instant::now()),
        })
    }

    /// Sends a text message on the DataChannel `input`.
    pub fn send_input(&mut self, text: &str) -> bool {
        self.conn.media().send_raw_input(text)
    }

    /// Sends an input message on the channel it belongs to.
    pub fn send(&mut self, message: &InputMessage) -> bool {
        self.conn.media().send_input(message)
    }

    /// Sends a text message on the DataChannel `sensors`.
    pub fn send_sensor(&mut self, text: &str) -> bool {
        self.conn.media().send_raw_sensor(text)
    }

    /// Asks the sender for a key frame (PLI).
    pub fn request_keyframe(&mut self) {
        self.conn.media().request_keyframe();
    }

    /// Loses every `n`-th datagram that arrives once connected (a lossy network).
    pub fn simulate_loss(&mut self, one_in: Option<u32>) {
        self.conn.simulate_loss(one_in);
    }

    /// Datagrams the simulated loss threw away.
    pub fn dropped(&self) -> u64 {
        self.conn.dropped()
    }

    /// Sends `bye` on the signaling socket.
    pub async fn bye(&mut self) {
        self.conn.signal(&ClientSignal::Bye).await;
    }

    /// Drives the peer (UDP, timers, signaling) until `done` holds or `timeout` passes.
    pub async fn run_until(
        &mut self,
        timeout: Duration,
        mut done: impl FnMut(&Peer) -> bool,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if done(self) {
                return true;
            }
            match self.conn.next(deadline).await {
                None => return done(self),
                Some(e) => self.on_event(e),
            }
            self.stats.tick(Instant::now());
        }
    }

    fn on_event(&mut self, e: Event) {
        match e {
            Event::Signal(s) => {
                if let AgentSignal::Stats { stats } = &s {
                    self.stats.agent(stats.clone());
                }
                self.signals.push(s)
            }
            Event::Media(MediaEvent::Received(r)) => self.stats.received(&r),
            Event::SignalingClosed => self.ws_closed = true,
            Event::Media(MediaEvent::Connected) => self.connected = true,
            Event::Media(MediaEvent::InputOpen) => self.channel_open = true,
            Event::Media(MediaEvent::Disconnected) => {}
            Event::Media(MediaEvent::Audio(_)) => self.audio_packets += 1,
            Event::Media(MediaEvent::Video(au)) => {
                self.video_frames += 1;
                self.stats.access_unit(&au, SystemTime::now());
                self.max_first_to_last_packet = self
                    .max_first_to_last_packet
                    .max(Instant::now().saturating_duration_since(au.arrived));
                if au.zero_playout_delay {
                    self.zero_playout_delay_frames += 1;
                }
                // not after its arrival: the fastest frame's capture is its arrival at the
                // relay, a loopback hop before this one
                if let Some(c) = au.captured
                    && let Ok(age) = SystemTime::now().duration_since(c)
                {
                    self.captured_frames += 1;
                    self.max_capture_to_arrival_ms =
                        self.max_capture_to_arrival_ms.max(age.as_secs_f64() * 1e3);
                }
                if au.keyframe {
                    self.keyframes += 1;
                }
                let started = Instant::now();
                match self.decoder.decode(&au.data) {
                    Ok(Some(picture)) => {
                        self.decoded += 1;
                        let (w, h) = (picture.width as u32, picture.height as u32);
                        self.stats.decoded(w, h, started.elapsed());
                        self.picture = Some(Picture(picture));
                    }
                    Ok(None) => {}
                    Err(_) => {
                        self.decode_errors += 1;
                        self.conn.media().recover(Instant::now());
                    }
                }
            }
        }
    }

    /// The latest stats signal, if any.
    pub fn last_stats(&self) -> Option<&StreamStats> {
        self.signals.iter().rev().find_map(|s| match s {
            AgentSignal::Stats { stats } => Some(stats),
            _ => None,
        })
    }

    /// The media socket's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.conn.local_addr().unwrap()
    }
}

pub async fn send(ws: &mut Ws, signal: &ClientSignal) {
    ws.send(Message::Text(serde_json::to_string(signal).unwrap().into()))
        .await
        .unwrap();
}

pub async fn send_raw(ws: &mut Ws, text: &str) {
    ws.send(Message::Text(text.to_owned().into()))
        .await
        .unwrap();
}

/// The next agent signal, or `None` when the socket closed.
pub async fn recv(ws: &mut Ws) -> Option<AgentSignal> {
    let deadline = Duration::from_secs(20);
    loop {
        match tokio::time::timeout(deadline, ws.next())
            .await
            .expect("a signal in time")
        {
            Some(Ok(Message::Text(t))) => {
                return Some(serde_json::from_str(&t).expect("agent signals parse"));
            }
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

/// Opens a signaling socket, for tests of what the agent refuses.
pub async fn open(url: &str) -> Ws {
    tokio_tungstenite::connect_async(url)
        .await
        .expect("signaling")
        .0
}
