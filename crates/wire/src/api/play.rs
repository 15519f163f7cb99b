//! Playing: acquire, queue tickets, sessions, and what an operator sees and does to them.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// What the player's device says about itself (recorded with the session).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct DeviceInfo {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
}

/// Ask for a play. Send it with an `Idempotency-Key` header: a repeat returns the same answer.
/// The session and ticket ids in the answer are the player's capabilities (unguessable), used
/// to poll, claim, cancel and leave.
/// Identify the play either with a try-play `link` code and the device's anonymous `device_id`,
/// or with a `game_id` and a `player_token` signed by the tenant's backend.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcquireRequest {
    #[serde(default)]
    pub link: Option<String>,
    /// A random id the device keeps (16–64 characters of letters, digits, `-` and `_`).
    #[serde(default)]
    pub device_id: Option<String>,
    #[serde(default)]
    pub game_id: Option<String>,
    #[serde(default)]
    pub player_token: Option<String>,
    /// A preferred spec (must be one of the game's); the game's fallback order follows it.
    #[serde(default)]
    pub spec_id: Option<String>,
    /// The client's measured round-trip time to each candidate room's probe endpoint.
    #[serde(default)]
    pub rtt_ms: BTreeMap<String, u32>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub device: Option<DeviceInfo>,
    /// Restore this archive instead of the newest one.
    #[serde(default)]
    pub archive_id: Option<String>,
}

/// Which player asks for their saves: the same identity an acquire carries — a try-play
/// `link` code with the device's `device_id`, or a `game_id` with a `player_token`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavesRequest {
    #[serde(default)]
    pub link: Option<String>,
    #[serde(default)]
    pub device_id: Option<String>,
    #[serde(default)]
    pub game_id: Option<String>,
    #[serde(default)]
    pub player_token: Option<String>,
}

/// One of the player's own saves of a game, as the player sees it (no tenant, session or
/// hash): pick one to restore with the acquire's `archive_id`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct PlayerSave {
    pub id: String,
    pub created_at: Timestamp,
    pub size_bytes: u64,
    /// The tenant's label for it, if any.
    #[serde(default)]
    pub tag: Option<String>,
    pub pinned: bool,
}

/// The player's saves of the game, newest first (at most [`MAX_PLAYER_SAVES`]); only those
/// the game's instances can restore.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct PlayerSaves {
    pub items: Vec<PlayerSave>,
}

/// Most saves a player is shown.
pub const MAX_PLAYER_SAVES: usize = 20;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AcquireResponse {
    /// An instance is reserved: follow the session until it is ready.
    Assigned {
        session_id: String,
        room_id: String,
        board_id: String,
        spec_id: String,
        /// True when the game's first spec had no capacity and a fallback was used.
        downgraded: bool,
        /// The player's proof of this play: sent as `Authorization: Bearer <play_key>` to read,
        /// follow and leave the session (`/v1/play/sessions/{id}`). Only this answer carries it.
        play_key: String,
    },
    /// No capacity now: wait in line.
    Queued {
        ticket_id: String,
        /// 1-based.
        position: u32,
        queue_length: u32,
        eta_secs: u32,
        /// `TENANT_QUOTA_FULL`, `ROOM_FULL` or `NEW_PLAYS_PAUSED` (an operator has paused new plays).
        reason: String,
        /// Poll (or keep the event stream open) at least this often, or the ticket is evicted.
        poll_after_ms: u32,
        /// The player's proof of this ticket: sent as `Authorization: Bearer <play_key>` to poll,
        /// cancel and follow it (the event stream takes it as `?key=`).
        play_key: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    Waiting,
    /// A slot was reserved for it: claim it (poll) before `claim_deadline`.
    Promoted,
    /// Claimed: the session is the player's.
    Claimed,
    Cancelled,
    /// Its client stopped polling.
    Evicted,
    /// Promoted but not claimed in time.
    Expired,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Ticket {
    pub id: String,
    pub state: TicketState,
    pub reason: String,
    /// While waiting: 1-based place in line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
    pub queue_length: u32,
    pub eta_secs: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_deadline: Option<Timestamp>,
    pub poll_after_ms: u32,
    /// With `session_id`: the session's play key (see [`AcquireResponse`]), given only to
    /// the ticket's holder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub play_key: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    Reserved,
    Preparing,
    Ready,
    Playing,
    Ending,
    Ended,
}

/// One waiting player, as the queue monitor shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct QueueEntry {
    pub ticket_id: String,
    pub tenant_id: String,
    pub game_id: String,
    /// `device:<digest of the device id>` or `user:<id>`.
    pub user: String,
    /// 1-based place in the tenant's line (priority tier, then player level, then arrival).
    pub position: u32,
    /// `TENANT_QUOTA_FULL`, `ROOM_FULL` or `NEW_PLAYS_PAUSED` (an operator has paused new plays).
    pub reason: String,
    pub waiting_since: Timestamp,
}

/// The waiting lines the caller may see (a tenant's own; every tenant's for operators), in
/// order. At most [`QUEUE_VIEW_MAX`] entries; `total` counts them all.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct QueueView {
    pub entries: Vec<QueueEntry>,
    pub total: u32,
}

/// Most entries a [`QueueView`] lists.
pub const QUEUE_VIEW_MAX: usize = 1000;

