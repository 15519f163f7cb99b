//! Watch links: a tenant's read-only links to one live play (a streamer's fans, a support
//! desk) or to a wall of a game's live plays (a booth at an event). Whoever holds the link
//! watches, never plays; the link has a viewer limit, expires, and can be revoked.

use crate::Timestamp;
use crate::api::ConnectInfo;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Most viewers one watch link admits at once.
pub const MAX_WATCH_VIEWERS: u32 = 50;
/// Most plays a wall shows.
pub const MAX_WALL_TILES: u32 = 16;
/// The longest a watch link lives, in seconds (a day).
pub const MAX_WATCH_TTL_SECS: u32 = 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WatchKind {
    /// One live play.
    Session,
    /// The game's live plays, tiled.
    Wall,
}

/// A new watch link. For a wall, `tiles` is how many plays it shows (1–16, default 4).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWatchLink {
    /// Viewers at once, 1–50 (default 10).
    #[serde(default)]
    pub max_viewers: Option<u32>,
    /// Seconds until it expires, 60–86,400 (default 3,600).
    #[serde(default)]
    pub ttl_seconds: Option<u32>,
    #[serde(default)]
    pub tiles: Option<u32>,
}

/// A watch link. `code` and `path` are in the answer that creates it only: the code is kept
/// hashed, as a password is.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct WatchLink {
    pub id: String,
    pub tenant_id: String,
    pub kind: WatchKind,
    #[serde(default)]
    pub session_id: Option<String>,
    pub game_id: String,
    pub max_viewers: u32,
    /// Plays shown (1 for a session link).
    pub tiles: u32,
    pub expires_at: Timestamp,
    #[serde(default)]
    pub revoked_at: Option<Timestamp>,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The portal page that plays it: `/watch/<code>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// One play on a watch page: how to connect to it as a spectator.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct WatchTile {
    /// 1, 2, … in the order shown.
    pub position: u32,
    pub connect: ConnectInfo,
}

/// What a watch link shows now: its game's name and the plays (none while nobody plays).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct WatchView {
    pub kind: WatchKind,
    pub game_name: String,
    pub tiles: Vec<WatchTile>,
    pub expires_at: Timestamp,
}
