//! Players' saved archives: the `archives` table (one row per stored archive file), each
//! tenant's total of anonymous players' archive bytes (`archive_usage`, kept by [`insert`] and
//! [`delete`] and nowhere else), the keep-newest-N pruning and the anonymous eviction order, and what an upload or a restore needs to know about the session and
//! player it belongs to.
//!
//! The lookups a restore makes ([`owned`], [`newest`]) take any executor (the pool, or a
//! transaction's connection), since acquire resolves archives both inside and outside its
//! transaction.

use crate::db::WriteTx;
use playrack_wire::Timestamp;
use playrack_wire::api::{Archive, ArchivePolicy};
use sqlx::AnyPool;

/// An `archives` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ArchiveRow {
    pub id: String,
    pub tenant_id: String,
    pub user_key: String,
    pub game_id: String,
    pub session_id: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub android_sdk: i64,
    pub tag: Option<String>,
    /// 1: never pruned by keep-newest-N.
    pub pinned: i64,
    pub created_at: i64,
}

impl From<ArchiveRow> for Archive {
    fn from(r: ArchiveRow) -> Self {
        Archive {
            id: r.id,
            tenant_id: r.tenant_id,
            user: r.user_key,
            game_id: r.game_id,
            session_id: r.session_id,
            sha256: r.sha256,
            size_bytes: r.size_bytes.max(0) as u64,
            android_sdk: r.android_sdk.clamp(0, u32::MAX as i64) as u32,
            tag: r.tag,
            pinned: r.pinned != 0,
            created_at: Timestamp(r.created_at),
        }
    }
}

/// An archive by id.
pub async fn get(pool: &AnyPool, id: &str) -> Result<Option<Archive>, sqlx::Error> {
    let row: Option<ArchiveRow> = sqlx::query_as("SELECT * FROM archives WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(Archive::from))
}

/// A page of archives ordered by id, filtered by tenant, player and game (an empty filter
/// matches everything); `limit` rows after `cursor`.
pub async fn page(
    pool: &AnyPool,
    tenant: &str,
    user_key: &str,
    game: &str,
    cursor: &str,
    limit: i64,
) -> Result<Vec<Archive>, sqlx::Error> {
    let rows: Vec<ArchiveRow> = sqlx::query_as(
        "SELECT * FROM archives WHERE ($1 = '' OR tenant_id = $1) AND ($2 = '' OR user_key = $2) \
         AND ($3 = '' OR game_id = $3) AND id > $4 ORDER BY id LIMIT $5",
    )
    .bind(tenant)
    .bind(user_key)
    .bind(game)
    .bind(cursor)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Archive::from).collect())
}

/// Archive `id` if it is the player's, of this game.
pub async fn owned<'e, E>(
    db: E,
    id: &str,
    tenant: &str,
    user_key: &str,
    game: &str,
) -> Result<Option<Archive>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row: Option<ArchiveRow> = sqlx::query_as(
        "SELECT * FROM archives WHERE id = $1 AND tenant_id = $2 AND user_key = $3 AND game_id = $4",
    )
    .bind(id)
    .bind(tenant)
    .bind(user_key)
    .bind(game)
    .fetch_optional(db)
    .await?;
    Ok(row.map(Archive::from))
}

/// The player's newest archive of a game.
pub async fn newest<'e, E>(
    db: E,
    tenant: &str,
    user_key: &str,
    game: &str,
) -> Result<Option<Archive>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row: Option<ArchiveRow> = sqlx::query_as(
        "SELECT * FROM archives WHERE tenant_id = $1 AND user_key = $2 AND game_id = $3 \
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(tenant)
    .bind(user_key)
    .bind(game)
    .fetch_optional(db)
    .await?;
    Ok(row.map(Archive::from))
}

/// The player's newest `limit` archives of a game that an instance of Android API level
/// `device_sdk` can restore, newest first (the owner index, read backwards).
pub async fn for_player(
    pool: &AnyPool,
    tenant: &str,
    user_key: &str,
    game: &str,
    device_sdk: u32,
    limit: i64,
) -> Result<Vec<Archive>, sqlx::Error> {
    let rows: Vec<ArchiveRow> = sqlx::query_as(
        "SELECT * FROM archives WHERE tenant_id = $1 AND user_key = $2 AND game_id = $3 \
         AND android_sdk <= $4 ORDER BY created_at DESC, id DESC LIMIT $5",
    )
    .bind(tenant)
    .bind(user_key)
    .bind(game)
    .bind(i64::from(device_sdk))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Archive::from).collect())
}

/// The archive a session already stored with this hash (an agent's retried upload).
pub async fn stored_upload(
    tx: &mut WriteTx,
    session_id: &str,
    sha256: &str,
) -> Result<Option<Archive>, sqlx::Error> {
    let row: Option<ArchiveRow> =
        sqlx::query_as("SELECT * FROM archives WHERE session_id = $1 AND sha256 = $2")
            .bind(session_id)
            .bind(sha256)
            .fetch_optional(&mut ***tx)
            .await?;
    Ok(row.map(Archive::from))
}

