//! The authorization model, end to end on SQLite and PostgreSQL:
//! - a role × operation matrix (every role, and an API key for each tenant role), in one table;
//! - tenant A against tenant B: every kind of B's object answers A with 404 and no data, and
//!   A's lists never hold B's objects;
//! - credentials: none, garbage, revoked, signed out → 401 problem+json;
//! - granting roles: nobody hands out more than they have.

use playrack_test_support as support;

use playrack_wire::api::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::fmt::Write as _;
use support::{Ctl, PASSWORD, backends, fixture, problem_of};

/// The principals of the matrix, in column order.
const WHO: [&str; 8] = [
    "operator-admin",
    "operator-viewer",
    "tenant-admin",
    "tenant-developer",
    "tenant-viewer",
    "key:tenant-admin",
    "key:tenant-developer",
    "key:tenant-viewer",
];

#[derive(Debug, Clone, Copy)]
enum Op {
    CreateTenant,
    ListTenants,
    CreateSpec,
    CreateRoom,
    CreateBoard,
    ListBoards,
    ImportTopology,
    CreateOrder,
    CreateGame,
    ReadGame,
    PatchGame,
    CreateUpload,
    PublishVersion,
    Deploy,
    CreateLink,
    RevokeLink,
    CreateAccount,
    ListAccounts,
    CreateApiKey,
    ListAudit,
}

/// Expected status of each operation for each principal (columns as in [`WHO`]). Tenant
/// principals act on their own tenant; refusals are 403 FORBIDDEN.
#[rustfmt::skip]
const MATRIX: &[(Op, [u16; 8])] = &[
    //                      op-adm op-view t-adm t-dev t-view k:adm k:dev k:view
    (Op::CreateTenant,     [201,   403,    403,  403,  403,   403,  403,  403]),
    (Op::ListTenants,      [200,   200,    403,  403,  403,   403,  403,  403]),
    (Op::CreateSpec,       [201,   403,    403,  403,  403,   403,  403,  403]),
    (Op::CreateRoom,       [201,   403,    403,  403,  403,   403,  403,  403]),
    (Op::CreateBoard,      [201,   403,    403,  403,  403,   403,  403,  403]),
    (Op::ListBoards,       [200,   200,    403,  403,  403,   403,  403,  403]),
    (Op::ImportTopology,   [200,   403,    403,  403,  403,   403,  403,  403]),
    (Op::CreateOrder,      [201,   403,    403,  403,  403,   403,  403,  403]),
    (Op::CreateGame,       [201,   403,    201,  201,  403,   201,  201,  403]),
    (Op::ReadGame,         [200,   200,    200,  200,  200,   200,  200,  200]),
    (Op::PatchGame,        [200,   403,    200,  200,  403,   200,  200,  403]),
    (Op::CreateUpload,     [201,   403,    201,  201,  403,   201,  201,  403]),
    (Op::PublishVersion,   [200,   403,    200,  200,  403,   200,  200,  403]),
    (Op::Deploy,           [200,   403,    200,  200,  403,   200,  200,  403]),
    (Op::CreateLink,       [201,   403,    201,  201,  403,   201,  201,  403]),
    (Op::RevokeLink,       [200,   403,    200,  200,  403,   200,  200,  403]),
    (Op::CreateAccount,    [201,   403,    201,  403,  403,   201,  403,  403]),
    (Op::ListAccounts,     [200,   200,    200,  403,  403,   200,  403,  403]),
    (Op::CreateApiKey,     [201,   403,    201,  403,  403,   201,  403,  403]),
    (Op::ListAudit,        [200,   200,    200,  200,  200,   200,  200,  200]),
];

/// The objects the operations act on.
struct World {
    tenant: Tenant,
    region: Region,
    room: Room,
    array: Array,
    game: Game,
    version: Version,
}

