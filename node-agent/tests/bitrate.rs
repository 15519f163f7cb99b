//! The video's bit rate follows the player's link, inside the spec's window: a real
//! controller, the real agent and a virtual device, and a native player whose UDP socket lives
//! in a network namespace this test creates, behind a veth pair whose agent side is shaped
//! with `tc tbf` — the link the player sees is capped for real, and str0m's send-side
//! estimate (from the player's transport-wide congestion feedback) has to find it.
//!
//! Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) for `ip netns` and `tc`, as the test command
//! runs. Traffic stays on the veth pair, between the host and the namespace.

mod support;

#[allow(unused_imports)]
use playrack_test_support as ctl;
#[path = "support/netns.rs"]
mod netns;
#[path = "support/peer.rs"]
mod peer;
#[path = "support/stack.rs"]
mod stack;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use netns::{Namespace, tc};

use peer::Peer;
use playrack_wire::signaling::{AgentSignal, PeerRole, StreamStats};
use stack::{Options, stack};

/// The window of the `hd-60` spec the test plays (the standard specs').
const MIN_KBPS: u32 = 2_000;
const MAX_KBPS: u32 = 6_000;

/// The player's namespace: one veth pair, the agent's end `host`, the player's `peer`.
struct PlayerNet {
    ns: Namespace,
    host_if: String,
    host: Ipv4Addr,
    peer: Ipv4Addr,
}

impl PlayerNet {
    fn new() -> PlayerNet {
        let n = std::process::id() % 200 + 20;
        let mut ns = Namespace::add(&format!("playrack-bwe-{n}"));
        let host_if = format!("prbwe{n}h");
        let (host, peer) = (
            Ipv4Addr::new(10, 231, n as u8, 1),
            Ipv4Addr::new(10, 231, n as u8, 2),
        );
        ns.veth(
            &host_if,
            &format!("prbwe{n}n"),
            &format!("{host}/24"),
            &format!("{peer}/24"),
        );
        PlayerNet {
            ns,
            host_if,
            host,
            peer,
        }
    }

    /// Caps what the host sends into the namespace (the video's way) at `rate` (tc's units),
    /// with at most 50 ms of queue, as a congested access link would.
    fn cap(&self, rate: &str) {
        tc(&[
            "qdisc",
            "replace",
            "dev",
            &self.host_if,
            "root",
            "tbf",
            "rate",
            rate,
            "burst",
            "32kbit",
            "latency",
            "50ms",
        ]);
    }

    fn uncap(&self) {
        tc(&["qdisc", "del", "dev", &self.host_if, "root"]);
    }
}

/// Every stats signal the player got so far.
fn stats(p: &Peer) -> Vec<StreamStats> {
    p.signals
        .iter()
        .filter_map(|s| match s {
            AgentSignal::Stats { stats } => Some(stats.clone()),
            _ => None,
        })
        .collect()
}

fn last_target(p: &Peer) -> u32 {
    stats(p).last().map_or(0, |s| s.target_kbps)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_video_follows_a_capped_link_and_never_leaves_the_specs_window() {
    let ns = PlayerNet::new();
    let host = ns.host;
    let st = stack(Options {
        serial: "RK-E2E-BWE1".into(),
        tweak: Box::new(move |c| {
            c.listen_address = IpAddr::V4(host);
            c.public_address = Some(IpAddr::V4(host));
        }),
        ..Options::default()
    })
    .await;
    let sid = st.acquire(1).await;
    let info = st.connect_info(&sid).await;
    let mut p = Peer::connect_on(
        &info.signaling_url,
        &info.token,
        PeerRole::Player,
        ns.ns.udp_socket(IpAddr::V4(ns.peer)),
    )
    .await
    .expect("admitted");
    assert!(
        p.run_until(Duration::from_secs(60), |p| p.decoded >= 30)
            .await,
        "the player in the namespace decoded {} frames",
        p.decoded
    );
    // The play starts at the window's top; the first estimates may already move it.
    assert!(
        p.run_until(Duration::from_secs(10), |p| last_target(p) > 0)
            .await,
        "stats carry the target"
    );

    // The link drops to 1 Mb/s, below the window: the estimate finds it and the video goes
    // down to the window's floor, not below.
    ns.cap("1mbit");
    let found = p
        .run_until(Duration::from_secs(45), |p| {
            stats(p).last().is_some_and(|s| {
                s.target_kbps == MIN_KBPS && s.estimate_kbps > 0 && s.estimate_kbps < 1_500
            })
        })
        .await;
    assert!(found, "under a 1 Mb/s cap: {:?}", stats(&p).last());
    let relay = st.agent.agent.relay.clone();
    assert!(relay.snapshot().counters.bitrate_changes > 0);

    // The player asks for less than the floor: the floor. For less than the top: that.
    assert!(p.send_input(r#"{"t":"quality","max_kbps":100}"#));
    p.run_until(Duration::from_secs(3), |_| false).await;
    assert_eq!(last_target(&p), MIN_KBPS);

    // The cap goes: the estimate climbs and the video follows, in steps, up to the
    // player's ceiling.
    ns.uncap();
    assert!(p.send_input(r#"{"t":"quality","max_kbps":3000}"#));
    let up = p
        .run_until(Duration::from_secs(60), |p| last_target(p) == 3_000)
        .await;
    assert!(up, "uncapped, ceiling 3000: {:?}", stats(&p).last());

    // Throughout, the target never left the window, and the picture kept coming.
    let all = stats(&p);
    eprintln!(
        "target/estimate kb/s each second: {:?}",
        all.iter()
            .map(|s| (s.target_kbps, s.estimate_kbps))
            .collect::<Vec<_>>()
    );
    assert!(
        all.iter()
            .all(|s| (MIN_KBPS..=MAX_KBPS).contains(&s.target_kbps)),
        "{:?}",
        all.iter().map(|s| s.target_kbps).collect::<Vec<_>>()
    );
    let before = p.decoded;
    assert!(
        p.run_until(Duration::from_secs(20), |p| p.decoded >= before + 30)
            .await,
        "frames after the changes"
    );
    p.bye().await;
    st.stop().await;
}
