//! Board slots: one row per board and spec with its capacity, the slots held, the warm
//! instances the board reported and whether the board takes plays now.
//!
//! The counts are maintained, never recounted on the acquire path: [`take`] holds a slot in the
//! reserving transaction, [`release`] gives it back when the board says the play's instance is
//! released (or the board is gone). [`sync_board`] refreshes a board's rows from its record
//! (capacity, status, agent state, room) whenever one of those changes, and [`recount`] settles
//! the held count against the sessions that hold slots after a board's hello.

use super::Backend;
use super::topology::{parse_agent_state, parse_board_status};
use crate::db::WriteTx;
use playrack_wire::api::{AgentState, BoardStatus};

/// A candidate board for one spec in one room.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SlotRow {
    pub board_id: String,
    pub capacity: i64,
    pub in_use: i64,
    pub warm: i64,
}

/// Rewrites a board's slot rows from its record: one per spec of its capacity (a spec it no
/// longer offers keeps its row with capacity 0, so held slots stay counted), in its array's
/// room, schedulable while its agent is online, its status active and it is not too hot.
pub async fn sync_board(tx: &mut WriteTx, board_id: &str) -> Result<(), sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct BoardRow {
        /// JSON map of spec id to slots.
        capacity: String,
        status: String,
        agent_state: String,
        room_id: String,
        hot: Option<String>,
    }
    let Some(b): Option<BoardRow> = sqlx::query_as(
        "SELECT b.capacity, b.status, b.agent_state, a.room_id, b.hot FROM boards b JOIN arrays a ON a.id = b.array_id WHERE b.id = $1",
    )
    .bind(board_id)
    .fetch_optional(&mut ***tx)
    .await?
    else {
        return Ok(());
    };
    let capacity: std::collections::BTreeMap<String, u32> = super::json(&b.capacity)?;
    let schedulable = parse_board_status(&b.status) == BoardStatus::Active
        && parse_agent_state(&b.agent_state) == AgentState::Online
        && b.hot.is_none();
    let room = b.room_id;
    sqlx::query(
        "UPDATE board_slots SET capacity = 0, room_id = $1, schedulable = $2 WHERE board_id = $3",
    )
    .bind(&room)
    .bind(i64::from(schedulable))
    .bind(board_id)
    .execute(&mut ***tx)
    .await?;
    for (spec, slots) in capacity {
        sqlx::query(
            "INSERT INTO board_slots (board_id, spec_id, room_id, capacity, in_use, warm, schedulable) \
             VALUES ($1, $2, $3, $4, \
               (SELECT COUNT(*) FROM sessions s WHERE s.board_id = $1 AND s.spec_id = $2 AND s.slot_held = 1), \
               (SELECT COUNT(*) FROM instances i WHERE i.board_id = $1 AND i.spec_id = $2 AND i.state = 'warm'), $5) \
             ON CONFLICT (board_id, spec_id) DO UPDATE SET capacity = excluded.capacity, room_id = excluded.room_id, \
             schedulable = excluded.schedulable",
        )
        .bind(board_id)
        .bind(&spec)
        .bind(&room)
        .bind(i64::from(slots))
        .bind(i64::from(schedulable))
        .execute(&mut ***tx)
        .await?;
    }
    Ok(())
}

/// Settles a board's held counts against the sessions that hold its slots, and its warm
/// counts against the instances it reported (after a hello replaced them).
pub async fn recount(tx: &mut WriteTx, board_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE board_slots SET \
         in_use = (SELECT COUNT(*) FROM sessions s WHERE s.board_id = $1 AND s.spec_id = board_slots.spec_id AND s.slot_held = 1), \
         warm = (SELECT COUNT(*) FROM instances i WHERE i.board_id = $1 AND i.spec_id = board_slots.spec_id AND i.state = 'warm') \
         WHERE board_id = $1",
    )
    .bind(board_id)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// Recounts the warm instances of one board and spec (after an instance report).
pub async fn recount_warm(
    tx: &mut WriteTx,
    board_id: &str,
    spec_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE board_slots SET warm = (SELECT COUNT(*) FROM instances i WHERE i.board_id = $1 AND i.spec_id = $2 AND i.state = 'warm') \
         WHERE board_id = $1 AND spec_id = $2",
    )
    .bind(board_id)
    .bind(spec_id)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// Up to `limit` boards of a room with a free slot of `spec`, least loaded first (spread) or
