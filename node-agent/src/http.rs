//! The agent's HTTP server: the signaling WebSocket players and spectators open
//! (`/v1/signal`), the RTT probe clients time before acquiring (`/probe`), `/healthz` and
//! Prometheus `/metrics`.
//!
//! A signaling socket's life (the messages are `playrack_wire::signaling`):
//! 1. the first message must be `hello {token, role}` within [`HELLO_TIMEOUT`]; the
//!    [`Gate`] checks it offline, and the token's session must be streaming here;
//! 2. `welcome {session_id, ice_servers}`; then one `offer {sdp}`, answered with
//!    `answer {sdp}` by the relay (ICE-lite: the answer carries the relay's candidate, so the
//!    client's `candidate` messages are accepted and ignored);
//! 3. the relay's `stats`, `notice`, `error` and finally `ended {reason}` follow; `bye` or
//!    closing the socket removes the peer.
//!
//! Anything malformed gets `error {code, message}` and the socket is closed; other sessions
//! never notice. At most [`MAX_PENDING_HELLOS`] sockets may be waiting to say hello at once;
//! past that, an upgrade is refused with `503 SIGNALING_BUSY` (and `Retry-After`) before it
//! costs a task, so a flood of idle sockets holds a bounded amount of the board.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use playrack_wire::agent::InstanceReport;
use playrack_wire::signaling::{AgentSignal, ClientSignal, IceServer, MAX_SIGNALING_MESSAGE_BYTES};
use tokio::sync::mpsc;

use crate::relay::Relay;
use crate::relay::engine::{LATENCY_BUCKETS_MS, LatencyHistogram};
use crate::signaling::Gate;

/// How long a new socket may take to say hello.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Sockets that may be waiting for their hello at once (a board streams to a few dozen
/// players; each says hello within a round trip of connecting).
pub const MAX_PENDING_HELLOS: usize = 64;

/// What the handlers share.
#[derive(Clone)]
pub struct HttpState {
    pub gate: Arc<Mutex<Gate>>,
    pub relay: Relay,
    pub ice_servers: Vec<IceServer>,
    /// Signaling sockets refused (any reason), for `/metrics`.
    pub refused: Arc<std::sync::atomic::AtomicU64>,
    /// Turns for sockets that have not said hello yet ([`MAX_PENDING_HELLOS`]).
    pub pending_hellos: Arc<tokio::sync::Semaphore>,
    /// The board's instances now, for `/metrics` (by state and video encoder).
    pub instances: Arc<dyn Fn() -> Vec<InstanceReport> + Send + Sync>,
}

impl HttpState {
    pub fn new(gate: Gate, relay: Relay, ice_servers: Vec<IceServer>) -> HttpState {
        HttpState {
            gate: Arc::new(Mutex::new(gate)),
            relay,
            ice_servers,
            refused: Arc::default(),
            pending_hellos: Arc::new(tokio::sync::Semaphore::new(MAX_PENDING_HELLOS)),
            instances: Arc::new(Vec::new),
        }
    }

    /// Where `/metrics` reads the board's instances from.
    pub fn with_instances(
        mut self,
        instances: impl Fn() -> Vec<InstanceReport> + Send + Sync + 'static,
    ) -> HttpState {
        self.instances = Arc::new(instances);
        self
    }
}

/// `playrack_agent_instances{state, encoder}`: how many of the board's instances are in each
/// state, by the video encoder of their current or last play (`none` before their first).
fn instance_lines(instances: &[InstanceReport]) -> String {
    let mut counts: std::collections::BTreeMap<(String, String), u64> = Default::default();
    for i in instances {
        let state = serde_json::to_value(i.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let encoder = i.encoder.clone().unwrap_or_else(|| "none".into());
        *counts.entry((state, encoder)).or_default() += 1;
    }
    let label = |v: &str| {
        v.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    };
    let mut out = String::from(
        "# HELP playrack_agent_instances Instances by state and the video encoder of their current or last play.\n\
         # TYPE playrack_agent_instances gauge\n",
    );
    for ((state, encoder), n) in counts {
        out.push_str(&format!(
            "playrack_agent_instances{{state=\"{}\",encoder=\"{}\"}} {n}\n",
            label(&state),
            label(&encoder)
        ));
    }
    out
}

/// The router (see the module doc).
pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/v1/signal", get(signal))
        .route("/probe", get(probe))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Serves `router` on `listener` (over TLS when `tls` is given) until the task is aborted.
pub fn serve(
    listener: tokio::net::TcpListener,
    tls: Option<playrack_tls::ServerTls>,
    state: HttpState,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let forever = std::future::pending::<()>();
        if let Err(e) = playrack_tls::serve(listener, router(state), tls, forever).await {
            tracing::error!("agent HTTP server: {e}");
        }
    })
}

