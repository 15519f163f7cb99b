//! Topology (regions → machine rooms → arrays → boards) and orders. Operators manage both;
//! tenants may list rooms (to choose where to deploy) and read their own orders.

use crate::audit;
use crate::auth::Caller;
use crate::db::{self, PageParams, page_from};
use crate::error::{ApiError, ApiResult};
use crate::http::{Json, Query};
use crate::state::AppState;
use crate::store::topology as store;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use playrack_wire::api::*;
use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_region, list_regions))
        .routes(routes!(create_room, list_rooms))
        .routes(routes!(get_room, update_room))
        .routes(routes!(create_array, list_arrays))
        .routes(routes!(create_board, list_boards))
        .routes(routes!(get_board, update_board))
        .routes(routes!(board_instances))
        .routes(routes!(import_topology))
        .routes(routes!(create_order, list_orders))
        .routes(routes!(get_order, update_order))
}

fn name_ok(what: &str, s: &str) -> ApiResult<()> {
    if s.trim().is_empty() || s.chars().count() > 100 {
        return Err(ApiError::Validation(format!(
            "{what} must be 1–100 characters"
        )));
    }
    Ok(())
}

/// A shared volume is an absolute path or an `rsync://` URL of plain names
/// (`playrack_volume::Volume::parse`).
fn volume_ok(v: &str) -> ApiResult<()> {
    playrack_volume::Volume::parse(v)
        .map(|_| ())
        .map_err(|e| ApiError::Validation(e.to_string()))
}

fn probe_ok(v: &str) -> ApiResult<()> {
    if v.starts_with("http://") || v.starts_with("https://") {
        Ok(())
    } else {
        Err(ApiError::Validation(format!(
            "probe_url `{v}` must be an http(s) URL"
        )))
    }
}

fn capacity_ok(c: &BTreeMap<String, u32>) -> ApiResult<()> {
    for k in c.keys() {
        super::catalog::validate_slug("capacity spec id", k)?;
    }
    Ok(())
}

// --- regions ---------------------------------------------------------------------------------

#[utoipa::path(post, path = "/v1/regions", tag = "topology", request_body = CreateRegion, responses((status = 201, body = Region)))]
async fn create_region(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateRegion>,
) -> ApiResult<(StatusCode, axum::Json<Region>)> {
    caller.require_operator_admin()?;
    name_ok("name", &req.name)?;
    let region = Region {
        id: db::new_id("reg"),
        name: req.name.trim().to_owned(),
        created_at: crate::now(),
    };
    let mut tx = state.db.write().await?;
    store::insert_region(&mut tx, &region).await?;
    audit::record(
        &mut tx,
        &caller,
        None,
        "region.create",
        &region.id,
        serde_json::json!({"name": region.name}),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(region)))
}

#[utoipa::path(get, path = "/v1/regions", tag = "topology", params(PageParams), responses((status = 200, body = Page<Region>)))]
async fn list_regions(
    State(state): State<AppState>,
    _caller: Caller,
    Query(page): Query<PageParams>,
) -> ApiResult<axum::Json<Page<Region>>> {
    let items = store::regions(&state.db.pool, &page.cursor(), page.limit() + 1).await?;
    Ok(axum::Json(page_from(items, &page, |r| r.id.clone())))
}

// --- rooms -----------------------------------------------------------------------------------

/// A room's limits unless it sets its own: past them a board takes no new plays.
const DEFAULT_MAX_CPU: u32 = 90;
const DEFAULT_MAX_TEMPERATURE: u32 = 85;

fn cpu_limit_ok(v: u32) -> ApiResult<u32> {
    if (1..=100).contains(&v) {
        Ok(v)
    } else {
        Err(ApiError::Validation(format!(
            "max_cpu_percent must be 1–100, not {v}"
        )))
    }
}

fn temperature_limit_ok(v: u32) -> ApiResult<u32> {
    if (20..=150).contains(&v) {
        Ok(v)
    } else {
        Err(ApiError::Validation(format!(
            "max_temperature_c must be 20–150 (°C), not {v}"
        )))
    }
}

