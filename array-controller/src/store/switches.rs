//! Degrade switches (`switches`): the ones that are on, read whole (a handful of rows), turned
//! on (an upsert: turning one on again changes only its note) and off.

use crate::db::WriteTx;
use sqlx::AnyPool;

/// A switch that is on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SwitchRow {
    pub name: String,
    pub scope: String,
    pub note: Option<String>,
    pub since: i64,
    pub set_by: String,
}

/// Every switch that is on, by name and scope.
pub async fn all(pool: &AnyPool) -> Result<Vec<SwitchRow>, sqlx::Error> {
    sqlx::query_as("SELECT name, scope, note, since, set_by FROM switches ORDER BY name, scope")
        .fetch_all(pool)
        .await
}

/// One switch at one scope, if it is on (read inside the transaction that changes it).
pub async fn get(
    tx: &mut WriteTx,
    name: &str,
    scope: &str,
) -> Result<Option<SwitchRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT name, scope, note, since, set_by FROM switches WHERE name = $1 AND scope = $2",
    )
    .bind(name)
    .bind(scope)
    .fetch_optional(&mut ***tx)
    .await
}

/// Turns a switch on at a scope; if it is on already, only its note changes.
pub async fn set(tx: &mut WriteTx, row: &SwitchRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO switches (name, scope, note, since, set_by) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (name, scope) DO UPDATE SET note = excluded.note",
    )
    .bind(&row.name)
    .bind(&row.scope)
    .bind(row.note.as_deref())
    .bind(row.since)
    .bind(&row.set_by)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// Turns a switch off at a scope; answers whether it was on.
pub async fn clear(tx: &mut WriteTx, name: &str, scope: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM switches WHERE name = $1 AND scope = $2")
        .bind(name)
        .bind(scope)
        .execute(&mut ***tx)
        .await?;
    Ok(done.rows_affected() > 0)
}
