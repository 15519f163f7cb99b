//! The controller's REST bodies under `/v1`, one section per resource.
//!
//! Conventions every body follows:
//! - ids are opaque strings with a type prefix (`ten_…`, `gam_…`), sortable by creation time;
//! - instants are [`Timestamp`]s; money is integer micro-units of the platform currency;
//! - lists come as a [`Page`]: pass `next_cursor` back as `?cursor=` for the next page;
//! - `Create*` bodies are what a client sends, the bare names are what the server returns,
//!   `Update*` bodies are partial (absent fields stay as they are).

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// One page of a list. `next_cursor` is absent on the last page.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Accounts, roles, sign-in and API keys
// ---------------------------------------------------------------------------------------------

/// What a principal may do. Operators see everything (viewers only read); tenant roles see only
/// their own tenant's objects: admins also manage users and keys, developers manage games,
/// versions, deployments and links, viewers only read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    OperatorAdmin,
    OperatorViewer,
    TenantAdmin,
    TenantDeveloper,
    TenantViewer,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::OperatorAdmin,
        Role::OperatorViewer,
        Role::TenantAdmin,
        Role::TenantDeveloper,
        Role::TenantViewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::OperatorAdmin => "operator-admin",
            Role::OperatorViewer => "operator-viewer",
            Role::TenantAdmin => "tenant-admin",
            Role::TenantDeveloper => "tenant-developer",
            Role::TenantViewer => "tenant-viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn is_operator(self) -> bool {
        matches!(self, Role::OperatorAdmin | Role::OperatorViewer)
    }
}

/// Sign in with an account's email and password; the answer carries a bearer token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`. Shown once; the server keeps only its hash.
    pub token: String,
    pub expires_at: Timestamp,
    pub principal: Principal,
}

/// Who is calling: an account (signed in) or an API key acting with its own role.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Principal {
    /// The account id (`acc_…`) or the API key id (`key_…`).
    pub id: String,
    pub kind: PrincipalKind,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// The account's email; absent for API keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    Account,
    ApiKey,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateAccount {
    pub email: String,
    /// At least 10 characters.
    pub password: String,
    pub role: Role,
    /// Required for tenant roles, forbidden for operator roles. Tenant admins may only create
    /// accounts in their own tenant (and may omit it).
    #[serde(default)]
    pub tenant_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateApiKey {
    /// What the key is for, e.g. "CI uploader".
    pub name: String,
    /// The key's role: at most the creator's own.
    pub role: Role,
    /// When the key stops working: in the future and within a year; 90 days when absent.
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
}

/// An API key as listed: never the secret.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    /// The recognisable start of the secret (`prk_` + key id), safe to show.
    pub prefix: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
}

/// The answer to creating a key: the only time the secret is shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedApiKey {
    pub key: ApiKey,
    /// `prk_<key id>_<secret>`: send as `Authorization: Bearer <secret>`.
    pub secret: String,
}

