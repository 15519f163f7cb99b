//! Games and their uploaded versions.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Whether a game's saves are kept by the platform between plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArchivePolicy {
    /// Single-player: the player's data is archived at the end of a play and restored next time.
    SinglePlayer,
    /// Online: the game keeps its state on its own servers; nothing is archived.
    Online,
}

/// The defaults a play of this game gets unless a try-play link or order says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TrialDefaults {
    /// Longest play, in seconds.
    pub max_play_seconds: u32,
    /// How long a dropped player may take to come back to the same instance.
    pub reconnect_grace_seconds: u32,
    /// A play with no input for this long is ended.
    pub idle_kick_seconds: u32,
    /// A reserved play whose player has not connected this long after the reservation ends
    /// with `NO_SHOW` (not billed); absent: the controller's default (60 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_deadline_seconds: Option<u32>,
}

impl Default for TrialDefaults {
    fn default() -> Self {
        Self {
            max_play_seconds: 600,
            reconnect_grace_seconds: 60,
            idle_kick_seconds: 120,
            connect_deadline_seconds: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Game {
    pub id: String,
    pub tenant_id: String,
    /// URL-safe name, unique within the tenant.
    pub slug: String,
    pub name: String,
    /// Where the portal loads the icon from (the default version's icon), if there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
    pub archive_policy: ArchivePolicy,
    /// Allowed spec ids, most wanted first: a play falls back along this list.
    pub spec_ids: Vec<String>,
    pub trial_defaults: TrialDefaults,
    /// Fixed by the first READY version; every later version must have the same package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// The newest published version, which plays use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_version_id: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateGame {
    pub slug: String,
    pub name: String,
    pub archive_policy: ArchivePolicy,
    pub spec_ids: Vec<String>,
    #[serde(default)]
    pub trial_defaults: Option<TrialDefaults>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateGame {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub archive_policy: Option<ArchivePolicy>,
    #[serde(default)]
    pub spec_ids: Option<Vec<String>>,
    #[serde(default)]
    pub trial_defaults: Option<TrialDefaults>,
}

/// UPLOADING → PARSING → READY | FAILED. Only READY versions can be published and deployed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VersionState {
    Uploading,
    Parsing,
    Ready,
    Failed,
}

/// Why a version failed: a stable code (`APK_ZIP_BOMB`, `DUPLICATE_VERSION_CODE`, …) and a
/// sentence for people.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Failure {
    pub code: String,
    pub message: String,
}

/// What the APK says about itself (known once the version is READY).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ApkSummary {
    pub package: String,
    pub version_code: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_sdk: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_sdk: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launchable_activity: Option<String>,
    pub permissions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub abis: Vec<String>,
    pub has_icon: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Version {
    pub id: String,
    pub game_id: String,
    pub state: VersionState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// The package's SHA-256 (hex), its address in the package store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub size_bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apk: Option<ApkSummary>,
    /// Set while published; a revoked version is no longer played.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// Where an upload stands (also available as tus headers on `HEAD`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Upload {
    pub id: String,
    pub version_id: String,
    pub offset: u64,
    pub length: u64,
    pub expires_at: Timestamp,
}
