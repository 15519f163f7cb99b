//! Operations endpoints outside `/v1`: liveness, readiness and Prometheus metrics. Metrics
//! (which name tenants' games, rooms and error rates) are for the operator's Prometheus: with a
//! configured token, only a scrape that sends it; without one, only clients on this machine.

use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The process can serve: the database answers and the package store is writable.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if let Err(e) = state.db.ping().await {
        return (StatusCode::SERVICE_UNAVAILABLE, format!("database: {e}"));
    }
    // A name of its own per probe: probes that arrive together must not delete each other's.
    let probe = state
        .ingest
        .store
        .root()
        .join(".incoming")
        .join(format!(".readyz-{}", crate::db::random_token(16)));
    if let Err(e) = std::fs::write(&probe, b"ok").and_then(|_| std::fs::remove_file(&probe)) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("package store: {e}"),
        );
    }
    (StatusCode::OK, "ready".to_owned())
}

/// Prometheus text exposition.
async fn metrics(
    State(state): State<AppState>,
    req: axum::extract::Request,
) -> axum::response::Response {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let sent = crate::auth::bearer(req.headers());
    if !may_scrape(state.config.metrics_token.as_deref(), peer, sent) {
        return crate::error::ApiError::coded(
            StatusCode::FORBIDDEN,
            "METRICS_FORBIDDEN",
            match state.config.metrics_token {
                Some(_) => "send the metrics token as `Authorization: Bearer <token>`",
                None => "metrics are served to this machine only; set PLAYRACK_METRICS_TOKEN to scrape from elsewhere",
            },
        )
        .into_response();
    }
    (
        StatusCode::OK,
        [("content-type", "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// Whether a scrape may read the metrics: with a token configured, exactly when it sends it;
/// without one, exactly when it comes from this machine.
fn may_scrape(token: Option<&str>, peer: Option<std::net::IpAddr>, sent: Option<&str>) -> bool {
    match token {
        Some(token) => sent.is_some_and(|sent| crate::auth::constant_time_eq(sent, token)),
        None => peer.is_some_and(|p| p.is_loopback()),
    }
}

#[cfg(test)]
mod tests {
    use super::may_scrape;

    #[test]
    fn metrics_are_for_this_machine_or_the_token_holder() {
        let (lo, v6lo, far) = (
            Some("127.0.0.1".parse().unwrap()),
            Some("::1".parse().unwrap()),
            Some("203.0.113.9".parse().unwrap()),
        );
        assert!(may_scrape(None, lo, None));
        assert!(may_scrape(None, v6lo, None));
        assert!(!may_scrape(None, far, None));
        assert!(!may_scrape(None, None, None));
        assert!(may_scrape(Some("s3cret"), far, Some("s3cret")));
        assert!(
            !may_scrape(Some("s3cret"), lo, None),
            "a token is needed even on loopback"
        );
        assert!(!may_scrape(Some("s3cret"), far, Some("s3cret!")));
    }
}
