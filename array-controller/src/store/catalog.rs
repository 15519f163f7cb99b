//! The catalogue's tables: specs, games, their versions, the APK uploads that make versions,
//! and deployments of versions to rooms.
//!
//! A version's state (`UPLOADING | PARSING | READY | FAILED`), a deployment's state
//! (`pending | syncing | ready | failed`) and a game's archive policy (`single_player | online`)
//! are spelled here and nowhere else: [`version_state_text`] / [`parse_version_state`],
//! [`deployment_state_text`] / [`parse_deployment_state`], [`archive_policy_text`] /
//! [`parse_archive_policy`]. An upload has no state of its own: its version is UPLOADING while
//! the upload row exists.

use super::json;
use crate::db::{Db, WriteTx};
use playrack_wire::Timestamp;
use playrack_wire::api::{
    ApkSummary, ArchivePolicy, BoardTally, DeploymentRoom, DeploymentRoomState, Failure, Game,
    Spec, TrialDefaults, Version, VersionState, VolumeCopy,
};
use sqlx::AnyPool;

/// A non-negative integer column as `u32` (negative or oversize values, which the API never
/// writes, read as 0 / `u32::MAX`).
pub(super) fn clamp_u32(v: i64) -> u32 {
    v.clamp(0, u32::MAX as i64) as u32
}

// ---------------------------------------------------------------------------------------------
// Column text of the enums
// ---------------------------------------------------------------------------------------------

/// An archive policy as the `games.archive_policy` column spells it.
pub fn archive_policy_text(p: ArchivePolicy) -> &'static str {
    match p {
        ArchivePolicy::SinglePlayer => "single_player",
        ArchivePolicy::Online => "online",
    }
}

/// The policy a `games.archive_policy` value names (anything but `online` keeps archives).
pub fn parse_archive_policy(s: &str) -> ArchivePolicy {
    match s {
        "online" => ArchivePolicy::Online,
        _ => ArchivePolicy::SinglePlayer,
    }
}

/// A version state as the `versions.state` column spells it.
pub fn version_state_text(s: VersionState) -> &'static str {
    match s {
        VersionState::Uploading => "UPLOADING",
        VersionState::Parsing => "PARSING",
        VersionState::Ready => "READY",
        VersionState::Failed => "FAILED",
    }
}

/// The state a `versions.state` value names (unknown text, which the controller never writes,
/// reads as FAILED).
pub fn parse_version_state(s: &str) -> VersionState {
    match s {
        "UPLOADING" => VersionState::Uploading,
        "PARSING" => VersionState::Parsing,
        "READY" => VersionState::Ready,
        _ => VersionState::Failed,
    }
}

/// A deployment state as the `deployments.state` column spells it.
pub fn deployment_state_text(s: DeploymentRoomState) -> &'static str {
    match s {
        DeploymentRoomState::Pending => "pending",
        DeploymentRoomState::Syncing => "syncing",
        DeploymentRoomState::Ready => "ready",
        DeploymentRoomState::Failed => "failed",
    }
}

/// The state a `deployments.state` value names (unknown text, which the controller never
/// writes, reads as pending).
pub fn parse_deployment_state(s: &str) -> DeploymentRoomState {
    match s {
        "syncing" => DeploymentRoomState::Syncing,
        "ready" => DeploymentRoomState::Ready,
        "failed" => DeploymentRoomState::Failed,
        _ => DeploymentRoomState::Pending,
    }
}

// ---------------------------------------------------------------------------------------------
// Specs
// ---------------------------------------------------------------------------------------------

/// A `specs` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SpecRow {
    pub id: String,
    pub name: String,
    pub width: i64,
    pub height: i64,
    pub fps: i64,
    pub bitrate_min_kbps: i64,
    pub bitrate_max_kbps: i64,
    pub cpu_millis: i64,
    pub memory_mb: i64,
    pub price_per_minute_micros: i64,
}

impl From<SpecRow> for Spec {
    fn from(r: SpecRow) -> Self {
        Spec {
            id: r.id,
            name: r.name,
            width: clamp_u32(r.width),
            height: clamp_u32(r.height),
            fps: clamp_u32(r.fps),
            bitrate_min_kbps: clamp_u32(r.bitrate_min_kbps),
            bitrate_max_kbps: clamp_u32(r.bitrate_max_kbps),
            cpu_millis: clamp_u32(r.cpu_millis),
            memory_mb: clamp_u32(r.memory_mb),
            price_per_minute_micros: r.price_per_minute_micros,
        }
    }
}

