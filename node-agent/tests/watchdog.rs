//! The watchdog end to end: a real controller, the real agent with a virtual device, and a
//! native WebRTC player. The game is sent away from the screen (HOME), crashed (`am crash`, as
//! Android's shell does it) and made to stop taking input (the virtual device's hang switch,
//! after which Android's input dispatching timeout declares it not responding) and its picture
//! is frozen (the virtual device's video stall switch: no frame comes any more); each time the
//! agent notices on its own: the game comes back to the screen, or the play ends with
//! `APP_CRASHED` / `APP_NOT_RESPONDING`, the player is told why, the archive is saved and the
//! instance goes back to the warm pool.

mod support;

#[allow(unused_imports)]
use playrack_test_support as ctl;
#[path = "support/peer.rs"]
mod peer;
#[path = "support/stack.rs"]
mod stack;

use std::time::Duration;

use peer::Peer;
use playrack_wire::api::*;
use playrack_wire::signaling::{AgentSignal, PeerRole};
use stack::{Options, Stack, stack};
use support::wait_until;

/// A started play: its session id, the player's peer, the instance's adb serial and the
/// game's package.
async fn play(st: &Stack, player: usize) -> (String, Peer, String, String) {
    let sid = st.acquire(player).await;
    let info = st.connect_info(&sid).await;
    let mut p = Peer::connect(&info.signaling_url, &info.token, PeerRole::Player)
        .await
        .expect("admitted");
    assert!(
        p.run_until(Duration::from_secs(60), |p| p.decoded >= 10
            && p.channel_open)
            .await,
        "the play streams ({} frames)",
        p.decoded
    );
    let plays = st.agent.agent.plays().lock().await;
    let (serial, package) = (plays[&sid].serial.clone(), plays[&sid].package_name.clone());
    drop(plays);
    (sid, p, serial, package)
}

async fn shell(st: &Stack, serial: &str, cmd: &str) -> String {
    st.agent.agent.adb.shell(serial, cmd).await.unwrap().stdout
}

fn told(p: &Peer, reason: &str) -> bool {
    p.signals
        .iter()
        .any(|s| matches!(s, AgentSignal::Ended { reason: r, .. } if r == reason))
}

/// The play ended with `reason` everywhere: the controller, the player's peer, the archive
/// (saved by the end), and the instance is back in the warm pool.
async fn ended_with(
    st: &Stack,
    sid: &str,
    p: &mut Peer,
    reason: EndReason,
    archives_before: usize,
) {
    let want = reason.as_str();
    assert!(
        p.run_until(Duration::from_secs(30), |p| told(p, want))
            .await,
        "the player is told {want}: {:?}",
        p.signals
            .iter()
            .filter(|s| !matches!(s, AgentSignal::Stats { .. }))
            .collect::<Vec<_>>()
    );
    let s = st.session(sid).await.session;
    assert_eq!(
        (s.state, s.end_reason),
        (SessionState::Ended, Some(reason)),
        "{sid}"
    );
    assert!(
        wait_until(Duration::from_secs(60), async || archives(st).await
            > archives_before)
        .await,
        "the archive of the play ended by {want} was saved"
    );
    assert!(
        wait_until(Duration::from_secs(60), async || st.all_recycled().await).await,
        "the instance is recycled: {:?}",
        st.agent.agent.pool.slots()
    );
}

async fn archives(st: &Stack) -> usize {
    st.archives().await.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_game_that_leaves_crashes_or_hangs_is_brought_back_or_ended_with_its_reason() {
    let st = stack(Options::default()).await;

    // HOME (from the device, where a player cannot send it) puts the launcher up; the
    // watchdog brings the game back and the play goes on.
    let (sid, mut p, serial, package) = play(&st, 1).await;
    shell(&st, &serial, "input keyevent KEYCODE_HOME").await;
    let focus = |w: String| w.contains(&format!("mCurrentFocus=Window{{1 u0 {package}/"));
    assert!(
        wait_until(Duration::from_secs(20), async || {
            focus(shell(&st, &serial, "dumpsys window").await)
        })
        .await,
        "the game is back on the screen: {}",
        shell(&st, &serial, "dumpsys window").await
    );
    let before = p.decoded;
    assert!(
        p.run_until(Duration::from_secs(20), |p| p.decoded >= before + 30)
            .await,
        "the stream goes on after the relaunch"
    );
    assert_eq!(st.session(&sid).await.session.state, SessionState::Playing);

    // The game crashes: the play ends APP_CRASHED.
    let saved = archives(&st).await;
    assert_eq!(
        shell(&st, &serial, &format!("am crash {package}")).await,
        ""
    );
    ended_with(&st, &sid, &mut p, EndReason::AppCrashed, saved).await;

    // The next play's game stops taking input: past the input dispatching timeout Android
    // declares it not responding, and the play ends APP_NOT_RESPONDING.
    let (sid, mut p, serial, _) = play(&st, 2).await;
    shell(&st, &serial, "setprop debug.playrack.game.hang 1").await;
    for phase in ["down", "up"] {
        assert!(p.send_input(&format!(
            r#"{{"t":"touch","phase":"{phase}","pointer":0,"x":0.5,"y":0.75}}"#
        )));
    }
    let saved = archives(&st).await;
    ended_with(&st, &sid, &mut p, EndReason::AppNotResponding, saved).await;

    // The next play's picture freezes (the capture sends no frame any more): within the
    // watchdog's window the play ends APP_NOT_RESPONDING.
    let (sid, mut p, serial, _) = play(&st, 3).await;
    shell(&st, &serial, "setprop debug.playrack.video.stall 1").await;
    let frozen_at = std::time::Instant::now();
    let saved = archives(&st).await;
    ended_with(&st, &sid, &mut p, EndReason::AppNotResponding, saved).await;
    println!(
        "watchdog: a frozen picture ended its play after {:?} (told, archived, recycled)",
        frozen_at.elapsed()
    );
    st.stop().await;
}
