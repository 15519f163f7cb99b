//! Grey releases on SQLite and PostgreSQL, through the API and real acquires: a candidate
//! version goes to exactly the players the release's draw chooses (each keeps it across
//! replays), only through the link it names when it names one; its figures sit beside the
//! stable version's; rollback sends everyone back and promote publishes it to everyone, each
//! audited with the release before; bad requests are refused with their codes and another
//! tenant sees nothing.

use playrack_test_support as support;

use array_controller::grey::{Who, chooses};
use array_controller::metering;
use array_controller::play::lifecycle;
use array_controller::store::grey::GreyRow;
use playrack_wire::api::{AcquireResponse, EndReason, GreyRelease, GreyView, Session};
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{Ctl, acquire, backends, device, fixture, world};

/// Players drawn through the link.
const PLAYERS: usize = 40;

/// The version player `i` gets now (their play is ended again at once).
async fn version_of(ctl: &Ctl, w: &support::World, i: usize) -> String {
    let AcquireResponse::Assigned { session_id, .. } = acquire(ctl, &w.by_link(i), None).await
    else {
        panic!("{}: player {i} was queued", ctl.backend);
    };
    let s: Session = ctl
        .get(&format!("/v1/sessions/{session_id}"), &w.tenant_token)
        .await;
    lifecycle::end(ctl.state(), &session_id, EndReason::UserLeft)
        .await
        .unwrap();
    s.version_id
}

