//! The player queue: tickets in priority-then-FIFO order, promotion when capacity frees, claim
//! deadlines, and eviction of tickets whose clients stopped polling.
//!
//! Order: tenant tier (higher first), then user level (higher first), then arrival. When a slot
//! frees, [`promote`] walks the waiting tickets in that order and reserves a session for the
//! first ones the placement core can place; a promoted ticket must be claimed (polled) before
//! its deadline, or its reservation ends (`CLAIM_EXPIRED`) and the next ticket is promoted.

use super::acquire::{self, Play};
use super::{POLL_AFTER_MS, PRIOR_SESSION_SECS, SLOTS_LOCK};
use crate::db::{self, WriteTx};
use crate::error::{ApiError, ApiResult};
use crate::scheduler::eta;
use crate::scheduler::placement::Decision;
use crate::state::AppState;
use playrack_wire::Timestamp;
use playrack_wire::api::{AcquireRequest, Ticket, TicketState};
use sqlx::Row;

/// How many waiting tickets one promotion pass considers.
const PROMOTE_SCAN: i64 = 64;

pub async fn enqueue(tx: &mut WriteTx, play: &Play, reason: &str, now: i64) -> ApiResult<String> {
    let id = db::new_id("tkt");
    let seq: i64 =
        sqlx::query_scalar("SELECT CAST(COALESCE(MAX(seq), 0) + 1 AS BIGINT) FROM tickets")
            .fetch_one(&mut ***tx)
            .await?;
    sqlx::query(
        "INSERT INTO tickets (id, tenant_id, game_id, user_key, link_id, request, priority_tier, user_level, seq, state, reason, \
         created_at, last_seen_at, live_key) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,'waiting',$10,$11,$11,$12)",
    )
    .bind(&id)
    .bind(&play.tenant_id)
    .bind(&play.game_id)
    .bind(&play.user_key)
    .bind(&play.link_id)
    .bind(serde_json::to_string(&play.request).expect("json"))
    .bind(i64::from(play.priority_tier))
    .bind(i64::from(play.user_level))
    .bind(seq)
    .bind(reason)
    .bind(now)
    .bind(play.live_key())
    .execute(&mut ***tx)
    .await?;
    metrics::counter!("playrack_tickets_total").increment(1);
    Ok(id)
}

fn state_of(s: &str) -> TicketState {
    match s {
        "promoted" => TicketState::Promoted,
        "claimed" => TicketState::Claimed,
        "cancelled" => TicketState::Cancelled,
        "evicted" => TicketState::Evicted,
        "expired" => TicketState::Expired,
        _ => TicketState::Waiting,
    }
}

/// A ticket as its player sees it: place in line, line length and ETA while waiting.
pub async fn view(tx: &mut WriteTx, id: &str) -> ApiResult<Ticket> {
    let t = sqlx::query("SELECT * FROM tickets WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut ***tx)
        .await?
        .ok_or(ApiError::NotFound("ticket"))?;
    let tenant: String = t.try_get("tenant_id")?;
    let state = state_of(&t.try_get::<String, _>("state")?);
    let queue_length: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM tickets WHERE tenant_id = $1 AND state = 'waiting'",
    )
    .bind(&tenant)
    .fetch_one(&mut ***tx)
    .await?;
    let (position, eta_secs) = if state == TicketState::Waiting {
        let (p, l, s): (i64, i64, i64) = (
            t.try_get("priority_tier")?,
            t.try_get("user_level")?,
            t.try_get("seq")?,
        );
        let ahead: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM tickets WHERE tenant_id = $1 AND state = 'waiting' AND \
             (priority_tier > $2 OR (priority_tier = $2 AND user_level > $3) OR (priority_tier = $2 AND user_level = $3 AND seq < $4))",
        )
        .bind(&tenant)
        .bind(p)
        .bind(l)
        .bind(s)
        .fetch_one(&mut ***tx)
        .await?;
        let position = (ahead + 1) as u32;
        (Some(position), estimate(tx, &tenant, position).await?)
    } else {
        (None, 0)
    };
    Ok(Ticket {
        id: t.try_get("id")?,
        state,
        reason: t.try_get("reason")?,
        position,
        queue_length: queue_length as u32,
        eta_secs,
        session_id: t.try_get("session_id")?,
        claim_deadline: t
            .try_get::<Option<i64>, _>("claim_deadline")?
            .map(Timestamp),
        poll_after_ms: POLL_AFTER_MS,
    })
}

