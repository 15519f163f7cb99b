//! The portal against a real controller, both in-process, over real HTTP on loopback: sign-in
//! and its cookie, CSRF, the `/api` and `/v1/play` proxies (problem+json passed through, tus
//! uploads streamed and resumed, tenant isolation), security headers, the player page (game
//! card, friendly errors, escaping, missing SDK) and every console page.

#[path = "support/browser.rs"]
mod browser;
#[allow(unused_imports)]
use playrack_test_support as ctl;

use browser::{Browser, set_cookies};
use ctl::{Ctl, PASSWORD};
use playrack_wire::Problem;
use playrack_wire::api::*;
use portal::{Config, Portal, Running};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// A controller with the standard specs, and a portal in front of it.
struct Env {
    ctl: Ctl,
    portal: Running,
    _sdk: tempfile::TempDir,
}

async fn env() -> Env {
    env_with(true, |_| {}).await
}

async fn env_with(sdk: bool, tweak: impl FnOnce(&mut Config)) -> Env {
    let env = bare_env(sdk, tweak).await;
    env.ctl.specs().await;
    env
}

/// Without the standard specs (for the support module's `world`, which creates them).
async fn bare_env(sdk: bool, tweak: impl FnOnce(&mut Config)) -> Env {
    let ctl = Ctl::start("sqlite").await;
    let dir = tempfile::tempdir().unwrap();
    if sdk {
        std::fs::write(
            dir.path().join("playrack.js"),
            "export function createPlayer() { return {}; }\n",
        )
        .unwrap();
    }
    let mut config = Config::local(ctl.url.clone());
    config.sdk_dir = dir.path().to_owned();
    tweak(&mut config);
    let portal = Portal::start(config).await.expect("portal starts");
    Env {
        ctl,
        portal,
        _sdk: dir,
    }
}

impl Env {
    fn browser(&self) -> Browser {
        Browser {
            base: self.portal.url.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Mutex::new(BTreeMap::new()),
        }
    }

    async fn stop(self) {
        self.portal.stop().await;
        self.ctl.stop().await;
    }
}

