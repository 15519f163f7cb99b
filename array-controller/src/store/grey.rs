//! Grey releases (`grey_releases`, one row a game at most) and version figures
//! (`version_days`, one row per version and UTC day, only ever added to).

use crate::db::WriteTx;
use sqlx::{AnyPool, Executor};

/// A game's grey release under way.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GreyRow {
    pub game_id: String,
    pub tenant_id: String,
    pub version_id: String,
    pub per_mille: i32,
    pub link_id: Option<String>,
    pub campaign: Option<String>,
    pub salt: String,
    pub started_at: i64,
    pub updated_at: i64,
}

async fn read<'e, E: Executor<'e, Database = sqlx::Any>>(
    e: E,
    game: &str,
) -> Result<Option<GreyRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT game_id, tenant_id, version_id, per_mille, link_id, campaign, salt, started_at, \
         updated_at FROM grey_releases WHERE game_id = $1",
    )
    .bind(game)
    .fetch_optional(e)
    .await
}

/// The game's grey release, if one is under way (read by every acquire: one key lookup).
pub async fn for_game(pool: &AnyPool, game: &str) -> Result<Option<GreyRow>, sqlx::Error> {
    read(pool, game).await
}

/// The same, inside the transaction that changes it.
pub async fn for_game_tx(tx: &mut WriteTx, game: &str) -> Result<Option<GreyRow>, sqlx::Error> {
    read(&mut ***tx, game).await
}

/// Starts or changes the game's grey release (the salt and start of one under way are kept).
pub async fn put(tx: &mut WriteTx, r: &GreyRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO grey_releases (game_id, tenant_id, version_id, per_mille, link_id, campaign, \
         salt, started_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (game_id) DO UPDATE SET version_id = excluded.version_id, \
         per_mille = excluded.per_mille, link_id = excluded.link_id, campaign = excluded.campaign, \
         updated_at = excluded.updated_at",
    )
    .bind(&r.game_id)
    .bind(&r.tenant_id)
    .bind(&r.version_id)
    .bind(r.per_mille)
    .bind(r.link_id.as_deref())
    .bind(r.campaign.as_deref())
    .bind(&r.salt)
    .bind(r.started_at)
    .bind(r.updated_at)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// Ends the game's grey release; answers whether there was one.
pub async fn delete(tx: &mut WriteTx, game: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM grey_releases WHERE game_id = $1")
        .bind(game)
        .execute(&mut ***tx)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Whether a version is ready in at least one room (so a player chosen for it can be placed).
pub async fn deployed_somewhere(pool: &AnyPool, version: &str) -> Result<bool, sqlx::Error> {
    let n: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM deployments WHERE version_id = $1 AND state = 'ready' LIMIT 1",
    )
    .bind(version)
    .fetch_optional(pool)
    .await?;
    Ok(n.is_some())
}

/// Counts to add to one version's day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VersionTally {
    pub plays: i64,
    pub crashes: i64,
    pub play_seconds: i64,
    pub latency_samples: i64,
    pub latency_sum_us: i64,
}

/// Adds to a version's day inside the transaction that ended the play.
pub async fn add(
    tx: &mut WriteTx,
    version: &str,
    day: i64,
    t: &VersionTally,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO version_days (version_id, day, plays, crashes, play_seconds, latency_samples, latency_sum_us) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (version_id, day) DO UPDATE SET \
         plays = version_days.plays + excluded.plays, crashes = version_days.crashes + excluded.crashes, \
         play_seconds = version_days.play_seconds + excluded.play_seconds, \
         latency_samples = version_days.latency_samples + excluded.latency_samples, \
         latency_sum_us = version_days.latency_sum_us + excluded.latency_sum_us",
    )
    .bind(version)
    .bind(day)
    .bind(t.plays)
    .bind(t.crashes)
    .bind(t.play_seconds)
    .bind(t.latency_samples)
    .bind(t.latency_sum_us)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// A version's days from `since_day` on, summed (a version's days since a release started:
/// a handful of rows, by the primary key).
pub async fn summed(
    pool: &AnyPool,
    version: &str,
    since_day: i64,
) -> Result<VersionTally, sqlx::Error> {
    let row: (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(plays), 0) AS BIGINT), CAST(COALESCE(SUM(crashes), 0) AS BIGINT), \
         CAST(COALESCE(SUM(play_seconds), 0) AS BIGINT), \
         CAST(COALESCE(SUM(latency_samples), 0) AS BIGINT), \
         CAST(COALESCE(SUM(latency_sum_us), 0) AS BIGINT) \
         FROM version_days WHERE version_id = $1 AND day >= $2",
    )
    .bind(version)
    .bind(since_day)
    .fetch_one(pool)
    .await?;
    Ok(VersionTally {
        plays: row.0,
        crashes: row.1,
        play_seconds: row.2,
        latency_samples: row.3,
        latency_sum_us: row.4,
    })
}
