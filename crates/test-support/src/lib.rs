//! Dev-only support for the workspace's tests, benchmarks and demo; never a dependency of a
//! shipped binary.
//!
//! - this file: a real controller on a real database (a fresh SQLite file, and a fresh
//!   PostgreSQL database when `PLAYRACK_TEST_PG_URL` names a server — `scripts/test.sh` starts
//!   one), driven over HTTP ([`Ctl`]);
//! - [`fixtures`]: real, signed APKs built with Debian's Android tools;
//! - [`bins`]: other packages' binaries (the virtual device), built as the test command builds them;
//! - [`agent`]: a board's side of the agent channel, spoken by a test;
//! - [`play`]: a player's side of the play API;
//! - [`sim`]: simulated boards for the soak drill and the scheduler bench;
//! - [`large_apk`]: large game APKs for the benchmarks;
//! - [`figure`]: a benchmark's figure, as every benchmark prints it.

use array_controller::config::Config;
use array_controller::{Running, auth, db};
use playrack_wire::api::*;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::PathBuf;
use std::time::Duration;

pub mod agent;
pub mod bins;
pub mod figure;
pub mod fixtures;
pub mod large_apk;
pub mod netns;
pub mod play;
pub mod sim;
pub mod tls;
pub mod turn;

/// Which databases to run on. PostgreSQL is required unless `PLAYRACK_TEST_PG=off` says
/// otherwise, so a suite never passes on SQLite alone by accident.
pub fn backends() -> Vec<&'static str> {
    match (
        std::env::var("PLAYRACK_TEST_PG_URL"),
        std::env::var("PLAYRACK_TEST_PG").as_deref(),
    ) {
        (Ok(_), _) => vec!["sqlite", "postgres"],
        (Err(_), Ok("off")) => {
            eprintln!("warning: PLAYRACK_TEST_PG=off: running on SQLite only");
            vec!["sqlite"]
        }
        (Err(_), _) => panic!(
            "set PLAYRACK_TEST_PG_URL to a PostgreSQL admin URL (scripts/postgres.sh start prints one; \
             scripts/test.sh does it all), or PLAYRACK_TEST_PG=off to test on SQLite only"
        ),
    }
}

/// A fresh, empty database URL for `backend`.
pub async fn fresh_database(backend: &str, dir: &std::path::Path) -> String {
    match backend {
        "sqlite" => array_controller::config::sqlite_url(&dir.join("controller.db")),
        _ => {
            let admin = std::env::var("PLAYRACK_TEST_PG_URL").expect("checked by backends()");
            let name = db::new_id("t");
            sqlx::any::install_default_drivers();
            let pool = sqlx::AnyPool::connect(&admin)
                .await
                .expect("connect to the PostgreSQL admin URL");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&pool)
                .await
                .expect("create test database");
            pool.close().await;
            let base = admin.rsplit_once('/').expect("URL has a database").0;
            format!("{base}/{name}")
        }
    }
}

/// A client of the controller `config` describes. A controller serving TLS in a test has a
/// certificate from a [`tls::TestCa`], whose certificate sits beside it as `ca.pem`: the client
/// trusts that CA and nothing else.
pub fn client_for(config: &Config) -> reqwest::Client {
    let mut b = reqwest::Client::builder().timeout(Duration::from_secs(60));
    if let Some(tls) = &config.tls {
        let ca = tls.cert.with_file_name("ca.pem");
        let pem = std::fs::read(&ca).expect("the test CA beside the certificate");
        b = b
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap());
    }
    b.build().unwrap()
}

/// A running controller with an operator admin signed in.
pub struct Ctl {
    pub backend: &'static str,
    pub running: Option<Running>,
    pub url: String,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
    pub config: Config,
    /// Token of the operator admin `root@ops.test`.
    pub op: String,
}

pub const ROOT_EMAIL: &str = "root@ops.test";
pub const PASSWORD: &str = "correct-horse-battery";

