//! Tenant webhooks: the durable outbox, the delivery worker, and request signing.
//!
//! An event ([`emit`]) becomes one `webhook_deliveries` row per endpoint of the tenant that
//! subscribes to its type, in the transaction that made the event — so an event is queued
//! exactly when its cause is committed, and survives restarts. Each row has the event's stable
//! id, and `(event_id, webhook_id)` is unique: an event is never queued twice for one endpoint.
//!
//! The worker ([`spawn_worker`]) claims due rows with a lease (so two controllers, or an old and a
//! new one across a restart, never send one attempt twice at once), POSTs the stored JSON body
//! and records every attempt in `webhook_attempts`. A 2xx answer delivers it; anything else is
//! retried after `webhook_retry_base_ms × 2^(failures − 1)` (capped at six hours) until
//! `webhook_max_attempts` attempts have failed, when the delivery is `failed`. Redirects are not
//! followed. The worker also announces `session.duration` every `webhook_duration_secs` of a
//! live session's play, and trims settled deliveries older than [`LOG_RETENTION_DAYS`] from the
//! log.
//!
//! # Signature
//! `x-playrack-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, computed
//! afresh on each attempt. Receivers recompute it over the raw body with the secret they were
//! shown at creation, compare in constant time, and reject old `t` values ([`verify`] does all
//! three). Other headers: `x-playrack-event` (type), `x-playrack-delivery` (delivery id; the
//! body's `id` is the event id, the same on every attempt — use it to drop duplicates).

use crate::db::{self, WriteTx};
use crate::error::ApiResult;
use crate::state::AppState;
use hmac::{Hmac, Mac};
use playrack_wire::Timestamp;
pub use playrack_wire::api::{
    CreateWebhook, CreatedWebhook, DeliveryAttempt, Webhook, WebhookDelivery,
};

use sha2::Sha256;
use sqlx::Row;
use std::time::Duration;

pub const SESSION_STARTED: &str = "session.started";
pub const SESSION_ENDED: &str = "session.ended";
pub const SESSION_DURATION: &str = "session.duration";
/// Every event type an endpoint can subscribe to.
pub const EVENT_TYPES: [&str; 3] = [SESSION_STARTED, SESSION_ENDED, SESSION_DURATION];

/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// A claimed delivery is left alone by other workers for this long.
const LEASE_MS: i64 = 60_000;
/// The longest wait between two attempts.
const MAX_BACKOFF_MS: u64 = 6 * 3600 * 1000;
/// Deliveries sent per worker pass.
const BATCH: i64 = 32;
/// Settled deliveries (and their attempts) are kept in the log this long.
pub const LOG_RETENTION_DAYS: i64 = 30;
/// How often the log is trimmed.
const TRIM_EVERY: Duration = Duration::from_secs(3600);

/// Queues `event_type` (with stable `event_id`) for every endpoint of `tenant` subscribed to
/// it, inside the caller's transaction. The body is fixed now and sent as is on every attempt.
pub async fn emit(
    tx: &mut WriteTx,
    tenant: &str,
    event_type: &str,
    event_id: &str,
    data: serde_json::Value,
) -> ApiResult<usize> {
    let hooks = sqlx::query("SELECT id, events FROM webhooks WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_all(&mut ***tx)
        .await?;
    let now = crate::now();
    let body = serde_json::json!({
        "id": event_id,
        "type": event_type,
        "created_at": now.to_string(),
        "tenant_id": tenant,
        "data": data,
    })
    .to_string();
    let mut queued = 0;
    for h in hooks {
        let events: Vec<String> = db::json_col(&h, "events")?;
        if !events.iter().any(|e| e == event_type) {
            continue;
        }
        let webhook_id: String = h.try_get("id")?;
        queued += sqlx::query(
            "INSERT INTO webhook_deliveries (id, webhook_id, tenant_id, event_id, event_type, payload, state, attempts, \
             next_attempt_at, created_at) VALUES ($1,$2,$3,$4,$5,$6,'pending',0,$7,$7) \
             ON CONFLICT (event_id, webhook_id) DO NOTHING",
        )
        .bind(db::new_id("whd"))
        .bind(&webhook_id)
        .bind(tenant)
        .bind(event_id)
        .bind(event_type)
        .bind(&body)
        .bind(now.millis())
        .execute(&mut ***tx)
        .await?
        .rows_affected() as usize;
    }
    if queued > 0 {
        metrics::counter!("playrack_webhook_events_total", "type" => event_type.to_owned())
            .increment(queued as u64);
    }
    Ok(queued)
}

/// The `x-playrack-signature` value for `body` sent at unix second `t`.
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a signature header over `body`: well-formed, signed with `secret`, and `t` within
/// `tolerance_secs` of `now_secs`.
pub fn verify(secret: &str, header: &str, body: &[u8], now_secs: i64, tolerance_secs: i64) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1 = Some(v),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    if (now_secs - t).abs() > tolerance_secs {
        return false;
    }
    let expected = sign(secret, t, body);
    crate::auth::constant_time_eq(&expected, &format!("t={t},v1={v1}"))
}

