//! Bills on SQLite and PostgreSQL, through real plays and the API: the open statement and the
//! closed bill equal the usage ledger to the second and the micro-unit, with a play that crossed
//! the boundary from the previous month (billed whole in the month it ended, none of it in the
//! previous month's bill); an order is charged pro rata; a play ending after its period closed
//! goes to the next bill as a late line naming the closed one, which never changes; every
//! ledger row is in exactly one bill; `bill.closed` is queued; exports; tenants see only their
//! own bills.

use playrack_test_support as support;

use array_controller::bills::{self, PeriodKind};
use array_controller::play::lifecycle;
use playrack_wire::Timestamp;
use playrack_wire::api::{
    Bill, BillItemKind, BillState, CreateOrder, CreatedWebhook, EndReason, Order, Page, Session,
    WebhookDelivery,
};
use reqwest::{Method, StatusCode};
use sqlx::Row;
use support::{Ctl, backends, world};

const DAY_MS: i64 = 86_400_000;

/// The tenant's ledger rows that ended in `[from, until)`: (rows, seconds, amount).
async fn ledger(ctl: &Ctl, tenant: &str, from: i64, until: i64) -> (i64, i64, i64) {
    let r = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(billable_secs), 0) AS BIGINT) AS secs, \
         CAST(COALESCE(SUM(amount_micros), 0) AS BIGINT) AS amount FROM usage_ledger \
         WHERE tenant_id = $1 AND ended_at >= $2 AND ended_at < $3",
    )
    .bind(tenant)
    .bind(from)
    .bind(until)
    .fetch_one(&ctl.state().db.pool)
    .await
    .unwrap();
    (r.get("n"), r.get("secs"), r.get("amount"))
}

