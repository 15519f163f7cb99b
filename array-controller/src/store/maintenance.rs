//! Maintenance windows (`maintenance`): scheduled, listed newest first, moved through their
//! states by the leader's pass (which reads only the windows still open, by index), and the
//! boards a window covers (a room's, or one).

use crate::db::WriteTx;
use playrack_wire::Timestamp;
use playrack_wire::api::{Maintenance, MaintenanceState};
use sqlx::AnyPool;

/// A `maintenance` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MaintenanceRow {
    pub id: String,
    pub room_id: Option<String>,
    pub board_id: Option<String>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub note: Option<String>,
    pub state: String,
    /// Space-separated board ids.
    pub drained: Option<String>,
    pub created_by: String,
    pub created_at: i64,
}

impl MaintenanceRow {
    pub fn state(&self) -> MaintenanceState {
        MaintenanceState::parse(&self.state).unwrap_or(MaintenanceState::Done)
    }

    /// The boards it drained.
    pub fn drained(&self) -> Vec<String> {
        super::links::origins(self.drained.as_deref())
    }

    pub fn to_wire(&self) -> Maintenance {
        Maintenance {
            id: self.id.clone(),
            room_id: self.room_id.clone(),
            board_id: self.board_id.clone(),
            starts_at: Timestamp(self.starts_at),
            ends_at: Timestamp(self.ends_at),
            note: self.note.clone(),
            state: self.state(),
            drained: self.drained(),
            created_by: self.created_by.clone(),
            created_at: Timestamp(self.created_at),
        }
    }
}

/// `SELECT <every column> FROM maintenance <rest>`.
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, room_id, board_id, starts_at, ends_at, note, state, drained, created_by, \
             created_at FROM maintenance ",
            $rest
        )
    };
}

/// Schedules a window.
pub async fn insert(tx: &mut WriteTx, m: &MaintenanceRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO maintenance (id, room_id, board_id, starts_at, ends_at, note, state, drained, \
         created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&m.id)
    .bind(m.room_id.as_deref())
    .bind(m.board_id.as_deref())
    .bind(m.starts_at)
    .bind(m.ends_at)
    .bind(m.note.as_deref())
    .bind(&m.state)
    .bind(m.drained.as_deref())
    .bind(&m.created_by)
    .bind(m.created_at)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// One window.
pub async fn get(pool: &AnyPool, id: &str) -> Result<Option<MaintenanceRow>, sqlx::Error> {
    sqlx::query_as(select!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// One window, read in the transaction that changes it.
pub async fn get_in(tx: &mut WriteTx, id: &str) -> Result<Option<MaintenanceRow>, sqlx::Error> {
    sqlx::query_as(select!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut ***tx)
        .await
}

/// Up to `limit` windows with ids before `cursor` (any when empty), newest first.
pub async fn page(
    pool: &AnyPool,
    cursor: &str,
    limit: i64,
) -> Result<Vec<MaintenanceRow>, sqlx::Error> {
    sqlx::query_as(select!(
        "WHERE ($1 = '' OR id < $1) ORDER BY id DESC LIMIT $2"
    ))
    .bind(cursor)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The windows in `state` whose start is at or before `by`, earliest first (at most `limit`).
pub async fn due(
    pool: &AnyPool,
    state: MaintenanceState,
    by: i64,
    limit: i64,
) -> Result<Vec<MaintenanceRow>, sqlx::Error> {
    sqlx::query_as(select!(
        "WHERE state = $1 AND starts_at <= $2 ORDER BY starts_at LIMIT $3"
    ))
    .bind(state.as_str())
    .bind(by)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The windows under way whose end is at or before `by`, earliest first (at most `limit`).
pub async fn due_to_end(
    pool: &AnyPool,
    by: i64,
    limit: i64,
) -> Result<Vec<MaintenanceRow>, sqlx::Error> {
    sqlx::query_as(select!(
        "WHERE state = $1 AND ends_at <= $2 ORDER BY ends_at LIMIT $3"
    ))
    .bind(MaintenanceState::UnderWay.as_str())
    .bind(by)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Moves a window from `from` to `to` (and sets what it drained); answers whether it was in
/// `from` (another pass, or a cancel, may have moved it first).
pub async fn advance(
    tx: &mut WriteTx,
    id: &str,
    from: &[MaintenanceState],
    to: MaintenanceState,
    drained: Option<&[String]>,
) -> Result<bool, sqlx::Error> {
    let froms: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    let done = sqlx::query(
        "UPDATE maintenance SET state = $1, drained = COALESCE($2, drained) \
         WHERE id = $3 AND (state = $4 OR state = $5 OR state = $6)",
    )
    .bind(to.as_str())
    .bind(drained.map(|d| d.join(" ")))
    .bind(id)
    .bind(froms.first().copied().unwrap_or(""))
    .bind(froms.get(1).copied().unwrap_or(""))
    .bind(froms.get(2).copied().unwrap_or(""))
    .execute(&mut ***tx)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Sets a window's end (a cancel of one under way ends it now).
pub async fn set_end(tx: &mut WriteTx, id: &str, ends_at: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE maintenance SET ends_at = $1 WHERE id = $2")
        .bind(ends_at)
        .bind(id)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// The boards a window covers: the room's, or the one board.
pub async fn boards(pool: &AnyPool, m: &MaintenanceRow) -> Result<Vec<String>, sqlx::Error> {
    match (&m.room_id, &m.board_id) {
        (_, Some(b)) => Ok(vec![b.clone()]),
        (Some(room), None) => {
            sqlx::query_scalar(
                "SELECT b.id FROM boards b JOIN arrays a ON a.id = b.array_id WHERE a.room_id = $1 \
                 ORDER BY b.id",
            )
            .bind(room)
            .fetch_all(pool)
            .await
        }
        (None, None) => Ok(Vec::new()),
    }
}
