//! Metering: per-session meters (`session_meter`: when play started, the price then, the
//! `session.duration` periods announced) and the usage ledger (`usage_ledger`, one row per ended
//! session — its primary key refuses a second).
//!
//! The reads here join the lead's `sessions` (and the catalog's `specs`) for the facts a meter,
//! a ledger row or an event needs; session states are spelled by [`sessions::state_str`].

use super::sessions;
use crate::db::WriteTx;
use playrack_wire::api::{LedgerEntry, SessionState};
use sqlx::AnyPool;

/// What starting a session's meter needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StartFacts {
    pub tenant_id: String,
    pub state: String,
    pub price_per_minute_micros: i64,
    pub link_id: Option<String>,
}

/// A session's tenant, state and its spec's current price.
pub async fn start_facts(
    tx: &mut WriteTx,
    session_id: &str,
) -> Result<Option<StartFacts>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.tenant_id, s.state, p.price_per_minute_micros, s.link_id FROM sessions s \
         JOIN specs p ON p.id = s.spec_id WHERE s.id = $1",
    )
    .bind(session_id)
    .fetch_optional(&mut ***tx)
    .await
}

/// Starts a session's meter at `at` with the price then; false if it had started already.
pub async fn start_meter(
    tx: &mut WriteTx,
    session_id: &str,
    at: i64,
    price_per_minute_micros: i64,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO session_meter (session_id, started_at, price_per_minute_micros, duration_marks, live) \
         VALUES ($1, $2, $3, 0, 1) ON CONFLICT (session_id) DO NOTHING",
    )
    .bind(session_id)
    .bind(at)
    .bind(price_per_minute_micros)
    .execute(&mut ***tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// What an ended session's ledger row is made of.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EndFacts {
    pub tenant_id: String,
    pub game_id: String,
    pub spec_id: String,
    pub room_id: String,
    pub board_id: String,
    pub user_key: String,
    pub end_reason: Option<String>,
    pub created_at: i64,
    pub ended_at: Option<i64>,
    /// The meter's start, else the session's own `playing_since`.
    pub started_at: Option<i64>,
    /// The meter's price, else the spec's, else 0.
    pub price: i64,
    /// The try-play link the play came through.
    pub link_id: Option<String>,
    pub version_id: String,
    /// The touch-to-screen samples its players sent: how many, and their sum in µs.
    pub latency_samples: i64,
    pub latency_sum_us: i64,
}

/// The facts of an ended session (`None` unless it has ended).
pub async fn end_facts(
    tx: &mut WriteTx,
    session_id: &str,
) -> Result<Option<EndFacts>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.tenant_id, s.game_id, s.spec_id, s.room_id, s.board_id, s.user_key, s.end_reason, s.created_at, s.link_id, \
         s.version_id, s.latency_samples, s.latency_sum_us, \
         s.ended_at, COALESCE(m.started_at, s.playing_since) AS started_at, \
         COALESCE(m.price_per_minute_micros, p.price_per_minute_micros, 0) AS price \
         FROM sessions s LEFT JOIN session_meter m ON m.session_id = s.id LEFT JOIN specs p ON p.id = s.spec_id \
         WHERE s.id = $1 AND s.state = $2",
    )
    .bind(session_id)
    .bind(sessions::state_str(SessionState::Ended))
    .fetch_optional(&mut ***tx)
    .await
}

/// Writes a session's ledger row, then stops its meter (no more duration events); false if
/// the row existed already (it is left as it was).
pub async fn insert_ledger(tx: &mut WriteTx, e: &LedgerEntry) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO usage_ledger (session_id, tenant_id, game_id, spec_id, room_id, board_id, user_key, end_reason, \
         reserved_at, started_at, ended_at, billable_secs, price_per_minute_micros, amount_micros) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) ON CONFLICT (session_id) DO NOTHING",
    )
    .bind(&e.session_id)
    .bind(&e.tenant_id)
    .bind(&e.game_id)
    .bind(&e.spec_id)
    .bind(&e.room_id)
    .bind(&e.board_id)
    .bind(&e.user)
    .bind(e.end_reason.as_str())
    .bind(e.reserved_at.millis())
    .bind(e.started_at.map(|t| t.millis()))
    .bind(e.ended_at.millis())
    .bind(e.billable_secs as i64)
    .bind(e.price_per_minute_micros)
    .bind(e.amount_micros)
    .execute(&mut ***tx)
    .await?
    .rows_affected();
    sqlx::query("UPDATE session_meter SET live = 0 WHERE session_id = $1")
        .bind(&e.session_id)
        .execute(&mut ***tx)
        .await?;
    Ok(inserted == 1)
}

