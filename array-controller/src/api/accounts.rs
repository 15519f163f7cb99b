//! Sign-in, accounts and API keys.

use crate::audit;
use crate::auth::{self, Caller};
use crate::db::{self, PageParams, page_from};
use crate::error::{ApiError, ApiResult};
use crate::http::{Json, Query};
use crate::state::AppState;
use crate::store::accounts::{self, AccountRow, ApiKeyRow, NewAccount, NewApiKey};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use playrack_wire::Timestamp;
use playrack_wire::api::*;
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
    responses((status = 200, body = LoginResponse), (status = 401, body = playrack_wire::Problem),
        (status = 429, body = playrack_wire::Problem, description = "too many failed sign-ins for this account"),
        (status = 503, body = playrack_wire::Problem, description = "too many sign-ins at once")))]
async fn login(
    State(state): State<AppState>,
    crate::http::ClientIp(client): crate::http::ClientIp,
    Json(req): Json<LoginRequest>,
) -> ApiResult<axum::Json<LoginResponse>> {
    match auth::login(
        &state.db,
        &state.sign_ins,
        &req.email,
        &req.password,
        client,
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
    accounts::delete_token(&state.db, &caller.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who am I.
#[utoipa::path(get, path = "/v1/me", tag = "auth", responses((status = 200, body = Principal)))]
async fn me(caller: Caller) -> axum::Json<Principal> {
    axum::Json(caller.principal)
}

fn account_from(row: AccountRow) -> Result<Account, sqlx::Error> {
    Ok(Account {
        role: accounts::parse_role(&row.role)?,
        id: row.id,
        email: row.email,
        tenant_id: row.tenant_id,
        created_at: Timestamp(row.created_at),
    })
}

pub(crate) fn validate_email(email: &str) -> ApiResult<String> {
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
    let new = NewAccount {
        id: &account.id,
        email: &account.email,
        password_hash: &hash,
        role: account.role,
        tenant_id: account.tenant_id.as_deref(),
        created_at: account.created_at.millis(),
    };
    accounts::insert_account(&mut tx, &new)
        .await
        .map_err(|e| match ApiError::from(e) {
            ApiError::Conflict { .. } => {
                ApiError::conflict("EMAIL_TAKEN", "an account with that email exists")
            }
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
    if accounts::tenant_exists(tx, tenant_id).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound("tenant"))
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
    let rows = accounts::accounts_page(
        &state.db.pool,
        caller.tenant_scope().unwrap_or(""),
        &page.cursor(),
        page.limit() + 1,
    )
    .await?;
    let items = rows
        .into_iter()
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
    let row = accounts::account(&state.db.pool, &id)
        .await?
        .ok_or(ApiError::NotFound("account"))?;
    let account = account_from(row)?;
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
    accounts::delete_account(&mut tx, &id, crate::now().millis()).await?;
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

fn key_from(row: ApiKeyRow) -> Result<ApiKey, sqlx::Error> {
    Ok(ApiKey {
        prefix: format!(
            "{}{}",
            auth::API_KEY_PREFIX,
            row.id.trim_start_matches("key_")
        ),
        role: accounts::parse_role(&row.role)?,
        id: row.id,
        name: row.name,
        tenant_id: row.tenant_id,
        created_at: Timestamp(row.created_at),
        expires_at: row.expires_at.map(Timestamp),
        last_used_at: row.last_used_at.map(Timestamp),
        revoked_at: row.revoked_at.map(Timestamp),
    })
}

/// Creates an API key; the secret is in this answer only.
/// How long an API key lasts when its creator does not say, and at most (days).
const API_KEY_DEFAULT_DAYS: i64 = 90;
const API_KEY_MAX_DAYS: i64 = 365;

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
    let now = crate::now();
    // Every key expires: in 90 days unless asked otherwise, in a year at most.
    let expires_at = req
        .expires_at
        .unwrap_or(now.plus_secs(API_KEY_DEFAULT_DAYS * 86_400));
    if expires_at <= now || expires_at > now.plus_secs(API_KEY_MAX_DAYS * 86_400) {
        return Err(ApiError::Validation(format!(
            "expires_at must be in the future and within {API_KEY_MAX_DAYS} days"
        )));
    }
    let id = db::new_id("key");
    let secret = db::random_token(40);
    let full = format!(
        "{}{}_{secret}",
        auth::API_KEY_PREFIX,
        id.trim_start_matches("key_")
    );
    let mut tx = state.db.write().await?;
    let secret_hash = auth::sha256_hex(secret.as_bytes());
    let new = NewApiKey {
        id: &id,
        name: req.name.trim(),
        secret_hash: &secret_hash,
        role: req.role,
        tenant_id: tenant.as_deref(),
        created_by: caller.id(),
        created_at: now.millis(),
        expires_at: Some(expires_at.millis()),
    };
    let key = key_from(accounts::insert_api_key(&mut tx, &new).await?)?;
    audit::record(
        &mut tx,
        &caller,
        tenant.as_deref(),
        "api_key.create",
        &id,
        serde_json::json!({"name": req.name, "role": req.role}),
    )
    .await?;
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
    let rows = accounts::api_keys_page(
        &state.db.pool,
        caller.tenant_scope().unwrap_or(""),
        &page.cursor(),
        page.limit() + 1,
    )
    .await?;
    let items = rows
        .into_iter()
        .map(key_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(axum::Json(page_from(items, &page, |k| k.id.clone())))
}

/// Revokes an API key at once.
#[utoipa::path(post, path = "/v1/api-keys/{id}/revoke", tag = "auth", responses((status = 200, body = ApiKey)))]
async fn revoke_api_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ApiKey>> {
    let row = accounts::api_key(&state.db.pool, &id)
        .await?
        .ok_or(ApiError::NotFound("API key"))?;
    let key = key_from(row)?;
    match &key.tenant_id {
        Some(t) => caller.require_tenant_admin(t, "API key")?,
        None => caller.require_operator_admin()?,
    }
    let mut tx = state.db.write().await?;
    let revoked = accounts::revoke_api_key(&mut tx, &id, crate::now().millis()).await?;
    audit::record(
        &mut tx,
        &caller,
        key.tenant_id.as_deref(),
        "api_key.revoke",
        &id,
        serde_json::json!({"name": key.name}),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(key_from(revoked)?))
}
