//! The agent executing the controller's commands over its real link, against a scripted
//! controller end of the agent channel (a WebSocket server in the test): the package is synced
//! with progress reports and a result; a repeated command id is answered with the same result
//! without running again; a shell command streams its output and exit code; the agent's own
//! log comes back (as the binary writes it: JSON lines) for a `tail_log`; a prepare for a
//! package the board does not have fails with a reason, and draining refuses new plays.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use node_agent::agent::Agent;
use node_agent::config::{Config, RuntimeKind};
use node_agent::packages::default_source;
use node_agent::runtime::InstanceSpec;
use playrack_wire::agent::*;
use playrack_wire::api::{DeploymentRoomState, Spec};
use sha2::{Digest, Sha256};
use support::virtual_device;
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

async fn recv(ws: &mut Ws) -> AgentMessage {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(60), ws.next())
            .await
            .expect("a message in time")
            .expect("open")
            .unwrap();
        if let Message::Text(t) = frame {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

/// The next message that is not a heartbeat or an instance report.
async fn recv_event(ws: &mut Ws) -> AgentMessage {
    loop {
        match recv(ws).await {
            AgentMessage::Heartbeat { .. } | AgentMessage::Instance { .. } => continue,
            m => return m,
        }
    }
}

async fn send(ws: &mut Ws, m: &ControllerMessage) {
    ws.send(Message::Text(serde_json::to_string(m).unwrap().into()))
        .await
        .unwrap();
}

async fn command(ws: &mut Ws, id: &str, command: Command) {
    send(
        ws,
        &ControllerMessage::Command {
            id: id.into(),
            command,
        },
    )
    .await;
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// tungstenite's handshake callback type returns its large error response by value.
#[allow(clippy::result_large_err)]
async fn commands_from_the_controller_run_once_and_report() {
    // The agent's lines kept in memory, as the binary keeps them (its stdout is left out here).
    {
        use tracing_subscriber::prelude::*;
        let _ = tracing_subscriber::registry()
            .with(node_agent::logtail::layer())
            .try_init();
    }
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ctl_addr = listener.local_addr().unwrap();

    // An enrolled board: the credential is already in the data directory.
    let data = dir.path().join("agent");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("credential.json"),
        r#"{"board_id":"brd_1","room_id":"room_1","credential":"secret-1"}"#,
    )
    .unwrap();
    let volume = dir.path().join("volume");
    let apk = playrack_test_support::fixtures::apk_bytes("tapper-v1");
    let sha = hex::encode(Sha256::digest(&apk));
    let src = volume.join(default_source(&sha));
    std::fs::create_dir_all(src.parent().unwrap()).unwrap();
    std::fs::write(&src, &apk).unwrap();

    let mut config = Config::with_data_dir(data);
    config.controller_url = format!("http://{ctl_addr}");
    config.serial = "RK-CMD-1".into();
    let spec = InstanceSpec::parse("sd-30=360x640@30").unwrap();
    config.specs = BTreeMap::from([(spec.id.clone(), spec)]);
    config.warm = BTreeMap::from([("sd-30".to_owned(), 1)]);
    config.capacity = BTreeMap::from([("sd-30".to_owned(), 2)]);
    config.runtime = RuntimeKind::Process;
    config.virtual_device = virtual_device();
    config.adb_port = free_port();
    // No shared volume of its own: the controller's command names the room's.
    config.shared_volume = String::new();
    let jar = dir.path().join("scrcpy-server.jar");
    std::fs::write(&jar, b"PK").unwrap();
    config.injector_jar = Some(jar);
    let running = Agent::start(config).await.unwrap();
    let _adb_guard = support::AdbGuard(running.agent.adb.clone());

    // The agent dials in with its credential and says hello.
    let (tcp, _) = tokio::time::timeout(Duration::from_secs(30), listener.accept())
        .await
        .unwrap()
        .unwrap();
    let mut auth = None;
    let mut ws = tokio_tungstenite::accept_hdr_async(
        tcp,
        |req: &tokio_tungstenite::tungstenite::handshake::server::Request, resp| {
            assert_eq!(req.uri().path(), "/v1/agents/connect");
            auth = req
                .headers()
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_owned());
            Ok(resp)
        },
    )
    .await
    .unwrap();
    assert_eq!(auth.as_deref(), Some("Bearer secret-1"));
    match recv(&mut ws).await {
        AgentMessage::Hello {
            board_id, protocol, ..
        } => {
            assert_eq!(board_id, "brd_1");
            assert_eq!(protocol, AGENT_PROTOCOL_VERSION);
        }
        other => panic!("expected hello, got {other:?}"),
    }
    send(
        &mut ws,
        &ControllerMessage::Welcome {
            heartbeat_secs: 1,
            lease_secs: 3,
        },
    )
    .await;
    assert!(matches!(
        recv(&mut ws).await,
        AgentMessage::Heartbeat { .. }
    ));

    // sync_package: syncing → ready, then the result.
    let sync = Command::SyncPackage {
        sha256: sha.clone(),
        size_bytes: apk.len() as u64,
        source: String::new(),
        volume: Some(volume.to_string_lossy().into_owned()),
    };
    command(&mut ws, "c1", sync.clone()).await;
    let mut states = Vec::new();
    let result = loop {
        match recv_event(&mut ws).await {
            AgentMessage::Deployment {
                sha256,
                state,
                progress_percent,
                ..
            } => {
                assert_eq!(sha256, sha);
                states.push((state, progress_percent));
            }
            m @ AgentMessage::Result { .. } => break m,
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(states.first(), Some(&(DeploymentRoomState::Syncing, 0)));
    assert_eq!(states.last(), Some(&(DeploymentRoomState::Ready, 100)));
    let ok = AgentMessage::Result {
        command_id: "c1".into(),
        ok: true,
        error: None,
    };
    assert_eq!(result, ok);
    assert!(running.agent.packages.get(&sha).is_some());
    // The same id again: the same result, and nothing runs (no deployment report).
    command(&mut ws, "c1", sync).await;
    assert_eq!(recv_event(&mut ws).await, ok);

    // shell on the warm instance: output, exit code, result.
    let warm_slot = || {
        running
            .agent
            .pool
            .slots()
            .into_iter()
            .find(|s| s.state == InstanceState::Warm)
    };
    assert!(
        support::wait_until(Duration::from_secs(60), async || warm_slot().is_some()).await,
        "no warm instance: {:?}",
        running.agent.pool.slots()
    );
    let warm = warm_slot().expect("warm above");
    command(
        &mut ws,
        "c2",
        Command::Shell {
            instance_id: warm.id.clone(),
            command: "getprop ro.serialno".into(),
            timeout_secs: 30,
        },
    )
    .await;
    let mut out = String::new();
    loop {
        match recv_event(&mut ws).await {
            AgentMessage::ShellOutput {
                command_id,
                data,
                exit_code,
                ..
            } => {
                assert_eq!(command_id, "c2");
                out.push_str(&data);
                if let Some(code) = exit_code {
                    assert_eq!(code, 0);
                    break;
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(out.trim(), warm.id);
    assert!(
        matches!(recv_event(&mut ws).await, AgentMessage::Result { ok: true, command_id, .. } if command_id == "c2")
    );

    // Output streams while the command runs: the first line arrives on its own, before the
    // second is even printed; stderr is kept apart; the exit code comes last.
    command(
        &mut ws,
        "c2b",
        Command::Shell {
            instance_id: warm.id.clone(),
            command: "echo first; sleep 1; echo second; cat /nonexistent; false".into(),
            timeout_secs: 30,
        },
    )
    .await;
    let mut chunks = Vec::new();
    let code = loop {
        match recv_event(&mut ws).await {
            AgentMessage::ShellOutput {
                command_id,
                stream,
                data,
                exit_code,
            } => {
                assert_eq!(command_id, "c2b");
                if let Some(code) = exit_code {
                    break code;
                }
                chunks.push((stream, data));
            }
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_ne!(code, 0);
    let stdout: Vec<&str> = chunks
        .iter()
        .filter(|c| c.0 == OutputStream::Stdout)
        .map(|c| c.1.as_str())
        .collect();
    assert_eq!(
        stdout.first().map(|s| s.trim()),
        Some("first"),
        "{chunks:?}"
    );
    assert_eq!(stdout.concat(), "first\nsecond\n");
    assert!(
        chunks
            .iter()
            .any(|c| c.0 == OutputStream::Stderr && c.1.contains("nonexistent")),
        "{chunks:?}"
    );
    assert!(matches!(
        recv_event(&mut ws).await,
        AgentMessage::Result { ok: true, .. }
    ));

    // The agent's own log: the last lines, JSON as written, a line logged just now among them.
    tracing::info!(target: "node_agent::test", probe = "tail-log-marker", "a line for the log tail");
    tracing::info!(target: "commands", probe = "not-the-agent", "someone else's line");
    command(&mut ws, "c2c", Command::TailLog { lines: 50 }).await;
    let mut text = String::new();
    let code = loop {
        match recv_event(&mut ws).await {
            AgentMessage::ShellOutput {
                command_id,
                data,
                exit_code,
                ..
            } => {
                assert_eq!(command_id, "c2c");
                text.push_str(&data);
                if let Some(code) = exit_code {
                    break code;
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(code, 0);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    assert!(!lines.is_empty() && lines.len() <= 50, "{}", lines.len());
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["probe"] == "tail-log-marker" && l["level"] == "INFO"),
        "{text}"
    );
    assert!(
        lines.iter().all(|l| l["target"]
            .as_str()
            .is_some_and(|t| t.starts_with("node_agent"))),
        "only the agent's lines: {text}"
    );
    assert!(matches!(
        recv_event(&mut ws).await,
        AgentMessage::Result { ok: true, .. }
    ));

    // A prepare for a package the board does not have fails, with the session ended.
    let spec = Spec {
        id: "sd-30".into(),
        name: "SD".into(),
        width: 360,
        height: 640,
        fps: 30,
        bitrate_min_kbps: 1000,
        bitrate_max_kbps: 2000,
        cpu_millis: 0,
        memory_mb: 0,
        price_per_minute_micros: 0,
    };
    let prepare = |sha: &str| Command::PrepareSession {
        version_id: None,
        session_id: "ses_1".into(),
        package_sha256: sha.into(),
        package_name: "com.example.nothere".into(),
        launch_activity: None,
        spec: Box::new(spec.clone()),
        archive: None,
        idle_kick_secs: None,
    };
    command(&mut ws, "c3", prepare(&"1".repeat(64))).await;
    match recv_event(&mut ws).await {
        AgentMessage::Result {
            command_id,
            ok: false,
            error: Some(e),
        } => {
            assert_eq!(command_id, "c3");
            assert!(e.contains("not in the board's cache"), "{e}");
        }
        other => panic!("unexpected {other:?}"),
    }
    // Draining refuses new plays.
    command(
        &mut ws,
        "c4",
        Command::Drain {
            draining: true,
            notice: None,
        },
    )
    .await;
    assert!(matches!(
        recv_event(&mut ws).await,
        AgentMessage::Result { ok: true, .. }
    ));
    assert!(running.agent.is_draining());
    command(&mut ws, "c5", prepare(&sha)).await;
    match recv_event(&mut ws).await {
        AgentMessage::Result {
            ok: false,
            error: Some(e),
            ..
        } => assert!(e.contains("draining"), "{e}"),
        other => panic!("unexpected {other:?}"),
    }
    // Ending a session the board never prepared succeeds, and the board says it has no such
    // play (so the controller gives back a slot it may still count as held here).
    command(
        &mut ws,
        "c6",
        Command::EndSession {
            session_id: "ses_x".into(),
            reason: "USER_LEFT".into(),
            save_archive: false,
        },
    )
    .await;
    match recv_event(&mut ws).await {
        AgentMessage::Session {
            session_id,
            state: AgentSessionState::Ended,
            reason,
            ..
        } => assert_eq!(
            (session_id.as_str(), reason.as_deref()),
            ("ses_x", Some("USER_LEFT"))
        ),
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(
        recv_event(&mut ws).await,
        AgentMessage::Result { ok: true, .. }
    ));

    running.stop().await;
}
