//! The upgrades ledger (which Rust-side data upgrades are done) and the rows they rewrite:
//! the player keys of sessions, tickets, archives and the usage ledger, read by primary key
//! in pages so an upgrade passes over each table once.

use crate::db::WriteTx;
use sqlx::AnyPool;

/// A table whose `user_key` (and, where it has one, `live_key`) an upgrade may rewrite.
#[derive(Debug, Clone, Copy)]
pub enum KeyedTable {
    Sessions,
    Tickets,
    Archives,
    UsageLedger,
}

impl KeyedTable {
    pub const ALL: [KeyedTable; 4] = [
        KeyedTable::Sessions,
        KeyedTable::Tickets,
        KeyedTable::Archives,
        KeyedTable::UsageLedger,
    ];

    fn table_and_id(self) -> (&'static str, &'static str) {
        match self {
            KeyedTable::Sessions => ("sessions", "id"),
            KeyedTable::Tickets => ("tickets", "id"),
            KeyedTable::Archives => ("archives", "id"),
            KeyedTable::UsageLedger => ("usage_ledger", "session_id"),
        }
    }

    fn has_live_key(self) -> bool {
        matches!(self, KeyedTable::Sessions | KeyedTable::Tickets)
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct KeyedRow {
    pub id: String,
    pub tenant_id: String,
    pub game_id: String,
    pub user_key: String,
    pub live_key: Option<String>,
}

pub async fn is_done(pool: &AnyPool, name: &str) -> Result<bool, sqlx::Error> {
    let found: Option<String> = sqlx::query_scalar("SELECT name FROM upgrades WHERE name = $1")
        .bind(name)
        .fetch_optional(pool)
        .await?;
    Ok(found.is_some())
}

pub async fn mark_done(tx: &mut WriteTx, name: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO upgrades (name, done_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(name)
        .bind(now)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// The next `limit` rows of `table` after `after` (by primary key).
pub async fn page(
    tx: &mut WriteTx,
    table: KeyedTable,
    after: &str,
    limit: i64,
) -> Result<Vec<KeyedRow>, sqlx::Error> {
    let (name, id) = table.table_and_id();
    let live = if table.has_live_key() {
        "live_key"
    } else {
        "NULL AS live_key"
    };
    let sql = format!(
        "SELECT {id} AS id, tenant_id, game_id, user_key, {live} FROM {name} \
         WHERE {id} > $1 ORDER BY {id} LIMIT $2"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(after)
        .bind(limit)
        .fetch_all(&mut ***tx)
        .await
}

/// Rewrites one row's player key (and, in sessions and tickets, its live key), if the row
/// still has the key it was read with.
pub async fn rekey(
    tx: &mut WriteTx,
    table: KeyedTable,
    row: &KeyedRow,
    user_key: &str,
    live_key: Option<&str>,
) -> Result<(), sqlx::Error> {
    let (name, id) = table.table_and_id();
    let q = if table.has_live_key() {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {name} SET user_key = $1, live_key = $2 WHERE {id} = $3 AND user_key = $4"
        )))
        .bind(user_key)
        .bind(live_key)
        .bind(&row.id)
        .bind(&row.user_key)
    } else {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {name} SET user_key = $1 WHERE {id} = $2 AND user_key = $3"
        )))
        .bind(user_key)
        .bind(&row.id)
        .bind(&row.user_key)
    };
    q.execute(&mut ***tx).await?;
    Ok(())
}