/// Runs `op` as `token` (`operator` says whether it is an operator role); `n` makes names
/// unique. Returns the status and body.
async fn run(
    ctl: &Ctl,
    w: &World,
    op: Op,
    token: &str,
    operator: bool,
    n: usize,
) -> (StatusCode, String) {
    let t = &w.tenant.id;
    let (method, path, body): (Method, String, Option<serde_json::Value>) = match op {
        Op::CreateTenant => (
            Method::POST,
            "/v1/tenants".into(),
            Some(json!({"name": format!("tenant {n}")})),
        ),
        Op::ListTenants => (Method::GET, "/v1/tenants".into(), None),
        Op::CreateSpec => (
            Method::POST,
            "/v1/specs".into(),
            Some(
                json!({"id": format!("spec-{n}"), "name": "S", "width": 720, "height": 1280, "fps": 30,
                "bitrate_min_kbps": 1000, "bitrate_max_kbps": 2000, "cpu_millis": 1000, "memory_mb": 1024,
                "price_per_minute_micros": 1}),
            ),
        ),
        Op::CreateRoom => (
            Method::POST,
            "/v1/rooms".into(),
            Some(
                json!({"region_id": w.region.id, "name": format!("room-{n}"), "instance_cap": 1,
                "shared_volume": "/mnt/x", "probe_url": "https://x.test/p"}),
            ),
        ),
        Op::CreateBoard => (
            Method::POST,
            "/v1/boards".into(),
            Some(
                json!({"array_id": w.array.id, "serial": format!("SN-{n}"), "model": "RK3588", "capacity": {}}),
            ),
        ),
        Op::ListBoards => (Method::GET, "/v1/boards".into(), None),
        Op::ImportTopology => (
            Method::POST,
            "/v1/topology/import".into(),
            Some(json!({"regions": [{"name": format!("imported-{n}"), "rooms": []}]})),
        ),
        Op::CreateOrder => (
            Method::POST,
            "/v1/orders".into(),
            Some(
                json!({"tenant_id": t, "spec_id": "hd-60", "region_id": w.region.id, "concurrency": 1,
                "valid_from": playrack_wire::Timestamp::now(),
                "valid_until": playrack_wire::Timestamp::now().plus_secs(3600)}),
            ),
        ),
        Op::CreateGame => (
            Method::POST,
            format!("/v1/games?tenant_id={t}"),
            Some(
                json!({"slug": format!("game-{n}"), "name": "G", "archive_policy": "online", "spec_ids": ["hd-60"]}),
            ),
        ),
        Op::ReadGame => (Method::GET, format!("/v1/games/{}", w.game.id), None),
        Op::PatchGame => (
            Method::PATCH,
            format!("/v1/games/{}", w.game.id),
            Some(json!({"name": format!("Renamed {n}")})),
        ),
        Op::CreateUpload => {
            let resp = ctl
                .send(
                    Method::POST,
                    &format!("/v1/games/{}/uploads", w.game.id),
                    Some(token),
                    None,
                    &[("tus-resumable", "1.0.0"), ("upload-length", "1000")],
                )
                .await;
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            // Cancelled at once (by the operator): a tenant has only a few uploads in progress.
            if let Ok(up) = serde_json::from_str::<Upload>(&text) {
                let resp = ctl
                    .send(
                        Method::DELETE,
                        &format!("/v1/uploads/{}", up.id),
                        Some(&ctl.op),
                        None,
                        &[("tus-resumable", "1.0.0")],
                    )
                    .await;
                assert_eq!(
                    resp.status(),
                    StatusCode::NO_CONTENT,
                    "cancelling {}",
                    up.id
                );
            }
            return (status, text);
        }
        Op::PublishVersion => (
            Method::POST,
            format!("/v1/versions/{}/publish", w.version.id),
            None,
        ),
        Op::Deploy => (
            Method::PUT,
            format!("/v1/versions/{}/deployment", w.version.id),
            Some(json!({"room_ids": [w.room.id]})),
        ),
        Op::CreateLink => (
            Method::POST,
            "/v1/links".into(),
            Some(json!({"game_id": w.game.id})),
        ),
        Op::RevokeLink => {
            // A fresh link each time, made by the operator.
            let link: Link = ctl
                .ok(
                    Method::POST,
                    "/v1/links",
                    &ctl.op,
                    Some(&json!({"game_id": w.game.id})),
                    StatusCode::CREATED,
                )
                .await;
            (Method::POST, format!("/v1/links/{}/revoke", link.id), None)
        }
        Op::CreateAccount => (
            Method::POST,
            "/v1/accounts".into(),
            Some(
                json!({"email": format!("account-{n}@matrix.test"), "password": PASSWORD,
                "role": "tenant-viewer", "tenant_id": t}),
            ),
        ),
        Op::ListAccounts => (Method::GET, "/v1/accounts".into(), None),
        Op::CreateApiKey => (
            Method::POST,
            "/v1/api-keys".into(),
            // The least role of the caller's kind (operators' keys belong to no tenant).
            Some(json!({"name": format!("key {n}"),
                "role": if operator { "operator-viewer" } else { "tenant-viewer" }})),
        ),
        Op::ListAudit => (Method::GET, "/v1/audit".into(), None),
    };
    ctl.raw(method, &path, Some(token), body.as_ref()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_gets_exactly_its_rights() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        ctl.specs().await;
        let (tenant, ta) = ctl.tenant("Acme").await;
        let td = ctl.member(Some(&tenant.id), Role::TenantDeveloper).await;
        let tv = ctl.member(Some(&tenant.id), Role::TenantViewer).await;
        let ov = ctl.member(None, Role::OperatorViewer).await;
        let k_admin = ctl
            .api_key(&ta, "admin key", Role::TenantAdmin)
            .await
            .secret;
        let k_dev = ctl
            .api_key(&ta, "dev key", Role::TenantDeveloper)
            .await
            .secret;
        let k_view = ctl
            .api_key(&ta, "view key", Role::TenantViewer)
            .await
            .secret;
        let tokens = [&ctl.op, &ov, &ta, &td, &tv, &k_admin, &k_dev, &k_view];

        let region = ctl.region("eu").await;
        let room = ctl.room(&region.id, "fra-1").await;
        let array = ctl.array(&room.id, "rack-a").await;
        let game = ctl.game(&ta, "tapper").await;
        let version = ctl.upload(&ta, &game.id, &fixture("tapper-v1.apk")).await;
        assert_eq!(version.state, VersionState::Ready);
        let world = World {
            tenant,
            region,
            room,
            array,
            game,
            version,
        };

        let mut n = 0;
        let mut wrong = Vec::new();
        let mut table = String::new();
        for (op, want) in MATRIX {
            let mut row = format!("{:<16}", format!("{op:?}"));
            for (col, token) in tokens.iter().enumerate() {
                n += 1;
                let (got, text) = run(&ctl, &world, *op, token, col < 2, n).await;
                let _ = write!(row, " {:>4}", got.as_u16());
                if got.as_u16() != want[col] {
                    wrong.push(format!(
                        "{op:?} as {}: got {got}, want {}: {text}",
                        WHO[col], want[col]
                    ));
                } else if got == StatusCode::FORBIDDEN {
                    let p = problem_of(&text);
                    assert_eq!(p.code, "FORBIDDEN", "{op:?} as {}", WHO[col]);
                    assert!(p.request_id.is_some());
                }
            }
            table.push_str(&row);
            table.push('\n');
        }
        assert!(
            wrong.is_empty(),
            "{backend}: the matrix differs:\n{table}\n{}",
            wrong.join("\n")
        );
        ctl.stop().await;
    }
}

