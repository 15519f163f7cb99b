//! Tenants, accounts, sign-in tokens (`auth_tokens`) and API keys (`api_keys`).
//!
//! A tenant's status and an account's or key's role are mapped to their column text here and
//! nowhere else: [`tenant_status_text`] / [`parse_tenant_status`] and [`role_text`] /
//! [`parse_role`]. Tokens and keys are stored only as hashes; what a bearer resolves to is read
//! by [`token_caller`] and [`key_caller`].
//!
//! The demo seed's one write to the catalog's `specs` table ([`seed_spec`]) is here too, beside
//! the demo tenant and accounts it is written with.

use crate::db::{Db, WriteTx};
use playrack_wire::api::{Role, Spec, TenantStatus};
use sqlx::AnyPool;

/// A tenant status as the `tenants.status` column spells it.
pub fn tenant_status_text(s: TenantStatus) -> &'static str {
    match s {
        TenantStatus::Active => "active",
        TenantStatus::Suspended => "suspended",
    }
}

/// The status a `tenants.status` value names (anything but `suspended` reads as active).
pub fn parse_tenant_status(s: &str) -> TenantStatus {
    match s {
        "suspended" => TenantStatus::Suspended,
        _ => TenantStatus::Active,
    }
}

/// A role as the `accounts.role` and `api_keys.role` columns spell it.
pub fn role_text(r: Role) -> &'static str {
    match r {
        Role::OperatorAdmin => "operator-admin",
        Role::OperatorViewer => "operator-viewer",
        Role::TenantAdmin => "tenant-admin",
        Role::TenantDeveloper => "tenant-developer",
        Role::TenantViewer => "tenant-viewer",
    }
}

/// The role a `role` column value names; other text is a decode error.
pub fn parse_role(s: &str) -> Result<Role, sqlx::Error> {
    Role::ALL
        .into_iter()
        .find(|r| role_text(*r) == s)
        .ok_or_else(|| sqlx::Error::Decode(format!("unknown role `{s}`").into()))
}

/// A tenant as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TenantRow {
    pub id: String,
    pub name: String,
    pub status: String,
    pub priority_tier: i64,
    /// The operator's quota for the tenant (`None`: the platform default).
    pub storage_quota_bytes: Option<i64>,
    pub package_bytes: i64,
    pub created_at: i64,
}

/// Creates a tenant.
pub async fn insert_tenant(
    tx: &mut WriteTx,
    id: &str,
    name: &str,
    status: TenantStatus,
    priority_tier: i64,
    created_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO tenants (id, name, status, priority_tier, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(name)
    .bind(tenant_status_text(status))
    .bind(priority_tier)
    .bind(created_at)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// The id of the tenant called `name`, created active (as `id`) unless one exists.
pub async fn ensure_named_tenant(
    tx: &mut WriteTx,
    id: &str,
    name: &str,
    created_at: i64,
) -> Result<String, sqlx::Error> {
    sqlx::query(
        "INSERT INTO tenants (id, name, status, priority_tier, created_at) VALUES ($1, $2, $3, 0, $4) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(id)
    .bind(name)
    .bind(tenant_status_text(TenantStatus::Active))
    .bind(created_at)
    .execute(&mut ***tx)
    .await?;
    sqlx::query_scalar("SELECT id FROM tenants WHERE name = $1")
        .bind(name)
        .fetch_one(&mut ***tx)
        .await
}

/// Up to `limit` tenants with ids after `cursor`, by id.
pub async fn tenants_page(
    pool: &AnyPool,
    cursor: &str,
    limit: i64,
) -> Result<Vec<TenantRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, status, priority_tier, storage_quota_bytes, package_bytes, created_at FROM tenants \
         WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(cursor)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// One tenant.
pub async fn tenant(pool: &AnyPool, id: &str) -> Result<Option<TenantRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, status, priority_tier, storage_quota_bytes, package_bytes, created_at \
         FROM tenants WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Whether a tenant exists (read in the transaction that is about to refer to it).
pub async fn tenant_exists(tx: &mut WriteTx, id: &str) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants WHERE id = $1")
        .bind(id)
        .fetch_one(&mut ***tx)
        .await?;
    Ok(n > 0)
}

/// Rewrites a tenant's name, status, priority tier and storage quota.
pub async fn update_tenant(
    tx: &mut WriteTx,
    id: &str,
    name: &str,
    status: TenantStatus,
    priority_tier: i64,
    storage_quota_bytes: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE tenants SET name = $1, status = $2, priority_tier = $3, storage_quota_bytes = $4 \
         WHERE id = $5",
    )
    .bind(name)
    .bind(tenant_status_text(status))
    .bind(priority_tier)
    .bind(storage_quota_bytes)
    .bind(id)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// An account as listed (never its password hash).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub id: String,
    pub email: String,
    pub role: String,
    pub tenant_id: Option<String>,
    pub created_at: i64,
}

/// What a new account is.
#[derive(Debug, Clone)]
pub struct NewAccount<'a> {
    pub id: &'a str,
    /// Lower-case.
    pub email: &'a str,
    /// Argon2id PHC string.
    pub password_hash: &'a str,
    pub role: Role,
    pub tenant_id: Option<&'a str>,
    pub created_at: i64,
}

