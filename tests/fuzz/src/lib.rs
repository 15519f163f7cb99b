//! Support for the fuzz targets in `fuzz_targets/`: splitting input into socket-read-sized
//! pieces, and the node agent's sans-IO parsers compiled straight from their source files.
//!
//! The node agent itself is not a dependency: it would bring WebRTC (aws-lc), Docker and HTTP
//! client stacks into every fuzz build for minutes of CI time. The three files below depend
//! only on crates this one has (`playrack-wire`, `android-injector`, `playrack-apk`, `tar`,
//! `flate2`, `anyhow`), so `#[path]` compiles exactly the code the agent runs.

#![allow(dead_code)]

/// DataChannel input → scrcpy control messages (`node-agent/src/relay/input.rs`).
#[path = "../../../node-agent/src/relay/input.rs"]
pub mod relay_input;

/// The signaling gate: first message and session token (`node-agent/src/signaling.rs`).
#[path = "../../../node-agent/src/signaling.rs"]
pub mod signaling;

/// The save-archive member check (`node-agent/src/archive/members.rs`).
#[path = "../../../node-agent/src/archive/members.rs"]
pub mod archive_members;

/// Splits `data` into pieces of 1–23 bytes whose sizes follow from `seed`, so incremental
/// decoders see every kind of fragmentation a socket can produce.
pub fn pieces(data: &[u8], seed: u8) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    let mut i = 0usize;
    while !rest.is_empty() {
        let n = ((usize::from(seed) ^ i.wrapping_mul(31)) % 23 + 1).min(rest.len());
        let (a, b) = rest.split_at(n);
        out.push(a);
        rest = b;
        i += 1;
    }
    out
}
