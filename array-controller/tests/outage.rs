//! Fault drills: a controller stopped for three leases, and (on PostgreSQL) a database outage
//! longer than a lease, with a play going on. Neither ends the play nor loses its archive: the
//! controller judges boards only after hearing them for a whole lease, and the board's hello
//! makes it adopt what both sides still have.
//!
//! One test in its own binary: the PostgreSQL drill stops the shared test server, and cargo
//! runs test binaries one at a time, so no other test sees the outage.

mod support;

use playrack_wire::agent::*;
use playrack_wire::api::*;
use reqwest::{Method, StatusCode};
use std::time::Duration;
use support::agent::{LiveBoard, TestAgent, report};
use support::play::*;
use support::{Ctl, acquire, backends, judged, postgres_script, wait_for, world};

/// Heartbeat and lease of the drill (the defaults are 5 s and 15 s; the outages are scaled
/// the same way: "45 s" is three leases).
const HEARTBEAT_SECS: u32 = 1;
const LEASE_SECS: u32 = 3;

/// The board's one instance, running `session`.
fn running(session: &str) -> Vec<InstanceReport> {
    vec![InstanceReport {
        instance_id: "inst-0".into(),
        spec_id: "hd-60".into(),
        state: InstanceState::Busy,
        session_id: Some(session.into()),
        package: Some("com.playrack.demo.tapper".into()),
    }]
}

/// Starts a play on the board and waits until the controller records it playing.
async fn start_play(ctl: &Ctl, board: &LiveBoard, req: &AcquireRequest) -> String {
    let session = session_of(&acquire(ctl, req, None).await);
    wait_for("the prepare command", SECS_20, || async {
        !board
            .received(|c| matches!(c, Command::PrepareSession { session_id, .. } if *session_id == session))
            .is_empty()
    })
    .await;
    board
        .send(report(&session, AgentSessionState::Ready, true))
        .await;
    board
        .send(report(&session, AgentSessionState::Playing, true))
        .await;
    wait_session(ctl, &session, "playing", |s| {
        s.session.state == SessionState::Playing
    })
    .await;
    session
}

async fn board_state(ctl: &Ctl, id: &str) -> AgentState {
    let b: Board = ctl.get(&format!("/v1/boards/{id}"), &ctl.op).await;
    b.agent_state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_controller_restart_and_a_database_outage_end_no_play() {
    let lease = Duration::from_secs(u64::from(LEASE_SECS));
    for backend in backends() {
        let mut ctl = Ctl::start_with(backend, |c| {
            c.agent_heartbeat_secs = HEARTBEAT_SECS;
            c.agent_lease_secs = LEASE_SECS;
        })
        .await;
        let mut w = world(&ctl, 1, 2, 10).await;
        let board_id = w.agents[0].board_id.clone();
        let board = LiveBoard::spawn(w.sockets.remove(0), lease / 3);
        let session = start_play(&ctl, &board, &w.by_link(0)).await;

        // The controller is stopped until the board was last heard three leases ago; the play
        // goes on on the board.
        ctl.running.take().unwrap().stop().await;
        let _ = board.task.await;
        let db = sqlx::AnyPool::connect(&ctl.config.database_url)
            .await
            .unwrap();
        wait_for(
            "the board's last report to be three leases old",
            SECS_20,
            || async {
                let seen: Option<i64> =
                    sqlx::query_scalar("SELECT last_seen_at FROM boards WHERE id = $1")
                        .bind(&board_id)
                        .fetch_one(&db)
                        .await
                        .unwrap();
                seen.is_some_and(|t| {
                    array_controller::now().millis() - t > 3 * lease.as_millis() as i64
                })
            },
        )
        .await;
        db.close().await;
        ctl.restart().await;
        // The agent comes back after the controller's own watchdog has run: the stale
        // last-seen time must not count against a board the controller could not hear.
        wait_for(
            "the restarted controller's watchdog to run",
            SECS_20,
            || async { ctl.state().agents.hearing.since().is_some() },
        )
        .await;
        let agent = TestAgent {
            base_url: ctl.url.clone(),
            board_id: w.agents[0].board_id.clone(),
            credential: w.agents[0].credential.clone(),
            session_token_key: None,
        };
        let (ws, _) = agent.connect(running(&session)).await;
        let board = LiveBoard::spawn(ws, lease / 3);
        board
            .send(report(&session, AgentSessionState::Playing, true))
            .await;
        // Once the controller may judge boards (and has had a tick to), the play is still on
        // and the board online: it was adopted.
        judged(&ctl).await;
        let s = play_session(&ctl, &session).await;
        assert_eq!(s.session.state, SessionState::Playing, "{backend}: {s:?}");
        assert_eq!(board_state(&ctl, &board_id).await, AgentState::Online);
        assert!(
            board
                .received(|c| matches!(c, Command::EndSession { .. }))
                .is_empty(),
            "{backend}: the board was told to end the adopted play"
        );

        if backend == "postgres" {
            // The database goes away for two leases, and the controller notices (it cannot
            // hear boards meanwhile).
            postgres_script("suspend");
            let down = std::time::Instant::now();
            wait_for(
                "two leases of an outage the controller noticed",
                SECS_20,
                || async {
                    ctl.state().agents.hearing.since().is_none() && down.elapsed() >= lease * 2
                },
            )
            .await;
            postgres_script("resume");
            // Once it is back and the controller may judge boards again, nothing was lost.
            wait_for(
                "the controller to reach the database again",
                SECS_20,
                || async { ctl.state().db.ping().await.is_ok() },
            )
            .await;
            judged(&ctl).await;
            let s = play_session(&ctl, &session).await;
            assert_eq!(
                s.session.state,
                SessionState::Playing,
                "after the outage: {s:?}"
            );
            assert_eq!(board_state(&ctl, &board_id).await, AgentState::Online);
        }

        // The player leaves: the board is told to end it and to save the archive.
        let _: Session = ctl
            .ok::<(), _>(
                Method::DELETE,
                &format!("/v1/play/sessions/{session}"),
                &key(&ctl, Held::Session(&session)).await,
                None,
                StatusCode::OK,
            )
            .await;
        wait_for("the end command, saving the archive", SECS_20, || async {
            !board
                .received(|c| {
                    matches!(c, Command::EndSession { session_id, save_archive: true, .. } if *session_id == session)
                })
                .is_empty()
        })
        .await;
        let s = play_session(&ctl, &session).await;
        assert_eq!(s.session.end_reason.map(|r| r.as_str()), Some("USER_LEFT"));
        board.task.abort();
        ctl.stop().await;
    }
}
