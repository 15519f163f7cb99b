//! Grey releases (canaries, A/B): a share of a game's players plays a candidate version while
//! the rest play the published one, with each version's figures side by side, then the
//! candidate is promoted to everyone or rolled back.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A game's grey release under way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GreyRelease {
    pub game_id: String,
    /// The candidate version the chosen share plays.
    pub version_id: String,
    /// What everyone else plays: the game's newest published version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stable_version_id: Option<String>,
    /// The share of players, 0–100 (a player is chosen by a stable hash of who they are, so
    /// they keep their version across plays, and raising the share keeps those chosen).
    pub percent: u8,
    /// Only players who come through this try-play link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_id: Option<String>,
    /// Only players who come through a link of this campaign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    pub started_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Starts a grey release or changes the one under way (`PUT /v1/games/{id}/grey`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetGreyRelease {
    /// A READY version, deployed to at least one room, newer than the published version.
    pub version_id: String,
    /// 0–100.
    pub percent: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
}

/// What one version's ended plays came to since a day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VersionFigures {
    pub version_id: String,
    /// Plays that reached the player and have ended.
    pub plays: u64,
    /// Those that ended `APP_CRASHED`.
    pub crashes: u64,
    /// `crashes / plays`, 0 without plays.
    pub crash_rate: f64,
    /// Mean billable seconds of a play.
    pub mean_play_secs: f64,
    /// Mean touch-to-screen latency the players measured, if any was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_latency_ms: Option<f64>,
}

/// A game's grey release (if one is under way) and its versions' figures side by side: the
/// stable version's first, then the candidate's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GreyView {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<GreyRelease>,
    /// Counted from the release's first day (the last 7 days without one).
    pub since: Timestamp,
    pub versions: Vec<VersionFigures>,
}

/// How a grey release ends (`POST /v1/games/{id}/grey/end`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GreyOutcome {
    /// The candidate is published and every player gets it.
    Promote,
    /// The release is withdrawn and every player gets the published version again.
    Rollback,
}

/// Ends a grey release one way or the other.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndGreyRelease {
    pub outcome: GreyOutcome,
}
