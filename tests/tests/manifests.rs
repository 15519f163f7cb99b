//! The deployment files under `deploy/` against the binaries they run: every YAML and JSON file
//! parses; every environment variable the compose file, the Kubernetes manifests and the
//! systemd units and their example env files give a service is one its binary reads (its
//! `--help` names it); every flag they pass exists; every image is one of ours with a Dockerfile;
//! every metric the Prometheus dashboards query is one the code exports; the systemd units
//! pass `systemd-analyze verify`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use playrack_tests::demo::{sibling_binary, workspace};
use serde_norway::Value;

fn deploy() -> PathBuf {
    workspace().join("deploy")
}

/// Which of our binaries a name (an image, a unit, a service) runs.
fn binary_of(name: &str) -> Option<&'static str> {
    ["array-controller", "node-agent", "portal"]
        .into_iter()
        .find(|b| name.contains(b))
        .or_else(|| name.contains("controller").then_some("array-controller"))
        .or_else(|| name.contains("board").then_some("node-agent"))
}

/// A binary's `--help`.
fn help(binary: &str) -> String {
    let path = sibling_binary(binary);
    assert!(
        path.exists(),
        "{} is missing: build the workspace (`cargo build --workspace`) first",
        path.display()
    );
    let out = std::process::Command::new(&path)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "{binary} --help");
    String::from_utf8(out.stdout).unwrap()
}

/// Whether `binary` reads the environment variable `var` (its `--help` shows `[env: VAR=]`).
fn reads_env(help: &str, var: &str) -> bool {
    help.contains(&format!("[env: {var}=")) || help.contains(&format!("[env: {var}]"))
}

fn yaml_documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_norway::Deserializer::from_str(&text)
        .map(|d| {
            let mut v = <Value as serde::Deserialize>::deserialize(d)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            v.apply_merge().unwrap();
            v
        })
        .collect()
}

fn files(dir: &Path, ext: &[&str]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| ext.iter().any(|x| e == *x)))
        .collect();
    out.sort();
    out
}

/// Every `(binary, variable)` and `(binary, flag)` a manifest gives, with where.
#[derive(Default)]
struct Uses {
    env: BTreeSet<(&'static str, String, String)>,
    flags: BTreeSet<(&'static str, String, String)>,
    images: BTreeSet<String>,
}

impl Uses {
    fn env(&mut self, bin: &'static str, var: &str, at: &str) {
        self.env.insert((bin, var.to_owned(), at.to_owned()));
    }
    fn args(&mut self, bin: &'static str, args: &Value, at: &str) {
        for a in args
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if let Some(flag) = a.strip_prefix("--") {
                let flag = flag.split('=').next().unwrap();
                self.flags.insert((bin, flag.to_owned(), at.to_owned()));
            }
        }
    }
}

fn compose_uses(uses: &mut Uses) {
    let path = deploy().join("compose.yaml");
    let doc = yaml_documents(&path).remove(0);
    let services = doc["services"].as_mapping().expect("services");
    assert!(
        services.len() >= 6,
        "postgres, two controllers, the portal, two boards"
    );
    // The file and its overlays (compose.tls.yaml, …): an overlay's service may not name its
    // image; its name says which binary it runs.
    let overlays = files(&deploy(), &["yaml"])
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("compose.") && name != "compose.yaml"
        })
        .collect::<Vec<_>>();
    assert!(overlays.len() >= 2, "the TLS and local-images overlays");
    for path in std::iter::once(path).chain(overlays) {
        let doc = yaml_documents(&path).remove(0);
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        for (name, svc) in doc["services"].as_mapping().expect("services") {
            let name = name.as_str().unwrap();
            assert!(
                services.contains_key(name),
                "{file}: service {name} is not in compose.yaml"
            );
            let image = svc["image"].as_str().unwrap_or_default().to_owned();
            let Some(bin) = binary_of(&image).or_else(|| binary_of(name)) else {
                continue; // postgres
            };
            if !image.is_empty() {
                uses.images.insert(image.clone());
            }
            let at = format!("{file} service {name}");
            for (k, _) in svc["environment"].as_mapping().into_iter().flatten() {
                uses.env(bin, k.as_str().unwrap(), &at);
            }
            uses.args(bin, &svc["command"], &at);
        }
    }
}

fn k8s_uses(uses: &mut Uses) {
    for path in files(&deploy().join("k8s"), &["yaml", "yml"]) {
        for doc in yaml_documents(&path) {
            let spec = &doc["spec"]["template"]["spec"];
            for c in spec["containers"]
                .as_sequence()
                .into_iter()
                .chain(spec["initContainers"].as_sequence())
                .flatten()
            {
                let image = c["image"].as_str().unwrap_or_default();
                let Some(bin) = binary_of(image) else {
                    continue;
                };
                uses.images.insert(image.to_owned());
                let at = format!("{}", path.display());
                for e in c["env"].as_sequence().into_iter().flatten() {
                    uses.env(bin, e["name"].as_str().unwrap(), &at);
                }
                uses.args(bin, &c["args"], &at);
                uses.args(bin, &c["command"], &at);
            }
        }
    }
}

