//! Degrade switches over HTTP: operator admins turn one on for the platform, a region, a room or
//! a tenant, and off again; each change is audited with the switch before and after (so it has
//! a history) and is read by every replica within [`crate::switches::REFRESH`] (at once by the
//! one that made it). Operators list every switch that is on; a tenant lists those that affect
//! it (the platform's and its own).
//!
//! ```text
//! GET    /v1/switches                       the switches that are on
//! PUT    /v1/switches                       operator admin: turn one on (SetSwitch)
//! DELETE /v1/switches/{name}?scope=…        operator admin: turn it off
//! ```

use crate::audit;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::{Json, Query};
use crate::state::AppState;
use crate::store;
use crate::store::switches::SwitchRow;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use playrack_wire::Timestamp;
use playrack_wire::api::{SetSwitch, Switch, SwitchName, SwitchScope};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_switches, set_switch))
        .routes(routes!(clear_switch))
}

fn to_wire(r: SwitchRow) -> Option<Switch> {
    Some(Switch {
        name: SwitchName::parse(&r.name)?,
        scope: r.scope,
        note: r.note,
        since: Timestamp(r.since),
        by: r.set_by,
    })
}

/// The audit object a switch's changes are recorded under (its history's id).
fn object_id(name: SwitchName, scope: &SwitchScope) -> String {
    format!("switch:{}@{scope}", name.as_str())
}

/// The tenant a scope belongs to, for the audit entry (tenants read their own).
fn tenant_of(scope: &SwitchScope) -> Option<&str> {
    match scope {
        SwitchScope::Tenant(t) => Some(t),
        _ => None,
    }
}

/// Reads and checks a scope for `name`: well formed, allowed for the switch, naming something
/// that exists.
async fn checked_scope(state: &AppState, name: SwitchName, text: &str) -> ApiResult<SwitchScope> {
    let scope = SwitchScope::parse(text).map_err(ApiError::Validation)?;
    let pool = &state.db.pool;
    let exists = match &scope {
        SwitchScope::Platform => true,
        SwitchScope::Region(id) => store::topology::region(pool, id).await?.is_some(),
        SwitchScope::Room(id) => store::topology::room(pool, id).await?.is_some(),
        SwitchScope::Tenant(id) => store::accounts::tenant(pool, id).await?.is_some(),
    };
    if !exists {
        return Err(ApiError::Validation(format!(
            "scope `{text}` names nothing that exists"
        )));
    }
    if matches!(scope, SwitchScope::Region(_) | SwitchScope::Room(_)) && !name.by_place() {
        return Err(ApiError::Validation(format!(
            "`{}` is set for the platform or a tenant, not a region or room",
            name.as_str()
        )));
    }
    Ok(scope)
}

/// The switches that are on (a tenant: the platform's and its own, without the operators' notes).
#[utoipa::path(get, path = "/v1/switches", tag = "operations", responses((status = 200, body = Vec<Switch>)))]
async fn list_switches(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<Vec<Switch>>> {
    let rows = store::switches::all(&state.db.pool).await?;
    let mine = |scope: &str| match caller.tenant_scope() {
        None => true,
        Some(t) => scope == "platform" || scope.strip_prefix("tenant:") == Some(t),
    };
    let operator = caller.tenant_scope().is_none();
    Ok(axum::Json(
        rows.into_iter()
            .filter(|r| mine(&r.scope))
            .filter_map(to_wire)
            // The note is written for the other operators.
            .map(|s| Switch {
                note: s.note.filter(|_| operator),
                ..s
            })
            .collect(),
    ))
}

/// Turns a switch on (operator admins); on already, only its note changes.
#[utoipa::path(put, path = "/v1/switches", tag = "operations", request_body = SetSwitch, responses((status = 200, body = Switch)))]
async fn set_switch(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<SetSwitch>,
) -> ApiResult<axum::Json<Switch>> {
    caller.require_operator_admin()?;
    let scope = checked_scope(&state, req.name, &req.scope).await?;
    let note = super::operator_note(req.note)?;
    let (name, scope_text) = (req.name.as_str(), scope.to_string());
    let mut tx = state.db.write().await?;
    let before = store::switches::get(&mut tx, name, &scope_text)
        .await?
        .and_then(to_wire);
    let row = SwitchRow {
        name: name.to_owned(),
        scope: scope_text.clone(),
        note,
        since: crate::now().millis(),
        set_by: caller.id().to_owned(),
    };
    store::switches::set(&mut tx, &row).await?;
    let after = store::switches::get(&mut tx, name, &scope_text)
        .await?
        .and_then(to_wire)
        .ok_or_else(|| ApiError::Internal("a switch set is not there".into()))?;
    audit::record_change(
        &mut tx,
        &caller,
        tenant_of(&scope),
        "switch.on",
        &object_id(req.name, &scope),
        serde_json::json!({ "name": name, "scope": scope_text }),
        before.as_ref(),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    crate::switches::reload(&state).await?;
    Ok(axum::Json(after))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClearParams {
    /// `platform`, `region:<id>`, `room:<id>` or `tenant:<id>`.
    pub scope: String,
}

/// Turns a switch off (operator admins); `404` when it is not on there.
#[utoipa::path(delete, path = "/v1/switches/{name}", tag = "operations", params(ClearParams), responses((status = 204)))]
async fn clear_switch(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Query(q): Query<ClearParams>,
) -> ApiResult<StatusCode> {
    caller.require_operator_admin()?;
    let name = SwitchName::parse(&name).ok_or_else(|| {
        let names: Vec<&str> = SwitchName::ALL.iter().map(|n| n.as_str()).collect();
        ApiError::Validation(format!(
            "`{name}` is not a switch: give one of {}",
            names.join(", ")
        ))
    })?;
    let scope = SwitchScope::parse(&q.scope).map_err(ApiError::Validation)?;
    let scope_text = scope.to_string();
    let mut tx = state.db.write().await?;
    let before = store::switches::get(&mut tx, name.as_str(), &scope_text)
        .await?
        .and_then(to_wire)
        .ok_or(ApiError::NotFound("switch"))?;
    store::switches::clear(&mut tx, name.as_str(), &scope_text).await?;
    audit::record_change::<Switch>(
        &mut tx,
        &caller,
        tenant_of(&scope),
        "switch.off",
        &object_id(name, &scope),
        serde_json::json!({ "name": name.as_str(), "scope": scope_text }),
        Some(&before),
        None,
    )
    .await?;
    tx.commit().await?;
    crate::switches::reload(&state).await?;
    Ok(StatusCode::NO_CONTENT)
}