impl Ctl {
    pub async fn start(backend: &'static str) -> Ctl {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts a controller; `tweak` adjusts the configuration first.
    pub async fn start_with(backend: &'static str, tweak: impl FnOnce(&mut Config)) -> Ctl {
        // `PLAYRACK_TEST_LOG=warn` (an env filter) shows the controller's logs of a test run.
        if let Ok(filter) = std::env::var("PLAYRACK_TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .try_init();
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config::with_data_dir(dir.path().join("data"));
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.database_url = fresh_database(backend, dir.path()).await;
        config.rate_limit_ip = 10_000;
        config.rate_limit_key = 10_000;
        tweak(&mut config);
        let state = array_controller::build_state(config.clone())
            .await
            .expect("controller state");
        // The first operator account is created the way an installer would: straight in the store.
        sqlx::query("INSERT INTO accounts (id, email, password_hash, role, tenant_id, created_at) VALUES ($1,$2,$3,'operator-admin',NULL,0)")
            .bind(db::new_id("acc"))
            .bind(ROOT_EMAIL)
            .bind(auth::hash_password(PASSWORD))
            .execute(&state.db.pool)
            .await
            .expect("seed operator");
        Self::serve(backend, state, config, dir).await
    }

    /// A controller over a database that exists already (a restored backup, say): nothing is
    /// seeded; the operator admin signs in with the account the database holds.
    pub async fn open(backend: &'static str, config: Config, dir: tempfile::TempDir) -> Ctl {
        let state = array_controller::build_state(config.clone())
            .await
            .expect("controller state");
        Self::serve(backend, state, config, dir).await
    }

    /// Serves `state` and signs the operator admin in.
    async fn serve(
        backend: &'static str,
        state: array_controller::state::AppState,
        config: Config,
        dir: tempfile::TempDir,
    ) -> Ctl {
        let running = array_controller::serve(state).await.expect("serve");
        let mut ctl = Ctl {
            backend,
            url: running.url(),
            running: Some(running),
            http: client_for(&config),
            dir,
            config,
            op: String::new(),
        };
        ctl.op = ctl.login(ROOT_EMAIL, PASSWORD).await;
        ctl
    }

    /// Stops the server and starts a new one on the same data (a controller restart).
    pub async fn restart(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        let state = array_controller::build_state(self.config.clone())
            .await
            .expect("state after restart");
        let running = array_controller::serve(state)
            .await
            .expect("serve after restart");
        self.url = running.url();
        self.running = Some(running);
    }

    /// A second replica: the same configuration (so the same database), its own port.
    pub async fn replica(&self) -> array_controller::Running {
        let state = array_controller::build_state(self.config.clone())
            .await
            .expect("replica state");
        array_controller::serve(state)
            .await
            .expect("replica serves")
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }

    pub fn store_root(&self) -> PathBuf {
        self.config.package_store.clone()
    }

    /// A directory to be a room's shared volume (made now, as a mount point would be).
    pub fn volume(&self, name: &str) -> String {
        let dir = self.dir.path().join("volumes").join(name);
        std::fs::create_dir_all(&dir).expect("volume directory");
        dir.to_string_lossy().into_owned()
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let (status, body) = self
            .call::<_, LoginResponse>(
                Method::POST,
                "/v1/auth/login",
                None,
                Some(&LoginRequest {
                    email: email.into(),
                    password: password.into(),
                }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login {email}");
        body.expect("login body").token
    }

    /// Sends a JSON request; returns the status and the body parsed as `T` when it is a 2xx.
    pub async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&B>,
    ) -> (StatusCode, Option<T>) {
        let (status, text) = self.raw(method, path, token, body).await;
        let parsed = if status.is_success() && !text.is_empty() {
            Some(
                serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{path}: bad body {e}: {text}")),
            )
        } else {
            None
        };
        (status, parsed)
    }

    /// Sends a JSON request; returns the status and the raw body text.
    pub async fn raw<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&B>,
    ) -> (StatusCode, String) {
        let mut req = self.http.request(method, format!("{}{}", self.url, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        (status, resp.text().await.unwrap_or_default())
    }

    /// Like [`Ctl::call`] but expects `want` and returns the body.
    pub async fn ok<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&B>,
        want: StatusCode,
    ) -> T {
        let (status, text) = self.raw(method.clone(), path, Some(token), body).await;
        assert_eq!(status, want, "{method} {path}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: bad body {e}: {text}"))
    }

    /// Expects a problem+json answer with `status` and `code`.
    pub async fn problem<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&B>,
        status: StatusCode,
        code: &str,
    ) {
        let (got, text) = self.raw(method.clone(), path, token, body).await;
        assert_eq!(got, status, "{method} {path}: {text}");
        let p: playrack_wire::Problem = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{path}: not a problem ({e}): {text}"));
        assert_eq!(p.code, code, "{method} {path}: {text}");
        assert!(p.request_id.is_some(), "problem without request id: {text}");
    }

    /// Creates a tenant with an admin account; returns (tenant, admin token).
    pub async fn tenant(&self, name: &str) -> (Tenant, String) {
        let tenant: Tenant = self
            .ok(
                Method::POST,
                "/v1/tenants",
                &self.op,
                Some(&CreateTenant {
                    name: name.into(),
                    priority_tier: 0,
                }),
                StatusCode::CREATED,
            )
            .await;
        let email = format!("admin@{}.test", tenant.id);
        let token = self
            .account(email, Role::TenantAdmin, Some(&tenant.id))
            .await;
        (tenant, token)
    }

    /// Creates an account with `role` (in `tenant` for tenant roles) and signs it in.
    pub async fn member(&self, tenant: Option<&str>, role: Role) -> String {
        let email = format!("{}-{}@members.test", role.as_str(), db::new_id("m"));
        self.account(email, role, tenant).await
    }

    /// Creates the account `email` with `role` as the operator, and signs it in.
    async fn account(&self, email: String, role: Role, tenant: Option<&str>) -> String {
        let _: Account = self
            .ok(
                Method::POST,
                "/v1/accounts",
                &self.op,
                Some(&CreateAccount {
                    email: email.clone(),
                    password: PASSWORD.into(),
                    role,
                    tenant_id: tenant.map(str::to_owned),
                }),
                StatusCode::CREATED,
            )
            .await;
        self.login(&email, PASSWORD).await
    }

    /// Creates the standard specs.
    pub async fn specs(&self) {
        for s in array_controller::seed::standard_specs() {
            let _: Spec = self
                .ok(
                    Method::POST,
                    "/v1/specs",
                    &self.op,
                    Some(&s),
                    StatusCode::CREATED,
                )
                .await;
        }
    }

    /// Creates a game for the tenant whose token is given.
    pub async fn game(&self, token: &str, slug: &str) -> Game {
        self.ok(
            Method::POST,
            "/v1/games",
            token,
            Some(&CreateGame {
                slug: slug.into(),
                name: format!("Game {slug}"),
                archive_policy: ArchivePolicy::SinglePlayer,
                spec_ids: vec!["hd-60".into(), "sd-30".into()],
                trial_defaults: None,
            }),
            StatusCode::CREATED,
        )
        .await
    }

    // --- tus -----------------------------------------------------------------------------------

    /// Creates an upload of `len` bytes; returns its id.
    pub async fn create_upload(&self, token: &str, game_id: &str, len: u64) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/games/{game_id}/uploads", self.url))
            .bearer_auth(token)
            .header("tus-resumable", "1.0.0")
            .header("upload-length", len.to_string())
            .send()
            .await
            .expect("create upload")
    }

