//! The command outbox: every command to a board is first a row in `board_commands`; the
//! controller replica that holds the board's WebSocket delivers it, sends it again until the
//! board acknowledges it (its `result`), and deletes it then. So no command is lost when a
//! channel is full, a board is away, or the replica that wrote it is not the one the board is
//! connected to (or dies): the row waits for whichever replica holds the board next.
//!
//! Boards run each command id once (they remember results), so sending again is safe; ids
//! name their board too (`prep-<session>-<board>`), so a play placed again elsewhere gets a
//! command of its own rather than colliding with the refused one. A
//! command that is pointless after a while (a preparation past the player's connect deadline)
//! carries an expiry and is dropped unsent after it.
//!
//! Waking the holder: the writer wakes the board's connection if it is here, and on PostgreSQL
//! also `NOTIFY`s every replica (`LISTEN` in [`spawn_listener`]); the connection also looks
//! again every [`RESEND`] while anything is unacknowledged, so a lost notification delays a
//! command, never drops it.

use crate::state::AppState;
use crate::store::Backend;
use crate::store::agents::{self as store, Pending};
use playrack_wire::agent::{Command, ControllerMessage};
use std::time::Duration;

/// An unacknowledged command is sent again after this long.
pub const RESEND: Duration = Duration::from_secs(10);
/// Commands sent to a board in one pass.
const BATCH: i64 = 64;
/// The PostgreSQL notification channels: a board has commands; queue positions changed.
pub const COMMANDS_CHANNEL: &str = "playrack_commands";
pub const QUEUE_CHANNEL: &str = "playrack_queue";

/// Lifetime of a command unless it says otherwise: long enough for any outage a board
/// survives (after that its hello reconciles everything anyway).
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);

/// Writes a command for a board and wakes whoever holds its connection. Idempotent by `id`:
/// a command already waiting is not written twice.
pub async fn send(
    state: &AppState,
    board_id: &str,
    id: &str,
    command: Command,
    ttl: Duration,
) -> Result<(), sqlx::Error> {
    let (body, now, expires) = row(id, command, ttl);
    store::insert_command(&state.db, id, board_id, &body, now, expires).await?;
    metrics::counter!("playrack_board_commands_total").increment(1);
    wake(state, board_id).await;
    Ok(())
}

/// A command's row: its message, when it is written and when it expires.
fn row(id: &str, command: Command, ttl: Duration) -> (String, i64, i64) {
    let now = crate::now().millis();
    let body = serde_json::to_string(&ControllerMessage::Command {
        id: id.to_owned(),
        command,
    })
    .expect("json");
    (body, now, now + ttl.as_millis() as i64)
}

/// Writes a command for a board inside the caller's transaction; the caller [`wake`]s the
/// board's holder once it has committed.
pub async fn send_in(
    tx: &mut crate::db::WriteTx,
    board_id: &str,
    id: &str,
    command: Command,
    ttl: Duration,
) -> Result<(), sqlx::Error> {
    let (body, now, expires) = row(id, command, ttl);
    store::insert_command_in(tx, id, board_id, &body, now, expires).await?;
    metrics::counter!("playrack_board_commands_total").increment(1);
    Ok(())
}

/// Wakes the holder of a board's connection: here directly, elsewhere by notification.
pub async fn wake(state: &AppState, board_id: &str) {
    if state.agents.wake(board_id) {
        return;
    }
    if state.db.backend == Backend::Postgres
        && let Err(e) = store::notify(&state.db.pool, COMMANDS_CHANNEL, board_id).await
    {
        // The row is written; the holder finds it on its next look.
        tracing::warn!(board = %board_id, "command notification failed: {e}");
    }
}

/// Tells every replica's ticket event streams that queue positions may have changed.
pub async fn announce_queue(state: &AppState) {
    let _ = state.queue_changed.send(());
    if state.db.backend == Backend::Postgres {
        let _ = store::notify(&state.db.pool, QUEUE_CHANNEL, "").await;
    }
}

