//! The IO around [`Link`]: enrolment over HTTP (once; the credential is kept in the data
//! directory) and the WebSocket loop that feeds the link and carries out what it asks.
//!
//! Both of its queues are bounded. Commands wait for room (their consumer only spawns them).
//! Messages for the controller are dropped, with a warning, when [`LINK_QUEUE`] of them are
//! already waiting — the link would be long stuck by then, and like the messages the link
//! itself lets go while it is down ([`super::PENDING_LIMIT`]), what they said is recovered by
//! the reconciliation of the next hello.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use playrack_wire::agent::{
    AgentMessage, Command, EnrolRequest, EnrolResponse, InstanceReport, Telemetry,
};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::{Identity, Link, Output};

/// The board's enrolment, kept in `<data-dir>/credential.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credential {
    pub board_id: String,
    pub room_id: String,
    pub credential: String,
    /// The public key (base64) that verifies the session tokens players bring; absent from
    /// credentials stored before the controller signed session tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token_key: Option<String>,
}

/// What an enrolment asks for.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub controller_url: String,
    pub token: Option<String>,
    pub serial: String,
    pub model: String,
    pub capacity: std::collections::BTreeMap<String, u32>,
    pub agent_version: String,
}

/// The stored credential, or a new one from the controller (written before it is returned,
/// with mode 0600, so a crash never enrols twice with a one-time token).
pub async fn enrol_once(
    http: &reqwest::Client,
    e: &Enrolment,
    path: &Path,
) -> anyhow::Result<Credential> {
    if let Ok(text) = tokio::fs::read_to_string(path).await {
        return serde_json::from_str(&text)
            .with_context(|| format!("reading the board credential {}", path.display()));
    }
    let Some(token) = &e.token else {
        bail!(
            "not enrolled ({} is missing) and no enrolment token given",
            path.display()
        );
    };
    let resp = http
        .post(format!("{}/v1/agents/enrol", e.controller_url))
        .json(&EnrolRequest {
            enrolment_token: token.clone(),
            serial: e.serial.clone(),
            model: e.model.clone(),
            capacity: e.capacity.clone(),
            agent_version: e.agent_version.clone(),
        })
        .send()
        .await
        .context("enrolling with the controller")?;
    let status = resp.status();
    if !status.is_success() {
        bail!(
            "enrolment refused ({status}): {}",
            resp.text().await.unwrap_or_default()
        );
    }
    let r: EnrolResponse = resp.json().await.context("enrolment answer")?;
    let cred = Credential {
        board_id: r.board_id,
        room_id: r.room_id,
        credential: r.credential,
        session_token_key: r.session_token_key,
    };
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let tmp = path.with_extension("json.tmp");
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(&serde_json::to_vec_pretty(&cred)?)?;
        f.sync_all()?;
    }
    tokio::fs::rename(&tmp, path).await?;
    Ok(cred)
}

/// What the link asks of the rest of the agent when it says hello or heartbeats.
pub trait Board: Send + Sync + 'static {
    fn instances(&self) -> Vec<InstanceReport>;
    fn telemetry(&self) -> Telemetry;
}

/// Messages for the controller waiting for the link loop, at most.
pub const LINK_QUEUE: usize = 1024;

/// Commands from the controller waiting to be started, at most.
const COMMAND_QUEUE: usize = 256;

enum ToLink {
    Send(AgentMessage),
    Finished {
        id: String,
        ok: bool,
        error: Option<String>,
    },
}

/// The rest of the agent's way to the controller.
#[derive(Clone)]
pub struct LinkHandle {
    tx: mpsc::Sender<ToLink>,
    up: watch::Receiver<bool>,
}

impl LinkHandle {
    /// Sends `msg` (kept until the next welcome while the link is down).
    pub fn send(&self, msg: AgentMessage) {
        self.queue(ToLink::Send(msg));
    }

    fn queue(&self, m: ToLink) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.tx.try_send(m) {
            tracing::warn!(
                "{LINK_QUEUE} messages already wait for the controller link; dropping one"
            );
        }
    }

    /// Reports the outcome of command `id`.
    pub fn finished(&self, id: &str, result: anyhow::Result<()>) {
        let (ok, error) = match result {
            Ok(()) => (true, None),
            Err(e) => (false, Some(format!("{e:#}"))),
        };
        self.queue(ToLink::Finished {
            id: id.to_owned(),
            ok,
            error,
        });
    }

    /// Whether the controller has welcomed the current connection.
    pub fn is_up(&self) -> bool {
        *self.up.borrow()
    }

    /// Waits until the link is up (or down, with `false`).
    pub async fn wait_up(&mut self, up: bool) {
        let _ = self.up.wait_for(|v| *v == up).await;
    }
}

