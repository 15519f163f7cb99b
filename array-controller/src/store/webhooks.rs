//! Webhook subscriptions (`webhooks`), the delivery outbox (`webhook_deliveries`, one row per
//! event and endpoint), each tenant's queue of them (`webhook_queues`: when it is next due) and
//! the delivery log (`webhook_attempts`, one row per attempt).
//!
//! A delivery's state is mapped to its column text here and nowhere else
//! ([`delivery_state_text`] / [`parse_delivery_state`]).

use crate::db::{Db, WriteTx};
use sqlx::AnyPool;

/// Where a delivery is: waiting for its next attempt, delivered, or failed for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    Pending,
    Delivered,
    Failed,
}

/// A delivery state as the `webhook_deliveries.state` column spells it.
pub fn delivery_state_text(s: DeliveryState) -> &'static str {
    match s {
        DeliveryState::Pending => "pending",
        DeliveryState::Delivered => "delivered",
        DeliveryState::Failed => "failed",
    }
}

/// The state a `webhook_deliveries.state` value names (unknown text reads as `failed`, which
/// is never sent again).
pub fn parse_delivery_state(s: &str) -> DeliveryState {
    match s {
        "pending" => DeliveryState::Pending,
        "delivered" => DeliveryState::Delivered,
        _ => DeliveryState::Failed,
    }
}

/// An endpoint as listed (never its secret).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebhookRow {
    pub id: String,
    pub tenant_id: String,
    pub url: String,
    /// JSON array of event types.
    pub events: String,
    pub created_at: i64,
}

/// What a new endpoint is.
#[derive(Debug, Clone)]
pub struct NewWebhook<'a> {
    pub id: &'a str,
    pub tenant_id: &'a str,
    pub url: &'a str,
    /// JSON array of event types.
    pub events: &'a str,
    pub secret: &'a str,
    pub created_at: i64,
}

/// How many endpoints a tenant has (read in the transaction that adds one).
pub async fn count_for_tenant(tx: &mut WriteTx, tenant_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM webhooks WHERE tenant_id = $1")
        .bind(tenant_id)
        .fetch_one(&mut ***tx)
        .await
}

/// Registers an endpoint.
pub async fn insert(tx: &mut WriteTx, w: &NewWebhook<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhooks (id, tenant_id, url, events, secret, created_at) VALUES ($1,$2,$3,$4,$5,$6)",
    )
    .bind(w.id)
    .bind(w.tenant_id)
    .bind(w.url)
    .bind(w.events)
    .bind(w.secret)
    .bind(w.created_at)
    .execute(&mut ***tx)
    .await?;
    sqlx::query(
        "INSERT INTO webhook_queues (tenant_id) VALUES ($1) ON CONFLICT (tenant_id) DO NOTHING",
    )
    .bind(w.tenant_id)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// Up to `limit` endpoints of `tenant_id` (every tenant's for "") with ids after `cursor`, by id.
pub async fn page(
    pool: &AnyPool,
    tenant_id: &str,
    cursor: &str,
    limit: i64,
) -> Result<Vec<WebhookRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, tenant_id, url, events, created_at FROM webhooks \
         WHERE ($1 = '' OR tenant_id = $1) AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(tenant_id)
    .bind(cursor)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// One endpoint.
pub async fn get(pool: &AnyPool, id: &str) -> Result<Option<WebhookRow>, sqlx::Error> {
    sqlx::query_as("SELECT id, tenant_id, url, events, created_at FROM webhooks WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Removes an endpoint with its deliveries and their attempts; false if it did not exist.
pub async fn delete(tx: &mut WriteTx, id: &str) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE webhook_id = $1)",
    )
    .bind(id)
    .execute(&mut ***tx)
    .await?;
    sqlx::query("DELETE FROM webhook_deliveries WHERE webhook_id = $1")
        .bind(id)
        .execute(&mut ***tx)
        .await?;
    let n = sqlx::query("DELETE FROM webhooks WHERE id = $1")
        .bind(id)
        .execute(&mut ***tx)
        .await?;
    Ok(n.rows_affected() > 0)
}

/// An endpoint's id and the event types it subscribes to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Subscription {
    pub id: String,
    /// JSON array of event types.
    pub events: String,
}

/// A tenant's endpoints with their subscriptions (read in the transaction that queues an event).
pub async fn subscriptions(
    tx: &mut WriteTx,
    tenant_id: &str,
) -> Result<Vec<Subscription>, sqlx::Error> {
    sqlx::query_as("SELECT id, events FROM webhooks WHERE tenant_id = $1")
        .bind(tenant_id)
        .fetch_all(&mut ***tx)
        .await
}