// ---------------------------------------------------------------------------------------------
// Tenants
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TenantStatus {
    Active,
    Suspended,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub status: TenantStatus,
    /// Allocation priority tier: higher tiers are served first when capacity is short.
    pub priority_tier: i32,
    /// Bytes of packages the tenant may store (its own setting or the platform default).
    pub storage_quota_bytes: u64,
    /// Bytes its versions take (every version but FAILED ones; an upload counts from its start).
    pub package_bytes: u64,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateTenant {
    pub name: String,
    #[serde(default)]
    pub priority_tier: i32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateTenant {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<TenantStatus>,
    #[serde(default)]
    pub priority_tier: Option<i32>,
    /// Bytes of packages the tenant may store (operators).
    #[serde(default)]
    pub storage_quota_bytes: Option<u64>,
}

// ---------------------------------------------------------------------------------------------
// Specs (billable SKUs)
// ---------------------------------------------------------------------------------------------

/// An instance spec: resolution, frame rate and bitrate window, the resources it reserves on a
/// board, and its price. Specs are what tenants buy and what players' sessions are billed by.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Spec {
    /// A readable id chosen by the operator, e.g. `hd-60`.
    pub id: String,
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub bitrate_min_kbps: u32,
    pub bitrate_max_kbps: u32,
    /// CPU reserved per instance, in thousandths of a core.
    pub cpu_millis: u32,
    pub memory_mb: u32,
    /// Price per minute of play in micro-units of the platform currency.
    pub price_per_minute_micros: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateSpec {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub bitrate_min_kbps: Option<u32>,
    #[serde(default)]
    pub bitrate_max_kbps: Option<u32>,
    #[serde(default)]
    pub cpu_millis: Option<u32>,
    #[serde(default)]
    pub memory_mb: Option<u32>,
    #[serde(default)]
    pub price_per_minute_micros: Option<i64>,
}

// ---------------------------------------------------------------------------------------------
// Games and versions
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Topology: regions → machine rooms → arrays → boards
// ---------------------------------------------------------------------------------------------

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
    pub state: crate::agent::InstanceState,
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
    pub telemetry: Option<crate::agent::Telemetry>,
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

// ---------------------------------------------------------------------------------------------
// Orders, deployments, try-play links
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Active,
    Cancelled,
}

/// A tenant's purchase: up to `concurrency` simultaneous instances of one spec, in a region or
/// a set of rooms, between two instants.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Order {
    pub id: String,
    pub tenant_id: String,
    pub spec_id: String,
    /// Covers every room of this region …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_id: Option<String>,
    /// … or exactly these rooms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub room_ids: Vec<String>,
    pub concurrency: u32,
    pub valid_from: Timestamp,
    pub valid_until: Timestamp,
    /// Allocation priority inside the tenant's tier.
    pub priority: i32,
    pub status: OrderStatus,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateOrder {
    pub tenant_id: String,
    pub spec_id: String,
    #[serde(default)]
    pub region_id: Option<String>,
    #[serde(default)]
    pub room_ids: Vec<String>,
    pub concurrency: u32,
    pub valid_from: Timestamp,
    pub valid_until: Timestamp,
    #[serde(default)]
    pub priority: i32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateOrder {
    #[serde(default)]
    pub concurrency: Option<u32>,
    #[serde(default)]
    pub valid_until: Option<Timestamp>,
    #[serde(default)]
    pub priority: Option<i32>,
    #[serde(default)]
    pub status: Option<OrderStatus>,
}

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

// ---------------------------------------------------------------------------------------------
// Audit log
// ---------------------------------------------------------------------------------------------

/// One mutation: who did what to which object, when, and a summary of the change.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub id: String,
    pub at: Timestamp,
    /// The principal's id (`acc_…`, `key_…`) or `system`.
    pub actor: String,
    /// The tenant that owns the object, if any (tenants read only their own entries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// `<object type>.<verb>`, e.g. `game.create`, `version.publish`.
    pub action: String,
    pub object_id: String,
    pub summary: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Playing: acquire, queue tickets, sessions
// ---------------------------------------------------------------------------------------------

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
        /// `TENANT_QUOTA_FULL` or `ROOM_FULL`.
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
    /// `TENANT_QUOTA_FULL` or `ROOM_FULL`.
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

// ---------------------------------------------------------------------------------------------
// Archives, usage and webhooks
// ---------------------------------------------------------------------------------------------

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

/// One row of the usage ledger.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct LedgerEntry {
    pub session_id: String,
    pub tenant_id: String,
    pub game_id: String,
    pub spec_id: String,
    pub room_id: String,
    pub board_id: String,
    pub user: String,
    pub end_reason: EndReason,
    pub reserved_at: Timestamp,
    #[serde(default)]
    pub started_at: Option<Timestamp>,
    pub ended_at: Timestamp,
    pub billable_secs: u64,
    pub price_per_minute_micros: i64,
    pub amount_micros: i64,
}

/// One aggregate of the ledger.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct UsageRow {
    /// The UTC day (`YYYY-MM-DD`), when grouped by day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_id: Option<String>,
    pub sessions: u64,
    pub billable_secs: u64,
    pub amount_micros: i64,
}

/// Aggregated usage.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct UsageReport {
    /// The tenant reported on (absent: every tenant, for operators).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    pub from: Timestamp,
    pub to: Timestamp,
    pub items: Vec<UsageRow>,
}

/// A registered endpoint (its secret is shown only at creation).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Webhook {
    pub id: String,
    pub tenant_id: String,
    pub url: String,
    /// Subscribed event types: `session.started`, `session.ended`, `session.duration`.
    pub events: Vec<String>,
    pub created_at: Timestamp,
}

/// Registers an endpoint.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// An `http` or `https` URL.
    pub url: String,
    /// A non-empty subset of `session.started`, `session.ended`, `session.duration`.
    pub events: Vec<String>,
    /// Operators: the tenant to register it for (tenants register for themselves).
    #[serde(default)]
    pub tenant_id: Option<String>,
}

/// A new endpoint with its signing secret — the only time the secret is shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    pub secret: String,
}

/// One attempt to deliver an event.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct DeliveryAttempt {
    /// 1-based.
    pub attempt: u32,
    pub at: Timestamp,
    /// The HTTP status the endpoint answered, if it answered.
    #[serde(default)]
    pub status_code: Option<u16>,
    #[serde(default)]
    pub error: Option<String>,
    pub duration_ms: u64,
    /// When the next attempt is due (none after a success or the last attempt).
    #[serde(default)]
    pub next_retry_at: Option<Timestamp>,
}

/// An event's delivery to one endpoint, with its attempts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct WebhookDelivery {
    pub id: String,
    pub webhook_id: String,
    pub event_id: String,
    pub event_type: String,
    /// `pending`, `delivered` or `failed` (gave up).
    pub state: String,
    pub attempts: u32,
    #[serde(default)]
    pub last_status: Option<u16>,
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default)]
    pub next_retry_at: Option<Timestamp>,
    pub created_at: Timestamp,
    #[serde(default)]
    pub delivered_at: Option<Timestamp>,
    pub log: Vec<DeliveryAttempt>,
}

/// The key a tenant's backend signs player tokens with (shown once).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PlayerKey {
    pub tenant_id: String,
    pub secret: String,
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
