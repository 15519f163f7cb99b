//! Tap to first frame (TTFF) with the warm pool per game, next to blank instances, for a
//! small game and a large one, in the same run.
//!
//! Each mode runs the whole platform in process (`tests/support/stack.rs`: a real controller
//! on SQLite, the real agent with two `hd-60` slots of virtual devices, a native str0m player
//! that decodes with openh264). The small game is `tapper-v1` (a few kB); the large one is the
//! same game with `--large-mb` MiB of stored assets (150 by default), which the virtual device
//! installs through adb and reads at every cold start, as a game loads its assets.
//! - **blank**: the controller keeps no game ready (`warm_games_max_per_room = 0`): every play
//!   installs the APK into a blank warm instance and starts the game.
//! - **warm**: the controller sizes the warm pool per game from the plays started (one
//!   unmeasured play of each game first); before each measured play the bench waits until the
//!   board holds the game ready, as a steady stream of players finds it.
//!
//! TTFF is measured as a player sees it: from the acquire request to the first decoded video
//! frame (session polled every 5 ms until ready, then signaling, ICE, DTLS, a key frame).
//! The bench prints three figures: the small game warm beside blank, and the large game beside
//! the small one in each mode (target: warm large ≤ 1.2× warm small). It never asserts speed,
//! only that every play streamed.
//!
//! ```text
//! playrack-bench ttff -- [--large-mb 150] [--plays 50]
//! cargo bench -p node-agent --bench ttff -- [--large-mb 150] [--plays 50]
//! cargo test -p node-agent --bench ttff --locked -- --short     # CI: 16 MiB, 2 plays each
//! ```

use playrack_test_support as ctl;
use playrack_test_support::large_apk;
#[path = "../tests/support/peer.rs"]
mod peer;
#[path = "../tests/support/stack.rs"]
mod stack;
#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use clap::Parser;
use playrack_test_support::figure::{Figure, median};
use playrack_wire::agent::InstanceState;
use playrack_wire::api::*;
use playrack_wire::signaling::PeerRole;
use reqwest::{Method, StatusCode};

use array_controller::play::identity::Held;
use peer::Peer;
use support::wait_until;

#[derive(Parser, Debug)]
#[command(about = "Tap to first frame: warm pool per game against blank instances")]
struct Args {
    /// The short form for CI: a 16 MiB large game and 2 measured plays per game and mode
    /// (given sizes override it).
    #[arg(long)]
    short: bool,
    /// MiB of assets in the large game (default 150; --short: 16).
    #[arg(long)]
    large_mb: Option<usize>,
    /// Measured plays per game and mode (default 50; --short: 2).
    #[arg(long)]
    plays: Option<usize>,
    /// What `cargo test` passes to every test binary.
    #[arg(long, hide = true)]
    bench: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Blank,
    Warm,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Blank => "blank",
            Mode::Warm => "warm",
        }
    }
}

/// One game of the run: its version and try-play link.
struct GameUnder {
    name: &'static str,
    version: Version,
    link: Link,
}

fn main() {
    let args = Args::parse();
    let large_mb = args.large_mb.unwrap_or(if args.short { 16 } else { 150 });
    let plays = args.plays.unwrap_or(if args.short { 2 } else { 50 });
    let rt = support::bench_runtime(4);
    let large = large_apk::with_assets(ctl::fixture("tapper-v1.apk"), large_mb);
    let mut all = std::collections::BTreeMap::new();
    for mode in [Mode::Blank, Mode::Warm] {
        for (game, ms) in rt.block_on(run(mode, &large, plays)) {
            all.insert((mode.name(), game), ms);
        }
    }
    let take = |mode, game| all[&(mode, game)].clone();
    Figure::new("ttff.small_game.warm", "ms", take("warm", "small"))
        .baseline(
            "blank instance (install + cold start)",
            take("blank", "small"),
        )
        .target("p50 ≤ 300 ms")
        .print();
    Figure::new(
        &format!("ttff.large_game_{large_mb}mib.warm"),
        "ms",
        take("warm", "large"),
    )
    .baseline("small game, warm", take("warm", "small"))
    .target("≤ 1.2× the small game's")
    .print();
    Figure::new(
        &format!("ttff.large_game_{large_mb}mib.blank"),
        "ms",
        take("blank", "large"),
    )
    .baseline("small game, blank", take("blank", "small"))
    .print();
    let medians: std::collections::BTreeMap<_, _> =
        all.iter().map(|(k, v)| (*k, median(v))).collect();
    let ratio = |mode| medians[&(mode, "large")] / medians[&(mode, "small")];
    eprintln!(
        "TTFF median (ms)   small    large({large_mb} MiB)   large/small\n\
         blank           {:>7.0}  {:>9.0}          {:.2}×\n\
         warm per game   {:>7.0}  {:>9.0}          {:.2}×  (target ≤ 1.2×)",
        medians[&("blank", "small")],
        medians[&("blank", "large")],
        ratio("blank"),
        medians[&("warm", "small")],
        medians[&("warm", "large")],
        ratio("warm"),
    );
}

