//! Scheduled maintenance on SQLite and PostgreSQL: a room's window is announced to its board
//! ahead of time (with when it starts), then drains the board, ends the play still on it
//! `MAINTENANCE` with its save kept, takes no new plays there, and gives the board back when it
//! ends; every step is audited. Bad windows are refused with what to fix, tenants cannot
//! schedule one, and a window called off before it starts never starts.

use playrack_test_support as support;

use playrack_wire::agent::Command;
use playrack_wire::api::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;
use support::agent::command;
use support::{Ctl, acquire, backends, wait_for, world};

async fn window(ctl: &Ctl, id: &str) -> Maintenance {
    ctl.get(&format!("/v1/maintenance/{id}"), &ctl.op).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_is_announced_then_drains_ends_plays_and_gives_the_board_back() {
    for backend in backends() {
        let ctl = Ctl::start_with(backend, |c| c.maintenance_announce_secs = 2).await;
        let mut w = world(&ctl, 1, 2, 10).await;
        let (s0, board) = w.play(&ctl, 0).await;
        let now = array_controller::now();

        // Bad windows say what to fix; tenants schedule nothing.
        for (body, says) in [
            (
                json!({"room_id": w.room.id, "board_id": board, "starts_at": now.plus_secs(60), "ends_at": now.plus_secs(120)}),
                "exactly one",
            ),
            (
                json!({"starts_at": now.plus_secs(60), "ends_at": now.plus_secs(120)}),
                "exactly one",
            ),
            (
                json!({"room_id": "room_none", "starts_at": now.plus_secs(60), "ends_at": now.plus_secs(120)}),
                "no room",
            ),
            (
                json!({"room_id": w.room.id, "starts_at": now.plus_secs(60), "ends_at": now.plus_secs(30)}),
                "after starts_at",
            ),
            (
                json!({"room_id": w.room.id, "starts_at": now.plus_secs(-3600), "ends_at": now.plus_secs(30)}),
                "in the past",
            ),
        ] {
            let p = ctl
                .refused(
                    Method::POST,
                    "/v1/maintenance",
                    Some(&ctl.op),
                    Some(&body),
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "VALIDATION_FAILED",
                )
                .await;
            assert!(p.detail.contains(says), "{body}: {}", p.detail);
        }
        let soon = json!({"room_id": w.room.id, "starts_at": now.plus_secs(3),
                          "ends_at": now.plus_secs(6), "note": "power work"});
        ctl.refused(
            Method::POST,
            "/v1/maintenance",
            Some(&w.tenant_token),
            Some(&soon),
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
        )
        .await;

        // A window starting in 3 s, told 2 s ahead.
        let m: Maintenance = ctl
            .ok(
                Method::POST,
                "/v1/maintenance",
                &ctl.op,
                Some(&soon),
                StatusCode::CREATED,
            )
            .await;
        assert_eq!(m.state, MaintenanceState::Scheduled);
        let notice = command(&mut w.sockets[0], |c| matches!(c, Command::Notice { .. })).await;
        assert_eq!(
            notice,
            Command::Notice {
                notice: Some("power work".into()),
                at: Some(m.starts_at)
            },
            "{backend}"
        );
        assert!(
            array_controller::now() < m.starts_at,
            "{backend}: told before it starts"
        );
        assert_eq!(window(&ctl, &m.id).await.state, MaintenanceState::Announced);

        // It starts: the board is drained and its play ends MAINTENANCE, its save kept.
        command(&mut w.sockets[0], |c| {
            matches!(c, Command::Drain { draining: true, .. })
        })
        .await;
        let end = command(
            &mut w.sockets[0],
            |c| matches!(c, Command::EndSession { session_id, .. } if *session_id == s0),
        )
        .await;
        let Command::EndSession {
            reason,
            save_archive,
            ..
        } = end
        else {
            unreachable!()
        };
        assert_eq!((reason.as_str(), save_archive), ("MAINTENANCE", true));
        assert!(array_controller::now() >= m.starts_at);
        let b: Board = ctl.get(&format!("/v1/boards/{board}"), &ctl.op).await;
        assert_eq!(b.status, BoardStatus::Draining, "{backend}");
        let under_way = window(&ctl, &m.id).await;
        assert_eq!(under_way.state, MaintenanceState::UnderWay);
        assert_eq!(under_way.drained, std::slice::from_ref(&board));
        // Nothing new is placed there meanwhile.
        assert!(
            matches!(
                acquire(&ctl, &w.by_link(1), None).await,
                AcquireResponse::Queued { .. }
            ),
            "{backend}"
        );

        // It ends: the board takes plays again.
        command(&mut w.sockets[0], |c| {
            matches!(
                c,
                Command::Drain {
                    draining: false,
                    ..
                }
            )
        })
        .await;
        wait_for("the window over", Duration::from_secs(5), || async {
            window(&ctl, &m.id).await.state == MaintenanceState::Done
        })
        .await;
        let b: Board = ctl.get(&format!("/v1/boards/{board}"), &ctl.op).await;
        assert_eq!(b.status, BoardStatus::Active, "{backend}");
        let steps: Vec<AuditEntry> = ctl
            .list_all(&format!("/v1/audit?object_id={}", m.id), &ctl.op)
            .await;
        let actions: Vec<&str> = steps.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "maintenance.create",
                "maintenance.announced",
                "maintenance.under_way",
                "maintenance.done"
            ],
            "{backend}"
        );

        // A window called off before it starts never starts; over, it cannot be called off.
        let later: Maintenance = ctl
            .ok(
                Method::POST,
                "/v1/maintenance",
                &ctl.op,
                Some(&json!({"board_id": board, "starts_at": now.plus_secs(3600),
                             "ends_at": now.plus_secs(7200)})),
                StatusCode::CREATED,
            )
            .await;
        let off: Maintenance = ctl
            .ok::<(), _>(
                Method::POST,
                &format!("/v1/maintenance/{}/cancel", later.id),
                &ctl.op,
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(off.state, MaintenanceState::Cancelled);
        ctl.refused(
            Method::POST,
            &format!("/v1/maintenance/{}/cancel", later.id),
            Some(&ctl.op),
            None,
            StatusCode::CONFLICT,
            "MAINTENANCE_OVER",
        )
        .await;
        let listed: Page<Maintenance> = ctl.get("/v1/maintenance", &ctl.op).await;
        assert_eq!(
            listed
                .items
                .iter()
                .map(|m| m.id.as_str())
                .collect::<Vec<_>>(),
            [later.id.as_str(), m.id.as_str()],
            "newest first"
        );
        ctl.stop().await;
    }
}
