//! Simulated boards for the load runs (the scheduler benchmark and the soak drill): each one a
//! light tokio task serving a real agent channel — hello, heartbeats at the interval the welcome
//! names, `PrepareSession` → `session preparing`, `session ready` and `result ok`, `EndSession`
//! → `session ended (reason)` and `result ok`, anything else → `result ok`; a repeated command
//! id gets its result again and nothing else (the protocol's idempotency). The boards count what
//! they did and keep the books a real board would: which plays hold one of their instances, so
//! a run can check that no board ever held more plays than slots, and no play was on two.
use super::agent::{Socket, TestAgent};
use futures_util::{SinkExt, StreamExt};
use playrack_wire::agent::{
    AGENT_PROTOCOL_VERSION, AgentMessage, AgentSessionState, ControllerMessage,
};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// What the simulated boards did, summed over all of them.
#[derive(Default)]
pub struct BoardCounters {
    pub prepares: AtomicU64,
    pub ends: AtomicU64,
    pub other_commands: AtomicU64,
    pub repeated_commands: AtomicU64,
    pub heartbeats: AtomicU64,
    pub bad_messages: AtomicU64,
    /// Boards whose channel closed before the run stopped them.
    pub dropped: AtomicU64,
    /// Plays holding an instance now, on every board (session → board).
    pub live: std::sync::Mutex<HashMap<String, String>>,
    /// The most plays that held an instance at once, over all boards.
    pub peak: AtomicU64,
    /// Prepares of a play that already held an instance (on this board or another).
    pub double_prepares: AtomicU64,
    /// Prepares that found every slot of the board taken.
    pub over_capacity: AtomicU64,
}

impl BoardCounters {
    /// Plays holding an instance now, over all boards.
    pub fn live_now(&self) -> usize {
        self.live.lock().unwrap().len()
    }
}

/// Sends one agent message; `Err` when the socket is gone.
pub async fn send(ws: &mut Socket, msg: &AgentMessage) -> Result<(), ()> {
    let text = serde_json::to_string(msg).expect("json");
    ws.send(Message::Text(text.into())).await.map_err(|_| ())
}

pub fn session_report(
    session_id: &str,
    state: AgentSessionState,
    reason: Option<String>,
) -> AgentMessage {
    AgentMessage::Session {
        session_id: session_id.to_owned(),
        state,
        reason,
        connected: false,
        last_input_at: None,
        stats: None,
        latency_ms: Default::default(),
    }
}

/// Connects a board's agent channel and says hello; returns the socket, the heartbeat interval
/// from the welcome, and any command that came before it (to be answered first).
pub async fn connect_board(
    agent: &TestAgent,
    slots: u32,
) -> Result<(Socket, u32, Vec<ControllerMessage>), String> {
    let mut ws = agent
        .open(&agent.credential)
        .await
        .map_err(|e| format!("{}: agent channel: {e}", agent.board_id))?;
    let hello = AgentMessage::Hello {
        protocol: AGENT_PROTOCOL_VERSION,
        board_id: agent.board_id.clone(),
        agent_version: "bench-agent/1".into(),
        capacity: BTreeMap::from([("hd-60".to_owned(), slots)]),
        signaling_url: "ws://127.0.0.1:1/signal".into(),
        instances: vec![],
    };
    send(&mut ws, &hello)
        .await
        .map_err(|_| format!("{}: hello not sent", agent.board_id))?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut early = Vec::new();
    loop {
        let next = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| format!("{}: no welcome in 30 s", agent.board_id))?;
        match next {
            Some(Ok(Message::Text(t))) => match serde_json::from_str(t.as_str()) {
                Ok(ControllerMessage::Welcome { heartbeat_secs, .. }) => {
                    return Ok((ws, heartbeat_secs.max(1), early));
                }
                Ok(m) => early.push(m),
                Err(e) => return Err(format!("{}: bad message {e}: {t}", agent.board_id)),
            },
            Some(Ok(Message::Close(f))) => {
                return Err(format!("{}: closed before welcome: {f:?}", agent.board_id));
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(format!("{}: {e}", agent.board_id)),
            None => return Err(format!("{}: closed before welcome", agent.board_id)),
        }
    }
}

