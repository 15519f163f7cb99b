//! Board agents: who is connected, the per-board command queues, and the lease that turns a
//! silent board into a LOST one.
//!
//! Boards dial in (they sit behind NAT): an agent enrols once with its room's enrolment token
//! and gets a per-board credential (`api::agents`), then holds a WebSocket open ([`channel`])
//! to one controller replica. Commands go through the [`outbox`] (a table every replica
//! shares); [`Agents`] maps each board connected to this replica to a wake-up of its
//! connection, which delivers them. [`lease`] decides which boards are lost; the watchdog
//! applies it every second on the leader.

pub mod channel;
pub mod lease;
pub mod outbox;

use crate::state::AppState;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

pub const CREDENTIAL_PREFIX: &str = "pbc_";
pub const ENROLMENT_TOKEN_PREFIX: &str = "pre_";

/// The connected agents of this controller process.
#[derive(Default)]
pub struct Agents {
    connections: Mutex<HashMap<String, Connection>>,
    next_generation: AtomicU64,
    /// Since when this controller could hear boards (see [`lease`]).
    pub hearing: lease::Hearing,
}

struct Connection {
    generation: u64,
    /// Wakes the connection to deliver the board's waiting commands ([`outbox`]). One
    /// pending wake is enough: a full channel already has one.
    wake: mpsc::Sender<()>,
}

impl Agents {
    /// Registers a new connection for `board_id`, replacing (and so closing) an older one.
    /// Returns the connection's generation and its wake-ups (closed when it is replaced or
    /// disconnected).
    pub fn register(&self, board_id: &str) -> (u64, mpsc::Receiver<()>) {
        let (wake, rx) = mpsc::channel(1);
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        self.connections
            .lock()
            .expect("agents poisoned")
            .insert(board_id.to_owned(), Connection { generation, wake });
        (generation, rx)
    }

    /// Forgets a connection if it is still the current one for its board; true if it was.
    pub fn unregister(&self, board_id: &str, generation: u64) -> bool {
        let mut map = self.connections.lock().expect("agents poisoned");
        if map
            .get(board_id)
            .is_some_and(|c| c.generation == generation)
        {
            map.remove(board_id);
            true
        } else {
            false
        }
    }

    /// Drops the connection of a board (it closes; the agent will reconnect).
    pub fn disconnect(&self, board_id: &str) {
        self.connections
            .lock()
            .expect("agents poisoned")
            .remove(board_id);
    }

    /// Drops every connection (the controller is stopping; agents will reconnect to the
    /// next one).
    pub fn disconnect_all(&self) {
        self.connections.lock().expect("agents poisoned").clear();
    }

    pub fn is_connected(&self, board_id: &str) -> bool {
        self.connections
            .lock()
            .expect("agents poisoned")
            .contains_key(board_id)
    }

    /// Wakes a board's connection to deliver its waiting commands; false if it is not
    /// connected here.
    pub fn wake(&self, board_id: &str) -> bool {
        let map = self.connections.lock().expect("agents poisoned");
        match map.get(board_id) {
            Some(c) => {
                // Full: a wake is already pending, which delivers everything waiting.
                let _ = c.wake.try_send(());
                true
            }
            None => false,
        }
    }

    /// Wakes every connection here (a notification may have been missed).
    pub fn wake_all(&self) {
        for c in self.connections.lock().expect("agents poisoned").values() {
            let _ = c.wake.try_send(());
        }
    }
}

/// How fast the database must answer the watchdog, and record what an agent says, for boards
/// to count as heard.
pub const PROMPT: Duration = Duration::from_secs(1);
/// A longer gap between two watchdog ticks means this controller was not listening.
const MAX_TICK_GAP: Duration = Duration::from_secs(3);

/// Every second: boards past their lease become LOST and lose their connection.
pub fn spawn_lease_watchdog(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut last_tick: Option<std::time::Instant> = None;
        loop {
            tick.tick().await;
            // The database answers promptly: boards' reports can be recorded (from now, if they
            // could not be). A slow or failed answer, or a gap in these ticks (the process or the
            // database stalled), means what boards said meanwhile may not have been recorded.
            let asked = std::time::Instant::now();
            let answer = tokio::time::timeout(PROMPT, state.db.ping()).await;
            let gap = last_tick.replace(asked).map(|t| asked - t);
            match answer {
                Ok(Ok(())) if state.agents.hearing.stalled(PROMPT) => {
                    tracing::warn!("agent reports wait to be recorded; boards are not judged");
                    state.agents.hearing.interrupted(crate::now());
                    continue;
                }
                Ok(Ok(())) if gap.is_none_or(|g| g <= MAX_TICK_GAP) => {
                    state.agents.hearing.heard(crate::now())
                }
                Ok(Ok(())) => {
                    tracing::warn!(gap = ?gap, "the lease watchdog stalled; boards are judged again after a lease");
                    state.agents.hearing.interrupted(crate::now());
                }
                Ok(Err(e)) => {
                    tracing::warn!("database unreachable; boards are not judged: {e}");
                    state.agents.hearing.deaf();
                    continue;
                }
                Err(_) => {
                    tracing::warn!("database slower than {PROMPT:?}; boards are not judged");
                    state.agents.hearing.deaf();
                    continue;
                }
            }
            if let Err(e) = lease::report_hearing(&state, crate::now()).await {
                tracing::warn!("recording this replica's hearing failed: {e}");
            }
            if !state.leader.is_leader() {
                continue;
            }
            match lease::sweep(&state, crate::now()).await {
                Ok(lost) => {
                    for board in lost {
                        tracing::warn!(%board, "board lost: no heartbeat within the lease");
                        state.agents.disconnect(&board);
                        if let Err(e) = crate::play::lifecycle::board_lost(&state, &board).await {
                            tracing::warn!(%board, "ending a lost board's sessions failed: {e}");
                        }
                    }
                }
                Err(e) => {
                    state.agents.hearing.deaf();
                    tracing::warn!("lease sweep failed: {e}");
                }
            }
        }
    })
}
