//! Tenants: created and governed by operators; a tenant's own users can read their tenant.

use crate::audit;
use crate::auth::Caller;
use crate::db::{self, PageParams, page_from, ts};
use crate::error::{ApiError, ApiResult};
use crate::http::{Json, Query};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use playrack_wire::api::*;
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_tenant, list_tenants))
        .routes(routes!(get_tenant, update_tenant))
}

pub(crate) fn tenant_from(row: &AnyRow) -> Result<Tenant, sqlx::Error> {
    let status: String = row.try_get("status")?;
    Ok(Tenant {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        status: if status == "suspended" {
            TenantStatus::Suspended
        } else {
            TenantStatus::Active
        },
        priority_tier: row.try_get::<i64, _>("priority_tier")? as i32,
        created_at: ts(row, "created_at")?,
    })
}

fn status_str(s: TenantStatus) -> &'static str {
    match s {
        TenantStatus::Active => "active",
        TenantStatus::Suspended => "suspended",
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
        created_at: crate::now(),
    };
    let mut tx = state.db.write().await?;
    sqlx::query("INSERT INTO tenants (id, name, status, priority_tier, created_at) VALUES ($1, $2, 'active', $3, $4)")
        .bind(&tenant.id)
        .bind(&tenant.name)
        .bind(i64::from(tenant.priority_tier))
        .bind(tenant.created_at.millis())
        .execute(&mut **tx)
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
    let rows = sqlx::query("SELECT * FROM tenants WHERE id > $1 ORDER BY id LIMIT $2")
        .bind(page.cursor())
        .bind(page.limit() + 1)
        .fetch_all(&state.db.pool)
        .await?;
    let items = rows
        .iter()
        .map(tenant_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(axum::Json(page_from(items, &page, |t| t.id.clone())))
}

pub(crate) async fn load_tenant(state: &AppState, id: &str) -> ApiResult<Tenant> {
    let row = sqlx::query("SELECT * FROM tenants WHERE id = $1")
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    Ok(tenant_from(&row)?)
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
    if let Some(name) = &req.name {
        tenant.name = validate_name(name)?;
    }
    if let Some(s) = req.status {
        tenant.status = s;
    }
    if let Some(t) = req.priority_tier {
        tenant.priority_tier = t;
    }
    let mut tx = state.db.write().await?;
    sqlx::query("UPDATE tenants SET name = $1, status = $2, priority_tier = $3 WHERE id = $4")
        .bind(&tenant.name)
        .bind(status_str(tenant.status))
        .bind(i64::from(tenant.priority_tier))
        .bind(&id)
        .execute(&mut **tx)
        .await?;
    audit::record(
        &mut tx,
        &caller,
        Some(&id),
        "tenant.update",
        &id,
        serde_json::to_value(&req).unwrap_or_default(),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(tenant))
}
