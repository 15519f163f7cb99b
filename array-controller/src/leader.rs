//! Leadership: the periodic work that must run once across controller replicas (the session
//! sweeper, the lease judgement, the recording sweep, the warm pools' sizing) runs on the
//! leader only; [`every`] runs such a pass.
//!
//! On PostgreSQL the leader is the replica holding a session-level advisory lock on a
//! connection of its own; the lock goes with the connection, so a replica that dies or loses
//! the database loses it within a second or two, and another takes over on its next try. On
//! SQLite there is one controller process per database, always the leader.
//!
//! Its two statements (try the lock, check the connection) stay here rather than in the store:
//! they run on that one connection, never the pool or a transaction (a session-level lock taken
//! on a pooled connection would outlive its caller), and read no table.

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

/// Runs `pass` at once and then every `period`, on whichever replica leads at the time; a
/// failed pass is logged as `what` and tried again at the next tick.
pub fn every<F, Fut, T, E>(
    state: AppState,
    period: Duration,
    what: &'static str,
    pass: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn(AppState) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T, E>> + Send,
    E: std::fmt::Display,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if !state.leader.is_leader() {
                continue;
            }
            if let Err(e) = pass(state.clone()).await {
                tracing::warn!("{what} failed: {e}");
            }
        }
    })
}

/// Tries for leadership and keeps checking it, every second.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if state.db.backend == Backend::Sqlite {
            state.leader.set(true);
            return;
        }
        // One connection of its own, kept: the lock (once won) lives as long as it does.
        let mut conn: Option<sqlx::AnyConnection> = None;
        let mut tick = tokio::time::interval(TICK);
        loop {
            tick.tick().await;
            use sqlx::Connection;
            if conn.is_none() {
                conn = tokio::time::timeout(
                    TICK,
                    sqlx::AnyConnection::connect(&state.config.database_url),
                )
                .await
                .ok()
                .and_then(Result::ok);
            }
            let Some(c) = conn.as_mut() else {
                state.leader.set(false);
                continue;
            };
            let answer = if state.leader.is_leader() {
                // Still connected, so still holding the lock.
                tokio::time::timeout(
                    TICK,
                    sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&mut *c),
                )
                .await
                .map(|r| r.map(|_| true))
            } else {
                tokio::time::timeout(
                    TICK,
                    sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
                        .bind(LEADER_LOCK)
                        .fetch_one(&mut *c),
                )
                .await
            };
            match answer {
                Ok(Ok(leading)) => state.leader.set(leading),
                _ => {
                    // The lock went (or goes) with the connection.
                    state.leader.set(false);
                    if let Some(c) = conn.take() {
                        let _ = c.close().await;
                    }
                }
            }
        }
    })
}
