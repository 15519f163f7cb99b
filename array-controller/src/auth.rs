//! Who is calling and what they may do.
//!
//! - Passwords are hashed with argon2id (PHC strings in `accounts.password_hash`); sign-in is
//!   guarded by [`SignInGuard`] (bounded password checks, failed sign-ins throttled).
//! - Sign-in tokens (`prt_…`) and API keys (`prk_<key id>_<secret>`) are random; only their
//!   SHA-256 is stored. Both are sent as `Authorization: Bearer …` and both expire.
//! - [`Caller`] is the extractor every protected handler takes; its `require_*` methods are the
//!   whole authorization model (see [`Role`] for what each role may do). Objects of another
//!   tenant answer `NOT_FOUND`, exactly as objects that do not exist, so ids leak nothing.

use crate::db::{self, Db};
use crate::error::{ApiError, ApiResult};
use crate::ratelimit::RateLimiter;
use crate::state::AppState;
use crate::store::accounts;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use playrack_wire::Timestamp;
use playrack_wire::api::{Principal, PrincipalKind, Role, TenantStatus};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::time::Instant;

pub const TOKEN_PREFIX: &str = "prt_";
pub const API_KEY_PREFIX: &str = "prk_";
pub const MIN_PASSWORD_LEN: usize = 10;

/// Hashes a password with argon2id and a fresh salt.
pub fn hash_password(password: &str) -> String {
    let salt =
        SaltString::encode_b64(&rand::random::<[u8; 16]>()).expect("16 bytes is a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters cannot fail")
        .to_string()
}

pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Compares two equal-length ASCII strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

