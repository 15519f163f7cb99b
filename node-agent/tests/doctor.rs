//! `node-agent doctor` as an operator runs it on a board: the binary, with the agent's own
//! options, against the virtual device's Docker image (built from the debug `virtual-device`
//! with `android-injector/docker/build-image.sh`) and real `adb`. It passes on the image as
//! built, and names the fault when one is injected: an image whose ROM has no H.264 encoder,
//! and one whose adbd listens on another port than redroid's 5555 (adb cannot reach it). The
//! faulty images are the same image with another entry point (`docker commit --change`).
//!
//! Needs a running Docker engine (`scripts/dockerd.sh`); `PLAYRACK_TEST_DOCKER=off` skips it,
//! loudly. The sandbox's engine refuses `--privileged`, so the doctor runs with
//! `--docker-privileged false`.

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::{docker, virtual_device, workspace};

/// Removes the images (and any container left) however the test ends.
struct Cleanup {
    images: Vec<String>,
    serial: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let o = docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=org.playrack.agent={}-doctor", self.serial),
        ]);
        for id in String::from_utf8_lossy(&o.stdout).split_whitespace() {
            let _ = docker(&["rm", "-f", id]);
        }
        for image in &self.images {
            let _ = docker(&["rmi", "-f", image]);
        }
    }
}

