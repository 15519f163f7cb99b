//! Security headers on every response, and the problem+json answers the portal itself gives.
//!
//! Framing: every page answers `X-Frame-Options: DENY` and `frame-ancestors 'none'`, except a
//! try-play link's player page when the link names the sites that may embed it: then
//! `frame-ancestors` lists exactly those origins (and no `X-Frame-Options`, which cannot). A
//! player page framed anywhere else would let any site spend a tenant's paid concurrency behind
//! a disguised "Play" (clickjacking); a publisher who wants the game inside their own page
//! either lists that page's origin on the link or loads the H5 SDK there.

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

/// Lets the sites `origins` (normalised origins, as a link's `embed_origins`) frame this
/// response, and nobody else. Each is checked again here: only what is safe in the header
/// gets in, and with none left the page stays unframeable.
pub fn framed_by(resp: &mut Response, origins: &[String]) {
    let ok: Vec<String> = origins
        .iter()
        .filter_map(|o| playrack_wire::api::embed_origin(o).ok())
        .collect();
    if ok.is_empty() {
        return;
    }
    let h = resp.headers_mut();
    let csp = h
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or(CSP);
    let framed = csp.replace(
        "frame-ancestors 'none'",
        &format!("frame-ancestors {}", ok.join(" ")),
    );
    if let Ok(v) = HeaderValue::from_str(&framed) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
}

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
    // A page some sites may frame (see `framed_by`) says so in its policy alone.
    let framed = h
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| !p.contains("frame-ancestors 'none'"));
    if !framed {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn csp(resp: &Response) -> &str {
        resp.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
    }

    #[test]
    fn only_the_links_sites_may_frame_its_page() {
        let page = || {
            let mut r = "page".into_response();
            r.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(STREAMING_CSP),
            );
            r
        };
        let mut r = page();
        framed_by(
            &mut r,
            &[
                "https://games.example".into(),
                "https://x.example; script-src *".into(),
                "http://localhost:5173".into(),
            ],
        );
        assert!(
            csp(&r).ends_with("frame-ancestors https://games.example http://localhost:5173"),
            "{}",
            csp(&r)
        );
        assert!(
            csp(&r).contains("connect-src 'self' ws: wss:"),
            "the rest stays"
        );
        // Nothing safe to list: the page stays unframeable.
        let mut r = page();
        framed_by(&mut r, &["javascript:alert(1)".into()]);
        assert_eq!(csp(&r), STREAMING_CSP);
    }
}