/// ICE servers for players from the configured `stun:` and `turn:user:password@host:port`
/// URLs.
pub fn ice_servers(stun: &[String], turn: &[String]) -> Vec<IceServer> {
    let mut out: Vec<IceServer> = stun
        .iter()
        .map(|u| IceServer {
            urls: vec![u.clone()],
            username: None,
            credential: None,
        })
        .collect();
    for t in turn {
        let rest = t.strip_prefix("turn:").unwrap_or(t);
        match rest.rsplit_once('@') {
            Some((creds, host)) => {
                let (user, pass) = creds.split_once(':').unwrap_or((creds, ""));
                out.push(IceServer {
                    urls: vec![format!("turn:{host}")],
                    username: Some(user.to_owned()),
                    credential: Some(pass.to_owned()),
                });
            }
            None => out.push(IceServer {
                urls: vec![format!("turn:{rest}")],
                username: None,
                credential: None,
            }),
        }
    }
    out
}

async fn probe() -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response()
}

/// The touch-to-screen histogram, in seconds as Prometheus names durations.
fn latency_lines(h: &LatencyHistogram) -> String {
    let name = "playrack_agent_touch_to_screen_seconds";
    let mut out = format!(
        "# HELP {name} Touch-to-screen latency the players measured (input sent → first frame showing it).\n# TYPE {name} histogram\n"
    );
    let mut cumulative = 0;
    for (i, n) in h.buckets.iter().enumerate() {
        cumulative += n;
        let le = LATENCY_BUCKETS_MS.get(i).map_or("+Inf".to_owned(), |ms| {
            format!("{}", f64::from(*ms) / 1000.0)
        });
        out.push_str(&format!("{name}_bucket{{le=\"{le}\"}} {cumulative}\n"));
    }
    out.push_str(&format!(
        "{name}_sum {}\n{name}_count {}\n",
        h.sum_ms / 1000.0,
        h.count
    ));
    out
}

async fn metrics(State(s): State<HttpState>) -> Response {
    let snap = s.relay.snapshot();
    let c = snap.counters;
    let refused = s.refused.load(std::sync::atomic::Ordering::Relaxed);
    let mut out = String::new();
    for (name, kind, help, v) in [
        (
            "playrack_agent_relay_sessions",
            "gauge",
            "Plays attached to the relay.",
            snap.sessions as u64,
        ),
        (
            "playrack_agent_relay_peers",
            "gauge",
            "WebRTC peers (players and spectators).",
            snap.peers as u64,
        ),
        (
            "playrack_agent_video_frames_total",
            "counter",
            "H.264 access units read from injectors.",
            c.video_frames_in,
        ),
        (
            "playrack_agent_audio_frames_total",
            "counter",
            "Opus packets read from injectors.",
            c.audio_frames_in,
        ),
        (
            "playrack_agent_media_bytes_total",
            "counter",
            "Media bytes read from injectors.",
            c.media_bytes_in,
        ),
        (
            "playrack_agent_datagrams_sent_total",
            "counter",
            "UDP datagrams sent to peers.",
            c.datagrams_out,
        ),
        (
            "playrack_agent_bytes_sent_total",
            "counter",
            "UDP bytes sent to peers.",
            c.bytes_out,
        ),
        (
            "playrack_agent_datagrams_unmatched_total",
            "counter",
            "Datagrams no peer accepted.",
            c.datagrams_unmatched,
        ),
        (
            "playrack_agent_inputs_total",
            "counter",
            "Input messages received.",
            c.inputs,
        ),
        (
            "playrack_agent_inputs_dropped_total",
            "counter",
            "Input messages refused (malformed, oversized, spectators).",
            c.inputs_dropped,
        ),
        (
            "playrack_agent_video_resets_total",
            "counter",
            "RESET_VIDEO requests sent to injectors.",
            c.video_resets,
        ),
        (
            "playrack_agent_video_bitrate_changes_total",
            "counter",
            "SET_VIDEO_BIT_RATE messages sent to injectors (the video following players' links).",
            c.bitrate_changes,
        ),
        (
            "playrack_agent_signaling_refused_total",
            "counter",
            "Signaling sockets refused.",
            refused,
        ),
    ] {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}\n"
        ));
    }
    out.push_str(&latency_lines(&c.latency));
    out.push_str(&instance_lines(&(s.instances)()));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

