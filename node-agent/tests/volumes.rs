//! Room shared volumes end to end: a real controller, two machine rooms whose volumes are two
//! real rsync daemons on loopback, and real agents in each room with no shared volume of their
//! own. A deployed package is placed once on each room's volume by the controller and every
//! board copies it from its own room's daemon, never from the controller's store (the daemons'
//! logs count every transfer). A room whose daemon is down shows its volume unreachable, with
//! rsync's reason, and catches up once the daemon is back.

mod support;

#[allow(unused_imports)]
use playrack_test_support as ctl;

use std::collections::BTreeMap;
use std::time::Duration;

use node_agent::agent::{Agent, RunningAgent};
use node_agent::config::Config;
use node_agent::runtime::InstanceSpec;
use playrack_wire::api::*;
use support::{AdbGuard, RsyncDaemon, wait_until};

use ctl::Ctl;

/// A board of a room: the real agent, enrolled with the room's token, holding no instance
/// and configured with no shared volume.
async fn board(
    ctl: &Ctl,
    token: &str,
    serial: &str,
    dir: &std::path::Path,
) -> (RunningAgent, AdbGuard) {
    let mut config = Config::with_data_dir(dir.join(serial));
    config.controller_url = ctl.url.clone();
    config.enrolment_token = Some(token.to_owned());
    config.serial = serial.into();
    config.model = "RK3588".into();
    let spec = InstanceSpec::parse("hd-60=360x640@30").unwrap();
    config.capacity = BTreeMap::from([(spec.id.clone(), 1)]);
    config.specs = BTreeMap::from([(spec.id.clone(), spec)]);
    config.warm = BTreeMap::new();
    config.virtual_device = support::virtual_device();
    config.adb_port = RsyncDaemon::free_port();
    config.shared_volume = String::new();
    config.listen_address = std::net::Ipv4Addr::LOCALHOST.into();
    config.webrtc_port = 0;
    config.http_port = 0;
    let agent = Agent::start(config).await.unwrap();
    let guard = AdbGuard(agent.agent.adb.clone());
    (agent, guard)
}

/// How many times a daemon's log says `what` (`to` an upload, `on` a download) of `rel`.
fn transfers(daemon: &RsyncDaemon, what: &str, rel: &str) -> usize {
    daemon
        .log()
        .matches(&format!("rsync {what} packages/{rel} from"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_room_places_the_package_once_and_its_boards_copy_it_from_there() {
    support::init_logs();
    let ctl = Ctl::start(ctl::backends()[0]).await;
    ctl.specs().await;
    let region = ctl.region("east").await;
    let dir = tempfile::tempdir().unwrap();
    let (vol_a, vol_b) = (dir.path().join("vol-a"), dir.path().join("vol-b"));
    std::fs::create_dir_all(&vol_a).unwrap();
    std::fs::create_dir_all(&vol_b).unwrap();
    let daemon_a = RsyncDaemon::serve(&vol_a, RsyncDaemon::free_port(), false);
    // Room B's daemon is down at first.
    let port_b = RsyncDaemon::free_port();
    let url_b = format!("rsync://127.0.0.1:{port_b}/packages");
    let room_a = ctl.room_at(&region.id, "room-a", &daemon_a.url()).await;
    let room_b = ctl.room_at(&region.id, "room-b", &url_b).await;
    let token_a = ctl.enrolment_token(&room_a.id).await;
    let token_b = ctl.enrolment_token(&room_b.id).await;
    let (_, t) = ctl.tenant("Acme").await;
    let game = ctl.game(&t, "tapper").await;
    let version = ctl
        .published(&t, &game.id, &ctl::fixture("tapper-v1.apk"))
        .await;
    let sha = version.sha256.clone().unwrap();
    let rel = playrack_volume::package_path(&sha);

    let boards_dir = dir.path().join("boards");
    let a1 = board(&ctl, &token_a, "RK-A1", &boards_dir).await;
    let a2 = board(&ctl, &token_a, "RK-A2", &boards_dir).await;
    let b1 = board(&ctl, &token_b, "RK-B1", &boards_dir).await;

    ctl.deploy(&t, &version.id, &[&room_a.id, &room_b.id]).await;
    let path = format!("/v1/versions/{}/deployment", version.id);
    let mut last = None;
    let ok = wait_until(Duration::from_secs(60), async || {
        let d: Deployment = ctl.get(&path, &t).await;
        let a = d.rooms.iter().find(|r| r.room_id == room_a.id).cloned();
        let b = d.rooms.iter().find(|r| r.room_id == room_b.id).cloned();
        last = Some(d);
        a.is_some_and(|a| {
            a.state == DeploymentRoomState::Ready
                && a.volume.state == VolumeCopyState::Placed
                && a.boards.ready == 2
                && a.boards.total == 2
        }) && b.is_some_and(|b| {
            b.volume.state == VolumeCopyState::Unreachable
                && b.volume.attempts >= 1
                && b.volume.error.as_deref().is_some_and(|e| {
                    e.contains("volume unreachable") && e.contains("Connection refused")
                })
                && b.state == DeploymentRoomState::Pending
                && b.boards.ready == 0
                && b.boards.total == 1
        })
    })
    .await;
    assert!(
        ok,
        "room A placed and synced, room B's volume unreachable: {last:#?}"
    );
    for a in [&a1.0, &a2.0] {
        assert!(
            a.agent.packages.get(&sha).is_some(),
            "a board of room A holds the package"
        );
    }
    assert!(b1.0.agent.packages.get(&sha).is_none());
    assert_eq!(
        std::fs::read(vol_a.join(&rel)).unwrap(),
        std::fs::read(ctl.store_root().join(&rel)).unwrap(),
        "room A's volume holds the package's bytes"
    );

    // Room B's daemon comes up: the next try places it and its board copies it from there.
    let daemon_b = RsyncDaemon::serve(&vol_b, port_b, false);
    assert!(
        wait_until(Duration::from_secs(90), async || {
            let d: Deployment = ctl.get(&path, &t).await;
            last = Some(d.clone());
            d.rooms.iter().all(|r| {
                r.state == DeploymentRoomState::Ready
                    && r.volume.state == VolumeCopyState::Placed
                    && r.volume.error.is_none()
                    && r.boards.ready == r.boards.total
            })
        })
        .await,
        "room B caught up: {last:#?}"
    );
    assert!(b1.0.agent.packages.get(&sha).is_some());
    let boards: Page<DeploymentBoard> = ctl
        .get(&format!("{path}/boards?room_id={}", room_b.id), &t)
        .await;
    assert_eq!(boards.items.len(), 1);
    assert_eq!(boards.items[0].board_id, b1.0.agent.credential.board_id);
    assert_eq!(boards.items[0].state, DeploymentRoomState::Ready);
    assert_eq!(boards.items[0].progress_percent, 100);

    // Each volume received the package once and served it to the controller's read-back and
    // to its own room's boards only: the boards never read the controller's store.
    assert!(
        wait_until(Duration::from_secs(10), async || {
            transfers(&daemon_a, "to", &rel) == 1
                && transfers(&daemon_a, "on", &rel) == 1 + 2
                && transfers(&daemon_b, "to", &rel) == 1
                && transfers(&daemon_b, "on", &rel) == 1 + 1
        })
        .await,
        "daemon logs:\nA:\n{}\nB:\n{}",
        daemon_a.log(),
        daemon_b.log()
    );

    for (a, _guard) in [a1, a2, b1] {
        a.stop().await;
    }
    ctl.stop().await;
}
