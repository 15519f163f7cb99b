//! Two controller replicas on one PostgreSQL, with the boards split between them: acquires,
//! prepares, ends, drains, package syncs and shell runs go through either replica and reach
//! the board wherever it is connected (the command outbox); exactly one replica leads the
//! periodic work; and when one replica dies, its board reconnects to the other, which delivers
//! every command still unacknowledged and any written meanwhile — none is lost.

use playrack_test_support as support;

use playrack_wire::agent::*;
use playrack_wire::api::*;
use reqwest::{Method, StatusCode};
use std::time::Duration;
use support::agent::{LiveBoard, TestAgent};
use support::play::*;
use support::{Ctl, acquire, wait_for, world};

const HEARTBEAT: Duration = Duration::from_secs(1);

/// Connects an enrolled board to the controller at `url`, reporting `instances`.
async fn connect(w_agent: &TestAgent, url: &str, instances: Vec<InstanceReport>) -> LiveBoard {
    let agent = TestAgent {
        base_url: url.to_owned(),
        board_id: w_agent.board_id.clone(),
        credential: w_agent.credential.clone(),
        session_token_key: None,
    };
    let (ws, _) = agent.connect(instances).await;
    LiveBoard::spawn(ws, HEARTBEAT)
}

/// Waits until `board` has been sent a command matching `pred`.
async fn receives(board: &LiveBoard, what: &str, pred: impl Fn(&Command) -> bool) {
    wait_for(what, SECS_20, || async {
        !board.received(&pred).is_empty()
    })
    .await;
}

/// Sets a board's status through the controller `ctl.url` names.
async fn set_status(ctl: &Ctl, board_id: &str, status: BoardStatus) {
    let _: Board = ctl
        .ok(
            Method::PATCH,
            &format!("/v1/boards/{board_id}"),
            &ctl.op,
            Some(&UpdateBoard {
                status: Some(status),
                ..Default::default()
            }),
            StatusCode::OK,
        )
        .await;
}

