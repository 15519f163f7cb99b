//! Density: how many virtual devices this machine runs while each keeps ≥ 25 fps at 720p (the
//! Gaming@Edge concurrency measure), beside one device running alone.
//!
//! A device here is what the virtual device does per frame, on a thread of its own: the game
//! renders its frame and openh264 encodes it (720×1280, 4 Mb/s), paced at the spec's 30 fps cap
//! as the device's frame loop is. N devices run together for `--secs`; N grows by one until
//! some device falls below 25 fps (or `--max` is reached). The figure is every device's frame
//! rate at the largest N that held, beside one device's frame rate alone (its per-second
//! windows). Without adb, the scrcpy server and the network, it is an upper bound of a board's
//! density: encoding is what fills the cores.
//!
//! ```text
//! playrack-bench density -- [--secs 3] [--max 64]
//! cargo bench -p android-injector --bench density
//! cargo test -p android-injector --features device --bench density -- --short   # CI: 1 s, N ≤ 2
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use android_injector::encode::video::{VideoConfig, VideoEncoder};
use android_injector::game::{Game, GameConfig, I420};
use playrack_scrcpy::control_msg::{AMOTION_EVENT_ACTION_DOWN, AMOTION_EVENT_ACTION_UP};
use playrack_test_support::figure::Figure;

const WIDTH: u32 = 720;
const HEIGHT: u32 = 1280;
const FPS: u32 = 30;
const BIT_RATE: u32 = 4_000_000;
/// A device that renders fewer frames a second than this is not keeping up.
const KEEPS_UP_FPS: f64 = 25.0;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// One device for `secs`, started when `go` is set: its frames per second over each second.
fn device(seed: u64, secs: f64, stop: Arc<AtomicBool>) -> Vec<f64> {
    let mut game = Game::new(
        GameConfig {
            package: "com.playrack.density".into(),
            width: WIDTH,
            height: HEIGHT,
            fps: FPS,
        },
        0,
    );
    let mut enc = VideoEncoder::new(VideoConfig {
        width: WIDTH,
        height: HEIGHT,
        bit_rate: BIT_RATE,
        fps: FPS as f32,
    })
    .expect("encoder");
    let mut frame = I420::new(WIDTH as usize, HEIGHT as usize);
    let interval = Duration::from_secs(1) / FPS;
    let started = Instant::now();
    let mut next = started;
    let (mut window_start, mut window_frames) = (started, 0u32);
    let mut windows = Vec::new();
    let mut i = 0u64;
    while started.elapsed().as_secs_f64() < secs && !stop.load(Ordering::Relaxed) {
        let now_us = started.elapsed().as_micros() as u64;
        if i.is_multiple_of(10) {
            // A tap every ten frames, so the picture changes as in play.
            let (x, y) = (
                ((i * 37 + seed * 101) % WIDTH as u64) as i32,
                ((i * 53 + seed * 67) % HEIGHT as u64) as i32,
            );
            game.touch(AMOTION_EVENT_ACTION_DOWN, 1, x, y, now_us);
            game.touch(AMOTION_EVENT_ACTION_UP, 1, x, y, now_us);
        }
        game.render(&mut frame, now_us);
        enc.encode(&frame, now_us).expect("encode");
        i += 1;
        window_frames += 1;
        if window_start.elapsed() >= Duration::from_secs(1) {
            windows.push(f64::from(window_frames) / window_start.elapsed().as_secs_f64());
            (window_start, window_frames) = (Instant::now(), 0);
        }
        // The frame-rate cap: the next frame at its time, or at once when late.
        next += interval;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        } else {
            next = now;
        }
    }
    if windows.is_empty() {
        windows.push(f64::from(window_frames) / window_start.elapsed().as_secs_f64());
    }
    windows
}

/// N devices together: each device's per-second frame rates.
fn together(n: usize, secs: f64) -> Vec<Vec<f64>> {
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..n)
        .map(|k| {
            let stop = stop.clone();
            std::thread::spawn(move || device(k as u64, secs, stop))
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("device thread"))
        .collect()
}

fn main() {
    // `--short` (CI: proves the bench runs); `cargo test` passes its own flags, ignored here.
    let short = std::env::args().any(|a| a == "--short");
    let secs: f64 = arg("--secs")
        .and_then(|v| v.parse().ok())
        .unwrap_or(if short { 1.0 } else { 3.0 });
    let max: usize = arg("--max")
        .and_then(|v| v.parse().ok())
        .unwrap_or(if short { 2 } else { 64 });
    let alone: Vec<f64> = together(1, secs).concat();
    let mut held: Option<(usize, Vec<f64>)> = None;
    for n in 1..=max {
        let per_device: Vec<f64> = together(n, secs)
            .iter()
            // A device's rate over the whole run: the mean of its windows.
            .map(|w| w.iter().sum::<f64>() / w.len() as f64)
            .collect();
        let slowest = per_device.iter().copied().fold(f64::INFINITY, f64::min);
        eprintln!("density: {n} devices, slowest {slowest:.1} fps");
        if slowest < KEEPS_UP_FPS {
            break;
        }
        held = Some((n, per_device));
    }
    let (n, fps) = held.unwrap_or_else(|| panic!("not even one device keeps {KEEPS_UP_FPS} fps"));
    println!(
        "density: {n} virtual devices at {WIDTH}x{HEIGHT}@{FPS} each keep ≥ {KEEPS_UP_FPS} fps \
         on {} cores{}",
        std::thread::available_parallelism().map_or(0, |c| c.get()),
        if n == max {
            " (the --max; more may)"
        } else {
            ""
        }
    );
    Figure::new(&format!("density.{WIDTH}x{HEIGHT}@{FPS}"), "fps", fps)
        .baseline("one device alone", alone)
        .note(&format!(
            "{n} devices together, each ≥ {KEEPS_UP_FPS} fps{}",
            if n == max {
                " (the cap of the run)"
            } else {
                ""
            }
        ))
        .print();
}
