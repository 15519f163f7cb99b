//! Operations and HTTP plumbing, on SQLite and PostgreSQL: health and readiness, Prometheus
//! metrics, the OpenAPI document, request ids, rate limits per IP and per key, CORS, malformed
//! bodies; and the binary's `--help`, configuration errors, `--migrate-only`, `admin
//! create-operator`, its stop on SIGTERM (an upload in flight is finished then, and resumes
//! after the restart from the offset acknowledged), and `backup` → `restore` of a live
//! controller.

use playrack_test_support as support;

use playrack_wire::api::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{Ctl, backends, fixture, problem_of};

/// Polls `cond` every 20 ms until it holds, failing after `timeout`.
async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !cond().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn text_of(ctl: &Ctl, path: &str) -> (StatusCode, String) {
    let resp = ctl.send(Method::GET, path, None, None, &[]).await;
    (resp.status(), resp.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        assert_eq!(
            text_of(&ctl, "/healthz").await,
            (StatusCode::OK, "ok".into())
        );
        assert_eq!(
            text_of(&ctl, "/readyz").await,
            (StatusCode::OK, "ready".into())
        );

        // Probes that arrive together all pass.
        let probes = (0..32).map(|_| text_of(&ctl, "/readyz"));
        for (status, body) in futures_util::future::join_all(probes).await {
            assert_eq!(
                status,
                StatusCode::OK,
                "{backend}: concurrent probe: {body}"
            );
        }

        // An unwritable package store makes the controller unready (root ignores permission
        // bits, so the scratch directory is swapped for a plain file), and ready again after.
        let incoming = ctl.store_root().join(".incoming");
        std::fs::remove_dir_all(&incoming).unwrap();
        std::fs::write(&incoming, b"not a directory").unwrap();
        let (status, body) = text_of(&ctl, "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{backend}: {body}");
        assert!(body.contains("package store"), "{body}");
        assert_eq!(
            text_of(&ctl, "/healthz").await.0,
            StatusCode::OK,
            "still alive"
        );
        std::fs::remove_file(&incoming).unwrap();
        std::fs::create_dir(&incoming).unwrap();
        assert_eq!(text_of(&ctl, "/readyz").await.0, StatusCode::OK);

        // Metrics: Prometheus text with the controller's counters after some traffic.
        let _: Tenant = ctl
            .ok(
                Method::POST,
                "/v1/tenants",
                &ctl.op,
                Some(&json!({"name": "Metered"})),
                StatusCode::CREATED,
            )
            .await;
        let resp = ctl.send(Method::GET, "/metrics", None, None, &[]).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let ctype = resp.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ctype.starts_with("text/plain"), "{ctype}");
        let text = resp.text().await.unwrap();
        for name in ["playrack_logins_total", "playrack_audit_entries_total"] {
            assert!(
                text.contains(&format!("# TYPE {name} counter")),
                "{backend}: {name} missing:\n{text}"
            );
        }
        let logins_ok = text
            .lines()
            .find(|l| l.starts_with("playrack_logins_total{") && l.contains("result=\"ok\""))
            .unwrap_or_else(|| panic!("no successful-login sample:\n{text}"));
        let n: f64 = logins_ok.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(n >= 1.0, "{logins_ok}");
        // Requests are counted per route template and status.
        assert!(
            text.lines()
                .any(|l| l.starts_with("playrack_http_requests_total{")
                    && l.contains("route=\"/v1/tenants\"")
                    && l.contains("status=\"201\"")),
            "{backend}: no request count for POST /v1/tenants:\n{text}"
        );

        // A database that stops answering makes the controller unready too.
        ctl.state().db.pool.close().await;
        let (status, body) = text_of(&ctl, "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(body.contains("database"), "{body}");
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_the_api() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let (status, text) = text_of(&ctl, "/v1/openapi.json").await;
        assert_eq!(status, StatusCode::OK);
        let doc: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        let version = doc["openapi"].as_str().unwrap();
        assert!(version.starts_with("3.1."), "{version}");
        assert_eq!(doc["info"]["title"], "Playrack array controller");
        let paths = doc["paths"].as_object().unwrap();
        for p in [
            "/v1/games",
            "/v1/uploads/{id}",
            "/v1/topology/import",
            "/v1/auth/login",
            "/v1/versions/{id}/deployment",
            "/v1/audit",
        ] {
            assert!(paths.contains_key(p), "{p} missing from {:?}", paths.keys());
        }
        assert!(
            paths.keys().all(|p| p.starts_with("/v1/")),
            "{:?}",
            paths.keys()
        );
        let games = &paths["/v1/games"];
        assert!(games.get("get").is_some() && games.get("post").is_some());
        let upload = &paths["/v1/uploads/{id}"];
        for m in ["get", "head", "patch", "delete"] {
            assert!(upload.get(m).is_some(), "/v1/uploads/{{id}} lacks {m}");
        }
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for s in [
            "Game",
            "Problem",
            "TopologyImport",
            "Upload",
            "OnlineEntry",
            "LatencySummary",
        ] {
            assert!(schemas.contains_key(s), "schema {s} missing");
        }
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_are_echoed_generated_and_recorded() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        ctl.specs().await;

        // The caller's id is echoed; a missing or unusable one is replaced by a fresh one.
        let resp = ctl
            .send(
                Method::GET,
                "/healthz",
                None,
                None,
                &[("x-request-id", "ops-echo-1")],
            )
            .await;
        assert_eq!(resp.headers()["x-request-id"], "ops-echo-1");
        let mut seen = std::collections::HashSet::new();
        let long = "x".repeat(65);
        for header in [
            None,
            Some("has spaces in it"),
            Some(long.as_str()),
            Some(""),
        ] {
            let headers: Vec<(&str, &str)> = header
                .map(|h| vec![("x-request-id", h)])
                .unwrap_or_default();
            let resp = ctl
                .send(Method::GET, "/healthz", None, None, &headers)
                .await;
            let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
            assert!(id.starts_with("req_"), "{header:?} → {id}");
            assert!(seen.insert(id), "ids are fresh");
        }

        // Problems carry the id.
        let resp = ctl
            .send(
                Method::GET,
                "/v1/me",
                None,
                None,
                &[("x-request-id", "ops-problem-2")],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(resp.headers()["x-request-id"], "ops-problem-2");
        let p = problem_of(&resp.text().await.unwrap());
        assert_eq!(p.request_id.as_deref(), Some("ops-problem-2"));
        let resp = ctl
            .send(
                Method::GET,
                "/v1/games/gam_missing",
                Some(&ctl.op),
                None,
                &[],
            )
            .await;
        let header = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
        let p = problem_of(&resp.text().await.unwrap());
        assert_eq!(
            p.request_id,
            Some(header),
            "a generated id is in the body too"
        );

        // Audit entries carry the id of the request that made the change.
        let resp = ctl
            .send(
                Method::POST,
                "/v1/tenants",
                Some(&ctl.op),
                Some(&json!({"name": "Traced"})),
                &[("x-request-id", "ops-mutation-3")],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let tenant: Tenant = resp.json().await.unwrap();
        let op_id = ctl.me(&ctl.op).await.id;
        let entry = ctl.audited("tenant.create", &tenant.id, &op_id).await;
        assert_eq!(entry.request_id.as_deref(), Some("ops-mutation-3"));
        let resp = ctl
            .send(
                Method::POST,
                "/v1/regions",
                Some(&ctl.op),
                Some(&json!({"name": "eu"})),
                &[],
            )
            .await;
        let generated = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
        let region: Region = resp.json().await.unwrap();
        let entry = ctl.audited("region.create", &region.id, &op_id).await;
        assert_eq!(entry.request_id, Some(generated));

        // Including the entries written while an upload's last bytes are being settled.
        let t = ctl.member(Some(&tenant.id), Role::TenantDeveloper).await;
        let game = ctl.game(&t, "tapper").await;
        let bytes = fixture("tapper-v1.apk");
        let up: Upload = ctl
            .create_upload(&t, &game.id, bytes.len() as u64)
            .await
            .json()
            .await
            .unwrap();
        let resp = ctl
            .http
            .patch(format!("{}/v1/uploads/{}", ctl.url, up.id))
            .bearer_auth(&t)
            .header("tus-resumable", "1.0.0")
            .header("upload-offset", "0")
            .header("content-type", "application/offset+octet-stream")
            .header("x-request-id", "ops-upload-4")
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        let entry = ctl.audited("version.ready", &up.version_id, "system").await;
        assert_eq!(
            entry.request_id.as_deref(),
            Some("ops-upload-4"),
            "{backend}"
        );
        ctl.stop().await;
    }
}

/// Sends up to 50 requests; returns how many passed before the first 429, and that answer.
async fn hammer(ctl: &Ctl, path: &str, token: Option<&str>) -> (usize, reqwest::Response) {
    for i in 0..50 {
        let resp = ctl.send(Method::GET, path, token, None, &[]).await;
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            return (i, resp);
        }
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
    }
    panic!(
        "{}: {path} was never rate limited in 50 requests",
        ctl.backend
    );
}

async fn assert_rate_limited(resp: reqwest::Response) -> u64 {
    let retry_after: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in whole seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let p = problem_of(&resp.text().await.unwrap());
    assert_eq!((p.status, p.code.as_str()), (429, "RATE_LIMITED"));
    assert!(p.request_id.is_some());
    retry_after
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_ip_is_rate_limited() {
    for backend in backends() {
        let ctl = Ctl::start_with(backend, |c| {
            c.rate_limit_ip = 2;
            c.rate_limit_key = 1000;
        })
        .await;
        // A burst of 4× the rate (8), less the sign-in at start, then 429.
        let (passed, resp) = hammer(&ctl, "/healthz", None).await;
        assert!(
            passed >= 2,
            "{backend}: the burst is allowed, only {passed} passed"
        );
        assert_rate_limited(resp).await;
        // Authenticated or not, it is the address that is limited (a few requests may have
        // been refilled meanwhile on a busy machine).
        let (passed, resp) = hammer(&ctl, "/v1/me", Some(&ctl.op)).await;
        assert!(passed <= 3, "{backend}: {passed}");
        assert_rate_limited(resp).await;
        // The bucket refills (2 per second).
        let c = &ctl;
        wait_until(
            "the IP budget to refill",
            Duration::from_secs(10),
            || async move {
                c.send(Method::GET, "/healthz", None, None, &[])
                    .await
                    .status()
                    == StatusCode::OK
            },
        )
        .await;
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_largest_configurable_rates_are_accepted() {
    // An operator may write the largest number to mean "no limit".
    let ctl = Ctl::start_with(backends()[0], |c| {
        c.rate_limit_ip = u32::MAX;
        c.rate_limit_key = u32::MAX;
    })
    .await;
    for _ in 0..60 {
        let resp = ctl
            .send(Method::GET, "/v1/me", Some(&ctl.op), None, &[])
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
    }
    ctl.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_key_is_rate_limited_and_others_are_not() {
    for backend in backends() {
        let ctl = Ctl::start_with(backend, |c| {
            c.rate_limit_ip = 10_000;
            c.rate_limit_key = 1;
        })
        .await;
        let (_, ta) = ctl.tenant("Acme").await;
        let (_, resp) = hammer(&ctl, "/v1/me", Some(&ctl.op)).await;
        assert_rate_limited(resp).await;
        // Another credential from the same address, and anonymous endpoints, go on.
        assert_eq!(ctl.me(&ta).await.role, Role::TenantAdmin);
        let resp = ctl.send(Method::GET, "/healthz", None, None, &[]).await;
        assert_eq!(resp.status(), StatusCode::OK);
        // The limited key stays limited (a few requests may have been refilled meanwhile).
        let (passed, resp) = hammer(&ctl, "/v1/me", Some(&ctl.op)).await;
        assert!(passed <= 3, "{backend}: {passed}");
        assert_rate_limited(resp).await;
        ctl.stop().await;
    }
}

/// A browser's CORS preflight for `POST /v1/games` from `origin`.
async fn preflight(ctl: &Ctl, origin: &str) -> reqwest::Response {
    ctl.send(
        Method::OPTIONS,
        "/v1/games",
        None,
        None,
        &[
            ("origin", origin),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "authorization,content-type",
            ),
        ],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_allows_the_configured_origin_only() {
    const PORTAL: &str = "https://portal.playrack.test";
    for backend in backends() {
        let ctl = Ctl::start_with(backend, |c| c.cors_origins = vec![PORTAL.into()]).await;
        let acao = |resp: &reqwest::Response| {
            resp.headers()
                .get("access-control-allow-origin")
                .map(|v| v.to_str().unwrap().to_owned())
        };
        // Simple requests.
        let resp = ctl
            .send(
                Method::GET,
                "/v1/me",
                Some(&ctl.op),
                None,
                &[("origin", PORTAL)],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(acao(&resp).as_deref(), Some(PORTAL), "{backend}");
        let exposed = resp.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .to_lowercase();
        assert!(exposed.contains("x-request-id"), "{exposed}");
        let resp = ctl
            .send(
                Method::GET,
                "/v1/me",
                Some(&ctl.op),
                None,
                &[("origin", "https://evil.test")],
            )
            .await;
        assert_eq!(acao(&resp), None);

        // Preflights.
        let resp = preflight(&ctl, PORTAL).await;
        assert!(resp.status().is_success(), "{}", resp.status());
        assert_eq!(acao(&resp).as_deref(), Some(PORTAL));
        let methods = resp.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            methods.contains("POST") && methods.contains("PATCH"),
            "{methods}"
        );
        let headers = resp.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_lowercase();
        assert!(
            headers.contains("authorization") && headers.contains("content-type"),
            "{headers}"
        );
        let resp = preflight(&ctl, "https://evil.test").await;
        assert_eq!(acao(&resp), None);
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bodies_are_explained_and_wrong_content_types_refused() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let post = |path: &str, ctype: Option<&str>, body: &str| {
            let mut req = ctl
                .http
                .post(format!("{}{path}", ctl.url))
                .bearer_auth(&ctl.op)
                .body(body.to_owned());
            if let Some(c) = ctype {
                req = req.header("content-type", c);
            }
            req.send()
        };
        let cases = [
            ("/v1/tenants", r#"{"name": "#, &["JSON", "line 1"][..]),
            (
                "/v1/tenants",
                r#"{"name": 5}"#,
                &["name", "invalid type"][..],
            ),
            ("/v1/tenants", r#"{}"#, &["missing field `name`"][..]),
            (
                "/v1/tenants",
                r#"{"name": "x", "priority_tier": "high"}"#,
                &["priority_tier"][..],
            ),
            ("/v1/tenants", "", &["empty", "JSON object"][..]),
            ("/v1/tenants", r#"["x", 0]"#, &["must be a JSON object"][..]),
            (
                "/v1/accounts",
                r#"{"email": "a@b.test", "password": "long-enough-pw", "role": "superuser"}"#,
                &["role", "superuser"][..],
            ),
            ("/v1/regions", r#""eu""#, &["must be a JSON object"][..]),
        ];
        for (path, body, words) in cases {
            let resp = post(path, Some("application/json"), body).await.unwrap();
            assert_eq!(
                resp.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{backend} {body}"
            );
            assert_eq!(resp.headers()["content-type"], "application/problem+json");
            let p = problem_of(&resp.text().await.unwrap());
            assert_eq!(p.code, "VALIDATION_FAILED");
            assert!(p.request_id.is_some());
            for w in words {
                assert!(p.detail.contains(w), "{body}: `{w}` not in: {}", p.detail);
            }
        }
        for ctype in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            None,
        ] {
            let resp = post("/v1/tenants", ctype, r#"{"name": "x"}"#)
                .await
                .unwrap();
            assert_eq!(
                resp.status(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{ctype:?}"
            );
            let p = problem_of(&resp.text().await.unwrap());
            assert_eq!(p.code, "UNSUPPORTED_MEDIA_TYPE");
            assert!(p.detail.contains("application/json"), "{}", p.detail);
        }
        // JSON with a charset parameter is still JSON.
        let resp = post(
            "/v1/tenants",
            Some("application/json; charset=utf-8"),
            r#"{"name": "Charset"}"#,
        )
        .await
        .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        // Bad query parameters are explained the same way.
        let p = ctl
            .refused(
                Method::GET,
                "/v1/tenants?limit=-1",
                Some(&ctl.op),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
            )
            .await;
        assert!(p.detail.contains("limit"), "{}", p.detail);
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_wrong_methods_and_oversized_bodies_answer_problems() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let p = ctl
            .refused(
                Method::GET,
                "/v1/no-such-thing",
                Some(&ctl.op),
                None,
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
            )
            .await;
        assert!(!p.detail.is_empty());
        let resp = ctl
            .send(Method::DELETE, "/v1/games", Some(&ctl.op), None, &[])
            .await;
        assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED, "{backend}");
        let allow = resp.headers()["allow"].to_str().unwrap().to_owned();
        assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
        let p = problem_of(&resp.text().await.unwrap());
        assert_eq!(p.code, "METHOD_NOT_ALLOWED");
        assert!(p.request_id.is_some());

        // A JSON body over the size limit is refused as too large, not as invalid.
        let name = "x".repeat(3 << 20);
        let resp = ctl
            .send(
                Method::POST,
                "/v1/tenants",
                Some(&ctl.op),
                Some(&json!({ "name": name })),
                &[],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE, "{backend}");
        let p = problem_of(&resp.text().await.unwrap());
        assert_eq!(p.code, "PAYLOAD_TOO_LARGE");
        ctl.stop().await;
    }
}

/// Runs the controller binary with a clean environment in `dir`; returns (exit code, stdout,
/// stderr). Fails if it has not exited within 30 s.
fn run_binary(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_array-controller"))
        .args(args)
        .env_clear()
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the controller binary");
    let out = support::exit_within(
        child,
        Duration::from_secs(30),
        &format!("array-controller {args:?}"),
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_explains_every_option() {
    let dir = tempfile::tempdir().unwrap();
    let (code, help, _) = run_binary(dir.path(), &["--help"]);
    assert_eq!(code, Some(0));
    let flags = [
        ("config", "PLAYRACK_CONFIG"),
        ("listen", "PLAYRACK_LISTEN"),
        ("tls-cert", "PLAYRACK_TLS_CERT"),
        ("tls-key", "PLAYRACK_TLS_KEY"),
        ("data-dir", "PLAYRACK_DATA_DIR"),
        ("database-url", "DATABASE_URL"),
        ("package-store", "PLAYRACK_PACKAGE_STORE"),
        ("max-upload-bytes", "PLAYRACK_MAX_UPLOAD_BYTES"),
        ("upload-expiry-secs", "PLAYRACK_UPLOAD_EXPIRY_SECS"),
        ("token-ttl-secs", "PLAYRACK_TOKEN_TTL_SECS"),
        ("rate-limit-ip", "PLAYRACK_RATE_LIMIT_IP"),
        ("trusted-proxies", "PLAYRACK_TRUSTED_PROXIES"),
        ("rate-limit-key", "PLAYRACK_RATE_LIMIT_KEY"),
        ("cors-origins", "PLAYRACK_CORS_ORIGINS"),
        ("secret-key", "PLAYRACK_SECRET_KEY"),
        ("metrics-token", "PLAYRACK_METRICS_TOKEN"),
        ("agent-heartbeat-secs", "PLAYRACK_AGENT_HEARTBEAT_SECS"),
        ("agent-lease-secs", "PLAYRACK_AGENT_LEASE_SECS"),
        ("ticket-timeout-secs", "PLAYRACK_TICKET_TIMEOUT_SECS"),
        ("claim-ttl-secs", "PLAYRACK_CLAIM_TTL_SECS"),
        ("connect-deadline-secs", "PLAYRACK_CONNECT_DEADLINE_SECS"),
        ("archive-max-bytes", "PLAYRACK_ARCHIVE_MAX_BYTES"),
        ("archive-keep", "PLAYRACK_ARCHIVE_KEEP"),
        (
            "archive-anonymous-budget-bytes",
            "PLAYRACK_ARCHIVE_ANONYMOUS_BUDGET_BYTES",
        ),
        (
            "recording-retention-secs",
            "PLAYRACK_RECORDING_RETENTION_SECS",
        ),
        ("recording-max-bytes", "PLAYRACK_RECORDING_MAX_BYTES"),
        (
            "warm-games-max-per-room",
            "PLAYRACK_WARM_GAMES_MAX_PER_ROOM",
        ),
        ("warm-games-window-secs", "PLAYRACK_WARM_GAMES_WINDOW_SECS"),
        (
            "tenant-storage-quota-bytes",
            "PLAYRACK_TENANT_STORAGE_QUOTA_BYTES",
        ),
        ("webhook-retry-base-ms", "PLAYRACK_WEBHOOK_RETRY_BASE_MS"),
        ("webhook-max-attempts", "PLAYRACK_WEBHOOK_MAX_ATTEMPTS"),
        (
            "webhook-allow-private-targets",
            "PLAYRACK_WEBHOOK_ALLOW_PRIVATE_TARGETS",
        ),
        ("webhook-duration-secs", "PLAYRACK_WEBHOOK_DURATION_SECS"),
        (
            "maintenance-announce-secs",
            "PLAYRACK_MAINTENANCE_ANNOUNCE_SECS",
        ),
        ("currency", "PLAYRACK_CURRENCY"),
        ("billing-period", "PLAYRACK_BILLING_PERIOD"),
        ("bill-close-delay-secs", "PLAYRACK_BILL_CLOSE_DELAY_SECS"),
        ("log-format", "PLAYRACK_LOG_FORMAT"),
        ("demo", "PLAYRACK_DEMO"),
        ("migrate-only", "PLAYRACK_MIGRATE_ONLY"),
        ("shutdown-grace-secs", "PLAYRACK_SHUTDOWN_GRACE_SECS"),
    ];
    let lines: Vec<&str> = help.lines().collect();
    for (flag, env) in flags {
        let start = lines
            .iter()
            .position(|l| l.trim_start().starts_with(&format!("--{flag}")))
            .unwrap_or_else(|| panic!("--{flag} missing from:\n{help}"));
        // The option's block: its line and the indented lines up to the next option.
        let block: Vec<&str> = std::iter::once(lines[start])
            .chain(
                lines[start + 1..]
                    .iter()
                    .take_while(|l| !l.trim_start().starts_with('-'))
                    .copied(),
            )
            .collect();
        let text = block.join(" ");
        let words = text
            .split_whitespace()
            .filter(|w| !w.starts_with("--") && !w.starts_with('<') && !w.starts_with('['))
            .filter(|w| !w.contains('=') && w.chars().any(|c| c.is_ascii_lowercase()))
            .count();
        assert!(words >= 4, "--{flag} is not explained: {text}");
        assert!(text.contains(env), "--{flag} does not name {env}: {text}");
    }
    // Every option the binary has is in the list above.
    let listed = lines
        .iter()
        .filter(|l| l.trim_start().starts_with('-'))
        .count();
    assert_eq!(listed, flags.len() + 2, "options not covered here:\n{help}"); // + --help, --version
}

/// A fresh platform's first operator: created from the command line on an empty database
/// (migrated first), refused a second time, and able to sign in to the server started next,
/// which stops cleanly on SIGTERM.
#[test]
fn create_operator_then_serve_then_stop_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "correct horse battery\n").unwrap();
    let pw = pw.to_str().unwrap();
    let (code, out, err) = run_binary(dir.path(), &["--migrate-only"]);
    assert_eq!(code, Some(0), "{out} {err}");
    assert!(out.contains("up to date"), "{out}");
    let create = [
        "admin",
        "create-operator",
        "--email",
        "Ops@Example.com",
        "--password-file",
        pw,
    ];
    let (code, out, err) = run_binary(dir.path(), &create);
    assert_eq!(code, Some(0), "{out} {err}");
    assert!(
        out.contains("ops@example.com") && out.contains("acc_"),
        "{out}"
    );
    let (code, _, err) = run_binary(dir.path(), &create);
    assert_eq!(code, Some(1));
    assert!(err.contains("exists already"), "{err}");
    // no terminal to prompt on, no password given: says how to give one
    let (code, _, err) = run_binary(
        dir.path(),
        &["admin", "create-operator", "--email", "b@example.com"],
    );
    assert_eq!(code, Some(1));
    assert!(err.contains("--password-stdin"), "{err}");

    let (child, url) = serve_binary(
        dir.path(),
        &["--listen", "127.0.0.1:0", "--shutdown-grace-secs", "10"],
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{url}/v1/auth/login"))
            .json(&json!({"email": "ops@example.com", "password": "correct horse battery"}))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, StatusCode::OK);
    let stopped = Instant::now();
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = support::exit_within(
        child,
        Duration::from_secs(15),
        "the controller after SIGTERM",
    );
    assert_eq!(out.status.code(), Some(0), "a stop is not a failure");
    assert!(
        stopped.elapsed() < Duration::from_secs(11),
        "within the grace period"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SIGTERM") && err.contains("stopped"), "{err}");
}

#[test]
fn bad_configuration_is_explained_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let unknown = file("unknown.toml", "max_upload = 5\n");
    let syntax = file("syntax.toml", "max_upload_bytes = = 5\n");
    let wrong_type = file("type.toml", "max_upload_bytes = \"lots\"\n");
    let bad_url = file("url.toml", "database_url = \"mysql://db/x\"\n");
    let missing = dir.path().join("missing.toml").to_str().unwrap().to_owned();
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec!["--config", &unknown],
            vec!["unknown.toml", "max_upload"],
        ),
        (vec!["--config", &syntax], vec!["syntax.toml", "not valid"]),
        (
            vec!["--config", &wrong_type],
            vec!["type.toml", "max_upload_bytes"],
        ),
        (
            vec!["--config", &bad_url],
            vec!["DATABASE_URL", "mysql://db/x"],
        ),
        (
            vec!["--config", &missing],
            vec!["missing.toml", "cannot read"],
        ),
        (vec!["--rate-limit-ip", "0"], vec!["rate limit"]),
        (vec!["--max-upload-bytes", "0"], vec!["max_upload_bytes"]),
        (
            vec!["--max-upload-bytes", "many"],
            vec!["--max-upload-bytes", "many"],
        ),
        (vec!["--no-such-flag"], vec!["--no-such-flag"]),
    ];
    for (args, words) in cases {
        let (code, stdout, stderr) = run_binary(dir.path(), &args);
        assert_eq!(code, Some(2), "{args:?}: stdout {stdout} stderr {stderr}");
        for w in words {
            assert!(stderr.contains(w), "{args:?}: `{w}` not in: {stderr}");
        }
        assert!(!stdout.contains("listening"), "{args:?} must not start");
    }
    assert!(
        !dir.path().join(".playrack").exists(),
        "nothing is created when the configuration is bad"
    );
}

/// With a metrics token configured, `/metrics` answers only the scrape that sends it (even on
/// this machine); without one it answers only this machine (checked in the unit tests).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_with_a_token_answer_only_its_holder() {
    let ctl = Ctl::start_with("sqlite", |c| c.metrics_token = Some("scrape-s3cret".into())).await;
    for (token, status) in [
        (None, StatusCode::FORBIDDEN),
        (Some("wrong"), StatusCode::FORBIDDEN),
        (Some(ctl.op.as_str()), StatusCode::FORBIDDEN),
        (Some("scrape-s3cret"), StatusCode::OK),
    ] {
        let resp = ctl.send(Method::GET, "/metrics", token, None, &[]).await;
        assert_eq!(resp.status(), status, "{token:?}");
        if status == StatusCode::FORBIDDEN {
            let text = resp.text().await.unwrap();
            assert_eq!(
                support::problem_of(&text).code,
                "METRICS_FORBIDDEN",
                "{text}"
            );
        }
    }
    ctl.stop().await;
}

/// Every file under `root` but those being written (`.incoming`, `.tmp`), with its bytes.
fn files_under(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.file_type().unwrap().is_dir() {
                if name != ".incoming" && name != ".tmp" {
                    walk(root, &e.path(), out);
                }
            } else {
                let rel = e.path().strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, std::fs::read(e.path()).unwrap());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(root, root, &mut out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_a_live_controller_restores_elsewhere_as_it_was() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        ctl.specs().await;
        let (tenant, t) = ctl.tenant("Acme").await;
        let game = ctl.game(&t, "tapper").await;
        let version = ctl.upload(&t, &game.id, &fixture("tapper-v1.apk")).await;
        let location = |c: &support::Ctl| {
            [
                format!("--database-url={}", c.config.database_url),
                format!("--data-dir={}", c.config.data_dir.display()),
                format!("--package-store={}", c.config.package_store.display()),
            ]
        };
        let args = |cmd: &[&str], at: &[String]| -> Vec<String> {
            // The configuration's flags come before the command, as with `admin`.
            at.iter()
                .cloned()
                .chain(cmd.iter().map(|s| s.to_string()))
                .collect()
        };

        // Backed up while it serves; what happens after the backup is not in it.
        let work = tempfile::tempdir().unwrap();
        let out = work.path().join("backup");
        let backup = args(&["backup", "--out", out.to_str().unwrap()], &location(&ctl));
        let backup: Vec<&str> = backup.iter().map(String::as_str).collect();
        let (code, stdout, stderr) = run_binary(work.path(), &backup);
        assert_eq!(code, Some(0), "{backend}: {stdout} {stderr}");
        assert!(stdout.contains("backup written"), "{stdout}");
        assert!(
            stderr.contains("copying the package store"),
            "progress: {stderr}"
        );
        let (code, _, stderr) = run_binary(work.path(), &backup);
        assert_eq!(code, Some(1), "a backup never writes over another");
        assert!(stderr.contains("not empty"), "{stderr}");
        ctl.tenant("After").await;
        let store_then = files_under(&ctl.config.package_store);
        assert!(
            store_then.keys().any(|k| k.starts_with("apk/")),
            "{store_then:?}"
        );
        let key_then = std::fs::read(ctl.config.data_dir.join("secret.key")).unwrap();
        ctl.stop().await;

        // Restored into an empty database, data directory and store somewhere else.
        let dir = tempfile::tempdir().unwrap();
        let mut config = array_controller::config::Config::with_data_dir(dir.path().join("data"));
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.database_url = support::fresh_database(backend, dir.path()).await;
        let at = [
            format!("--database-url={}", config.database_url),
            format!("--data-dir={}", config.data_dir.display()),
            format!("--package-store={}", config.package_store.display()),
        ];
        let restore = args(&["restore", "--from", out.to_str().unwrap()], &at);
        let restore: Vec<&str> = restore.iter().map(String::as_str).collect();
        let (code, stdout, stderr) = run_binary(work.path(), &restore);
        assert_eq!(code, Some(0), "{backend}: {stdout} {stderr}");
        assert!(stdout.contains("restored"), "{stdout}");
        // Again: the database has accounts now, so only --force replaces it.
        let (code, _, stderr) = run_binary(work.path(), &restore);
        assert_eq!(code, Some(1));
        assert!(stderr.contains("--force"), "{stderr}");
        let forced: Vec<&str> = restore.iter().copied().chain(["--force"]).collect();
        let (code, stdout, stderr) = run_binary(work.path(), &forced);
        assert_eq!(code, Some(0), "{backend}: {stdout} {stderr}");

        assert_eq!(
            std::fs::read(config.data_dir.join("secret.key")).unwrap(),
            key_then,
            "the secrets key came back"
        );
        let store_now = files_under(&config.package_store);
        assert_eq!(
            store_now.keys().collect::<Vec<_>>(),
            store_then.keys().collect::<Vec<_>>()
        );
        assert!(store_now == store_then, "the store's bytes came back");

        let restored = Ctl::open(backend, config, dir).await;
        let tenants: Page<Tenant> = restored.get("/v1/tenants", &restored.op).await;
        let names: Vec<_> = tenants.items.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["Acme"], "{backend}: as it was at the backup");
        let admin = restored
            .login(&format!("admin@{}.test", tenant.id), support::PASSWORD)
            .await;
        let v: Version = restored
            .get(&format!("/v1/versions/{}", version.id), &admin)
            .await;
        assert_eq!(v.sha256, version.sha256);
        assert_eq!(v.state, version.state);
        restored.stop().await;
    }
}

/// The controller binary serving with `args` (a clean environment, in `dir`), once it prints
/// its URL; the child and the URL.
fn serve_binary(dir: &Path, args: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_array-controller"))
        .args(args)
        .env_clear()
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    let url = line
        .strip_prefix("Controller: ")
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_owned();
    (child, url)
}

/// SIGTERM while an APK upload is in flight loses nothing: the request being received is
/// finished (the grace period), the controller exits 0, and after a restart the upload goes on
/// from exactly the offset it acknowledged, to a READY version of the right bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_in_flight_at_sigterm_resumes_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, format!("{}\n", support::PASSWORD)).unwrap();
    let data = dir.path().join("data");
    let (code, out, err) = run_binary(
        dir.path(),
        &[
            "--data-dir",
            data.to_str().unwrap(),
            "admin",
            "create-operator",
            "--email",
            support::ROOT_EMAIL,
            "--password-file",
            pw.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{out} {err}");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let serve = [
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        &listen,
        "--shutdown-grace-secs",
        "10",
    ];
    let (child, url) = tokio::task::block_in_place(|| serve_binary(dir.path(), &serve));

    // The binary's API, driven with the suites' helpers.
    let scratch = tempfile::tempdir().unwrap();
    let mut ctl = Ctl {
        backend: "sqlite",
        running: None,
        url: url.clone(),
        http: reqwest::Client::new(),
        config: array_controller::config::Config::with_data_dir(scratch.path().join("unused")),
        dir: scratch,
        op: String::new(),
    };
    ctl.op = ctl.login(support::ROOT_EMAIL, support::PASSWORD).await;
    ctl.specs().await;
    let (_, t) = ctl.tenant("Acme").await;
    let game = ctl.game(&t, "tapper").await;
    let apk = fixture("tapper-v1.apk");
    let half = apk.len() / 2;
    let resp = ctl.create_upload(&t, &game.id, apk.len() as u64).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let up: Upload = resp.json().await.unwrap();

    // The first half goes in one PATCH whose body is still arriving when SIGTERM comes.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let body = reqwest::Body::wrap_stream(tokio_stream_from(rx));
    let patch = ctl
        .http
        .patch(format!("{url}/v1/uploads/{}", up.id))
        .bearer_auth(&t)
        .header("tus-resumable", "1.0.0")
        .header("upload-offset", "0")
        .header("content-type", "application/offset+octet-stream")
        .header("content-length", half.to_string())
        .body(body)
        .send();
    let patch = tokio::spawn(patch);
    tx.send(Ok(apk[..half / 2].to_vec())).await.unwrap();
    // The controller is writing them: the request is under way there.
    let part = data
        .join("packages/.incoming")
        .join(format!("{}.part", up.id));
    wait_until(
        "the first bytes at the controller",
        Duration::from_secs(10),
        || async { std::fs::metadata(&part).is_ok_and(|m| m.len() >= (half / 2) as u64) },
    )
    .await;
    let stopped = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    // The controller has begun to stop (it takes no new connections) with the body unfinished.
    wait_until(
        "the controller to stop listening",
        Duration::from_secs(10),
        || async { std::net::TcpStream::connect(("127.0.0.1", port)).is_err() },
    )
    .await;
    tx.send(Ok(apk[half / 2..half].to_vec())).await.unwrap();
    drop(tx);
    let resp = patch
        .await
        .unwrap()
        .expect("the PATCH in flight is answered");
    assert_eq!(
        resp.status(),
        StatusCode::NO_CONTENT,
        "finished in the grace period"
    );
    assert_eq!(
        resp.headers()["upload-offset"].to_str().unwrap(),
        half.to_string()
    );
    let out = tokio::task::block_in_place(|| {
        support::exit_within(
            child,
            Duration::from_secs(15),
            "the controller after SIGTERM",
        )
    });
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stopped.elapsed() < Duration::from_secs(11),
        "within the grace period"
    );

    // Restarted on the same data: the upload stands at the acknowledged offset and finishes.
    let (child, url2) = tokio::task::block_in_place(|| serve_binary(dir.path(), &serve));
    assert_eq!(url2, url);
    assert_eq!(
        ctl.head_offset(&t, &up.id).await,
        half as u64,
        "nothing lost"
    );
    let resp = ctl
        .patch(&t, &up.id, half as u64, apk[half..].to_vec())
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    wait_until(
        "the version to be checked",
        Duration::from_secs(30),
        || async {
            let v: Version = ctl
                .get(&format!("/v1/versions/{}", up.version_id), &t)
                .await;
            v.state == VersionState::Ready
        },
    )
    .await;
    let version: Version = ctl
        .get(&format!("/v1/versions/{}", up.version_id), &t)
        .await;
    use sha2::Digest;
    assert_eq!(
        version.sha256.as_deref(),
        Some(hex::encode(sha2::Sha256::digest(&apk)).as_str())
    );
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let out = tokio::task::block_in_place(|| {
        support::exit_within(child, Duration::from_secs(15), "the restarted controller")
    });
    assert_eq!(out.status.code(), Some(0));
}

/// A stream of the chunks `rx` delivers, for a request body sent piece by piece.
fn tokio_stream_from(
    rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}
