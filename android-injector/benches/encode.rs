//! The virtual device's encode rate: the synthetic game's frames through openh264 on one
//! thread, at 720p and 1080p (portrait, as the device renders them). Prints figures; run with
//! `playrack-bench encode`, or `cargo bench -p android-injector --bench encode` (release: the C
//! encoder at -O3, nasm on x86).
//!
//! Frames are rendered up front so the encode time is measured alone. Each figure is the encode
//! time per frame (ms) beside the render time of the same frames, since the device does both per
//! frame. `ENCODE_BENCH_FRAMES` sets the count (default 300; `--short`: 20).
//!
//! Built with `x264` (as `playrack-bench` builds it), it also draws what intra refresh does to
//! the sliced encoder's stream at 720p: each frame's size and its picture's error (the decoded
//! luma's mean squared error against the rendered one), beside the same encoder with an IDR every second.
//! Under a 1.5-frame VBV an IDR cannot be several times a P-frame's size, so it costs quality
//! instead; intra refresh spreads that cost over every frame.

use std::time::Instant;

use playrack_test_support::figure::Figure;

use android_injector::encode::video::{VideoConfig, VideoEncoder};
use android_injector::game::{Game, GameConfig, I420};
use playrack_scrcpy::control_msg::{AMOTION_EVENT_ACTION_DOWN, AMOTION_EVENT_ACTION_UP};

fn bench(width: u32, height: u32, bit_rate: u32, frames: usize) {
    let mut game = Game::new(
        GameConfig {
            package: "com.playrack.bench".into(),
            width,
            height,
            fps: 60,
        },
        0,
    );
    let frame_us = 1_000_000 / 60;
    let t = Instant::now();
    let mut render_ms = Vec::with_capacity(frames);
    let mut rendered = Vec::with_capacity(frames);
    for i in 0..frames {
        // a tap every 10 frames, so marks appear and fade like in play
        if i % 10 == 0 {
            let (x, y) = (
                (i * 37 % width as usize) as i32,
                (i * 53 % height as usize) as i32,
            );
            game.touch(AMOTION_EVENT_ACTION_DOWN, 1, x, y, (i * frame_us) as u64);
            game.touch(AMOTION_EVENT_ACTION_UP, 1, x, y, (i * frame_us) as u64);
        }
        let mut f = I420::new(width as usize, height as usize);
        let started = Instant::now();
        game.render(&mut f, (i * frame_us) as u64);
        render_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        rendered.push(f);
    }
    let render_fps = frames as f64 / t.elapsed().as_secs_f64();

    let mut enc = VideoEncoder::new(VideoConfig {
        width,
        height,
        bit_rate,
        fps: 60.0,
    })
    .expect("encoder");
    let mut bytes = 0usize;
    let mut keys = 0usize;
    let mut encode_ms = Vec::with_capacity(frames);
    let t = Instant::now();
    for (i, f) in rendered.iter().enumerate() {
        let started = Instant::now();
        for p in enc.encode(f, (i * frame_us) as u64).expect("encode") {
            bytes += p.data.len();
            keys += p.key as usize;
        }
        encode_ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let secs = t.elapsed().as_secs_f64();
    let encode_fps = frames as f64 / secs;
    let mbps = bytes as f64 * 8.0 / (frames as f64 / 60.0) / 1e6;
    println!(
        "{width}x{height}: encode {encode_fps:.1} fps ({:.2} ms/frame), render {render_fps:.1} fps, \
         {frames} frames, {mbps:.2} Mb/s at 60 fps (target {:.1}), {keys} IDR, 1 thread",
        secs * 1000.0 / frames as f64,
        bit_rate as f64 / 1e6,
    );
    let figure = Figure::new(&format!("encode.{width}x{height}"), "ms/frame", encode_ms)
        .baseline("render of the same frames", render_ms);
    if width == 720 {
        figure
            .target("≤ 12.5 ms/frame (≥ 80 fps, one thread)")
            .print();
        #[cfg(feature = "x264")]
        refresh(width, height, bit_rate, &rendered);
    } else {
        figure.print();
    }
}

/// The sliced encoder's frames, with intra refresh and with an IDR a second: each frame's size
/// (kB) and its luma's mean squared error after decoding.
#[cfg(feature = "x264")]
fn refresh(width: u32, height: u32, bit_rate: u32, rendered: &[I420]) {
    use android_injector::encode::sliced::{DEFAULT_SLICES, Refresh, SlicedEncoder};
    use openh264::formats::YUVSource;

    let frame_us = 1_000_000 / 60;
    let run = |refresh: Refresh| {
        let mut enc =
            SlicedEncoder::new(width, height, 60, bit_rate, DEFAULT_SLICES, refresh).expect("x264");
        let mut decoder = openh264::decoder::Decoder::new().expect("decoder");
        let (mut kb, mut mse, mut idrs) = (Vec::new(), Vec::new(), 0);
        for (i, f) in rendered.iter().enumerate() {
            let mut au = Vec::new();
            let mut idr = false;
            enc.encode(f, (i * frame_us) as u64, &mut |nal| {
                idr |= nal.kind == 5;
                au.extend_from_slice(&nal.data);
            })
            .expect("encode");
            idrs += idr as usize;
            kb.push(au.len() as f64 / 1000.0);
            let picture = decoder.decode(&au).expect("decode").expect("a whole frame");
            let (stride, _, _) = picture.strides();
            let (w, h) = (width as usize, height as usize);
            let se: f64 = (0..h)
                .flat_map(|y| (0..w).map(move |x| (y, x)))
                .map(|(y, x)| {
                    let d = f64::from(picture.y()[y * stride + x]) - f64::from(f.y[y * w + x]);
                    d * d
                })
                .sum();
            mse.push(se / (w * h) as f64);
        }
        (kb, mse, idrs)
    };
    let (kb, mse, idrs) = run(Refresh::Intra);
    let (kb_idr, mse_idr, idrs_idr) = run(Refresh::PeriodicIdr(1));
    println!(
        "{width}x{height} x264, {} slices: intra refresh {idrs} IDR, periodic {idrs_idr} IDR in {} frames",
        DEFAULT_SLICES,
        rendered.len()
    );
    Figure::new("encode.x264.intra_refresh.frame_size", "kB", kb)
        .baseline("an IDR every second", kb_idr)
        .note("720p60 at 4 Mb/s, 4 slices, VBV 1.5 frames")
        .print();
    Figure::new("encode.x264.intra_refresh.luma_mse", "MSE", mse)
        .baseline("an IDR every second", mse_idr)
        .note("each decoded frame's luma against the rendered one; lower is better (p99: the worst frames)")
        .print();
}

fn main() {
    // `--short` (CI: proves the bench runs); `cargo test` passes its own flags, ignored here.
    let short = std::env::args().any(|a| a == "--short");
    let frames = std::env::var("ENCODE_BENCH_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if short { 20 } else { 300 });
    bench(720, 1280, 4_000_000, frames);
    bench(1080, 1920, 8_000_000, frames);
}
