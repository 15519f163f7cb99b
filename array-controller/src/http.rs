//! HTTP plumbing shared by every route: request ids, the JSON and query extractors that answer
//! in problem+json, per-IP rate limiting, client addresses, and file bodies streamed out.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request, State};
use axum::http::{HeaderValue, request::Parts};
use axum::middleware::Next;
use axum::response::Response;
use serde::de::DeserializeOwned;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

tokio::task_local! {
    static REQUEST_ID: String;
}

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// A file as a response body, read in 64-KiB chunks as the client takes them.
pub fn file_body(file: tokio::fs::File) -> axum::body::Body {
    let stream = futures_util::stream::unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buf)), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    });
    axum::body::Body::from_stream(stream)
}

/// The id of the request being served, if called while serving one.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(|id| id.clone()).ok()
}

/// Runs `fut` (work spawned onto another task on behalf of the current request) with the
/// current request's id, so its audit entries and problems still name the request.
/// The id is read when this is called (on the request's task), not when the future first runs.
pub fn with_current_request_id<F: std::future::Future>(
    fut: F,
) -> impl std::future::Future<Output = F::Output> {
    let id = current_request_id();
    async move {
        match id {
            Some(id) => REQUEST_ID.scope(id, fut).await,
            None => fut.await,
        }
    }
}

/// Gives each request an id (the caller's `x-request-id` if it is sane, else a new one), makes
/// it visible to error bodies and audit entries, and echoes it in the response.
pub async fn request_id(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| crate::db::new_id("req"));
    let span =
        tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path());
    let mut resp = REQUEST_ID
        .scope(
            id.clone(),
            tracing::Instrument::instrument(next.run(req), span),
        )
        .await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    resp
}

/// Counts requests and their latency per route (the route template, not the raw path, so ids do
/// not explode the label set).
pub async fn http_metrics(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("playrack_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("playrack_http_request_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    resp
}

/// The client's IP: the socket peer, unless the peer is a trusted proxy — then the last
/// address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_ip(parts: &Parts, trusted: &[IpAddr]) -> IpAddr {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer)
}

/// The client's IP as [`client_ip`] finds it, for handlers.
pub struct ClientIp(pub IpAddr);

impl axum::extract::FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts, &state.config.trusted_proxies)))
    }
}

/// Refuses a client IP that is over its request rate.
pub async fn rate_limit_ip(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let ip = client_ip(&parts, &state.config.trusted_proxies);
    if let Err(wait) = state.ip_limiter.check(&ip, Instant::now()) {
        metrics::counter!("playrack_rate_limited_total", "by" => "ip").increment(1);
        return axum::response::IntoResponse::into_response(ApiError::RateLimited {
            retry_after_secs: wait.as_secs().max(1),
        });
    }
    next.run(Request::from_parts(parts, body)).await
}

/// `Json<T>` whose rejections are problem+json with code `VALIDATION_FAILED` (or
/// `UNSUPPORTED_MEDIA_TYPE`, or `PAYLOAD_TOO_LARGE` past the body limit), saying which field
/// was wrong. Every body this API takes is a JSON object: an array is refused here, where
/// serde would otherwise read it as the struct's fields in order.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::coded(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rej| {
                if rej.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::coded(
                        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                        "PAYLOAD_TOO_LARGE",
                        rej.body_text(),
                    )
                } else {
                    ApiError::Validation(rej.body_text())
                }
            })?;
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => {}
            None => {
                return Err(ApiError::Validation(
                    "the body is empty: send a JSON object".into(),
                ));
            }
            Some(_) => {
                return Err(ApiError::Validation(
                    "the body must be a JSON object".into(),
                ));
            }
        }
        axum::Json::<T>::from_bytes(&bytes)
            .map(|axum::Json(v)| Json(v))
            .map_err(|rej| ApiError::Validation(rej.body_text()))
    }
}

/// `application/json`, or any `application/…+json`, with or without parameters.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// `Query<T>` whose rejections are problem+json.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|rej| ApiError::Validation(rej.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn json_bodies_are_objects_of_a_json_media_type() {
        use axum::body::Body;
        #[derive(serde::Deserialize, Debug)]
        struct Kick {
            #[serde(default)]
            _reason: Option<String>,
        }
        async fn call(ct: Option<&str>, body: &'static str) -> Result<(), &'static str> {
            let mut req = axum::http::Request::builder().method("POST");
            if let Some(ct) = ct {
                req = req.header("content-type", ct);
            }
            let req = req.body(Body::from(body)).unwrap();
            Json::<Kick>::from_request(req, &())
                .await
                .map(|_| ())
                .map_err(|e| e.code())
        }
        assert_eq!(call(Some("application/json"), " {}").await, Ok(()));
        assert_eq!(
            call(Some("Application/JSON; charset=utf-8"), "{}").await,
            Ok(())
        );
        assert_eq!(
            call(Some("application/merge-patch+json"), "{}").await,
            Ok(())
        );
        // serde alone reads an array as the struct's fields in order
        assert_eq!(
            call(Some("application/json"), "[null]").await,
            Err("VALIDATION_FAILED")
        );
        assert_eq!(
            call(Some("application/json"), "null").await,
            Err("VALIDATION_FAILED")
        );
        assert_eq!(
            call(Some("application/json"), "{").await,
            Err("VALIDATION_FAILED")
        );
        assert_eq!(
            call(Some("text/plain"), "{}").await,
            Err("UNSUPPORTED_MEDIA_TYPE")
        );
        assert_eq!(call(None, "{}").await, Err("UNSUPPORTED_MEDIA_TYPE"));
    }

    #[test]
    fn forwarded_for_counts_only_from_trusted_proxies() {
        let parts = |peer: &str, xff: Option<&str>| {
            let mut req = axum::http::Request::builder();
            if let Some(x) = xff {
                req = req.header("x-forwarded-for", x);
            }
            let (mut parts, _) = req.body(()).unwrap().into_parts();
            parts
                .extensions
                .insert(ConnectInfo::<SocketAddr>(peer.parse().unwrap()));
            parts
        };
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // an untrusted peer cannot choose its address
        assert_eq!(
            client_ip(&parts("10.0.0.9:1", Some("1.2.3.4")), &[proxy]),
            ip("10.0.0.9")
        );
        // the proxy's header names the client; spoofed entries to its left do not count
        assert_eq!(
            client_ip(&parts("127.0.0.1:1", Some("6.6.6.6, 1.2.3.4")), &[proxy]),
            ip("1.2.3.4")
        );
        assert_eq!(client_ip(&parts("127.0.0.1:1", None), &[proxy]), proxy);
        assert_eq!(
            client_ip(&parts("127.0.0.1:1", Some("junk")), &[proxy]),
            proxy
        );
        assert_eq!(
            client_ip(&parts("127.0.0.1:1", Some("1.2.3.4")), &[]),
            proxy
        );
    }
}
