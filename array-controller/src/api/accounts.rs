//! Sign-in, accounts and API keys.

use crate::audit;
use crate::auth::{self, Caller};
use crate::db::{self, PageParams, page_from, ts, ts_opt};
use crate::error::{ApiError, ApiResult};
use crate::http::{Json, Query};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use playrack_wire::api::*;
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(create_account, list_accounts))
        .routes(routes!(delete_account))
        .routes(routes!(create_api_key, list_api_keys))
        .routes(routes!(revoke_api_key))
}

/// Signs in with email and password.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = playrack_wire::Problem)))]
async fn login(
    State(state): State<AppState>,
    Json(req): Json<LoginRequest>,
) -> ApiResult<axum::Json<LoginResponse>> {
    match auth::login(
        &state.db,
        &req.email,
        &req.password,
        state.config.token_ttl_secs,
    )
    .await?
    {
        Some((token, expires_at, principal)) => {
            metrics::counter!("playrack_logins_total", "result" => "ok").increment(1);
            Ok(axum::Json(LoginResponse {
                token,
                expires_at,
                principal,
            }))
        }
        None => {
            metrics::counter!("playrack_logins_total", "result" => "refused").increment(1);
            Err(ApiError::Unauthenticated("wrong email or password"))
        }
    }
}

/// Ends the current sign-in token.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", responses((status = 204)))]
async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    sqlx::query("DELETE FROM auth_tokens WHERE token_hash = $1")
        .bind(&caller.token_hash)
        .execute(&state.db.pool)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who am I.
#[utoipa::path(get, path = "/v1/me", tag = "auth", responses((status = 200, body = Principal)))]
async fn me(caller: Caller) -> axum::Json<Principal> {
    axum::Json(caller.principal)
}

fn account_from(row: &AnyRow) -> Result<Account, sqlx::Error> {
    Ok(Account {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        role: auth::parse_role(&row.try_get::<String, _>("role")?)?,
        tenant_id: row.try_get("tenant_id")?,
        created_at: ts(row, "created_at")?,
    })
}

fn validate_email(email: &str) -> ApiResult<String> {
    let email = email.trim().to_lowercase();
    let ok = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(char::is_whitespace);
    if ok {
        Ok(email)
    } else {
        Err(ApiError::Validation(format!(
            "`{email}` is not an email address"
        )))
    }
}

/// Resolves which tenant a new account or key belongs to, and checks the caller may create it.
fn target_tenant(
    caller: &Caller,
    role: Role,
    tenant_id: Option<String>,
) -> ApiResult<Option<String>> {
    if !caller.may_grant(role) {
        return Err(ApiError::Forbidden(format!(
            "you cannot grant the {} role",
            role.as_str()
        )));
    }
    if role.is_operator() {
        caller.require_operator_admin()?;
        if tenant_id.is_some() {
            return Err(ApiError::Validation(
                "operator roles belong to no tenant: drop tenant_id".into(),
            ));
        }
        return Ok(None);
    }
    let tenant = match (tenant_id, caller.tenant_scope()) {
        (Some(t), _) => t,
        (None, Some(mine)) => mine.to_owned(),
        (None, None) => return Err(ApiError::Validation("tenant roles need a tenant_id".into())),
    };
    caller.require_tenant_admin(&tenant, "tenant")?;
    Ok(Some(tenant))
}

/// Creates an account (operators: any; tenant admins: in their tenant).
#[utoipa::path(post, path = "/v1/accounts", tag = "auth", request_body = CreateAccount,
    responses((status = 201, body = Account)))]
