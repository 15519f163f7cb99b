//! Tenants, and the key a tenant's backend signs player tokens with.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TenantStatus {
    Active,
    Suspended,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub status: TenantStatus,
    /// Allocation priority tier: higher tiers are served first when capacity is short.
    pub priority_tier: i32,
    /// Bytes of packages the tenant may store (its own setting or the platform default).
    pub storage_quota_bytes: u64,
    /// Bytes its versions take (every version but FAILED ones; an upload counts from its start).
    pub package_bytes: u64,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateTenant {
    pub name: String,
    #[serde(default)]
    pub priority_tier: i32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateTenant {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<TenantStatus>,
    #[serde(default)]
    pub priority_tier: Option<i32>,
    /// Bytes of packages the tenant may store (operators).
    #[serde(default)]
    pub storage_quota_bytes: Option<u64>,
}

/// The key a tenant's backend signs player tokens with (shown once).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PlayerKey {
    pub tenant_id: String,
    pub secret: String,
}
