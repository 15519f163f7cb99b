//! A small board agent that speaks the real agent-channel protocol over a real WebSocket, for
//! tests (and, later, the scale benchmarks that run thousands of them).
use futures_util::{SinkExt, StreamExt};
use playrack_wire::agent::*;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// An enrolled board.
pub struct TestAgent {
    pub base_url: String,
    pub board_id: String,
    pub credential: String,
    /// The controller's public key for session tokens.
    pub session_token_key: Option<String>,
}

impl TestAgent {
    /// Enrols `serial` with the room's enrolment token (2 slots of `hd-60`).
    pub async fn enrol(
        http: &reqwest::Client,
        base_url: &str,
        token: &str,
        serial: &str,
    ) -> TestAgent {
        Self::enrol_with(http, base_url, token, serial, 2).await
    }

    /// Enrols `serial` offering `slots` slots of `hd-60`.
    pub async fn enrol_with(
        http: &reqwest::Client,
        base_url: &str,
        token: &str,
        serial: &str,
        slots: u32,
    ) -> TestAgent {
        let resp = http
            .post(format!("{base_url}/v1/agents/enrol"))
            .json(&EnrolRequest {
                enrolment_token: token.into(),
                serial: serial.into(),
                model: "RK3588".into(),
                capacity: BTreeMap::from([("hd-60".to_owned(), slots)]),
                agent_version: "test-agent/1".into(),
            })
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            200,
            "enrol: {}",
            resp.text().await.unwrap_or_default()
        );
        let r: EnrolResponse = resp.json().await.unwrap();
        TestAgent {
            base_url: base_url.into(),
            board_id: r.board_id,
            credential: r.credential,
            session_token_key: r.session_token_key,
        }
    }

    /// Opens the agent channel with `credential` (the board's own unless overridden).
    pub async fn open(
        &self,
        credential: &str,
    ) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
        let url = format!(
            "{}/v1/agents/connect",
            self.base_url.replace("http://", "ws://")
        );
        let mut req = url.into_client_request().unwrap();
        req.headers_mut().insert(
            "authorization",
            format!("Bearer {credential}").parse().unwrap(),
        );
        tokio_tungstenite::connect_async(req).await.map(|(s, _)| s)
    }

    /// Connects, says hello with `instances`, and waits for the welcome.
    pub async fn connect(&self, instances: Vec<InstanceReport>) -> (Socket, ControllerMessage) {
        let mut ws = self
            .open(&self.credential)
            .await
            .expect("agent channel opens");
        send(
            &mut ws,
            &AgentMessage::Hello {
                protocol: AGENT_PROTOCOL_VERSION,
                board_id: self.board_id.clone(),
                agent_version: "test-agent/1".into(),
                capacity: BTreeMap::from([("hd-60".to_owned(), 2)]),
                signaling_url: "ws://127.0.0.1:1/signal".into(),
                instances,
            },
        )
        .await;
        let welcome = recv(&mut ws).await.expect("welcome");
        (ws, welcome)
    }
}

pub async fn send(ws: &mut Socket, msg: &AgentMessage) {
    ws.send(Message::Text(serde_json::to_string(msg).unwrap().into()))
        .await
        .expect("send");
}

/// The next controller message, or `None` if the connection closed (or nothing came in 10 s).
pub async fn recv(ws: &mut Socket) -> Option<ControllerMessage> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .ok()??
        {
            Ok(Message::Text(t)) => {
                return Some(serde_json::from_str(t.as_str()).expect("controller message"));
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

/// Reads controller messages until one is a command matching `pred` (10 s per message).
pub async fn command(ws: &mut Socket, pred: impl Fn(&Command) -> bool) -> Command {
    loop {
        match recv(ws).await {
            Some(ControllerMessage::Command { command, .. }) if pred(&command) => return command,
            Some(_) => continue,
            None => panic!("the controller never sent the expected command"),
        }
    }
}

/// Waits for the connection to be closed by the controller; returns the close reason.
pub async fn closed(ws: &mut Socket) -> Option<String> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .ok()?
        {
            Some(Ok(Message::Close(frame))) => {
                return Some(frame.map(|f| f.reason.to_string()).unwrap_or_default());
            }
            Some(Ok(_)) => continue,
            None | Some(Err(_)) => return Some(String::new()),
        }
    }
}

