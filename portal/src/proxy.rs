//! The two proxies to the controller.
//!
//! - `/api/{path}` → `{controller}/v1/{path}` as the signed-in user: the session's bearer token
//!   is added here (the browser never sees it); every method but GET/HEAD needs the session's
//!   CSRF token. Bodies are buffered up to `max_body_bytes`, except tus `PATCH /api/uploads/…`,
//!   which streams. Answers stream back unchanged (status, problem+json bodies, tus headers),
//!   with `Location: /v1/…` rewritten to `/api/…`. A 401 from the controller ends the session.
//! - `/v1/play/{path}` → `{controller}/v1/play/{path}` with no credential but the player's play
//!   key (`Authorization: Bearer pk1_…`, passed on as it came): the public player API (acquire,
//!   tickets and their event streams, sessions), so the player page's SDK can use the page's own
//!   origin as its API base.
//!
//! Only a fixed list of request headers is forwarded (never cookies), and the board-agent
//! endpoints are not reachable through `/api`.

use crate::AppState;
use crate::auth::{csrf_ok, session_of};
use crate::security::problem;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use futures_util::TryStreamExt;
use std::net::SocketAddr;

/// Request headers passed to the controller.
const FORWARD_REQUEST: &[&str] = &[
    "accept",
    "content-type",
    "idempotency-key",
    "tus-resumable",
    "upload-length",
    "upload-offset",
    "upload-metadata",
    "last-event-id",
    "x-request-id",
];

/// Response headers never passed back (hop-by-hop, cookies, CORS for another origin).
fn drop_response_header(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "transfer-encoding"
            | "te"
            | "trailer"
            | "upgrade"
            | "proxy-authenticate"
            | "proxy-connection"
            | "set-cookie"
    ) || name.as_str().starts_with("access-control-")
}

/// A proxied path must be plain segments of URL-safe characters: no `.`/`..` segments, no
/// empty ones, no percent-encoding (so nothing can step out of `/v1/`).
fn clean_path(rest: &str) -> bool {
    !rest.is_empty()
        && rest.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | ':'))
        })
}

/// `/api/…` paths that are not for browsers (board agents use their own credentials).
fn blocked(rest: &str) -> bool {
    rest == "agents" || rest.starts_with("agents/") || rest == "agent" || rest.starts_with("agent/")
}

/// Whether a request streams its body instead of buffering it (tus chunks).
fn streams_body(method: &Method, rest: &str) -> bool {
    method == Method::PATCH && rest.starts_with("uploads/")
}

fn client_ip(req: &Request) -> Option<String> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

/// `ANY /api/{*rest}`.
pub async fn api(State(state): State<AppState>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let rest = path.strip_prefix("/api/").unwrap_or("");
    if !clean_path(rest) || blocked(rest) {
        return problem(StatusCode::NOT_FOUND, "NOT_FOUND", "no such API path");
    }
    let Some(signed_in) = session_of(&state, req.headers()) else {
        return problem(
            StatusCode::UNAUTHORIZED,
            "SIGNED_OUT",
            "sign in again: this browser has no live session",
        );
    };
    let safe = matches!(*req.method(), Method::GET | Method::HEAD);
    if !safe && !csrf_ok(&signed_in.session, req.headers(), None) {
        tracing::info!(method = %req.method(), path = %path, "refused: no CSRF token");
        return problem(
            StatusCode::FORBIDDEN,
            "CSRF_REFUSED",
            "the request did not carry this session's CSRF token (x-csrf-token)",
        );
    }
    let target = format!("/v1/{rest}");
    let resp = forward(&state, req, &target, Some(signed_in.token())).await;
    if resp.status() == StatusCode::UNAUTHORIZED {
        tracing::info!(account = %signed_in.session.principal.id,
            "the controller no longer accepts this session's token: signing out");
        state.sessions.remove(&signed_in.id);
    }
    rewrite_location(resp)
}

/// `ANY /v1/play/{*rest}`.
pub async fn play(State(state): State<AppState>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let rest = path.strip_prefix("/v1/play/").unwrap_or("");
    if !clean_path(rest) {
        return problem(StatusCode::NOT_FOUND, "NOT_FOUND", "no such play path");
    }
    let target = format!("/v1/play/{rest}");
    let play_key = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|k| k.starts_with("pk1_"))
        .map(str::to_owned);
    forward(&state, req, &target, play_key.as_deref()).await
}

/// `Location: /v1/x` → `/api/x` (tus creation answers where to PATCH).
fn rewrite_location(mut resp: Response) -> Response {
    if let Some(loc) = resp
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        && let Some(rest) = loc.strip_prefix("/v1/")
        && let Ok(v) = HeaderValue::from_str(&format!("/api/{rest}"))
    {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// Sends `req` to the controller at `target` (plus the original query) and streams the answer.
async fn forward(state: &AppState, req: Request, target: &str, token: Option<&str>) -> Response {
    let method = req.method().clone();
    let query = req
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let url = format!("{}{target}{query}", state.ctl.base);
    let ip = client_ip(&req);
    let (parts, body) = req.into_parts();
    let mut out = state.ctl.streaming.request(method.clone(), &url);
    for name in FORWARD_REQUEST {
        for v in parts.headers.get_all(*name) {
            out = out.header(*name, v);
        }
    }
    if let Some(ip) = ip {
        out = out.header("x-forwarded-for", ip);
    }
    if let Some(t) = token {
        out = out.bearer_auth(t);
    }
    let rest = target.trim_start_matches("/v1/");
    if streams_body(&method, rest) {
        let stream = body.into_data_stream().map_err(std::io::Error::other);
        out = out.body(reqwest::Body::wrap_stream(stream));
    } else if !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS) {
        match axum::body::to_bytes(body, state.config.max_body_bytes).await {
            Ok(b) => out = out.body(b),
            Err(_) => {
                return problem(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "BODY_TOO_LARGE",
                    format!(
                        "request bodies are limited to {} bytes here",
                        state.config.max_body_bytes
                    ),
                );
            }
        }
    }
    let upstream = match out.send().await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(%url, error = %e, "the controller could not be reached");
            return problem(
                StatusCode::BAD_GATEWAY,
                "CONTROLLER_UNAVAILABLE",
                "the platform's controller could not be reached; try again shortly",
            );
        }
    };
    let status = upstream.status();
    let mut headers = HeaderMap::new();
    for (k, v) in upstream.headers() {
        if !drop_response_header(k) {
            headers.append(k.clone(), v.clone());
        }
    }
    let body = Body::from_stream(upstream.bytes_stream());
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_under_v1() {
        assert!(clean_path("games/gam_1/versions"));
        assert!(!clean_path("../healthz"));
        assert!(!clean_path("games/../../x"));
        assert!(!clean_path("games//x"));
        assert!(!clean_path("games/%2e%2e"));
        assert!(!clean_path(""));
        assert!(blocked("agents/connect"));
        assert!(blocked("agent/archives/1"));
        assert!(!blocked("agentsx"));
        assert!(streams_body(&Method::PATCH, "uploads/upl_1"));
        assert!(!streams_body(&Method::POST, "uploads/upl_1"));
    }
}