async fn signal(State(s): State<HttpState>, ws: WebSocketUpgrade) -> Response {
    let Ok(turn) = s.pending_hellos.clone().try_acquire_owned() else {
        s.refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let problem = playrack_wire::Problem::new(
            503,
            "SIGNALING_BUSY",
            "Service Unavailable",
            "too many connections are waiting to say hello; retry shortly",
        );
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [
                (header::CONTENT_TYPE, "application/problem+json"),
                (header::RETRY_AFTER, "1"),
            ],
            serde_json::to_string(&problem).expect("problems serialize"),
        )
            .into_response();
    };
    ws.max_message_size(MAX_SIGNALING_MESSAGE_BYTES)
        .max_frame_size(MAX_SIGNALING_MESSAGE_BYTES)
        .on_upgrade(move |socket| async move {
            if let Err(code) = signaling_socket(&s, socket, turn).await {
                s.refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::info!(code, "signaling socket refused");
            }
        })
}

async fn send(socket: &mut WebSocket, signal: &AgentSignal) -> bool {
    let text = serde_json::to_string(signal).expect("signals serialize");
    socket.send(Message::Text(text.into())).await.is_ok()
}

/// Sends `error {code, message}` and closes; returns the code.
async fn refuse(
    socket: &mut WebSocket,
    code: &'static str,
    message: String,
) -> Result<(), &'static str> {
    let _ = send(
        socket,
        &AgentSignal::Error {
            code: code.into(),
            message,
        },
    )
    .await;
    let _ = socket.send(Message::Close(None)).await;
    Err(code)
}

