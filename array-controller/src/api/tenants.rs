//! Tenants: created and governed by operators; a tenant's own users can read their tenant.

use crate::audit;
use crate::auth::Caller;
use crate::db::{self, PageParams, page_from};
use crate::error::{ApiError, ApiResult};
use crate::http::{Json, Query};
use crate::state::AppState;
use crate::store::accounts::{self, TenantRow};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use playrack_wire::Timestamp;
use playrack_wire::api::*;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_tenant, list_tenants))
        .routes(routes!(get_tenant, update_tenant))
}

fn tenant_from(row: TenantRow, default_quota: u64) -> Tenant {
    Tenant {
        id: row.id,
        name: row.name,
        status: accounts::parse_tenant_status(&row.status),
        priority_tier: row.priority_tier as i32,
        storage_quota_bytes: row
            .storage_quota_bytes
            .map_or(default_quota, |q| q.max(0) as u64),
        package_bytes: row.package_bytes.max(0) as u64,
        created_at: Timestamp(row.created_at),
    }
}

fn validate_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::Validation("name must be 1–100 characters".into()));
    }
    Ok(name.to_owned())
}

/// Creates a tenant.
#[utoipa::path(post, path = "/v1/tenants", tag = "tenants", request_body = CreateTenant,
    responses((status = 201, body = Tenant), (status = 409, body = playrack_wire::Problem)))]
async fn create_tenant(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateTenant>,
) -> ApiResult<(StatusCode, axum::Json<Tenant>)> {
    caller.require_operator_admin()?;
    let tenant = Tenant {
        id: db::new_id("ten"),
        name: validate_name(&req.name)?,
        status: TenantStatus::Active,
        priority_tier: req.priority_tier,
        storage_quota_bytes: state.config.tenant_storage_quota_bytes,
        package_bytes: 0,
        created_at: crate::now(),
    };
    let mut tx = state.db.write().await?;
    accounts::insert_tenant(
        &mut tx,
        &tenant.id,
        &tenant.name,
        tenant.status,
        i64::from(tenant.priority_tier),
        tenant.created_at.millis(),
    )
    .await?;
    audit::record(
        &mut tx,
        &caller,
        Some(&tenant.id),
        "tenant.create",
        &tenant.id,
        serde_json::to_value(&tenant).unwrap_or_default(),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(tenant)))
}

/// Lists tenants (operators).
#[utoipa::path(get, path = "/v1/tenants", tag = "tenants", params(PageParams), responses((status = 200, body = Page<Tenant>)))]
async fn list_tenants(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<PageParams>,
) -> ApiResult<axum::Json<Page<Tenant>>> {
    caller.require_operator()?;
    let rows = accounts::tenants_page(&state.db.pool, &page.cursor(), page.limit() + 1).await?;
    let quota = state.config.tenant_storage_quota_bytes;
    let items = rows.into_iter().map(|r| tenant_from(r, quota)).collect();
    Ok(axum::Json(page_from(items, &page, |t| t.id.clone())))
}

pub(crate) async fn load_tenant(state: &AppState, id: &str) -> ApiResult<Tenant> {
    let row = accounts::tenant(&state.db.pool, id)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    Ok(tenant_from(row, state.config.tenant_storage_quota_bytes))
}

/// Reads a tenant (operators, or the tenant's own users).
#[utoipa::path(get, path = "/v1/tenants/{id}", tag = "tenants", responses((status = 200, body = Tenant)))]
async fn get_tenant(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Tenant>> {
    caller.require_tenant_read(&id, "tenant")?;
    Ok(axum::Json(load_tenant(&state, &id).await?))
}

/// Renames, suspends/reactivates or re-tiers a tenant.
#[utoipa::path(patch, path = "/v1/tenants/{id}", tag = "tenants", request_body = UpdateTenant,
    responses((status = 200, body = Tenant)))]
async fn update_tenant(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<UpdateTenant>,
) -> ApiResult<axum::Json<Tenant>> {
    caller.require_operator_admin()?;
    let mut tenant = load_tenant(&state, &id).await?;
    let before = tenant.clone();
    if let Some(name) = &req.name {
        tenant.name = validate_name(name)?;
    }
    if let Some(s) = req.status {
        tenant.status = s;
    }
    if let Some(t) = req.priority_tier {
        tenant.priority_tier = t;
    }
    let own_quota = match req.storage_quota_bytes {
        Some(q) => Some(
            i64::try_from(q)
                .map_err(|_| ApiError::Validation("storage_quota_bytes is too large".into()))?,
        ),
        None => accounts::tenant(&state.db.pool, &id)
            .await?
            .and_then(|r| r.storage_quota_bytes),
    };
    if let Some(q) = own_quota {
        tenant.storage_quota_bytes = q as u64;
    }
    let mut tx = state.db.write().await?;
    accounts::update_tenant(
        &mut tx,
        &id,
        &tenant.name,
        tenant.status,
        i64::from(tenant.priority_tier),
        own_quota,
    )
    .await?;
    audit::record_change(
        &mut tx,
        &caller,
        Some(&id),
        "tenant.update",
        &id,
        serde_json::to_value(&req).unwrap_or_default(),
        Some(&before),
        Some(&tenant),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(tenant))
}
