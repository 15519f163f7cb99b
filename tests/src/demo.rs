//! The whole platform in one process, ready to play: what `playrack-demo` runs and what the
//! browser tests start in-process.
//!
//! [`DemoStack::start`] brings up, in order:
//! 1. the array controller on SQLite under `<data-dir>/controller`, seeded by
//!    `array_controller::seed::demo` (the standard specs, the demo operator and the demo tenant,
//!    with fresh random passwords);
//! 2. a region `demo` and a machine room `demo-room` whose shared volume is the controller's own
//!    package store (so boards sync packages with a local rsync);
//! 3. `boards` node agents (`DEMO-BOARD-01`, …), each with its own data directory, adb server
//!    port, HTTP port and WebRTC port on 127.0.0.1, the process driver running the
//!    `virtual-device` binary, `slots` instances of one small spec, all kept warm; the room's
//!    probe URL then points at the first agent's `/probe`;
//! 4. the demo tenant's game (`tapper-v1.apk` uploaded through the API's tus endpoint,
//!    published and deployed to the room, waited on until READY), an order for the tenant and a
//!    try-play link;
//! 5. the portal (player page, tenant and operator consoles) with the H5 SDK bundle.
//!
//! Everything is found-or-created by name, so starting again on the same data directory reuses
//! the game, the link and the boards' enrolment. [`DemoStack::stop`] stops the portal, every
//! agent (its instances stopped, its adb server killed) and the controller.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use array_controller::seed::{self, DemoCredentials};
use node_agent::agent::{Agent, RunningAgent};
use node_agent::runtime::InstanceSpec;
use playrack_wire::Timestamp;
use playrack_wire::agent::{EnrolmentToken, InstanceState};
use playrack_wire::api::*;
use reqwest::Method;

use crate::api::{Api, wait_for};

/// The room's and region's names (found by name when the data directory is reused).
pub const REGION: &str = "demo";
pub const ROOM: &str = "demo-room";
/// The demo game's slug.
pub const GAME_SLUG: &str = "tap-tap-demo";
/// The campaign of the demo's own try-play link (how it is found again).
pub const CAMPAIGN: &str = "demo";
/// The demo order's price: 300 a unit of concurrency and billing period (micro-units).
const DEMO_ORDER_PRICE: i64 = 300_000_000;
/// The spec the demo boards offer by default: small enough for a virtual device to encode at
/// full rate on two cores, even from a debug build.
pub const DEFAULT_SPEC: &str = "hd-60=360x640@30";

/// How to build the stack.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Everything persistent lives here: `controller/`, `boards/<serial>/`.
    pub data_dir: PathBuf,
    /// 0: any free port.
    pub controller_port: u16,
    /// 0: any free port.
    pub portal_port: u16,
    /// Node agents (virtual boards) to run.
    pub boards: u32,
    /// Instances per board, all kept warm.
    pub slots: u32,
    /// The boards' instance spec, `id=WxH@FPS` (the id must be one of the controller's specs).
    pub spec: String,
    /// The demo tenant's ordered concurrency; `None`: every slot of the room.
    pub order_concurrency: Option<u32>,
    /// Trial length of the demo link, in seconds.
    pub trial_seconds: u32,
    /// The `virtual-device` binary.
    pub virtual_device: PathBuf,
    /// The H5 SDK's bundle directory (`playrack.js` inside).
    pub sdk_dir: PathBuf,
    /// The demo game's APK.
    pub apk: PathBuf,
    /// TURN servers the boards offer players, with the secret their per-session credentials
    /// are made with (`None`: no TURN).
    pub turn: Option<TurnOptions>,
    /// Slices per frame the boards ask of their devices (0: whole frames).
    pub video_slices: u8,
}

/// The boards' TURN servers (see `node-agent --turn`, `--turn-secret`).
#[derive(Debug, Clone)]
pub struct TurnOptions {
    pub urls: Vec<String>,
    pub secret: String,
}

impl DemoOptions {
    /// Defaults for `data_dir`: two boards of two `hd-60` (360×640@30) slots, every port
    /// picked by the system, the `virtual-device` next to this executable, the workspace's
    /// `sdk-h5/dist` and the `tapper-v1.apk` fixture.
    pub fn new(data_dir: impl Into<PathBuf>) -> DemoOptions {
        DemoOptions {
            data_dir: data_dir.into(),
            controller_port: 0,
            portal_port: 0,
            boards: 2,
            slots: 2,
            spec: DEFAULT_SPEC.into(),
            order_concurrency: None,
            trial_seconds: 600,
            virtual_device: sibling_binary("virtual-device"),
            sdk_dir: workspace().join("sdk-h5/dist"),
            apk: PathBuf::new(),
            turn: None,
            video_slices: node_agent::config::DEFAULT_VIDEO_SLICES,
        }
    }
}