/// A simulated board's answers to the controller.
pub struct BoardAgent {
    board_id: String,
    slots: usize,
    counters: Arc<BoardCounters>,
    /// Plays holding one of this board's instances.
    holding: HashSet<String>,
    /// Command ids seen lately (bounded): a repeat gets its result again, nothing else.
    seen: HashSet<String>,
    order: VecDeque<String>,
}

impl BoardAgent {
    pub fn new(board_id: &str, slots: u32, counters: Arc<BoardCounters>) -> BoardAgent {
        BoardAgent {
            board_id: board_id.to_owned(),
            slots: slots as usize,
            counters,
            holding: HashSet::new(),
            seen: HashSet::new(),
            order: VecDeque::new(),
        }
    }

    fn answer(&mut self, msg: ControllerMessage) -> Vec<AgentMessage> {
        use playrack_wire::agent::Command;
        let ControllerMessage::Command { id, command } = msg else {
            return vec![];
        };
        let result = AgentMessage::Result {
            command_id: id.clone(),
            ok: true,
            error: None,
        };
        if !self.seen.insert(id.clone()) {
            self.counters
                .repeated_commands
                .fetch_add(1, Ordering::Relaxed);
            return vec![result];
        }
        self.order.push_back(id);
        if self.order.len() > 4096
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        match command {
            Command::PrepareSession { session_id, .. } => {
                self.counters.prepares.fetch_add(1, Ordering::Relaxed);
                if self.holding.len() >= self.slots {
                    self.counters.over_capacity.fetch_add(1, Ordering::Relaxed);
                }
                let mut live = self.counters.live.lock().unwrap();
                if live
                    .insert(session_id.clone(), self.board_id.clone())
                    .is_some()
                {
                    self.counters
                        .double_prepares
                        .fetch_add(1, Ordering::Relaxed);
                }
                self.counters
                    .peak
                    .fetch_max(live.len() as u64, Ordering::Relaxed);
                drop(live);
                self.holding.insert(session_id.clone());
                vec![
                    session_report(&session_id, AgentSessionState::Preparing, None),
                    session_report(&session_id, AgentSessionState::Ready, None),
                    result,
                ]
            }
            Command::EndSession {
                session_id, reason, ..
            } => {
                self.counters.ends.fetch_add(1, Ordering::Relaxed);
                if self.holding.remove(&session_id) {
                    self.counters.live.lock().unwrap().remove(&session_id);
                }
                vec![
                    session_report(&session_id, AgentSessionState::Ended, Some(reason)),
                    result,
                ]
            }
            _ => {
                self.counters.other_commands.fetch_add(1, Ordering::Relaxed);
                vec![result]
            }
        }
    }
}

/// One board's agent loop: answers commands, heartbeats, until `stop` or the socket closes.
pub async fn run_board(
    mut ws: Socket,
    heartbeat_secs: u32,
    early: Vec<ControllerMessage>,
    mut agent: BoardAgent,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let counters = agent.counters.clone();
    let period = Duration::from_secs(u64::from(heartbeat_secs));
    // Spread the boards' heartbeats over the period.
    let jitter = Duration::from_millis(rand::random_range(0..period.as_millis() as u64));
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + jitter, period);
    let mut replies: Vec<AgentMessage> = early.into_iter().flat_map(|m| agent.answer(m)).collect();
    loop {
        for m in &replies {
            if send(&mut ws, m).await.is_err() {
                if !*stop.borrow() {
                    counters.dropped.fetch_add(1, Ordering::Relaxed);
                }
                return;
            }
        }
        replies = tokio::select! {
            _ = stop.changed() => {
                let _ = ws.close(None).await;
                return;
            }
            _ = heartbeat.tick() => {
                counters.heartbeats.fetch_add(1, Ordering::Relaxed);
                vec![AgentMessage::Heartbeat { telemetry: super::agent::telemetry(20.0) }]
            }
            incoming = ws.next() => match incoming {
                Some(Ok(Message::Text(t))) => match serde_json::from_str(t.as_str()) {
                    Ok(m) => agent.answer(m),
                    Err(_) => {
                        counters.bad_messages.fetch_add(1, Ordering::Relaxed);
                        vec![]
                    }
                },
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                    if !*stop.borrow() {
                        counters.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                    return;
                }
                Some(Ok(_)) => vec![],
            },
        };
    }
}
