//! Players' save archives.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A stored save archive.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Archive {
    pub id: String,
    pub tenant_id: String,
    /// The player (`device:<digest>` or `user:<id>`).
    pub user: String,
    pub game_id: String,
    /// The play that saved it.
    pub session_id: String,
    pub sha256: String,
    pub size_bytes: u64,
    /// Android API level of the instance that saved it.
    pub android_sdk: u32,
    #[serde(default)]
    pub tag: Option<String>,
    /// Pinned archives are never deleted by the keep-newest rule.
    pub pinned: bool,
    pub created_at: Timestamp,
}

/// Changes to an archive: pin or unpin it, set or clear (`""`) its tag.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateArchive {
    #[serde(default)]
    pub pinned: Option<bool>,
    /// Up to 100 characters; `""` clears the tag.
    #[serde(default)]
    pub tag: Option<String>,
}
