//! Topology and orders: regions, machine rooms, arrays, boards (the operator's record of them:
//! model, capacity, status), tenants' orders, and the instances boards report.
//!
//! Rows are read into typed rows and turned into the wire's objects here, so the text of each
//! column that holds a state is written and read in one place: a room's [`Placement`], a
//! board's [`BoardStatus`] (active, draining, disabled) and [`AgentState`] (online, offline,
//! lost), an order's [`OrderStatus`] and an instance's [`InstanceState`]. A change to a board's
//! record also rewrites its slot rows ([`slots::sync_board`]) in the same transaction.
//!
//! What a board's agent reports about the board itself (its liveness, telemetry, credential)
//! is in [`super::agents`].

use super::json;
use super::slots;
use crate::db::WriteTx;
use playrack_wire::Timestamp;
use playrack_wire::agent::{InstanceReport, InstanceState};
use playrack_wire::api::{
    AgentState, Array, Board, BoardInstance, BoardStatus, Order, OrderStatus, Placement, Region,
    Room,
};
use sqlx::AnyPool;
use std::collections::BTreeMap;

/// The SQL of [`upsert_instance`] (every instance report of every board runs it).
pub const UPSERT_INSTANCE: &str = "INSERT INTO instances (board_id, id, spec_id, state, session_id, package, updated_at, encoder, booted_at, primed_version_id) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) \
         ON CONFLICT (board_id, id) DO UPDATE SET spec_id = excluded.spec_id, state = excluded.state, \
         session_id = excluded.session_id, package = excluded.package, updated_at = excluded.updated_at, \
         encoder = excluded.encoder, booted_at = excluded.booted_at, primed_version_id = excluded.primed_version_id";

/// A count column as the wire's `u32`.
fn count(v: i64) -> u32 {
    v.clamp(0, i64::from(u32::MAX)) as u32
}

// --- states ----------------------------------------------------------------------------------

/// A placement as the `rooms.placement` column spells it.
pub fn placement_text(p: Placement) -> &'static str {
    match p {
        Placement::Spread => "spread",
        Placement::Binpack => "binpack",
    }
}

/// The placement a `rooms.placement` value names (anything but `binpack` spreads).
pub fn parse_placement(s: &str) -> Placement {
    match s {
        "binpack" => Placement::Binpack,
        _ => Placement::Spread,
    }
}

/// A board status as the `boards.status` column spells it.
pub fn board_status_text(s: BoardStatus) -> &'static str {
    match s {
        BoardStatus::Active => "active",
        BoardStatus::Draining => "draining",
        BoardStatus::Disabled => "disabled",
    }
}

/// The status a `boards.status` value names (unknown text reads as active, which the controller
/// writes for every new board).
pub fn parse_board_status(s: &str) -> BoardStatus {
    match s {
        "draining" => BoardStatus::Draining,
        "disabled" => BoardStatus::Disabled,
        _ => BoardStatus::Active,
    }
}

/// An agent state as the `boards.agent_state` column spells it.
pub fn agent_state_text(s: AgentState) -> &'static str {
    match s {
        AgentState::Online => "online",
        AgentState::Offline => "offline",
        AgentState::Lost => "lost",
    }
}

/// The agent state a `boards.agent_state` value names (unknown text reads as offline, the
/// column's default).
pub fn parse_agent_state(s: &str) -> AgentState {
    match s {
        "online" => AgentState::Online,
        "lost" => AgentState::Lost,
        _ => AgentState::Offline,
    }
}

/// An order status as the `orders.status` column spells it.
pub fn order_status_text(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Active => "active",
        OrderStatus::Cancelled => "cancelled",
    }
}

/// The status an `orders.status` value names (anything but `cancelled` is active).
pub fn parse_order_status(s: &str) -> OrderStatus {
    match s {
        "cancelled" => OrderStatus::Cancelled,
        _ => OrderStatus::Active,
    }
}

