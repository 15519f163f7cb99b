//! The browser suite (`tests/browser/*.test.mjs`): Debian's Chromium, driven by playwright-core,
//! against a whole [`DemoStack`] started here in-process — the tenant console's upload, deploy
//! and link; a player reaching `playing`, a tap lighting the video within 500 ms, latency
//! probes, the archive restored on replay; the queue at capacity 1; a trial running out; the
//! operator's heat map and drain; a queued player promoted onto a full one-slot board; a game
//! crashed under a player (ended `APP_CRASHED`, the player told and playing again); an
//! operator watching a play; touch-to-screen latency with and without zero playout delay
//! (printed, not asserted); a player in a network namespace of its own, where no board's UDP
//! port can be reached, playing through Debian's coturn over UDP and TCP; 中文 composed
//! through an IME reaching the game's text field; the wheel scrolling the game and pasted
//! clipboard text reaching its field.
//!
//! One stack serves every scenario: this test builds it (2 boards × 2 slots of 360×640@30, plus
//! a second tenant whose order allows one play at once, a 5-second-trial link, and a third
//! tenant whose game is deployed only to a room of one board with one slot), runs
//! `node --test` once over the files in order with the URLs and credentials in `PLAYRACK_*`
//! environment variables, and fails when node does. Screenshots go to
//! `<target>/browser-artifacts/`.
//!
//! The TURN scenario's Chromium runs inside that namespace (`ip netns exec`, through a wrapper
//! script in `PLAYRACK_NETNS_CHROMIUM`): it reaches coturn on this machine's end of the veth
//! pair and, through forwarded TCP ports, the portal, the controller and the boards' HTTP
//! (signaling, probe) at their usual `127.0.0.1` URLs — and nothing else.
//!
//! Needs root (the namespace), `/usr/bin/chromium` and coturn (`scripts/install-deps.sh`), `tests/browser/node_modules`
//! (`npm ci` there; done here when missing) and the SDK bundle `sdk-h5/dist/playrack.js`
//! (built here when missing). `PLAYRACK_TEST_BROWSER=off` skips the suite with a warning.
//! `playrack-bench latency` runs this test for Chromium's figure: `PLAYRACK_BROWSER_ONLY` keeps
//! the scenarios whose file names contain it, `PLAYRACK_DEMO_SPEC` sets the boards' spec,
//! `PLAYRACK_DEMO_VIDEO_SLICES` the slices a frame (0: whole frames).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use playrack_tests::demo::{DemoOptions, DemoStack, workspace};

/// Every scenario together stays well under this.
const SUITE_TIMEOUT: Duration = Duration::from_secs(20 * 60);

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                workspace().join(p)
            }
        })
        .unwrap_or_else(|| workspace().join("target"))
}

