//! Packages on rooms' shared volumes (`room_packages`) and on boards (`board_packages`).
//!
//! A room's copy of a package is `placing` until a controller has put it on the room's volume
//! and verified it, then `placed`; a failed try makes it `unreachable` until the next try is
//! due. One replica at a time works on a copy: it claims the row for a while
//! ([`claim`]) and renews the claim as the copy goes ([`progress`]). A board's copy is
//! `syncing`, `ready` or `failed`, as the board last reported.

use crate::db::{Db, WriteTx};
use playrack_wire::Timestamp;
use playrack_wire::api::{
    BoardTally, DeploymentBoard, DeploymentRoomState, VolumeCopy, VolumeCopyState,
};
use sqlx::AnyPool;

/// A volume copy's state as the `room_packages.state` column spells it.
pub fn copy_state_text(s: VolumeCopyState) -> &'static str {
    match s {
        VolumeCopyState::Placing => "placing",
        VolumeCopyState::Placed => "placed",
        VolumeCopyState::Unreachable => "unreachable",
    }
}

/// The state a `room_packages.state` value names (unknown text reads as placing).
pub fn parse_copy_state(s: &str) -> VolumeCopyState {
    match s {
        "placed" => VolumeCopyState::Placed,
        "unreachable" => VolumeCopyState::Unreachable,
        _ => VolumeCopyState::Placing,
    }
}

/// A `room_packages` row as the API shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
struct CopyRow {
    state: String,
    progress_percent: i64,
    error: Option<String>,
    attempts: i64,
    updated_at: i64,
}

impl From<CopyRow> for VolumeCopy {
    fn from(r: CopyRow) -> Self {
        VolumeCopy {
            state: parse_copy_state(&r.state),
            progress_percent: r.progress_percent.clamp(0, 100) as u8,
            error: r.error,
            attempts: r.attempts.clamp(0, i64::from(u32::MAX)) as u32,
            updated_at: Timestamp(r.updated_at),
        }
    }
}

/// Asks for `sha256` on `room`'s volume (a copy already wanted is left as it is).
pub async fn want(
    tx: &mut WriteTx,
    room: &str,
    sha256: &str,
    size: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO room_packages (room_id, sha256, size_bytes, state, progress_percent, attempts, next_attempt_at, updated_at) \
         VALUES ($1,$2,$3,$4,0,0,$5,$5) ON CONFLICT (room_id, sha256) DO NOTHING",
    )
    .bind(room)
    .bind(sha256)
    .bind(size)
    .bind(copy_state_text(VolumeCopyState::Placing))
    .bind(now)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// The room's volume is about to be set to `volume`: if that changes it, every package of the
/// room is placed again, on the new one (run it before the room's row is updated). Answers
/// whether it changed.
pub async fn volume_set(
    tx: &mut WriteTx,
    room: &str,
    volume: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE room_packages SET state = $1, progress_percent = 0, error = NULL, attempts = 0, \
         next_attempt_at = $2, claimed_by = NULL, claimed_until = NULL, updated_at = $2 \
         WHERE room_id = $3 AND EXISTS (SELECT 1 FROM rooms WHERE id = $3 AND shared_volume <> $4)",
    )
    .bind(copy_state_text(VolumeCopyState::Placing))
    .bind(now)
    .bind(room)
    .bind(volume)
    .execute(&mut ***tx)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A copy due to be placed, with its room's volume.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueCopy {
    pub room_id: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub attempts: i64,
    pub shared_volume: String,
}

