//! Playing: who the player is, acquire (assign or queue), the queue's promotions and evictions,
//! and the coordinator's record of sessions.
//!
//! Every decision that reserves capacity runs in one transaction serialised on
//! [`SLOTS_LOCK`] (SQLite's single writer; a PostgreSQL advisory lock), so under any number of
//! concurrent acquires no slot is given twice and no order's quota is exceeded. The decision
//! itself is the sans-IO [`crate::scheduler::placement`] core fed a snapshot read inside that
//! transaction ([`snapshot`]).

pub mod acquire;
pub mod identity;
pub mod lifecycle;
pub mod queue;
pub mod snapshot;

/// The advisory lock id of every slot-reserving transaction.
pub const SLOTS_LOCK: i64 = 7_600_001;

/// How often a queued client must poll (or keep listening) before its ticket is evicted.
pub const POLL_AFTER_MS: u32 = 2_000;
/// Session length assumed for ETAs before any session has ended.
pub const PRIOR_SESSION_SECS: u32 = 300;

/// Every second: evict quiet tickets, expire unclaimed promotions, promote; run the session
/// timers.
pub fn spawn_sweeper(state: crate::state::AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            tick.tick().await;
            if let Err(e) = queue::sweep(&state, crate::now()).await {
                tracing::warn!("queue sweep failed: {e}");
            }
            if let Err(e) = lifecycle::tick(&state, crate::now()).await {
                tracing::warn!("session timers failed: {e}");
            }
            if let Err(e) = gauges(&state).await {
                tracing::warn!("gauges failed: {e}");
            }
        }
    })
}

/// Live counts for `/metrics`: plays by state, tickets waiting, boards by agent state.
async fn gauges(state: &crate::state::AppState) -> Result<(), sqlx::Error> {
    use sqlx::Row;
    for r in sqlx::query(
        "SELECT state, COUNT(*) AS n FROM sessions WHERE state <> 'ended' GROUP BY state",
    )
    .fetch_all(&state.db.pool)
    .await?
    {
        metrics::gauge!("playrack_sessions", "state" => r.try_get::<String, _>("state")?)
            .set(r.try_get::<i64, _>("n")? as f64);
    }
    let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets WHERE state = 'waiting'")
        .fetch_one(&state.db.pool)
        .await?;
    metrics::gauge!("playrack_queue_waiting").set(waiting as f64);
    for r in sqlx::query("SELECT agent_state, COUNT(*) AS n FROM boards GROUP BY agent_state")
        .fetch_all(&state.db.pool)
        .await?
    {
        metrics::gauge!("playrack_boards", "agent_state" => r.try_get::<String, _>("agent_state")?)
            .set(r.try_get::<i64, _>("n")? as f64);
    }
    Ok(())
}
