//! Sessions: the live ones found by index (never by scanning history), the reservation, the
//! end, and the deadlines the sweeper looks at.
//!
//! A session is live exactly while `live_key` is set (`tenant|user|game`, unique: one live play
//! per player and game); every query over live sessions says `live_key IS NOT NULL`, which the
//! partial indexes of migration 0009 match on both databases.

use super::{Backend, slots};
use crate::db::{Db, WriteTx};
use playrack_wire::api::{EndReason, SessionState};
use sqlx::AnyPool;

/// The SQL of [`live_by_key`].
pub const LIVE_BY_KEY: &str =
    "SELECT id, room_id, board_id, spec_id, downgraded FROM sessions WHERE live_key = $1";
/// The SQL of [`no_shows`].
pub const NO_SHOWS: &str =
    "SELECT id FROM sessions WHERE connect_deadline < $1 ORDER BY connect_deadline LIMIT $2";
/// The SQL of [`timers_due`].
pub const TIMERS_DUE: &str = "SELECT id, playing_since, max_play_secs, reconnect_grace_secs, idle_kick_secs, last_input_at, disconnected_at \
         FROM sessions WHERE next_timer_at <= $1 ORDER BY next_timer_at LIMIT $2";
/// The SQL of [`live_on_board`].
pub const LIVE_ON_BOARD: &str =
    "SELECT id, state FROM sessions WHERE board_id = $1 AND live_key IS NOT NULL";
/// The SQL of [`held_ended_on_board`].
pub const HELD_ENDED_ON_BOARD: &str =
    "SELECT id FROM sessions WHERE board_id = $1 AND slot_held = 1 AND live_key IS NULL";
/// The SQL of [`oldest_live`].
pub const OLDEST_LIVE: &str = "SELECT created_at FROM sessions WHERE tenant_id = $1 AND live_key IS NOT NULL ORDER BY created_at LIMIT $2";
/// The SQL of [`recent_lengths`].
pub const RECENT_LENGTHS: &str = "SELECT ended_at - created_at FROM sessions WHERE tenant_id = $1 AND ended_at IS NOT NULL \
         ORDER BY ended_at DESC LIMIT $2";
/// The SQL of [`live_counts`].
pub const LIVE_COUNTS: &str =
    "SELECT state, COUNT(*) AS n FROM sessions WHERE live_key IS NOT NULL GROUP BY state";

/// What the prepare command of a reserved session is made of.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PrepareView {
    pub board_id: String,
    pub spec_id: String,
    pub tenant_id: String,
    pub user_key: String,
    pub game_id: String,
    pub version_id: String,
    pub archive_id: Option<String>,
    pub archive_policy: String,
    pub sha256: Option<String>,
    /// JSON `ApkSummary`.
    pub apk: String,
    pub connect_deadline: Option<i64>,
    pub idle_kick_secs: i64,
}

/// A reserved session's prepare command inputs (`None` unless it is still reserved).
pub async fn prepare_view(pool: &AnyPool, id: &str) -> Result<Option<PrepareView>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.board_id, s.spec_id, s.tenant_id, s.user_key, s.game_id, s.version_id, s.archive_id, g.archive_policy, \
         v.sha256, v.apk, s.connect_deadline, s.idle_kick_secs \
         FROM sessions s JOIN versions v ON v.id = s.version_id JOIN games g ON g.id = s.game_id \
         WHERE s.id = $1 AND s.state = 'reserved'",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// The prepare command is on its way to the board.
/// A live session reserved (or already preparing: a board being told again) goes `preparing`;
/// false if it is no longer live. On PostgreSQL the row stays locked until the caller commits,
/// so an end cannot slip between this and the prepare command written beside it.
pub async fn begin_preparing(tx: &mut WriteTx, id: &str) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "UPDATE sessions SET state = 'preparing' WHERE id = $1 AND live_key IS NOT NULL \
         AND state IN ('reserved', 'preparing')",
    )
    .bind(id)
    .execute(&mut ***tx)
    .await?;
    Ok(n.rows_affected() == 1)
}

pub async fn mark_preparing(db: &Db, id: &str) -> Result<(), sqlx::Error> {
    let mut turn = db.turn().await?;
    sqlx::query("UPDATE sessions SET state = 'preparing' WHERE id = $1 AND state = 'reserved'")
        .bind(id)
        .execute(&mut *turn)
        .await?;
    Ok(())
}

/// Where a session's player connects: its board, its state, the board's signaling URL.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConnectView {
    pub board_id: String,
    pub state: String,
    pub signaling_url: Option<String>,
}

