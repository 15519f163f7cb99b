//! Accounts, roles, sign-in and API keys.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a principal may do. Operators see everything (viewers only read); tenant roles see only
/// their own tenant's objects: admins also manage users and keys, developers manage games,
/// versions, deployments and links, viewers only read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    OperatorAdmin,
    OperatorViewer,
    TenantAdmin,
    TenantDeveloper,
    TenantViewer,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::OperatorAdmin,
        Role::OperatorViewer,
        Role::TenantAdmin,
        Role::TenantDeveloper,
        Role::TenantViewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::OperatorAdmin => "operator-admin",
            Role::OperatorViewer => "operator-viewer",
            Role::TenantAdmin => "tenant-admin",
            Role::TenantDeveloper => "tenant-developer",
            Role::TenantViewer => "tenant-viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn is_operator(self) -> bool {
        matches!(self, Role::OperatorAdmin | Role::OperatorViewer)
    }
}

/// Sign in with an account's email and password; the answer carries a bearer token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`. Shown once; the server keeps only its hash.
    pub token: String,
    pub expires_at: Timestamp,
    pub principal: Principal,
}

/// Who is calling: an account (signed in) or an API key acting with its own role.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Principal {
    /// The account id (`acc_…`) or the API key id (`key_…`).
    pub id: String,
    pub kind: PrincipalKind,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// The account's email; absent for API keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    Account,
    ApiKey,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateAccount {
    pub email: String,
    /// At least 10 characters.
    pub password: String,
    pub role: Role,
    /// Required for tenant roles, forbidden for operator roles. Tenant admins may only create
    /// accounts in their own tenant (and may omit it).
    #[serde(default)]
    pub tenant_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateApiKey {
    /// What the key is for, e.g. "CI uploader".
    pub name: String,
    /// The key's role: at most the creator's own.
    pub role: Role,
    /// When the key stops working: in the future and within a year; 90 days when absent.
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
}

/// An API key as listed: never the secret.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    /// The recognisable start of the secret (`prk_` + key id), safe to show.
    pub prefix: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
}

/// The answer to creating a key: the only time the secret is shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedApiKey {
    pub key: ApiKey,
    /// `prk_<key id>_<secret>`: send as `Authorization: Bearer <secret>`.
    pub secret: String,
}