/// What a newly queued delivery is.
#[derive(Debug, Clone)]
pub struct NewDelivery<'a> {
    pub id: &'a str,
    pub webhook_id: &'a str,
    pub tenant_id: &'a str,
    pub event_id: &'a str,
    pub event_type: &'a str,
    /// The exact JSON body sent on every attempt.
    pub payload: &'a str,
    pub now: i64,
}

/// Queues a pending delivery, due at once; false if the event was queued for the endpoint
/// already.
pub async fn queue(tx: &mut WriteTx, d: &NewDelivery<'_>) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "INSERT INTO webhook_deliveries (id, webhook_id, tenant_id, event_id, event_type, payload, state, attempts, \
         next_attempt_at, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,0,$8,$8) \
         ON CONFLICT (event_id, webhook_id) DO NOTHING",
    )
    .bind(d.id)
    .bind(d.webhook_id)
    .bind(d.tenant_id)
    .bind(d.event_id)
    .bind(d.event_type)
    .bind(d.payload)
    .bind(delivery_state_text(DeliveryState::Pending))
    .bind(d.now)
    .execute(&mut ***tx)
    .await?;
    Ok(n.rows_affected() == 1)
}

/// Deletes settled (delivered or failed) deliveries created before `before`, with their
/// attempts; returns how many deliveries.
pub async fn trim(tx: &mut WriteTx, before: i64) -> Result<u64, sqlx::Error> {
    let pending = delivery_state_text(DeliveryState::Pending);
    sqlx::query(
        "DELETE FROM webhook_attempts WHERE delivery_id IN \
         (SELECT id FROM webhook_deliveries WHERE state <> $1 AND created_at < $2)",
    )
    .bind(pending)
    .bind(before)
    .execute(&mut ***tx)
    .await?;
    let n = sqlx::query("DELETE FROM webhook_deliveries WHERE state <> $1 AND created_at < $2")
        .bind(pending)
        .bind(before)
        .execute(&mut ***tx)
        .await?;
    Ok(n.rows_affected())
}

/// Marks `tenant_id`'s queue due at `at` unless it is due earlier already, creating it if
/// missing (in the transaction that queues its deliveries). A queue already due is not written,
/// so a busy tenant's events do not contend on its queue row.
pub async fn queue_due(tx: &mut WriteTx, tenant_id: &str, at: i64) -> Result<(), sqlx::Error> {
    let n = sqlx::query(
        "UPDATE webhook_queues SET next_due_at = $2 WHERE tenant_id = $1 \
         AND (next_due_at IS NULL OR next_due_at > $2)",
    )
    .bind(tenant_id)
    .bind(at)
    .execute(&mut ***tx)
    .await?;
    if n.rows_affected() == 0 {
        sqlx::query(
            "INSERT INTO webhook_queues (tenant_id, next_due_at) VALUES ($1, $2) \
             ON CONFLICT (tenant_id) DO NOTHING",
        )
        .bind(tenant_id)
        .bind(at)
        .execute(&mut ***tx)
        .await?;
    }
    Ok(())
}

/// Up to `limit` tenants whose queue is due at `now`, longest waiting first.
pub const DUE_TENANTS: &str = "SELECT tenant_id FROM webhook_queues WHERE next_due_at <= $1 \
     ORDER BY next_due_at LIMIT $2";

/// Up to `limit` tenants whose queue is due at `now`, longest waiting first.
pub async fn due_tenants(pool: &AnyPool, now: i64, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(DUE_TENANTS)
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await
}

/// Up to `limit` of a tenant's pending deliveries due at `now`, oldest due first.
pub const DUE_OF_TENANT: &str = "SELECT id FROM webhook_deliveries \
     WHERE tenant_id = $1 AND state = $2 AND next_attempt_at <= $3 ORDER BY next_attempt_at LIMIT $4";

/// Up to `limit` of `tenant_id`'s pending deliveries due at `now`, oldest due first (a claimed
/// delivery is due again only when its lease runs out).
pub async fn due_of_tenant(
    pool: &AnyPool,
    tenant_id: &str,
    now: i64,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(DUE_OF_TENANT)
        .bind(tenant_id)
        .bind(delivery_state_text(DeliveryState::Pending))
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await
}