/// A spec by id.
pub async fn spec(pool: &AnyPool, id: &str) -> Result<Option<Spec>, sqlx::Error> {
    let row: Option<SpecRow> = sqlx::query_as("SELECT * FROM specs WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(Spec::from))
}

/// A page of specs ordered by id: `limit` rows after `cursor`.
pub async fn specs_page(
    pool: &AnyPool,
    cursor: &str,
    limit: i64,
) -> Result<Vec<Spec>, sqlx::Error> {
    let rows: Vec<SpecRow> =
        sqlx::query_as("SELECT * FROM specs WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(cursor)
            .bind(limit)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(Spec::from).collect())
}

/// Creates a spec, made at `now`.
pub async fn insert_spec(tx: &mut WriteTx, s: &Spec, now: i64) -> Result<(), sqlx::Error> {
    write_spec(
        tx,
        s,
        now,
        "INSERT INTO specs (name, width, height, fps, bitrate_min_kbps, bitrate_max_kbps, cpu_millis, memory_mb, \
         price_per_minute_micros, id, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
    )
    .await
}

/// Rewrites a spec made no later than `now`.
pub async fn update_spec(tx: &mut WriteTx, s: &Spec, now: i64) -> Result<(), sqlx::Error> {
    write_spec(
        tx,
        s,
        now,
        "UPDATE specs SET name=$1, width=$2, height=$3, fps=$4, bitrate_min_kbps=$5, bitrate_max_kbps=$6, \
         cpu_millis=$7, memory_mb=$8, price_per_minute_micros=$9 WHERE id=$10 AND created_at <= $11",
    )
    .await
}

async fn write_spec(
    tx: &mut WriteTx,
    s: &Spec,
    now: i64,
    sql: &'static str,
) -> Result<(), sqlx::Error> {
    sqlx::query(sql)
        .bind(&s.name)
        .bind(i64::from(s.width))
        .bind(i64::from(s.height))
        .bind(i64::from(s.fps))
        .bind(i64::from(s.bitrate_min_kbps))
        .bind(i64::from(s.bitrate_max_kbps))
        .bind(i64::from(s.cpu_millis))
        .bind(i64::from(s.memory_mb))
        .bind(s.price_per_minute_micros)
        .bind(&s.id)
        .bind(now)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Games
// ---------------------------------------------------------------------------------------------

/// A `games` row with its default version (the newest published READY one by versionCode)
/// and whether that version has an icon.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GameRow {
    pub id: String,
    pub tenant_id: String,
    pub slug: String,
    pub name: String,
    pub archive_policy: String,
    /// JSON array of spec ids, in fallback order.
    pub spec_ids: String,
    /// JSON `TrialDefaults`.
    pub trial_defaults: String,
    pub package_name: Option<String>,
    pub created_at: i64,
    pub default_version_id: Option<String>,
    pub default_has_icon: i64,
}

impl TryFrom<GameRow> for Game {
    type Error = sqlx::Error;

    fn try_from(r: GameRow) -> Result<Self, sqlx::Error> {
        Ok(Game {
            icon_url: (r.default_has_icon > 0).then(|| format!("/v1/games/{}/icon", r.id)),
            archive_policy: parse_archive_policy(&r.archive_policy),
            spec_ids: json(&r.spec_ids)?,
            trial_defaults: json(&r.trial_defaults)?,
            id: r.id,
            tenant_id: r.tenant_id,
            slug: r.slug,
            name: r.name,
            package_name: r.package_name,
            default_version_id: r.default_version_id,
            created_at: Timestamp(r.created_at),
        })
    }
}

/// The game columns plus its default version, filtered by `$filter` ($1 is the READY state's
/// text, the filter's own parameters start at $2).
macro_rules! game_select {
    ($filter:literal) => {
        concat!(
            "SELECT q.*, COALESCE(q.default_has_icon_raw, 0) AS default_has_icon FROM (SELECT g.*, \
             (SELECT v.id FROM versions v WHERE v.game_id = g.id AND v.state = $1 AND v.published_at IS NOT NULL \
              ORDER BY v.ready_version_code DESC LIMIT 1) AS default_version_id, \
             (SELECT CASE WHEN v.icon_mime IS NULL THEN 0 ELSE 1 END FROM versions v WHERE v.game_id = g.id AND v.state = $1 \
              AND v.published_at IS NOT NULL ORDER BY v.ready_version_code DESC LIMIT 1) AS default_has_icon_raw \
             FROM games g) q WHERE ",
            $filter
        )
    };
}

/// A game by id.
pub async fn game(pool: &AnyPool, id: &str) -> Result<Option<Game>, sqlx::Error> {
    let row: Option<GameRow> = sqlx::query_as(game_select!("q.id = $2"))
        .bind(version_state_text(VersionState::Ready))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.map(Game::try_from).transpose()
}

/// A page of games ordered by id, of one tenant (or every tenant's when `tenant` is empty):
/// `limit` rows after `cursor`.
pub async fn games_page(
    pool: &AnyPool,
    tenant: &str,
    cursor: &str,
    limit: i64,
) -> Result<Vec<Game>, sqlx::Error> {
    let rows: Vec<GameRow> = sqlx::query_as(game_select!(
        "($2 = '' OR q.tenant_id = $2) AND q.id > $3 ORDER BY q.id LIMIT $4"
    ))
    .bind(version_state_text(VersionState::Ready))
    .bind(tenant)
    .bind(cursor)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(Game::try_from).collect()
}

/// A game to create.
#[derive(Debug, Clone)]
pub struct NewGame<'a> {
    pub id: &'a str,
    pub tenant_id: &'a str,
    pub slug: &'a str,
    pub name: &'a str,
    pub archive_policy: ArchivePolicy,
    pub spec_ids: &'a [String],
    pub trial_defaults: &'a TrialDefaults,
    pub created_at: i64,
}