/// The session facts every event carries.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventFacts {
    pub id: String,
    pub game_id: String,
    pub version_id: String,
    pub spec_id: String,
    pub room_id: String,
    pub user_key: String,
    pub state: String,
    pub end_reason: Option<String>,
    pub created_at: i64,
    pub ended_at: Option<i64>,
    /// The meter's start, else the session's own `playing_since`.
    pub started_at: Option<i64>,
}

/// A session's event facts.
pub async fn event_facts(
    tx: &mut WriteTx,
    session_id: &str,
) -> Result<Option<EventFacts>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.id, s.game_id, s.version_id, s.spec_id, s.room_id, s.user_key, s.state, s.end_reason, s.created_at, \
         s.ended_at, COALESCE(m.started_at, s.playing_since) AS started_at FROM sessions s \
         LEFT JOIN session_meter m ON m.session_id = s.id WHERE s.id = $1",
    )
    .bind(session_id)
    .fetch_optional(&mut ***tx)
    .await
}

/// A live meter that completed another `session.duration` period.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DurationDue {
    pub session_id: String,
    pub started_at: i64,
    pub duration_marks: i64,
    pub tenant_id: String,
}

/// Up to `limit` live meters of sessions not ended whose next period of `period_ms` is
/// complete at `now`.
pub async fn durations_due(
    pool: &AnyPool,
    period_ms: i64,
    now: i64,
    limit: i64,
) -> Result<Vec<DurationDue>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.session_id, m.started_at, m.duration_marks, s.tenant_id FROM session_meter m \
         JOIN sessions s ON s.id = m.session_id WHERE m.live = 1 AND s.state <> $1 \
         AND m.started_at + (m.duration_marks + 1) * $2 <= $3 LIMIT $4",
    )
    .bind(sessions::state_str(SessionState::Ended))
    .bind(period_ms)
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Moves a live meter's announced periods from `marks` to `mark`; false if another pass moved
/// them first (or the meter stopped).
pub async fn mark_duration(
    tx: &mut WriteTx,
    session_id: &str,
    marks: i64,
    mark: i64,
) -> Result<bool, sqlx::Error> {
    let claimed = sqlx::query(
        "UPDATE session_meter SET duration_marks = $1 WHERE session_id = $2 AND duration_marks = $3 AND live = 1",
    )
    .bind(mark)
    .bind(session_id)
    .bind(marks)
    .execute(&mut ***tx)
    .await?
    .rows_affected();
    Ok(claimed == 1)
}

/// The ledger summed per UTC day (`ended_at / 86400000`), game and spec.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UsageGroup {
    pub day: i64,
    pub game_id: String,
    pub spec_id: String,
    pub sessions: i64,
    pub secs: i64,
    pub amount: i64,
}

/// The ledger of `tenant_id` (every tenant for "") for sessions ended in `[from, to)`, summed
/// per day, game and spec.
pub async fn usage(
    pool: &AnyPool,
    tenant_id: &str,
    from: i64,
    to: i64,
) -> Result<Vec<UsageGroup>, sqlx::Error> {
    sqlx::query_as(
        "SELECT ended_at / 86400000 AS day, game_id, spec_id, COUNT(*) AS sessions, \
         CAST(SUM(billable_secs) AS BIGINT) AS secs, CAST(SUM(amount_micros) AS BIGINT) AS amount \
         FROM usage_ledger WHERE ($1 = '' OR tenant_id = $1) AND ended_at >= $2 AND ended_at < $3 \
         GROUP BY ended_at / 86400000, game_id, spec_id",
    )
    .bind(tenant_id)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
}
