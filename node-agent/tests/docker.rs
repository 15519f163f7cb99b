//! The Docker driver for real: the virtual device's image is built with
//! `android-injector/docker/build-image.sh` from the debug `virtual-device` binary, and the
//! driver creates and starts a container from it like redroid — boot arguments from the spec,
//! a bind-mounted data directory, CPU and memory limits, labels, adbd published on 127.0.0.1 —
//! then finds it again by label (as after an agent restart) and removes it. Real `adb` checks
//! the display the boot arguments asked for.
//!
//! Needs a running Docker engine (`scripts/dockerd.sh`). The sandbox's engine refuses
//! `--privileged`, so the test runs unprivileged (the driver's default is privileged, as redroid
//! needs). Set `PLAYRACK_TEST_DOCKER=off` to skip on a machine without Docker (said loudly).

mod support;

use std::process::Command;
use std::time::Duration;

use node_agent::adb::Adb;
use node_agent::runtime::docker::{DockerDriver, LABEL_AGENT, LABEL_INSTANCE, LABEL_SPEC};
use node_agent::runtime::{InstanceSpec, Runtime, adbd_answers};
use support::{docker, free_port, virtual_device, workspace};

/// Removes the image (and any container left) however the test ends.
struct Cleanup {
    image: String,
    agent: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let o = docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label={LABEL_AGENT}={}", self.agent),
        ]);
        for id in String::from_utf8_lossy(&o.stdout).split_whitespace() {
            let _ = docker(&["rm", "-f", id]);
        }
        let _ = docker(&["rmi", "-f", &self.image]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docker_driver_runs_adopts_and_removes_redroid_style_containers() {
    if std::env::var("PLAYRACK_TEST_DOCKER").as_deref() == Ok("off") {
        eprintln!("warning: PLAYRACK_TEST_DOCKER=off: the Docker driver is not tested");
        return;
    }
    assert!(
        docker(&["info"]).status.success(),
        "no Docker engine answers: run scripts/dockerd.sh (or set PLAYRACK_TEST_DOCKER=off)"
    );
    let tag = format!("playrack/virtual-device:agent-test-{}", std::process::id());
    let agent = format!("RK-DOCKER-{}", std::process::id());
    let _cleanup = Cleanup {
        image: tag.clone(),
        agent: agent.clone(),
    };
    let built = Command::new(workspace().join("android-injector/docker/build-image.sh"))
        .arg(virtual_device())
        .arg(&tag)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "build-image.sh: {}",
        String::from_utf8_lossy(&built.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("instances");
    let driver = DockerDriver::new(tag.clone(), false, agent.clone(), root.clone()).unwrap();
    let spec = InstanceSpec::parse("sd-30=360x640@30:240/1500/512").unwrap();
    let inst = driver.create("d-1", &spec).await.unwrap();
    assert_eq!(inst.adb_addr.ip().to_string(), "127.0.0.1");
    assert!(adbd_answers(inst.adb_addr).await);
    assert!(root.join("d-1").is_dir(), "per-instance data directory");

    // What the engine was told.
    let name = driver.container_name("d-1");
    let fmt = "{{json .Config.Labels}}|{{json .Config.Cmd}}|{{.HostConfig.NanoCpus}}|{{.HostConfig.Memory}}|{{.HostConfig.Privileged}}|{{json .HostConfig.Binds}}";
    let o = docker(&["inspect", "-f", fmt, &name]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout).trim().to_owned();
    let parts: Vec<&str> = text.split('|').collect();
    let labels: std::collections::HashMap<String, String> = serde_json::from_str(parts[0]).unwrap();
    assert_eq!(labels[LABEL_AGENT], agent);
    assert_eq!(labels[LABEL_INSTANCE], "d-1");
    assert_eq!(labels[LABEL_SPEC], "sd-30");
    let cmd: Vec<String> = serde_json::from_str(parts[1]).unwrap();
    assert_eq!(cmd, spec.boot_args());
    assert_eq!(parts[2], "1500000000", "1.5 cores");
    assert_eq!(parts[3], (512u64 << 20).to_string());
    assert_eq!(parts[4], "false");
    assert!(parts[5].contains(":/data"), "{}", parts[5]);

    // Real adb reaches it; the display is the one the boot arguments asked for.
    let adb = Adb::start("adb".into(), free_port(), dir.path().join("adb-home"))
        .await
        .unwrap();
    let _adb_guard = support::AdbGuard(adb.clone());
    let serial = inst.serial();
    adb.connect(&serial, Duration::from_secs(30)).await.unwrap();
    adb.wait_boot(&serial, Duration::from_secs(30))
        .await
        .unwrap();
    let o = adb.shell(&serial, "wm size").await.unwrap();
    assert!(o.stdout.contains("360x640"), "{o:?}");
    let o = adb.shell(&serial, "wm density").await.unwrap();
    assert!(o.stdout.contains("240"), "{o:?}");
    adb.disconnect(&serial).await;

    // After an agent restart a new driver finds it by its labels.
    let again = DockerDriver::new(tag.clone(), false, agent.clone(), root.clone()).unwrap();
    let found = again.list().await.unwrap();
    assert_eq!(found, vec![inst.clone()]);
    // Another board's driver does not see it.
    let other =
        DockerDriver::new(tag.clone(), false, format!("{agent}-other"), root.clone()).unwrap();
    assert!(other.list().await.unwrap().is_empty());

    again.remove("d-1").await.unwrap();
    assert!(again.list().await.unwrap().is_empty());
    assert!(!root.join("d-1").exists(), "data removed with the instance");
    // Removing again is fine.
    again.remove("d-1").await.unwrap();
    adb.kill_server().await;
}