async fn online_on(ctl: &Ctl, board_id: &str, replica_id: &str) -> bool {
    let r: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT agent_state, controller_id FROM boards WHERE id = $1")
            .bind(board_id)
            .fetch_optional(&ctl.state().db.pool)
            .await
            .unwrap();
    r.is_some_and(|(s, c)| s == "online" && c.as_deref() == Some(replica_id))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_serve_every_command_through_either_and_a_dead_one_loses_none() {
    if std::env::var("PLAYRACK_TEST_PG_URL").is_err() {
        eprintln!("warning: no PostgreSQL: replicas need one (scripts/test.sh starts it)");
        return;
    }
    let mut ctl = Ctl::start("postgres").await;
    let mut w = world(&ctl, 2, 2, 10).await;
    let b = ctl.replica().await;
    let (a_url, b_url) = (ctl.url.clone(), b.url());
    let (a_id, b_id) = (ctl.state().replica_id.clone(), b.state.replica_id.clone());
    // Board 0 stays on replica A; board 1 moves to replica B.
    let board0 = LiveBoard::spawn(w.sockets.remove(0), HEARTBEAT);
    drop(w.sockets.remove(0));
    let board1 = connect(&w.agents[1], &b_url, vec![]).await;
    let (id0, id1) = (w.agents[0].board_id.clone(), w.agents[1].board_id.clone());
    wait_for("board 1 online on replica B", SECS_20, || async {
        online_on(&ctl, &id1, &b_id).await && online_on(&ctl, &id0, &a_id).await
    })
    .await;
    // Exactly one replica leads the periodic work.
    wait_for("one leader", SECS_20, || async {
        ctl.state().leader.is_leader() != b.state.leader.is_leader()
    })
    .await;

    // Acquires through either replica; each board is told to prepare its play.
    ctl.url = b_url.clone();
    let first = match acquire(&ctl, &w.by_link(0), None).await {
        AcquireResponse::Assigned {
            session_id,
            board_id,
            ..
        } => (session_id, board_id),
        other => panic!("{other:?}"),
    };
    ctl.url = a_url.clone();
    let second = match acquire(&ctl, &w.by_link(1), None).await {
        AcquireResponse::Assigned {
            session_id,
            board_id,
            ..
        } => (session_id, board_id),
        other => panic!("{other:?}"),
    };
    assert_ne!(first.1, second.1, "spread over both boards");
    let on = |board: &str| if board == id0 { &board0 } else { &board1 };
    for (session, board) in [&first, &second] {
        receives(
            on(board),
            "the prepare command",
            |c| matches!(c, Command::PrepareSession { session_id, .. } if session_id == session),
        )
        .await;
    }

    // Ends through the other replica than the acquire.
    for (session, board, via) in [(&first, &first.1, &a_url), (&second, &second.1, &b_url)] {
        ctl.url = via.clone();
        let _: Session = ctl
            .ok::<(), _>(
                Method::DELETE,
                &format!("/v1/play/sessions/{}", session.0),
                &key(&ctl, Held::Session(&session.0)).await,
                None,
                StatusCode::OK,
            )
            .await;
        receives(
            on(board),
            "the end command",
            |c| matches!(c, Command::EndSession { session_id, .. } if *session_id == session.0),
        )
        .await;
    }

    // A drain and a shell run through B for board 0 (on A).
    ctl.url = b_url.clone();
    set_status(&ctl, &id0, BoardStatus::Draining).await;
    receives(&board0, "the drain", |c| {
        matches!(c, Command::Drain { draining: true, .. })
    })
    .await;
    let _: ShellRun = ctl
        .ok(
            Method::POST,
            &format!("/v1/boards/{id0}/shell"),
            &ctl.op,
            Some(&CreateShellRun {
                instance_id: "inst-0".into(),
                command: "getprop ro.build.version.sdk".into(),
                timeout_secs: Some(30),
            }),
            StatusCode::ACCEPTED,
        )
        .await;
    receives(
        &board0,
        "the shell run",
        |c| matches!(c, Command::Shell { command, .. } if command.starts_with("getprop")),
    )
    .await;
    // A package deployed through A reaches both boards.
    ctl.url = a_url.clone();
    let game = ctl.game(&w.tenant_token, "second").await;
    let v = ctl
        .published(
            &w.tenant_token,
            &game.id,
            &support::fixture("runner-v1.apk"),
        )
        .await;
    ctl.deploy(&w.tenant_token, &v.id, &[&w.room.id]).await;
    let sha = v.sha256.clone().unwrap();
    for board in [&board0, &board1] {
        receives(
            board,
            "the package sync",
            |c| matches!(c, Command::SyncPackage { sha256, .. } if *sha256 == sha),
        )
        .await;
    }

    // Replica A dies with board 0's commands unacknowledged; one more is written (through B)
    // while the board is away. Board 0 reconnects to B, which delivers all of them.
    let unacked: Vec<String> =
        sqlx::query_scalar("SELECT id FROM board_commands WHERE board_id = $1 ORDER BY created_at")
            .bind(&id0)
            .fetch_all(&b.state.db.pool)
            .await
            .unwrap();
    assert!(unacked.len() >= 3, "{unacked:?}");
    ctl.running.take().unwrap().stop().await;
    let _ = board0.task.await;
    ctl.url = b_url.clone();
    set_status(&ctl, &id0, BoardStatus::Active).await;
    let board0 = connect(&w.agents[0], &b_url, vec![]).await;
    receives(&board0, "the drain written while it was away", |c| {
        matches!(
            c,
            Command::Drain {
                draining: false,
                ..
            }
        )
    })
    .await;
    // Every command A had not seen acknowledged comes again (the board runs each id once).
    wait_for(
        "every unacknowledged command delivered again",
        SECS_20,
        || async {
            let got = board0.received(|_| true).len();
            got > unacked.len()
        },
    )
    .await;
    // Acknowledged commands leave the outbox.
    for id in &unacked {
        board0
            .send(AgentMessage::Result {
                command_id: id.clone(),
                ok: true,
                error: None,
            })
            .await;
    }
    wait_for("acknowledged commands gone", SECS_20, || async {
        let mut left = 0;
        for id in &unacked {
            let row: Option<String> =
                sqlx::query_scalar("SELECT id FROM board_commands WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&b.state.db.pool)
                    .await
                    .unwrap();
            left += usize::from(row.is_some());
        }
        left == 0
    })
    .await;
    // B took over the periodic work.
    wait_for("replica B leads", SECS_20, || async {
        b.state.leader.is_leader()
    })
    .await;
    board0.task.abort();
    board1.task.abort();
    b.stop().await;
}
