//! The agent's HTTP server: the signaling WebSocket players and spectators open
//! (`/v1/signal`), the RTT probe clients time before acquiring (`/probe`), `/healthz` (the
//! process answers), `/readyz` (the board can take plays: its controller link is up) and
//! Prometheus `/metrics` (for this machine, or for scrapes that send the metrics token).
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
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use playrack_wire::agent::{InstanceReport, Telemetry};
use playrack_wire::signaling::{AgentSignal, ClientSignal, MAX_SIGNALING_MESSAGE_BYTES};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::ice::IceConfig;
use crate::metrics::{Metrics, Scrape};
use crate::relay::Relay;
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
    /// The ICE servers players are offered (per-session TURN credentials made at welcome).
    pub ice: Arc<IceConfig>,
    /// Signaling sockets refused (any reason), for `/metrics`.
    pub refused: Arc<std::sync::atomic::AtomicU64>,
    /// Turns for sockets that have not said hello yet ([`MAX_PENDING_HELLOS`]).
    pub pending_hellos: Arc<tokio::sync::Semaphore>,
    /// The board's instances now, for `/metrics` (by state and video encoder).
    pub instances: Arc<dyn Fn() -> Vec<InstanceReport> + Send + Sync>,
    /// The newest health sample, for `/metrics`.
    pub telemetry: Arc<dyn Fn() -> Option<Telemetry> + Send + Sync>,
    pub metrics: Metrics,
    /// The SHA-256 of the token `/metrics` asks for; `None`: loopback scrapes only.
    pub metrics_token: Option<[u8; 32]>,
    /// What `/readyz` asks.
    pub readiness: Readiness,
}

/// Whether the board can take plays, as `/readyz` answers: not until the agent says how to
/// tell ([`Readiness::set`], once its controller link exists), then as that check says.
#[derive(Clone, Default)]
pub struct Readiness(Arc<std::sync::OnceLock<ReadyCheck>>);

type ReadyCheck = Box<dyn Fn() -> Result<(), String> + Send + Sync>;

impl Readiness {
    /// How to tell from now on (only the first call counts).
    pub fn set(&self, check: impl Fn() -> Result<(), String> + Send + Sync + 'static) {
        let _ = self.0.set(Box::new(check));
    }

    /// Ready, or why not.
    pub fn check(&self) -> Result<(), String> {
        match self.0.get() {
            Some(check) => check(),
            None => Err("starting".into()),
        }
    }
}

impl HttpState {
    pub fn new(gate: Gate, relay: Relay, ice: IceConfig, metrics: Metrics) -> HttpState {
        HttpState {
            gate: Arc::new(Mutex::new(gate)),
            relay,
            ice: Arc::new(ice),
            refused: Arc::default(),
            pending_hellos: Arc::new(tokio::sync::Semaphore::new(MAX_PENDING_HELLOS)),
            instances: Arc::new(Vec::new),
            telemetry: Arc::new(|| None),
            metrics,
            metrics_token: None,
            readiness: Readiness::default(),
        }
    }

    /// What `/readyz` asks (see [`Readiness`]).
    pub fn with_readiness(mut self, readiness: Readiness) -> HttpState {
        self.readiness = readiness;
        self
    }

    /// The token `/metrics` asks for (`None`: it answers loopback scrapes only).
    pub fn with_metrics_token(mut self, token: Option<&str>) -> HttpState {
        self.metrics_token = token.map(|t| Sha256::digest(t.as_bytes()).into());
        self
    }

    /// Where `/metrics` reads the board's health from.
    pub fn with_telemetry(
        mut self,
        telemetry: impl Fn() -> Option<Telemetry> + Send + Sync + 'static,
    ) -> HttpState {
        self.telemetry = Arc::new(telemetry);
        self
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

/// The router (see the module doc).
pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/v1/signal", get(signal))
        .route("/probe", get(probe))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
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

async fn readyz(State(s): State<HttpState>) -> Response {
    match s.readiness.check() {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, why).into_response(),
    }
}

/// Whether a scrape may read `/metrics`: with a token configured, exactly when it sends it
/// (compared as SHA-256 digests, so the comparison's time says nothing about the token);
/// without one, exactly when it comes from this machine.
fn may_scrape(token: Option<&[u8; 32]>, peer: std::net::IpAddr, headers: &HeaderMap) -> bool {
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match token {
        Some(token) => sent.is_some_and(|s| Sha256::digest(s.as_bytes()).as_slice() == token),
        None => peer.is_loopback(),
    }
}

async fn metrics(
    State(s): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if !may_scrape(s.metrics_token.as_ref(), peer.ip(), &headers) {
        let detail = match s.metrics_token {
            Some(_) => "send the metrics token as `Authorization: Bearer <token>`",
            None => {
                "metrics are served to this machine only; set PLAYRACK_AGENT_METRICS_TOKEN to scrape from elsewhere"
            }
        };
        let problem = playrack_wire::Problem::new(403, "METRICS_FORBIDDEN", "Forbidden", detail);
        return (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "application/problem+json")],
            serde_json::to_string(&problem).unwrap_or_default(),
        )
            .into_response();
    }
    let relay = s.relay.snapshot();
    let instances = (s.instances)();
    let telemetry = (s.telemetry)();
    let text = s.metrics.render(&Scrape {
        relay: &relay,
        signaling_refused: s.refused.load(std::sync::atomic::Ordering::Relaxed),
        instances: &instances,
        telemetry: telemetry.as_ref(),
    });
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
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
            ice_servers: s
                .ice
                .for_session(&admission.session_id, std::time::SystemTime::now()),
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
                    .add_peer(
                        &admission.session_id,
                        admission.role,
                        admission.watch.clone(),
                        sdp,
                        tx.clone(),
                    )
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
    fn metrics_are_for_this_machine_or_the_token_holder() {
        let token: [u8; 32] = Sha256::digest(b"s3cret").into();
        let (lo, far) = ("127.0.0.1".parse().unwrap(), "203.0.113.9".parse().unwrap());
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
            h
        };
        let none = HeaderMap::new();
        assert!(may_scrape(None, lo, &none));
        assert!(may_scrape(None, "::1".parse().unwrap(), &none));
        assert!(!may_scrape(None, far, &none));
        assert!(may_scrape(Some(&token), far, &with("Bearer s3cret")));
        assert!(
            !may_scrape(Some(&token), lo, &none),
            "a token is needed on loopback too"
        );
        assert!(!may_scrape(Some(&token), far, &with("Bearer s3cre")));
        assert!(!may_scrape(Some(&token), far, &with("s3cret")));
    }

    #[test]
    fn readiness_is_starting_until_the_agent_says_how_to_tell() {
        let r = Readiness::default();
        assert_eq!(r.check(), Err("starting".into()));
        let up = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let u = up.clone();
        r.clone().set(move || {
            if u.load(std::sync::atomic::Ordering::SeqCst) {
                Ok(())
            } else {
                Err("the controller link is down".into())
            }
        });
        assert_eq!(r.check(), Err("the controller link is down".into()));
        up.store(true, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(r.check(), Ok(()));
        r.set(|| Err("ignored".into()));
        assert_eq!(r.check(), Ok(()), "only the first check counts");
    }
}
