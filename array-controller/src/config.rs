//! Configuration: a TOML file, `PLAYRACK_*` environment variables and command-line flags, in
//! rising order of precedence, merged into one [`Config`].
//!
//! Every option is a flag (see `array-controller --help`), an environment variable and a key in
//! the file, with the same name in the three spellings (`--max-upload-bytes`,
//! `PLAYRACK_MAX_UPLOAD_BYTES`, `max_upload_bytes`).

use clap::Parser;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Default HTTP address: loopback only, so a fresh install exposes nothing by accident.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7600";
/// Default bound on a stop: Kubernetes' default grace period, 30 s.
pub const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 30;
/// Default size limit of one APK upload: 4 GiB, the largest APK Google Play accepts with its
/// expansion files folded in.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 4 << 30;

/// Playrack's array controller: tenants, games and packages, specs, topology, orders and
/// sessions, behind an HTTP API under /v1.
#[derive(Debug, Parser, Default)]
#[command(name = "array-controller", version, about, long_about = None)]
pub struct Args {
    /// A TOML file with any of the options below (keys in snake_case).
    #[arg(long, env = "PLAYRACK_CONFIG")]
    pub config: Option<PathBuf>,

    /// Address the HTTP API listens on.
    #[arg(long, env = "PLAYRACK_LISTEN")]
    pub listen: Option<SocketAddr>,

    /// Serve HTTPS (and `wss://` for boards) with this certificate chain (PEM, leaf first);
    /// needs `--tls-key`. Without it the API is plain HTTP, for a TLS-terminating proxy in front.
    #[arg(long, env = "PLAYRACK_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The private key (PEM) of `--tls-cert`.
    #[arg(long, env = "PLAYRACK_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Directory for the embedded database, the package store and upload scratch files.
    #[arg(long, env = "PLAYRACK_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// Database URL. `postgres://…` selects PostgreSQL; unset means a SQLite file in the data
    /// directory (`sqlite://<data-dir>/controller.db`).
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// The package store: where uploaded APKs live, addressed by SHA-256 (in production, the
    /// machine rooms' shared volume). Defaults to `<data-dir>/packages`.
    #[arg(long, env = "PLAYRACK_PACKAGE_STORE")]
    pub package_store: Option<PathBuf>,

    /// Largest APK upload accepted, in bytes.
    #[arg(long, env = "PLAYRACK_MAX_UPLOAD_BYTES")]
    pub max_upload_bytes: Option<u64>,

    /// Bytes of packages a tenant may store unless an operator sets its own quota.
    #[arg(long, env = "PLAYRACK_TENANT_STORAGE_QUOTA_BYTES")]
    pub tenant_storage_quota_bytes: Option<u64>,

    /// An unfinished upload is abandoned (its scratch file deleted) after this many seconds
    /// without progress.
    #[arg(long, env = "PLAYRACK_UPLOAD_EXPIRY_SECS")]
    pub upload_expiry_secs: Option<u64>,

    /// Lifetime of a sign-in token, in seconds.
    #[arg(long, env = "PLAYRACK_TOKEN_TTL_SECS")]
    pub token_ttl_secs: Option<u64>,

    /// Requests per second allowed from one client IP (sustained; bursts up to 4× this).
    #[arg(long, env = "PLAYRACK_RATE_LIMIT_IP")]
    pub rate_limit_ip: Option<u32>,

    /// Requests per second allowed for one token or API key (sustained; bursts up to 4× this).
    #[arg(long, env = "PLAYRACK_RATE_LIMIT_KEY")]
    pub rate_limit_key: Option<u32>,

    /// Reverse proxies (e.g. the portal) whose `X-Forwarded-For` names the real client for
    /// per-IP rate limits; comma-separated IPs. Nobody else's header is believed.
    #[arg(long, env = "PLAYRACK_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Option<Vec<std::net::IpAddr>>,

    /// Origins allowed to call the API from a browser (comma-separated; `*` for any).
    #[arg(long, env = "PLAYRACK_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Option<Vec<String>>,

    /// The key (64 hex digits) that seals the secrets the controller stores (session-token
    /// signing key, tenants' player-token keys); the same on every replica. Without it, a key
    /// is generated once in the data directory.
    #[arg(long, env = "PLAYRACK_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,

