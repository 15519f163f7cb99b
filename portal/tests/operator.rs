//! The operator console against a real controller, both in-process, over real HTTP on loopback:
//! the topology tree and the board heat map (a board enrolled and heartbeating through the
//! agent channel, another created with a hostile serial), drain / undrain through the console's
//! `/api` call (the agent is told, the audit log page shows it), the audited shell, a live play
//! with its spectator pass, tenants / orders / specs / live plays pages, and tenants kept out.

#[path = "support/browser.rs"]
mod browser;
#[allow(unused_imports)]
use playrack_test_support as ctl;

use browser::{Browser, attr_after};
use ctl::agent::{self, TestAgent};
use ctl::{Ctl, PASSWORD};
use playrack_wire::agent::{
    AgentMessage, AgentSessionState, Command, EnrolmentToken, OutputStream,
};
use playrack_wire::api::*;
use portal::{Config, Portal, Running};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// A controller with the standard specs, and a portal in front of it.
struct Env {
    ctl: Ctl,
    portal: Running,
    _sdk: tempfile::TempDir,
}

async fn bare_env() -> Env {
    let ctl = Ctl::start("sqlite").await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("playrack.js"),
        "export function createPlayer() { return {}; }\n",
    )
    .unwrap();
    let mut config = Config::local(ctl.url.clone());
    config.sdk_dir = dir.path().to_owned();
    let portal = Portal::start(config).await.expect("portal starts");
    Env {
        ctl,
        portal,
        _sdk: dir,
    }
}

async fn env() -> Env {
    let env = bare_env().await;
    env.ctl.specs().await;
    env
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

    /// A browser signed in as the controller's operator admin.
    async fn operator(&self) -> Browser {
        let b = self.browser();
        let resp = b.sign_in(ctl::ROOT_EMAIL, PASSWORD).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(resp.headers()["location"], "/operator");
        b
    }

    async fn stop(self) {
        self.portal.stop().await;
        self.ctl.stop().await;
    }
}

const HOSTILE_SERIAL: &str = "RK-<script>alert(1)</script>";

/// Topology: region `east` → room `r1` → array `a1` with a board of a hostile serial (never
/// connected), and a board enrolled with the room's token (it lands in the room's `enrolled`
/// array), connected and heartbeating at 35% CPU with one instance running.
struct Topo {
    region: Region,
    room: Room,
    array: Array,
    hostile: Board,
    agent: TestAgent,
    ws: agent::Socket,
}

async fn topology(env: &Env) -> Topo {
    let ctl = &env.ctl;
    let region = ctl.region("east").await;
    let room = ctl.room(&region.id, "r1").await;
    let array = ctl.array(&room.id, "a1").await;
    let hostile = ctl.board(&array.id, HOSTILE_SERIAL).await;
    let token: EnrolmentToken = ctl
        .ok::<(), _>(
            Method::POST,
            &format!("/v1/rooms/{}/enrolment-token", room.id),
            &ctl.op,
            None,
            StatusCode::CREATED,
        )
        .await;
    let agent = TestAgent::enrol(&ctl.http, &ctl.url, &token.token, "RK-0001").await;
    let (mut ws, _) = agent.connect(vec![]).await;
    agent::send(
        &mut ws,
        &AgentMessage::Heartbeat {
            // two instances up: one in play, one warm and idle
            telemetry: playrack_wire::agent::Telemetry {
                instances_running: 2,
                instances_warm: 1,
                ..agent::telemetry(35.0)
            },
        },
    )
    .await;
    let id = agent.board_id.clone();
    ctl::wait_for(
        "the enrolled board to be online with telemetry",
        Duration::from_secs(10),
        || async {
            let b: Board = ctl.get(&format!("/v1/boards/{id}"), &ctl.op).await;
            b.agent_state == AgentState::Online && b.telemetry.is_some()
        },
    )
    .await;
    Topo {
        region,
        room,
        array,
        hostile,
        agent,
        ws,
    }
}