/// An instance state as the `instances.state` column spells it (the agent protocol's words).
/// Only the board writes instance states; the controller reads them in SQL alone (warm
/// instances are counted in [`slots`]).
pub fn instance_state_text(s: InstanceState) -> &'static str {
    match s {
        InstanceState::Booting => "booting",
        InstanceState::Warm => "warm",
        InstanceState::Priming => "priming",
        InstanceState::Preparing => "preparing",
        InstanceState::Busy => "busy",
        InstanceState::Resetting => "resetting",
        InstanceState::Broken => "broken",
    }
}

/// The `instances.state` column read back (an unknown word reads as broken).
pub fn parse_instance_state(s: &str) -> InstanceState {
    match s {
        "booting" => InstanceState::Booting,
        "warm" => InstanceState::Warm,
        "priming" => InstanceState::Priming,
        "preparing" => InstanceState::Preparing,
        "busy" => InstanceState::Busy,
        "resetting" => InstanceState::Resetting,
        _ => InstanceState::Broken,
    }
}

// --- regions ---------------------------------------------------------------------------------

/// A `regions` row.
#[derive(Debug, Clone, sqlx::FromRow)]
struct RegionRow {
    id: String,
    name: String,
    created_at: i64,
}

impl From<RegionRow> for Region {
    fn from(r: RegionRow) -> Self {
        Region {
            id: r.id,
            name: r.name,
            created_at: Timestamp(r.created_at),
        }
    }
}

/// Inserts a region.
pub async fn insert_region(tx: &mut WriteTx, region: &Region) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO regions (id, name, created_at) VALUES ($1,$2,$3)")
        .bind(&region.id)
        .bind(&region.name)
        .bind(region.created_at.millis())
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// A region by id.
pub async fn region(pool: &AnyPool, id: &str) -> Result<Option<Region>, sqlx::Error> {
    let row: Option<RegionRow> =
        sqlx::query_as("SELECT id, name, created_at FROM regions WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(Region::from))
}

/// Up to `limit` regions after the id `after` (`""`: from the first), by id.
pub async fn regions(pool: &AnyPool, after: &str, limit: i64) -> Result<Vec<Region>, sqlx::Error> {
    let rows: Vec<RegionRow> = sqlx::query_as(
        "SELECT id, name, created_at FROM regions WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Region::from).collect())
}

/// The id of the region named `name`.
pub async fn region_named(tx: &mut WriteTx, name: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM regions WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut ***tx)
        .await
}

// --- rooms -----------------------------------------------------------------------------------

/// A `rooms` row (without its counts and enrolment token).
#[derive(Debug, Clone, sqlx::FromRow)]
struct RoomRow {
    id: String,
    region_id: String,
    name: String,
    instance_cap: i64,
    shared_volume: String,
    probe_url: String,
    placement: String,
    max_cpu_percent: i64,
    max_temperature_c: i64,
    created_at: i64,
}

impl From<RoomRow> for Room {
    fn from(r: RoomRow) -> Self {
        Room {
            id: r.id,
            region_id: r.region_id,
            name: r.name,
            instance_cap: count(r.instance_cap),
            shared_volume: r.shared_volume,
            probe_url: r.probe_url,
            placement: parse_placement(&r.placement),
            max_cpu_percent: count(r.max_cpu_percent),
            max_temperature_c: count(r.max_temperature_c),
            created_at: Timestamp(r.created_at),
        }
    }
}

/// Inserts a room.
pub async fn insert_room(tx: &mut WriteTx, room: &Room) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO rooms (id, region_id, name, instance_cap, shared_volume, probe_url, placement, \
         max_cpu_percent, max_temperature_c, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
    )
    .bind(&room.id)
    .bind(&room.region_id)
    .bind(&room.name)
    .bind(i64::from(room.instance_cap))
    .bind(&room.shared_volume)
    .bind(&room.probe_url)
    .bind(placement_text(room.placement))
    .bind(i64::from(room.max_cpu_percent))
    .bind(i64::from(room.max_temperature_c))
    .bind(room.created_at.millis())
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// Writes a room's name, cap, shared volume, probe URL, placement and board limits.
pub async fn update_room(tx: &mut WriteTx, room: &Room) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE rooms SET name=$1, instance_cap=$2, shared_volume=$3, probe_url=$4, placement=$5, \
         max_cpu_percent=$6, max_temperature_c=$7 WHERE id=$8",
    )
    .bind(&room.name)
    .bind(i64::from(room.instance_cap))
    .bind(&room.shared_volume)
    .bind(&room.probe_url)
    .bind(placement_text(room.placement))
    .bind(i64::from(room.max_cpu_percent))
    .bind(i64::from(room.max_temperature_c))
    .bind(&room.id)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// Up to `limit` rooms of a region (`""`: of every region) after the id `after`, by id.