/// The next text message; `None` when the socket closed.
async fn next_text(socket: &mut WebSocket) -> Option<Result<String, &'static str>> {
    loop {
        match socket.recv().await? {
            Ok(Message::Text(t)) => return Some(Ok(t.to_string())),
            Ok(Message::Binary(_)) => return Some(Err("BINARY_MESSAGE")),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

async fn signaling_socket(
    s: &HttpState,
    mut socket: WebSocket,
    turn: tokio::sync::OwnedSemaphorePermit,
) -> Result<(), &'static str> {
    // 1. hello, checked offline
    let first = match tokio::time::timeout(HELLO_TIMEOUT, next_text(&mut socket)).await {
        Ok(Some(Ok(t))) => t,
        Ok(Some(Err(code))) => {
            return refuse(&mut socket, code, "signaling is JSON text".into()).await;
        }
        Ok(None) => return Err("CLOSED"),
        Err(_) => return refuse(&mut socket, "HELLO_TIMEOUT", "no hello in time".into()).await,
    };
    let now_secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let admission = s.gate.lock().unwrap().admit(&first, now_secs);
    let admission = match admission {
        Ok(a) => a,
        Err(r) => return refuse(&mut socket, r.code, r.message).await,
    };
    // Said hello: this socket no longer counts against the ones waiting to.
    drop(turn);
    if !s.relay.has_session(&admission.session_id) {
        return refuse(
            &mut socket,
            "NO_SESSION",
            format!(
                "session {} is not streaming on this board",
                admission.session_id
            ),
        )
        .await;
    }
    if !send(
        &mut socket,
        &AgentSignal::Welcome {
            session_id: admission.session_id.clone(),
            ice_servers: s.ice_servers.clone(),
        },
    )
    .await
    {
        return Err("CLOSED");
    }

    // 2. the offer
    let (tx, mut signals) = mpsc::channel(crate::relay::SIGNAL_QUEUE);
    let peer = loop {
        let text = match next_text(&mut socket).await {
            Some(Ok(t)) => t,
            Some(Err(code)) => {
                return refuse(&mut socket, code, "signaling is JSON text".into()).await;
            }
            None => return Err("CLOSED"),
        };
        match ClientSignal::parse(&text) {
            Ok(ClientSignal::Offer { sdp }) => {
                match s
                    .relay
                    .add_peer(&admission.session_id, admission.role, sdp, tx.clone())
                    .await
                {
                    Ok((peer, answer)) => {
                        if !send(&mut socket, &AgentSignal::Answer { sdp: answer }).await {
                            s.relay.remove_peer(peer).await;
                            return Err("CLOSED");
                        }
                        break peer;
                    }
                    Err(r) => return refuse(&mut socket, r.code, r.message).await,
                }
            }
            Ok(ClientSignal::Candidate { .. }) => {}
            Ok(ClientSignal::Bye) => return Ok(()),
            Ok(ClientSignal::Hello { .. }) => {
                return refuse(
                    &mut socket,
                    "ALREADY_ADMITTED",
                    "hello was already accepted".into(),
                )
                .await;
            }
            Err(e) => return refuse(&mut socket, "BAD_MESSAGE", e).await,
        }
    };
    drop(tx);

    // 3. the relay's signals, until bye, close or the end of the play
    let result = loop {
        tokio::select! {
            signal = signals.recv() => match signal {
                Some(signal) => {
                    let ended = matches!(signal, AgentSignal::Ended { .. });
                    if !send(&mut socket, &signal).await {
                        break Ok(());
                    }
                    if ended {
                        let _ = socket.send(Message::Close(None)).await;
                        break Ok(());
                    }
                }
                // the relay let the peer go (replaced, timed out)
                None => {
                    let _ = socket.send(Message::Close(None)).await;
                    break Ok(());
                }
            },
            text = next_text(&mut socket) => match text {
                None => break Ok(()),
                Some(Err(code)) => break refuse(&mut socket, code, "signaling is JSON text".into()).await,
                Some(Ok(text)) => match ClientSignal::parse(&text) {
                    Ok(ClientSignal::Candidate { .. }) => {}
                    Ok(ClientSignal::Bye) => break Ok(()),
                    Ok(_) => break refuse(&mut socket, "UNEXPECTED", "renegotiation is not supported".into()).await,
                    Err(e) => break refuse(&mut socket, "BAD_MESSAGE", e).await,
                },
            },
        }
    };
    s.relay.remove_peer(peer).await;
    result
}

/// Binds the HTTP listener; `port` 0 picks a free one.
pub async fn bind(ip: std::net::IpAddr, port: u16) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(SocketAddr::new(ip, port)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_are_counted_by_state_and_encoder_with_labels_escaped() {
        use playrack_wire::agent::InstanceState;
        let inst = |state, encoder: Option<&str>| InstanceReport {
            instance_id: "i".into(),
            spec_id: "hd-60".into(),
            state,
            session_id: None,
            package: None,
            encoder: encoder.map(str::to_owned),
            booted_at: None,
            primed_version_id: None,
        };
        let text = instance_lines(&[
            inst(InstanceState::Busy, Some("c2.rk.avc.encoder")),
            inst(InstanceState::Busy, Some("c2.rk.avc.encoder")),
            inst(InstanceState::Warm, None),
            inst(InstanceState::Busy, Some("odd\"name")),
        ]);
        assert!(
            text.contains("# TYPE playrack_agent_instances gauge"),
            "{text}"
        );
        assert!(
            text.contains(
                "playrack_agent_instances{state=\"busy\",encoder=\"c2.rk.avc.encoder\"} 2\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("playrack_agent_instances{state=\"warm\",encoder=\"none\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("encoder=\"odd\\\"name\"} 1"), "{text}");
    }

    #[test]
    fn turn_urls_carry_their_credentials() {
        let s = ice_servers(
            &["stun:stun.example:3478".into()],
            &[
                "turn:alice:s3cret@turn.example:3478".into(),
                "turn:plain:3478".into(),
            ],
        );
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].urls, vec!["stun:stun.example:3478"]);
        assert_eq!(s[1].urls, vec!["turn:turn.example:3478"]);
        assert_eq!(s[1].username.as_deref(), Some("alice"));
        assert_eq!(s[1].credential.as_deref(), Some("s3cret"));
        assert_eq!(s[2].username, None);
    }
}
