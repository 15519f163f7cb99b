//! The usage ledger and the usage API on SQLite and PostgreSQL: one ledger row per session, even
//! when its end is reported twice, by different paths, or again after a controller restart; the
//! billable seconds and amount follow the billing rule; usage aggregates per day, game and spec,
//! for the caller's tenant only.

use playrack_test_support as support;

use array_controller::metering::{self, UsageRow};
use array_controller::play::lifecycle;
use playrack_wire::api::EndReason;
use reqwest::{Method, StatusCode};
use sqlx::Row;
use support::{Ctl, backends, world};

async fn ledger_rows(ctl: &Ctl, session: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM usage_ledger WHERE session_id = $1")
        .bind(session)
        .fetch_one(&ctl.state().db.pool)
        .await
        .unwrap()
}

async fn price(ctl: &Ctl) -> i64 {
    sqlx::query_scalar("SELECT price_per_minute_micros FROM specs WHERE id = 'hd-60'")
        .fetch_one(&ctl.state().db.pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_session_is_in_the_ledger_exactly_once() {
    for backend in backends() {
        let mut ctl = Ctl::start(backend).await;
        let mut w = world(&ctl, 1, 4, 10).await;
        let (played, _) = w.play(&ctl, 0).await;
        let (kicked, _) = w.play(&ctl, 1).await;
        let (survivor, _) = w.play(&ctl, 2).await;
        let began = array_controller::now().plus_secs(-90);
        ctl.started_at(&played, began).await;
        // A second start report changes nothing.
        ctl.started_at(&played, array_controller::now()).await;

        // Ended twice through the queue.
        assert!(
            lifecycle::end_session(ctl.state(), &played, EndReason::UserLeft)
                .await
                .unwrap()
        );
        assert!(
            !lifecycle::end_session(ctl.state(), &played, EndReason::UserLeft)
                .await
                .unwrap()
        );
        // Kicked twice by the tenant, then ended again by the player leaving.
        for _ in 0..2 {
            let _: playrack_wire::api::Session = ctl
                .ok::<(), _>(
                    Method::POST,
                    &format!("/v1/sessions/{kicked}/kick"),
                    &w.tenant_token,
                    None,
                    StatusCode::OK,
                )
                .await;
        }
        assert!(
            !lifecycle::end_session(ctl.state(), &kicked, EndReason::UserLeft)
                .await
                .unwrap()
        );
        assert_eq!(ledger_rows(&ctl, &played).await, 1, "{backend}");
        assert_eq!(ledger_rows(&ctl, &kicked).await, 1, "{backend}");
        assert_eq!(
            ledger_rows(&ctl, &survivor).await,
            0,
            "{backend}: still live"
        );

        // The third play's start was recorded only by the session itself (no start hook).
        let survivor_began = array_controller::now().plus_secs(-30);
        sqlx::query("UPDATE sessions SET playing_since = $1 WHERE id = $2")
            .bind(survivor_began.millis())
            .bind(&survivor)
            .execute(&ctl.state().db.pool)
            .await
            .unwrap();

        // A restart, then the ends are reported again (and the live one ends).
        drop(std::mem::take(&mut w.sockets));
        ctl.restart().await;
        assert!(
            !lifecycle::end_session(ctl.state(), &played, EndReason::BoardLost)
                .await
                .unwrap()
        );
        lifecycle::end_session(ctl.state(), &survivor, EndReason::UserLeft)
            .await
            .unwrap();
        lifecycle::end_session(ctl.state(), &survivor, EndReason::UserLeft)
            .await
            .unwrap();
        for s in [&played, &kicked, &survivor] {
            assert_eq!(ledger_rows(&ctl, s).await, 1, "{backend}: {s}");
        }
        // Writing the row again directly is a no-op; inserting a duplicate is impossible.
        let mut tx = ctl.state().db.write().await.unwrap();
        assert!(
            metering::record_end(&mut tx, &played)
                .await
                .unwrap()
                .is_none()
        );
        let dup = sqlx::query(
            "INSERT INTO usage_ledger (session_id, tenant_id, game_id, spec_id, room_id, board_id, user_key, end_reason, \
             reserved_at, started_at, ended_at, billable_secs, price_per_minute_micros, amount_micros) \
             SELECT session_id, tenant_id, game_id, spec_id, room_id, board_id, user_key, end_reason, reserved_at, \
             started_at, ended_at, billable_secs, price_per_minute_micros, amount_micros FROM usage_ledger WHERE session_id = $1",
        )
        .bind(&played)
        .execute(&mut **tx)
        .await;
        assert!(
            dup.is_err(),
            "{backend}: the primary key refuses a second row"
        );
        drop(tx);
        assert_eq!(ledger_rows(&ctl, &played).await, 1);

        // Billable time: from the start of play to the end, whole seconds, at the spec's price.
        let r = sqlx::query("SELECT * FROM usage_ledger WHERE session_id = $1")
            .bind(&played)
            .fetch_one(&ctl.state().db.pool)
            .await
            .unwrap();
        let (started, ended): (Option<i64>, i64) = (
            r.try_get("started_at").unwrap(),
            r.try_get("ended_at").unwrap(),
        );
        assert_eq!(
            started,
            Some(began.millis()),
            "{backend}: the first start counts"
        );
        let secs: i64 = r.try_get("billable_secs").unwrap();
        assert_eq!(secs, (ended - began.millis()) / 1000);
        assert!((90..100).contains(&secs), "{backend}: {secs}");
        let p = price(&ctl).await;
        assert_eq!(r.try_get::<i64, _>("price_per_minute_micros").unwrap(), p);
        assert_eq!(r.try_get::<i64, _>("amount_micros").unwrap(), secs * p / 60);
        assert_eq!(r.try_get::<String, _>("end_reason").unwrap(), "USER_LEFT");
        assert_eq!(r.try_get::<String, _>("room_id").unwrap(), w.room.id);
        let (started, secs): (Option<i64>, i64) = sqlx::query_as(
            "SELECT started_at, billable_secs FROM usage_ledger WHERE session_id = $1",
        )
        .bind(&survivor)
        .fetch_one(&ctl.state().db.pool)
        .await
        .unwrap();
        assert_eq!(started, Some(survivor_began.millis()));
        assert!((30..40).contains(&secs), "{backend}: {secs}");
        // The kicked session never started playing: recorded, with nothing to bill.
        let r = sqlx::query("SELECT * FROM usage_ledger WHERE session_id = $1")
            .bind(&kicked)
            .fetch_one(&ctl.state().db.pool)
            .await
            .unwrap();
        assert_eq!(r.try_get::<String, _>("end_reason").unwrap(), "KICKED");
        assert_eq!(r.try_get::<Option<i64>, _>("started_at").unwrap(), None);
        assert_eq!(r.try_get::<i64, _>("billable_secs").unwrap(), 0);
        assert_eq!(r.try_get::<i64, _>("amount_micros").unwrap(), 0);
        ctl.stop().await;
    }
}

#[derive(serde::Deserialize)]
struct Report {
    items: Vec<UsageRow>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_is_aggregated_per_day_game_and_spec_for_the_callers_tenant() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let w = world(&ctl, 1, 4, 10).await;
        let now = array_controller::now();
        let mut sessions = Vec::new();
        for (i, played_secs) in [(0, Some(60)), (1, Some(120)), (2, None)] {
            let (s, _) = w.play(&ctl, i).await;
            if let Some(secs) = played_secs {
                ctl.started_at(&s, now.plus_secs(-secs)).await;
            }
            assert!(
                lifecycle::end_session(ctl.state(), &s, EndReason::UserLeft)
                    .await
                    .unwrap()
            );
            sessions.push(s);
        }
        // The second play is moved to the day before.
        sqlx::query("UPDATE usage_ledger SET ended_at = ended_at - 86400000 WHERE session_id = $1")
            .bind(&sessions[1])
            .execute(&ctl.state().db.pool)
            .await
            .unwrap();
        let rows = sqlx::query(
            "SELECT session_id, ended_at, billable_secs, amount_micros FROM usage_ledger",
        )
        .fetch_all(&ctl.state().db.pool)
        .await
        .unwrap();
        let fact = |s: &str, col: &str| -> i64 {
            rows.iter()
                .find(|r| r.try_get::<String, _>("session_id").unwrap() == s)
                .unwrap()
                .try_get(col)
                .unwrap()
        };
        let day = |s: &str| metering::day_name(fact(s, "ended_at") / metering::DAY_MS);
        let (today, yesterday) = (day(&sessions[0]), day(&sessions[1]));
        assert_ne!(today, yesterday);
        let secs = |s: &str| fact(s, "billable_secs") as u64;
        let amount = |s: &str| fact(s, "amount_micros");
        assert!(secs(&sessions[0]) >= 60 && secs(&sessions[1]) >= 120);

        let report: Report = ctl.get("/v1/usage", &w.tenant_token).await;
        let row = |day: &str, n, s, a| UsageRow {
            day: Some(day.to_owned()),
            game_id: Some(w.game.id.clone()),
            spec_id: Some("hd-60".into()),
            sessions: n,
            billable_secs: s,
            amount_micros: a,
        };
        assert_eq!(
            report.items,
            vec![
                row(&yesterday, 1, secs(&sessions[1]), amount(&sessions[1])),
                row(&today, 2, secs(&sessions[0]), amount(&sessions[0])),
            ],
            "{backend}"
        );
        // Grouped by game only (and by spec only): one row with everything.
        let total_secs = secs(&sessions[0]) + secs(&sessions[1]);
        let total_amount = amount(&sessions[0]) + amount(&sessions[1]);
        let by_game: Report = ctl.get("/v1/usage?group_by=game", &w.tenant_token).await;
        assert_eq!(
            by_game.items,
            vec![UsageRow {
                day: None,
                game_id: Some(w.game.id.clone()),
                spec_id: None,
                sessions: 3,
                billable_secs: total_secs,
                amount_micros: total_amount,
            }]
        );
        let by_spec: Report = ctl.get("/v1/usage?group_by=spec", &w.tenant_token).await;
        assert_eq!(by_spec.items[0].spec_id.as_deref(), Some("hd-60"));
        assert_eq!(by_spec.items[0].sessions, 3);
        let by_day: Report = ctl.get("/v1/usage?group_by=day", &w.tenant_token).await;
        assert_eq!(by_day.items.len(), 2);
        // A window: from today's date on, only today's plays.
        let from_today: Report = ctl
            .get(&format!("/v1/usage?from={today}"), &w.tenant_token)
            .await;
        assert_eq!(from_today.items.len(), 1);
        assert_eq!(from_today.items[0].sessions, 2);
        let until_today: Report = ctl
            .get(
                &format!("/v1/usage?from={yesterday}&to={today}"),
                &w.tenant_token,
            )
            .await;
        assert_eq!(until_today.items.len(), 1);
        assert_eq!(
            until_today.items[0].day.as_deref(),
            Some(yesterday.as_str())
        );

        // Operators see any tenant's; other tenants see none of it.
        let op: Report = ctl
            .get(&format!("/v1/usage?tenant_id={}", w.tenant.id), &ctl.op)
            .await;
        assert_eq!(op.items, report.items);
        let (_, other) = ctl.tenant("Globex").await;
        let theirs: Report = ctl.get("/v1/usage", &other).await;
        assert!(theirs.items.is_empty());
        ctl.refused(
            Method::GET,
            &format!("/v1/usage?tenant_id={}", w.tenant.id),
            Some(&other),
            None,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
        for bad in ["/v1/usage?group_by=room", "/v1/usage?from=yesterday"] {
            ctl.refused(
                Method::GET,
                bad,
                Some(&w.tenant_token),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
            )
            .await;
        }
        ctl.stop().await;
    }
}