pub async fn connect_view(pool: &AnyPool, id: &str) -> Result<Option<ConnectView>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.board_id, s.state, b.signaling_url FROM sessions s JOIN boards b ON b.id = s.board_id WHERE s.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// The board of a live session.
pub async fn live_board(pool: &AnyPool, id: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT board_id FROM sessions WHERE id = $1 AND live_key IS NOT NULL")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Touch-to-screen samples of one report, summed for the session's row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LatencyBatch {
    pub samples: i64,
    pub sum_us: i64,
    pub last_us: Option<i64>,
    pub max_us: Option<i64>,
}

impl LatencyBatch {
    /// The batch of `ms` (already validated as finite and in range by the caller).
    pub fn of(ms: &[f32]) -> LatencyBatch {
        let us: Vec<i64> = ms.iter().map(|m| (f64::from(*m) * 1000.0) as i64).collect();
        LatencyBatch {
            samples: us.len() as i64,
            sum_us: us.iter().sum(),
            last_us: us.last().copied(),
            max_us: us.iter().copied().max(),
        }
    }
}

/// Records a board's `ready` or `playing` report. Playing means the player connected, so the
/// connect deadline is over; a change of connection (or the first playing report) asks the
/// timers to look at the session now (`next_timer_at`). The report's latency samples are added
/// to the session's. Returns the session's room and spec (the metrics' labels), when it is
/// live.
pub async fn record_report(
    db: &Db,
    id: &str,
    playing: bool,
    connected: bool,
    last_input_at: Option<i64>,
    latency: LatencyBatch,
    now: i64,
) -> Result<Option<(String, String)>, sqlx::Error> {
    let mut turn = db.turn().await?;
    sqlx::query_as(
        "UPDATE sessions SET state = CASE WHEN state = 'playing' THEN 'playing' ELSE $1 END, \
         ready_at = COALESCE(ready_at, $2), \
         playing_since = CASE WHEN $1 = 'playing' THEN COALESCE(playing_since, $2) ELSE playing_since END, \
         connect_deadline = CASE WHEN $1 = 'playing' OR state = 'playing' THEN NULL ELSE connect_deadline END, \
         next_timer_at = CASE WHEN $1 = 'playing' OR state = 'playing' THEN \
           (CASE WHEN next_timer_at IS NULL OR connected <> $3 THEN $2 ELSE next_timer_at END) ELSE NULL END, \
         connected = $3, \
         disconnected_at = CASE WHEN $3 = 1 THEN NULL ELSE COALESCE(disconnected_at, $2) END, \
         last_input_at = COALESCE($4, last_input_at), \
         latency_samples = latency_samples + $6, \
         latency_sum_us = latency_sum_us + $7, \
         latency_last_us = COALESCE($8, latency_last_us), \
         latency_max_us = CASE WHEN latency_max_us IS NULL OR $9 > latency_max_us THEN COALESCE($9, latency_max_us) ELSE latency_max_us END \
         WHERE id = $5 AND live_key IS NOT NULL \
         RETURNING room_id, spec_id",
    )
    .bind(state_str(if playing {
        SessionState::Playing
    } else {
        SessionState::Ready
    }))
    .bind(now)
    .bind(i64::from(connected))
    .bind(last_input_at)
    .bind(id)
    .bind(latency.samples)
    .bind(latency.sum_us)
    .bind(latency.last_us)
    .bind(latency.max_us)
    .fetch_optional(&mut *turn)
    .await
}

/// Sets whether a session holds its board slot (after a board's hello said what it runs; the
/// board's counts are re-counted from these by `slots::recount`).
pub async fn set_held(tx: &mut WriteTx, id: &str, held: bool) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET slot_held = $1 WHERE id = $2")
        .bind(i64::from(held))
        .bind(id)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// How a session of a board ended, with its game's archive policy (`None` unless ended); in
/// a transaction or on the pool.
pub async fn how_it_ended<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    id: &str,
    board_id: &str,
) -> Result<Option<(Option<String>, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.end_reason, g.archive_policy FROM sessions s JOIN games g ON g.id = s.game_id \
         WHERE s.id = $1 AND s.board_id = $2 AND s.state = 'ended'",
    )
    .bind(id)
    .bind(board_id)
    .fetch_optional(db)
    .await
}

/// A session's board, its game's archive policy and its tenant.
pub async fn board_and_policy(
    pool: &AnyPool,
    id: &str,
) -> Result<Option<(String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.board_id, g.archive_policy, s.tenant_id FROM sessions s JOIN games g ON g.id = s.game_id WHERE s.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// A live session of a board: its state and spec.
pub async fn live_on(
    pool: &AnyPool,
    id: &str,
    board_id: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT state, spec_id FROM sessions WHERE id = $1 AND board_id = $2 AND live_key IS NOT NULL",
    )
    .bind(id)
    .bind(board_id)
    .fetch_optional(pool)
    .await
}

