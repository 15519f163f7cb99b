//! A native WebRTC client for tests: str0m on the client side (full ICE, controlling), a real
//! UDP socket on loopback, the signaling WebSocket through tokio-tungstenite, and openh264
//! decoding what arrives. It offers what the H5 SDK offers: receive-only video and audio and
//! the DataChannels `input` and `sensors`.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use android_injector::game::LumaRef;
use futures_util::{SinkExt, StreamExt};
use openh264::decoder::Decoder;
use openh264::formats::YUVSource;
use playrack_wire::signaling::{AgentSignal, ClientSignal, PeerRole, StreamStats};
use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::channel::ChannelId;
use str0m::media::{Direction, KeyframeRequestKind, MediaKind, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc, RtcConfig};
use tokio::net::{TcpStream, UdpSocket};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The last decoded picture's luma, tightly packed.
pub struct Picture {
    pub luma: Vec<u8>,
    pub width: usize,
    pub height: usize,
}

impl Picture {
    pub fn luma(&self) -> LumaRef<'_> {
        LumaRef {
            data: &self.luma,
            width: self.width,
            height: self.height,
            stride: self.width,
        }
    }
}

pub struct Peer {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    pending: Option<SdpPendingOffer>,
    channel: ChannelId,
    sensors: ChannelId,
    video_mid: Mid,
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
    pub picture: Option<Picture>,
    pub ws: Option<Ws>,
    /// Signals received while driving (stats, notices, errors, ended).
    pub signals: Vec<AgentSignal>,
    pub ws_closed: bool,
    /// Once connected, drop every n-th datagram that arrives (a lossy network).
    pub drop_one_in: Option<u32>,
    /// When the client last asked for a key frame (as browsers do after a loss they could not
    /// repair: at most once a second).
    last_pli: Option<Instant>,
    received: u64,
    pub dropped: u64,
}

impl Peer {
    /// A peer on a fresh loopback socket and its SDP offer.
    pub async fn new() -> (Peer, String) {
        Self::new_at(std::net::Ipv4Addr::LOCALHOST.into()).await
    }

    /// A peer on a fresh socket at `ip` (an address the agent can reach) and its SDP offer.
    pub async fn new_at(ip: std::net::IpAddr) -> (Peer, String) {
        Self::new_on(UdpSocket::bind((ip, 0)).await.unwrap())
    }

