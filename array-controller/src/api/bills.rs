//! Bills over HTTP (see [`crate::bills`] for what a statement holds). A tenant reads its own;
//! operators read any tenant's (`?tenant_id=`), or every tenant's closed bills of one period.
//!
//! ```text
//! GET /v1/bills?tenant_id=&period_start=   closed bills (lines left out), newest first
//! GET /v1/bills/current?tenant_id=         the open period's statement as it stands
//! GET /v1/bills/{id}                       one bill with its lines (`current` is the open one)
//! GET /v1/bills/{id}/export?format=csv     the same as a CSV (or `json`) download
//! ```

use crate::auth::Caller;
use crate::bills;
use crate::db::PageParams;
use crate::error::{ApiError, ApiResult};
use crate::http::Query;
use crate::state::AppState;
use crate::store;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use playrack_wire::Timestamp;
use playrack_wire::api::{Bill, Page};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_bills))
        .routes(routes!(current_bill))
        .routes(routes!(get_bill))
        .routes(routes!(export_bill))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListBillsParams {
    /// Operators: this tenant's bills (without it, every tenant's bills of one period).
    pub tenant_id: Option<String>,
    /// Operators, every tenant: the period's start (default: the newest period billed).
    pub period_start: Option<Timestamp>,
    /// Items per page, 1–200 (default 50).
    #[serde(default, deserialize_with = "crate::db::page_limit")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TenantParam {
    /// Operators: whose statement (a tenant's own is implied for its members).
    pub tenant_id: Option<String>,
}

fn headline(mut b: Bill) -> Bill {
    b.items.clear();
    b
}

/// Closed bills: a tenant's own (newest period first), or for operators one tenant's or every
/// tenant's of one period (by tenant).
#[utoipa::path(get, path = "/v1/bills", tag = "metering", params(ListBillsParams),
    responses((status = 200, body = Page<Bill>), (status = 404, body = playrack_wire::Problem, description = "Another tenant"), (status = 422, body = playrack_wire::Problem, description = "A bad cursor or limit")))]
async fn list_bills(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListBillsParams>,
) -> ApiResult<axum::Json<Page<Bill>>> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let pool = &state.db.pool;
    let limit = page.limit() + 1;
    let to_bills = |rows: Vec<store::bills::BillRow>| -> Vec<Bill> {
        rows.into_iter()
            .map(|r| headline(bills::from_row(r, Vec::new())))
            .collect()
    };
    if let Some(tenant) = caller.tenant_asked(q.tenant_id.as_deref())? {
        let before = match page.cursor.as_deref() {
            None | Some("") => i64::MAX,
            Some(c) => Timestamp::parse(c)
                .map_err(|e| ApiError::Validation(format!("cursor: {e}")))?
                .millis(),
        };
        let items = to_bills(store::bills::of_tenant(pool, &tenant, before, limit).await?);
        return Ok(axum::Json(crate::db::page_from(items, &page, |b| {
            b.period_start.to_string()
        })));
    }
    let period = match q.period_start {
        Some(p) => Some(p.millis()),
        None => store::bills::latest_period(pool).await?,
    };
    let Some(period) = period else {
        return Ok(axum::Json(Page {
            items: Vec::new(),
            next_cursor: None,
        }));
    };
    let items = to_bills(store::bills::of_period(pool, period, &page.cursor(), limit).await?);
    Ok(axum::Json(crate::db::page_from(items, &page, |b| {
        b.tenant_id.clone()
    })))
}

async fn open_statement(
    state: &AppState,
    caller: &Caller,
    asked: Option<String>,
) -> ApiResult<Bill> {
    let tenant = caller.tenant_asked(asked.as_deref())?.ok_or_else(|| {
        ApiError::Validation("name the tenant: ?tenant_id=ten_… (operators)".into())
    })?;
    store::accounts::tenant(&state.db.pool, &tenant)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    bills::current(state, &tenant).await
}

/// The open period's statement as it stands (the id is the one its bill will have).
#[utoipa::path(get, path = "/v1/bills/current", tag = "metering", params(TenantParam),
    responses((status = 200, body = Bill), (status = 404, body = playrack_wire::Problem), (status = 422, body = playrack_wire::Problem, description = "An operator named no tenant")))]
async fn current_bill(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<TenantParam>,
) -> ApiResult<axum::Json<Bill>> {
    Ok(axum::Json(
        open_statement(&state, &caller, q.tenant_id).await?,
    ))
}

/// A bill by id (`current`: the open statement), as the caller may read it.
async fn find(
    state: &AppState,
    caller: &Caller,
    id: &str,
    asked: Option<String>,
) -> ApiResult<Bill> {
    if id == "current" {
        return open_statement(state, caller, asked).await;
    }
    if let Some(b) = bills::closed(state, id).await? {
        caller.require_tenant_read(&b.tenant_id, "bill")?;
        return Ok(b);
    }
    // The open statement's id, asked for by its tenant (the id first: the statement is only
    // computed when it is the one asked for).
    if let Some(tenant) = caller.tenant_asked(asked.as_deref())?
        && bills::open_id(state, &tenant).await? == id
    {
        return bills::current(state, &tenant).await;
    }
    Err(ApiError::NotFound("bill"))
}

/// One bill with its lines.
#[utoipa::path(get, path = "/v1/bills/{id}", tag = "metering", params(TenantParam),
    responses((status = 200, body = Bill), (status = 404, body = playrack_wire::Problem), (status = 422, body = playrack_wire::Problem)))]
async fn get_bill(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<TenantParam>,
) -> ApiResult<axum::Json<Bill>> {
    Ok(axum::Json(find(&state, &caller, &id, q.tenant_id).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `csv` (default) or `json`.
    pub format: Option<String>,
    /// Operators, for `current`: whose statement.
    pub tenant_id: Option<String>,
}

/// A bill as a download: CSV (a row per line and a total row, amounts in micro-units) or JSON.
#[utoipa::path(get, path = "/v1/bills/{id}/export", tag = "metering", params(ExportParams),
    responses((status = 200, description = "The bill as a file", content((String = "text/csv"), (Bill = "application/json"))),
              (status = 404, body = playrack_wire::Problem), (status = 422, body = playrack_wire::Problem)))]
async fn export_bill(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<ExportParams>,
) -> ApiResult<Response> {
    let format = q.format.as_deref().unwrap_or("csv");
    if format != "csv" && format != "json" {
        return Err(ApiError::Validation(format!(
            "format must be csv or json, not `{format}`"
        )));
    }
    let bill = find(&state, &caller, &id, q.tenant_id).await?;
    let (body, kind) = if format == "csv" {
        (bills::to_csv(&bill), "text/csv; charset=utf-8")
    } else {
        let text =
            serde_json::to_string_pretty(&bill).map_err(|e| ApiError::Internal(e.to_string()))?;
        (text, "application/json")
    };
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}.{format}\"", bill.id))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
