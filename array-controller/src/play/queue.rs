//! The player queue: tickets in priority-then-FIFO order per tenant, promotion when capacity
//! frees, claim deadlines, and eviction of tickets whose clients stopped polling.
//!
//! Order within a tenant's line: tenant tier (higher first), then user level (higher first),
//! then arrival. When a slot frees, [`promote`] walks every tenant's line from its head and
//! reserves a session for each ticket the placement core can place, stopping a line at its first
//! ticket that cannot be placed — so a tenant whose quota is full never blocks another tenant's
//! line. Each promotion is its own short transaction. A promoted ticket must be claimed (polled)
//! before its deadline, or its reservation ends (`CLAIM_EXPIRED`) and the next is promoted; a
//! promotion the board refuses before the player claimed it puts the ticket back at its place.
//!
//! Reading a ticket never takes the write path: a poll writes only when the ticket's
//! keep-alive is getting old, or to claim a promotion, each one single-row statement.

use super::acquire::{self, Placed, Play};
use super::error::{PlayError, PlayResult};
use super::{POLL_AFTER_MS, PRIOR_SESSION_SECS};
use crate::db::{self, WriteTx};
use crate::scheduler::eta;
use crate::state::AppState;
use crate::store::{self, tickets};
use playrack_wire::Timestamp;
use playrack_wire::api::{AcquireRequest, EndReason, Ticket, TicketState};

/// How many waiting tickets of one tenant's line one promotion pass may promote.
const PROMOTE_PER_TENANT: i64 = 32;
/// How many expired tickets or claims one sweep settles (the rest wait for the next second).
const SWEEP_BATCH: i64 = 256;
/// Running sessions read for an ETA (the first to end); past these, whole average sessions.
const ETA_SAMPLE: i64 = 64;

/// Puts the play at the end of its tenant's line. On PostgreSQL the tenant's line is locked
/// first (only this tenant's enqueues wait on it), and the arrival instant and id are taken
/// after the lock, so every ticket's place is told exactly once, with no two alike.
pub async fn enqueue(
    state: &AppState,
    tx: &mut WriteTx,
    play: &Play,
    reason: &str,
) -> PlayResult<String> {
    store::advisory_lock(tx, state.db.backend, &format!("line|{}", play.tenant_id)).await?;
    let now = crate::now().millis();
    let id = db::new_id("tkt");
    tickets::insert(
        tx,
        &tickets::NewTicket {
            id: &id,
            tenant_id: &play.tenant_id,
            game_id: &play.game_id,
            user_key: &play.user_key,
            link_id: play.link_id.as_deref(),
            request: serde_json::to_string(&play.request).expect("json"),
            priority_tier: play.priority_tier,
            user_level: play.user_level,
            reason,
            now,
            live_key: &play.live_key(),
        },
    )
    .await?;
    metrics::counter!("playrack_tickets_total").increment(1);
    Ok(id)
}

/// A ticket as its player sees it: place in line, line length and ETA while waiting.
pub async fn view(tx: &mut WriteTx, id: &str) -> PlayResult<Ticket> {
    let t = tickets::get_in(tx, id)
        .await?
        .ok_or(PlayError::NotFound("ticket"))?;
    let state = tickets::parse_state(&t.state);
    let (queue_length, ahead) = tickets::line_position(tx, &t).await?;
    let (position, eta_secs) = if state == TicketState::Waiting {
        let position = (ahead + 1) as u32;
        (Some(position), estimate(tx, &t.tenant_id, position).await?)
    } else {
        (None, 0)
    };
    Ok(Ticket {
        id: t.id,
        state,
        reason: t.reason,
        position,
        queue_length: queue_length as u32,
        eta_secs,
        session_id: t.session_id,
        claim_deadline: t.claim_deadline.map(Timestamp),
        poll_after_ms: POLL_AFTER_MS,
        play_key: None,
    })
}

/// ETA from the tenant's oldest running sessions (the first expected to end), how many it runs
/// (its orders' counts) and the lengths of its recent plays.
async fn estimate(tx: &mut WriteTx, tenant: &str, position: u32) -> PlayResult<u32> {
    let now = crate::now().millis();
    let running = store::capacity::tenant_in_use(tx, tenant).await?;
    let oldest =
        store::sessions::oldest_live(tx, tenant, ETA_SAMPLE.min(i64::from(position))).await?;
    let lengths = store::sessions::recent_lengths(tx, tenant, 20).await?;
    let observed: Vec<u32> = lengths.iter().map(|ms| (ms / 1000).max(0) as u32).collect();
    let elapsed: Vec<u32> = oldest
        .iter()
        .map(|c| ((now - c) / 1000).max(0) as u32)
        .collect();
    Ok(eta::eta_secs_sampled(
        position,
        &elapsed,
        running.max(0) as u32,
        eta::average_len(&observed, PRIOR_SESSION_SECS),
    ))
}

