//! The whole flow against a real controller (SQLite) and the real agent (process driver, one
//! warm virtual device): the operator creates a region and a room whose shared volume is the
//! controller's own package store; a tenant uploads, publishes and deploys `tapper-v1.apk`; the
//! agent enrols with the room's token, syncs the package (rsync from the plain path) and the
//! room's deployment becomes ready; with an order and a link, a player acquires a play → the
//! agent gets `PrepareSession`, installs the game and starts the scrcpy server on the warm
//! instance, reports ready → the player's session view is `ready` with connect info whose
//! token verifies against the key the agent got at enrolment. Leaving the play sends
//! `EndSession`: the agent stops the server and the instance goes back to the warm pool.

mod support;

#[allow(unused_imports)]
#[path = "../../array-controller/tests/support/mod.rs"]
mod ctl;

use std::collections::BTreeMap;
use std::time::Duration;

use node_agent::agent::Agent;
use node_agent::config::{Config, RuntimeKind};
use node_agent::runtime::InstanceSpec;
use playrack_wire::agent::{EnrolmentToken, InstanceState};
use playrack_wire::api::*;
use reqwest::{Method, StatusCode};
use support::{virtual_device, wait_until};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn play_session(ctl: &ctl::Ctl, id: &str) -> PlaySession {
    ctl.ok::<(), _>(
        Method::GET,
        &format!("/v1/play/sessions/{id}"),
        "player",
        None,
        StatusCode::OK,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_acquires_a_play_the_real_agent_prepares_it_and_leaving_releases_it() {
    let started = std::time::Instant::now();
    let ctl = ctl::Ctl::start("sqlite").await;
    let store = ctl.config.package_store.clone();

    // Operator: specs, region, room (its shared volume is the controller's package store).
    ctl.specs().await;
    let region = ctl.region("east").await;
    let room: Room = ctl
        .ok(
            Method::POST,
            "/v1/rooms",
            &ctl.op,
            Some(&CreateRoom {
                region_id: region.id.clone(),
                name: "r1".into(),
                instance_cap: 100,
                shared_volume: store.to_string_lossy().into_owned(),
                probe_url: "http://127.0.0.1:1/probe".into(),
                placement: Placement::Spread,
            }),
            StatusCode::CREATED,
        )
        .await;
    let token: EnrolmentToken = ctl
        .ok::<(), _>(
            Method::POST,
            &format!("/v1/rooms/{}/enrolment-token", room.id),
            &ctl.op,
            None,
            StatusCode::CREATED,
        )
        .await;

    // Tenant: upload, publish, deploy to the room.
    let (tenant, t) = ctl.tenant("Acme").await;
    let game = ctl.game(&t, "tapper").await;
    let v = ctl
        .upload(&t, &game.id, &ctl::fixture("tapper-v1.apk"))
        .await;
    let _: Version = ctl
        .ok::<(), _>(
            Method::POST,
            &format!("/v1/versions/{}/publish", v.id),
            &t,
            None,
            StatusCode::OK,
        )
        .await;
    let sha = v.sha256.clone().expect("a READY version has its hash");
    let _: Deployment = ctl
        .ok(
            Method::PUT,
            &format!("/v1/versions/{}/deployment", v.id),
            &t,
            Some(&SetDeployment {
                room_ids: vec![room.id.clone()],
            }),
            StatusCode::OK,
        )
        .await;

    // The real agent: process driver, one warm instance of the order's spec (small, so the
    // debug-built encoder keeps up), shared volume = the package store as a plain path.
    let agent_dir = tempfile::tempdir().unwrap();
    let jar = agent_dir.path().join("scrcpy-server.jar");
    std::fs::write(&jar, b"PK\x03\x04 the injector").unwrap();
    let mut config = Config::with_data_dir(agent_dir.path().join("agent"));
    config.controller_url = ctl.url.clone();
    config.enrolment_token = Some(token.token.clone());
    config.serial = "RK-FLOW-0001".into();
    config.model = "RK3588".into();
    config.capacity = BTreeMap::from([("hd-60".to_owned(), 1)]);
    let spec = InstanceSpec::parse("hd-60=360x640@30").unwrap();
    config.specs = BTreeMap::from([(spec.id.clone(), spec)]);
    config.warm = BTreeMap::from([("hd-60".to_owned(), 1)]);
    config.runtime = RuntimeKind::Process;
    config.virtual_device = virtual_device();
    config.adb_port = free_port();
    config.injector_jar = Some(jar);
    config.shared_volume = store.to_string_lossy().into_owned();
    config.signaling_url = "ws://127.0.0.1:7700/v1/signal".into();
    let running = Agent::start(config).await.unwrap();
    let _adb_guard = support::AdbGuard(running.agent.adb.clone());
    let agent = running.agent.clone();
    let board_id = agent.credential.board_id.clone();
    let key = agent
        .credential
        .session_token_key
        .clone()
        .expect("the enrolment gives the session-token key");

    // The package syncs into the agent's cache, the room's deployment becomes ready, and the
    // board is online with its warm instance.
    assert!(
        wait_until(Duration::from_secs(30), async || {
            let d: Deployment = ctl
                .get(&format!("/v1/versions/{}/deployment", v.id), &t)
                .await;
            let boards: Page<Board> = ctl.get("/v1/boards", &ctl.op).await;
            agent.packages.get(&sha).is_some()
                && d.rooms
                    .iter()
                    .all(|r| r.state == DeploymentRoomState::Ready)
                && boards.items.iter().any(|b| {
                    b.id == board_id
                        && b.agent_state == AgentState::Online
                        && b.telemetry.as_ref().is_some_and(|t| t.instances_warm == 1)
                })
        })
        .await,
        "package synced, deployment ready, board online with a warm instance"
    );

    // An order and a link.
    let now = array_controller::now();
    let _: Order = ctl
        .ok(
            Method::POST,
            "/v1/orders",
            &ctl.op,
            Some(&CreateOrder {
                tenant_id: tenant.id.clone(),
                spec_id: "hd-60".into(),
                region_id: Some(region.id.clone()),
                room_ids: vec![],
                concurrency: 1,
                valid_from: now.plus_secs(-60),
                valid_until: now.plus_secs(3600),
                priority: 0,
            }),
            StatusCode::CREATED,
        )
        .await;
    let link: Link = ctl
        .ok(
            Method::POST,
            "/v1/links",
            &t,
            Some(&CreateLink {
                game_id: game.id.clone(),
                trial_seconds: Some(120),
                expires_at: None,
                max_plays: None,
                campaign: None,
                cta: None,
            }),
            StatusCode::CREATED,
        )
        .await;

    // The player acquires: a session on this board, prepared by the agent.
    let req = AcquireRequest {
        link: Some(link.code.clone()),
        device_id: Some(ctl::device(1)),
        ..Default::default()
    };
    let session_id = match ctl::acquire(&ctl, &req, None).await {
        AcquireResponse::Assigned {
            session_id,
            board_id: b,
            ..
        } => {
            assert_eq!(b, board_id);
            session_id
        }
        other => panic!("expected a session: {other:?}"),
    };
    assert!(
        wait_until(Duration::from_secs(40), async || {
            play_session(&ctl, &session_id).await.session.state == SessionState::Ready
        })
        .await,
        "the session never became ready: {:?}",
        play_session(&ctl, &session_id).await
    );
    {
        let plays = agent.plays().lock().await;
        let p = plays.get(&session_id).expect("the agent holds the play");
        assert_eq!(
            p.video_codec,
            android_injector::scrcpy::stream::CODEC_ID_H264
        );
        assert_eq!(
            p.audio_codec,
            Some(android_injector::scrcpy::stream::CODEC_ID_OPUS)
        );
        assert!(p.control.is_some());
    }
    let slot = agent
        .pool
        .slots()
        .into_iter()
        .find(|s| s.session_id.as_deref() == Some(session_id.as_str()))
        .expect("an instance is this play's");
    assert_eq!(slot.state, InstanceState::Busy);
    let serial = slot.instance.as_ref().unwrap().serial();
    let o = agent.adb.shell(&serial, "pm list packages").await.unwrap();
    assert!(
        o.stdout
            .lines()
            .any(|l| l.trim().starts_with("package:") && l.contains("tapper")),
        "the game is installed: {}",
        o.stdout
    );

    // The connect info: the token verifies offline with the enrolment key, for this board.
    let view = play_session(&ctl, &session_id).await;
    let connect = view.connect.expect("a ready session has connect info");
    assert_eq!(connect.signaling_url, "ws://127.0.0.1:7700/v1/signal");
    let claims = playrack_wire::session_token::verify(
        &key,
        &connect.token,
        &board_id,
        array_controller::now().millis() / 1000,
    )
    .expect("the session token verifies with the enrolment key");
    assert_eq!(claims.session, session_id);
    assert_eq!(claims.board, board_id);

    // The player leaves: EndSession reaches the agent, which releases the instance.
    let _: Session = ctl
        .ok::<(), _>(
            Method::DELETE,
            &format!("/v1/play/sessions/{session_id}"),
            "player",
            None,
            StatusCode::OK,
        )
        .await;
    assert!(
        wait_until(Duration::from_secs(30), async || {
            agent.plays().lock().await.is_empty()
                && agent
                    .pool
                    .slots()
                    .iter()
                    .all(|s| s.session_id.is_none() && s.state == InstanceState::Warm)
        })
        .await,
        "the play never ended on the agent: {:?}",
        agent.pool.slots()
    );
    let o = agent.adb.run(&["forward", "--list"]).await.unwrap();
    assert!(o.stdout.trim().is_empty(), "{}", o.stdout);
    assert_eq!(
        play_session(&ctl, &session_id).await.session.state,
        SessionState::Ended
    );

    running.stop().await;
    ctl.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}