/// most loaded first (binpack). On PostgreSQL the rows are locked, skipping rows another
/// transaction holds, so concurrent reservations pick different boards instead of waiting.
pub async fn candidates(
    tx: &mut WriteTx,
    backend: Backend,
    room_id: &str,
    spec_id: &str,
    binpack: bool,
    limit: i64,
) -> Result<Vec<SlotRow>, sqlx::Error> {
    let sql = match (backend, binpack) {
        (Backend::Sqlite, false) => {
            "SELECT board_id, capacity, in_use, warm FROM board_slots WHERE room_id = $1 AND spec_id = $2 \
             AND schedulable = 1 AND in_use < capacity ORDER BY in_use, board_id LIMIT $3"
        }
        (Backend::Sqlite, true) => {
            "SELECT board_id, capacity, in_use, warm FROM board_slots WHERE room_id = $1 AND spec_id = $2 \
             AND schedulable = 1 AND in_use < capacity ORDER BY in_use DESC, board_id LIMIT $3"
        }
        (Backend::Postgres, false) => {
            "SELECT board_id, capacity, in_use, warm FROM board_slots WHERE room_id = $1 AND spec_id = $2 \
             AND schedulable = 1 AND in_use < capacity ORDER BY in_use, board_id LIMIT $3 FOR UPDATE SKIP LOCKED"
        }
        (Backend::Postgres, true) => {
            "SELECT board_id, capacity, in_use, warm FROM board_slots WHERE room_id = $1 AND spec_id = $2 \
             AND schedulable = 1 AND in_use < capacity ORDER BY in_use DESC, board_id LIMIT $3 FOR UPDATE SKIP LOCKED"
        }
    };
    sqlx::query_as(sql)
        .bind(room_id)
        .bind(spec_id)
        .bind(limit)
        .fetch_all(&mut ***tx)
        .await
}

/// The first board of a room with a free slot of `spec`, waiting for rows other transactions
/// hold (PostgreSQL: `FOR UPDATE` re-checks a row once its holder commits and moves on to the
/// next if it filled up). Used when [`candidates`] skipped every row: the boards another
/// reservation is deciding on may still have room once it commits, and the room must not be
/// reported full meanwhile. Rows are taken in board-id order, the same in every transaction,
/// so two waiters can never wait on each other (load order could differ between snapshots).
pub async fn first_free_waiting(
    tx: &mut WriteTx,
    room_id: &str,
    spec_id: &str,
) -> Result<Option<SlotRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT board_id, capacity, in_use, warm FROM board_slots WHERE room_id = $1 AND spec_id = $2 \
         AND schedulable = 1 AND in_use < capacity ORDER BY board_id LIMIT 1 FOR UPDATE",
    )
    .bind(room_id)
    .bind(spec_id)
    .fetch_optional(&mut ***tx)
    .await
}

/// Holds one slot of `spec` on a board; false when it has none free (taken meanwhile).
pub async fn take(tx: &mut WriteTx, board_id: &str, spec_id: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE board_slots SET in_use = in_use + 1 WHERE board_id = $1 AND spec_id = $2 AND in_use < capacity AND schedulable = 1",
    )
    .bind(board_id)
    .bind(spec_id)
    .execute(&mut ***tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Gives back the slot a session holds, once (true if it held one).
pub async fn release(tx: &mut WriteTx, session_id: &str) -> Result<bool, sqlx::Error> {
    use sqlx::Row;
    let Some(r) = sqlx::query(
        "UPDATE sessions SET slot_held = 0 WHERE id = $1 AND slot_held = 1 RETURNING board_id, spec_id",
    )
    .bind(session_id)
    .fetch_optional(&mut ***tx)
    .await?
    else {
        return Ok(false);
    };
    sqlx::query(
        "UPDATE board_slots SET in_use = in_use - 1 WHERE board_id = $1 AND spec_id = $2 AND in_use > 0",
    )
    .bind(r.try_get::<String, _>("board_id")?)
    .bind(r.try_get::<String, _>("spec_id")?)
    .execute(&mut ***tx)
    .await?;
    Ok(true)
}

/// Gives back every slot held on a board (it was lost: its instances are gone with it).
pub async fn release_board(tx: &mut WriteTx, board_id: &str) -> Result<u64, sqlx::Error> {
    let n = sqlx::query("UPDATE sessions SET slot_held = 0 WHERE board_id = $1 AND slot_held = 1")
        .bind(board_id)
        .execute(&mut ***tx)
        .await?
        .rows_affected();
    recount(tx, board_id).await?;
    Ok(n)
}