/// The workspace root (where `Cargo.toml` with `[workspace]` is), from this crate's manifest.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `name` in the directory of the running executable, or of its parent (a test binary lives
/// in `target/<profile>/deps/`, the binaries in `target/<profile>/`).
pub fn sibling_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    let here = dir.join(name);
    if here.exists() {
        return here;
    }
    match dir.parent() {
        Some(p) if dir.file_name().is_some_and(|n| n == "deps") => p.join(name),
        _ => here,
    }
}

/// A free TCP port on 127.0.0.1 (for the agents' adb servers, which need a number up front).
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// The running platform.
pub struct DemoStack {
    pub controller: Option<array_controller::Running>,
    pub portal: Option<portal::Running>,
    pub agents: Vec<RunningAgent>,
    pub api: Api,
    /// `http://127.0.0.1:<port>` of the controller and the portal.
    pub controller_url: String,
    pub portal_url: String,
    pub credentials: DemoCredentials,
    /// Bearer tokens of the demo operator and the demo tenant's admin.
    pub operator_token: String,
    pub tenant_token: String,
    pub region: Region,
    pub room: Room,
    pub game: Game,
    pub version: Version,
    pub order: Order,
    pub link: Link,
    pub options: DemoOptions,
    seeder: Seeder,
}

/// What the find-or-create steps share.
#[derive(Clone)]
struct Seeder {
    api: Api,
    op: String,
    spec_id: String,
    region_id: String,
    room_id: String,
    slots: u32,
    serials: Vec<String>,
}

