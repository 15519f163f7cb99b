//! The warm pool per game, end to end: a real controller sizes it from the plays started,
//! the real agent primes a blank instance with the game (installed, started up to its first
//! frame), the controller learns it from the board, and the next play runs on that very
//! instance and process — nothing installed or started for it — and streams. Once nobody has
//! started the game for a window, the board goes back to blank instances.

use playrack_test_support as ctl;
#[path = "support/peer.rs"]
mod peer;
#[path = "support/stack.rs"]
mod stack;
mod support;

use std::time::Duration;

use playrack_wire::agent::InstanceState;
use playrack_wire::api::BoardInstance;
use playrack_wire::signaling::PeerRole;

use peer::Peer;
use support::wait_until;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_played_game_is_kept_ready_and_the_next_play_runs_on_it_as_started() {
    let st = stack::stack(stack::Options {
        slots: 2,
        controller: |c| c.warm_games_window_secs = 20,
        ..Default::default()
    })
    .await;
    let agent = st.agent.agent.clone();
    let version = st.version.id.clone();
    let package = st.version.apk.as_ref().expect("parsed").package.clone();
    let instances = async || -> Vec<BoardInstance> {
        st.ctl
            .get(&format!("/v1/boards/{}/instances", st.board_id), &st.ctl.op)
            .await
    };
    // Nobody has played yet: blank instances only.
    assert!(agent.pool.games().is_empty());
    assert!(
        instances()
            .await
            .iter()
            .all(|i| i.primed_version_id.is_none())
    );

    // A first play, on a blank instance (installed and started for it).
    let sid = st.acquire(1).await;
    let info = st.connect_info(&sid).await;
    let mut p = Peer::connect(&info.signaling_url, &info.token, PeerRole::Player)
        .await
        .expect("signaling");
    assert!(
        p.run_until(Duration::from_secs(60), |p| p.decoded >= 10)
            .await,
        "the first play streams"
    );

    // The controller saw the game started: the board is told to keep one ready, primes a
    // blank instance with it, and the controller's instance list says so.
    let mut ready = None;
    assert!(
        wait_until(Duration::from_secs(60), async || {
            ready =
                agent.pool.slots().into_iter().find(|s| {
                    s.state == InstanceState::Warm && s.primed.as_deref() == Some(&version)
                });
            ready.is_some()
                && instances().await.iter().any(|i| {
                    i.state == InstanceState::Warm
                        && i.primed_version_id.as_deref() == Some(&version)
                })
        })
        .await,
        "an instance primed with the game: {:?} / {:?}",
        agent.pool.slots(),
        agent.pool.games()
    );
    let games = agent.pool.games();
    assert_eq!(games.len(), 1, "{games:?}");
    assert_eq!(
        (games[0].version_id.as_str(), games[0].package_name.as_str()),
        (version.as_str(), package.as_str())
    );
    // One play in a 20-s window: 0.05/s × a 30-s refill × 1.5 → 3, as many as the board's
    // two slots allow.
    assert_eq!(games[0].count, 2, "{games:?}");
    assert_eq!(games[0].package_sha256, st.version.sha256.clone().unwrap());
    let ready = ready.unwrap();
    let serial = ready.instance.as_ref().unwrap().serial();
    // The game runs in it, started ahead of any player.
    let pid = agent
        .adb
        .shell(&serial, &format!("pidof {package}"))
        .await
        .unwrap();
    let pid = pid.stdout.trim().to_owned();
    assert!(!pid.is_empty(), "the primed game runs");
    let focus = agent
        .adb
        .shell(&serial, "dumpsys window")
        .await
        .unwrap()
        .stdout;
    assert!(
        focus.contains(&format!("mCurrentFocus=Window{{1 u0 {package}/")),
        "{focus}"
    );

    // The next player (another one: no archive to restore) gets that instance, with the game
    // as it was started: the same process, not installed or started again.
    p.bye().await;
    st.leave(&sid).await;
    let sid2 = st.acquire(2).await;
    let info = st.connect_info(&sid2).await;
    let serving = agent
        .pool
        .slots()
        .into_iter()
        .find(|s| s.session_id.as_deref() == Some(&sid2))
        .expect("an instance serves the second play");
    assert_eq!(serving.id, ready.id, "the primed instance serves the play");
    let pid2 = agent
        .adb
        .shell(&serial, &format!("pidof {package}"))
        .await
        .unwrap();
    assert_eq!(pid2.stdout.trim(), pid, "the game was not started again");
    let mut p2 = Peer::connect(&info.signaling_url, &info.token, PeerRole::Player)
        .await
        .expect("signaling");
    assert!(
        p2.run_until(Duration::from_secs(60), |p| p.decoded >= 10)
            .await,
        "the play on the primed instance streams"
    );
    p2.bye().await;
    st.leave(&sid2).await;

    // Nobody starts the game for the window (20 s here): the board holds no game ready.
    assert!(
        wait_until(Duration::from_secs(90), async || {
            agent.pool.games().is_empty()
                && agent.pool.slots().iter().all(|s| s.primed.is_none())
                && instances()
                    .await
                    .iter()
                    .all(|i| i.primed_version_id.is_none())
        })
        .await,
        "the warm pool went back to blank: {:?}",
        agent.pool.slots()
    );
    assert!(
        wait_until(Duration::from_secs(60), async || st.all_recycled().await).await,
        "every instance back in the warm pool"
    );
    st.stop().await;
}