#[utoipa::path(post, path = "/v1/rooms", tag = "topology", request_body = CreateRoom, responses((status = 201, body = Room)))]
async fn create_room(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateRoom>,
) -> ApiResult<(StatusCode, axum::Json<Room>)> {
    caller.require_operator_admin()?;
    name_ok("name", &req.name)?;
    volume_ok(&req.shared_volume)?;
    probe_ok(&req.probe_url)?;
    let room = Room {
        id: db::new_id("room"),
        region_id: req.region_id,
        name: req.name.trim().to_owned(),
        instance_cap: req.instance_cap,
        shared_volume: req.shared_volume,
        probe_url: req.probe_url,
        placement: req.placement,
        max_cpu_percent: cpu_limit_ok(req.max_cpu_percent.unwrap_or(DEFAULT_MAX_CPU))?,
        max_temperature_c: temperature_limit_ok(
            req.max_temperature_c.unwrap_or(DEFAULT_MAX_TEMPERATURE),
        )?,
        created_at: crate::now(),
    };
    let mut tx = state.db.write().await?;
    store::insert_room(&mut tx, &room).await?;
    audit::record(
        &mut tx,
        &caller,
        None,
        "room.create",
        &room.id,
        serde_json::to_value(&room).unwrap_or_default(),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(room)))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChildParams {
    /// Only children of this parent (region for rooms, room for arrays, array for boards).
    pub parent_id: Option<String>,
    /// Items per page, 1–200 (default 50).
    #[serde(default, deserialize_with = "crate::db::page_limit")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Lists rooms (everyone signed in; tenants need them to deploy).
#[utoipa::path(get, path = "/v1/rooms", tag = "topology", params(ChildParams), responses((status = 200, body = Page<Room>)))]
async fn list_rooms(
    State(state): State<AppState>,
    _caller: Caller,
    Query(q): Query<ChildParams>,
) -> ApiResult<axum::Json<Page<Room>>> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let items = store::rooms(
        &state.db.pool,
        &q.parent_id.unwrap_or_default(),
        &page.cursor(),
        page.limit() + 1,
    )
    .await?;
    Ok(axum::Json(page_from(items, &page, |r| r.id.clone())))
}

async fn load_room(state: &AppState, id: &str) -> ApiResult<Room> {
    store::room(&state.db.pool, id)
        .await?
        .ok_or(ApiError::NotFound("room"))
}

#[utoipa::path(get, path = "/v1/rooms/{id}", tag = "topology", responses((status = 200, body = Room)))]
async fn get_room(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Room>> {
    Ok(axum::Json(load_room(&state, &id).await?))
}

#[utoipa::path(patch, path = "/v1/rooms/{id}", tag = "topology", request_body = UpdateRoom, responses((status = 200, body = Room)))]
async fn update_room(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<UpdateRoom>,
) -> ApiResult<axum::Json<Room>> {
    caller.require_operator_admin()?;
    let mut room = load_room(&state, &id).await?;
    let before = room.clone();
    if let Some(v) = &req.name {
        name_ok("name", v)?;
        room.name = v.trim().to_owned();
    }
    if let Some(v) = req.instance_cap {
        room.instance_cap = v;
    }
    if let Some(v) = &req.shared_volume {
        volume_ok(v)?;
        room.shared_volume = v.clone();
    }
    if let Some(v) = &req.probe_url {
        probe_ok(v)?;
        room.probe_url = v.clone();
    }
    if let Some(v) = req.placement {
        room.placement = v;
    }
    if let Some(v) = req.max_cpu_percent {
        room.max_cpu_percent = cpu_limit_ok(v)?;
    }
    if let Some(v) = req.max_temperature_c {
        room.max_temperature_c = temperature_limit_ok(v)?;
    }
    let mut tx = state.db.write().await?;
    let now = crate::now().millis();
    let moved =
        crate::store::volumes::volume_set(&mut tx, &room.id, &room.shared_volume, now).await?;
    store::update_room(&mut tx, &room).await?;
    audit::record_change(
        &mut tx,
        &caller,
        None,
        "room.update",
        &id,
        serde_json::to_value(&req).unwrap_or_default(),
        Some(&before),
        Some(&room),
    )
    .await?;
    tx.commit().await?;
    if moved {
        state.placer_wanted.notify_one();
    }
    Ok(axum::Json(room))
}

// --- arrays ----------------------------------------------------------------------------------

#[utoipa::path(post, path = "/v1/arrays", tag = "topology", request_body = CreateArray, responses((status = 201, body = Array)))]
async fn create_array(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateArray>,
) -> ApiResult<(StatusCode, axum::Json<Array>)> {
    caller.require_operator_admin()?;
    name_ok("name", &req.name)?;
    let array = Array {
        id: db::new_id("arr"),
        room_id: req.room_id,
        name: req.name.trim().to_owned(),
        created_at: crate::now(),
    };
    let mut tx = state.db.write().await?;
    store::insert_array(&mut tx, &array).await?;
    audit::record(
        &mut tx,
        &caller,
        None,
        "array.create",
        &array.id,
        serde_json::to_value(&array).unwrap_or_default(),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(array)))
}

