//! The recorder against real H.264 and a real reader: the synthetic game rendered and encoded
//! by openh264 (as the virtual device streams it), recorded from a key frame in the middle of
//! the stream, and the file read back by Debian's `ffprobe`: an H.264 stream of the video's
//! size with exactly the recorded frames, decodable to the last one.

use std::process::Command;

use android_injector::encode::video::{VideoConfig, VideoEncoder};
use android_injector::game::{Game, GameConfig, I420};
use node_agent::recording::Recorder;

const W: u32 = 360;
const H: u32 = 640;
const FRAMES: u64 = 90;
/// The frame the test asks a key frame for; recording starts there.
const KEY_AT: u64 = 40;

fn ffprobe(args: &[&str], file: &std::path::Path) -> serde_json::Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-of", "json"])
        .args(args)
        .arg(file)
        .output()
        .expect("ffprobe is installed (scripts/install-deps.sh: Debian's ffmpeg)");
    assert!(
        out.status.success(),
        "ffprobe: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_recording_is_the_streams_own_h264_in_an_mp4_that_ffprobe_reads_whole() {
    let mut enc = VideoEncoder::new(VideoConfig {
        width: W,
        height: H,
        bit_rate: 1_000_000,
        fps: 30.0,
    })
    .unwrap();
    let mut game = Game::new(GameConfig::new("com.playrack.tapper"), 0);
    let mut frame = I420::new(W as usize, H as usize);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("play.mp4");
    let mut rec = Recorder::new(std::fs::File::create(&path).unwrap(), W as u16, H as u16);
    let mut recording = false;
    let mut fed = 0u64;
    for i in 0..FRAMES {
        let pts = i * 33_333;
        game.render(&mut frame, pts);
        if i == KEY_AT {
            enc.force_key_frame();
            recording = true;
        }
        for p in enc.encode(&frame, pts).unwrap() {
            // The recorder joins mid-stream: it sees the configuration only as scrcpy sent it
            // at the start, so it is handed over when recording starts (as the relay keeps it).
            if p.config {
                rec.config(&p.data);
            } else if recording {
                rec.frame(pts, p.key, &p.data).unwrap();
                fed += 1;
            } else {
                // Before the recording starts, nothing is written.
                assert_eq!(rec.frames(), 0);
            }
        }
    }
    let summary = rec.finish().unwrap();
    assert_eq!(fed, FRAMES - KEY_AT);
    assert_eq!(summary.frames, fed, "every fed frame from the key frame on");
    let expected_us = fed * 33_333;
    assert!(
        summary.duration_us.abs_diff(expected_us) < 40_000,
        "{} µs",
        summary.duration_us
    );

    let info = ffprobe(
        &[
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,width,height,nb_frames,nb_read_frames:format=format_name,duration",
        ],
        &path,
    );
    let s = &info["streams"][0];
    assert_eq!(s["codec_name"], "h264", "{info}");
    assert_eq!(
        (s["width"].as_u64(), s["height"].as_u64()),
        (Some(W.into()), Some(H.into()))
    );
    assert_eq!(
        s["nb_frames"].as_str(),
        Some(fed.to_string().as_str()),
        "{info}"
    );
    assert_eq!(
        s["nb_read_frames"].as_str(),
        Some(fed.to_string().as_str()),
        "decoded: {info}"
    );
    assert!(
        info["format"]["format_name"]
            .as_str()
            .unwrap()
            .contains("mp4"),
        "{info}"
    );
    let secs: f64 = info["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((secs - expected_us as f64 / 1e6).abs() < 0.05, "{secs} s");
    // The first frame is a key frame (the file plays from its start).
    let first = ffprobe(
        &[
            "-select_streams",
            "v:0",
            "-show_frames",
            "-read_intervals",
            "%+#1",
            "-show_entries",
            "frame=key_frame,pict_type",
        ],
        &path,
    );
    assert_eq!(first["frames"][0]["key_frame"], 1, "{first}");
}

#[test]
fn a_recording_without_a_key_frame_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let mut rec = Recorder::new(
        std::fs::File::create(dir.path().join("x.mp4")).unwrap(),
        8,
        8,
    );
    rec.frame(0, false, &[0, 0, 0, 1, 0x41, 1, 2, 3]).unwrap();
    // a key frame but no parameter sets yet: still nothing
    rec.frame(33_333, true, &[0, 0, 0, 1, 0x65, 1, 2, 3])
        .unwrap();
    assert_eq!(rec.finish().unwrap().frames, 0);
}
