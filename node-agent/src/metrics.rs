//! The agent's Prometheus metrics (`/metrics`), through the `metrics` crate on a recorder of the
//! agent's own: tests run several agents in one process, and each board's figures are its own.
//!
//! What is already counted elsewhere — the relay's counters, the pool's instances, the last
//! health sample the heartbeats took — is read when Prometheus scrapes and set on the recorder
//! just before it renders, so nothing is counted twice. Touch-to-screen latencies are recorded
//! as players report them, into a histogram with the controller's buckets.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusRecorder};
use playrack_wire::agent::{InstanceReport, TOUCH_TO_SCREEN_BUCKETS, Telemetry};

use crate::relay::Snapshot;

/// A metric's labels.
type Labels = Vec<(&'static str, String)>;
/// A metric's name and labels.
type Series = (&'static str, Labels);

/// Everything a scrape reads.
pub struct Scrape<'a> {
    pub relay: &'a Snapshot,
    pub signaling_refused: u64,
    pub instances: &'a [InstanceReport],
    /// The newest health sample (none before the first heartbeat).
    pub telemetry: Option<&'a Telemetry>,
}

/// The agent's recorder. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    /// Label sets of the gauges the last scrape set: one gone since reads 0 (not its last
    /// value), then leaves the page after [`GAUGE_IDLE`].
    seen: Arc<Mutex<BTreeSet<Series>>>,
}

const COUNTERS: [(&str, &str); 11] = [
    (
        "playrack_agent_video_frames_total",
        "H.264 access units read from injectors.",
    ),
    (
        "playrack_agent_audio_frames_total",
        "Opus packets read from injectors.",
    ),
    (
        "playrack_agent_media_bytes_total",
        "Media bytes read from injectors.",
    ),
    (
        "playrack_agent_datagrams_sent_total",
        "UDP datagrams sent to peers.",
    ),
    (
        "playrack_agent_bytes_sent_total",
        "UDP bytes sent to peers.",
    ),
    (
        "playrack_agent_datagrams_unmatched_total",
        "Datagrams no peer accepted.",
    ),
    ("playrack_agent_inputs_total", "Input messages received."),
    (
        "playrack_agent_inputs_dropped_total",
        "Input messages refused (malformed, oversized, spectators).",
    ),
    (
        "playrack_agent_video_resets_total",
        "RESET_VIDEO requests sent to injectors.",
    ),
    (
        "playrack_agent_video_bitrate_changes_total",
        "SET_VIDEO_BIT_RATE messages sent to injectors (the video following players' links).",
    ),
    (
        "playrack_agent_signaling_refused_total",
        "Signaling sockets refused.",
    ),
];

const GAUGES: [(&str, &str); 11] = [
    (
        "playrack_agent_relay_sessions",
        "Plays attached to the relay.",
    ),
    (
        "playrack_agent_relay_peers",
        "WebRTC peers (players and spectators).",
    ),
    (
        "playrack_agent_instances",
        "Instances by state and the video encoder of their current or last play.",
    ),
    (
        "playrack_agent_pool_primed",
        "Warm instances holding a game version ready, by spec and version.",
    ),
    (
        "playrack_agent_cpu_percent",
        "CPU use of the whole board, in percent of all cores.",
    ),
    ("playrack_agent_load1", "The one-minute load average."),
    (
        "playrack_agent_memory_used_bytes",
        "Memory in use (total − available).",
    ),
    ("playrack_agent_memory_total_bytes", "Memory of the board."),
    (
        "playrack_agent_disk_free_bytes",
        "Free space of the agent's data directory's filesystem.",
    ),
    (
        "playrack_agent_temperature_celsius",
        "Temperature of each thermal zone.",
    ),
    (
        "playrack_agent_health_sampled",
        "1 once a health sample has been taken (CPU, memory and temperature are from it).",
    ),
];

const LATENCY: &str = "playrack_agent_touch_to_screen_seconds";
/// How long a gauge nobody sets any more stays on the page.
const GAUGE_IDLE: std::time::Duration = std::time::Duration::from_secs(300);

