//! The agent's own adb server, driven through the real `adb` binary.
//!
//! The agent starts an adb server on its configured port with its own `HOME` (so its adb key
//! lives in the data directory and it never touches a developer's server on 5037), and runs
//! every adb command against it. Instances are reached over TCP: `adb connect 127.0.0.1:PORT`,
//! after which the instance's serial is that address.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use tokio::process::Command;

/// How long one adb command may take before it is abandoned (installs of large APKs included).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(300);
/// How often a condition (device state, boot property) is polled.
const POLL: Duration = Duration::from_millis(50);

/// What a command printed and how it exited.
#[derive(Debug, Clone)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Output {
    pub fn ok(&self) -> bool {
        self.code == 0
    }
}

/// A handle on the agent's adb server.
#[derive(Debug, Clone)]
pub struct Adb {
    bin: PathBuf,
    port: u16,
    home: PathBuf,
}

impl Adb {
    /// Starts (or reuses) the adb server on `port`, with its key under `home`.
    pub async fn start(bin: PathBuf, port: u16, home: PathBuf) -> anyhow::Result<Adb> {
        tokio::fs::create_dir_all(&home).await?;
        let adb = Adb { bin, port, home };
        let o = adb.run(&["start-server"]).await?;
        ensure!(o.ok(), "adb start-server: {}", o.stderr.trim());
        Ok(adb)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// An `adb` command against this server.
    pub fn command(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.env("HOME", &self.home)
            .env("ANDROID_ADB_SERVER_PORT", self.port.to_string())
            .env_remove("ADB_VENDOR_KEYS")
            .env_remove("ANDROID_SERIAL")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        c
    }

    /// Runs `adb ARGS` to completion.
    pub async fn run(&self, args: &[&str]) -> anyhow::Result<Output> {
        let out = tokio::time::timeout(COMMAND_TIMEOUT, self.command().args(args).output())
            .await
            .with_context(|| format!("adb {args:?} timed out"))?
            .with_context(|| format!("running {}", self.bin.display()))?;
        Ok(Output {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code().unwrap_or(-1),
        })
    }

    /// Runs `adb -s SERIAL ARGS`.
    pub async fn run_s(&self, serial: &str, args: &[&str]) -> anyhow::Result<Output> {
        let mut all = vec!["-s", serial];
        all.extend_from_slice(args);
        self.run(&all).await
    }

    /// `adb shell CMD` on `serial`.
    pub async fn shell(&self, serial: &str, cmd: &str) -> anyhow::Result<Output> {
        self.run_s(serial, &["shell", cmd]).await
    }

    /// The state `adb devices` reports for `serial` (`device`, `offline`, …).
    pub async fn state(&self, serial: &str) -> anyhow::Result<Option<String>> {
        let o = self.run(&["devices"]).await?;
        Ok(o.stdout.lines().find_map(|l| {
            let mut parts = l.split_whitespace();
            (parts.next() == Some(serial)).then(|| parts.next().unwrap_or("").to_owned())
        }))
    }

    /// `adb connect SERIAL` and waits until the device is online.
    pub async fn connect(&self, serial: &str, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let o = self.run(&["connect", serial]).await?;
            if o.ok() && self.state(serial).await?.as_deref() == Some("device") {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "adb connect {serial}: not online within {timeout:?} ({} {})",
                    o.stdout.trim(),
                    o.stderr.trim()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Forgets the TCP device (after its instance is gone).
    pub async fn disconnect(&self, serial: &str) {
        let _ = self.run(&["disconnect", serial]).await;
    }

    /// Waits until `getprop sys.boot_completed` is 1.
    pub async fn wait_boot(&self, serial: &str, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let o = self.shell(serial, "getprop sys.boot_completed").await?;
            if o.stdout.trim() == "1" {
                return Ok(());
            }
            ensure!(
                Instant::now() < deadline,
                "{serial} did not finish booting within {timeout:?}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// `adb install -r APK`.
    pub async fn install(&self, serial: &str, apk: &Path) -> anyhow::Result<()> {
        let path = apk.to_str().context("APK path is not UTF-8")?;
        let o = self.run_s(serial, &["install", "-r", path]).await?;
        ensure!(
            o.ok() && o.stdout.contains("Success"),
            "adb install: {} {}",
            o.stdout.trim(),
            o.stderr.trim()
        );
        Ok(())
    }

    /// `adb push LOCAL REMOTE`.
    pub async fn push(&self, serial: &str, local: &Path, remote: &str) -> anyhow::Result<()> {
        let path = local.to_str().context("local path is not UTF-8")?;
        let o = self.run_s(serial, &["push", path, remote]).await?;
        ensure!(o.ok(), "adb push {remote}: {}", o.stderr.trim());
        Ok(())
    }

    /// `adb forward tcp:0 REMOTE`; returns the local port adb picked.
    pub async fn forward(&self, serial: &str, remote: &str) -> anyhow::Result<u16> {
        let o = self.run_s(serial, &["forward", "tcp:0", remote]).await?;
        ensure!(o.ok(), "adb forward {remote}: {}", o.stderr.trim());
        o.stdout
            .trim()
            .parse()
            .with_context(|| format!("adb forward printed {:?}", o.stdout))
    }

    /// Removes a forward made by [`Adb::forward`].
    pub async fn remove_forward(&self, serial: &str, port: u16) {
        let _ = self
            .run_s(serial, &["forward", "--remove", &format!("tcp:{port}")])
            .await;
    }

    /// Stops the server (the agent's shutdown; tests).
    pub async fn kill_server(&self) {
        let _ = self.run(&["kill-server"]).await;
    }
}
