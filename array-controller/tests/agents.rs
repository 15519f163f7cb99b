//! The agent channel end to end, on SQLite and PostgreSQL: enrolment, the hello handshake,
//! heartbeats and telemetry, instance reports, the lease that turns a silent board LOST,
//! reconnects, and refusal of bad credentials and malformed messages.

use playrack_test_support as support;

use playrack_wire::agent::*;
use playrack_wire::api::*;
use reqwest::{Method, StatusCode};
use std::time::Duration;
use support::agent::{self, TestAgent};
use support::{Ctl, backends, wait_value};

/// A region and a room, and the room's enrolment token.
async fn room(ctl: &Ctl) -> (Room, String) {
    let region: Region = ctl
        .ok(
            Method::POST,
            "/v1/regions",
            &ctl.op,
            Some(&CreateRegion {
                name: "east".into(),
            }),
            StatusCode::CREATED,
        )
        .await;
    let room: Room = ctl
        .ok(
            Method::POST,
            "/v1/rooms",
            &ctl.op,
            Some(&CreateRoom {
                region_id: region.id,
                name: "nanjing-1".into(),
                instance_cap: 100,
                shared_volume: ctl.volume("nanjing-1"),
                probe_url: "http://127.0.0.1:1/probe".into(),
                placement: Placement::Spread,
                max_cpu_percent: None,
                max_temperature_c: None,
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
    (room, token.token)
}

async fn board(ctl: &Ctl, id: &str) -> Board {
    ctl.ok::<(), _>(
        Method::GET,
        &format!("/v1/boards/{id}"),
        &ctl.op,
        None,
        StatusCode::OK,
    )
    .await
}

/// Polls the board until `cond` holds (or fails after 20 s).
async fn wait_board(ctl: &Ctl, id: &str, what: &str, cond: impl Fn(&Board) -> bool) -> Board {
    wait_value(
        &format!("the board to become {what}"),
        Duration::from_secs(20),
        || async {
            let b = board(ctl, id).await;
            if cond(&b) { Ok(b) } else { Err(b) }
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_enrols_connects_heartbeats_and_is_lost_when_silent() {
    for backend in backends() {
        let ctl = Ctl::start_with(backend, |c| {
            c.agent_heartbeat_secs = 1;
            c.agent_lease_secs = 2;
        })
        .await;
        let (room, token) = room(&ctl).await;
        let a = TestAgent::enrol(&ctl.http, &ctl.url, &token, "RK-0001").await;
        let b = board(&ctl, &a.board_id).await;
        assert_eq!(b.serial, "RK-0001");
        assert_eq!(b.agent_state, AgentState::Offline);
        // It sits in the room that issued the token.
        let arrays: Page<Array> = ctl
            .ok::<(), _>(
                Method::GET,
                &format!("/v1/arrays?parent_id={}", room.id),
                &ctl.op,
                None,
                StatusCode::OK,
            )
            .await;
        assert!(arrays.items.iter().any(|arr| arr.id == b.array_id));

        let (mut ws, welcome) = a
            .connect(vec![agent::instance("i-1", InstanceState::Warm)])
            .await;
        assert_eq!(
            welcome,
            ControllerMessage::Welcome {
                heartbeat_secs: 1,
                lease_secs: 2
            }
        );
        wait_board(&ctl, &a.board_id, "online", |b| {
            b.agent_state == AgentState::Online
        })
        .await;
        agent::send(
            &mut ws,
            &AgentMessage::Heartbeat {
                telemetry: agent::telemetry(37.5),
            },
        )
        .await;
        let b = wait_board(&ctl, &a.board_id, "with telemetry", |b| {
            b.telemetry.is_some()
        })
        .await;
        assert_eq!(b.telemetry.unwrap().cpu_percent, 37.5);
        assert_eq!(b.agent_version.as_deref(), Some("test-agent/1"));

        // Silent past the lease (2 s): LOST, audited, and its connection is closed.
        wait_board(&ctl, &a.board_id, "lost", |b| {
            b.agent_state == AgentState::Lost
        })
        .await;
        assert!(agent::closed(&mut ws).await.is_some());
        let audit: Page<AuditEntry> = ctl
            .ok::<(), _>(
                Method::GET,
                &format!("/v1/audit?object_id={}&action=board.lost", a.board_id),
                &ctl.op,
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(audit.items.len(), 1);

        // It comes back: online again, and the hello replaces what it runs.
        let (_ws2, _) = a.connect(vec![]).await;
        wait_board(&ctl, &a.board_id, "online again", |b| {
            b.agent_state == AgentState::Online
        })
        .await;
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_and_bad_messages_are_refused_without_harming_other_boards() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let (_, token) = room(&ctl).await;
        // A wrong enrolment token.
        let resp = ctl
            .http
            .post(format!("{}/v1/agents/enrol", ctl.url))
            .json(&EnrolRequest {
                enrolment_token: "pre_nope".into(),
                serial: "X".into(),
                model: "RK3588".into(),
                capacity: Default::default(),
                agent_version: "1".into(),
            })
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

        let good = TestAgent::enrol(&ctl.http, &ctl.url, &token, "RK-0001").await;
        let other = TestAgent::enrol(&ctl.http, &ctl.url, &token, "RK-0002").await;
        // Another board's credential with a wrong secret, and garbage, are refused at the upgrade.
        let forged = format!("{}x", good.credential);
        assert!(good.open(&forged).await.is_err());
        assert!(good.open("pbc_garbage").await.is_err());
        // Enrolling an enrolled serial again (an impostor with the room's token) is refused,
        // and the board keeps its credential.
        let enrol = |serial: &'static str, token: String| {
            ctl.http
                .post(format!("{}/v1/agents/enrol", ctl.url))
                .json(&EnrolRequest {
                    enrolment_token: token,
                    serial: serial.into(),
                    model: "RK3588".into(),
                    capacity: Default::default(),
                    agent_version: "1".into(),
                })
                .send()
        };
        let resp = enrol("RK-0002", token.clone()).await.unwrap();
        assert_eq!(resp.status(), StatusCode::CONFLICT);
        let p: playrack_wire::Problem = resp.json().await.unwrap();
        assert_eq!(p.code, "BOARD_ALREADY_ENROLLED", "{p:?}");
        assert!(p.detail.contains("reset-enrolment"), "{p:?}");
        drop(
            other
                .open(&other.credential)
                .await
                .expect("still its credential"),
        );
        // An operator resets the board (a tenant may not): the credential stops working at
        // once and the board may enrol again, with a new one.
        let reset = format!("/v1/boards/{}/reset-enrolment", other.board_id);
        let viewer = ctl.member(None, Role::OperatorViewer).await;
        ctl.problem::<()>(
            Method::POST,
            &reset,
            Some(&viewer),
            None,
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
        )
        .await;
        let (status, _) = ctl
            .raw::<()>(Method::POST, &reset, Some(&ctl.op), None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let op_id = ctl.me(&ctl.op).await.id;
        ctl.audited("board.reset_enrolment", &other.board_id, &op_id)
            .await;
        assert!(other.open(&other.credential).await.is_err());
        let again = TestAgent::enrol(&ctl.http, &ctl.url, &token, "RK-0002").await;
        assert_eq!(again.board_id, other.board_id);
        assert_ne!(again.credential, other.credential);

        // Tokens expire: an expired one enrols nobody, and says so.
        let room_id: String = sqlx::query_scalar("SELECT id FROM rooms")
            .fetch_one(&ctl.state().db.pool)
            .await
            .unwrap();
        ctl.problem::<()>(
            Method::POST,
            &format!("/v1/rooms/{room_id}/enrolment-token?ttl_hours=0"),
            Some(&ctl.op),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        let short: EnrolmentToken = ctl
            .ok::<(), _>(
                Method::POST,
                &format!("/v1/rooms/{room_id}/enrolment-token?ttl_hours=1"),
                &ctl.op,
                None,
                StatusCode::CREATED,
            )
            .await;
        let in_an_hour = array_controller::now().plus_secs(3600).millis();
        assert!(
            (in_an_hour - short.expires_at.millis()).abs() < 60_000,
            "{short:?}"
        );
        sqlx::query("UPDATE rooms SET enrolment_token_expires_at = $1")
            .bind(array_controller::now().millis() - 1)
            .execute(&ctl.state().db.pool)
            .await
            .unwrap();
        let resp = enrol("RK-0003", short.token.clone()).await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        let p: playrack_wire::Problem = resp.json().await.unwrap();
        assert_eq!(p.code, "ENROLMENT_TOKEN_EXPIRED", "{p:?}");

        let (mut healthy, _) = good.connect(vec![]).await;
        // A hello naming another board is refused.
        let mut ws = again.open(&again.credential).await.unwrap();
        agent::send(
            &mut ws,
            &AgentMessage::Hello {
                protocol: AGENT_PROTOCOL_VERSION,
                board_id: good.board_id.clone(),
                agent_version: "1".into(),
                capacity: Default::default(),
                signaling_url: String::new(),
                instances: vec![],
            },
        )
        .await;
        assert!(
            agent::closed(&mut ws)
                .await
                .unwrap()
                .contains("another board")
        );
        // A wrong protocol version is refused with a reason.
        let mut ws = again.open(&again.credential).await.unwrap();
        agent::send(
            &mut ws,
            &AgentMessage::Hello {
                protocol: 99,
                board_id: again.board_id.clone(),
                agent_version: "1".into(),
                capacity: Default::default(),
                signaling_url: String::new(),
                instances: vec![],
            },
        )
        .await;
        assert!(
            agent::closed(&mut ws)
                .await
                .unwrap()
                .contains("protocol 99")
        );
        // Malformed JSON after a good hello closes that connection only.
        let (mut ws, _) = again.connect(vec![]).await;
        use futures_util::SinkExt;
        ws.send(tokio_tungstenite::tungstenite::Message::Text(
            "{\"type\":\"heartbeat\",\"telemetry\":7}".into(),
        ))
        .await
        .unwrap();
        assert!(agent::closed(&mut ws).await.unwrap().contains("malformed"));
        // The healthy board is unaffected.
        agent::send(
            &mut healthy,
            &AgentMessage::Heartbeat {
                telemetry: agent::telemetry(5.0),
            },
        )
        .await;
        wait_board(&ctl, &good.board_id, "heartbeating", |b| {
            b.telemetry.as_ref().is_some_and(|t| t.cpu_percent == 5.0)
        })
        .await;
        assert_eq!(
            board(&ctl, &good.board_id).await.agent_state,
            AgentState::Online
        );
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploying_tells_the_rooms_boards_to_sync_and_their_reports_move_the_deployment() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        ctl.specs().await;
        let (room, token) = room(&ctl).await;
        let (_, t) = ctl.tenant("Acme").await;
        let game = ctl.game(&t, "tapper").await;
        let v = ctl
            .upload(&t, &game.id, &support::fixture("tapper-v1.apk"))
            .await;
        let sha = v.sha256.clone().unwrap();
        let a = TestAgent::enrol(&ctl.http, &ctl.url, &token, "RK-0001").await;
        let (mut ws, _) = a.connect(vec![]).await;

        let d: Deployment = ctl
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
        assert_eq!(d.rooms[0].state, DeploymentRoomState::Pending);
        assert_eq!(
            d.rooms[0].boards,
            BoardTally {
                total: 1,
                ..BoardTally::default()
            }
        );
        // The package is placed on the room's volume first, then the connected board is told
        // where it is there.
        match agent::command(&mut ws, |c| matches!(c, Command::SyncPackage { .. })).await {
            Command::SyncPackage {
                sha256,
                size_bytes,
                source,
                volume,
            } => {
                assert_eq!(sha256, sha);
                assert_eq!(size_bytes, v.size_bytes);
                assert_eq!(source, format!("apk/{}/{sha}.apk", &sha[..2]));
                assert_eq!(volume.as_deref(), Some(room.shared_volume.as_str()));
            }
            _ => unreachable!(),
        }
        let on_volume =
            std::path::Path::new(&room.shared_volume).join(format!("apk/{}/{sha}.apk", &sha[..2]));
        assert_eq!(
            std::fs::read(&on_volume).unwrap(),
            std::fs::read(
                ctl.store_root()
                    .join(format!("apk/{}/{sha}.apk", &sha[..2]))
            )
            .unwrap(),
            "the room's volume holds the package"
        );
        let d: Deployment = ctl
            .get(&format!("/v1/versions/{}/deployment", v.id), &t)
            .await;
        assert_eq!(d.rooms[0].volume.state, VolumeCopyState::Placed);
        assert_eq!(d.rooms[0].volume.progress_percent, 100);
        // Its progress moves the room's state; once ready it stays ready.
        let report = |state, pct| AgentMessage::Deployment {
            sha256: sha.clone(),
            state,
            progress_percent: pct,
            error: None,
        };
        agent::send(&mut ws, &report(DeploymentRoomState::Syncing, 40)).await;
        let path = format!("/v1/versions/{}/deployment", v.id);
        let wait = |want: DeploymentRoomState, pct: u8| {
            let (ctl, t, path) = (&ctl, &t, &path);
            async move {
                let what = format!("the deployment to reach {want:?} {pct}");
                wait_value(&what, Duration::from_secs(20), || async {
                    let d: Deployment = ctl.get(path, t).await;
                    let r = &d.rooms[0];
                    if r.state == want && r.progress_percent == pct {
                        Ok(())
                    } else {
                        Err(d)
                    }
                })
                .await
            }
        };
        wait(DeploymentRoomState::Syncing, 40).await;
        let boards: Page<DeploymentBoard> = ctl
            .get(&format!("/v1/versions/{}/deployment/boards", v.id), &t)
            .await;
        assert_eq!(boards.items.len(), 1);
        assert_eq!(boards.items[0].board_id, a.board_id);
        assert_eq!(boards.items[0].room_id, room.id);
        assert_eq!(boards.items[0].state, DeploymentRoomState::Syncing);
        assert_eq!(boards.items[0].progress_percent, 40);
        agent::send(&mut ws, &report(DeploymentRoomState::Ready, 100)).await;
        wait(DeploymentRoomState::Ready, 100).await;
        let d: Deployment = ctl.get(&path, &t).await;
        assert_eq!(
            d.rooms[0].boards,
            BoardTally {
                total: 1,
                ready: 1,
                ..BoardTally::default()
            }
        );
        agent::send(&mut ws, &report(DeploymentRoomState::Failed, 0)).await;
        agent::send(
            &mut ws,
            &AgentMessage::Heartbeat {
                telemetry: agent::telemetry(1.0),
            },
        )
        .await;
        wait(DeploymentRoomState::Ready, 100).await;

        // A board of the room that connects later is told too.
        let b = TestAgent::enrol(&ctl.http, &ctl.url, &token, "RK-0002").await;
        let (mut ws2, _) = b.connect(vec![]).await;
        assert!(
            matches!(agent::command(&mut ws2, |c| matches!(c, Command::SyncPackage { .. })).await, Command::SyncPackage { sha256, .. } if sha256 == sha)
        );
        ctl.stop().await;
    }
}
