//! Schemathesis (a property-based API tester nobody here wrote) against `/v1/openapi.json` of a
//! running controller with a playable world in it, four times: with no credential, and as a
//! tenant admin, a tenant viewer and an operator. Every check runs (see
//! `tests/schemathesis/schemathesis.toml` for the one left out and why): no 5xx, every answer's
//! status, content type, headers and body as the document says, invalid input refused, the
//! security the document names enforced.
//!
//! The single-object reads are pointed at the world's real objects, so their bodies are checked
//! against their schemas too; every other path parameter is drawn at random.
//!
//! Needs the `st` command: `scripts/install-deps.sh` installs it in `target/schemathesis`
//! (or set `PLAYRACK_SCHEMATHESIS` to another). `PLAYRACK_SCHEMATHESIS_EXAMPLES` (default 10
//! per operation) and `PLAYRACK_SCHEMATHESIS_SEED` set the long form, e.g. 500 examples.

use playrack_test_support as support;

use playrack_wire::api::Role;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Stdio;
use support::{Ctl, world};

fn st_command() -> PathBuf {
    if let Ok(path) = std::env::var("PLAYRACK_SCHEMATHESIS") {
        return PathBuf::from(path);
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/schemathesis/bin/st");
    assert!(
        path.exists(),
        "schemathesis is not installed at {}: run scripts/install-deps.sh (or set PLAYRACK_SCHEMATHESIS to its `st`)",
        path.display()
    );
    path
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_wrong_with_the_api() {
    let st = st_command();
    let ctl = Ctl::start_with("sqlite", |c| {
        c.rate_limit_ip = 1_000_000;
        c.rate_limit_key = 1_000_000;
    })
    .await;
    let mut w = world(&ctl, 1, 2, 2).await;
    w.answer_ends();
    let (session, board) = w.play(&ctl, 0).await;
    let tenant_admin = w.tenant_token.clone();
    let tenant_viewer = ctl.member(Some(&w.tenant.id), Role::TenantViewer).await;

    // The real objects the single-object reads are pointed at.
    let objects = [
        ("/v1/games/{id}", w.game.id.as_str()),
        ("/v1/versions/{id}", w.version.id.as_str()),
        ("/v1/versions/{id}/deployment", w.version.id.as_str()),
        ("/v1/links/{id}", w.link.id.as_str()),
        ("/v1/play/links/{code}", w.link.code.as_str()),
        ("/v1/rooms/{id}", w.room.id.as_str()),
        ("/v1/boards/{id}", board.as_str()),
        ("/v1/sessions/{id}", session.as_str()),
        ("/v1/tenants/{id}", w.tenant.id.as_str()),
    ];
    let base = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/schemathesis/schemathesis.toml"),
    )
    .expect("tests/schemathesis/schemathesis.toml");
    let mut config = base;
    for (path, id) in objects {
        let param = if path.contains("{code}") {
            "code"
        } else {
            "id"
        };
        write!(
            config,
            "\n[[operations]]\ninclude-path = \"{path}\"\ninclude-method = \"GET\"\nparameters = {{ {param} = \"{id}\" }}\n"
        )
        .unwrap();
    }
    let config_path = ctl.dir.path().join("schemathesis.toml");
    std::fs::write(&config_path, config).unwrap();

    let examples = env_or("PLAYRACK_SCHEMATHESIS_EXAMPLES", 10);
    let seed = env_or("PLAYRACK_SCHEMATHESIS_SEED", 1);
    let hooks = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/schemathesis");
    let mut failed = Vec::new();
    for (who, token) in [
        ("nobody", None),
        ("tenant-admin", Some(tenant_admin.as_str())),
        ("tenant-viewer", Some(tenant_viewer.as_str())),
        ("operator", Some(ctl.op.as_str())),
    ] {
        let mut cmd = tokio::process::Command::new(&st);
        cmd.arg("--config-file")
            .arg(&config_path)
            .arg("run")
            .arg(format!("{}/v1/openapi.json", ctl.url))
            .args(["--checks", "all"])
            .args(["--exclude-checks", "positive_data_acceptance"])
            // Signing out would end the run's own credential (the authorization matrix
            // signs out and replays the token).
            .args(["--exclude-path", "/v1/auth/logout"])
            .args(["--phases", "examples,coverage,fuzzing"])
            .args(["--max-examples", &examples.to_string()])
            .args(["--seed", &seed.to_string()])
            .args(["--workers", "2", "--request-timeout", "20", "--no-color"])
            .env("SCHEMATHESIS_HOOKS", "hooks")
            .env("PYTHONPATH", &hooks)
            .current_dir(ctl.dir.path())
            .stdin(Stdio::null())
            .kill_on_drop(true);
        if let Some(token) = token {
            cmd.args(["--header", &format!("Authorization: Bearer {token}")]);
        }
        let out = tokio::time::timeout(std::time::Duration::from_secs(900), cmd.output())
            .await
            .unwrap_or_else(|_| panic!("schemathesis as {who} ran past 15 minutes"))
            .expect("run schemathesis");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let summary = stdout
            .lines()
            .rev()
            .find(|l| l.contains(" in ") && l.starts_with('='))
            .unwrap_or("(no summary)")
            .to_owned();
        let cases = stdout
            .lines()
            .find(|l| {
                l.trim_start().starts_with(|c: char| c.is_ascii_digit()) && l.contains(" generated")
            })
            .unwrap_or("")
            .trim()
            .to_owned();
        println!("schemathesis as {who}: {cases} {summary}");
        if !out.status.success() {
            failed.push(format!(
                "as {who} ({}):\n{stdout}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "schemathesis failed\n{}",
        failed.join("\n")
    );
    ctl.stop().await;
}
