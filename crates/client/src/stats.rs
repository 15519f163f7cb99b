//! A native player's statistics, sans-IO: folds what the media side reports (access units,
//! the receiver's own figures), what the host's decoder says (sizes, decode time) and the
//! agent's `stats` signals into [`Stats`] — `playrack_wire::stats::PlayerStats`, the type the
//! H5 SDK's `stats()` returns too, so a dashboard reads either player's the same way. Rates
//! are over the last interval of at least a second.

use std::time::{Duration, Instant, SystemTime};

use playrack_wire::signaling::StreamStats;

use crate::media::{AccessUnit, Received};

/// The shortest interval rates are computed over.
const INTERVAL: Duration = Duration::from_secs(1);

/// What `stats()` returns: the wire's `PlayerStats` (and its `LatencyBreakdown`), which every
/// player shares.
pub use playrack_wire::stats::{LatencyBreakdown as Latency, PlayerStats as Stats};

/// Sums since the interval began.
#[derive(Debug, Default)]
struct Window {
    frames: u64,
    /// Access units' bytes (the video's payload).
    bytes: u64,
    decode: Duration,
    capture_to_receive_ms: f64,
    timed: u64,
}

/// See the module doc.
#[derive(Debug)]
pub struct StatsTracker {
    current: Stats,
    since: Instant,
    window: Window,
}

const fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

impl StatsTracker {
    pub fn new(now: Instant) -> StatsTracker {
        StatsTracker {
            current: Stats::default(),
            since: now,
            window: Window::default(),
        }
    }

    /// An access unit completed at `au.arrived`; `wall` is the wall clock's reading at that
    /// instant (for its capture time).
    pub fn access_unit(&mut self, au: &AccessUnit, wall: SystemTime) {
        self.window.bytes += au.data.len() as u64;
        if let Some(captured) = au.captured
            && let Ok(age) = wall.duration_since(captured)
            && age < Duration::from_secs(10)
        {
            self.window.capture_to_receive_ms += age.as_secs_f64() * 1e3;
            self.window.timed += 1;
        }
    }

    /// A picture of `width × height` was decoded in `took`.
    pub fn decoded(&mut self, width: u32, height: u32, took: Duration) {
        self.current.frames_decoded += 1;
        self.current.width = Some(width);
        self.current.height = Some(height);
        self.window.frames += 1;
        self.window.decode += took;
    }

    /// The receiver's own figures.
    pub fn received(&mut self, r: &Received) {
        self.current.jitter_ms = round1(r.jitter_ms);
        if let Some(loss) = r.loss {
            self.current.loss = (f64::from(loss) * 1000.0).round() / 1000.0;
        }
        if let Some(rtt) = r.rtt_ms {
            self.current.rtt_ms = rtt.round() as u32;
        }
    }

    /// The agent's report: its round trip and loss fill what the receiver did not measure.
    pub fn agent(&mut self, a: StreamStats) {
        if self.current.rtt_ms == 0 {
            self.current.rtt_ms = a.rtt_ms;
        }
        if self.current.loss == 0.0 {
            self.current.loss = f64::from(a.loss);
        }
        self.current.agent = Some(a);
    }

    /// A latency probe's result.
    pub fn probe(&mut self, ms: f64) {
        self.current.last_input_to_frame_ms = Some(ms);
    }

    /// Closes the interval when a second or more has passed: rates and the breakdown. True
    /// when it did (the figures changed).
    pub fn tick(&mut self, now: Instant) -> bool {
        let dt = now.saturating_duration_since(self.since);
        if dt < INTERVAL {
            return false;
        }
        let secs = dt.as_secs_f64();
        let w = std::mem::take(&mut self.window);
        let s = &mut self.current;
        s.fps = round1(w.frames as f64 / secs);
        s.bitrate_kbps = (w.bytes as f64 * 8.0 / 1000.0 / secs).round() as u32;
        self.since = now;
        if w.frames > 0 {
            let decode_ms = w.decode.as_secs_f64() * 1e3 / w.frames as f64;
            let rtt = f64::from(s.rtt_ms);
            let half_frame = if s.fps > 0.0 { 500.0 / s.fps } else { 0.0 };
            let mut l = Latency {
                network_ms: round1(rtt / 2.0),
                jitter_buffer_ms: 0.0,
                decode_ms: round1(decode_ms),
                estimated_ms: round1(rtt + decode_ms + half_frame),
                ..Latency::default()
            };
            if let Some(probe) = s.last_input_to_frame_ms {
                l.touch_to_screen_ms = Some(probe);
                l.device_and_agent_ms = Some(round1((probe - rtt - decode_ms).max(0.0)));
            }
            if w.timed > 0 {
                let c2r = w.capture_to_receive_ms / w.timed as f64;
                l.capture_to_receive_ms = Some(round1(c2r));
                l.receive_to_shown_ms = Some(round1(decode_ms));
                l.capture_to_shown_ms = Some(round1(c2r + decode_ms));
                l.estimated_ms = round1(rtt / 2.0 + half_frame + c2r + decode_ms);
            }
            s.latency = Some(l);
        }
        true
    }

