//! Runtime drivers: how an Android instance is started, found again and removed.
//!
//! One trait, [`Runtime`], two drivers: [`process::ProcessDriver`] starts `virtual-device`
//! child processes (the embedded default, and what tests use) and [`docker::DockerDriver`]
//! runs redroid-style containers through the Docker engine. Either way an instance is an adbd
//! reachable on `127.0.0.1:<port>`, and everything after boot (install, scrcpy) goes through
//! adb, so the rest of the agent does not know which driver runs it.

pub mod docker;
pub mod process;

use std::future::Future;
use std::net::SocketAddr;

use playrack_wire::api::Spec;

/// Display density used when a spec does not say (redroid's default).
pub const DEFAULT_DPI: u32 = 320;
/// Bytes an instance's `/data` may hold unless its spec says otherwise, in MiB: a game (or a
/// player's archive) that writes more gets "No space left on device" inside its instance and
/// the board's disk is untouched.
pub const DEFAULT_DATA_MB: u32 = 4096;

/// What an instance is booted with: the display of a spec plus its resource limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceSpec {
    pub id: String,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub dpi: u32,
    /// CPU limit in thousandths of a core; 0 means none.
    pub cpu_millis: u32,
    /// Memory limit in MiB; 0 means none.
    pub memory_mb: u32,
    /// Storage quota of the instance's `/data`, in MiB (never unlimited).
    pub data_mb: u32,
}

impl InstanceSpec {
    /// Parses `ID=WxH@FPS[:DPI][/CPU_MILLIS[/MEMORY_MB[/DATA_MB]]]`, e.g.
    /// `hd-60=720x1280@60:320/2000/2048/8192`.
    pub fn parse(s: &str) -> Result<InstanceSpec, String> {
        let bad =
            || format!("spec {s:?} is not ID=WxH@FPS[:DPI][/CPU_MILLIS[/MEMORY_MB[/DATA_MB]]]");
        let (id, rest) = s.trim().split_once('=').ok_or_else(bad)?;
        let mut limits = rest.split('/');
        let display = limits.next().ok_or_else(bad)?;
        let num = |v: &str| v.trim().parse::<u32>().map_err(|_| bad());
        let cpu_millis = limits.next().map(num).transpose()?.unwrap_or(0);
        let memory_mb = limits.next().map(num).transpose()?.unwrap_or(0);
        let data_mb = limits
            .next()
            .map(num)
            .transpose()?
            .unwrap_or(DEFAULT_DATA_MB);
        if limits.next().is_some() {
            return Err(bad());
        }
        let (size, rate) = display.split_once('@').ok_or_else(bad)?;
        let (w, h) = size.split_once('x').ok_or_else(bad)?;
        let (fps, dpi) = match rate.split_once(':') {
            Some((f, d)) => (num(f)?, num(d)?),
            None => (num(rate)?, DEFAULT_DPI),
        };
        let spec = InstanceSpec {
            id: id.trim().to_owned(),
            width: num(w)?,
            height: num(h)?,
            fps,
            dpi,
            cpu_millis,
            memory_mb,
            data_mb,
        };
        if spec.id.is_empty()
            || spec.width == 0
            || spec.height == 0
            || spec.fps == 0
            || spec.data_mb == 0
        {
            return Err(bad());
        }
        Ok(spec)
    }

    /// redroid's boot arguments for this display.
    pub fn boot_args(&self) -> Vec<String> {
        vec![
            format!("androidboot.redroid_width={}", self.width),
            format!("androidboot.redroid_height={}", self.height),
            format!("androidboot.redroid_fps={}", self.fps),
            format!("androidboot.redroid_dpi={}", self.dpi),
        ]
    }
}

impl From<&Spec> for InstanceSpec {
    fn from(s: &Spec) -> InstanceSpec {
        InstanceSpec {
            id: s.id.clone(),
            width: s.width,
            height: s.height,
            fps: s.fps,
            dpi: DEFAULT_DPI,
            cpu_millis: s.cpu_millis,
            memory_mb: s.memory_mb,
            data_mb: DEFAULT_DATA_MB,
        }
    }
}

/// A running instance as its driver knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub id: String,
    pub spec_id: String,
    /// Where its adbd listens (always loopback).
    pub adb_addr: SocketAddr,
}

