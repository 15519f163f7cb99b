//! The tenants' player-token keys (the HMAC secret a tenant's backend signs player tokens
//! with; one per tenant) and the controller's Ed25519 session signing key (one, shared by
//! every replica on the database).

use crate::db::WriteTx;
use sqlx::AnyPool;

/// A tenant's player-token key, if it issued one.
pub async fn player_key(pool: &AnyPool, tenant: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT secret FROM player_keys WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_optional(pool)
        .await
}

/// Replaces a tenant's player-token key (tokens signed with the old one stop verifying).
pub async fn set_player_key(
    tx: &mut WriteTx,
    tenant: &str,
    secret: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM player_keys WHERE tenant_id = $1")
        .bind(tenant)
        .execute(&mut ***tx)
        .await?;
    sqlx::query("INSERT INTO player_keys (tenant_id, secret, created_at) VALUES ($1, $2, $3)")
        .bind(tenant)
        .bind(secret)
        .bind(now)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// The session signing key's secret (hex), once some controller created it.
pub async fn session_key(pool: &AnyPool) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT secret FROM signing_keys ORDER BY created_at LIMIT 1")
        .fetch_optional(pool)
        .await
}

/// Stores `secret_hex` as the session signing key unless another controller stored one first,
/// and returns whichever is stored.
pub async fn create_session_key(
    tx: &mut WriteTx,
    secret_hex: &str,
    public_key: &str,
    now: i64,
) -> Result<String, sqlx::Error> {
    sqlx::query(
        "INSERT INTO signing_keys (id, secret, public_key, created_at) VALUES ('session', $1, $2, $3) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(secret_hex)
    .bind(public_key)
    .bind(now)
    .execute(&mut ***tx)
    .await?;
    sqlx::query_scalar("SELECT secret FROM signing_keys WHERE id = 'session'")
        .fetch_one(&mut ***tx)
        .await
}
