//! The usage ledger and usage reports.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::play::EndReason;

/// One row of the usage ledger.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct LedgerEntry {
    pub session_id: String,
    pub tenant_id: String,
    pub game_id: String,
    pub spec_id: String,
    pub room_id: String,
    pub board_id: String,
    pub user: String,
    pub end_reason: EndReason,
    pub reserved_at: Timestamp,
    #[serde(default)]
    pub started_at: Option<Timestamp>,
    pub ended_at: Timestamp,
    pub billable_secs: u64,
    pub price_per_minute_micros: i64,
    pub amount_micros: i64,
}

/// One aggregate of the ledger.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct UsageRow {
    /// The UTC day (`YYYY-MM-DD`), when grouped by day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_id: Option<String>,
    pub sessions: u64,
    pub billable_secs: u64,
    pub amount_micros: i64,
}

/// Aggregated usage.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct UsageReport {
    /// The tenant reported on (absent: every tenant, for operators).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    pub from: Timestamp,
    pub to: Timestamp,
    pub items: Vec<UsageRow>,
}
