//! The array controller: Playrack's control plane.
//!
//! # Layout
//! - [`config`]: options from file, environment and flags.
//! - [`db`]: the SQLite/PostgreSQL pool, migrations (`migrations/`), ids and pagination.
//! - [`auth`]: passwords, tokens, API keys and the [`auth::Caller`] authorization model.
//! - [`api`]: the HTTP API under `/v1`, one module per resource, plus health, metrics and the
//!   OpenAPI document. Handlers check the caller, run their SQL in one transaction, and write
//!   an [`audit`] entry in that same transaction.
//! - [`agents`]: board agents — the WebSocket agent channel, who is connected, the lease.
//! - [`archives`]: players' save archives (uploaded by boards, restored on the next play).
//! - [`metering`]: the usage ledger (one row per session, exactly once) and usage aggregates.
//! - [`figures`]: what each try-play link (and campaign) led to, per day.
//! - [`recordings`]: recordings of plays' video (started on the board, uploaded, kept until
//!   they expire).
//! - [`webhooks`]: tenants' signed event deliveries (outbox, retries with backoff, delivery log).
//! - [`deploy`]: tells boards to sync deployed packages from their room's shared volume.
//! - [`ingest`]: resumable APK uploads (tus 1.0), the content-addressed package store, and the
//!   parse step (through `playrack-apk`) that moves a version to READY or FAILED.
//! - [`http`], [`error`], [`ratelimit`]: request ids, problem+json errors, rate limits.
//! - [`play`]: acquire (assign or queue), the queue's promotions, claims and evictions, and
//!   the sessions the coordinator records.
//! - [`scheduler`]: sans-IO placement, session timers and queue ETAs.
//! - [`store`]: the session core's SQL — typed rows, state enums mapped to text once, counts
//!   of capacity in use, live sessions and the waiting line found by index.
//! - [`secrets`]: stored secrets sealed with a key from configuration.
//! - [`seed`]: the demo operator and tenant of embedded mode.
//! - [`upgrade`]: data upgrades that need Rust, run once after the migrations.
//! - [`leader`]: which replica runs the periodic work that must run once across replicas.
//! - [`switches`]: the degrade switches each replica keeps in memory and reads again often.
//! - [`maintenance`]: scheduled maintenance of rooms and boards, carried out by the leader.
//!
//! [`serve`] wires them together; `main.rs` only parses flags and calls it.

pub mod admin;
pub mod agents;
pub mod api;
pub mod archives;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod bills;
pub mod config;
pub mod db;
pub mod deploy;
pub mod error;
pub mod figures;
pub mod grey;
pub mod http;
pub mod ingest;
pub mod leader;
pub mod maintenance;
pub mod metering;
pub mod play;
pub mod ratelimit;
pub mod recordings;
pub mod scheduler;
pub mod secrets;
pub mod seed;
pub mod state;
pub mod store;
pub mod switches;
pub mod upgrade;
pub mod warmpool;
pub mod webhooks;

use crate::config::Config;
use crate::state::{AppState, Inner};
use std::sync::Arc;

/// The wall clock, in one place (tests of timers will inject time through the sans-IO cores).
pub fn now() -> playrack_wire::Timestamp {
    playrack_wire::Timestamp::now()
}

/// Buckets of every `*_seconds` histogram: request, acquire and parse times.
const SECONDS_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
];