/// Up to `limit` copies not placed, due by `now` and claimed by nobody (or by a claim that
/// lapsed), the longest-waiting first.
pub async fn due(pool: &AnyPool, now: i64, limit: i64) -> Result<Vec<DueCopy>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.room_id, p.sha256, p.size_bytes, p.attempts, r.shared_volume FROM room_packages p \
         JOIN rooms r ON r.id = p.room_id \
         WHERE p.state IN ($1, $2) AND p.next_attempt_at <= $3 AND (p.claimed_until IS NULL OR p.claimed_until < $3) \
         ORDER BY p.next_attempt_at, p.room_id, p.sha256 LIMIT $4",
    )
    .bind(copy_state_text(VolumeCopyState::Placing))
    .bind(copy_state_text(VolumeCopyState::Unreachable))
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Claims a due copy for `replica` until `until`; false if another replica has it (or it is
/// placed).
pub async fn claim(
    db: &Db,
    room: &str,
    sha256: &str,
    replica: &str,
    until: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let mut turn = db.turn().await?;
    let done = sqlx::query(
        "UPDATE room_packages SET claimed_by = $1, claimed_until = $2, state = $3, progress_percent = 0, updated_at = $4 \
         WHERE room_id = $5 AND sha256 = $6 AND state <> $7 AND (claimed_until IS NULL OR claimed_until < $4)",
    )
    .bind(replica)
    .bind(until)
    .bind(copy_state_text(VolumeCopyState::Placing))
    .bind(now)
    .bind(room)
    .bind(sha256)
    .bind(copy_state_text(VolumeCopyState::Placed))
    .execute(&mut *turn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Progress of a claimed copy; renews the claim until `until`.
pub async fn progress(
    db: &Db,
    room: &str,
    sha256: &str,
    replica: &str,
    percent: u8,
    until: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut turn = db.turn().await?;
    sqlx::query(
        "UPDATE room_packages SET progress_percent = $1, claimed_until = $2, updated_at = $3 \
         WHERE room_id = $4 AND sha256 = $5 AND claimed_by = $6",
    )
    .bind(i64::from(percent.min(100)))
    .bind(until)
    .bind(now)
    .bind(room)
    .bind(sha256)
    .bind(replica)
    .execute(&mut *turn)
    .await?;
    Ok(())
}

/// How a claimed try ended.
pub enum Outcome<'a> {
    Placed,
    /// Failed with `error`; tried again at `retry_at`.
    Failed {
        error: &'a str,
        retry_at: i64,
    },
}

/// Ends `replica`'s claim on a copy with its outcome; false if the claim was lost meanwhile
/// (the volume changed, or the claim lapsed and another replica took it).
pub async fn finish(
    db: &Db,
    room: &str,
    sha256: &str,
    replica: &str,
    outcome: Outcome<'_>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let mut turn = db.turn().await?;
    let q = match outcome {
        Outcome::Placed => sqlx::query(
            "UPDATE room_packages SET state = $1, progress_percent = 100, error = NULL, attempts = 0, \
             claimed_by = NULL, claimed_until = NULL, updated_at = $2 WHERE room_id = $3 AND sha256 = $4 AND claimed_by = $5",
        )
        .bind(copy_state_text(VolumeCopyState::Placed))
        .bind(now)
        .bind(room)
        .bind(sha256)
        .bind(replica),
        Outcome::Failed { error, retry_at } => sqlx::query(
            "UPDATE room_packages SET state = $1, progress_percent = 0, error = $2, attempts = attempts + 1, \
             next_attempt_at = $3, claimed_by = NULL, claimed_until = NULL, updated_at = $4 \
             WHERE room_id = $5 AND sha256 = $6 AND claimed_by = $7",
        )
        .bind(copy_state_text(VolumeCopyState::Unreachable))
        .bind(error)
        .bind(retry_at)
        .bind(now)
        .bind(room)
        .bind(sha256)
        .bind(replica),
    };
    Ok(q.execute(&mut *turn).await?.rows_affected() == 1)
}

/// A room's copy of a package, if one is wanted.
pub async fn copy(
    pool: &AnyPool,
    room: &str,
    sha256: &str,
) -> Result<Option<VolumeCopy>, sqlx::Error> {
    let row: Option<CopyRow> = sqlx::query_as(
        "SELECT state, progress_percent, error, attempts, updated_at FROM room_packages WHERE room_id = $1 AND sha256 = $2",
    )
    .bind(room)
    .bind(sha256)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(VolumeCopy::from))
}

/// A package placed on a room's volume, for a board of that room to copy.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlacedPackage {
    pub sha256: String,
    pub size_bytes: i64,
    pub shared_volume: String,
}