    pub async fn patch(
        &self,
        token: &str,
        upload_id: &str,
        offset: u64,
        bytes: Vec<u8>,
    ) -> reqwest::Response {
        self.http
            .patch(format!("{}/v1/uploads/{upload_id}", self.url))
            .bearer_auth(token)
            .header("tus-resumable", "1.0.0")
            .header("upload-offset", offset.to_string())
            .header("content-type", "application/offset+octet-stream")
            .body(bytes)
            .send()
            .await
            .expect("patch upload")
    }

    pub async fn head_offset(&self, token: &str, upload_id: &str) -> u64 {
        let resp = self
            .http
            .head(format!("{}/v1/uploads/{upload_id}", self.url))
            .bearer_auth(token)
            .header("tus-resumable", "1.0.0")
            .send()
            .await
            .expect("head upload");
        assert_eq!(resp.status(), StatusCode::OK);
        resp.headers()["upload-offset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    /// Uploads `bytes` in one go (create + one PATCH); returns the settled version.
    pub async fn upload(&self, token: &str, game_id: &str, bytes: &[u8]) -> Version {
        let resp = self.create_upload(token, game_id, bytes.len() as u64).await;
        assert_eq!(
            resp.status(),
            StatusCode::CREATED,
            "{}",
            resp.text().await.unwrap_or_default()
        );
        let up: Upload = resp.json().await.unwrap();
        let resp = self.patch(token, &up.id, 0, bytes.to_vec()).await;
        assert_eq!(
            resp.status(),
            StatusCode::NO_CONTENT,
            "{}",
            resp.text().await.unwrap_or_default()
        );
        self.ok::<(), Version>(
            Method::GET,
            &format!("/v1/versions/{}", up.version_id),
            token,
            None,
            StatusCode::OK,
        )
        .await
    }
}

/// A real fixture APK's bytes (built with aapt and apksigner by the fixture script).
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(crate::fixtures::apk(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

// --- helpers of the API suites (api_happy, authz, ops) ----------------------------------------

/// Parses a problem+json body, panicking with the text if it is not one.
pub fn problem_of(text: &str) -> playrack_wire::Problem {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not a problem ({e}): {text}"))
}

impl Ctl {
    /// The running controller's shared state (its database pool, package store, …).
    pub fn state(&self) -> &array_controller::state::AppState {
        &self.running.as_ref().expect("controller running").state
    }

    /// Records that `session` started playing at `at` (as its board's report would; the
    /// ledger bills it from then).
    pub async fn started_at(&self, session: &str, at: playrack_wire::Timestamp) {
        let mut tx = self.state().db.write().await.unwrap();
        array_controller::metering::on_session_start_at(&mut tx, session, at)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    /// Sends any request: optional bearer, optional JSON body, extra headers.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = self.http.request(method, format!("{}{}", self.url, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.expect("request")
    }

    /// GET expecting 200.
    pub async fn get<T: DeserializeOwned>(&self, path: &str, token: &str) -> T {
        self.ok::<(), T>(Method::GET, path, token, None, StatusCode::OK)
            .await
    }

    /// Like [`Ctl::problem`], but returns the problem for further checks.
    pub async fn refused(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&serde_json::Value>,
        status: StatusCode,
        code: &str,
    ) -> playrack_wire::Problem {
        let (got, text) = self.raw(method.clone(), path, token, body).await;
        assert_eq!(got, status, "{} {method} {path}: {text}", self.backend);
        let p = problem_of(&text);
        assert_eq!(p.code, code, "{} {method} {path}: {text}", self.backend);
        assert!(p.request_id.is_some(), "problem without request id: {text}");
        p
    }

    /// Who `token` is.
    pub async fn me(&self, token: &str) -> Principal {
        self.get("/v1/me", token).await
    }

    /// Every item of a list, following `next_cursor` (`path` may already carry a query).
    pub async fn list_all<T: DeserializeOwned>(&self, path: &str, token: &str) -> Vec<T> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..1000 {
            let url = match &cursor {
                Some(c) => format!("{path}{sep}limit=200&cursor={c}"),
                None => format!("{path}{sep}limit=200"),
            };
            let page: Page<T> = self.get(&url, token).await;
            items.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return items,
            }
        }
        panic!("{path}: more than 1000 pages");
    }

    /// Asserts the audit log holds an `action` entry on `object_id` by `actor`, carrying a
    /// request id (read as the operator admin); returns the newest such entry.
    pub async fn audited(&self, action: &str, object_id: &str, actor: &str) -> AuditEntry {
        let entries: Vec<AuditEntry> = self
            .list_all(
                &format!("/v1/audit?object_id={object_id}&action={action}"),
                &self.op,
            )
            .await;
        let entry = entries
            .iter()
            .rev()
            .find(|e| e.actor == actor)
            .unwrap_or_else(|| {
                panic!(
                    "{}: no audit entry {action} on {object_id} by {actor}: {entries:?}",
                    self.backend
                )
            });
        assert_eq!(entry.action, action);
        assert_eq!(entry.object_id, object_id);
        assert!(
            entry.request_id.as_deref().is_some_and(|r| !r.is_empty()),
            "{}: audit entry without request id: {entry:?}",
            self.backend
        );
        entry.clone()
    }

    /// Creates an API key with `role` as `token`; returns it with its secret.
    pub async fn api_key(&self, token: &str, name: &str, role: Role) -> CreatedApiKey {
        self.ok(
            Method::POST,
            "/v1/api-keys",
            token,
            Some(&CreateApiKey {
                name: name.into(),
                role,
                expires_at: None,
            }),
            StatusCode::CREATED,
        )
        .await
    }

    pub async fn region(&self, name: &str) -> Region {
        self.ok(
            Method::POST,
            "/v1/regions",
            &self.op,
            Some(&CreateRegion { name: name.into() }),
            StatusCode::CREATED,
        )
        .await
    }

    pub async fn room(&self, region_id: &str, name: &str) -> Room {
        self.ok(
            Method::POST,
            "/v1/rooms",
            &self.op,
            Some(&CreateRoom {
                region_id: region_id.into(),
                name: name.into(),
                instance_cap: 100,
                shared_volume: self.volume(name),
                probe_url: format!("https://{name}.probe.test/rtt"),
                placement: Placement::Spread,
                max_cpu_percent: None,
                max_temperature_c: None,
            }),
            StatusCode::CREATED,
        )
        .await
    }

    /// A room of 10,000 instances whose shared volume is `shared_volume`.
    pub async fn room_at(&self, region_id: &str, name: &str, shared_volume: &str) -> Room {
        self.ok(
            Method::POST,
            "/v1/rooms",
            &self.op,
            Some(&CreateRoom {
                region_id: region_id.into(),
                name: name.into(),
                instance_cap: 10_000,
                shared_volume: shared_volume.into(),
                probe_url: "http://127.0.0.1:1/probe".into(),
                placement: Placement::Spread,
                max_cpu_percent: None,
                max_temperature_c: None,
            }),
            StatusCode::CREATED,
        )
        .await
    }

    /// A room's enrolment token for boards.
    pub async fn enrolment_token(&self, room_id: &str) -> String {
        let t: playrack_wire::agent::EnrolmentToken = self
            .ok::<(), _>(
                Method::POST,
                &format!("/v1/rooms/{room_id}/enrolment-token"),
                &self.op,
                None,
                StatusCode::CREATED,
            )
            .await;
        t.token
    }

    /// Uploads the APK bytes as a new version of the game and publishes it.
    pub async fn published(&self, token: &str, game_id: &str, apk: &[u8]) -> Version {
        let v = self.upload(token, game_id, apk).await;
        self.ok::<(), _>(
            Method::POST,
            &format!("/v1/versions/{}/publish", v.id),
            token,
            None,
            StatusCode::OK,
        )
        .await
    }

    /// Deploys a version to rooms.
    pub async fn deploy(&self, token: &str, version_id: &str, room_ids: &[&str]) -> Deployment {
        self.ok(
            Method::PUT,
            &format!("/v1/versions/{version_id}/deployment"),
            token,
            Some(&SetDeployment {
                room_ids: room_ids.iter().map(|r| r.to_string()).collect(),
            }),
            StatusCode::OK,
        )
        .await
    }

    /// An hour-long order of `concurrency` `hd-60` instances in a region.
    pub async fn order(&self, tenant_id: &str, region_id: &str, concurrency: u32) -> Order {
        let now = array_controller::now();
        self.ok(
            Method::POST,
            "/v1/orders",
            &self.op,
            Some(&CreateOrder {
                tenant_id: tenant_id.into(),
                spec_id: "hd-60".into(),
                region_id: Some(region_id.into()),
                room_ids: vec![],
                concurrency,
                valid_from: now.plus_secs(-60),
                valid_until: now.plus_secs(3600),
                priority: 0,
                price_per_period_micros: 0,
            }),
            StatusCode::CREATED,
        )
        .await
    }

    /// A try-play link for a game (`trial` seconds, else the game's default).
    pub async fn link(&self, token: &str, game_id: &str, trial: Option<u32>) -> Link {
        self.ok(
            Method::POST,
            "/v1/links",
            token,
            Some(&CreateLink {
                game_id: game_id.into(),
                trial_seconds: trial,
                expires_at: None,
                max_plays: None,
                campaign: None,
                cta: None,
                connect_deadline_seconds: None,
                embed_origins: vec![],
            }),
            StatusCode::CREATED,
        )
        .await
    }

    pub async fn array(&self, room_id: &str, name: &str) -> Array {
        self.ok(
            Method::POST,
            "/v1/arrays",
            &self.op,
            Some(&CreateArray {
                room_id: room_id.into(),
                name: name.into(),
            }),
            StatusCode::CREATED,
        )
        .await
    }

    pub async fn board(&self, array_id: &str, serial: &str) -> Board {
        self.ok(
            Method::POST,
            "/v1/boards",
            &self.op,
            Some(&CreateBoard {
                array_id: array_id.into(),
                serial: serial.into(),
                model: "RK3588".into(),
                capacity: [("hd-60".to_owned(), 4), ("sd-30".to_owned(), 8)].into(),
            }),
            StatusCode::CREATED,
        )
        .await
    }
}

// --- a playable world (shared by the play, archive, metering and webhook suites) ------------

/// A playable world: a tenant with a published game deployed (and reported ready) in one room
/// of `boards` × `slots` hd-60 slots, an order of `concurrency`, and a try-play link. The boards'
/// agents stay connected for as long as the world lives.
pub struct World {
    pub tenant: Tenant,
    pub tenant_token: String,
    pub game: Game,
    pub version: Version,
    pub link: Link,
    pub room: Room,
    /// The enrolled boards (ids and credentials), in the order of `sockets`.
    pub agents: Vec<agent::TestAgent>,
    pub sockets: Vec<agent::Socket>,
}

pub async fn world(ctl: &Ctl, boards: u32, slots: u32, concurrency: u32) -> World {
    use playrack_wire::agent::AgentMessage;
    ctl.specs().await;
    let (tenant, t) = ctl.tenant("Acme").await;
    let game = ctl.game(&t, "tapper").await;
    let version = ctl.published(&t, &game.id, &fixture("tapper-v1.apk")).await;
    let v = version.clone();
    let region = ctl.region("east").await;
    let room = ctl.room_at(&region.id, "r1", &ctl.volume("r1")).await;
    let token = ctl.enrolment_token(&room.id).await;
    ctl.deploy(&t, &v.id, &[&room.id]).await;
    let mut agents = Vec::new();
    let mut sockets = Vec::new();
    for i in 0..boards {
        let a =
            agent::TestAgent::enrol_with(&ctl.http, &ctl.url, &token, &format!("RK-{i:04}"), slots)
                .await;
        let (mut ws, _) = a.connect(vec![]).await;
        agent::send(
            &mut ws,
            &AgentMessage::Deployment {
                sha256: v.sha256.clone().unwrap(),
                state: DeploymentRoomState::Ready,
                progress_percent: 100,
                error: None,
            },
        )
        .await;
        agents.push(a);
        sockets.push(ws);
    }
    // Wait until the room's deployment is ready and every board is online.
    wait_for(
        "the world to become ready",
        Duration::from_secs(20),
        || async {
            let d: Deployment = ctl
                .get(&format!("/v1/versions/{}/deployment", v.id), &t)
                .await;
            let online: Page<Board> = ctl.get("/v1/boards?limit=200", &ctl.op).await;
            d.rooms
                .iter()
                .all(|r| r.state == DeploymentRoomState::Ready)
                && online
                    .items
                    .iter()
                    .filter(|b| b.agent_state == AgentState::Online)
                    .count()
                    == boards as usize
        },
    )
    .await;
    ctl.order(&tenant.id, &region.id, concurrency).await;
    let link = ctl.link(&t, &game.id, Some(120)).await;
    World {
        tenant,
        tenant_token: t,
        game,
        version,
        link,
        room,
        agents,
        sockets,
    }
}

/// The anonymous device id of test player `i`.
pub fn device(i: usize) -> String {
    format!("device-{i:012}")
}

impl World {
    /// The acquire request of anonymous player `i` through the world's link.
    pub fn by_link(&self, i: usize) -> AcquireRequest {
        AcquireRequest {
            link: Some(self.link.code.clone()),
            device_id: Some(device(i)),
            ..Default::default()
        }
    }

    /// From now on the boards end plays as real agents do (see [`agent::answer_ends`]); their
    /// sockets are handed to those tasks.
    pub fn answer_ends(&mut self) {
        for ws in std::mem::take(&mut self.sockets) {
            agent::answer_ends(ws);
        }
    }

    /// Deploys another version of the world's game to its room, every board reporting it
    /// ready, and waits until the controller says so.
    pub async fn deploy_ready(&mut self, ctl: &Ctl, version: &Version) {
        use playrack_wire::agent::AgentMessage;
        ctl.deploy(&self.tenant_token, &version.id, &[&self.room.id])
            .await;
        let sha256 = version
            .sha256
            .clone()
            .expect("a READY version has its hash");
        for ws in &mut self.sockets {
            agent::send(
                ws,
                &AgentMessage::Deployment {
                    sha256: sha256.clone(),
                    state: DeploymentRoomState::Ready,
                    progress_percent: 100,
                    error: None,
                },
            )
            .await;
        }
        let path = format!("/v1/versions/{}/deployment", version.id);
        wait_for(
            "the version ready in the room",
            Duration::from_secs(20),
            || async {
                let d: Deployment = ctl.get(&path, &self.tenant_token).await;
                d.rooms
                    .iter()
                    .all(|r| r.state == DeploymentRoomState::Ready)
            },
        )
        .await;
    }

    /// The enrolled board with this id.
    pub fn agent(&self, board_id: &str) -> &agent::TestAgent {
        self.agents
            .iter()
            .find(|a| a.board_id == board_id)
            .unwrap_or_else(|| panic!("no board {board_id} in this world"))
    }

    /// Anonymous player `i` acquires a play and gets a session: (session id, board id).
    pub async fn play(&self, ctl: &Ctl, i: usize) -> (String, String) {
        match acquire(ctl, &self.by_link(i), None).await {
            AcquireResponse::Assigned {
                session_id,
                board_id,
                ..
            } => (session_id, board_id),
            other => panic!("{}: expected a session: {other:?}", ctl.backend),
        }
    }
}

/// `POST /v1/play/acquire` (with an Idempotency-Key when given), expecting 200.
pub async fn acquire(ctl: &Ctl, req: &AcquireRequest, key: Option<&str>) -> AcquireResponse {
    let mut r = ctl
        .http
        .post(format!("{}/v1/play/acquire", ctl.url))
        .json(req);
    if let Some(k) = key {
        r = r.header("idempotency-key", k);
    }
    let resp = r.send().await.unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "{}",
        resp.text().await.unwrap_or_default()
    );
    resp.json().await.unwrap()
}

/// Polls `check` until it holds, failing the test after `timeout`.
pub async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    wait_value(what, timeout, || {
        let f = check();
        async move { if f.await { Ok(()) } else { Err("not yet") } }
    })
    .await
}