pub fn telemetry(cpu: f32) -> Telemetry {
    Telemetry {
        cpu_percent: cpu,
        load1: 0.5,
        mem_used_mb: 1024,
        mem_total_mb: 8192,
        disk_free_mb: 50_000,
        temperatures_c: vec![45.0],
        instances_running: 1,
        instances_warm: 1,
        primed: Vec::new(),
    }
}

pub fn instance(id: &str, state: InstanceState) -> InstanceReport {
    InstanceReport {
        instance_id: id.into(),
        spec_id: "hd-60".into(),
        state,
        session_id: None,
        package: None,
        encoder: None,
        booted_at: None,
        primed_version_id: None,
    }
}

/// The board's report on a play: its state, whether the player is connected (input now).
pub fn report(session_id: &str, state: AgentSessionState, connected: bool) -> AgentMessage {
    AgentMessage::Session {
        session_id: session_id.into(),
        state,
        reason: None,
        connected,
        last_input_at: Some(array_controller::now()),
        stats: None,
        latency_ms: Default::default(),
    }
}

/// The board's report that a play is over on its side (its instance is released).
pub fn ended(session_id: &str, reason: &str) -> AgentMessage {
    AgentMessage::Session {
        session_id: session_id.into(),
        state: AgentSessionState::Ended,
        reason: Some(reason.into()),
        connected: false,
        last_input_at: None,
        stats: None,
        latency_ms: Default::default(),
    }
}

/// Serves a board's channel the way a real agent ends plays: every `EndSession` is answered
/// with the play `ended` (the instance reset and back in the pool), which gives its slot back.
/// Other commands are left unanswered. Runs until the controller closes the connection.
pub fn answer_ends(mut ws: Socket) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(msg) = ws.next().await {
            let Ok(Message::Text(t)) = msg else {
                if matches!(msg, Ok(Message::Close(_)) | Err(_)) {
                    return;
                }
                continue;
            };
            if let Ok(ControllerMessage::Command {
                command:
                    Command::EndSession {
                        session_id, reason, ..
                    },
                ..
            }) = serde_json::from_str(t.as_str())
            {
                send(&mut ws, &ended(&session_id, &reason)).await;
            }
        }
    })
}

/// A board that keeps its channel alive on its own, as a real agent does: a heartbeat every
/// `heartbeat`, every command it is sent recorded, and messages from the test sent on.
pub struct LiveBoard {
    pub outbox: tokio::sync::mpsc::Sender<AgentMessage>,
    pub commands: std::sync::Arc<std::sync::Mutex<Vec<Command>>>,
    pub task: tokio::task::JoinHandle<()>,
}

impl LiveBoard {
    pub fn spawn(mut ws: Socket, heartbeat: Duration) -> LiveBoard {
        let (outbox, mut rx) = tokio::sync::mpsc::channel::<AgentMessage>(64);
        let commands = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = commands.clone();
        let task = tokio::spawn(async move {
            let mut beat = tokio::time::interval(heartbeat);
            loop {
                tokio::select! {
                    _ = beat.tick() => {
                        let m = AgentMessage::Heartbeat { telemetry: telemetry(5.0) };
                        if ws.send(Message::Text(serde_json::to_string(&m).unwrap().into())).await.is_err() {
                            return;
                        }
                    }
                    Some(m) = rx.recv() => {
                        if ws.send(Message::Text(serde_json::to_string(&m).unwrap().into())).await.is_err() {
                            return;
                        }
                    }
                    incoming = ws.next() => match incoming {
                        Some(Ok(Message::Text(t))) => {
                            if let Ok(ControllerMessage::Command { command, .. }) = serde_json::from_str(t.as_str()) {
                                seen.lock().unwrap().push(command);
                            }
                        }
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                        Some(Ok(_)) => {}
                    }
                }
            }
        });
        LiveBoard {
            outbox,
            commands,
            task,
        }
    }

    pub async fn send(&self, m: AgentMessage) {
        self.outbox.send(m).await.expect("board task running");
    }

    /// The commands received so far that match `pred`.
    pub fn received(&self, pred: impl Fn(&Command) -> bool) -> Vec<Command> {
        self.commands
            .lock()
            .unwrap()
            .iter()
            .filter(|c| pred(c))
            .cloned()
            .collect()
    }
}
