//! Configuration: a TOML file, `PLAYRACK_AGENT_*` environment variables and command-line flags,
//! in rising order of precedence, merged into one [`Config`].
//!
//! Every option is a flag (see `node-agent --help`), an environment variable and a key in the
//! file, with the same name in the three spellings (`--adb-port`, `PLAYRACK_AGENT_ADB_PORT`,
//! `adb_port`). Lists (`--capacity`, `--spec`, `--warm`, `--stun`, `--turn`) are comma-separated
//! in flags and variables and arrays in the file.

use clap::Parser;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use crate::runtime::InstanceSpec;

/// Default adb server port of the agent's own adb server: not adb's usual 5037, so the agent
/// never shares (or kills) a developer's adb server on the same machine.
pub const DEFAULT_ADB_PORT: u16 = 5137;
/// Default package cache budget: 20 GiB, room for a few dozen large games.
pub const DEFAULT_PACKAGE_CACHE_BYTES: u64 = 20 << 30;
/// Default scrcpy server version, the protocol `android-injector` speaks.
pub const DEFAULT_INJECTOR_VERSION: &str = playrack_scrcpy::SCRCPY_VERSION;
/// Default WebRTC UDP port (one socket for every session on the board).
pub const DEFAULT_WEBRTC_PORT: u16 = 7700;
/// Slices per frame asked of the injector unless configured (a 720p frame: 900 macroblocks
/// each).
pub const DEFAULT_VIDEO_SLICES: u8 = 4;
/// The image the Docker driver runs when none is configured (built by
/// `android-injector/docker/build-image.sh`).
pub const DEFAULT_DOCKER_IMAGE: &str = "playrack/virtual-device:dev";

/// Playrack's node agent: runs the Android instances of one board, keeps a warm pool, syncs
/// packages from the room's shared volume and prepares plays for the array controller.
#[derive(Debug, Parser, Default)]
#[command(name = "node-agent", version, about, long_about = None)]
pub struct Args {
    /// What to do (default: run the agent).
    #[command(subcommand)]
    pub command: Option<Command>,

    /// A TOML file with any of the options below (keys in snake_case).
    #[arg(long, env = "PLAYRACK_AGENT_CONFIG")]
    pub config: Option<PathBuf>,

    /// The array controller's base URL, e.g. `https://controller.example:7600`.
    #[arg(long, env = "PLAYRACK_AGENT_CONTROLLER_URL")]
    pub controller_url: Option<String>,

    /// A CA certificate (PEM) to trust for an `https://` controller, besides the system's
    /// roots: for a controller whose certificate a private CA signed.
    #[arg(long, env = "PLAYRACK_AGENT_CONTROLLER_CA")]
    pub controller_ca: Option<PathBuf>,

    /// A client certificate (PEM chain) the agent presents when dialling the controller, for a
    /// proxy in front of it that asks boards for one; needs `--client-key`.
    #[arg(long, env = "PLAYRACK_AGENT_CLIENT_CERT", requires = "client_key")]
    pub client_cert: Option<PathBuf>,

    /// The private key (PEM) of `--client-cert`.
    #[arg(long, env = "PLAYRACK_AGENT_CLIENT_KEY", requires = "client_cert")]
    pub client_key: Option<PathBuf>,

    /// Serve the agent's HTTP server (signaling, probe) over TLS with this certificate chain
    /// (PEM, leaf first); needs `--tls-key`. The announced signaling URL becomes `wss://`.
    /// Behind a TLS-terminating proxy instead, leave it unset and give `--signaling-url`.
    #[arg(long, env = "PLAYRACK_AGENT_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The private key (PEM) of `--tls-cert`.
    #[arg(long, env = "PLAYRACK_AGENT_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// The machine room's enrolment token (from the operator). Used once: the board credential
    /// it is traded for is kept in the data directory.
    #[arg(long, env = "PLAYRACK_AGENT_ENROLMENT_TOKEN")]
    pub enrolment_token: Option<String>,

    /// The board's serial number (its identity in the controller). Defaults to the host name.
    #[arg(long, env = "PLAYRACK_AGENT_SERIAL")]
    pub serial: Option<String>,

    /// The board's model, e.g. `RK3588`.
    #[arg(long, env = "PLAYRACK_AGENT_MODEL")]
    pub model: Option<String>,

