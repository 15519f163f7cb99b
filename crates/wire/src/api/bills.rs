//! Bills: a tenant's statement for one billing period (a calendar month unless the platform
//! is configured otherwise) — billable minutes per spec at each spec's price, ordered
//! concurrency pro rata at each order's price, and any late usage carried from a period that
//! had already closed. The open period's statement is computed as it stands; a closed one
//! never changes.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Whether a statement can still change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BillState {
    /// The period under way: the statement so far.
    Open,
    /// The period ended and its bill was closed: it never changes again.
    Closed,
}

/// What a statement line charges for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BillItemKind {
    /// Plays of one spec that ended in the period, at one price per minute: `quantity` is
    /// their billable seconds.
    Usage,
    /// One play that ended in an earlier, already closed period but whose ledger row came
    /// after that bill closed: `quantity` is its billable seconds; it names the play and the
    /// bill of the period it ended in.
    Late,
    /// An order's concurrency: `quantity` units for `covered_secs` of the period, at the
    /// order's price per unit and whole period.
    Concurrency,
}

/// One line of a statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BillItem {
    pub kind: BillItemKind,
    pub spec_id: String,
    /// Plays counted (usage and late lines).
    pub sessions: u64,
    /// Billable seconds (usage, late) or units of concurrency (concurrency; the most in force
    /// at any time of the period).
    pub quantity: u64,
    /// Seconds of the period the order was in force (concurrency lines; 0 otherwise).
    pub covered_secs: u64,
    /// Per minute of play (usage, late) or per unit and whole period (concurrency).
    pub unit_price_micros: i64,
    /// Usage: the sum of the plays' ledger amounts; concurrency: units × price × the share of
    /// the period each was in force, rounded down to the micro-unit.
    pub amount_micros: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The closed bill of the period a late play ended in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_from_bill_id: Option<String>,
}

/// A tenant's statement for one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Bill {
    /// Stable: the open statement already carries the id its closed bill will have.
    pub id: String,
    pub tenant_id: String,
    pub period_start: Timestamp,
    pub period_end: Timestamp,
    pub state: BillState,
    /// ISO 4217 code of the platform's currency.
    pub currency: String,
    /// Billable seconds of the usage and late lines.
    pub usage_secs: u64,
    pub usage_micros: i64,
    pub concurrency_micros: i64,
    pub total_micros: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Timestamp>,
    /// Empty in lists; every line when one bill is read.
    #[serde(default)]
    pub items: Vec<BillItem>,
}
