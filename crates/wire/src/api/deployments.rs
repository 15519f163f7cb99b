//! Deployments: a version's package placed on rooms' volumes and copied by their boards.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentRoomState {
    Pending,
    Syncing,
    Ready,
    Failed,
}

/// How far a room's deployment has got: `pending` until the package is on the room's shared
/// volume and a board has started copying it, `syncing` while the first board copies it,
/// `ready` once one board of the room holds it, `failed` if a board's copy failed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeploymentRoom {
    pub room_id: String,
    pub state: DeploymentRoomState,
    /// 0–100, while syncing.
    pub progress_percent: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub updated_at: Timestamp,
    /// The package's copy on the room's shared volume.
    pub volume: VolumeCopy,
    /// The room's boards by how far each has copied the package from the volume.
    pub boards: BoardTally,
}

/// Where a room's shared volume stands with a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VolumeCopyState {
    /// A controller is copying it there (or will on its next try).
    Placing,
    /// The volume holds it, verified by its SHA-256; boards copy it from there.
    Placed,
    /// The last try failed (the volume could not be reached or written); tried again later.
    Unreachable,
}

/// A package's copy on a room's shared volume.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VolumeCopy {
    pub state: VolumeCopyState,
    /// 0–100, while placing.
    pub progress_percent: u8,
    /// Why the last try failed, while unreachable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Failed tries since the last success.
    pub attempts: u32,
    pub updated_at: Timestamp,
}

/// A room's boards by where they are with a package.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BoardTally {
    /// Every board of the room.
    pub total: u32,
    pub syncing: u32,
    pub ready: u32,
    pub failed: u32,
}

/// One board's copy of a deployed package.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeploymentBoard {
    pub board_id: String,
    pub room_id: String,
    pub state: DeploymentRoomState,
    /// 0–100, while syncing.
    pub progress_percent: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub updated_at: Timestamp,
}

/// A version's desired rooms and how far each has got.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Deployment {
    pub version_id: String,
    pub game_id: String,
    pub rooms: Vec<DeploymentRoom>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SetDeployment {
    /// The rooms the version should be in. Rooms left out are undeployed.
    pub room_ids: Vec<String>,
}
