//! Capacity in use by orders and rooms: read for placement, counted up in the reserving
//! transaction and down in the ending one (never recounted on the acquire path).
//!
//! Lock order, on PostgreSQL, in every transaction that takes more than one: board slot, then
//! room, then order — so a reservation and an end can never wait on each other in a cycle.

use super::catalog::deployment_state_text;
use super::topology::{order_status_text, parse_placement};
use crate::db::WriteTx;
use crate::scheduler::placement::{OrderView, RoomView};
use playrack_wire::api::{DeploymentRoomState, OrderStatus};

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: String,
    spec_id: String,
    region_id: Option<String>,
    /// JSON array of room ids.
    room_ids: String,
    concurrency: i64,
    in_use: i64,
    priority: i64,
}

/// The tenant's orders that are active now, with their use.
pub async fn orders(
    tx: &mut WriteTx,
    tenant_id: &str,
    now: i64,
) -> Result<Vec<OrderView>, sqlx::Error> {
    let rows: Vec<OrderRow> = sqlx::query_as(
        "SELECT id, spec_id, region_id, room_ids, concurrency, in_use, priority FROM orders \
         WHERE tenant_id = $1 AND status = $3 AND valid_from <= $2 AND valid_until > $2",
    )
    .bind(tenant_id)
    .bind(now)
    .bind(order_status_text(OrderStatus::Active))
    .fetch_all(&mut ***tx)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(OrderView {
                room_ids: super::json(&r.room_ids)?,
                id: r.id,
                spec_id: r.spec_id,
                region_id: r.region_id,
                concurrency: r.concurrency.max(0) as u32,
                in_use: r.in_use.max(0) as u32,
                priority: r.priority as i32,
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct RoomRow {
    id: String,
    region_id: String,
    instance_cap: i64,
    in_use: i64,
    placement: String,
}

/// The rooms where `version_id` is deployed and ready, with their use (boards are not read
/// here: see `slots::candidates`).
pub async fn rooms(tx: &mut WriteTx, version_id: &str) -> Result<Vec<RoomView>, sqlx::Error> {
    let rows: Vec<RoomRow> = sqlx::query_as(
        "SELECT r.id, r.region_id, r.instance_cap, r.in_use, r.placement FROM rooms r \
         JOIN deployments d ON d.room_id = r.id WHERE d.version_id = $1 AND d.state = $2",
    )
    .bind(version_id)
    .bind(deployment_state_text(DeploymentRoomState::Ready))
    .fetch_all(&mut ***tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| RoomView {
            placement: parse_placement(&r.placement),
            id: r.id,
            region_id: r.region_id,
            instance_cap: r.instance_cap.max(0) as u32,
            in_use: r.in_use.max(0) as u32,
            deployed: true,
            boards: Vec::new(),
        })
        .collect())
}

/// Counts one more play in a room, if it is under its cap.
pub async fn take_room(tx: &mut WriteTx, room_id: &str) -> Result<bool, sqlx::Error> {
    let r =
        sqlx::query("UPDATE rooms SET in_use = in_use + 1 WHERE id = $1 AND in_use < instance_cap")
            .bind(room_id)
            .execute(&mut ***tx)
            .await?;
    Ok(r.rows_affected() == 1)
}

/// Counts one more play against an order, if it has quota left.
pub async fn take_order(tx: &mut WriteTx, order_id: &str) -> Result<bool, sqlx::Error> {
    let r =
        sqlx::query("UPDATE orders SET in_use = in_use + 1 WHERE id = $1 AND in_use < concurrency")
            .bind(order_id)
            .execute(&mut ***tx)
            .await?;
    Ok(r.rows_affected() == 1)
}

/// Plays the tenant runs now, over all its active orders.
pub async fn tenant_in_use(tx: &mut WriteTx, tenant_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(in_use), 0) AS BIGINT) FROM orders WHERE tenant_id = $1 AND status = $2",
    )
    .bind(tenant_id)
    .bind(order_status_text(OrderStatus::Active))
    .fetch_one(&mut ***tx)
    .await
}

/// Counts one play of a try-play link, if it has plays left.
pub async fn take_link_play(tx: &mut WriteTx, link_id: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE links SET plays_used = plays_used + 1 WHERE id = $1 AND (max_plays IS NULL OR plays_used < max_plays)",
    )
    .bind(link_id)
    .execute(&mut ***tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// A play ended: its room and order count it no longer.
pub async fn give_back(tx: &mut WriteTx, room_id: &str, order_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE rooms SET in_use = in_use - 1 WHERE id = $1 AND in_use > 0")
        .bind(room_id)
        .execute(&mut ***tx)
        .await?;
    sqlx::query("UPDATE orders SET in_use = in_use - 1 WHERE id = $1 AND in_use > 0")
        .bind(order_id)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}
