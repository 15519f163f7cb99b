//! [`AppState`]: what every handler shares — the store, the configuration, the package store,
//! live uploads and the rate limiters.

use crate::config::Config;
use crate::db::Db;
use crate::ingest::Ingest;
use crate::ratelimit::RateLimiter;
use metrics_exporter_prometheus::PrometheusHandle;
use std::net::IpAddr;
use std::sync::Arc;

pub type AppState = Arc<Inner>;

pub struct Inner {
    pub db: Db,
    pub config: Config,
    pub ingest: Ingest,
    pub ip_limiter: RateLimiter<IpAddr>,
    pub key_limiter: RateLimiter<String>,
    pub sign_ins: crate::auth::SignInGuard,
    /// Seals the secrets the controller stores.
    pub sealer: crate::secrets::Sealer,
    pub metrics: PrometheusHandle,
    pub agents: crate::agents::Agents,
    /// The session-token signing key, loaded on first use (`play::lifecycle::signing_key`).
    pub signing_key: std::sync::OnceLock<[u8; 32]>,
    /// Fired whenever queue positions may have changed (a promotion, a cancel, an eviction), so
    /// ticket event streams push at once instead of on their next tick.
    pub queue_changed: tokio::sync::broadcast::Sender<()>,
    /// This replica's id (its row in `controllers`; boards connected here name it).
    pub replica_id: String,
    /// Set when capacity may have freed; the promoter task runs one promotion pass for any
    /// number of requests (`play::queue::request_promotion`).
    pub promote_wanted: tokio::sync::Notify,
    /// Set when a package is wanted on a room's volume: this replica's placer looks at once
    /// (`deploy::placer`), instead of at its next tick.
    pub placer_wanted: tokio::sync::Notify,
    /// Whether this replica runs the once-across-replicas periodic work.
    pub leader: crate::leader::Leader,
    /// Links' public counts (card opens, call-to-action clicks), summed before they are written.
    pub figures: crate::figures::Counter,
    /// The degrade switches that are on, as this replica last read them.
    pub switches: crate::switches::Switches,
}
