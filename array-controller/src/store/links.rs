//! Try-play links: the `links` table as the tenant side manages it (create, read, list,
//! change its settings, revocation included). A link's call to action is stored as two nullable columns, read together by
//! [`cta`].

use super::catalog::clamp_u32;
use crate::db::WriteTx;
use playrack_wire::Timestamp;
use playrack_wire::api::{CallToAction, Link};
use sqlx::AnyPool;

/// A `links` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkRow {
    pub id: String,
    pub code: String,
    pub game_id: String,
    pub tenant_id: String,
    pub trial_seconds: i64,
    pub expires_at: Option<i64>,
    pub max_plays: Option<i64>,
    pub plays_used: i64,
    pub campaign: Option<String>,
    pub revoked_at: Option<i64>,
    pub cta_label: Option<String>,
    pub cta_url: Option<String>,
    pub connect_deadline_seconds: Option<i64>,
    pub created_at: i64,
    /// Origins separated by spaces (see [`origins`]).
    pub embed_origins: Option<String>,
}

/// A link's embed origins from their column (space-separated; NULL: none).
pub fn origins(column: Option<&str>) -> Vec<String> {
    column
        .unwrap_or_default()
        .split(' ')
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A link's call to action: both columns set, or none.
pub fn cta(label: Option<String>, url: Option<String>) -> Option<CallToAction> {
    label
        .zip(url)
        .map(|(label, url)| CallToAction { label, url })
}

impl From<LinkRow> for Link {
    fn from(r: LinkRow) -> Self {
        Link {
            id: r.id,
            code: r.code,
            game_id: r.game_id,
            trial_seconds: clamp_u32(r.trial_seconds),
            expires_at: r.expires_at.map(Timestamp),
            max_plays: r.max_plays.map(clamp_u32),
            plays_used: clamp_u32(r.plays_used),
            campaign: r.campaign,
            revoked_at: r.revoked_at.map(Timestamp),
            cta: cta(r.cta_label, r.cta_url),
            connect_deadline_seconds: r.connect_deadline_seconds.map(clamp_u32),
            embed_origins: origins(r.embed_origins.as_deref()),
            created_at: Timestamp(r.created_at),
        }
    }
}

/// A link to create (no plays used yet).
#[derive(Debug, Clone)]
pub struct NewLink<'a> {
    pub id: &'a str,
    pub code: &'a str,
    pub game_id: &'a str,
    pub tenant_id: &'a str,
    pub trial_seconds: u32,
    pub expires_at: Option<Timestamp>,
    pub max_plays: Option<u32>,
    pub campaign: Option<&'a str>,
    pub cta: Option<&'a CallToAction>,
    pub connect_deadline_seconds: Option<u32>,
    /// Normalised origins (checked by the caller).
    pub embed_origins: &'a [String],
    pub created_at: i64,
}

/// Creates a link and reads it back in the same transaction.
pub async fn create(tx: &mut WriteTx, l: &NewLink<'_>) -> Result<LinkRow, sqlx::Error> {
    sqlx::query(
        "INSERT INTO links (id, code, game_id, tenant_id, trial_seconds, expires_at, max_plays, plays_used, campaign, created_at, cta_label, cta_url, \
         connect_deadline_seconds, embed_origins) VALUES ($1,$2,$3,$4,$5,$6,$7,0,$8,$9,$10,$11,$12,$13)",
    )
    .bind(l.id)
    .bind(l.code)
    .bind(l.game_id)
    .bind(l.tenant_id)
    .bind(i64::from(l.trial_seconds))
    .bind(l.expires_at.map(|t| t.millis()))
    .bind(l.max_plays.map(i64::from))
    .bind(l.campaign)
    .bind(l.created_at)
    .bind(l.cta.map(|c| c.label.clone()))
    .bind(l.cta.map(|c| c.url.clone()))
    .bind(l.connect_deadline_seconds.map(i64::from))
    .bind((!l.embed_origins.is_empty()).then(|| l.embed_origins.join(" ")))
    .execute(&mut ***tx)
    .await?;
    sqlx::query_as("SELECT * FROM links WHERE id = $1")
        .bind(l.id)
        .fetch_one(&mut ***tx)
        .await
}

/// A link by id.
pub async fn get(pool: &AnyPool, id: &str) -> Result<Option<LinkRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM links WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// A page of links ordered by id, of one tenant and one game (an empty filter matches
/// everything): `limit` rows after `cursor`.
pub async fn page(
    pool: &AnyPool,
    tenant: &str,
    game: &str,
    cursor: &str,
    limit: i64,
) -> Result<Vec<Link>, sqlx::Error> {
    let rows: Vec<LinkRow> = sqlx::query_as(
        "SELECT * FROM links WHERE ($1 = '' OR tenant_id = $1) AND ($2 = '' OR game_id = $2) AND id > $3 ORDER BY id LIMIT $4",
    )
    .bind(tenant)
    .bind(game)
    .bind(cursor)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Link::from).collect())
}

/// Writes a link's settings as `l` has them (trial, expiry, play limit, campaign, call to
/// action, connect deadline, embed origins, revocation); its code, game and plays stay.
pub async fn update(tx: &mut WriteTx, l: &Link) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE links SET trial_seconds = $1, expires_at = $2, max_plays = $3, campaign = $4, \
         cta_label = $5, cta_url = $6, connect_deadline_seconds = $7, embed_origins = $8, \
         revoked_at = $9 WHERE id = $10",
    )
    .bind(i64::from(l.trial_seconds))
    .bind(l.expires_at.map(|t| t.millis()))
    .bind(l.max_plays.map(i64::from))
    .bind(l.campaign.as_deref())
    .bind(l.cta.as_ref().map(|c| c.label.clone()))
    .bind(l.cta.as_ref().map(|c| c.url.clone()))
    .bind(l.connect_deadline_seconds.map(i64::from))
    .bind((!l.embed_origins.is_empty()).then(|| l.embed_origins.join(" ")))
    .bind(l.revoked_at.map(|t| t.millis()))
    .bind(&l.id)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}