#[utoipa::path(get, path = "/v1/arrays", tag = "topology", params(ChildParams), responses((status = 200, body = Page<Array>)))]
async fn list_arrays(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ChildParams>,
) -> ApiResult<axum::Json<Page<Array>>> {
    caller.require_operator()?;
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let items = store::arrays(
        &state.db.pool,
        &q.parent_id.unwrap_or_default(),
        &page.cursor(),
        page.limit() + 1,
    )
    .await?;
    Ok(axum::Json(page_from(items, &page, |a| a.id.clone())))
}

// --- boards ----------------------------------------------------------------------------------

/// Inserts a board; a serial another board has is a `SERIAL_TAKEN` conflict.
pub(crate) async fn insert_board(tx: &mut db::WriteTx, b: &Board) -> ApiResult<()> {
    store::insert_board(tx, b)
        .await
        .map_err(|e| match ApiError::from(e) {
            ApiError::Conflict { .. } => ApiError::conflict(
                "SERIAL_TAKEN",
                format!("a board with serial `{}` exists", b.serial),
            ),
            other => other,
        })
}

#[utoipa::path(post, path = "/v1/boards", tag = "topology", request_body = CreateBoard, responses((status = 201, body = Board)))]
async fn create_board(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateBoard>,
) -> ApiResult<(StatusCode, axum::Json<Board>)> {
    caller.require_operator_admin()?;
    name_ok("serial", &req.serial)?;
    name_ok("model", &req.model)?;
    capacity_ok(&req.capacity)?;
    let board = Board {
        id: db::new_id("brd"),
        array_id: req.array_id,
        serial: req.serial.trim().to_owned(),
        model: req.model.trim().to_owned(),
        capacity: req.capacity,
        status: BoardStatus::Active,
        agent_state: AgentState::Offline,
        last_seen_at: None,
        agent_version: None,
        telemetry: None,
        hot: None,
        created_at: crate::now(),
    };
    let mut tx = state.db.write().await?;
    insert_board(&mut tx, &board).await?;
    audit::record(
        &mut tx,
        &caller,
        None,
        "board.create",
        &board.id,
        serde_json::to_value(&board).unwrap_or_default(),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(board)))
}

#[utoipa::path(get, path = "/v1/boards", tag = "topology", params(ChildParams), responses((status = 200, body = Page<Board>)))]
async fn list_boards(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ChildParams>,
) -> ApiResult<axum::Json<Page<Board>>> {
    caller.require_operator()?;
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let items = store::boards(
        &state.db.pool,
        &q.parent_id.unwrap_or_default(),
        &page.cursor(),
        page.limit() + 1,
    )
    .await?;
    Ok(axum::Json(page_from(items, &page, |b| b.id.clone())))
}

async fn load_board(state: &AppState, id: &str) -> ApiResult<Board> {
    store::board(&state.db.pool, id)
        .await?
        .ok_or(ApiError::NotFound("board"))
}

