//! The agent's memory per stream: the resident set of the real `node-agent` process as plays
//! are added one by one, beside its resident set with no play, in the same run.
//!
//! A real controller on SQLite (`tests/support/stack.rs`'s world) and one board as a process
//! (`tests/support/board.rs`: the agent binary with the process driver and `--streams` warm
//! `hd-60` slots of the virtual device at `--spec`). The agent's virtual devices are processes
//! of their own, so the agent's `VmRSS` is what the agent itself holds: the relay (a str0m peer
//! per stream, its packet buffers), the play's pumps and queues, adb and scrcpy sockets. Each
//! player is a native str0m peer in the bench process that decodes every frame with openh264.
//!
//! With k plays streaming, the bench samples the agent's RSS every 100 ms for `--secs` seconds;
//! each sample gives (RSS − the idle median) / k, the figure's samples across every k. The
//! baseline is the idle agent's RSS with its slots warm (sampled the same way first).
//!
//! ```text
//! playrack-bench density      # runs this beside the density bench
//! cargo bench -p node-agent --bench memory -- [--streams 4] [--spec 720x1280@30] [--secs 5]
//! cargo test -p node-agent --bench memory --locked -- --short   # CI: 1 stream at 360x640@30, 1 s
//! ```

use playrack_test_support as ctl;
#[path = "../tests/support/board.rs"]
mod board;
#[path = "../tests/support/peer.rs"]
mod peer;
#[path = "../tests/support/stack.rs"]
mod stack;
#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use clap::Parser;
use playrack_test_support::figure::{Figure, median};
use playrack_wire::api::*;
use playrack_wire::signaling::PeerRole;

use board::{BoardOptions, BoardProcess};
use peer::Peer;
use support::wait_until;

#[derive(Parser, Debug)]
#[command(about = "The agent's resident memory per stream, beside the idle agent's")]
struct Args {
    /// The short form for CI: 1 stream at 360x640@30, 1 s per level (given values override it).
    #[arg(long)]
    short: bool,
    /// Concurrent plays at the end (default 4; --short: 1).
    #[arg(long)]
    streams: Option<u32>,
    /// The instances' screen: WxH@FPS (default 720x1280@30; --short: 360x640@30).
    #[arg(long)]
    spec: Option<String>,
    /// Seconds sampled per level (default 5; --short: 1).
    #[arg(long)]
    secs: Option<f64>,
    /// What `cargo test` passes to every test binary.
    #[arg(long, hide = true)]
    bench: bool,
}

/// How often the agent's RSS is read.
const EVERY: Duration = Duration::from_millis(100);

fn main() {
    let args = Args::parse();
    let streams = args.streams.unwrap_or(if args.short { 1 } else { 4 });
    let spec = args.spec.clone().unwrap_or_else(|| {
        if args.short {
            "360x640@30"
        } else {
            "720x1280@30"
        }
        .into()
    });
    let secs = args.secs.unwrap_or(if args.short { 1.0 } else { 5.0 });
    let rt = support::bench_runtime(2);
    let (per_stream, idle) = rt.block_on(measure(streams, &spec, Duration::from_secs_f64(secs)));
    eprintln!(
        "agent memory ({spec}, up to {streams} streams): {:.2} MiB per stream over {:.1} MiB idle",
        median(&per_stream),
        median(&idle)
    );
    Figure::new(&format!("agent.rss_per_stream.{spec}"), "MiB", per_stream)
        .baseline("the idle agent (warm slots, no play)", idle)
        .print();
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The agent's RSS per stream (MiB, one sample per reading and level) and its idle RSS (MiB).
async fn measure(streams: u32, spec: &str, secs: Duration) -> (Vec<f64>, Vec<f64>) {
    let w = stack::world("sqlite", false, |_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let board = BoardProcess::start_with(
        &w.ctl,
        &w.token,
        "RK-MEM-0001",
        dir.path(),
        BoardOptions {
            slots: streams,
            // The board's configuration keeps a `'static` spec.
            spec: Box::leak(spec.to_owned().into_boxed_str()),
            virtual_device: if cfg!(debug_assertions) {
                support::virtual_device()
            } else {
                support::virtual_device_release()
            },
            netns: None,
        },
    );
    assert!(
        wait_until(Duration::from_secs(120), async || {
            let boards: Page<Board> = w.ctl.get("/v1/boards", &w.ctl.op).await;
            boards.items.iter().any(|b| {
                b.agent_state == AgentState::Online
                    && b.telemetry
                        .as_ref()
                        .is_some_and(|t| t.instances_warm == streams)
            })
        })
        .await,
        "the board enrolled with its {streams} slots warm"
    );
    w.ctl.order(&w.tenant.id, &w.region.id, streams).await;

    let idle = sample(&board, &mut [], secs).await;
    let idle_median = median(&idle);
    let mut players = Vec::new();
    let mut per_stream = Vec::new();
    for k in 1..=streams as usize {
        let id = w.acquire(k).await;
        let info = w.connect_info(&id).await;
        let mut p = Peer::connect(&info.signaling_url, &info.token, PeerRole::Player)
            .await
            .expect("admitted");
        assert!(
            p.run_until(Duration::from_secs(60), |p| p.decoded > 0)
                .await,
            "play {k} streams"
        );
        players.push((id, p));
        let before = players.iter().map(|(_, p)| p.decoded).sum::<u32>();
        let rss = sample(&board, &mut players, secs).await;
        let after = players.iter().map(|(_, p)| p.decoded).sum::<u32>();
        assert!(after > before, "the streams went on while sampled");
        per_stream.extend(rss.iter().map(|r| (r - idle_median) / k as f64));
    }
    for (id, _) in &players {
        w.leave(id).await;
    }
    drop(board);
    w.ctl.stop().await;
    (per_stream, idle)
}

/// The agent's RSS (MiB) every [`EVERY`] for `secs`, while the players keep playing.
async fn sample(board: &BoardProcess, players: &mut [(String, Peer)], secs: Duration) -> Vec<f64> {
    let end = Instant::now() + secs;
    let mut out = Vec::new();
    while Instant::now() < end {
        let tick = Instant::now() + EVERY;
        // Each player handles what arrived (frames, RTCP, keep-alives) for its share of the tick.
        let share = EVERY / (players.len() as u32 + 1);
        for (_, p) in players.iter_mut() {
            p.run_until(share, |_| false).await;
        }
        tokio::time::sleep_until(tick.into()).await;
        out.push(mib(board.rss_bytes()));
    }
    out
}