/// The wait after `failures` failed attempts.
pub fn backoff_ms(base_ms: u64, failures: u32) -> u64 {
    let exp = failures.saturating_sub(1).min(30);
    base_ms.saturating_mul(1u64 << exp).min(MAX_BACKOFF_MS)
}

/// Starts the background worker: archive start-up repair once, then, every tick, due
/// `session.duration` events and due deliveries.
pub fn spawn_worker(state: AppState) -> tokio::task::JoinHandle<()> {
    let started = std::time::SystemTime::now();
    tokio::spawn(async move {
        if let Err(e) = crate::archives::recover(&state, started).await {
            tracing::warn!("archive store repair failed: {e}");
        }
        let client = match reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("playrack-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("webhook client cannot be built: {e}");
                return;
            }
        };
        let every = Duration::from_millis((state.config.webhook_retry_base_ms / 2).clamp(50, 1000));
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut trimmed: Option<std::time::Instant> = None;
        loop {
            tick.tick().await;
            if trimmed.is_none_or(|t| t.elapsed() >= TRIM_EVERY) {
                trimmed = Some(std::time::Instant::now());
                if let Err(e) = trim_log(&state, crate::now()).await {
                    tracing::warn!("webhook log trim failed: {e}");
                }
            }
            if let Err(e) = announce_durations(&state, crate::now()).await {
                tracing::warn!("session.duration pass failed: {e}");
            }
            if let Err(e) = deliver_due(&state, &client, crate::now()).await {
                tracing::warn!("webhook delivery pass failed: {e}");
            }
        }
    })
}

/// Deletes delivered and failed deliveries older than [`LOG_RETENTION_DAYS`], with their
/// attempts; returns how many deliveries.
pub async fn trim_log(state: &AppState, now: Timestamp) -> ApiResult<u64> {
    let before = now.plus_secs(-LOG_RETENTION_DAYS * 86_400).millis();
    let mut tx = state.db.write().await?;
    sqlx::query(
        "DELETE FROM webhook_attempts WHERE delivery_id IN \
         (SELECT id FROM webhook_deliveries WHERE state <> 'pending' AND created_at < $1)",
    )
    .bind(before)
    .execute(&mut **tx)
    .await?;
    let n =
        sqlx::query("DELETE FROM webhook_deliveries WHERE state <> 'pending' AND created_at < $1")
            .bind(before)
            .execute(&mut **tx)
            .await?
            .rows_affected();
    tx.commit().await?;
    Ok(n)
}

/// Queues `session.duration` for live sessions that completed another period of play.
pub async fn announce_durations(state: &AppState, now: Timestamp) -> ApiResult<usize> {
    let period = i64::from(state.config.webhook_duration_secs.max(1)) * 1000;
    let due = sqlx::query(
        "SELECT m.session_id, m.started_at, m.duration_marks, s.tenant_id FROM session_meter m \
         JOIN sessions s ON s.id = m.session_id WHERE m.live = 1 AND s.state <> 'ended' \
         AND m.started_at + (m.duration_marks + 1) * $1 <= $2 LIMIT 200",
    )
    .bind(period)
    .bind(now.millis())
    .fetch_all(&state.db.pool)
    .await?;
    let mut n = 0;
    for r in due {
        let session_id: String = r.try_get("session_id")?;
        let started: i64 = r.try_get("started_at")?;
        let marks: i64 = r.try_get("duration_marks")?;
        let tenant: String = r.try_get("tenant_id")?;
        // Only the latest completed period is announced (a worker that was down does not
        // replay every period it missed).
        let mark = (now.millis() - started) / period;
        if mark <= marks {
            continue;
        }
        let mut tx = state.db.write().await?;
        let claimed = sqlx::query(
            "UPDATE session_meter SET duration_marks = $1 WHERE session_id = $2 AND duration_marks = $3 AND live = 1",
        )
        .bind(mark)
        .bind(&session_id)
        .bind(marks)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if claimed == 1 {
            let mut data = crate::metering::session_data(&mut tx, &session_id).await?;
            data["elapsed_secs"] = (mark * period / 1000).into();
            data["period"] = mark.into();
            emit(
                &mut tx,
                &tenant,
                SESSION_DURATION,
                &format!("{session_id}.duration.{mark}"),
                data,
            )
            .await?;
            n += 1;
        }
        tx.commit().await?;
    }
    Ok(n)
}

