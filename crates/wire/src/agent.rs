//! The agent channel: what a board's node agent and the controller say to each other.
//!
//! Boards sit behind NAT in machine rooms, so the agent dials in: it enrols once over HTTP
//! ([`EnrolRequest`] → [`EnrolResponse`], trading the room's enrolment token for a per-board
//! credential), then keeps a WebSocket open carrying JSON messages tagged by `type`:
//! [`AgentMessage`] upstream and [`ControllerMessage`] downstream. Commands carry ids and are
//! idempotent: an agent that sees an id again answers with the result it gave before.

use crate::Timestamp;
use crate::api::{DeploymentRoomState, Spec};
/// What a board says about itself: the operator's API shows these too.
pub use crate::api::{InstanceState, PrimedCount, Telemetry};
use crate::signaling::StreamStats;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Version of this protocol; the controller refuses a hello with another major version.
pub const AGENT_PROTOCOL_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnrolRequest {
    /// The machine room's enrolment token (from the operator).
    pub enrolment_token: String,
    pub serial: String,
    pub model: String,
    pub capacity: BTreeMap<String, u32>,
    pub agent_version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnrolResponse {
    pub board_id: String,
    pub room_id: String,
    /// The board's own credential for the WebSocket (shown once; the controller keeps a hash).
    pub credential: String,
    /// Public key that verifies the session tokens the controller gives players (base64);
    /// absent until the controller signs session tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token_key: Option<String>,
}

/// An operator's one-time room enrolment token (shown once; the controller keeps a hash).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnrolmentToken {
    pub room_id: String,
    pub token: String,
    /// After this the token enrols nobody (boards already enrolled keep their credentials).
    pub expires_at: crate::Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InstanceReport {
    pub instance_id: String,
    pub spec_id: String,
    pub state: InstanceState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The package installed for the current or last play.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// The video encoder the current or last play streamed with, as Android names it
    /// (`c2.rk.avc.encoder`, `c2.android.avc.encoder`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoder: Option<String>,
    /// When the board booted (or adopted) the instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booted_at: Option<Timestamp>,
    /// The game version this instance holds ready (installed and started, waiting for a
    /// player), or is priming; absent for a blank instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primed_version_id: Option<String>,
}

/// How many instances of one game version a board keeps ready (installed and started up to
/// the first frame) in its warm pool, as the controller sizes it from demand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WarmGame {
    pub version_id: String,
    pub spec_id: String,
    pub count: u32,
    pub package_sha256: String,
    pub package_name: String,
    pub launch_activity: Option<String>,
}

