//! Acquire, the queue and sessions end to end on SQLite and PostgreSQL, with real board agents
//! connected over the agent channel: atomic reservation under 200 concurrent acquires,
//! quota-full versus room-full, priority before FIFO, claim expiry, eviction, idempotency.

use playrack_test_support as support;

use array_controller::play::identity::anonymous_user;
use playrack_wire::agent::*;
use playrack_wire::api::*;
use reqwest::{Method, StatusCode};
use std::collections::BTreeSet;
use support::agent::{self, report};
use support::play::*;
use support::{Ctl, World, acquire, backends, device, wait_for, wait_value, world};

fn by_link(w: &impl HasLink, i: usize) -> AcquireRequest {
    AcquireRequest {
        link: Some(w.link().code.clone()),
        device_id: Some(device(i)),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_acquires_fill_fifty_slots_and_queue_the_rest_in_order() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let w = world(&ctl, 5, 10, 1_000).await;
        let answers = futures_util::future::join_all((0..200).map(|i| {
            let (ctl, req) = (&ctl, by_link(&w, i));
            async move { acquire(ctl, &req, Some(&format!("k{i}"))).await }
        }))
        .await;
        let mut sessions = BTreeSet::new();
        let mut positions = Vec::new();
        for a in &answers {
            match a {
                AcquireResponse::Assigned { session_id, .. } => {
                    assert!(sessions.insert(session_id.clone()))
                }
                AcquireResponse::Queued {
                    position, reason, ..
                } => {
                    assert_eq!(reason, "ROOM_FULL");
                    positions.push(*position);
                }
            }
        }
        assert_eq!(
            sessions.len(),
            50,
            "{backend}: exactly the 50 slots are given"
        );
        positions.sort();
        assert_eq!(
            positions,
            (1..=150).collect::<Vec<u32>>(),
            "{backend}: positions 1..150, no gaps, no duplicates"
        );
        // No board holds more sessions than its slots.
        let live: Page<Session> = ctl
            .ok::<(), _>(
                Method::GET,
                "/v1/sessions?live=true&limit=200",
                &ctl.op,
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(live.items.len(), 50);
        let mut per_board = std::collections::BTreeMap::<String, u32>::new();
        for s in &live.items {
            *per_board.entry(s.board_id.clone()).or_default() += 1;
        }
        assert!(per_board.values().all(|n| *n == 10), "{per_board:?}");
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_full_and_room_full_are_told_apart_and_repeats_are_idempotent() {
    for backend in backends() {
        // Quota 2, slots 10: the third play waits for the tenant's quota.
        let ctl = Ctl::start(backend).await;
        let w = world(&ctl, 1, 10, 2).await;
        for i in 0..2 {
            assert!(matches!(
                acquire(&ctl, &by_link(&w, i), None).await,
                AcquireResponse::Assigned { .. }
            ));
        }
        match acquire(&ctl, &by_link(&w, 2), Some("again")).await {
            AcquireResponse::Queued {
                reason, position, ..
            } => {
                assert_eq!(reason, "TENANT_QUOTA_FULL");
                assert_eq!(position, 1);
            }
            other => panic!("{other:?}"),
        }
        // The same key gives the same answer; the same player without a key gets their ticket back.
        let a = acquire(&ctl, &by_link(&w, 2), Some("again")).await;
        let b = acquire(&ctl, &by_link(&w, 2), None).await;
        assert_eq!(a, b);
        // A player already playing gets their session back.
        let first = acquire(&ctl, &by_link(&w, 0), None).await;
        assert!(matches!(first, AcquireResponse::Assigned { .. }));
        assert_eq!(acquire(&ctl, &by_link(&w, 0), None).await, first);
        ctl.stop().await;

        // Quota 10, slots 2: the third play waits for a room.
        let ctl = Ctl::start(backend).await;
        let w = world(&ctl, 1, 2, 10).await;
        for i in 0..2 {
            assert!(matches!(
                acquire(&ctl, &by_link(&w, i), None).await,
                AcquireResponse::Assigned { .. }
            ));
        }
        assert!(
            matches!(acquire(&ctl, &by_link(&w, 2), None).await, AcquireResponse::Queued { reason, .. } if reason == "ROOM_FULL")
        );
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn priority_beats_fifo_and_a_freed_slot_goes_to_the_head_at_once() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let mut w = world(&ctl, 1, 1, 10).await;
        w.answer_ends();
        let key = player_key(&ctl, &w).await.secret;
        let by_token = |user: &str, level: i32| player_token_request(&w, &key, user, level);

        let playing = session_of(&acquire(&ctl, &by_token("alice", 0), None).await);
        let early = ticket_of(&acquire(&ctl, &by_token("bob", 0), None).await);
        let vip = ticket_of(&acquire(&ctl, &by_token("carol", 5), None).await);
        assert_eq!(
            poll(&ctl, &vip).await.position,
            Some(1),
            "a higher level goes first"
        );
        assert_eq!(poll(&ctl, &early).await.position, Some(2));

        // Alice leaves: once the board has her instance back, the VIP is promoted (and
        // claims it by polling); the early bird stays in line.
        leave(&ctl, &playing).await;
        let t = claimed(&ctl, &vip, "the VIP to be promoted").await;
        let s: PlaySession = ctl
            .ok::<(), _>(
                Method::GET,
                &format!("/v1/play/sessions/{}", t.session_id.unwrap()),
                t.play_key
                    .as_deref()
                    .expect("the claim hands over the session's key"),
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(s.session.user, "user:carol");
        assert_eq!(poll(&ctl, &early).await.position, Some(1));

        // A forged token is refused.
        let forged = AcquireRequest {
            player_token: Some(array_controller::play::identity::sign(
                "wrong",
                &array_controller::play::identity::TokenPayload {
                    tenant: w.tenant.id.clone(),
                    user: "eve".into(),
                    exp: i64::MAX / 2,
                    level: 9,
                },
            )),
            game_id: Some(w.game.id.clone()),
            ..Default::default()
        };
        let resp = ctl
            .http
            .post(format!("{}/v1/play/acquire", ctl.url))
            .json(&forged)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unclaimed_promotions_expire_and_quiet_tickets_are_evicted() {
    for backend in backends() {
        let ctl = Ctl::start_with(backend, |c| {
            c.claim_ttl_secs = 1;
            c.ticket_timeout_secs = 4;
        })
        .await;
        let mut w = world(&ctl, 1, 1, 10).await;
        w.answer_ends();
        let playing = session_of(&acquire(&ctl, &by_link(&w, 0), None).await);
        let a = ticket_of(&acquire(&ctl, &by_link(&w, 1), None).await);
        let b = ticket_of(&acquire(&ctl, &by_link(&w, 2), None).await);
        let c = ticket_of(&acquire(&ctl, &by_link(&w, 3), None).await);

        // The slot frees: A (head of the line) is promoted as soon as the board has the
        // instance back, but never claims it. B keeps polling all along (however long that
        // takes on a loaded machine, B must not go quiet); C stops.
        leave(&ctl, &playing).await;
        wait_for("A to be promoted", SECS_20, || async {
            poll(&ctl, &b).await;
            ticket_state(&ctl, &a).await != "waiting"
        })
        .await;
        assert!(
            ["promoted", "expired"].contains(&ticket_state(&ctl, &a).await.as_str()),
            "A was promoted, not claimed"
        );
        // B keeps polling; C goes quiet. After A's claim deadline (1 s) the sweeper expires A and
        // promotes B, which B's next poll claims.
        let claimed = claimed(&ctl, &b, "B to be promoted and claim").await;
        assert_eq!(ticket_state(&ctl, &a).await, "expired");
        let s: PlaySession = ctl
            .ok::<(), _>(
                Method::GET,
                &format!("/v1/play/sessions/{}", claimed.session_id.unwrap()),
                claimed
                    .play_key
                    .as_deref()
                    .expect("the claim hands over the session's key"),
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(s.session.user, anonymous_user(&device(2)));
        // C stopped polling 4 s ago at most: it is evicted.
        wait_for("C to be evicted", SECS_20, || async {
            ticket_state(&ctl, &c).await == "evicted"
        })
        .await;
        // A's reservation ended with its reason.
        let ended: Page<Session> = ctl
            .ok::<(), _>(
                Method::GET,
                "/v1/sessions?limit=50",
                &ctl.op,
                None,
                StatusCode::OK,
            )
            .await;
        assert!(
            ended
                .items
                .iter()
                .any(|s| s.end_reason.map(|r| r.as_str()) == Some("CLAIM_EXPIRED"))
        );
        ctl.stop().await;
    }
}

/// Sets the game's timers.
async fn timers(ctl: &Ctl, w: &World, max_play: u32, grace: u32, idle: u32) {
    let _: Game = ctl
        .ok(
            Method::PATCH,
            &format!("/v1/games/{}", w.game.id),
            &w.tenant_token,
            Some(&UpdateGame {
                trial_defaults: Some(TrialDefaults {
                    max_play_seconds: max_play,
                    reconnect_grace_seconds: grace,
                    idle_kick_seconds: idle,
                    connect_deadline_seconds: None,
                }),
                ..Default::default()
            }),
            StatusCode::OK,
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_prepares_the_player_connects_and_each_timer_ends_the_play_with_its_reason() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let mut w = world(&ctl, 1, 4, 10).await;
        timers(&ctl, &w, 600, 2, 3).await;
        let game_id = w.game.id.clone();
        let (agent, ws) = (&w.agents[0], &mut w.sockets[0]);

        // Acquire → the board is told to prepare exactly this play.
        let first = w_link(&ctl, &game_id, &w.tenant_token, None).await;
        let sid = session_of(&acquire(&ctl, &by_link(&first, 0), None).await);
        match agent::command(ws, |c| matches!(c, Command::PrepareSession { .. })).await {
            Command::PrepareSession {
                session_id,
                package_name,
                spec,
                idle_kick_secs,
                ..
            } => {
                assert_eq!(session_id, sid);
                assert!(idle_kick_secs.is_some_and(|s| s > 0), "the board can warn");
                assert_eq!(package_name, "com.playrack.demo.tapper");
                assert_eq!((spec.width, spec.height, spec.fps), (720, 1280, 60));
            }
            _ => unreachable!(),
        }
        let s = wait_session(&ctl, &sid, "preparing", |s| {
            s.session.state == SessionState::Preparing
        })
        .await;
        assert!(
            s.connect.is_none(),
            "no connect info before the instance is ready"
        );

        // Ready → the player gets the signaling URL and a token the agent verifies offline.
        agent::send(ws, &report(&sid, AgentSessionState::Ready, false)).await;
        let s = wait_session(&ctl, &sid, "ready", |s| {
            s.session.state == SessionState::Ready
        })
        .await;
        let connect = s.connect.expect("connect info");
        let claims = playrack_wire::session_token::verify(
            agent.session_token_key.as_deref().unwrap(),
            &connect.token,
            &agent.board_id,
            array_controller::now().millis() / 1000,
        )
        .unwrap();
        assert_eq!(claims.session, sid);
        assert!(
            playrack_wire::session_token::verify(
                agent.session_token_key.as_deref().unwrap(),
                &connect.token,
                "brd_other",
                0
            )
            .is_err()
        );

        // A watch link to the live play: a spectator pass naming the link and its limit; the
        // code works until the link is revoked, and is never listed again.
        let (status, bad) = ctl
            .call::<_, serde_json::Value>(
                Method::POST,
                &format!("/v1/sessions/{sid}/watch-links"),
                Some(&w.tenant_token),
                Some(&serde_json::json!({"max_viewers": 0})),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
        let (status, link) = ctl
            .call::<_, WatchLink>(
                Method::POST,
                &format!("/v1/sessions/{sid}/watch-links"),
                Some(&w.tenant_token),
                Some(&serde_json::json!({"max_viewers": 3})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let link = link.unwrap();
        let code = link.code.clone().expect("the code, once");
        let redeem = |code: String| {
            let ctl = &ctl;
            async move {
                ctl.call::<(), WatchView>(
                    Method::POST,
                    &format!("/v1/play/watch/{code}"),
                    None,
                    None,
                )
                .await
            }
        };
        let (status, view) = redeem(code.clone()).await;
        assert_eq!(status, StatusCode::OK);
        let view = view.unwrap();
        assert_eq!(view.kind, WatchKind::Session);
        assert_eq!(view.tiles.len(), 1);
        let pass = playrack_wire::session_token::verify(
            agent.session_token_key.as_deref().unwrap(),
            &view.tiles[0].connect.token,
            &agent.board_id,
            array_controller::now().millis() / 1000,
        )
        .unwrap();
        assert_eq!(pass.session, sid);
        assert_eq!(pass.role, playrack_wire::signaling::PeerRole::Spectator);
        assert_eq!(
            pass.watch,
            Some(playrack_wire::session_token::WatchClaim {
                link: link.id.clone(),
                max_viewers: 3
            })
        );
        let (status, _) = redeem("no-such-code".into()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, listed) = ctl
            .call::<(), Page<WatchLink>>(
                Method::GET,
                "/v1/watch-links",
                Some(&w.tenant_token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(listed.unwrap().items.iter().all(|l| l.code.is_none()));
        let (status, _) = ctl
            .call::<(), WatchLink>(
                Method::POST,
                &format!("/v1/watch-links/{}/revoke", link.id),
                Some(&w.tenant_token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = redeem(code).await;
        assert_eq!(status, StatusCode::GONE, "revoked");

        // Playing, then no input: the idle timer (3 s) ends it, and the board is told to stop and save.
        agent::send(ws, &report(&sid, AgentSessionState::Playing, true)).await;
        wait_session(&ctl, &sid, "playing", |s| {
            s.session.state == SessionState::Playing
        })
        .await;
        let s = wait_session(&ctl, &sid, "ended", |s| {
            s.session.state == SessionState::Ended
        })
        .await;
        assert_eq!(s.session.end_reason.map(|r| r.as_str()), Some("IDLE"));
        match agent::command(ws, |c| matches!(c, Command::EndSession { .. })).await {
            Command::EndSession {
                session_id,
                reason,
                save_archive,
            } => {
                assert_eq!(
                    (session_id.as_str(), reason.as_str(), save_archive),
                    (sid.as_str(), "IDLE", true)
                );
            }
            _ => unreachable!(),
        }
        // The board resets the instance and says so: the slot is free again.
        agent::send(ws, &agent::ended(&sid, "IDLE")).await;

        // A 2-second trial ends as TRIAL_OVER even with input flowing.
        let short = w_link(&ctl, &game_id, &w.tenant_token, Some(2)).await;
        let sid = session_of(&acquire(&ctl, &by_link(&short, 1), None).await);
        agent::send(ws, &report(&sid, AgentSessionState::Playing, true)).await;
        let s = wait_session(&ctl, &sid, "over", |s| {
            s.session.state == SessionState::Ended
        })
        .await;
        assert_eq!(s.session.end_reason.map(|r| r.as_str()), Some("TRIAL_OVER"));
        agent::send(ws, &agent::ended(&sid, "TRIAL_OVER")).await;

        // Dropped: a reconnect inside the grace (2 s) gets the same instance; after it, the play ends.
        let link = w_link(&ctl, &game_id, &w.tenant_token, None).await;
        let sid = session_of(&acquire(&ctl, &by_link(&link, 2), None).await);
        agent::send(ws, &report(&sid, AgentSessionState::Playing, true)).await;
        wait_session(&ctl, &sid, "playing", |s| {
            s.session.state == SessionState::Playing
        })
        .await;
        agent::send(ws, &report(&sid, AgentSessionState::Playing, false)).await;
        assert_eq!(
            session_of(&acquire(&ctl, &by_link(&link, 2), None).await),
            sid,
            "same session inside the grace"
        );
        let s = wait_session(&ctl, &sid, "ended", |s| {
            s.session.state == SessionState::Ended
        })
        .await;
        assert_eq!(s.session.end_reason.map(|r| r.as_str()), Some("USER_LEFT"));
        assert_ne!(
            session_of(&acquire(&ctl, &by_link(&link, 2), None).await),
            sid,
            "a new play after the grace"
        );

        // The app crashed: the agent's report ends the play with its reason.
        let sid = session_of(&acquire(&ctl, &by_link(&link, 3), None).await);
        agent::send(
            ws,
            &AgentMessage::Session {
                session_id: sid.clone(),
                state: AgentSessionState::Ended,
                reason: Some("APP_CRASHED".into()),
                connected: false,
                last_input_at: None,
                stats: None,
                latency_ms: Default::default(),
            },
        )
        .await;
        let s = wait_session(&ctl, &sid, "ended", |s| {
            s.session.state == SessionState::Ended
        })
        .await;
        assert_eq!(
            s.session.end_reason.map(|r| r.as_str()),
            Some("APP_CRASHED")
        );
        ctl.stop().await;
    }
}

/// A fresh link for the world's game (`trial` seconds, else the game's default).
async fn w_link(ctl: &Ctl, game_id: &str, token: &str, trial: Option<u32>) -> World1 {
    World1 {
        link: ctl.link(token, game_id, trial).await,
    }
}

/// Just a link, for `by_link`.
struct World1 {
    link: Link,
}

trait HasLink {
    fn link(&self) -> &Link;
}
impl HasLink for World {
    fn link(&self) -> &Link {
        &self.link
    }
}
impl HasLink for World1 {
    fn link(&self) -> &Link {
        &self.link
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_board_ends_its_plays_and_reconnects_are_reconciled() {
    for backend in backends() {
        let ctl = Ctl::start_with(backend, |c| {
            c.agent_heartbeat_secs = 1;
            c.agent_lease_secs = 2;
        })
        .await;
        let mut w = world(&ctl, 1, 1, 10).await;
        let sid = session_of(&acquire(&ctl, &by_link(&w, 0), None).await);
        let ticket = ticket_of(&acquire(&ctl, &by_link(&w, 1), None).await);
        {
            let ws = &mut w.sockets[0];
            agent::send(ws, &report(&sid, AgentSessionState::Playing, true)).await;
        }
        wait_session(&ctl, &sid, "playing", |s| {
            s.session.state == SessionState::Playing
        })
        .await;
        // The board goes silent past its lease: its plays end as BOARD_LOST.
        let s = wait_session(&ctl, &sid, "lost", |s| {
            s.session.state == SessionState::Ended
        })
        .await;
        assert_eq!(s.session.end_reason.map(|r| r.as_str()), Some("BOARD_LOST"));
        // The waiting player keeps waiting (no capacity) …
        assert_eq!(poll(&ctl, &ticket).await.state, TicketState::Waiting);
        // … until the board comes back: its hello adds capacity and the queue is re-evaluated.
        let a = w.agents.remove(0);
        drop(w.sockets.remove(0));
        let (mut ws, _) = a.connect(vec![]).await;
        agent::send(
            &mut ws,
            &AgentMessage::Heartbeat {
                telemetry: agent::telemetry(1.0),
            },
        )
        .await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let t = poll(&ctl, &ticket).await;
            if t.state == TicketState::Claimed {
                break;
            }
            agent::send(
                &mut ws,
                &AgentMessage::Heartbeat {
                    telemetry: agent::telemetry(1.0),
                },
            )
            .await;
            assert!(
                std::time::Instant::now() < deadline,
                "never promoted: {t:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let promoted = session_of(&acquire(&ctl, &by_link(&w, 1), None).await);
        // The board reconnects again reporting a session the controller never gave it, and
        // not the one it has: the unknown one is stopped, the missing one ends as BOARD_LOST.
        drop(ws);
        let mut unknown = agent::instance("i-9", InstanceState::Busy);
        unknown.session_id = Some("ses_unknown".into());
        let (mut ws, _) = a.connect(vec![unknown]).await;
        match agent::command(
            &mut ws,
            |c| matches!(c, Command::EndSession { session_id, .. } if session_id == "ses_unknown"),
        )
        .await
        {
            Command::EndSession { .. } => {}
            _ => unreachable!(),
        }
        let s = wait_session(&ctl, &promoted, "ended", |s| {
            s.session.state == SessionState::Ended
        })
        .await;
        assert_eq!(s.session.end_reason.map(|r| r.as_str()), Some("BOARD_LOST"));

        // Draining tells the agent and stops new placements there.
        let _: Board = ctl
            .ok(
                Method::PATCH,
                &format!("/v1/boards/{}", a.board_id),
                &ctl.op,
                Some(&UpdateBoard {
                    status: Some(BoardStatus::Draining),
                    ..Default::default()
                }),
                StatusCode::OK,
            )
            .await;
        match agent::command(&mut ws, |c| matches!(c, Command::Drain { .. })).await {
            Command::Drain { draining, notice } => assert!(draining && notice.is_some()),
            _ => unreachable!(),
        }
        agent::send(
            &mut ws,
            &AgentMessage::Heartbeat {
                telemetry: agent::telemetry(1.0),
            },
        )
        .await;
        assert!(
            matches!(acquire(&ctl, &by_link(&w, 5), None).await, AcquireResponse::Queued { reason, .. } if reason == "ROOM_FULL")
        );
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_positions_are_pushed_live_and_a_promotion_arrives_at_once() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let mut w = world(&ctl, 1, 1, 10).await;
        w.answer_ends();
        let playing = session_of(&acquire(&ctl, &by_link(&w, 0), None).await);
        let first = ticket_of(&acquire(&ctl, &by_link(&w, 1), None).await);
        let second = ticket_of(&acquire(&ctl, &by_link(&w, 2), None).await);
        let mut events = TicketEvents::open(&ctl, &second).await;
        let t = events.next().await;
        assert_eq!(
            (t.state, t.position, t.queue_length),
            (TicketState::Waiting, Some(2), 2)
        );
        // The one ahead gives up: the new position is pushed.
        let _: Ticket = ctl
            .ok::<(), _>(
                Method::DELETE,
                &format!("/v1/play/tickets/{first}"),
                &key(&ctl, Held::Ticket(&first)).await,
                None,
                StatusCode::OK,
            )
            .await;
        let t = events.next().await;
        assert_eq!(t.position, Some(1), "{t:?}");
        // The player leaves: the promotion (claimed by listening) is pushed, and the stream ends.
        leave(&ctl, &playing).await;
        // (Until the board has the instance back, the ticket is still first in line.)
        let t = loop {
            let t = events.next().await;
            if t.state != TicketState::Waiting {
                break t;
            }
            assert_eq!(t.position, Some(1), "{t:?}");
        };
        assert_eq!(t.state, TicketState::Claimed, "{t:?}");
        assert!(t.session_id.is_some());
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_kicks_need_a_confirm_token_and_shell_runs_are_audited_and_streamed_back() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let mut w = world(&ctl, 2, 2, 10).await;
        let ids: Vec<String> = futures_util::future::join_all((0..3).map(|i| {
            let (ctl, req) = (&ctl, by_link(&w, i));
            async move { session_of(&acquire(ctl, &req, None).await) }
        }))
        .await;
        // Count first: nothing is ended, a token comes back.
        let filter = BulkKick {
            game_id: Some(w.game.id.clone()),
            ..Default::default()
        };
        let counted: BulkKickAnswer = ctl
            .ok(
                Method::POST,
                "/v1/sessions/kick",
                &w.tenant_token,
                Some(&filter),
                StatusCode::OK,
            )
            .await;
        assert_eq!((counted.matched, counted.kicked), (3, 0));
        // Another tenant sees none of them; a forged token or another filter is refused.
        let (_, other) = ctl.tenant("Other").await;
        let theirs: BulkKickAnswer = ctl
            .ok(
                Method::POST,
                "/v1/sessions/kick",
                &other,
                Some(&filter),
                StatusCode::OK,
            )
            .await;
        assert_eq!(theirs.matched, 0);
        let forged = BulkKick {
            confirm: Some("00".repeat(32)),
            ..filter.clone()
        };
        ctl.problem(
            Method::POST,
            "/v1/sessions/kick",
            Some(&w.tenant_token),
            Some(&forged),
            StatusCode::CONFLICT,
            "CONFIRM_TOKEN_INVALID",
        )
        .await;
        let widened = BulkKick {
            game_id: None,
            confirm: counted.confirm_token.clone(),
            ..Default::default()
        };
        ctl.problem(
            Method::POST,
            "/v1/sessions/kick",
            Some(&w.tenant_token),
            Some(&widened),
            StatusCode::CONFLICT,
            "CONFIRM_TOKEN_INVALID",
        )
        .await;
        // With the token: all three end as KICKED, audited once.
        let confirmed = BulkKick {
            confirm: counted.confirm_token,
            ..filter
        };
        let done: BulkKickAnswer = ctl
            .ok(
                Method::POST,
                "/v1/sessions/kick",
                &w.tenant_token,
                Some(&confirmed),
                StatusCode::OK,
            )
            .await;
        assert_eq!(done.kicked, 3);
        for id in &ids {
            assert_eq!(
                play_session(&ctl, id)
                    .await
                    .session
                    .end_reason
                    .map(|r| r.as_str()),
                Some("KICKED")
            );
        }
        let audit: Page<AuditEntry> = ctl
            .ok::<(), _>(
                Method::GET,
                "/v1/audit?action=session.bulk_kick",
                &w.tenant_token,
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(audit.items.len(), 1);

        // Shell: tenants may not; operators' commands reach the agent and the output comes back.
        let (agent, ws) = (&w.agents[0], &mut w.sockets[0]);
        let board = agent.board_id.clone();
        let cmd = CreateShellRun {
            instance_id: "i-1".into(),
            command: "getprop ro.product.model".into(),
            timeout_secs: None,
        };
        ctl.problem(
            Method::POST,
            &format!("/v1/boards/{board}/shell"),
            Some(&w.tenant_token),
            Some(&cmd),
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
        )
        .await;
        let run: ShellRun = ctl
            .ok(
                Method::POST,
                &format!("/v1/boards/{board}/shell"),
                &ctl.op,
                Some(&cmd),
                StatusCode::ACCEPTED,
            )
            .await;
        assert_eq!(run.status, "running");
        let command_id = loop {
            match agent::recv(ws).await.expect("a command") {
                ControllerMessage::Command {
                    id,
                    command:
                        Command::Shell {
                            instance_id,
                            command,
                            timeout_secs,
                        },
                } => {
                    assert_eq!(
                        (instance_id.as_str(), command.as_str(), timeout_secs),
                        ("i-1", "getprop ro.product.model", 30)
                    );
                    break id;
                }
                _ => continue,
            }
        };
        agent::send(
            ws,
            &AgentMessage::ShellOutput {
                command_id: command_id.clone(),
                stream: OutputStream::Stdout,
                data: "Playrack ".into(),
                exit_code: None,
            },
        )
        .await;
        agent::send(
            ws,
            &AgentMessage::ShellOutput {
                command_id,
                stream: OutputStream::Stdout,
                data: "Virtual Device\n".into(),
                exit_code: Some(0),
            },
        )
        .await;
        let done = wait_value("the shell run to finish", SECS_20, || async {
            let r: ShellRun = ctl
                .get(&format!("/v1/shell-runs/{}", run.id), &ctl.op)
                .await;
            if r.status == "done" { Ok(r) } else { Err(r) }
        })
        .await;
        assert_eq!(
            (done.output.as_str(), done.exit_code),
            ("Playrack Virtual Device\n", Some(0))
        );
        let audit: Page<AuditEntry> = ctl
            .ok::<(), _>(
                Method::GET,
                &format!("/v1/audit?object_id={}", run.id),
                &ctl.op,
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(audit.items[0].action, "shell.run");
        assert_eq!(
            audit.items[0].summary["command"],
            "getprop ro.product.model"
        );
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_play_restores_the_players_newest_archive_and_a_missing_choice_is_refused() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let mut w = world(&ctl, 1, 2, 10).await;
        let link = w_link_of(&w);
        let (agent, ws) = (&w.agents[0], &mut w.sockets[0]);
        // First play: nothing to restore.
        let sid = session_of(&acquire(&ctl, &by_link(&link, 0), None).await);
        match agent::command(ws, |c| matches!(c, Command::PrepareSession { .. })).await {
            Command::PrepareSession { archive, .. } => assert!(archive.is_none()),
            _ => unreachable!(),
        }
        // The board saves the player's data at the end and uploads it with its hash.
        let tar = b"pretend this is data/data/com.playrack.demo.tapper as a tar.gz".to_vec();
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&tar));
        let resp = ctl
            .http
            .put(format!("{}/v1/agent/sessions/{sid}/archive", ctl.url))
            .bearer_auth(&agent.credential)
            .header("x-archive-sha256", &sha)
            .header("x-android-sdk", "33")
            .body(tar.clone())
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "{}",
            resp.text().await.unwrap_or_default()
        );
        leave(&ctl, &sid).await;
        // Next play of the same player: the prepare command carries that archive.
        let sid2 = session_of(&acquire(&ctl, &by_link(&link, 0), None).await);
        assert_ne!(sid2, sid);
        match agent::command(
            ws,
            |c| matches!(c, Command::PrepareSession { session_id, .. } if *session_id == sid2),
        )
        .await
        {
            Command::PrepareSession {
                archive: Some(a), ..
            } => {
                assert_eq!(
                    (a.sha256.as_str(), a.size_bytes),
                    (sha.as_str(), tar.len() as u64)
                );
                let got = ctl
                    .http
                    .get(format!("{}{}", ctl.url, a.url))
                    .bearer_auth(&agent.credential)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(
                    got.bytes().await.unwrap().to_vec(),
                    tar,
                    "the board can fetch it"
                );
            }
            other => panic!("{other:?}"),
        }
        // Asking for an archive that is not the player's is refused before anything is reserved.
        let req = AcquireRequest {
            archive_id: Some("arc_nope".into()),
            ..by_link(&link, 7)
        };
        let resp = ctl
            .http
            .post(format!("{}/v1/play/acquire", ctl.url))
            .json(&req)
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::NOT_FOUND,
            "{}",
            resp.text().await.unwrap_or_default()
        );
        ctl.stop().await;
    }
}

fn w_link_of(w: &World) -> World1 {
    World1 {
        link: w.link.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_spec_falls_back_along_the_games_list_the_lowest_spec_switch_caps_it_and_the_answer_says_so()
 {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let w = world(&ctl, 1, 1, 10).await;
        let board = w.agents[0].board_id.clone();
        let capacity =
            std::collections::BTreeMap::from([("hd-60".to_owned(), 2), ("sd-30".to_owned(), 2)]);
        let _: Board = ctl
            .ok(
                Method::PATCH,
                &format!("/v1/boards/{board}"),
                &ctl.op,
                Some(&UpdateBoard {
                    capacity: Some(capacity),
                    ..Default::default()
                }),
                StatusCode::OK,
            )
            .await;
        let now = array_controller::now();
        let _: Order = ctl
            .ok(
                Method::POST,
                "/v1/orders",
                &ctl.op,
                Some(&CreateOrder {
                    tenant_id: w.tenant.id.clone(),
                    spec_id: "sd-30".into(),
                    region_id: None,
                    room_ids: vec![play_session_room(&ctl, &w).await],
                    concurrency: 5,
                    valid_from: now.plus_secs(-60),
                    valid_until: now.plus_secs(3600),
                    priority: 0,
                    price_per_period_micros: 0,
                }),
                StatusCode::CREATED,
            )
            .await;
        match acquire(&ctl, &by_link(&w, 0), None).await {
            AcquireResponse::Assigned {
                spec_id,
                downgraded,
                ..
            } => assert_eq!((spec_id.as_str(), downgraded), ("hd-60", false)),
            other => panic!("{other:?}"),
        }
        // The lowest-spec switch for this tenant: the next play is SD though HD has room.
        let scope = format!("tenant:{}", w.tenant.id);
        let _: Switch = ctl
            .ok(
                Method::PUT,
                "/v1/switches",
                &ctl.op,
                Some(&serde_json::json!({"name": "lowest_spec", "scope": scope})),
                StatusCode::OK,
            )
            .await;
        let spec_of = |a: AcquireResponse| match a {
            AcquireResponse::Assigned {
                spec_id,
                downgraded,
                ..
            } => (spec_id, downgraded),
            other => panic!("{other:?}"),
        };
        let capped = spec_of(acquire(&ctl, &by_link(&w, 1), None).await);
        assert_eq!(capped, ("sd-30".to_owned(), true), "{backend}");
        let (status, text) = ctl
            .raw::<()>(
                Method::DELETE,
                &format!("/v1/switches/lowest_spec?scope={scope}"),
                Some(&ctl.op),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{text}");
        let free = spec_of(acquire(&ctl, &by_link(&w, 2), None).await);
        assert_eq!(free, ("hd-60".to_owned(), false), "{backend}");
        // HD is full now: the game's fallback order takes SD.
        let fallback = spec_of(acquire(&ctl, &by_link(&w, 3), None).await);
        assert_eq!(fallback, ("sd-30".to_owned(), true), "{backend}");
        ctl.stop().await;
    }
}

/// The room of the world's only board.
async fn play_session_room(ctl: &Ctl, w: &World) -> String {
    let b: Board = ctl
        .ok::<(), _>(
            Method::GET,
            &format!("/v1/boards/{}", w.agents[0].board_id),
            &ctl.op,
            None,
            StatusCode::OK,
        )
        .await;
    let a: Page<Array> = ctl
        .ok::<(), _>(
            Method::GET,
            "/v1/arrays?limit=200",
            &ctl.op,
            None,
            StatusCode::OK,
        )
        .await;
    a.items
        .into_iter()
        .find(|x| x.id == b.array_id)
        .unwrap()
        .room_id
}

/// The public link card: game name, public icon, trial, call to action and the ready rooms'
/// probe URLs; revoked links are 410 with a stable code, unknown ones 404, and a bad call to
/// action is refused without creating a link.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_card_shows_the_game_and_the_rooms_to_probe() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let w = world(&ctl, 1, 1, 1).await;
        let cta = CallToAction {
            label: "Get the full game".into(),
            url: "https://example.com/store".into(),
        };
        let link: Link = ctl
            .ok(
                Method::POST,
                "/v1/links",
                &w.tenant_token,
                Some(&CreateLink {
                    game_id: w.game.id.clone(),
                    trial_seconds: Some(90),
                    expires_at: None,
                    max_plays: None,
                    campaign: None,
                    cta: Some(cta.clone()),
                    connect_deadline_seconds: None,
                    embed_origins: vec![],
                }),
                StatusCode::CREATED,
            )
            .await;
        assert_eq!(link.cta.as_ref(), Some(&cta));
        // No account needed.
        let (status, card) = ctl
            .call::<(), LinkCard>(
                Method::GET,
                &format!("/v1/play/links/{}", link.code),
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let card = card.unwrap();
        assert_eq!(card.game_name, w.game.name);
        assert_eq!(card.trial_seconds, 90);
        assert_eq!(card.cta, Some(cta));
        assert_eq!(
            card.rooms,
            vec![RoomProbe {
                room_id: w.room.id.clone(),
                probe_url: w.room.probe_url.clone(),
            }]
        );
        let icon = card.icon_url.expect("the tapper fixture has an icon");
        let resp = ctl
            .http
            .get(format!("{}{icon}", ctl.url))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(resp.bytes().await.unwrap().starts_with(b"\x89PNG"));

        let (status, body) = ctl
            .raw::<()>(Method::GET, "/v1/play/links/nosuchcode", None, None)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        let _: Link = ctl
            .ok::<(), _>(
                Method::POST,
                &format!("/v1/links/{}/revoke", link.id),
                &w.tenant_token,
                None,
                StatusCode::OK,
            )
            .await;
        let (status, body) = ctl
            .raw::<()>(
                Method::GET,
                &format!("/v1/play/links/{}", link.code),
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::GONE);
        assert!(body.contains("LINK_REVOKED"), "{body}");
        let (status, _) = ctl
            .raw::<()>(
                Method::GET,
                &format!("/v1/play/links/{}/icon", link.code),
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::GONE);

        let links_before: Page<Link> = ctl.get("/v1/links", &w.tenant_token).await;
        for bad in [
            CallToAction {
                label: "".into(),
                url: "https://x.example".into(),
            },
            CallToAction {
                label: "ok".into(),
                url: "javascript:alert(1)".into(),
            },
        ] {
            let (status, body) = ctl
                .raw(
                    Method::POST,
                    "/v1/links",
                    Some(&w.tenant_token),
                    Some(&CreateLink {
                        game_id: w.game.id.clone(),
                        trial_seconds: None,
                        expires_at: None,
                        max_plays: None,
                        campaign: None,
                        cta: Some(bad),
                        connect_deadline_seconds: None,
                        embed_origins: vec![],
                    }),
                )
                .await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        }
        let links_after: Page<Link> = ctl.get("/v1/links", &w.tenant_token).await;
        assert_eq!(links_before.items.len(), links_after.items.len());
        ctl.stop().await;
    }
}

/// The queue monitor: waiting players in line order with their reason; tenants see their own
/// line only, operators every line (or one tenant's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_monitor_lists_waiting_players_in_order() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let w = world(&ctl, 1, 1, 1).await;
        let mut tickets = Vec::new();
        let mut sessions = Vec::new();
        for i in 0..3 {
            match acquire(&ctl, &by_link(&w, i), Some(&format!("q{i}"))).await {
                AcquireResponse::Queued { ticket_id, .. } => tickets.push(ticket_id),
                AcquireResponse::Assigned { session_id, .. } => sessions.push(session_id),
            }
        }
        assert_eq!(tickets.len(), 2, "one plays, two wait");
        let view: QueueView = ctl.get("/v1/queue", &w.tenant_token).await;
        assert_eq!(view.total, 2);
        let got: Vec<(String, u32)> = view
            .entries
            .iter()
            .map(|e| (e.ticket_id.clone(), e.position))
            .collect();
        assert_eq!(got, vec![(tickets[0].clone(), 1), (tickets[1].clone(), 2)]);
        assert!(view.entries.iter().all(|e| e.reason == "TENANT_QUOTA_FULL"
            && e.game_id == w.game.id
            && e.tenant_id == w.tenant.id));
        let all: QueueView = ctl.get("/v1/queue", &ctl.op).await;
        assert_eq!(all.total, 2);
        let other: QueueView = ctl.get("/v1/queue?tenant_id=ten_nobody", &ctl.op).await;
        assert_eq!(other.total, 0);
        let (_, t2) = ctl.tenant("Other").await;
        let theirs: QueueView = ctl.get("/v1/queue", &t2).await;
        assert!(theirs.entries.is_empty(), "another tenant sees nothing");
        // The one playing, read by id: its tenant and operators see it, nobody else.
        let path = format!("/v1/sessions/{}", sessions[0]);
        let s: Session = ctl.get(&path, &w.tenant_token).await;
        assert_eq!(
            (s.id.as_str(), s.game_id.as_str()),
            (sessions[0].as_str(), w.game.id.as_str())
        );
        let _: Session = ctl.get(&path, &ctl.op).await;
        let (status, _) = ctl.raw::<()>(Method::GET, &path, Some(&t2), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = ctl.raw::<()>(Method::GET, "/v1/queue", None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        ctl.stop().await;
    }
}

/// Ticket and session ids are shown to consoles, webhooks and audits; only the play key that
/// acquire (or a claim) returned lets anyone poll, follow, cancel, read connect info or leave.
/// The device id of an anonymous player is never shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_play_is_acted_on_only_with_its_play_key() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let mut w = world(&ctl, 1, 1, 10).await;
        w.answer_ends();
        let (session, session_key) = match acquire(&ctl, &by_link(&w, 0), Some("k0")).await {
            AcquireResponse::Assigned {
                session_id,
                play_key,
                ..
            } => (session_id, play_key),
            other => panic!("{other:?}"),
        };
        assert_eq!(session_key, key(&ctl, Held::Session(&session)).await);
        let (ticket, ticket_key) = match acquire(&ctl, &by_link(&w, 1), None).await {
            AcquireResponse::Queued {
                ticket_id,
                play_key,
                ..
            } => (ticket_id, play_key),
            other => panic!("{other:?}"),
        };
        assert_ne!(ticket_key, session_key);

        // A viewer sees the ids, and neither device id.
        let viewer = ctl.member(Some(&w.tenant.id), Role::TenantViewer).await;
        let live: Page<Session> = ctl.get("/v1/sessions?live=true", &viewer).await;
        assert_eq!(live.items[0].id, session);
        let queue: QueueView = ctl.get("/v1/queue", &viewer).await;
        assert_eq!(queue.entries[0].ticket_id, ticket);
        let shown = format!("{live:?} {queue:?}");
        assert!(
            !shown.contains(&device(0)) && !shown.contains(&device(1)),
            "{shown}"
        );
        assert_eq!(live.items[0].user, anonymous_user(&device(0)));

        // Without the key, with another play's key, or with an account token: refused.
        let sessions = format!("/v1/play/sessions/{session}");
        let tickets = format!("/v1/play/tickets/{ticket}");
        for token in [
            None,
            Some(ticket_key.as_str()),
            Some(viewer.as_str()),
            Some(ctl.op.as_str()),
        ] {
            for (method, path) in [
                (Method::GET, &sessions),
                (Method::DELETE, &sessions),
                (Method::GET, &tickets),
                (Method::DELETE, &tickets),
            ] {
                let token = if path == &tickets && token == Some(ticket_key.as_str()) {
                    Some(session_key.as_str()) // the other play's key
                } else {
                    token
                };
                let (status, code) = match token {
                    None => (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
                    Some(_) => (StatusCode::FORBIDDEN, "NOT_YOUR_PLAY"),
                };
                ctl.refused(method.clone(), path, token, None, status, code)
                    .await;
            }
        }
        let (status, _) = ctl
            .raw(
                Method::GET,
                &format!("{tickets}/events?key={session_key}"),
                None,
                None::<&()>,
            )
            .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{backend}: events with another key"
        );
        // Nothing was ended or cancelled by the refused requests.
        assert_ne!(
            play_session(&ctl, &session).await.session.state,
            SessionState::Ended
        );
        assert_eq!(poll(&ctl, &ticket).await.state, TicketState::Waiting);

        // The holder's key works, the event stream takes it as `?key=`, and a repeated acquire
        // (same idempotency key) answers with the same key, which the database does not keep.
        let s: PlaySession = ctl.get(&sessions, &session_key).await;
        assert_eq!(s.session.id, session);
        let mut events = TicketEvents::open(&ctl, &ticket).await;
        assert_eq!(events.next().await.id, ticket);
        match acquire(&ctl, &by_link(&w, 0), Some("k0")).await {
            AcquireResponse::Assigned { play_key, .. } => assert_eq!(play_key, session_key),
            other => panic!("{other:?}"),
        }
        let stored: Vec<String> = sqlx::query_scalar("SELECT response FROM idempotency")
            .fetch_all(&ctl.state().db.pool)
            .await
            .unwrap();
        assert!(
            !stored.is_empty() && stored.iter().all(|r| !r.contains("pk1_")),
            "{stored:?}"
        );

        // The player leaves with the key; the promoted ticket's claim hands over its session's key.
        let _: Session = ctl
            .ok::<(), _>(
                Method::DELETE,
                &sessions,
                &session_key,
                None,
                StatusCode::OK,
            )
            .await;
        let t = claimed(&ctl, &ticket, "the waiting player to be promoted").await;
        let next = t.session_id.clone().unwrap();
        assert_eq!(
            t.play_key.as_deref(),
            Some(key(&ctl, Held::Session(&next)).await.as_str())
        );
        ctl.stop().await;
    }
}

/// A new player-token key for the world's tenant.
async fn player_key(ctl: &Ctl, w: &World) -> PlayerKey {
    ctl.ok::<(), _>(
        Method::POST,
        &format!("/v1/tenants/{}/player-key", w.tenant.id),
        &w.tenant_token,
        None,
        StatusCode::CREATED,
    )
    .await
}

/// The acquire request of player `user` (at `level`) of the world's tenant, with a player
/// token signed with `secret`.
fn player_token_request(w: &World, secret: &str, user: &str, level: i32) -> AcquireRequest {
    let token = array_controller::play::identity::sign(
        secret,
        &array_controller::play::identity::TokenPayload {
            tenant: w.tenant.id.clone(),
            user: user.into(),
            exp: array_controller::now().millis() / 1000 + 600,
            level,
        },
    );
    AcquireRequest {
        game_id: Some(w.game.id.clone()),
        player_token: Some(token),
        ..Default::default()
    }
}

/// The secrets the controller reads back — tenants' player-token keys and the session signing
/// key — are stored sealed; ones stored in the clear by an earlier version are sealed at start;
/// a controller with another secret key refuses to start rather than mis-sign.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_secrets_are_sealed_and_open_only_with_the_secret_key() {
    for backend in backends() {
        let mut ctl = Ctl::start(backend).await;
        let w = world(&ctl, 1, 4, 10).await;
        let key = player_key(&ctl, &w).await;
        let signing = array_controller::play::lifecycle::signing_key(ctl.state())
            .await
            .unwrap();
        let stored = |ctl: &Ctl| {
            let pool = ctl.state().db.pool.clone();
            async move {
                let player: String = sqlx::query_scalar("SELECT secret FROM player_keys")
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                let session: String = sqlx::query_scalar("SELECT secret FROM signing_keys")
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                (player, session)
            }
        };
        let (player, session) = stored(&ctl).await;
        assert!(
            player.starts_with("v1:") && !player.contains(&key.secret),
            "{backend}"
        );
        assert!(session.starts_with("v1:") && !session.contains(&hex::encode(signing)));
        session_of(
            &acquire(
                &ctl,
                &player_token_request(&w, &key.secret, "alice", 0),
                None,
            )
            .await,
        );

        // As an earlier version stored them: in the clear. The next start seals them.
        let pool = ctl.state().db.pool.clone();
        sqlx::query("UPDATE player_keys SET secret = $1")
            .bind(&key.secret)
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("UPDATE signing_keys SET secret = $1")
            .bind(hex::encode(signing))
            .execute(&pool)
            .await
            .unwrap();
        ctl.restart().await;
        let (player, session) = stored(&ctl).await;
        assert!(
            player.starts_with("v1:") && session.starts_with("v1:"),
            "{backend}"
        );
        assert_eq!(
            array_controller::play::lifecycle::signing_key(ctl.state())
                .await
                .unwrap(),
            signing,
            "{backend}: the same signing key, sealed"
        );
        session_of(&acquire(&ctl, &player_token_request(&w, &key.secret, "bob", 0), None).await);

        // Another secret key cannot open them: the controller says so and does not start.
        let mut other = ctl.config.clone();
        other.secret_key = Some("ab".repeat(32));
        let err = array_controller::build_state(other)
            .await
            .err()
            .expect("refused");
        assert!(
            format!("{err:#}").contains("PLAYRACK_SECRET_KEY"),
            "{err:#}"
        );
        ctl.stop().await;
    }
}

/// A board's heartbeat with this CPU and temperature.
fn heartbeat(cpu: f32, temp: f32) -> AgentMessage {
    AgentMessage::Heartbeat {
        telemetry: Telemetry {
            temperatures_c: vec![40.0, temp],
            ..agent::telemetry(cpu)
        },
    }
}

/// Waits until the controller has the board's heartbeat with `temp`; its heat judgment then.
async fn heard_at(ctl: &Ctl, board_id: &str, temp: f32, cpu: f32) -> Option<String> {
    wait_value("the board's heartbeat", SECS_10, || async {
        let b: Board = ctl.get(&format!("/v1/boards/{board_id}"), &ctl.op).await;
        match &b.telemetry {
            Some(t) if t.temperatures_c.last() == Some(&temp) && t.cpu_percent == cpu => Ok(b.hot),
            other => Err(other.clone()),
        }
    })
    .await
}

const SECS_10: std::time::Duration = std::time::Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hot_board_takes_no_new_plays_until_it_cools_down() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let mut w = world(&ctl, 2, 1, 10).await;
        let (hot, cool) = (w.agents[0].board_id.clone(), w.agents[1].board_id.clone());
        let boards: Vec<support::agent::LiveBoard> = std::mem::take(&mut w.sockets)
            .into_iter()
            .map(|ws| support::agent::LiveBoard::spawn(ws, std::time::Duration::from_secs(3600)))
            .collect();
        // Each board's own first heartbeat (45 °C, 5 % CPU) is in before the test speaks.
        for b in [&hot, &cool] {
            assert_eq!(heard_at(&ctl, b, 45.0, 5.0).await, None, "{backend}");
        }

        // Over the room's 85 °C: out of placement, and the operator sees why.
        boards[0].send(heartbeat(20.0, 95.0)).await;
        let why = heard_at(&ctl, &hot, 95.0, 20.0).await;
        assert_eq!(
            why.as_deref(),
            Some("temperature 95 °C over the room's 85 °C"),
            "{backend}"
        );
        let first = acquire(&ctl, &w.by_link(1), None).await;
        let AcquireResponse::Assigned { board_id, .. } = &first else {
            panic!("{backend}: the cool board has a slot: {first:?}")
        };
        assert_eq!(board_id, &cool, "{backend}: never the hot board");
        let waiting = ticket_of(&acquire(&ctl, &w.by_link(2), None).await);

        // Just under the limit is not cool enough (no flapping); clearly under it is.
        boards[0].send(heartbeat(20.0, 82.0)).await;
        assert!(
            heard_at(&ctl, &hot, 82.0, 20.0).await.is_some(),
            "{backend}"
        );
        assert_eq!(poll(&ctl, &waiting).await.state, TicketState::Waiting);
        boards[0].send(heartbeat(20.0, 70.0)).await;
        assert_eq!(heard_at(&ctl, &hot, 70.0, 20.0).await, None, "{backend}");
        let promoted = wait_value("the waiting player placed", SECS_10, || async {
            let t = poll(&ctl, &waiting).await;
            t.session_id.clone().ok_or(t)
        })
        .await;
        assert_eq!(play_session(&ctl, &promoted).await.session.board_id, hot);

        // The limits are the room's: a lower CPU limit makes a busy board hot.
        let room: Room = ctl
            .ok(
                Method::PATCH,
                &format!("/v1/rooms/{}", w.room.id),
                &ctl.op,
                Some(&UpdateRoom {
                    max_cpu_percent: Some(50),
                    ..Default::default()
                }),
                StatusCode::OK,
            )
            .await;
        assert_eq!((room.max_cpu_percent, room.max_temperature_c), (50, 85));
        boards[1].send(heartbeat(60.0, 50.0)).await;
        assert_eq!(
            heard_at(&ctl, &cool, 50.0, 60.0).await.as_deref(),
            Some("CPU 60 % over the room's 50 %")
        );
        ctl.problem(
            Method::PATCH,
            &format!("/v1/rooms/{}", w.room.id),
            Some(&ctl.op),
            Some(&UpdateRoom {
                max_cpu_percent: Some(0),
                ..Default::default()
            }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        for b in boards {
            b.task.abort();
        }
        ctl.stop().await;
    }
}

/// The instance a board says serves a play is the play's instance in the live views (the
/// operator's live plays and shell form show it), whether the board says so in a report or
/// in its hello; the board's instance list shows it with its encoder and boot time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_views_name_the_instance_a_board_says_serves_the_play() {
    async fn instance_of(ctl: &Ctl, session: &str) -> Result<String, String> {
        let online: Page<OnlineEntry> = ctl.get("/v1/online", &ctl.op).await;
        online
            .items
            .into_iter()
            .find(|e| e.session_id == session)
            .and_then(|e| e.instance_id)
            .ok_or_else(|| format!("{session} has no instance yet"))
    }
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let mut w = world(&ctl, 1, 1, 2).await;
        let session = match acquire(&ctl, &by_link(&w, 0), None).await {
            AcquireResponse::Assigned { session_id, .. } => session_id,
            other => panic!("{backend}: {other:?}"),
        };
        assert!(instance_of(&ctl, &session).await.is_err(), "{backend}");
        let booted = playrack_wire::Timestamp::now();
        let serving = |id: &str| InstanceReport {
            session_id: Some(session.clone()),
            package: Some("dev.playrack.tapper".into()),
            encoder: Some("c2.rk.avc.encoder".into()),
            booted_at: Some(booted),
            ..agent::instance(id, InstanceState::Busy)
        };
        agent::send(
            &mut w.sockets[0],
            &AgentMessage::Instance {
                instance: serving("inst-a"),
            },
        )
        .await;
        let shown = wait_value("the reported instance", SECS_10, || {
            instance_of(&ctl, &session)
        })
        .await;
        assert_eq!(shown, "inst-a", "{backend}");
        let board = &w.agents[0].board_id;
        let listed: Vec<BoardInstance> = ctl
            .get(&format!("/v1/boards/{board}/instances"), &ctl.op)
            .await;
        let listed = listed.iter().find(|i| i.id == "inst-a").expect("listed");
        assert_eq!(
            (
                listed.state,
                listed.session_id.as_deref(),
                listed.encoder.as_deref(),
                listed.booted_at
            ),
            (
                InstanceState::Busy,
                Some(session.as_str()),
                Some("c2.rk.avc.encoder"),
                Some(booted)
            ),
            "{backend}"
        );
        // Only operators read a board's instances.
        let (status, _) = ctl
            .raw::<()>(
                Method::GET,
                &format!("/v1/boards/{board}/instances"),
                Some(&w.tenant_token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend}");
        // A board that comes back says in its hello which instance serves the play.
        drop(std::mem::take(&mut w.sockets));
        let (_ws, _) = w.agents[0].connect(vec![serving("inst-b")]).await;
        let shown = wait_value("the instance from the hello", SECS_10, || async {
            instance_of(&ctl, &session)
                .await
                .and_then(|i| (i == "inst-b").then_some(i.clone()).ok_or(i))
        })
        .await;
        assert_eq!(shown, "inst-b", "{backend}");
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plays_go_where_the_game_is_held_ready_and_boards_are_told_what_to_keep_ready() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let mut w = world(&ctl, 2, 2, 10).await;
        let (b0, b1) = (w.agents[0].board_id.clone(), w.agents[1].board_id.clone());
        let boards: Vec<support::agent::LiveBoard> = std::mem::take(&mut w.sockets)
            .into_iter()
            .map(|ws| support::agent::LiveBoard::spawn(ws, std::time::Duration::from_secs(3600)))
            .collect();
        for b in [&b0, &b1] {
            assert_eq!(heard_at(&ctl, b, 45.0, 5.0).await, None, "{backend}");
        }
        // Nobody has played: the sizing pass asks no board to keep anything ready.
        assert_eq!(
            array_controller::warmpool::pass(ctl.state()).await.unwrap(),
            0,
            "{backend}"
        );

        // The second board says it holds the game ready: the play goes there, although the
        // room's spread policy would pick the first (equally loaded, lower id).
        let ready = |warm| AgentMessage::Heartbeat {
            telemetry: Telemetry {
                temperatures_c: vec![46.0 + warm as f32],
                primed: vec![PrimedCount {
                    version_id: w.version.id.clone(),
                    spec_id: "hd-60".into(),
                    warm,
                }],
                ..agent::telemetry(5.0)
            },
        };
        boards[1].send(ready(1)).await;
        heard_at(&ctl, &b1, 47.0, 5.0).await;
        let first = acquire(&ctl, &w.by_link(1), None).await;
        let AcquireResponse::Assigned { board_id, .. } = &first else {
            panic!("{backend}: {first:?}")
        };
        assert_eq!(board_id, &b1, "{backend}: the board holding the game ready");
        // It used it up: now the spread policy decides (the first board is less loaded).
        boards[1].send(ready(0)).await;
        heard_at(&ctl, &b1, 46.0, 5.0).await;
        let second = acquire(&ctl, &w.by_link(2), None).await;
        let AcquireResponse::Assigned { board_id, .. } = &second else {
            panic!("{backend}: {second:?}")
        };
        assert_eq!(board_id, &b0, "{backend}");

        // Two plays started in the room within the window (5 min): the leader's pass asks for
        // one instance ready (2/300 s × a 30-s refill × 1.5, rounded up), on the board with the
        // most slots (equal: the lower id), with the game's package.
        assert_eq!(
            array_controller::warmpool::pass(ctl.state()).await.unwrap(),
            1,
            "{backend}"
        );
        let sha = w.version.sha256.clone().unwrap();
        let lists = wait_value("the board's warm games", SECS_10, || async {
            let l = boards[0].received(|c| matches!(c, Command::WarmGames { .. }));
            if l.is_empty() { Err(()) } else { Ok(l) }
        })
        .await;
        let Command::WarmGames { games, revision } = &lists[0] else {
            unreachable!()
        };
        assert!(*revision > 0);
        assert_eq!(games.len(), 1, "{backend}: {games:?}");
        assert_eq!(
            (
                games[0].version_id.as_str(),
                games[0].spec_id.as_str(),
                games[0].count
            ),
            (w.version.id.as_str(), "hd-60", 1)
        );
        assert_eq!(games[0].package_sha256, sha);
        assert_eq!(
            games[0].package_name,
            w.version.apk.as_ref().unwrap().package
        );
        assert!(
            boards[1]
                .received(|c| matches!(c, Command::WarmGames { .. }))
                .is_empty()
        );
        // Nothing changed: nothing is sent again.
        assert_eq!(
            array_controller::warmpool::pass(ctl.state()).await.unwrap(),
            0,
            "{backend}"
        );
        ctl.stop().await;
    }
}

/// A link's limits hold at acquire: once `max_plays` plays were given a new player gets
/// `LINK_EXHAUSTED` (the player who has a play still gets it back), and past `expires_at` the
/// card and the acquire say `LINK_EXPIRED` — both 410, with nothing reserved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_past_its_expiry_or_its_plays_refuses_new_players() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let w = world(&ctl, 1, 3, 3).await;
        let new_link = async |max_plays| -> Link {
            ctl.ok(
                Method::POST,
                "/v1/links",
                &w.tenant_token,
                Some(&CreateLink {
                    game_id: w.game.id.clone(),
                    trial_seconds: None,
                    expires_at: None,
                    max_plays,
                    campaign: None,
                    cta: None,
                    connect_deadline_seconds: None,
                    embed_origins: vec![],
                }),
                StatusCode::CREATED,
            )
            .await
        };
        let req = |link: &Link, i| AcquireRequest {
            link: Some(link.code.clone()),
            device_id: Some(device(i)),
            ..Default::default()
        };
        let refused = async |req: &AcquireRequest, code: &str| {
            let (status, body) = ctl
                .raw(Method::POST, "/v1/play/acquire", None, Some(req))
                .await;
            assert_eq!(status, StatusCode::GONE, "{backend}: {body}");
            assert!(body.contains(code), "{backend}: {body}");
        };

        let once = new_link(Some(1)).await;
        let first = acquire(&ctl, &req(&once, 1), None).await;
        let again = acquire(&ctl, &req(&once, 1), None).await;
        assert_eq!(session_of(&first), session_of(&again), "{backend}");
        refused(&req(&once, 2), "LINK_EXHAUSTED").await;
        let seen: Link = ctl
            .get(&format!("/v1/links/{}", once.id), &w.tenant_token)
            .await;
        assert_eq!(seen.plays_used, 1, "{backend}");

        let dated = new_link(None).await;
        sqlx::query("UPDATE links SET expires_at = $1 WHERE id = $2")
            .bind(playrack_wire::time::Timestamp::now().plus_secs(-1).millis())
            .bind(&dated.id)
            .execute(&ctl.state().db.pool)
            .await
            .unwrap();
        refused(&req(&dated, 3), "LINK_EXPIRED").await;
        let (status, body) = ctl
            .raw::<()>(
                Method::GET,
                &format!("/v1/play/links/{}", dated.code),
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::GONE, "{backend}");
        assert!(body.contains("LINK_EXPIRED"), "{backend}: {body}");
        // Nothing was reserved for the refused players: one play in use, the first one.
        let online: Page<OnlineEntry> = ctl.get("/v1/online", &w.tenant_token).await;
        assert_eq!(online.items.len(), 1, "{backend}");
        ctl.stop().await;
    }
}

/// A tenant's backend signs player tokens with any JWT library: the Node and Python snippets
/// shipped with the SDK (standard libraries only) sign tokens that acquire; a token under
/// another key is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_signed_by_the_node_and_python_snippets_acquire() {
    let ctl = Ctl::start("sqlite").await;
    let w = world(&ctl, 1, 2, 2).await;
    let key = player_key(&ctl, &w).await;
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk-h5/examples");
    let sign = |program: &str, script: &str, user: &str, key: &str| {
        let out = std::process::Command::new(program)
            .arg(examples.join(script))
            .args([w.tenant.id.as_str(), user, key, "2"])
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let request = |token: String| AcquireRequest {
        game_id: Some(w.game.id.clone()),
        player_token: Some(token),
        ..Default::default()
    };
    for (program, script, user) in [
        ("node", "player-token.mjs", "node-player"),
        ("python3", "player_token.py", "python-player"),
    ] {
        let token = sign(program, script, user, &key.secret);
        let a = acquire(&ctl, &request(token), None).await;
        assert!(
            matches!(a, AcquireResponse::Assigned { .. }),
            "{program}: {a:?}"
        );
    }
    let forged = sign(
        "node",
        "player-token.mjs",
        "someone",
        "not the tenant's key",
    );
    let (status, body) = ctl
        .raw(
            Method::POST,
            "/v1/play/acquire",
            None,
            Some(&request(forged)),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("signature"), "{body}");
    ctl.stop().await;
}
