//! Queue tickets: the line per tenant (tier, then user level, then arrival), found by index
//! among waiting tickets only; closed tickets are never scanned.

use super::Backend;
use crate::db::{Db, WriteTx};
use playrack_wire::api::TicketState;
use sqlx::AnyPool;

/// The SQL of [`waiting_tenants`].
pub const WAITING_TENANTS: &str = "SELECT DISTINCT tenant_id FROM tickets WHERE state = 'waiting'";
/// The SQL of [`heads`].
pub const HEADS: &str = "SELECT id, request FROM tickets WHERE tenant_id = $1 AND state = 'waiting' ORDER BY priority_tier DESC, user_level DESC, seq, id LIMIT $2";
/// The SQL of [`quiet`].
pub const QUIET: &str =
    "SELECT id FROM tickets WHERE state = 'waiting' AND last_seen_at < $1 LIMIT $2";
/// The SQL of [`unclaimed`].
pub const UNCLAIMED: &str =
    "SELECT id, session_id FROM tickets WHERE state = 'promoted' AND claim_deadline < $1 LIMIT $2";

/// A ticket state as the `tickets.state` column spells it.
pub fn state_str(s: TicketState) -> &'static str {
    match s {
        TicketState::Waiting => "waiting",
        TicketState::Promoted => "promoted",
        TicketState::Claimed => "claimed",
        TicketState::Cancelled => "cancelled",
        TicketState::Evicted => "evicted",
        TicketState::Expired => "expired",
    }
}

pub fn parse_state(s: &str) -> TicketState {
    match s {
        "promoted" => TicketState::Promoted,
        "claimed" => TicketState::Claimed,
        "cancelled" => TicketState::Cancelled,
        "evicted" => TicketState::Evicted,
        "expired" => TicketState::Expired,
        _ => TicketState::Waiting,
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketRow {
    pub id: String,
    pub tenant_id: String,
    pub state: String,
    pub reason: String,
    pub priority_tier: i64,
    pub user_level: i64,
    pub seq: i64,
    pub last_seen_at: i64,
    pub claim_deadline: Option<i64>,
    pub session_id: Option<String>,
}

const TICKET_COLUMNS: &str = "id, tenant_id, state, reason, priority_tier, user_level, seq, last_seen_at, claim_deadline, session_id";

pub async fn get(pool: &AnyPool, id: &str) -> Result<Option<TicketRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await
}

pub async fn get_in(tx: &mut WriteTx, id: &str) -> Result<Option<TicketRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut ***tx)
    .await
}

/// A new waiting ticket.
#[derive(Debug, Clone)]
pub struct NewTicket<'a> {
    pub id: &'a str,
    pub tenant_id: &'a str,
    pub game_id: &'a str,
    pub user_key: &'a str,
    pub link_id: Option<&'a str>,
    /// JSON `AcquireRequest`, replayed at promotion.
    pub request: String,
    pub priority_tier: i32,
    pub user_level: i32,
    pub reason: &'a str,
    pub now: i64,
    pub live_key: &'a str,
}

/// Queues a ticket. Arrival order is the arrival instant, ties broken by the (time-ordered) id,
/// so no counter row serialises every enqueue.
pub async fn insert(tx: &mut WriteTx, t: &NewTicket<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO tickets (id, tenant_id, game_id, user_key, link_id, request, priority_tier, user_level, seq, state, reason, \
         created_at, last_seen_at, live_key) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,'waiting',$10,$9,$9,$11)",
    )
    .bind(t.id)
    .bind(t.tenant_id)
    .bind(t.game_id)
    .bind(t.user_key)
    .bind(t.link_id)
    .bind(&t.request)
    .bind(i64::from(t.priority_tier))
    .bind(i64::from(t.user_level))
    .bind(t.now)
    .bind(t.reason)
    .bind(t.live_key)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// The tenant's waiting line: its length and how many are ahead of `t`.
