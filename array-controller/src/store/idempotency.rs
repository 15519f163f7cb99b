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

/// Forgets up to `batch` answers remembered before `cutoff`; answers how many.
pub async fn forget_before(tx: &mut WriteTx, cutoff: i64, batch: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "DELETE FROM idempotency WHERE (scope, key) IN \
         (SELECT scope, key FROM idempotency WHERE created_at < $1 LIMIT $2)",
    )
    .bind(cutoff)
    .bind(batch)
    .execute(&mut ***tx)
    .await?
    .rows_affected())
}
