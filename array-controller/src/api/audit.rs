//! Reading the audit log — operators see every entry, tenants the entries of their own
//! objects — one object's history newest first, and restoring an object to the state an entry
//! recorded before its change. A restore goes through the object's own change path (the same
//! checks and lock) and is itself audited as `<type>.restore` with its before and after, so a
//! restore can be undone the same way.

use crate::auth::Caller;
use crate::db::{PageParams, page_from};
use crate::error::{ApiError, ApiResult};
use crate::http::Query;
use crate::state::AppState;
use crate::store;
use crate::store::audit::AuditRow;
use axum::extract::{Path, State};
use playrack_wire::Timestamp;
use playrack_wire::api::{AuditEntry, Page, field_changes};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_audit))
        .routes(routes!(history))
        .routes(routes!(restore))
}

/// The object types whose earlier state a restore can put back (an entry's action starts
/// with one of them and a dot).
const RESTORABLE: [&str; 3] = ["link", "version", "order"];

/// The object type an action is about (`link` of `link.update`).
fn object_type(action: &str) -> &str {
    action.split('.').next().unwrap_or_default()
}

/// An entry as the API shows it.
pub(crate) fn entry(r: AuditRow) -> AuditEntry {
    let state = |t: Option<String>| t.and_then(|t| serde_json::from_str(&t).ok());
    let before: Option<serde_json::Value> = state(r.before_state);
    let after: Option<serde_json::Value> = state(r.after_state);
    AuditEntry {
        restorable: before.is_some() && RESTORABLE.contains(&object_type(&r.action)),
        changes: match (&before, &after) {
            (None, None) => Vec::new(),
            _ => field_changes(before.as_ref(), after.as_ref()),
        },
        id: r.id,
        at: Timestamp(r.at),
        actor: r.actor,
        tenant_id: r.tenant_id,
        action: r.action,
        object_id: r.object_id,
        summary: serde_json::from_str(&r.summary).unwrap_or(serde_json::Value::Null),
        request_id: r.request_id,
        before,
        after,
    }
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
    let items = rows.into_iter().map(entry).collect();
    Ok(axum::Json(page_from(items, &page, |e| e.id.clone())))
}

/// One object's history: the entries about it, newest first (pass `next_cursor` back for
/// older ones). Tenants see only their own objects' entries.
#[utoipa::path(get, path = "/v1/history/{object_id}", tag = "audit", params(PageParams), responses((status = 200, body = Page<AuditEntry>)))]
async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(object_id): Path<String>,
    Query(page): Query<PageParams>,
) -> ApiResult<axum::Json<Page<AuditEntry>>> {
    let tenant = caller.tenant_scope().unwrap_or_default();
    let rows = store::audit::history(
        &state.db.pool,
        &object_id,
        tenant,
        &page.cursor(),
        page.limit() + 1,
    )
    .await?;
    let items = rows.into_iter().map(entry).collect();
    Ok(axum::Json(page_from(items, &page, |e| e.id.clone())))
}

/// Restores the object an entry is about to the state it had before that change, through the
/// object's own change path; answers the restore's own entry (`409 NOT_RESTORABLE` for an
/// entry with no earlier state to put back).
#[utoipa::path(post, path = "/v1/audit/{id}/restore", tag = "audit", responses((status = 200, body = AuditEntry)))]
async fn restore(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<AuditEntry>> {
    let row = store::audit::get(&state.db.pool, &id)
        .await?
        .filter(|r| match caller.tenant_scope() {
            Some(t) => r.tenant_id.as_deref() == Some(t),
            None => true,
        })
        .ok_or(ApiError::NotFound("audit entry"))?;
    let shown = entry(row);
    let before = shown.before.as_ref().filter(|_| shown.restorable).ok_or_else(|| {
        ApiError::conflict(
            "NOT_RESTORABLE",
            format!(
                "`{}` kept no earlier state to put back (restorable: changes to {} that record one)",
                shown.action,
                RESTORABLE.join(", ")
            ),
        )
    })?;
    let object = shown.object_id.as_str();
    let restored = match object_type(&shown.action) {
        "link" => super::catalog::restore_link(&state, &caller, object, before, &id).await?,
        "version" => super::catalog::restore_version(&state, &caller, object, before, &id).await?,
        _ => super::topology::restore_order(&state, &caller, object, before, &id).await?,
    };
    let row = store::audit::get(&state.db.pool, &restored)
        .await?
        .ok_or(ApiError::NotFound("audit entry"))?;
    Ok(axum::Json(entry(row)))
}
