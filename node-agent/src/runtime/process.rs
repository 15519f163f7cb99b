//! The process driver: each instance is a `virtual-device` child process with its own data
//! directory under `<data-dir>/instances/<id>` and an adb port the OS picks (`--adb-port 0`).
//! The driver reads the child's `virtual-device listening on ADDR:PORT` line to learn the port
//! and to know the instance is up.
//!
//! Children are killed when the driver drops them (or the agent exits), so after an agent
//! restart there is nothing to adopt: [`Runtime::list`] is what this driver started.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::{Instance, InstanceSpec, Runtime, check_id};

/// How long a virtual device may take to print its listening line.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);
/// The line prefix `virtual-device` prints once its adbd listens.
pub const LISTENING_PREFIX: &str = "virtual-device listening on ";

struct Running {
    instance: Instance,
    child: Child,
}

pub struct ProcessDriver {
    binary: PathBuf,
    root: PathBuf,
    running: Mutex<HashMap<String, Running>>,
}

impl ProcessDriver {
    /// `binary` is the `virtual-device` executable; instance data goes under `root`.
    pub fn new(binary: PathBuf, root: PathBuf) -> ProcessDriver {
        ProcessDriver {
            binary,
            root,
            running: Mutex::new(HashMap::new()),
        }
    }

    fn data_dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }
}

impl Runtime for ProcessDriver {
    async fn create(&self, id: &str, spec: &InstanceSpec) -> anyhow::Result<Instance> {
        check_id(id)?;
        let dir = self.data_dir(id);
        // A fresh instance starts from an empty data partition.
        let _ = tokio::fs::remove_dir_all(&dir).await;
        tokio::fs::create_dir_all(&dir)
            .await
            .with_context(|| format!("creating {}", dir.display()))?;
        let mut child = Command::new(&self.binary)
            .args(["--adb-port", "0", "--listen", "127.0.0.1", "--no-auth"])
            .arg("--data-dir")
            .arg(&dir)
            .args(["--serial", id])
            .args(["--storage-quota-mb", &spec.data_mb.to_string()])
            .args(spec.boot_args())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", self.binary.display()))?;
        let stdout = child.stdout.take().context("child stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = tokio::time::timeout(START_TIMEOUT, async {
            while let Some(line) = lines.next_line().await? {
                if let Some(addr) = line.strip_prefix(LISTENING_PREFIX) {
                    return Ok::<_, anyhow::Error>(addr.trim().parse::<SocketAddr>()?);
                }
            }
            bail!("virtual-device exited before listening")
        })
        .await
        .context("virtual-device did not start in time")??;
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let instance = Instance {
            id: id.to_owned(),
            spec_id: spec.id.clone(),
            adb_addr: addr,
        };
        let old = self.running.lock().unwrap().insert(
            id.to_owned(),
            Running {
                instance: instance.clone(),
                child,
            },
        );
        if let Some(mut old) = old {
            let _ = old.child.start_kill();
        }
        tracing::info!(id, %addr, spec = %spec.id, "virtual device started");
        Ok(instance)
    }

    async fn list(&self) -> anyhow::Result<Vec<Instance>> {
        let mut running = self.running.lock().unwrap();
        // Forget children that died on their own.
        running.retain(|_, r| matches!(r.child.try_wait(), Ok(None)));
        Ok(running.values().map(|r| r.instance.clone()).collect())
    }

    async fn remove(&self, id: &str) -> anyhow::Result<()> {
        check_id(id)?;
        let removed = self.running.lock().unwrap().remove(id);
        if let Some(mut r) = removed {
            let _ = r.child.start_kill();
            let _ = r.child.wait().await;
        }
        match tokio::fs::remove_dir_all(self.data_dir(id)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e).context("removing the instance's data"),
        }
    }
}
