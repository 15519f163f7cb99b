//! Play recordings (`recordings`): one row per recording, `recording` while a board writes
//! it, then `ready` (its file stored) or `failed`.

use crate::db::{Db, WriteTx};
use playrack_wire::Timestamp;
use playrack_wire::api::{Recording, RecordingState};
use sqlx::AnyPool;

/// A state as the `recordings.state` column spells it.
pub fn state_text(s: RecordingState) -> &'static str {
    match s {
        RecordingState::Recording => "recording",
        RecordingState::Ready => "ready",
        RecordingState::Failed => "failed",
    }
}

/// The state a `recordings.state` value names (unknown text reads as failed).
pub fn parse_state(s: &str) -> RecordingState {
    match s {
        "recording" => RecordingState::Recording,
        "ready" => RecordingState::Ready,
        _ => RecordingState::Failed,
    }
}

const COLUMNS: &str = "id, tenant_id, session_id, game_id, board_id, state, frames, duration_ms, size_bytes, error, created_at, finished_at, expires_at";

/// A `recordings` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecordingRow {
    pub id: String,
    pub tenant_id: String,
    pub session_id: String,
    pub game_id: String,
    pub board_id: String,
    pub state: String,
    pub frames: i64,
    pub duration_ms: i64,
    pub size_bytes: i64,
    pub error: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    pub expires_at: i64,
}

impl RecordingRow {
    pub fn to_wire(&self) -> Recording {
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Recording {
            id: self.id.clone(),
            session_id: self.session_id.clone(),
            tenant_id: self.tenant_id.clone(),
            game_id: self.game_id.clone(),
            state: parse_state(&self.state),
            frames: n(self.frames),
            duration_ms: n(self.duration_ms),
            size_bytes: n(self.size_bytes),
            error: self.error.clone(),
            created_at: Timestamp(self.created_at),
            finished_at: self.finished_at.map(Timestamp),
            expires_at: Timestamp(self.expires_at),
        }
    }
}

/// A new recording, `recording`.
pub struct NewRecording<'a> {
    pub id: &'a str,
    pub tenant_id: &'a str,
    pub session_id: &'a str,
    pub game_id: &'a str,
    pub board_id: &'a str,
    pub requested_by: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn insert(tx: &mut WriteTx, r: &NewRecording<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO recordings (id, tenant_id, session_id, game_id, board_id, state, frames, duration_ms, size_bytes, requested_by, created_at, expires_at) \
         VALUES ($1,$2,$3,$4,$5,$6,0,0,0,$7,$8,$9)",
    )
    .bind(r.id)
    .bind(r.tenant_id)
    .bind(r.session_id)
    .bind(r.game_id)
    .bind(r.board_id)
    .bind(state_text(RecordingState::Recording))
    .bind(r.requested_by)
    .bind(r.now)
    .bind(r.expires_at)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

pub async fn get(pool: &AnyPool, id: &str) -> Result<Option<RecordingRow>, sqlx::Error> {
    // Built from constants only.
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM recordings WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// A page of recordings by id after `after`, of one tenant and/or one session when given.
pub async fn list(
    pool: &AnyPool,
    tenant: Option<&str>,
    session: Option<&str>,
    after: &str,
    limit: i64,
) -> Result<Vec<RecordingRow>, sqlx::Error> {
    let mut sql = format!("SELECT {COLUMNS} FROM recordings WHERE id > $1");
    let values = super::and_equal(
        &mut sql,
        1,
        &[("tenant_id", tenant), ("session_id", session)],
    );
    sql.push_str(&format!(" ORDER BY id LIMIT ${}", values.len() + 2));
    // Built from constants and column names only; the values are bound.
    let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(after);
    for v in values {
        q = q.bind(v);
    }
    q.bind(limit).fetch_all(pool).await
}

/// How a recording ended, as its board said.
pub enum Finished<'a> {
    Ready {
        frames: i64,
        duration_ms: i64,
        size_bytes: i64,
        sha256: &'a str,
    },
    Failed(&'a str),
}

/// Ends a `recording` row; false if it was not recording any more.
pub async fn finish(
    db: &Db,
    id: &str,
    outcome: Finished<'_>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let mut turn = db.turn().await?;
    let q = match outcome {
        Finished::Ready {
            frames,
            duration_ms,
            size_bytes,
            sha256,
        } => sqlx::query(
            "UPDATE recordings SET state = $1, frames = $2, duration_ms = $3, size_bytes = $4, sha256 = $5, finished_at = $6 \
             WHERE id = $7 AND state = $8",
        )
        .bind(state_text(RecordingState::Ready))
        .bind(frames)
        .bind(duration_ms)
        .bind(size_bytes)
        .bind(sha256)
        .bind(now)
        .bind(id)
        .bind(state_text(RecordingState::Recording)),
        Finished::Failed(error) => sqlx::query(
            "UPDATE recordings SET state = $1, error = $2, finished_at = $3 WHERE id = $4 AND state = $5",
        )
        .bind(state_text(RecordingState::Failed))
        .bind(error)
        .bind(now)
        .bind(id)
        .bind(state_text(RecordingState::Recording)),
    };
    Ok(q.execute(&mut *turn).await?.rows_affected() == 1)
}

/// Up to `limit` recordings past their expiry (their rows and files go).
pub async fn expired(pool: &AnyPool, now: i64, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM recordings WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await
}

pub async fn delete(db: &Db, id: &str) -> Result<(), sqlx::Error> {
    let mut turn = db.turn().await?;
    sqlx::query("DELETE FROM recordings WHERE id = $1")
        .bind(id)
        .execute(&mut *turn)
        .await?;
    Ok(())
}

/// Recordings still `recording` whose session ended before `ended_before` (their board never
/// delivered them), at most `limit`.
pub async fn undelivered(
    pool: &AnyPool,
    ended_before: i64,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT r.id FROM recordings r JOIN sessions s ON s.id = r.session_id \
         WHERE r.state = $1 AND s.ended_at IS NOT NULL AND s.ended_at < $2 ORDER BY r.created_at LIMIT $3",
    )
    .bind(state_text(RecordingState::Recording))
    .bind(ended_before)
    .bind(limit)
    .fetch_all(pool)
    .await
}
