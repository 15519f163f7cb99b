//! Acquire answers remembered per player (`scope`) and `Idempotency-Key`, so a repeated
//! request gets the first answer; forgotten after a day by the sweeper.

use crate::db::WriteTx;

pub async fn get(tx: &mut WriteTx, scope: &str, key: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT response FROM idempotency WHERE scope = $1 AND key = $2")
        .bind(scope)
        .bind(key)
        .fetch_optional(&mut ***tx)
        .await
}

pub async fn put(
    tx: &mut WriteTx,
    scope: &str,
    key: &str,
    response: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO idempotency (scope, key, response, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(scope)
    .bind(key)
    .bind(response)
    .bind(now)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}
