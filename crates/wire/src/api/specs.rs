//! Specs: the billable SKUs (resolution, frame rate, bitrate window).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An instance spec: resolution, frame rate and bitrate window, the resources it reserves on a
/// board, and its price. Specs are what tenants buy and what players' sessions are billed by.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Spec {
    /// A readable id chosen by the operator, e.g. `hd-60`.
    pub id: String,
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub bitrate_min_kbps: u32,
    pub bitrate_max_kbps: u32,
    /// CPU reserved per instance, in thousandths of a core.
    pub cpu_millis: u32,
    pub memory_mb: u32,
    /// Price per minute of play in micro-units of the platform currency.
    pub price_per_minute_micros: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateSpec {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub bitrate_min_kbps: Option<u32>,
    #[serde(default)]
    pub bitrate_max_kbps: Option<u32>,
    #[serde(default)]
    pub cpu_millis: Option<u32>,
    #[serde(default)]
    pub memory_mb: Option<u32>,
    #[serde(default)]
    pub price_per_minute_micros: Option<i64>,
}