    /// How many instances of each spec the board offers: `hd-60=8,sd-30=16`.
    #[arg(long, env = "PLAYRACK_AGENT_CAPACITY", value_delimiter = ',')]
    pub capacity: Option<Vec<String>>,

    /// The displays of the specs the warm pool boots ahead of any play:
    /// `hd-60=720x1280@60` (optionally `:DPI`, `/CPU_MILLIS`, `/MEMORY_MB`, `/DATA_MB` — the
    /// `/data` quota, 4096 MiB if not given — e.g. `hd-60=720x1280@60:320/2000/2048/8192`). A
    /// play for another spec boots an instance on demand.
    #[arg(long, env = "PLAYRACK_AGENT_SPEC", value_delimiter = ',')]
    pub spec: Option<Vec<String>>,

    /// Warm pool size per spec: `hd-60=2` keeps two booted idle `hd-60` instances.
    #[arg(long, env = "PLAYRACK_AGENT_WARM", value_delimiter = ',')]
    pub warm: Option<Vec<String>>,

    /// How instances run: `process` (virtual devices as child processes) or `docker`
    /// (redroid-style containers).
    #[arg(long, env = "PLAYRACK_AGENT_RUNTIME")]
    pub runtime: Option<RuntimeKind>,

    /// The `virtual-device` binary the process driver starts.
    #[arg(long, env = "PLAYRACK_AGENT_VIRTUAL_DEVICE")]
    pub virtual_device: Option<PathBuf>,

    /// The image the docker driver runs (redroid or the virtual device's image).
    #[arg(long, env = "PLAYRACK_AGENT_DOCKER_IMAGE")]
    pub docker_image: Option<String>,

    /// Run containers privileged, as redroid needs (`--docker-privileged false` for images that
    /// do not, or engines that refuse it).
    #[arg(long, env = "PLAYRACK_AGENT_DOCKER_PRIVILEGED")]
    pub docker_privileged: Option<bool>,

    /// The `adb` binary.
    #[arg(long, env = "PLAYRACK_AGENT_ADB")]
    pub adb: Option<PathBuf>,

    /// Port of the agent's own adb server (started and owned by the agent).
    #[arg(long, env = "PLAYRACK_AGENT_ADB_PORT")]
    pub adb_port: Option<u16>,

    /// The injector (scrcpy server) jar pushed into every instance.
    #[arg(long, env = "PLAYRACK_AGENT_INJECTOR_JAR")]
    pub injector_jar: Option<PathBuf>,

    /// The injector's version: the first argument the server must match byte for byte.
    #[arg(long, env = "PLAYRACK_AGENT_INJECTOR_VERSION")]
    pub injector_version: Option<String>,

    /// Whether the injector changes its video bit rate in place (Playrack's injector does;
    /// `--injector-live-bit-rate false` for scrcpy's own server, which knows no such message:
    /// the video then stays at the spec's top rate whatever the player's link carries, and
    /// the page ↔ game custom channel, Playrack's other extension, is refused).
    #[arg(long, env = "PLAYRACK_AGENT_INJECTOR_LIVE_BIT_RATE")]
    pub injector_live_bit_rate: Option<bool>,

    /// Video encoders never to use on this board (MediaCodec names, e.g. `c2.rk.avc.encoder`
    /// where it fails on RK3588, `OMX.rk.video_encoder.avc` where it gives green frames): the
    /// agent picks the first hardware H.264 encoder the instance lists that is not denied, else
    /// a software one.
    #[arg(long, env = "PLAYRACK_AGENT_ENCODER_DENY", value_delimiter = ',')]
    pub encoder_deny: Option<Vec<String>>,

    /// Slices per video frame asked of the injector (`playrack_slices`; 0 = whole frames, at
    /// most 32). Each slice is sent to the player as soon as it is encoded, so a frame's first
    /// rows travel while its last are encoded. An injector that cannot slice (scrcpy's own
    /// server, the virtual device built without x264) ignores it and sends whole frames.
    #[arg(long, env = "PLAYRACK_AGENT_VIDEO_SLICES")]
    pub video_slices: Option<u8>,

    /// Where synced APKs are cached (named by SHA-256). Defaults to `<data-dir>/packages`.
    #[arg(long, env = "PLAYRACK_AGENT_PACKAGE_CACHE")]
    pub package_cache: Option<PathBuf>,