/// Polls `check` until it answers `Ok(value)`; fails after `timeout`, naming `what` and the
/// last `Err(state)` it saw.
pub async fn wait_value<T, D, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    D: std::fmt::Debug,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, D>>,
{
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let last = match check().await {
            Ok(v) => return v,
            Err(last) => last,
        };
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}; last: {last:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs `scripts/postgres.sh <cmd>` on the shared test server (`suspend` stops it with its
/// data kept, `resume` starts it again). A test that stops it must be the only one in its
/// binary that uses PostgreSQL.
pub fn postgres_script(cmd: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/postgres.sh");
    let status = std::process::Command::new(script)
        .arg(cmd)
        .status()
        .expect("scripts/postgres.sh runs");
    assert!(status.success(), "scripts/postgres.sh {cmd} failed");
}

/// Waits until the controller has heard boards for a whole lease (its configured one) and one
/// watchdog tick more: from then on, a board it had not heard would have been judged lost.
pub async fn judged(ctl: &Ctl) {
    let lease = ctl.config.agent_lease_secs;
    wait_for(
        "the controller to hear boards for a whole lease",
        Duration::from_secs(u64::from(lease) + 30),
        || async {
            let now = array_controller::now().plus_secs(-1);
            let since = ctl.state().agents.hearing.since();
            array_controller::agents::lease::may_judge(since, now, lease)
        },
    )
    .await;
}

/// Waits for `child` to exit (a thread blocks on it; nothing polls), at most `timeout`: its
/// status and whatever output was not taken. Past the timeout it is killed and the test fails,
/// naming `what`.
pub fn exit_within(
    child: std::process::Child,
    timeout: Duration,
    what: &str,
) -> std::process::Output {
    let pid = child.id().to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(timeout) {
        Ok(out) => out.expect("waiting for the child"),
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid])
                .status();
            panic!("{what} did not exit within {timeout:?}");
        }
    }
}