pub async fn rooms(
    pool: &AnyPool,
    region_id: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<Room>, sqlx::Error> {
    let rows: Vec<RoomRow> = sqlx::query_as("SELECT id, region_id, name, instance_cap, shared_volume, probe_url, placement, max_cpu_percent, max_temperature_c, created_at FROM rooms WHERE ($1 = '' OR region_id = $1) AND id > $2 ORDER BY id LIMIT $3")
    .bind(region_id)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Room::from).collect())
}

/// A room.
pub async fn room(pool: &AnyPool, id: &str) -> Result<Option<Room>, sqlx::Error> {
    let row: Option<RoomRow> = sqlx::query_as("SELECT id, region_id, name, instance_cap, shared_volume, probe_url, placement, max_cpu_percent, max_temperature_c, created_at FROM rooms WHERE id = $1")
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(Room::from))
}

/// A room's board limits: (max CPU percent, max temperature °C).
pub async fn room_limits(tx: &mut WriteTx, id: &str) -> Result<(u32, u32), sqlx::Error> {
    let (cpu, temp): (i64, i64) =
        sqlx::query_as("SELECT max_cpu_percent, max_temperature_c FROM rooms WHERE id = $1")
            .bind(id)
            .fetch_one(&mut ***tx)
            .await?;
    Ok((count(cpu), count(temp)))
}

/// Whether a room exists.
pub async fn room_exists(tx: &mut WriteTx, id: &str) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rooms WHERE id = $1")
        .bind(id)
        .fetch_one(&mut ***tx)
        .await?;
    Ok(n > 0)
}

/// The id of the room named `name` in a region.
pub async fn room_named(
    tx: &mut WriteTx,
    region_id: &str,
    name: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM rooms WHERE region_id = $1 AND name = $2")
        .bind(region_id)
        .bind(name)
        .fetch_optional(&mut ***tx)
        .await
}

// --- arrays ----------------------------------------------------------------------------------

/// An `arrays` row.
#[derive(Debug, Clone, sqlx::FromRow)]
struct ArrayRow {
    id: String,
    room_id: String,
    name: String,
    created_at: i64,
}

impl From<ArrayRow> for Array {
    fn from(r: ArrayRow) -> Self {
        Array {
            id: r.id,
            room_id: r.room_id,
            name: r.name,
            created_at: Timestamp(r.created_at),
        }
    }
}

/// Inserts an array.
pub async fn insert_array(tx: &mut WriteTx, array: &Array) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO arrays (id, room_id, name, created_at) VALUES ($1,$2,$3,$4)")
        .bind(&array.id)
        .bind(&array.room_id)
        .bind(&array.name)
        .bind(array.created_at.millis())
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// Up to `limit` arrays of a room (`""`: of every room) after the id `after`, by id.
pub async fn arrays(
    pool: &AnyPool,
    room_id: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<Array>, sqlx::Error> {
    let rows: Vec<ArrayRow> = sqlx::query_as(
        "SELECT id, room_id, name, created_at FROM arrays WHERE ($1 = '' OR room_id = $1) AND id > $2 \
         ORDER BY id LIMIT $3",
    )
    .bind(room_id)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Array::from).collect())
}