fn systemd_uses(uses: &mut Uses) {
    let dir = deploy().join("systemd");
    for path in files(&dir, &["service", "example"]) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bin = binary_of(&name).unwrap_or_else(|| panic!("{name} runs which binary?"));
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            let line = line.trim();
            // example env files: `VAR=…`, and commented-out `#VAR=…` options alike
            let assignment = if name.ends_with(".example") {
                Some(line.trim_start_matches('#').trim())
            } else {
                line.strip_prefix("Environment=")
            };
            if let Some((var, _)) = assignment.and_then(|a| a.split_once('='))
                && (var.starts_with("PLAYRACK_") || var == "DATABASE_URL")
                && !var.contains(' ')
            {
                uses.env(bin, var, &name);
            }
            if let Some(exec) = line.strip_prefix("ExecStart=") {
                let mut words = exec.split_whitespace();
                let program = words.next().unwrap();
                assert!(program.ends_with(&format!("/{bin}")), "{name}: {exec}");
                for w in words.filter_map(|w| w.strip_prefix("--")) {
                    uses.flags
                        .insert((bin, w.split('=').next().unwrap().to_owned(), name.clone()));
                }
            }
        }
    }
}

#[test]
fn the_deployment_files_use_only_what_the_binaries_have() {
    let mut uses = Uses::default();
    compose_uses(&mut uses);
    k8s_uses(&mut uses);
    systemd_uses(&mut uses);
    let helps: std::collections::BTreeMap<&str, String> =
        ["array-controller", "node-agent", "portal"]
            .into_iter()
            .map(|b| (b, help(b)))
            .collect();

    let mut wrong = Vec::new();
    for (bin, var, at) in &uses.env {
        if !reads_env(&helps[bin], var) {
            wrong.push(format!("{at}: {bin} reads no {var}"));
        }
    }
    for (bin, flag, at) in &uses.flags {
        if !helps[bin].contains(&format!("--{flag}")) {
            wrong.push(format!("{at}: {bin} has no --{flag}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    for bin in ["array-controller", "node-agent", "portal"] {
        assert!(
            uses.env.iter().filter(|(b, ..)| *b == bin).count() >= 3,
            "{bin} is configured somewhere"
        );
    }

    // Images: ours, each with its Dockerfile.
    for image in &uses.images {
        let bin = binary_of(image).unwrap();
        let short = if bin == "array-controller" {
            "controller"
        } else {
            bin
        };
        assert!(
            deploy().join(format!("docker/Dockerfile.{short}")).exists(),
            "{image}: no deploy/docker/Dockerfile.{short}"
        );
        assert!(
            image.starts_with("playrack/") || image.starts_with("ghcr.io/playrack/"),
            "{image}"
        );
    }
    for bin in ["array-controller", "node-agent", "portal"] {
        assert!(
            uses.images.iter().any(|i| binary_of(i) == Some(bin)),
            "an image runs {bin}"
        );
    }
}

#[test]
fn every_yaml_and_json_file_parses_and_dashboards_query_metrics_that_exist() {
    for path in files(&deploy().join("k8s"), &["yaml"]).into_iter().chain([
        deploy().join("compose.yaml"),
        deploy().join("prometheus/prometheus.yml"),
    ]) {
        assert!(!yaml_documents(&path).is_empty(), "{}", path.display());
    }
    let kustomization = yaml_documents(&deploy().join("k8s/kustomization.yaml")).remove(0);
    for r in kustomization["resources"].as_sequence().unwrap() {
        let r = r.as_str().unwrap();
        assert!(
            deploy().join("k8s").join(r).exists(),
            "kustomization lists {r}"
        );
    }

    // The metric names the code exports: every `playrack_…` string in the services' sources.
    let mut exported = BTreeSet::new();
    for dir in ["array-controller/src", "portal/src", "node-agent/src"] {
        let mut stack = vec![workspace().join(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(d).unwrap().map(Result::unwrap) {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    for piece in text.split('"').skip(1).step_by(2) {
                        if piece.starts_with("playrack_")
                            && piece
                                .chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                        {
                            exported.insert(piece.to_owned());
                        }
                    }
                }
            }
        }
    }
    assert!(
        exported.contains("playrack_agent_cpu_percent"),
        "{exported:?}"
    );
    let mut queried = 0;
    for path in files(&deploy().join("grafana"), &["json"]) {
        let dash: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(dash["panels"].as_array().is_some_and(|p| !p.is_empty()));
        let text = dash.to_string();
        for expr in text.split("\"expr\":\"").skip(1) {
            let expr = expr.split('"').next().unwrap();
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if !word.starts_with("playrack_") {
                    continue;
                }
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| word.strip_suffix(s))
                    .unwrap_or(word);
                assert!(
                    exported.contains(word) || exported.contains(base),
                    "{}: {word} is not a metric the code exports",
                    path.display()
                );
                queried += 1;
            }
        }
    }
    assert!(queried > 20, "the dashboards query our metrics ({queried})");
}

/// The systemd units pass `systemd-analyze verify` (no error and no warning), with `ExecStart=`
/// pointed at the binaries built here instead of `/usr/local/bin` (verify checks the command
/// is executable).
#[test]
fn the_systemd_units_verify() {
    if std::process::Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("warning: no systemd-analyze here: the units are not verified");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let units = files(&deploy().join("systemd"), &["service"]);
    assert_eq!(units.len(), 3, "controller, portal, node agent");
    for unit in units {
        let name = unit.file_name().unwrap().to_string_lossy().into_owned();
        let bin = binary_of(&name).expect("a unit of one of ours");
        let installed = format!("/usr/local/bin/{bin}");
        let text = std::fs::read_to_string(&unit).unwrap();
        assert!(text.contains(&installed), "{name} runs {installed}");
        let built = sibling_binary(bin);
        let copy = dir.path().join(&name);
        std::fs::write(&copy, text.replace(&installed, &built.to_string_lossy())).unwrap();
        let out = std::process::Command::new("systemd-analyze")
            .arg("verify")
            .arg(&copy)
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{name}: {said}");
        let about_it: Vec<&str> = said.lines().filter(|l| l.contains(&name)).collect();
        assert!(about_it.is_empty(), "{name}: {about_it:?}");
    }
}
