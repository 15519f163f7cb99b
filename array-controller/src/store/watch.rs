//! Watch links: the `watch_links` table (created, found by the hash of their code, revoked,
//! listed per tenant) and the live plays a wall shows (the game's, newest first, through the
//! live-sessions index by game).

use super::catalog::clamp_u32;
use crate::db::WriteTx;
use playrack_wire::Timestamp;
use playrack_wire::api::{WatchKind, WatchLink};
use sqlx::AnyPool;

/// A `watch_links` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WatchRow {
    pub id: String,
    pub tenant_id: String,
    pub kind: String,
    pub session_id: Option<String>,
    pub game_id: String,
    pub code_sha256: String,
    pub max_viewers: i64,
    pub tiles: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub created_at: i64,
}

impl WatchRow {
    pub fn kind(&self) -> WatchKind {
        match self.kind.as_str() {
            "wall" => WatchKind::Wall,
            _ => WatchKind::Session,
        }
    }

    pub fn to_wire(&self) -> WatchLink {
        WatchLink {
            id: self.id.clone(),
            tenant_id: self.tenant_id.clone(),
            kind: self.kind(),
            session_id: self.session_id.clone(),
            game_id: self.game_id.clone(),
            max_viewers: clamp_u32(self.max_viewers),
            tiles: clamp_u32(self.tiles),
            expires_at: Timestamp(self.expires_at),
            revoked_at: self.revoked_at.map(Timestamp),
            created_at: Timestamp(self.created_at),
            code: None,
            path: None,
        }
    }
}

pub fn kind_str(kind: WatchKind) -> &'static str {
    match kind {
        WatchKind::Session => "session",
        WatchKind::Wall => "wall",
    }
}

pub async fn insert(tx: &mut WriteTx, r: &WatchRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO watch_links (id, tenant_id, kind, session_id, game_id, code_sha256, \
         max_viewers, tiles, expires_at, revoked_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10)",
    )
    .bind(&r.id)
    .bind(&r.tenant_id)
    .bind(&r.kind)
    .bind(&r.session_id)
    .bind(&r.game_id)
    .bind(&r.code_sha256)
    .bind(r.max_viewers)
    .bind(r.tiles)
    .bind(r.expires_at)
    .bind(r.created_at)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

pub async fn get(pool: &AnyPool, id: &str) -> Result<Option<WatchRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM watch_links WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// The link whose code hashes to `code_sha256`.
pub async fn by_code(pool: &AnyPool, code_sha256: &str) -> Result<Option<WatchRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM watch_links WHERE code_sha256 = $1")
        .bind(code_sha256)
        .fetch_optional(pool)
        .await
}

/// A page of a tenant's watch links by id (`tenant` empty: every tenant's).
pub async fn page(
    pool: &AnyPool,
    tenant: &str,
    cursor: &str,
    limit: i64,
) -> Result<Vec<WatchRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT * FROM watch_links WHERE ($1 = '' OR tenant_id = $1) AND id > $2 \
         ORDER BY id LIMIT $3",
    )
    .bind(tenant)
    .bind(cursor)
    .bind(limit)
    .fetch_all(pool)
    .await
}

pub async fn revoke(tx: &mut WriteTx, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE watch_links SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// The game's newest `limit` live plays that are streaming (ready or playing).
pub async fn streaming_plays(
    pool: &AnyPool,
    tenant: &str,
    game: &str,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM sessions WHERE live_key IS NOT NULL AND game_id = $1 AND tenant_id = $2 \
         AND state IN ('ready', 'playing') ORDER BY created_at DESC, id DESC LIMIT $3",
    )
    .bind(game)
    .bind(tenant)
    .bind(limit)
    .fetch_all(pool)
    .await
}