/// Creates a game (a taken slug fails with the database's unique violation).
pub async fn insert_game(tx: &mut WriteTx, g: &NewGame<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO games (id, tenant_id, slug, name, archive_policy, spec_ids, trial_defaults, created_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
    )
    .bind(g.id)
    .bind(g.tenant_id)
    .bind(g.slug)
    .bind(g.name)
    .bind(archive_policy_text(g.archive_policy))
    .bind(serde_json::to_string(g.spec_ids).expect("json"))
    .bind(serde_json::to_string(g.trial_defaults).expect("json"))
    .bind(g.created_at)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// Rewrites a game's name, archive policy, specs and trial defaults.
pub async fn update_game(
    tx: &mut WriteTx,
    id: &str,
    name: &str,
    archive_policy: ArchivePolicy,
    spec_ids: &[String],
    trial_defaults: &TrialDefaults,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE games SET name = $1, archive_policy = $2, spec_ids = $3, trial_defaults = $4 WHERE id = $5")
        .bind(name)
        .bind(archive_policy_text(archive_policy))
        .bind(serde_json::to_string(spec_ids).expect("json"))
        .bind(serde_json::to_string(trial_defaults).expect("json"))
        .bind(id)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// Fixes a game's package on its first READY version (a game whose package is set keeps it).
pub async fn fix_package(tx: &mut WriteTx, game: &str, package: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE games SET package_name = $1 WHERE id = $2 AND package_name IS NULL")
        .bind(package)
        .bind(game)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// A game's package, once fixed.
pub async fn game_package(tx: &mut WriteTx, game: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT package_name FROM games WHERE id = $1")
        .bind(game)
        .fetch_one(&mut ***tx)
        .await
}

// ---------------------------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------------------------

/// A `versions` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VersionRow {
    pub id: String,
    pub game_id: String,
    pub tenant_id: String,
    pub state: String,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub sha256: Option<String>,
    pub size_bytes: i64,
    /// JSON `ApkSummary`, once parsed.
    pub apk: Option<String>,
    pub published_at: Option<i64>,
    pub created_at: i64,
}

impl TryFrom<VersionRow> for Version {
    type Error = sqlx::Error;

    fn try_from(r: VersionRow) -> Result<Self, sqlx::Error> {
        Ok(Version {
            state: parse_version_state(&r.state),
            failure: r.failure_code.map(|code| Failure {
                code,
                message: r.failure_message.unwrap_or_default(),
            }),
            apk: r.apk.as_deref().map(json::<ApkSummary>).transpose()?,
            id: r.id,
            game_id: r.game_id,
            sha256: r.sha256,
            size_bytes: r.size_bytes as u64,
            published_at: r.published_at.map(Timestamp),
            created_at: Timestamp(r.created_at),
        })
    }
}

/// A version and the tenant that owns it.
pub async fn version(pool: &AnyPool, id: &str) -> Result<Option<(Version, String)>, sqlx::Error> {
    let row: Option<VersionRow> = sqlx::query_as("SELECT * FROM versions WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.map(|r| {
        let tenant = r.tenant_id.clone();
        Ok((Version::try_from(r)?, tenant))
    })
    .transpose()
}

/// A page of a game's versions ordered by id: `limit` rows after `cursor`.
pub async fn versions_page(
    pool: &AnyPool,
    game: &str,
    cursor: &str,
    limit: i64,
) -> Result<Vec<Version>, sqlx::Error> {
    let rows: Vec<VersionRow> = sqlx::query_as(
        "SELECT * FROM versions WHERE game_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(game)
    .bind(cursor)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(Version::try_from).collect()
}

/// A READY version's package hash and icon type (`None` when it has no icon).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VersionIcon {
    pub sha256: String,
    pub icon_mime: Option<String>,
}

/// The icon of a READY version.
pub async fn ready_icon(pool: &AnyPool, version: &str) -> Result<Option<VersionIcon>, sqlx::Error> {
    sqlx::query_as("SELECT sha256, icon_mime FROM versions WHERE id = $1 AND state = $2")
        .bind(version)
        .bind(version_state_text(VersionState::Ready))
        .fetch_optional(pool)
        .await
}

/// Publishes a version at `published_at`, or withdraws it (`None`).
pub async fn set_published(
    tx: &mut WriteTx,
    id: &str,
    published_at: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE versions SET published_at = $1 WHERE id = $2")
        .bind(published_at)
        .bind(id)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// Creates a version in UPLOADING, of `size_bytes` bytes to come.
pub async fn insert_uploading_version(
    tx: &mut WriteTx,
    id: &str,
    game: &str,
    tenant: &str,
    size_bytes: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO versions (id, game_id, tenant_id, state, size_bytes, created_at) VALUES ($1,$2,$3,$4,$5,$6)")
        .bind(id)
        .bind(game)
        .bind(tenant)
        .bind(version_state_text(VersionState::Uploading))
        .bind(size_bytes)
        .bind(now)
        .execute(&mut ***tx)
        .await?;
    sqlx::query("UPDATE tenants SET package_bytes = package_bytes + $1 WHERE id = $2")
        .bind(size_bytes)
        .bind(tenant)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// A tenant's package bytes and its own quota (`None`: the platform default), read in the
/// transaction that is about to add a version.
pub async fn package_usage(
    tx: &mut WriteTx,
    tenant: &str,
) -> Result<(i64, Option<i64>), sqlx::Error> {
    sqlx::query_as("SELECT package_bytes, storage_quota_bytes FROM tenants WHERE id = $1")
        .bind(tenant)
        .fetch_one(&mut ***tx)
        .await
}

/// An uploaded version's package is in the store: the version goes PARSING.
pub async fn mark_parsing(tx: &mut WriteTx, id: &str, sha256: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE versions SET state = $1, sha256 = $2 WHERE id = $3")
        .bind(version_state_text(VersionState::Parsing))
        .bind(sha256)
        .bind(id)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// What settling a PARSING version needs: its package, its game and tenant, and the game's
/// package name once fixed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ParsingVersion {
    pub sha256: String,
    pub game_id: String,
    pub tenant_id: String,
    pub package_name: Option<String>,
}

/// A version that is PARSING (`None` if it is in any other state).
pub async fn parsing(pool: &AnyPool, id: &str) -> Result<Option<ParsingVersion>, sqlx::Error> {
    sqlx::query_as(
        "SELECT v.sha256, v.game_id, v.tenant_id, g.package_name FROM versions v JOIN games g ON g.id = v.game_id \
         WHERE v.id = $1 AND v.state = $2",
    )
    .bind(id)
    .bind(version_state_text(VersionState::Parsing))
    .fetch_optional(pool)
    .await
}

/// Every PARSING version (start-up finishes their parses).
pub async fn parsing_ids(pool: &AnyPool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM versions WHERE state = $1")
        .bind(version_state_text(VersionState::Parsing))
        .fetch_all(pool)
        .await
}

/// The packages live versions (any but FAILED) reference.
pub async fn live_packages(pool: &AnyPool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT sha256 FROM versions WHERE sha256 IS NOT NULL AND state <> $1",
    )
    .bind(version_state_text(VersionState::Failed))
    .fetch_all(pool)
    .await
}

/// Whether the game already has a READY version with this versionCode.
pub async fn version_code_taken(
    tx: &mut WriteTx,
    game: &str,
    version_code: i64,
) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM versions WHERE game_id = $1 AND ready_version_code = $2",
    )
    .bind(game)
    .bind(version_code)
    .fetch_one(&mut ***tx)
    .await?;
    Ok(n > 0)
}

