//! Topology: regions → machine rooms → arrays → boards, and what a board reports about itself.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Region {
    pub id: String,
    pub name: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateRegion {
    pub name: String,
}

/// How a room places sessions on its boards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// Prefer the least-loaded board (evens out heat and noise).
    #[default]
    Spread,
    /// Fill the most-loaded board first (keeps whole boards free for draining).
    Binpack,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Room {
    pub id: String,
    pub region_id: String,
    pub name: String,
    /// The most instances this room may run at once.
    pub instance_cap: u32,
    /// The room's shared package volume: a path (`/mnt/packages`) or an rsync URL.
    pub shared_volume: String,
    /// The URL clients measure their RTT against before acquiring.
    pub probe_url: String,
    pub placement: Placement,
    /// A board whose CPU goes over this (percent) takes no new plays until it is 10 points
    /// under it again.
    pub max_cpu_percent: u32,
    /// A board with a sensor over this (°C) takes no new plays until it is 5 °C under it again.
    pub max_temperature_c: u32,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateRoom {
    pub region_id: String,
    pub name: String,
    pub instance_cap: u32,
    pub shared_volume: String,
    pub probe_url: String,
    #[serde(default)]
    pub placement: Placement,
    /// 1–100; 90 unless given (see [`Room::max_cpu_percent`]).
    #[serde(default)]
    pub max_cpu_percent: Option<u32>,
    /// 20–150; 85 unless given (see [`Room::max_temperature_c`]).
    #[serde(default)]
    pub max_temperature_c: Option<u32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateRoom {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub instance_cap: Option<u32>,
    #[serde(default)]
    pub shared_volume: Option<String>,
    #[serde(default)]
    pub probe_url: Option<String>,
    #[serde(default)]
    pub placement: Option<Placement>,
    #[serde(default)]
    pub max_cpu_percent: Option<u32>,
    #[serde(default)]
    pub max_temperature_c: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Array {
    pub id: String,
    pub room_id: String,
    pub name: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateArray {
    pub room_id: String,
    pub name: String,
}

/// The operator's intent for a board. Liveness (online, lost) comes from its agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BoardStatus {
    /// Takes new sessions.
    Active,
    /// Keeps its sessions, takes no new ones.
    Draining,
    /// Out of service.
    Disabled,
}

/// Whether a board's agent is with us, as the controller sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    /// Connected and heartbeating.
    Online,
    /// Disconnected, still within its lease (its sessions keep running).
    Offline,
    /// Silent for longer than the lease: its sessions are ended, its slots left the pool.
    Lost,
}

/// One instance of a board, as the board last reported it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct BoardInstance {
    pub id: String,
    pub spec_id: String,
    pub state: InstanceState,
    /// The play it serves (or served last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The package of its current or last play.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// The video encoder of its current or last play, as Android names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoder: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booted_at: Option<Timestamp>,
    /// When the board last reported it.
    pub updated_at: Timestamp,
    /// The game version it holds ready (or is priming) while idle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primed_version_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Board {
    pub id: String,
    pub array_id: String,
    /// The board's serial number, unique across the platform.
    pub serial: String,
    /// The board model, e.g. `RK3588`.
    pub model: String,
    /// How many instances of each spec the board can run (spec id → slots).
    pub capacity: BTreeMap<String, u32>,
    pub status: BoardStatus,
    pub agent_state: AgentState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_version: Option<String>,
    /// The latest telemetry from its agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telemetry: Option<Telemetry>,
    /// Why the board takes no new plays while it cools down (its CPU or a temperature over its
    /// room's limit), e.g. `temperature 91 °C over the room's 85 °C`; absent when it takes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hot: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateBoard {
    pub array_id: String,
    pub serial: String,
    pub model: String,
    pub capacity: BTreeMap<String, u32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateBoard {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub capacity: Option<BTreeMap<String, u32>>,
    #[serde(default)]
    pub status: Option<BoardStatus>,
}

/// A whole topology in one document, for bulk import. Existing objects (matched by name within
/// their parent, boards by serial) are updated; new ones are created; nothing is deleted.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TopologyImport {
    pub regions: Vec<ImportRegion>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportRegion {
    pub name: String,
    #[serde(default)]
    pub rooms: Vec<ImportRoom>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportRoom {
    pub name: String,
    pub instance_cap: u32,
    pub shared_volume: String,
    pub probe_url: String,
    #[serde(default)]
    pub placement: Placement,
    #[serde(default)]
    pub arrays: Vec<ImportArray>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportArray {
    pub name: String,
    #[serde(default)]
    pub boards: Vec<ImportBoard>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportBoard {
    pub serial: String,
    pub model: String,
    pub capacity: BTreeMap<String, u32>,
}

/// What a bulk import did.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ImportReport {
    pub created: u32,
    pub updated: u32,
}

/// What one instance on the board is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InstanceState {
    Booting,
    /// Booted and idle in the warm pool (blank, or holding a game ready: see
    /// `agent::InstanceReport::primed_version_id`).
    Warm,
    /// Booted, and getting a game ready for the warm pool: installed, then started up to its
    /// first frame.
    Priming,
    Preparing,
    Busy,
    Resetting,
    Broken,
}

/// Board health, sent with every heartbeat.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Telemetry {
    pub cpu_percent: f32,
    pub load1: f32,
    pub mem_used_mb: u32,
    pub mem_total_mb: u32,
    pub disk_free_mb: u64,
    /// From `/sys/class/thermal/*/temp`, in °C.
    pub temperatures_c: Vec<f32>,
    pub instances_running: u32,
    pub instances_warm: u32,
    /// Warm instances holding a game ready, per game version and spec (the rest of
    /// `instances_warm` are blank).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub primed: Vec<PrimedCount>,
}

/// How many warm instances of one spec hold one game version ready.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
pub struct PrimedCount {
    pub version_id: String,
    pub spec_id: String,
    pub warm: u32,
}
