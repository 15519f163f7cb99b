//! Tenant webhook endpoints over HTTP (see [`crate::webhooks`] for delivery and signing).
//!
//! ```text
//! POST   /v1/webhooks                      url, events → 201 with the secret (shown once)
//! GET    /v1/webhooks                      a tenant's own; operators: all (?tenant_id=)
//! GET    /v1/webhooks/{id}
//! DELETE /v1/webhooks/{id}                 also drops its queued deliveries and log
//! GET    /v1/webhooks/{id}/deliveries      the delivery log: state, attempts, status, error, next retry
//! ```

use crate::audit;
use crate::auth::Caller;
use crate::db::{self, PageParams, page_from};
use crate::error::{ApiError, ApiResult};
use crate::http::{Json, Query};
use crate::state::AppState;
use crate::store;
use crate::store::webhooks::WebhookRow;
use crate::webhooks::{CreateWebhook, CreatedWebhook, EVENT_TYPES, Webhook, WebhookDelivery};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use playrack_wire::Timestamp;
use playrack_wire::api::Page;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(get_webhook, delete_webhook))
        .routes(routes!(list_deliveries))
}

/// Endpoints per tenant.
const MAX_WEBHOOKS: i64 = 20;

fn webhook_from(r: WebhookRow) -> Result<Webhook, sqlx::Error> {
    Ok(Webhook {
        events: crate::store::json(&r.events)?,
        id: r.id,
        tenant_id: r.tenant_id,
        url: r.url,
        created_at: Timestamp(r.created_at),
    })
}

fn validate(req: &CreateWebhook) -> ApiResult<(String, Vec<String>)> {
    let url = req.url.trim();
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| ApiError::Validation(format!("url is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ApiError::Validation(
            "url must be an http or https URL with a host".into(),
        ));
    }
    if url.len() > 2000 || !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(ApiError::Validation(
            "url must be at most 2000 characters and carry no credentials".into(),
        ));
    }
    let mut events: Vec<String> = Vec::new();
    for e in &req.events {
        if !EVENT_TYPES.contains(&e.as_str()) {
            return Err(ApiError::Validation(format!(
                "unknown event `{e}`; events are {}",
                EVENT_TYPES.join(", ")
            )));
        }
        if !events.contains(e) {
            events.push(e.clone());
        }
    }
    if events.is_empty() {
        return Err(ApiError::Validation(
            "events must name at least one event type".into(),
        ));
    }
    Ok((parsed.to_string(), events))
}

/// Registers an endpoint; the answer carries its signing secret, shown this once.
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", request_body = CreateWebhook,
    responses((status = 201, body = CreatedWebhook), (status = 422, body = playrack_wire::Problem)))]
async fn create_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateWebhook>,
) -> ApiResult<(StatusCode, axum::Json<CreatedWebhook>)> {
    let tenant_id = match (caller.tenant_scope(), req.tenant_id.as_deref()) {
        (Some(mine), _) => mine.to_owned(),
        (None, Some(t)) => t.to_owned(),
        (None, None) => {
            return Err(ApiError::Validation(
                "operators must say which tenant (tenant_id)".into(),
            ));
        }
    };
    caller.require_tenant_write(&tenant_id, "tenant")?;
    let (url, events) = validate(&req)?;
    if !state.config.webhook_allow_private_targets {
        let host = reqwest::Url::parse(&url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        let literal = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .ok();
        if host == "localhost"
            || host.ends_with(".localhost")
            || literal.is_some_and(crate::webhooks::is_private)
        {
            return Err(ApiError::Validation(format!(
                "{host} is a private or loopback address; webhooks go only to public endpoints"
            )));
        }
    }
    let webhook = Webhook {
        id: db::new_id("whk"),
        tenant_id,
        url,
        events,
        created_at: crate::now(),
    };
    let secret = format!("whsec_{}", db::random_token(40));
    let mut tx = state.db.write().await?;
    super::accounts::ensure_tenant(&mut tx, &webhook.tenant_id).await?;
    let n = store::webhooks::count_for_tenant(&mut tx, &webhook.tenant_id).await?;
    if n >= MAX_WEBHOOKS {
        return Err(ApiError::conflict(
            "WEBHOOK_LIMIT",
            format!("a tenant may register at most {MAX_WEBHOOKS} endpoints"),
        ));
    }
    let events = serde_json::to_string(&webhook.events).expect("json");
    let new = store::webhooks::NewWebhook {
        id: &webhook.id,
        tenant_id: &webhook.tenant_id,
        url: &webhook.url,
        events: &events,
        secret: &secret,
        created_at: webhook.created_at.millis(),
    };
    store::webhooks::insert(&mut tx, &new).await?;
    audit::record(
        &mut tx,
        &caller,
        Some(&webhook.tenant_id),
        "webhook.create",
        &webhook.id,
        serde_json::json!({"url": webhook.url, "events": webhook.events}),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedWebhook { webhook, secret }),
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListWebhooksParams {
    /// Operators: only this tenant's endpoints.
    pub tenant_id: Option<String>,
    /// Items per page, 1–200 (default 50).
    #[serde(default, deserialize_with = "crate::db::page_limit")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Lists endpoints (never their secrets).
#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks", params(ListWebhooksParams),
    responses((status = 200, body = Page<Webhook>)))]
async fn list_webhooks(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListWebhooksParams>,
) -> ApiResult<axum::Json<Page<Webhook>>> {
    let tenant = caller
        .tenant_asked(q.tenant_id.as_deref())?
        .unwrap_or_default();
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let rows =
        store::webhooks::page(&state.db.pool, &tenant, &page.cursor(), page.limit() + 1).await?;
    let items = rows
        .into_iter()
        .map(webhook_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(axum::Json(page_from(items, &page, |w| w.id.clone())))
}

async fn load(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Webhook> {
    let row = store::webhooks::get(&state.db.pool, id)
        .await?
        .ok_or(ApiError::NotFound("webhook"))?;
    let w = webhook_from(row)?;
    caller.require_tenant_read(&w.tenant_id, "webhook")?;
    Ok(w)
}

/// One endpoint.
#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "webhooks", responses((status = 200, body = Webhook)))]
async fn get_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Webhook>> {
    Ok(axum::Json(load(&state, &caller, &id).await?))
}

/// Removes an endpoint, its queued deliveries and its delivery log.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks", responses((status = 204)))]
async fn delete_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let w = load(&state, &caller, &id).await?;
    caller.require_tenant_write(&w.tenant_id, "webhook")?;
    let mut tx = state.db.write().await?;
    if !store::webhooks::delete(&mut tx, &id).await? {
        return Err(ApiError::NotFound("webhook"));
    }
    audit::record(
        &mut tx,
        &caller,
        Some(&w.tenant_id),
        "webhook.delete",
        &id,
        serde_json::json!({"url": w.url}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The delivery log of an endpoint: one item per event, oldest first, each with its attempts.
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks", params(PageParams),
    responses((status = 200, body = Page<WebhookDelivery>)))]
async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(page): Query<PageParams>,
) -> ApiResult<axum::Json<Page<WebhookDelivery>>> {
    load(&state, &caller, &id).await?;
    let rows =
        store::webhooks::deliveries_page(&state.db.pool, &id, &page.cursor(), page.limit() + 1)
            .await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        items.push(crate::webhooks::delivery_from(&state, r).await?);
    }
    Ok(axum::Json(page_from(items, &page, |d| d.id.clone())))
}