/// A read-only view of a ticket (its own short transaction on the pool's read path).
async fn read_view(state: &AppState, id: &str) -> PlayResult<Ticket> {
    let mut conn = state.db.read().await?;
    let t = view(&mut conn, id).await?;
    conn.rollback().await?;
    Ok(t)
}

/// A client's poll: keeps the ticket alive; a promoted ticket becomes claimed.
pub async fn poll(state: &AppState, id: &str) -> PlayResult<Ticket> {
    let now = crate::now().millis();
    let row = tickets::get(&state.db.pool, id)
        .await?
        .ok_or(PlayError::NotFound("ticket"))?;
    match tickets::parse_state(&row.state) {
        TicketState::Waiting => {
            // Refresh the keep-alive once a third of the timeout has passed, not every poll.
            let stale = i64::from(state.config.ticket_timeout_secs) * 1000 / 3;
            if row.last_seen_at < now - stale {
                tickets::touch(&state.db, id, now, stale).await?;
            }
        }
        TicketState::Promoted => {
            tickets::claim(&state.db, id).await?;
        }
        _ => {}
    }
    read_view(state, id).await
}

/// The player gives up their place (or their unclaimed reservation).
pub async fn cancel(state: &AppState, id: &str) -> PlayResult<Ticket> {
    let mut tx = state.db.write().await?;
    let row = tickets::get_in(&mut tx, id)
        .await?
        .ok_or(PlayError::NotFound("ticket"))?;
    let st = tickets::parse_state(&row.state);
    let mut freed = false;
    if matches!(st, TicketState::Waiting | TicketState::Promoted) {
        tickets::close(&mut tx, id, TicketState::Cancelled).await?;
        if let (TicketState::Promoted, Some(session)) = (st, &row.session_id) {
            freed = super::lifecycle::end_in(state, &mut tx, session, EndReason::UserLeft)
                .await?
                .is_some();
        }
    }
    let t = view(&mut tx, id).await?;
    tx.commit().await?;
    crate::agents::outbox::announce_queue(state).await;
    if let (true, Some(session)) = (freed, &row.session_id) {
        super::lifecycle::tell_board(state, session, EndReason::UserLeft).await?;
        request_promotion(state);
    }
    Ok(t)
}

/// Asks the promoter task for a promotion pass soon (capacity may have freed). Many requests
/// while a pass runs make one more pass, never a pass each.
pub fn request_promotion(state: &AppState) {
    state.promote_wanted.notify_one();
}

/// Promotes waiting tickets, line by line, as far as the placement core finds room: one
/// transaction per promotion, a tenant's line stopping at its first ticket that cannot be
/// placed. Returns how many were promoted.
pub async fn promote(state: &AppState) -> PlayResult<usize> {
    let mut promoted = Vec::new();
    let tenants = tickets::waiting_tenants(&state.db.pool).await?;
    for tenant in tenants {
        let mut tries = 0;
        'line: while tries < PROMOTE_PER_TENANT {
            let heads = tickets::heads(&state.db.pool, &tenant, PROMOTE_PER_TENANT - tries).await?;
            if heads.is_empty() {
                break;
            }
            for (id, request) in heads {
                tries += 1;
                match promote_one(state, &id, &request).await? {
                    Promotion::Promoted(session) => promoted.push(session),
                    Promotion::Skipped => {}
                    Promotion::Overtaken => continue 'line,
                    Promotion::NoRoom => break 'line,
                }
            }
        }
    }
    crate::agents::outbox::announce_queue(state).await;
    if !promoted.is_empty() {
        metrics::counter!("playrack_tickets_promoted_total").increment(promoted.len() as u64);
        super::lifecycle::dispatch_prepare(state, &promoted).await?;
    }
    Ok(promoted.len())
}

/// What became of one ticket a promotion pass tried.
enum Promotion {
    /// Its play was reserved: the session.
    Promoted(String),
    /// Gone meanwhile (claimed by another promoter, cancelled), or it can never be served and
    /// was expired: the next ticket is tried.
    Skipped,
    /// A ticket ahead of it arrived after the pass read the line: the line is read again.
    Overtaken,
    /// No room for it now: the line waits.
    NoRoom,
}

