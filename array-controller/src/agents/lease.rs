//! The board lease: a board whose agent has been silent for longer than the lease is LOST.

use crate::error::ApiResult;
use crate::state::AppState;
use playrack_wire::Timestamp;

/// Whether a board last heard from at `last_seen` is past its lease at `now`.
pub fn expired(last_seen: Timestamp, now: Timestamp, lease_secs: u32) -> bool {
    now.millis() - last_seen.millis() > i64::from(lease_secs) * 1000
}

/// Marks every board past its lease as LOST; returns their ids.
pub async fn sweep(state: &AppState, now: Timestamp) -> ApiResult<Vec<String>> {
    let cutoff = now.plus_secs(-i64::from(state.config.agent_lease_secs));
    let stale: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM boards WHERE agent_state <> 'lost' AND last_seen_at IS NOT NULL AND last_seen_at < $1",
    )
    .bind(cutoff.millis())
    .fetch_all(&state.db.pool)
    .await?;
    if stale.is_empty() {
        return Ok(stale);
    }
    let mut tx = state.db.write().await?;
    let mut lost = Vec::new();
    for board in stale {
        let changed = sqlx::query(
            "UPDATE boards SET agent_state = 'lost' WHERE id = $1 AND agent_state <> 'lost' AND last_seen_at < $2",
        )
        .bind(&board)
        .bind(cutoff.millis())
        .execute(&mut **tx)
        .await?;
        if changed.rows_affected() == 1 {
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
    fn the_lease_is_strict() {
        assert!(!expired(Timestamp(0), Timestamp(15_000), 15));
        assert!(expired(Timestamp(0), Timestamp(15_001), 15));
    }
}
