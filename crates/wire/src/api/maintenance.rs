//! Scheduled maintenance of a machine room or a board: players in session there are told ahead
//! of time (with the time it starts), no new plays are placed there while it lasts, plays still
//! there when it starts end `MAINTENANCE` with their saves kept, and its boards are drained
//! until it ends.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a maintenance window stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MaintenanceState {
    /// Planned; players are not told yet.
    Scheduled,
    /// Players in session there have been told when it starts.
    Announced,
    /// Started: its boards are drained and took no new plays.
    UnderWay,
    /// Over: the boards it drained take plays again.
    Done,
    /// Called off before it ended.
    Cancelled,
}

impl MaintenanceState {
    /// The state as the API and the store spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            MaintenanceState::Scheduled => "scheduled",
            MaintenanceState::Announced => "announced",
            MaintenanceState::UnderWay => "under_way",
            MaintenanceState::Done => "done",
            MaintenanceState::Cancelled => "cancelled",
        }
    }

    /// The state from its spelling.
    pub fn parse(text: &str) -> Option<MaintenanceState> {
        [
            MaintenanceState::Scheduled,
            MaintenanceState::Announced,
            MaintenanceState::UnderWay,
            MaintenanceState::Done,
            MaintenanceState::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A maintenance window of one room (all its boards) or one board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Maintenance {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board_id: Option<String>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    /// The operator's word for players and other operators (e.g. "power work").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub state: MaintenanceState,
    /// The boards it drained (given back when it ends).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drained: Vec<String>,
    pub created_by: String,
    pub created_at: Timestamp,
}

/// Schedules maintenance of a room or a board (exactly one of them).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMaintenance {
    #[serde(default)]
    pub room_id: Option<String>,
    #[serde(default)]
    pub board_id: Option<String>,
    /// Not in the past; players in session are told from `announce` seconds before.
    pub starts_at: Timestamp,
    /// After `starts_at`, at most 7 days later.
    pub ends_at: Timestamp,
    /// At most 200 characters.
    #[serde(default)]
    pub note: Option<String>,
}