/// The board's waiting commands for one delivery pass, oldest first.
pub async fn pending(state: &AppState, board_id: &str) -> Result<Vec<Pending>, sqlx::Error> {
    store::pending_commands(&state.db.pool, board_id, BATCH).await
}

/// What one delivery pass decided for each waiting command, given when this connection last
/// sent it (if it did) and the time: send it now, drop it (expired), or leave it (sent
/// recently, not yet acknowledged). Pure. When a command was sent is the connection's own
/// knowledge ([`Sent`]): a new connection sends every waiting command again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Send,
    Expired,
    Wait,
}

pub fn decide(p: &Pending, sent_at: Option<i64>, now: i64) -> Delivery {
    if p.expires_at <= now {
        Delivery::Expired
    } else if sent_at.is_none_or(|s| now - s >= RESEND.as_millis() as i64) {
        Delivery::Send
    } else {
        Delivery::Wait
    }
}

/// When one connection last sent each waiting command (bounded: only commands still waiting
/// are remembered).
#[derive(Debug, Default)]
pub struct Sent(std::collections::HashMap<String, i64>);

impl Sent {
    pub fn at(&self, id: &str) -> Option<i64> {
        self.0.get(id).copied()
    }

    pub fn sent(&mut self, id: &str, now: i64) {
        self.0.insert(id.to_owned(), now);
    }

    /// Forgets the commands that no longer wait (acknowledged or expired).
    pub fn keep_only(&mut self, pending: &[Pending]) {
        self.0.retain(|id, _| pending.iter().any(|p| p.id == *id));
    }
}

/// On PostgreSQL: listens for command and queue notifications from every replica and wakes
/// the local connections and ticket streams they concern. Reconnects after a failure, and
/// then wakes every local connection (a notification may have been missed meanwhile).
pub fn spawn_listener(state: AppState) -> Option<tokio::task::JoinHandle<()>> {
    if state.db.backend != Backend::Postgres {
        return None;
    }
    Some(tokio::spawn(async move {
        loop {
            match sqlx::postgres::PgListener::connect(&state.config.database_url).await {
                Ok(mut listener) => {
                    if let Err(e) = listener.listen_all([COMMANDS_CHANNEL, QUEUE_CHANNEL]).await {
                        tracing::warn!("LISTEN failed: {e}");
                    } else {
                        state.agents.wake_all();
                        let _ = state.queue_changed.send(());
                        loop {
                            match listener.recv().await {
                                Ok(n) if n.channel() == COMMANDS_CHANNEL => {
                                    state.agents.wake(n.payload());
                                }
                                Ok(_) => {
                                    let _ = state.queue_changed.send(());
                                }
                                Err(e) => {
                                    tracing::warn!("notification listener lost: {e}");
                                    break;
                                }
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!("notification listener cannot connect: {e}"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(expires_at: i64) -> Pending {
        Pending {
            id: "c".into(),
            body: String::new(),
            expires_at,
        }
    }

    #[test]
    fn commands_are_sent_once_then_again_until_acknowledged_and_dropped_when_expired() {
        assert_eq!(decide(&p(100_000), None, 0), Delivery::Send);
        assert_eq!(decide(&p(100_000), Some(0), 9_999), Delivery::Wait);
        assert_eq!(decide(&p(100_000), Some(0), 10_000), Delivery::Send);
        assert_eq!(decide(&p(100_000), None, 100_000), Delivery::Expired);
    }

    #[test]
    fn a_connection_remembers_only_what_still_waits() {
        let mut sent = Sent::default();
        sent.sent("c", 1);
        sent.sent("b", 2);
        sent.keep_only(&[p(10)]);
        assert_eq!(sent.at("c"), Some(1), "c still waits");
        assert_eq!(sent.at("b"), None, "b was acknowledged");
    }
}
