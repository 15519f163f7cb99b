//! `playrack-play <try-play URL>`: the PC client. Plays the link in a window (or, with
//! `--headless`, without one), its sound on the default output (`--mute`: none), mouse and keys
//! as touch and keys; `--probe N` measures touch-to-screen latency N times with the test game's
//! probe square and prints the figures as JSON (with the sound frames decoded). The play runs
//! on its own thread ([`session`], sound through [`audio`]); the window ([`window`]) only draws
//! the latest picture, the queue screen and the F3 figures ([`overlay`]), and sends input.

mod audio;
mod overlay;
mod session;
mod view;
mod window;

use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use playrack_client::play::{self, Api, Identity};

/// Plays a Playrack try-play link.
#[derive(Parser, Debug)]
#[command(name = "playrack-play", version)]
struct Args {
    /// The try-play link, as the publisher handed it out: https://host/play/<code>.
    url: String,
    /// Measure touch-to-screen latency this many times (the test game's probe square), print
    /// the figures as one JSON object and leave.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    probe: Option<u32>,
    /// No window: play (and probe) without showing the picture.
    #[arg(long)]
    headless: bool,
    /// No sound: open no output device (Opus frames are still decoded and counted).
    #[arg(long)]
    mute: bool,
    /// The device's anonymous id for the link (16–64 of A–Z a–z 0–9 - _); by default one kept
    /// in $XDG_DATA_HOME/playrack/device-id (or ~/.local/share/…), made on first use.
    #[arg(long, value_name = "ID")]
    device_id: Option<String>,
    /// The window's size, WIDTHxHEIGHT.
    #[arg(long, default_value = "405x720", value_parser = parse_size)]
    size: (u32, u32),
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("{s:?} is not WIDTHxHEIGHT (e.g. 405x720)");
    let (w, h) = s.split_once('x').ok_or_else(bad)?;
    let (w, h): (u32, u32) = (w.parse().map_err(|_| bad())?, h.parse().map_err(|_| bad())?);
    if !(64..=8192).contains(&w) || !(64..=8192).contains(&h) {
        return Err(format!("{s}: each side must be 64–8192 pixels"));
    }
    Ok((w, h))
}

fn valid_device_id(id: &str) -> bool {
    (16..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The device id kept for this user, made on first use.
fn kept_device_id() -> anyhow::Result<String> {
    let dir = std::env::var_os("XDG_DATA_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".local/share")))
        .context("neither XDG_DATA_HOME nor HOME is set: pass --device-id")?
        .join("playrack");
    let file = dir.join("device-id");
    if let Ok(id) = std::fs::read_to_string(&file)
        && valid_device_id(id.trim())
    {
        return Ok(id.trim().to_owned());
    }
    let id = play::new_device_id();
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(&file, &id).with_context(|| format!("writing {}", file.display()))?;
    Ok(id)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (base, code) = play::parse_link(&args.url)?;
    let device_id = match args.device_id {
        Some(id) if valid_device_id(&id) => id,
        Some(id) => {
            anyhow::bail!("--device-id {id:?}: use 16–64 characters of letters, digits, - and _")
        }
        None => kept_device_id()?,
    };
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()?;
    let plan = session::Plan {
        api: Api::new(&base, http),
        who: Identity::Link { code, device_id },
        probes: args.probe,
        mute: args.mute,
    };
    let shared = Arc::new(session::Shared::default());
    let samples = if args.headless {
        let (_commands, thread) = session::spawn(plan, shared.clone(), Box::new(|| {}));
        thread.join().expect("the play's thread")?
    } else {
        window::run(plan, shared.clone(), args.size)?
    };
    if let session::Status::Failed(why) = &*shared.status.lock().unwrap() {
        anyhow::bail!("{why}");
    }
    if args.probe.is_some() {
        let audio_frames = shared
            .audio_frames
            .load(std::sync::atomic::Ordering::Relaxed);
        println!("{}", figures(&samples, audio_frames));
    }
    Ok(())
}

/// The probes as one JSON object: count, percentiles (nearest rank) and every sample, ms; and
/// the Opus frames decoded meanwhile.
fn figures(samples: &[f64], audio_frames: u64) -> serde_json::Value {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let at = |p: f64| {
        let rank = ((p * s.len() as f64).ceil() as usize).clamp(1, s.len().max(1));
        s.get(rank - 1).map(|v| (v * 1000.0).round() / 1000.0)
    };
    serde_json::json!({
        "name": "latency.native",
        "unit": "ms",
        "n": s.len(),
        "p50": at(0.5),
        "p90": at(0.9),
        "p99": at(0.99),
        "samples": samples,
        "audioFrames": audio_frames,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_device_ids_are_checked() {
        assert_eq!(parse_size("405x720"), Ok((405, 720)));
        for bad in ["", "405", "x720", "40x720", "405x99999", "axb"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert!(valid_device_id("0123456789abcdef"));
        assert!(!valid_device_id("short"));
        assert!(!valid_device_id("0123456789abcdef/../x"));
    }

    #[test]
    fn figures_take_nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let f = figures(&v, 7);
        assert_eq!(f["n"], 100);
        assert_eq!(f["p50"], 50.0);
        assert_eq!(f["p90"], 90.0);
        assert_eq!(f["p99"], 99.0);
        assert_eq!(f["audioFrames"], 7);
        assert_eq!(figures(&[], 0)["p50"], serde_json::Value::Null);
    }
}