/// The process-wide Prometheus recorder (installed on first use; every controller in the
/// process, e.g. in tests, renders the same registry). Durations are histograms with buckets.
pub fn metrics_handle() -> metrics_exporter_prometheus::PrometheusHandle {
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
    static HANDLE: std::sync::OnceLock<metrics_exporter_prometheus::PrometheusHandle> =
        std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("playrack_touch_to_screen_seconds".into()),
                        &playrack_wire::agent::TOUCH_TO_SCREEN_BUCKETS,
                    )
                })
                .expect("bucket lists are not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed by an embedding program; then ours only
            // renders what it records, which is nothing, and that is visible at /metrics.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Connects the store, prepares the package store and builds the shared state.
pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    let metrics = metrics_handle();
    std::fs::create_dir_all(&config.data_dir)?;
    let db = db::Db::connect(&config.database_url).await?;
    let sealer = secrets::Sealer::from_config(config.secret_key.as_deref(), &config.data_dir)?;
    secrets::seal_stored(&db, &sealer).await?;
    let ingest = ingest::Ingest::open(&config)?;
    let state = Arc::new(Inner {
        ip_limiter: ratelimit::RateLimiter::new(
            config.rate_limit_ip,
            config.rate_limit_ip.saturating_mul(4),
        ),
        key_limiter: ratelimit::RateLimiter::new(
            config.rate_limit_key,
            config.rate_limit_key.saturating_mul(4),
        ),
        sign_ins: auth::SignInGuard::default(),
        sealer,
        db,
        ingest,
        config,
        metrics,
        agents: agents::Agents::default(),
        signing_key: std::sync::OnceLock::new(),
        queue_changed: tokio::sync::broadcast::channel(16).0,
        replica_id: db::new_id("ctl"),
        leader: leader::Leader::default(),
        promote_wanted: tokio::sync::Notify::new(),
        placer_wanted: tokio::sync::Notify::new(),
        figures: figures::Counter::default(),
        switches: switches::Switches::default(),
    });
    ingest::recover(&state).await?;
    Ok(state)
}

/// A running controller: its address and a handle to stop it.
pub struct Running {
    pub addr: std::net::SocketAddr,
    pub state: AppState,
    /// Whether the listener speaks TLS.
    tls: bool,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Background jobs (sweepers, watchdogs, workers), stopped with the server.
    jobs: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Stops accepting requests, lets in-flight ones finish, and waits.
    pub async fn stop(mut self) {
        for job in &self.jobs {
            job.abort();
        }
        // Upgraded connections outlive a graceful shutdown: close the agent channels
        // explicitly, so boards notice and reconnect (to this process's successor).
        self.state.agents.disconnect_all();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = self.task.await;
    }

    /// Waits until the server ends on its own (for `main`).
    pub async fn wait(self) -> std::io::Result<()> {
        self.task
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }
}

/// Starts the HTTP server on `config.listen` and the background jobs.
pub async fn serve(state: AppState) -> anyhow::Result<Running> {
    let tls = match &state.config.tls {
        Some(f) => Some(playrack_tls::ServerTls::from_pem_files(&f.cert, &f.key)?),
        None => None,
    };
    // Switches that are on hold from the first request.
    switches::reload(&state).await?;
    let listener = tokio::net::TcpListener::bind(state.config.listen).await?;
    let addr = listener.local_addr()?;
    let app = api::router(state.clone());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let mut jobs = vec![
        leader::spawn(state.clone()),
        ingest::spawn_sweeper(state.clone()),
        agents::spawn_lease_watchdog(state.clone()),
        play::spawn_sweeper(state.clone()),
        play::spawn_promoter(state.clone()),
        webhooks::spawn_worker(state.clone()),
        deploy::placer::spawn(state.clone()),
        recordings::spawn_sweeper(state.clone()),
        warmpool::spawn(state.clone()),
        figures::spawn(state.clone()),
        switches::spawn(state.clone()),
        maintenance::spawn(state.clone()),
        bills::spawn(state.clone(), std::time::Duration::from_secs(30)),
    ];
    jobs.extend(agents::outbox::spawn_listener(state.clone()));
    let tls_on = tls.is_some();
    let task = tokio::spawn(playrack_tls::serve(listener, app, tls, async move {
        let _ = rx.await;
    }));
    Ok(Running {
        addr,
        state,
        tls: tls_on,
        shutdown: Some(tx),
        task,
        jobs,
    })
}