/// The warm instances holding each game ready, per version and spec, from instance reports.
pub fn primed_counts(instances: &[InstanceReport]) -> Vec<PrimedCount> {
    let mut counts: BTreeMap<(&str, &str), u32> = BTreeMap::new();
    for i in instances {
        if let (InstanceState::Warm, Some(v)) = (i.state, &i.primed_version_id) {
            *counts.entry((v, &i.spec_id)).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .map(|((v, spec), warm)| PrimedCount {
            version_id: v.to_owned(),
            spec_id: spec.to_owned(),
            warm,
        })
        .collect()
}

/// Most latency samples in one session report (the rest of a burst is dropped, oldest first).
pub const MAX_LATENCY_SAMPLES: usize = 64;

/// Upper bounds (seconds) of touch-to-screen histograms' buckets, wherever they are kept (the
/// agent's and the controller's): finer where the targets are (25 and 40 ms).
pub const TOUCH_TO_SCREEN_BUCKETS: [f64; 12] = [
    0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5,
];

/// Touch-to-screen latencies (ms) on their way from a player to the controller: each in range
/// ([`crate::input::latency_in_range`]), at most [`MAX_LATENCY_SAMPLES`], the newest kept. The
/// one place those bounds are kept, wherever samples are gathered or merged; what comes off
/// the wire is bounded again with [`LatencySamples::bounded`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct LatencySamples(Vec<f32>);

impl LatencySamples {
    /// Adds a sample (out of range: dropped), making room by dropping the oldest.
    pub fn push(&mut self, ms: f32) {
        if !crate::input::latency_in_range(ms) {
            return;
        }
        if self.0.len() == MAX_LATENCY_SAMPLES {
            self.0.remove(0);
        }
        self.0.push(ms);
    }

    /// Adds `newer`'s samples after these, keeping the newest.
    pub fn append(&mut self, newer: LatencySamples) {
        for ms in newer.0 {
            self.push(ms);
        }
    }

    /// The samples as received, bounded: the newest in range.
    pub fn bounded(self) -> LatencySamples {
        let mut out = LatencySamples::default();
        out.append(self);
        out
    }

    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Takes the samples, leaving none.
    pub fn take(&mut self) -> LatencySamples {
        std::mem::take(self)
    }
}

impl From<Vec<f32>> for LatencySamples {
    /// Bounded as [`LatencySamples::bounded`] is.
    fn from(v: Vec<f32>) -> Self {
        LatencySamples(v).bounded()
    }
}

/// A session's state as the agent sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentSessionState {
    Preparing,
    Ready,
    Playing,
    Ending,
    Ended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// Agent → controller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentMessage {
    /// First message after connecting, and after every reconnect: what the board runs now.
    Hello {
        protocol: u32,
        board_id: String,
        agent_version: String,
        capacity: BTreeMap<String, u32>,
        /// Where players' SDKs open the signaling WebSocket.
        signaling_url: String,
        instances: Vec<InstanceReport>,
    },
    Heartbeat {
        telemetry: Telemetry,
    },
    Instance {
        instance: InstanceReport,
    },
    /// The board removed an instance (recycled after a play, trimmed from the warm pool, or
    /// failed to boot or prime).
    InstanceGone {
        instance_id: String,
    },
    Session {
        session_id: String,
        state: AgentSessionState,
        /// Why it ended (session end reasons), when `state` is `ended`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// Whether the player's peer is connected right now.
        connected: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_input_at: Option<Timestamp>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stats: Option<StreamStats>,
        /// Touch-to-screen latencies (ms) the player measured since the previous report, at
        /// most [`MAX_LATENCY_SAMPLES`].
        #[serde(default, skip_serializing_if = "LatencySamples::is_empty")]
        latency_ms: LatencySamples,
    },
    Deployment {
        sha256: String,
        state: DeploymentRoomState,
        progress_percent: u8,
        #[serde(default)]
        error: Option<String>,
    },
    /// The outcome of a command (sent once per command id; repeated for a repeated id).
    Result {
        command_id: String,
        ok: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// Output of a shell command, streamed; the last chunk carries the exit code.
    ShellOutput {
        command_id: String,
        stream: OutputStream,
        data: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exit_code: Option<i32>,
    },
}

/// Something the controller asks a board to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Command {
    /// Turn a warm instance into this play.
    PrepareSession {
        session_id: String,
        /// The game version played: an instance primed with it is taken first.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        version_id: Option<String>,
        package_sha256: String,
        package_name: String,
        launch_activity: Option<String>,
        spec: Box<Spec>,
        /// The player's archive to restore first, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        archive: Option<Box<ArchiveRef>>,
        /// The play's idle kick: the controller ends it after this long without input, and the
        /// board warns the player shortly before.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        idle_kick_secs: Option<u32>,
    },
    EndSession {
        session_id: String,
        reason: String,
        save_archive: bool,
    },
    /// Copy a package from the room's shared volume into the board's cache.
    SyncPackage {
        sha256: String,
        size_bytes: u64,
        /// The package's path relative to the volume: `apk/<sha[0..2]>/<sha>.apk`.
        source: String,
        /// The room's shared volume (an absolute path mounted on the board, or an
        /// `rsync://host[:port]/module` URL); the board's configured one when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        volume: Option<String>,
    },
    /// The games to keep ready in the warm pool, replacing the last list (an empty list keeps
    /// only blank instances). Idle primed instances of a game no longer listed, or beyond its
    /// count, are recycled.
    WarmGames {
        /// Orders the lists: a board ignores a list older than the last it took.
        revision: u64,
        games: Vec<WarmGame>,
    },
    /// Stop (or resume) taking new sessions; tell players in session when `notice` is set.
    Drain {
        draining: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notice: Option<String>,
    },
    /// Tell players in session (and those who connect later) about something coming at `at`
    /// (maintenance), with the operator's `notice`; `None` withdraws it. The board keeps
    /// taking sessions.
    Notice {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notice: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<crate::Timestamp>,
    },
    /// Start recording a session's video into an MP4 file (from its next key frame, which the
    /// board asks the instance for); uploaded to the controller when stopped or when the play
    /// ends.
    StartRecording {
        session_id: String,
        recording_id: String,
    },
    /// Stop a recording and upload it.
    StopRecording { recording_id: String },
    /// Send the last `lines` lines of the agent's own log back as `shell_output` of this
    /// command (the console's agent log; audited by the controller).
    TailLog { lines: u32 },
    /// Run a shell command in an instance (audited by the controller).
    Shell {
        instance_id: String,
        command: String,
        timeout_secs: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ArchiveRef {
    pub id: String,
    pub sha256: String,
    pub size_bytes: u64,
    /// Where the agent downloads it from (a controller URL).
    pub url: String,
}

/// Controller → agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ControllerMessage {
    /// Answer to hello: how often to heartbeat and how long before the board counts as lost.
    Welcome {
        heartbeat_secs: u32,
        lease_secs: u32,
    },
    Command {
        id: String,
        command: Command,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_samples_keep_the_newest_in_range() {
        let mut s = LatencySamples::default();
        for ms in [f32::NAN, -1.0, 10_001.0, f32::INFINITY] {
            s.push(ms);
        }
        assert!(s.is_empty());
        for i in 0..100 {
            s.push(i as f32);
        }
        assert_eq!(s.as_slice().len(), MAX_LATENCY_SAMPLES);
        assert_eq!(s.as_slice()[0], 36.0);
        let mut newer = LatencySamples::default();
        newer.push(500.0);
        s.append(newer);
        assert_eq!(s.as_slice().first(), Some(&37.0));
        assert_eq!(s.as_slice().last(), Some(&500.0));
        // off the wire: bounded again
        let wire: LatencySamples =
            serde_json::from_str(&format!("[{}]", ["-5"; 3].join(","))).unwrap();
        assert!(wire.bounded().is_empty());
        let mut many: LatencySamples = (0..200).map(|i| i as f32).collect::<Vec<_>>().into();
        assert_eq!(many.as_slice().len(), MAX_LATENCY_SAMPLES);
        assert_eq!(many.take().as_slice().last(), Some(&199.0));
    }

    #[test]
    fn primed_counts_are_per_version_and_spec_of_warm_instances() {
        let i = |spec: &str, state, v: Option<&str>| InstanceReport {
            instance_id: "i".into(),
            spec_id: spec.into(),
            state,
            session_id: None,
            package: None,
            encoder: None,
            booted_at: None,
            primed_version_id: v.map(Into::into),
        };
        let c = primed_counts(&[
            i("hd", InstanceState::Warm, Some("v1")),
            i("hd", InstanceState::Warm, Some("v1")),
            i("hd", InstanceState::Priming, Some("v1")),
            i("sd", InstanceState::Warm, Some("v1")),
            i("hd", InstanceState::Warm, None),
        ]);
        let got: Vec<_> = c
            .iter()
            .map(|c| (c.version_id.as_str(), c.spec_id.as_str(), c.warm))
            .collect();
        assert_eq!(got, [("v1", "hd", 2), ("v1", "sd", 1)]);
    }

    #[test]
    fn messages_are_tagged_json() {
        let m = ControllerMessage::Command {
            id: "cmd_1".into(),
            command: Command::Drain {
                draining: true,
                notice: Some("maintenance at 02:00".into()),
            },
        };
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(
            json,
            r#"{"type":"command","id":"cmd_1","command":{"kind":"drain","draining":true,"notice":"maintenance at 02:00"}}"#
        );
        assert_eq!(serde_json::from_str::<ControllerMessage>(&json).unwrap(), m);
        let hb: AgentMessage = serde_json::from_str(r#"{"type":"heartbeat","telemetry":{"cpu_percent":12.5,"load1":0.4,"mem_used_mb":1,"mem_total_mb":2,"disk_free_mb":3,"temperatures_c":[41.0],"instances_running":1,"instances_warm":2}}"#).unwrap();
        assert!(matches!(hb, AgentMessage::Heartbeat { .. }));
        assert!(serde_json::from_str::<AgentMessage>(r#"{"type":"reboot_everything"}"#).is_err());
    }
}