/// Tries to promote one ticket.
async fn promote_one(state: &AppState, id: &str, request: &str) -> PlayResult<Promotion> {
    let request: AcquireRequest = serde_json::from_str(request)?;
    // Resolved before the transaction: no pool connection is held while others are needed.
    let play = match acquire::resolve(state, request).await {
        Ok(p) => p,
        Err(e) if e.is_permanent() => {
            // The link was revoked, the game unpublished, …: the ticket cannot be served.
            tracing::info!(ticket = %id, "ticket can no longer be served: {e}");
            let mut tx = state.db.write().await?;
            if tickets::lock_waiting(&mut tx, state.db.backend, id).await? {
                tickets::close(&mut tx, id, TicketState::Expired).await?;
            }
            tx.commit().await?;
            return Ok(Promotion::Skipped);
        }
        Err(e) => return Err(e),
    };
    for _ in 0..4 {
        let now = crate::now().millis();
        let mut tx = state.db.write().await?;
        // Promotions of one line take turns (two promoters — the sweep and a pass asked for by
        // a freed slot — may look at the same heads): a later ticket is never placed while an
        // earlier one's promotion is still deciding, so the line stays first come first served.
        store::advisory_lock(
            &mut tx,
            state.db.backend,
            &format!("line|{}", play.tenant_id),
        )
        .await?;
        if !tickets::lock_waiting(&mut tx, state.db.backend, id).await? {
            return Ok(Promotion::Skipped);
        }
        if !tickets::is_head(&mut tx, &play.tenant_id, id).await? {
            return Ok(Promotion::Overtaken);
        }
        match acquire::place(state, &mut tx, &play, now, acquire::Locked::Skip).await? {
            Placed::Raced => continue,
            Placed::Queue(_) => return Ok(Promotion::NoRoom),
            Placed::Assigned(a) => {
                let session = match acquire::reserve(state, &mut tx, &play, &a, now, Some(id)).await
                {
                    Ok(s) => s,
                    Err(PlayError::LinkExhausted) => {
                        // The link ran out of plays meanwhile.
                        drop(tx);
                        let mut tx = state.db.write().await?;
                        if tickets::lock_waiting(&mut tx, state.db.backend, id).await? {
                            tickets::close(&mut tx, id, TicketState::Expired).await?;
                        }
                        tx.commit().await?;
                        return Ok(Promotion::Skipped);
                    }
                    Err(e) => return Err(e),
                };
                let deadline = now + i64::from(state.config.claim_ttl_secs) * 1000;
                tickets::promoted(&mut tx, id, &session, deadline).await?;
                tx.commit().await?;
                return Ok(Promotion::Promoted(session));
            }
        }
    }
    Ok(Promotion::NoRoom)
}

/// Evicts tickets whose clients went quiet, expires unclaimed promotions, then promotes.
pub async fn sweep(state: &AppState, now: Timestamp) -> PlayResult<()> {
    let cutoff = now.millis() - i64::from(state.config.ticket_timeout_secs) * 1000;
    let quiet = tickets::quiet(&state.db.pool, cutoff, SWEEP_BATCH).await?;
    let unclaimed = tickets::unclaimed(&state.db.pool, now.millis(), SWEEP_BATCH).await?;
    if quiet.is_empty() && unclaimed.is_empty() {
        // Nothing expired; still look at the lines once a second, so a place that freed
        // without an event (a race lost to a concurrent reservation) is never left idle.
        promote(state).await?;
        return Ok(());
    }
    let mut tx = state.db.write().await?;
    let mut evicted = 0;
    let mut expired = Vec::new();
    for id in &quiet {
        // Still waiting and still quiet (a poll may have come in since the read).
        evicted += u64::from(tickets::evict_if_quiet(&mut tx, id, cutoff).await?);
    }
    for (ticket, session) in &unclaimed {
        let expired_now = tickets::expire_promoted(&mut tx, ticket).await?;
        if let (true, Some(s)) = (expired_now, session)
            && super::lifecycle::end_in(state, &mut tx, s, EndReason::ClaimExpired)
                .await?
                .is_some()
        {
            expired.push(s.clone());
        }
    }
    tx.commit().await?;
    for s in &expired {
        super::lifecycle::tell_board(state, s, EndReason::ClaimExpired).await?;
    }
    if evicted > 0 {
        metrics::counter!("playrack_tickets_evicted_total").increment(evicted);
    }
    promote(state).await?;
    Ok(())
}