/// Nobody grants more than they have: who may create an account (or API key) of each role.
#[rustfmt::skip]
const GRANTS: &[(&str, [u16; 5])] = &[
    // granter \ role     op-adm op-view t-adm t-dev t-view
    ("operator-admin",   [201,   201,    201,  201,  201]),
    ("operator-viewer",  [403,   403,    403,  403,  403]),
    ("tenant-admin",     [403,   403,    201,  201,  201]),
    ("tenant-developer", [403,   403,    403,  403,  403]),
    ("tenant-viewer",    [403,   403,    403,  403,  403]),
    ("key:tenant-admin", [403,   403,    201,  201,  201]),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_grants_a_role_above_their_own() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let (tenant, ta) = ctl.tenant("Acme").await;
        let (other, _) = ctl.tenant("Other").await;
        let td = ctl.member(Some(&tenant.id), Role::TenantDeveloper).await;
        let tv = ctl.member(Some(&tenant.id), Role::TenantViewer).await;
        let ov = ctl.member(None, Role::OperatorViewer).await;
        let k_admin = ctl
            .api_key(&ta, "admin key", Role::TenantAdmin)
            .await
            .secret;
        let granters = [&ctl.op, &ov, &ta, &td, &tv, &k_admin];

        let mut wrong = Vec::new();
        let mut n = 0;
        for (row, (who, want)) in GRANTS.iter().enumerate() {
            let token = granters[row];
            for (col, role) in Role::ALL.iter().enumerate() {
                n += 1;
                // Accounts: tenant roles go to Acme (the operator names it).
                let tenant_id = (!role.is_operator()).then(|| tenant.id.clone());
                let body = json!({"email": format!("grant-{n}@grants.test"), "password": PASSWORD,
                    "role": role, "tenant_id": tenant_id});
                let (got, text) = ctl
                    .raw(Method::POST, "/v1/accounts", Some(token), Some(&body))
                    .await;
                if got.as_u16() != want[col] {
                    wrong.push(format!(
                        "{who} creating a {} account: got {got}: {text}",
                        role.as_str()
                    ));
                }
                // API keys carry the creator's tenant; operators' keys hold operator roles only.
                if row == 0 && !role.is_operator() {
                    continue;
                }
                let body = json!({"name": format!("grant {n}"), "role": role});
                let (got, text) = ctl
                    .raw(Method::POST, "/v1/api-keys", Some(token), Some(&body))
                    .await;
                if got.as_u16() != want[col] {
                    wrong.push(format!(
                        "{who} creating a {} key: got {got}: {text}",
                        role.as_str()
                    ));
                }
            }
        }
        assert!(wrong.is_empty(), "{backend}:\n{}", wrong.join("\n"));

        // A tenant admin cannot reach into another tenant at all.
        ctl.refused(
            Method::POST,
            "/v1/accounts",
            Some(&ta),
            Some(
                &json!({"email": "spy@other.test", "password": PASSWORD, "role": "tenant-viewer",
                "tenant_id": other.id}),
            ),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
        // The developer, in particular, can neither create accounts nor hand out tenant-admin.
        for (path, body) in [
            (
                "/v1/accounts",
                json!({"email": "d1@acme.test", "password": PASSWORD, "role": "tenant-viewer"}),
            ),
            (
                "/v1/accounts",
                json!({"email": "d2@acme.test", "password": PASSWORD, "role": "tenant-admin"}),
            ),
            (
                "/v1/api-keys",
                json!({"name": "escalate", "role": "tenant-admin"}),
            ),
        ] {
            let p = ctl
                .refused(
                    Method::POST,
                    path,
                    Some(&td),
                    Some(&body),
                    StatusCode::FORBIDDEN,
                    "FORBIDDEN",
                )
                .await;
            assert!(!p.detail.is_empty());
        }
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_garbage_revoked_and_signed_out_credentials_are_refused() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let (tenant, ta) = ctl.tenant("Acme").await;

        // No credentials at all, on reads and writes alike.
        for (method, path) in [
            (Method::GET, "/v1/me"),
            (Method::GET, "/v1/games"),
            (Method::GET, "/v1/tenants"),
            (Method::GET, "/v1/audit"),
            (Method::POST, "/v1/tenants"),
            (Method::POST, "/v1/auth/logout"),
        ] {
            let resp = ctl
                .send(method.clone(), path, None, Some(&json!({"name": "x"})), &[])
                .await;
            assert_eq!(
                resp.status(),
                StatusCode::UNAUTHORIZED,
                "{backend} {method} {path}"
            );
            assert_eq!(resp.headers()["content-type"], "application/problem+json");
            let challenge = resp
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned());
            assert_eq!(challenge.as_deref(), Some("Bearer"), "{method} {path}");
            let p = problem_of(&resp.text().await.unwrap());
            assert_eq!((p.status, p.code.as_str()), (401, "UNAUTHENTICATED"));
            assert!(p.detail.contains("Bearer"), "{}", p.detail);
            assert!(p.request_id.is_some());
        }

        // Garbage of every shape, and the wrong scheme.
        let key = ctl.api_key(&ta, "real", Role::TenantViewer).await;
        let (key_prefix, _) = key.secret.rsplit_once('_').unwrap();
        let forged = format!("{key_prefix}_{}", "0".repeat(40));
        let truncated = &key.secret[..key.secret.len() - 1];
        for bad in [
            "nonsense",
            "prt_nonsense",
            "prk_nonsense",
            "prk_abc_def",
            forged.as_str(),
            truncated,
        ] {
            ctl.refused(
                Method::GET,
                "/v1/me",
                Some(bad),
                None,
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
            )
            .await;
        }
        let basic = format!("Basic {}", key.secret);
        let resp = ctl
            .send(
                Method::GET,
                "/v1/me",
                None,
                None,
                &[("authorization", basic.as_str())],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            ctl.me(&key.secret).await.id,
            key.key.id,
            "the real key works"
        );
        // The scheme's name is case-insensitive (RFC 9110 §11.1).
        for scheme in ["bearer", "BEARER"] {
            let header = format!("{scheme} {}", key.secret);
            let resp = ctl
                .send(
                    Method::GET,
                    "/v1/me",
                    None,
                    None,
                    &[("authorization", header.as_str())],
                )
                .await;
            assert_eq!(resp.status(), StatusCode::OK, "{backend}: {scheme}");
        }

        // A revoked key, at once.
        let _: ApiKey = ctl
            .ok::<(), _>(
                Method::POST,
                &format!("/v1/api-keys/{}/revoke", key.key.id),
                &ta,
                None,
                StatusCode::OK,
            )
            .await;
        ctl.refused(
            Method::GET,
            "/v1/me",
            Some(&key.secret),
            None,
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
        )
        .await;

        // An expired sign-in token (its expiry moved into the past in the store).
        let token = ctl
            .login(&format!("admin@{}.test", tenant.id), PASSWORD)
            .await;
        assert_eq!(ctl.me(&token).await.role, Role::TenantAdmin);
        sqlx::query("UPDATE auth_tokens SET expires_at = $1 WHERE token_hash = $2")
            .bind(playrack_wire::Timestamp::now().plus_secs(-1).millis())
            .bind(array_controller::auth::sha256_hex(token.as_bytes()))
            .execute(&ctl.state().db.pool)
            .await
            .unwrap();
        ctl.refused(
            Method::GET,
            "/v1/me",
            Some(&token),
            None,
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
        )
        .await;

        // A signed-out token.
        let (status, _) = ctl
            .raw(Method::POST, "/v1/auth/logout", Some(&ta), None::<&()>)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        for (method, path) in [
            (Method::GET, "/v1/me"),
            (Method::GET, "/v1/games"),
            (Method::POST, "/v1/auth/logout"),
        ] {
            ctl.refused(
                method,
                path,
                Some(&ta),
                None,
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
            )
            .await;
        }
        ctl.stop().await;
    }
}