/// The id of the array named `name` in a room.
pub async fn array_named(
    tx: &mut WriteTx,
    room_id: &str,
    name: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM arrays WHERE room_id = $1 AND name = $2")
        .bind(room_id)
        .bind(name)
        .fetch_optional(&mut ***tx)
        .await
}

/// The id of a room's `enrolled` array (where boards that enrol themselves go), created if
/// missing; concurrent first enrolments into a room agree on one.
pub async fn enrolled_array(
    tx: &mut WriteTx,
    room_id: &str,
    now: Timestamp,
) -> Result<String, sqlx::Error> {
    sqlx::query(
        "INSERT INTO arrays (id, room_id, name, created_at) VALUES ($1, $2, 'enrolled', $3) \
         ON CONFLICT (room_id, name) DO NOTHING",
    )
    .bind(crate::db::new_id("arr"))
    .bind(room_id)
    .bind(now.millis())
    .execute(&mut ***tx)
    .await?;
    sqlx::query_scalar("SELECT id FROM arrays WHERE room_id = $1 AND name = 'enrolled'")
        .bind(room_id)
        .fetch_one(&mut ***tx)
        .await
}

// --- boards ----------------------------------------------------------------------------------

/// A `boards` row as the API shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
struct BoardRow {
    id: String,
    array_id: String,
    serial: String,
    model: String,
    /// JSON `{spec_id: slots}`.
    capacity: String,
    status: String,
    agent_state: String,
    last_seen_at: Option<i64>,
    agent_version: Option<String>,
    /// JSON `Telemetry`.
    telemetry: Option<String>,
    hot: Option<String>,
    created_at: i64,
}

impl TryFrom<BoardRow> for Board {
    type Error = sqlx::Error;

    fn try_from(r: BoardRow) -> Result<Self, sqlx::Error> {
        Ok(Board {
            capacity: json(&r.capacity)?,
            status: parse_board_status(&r.status),
            agent_state: parse_agent_state(&r.agent_state),
            last_seen_at: r.last_seen_at.map(Timestamp),
            // Unreadable telemetry is no telemetry.
            telemetry: r.telemetry.and_then(|t| serde_json::from_str(&t).ok()),
            created_at: Timestamp(r.created_at),
            id: r.id,
            array_id: r.array_id,
            serial: r.serial,
            model: r.model,
            agent_version: r.agent_version,
            hot: r.hot,
        })
    }
}

/// Inserts a board (its agent offline until it says hello) and its slot rows. A serial that
/// is taken fails with the database's unique violation.
pub async fn insert_board(tx: &mut WriteTx, b: &Board) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO boards (id, array_id, serial, model, capacity, status, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7)",
    )
    .bind(&b.id)
    .bind(&b.array_id)
    .bind(&b.serial)
    .bind(&b.model)
    .bind(serde_json::to_string(&b.capacity).expect("json"))
    .bind(board_status_text(b.status))
    .bind(b.created_at.millis())
    .execute(&mut ***tx)
    .await?;
    slots::sync_board(tx, &b.id).await
}

