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
pub mod error;
pub mod identity;
pub mod lifecycle;
pub mod queue;

/// How often a queued client must poll (or keep listening) before its ticket is evicted.
pub const POLL_AFTER_MS: u32 = 2_000;
/// Session length assumed for ETAs before any session has ended.
pub const PRIOR_SESSION_SECS: u32 = 300;

/// Runs a promotion pass whenever one was requested (any number of requests while a pass runs
/// make one more pass), off the request or agent message that freed the capacity.
pub fn spawn_promoter(state: crate::state::AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            state.promote_wanted.notified().await;
            if let Err(e) = queue::promote(&state).await {
                tracing::warn!("promotion failed: {e}");
            }
        }
    })
}

/// How long an acquire's `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_KEEP_MS: i64 = 24 * 3600 * 1000;

/// How many sweeper ticks (seconds) apart the live gauges are read (the boards gauge counts
/// every board).
const GAUGE_TICKS: u64 = 5;

/// Every second, on the leader: evict quiet tickets, expire unclaimed promotions, promote; end
/// reservations past their connect deadline and run the session timers; every
/// [`GAUGE_TICKS`] seconds, read the gauges; once a minute, forget old idempotency keys.
pub fn spawn_sweeper(state: crate::state::AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        let mut ticks: u64 = 0;
        loop {
            tick.tick().await;
            if !state.leader.is_leader() {
                continue;
            }
            ticks += 1;
            if ticks % 60 == 1
                && let Err(e) = forget_idempotency(&state).await
            {
                tracing::warn!("idempotency retention failed: {e}");
            }
            if let Err(e) = queue::sweep(&state, crate::now()).await {
                tracing::warn!("queue sweep failed: {e}");
            }
            if let Err(e) = lifecycle::tick(&state, crate::now()).await {
                tracing::warn!("session timers failed: {e}");
            }
            if ticks % GAUGE_TICKS == 1
                && let Err(e) = gauges(&state).await
            {
                tracing::warn!("gauges failed: {e}");
            }
        }
    })
}

/// Deletes idempotency keys past [`IDEMPOTENCY_KEEP_MS`], a bounded batch at a time.
pub async fn forget_idempotency(state: &crate::state::AppState) -> Result<u64, sqlx::Error> {
    let cutoff = crate::now().millis() - IDEMPOTENCY_KEEP_MS;
    let mut tx = state.db.write().await?;
    // (Replicas gone as long ago leave their rows too.)
    crate::store::agents::forget_controllers(&mut tx, cutoff).await?;
    let n = crate::store::idempotency::forget_before(&mut tx, cutoff, 5_000).await?;
    tx.commit().await?;
    Ok(n)
}

/// Live counts for `/metrics`: plays by state, tickets waiting, boards by agent state.
async fn gauges(state: &crate::state::AppState) -> Result<(), sqlx::Error> {
    for (st, n) in crate::store::sessions::live_counts(&state.db.pool).await? {
        metrics::gauge!("playrack_sessions", "state" => st).set(n as f64);
    }
    let waiting = crate::store::tickets::count_waiting(&state.db.pool, None, None).await?;
    metrics::gauge!("playrack_queue_waiting").set(waiting as f64);
    for (st, n) in crate::store::topology::boards_by_agent_state(&state.db.pool).await? {
        let st = crate::store::topology::agent_state_text(st);
        metrics::gauge!("playrack_boards", "agent_state" => st).set(n as f64);
    }
    Ok(())
}