    /// The bearer token Prometheus sends to scrape `/metrics`. Without one, `/metrics`
    /// answers only clients on this machine (loopback).
    #[arg(long, env = "PLAYRACK_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// How often board agents send a heartbeat, in seconds.
    #[arg(long, env = "PLAYRACK_AGENT_HEARTBEAT_SECS")]
    pub agent_heartbeat_secs: Option<u32>,

    /// A board silent for longer than this (seconds) is LOST: its sessions end and its slots
    /// leave the pool.
    #[arg(long, env = "PLAYRACK_AGENT_LEASE_SECS")]
    pub agent_lease_secs: Option<u32>,

    /// A queued player whose client stops polling (or listening) for this many seconds loses
    /// their place.
    #[arg(long, env = "PLAYRACK_TICKET_TIMEOUT_SECS")]
    pub ticket_timeout_secs: Option<u32>,

    /// A player promoted from the queue must claim the reserved instance within this many
    /// seconds, else the next player is promoted.
    #[arg(long, env = "PLAYRACK_CLAIM_TTL_SECS")]
    pub claim_ttl_secs: Option<u32>,

    /// A reserved play whose player has not connected within this many seconds ends
    /// (`NO_SHOW`, not billed) and frees its slot; a game's trial defaults may set their own.
    #[arg(long, env = "PLAYRACK_CONNECT_DEADLINE_SECS")]
    pub connect_deadline_secs: Option<u32>,

    /// Largest save archive a board agent may upload, in bytes.
    #[arg(long, env = "PLAYRACK_ARCHIVE_MAX_BYTES")]
    pub archive_max_bytes: Option<u64>,

    /// How many unpinned save archives to keep per player and game (older ones are deleted).
    #[arg(long, env = "PLAYRACK_ARCHIVE_KEEP")]
    pub archive_keep: Option<u32>,

    /// Bytes of save archives all anonymous players of one tenant may hold together; a save
    /// beyond it evicts that tenant's least recently saved unpinned anonymous archives.
    #[arg(long, env = "PLAYRACK_ARCHIVE_ANONYMOUS_BUDGET_BYTES")]
    pub archive_anonymous_budget_bytes: Option<u64>,

    /// How long a play recording is kept for its tenant to download, in seconds.
    #[arg(long, env = "PLAYRACK_RECORDING_RETENTION_SECS")]
    pub recording_retention_secs: Option<u64>,

    /// Largest play recording a board agent may upload, in bytes.
    #[arg(long, env = "PLAYRACK_RECORDING_MAX_BYTES")]
    pub recording_max_bytes: Option<u64>,

    /// Most instances per room, game version and spec kept ready with the game started (the
    /// warm pool per game, sized from recent demand); 0 keeps only blank instances.
    #[arg(long, env = "PLAYRACK_WARM_GAMES_MAX_PER_ROOM")]
    pub warm_games_max_per_room: Option<u32>,

    /// How far back the warm pool per game looks at plays started, in seconds.
    #[arg(long, env = "PLAYRACK_WARM_GAMES_WINDOW_SECS")]
    pub warm_games_window_secs: Option<u32>,

    /// Delay before the first retry of a failed webhook delivery, in milliseconds; each later
    /// retry waits twice as long as the one before.
    #[arg(long, env = "PLAYRACK_WEBHOOK_RETRY_BASE_MS")]
    pub webhook_retry_base_ms: Option<u64>,

    /// A webhook delivery is given up after this many failed attempts.
    #[arg(long, env = "PLAYRACK_WEBHOOK_MAX_ATTEMPTS")]
    pub webhook_max_attempts: Option<u32>,

    /// Allow webhook endpoints on loopback, private and link-local addresses (off: such
    /// endpoints are refused, so tenants cannot make the controller call into its own network).
    #[arg(long, env = "PLAYRACK_WEBHOOK_ALLOW_PRIVATE_TARGETS")]
    pub webhook_allow_private_targets: bool,

    /// How often a live session sends a `session.duration` webhook event, in seconds of play.
    #[arg(long, env = "PLAYRACK_WEBHOOK_DURATION_SECS")]
    pub webhook_duration_secs: Option<u32>,