pub fn validate_password(password: &str) -> ApiResult<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(ApiError::Validation(format!(
            "password must be at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    Ok(())
}

/// Signs in: checks the password and stores a new token. `None` when the email or password is
/// wrong (the two are not told apart).
pub async fn login(
    db: &Db,
    guard: &SignInGuard,
    email: &str,
    password: &str,
    client: IpAddr,
    ttl_secs: u64,
) -> ApiResult<Option<(String, Timestamp, Principal)>> {
    let email = email.trim().to_lowercase();
    guard.admit(&email, client)?;
    let row = accounts::sign_in_account(&db.pool, &email).await?;
    // Spend the same time on an unknown account as on a real check, so response times do not
    // reveal which accounts exist.
    let hash = match &row {
        Some(r) => r.password_hash.clone(),
        None => DUMMY_HASH
            .get_or_init(|| hash_password("not-a-password"))
            .clone(),
    };
    let verified = guard.verify(hash, password.to_owned()).await?;
    let Some(row) = row else {
        guard.failed(&email, client);
        return Ok(None);
    };
    if !verified {
        guard.failed(&email, client);
        // The account's owner and its tenant's admins see the attempts (few: throttled).
        let mut tx = db.write().await?;
        crate::audit::record_as(
            &mut tx,
            &row.id,
            row.tenant_id.as_deref(),
            "account.sign_in_failed",
            &row.id,
            serde_json::json!({"address": client.to_string()}),
        )
        .await?;
        tx.commit().await?;
        return Ok(None);
    }
    let principal = Principal {
        role: accounts::parse_role(&row.role)?,
        id: row.id,
        kind: PrincipalKind::Account,
        tenant_id: row.tenant_id,
        email: Some(row.email),
    };
    let token = format!("{TOKEN_PREFIX}{}", db::random_token(40));
    let now = crate::now();
    let expires_at = now.plus_secs(ttl_secs as i64);
    let mut tx = db.write().await?;
    accounts::insert_token(
        &mut tx,
        &sha256_hex(token.as_bytes()),
        &principal.id,
        now.millis(),
        expires_at.millis(),
    )
    .await?;
    tx.commit().await?;
    Ok(Some((token, expires_at, principal)))
}

static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// What keeps sign-in from being a way in or a way down:
/// - argon2id runs on the blocking pool, at most one check per two cores at a time (the other
///   half of the machine stays with plays and boards); a sign-in that
///   waits longer than [`SignInGuard::QUEUE_WAIT`] for its turn is refused (`BUSY`) instead of
///   queueing, so a flood of sign-ins never starves the async workers (agents' heartbeats,
///   players' requests);
/// - failed sign-ins are throttled per account and address (5, then one a minute: one address
///   guesses slowly), per account (20, then one every 5 s: many addresses together guess
///   slowly too, and a real user waits seconds, not hours) and per address (30, then one a
///   second: one address trying many accounts is slowed too, while an office behind one
///   address, whose people rarely mistype, is not). A throttled sign-in is refused
///   (`RATE_LIMITED`, `Retry-After`) before any password check.
pub struct SignInGuard {
    checks: tokio::sync::Semaphore,
    by_pair: RateLimiter<(String, IpAddr)>,
    by_account: RateLimiter<String>,
    by_address: RateLimiter<IpAddr>,
}

impl Default for SignInGuard {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        SignInGuard {
            checks: tokio::sync::Semaphore::new((cores / 2).max(1)),
            by_pair: RateLimiter::per(std::time::Duration::from_secs(60), 5),
            by_account: RateLimiter::per(std::time::Duration::from_secs(5), 20),
            by_address: RateLimiter::per(std::time::Duration::from_secs(1), 30),
        }
    }
}

impl SignInGuard {
    /// How long a sign-in waits for a password check before it is refused as busy.
    pub const QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

    fn admit(&self, email: &str, client: IpAddr) -> ApiResult<()> {
        let now = std::time::Instant::now();
        let pair = (email.to_owned(), client);
        let wait = [
            self.by_pair.peek(&pair, now),
            self.by_account.peek(&email.to_owned(), now),
            self.by_address.peek(&client, now),
        ]
        .into_iter()
        .filter_map(Result::err)
        .max();
        match wait {
            Some(wait) => {
                metrics::counter!("playrack_logins_total", "result" => "throttled").increment(1);
                Err(ApiError::RateLimited {
                    retry_after_secs: wait.as_secs().max(1),
                })
            }
            None => Ok(()),
        }
    }

    async fn verify(&self, hash: String, password: String) -> ApiResult<bool> {
        let Ok(Ok(_permit)) = tokio::time::timeout(Self::QUEUE_WAIT, self.checks.acquire()).await
        else {
            metrics::counter!("playrack_logins_total", "result" => "busy").increment(1);
            return Err(ApiError::coded(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "BUSY",
                "too many sign-ins at once; try again in a few seconds",
            ));
        };
        metrics::counter!("playrack_password_checks_total").increment(1);
        tokio::task::spawn_blocking(move || verify_password(&hash, &password))
            .await
            .map_err(|e| ApiError::Internal(format!("password check: {e}")))
    }

    fn failed(&self, email: &str, client: IpAddr) {
        let now = std::time::Instant::now();
        let _ = self.by_pair.check(&(email.to_owned(), client), now);
        let _ = self.by_account.check(&email.to_owned(), now);
        let _ = self.by_address.check(&client, now);
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    /// Whether the caller's tenant is suspended (tenant roles only): suspended tenants can read
    /// but not change anything.
    pub tenant_suspended: bool,
    /// The bearer token's hash, for sign-out.
    pub token_hash: String,
}

impl Caller {
    pub fn id(&self) -> &str {
        &self.principal.id
    }

    pub fn role(&self) -> Role {
        self.principal.role
    }

    /// `None` for operators (who see every tenant), the caller's tenant otherwise.
    pub fn tenant_scope(&self) -> Option<&str> {
        if self.role().is_operator() {
            None
        } else {
            self.principal.tenant_id.as_deref()
        }
    }

    /// The tenant a request is about: the caller's own (naming another tenant is 404, as if it
    /// did not exist), or for operators the one they name, if any.
    pub fn tenant_asked(&self, asked: Option<&str>) -> ApiResult<Option<String>> {
        match (self.tenant_scope(), asked) {
            (Some(mine), Some(asked)) if mine != asked => Err(ApiError::NotFound("tenant")),
            (Some(mine), _) => Ok(Some(mine.to_owned())),
            (None, asked) => Ok(asked.map(str::to_owned)),
        }
    }

    /// Any operator.
    pub fn require_operator(&self) -> ApiResult<()> {
        if self.role().is_operator() {
            Ok(())
        } else {
            Err(ApiError::Forbidden("this needs an operator role".into()))
        }
    }

    /// An operator admin.
    pub fn require_operator_admin(&self) -> ApiResult<()> {
        if self.role() == Role::OperatorAdmin {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "this needs the operator-admin role".into(),
            ))
        }
    }

    /// May read objects of `tenant_id` (`what` names the object for the not-found answer).
    pub fn require_tenant_read(&self, tenant_id: &str, what: &'static str) -> ApiResult<()> {
        match self.tenant_scope() {
            None => Ok(()),
            Some(mine) if mine == tenant_id => Ok(()),
            Some(_) => Err(ApiError::NotFound(what)),
        }
    }

    /// May change games, versions, deployments and links of `tenant_id`.
    pub fn require_tenant_write(&self, tenant_id: &str, what: &'static str) -> ApiResult<()> {
        self.require_tenant_read(tenant_id, what)?;
        match self.role() {
            Role::OperatorAdmin => Ok(()),
            Role::TenantAdmin | Role::TenantDeveloper => self.require_not_suspended(),
            other => Err(ApiError::Forbidden(format!(
                "the {} role can only read",
                other.as_str()
            ))),
        }
    }

    /// May manage accounts and API keys of `tenant_id`.
    pub fn require_tenant_admin(&self, tenant_id: &str, what: &'static str) -> ApiResult<()> {
        self.require_tenant_read(tenant_id, what)?;
        match self.role() {
            Role::OperatorAdmin => Ok(()),
            Role::TenantAdmin => self.require_not_suspended(),
            other => Err(ApiError::Forbidden(format!(
                "managing accounts and keys needs tenant-admin, not {}",
                other.as_str()
            ))),
        }
    }

    fn require_not_suspended(&self) -> ApiResult<()> {
        if self.tenant_suspended {
            Err(ApiError::Forbidden(
                "the tenant is suspended: changes are refused".into(),
            ))
        } else {
            Ok(())
        }
    }

    /// Whether this caller may hand out `role` (no one grants more than they have).
    pub fn may_grant(&self, role: Role) -> bool {
        match self.role() {
            Role::OperatorAdmin => true,
            Role::TenantAdmin => !role.is_operator(),
            Role::TenantDeveloper => matches!(role, Role::TenantDeveloper | Role::TenantViewer),
            _ => false,
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthenticated(
                "send `Authorization: Bearer <token or API key>`",
            ))?;
        let bearer = bearer_of(header).ok_or(ApiError::Unauthenticated(
            "the Authorization header must use the Bearer scheme",
        ))?;
        let caller = authenticate(&state.db, bearer).await?;
        if let Err(wait) = state
            .key_limiter
            .check(&caller.principal.id, Instant::now())
        {
            metrics::counter!("playrack_rate_limited_total", "by" => "key").increment(1);
            return Err(ApiError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            });
        }
        Ok(caller)
    }
}

