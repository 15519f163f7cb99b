//! Playrack's web pages: the player's try-play page (`/play/{code}`), the tenant console
//! (`/console/…`) and the operator console (`/operator/…`), served by one axum server that
//! talks to the array controller over HTTP.
//!
//! How it fits together:
//! - [`auth`]: sign-in/out; the controller's bearer token stays server-side in [`session`];
//!   the browser holds only an HttpOnly, SameSite=Strict session cookie and a CSRF token.
//! - [`proxy`]: page scripts call `/api/…`, forwarded to the controller's `/v1/…` with the
//!   session's token (CSRF-checked, streamed); the public `/v1/play/…` is forwarded as-is so the
//!   player page and its SDK are same-origin.
//! - [`pages`]: server-rendered HTML written with maud templates ([`html`]: every spliced value
//!   is escaped by its type; [`layout`] is the frame); small scripts under `portal/assets/`
//!   ([`assets`]) add interactivity; [`qr`] draws QR codes, [`chart`] bar charts.
//! - [`security`]: CSP and the other headers on every response.
//! - [`i18n`]: the message catalogues (English, Chinese) and the language of each request.
//!
//! Start it in-process with [`Portal::start`] (tests, the demo launcher) or run the `portal`
//! binary.

pub mod assets;
pub mod auth;
pub mod chart;
pub mod config;
pub mod controller;
pub mod html;
pub mod i18n;
pub mod layout;
pub mod ops;
pub mod pages;
pub mod proxy;
pub mod qr;
pub mod security;
pub mod session;

pub use config::Config;

use axum::Router;
use axum::routing::{any, get, post};
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub ctl: controller::Controller,
    pub sessions: session::Sessions,
    /// The portal's public base URL (no trailing slash), for try-play links and QR codes.
    pub public_url: String,
    /// Request counts and durations for `/metrics`.
    pub metrics: ops::Metrics,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The portal's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        // browsers ask for it on every page; there is none
        .route(
            "/favicon.ico",
            get(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .route(
            "/signin",
            get(pages::signin::signin_page).post(pages::signin::signin),
        )
        .route("/signout", post(pages::signin::signout))
        .route("/play/{code}", get(pages::player::page))
        .route("/manifest.webmanifest", get(pages::player::manifest))
        .route("/watch/{code}", get(pages::watch::page))
        .route("/assets/sdk/{*path}", get(assets::sdk))
        .route("/assets/{name}", get(assets::own))
        .route("/api/{*rest}", any(proxy::api))
        .route("/v1/play/{*rest}", any(proxy::play))
        .merge(pages::tenant::routes())
        .merge(pages::operator::routes())
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn(i18n::remember))
        .layer(axum::middleware::from_fn(security::headers))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops::measure,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// The entry point for embedding: start a portal.
pub struct Portal;

/// A running portal.
pub struct Running {
    /// `http://<addr>` of the listener.
    pub url: String,
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Portal {
    /// Binds the listener and serves in the background.
    pub async fn start(config: Config) -> anyhow::Result<Running> {
        let tls = match &config.tls {
            Some((cert, key)) => Some(playrack_tls::ServerTls::from_pem_files(cert, key)?),
            None => None,
        };
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
        let addr = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{addr}");
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| url.clone())
            .trim_end_matches('/')
            .to_owned();
        let ctl =
            controller::Controller::new(&config.controller_url, config.controller_ca.as_deref())?;
        let sessions = session::Sessions::new(config.session_idle, config.session_max);
        if !assets::sdk_present_in(&config.sdk_dir) {
            tracing::error!(dir = %config.sdk_dir.display(),
                "the H5 SDK bundle ({}) is missing: the player page will show an error until \
                 sdk-h5 is built or --assets-dir points at it", assets::SDK_ENTRY);
        }
        let state = AppState(Arc::new(Inner {
            config,
            ctl,
            sessions,
            public_url,
            metrics: ops::Metrics::new(),
        }));
        let app = router(state.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(playrack_tls::serve(listener, app, tls, async move {
            let _ = rx.await;
        }));
        tracing::info!(%url, controller = %state.ctl.base, "portal listening");
        Ok(Running {
            url,
            addr,
            state,
            shutdown: Some(tx),
            task,
        })
    }
}

impl Running {
    /// Stops accepting connections and waits for in-flight requests. Open event streams are
    /// cut rather than waited for.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), &mut self.task).await;
        self.task.abort();
    }

    /// Waits until the server ends (for `main`).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await??;
        Ok(())
    }
}
