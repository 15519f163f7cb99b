//! Reading the audit log: operators see every entry, tenants the entries of their own objects.

use crate::auth::Caller;
use crate::db::{PageParams, page_from, ts};
use crate::error::ApiResult;
use crate::http::Query;
use crate::state::AppState;
use axum::extract::State;
use playrack_wire::api::{AuditEntry, Page};
use serde::Deserialize;
use sqlx::Row;
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
    let rows = sqlx::query(
        "SELECT * FROM audit_log WHERE ($1 = '' OR tenant_id = $1) AND ($2 = '' OR object_id = $2) \
         AND ($3 = '' OR action = $3) AND id > $4 ORDER BY id LIMIT $5",
    )
    .bind(&tenant)
    .bind(q.object_id.unwrap_or_default())
    .bind(q.action.unwrap_or_default())
    .bind(page.cursor())
    .bind(page.limit() + 1)
    .fetch_all(&state.db.pool)
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            let summary: String = r.try_get("summary")?;
            Ok(AuditEntry {
                id: r.try_get("id")?,
                at: ts(r, "at")?,
                actor: r.try_get("actor")?,
                tenant_id: r.try_get("tenant_id")?,
                action: r.try_get("action")?,
                object_id: r.try_get("object_id")?,
                summary: serde_json::from_str(&summary).unwrap_or(serde_json::Value::Null),
                request_id: r.try_get("request_id")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(axum::Json(page_from(items, &page, |e| e.id.clone())))
}