/// A GET sent byte for byte (no path normalisation); answers the response head and body.
async fn raw_get(portal: &Running, path: &str, cookie: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(portal.addr).await.unwrap();
    let req =
        format!("GET {path} HTTP/1.1\r\nhost: x\r\ncookie: {cookie}\r\nconnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

async fn problem_of(resp: reqwest::Response) -> (StatusCode, Problem) {
    let status = resp.status();
    let ctype = resp.headers()["content-type"].to_str().unwrap().to_owned();
    let text = resp.text().await.unwrap();
    assert_eq!(ctype, "application/problem+json", "{status}: {text}");
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")),
    )
}

fn tenant_email(t: &Tenant) -> String {
    format!("admin@{}.test", t.id)
}

fn game_body(slug: &str, name: &str) -> Value {
    json!({"slug": slug, "name": name, "archive_policy": "single_player", "spec_ids": ["hd-60"]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_sets_a_strict_http_only_cookie_and_refuses_wrong_passwords() {
    let env = env().await;
    let (tenant, _) = env.ctl.tenant("Acme").await;
    let b = env.browser();

    // Wrong password: 401, the form again with an error, no session.
    let resp = b
        .sign_in(&tenant_email(&tenant), "wrong-password-123")
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(!b.has_session());
    let html = resp.text().await.unwrap();
    assert!(html.contains("data-testid=\"signin-error\""), "{html}");
    assert!(html.contains("Wrong email or password"));

    // A sign-in form not loaded by this browser (no sign-in cookie): refused.
    let other = env.browser();
    let resp = other
        .post_form(
            "/signin",
            &[
                ("email", &tenant_email(&tenant)),
                ("password", PASSWORD),
                ("signin_csrf", "x"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(!other.has_session());

    // Right password: a redirect to the console and the session cookie with its flags.
    let resp = b.sign_in(&tenant_email(&tenant), PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/console");
    let cookie = set_cookies(resp.headers())
        .into_iter()
        .find(|c| c.starts_with("playrack_session="))
        .expect("session cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie} lacks {flag}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http on loopback: {cookie}"
    );
    let value = cookie.split(';').next().unwrap().split_once('=').unwrap().1;
    assert_eq!(value.len(), 64, "a 256-bit random id");
    assert!(!value.contains(&tenant.id));

    // Signed in: the console shows the account; the controller token is nowhere in the page.
    let (status, html) = b.page("/console/games").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&tenant_email(&tenant)), "{html}");
    assert!(html.contains("data-testid=\"signout\""));
    let token = env.portal.state.sessions.get(value).unwrap().token;
    assert!(!html.contains(&token));

    // Sign out: the session ends here and at the controller.
    let csrf = b.csrf().await;
    let resp = b.post_form("/signout", &[("csrf", &csrf)]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(!b.has_session());
    let resp = b.get("/console/games").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        resp.headers()["location"],
        "/signin?next=%2Fconsole%2Fgames"
    );
    let (status, _) = env
        .ctl
        .raw::<()>(Method::GET, "/v1/me", Some(&token), None)
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the token was ended at the controller"
    );

    // Operators land on the operator console.
    let op = env.browser();
    let resp = op.sign_in(ctl::ROOT_EMAIL, PASSWORD).await;
    assert_eq!(resp.headers()["location"], "/operator");
    assert_eq!(
        op.get("/console/games").await.headers()["location"],
        "/operator"
    );
    env.stop().await;
}

/// After signing in, `next` may only lead to a path on this site: anything a browser would read
/// as another host (`//host`, `/\\host`, or `/`, tab, `/host`, whose tab browsers drop) goes
/// to the console's home instead, both from the form and when already signed in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_never_redirects_off_site() {
    let env = env().await;
    let (tenant, _) = env.ctl.tenant("Acme").await;
    let bad = [
        "/\t/evil.example",
        "//evil.example",
        "/\\evil.example",
        "/\n/evil.example",
    ];
    let mut b = env.browser();
    for next in bad {
        b = env.browser();
        let (status, html) = b.page("/signin").await;
        assert_eq!(status, StatusCode::OK);
        let nonce = browser::attr_after(&html, "name=\"signin_csrf\"").unwrap();
        let resp = b
            .post_form(
                "/signin",
                &[
                    ("email", &tenant_email(&tenant)),
                    ("password", PASSWORD),
                    ("signin_csrf", &nonce),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(resp.headers()["location"], "/console", "{next:?}");
    }
    // Already signed in: GET /signin?next=… follows the same rule.
    for next in bad {
        let q = browser_pct(next);
        let resp = b.get(&format!("/signin?next={q}")).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(resp.headers()["location"], "/console", "{next:?}");
    }
    let resp = b.get("/signin?next=%2Fconsole%2Fkeys").await;
    assert_eq!(resp.headers()["location"], "/console/keys");
    env.stop().await;
}

/// Percent-encodes a query value.
fn browser_pct(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secure_cookies_when_configured() {
    let env = env_with(true, |c| c.secure_cookies = true).await;
    let (tenant, _) = env.ctl.tenant("Acme").await;
    let b = env.browser();
    let resp = b.sign_in(&tenant_email(&tenant), PASSWORD).await;
    let cookie = set_cookies(resp.headers())
        .into_iter()
        .find(|c| c.starts_with("playrack_session="))
        .unwrap();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_calls_need_a_session_and_changes_need_the_csrf_token() {
    let env = env().await;
    let (tenant, _) = env.ctl.tenant("Acme").await;
    let b = env.browser();

    let (status, p) = problem_of(b.api(Method::GET, "/api/games", None, None).await).await;
    assert_eq!(
        (status, p.code.as_str()),
        (StatusCode::UNAUTHORIZED, "SIGNED_OUT")
    );

    b.sign_in(&tenant_email(&tenant), PASSWORD).await;
    let csrf = b.csrf().await;
    let body = game_body("tapper", "Tapper");

    // Reads need no token; changes without it (or with a wrong one) are refused.
    assert_eq!(
        b.api(Method::GET, "/api/games", None, None).await.status(),
        StatusCode::OK
    );
    let (status, p) = problem_of(
        b.api(Method::POST, "/api/games", Some(body.clone()), None)
            .await,
    )
    .await;
    assert_eq!(
        (status, p.code.as_str()),
        (StatusCode::FORBIDDEN, "CSRF_REFUSED")
    );
    let wrong = "0".repeat(64);
    let (status, _) = problem_of(
        b.api(Method::POST, "/api/games", Some(body.clone()), Some(&wrong))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let games: Page<Game> = env.ctl.get("/v1/games", &env.ctl.op).await;
    assert!(games.items.is_empty(), "nothing was created");

    // With the token: created, as this tenant.
    let resp = b
        .api(Method::POST, "/api/games", Some(body), Some(&csrf))
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let game: Game = resp.json().await.unwrap();
    assert_eq!(game.tenant_id, tenant.id);

    // Sign-out without the token is refused too.
    let resp = b.post_form("/signout", &[("csrf", "nope")]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(b.has_session());

    // A cross-site request is refused even with the token.
    let resp = b
        .send(
            b.http
                .post(format!("{}/api/links", b.base))
                .header("x-csrf-token", &csrf)
                .header("sec-fetch-site", "cross-site")
                .json(&json!({"game_id": game.id})),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_passes_problems_through_and_keeps_tenants_apart() {
    let env = env().await;
    let (a, a_token) = env.ctl.tenant("Acme").await;
    let (_, b_token) = env.ctl.tenant("Bravo").await;
    let b_game = env.ctl.game(&b_token, "secret-game").await;
    let browser = env.browser();
    browser.sign_in(&tenant_email(&a), PASSWORD).await;
    let csrf = browser.csrf().await;

    // The controller's problem+json comes back unchanged (status, code, request id).
    let bad = json!({"slug": "x", "name": "X", "archive_policy": "online", "spec_ids": []});
    let (status, p) = problem_of(
        browser
            .api(Method::POST, "/api/games", Some(bad.clone()), Some(&csrf))
            .await,
    )
    .await;
    let direct = env
        .ctl
        .raw(Method::POST, "/v1/games", Some(&a_token), Some(&bad))
        .await;
    assert_eq!(status, direct.0);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p.code, "VALIDATION_FAILED");
    assert_eq!(p.detail, ctl::problem_of(&direct.1).detail);
    assert!(p.request_id.is_some());
    let (status, p) = problem_of(
        browser
            .api(Method::GET, "/api/no/such/route", None, None)
            .await,
    )
    .await;
    assert_eq!(
        (status, p.code.as_str()),
        (StatusCode::NOT_FOUND, "NOT_FOUND")
    );

    // Tenant A cannot see tenant B's game: 404 exactly like a missing one, on the API and pages.
    let (status, p) = problem_of(
        browser
            .api(
                Method::GET,
                &format!("/api/games/{}", b_game.id),
                None,
                None,
            )
            .await,
    )
    .await;
    assert_eq!(
        (status, p.code.as_str()),
        (StatusCode::NOT_FOUND, "NOT_FOUND")
    );
    let resp = browser
        .api(
            Method::PATCH,
            &format!("/api/games/{}", b_game.id),
            Some(json!({"name": "pwned"})),
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let list: Page<Game> = browser
        .api(Method::GET, "/api/games", None, None)
        .await
        .json()
        .await
        .unwrap();
    assert!(list.items.iter().all(|g| g.id != b_game.id));
    let (status, html) = browser.page(&format!("/console/games/{}", b_game.id)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!html.contains("secret-game"), "{html}");

    // Paths cannot leave /v1, and the agents' endpoints are not reachable.
    for path in [
        "/api/games/%2e%2e/x",
        "/api/agents/enrol",
        "/api/agent/archives/x",
    ] {
        let resp = browser.api(Method::GET, path, None, None).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // (HTTP clients normalise `..` themselves; a raw request keeps it.)
    let raw = raw_get(&env.portal, "/api/../healthz", &browser.cookie_header()).await;
    assert!(raw.starts_with("HTTP/1.1 404"), "{raw}");

    // Bodies are size-limited (the tus PATCH streams instead).
    let huge = json!({"name": "x".repeat(2 * 1024 * 1024)});
    let (status, p) = problem_of(
        browser
            .api(Method::POST, "/api/games", Some(huge), Some(&csrf))
            .await,
    )
    .await;
    assert_eq!(
        (status, p.code.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "BODY_TOO_LARGE")
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_headers_are_on_every_response() {
    let env = env().await;
    let (tenant, _) = env.ctl.tenant("Acme").await;
    let b = env.browser();
    b.sign_in(&tenant_email(&tenant), PASSWORD).await;
    for path in [
        "/signin",
        "/console/games",
        "/api/games",
        "/play/nosuchcode",
        "/assets/app.js",
        "/nowhere",
    ] {
        let resp = b.get(path).await;
        let h = resp.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self';"), "{path}: {csp}");
        assert!(csp.contains("connect-src 'self';"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
    }
    // No inline script anywhere: every <script> has a src.
    let (_, html) = b.page("/console/games").await;
    assert!(!html.contains("<script>") && !html.contains("<script type=\"module\">"));
    assert!(html.contains("<html lang=\"en\">"));
    env.stop().await;
}

/// Uploads `bytes` through the portal's tus proxy in two PATCHes, checking the offset with a
/// HEAD in between (as after a dropped connection); returns the settled version.
async fn upload_via_portal(
    env: &Env,
    b: &Browser,
    csrf: &str,
    game_id: &str,
    bytes: &[u8],
) -> Version {
    let resp = b
        .send(
            b.http
                .post(format!("{}/api/games/{game_id}/uploads", b.base))
                .header("x-csrf-token", csrf)
                .header("tus-resumable", "1.0.0")
                .header("upload-length", bytes.len().to_string()),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/api/uploads/"), "{location}");
    let up: Upload = resp.json().await.unwrap();
    let half = bytes.len() / 2;
    let patch = |offset: usize, chunk: Vec<u8>| {
        b.http
            .patch(format!("{}{location}", b.base))
            .header("x-csrf-token", csrf)
            .header("tus-resumable", "1.0.0")
            .header("upload-offset", offset.to_string())
            .header("content-type", "application/offset+octet-stream")
            .body(chunk)
    };
    let resp = b.send(patch(0, bytes[..half].to_vec())).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    // A stale offset is the controller's 409, passed through.
    let resp = b.send(patch(0, bytes[half..].to_vec())).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let resp = b
        .send(
            b.http
                .head(format!("{}{location}", b.base))
                .header("tus-resumable", "1.0.0"),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let offset: usize = resp.headers()["upload-offset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(offset, half);
    let resp = b.send(patch(offset, bytes[offset..].to_vec())).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        resp.headers()["upload-offset"].to_str().unwrap(),
        bytes.len().to_string()
    );
    let mut version: Version = env
        .ctl
        .get(&format!("/v1/versions/{}", up.version_id), &env.ctl.op)
        .await;
    for _ in 0..500 {
        if matches!(version.state, VersionState::Ready | VersionState::Failed) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        version = env
            .ctl
            .get(&format!("/v1/versions/{}", up.version_id), &env.ctl.op)
            .await;
    }
    version
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_uploads_publishes_and_links_and_the_player_page_shows_the_card() {
    let env = env().await;
    let (tenant, _) = env.ctl.tenant("Acme").await;
    let b = env.browser();
    b.sign_in(&tenant_email(&tenant), PASSWORD).await;
    let csrf = b.csrf().await;
    let evil = "<script>alert('x')</script> & Friends";
    let game: Game = b
        .api(
            Method::POST,
            "/api/games",
            Some(game_body("tapper", evil)),
            Some(&csrf),
        )
        .await
        .json()
        .await
        .unwrap();

    let apk = std::fs::read(playrack_test_support::fixtures::apk("tapper-v1.apk")).unwrap();
    let version = upload_via_portal(&env, &b, &csrf, &game.id, &apk).await;
    assert_eq!(version.state, VersionState::Ready, "{version:?}");
    let resp = b
        .api(
            Method::POST,
            &format!("/api/versions/{}/publish", version.id),
            None,
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let link: Link = b
        .api(
            Method::POST,
            "/api/links",
            Some(json!({"game_id": game.id, "trial_seconds": 120,
                        "cta": {"label": "Get <it> now", "url": "https://store.example/tapper"}})),
            Some(&csrf),
        )
        .await
        .json()
        .await
        .unwrap();

    // The console escapes the name everywhere and shows the link with its QR code.
    let (status, html) = b.page("/console/games").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Friends"));
    let (status, html) = b.page(&format!("/console/games/{}", game.id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("<script>alert"));
    assert!(
        html.contains("data-testid=\"version-state\">READY<"),
        "{html}"
    );
    let (_, html) = b.page("/console/links").await;
    assert!(html.contains(&format!("{}/play/{}", env.portal.url, link.code)));
    assert!(html.contains("data-testid=\"qr-code\""));

    // The player page: the game card, escaped, with the public icon and the call to action.
    let player = env.browser();
    let (status, html) = player.page(&format!("/play/{}", link.code)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-testid=\"game-card\""));
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Friends"));
    assert!(html.contains("data-player-state=\"idle\""));
    assert!(html.contains("data-testid=\"play-button\""));
    assert!(html.contains("Free trial · 2 minutes"));
    assert!(html.contains("href=\"https://store.example/tapper\""));
    assert!(html.contains("Get &lt;it&gt; now"));
    assert!(html.contains("<meta name=\"viewport\""));
    assert!(html.contains("src=\"/assets/player.js\""));
    let icon = format!("/v1/play/links/{}/icon", link.code);
    assert!(html.contains(&format!("src=\"{icon}\"")), "{html}");
    // … whose icon and card come through the same-origin /v1/play proxy without an account.
    let resp = player.get(&icon).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.bytes().await.unwrap().starts_with(b"\x89PNG"));
    let card: LinkCard = player
        .get(&format!("/v1/play/links/{}", link.code))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(card.game_id, game.id);
    assert_eq!(
        player.get("/assets/sdk/playrack.js").await.status(),
        StatusCode::OK
    );

    // A link some sites may embed: its page names exactly them as frame ancestors; another
    // link's page stays unframeable; a path instead of a site is refused.
    let embeddable: Link = b
        .api(
            Method::POST,
            "/api/links",
            Some(json!({"game_id": game.id, "embed_origins":
                ["https://Games.example/", "https://games.example", "http://localhost:5173"]})),
            Some(&csrf),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        embeddable.embed_origins,
        ["https://games.example", "http://localhost:5173"]
    );
    let resp = player.get(&format!("/play/{}", embeddable.code)).await;
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.ends_with("frame-ancestors https://games.example http://localhost:5173"),
        "{csp}"
    );
    assert!(resp.headers().get("x-frame-options").is_none());
    let resp = player.get(&format!("/play/{}", link.code)).await;
    assert_eq!(resp.headers()["x-frame-options"], "DENY");
    let resp = b
        .api(
            Method::POST,
            "/api/links",
            Some(json!({"game_id": game.id, "embed_origins": ["https://games.example/play"]})),
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Revoked: a friendly 410 page with the problem's code.
    let resp = b
        .api(
            Method::POST,
            &format!("/api/links/{}/revoke", link.id),
            None,
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (status, html) = player.page(&format!("/play/{}", link.code)).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("This link has been withdrawn"));
    assert!(html.contains(">LINK_REVOKED<"), "{html}");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_link_is_a_friendly_error_and_a_missing_sdk_is_an_error_state() {
    let env = env_with(false, |_| {}).await;
    let b = env.browser();
    let (status, html) = b.page("/play/nosuchcode").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("We could not find this game"));
    assert!(
        html.contains("data-testid=\"error-code\">NOT_FOUND<"),
        "{html}"
    );
    let (status, _) = b.page("/play/..%2f..%2fetc").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, p) = problem_of(b.get("/v1/play/links/nosuchcode").await).await;
    assert_eq!(
        (status, p.code.as_str()),
        (StatusCode::NOT_FOUND, "NOT_FOUND")
    );

    let (_, t) = env.ctl.tenant("Acme").await;
    let game = env.ctl.game(&t, "tapper").await;
    let link: Link = env
        .ctl
        .ok(
            Method::POST,
            "/v1/links",
            &t,
            Some(&json!({"game_id": game.id})),
            StatusCode::CREATED,
        )
        .await;
    let (status, html) = b.page(&format!("/play/{}", link.code)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-player-state=\"error\""), "{html}");
    assert!(html.contains("SDK_MISSING"));
    assert!(html.contains("data-sdk=\"missing\""));
    assert_eq!(
        b.get("/assets/sdk/playrack.js").await.status(),
        StatusCode::NOT_FOUND
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_console_page_renders() {
    let env = env().await;
    let (tenant, t) = env.ctl.tenant("Acme").await;
    let game = env.ctl.game(&t, "tapper").await;
    let bad = env.ctl.upload(&t, &game.id, b"not an apk at all").await;
    assert_eq!(bad.state, VersionState::Failed);
    let _: Link = env
        .ctl
        .ok(
            Method::POST,
            "/v1/links",
            &t,
            Some(&json!({"game_id": game.id})),
            StatusCode::CREATED,
        )
        .await;
    let b = env.browser();
    b.sign_in(&tenant_email(&tenant), PASSWORD).await;
    let csrf = b.csrf().await;
    let key = b
        .api(
            Method::POST,
            "/api/api-keys",
            Some(json!({"name": "CI", "role": "tenant-developer"})),
            Some(&csrf),
        )
        .await;
    assert_eq!(key.status(), StatusCode::CREATED);
    let key: CreatedApiKey = key.json().await.unwrap();
    assert!(key.secret.starts_with("prk_"));

    for (path, marker) in [
        ("/console", ""),
        ("/console/games", "data-testid=\"games\""),
        (
            &format!("/console/games/{}", game.id) as &str,
            "data-testid=\"upload-form\"",
        ),
        (
            &format!("/console/versions/{}/deploy", bad.id),
            "Only READY versions",
        ),
        ("/console/links", "data-testid=\"links\""),
        ("/console/sessions", "data-testid=\"sessions-empty\""),
        ("/console/usage", "data-testid=\"usage-total\""),
        ("/console/orders", "data-testid=\"quota-empty\""),
        ("/console/bills", "data-testid=\"bills-empty\""),
        ("/console/archives", "data-testid=\"archives-empty\""),
        ("/console/keys", "data-testid=\"keys\""),
        ("/console/webhooks", "data-testid=\"webhooks-empty\""),
    ] {
        let resp = b.get(path).await;
        if path == "/console" {
            assert_eq!(resp.headers()["location"], "/console/games");
            continue;
        }
        let status = resp.status();
        let html = resp.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{path}: {html}");
        assert!(html.contains(marker), "{path} lacks {marker}: {html}");
        assert!(html.contains("aria-current=\"page\""), "{path}");
        assert!(!html.contains(&key.secret), "{path} shows a secret");
    }
    // The failed version's code is on the game page.
    let (_, html) = b.page(&format!("/console/games/{}", game.id)).await;
    assert!(html.contains("data-testid=\"failure-code\">APK_"), "{html}");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn players_acquire_and_follow_the_queue_through_the_play_proxy() {
    let env = bare_env(true, |_| {}).await;
    // One board with one slot and an order of one: the second player waits in line.
    let world = ctl::world(&env.ctl, 1, 1, 1).await;
    let b = env.browser();
    let acquire = |i: usize| {
        b.http
            .post(format!("{}/v1/play/acquire", b.base))
            .header("idempotency-key", format!("k-{i}"))
            .json(&world.by_link(i))
    };
    // The player page (and only a streaming page) may connect to rooms and boards.
    let resp = b.get(&format!("/play/{}", world.link.code)).await;
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("connect-src 'self' ws: wss: http: https:"),
        "{csp}"
    );
    let first: AcquireResponse = b.send(acquire(1)).await.json().await.unwrap();
    assert!(
        matches!(first, AcquireResponse::Assigned { .. }),
        "{first:?}"
    );
    let second: AcquireResponse = b.send(acquire(2)).await.json().await.unwrap();
    let AcquireResponse::Queued {
        ticket_id,
        position,
        play_key,
        ..
    } = second
    else {
        panic!("expected a queue ticket: {second:?}");
    };
    assert_eq!(position, 1);
    // The same idempotency key gives the same answer (the header reaches the controller).
    let again: AcquireResponse = b.send(acquire(2)).await.json().await.unwrap();
    assert!(matches!(again, AcquireResponse::Queued { ticket_id: ref t, .. } if *t == ticket_id));

    // The ticket's event stream arrives while it is still open (streamed, not buffered).
    let mut resp = b
        .send(
            b.http
                .get(format!("{}/v1/play/tickets/{ticket_id}/events", b.base))
                .query(&[("key", &play_key)])
                .header("accept", "text/event-stream"),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut seen = String::new();
    let deadline = std::time::Duration::from_secs(10);
    tokio::time::timeout(deadline, async {
        while !seen.contains("\n\n") {
            let chunk = resp.chunk().await.unwrap().expect("the stream stays open");
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .expect("the first event arrives through the proxy");
    assert!(seen.contains("event: ticket"), "{seen}");
    assert!(seen.contains(&ticket_id), "{seen}");
    drop(resp);

    // Leaving the line through the proxy takes the ticket's play key, which the proxy passes on.
    let ticket = format!("{}/v1/play/tickets/{ticket_id}", b.base);
    let resp = b.send(b.http.delete(&ticket)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "no play key");
    let resp = b.send(b.http.delete(&ticket).bearer_auth(&play_key)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let t: Ticket = resp.json().await.unwrap();
    assert_eq!(t.state, TicketState::Cancelled);
    drop(world);
    env.stop().await;
}

/// The binary stops on SIGTERM (`docker stop`, systemd, Kubernetes) within its grace period,
/// with exit code 0, logging JSON lines when asked to.
#[test]
fn the_binary_stops_cleanly_on_sigterm() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let mut child = Command::new(env!("CARGO_BIN_EXE_portal"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--controller-url",
            "http://127.0.0.1:9",
            "--shutdown-grace-secs",
            "5",
            "--log-format",
            "json",
        ])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("portal: http://127.0.0.1:"), "{line:?}");
    let sent = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let out = ctl::exit_within(child, Duration::from_secs(10), "the portal after SIGTERM");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        sent.elapsed() < Duration::from_secs(6),
        "within the grace period"
    );
    // Every log line is JSON; the last one says it stopped.
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(
        lines.last().map(|l| l["fields"]["message"].clone()),
        Some(json!("stopped")),
        "{err}"
    );
}

/// `/readyz` follows the controller; `/metrics` counts requests by route pattern and status
/// with a duration histogram, for this machine or the metrics token's holder only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_controller_and_metrics_count_requests_by_route() {
    let mut env = env().await;
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{}{path}", env.portal.url)).send();
    let resp = get("/readyz").await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    for _ in 0..3 {
        assert_eq!(get("/healthz").await.unwrap().status(), StatusCode::OK);
    }
    assert_eq!(
        get("/play/nosuchcode").await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let text = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(
        text.contains(
            r#"playrack_portal_requests_total{method="GET",route="/healthz",status="200"} 3"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/play/{code}",status="404""#),
        "the route's pattern, not the code: {text}"
    );
    assert!(!text.contains("nosuchcode"), "{text}");
    assert!(
        text.contains(r#"playrack_portal_request_duration_seconds_bucket{method="GET",route="/healthz",status="200",le="0.001"}"#),
        "{text}"
    );
    // The controller goes away: not ready, and says why.
    let running = env.ctl.running.take().unwrap();
    running.stop().await;
    let resp = get("/readyz").await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.text().await.unwrap().contains("controller"));
    env.portal.stop().await;

    // With a token, only its holder scrapes, even from this machine.
    let env = env_with(true, |c| c.metrics_token = Some("scrape-me".into())).await;
    let url = format!("{}/metrics", env.portal.url);
    let plain = http.get(&url).send().await.unwrap();
    assert_eq!(plain.status(), StatusCode::FORBIDDEN);
    let wrong = http
        .get(&url)
        .bearer_auth("scrape-mf")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let right = http
        .get(&url)
        .bearer_auth("scrape-me")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), StatusCode::OK);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_end_to_end_the_portal_signs_in_through_an_https_controller() {
    let ca = ctl::tls::TestCa::new("Playrack test CA");
    let ctl = Ctl::start_with("sqlite", |c| {
        c.tls = Some(ca.loopback_files("controller"));
    })
    .await;
    assert!(ctl.url.starts_with("https://"), "{}", ctl.url);
    let mut config = Config::local(ctl.url.clone());
    let files = ca.loopback_files("portal");
    config.tls = Some((files.cert, files.key));
    config.controller_ca = Some(ca.ca_file.clone());
    config.secure_cookies = true;
    let portal = Portal::start(config).await.expect("portal starts");
    assert!(portal.url.starts_with("https://"), "{}", portal.url);
    let trusting = || {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .use_preconfigured_tls((*ca.client_config()).clone())
            .build()
            .unwrap()
    };

    // The sign-in goes browser → portal → controller, TLS on both legs.
    let b = Browser {
        base: portal.url.clone(),
        http: trusting(),
        cookies: Mutex::new(BTreeMap::new()),
    };
    let resp = b.sign_in(ctl::ROOT_EMAIL, PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/operator");
    let cookie = set_cookies(resp.headers())
        .into_iter()
        .find(|c| c.starts_with("playrack_session="))
        .expect("session cookie");
    assert!(cookie.contains("Secure"), "{cookie}");
    let (status, html) = b.page("/operator").await;
    assert_eq!(status, StatusCode::OK, "{html}");

    // A browser that does not trust the CA is refused; so is plain HTTP on the TLS port.
    let err = reqwest::Client::new()
        .get(format!("{}/healthz", portal.url))
        .send()
        .await
        .expect_err("unknown issuer");
    assert!(format!("{err:?}").contains("UnknownIssuer"), "{err:?}");
    let plain = reqwest::Client::new()
        .get(format!("http://{}/healthz", portal.addr))
        .send()
        .await;
    assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true));

    portal.stop().await;
    ctl.stop().await;
}