/// One mode: a fresh platform, both games deployed, `plays` measured plays of each.
async fn run(mode: Mode, large: &[u8], plays: usize) -> Vec<(&'static str, Vec<f64>)> {
    let st = stack::stack(stack::Options {
        slots: 2,
        controller: match mode {
            Mode::Blank => |c| c.warm_games_max_per_room = 0,
            Mode::Warm => |_| {},
        },
        ..Default::default()
    })
    .await;
    let big_game = st.ctl.game(&st.tenant_token, "big").await;
    let big = st
        .ctl
        .published(&st.tenant_token, &big_game.id, large)
        .await;
    st.ctl
        .deploy(&st.tenant_token, &big.id, &[&st.room.id])
        .await;
    let sha = big.sha256.clone().unwrap();
    let agent = st.agent.agent.clone();
    assert!(
        wait_until(Duration::from_secs(120), async || agent
            .packages
            .get(&sha)
            .is_some())
        .await,
        "the large game reached the board"
    );
    let big_link = st.ctl.link(&st.tenant_token, &big_game.id, Some(600)).await;
    let games = [
        GameUnder {
            name: "small",
            version: st.version.clone(),
            link: st.link.clone(),
        },
        GameUnder {
            name: "large",
            version: big,
            link: big_link,
        },
    ];
    // One unmeasured play of each game: the demand the warm pool is sized from (and the
    // same warm-up in both modes).
    let mut player = 0;
    for g in &games {
        player += 1;
        play(&st, g, player).await;
    }
    let mut out = Vec::new();
    for g in &games {
        let mut ms = Vec::new();
        for _ in 0..plays {
            ready_for(&st, mode, g).await;
            player += 1;
            ms.push(play(&st, g, player).await.as_secs_f64() * 1000.0);
        }
        out.push((g.name, ms));
    }
    st.stop().await;
    out
}

/// Waits until the board can take the next play as a steady stream of players finds it: no
/// play running and every instance back, and in the warm mode the game held ready.
async fn ready_for(st: &stack::Stack, mode: Mode, g: &GameUnder) {
    let agent = st.agent.agent.clone();
    assert!(
        wait_until(Duration::from_secs(120), async || {
            let slots = agent.pool.slots();
            let idle = agent.plays().lock().await.is_empty()
                && slots.iter().all(|s| s.session_id.is_none());
            let held = slots.iter().any(|s| {
                s.state == InstanceState::Warm && s.primed.as_deref() == Some(&g.version.id)
            });
            let blank = slots
                .iter()
                .any(|s| s.state == InstanceState::Warm && s.primed.is_none());
            idle && match mode {
                Mode::Warm => held,
                Mode::Blank => blank,
            }
        })
        .await,
        "the board never got ready for a {} play of {}: {:?}",
        mode.name(),
        g.name,
        agent.pool.slots()
    );
}

/// One play of `g` by anonymous player `i`: acquire → ready → first decoded frame → leave.
/// Returns the time from the acquire request to the first frame.
async fn play(st: &stack::Stack, g: &GameUnder, i: usize) -> Duration {
    let started = Instant::now();
    let req = AcquireRequest {
        link: Some(g.link.code.clone()),
        device_id: Some(ctl::device(i)),
        ..Default::default()
    };
    let sid = match ctl::acquire(&st.ctl, &req, None).await {
        AcquireResponse::Assigned { session_id, .. } => session_id,
        other => panic!("the board was idle, yet: {other:?}"),
    };
    let key = st.key(Held::Session(&sid)).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    let info = loop {
        let s: PlaySession = st
            .ctl
            .ok::<(), _>(
                Method::GET,
                &format!("/v1/play/sessions/{sid}"),
                &key,
                None,
                StatusCode::OK,
            )
            .await;
        if let (SessionState::Ready | SessionState::Playing, Some(c)) = (s.session.state, s.connect)
        {
            break c;
        }
        assert!(
            Instant::now() < deadline && s.session.state != SessionState::Ended,
            "the play never became ready: {:?}",
            s.session
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let mut p = Peer::connect(&info.signaling_url, &info.token, PeerRole::Player)
        .await
        .expect("signaling");
    assert!(
        p.run_until(Duration::from_secs(60), |p| p.decoded >= 1)
            .await,
        "no frame decoded"
    );
    let ttff = started.elapsed();
    p.bye().await;
    st.leave(&sid).await;
    ttff
}
