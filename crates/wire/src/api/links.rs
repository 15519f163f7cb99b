//! Try-play links and the card a player sees.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A try-play link: `https://<portal>/play/<code>`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Link {
    pub id: String,
    pub code: String,
    pub game_id: String,
    /// Trial length of each play through this link.
    pub trial_seconds: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_plays: Option<u32>,
    pub plays_used: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
    /// What the player page offers when a play ends (e.g. "Install the full game").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cta: Option<CallToAction>,
    /// The link's own connect deadline, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_deadline_seconds: Option<u32>,
    pub created_at: Timestamp,
}

/// The tenant's call to action on the player's end screen.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CallToAction {
    /// 1–60 characters.
    pub label: String,
    /// An `https://` (or `http://`) URL, at most 2048 characters.
    pub url: String,
}

/// What a player's page shows for a try-play link before playing (public, no account):
/// the game card, the trial length, the call to action, and the rooms whose probe endpoints
/// the SDK measures before acquiring.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct LinkCard {
    pub code: String,
    pub game_id: String,
    pub game_name: String,
    /// A public icon URL (relative to the controller), when the game has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
    pub trial_seconds: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cta: Option<CallToAction>,
    /// Rooms where the game is deployed and ready.
    pub rooms: Vec<RoomProbe>,
}

/// A room a play may land in, and the URL clients time a request to (RTT).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct RoomProbe {
    pub room_id: String,
    pub probe_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateLink {
    pub game_id: String,
    /// Defaults to the game's max play seconds.
    #[serde(default)]
    pub trial_seconds: Option<u32>,
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
    #[serde(default)]
    pub max_plays: Option<u32>,
    #[serde(default)]
    pub campaign: Option<String>,
    #[serde(default)]
    pub cta: Option<CallToAction>,
    /// Seconds a player of this link has to connect after a reservation before it ends
    /// `NO_SHOW` (1–3600); absent: the game's trial defaults, else the controller's default.
    #[serde(default)]
    pub connect_deadline_seconds: Option<u32>,
}