impl DemoStack {
    /// Builds the stack (see the module doc) and waits until it can play: the package synced
    /// and the deployment READY, every board online with all its instances warm.
    pub async fn start(options: DemoOptions) -> Result<DemoStack> {
        if options.boards == 0 || options.slots == 0 {
            bail!("the demo needs at least one board with one slot");
        }
        if !options.virtual_device.is_file() {
            bail!(
                "the virtual-device binary is missing at {} (cargo build -p android-injector --bin virtual-device)",
                options.virtual_device.display()
            );
        }
        let spec = InstanceSpec::parse(&options.spec).map_err(|e| anyhow!("--spec: {e}"))?;
        let apk = std::fs::read(&options.apk)
            .with_context(|| format!("reading the demo APK {}", options.apk.display()))?;
        if !options.sdk_dir.join("playrack.js").is_file() {
            bail!(
                "the H5 SDK bundle is missing at {}/playrack.js (cd sdk-h5 && npm ci && npm run build)",
                options.sdk_dir.display()
            );
        }
        std::fs::create_dir_all(&options.data_dir)
            .with_context(|| format!("creating {}", options.data_dir.display()))?;
        let data_dir = std::fs::canonicalize(&options.data_dir)?;
        // Reports older than this are a previous run's (the controller's clock is this one).
        let since = Timestamp::now().plus_secs(-1);

        // 1. The controller, seeded.
        let boards_dir = data_dir.join("boards");
        let mut config =
            array_controller::config::Config::with_data_dir(data_dir.join("controller"));
        if !has_database(&config) && boards_dir.exists() {
            // The boards' credentials belong to a database that is gone: enrol them afresh.
            std::fs::remove_dir_all(&boards_dir)?;
        }
        config.listen = SocketAddr::from((Ipv4Addr::LOCALHOST, options.controller_port));
        config.demo = true;
        // The portal on this machine passes each client's address on (sign-in throttling and
        // per-address rate limits then count real clients, not the portal).
        config.trusted_proxies = vec![Ipv4Addr::LOCALHOST.into()];
        let state = array_controller::build_state(config.clone())
            .await
            .context("starting the controller")?;
        let credentials = seed::demo(&state).await.context("seeding the demo data")?;
        let controller = array_controller::serve(state)
            .await
            .context("serving the controller")?;
        let controller_url = controller.url();
        let api = Api::new(&controller_url);
        let store = std::fs::canonicalize(&config.package_store)
            .unwrap_or_else(|_| config.package_store.clone())
            .to_string_lossy()
            .into_owned();

        // 2 and 3: region, room, boards.
        let mut agents = Vec::new();
        let topology = start_boards(
            &api,
            &credentials,
            &options,
            &spec,
            &store,
            &boards_dir,
            &mut agents,
        )
        .await;
        let (op, region, room) = match topology {
            Ok(t) => t,
            Err(e) => {
                stop_all(agents, None, Some(controller)).await;
                return Err(e);
            }
        };
        let seeder = Seeder {
            api: api.clone(),
            op: op.clone(),
            spec_id: spec.id.clone(),
            region_id: region.id.clone(),
            room_id: room.id.clone(),
            slots: options.slots,
            serials: agents
                .iter()
                .map(|a| a.agent.config.serial.clone())
                .collect(),
        };

        // 4 and 5: the game, its order and link; the portal.
        let seeded = async {
            let tenant_token = api
                .login(seed::DEMO_TENANT_EMAIL, &credentials.tenant_password)
                .await?;
            let probe = format!("http://{}/probe", agents[0].agent.http_addr);
            let room: Room = api
                .call(
                    Method::PATCH,
                    &format!("/v1/rooms/{}", room.id),
                    Some(&op),
                    Some(&UpdateRoom {
                        shared_volume: Some(store.clone()),
                        probe_url: Some(probe),
                        ..UpdateRoom::default()
                    }),
                )
                .await?;
            let t = &tenant_token;
            let game = match api
                .all::<Game>("/v1/games", t)
                .await?
                .into_iter()
                .find(|g| g.slug == GAME_SLUG)
            {
                Some(g) => g,
                None => seeder.game(t, "Tap Tap Demo").await?,
            };
            let version = seeder
                .ready_version(t, &game.id, &apk, &seeder.room_id)
                .await?;
            let concurrency = options
                .order_concurrency
                .unwrap_or(options.boards * options.slots);
            let order = seeder
                .ensure_order(&credentials.tenant_id, concurrency)
                .await?;
            seeder
                .wait_ready(t, &version, &agents, seeder.slots, since)
                .await?;
            let existing = api
                .all::<Link>(&format!("/v1/links?game_id={}", game.id), t)
                .await?
                .into_iter()
                .find(|l| {
                    l.campaign.as_deref() == Some(CAMPAIGN)
                        && l.revoked_at.is_none()
                        && l.trial_seconds == options.trial_seconds
                        && l.expires_at.is_none()
                        && l.max_plays.is_none()
                });
            let link = match existing {
                Some(l) => l,
                None => {
                    seeder
                        .link(t, &game.id, options.trial_seconds, Some(CAMPAIGN))
                        .await?
                }
            };
            let mut pc = portal::Config::local(&controller_url);
            pc.listen = SocketAddr::from((Ipv4Addr::LOCALHOST, options.portal_port));
            pc.secure_cookies = portal::config::default_secure_cookies(pc.listen, None);
            pc.sdk_dir = options.sdk_dir.clone();
            let portal = portal::Portal::start(pc).await?;
            anyhow::Ok((tenant_token, room, game, version, order, link, portal))
        }
        .await;
        match seeded {
            Ok((tenant_token, room, game, version, order, link, portal)) => Ok(DemoStack {
                controller: Some(controller),
                portal_url: portal.url.clone(),
                portal: Some(portal),
                agents,
                api,
                controller_url,
                credentials,
                operator_token: op,
                tenant_token,
                region,
                room,
                game,
                version,
                order,
                link,
                options,
                seeder,
            }),
            Err(e) => {
                stop_all(agents, None, Some(controller)).await;
                Err(e)
            }
        }
    }

    /// The demo spec's id (`hd-60`).
    pub fn spec_id(&self) -> &str {
        &self.seeder.spec_id
    }

    /// A new try-play link for the demo game with `trial_seconds` per play.
    pub async fn link_with_trial(&self, trial_seconds: u32) -> Result<Link> {
        self.seeder
            .link(&self.tenant_token, &self.game.id, trial_seconds, None)
            .await
    }

