//! Touch-to-screen latency with the native client, beside the floor measured in the same run.
//!
//! The whole platform runs in process (`tests/support/stack.rs`: a real controller on SQLite,
//! the real agent with one `hd-60` slot of the virtual device at `--spec`, 720×1280@60 by
//! default; the release build of the device when the bench is built optimised). The PC client,
//! `playrack-play --headless --probe N` (release when the bench is optimised; it decodes with
//! openh264 through `playrack-client`), plays the try-play link; each sample sends the `probe`
//! input over the DataChannel and times the first decoded frame that shows the game's probe
//! square flipped (the Gaming@Edge "special input" method). After each probe the client lets the
//! stream run for 0–49 ms, so probes land anywhere in the game's render tick; five unmeasured
//! probes warm the path first.
//!
//! It runs twice on fresh stacks: whole frames (the agent asks for no slices), then four slices
//! a frame (x264 in the virtual device; each slice on the wire as soon as it is encoded), the
//! second figure beside the first.
//!
//! The baseline is the floor of this pipeline on this machine, from the same run: the wait for
//! the next render tick (spread evenly over one frame interval, so half a frame on average) +
//! the encode time + the decode time of the same game's frames at the same size and bit rate,
//! measured frame by frame. Its median is half a frame + encode + decode.
//!
//! ```text
//! playrack-bench latency -- [--samples 300] [--spec 720x1280@60]
//! cargo bench -p node-agent --bench latency -- [--samples 300] [--spec 720x1280@60]
//! cargo test -p node-agent --bench latency --locked -- --short   # CI: 20 samples at 360x640@30
//! ```
//!
//! `PLAYRACK_VIRTUAL_DEVICE=<binary>` measures another build of the virtual device (an A/B of a
//! change to the device, e.g. when it renders).

use playrack_test_support as ctl;
#[path = "../tests/support/stack.rs"]
mod stack;
#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use android_injector::encode::video::{VideoConfig, VideoEncoder};
use android_injector::game::{Game, GameConfig, I420};
use clap::Parser;
use playrack_scrcpy::control_msg::{AKEY_EVENT_ACTION_DOWN, AKEYCODE_F12};
use playrack_test_support::figure::{Figure, median};

#[derive(Parser, Debug)]
#[command(about = "Touch-to-screen latency with the native client, beside the pipeline's floor")]
struct Args {
    /// The short form for CI: 20 samples at 360x640@30 (given values override it).
    #[arg(long)]
    short: bool,
    /// Measured probes (default 300; --short: 20).
    #[arg(long)]
    samples: Option<usize>,
    /// The instance's screen: WxH@FPS (default 720x1280@60; --short: 360x640@30).
    #[arg(long)]
    spec: Option<String>,
    /// What `cargo test` passes to every test binary.
    #[arg(long, hide = true)]
    bench: bool,
}

/// Slices a frame in the sliced run (x264 in the virtual device, each slice sent as it is
/// encoded).
const SLICES: u8 = 4;
/// Unmeasured probes before the measured ones.
const WARM_UP: usize = 5;
/// The encoder's bit rate for the floor: the `hd-60` spec's.
const FLOOR_BIT_RATE: u32 = 4_000_000;

fn main() {
    let args = Args::parse();
    let samples = args.samples.unwrap_or(if args.short { 20 } else { 300 });
    let spec = args.spec.clone().unwrap_or_else(|| {
        if args.short {
            "360x640@30"
        } else {
            "720x1280@60"
        }
        .into()
    });
    let (width, height, fps) = parse_spec(&spec)
        .unwrap_or_else(|| panic!("--spec {spec}: expected WxH@FPS, e.g. 720x1280@60"));
    let rt = support::bench_runtime(2);
    let measured = rt.block_on(probes(&spec, samples, 0));
    let sliced = rt.block_on(probes(&spec, samples, SLICES));
    let floor = floor(width, height, fps, samples);
    eprintln!(
        "latency ({spec}, {samples} probes): native client p50 {:.1} ms; floor p50 {:.1} ms",
        median(&measured),
        median(&floor)
    );
    Figure::new(&format!("latency.native.{spec}"), "ms", measured.clone())
        .baseline("floor: wait for the next frame + encode + decode", floor)
        .target("p50 ≤ 25 ms, p99 ≤ 40 ms at 720x1280@60")
        .print();
    eprintln!(
        "latency ({spec}, {samples} probes): {SLICES} slices a frame p50 {:.1} ms",
        median(&sliced)
    );
    Figure::new(&format!("latency.native.sliced.{spec}"), "ms", sliced)
        .baseline("whole frames, same run", measured)
        .target("p50 ≤ 25 ms, p99 ≤ 40 ms at 720x1280@60")
        .print();
}

