//! Streaming end to end: a real controller, the real agent with virtual devices, and a native
//! WebRTC client (str0m) that decodes what it receives with openh264.
//!
//! One play walks the whole path: acquire → ready → signaling with the controller-signed token
//! → ≥ 120 decoded H.264 frames → a touch on the DataChannel lights the pixels where it landed
//! → the latency probe flips the probe square and a PLI brings a key frame → Opus packets
//! arrive → the controller sees the play as playing and connected → a spectator
//! gets the same stream and cannot touch → the controller is stopped and the video goes on →
//! the player leaves, the agent saves the archive → the same player's next play shows the
//! restored tap counter. The fault drill runs on both databases with the default lease: the
//! controller stopped for 45 s and (PostgreSQL) the database restarted under a live stream.
//! Across the network: the whole stack over TLS (the board's link on `wss://`, signaling on
//! `wss://`, a test CA), and per-session TURN credentials that Debian's coturn accepts.

mod support;

#[allow(unused_imports)]
use playrack_test_support as ctl;
#[path = "support/peer.rs"]
mod peer;
#[path = "support/stack.rs"]
mod stack;

use std::time::Duration;

use android_injector::game::read_tap_counter;
use peer::Peer;
use playrack_wire::agent::InstanceState;
use playrack_wire::api::*;
use playrack_wire::input::{InputMessage, TouchPhase};
use playrack_wire::signaling::{AgentSignal, PeerRole};
use reqwest::{Method, StatusCode};
use stack::{Options, stack};
use support::wait_until;

/// A point of the 360×640 video in the lower half, where the game draws only background.
const TOUCH: (f32, f32) = (0.5, 0.75);

