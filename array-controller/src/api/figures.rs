//! The figures API: what try-play links led to (see [`crate::figures`]).
//!
//! - `GET /v1/links/{id}/figures?from=&to=` — one link's days and total;
//! - `GET /v1/campaigns?from=&to=` — the tenant's campaigns (the tags its links carry), in name
//!   order, each with its links' figures summed;
//! - `GET /v1/campaigns/{name}/figures?from=&to=` — a campaign's links summed per day.
//!
//! `from` and `to` are `YYYY-MM-DD` UTC days, `to` exclusive; the default is the 30 days up to
//! and including today, and a range holds at most 366 days. Tenants see their own; operators
//! name the tenant of a campaign with `?tenant_id=`.

use crate::auth::Caller;
use crate::db::{PageParams, page_from};
use crate::error::{ApiError, ApiResult};
use crate::figures::day_of;
use crate::http::Query;
use crate::metering::DAY_MS;
use crate::state::AppState;
use crate::store;
use axum::extract::{Path, State};
use playrack_wire::Timestamp;
use playrack_wire::api::{Campaign, FigureDay, Figures, LinkFigures, Page};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(link_figures))
        .routes(routes!(list_campaigns))
        .routes(routes!(campaign_figures))
}

/// The longest range one answer covers, in days.
const MAX_DAYS: i64 = 366;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeParams {
    /// The first day, `YYYY-MM-DD` (UTC). Default: 29 days before `to`'s last day.
    pub from: Option<String>,
    /// The day after the last, `YYYY-MM-DD` (UTC). Default: tomorrow.
    pub to: Option<String>,
    /// Operators: the tenant whose campaign this is.
    pub tenant_id: Option<String>,
}

/// A `YYYY-MM-DD` day as days since the epoch.
fn day(name: &str, text: &str) -> ApiResult<i64> {
    let text = text.trim();
    let bad = || ApiError::Validation(format!("{name} must be a day, YYYY-MM-DD (not `{text}`)"));
    if text.len() != 10 {
        return Err(bad());
    }
    let t = Timestamp::parse(&format!("{text}T00:00:00Z")).map_err(|_| bad())?;
    Ok(day_of(t.millis()))
}

/// `YYYY-MM-DD` of a day since the epoch.
fn day_text(day: i64) -> String {
    let ts = Timestamp(day * DAY_MS).to_string();
    ts.get(..10).unwrap_or(&ts).to_owned()
}

/// The range asked for, as days since the epoch: `[from, to)`.
fn range(q: &RangeParams) -> ApiResult<(i64, i64)> {
    let to = match q.to.as_deref() {
        Some(t) => day("to", t)?,
        None => day_of(crate::now().millis()) + 1,
    };
    let from = match q.from.as_deref() {
        Some(f) => day("from", f)?,
        None => to - 30,
    };
    if from > to {
        return Err(ApiError::Validation("from must not be after to".into()));
    }
    if to - from > MAX_DAYS {
        return Err(ApiError::Validation(format!(
            "a range holds at most {MAX_DAYS} days"
        )));
    }
    Ok((from, to))
}

fn answer(
    link_id: Option<String>,
    campaign: Option<String>,
    (from, to): (i64, i64),
    rows: Vec<(i64, Figures)>,
) -> LinkFigures {
    let mut total = Figures::default();
    for (_, f) in &rows {
        total.add(f);
    }
    LinkFigures {
        link_id,
        campaign,
        from: day_text(from),
        to: day_text(to),
        days: rows
            .into_iter()
            .map(|(d, figures)| FigureDay {
                day: day_text(d),
                figures,
            })
            .collect(),
        total,
    }
}

/// What a link led to, per day: card opens, acquires (and how many queued), plays that
/// started, their billable seconds, and call-to-action clicks.
#[utoipa::path(get, path = "/v1/links/{id}/figures", tag = "catalog", params(RangeParams),
    responses((status = 200, body = LinkFigures)))]
async fn link_figures(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<RangeParams>,
) -> ApiResult<axum::Json<LinkFigures>> {
    let link = store::links::get(&state.db.pool, &id)
        .await?
        .ok_or(ApiError::NotFound("link"))?;
    caller.require_tenant_read(&link.tenant_id, "link")?;
    let r = range(&q)?;
    let rows = store::figures::for_link(&state.db.pool, &id, r.0, r.1).await?;
    Ok(axum::Json(answer(Some(id), None, r, rows)))
}

/// The tenant a campaign request is about: the caller's own, or the operator's `tenant_id`.
fn campaign_tenant(caller: &Caller, asked: Option<String>) -> ApiResult<String> {
    caller
        .tenant_asked(asked.as_deref())?
        .ok_or_else(|| ApiError::Validation("operators name the tenant: ?tenant_id=".into()))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CampaignParams {
    /// The first day, `YYYY-MM-DD` (UTC). Default: 29 days before `to`'s last day.
    pub from: Option<String>,
    /// The day after the last, `YYYY-MM-DD` (UTC). Default: tomorrow.
    pub to: Option<String>,
    /// Items per page, 1–200 (default 50).
    #[serde(default, deserialize_with = "crate::db::page_limit")]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
    /// Operators: whose campaigns.
    pub tenant_id: Option<String>,
}

/// The tenant's campaigns: the tags its links carry, with how many links carry each and their
/// figures summed over the range.
#[utoipa::path(get, path = "/v1/campaigns", tag = "catalog", params(CampaignParams),
    responses((status = 200, body = Page<Campaign>)))]
async fn list_campaigns(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<CampaignParams>,
) -> ApiResult<axum::Json<Page<Campaign>>> {
    let r = range(&RangeParams {
        from: q.from,
        to: q.to,
        tenant_id: None,
    })?;
    let tenant = campaign_tenant(&caller, q.tenant_id)?;
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let items =
        store::figures::campaigns(&state.db.pool, &tenant, &page.cursor(), r, page.limit() + 1)
            .await?;
    Ok(axum::Json(page_from(items, &page, |c| c.name.clone())))
}

/// A campaign's figures: its links' summed per day.
#[utoipa::path(get, path = "/v1/campaigns/{name}/figures", tag = "catalog", params(RangeParams),
    responses((status = 200, body = LinkFigures)))]
async fn campaign_figures(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Query(q): Query<RangeParams>,
) -> ApiResult<axum::Json<LinkFigures>> {
    let r = range(&q)?;
    let tenant = campaign_tenant(&caller, q.tenant_id)?;
    let rows = store::figures::for_campaign(&state.db.pool, &tenant, &name, r.0, r.1).await?;
    Ok(axum::Json(answer(None, Some(name), r, rows)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_checked_and_ranges_bounded() {
        assert_eq!(day("from", "1970-01-02").unwrap(), 1);
        assert_eq!(day_text(20_000), "2024-10-04");
        for bad in [
            "2026-13-01",
            "2026-1-1",
            "yesterday",
            "",
            "2026-01-01T00:00:00Z",
        ] {
            assert!(day("from", bad).is_err(), "{bad}");
        }
        let q = |from: &str, to: &str| RangeParams {
            from: Some(from.into()),
            to: Some(to.into()),
            tenant_id: None,
        };
        assert_eq!(
            range(&q("2026-01-01", "2026-01-31")).unwrap().1 - 20_454,
            30
        );
        assert!(range(&q("2026-02-01", "2026-01-01")).is_err());
        assert!(range(&q("2024-01-01", "2026-01-01")).is_err());
        let (from, to) = range(&RangeParams::default()).unwrap();
        assert_eq!(to - from, 30);
    }
}
