//! The node agent: one per ARM board.
//!
//! It runs containerized Android instances, keeps a warm pool, syncs APKs from the room's shared
//! volume, drives each instance through adb and relays its H.264 to players over WebRTC.
//! Its pieces arrive with the node-agent issue; today the crate only reserves its place in the
//! workspace.