/// A request to try: method, path, JSON body, extra headers.
type Request = (
    Method,
    String,
    Option<serde_json::Value>,
    Vec<(&'static str, &'static str)>,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_a_can_neither_see_nor_touch_tenant_b() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        ctl.specs().await;
        let (a, ta) = ctl.tenant("Acme").await;
        let (b, tb) = ctl.tenant("Secretive Beta").await;
        let a_dev = ctl.member(Some(&a.id), Role::TenantDeveloper).await;
        let a_key = ctl
            .api_key(&ta, "acme admin key", Role::TenantAdmin)
            .await
            .secret;

        // Acme's own objects, so its lists are not trivially empty.
        let ga = ctl.game(&ta, "acme-game").await;
        let la: Link = ctl
            .ok(
                Method::POST,
                "/v1/links",
                &ta,
                Some(&json!({"game_id": ga.id})),
                StatusCode::CREATED,
            )
            .await;

        // Beta's objects of every kind.
        let gb = ctl.game(&tb, "beta-hidden-game").await;
        let vb = ctl.upload(&tb, &gb.id, &fixture("tapper-v1.apk")).await;
        assert_eq!(vb.state, VersionState::Ready);
        let _: Version = ctl
            .ok::<(), _>(
                Method::POST,
                &format!("/v1/versions/{}/publish", vb.id),
                &tb,
                None,
                StatusCode::OK,
            )
            .await;
        let region = ctl.region("eu").await;
        let room = ctl.room(&region.id, "fra-1").await;
        let _: Deployment = ctl
            .ok(
                Method::PUT,
                &format!("/v1/versions/{}/deployment", vb.id),
                &tb,
                Some(&json!({"room_ids": [room.id]})),
                StatusCode::OK,
            )
            .await;
        let ub: Upload = ctl
            .create_upload(&tb, &gb.id, 5000)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            ctl.patch(&tb, &ub.id, 0, vec![1; 100]).await.status(),
            StatusCode::NO_CONTENT
        );
        let lb: Link = ctl
            .ok(
                Method::POST,
                "/v1/links",
                &tb,
                Some(&json!({"game_id": gb.id, "campaign": "beta-secret-campaign"})),
                StatusCode::CREATED,
            )
            .await;
        let now = playrack_wire::Timestamp::now();
        let order_body = |t: &str| {
            json!({"tenant_id": t, "spec_id": "hd-60", "region_id": region.id, "concurrency": 3,
                "valid_from": now, "valid_until": now.plus_secs(3600)})
        };
        let ob: Order = ctl
            .ok(
                Method::POST,
                "/v1/orders",
                &ctl.op,
                Some(&order_body(&b.id)),
                StatusCode::CREATED,
            )
            .await;
        let oa: Order = ctl
            .ok(
                Method::POST,
                "/v1/orders",
                &ctl.op,
                Some(&order_body(&a.id)),
                StatusCode::CREATED,
            )
            .await;
        let acc_b: Account = ctl
            .ok(
                Method::POST,
                "/v1/accounts",
                &tb,
                Some(&json!({"email": "dev@beta.test", "password": PASSWORD, "role": "tenant-developer"})),
                StatusCode::CREATED,
            )
            .await;
        let kb = ctl.api_key(&tb, "beta key", Role::TenantDeveloper).await;
        let b_ids = [
            b.id.as_str(),
            gb.id.as_str(),
            vb.id.as_str(),
            ub.id.as_str(),
            lb.id.as_str(),
            lb.code.as_str(),
            ob.id.as_str(),
            acc_b.id.as_str(),
            kb.key.id.as_str(),
            "beta-hidden-game",
            "beta-secret-campaign",
            "Secretive Beta",
        ];
        let leaks = |text: &str| {
            b_ids
                .iter()
                .find(|s| text.contains(**s))
                .map(|s| s.to_string())
        };

        let tus = [("tus-resumable", "1.0.0")];
        let json_body = |v: serde_json::Value| Some(v);
        let refusals: Vec<Request> = vec![
            (Method::GET, format!("/v1/tenants/{}", b.id), None, vec![]),
            (Method::GET, format!("/v1/games/{}", gb.id), None, vec![]),
            (
                Method::PATCH,
                format!("/v1/games/{}", gb.id),
                json_body(json!({"name": "pwned"})),
                vec![],
            ),
            (
                Method::GET,
                format!("/v1/games/{}/versions", gb.id),
                None,
                vec![],
            ),
            (
                Method::GET,
                format!("/v1/games/{}/icon", gb.id),
                None,
                vec![],
            ),
            (
                Method::POST,
                format!("/v1/games/{}/uploads", gb.id),
                None,
                vec![tus[0], ("upload-length", "10")],
            ),
            (
                Method::POST,
                format!("/v1/games?tenant_id={}", b.id),
                json_body(
                    json!({"slug": "implant", "name": "x", "archive_policy": "online", "spec_ids": ["hd-60"]}),
                ),
                vec![],
            ),
            (Method::GET, format!("/v1/versions/{}", vb.id), None, vec![]),
            (
                Method::GET,
                format!("/v1/versions/{}/icon", vb.id),
                None,
                vec![],
            ),
            (
                Method::POST,
                format!("/v1/versions/{}/publish", vb.id),
                None,
                vec![],
            ),
            (
                Method::POST,
                format!("/v1/versions/{}/revoke", vb.id),
                None,
                vec![],
            ),
            (
                Method::GET,
                format!("/v1/versions/{}/deployment", vb.id),
                None,
                vec![],
            ),
            (
                Method::PUT,
                format!("/v1/versions/{}/deployment", vb.id),
                json_body(json!({"room_ids": []})),
                vec![],
            ),
            (Method::GET, format!("/v1/uploads/{}", ub.id), None, vec![]),
            (
                Method::HEAD,
                format!("/v1/uploads/{}", ub.id),
                None,
                vec![tus[0]],
            ),
            (
                Method::DELETE,
                format!("/v1/uploads/{}", ub.id),
                None,
                vec![tus[0]],
            ),
            (Method::GET, format!("/v1/links/{}", lb.id), None, vec![]),
            (
                Method::POST,
                format!("/v1/links/{}/revoke", lb.id),
                None,
                vec![],
            ),
            (
                Method::POST,
                "/v1/links".into(),
                json_body(json!({"game_id": gb.id})),
                vec![],
            ),
            (Method::GET, format!("/v1/orders/{}", ob.id), None, vec![]),
            (
                Method::DELETE,
                format!("/v1/accounts/{}", acc_b.id),
                None,
                vec![],
            ),
            (
                Method::POST,
                "/v1/accounts".into(),
                json_body(
                    json!({"email": "mole@beta.test", "password": PASSWORD, "role": "tenant-viewer", "tenant_id": b.id}),
                ),
                vec![],
            ),
            (
                Method::POST,
                format!("/v1/api-keys/{}/revoke", kb.key.id),
                None,
                vec![],
            ),
        ];

        for (who, token) in [
            ("tenant-admin", &ta),
            ("tenant-developer", &a_dev),
            ("key:tenant-admin", &a_key),
        ] {
            for (method, path, body, headers) in &refusals {
                let resp = ctl
                    .send(method.clone(), path, Some(token), body.as_ref(), headers)
                    .await;
                let status = resp.status();
                let text = resp.text().await.unwrap_or_default();
                assert_eq!(
                    status,
                    StatusCode::NOT_FOUND,
                    "{backend} {who}: {method} {path}: {text}"
                );
                if *method != Method::HEAD {
                    let p = problem_of(&text);
                    assert_eq!(p.code, "NOT_FOUND", "{who}: {method} {path}");
                }
                assert_eq!(leaks(&text), None, "{who}: {method} {path} leaks: {text}");
            }
            // Writing bytes into Beta's upload.
            let resp = ctl.patch(token, &ub.id, 100, vec![2; 10]).await;
            assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{who}: PATCH upload");

            // Lists: only Acme's objects, never Beta's.
            let mut lists = vec![
                "/v1/games".to_owned(),
                "/v1/links".to_owned(),
                format!("/v1/links?game_id={}", gb.id),
                "/v1/orders".to_owned(),
                format!("/v1/orders?tenant_id={}", b.id),
                "/v1/audit".to_owned(),
                format!("/v1/audit?tenant_id={}", b.id),
                format!("/v1/audit?object_id={}", gb.id),
                format!("/v1/games?tenant_id={}", b.id),
            ];
            if who != "tenant-developer" {
                lists.extend(["/v1/accounts".to_owned(), "/v1/api-keys".to_owned()]);
            }
            for path in &lists {
                let (status, text) = ctl.raw(Method::GET, path, Some(token), None::<&()>).await;
                assert_eq!(status, StatusCode::OK, "{who}: {path}: {text}");
                assert_eq!(leaks(&text), None, "{backend} {who}: {path} leaks: {text}");
                let page: Page<serde_json::Value> = serde_json::from_str(&text).unwrap();
                for item in &page.items {
                    if let Some(t) = item.get("tenant_id") {
                        assert_eq!(t, &json!(a.id), "{who}: {path}: {item}");
                    }
                }
            }
            let games: Page<Game> = ctl.get("/v1/games", token).await;
            assert_eq!(
                games.items.iter().map(|g| &g.id).collect::<Vec<_>>(),
                [&ga.id]
            );
            let links: Page<Link> = ctl.get("/v1/links", token).await;
            assert_eq!(
                links.items.iter().map(|l| &l.id).collect::<Vec<_>>(),
                [&la.id]
            );
            let orders: Page<Order> = ctl.get("/v1/orders", token).await;
            assert_eq!(
                orders.items.iter().map(|o| &o.id).collect::<Vec<_>>(),
                [&oa.id]
            );
            let audit: Page<AuditEntry> = ctl.get("/v1/audit", token).await;
            assert!(
                audit.items.iter().any(|e| e.object_id == ga.id),
                "{who} sees its own entries"
            );
        }

        // Beta's objects are untouched.
        let g: Game = ctl.get(&format!("/v1/games/{}", gb.id), &tb).await;
        assert_eq!(g.name, gb.name);
        assert_eq!(g.default_version_id.as_deref(), Some(vb.id.as_str()));
        let d: Deployment = ctl
            .get(&format!("/v1/versions/{}/deployment", vb.id), &tb)
            .await;
        assert_eq!(d.rooms.len(), 1);
        assert_eq!(ctl.head_offset(&tb, &ub.id).await, 100);
        let l: Link = ctl.get(&format!("/v1/links/{}", lb.id), &tb).await;
        assert_eq!(l.revoked_at, None);
        assert_eq!(ctl.me(&kb.secret).await.id, kb.key.id);
        let _ = ctl.login("dev@beta.test", PASSWORD).await;
        let accounts: Page<Account> = ctl.get("/v1/accounts", &tb).await;
        assert_eq!(accounts.items.len(), 2, "no account was planted in Beta");
        let entries: Vec<AuditEntry> = ctl
            .list_all(&format!("/v1/audit?tenant_id={}", b.id), &ctl.op)
            .await;
        let a_principals = [
            ctl.me(&ta).await.id,
            ctl.me(&a_dev).await.id,
            ctl.me(&a_key).await.id,
        ];
        assert!(
            entries.iter().all(|e| !a_principals.contains(&e.actor)),
            "{backend}: Acme changed something of Beta's: {entries:?}"
        );
        // Operators do see Beta's objects.
        let g: Game = ctl.get(&format!("/v1/games/{}", gb.id), &ctl.op).await;
        assert_eq!(g.tenant_id, b.id);
        ctl.stop().await;
    }
}

