//! Reading the audit log: operators see every entry, tenants the entries of their own objects.

use crate::auth::Caller;
use crate::db::{PageParams, page_from};
use crate::error::ApiResult;
use crate::http::Query;
use crate::state::AppState;
use crate::store;
use axum::extract::State;
use playrack_wire::Timestamp;
use playrack_wire::api::{AuditEntry, Page};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Operators: only this tenant's entries.
    pub tenant_id: Option<String>,
    /// Only entries about this object.
    pub object_id: Option<String>,
    /// Only this action, e.g. `game.create`.
    pub action: Option<String>,
    /// Items per page, 1–200 (default 50).
    #[serde(default, deserialize_with = "crate::db::page_limit")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Lists audit entries, oldest first.
#[utoipa::path(get, path = "/v1/audit", tag = "audit", params(AuditParams), responses((status = 200, body = Page<AuditEntry>)))]
async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditParams>,
) -> ApiResult<axum::Json<Page<AuditEntry>>> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let tenant = caller
        .tenant_scope()
        .map(str::to_owned)
        .or(q.tenant_id)
        .unwrap_or_default();
    let object_id = q.object_id.unwrap_or_default();
    let action = q.action.unwrap_or_default();
    let filter = store::audit::Filter {
        tenant_id: &tenant,
        object_id: &object_id,
        action: &action,
    };
    let rows =
        store::audit::page(&state.db.pool, &filter, &page.cursor(), page.limit() + 1).await?;
    let items = rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            at: Timestamp(r.at),
            actor: r.actor,
            tenant_id: r.tenant_id,
            action: r.action,
            object_id: r.object_id,
            summary: serde_json::from_str(&r.summary).unwrap_or(serde_json::Value::Null),
            request_id: r.request_id,
        })
        .collect();
    Ok(axum::Json(page_from(items, &page, |e| e.id.clone())))
}