/// Up to `limit` boards of an array (`""`: of every array) after the id `after`, by id.
pub async fn boards(
    pool: &AnyPool,
    array_id: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<Board>, sqlx::Error> {
    let rows: Vec<BoardRow> = sqlx::query_as("SELECT id, array_id, serial, model, capacity, status, agent_state, last_seen_at, agent_version, telemetry, hot, created_at FROM boards WHERE ($1 = '' OR array_id = $1) AND id > $2 ORDER BY id LIMIT $3")
    .bind(array_id)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(Board::try_from).collect()
}

/// A board.
pub async fn board(pool: &AnyPool, id: &str) -> Result<Option<Board>, sqlx::Error> {
    let row: Option<BoardRow> = sqlx::query_as("SELECT id, array_id, serial, model, capacity, status, agent_state, last_seen_at, agent_version, telemetry, hot, created_at FROM boards WHERE id = $1")
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(Board::try_from).transpose()
}

/// Writes a board's model, capacity and status, and its slot rows.
pub async fn update_board(
    tx: &mut WriteTx,
    id: &str,
    model: &str,
    capacity: &BTreeMap<String, u32>,
    status: BoardStatus,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE boards SET model = $1, capacity = $2, status = $3 WHERE id = $4")
        .bind(model)
        .bind(serde_json::to_string(capacity).expect("json"))
        .bind(board_status_text(status))
        .bind(id)
        .execute(&mut ***tx)
        .await?;
    slots::sync_board(tx, id).await
}

/// Moves the board with `serial` to an array with a model and capacity, and rewrites its slot
/// rows; its id, or `None` if there is no such board.
pub async fn update_board_by_serial(
    tx: &mut WriteTx,
    serial: &str,
    array_id: &str,
    model: &str,
    capacity: &BTreeMap<String, u32>,
) -> Result<Option<String>, sqlx::Error> {
    let id: Option<String> = sqlx::query_scalar(
        "UPDATE boards SET array_id = $1, model = $2, capacity = $3 WHERE serial = $4 RETURNING id",
    )
    .bind(array_id)
    .bind(model)
    .bind(serde_json::to_string(capacity).expect("json"))
    .bind(serial)
    .fetch_optional(&mut ***tx)
    .await?;
    if let Some(id) = &id {
        slots::sync_board(tx, id).await?;
    }
    Ok(id)
}

/// The board with `serial` and the room it is in: `(board id, room id)`.
pub async fn board_by_serial(
    tx: &mut WriteTx,
    serial: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT b.id, a.room_id FROM boards b JOIN arrays a ON a.id = b.array_id WHERE b.serial = $1",
    )
    .bind(serial)
    .fetch_optional(&mut ***tx)
    .await
}

/// Whether a board's agent is online (connected to some replica).
pub async fn is_online(pool: &AnyPool, id: &str) -> Result<bool, sqlx::Error> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT id FROM boards WHERE id = $1 AND agent_state = $2")
            .bind(id)
            .bind(agent_state_text(AgentState::Online))
            .fetch_optional(pool)
            .await?;
    Ok(found.is_some())
}

// --- orders ----------------------------------------------------------------------------------

/// An `orders` row (without its count in use).
#[derive(Debug, Clone, sqlx::FromRow)]
struct OrderRow {
    id: String,
    tenant_id: String,
    spec_id: String,
    region_id: Option<String>,
    /// JSON array of room ids.
    room_ids: String,
    concurrency: i64,
    valid_from: i64,
    valid_until: i64,
    priority: i64,
    status: String,
    price_per_period_micros: i64,
    created_at: i64,
}

impl TryFrom<OrderRow> for Order {
    type Error = sqlx::Error;

    fn try_from(r: OrderRow) -> Result<Self, sqlx::Error> {
        Ok(Order {
            room_ids: json(&r.room_ids)?,
            concurrency: count(r.concurrency),
            valid_from: Timestamp(r.valid_from),
            valid_until: Timestamp(r.valid_until),
            priority: r.priority as i32,
            status: parse_order_status(&r.status),
            price_per_period_micros: r.price_per_period_micros,
            created_at: Timestamp(r.created_at),
            id: r.id,
            tenant_id: r.tenant_id,
            spec_id: r.spec_id,
            region_id: r.region_id,
        })
    }
}

