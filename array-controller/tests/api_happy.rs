//! Every endpoint's happy path, with the main validation answers next to it, on SQLite and
//! PostgreSQL: sign-in, accounts, API keys, tenants, specs, games, versions, deployments,
//! try-play links, topology (one by one and bulk), orders, the audit log and pagination.
//! Every mutation is checked for its audit entry (actor, action, object, request id).

use playrack_test_support as support;

use playrack_wire::Timestamp;
use playrack_wire::api::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use support::{Ctl, PASSWORD, ROOT_EMAIL, backends, fixture};

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PATCH: Method = Method::PATCH;
const PUT: Method = Method::PUT;
const DELETE: Method = Method::DELETE;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_who_am_i_and_sign_out() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let me = ctl.me(&ctl.op).await;
        assert_eq!(me.kind, PrincipalKind::Account);
        assert_eq!(me.role, Role::OperatorAdmin);
        assert_eq!(me.email.as_deref(), Some(ROOT_EMAIL));
        assert_eq!(me.tenant_id, None);

        // Sign-in answers a prefixed token, its expiry and who it is; emails ignore case.
        let before = Timestamp::now();
        let (status, login) = ctl
            .call::<_, LoginResponse>(
                POST,
                "/v1/auth/login",
                None,
                Some(&json!({"email": "ROOT@Ops.Test", "password": PASSWORD})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let login = login.unwrap();
        assert!(login.token.starts_with("prt_"), "{}", login.token);
        assert_eq!(login.principal, me);
        let ttl = ctl.config.token_ttl_secs as i64;
        assert!(login.expires_at >= before.plus_secs(ttl - 5));
        assert!(login.expires_at <= Timestamp::now().plus_secs(ttl + 5));
        assert_eq!(ctl.me(&login.token).await, me);

        // Wrong password and unknown email are told apart from nothing.
        for body in [
            json!({"email": ROOT_EMAIL, "password": "not-the-password"}),
            json!({"email": "nobody@ops.test", "password": PASSWORD}),
        ] {
            let p = ctl
                .refused(
                    POST,
                    "/v1/auth/login",
                    None,
                    Some(&body),
                    StatusCode::UNAUTHORIZED,
                    "UNAUTHENTICATED",
                )
                .await;
            assert_eq!(p.detail, "wrong email or password");
        }

        // Sign-out ends that token only.
        let (status, _) = ctl
            .raw(POST, "/v1/auth/logout", Some(&login.token), None::<&()>)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        ctl.refused(
            GET,
            "/v1/me",
            Some(&login.token),
            None,
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
        )
        .await;
        assert_eq!(ctl.me(&ctl.op).await, me, "the other sign-in still works");
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_created_listed_and_deleted() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let op_id = ctl.me(&ctl.op).await.id;
        let (tenant, ta) = ctl.tenant("Acme").await;
        let ta_id = ctl.me(&ta).await.id;

        // An operator creates an operator viewer (emails are stored lower-case).
        let viewer: Account = ctl
            .ok(
                POST,
                "/v1/accounts",
                &ctl.op,
                Some(&json!({"email": "Viewer@Ops.Test", "password": PASSWORD, "role": "operator-viewer"})),
                StatusCode::CREATED,
            )
            .await;
        assert_eq!(viewer.email, "viewer@ops.test");
        assert_eq!(viewer.role, Role::OperatorViewer);
        assert_eq!(viewer.tenant_id, None);
        ctl.audited("account.create", &viewer.id, &op_id).await;

        // A tenant admin creates a developer in their own tenant without naming it.
        let dev: Account = ctl
            .ok(
                POST,
                "/v1/accounts",
                &ta,
                Some(&json!({"email": "dev@acme.test", "password": PASSWORD, "role": "tenant-developer"})),
                StatusCode::CREATED,
            )
            .await;
        assert_eq!(dev.tenant_id.as_deref(), Some(tenant.id.as_str()));
        let entry = ctl.audited("account.create", &dev.id, &ta_id).await;
        assert_eq!(entry.tenant_id.as_deref(), Some(tenant.id.as_str()));
        let dev_token = ctl.login("dev@acme.test", PASSWORD).await;
        assert_eq!(ctl.me(&dev_token).await.role, Role::TenantDeveloper);

        // Neither passwords nor their hashes are ever shown, in lists or in the audit log.
        for path in ["/v1/accounts?limit=200", "/v1/audit?limit=200"] {
            let (status, text) = ctl.raw(GET, path, Some(&ctl.op), None::<&()>).await;
            assert_eq!(status, StatusCode::OK);
            assert!(
                !text.contains(PASSWORD) && !text.contains("argon2"),
                "{path}: {text}"
            );
        }

        // Operators list everyone; a tenant admin lists their tenant only.
        let all: Vec<Account> = ctl.list_all("/v1/accounts", &ctl.op).await;
        let emails: HashSet<_> = all.iter().map(|a| a.email.as_str()).collect();
        for e in [ROOT_EMAIL, "viewer@ops.test", "dev@acme.test"] {
            assert!(emails.contains(e), "{backend}: {e} missing from {emails:?}");
        }
        let mine: Vec<Account> = ctl.list_all("/v1/accounts", &ta).await;
        assert_eq!(mine.len(), 2, "{backend}: {mine:?}");
        assert!(
            mine.iter()
                .all(|a| a.tenant_id.as_deref() == Some(tenant.id.as_str()))
        );

        // Validation and conflicts.
        let cases = [
            (
                json!({"email": "DEV@acme.test", "password": PASSWORD, "role": "tenant-developer"}),
                StatusCode::CONFLICT,
                "EMAIL_TAKEN",
            ),
            (
                json!({"email": "short@acme.test", "password": "short", "role": "tenant-viewer"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
            ),
            (
                json!({"email": "not an email", "password": PASSWORD, "role": "tenant-viewer"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
            ),
        ];
        for (body, status, code) in cases {
            ctl.refused(POST, "/v1/accounts", Some(&ta), Some(&body), status, code)
                .await;
        }
        let op_cases = [
            (
                json!({"email": "x@ops.test", "password": PASSWORD, "role": "operator-viewer", "tenant_id": tenant.id}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
            ),
            (
                json!({"email": "y@ops.test", "password": PASSWORD, "role": "tenant-viewer"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
            ),
            (
                json!({"email": "z@ops.test", "password": PASSWORD, "role": "tenant-viewer", "tenant_id": "ten_nope"}),
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
            ),
        ];
        for (body, status, code) in op_cases {
            ctl.refused(
                POST,
                "/v1/accounts",
                Some(&ctl.op),
                Some(&body),
                status,
                code,
            )
            .await;
        }

        // Deleting an account ends its sign-ins at once.
        let (status, text) = ctl
            .raw(
                DELETE,
                &format!("/v1/accounts/{}", dev.id),
                Some(&ta),
                None::<&()>,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{text}");
        ctl.audited("account.delete", &dev.id, &ta_id).await;
        ctl.refused(
            GET,
            "/v1/me",
            Some(&dev_token),
            None,
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
        )
        .await;
        ctl.refused(
            POST,
            "/v1/auth/login",
            None,
            Some(&json!({"email": "dev@acme.test", "password": PASSWORD})),
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
        )
        .await;
        let mine: Vec<Account> = ctl.list_all("/v1/accounts", &ta).await;
        assert!(mine.iter().all(|a| a.id != dev.id));
        ctl.refused(
            DELETE,
            &format!("/v1/accounts/{}", dev.id),
            Some(&ta),
            None,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
        ctl.refused(
            DELETE,
            &format!("/v1/accounts/{ta_id}"),
            Some(&ta),
            None,
            StatusCode::CONFLICT,
            "CANNOT_DELETE_SELF",
        )
        .await;
        // An operator deletes the operator viewer.
        let (status, _) = ctl
            .raw(
                DELETE,
                &format!("/v1/accounts/{}", viewer.id),
                Some(&ctl.op),
                None::<&()>,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        ctl.audited("account.delete", &viewer.id, &op_id).await;
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_are_shown_once_work_as_bearers_and_stop_when_revoked_or_expired() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        ctl.specs().await;
        let (tenant, ta) = ctl.tenant("Acme").await;
        let ta_id = ctl.me(&ta).await.id;

        let created = ctl.api_key(&ta, "CI uploader", Role::TenantDeveloper).await;
        let key = &created.key;
        assert!(key.prefix.starts_with("prk_"), "{}", key.prefix);
        assert!(created.secret.starts_with(&key.prefix), "{created:?}");
        assert!(created.secret.len() > key.prefix.len() + 20);
        assert_eq!(key.name, "CI uploader");
        assert_eq!(key.role, Role::TenantDeveloper);
        assert_eq!(key.tenant_id.as_deref(), Some(tenant.id.as_str()));
        assert_eq!(key.revoked_at, None);
        ctl.audited("api_key.create", &key.id, &ta_id).await;

        // The secret is a bearer credential acting with the key's role.
        let me = ctl.me(&created.secret).await;
        assert_eq!(me.kind, PrincipalKind::ApiKey);
        assert_eq!(me.id, key.id);
        assert_eq!(me.role, Role::TenantDeveloper);
        assert_eq!(me.tenant_id.as_deref(), Some(tenant.id.as_str()));
        assert_eq!(me.email, None);
        let game = ctl.game(&created.secret, "keyed").await;
        ctl.audited("game.create", &game.id, &key.id).await;

        // Lists never show the secret, to the tenant or to operators; nor does the audit log.
        let secret_part = created.secret.rsplit_once('_').unwrap().1;
        for (token, path) in [
            (&ta, "/v1/api-keys"),
            (&ctl.op, "/v1/api-keys"),
            (&ctl.op, "/v1/audit?limit=200"),
        ] {
            let (status, text) = ctl.raw(GET, path, Some(token), None::<&()>).await;
            assert_eq!(status, StatusCode::OK);
            assert!(
                !text.contains(secret_part),
                "{backend}: secret in {path}: {text}"
            );
            if path.contains("audit") {
                continue;
            }
            let page: Page<ApiKey> = serde_json::from_str(&text).unwrap();
            let listed = page.items.iter().find(|k| k.id == key.id).expect("listed");
            assert_eq!(listed.prefix, key.prefix);
            assert!(listed.last_used_at.is_some(), "use is recorded");
        }

        // Revoking refuses the key at once.
        let revoked: ApiKey = ctl
            .ok::<(), _>(
                POST,
                &format!("/v1/api-keys/{}/revoke", key.id),
                &ta,
                None,
                StatusCode::OK,
            )
            .await;
        assert!(revoked.revoked_at.is_some());
        ctl.audited("api_key.revoke", &key.id, &ta_id).await;
        ctl.refused(
            GET,
            "/v1/me",
            Some(&created.secret),
            None,
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
        )
        .await;

        // An expiry in the past is refused at creation.
        let p = ctl
            .refused(
                POST,
                "/v1/api-keys",
                Some(&ta),
                Some(&json!({"name": "stale", "role": "tenant-viewer",
                    "expires_at": Timestamp::now().plus_secs(-60)})),
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
            )
            .await;
        assert!(p.detail.contains("expires_at"), "{}", p.detail);

        // A key with an expiry works until then, and not after (the expiry moved into the past
        // in the store, as time passing would).
        let expires = Timestamp::now().plus_secs(3600);
        let expiring: CreatedApiKey = ctl
            .ok(
                POST,
                "/v1/api-keys",
                &ta,
                Some(&json!({"name": "temp", "role": "tenant-viewer", "expires_at": expires})),
                StatusCode::CREATED,
            )
            .await;
        assert_eq!(expiring.key.expires_at, Some(expires));
        assert_eq!(ctl.me(&expiring.secret).await.role, Role::TenantViewer);
        sqlx::query("UPDATE api_keys SET expires_at = $1 WHERE id = $2")
            .bind(Timestamp::now().plus_secs(-1).millis())
            .bind(&expiring.key.id)
            .execute(&ctl.state().db.pool)
            .await
            .unwrap();
        ctl.refused(
            GET,
            "/v1/me",
            Some(&expiring.secret),
            None,
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
        )
        .await;

        // And with real time: a key that expires a second from now stops working by itself.
        let soon: CreatedApiKey = ctl
            .ok(
                POST,
                "/v1/api-keys",
                &ta,
                Some(&json!({"name": "soon", "role": "tenant-viewer",
                    "expires_at": Timestamp::now().plus_secs(1)})),
                StatusCode::CREATED,
            )
            .await;
        let c = &ctl;
        wait_until("the key to expire", Duration::from_secs(10), || {
            let secret = soon.secret.clone();
            async move {
                let (status, _) = c.raw(GET, "/v1/me", Some(&secret), None::<&()>).await;
                status == StatusCode::UNAUTHORIZED
            }
        })
        .await;
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_are_managed_and_a_suspended_tenant_can_only_read() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        ctl.specs().await;
        let op_id = ctl.me(&ctl.op).await.id;

        let t: Tenant = ctl
            .ok(
                POST,
                "/v1/tenants",
                &ctl.op,
                Some(&json!({"name": "Zeta", "priority_tier": 2})),
                StatusCode::CREATED,
            )
            .await;
        assert_eq!(t.status, TenantStatus::Active);
        assert_eq!(t.priority_tier, 2);
        ctl.audited("tenant.create", &t.id, &op_id).await;
        let listed: Vec<Tenant> = ctl.list_all("/v1/tenants", &ctl.op).await;
        assert!(listed.iter().any(|x| x.id == t.id && x.name == "Zeta"));
        let got: Tenant = ctl.get(&format!("/v1/tenants/{}", t.id), &ctl.op).await;
        assert_eq!(got.name, "Zeta");
        ctl.refused(
            POST,
            "/v1/tenants",
            Some(&ctl.op),
            Some(&json!({"name": "Zeta"})),
            StatusCode::CONFLICT,
            "ALREADY_EXISTS",
        )
        .await;
        ctl.refused(
            POST,
            "/v1/tenants",
            Some(&ctl.op),
            Some(&json!({"name": "  "})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        ctl.refused(
            GET,
            "/v1/tenants/ten_missing",
            Some(&ctl.op),
            None,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;

        let (tenant, ta) = ctl.tenant("Acme").await;
        let patched: Tenant = ctl
            .ok(
                PATCH,
                &format!("/v1/tenants/{}", tenant.id),
                &ctl.op,
                Some(&json!({"name": "Acme Games", "priority_tier": 3})),
                StatusCode::OK,
            )
            .await;
        assert_eq!(
            (patched.name.as_str(), patched.priority_tier),
            ("Acme Games", 3)
        );
        ctl.audited("tenant.update", &tenant.id, &op_id).await;
        let own: Tenant = ctl.get(&format!("/v1/tenants/{}", tenant.id), &ta).await;
        assert_eq!(own.name, "Acme Games");

        let game = ctl.game(&ta, "before").await;
        let key = ctl.api_key(&ta, "dev key", Role::TenantDeveloper).await;

        // Suspended: reads work, every change is refused with 403.
        let suspended: Tenant = ctl
            .ok(
                PATCH,
                &format!("/v1/tenants/{}", tenant.id),
                &ctl.op,
                Some(&json!({"status": "suspended"})),
                StatusCode::OK,
            )
            .await;
        assert_eq!(suspended.status, TenantStatus::Suspended);
        let entry = ctl.audited("tenant.update", &tenant.id, &op_id).await;
        assert_eq!(entry.summary["status"], "suspended", "{entry:?}");
        for token in [&ta, &key.secret] {
            let own: Tenant = ctl.get(&format!("/v1/tenants/{}", tenant.id), token).await;
            assert_eq!(own.status, TenantStatus::Suspended);
            let games: Page<Game> = ctl.get("/v1/games", token).await;
            assert_eq!(games.items.len(), 1);
            let _: Game = ctl.get(&format!("/v1/games/{}", game.id), token).await;
            let _: Page<Spec> = ctl.get("/v1/specs", token).await;
        }
        let mutations = [
            (
                POST,
                "/v1/games".to_owned(),
                json!({"slug": "after", "name": "After", "archive_policy": "online", "spec_ids": ["hd-60"]}),
            ),
            (
                PATCH,
                format!("/v1/games/{}", game.id),
                json!({"name": "Renamed"}),
            ),
            (POST, "/v1/links".to_owned(), json!({"game_id": game.id})),
            (
                POST,
                "/v1/accounts".to_owned(),
                json!({"email": "new@acme.test", "password": PASSWORD, "role": "tenant-viewer"}),
            ),
            (
                POST,
                "/v1/api-keys".to_owned(),
                json!({"name": "another", "role": "tenant-viewer"}),
            ),
        ];
        for (method, path, body) in &mutations {
            ctl.refused(
                method.clone(),
                path,
                Some(&ta),
                Some(body),
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
            )
            .await;
        }
        ctl.refused(
            POST,
            "/v1/games",
            Some(&key.secret),
            Some(&mutations[0].2),
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
        )
        .await;
        let resp = ctl.create_upload(&ta, &game.id, 1000).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);

        // Reactivated: changes work again.
        let _: Tenant = ctl
            .ok(
                PATCH,
                &format!("/v1/tenants/{}", tenant.id),
                &ctl.op,
                Some(&json!({"status": "active"})),
                StatusCode::OK,
            )
            .await;
        let _ = ctl.game(&ta, "after").await;
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn specs_are_created_read_and_changed_and_bad_ones_are_explained() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let op_id = ctl.me(&ctl.op).await.id;
        let spec = json!({"id": "uhd-30", "name": "4K 30 fps", "width": 2160, "height": 3840, "fps": 30,
            "bitrate_min_kbps": 8000, "bitrate_max_kbps": 20000, "cpu_millis": 4000, "memory_mb": 6144,
            "price_per_minute_micros": 40000});
        let created: Spec = ctl
            .ok(POST, "/v1/specs", &ctl.op, Some(&spec), StatusCode::CREATED)
            .await;
        assert_eq!(serde_json::to_value(&created).unwrap(), spec);
        ctl.audited("spec.create", "uhd-30", &op_id).await;
        ctl.specs().await;
        let listed: Vec<Spec> = ctl.list_all("/v1/specs", &ctl.op).await;
        let ids: Vec<_> = listed.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["fhd-60", "hd-60", "sd-30", "uhd-30"], "{backend}");
        // Tenants read specs too (they choose from them).
        let (_, ta) = ctl.tenant("Acme").await;
        let got: Spec = ctl.get("/v1/specs/uhd-30", &ta).await;
        assert_eq!(got, created);

        let patched: Spec = ctl
            .ok(
                PATCH,
                "/v1/specs/uhd-30",
                &ctl.op,
                Some(&json!({"name": "UHD 30", "price_per_minute_micros": 45000, "bitrate_max_kbps": 25000})),
                StatusCode::OK,
            )
            .await;
        assert_eq!(patched.name, "UHD 30");
        assert_eq!(patched.price_per_minute_micros, 45000);
        assert_eq!(patched.width, 2160, "resolution is unchanged");
        let got: Spec = ctl.get("/v1/specs/uhd-30", &ctl.op).await;
        assert_eq!(got, patched);
        ctl.audited("spec.update", "uhd-30", &op_id).await;

        // Every invalid field is refused with a sentence naming it.
        let bad = |field: &str, value: serde_json::Value| {
            let mut s = spec.clone();
            s["id"] = json!("bad-spec");
            s[field] = value;
            s
        };
        let cases = [
            (bad("id", json!("HD 60")), "spec id"),
            (bad("width", json!(0)), "width"),
            (bad("height", json!(10_000)), "height"),
            (bad("fps", json!(0)), "fps"),
            (bad("bitrate_min_kbps", json!(30_000)), "bitrate_min_kbps"),
            (bad("bitrate_min_kbps", json!(0)), "bitrate_min_kbps"),
            (
                bad("price_per_minute_micros", json!(-1)),
                "price_per_minute_micros",
            ),
            (bad("name", json!(" ")), "name"),
        ];
        for (body, field) in cases {
            let p = ctl
                .refused(
                    POST,
                    "/v1/specs",
                    Some(&ctl.op),
                    Some(&body),
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "VALIDATION_FAILED",
                )
                .await;
            assert!(p.detail.contains(field), "{backend} {field}: {}", p.detail);
        }
        let p = ctl
            .refused(
                PATCH,
                "/v1/specs/uhd-30",
                Some(&ctl.op),
                Some(&json!({"bitrate_min_kbps": 99_000})),
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
            )
            .await;
        assert!(p.detail.contains("bitrate_min_kbps"), "{}", p.detail);
        ctl.refused(
            POST,
            "/v1/specs",
            Some(&ctl.op),
            Some(&spec),
            StatusCode::CONFLICT,
            "ALREADY_EXISTS",
        )
        .await;
        ctl.refused(
            GET,
            "/v1/specs/none",
            Some(&ctl.op),
            None,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn games_are_created_listed_read_and_changed() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        ctl.specs().await;
        let (tenant, ta) = ctl.tenant("Acme").await;
        let ta_id = ctl.me(&ta).await.id;
        let op_id = ctl.me(&ctl.op).await.id;

        let game: Game = ctl
            .ok(
                POST,
                "/v1/games",
                &ta,
                Some(&json!({"slug": "tapper", "name": "Tap Tap", "archive_policy": "single_player",
                    "spec_ids": ["hd-60", "sd-30"],
                    "trial_defaults": {"max_play_seconds": 300, "reconnect_grace_seconds": 30, "idle_kick_seconds": 90}})),
                StatusCode::CREATED,
            )
            .await;
        assert_eq!(game.tenant_id, tenant.id);
        assert_eq!(game.slug, "tapper");
        assert_eq!(game.archive_policy, ArchivePolicy::SinglePlayer);
        assert_eq!(game.spec_ids, ["hd-60", "sd-30"]);
        assert_eq!(game.trial_defaults.max_play_seconds, 300);
        assert_eq!(
            (
                game.package_name.clone(),
                game.default_version_id.clone(),
                game.icon_url.clone()
            ),
            (None, None, None)
        );
        ctl.audited("game.create", &game.id, &ta_id).await;
        let got: Game = ctl.get(&format!("/v1/games/{}", game.id), &ta).await;
        assert_eq!(got.name, "Tap Tap");

        // Defaults when trial_defaults is left out.
        let other = ctl.game(&ta, "runner").await;
        assert_eq!(other.trial_defaults, TrialDefaults::default());

        // Operators create games for a tenant by naming it.
        ctl.refused(
            POST,
            "/v1/games",
            Some(&ctl.op),
            Some(&json!({"slug": "op-made", "name": "Op", "archive_policy": "online", "spec_ids": ["sd-30"]})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        let op_game: Game = ctl
            .ok(
                POST,
                &format!("/v1/games?tenant_id={}", tenant.id),
                &ctl.op,
                Some(&json!({"slug": "op-made", "name": "Op", "archive_policy": "online", "spec_ids": ["sd-30"]})),
                StatusCode::CREATED,
            )
            .await;
        assert_eq!(op_game.tenant_id, tenant.id);
        ctl.audited("game.create", &op_game.id, &op_id).await;

        // Lists: the tenant's own; operators all or filtered by tenant.
        let (other_tenant, tb) = ctl.tenant("Beta").await;
        let beta_game = ctl.game(&tb, "tapper").await; // the same slug in another tenant is fine
        let mine: Vec<Game> = ctl.list_all("/v1/games", &ta).await;
        let ids: Vec<_> = mine.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(
            ids,
            [game.id.as_str(), other.id.as_str(), op_game.id.as_str()]
        );
        let all: Vec<Game> = ctl.list_all("/v1/games", &ctl.op).await;
        assert_eq!(all.len(), 4);
        let beta: Vec<Game> = ctl
            .list_all(&format!("/v1/games?tenant_id={}", other_tenant.id), &ctl.op)
            .await;
        assert_eq!(beta.len(), 1);
        assert_eq!(beta[0].id, beta_game.id);

        // Changes.
        let patched: Game = ctl
            .ok(
                PATCH,
                &format!("/v1/games/{}", game.id),
                &ta,
                Some(&json!({"name": "Tap Tap Deluxe", "archive_policy": "online", "spec_ids": ["fhd-60", "hd-60"],
                    "trial_defaults": {"max_play_seconds": 900, "reconnect_grace_seconds": 10, "idle_kick_seconds": 60}})),
                StatusCode::OK,
            )
            .await;
        assert_eq!(patched.name, "Tap Tap Deluxe");
        assert_eq!(patched.archive_policy, ArchivePolicy::Online);
        assert_eq!(patched.spec_ids, ["fhd-60", "hd-60"]);
        assert_eq!(patched.trial_defaults.max_play_seconds, 900);
        assert_eq!(patched.slug, "tapper", "the slug is fixed");
        let got: Game = ctl.get(&format!("/v1/games/{}", game.id), &ta).await;
        assert_eq!(got.name, "Tap Tap Deluxe");
        ctl.audited("game.update", &game.id, &ta_id).await;

        // Conflicts and validation.
        let p = ctl
            .refused(
                POST,
                "/v1/games",
                Some(&ta),
                Some(&json!({"slug": "tapper", "name": "Again", "archive_policy": "online", "spec_ids": ["hd-60"]})),
                StatusCode::CONFLICT,
                "SLUG_TAKEN",
            )
            .await;
        assert!(p.detail.contains("tapper"), "{}", p.detail);
        let invalid = [
            json!({"slug": "Bad Slug", "name": "x", "archive_policy": "online", "spec_ids": ["hd-60"]}),
            json!({"slug": "ok", "name": "", "archive_policy": "online", "spec_ids": ["hd-60"]}),
            json!({"slug": "ok", "name": "x", "archive_policy": "online", "spec_ids": []}),
            json!({"slug": "ok", "name": "x", "archive_policy": "online", "spec_ids": ["no-such-spec"]}),
            json!({"slug": "ok", "name": "x", "archive_policy": "online", "spec_ids": ["hd-60", "hd-60"]}),
            json!({"slug": "ok", "name": "x", "archive_policy": "online", "spec_ids": ["hd-60"],
                "trial_defaults": {"max_play_seconds": 0, "reconnect_grace_seconds": 0, "idle_kick_seconds": 1}}),
        ];
        for body in &invalid {
            ctl.refused(
                POST,
                "/v1/games",
                Some(&ta),
                Some(body),
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
            )
            .await;
        }
        ctl.refused(
            PATCH,
            &format!("/v1/games/{}", game.id),
            Some(&ta),
            Some(&json!({"spec_ids": ["no-such-spec"]})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        ctl.refused(
            GET,
            "/v1/games/gam_missing",
            Some(&ta),
            None,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_are_listed_and_read_and_ready_ones_are_deployed_to_rooms() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        ctl.specs().await;
        let (_, ta) = ctl.tenant("Acme").await;
        let ta_id = ctl.me(&ta).await.id;
        let game = ctl.game(&ta, "tapper").await;

        let v1 = ctl.upload(&ta, &game.id, &fixture("tapper-v1.apk")).await;
        let v2 = ctl.upload(&ta, &game.id, &fixture("tapper-v2.apk")).await;
        assert_eq!(
            (v1.state, v2.state),
            (VersionState::Ready, VersionState::Ready)
        );
        ctl.audited("version.upload", &v1.id, &ta_id).await;
        ctl.audited("version.ready", &v1.id, "system").await;

        let versions: Vec<Version> = ctl
            .list_all(&format!("/v1/games/{}/versions", game.id), &ta)
            .await;
        let ids: Vec<_> = versions.iter().map(|v| v.id.as_str()).collect();
        assert_eq!(ids, [v1.id.as_str(), v2.id.as_str()], "oldest first");
        let got: Version = ctl.get(&format!("/v1/versions/{}", v2.id), &ta).await;
        assert_eq!(got.apk.as_ref().unwrap().version_code, 2);
        assert_eq!(got.game_id, game.id);

        // Publish and revoke.
        let published: Version = ctl
            .ok::<(), _>(
                POST,
                &format!("/v1/versions/{}/publish", v1.id),
                &ta,
                None,
                StatusCode::OK,
            )
            .await;
        assert!(published.published_at.is_some());
        ctl.audited("version.publish", &v1.id, &ta_id).await;
        let g: Game = ctl.get(&format!("/v1/games/{}", game.id), &ta).await;
        assert_eq!(g.default_version_id.as_deref(), Some(v1.id.as_str()));
        let revoked: Version = ctl
            .ok::<(), _>(
                POST,
                &format!("/v1/versions/{}/revoke", v1.id),
                &ta,
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(revoked.published_at, None);
        ctl.audited("version.revoke", &v1.id, &ta_id).await;

        // Deployments: rooms start pending; leaving a room out removes it.
        let region = ctl.region("eu").await;
        let rooms = [
            ctl.room(&region.id, "fra-1").await,
            ctl.room(&region.id, "ams-1").await,
            ctl.room(&region.id, "par-1").await,
        ];
        let empty: Deployment = ctl
            .get(&format!("/v1/versions/{}/deployment", v2.id), &ta)
            .await;
        assert!(empty.rooms.is_empty());
        let path = format!("/v1/versions/{}/deployment", v2.id);
        let all_ids: Vec<_> = rooms.iter().map(|r| r.id.clone()).collect();
        let dep: Deployment = ctl
            .ok(
                PUT,
                &path,
                &ta,
                Some(&json!({"room_ids": all_ids})),
                StatusCode::OK,
            )
            .await;
        assert_eq!(dep.version_id, v2.id);
        assert_eq!(dep.game_id, game.id);
        let mut want = all_ids.clone();
        want.sort();
        assert_eq!(
            dep.rooms
                .iter()
                .map(|r| r.room_id.clone())
                .collect::<Vec<_>>(),
            want
        );
        assert!(
            dep.rooms
                .iter()
                .all(|r| r.state == DeploymentRoomState::Pending
                    && r.progress_percent == 0
                    && r.error.is_none())
        );
        ctl.audited("deployment.set", &v2.id, &ta_id).await;
        let read: Deployment = ctl.get(&path, &ta).await;
        assert_eq!(read.rooms.len(), 3);

        let keep = vec![rooms[1].id.clone()];
        let dep: Deployment = ctl
            .ok(
                PUT,
                &path,
                &ta,
                Some(&json!({"room_ids": [rooms[1].id, rooms[1].id]})),
                StatusCode::OK,
            )
            .await;
        assert_eq!(
            dep.rooms
                .iter()
                .map(|r| r.room_id.clone())
                .collect::<Vec<_>>(),
            keep
        );
        let read: Deployment = ctl.get(&path, &ctl.op).await;
        assert_eq!(read.rooms.len(), 1);
        assert_eq!(read.rooms[0].room_id, rooms[1].id);

        // An unknown room changes nothing.
        ctl.refused(
            PUT,
            &path,
            Some(&ta),
            Some(&json!({"room_ids": [rooms[0].id, "room_missing"]})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        let read: Deployment = ctl.get(&path, &ta).await;
        assert_eq!(read.rooms.len(), 1);

        // A version that is not READY can be neither deployed nor published.
        let resp = ctl.create_upload(&ta, &game.id, 1000).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let up: Upload = resp.json().await.unwrap();
        let uploading: Version = ctl
            .get(&format!("/v1/versions/{}", up.version_id), &ta)
            .await;
        assert_eq!(uploading.state, VersionState::Uploading);
        let p = ctl
            .refused(
                PUT,
                &format!("/v1/versions/{}/deployment", up.version_id),
                Some(&ta),
                Some(&json!({"room_ids": [rooms[0].id]})),
                StatusCode::CONFLICT,
                "VERSION_NOT_READY",
            )
            .await;
        assert!(p.detail.contains("READY"), "{}", p.detail);
        ctl.refused(
            POST,
            &format!("/v1/versions/{}/publish", up.version_id),
            Some(&ta),
            None,
            StatusCode::CONFLICT,
            "VERSION_NOT_READY",
        )
        .await;
        let upload_view: Upload = ctl.get(&format!("/v1/uploads/{}", up.id), &ta).await;
        assert_eq!((upload_view.offset, upload_view.length), (0, 1000));
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn try_play_links_are_created_listed_read_and_revoked() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        ctl.specs().await;
        let (_, ta) = ctl.tenant("Acme").await;
        let ta_id = ctl.me(&ta).await.id;
        let game: Game = ctl
            .ok(
                POST,
                "/v1/games",
                &ta,
                Some(&json!({"slug": "tapper", "name": "Tap", "archive_policy": "online", "spec_ids": ["hd-60"],
                    "trial_defaults": {"max_play_seconds": 321, "reconnect_grace_seconds": 30, "idle_kick_seconds": 90}})),
                StatusCode::CREATED,
            )
            .await;
        let other = ctl.game(&ta, "runner").await;

        // Defaults come from the game.
        let plain: Link = ctl
            .ok(
                POST,
                "/v1/links",
                &ta,
                Some(&json!({"game_id": game.id})),
                StatusCode::CREATED,
            )
            .await;
        assert_eq!(plain.game_id, game.id);
        assert_eq!(plain.trial_seconds, 321);
        assert_eq!(
            (plain.expires_at, plain.max_plays, plain.plays_used),
            (None, None, 0)
        );
        assert_eq!((plain.campaign.clone(), plain.revoked_at), (None, None));
        assert!(plain.code.len() >= 8, "{}", plain.code);
        ctl.audited("link.create", &plain.id, &ta_id).await;

        let expires = Timestamp::now().plus_secs(7 * 24 * 3600);
        let full: Link = ctl
            .ok(
                POST,
                "/v1/links",
                &ta,
                Some(
                    &json!({"game_id": game.id, "trial_seconds": 120, "expires_at": expires,
                    "max_plays": 5, "campaign": "launch-week"}),
                ),
                StatusCode::CREATED,
            )
            .await;
        assert_eq!(full.trial_seconds, 120);
        assert_eq!(full.expires_at, Some(expires));
        assert_eq!(full.max_plays, Some(5));
        assert_eq!(full.campaign.as_deref(), Some("launch-week"));
        assert_ne!(full.code, plain.code);
        let for_other: Link = ctl
            .ok(
                POST,
                "/v1/links",
                &ta,
                Some(&json!({"game_id": other.id})),
                StatusCode::CREATED,
            )
            .await;
        assert_eq!(for_other.trial_seconds, 600);

        // Lists, filtered by game.
        let all: Vec<Link> = ctl.list_all("/v1/links", &ta).await;
        assert_eq!(all.len(), 3);
        let of_game: Vec<Link> = ctl
            .list_all(&format!("/v1/links?game_id={}", game.id), &ta)
            .await;
        let ids: Vec<_> = of_game.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, [plain.id.as_str(), full.id.as_str()]);
        let of_other: Vec<Link> = ctl
            .list_all(&format!("/v1/links?game_id={}", other.id), &ctl.op)
            .await;
        assert_eq!(of_other.len(), 1);
        assert_eq!(of_other[0].id, for_other.id);
        let got: Link = ctl.get(&format!("/v1/links/{}", full.id), &ta).await;
        assert_eq!(got.code, full.code);

        // Revoking.
        let revoked: Link = ctl
            .ok::<(), _>(
                POST,
                &format!("/v1/links/{}/revoke", full.id),
                &ta,
                None,
                StatusCode::OK,
            )
            .await;
        assert!(revoked.revoked_at.is_some());
        ctl.audited("link.revoke", &full.id, &ta_id).await;
        let got: Link = ctl.get(&format!("/v1/links/{}", full.id), &ta).await;
        assert_eq!(got.revoked_at, revoked.revoked_at);

        // Validation.
        let invalid = [
            json!({"game_id": game.id, "trial_seconds": 0}),
            json!({"game_id": game.id, "trial_seconds": 100_000}),
            json!({"game_id": game.id, "expires_at": Timestamp::now().plus_secs(-5)}),
            json!({"game_id": game.id, "max_plays": 0}),
            json!({"game_id": game.id, "campaign": "x".repeat(65)}),
        ];
        for body in &invalid {
            ctl.refused(
                POST,
                "/v1/links",
                Some(&ta),
                Some(body),
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
            )
            .await;
        }
        ctl.refused(
            POST,
            "/v1/links",
            Some(&ta),
            Some(&json!({"game_id": "gam_missing"})),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regions_rooms_arrays_and_boards_are_created_listed_read_and_changed() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let op_id = ctl.me(&ctl.op).await.id;
        let (_, ta) = ctl.tenant("Acme").await;

        let eu = ctl.region("eu-west").await;
        let ap = ctl.region("ap-east").await;
        assert_eq!(eu.name, "eu-west");
        ctl.audited("region.create", &eu.id, &op_id).await;
        let regions: Vec<Region> = ctl.list_all("/v1/regions", &ta).await;
        assert_eq!(
            regions.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
            [eu.id.clone(), ap.id.clone()]
        );
        ctl.refused(
            POST,
            "/v1/regions",
            Some(&ctl.op),
            Some(&json!({"name": "eu-west"})),
            StatusCode::CONFLICT,
            "ALREADY_EXISTS",
        )
        .await;

        // Rooms.
        let fra: Room = ctl
            .ok(
                POST,
                "/v1/rooms",
                &ctl.op,
                Some(&json!({"region_id": eu.id, "name": "fra-1", "instance_cap": 500,
                    "shared_volume": "rsync://fra-1.storage.test/packages", "probe_url": "https://fra-1.test/probe",
                    "placement": "binpack"})),
                StatusCode::CREATED,
            )
            .await;
        assert_eq!((fra.instance_cap, fra.placement), (500, Placement::Binpack));
        ctl.audited("room.create", &fra.id, &op_id).await;
        let ams = ctl.room(&eu.id, "ams-1").await;
        let hkg = ctl.room(&ap.id, "hkg-1").await;
        assert_eq!(ams.placement, Placement::Spread);
        let in_eu: Vec<Room> = ctl
            .list_all(&format!("/v1/rooms?parent_id={}", eu.id), &ta)
            .await;
        assert_eq!(
            in_eu.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
            [fra.id.clone(), ams.id.clone()]
        );
        let all: Vec<Room> = ctl.list_all("/v1/rooms", &ctl.op).await;
        assert_eq!(all.len(), 3);
        let got: Room = ctl.get(&format!("/v1/rooms/{}", hkg.id), &ta).await;
        assert_eq!(got.region_id, ap.id);
        let patched: Room = ctl
            .ok(
                PATCH,
                &format!("/v1/rooms/{}", fra.id),
                &ctl.op,
                Some(
                    &json!({"name": "fra-1b", "instance_cap": 800, "placement": "spread",
                    "shared_volume": "/mnt/fra", "probe_url": "http://fra.test/p"}),
                ),
                StatusCode::OK,
            )
            .await;
        assert_eq!(
            (
                patched.name.as_str(),
                patched.instance_cap,
                patched.placement,
                patched.shared_volume.as_str()
            ),
            ("fra-1b", 800, Placement::Spread, "/mnt/fra")
        );
        let got: Room = ctl.get(&format!("/v1/rooms/{}", fra.id), &ctl.op).await;
        assert_eq!(got.name, "fra-1b");
        ctl.audited("room.update", &fra.id, &op_id).await;
        let bad_rooms = [
            json!({"region_id": eu.id, "name": "x", "instance_cap": 1, "shared_volume": "relative/path", "probe_url": "https://x.test"}),
            json!({"region_id": eu.id, "name": "x", "instance_cap": 1, "shared_volume": "/mnt/../etc", "probe_url": "https://x.test"}),
            json!({"region_id": eu.id, "name": "x", "instance_cap": 1, "shared_volume": "/mnt/x", "probe_url": "ftp://x.test"}),
            json!({"region_id": eu.id, "name": "", "instance_cap": 1, "shared_volume": "/mnt/x", "probe_url": "https://x.test"}),
            json!({"region_id": "reg_missing", "name": "x", "instance_cap": 1, "shared_volume": "/mnt/x", "probe_url": "https://x.test"}),
        ];
        for body in &bad_rooms {
            ctl.refused(
                POST,
                "/v1/rooms",
                Some(&ctl.op),
                Some(body),
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
            )
            .await;
        }
        ctl.refused(
            PATCH,
            &format!("/v1/rooms/{}", fra.id),
            Some(&ctl.op),
            Some(&json!({"shared_volume": "nope"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;

        // Arrays.
        let a1 = ctl.array(&fra.id, "rack-a").await;
        let a2 = ctl.array(&fra.id, "rack-b").await;
        let a3 = ctl.array(&hkg.id, "rack-a").await;
        ctl.audited("array.create", &a1.id, &op_id).await;
        let in_fra: Vec<Array> = ctl
            .list_all(&format!("/v1/arrays?parent_id={}", fra.id), &ctl.op)
            .await;
        assert_eq!(
            in_fra.iter().map(|a| a.id.clone()).collect::<Vec<_>>(),
            [a1.id.clone(), a2.id.clone()]
        );
        let all: Vec<Array> = ctl.list_all("/v1/arrays", &ctl.op).await;
        assert_eq!(all.len(), 3);
        assert_eq!(all[2].id, a3.id);
        ctl.refused(
            POST,
            "/v1/arrays",
            Some(&ctl.op),
            Some(&json!({"room_id": "room_missing", "name": "x"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;

        // Boards, and draining one.
        let b1 = ctl.board(&a1.id, "SN-0001").await;
        let b2 = ctl.board(&a1.id, "SN-0002").await;
        let b3 = ctl.board(&a2.id, "SN-0003").await;
        assert_eq!(b1.status, BoardStatus::Active);
        assert_eq!(b1.capacity.get("hd-60"), Some(&4));
        ctl.audited("board.create", &b1.id, &op_id).await;
        let on_a1: Vec<Board> = ctl
            .list_all(&format!("/v1/boards?parent_id={}", a1.id), &ctl.op)
            .await;
        assert_eq!(
            on_a1.iter().map(|b| b.id.clone()).collect::<Vec<_>>(),
            [b1.id.clone(), b2.id.clone()]
        );
        let got: Board = ctl.get(&format!("/v1/boards/{}", b3.id), &ctl.op).await;
        assert_eq!(got.serial, "SN-0003");
        let drained: Board = ctl
            .ok(
                PATCH,
                &format!("/v1/boards/{}", b1.id),
                &ctl.op,
                Some(&json!({"status": "draining"})),
                StatusCode::OK,
            )
            .await;
        assert_eq!(drained.status, BoardStatus::Draining);
        let entry = ctl.audited("board.update", &b1.id, &op_id).await;
        assert_eq!(entry.summary["status"], "draining");
        let got: Board = ctl.get(&format!("/v1/boards/{}", b1.id), &ctl.op).await;
        assert_eq!(got.status, BoardStatus::Draining);
        let changed: Board = ctl
            .ok(
                PATCH,
                &format!("/v1/boards/{}", b2.id),
                &ctl.op,
                Some(&json!({"model": "RK3588S", "capacity": {"sd-30": 12}, "status": "disabled"})),
                StatusCode::OK,
            )
            .await;
        assert_eq!(changed.model, "RK3588S");
        assert_eq!(changed.capacity.len(), 1);
        assert_eq!(changed.status, BoardStatus::Disabled);
        ctl.refused(
            POST,
            "/v1/boards",
            Some(&ctl.op),
            Some(
                &json!({"array_id": a2.id, "serial": "SN-0001", "model": "RK3588", "capacity": {}}),
            ),
            StatusCode::CONFLICT,
            "SERIAL_TAKEN",
        )
        .await;
        ctl.refused(
            POST,
            "/v1/boards",
            Some(&ctl.op),
            Some(&json!({"array_id": a2.id, "serial": "SN-9", "model": "RK3588", "capacity": {"HD 60": 1}})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        ctl.refused(
            GET,
            "/v1/boards/brd_missing",
            Some(&ctl.op),
            None,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
        ctl.stop().await;
    }
}

fn topology_doc() -> serde_json::Value {
    let board = |serial: &str| json!({"serial": serial, "model": "RK3588", "capacity": {"hd-60": 4, "sd-30": 8}});
    json!({"regions": [
        {"name": "eu-west", "rooms": [
            {"name": "fra-1", "instance_cap": 400, "shared_volume": "/mnt/fra-1", "probe_url": "https://fra-1.test/p",
             "arrays": [{"name": "rack-a", "boards": [board("FRA-0001"), board("FRA-0002")]}]},
            {"name": "ams-1", "instance_cap": 200, "shared_volume": "rsync://ams-1.test/pkgs", "probe_url": "https://ams-1.test/p",
             "placement": "binpack",
             "arrays": [{"name": "rack-a", "boards": [board("AMS-0001")]},
                        {"name": "rack-b", "boards": [board("AMS-0002")]}]}
        ]},
        {"name": "ap-east", "rooms": [
            {"name": "hkg-1", "instance_cap": 300, "shared_volume": "/mnt/hkg-1", "probe_url": "https://hkg-1.test/p",
             "arrays": [{"name": "rack-a", "boards": [board("HKG-0001")]}]}
        ]}
    ]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topology_document_imports_idempotently_and_all_or_nothing() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let op_id = ctl.me(&ctl.op).await.id;
        let doc = topology_doc();

        // 2 regions + 3 rooms + 4 arrays + 5 boards.
        let report: ImportReport = ctl
            .ok(
                POST,
                "/v1/topology/import",
                &ctl.op,
                Some(&doc),
                StatusCode::OK,
            )
            .await;
        assert_eq!(
            report,
            ImportReport {
                created: 14,
                updated: 0
            },
            "{backend}"
        );
        let entry = ctl.audited("topology.import", "topology", &op_id).await;
        assert_eq!(entry.summary["created"], 14);
        let regions: Vec<Region> = ctl.list_all("/v1/regions", &ctl.op).await;
        let rooms: Vec<Room> = ctl.list_all("/v1/rooms", &ctl.op).await;
        let arrays: Vec<Array> = ctl.list_all("/v1/arrays", &ctl.op).await;
        let boards: Vec<Board> = ctl.list_all("/v1/boards", &ctl.op).await;
        assert_eq!(
            (regions.len(), rooms.len(), arrays.len(), boards.len()),
            (2, 3, 4, 5)
        );
        let eu = regions.iter().find(|r| r.name == "eu-west").unwrap();
        let eu_rooms: Vec<Room> = ctl
            .list_all(&format!("/v1/rooms?parent_id={}", eu.id), &ctl.op)
            .await;
        assert_eq!(eu_rooms.len(), 2);
        let ams = rooms.iter().find(|r| r.name == "ams-1").unwrap();
        assert_eq!(ams.placement, Placement::Binpack);
        assert_eq!(ams.shared_volume, "rsync://ams-1.test/pkgs");
        let ams_arrays: Vec<Array> = ctl
            .list_all(&format!("/v1/arrays?parent_id={}", ams.id), &ctl.op)
            .await;
        assert_eq!(ams_arrays.len(), 2);

        // The same document again changes nothing: nothing is created, the rest is updated in
        // place (same ids).
        let again: ImportReport = ctl
            .ok(
                POST,
                "/v1/topology/import",
                &ctl.op,
                Some(&doc),
                StatusCode::OK,
            )
            .await;
        assert_eq!(again.created, 0, "{backend}: {again:?}");
        assert!(
            again.updated >= 3 + 5,
            "{backend}: rooms and boards are updated: {again:?}"
        );
        let ids = |v: &[Board]| v.iter().map(|b| b.id.clone()).collect::<Vec<_>>();
        let boards_again: Vec<Board> = ctl.list_all("/v1/boards", &ctl.op).await;
        assert_eq!(ids(&boards_again), ids(&boards));
        let rooms_again: Vec<Room> = ctl.list_all("/v1/rooms", &ctl.op).await;
        assert_eq!(
            rooms_again.iter().map(|r| &r.id).collect::<Vec<_>>(),
            rooms.iter().map(|r| &r.id).collect::<Vec<_>>()
        );

        // An operator's drain survives a re-import (the document says nothing about status).
        let fra_board = boards.iter().find(|b| b.serial == "FRA-0001").unwrap();
        let _: Board = ctl
            .ok(
                PATCH,
                &format!("/v1/boards/{}", fra_board.id),
                &ctl.op,
                Some(&json!({"status": "draining"})),
                StatusCode::OK,
            )
            .await;

        // A changed field is applied in place.
        let mut changed = doc.clone();
        changed["regions"][1]["rooms"][0]["instance_cap"] = json!(999);
        changed["regions"][1]["rooms"][0]["arrays"][0]["boards"][0]["model"] = json!("RK3588S");
        let _: ImportReport = ctl
            .ok(
                POST,
                "/v1/topology/import",
                &ctl.op,
                Some(&changed),
                StatusCode::OK,
            )
            .await;
        let hkg = rooms.iter().find(|r| r.name == "hkg-1").unwrap();
        let got: Room = ctl.get(&format!("/v1/rooms/{}", hkg.id), &ctl.op).await;
        assert_eq!(got.instance_cap, 999);
        let hkg_board = boards.iter().find(|b| b.serial == "HKG-0001").unwrap();
        let got: Board = ctl
            .get(&format!("/v1/boards/{}", hkg_board.id), &ctl.op)
            .await;
        assert_eq!(got.model, "RK3588S");
        let got: Board = ctl
            .get(&format!("/v1/boards/{}", fra_board.id), &ctl.op)
            .await;
        assert_eq!(got.status, BoardStatus::Draining, "{backend}");

        // One bad entry at the very end rolls back everything before it.
        let mut bad = doc.clone();
        bad["regions"].as_array_mut().unwrap().push(json!({"name": "us-east", "rooms": [
            {"name": "iad-1", "instance_cap": 100, "shared_volume": "/mnt/iad", "probe_url": "https://iad.test/p",
             "arrays": [{"name": "rack-a", "boards": [
                {"serial": "IAD-0001", "model": "RK3588", "capacity": {"hd-60": 2}},
                {"serial": "IAD-0002", "model": "RK3588", "capacity": {"Not A Spec": 2}}
             ]}]}
        ]}));
        bad["regions"][0]["rooms"][0]["instance_cap"] = json!(1);
        let p = ctl
            .refused(
                POST,
                "/v1/topology/import",
                Some(&ctl.op),
                Some(&bad),
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
            )
            .await;
        assert!(
            p.detail.contains("Not A Spec"),
            "the bad entry is named: {}",
            p.detail
        );
        let regions: Vec<Region> = ctl.list_all("/v1/regions", &ctl.op).await;
        assert_eq!(
            regions.len(),
            2,
            "{backend}: nothing of the bad import remains"
        );
        let boards_after: Vec<Board> = ctl.list_all("/v1/boards", &ctl.op).await;
        assert_eq!(boards_after.len(), 5);
        let fra = rooms.iter().find(|r| r.name == "fra-1").unwrap();
        let got: Room = ctl.get(&format!("/v1/rooms/{}", fra.id), &ctl.op).await;
        assert_eq!(
            got.instance_cap, 400,
            "the earlier update in the bad document is undone"
        );
        let imports: Vec<AuditEntry> = ctl
            .list_all("/v1/audit?action=topology.import", &ctl.op)
            .await;
        assert_eq!(imports.len(), 3, "the failed import left no audit entry");
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_are_created_for_a_region_or_rooms_listed_changed_and_cancelled() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        ctl.specs().await;
        let op_id = ctl.me(&ctl.op).await.id;
        let (acme, ta) = ctl.tenant("Acme").await;
        let (beta, tb) = ctl.tenant("Beta").await;
        let region = ctl.region("eu").await;
        let r1 = ctl.room(&region.id, "fra-1").await;
        let r2 = ctl.room(&region.id, "ams-1").await;
        let from = Timestamp::now();
        let until = from.plus_secs(30 * 24 * 3600);

        let by_region: Order = ctl
            .ok(
                POST,
                "/v1/orders",
                &ctl.op,
                Some(
                    &json!({"tenant_id": acme.id, "spec_id": "hd-60", "region_id": region.id,
                    "concurrency": 50, "valid_from": from, "valid_until": until, "priority": 2}),
                ),
                StatusCode::CREATED,
            )
            .await;
        assert_eq!(by_region.tenant_id, acme.id);
        assert_eq!(by_region.region_id.as_deref(), Some(region.id.as_str()));
        assert!(by_region.room_ids.is_empty());
        assert_eq!(
            (by_region.concurrency, by_region.priority, by_region.status),
            (50, 2, OrderStatus::Active)
        );
        assert_eq!((by_region.valid_from, by_region.valid_until), (from, until));
        let entry = ctl.audited("order.create", &by_region.id, &op_id).await;
        assert_eq!(entry.tenant_id.as_deref(), Some(acme.id.as_str()));

        let by_rooms: Order = ctl
            .ok(
                POST,
                "/v1/orders",
                &ctl.op,
                Some(
                    &json!({"tenant_id": acme.id, "spec_id": "sd-30", "room_ids": [r1.id, r2.id],
                    "concurrency": 10, "valid_from": from, "valid_until": until}),
                ),
                StatusCode::CREATED,
            )
            .await;
        assert_eq!(by_rooms.region_id, None);
        assert_eq!(by_rooms.room_ids, [r1.id.clone(), r2.id.clone()]);
        let beta_order: Order = ctl
            .ok(
                POST,
                "/v1/orders",
                &ctl.op,
                Some(
                    &json!({"tenant_id": beta.id, "spec_id": "sd-30", "region_id": region.id,
                    "concurrency": 1, "valid_from": from, "valid_until": until}),
                ),
                StatusCode::CREATED,
            )
            .await;

        // Exactly one of region and rooms, and sane numbers.
        let invalid = [
            json!({"tenant_id": acme.id, "spec_id": "hd-60", "region_id": region.id, "room_ids": [r1.id],
                "concurrency": 1, "valid_from": from, "valid_until": until}),
            json!({"tenant_id": acme.id, "spec_id": "hd-60", "concurrency": 1, "valid_from": from, "valid_until": until}),
            json!({"tenant_id": acme.id, "spec_id": "hd-60", "region_id": region.id, "concurrency": 0,
                "valid_from": from, "valid_until": until}),
            json!({"tenant_id": acme.id, "spec_id": "hd-60", "region_id": region.id, "concurrency": 1,
                "valid_from": until, "valid_until": from}),
            json!({"tenant_id": acme.id, "spec_id": "hd-60", "room_ids": ["room_missing"], "concurrency": 1,
                "valid_from": from, "valid_until": until}),
            json!({"tenant_id": acme.id, "spec_id": "no-such-spec", "region_id": region.id, "concurrency": 1,
                "valid_from": from, "valid_until": until}),
        ];
        for body in &invalid {
            ctl.refused(
                POST,
                "/v1/orders",
                Some(&ctl.op),
                Some(body),
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
            )
            .await;
        }
        ctl.refused(
            POST,
            "/v1/orders",
            Some(&ctl.op),
            Some(
                &json!({"tenant_id": "ten_missing", "spec_id": "hd-60", "region_id": region.id,
                "concurrency": 1, "valid_from": from, "valid_until": until}),
            ),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;

        // Lists: operators see all (or one tenant's); tenants their own.
        let all: Vec<Order> = ctl.list_all("/v1/orders", &ctl.op).await;
        assert_eq!(all.len(), 3);
        let acme_only: Vec<Order> = ctl
            .list_all(&format!("/v1/orders?tenant_id={}", acme.id), &ctl.op)
            .await;
        assert_eq!(
            acme_only.iter().map(|o| o.id.clone()).collect::<Vec<_>>(),
            [by_region.id.clone(), by_rooms.id.clone()]
        );
        let as_acme: Vec<Order> = ctl.list_all("/v1/orders", &ta).await;
        assert_eq!(as_acme.len(), 2);
        assert!(as_acme.iter().all(|o| o.tenant_id == acme.id));
        let as_beta: Vec<Order> = ctl
            .list_all(&format!("/v1/orders?tenant_id={}", acme.id), &tb)
            .await;
        assert_eq!(as_beta.len(), 1, "a tenant's filter cannot widen its view");
        assert_eq!(as_beta[0].id, beta_order.id);
        let got: Order = ctl.get(&format!("/v1/orders/{}", by_rooms.id), &ta).await;
        assert_eq!(got.room_ids.len(), 2);

        // Changes, then cancelling.
        let new_until = until.plus_secs(3600);
        let patched: Order = ctl
            .ok(
                PATCH,
                &format!("/v1/orders/{}", by_region.id),
                &ctl.op,
                Some(&json!({"concurrency": 80, "priority": 5, "valid_until": new_until})),
                StatusCode::OK,
            )
            .await;
        assert_eq!(
            (patched.concurrency, patched.priority, patched.valid_until),
            (80, 5, new_until)
        );
        ctl.audited("order.update", &by_region.id, &op_id).await;
        ctl.refused(
            PATCH,
            &format!("/v1/orders/{}", by_region.id),
            Some(&ctl.op),
            Some(&json!({"concurrency": 0})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        let cancelled: Order = ctl
            .ok(
                PATCH,
                &format!("/v1/orders/{}", by_region.id),
                &ctl.op,
                Some(&json!({"status": "cancelled"})),
                StatusCode::OK,
            )
            .await;
        assert_eq!(cancelled.status, OrderStatus::Cancelled);
        let got: Order = ctl.get(&format!("/v1/orders/{}", by_region.id), &ta).await;
        assert_eq!((got.status, got.concurrency), (OrderStatus::Cancelled, 80));
        let entry = ctl.audited("order.update", &by_region.id, &op_id).await;
        assert_eq!(entry.summary["status"], "cancelled");
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_filters_by_object_and_action_and_tenants_see_their_own() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        ctl.specs().await;
        let (acme, ta) = ctl.tenant("Acme").await;
        let (beta, tb) = ctl.tenant("Beta").await;
        let ta_id = ctl.me(&ta).await.id;
        let g1 = ctl.game(&ta, "one").await;
        let _ = ctl.game(&ta, "two").await;
        let gb = ctl.game(&tb, "one").await;
        let _: Game = ctl
            .ok(
                PATCH,
                &format!("/v1/games/{}", g1.id),
                &ta,
                Some(&json!({"name": "One!"})),
                StatusCode::OK,
            )
            .await;

        // By object: exactly that object's history, oldest first.
        let of_g1: Vec<AuditEntry> = ctl
            .list_all(&format!("/v1/audit?object_id={}", g1.id), &ctl.op)
            .await;
        let actions: Vec<_> = of_g1.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["game.create", "game.update"], "{backend}");
        for e in &of_g1 {
            assert_eq!(e.actor, ta_id);
            assert_eq!(e.tenant_id.as_deref(), Some(acme.id.as_str()));
            assert!(e.request_id.is_some());
            assert!(e.at <= Timestamp::now());
        }
        assert_eq!(
            of_g1[0].summary["slug"], "one",
            "the summary says what changed"
        );
        assert_eq!(of_g1[1].summary["name"], "One!");

        // By action.
        let creates: Vec<AuditEntry> = ctl.list_all("/v1/audit?action=game.create", &ctl.op).await;
        assert_eq!(creates.len(), 3);
        assert!(creates.iter().all(|e| e.action == "game.create"));
        let both: Vec<AuditEntry> = ctl
            .list_all(
                &format!("/v1/audit?action=game.create&object_id={}", gb.id),
                &ctl.op,
            )
            .await;
        assert_eq!(both.len(), 1);
        let tenant_filter: Vec<AuditEntry> = ctl
            .list_all(&format!("/v1/audit?tenant_id={}", beta.id), &ctl.op)
            .await;
        assert!(!tenant_filter.is_empty());
        assert!(
            tenant_filter
                .iter()
                .all(|e| e.tenant_id.as_deref() == Some(beta.id.as_str()))
        );

        // A tenant reads only the entries of its own objects.
        let mine: Vec<AuditEntry> = ctl.list_all("/v1/audit", &ta).await;
        assert!(mine.iter().any(|e| e.object_id == g1.id));
        assert!(
            mine.iter()
                .all(|e| e.tenant_id.as_deref() == Some(acme.id.as_str())),
            "{mine:?}"
        );
        let everything: Vec<AuditEntry> = ctl.list_all("/v1/audit", &ctl.op).await;
        assert!(everything.len() > mine.len());
        assert!(
            everything
                .iter()
                .any(|e| e.action == "spec.create" && e.tenant_id.is_none())
        );
        ctl.stop().await;
    }
}

/// Pages through `path` three at a time; returns the ids in order and checks the page shapes.
async fn pages_of_three(
    ctl: &Ctl,
    path: &str,
    token: &str,
    id: impl Fn(&serde_json::Value) -> String,
) -> Vec<String> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut ids = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit=3&cursor={c}"),
            None => format!("{path}{sep}limit=3"),
        };
        let page: Page<serde_json::Value> = ctl.get(&url, token).await;
        sizes.push(page.items.len());
        ids.extend(page.items.iter().map(&id));
        match page.next_cursor {
            Some(c) => {
                let last = page.items.last().map(|v| v["id"].as_str().unwrap());
                assert_eq!(
                    Some(c.as_str()),
                    last,
                    "{path}: the cursor is the last item"
                );
                cursor = Some(c);
            }
            None => break,
        }
        assert!(sizes.len() < 10, "{path}: too many pages");
    }
    assert_eq!(sizes, [3, 3, 1], "{} {path}", ctl.backend);
    let unique: HashSet<_> = ids.iter().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "{path}: duplicates across pages: {ids:?}"
    );
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_page_in_creation_order_without_duplicates() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        ctl.specs().await;
        let (_, ta) = ctl.tenant("Acme").await;
        let by_id = |v: &serde_json::Value| v["id"].as_str().unwrap().to_owned();

        let mut regions = Vec::new();
        let mut games = Vec::new();
        let mut links = Vec::new();
        for i in 0..7 {
            regions.push(ctl.region(&format!("region-{i}")).await.id);
            let g = ctl.game(&ta, &format!("game-{i}")).await;
            games.push(g.id.clone());
            let l: Link = ctl
                .ok(
                    POST,
                    "/v1/links",
                    &ta,
                    Some(&json!({"game_id": games[0]})),
                    StatusCode::CREATED,
                )
                .await;
            links.push(l.id);
        }
        assert_eq!(
            pages_of_three(&ctl, "/v1/regions", &ta, by_id).await,
            regions
        );
        assert_eq!(pages_of_three(&ctl, "/v1/games", &ta, by_id).await, games);
        assert_eq!(
            pages_of_three(&ctl, &format!("/v1/links?game_id={}", games[0]), &ta, by_id).await,
            links
        );
        let audited = pages_of_three(&ctl, "/v1/audit?action=region.create", &ctl.op, |v| {
            v["object_id"].as_str().unwrap().to_owned()
        })
        .await;
        assert_eq!(audited, regions, "audit entries are oldest first");

        // A limit outside 1–200, or not a number, is refused and explained.
        let one: Page<Region> = ctl.get("/v1/regions?limit=1", &ta).await;
        assert_eq!(one.items.len(), 1);
        let all: Page<Region> = ctl.get("/v1/regions?limit=200", &ta).await;
        assert_eq!((all.items.len(), all.next_cursor), (7, None));
        for bad in ["0", "201", "100000"] {
            let p = ctl
                .refused(
                    GET,
                    &format!("/v1/regions?limit={bad}"),
                    Some(&ta),
                    None,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "VALIDATION_FAILED",
                )
                .await;
            assert!(p.detail.contains("limit must be 1–200"), "{}", p.detail);
        }
        ctl.refused(
            GET,
            "/v1/regions?limit=many",
            Some(&ta),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutations_never_fail_while_keys_are_used_and_tokens_signed_out() {
    use futures_util::StreamExt;
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        ctl.specs().await;
        let (tenant, ta) = ctl.tenant("Acme").await;
        let email = format!("admin@{}.test", tenant.id);
        // Keys never used yet: their first use records `last_used_at`.
        let mut keys = Vec::new();
        for i in 0..40 {
            keys.push(
                ctl.api_key(&ta, &format!("k{i}"), Role::TenantViewer)
                    .await
                    .secret,
            );
        }
        let mut tokens = Vec::new();
        for _ in 0..20 {
            tokens.push(ctl.login(&email, PASSWORD).await);
        }
        let creates = futures_util::stream::iter(0..40)
            .map(|i| {
                let ctl = &ctl;
                let ta = &ta;
                async move {
                    let body = json!({"slug": format!("g{i}"), "name": "G", "archive_policy": "online",
                        "spec_ids": ["hd-60"]});
                    ctl.raw(POST, "/v1/games", Some(ta), Some(&body)).await
                }
            })
            .buffer_unordered(4)
            .collect::<Vec<_>>();
        let uses = futures_util::stream::iter(keys.iter())
            .map(|k| ctl.raw(GET, "/v1/me", Some(k), None::<&()>))
            .buffer_unordered(4)
            .collect::<Vec<_>>();
        let logouts = futures_util::stream::iter(tokens.iter())
            .map(|t| ctl.raw(POST, "/v1/auth/logout", Some(t), None::<&()>))
            .buffer_unordered(2)
            .collect::<Vec<_>>();
        let (creates, uses, logouts) = tokio::join!(creates, uses, logouts);
        let failed: Vec<_> = creates
            .iter()
            .chain(&uses)
            .chain(&logouts)
            .filter(|(s, _)| !s.is_success())
            .collect();
        assert!(failed.is_empty(), "{backend}: {failed:?}");
        ctl.stop().await;
    }
}
