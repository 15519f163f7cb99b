//! The async shell on tokio: the agent's signaling WebSocket (hello → welcome → offer →
//! answer, then the agent's signals) and the media socket, around the sans-IO [`Media`].
//! [`Connection::next`] drives both and hands back one [`Event`] at a time, so a host's loop
//! (a test, a benchmark, the PC client's thread, the JNI layer's thread) decides what to keep.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use playrack_wire::api::ConnectInfo;
use playrack_wire::signaling::{AgentSignal, ClientSignal, PeerRole};
use tokio::net::{TcpStream, UdpSocket};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::media::{Media, MediaError, MediaEvent, Offer, Poll};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long the agent may take over each signaling step.
const STEP_TIMEOUT: Duration = Duration::from_secs(20);
/// Signals kept from before the answer (the agent's notices can come early); more are dropped.
const EARLY_SIGNALS: usize = 16;
/// The largest signal accepted from the agent (its SDP answers are a few kB).
const MAX_SIGNAL: usize = 256 * 1024;
/// The largest datagram read (str0m's MTU is below it).
const DATAGRAM: usize = 2048;

/// Why a connection could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot reach the agent's signaling: {0}")]
    Signaling(String),
    /// The agent answered with something else than the next step: its error, or `ended`.
    #[error("the agent refused: {0:?}")]
    Refused(AgentSignal),
    #[error("the agent closed signaling before the {0}")]
    Closed(&'static str),
    #[error("the agent took longer than {STEP_TIMEOUT:?} for the {0}")]
    Timeout(&'static str),
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error("the media socket: {0}")]
    Io(#[from] std::io::Error),
}

/// What [`Connection::next`] hands back.
#[derive(Debug, Clone)]
pub enum Event {
    Media(MediaEvent),
    /// A signal from the agent (stats, notices, errors, clipboard, `ended`).
    Signal(AgentSignal),
    /// The signaling socket closed (once).
    SignalingClosed,
}

/// One play's connection to its agent. See the module doc.
pub struct Connection {
    media: Media,
    socket: UdpSocket,
    ws: Option<Ws>,
    early: VecDeque<AgentSignal>,
    wake: Instant,
    buf: Vec<u8>,
    connected: bool,
    loss: Option<u32>,
    received: u64,
    dropped: u64,
}

impl Connection {
    /// Signals with the agent at `url` with `token` as `role`, offering `offer` for media on
    /// `socket` (bound where the agent can reach it); `tls` overrides the trusted roots of a
    /// `wss://` URL (the system's otherwise).
    pub async fn open(
        url: &str,
        token: &str,
        role: PeerRole,
        socket: UdpSocket,
        offer: Offer,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> Result<Connection, ConnectError> {
        let connector = tls.map(tokio_tungstenite::Connector::Rustls);
        let limits = WebSocketConfig::default()
            .max_message_size(Some(MAX_SIGNAL))
            .max_frame_size(Some(MAX_SIGNAL));
        let (mut ws, _) = tokio::time::timeout(
            STEP_TIMEOUT,
            // no Nagle: input-sized signals go out at once
            tokio_tungstenite::connect_async_tls_with_config(url, Some(limits), true, connector),
        )
        .await
        .map_err(|_| ConnectError::Timeout("connection"))?
        .map_err(|e| ConnectError::Signaling(e.to_string()))?;
        let hello = ClientSignal::Hello {
            token: token.into(),
            role,
        };
        send(&mut ws, &hello).await?;
        match step(&mut ws, "welcome").await? {
            AgentSignal::Welcome { .. } => {}
            other => return Err(ConnectError::Refused(other)),
        }
        let local = socket.local_addr()?;
        let (mut media, sdp) = Media::offer(local, offer, Instant::now());
        send(&mut ws, &ClientSignal::Offer { sdp }).await?;
        let mut early = VecDeque::new();
        loop {
            match step(&mut ws, "answer").await? {
                AgentSignal::Answer { sdp } => {
                    media.accept_answer(&sdp)?;
                    break;
                }
                s @ (AgentSignal::Notice { .. } | AgentSignal::Stats { .. }) => {
                    if early.len() < EARLY_SIGNALS {
                        early.push_back(s);
                    }
                }
                other => return Err(ConnectError::Refused(other)),
            }
        }
        Ok(Connection {
            media,
            socket,
            ws: Some(ws),
            early,
            wake: Instant::now(),
            buf: vec![0; DATAGRAM],
            connected: false,
            loss: None,
            received: 0,
            dropped: 0,
        })
    }

    /// A player's connection with the default offer: the media socket on the route to the
    /// agent named in `info`, then signaling with its connect token.
    pub async fn player(info: &ConnectInfo) -> Result<Connection, ConnectError> {
        let socket = media_socket(&info.signaling_url).await?;
        let (url, token) = (&info.signaling_url, &info.token);
        Connection::open(url, token, PeerRole::Player, socket, Offer::default(), None).await
    }

    /// The media side: send input, ask for a key frame.
    pub fn media(&mut self) -> &mut Media {
        &mut self.media
    }

    /// The media socket's address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Sends a signal to the agent; false when signaling is closed.
    pub async fn signal(&mut self, s: &ClientSignal) -> bool {
        match self.ws.as_mut() {
            Some(ws) => send(ws, s).await.is_ok(),
            None => false,
        }
    }

    /// Says `bye` (the play ends for the agent at once) and closes the media side.
    pub async fn bye(&mut self) {
        self.signal(&ClientSignal::Bye).await;
        self.media.close();
    }

    /// Loses every `n`-th datagram that arrives once connected (a lossy network, for tests and
    /// benchmarks of recovery); `None` loses nothing.
    pub fn simulate_loss(&mut self, one_in: Option<u32>) {
        self.loss = one_in.filter(|n| *n > 0);
    }

    /// Datagrams [`Connection::simulate_loss`] threw away.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Drives signaling, the media socket and the media side's timers until something happens,
    /// or `None` at `deadline`.
    pub async fn next(&mut self, deadline: Instant) -> Option<Event> {
        if let Some(s) = self.early.pop_front() {
            return Some(Event::Signal(s));
        }
        loop {
            // everything the media side has to say first
            loop {
                match self.media.poll() {
                    Ok(Poll::Timeout(t)) => {
                        self.wake = t;
                        break;
                    }
                    Ok(Poll::Transmit {
                        destination,
                        contents,
                    }) => {
                        let _ = self.socket.try_send_to(&contents, destination);
                    }
                    Ok(Poll::Event(e)) => {
                        if matches!(e, MediaEvent::Connected) {
                            self.connected = true;
                        }
                        return Some(Event::Media(e));
                    }
                    Err(_) => {
                        // str0m gave up on the peer: nothing more will come from it
                        self.wake = deadline;
                        break;
                    }
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            let wait = self.wake.min(deadline).saturating_duration_since(now);
            let ws = self.ws.as_mut();
            let signal = async {
                match ws {
                    Some(ws) => ws.next().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                r = self.socket.recv_from(&mut self.buf) => {
                    if let Ok((n, source)) = r {
                        self.received += 1;
                        let lost = self.connected
                            && self.loss.is_some_and(|k| self.received.is_multiple_of(u64::from(k)));
                        if lost {
                            self.dropped += 1;
                        } else {
                            self.media.receive(Instant::now(), source, &self.buf[..n]);
                        }
                    }
                }
                m = signal => match m {
                    Some(Ok(Message::Text(t))) => {
                        // a signal this build does not know is skipped, not fatal
                        if let Ok(s) = serde_json::from_str::<AgentSignal>(&t) {
                            return Some(Event::Signal(s));
                        }
                    }
                    Some(Ok(_)) => {}
                    _ => {
                        self.ws = None;
                        return Some(Event::SignalingClosed);
                    }
                },
                _ = tokio::time::sleep(wait) => {
                    let _ = self.media.timeout(Instant::now());
                }
            }
        }
    }
}

async fn send(ws: &mut Ws, signal: &ClientSignal) -> Result<(), ConnectError> {
    let text = serde_json::to_string(signal).expect("client signals serialize");
    ws.send(Message::Text(text.into()))
        .await
        .map_err(|e| ConnectError::Signaling(e.to_string()))
}

/// The agent's next signal, within [`STEP_TIMEOUT`].
async fn step(ws: &mut Ws, what: &'static str) -> Result<AgentSignal, ConnectError> {
    let deadline = tokio::time::Instant::now() + STEP_TIMEOUT;
    loop {
        let m = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| ConnectError::Timeout(what))?;
        match m {
            Some(Ok(Message::Text(t))) => {
                return serde_json::from_str(&t).map_err(|e| {
                    ConnectError::Signaling(format!("a bad signal before the {what}: {e}"))
                });
            }
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                return Err(ConnectError::Closed(what));
            }
            Some(Ok(_)) => {}
        }
    }
}

/// A media socket on this machine's address on the route to the agent's signaling host (the
/// address the agent's ICE will answer to; a socket on the unspecified address has none to
/// offer).
pub async fn media_socket(signaling_url: &str) -> std::io::Result<UdpSocket> {
    let bad = |what: &str| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{what}: {signaling_url}"),
        )
    };
    let url = tokio_tungstenite::tungstenite::http::Uri::try_from(signaling_url)
        .map_err(|_| bad("not a signaling URL"))?;
    let host = url
        .host()
        .ok_or_else(|| bad("no host in the signaling URL"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = url
        .port_u16()
        .unwrap_or(if url.scheme_str() == Some("wss") {
            443
        } else {
            80
        });
    let target = tokio::net::lookup_host((host, port))
        .await?
        .next()
        .ok_or_else(|| bad("the signaling host has no address"))?;
    let any: std::net::IpAddr = if target.is_ipv4() {
        std::net::Ipv4Addr::UNSPECIFIED.into()
    } else {
        std::net::Ipv6Addr::UNSPECIFIED.into()
    };
    // connecting a UDP socket sends nothing: it only picks the route and so the address
    let probe = std::net::UdpSocket::bind((any, 0))?;
    probe.connect(target)?;
    UdpSocket::bind((probe.local_addr()?.ip(), 0)).await
}