/// ETA from the tenant's running sessions and the lengths of its recent plays.
async fn estimate(tx: &mut WriteTx, tenant: &str, position: u32) -> ApiResult<u32> {
    let now = crate::now().millis();
    let running: Vec<i64> = sqlx::query_scalar(
        "SELECT created_at FROM sessions WHERE tenant_id = $1 AND state <> 'ended'",
    )
    .bind(tenant)
    .fetch_all(&mut ***tx)
    .await?;
    let lengths: Vec<i64> = sqlx::query_scalar(
        "SELECT ended_at - created_at FROM sessions WHERE tenant_id = $1 AND state = 'ended' AND ended_at IS NOT NULL \
         ORDER BY ended_at DESC LIMIT 100",
    )
    .bind(tenant)
    .fetch_all(&mut ***tx)
    .await?;
    let observed: Vec<u32> = lengths.iter().map(|ms| (ms / 1000).max(0) as u32).collect();
    let elapsed: Vec<u32> = running
        .iter()
        .map(|c| ((now - c) / 1000).max(0) as u32)
        .collect();
    Ok(eta::eta_secs(
        position,
        &elapsed,
        eta::average_len(&observed, PRIOR_SESSION_SECS),
    ))
}

/// A client's poll: keeps the ticket alive; a promoted ticket becomes claimed.
pub async fn poll(state: &AppState, id: &str) -> ApiResult<Ticket> {
    let now = crate::now().millis();
    let mut tx = state.db.write_serialized(SLOTS_LOCK).await?;
    let updated = sqlx::query("UPDATE tickets SET last_seen_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(ApiError::NotFound("ticket"));
    }
    sqlx::query("UPDATE tickets SET state = 'claimed', live_key = NULL WHERE id = $1 AND state = 'promoted'")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    let t = view(&mut tx, id).await?;
    tx.commit().await?;
    Ok(t)
}