async fn release_row(ctl: &Ctl, game: &str) -> GreyRow {
    array_controller::store::grey::for_game(&ctl.state().db.pool, game)
        .await
        .unwrap()
        .expect("a release under way")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_share_of_players_gets_the_candidate_until_rollback_or_promotion() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        // Slots for every play the test makes: none has to wait for one to come back.
        let mut w = world(&ctl, 1, 200, 200).await;
        let t = w.tenant_token.clone();
        let me = ctl.me(&t).await.id;
        let stable = w.version.id.clone();
        let grey_path = format!("/v1/games/{}/grey", w.game.id);
        let v2 = ctl.upload(&t, &w.game.id, &fixture("tapper-v2.apk")).await;
        let set = |version: &str, percent: u32| json!({"version_id": version, "percent": percent});

        // Refused: not deployed yet, not newer, a share over 100, another game's link; another
        // tenant sees no such game.
        for (body, status, code) in [
            (set(&v2.id, 20), StatusCode::CONFLICT, "GREY_NOT_DEPLOYED"),
            (set(&stable, 20), StatusCode::CONFLICT, "GREY_NOT_NEWER"),
            (
                set(&v2.id, 101),
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
            ),
            (
                json!({"version_id": v2.id, "percent": 20, "link_id": "lnk_nope"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
            ),
        ] {
            ctl.problem(Method::PUT, &grey_path, Some(&t), Some(&body), status, code)
                .await;
        }
        let (_, other) = ctl.tenant("Other").await;
        for method in [Method::GET, Method::PUT] {
            ctl.problem(
                method,
                &grey_path,
                Some(&other),
                Some(&set(&v2.id, 20)),
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
            )
            .await;
        }

        // The candidate deployed to the room (the board has it).
        w.deploy_ready(&ctl, &v2).await;

        // Half the players: exactly those the draw chooses get the candidate, every time.
        let r: GreyRelease = ctl
            .ok(
                Method::PUT,
                &grey_path,
                &t,
                Some(&set(&v2.id, 50)),
                StatusCode::OK,
            )
            .await;
        assert_eq!((r.percent, r.version_id.as_str()), (50, v2.id.as_str()));
        assert_eq!(r.stable_version_id.as_deref(), Some(stable.as_str()));
        let started = ctl.audited("grey.start", &w.game.id, &me).await;
        assert!(
            started.before.is_none() && started.after.is_some(),
            "{backend}"
        );
        let row = release_row(&ctl, &w.game.id).await;
        let keys: Vec<String> = (0..PLAYERS)
            .map(|i| array_controller::play::identity::anonymous_user(&device(i)))
            .collect();
        let expected = |row: &GreyRow, i: usize| {
            let who = Who {
                user_key: &keys[i],
                link_id: Some(&w.link.id),
                campaign: None,
            };
            if chooses(row, who) {
                v2.id.clone()
            } else {
                stable.clone()
            }
        };
        let mut got = Vec::new();
        for i in 0..PLAYERS {
            let v = version_of(&ctl, &w, i).await;
            assert_eq!(v, expected(&row, i), "{backend}: player {i}");
            got.push(v);
        }
        let on_candidate = got.iter().filter(|v| **v == v2.id).count();
        assert!(
            (1..PLAYERS).contains(&on_candidate),
            "{backend}: {on_candidate} of {PLAYERS} on the candidate at 50 %"
        );
        for (i, before) in got.iter().enumerate().take(10) {
            assert_eq!(
                &version_of(&ctl, &w, i).await,
                before,
                "{backend}: replay {i}"
            );
        }

        // Raised to 80 %: everyone on the candidate stays there (the draw is kept).
        let _: GreyRelease = ctl
            .ok(
                Method::PUT,
                &grey_path,
                &t,
                Some(&set(&v2.id, 80)),
                StatusCode::OK,
            )
            .await;
        let changed = ctl.audited("grey.change", &w.game.id, &me).await;
        assert_eq!(changed.before.as_ref().unwrap()["percent"], 50);
        assert_eq!(changed.after.as_ref().unwrap()["percent"], 80);
        let wider = release_row(&ctl, &w.game.id).await;
        assert_eq!(wider.salt, row.salt, "{backend}: a change drew anew");
        for (i, before) in got.iter().enumerate() {
            let now = version_of(&ctl, &w, i).await;
            assert_eq!(now, expected(&wider, i), "{backend}: player {i} at 80 %");
            assert!(*before != v2.id || now == v2.id, "{backend}: {i} left");
        }

        // Figures side by side: a candidate play that crashed after a minute, a stable one that
        // played two.
        let cand = (0..PLAYERS).find(|i| got[*i] == v2.id).unwrap();
        let stab = (0..PLAYERS)
            .find(|i| expected(&wider, *i) == stable)
            .unwrap();
        for (i, secs, reason) in [
            (cand, 60, EndReason::AppCrashed),
            (stab, 120, EndReason::UserLeft),
        ] {
            let (s, _) = w.play(&ctl, i).await;
            let mut tx = ctl.state().db.write().await.unwrap();
            metering::on_session_start_at(&mut tx, &s, array_controller::now().plus_secs(-secs))
                .await
                .unwrap();
            tx.commit().await.unwrap();
            lifecycle::end(ctl.state(), &s, reason).await.unwrap();
        }
        let view: GreyView = ctl.get(&grey_path, &t).await;
        assert_eq!(view.versions.len(), 2, "{backend}: {view:?}");
        let (s, c) = (&view.versions[0], &view.versions[1]);
        assert_eq!(
            (s.version_id.as_str(), c.version_id.as_str()),
            (stable.as_str(), v2.id.as_str())
        );
        assert_eq!((c.plays, c.crashes), (1, 1), "{backend}: {view:?}");
        assert!((c.crash_rate - 1.0).abs() < 1e-9 && (59.0..=61.0).contains(&c.mean_play_secs));
        assert_eq!((s.plays, s.crashes), (1, 0), "{backend}: {view:?}");
        assert!(
            (119.0..=121.0).contains(&s.mean_play_secs),
            "{backend}: {view:?}"
        );

        // Rollback: everyone plays the published version again.
        let after: GreyView = ctl
            .ok(
                Method::POST,
                &format!("{grey_path}/end"),
                &t,
                Some(&json!({"outcome": "rollback"})),
                StatusCode::OK,
            )
            .await;
        assert!(after.release.is_none(), "{backend}");
        let rolled = ctl.audited("grey.rollback", &w.game.id, &me).await;
        assert!(
            rolled.before.is_some() && rolled.after.is_none(),
            "{backend}"
        );
        for i in 0..PLAYERS {
            assert_eq!(version_of(&ctl, &w, i).await, stable, "{backend}: {i}");
        }
        ctl.problem(
            Method::POST,
            &format!("{grey_path}/end"),
            Some(&t),
            Some(&json!({"outcome": "rollback"})),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;

        // Only through the link it names: a second link's players never get the candidate.
        let second = ctl.link(&t, &w.game.id, Some(120)).await;
        let _: GreyRelease = ctl
            .ok(
                Method::PUT,
                &grey_path,
                &t,
                Some(&json!({"version_id": v2.id, "percent": 100, "link_id": w.link.id})),
                StatusCode::OK,
            )
            .await;
        assert_eq!(version_of(&ctl, &w, 0).await, v2.id, "{backend}");
        for i in 0..5 {
            let req = playrack_wire::api::AcquireRequest {
                link: Some(second.code.clone()),
                ..w.by_link(i)
            };
            let AcquireResponse::Assigned { session_id, .. } = acquire(&ctl, &req, None).await
            else {
                panic!("{backend}: queued");
            };
            let s: Session = ctl.get(&format!("/v1/sessions/{session_id}"), &t).await;
            assert_eq!(
                s.version_id, stable,
                "{backend}: the other link's player {i}"
            );
            lifecycle::end(ctl.state(), &session_id, EndReason::UserLeft)
                .await
                .unwrap();
        }

        // Promote: the candidate is published and everyone gets it.
        let _: GreyView = ctl
            .ok(
                Method::POST,
                &format!("{grey_path}/end"),
                &t,
                Some(&json!({"outcome": "promote"})),
                StatusCode::OK,
            )
            .await;
        ctl.audited("grey.promote", &w.game.id, &me).await;
        let published = ctl.audited("version.publish", &v2.id, &me).await;
        assert!(published.after.as_ref().unwrap()["published_at"].is_string());
        for i in 0..5 {
            assert_eq!(version_of(&ctl, &w, i).await, v2.id, "{backend}: {i}");
        }
        let view: GreyView = ctl.get(&grey_path, &t).await;
        assert!(view.release.is_none());
        assert_eq!(view.versions[0].version_id, v2.id, "{backend}: {view:?}");
        ctl.stop().await;
    }
}
