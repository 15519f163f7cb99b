//! The HTTP API: `/v1/...` resources, plus `/healthz`, `/readyz`, `/metrics` and the OpenAPI
//! document at `/v1/openapi.json` (generated from the handlers' annotations).
//!
//! One module per resource. Every handler follows the same shape: extract the [`Caller`],
//! check it with one `require_*` call, read and write through [`crate::store`] (mutations in one
//! [`Db::write`] transaction that also writes the audit entry), answer JSON or an [`ApiError`].
//!
//! [`Caller`]: crate::auth::Caller
//! [`Db::write`]: crate::db::Db::write
//! [`ApiError`]: crate::error::ApiError

pub mod accounts;
pub mod agents;
pub mod archives;
pub mod audit;
pub mod bills;
pub mod catalog;
pub mod doc;
pub mod figures;
pub mod grey;
pub mod maintenance;
pub mod metering;
pub mod operations;
pub mod ops;
pub mod play;
pub mod recordings;
pub mod switches;
pub mod tenants;
pub mod topology;
pub mod uploads;
pub mod watch;
pub mod webhooks;

use crate::state::AppState;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(title = "Playrack array controller", description = "Tenants, games, packages, specs, topology, orders and sessions."),
    tags(
        (name = "auth", description = "Sign-in, accounts and API keys"),
        (name = "tenants", description = "Tenants (operator-managed)"),
        (name = "catalog", description = "Specs, games, versions, deployments and try-play links"),
        (name = "uploads", description = "Resumable APK uploads (tus 1.0)"),
        (name = "topology", description = "Regions, machine rooms, arrays, boards; orders"),
        (name = "audit", description = "The audit log"),
        (name = "play", description = "Acquire, the queue, sessions"),
        (name = "archives", description = "Players' save archives"),
        (name = "metering", description = "Usage and billing"),
        (name = "webhooks", description = "Tenants' event webhooks"),
        (name = "operations", description = "Degrade switches and maintenance windows"),
    )
)]
struct ApiDoc;

/// The routes and their OpenAPI description, before state is attached.
pub fn openapi_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(accounts::routes())
        .merge(agents::routes())
        .merge(tenants::routes())
        .merge(catalog::routes())
        .merge(uploads::routes())
        .merge(topology::routes())
        .merge(audit::routes())
        .merge(play::routes())
        .merge(operations::routes())
        .merge(archives::routes())
        .merge(recordings::routes())
        .merge(metering::routes())
        .merge(bills::routes())
        .merge(figures::routes())
        .merge(grey::routes())
        .merge(watch::routes())
        .merge(switches::routes())
        .merge(maintenance::routes())
        .merge(webhooks::routes())
}

/// An operator's note on a switch or a maintenance window: trimmed, empty as none, at most
/// 200 characters.
pub(crate) fn operator_note(note: Option<String>) -> crate::error::ApiResult<Option<String>> {
    const MAX: usize = 200;
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > MAX) {
        return Err(crate::error::ApiError::Validation(format!(
            "note: at most {MAX} characters"
        )));
    }
    Ok(note)
}

/// The OpenAPI document, complete (see [`doc`]).
pub fn openapi() -> serde_json::Value {
    let (_, doc) = openapi_router().split_for_parts();
    doc::finish(doc)
}

/// The complete application.
pub fn router(state: AppState) -> Router {
    let (api, doc) = openapi_router().split_for_parts();
    let doc = std::sync::Arc::new(doc::finish(doc));
    let cors = cors_layer(&state.config.cors_origins);
    Router::new()
        .merge(api)
        .route(
            "/v1/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .merge(ops::routes())
        .route_layer(axum::middleware::from_fn(crate::http::http_metrics))
        // Unknown paths and methods answer problem+json like every other error (the 405 keeps
        // its Allow header). Added after every route: the 405 fallback applies to those present.
        .fallback(|| async { crate::error::ApiError::NotFound("route") })
        .method_not_allowed_fallback(|| async {
            crate::error::ApiError::coded(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "this path does not take that method; see the Allow header",
            )
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http::rate_limit_ip,
        ))
        .layer(cors)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            uploads::tus_discovery,
        ))
        .layer(axum::middleware::from_fn(crate::http::request_id))
        .with_state(state)
}

fn cors_layer(origins: &[String]) -> CorsLayer {
    let base = CorsLayer::new()
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::PUT,
            Method::DELETE,
            Method::HEAD,
        ])
        .allow_headers([
            axum::http::header::AUTHORIZATION,
            axum::http::header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("tus-resumable"),
            HeaderName::from_static("upload-length"),
            HeaderName::from_static("upload-offset"),
            HeaderName::from_static("upload-metadata"),
        ])
        .expose_headers([
            HeaderName::from_static("location"),
            HeaderName::from_static("upload-offset"),
            HeaderName::from_static("upload-length"),
            HeaderName::from_static("tus-resumable"),
            HeaderName::from_static("x-request-id"),
        ]);
    if origins.iter().any(|o| o == "*") {
        base.allow_origin(AllowOrigin::any())
    } else {
        let list: Vec<HeaderValue> = origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        base.allow_origin(AllowOrigin::list(list))
    }
}
