//! The `node-agent` binary as systemd or Docker runs it: configured by environment variables
//! only, it enrols with a real controller, boots its warm instance (a `virtual-device` child)
//! under its own adb server, and on SIGTERM removes its instances, stops its adb server and
//! exits 0 within its bound.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use playrack_test_support::Ctl;
use playrack_wire::api::*;
use support::{free_port, virtual_device, wait_until};

/// The processes whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid …`: the fields after the last `)`.
        let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        let mut fields = after.split_whitespace();
        let (state, ppid) = (fields.next(), fields.next());
        if ppid == Some(&pid.to_string()) && state != Some("Z") {
            out.push(child);
        }
    }
    out
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .is_some_and(|(_, r)| !r.trim_start().starts_with('Z'))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sigterm_the_agent_removes_its_instances_and_stops_its_adb_server() {
    let ctl = Ctl::start("sqlite").await;
    ctl.specs().await;
    let region = ctl.region("east").await;
    let store = ctl.config.package_store.clone();
    let room = ctl
        .room_at(&region.id, "r1", &store.to_string_lossy())
        .await;
    let token = ctl.enrolment_token(&room.id).await;
    let dir = tempfile::tempdir().unwrap();
    let jar = dir.path().join("scrcpy-server.jar");
    std::fs::write(&jar, b"PK\x03\x04 the injector").unwrap();
    let adb_port = free_port();
    let mut agent = Command::new(env!("CARGO_BIN_EXE_node-agent"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PLAYRACK_AGENT_CONTROLLER_URL", &ctl.url)
        .env("PLAYRACK_AGENT_ENROLMENT_TOKEN", &token)
        .env("PLAYRACK_AGENT_SERIAL", "RK-SIGTERM-1")
        .env("PLAYRACK_AGENT_SPEC", "hd-60=360x640@30")
        .env("PLAYRACK_AGENT_CAPACITY", "hd-60=1")
        .env("PLAYRACK_AGENT_WARM", "hd-60=1")
        .env("PLAYRACK_AGENT_RUNTIME", "process")
        .env("PLAYRACK_AGENT_VIRTUAL_DEVICE", virtual_device())
        .env("PLAYRACK_AGENT_INJECTOR_JAR", &jar)
        .env("PLAYRACK_AGENT_DATA_DIR", dir.path().join("agent"))
        .env("PLAYRACK_AGENT_ADB_PORT", adb_port.to_string())
        .env("PLAYRACK_AGENT_WEBRTC_PORT", "0")
        .env("PLAYRACK_AGENT_HTTP_PORT", "0")
        .env("PLAYRACK_AGENT_LISTEN_ADDRESS", "127.0.0.1")
        .env("PLAYRACK_AGENT_SHARED_VOLUME", &store)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the node-agent binary");
    let pid = agent.id();
    // Its JSON log lines, read as they come (a full pipe would stall it).
    let mut stdout = agent.stdout.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut text);
        text
    });

    // Enrolled, online, its warm instance booted: a virtual-device child of the agent.
    let ready = wait_until(Duration::from_secs(90), async || {
        let boards: Page<Board> = ctl.get("/v1/boards", &ctl.op).await;
        boards.items.iter().any(|b| {
            b.serial == "RK-SIGTERM-1"
                && b.agent_state == AgentState::Online
                && b.telemetry.as_ref().is_some_and(|t| t.instances_warm == 1)
        })
    })
    .await;
    assert!(ready, "the agent enrolled and warmed its instance");
    let devices: Vec<u32> = children(pid)
        .into_iter()
        .filter(|c| {
            std::fs::read_to_string(format!("/proc/{c}/comm"))
                .is_ok_and(|n| n.trim() == "virtual-device")
        })
        .collect();
    assert_eq!(devices.len(), 1, "one instance process");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", adb_port)).is_ok(),
        "the agent's adb server listens"
    );

    let stopped = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let out = playrack_test_support::exit_within(
        agent,
        Duration::from_secs(30),
        "the agent after SIGTERM",
    );
    assert_eq!(out.status.code(), Some(0), "a stop is not a failure");
    assert!(stopped.elapsed() < Duration::from_secs(30));
    assert!(devices.iter().all(|d| !alive(*d)), "its instances are gone");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", adb_port)).is_err(),
        "its adb server is stopped"
    );
    let log = log.join().unwrap();
    assert!(log.contains("\"terminated\""), "{log}");
    ctl.stop().await;
}
