//! Playing: who the player is, acquire (assign or queue), the queue's promotions and evictions,
//! and the coordinator's record of sessions.
//!
//! No slot is given twice and no order's quota is exceeded, under any number of concurrent
//! acquires and promotions, without a global lock: each reservation counts its board slot, room
//! and order with conditional updates in its own transaction (`store::slots`,
//! `store::capacity`), which on PostgreSQL lock only those rows and on SQLite run under the
//! single writer. The decision itself is the sans-IO [`crate::scheduler::placement`] core fed
//! the rows read in that transaction.

pub mod acquire;
pub mod identity;
pub mod lifecycle;
pub mod queue;

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
            if !state.leader.is_leader() {
                continue;
            }
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
    for (st, n) in crate::store::sessions::live_counts(&state.db.pool).await? {
        metrics::gauge!("playrack_sessions", "state" => st).set(n as f64);
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
