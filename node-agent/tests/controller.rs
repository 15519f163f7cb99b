//! The real link against a real controller (SQLite): the agent enrols with the room's token,
//! keeps the credential, says hello, and the board shows up online with the agent's telemetry
//! (the warm instance counted); when the connection drops the link reconnects by itself, and a
//! restarted agent comes back with the stored credential, no token needed.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use array_controller::config::Config as CtlConfig;
use array_controller::{Running, auth, db};
use node_agent::agent::Agent;
use node_agent::config::{Config, RuntimeKind};
use node_agent::runtime::InstanceSpec;
use playrack_wire::api::*;
use support::{virtual_device, wait_until};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A TCP proxy in front of the controller that can drop every connection at once.
struct Proxy {
    addr: std::net::SocketAddr,
    conns: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    count: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: &str) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let conns = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let upstream = upstream.to_owned();
        let (c2, n2) = (conns.clone(), count.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut down, _)) = listener.accept().await {
                n2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let upstream = upstream.clone();
                c2.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut up) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                    }
                }));
            }
        });
        Proxy {
            addr,
            conns,
            count,
            accept,
        }
    }

    /// Drops every open connection (new ones are still accepted).
    fn cut(&self) {
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    fn connections(&self) -> usize {
        self.count.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

struct Ctl {
    running: Option<Running>,
    url: String,
    http: reqwest::Client,
    op: String,
}

impl Ctl {
    async fn start(dir: &std::path::Path) -> Ctl {
        let mut config = CtlConfig::with_data_dir(dir.join("controller"));
        config.listen = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        config.database_url = array_controller::config::sqlite_url(&dir.join("controller.db"));
        config.agent_heartbeat_secs = 1;
        config.agent_lease_secs = 10;
        let state = array_controller::build_state(config.clone()).await.unwrap();
        sqlx::query("INSERT INTO accounts (id, email, password_hash, role, tenant_id, created_at) VALUES ($1,$2,$3,'operator-admin',NULL,0)")
            .bind(db::new_id("acc"))
            .bind("root@ops.test")
            .bind(auth::hash_password("correct-horse-battery"))
            .execute(&state.db.pool)
            .await
            .unwrap();
        let running = array_controller::serve(state).await.unwrap();
        let url = running.url();
        let http = reqwest::Client::new();
        let login: LoginResponse = http
            .post(format!("{url}/v1/auth/login"))
            .json(&LoginRequest {
                email: "root@ops.test".into(),
                password: "correct-horse-battery".into(),
            })
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Ctl {
            running: Some(running),
            url,
            http,
            op: login.token,
        }
    }

    async fn post<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: Option<&B>,
    ) -> T {
        let mut req = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.op);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap()
    }

    async fn boards(&self) -> Vec<Board> {
        let page: Page<Board> = self
            .http
            .get(format!("{}/v1/boards", self.url))
            .bearer_auth(&self.op)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        page.items
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_enrols_and_its_board_is_online_with_telemetry() {
    let dir = tempfile::tempdir().unwrap();
    let mut ctl = Ctl::start(dir.path()).await;
    let region: Region = ctl
        .post(
            "/v1/regions",
            Some(&CreateRegion {
                name: "east".into(),
            }),
        )
        .await;
    let room: Room = ctl
        .post(
            "/v1/rooms",
            Some(&CreateRoom {
                region_id: region.id,
                name: "nanjing-1".into(),
                instance_cap: 100,
                shared_volume: "/mnt/packages".into(),
                probe_url: "http://127.0.0.1:1/probe".into(),
                placement: Placement::Spread,
                max_cpu_percent: None,
                max_temperature_c: None,
            }),
        )
        .await;
    let token: playrack_wire::agent::EnrolmentToken = ctl
        .post::<(), _>(&format!("/v1/rooms/{}/enrolment-token", room.id), None)
        .await;

    let agent_dir = dir.path().join("agent");
    let mut config = Config::with_data_dir(agent_dir.clone());
    // The agent reaches the controller through a proxy the test can cut.
    let proxy = Proxy::start(ctl.url.trim_start_matches("http://")).await;
    config.controller_url = format!("http://{}", proxy.addr);
    config.enrolment_token = Some(token.token.clone());
    config.serial = "RK-TEST-0001".into();
    config.model = "RK3588".into();
    config.capacity = BTreeMap::from([("sd-30".to_owned(), 2)]);
    let spec = InstanceSpec::parse("sd-30=360x640@30").unwrap();
    config.specs = BTreeMap::from([(spec.id.clone(), spec)]);
    config.warm = BTreeMap::from([("sd-30".to_owned(), 1)]);
    config.runtime = RuntimeKind::Process;
    config.virtual_device = virtual_device();
    config.adb_port = free_port();
    config.shared_volume = dir.path().join("volume").to_string_lossy().into_owned();
    config.signaling_url = "ws://127.0.0.1:7700/v1/signal".into();
    let running = Agent::start(config.clone()).await.unwrap();
    let _adb_guard = support::AdbGuard(running.agent.adb.clone());
    assert!(
        config.credential_path().exists(),
        "the credential is kept in the data directory"
    );
    let board_id = running.agent.credential.board_id.clone();

    let online_with_warm = async |ctl: &Ctl| {
        ctl.boards().await.iter().any(|b| {
            b.id == board_id
                && b.agent_state == AgentState::Online
                && b.telemetry
                    .as_ref()
                    .is_some_and(|t| t.instances_warm == 1 && t.mem_total_mb > 0)
        })
    };
    assert!(
        wait_until(Duration::from_secs(60), async || online_with_warm(&ctl)
            .await)
        .await,
        "board never online with telemetry: {:?}",
        ctl.boards().await
    );
    let b = ctl
        .boards()
        .await
        .into_iter()
        .find(|b| b.id == board_id)
        .unwrap();
    assert_eq!(b.serial, "RK-TEST-0001");
    assert_eq!(b.model, "RK3588");
    assert_eq!(b.agent_version.as_deref(), Some(node_agent::AGENT_VERSION));
    assert!(running.agent.link().is_up());
    let readyz = reqwest::get(format!("http://{}/readyz", running.agent.http_addr))
        .await
        .unwrap();
    assert_eq!(
        readyz.status(),
        reqwest::StatusCode::OK,
        "ready once the link is up"
    );

    // The connection drops (the proxy cuts it): the link notices and comes back by itself.
    let mut link = running.agent.link().clone();
    proxy.cut();
    tokio::time::timeout(Duration::from_secs(30), link.wait_up(false))
        .await
        .expect("the drop is noticed");
    tokio::time::timeout(Duration::from_secs(30), link.wait_up(true))
        .await
        .expect("the link reconnects");
    assert!(proxy.connections() >= 2, "a second connection was made");
    assert!(
        wait_until(Duration::from_secs(30), async || online_with_warm(&ctl)
            .await)
        .await,
        "board not online after the reconnect"
    );

    // A restarted agent reuses its stored credential: no token, same board.
    running.stop().await;
    let mut again = config.clone();
    again.enrolment_token = None;
    let running = Agent::start(again).await.unwrap();
    assert_eq!(running.agent.credential.board_id, board_id);
    let mut link = running.agent.link().clone();
    tokio::time::timeout(Duration::from_secs(30), link.wait_up(true))
        .await
        .expect("the restarted agent connects");
    running.stop().await;
    assert_eq!(ctl.boards().await.len(), 1);
    if let Some(r) = ctl.running.take() {
        r.stop().await;
    }
}