/// Creates an account; a taken email is the database's unique violation.
pub async fn insert_account(tx: &mut WriteTx, a: &NewAccount<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO accounts (id, email, password_hash, role, tenant_id, created_at) VALUES ($1,$2,$3,$4,$5,$6)",
    )
    .bind(a.id)
    .bind(a.email)
    .bind(a.password_hash)
    .bind(role_text(a.role))
    .bind(a.tenant_id)
    .bind(a.created_at)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// Creates an account, or gives the account with its email the new password hash.
pub async fn upsert_account_password(
    tx: &mut WriteTx,
    a: &NewAccount<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO accounts (id, email, password_hash, role, tenant_id, created_at) VALUES ($1,$2,$3,$4,$5,$6) \
         ON CONFLICT (email) DO UPDATE SET password_hash = excluded.password_hash",
    )
    .bind(a.id)
    .bind(a.email)
    .bind(a.password_hash)
    .bind(role_text(a.role))
    .bind(a.tenant_id)
    .bind(a.created_at)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// Up to `limit` accounts of `tenant_id` (every account for "") with ids after `cursor`, by id.
pub async fn accounts_page(
    pool: &AnyPool,
    tenant_id: &str,
    cursor: &str,
    limit: i64,
) -> Result<Vec<AccountRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, email, role, tenant_id, created_at FROM accounts \
         WHERE ($1 = '' OR tenant_id = $1) AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(tenant_id)
    .bind(cursor)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// One account.
pub async fn account(pool: &AnyPool, id: &str) -> Result<Option<AccountRow>, sqlx::Error> {
    sqlx::query_as("SELECT id, email, role, tenant_id, created_at FROM accounts WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Deletes an account and its sign-in tokens, and revokes the API keys it created.
pub async fn delete_account(tx: &mut WriteTx, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM auth_tokens WHERE account_id = $1")
        .bind(id)
        .execute(&mut ***tx)
        .await?;
    // The keys it made go with it (revoked, so they stay listed as history).
    sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE created_by = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(&mut ***tx)
        .await?;
    sqlx::query("DELETE FROM accounts WHERE id = $1")
        .bind(id)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// What signing in with an email checks and answers.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignInRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub tenant_id: Option<String>,
}

/// The account with `email` (lower-case), with its password hash.
pub async fn sign_in_account(
    pool: &AnyPool,
    email: &str,
) -> Result<Option<SignInRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, email, password_hash, role, tenant_id FROM accounts WHERE email = $1",
    )
    .bind(email)
    .fetch_optional(pool)
    .await
}

/// Stores a new sign-in token's hash, dropping every expired token first.
pub async fn insert_token(
    tx: &mut WriteTx,
    token_hash: &str,
    account_id: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM auth_tokens WHERE expires_at < $1")
        .bind(now)
        .execute(&mut ***tx)
        .await?;
    sqlx::query(
        "INSERT INTO auth_tokens (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(account_id)
    .bind(now)
    .bind(expires_at)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// Ends a sign-in token (sign-out).
pub async fn delete_token(db: &Db, token_hash: &str) -> Result<(), sqlx::Error> {
    let mut turn = db.turn().await?;
    sqlx::query("DELETE FROM auth_tokens WHERE token_hash = $1")
        .bind(token_hash)
        .execute(&mut *turn)
        .await?;
    Ok(())
}

/// The account behind an unexpired sign-in token, with its tenant's status.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenCaller {
    pub id: String,
    pub email: String,
    pub role: String,
    pub tenant_id: Option<String>,
    pub tenant_status: Option<String>,
}

/// The account a sign-in token's hash belongs to, unless the token expired by `now`.
pub async fn token_caller(
    pool: &AnyPool,
    token_hash: &str,
    now: i64,
) -> Result<Option<TokenCaller>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.id, a.email, a.role, a.tenant_id, t.status AS tenant_status \
         FROM auth_tokens k JOIN accounts a ON a.id = k.account_id \
         LEFT JOIN tenants t ON t.id = a.tenant_id \
         WHERE k.token_hash = $1 AND k.expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(pool)
    .await
}

