//! Link and campaign figures on SQLite and PostgreSQL: card opens, acquires (and those that
//! queued), plays that started, their billable seconds (exactly the ledger's) and
//! call-to-action clicks are counted per link and day; a campaign sums its links; another
//! tenant sees none of it; bad ranges are refused.

use playrack_test_support as support;

use array_controller::metering;
use array_controller::play::lifecycle;
use playrack_wire::api::{AcquireResponse, Campaign, EndReason, Figures, LinkFigures, Page};
use reqwest::{Method, StatusCode};
use std::time::Duration;
use support::{Ctl, acquire, backends, wait_for, world};

async fn figures(ctl: &Ctl, path: &str, token: &str) -> LinkFigures {
    ctl.get(path, token).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_and_campaigns_count_what_happened() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        // One board with two slots, an order of two: the third player queues.
        let w = world(&ctl, 1, 2, 2).await;
        let pool = &ctl.state().db.pool;
        sqlx::query("UPDATE links SET campaign = 'spring', cta_label = 'Install', cta_url = 'https://store.example/x' WHERE id = $1")
            .bind(&w.link.id)
            .execute(pool)
            .await
            .unwrap();
        let code = &w.link.code;

        // Three opens of the card, two clicks on the call to action (public, counted in batches).
        for _ in 0..3 {
            let (status, _) = ctl
                .raw::<()>(Method::GET, &format!("/v1/play/links/{code}"), None, None)
                .await;
            assert_eq!(status, StatusCode::OK);
        }
        for _ in 0..2 {
            let (status, body) = ctl
                .raw::<()>(
                    Method::POST,
                    &format!("/v1/play/links/{code}/cta"),
                    None,
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        }
        ctl.problem::<()>(
            Method::POST,
            "/v1/play/links/NO-SUCH-CODE/cta",
            None,
            None,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;

        // Two players get a place, a third queues; player 0 asks again (not a new acquire).
        let (s0, _) = w.play(&ctl, 0).await;
        let (_s1, _) = w.play(&ctl, 1).await;
        assert!(matches!(
            acquire(&ctl, &w.by_link(2), None).await,
            AcquireResponse::Queued { .. }
        ));
        let _ = w.play(&ctl, 0).await;

        // Player 0 plays 90 s and leaves: one play, its billable seconds as the ledger has them.
        let mut tx = ctl.state().db.write().await.unwrap();
        metering::on_session_start_at(&mut tx, &s0, array_controller::now().plus_secs(-90))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        lifecycle::end_session(ctl.state(), &s0, EndReason::UserLeft)
            .await
            .unwrap();
        let billed: i64 =
            sqlx::query_scalar("SELECT billable_secs FROM usage_ledger WHERE session_id = $1")
                .bind(&s0)
                .fetch_one(pool)
                .await
                .unwrap();
        assert!((89..=91).contains(&billed), "{backend}: {billed}");

        let want = Figures {
            opens: 3,
            acquires: 3,
            queued: 1,
            plays: 1,
            play_seconds: billed as u64,
            conversions: 2,
        };
        let link_path = format!("/v1/links/{}/figures", w.link.id);
        wait_for(
            "the public counts to be written",
            Duration::from_secs(10),
            || async { figures(&ctl, &link_path, &w.tenant_token).await.total == want },
        )
        .await;
        let f = figures(&ctl, &link_path, &w.tenant_token).await;
        assert_eq!(f.link_id.as_deref(), Some(w.link.id.as_str()));
        assert_eq!(f.days.len(), 1, "{backend}: {f:?}");
        assert_eq!(f.days[0].figures, want);
        let today = array_controller::now().to_string()[..10].to_owned();
        assert_eq!(f.days[0].day, today);

        // The campaign sums its links: a second link of the spring campaign adds its opens.
        let second = ctl.link(&w.tenant_token, &w.game.id, None).await;
        sqlx::query("UPDATE links SET campaign = 'spring' WHERE id = $1")
            .bind(&second.id)
            .execute(pool)
            .await
            .unwrap();
        let (status, _) = ctl
            .raw::<()>(
                Method::GET,
                &format!("/v1/play/links/{}", second.code),
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let campaigns: Page<Campaign> = ctl.get("/v1/campaigns", &w.tenant_token).await;
        assert_eq!(campaigns.items.len(), 1, "{backend}: {campaigns:?}");
        assert_eq!(campaigns.items[0].name, "spring");
        assert_eq!(campaigns.items[0].links, 2);
        wait_for("the campaign's opens", Duration::from_secs(10), || async {
            figures(&ctl, "/v1/campaigns/spring/figures", &w.tenant_token)
                .await
                .total
                .opens
                == 4
        })
        .await;
        let c = figures(&ctl, "/v1/campaigns/spring/figures", &w.tenant_token).await;
        assert_eq!(c.campaign.as_deref(), Some("spring"));
        assert_eq!(c.total, Figures { opens: 4, ..want });
        let campaigns: Page<Campaign> = ctl.get("/v1/campaigns", &w.tenant_token).await;
        assert_eq!(campaigns.items[0].total, c.total, "the list sums the same");
        let long_ago: Page<Campaign> = ctl
            .get(
                "/v1/campaigns?from=2020-01-01&to=2020-02-01",
                &w.tenant_token,
            )
            .await;
        assert_eq!(long_ago.items[0].total, Figures::default(), "{backend}");
        // A day range that leaves today out is empty.
        let old = figures(
            &ctl,
            &format!("{link_path}?from=2020-01-01&to=2020-02-01"),
            &w.tenant_token,
        )
        .await;
        assert!(old.days.is_empty());
        assert_eq!(old.total, Figures::default());

        // Another tenant: not its link, and none of its campaigns.
        let (_, other) = ctl.tenant("Other").await;
        ctl.problem::<()>(
            Method::GET,
            &link_path,
            Some(&other),
            None,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
        let theirs: Page<Campaign> = ctl.get("/v1/campaigns", &other).await;
        assert!(theirs.items.is_empty());
        let c = figures(&ctl, "/v1/campaigns/spring/figures", &other).await;
        assert_eq!(
            c.total,
            Figures::default(),
            "{backend}: another tenant's campaign"
        );
        // Operators name the tenant.
        ctl.problem::<()>(
            Method::GET,
            "/v1/campaigns",
            Some(&ctl.op),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        let theirs: Page<Campaign> = ctl
            .get(&format!("/v1/campaigns?tenant_id={}", w.tenant.id), &ctl.op)
            .await;
        assert_eq!(theirs.items.len(), 1);

        // Bad ranges say what to fix.
        for q in [
            "from=2026-02-01&to=2026-01-01",
            "from=yesterday",
            "from=2020-01-01&to=2026-01-01",
        ] {
            ctl.problem::<()>(
                Method::GET,
                &format!("{link_path}?{q}"),
                Some(&w.tenant_token),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
            )
            .await;
        }
    }
}