    /// A peer on `socket` (bound where the agent can reach it, e.g. in a network namespace)
    /// and its SDP offer.
    pub fn new_on(socket: UdpSocket) -> (Peer, String) {
        let local = socket.local_addr().unwrap();
        // Chromium's offer maps `playout-delay` (at an id of its own choosing).
        let mut rtc = RtcConfig::new()
            .clear_codecs()
            .enable_h264(true)
            .enable_opus(true, false)
            .set_extension(12, str0m::rtp::Extension::PlayoutDelay)
            .set_extension(14, str0m::rtp::Extension::AbsoluteCaptureTime)
            .build(Instant::now());
        rtc.add_local_candidate(Candidate::host(local, "udp").unwrap());
        let mut change = rtc.sdp_api();
        let video_mid = change.add_media(MediaKind::Video, Direction::RecvOnly, None, None, None);
        change.add_media(MediaKind::Audio, Direction::RecvOnly, None, None, None);
        let channel = change.add_channel("input".into());
        let sensors = change.add_channel("sensors".into());
        let (offer, pending) = change.apply().unwrap();
        let peer = Peer {
            rtc,
            socket,
            local,
            pending: Some(pending),
            channel,
            sensors,
            video_mid,
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
            picture: None,
            ws: None,
            signals: Vec::new(),
            ws_closed: false,
            drop_one_in: None,
            last_pli: None,
            received: 0,
            dropped: 0,
        };
        (peer, offer.to_sdp_string())
    }

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
        let (mut ws, _) = tokio_tungstenite::connect_async_tls_with_config(
            url,
            None,
            false,
            tls.map(tokio_tungstenite::Connector::Rustls),
        )
        .await
        .expect("signaling");
        send(
            &mut ws,
            &ClientSignal::Hello {
                token: token.into(),
                role,
            },
        )
        .await;
        match recv(&mut ws).await {
            Some(AgentSignal::Welcome { .. }) => {}
            Some(other) => return Err(other),
            None => panic!("the signaling socket closed before welcome"),
        }
        let (mut peer, offer) = Peer::new_on(socket);
        send(&mut ws, &ClientSignal::Offer { sdp: offer }).await;
        match recv(&mut ws).await {
            Some(AgentSignal::Answer { sdp }) => peer.accept_answer(&sdp),
            Some(other) => return Err(other),
            None => panic!("the signaling socket closed before the answer"),
        }
        peer.ws = Some(ws);
        Ok(peer)
    }

    pub fn accept_answer(&mut self, sdp: &str) {
        let answer = SdpAnswer::from_sdp_string(sdp).expect("the agent's answer parses");
        self.rtc
            .sdp_api()
            .accept_answer(self.pending.take().expect("an offer is pending"), answer)
            .expect("the answer is accepted");
    }

    /// Sends a text message on the DataChannel `input`.
    pub fn send_input(&mut self, text: &str) -> bool {
        match self.rtc.channel(self.channel) {
            Some(mut c) => c.write(false, text.as_bytes()).is_ok(),
            None => false,
        }
    }

    /// Sends a text message on the DataChannel `sensors`.
    pub fn send_sensor(&mut self, text: &str) -> bool {
        match self.rtc.channel(self.sensors) {
            Some(mut c) => c.write(false, text.as_bytes()).is_ok(),
            None => false,
        }
    }

    /// A PLI, at most once a second.
    fn recover(&mut self) {
        if self
            .last_pli
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(1))
        {
            self.last_pli = Some(Instant::now());
            self.request_keyframe();
        }
    }

    /// Asks the sender for a key frame (PLI).
    pub fn request_keyframe(&mut self) {
        if let Some(mut w) = self.rtc.writer(self.video_mid) {
            let _ = w.request_keyframe(None, KeyframeRequestKind::Pli);
        }
    }

    /// Sends `bye` on the signaling socket.
    pub async fn bye(&mut self) {
        if let Some(ws) = self.ws.as_mut() {
            send(ws, &ClientSignal::Bye).await;
        }
    }

    /// Drives the peer (UDP, timers, signaling) until `done` holds or `timeout` passes.
    pub async fn run_until(
        &mut self,
        timeout: Duration,
        mut done: impl FnMut(&Peer) -> bool,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        let mut buf = vec![0u8; 2048];
        loop {
            let wake = self.drain();
            if done(self) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            let wait = wake
                .min(deadline)
                .saturating_duration_since(now)
                .max(Duration::from_millis(1));
            let ws_next = async {
                match self.ws.as_mut() {
                    Some(ws) if !self.ws_closed => ws.next().await,
                    _ => std::future::pending().await,
                }
            };
            tokio::select! {
                r = self.socket.recv_from(&mut buf) => {
                    self.received += 1;
                    let lost = self.connected
                        && self.drop_one_in.is_some_and(|n| self.received.is_multiple_of(u64::from(n)));
                    if lost {
                        self.dropped += 1;
                    } else if let Ok((n, source)) = r
                        && let Ok(contents) = buf[..n].try_into()
                    {
                        let input = Input::Receive(Instant::now(), Receive {
                            proto: Protocol::Udp,
                            source,
                            destination: self.local,
                            contents,
                        });
                        let _ = self.rtc.handle_input(input);
                    }
                }
                m = ws_next => match m {
                    Some(Ok(Message::Text(t))) => {
                        if let Ok(s) = serde_json::from_str::<AgentSignal>(&t) {
                            self.signals.push(s);
                        }
                    }
                    Some(Ok(_)) => {}
                    _ => self.ws_closed = true,
                },
                _ = tokio::time::sleep(wait) => {
                    let _ = self.rtc.handle_input(Input::Timeout(Instant::now()));
                }
            }
        }
    }

    /// Polls str0m until it wants time; returns when.
    fn drain(&mut self) -> Instant {
        loop {
            match self.rtc.poll_output() {
                Ok(Output::Timeout(t)) => return t,
                Ok(Output::Transmit(t)) => {
                    let _ = self.socket.try_send_to(&t.contents, t.destination);
                }
                Ok(Output::Event(e)) => self.on_event(e),
                Err(e) => panic!("client rtc failed: {e}"),
            }
        }
    }

    fn on_event(&mut self, e: Event) {
        match e {
            Event::Connected => self.connected = true,
            Event::ChannelOpen(id, _) if id == self.channel => self.channel_open = true,
            Event::MediaData(d) => {
                if d.mid == self.video_mid {
                    self.video_frames += 1;
                    let zero = Some(str0m::media::MediaTime::ZERO);
                    if d.ext_vals.play_delay_min == zero && d.ext_vals.play_delay_max == zero {
                        self.zero_playout_delay_frames += 1;
                    }
                    if let Some(c) = d.ext_vals.abs_capture_time
                        && let Ok(age) = std::time::SystemTime::now().duration_since(c.capture_time)
                    {
                        self.captured_frames += 1;
                        self.max_capture_to_arrival_ms =
                            self.max_capture_to_arrival_ms.max(age.as_secs_f64() * 1e3);
                    }
                    // A gap the retransmissions did not fill: ask for a key frame.
                    if !d.contiguous {
                        self.recover();
                    }
                    if d.is_keyframe() {
                        self.keyframes += 1;
                    }
                    match self.decoder.decode(&d.data) {
                        Ok(Some(yuv)) => {
                            let (w, h) = yuv.dimensions();
                            let stride = yuv.strides().0;
                            let y = yuv.y();
                            let mut luma = Vec::with_capacity(w * h);
                            for row in 0..h {
                                luma.extend_from_slice(&y[row * stride..row * stride + w]);
                            }
                            self.decoded += 1;
                            self.picture = Some(Picture {
                                luma,
                                width: w,
                                height: h,
                            });
                        }
                        Ok(None) => {}
                        Err(_) => {
                            self.decode_errors += 1;
                            self.recover();
                        }
                    }
                } else {
                    self.audio_packets += 1;
                }
            }
            _ => {}
        }
    }

    /// The latest stats signal, if any.
    pub fn last_stats(&self) -> Option<&StreamStats> {
        self.signals.iter().rev().find_map(|s| match s {
            AgentSignal::Stats { stats } => Some(stats),
            _ => None,
        })
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