async fn board(env: &Env, id: &str) -> Board {
    env.ctl.get(&format!("/v1/boards/{id}"), &env.ctl.op).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_see_the_topology_tree_and_a_board_heat_map() {
    let env = env().await;
    let t = topology(&env).await;
    let enrolled = board(&env, &t.agent.board_id).await;
    let op = env.operator().await;

    // The tree: region → room → arrays (both) → boards, each linked.
    let html = op.ok_page("/operator").await;
    assert!(html.contains("data-testid=\"topology-tree\""), "{html}");
    assert!(html.contains(&format!("id=\"region-{}\"", t.region.id)));
    assert!(html.contains(&format!("id=\"room-{}\"", t.room.id)));
    assert!(html.contains(&format!("href=\"/operator/arrays/{}\"", t.array.id)));
    assert!(html.contains(&format!("href=\"/operator/arrays/{}\"", enrolled.array_id)));
    assert!(html.contains(&format!("href=\"/operator/boards/{}\"", enrolled.id)));
    assert!(html.contains(">enrolled</a>"), "{html}");
    assert!(html.contains("2 boards · 1 online"), "{html}");
    // The operator's navigation and stylesheet, not the tenant's.
    assert!(html.contains("data-testid=\"nav-op-audit\""));
    assert!(!html.contains("data-testid=\"nav-games\""));
    assert!(html.contains("/assets/operator/operator.css"));
    assert!(html.contains("aria-current=\"page\">Topology"));

    // Hostile data is escaped everywhere it shows.
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(html.contains("RK-&lt;script&gt;alert(1)&lt;/script&gt;"));

    // The enrolled array's grid: one online cell with its numbers in text, heat from the
    // larger of slots busy (1 of 2) and CPU (35%), and a legend.
    let html = op
        .ok_page(&format!("/operator/arrays/{}", enrolled.array_id))
        .await;
    assert!(html.contains("data-testid=\"board-grid\""), "{html}");
    let cell_at = html.find("data-testid=\"board-cell\"").expect("a cell");
    let cell = &html[html[..cell_at].rfind("<a ").unwrap()..];
    let cell = &cell[..cell.find("</a>").unwrap()];
    assert!(
        cell.contains(&format!("href=\"/operator/boards/{}\"", enrolled.id)),
        "{cell}"
    );
    assert!(cell.contains("agent-online"), "{cell}");
    assert!(cell.contains("heat-2"), "{cell}");
    assert!(cell.contains(">RK-0001<"), "{cell}");
    assert!(cell.contains(">online<"), "{cell}");
    assert!(cell.contains("1/2 busy"), "{cell}");
    assert!(cell.contains("CPU 35%"), "{cell}");
    assert!(html.contains("data-testid=\"grid-legend\""));
    assert!(html.contains("1 of 2 slots busy"), "{html}");

    // The other array: the hostile board, offline, escaped.
    let html = op
        .ok_page(&format!("/operator/arrays/{}", t.array.id))
        .await;
    assert!(html.contains("agent-offline"), "{html}");
    assert!(html.contains("heat-none"));
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(html.contains("RK-&lt;script&gt;alert(1)&lt;/script&gt;"));

    // Board pages: the hostile one escaped too; the live one with telemetry and its charts.
    let html = op
        .ok_page(&format!("/operator/boards/{}", t.hostile.id))
        .await;
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(html.contains("data-testid=\"shell-offline\""), "{html}");
    let html = op
        .ok_page(&format!("/operator/boards/{}", enrolled.id))
        .await;
    assert!(
        html.contains(&format!(
            "data-board-telemetry=\"/api/boards/{}\"",
            enrolled.id
        )),
        "{html}"
    );
    assert!(html.contains("data-chart=\"cpu\""));
    assert!(html.contains("data-chart=\"temp\""));
    assert!(html.contains("1024 of 8192 MB"));
    assert!(html.contains("45 °C"));
    assert!(html.contains("data-testid=\"drain-board\""));
    assert!(html.contains("data-testid=\"shell-form\""));
    assert!(html.contains("src=\"/assets/operator/operator-board.js\""));
    // What the page's script polls answers through the proxy.
    let b = op
        .api(
            Method::GET,
            &format!("/api/boards/{}", enrolled.id),
            None,
            None,
        )
        .await;
    assert_eq!(b.status(), StatusCode::OK);
    let b: Board = b.json().await.unwrap();
    assert_eq!(b.telemetry.unwrap().cpu_percent, 35.0);

    // Unknown ids: friendly not-found pages.
    let (status, html) = op.page("/operator/arrays/arr_nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{html}");
    let (status, _) = op.page("/operator/boards/brd_nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The operator's own assets are served, as scripts and a stylesheet.
    for (name, ctype) in [
        ("operator.css", "text/css; charset=utf-8"),
        ("operator-board.js", "text/javascript; charset=utf-8"),
        ("operator-shell.js", "text/javascript; charset=utf-8"),
        ("spectate.js", "text/javascript; charset=utf-8"),
    ] {
        let r = op
            .send(op.http.get(format!("{}/assets/operator/{name}", op.base)))
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{name}");
        assert_eq!(r.headers()["content-type"], ctype);
    }
    let (status, _) = op.page("/assets/operator/nope.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    drop(t.ws);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_and_undrain_from_the_console_reach_the_board_and_the_audit_log() {
    let env = env().await;
    let mut t = topology(&env).await;
    let id = t.agent.board_id.clone();
    let op = env.operator().await;
    let csrf = op.csrf().await;
    let api = format!("/api/boards/{id}");

    // The page's Drain button: PATCH with the body it carries.
    let html = op.ok_page(&format!("/operator/boards/{id}")).await;
    assert!(
        html.contains(&format!(
            "data-api=\"{api}\" data-method=\"PATCH\" data-body=\"{{&quot;status&quot;:&quot;draining&quot;}}\""
        )),
        "{html}"
    );

    // Without the CSRF token the proxy refuses, and nothing changes.
    let r = op
        .api(
            Method::PATCH,
            &api,
            Some(json!({"status": "draining"})),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(board(&env, &id).await.status, BoardStatus::Active);

    // Drain: the board is draining, its agent is told, the page offers Undrain.
    let b = op
        .api_ok(
            Method::PATCH,
            &api,
            Some(json!({"status": "draining"})),
            &csrf,
            StatusCode::OK,
        )
        .await;
    assert_eq!(b["status"], "draining");
    assert_eq!(board(&env, &id).await.status, BoardStatus::Draining);
    match agent::command(&mut t.ws, |c| matches!(c, Command::Drain { .. })).await {
        Command::Drain { draining, .. } => assert!(draining),
        _ => unreachable!(),
    }
    let html = op.ok_page(&format!("/operator/boards/{id}")).await;
    assert!(html.contains("data-testid=\"undrain-board\""), "{html}");
    assert!(!html.contains("data-testid=\"drain-board\""));
    assert!(html.contains("data-testid=\"board-status\">draining<"));
    let enrolled = board(&env, &id).await;
    let grid = op
        .ok_page(&format!("/operator/arrays/{}", enrolled.array_id))
        .await;
    assert!(grid.contains("status-draining"), "{grid}");
    assert!(grid.contains("online · draining"), "{grid}");

    // Undrain.
    op.api_ok(
        Method::PATCH,
        &api,
        Some(json!({"status": "active"})),
        &csrf,
        StatusCode::OK,
    )
    .await;
    assert_eq!(board(&env, &id).await.status, BoardStatus::Active);
    match agent::command(&mut t.ws, |c| matches!(c, Command::Drain { .. })).await {
        Command::Drain { draining, .. } => assert!(!draining),
        _ => unreachable!(),
    }
    let html = op.ok_page(&format!("/operator/boards/{id}")).await;
    assert!(html.contains("data-testid=\"drain-board\""));

    // The audit log page, filtered on the board, shows both changes by the operator.
    let html = op
        .ok_page(&format!(
            "/operator/audit?object_id={id}&action=board.update"
        ))
        .await;
    assert!(html.contains("data-testid=\"audit\""), "{html}");
    assert_eq!(
        html.matches("data-testid=\"audit-action\"").count(),
        2,
        "{html}"
    );
    assert!(html.contains(">board.update</a>"));
    assert!(
        html.contains("&quot;status&quot;:&quot;draining&quot;"),
        "{html}"
    );
    assert!(
        html.contains("&quot;status&quot;:&quot;active&quot;"),
        "{html}"
    );
    assert!(
        html.contains(&format!("value=\"{id}\"")),
        "the filter is kept"
    );
    // Unfiltered, with paging: the first page links to the next one.
    let html = op.ok_page("/operator/audit").await;
    assert!(html.contains("data-testid=\"audit\""));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shell_runs_through_the_console_and_its_output_is_polled() {
    let env = env().await;
    let mut t = topology(&env).await;
    let id = t.agent.board_id.clone();
    let op = env.operator().await;
    let csrf = op.csrf().await;

    let html = op.ok_page(&format!("/operator/boards/{id}")).await;
    assert!(
        html.contains(&format!("data-shell=\"/api/boards/{id}/shell\"")),
        "{html}"
    );
    assert!(html.contains("src=\"/assets/operator/operator-shell.js\""));

    let run = op
        .api_ok(
            Method::POST,
            &format!("/api/boards/{id}/shell"),
            Some(
                json!({"instance_id": "inst-1", "command": "getprop ro.build", "timeout_secs": 5}),
            ),
            &csrf,
            StatusCode::ACCEPTED,
        )
        .await;
    let run_id = run["id"].as_str().unwrap().to_owned();
    assert_eq!(run["status"], "running");
    // The board gets the command, streams output and finishes.
    let cmd = agent::command(&mut t.ws, |c| matches!(c, Command::Shell { .. })).await;
    let Command::Shell {
        instance_id,
        command,
        timeout_secs,
    } = cmd
    else {
        unreachable!()
    };
    assert_eq!(
        (instance_id.as_str(), command.as_str(), timeout_secs),
        ("inst-1", "getprop ro.build", 5)
    );
    for (data, exit_code) in [("line one\n", None), ("<b>two</b>\n", Some(0))] {
        agent::send(
            &mut t.ws,
            &AgentMessage::ShellOutput {
                command_id: format!("shell-{run_id}"),
                stream: OutputStream::Stdout,
                data: data.into(),
                exit_code,
            },
        )
        .await;
    }
    // What the page's script polls: the run, done, with all its output.
    let path = format!("/api/shell-runs/{run_id}");
    ctl::wait_for(
        "the shell run to finish",
        Duration::from_secs(10),
        || async {
            let r = op.api(Method::GET, &path, None, None).await;
            let v: Value = r.json().await.unwrap();
            v["status"] == "done"
        },
    )
    .await;
    let r: ShellRun = op
        .api(Method::GET, &path, None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r.output, "line one\n<b>two</b>\n");
    assert_eq!(r.exit_code, Some(0));

    // Audited, and the audit page shows the command (escaped).
    let html = op
        .ok_page(&format!(
            "/operator/audit?action=shell.run&object_id={run_id}"
        ))
        .await;
    assert!(html.contains("getprop ro.build"), "{html}");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_play_shows_with_a_spectator_pass_and_in_the_live_plays() {
    let env = bare_env().await;
    let mut w = ctl::world(&env.ctl, 1, 2, 2).await;
    let (sid, board_id) = w.play(&env.ctl, 0).await;
    let op = env.operator().await;
    let csrf = op.csrf().await;

    // The live plays page lists it, grouped under its tenant and game; nobody waits in line.
    let html = op.ok_page("/operator/queue").await;
    assert!(html.contains("data-testid=\"queue-total\">0<"), "{html}");
    assert!(
        html.contains(&format!("href=\"/operator/sessions/{sid}\"")),
        "{html}"
    );
    assert!(html.contains("Acme"), "tenant names are shown: {html}");
    assert!(html.contains("data-testid=\"group-plays\">1<"), "{html}");

    // Its page: the spectator view, kick, and its board's plays link back here.
    let html = op.ok_page(&format!("/operator/sessions/{sid}")).await;
    assert!(
        html.contains(&format!("data-spectate=\"/api/sessions/{sid}/spectate\"")),
        "{html}"
    );
    assert!(html.contains("<video muted autoplay playsinline"));
    assert!(html.contains("src=\"/assets/operator/spectate.js\""));
    assert!(html.contains("data-testid=\"kick-session\""));
    let board_page = op.ok_page(&format!("/operator/boards/{board_id}")).await;
    assert!(board_page.contains(&format!("href=\"/operator/sessions/{sid}\"")));

    // Not streaming yet: the spectate call says so (the page shows it).
    let r = op
        .api(
            Method::POST,
            &format!("/api/sessions/{sid}/spectate"),
            None,
            Some(&csrf),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let p: playrack_wire::Problem = r.json().await.unwrap();
    assert_eq!(p.code, "NOT_STREAMING");

    // The instance is ready: the pass is a spectator token for that board, and it is audited.
    agent::command(&mut w.sockets[0], |c| {
        matches!(c, Command::PrepareSession { .. })
    })
    .await;
    agent::send(
        &mut w.sockets[0],
        &AgentMessage::Session {
            session_id: sid.clone(),
            state: AgentSessionState::Ready,
            reason: None,
            connected: false,
            last_input_at: None,
            stats: None,
            latency_ms: Default::default(),
        },
    )
    .await;
    let ctl = &env.ctl;
    ctl::wait_for(
        "the session to be ready",
        Duration::from_secs(10),
        || async {
            let s: Session = ctl.get(&format!("/v1/sessions/{sid}"), &ctl.op).await;
            s.state == SessionState::Ready
        },
    )
    .await;
    let connect: ConnectInfo = serde_json::from_value(
        op.api_ok(
            Method::POST,
            &format!("/api/sessions/{sid}/spectate"),
            None,
            &csrf,
            StatusCode::OK,
        )
        .await,
    )
    .unwrap();
    assert_eq!(connect.signaling_url, "ws://127.0.0.1:1/signal");
    let claims = playrack_wire::session_token::verify(
        w.agents[0].session_token_key.as_deref().unwrap(),
        &connect.token,
        &board_id,
        array_controller::now().millis() / 1000,
    )
    .unwrap();
    assert_eq!(claims.session, sid);
    assert_eq!(claims.role, playrack_wire::signaling::PeerRole::Spectator);
    let html = op
        .ok_page(&format!(
            "/operator/audit?action=session.spectate&object_id={sid}"
        ))
        .await;
    assert_eq!(
        html.matches("data-testid=\"audit-action\"").count(),
        1,
        "{html}"
    );

    // An ended or unknown play is a friendly not-found.
    let (status, _) = op.page("/operator/sessions/ses_nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_orders_and_specs_are_managed_from_the_console() {
    let env = env().await;
    let region = env.ctl.region("east").await;
    let room = env.ctl.room(&region.id, "r1").await;
    let op = env.operator().await;
    let csrf = op.csrf().await;

    // Tenants: create (as the page's form sends it), suspend, reactivate.
    let html = op.ok_page("/operator/tenants").await;
    assert!(html.contains("data-api=\"/api/tenants\""), "{html}");
    let t = op
        .api_ok(
            Method::POST,
            "/api/tenants",
            Some(json!({"name": "<i>Acme</i>", "priority_tier": 2})),
            &csrf,
            StatusCode::CREATED,
        )
        .await;
    let tid = t["id"].as_str().unwrap().to_owned();
    let html = op.ok_page("/operator/tenants").await;
    assert!(html.contains("&lt;i&gt;Acme&lt;/i&gt;"), "{html}");
    assert!(!html.contains("<i>Acme"));
    assert!(html.contains("data-testid=\"suspend-tenant\""));
    op.api_ok(
        Method::PATCH,
        &format!("/api/tenants/{tid}"),
        Some(json!({"status": "suspended"})),
        &csrf,
        StatusCode::OK,
    )
    .await;
    let html = op.ok_page("/operator/tenants").await;
    assert!(
        html.contains("data-testid=\"tenant-status\">suspended<"),
        "{html}"
    );
    assert!(html.contains("data-testid=\"activate-tenant\""));

    // Specs: the standard ones are listed; a new one is created as the form sends it.
    let html = op.ok_page("/operator/specs").await;
    assert!(html.contains("data-testid=\"spec-id\">hd-60<"), "{html}");
    op.api_ok(
        Method::POST,
        "/api/specs",
        Some(json!({
            "id": "uhd-30", "name": "4K", "width": 2160, "height": 3840, "fps": 30,
            "bitrate_min_kbps": 4000, "bitrate_max_kbps": 16000, "cpu_millis": 4000,
            "memory_mb": 6144, "price_per_minute_micros": 50000
        })),
        &csrf,
        StatusCode::CREATED,
    )
    .await;
    let html = op.ok_page("/operator/specs").await;
    assert!(html.contains("data-testid=\"spec-id\">uhd-30<"), "{html}");
    assert!(html.contains("0.05"));

    // Orders: the form offers tenants, specs, regions and rooms; create for rooms; cancel.
    let html = op.ok_page("/operator/orders").await;
    assert!(html.contains("data-api=\"/api/orders\""), "{html}");
    assert!(html.contains(&format!("data-testid=\"order-room-{}\"", room.id)));
    let now = array_controller::now();
    let o = op
        .api_ok(
            Method::POST,
            "/api/orders",
            Some(json!({
                "tenant_id": tid, "spec_id": "hd-60", "room_ids": [room.id],
                "concurrency": 3, "valid_from": now.plus_secs(-60),
                "valid_until": now.plus_secs(3600), "priority": 0
            })),
            &csrf,
            StatusCode::CREATED,
        )
        .await;
    let oid = o["id"].as_str().unwrap().to_owned();
    let html = op
        .ok_page(&format!("/operator/orders?tenant_id={tid}"))
        .await;
    assert!(html.contains(&oid), "{html}");
    assert!(html.contains("room r1"), "{html}");
    assert!(html.contains("data-testid=\"order-status\">active<"));
    assert!(html.contains("data-testid=\"cancel-order\""));
    op.api_ok(
        Method::PATCH,
        &format!("/api/orders/{oid}"),
        Some(json!({"status": "cancelled"})),
        &csrf,
        StatusCode::OK,
    )
    .await;
    let html = op.ok_page("/operator/orders").await;
    assert!(
        html.contains("data-testid=\"order-status\">cancelled<"),
        "{html}"
    );
    assert!(!html.contains("data-testid=\"cancel-order\""));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_and_signed_out_browsers_cannot_open_operator_pages() {
    let env = env().await;
    let region = env.ctl.region("east").await;
    let room = env.ctl.room(&region.id, "r1").await;
    let array = env.ctl.array(&room.id, "a1").await;
    let b = env.ctl.board(&array.id, "RK-9").await;
    let (tenant, _) = env.ctl.tenant("Acme").await;

    // Signed out: to sign-in, coming back afterwards.
    let anon = env.browser();
    let r = anon
        .send(anon.http.get(format!("{}/operator/audit", anon.base)))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/signin?next=%2Foperator%2Faudit");

    // A tenant admin: 403 on every operator page, with their own console's navigation.
    let tb = env.browser();
    let r = tb
        .sign_in(&format!("admin@{}.test", tenant.id), PASSWORD)
        .await;
    assert_eq!(r.headers()["location"], "/console");
    for path in [
        "/operator".to_owned(),
        format!("/operator/arrays/{}", array.id),
        format!("/operator/boards/{}", b.id),
        "/operator/queue".to_owned(),
        "/operator/sessions/ses_x".to_owned(),
        "/operator/tenants".to_owned(),
        "/operator/orders".to_owned(),
        "/operator/specs".to_owned(),
        "/operator/audit".to_owned(),
        "/operator/bills".to_owned(),
    ] {
        let (status, html) = tb.page(&path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {html}");
        assert!(html.contains("data-testid=\"error\""), "{path}");
        assert!(!html.contains("RK-9"), "{path}: no operator data");
        assert!(!html.contains("nav-op-"), "{path}");
        assert!(html.contains("data-testid=\"nav-games\""), "{path}");
    }
    // And the controller refuses the operator calls the pages' scripts make.
    let html = tb.ok_page("/console/games").await;
    let csrf = attr_after(&html, "name=\"csrf-token\"").unwrap();
    let r = tb
        .api(
            Method::PATCH,
            &format!("/api/boards/{}", b.id),
            Some(json!({"status": "draining"})),
            Some(&csrf),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        board(&env, &b.id).await.status,
        BoardStatus::Active,
        "nothing changed"
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_viewers_read_but_get_no_controls() {
    let env = env().await;
    let region = env.ctl.region("east").await;
    let room = env.ctl.room(&region.id, "r1").await;
    let array = env.ctl.array(&room.id, "a1").await;
    let b = env.ctl.board(&array.id, "RK-9").await;
    let email = "viewer@ops.test";
    let _: Account = env
        .ctl
        .ok(
            Method::POST,
            "/v1/accounts",
            &env.ctl.op,
            Some(&CreateAccount {
                email: email.into(),
                password: PASSWORD.into(),
                role: Role::OperatorViewer,
                tenant_id: None,
            }),
            StatusCode::CREATED,
        )
        .await;
    let v = env.browser();
    let r = v.sign_in(email, PASSWORD).await;
    assert_eq!(r.headers()["location"], "/operator");
    let html = v.ok_page(&format!("/operator/boards/{}", b.id)).await;
    assert!(html.contains("RK-9"));
    assert!(html.contains("data-testid=\"viewer-note\""), "{html}");
    assert!(!html.contains("data-testid=\"drain-board\""));
    assert!(!html.contains("data-testid=\"shell-form\""));
    let html = v.ok_page("/operator/tenants").await;
    assert!(!html.contains("data-api=\"/api/tenants\""));
    let html = v.ok_page("/operator").await;
    assert!(html.contains("data-testid=\"topology-tree\""));
    env.stop().await;
}
