//! `playrack-bench`: every benchmark of the project behind one command.
//!
//! The benchmarks stay beside the code they measure (`<crate>/benches/*.rs`, each printing its
//! [`Figure`]s); this module knows which to run for a subcommand and how ([`jobs`]), runs them
//! through cargo as `cargo xtask`-style tools do ([`run`]), prints each figure as one JSON
//! object, keeps each family's last figures ([`store`]), and for `all` and `report` writes them
//! into BENCHMARKS.md with a plot each ([`report`], [`plot`]).
//!
//! Running through cargo keeps one build per profile: the long form runs `cargo bench`
//! (optimised), the short form (`--short`, what CI runs) `cargo test --bench`, the same debug
//! build the test suites use.

pub mod plot;
pub mod report;
pub mod run;
pub mod store;

use playrack_test_support::figure::Figure;

/// A benchmark family: what `playrack-bench <what>` runs.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum What {
    /// Touch-to-screen: the native client, and Chromium through sdk-h5, each beside its floor
    /// or its browser-buffered baseline.
    Latency,
    /// Tap to first decoded frame, warm pool per game and blank (cold) instances.
    Ttff,
    /// Acquire and promotion latency with history against an empty database (SQLite, and
    /// PostgreSQL with one and three replicas when `PLAYRACK_TEST_PG_URL` is set).
    Scheduler,
    /// Virtual devices per machine at 720p, each ≥ 25 fps, and the agent's memory per stream.
    Density,
    /// The agent relay's CPU per stream against a raw UDP send.
    Relay,
    /// The virtual device's H.264 encode time against its render time.
    Encode,
    /// APK ingest against a plain file copy.
    Ingest,
}

impl What {
    pub const ALL: [What; 7] = [
        What::Encode,
        What::Relay,
        What::Density,
        What::Ingest,
        What::Ttff,
        What::Scheduler,
        What::Latency,
    ];

    pub fn name(self) -> &'static str {
        match self {
            What::Latency => "latency",
            What::Ttff => "ttff",
            What::Scheduler => "scheduler",
            What::Density => "density",
            What::Relay => "relay",
            What::Encode => "encode",
            What::Ingest => "ingest",
        }
    }
}

/// One cargo run of a benchmark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// What the progress line says.
    pub label: String,
    /// cargo's arguments, up to and including `--`.
    pub cargo: Vec<String>,
    /// The benchmark's own arguments.
    pub args: Vec<String>,
    /// Extra environment.
    pub env: Vec<(String, String)>,
}

/// How the jobs are run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The short form: seconds each, the debug build (CI).
    pub short: bool,
    /// Run the PostgreSQL variants (the caller checks `PLAYRACK_TEST_PG_URL`).
    pub pg: bool,
    /// Run the Chromium latency figure (Chromium present and not switched off).
    pub browser: bool,
    /// Passed to every benchmark of the subcommand.
    pub extra: Vec<String>,
}

/// The workspace's features, as the test command builds it (`scripts/test.sh`): the virtual
/// device's sliced encoder (x264), so the short form reuses the test build and the encode
/// bench can draw intra refresh.
const FEATURES: [&str; 2] = ["--features", "android-injector/x264"];

/// `bench` is the name of a `[[bench]]` target (unique in the workspace).
fn bench(label: &str, bench: &str, o: &Options) -> Job {
    let mut cargo: Vec<String> = if o.short {
        vec!["test".into()]
    } else {
        vec!["bench".into()]
    };
    // `--workspace`, as the test suites build: the same features, so the same build.
    cargo.extend(["--locked", "--workspace"].map(String::from));
    cargo.extend(FEATURES.map(String::from));
    cargo.extend(["--bench", bench, "--"].map(String::from));
    let mut args = Vec::new();
    if o.short {
        args.push("--short".into());
    }
    args.extend(o.extra.iter().cloned());
    Job {
        label: label.into(),
        cargo,
        args,
        env: Vec::new(),
    }
}

