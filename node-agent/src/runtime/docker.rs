//! The Docker driver: each instance is a redroid-style container started from the configured
//! image with redroid's boot arguments (`androidboot.redroid_width/height/fps/dpi`) as its
//! command, a per-instance data directory bind-mounted at `/data`, the spec's CPU and memory
//! limits, adbd's port 5555 published on 127.0.0.1 with an ephemeral host port, and labels
//! that let the agent find its containers again after a restart:
//!
//! - `org.playrack.agent=<board serial>` — whose container it is;
//! - `org.playrack.instance=<id>` and `org.playrack.spec=<spec id>` — what it is.
//!
//! redroid needs `--privileged`; it is a configuration flag (default on) because some engines
//! (and the test sandbox) refuse privileged containers, and the virtual device does not need it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig, PortBinding};
use bollard::query_parameters::{
    CreateContainerOptions, InspectContainerOptions, ListContainersOptions, RemoveContainerOptions,
};

use super::{Instance, InstanceSpec, Runtime, adbd_answers, check_id};

pub const LABEL_AGENT: &str = "org.playrack.agent";
pub const LABEL_INSTANCE: &str = "org.playrack.instance";
pub const LABEL_SPEC: &str = "org.playrack.spec";
/// adbd's port inside the container (redroid's).
pub const ADB_PORT: &str = "5555/tcp";
/// How long a container may take until its adbd answers.
pub const BOOT_TIMEOUT: Duration = Duration::from_secs(60);

pub struct DockerDriver {
    docker: Docker,
    image: String,
    privileged: bool,
    /// The board's identity, the value of [`LABEL_AGENT`].
    agent: String,
    /// Host directory holding each instance's `/data`.
    root: PathBuf,
    /// How long a container may take until its adbd answers.
    boot_timeout: Duration,
}

/// What the engine says about the configured image.
#[derive(Debug, Clone)]
pub struct ImageFacts {
    pub architecture: String,
    pub labels: HashMap<String, String>,
}

impl DockerDriver {
    /// Connects to the local engine (`DOCKER_HOST` or the default socket).
    pub fn new(
        image: String,
        privileged: bool,
        agent: String,
        root: PathBuf,
    ) -> anyhow::Result<DockerDriver> {
        let docker = Docker::connect_with_defaults().context("connecting to the Docker engine")?;
        Ok(DockerDriver {
            docker,
            image,
            privileged,
            agent,
            root,
            boot_timeout: BOOT_TIMEOUT,
        })
    }

    /// The same driver with another boot deadline.
    pub fn with_boot_timeout(mut self, timeout: Duration) -> DockerDriver {
        self.boot_timeout = timeout;
        self
    }

    /// The engine's version, if it answers.
    pub async fn engine_version(&self) -> anyhow::Result<String> {
        let v = self
            .docker
            .version()
            .await
            .context("asking the Docker engine its version")?;
        Ok(v.version.unwrap_or_else(|| "(unknown)".into()))
    }

    /// The configured image as the engine has it; `None` when it is not on this machine.
    pub async fn image(&self) -> anyhow::Result<Option<ImageFacts>> {
        match self.docker.inspect_image(&self.image).await {
            Ok(i) => Ok(Some(ImageFacts {
                architecture: i.architecture.unwrap_or_default(),
                labels: i.config.and_then(|c| c.labels).unwrap_or_default(),
            })),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(e).with_context(|| format!("inspecting image {}", self.image)),
        }
    }

    /// The last `lines` lines the instance's container wrote (for an error report).
    pub async fn logs(&self, id: &str, lines: usize) -> String {
        use futures_util::StreamExt;
        let options = bollard::query_parameters::LogsOptions {
            stdout: true,
            stderr: true,
            tail: lines.to_string(),
            ..Default::default()
        };
        let mut out = String::new();
        let mut stream = self.docker.logs(&self.container_name(id), Some(options));
        while let Some(Ok(chunk)) = stream.next().await {
            out.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
        }
        out
    }

    /// The container's name: unique per board and instance.
    pub fn container_name(&self, id: &str) -> String {
        let agent: String = self
            .agent
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        format!("playrack-{agent}-{id}")
    }

    /// The host port 5555 is published on, once the container runs.
    async fn host_port(&self, name: &str) -> anyhow::Result<Option<u16>> {
        let info = self
            .docker
            .inspect_container(name, None::<InspectContainerOptions>)
            .await?;
        let port = info
            .network_settings
            .and_then(|n| n.ports)
            .and_then(|p| p.get(ADB_PORT).cloned().flatten())
            .and_then(|bindings| {
                bindings
                    .into_iter()
                    .find_map(|b| b.host_port.and_then(|p| p.parse::<u16>().ok()))
            });
        Ok(port)
    }
}