/// The player gives up their place (or their unclaimed reservation).
pub async fn cancel(state: &AppState, id: &str) -> ApiResult<Ticket> {
    let mut tx = state.db.write_serialized(SLOTS_LOCK).await?;
    let row = sqlx::query("SELECT state, session_id FROM tickets WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(ApiError::NotFound("ticket"))?;
    let st: String = row.try_get("state")?;
    if st == "waiting" || st == "promoted" {
        sqlx::query("UPDATE tickets SET state = 'cancelled', live_key = NULL WHERE id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
        if let (true, Some(session)) = (
            st == "promoted",
            row.try_get::<Option<String>, _>("session_id")?,
        ) {
            end_in(&mut tx, &session, "USER_LEFT").await?;
        }
    }
    let t = view(&mut tx, id).await?;
    tx.commit().await?;
    promote(state).await?;
    Ok(t)
}

/// Ends a session inside a transaction (idempotent: an ended session stays as it ended).
pub async fn end_in(tx: &mut WriteTx, session_id: &str, reason: &str) -> ApiResult<bool> {
    let ended = sqlx::query(
        "UPDATE sessions SET state = 'ended', end_reason = $1, ended_at = $2, live_key = NULL WHERE id = $3 AND state <> 'ended'",
    )
    .bind(reason)
    .bind(crate::now().millis())
    .bind(session_id)
    .execute(&mut ***tx)
    .await?;
    if ended.rows_affected() == 1 {
        crate::metering::on_session_end(tx, session_id).await?;
        metrics::counter!("playrack_sessions_ended_total", "reason" => reason.to_owned())
            .increment(1);
    }
    Ok(ended.rows_affected() == 1)
}

/// Ends a session and promotes whoever can use the freed slot.
pub async fn end_session(state: &AppState, session_id: &str, reason: &str) -> ApiResult<bool> {
    let mut tx = state.db.write_serialized(SLOTS_LOCK).await?;
    let ended = end_in(&mut tx, session_id, reason).await?;
    tx.commit().await?;
    if ended {
        promote(state).await?;
    }
    Ok(ended)
}

/// Promotes waiting tickets, in order, for as long as the placement core finds room.
pub async fn promote(state: &AppState) -> ApiResult<usize> {
    let now = crate::now().millis();
    let mut tx = state.db.write_serialized(SLOTS_LOCK).await?;
    let waiting = sqlx::query(
        "SELECT id, request FROM tickets WHERE state = 'waiting' ORDER BY priority_tier DESC, user_level DESC, seq LIMIT $1",
    )
    .bind(PROMOTE_SCAN)
    .fetch_all(&mut **tx)
    .await?;
    let mut promoted = Vec::new();
    for t in waiting {
        let id: String = t.try_get("id")?;
        let request: AcquireRequest = serde_json::from_str(&t.try_get::<String, _>("request")?)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let play = match acquire::resolve(state, request).await {
            Ok(p) => p,
            Err(e) => {
                // The link was revoked, the game unpublished, …: the ticket cannot be served.
                tracing::info!(ticket = %id, "ticket can no longer be served: {e}");
                sqlx::query("UPDATE tickets SET state = 'expired', live_key = NULL WHERE id = $1")
                    .bind(&id)
                    .execute(&mut **tx)
                    .await?;
                continue;
            }
        };
        if let Decision::Assign {
            spec_id,
            order_id,
            room_id,
            board_id,
            downgraded,
            ..
        } = acquire::decide(&mut tx, &play, now).await?
        {
            let session = match acquire::reserve(
                &mut tx, &play, &spec_id, &order_id, &room_id, &board_id, downgraded, now,
            )
            .await
            {
                Ok(s) => s,
                Err(ApiError::Coded { .. }) => {
                    sqlx::query(
                        "UPDATE tickets SET state = 'expired', live_key = NULL WHERE id = $1",
                    )
                    .bind(&id)
                    .execute(&mut **tx)
                    .await?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            sqlx::query("UPDATE tickets SET state = 'promoted', session_id = $1, claim_deadline = $2 WHERE id = $3")
                .bind(&session)
                .bind(now + i64::from(state.config.claim_ttl_secs) * 1000)
                .bind(&id)
                .execute(&mut **tx)
                .await?;
            promoted.push(session);
        }
    }
    tx.commit().await?;
    let _ = state.queue_changed.send(());
    if !promoted.is_empty() {
        metrics::counter!("playrack_tickets_promoted_total").increment(promoted.len() as u64);
        super::lifecycle::dispatch_prepare(state, &promoted).await?;
    }
    Ok(promoted.len())
}

/// Evicts tickets whose clients went quiet, expires unclaimed promotions, then promotes.
pub async fn sweep(state: &AppState, now: Timestamp) -> ApiResult<()> {
    let mut tx = state.db.write_serialized(SLOTS_LOCK).await?;
    let evicted = sqlx::query("UPDATE tickets SET state = 'evicted', live_key = NULL WHERE state = 'waiting' AND last_seen_at < $1")
        .bind(now.millis() - i64::from(state.config.ticket_timeout_secs) * 1000)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    let unclaimed: Vec<(String, Option<String>)> = sqlx::query(
        "SELECT id, session_id FROM tickets WHERE state = 'promoted' AND claim_deadline < $1",
    )
    .bind(now.millis())
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("session_id")?)))
    .collect::<Result<_, sqlx::Error>>()?;
    for (ticket, session) in &unclaimed {
        sqlx::query("UPDATE tickets SET state = 'expired', live_key = NULL WHERE id = $1")
            .bind(ticket)
            .execute(&mut **tx)
            .await?;
        if let Some(s) = session {
            end_in(&mut tx, s, "CLAIM_EXPIRED").await?;
        }
    }
    tx.commit().await?;
    if evicted > 0 {
        metrics::counter!("playrack_tickets_evicted_total").increment(evicted);
    }
    if evicted > 0 || !unclaimed.is_empty() {
        promote(state).await?;
    }
    Ok(())
}
