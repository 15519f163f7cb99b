//! Orders: a tenant's purchased concurrency.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Active,
    Cancelled,
}

/// A tenant's purchase: up to `concurrency` simultaneous instances of one spec, in a region or
/// a set of rooms, between two instants.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Order {
    pub id: String,
    pub tenant_id: String,
    pub spec_id: String,
    /// Covers every room of this region …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_id: Option<String>,
    /// … or exactly these rooms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub room_ids: Vec<String>,
    pub concurrency: u32,
    pub valid_from: Timestamp,
    pub valid_until: Timestamp,
    /// Allocation priority inside the tenant's tier.
    pub priority: i32,
    pub status: OrderStatus,
    /// The price of one unit of concurrency for one whole billing period (charged pro rata
    /// to the part of a period the order is in force).
    #[serde(default)]
    pub price_per_period_micros: i64,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateOrder {
    pub tenant_id: String,
    pub spec_id: String,
    #[serde(default)]
    pub region_id: Option<String>,
    #[serde(default)]
    pub room_ids: Vec<String>,
    pub concurrency: u32,
    pub valid_from: Timestamp,
    pub valid_until: Timestamp,
    #[serde(default)]
    pub priority: i32,
    /// The price of one unit of concurrency for one whole billing period (default 0).
    #[serde(default)]
    pub price_per_period_micros: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateOrder {
    #[serde(default)]
    pub concurrency: Option<u32>,
    #[serde(default)]
    pub valid_until: Option<Timestamp>,
    #[serde(default)]
    pub priority: Option<i32>,
    #[serde(default)]
    pub status: Option<OrderStatus>,
    #[serde(default)]
    pub price_per_period_micros: Option<i64>,
}