/// Every package placed on the volume of `board`'s room.
pub async fn placed_for_board(
    pool: &AnyPool,
    board: &str,
) -> Result<Vec<PlacedPackage>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.sha256, p.size_bytes, r.shared_volume FROM boards b JOIN arrays a ON a.id = b.array_id \
         JOIN rooms r ON r.id = a.room_id JOIN room_packages p ON p.room_id = r.id \
         WHERE b.id = $1 AND p.state = $2",
    )
    .bind(board)
    .bind(copy_state_text(VolumeCopyState::Placed))
    .fetch_all(pool)
    .await
}

// --- boards ----------------------------------------------------------------------------------

fn board_state_text(s: DeploymentRoomState) -> &'static str {
    super::catalog::deployment_state_text(s)
}

/// What a board last said of its copy of a package.
pub async fn board_report(
    db: &Db,
    board: &str,
    sha256: &str,
    state: DeploymentRoomState,
    percent: u8,
    error: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut turn = db.turn().await?;
    sqlx::query(
        "INSERT INTO board_packages (board_id, sha256, state, progress_percent, error, updated_at) VALUES ($1,$2,$3,$4,$5,$6) \
         ON CONFLICT (board_id, sha256) DO UPDATE SET state = excluded.state, progress_percent = excluded.progress_percent, \
         error = excluded.error, updated_at = excluded.updated_at",
    )
    .bind(board)
    .bind(sha256)
    .bind(board_state_text(state))
    .bind(i64::from(percent.min(100)))
    .bind(error)
    .bind(now)
    .execute(&mut *turn)
    .await?;
    Ok(())
}

/// A room's boards by where they are with a package.
pub async fn tally(pool: &AnyPool, room: &str, sha256: &str) -> Result<BoardTally, sqlx::Error> {
    let total: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM boards b JOIN arrays a ON a.id = b.array_id WHERE a.room_id = $1",
    )
    .bind(room)
    .fetch_one(pool)
    .await?;
    let by_state: Vec<(String, i64)> = sqlx::query_as(
        "SELECT p.state, COUNT(*) FROM board_packages p JOIN boards b ON b.id = p.board_id \
         JOIN arrays a ON a.id = b.array_id WHERE a.room_id = $1 AND p.sha256 = $2 GROUP BY p.state",
    )
    .bind(room)
    .bind(sha256)
    .fetch_all(pool)
    .await?;
    let n = |want: DeploymentRoomState| {
        by_state
            .iter()
            .filter(|(s, _)| super::catalog::parse_deployment_state(s) == want)
            .map(|(_, c)| *c)
            .sum::<i64>()
            .clamp(0, i64::from(u32::MAX)) as u32
    };
    Ok(BoardTally {
        total: total.clamp(0, i64::from(u32::MAX)) as u32,
        syncing: n(DeploymentRoomState::Syncing),
        ready: n(DeploymentRoomState::Ready),
        failed: n(DeploymentRoomState::Failed),
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct BoardRow {
    board_id: String,
    room_id: String,
    state: String,
    progress_percent: i64,
    error: Option<String>,
    updated_at: i64,
}

/// A page of the boards (of `room`, or of every room `version` is deployed to) that have
/// reported on its package `sha256`, by board id after `after`.
pub async fn boards(
    pool: &AnyPool,
    version: &str,
    sha256: &str,
    room: Option<&str>,
    after: &str,
    limit: i64,
) -> Result<Vec<DeploymentBoard>, sqlx::Error> {
    let rows: Vec<BoardRow> = sqlx::query_as(
        "SELECT p.board_id, a.room_id, p.state, p.progress_percent, p.error, p.updated_at FROM board_packages p \
         JOIN boards b ON b.id = p.board_id JOIN arrays a ON a.id = b.array_id \
         JOIN deployments d ON d.room_id = a.room_id AND d.version_id = $5 \
         WHERE p.sha256 = $1 AND ($2 = '' OR a.room_id = $2) AND p.board_id > $3 ORDER BY p.board_id LIMIT $4",
    )
    .bind(sha256)
    .bind(room.unwrap_or(""))
    .bind(after)
    .bind(limit)
    .bind(version)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| DeploymentBoard {
            state: super::catalog::parse_deployment_state(&r.state),
            progress_percent: r.progress_percent.clamp(0, 100) as u8,
            board_id: r.board_id,
            room_id: r.room_id,
            error: r.error,
            updated_at: Timestamp(r.updated_at),
        })
        .collect())
}
