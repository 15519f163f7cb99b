//! Degrade switches on SQLite and PostgreSQL (there with two replicas on one database): an
//! operator admin turns one on through one replica and the other acts on it within a second —
//! new plays queue with `NEW_PLAYS_PAUSED` (for the platform, or the play's room; another
//! tenant's switch leaves them alone) and start once the switch is off; watch links answer
//! `SPECTATORS_OFF` while spectating is off; another tenant's lowest-spec cap is seen there too
//! (its effect on placement is in the play suite); webhook deliveries wait while paused (observed
//! over several of the sender's passes) and go out after, none lost; a play ends without
//! keeping a save while saves are off. Each flip is audited with the switch before and after; bad switches and
//! scopes are refused with what to fix; tenants cannot flip switches and see only those that
//! affect them.

use playrack_test_support as support;

use array_controller::play::lifecycle;
use array_controller::state::AppState;
use playrack_wire::api::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::{Ctl, backends, wait_for, world};

/// `POST /v1/play/acquire` at the controller at `url`.
async fn acquire_at(ctl: &Ctl, url: &str, req: &AcquireRequest) -> AcquireResponse {
    let resp = ctl
        .http
        .post(format!("{url}/v1/play/acquire"))
        .json(req)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

/// Waits until `state`'s view of the switches says `want`, asserting it took under a second
/// from `since`.
async fn seen(
    backend: &str,
    state: &AppState,
    since: Instant,
    what: &str,
    want: impl Fn(&array_controller::switches::Active) -> bool,
) {
    wait_for(what, Duration::from_secs(2), || async {
        want(&state.switches.now())
    })
    .await;
    assert!(
        since.elapsed() < Duration::from_secs(1),
        "{backend}: {what} took {:?}",
        since.elapsed()
    );
}

fn paused(a: &AcquireResponse) -> bool {
    matches!(a, AcquireResponse::Queued { reason, .. } if reason == "NEW_PLAYS_PAUSED")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn switches_take_effect_on_every_replica_within_a_second() {
    for backend in backends() {
        let ctl = Ctl::start_with(backend, |c| {
            c.webhook_allow_private_targets = true;
            c.webhook_retry_base_ms = 200;
        })
        .await;
        let mut w = world(&ctl, 1, 8, 10).await;
        // PostgreSQL: switches flipped through A, acted on by B. SQLite has one replica.
        let b = match backend {
            "postgres" => Some(ctl.replica().await),
            _ => None,
        };
        let (other, url) = match &b {
            Some(b) => (b.state.clone(), b.url()),
            None => (ctl.state().clone(), ctl.url.clone()),
        };
        let on = |body: serde_json::Value| {
            let ctl = &ctl;
            async move {
                ctl.ok::<_, Switch>(
                    Method::PUT,
                    "/v1/switches",
                    &ctl.op,
                    Some(&body),
                    StatusCode::OK,
                )
                .await
            }
        };
        let off = |name: &'static str, scope: String| {
            let ctl = &ctl;
            async move {
                let (status, text) = ctl
                    .raw::<()>(
                        Method::DELETE,
                        &format!("/v1/switches/{name}?scope={scope}"),
                        Some(&ctl.op),
                        None,
                    )
                    .await;
                assert_eq!(status, StatusCode::NO_CONTENT, "{text}");
            }
        };

        // New plays paused for the platform: the other replica queues a new player.
        let t = Instant::now();
        let s = on(json!({"name": "new_plays", "scope": "platform", "note": "database failover"}))
            .await;
        assert_eq!(
            (s.name, s.scope.as_str()),
            (SwitchName::NewPlays, "platform")
        );
        // The note is the operators': the tenant sees the switch that holds its players, not why.
        let by_op: Vec<Switch> = ctl.get("/v1/switches", &ctl.op).await;
        assert_eq!(by_op[0].note.as_deref(), Some("database failover"));
        let by_tenant: Vec<Switch> = ctl.get("/v1/switches", &w.tenant_token).await;
        assert_eq!(
            (
                by_tenant.len(),
                by_tenant[0].name,
                by_tenant[0].note.as_deref()
            ),
            (1, SwitchName::NewPlays, None),
            "{backend}: {by_tenant:?}"
        );
        seen(
            backend,
            &other,
            t,
            "new plays paused on the other replica",
            |a| a.stops(SwitchName::NewPlays, &w.tenant.id),
        )
        .await;
        let q = acquire_at(&ctl, &url, &w.by_link(0)).await;
        assert!(paused(&q), "{backend}: {q:?}");
        // Off again: the queued player starts without asking anew.
        let t = Instant::now();
        off("new_plays", "platform".into()).await;
        seen(
            backend,
            &other,
            t,
            "new plays back on the other replica",
            |a| !a.stops(SwitchName::NewPlays, &w.tenant.id),
        )
        .await;
        wait_for(
            "the paused player to be placed",
            Duration::from_secs(10),
            || async {
                matches!(
                    acquire_at(&ctl, &url, &w.by_link(0)).await,
                    AcquireResponse::Assigned { .. }
                )
            },
        )
        .await;
        let (sid, _) = match acquire_at(&ctl, &url, &w.by_link(0)).await {
            AcquireResponse::Assigned {
                session_id,
                board_id,
                ..
            } => (session_id, board_id),
            other => panic!("{other:?}"),
        };

        // Paused in the play's room: queued; another tenant's switch leaves the play alone.
        let room = format!("room:{}", w.room.id);
        let t = Instant::now();
        on(json!({"name": "new_plays", "scope": room})).await;
        seen(
            backend,
            &other,
            t,
            "the room paused on the other replica",
            |a| a.stops_room(&w.room.id, &w.room.region_id),
        )
        .await;
        assert!(paused(&acquire_at(&ctl, &url, &w.by_link(1)).await));
        off("new_plays", room.clone()).await;
        let (rival, _) = ctl.tenant("Rival").await;
        let t = Instant::now();
        on(json!({"name": "new_plays", "scope": format!("tenant:{}", rival.id)})).await;
        seen(
            backend,
            &other,
            t,
            "the rival paused on the other replica",
            |a| a.stops(SwitchName::NewPlays, &rival.id),
        )
        .await;
        // The rival's plays capped to the lowest spec: seen on the other replica too.
        let t = Instant::now();
        on(json!({"name": "lowest_spec", "scope": format!("tenant:{}", rival.id)})).await;
        seen(
            backend,
            &other,
            t,
            "the rival's spec cap on the other replica",
            |a| {
                a.stops(SwitchName::LowestSpec, &rival.id)
                    && !a.stops(SwitchName::LowestSpec, &w.tenant.id)
            },
        )
        .await;
        let a = acquire_at(&ctl, &url, &w.by_link(2)).await;
        let AcquireResponse::Assigned {
            session_id: sid2, ..
        } = a
        else {
            panic!("{backend}: {a:?}");
        };

        // Webhooks paused for the platform: the end of a play is delivered only once they
        // are back (the delivery waited; nothing is lost).
        let got = Arc::new(AtomicUsize::new(0));
        let hooks = axum::Router::new().route(
            "/hook",
            axum::routing::post({
                let got = got.clone();
                move || async move {
                    got.fetch_add(1, Ordering::SeqCst);
                    axum::http::StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, hooks).await.unwrap() });
        let hook: serde_json::Value = ctl
            .ok(
                Method::POST,
                "/v1/webhooks",
                &w.tenant_token,
                Some(&json!({"url": hook_url, "events": ["session.ended"]})),
                StatusCode::CREATED,
            )
            .await;
        let t = Instant::now();
        on(json!({"name": "webhooks", "scope": "platform"})).await;
        seen(
            backend,
            &other,
            t,
            "webhooks paused on the other replica",
            |a| a.platform(SwitchName::Webhooks),
        )
        .await;
        lifecycle::end_session(ctl.state(), &sid2, EndReason::UserLeft)
            .await
            .unwrap();
        let deliveries = format!("/v1/webhooks/{}/deliveries", hook["id"].as_str().unwrap());
        // Several of the sender's passes (every 100 ms here) go by with the delivery held.
        let held_since = Instant::now();
        while held_since.elapsed() < Duration::from_millis(800) {
            let items = ctl
                .get::<Page<serde_json::Value>>(&deliveries, &w.tenant_token)
                .await
                .items;
            assert_eq!(items.len(), 1, "{backend}: {items:?}");
            assert_eq!(items[0]["attempts"], 0, "{backend}: {items:?}");
            assert_eq!(
                got.load(Ordering::SeqCst),
                0,
                "{backend}: delivered while paused"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        off("webhooks", "platform".into()).await;
        wait_for(
            "the held delivery to go out",
            Duration::from_secs(5),
            || async { got.load(Ordering::SeqCst) == 1 },
        )
        .await;

        // Saves off for the tenant: a play ends without keeping one (the game keeps saves, so
        // with the switch off again the next play's end keeps its save).
        let t = Instant::now();
        let tenant_scope = format!("tenant:{}", w.tenant.id);
        on(json!({"name": "archives", "scope": tenant_scope})).await;
        seen(backend, &other, t, "saves off on the other replica", |a| {
            a.stops(SwitchName::Archives, &w.tenant.id)
        })
        .await;
        for (player, saves) in [(3, false), (4, true)] {
            if saves {
                off("archives", tenant_scope.clone()).await;
                wait_for("saves back", Duration::from_secs(2), || async {
                    !ctl.state()
                        .switches
                        .now()
                        .stops(SwitchName::Archives, &w.tenant.id)
                })
                .await;
            }
            let AcquireResponse::Assigned { session_id, .. } =
                acquire_at(&ctl, &url, &w.by_link(player)).await
            else {
                panic!("{backend}: player {player} not placed");
            };
            lifecycle::end_session(ctl.state(), &session_id, EndReason::UserLeft)
                .await
                .unwrap();
            lifecycle::tell_board(ctl.state(), &session_id, EndReason::UserLeft)
                .await
                .unwrap();
            let end = support::agent::command(&mut w.sockets[0], |c| {
                matches!(c, playrack_wire::agent::Command::EndSession { session_id: s, .. } if *s == session_id)
            })
            .await;
            let playrack_wire::agent::Command::EndSession { save_archive, .. } = end else {
                unreachable!()
            };
            assert_eq!(save_archive, saves, "{backend}: player {player}");
        }

        // Spectating off: the watch link answers SPECTATORS_OFF (503) until it is on again.
        let link: WatchLink = ctl
            .ok(
                Method::POST,
                &format!("/v1/sessions/{sid}/watch-links"),
                &w.tenant_token,
                Some(&json!({"max_viewers": 2})),
                StatusCode::CREATED,
            )
            .await;
        let code = link.code.expect("the code, once");
        let watch = format!("{url}/v1/play/watch/{code}");
        let t = Instant::now();
        on(json!({"name": "spectators", "scope": format!("tenant:{}", w.tenant.id)})).await;
        seen(
            backend,
            &other,
            t,
            "spectators off on the other replica",
            |a| a.stops(SwitchName::Spectators, &w.tenant.id),
        )
        .await;
        let resp = ctl.http.post(&watch).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(resp.headers().contains_key("retry-after"));
        let p: playrack_wire::Problem = resp.json().await.unwrap();
        assert_eq!(p.code, "SPECTATORS_OFF");
        off("spectators", format!("tenant:{}", w.tenant.id)).await;
        wait_for("watching back", Duration::from_secs(2), || async {
            ctl.http.post(&watch).send().await.unwrap().status() == StatusCode::OK
        })
        .await;

        // Each flip is in the switch's history, before and after.
        let h: Page<AuditEntry> = ctl
            .get("/v1/history/switch:new_plays@platform", &ctl.op)
            .await;
        let actions: Vec<&str> = h.items.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["switch.off", "switch.on"], "{backend}");
        assert!(h.items[0].after.is_none() && h.items[1].before.is_none());
        assert_eq!(
            h.items[1].after.as_ref().unwrap()["note"],
            "database failover"
        );

        // Tenants see what affects them, and flip nothing.
        let seen_by_tenant: Vec<Switch> = ctl.get("/v1/switches", &w.tenant_token).await;
        assert!(seen_by_tenant.is_empty(), "{backend}: {seen_by_tenant:?}");
        let all: Vec<Switch> = ctl.get("/v1/switches", &ctl.op).await;
        assert_eq!(all.len(), 2, "the rival's two: {all:?}");
        let rivals: Vec<Switch> = ctl
            .get(
                "/v1/switches",
                &ctl.member(Some(&rival.id), Role::TenantViewer).await,
            )
            .await;
        assert_eq!(rivals.len(), 2, "the rival sees its own: {rivals:?}");
        ctl.refused(
            Method::PUT,
            "/v1/switches",
            Some(&w.tenant_token),
            Some(&json!({"name": "new_plays", "scope": "platform"})),
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
        )
        .await;
        // Bad scopes and names say what to fix.
        for (body, says) in [
            (
                json!({"name": "new_plays", "scope": "room:room_none"}),
                "names nothing",
            ),
            (
                json!({"name": "spectators", "scope": room}),
                "not a region or room",
            ),
            (
                json!({"name": "webhooks", "scope": "everywhere"}),
                "not a scope",
            ),
        ] {
            let p = ctl
                .refused(
                    Method::PUT,
                    "/v1/switches",
                    Some(&ctl.op),
                    Some(&body),
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "VALIDATION_FAILED",
                )
                .await;
            assert!(p.detail.contains(says), "{body}: {}", p.detail);
        }
        ctl.refused(
            Method::DELETE,
            "/v1/switches/everything?scope=platform",
            Some(&ctl.op),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        ctl.refused(
            Method::DELETE,
            "/v1/switches/archives?scope=platform",
            Some(&ctl.op),
            None,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
        if let Some(b) = b {
            b.stop().await;
        }
        ctl.stop().await;
    }
}
