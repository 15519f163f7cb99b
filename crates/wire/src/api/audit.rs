//! The audit log.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One mutation: who did what to which object, when, and a summary of the change.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub id: String,
    pub at: Timestamp,
    /// The principal's id (`acc_…`, `key_…`) or `system`.
    pub actor: String,
    /// The tenant that owns the object, if any (tenants read only their own entries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// `<object type>.<verb>`, e.g. `game.create`, `version.publish`.
    pub action: String,
    pub object_id: String,
    pub summary: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}