/// Failed sign-ins are throttled per account and address before any password check: one
/// address guessing is stopped after five, the account's owner still signs in from elsewhere,
/// and only the checked attempts are audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_are_throttled_per_account_and_address() {
    for backend in backends() {
        let ctl = Ctl::start_with(backend, |c| {
            c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        })
        .await;
        let login = |from: &'static str, password: &str| {
            ctl.http
                .post(format!("{}/v1/auth/login", ctl.url))
                .header("x-forwarded-for", from)
                .json(&LoginRequest {
                    email: support::ROOT_EMAIL.into(),
                    password: password.into(),
                })
                .send()
        };
        let attacker = "203.0.113.7";
        for i in 0..5 {
            let r = login(attacker, "wrong-password").await.unwrap();
            assert_eq!(
                r.status(),
                StatusCode::UNAUTHORIZED,
                "{backend}: attempt {i}"
            );
        }
        // Then the address is refused before any check, right password or not, all at once.
        let flood = futures_util::future::join_all(
            (0..40).map(|i| login(attacker, if i == 0 { PASSWORD } else { "wrong-again" })),
        )
        .await;
        for r in flood {
            let r = r.unwrap();
            assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "{backend}");
            let wait: u64 = r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&wait), "{backend}: retry after {wait}");
            let text = r.text().await.unwrap();
            assert_eq!(problem_of(&text).code, "RATE_LIMITED", "{text}");
        }
        // The owner, from their own address, is not locked out.
        let r = login("198.51.100.20", PASSWORD).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{backend}");
        // Exactly the five checked failures are audited, with the address.
        let me = ctl.me(&ctl.op).await;
        let failed: Page<AuditEntry> = ctl
            .get(
                &format!(
                    "/v1/audit?object_id={}&action=account.sign_in_failed",
                    me.id
                ),
                &ctl.op,
            )
            .await;
        assert_eq!(failed.items.len(), 5, "{backend}: {failed:?}");
        assert!(
            failed
                .items
                .iter()
                .all(|e| e.summary["address"] == attacker),
            "{failed:?}"
        );
        ctl.stop().await;
    }
}