#[utoipa::path(get, path = "/v1/boards/{id}", tag = "topology", responses((status = 200, body = Board)))]
async fn get_board(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Board>> {
    caller.require_operator()?;
    Ok(axum::Json(load_board(&state, &id).await?))
}

/// A board's instances as it last reported them: state, spec, the play and package, the video
/// encoder, when each was booted.
#[utoipa::path(get, path = "/v1/boards/{id}/instances", tag = "topology", responses((status = 200, body = Vec<BoardInstance>)))]
async fn board_instances(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<BoardInstance>>> {
    caller.require_operator()?;
    load_board(&state, &id).await?;
    Ok(axum::Json(
        store::board_instances(&state.db.pool, &id).await?,
    ))
}

/// Changes a board's model, capacity or status (drain / undrain / disable).
#[utoipa::path(patch, path = "/v1/boards/{id}", tag = "topology", request_body = UpdateBoard, responses((status = 200, body = Board)))]
async fn update_board(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<UpdateBoard>,
) -> ApiResult<axum::Json<Board>> {
    caller.require_operator_admin()?;
    let mut board = load_board(&state, &id).await?;
    let before = board.clone();
    if let Some(v) = &req.model {
        name_ok("model", v)?;
        board.model = v.trim().to_owned();
    }
    if let Some(v) = &req.capacity {
        capacity_ok(v)?;
        board.capacity = v.clone();
    }
    if let Some(v) = req.status {
        board.status = v;
    }
    let mut tx = state.db.write().await?;
    store::update_board(&mut tx, &id, &board.model, &board.capacity, board.status).await?;
    audit::record_change(
        &mut tx,
        &caller,
        None,
        "board.update",
        &id,
        serde_json::to_value(&req).unwrap_or_default(),
        Some(&before),
        Some(&board),
    )
    .await?;
    tx.commit().await?;
    if let Some(status) = req.status {
        // Tell the agent: a draining board takes no new plays and warns the players it has.
        crate::play::lifecycle::drain(&state, &id, status == BoardStatus::Draining).await?;
    }
    Ok(axum::Json(board))
}

// --- bulk import -----------------------------------------------------------------------------

/// Imports a whole topology in one transaction: all of it applies, or none (a bad entry is named
/// in the error). Existing objects are matched by name in their parent (boards by serial).
#[utoipa::path(post, path = "/v1/topology/import", tag = "topology", request_body = TopologyImport, responses((status = 200, body = ImportReport)))]
async fn import_topology(
    State(state): State<AppState>,
    caller: Caller,
    Json(doc): Json<TopologyImport>,
) -> ApiResult<axum::Json<ImportReport>> {
    caller.require_operator_admin()?;
    let mut report = ImportReport::default();
    let now = crate::now();
    let mut tx = state.db.write().await?;
    for region in &doc.regions {
        name_ok("region name", &region.name)?;
        let region_id = match store::region_named(&mut tx, region.name.trim()).await? {
            Some(id) => id,
            None => {
                let new = Region {
                    id: db::new_id("reg"),
                    name: region.name.trim().to_owned(),
                    created_at: now,
                };
                store::insert_region(&mut tx, &new).await?;
                report.created += 1;
                new.id
            }
        };
        for r in &region.rooms {
            name_ok("room name", &r.name)?;
            volume_ok(&r.shared_volume)?;
            probe_ok(&r.probe_url)?;
            let existing = store::room_named(&mut tx, &region_id, r.name.trim()).await?;
            // An import does not say the limits: a room keeps its own, a new one the defaults.
            let limits = match &existing {
                Some(id) => store::room_limits(&mut tx, id).await?,
                None => (DEFAULT_MAX_CPU, DEFAULT_MAX_TEMPERATURE),
            };
            let room = Room {
                id: existing.clone().unwrap_or_else(|| db::new_id("room")),
                region_id: region_id.clone(),
                name: r.name.trim().to_owned(),
                instance_cap: r.instance_cap,
                shared_volume: r.shared_volume.clone(),
                probe_url: r.probe_url.clone(),
                placement: r.placement,
                max_cpu_percent: limits.0,
                max_temperature_c: limits.1,
                created_at: now,
            };
            if existing.is_some() {
                crate::store::volumes::volume_set(
                    &mut tx,
                    &room.id,
                    &room.shared_volume,
                    now.millis(),
                )
                .await?;
                store::update_room(&mut tx, &room).await?;
                report.updated += 1;
            } else {
                store::insert_room(&mut tx, &room).await?;
                report.created += 1;
            }
            for a in &r.arrays {
                name_ok("array name", &a.name)?;
                let array_id = match store::array_named(&mut tx, &room.id, a.name.trim()).await? {
                    Some(id) => id,
                    None => {
                        let new = Array {
                            id: db::new_id("arr"),
                            room_id: room.id.clone(),
                            name: a.name.trim().to_owned(),
                            created_at: now,
                        };
                        store::insert_array(&mut tx, &new).await?;
                        report.created += 1;
                        new.id
                    }
                };
                for b in &a.boards {
                    name_ok("board serial", &b.serial)?;
                    name_ok("board model", &b.model)?;
                    capacity_ok(&b.capacity)?;
                    let updated = store::update_board_by_serial(
                        &mut tx,
                        b.serial.trim(),
                        &array_id,
                        b.model.trim(),
                        &b.capacity,
                    )
                    .await?;
                    if updated.is_some() {
                        report.updated += 1;
                    } else {
                        let board = Board {
                            id: db::new_id("brd"),
                            array_id: array_id.clone(),
                            serial: b.serial.trim().to_owned(),
                            model: b.model.trim().to_owned(),
                            capacity: b.capacity.clone(),
                            status: BoardStatus::Active,
                            agent_state: AgentState::Offline,
                            last_seen_at: None,
                            agent_version: None,
                            telemetry: None,
                            hot: None,
                            created_at: now,
                        };
                        insert_board(&mut tx, &board).await?;
                        report.created += 1;
                    }
                }
            }
        }
    }
    audit::record(
        &mut tx,
        &caller,
        None,
        "topology.import",
        "topology",
        serde_json::to_value(&report).unwrap_or_default(),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(report))
}

// --- orders ----------------------------------------------------------------------------------

/// Creates an order for a tenant: concurrency of one spec in a region or a set of rooms.
#[utoipa::path(post, path = "/v1/orders", tag = "topology", request_body = CreateOrder, responses((status = 201, body = Order)))]
async fn create_order(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateOrder>,
) -> ApiResult<(StatusCode, axum::Json<Order>)> {
    caller.require_operator_admin()?;
    if req.region_id.is_some() != req.room_ids.is_empty() {
        return Err(ApiError::Validation(
            "give either region_id or room_ids (exactly one)".into(),
        ));
    }
    if req.concurrency == 0 {
        return Err(ApiError::Validation(
            "concurrency must be at least 1".into(),
        ));
    }
    if req.valid_until <= req.valid_from {
        return Err(ApiError::Validation(
            "valid_until must be after valid_from".into(),
        ));
    }
    if req.price_per_period_micros < 0 {
        return Err(ApiError::Validation(
            "price_per_period_micros must not be negative".into(),
        ));
    }
    let mut tx = state.db.write().await?;
    super::accounts::ensure_tenant(&mut tx, &req.tenant_id).await?;
    for room in &req.room_ids {
        if !store::room_exists(&mut tx, room).await? {
            return Err(ApiError::Validation(format!("there is no room `{room}`")));
        }
    }
    let order = Order {
        id: db::new_id("ord"),
        tenant_id: req.tenant_id.clone(),
        spec_id: req.spec_id.clone(),
        region_id: req.region_id.clone(),
        room_ids: req.room_ids.clone(),
        concurrency: req.concurrency,
        valid_from: req.valid_from,
        valid_until: req.valid_until,
        priority: req.priority,
        status: OrderStatus::Active,
        price_per_period_micros: req.price_per_period_micros,
        created_at: crate::now(),
    };
    store::insert_order(&mut tx, &order, order.created_at.millis()).await?;
    audit::record_change(
        &mut tx,
        &caller,
        Some(&order.tenant_id),
        "order.create",
        &order.id,
        serde_json::json!({"spec_id": order.spec_id, "concurrency": order.concurrency}),
        None,
        Some(&order),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(order)))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListOrdersParams {
    pub tenant_id: Option<String>,
    /// Items per page, 1–200 (default 50).
    #[serde(default, deserialize_with = "crate::db::page_limit")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Lists orders: a tenant's own, or any (filterable) for operators.
#[utoipa::path(get, path = "/v1/orders", tag = "topology", params(ListOrdersParams), responses((status = 200, body = Page<Order>)))]
async fn list_orders(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListOrdersParams>,
) -> ApiResult<axum::Json<Page<Order>>> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let tenant = caller
        .tenant_scope()
        .map(str::to_owned)
        .or(q.tenant_id)
        .unwrap_or_default();
    let items = store::orders(&state.db.pool, &tenant, &page.cursor(), page.limit() + 1).await?;
    Ok(axum::Json(page_from(items, &page, |o| o.id.clone())))
}

async fn load_order(state: &AppState, id: &str) -> ApiResult<Order> {
    store::order(&state.db.pool, id)
        .await?
        .ok_or(ApiError::NotFound("order"))
}

#[utoipa::path(get, path = "/v1/orders/{id}", tag = "topology", responses((status = 200, body = Order)))]
async fn get_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Order>> {
    let order = load_order(&state, &id).await?;
    caller.require_tenant_read(&order.tenant_id, "order")?;
    Ok(axum::Json(order))
}

/// Changes an order's concurrency, end, priority or price, or cancels it (bills charge the
/// new terms from now on).
#[utoipa::path(patch, path = "/v1/orders/{id}", tag = "topology", request_body = UpdateOrder, responses((status = 200, body = Order)))]
async fn update_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<UpdateOrder>,
) -> ApiResult<axum::Json<Order>> {
    let summary = serde_json::to_value(&req).unwrap_or_default();
    let order = change_order(&state, &caller, &id, "order.update", summary, |o| {
        if let Some(v) = req.concurrency {
            o.concurrency = v;
        }
        if let Some(v) = req.valid_until {
            o.valid_until = v;
        }
        if let Some(v) = req.priority {
            o.priority = v;
        }
        if let Some(v) = req.status {
            o.status = v;
        }
        if let Some(v) = req.price_per_period_micros {
            o.price_per_period_micros = v;
        }
    })
    .await?;
    Ok(axum::Json(order.0))
}

/// Puts back an order's concurrency, end, priority, status and price as `before` had them.
pub(crate) async fn restore_order(
    state: &AppState,
    caller: &Caller,
    id: &str,
    before: &serde_json::Value,
    entry: &str,
) -> ApiResult<String> {
    let was: Order =
        serde_json::from_value(before.clone()).map_err(super::catalog::not_restorable)?;
    let restore = |o: &mut Order| {
        o.concurrency = was.concurrency;
        o.valid_until = was.valid_until;
        o.priority = was.priority;
        o.status = was.status;
        o.price_per_period_micros = was.price_per_period_micros;
    };
    let summary = serde_json::json!({ "entry": entry });
    Ok(
        change_order(state, caller, id, "order.restore", summary, restore)
            .await?
            .1,
    )
}

/// Applies `edit` to order `id` and saves it (operator admins only), audited as `action` with
/// the order before and after and `summary`, holding the order's lock
/// from the read to the write; answers the order as saved and the audit entry's id.
async fn change_order(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: &str,
    summary: serde_json::Value,
    edit: impl FnOnce(&mut Order),
) -> ApiResult<(Order, String)> {
    caller.require_operator_admin()?;
    let mut tx = state.db.write().await?;
    crate::store::advisory_lock(&mut tx, state.db.backend, &format!("object:{id}")).await?;
    let before = load_order(state, id).await?;
    let mut after = before.clone();
    edit(&mut after);
    if after.concurrency == 0
        || after.valid_until <= after.valid_from
        || after.price_per_period_micros < 0
    {
        return Err(ApiError::Validation(
            "concurrency must be ≥ 1, valid_until after valid_from and the price not negative"
                .into(),
        ));
    }
    store::update_order(&mut tx, &after, crate::now().millis()).await?;
    let entry = audit::record_change(
        &mut tx,
        caller,
        Some(&after.tenant_id),
        action,
        id,
        summary,
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok((after, entry))
}
