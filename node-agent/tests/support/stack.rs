//! A whole platform for end-to-end tests: a real controller (in-process, on SQLite unless the
//! options name PostgreSQL), an operator's region and room whose shared volume is the
//! controller's package store, a tenant with `tapper-v1.apk` uploaded, published and deployed,
//! the real agent (process or docker driver, warm instances of a small spec) enrolled and
//! synced, an order and a try-play link.
//!
//! Include it next to the controller's test support:
//! `use playrack_test_support as ctl;` and `#[path = "support/stack.rs"] mod stack;`.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use array_controller::play::identity::Held;
use node_agent::agent::{Agent, RunningAgent};
use node_agent::config::{Config, RuntimeKind};
use node_agent::runtime::InstanceSpec;
use playrack_wire::agent::InstanceState;
use playrack_wire::api::*;
use reqwest::{Method, StatusCode};

use crate::ctl::{self, Ctl};
use crate::support::{AdbGuard, virtual_device, wait_until};

/// What the stack is built with.
pub struct Options {
    pub runtime: RuntimeKind,
    /// Instances of the `hd-60` spec the board offers and keeps warm.
    pub slots: u32,
    /// What `hd-60` is on this board: `WxH@FPS` (default 360x640@30, so a debug-built encoder
    /// keeps up).
    pub spec: &'static str,
    /// The virtual device binary (default: the debug build, brought up to date).
    pub virtual_device: Option<std::path::PathBuf>,
    /// Adjusts the agent's configuration before it starts (e.g. the docker image).
    pub tweak: Box<dyn FnOnce(&mut Config)>,
    /// The board's serial (also the label the docker driver finds its containers by).
    pub serial: String,
    /// The controller's database: `sqlite` or `postgres` (see the controller's test support).
    pub backend: &'static str,
    /// Adjusts the controller's configuration before it starts.
    pub controller: fn(&mut array_controller::config::Config),
    /// TLS across the network: the controller serves HTTPS (the agent dials `wss://`) and the
    /// agent's signaling is `wss://`, both with certificates from a CA made for the test
    /// ([`Stack::ca`]), which the agent is told to trust.
    pub tls: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            runtime: RuntimeKind::Process,
            slots: 1,
            spec: "360x640@30",
            virtual_device: None,
            tweak: Box::new(|_| {}),
            serial: "RK-E2E-0001".into(),
            backend: "sqlite",
            controller: |_| {},
            tls: false,
        }
    }
}

/// One stack at a time per test binary: each runs a controller, an agent and Android
/// instances that encode video, which is all two cores can carry with room to spare.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub struct Stack {
    /// The controller's side (the stack derefs to it: `st.ctl`, `st.link`, `st.acquire(i)`).
    pub world: World,
    pub agent: RunningAgent,
    pub board_id: String,
    _adb_guard: AdbGuard,
    _dir: tempfile::TempDir,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl std::ops::Deref for Stack {
    type Target = World;
    fn deref(&self) -> &World {
        &self.world
    }
}