/// Every API key expires (90 days unless asked, a year at most), and a deleted account's keys
/// stop working with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_expire_and_die_with_their_creator() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let (_, ta) = ctl.tenant("Keyed").await;
        let created = ctl.api_key(&ta, "ci", Role::TenantViewer).await;
        let in_90_days = array_controller::now().plus_secs(90 * 86_400).millis();
        let expires = created.key.expires_at.expect("every key expires").millis();
        assert!(
            (expires - in_90_days).abs() < 60_000,
            "{backend}: {created:?}"
        );
        let p = ctl
            .refused(
                Method::POST,
                "/v1/api-keys",
                Some(&ta),
                Some(&json!({
                    "name": "forever",
                    "role": "tenant-viewer",
                    "expires_at": array_controller::now().plus_secs(400 * 86_400),
                })),
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
            )
            .await;
        assert!(p.detail.contains("365 days"), "{p:?}");

        // Another admin makes a key, then that admin's account is deleted: the key is refused.
        let dev = ctl
            .member(ctl.me(&ta).await.tenant_id.as_deref(), Role::TenantAdmin)
            .await;
        let dev_id = ctl.me(&dev).await.id;
        let key = ctl.api_key(&dev, "dev", Role::TenantViewer).await;
        assert_eq!(ctl.me(&key.secret).await.id, key.key.id);
        let (status, _) = ctl
            .raw::<()>(
                Method::DELETE,
                &format!("/v1/accounts/{dev_id}"),
                Some(&ta),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{backend}");
        ctl.refused(
            Method::GET,
            "/v1/me",
            Some(&key.secret),
            None,
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
        )
        .await;
        ctl.stop().await;
    }
}