/// An API key as stored (never its secret's hash).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    pub role: String,
    pub tenant_id: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// What a new API key is.
#[derive(Debug, Clone)]
pub struct NewApiKey<'a> {
    pub id: &'a str,
    pub name: &'a str,
    /// SHA-256 (hex) of the secret part.
    pub secret_hash: &'a str,
    pub role: Role,
    pub tenant_id: Option<&'a str>,
    pub created_by: &'a str,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

/// Creates an API key and reads it back.
pub async fn insert_api_key(tx: &mut WriteTx, k: &NewApiKey<'_>) -> Result<ApiKeyRow, sqlx::Error> {
    sqlx::query(
        "INSERT INTO api_keys (id, name, secret_hash, role, tenant_id, created_by, created_at, expires_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
    )
    .bind(k.id)
    .bind(k.name)
    .bind(k.secret_hash)
    .bind(role_text(k.role))
    .bind(k.tenant_id)
    .bind(k.created_by)
    .bind(k.created_at)
    .bind(k.expires_at)
    .execute(&mut ***tx)
    .await?;
    api_key_in(tx, k.id).await
}

/// Revokes an API key at `now` (a revoked key keeps its first revocation) and reads it back.
pub async fn revoke_api_key(
    tx: &mut WriteTx,
    id: &str,
    now: i64,
) -> Result<ApiKeyRow, sqlx::Error> {
    sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(&mut ***tx)
        .await?;
    api_key_in(tx, id).await
}

/// One API key, read in the transaction that just wrote it.
async fn api_key_in(tx: &mut WriteTx, id: &str) -> Result<ApiKeyRow, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, role, tenant_id, created_at, expires_at, last_used_at, revoked_at \
         FROM api_keys WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut ***tx)
    .await
}

/// One API key.
pub async fn api_key(pool: &AnyPool, id: &str) -> Result<Option<ApiKeyRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, role, tenant_id, created_at, expires_at, last_used_at, revoked_at \
         FROM api_keys WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Up to `limit` API keys of `tenant_id` (every key for "") with ids after `cursor`, by id.
pub async fn api_keys_page(
    pool: &AnyPool,
    tenant_id: &str,
    cursor: &str,
    limit: i64,
) -> Result<Vec<ApiKeyRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, role, tenant_id, created_at, expires_at, last_used_at, revoked_at \
         FROM api_keys WHERE ($1 = '' OR tenant_id = $1) AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(tenant_id)
    .bind(cursor)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// What authenticating with an API key checks, with its tenant's status.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyCaller {
    pub id: String,
    pub secret_hash: String,
    pub role: String,
    pub tenant_id: Option<String>,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub tenant_status: Option<String>,
}

/// An API key with its secret's hash, for checking a bearer.
pub async fn key_caller(pool: &AnyPool, id: &str) -> Result<Option<KeyCaller>, sqlx::Error> {
    sqlx::query_as(
        "SELECT k.id, k.secret_hash, k.role, k.tenant_id, k.expires_at, k.revoked_at, k.last_used_at, \
         t.status AS tenant_status FROM api_keys k LEFT JOIN tenants t ON t.id = k.tenant_id WHERE k.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Records that an API key was used at `now`.
pub async fn touch_api_key(db: &Db, id: &str, now: i64) -> Result<(), sqlx::Error> {
    let mut turn = db.turn().await?;
    sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *turn)
        .await?;
    Ok(())
}

/// Adds a spec unless one with its id exists (which is left as it is).
pub async fn seed_spec(tx: &mut WriteTx, s: &Spec, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO specs (id, name, width, height, fps, bitrate_min_kbps, bitrate_max_kbps, cpu_millis, \
         memory_mb, price_per_minute_micros, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&s.id)
    .bind(&s.name)
    .bind(i64::from(s.width))
    .bind(i64::from(s.height))
    .bind(i64::from(s.fps))
    .bind(i64::from(s.bitrate_min_kbps))
    .bind(i64::from(s.bitrate_max_kbps))
    .bind(i64::from(s.cpu_millis))
    .bind(i64::from(s.memory_mb))
    .bind(s.price_per_minute_micros)
    .bind(now)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}