    /// Size budget of the package cache in bytes; least recently used packages are evicted
    /// past it.
    #[arg(long, env = "PLAYRACK_AGENT_PACKAGE_CACHE_BYTES")]
    pub package_cache_bytes: Option<u64>,

    /// The room's shared volume where packages live: a mounted path or an `rsync://host/module`
    /// URL.
    #[arg(long, env = "PLAYRACK_AGENT_SHARED_VOLUME")]
    pub shared_volume: Option<String>,

    /// The agent's state: the board credential, instance data directories.
    #[arg(long, env = "PLAYRACK_AGENT_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// UDP port of the WebRTC socket shared by every session on the board (0: any free port).
    #[arg(long, env = "PLAYRACK_AGENT_WEBRTC_PORT")]
    pub webrtc_port: Option<u16>,

    /// TCP port of the agent's HTTP server: the signaling WebSocket (`/v1/signal`), the RTT
    /// probe (`/probe`), `/healthz` and `/metrics`. Defaults to the WebRTC port's number.
    #[arg(long, env = "PLAYRACK_AGENT_HTTP_PORT")]
    pub http_port: Option<u16>,

    /// The address the HTTP server and the WebRTC socket bind to.
    #[arg(long, env = "PLAYRACK_AGENT_LISTEN_ADDRESS")]
    pub listen_address: Option<IpAddr>,

    /// The address players reach the board at (the host ICE candidate).
    #[arg(long, env = "PLAYRACK_AGENT_PUBLIC_ADDRESS")]
    pub public_address: Option<IpAddr>,

    /// Where players' SDKs open the signaling WebSocket (told to the controller in the hello).
    #[arg(long, env = "PLAYRACK_AGENT_SIGNALING_URL")]
    pub signaling_url: Option<String>,

    /// STUN servers offered to players (`stun:host:port`).
    #[arg(long, env = "PLAYRACK_AGENT_STUN", value_delimiter = ',')]
    pub stun: Option<Vec<String>>,

    /// TURN servers offered to players: `turn:host:3478` (and `?transport=tcp`, `turns:`) with
    /// `--turn-secret`, or `turn:user:password@host:port` with fixed credentials every player
    /// sees.
    #[arg(long, env = "PLAYRACK_AGENT_TURN", value_delimiter = ',')]
    pub turn: Option<Vec<String>>,

    /// The TURN server's shared secret (coturn's `static-auth-secret`, with `use-auth-secret`):
    /// each player then gets credentials of its own session, valid for `--turn-ttl-secs`.
    #[arg(long, env = "PLAYRACK_AGENT_TURN_SECRET", hide_env_values = true)]
    pub turn_secret: Option<String>,

    /// How long per-session TURN credentials are valid, in seconds (default 12 h: longer than
    /// any play, whose TURN allocation refreshes with them).
    #[arg(long, env = "PLAYRACK_AGENT_TURN_TTL_SECS")]
    pub turn_ttl_secs: Option<u64>,

    /// A token `/metrics` asks for (`Authorization: Bearer <token>`); without one, `/metrics`
    /// answers only scrapes from this machine.
    #[arg(long, env = "PLAYRACK_AGENT_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
}

/// What `node-agent` does besides running the agent.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Check this board with its configuration: runtime and image, kernel, limits, disk, adb,
    /// then one throwaway instance — boot, injector, encoders, a few frames encoded and
    /// decoded, an input round trip. Prints what fails and how to fix it; exits 1 if anything
    /// failed. Give the agent's options before `doctor` (or in the file or environment).
    Doctor {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Seconds the instance may take to boot and answer adb.
        #[arg(long, default_value_t = 60)]
        boot_timeout_secs: u64,
    },
}

/// Which runtime driver runs the instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeKind {
    /// `virtual-device` child processes: the embedded default and what tests use.
    #[default]
    Process,
    /// redroid-style containers through the Docker engine.
    Docker,
}

