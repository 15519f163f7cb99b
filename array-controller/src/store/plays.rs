//! What an acquire resolves before it reserves, read outside the reserving transaction: the
//! try-play link by its code, the game with its publisher's standing, the newest published
//! version, and the rooms where that version is ready (the link card's probes).

use super::catalog::{deployment_state_text, version_state_text};
use playrack_wire::api::{DeploymentRoomState, TenantStatus, VersionState};
use sqlx::AnyPool;

/// A try-play link as the player side sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenLink {
    pub id: String,
    pub tenant_id: String,
    pub game_id: String,
    pub trial_seconds: i64,
    pub revoked_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub connect_deadline_seconds: Option<i64>,
    pub cta_label: Option<String>,
    pub cta_url: Option<String>,
    pub embed_origins: Option<String>,
    pub campaign: Option<String>,
}

/// The link with this code, revoked or not.
pub async fn link_by_code(pool: &AnyPool, code: &str) -> Result<Option<OpenLink>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, tenant_id, game_id, trial_seconds, revoked_at, expires_at, connect_deadline_seconds, \
         cta_label, cta_url, embed_origins, campaign FROM links WHERE code = $1",
    )
    .bind(code)
    .fetch_optional(pool)
    .await
}

/// A game as a play needs it, with its publisher's standing.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlayableGame {
    /// JSON array of spec ids, in fallback order.
    pub spec_ids: String,
    /// JSON `TrialDefaults`.
    pub trial_defaults: String,
    pub package_name: Option<String>,
    /// The tenant's status (see [`PlayableGame::publisher_active`]).
    pub status: String,
    pub priority_tier: i64,
}

impl PlayableGame {
    /// Whether the publisher may serve plays (not suspended).
    pub fn publisher_active(&self) -> bool {
        super::accounts::parse_tenant_status(&self.status) == TenantStatus::Active
    }
}

/// Game `game` of tenant `tenant` (`None` if there is none, or it is another tenant's).
pub async fn game(
    pool: &AnyPool,
    game: &str,
    tenant: &str,
) -> Result<Option<PlayableGame>, sqlx::Error> {
    sqlx::query_as(
        "SELECT g.spec_ids, g.trial_defaults, g.package_name, t.status, t.priority_tier \
         FROM games g JOIN tenants t ON t.id = g.tenant_id WHERE g.id = $1 AND g.tenant_id = $2",
    )
    .bind(game)
    .bind(tenant)
    .fetch_optional(pool)
    .await
}

/// The game's newest published version that is ready to play.
pub async fn published_version(pool: &AnyPool, game: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM versions WHERE game_id = $1 AND state = $2 AND published_at IS NOT NULL \
         ORDER BY ready_version_code DESC LIMIT 1",
    )
    .bind(game)
    .bind(version_state_text(VersionState::Ready))
    .fetch_optional(pool)
    .await
}

/// A room where a version is ready, and the URL players time their round trip to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReadyRoom {
    pub id: String,
    pub probe_url: String,
}

/// The rooms where `version` is deployed and ready, by id.
pub async fn ready_rooms(pool: &AnyPool, version: &str) -> Result<Vec<ReadyRoom>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.id, r.probe_url FROM deployments d JOIN rooms r ON r.id = d.room_id \
         WHERE d.version_id = $1 AND d.state = $2 ORDER BY r.id",
    )
    .bind(version)
    .bind(deployment_state_text(DeploymentRoomState::Ready))
    .fetch_all(pool)
    .await
}