/// Where a live session of a board is placed, and for whom.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Placed {
    pub tenant_id: String,
    pub game_id: String,
    pub version_id: String,
    pub user_key: String,
    pub spec_id: String,
    pub room_id: String,
    pub order_id: String,
}

pub async fn placed(
    pool: &AnyPool,
    id: &str,
    board_id: &str,
) -> Result<Option<Placed>, sqlx::Error> {
    sqlx::query_as(
        "SELECT tenant_id, game_id, version_id, user_key, spec_id, room_id, order_id FROM sessions \
         WHERE id = $1 AND board_id = $2 AND live_key IS NOT NULL",
    )
    .bind(id)
    .bind(board_id)
    .fetch_optional(pool)
    .await
}

/// Moves a live reservation from one board to another place (whose slot, room and order the
/// caller took in `tx`); it is reserved again there. False if it is no longer on `from_board`.
pub async fn move_to(
    tx: &mut WriteTx,
    id: &str,
    from_board: &str,
    (board_id, room_id, order_id, spec_id): (&str, &str, &str, &str),
) -> Result<bool, sqlx::Error> {
    let moved = sqlx::query(
        "UPDATE sessions SET board_id = $1, room_id = $2, order_id = $3, spec_id = $4, state = 'reserved', \
         slot_held = 1 WHERE id = $5 AND board_id = $6 AND live_key IS NOT NULL",
    )
    .bind(board_id)
    .bind(room_id)
    .bind(order_id)
    .bind(spec_id)
    .bind(id)
    .bind(from_board)
    .execute(&mut ***tx)
    .await?;
    Ok(moved.rows_affected() == 1)
}

/// A session state as the `sessions.state` column spells it.
pub fn state_str(s: SessionState) -> &'static str {
    match s {
        SessionState::Reserved => "reserved",
        SessionState::Preparing => "preparing",
        SessionState::Ready => "ready",
        SessionState::Playing => "playing",
        SessionState::Ending => "ending",
        SessionState::Ended => "ended",
    }
}

/// The state a `sessions.state` value names (unknown text reads as `reserved`, which the
/// controller never writes).
pub fn parse_state(s: &str) -> SessionState {
    match s {
        "preparing" => SessionState::Preparing,
        "ready" => SessionState::Ready,
        "playing" => SessionState::Playing,
        "ending" => SessionState::Ending,
        "ended" => SessionState::Ended,
        _ => SessionState::Reserved,
    }
}

/// The player's live play, as acquire answers it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LivePlay {
    pub id: String,
    pub room_id: String,
    pub board_id: String,
    pub spec_id: String,
    pub downgraded: i64,
}

pub async fn live_by_key(
    tx: &mut WriteTx,
    live_key: &str,
) -> Result<Option<LivePlay>, sqlx::Error> {
    sqlx::query_as(LIVE_BY_KEY)
        .bind(live_key)
        .fetch_optional(&mut ***tx)
        .await
}

/// A reservation to insert.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub id: &'a str,
    pub tenant_id: &'a str,
    pub game_id: &'a str,
    pub version_id: &'a str,
    pub user_key: &'a str,
    pub link_id: Option<&'a str>,
    pub spec_id: &'a str,
    pub order_id: &'a str,
    pub room_id: &'a str,
    pub board_id: &'a str,
    pub downgraded: bool,
    pub max_play_secs: u32,
    pub reconnect_grace_secs: u32,
    pub idle_kick_secs: u32,
    /// JSON `DeviceInfo`.
    pub device: Option<String>,
    pub created_at: i64,
    pub connect_deadline: i64,
    pub live_key: &'a str,
    pub archive_id: Option<&'a str>,
    pub ticket_id: Option<&'a str>,
}