/// The same options as [`Args`], as they appear in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    controller_url: Option<String>,
    controller_ca: Option<PathBuf>,
    client_cert: Option<PathBuf>,
    client_key: Option<PathBuf>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    enrolment_token: Option<String>,
    serial: Option<String>,
    model: Option<String>,
    capacity: Option<Vec<String>>,
    spec: Option<Vec<String>>,
    warm: Option<Vec<String>>,
    runtime: Option<RuntimeKind>,
    virtual_device: Option<PathBuf>,
    docker_image: Option<String>,
    docker_privileged: Option<bool>,
    adb: Option<PathBuf>,
    adb_port: Option<u16>,
    injector_jar: Option<PathBuf>,
    injector_version: Option<String>,
    injector_live_bit_rate: Option<bool>,
    encoder_deny: Option<Vec<String>>,
    video_slices: Option<u8>,
    package_cache: Option<PathBuf>,
    package_cache_bytes: Option<u64>,
    shared_volume: Option<String>,
    data_dir: Option<PathBuf>,
    webrtc_port: Option<u16>,
    http_port: Option<u16>,
    listen_address: Option<IpAddr>,
    public_address: Option<IpAddr>,
    signaling_url: Option<String>,
    stun: Option<Vec<String>>,
    turn: Option<Vec<String>>,
    turn_secret: Option<String>,
    turn_ttl_secs: Option<u64>,
    metrics_token: Option<String>,
}