impl Instance {
    /// The serial adb knows it by after `adb connect`.
    pub fn serial(&self) -> String {
        self.adb_addr.to_string()
    }
}

/// Starts, lists and removes instances.
pub trait Runtime: Send + Sync + 'static {
    /// Starts instance `id` and returns once its adbd accepts connections.
    fn create(
        &self,
        id: &str,
        spec: &InstanceSpec,
    ) -> impl Future<Output = anyhow::Result<Instance>> + Send;
    /// The instances this agent's driver runs (after a restart: the ones it can adopt).
    fn list(&self) -> impl Future<Output = anyhow::Result<Vec<Instance>>> + Send;
    /// Stops instance `id` and deletes its data. Removing an unknown id is not an error.
    fn remove(&self, id: &str) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// Either driver, chosen by configuration.
pub enum Driver {
    Process(process::ProcessDriver),
    Docker(docker::DockerDriver),
}

impl Runtime for Driver {
    async fn create(&self, id: &str, spec: &InstanceSpec) -> anyhow::Result<Instance> {
        match self {
            Driver::Process(d) => d.create(id, spec).await,
            Driver::Docker(d) => d.create(id, spec).await,
        }
    }
    async fn list(&self) -> anyhow::Result<Vec<Instance>> {
        match self {
            Driver::Process(d) => d.list().await,
            Driver::Docker(d) => d.list().await,
        }
    }
    async fn remove(&self, id: &str) -> anyhow::Result<()> {
        match self {
            Driver::Process(d) => d.remove(id).await,
            Driver::Docker(d) => d.remove(id).await,
        }
    }
}

/// Instance ids become directory and container names: keep them to `[A-Za-z0-9_.-]`.
pub fn check_id(id: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        !id.is_empty()
            && id.len() <= 64
            && !id.starts_with('.')
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'),
        "instance id {id:?} is not [A-Za-z0-9_.-]{{1,64}}"
    );
    Ok(())
}

/// Whether an adbd answers at `addr`: sends adb's `CNXN` and waits for any packet back. (A
/// published Docker port accepts TCP before the container listens, so a bare connect proves
/// nothing.)
pub async fn adbd_answers(addr: SocketAddr) -> bool {
    use playrack_adb_proto::packet::{self, A_CNXN, A_VERSION, MAX_PAYLOAD, Packet};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let probe = async {
        let mut s = tokio::net::TcpStream::connect(addr).await?;
        let hello = Packet::new(A_CNXN, A_VERSION, MAX_PAYLOAD, b"host::\0".to_vec());
        s.write_all(&packet::encode(&hello)).await?;
        let mut header = [0u8; packet::HEADER_LEN];
        s.read_exact(&mut header).await?;
        Ok::<_, std::io::Error>(())
    };
    matches!(
        tokio::time::timeout(std::time::Duration::from_secs(2), probe).await,
        Ok(Ok(()))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_with_defaults_and_limits() {
        let s = InstanceSpec::parse("sd-30=480x854@30").unwrap();
        assert_eq!(
            (s.width, s.height, s.fps, s.dpi),
            (480, 854, 30, DEFAULT_DPI)
        );
        assert_eq!((s.cpu_millis, s.memory_mb), (0, 0));
        assert_eq!(s.data_mb, DEFAULT_DATA_MB, "/data always has a quota");
        let l = InstanceSpec::parse("hd-60=720x1280@60:320/2000/2048/8192").unwrap();
        assert_eq!((l.cpu_millis, l.memory_mb, l.data_mb), (2000, 2048, 8192));
        assert_eq!(
            s.boot_args(),
            [
                "androidboot.redroid_width=480",
                "androidboot.redroid_height=854",
                "androidboot.redroid_fps=30",
                "androidboot.redroid_dpi=320"
            ]
        );
        for bad in [
            "x",
            "a=1x2",
            "a=0x2@3",
            "=1x2@3",
            "a=1x2@3/z",
            "a=1x2@3/1/1/0",
            "a=1x2@3/1/1/1/1",
        ] {
            assert!(InstanceSpec::parse(bad).is_err(), "{bad}");
        }
        assert!(check_id("i-1.a_b").is_ok());
        assert!(check_id("../x").is_err());
    }
}
