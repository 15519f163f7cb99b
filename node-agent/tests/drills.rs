//! Fault drills with real processes killed for real (`kill -9`, no goodbye):
//! - a node agent process dies mid-play: within the lease its play ends `BOARD_LOST`, the
//!   ledger closes it exactly once, the player waiting in line is placed on the board that is
//!   left (never on the dead one), and the player's last saved archive is intact — the bytes
//!   match their hash and the next play restores them;
//! - the controller process dies mid-play and is started again: the stream never stops, the
//!   agent reconnects and its hello reconciles, the play is still the one play on its
//!   instance, and the ticket waiting in line survives and is served when the play ends;
//! - the agent (a process in a network namespace this test creates, reaching the controller
//!   over one veth pair and its players over another) is cut off from the controller for 30 s
//!   — silently, packets dropped, as a failed switch does: the stream goes on, and when the
//!   link is back the agent's hello reconciles; nothing is booked twice.
//!
//! They run on PostgreSQL when the suite has one (the shared production setup), else SQLite.

mod support;

#[allow(unused_imports)]
use playrack_test_support as ctl;
#[path = "support/board.rs"]
mod board;
#[path = "support/netns.rs"]
mod netns;
#[path = "support/peer.rs"]
mod peer;
#[path = "support/stack.rs"]
mod stack;

use std::process::Command;
use std::time::{Duration, Instant};

use android_injector::game::read_tap_counter;
use array_controller::play::identity::Held;
use board::{BoardOptions, BoardProcess};
use ctl::Ctl;
use netns::{Namespace, ip};
use peer::Peer;
use playrack_wire::api::*;
use playrack_wire::signaling::PeerRole;
use reqwest::{Method, StatusCode};
use sha2::Digest;
use support::{Process, wait_until};

/// Heartbeat and lease of the agent drill (the defaults are 5 s and 15 s).
const HEARTBEAT_SECS: u32 = 1;
const LEASE_SECS: u32 = 3;
/// A point in the lower half of the 360×640 video, where the game draws only background.
const TOUCH: (f32, f32) = (0.5, 0.75);

/// One drill at a time: each runs boards that encode video, all two cores can carry.
static ONE_DRILL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn backend() -> &'static str {
    ctl::backends().last().expect("a backend")
}

fn taps(p: &Peer) -> Option<u64> {
    p.picture
        .as_ref()
        .and_then(|pic| read_tap_counter(pic.luma()))
}

