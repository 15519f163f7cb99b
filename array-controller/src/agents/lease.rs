//! The board lease: a board whose agent has been silent for longer than the lease is LOST —
//! judged only once this controller has itself been able to hear boards for a whole lease.
//!
//! Like a Kubernetes node lease, silence counts only while the listener could hear: not during
//! the first lease after the controller starts (agents are still reconnecting; they retry
//! within a third of the lease), and not while the database was unreachable (heartbeats could
//! not be recorded). [`Hearing`] keeps that instant; after an outage it starts again.

use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::agents as store;
use playrack_wire::Timestamp;

/// Since when this controller has been able to hear boards without a break (`None`: it
/// cannot now — the database is unreachable).
#[derive(Debug, Default)]
pub struct Hearing {
    since: std::sync::Mutex<Option<Timestamp>>,
    /// Agent messages being recorded now, by when they started.
    recording: std::sync::Mutex<std::collections::HashMap<u64, std::time::Instant>>,
    next_recording: std::sync::atomic::AtomicU64,
}

/// An agent message being recorded (see [`Hearing::recording`]).
pub struct Recording<'a> {
    hearing: &'a Hearing,
    id: u64,
}

impl Drop for Recording<'_> {
    fn drop(&mut self) {
        self.hearing
            .recording
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

impl Hearing {
    /// Recording worked at `now`: hearing goes on, or starts again after a break.
    pub fn heard(&self, now: Timestamp) {
        let mut since = self.since.lock().unwrap_or_else(|e| e.into_inner());
        since.get_or_insert(now);
    }

    /// Recording failed: what boards say is not being heard.
    pub fn deaf(&self) {
        *self.since.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Marks an agent message as being recorded until the guard drops.
    pub fn recording(&self) -> Recording<'_> {
        let id = self
            .next_recording
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.recording
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, std::time::Instant::now());
        Recording { hearing: self, id }
    }

    /// Whether some agent message has been waiting longer than `prompt` to be recorded (the
    /// database is stalled for it, whatever a fresh query says).
    pub fn stalled(&self, prompt: std::time::Duration) -> bool {
        self.recording
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .any(|t| t.elapsed() > prompt)
    }

    /// Reports were recorded late (the database stalled): hearing starts again at `now`.
    pub fn interrupted(&self, now: Timestamp) {
        *self.since.lock().unwrap_or_else(|e| e.into_inner()) = Some(now);
    }

    pub fn since(&self) -> Option<Timestamp> {
        *self.since.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether boards may be judged at `now`: hearing has lasted a whole lease.
pub fn may_judge(hearing_since: Option<Timestamp>, now: Timestamp, lease_secs: u32) -> bool {
    hearing_since.is_some_and(|since| expired(since, now, lease_secs))
}

/// Whether a board last heard from at `last_seen` is past its lease at `now`.
pub fn expired(last_seen: Timestamp, now: Timestamp, lease_secs: u32) -> bool {
    now.millis() - last_seen.millis() > i64::from(lease_secs) * 1000
}

/// Records that this replica is alive and since when it has heard boards, for the leader's
/// judgement of the boards connected here.
pub async fn report_hearing(state: &AppState, now: Timestamp) -> Result<(), sqlx::Error> {
    store::report_hearing(
        &state.db,
        &state.replica_id,
        now,
        state.agents.hearing.since(),
    )
    .await
}

/// Marks every board past its lease as LOST (on the leader); returns their ids.
pub async fn sweep(state: &AppState, now: Timestamp) -> ApiResult<Vec<String>> {
    if !may_judge(
        state.agents.hearing.since(),
        now,
        state.config.agent_lease_secs,
    ) {
        return Ok(Vec::new());
    }
    let cutoff = now.plus_secs(-i64::from(state.config.agent_lease_secs));
    // A board connected to a replica that is alive but has not heard boards for a whole lease
    // (its database access stalled) is not judged; one whose replica is gone is (its agent
    // would have reconnected to another within the lease).
    let stale = store::stale_boards(&state.db.pool, cutoff).await?;
    if stale.is_empty() {
        return Ok(stale);
    }
    let mut tx = state.db.write().await?;
    let mut lost = Vec::new();
    for board in stale {
        if store::mark_lost(&mut tx, &board, cutoff).await? {
            crate::audit::record_as(
                &mut tx,
                "system",
                None,
                "board.lost",
                &board,
                serde_json::json!({"lease_secs": state.config.agent_lease_secs}),
            )
            .await?;
            lost.push(board);
        }
    }
    tx.commit().await?;
    metrics::counter!("playrack_boards_lost_total").increment(lost.len() as u64);
    Ok(lost)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boards_are_judged_only_after_a_whole_lease_of_hearing() {
        let h = Hearing::default();
        assert!(!may_judge(h.since(), Timestamp(100_000), 15), "never heard");
        h.heard(Timestamp(100_000));
        h.heard(Timestamp(101_000)); // hearing goes on from its start
        assert_eq!(h.since(), Some(Timestamp(100_000)));
        assert!(!may_judge(h.since(), Timestamp(115_000), 15), "first lease");
        assert!(may_judge(h.since(), Timestamp(115_001), 15));
        // The database stalls: no judging until a whole lease after it came back.
        h.deaf();
        assert!(!may_judge(h.since(), Timestamp(130_000), 15));
        h.heard(Timestamp(140_000));
        assert!(!may_judge(h.since(), Timestamp(150_000), 15));
        assert!(may_judge(h.since(), Timestamp(155_001), 15));
    }

    #[test]
    fn the_lease_is_strict() {
        assert!(!expired(Timestamp(0), Timestamp(15_000), 15));
        assert!(expired(Timestamp(0), Timestamp(15_001), 15));
    }
}