/// A PARSING version goes READY with its parsed summary (JSON `ApkSummary`), its versionCode
/// and its icon type. Another READY version of the game with the same versionCode fails it
/// with the database's unique violation.
pub async fn mark_ready(
    tx: &mut WriteTx,
    id: &str,
    apk: &ApkSummary,
    version_code: i64,
    icon_mime: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE versions SET state = $1, apk = $2, ready_version_code = $3, icon_mime = $4 WHERE id = $5 AND state = $6",
    )
    .bind(version_state_text(VersionState::Ready))
    .bind(serde_json::to_string(apk).expect("summary serialises"))
    .bind(version_code)
    .bind(icon_mime)
    .bind(id)
    .bind(version_state_text(VersionState::Parsing))
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// A version goes FAILED with a stable code and a sentence for people (once: a FAILED version
/// keeps its first failure).
pub async fn mark_failed(
    tx: &mut WriteTx,
    id: &str,
    code: &str,
    message: &str,
) -> Result<(), sqlx::Error> {
    let failed: Option<(String, i64)> = sqlx::query_as(
        "UPDATE versions SET state = $1, failure_code = $2, failure_message = $3 \
         WHERE id = $4 AND state <> $1 RETURNING tenant_id, size_bytes",
    )
    .bind(version_state_text(VersionState::Failed))
    .bind(code)
    .bind(message)
    .bind(id)
    .fetch_optional(&mut ***tx)
    .await?;
    // Its bytes no longer count against the tenant's storage.
    if let Some((tenant, size)) = failed {
        sqlx::query("UPDATE tenants SET package_bytes = package_bytes - $1 WHERE id = $2")
            .bind(size)
            .bind(tenant)
            .execute(&mut ***tx)
            .await?;
    }
    Ok(())
}

