//! What a player's `stats()` returns, in every player (the H5 SDK's `player.stats()`, the
//! native core's `Stats`, the Android SDK's `stats()` JSON): one definition, so a dashboard
//! reads any player's figures the same way. Serialized in camelCase, as a browser's API is.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::signaling::StreamStats;

/// A player's view of its stream, refreshed about once a second.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlayerStats {
    pub frames_decoded: u64,
    /// Frames decoded per second over the last interval.
    pub fps: f64,
    /// The video's rate over the last interval, kb/s.
    pub bitrate_kbps: u32,
    /// Round trip to the board (the player's own measure, else the agent's figure).
    pub rtt_ms: u32,
    pub jitter_ms: f64,
    /// Fraction of packets lost over the last interval, 0..1.
    pub loss: f64,
    /// The last latency probe: input sent → frame shown, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub last_input_to_frame_ms: Option<f64>,
    /// Video size as decoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub height: Option<u32>,
    /// The agent's own report, when one came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub agent: Option<StreamStats>,
    /// Where a touch's time goes, once a second report gave rates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub latency: Option<LatencyBreakdown>,
}

/// Touch to screen, part by part (ms). Network, jitter buffer and decode are the player's own
/// figures over the last interval; the rest of a probe's time is the device and the agent (the
/// game's wait for its next frame, encode, the relay). Without a probe (a real game),
/// `estimatedMs` adds up what can be measured plus half the stream's frame interval. A native
/// player has no jitter buffer (each access unit is decoded as it completes): 0 there.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LatencyBreakdown {
    /// One way to the board: half the round trip.
    pub network_ms: f64,
    /// Time frames waited in the jitter buffer, per frame.
    pub jitter_buffer_ms: f64,
    /// Decode time per frame.
    pub decode_ms: f64,
    /// The last probe's touch-to-screen, when one ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub touch_to_screen_ms: Option<f64>,
    /// The probe's time left after network both ways, jitter buffer and decode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub device_and_agent_ms: Option<f64>,
    /// Capture on the board → the last packet of the frame received here: encode, the agent
    /// and the network one way (the board's and this device's clocks assumed in step, as NTP
    /// keeps them). Only when the stream carries capture times (`abs-capture-time`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub capture_to_receive_ms: Option<f64>,
    /// Frame received → shown on screen: jitter buffer, decode and render.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub receive_to_shown_ms: Option<f64>,
    /// Capture → shown: the picture's age when it reached the screen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub capture_to_shown_ms: Option<f64>,
    /// Touch-to-screen without a probe (a real game): the touch's way to the board (half the
    /// round trip), half a frame interval waiting for the game's next frame, then capture →
    /// shown when the stream carries capture times, else a round trip + jitter buffer + decode.
    pub estimated_ms: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_camel_case_and_absent_when_unknown() {
        let s = PlayerStats {
            frames_decoded: 3,
            latency: Some(LatencyBreakdown {
                estimated_ms: 20.0,
                ..LatencyBreakdown::default()
            }),
            ..PlayerStats::default()
        };
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["framesDecoded"], 3);
        assert_eq!(v["latency"]["estimatedMs"], 20.0);
        assert!(v.get("width").is_none(), "{v}");
        assert!(v["latency"].get("touchToScreenMs").is_none(), "{v}");
        let back: PlayerStats = serde_json::from_value(v).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn malformed_stats_are_refused() {
        for bad in [
            r#"{}"#,
            r#"{"framesDecoded":-1,"fps":0,"bitrateKbps":0,"rttMs":0,"jitterMs":0,"loss":0}"#,
            r#"{"framesDecoded":1,"fps":"x","bitrateKbps":0,"rttMs":0,"jitterMs":0,"loss":0}"#,
        ] {
            assert!(serde_json::from_str::<PlayerStats>(bad).is_err(), "{bad}");
        }
    }
}