impl Metrics {
    pub fn new() -> Metrics {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(LATENCY.into()), &TOUCH_TO_SCREEN_BUCKETS)
            .expect("the bucket list is not empty")
            .idle_timeout(metrics_util::MetricKindMask::GAUGE, Some(GAUGE_IDLE))
            .build_recorder();
        metrics::with_local_recorder(&recorder, || {
            for (name, help) in COUNTERS {
                metrics::describe_counter!(name, help);
            }
            for (name, help) in GAUGES {
                metrics::describe_gauge!(name, help);
            }
            metrics::describe_histogram!(
                LATENCY,
                metrics::Unit::Seconds,
                "Touch-to-screen latency the players measured (input sent → first frame showing it)."
            );
        });
        Metrics {
            recorder: Arc::new(recorder),
            seen: Arc::default(),
        }
    }

    /// Records latencies players reported, in milliseconds.
    pub fn latencies(&self, ms: &[f32]) {
        metrics::with_local_recorder(self.recorder.as_ref(), || {
            let h = metrics::histogram!(LATENCY);
            for v in ms {
                h.record(f64::from(*v) / 1000.0);
            }
        });
    }

    /// Sets what `scrape` reads and renders the exposition text.
    pub fn render(&self, scrape: &Scrape<'_>) -> String {
        let c = &scrape.relay.counters;
        let counters = [
            c.video_frames_in,
            c.audio_frames_in,
            c.media_bytes_in,
            c.datagrams_out,
            c.bytes_out,
            c.datagrams_unmatched,
            c.inputs,
            c.inputs_dropped,
            c.video_resets,
            c.bitrate_changes,
            scrape.signaling_refused,
        ];
        let mut gauges: Vec<(&'static str, Labels, f64)> = vec![
            (
                "playrack_agent_relay_sessions",
                vec![],
                scrape.relay.sessions as f64,
            ),
            (
                "playrack_agent_relay_peers",
                vec![],
                scrape.relay.peers as f64,
            ),
        ];
        let mut by_state: std::collections::BTreeMap<(String, String), u32> = Default::default();
        for i in scrape.instances {
            let state = serde_json::to_value(i.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let encoder = i.encoder.clone().unwrap_or_else(|| "none".into());
            *by_state.entry((state, encoder)).or_default() += 1;
        }
        for ((state, encoder), n) in by_state {
            gauges.push((
                "playrack_agent_instances",
                vec![("state", state), ("encoder", encoder)],
                f64::from(n),
            ));
        }
        if let Some(t) = scrape.telemetry {
            let mib = |v: u64| (v << 20) as f64;
            gauges.extend([
                ("playrack_agent_health_sampled", vec![], 1.0),
                (
                    "playrack_agent_cpu_percent",
                    vec![],
                    f64::from(t.cpu_percent),
                ),
                ("playrack_agent_load1", vec![], f64::from(t.load1)),
                (
                    "playrack_agent_memory_used_bytes",
                    vec![],
                    mib(u64::from(t.mem_used_mb)),
                ),
                (
                    "playrack_agent_memory_total_bytes",
                    vec![],
                    mib(u64::from(t.mem_total_mb)),
                ),
                (
                    "playrack_agent_disk_free_bytes",
                    vec![],
                    mib(t.disk_free_mb),
                ),
            ]);
            for (zone, c) in t.temperatures_c.iter().enumerate() {
                gauges.push((
                    "playrack_agent_temperature_celsius",
                    vec![("zone", zone.to_string())],
                    f64::from(*c),
                ));
            }
            for p in &t.primed {
                gauges.push((
                    "playrack_agent_pool_primed",
                    vec![
                        ("spec", p.spec_id.clone()),
                        ("version", p.version_id.clone()),
                    ],
                    f64::from(p.warm),
                ));
            }
        }
        metrics::with_local_recorder(self.recorder.as_ref(), || {
            for ((name, _), v) in COUNTERS.iter().zip(counters) {
                metrics::counter!(*name).absolute(v);
            }
            let mut seen = self.seen.lock().expect("metrics lock");
            let now: BTreeSet<_> = gauges.iter().map(|(n, l, _)| (*n, l.clone())).collect();
            // Gone since the last scrape: read 0 now, and leave the page after the idle
            // timeout.
            for (name, labels) in seen.difference(&now) {
                metrics::gauge!(*name, labels).set(0.0);
            }
            for (name, labels, v) in &gauges {
                metrics::gauge!(*name, labels).set(*v);
            }
            *seen = now;
        });
        self.recorder.handle().render()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use playrack_wire::agent::{InstanceState, PrimedCount};

    fn inst(state: InstanceState, encoder: Option<&str>) -> InstanceReport {
        InstanceReport {
            instance_id: "i".into(),
            spec_id: "hd-60".into(),
            state,
            session_id: None,
            package: None,
            encoder: encoder.map(str::to_owned),
            booted_at: None,
            primed_version_id: None,
        }
    }

    fn line<'a>(text: &'a str, series: &str) -> Option<&'a str> {
        text.lines()
            .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
            .map(|l| &l[series.len() + 1..])
    }

    #[test]
    fn a_scrape_shows_the_board_and_a_state_gone_since_reads_zero() {
        let m = Metrics::new();
        let mut relay = Snapshot {
            sessions: 2,
            ..Default::default()
        };
        relay.counters.video_frames_in = 1234;
        let busy = [
            inst(InstanceState::Busy, Some("c2.rk.avc.encoder")),
            inst(InstanceState::Busy, Some("c2.rk.avc.encoder")),
            inst(InstanceState::Warm, None),
            inst(InstanceState::Busy, Some("odd\"name")),
        ];
        let t = Telemetry {
            cpu_percent: 37.5,
            load1: 1.25,
            mem_used_mb: 1024,
            mem_total_mb: 8192,
            disk_free_mb: 2048,
            temperatures_c: vec![41.0, 55.5],
            instances_running: 4,
            instances_warm: 1,
            primed: vec![PrimedCount {
                version_id: "ver_1".into(),
                spec_id: "hd-60".into(),
                warm: 1,
            }],
        };
        let text = m.render(&Scrape {
            relay: &relay,
            signaling_refused: 3,
            instances: &busy,
            telemetry: Some(&t),
        });
        for (series, value) in [
            ("playrack_agent_relay_sessions", "2"),
            ("playrack_agent_video_frames_total", "1234"),
            ("playrack_agent_signaling_refused_total", "3"),
            (
                "playrack_agent_instances{state=\"busy\",encoder=\"c2.rk.avc.encoder\"}",
                "2",
            ),
            (
                "playrack_agent_instances{state=\"warm\",encoder=\"none\"}",
                "1",
            ),
            (
                "playrack_agent_instances{state=\"busy\",encoder=\"odd\\\"name\"}",
                "1",
            ),
            ("playrack_agent_cpu_percent", "37.5"),
            ("playrack_agent_memory_used_bytes", "1073741824"),
            ("playrack_agent_memory_total_bytes", "8589934592"),
            ("playrack_agent_disk_free_bytes", "2147483648"),
            ("playrack_agent_temperature_celsius{zone=\"1\"}", "55.5"),
            (
                "playrack_agent_pool_primed{spec=\"hd-60\",version=\"ver_1\"}",
                "1",
            ),
        ] {
            assert_eq!(line(&text, series), Some(value), "{series} in\n{text}");
        }
        assert!(
            text.contains("# TYPE playrack_agent_instances gauge"),
            "{text}"
        );
        assert!(text.contains("# TYPE playrack_agent_video_frames_total counter"));
        assert!(text.contains("# HELP playrack_agent_cpu_percent CPU use"));

        // The busy instances finished: their state reads 0, the warm one is still counted.
        let warm = [inst(InstanceState::Warm, None)];
        let text = m.render(&Scrape {
            relay: &relay,
            signaling_refused: 3,
            instances: &warm,
            telemetry: Some(&t),
        });
        let busy = "playrack_agent_instances{state=\"busy\",encoder=\"c2.rk.avc.encoder\"}";
        assert_eq!(line(&text, busy), Some("0"), "{text}");
        assert_eq!(
            line(
                &text,
                "playrack_agent_instances{state=\"warm\",encoder=\"none\"}"
            ),
            Some("1")
        );
    }

    #[test]
    fn latencies_fill_a_histogram_in_seconds_and_no_health_means_no_health_gauges() {
        let m = Metrics::new();
        m.latencies(&[23.5, 31.5, 700.0]);
        let text = m.render(&Scrape {
            relay: &Snapshot::default(),
            signaling_refused: 0,
            instances: &[],
            telemetry: None,
        });
        let h = "playrack_agent_touch_to_screen_seconds";
        assert_eq!(
            line(&text, &format!("{h}_bucket{{le=\"0.025\"}}")),
            Some("1"),
            "{text}"
        );
        assert_eq!(
            line(&text, &format!("{h}_bucket{{le=\"0.04\"}}")),
            Some("2")
        );
        assert_eq!(
            line(&text, &format!("{h}_bucket{{le=\"+Inf\"}}")),
            Some("3")
        );
        assert_eq!(line(&text, &format!("{h}_count")), Some("3"));
        assert!(!text.contains("playrack_agent_cpu_percent "), "{text}");
    }
}
