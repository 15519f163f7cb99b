//! Support for the fuzz targets in `fuzz_targets/`: splitting input into socket-read-sized
//! pieces and checking that an incremental decoder reads the pieces as it reads the whole, and
//! the node agent's sans-IO parsers compiled straight from their source files.
//!
//! The node agent itself is not a dependency: it would bring WebRTC (aws-lc), Docker and HTTP
//! client stacks into every fuzz build for minutes of CI time. The files below depend
//! only on crates this one has (`playrack-wire`, `playrack-scrcpy`, `playrack-apk`, `tar`,
//! `flate2`, `anyhow`), so `#[path]` compiles exactly the code the agent runs. The CLI's
//! topology file reader comes the same way (with `csv` and `serde_norway`), without the CLI's
//! HTTP client.

#![allow(dead_code)]

/// DataChannel input → scrcpy control messages (`node-agent/src/relay/input.rs`).
#[path = "../../../node-agent/src/relay/input.rs"]
pub mod relay_input;

/// A player's gamepads and mouse → UHID messages (`node-agent/src/relay/hid.rs`).
#[path = "../../../node-agent/src/relay/hid.rs"]
pub mod relay_hid;

/// The signaling gate: first message and session token (`node-agent/src/signaling.rs`).
#[path = "../../../node-agent/src/signaling.rs"]
pub mod signaling;

/// The save-archive member check (`node-agent/src/archive/members.rs`).
#[path = "../../../node-agent/src/archive/members.rs"]
pub mod archive_members;

/// Topology files operators import: CSV rows or a YAML document (`crates/cli/src/topology_file.rs`).
#[path = "../../../crates/cli/src/topology_file.rs"]
pub mod topology_file;

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

/// Feeds `chunks` one by one to an incremental decoder and collects what it yields, up to and
/// including the first error: `feed` hands it bytes, `next` takes the next whole item
/// (`Ok(None)`: it needs more bytes), `check` asserts what must hold of every item and gives
/// what is compared.
pub fn decode_pieces<D, T, R, E: std::fmt::Display>(
    chunks: &[&[u8]],
    mut decoder: D,
    feed: impl Fn(&mut D, &[u8]),
    mut next: impl FnMut(&mut D) -> Result<Option<T>, E>,
    check: impl Fn(T) -> R,
) -> Vec<Result<R, String>> {
    let mut out = Vec::new();
    for c in chunks {
        feed(&mut decoder, c);
        loop {
            match next(&mut decoder) {
                Ok(Some(item)) => out.push(Ok(check(item))),
                Ok(None) => break,
                Err(e) => {
                    out.push(Err(e.to_string()));
                    return out;
                }
            }
        }
    }
    out
}

/// The property of every incremental decoder: `run` reads `stream` cut into pieces (the sizes
/// follow from `seed`) as it reads it whole.
pub fn same_in_pieces<T: PartialEq + std::fmt::Debug>(
    stream: &[u8],
    seed: u8,
    run: impl Fn(&[&[u8]]) -> T,
) {
    assert_eq!(run(&[stream]), run(&pieces(stream, seed)));
}
