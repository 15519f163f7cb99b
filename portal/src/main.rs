//! The `portal` binary: flags and `PLAYRACK_PORTAL_*` environment variables → [`portal::Config`],
//! logging, and serving until SIGTERM or SIGINT (then a bounded stop).

use clap::Parser;
use portal::{Config, Portal};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Playrack's web pages: the try-play page and the tenant console.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "PLAYRACK_PORTAL_LISTEN", default_value = "127.0.0.1:7700")]
    listen: SocketAddr,
    /// The array controller's base URL.
    #[arg(
        long,
        env = "PLAYRACK_PORTAL_CONTROLLER_URL",
        default_value = "http://127.0.0.1:7600"
    )]
    controller_url: String,
    /// The URL people reach the portal at (e.g. behind a TLS proxy); used in try-play links
    /// and QR codes. Default: the listen address.
    #[arg(long, env = "PLAYRACK_PORTAL_PUBLIC_URL")]
    public_url: Option<String>,
    /// The H5 SDK's built bundle (served at /assets/sdk/).
    #[arg(
        long,
        env = "PLAYRACK_PORTAL_ASSETS_DIR",
        default_value = "sdk-h5/dist"
    )]
    assets_dir: PathBuf,
    /// Mark the session cookie `Secure`. Default: on, unless the public URL (or, without one,
    /// the listen address) is plain http on loopback, where browsers would not send a Secure
    /// cookie and nothing leaves the machine anyway.
    #[arg(long, env = "PLAYRACK_PORTAL_SECURE_COOKIES", num_args = 0..=1, default_missing_value = "true")]
    secure_cookies: Option<bool>,
    /// Serve HTTPS with this certificate chain (PEM, leaf first); needs `--tls-key`. Without it
    /// the portal speaks plain HTTP, for a TLS-terminating proxy (give `--public-url https://…`).
    #[arg(long, env = "PLAYRACK_PORTAL_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `--tls-cert`.
    #[arg(long, env = "PLAYRACK_PORTAL_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// A CA certificate (PEM) to trust for an `https://` controller URL, besides the system's
    /// roots.
    #[arg(long, env = "PLAYRACK_PORTAL_CONTROLLER_CA")]
    controller_ca: Option<PathBuf>,
    /// The platform's currency, as an ISO 4217 code (prices and charges are shown in it).
    #[arg(long, env = "PLAYRACK_PORTAL_CURRENCY", default_value = "CNY", value_parser = currency_code)]
    currency: String,
    /// Sign a session out after this many idle minutes.
    #[arg(
        long,
        env = "PLAYRACK_PORTAL_SESSION_IDLE_MINUTES",
        default_value_t = 120
    )]
    session_idle_minutes: u64,
    /// Sign a session out this many hours after sign-in.
    #[arg(long, env = "PLAYRACK_PORTAL_SESSION_MAX_HOURS", default_value_t = 12)]
    session_max_hours: u64,
    /// Largest proxied request body in bytes (APK upload chunks stream and are not limited).
    #[arg(long, env = "PLAYRACK_PORTAL_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    max_body_bytes: usize,

    /// The bearer token a Prometheus on another machine sends to scrape `/metrics` (without
    /// one, only this machine may).
    #[arg(long, env = "PLAYRACK_PORTAL_METRICS_TOKEN")]
    metrics_token: Option<String>,

    /// How long a stop (SIGTERM or SIGINT) may take, in seconds, before the process exits
    /// with requests still running.
    #[arg(
        long,
        env = "PLAYRACK_PORTAL_SHUTDOWN_GRACE_SECS",
        default_value_t = 30
    )]
    shutdown_grace_secs: u64,

    /// Log lines as text (for people) or JSON (for log collectors), on standard error.
    #[arg(long, env = "PLAYRACK_PORTAL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        );
    match args.log_format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs.init(),
    }
    let secure = args.secure_cookies.unwrap_or_else(|| {
        args.tls_cert.is_some()
            || portal::config::default_secure_cookies(args.listen, args.public_url.as_deref())
    });
    if secure
        && args
            .public_url
            .as_deref()
            .is_none_or(|u| u.starts_with("http://"))
        && args.tls_cert.is_none()
    {
        tracing::warn!(
            "session cookies are Secure but the portal is reached over plain http: browsers will \
             not keep them. Put it behind HTTPS (and pass --public-url https://…), or use loopback."
        );
    }
    let config = Config {
        listen: args.listen,
        controller_url: args.controller_url,
        public_url: args.public_url,
        sdk_dir: args.assets_dir,
        secure_cookies: secure,
        session_idle: Duration::from_secs(args.session_idle_minutes * 60),
        session_max: Duration::from_secs(args.session_max_hours * 3600),
        max_body_bytes: args.max_body_bytes,
        metrics_token: args.metrics_token,
        tls: args.tls_cert.zip(args.tls_key),
        controller_ca: args.controller_ca,
        currency: args.currency,
    };
    let grace = Duration::from_secs(args.shutdown_grace_secs);
    let running = Portal::start(config).await?;
    println!("portal: {}", running.url);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let signal = tokio::select! {
        r = tokio::signal::ctrl_c() => r.map(|()| "SIGINT")?,
        _ = term.recv() => "SIGTERM",
    };
    tracing::info!(signal, ?grace, "stopping: finishing in-flight requests");
    if tokio::time::timeout(grace, running.stop()).await.is_err() {
        tracing::warn!(
            ?grace,
            "requests were still running at the end of the grace period"
        );
    }
    tracing::info!("stopped");
    Ok(())
}

/// `--currency`: three capital letters, as ISO 4217 writes currency codes.
fn currency_code(s: &str) -> Result<String, String> {
    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "`{s}` is not an ISO 4217 currency code: give three capital letters, e.g. CNY or USD"
        ))
    }
}