/// Inserts a reserved session that holds its board slot (the caller took the slot, the room
/// and the order in the same transaction).
pub async fn insert_reserved(tx: &mut WriteTx, s: &NewSession<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (id, tenant_id, game_id, version_id, user_key, link_id, spec_id, order_id, room_id, board_id, \
         state, downgraded, max_play_secs, reconnect_grace_secs, idle_kick_secs, device, created_at, live_key, archive_id, \
         slot_held, connect_deadline, ticket_id) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,'reserved',$11,$12,$13,$14,$15,$16,$17,$18,1,$19,$20)",
    )
    .bind(s.id)
    .bind(s.tenant_id)
    .bind(s.game_id)
    .bind(s.version_id)
    .bind(s.user_key)
    .bind(s.link_id)
    .bind(s.spec_id)
    .bind(s.order_id)
    .bind(s.room_id)
    .bind(s.board_id)
    .bind(i64::from(s.downgraded))
    .bind(i64::from(s.max_play_secs))
    .bind(i64::from(s.reconnect_grace_secs))
    .bind(i64::from(s.idle_kick_secs))
    .bind(s.device.as_deref())
    .bind(s.created_at)
    .bind(s.live_key)
    .bind(s.archive_id)
    .bind(s.connect_deadline)
    .bind(s.ticket_id)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// What an end changed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Ended {
    pub board_id: String,
    /// The game version it played (crash counts are kept per version).
    pub version_id: String,
    pub room_id: String,
    pub order_id: String,
    /// The state it ended from.
    pub state: String,
    pub ticket_id: Option<String>,
}

/// Ends a live session: state, reason and time, its live key freed, its room and order no
/// longer counting it. A reservation the board was never asked to prepare gives its slot back
/// at once; any other keeps it until the board reports the instance released
/// ([`slots::release`]). `None` if it had already ended (ends are idempotent).
pub async fn end(
    tx: &mut WriteTx,
    backend: Backend,
    id: &str,
    reason: EndReason,
    now: i64,
) -> Result<Option<Ended>, sqlx::Error> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT board_id, version_id, room_id, order_id, state, ticket_id FROM sessions WHERE id = $1 AND live_key IS NOT NULL"
        }
        Backend::Postgres => {
            "SELECT board_id, version_id, room_id, order_id, state, ticket_id FROM sessions WHERE id = $1 AND live_key IS NOT NULL FOR UPDATE"
        }
    };
    let Some(row): Option<Ended> = sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(&mut ***tx)
        .await?
    else {
        return Ok(None);
    };
    let done = sqlx::query(
        "UPDATE sessions SET state = 'ended', end_reason = $1, ended_at = $2, live_key = NULL, \
         connect_deadline = NULL, next_timer_at = NULL WHERE id = $3 AND live_key IS NOT NULL",
    )
    .bind(reason.as_str())
    .bind(now)
    .bind(id)
    .execute(&mut ***tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    if row.state == "reserved" {
        slots::release(tx, id).await?;
    }
    super::capacity::give_back(tx, &row.room_id, &row.order_id).await?;
    Ok(Some(row))
}

/// Live sessions whose connect deadline has passed (reserved, preparing or ready too long).
pub async fn no_shows(pool: &AnyPool, now: i64, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(NO_SHOWS)
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await
}

/// A playing session's clock, for the timers.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TimerRow {
    pub id: String,
    pub playing_since: Option<i64>,
    pub max_play_secs: i64,
    pub reconnect_grace_secs: i64,
    pub idle_kick_secs: i64,
    pub last_input_at: Option<i64>,
    pub disconnected_at: Option<i64>,
}

/// Playing sessions whose next timer may have fired by `now`.
pub async fn timers_due(
    pool: &AnyPool,
    now: i64,
    limit: i64,
) -> Result<Vec<TimerRow>, sqlx::Error> {
    sqlx::query_as(TIMERS_DUE)
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await
}

/// No timer of this playing session fires before `at`.
pub async fn set_next_timer(db: &Db, id: &str, at: i64) -> Result<(), sqlx::Error> {
    let mut turn = db.turn().await?;
    sqlx::query("UPDATE sessions SET next_timer_at = $1 WHERE id = $2 AND live_key IS NOT NULL")
        .bind(at)
        .bind(id)
        .execute(&mut *turn)
        .await?;
    Ok(())
}

/// A live session of a board, for reconcile.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BoardPlay {
    pub id: String,
    pub state: String,
}

pub async fn live_on_board(pool: &AnyPool, board_id: &str) -> Result<Vec<BoardPlay>, sqlx::Error> {
    sqlx::query_as(LIVE_ON_BOARD)
        .bind(board_id)
        .fetch_all(pool)
        .await
}

/// Ended sessions of a board that still hold a slot (the board has not said it let go).
pub async fn held_ended_on_board(
    pool: &AnyPool,
    board_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(HELD_ENDED_ON_BOARD)
        .bind(board_id)
        .fetch_all(pool)
        .await
}

/// When the tenant's `limit` oldest live plays were reserved (the first to end, for ETAs).
pub async fn oldest_live(
    tx: &mut WriteTx,
    tenant_id: &str,
    limit: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(OLDEST_LIVE)
        .bind(tenant_id)
        .bind(limit)
        .fetch_all(&mut ***tx)
        .await
}