/// Sets `tenant_id`'s queue due when its earliest pending delivery is (never, with none left),
/// but not before `not_before`: a controller that sends as many of the tenant's deliveries as it
/// allows at once looks again only when one of them finishes or `not_before` passes.
pub async fn settle_queue(
    db: &Db,
    tenant_id: &str,
    not_before: Option<i64>,
) -> Result<(), sqlx::Error> {
    let mut turn = db.turn().await?;
    sqlx::query(
        "UPDATE webhook_queues SET next_due_at = CASE \
           WHEN $3 IS NOT NULL AND EXISTS (SELECT 1 FROM webhook_deliveries \
             WHERE tenant_id = $1 AND state = $2) THEN $3 \
           ELSE (SELECT next_attempt_at FROM webhook_deliveries \
             WHERE tenant_id = $1 AND state = $2 ORDER BY next_attempt_at LIMIT 1) END \
         WHERE tenant_id = $1",
    )
    .bind(tenant_id)
    .bind(delivery_state_text(DeliveryState::Pending))
    .bind(not_before)
    .execute(&mut *turn)
    .await?;
    Ok(())
}

/// Takes a due pending delivery's lease until `lease_until` unless another worker holds it at
/// `now`; false if it could not. Until the lease runs out the delivery is not due, so a worker
/// that dies mid-attempt leaves it to be sent again then.
pub async fn claim(db: &Db, id: &str, now: i64, lease_until: i64) -> Result<bool, sqlx::Error> {
    let mut turn = db.turn().await?;
    let n = sqlx::query(
        "UPDATE webhook_deliveries SET lease_until = $1, next_attempt_at = $1 WHERE id = $2 \
         AND state = $3 AND next_attempt_at <= $4 AND (lease_until IS NULL OR lease_until < $4)",
    )
    .bind(lease_until)
    .bind(id)
    .bind(delivery_state_text(DeliveryState::Pending))
    .bind(now)
    .execute(&mut *turn)
    .await?;
    Ok(n.rows_affected() == 1)
}

/// What one attempt of a delivery sends, and where.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Outgoing {
    pub payload: String,
    pub attempts: i64,
    pub event_type: String,
    pub url: String,
    pub secret: String,
}

/// A delivery's body, attempts so far and endpoint (`None` once the endpoint is gone).
pub async fn outgoing(pool: &AnyPool, id: &str) -> Result<Option<Outgoing>, sqlx::Error> {
    sqlx::query_as(
        "SELECT d.payload, d.attempts, d.event_type, w.url, w.secret FROM webhook_deliveries d \
         JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// How an attempt went and what the delivery becomes.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    pub delivery_id: &'a str,
    /// 1 for the first attempt.
    pub attempt: i64,
    pub sent_at: i64,
    pub status_code: Option<i64>,
    pub error: Option<&'a str>,
    pub duration_ms: i64,
    pub state: DeliveryState,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<i64>,
    /// When it was delivered (delivered only).
    pub delivered_at: Option<i64>,
}

/// Records an attempt: settles the delivery (its lease released) and logs the attempt, unless
/// another attempt was recorded for it meanwhile (then nothing is written).
pub async fn record_attempt(tx: &mut WriteTx, a: &Attempt<'_>) -> Result<(), sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE webhook_deliveries SET state = $1, attempts = $2, next_attempt_at = $3, lease_until = NULL, \
         last_status = $4, last_error = $5, delivered_at = $6 WHERE id = $7 AND attempts = $8",
    )
    .bind(delivery_state_text(a.state))
    .bind(a.attempt)
    .bind(a.next_attempt_at)
    .bind(a.status_code)
    .bind(a.error)
    .bind(a.delivered_at)
    .bind(a.delivery_id)
    .bind(a.attempt - 1)
    .execute(&mut ***tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error, duration_ms, next_retry_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7)",
    )
    .bind(a.delivery_id)
    .bind(a.attempt)
    .bind(a.sent_at)
    .bind(a.status_code)
    .bind(a.error)
    .bind(a.duration_ms)
    .bind(a.next_attempt_at)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// A delivery as listed in its endpoint's log.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: String,
    pub webhook_id: String,
    pub event_id: String,
    pub event_type: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

/// Up to `limit` deliveries of an endpoint with ids after `cursor`, oldest first.
pub async fn deliveries_page(
    pool: &AnyPool,
    webhook_id: &str,
    cursor: &str,
    limit: i64,
) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, webhook_id, event_id, event_type, state, attempts, next_attempt_at, last_status, last_error, \
         created_at, delivered_at FROM webhook_deliveries WHERE webhook_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(webhook_id)
    .bind(cursor)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// One logged attempt.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub attempt: i64,
    pub at: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub next_retry_at: Option<i64>,
}

/// A delivery's attempts, first first.
pub async fn attempts(pool: &AnyPool, delivery_id: &str) -> Result<Vec<AttemptRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT attempt, at, status_code, error, duration_ms, next_retry_at FROM webhook_attempts \
         WHERE delivery_id = $1 ORDER BY attempt",
    )
    .bind(delivery_id)
    .fetch_all(pool)
    .await
}
