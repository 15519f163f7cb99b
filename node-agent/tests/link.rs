//! The controller link's state machine with simulated time: the handshake, heartbeats at the
//! welcome's period, reconnect backoff (exponential, capped, jittered within bounds, reset by a
//! welcome) and idempotent commands.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use node_agent::link::{BACKOFF_INITIAL, BACKOFF_MAX, Backoff, Identity, Link, Output};
use playrack_wire::agent::*;

fn identity() -> Identity {
    Identity {
        board_id: "brd_1".into(),
        agent_version: "node-agent/test".into(),
        capacity: BTreeMap::from([("hd-60".to_owned(), 4)]),
        signaling_url: "ws://127.0.0.1:7700/v1/signal".into(),
    }
}

fn drain(link: &mut Link) -> Vec<Output> {
    std::iter::from_fn(|| link.poll_output()).collect()
}

fn welcome(secs: u32) -> String {
    serde_json::to_string(&ControllerMessage::Welcome {
        heartbeat_secs: secs,
        lease_secs: secs * 3,
    })
    .unwrap()
}

fn command(id: &str) -> String {
    serde_json::to_string(&ControllerMessage::Command {
        id: id.into(),
        command: Command::Drain {
            draining: true,
            notice: None,
        },
    })
    .unwrap()
}

/// Connects and greets at `t`.
fn up(link: &mut Link, t: Instant) {
    link.handle_timeout(t);
    assert_eq!(drain(link), [Output::Connect]);
    link.handle_connected(t, vec![]);
    let out = drain(link);
    assert!(matches!(
        &out[..],
        [Output::Send(AgentMessage::Hello { .. })]
    ));
    link.handle_text(t, &welcome(5)).unwrap();
    assert!(link.is_up());
}

#[test]
fn hello_carries_the_instances_and_heartbeats_follow_the_welcome() {
    let t0 = Instant::now();
    let mut link = Link::new(identity(), t0, 1);
    assert_eq!(link.poll_timeout(), Some(t0));
    link.handle_timeout(t0);
    assert_eq!(drain(&mut link), [Output::Connect]);
    assert_eq!(
        link.poll_timeout(),
        None,
        "nothing to time while connecting"
    );
    let inst = InstanceReport {
        instance_id: "i-1".into(),
        spec_id: "hd-60".into(),
        state: InstanceState::Warm,
        session_id: None,
        package: None,
        encoder: None,
        booted_at: None,
        primed_version_id: None,
    };
    link.handle_connected(t0, vec![inst.clone()]);
    match &drain(&mut link)[..] {
        [
            Output::Send(AgentMessage::Hello {
                protocol,
                board_id,
                instances,
                capacity,
                ..
            }),
        ] => {
            assert_eq!(*protocol, AGENT_PROTOCOL_VERSION);
            assert_eq!(board_id, "brd_1");
            assert_eq!(instances, &vec![inst]);
            assert_eq!(capacity["hd-60"], 4);
        }
        other => panic!("expected a hello, got {other:?}"),
    }
    link.handle_text(t0, &welcome(5)).unwrap();
    // The first heartbeat goes at once, then one every 5 s of simulated time (answered, so the
    // connection stays up).
    assert_eq!(drain(&mut link), [Output::Heartbeat]);
    assert_eq!(link.heartbeat_period(), Duration::from_secs(5));
    let mut beats = 0;
    let mut t = t0;
    for _ in 0..3600 {
        t += Duration::from_millis(100);
        if link.poll_timeout().is_some_and(|d| t >= d) {
            link.handle_timeout(t);
        }
        let out = drain(&mut link);
        assert!(!out.contains(&Output::Close), "pongs keep it alive");
        let n = out.iter().filter(|o| **o == Output::Heartbeat).count();
        if n > 0 {
            link.handle_heard(t); // the controller's pong to the heartbeat's ping
        }
        beats += n;
    }
    // 360 s at one per 5 s
    assert_eq!(beats, 72);
}

#[test]
fn reconnects_back_off_exponentially_with_bounded_jitter_and_reset_on_welcome() {
    let t0 = Instant::now();
    let mut link = Link::new(identity(), t0, 7);
    let mut t = t0;
    let mut delays = Vec::new();
    for _ in 0..12 {
        link.handle_timeout(t);
        assert_eq!(drain(&mut link), [Output::Connect]);
        let d = link.handle_disconnected(t);
        assert_eq!(link.poll_timeout(), Some(t + d));
        // Nothing happens before the delay is over.
        link.handle_timeout(t + d - Duration::from_millis(1));
        assert!(drain(&mut link).is_empty());
        delays.push(d);
        t += d;
    }
    for (i, d) in delays.iter().enumerate() {
        let base = BACKOFF_INITIAL
            .saturating_mul(1 << i.min(20))
            .min(BACKOFF_MAX);
        assert!(
            *d >= base / 2 && *d <= base,
            "attempt {i}: {d:?} outside [{:?}, {base:?}]",
            base / 2
        );
    }
    assert!(delays[11] >= BACKOFF_MAX / 2, "capped, not reset");
    // A welcome resets the backoff: the next drop waits about the initial delay again.
    link.handle_timeout(t);
    drain(&mut link);
    link.handle_connected(t, vec![]);
    link.handle_text(t, &welcome(5)).unwrap();
    drain(&mut link);
    let d = link.handle_disconnected(t);
    assert!(d <= BACKOFF_INITIAL, "{d:?}");
}

