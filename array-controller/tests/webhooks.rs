//! Tenant webhooks end to end on SQLite and PostgreSQL, against a real HTTP receiver running in
//! the test: endpoints are registered (secret shown once), session start / duration / end
//! events arrive signed with HMAC-SHA256 (checked by the receiver with its own HMAC code),
//! failed deliveries are retried with exponential backoff and then given up, and the delivery log
//! shows every attempt. Other tenants see none of it.

use playrack_test_support as support;

use array_controller::metering;
use array_controller::play::lifecycle;
use array_controller::webhooks::{CreatedWebhook, Webhook, WebhookDelivery};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use hmac::{Hmac, Mac};
use playrack_wire::api::EndReason;
use reqwest::{Method, StatusCode};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Ctl, backends, wait_for, world};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    event_type: String,
    event_id: String,
    body: serde_json::Value,
    signature_ok: bool,
    answered: u16,
    at: Instant,
}

#[derive(Default)]
struct Receiver {
    /// Endpoint path → the secret it was given at registration.
    secrets: Mutex<HashMap<String, String>>,
    got: Mutex<Vec<Received>>,
}

/// The receiver's own check of `x-playrack-signature` (independent of the controller's code).
fn signature_ok(secret: &str, header: &str, body: &[u8]) -> bool {
    let Some((t, v1)) = header
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
    else {
        return false;
    };
    let Ok(t_secs) = t.parse::<i64>() else {
        return false;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    if (now - t_secs).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let Ok(given) = hex::decode(v1) else {
        return false;
    };
    mac.verify_slice(&given).is_ok()
}

/// `/ok` fails the first two deliveries of `session.ended` with 500, then accepts; `/fail`
/// always answers 500; every other request is accepted.
async fn receive(
    State(rx): State<Arc<Receiver>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AxumStatus {
    let secret = rx.secrets.lock().unwrap().get(&path).cloned();
    let header = headers
        .get("x-playrack-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let signature_ok = secret.is_some_and(|s| signature_ok(&s, header, &body));
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let event_type = json["type"].as_str().unwrap_or_default().to_owned();
    let mut got = rx.got.lock().unwrap();
    let earlier_ends = got
        .iter()
        .filter(|r| r.path == path && r.event_type == "session.ended")
        .count();
    let answered = match (path.as_str(), event_type.as_str()) {
        ("fail", _) => 500,
        ("ok", "session.ended") if earlier_ends < 2 => 500,
        _ => 200,
    };
    got.push(Received {
        path,
        event_id: json["id"].as_str().unwrap_or_default().to_owned(),
        event_type,
        body: json,
        signature_ok,
        answered,
        at: Instant::now(),
    });
    AxumStatus::from_u16(answered).unwrap()
}

async fn start_receiver() -> (Arc<Receiver>, String) {
    let rx = Arc::new(Receiver::default());
    let app = axum::Router::new()
        .route("/{path}", axum::routing::post(receive))
        .with_state(rx.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (rx, url)
}

impl Receiver {
    fn of(&self, path: &str, event_type: &str) -> Vec<Received> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path && r.event_type == event_type)
            .cloned()
            .collect()
    }
}

async fn register(ctl: &Ctl, token: &str, url: &str, events: &[&str]) -> CreatedWebhook {
    ctl.ok(
        Method::POST,
        "/v1/webhooks",
        token,
        Some(&serde_json::json!({"url": url, "events": events})),
        StatusCode::CREATED,
    )
    .await
}

async fn deliveries(ctl: &Ctl, token: &str, hook: &str) -> Vec<WebhookDelivery> {
    ctl.list_all(&format!("/v1/webhooks/{hook}/deliveries"), token)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_events_arrive_and_failed_deliveries_are_retried_with_backoff() {
    for backend in backends() {
        let ctl = Ctl::start_with(backend, |c| {
            c.webhook_allow_private_targets = true;
            c.webhook_retry_base_ms = 200;
            c.webhook_max_attempts = 3;
            c.webhook_duration_secs = 1;
        })
        .await;
        let w = world(&ctl, 1, 4, 10).await;
        let t = &w.tenant_token;
        let (rx, base) = start_receiver().await;

        // Registration: http(s) only, known events only; the secret is shown once.
        for bad in [
            serde_json::json!({"url": "ftp://example.test/x", "events": ["session.ended"]}),
            serde_json::json!({"url": "not a url", "events": ["session.ended"]}),
            serde_json::json!({"url": "https://example.test/x", "events": ["session.paused"]}),
            serde_json::json!({"url": "https://example.test/x", "events": []}),
        ] {
            ctl.refused(
                Method::POST,
                "/v1/webhooks",
                Some(t),
                Some(&bad),
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
            )
            .await;
        }
        let ok = register(
            &ctl,
            t,
            &format!("{base}/ok"),
            &["session.started", "session.ended", "session.duration"],
        )
        .await;
        let fail = register(&ctl, t, &format!("{base}/fail"), &["session.ended"]).await;
        assert!(ok.secret.starts_with("whsec_") && ok.secret != fail.secret);
        ctl.audited("webhook.create", &ok.webhook.id, &ctl.me(t).await.id)
            .await;
        rx.secrets.lock().unwrap().extend([
            ("ok".to_owned(), ok.secret.clone()),
            ("fail".to_owned(), fail.secret.clone()),
        ]);
        let (_, listed) = ctl
            .raw::<()>(Method::GET, "/v1/webhooks", Some(t), None)
            .await;
        assert!(
            !listed.contains(&ok.secret) && !listed.contains("secret"),
            "{listed}"
        );
        let page: playrack_wire::api::Page<Webhook> = serde_json::from_str(&listed).unwrap();
        assert_eq!(page.items.len(), 2);

        // A session starts playing (reported twice): one signed session.started, then
        // session.duration every second of play.
        let (session, _) = w.play(&ctl, 0).await;
        for _ in 0..2 {
            let mut tx = ctl.state().db.write().await.unwrap();
            metering::on_session_start(&mut tx, &session).await.unwrap();
            tx.commit().await.unwrap();
        }
        wait_for(
            "session.started and session.duration",
            Duration::from_secs(20),
            || async {
                !rx.of("ok", "session.started").is_empty()
                    && !rx.of("ok", "session.duration").is_empty()
            },
        )
        .await;
        let started = rx.of("ok", "session.started");
        assert_eq!(started.len(), 1, "{backend}: {started:?}");
        assert!(started[0].signature_ok, "{backend}: bad signature");
        assert_eq!(started[0].body["data"]["session_id"], session.as_str());
        assert_eq!(started[0].body["tenant_id"], w.tenant.id.as_str());
        let duration = &rx.of("ok", "session.duration")[0];
        assert!(duration.signature_ok);
        assert!(duration.body["data"]["elapsed_secs"].as_i64().unwrap() >= 1);

        // It ends: /ok answers 500 twice, then 200; /fail always 500 and is given up after 3.
        assert!(
            lifecycle::end_session(ctl.state(), &session, EndReason::UserLeft)
                .await
                .unwrap()
        );
        wait_for(
            "the end to be delivered and given up",
            Duration::from_secs(30),
            || async {
                let ok_done = deliveries(&ctl, t, &ok.webhook.id)
                    .await
                    .iter()
                    .any(|d| d.event_type == "session.ended" && d.state == "delivered");
                let fail_done = deliveries(&ctl, t, &fail.webhook.id)
                    .await
                    .iter()
                    .any(|d| d.event_type == "session.ended" && d.state == "failed");
                ok_done && fail_done
            },
        )
        .await;
        let ended = rx.of("ok", "session.ended");
        assert_eq!(
            ended.iter().map(|r| r.answered).collect::<Vec<_>>(),
            vec![500, 500, 200],
            "{backend}"
        );
        assert!(ended.iter().all(|r| r.signature_ok));
        assert!(
            ended
                .iter()
                .all(|r| r.event_id == ended[0].event_id && r.body == ended[0].body)
        );
        assert!(ended[0].body["data"]["billable_secs"].is_u64());
        assert_eq!(ended[0].body["data"]["end_reason"], "USER_LEFT");
        // Exponential backoff: 200 ms after the first failure, 400 ms after the second.
        let gaps = [ended[1].at - ended[0].at, ended[2].at - ended[1].at];
        assert!(gaps[0] >= Duration::from_millis(190), "{backend}: {gaps:?}");
        assert!(gaps[1] >= Duration::from_millis(390), "{backend}: {gaps:?}");
        assert!(gaps[1] > gaps[0]);
        assert_eq!(rx.of("fail", "session.ended").len(), 3);
        assert!(
            rx.of("fail", "session.started").is_empty(),
            "not subscribed"
        );

        // The delivery log tells the same story.
        let log = deliveries(&ctl, t, &ok.webhook.id).await;
        let d = log
            .iter()
            .find(|d| d.event_type == "session.ended")
            .unwrap();
        assert_eq!(
            (d.state.as_str(), d.attempts, d.last_status),
            ("delivered", 3, Some(200))
        );
        assert_eq!(d.event_id, ended[0].event_id);
        assert!(d.next_retry_at.is_none() && d.delivered_at.is_some() && d.last_error.is_none());
        assert_eq!(
            d.log
                .iter()
                .map(|a| (a.attempt, a.status_code))
                .collect::<Vec<_>>(),
            vec![(1, Some(500)), (2, Some(500)), (3, Some(200))]
        );
        assert!(d.log[0].error.as_deref().unwrap().contains("500"));
        let retry = |i: usize| d.log[i].next_retry_at.unwrap().millis() - d.log[i].at.millis();
        assert!(
            retry(0) >= 200 && retry(1) >= 400 && retry(1) < 400 + 10_000,
            "{d:?}"
        );
        assert!(d.log[2].next_retry_at.is_none() && d.log[2].error.is_none());
        let s = log
            .iter()
            .find(|d| d.event_type == "session.started")
            .unwrap();
        assert_eq!((s.state.as_str(), s.attempts), ("delivered", 1));
        let failed = deliveries(&ctl, t, &fail.webhook.id).await;
        assert_eq!(failed.len(), 1);
        assert_eq!(
            (failed[0].state.as_str(), failed[0].attempts),
            ("failed", 3)
        );
        assert!(failed[0].next_retry_at.is_none());
        assert_eq!(failed[0].log.len(), 3);
        assert!(failed[0].log.iter().all(|a| a.status_code == Some(500)));
        assert!(failed[0].log[2].next_retry_at.is_none());

        // Another tenant sees none of it; the owner deletes an endpoint.
        let (_, other) = ctl.tenant("Globex").await;
        let theirs: playrack_wire::api::Page<Webhook> = ctl.get("/v1/webhooks", &other).await;
        assert!(theirs.items.is_empty());
        for (method, path) in [
            (Method::GET, format!("/v1/webhooks/{}", ok.webhook.id)),
            (
                Method::GET,
                format!("/v1/webhooks/{}/deliveries", ok.webhook.id),
            ),
            (Method::DELETE, format!("/v1/webhooks/{}", ok.webhook.id)),
        ] {
            ctl.refused(
                method,
                &path,
                Some(&other),
                None,
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
            )
            .await;
        }
        let resp = ctl
            .send(
                Method::DELETE,
                &format!("/v1/webhooks/{}", fail.webhook.id),
                Some(t),
                None,
                &[],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        ctl.refused(
            Method::GET,
            &format!("/v1/webhooks/{}/deliveries", fail.webhook.id),
            Some(t),
            None,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
        // Operators register for a tenant they name.
        let op_hook: CreatedWebhook = ctl
            .ok(
                Method::POST,
                "/v1/webhooks",
                &ctl.op,
                Some(&serde_json::json!({"url": "https://hooks.example.test/p", "events": ["session.ended"], "tenant_id": w.tenant.id})),
                StatusCode::CREATED,
            )
            .await;
        assert_eq!(op_hook.webhook.tenant_id, w.tenant.id);
        // Settled deliveries leave the log after the retention period.
        let later = array_controller::now()
            .plus_secs((array_controller::webhooks::LOG_RETENTION_DAYS + 1) * 86_400);
        assert!(
            array_controller::webhooks::trim_log(ctl.state(), later)
                .await
                .unwrap()
                >= 2
        );
        assert!(
            deliveries(&ctl, t, &ok.webhook.id)
                .await
                .iter()
                .all(|d| d.state == "pending")
        );
        ctl.stop().await;
    }
}

#[test]
fn the_controller_signature_is_what_receivers_check() {
    let body = br#"{"id":"ses_1.ended"}"#;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let header = array_controller::webhooks::sign("whsec_x", now, body);
    assert!(signature_ok("whsec_x", &header, body));
    assert!(!signature_ok("whsec_y", &header, body));
    assert!(!signature_ok(
        "whsec_x",
        &header,
        br#"{"id":"ses_2.ended"}"#
    ));
    assert!(array_controller::webhooks::verify(
        "whsec_x", &header, body, now, 300
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_inside_the_controllers_network_are_refused_by_default() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let (_, t) = ctl.tenant("Acme").await;
        for url in [
            "http://127.0.0.1:8080/hook",
            "http://localhost/hook",
            "http://[::1]/hook",
            "http://169.254.169.254/latest",
            "http://10.0.0.7/x",
        ] {
            let body = serde_json::json!({"url": url, "events": ["session.ended"]});
            let (status, text) = ctl
                .raw(Method::POST, "/v1/webhooks", Some(&t), Some(&body))
                .await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {text}");
            assert!(text.contains("private or loopback"), "{text}");
        }
        ctl.stop().await;
    }
}

/// Requests held open and never answered, with the most held at once.
#[derive(Default)]
struct Hanging {
    open: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
    first: Mutex<Option<Instant>>,
}

async fn start_hanging_receiver() -> (Arc<Hanging>, String) {
    use std::sync::atomic::Ordering::SeqCst;
    let h = Arc::new(Hanging::default());
    let app = axum::Router::new()
        .route(
            "/{path}",
            axum::routing::post(|State(h): State<Arc<Hanging>>| async move {
                h.first.lock().unwrap().get_or_insert_with(Instant::now);
                let open = h.open.fetch_add(1, SeqCst) + 1;
                h.most.fetch_max(open, SeqCst);
                std::future::pending::<()>().await;
                AxumStatus::OK
            }),
        )
        .with_state(h.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (h, url)
}

/// Each tenant's deliveries are their own queue: a tenant whose 20 endpoints hang (each attempt
/// runs to its 10-s timeout) with a backlog of 200 deliveries holds at most its share of the
/// sender, and another tenant's event queued after that backlog is delivered while the first
/// attempts still hang.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenants_hanging_endpoints_do_not_hold_up_other_tenants() {
    use std::sync::atomic::Ordering::SeqCst;
    for backend in backends() {
        let ctl = Ctl::start_with(backend, |c| {
            c.webhook_allow_private_targets = true;
            c.webhook_retry_base_ms = 200;
        })
        .await;
        let (slow, slow_token) = ctl.tenant("Slow").await;
        let (fast, fast_token) = ctl.tenant("Fast").await;
        let (hang, hang_url) = start_hanging_receiver().await;
        let (rx, base) = start_receiver().await;
        for i in 0..20 {
            register(
                &ctl,
                &slow_token,
                &format!("{hang_url}/h{i}"),
                &["session.started"],
            )
            .await;
        }
        let ok = register(
            &ctl,
            &fast_token,
            &format!("{base}/fast"),
            &["session.started"],
        )
        .await;
        rx.secrets
            .lock()
            .unwrap()
            .insert("fast".into(), ok.secret.clone());

        // The slow tenant's backlog is queued first, then the other tenant's one event.
        let mut tx = ctl.state().db.write().await.unwrap();
        for e in 0..10 {
            let queued = array_controller::webhooks::emit(
                &mut tx,
                &slow.id,
                "session.started",
                &format!("evt_slow_{e}"),
                serde_json::json!({"n": e}),
            )
            .await
            .unwrap();
            assert_eq!(queued, 20);
        }
        tx.commit().await.unwrap();
        wait_for(
            "the slow tenant's first attempts",
            Duration::from_secs(20),
            || async { hang.open.load(SeqCst) > 0 },
        )
        .await;
        let mut tx = ctl.state().db.write().await.unwrap();
        array_controller::webhooks::emit(
            &mut tx,
            &fast.id,
            "session.started",
            "evt_fast",
            serde_json::json!({}),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        wait_for(
            "the other tenant's delivery",
            Duration::from_secs(30),
            || async { !rx.of("fast", "session.started").is_empty() },
        )
        .await;
        let fast_at = rx.of("fast", "session.started")[0].at;
        let slow_first = hang.first.lock().unwrap().expect("a slow attempt");
        assert!(
            fast_at.duration_since(slow_first) < Duration::from_secs(10),
            "{backend}: the other tenant waited for the hanging attempts' timeout"
        );
        assert!(rx.of("fast", "session.started")[0].signature_ok);
        let most = hang.most.load(SeqCst);
        assert!(
            (1..=array_controller::webhooks::PER_TENANT).contains(&most),
            "{backend}: {most} of one tenant's attempts were in flight at once"
        );
        ctl.stop().await;
    }
}