/// Starts the link loop; commands to execute arrive on the returned receiver.
pub fn spawn(
    controller_url: &str,
    tls: Arc<rustls::ClientConfig>,
    cred: Credential,
    identity: Identity,
    board: Arc<dyn Board>,
) -> (
    LinkHandle,
    mpsc::Receiver<(String, Command)>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, rx) = mpsc::channel(LINK_QUEUE);
    let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_QUEUE);
    let (up_tx, up_rx) = watch::channel(false);
    let url = format!(
        "{}/v1/agents/connect",
        controller_url
            .replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1)
    );
    let dial = Dial { url, tls };
    let task = tokio::spawn(run(dial, cred, identity, board, rx, cmd_tx, up_tx));
    (LinkHandle { tx, up: up_rx }, cmd_rx, task)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Where the link connects, and what it trusts there.
struct Dial {
    url: String,
    tls: Arc<rustls::ClientConfig>,
}

async fn open(dial: &Dial, credential: &str) -> anyhow::Result<Socket> {
    let mut req = dial.url.as_str().into_client_request()?;
    req.headers_mut()
        .insert("authorization", format!("Bearer {credential}").parse()?);
    let (ws, _) = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tokio_tungstenite::connect_async_tls_with_config(
            req,
            None,
            false,
            Some(tokio_tungstenite::Connector::Rustls(dial.tls.clone())),
        ),
    )
    .await
    .context("connect timed out")??;
    Ok(ws)
}

async fn run(
    dial: Dial,
    cred: Credential,
    identity: Identity,
    board: Arc<dyn Board>,
    mut rx: mpsc::Receiver<ToLink>,
    commands: mpsc::Sender<(String, Command)>,
    up: watch::Sender<bool>,
) {
    let mut link = Link::new(identity, Instant::now(), rand::random());
    let mut ws: Option<Socket> = None;
    loop {
        // Carry out everything the link wants.
        while let Some(o) = link.poll_output() {
            match o {
                Output::Connect => match open(&dial, &cred.credential).await {
                    Ok(s) => {
                        ws = Some(s);
                        link.handle_connected(Instant::now(), board.instances());
                    }
                    Err(e) => {
                        let delay = link.handle_disconnected(Instant::now());
                        tracing::warn!(error = %format!("{e:#}"), ?delay, "controller unreachable");
                    }
                },
                Output::Send(m) => send(&mut ws, &m).await,
                Output::Heartbeat => {
                    let m = AgentMessage::Heartbeat {
                        telemetry: board.telemetry(),
                    };
                    send(&mut ws, &m).await;
                    // The controller's pong proves the connection is alive (see `Output::Close`).
                    if let Some(s) = ws.as_mut() {
                        let _ = s.send(Message::Ping(Vec::new().into())).await;
                    }
                }
                Output::Close => {
                    if let Some(mut s) = ws.take() {
                        let _ =
                            tokio::time::timeout(std::time::Duration::from_secs(1), s.close(None))
                                .await;
                    }
                    tracing::warn!("controller silent for a whole lease; reconnecting");
                }
                Output::Execute { id, command } => {
                    let _ = commands.send((id, command)).await;
                }
            }
        }
        let _ = up.send_if_modified(|v| {
            let now = link.is_up() && ws.is_some();
            std::mem::replace(v, now) != now
        });
        let deadline = link.poll_timeout().map(tokio::time::Instant::from_std);
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        let incoming = async {
            match ws.as_mut() {
                Some(s) => s.next().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = sleep => link.handle_timeout(Instant::now()),
            frame = incoming => match frame {
                Some(Ok(Message::Pong(_))) | Some(Ok(Message::Ping(_))) => {
                    link.handle_heard(Instant::now());
                }
                Some(Ok(Message::Text(t))) => {
                    if let Err(e) = link.handle_text(Instant::now(), t.as_str()) {
                        tracing::warn!(error = %e, "ignoring a malformed controller message");
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                    ws = None;
                    let delay = link.handle_disconnected(Instant::now());
                    tracing::warn!(?delay, "controller link dropped; reconnecting");
                }
                Some(Ok(_)) => {}
            },
            msg = rx.recv() => match msg {
                Some(ToLink::Send(m)) => link.send(m),
                Some(ToLink::Finished { id, ok, error }) => link.command_finished(&id, ok, error),
                None => return,
            },
        }
    }
}

/// Sends on the socket; a failure drops it (the next read reports the disconnect).
async fn send(ws: &mut Option<Socket>, m: &AgentMessage) {
    let Some(s) = ws.as_mut() else { return };
    let text = match serde_json::to_string(m) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "unserialisable agent message");
            return;
        }
    };
    if let Err(e) = s.send(Message::Text(text.into())).await {
        tracing::warn!(error = %e, "sending to the controller failed");
        let _ = s.close(None).await;
    }
}
