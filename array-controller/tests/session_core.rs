//! The session core where a real platform lives, on SQLite and PostgreSQL: reservations that
//! always end (`NO_SHOW` at the connect deadline, unbilled), slots that come back only when
//! the board has the instance back (so a promotion on a full board plays), refused
//! preparations placed again, lines of different tenants that never block one another, many
//! live queue listeners that do not stall promotion, and hot queries that never read history.

use playrack_test_support as support;

use playrack_wire::agent::*;
use playrack_wire::api::*;
use reqwest::{Method, StatusCode};
use support::agent::{self, report};
use support::play::*;
use support::{Ctl, acquire, backends, wait_for, world};

/// The next `PrepareSession` a board is sent: its session id.
async fn prepared(ws: &mut agent::Socket) -> String {
    match agent::command(ws, |c| matches!(c, Command::PrepareSession { .. })).await {
        Command::PrepareSession { session_id, .. } => session_id,
        _ => unreachable!(),
    }
}

/// The next `EndSession` a board is sent: (session id, reason, save archive).
async fn ended_on_board(ws: &mut agent::Socket) -> (String, String, bool) {
    match agent::command(ws, |c| matches!(c, Command::EndSession { .. })).await {
        Command::EndSession {
            session_id,
            reason,
            save_archive,
        } => (session_id, reason, save_archive),
        _ => unreachable!(),
    }
}

/// Creates a link of the world's game whose players must connect within `secs`.
async fn link_with_deadline(ctl: &Ctl, w: &support::World, secs: u32) -> (StatusCode, String) {
    ctl.raw(
        Method::POST,
        "/v1/links",
        Some(&w.tenant_token),
        Some(&CreateLink {
            game_id: w.game.id.clone(),
            trial_seconds: None,
            expires_at: None,
            max_plays: None,
            campaign: None,
            cta: None,
            connect_deadline_seconds: Some(secs),
            embed_origins: vec![],
        }),
    )
    .await
}