    /// How long before scheduled maintenance starts the players in session there are told,
    /// in seconds.
    #[arg(long, env = "PLAYRACK_MAINTENANCE_ANNOUNCE_SECS")]
    pub maintenance_announce_secs: Option<u32>,

    /// The platform's currency, as an ISO 4217 code (three capital letters): prices, ledger
    /// amounts and bills are in its micro-units.
    #[arg(long, env = "PLAYRACK_CURRENCY")]
    pub currency: Option<String>,

    /// Tenants' billing period: `month` (calendar months, UTC), `week` (Monday to Monday) or
    /// `day`. A change applies from each tenant's next period.
    #[arg(long, env = "PLAYRACK_BILLING_PERIOD")]
    pub billing_period: Option<crate::bills::PeriodKind>,

    /// How long after a billing period ends its bills are closed, in seconds (plays that end
    /// later are carried to the next bill as late lines).
    #[arg(long, env = "PLAYRACK_BILL_CLOSE_DELAY_SECS")]
    pub bill_close_delay_secs: Option<u32>,

    /// Log format: `text` for people, `json` for log collectors.
    #[arg(long, env = "PLAYRACK_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,

    /// Seed a demo operator and a demo tenant (with fresh passwords, printed at start-up).
    #[arg(long, env = "PLAYRACK_DEMO")]
    pub demo: bool,

    /// Bring the database schema up to date and exit, without serving (run it once before
    /// starting new replicas of a new version; starting also migrates, idempotently).
    #[arg(long, env = "PLAYRACK_MIGRATE_ONLY")]
    pub migrate_only: bool,