/// The merged configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub controller_url: String,
    /// Extra CA to trust for the controller (see the flag).
    pub controller_ca: Option<PathBuf>,
    /// Client certificate and key presented to the controller (see the flag).
    pub client_identity: Option<(PathBuf, PathBuf)>,
    /// Certificate and key of the agent's HTTP server (see the flag).
    pub tls: Option<(PathBuf, PathBuf)>,
    pub enrolment_token: Option<String>,
    pub serial: String,
    pub model: String,
    pub capacity: BTreeMap<String, u32>,
    pub specs: BTreeMap<String, InstanceSpec>,
    pub warm: BTreeMap<String, u32>,
    pub runtime: RuntimeKind,
    pub virtual_device: PathBuf,
    pub docker_image: String,
    pub docker_privileged: bool,
    pub adb: PathBuf,
    pub adb_port: u16,
    pub injector_jar: Option<PathBuf>,
    pub injector_version: String,
    /// The injector takes SET_VIDEO_BIT_RATE (see the flag).
    pub injector_live_bit_rate: bool,
    /// Video encoders never used (see the flag).
    pub encoder_deny: Vec<String>,
    /// Slices per video frame asked of the injector (see the flag).
    pub video_slices: u8,
    pub package_cache: PathBuf,
    pub package_cache_bytes: u64,
    pub shared_volume: String,
    pub data_dir: PathBuf,
    pub webrtc_port: u16,
    pub http_port: u16,
    pub listen_address: IpAddr,
    pub public_address: Option<IpAddr>,
    /// Empty: derived once the HTTP server is bound (`ws://<public address>:<port>/v1/signal`).
    pub signaling_url: String,
    pub stun: Vec<String>,
    pub turn: Vec<String>,
    /// The TURN REST API secret (see the flag).
    pub turn_secret: Option<String>,
    pub turn_ttl: std::time::Duration,
    /// What `/metrics` asks for (see the flag).
    pub metrics_token: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("parsing {0}: {1}")]
    Parse(PathBuf, toml::de::Error),
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    /// Defaults around a data directory (tests start from this and adjust fields).
    pub fn with_data_dir(data_dir: PathBuf) -> Config {
        Config {
            controller_url: "http://127.0.0.1:7600".into(),
            controller_ca: None,
            client_identity: None,
            tls: None,
            enrolment_token: None,
            serial: hostname(),
            model: "unknown".into(),
            capacity: BTreeMap::new(),
            specs: BTreeMap::new(),
            warm: BTreeMap::new(),
            runtime: RuntimeKind::Process,
            virtual_device: PathBuf::from("virtual-device"),
            docker_image: DEFAULT_DOCKER_IMAGE.into(),
            docker_privileged: true,
            adb: PathBuf::from("adb"),
            adb_port: DEFAULT_ADB_PORT,
            injector_jar: None,
            injector_version: DEFAULT_INJECTOR_VERSION.into(),
            injector_live_bit_rate: true,
            encoder_deny: Vec::new(),
            video_slices: DEFAULT_VIDEO_SLICES,
            package_cache: data_dir.join("packages"),
            package_cache_bytes: DEFAULT_PACKAGE_CACHE_BYTES,
            shared_volume: String::new(),
            webrtc_port: DEFAULT_WEBRTC_PORT,
            http_port: DEFAULT_WEBRTC_PORT,
            listen_address: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            public_address: None,
            signaling_url: String::new(),
            stun: Vec::new(),
            turn: Vec::new(),
            turn_secret: None,
            turn_ttl: crate::ice::DEFAULT_TURN_TTL,
            metrics_token: None,
            data_dir,
        }
    }

    /// Reads the file named by `--config` (if any) and overlays environment and flags.
    pub fn load(args: Args) -> Result<Config, ConfigError> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ConfigError::Read(path.clone(), e))?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse(path.clone(), e))?
            }
            None => FileConfig::default(),
        };
        Self::merge(args, file)
    }

    fn merge(a: Args, f: FileConfig) -> Result<Config, ConfigError> {
        let data_dir = a
            .data_dir
            .or(f.data_dir)
            .unwrap_or_else(|| PathBuf::from("/var/lib/playrack-agent"));
        let mut c = Config::with_data_dir(data_dir);
        macro_rules! pick {
            ($field:ident) => {
                a.$field.or(f.$field)
            };
        }
        if let Some(v) = pick!(controller_url) {
            c.controller_url = v.trim_end_matches('/').to_owned();
        }
        c.enrolment_token = pick!(enrolment_token);
        if let Some(v) = pick!(serial) {
            c.serial = v;
        }
        if let Some(v) = pick!(model) {
            c.model = v;
        }
        if let Some(v) = pick!(capacity) {
            c.capacity = parse_counts("capacity", &v)?;
        }
        if let Some(v) = pick!(spec) {
            for s in v {
                let spec = InstanceSpec::parse(&s).map_err(ConfigError::Invalid)?;
                c.specs.insert(spec.id.clone(), spec);
            }
        }
        if let Some(v) = pick!(warm) {
            c.warm = parse_counts("warm", &v)?;
        }
        for id in c.warm.keys() {
            if !c.specs.contains_key(id) {
                return Err(ConfigError::Invalid(format!(
                    "warm pool for spec {id:?}, which no --spec describes"
                )));
            }
        }
        if let Some(v) = pick!(runtime) {
            c.runtime = v;
        }
        if let Some(v) = pick!(virtual_device) {
            c.virtual_device = v;
        }
        if let Some(v) = pick!(docker_image) {
            c.docker_image = v;
        }
        if let Some(v) = pick!(docker_privileged) {
            c.docker_privileged = v;
        }
        if let Some(v) = pick!(adb) {
            c.adb = v;
        }
        if let Some(v) = pick!(adb_port) {
            c.adb_port = v;
        }
        c.injector_jar = pick!(injector_jar);
        if let Some(v) = pick!(injector_version) {
            c.injector_version = v;
        }
        if let Some(v) = pick!(injector_live_bit_rate) {
            c.injector_live_bit_rate = v;
        }
        if let Some(v) = pick!(encoder_deny) {
            c.encoder_deny = v
                .into_iter()
                .map(|e| e.trim().to_owned())
                .filter(|e| !e.is_empty())
                .collect();
        }
        if let Some(v) = pick!(video_slices) {
            if u32::from(v) > playrack_scrcpy::options::MAX_SLICES {
                return Err(ConfigError::Invalid(format!(
                    "video_slices must be 0 (whole frames) to {}, not {v}",
                    playrack_scrcpy::options::MAX_SLICES
                )));
            }
            c.video_slices = v;
        }
        if let Some(v) = pick!(package_cache) {
            c.package_cache = v;
        }
        if let Some(v) = pick!(package_cache_bytes) {
            c.package_cache_bytes = v;
        }
        if let Some(v) = pick!(shared_volume) {
            c.shared_volume = v;
        }
        if let Some(v) = pick!(webrtc_port) {
            c.webrtc_port = v;
        }
        c.http_port = pick!(http_port).unwrap_or(c.webrtc_port);
        if let Some(v) = pick!(listen_address) {
            c.listen_address = v;
        }
        c.public_address = pick!(public_address);
        if let Some(v) = pick!(signaling_url) {
            c.signaling_url = v;
        }
        if let Some(v) = pick!(stun) {
            c.stun = v;
        }
        c.controller_ca = pick!(controller_ca);
        c.client_identity = pair("client_cert", pick!(client_cert), pick!(client_key))?;
        c.tls = pair("tls_cert", pick!(tls_cert), pick!(tls_key))?;
        if let Some(v) = pick!(turn) {
            c.turn = v;
        }
        c.turn_secret = pick!(turn_secret).filter(|s| !s.is_empty());
        c.metrics_token = pick!(metrics_token).filter(|s| !s.is_empty());
        if let Some(v) = pick!(turn_ttl_secs) {
            c.turn_ttl = std::time::Duration::from_secs(v.max(60));
        }
        Ok(c)
    }

    /// Where the board credential is kept once enrolled.
    pub fn credential_path(&self) -> PathBuf {
        self.data_dir.join("credential.json")
    }
}