    /// Another tenant (`name`, unique) whose order allows `concurrency` plays at once, with
    /// a game made of `apk` deployed to the room and a link of `trial_seconds`: what a test of
    /// the queue needs. Answers the link.
    ///
    /// `apk` should differ from every APK already deployed to the room: a package the boards
    /// already synced is never reported again, so its deployment would stay pending (the
    /// controller's `SyncPackage` id is `sync-<sha256>` and the agent answers a repeated id
    /// from its cache without a new deployment report).
    pub async fn tenant_with_capacity(
        &self,
        name: &str,
        concurrency: u32,
        trial_seconds: u32,
        apk: &Path,
    ) -> Result<Link> {
        let (tenant_id, t) = self.new_tenant(name).await?;
        let game = self.seeder.game(&t, &format!("Demo game ({name})")).await?;
        let apk = std::fs::read(apk).with_context(|| format!("reading {}", apk.display()))?;
        let version = self
            .seeder
            .ready_version(&t, &game.id, &apk, &self.seeder.room_id)
            .await?;
        self.seeder.ensure_order(&tenant_id, concurrency).await?;
        self.seeder
            .wait_ready(
                &t,
                &version,
                &self.agents,
                self.seeder.slots,
                Timestamp::now().plus_secs(-3600),
            )
            .await?;
        self.seeder.link(&t, &game.id, trial_seconds, None).await
    }

    /// A room `name` (unique) of one board with one slot (`<name>-01`, started here and stopped
    /// with the stack), and a tenant `name` whose game, made of `apk`, is deployed only there,
    /// with an order of several plays: the room is the limit, not the quota — what a test of a
    /// full board needs. Answers the game's link. `apk` must not be the demo game's (see
    /// [`DemoStack::tenant_with_capacity`]).
    pub async fn one_slot_room(&mut self, name: &str, apk: &Path) -> Result<Link> {
        let api = &self.api;
        let op = &self.operator_token;
        let store = self.room.shared_volume.clone();
        let room: Room = api
            .post(
                "/v1/rooms",
                op,
                &CreateRoom {
                    region_id: self.region.id.clone(),
                    name: name.into(),
                    instance_cap: 1,
                    shared_volume: store.clone(),
                    probe_url: "http://127.0.0.1:1/probe".into(),
                    placement: Placement::Spread,
                    // The demo's boards share this machine with everything else: its CPU load
                    // says nothing about a board, so it never holds plays back.
                    max_cpu_percent: Some(100),
                    max_temperature_c: None,
                },
            )
            .await?;
        let token: EnrolmentToken = api
            .call::<(), _>(
                Method::POST,
                &format!("/v1/rooms/{}/enrolment-token", room.id),
                Some(op),
                None,
            )
            .await?;
        let spec = InstanceSpec::parse(&self.options.spec).map_err(|e| anyhow!("--spec: {e}"))?;
        let serial = format!("{name}-01");
        let dir = self.options.data_dir.join("boards").join(&serial);
        let agent = start_board(
            &api.base,
            &token.token,
            &serial,
            &dir,
            &self.options,
            &spec,
            1,
            &store,
        )
        .await
        .with_context(|| format!("starting board {serial}"))?;
        let probe = format!("http://{}/probe", agent.agent.http_addr);
        self.agents.push(agent);
        let _: Room = api
            .call(
                Method::PATCH,
                &format!("/v1/rooms/{}", room.id),
                Some(op),
                Some(&UpdateRoom {
                    probe_url: Some(probe),
                    ..UpdateRoom::default()
                }),
            )
            .await?;
        let (tenant_id, t) = self.new_tenant(name).await?;
        let game = self.seeder.game(&t, &format!("Demo game ({name})")).await?;
        let apk = std::fs::read(apk).with_context(|| format!("reading {}", apk.display()))?;
        let version = self
            .seeder
            .ready_version(&t, &game.id, &apk, &room.id)
            .await?;
        self.seeder.ensure_order(&tenant_id, 4).await?;
        let board = self.agents.len() - 1;
        self.seeder
            .wait_ready(
                &t,
                &version,
                &self.agents[board..],
                1,
                Timestamp::now().plus_secs(-3600),
            )
            .await?;
        self.seeder.link(&t, &game.id, 600, None).await
    }

    /// A new tenant `name` with an admin account: its id and the admin's token.
    async fn new_tenant(&self, name: &str) -> Result<(String, String)> {
        let api = &self.api;
        let op = &self.operator_token;
        let tenant: Tenant = api
            .post(
                "/v1/tenants",
                op,
                &CreateTenant {
                    name: name.into(),
                    priority_tier: 0,
                },
            )
            .await?;
        let email = format!("admin@{}.demo.local", tenant.id.to_ascii_lowercase());
        let password = format!("pw-{}", tenant.id);
        let _: Account = api
            .post(
                "/v1/accounts",
                op,
                &CreateAccount {
                    email: email.clone(),
                    password: password.clone(),
                    role: Role::TenantAdmin,
                    tenant_id: Some(tenant.id.clone()),
                },
            )
            .await?;
        Ok((tenant.id, api.login(&email, &password).await?))
    }

