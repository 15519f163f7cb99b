//! Fault drills: a controller stopped for three leases, and (on PostgreSQL) a database outage
//! longer than a lease, with a play going on. Neither ends the play nor loses its archive: the
//! controller judges boards only after hearing them for a whole lease, and the board's hello
//! makes it adopt what both sides still have.
//!
//! A second drill restarts PostgreSQL under a crowd of acquires, each sent with an idempotency
//! key and retried as a client does: none is lost, none is doubled, and what is refused
//! meanwhile is a 503 to retry, never an internal error.
//!
//! Its own binary: the PostgreSQL drills stop the shared test server, and cargo runs test
//! binaries one at a time, so no other test sees the outage; within it, the drills take turns.

use playrack_test_support as support;

use playrack_wire::agent::*;
use playrack_wire::api::*;
use reqwest::{Method, StatusCode};
use std::time::Duration;
use support::agent::{LiveBoard, TestAgent, report};
use support::play::*;
use support::{Ctl, acquire, backends, judged, postgres_script, problem_of, wait_for, world};

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
        encoder: Some("c2.android.avc.encoder".into()),
        booted_at: None,
        primed_version_id: None,
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

/// The drills stop the shared PostgreSQL server: one at a time.
static ONE_OUTAGE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_controller_restart_and_a_database_outage_end_no_play() {
    let _turn = ONE_OUTAGE.lock().await;
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

/// What one player's acquire came to: its answer, and the refusals on the way.
struct Outcome {
    first: AcquireResponse,
    refusals: Vec<(u16, String, bool)>,
    sent_at: std::time::Instant,
    answered_at: std::time::Instant,
}

fn held(a: &AcquireResponse) -> String {
    match a {
        AcquireResponse::Assigned { session_id, .. } => session_id.clone(),
        AcquireResponse::Queued { ticket_id, .. } => ticket_id.clone(),
    }
}

/// Acquires with `key` until answered, as a client does: a refusal to retry (503 with
/// Retry-After) or a lost connection is retried with the same key.
async fn acquire_retrying(ctl: &Ctl, req: &AcquireRequest, key: &str) -> Outcome {
    let mut refusals = Vec::new();
    let sent_at = std::time::Instant::now();
    let deadline = sent_at + Duration::from_secs(90);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "acquire {key} never answered: {refusals:?}"
        );
        let sent = ctl
            .http
            .post(format!("{}/v1/play/acquire", ctl.url))
            .header("idempotency-key", key)
            .json(req)
            .send()
            .await;
        let Ok(resp) = sent else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        let status = resp.status().as_u16();
        if status == 200 {
            return Outcome {
                first: resp.json().await.unwrap(),
                refusals,
                sent_at,
                answered_at: std::time::Instant::now(),
            };
        }
        let retry_after = resp.headers().contains_key("retry-after");
        let problem = problem_of(&resp.text().await.unwrap_or_default());
        refusals.push((status, problem.code.clone(), retry_after));
        assert_eq!(status, 503, "{key}: only a refusal to retry: {problem:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acquires_through_a_database_restart_are_neither_lost_nor_doubled() {
    if !backends().contains(&"postgres") {
        return; // SQLite lives in the controller's process: there is no server to restart.
    }
    let _turn = ONE_OUTAGE.lock().await;
    const PLAYERS: usize = 24;
    let ctl = std::sync::Arc::new(
        Ctl::start_with("postgres", |c| {
            c.agent_heartbeat_secs = HEARTBEAT_SECS;
            c.agent_lease_secs = LEASE_SECS;
        })
        .await,
    );
    // 2 boards × 4 slots: 8 players are placed, 16 wait in line.
    let mut w = world(&ctl, 2, 4, 100).await;
    let boards: Vec<LiveBoard> = std::mem::take(&mut w.sockets)
        .into_iter()
        .map(|ws| LiveBoard::spawn(ws, Duration::from_secs(u64::from(HEARTBEAT_SECS))))
        .collect();

    // The crowd arrives over two seconds; the database goes away early on, for 4 s.
    let mut crowd = tokio::task::JoinSet::new();
    for i in 0..PLAYERS {
        let (ctl, req) = (ctl.clone(), w.by_link(i));
        crowd.spawn(async move {
            tokio::time::sleep(Duration::from_millis(80 * i as u64)).await;
            let key = format!("idem-{i}");
            (i, acquire_retrying(&ctl, &req, &key).await)
        });
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    postgres_script("suspend");
    tokio::time::sleep(Duration::from_secs(4)).await;
    postgres_script("resume");
    let resumed = std::time::Instant::now();
    let mut outcomes = std::collections::BTreeMap::new();
    while let Some(r) = crowd.join_next().await {
        let (i, o) = r.unwrap();
        outcomes.insert(i, o);
    }

    // Every player was answered — those who asked during the outage too (they waited, or
    // were refused and retried); what was refused meanwhile said to retry.
    assert_eq!(outcomes.len(), PLAYERS);
    let through = outcomes
        .values()
        .filter(|o| o.sent_at < resumed && o.answered_at > resumed)
        .count();
    assert!(through > 0, "no acquire was in flight during the outage");
    let refused: Vec<_> = outcomes.values().flat_map(|o| &o.refusals).collect();
    for (status, code, retry_after) in &refused {
        assert_eq!(*status, 503);
        assert!(
            code == "DATABASE_UNAVAILABLE" || code == "BUSY",
            "refused with {code}"
        );
        assert!(retry_after, "a 503 says when to retry");
    }

    // The same key answers the same again: nothing is placed or queued twice.
    for (i, o) in &outcomes {
        let again = acquire_retrying(&ctl, &w.by_link(*i), &format!("idem-{i}")).await;
        assert_eq!(held(&again.first), held(&o.first), "player {i}'s replay");
    }
    let assigned = outcomes
        .values()
        .filter(|o| matches!(o.first, AcquireResponse::Assigned { .. }))
        .count();
    assert_eq!(assigned, 8, "every slot was taken, once");
    let db = &ctl.state().db.pool;
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(db)
            .await
            .unwrap()
    };
    assert_eq!(count("SELECT COUNT(*) FROM sessions").await, 8);
    assert_eq!(
        count("SELECT COUNT(*) FROM tickets").await,
        (PLAYERS - 8) as i64
    );
    assert_eq!(
        count("SELECT CAST(SUM(in_use) AS BIGINT) FROM board_slots").await,
        8,
        "the slots count exactly the plays"
    );
    let held_ids: std::collections::BTreeSet<String> =
        outcomes.values().map(|o| held(&o.first)).collect();
    assert_eq!(held_ids.len(), PLAYERS, "one play or ticket per player");
    println!(
        "database restart drill: {PLAYERS} acquires answered ({through} asked during the 4-s outage), {} refusals to retry on the way (503), none lost or doubled",
        refused.len()
    );
    for b in boards {
        b.task.abort();
    }
}