/// Runs `cmd` in `dir`, failing the test with its output when it fails.
fn run(dir: &Path, cmd: &str, args: &[&str]) {
    let out = Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} {args:?} in {}: {e}", dir.display()));
    assert!(
        out.status.success(),
        "{cmd} {args:?} in {} failed:\n{}\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `virtual-device` as the test command builds it; an optimised test build
/// (`playrack-bench latency`) runs the optimised device.
fn virtual_device() -> PathBuf {
    playrack_test_support::bins::virtual_device(!cfg!(debug_assertions))
}

/// The SDK bundle and the suite's node modules, installed when missing.
fn prerequisites() -> PathBuf {
    let root = workspace();
    let sdk = root.join("sdk-h5");
    if !sdk.join("dist/playrack.js").exists() {
        eprintln!("browser: building the H5 SDK bundle (sdk-h5/dist)");
        run(&sdk, "npm", &["ci", "--no-audit", "--no-fund"]);
        run(&sdk, "npm", &["run", "build"]);
    }
    let suite = root.join("tests/browser");
    if !suite.join("node_modules/playwright-core").exists() {
        eprintln!("browser: npm ci in tests/browser");
        run(&suite, "npm", &["ci", "--no-audit", "--no-fund"]);
    }
    suite
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_suite_passes_against_a_demo_stack() {
    if std::env::var("PLAYRACK_TEST_BROWSER").as_deref() == Ok("off") {
        eprintln!("warning: PLAYRACK_TEST_BROWSER=off: the browser suite is not run");
        return;
    }
    let chromium =
        std::env::var("PLAYRACK_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: run scripts/install-deps.sh (Debian's chromium), or set PLAYRACK_TEST_BROWSER=off"
    );
    let suite = prerequisites();
    // As the demo binary: RUST_LOG's output (none by default), and the agents' own lines
    // kept for the operator console's agent log.
    {
        use tracing_subscriber::prelude::*;
        let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "off".into());
        let _ = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_test_writer()
                    .with_filter(tracing_subscriber::EnvFilter::new(filter)),
            )
            .with(node_agent::logtail::layer())
            .try_init();
    }

    let started = Instant::now();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut options = DemoOptions::new(dir.path().join("demo"));
    options.virtual_device = virtual_device();
    options.sdk_dir = workspace().join("sdk-h5/dist");
    options.apk = playrack_test_support::fixtures::apk("tapper-v1");
    // The boards offer Debian's coturn, with per-session credentials, where the TURN
    // scenario's player reaches it: this machine's end of the player's namespace.
    let netns = playrack_test_support::netns::PlayerNetns::create()
        .expect("a network namespace for the TURN scenario's player (needs root and iproute2)");
    let secret = format!("browser-{}", std::process::id());
    let coturn = playrack_test_support::turn::Coturn::start_on(netns.host_ip, &secret);
    options.turn = Some(playrack_tests::demo::TurnOptions {
        urls: vec![
            format!("turn:{}:{}", coturn.ip, coturn.port),
            format!("turn:{}:{}?transport=tcp", coturn.ip, coturn.port),
        ],
        secret,
    });
    // `PLAYRACK_DEMO_SPEC=hd-60=720x1280@60`: the boards' spec (the latency bench's 720p60).
    if let Ok(spec) = std::env::var("PLAYRACK_DEMO_SPEC") {
        options.spec = spec;
    }
    // `PLAYRACK_DEMO_VIDEO_SLICES=0`: whole frames (the latency bench's comparison).
    if let Ok(n) = std::env::var("PLAYRACK_DEMO_VIDEO_SLICES") {
        options.video_slices = n
            .parse()
            .expect("PLAYRACK_DEMO_VIDEO_SLICES: a number of slices, 0 to 32");
    }
    let mut stack = DemoStack::start(options.clone())
        .await
        .expect("the demo stack starts");
    // A second tenant whose order allows one play at once (the queue), and a short trial.
    // Each tenant's game is a different APK (see `tenant_with_capacity`): the demo game is
    // tapper-v1, the queue tenant's runner-v1, and the console test uploads tapper-v2.
    let queue_link = stack
        .tenant_with_capacity(
            "Queue Test Games",
            1,
            300,
            &playrack_test_support::fixtures::apk("runner-v1"),
        )
        .await
        .expect("a tenant with capacity 1");
    let trial_link = stack.link_with_trial(5).await.expect("a 5 s trial link");
    // A room of one board with one slot, its tenant's game deployed only there (a full board).
    let full_link = stack
        .one_slot_room(
            "full-room",
            &playrack_test_support::fixtures::apk("tapper-v2"),
        )
        .await
        .expect("a room of one one-slot board");
    eprintln!("browser: stack ready in {:.1?}", started.elapsed());
    // Inside the namespace: the portal, the controller and every board's HTTP port, by TCP.
    let port = |url: &str| {
        url.rsplit(':')
            .next()
            .and_then(|p| p.trim_end_matches('/').parse::<u16>().ok())
    };
    let mut ports: Vec<u16> = [&stack.portal_url, &stack.controller_url]
        .iter()
        .filter_map(|u| port(u))
        .collect();
    ports.extend(stack.agents.iter().map(|a| a.agent.http_addr.port()));
    netns
        .forward_tcp(&ports)
        .expect("the stack's TCP ports in the namespace");
    let netns_chromium = dir.path().join("chromium-in-netns");
    netns
        .wrapper(&chromium, &netns_chromium)
        .expect("the namespace's Chromium wrapper");

    let artifacts = target_dir().join("browser-artifacts");
    let _ = std::fs::remove_dir_all(&artifacts);
    std::fs::create_dir_all(&artifacts).expect("the artifacts directory");
    eprintln!("browser: screenshots go to {}", artifacts.display());

    let spec = node_agent::runtime::InstanceSpec::parse(&options.spec).expect("the demo spec");
    let mut files: Vec<String> = std::fs::read_dir(&suite)
        .expect("tests/browser")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".test.mjs"))
        // `PLAYRACK_BROWSER_ONLY=09-latency`: the scenarios whose file names contain it.
        .filter(|n| std::env::var("PLAYRACK_BROWSER_ONLY").map_or(true, |only| n.contains(&only)))
        .collect();
    files.sort();
    let envs: Vec<(&str, String)> = vec![
        ("PLAYRACK_PORTAL_URL", stack.portal_url.clone()),
        ("PLAYRACK_CONTROLLER_URL", stack.controller_url.clone()),
        (
            "PLAYRACK_TENANT_EMAIL",
            array_controller::seed::DEMO_TENANT_EMAIL.into(),
        ),
        (
            "PLAYRACK_TENANT_PASSWORD",
            stack.credentials.tenant_password.clone(),
        ),
        ("PLAYRACK_TENANT_TOKEN", stack.tenant_token.clone()),
        (
            "PLAYRACK_OPERATOR_EMAIL",
            array_controller::seed::DEMO_OPERATOR_EMAIL.into(),
        ),
        (
            "PLAYRACK_OPERATOR_PASSWORD",
            stack.credentials.operator_password.clone(),
        ),
        ("PLAYRACK_LINK_URL", stack.play_url(&stack.link)),
        ("PLAYRACK_QUEUE_LINK_URL", stack.play_url(&queue_link)),
        ("PLAYRACK_TRIAL_LINK_URL", stack.play_url(&trial_link)),
        ("PLAYRACK_FULL_BOARD_LINK_URL", stack.play_url(&full_link)),
        ("PLAYRACK_GAME_ID", stack.game.id.clone()),
        ("PLAYRACK_ROOM_ID", stack.room.id.clone()),
        ("PLAYRACK_SPEC_ID", stack.spec_id().to_owned()),
        ("PLAYRACK_BOARDS", stack.options.boards.to_string()),
        ("PLAYRACK_VIDEO_WIDTH", spec.width.to_string()),
        ("PLAYRACK_VIDEO_HEIGHT", spec.height.to_string()),
        ("PLAYRACK_VIDEO_FPS", spec.fps.to_string()),
        (
            "PLAYRACK_APK",
            playrack_test_support::fixtures::apk("tapper-v2")
                .to_string_lossy()
                .into_owned(),
        ),
        (
            "PLAYRACK_ARTIFACTS",
            artifacts.to_string_lossy().into_owned(),
        ),
        ("PLAYRACK_CHROMIUM", chromium.clone()),
        (
            "PLAYRACK_NETNS_CHROMIUM",
            netns_chromium.to_string_lossy().into_owned(),
        ),
    ];
    let mut node = tokio::process::Command::new("node");
    node.args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
        .args(&files)
        .current_dir(&suite)
        .envs(envs)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let t0 = Instant::now();
    let status = tokio::time::timeout(SUITE_TIMEOUT, node.status()).await;
    eprintln!(
        "browser: node --test took {:.1?}; screenshots in {}",
        t0.elapsed(),
        artifacts.display()
    );
    stack.stop().await;
    drop(coturn);
    drop(netns);
    let status = status
        .unwrap_or_else(|_| panic!("the browser suite ran past {SUITE_TIMEOUT:?}"))
        .expect("run node");
    assert!(
        status.success(),
        "the browser suite failed ({status}); screenshots in {}",
        artifacts.display()
    );
}
