//! Webhooks: endpoints, deliveries and their attempts.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A registered endpoint (its secret is shown only at creation).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Webhook {
    pub id: String,
    pub tenant_id: String,
    pub url: String,
    /// Subscribed event types: `session.started`, `session.ended`, `session.duration`, `bill.closed`.
    pub events: Vec<String>,
    pub created_at: Timestamp,
}

/// Registers an endpoint.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// An `http` or `https` URL.
    pub url: String,
    /// A non-empty subset of `session.started`, `session.ended`, `session.duration`, `bill.closed`.
    pub events: Vec<String>,
    /// Operators: the tenant to register it for (tenants register for themselves).
    #[serde(default)]
    pub tenant_id: Option<String>,
}

/// A new endpoint with its signing secret — the only time the secret is shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    pub secret: String,
}

/// One attempt to deliver an event.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct DeliveryAttempt {
    /// 1-based.
    pub attempt: u32,
    pub at: Timestamp,
    /// The HTTP status the endpoint answered, if it answered.
    #[serde(default)]
    pub status_code: Option<u16>,
    #[serde(default)]
    pub error: Option<String>,
    pub duration_ms: u64,
    /// When the next attempt is due (none after a success or the last attempt).
    #[serde(default)]
    pub next_retry_at: Option<Timestamp>,
}

/// An event's delivery to one endpoint, with its attempts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct WebhookDelivery {
    pub id: String,
    pub webhook_id: String,
    pub event_id: String,
    pub event_type: String,
    /// `pending`, `delivered` or `failed` (gave up).
    pub state: String,
    pub attempts: u32,
    #[serde(default)]
    pub last_status: Option<u16>,
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default)]
    pub next_retry_at: Option<Timestamp>,
    pub created_at: Timestamp,
    #[serde(default)]
    pub delivered_at: Option<Timestamp>,
    pub log: Vec<DeliveryAttempt>,
}
