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
        }
    })
}