fn touch_json(phase: &str, x: f32, y: f32) -> String {
    format!(r#"{{"t":"touch","phase":"{phase}","pointer":0,"x":{x},"y":{y}}}"#)
}

fn luma_at(p: &Peer, x: f32, y: f32) -> u8 {
    let pic = p.picture.as_ref().expect("a decoded picture");
    pic.luma().at(
        (x * pic.width as f32) as usize,
        (y * pic.height as f32) as usize,
    )
}

/// Runs `f` while keeping `other` connected (a peer that is not driven stops answering ICE).
async fn while_driving<T>(other: &mut Peer, f: impl std::future::Future<Output = T>) -> T {
    tokio::select! {
        r = f => r,
        _ = other.run_until(Duration::from_secs(3600), |_| false) => unreachable!(),
    }
}

fn taps(p: &Peer) -> Option<u64> {
    p.picture
        .as_ref()
        .and_then(|pic| read_tap_counter(pic.luma()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_play_streams_reacts_to_touch_survives_the_controller_and_restores_its_archive() {
    let mut st = stack(Options::default()).await;
    let sid = st.acquire(1).await;
    let info = st.connect_info(&sid).await;

    // The player connects and decodes ≥ 120 frames of the instance's own H.264.
    let mut p = Peer::connect(&info.signaling_url, &info.token, PeerRole::Player)
        .await
        .expect("admitted");
    assert!(
        p.run_until(Duration::from_secs(60), |p| p.decoded >= 120)
            .await,
        "decoded {} of {} frames ({} key, {} errors)",
        p.decoded,
        p.video_frames,
        p.keyframes,
        p.decode_errors
    );
    let pic = p.picture.as_ref().unwrap();
    assert_eq!((pic.width, pic.height), (360, 640));
    assert!(p.keyframes >= 1, "the stream starts on a key frame");
    assert_eq!(p.decode_errors, 0);
    assert!(p.audio_packets > 0, "Opus packets arrive");
    assert_eq!(
        p.zero_playout_delay_frames, p.video_frames,
        "every frame asks for no playout delay"
    );
    // Every frame says when the device captured it, on this machine's clock, before it
    // arrived (abs-capture-time's NTP time, within the relay clock reading's slack).
    assert_eq!(
        p.captured_frames, p.video_frames,
        "every frame carries its capture time, not after its arrival"
    );
    assert!(
        p.max_capture_to_arrival_ms < 5_000.0,
        "capture to arrival {} ms",
        p.max_capture_to_arrival_ms
    );
    assert_eq!(taps(&p), Some(0), "a fresh player has no taps");

    // The operator's instance list names the play's instance and the encoder it streams with
    // (the virtual device has a hardware one); the board's /metrics counts it.
    let instances: Vec<BoardInstance> = st
        .ctl
        .get(&format!("/v1/boards/{}/instances", st.board_id), &st.ctl.op)
        .await;
    let serving = instances
        .iter()
        .find(|i| i.session_id.as_deref() == Some(sid.as_str()))
        .unwrap_or_else(|| panic!("no instance serves {sid}: {instances:?}"));
    assert_eq!(serving.state, InstanceState::Busy);
    assert_eq!(
        serving.encoder.as_deref(),
        Some(playrack_scrcpy::encoders::HW_AVC)
    );
    assert!(serving.booted_at.is_some());
    let metrics = reqwest::get(format!("http://{}/metrics", st.agent.agent.http_addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = format!(
        "playrack_agent_instances{{state=\"busy\",encoder=\"{}\"}} 1",
        playrack_scrcpy::encoders::HW_AVC
    );
    assert!(metrics.contains(&line), "{metrics}");

    // A touch on the DataChannel lights the pixels where it landed.
    let before = luma_at(&p, TOUCH.0, TOUCH.1);
    assert!(before < 150, "background before the touch: {before}");
    assert!(
        p.run_until(Duration::from_secs(10), |p| p.channel_open)
            .await
    );
    assert!(p.send_input(&touch_json("down", TOUCH.0, TOUCH.1)));
    assert!(p.send_input(&touch_json("up", TOUCH.0, TOUCH.1)));
    assert!(
        p.run_until(Duration::from_secs(10), |p| luma_at(p, TOUCH.0, TOUCH.1)
            >= 200)
            .await,
        "the touch mark never showed (luma {})",
        luma_at(&p, TOUCH.0, TOUCH.1)
    );
    assert!(
        p.run_until(Duration::from_secs(10), |p| taps(p) == Some(1))
            .await,
        "the tap counter shows 1"
    );

    // The latency probe flips the game's probe square on the next frame; back and home light
    // their indicators; a PLI brings a fresh key frame (RESET_VIDEO on the device).
    let lit = |p: &Peer| {
        p.picture
            .as_ref()
            .is_some_and(|pic| android_injector::game::read_probe_block(pic.luma()))
    };
    let before = lit(&p);
    assert!(p.send_input(r#"{"t":"probe","seq":1}"#));
    assert!(
        p.run_until(Duration::from_secs(10), |p| lit(p) != before)
            .await,
        "the probe square flipped"
    );
    let (keys, resets) = (
        p.keyframes,
        st.agent.agent.relay.snapshot().counters.video_resets,
    );
    p.request_keyframe();
    assert!(
        p.run_until(Duration::from_secs(10), |p| p.keyframes > keys)
            .await,
        "a PLI brought a key frame"
    );
    assert!(st.agent.agent.relay.snapshot().counters.video_resets > resets);
    assert_eq!(p.decode_errors, 0);

    // Slices leave as they are encoded: with the device's encoder made slow (40 ms a slice,
    // four slices), a frame's first RTP packet arrives here ≥ 3 × 40 ms before its last, so
    // the first slice left the relay before the encoder had the last; the frame still
    // decodes whole, and the marker ended it only once.
    let serial = st
        .agent
        .agent
        .pool
        .slots()
        .into_iter()
        .find(|s| s.session_id.as_deref() == Some(sid.as_str()))
        .and_then(|s| s.instance)
        .expect("the play's instance")
        .serial();
    let adb = &st.agent.agent.adb;
    let slow = async |ms: u32| {
        let cmd = format!("setprop debug.playrack.video.slice_delay_ms {ms}");
        assert!(adb.shell(&serial, &cmd).await.unwrap().ok());
    };
    slow(40).await;
    let decoded = p.decoded;
    assert!(
        p.run_until(Duration::from_secs(20), |p| p.max_first_to_last_packet
            >= Duration::from_millis(110)
            && p.decoded > decoded + 3)
            .await,
        "first to last packet of a frame: {:?}",
        p.max_first_to_last_packet
    );
    slow(0).await;
    assert_eq!(p.decode_errors, 0);

    // The controller sees the play: playing, connected, with a recent input.
    assert!(
        p.run_until(Duration::from_secs(15), |p| p
            .last_stats()
            .is_some_and(|s| s.fps > 0.0 && s.width == 360))
            .await,
        "stats signals arrive"
    );
    let online_ok = async || {
        let page: Page<OnlineEntry> = st.ctl.get("/v1/online", &st.tenant_token).await;
        page.items
            .iter()
            .any(|e| e.session_id == sid && e.connected && e.state == SessionState::Playing)
    };
    let mut seen = false;
    for _ in 0..100 {
        if online_ok().await {
            seen = true;
            break;
        }
        p.run_until(Duration::from_millis(100), |_| false).await;
    }
    assert!(
        seen,
        "the controller shows the play as playing and connected"
    );

    // The player's measured latencies reach the board's histogram, the controller's (per room
    // and spec) and the operator's view of the play.
    assert!(p.send_input(r#"{"t":"latency","seq":1,"ms":23.5}"#));
    assert!(p.send_input(r#"{"t":"latency","seq":2,"ms":31.5}"#));
    let agent_metrics = async || {
        reqwest::get(format!("http://{}/metrics", st.agent.agent.http_addr))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let mut metrics = String::new();
    for _ in 0..100 {
        metrics = agent_metrics().await;
        if metrics.contains("playrack_agent_touch_to_screen_seconds_count 2") {
            break;
        }
        p.run_until(Duration::from_millis(50), |_| false).await;
    }
    assert!(
        metrics.contains("playrack_agent_touch_to_screen_seconds_bucket{le=\"0.03\"} 1")
            && metrics.contains("playrack_agent_touch_to_screen_seconds_bucket{le=\"0.04\"} 2")
            && metrics.contains("playrack_agent_touch_to_screen_seconds_count 2"),
        "{metrics}"
    );
    let mut latency = None;
    for _ in 0..150 {
        let page: Page<OnlineEntry> = st.ctl.get("/v1/online", &st.tenant_token).await;
        latency = page
            .items
            .iter()
            .find(|e| e.session_id == sid)
            .and_then(|e| e.latency);
        if latency.is_some() {
            break;
        }
        p.run_until(Duration::from_millis(100), |_| false).await;
    }
    let latency = latency.expect("the controller shows the play's latency");
    assert_eq!(latency.samples, 2);
    assert_eq!((latency.last_ms, latency.max_ms), (31.5, 31.5));
    assert!((latency.mean_ms - 27.5).abs() < 0.01, "{latency:?}");
    let text = st
        .ctl
        .send(Method::GET, "/metrics", None, None, &[])
        .await
        .text()
        .await
        .unwrap();
    let count = format!(
        "playrack_touch_to_screen_seconds_count{{room=\"{}\",spec=\"hd-60\"}} 2",
        st.room.id
    );
    assert!(text.contains(&count), "{count} missing:\n{text}");

    // A spectator (a tenant's support desk) gets the same stream and cannot touch.
    let spec: ConnectInfo = st
        .ctl
        .ok::<(), _>(
            Method::POST,
            &format!("/v1/sessions/{sid}/spectate"),
            &st.tenant_token,
            None,
            StatusCode::OK,
        )
        .await;
    let mut s = Peer::connect(&spec.signaling_url, &spec.token, PeerRole::Spectator)
        .await
        .expect("spectator admitted");
    let ok_s = while_driving(
        &mut p,
        s.run_until(Duration::from_secs(30), |s| {
            s.decoded >= 30 && s.channel_open
        }),
    )
    .await;
    assert!(
        ok_s,
        "the spectator decodes the stream ({} frames)",
        s.decoded
    );
    assert_eq!(
        s.picture.as_ref().map(|p| (p.width, p.height)),
        Some((360, 640))
    );
    assert!(s.send_input(&touch_json("down", 0.2, 0.9)));
    let refused = while_driving(
        &mut p,
        s.run_until(Duration::from_secs(10), |s| {
            s.signals.iter().any(
                |x| matches!(x, AgentSignal::Error { code, .. } if code == "INPUT_NOT_ALLOWED"),
            )
        }),
    )
    .await;
    assert!(
        refused,
        "the spectator is told its input is not allowed: {:?} {:?}",
        s.signals
            .iter()
            .filter(|x| !matches!(x, AgentSignal::Stats { .. }))
            .collect::<Vec<_>>(),
        st.agent.agent.relay.snapshot()
    );
    assert_eq!(
        taps(&p),
        Some(1),
        "a spectator's touch does not reach the game"
    );
    s.bye().await;

    // The operator drains the board: the player is told, and plays on; undrained, it takes
    // plays again.
    let drain = async |status: BoardStatus| {
        let _: Board = st
            .ctl
            .ok(
                Method::PATCH,
                &format!("/v1/boards/{}", st.board_id),
                &st.ctl.op,
                Some(&UpdateBoard {
                    status: Some(status),
                    ..Default::default()
                }),
                StatusCode::OK,
            )
            .await;
    };
    drain(BoardStatus::Draining).await;
    let before = p.decoded;
    assert!(
        p.run_until(Duration::from_secs(30), |p| {
            p.decoded > before
                && p.signals.iter().any(|x| {
                    matches!(x, AgentSignal::Notice { code, message, at: None }
                        if code == "MAINTENANCE" && message.contains("maintenance"))
                })
        })
        .await,
        "the player is told of the maintenance and plays on"
    );
    drain(BoardStatus::Active).await;

    // The controller goes away: the stream does not.
    let before = p.decoded;
    let running = st.ctl.running.take().expect("running");
    running.stop().await;
    assert!(
        p.run_until(Duration::from_secs(30), |p| p.decoded >= before + 60)
            .await,
        "the video stopped with the controller ({} → {})",
        before,
        p.decoded
    );
    st.ctl.restart().await;
    // the agent reconnects; the play is still this board's
    let agent = st.agent.agent.clone();
    assert!(
        !agent.link().is_up(),
        "the agent noticed the controller was gone"
    );
    assert!(
        wait_until(Duration::from_secs(30), async || agent.link().is_up()).await,
        "the agent reconnects to the restarted controller"
    );
    assert_eq!(agent.relay.snapshot().sessions, 1);

    // The player leaves: the agent saves the archive on the way out, stops the server,
    // removes the forward and puts a fresh instance back in the warm pool.
    p.bye().await;
    st.leave(&sid).await;
    let mut saved = Vec::new();
    assert!(
        wait_until(Duration::from_secs(30), async || {
            saved = st.archives().await;
            !saved.is_empty()
        })
        .await,
        "the archive reached the controller"
    );
    assert!(
        wait_until(Duration::from_secs(60), async || st.all_recycled().await).await,
        "the play never ended on the agent: {:?}",
        agent.pool.slots()
    );
    let o = agent.adb.run(&["forward", "--list"]).await.unwrap();
    assert!(o.stdout.trim().is_empty(), "{}", o.stdout);
    assert_eq!(st.session(&sid).await.session.state, SessionState::Ended);
    assert_eq!(agent.relay.snapshot().sessions, 0);

    // The same player plays again: the archive is restored, the counter shows their tap.
    let sid2 = st.acquire(1).await;
    assert_ne!(sid2, sid);
    let info = st.connect_info(&sid2).await;
    let mut p2 = Peer::connect(&info.signaling_url, &info.token, PeerRole::Player)
        .await
        .expect("admitted again");
    assert!(
        p2.run_until(Duration::from_secs(60), |p| p.decoded >= 10
            && taps(p) == Some(1))
            .await,
        "the restored tap counter shows 1 (read {:?})",
        taps(&p2)
    );
    // The first play's token cannot be used again, here or for the new session.
    match Peer::connect(&info.signaling_url, &info.token, PeerRole::Player).await {
        Err(AgentSignal::Error { code, .. }) => assert_eq!(code, "TOKEN_REPLAYED"),
        Err(other) => panic!("unexpected refusal {other:?}"),
        Ok(_) => panic!("a replayed token was admitted"),
    }
    p2.bye().await;
    st.stop().await;
}

/// Bad signaling and bad input are refused with stable codes, and nothing else notices: a
/// playing session keeps streaming and the refused session can still be joined properly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signaling_and_bad_input_are_refused_and_other_sessions_go_on() {
    use playrack_wire::session_token::{self, SessionClaims};
    let st = stack(Options {
        slots: 2,
        serial: "RK-E2E-0002".into(),
        ..Options::default()
    })
    .await;
    let sid1 = st.acquire(1).await;
    let sid2 = st.acquire(2).await;
    let info1 = st.connect_info(&sid1).await;
    let info2 = st.connect_info(&sid2).await;
    let url = info1.signaling_url.clone();
    let mut p = Peer::connect(&url, &info1.token, PeerRole::Player)
        .await
        .expect("admitted");
    assert!(
        p.run_until(Duration::from_secs(60), |p| p.decoded >= 30
            && p.channel_open)
            .await
    );

    // Tokens forged with the controller's own key, to reach each check.
    let key =
        array_controller::play::lifecycle::signing_key(&st.ctl.running.as_ref().unwrap().state)
            .await
            .unwrap();
    let now = array_controller::now().millis() / 1000;
    let forge = |session: &str, board: &str, exp: i64, jti: &str| {
        session_token::sign(
            &key,
            &SessionClaims {
                session: session.into(),
                board: board.into(),
                role: PeerRole::Player,
                exp,
                jti: jti.into(),
                watch: None,
            },
        )
    };
    let mut tampered = info2.token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let cases = [
        (tampered, "TOKEN_INVALID"),
        ("pst1.garbage".to_owned(), "TOKEN_INVALID"),
        (
            forge(&sid2, &st.board_id, now - 5, "j-exp"),
            "TOKEN_EXPIRED",
        ),
        (
            forge(&sid2, "brd_other", now + 60, "j-brd"),
            "TOKEN_WRONG_BOARD",
        ),
        (
            forge("ses_nowhere", &st.board_id, now + 60, "j-ses"),
            "NO_SESSION",
        ),
        // the first player's token, already used
        (info1.token.clone(), "TOKEN_REPLAYED"),
    ];
    for (token, code) in cases {
        let refused = while_driving(&mut p, Peer::connect(&url, &token, PeerRole::Player)).await;
        match refused {
            Err(AgentSignal::Error { code: got, .. }) => assert_eq!(got, code),
            Err(other) => panic!("{code}: unexpected {other:?}"),
            Ok(_) => panic!("{code}: admitted"),
        }
    }

    // Malformed messages: each socket gets an error with a code and is closed.
    for (first, code) in [
        ("not json", "BAD_MESSAGE"),
        (r#"{"type":"offer","sdp":"v=0"}"#, "HELLO_FIRST"),
        (
            r#"{"type":"hello","token":"x","role":"king"}"#,
            "BAD_MESSAGE",
        ),
    ] {
        let got = while_driving(&mut p, async {
            let mut ws = peer::open(&url).await;
            peer::send_raw(&mut ws, first).await;
            let signal = peer::recv(&mut ws).await;
            (signal, peer::recv(&mut ws).await)
        })
        .await;
        match got {
            (Some(AgentSignal::Error { code: c, .. }), None) => assert_eq!(c, code, "{first}"),
            other => panic!("{first}: {other:?}"),
        }
    }
    // An oversized message closes the socket.
    let closed = while_driving(&mut p, async {
        let mut ws = peer::open(&url).await;
        let big = format!(
            r#"{{"type":"hello","token":"{}","role":"player"}}"#,
            "a".repeat(70_000)
        );
        let _ = futures_util::SinkExt::send(
            &mut ws,
            tokio_tungstenite::tungstenite::Message::Text(big.into()),
        )
        .await;
        peer::recv(&mut ws).await
    })
    .await;
    assert!(
        !matches!(closed, Some(AgentSignal::Welcome { .. })),
        "{closed:?}"
    );
    // A valid hello followed by an SDP that is not one.
    let fresh = st.session(&sid2).await.connect.unwrap();
    let got = while_driving(&mut p, async {
        let mut ws = peer::open(&url).await;
        peer::send(
            &mut ws,
            &playrack_wire::signaling::ClientSignal::Hello {
                token: fresh.token.clone(),
                role: PeerRole::Player,
            },
        )
        .await;
        let welcome = peer::recv(&mut ws).await;
        peer::send_raw(
            &mut ws,
            r#"{"type":"offer","sdp":"v=0\r\nm=video nonsense\r\n"}"#,
        )
        .await;
        (welcome, peer::recv(&mut ws).await)
    })
    .await;
    assert!(
        matches!(got.0, Some(AgentSignal::Welcome { .. })),
        "{got:?}"
    );
    assert!(
        matches!(&got.1, Some(AgentSignal::Error { code, .. }) if code == "BAD_SDP"),
        "{got:?}"
    );

    // Bad input on the player's DataChannel: refused (told once a second), the play goes on.
    let inputs_before = st.agent.agent.relay.snapshot().counters.inputs_dropped;
    assert!(p.send_input(r#"{"t":"touch","phase":"down","pointer":99,"x":0.5,"y":0.5}"#));
    assert!(p.send_input(&format!(r#"{{"t":"text","text":"{}"}}"#, "x".repeat(2000))));
    assert!(p.send_input("\u{0}garbage"));
    assert!(
        p.run_until(Duration::from_secs(10), |p| p.signals.iter().any(
            |s| matches!(s, AgentSignal::Error { code, .. } if code == "BAD_INPUT")
        ))
        .await
    );
    let decoded = p.decoded;
    assert!(
        p.run_until(Duration::from_secs(20), |p| p.decoded >= decoded + 30)
            .await,
        "the player's stream went on"
    );
    assert_eq!(
        st.agent.agent.relay.snapshot().counters.inputs_dropped,
        inputs_before + 3
    );
    assert_eq!(taps(&p), Some(0), "no refused input reached the game");

    // A flood of input, far past what fingers send, is dropped at the engine (the peer is
    // told): no queue behind it grows, and the play goes on.
    let before = st.agent.agent.relay.snapshot().counters.inputs_dropped;
    for _ in 0..3_000 {
        assert!(p.send_input(r#"{"t":"text","text":"a"}"#));
    }
    assert!(
        p.run_until(Duration::from_secs(20), |p| p.signals.iter().any(
            |s| matches!(s, AgentSignal::Error { code, .. } if code == "INPUT_RATE_LIMITED")
        ))
        .await,
        "the flood was refused"
    );
    let decoded = p.decoded;
    assert!(
        p.run_until(Duration::from_secs(20), |p| p.decoded >= decoded + 30)
            .await,
        "the player's stream went on through the flood"
    );
    let dropped = st.agent.agent.relay.snapshot().counters.inputs_dropped - before;
    assert!(
        dropped >= 1_000,
        "only {dropped} of 3,000 flooded inputs were dropped"
    );

    // The refused session is fine: its player joins with a good token.
    let fresh = st.session(&sid2).await.connect.unwrap();
    let mut p2 = while_driving(&mut p, Peer::connect(&url, &fresh.token, PeerRole::Player))
        .await
        .expect("admitted");
    let ok = while_driving(
        &mut p,
        p2.run_until(Duration::from_secs(60), |p| p.decoded >= 10),
    )
    .await;
    assert!(ok, "the second session streams");
    st.stop().await;
}

/// The same play with the docker driver: the instance is a redroid-style container of the
/// virtual device's image (built with `docker import`), reached through adbd published on
/// 127.0.0.1. Frames, touch, archive save and restore, as above.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_play_streams_from_a_docker_instance() {
    if std::env::var("PLAYRACK_TEST_DOCKER").as_deref() == Ok("off") {
        eprintln!("warning: PLAYRACK_TEST_DOCKER=off: streaming from Docker is not tested");
        return;
    }
    let docker = |args: &[&str]| {
        std::process::Command::new("docker")
            .args(args)
            .output()
            .expect("run docker")
    };
    assert!(
        docker(&["info"]).status.success(),
        "no Docker engine answers: run scripts/dockerd.sh (or set PLAYRACK_TEST_DOCKER=off)"
    );
    let tag = format!("playrack/virtual-device:stream-test-{}", std::process::id());
    let serial = format!("RK-E2E-DOCKER-{}", std::process::id());
    struct Cleanup(String, String);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let run = |args: &[&str]| std::process::Command::new("docker").args(args).output();
            if let Ok(o) = run(&[
                "ps",
                "-aq",
                "--filter",
                &format!(
                    "label={}={}",
                    node_agent::runtime::docker::LABEL_AGENT,
                    self.1
                ),
            ]) {
                for id in String::from_utf8_lossy(&o.stdout).split_whitespace() {
                    let _ = run(&["rm", "-f", id]);
                }
            }
            let _ = run(&["rmi", "-f", &self.0]);
        }
    }
    let _cleanup = Cleanup(tag.clone(), serial.clone());
    let built = std::process::Command::new(
        support::workspace().join("android-injector/docker/build-image.sh"),
    )
    .arg(support::virtual_device())
    .arg(&tag)
    .output()
    .unwrap();
    assert!(
        built.status.success(),
        "build-image.sh: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    let image = tag.clone();
    let st = stack(Options {
        runtime: node_agent::config::RuntimeKind::Docker,
        serial: serial.clone(),
        tweak: Box::new(move |c| {
            c.docker_image = image;
            // this sandbox's engine refuses --privileged (redroid needs it on real boards)
            c.docker_privileged = false;
        }),
        ..Options::default()
    })
    .await;
    let agent = st.agent.agent.clone();
    let instance = agent.pool.slots()[0]
        .instance
        .clone()
        .expect("a warm container");
    assert_eq!(instance.adb_addr.ip().to_string(), "127.0.0.1");

    let sid = st.acquire(1).await;
    let info = st.connect_info(&sid).await;
    let mut p = Peer::connect(&info.signaling_url, &info.token, PeerRole::Player)
        .await
        .expect("admitted");
    assert!(
        p.run_until(Duration::from_secs(60), |p| p.decoded >= 120
            && p.channel_open)
            .await,
        "decoded {} frames from the container",
        p.decoded
    );
    assert!(p.audio_packets > 0);
    assert!(p.send_input(&touch_json("down", TOUCH.0, TOUCH.1)));
    assert!(p.send_input(&touch_json("up", TOUCH.0, TOUCH.1)));
    assert!(
        p.run_until(Duration::from_secs(10), |p| luma_at(p, TOUCH.0, TOUCH.1)
            >= 200
            && taps(p) == Some(1))
            .await,
        "the touch reached the container's game"
    );
    p.bye().await;
    st.leave(&sid).await;
    let tenant = st.tenant_token.clone();
    assert!(
        wait_until(Duration::from_secs(60), async || {
            let page: serde_json::Value = st
                .ctl
                .get(&format!("/v1/archives?game_id={}", st.game.id), &tenant)
                .await;
            page["items"].as_array().is_some_and(|a| !a.is_empty())
        })
        .await,
        "the container's archive reached the controller"
    );
    let sid2 = st.acquire(1).await;
    let info = st.connect_info(&sid2).await;
    let mut p2 = Peer::connect(&info.signaling_url, &info.token, PeerRole::Player)
        .await
        .expect("admitted again");
    assert!(
        p2.run_until(Duration::from_secs(60), |p| p.decoded >= 10
            && taps(p) == Some(1))
            .await,
        "the restored tap counter shows 1 in a new container (read {:?})",
        taps(&p2)
    );
    p2.bye().await;
    st.stop().await;
}

/// On a lossy network (every 10th datagram dropped) the player's NACKs are answered from the
/// relay's send buffer: the stream keeps decoding and the relay counts the NACKs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_packets_are_retransmitted_and_a_queued_player_plays_on_the_freed_board() {
    let st = stack(Options {
        serial: "RK-E2E-0003".into(),
        ..Options::default()
    })
    .await;
    let sid = st.acquire(1).await;
    let info = st.connect_info(&sid).await;
    let mut p = Peer::connect(&info.signaling_url, &info.token, PeerRole::Player)
        .await
        .expect("admitted");
    p.simulate_loss(Some(10));
    assert!(
        p.run_until(Duration::from_secs(60), |p| p.decoded >= 150)
            .await,
        "decoded {} of {} frames with {} datagrams dropped",
        p.decoded,
        p.video_frames,
        p.dropped()
    );
    assert!(
        p.dropped() > 20,
        "the network was lossy ({} dropped)",
        p.dropped()
    );
    let relay = st.agent.agent.relay.clone();
    assert!(
        p.run_until(Duration::from_secs(15), |_| relay.snapshot().counters.nacks
            > 0)
            .await,
        "the relay saw NACKs"
    );
    // Repaired, not skipped: most frames that arrived decoded (without retransmission a tenth
    // of the packets lost would break far more: a lost packet spoils every frame until the
    // next key frame); what a retransmission could not save, a PLI and a key frame restore.
    assert!(
        p.decoded * 10 >= p.video_frames * 8,
        "{} of {} frames decoded",
        p.decoded,
        p.video_frames
    );

    // The board's one slot is taken (the tenant may run more: the board is the limit), so the
    // next player queues. When the first leaves, the board resets the instance, says so, and
    // only then is the waiting player promoted onto it — and plays.
    st.ctl.order(&st.tenant.id, &st.room.region_id, 1).await;
    let req = AcquireRequest {
        link: Some(st.link.code.clone()),
        device_id: Some(ctl::device(2)),
        ..Default::default()
    };
    let ticket = match ctl::acquire(&st.ctl, &req, None).await {
        AcquireResponse::Queued {
            ticket_id, reason, ..
        } => {
            assert_eq!(reason, "ROOM_FULL");
            ticket_id
        }
        other => panic!("the full board took a second play: {other:?}"),
    };
    p.bye().await;
    st.leave(&sid).await;
    let second = st.claimed(&ticket).await;
    let info = st.connect_info(&second).await;
    let mut p2 = Peer::connect(&info.signaling_url, &info.token, PeerRole::Player)
        .await
        .expect("admitted");
    assert!(
        p2.run_until(Duration::from_secs(60), |p| p.decoded >= 60)
            .await,
        "the promoted player decoded {} frames",
        p2.decoded
    );
    st.stop().await;
}

/// Drives the player for `span` and checks its video never stalled for `window` meanwhile:
/// every window of the span decodes frames.
async fn streams_throughout(p: &mut Peer, span: Duration, window: Duration, what: &str) {
    let end = std::time::Instant::now() + span;
    while std::time::Instant::now() < end {
        let before = p.decoded;
        let left = end.saturating_duration_since(std::time::Instant::now());
        p.run_until(window.min(left), |_| false).await;
        assert!(
            p.decoded > before,
            "{what}: the video stalled for {window:?} (at {before} frames)"
        );
    }
}

/// The fault drill with real streams and the default heartbeat and lease (5 s, 15 s): the
/// controller is stopped for 45 s while a player streams, then (on PostgreSQL) the database
/// is stopped for longer than a lease and started again. The video never stalls, the session
/// is never ended, the controller adopts the play after each fault, and the archive is saved
/// when the player leaves. This test stops the shared PostgreSQL server: it must be the only
/// one in this binary that uses PostgreSQL (the others run on SQLite; cargo runs test
/// binaries one at a time).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_controller_and_a_database_restart_end_no_stream_and_lose_no_archive() {
    for backend in ctl::backends() {
        let mut st = stack(Options {
            backend,
            ..Options::default()
        })
        .await;
        let sid = st.acquire(1).await;
        let info = st.connect_info(&sid).await;
        let mut p = Peer::connect(&info.signaling_url, &info.token, PeerRole::Player)
            .await
            .expect("admitted");
        assert!(
            p.run_until(Duration::from_secs(60), |p| p.decoded >= 30
                && p.channel_open)
                .await,
            "{backend}: the stream starts"
        );
        // A tap, so the archive has something to keep.
        assert!(p.send_input(&touch_json("down", TOUCH.0, TOUCH.1)));
        assert!(p.send_input(&touch_json("up", TOUCH.0, TOUCH.1)));
        assert!(
            p.run_until(Duration::from_secs(10), |p| taps(p) == Some(1))
                .await,
            "{backend}: the tap counter shows 1"
        );
        let lease = Duration::from_secs(u64::from(st.ctl.config.agent_lease_secs));

        // The controller is away for 45 s (three default leases); the video goes on.
        st.ctl.running.take().expect("running").stop().await;
        streams_throughout(
            &mut p,
            Duration::from_secs(45),
            lease / 3,
            "controller away",
        )
        .await;
        st.ctl.restart().await;
        let agent = st.agent.agent.clone();
        let reconnected = while_driving(
            &mut p,
            wait_until(Duration::from_secs(30), async || agent.link().is_up()),
        )
        .await;
        assert!(reconnected, "{backend}: the agent reconnects");
        while_driving(&mut p, ctl::judged(&st.ctl)).await;
        let s = st.session(&sid).await;
        assert_eq!(
            s.session.state,
            SessionState::Playing,
            "{backend}: after the controller came back: {s:?}"
        );
        assert_eq!(agent.relay.snapshot().sessions, 1);

        if backend == "postgres" {
            // The database restarts, down for longer than a lease; the video goes on.
            ctl::postgres_script("suspend");
            streams_throughout(&mut p, lease + lease / 3, lease / 3, "database away").await;
            ctl::postgres_script("resume");
            let db = st.ctl.state().db.clone();
            let back = while_driving(
                &mut p,
                wait_until(Duration::from_secs(30), async || db.ping().await.is_ok()),
            )
            .await;
            assert!(back, "the controller reaches the database again");
            while_driving(&mut p, ctl::judged(&st.ctl)).await;
            let s = st.session(&sid).await;
            assert_eq!(
                s.session.state,
                SessionState::Playing,
                "after the database restart: {s:?}"
            );
            streams_throughout(&mut p, lease / 3, lease / 3, "after the restart").await;
        }

        // The player leaves: the archive reaches the controller.
        p.bye().await;
        st.leave(&sid).await;
        assert!(
            wait_until(Duration::from_secs(30), async || {
                let page: serde_json::Value = st
                    .ctl
                    .get(
                        &format!("/v1/archives?game_id={}", st.game.id),
                        &st.tenant_token,
                    )
                    .await;
                page["items"].as_array().is_some_and(|a| !a.is_empty())
            })
            .await,
            "{backend}: the archive was saved"
        );
        assert_eq!(
            st.session(&sid).await.session.end_reason,
            Some(EndReason::UserLeft),
            "{backend}: the play ended only when the player left"
        );
        st.stop().await;
    }
}

/// A player who sends nothing is warned before the idle kick; "I'm here" (`here`) keeps the
/// play past the kick it would have had; warned again and silent, the play ends `IDLE`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_player_is_warned_first_and_im_here_keeps_the_play() {
    let st = stack(Options {
        serial: "RK-E2E-IDLE".into(),
        ..Options::default()
    })
    .await;
    // An idle kick of 20 s: the warning comes 5 s before it.
    let _: Game = st
        .ctl
        .ok(
            Method::PATCH,
            &format!("/v1/games/{}", st.game.id),
            &st.tenant_token,
            Some(&UpdateGame {
                trial_defaults: Some(TrialDefaults {
                    max_play_seconds: 600,
                    reconnect_grace_seconds: 60,
                    idle_kick_seconds: 20,
                    connect_deadline_seconds: None,
                }),
                ..Default::default()
            }),
            StatusCode::OK,
        )
        .await;
    let sid = st.acquire(1).await;
    let info = st.connect_info(&sid).await;
    let mut p = Peer::connect(&info.signaling_url, &info.token, PeerRole::Player)
        .await
        .expect("admitted");
    let connected = std::time::Instant::now();
    let warnings = |p: &Peer| {
        p.signals
            .iter()
            .filter(|s| matches!(s, AgentSignal::Notice { code, .. } if code == "IDLE_WARNING"))
            .count()
    };
    let ended = |p: &Peer| {
        p.signals.iter().find_map(|s| match s {
            AgentSignal::Ended { reason } => Some(reason.clone()),
            _ => None,
        })
    };
    assert!(
        p.run_until(Duration::from_secs(40), |p| warnings(p) == 1)
            .await,
        "warned before the kick"
    );
    let warned_after = connected.elapsed();
    assert!(
        warned_after >= Duration::from_secs(12),
        "warned {warned_after:?} after connecting: too early for a 20 s kick"
    );
    assert!(ended(&p).is_none());
    assert!(p.send_input(r#"{"t":"here"}"#));
    // Past the kick the play would have had (20 s after connecting), it goes on.
    let before = p.decoded;
    p.run_until(
        Duration::from_secs(22).saturating_sub(connected.elapsed()) + Duration::from_secs(3),
        |p| ended(p).is_some(),
    )
    .await;
    assert_eq!(ended(&p), None, "the answer kept the play");
    assert!(p.decoded > before + 30, "and its picture");
    // Silent again: warned again, then ended IDLE.
    assert!(
        p.run_until(Duration::from_secs(40), |p| ended(p).is_some())
            .await,
        "the idle kick ends the play"
    );
    assert_eq!(warnings(&p), 2);
    assert_eq!(ended(&p).as_deref(), Some("IDLE"));
    st.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_the_board_dials_wss_and_the_player_signals_over_wss() {
    let st = stack(Options {
        serial: "RK-E2E-TLS".into(),
        tls: true,
        ..Options::default()
    })
    .await;
    // The stack waited for the board online: it enrolled over HTTPS and its link is `wss://`,
    // trusting the test CA it was given and nothing it was not.
    assert!(st.ctl.url.starts_with("https://"), "{}", st.ctl.url);
    let sid = st.acquire(1).await;
    let info = st.connect_info(&sid).await;
    assert!(
        info.signaling_url.starts_with("wss://"),
        "a TLS agent announces wss:// signaling: {}",
        info.signaling_url
    );
    let ca = st.ca.as_ref().expect("the stack's CA");

    // A player that does not trust the CA gets nowhere; nor does plain ws:// on the TLS port.
    let refused = tokio_tungstenite::connect_async(info.signaling_url.as_str())
        .await
        .expect_err("an unknown issuer is refused");
    assert!(
        format!("{refused:?}").contains("UnknownIssuer"),
        "{refused:?}"
    );
    let plain = info.signaling_url.replacen("wss://", "ws://", 1);
    assert!(
        tokio_tungstenite::connect_async(plain.as_str())
            .await
            .is_err(),
        "plain WebSocket on the TLS port"
    );

    let socket = tokio::net::UdpSocket::bind((std::net::Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let mut p = Peer::connect_trusting(
        &info.signaling_url,
        &info.token,
        PeerRole::Player,
        socket,
        Some(ca.client_config()),
    )
    .await
    .expect("admitted over wss://");
    assert!(
        p.run_until(Duration::from_secs(30), |p| p.decoded >= 30)
            .await,
        "the play streams: {} frames decoded",
        p.decoded
    );
    st.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_player_gets_turn_credentials_of_its_own_that_coturn_takes_until_they_expire() {
    let secret = format!("secret-{}", std::process::id());
    let turn = ctl::turn::Coturn::start(&secret);
    let port = turn.port;
    let s = secret.clone();
    let st = stack(Options {
        serial: "RK-E2E-TURN".into(),
        tweak: Box::new(move |c| {
            c.turn = vec![
                format!("turn:127.0.0.1:{port}"),
                format!("turn:127.0.0.1:{port}?transport=tcp"),
            ];
            c.turn_secret = Some(s);
            c.turn_ttl = Duration::from_secs(600);
        }),
        ..Options::default()
    })
    .await;
    let sid = st.acquire(1).await;
    let info = st.connect_info(&sid).await;
    let mut ws = peer::open(&info.signaling_url).await;
    peer::send(
        &mut ws,
        &playrack_wire::signaling::ClientSignal::Hello {
            token: info.token.clone(),
            role: PeerRole::Player,
        },
    )
    .await;
    let Some(AgentSignal::Welcome { ice_servers, .. }) = peer::recv(&mut ws).await else {
        panic!("no welcome");
    };
    let server = ice_servers
        .iter()
        .find(|s| s.urls.iter().any(|u| u.starts_with("turn:")))
        .expect("a TURN server in the welcome");
    assert_eq!(server.urls.len(), 2, "{server:?}");
    let username = server.username.clone().expect("a username");
    let password = server.credential.clone().expect("a password");
    let (expiry, session) = username.split_once(':').expect("<expiry>:<session>");
    assert_eq!(session, sid, "the credentials name the session");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expiry: u64 = expiry.parse().unwrap();
    assert!(
        (now + 590..=now + 610).contains(&expiry),
        "valid for the configured 600 s: {expiry} vs now {now}"
    );
    assert!(!password.contains(&secret));

    // coturn relays with them, over UDP and over TCP...
    assert!(turn.relays(&username, &password, false), "UDP allocation");
    assert!(turn.relays(&username, &password, true), "TCP allocation");
    // ...but not for another session's name, nor once expired (however well signed).
    let other = format!("{expiry}:ses_someone_else");
    assert!(!turn.relays(&other, &password, false));
    let expired = format!("{}:{sid}", now - 10);
    let signed = node_agent::ice::turn_rest_password(&secret, &expired);
    assert!(
        !turn.relays(&expired, &signed, false),
        "expired credentials"
    );
    st.stop().await;
}

/// Sends with `send` once the agent may tell another refusal (it tells a peer at most one a
/// second: the peer plays on through that window), then whether the agent refused it with
/// `code` within a few seconds (the play going on meanwhile).
async fn refusal(p: &mut Peer, code: &str, send: impl FnOnce(&mut Peer) -> bool) -> bool {
    let since = std::time::Instant::now();
    p.run_until(Duration::from_secs(5), |_| {
        since.elapsed() > Duration::from_millis(1050)
    })
    .await;
    let before = p.signals.len();
    assert!(send(p), "sent");
    let decoded = p.decoded;
    p.run_until(Duration::from_secs(10), |p| {
        p.signals[before..]
            .iter()
            .any(|s| matches!(s, AgentSignal::Error { code: c, .. } if c == code))
            || p.decoded >= decoded + 90
    })
    .await;
    p.signals[before..]
        .iter()
        .any(|s| matches!(s, AgentSignal::Error { code: c, .. } if c == code))
}

/// The page ↔ game custom channel and the phone's sensors are Playrack's injector's: the game
/// answers on the custom channel, and a board running scrcpy's own server
/// (`--injector-live-bit-rate false`) refuses both with a warning rather than sending the server
/// a message it would stop reading its control socket for. Sensor readings go on their own
/// channel only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_custom_channel_echoes_on_playracks_injector_and_is_refused_on_scrcpys_server() {
    for playrack_injector in [true, false] {
        let st = stack(Options {
            serial: format!("RK-E2E-CUSTOM-{playrack_injector}"),
            tweak: Box::new(move |c| c.injector_live_bit_rate = playrack_injector),
            ..Options::default()
        })
        .await;
        let sid = st.acquire(1).await;
        let info = st.connect_info(&sid).await;
        let mut p = Peer::connect(&info.signaling_url, &info.token, PeerRole::Player)
            .await
            .expect("admitted");
        assert!(
            p.run_until(Duration::from_secs(30), |p| p.channel_open && p.decoded > 0)
                .await
        );
        assert!(p.send_input(r#"{"t":"custom","data":"{\"level\":3}"}"#));
        let answered = |p: &Peer| {
            p.signals.iter().any(|s| {
                matches!(s, AgentSignal::Custom { data } if data == r#"{"level":3}"#)
                    || matches!(s, AgentSignal::Error { code, .. } if code == "CUSTOM_UNSUPPORTED")
            })
        };
        assert!(
            p.run_until(Duration::from_secs(20), answered).await,
            "an answer on the custom channel"
        );
        let echoed = p
            .signals
            .iter()
            .any(|s| matches!(s, AgentSignal::Custom { .. }));
        assert_eq!(echoed, playrack_injector, "{:?}", p.signals);

        // A reading on the input channel is refused whatever the board (the SDK never sends
        // one there); on scrcpy's server, a reading on the sensors channel is too.
        assert!(
            refusal(&mut p, "BAD_INPUT", |p| p.send_input(
                r#"{"t":"sensor","kind":"accelerometer","values":[0,9.8,0]}"#
            ))
            .await
        );
        let location = r#"{"t":"location","lat":31.23,"lon":121.47,"accuracy":9}"#;
        assert_eq!(
            refusal(&mut p, "SENSORS_UNSUPPORTED", |p| p.send_sensor(location)).await,
            !playrack_injector,
            "{:?}",
            p.signals
        );
        // Either way the play goes on.
        let decoded = p.decoded;
        assert!(
            p.run_until(Duration::from_secs(20), |p| p.decoded >= decoded + 30)
                .await
        );
        drop(p);
        st.stop().await;
    }
}

/// The native player's core (`playrack-client`) from a try-play link to pixels, as the Android
/// SDK and the PC client use it: the link's card and its rooms' round trips, the acquire, the
/// session until ready, the agent's signaling and media (access units that decode), a tap that
/// moves the game's counter, a dropped connection resumed with a fresh token; a second player waits in line (its positions reported) and plays
/// once the first leaves; a third cancels while in line; a revoked link is refused with its
/// code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_native_player_core_plays_a_link_through_the_line() {
    use playrack_client::play::{self, Api, Identity, PlayError, Progress};
    let st = stack(Options {
        serial: "RK-E2E-NATIVE".into(),
        ..Options::default()
    })
    .await;
    let api = Api::new(&st.ctl.url, reqwest::Client::new());
    let who = |i| Identity::Link {
        code: st.link.code.clone(),
        device_id: ctl::device(i),
    };
    let mut seen = Vec::new();
    let first = play::acquire(
        &api,
        &who(1),
        None,
        |p| seen.push(p),
        std::future::pending(),
    )
    .await
    .expect("a play");
    match &seen[..] {
        [Progress::Card(card), Progress::Assigned { session_id }] => {
            assert_eq!(card.code, st.link.code);
            assert_eq!(card.rooms.len(), 1, "the deployed room to measure");
            assert_eq!(session_id, &first.session_id);
        }
        other => panic!("progress {other:?}"),
    }
    let mut p = Peer::connect(
        &first.connect.signaling_url,
        &first.connect.token,
        PeerRole::Player,
    )
    .await
    .expect("admitted");
    assert!(
        p.run_until(Duration::from_secs(60), |p| p.decoded >= 60
            && p.channel_open
            && taps(p).is_some())
            .await,
        "decoded {} of {} access units",
        p.decoded,
        p.video_frames
    );
    // stats() as the H5 SDK's: rates over the last second and the breakdown from capture times
    assert!(
        p.run_until(Duration::from_secs(10), |p| p
            .stats
            .get()
            .latency
            .is_some_and(|l| l.capture_to_shown_ms.is_some()))
            .await,
        "{:?}",
        p.stats.get()
    );
    let s = p.stats.get();
    assert!(s.fps > 0.0 && s.bitrate_kbps > 0, "{s:?}");
    assert_eq!((s.width, s.height), (Some(360), Some(640)));
    assert!(s.frames_decoded >= 60);
    let before = taps(&p).unwrap();
    for phase in [TouchPhase::Down, TouchPhase::Up] {
        assert!(p.send(&InputMessage::Touch {
            phase,
            pointer: 0,
            x: TOUCH.0,
            y: TOUCH.1,
            pressure: None,
        }));
    }
    assert!(
        p.run_until(Duration::from_secs(10), |p| taps(p) == Some(before + 1))
            .await,
        "the tap counter went from {before} to {:?}",
        taps(&p)
    );

    // The connection drops (no bye): a fresh token from the session, and the same play goes on
    // — the game still counts the tap.
    drop(p);
    let again = play::resume(&api, &first)
        .await
        .expect("the session is kept");
    let mut p = Peer::connect(&again.signaling_url, &again.token, PeerRole::Player)
        .await
        .expect("admitted again");
    assert!(
        p.run_until(Duration::from_secs(30), |p| taps(p) == Some(before + 1))
            .await,
        "after reconnecting the game shows {:?} taps",
        taps(&p)
    );

    // The native players' driver of a play (`session`): put out by another connection of the
    // same player, it connects again by itself with a fresh token and the video goes on.
    {
        use playrack_client::media::MediaEvent;
        use playrack_client::session::{Session, Step};
        use std::time::Instant;
        let fresh = play::Ready {
            connect: play::resume(&api, &first).await.expect("kept"),
            ..first.clone()
        };
        let mut s = Session::connect(api.clone(), fresh)
            .await
            .expect("the session driver connects");
        let mut frames = 0;
        let mut reconnected = false;
        let mut kicker = None;
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline && !(reconnected && frames >= 20) {
            match s.next(Instant::now() + Duration::from_millis(100)).await {
                Ok(Some(Step::Media(MediaEvent::Video(_)))) => frames += 1,
                Ok(Some(Step::Reconnected)) => reconnected = true,
                Ok(Some(Step::Ended(why))) => panic!("the play ended: {why}"),
                Ok(_) => {}
                Err(e) => panic!("the session driver failed: {e}"),
            }
            if frames >= 20 && kicker.is_none() {
                let info = play::resume(&api, &first).await.expect("kept");
                kicker = Some(
                    Peer::connect(&info.signaling_url, &info.token, PeerRole::Player)
                        .await
                        .expect("admitted"),
                );
                frames = 0;
            }
        }
        assert!(
            reconnected && frames >= 20,
            "reconnected {reconnected}, {frames} access units since"
        );
    }

    // The board is full: a second player waits in line, then plays on the freed board.
    st.ctl.order(&st.tenant.id, &st.room.region_id, 1).await;
    let (tx, mut progress) = tokio::sync::mpsc::channel(16);
    let second = tokio::spawn({
        let (api, who) = (api.clone(), who(2));
        async move {
            let report = |p| drop(tx.try_send(p));
            play::acquire(&api, &who, None, report, std::future::pending()).await
        }
    });
    let queued = loop {
        match tokio::time::timeout(Duration::from_secs(30), progress.recv()).await {
            Ok(Some(Progress::Queued { position, .. })) => break position,
            Ok(Some(_)) => {}
            other => panic!("the second player never queued: {other:?}"),
        }
    };
    assert_eq!(queued, 1);
    p.bye().await;
    api.leave(&first.session_id, &first.play_key)
        .await
        .expect("the first player leaves");
    let second = tokio::time::timeout(Duration::from_secs(90), second)
        .await
        .expect("promoted in time")
        .unwrap()
        .expect("the second play");
    let mut p2 = Peer::connect(
        &second.connect.signaling_url,
        &second.connect.token,
        PeerRole::Player,
    )
    .await
    .expect("admitted");
    assert!(
        p2.run_until(Duration::from_secs(60), |p| p.decoded >= 30)
            .await,
        "the promoted player decoded {}",
        p2.decoded
    );

    // A third player queues, then cancels: the core leaves the line.
    let (tx, mut progress) = tokio::sync::mpsc::channel(16);
    let (cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
    let third = tokio::spawn({
        let (api, who) = (api.clone(), who(3));
        async move {
            let report = |p| drop(tx.try_send(p));
            let cancelled = async move { drop(cancelled.await) };
            play::acquire(&api, &who, None, report, cancelled).await
        }
    });
    loop {
        match tokio::time::timeout(Duration::from_secs(30), progress.recv()).await {
            Ok(Some(Progress::Queued { .. })) => break,
            Ok(Some(_)) => {}
            other => panic!("the third player never queued: {other:?}"),
        }
    }
    cancel.send(()).unwrap();
    let r = third.await.unwrap();
    assert!(matches!(r, Err(PlayError::Cancelled)), "{r:?}");
    let line: QueueView = st.ctl.get("/v1/queue", &st.ctl.op).await;
    assert_eq!(line.total, 0, "the line is empty: {line:?}");

    // A revoked link: the player's core says why, with the controller's code.
    let _: Link = st
        .ctl
        .ok::<(), _>(
            Method::POST,
            &format!("/v1/links/{}/revoke", st.link.id),
            &st.tenant_token,
            None,
            StatusCode::OK,
        )
        .await;
    let refused = play::acquire(&api, &who(3), None, |_| {}, std::future::pending())
        .await
        .expect_err("a revoked link");
    assert!(
        matches!(&refused, PlayError::Problem { status: 410, code, .. } if code == "LINK_REVOKED"),
        "{refused:?}"
    );
    st.stop().await;
}
