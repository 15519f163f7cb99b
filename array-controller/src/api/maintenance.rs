//! Maintenance windows over HTTP (operators): schedule one for a room or a board, list them
//! newest first, read one, call one off. What a window does when is [`crate::maintenance`]'s.
//!
//! ```text
//! POST /v1/maintenance               operator admin: schedule (CreateMaintenance)
//! GET  /v1/maintenance               operators: the windows, newest first
//! GET  /v1/maintenance/{id}          operators
//! POST /v1/maintenance/{id}/cancel   operator admin: before it starts, called off (players'
//!                                    notice withdrawn); under way, it ends now
//! ```

use crate::audit;
use crate::auth::Caller;
use crate::db::{self, PageParams, page_from};
use crate::error::{ApiError, ApiResult};
use crate::http::{Json, Query};
use crate::state::AppState;
use crate::store;
use crate::store::maintenance::MaintenanceRow;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use playrack_wire::api::{CreateMaintenance, Maintenance, MaintenanceState, Page};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_maintenance, list_maintenance))
        .routes(routes!(get_maintenance))
        .routes(routes!(cancel_maintenance))
}

/// The longest window.
const MAX_WINDOW_MS: i64 = 7 * 24 * 3600 * 1000;

/// Schedules maintenance of a room or a board.
#[utoipa::path(post, path = "/v1/maintenance", tag = "operations", request_body = CreateMaintenance, responses((status = 201, body = Maintenance)))]
async fn create_maintenance(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateMaintenance>,
) -> ApiResult<(StatusCode, axum::Json<Maintenance>)> {
    caller.require_operator_admin()?;
    let pool = &state.db.pool;
    match (&req.room_id, &req.board_id) {
        (Some(room), None) => {
            store::topology::room(pool, room)
                .await?
                .ok_or_else(|| ApiError::Validation(format!("room_id: no room `{room}`")))?;
        }
        (None, Some(board)) => {
            store::topology::board(pool, board)
                .await?
                .ok_or_else(|| ApiError::Validation(format!("board_id: no board `{board}`")))?;
        }
        _ => {
            return Err(ApiError::Validation(
                "give exactly one of room_id and board_id".into(),
            ));
        }
    }
    let now = crate::now();
    // A minute's slack: a window set to start "now" by a slow client is not refused.
    if req.starts_at.millis() < now.millis() - 60_000 {
        return Err(ApiError::Validation(
            "starts_at must not be in the past".into(),
        ));
    }
    let length = req.ends_at.millis() - req.starts_at.millis();
    if length <= 0 || length > MAX_WINDOW_MS {
        return Err(ApiError::Validation(
            "ends_at must be after starts_at, at most 7 days later".into(),
        ));
    }
    let note = super::operator_note(req.note)?;
    let row = MaintenanceRow {
        id: db::new_id("mnt"),
        room_id: req.room_id,
        board_id: req.board_id,
        starts_at: req.starts_at.millis(),
        ends_at: req.ends_at.millis(),
        note,
        state: MaintenanceState::Scheduled.as_str().into(),
        drained: None,
        created_by: caller.id().to_owned(),
        created_at: now.millis(),
    };
    let shown = row.to_wire();
    let mut tx = state.db.write().await?;
    store::maintenance::insert(&mut tx, &row).await?;
    audit::record_change(
        &mut tx,
        &caller,
        None,
        "maintenance.create",
        &row.id,
        serde_json::json!({ "room_id": shown.room_id, "board_id": shown.board_id }),
        None,
        Some(&shown),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(shown)))
}

/// The maintenance windows, newest first.
#[utoipa::path(get, path = "/v1/maintenance", tag = "operations", params(PageParams), responses((status = 200, body = Page<Maintenance>)))]
async fn list_maintenance(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<PageParams>,
) -> ApiResult<axum::Json<Page<Maintenance>>> {
    caller.require_operator()?;
    let rows = store::maintenance::page(&state.db.pool, &page.cursor(), page.limit() + 1).await?;
    let items = rows.iter().map(MaintenanceRow::to_wire).collect();
    Ok(axum::Json(page_from(items, &page, |m| m.id.clone())))
}

async fn load(state: &AppState, id: &str) -> ApiResult<MaintenanceRow> {
    store::maintenance::get(&state.db.pool, id)
        .await?
        .ok_or(ApiError::NotFound("maintenance"))
}

/// One maintenance window.
#[utoipa::path(get, path = "/v1/maintenance/{id}", tag = "operations", responses((status = 200, body = Maintenance)))]
async fn get_maintenance(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Maintenance>> {
    caller.require_operator()?;
    Ok(axum::Json(load(&state, &id).await?.to_wire()))
}

/// Calls a window off: before it starts it is cancelled (players' notice withdrawn); under way,
/// it ends now (its boards are given back within a second). `409 MAINTENANCE_OVER` once over.
#[utoipa::path(post, path = "/v1/maintenance/{id}/cancel", tag = "operations", responses((status = 200, body = Maintenance)))]
async fn cancel_maintenance(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Maintenance>> {
    caller.require_operator_admin()?;
    let before = load(&state, &id).await?;
    let mut tx = state.db.write().await?;
    let was = before.state();
    match was {
        MaintenanceState::Scheduled | MaintenanceState::Announced => {
            let moved = store::maintenance::advance(
                &mut tx,
                &id,
                &[was],
                MaintenanceState::Cancelled,
                None,
            )
            .await?;
            if !moved {
                return Err(ApiError::conflict(
                    "MAINTENANCE_MOVED",
                    "the window changed meanwhile; read it again",
                ));
            }
        }
        MaintenanceState::UnderWay => {
            store::maintenance::set_end(&mut tx, &id, crate::now().millis()).await?;
        }
        MaintenanceState::Done | MaintenanceState::Cancelled => {
            return Err(ApiError::conflict(
                "MAINTENANCE_OVER",
                "this window is over already",
            ));
        }
    }
    let after = store::maintenance::get_in(&mut tx, &id)
        .await?
        .ok_or(ApiError::NotFound("maintenance"))?;
    audit::record_change(
        &mut tx,
        &caller,
        None,
        "maintenance.cancel",
        &id,
        serde_json::json!({}),
        Some(&before.to_wire()),
        Some(&after.to_wire()),
    )
    .await?;
    tx.commit().await?;
    if was == MaintenanceState::Announced {
        crate::maintenance::withdraw(&state, &before).await?;
    }
    Ok(axum::Json(after.to_wire()))
}