    /// The try-play page of `link`.
    pub fn play_url(&self, link: &Link) -> String {
        format!("{}/play/{}", self.portal_url, link.code)
    }

    /// What the launcher prints: the try-play URL, the consoles and the credentials.
    pub fn banner(&self) -> String {
        format!(
            "Try-play: {}\nTenant console: {}/console  (sign in as the demo tenant)\n\
             Operator console: {}/operator  (sign in as the demo operator)\n\
             Controller API: {}/v1  (OpenAPI at {}/v1/openapi.json)\n{}\n\
             Boards: {} × {} slots of {} ({}), RTT probe {}",
            self.play_url(&self.link),
            self.portal_url,
            self.portal_url,
            self.controller_url,
            self.controller_url,
            self.credentials,
            self.agents.len(),
            self.options.slots,
            self.spec_id(),
            self.options.spec,
            self.room.probe_url,
        )
    }

    /// Stops the portal, the agents (instances, adb servers) and the controller.
    pub async fn stop(&mut self) {
        let agents = std::mem::take(&mut self.agents);
        stop_all(agents, self.portal.take(), self.controller.take()).await;
    }
}

impl Drop for DemoStack {
    /// A stack dropped without [`DemoStack::stop`] (a failed test) still kills its boards'
    /// adb servers; the virtual devices die with their process handles.
    fn drop(&mut self) {
        for a in &self.agents {
            let _ = a
                .agent
                .adb
                .command()
                .arg("kill-server")
                .as_std_mut()
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

async fn stop_all(
    agents: Vec<RunningAgent>,
    portal: Option<portal::Running>,
    controller: Option<array_controller::Running>,
) {
    if let Some(p) = portal {
        p.stop().await;
    }
    futures_join_all(agents.into_iter().map(|a| a.stop())).await;
    if let Some(c) = controller {
        c.stop().await;
    }
}

/// Runs the futures concurrently and waits for all of them.
async fn futures_join_all<F: std::future::Future<Output = ()> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) {
    let tasks: Vec<_> = futures.map(tokio::spawn).collect();
    for t in tasks {
        let _ = t.await;
    }
}

/// Region, room (found or created), an enrolment token, and the boards started into
/// `agents`. Answers the operator's token, the region and the room.
async fn start_boards(
    api: &Api,
    credentials: &DemoCredentials,
    options: &DemoOptions,
    spec: &InstanceSpec,
    store: &str,
    boards_dir: &Path,
    agents: &mut Vec<RunningAgent>,
) -> Result<(String, Region, Room)> {
    let op = api
        .login(seed::DEMO_OPERATOR_EMAIL, &credentials.operator_password)
        .await?;
    let region = match api
        .all::<Region>("/v1/regions", &op)
        .await?
        .into_iter()
        .find(|r| r.name == REGION)
    {
        Some(r) => r,
        None => {
            api.post(
                "/v1/regions",
                &op,
                &CreateRegion {
                    name: REGION.into(),
                },
            )
            .await?
        }
    };
    let room: Room = match api
        .all::<Room>("/v1/rooms", &op)
        .await?
        .into_iter()
        .find(|r| r.name == ROOM && r.region_id == region.id)
    {
        Some(r) => r,
        None => {
            api.post(
                "/v1/rooms",
                &op,
                &CreateRoom {
                    region_id: region.id.clone(),
                    name: ROOM.into(),
                    instance_cap: 1000,
                    shared_volume: store.into(),
                    probe_url: "http://127.0.0.1:1/probe".into(),
                    placement: Placement::Spread,
                    // The demo's boards share this machine with everything else: its CPU load
                    // says nothing about a board, so it never holds plays back.
                    max_cpu_percent: Some(100),
                    max_temperature_c: None,
                },
            )
            .await?
        }
    };
    let token: EnrolmentToken = api
        .call::<(), _>(
            Method::POST,
            &format!("/v1/rooms/{}/enrolment-token", room.id),
            Some(&op),
            None,
        )
        .await?;
    for i in 1..=options.boards {
        let serial = format!("DEMO-BOARD-{i:02}");
        let agent = start_board(
            &api.base,
            &token.token,
            &serial,
            &boards_dir.join(&serial),
            options,
            spec,
            options.slots,
            store,
        )
        .await
        .with_context(|| format!("starting board {i}"))?;
        agents.push(agent);
    }
    Ok((op, region, room))
}

/// One node agent enrolled with `enrolment_token`: `slots` warm instances of `spec` run by the
/// process driver, its data under `dir`, every port picked on 127.0.0.1.
#[allow(clippy::too_many_arguments)]
async fn start_board(
    controller_url: &str,
    enrolment_token: &str,
    serial: &str,
    dir: &Path,
    options: &DemoOptions,
    spec: &InstanceSpec,
    slots: u32,
    store: &str,
) -> Result<RunningAgent> {
    std::fs::create_dir_all(dir)?;
    // The virtual devices accept any injector file: it only has to exist to be pushed.
    let jar = dir.join("scrcpy-server.jar");
    if !jar.exists() {
        std::fs::write(&jar, b"PK\x03\x04 playrack demo injector")?;
    }
    let mut c = node_agent::config::Config::with_data_dir(dir.join("agent"));
    c.controller_url = controller_url.into();
    c.enrolment_token = Some(enrolment_token.into());
    c.serial = serial.into();
    c.model = "RK3588 (virtual)".into();
    c.capacity = BTreeMap::from([(spec.id.clone(), slots)]);
    c.specs = BTreeMap::from([(spec.id.clone(), spec.clone())]);
    c.warm = BTreeMap::from([(spec.id.clone(), slots)]);
    c.runtime = node_agent::config::RuntimeKind::Process;
    c.virtual_device = options.virtual_device.clone();
    c.video_slices = options.video_slices;
    c.adb_port = free_port()?;
    c.injector_jar = Some(jar);
    c.shared_volume = store.into();
    c.listen_address = Ipv4Addr::LOCALHOST.into();
    c.webrtc_port = 0;
    c.http_port = 0;
    if let Some(t) = &options.turn {
        c.turn = t.urls.clone();
        c.turn_secret = Some(t.secret.clone());
    }
    Agent::start(c).await
}

impl Seeder {
    /// A new game of the demo spec for the tenant whose token is given.
    async fn game(&self, token: &str, name: &str) -> Result<Game> {
        self.api
            .post(
                "/v1/games",
                token,
                &CreateGame {
                    slug: GAME_SLUG.into(),
                    name: name.into(),
                    archive_policy: ArchivePolicy::SinglePlayer,
                    spec_ids: vec![self.spec_id.clone()],
                    trial_defaults: None,
                },
            )
            .await
    }

    /// The game's newest READY version (uploading `apk` if there is none), published and
    /// deployed to room `room_id`.
    async fn ready_version(
        &self,
        token: &str,
        game_id: &str,
        apk: &[u8],
        room_id: &str,
    ) -> Result<Version> {
        let api = &self.api;
        let existing = api
            .all::<Version>(&format!("/v1/games/{game_id}/versions"), token)
            .await?
            .into_iter()
            .rev()
            .find(|v| v.state == VersionState::Ready);
        let mut v = match existing {
            Some(v) => v,
            None => api.upload(token, game_id, apk).await?,
        };
        if v.published_at.is_none() {
            v = api
                .call::<(), _>(
                    Method::POST,
                    &format!("/v1/versions/{}/publish", v.id),
                    Some(token),
                    None,
                )
                .await?;
        }
        let _: Deployment = api
            .call(
                Method::PUT,
                &format!("/v1/versions/{}/deployment", v.id),
                Some(token),
                Some(&SetDeployment {
                    room_ids: vec![room_id.to_owned()],
                }),
            )
            .await?;
        Ok(v)
    }

    /// An active order of `concurrency` instances of the demo spec in the demo region for
    /// `tenant_id`, valid for a year (an existing one is updated rather than added to).
    async fn ensure_order(&self, tenant_id: &str, concurrency: u32) -> Result<Order> {
        let api = &self.api;
        let op = &self.op;
        let now = Timestamp::now();
        let until = now.plus_secs(365 * 24 * 3600);
        let existing = api
            .all::<Order>(&format!("/v1/orders?tenant_id={tenant_id}"), op)
            .await?
            .into_iter()
            .find(|o| {
                o.status == OrderStatus::Active
                    && o.spec_id == self.spec_id
                    && o.region_id.as_deref() == Some(self.region_id.as_str())
                    && o.valid_from <= now
            });
        match existing {
            Some(o) => {
                api.call(
                    Method::PATCH,
                    &format!("/v1/orders/{}", o.id),
                    Some(op),
                    Some(&UpdateOrder {
                        concurrency: Some(concurrency),
                        valid_until: Some(until),
                        price_per_period_micros: Some(DEMO_ORDER_PRICE),
                        ..UpdateOrder::default()
                    }),
                )
                .await
            }
            None => {
                api.post(
                    "/v1/orders",
                    op,
                    &CreateOrder {
                        tenant_id: tenant_id.into(),
                        spec_id: self.spec_id.clone(),
                        region_id: Some(self.region_id.clone()),
                        room_ids: vec![],
                        concurrency,
                        valid_from: now.plus_secs(-60),
                        valid_until: until,
                        priority: 0,
                        price_per_period_micros: DEMO_ORDER_PRICE,
                    },
                )
                .await
            }
        }
    }

    /// Waits until `version` is READY where it is deployed and every board in `agents` is ready
    /// to play: its agent holds the package, has `slots` instances warm and its link up, and
    /// every demo board is online: the controller has heard from it since `since` (a reused
    /// database still shows the last run's boards as online until their lease runs out).
    async fn wait_ready(
        &self,
        token: &str,
        version: &Version,
        agents: &[RunningAgent],
        slots: u32,
        since: Timestamp,
    ) -> Result<()> {
        let api = &self.api;
        let sha = version.sha256.clone().unwrap_or_default();
        let mut last = String::new();
        let r = wait_for(
            Duration::from_secs(180),
            "the demo to be ready",
            async || {
                let d: Deployment = api
                    .get(&format!("/v1/versions/{}/deployment", version.id), token)
                    .await?;
                let boards: Vec<Board> = api.all("/v1/boards", &self.op).await?;
                let deployed = !d.rooms.is_empty()
                    && d.rooms
                        .iter()
                        .all(|r| r.state == DeploymentRoomState::Ready);
                let local: Vec<(bool, usize, bool)> = agents
                    .iter()
                    .map(|a| {
                        let warm = a
                            .agent
                            .pool
                            .slots()
                            .iter()
                            .filter(|s| s.state == InstanceState::Warm && s.session_id.is_none())
                            .count();
                        (
                            a.agent.packages.get(&sha).is_some(),
                            warm,
                            a.agent.link().is_up(),
                        )
                    })
                    .collect();
                let local_ok = local
                    .iter()
                    .all(|&(pkg, warm, up)| pkg && up && warm >= slots as usize);
                let online = self.serials.iter().all(|s| {
                    boards.iter().any(|b| {
                        &b.serial == s
                            && b.agent_state == AgentState::Online
                            && b.last_seen_at.is_some_and(|t| t >= since)
                    })
                });
                last = format!(
                    "deployment {:?}; agents (package, warm, link up) {local:?}; boards {:?}",
                    d.rooms.iter().map(|r| r.state).collect::<Vec<_>>(),
                    boards
                        .iter()
                        .map(|b| (&b.serial, b.agent_state))
                        .collect::<Vec<_>>()
                );
                Ok(deployed && local_ok && online)
            },
        )
        .await;
        r.with_context(|| format!("last seen: {last}"))
    }

    /// A new try-play link for `game_id` (as the tenant whose token is given).
    async fn link(
        &self,
        token: &str,
        game_id: &str,
        trial_seconds: u32,
        campaign: Option<&str>,
    ) -> Result<Link> {
        self.api
            .post(
                "/v1/links",
                token,
                &CreateLink {
                    game_id: game_id.into(),
                    trial_seconds: Some(trial_seconds),
                    expires_at: None,
                    max_plays: None,
                    campaign: campaign.map(str::to_owned),
                    cta: None,
                    connect_deadline_seconds: None,
                    embed_origins: vec![],
                },
            )
            .await
    }
}

/// Whether the controller's SQLite database already exists (a data directory being reused).
fn has_database(c: &array_controller::config::Config) -> bool {
    c.database_url
        .strip_prefix("sqlite://")
        .or_else(|| c.database_url.strip_prefix("sqlite:"))
        .map(|p| p.split('?').next().unwrap_or(p))
        .is_some_and(|p| Path::new(p).exists())
}