fn parse_spec(spec: &str) -> Option<(u32, u32, u32)> {
    let (size, fps) = spec.split_once('@')?;
    let (w, h) = size.split_once('x')?;
    Some((w.parse().ok()?, h.parse().ok()?, fps.parse().ok()?))
}

/// `samples` probes through the whole platform, the agent asking for `slices` slices a frame
/// (0: whole frames); their latencies in ms.
async fn probes(spec: &str, samples: usize, slices: u8) -> Vec<f64> {
    let st = stack::stack(stack::Options {
        tweak: Box::new(move |c| c.video_slices = slices),
        // The stack keeps its `'static` spec for the board's configuration.
        spec: Box::leak(spec.to_owned().into_boxed_str()),
        // `PLAYRACK_VIRTUAL_DEVICE`: another device binary, for an A/B of a device change.
        virtual_device: std::env::var_os("PLAYRACK_VIRTUAL_DEVICE")
            .map(Into::into)
            .or_else(|| (!cfg!(debug_assertions)).then(support::virtual_device_release)),
        ..Default::default()
    })
    .await;
    let url = format!("{}/play/{}", st.ctl.url, st.link.code);
    let client = if cfg!(debug_assertions) {
        support::play_binary()
    } else {
        support::play_release()
    };
    let figures = support::client_probes(&client, &url, &ctl::device(1), WARM_UP + samples).await;
    let all: Vec<f64> = figures["samples"]
        .as_array()
        .expect("samples")
        .iter()
        .map(|v| v.as_f64().expect("a number of ms"))
        .collect();
    assert_eq!(all.len(), WARM_UP + samples, "every probe answered");
    st.stop().await;
    all[WARM_UP..].to_vec()
}

/// The floor, `n` samples: the wait for the next tick + encode + decode of the game's frames.
fn floor(width: u32, height: u32, fps: u32, n: usize) -> Vec<f64> {
    let mut game = Game::new(
        GameConfig {
            package: "com.playrack.bench".into(),
            width,
            height,
            fps,
        },
        0,
    );
    let mut enc = VideoEncoder::new(VideoConfig {
        width,
        height,
        bit_rate: FLOOR_BIT_RATE,
        fps: fps as f32,
    })
    .expect("encoder");
    let mut dec = openh264::decoder::Decoder::new().expect("decoder");
    let half_frame_ms = 500.0 / fps as f64;
    let frame_us = 1_000_000 / fps as u64;
    let mut frame = I420::new(width as usize, height as usize);
    let mut out = Vec::with_capacity(n);
    for i in 0..(WARM_UP + n) as u64 {
        // A probe flip every frame: the picture changes as it does in the measured run.
        game.key(AKEY_EVENT_ACTION_DOWN, AKEYCODE_F12, i * frame_us);
        game.render(&mut frame, i * frame_us);
        let started = Instant::now();
        let packets = enc.encode(&frame, i * frame_us).expect("encode");
        let encode = started.elapsed();
        let started = Instant::now();
        for p in &packets {
            let _ = dec.decode(&p.data).expect("decode");
        }
        let decode = started.elapsed();
        if i as usize >= WARM_UP {
            // The k-th of n waits, evenly spread over [0, one frame interval).
            let k = out.len() as f64;
            let wait_ms = 2.0 * half_frame_ms * (k + 0.5) / n as f64;
            out.push(wait_ms + (encode + decode).as_secs_f64() * 1000.0);
        }
    }
    out
}