/// What one request of the document-driven matrix must get.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Want {
    /// 401, problem+json.
    Unauthenticated,
    /// 403 or 404, problem+json (or 415/422 when the body, which is checked first, is not of
    /// the operation's type or not valid: the matrix sends `{}` as JSON everywhere).
    Refused,
    /// Anything but 401, 403 and 5xx: the credential is accepted.
    Accepted,
}

/// Every operation of `/v1/openapi.json`, called with every kind of credential: none, garbage,
/// expired, signed out (a replayed token), a revoked API key, a board's credential, a play key,
/// another tenant's admin, a viewer writing, the right credential. What each gets follows from
/// the security scheme the document names for it, so a new endpoint is in the matrix as soon
/// as it is in the document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_in_the_document_takes_only_its_own_credentials() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let mut w = support::world(&ctl, 1, 1, 2).await;
        w.answer_ends();
        let board = &w.agents[0];
        let (session, session_key) = match support::acquire(&ctl, &w.by_link(0), None).await {
            AcquireResponse::Assigned {
                session_id,
                play_key,
                ..
            } => (session_id, play_key),
            other => panic!("{backend}: {other:?}"),
        };
        let (ticket, ticket_key) = match support::acquire(&ctl, &w.by_link(1), None).await {
            AcquireResponse::Queued {
                ticket_id,
                play_key,
                ..
            } => (ticket_id, play_key),
            other => panic!("{backend}: {other:?}"),
        };
        let ta = w.tenant_token.clone();
        let viewer = ctl.member(Some(&w.tenant.id), Role::TenantViewer).await;
        let viewer_id = ctl.me(&viewer).await.id;
        let (_, other_admin) = ctl.tenant("Other").await;
        let key = ctl.api_key(&ta, "matrix", Role::TenantViewer).await;
        let upload: Upload = ctl
            .create_upload(&ta, &w.game.id, 1000)
            .await
            .json()
            .await
            .unwrap();
        let orders: Page<Order> = ctl.get("/v1/orders", &ctl.op).await;
        let order = orders.items[0].id.clone();
        let spec = ctl.get::<Page<Spec>>("/v1/specs", &ctl.op).await.items[0]
            .id
            .clone();

        // Credentials that must be refused everywhere they are not the scheme's own.
        let expired = ctl.member(Some(&w.tenant.id), Role::TenantAdmin).await;
        sqlx::query("UPDATE auth_tokens SET expires_at = 1 WHERE token_hash = $1")
            .bind(array_controller::auth::sha256_hex(expired.as_bytes()))
            .execute(&ctl.state().db.pool)
            .await
            .unwrap();
        let signed_out = ctl.member(Some(&w.tenant.id), Role::TenantAdmin).await;
        let resp = ctl
            .send(
                Method::POST,
                "/v1/auth/logout",
                Some(&signed_out),
                None,
                &[],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT, "{backend}");
        let revoked = ctl.api_key(&ta, "revoked", Role::TenantAdmin).await;
        let resp = ctl
            .send(
                Method::POST,
                &format!("/v1/api-keys/{}/revoke", revoked.key.id),
                Some(&ta),
                None,
                &[],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK, "{backend}");

        // The objects the path parameters name: all tenant A's where the object is a tenant's.
        let id_for = |path: &str| -> String {
            let at = |prefix: &str| path.starts_with(prefix);
            match () {
                _ if at("/v1/games/") => w.game.id.clone(),
                _ if at("/v1/versions/") => w.version.id.clone(),
                _ if at("/v1/links/") => w.link.id.clone(),
                _ if at("/v1/play/links/") => w.link.code.clone(),
                _ if at("/v1/play/tickets/") => ticket.clone(),
                _ if at("/v1/play/sessions/") || at("/v1/sessions/") => session.clone(),
                _ if at("/v1/agent/sessions/") => session.clone(),
                _ if at("/v1/rooms/") => w.room.id.clone(),
                _ if at("/v1/boards/") => board.board_id.clone(),
                _ if at("/v1/tenants/") => w.tenant.id.clone(),
                _ if at("/v1/orders/") => order.clone(),
                _ if at("/v1/specs/") => spec.clone(),
                _ if at("/v1/uploads/") => upload.id.clone(),
                _ if at("/v1/accounts/") => viewer_id.clone(),
                _ if at("/v1/api-keys/") => key.key.id.clone(),
                _ => "obj_00000000000000000000000000".into(),
            }
        };
        // Paths naming one of tenant A's own objects (another tenant must get nothing there).
        let tenant_owned = |path: &str| {
            [
                "/v1/games/",
                "/v1/versions/",
                "/v1/links/",
                "/v1/sessions/",
                "/v1/tenants/",
                "/v1/orders/",
                "/v1/uploads/",
                "/v1/accounts/",
                "/v1/api-keys/",
            ]
            .iter()
            .any(|p| path.starts_with(p))
        };

        let doc: serde_json::Value = ctl.get("/v1/openapi.json", &ctl.op).await;
        let mut report = String::new();
        let mut calls = 0;
        for (template, item) in doc["paths"].as_object().unwrap() {
            let path = template
                .replace("{id}", &id_for(template))
                .replace("{code}", &w.link.code);
            for (method, op) in item.as_object().unwrap() {
                let method: Method = method.to_uppercase().parse().unwrap();
                let scheme = op["security"][0]
                    .as_object()
                    .and_then(|s| s.keys().next().cloned());
                let writes = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
                let mut cases: Vec<(&str, Option<&str>, Want)> = Vec::new();
                match scheme.as_deref() {
                    None => cases.push(("nobody", None, Want::Accepted)),
                    Some("console") => {
                        for (who, token) in [
                            ("nobody", None),
                            ("garbage", Some("prt_0000000000000000000000")),
                            ("garbage key", Some("prk_0000_0000")),
                            ("expired", Some(expired.as_str())),
                            ("signed out", Some(signed_out.as_str())),
                            ("revoked key", Some(revoked.secret.as_str())),
                            ("board", Some(board.credential.as_str())),
                            ("play key", Some(session_key.as_str())),
                        ] {
                            cases.push((who, token, Want::Unauthenticated));
                        }
                        // The right credential is accepted (reads only: writes would change
                        // the world the other cases use).
                        if !writes {
                            cases.push(("operator", Some(ctl.op.as_str()), Want::Accepted));
                        }
                        if writes && template != "/v1/auth/logout" {
                            cases.push(("viewer", Some(viewer.as_str()), Want::Refused));
                        }
                        if template.contains("{id}") && tenant_owned(template) {
                            cases.push(("other tenant", Some(other_admin.as_str()), Want::Refused));
                        }
                    }
                    Some("play_key") => {
                        let own = if template.starts_with("/v1/play/tickets/") {
                            &ticket_key
                        } else {
                            &session_key
                        };
                        let others = if own == &ticket_key {
                            &session_key
                        } else {
                            &ticket_key
                        };
                        cases.push(("nobody", None, Want::Unauthenticated));
                        for (who, token) in [
                            ("garbage", "pk_0000"),
                            ("another play's key", others.as_str()),
                            ("tenant admin", ta.as_str()),
                            ("operator", ctl.op.as_str()),
                            ("board", board.credential.as_str()),
                        ] {
                            cases.push((who, Some(token), Want::Refused));
                        }
                        if !writes {
                            cases.push(("its own key", Some(own.as_str()), Want::Accepted));
                        }
                    }
                    Some("board") => {
                        for (who, token) in [
                            ("nobody", None),
                            ("garbage", Some("brd_0000")),
                            ("tenant admin", Some(ta.as_str())),
                            ("operator", Some(ctl.op.as_str())),
                            ("play key", Some(session_key.as_str())),
                        ] {
                            cases.push((who, token, Want::Unauthenticated));
                        }
                    }
                    Some(other) => panic!("{method} {template}: unknown scheme {other}"),
                }
                for (who, token, want) in cases {
                    calls += 1;
                    let body = writes.then(|| json!({}));
                    let resp = ctl
                        .send(
                            method.clone(),
                            &path,
                            token,
                            body.as_ref(),
                            &[("tus-resumable", "1.0.0")],
                        )
                        .await;
                    let status = resp.status();
                    let text = resp.text().await.unwrap_or_default();
                    let problem = method == Method::HEAD
                        || serde_json::from_str::<playrack_wire::Problem>(&text)
                            .is_ok_and(|p| p.request_id.is_some());
                    let ok = match want {
                        Want::Unauthenticated => status == StatusCode::UNAUTHORIZED && problem,
                        Want::Refused => {
                            matches!(status.as_u16(), 403 | 404 | 415 | 422) && problem
                        }
                        Want::Accepted => {
                            !matches!(status.as_u16(), 401 | 403) && !status.is_server_error()
                        }
                    };
                    if !ok {
                        let _ = writeln!(
                            report,
                            "{method} {template} as {who}: want {want:?}, got {status} {}",
                            text.chars().take(160).collect::<String>()
                        );
                    }
                }
            }
        }
        assert!(report.is_empty(), "{backend}:\n{report}");
        println!("{backend}: {calls} calls, every operation of the document");
        assert!(calls > 400, "{backend}: only {calls} calls");
        ctl.stop().await;
    }
}
