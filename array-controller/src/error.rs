//! [`ApiError`]: every way a request can fail, each with an HTTP status and a stable code,
//! rendered as `application/problem+json` (see [`playrack_wire::Problem`]).
//!
//! Handlers return `Result<_, ApiError>`; database and I/O errors convert into `INTERNAL`
//! (logged with the request id, never shown in detail to the caller).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use playrack_wire::Problem;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body or a parameter is wrong; `detail` says what to fix.
    #[error("{0}")]
    Validation(String),
    /// No (valid) credentials.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// Authenticated, but the role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// The object does not exist, or belongs to another tenant (the two are not told apart).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request conflicts with the current state; `code` says how.
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// A more specific failure with its own status and code (uploads, APK rejections).
    #[error("{detail}")]
    Coded {
        status: StatusCode,
        code: &'static str,
        detail: String,
    },
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            detail: detail.into(),
        }
    }

    pub fn coded(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Coded {
            status,
            code,
            detail: detail.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Coded { status, .. } => *status,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Validation(_) => "VALIDATION_FAILED",
            ApiError::Unauthenticated(_) => "UNAUTHENTICATED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::Conflict { code, .. } | ApiError::Coded { code, .. } => code,
            ApiError::RateLimited { .. } => "RATE_LIMITED",
            ApiError::Internal(_) => "INTERNAL",
        }
    }

    pub fn to_problem(&self) -> Problem {
        let status = self.status();
        let detail = match self {
            ApiError::Internal(_) => "an internal error occurred; quote the request id".to_owned(),
            other => other.to_string(),
        };
        let mut p = Problem::new(
            status.as_u16(),
            self.code(),
            status.canonical_reason().unwrap_or("Error"),
            detail,
        );
        p.request_id = crate::http::current_request_id();
        p
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(msg) = &self {
            tracing::error!(request_id = ?crate::http::current_request_id(), "internal error: {msg}");
        }
        let problem = self.to_problem();
        let mut resp = (self.status(), axum::Json(problem)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if resp.status() == StatusCode::UNAUTHORIZED {
            // RFC 9110 §11.6.1: a 401 names the scheme to authenticate with.
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let ApiError::RateLimited { retry_after_secs } = self {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        } else if resp.status() == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(1));
        }
        resp
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if let Some(code) = transient(&e) {
            // Nothing is wrong with the request: the database is restarting, unreachable or
            // chose this transaction to break a deadlock. The client retries (with its
            // idempotency key, if it sent one) after Retry-After.
            tracing::warn!(request_id = ?crate::http::current_request_id(), "{code}: {e}");
            let detail = match code {
                "DATABASE_UNAVAILABLE" => "the database is unavailable; retry shortly",
                _ => "the request collided with another; retry it",
            };
            return ApiError::coded(StatusCode::SERVICE_UNAVAILABLE, code, detail);
        }
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                return ApiError::conflict(
                    "ALREADY_EXISTS",
                    "an object with that name already exists",
                );
            }
            if db.is_foreign_key_violation() {
                return ApiError::Validation("a referenced object does not exist".into());
            }
        }
        ApiError::Internal(e.to_string())
    }
}

/// The database rolled the transaction back to break a deadlock or a serialization conflict
/// (or SQLite was busy): running it again is safe and usually succeeds.
pub fn is_collision(e: &sqlx::Error) -> bool {
    transient(e) == Some("BUSY")
}

/// The code of a database error that says nothing about the request and passes by itself:
/// `DATABASE_UNAVAILABLE` (no connection, the server shutting down or starting up; SQLSTATE
/// classes 08 and 57P) or `BUSY` (a deadlock or serialization failure; SQLite's busy).
fn transient(e: &sqlx::Error) -> Option<&'static str> {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => Some("DATABASE_UNAVAILABLE"),
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some(c) if c.starts_with("08") || c.starts_with("57P") || c == "53300" => {
                Some("DATABASE_UNAVAILABLE")
            }
            Some("40001" | "40P01" | "5" | "6" | "261" | "517" | "773") => Some("BUSY"),
            _ => None,
        },
        _ => None,
    }
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> Self {
        // A full disk (or a quota) is the operator's to fix, and nothing is wrong with the
        // request: say so instead of an internal error.
        const ENOSPC: i32 = 28;
        const EDQUOT: i32 = 122;
        if e.kind() == std::io::ErrorKind::StorageFull
            || matches!(e.raw_os_error(), Some(ENOSPC | EDQUOT))
        {
            return ApiError::coded(
                StatusCode::INSUFFICIENT_STORAGE,
                STORAGE_FULL,
                "the controller's storage is full; nothing was kept, try again later",
            );
        }
        ApiError::Internal(e.to_string())
    }
}

/// The code of a refusal because the controller's disk is full.
pub const STORAGE_FULL: &str = "STORAGE_FULL";

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_that_is_away_is_a_503_to_retry_not_an_internal_error() {
        for e in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
        ] {
            let api = ApiError::from(e);
            assert_eq!(api.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(api.code(), "DATABASE_UNAVAILABLE");
            let resp = api.into_response();
            assert_eq!(resp.headers()[header::RETRY_AFTER], "1");
        }
        let api = ApiError::from(sqlx::Error::RowNotFound);
        assert_eq!(api.code(), "INTERNAL");
    }
}
