//! Board agents: who is connected, the per-board command queues, and the lease that turns a
//! silent board into a LOST one.
//!
//! Boards dial in (they sit behind NAT): an agent enrols once with its room's enrolment token
//! and gets a per-board credential (`api::agents`), then holds a WebSocket open ([`channel`]).
//! [`Agents`] maps each connected board to the sender of its connection, so other parts of the
//! controller can send commands. [`lease`] decides, from `last_seen_at` alone, which boards
//! are lost; the watchdog applies it every second.

pub mod channel;
pub mod lease;

use crate::state::AppState;
use playrack_wire::agent::ControllerMessage;
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
    tx: mpsc::Sender<ControllerMessage>,
}

impl Agents {
    /// Registers a new connection for `board_id`, replacing (and so closing) an older one.
    /// Returns the connection's generation and its receiving end.
    pub fn register(&self, board_id: &str) -> (u64, mpsc::Receiver<ControllerMessage>) {
        let (tx, rx) = mpsc::channel(256);
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        self.connections
            .lock()
            .expect("agents poisoned")
            .insert(board_id.to_owned(), Connection { generation, tx });
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

    /// Queues a message to a connected board; false if it is not connected here.
    pub fn send(&self, board_id: &str, msg: ControllerMessage) -> bool {
        let tx = self
            .connections
            .lock()
            .expect("agents poisoned")
            .get(board_id)
            .map(|c| c.tx.clone());
        tx.is_some_and(|tx| tx.try_send(msg).is_ok())
    }
}

/// Every second: boards past their lease become LOST and lose their connection.
pub fn spawn_lease_watchdog(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            // The database answers: boards' reports can be recorded (from now, if it did not).
            match state.db.ping().await {
                Ok(()) => state.agents.hearing.heard(crate::now()),
                Err(e) => {
                    tracing::warn!("database unreachable; boards are not judged: {e}");
                    state.agents.hearing.deaf();
                    continue;
                }
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
