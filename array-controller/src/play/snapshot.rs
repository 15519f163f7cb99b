//! The capacity snapshot the placement core decides on, read inside the reserving transaction:
//! the tenant's orders with their use, and the rooms where the version is deployed and ready
//! with their boards' slots, use, health and warm instances.

use crate::db::{WriteTx, json_col};
use crate::scheduler::placement::{BoardView, OrderView, RoomView};
use playrack_wire::api::Placement;
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub async fn orders(
    tx: &mut WriteTx,
    tenant_id: &str,
    now: i64,
) -> Result<Vec<OrderView>, sqlx::Error> {
    let in_use: HashMap<String, i64> = sqlx::query(
        "SELECT order_id, COUNT(*) AS n FROM sessions WHERE tenant_id = $1 AND state <> 'ended' GROUP BY order_id",
    )
    .bind(tenant_id)
    .fetch_all(&mut ***tx)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("order_id")?, r.try_get("n")?)))
    .collect::<Result<_, sqlx::Error>>()?;
    let rows = sqlx::query(
        "SELECT * FROM orders WHERE tenant_id = $1 AND status = 'active' AND valid_from <= $2 AND valid_until > $2",
    )
    .bind(tenant_id)
    .bind(now)
    .fetch_all(&mut ***tx)
    .await?;
    rows.iter()
        .map(|r| {
            let id: String = r.try_get("id")?;
            Ok(OrderView {
                in_use: in_use.get(&id).copied().unwrap_or(0) as u32,
                id,
                spec_id: r.try_get("spec_id")?,
                region_id: r.try_get("region_id")?,
                room_ids: json_col(r, "room_ids")?,
                concurrency: r.try_get::<i64, _>("concurrency")? as u32,
                priority: r.try_get::<i64, _>("priority")? as i32,
            })
        })
        .collect()
}

pub async fn rooms(
    tx: &mut WriteTx,
    version_id: &str,
    package: &str,
) -> Result<Vec<RoomView>, sqlx::Error> {
    let room_rows = sqlx::query(
        "SELECT r.* FROM rooms r JOIN deployments d ON d.room_id = r.id WHERE d.version_id = $1 AND d.state = 'ready'",
    )
    .bind(version_id)
    .fetch_all(&mut ***tx)
    .await?;
    let room_use: HashMap<String, i64> = sqlx::query(
        "SELECT room_id, COUNT(*) AS n FROM sessions WHERE state <> 'ended' GROUP BY room_id",
    )
    .fetch_all(&mut ***tx)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("room_id")?, r.try_get("n")?)))
    .collect::<Result<_, sqlx::Error>>()?;
    let mut board_use: HashMap<String, BTreeMap<String, u32>> = HashMap::new();
    for r in sqlx::query("SELECT board_id, spec_id, COUNT(*) AS n FROM sessions WHERE state <> 'ended' GROUP BY board_id, spec_id")
        .fetch_all(&mut ***tx)
        .await?
    {
        board_use
            .entry(r.try_get("board_id")?)
            .or_default()
            .insert(r.try_get("spec_id")?, r.try_get::<i64, _>("n")? as u32);
    }
    let mut warm: HashMap<String, BTreeSet<String>> = HashMap::new();
    for r in sqlx::query("SELECT board_id, spec_id FROM instances WHERE state = 'warm' AND (package IS NULL OR package = $1)")
        .bind(package)
        .fetch_all(&mut ***tx)
        .await?
    {
        warm.entry(r.try_get("board_id")?).or_default().insert(r.try_get("spec_id")?);
    }
    let board_rows = sqlx::query(
        "SELECT b.id, b.capacity, b.status, b.agent_state, a.room_id FROM boards b JOIN arrays a ON a.id = b.array_id \
         JOIN deployments d ON d.room_id = a.room_id WHERE d.version_id = $1 AND d.state = 'ready'",
    )
    .bind(version_id)
    .fetch_all(&mut ***tx)
    .await?;
    let mut boards: HashMap<String, Vec<BoardView>> = HashMap::new();
    for r in &board_rows {
        let id: String = r.try_get("id")?;
        let status: String = r.try_get("status")?;
        boards
            .entry(r.try_get("room_id")?)
            .or_default()
            .push(BoardView {
                healthy: r.try_get::<String, _>("agent_state")? == "online" && status != "disabled",
                draining: status == "draining",
                capacity: json_col(r, "capacity")?,
                in_use: board_use.remove(&id).unwrap_or_default(),
                warm_specs: warm.remove(&id).unwrap_or_default(),
                id,
            });
    }
    room_rows
        .iter()
        .map(|r| {
            let id: String = r.try_get("id")?;
            Ok(RoomView {
                region_id: r.try_get("region_id")?,
                instance_cap: r.try_get::<i64, _>("instance_cap")? as u32,
                in_use: room_use.get(&id).copied().unwrap_or(0) as u32,
                placement: if r.try_get::<String, _>("placement")? == "binpack" {
                    Placement::Binpack
                } else {
                    Placement::Spread
                },
                deployed: true,
                boards: boards.remove(&id).unwrap_or_default(),
                id,
            })
        })
        .collect()
}