impl std::ops::DerefMut for Stack {
    fn deref_mut(&mut self) -> &mut World {
        &mut self.world
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Builds the stack (see the module doc) and waits until it can play.
pub async fn stack(opts: Options) -> Stack {
    crate::support::init_logs();
    let turn = ONE_AT_A_TIME.lock().await;
    let world = world(opts.backend, opts.tls, opts.controller).await;
    let World {
        ctl,
        region,
        tenant,
        tenant_token: t,
        version: v,
        ca,
        ..
    } = &world;
    let store = ctl.config.package_store.clone();
    let sha = v.sha256.clone().expect("a READY version has its hash");

    // The real agent: warm instances of a small spec (so the debug-built encoder keeps up),
    // the package store as a plain-path shared volume, every port picked by the system.
    let dir = tempfile::tempdir().unwrap();
    let jar = dir.path().join("scrcpy-server.jar");
    std::fs::write(&jar, b"PK\x03\x04 the injector").unwrap();
    let mut config = Config::with_data_dir(dir.path().join("agent"));
    config.controller_url = ctl.url.clone();
    config.enrolment_token = Some(world.token.clone());
    config.serial = opts.serial.clone();
    config.model = "RK3588".into();
    config.capacity = BTreeMap::from([("hd-60".to_owned(), opts.slots)]);
    let spec = InstanceSpec::parse(&format!("hd-60={}", opts.spec)).unwrap();
    config.specs = BTreeMap::from([(spec.id.clone(), spec)]);
    config.warm = BTreeMap::from([("hd-60".to_owned(), opts.slots)]);
    config.runtime = opts.runtime;
    config.virtual_device = opts.virtual_device.clone().unwrap_or_else(virtual_device);
    config.adb_port = free_port();
    config.injector_jar = Some(jar);
    config.shared_volume = store.to_string_lossy().into_owned();
    config.listen_address = std::net::Ipv4Addr::LOCALHOST.into();
    config.webrtc_port = 0;
    config.http_port = 0;
    if let Some(ca) = &ca {
        config.controller_ca = Some(ca.ca_file.clone());
        let f = ca.loopback_files("agent");
        config.tls = Some((f.cert, f.key));
    }
    (opts.tweak)(&mut config);
    let agent = Agent::start(config).await.unwrap();
    let adb_guard = AdbGuard(agent.agent.adb.clone());
    let board_id = agent.agent.credential.board_id.clone();
    let a = agent.agent.clone();
    assert!(
        wait_until(Duration::from_secs(90), async || {
            let d: Deployment = ctl
                .get(&format!("/v1/versions/{}/deployment", v.id), t)
                .await;
            let boards: Page<Board> = ctl.get("/v1/boards", &ctl.op).await;
            a.packages.get(&sha).is_some()
                && d.rooms
                    .iter()
                    .all(|r| r.state == DeploymentRoomState::Ready)
                && boards.items.iter().any(|b| {
                    b.id == board_id
                        && b.agent_state == AgentState::Online
                        && b.telemetry
                            .as_ref()
                            .is_some_and(|t| t.instances_warm == opts.slots)
                })
        })
        .await,
        "package synced, deployment ready, board online with its warm instances"
    );
    ctl.order(&tenant.id, &region.id, opts.slots).await;
    Stack {
        world,
        agent,
        board_id,
        _adb_guard: adb_guard,
        _dir: dir,
        _turn: turn,
    }
}

/// The controller's side of a stack: the region `east`, its room `r1` (the package store as
/// its shared volume, no heat limit), an enrolment token for it, and the tenant `Acme` with
/// `tapper-v1.apk` published and deployed there, and a try-play link of it.
pub struct World {
    pub ctl: Ctl,
    pub region: Region,
    pub room: Room,
    pub token: String,
    pub tenant: Tenant,
    pub tenant_token: String,
    pub game: Game,
    pub version: Version,
    /// A try-play link of the game (no order yet: the caller sizes it).
    pub link: Link,
    pub ca: Option<ctl::tls::TestCa>,
}

/// Starts a controller on `backend` (over TLS with a test CA when `tls`) and builds the
/// [`World`] on it.
pub async fn world(
    backend: &'static str,
    tls: bool,
    controller: impl FnOnce(&mut array_controller::config::Config),
) -> World {
    // A fixed port, so a restarted controller is where the agent looks for it.
    let port = free_port();
    let ca = tls.then(|| ctl::tls::TestCa::new("Playrack test CA"));
    let ctl = Ctl::start_with(backend, |c| {
        c.listen = format!("127.0.0.1:{port}").parse().unwrap();
        c.tls = ca.as_ref().map(|ca| ca.loopback_files("controller"));
        controller(c);
    })
    .await;
    let store = ctl.config.package_store.clone();
    ctl.specs().await;
    let region = ctl.region("east").await;
    let room = ctl
        .room_at(&region.id, "r1", &store.to_string_lossy())
        .await;
    // The board's telemetry is this machine's, shared with the build and other tests: its CPU
    // load must not hold plays back (the room's heat limit is tested on its own).
    let room: Room = ctl
        .ok(
            Method::PATCH,
            &format!("/v1/rooms/{}", room.id),
            &ctl.op,
            Some(&UpdateRoom {
                max_cpu_percent: Some(100),
                ..Default::default()
            }),
            StatusCode::OK,
        )
        .await;
    let token = ctl.enrolment_token(&room.id).await;
    let (tenant, t) = ctl.tenant("Acme").await;
    let game = ctl.game(&t, "tapper").await;
    let version = ctl
        .published(&t, &game.id, &ctl::fixture("tapper-v1.apk"))
        .await;
    ctl.deploy(&t, &version.id, &[&room.id]).await;
    let link = ctl.link(&t, &game.id, Some(600)).await;
    World {
        ctl,
        region,
        room,
        token,
        tenant,
        tenant_token: t,
        game,
        version,
        link,
        ca,
    }
}

impl World {
    /// The play key the controller handed the holder of a ticket or session.
    pub async fn key(&self, held: Held<'_>) -> String {
        array_controller::play::lifecycle::play_key(self.ctl.state(), held)
            .await
            .expect("the signing key")
    }

    /// Anonymous player `i` acquires through the link; returns the session id.
    pub async fn acquire(&self, i: usize) -> String {
        let req = AcquireRequest {
            link: Some(self.link.code.clone()),
            device_id: Some(ctl::device(i)),
            ..Default::default()
        };
        match ctl::acquire(&self.ctl, &req, None).await {
            AcquireResponse::Assigned { session_id, .. } => session_id,
            // The board's instance is still on its way back from the last play: wait in line,
            // as a player's SDK does, until the promotion is claimed.
            AcquireResponse::Queued { ticket_id, .. } => self.claimed(&ticket_id).await,
        }
    }

    /// Follows a queue ticket (as a player's SDK does) until its promotion is claimed; the
    /// session id.
    pub async fn claimed(&self, ticket_id: &str) -> String {
        let mut session = None;
        assert!(
            wait_until(Duration::from_secs(60), async || {
                let t: Ticket = self
                    .ctl
                    .ok::<(), _>(
                        Method::GET,
                        &format!("/v1/play/tickets/{ticket_id}"),
                        &self.key(Held::Ticket(ticket_id)).await,
                        None,
                        StatusCode::OK,
                    )
                    .await;
                session = t.session_id.filter(|_| t.state == TicketState::Claimed);
                session.is_some()
            })
            .await,
            "the queued play was promoted"
        );
        session.expect("claimed")
    }

    /// The player's view of a session.
    pub async fn session(&self, id: &str) -> PlaySession {
        self.ctl
            .ok::<(), _>(
                Method::GET,
                &format!("/v1/play/sessions/{id}"),
                &self.key(Held::Session(id)).await,
                None,
                StatusCode::OK,
            )
            .await
    }

    /// Waits until the session is ready (or playing) and returns its connect info.
    pub async fn connect_info(&self, id: &str) -> ConnectInfo {
        let mut info = None;
        assert!(
            wait_until(Duration::from_secs(60), async || {
                let s = self.session(id).await;
                if matches!(s.session.state, SessionState::Ready | SessionState::Playing) {
                    info = s.connect;
                }
                info.is_some()
            })
            .await,
            "the session never became ready: {:?}",
            self.session(id).await
        );
        info.unwrap()
    }

    /// The player leaves.
    pub async fn leave(&self, id: &str) {
        let _: Session = self
            .ctl
            .ok::<(), _>(
                Method::DELETE,
                &format!("/v1/play/sessions/{id}"),
                &self.key(Held::Session(id)).await,
                None,
                StatusCode::OK,
            )
            .await;
    }

    /// The game's archives, as the tenant lists them.
    pub async fn archives(&self) -> Vec<serde_json::Value> {
        let page: serde_json::Value = self
            .ctl
            .get(
                &format!("/v1/archives?game_id={}", self.game.id),
                &self.tenant_token,
            )
            .await;
        page["items"].as_array().cloned().unwrap_or_default()
    }
}

impl Stack {
    /// Whether the agent runs no play and every instance is back in the warm pool.
    pub async fn all_recycled(&self) -> bool {
        let agent = &self.agent.agent;
        agent.plays().lock().await.is_empty()
            && agent
                .pool
                .slots()
                .iter()
                .all(|s| s.session_id.is_none() && s.state == InstanceState::Warm)
    }

    pub async fn stop(self) {
        self.agent.stop().await;
        self.world.ctl.stop().await;
    }
}
