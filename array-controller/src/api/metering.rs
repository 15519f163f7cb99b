//! The usage API: aggregates of the usage ledger (see [`crate::metering`]).
//!
//! `GET /v1/usage?from=&to=&group_by=day,game,spec` — a tenant sees its own usage; operators see
//! one tenant's with `?tenant_id=`, or every tenant's together without it. `from` and `to` are
//! RFC 3339 instants or `YYYY-MM-DD` dates (UTC midnight); sessions count by when they ended, in
//! `[from, to)`. Defaults: the last 30 days up to now.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::Query;
use crate::metering::{self, Grouping};
use crate::state::AppState;
use axum::extract::State;
use playrack_wire::Timestamp;
pub use playrack_wire::api::UsageReport;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_usage))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageParams {
    /// Start (inclusive): RFC 3339 or `YYYY-MM-DD`. Default: 30 days before `to`.
    pub from: Option<String>,
    /// End (exclusive): RFC 3339 or `YYYY-MM-DD`. Default: now.
    pub to: Option<String>,
    /// Comma-separated subset of `day`, `game`, `spec` (default: all three).
    pub group_by: Option<String>,
    /// Operators: only this tenant.
    pub tenant_id: Option<String>,
}

fn instant(name: &str, text: &str) -> ApiResult<Timestamp> {
    let text = text.trim();
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_owned()
    };
    Timestamp::parse(&full).map_err(|e| ApiError::Validation(format!("{name}: {e}")))
}

/// Usage per day, game and spec (as grouped): sessions, billable seconds and amount.
#[utoipa::path(get, path = "/v1/usage", tag = "metering", params(UsageParams),
    responses((status = 200, body = UsageReport)))]
async fn get_usage(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<UsageParams>,
) -> ApiResult<axum::Json<UsageReport>> {
    let tenant = caller.tenant_asked(q.tenant_id.as_deref())?;
    let to = match q.to.as_deref() {
        Some(t) => instant("to", t)?,
        None => crate::now(),
    };
    let from = match q.from.as_deref() {
        Some(f) => instant("from", f)?,
        None => to.plus_secs(-30 * 86_400),
    };
    if from > to {
        return Err(ApiError::Validation("from must not be after to".into()));
    }
    let grouping = Grouping::parse(q.group_by.as_deref())?;
    let items = metering::usage(&state.db.pool, tenant.as_deref(), from, to, grouping).await?;
    Ok(axum::Json(UsageReport {
        tenant_id: tenant,
        from,
        to,
        items,
    }))
}
