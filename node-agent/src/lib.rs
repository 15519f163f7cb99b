//! The node agent: one per ARM board.
//!
//! It runs the board's Android instances, keeps a warm pool of booted ones, syncs APKs from
//! the room's shared volume, and turns a warm instance into a player's game when the array
//! controller says so, and relays the instance's own H.264 and Opus to players over WebRTC,
//! injecting their touches back.
//!
//! # Layout
//! - [`config`]: file < environment < flags, merged into one [`config::Config`].
//! - [`link`]: the controller link — a sans-IO state machine ([`link::Link`]: enrol, hello,
//!   heartbeat, backoff, idempotent commands) and its thin WebSocket shell; [`link::telemetry`]
//!   reads board health from /proc and /sys.
//! - [`runtime`]: the [`runtime::Runtime`] trait and its drivers, `process` (virtual devices as
//!   child processes) and `docker` (redroid-style containers).
//! - [`pool`]: the warm pool — a pure policy (what to boot, what to remove) and the manager
//!   that applies it in the background.
//! - [`packages`]: the package cache — rsync from the shared volume, SHA-256 check, LRU budget.
//! - [`adb`]: the agent's own adb server, driven through the real `adb` binary.
//! - [`play`]: one play's preparation — install, archive restore, the scrcpy server and its
//!   sockets.
//! - [`recording`]: a play's video into an MP4 file as it streams, without re-encoding.
//! - [`upload`]: files handed to the controller (save archives, recordings), streamed.
//! - [`watchdog`]: watches each play's game — crashed, not responding, or off the screen.
//! - [`signaling`]: the gate every player or spectator passes: offline session-token checks
//!   and replay refusal.
//! - [`relay`]: the WebRTC relay — a sans-IO engine over str0m (one UDP socket for every
//!   session, media fan-out to players and spectators, input → scrcpy control messages) and
//!   its async shell.
//! - [`http`]: the agent's HTTP server — the signaling WebSocket, the RTT probe, health and
//!   metrics.
//! - [`logtail`]: the agent's own recent log lines, kept in memory for the console.
//! - [`agent`]: ties them together and executes the controller's commands.
//! - [`doctor`]: `node-agent doctor` — checks a board end to end with one throwaway instance
//!   and says what fails and how to fix it.
//!
//! Start reading at [`agent::Agent`], then [`link::Link`] and [`play::prepare`].

pub mod adb;
pub mod agent;
pub mod archive;
pub mod config;
pub mod doctor;
pub mod http;
pub mod ice;
pub mod link;
pub mod logtail;
pub mod metrics;
pub mod packages;
pub mod play;
pub mod pool;
pub mod recording;
pub mod relay;
pub mod runtime;
pub mod signaling;
pub mod upload;
pub mod watchdog;

/// Reported to the controller in the enrolment and the hello.
pub const AGENT_VERSION: &str = concat!("node-agent/", env!("CARGO_PKG_VERSION"));