/// Whether a live version (any but FAILED) other than `id` has this package.
pub async fn package_shared(tx: &mut WriteTx, sha256: &str, id: &str) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM versions WHERE sha256 = $1 AND id <> $2 AND state <> $3",
    )
    .bind(sha256)
    .bind(id)
    .bind(version_state_text(VersionState::Failed))
    .fetch_one(&mut ***tx)
    .await?;
    Ok(n > 0)
}

/// A version's package: its hash (once uploaded) and size.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Package {
    pub sha256: Option<String>,
    pub size_bytes: i64,
}

/// The package of a version.
pub async fn package(pool: &AnyPool, version: &str) -> Result<Option<Package>, sqlx::Error> {
    sqlx::query_as("SELECT sha256, size_bytes FROM versions WHERE id = $1")
        .bind(version)
        .fetch_optional(pool)
        .await
}

// ---------------------------------------------------------------------------------------------
// Uploads
// ---------------------------------------------------------------------------------------------

/// An `uploads` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UploadRow {
    pub id: String,
    pub version_id: String,
    pub tenant_id: String,
    pub length: i64,
    pub offset_bytes: i64,
    pub expires_at: i64,
}

/// An upload by id.
pub async fn upload(pool: &AnyPool, id: &str) -> Result<Option<UploadRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, version_id, tenant_id, length, offset_bytes, expires_at FROM uploads WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// How many uploads a tenant has in progress (the `uploads` table holds only those).
pub async fn uploads_in_progress(tx: &mut WriteTx, tenant: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM uploads WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_one(&mut ***tx)
        .await
}