/// The lengths (ms) of the tenant's `limit` most recently ended plays.
pub async fn recent_lengths(
    tx: &mut WriteTx,
    tenant_id: &str,
    limit: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(RECENT_LENGTHS)
        .bind(tenant_id)
        .bind(limit)
        .fetch_all(&mut ***tx)
        .await
}

/// Live sessions by state, for the gauges.
pub async fn live_counts(pool: &AnyPool) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(LIVE_COUNTS).fetch_all(pool).await
}

/// A session as the API shows it (the coordinator's record, live or ended).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id: String,
    pub tenant_id: String,
    pub game_id: String,
    pub version_id: String,
    pub user_key: String,
    pub spec_id: String,
    pub room_id: String,
    pub board_id: String,
    pub state: String,
    pub end_reason: Option<String>,
    pub downgraded: i64,
    pub created_at: i64,
    pub ended_at: Option<i64>,
    pub instance_id: Option<String>,
    pub connected: i64,
    pub latency_samples: i64,
    pub latency_sum_us: i64,
    pub latency_last_us: Option<i64>,
    pub latency_max_us: Option<i64>,
}

impl SessionRow {
    /// The touch-to-screen latency the player measured so far, if any.
    pub fn latency(&self) -> Option<playrack_wire::api::LatencySummary> {
        let ms = |us: i64| us as f64 / 1000.0;
        (self.latency_samples > 0).then(|| playrack_wire::api::LatencySummary {
            samples: self.latency_samples as u64,
            last_ms: ms(self.latency_last_us.unwrap_or(0)),
            mean_ms: ms(self.latency_sum_us) / self.latency_samples as f64,
            max_ms: ms(self.latency_max_us.unwrap_or(0)),
        })
    }

    pub fn to_wire(&self) -> playrack_wire::api::Session {
        playrack_wire::api::Session {
            id: self.id.clone(),
            tenant_id: self.tenant_id.clone(),
            game_id: self.game_id.clone(),
            version_id: self.version_id.clone(),
            user: self.user_key.clone(),
            spec_id: self.spec_id.clone(),
            room_id: self.room_id.clone(),
            board_id: self.board_id.clone(),
            state: parse_state(&self.state),
            end_reason: self
                .end_reason
                .as_deref()
                .map(|s| EndReason::parse(s).unwrap_or(EndReason::Error)),
            downgraded: self.downgraded != 0,
            created_at: playrack_wire::Timestamp(self.created_at),
            ended_at: self.ended_at.map(playrack_wire::Timestamp),
        }
    }
}

const SESSION_COLUMNS: &str = "id, tenant_id, game_id, version_id, user_key, spec_id, room_id, board_id, state, \
     end_reason, downgraded, created_at, ended_at, instance_id, connected, \
     latency_samples, latency_sum_us, latency_last_us, latency_max_us";

/// One session by id.
pub async fn get(pool: &AnyPool, id: &str) -> Result<Option<SessionRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Which sessions a page lists.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter<'a> {
    /// One tenant's (else every tenant's).
    pub tenant: Option<&'a str>,
    /// One game's.
    pub game: Option<&'a str>,
    /// Only live ones (found through the live partial indexes, never among history).
    pub live: bool,
}

/// The SQL of [`page`] for `filter`: `$1` the cursor, `$2` the limit, then the tenant and the
/// game where the filter names them.
pub fn page_sql(filter: Filter<'_>) -> String {
    let mut sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id > $1");
    if filter.live {
        sql.push_str(" AND live_key IS NOT NULL");
    }
    super::and_equal(&mut sql, 2, &filter.columns());
    sql.push_str(" ORDER BY id LIMIT $2");
    sql
}

impl Filter<'_> {
    fn columns(&self) -> [(&'static str, Option<&str>); 2] {
        [("tenant_id", self.tenant), ("game_id", self.game)]
    }
}

/// A page of sessions by id after `after`, at most `limit`. Each combination of filters has
/// its own statement ([`page_sql`]), so each can use its index (`sessions_tenant`, the live
/// partial indexes).
pub async fn page(
    pool: &AnyPool,
    filter: Filter<'_>,
    after: &str,
    limit: i64,
) -> Result<Vec<SessionRow>, sqlx::Error> {
    let sql = page_sql(filter);
    let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(after.to_owned())
        .bind(limit);
    for value in filter.columns().into_iter().filter_map(|(_, v)| v) {
        q = q.bind(value.to_owned());
    }
    q.fetch_all(pool).await
}