/// The cargo runs behind `what`.
pub fn jobs(what: What, o: &Options) -> Vec<Job> {
    match what {
        What::Encode => vec![bench("encode", "encode", o)],
        What::Density => vec![
            bench("density", "density", o),
            bench("density (agent memory)", "memory", o),
        ],
        What::Relay => vec![bench("relay", "relay", o)],
        What::Ingest => vec![bench("ingest", "ingest", o)],
        What::Ttff => vec![bench("ttff", "ttff", o)],
        What::Scheduler => {
            let mut jobs = vec![bench("scheduler (SQLite)", "scheduler", o)];
            if o.pg {
                let mut pg = bench("scheduler (PostgreSQL)", "scheduler", o);
                pg.args.push("--pg".into());
                jobs.push(pg.clone());
                if !o.short {
                    pg.label = "scheduler (PostgreSQL, 3 replicas)".into();
                    pg.args.extend(["--replicas".into(), "3".into()]);
                    jobs.push(pg);
                }
            }
            jobs
        }
        What::Latency => {
            let mut jobs = vec![bench("latency (native)", "latency", o)];
            if o.browser {
                // The browser suite's latency scenario alone, on a demo stack at the spec.
                let mut cargo: Vec<String> = vec!["test".into(), "--locked".into()];
                if !o.short {
                    cargo.push("--release".into());
                }
                cargo.push("--workspace".into());
                cargo.extend(FEATURES.map(String::from));
                cargo.extend(["--test", "browser", "--"].map(String::from));
                let (spec, samples) = if o.short {
                    ("hd-60=360x640@30", "10")
                } else {
                    ("hd-60=720x1280@60", "300")
                };
                let chromium = Job {
                    label: "latency (Chromium)".into(),
                    cargo,
                    args: vec!["--nocapture".into()],
                    env: vec![
                        ("PLAYRACK_BROWSER_ONLY".into(), "09-latency".into()),
                        ("PLAYRACK_DEMO_SPEC".into(), spec.into()),
                        ("PLAYRACK_LATENCY_SAMPLES".into(), samples.into()),
                    ],
                };
                if !o.short {
                    // the same with whole frames: what the slices change in Chromium
                    let mut whole = chromium.clone();
                    whole.label = "latency (Chromium, whole frames)".into();
                    whole
                        .env
                        .push(("PLAYRACK_DEMO_VIDEO_SLICES".into(), "0".into()));
                    jobs.push(whole);
                }
                jobs.push(chromium);
            }
            jobs
        }
    }
}

/// What a subcommand measured, when and where.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Outcome {
    pub what: What,
    pub figures: Vec<Figure>,
    /// The command lines that produced them.
    pub commands: Vec<String>,
    /// When the run began (RFC 3339, UTC).
    pub taken: String,
    /// The machine it ran on ([`report::machine`]).
    pub machine: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_short_form_is_the_debug_build_with_short_and_the_long_form_is_cargo_bench() {
        let short = Options {
            short: true,
            ..Default::default()
        };
        let j = &jobs(What::Encode, &short)[0];
        assert_eq!(j.cargo[0], "test");
        assert_eq!(
            j.cargo,
            [
                "test",
                "--locked",
                "--workspace",
                "--features",
                "android-injector/x264",
                "--bench",
                "encode",
                "--"
            ]
        );
        assert_eq!(j.args, ["--short"]);
        let long = Options {
            extra: vec!["--plays".into(), "9".into()],
            ..Default::default()
        };
        let j = &jobs(What::Ttff, &long)[0];
        assert_eq!(j.cargo[0], "bench");
        assert_eq!(j.args, ["--plays", "9"]);
    }

    #[test]
    fn postgres_and_the_browser_add_their_runs_only_when_asked() {
        let o = Options::default();
        assert_eq!(jobs(What::Scheduler, &o).len(), 1);
        assert_eq!(jobs(What::Latency, &o).len(), 1);
        let o = Options {
            pg: true,
            browser: true,
            ..Default::default()
        };
        let s = jobs(What::Scheduler, &o);
        assert_eq!(s.len(), 3);
        assert_eq!(s[2].args, ["--pg", "--replicas", "3"]);
        let l = jobs(What::Latency, &o);
        assert_eq!(l.len(), 3, "native, Chromium with whole frames, Chromium");
        assert_eq!(l[1].cargo[..3], ["test", "--locked", "--release"]);
        assert!(
            l[1].env
                .contains(&("PLAYRACK_DEMO_VIDEO_SLICES".into(), "0".into()))
        );
        assert!(
            l[1].env
                .contains(&("PLAYRACK_DEMO_SPEC".into(), "hd-60=720x1280@60".into()))
        );
    }
}