/// Creates an upload of `length` bytes for a version, at offset 0.
pub async fn insert_upload(
    tx: &mut WriteTx,
    id: &str,
    version: &str,
    tenant: &str,
    length: i64,
    expires_at: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO uploads (id, version_id, tenant_id, length, offset_bytes, expires_at, created_at) VALUES ($1,$2,$3,$4,0,$5,$6)")
        .bind(id)
        .bind(version)
        .bind(tenant)
        .bind(length)
        .bind(expires_at)
        .bind(now)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// Records how far an upload got, and pushes its expiry out.
pub async fn record_offset(
    db: &Db,
    id: &str,
    offset: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    let mut turn = db.turn().await?;
    sqlx::query("UPDATE uploads SET offset_bytes = $1, expires_at = $2 WHERE id = $3")
        .bind(offset)
        .bind(expires_at)
        .bind(id)
        .execute(&mut *turn)
        .await?;
    Ok(())
}

/// Deletes an upload's row; the number of rows deleted (0 when it was gone).
pub async fn delete_upload(tx: &mut WriteTx, id: &str) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM uploads WHERE id = $1")
        .bind(id)
        .execute(&mut ***tx)
        .await?
        .rows_affected())
}

/// Every upload id (start-up keeps their scratch files).
pub async fn upload_ids(pool: &AnyPool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM uploads")
        .fetch_all(pool)
        .await
}

/// The uploads whose expiry is before `now`.
pub async fn expired_uploads(pool: &AnyPool, now: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM uploads WHERE expires_at < $1")
        .bind(now)
        .fetch_all(pool)
        .await
}

// ---------------------------------------------------------------------------------------------
// Deployments
// ---------------------------------------------------------------------------------------------

/// A `deployments` row: one room of a version's deployment.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeploymentRow {
    pub room_id: String,
    pub state: String,
    pub progress_percent: i64,
    pub error: Option<String>,
    pub updated_at: i64,
}

impl DeploymentRow {
    /// The room's deployment, with its volume copy and its boards' tally.
    pub fn into_api(self, volume: VolumeCopy, boards: BoardTally) -> DeploymentRoom {
        DeploymentRoom {
            state: parse_deployment_state(&self.state),
            progress_percent: self.progress_percent.clamp(0, 100) as u8,
            room_id: self.room_id,
            error: self.error,
            updated_at: Timestamp(self.updated_at),
            volume,
            boards,
        }
    }
}

/// The rooms of a version's deployment, by room id.
pub async fn deployment(pool: &AnyPool, version: &str) -> Result<Vec<DeploymentRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT room_id, state, progress_percent, error, updated_at FROM deployments WHERE version_id = $1 ORDER BY room_id",
    )
    .bind(version)
    .fetch_all(pool)
    .await
}

/// Adds a room to a version's deployment, pending (a room already in it is left as it is).
pub async fn add_deployment(
    tx: &mut WriteTx,
    version: &str,
    room: &str,
    game: &str,
    tenant: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO deployments (version_id, room_id, game_id, tenant_id, state, progress_percent, updated_at) \
         VALUES ($1,$2,$3,$4,$5,0,$6) ON CONFLICT (version_id, room_id) DO NOTHING",
    )
    .bind(version)
    .bind(room)
    .bind(game)
    .bind(tenant)
    .bind(deployment_state_text(DeploymentRoomState::Pending))
    .bind(now)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// The rooms a version is deployed to.
pub async fn deployed_rooms(tx: &mut WriteTx, version: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT room_id FROM deployments WHERE version_id = $1")
        .bind(version)
        .fetch_all(&mut ***tx)
        .await
}

/// Takes a room out of a version's deployment.
pub async fn remove_deployment(
    tx: &mut WriteTx,
    version: &str,
    room: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM deployments WHERE version_id = $1 AND room_id = $2")
        .bind(version)
        .bind(room)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// The boards of a room whose agent is online (boards, arrays).
pub async fn online_boards_in_room(pool: &AnyPool, room: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT b.id FROM boards b JOIN arrays a ON a.id = b.array_id WHERE a.room_id = $1 AND b.agent_state = $2",
    )
    .bind(room)
    .bind(super::topology::agent_state_text(playrack_wire::api::AgentState::Online))
    .fetch_all(pool)
    .await
}