#[test]
fn once_welcomed_a_board_comes_back_within_a_third_of_the_lease() {
    // The controller restarts: it judges boards only after hearing them for a whole lease
    // (15 s here), so the agent must retry well inside it, however long the outage lasts.
    let t0 = Instant::now();
    let mut link = Link::new(identity(), t0, 11);
    up(&mut link, t0); // welcome(5): heartbeat 5 s, lease 15 s
    let mut t = t0;
    for _ in 0..20 {
        let d = link.handle_disconnected(t);
        assert!(d <= Duration::from_secs(5), "{d:?}");
        t += d;
        link.handle_timeout(t);
        assert_eq!(drain(&mut link), [Output::Connect]);
    }
}

#[test]
fn jitter_spreads_boards_apart() {
    // Many boards (different seeds) dropped at once do not all come back at the same instant.
    let mut firsts: Vec<Duration> = (0..200)
        .map(|seed| Backoff::new(BACKOFF_MAX, BACKOFF_MAX, seed).next_delay())
        .collect();
    assert!(
        firsts
            .iter()
            .all(|d| *d >= BACKOFF_MAX / 2 && *d <= BACKOFF_MAX)
    );
    firsts.sort();
    firsts.dedup();
    assert!(firsts.len() > 150, "only {} distinct delays", firsts.len());
}

#[test]
fn commands_run_once_and_repeats_get_the_same_result() {
    let t = Instant::now();
    let mut link = Link::new(identity(), t, 3);
    up(&mut link, t);
    drain(&mut link);
    link.handle_text(t, &command("cmd_1")).unwrap();
    let out = drain(&mut link);
    assert!(
        matches!(&out[..], [Output::Execute { id, command: Command::Drain { draining: true, .. } }] if id == "cmd_1")
    );
    // A repeat while it runs starts nothing.
    link.handle_text(t, &command("cmd_1")).unwrap();
    assert!(drain(&mut link).is_empty());
    link.command_finished("cmd_1", false, Some("disk full".into()));
    let result = AgentMessage::Result {
        command_id: "cmd_1".into(),
        ok: false,
        error: Some("disk full".into()),
    };
    assert_eq!(drain(&mut link), [Output::Send(result.clone())]);
    // A repeat after it finished is answered with the same result, not run again.
    link.handle_text(t, &command("cmd_1")).unwrap();
    assert_eq!(drain(&mut link), [Output::Send(result.clone())]);
    // Also across a reconnect.
    link.handle_disconnected(t);
    let t2 = t + Duration::from_secs(60);
    up(&mut link, t2);
    drain(&mut link);
    link.handle_text(t2, &command("cmd_1")).unwrap();
    assert_eq!(drain(&mut link), [Output::Send(result)]);
    // A different id runs.
    link.handle_text(t2, &command("cmd_2")).unwrap();
    assert!(matches!(&drain(&mut link)[..], [Output::Execute { id, .. }] if id == "cmd_2"));
    // Malformed or unknown messages are refused without changing anything.
    assert!(link.handle_text(t2, "{\"type\":\"format_disk\"}").is_err());
    assert!(link.handle_text(t2, "not json").is_err());
    assert!(link.is_up());
}

#[test]
fn results_and_reports_made_while_down_are_sent_after_the_next_welcome() {
    let t = Instant::now();
    let mut link = Link::new(identity(), t, 4);
    up(&mut link, t);
    drain(&mut link);
    link.handle_text(t, &command("cmd_9")).unwrap();
    drain(&mut link);
    link.handle_disconnected(t);
    link.command_finished("cmd_9", true, None);
    link.send(AgentMessage::Deployment {
        sha256: "ab".repeat(32),
        state: playrack_wire::api::DeploymentRoomState::Ready,
        progress_percent: 100,
        error: None,
    });
    assert!(drain(&mut link).is_empty(), "nothing is sent while down");
    let t2 = t + Duration::from_secs(1);
    link.handle_timeout(t2);
    assert_eq!(drain(&mut link), [Output::Connect]);
    link.handle_connected(t2, vec![]);
    drain(&mut link);
    link.handle_text(t2, &welcome(5)).unwrap();
    let out = drain(&mut link);
    assert_eq!(out[0], Output::Heartbeat);
    assert!(
        matches!(&out[1], Output::Send(AgentMessage::Result { command_id, ok: true, .. }) if command_id == "cmd_9")
    );
    assert!(matches!(
        &out[2],
        Output::Send(AgentMessage::Deployment { .. })
    ));
    assert_eq!(out.len(), 3);
}

#[test]
fn a_connection_silent_for_a_lease_is_closed_and_redialled() {
    let t0 = Instant::now();
    let mut link = Link::new(identity(), t0, 5);
    link.handle_timeout(t0);
    drain(&mut link);
    link.handle_connected(t0, vec![]);
    drain(&mut link);
    // heartbeat 1 s, lease 3 s
    let w = serde_json::to_string(&ControllerMessage::Welcome {
        heartbeat_secs: 1,
        lease_secs: 3,
    })
    .unwrap();
    link.handle_text(t0, &w).unwrap();
    drain(&mut link);
    // Pongs keep it alive well past the lease.
    let mut t = t0;
    for _ in 0..100 {
        t += Duration::from_millis(500);
        link.handle_heard(t);
        link.handle_timeout(t);
        assert!(!drain(&mut link).contains(&Output::Close));
    }
    assert!(link.is_up());
    // Then silence: closed at the lease, not before, and a reconnect is scheduled.
    link.handle_timeout(t + Duration::from_millis(2900));
    assert!(!drain(&mut link).contains(&Output::Close));
    let dead = t + Duration::from_secs(3);
    assert!(link.poll_timeout().unwrap() <= dead);
    link.handle_timeout(dead);
    assert_eq!(drain(&mut link), [Output::Close]);
    assert!(!link.is_up());
    let retry = link.poll_timeout().unwrap();
    assert!(retry > dead && retry <= dead + BACKOFF_INITIAL);
    link.handle_timeout(retry);
    assert_eq!(drain(&mut link), [Output::Connect]);
}