/// `tag` with the virtual device started with `extra` flags: a board with a fault.
fn derive_image(base: &str, tag: &str, extra: &[&str]) {
    let name = format!("doctor-derive-{}", std::process::id());
    let o = docker(&["create", "--name", &name, base]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut entry = vec![
        "/init",
        "--listen",
        "0.0.0.0",
        "--data-dir",
        "/data",
        "--no-auth",
    ];
    entry.extend_from_slice(extra);
    let change = format!(
        "ENTRYPOINT {}",
        serde_json::to_string(&entry).expect("json")
    );
    let o = docker(&["commit", "--change", &change, &name, tag]);
    let _ = docker(&["rm", "-f", &name]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Runs `node-agent … doctor --json` on `image`; the exit status and the report.
fn doctor(dir: &Path, serial: &str, image: &str, jar: &Path) -> (bool, Value) {
    let o = Command::new(env!("CARGO_BIN_EXE_node-agent"))
        .args(["--runtime", "docker", "--docker-privileged", "false"])
        .args(["--docker-image", image, "--serial", serial])
        .args(["--spec", "sd-30=360x640@30:240", "--capacity", "sd-30=2"])
        .arg("--data-dir")
        .arg(dir.join("agent"))
        .arg("--injector-jar")
        .arg(jar)
        .args(["doctor", "--json", "--boot-timeout-secs", "8"])
        .env_remove("PLAYRACK_AGENT_CONFIG")
        .output()
        .expect("run node-agent doctor");
    let report: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor printed no JSON report ({e}): {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    (o.status.success(), report)
}

/// The check called `name`: its status and the whole entry.
fn check<'a>(report: &'a Value, name: &str) -> (&'a str, &'a Value) {
    let c = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {report:#}"));
    (c["status"].as_str().expect("status"), c)
}

#[test]
fn the_doctor_passes_on_the_virtual_device_image_and_names_injected_faults() {
    if std::env::var("PLAYRACK_TEST_DOCKER").as_deref() == Ok("off") {
        eprintln!("warning: PLAYRACK_TEST_DOCKER=off: node-agent doctor is not tested");
        return;
    }
    assert!(
        docker(&["info"]).status.success(),
        "no Docker engine answers: run scripts/dockerd.sh (or set PLAYRACK_TEST_DOCKER=off)"
    );
    let id = std::process::id();
    let base = format!("playrack/virtual-device:doctor-{id}");
    let no_encoder = format!("playrack/virtual-device:doctor-noenc-{id}");
    let no_adb = format!("playrack/virtual-device:doctor-noadb-{id}");
    let serial = format!("RK-DOCTOR-{id}");
    let _cleanup = Cleanup {
        images: vec![base.clone(), no_encoder.clone(), no_adb.clone()],
        serial: serial.clone(),
    };
    let built = Command::new(workspace().join("android-injector/docker/build-image.sh"))
        .arg(virtual_device())
        .arg(&base)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "build-image.sh: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let jar = dir.path().join("scrcpy-server.jar");
    std::fs::write(&jar, b"PK\x03\x04 the injector").unwrap();

    // The image as built: every check that needs the board passes.
    let (ok, report) = doctor(dir.path(), &serial, &base, &jar);
    assert!(ok, "{report:#}");
    for name in [
        "runtime", "kernel", "adb", "instance", "injector", "encoders", "encode", "input",
    ] {
        assert_eq!(check(&report, name).0, "pass", "{report:#}");
    }
    let (_, encode) = check(&report, "encode");
    assert!(
        encode["detail"]
            .as_str()
            .unwrap()
            .contains("frames of 360x640 decoded"),
        "{encode}"
    );
    let (_, encoders) = check(&report, "encoders");
    assert!(
        encoders["detail"]
            .as_str()
            .unwrap()
            .contains("the agent uses c2.playrack.avc.encoder (hardware)"),
        "{encoders}"
    );
    // Limits and disk depend on the machine: reported, never a failure here.
    for name in ["limits", "disk"] {
        assert_ne!(check(&report, name).0, "fail", "{report:#}");
    }
    // Nothing is left behind: no container, no adb server home.
    let left = docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=org.playrack.agent={serial}-doctor"),
    ]);
    assert!(left.stdout.is_empty(), "the doctor's instance was removed");

    // A ROM without any H.264 encoder: named, with a fix; what needs it is skipped.
    derive_image(&base, &no_encoder, &["--no-hw-encoder", "--no-sw-encoder"]);
    let (ok, report) = doctor(dir.path(), &serial, &no_encoder, &jar);
    assert!(!ok, "exit status 1 on a failure");
    assert_eq!(check(&report, "instance").0, "pass", "{report:#}");
    let (status, c) = check(&report, "encoders");
    assert_eq!(status, "fail", "{report:#}");
    assert_eq!(c["detail"], "the instance lists no H.264 video encoder");
    assert!(c["fix"].as_str().unwrap().contains("AVC encoder"), "{c}");
    assert_eq!(check(&report, "encode").0, "blocked");
    assert_eq!(check(&report, "input").0, "blocked");

    // adbd on another port than 5555: the instance is unreachable, and the doctor says so.
    derive_image(&base, &no_adb, &["--adb-port", "5556"]);
    let (ok, report) = doctor(dir.path(), &serial, &no_adb, &jar);
    assert!(!ok);
    let (status, c) = check(&report, "instance");
    assert_eq!(status, "fail", "{report:#}");
    let detail = c["detail"].as_str().unwrap();
    assert!(
        detail.contains("adbd is unreachable") && detail.contains("did not answer on 5555/tcp"),
        "{c}"
    );
    assert!(c["fix"].as_str().unwrap().contains("port 5555"), "{c}");
    for name in ["injector", "encoders", "encode", "input"] {
        assert_eq!(check(&report, name).0, "blocked", "{report:#}");
    }

    // The human report says the same in lines an operator reads.
    let o = Command::new(env!("CARGO_BIN_EXE_node-agent"))
        .args(["--runtime", "docker", "--docker-privileged", "false"])
        .args(["--docker-image", &no_encoder, "--serial", &serial])
        .arg("--data-dir")
        .arg(dir.path().join("agent"))
        .arg("--injector-jar")
        .arg(&jar)
        .arg("doctor")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("FAIL  encoders  the instance lists no H.264 video encoder\n"),
        "{text}"
    );
    assert!(text.contains("fix: "), "{text}");
    assert!(text.contains("1 check(s) failed"), "{text}");
}
