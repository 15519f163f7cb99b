//! Security headers on every response, and the problem+json answers the portal itself gives.
//!
//! Framing: every page, the player page included, answers `X-Frame-Options: DENY` and
//! `frame-ancestors 'none'`. A framed player page would let any site spend a tenant's paid
//! concurrency behind a disguised "Play" (clickjacking), and embedding is what the H5 SDK is for:
//! a publisher who wants the game inside their own page loads the SDK there, under their origin.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use playrack_wire::Problem;

/// The Content-Security-Policy of every response: scripts, styles and connections only to the
/// portal itself, so an injected script on a console page could reach nobody else.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; \
object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The policy of the pages that stream (the player page, the operator's live view): they also
/// connect to machine rooms' probe URLs and boards' signaling WebSockets, which are other
/// hosts that come and go with the topology. Those pages hold no console session: the player
/// page has no signed-in user, and the live view's requests to the portal are same-origin
/// (cookies never leave for the boards).
pub const STREAMING_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self' ws: wss: http: https:; \
object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the security headers to every response (a page that set its own policy keeps it).
pub async fn headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    resp
}

/// A problem+json answer from the portal itself.
pub fn problem(status: StatusCode, code: &str, detail: impl Into<String>) -> Response {
    let p = Problem::new(
        status.as_u16(),
        code,
        status.canonical_reason().unwrap_or("Error"),
        detail,
    );
    problem_response(status, &p)
}

/// Answers an existing problem with its status.
pub fn problem_response(status: StatusCode, p: &Problem) -> Response {
    let body = serde_json::to_vec(p).unwrap_or_default();
    (
        status,
        [
            (header::CONTENT_TYPE, "application/problem+json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}