/// Inserts an order, with its first terms in force from `at`.
pub async fn insert_order(tx: &mut WriteTx, o: &Order, at: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO orders (id, tenant_id, spec_id, region_id, room_ids, concurrency, valid_from, valid_until, priority, status, created_at, price_per_period_micros) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)",
    )
    .bind(&o.id)
    .bind(&o.tenant_id)
    .bind(&o.spec_id)
    .bind(&o.region_id)
    .bind(serde_json::to_string(&o.room_ids).expect("json"))
    .bind(i64::from(o.concurrency))
    .bind(o.valid_from.millis())
    .bind(o.valid_until.millis())
    .bind(i64::from(o.priority))
    .bind(order_status_text(o.status))
    .bind(o.created_at.millis())
    .bind(o.price_per_period_micros)
    .execute(&mut ***tx)
    .await?;
    put_order_terms(tx, o, at).await
}

/// Records the order's terms (its concurrency, or 0 once cancelled, and its price) as in force
/// from `at` on; a second change in the same millisecond replaces the first.
async fn put_order_terms(tx: &mut WriteTx, o: &Order, at: i64) -> Result<(), sqlx::Error> {
    let units = match o.status {
        OrderStatus::Active => i64::from(o.concurrency),
        OrderStatus::Cancelled => 0,
    };
    sqlx::query(
        "INSERT INTO order_terms (order_id, effective_from, concurrency, price_per_period_micros) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (order_id, effective_from) DO UPDATE SET \
         concurrency = excluded.concurrency, price_per_period_micros = excluded.price_per_period_micros",
    )
    .bind(&o.id)
    .bind(at)
    .bind(units)
    .bind(o.price_per_period_micros)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// Up to `limit` orders of a tenant (`""`: of every tenant) after the id `after`, by id.
pub async fn orders(
    pool: &AnyPool,
    tenant_id: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<Order>, sqlx::Error> {
    let rows: Vec<OrderRow> = sqlx::query_as("SELECT id, tenant_id, spec_id, region_id, room_ids, concurrency, valid_from, valid_until, priority, status, price_per_period_micros, created_at FROM orders WHERE ($1 = '' OR tenant_id = $1) AND id > $2 ORDER BY id LIMIT $3")
    .bind(tenant_id)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(Order::try_from).collect()
}

/// An order.
pub async fn order(pool: &AnyPool, id: &str) -> Result<Option<Order>, sqlx::Error> {
    let row: Option<OrderRow> = sqlx::query_as("SELECT id, tenant_id, spec_id, region_id, room_ids, concurrency, valid_from, valid_until, priority, status, price_per_period_micros, created_at FROM orders WHERE id = $1")
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(Order::try_from).transpose()
}

/// Writes an order's concurrency, end, priority, status and price; the terms billed change
/// from `at` on.
pub async fn update_order(tx: &mut WriteTx, o: &Order, at: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE orders SET concurrency = $1, valid_until = $2, priority = $3, status = $4, \
         price_per_period_micros = $5 WHERE id = $6",
    )
    .bind(i64::from(o.concurrency))
    .bind(o.valid_until.millis())
    .bind(i64::from(o.priority))
    .bind(order_status_text(o.status))
    .bind(o.price_per_period_micros)
    .bind(&o.id)
    .execute(&mut ***tx)
    .await?;
    put_order_terms(tx, o, at).await
}

// --- instances -------------------------------------------------------------------------------

/// Records what a board says one of its instances is doing.
pub async fn upsert_instance(
    tx: &mut WriteTx,
    board_id: &str,
    i: &InstanceReport,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(UPSERT_INSTANCE)
        .bind(board_id)
        .bind(&i.instance_id)
        .bind(&i.spec_id)
        .bind(instance_state_text(i.state))
        .bind(&i.session_id)
        .bind(&i.package)
        .bind(now)
        .bind(&i.encoder)
        .bind(i.booted_at.map(|t| t.millis()))
        .bind(&i.primed_version_id)
        .execute(&mut ***tx)
        .await?;
    // The play it serves names it (the live views and the operator's shell show which
    // instance a play runs in); only that board's play, only while it has none or another.
    if let Some(session) = &i.session_id {
        sqlx::query(
            "UPDATE sessions SET instance_id = $1 WHERE id = $2 AND board_id = $3 \
             AND (instance_id IS NULL OR instance_id <> $1)",
        )
        .bind(&i.instance_id)
        .bind(session)
        .bind(board_id)
        .execute(&mut ***tx)
        .await?;
    }
    Ok(())
}

/// Replaces a board's instances with the ones it reports (its hello is its whole truth: what
/// it no longer reports is gone).
pub async fn replace_instances(
    tx: &mut WriteTx,
    board_id: &str,
    instances: &[InstanceReport],
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM instances WHERE board_id = $1")
        .bind(board_id)
        .execute(&mut ***tx)
        .await?;
    for i in instances {
        upsert_instance(tx, board_id, i, now).await?;
    }
    Ok(())
}

/// Removes one of a board's instances; its spec, if it was known.
pub async fn remove_instance(
    tx: &mut WriteTx,
    board_id: &str,
    instance_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("DELETE FROM instances WHERE board_id = $1 AND id = $2 RETURNING spec_id")
        .bind(board_id)
        .bind(instance_id)
        .fetch_optional(&mut ***tx)
        .await
}

/// An `instances` row.
#[derive(Debug, Clone, sqlx::FromRow)]
struct InstanceRow {
    id: String,
    spec_id: String,
    state: String,
    session_id: Option<String>,
    package: Option<String>,
    encoder: Option<String>,
    booted_at: Option<i64>,
    updated_at: i64,
    primed_version_id: Option<String>,
}

/// A board's instances as it last reported them, by id (as many as the board has slots: read
/// through the primary key's board prefix).
pub async fn board_instances(
    pool: &AnyPool,
    board_id: &str,
) -> Result<Vec<BoardInstance>, sqlx::Error> {
    let rows: Vec<InstanceRow> = sqlx::query_as(
        "SELECT id, spec_id, state, session_id, package, encoder, booted_at, updated_at, primed_version_id \
         FROM instances WHERE board_id = $1 ORDER BY id",
    )
    .bind(board_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| BoardInstance {
            id: r.id,
            spec_id: r.spec_id,
            state: parse_instance_state(&r.state),
            session_id: r.session_id,
            package: r.package,
            encoder: r.encoder,
            booted_at: r.booted_at.map(Timestamp),
            updated_at: Timestamp(r.updated_at),
            primed_version_id: r.primed_version_id,
        })
        .collect())
}