fn usage_of(b: &Bill, kind: BillItemKind) -> (u64, u64, i64) {
    b.items
        .iter()
        .filter(|i| i.kind == kind)
        .fold((0, 0, 0), |(n, s, a), i| {
            (n + i.sessions, s + i.quantity, a + i.amount_micros)
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_equal_the_ledger_and_closed_bills_never_change() {
    for backend in backends() {
        let ctl = Ctl::start_with(backend, |c| c.webhook_allow_private_targets = true).await;
        let w = world(&ctl, 1, 8, 8).await;
        let t = w.tenant_token.clone();
        let tenant = w.tenant.id.clone();
        let now = array_controller::now();
        let month = PeriodKind::Month;
        let (from, until) = (month.start_of(now.millis()), month.end_of(now.millis()));
        let next_until = month.end_of(until);

        // An order of 3 units for 10 days of this month at 31 a unit and month.
        let price = 31_000_000;
        let order: Order = ctl
            .ok(
                Method::POST,
                "/v1/orders",
                &ctl.op,
                Some(&CreateOrder {
                    tenant_id: tenant.clone(),
                    spec_id: "sd-30".into(),
                    region_id: Some(w.room.region_id.clone()),
                    room_ids: vec![],
                    concurrency: 3,
                    valid_from: Timestamp(from + DAY_MS),
                    valid_until: Timestamp(from + 11 * DAY_MS),
                    priority: 0,
                    price_per_period_micros: price,
                }),
                StatusCode::CREATED,
            )
            .await;
        assert_eq!(order.price_per_period_micros, price);
        let mut bad = serde_json::to_value(CreateOrder {
            tenant_id: tenant.clone(),
            spec_id: "sd-30".into(),
            region_id: Some(w.room.region_id.clone()),
            room_ids: vec![],
            concurrency: 1,
            valid_from: now,
            valid_until: now.plus_secs(60),
            priority: 0,
            price_per_period_micros: 0,
        })
        .unwrap();
        bad["price_per_period_micros"] = (-1).into();
        ctl.refused(
            Method::POST,
            "/v1/orders",
            Some(&ctl.op),
            Some(&bad),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        // A tenant webhook for closed bills (its target need not answer: the event is queued).
        let hook: CreatedWebhook = ctl
            .ok(
                Method::POST,
                "/v1/webhooks",
                &t,
                Some(&serde_json::json!({"url": "http://127.0.0.1:9/bills", "events": ["bill.closed"]})),
                StatusCode::CREATED,
            )
            .await;

        // The tenant has been billed since the previous month, whose period is still open.
        let prev_from = month.start_of(from - 1);
        sqlx::query(
            "INSERT INTO billing_accounts (tenant_id, open_from, open_until) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id) DO UPDATE SET open_from = excluded.open_from, open_until = excluded.open_until",
        )
        .bind(&tenant)
        .bind(prev_from)
        .bind(from)
        .execute(&ctl.state().db.pool)
        .await
        .unwrap();

        // A began in the previous month (90 s before this one) and ends now; B is a short play.
        let (a, _) = w.play(&ctl, 0).await;
        let (b, _) = w.play(&ctl, 1).await;
        let (c, _) = w.play(&ctl, 2).await;
        ctl.started_at(&a, Timestamp(from - 90_000)).await;
        ctl.started_at(&b, now.plus_secs(-75)).await;
        ctl.started_at(&c, now.plus_secs(-30)).await;
        for s in [&a, &b] {
            assert!(
                lifecycle::end_session(ctl.state(), s, EndReason::UserLeft)
                    .await
                    .unwrap()
            );
        }
        let a_ended: Session = ctl.get(&format!("/v1/sessions/{a}"), &t).await;
        let a_secs = (a_ended.ended_at.unwrap().millis() - (from - 90_000)) / 1000;

        // The previous month closes (here, or by the leader's own pass): A crossed its end, so
        // none of A is in it — a play is billed whole in the period it ended in.
        bills::close_due(ctl.state(), Timestamp(now.millis().max(from + 61_000)))
            .await
            .unwrap();
        let prev: Bill = ctl
            .get(
                &format!("/v1/bills/{}", bills::bill_id(&tenant, prev_from)),
                &t,
            )
            .await;
        assert_eq!(prev.state, BillState::Closed, "{backend}");
        assert_eq!(
            (prev.period_start.millis(), prev.period_end.millis()),
            (prev_from, from)
        );
        assert!(
            prev.items.is_empty() && prev.total_micros == 0,
            "{backend}: {prev:?}"
        );

        // The open statement is the ledger of this month so far, to the second.
        let open: Bill = ctl.get("/v1/bills/current", &t).await;
        assert_eq!(open.state, BillState::Open, "{backend}");
        assert_eq!(open.id, bills::bill_id(&tenant, from));
        assert_eq!(
            (open.period_start.millis(), open.period_end.millis()),
            (from, until)
        );
        let (rows, secs, amount) = ledger(&ctl, &tenant, from, until).await;
        assert_eq!(rows, 2, "{backend}");
        assert!(
            secs >= a_secs && secs <= a_secs + 76,
            "{backend}: {secs} vs {a_secs}"
        );
        assert_eq!(
            usage_of(&open, BillItemKind::Usage),
            (2, secs as u64, amount)
        );
        assert_eq!((open.usage_secs, open.usage_micros), (secs as u64, amount));
        // The usage API agrees.
        let report: playrack_wire::api::UsageReport = ctl
            .get(
                &format!(
                    "/v1/usage?from={}&to={}&group_by=spec",
                    Timestamp(from),
                    Timestamp(until)
                ),
                &t,
            )
            .await;
        let reported: u64 = report.items.iter().map(|r| r.billable_secs).sum();
        assert_eq!(reported, secs as u64);
        // The order's share: 3 units × 10 days of the month, rounded down once.
        let expected =
            (3 * i128::from(price) * i128::from(10 * DAY_MS) / i128::from(until - from)) as i64;
        let line = open
            .items
            .iter()
            .find(|i| i.order_id.as_deref() == Some(&order.id))
            .expect("the order's line");
        assert_eq!(
            (line.kind, line.quantity, line.amount_micros),
            (BillItemKind::Concurrency, 3, expected)
        );
        assert_eq!(line.covered_secs, 10 * 86_400);
        assert_eq!(
            open.total_micros,
            open.usage_micros + open.concurrency_micros
        );

        // The month ends; the leader's pass closes it (C is still playing).
        let closing = Timestamp(until + 61_000);
        assert!(bills::close_due(ctl.state(), closing).await.unwrap() >= 1);
        let closed: Bill = ctl.get(&format!("/v1/bills/{}", open.id), &t).await;
        assert_eq!(closed.state, BillState::Closed);
        assert_eq!(closed.closed_at, Some(closing));
        assert_eq!(
            closed.items, open.items,
            "{backend}: the bill is the statement it showed"
        );
        assert_eq!(closed.total_micros, open.total_micros);
        let queued: Vec<WebhookDelivery> = ctl
            .list_all(&format!("/v1/webhooks/{}/deliveries", hook.webhook.id), &t)
            .await;
        assert!(
            queued
                .iter()
                .any(|d| d.event_type == "bill.closed"
                    && d.event_id == format!("{}.closed", open.id)),
            "{backend}: {queued:?}"
        );

        // C ends now, after its month's bill closed: the next statement carries it as a late
        // line naming that bill, and the closed bill does not change.
        assert!(
            lifecycle::end_session(ctl.state(), &c, EndReason::UserLeft)
                .await
                .unwrap()
        );
        let next: Bill = ctl.get("/v1/bills/current", &t).await;
        assert_eq!(
            (next.period_start.millis(), next.period_end.millis()),
            (until, next_until)
        );
        let late: Vec<_> = next
            .items
            .iter()
            .filter(|i| i.kind == BillItemKind::Late)
            .collect();
        assert_eq!(late.len(), 1, "{backend}: {next:?}");
        assert_eq!(late[0].session_id.as_deref(), Some(c.as_str()));
        assert_eq!(late[0].late_from_bill_id.as_deref(), Some(open.id.as_str()));
        let (_, c_secs, c_amount) = ledger(&ctl, &tenant, from, until).await;
        assert_eq!(late[0].quantity as i64, c_secs - secs);
        assert_eq!(late[0].amount_micros, c_amount - amount);
        let again: Bill = ctl.get(&format!("/v1/bills/{}", open.id), &t).await;
        assert_eq!(again, closed, "{backend}: a closed bill never changes");
        // Closing again at the same time closes nothing; the next month's close takes C.
        assert_eq!(bills::close_due(ctl.state(), closing).await.unwrap(), 0);
        bills::close_due(ctl.state(), Timestamp(next_until + 61_000))
            .await
            .unwrap();
        let second: Bill = ctl.get(&format!("/v1/bills/{}", next.id), &t).await;
        assert_eq!(second.state, BillState::Closed);
        assert_eq!(
            usage_of(&second, BillItemKind::Late),
            (1, late[0].quantity, late[0].amount_micros)
        );
        let again: Bill = ctl.get(&format!("/v1/bills/{}", open.id), &t).await;
        assert_eq!(again, closed);
        // Every ledger row is in exactly one bill: the bills' seconds sum to the ledger's.
        let (_, all_secs, all_amount) = ledger(&ctl, &tenant, 0, i64::MAX).await;
        assert_eq!(
            prev.usage_secs + closed.usage_secs + second.usage_secs,
            all_secs as u64
        );
        assert_eq!(
            prev.usage_micros + closed.usage_micros + second.usage_micros,
            all_amount
        );
        let listed: Page<Bill> = ctl.get("/v1/bills", &t).await;
        let ids: Vec<&str> = listed.items.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(
            ids,
            [second.id.as_str(), closed.id.as_str(), prev.id.as_str()],
            "{backend}: newest first"
        );

        // Exports: CSV rows are the lines and a total; JSON is the bill.
        let (status, csv) = ctl
            .raw::<()>(
                Method::GET,
                &format!("/v1/bills/{}/export?format=csv", open.id),
                Some(&t),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), closed.items.len() + 1);
        let total = rows.last().unwrap();
        assert_eq!(
            (&total[7], &total[13]),
            ("total", closed.total_micros.to_string().as_str())
        );
        let (_, json) = ctl
            .raw::<()>(
                Method::GET,
                &format!("/v1/bills/{}/export?format=json", open.id),
                Some(&t),
                None,
            )
            .await;
        assert_eq!(serde_json::from_str::<Bill>(&json).unwrap(), closed);
        ctl.refused(
            Method::GET,
            &format!("/v1/bills/{}/export?format=xml", open.id),
            Some(&t),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;

        // Another tenant sees none of it; operators see every tenant's bills of a period.
        let (_, other) = ctl.tenant("Globex").await;
        ctl.refused(
            Method::GET,
            &format!("/v1/bills/{}", open.id),
            Some(&other),
            None,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
        let theirs: Page<Bill> = ctl.get("/v1/bills", &other).await;
        assert!(theirs.items.is_empty());
        let all: Page<Bill> = ctl
            .get(
                &format!("/v1/bills?period_start={}", Timestamp(from)),
                &ctl.op,
            )
            .await;
        assert!(
            all.items
                .iter()
                .any(|b| b.id == closed.id && b.items.is_empty())
        );
        ctl.refused(
            Method::GET,
            "/v1/bills/current",
            Some(&ctl.op),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        let theirs_now: Bill = ctl
            .get(&format!("/v1/bills/current?tenant_id={tenant}"), &ctl.op)
            .await;
        assert_eq!(theirs_now.id, next_month_id(&tenant, next_until));
    }
}

/// The id of the tenant's bill for the month starting at `start`.
fn next_month_id(tenant: &str, start: i64) -> String {
    bills::bill_id(tenant, start)
}
