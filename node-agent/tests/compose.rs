//! `deploy/compose.yaml` brought up for real with Debian's docker-compose, over TLS
//! (`compose.tls.yaml`, certificates from a CA made for the test), on images built here
//! without pulling (`deploy/docker/build-local-images.sh` from the debug binaries and this
//! machine's PostgreSQL; `compose.local-images.yaml`): PostgreSQL, two controllers sharing it,
//! the portal and two boards running virtual devices. The first operator comes from
//! `array-controller admin create-operator` inside a controller's container; a tenant's APK is
//! uploaded, published and deployed to the room the boards enrol in; a try-play link is
//! acquired and a WebRTC player decodes the stream, with signaling over `wss://` to the board's
//! published port; a board's `/metrics` answers that scrape only with the metrics token. Then
//! everything is taken down with its volumes.
//!
//! The compose file's host ports are fixed (7600, 7601, 7700, 7701, 7702 on 127.0.0.1) and so
//! is its network (172.31.250.0/24): nothing else on the machine may hold them while it runs.
//! Needs a running Docker engine (`scripts/dockerd.sh`) and docker-compose;
//! `PLAYRACK_TEST_DOCKER=off` skips it, loudly.

mod support;

#[allow(unused_imports)]
use playrack_test_support as ctl;
#[path = "support/peer.rs"]
mod peer;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use ctl::{Ctl, PASSWORD, tls::TestCa};
use peer::Peer;
use playrack_wire::api::*;
use playrack_wire::signaling::PeerRole;
use reqwest::{Method, StatusCode};
use support::{wait_until, workspace};

const OPERATOR: &str = "ops@compose.test";
const METRICS_TOKEN: &str = "compose-metrics-token";

/// `docker-compose -p PROJECT -f compose.yaml -f compose.tls.yaml -f compose.local-images.yaml`.
struct Compose {
    project: String,
    env: Vec<(&'static str, String)>,
    images: Vec<String>,
}

impl Compose {
    fn command(&self, args: &[&str]) -> Command {
        let deploy = workspace().join("deploy");
        let mut c = Command::new("docker-compose");
        c.current_dir(&deploy)
            .args(["-p", &self.project])
            .args(["-f", "compose.yaml", "-f", "compose.tls.yaml"])
            .args(["-f", "compose.local-images.yaml"])
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null());
        c
    }

    /// Runs a compose command to its end (within `limit`); panics with its output on failure.
    fn run(&self, args: &[&str], limit: Duration) -> String {
        let child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("docker-compose");
        let out = ctl::exit_within(child, limit, &format!("docker-compose {args:?}"));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if !out.status.success() {
            let logs = self
                .command(&["logs", "--no-color", "--tail", "40"])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            panic!("docker-compose {args:?} failed:\n{text}\nlogs:\n{logs}");
        }
        text
    }