/// Whether a caller's tenant status (none for operators) is suspended.
fn suspended(tenant_status: Option<&str>) -> bool {
    tenant_status.map(accounts::parse_tenant_status) == Some(TenantStatus::Suspended)
}

const INVALID: ApiError = ApiError::Unauthenticated("the token or API key is invalid or expired");

/// The secret of an `Authorization: Bearer <secret>` value (the scheme's name is
/// case-insensitive, RFC 9110 §11.1).
pub fn bearer_of(authorization: &str) -> Option<&str> {
    authorization
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("Bearer"))
        .map(|(_, secret)| secret.trim())
}

/// The bearer secret a request carries, if any.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    bearer_of(
        headers
            .get(axum::http::header::AUTHORIZATION)?
            .to_str()
            .ok()?,
    )
}

/// Resolves a bearer secret to its caller.
pub async fn authenticate(db: &Db, bearer: &str) -> ApiResult<Caller> {
    let now = crate::now();
    let token_hash = sha256_hex(bearer.as_bytes());
    if bearer.starts_with(TOKEN_PREFIX) {
        let row = accounts::token_caller(&db.pool, &token_hash, now.millis())
            .await?
            .ok_or(INVALID)?;
        let tenant_suspended = suspended(row.tenant_status.as_deref());
        let principal = Principal {
            role: accounts::parse_role(&row.role)?,
            id: row.id,
            kind: PrincipalKind::Account,
            tenant_id: row.tenant_id,
            email: Some(row.email),
        };
        return Ok(Caller {
            principal,
            tenant_suspended,
            token_hash,
        });
    }
    if let Some(rest) = bearer.strip_prefix(API_KEY_PREFIX) {
        let (key_suffix, secret) = rest.split_once('_').ok_or(INVALID)?;
        let key_id = format!("key_{key_suffix}");
        let row = accounts::key_caller(&db.pool, &key_id)
            .await?
            .ok_or(INVALID)?;
        if !constant_time_eq(&row.secret_hash, &sha256_hex(secret.as_bytes())) {
            return Err(INVALID);
        }
        if row.revoked_at.is_some() || row.expires_at.is_some_and(|e| e <= now.millis()) {
            return Err(INVALID);
        }
        // Record use at most once a minute per key, to keep reads cheap.
        if row.last_used_at.is_none_or(|t| now.millis() - t > 60_000) {
            accounts::touch_api_key(db, &key_id, now.millis()).await?;
        }
        let principal = Principal {
            id: key_id,
            kind: PrincipalKind::ApiKey,
            role: accounts::parse_role(&row.role)?,
            tenant_id: row.tenant_id,
            email: None,
        };
        return Ok(Caller {
            principal,
            tenant_suspended: suspended(row.tenant_status.as_deref()),
            token_hash,
        });
    }
    Err(INVALID)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_with_the_right_secret() {
        let h = hash_password("correct horse battery");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password(&h, "correct horse battery"));
        assert!(!verify_password(&h, "correct horse batterx"));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn one_address_trying_many_accounts_is_slowed_down() {
        let guard = SignInGuard::default();
        let from: IpAddr = "198.51.100.7".parse().unwrap();
        for i in 0..30 {
            let email = format!("user{i}@example.com");
            assert!(guard.admit(&email, from).is_ok(), "attempt {i}");
            guard.failed(&email, from);
        }
        let refused = guard.admit("user30@example.com", from);
        assert!(
            matches!(
                refused,
                Err(ApiError::RateLimited {
                    retry_after_secs: 1
                })
            ),
            "{refused:?}"
        );
        // Another address is not held up by this one.
        let other: IpAddr = "198.51.100.8".parse().unwrap();
        assert!(guard.admit("user30@example.com", other).is_ok());
    }
}