    /// How long a stop (SIGTERM or SIGINT) may take, in seconds: requests in flight, uploads
    /// and event streams get this long to finish before the process exits anyway.
    #[arg(long, env = "PLAYRACK_SHUTDOWN_GRACE_SECS")]
    pub shutdown_grace_secs: Option<u64>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do instead of serving.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// One-off administration against the configured database (no server needed).
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Writes a backup of the configured database and package store (and the secrets key kept
    /// in the data directory) to a new directory, while the controller keeps serving. SQLite is
    /// copied with `VACUUM INTO`, PostgreSQL with `pg_dump`.
    Backup {
        /// The directory to write (new or empty).
        #[arg(long)]
        out: PathBuf,
    },
    /// Restores a backup into the configured database and package store. Stop the
    /// controllers first. PostgreSQL is restored with `pg_restore`.
    Restore {
        /// The backup's directory.
        #[arg(long)]
        from: PathBuf,
        /// Replace a database that already has accounts (and a different secrets key).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Creates an operator admin account: how a fresh platform gets its first operator. The
    /// password is asked for on the terminal (twice, not shown), or read from standard input
    /// or a file, never from the command line.
    CreateOperator {
        /// The operator's email, their sign-in name.
        #[arg(long)]
        email: String,
        /// Read the password from the first line of standard input.
        #[arg(long, conflicts_with = "password_file")]
        password_stdin: bool,
        /// Read the password from the first line of this file.
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The same options as [`Args`], as they appear in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    package_store: Option<PathBuf>,
    max_upload_bytes: Option<u64>,
    tenant_storage_quota_bytes: Option<u64>,
    upload_expiry_secs: Option<u64>,
    token_ttl_secs: Option<u64>,
    rate_limit_ip: Option<u32>,
    rate_limit_key: Option<u32>,
    trusted_proxies: Option<Vec<std::net::IpAddr>>,
    cors_origins: Option<Vec<String>>,
    metrics_token: Option<String>,
    secret_key: Option<String>,
    agent_heartbeat_secs: Option<u32>,
    agent_lease_secs: Option<u32>,
    ticket_timeout_secs: Option<u32>,
    claim_ttl_secs: Option<u32>,
    connect_deadline_secs: Option<u32>,
    archive_max_bytes: Option<u64>,
    archive_keep: Option<u32>,
    archive_anonymous_budget_bytes: Option<u64>,
    recording_retention_secs: Option<u64>,
    recording_max_bytes: Option<u64>,
    warm_games_max_per_room: Option<u32>,
    warm_games_window_secs: Option<u32>,
    webhook_retry_base_ms: Option<u64>,
    webhook_max_attempts: Option<u32>,
    webhook_allow_private_targets: Option<bool>,
    webhook_duration_secs: Option<u32>,
    maintenance_announce_secs: Option<u32>,
    currency: Option<String>,
    billing_period: Option<crate::bills::PeriodKind>,
    bill_close_delay_secs: Option<u32>,
    log_format: Option<LogFormat>,
    demo: Option<bool>,
    shutdown_grace_secs: Option<u64>,
}

/// A certificate chain and its private key, as PEM files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The controller's effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// The certificate chain and key to serve HTTPS with (see the flags).
    pub tls: Option<TlsFiles>,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub package_store: PathBuf,
    pub max_upload_bytes: u64,
    pub tenant_storage_quota_bytes: u64,
    pub upload_expiry_secs: u64,
    pub token_ttl_secs: u64,
    pub rate_limit_ip: u32,
    pub rate_limit_key: u32,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    pub cors_origins: Vec<String>,
    /// See the flag: `None` serves `/metrics` to loopback clients only.
    pub metrics_token: Option<String>,
    /// See the flag: `None` uses (or creates) `<data dir>/secret.key`.
    pub secret_key: Option<String>,
    pub agent_heartbeat_secs: u32,
    pub agent_lease_secs: u32,
    pub ticket_timeout_secs: u32,
    pub claim_ttl_secs: u32,
    pub connect_deadline_secs: u32,
    pub archive_max_bytes: u64,
    pub archive_keep: u32,
    pub archive_anonymous_budget_bytes: u64,
    pub recording_retention_secs: u64,
    pub recording_max_bytes: u64,
    pub warm_games_max_per_room: u32,
    pub warm_games_window_secs: u32,
    pub webhook_retry_base_ms: u64,
    pub webhook_max_attempts: u32,
    pub webhook_allow_private_targets: bool,
    pub webhook_duration_secs: u32,
    pub maintenance_announce_secs: u32,
    pub currency: String,
    pub billing_period: crate::bills::PeriodKind,
    pub bill_close_delay_secs: u32,
    pub log_format: LogFormat,
    pub demo: bool,
    /// How long a stop may take (see the flag).
    pub shutdown_grace_secs: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the config file {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    /// Defaults for a data directory: what the controller runs with when nothing is set.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Self {
            listen: DEFAULT_LISTEN.parse().expect("valid default address"),
            tls: None,
            database_url: sqlite_url(&data_dir.join("controller.db")),
            package_store: data_dir.join("packages"),
            data_dir,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            tenant_storage_quota_bytes: 50 << 30,
            upload_expiry_secs: 24 * 3600,
            token_ttl_secs: 12 * 3600,
            rate_limit_ip: 100,
            rate_limit_key: 200,
            trusted_proxies: Vec::new(),
            cors_origins: Vec::new(),
            metrics_token: None,
            secret_key: None,
            agent_heartbeat_secs: 5,
            agent_lease_secs: 15,
            ticket_timeout_secs: 30,
            claim_ttl_secs: 30,
            connect_deadline_secs: 60,
            archive_max_bytes: 512 << 20,
            archive_keep: 5,
            archive_anonymous_budget_bytes: 20 << 30,
            recording_retention_secs: 7 * 24 * 3600,
            recording_max_bytes: 2 << 30,
            warm_games_max_per_room: 8,
            warm_games_window_secs: 300,
            webhook_retry_base_ms: 10_000,
            webhook_max_attempts: 8,
            webhook_allow_private_targets: false,
            webhook_duration_secs: 300,
            maintenance_announce_secs: 900,
            currency: "CNY".into(),
            billing_period: crate::bills::PeriodKind::Month,
            bill_close_delay_secs: 60,
            log_format: LogFormat::Text,
            demo: false,
            shutdown_grace_secs: DEFAULT_SHUTDOWN_GRACE_SECS,
        }
    }

    /// Merges defaults, the file named by `--config`, and the flags/environment in `args`.
    pub fn load(args: Args) -> Result<Self, ConfigError> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                toml::from_str::<FileConfig>(&text).map_err(|source| ConfigError::Parse {
                    path: path.clone(),
                    source,
                })?
            }
            None => FileConfig::default(),
        };
        let data_dir = args
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(".playrack/controller"));
        let mut c = Config::with_data_dir(data_dir);
        if let Some(v) = args.listen.or(file.listen) {
            c.listen = v;
        }
        c.tls = match (
            args.tls_cert.or(file.tls_cert),
            args.tls_key.or(file.tls_key),
        ) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            (None, None) => None,
            _ => {
                return Err(ConfigError::Invalid(
                    "tls_cert and tls_key go together: give both, or neither for plain HTTP".into(),
                ));
            }
        };
        if let Some(v) = args.database_url.or(file.database_url) {
            c.database_url = v;
        }
        if let Some(v) = args.package_store.or(file.package_store) {
            c.package_store = v;
        }
        if let Some(v) = args.max_upload_bytes.or(file.max_upload_bytes) {
            c.max_upload_bytes = v;
        }
        if let Some(v) = args
            .tenant_storage_quota_bytes
            .or(file.tenant_storage_quota_bytes)
        {
            c.tenant_storage_quota_bytes = v;
        }
        if let Some(v) = args.upload_expiry_secs.or(file.upload_expiry_secs) {
            c.upload_expiry_secs = v;
        }
        if let Some(v) = args.token_ttl_secs.or(file.token_ttl_secs) {
            c.token_ttl_secs = v;
        }
        if let Some(v) = args.rate_limit_ip.or(file.rate_limit_ip) {
            c.rate_limit_ip = v;
        }
        if let Some(v) = args.trusted_proxies.or(file.trusted_proxies) {
            c.trusted_proxies = v;
        }
        if let Some(v) = args.rate_limit_key.or(file.rate_limit_key) {
            c.rate_limit_key = v;
        }
        if let Some(v) = args.secret_key.or(file.secret_key) {
            c.secret_key = Some(v).filter(|k| !k.is_empty());
        }
        if let Some(v) = args.metrics_token.or(file.metrics_token) {
            c.metrics_token = Some(v).filter(|t| !t.is_empty());
        }
        if let Some(v) = args.cors_origins.or(file.cors_origins) {
            c.cors_origins = v.into_iter().filter(|o| !o.is_empty()).collect();
        }
        if let Some(v) = args.agent_heartbeat_secs.or(file.agent_heartbeat_secs) {
            c.agent_heartbeat_secs = v;
        }
        if let Some(v) = args.agent_lease_secs.or(file.agent_lease_secs) {
            c.agent_lease_secs = v;
        }
        if let Some(v) = args.ticket_timeout_secs.or(file.ticket_timeout_secs) {
            c.ticket_timeout_secs = v.max(1);
        }
        if let Some(v) = args.claim_ttl_secs.or(file.claim_ttl_secs) {
            c.claim_ttl_secs = v.max(1);
        }
        if let Some(v) = args.connect_deadline_secs.or(file.connect_deadline_secs) {
            c.connect_deadline_secs = v.max(1);
        }
        if let Some(v) = args.archive_max_bytes.or(file.archive_max_bytes) {
            c.archive_max_bytes = v;
        }
        if let Some(v) = args.archive_keep.or(file.archive_keep) {
            c.archive_keep = v.max(1);
        }
        if let Some(v) = args
            .archive_anonymous_budget_bytes
            .or(file.archive_anonymous_budget_bytes)
        {
            c.archive_anonymous_budget_bytes = v;
        }
        if let Some(v) = args
            .warm_games_max_per_room
            .or(file.warm_games_max_per_room)
        {
            c.warm_games_max_per_room = v;
        }
        if let Some(v) = args.warm_games_window_secs.or(file.warm_games_window_secs) {
            c.warm_games_window_secs = v.clamp(10, 24 * 3600);
        }
        if let Some(v) = args
            .recording_retention_secs
            .or(file.recording_retention_secs)
        {
            c.recording_retention_secs = v.max(60);
        }
        if let Some(v) = args.recording_max_bytes.or(file.recording_max_bytes) {
            c.recording_max_bytes = v.max(1 << 20);
        }
        if let Some(v) = args.webhook_retry_base_ms.or(file.webhook_retry_base_ms) {
            c.webhook_retry_base_ms = v.max(1);
        }
        if let Some(v) = args.webhook_max_attempts.or(file.webhook_max_attempts) {
            c.webhook_max_attempts = v.max(1);
        }
        c.webhook_allow_private_targets = args.webhook_allow_private_targets
            || file.webhook_allow_private_targets.unwrap_or(false);
        if let Some(v) = args.webhook_duration_secs.or(file.webhook_duration_secs) {
            c.webhook_duration_secs = v.max(1);
        }
        if let Some(v) = args
            .maintenance_announce_secs
            .or(file.maintenance_announce_secs)
        {
            c.maintenance_announce_secs = v;
        }
        if let Some(v) = args.currency.or(file.currency) {
            c.currency = v;
        }
        if let Some(v) = args.billing_period.or(file.billing_period) {
            c.billing_period = v;
        }
        if let Some(v) = args.bill_close_delay_secs.or(file.bill_close_delay_secs) {
            c.bill_close_delay_secs = v;
        }
        if let Some(v) = args.log_format.or(file.log_format) {
            c.log_format = v;
        }
        c.demo = args.demo || file.demo.unwrap_or(false);
        if let Some(v) = args.shutdown_grace_secs.or(file.shutdown_grace_secs) {
            c.shutdown_grace_secs = v;
        }
        c.validate()?;
        Ok(c)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !(self.currency.len() == 3 && self.currency.bytes().all(|b| b.is_ascii_uppercase())) {
            return Err(ConfigError::Invalid(format!(
                "currency `{}` is not an ISO 4217 code: give three capital letters, e.g. CNY or USD",
                self.currency
            )));
        }
        if !(self.database_url.starts_with("sqlite:")
            || self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid(format!(
                "DATABASE_URL must start with sqlite:, postgres:// or postgresql://, got `{}`",
                self.database_url
            )));
        }
        if self.max_upload_bytes == 0 {
            return Err(ConfigError::Invalid(
                "max_upload_bytes must be greater than 0".into(),
            ));
        }
        if self.archive_max_bytes == 0 {
            return Err(ConfigError::Invalid(
                "archive_max_bytes must be greater than 0".into(),
            ));
        }
        if self.archive_anonymous_budget_bytes < self.archive_max_bytes {
            return Err(ConfigError::Invalid(format!(
                "archive_anonymous_budget_bytes ({}) must be at least archive_max_bytes ({})",
                self.archive_anonymous_budget_bytes, self.archive_max_bytes
            )));
        }
        if self.agent_heartbeat_secs == 0 || self.agent_lease_secs <= self.agent_heartbeat_secs {
            return Err(ConfigError::Invalid(
                "agent_lease_secs must be longer than agent_heartbeat_secs (which must be ≥ 1)"
                    .into(),
            ));
        }
        if self.rate_limit_ip == 0 || self.rate_limit_key == 0 {
            return Err(ConfigError::Invalid(
                "rate limits must be at least 1 request/s".into(),
            ));
        }
        Ok(())
    }
}

/// `sqlite://` URL for a database file, created if missing.
pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "max_upload_bytes = 1000\nrate_limit_ip = 7\nlog_format = \"json\"\n",
        )
        .unwrap();
        let args = Args::try_parse_from([
            "array-controller",
            "--config",
            file.to_str().unwrap(),
            "--rate-limit-ip",
            "9",
            "--data-dir",
            dir.path().to_str().unwrap(),
        ])
        .unwrap();
        let c = Config::load(args).unwrap();
        assert_eq!(c.max_upload_bytes, 1000);
        assert_eq!(c.rate_limit_ip, 9);
        assert_eq!(c.log_format, LogFormat::Json);
    }

    #[test]
    fn unknown_keys_and_bad_urls_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "max_upload = 5\n").unwrap();
        let args = Args {
            config: Some(file),
            ..Args::default()
        };
        let err = Config::load(args).unwrap_err().to_string();
        assert!(err.contains("max_upload"), "{err}");

        let args = Args {
            database_url: Some("mysql://x".into()),
            ..Args::default()
        };
        let err = Config::load(args).unwrap_err().to_string();
        assert!(err.contains("DATABASE_URL"), "{err}");
    }
}