async fn ledger(ctl: &Ctl, session: &str) -> (i64, i64, String) {
    sqlx::query_as(
        "SELECT billable_secs, amount_micros, end_reason FROM usage_ledger WHERE session_id = $1",
    )
    .bind(session)
    .fetch_one(&ctl.state().db.pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_who_never_connects_frees_the_slot_at_the_deadline_unbilled() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let mut w = world(&ctl, 1, 1, 10).await;
        w.answer_ends();
        // A link whose players must connect within 2 s (the default is a minute).
        let (status, body) = link_with_deadline(&ctl, &w, 2).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let link: Link = serde_json::from_str(&body).unwrap();
        assert_eq!(link.connect_deadline_seconds, Some(2));
        let by_link = |i: usize| AcquireRequest {
            link: Some(link.code.clone()),
            device_id: Some(support::device(i)),
            ..Default::default()
        };
        // A made-up device takes the only slot and never connects; the next player queues.
        let squatter = session_of(&acquire(&ctl, &by_link(0), None).await);
        let next = ticket_of(&acquire(&ctl, &by_link(1), None).await);
        let s = wait_session(&ctl, &squatter, "ended", |s| {
            s.session.state == SessionState::Ended
        })
        .await;
        assert_eq!(
            s.session.end_reason.map(|r| r.as_str()),
            Some("NO_SHOW"),
            "{backend}"
        );
        let (billable, amount, reason) = ledger(&ctl, &squatter).await;
        assert_eq!((billable, amount, reason.as_str()), (0, 0, "NO_SHOW"));
        // The slot came back (the board let the instance go) and went to the queue.
        let t = claimed(&ctl, &next, "the next player to be promoted").await;
        assert!(t.session_id.is_some());
        // A deadline out of range is refused.
        let (status, body) = link_with_deadline(&ctl, &w, 0).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains("connect_deadline_seconds"), "{body}");
        // So is one in a game's trial defaults.
        let (status, body) = ctl
            .raw(
                Method::PATCH,
                &format!("/v1/games/{}", w.game.id),
                Some(&w.tenant_token),
                Some(&UpdateGame {
                    trial_defaults: Some(TrialDefaults {
                        connect_deadline_seconds: Some(7200),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promotion_on_a_full_board_waits_for_the_instance_and_plays() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let mut w = world(&ctl, 1, 1, 10).await;
        let (first_req, second_req) = (w.by_link(0), w.by_link(1));
        let board_id = w.agents[0].board_id.clone();
        let ws = &mut w.sockets[0];
        let first = session_of(&acquire(&ctl, &first_req, None).await);
        assert_eq!(prepared(ws).await, first);
        agent::send(ws, &report(&first, AgentSessionState::Ready, false)).await;
        agent::send(ws, &report(&first, AgentSessionState::Playing, true)).await;
        let waiting = ticket_of(&acquire(&ctl, &second_req, None).await);

        // The first player leaves: the board is told, and resets the instance.
        leave(&ctl, &first).await;
        let (id, reason, save) = ended_on_board(ws).await;
        assert_eq!(
            (id.as_str(), reason.as_str(), save),
            (first.as_str(), "USER_LEFT", true)
        );
        // Until the board says the instance is back, the slot is not free: nobody is sent there.
        assert_eq!(ticket_state(&ctl, &waiting).await, "waiting", "{backend}");
        assert_eq!(poll(&ctl, &waiting).await.position, Some(1));

        // The board has it back: the waiting player is promoted onto it, and plays.
        agent::send(ws, &agent::ended(&first, "USER_LEFT")).await;
        let second = prepared(ws).await;
        let t = poll(&ctl, &waiting).await;
        assert_eq!(t.state, TicketState::Claimed);
        assert_eq!(t.session_id.as_deref(), Some(second.as_str()));
        agent::send(ws, &report(&second, AgentSessionState::Ready, false)).await;
        let s = wait_session(&ctl, &second, "ready", |s| s.connect.is_some()).await;
        assert_eq!(s.session.board_id, board_id);
        agent::send(ws, &report(&second, AgentSessionState::Playing, true)).await;
        wait_session(&ctl, &second, "playing", |s| {
            s.session.state == SessionState::Playing
        })
        .await;
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_preparation_is_placed_again_without_the_player_seeing_it() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let mut w = world(&ctl, 2, 1, 10).await;
        let (session, board) = match acquire(&ctl, &w.by_link(0), None).await {
            AcquireResponse::Assigned {
                session_id,
                board_id,
                ..
            } => (session_id, board_id),
            other => panic!("{other:?}"),
        };
        let refusing = w.agents.iter().position(|a| a.board_id == board).unwrap();
        let other = 1 - refusing;
        assert_eq!(prepared(&mut w.sockets[refusing]).await, session);
        // The board cannot take it after all (its instance is still resetting, say).
        agent::send(
            &mut w.sockets[refusing],
            &AgentMessage::Session {
                session_id: session.clone(),
                state: AgentSessionState::Ended,
                reason: Some("prepare_failed: no capacity left for spec hd-60".into()),
                connected: false,
                last_input_at: None,
                stats: None,
                latency_ms: Default::default(),
            },
        )
        .await;
        // The same session is prepared on the other board; the player's view never ended.
        assert_eq!(prepared(&mut w.sockets[other]).await, session, "{backend}");
        let s = play_session(&ctl, &session).await;
        assert_ne!(s.session.state, SessionState::Ended);
        assert_eq!(s.session.board_id, w.agents[other].board_id);
        agent::send(
            &mut w.sockets[other],
            &report(&session, AgentSessionState::Ready, false),
        )
        .await;
        wait_session(&ctl, &session, "ready", |s| s.connect.is_some()).await;
        // The refusing board's slot is free again: the next play can go there.
        match acquire(&ctl, &w.by_link(1), None).await {
            AcquireResponse::Assigned { board_id, .. } => assert_eq!(board_id, board),
            other => panic!("{backend}: {other:?}"),
        }
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_at_quota_does_not_starve_another_tenants_line() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        // One board, two slots; Acme may run one play at a time.
        let mut w = world(&ctl, 1, 2, 1).await;
        let (beta, bt) = ctl.tenant("Beta").await;
        let game = ctl.game(&bt, "beta-game").await;
        let version = ctl
            .published(&bt, &game.id, &support::fixture("runner-v1.apk"))
            .await;
        ctl.deploy(&bt, &version.id, &[&w.room.id]).await;
        // The board syncs Beta's package too.
        agent::send(
            &mut w.sockets[0],
            &AgentMessage::Deployment {
                sha256: version.sha256.clone().unwrap(),
                state: DeploymentRoomState::Ready,
                progress_percent: 100,
                error: None,
            },
        )
        .await;
        w.answer_ends();
        wait_for("Beta's deployment to be ready", SECS_20, || async {
            let d: Deployment = ctl
                .get(&format!("/v1/versions/{}/deployment", version.id), &bt)
                .await;
            d.rooms
                .iter()
                .all(|r| r.state == DeploymentRoomState::Ready)
        })
        .await;
        ctl.order(&beta.id, &w.room.region_id, 2).await;
        let beta_link = ctl.link(&bt, &game.id, Some(120)).await;
        let by_beta = |i: usize| AcquireRequest {
            link: Some(beta_link.code.clone()),
            device_id: Some(format!("beta-device-{i:08}")),
            ..Default::default()
        };
        // Acme's one play and Beta's first fill the board; Acme's line grows past any scan
        // window (all at quota), Beta's one player queues behind the full room.
        session_of(&acquire(&ctl, &w.by_link(0), None).await);
        let beta_first = session_of(&acquire(&ctl, &by_beta(0), None).await);
        for i in 1..=80 {
            let t = acquire(&ctl, &w.by_link(i), None).await;
            assert!(
                matches!(&t, AcquireResponse::Queued { reason, .. } if reason == "TENANT_QUOTA_FULL"),
                "{t:?}"
            );
        }
        let beta_next = ticket_of(&acquire(&ctl, &by_beta(1), None).await);

        // Beta's first play ends: Beta's line moves, whatever Acme's says.
        leave(&ctl, &beta_first).await;
        let t = claimed(&ctl, &beta_next, "Beta's next player to be promoted").await;
        let s = play_session(&ctl, t.session_id.as_deref().unwrap()).await;
        assert_eq!(s.session.tenant_id, beta.id, "{backend}");
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_queue_listeners_do_not_stall_promotion_or_acquire() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let mut w = world(&ctl, 1, 1, 100).await;
        w.answer_ends();
        let playing = session_of(&acquire(&ctl, &w.by_link(0), None).await);
        let mut tickets = Vec::new();
        for i in 1..=40 {
            tickets.push(ticket_of(&acquire(&ctl, &w.by_link(i), None).await));
        }
        // Forty players listen to their place in line (the event streams stay open).
        let mut streams = Vec::new();
        for t in &tickets {
            let mut events = TicketEvents::open(&ctl, t).await;
            assert_eq!(events.next().await.state, TicketState::Waiting);
            streams.push(events);
        }
        // Acquires are still answered while they listen.
        let started = std::time::Instant::now();
        ticket_of(&acquire(&ctl, &w.by_link(41), None).await);
        // The play ends: the head of the line gets the slot, seen on its own stream.
        leave(&ctl, &playing).await;
        let head = &mut streams[0];
        let t = loop {
            let t = head.next().await;
            if t.state != TicketState::Waiting {
                break t;
            }
        };
        assert_eq!(t.state, TicketState::Claimed, "{backend}");
        assert!(
            started.elapsed() < SECS_20,
            "{backend}: promotion took {:?}",
            started.elapsed()
        );
        // Everyone behind moved up by one.
        let second = &mut streams[1];
        let t = loop {
            let t = second.next().await;
            if t.position == Some(1) {
                break t;
            }
        };
        assert_eq!(t.state, TicketState::Waiting);
        drop(streams);
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_keys_are_forgotten_after_a_day_and_not_before() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let pool = &ctl.state().db.pool;
        let now = array_controller::now().millis();
        for (key, at) in [("old", now - 25 * 3600 * 1000), ("new", now - 3600 * 1000)] {
            sqlx::query(
                "INSERT INTO idempotency (scope, key, response, created_at) VALUES ('anon:x', $1, '{}', $2)",
            )
            .bind(key)
            .bind(at)
            .execute(pool)
            .await
            .unwrap();
        }
        let n = array_controller::play::forget_idempotency(ctl.state())
            .await
            .unwrap();
        assert_eq!(n, 1, "{backend}");
        let left: Vec<String> = sqlx::query_scalar("SELECT key FROM idempotency")
            .fetch_all(pool)
            .await
            .unwrap();
        assert_eq!(left, ["new"]);
        ctl.stop().await;
    }
}

/// A board's report that races the end of its session (the player's peer closes just before
/// they leave) lets the play go the way it ended: the archive is still saved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_racing_the_end_still_saves_the_archive() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let mut w = world(&ctl, 1, 1, 10).await;
        let req = w.by_link(0);
        let ws = &mut w.sockets[0];
        let sid = session_of(&acquire(&ctl, &req, None).await);
        assert_eq!(prepared(ws).await, sid);
        agent::send(ws, &report(&sid, AgentSessionState::Ready, false)).await;
        agent::send(ws, &report(&sid, AgentSessionState::Playing, true)).await;
        wait_session(&ctl, &sid, "playing", |s| {
            s.session.state == SessionState::Playing
        })
        .await;
        // The session ends (as a leave ends it) before its board is told...
        assert!(
            array_controller::play::lifecycle::end_session(ctl.state(), &sid, EndReason::UserLeft)
                .await
                .unwrap()
        );
        // ...and the board's report of the closed peer arrives first.
        agent::send(ws, &report(&sid, AgentSessionState::Playing, false)).await;
        let (id, reason, save) = ended_on_board(ws).await;
        assert_eq!(
            (id.as_str(), reason.as_str(), save),
            (sid.as_str(), "USER_LEFT", true),
            "{backend}"
        );
        ctl.stop().await;
    }
}
