//! The virtual device's Docker image, built locally by `docker/build-image.sh` (no registry, no
//! base image) and started exactly like redroid: boot arguments as the command, adbd on
//! container port 5555 published on 127.0.0.1, a data volume at /data. Debian's real adb then
//! connects through the published port.
//!
//! Needs a running Docker engine (`scripts/dockerd.sh`, run by `scripts/test.sh`). Set
//! `PLAYRACK_TEST_DOCKER=off` to skip on a machine without one (the suite says so loudly).

mod adb_support;

use adb_support::{AdbServer, TIMEOUT, wait_for};
use std::process::Command;

fn docker(args: &[&str]) -> std::process::Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("run docker")
}

fn docker_ok(args: &[&str]) -> String {
    let o = docker(args);
    assert!(
        o.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

/// Removes the container and the image however the test ends.
struct Cleanup {
    container: Option<String>,
    image: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(c) = &self.container {
            let _ = docker(&["rm", "-f", c]);
        }
        let _ = docker(&["rmi", "-f", &self.image]);
    }
}

fn published_port(container: &str) -> u16 {
    let mapping = docker_ok(&["port", container, "5555/tcp"]);
    let first = mapping.lines().next().expect("a published port");
    assert!(
        first.starts_with("127.0.0.1:"),
        "published on loopback only: {first}"
    );
    first.rsplit(':').next().unwrap().parse().unwrap()
}

#[test]
fn the_image_starts_like_redroid_and_real_adb_reaches_it() {
    if std::env::var("PLAYRACK_TEST_DOCKER").as_deref() == Ok("off") {
        eprintln!("warning: PLAYRACK_TEST_DOCKER=off: the Docker image is not tested");
        return;
    }
    assert!(
        docker(&["info"]).status.success(),
        "no Docker engine answers: run scripts/dockerd.sh (or set PLAYRACK_TEST_DOCKER=off)"
    );
    let tag = format!("playrack/virtual-device:test-{}", std::process::id());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/docker/build-image.sh");
    let built = Command::new(script)
        .args([env!("CARGO_BIN_EXE_virtual-device"), &tag])
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "build-image.sh: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    let mut cleanup = Cleanup {
        container: None,
        image: tag.clone(),
    };

    // The image holds the binary and the libraries it links, nothing else.
    let size: u64 = docker_ok(&["image", "inspect", "-f", "{{.Size}}", &tag])
        .parse()
        .unwrap();
    assert!(size < 64 << 20, "image is {size} bytes");

    let volume = tempfile::tempdir().unwrap();
    let mount = format!("{}:/data", volume.path().display());
    let container = docker_ok(&[
        "run",
        "-d",
        "-p",
        "127.0.0.1::5555",
        "-v",
        &mount,
        &tag,
        "androidboot.redroid_width=540",
        "androidboot.redroid_height=960",
        "androidboot.redroid_fps=30",
        "androidboot.redroid_dpi=240",
    ]);
    cleanup.container = Some(container.clone());

    let adb = AdbServer::start();
    let serial = format!("127.0.0.1:{}", published_port(&container));
    adb.connect(&serial);
    assert_eq!(
        adb.shell(&serial, "getprop ro.product.cpu.abi").0.trim(),
        "arm64-v8a"
    );
    assert_eq!(
        adb.shell(&serial, "wm size").0.trim(),
        "Physical size: 540x960",
        "boot args set the display"
    );
    assert!(wait_for(TIMEOUT, || adb
        .shell(&serial, "getprop sys.boot_completed")
        .0
        .trim()
        == "1"));
    // The binary carries the scrcpy-compatible server: scrcpy's launch line reaches it (and,
    // without the pushed jar, fails the way scrcpy's does) instead of "not found".
    let (out, err, code) = adb.shell(
        &serial,
        "CLASSPATH=/data/local/tmp/scrcpy-server.jar app_process / com.genymobile.scrcpy.Server 4.1",
    );
    assert_ne!(
        code, 127,
        "app_process is missing from the image: {out}{err}"
    );
    assert!(!format!("{out}{err}").contains("not found"), "{out}{err}");

    // The data partition is the volume: what is written survives a container restart.
    let file = volume.path().join("payload.bin");
    std::fs::write(&file, b"saved game 42").unwrap();
    let pushed = adb.adb_s(
        &serial,
        &[
            "push",
            file.to_str().unwrap(),
            "/data/local/tmp/payload.bin",
        ],
    );
    assert!(pushed.status.success(), "{pushed:?}");
    docker_ok(&["restart", &container]);
    let serial = format!("127.0.0.1:{}", published_port(&container));
    adb.adb(&["disconnect"]);
    adb.connect(&serial);
    assert_eq!(
        adb.shell(&serial, "cat /data/local/tmp/payload.bin").0,
        "saved game 42"
    );
    drop(cleanup);
}
