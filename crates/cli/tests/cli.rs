//! The `playrack` binary against a real controller (in-process, SQLite, over loopback): sign-in
//! and its kept token, games, a 200 MB APK uploaded with progress — killed part-way and
//! resumed where the controller says it stands — published, deployed while a test board reports
//! its copy, a try-play link with its QR code; `--json` for scripts; exit codes that mean
//! something.

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use playrack_test_support::agent::{self, TestAgent};
use playrack_test_support::{Ctl, PASSWORD};
use playrack_wire::agent::{AgentMessage, Command as AgentCommand};
use playrack_wire::api::*;
use sha2::Digest;

/// Runs `playrack` with its home in `home`, `stdin` piped in; answers (code, stdout, stderr).
fn playrack(home: &Path, args: &[&str], stdin: &str) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_playrack"))
        .args(args)
        .env_clear()
        .env("PLAYRACK_CLI_HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the playrack binary");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out =
        playrack_test_support::exit_within(child, Duration::from_secs(120), &format!("{args:?}"));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the blocking `playrack` off the runtime (the controller under test shares it).
async fn run(home: &Path, args: &[&str], stdin: &str) -> (Option<i32>, String, String) {
    let home = home.to_owned();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let stdin = stdin.to_owned();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        playrack(&home, &args, &stdin)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_signs_in_uploads_resumes_publishes_deploys_and_links() {
    let ctl = Ctl::start("sqlite").await;
    ctl.specs().await;
    let region = ctl.region("east").await;
    let room = ctl.room_at(&region.id, "r1", &ctl.volume("r1")).await;
    let enrolment = ctl.enrolment_token(&room.id).await;
    let (tenant, _) = ctl.tenant("Acme").await;
    let email = format!("admin@{}.test", tenant.id);
    let home = tempfile::tempdir().unwrap();
    let h = home.path();

    // Signed out, every command says how to sign in.
    let (code, _, err) = run(h, &["games", "list"], "").await;
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("playrack login"), "{err}");
    // A wrong password: refused, nothing kept.
    let login = [
        "login",
        "--url",
        &ctl.url,
        "--email",
        &email,
        "--password-stdin",
        "--portal-url",
        "https://play.example",
    ];
    let (code, _, err) = run(h, &login, "wrong-password-123\n").await;
    assert_eq!(code, Some(3), "{err}");
    assert!(!h.join("credentials.json").exists());
    let (code, out, err) = run(h, &login, &format!("{PASSWORD}\n")).await;
    assert_eq!(code, Some(0), "{out} {err}");
    assert!(out.contains("signed in") && out.contains(&email), "{out}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(h.join("credentials.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "the token is readable by its owner only");

    let (code, out, err) = run(
        h,
        &[
            "games", "create", "--slug", "tapper", "--name", "Tapper", "--spec", "hd-60",
        ],
        "",
    )
    .await;
    assert_eq!(code, Some(0), "{out} {err}");
    let (code, out, _) = run(h, &["games", "list", "--json"], "").await;
    assert_eq!(code, Some(0));
    let games: Vec<Game> = serde_json::from_str(&out).expect("--json is the API's JSON");
    assert_eq!(games.len(), 1);
    assert_eq!(games[0].slug, "tapper");
    let (code, out, _) = run(h, &["games", "list"], "").await;
    assert_eq!(code, Some(0));
    assert!(
        out.lines().next().unwrap().starts_with("ID") && out.contains("tapper"),
        "{out}"
    );

    // A 200 MB APK: the first run is killed part-way through the upload...
    let apk = h.join("big.apk");
    let bytes = playrack_test_support::large_apk::with_assets(
        playrack_test_support::fixture("tapper-v1.apk"),
        200,
    );
    std::fs::write(&apk, &bytes).unwrap();
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    let apk_arg = apk.to_str().unwrap().to_owned();
    let home_dir = h.to_owned();
    let killed_at = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_playrack"))
            .args(["versions", "upload", "tapper", &apk_arg])
            .env_clear()
            .env("PLAYRACK_CLI_HOME", &home_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let mut seen = Vec::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            seen.push(line.clone());
            if line.contains("upload 10%") {
                child.kill().unwrap();
                break;
            }
        }
        child.wait().unwrap();
        seen
    })
    .await
    .unwrap();
    assert!(
        killed_at.iter().any(|l| l.contains("upload 0%")),
        "progress from the start: {killed_at:?}"
    );
    let pending: Vec<_> = std::fs::read_dir(h.join("uploads")).unwrap().collect();
    assert_eq!(pending.len(), 1, "the interrupted upload is kept");
    let kept: serde_json::Value =
        serde_json::from_slice(&std::fs::read(pending[0].as_ref().unwrap().path()).unwrap())
            .unwrap();
    let t = ctl.login(&email, PASSWORD).await;
    let offset = ctl
        .head_offset(&t, kept["upload_id"].as_str().unwrap())
        .await;
    assert!(
        offset > 0 && offset < bytes.len() as u64,
        "killed part-way: {offset} of {}",
        bytes.len()
    );

    // ...and the second continues from where the controller has it.
    let (code, out, err) = run(
        h,
        &[
            "versions",
            "upload",
            "tapper",
            apk.to_str().unwrap(),
            "--publish",
        ],
        "",
    )
    .await;
    assert_eq!(code, Some(0), "{out} {err}");
    assert!(
        err.contains(&format!("resuming the upload of {}", apk.display())),
        "{err}"
    );
    assert!(err.contains("upload 100%"), "{err}");
    assert!(out.contains("is READY, published"), "{out}");
    assert!(
        out.contains(&sha),
        "the controller has the file's bytes: {out}"
    );
    assert!(
        std::fs::read_dir(h.join("uploads"))
            .unwrap()
            .next()
            .is_none()
    );
    let version_id = out.split_whitespace().nth(1).unwrap().to_owned();

    // Deploy: a board of the room copies the package and reports, the CLI follows.
    let board = TestAgent::enrol(&ctl.http, &ctl.url, &enrolment, "RK-CLI-1").await;
    let (mut ws, _) = board.connect(vec![]).await;
    let (http, deployment, token) = (
        ctl.http.clone(),
        format!("{}/v1/versions/{version_id}/deployment", ctl.url),
        t.clone(),
    );
    let copier = tokio::spawn(async move {
        let AgentCommand::SyncPackage { sha256, .. } =
            agent::command(&mut ws, |c| matches!(c, AgentCommand::SyncPackage { .. })).await
        else {
            unreachable!()
        };
        for (state, pct) in [
            (DeploymentRoomState::Syncing, 50),
            (DeploymentRoomState::Ready, 100),
        ] {
            agent::send(
                &mut ws,
                &AgentMessage::Deployment {
                    sha256: sha256.clone(),
                    state,
                    progress_percent: pct,
                    error: None,
                },
            )
            .await;
            // The controller has the report before the next one goes.
            playrack_test_support::wait_for(
                &format!("the report of {state:?} {pct}%"),
                Duration::from_secs(20),
                || async {
                    let d: Deployment = http
                        .get(&deployment)
                        .bearer_auth(&token)
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    d.rooms[0].state == state && d.rooms[0].progress_percent == pct
                },
            )
            .await;
        }
        ws
    });
    let (code, out, err) = run(h, &["deploy", &version_id, "--room", &room.id], "").await;
    assert_eq!(code, Some(0), "{out} {err}");
    assert!(
        err.contains(&format!(
            "room {}: ready 100% (1 of 1 boards ready)",
            room.id
        )),
        "{err}"
    );
    assert!(out.contains("READY"), "{out}");
    let _ws = copier.await.unwrap();

    // A link: its URL on the portal and a QR code of it.
    let (code, out, err) = run(
        h,
        &["links", "create", "tapper", "--trial-seconds", "120"],
        "",
    )
    .await;
    assert_eq!(code, Some(0), "{out} {err}");
    let url = out.lines().next().unwrap();
    assert!(url.starts_with("https://play.example/play/"), "{out}");
    assert!(out.contains('█') || out.contains('▀'), "a QR code: {out}");
    let (code, out, _) = run(h, &["links", "list", "--json"], "").await;
    assert_eq!(code, Some(0));
    let links: Vec<Link> = serde_json::from_str(&out).unwrap();
    assert!(url.ends_with(&links[0].code));

    // What links led to: a link's days, a campaign's links; an unknown link says where to look.
    let (code, out, err) = run(h, &["links", "figures", &links[0].code], "").await;
    assert_eq!(code, Some(0), "{out} {err}");
    assert!(
        out.starts_with("from ") && out.contains("CONVERSIONS") && out.contains("TOTAL"),
        "{out}"
    );
    let (code, _, err) = run(
        h,
        &[
            "links",
            "create",
            "tapper",
            "--campaign",
            "spring sale",
            "--embed-on",
            "https://Games.example",
            "--no-qr",
        ],
        "",
    )
    .await;
    assert_eq!(code, Some(0), "{err}");
    let (code, out, err) = run(h, &["campaigns", "--json"], "").await;
    assert_eq!(code, Some(0), "{out} {err}");
    let campaigns: Vec<Campaign> = serde_json::from_str(&out).unwrap();
    assert_eq!(campaigns.len(), 1, "{out}");
    assert_eq!(
        (campaigns[0].name.as_str(), campaigns[0].links),
        ("spring sale", 1)
    );
    let (code, out, err) = run(
        h,
        &["campaigns", "spring sale", "--from", "2026-01-01", "--json"],
        "",
    )
    .await;
    assert_eq!(code, Some(0), "{out} {err}");
    let f: LinkFigures = serde_json::from_str(&out).unwrap();
    assert_eq!(f.campaign.as_deref(), Some("spring sale"));
    let (code, out, _) = run(h, &["links", "list", "--json"], "").await;
    assert_eq!(code, Some(0));
    let all: Vec<Link> = serde_json::from_str(&out).unwrap();
    assert!(
        all.iter()
            .any(|l| l.embed_origins == ["https://games.example"]),
        "{out}"
    );
    // A link's settings changed and cleared, its history, and the old value put back.
    let spring = all
        .iter()
        .find(|l| l.campaign.as_deref() == Some("spring sale"))
        .unwrap();
    let (code, out, err) = run(
        h,
        &[
            "links",
            "update",
            &spring.code,
            "--max-plays",
            "40",
            "--no-campaign",
            "--no-embed",
        ],
        "",
    )
    .await;
    assert_eq!(code, Some(0), "{out} {err}");
    assert!(
        out.contains("plays 0/40") && out.contains("campaign —") && out.contains("no site"),
        "{out}"
    );
    let (code, _, err) = run(
        h,
        &[
            "links",
            "update",
            &spring.code,
            "--max-plays",
            "3",
            "--no-max-plays",
        ],
        "",
    )
    .await;
    assert_eq!(code, Some(2), "{err}");
    let (code, out, err) = run(h, &["history", &spring.id], "").await;
    assert_eq!(code, Some(0), "{out} {err}");
    let first = out.lines().nth(1).unwrap_or_default();
    assert!(
        first.contains("link.update")
            && first.contains("campaign: spring sale → —")
            && first.contains("max_plays: — → 40"),
        "{out}"
    );
    let entry = first.split_whitespace().next().unwrap();
    let (code, out, err) = run(h, &["restore", entry], "").await;
    assert_eq!(code, Some(0), "{out} {err}");
    assert!(out.contains("campaign: — → spring sale"), "{out}");
    let (code, out, _) = run(h, &["history", &spring.id, "--json"], "").await;
    assert_eq!(code, Some(0));
    let h_page: Page<AuditEntry> = serde_json::from_str(&out).unwrap();
    assert_eq!(h_page.items[0].action, "link.restore");
    let (code, _, err) = run(h, &["restore", "aud_no_such_entry"], "").await;
    assert_eq!(code, Some(4), "{err}");
    // Grey releases: none under way (the published version's figures alone); the published
    // version itself is refused as a candidate, a share over 100 never leaves the CLI, and
    // there is nothing to roll back.
    let (code, out, err) = run(h, &["grey", "show", "tapper"], "").await;
    assert_eq!(code, Some(0), "{out} {err}");
    assert!(out.contains("no grey release under way"), "{out}");
    let (code, out, _) = run(h, &["grey", "show", "tapper", "--json"], "").await;
    assert_eq!(code, Some(0));
    let view: playrack_wire::api::GreyView = serde_json::from_str(&out).unwrap();
    assert!(view.release.is_none() && view.versions.len() == 1, "{out}");
    let published = view.versions[0].version_id.clone();
    let (code, _, err) = run(
        h,
        &["grey", "start", "tapper", &published, "--percent", "20"],
        "",
    )
    .await;
    assert_eq!(code, Some(5), "{err}");
    assert!(err.contains("GREY_NOT_NEWER"), "{err}");
    let (code, _, err) = run(
        h,
        &["grey", "start", "tapper", &published, "--percent", "101"],
        "",
    )
    .await;
    assert_eq!(code, Some(2), "{err}");
    let (code, _, err) = run(h, &["grey", "end", "tapper", "rollback"], "").await;
    assert_eq!(code, Some(4), "{err}");
    let (code, _, err) = run(
        h,
        &["links", "create", "tapper", "--embed-on", "games.example"],
        "",
    )
    .await;
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("not a site's origin: give https://host"),
        "{err}"
    );
    let (code, _, err) = run(h, &["links", "figures", "no-such-link"], "").await;
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("no link `no-such-link`: see `playrack links list`"),
        "{err}"
    );
    let (code, _, err) = run(h, &["campaigns", "--from", "last week"], "").await;
    assert_ne!(code, Some(0));
    assert!(err.contains("from must be a day, YYYY-MM-DD"), "{err}");

    // The tenant's usage; an operator's boards and plays.
    let (code, out, err) = run(h, &["usage", "--from", "2026-01-01"], "").await;
    assert_eq!(code, Some(0), "{out} {err}");
    assert!(
        out.starts_with("usage from") && out.contains("BILLABLE"),
        "{out}"
    );
    let ops = tempfile::tempdir().unwrap();
    let o = ops.path();
    let op_login = [
        "login",
        "--url",
        &ctl.url,
        "--email",
        playrack_test_support::ROOT_EMAIL,
        "--password-stdin",
    ];
    let (code, _, err) = run(o, &op_login, &format!("{PASSWORD}\n")).await;
    assert_eq!(code, Some(0), "{err}");
    let (code, out, _) = run(o, &["boards", "list"], "").await;
    assert_eq!(code, Some(0));
    assert!(out.contains("RK-CLI-1") && out.contains("online"), "{out}");
    let (code, out, err) = run(o, &["boards", "drain", "RK-CLI-1"], "").await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.trim(), "board RK-CLI-1 is draining");
    let (code, out, _) = run(o, &["boards", "list", "--json"], "").await;
    assert_eq!(code, Some(0));
    let boards: Vec<Board> = serde_json::from_str(&out).unwrap();
    assert_eq!(boards[0].status, BoardStatus::Draining);
    let (code, out, _) = run(o, &["sessions", "list"], "").await;
    assert_eq!(code, Some(0));
    assert!(out.starts_with("SESSION"), "{out}");
    let (code, _, err) = run(h, &["boards", "drain", "RK-CLI-1"], "").await;
    assert_eq!(code, Some(3), "a tenant may not drain boards: {err}");

    // Exit codes: not found, bad usage; then signed out.
    let (code, _, err) = run(h, &["versions", "show", "ver_nothing"], "").await;
    assert_eq!(code, Some(4), "{err}");
    let (code, _, err) = run(h, &["versions", "list", "no-such-game"], "").await;
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no game `no-such-game`"), "{err}");
    let (code, out, _) = run(h, &["logout"], "").await;
    assert_eq!((code, out.trim()), (Some(0), "signed out"));
    let (code, _, _) = run(h, &["whoami"], "").await;
    assert_eq!(code, Some(3));
    ctl.stop().await;
}

