//! Scheduled maintenance, carried out by the leader's pass every [`PASS_EVERY`]: a window's
//! players in session are told (a `Notice` with the time it starts, which the SDK counts down
//! to) from `maintenance_announce_secs` before it starts; when it starts, the boards it covers
//! that were taking plays are drained (so nothing new is placed there; the drain tells the
//! players too) and every play still on them ends `MAINTENANCE`, its save kept as at any end;
//! when it ends, the boards it drained take plays again. Each step is a state change of the
//! window, made once (a transaction that moves it from the state the pass read), and audited
//! as the system's.

use crate::error::ApiResult;
use crate::state::AppState;
use crate::store;
use crate::store::maintenance::MaintenanceRow;
use playrack_wire::Timestamp;
use playrack_wire::agent::Command;
use playrack_wire::api::{BoardStatus, EndReason, MaintenanceState};
use std::time::Duration;

/// How often the leader looks at the windows.
pub const PASS_EVERY: Duration = Duration::from_secs(1);
/// Windows moved per step of one pass (the rest wait for the next).
const BATCH: i64 = 32;

/// Runs the pass on the leader.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    crate::leader::every(state, PASS_EVERY, "maintenance pass", |s| async move {
        pass(&s, crate::now()).await
    })
}

/// One pass: announce what starts soon, start what is due, end what is over.
pub async fn pass(state: &AppState, now: Timestamp) -> ApiResult<()> {
    let pool = &state.db.pool;
    let lead = i64::from(state.config.maintenance_announce_secs) * 1000;
    for m in store::maintenance::due(
        pool,
        MaintenanceState::Scheduled,
        now.millis() + lead,
        BATCH,
    )
    .await?
    {
        announce(state, &m).await?;
    }
    for m in store::maintenance::due(pool, MaintenanceState::Announced, now.millis(), BATCH).await?
    {
        start(state, &m).await?;
    }
    for m in store::maintenance::due_to_end(pool, now.millis(), BATCH).await? {
        finish(state, &m).await?;
    }
    Ok(())
}

/// Moves `m` from `from` to `to` (with what it drained), audited; whether it moved.
async fn step(
    state: &AppState,
    m: &MaintenanceRow,
    from: &[MaintenanceState],
    to: MaintenanceState,
    drained: Option<&[String]>,
) -> ApiResult<bool> {
    let mut tx = state.db.write().await?;
    if !store::maintenance::advance(&mut tx, &m.id, from, to, drained).await? {
        return Ok(false);
    }
    crate::audit::record_as(
        &mut tx,
        "system",
        None,
        &format!("maintenance.{}", to.as_str()),
        &m.id,
        serde_json::json!({ "drained": drained.unwrap_or_default() }),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Tells the players on `m`'s boards when it starts.
async fn announce(state: &AppState, m: &MaintenanceRow) -> ApiResult<()> {
    if !step(
        state,
        m,
        &[MaintenanceState::Scheduled],
        MaintenanceState::Announced,
        None,
    )
    .await?
    {
        return Ok(());
    }
    let notice = Command::Notice {
        notice: m.note.clone(),
        at: Some(Timestamp(m.starts_at)),
    };
    for board in store::maintenance::boards(&state.db.pool, m).await? {
        let id = format!("mnt-{}-{board}-notice", m.id);
        let ttl = Duration::from_millis((m.ends_at - crate::now().millis()).max(1_000) as u64);
        crate::agents::outbox::send(state, &board, &id, notice.clone(), ttl).await?;
    }
    Ok(())
}

/// Takes back an announcement (a window called off before it started).
pub async fn withdraw(state: &AppState, m: &MaintenanceRow) -> ApiResult<()> {
    for board in store::maintenance::boards(&state.db.pool, m).await? {
        let id = format!("mnt-{}-{board}-withdraw", m.id);
        let command = Command::Notice {
            notice: None,
            at: None,
        };
        crate::agents::outbox::send(state, &board, &id, command, Duration::from_secs(3600)).await?;
    }
    Ok(())
}

/// Drains `m`'s boards that were taking plays and ends the plays still on its boards.
async fn start(state: &AppState, m: &MaintenanceRow) -> ApiResult<()> {
    let pool = &state.db.pool;
    let boards = store::maintenance::boards(pool, m).await?;
    let mut drained = Vec::new();
    for id in &boards {
        if let Some(b) = store::topology::board(pool, id).await?
            && b.status == BoardStatus::Active
        {
            drained.push(b);
        }
    }
    let ids: Vec<String> = drained.iter().map(|b| b.id.clone()).collect();
    let mut tx = state.db.write().await?;
    let from = [MaintenanceState::Announced];
    if !store::maintenance::advance(
        &mut tx,
        &m.id,
        &from,
        MaintenanceState::UnderWay,
        Some(&ids),
    )
    .await?
    {
        return Ok(());
    }
    for b in &drained {
        store::topology::update_board(&mut tx, &b.id, &b.model, &b.capacity, BoardStatus::Draining)
            .await?;
    }
    crate::audit::record_as(
        &mut tx,
        "system",
        None,
        "maintenance.under_way",
        &m.id,
        serde_json::json!({ "drained": ids }),
    )
    .await?;
    tx.commit().await?;
    for id in &ids {
        crate::play::lifecycle::drain(state, id, true).await?;
    }
    for board in &boards {
        for play in store::sessions::live_on_board(pool, board).await? {
            crate::play::lifecycle::end(state, &play.id, EndReason::Maintenance).await?;
        }
    }
    metrics::counter!("playrack_maintenance_started_total").increment(1);
    Ok(())
}

/// Gives the boards `m` drained back (those an operator has not changed meanwhile).
async fn finish(state: &AppState, m: &MaintenanceRow) -> ApiResult<()> {
    let pool = &state.db.pool;
    let mut back = Vec::new();
    for id in m.drained() {
        if let Some(b) = store::topology::board(pool, &id).await?
            && b.status == BoardStatus::Draining
        {
            back.push(b);
        }
    }
    let mut tx = state.db.write().await?;
    if !store::maintenance::advance(
        &mut tx,
        &m.id,
        &[MaintenanceState::UnderWay],
        MaintenanceState::Done,
        None,
    )
    .await?
    {
        return Ok(());
    }
    for b in &back {
        store::topology::update_board(&mut tx, &b.id, &b.model, &b.capacity, BoardStatus::Active)
            .await?;
    }
    crate::audit::record_as(
        &mut tx,
        "system",
        None,
        "maintenance.done",
        &m.id,
        serde_json::json!({ "given_back": back.iter().map(|b| &b.id).collect::<Vec<_>>() }),
    )
    .await?;
    tx.commit().await?;
    for b in &back {
        crate::play::lifecycle::drain(state, &b.id, false).await?;
    }
    crate::play::queue::request_promotion(state);
    Ok(())
}