async fn create_account(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateAccount>,
) -> ApiResult<(StatusCode, axum::Json<Account>)> {
    let tenant = target_tenant(&caller, req.role, req.tenant_id)?;
    let email = validate_email(&req.email)?;
    auth::validate_password(&req.password)?;
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&req.password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let account = Account {
        id: db::new_id("acc"),
        email,
        role: req.role,
        tenant_id: tenant,
        created_at: crate::now(),
    };
    let mut tx = state.db.write().await?;
    if let Some(t) = &account.tenant_id {
        ensure_tenant(&mut tx, t).await?;
    }
    sqlx::query("INSERT INTO accounts (id, email, password_hash, role, tenant_id, created_at) VALUES ($1,$2,$3,$4,$5,$6)")
        .bind(&account.id)
        .bind(&account.email)
        .bind(hash)
        .bind(account.role.as_str())
        .bind(&account.tenant_id)
        .bind(account.created_at.millis())
        .execute(&mut **tx)
        .await
        .map_err(|e| match ApiError::from(e) {
            ApiError::Conflict { .. } => ApiError::conflict("EMAIL_TAKEN", "an account with that email exists"),
            other => other,
        })?;
    audit::record(
        &mut tx,
        &caller,
        account.tenant_id.as_deref(),
        "account.create",
        &account.id,
        serde_json::json!({"email": account.email, "role": account.role}),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(account)))
}

pub(crate) async fn ensure_tenant(tx: &mut db::WriteTx, tenant_id: &str) -> ApiResult<()> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants WHERE id = $1")
        .bind(tenant_id)
        .fetch_one(&mut ***tx)
        .await?;
    if n == 0 {
        Err(ApiError::NotFound("tenant"))
    } else {
        Ok(())
    }
}

/// Lists accounts: all for operators, the tenant's own for tenant admins.
#[utoipa::path(get, path = "/v1/accounts", tag = "auth", params(PageParams),
    responses((status = 200, body = Page<Account>)))]
async fn list_accounts(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<PageParams>,
) -> ApiResult<axum::Json<Page<Account>>> {
    match caller.tenant_scope() {
        None => caller.require_operator()?,
        Some(t) => caller.require_tenant_admin(t, "tenant")?,
    }
    let rows = sqlx::query(
        "SELECT * FROM accounts WHERE ($1 = '' OR tenant_id = $1) AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(caller.tenant_scope().unwrap_or(""))
    .bind(page.cursor())
    .bind(page.limit() + 1)
    .fetch_all(&state.db.pool)
    .await?;
    let items = rows
        .iter()
        .map(account_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(axum::Json(page_from(items, &page, |a| a.id.clone())))
}

/// Deletes an account and its sign-in tokens.
#[utoipa::path(delete, path = "/v1/accounts/{id}", tag = "auth", responses((status = 204)))]
async fn delete_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let row = sqlx::query("SELECT * FROM accounts WHERE id = $1")
        .bind(&id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or(ApiError::NotFound("account"))?;
    let account = account_from(&row)?;
    match &account.tenant_id {
        Some(t) => caller.require_tenant_admin(t, "account")?,
        None => caller.require_operator_admin()?,
    }
    if account.id == caller.id() {
        return Err(ApiError::conflict(
            "CANNOT_DELETE_SELF",
            "you cannot delete the account you are signed in with",
        ));
    }
    let mut tx = state.db.write().await?;
    sqlx::query("DELETE FROM auth_tokens WHERE account_id = $1")
        .bind(&id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM accounts WHERE id = $1")
        .bind(&id)
        .execute(&mut **tx)
        .await?;
    audit::record(
        &mut tx,
        &caller,
        account.tenant_id.as_deref(),
        "account.delete",
        &id,
        serde_json::json!({"email": account.email}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

fn key_from(row: &AnyRow) -> Result<ApiKey, sqlx::Error> {
    let id: String = row.try_get("id")?;
    Ok(ApiKey {
        prefix: format!("{}{}", auth::API_KEY_PREFIX, id.trim_start_matches("key_")),
        id,
        name: row.try_get("name")?,
        role: auth::parse_role(&row.try_get::<String, _>("role")?)?,
        tenant_id: row.try_get("tenant_id")?,
        created_at: ts(row, "created_at")?,
        expires_at: ts_opt(row, "expires_at")?,
        last_used_at: ts_opt(row, "last_used_at")?,
        revoked_at: ts_opt(row, "revoked_at")?,
    })
}

/// Creates an API key; the secret is in this answer only.
#[utoipa::path(post, path = "/v1/api-keys", tag = "auth", request_body = CreateApiKey,
    responses((status = 201, body = CreatedApiKey)))]
async fn create_api_key(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateApiKey>,
) -> ApiResult<(StatusCode, axum::Json<CreatedApiKey>)> {
    let tenant = target_tenant(&caller, req.role, caller.principal.tenant_id.clone())?;
    if req.name.trim().is_empty() || req.name.len() > 100 {
        return Err(ApiError::Validation("name must be 1–100 characters".into()));
    }
    if req.expires_at.is_some_and(|e| e <= crate::now()) {
        return Err(ApiError::Validation(
            "expires_at must be in the future".into(),
        ));
    }
    let id = db::new_id("key");
    let secret = db::random_token(40);
    let full = format!(
        "{}{}_{secret}",
        auth::API_KEY_PREFIX,
        id.trim_start_matches("key_")
    );
    let now = crate::now();
    let mut tx = state.db.write().await?;
    sqlx::query(
        "INSERT INTO api_keys (id, name, secret_hash, role, tenant_id, created_by, created_at, expires_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
    )
    .bind(&id)
    .bind(req.name.trim())
    .bind(auth::sha256_hex(secret.as_bytes()))
    .bind(req.role.as_str())
    .bind(&tenant)
    .bind(caller.id())
    .bind(now.millis())
    .bind(req.expires_at.map(|t| t.millis()))
    .execute(&mut **tx)
    .await?;
    audit::record(
        &mut tx,
        &caller,
        tenant.as_deref(),
        "api_key.create",
        &id,
        serde_json::json!({"name": req.name, "role": req.role}),
    )
    .await?;
    let row = sqlx::query("SELECT * FROM api_keys WHERE id = $1")
        .bind(&id)
        .fetch_one(&mut **tx)
        .await?;
    let key = key_from(&row)?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedApiKey { key, secret: full }),
    ))
}

/// Lists API keys (never their secrets).
#[utoipa::path(get, path = "/v1/api-keys", tag = "auth", params(PageParams),
    responses((status = 200, body = Page<ApiKey>)))]
