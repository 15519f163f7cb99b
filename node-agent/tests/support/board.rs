//! A board as a real process: the `node-agent` binary with the process driver and warm
//! virtual devices, enrolled into a test controller with an enrolment token. The drills kill
//! it; the memory benchmark reads its resident set.
//!
//! Include it next to the support module: `#[path = "support/board.rs"] mod board;`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::ctl::Ctl;
use crate::support::{self, Process, free_port};

/// What the board process runs.
pub struct BoardOptions {
    /// `hd-60` slots, all kept warm.
    pub slots: u32,
    /// What `hd-60` is on this board: `WxH@FPS`.
    pub spec: &'static str,
    /// The virtual device binary.
    pub virtual_device: PathBuf,
    /// A network namespace to run in (by name) and the address its players reach it at.
    pub netns: Option<(String, String)>,
}

impl Default for BoardOptions {
    fn default() -> Self {
        BoardOptions {
            slots: 1,
            spec: "360x640@30",
            virtual_device: support::virtual_device(),
            netns: None,
        }
    }
}

/// A running board; dropping it kills the process group and its adb server.
pub struct BoardProcess {
    pub process: Process,
    pub serial: String,
    adb_port: u16,
}

impl BoardProcess {
    /// One board with one warm 360×640 slot on loopback.
    pub fn start(ctl: &Ctl, token: &str, serial: &str, dir: &Path) -> BoardProcess {
        Self::start_with(ctl, token, serial, dir, BoardOptions::default())
    }

    /// A board as `board` says, keeping its files under `dir/serial`.
    pub fn start_with(
        ctl: &Ctl,
        token: &str,
        serial: &str,
        dir: &Path,
        board: BoardOptions,
    ) -> BoardProcess {
        let dir = dir.join(serial);
        std::fs::create_dir_all(&dir).unwrap();
        let jar = dir.join("scrcpy-server.jar");
        std::fs::write(&jar, b"PK\x03\x04 the injector").unwrap();
        let adb_port = free_port();
        let agent = env!("CARGO_BIN_EXE_node-agent");
        let (mut cmd, listen) = match &board.netns {
            None => (Command::new(agent), "127.0.0.1".to_owned()),
            Some((ns, listen)) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, agent]);
                (c, listen.clone())
            }
        };
        let slots = format!("hd-60={}", board.slots);
        cmd.args(["--controller-url", &ctl.url])
            .args(["--enrolment-token", token])
            .args(["--serial", serial, "--model", "RK3588"])
            .args(["--capacity", &slots, "--warm", &slots])
            .args(["--spec", &format!("hd-60={}", board.spec)])
            .args(["--runtime", "process"])
            .arg("--virtual-device")
            .arg(&board.virtual_device)
            .args(["--adb-port", &adb_port.to_string()])
            .arg("--injector-jar")
            .arg(&jar)
            .arg("--shared-volume")
            .arg(&ctl.config.package_store)
            .arg("--data-dir")
            .arg(dir.join("agent"))
            .args(["--webrtc-port", "0", "--http-port", "0"])
            .args(["--listen-address", &listen])
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "node_agent=warn".into()),
            );
        BoardProcess {
            process: Process::spawn(serial, cmd),
            serial: serial.to_owned(),
            adb_port,
        }
    }

    /// The agent process's resident set (`VmRSS`), in bytes; its virtual devices are
    /// processes of their own and not counted.
    pub fn rss_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.process.child.id()))
            .expect("the agent process is running");
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/<pid>/status");
        kb * 1024
    }
}

impl Drop for BoardProcess {
    fn drop(&mut self) {
        // The adb server daemonizes out of the agent's process group.
        let _ = Command::new("adb")
            .args(["-P", &self.adb_port.to_string(), "kill-server"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}