/// Sends every due delivery once (concurrently), recording each attempt.
pub async fn deliver_due(
    state: &AppState,
    client: &reqwest::Client,
    now: Timestamp,
) -> ApiResult<usize> {
    let due: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $1 \
         AND (lease_until IS NULL OR lease_until < $1) ORDER BY next_attempt_at LIMIT $2",
    )
    .bind(now.millis())
    .bind(BATCH)
    .fetch_all(&state.db.pool)
    .await?;
    let mut claimed = Vec::new();
    for id in due {
        let n = sqlx::query(
            "UPDATE webhook_deliveries SET lease_until = $1 WHERE id = $2 AND state = 'pending' \
             AND (lease_until IS NULL OR lease_until < $3)",
        )
        .bind(now.millis() + LEASE_MS)
        .bind(&id)
        .bind(now.millis())
        .execute(&state.db.pool)
        .await?;
        if n.rows_affected() == 1 {
            claimed.push(id);
        }
    }
    let count = claimed.len();
    let results =
        futures_util::future::join_all(claimed.iter().map(|id| attempt(state, client, id))).await;
    for r in results {
        if let Err(e) = r {
            tracing::warn!("webhook attempt could not be recorded: {e}");
        }
    }
    Ok(count)
}

/// One attempt of one claimed delivery.
async fn attempt(state: &AppState, client: &reqwest::Client, id: &str) -> ApiResult<()> {
    let Some(row) = sqlx::query(
        "SELECT d.payload, d.attempts, d.event_type, w.url, w.secret FROM webhook_deliveries d \
         JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = $1",
    )
    .bind(id)
    .fetch_optional(&state.db.pool)
    .await?
    else {
        return Ok(()); // the endpoint was deleted meanwhile
    };
    let body: String = row.try_get("payload")?;
    let url: String = row.try_get("url")?;
    let secret: String = row.try_get("secret")?;
    let event_type: String = row.try_get("event_type")?;
    let attempt_no = row.try_get::<i64, _>("attempts")? + 1;
    let sent_at = crate::now();
    let signature = sign(&secret, sent_at.millis().div_euclid(1000), body.as_bytes());
    // Refused targets count as failed attempts (logged), never as calls into our network.
    let blocked = if state.config.webhook_allow_private_targets {
        None
    } else {
        check_public_target(&url).await.err()
    };
    let started = std::time::Instant::now();
    let outcome = client
        .post(&url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("x-playrack-signature", signature)
        .header("x-playrack-event", &event_type)
        .header("x-playrack-delivery", id)
        .body(body);
    let outcome = match &blocked {
        Some(_) => None,
        None => Some(outcome.send().await),
    };
    let duration_ms = started.elapsed().as_millis() as i64;
    let (status, error) = match outcome {
        None => (None, blocked),
        Some(Ok(resp)) if resp.status().is_success() => (Some(resp.status().as_u16()), None),
        Some(Ok(resp)) => (
            Some(resp.status().as_u16()),
            Some(format!(
                "the endpoint answered HTTP {}",
                resp.status().as_u16()
            )),
        ),
        Some(Err(e)) => {
            let mut text = format!("{e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            text.truncate(500);
            (None, Some(text))
        }
    };
    let now = crate::now().millis();
    let max = i64::from(state.config.webhook_max_attempts.max(1));
    let (new_state, next) = match (&error, attempt_no >= max) {
        (None, _) => ("delivered", None),
        (Some(_), true) => ("failed", None),
        (Some(_), false) => (
            "pending",
            Some(now + backoff_ms(state.config.webhook_retry_base_ms, attempt_no as u32) as i64),
        ),
    };
    let mut tx = state.db.write().await?;
    let updated = sqlx::query(
        "UPDATE webhook_deliveries SET state = $1, attempts = $2, next_attempt_at = $3, lease_until = NULL, \
         last_status = $4, last_error = $5, delivered_at = $6 WHERE id = $7 AND attempts = $8",
    )
    .bind(new_state)
    .bind(attempt_no)
    .bind(next)
    .bind(status.map(i64::from))
    .bind(error.clone())
    .bind((new_state == "delivered").then_some(now))
    .bind(id)
    .bind(attempt_no - 1)
    .execute(&mut **tx)
    .await?;
    if updated.rows_affected() == 1 {
        sqlx::query(
            "INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error, duration_ms, next_retry_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7)",
        )
        .bind(id)
        .bind(attempt_no)
        .bind(sent_at.millis())
        .bind(status.map(i64::from))
        .bind(error)
        .bind(duration_ms)
        .bind(next)
        .execute(&mut **tx)
        .await?;
    }
    tx.commit().await?;
    metrics::counter!("playrack_webhook_attempts_total", "outcome" => new_state).increment(1);
    Ok(())
}

/// Reads a delivery row and its attempts.
pub(crate) async fn delivery_from(
    state: &AppState,
    r: &sqlx::any::AnyRow,
) -> ApiResult<WebhookDelivery> {
    let id: String = r.try_get("id")?;
    let attempts =
        sqlx::query("SELECT * FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt")
            .bind(&id)
            .fetch_all(&state.db.pool)
            .await?;
    let status = |v: Option<i64>| v.and_then(|s| u16::try_from(s).ok());
    let log = attempts
        .iter()
        .map(|a| {
            Ok(DeliveryAttempt {
                attempt: db::u32_col(a, "attempt")?,
                at: db::ts(a, "at")?,
                status_code: status(a.try_get("status_code")?),
                error: a.try_get("error")?,
                duration_ms: a.try_get::<i64, _>("duration_ms")?.max(0) as u64,
                next_retry_at: db::ts_opt(a, "next_retry_at")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let state_text: String = r.try_get("state")?;
    Ok(WebhookDelivery {
        id,
        webhook_id: r.try_get("webhook_id")?,
        event_id: r.try_get("event_id")?,
        event_type: r.try_get("event_type")?,
        next_retry_at: if state_text == "pending" {
            db::ts_opt(r, "next_attempt_at")?
        } else {
            None
        },
        state: state_text,
        attempts: db::u32_col(r, "attempts")?,
        last_status: status(r.try_get("last_status")?),
        last_error: r.try_get("last_error")?,
        created_at: db::ts(r, "created_at")?,
        delivered_at: db::ts_opt(r, "delivered_at")?,
        log,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_with_the_secret_body_and_a_fresh_time() {
        let h = sign("s3cret", 1_700_000_000, b"{\"a\":1}");
        assert!(h.starts_with("t=1700000000,v1="));
        assert!(verify("s3cret", &h, b"{\"a\":1}", 1_700_000_010, 300));
        assert!(!verify("other", &h, b"{\"a\":1}", 1_700_000_010, 300));
        assert!(!verify("s3cret", &h, b"{\"a\":2}", 1_700_000_010, 300));
        assert!(!verify("s3cret", &h, b"{\"a\":1}", 1_700_001_000, 300));
        assert!(!verify("s3cret", "v1=abc", b"", 0, 300));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_ms(100, 1), 100);
        assert_eq!(backoff_ms(100, 2), 200);
        assert_eq!(backoff_ms(100, 4), 800);
        assert_eq!(backoff_ms(10_000, 40), MAX_BACKOFF_MS);
    }
}

/// Whether an address is one a tenant must not make the controller call (loopback, private,
/// link-local, unspecified, multicast, unique-local).
pub fn is_private(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.octets()[0] == 100 && (v4.octets()[1] & 0xC0) == 64 // 100.64/10 shared address space
        }
        std::net::IpAddr::V6(v6) => {
            v6.is_loopback() || v6.is_unspecified() || v6.is_multicast()
                || (v6.segments()[0] & 0xfe00) == 0xfc00 // fc00::/7 unique local
                || (v6.segments()[0] & 0xffc0) == 0xfe80 // fe80::/10 link local
                || v6.to_ipv4_mapped().is_some_and(|v4| is_private(std::net::IpAddr::V4(v4)))
        }
    }
}

/// Resolves a webhook URL's host and refuses private targets.
pub async fn check_public_target(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    let host = parsed
        .host_str()
        .ok_or("no host")?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    if addrs.is_empty() || addrs.iter().any(|a| is_private(a.ip())) {
        return Err(format!(
            "{host} resolves to a private or loopback address; webhooks go only to public endpoints"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod target_tests {
    use super::*;

    #[test]
    fn private_and_loopback_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700::1111"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }
}