/// What an operator runs the platform with: specs, a topology imported from CSV and YAML (all
/// or nothing; a bad row named by its line), orders, a board's instances, shell and agent log
/// (the board answers through its agent link), and saves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_manages_specs_topology_orders_boards_and_saves() {
    let ctl = Ctl::start("sqlite").await;
    let (tenant, _) = ctl.tenant("Acme").await;
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let login = [
        "login",
        "--url",
        &ctl.url,
        "--email",
        playrack_test_support::ROOT_EMAIL,
        "--password-stdin",
    ];
    let (code, _, err) = run(h, &login, &format!("{PASSWORD}\n")).await;
    assert_eq!(code, Some(0), "{err}");

    // Specs.
    let create_spec = [
        "specs",
        "create",
        "sd-30",
        "--name",
        "SD 30",
        "--size",
        "360x640",
        "--fps",
        "30",
        "--bitrate",
        "500-2000",
        "--cpu-millis",
        "1000",
        "--memory-mb",
        "1024",
        "--price",
        "0.02",
    ];
    let (code, out, err) = run(h, &create_spec, "").await;
    assert_eq!(code, Some(0), "{out} {err}");
    assert!(
        out.contains("360x640@30") && out.contains("0.0200"),
        "{out}"
    );
    let (code, out, _) = run(h, &["specs", "list", "--json"], "").await;
    assert_eq!(code, Some(0));
    let specs: Vec<Spec> = serde_json::from_str(&out).unwrap();
    let sd = specs.iter().find(|s| s.id == "sd-30").expect("created");
    assert_eq!(
        (sd.price_per_minute_micros, sd.bitrate_max_kbps),
        (20_000, 2000)
    );
    let (code, _, err) = run(h, &["specs", "update", "sd-30", "--price", "0.025"], "").await;
    assert_eq!(code, Some(0), "{err}");
    let (code, _, err) = run(
        h,
        &[
            "specs",
            "create",
            "x",
            "--size",
            "wide",
            "--fps",
            "30",
            "--bitrate",
            "1-2",
            "--price",
            "1",
        ],
        "",
    )
    .await;
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--size \"wide\" is not WIDTHxHEIGHT"), "{err}");

    // The topology from a CSV: a bad row is named and nothing is imported.
    let (east, west) = (ctl.volume("east-1"), ctl.volume("west-1"));
    let header = "region,room,instance_cap,shared_volume,probe_url,array,serial,model,capacity\n";
    let good = format!(
        "{header}east,hz-1,16,{east},http://127.0.0.1:7700/probe,rack-a,RK-T-1,RK3588,sd-30=8\n\
         east,hz-1,,,,rack-a,RK-T-2,RK3588,sd-30=8\n\
         west,sz-1,8,{west},http://127.0.0.1:7701/probe,rack-b,RK-T-3,RK3588,sd-30=4\n"
    );
    let csv = h.join("boards.csv");
    std::fs::write(
        &csv,
        format!("{good}west,sz-1,,,,rack-b,RK-T-4,RK3588,sd-30:4\n"),
    )
    .unwrap();
    let (code, _, err) = run(h, &["topology", "import", csv.to_str().unwrap()], "").await;
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("line 5") && err.contains("sd-30:4"), "{err}");
    let (code, out, _) = run(h, &["boards", "list", "--json"], "").await;
    assert_eq!(code, Some(0));
    assert_eq!(serde_json::from_str::<Vec<Board>>(&out).unwrap().len(), 0);
    std::fs::write(&csv, &good).unwrap();
    let (code, out, err) = run(
        h,
        &["topology", "import", "--dry-run", csv.to_str().unwrap()],
        "",
    )
    .await;
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("2 region(s), 2 room(s), 2 array(s), 3 board(s); nothing imported"),
        "{out}"
    );
    let (code, out, err) = run(h, &["topology", "import", csv.to_str().unwrap()], "").await;
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("9 created, 0 updated"), "{out}");
    // The same boards again from YAML: updated, nothing created twice.
    let yaml = h.join("boards.yaml");
    std::fs::write(
        &yaml,
        format!(
            "regions:\n  - name: east\n    rooms:\n      - name: hz-1\n        instance_cap: 32\n        shared_volume: {east}\n        probe_url: http://127.0.0.1:7700/probe\n        arrays:\n          - name: rack-a\n            boards:\n              - {{ serial: RK-T-1, model: RK3588S, capacity: {{ sd-30: 6 }} }}\n"
        ),
    )
    .unwrap();
    let (code, out, err) = run(
        h,
        &["topology", "import", yaml.to_str().unwrap(), "--json"],
        "",
    )
    .await;
    assert_eq!(code, Some(0), "{err}");
    let report: ImportReport = serde_json::from_str(&out).unwrap();
    assert_eq!(
        report,
        ImportReport {
            created: 0,
            updated: 2
        },
        "the room and the board changed"
    );
    let (code, out, _) = run(h, &["topology", "show"], "").await;
    assert_eq!(code, Some(0));
    assert!(
        out.contains("east (") && out.contains("  hz-1 (") && out.contains("cap 32"),
        "{out}"
    );
    assert!(
        out.contains("      RK-T-1 RK3588S") && out.contains("[sd-30=6]"),
        "{out}"
    );

    // Orders: sold by tenant and region name, listed, cancelled.
    let (code, out, err) = run(
        h,
        &[
            "orders",
            "create",
            "--tenant",
            "Acme",
            "--spec",
            "sd-30",
            "--region",
            "east",
            "--concurrency",
            "4",
            "--until",
            "2030-01-01",
            "--price",
            "300",
            "--json",
        ],
        "",
    )
    .await;
    assert_eq!(code, Some(0), "{out} {err}");
    let order: Order = serde_json::from_str(&out).unwrap();
    assert_eq!(order.price_per_period_micros, 300_000_000);
    assert_eq!(
        (order.tenant_id.as_str(), order.concurrency),
        (tenant.id.as_str(), 4)
    );
    assert_eq!(order.valid_until.to_string(), "2030-01-01T00:00:00.000Z");
    let (code, out, _) = run(h, &["orders", "list", "--tenant", "Acme"], "").await;
    assert_eq!(code, Some(0));
    assert!(out.contains(&order.id) && out.contains("active"), "{out}");
    // The tenant's open statement charges the order; exported as CSV to a file.
    let (code, out, err) = run(h, &["bills", "show", "--tenant", "Acme"], "").await;
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("concurrency") && out.contains(&order.id) && out.contains("open"),
        "{out}"
    );
    let csv_path = h.join("bill.csv");
    let (code, _, err) = run(
        h,
        &[
            "bills",
            "export",
            "--tenant",
            "Acme",
            "--format",
            "csv",
            "-o",
            csv_path.to_str().unwrap(),
        ],
        "",
    )
    .await;
    assert_eq!(code, Some(0), "{err}");
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert!(csv.starts_with("bill_id,tenant_id,period_start"), "{csv}");
    assert!(
        csv.lines()
            .any(|l| l.contains(",concurrency,") && l.contains(&order.id)),
        "{csv}"
    );
    assert!(csv.lines().last().unwrap().contains(",total,"), "{csv}");
    let (code, _, err) = run(h, &["bills", "export", "--format", "xml"], "").await;
    assert_eq!(
        code,
        Some(2),
        "a format outside csv/json is a usage error: {err}"
    );
    let (code, out, err) = run(h, &["orders", "cancel", &order.id], "").await;
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("cancelled"), "{out}");
    let (code, _, err) = run(
        h,
        &[
            "orders",
            "create",
            "--tenant",
            "Nobody",
            "--spec",
            "sd-30",
            "--region",
            "east",
            "--concurrency",
            "1",
            "--until",
            "2030-01-01",
        ],
        "",
    )
    .await;
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no tenant `Nobody`"), "{err}");

    // A board: its instances, a shell command in its only instance, its agent's log.
    let room = ctl
        .room_at(&ctl.region("north").await.id, "n-1", &ctl.volume("n-1"))
        .await;
    let enrolment = ctl.enrolment_token(&room.id).await;
    let board = TestAgent::enrol(&ctl.http, &ctl.url, &enrolment, "RK-SHELL-1").await;
    let (mut ws, _) = board
        .connect(vec![agent::instance("i-7", InstanceState::Warm)])
        .await;
    let (code, out, _) = run(h, &["boards", "instances", "RK-SHELL-1"], "").await;
    assert_eq!(code, Some(0));
    assert!(out.contains("i-7") && out.contains("warm"), "{out}");
    let answer = tokio::spawn(async move {
        for (reply, exit_code) in [("Playrack Virtual Device\n", 0), ("not found\n", 1)] {
            let (id, command) = loop {
                match agent::recv(&mut ws).await.expect("a command") {
                    playrack_wire::agent::ControllerMessage::Command {
                        id,
                        command:
                            AgentCommand::Shell {
                                instance_id,
                                command,
                                ..
                            },
                    } => {
                        assert_eq!(instance_id, "i-7");
                        break (id, command);
                    }
                    _ => continue,
                }
            };
            assert!(command.starts_with("getprop "), "{command}");
            agent::send(
                &mut ws,
                &AgentMessage::ShellOutput {
                    command_id: id,
                    stream: playrack_wire::agent::OutputStream::Stdout,
                    data: reply.into(),
                    exit_code: Some(exit_code),
                },
            )
            .await;
        }
        ws
    });
    let (code, out, err) = run(
        h,
        &[
            "boards",
            "shell",
            "RK-SHELL-1",
            "getprop",
            "ro.product.model",
        ],
        "",
    )
    .await;
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "Playrack Virtual Device\n"),
        "{err}"
    );
    let (code, out, err) = run(
        h,
        &["boards", "shell", "RK-SHELL-1", "--", "getprop", "-x"],
        "",
    )
    .await;
    assert_eq!(code, Some(5), "a failing command is a refusal: {err}");
    assert_eq!(out, "not found\n");
    assert!(err.contains("exited with status 1"), "{err}");
    let _ws = answer.await.unwrap();
    let (code, _, err) = run(h, &["boards", "shell", "RK-T-1", "ls"], "").await;
    assert_eq!(code, Some(5), "an offline board: {err}");
    assert!(
        err.contains("BOARD_NOT_CONNECTED") || err.contains("no instance"),
        "{err}"
    );

    // Saves: none yet; a missing one is not found.
    let (code, out, _) = run(h, &["archives", "list"], "").await;
    assert_eq!(code, Some(0));
    assert!(out.starts_with("ID") && out.contains("PINNED"), "{out}");
    let (code, _, err) = run(h, &["archives", "pin", "arc_nothing"], "").await;
    assert_eq!(code, Some(4), "{err}");

    // Degrade switches: on for a tenant, listed, off; a bad name or scope says what to give.
    let scope = format!("tenant:{}", tenant.id);
    let (code, out, err) = run(
        h,
        &[
            "switches",
            "on",
            "spectators",
            "--scope",
            &scope,
            "--note",
            "drill",
        ],
        "",
    )
    .await;
    assert_eq!(code, Some(0), "{out} {err}");
    assert!(
        out.contains(&format!("spectators is on for {scope}")),
        "{out}"
    );
    let (code, out, _) = run(h, &["switches", "list", "--json"], "").await;
    assert_eq!(code, Some(0));
    let on: Vec<Switch> = serde_json::from_str(&out).unwrap();
    assert_eq!((on.len(), on[0].note.as_deref()), (1, Some("drill")));
    let (code, out, err) = run(h, &["switches", "off", "spectators", "--scope", &scope], "").await;
    assert_eq!(code, Some(0), "{out} {err}");
    let (code, out, _) = run(h, &["switches", "list"], "").await;
    assert_eq!((code, out.trim()), (Some(0), "no switch is on"));
    let (code, _, err) = run(h, &["switches", "on", "everything"], "").await;
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("give one of new_plays, spectators, webhooks, archives, lowest_spec"),
        "{err}"
    );
    let (code, _, err) = run(
        h,
        &["switches", "on", "new_plays", "--scope", "board:x"],
        "",
    )
    .await;
    assert_eq!(code, Some(2), "{err}");
    let (code, _, err) = run(h, &["switches", "off", "webhooks"], "").await;
    assert_eq!(code, Some(4), "nothing to turn off: {err}");

    // Maintenance: scheduled for a board an hour ahead, listed, called off.
    let at = serde_json::to_value(playrack_wire::Timestamp::now().plus_secs(3600)).unwrap();
    let at = at.as_str().unwrap();
    let (code, out, err) = run(
        h,
        &[
            "maintenance",
            "schedule",
            "--board",
            "RK-T-1",
            "--at",
            at,
            "--for",
            "90m",
            "--note",
            "fans",
        ],
        "",
    )
    .await;
    assert_eq!(code, Some(0), "{out} {err}");
    let id = out.split_whitespace().nth(1).unwrap().to_owned();
    assert!(id.starts_with("mnt_"), "{out}");
    let (code, out, _) = run(h, &["maintenance", "list"], "").await;
    assert_eq!(code, Some(0));
    assert!(
        out.contains(&id) && out.contains("scheduled") && out.contains("fans"),
        "{out}"
    );
    let (code, out, err) = run(h, &["maintenance", "cancel", &id], "").await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.trim(), format!("maintenance {id} is cancelled"));
    let (code, _, err) = run(
        h,
        &[
            "maintenance",
            "schedule",
            "--board",
            "RK-T-1",
            "--at",
            at,
            "--for",
            "a while",
        ],
        "",
    )
    .await;
    assert_eq!(code, Some(2), "{err}");
    ctl.stop().await;
}

#[test]
fn help_shows_the_commands_and_what_exit_codes_mean() {
    let home = tempfile::tempdir().unwrap();
    let (code, out, _) = playrack(home.path(), &["--help"], "");
    assert_eq!(code, Some(0));
    for word in [
        "login",
        "games",
        "versions",
        "deploy",
        "links",
        "archives",
        "specs",
        "orders",
        "topology",
        "Exit codes",
    ] {
        assert!(out.contains(word), "{word} in {out}");
    }
    let (code, out, _) = playrack(home.path(), &["versions", "upload", "--help"], "");
    assert_eq!(code, Some(0));
    assert!(
        out.contains("continue an") && out.contains("--publish"),
        "{out}"
    );
    let (code, _, err) = playrack(home.path(), &["deploy", "ver_1"], "");
    assert_eq!(code, Some(2), "a missing --room is a usage error: {err}");
}
