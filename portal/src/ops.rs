//! Operating the portal: `/readyz` (ready when the controller it fronts answers its own
//! `/readyz`), and `/metrics` in Prometheus' format — requests by route and status, and their
//! durations as a histogram — scraped from this machine, or from anywhere with the metrics
//! token.
//!
//! The metrics go to a recorder of the portal's own, never the process's global one: the demo
//! runs a controller in the same process, whose `/metrics` must not show the portal's requests
//! (nor the reverse).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusRecorder};

use crate::AppState;

/// Upper bounds (seconds) of the request-duration histogram's buckets: 1 ms to 30 s.
const SECONDS_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How long `/readyz` waits for the controller.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The portal's own recorder (see the module doc). Cheap to clone.
#[derive(Clone)]
pub struct Metrics(Arc<PrometheusRecorder>);

impl Metrics {
    pub fn new() -> Metrics {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS_BUCKETS)
            .expect("the bucket list is not empty")
            .build_recorder();
        Metrics(Arc::new(recorder))
    }

    /// Counts one request to `route` answered with `status` after `took`.
    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        let labels = [
            ("method", method.to_owned()),
            ("route", route.to_owned()),
            ("status", status.to_string()),
        ];
        metrics::with_local_recorder(self.0.as_ref(), || {
            metrics::counter!("playrack_portal_requests_total", &labels).increment(1);
            metrics::histogram!("playrack_portal_request_duration_seconds", &labels)
                .record(took.as_secs_f64());
        });
    }

    pub fn render(&self) -> String {
        self.0.handle().render()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// Middleware: times every request and counts it under its route pattern (`/play/{code}`,
/// never the code itself, so the label set stays small).
pub async fn measure(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let resp = next.run(req).await;
    state
        .metrics
        .request(&method, &route, resp.status().as_u16(), started.elapsed());
    resp
}

/// `GET /metrics`: for this machine, or for whoever sends the configured metrics token.
pub async fn metrics(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
) -> Response {
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let allowed = match state.config.metrics_token.as_deref() {
        Some(token) => sent.is_some_and(|s| same_secret(s, token)),
        None => peer.ip().is_loopback(),
    };
    if !allowed {
        return (
            StatusCode::FORBIDDEN,
            "metrics are served to this machine, or with --metrics-token to its holder\n",
        )
            .into_response();
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// Compares secrets in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// `GET /readyz`: 200 when the controller answers its own `/readyz` within
/// [`READY_TIMEOUT`], else 503 saying why.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let url = format!("{}/readyz", state.ctl.base);
    let answer = tokio::time::timeout(READY_TIMEOUT, state.ctl.streaming.get(&url).send()).await;
    match answer {
        Ok(Ok(r)) if r.status().is_success() => (StatusCode::OK, "ready\n").into_response(),
        Ok(Ok(r)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the controller is not ready ({})\n", r.status()),
        )
            .into_response(),
        Ok(Err(e)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the controller cannot be reached: {e}\n"),
        )
            .into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the controller did not answer in time\n",
        )
            .into_response(),
    }
}