/// A tap on the DataChannel, then the counter the game draws shows `want`.
async fn tap(p: &mut Peer, want: u64) {
    assert!(
        p.run_until(Duration::from_secs(15), |p| p.channel_open)
            .await
    );
    for phase in ["down", "up"] {
        let (x, y) = TOUCH;
        let msg = format!(r#"{{"t":"touch","phase":"{phase}","pointer":0,"x":{x},"y":{y}}}"#);
        assert!(p.send_input(&msg));
    }
    assert!(
        p.run_until(Duration::from_secs(15), |p| taps(p) == Some(want))
            .await,
        "the tap counter shows {want} (shows {:?})",
        taps(p)
    );
}

/// The controller's boards by serial.
async fn boards(ctl: &Ctl) -> Vec<Board> {
    ctl.list_all("/v1/boards", &ctl.op).await
}

/// A player of the drill: their acquire, the key it handed them, and where it went.
struct Seat {
    session_id: String,
    key: String,
    board_id: String,
}

async fn play_key(ctl: &Ctl, held: Held<'_>) -> String {
    array_controller::play::lifecycle::play_key(ctl.state(), held)
        .await
        .expect("the signing key")
}

async fn view(ctl: &Ctl, seat: &Seat) -> PlaySession {
    ctl.ok::<(), _>(
        Method::GET,
        &format!("/v1/play/sessions/{}", seat.session_id),
        &seat.key,
        None,
        StatusCode::OK,
    )
    .await
}

async fn ticket(ctl: &Ctl, id: &str, key: &str) -> Ticket {
    ctl.ok::<(), _>(
        Method::GET,
        &format!("/v1/play/tickets/{id}"),
        key,
        None,
        StatusCode::OK,
    )
    .await
}

/// Follows a ticket as the SDK does until its promotion is claimed.
async fn claimed(ctl: &Ctl, id: &str, key: &str) -> Seat {
    let mut seat = None;
    assert!(
        wait_until(Duration::from_secs(60), async || {
            let t = ticket(ctl, id, key).await;
            if let (TicketState::Claimed, Some(s)) = (t.state, t.session_id) {
                let key = play_key(ctl, Held::Session(&s)).await;
                let board_id = view(
                    ctl,
                    &Seat {
                        session_id: s.clone(),
                        key: key.clone(),
                        board_id: String::new(),
                    },
                )
                .await
                .session
                .board_id;
                seat = Some(Seat {
                    session_id: s,
                    key,
                    board_id,
                });
            }
            seat.is_some()
        })
        .await,
        "ticket {id} was promoted and claimed"
    );
    seat.unwrap()
}

/// Player `i` acquires through `link` and, if queued, waits in line until served.
async fn seat(ctl: &Ctl, link: &Link, i: usize) -> Seat {
    match ctl::acquire(ctl, &by_link(link, i), None).await {
        AcquireResponse::Assigned {
            session_id,
            board_id,
            play_key,
            ..
        } => Seat {
            session_id,
            key: play_key,
            board_id,
        },
        AcquireResponse::Queued {
            ticket_id,
            play_key,
            ..
        } => claimed(ctl, &ticket_id, &play_key).await,
    }
}

fn by_link(link: &Link, i: usize) -> AcquireRequest {
    AcquireRequest {
        link: Some(link.code.clone()),
        device_id: Some(ctl::device(i)),
        ..Default::default()
    }
}

/// Connects to a seat once it is ready; the peer has decoded a picture.
async fn connect(ctl: &Ctl, seat: &Seat) -> Peer {
    connect_from(ctl, seat, std::net::Ipv4Addr::LOCALHOST.into()).await
}

/// [`connect`] with the player's media socket at `ip`.
async fn connect_from(ctl: &Ctl, seat: &Seat, ip: std::net::IpAddr) -> Peer {
    let mut info = None;
    assert!(
        wait_until(Duration::from_secs(60), async || {
            let s = view(ctl, seat).await;
            if matches!(s.session.state, SessionState::Ready | SessionState::Playing) {
                info = s.connect;
            }
            info.is_some()
        })
        .await,
        "session {} became ready",
        seat.session_id
    );
    let info = info.unwrap();
    let mut p = Peer::connect_from(&info.signaling_url, &info.token, PeerRole::Player, ip)
        .await
        .expect("admitted");
    assert!(
        p.run_until(Duration::from_secs(60), |p| taps(p).is_some())
            .await,
        "a picture with the tap counter ({} frames decoded)",
        p.decoded
    );
    p
}

async fn leave(ctl: &Ctl, seat: &Seat) {
    let _: Session = ctl
        .ok::<(), _>(
            Method::DELETE,
            &format!("/v1/play/sessions/{}", seat.session_id),
            &seat.key,
            None,
            StatusCode::OK,
        )
        .await;
}

async fn archives(ctl: &Ctl, game_id: &str, token: &str) -> Vec<Archive> {
    ctl.list_all(&format!("/v1/archives?game_id={game_id}"), token)
        .await
}

/// The stored bytes of an archive hash to what its row says.
fn stored_hash(ctl: &Ctl, archive: &Archive) -> String {
    let path = ctl
        .config
        .package_store
        .join("archives")
        .join(format!("{}.bin", archive.id));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    hex::encode(sha2::Sha256::digest(&bytes))
}

async fn ledger_rows(ctl: &Ctl, session: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT end_reason FROM usage_ledger WHERE session_id = $1")
        .bind(session)
        .fetch_all(&ctl.state().db.pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_agent_ends_its_play_once_and_keeps_the_last_archive() {
    let _turn = ONE_DRILL.lock().await;
    support::init_logs();
    let stack::World {
        ctl,
        region,
        token,
        tenant,
        tenant_token: t,
        game,
        version,
        link,
        ..
    } = stack::world(backend(), false, |c| {
        c.agent_heartbeat_secs = HEARTBEAT_SECS;
        c.agent_lease_secs = LEASE_SECS;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut procs = vec![
        BoardProcess::start(&ctl, &token, "RK-KILL-A", dir.path()),
        BoardProcess::start(&ctl, &token, "RK-KILL-B", dir.path()),
    ];
    assert!(
        wait_until(Duration::from_secs(120), async || {
            let d: Deployment = ctl
                .get(&format!("/v1/versions/{}/deployment", version.id), &t)
                .await;
            let bs = boards(&ctl).await;
            d.rooms
                .iter()
                .all(|r| r.state == DeploymentRoomState::Ready)
                && bs.len() == 2
                && bs.iter().all(|b| {
                    b.agent_state == AgentState::Online
                        && b.telemetry.as_ref().is_some_and(|t| t.instances_warm == 1)
                })
        })
        .await,
        "both board processes enrolled, synced and warm"
    );
    ctl.order(&tenant.id, &region.id, 2).await;

    // Player 1 plays, taps once and leaves: the archive is saved.
    let first = seat(&ctl, &link, 1).await;
    let mut p = connect(&ctl, &first).await;
    assert_eq!(taps(&p), Some(0), "a fresh player");
    tap(&mut p, 1).await;
    leave(&ctl, &first).await;
    let mut saved = None;
    assert!(
        wait_until(Duration::from_secs(30), async || {
            saved = archives(&ctl, &game.id, &t)
                .await
                .into_iter()
                .find(|a| a.session_id == first.session_id);
            saved.is_some()
        })
        .await,
        "the first play's archive was saved"
    );
    let saved = saved.unwrap();
    assert_eq!(stored_hash(&ctl, &saved), saved.sha256);
    drop(p);

    // Player 1 plays again (the archive restored: one tap), taps once more — not saved yet;
    // player 2 takes the other board; player 3 waits in line (the order holds two plays).
    let again = seat(&ctl, &link, 1).await;
    let mut p = connect(&ctl, &again).await;
    assert_eq!(taps(&p), Some(1), "the archive was restored");
    tap(&mut p, 2).await;
    let second = seat(&ctl, &link, 2).await;
    assert_ne!(second.board_id, again.board_id, "one slot per board");
    let AcquireResponse::Queued {
        ticket_id,
        play_key: ticket_key,
        ..
    } = ctl::acquire(&ctl, &by_link(&link, 3), None).await
    else {
        panic!("the order is full: player 3 waits in line")
    };

    // kill -9 the agent under player 1's play.
    let bs = boards(&ctl).await;
    let serial_of = |id: &str| {
        bs.iter()
            .find(|b| b.id == id)
            .map(|b| b.serial.clone())
            .unwrap()
    };
    let dead_serial = serial_of(&again.board_id);
    let dead = procs.iter_mut().find(|b| b.serial == dead_serial).unwrap();
    let killed_at = Instant::now();
    dead.process.kill9();

    // Within the lease (and a sweep or two), the play ends BOARD_LOST and the board is LOST.
    let mut ended = None;
    assert!(
        wait_until(
            Duration::from_secs(u64::from(LEASE_SECS) + 10),
            async || {
                let s = view(&ctl, &again).await.session;
                if s.state == SessionState::Ended {
                    ended = Some(s.end_reason);
                }
                ended.is_some()
            }
        )
        .await,
        "the dead board's play ended"
    );
    let lost_after = killed_at.elapsed();
    assert_eq!(ended, Some(Some(EndReason::BoardLost)));
    let b = boards(&ctl).await;
    let dead_board = b.iter().find(|b| b.id == again.board_id).unwrap();
    assert_eq!(dead_board.agent_state, AgentState::Lost);
    println!(
        "kill drill: the play ended BOARD_LOST {lost_after:?} after kill -9 (lease {LEASE_SECS} s)"
    );

    // Player 3, still polling, is placed on the board that is left once player 2 leaves —
    // never on the dead one (the order's place that player 1 freed is not a slot).
    let waiting = ticket(&ctl, &ticket_id, &ticket_key).await;
    assert_eq!(waiting.state, TicketState::Waiting, "no slot is free yet");
    leave(&ctl, &second).await;
    let third = claimed(&ctl, &ticket_id, &ticket_key).await;
    assert_eq!(third.board_id, second.board_id, "placed on the live board");
    let p3 = connect(&ctl, &third).await;
    drop(p3);

    // The ledger closed the killed play exactly once.
    assert_eq!(ledger_rows(&ctl, &again.session_id).await, ["BOARD_LOST"]);

    // The last archive is the first play's, intact; the next play restores it.
    let all = archives(&ctl, &game.id, &t).await;
    assert!(
        all.iter().all(|a| a.session_id != again.session_id),
        "the killed play saved nothing: {all:?}"
    );
    let kept = all.iter().find(|a| a.id == saved.id).expect("kept");
    assert_eq!(kept.sha256, saved.sha256);
    assert_eq!(stored_hash(&ctl, kept), saved.sha256);
    leave(&ctl, &third).await;
    let last = seat(&ctl, &link, 1).await;
    assert_ne!(last.board_id, again.board_id, "never the dead board");
    let p = connect(&ctl, &last).await;
    assert_eq!(taps(&p), Some(1), "the last saved archive was restored");
    drop(p);
    leave(&ctl, &last).await;
    drop(procs);
    ctl.stop().await;
}

/// The real `array-controller` binary on `config`'s address, data and database.
fn controller_process(config: &array_controller::config::Config) -> Process {
    let mut cmd = Command::new(support::controller_binary());
    cmd.arg("--listen")
        .arg(config.listen.to_string())
        .arg("--data-dir")
        .arg(&config.data_dir)
        .arg("--database-url")
        .arg(&config.database_url)
        .arg("--package-store")
        .arg(&config.package_store)
        .args(["--rate-limit-ip", &config.rate_limit_ip.to_string()])
        .args(["--rate-limit-key", &config.rate_limit_key.to_string()])
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "array_controller=warn".into()),
        );
    Process::spawn("array-controller", cmd)
}

/// Drives `p` (a peer that is not driven stops answering ICE) until `cond` holds.
async fn driving(p: &mut Peer, timeout: Duration, mut cond: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond().await {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        p.run_until(Duration::from_millis(200), |_| false).await;
    }
}

/// Whether the controller answers (false while it is down).
async fn answers(ctl: &Ctl) -> bool {
    ctl.http
        .get(format!("{}/readyz", ctl.url))
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_controller_comes_back_to_the_same_plays_and_line() {
    let _turn = ONE_DRILL.lock().await;
    // Built before any play: a build during one would leave the peer undriven.
    support::controller_binary();
    let mut st = stack::stack(stack::Options {
        backend: backend(),
        ..Default::default()
    })
    .await;
    let s1 = st.acquire(1).await;
    let first = Seat {
        key: st.key(Held::Session(&s1)).await,
        board_id: st.board_id.clone(),
        session_id: s1,
    };
    let mut p = connect(&st.ctl, &first).await;
    tap(&mut p, 1).await;
    let AcquireResponse::Queued {
        ticket_id,
        play_key: ticket_key,
        ..
    } = ctl::acquire(&st.ctl, &by_link(&st.link, 2), None).await
    else {
        panic!("the board's one slot is taken: player 2 waits in line")
    };

    // The controller becomes a process of its own (same address, data and database).
    st.ctl.running.take().expect("running").stop().await;
    let mut controller = controller_process(&st.ctl.config);
    let ctl = &st.ctl;
    let board_online = async || {
        let bs: Vec<Board> = ctl.list_all("/v1/boards", &ctl.op).await;
        bs.iter()
            .any(|b| b.id == first.board_id && b.agent_state == AgentState::Online)
    };
    assert!(
        driving(&mut p, Duration::from_secs(60), async || {
            answers(ctl).await && board_online().await
        })
        .await,
        "the agent reconnected to the controller process"
    );

    // kill -9 mid-play: the stream goes on without it.
    controller.kill9();
    let before = p.decoded;
    assert!(
        p.run_until(Duration::from_secs(30), |p| p.decoded >= before + 60)
            .await,
        "the video went on while the controller was dead ({} new frames)",
        p.decoded - before
    );
    assert!(!answers(ctl).await, "the controller is dead");

    // Started again: the agent reconnects and reconciles; the play is still playing, the
    // ticket still waits (its player kept polling — here, from now on).
    let _controller = controller_process(&st.ctl.config);
    assert!(
        driving(&mut p, Duration::from_secs(60), async || {
            answers(ctl).await
                && board_online().await
                && view(ctl, &first).await.session.state == SessionState::Playing
                && ticket(ctl, &ticket_id, &ticket_key).await.state == TicketState::Waiting
        })
        .await,
        "after the restart: board online, play playing, ticket waiting"
    );
    let before = p.decoded;
    assert!(
        p.run_until(Duration::from_secs(20), |p| p.decoded >= before + 30)
            .await
    );
    assert_eq!(taps(&p), Some(1), "the same instance, its state untouched");
    // No instance was handed out twice: the board runs exactly this play, and the controller
    // counts one live play.
    let slots = st.agent.agent.pool.slots();
    let busy: Vec<&str> = slots
        .iter()
        .filter_map(|s| s.session_id.as_deref())
        .collect();
    assert_eq!(busy, [first.session_id.as_str()]);
    let online: Vec<OnlineEntry> = ctl.list_all("/v1/online", &st.tenant_token).await;
    assert_eq!(
        online
            .iter()
            .map(|e| e.session_id.as_str())
            .collect::<Vec<_>>(),
        [first.session_id.as_str()]
    );

    // Player 1 leaves: the archive is saved and the waiting ticket is served on the board.
    leave(ctl, &first).await;
    drop(p);
    let mut second = None;
    assert!(
        wait_until(Duration::from_secs(60), async || {
            let t = ticket(ctl, &ticket_id, &ticket_key).await;
            second = t.session_id.filter(|_| t.state == TicketState::Claimed);
            second.is_some()
        })
        .await,
        "the ticket that waited through the restart was served"
    );
    assert!(
        wait_until(Duration::from_secs(30), async || {
            archives(ctl, &st.game.id, &st.tenant_token)
                .await
                .iter()
                .any(|a| a.session_id == first.session_id)
        })
        .await,
        "the play's archive was saved"
    );
    drop(_controller);
    st.stop().await;
}

/// A network namespace for one board, made and removed by this test: the board reaches the
/// controller over one veth pair (`10.77.N.0/30`) and its players reach it over another
/// (`10.78.N.0/30`), so the controller's link can be cut alone.
struct Netns {
    ns: Namespace,
    /// The host's end of the controller link (the controller listens here).
    controller_side: String,
    /// The board's address on the player link.
    player_side: String,
    /// The players' (the host's) address on the player link.
    player_host: std::net::IpAddr,
    /// The host-side interface of the controller link (cut by setting it down).
    control_if: String,
}

impl Netns {
    fn create() -> Netns {
        let n = std::process::id() % 250 + 1;
        let mut ns = Namespace::add(&format!("playrack-drill-{n}"));
        for (kind, net) in [("c", 77), ("p", 78)] {
            ns.veth(
                &format!("prk{kind}{n}h"),
                &format!("prk{kind}{n}n"),
                &format!("10.{net}.{n}.1/30"),
                &format!("10.{net}.{n}.2/30"),
            );
        }
        Netns {
            ns,
            controller_side: format!("10.77.{n}.1"),
            player_side: format!("10.78.{n}.2"),
            player_host: format!("10.78.{n}.1").parse().unwrap(),
            control_if: format!("prkc{n}h"),
        }
    }

    /// Cuts (false) or restores (true) the controller link: no reset, no error — the packets
    /// just stop arriving.
    fn control_link(&self, up: bool) {
        ip(&[
            "link",
            "set",
            &self.control_if,
            if up { "up" } else { "down" },
        ]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_board_cut_off_from_the_controller_for_30_s_keeps_streaming_and_reconciles() {
    let _turn = ONE_DRILL.lock().await;
    support::init_logs();
    let net = Netns::create();
    // A lease longer than the partition: a board silent for less than the lease keeps its
    // plays (the kill drill above shows what happens past it).
    const LEASE: u32 = 45;
    let stack::World {
        ctl,
        region,
        token,
        tenant,
        tenant_token: t,
        version,
        link,
        ..
    } = stack::world(backend(), false, |c| {
        c.listen = format!("{}:0", net.controller_side).parse().unwrap();
        c.agent_heartbeat_secs = 2;
        c.agent_lease_secs = LEASE;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let board = BoardProcess::start_with(
        &ctl,
        &token,
        "RK-PART-A",
        dir.path(),
        BoardOptions {
            netns: Some((net.ns.name.clone(), net.player_side.clone())),
            ..Default::default()
        },
    );
    assert!(
        wait_until(Duration::from_secs(120), async || {
            let d: Deployment = ctl
                .get(&format!("/v1/versions/{}/deployment", version.id), &t)
                .await;
            let bs = boards(&ctl).await;
            d.rooms
                .iter()
                .all(|r| r.state == DeploymentRoomState::Ready)
                && bs.iter().any(|b| {
                    b.agent_state == AgentState::Online
                        && b.telemetry.as_ref().is_some_and(|t| t.instances_warm == 1)
                })
        })
        .await,
        "the board in its namespace enrolled, synced and warm"
    );
    ctl.order(&tenant.id, &region.id, 1).await;

    let first = seat(&ctl, &link, 1).await;
    let mut p = connect_from(&ctl, &first, net.player_host).await;
    tap(&mut p, 1).await;
    let AcquireResponse::Queued {
        ticket_id,
        play_key: ticket_key,
        ..
    } = ctl::acquire(&ctl, &by_link(&link, 2), None).await
    else {
        panic!("the board's one slot is taken: player 2 waits in line")
    };

    // 30 s cut off from the controller: frames arrive in every 5-s window.
    net.control_link(false);
    let cut = Instant::now();
    let mut windows = Vec::new();
    while cut.elapsed() < Duration::from_secs(30) {
        let before = p.decoded;
        p.run_until(Duration::from_secs(5), |_| false).await;
        windows.push(p.decoded - before);
        // The player keeps polling their place in line, as the SDK does.
        let t = ticket(&ctl, &ticket_id, &ticket_key).await;
        assert_eq!(t.state, TicketState::Waiting);
    }
    assert!(
        windows.iter().all(|&n| n > 0),
        "frames decoded in each 5-s window of the partition: {windows:?}"
    );
    let silent: Board = ctl
        .get(&format!("/v1/boards/{}", first.board_id), &ctl.op)
        .await;
    let heard = silent.last_seen_at.map(|t| t.millis());
    assert!(
        heard.is_some_and(|t| array_controller::now().millis() - t >= 25_000),
        "the controller heard nothing for the partition: last seen {heard:?}"
    );
    net.control_link(true);

    // The link is back: the board is heard again, its play is still the one play it runs.
    let restored = Instant::now();
    assert!(
        driving(&mut p, Duration::from_secs(60), async || {
            let b: Board = ctl
                .get(&format!("/v1/boards/{}", first.board_id), &ctl.op)
                .await;
            b.agent_state == AgentState::Online
                && b.last_seen_at
                    .is_some_and(|t| array_controller::now().millis() - t.millis() < 5_000)
                && view(&ctl, &first).await.session.state == SessionState::Playing
                && ticket(&ctl, &ticket_id, &ticket_key).await.state == TicketState::Waiting
        })
        .await,
        "after the partition: board heard, play playing, ticket waiting"
    );
    println!(
        "partition drill: frames per 5-s window while cut off {windows:?}; reconciled {:?} after the link came back",
        restored.elapsed()
    );
    assert_eq!(taps(&p), Some(1), "the same instance, its state untouched");
    let online: Vec<OnlineEntry> = ctl.list_all("/v1/online", &t).await;
    assert_eq!(
        online
            .iter()
            .map(|e| e.session_id.as_str())
            .collect::<Vec<_>>(),
        [first.session_id.as_str()]
    );
    let running = |b: &Board| b.telemetry.as_ref().map(|t| t.instances_running);
    let b: Board = ctl
        .get(&format!("/v1/boards/{}", first.board_id), &ctl.op)
        .await;
    assert_eq!(running(&b), Some(1), "one instance runs: the play's");

    // The play ends; the waiting player gets the instance, once.
    leave(&ctl, &first).await;
    drop(p);
    let second = claimed(&ctl, &ticket_id, &ticket_key).await;
    assert_eq!(second.board_id, first.board_id);
    let p2 = connect_from(&ctl, &second, net.player_host).await;
    assert_eq!(taps(&p2), Some(0), "a fresh instance for a new player");
    drop(p2);
    leave(&ctl, &second).await;
    drop(board);
    ctl.stop().await;
}

/// Latencies in ms: (p50, p99, max).
fn spread(ms: &mut [f64]) -> (f64, f64, f64) {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.99), at(1.0))
}

/// One acquire of a new player (queued: the board is full) and its cancel; the acquire's ms.
async fn queued_acquire(ctl: &Ctl, link: &Link, i: usize) -> f64 {
    let started = Instant::now();
    let answer = ctl::acquire(ctl, &by_link(link, i), None).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let AcquireResponse::Queued {
        ticket_id,
        play_key,
        ..
    } = answer
    else {
        panic!("the board is full: a new player waits in line")
    };
    let resp = ctl
        .http
        .delete(format!("{}/v1/play/tickets/{ticket_id}", ctl.url))
        .bearer_auth(&play_key)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "cancel: {}", resp.status());
    ms
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_of_logins_signaling_sockets_and_input_leave_plays_and_acquires_alone() {
    let _turn = ONE_DRILL.lock().await;
    const FLOOD: Duration = Duration::from_secs(10);
    let st = stack::stack(stack::Options {
        backend: backend(),
        slots: 2,
        // Half the sign-ins come "through a proxy" from many addresses (a botnet's spread).
        controller: |c| c.trusted_proxies = vec![std::net::Ipv4Addr::LOCALHOST.into()],
        ..Default::default()
    })
    .await;
    let ctl = &st.ctl;
    // Player A plays and is watched; player B will flood input on their own play.
    let a = st.acquire(1).await;
    let a = Seat {
        key: st.key(Held::Session(&a)).await,
        board_id: st.board_id.clone(),
        session_id: a,
    };
    let mut pa = connect(ctl, &a).await;
    let signaling_url = view(ctl, &a).await.connect.unwrap().signaling_url;
    let b = st.acquire(2).await;
    let b = Seat {
        key: st.key(Held::Session(&b)).await,
        board_id: st.board_id.clone(),
        session_id: b,
    };
    let mut pb = connect(ctl, &b).await;

    // Baseline, in this run: another player's acquire (queued, then cancelled), A's frames.
    let mut baseline = Vec::new();
    for i in 0..10 {
        baseline.push(queued_acquire(ctl, &st.link, 100 + i).await);
        pa.run_until(Duration::from_millis(100), |_| false).await;
        pb.run_until(Duration::from_millis(1), |_| false).await;
    }
    let (base_p50, base_p99, _) = spread(&mut baseline);

    // The floods, all at once for 10 s.
    let stop = Instant::now() + FLOOD;
    // 1. 100 sign-ins a second, each for another account: half from one address, half from
    //    addresses all different.
    let logins = {
        let (http, url) = (ctl.http.clone(), ctl.url.clone());
        tokio::spawn(async move {
            let mut sent = tokio::task::JoinSet::new();
            let mut tick = tokio::time::interval(Duration::from_millis(10));
            let mut i = 0;
            while Instant::now() < stop {
                tick.tick().await;
                i += 1;
                let (http, url) = (http.clone(), url.clone());
                sent.spawn(async move {
                    let body = serde_json::json!({"email": format!("flood{i}@example.com"), "password": "wrong-password"});
                    let mut req = http.post(format!("{url}/v1/auth/login")).json(&body);
                    if i % 2 == 0 {
                        let from = format!("198.18.{}.{}", (i / 250) % 250, i % 250 + 1);
                        req = req.header("x-forwarded-for", from);
                    }
                    match req.send().await {
                        Ok(r) => r.status().as_u16(),
                        Err(_) => 0,
                    }
                });
            }
            let mut statuses = std::collections::BTreeMap::<u16, u32>::new();
            while let Some(s) = sent.join_next().await {
                *statuses.entry(s.unwrap()).or_default() += 1;
            }
            statuses
        })
    };
    // 2. 500 signaling sockets that never say hello.
    let sockets = {
        let url = signaling_url.clone();
        tokio::spawn(async move {
            // All at once (well inside the agent's 10-s hello timeout, which would free
            // turns and blur the count).
            let mut dialling = tokio::task::JoinSet::new();
            for _ in 0..500 {
                let url = url.clone();
                dialling.spawn(async move { tokio_tungstenite::connect_async(&url).await });
            }
            let (mut open, mut refused) = (Vec::new(), 0);
            while let Some(r) = dialling.join_next().await {
                match r.unwrap() {
                    Ok((ws, _)) => open.push(ws),
                    Err(_) => refused += 1,
                }
            }
            (open, refused)
        })
    };
    // 3. B sends text input as fast as the channel takes it; A's frames are counted per 2 s;
    //    another player acquires every 250 ms.
    let flood_b = tokio::spawn(async move {
        let mut sent = 0u64;
        while Instant::now() < stop {
            for _ in 0..50 {
                if pb.send_input(r#"{"t":"text","text":"flood"}"#) {
                    sent += 1;
                }
            }
            pb.run_until(Duration::from_millis(2), |_| false).await;
        }
        (pb, sent)
    });
    let mut windows = Vec::new();
    let mut during = Vec::new();
    let mut window_start = (Instant::now(), pa.decoded);
    let mut i = 200;
    while Instant::now() < stop {
        let t = Instant::now();
        let acquired = queued_acquire(ctl, &st.link, i);
        tokio::pin!(acquired);
        let ms = loop {
            tokio::select! {
                ms = &mut acquired => break ms,
                _ = pa.run_until(Duration::from_millis(20), |_| false) => {}
            }
        };
        during.push(ms);
        i += 1;
        if window_start.0.elapsed() >= Duration::from_secs(2) {
            windows.push(pa.decoded - window_start.1);
            window_start = (Instant::now(), pa.decoded);
        }
        let rest = Duration::from_millis(250).saturating_sub(t.elapsed());
        pa.run_until(rest, |_| false).await;
    }
    let statuses = logins.await.unwrap();
    let (open, refused) = sockets.await.unwrap();
    let (mut pb, sent) = flood_b.await.unwrap();
    let (p50, p99, max) = spread(&mut during);
    println!(
        "flood drill: acquire p50/p99 {p50:.0}/{p99:.0} ms (max {max:.0}) under the floods vs {base_p50:.0}/{base_p99:.0} ms before; \
         A's frames per 2 s {windows:?}; sign-ins by status {statuses:?}; signaling sockets {} open, {refused} refused; {sent} text inputs sent by B",
        open.len()
    );

    // The play went on, and so did the acquires.
    assert!(
        windows.len() >= 3 && windows.iter().all(|&n| n >= 10),
        "A's stream stalled under the floods: {windows:?}"
    );
    assert!(
        max < 3_000.0,
        "an acquire took {max:.0} ms under the floods (before: p99 {base_p99:.0} ms)"
    );
    // Sign-ins were refused (wrong password, throttled, or busy), never failed.
    assert!(
        statuses.keys().all(|s| [401, 429, 503].contains(s)),
        "sign-in answers: {statuses:?}"
    );
    // The agent holds a bounded number of sockets that have not said hello.
    assert!(
        open.len() <= 64 && refused >= 436,
        "{} signaling sockets held open without a hello",
        open.len()
    );
    drop(open);
    // B's flood was cut down to size, and B's play goes on.
    assert!(
        pb.run_until(Duration::from_secs(10), |p| p.signals.iter().any(
            |s| matches!(s, playrack_wire::signaling::AgentSignal::Error { code, .. } if code == "INPUT_RATE_LIMITED")
        ))
        .await,
        "B's flood was refused"
    );
    let before = pb.decoded;
    assert!(
        pb.run_until(Duration::from_secs(10), |p| p.decoded >= before + 10)
            .await
    );
    // The board stayed online (its heartbeats went through the sign-in flood), and a new
    // peer is let in as soon as the flood is over.
    let boards: Vec<Board> = ctl.list_all("/v1/boards", &ctl.op).await;
    assert!(boards.iter().all(|b| b.agent_state == AgentState::Online));
    let spectate: ConnectInfo = ctl
        .ok::<(), _>(
            Method::POST,
            &format!("/v1/sessions/{}/spectate", a.session_id),
            &st.tenant_token,
            None,
            StatusCode::OK,
        )
        .await;
    let mut s = Peer::connect(
        &spectate.signaling_url,
        &spectate.token,
        PeerRole::Spectator,
    )
    .await
    .expect("a spectator is let in after the flood");
    assert!(
        s.run_until(Duration::from_secs(30), |s| s.decoded >= 5)
            .await
    );
    drop((pa, pb, s));
    st.stop().await;
}