pub async fn line_position(tx: &mut WriteTx, t: &TicketRow) -> Result<(i64, i64), sqlx::Error> {
    let length: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM tickets WHERE tenant_id = $1 AND state = 'waiting'",
    )
    .bind(&t.tenant_id)
    .fetch_one(&mut ***tx)
    .await?;
    let ahead: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM tickets WHERE tenant_id = $1 AND state = 'waiting' AND \
         (priority_tier > $2 OR (priority_tier = $2 AND user_level > $3) OR \
          (priority_tier = $2 AND user_level = $3 AND (seq < $4 OR (seq = $4 AND id < $5))))",
    )
    .bind(&t.tenant_id)
    .bind(t.priority_tier)
    .bind(t.user_level)
    .bind(t.seq)
    .bind(&t.id)
    .fetch_one(&mut ***tx)
    .await?;
    Ok((length, ahead))
}

/// Tenants with anyone waiting.
pub async fn waiting_tenants(pool: &AnyPool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(WAITING_TENANTS).fetch_all(pool).await
}

/// The head of a tenant's line: its first `limit` waiting tickets (id, request JSON).
pub async fn heads(
    pool: &AnyPool,
    tenant_id: &str,
    limit: i64,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(HEADS)
        .bind(tenant_id)
        .bind(limit)
        .fetch_all(pool)
        .await
}

/// Whether `id` is the first waiting ticket of the tenant's line, as the transaction sees it:
/// a promotion pass works from heads read before it began, and a ticket ahead of them may have
/// arrived since.
pub async fn is_head(tx: &mut WriteTx, tenant_id: &str, id: &str) -> Result<bool, sqlx::Error> {
    let head: Option<(String, String)> = sqlx::query_as(HEADS)
        .bind(tenant_id)
        .bind(1i64)
        .fetch_optional(&mut ***tx)
        .await?;
    Ok(head.is_some_and(|(h, _)| h == id))
}

/// Locks a ticket for promotion if it is still waiting; false when it is not. On PostgreSQL
/// this waits for a row lock held by the ticket's own poll or cancel rather than skipping the
/// ticket: promoters of one line already take turns, and skipping a polled ticket would let
/// the one behind it go first.
pub async fn lock_waiting(
    tx: &mut WriteTx,
    backend: Backend,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let sql = match backend {
        Backend::Sqlite => "SELECT id FROM tickets WHERE id = $1 AND state = 'waiting'",
        Backend::Postgres => {
            "SELECT id FROM tickets WHERE id = $1 AND state = 'waiting' FOR UPDATE"
        }
    };
    Ok(sqlx::query_scalar::<_, String>(sql)
        .bind(id)
        .fetch_optional(&mut ***tx)
        .await?
        .is_some())
}

/// The ticket's reservation is made: it must be claimed before `deadline`.
pub async fn promoted(
    tx: &mut WriteTx,
    id: &str,
    session_id: &str,
    deadline: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE tickets SET state = 'promoted', session_id = $1, claim_deadline = $2 WHERE id = $3",
    )
    .bind(session_id)
    .bind(deadline)
    .bind(id)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// Its reservation fell through before the player had it (the board refused): the ticket