/// Records a stored archive (unpinned, untagged) that `board_id` uploaded.
pub async fn insert(tx: &mut WriteTx, a: &Archive, board_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO archives (id, tenant_id, user_key, game_id, session_id, board_id, sha256, size_bytes, android_sdk, tag, pinned, created_at, anonymous) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,NULL,0,$10,$11)",
    )
    .bind(&a.id)
    .bind(&a.tenant_id)
    .bind(&a.user)
    .bind(&a.game_id)
    .bind(&a.session_id)
    .bind(board_id)
    .bind(&a.sha256)
    .bind(a.size_bytes as i64)
    .bind(i64::from(a.android_sdk))
    .bind(a.created_at.millis())
    .bind(i64::from(is_anonymous(&a.user)))
    .execute(&mut ***tx)
    .await?;
    if is_anonymous(&a.user) {
        sqlx::query(
            "INSERT INTO archive_usage (tenant_id, anonymous_bytes) VALUES ($1, $2) \
             ON CONFLICT (tenant_id) DO UPDATE SET anonymous_bytes = archive_usage.anonymous_bytes + $2",
        )
        .bind(&a.tenant_id)
        .bind(a.size_bytes as i64)
        .execute(&mut ***tx)
        .await?;
    }
    Ok(())
}

/// Whether a player key is an anonymous device's (see `play::identity::anonymous_user`).
pub fn is_anonymous(user_key: &str) -> bool {
    user_key.starts_with("device:")
}

/// Bytes of `tenant`'s anonymous players' archives.
pub async fn anonymous_bytes(tx: &mut WriteTx, tenant: &str) -> Result<i64, sqlx::Error> {
    let n: Option<i64> =
        sqlx::query_scalar("SELECT anonymous_bytes FROM archive_usage WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_optional(&mut ***tx)
            .await?;
    Ok(n.unwrap_or(0))
}

/// Up to `limit` of `tenant`'s unpinned anonymous archives other than `except` (id and size),
/// least recently saved first.
pub async fn oldest_anonymous(
    tx: &mut WriteTx,
    tenant: &str,
    except: &str,
    limit: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, size_bytes FROM archives WHERE tenant_id = $1 AND anonymous = 1 AND pinned = 0 AND id <> $2 \
         ORDER BY created_at, id LIMIT $3",
    )
    .bind(tenant)
    .bind(except)
    .bind(limit)
    .fetch_all(&mut ***tx)
    .await
}

/// The player's unpinned archives of a game, newest first.
pub async fn unpinned(
    tx: &mut WriteTx,
    tenant: &str,
    user_key: &str,
    game: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM archives WHERE tenant_id = $1 AND user_key = $2 AND game_id = $3 AND pinned = 0 \
         ORDER BY created_at DESC, id DESC",
    )
    .bind(tenant)
    .bind(user_key)
    .bind(game)
    .fetch_all(&mut ***tx)
    .await
}

/// Deletes an archive's row; the number of rows deleted (0 when it was gone).
pub async fn delete(tx: &mut WriteTx, id: &str) -> Result<u64, sqlx::Error> {
    let gone: Option<(String, i64, i64)> = sqlx::query_as(
        "DELETE FROM archives WHERE id = $1 RETURNING tenant_id, size_bytes, anonymous",
    )
    .bind(id)
    .fetch_optional(&mut ***tx)
    .await?;
    let Some((tenant, size, anonymous)) = gone else {
        return Ok(0);
    };
    if anonymous != 0 {
        sqlx::query(
            "UPDATE archive_usage SET anonymous_bytes = anonymous_bytes - $2 WHERE tenant_id = $1",
        )
        .bind(tenant)
        .bind(size)
        .execute(&mut ***tx)
        .await?;
    }
    Ok(1)
}

/// Sets an archive's tag (`None` clears it).
pub async fn set_tag(tx: &mut WriteTx, id: &str, tag: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE archives SET tag = $1 WHERE id = $2")
        .bind(tag)
        .bind(id)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// Pins or unpins an archive.
pub async fn set_pinned(tx: &mut WriteTx, id: &str, pinned: bool) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE archives SET pinned = $1 WHERE id = $2")
        .bind(i64::from(pinned))
        .bind(id)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// Every archive id (start-up repair keeps these files).
pub async fn ids(pool: &AnyPool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM archives")
        .fetch_all(pool)
        .await
}

/// Whose play a session is, where it runs, and its game's archive policy (sessions and games).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionOwner {
    pub tenant_id: String,
    pub user_key: String,
    pub game_id: String,
    pub board_id: String,
    pub archive_policy: String,
}

impl SessionOwner {
    /// The game's archive policy.
    pub fn policy(&self) -> ArchivePolicy {
        super::catalog::parse_archive_policy(&self.archive_policy)
    }
}

/// The owner of a session an archive is uploaded for.
pub async fn session_owner(
    pool: &AnyPool,
    session_id: &str,
) -> Result<Option<SessionOwner>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.tenant_id, s.user_key, s.game_id, s.board_id, g.archive_policy FROM sessions s \
         JOIN games g ON g.id = s.game_id WHERE s.id = $1",
    )
    .bind(session_id)
    .fetch_optional(pool)
    .await
}

/// Whether a board runs a live session of this player and game (sessions).
pub async fn player_live_on_board(
    pool: &AnyPool,
    board_id: &str,
    tenant: &str,
    user_key: &str,
    game: &str,
) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sessions WHERE board_id = $1 AND tenant_id = $2 AND user_key = $3 AND game_id = $4 \
         AND live_key IS NOT NULL",
    )
    .bind(board_id)
    .bind(tenant)
    .bind(user_key)
    .bind(game)
    .fetch_one(pool)
    .await?;
    Ok(n > 0)
}