async fn list_api_keys(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<PageParams>,
) -> ApiResult<axum::Json<Page<ApiKey>>> {
    match caller.tenant_scope() {
        None => caller.require_operator()?,
        Some(t) => caller.require_tenant_admin(t, "tenant")?,
    }
    let rows = sqlx::query(
        "SELECT * FROM api_keys WHERE ($1 = '' OR tenant_id = $1) AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(caller.tenant_scope().unwrap_or(""))
    .bind(page.cursor())
    .bind(page.limit() + 1)
    .fetch_all(&state.db.pool)
    .await?;
    let items = rows.iter().map(key_from).collect::<Result<Vec<_>, _>>()?;
    Ok(axum::Json(page_from(items, &page, |k| k.id.clone())))
}

/// Revokes an API key at once.
#[utoipa::path(post, path = "/v1/api-keys/{id}/revoke", tag = "auth", responses((status = 200, body = ApiKey)))]
async fn revoke_api_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ApiKey>> {
    let row = sqlx::query("SELECT * FROM api_keys WHERE id = $1")
        .bind(&id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or(ApiError::NotFound("API key"))?;
    let key = key_from(&row)?;
    match &key.tenant_id {
        Some(t) => caller.require_tenant_admin(t, "API key")?,
        None => caller.require_operator_admin()?,
    }
    let mut tx = state.db.write().await?;
    sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(crate::now().millis())
        .bind(&id)
        .execute(&mut **tx)
        .await?;
    audit::record(
        &mut tx,
        &caller,
        key.tenant_id.as_deref(),
        "api_key.revoke",
        &id,
        serde_json::json!({"name": key.name}),
    )
    .await?;
    let row = sqlx::query("SELECT * FROM api_keys WHERE id = $1")
        .bind(&id)
        .fetch_one(&mut **tx)
        .await?;
    tx.commit().await?;
    Ok(axum::Json(key_from(&row)?))
}
