//! The tenants' player-token keys (the HMAC secret a tenant's backend signs player tokens
//! with; one per tenant) and the controller's Ed25519 session signing key (one, shared by
//! every replica on the database), both stored sealed (`crate::secrets`).

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

/// The stored session signing key, read in a write transaction.
pub async fn session_key_in(tx: &mut WriteTx) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT secret FROM signing_keys WHERE id = 'session'")
        .fetch_optional(&mut ***tx)
        .await
}

/// Replaces the stored form of the session signing key (sealing it).
pub async fn reseal_session_key(tx: &mut WriteTx, sealed: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE signing_keys SET secret = $1 WHERE id = 'session'")
        .bind(sealed)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// Tenants' player-token keys stored before sealing existed: (tenant, secret).
pub async fn unsealed_player_keys(tx: &mut WriteTx) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT tenant_id, secret FROM player_keys WHERE secret NOT LIKE 'v1:%'")
        .fetch_all(&mut ***tx)
        .await
}

/// Replaces the stored form of a tenant's player-token key (sealing it).
pub async fn reseal_player_key(
    tx: &mut WriteTx,
    tenant: &str,
    sealed: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE player_keys SET secret = $1 WHERE tenant_id = $2")
        .bind(sealed)
        .bind(tenant)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}
