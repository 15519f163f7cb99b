//! The warm pool per game: what boards hold ready (`board_primed`, from their heartbeats),
//! what the controller asked them to keep ready (`board_warm_games`), and the inputs of its
//! sizing — plays started recently, and the boards that can hold a game.

use playrack_wire::agent::PrimedCount;
use sqlx::AnyPool;

use super::Backend;
use super::slots::SlotRow;
use crate::db::WriteTx;

/// Replaces what a board holds ready (its heartbeat's counts, or its hello's instances).
pub async fn set_primed(
    tx: &mut WriteTx,
    board_id: &str,
    counts: &[PrimedCount],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM board_primed WHERE board_id = $1")
        .bind(board_id)
        .execute(&mut ***tx)
        .await?;
    for c in counts.iter().filter(|c| c.warm > 0) {
        sqlx::query(
            "INSERT INTO board_primed (board_id, version_id, spec_id, warm) VALUES ($1, $2, $3, $4)",
        )
        .bind(board_id)
        .bind(&c.version_id)
        .bind(&c.spec_id)
        .bind(i64::from(c.warm))
        .execute(&mut ***tx)
        .await?;
    }
    Ok(())
}

/// Up to `limit` boards of a room holding `version` ready on an instance of `spec` with a
/// free slot, least loaded first; on PostgreSQL their slot rows are locked, skipping rows
/// another reservation holds (as [`super::slots::candidates`] does).
pub async fn primed_candidates(
    tx: &mut WriteTx,
    backend: Backend,
    room_id: &str,
    spec_id: &str,
    version_id: &str,
    limit: i64,
) -> Result<Vec<SlotRow>, sqlx::Error> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT s.board_id, s.capacity, s.in_use, s.warm FROM board_primed p \
             JOIN board_slots s ON s.board_id = p.board_id AND s.spec_id = p.spec_id \
             WHERE p.version_id = $1 AND p.spec_id = $2 AND s.room_id = $3 AND p.warm > 0 \
             AND s.schedulable = 1 AND s.in_use < s.capacity ORDER BY s.in_use, s.board_id LIMIT $4"
        }
        Backend::Postgres => {
            "SELECT s.board_id, s.capacity, s.in_use, s.warm FROM board_primed p \
             JOIN board_slots s ON s.board_id = p.board_id AND s.spec_id = p.spec_id \
             WHERE p.version_id = $1 AND p.spec_id = $2 AND s.room_id = $3 AND p.warm > 0 \
             AND s.schedulable = 1 AND s.in_use < s.capacity ORDER BY s.in_use, s.board_id LIMIT $4 \
             FOR UPDATE OF s SKIP LOCKED"
        }
    };
    sqlx::query_as(sql)
        .bind(version_id)
        .bind(spec_id)
        .bind(room_id)
        .bind(limit)
        .fetch_all(&mut ***tx)
        .await
}

/// Plays started (sessions reserved) between two session ids — ids sort by time, so this
/// reads the primary key's recent end only — per version, room and spec.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Arrivals {
    pub version_id: String,
    pub room_id: String,
    pub spec_id: String,
    pub n: i64,
}

/// The query of [`arrivals`] (its plan is checked in `tests/store_plans.rs`). The window is
/// read in id order with a limit, which ties both databases' planners to the primary key's
/// range (one once read the whole table for a one-sided range) and bounds a pass's work.
pub const ARRIVALS: &str = "SELECT version_id, room_id, spec_id, COUNT(*) AS n FROM \
     (SELECT version_id, room_id, spec_id FROM sessions WHERE id >= $1 AND id <= $2 \
     ORDER BY id LIMIT 100000) recent GROUP BY version_id, room_id, spec_id";

/// `since` and `until`: session ids bounding the window (see [`crate::db::id_floor`]).
pub async fn arrivals(
    pool: &AnyPool,
    since: &str,
    until: &str,
) -> Result<Vec<Arrivals>, sqlx::Error> {
    sqlx::query_as(ARRIVALS)
        .bind(since)
        .bind(until)
        .fetch_all(pool)
        .await
}

/// A version's package, as a board primes it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Package {
    pub sha256: Option<String>,
    /// JSON `ApkSummary`.
    pub apk: String,
}

pub async fn package(pool: &AnyPool, version_id: &str) -> Result<Option<Package>, sqlx::Error> {
    sqlx::query_as("SELECT sha256, apk FROM versions WHERE id = $1 AND state = 'READY'")
        .bind(version_id)
        .fetch_optional(pool)
        .await
}

/// The boards of a room with slots of `spec` taking plays and the package in their cache,
/// with those slots.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Holder {
    pub board_id: String,
    pub capacity: i64,
}

pub async fn holders(
    pool: &AnyPool,
    room_id: &str,
    spec_id: &str,
    sha256: &str,
) -> Result<Vec<Holder>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.board_id, s.capacity FROM board_slots s \
         JOIN board_packages p ON p.board_id = s.board_id AND p.sha256 = $3 AND p.state = 'ready' \
         WHERE s.room_id = $1 AND s.spec_id = $2 AND s.schedulable = 1 AND s.capacity > 0 \
         ORDER BY s.board_id",
    )
    .bind(room_id)
    .bind(spec_id)
    .bind(sha256)
    .fetch_all(pool)
    .await
}

/// One game a board was asked to keep ready.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Wanted {
    pub board_id: String,
    pub version_id: String,
    pub spec_id: String,
    pub wanted: i64,
}

/// Everything boards were last asked to keep ready.
pub async fn wanted(pool: &AnyPool) -> Result<Vec<Wanted>, sqlx::Error> {
    sqlx::query_as(
        "SELECT board_id, version_id, spec_id, wanted FROM board_warm_games \
         ORDER BY board_id, version_id, spec_id",
    )
    .fetch_all(pool)
    .await
}

/// Records what a board is now asked to keep ready.
pub async fn replace_wanted(
    tx: &mut WriteTx,
    board_id: &str,
    rows: &[Wanted],
) -> Result<(), sqlx::Error> {
    forget_wanted(tx, board_id).await?;
    for r in rows {
        sqlx::query(
            "INSERT INTO board_warm_games (board_id, version_id, spec_id, wanted) VALUES ($1, $2, $3, $4)",
        )
        .bind(board_id)
        .bind(&r.version_id)
        .bind(&r.spec_id)
        .bind(r.wanted)
        .execute(&mut ***tx)
        .await?;
    }
    Ok(())
}

/// Forgets what a board was asked (its hello: an agent that restarted lost its list, so the
/// next sizing pass sends it again).
pub async fn forget_wanted(tx: &mut WriteTx, board_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM board_warm_games WHERE board_id = $1")
        .bind(board_id)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}