/// A certificate and its key: both or neither.
fn pair(
    what: &str,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
) -> Result<Option<(PathBuf, PathBuf)>, ConfigError> {
    match (cert, key) {
        (Some(c), Some(k)) => Ok(Some((c, k))),
        (None, None) => Ok(None),
        _ => Err(ConfigError::Invalid(format!(
            "{what} needs its key (and the key its certificate): give both or neither"
        ))),
    }
}

/// `id=N` pairs.
fn parse_counts(what: &str, items: &[String]) -> Result<BTreeMap<String, u32>, ConfigError> {
    let mut out = BTreeMap::new();
    for item in items.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let parsed = item
            .split_once('=')
            .and_then(|(id, n)| Some((id.trim().to_owned(), n.trim().parse::<u32>().ok()?)));
        match parsed {
            Some((id, n)) if !id.is_empty() => {
                out.insert(id, n);
            }
            _ => {
                return Err(ConfigError::Invalid(format!(
                    "{what}: {item:?} is not SPEC=COUNT"
                )));
            }
        }
    }
    Ok(out)
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "board".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file_and_lists_parse() {
        let args = Args::parse_from([
            "node-agent",
            "--capacity",
            "hd-60=8,sd-30=16",
            "--spec",
            "hd-60=720x1280@60:320/2000/2048",
            "--warm",
            "hd-60=2",
            "--runtime",
            "docker",
            "--docker-privileged",
            "false",
        ]);
        let file: FileConfig = toml::from_str(
            r#"
            controller_url = "http://c:7600/"
            runtime = "process"
            adb_port = 6000
            data_dir = "/tmp/agent"
            "#,
        )
        .unwrap();
        let c = Config::merge(args, file).unwrap();
        assert_eq!(c.controller_url, "http://c:7600");
        assert_eq!(c.runtime, RuntimeKind::Docker);
        assert!(!c.docker_privileged);
        assert_eq!(c.adb_port, 6000);
        assert_eq!(c.capacity["sd-30"], 16);
        assert_eq!(c.warm["hd-60"], 2);
        let s = &c.specs["hd-60"];
        assert_eq!((s.width, s.height, s.fps, s.dpi), (720, 1280, 60, 320));
        assert_eq!((s.cpu_millis, s.memory_mb), (2000, 2048));
        assert_eq!(c.package_cache, PathBuf::from("/tmp/agent/packages"));
    }

    #[test]
    fn a_warm_pool_needs_its_spec() {
        let args = Args::parse_from(["node-agent", "--warm", "hd-60=2"]);
        assert!(Config::merge(args, FileConfig::default()).is_err());
        let args = Args::parse_from(["node-agent", "--capacity", "hd-60"]);
        assert!(Config::merge(args, FileConfig::default()).is_err());
    }

    #[test]
    fn tls_files_come_in_pairs_from_flags_or_the_file() {
        // A flag without its partner is clap's error, naming the missing flag.
        let e = Args::try_parse_from(["node-agent", "--tls-cert", "/c.pem"]).unwrap_err();
        assert!(e.to_string().contains("--tls-key"), "{e}");
        // In the file, half a pair is the merge's error.
        let file: FileConfig = toml::from_str(r#"client_cert = "/board.pem""#).unwrap();
        let e = Config::merge(Args::parse_from(["node-agent"]), file).unwrap_err();
        assert!(e.to_string().contains("client_cert"), "{e}");
        // Flags win over the file, key by key.
        let file: FileConfig =
            toml::from_str("tls_key = \"/a.key\"\ncontroller_ca = \"/ca.pem\"").unwrap();
        let args = Args::parse_from(["node-agent", "--tls-cert", "/a.pem", "--tls-key", "/b.key"]);
        let c = Config::merge(args, file).unwrap();
        assert_eq!(
            c.tls,
            Some((PathBuf::from("/a.pem"), PathBuf::from("/b.key"))),
            "flags win over the file"
        );
        assert_eq!(c.controller_ca, Some(PathBuf::from("/ca.pem")));
        assert_eq!(c.client_identity, None);
    }
}