/// waits again at its old place in line (its arrival is unchanged).
pub async fn requeue(tx: &mut WriteTx, id: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE tickets SET state = 'waiting', session_id = NULL, claim_deadline = NULL WHERE id = $1 AND state = 'promoted'",
    )
    .bind(id)
    .execute(&mut ***tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Closes a ticket (cancelled, evicted, expired), freeing the player's live key.
pub async fn close(tx: &mut WriteTx, id: &str, state: TicketState) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE tickets SET state = $1, live_key = NULL WHERE id = $2")
        .bind(state_str(state))
        .bind(id)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// A client's poll keeps its ticket in line: the last-seen time is written only when it is
/// older than `stale_ms`, so steady polling reads and does not write.
pub async fn touch(db: &Db, id: &str, now: i64, stale_ms: i64) -> Result<(), sqlx::Error> {
    let mut turn = db.turn().await?;
    sqlx::query("UPDATE tickets SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $3")
        .bind(now)
        .bind(id)
        .bind(now - stale_ms)
        .execute(&mut *turn)
        .await?;
    Ok(())
}

/// The player has seen their promotion: the ticket is claimed (its live key passes to the
/// session).
pub async fn claim(db: &Db, id: &str) -> Result<bool, sqlx::Error> {
    let mut turn = db.turn().await?;
    let r = sqlx::query(
        "UPDATE tickets SET state = 'claimed', live_key = NULL WHERE id = $1 AND state = 'promoted'",
    )
    .bind(id)
    .execute(&mut *turn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The player's open ticket (waiting or promoted), by live key.
pub async fn live_by_key(tx: &mut WriteTx, live_key: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM tickets WHERE live_key = $1")
        .bind(live_key)
        .fetch_optional(&mut ***tx)
        .await
}

/// Evicts a ticket if it is still waiting and still quiet since `cutoff`; true if it did.
pub async fn evict_if_quiet(tx: &mut WriteTx, id: &str, cutoff: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE tickets SET state = 'evicted', live_key = NULL WHERE id = $1 AND state = 'waiting' AND last_seen_at < $2",
    )
    .bind(id)
    .bind(cutoff)
    .execute(&mut ***tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Expires a promotion nobody claimed; true if it was still promoted.
pub async fn expire_promoted(tx: &mut WriteTx, id: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE tickets SET state = 'expired', live_key = NULL WHERE id = $1 AND state = 'promoted'",
    )
    .bind(id)
    .execute(&mut ***tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Waiting tickets whose clients went quiet before `cutoff`.
pub async fn quiet(pool: &AnyPool, cutoff: i64, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(QUIET)
        .bind(cutoff)
        .bind(limit)
        .fetch_all(pool)
        .await
}

/// Promoted tickets not claimed by `now`: (ticket, session).
pub async fn unclaimed(
    pool: &AnyPool,
    now: i64,
    limit: i64,
) -> Result<Vec<(String, Option<String>)>, sqlx::Error> {
    sqlx::query_as(UNCLAIMED)
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await
}

/// A waiting ticket as the queue monitor shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WaitingRow {
    pub id: String,
    pub tenant_id: String,
    pub game_id: String,
    pub user_key: String,
    pub reason: String,
    pub created_at: i64,
}

/// Waiting tickets in line order (per tenant: tier, level, arrival), one tenant's or all, at
/// most `limit`.
pub async fn waiting_in_line(
    pool: &AnyPool,
    tenant: Option<&str>,
    limit: i64,
) -> Result<Vec<WaitingRow>, sqlx::Error> {
    const COLS: &str = "SELECT id, tenant_id, game_id, user_key, reason, created_at FROM tickets WHERE state = 'waiting'";
    const ORDER: &str = "ORDER BY tenant_id, priority_tier DESC, user_level DESC, seq, id LIMIT";
    match tenant {
        Some(t) => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{COLS} AND tenant_id = $1 {ORDER} $2"
            )))
            .bind(t.to_owned())
            .bind(limit)
            .fetch_all(pool)
            .await
        }
        None => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{COLS} {ORDER} $1")))
                .bind(limit)
                .fetch_all(pool)
                .await
        }
    }
}

/// How many tickets wait, one tenant's or all, one game's or all.
pub async fn count_waiting(
    pool: &AnyPool,
    tenant: Option<&str>,
    game: Option<&str>,
) -> Result<i64, sqlx::Error> {
    let mut sql = String::from("SELECT COUNT(*) FROM tickets WHERE state = 'waiting'");
    let values = super::and_equal(&mut sql, 0, &[("tenant_id", tenant), ("game_id", game)]);
    let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
    for value in values {
        q = q.bind(value.to_owned());
    }
    q.fetch_one(pool).await
}
