//! Leadership: the periodic work that must run once across controller replicas (the session
//! sweeper, the lease judgement) runs on the leader only.
//!
//! On PostgreSQL the leader is the replica holding a session-level advisory lock on a
//! connection of its own; the lock goes with the connection, so a replica that dies or loses
//! the database loses it within a second or two, and another takes over on its next try. On
//! SQLite there is one controller process per database, always the leader.

use crate::state::AppState;
use crate::store::Backend;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The advisory lock id of leadership.
const LEADER_LOCK: i64 = 7_600_002;
/// How often leadership is tried for and checked.
const TICK: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub struct Leader {
    leading: AtomicBool,
}

impl Leader {
    pub fn is_leader(&self) -> bool {
        self.leading.load(Ordering::Relaxed)
    }

    fn set(&self, leading: bool) {
        if self.leading.swap(leading, Ordering::Relaxed) != leading {
            tracing::info!(leading, "leadership changed");
            metrics::gauge!("playrack_controller_leader").set(if leading { 1.0 } else { 0.0 });
        }
    }
}

/// Tries for leadership and keeps checking it, every second.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if state.db.backend == Backend::Sqlite {
            state.leader.set(true);
            return;
        }
        let mut held: Option<sqlx::AnyConnection> = None;
        let mut tick = tokio::time::interval(TICK);
        loop {
            tick.tick().await;
            use sqlx::Connection;
            match held.as_mut() {
                Some(conn) => {
                    let alive =
                        tokio::time::timeout(TICK, sqlx::query("SELECT 1").execute(&mut *conn))
                            .await
                            .is_ok_and(|r| r.is_ok());
                    if !alive {
                        // The lock went (or goes) with the connection.
                        state.leader.set(false);
                        held = None;
                    }
                }
                None => {
                    let Ok(Ok(mut conn)) = tokio::time::timeout(
                        TICK,
                        sqlx::AnyConnection::connect(&state.config.database_url),
                    )
                    .await
                    else {
                        continue;
                    };
                    let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                        .bind(LEADER_LOCK)
                        .fetch_one(&mut conn)
                        .await
                        .unwrap_or(false);
                    if got {
                        held = Some(conn);
                        state.leader.set(true);
                    } else {
                        let _ = conn.close().await;
                    }
                }
            }
        }
    })
}