// --- live sessions by place ------------------------------------------------------------------

/// What a bulk operation on live plays selects; an empty field matches everything.
#[derive(Debug, Clone)]
pub struct LiveFilter<'a> {
    pub tenant_id: &'a str,
    pub game_id: &'a str,
    pub board_id: &'a str,
    pub room_id: &'a str,
}

/// The live sessions of a tenant, game, board and room (each `""`: any), found through the
/// live sessions' partial index. (A query on `sessions`, whose other queries are in
/// [`super::sessions`]: this one selects by topology, for operators' bulk kicks.)
pub async fn live_sessions(pool: &AnyPool, f: &LiveFilter<'_>) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM sessions WHERE live_key IS NOT NULL AND ($1 = '' OR tenant_id = $1) AND ($2 = '' OR game_id = $2) \
         AND ($3 = '' OR board_id = $3) AND ($4 = '' OR room_id = $4)",
    )
    .bind(f.tenant_id)
    .bind(f.game_id)
    .bind(f.board_id)
    .bind(f.room_id)
    .fetch_all(pool)
    .await
}

/// How many boards are in each agent state (for the gauges).
pub async fn boards_by_agent_state(pool: &AnyPool) -> Result<Vec<(AgentState, i64)>, sqlx::Error> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT agent_state, COUNT(*) FROM boards GROUP BY agent_state")
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(s, n)| (parse_agent_state(&s), n))
        .collect())
}