    /// The container of `service`.
    fn container(&self, service: &str) -> String {
        let out = self.command(&["ps", "-q", service]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for Compose {
    fn drop(&mut self) {
        let _ = self
            .command(&[
                "--profile",
                "boards",
                "down",
                "-v",
                "--remove-orphans",
                "-t",
                "5",
            ])
            .output();
        for image in &self.images {
            let _ = Command::new("docker").args(["rmi", "-f", image]).output();
        }
    }
}

fn docker_ok(args: &[&str]) -> bool {
    Command::new(args[0])
        .args(&args[1..])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Makes the CA's directory and files readable by the containers' users.
fn share(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compose_file_runs_the_platform_over_tls_and_a_link_plays_through_it() {
    if std::env::var("PLAYRACK_TEST_DOCKER").as_deref() == Ok("off") {
        eprintln!("warning: PLAYRACK_TEST_DOCKER=off: deploy/compose.yaml is not tested");
        return;
    }
    assert!(
        docker_ok(&["docker", "info"]),
        "no Docker engine answers: run scripts/dockerd.sh (or set PLAYRACK_TEST_DOCKER=off)"
    );
    assert!(
        docker_ok(&["docker-compose", "version"]),
        "docker-compose is missing: apt-get install docker-compose (scripts/install-deps.sh)"
    );

    // Images from the debug binaries, tagged for this run.
    let tag = format!("compose-test-{}", std::process::id());
    let bins = support::virtual_device().parent().unwrap().to_owned();
    support::controller_binary();
    support::portal_binary();
    let node_agent = Path::new(env!("CARGO_BIN_EXE_node-agent"));
    assert_eq!(node_agent.parent().unwrap(), bins, "one target directory");
    let built = Command::new(workspace().join("deploy/docker/build-local-images.sh"))
        .arg(&bins)
        .arg(&tag)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "build-local-images.sh: {}",
        String::from_utf8_lossy(&built.stderr)
    );

    let ca = TestCa::new("Playrack compose test CA");
    ca.server(
        "controller",
        &["controller-1", "controller-2", "localhost", "127.0.0.1"],
    );
    ca.server("portal", &["localhost", "127.0.0.1"]);
    ca.server("board", &["127.0.0.1", "localhost"]);
    let tls_dir = ca.ca_file.parent().unwrap().to_owned();
    share(&tls_dir);

    let secret: String = (0..32)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect();
    let compose = Compose {
        project: format!("playrack-test-{}", std::process::id()),
        env: vec![
            ("PLAYRACK_SECRET_KEY", secret),
            ("PLAYRACK_TAG", tag.clone()),
            ("PLAYRACK_TLS_DIR", tls_dir.to_string_lossy().into_owned()),
            ("PLAYRACK_METRICS_TOKEN", METRICS_TOKEN.into()),
        ],
        images: ["array-controller", "portal", "node-agent"]
            .iter()
            .map(|i| format!("playrack/{i}:{tag}"))
            .chain(["playrack/postgres:15-local".to_owned()])
            .collect(),
    };
    // PostgreSQL, both controllers (healthy over TLS) and the portal.
    compose.run(&["up", "-d"], Duration::from_secs(240));

    let http = reqwest::Client::builder()
        .use_preconfigured_tls((*ca.client_config()).clone())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    for port in [7600, 7601] {
        let url = format!("https://127.0.0.1:{port}/readyz");
        let ready = wait_until(Duration::from_secs(60), async || {
            http.get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status() == StatusCode::OK)
        })
        .await;
        assert!(ready, "{url} never answered");
    }
    // Plain HTTP on the TLS port gets nowhere.
    assert!(
        reqwest::get("http://127.0.0.1:7600/readyz")
            .await
            .map(|r| !r.status().is_success())
            .unwrap_or(true)
    );

    // The first operator, created where the controller runs.
    let controller = compose.container("controller-1");
    let mut create = Command::new("docker")
        .args(["exec", "-i", &controller, "array-controller", "admin"])
        .args(["create-operator", "--email", OPERATOR, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = create.stdin.take().unwrap();
        writeln!(stdin, "{PASSWORD}").unwrap();
    }
    let out = ctl::exit_within(create, Duration::from_secs(60), "create-operator");
    assert!(
        out.status.success(),
        "create-operator: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The operator and a tenant set up the platform through the controllers' HTTPS API.
    let dir = tempfile::tempdir().unwrap();
    let mut ctl = Ctl {
        backend: "postgres",
        running: None,
        url: "https://127.0.0.1:7600".into(),
        http: http.clone(),
        config: array_controller::config::Config::with_data_dir(dir.path().join("unused")),
        dir,
        op: String::new(),
    };
    ctl.op = ctl.login(OPERATOR, PASSWORD).await;
    let region = ctl.region("compose").await;
    let room = ctl.room_at(&region.id, "r1", "/srv/playrack/room").await;
    let _: Room = ctl
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
    let enrolment = ctl.enrolment_token(&room.id).await;
    let (tenant, t) = ctl.tenant("Acme").await;
    let game = ctl.game(&t, "tapper").await;
    let version = ctl
        .published(&t, &game.id, &ctl::fixture("tapper-v1.apk"))
        .await;
    ctl.deploy(&t, &version.id, &[&room.id]).await;

    // The boards enrol (one through each controller), sync the package and warm up.
    let mut boards = Compose {
        env: compose.env.clone(),
        project: compose.project.clone(),
        images: Vec::new(),
    };
    boards.env.push(("PLAYRACK_ENROLMENT_TOKEN", enrolment));
    boards.run(
        &["--profile", "boards", "up", "-d"],
        Duration::from_secs(240),
    );
    let online = wait_until(Duration::from_secs(180), async || {
        let d: Deployment = ctl
            .get(&format!("/v1/versions/{}/deployment", version.id), &t)
            .await;
        let list: Page<Board> = ctl.get("/v1/boards", &ctl.op).await;
        d.rooms
            .iter()
            .all(|r| r.state == DeploymentRoomState::Ready)
            && list.items.len() == 2
            && list.items.iter().all(|b| {
                b.agent_state == AgentState::Online
                    && b.telemetry.as_ref().is_some_and(|t| t.instances_warm >= 1)
            })
    })
    .await;
    let list: Page<Board> = ctl.get("/v1/boards", &ctl.op).await;
    assert!(
        online,
        "both boards online and warm, the deployment ready: {:#?}",
        list.items
    );
    ctl.order(&tenant.id, &region.id, 2).await;
    let link = ctl.link(&t, &game.id, Some(600)).await;

    for port in [7701, 7702] {
        let ready = http
            .get(format!("https://127.0.0.1:{port}/readyz"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            ready.status(),
            StatusCode::OK,
            "board on {port}: its link is up"
        );
    }
    // A board's /metrics, scraped from outside its container: only with the token.
    let scrape = async |token: Option<&str>| {
        let mut r = http.get("https://127.0.0.1:7701/metrics");
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let resp = r.send().await.unwrap();
        (resp.status(), resp.text().await.unwrap())
    };
    let (status, body) = scrape(None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("METRICS_FORBIDDEN"), "{body}");
    let (status, body) = scrape(Some(METRICS_TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("playrack_agent_instances"), "{body}");
    let (status, _) = scrape(Some("wrong")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The portal serves the link's page over HTTPS.
    let page = http
        .get(format!("https://127.0.0.1:7700/play/{}", link.code))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains(&link.code));

    // A player acquires through the link and plays: wss:// signaling, the stream decoded.
    let req = AcquireRequest {
        link: Some(link.code.clone()),
        device_id: Some(ctl::device(1)),
        ..Default::default()
    };
    let AcquireResponse::Assigned {
        session_id,
        play_key,
        ..
    } = ctl::acquire(&ctl, &req, None).await
    else {
        panic!("two warm boards: the play is assigned at once");
    };
    let mut connect = None;
    let ready = wait_until(Duration::from_secs(90), async || {
        let s: PlaySession = ctl
            .ok::<(), _>(
                Method::GET,
                &format!("/v1/play/sessions/{session_id}"),
                &play_key,
                None,
                StatusCode::OK,
            )
            .await;
        if matches!(s.session.state, SessionState::Ready | SessionState::Playing) {
            connect = s.connect;
        }
        connect.is_some()
    })
    .await;
    assert!(ready, "the session became ready");
    let info = connect.unwrap();
    assert!(
        info.signaling_url.starts_with("wss://127.0.0.1:770"),
        "{}",
        info.signaling_url
    );
    let socket = tokio::net::UdpSocket::bind((std::net::Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let mut p = Peer::connect_trusting(
        &info.signaling_url,
        &info.token,
        PeerRole::Player,
        socket,
        Some(ca.client_config()),
    )
    .await
    .expect("admitted over wss://");
    assert!(
        p.run_until(Duration::from_secs(60), |p| p.decoded >= 30)
            .await,
        "the play streams through the board's published ports: {} frames decoded",
        p.decoded
    );
    drop(p);
    drop(boards);
    drop(compose);
}
