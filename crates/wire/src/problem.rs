//! [`Problem`]: the body of every error the HTTP API returns (`application/problem+json`,
//! RFC 9457), with a stable machine-readable `code` that clients switch on.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An error answer. `code` is stable across releases; `detail` is for people and may change.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Problem {
    /// A URI naming the problem type: `https://playrack.dev/problems/<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// A short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// The stable code, e.g. `VALIDATION_FAILED`, `APK_ZIP_BOMB`.
    pub code: String,
    /// What went wrong in this case, and what to fix.
    pub detail: String,
    /// The request id (also in the `x-request-id` header), for support and logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Problem {
    pub fn new(status: u16, code: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            type_uri: format!(
                "https://playrack.dev/problems/{}",
                code.to_ascii_lowercase()
            ),
            title: title.to_owned(),
            status,
            code: code.to_owned(),
            detail: detail.into(),
            request_id: None,
        }
    }
}
