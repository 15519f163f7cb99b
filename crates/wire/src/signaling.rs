//! WebRTC signaling between a player (or a spectator) and a board's node agent, over a
//! WebSocket on the agent's HTTP port. Every message is a JSON object tagged by `type`.
//!
//! ```text
//! client                                   agent
//!   │── hello {token, role} ─────────────────▶│  token: controller-signed, checked offline
//!   │◀──────────────────── welcome {ice} ─────│
//!   │── offer {sdp} ─────────────────────────▶│
//!   │◀────────────────────────── answer {sdp} │
//!   │◀──────── candidate / stats / notice ────│
//!   │── bye ─────────────────────────────────▶│
//! ```

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Largest signaling message accepted, in bytes (an SDP offer is a few KiB).
pub const MAX_SIGNALING_MESSAGE_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PeerRole {
    /// Plays: gets the stream and sends input.
    Player,
    /// Watches only: gets the same stream, cannot send input.
    Spectator,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// Client → agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientSignal {
    Hello {
        token: String,
        role: PeerRole,
    },
    Offer {
        sdp: String,
    },
    Candidate {
        candidate: String,
        #[serde(default)]
        sdp_mid: Option<String>,
    },
    Bye,
}

/// Stream statistics the agent reports to the client and the controller.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StreamStats {
    /// What the video sent in the last second.
    pub bitrate_kbps: u32,
    /// The rate the encoder runs at (inside the spec's window; it follows the player's link).
    #[serde(default)]
    pub target_kbps: u32,
    /// The player's link as the agent estimates it from congestion feedback (0: none yet).
    #[serde(default)]
    pub estimate_kbps: u32,
    pub fps: f32,
    pub rtt_ms: u32,
    /// Fraction of packets lost, 0.0–1.0.
    pub loss: f32,
    pub width: u32,
    pub height: u32,
}

/// Agent → client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentSignal {
    Welcome {
        session_id: String,
        ice_servers: Vec<IceServer>,
    },
    Answer {
        sdp: String,
    },
    Candidate {
        candidate: String,
    },
    Stats {
        stats: StreamStats,
    },
    /// The game copied `text` to the device's clipboard (scrcpy's clipboard sync): the page may
    /// put it on the player's clipboard. Players only, never spectators.
    Clipboard {
        text: String,
    },
    /// The game's message for its page (the custom channel). Players only.
    Custom {
        data: String,
    },
    /// Something the player should see, e.g. maintenance coming.
    Notice {
        code: String,
        message: String,
        /// When what it announces happens (maintenance: when it starts), if it says.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<crate::Timestamp>,
    },
    /// The session ended (reason as in the session API) or the request was refused.
    Ended {
        reason: String,
    },
    Error {
        code: String,
        message: String,
    },
}

impl ClientSignal {
    /// Parses one WebSocket text message, refusing oversize and unknown messages.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() > MAX_SIGNALING_MESSAGE_BYTES {
            return Err(format!(
                "signaling message of {} bytes exceeds {MAX_SIGNALING_MESSAGE_BYTES}",
                text.len()
            ));
        }
        serde_json::from_str(text).map_err(|e| format!("malformed signaling message: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_round_trip_and_bad_ones_are_refused() {
        let hello =
            ClientSignal::parse(r#"{"type":"hello","token":"t","role":"spectator"}"#).unwrap();
        assert_eq!(
            hello,
            ClientSignal::Hello {
                token: "t".into(),
                role: PeerRole::Spectator
            }
        );
        let answer = serde_json::to_string(&AgentSignal::Answer { sdp: "v=0".into() }).unwrap();
        assert_eq!(answer, r#"{"type":"answer","sdp":"v=0"}"#);
        assert!(ClientSignal::parse(r#"{"type":"offer"}"#).is_err());
        assert!(ClientSignal::parse(r#"{"type":"hack","sdp":"x"}"#).is_err());
        assert!(
            ClientSignal::parse(&format!(
                r#"{{"type":"offer","sdp":"{}"}}"#,
                "a".repeat(70_000)
            ))
            .is_err()
        );
    }
}