    pub fn get(&self) -> Stats {
        self.current.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn au(captured: Option<SystemTime>) -> AccessUnit {
        AccessUnit {
            data: Arc::from(&[0u8; 8_333][..]),
            keyframe: false,
            time: str0m::media::MediaTime::ZERO,
            contiguous: true,
            captured,
            zero_playout_delay: true,
            arrived: Instant::now(),
        }
    }

    fn received(bytes: u64) -> Received {
        Received {
            bytes,
            packets: bytes / 1000,
            jitter_ms: 1.26,
            loss: Some(0.02),
            rtt_ms: None,
            nacks: 0,
            plis: 0,
        }
    }

    #[test]
    fn rates_come_per_interval_and_serialize_as_the_h5_sdks() {
        let t0 = Instant::now();
        let wall = SystemTime::now();
        let mut t = StatsTracker::new(t0);
        t.received(&received(1_000_000));
        assert!(!t.tick(t0 + Duration::from_millis(500)), "not a second yet");
        for _ in 0..60 {
            t.access_unit(&au(Some(wall - Duration::from_millis(12))), wall);
            t.decoded(360, 640, Duration::from_millis(2));
        }
        // clocks apart: its capture time is skipped (its bytes count)
        t.access_unit(&au(Some(wall + Duration::from_secs(60))), wall);
        t.received(&received(1_500_000));
        t.agent(StreamStats {
            bitrate_kbps: 4000,
            target_kbps: 4000,
            estimate_kbps: 5000,
            fps: 60.0,
            rtt_ms: 10,
            loss: 0.0,
            width: 360,
            height: 640,
        });
        t.probe(30.0);
        assert!(t.tick(t0 + Duration::from_secs(1)));
        let s = t.get();
        assert_eq!(s.frames_decoded, 60);
        assert_eq!(s.fps, 60.0);
        assert_eq!(
            s.bitrate_kbps, 4067,
            "61 access units of 8,333 bytes in a second"
        );
        assert_eq!(s.rtt_ms, 10, "the agent's, as the receiver had none");
        assert_eq!(s.loss, 0.02);
        assert_eq!(s.jitter_ms, 1.3);
        let l = s.latency.clone().unwrap();
        assert_eq!(l.decode_ms, 2.0);
        assert_eq!(l.capture_to_receive_ms, Some(12.0));
        assert_eq!(l.capture_to_shown_ms, Some(14.0));
        assert_eq!(l.device_and_agent_ms, Some(18.0));
        // half the round trip, half a 60 fps frame, capture → shown
        assert_eq!(l.estimated_ms, round1(5.0 + 500.0 / 60.0 + 14.0));
        let json = serde_json::to_value(&s).unwrap();
        for k in [
            "framesDecoded",
            "fps",
            "bitrateKbps",
            "rttMs",
            "jitterMs",
            "loss",
            "lastInputToFrameMs",
            "width",
            "height",
            "agent",
            "latency",
        ] {
            assert!(json.get(k).is_some(), "{k} in {json}");
        }
        assert!(json["latency"].get("captureToShownMs").is_some());
        // a quiet interval: no frames, no new bytes
        assert!(t.tick(t0 + Duration::from_secs(2)));
        let s = t.get();
        assert_eq!((s.fps, s.bitrate_kbps), (0.0, 0));
    }
}