impl Runtime for DockerDriver {
    async fn create(&self, id: &str, spec: &InstanceSpec) -> anyhow::Result<Instance> {
        check_id(id)?;
        let name = self.container_name(id);
        // A leftover with the same name (a crash between create and record) goes first.
        self.remove(id).await?;
        let data = self.root.join(id);
        tokio::fs::create_dir_all(&data)
            .await
            .with_context(|| format!("creating {}", data.display()))?;
        let data = tokio::fs::canonicalize(&data).await?;
        let labels = HashMap::from([
            (LABEL_AGENT.to_owned(), self.agent.clone()),
            (LABEL_INSTANCE.to_owned(), id.to_owned()),
            (LABEL_SPEC.to_owned(), spec.id.clone()),
        ]);
        let host_config = HostConfig {
            privileged: Some(self.privileged),
            binds: Some(vec![format!("{}:/data", data.display())]),
            port_bindings: Some(HashMap::from([(
                ADB_PORT.to_owned(),
                Some(vec![PortBinding {
                    host_ip: Some("127.0.0.1".into()),
                    host_port: Some(String::new()),
                }]),
            )])),
            nano_cpus: (spec.cpu_millis > 0).then(|| i64::from(spec.cpu_millis) * 1_000_000),
            memory: (spec.memory_mb > 0).then(|| i64::from(spec.memory_mb) << 20),
            ..Default::default()
        };
        let body = ContainerCreateBody {
            image: Some(self.image.clone()),
            cmd: Some(spec.boot_args()),
            // The virtual device's image enforces the /data quota itself; a redroid host keeps
            // the instances' data root on a file system with project quotas.
            env: Some(vec![format!("PLAYRACK_STORAGE_QUOTA_MB={}", spec.data_mb)]),
            labels: Some(labels),
            exposed_ports: Some(vec![ADB_PORT.to_owned()]),
            host_config: Some(host_config),
            ..Default::default()
        };
        self.docker
            .create_container(
                Some(CreateContainerOptions {
                    name: Some(name.clone()),
                    ..Default::default()
                }),
                body,
            )
            .await
            .with_context(|| format!("creating container {name} from {}", self.image))?;
        self.docker
            .start_container(&name, None)
            .await
            .with_context(|| format!("starting container {name}"))?;
        let deadline = Instant::now() + self.boot_timeout;
        loop {
            if let Some(port) = self.host_port(&name).await? {
                let addr = SocketAddr::from(([127, 0, 0, 1], port));
                if adbd_answers(addr).await {
                    tracing::info!(id, %addr, container = %name, "container started");
                    return Ok(Instance {
                        id: id.to_owned(),
                        spec_id: spec.id.clone(),
                        adb_addr: addr,
                    });
                }
            }
            if Instant::now() > deadline {
                let logs = self.logs(id, 5).await;
                let _ = self.remove(id).await;
                bail!(
                    "container {name}: adbd did not answer on {ADB_PORT} within {:?} (its last lines: {:?})",
                    self.boot_timeout,
                    logs.trim()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn list(&self) -> anyhow::Result<Vec<Instance>> {
        let filters = HashMap::from([(
            "label".to_owned(),
            vec![format!("{LABEL_AGENT}={}", self.agent)],
        )]);
        let containers = self
            .docker
            .list_containers(Some(ListContainersOptions {
                all: false,
                filters: Some(filters),
                ..Default::default()
            }))
            .await?;
        let mut out = Vec::new();
        for c in containers {
            let labels = c.labels.unwrap_or_default();
            let (Some(id), Some(spec)) = (labels.get(LABEL_INSTANCE), labels.get(LABEL_SPEC))
            else {
                continue;
            };
            let port = c.ports.unwrap_or_default().into_iter().find_map(|p| {
                (p.private_port == 5555 && p.ip.as_deref() == Some("127.0.0.1"))
                    .then_some(p.public_port)
                    .flatten()
            });
            if let Some(port) = port {
                out.push(Instance {
                    id: id.clone(),
                    spec_id: spec.clone(),
                    adb_addr: SocketAddr::from(([127, 0, 0, 1], port)),
                });
            }
        }
        Ok(out)
    }

    async fn remove(&self, id: &str) -> anyhow::Result<()> {
        check_id(id)?;
        let name = self.container_name(id);
        match self
            .docker
            .remove_container(
                &name,
                Some(RemoveContainerOptions {
                    force: true,
                    v: true,
                    ..Default::default()
                }),
            )
            .await
        {
            Ok(()) => {}
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => {}
            Err(e) => return Err(e).with_context(|| format!("removing container {name}")),
        }
        match tokio::fs::remove_dir_all(self.root.join(id)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e).context("removing the instance's data"),
        }
    }
}