/// A play as the coordinator records it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Session {
    pub id: String,
    pub tenant_id: String,
    pub game_id: String,
    pub version_id: String,
    /// `device:<digest of the device id>` for link players, `user:<id>` for tenant players.
    pub user: String,
    pub spec_id: String,
    pub room_id: String,
    pub board_id: String,
    pub state: SessionState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<EndReason>,
    pub downgraded: bool,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Timestamp>,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EndReason {
    /// The player left (or did not come back within the reconnect grace).
    UserLeft,
    /// The trial's or the order's longest play was reached.
    TrialOver,
    /// No input for the idle-kick time.
    Idle,
    /// An operator or the tenant ended it.
    Kicked,
    /// Its board stopped answering for a whole lease.
    BoardLost,
    /// The game crashed or stopped on the instance.
    AppCrashed,
    /// The game stopped taking input (Android's "isn't responding").
    AppNotResponding,
    /// Ended for maintenance of its board.
    Maintenance,
    /// A promotion from the queue was not claimed in time.
    ClaimExpired,
    /// The player never connected before the connect deadline (not billed).
    NoShow,
    /// Anything else (the board's report says more).
    Error,
}

impl EndReason {
    pub const ALL: [EndReason; 11] = [
        EndReason::UserLeft,
        EndReason::TrialOver,
        EndReason::Idle,
        EndReason::Kicked,
        EndReason::BoardLost,
        EndReason::AppCrashed,
        EndReason::AppNotResponding,
        EndReason::Maintenance,
        EndReason::ClaimExpired,
        EndReason::NoShow,
        EndReason::Error,
    ];

    /// The reason as the API and the store spell it (`USER_LEFT`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::UserLeft => "USER_LEFT",
            EndReason::TrialOver => "TRIAL_OVER",
            EndReason::Idle => "IDLE",
            EndReason::Kicked => "KICKED",
            EndReason::BoardLost => "BOARD_LOST",
            EndReason::AppCrashed => "APP_CRASHED",
            EndReason::AppNotResponding => "APP_NOT_RESPONDING",
            EndReason::Maintenance => "MAINTENANCE",
            EndReason::ClaimExpired => "CLAIM_EXPIRED",
            EndReason::NoShow => "NO_SHOW",
            EndReason::Error => "ERROR",
        }
    }

    /// The reason a text names, if it names one exactly.
    pub fn parse(s: &str) -> Option<EndReason> {
        EndReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for EndReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a player reaches their instance once the session is ready.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ConnectInfo {
    /// The board agent's signaling WebSocket.
    pub signaling_url: String,
    /// A session token signed for that agent (see `session_token`); send it in the hello.
    pub token: String,
    pub expires_at: Timestamp,
}

/// The player's view of their play: the session, and how to connect once it is ready.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct PlaySession {
    pub session: Session,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<ConnectInfo>,
}

/// One live play, as the coordinator's "online" view shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct OnlineEntry {
    pub session_id: String,
    pub tenant_id: String,
    pub user: String,
    pub game_id: String,
    pub version_id: String,
    pub spec_id: String,
    pub room_id: String,
    pub board_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    pub state: SessionState,
    /// Whether the player's peer is connected to the agent right now.
    pub connected: bool,
    pub since: Timestamp,
    /// Touch-to-screen latency the player measured in this play, when it measured any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencySummary>,
}

/// A play's touch-to-screen latency so far, from the player's probes.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct LatencySummary {
    pub samples: u64,
    pub last_ms: f64,
    pub mean_ms: f64,
    pub max_ms: f64,
}

/// Ends many sessions at once. The first call (without `confirm`) only counts the matching
/// sessions and returns a confirm token; repeating it with that token (within a minute) kicks.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct BulkKick {
    #[serde(default)]
    pub game_id: Option<String>,
    #[serde(default)]
    pub board_id: Option<String>,
    #[serde(default)]
    pub room_id: Option<String>,
    /// `KICKED` (default) or `MAINTENANCE`.
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub confirm: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct BulkKickAnswer {
    pub matched: u32,
    pub kicked: u32,
    /// Present on the counting call: send it back as `confirm` to kick.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_token: Option<String>,
}

/// A shell command an operator runs in an instance (audited), and its output so far.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ShellRun {
    pub id: String,
    pub board_id: String,
    pub instance_id: String,
    pub command: String,
    pub requested_by: String,
    /// `running`, `done` or `failed`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    pub output: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateShellRun {
    pub instance_id: String,
    pub command: String,
    /// 1–600 seconds (default 30).
    #[serde(default)]
    pub timeout_secs: Option<u32>,
}

/// Where a play recording stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordingState {
    /// The board is writing it (until it is stopped or the play ends), then uploads it.
    Recording,
    /// Stored: its file can be downloaded until `expires_at`.
    Ready,
    /// Nothing usable arrived (see `error`).
    Failed,
}

/// A recording of a play's video: the stream's own H.264 in an MP4 file, not re-encoded.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Recording {
    pub id: String,
    pub session_id: String,
    pub tenant_id: String,
    pub game_id: String,
    pub state: RecordingState,
    /// Video frames in the file.
    pub frames: u64,
    pub duration_ms: u64,
    pub size_bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    /// When the recording and its file are deleted.
    pub expires_at: Timestamp,
}

/// Asks a board for the last lines of its agent's own log (answered as a shell run).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct TailAgentLog {
    /// 1–2000 lines (default 200).
    #[serde(default)]
    pub lines: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::EndReason;

    #[test]
    fn end_reasons_read_back_as_they_are_written() {
        for r in EndReason::ALL {
            assert_eq!(EndReason::parse(r.as_str()), Some(r));
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.as_str())
            );
        }
        assert_eq!(EndReason::parse("prepare_failed: no capacity"), None);
    }
}
