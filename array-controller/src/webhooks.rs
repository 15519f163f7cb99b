//! Tenant webhooks: the durable outbox, the delivery worker, and request signing.
//!
//! An event ([`emit`]) becomes one `webhook_deliveries` row per endpoint of the tenant that
//! subscribes to its type, in the transaction that made the event — so an event is queued
//! exactly when its cause is committed, and survives restarts. Each row has the event's stable
//! id, and `(event_id, webhook_id)` is unique: an event is never queued twice for one endpoint.
//!
//! Each tenant's deliveries are their own queue (`webhook_queues` says when it is next due). The
//! worker ([`spawn_worker`], its passes in [`Sender`]) serves due queues longest-waiting first,
//! at most [`PER_TENANT`] attempts of one tenant and [`IN_FLIGHT`] in all at once, without
//! waiting for a pass's attempts before the next pass: one tenant's slow or hanging endpoints
//! hold only that tenant's share. It claims each delivery with a lease (so two controllers, or an
//! old and a new one across a restart, never send one attempt twice at once), POSTs the stored
//! JSON body and records every attempt in `webhook_attempts`. A 2xx answer delivers it; anything else is
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
use crate::store;
use crate::store::webhooks::{
    DeliveryRow, DeliveryState, delivery_state_text, parse_delivery_state,
};
use hmac::{Hmac, Mac};
use playrack_wire::Timestamp;
use playrack_wire::api::SwitchName;
pub use playrack_wire::api::{
    CreateWebhook, CreatedWebhook, DeliveryAttempt, Webhook, WebhookDelivery,
};

use sha2::Sha256;
use std::time::Duration;

pub const SESSION_STARTED: &str = "session.started";
pub const SESSION_ENDED: &str = "session.ended";
pub const SESSION_DURATION: &str = "session.duration";
/// A tenant's bill for a period closed (the event carries the whole statement).
pub const BILL_CLOSED: &str = "bill.closed";
/// Every event type an endpoint can subscribe to.
pub const EVENT_TYPES: [&str; 4] = [
    SESSION_STARTED,
    SESSION_ENDED,
    SESSION_DURATION,
    BILL_CLOSED,
];

/// How soon a tenant whose deliveries a degrade switch pauses is looked at again.
const PAUSED_RECHECK_MS: i64 = 500;
/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// A claimed delivery is left alone by other workers for this long.
const LEASE_MS: i64 = 60_000;
/// The longest wait between two attempts.
const MAX_BACKOFF_MS: u64 = 6 * 3600 * 1000;
/// Sessions looked at per `session.duration` pass.
const DURATIONS_BATCH: i64 = 200;
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
    let hooks = store::webhooks::subscriptions(tx, tenant).await?;
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
        let events: Vec<String> = crate::store::json(&h.events)?;
        if !events.iter().any(|e| e == event_type) {
            continue;
        }
        let delivery = store::webhooks::NewDelivery {
            id: &db::new_id("whd"),
            webhook_id: &h.id,
            tenant_id: tenant,
            event_id,
            event_type,
            payload: &body,
            now: now.millis(),
        };
        if store::webhooks::queue(tx, &delivery).await? {
            queued += 1;
        }
    }
    if queued > 0 {
        store::webhooks::queue_due(tx, tenant, now.millis()).await?;
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
        let mut sender = Sender::new();
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
            if let Err(e) = sender.pass(&state, &client, crate::now()).await {
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
    let n = store::webhooks::trim(&mut tx, before).await?;
    tx.commit().await?;
    Ok(n)
}

/// Queues `session.duration` for live sessions that completed another period of play.
pub async fn announce_durations(state: &AppState, now: Timestamp) -> ApiResult<usize> {
    let period = i64::from(state.config.webhook_duration_secs.max(1)) * 1000;
    let due = store::metering::durations_due(&state.db.pool, period, now.millis(), DURATIONS_BATCH)
        .await?;
    let mut n = 0;
    for r in due {
        let session_id = r.session_id;
        let tenant = r.tenant_id;
        // Only the latest completed period is announced (a worker that was down does not
        // replay every period it missed).
        let mark = (now.millis() - r.started_at) / period;
        if mark <= r.duration_marks {
            continue;
        }
        let mut tx = state.db.write().await?;
        if store::metering::mark_duration(&mut tx, &session_id, r.duration_marks, mark).await? {
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

/// The deliveries this controller is sending, counted by tenant: each tenant's queue is served
/// by at most [`PER_TENANT`] attempts at once and all of them by at most [`IN_FLIGHT`], so one
/// tenant's hanging endpoints hold only that tenant's share while every other tenant's queue
/// moves on.
pub struct Sender {
    tasks: tokio::task::JoinSet<()>,
    /// The tenant each running attempt serves.
    tenant_of: std::collections::HashMap<tokio::task::Id, String>,
    by_tenant: std::collections::HashMap<String, usize>,
}

/// Attempts one controller has in flight for one tenant.
pub const PER_TENANT: usize = 8;
/// Attempts one controller has in flight in all.
pub const IN_FLIGHT: usize = 64;
/// Due tenant queues looked at per pass.
const TENANTS_PER_PASS: i64 = 64;

impl Default for Sender {
    fn default() -> Self {
        Self::new()
    }
}

impl Sender {
    pub fn new() -> Self {
        Sender {
            tasks: tokio::task::JoinSet::new(),
            tenant_of: std::collections::HashMap::new(),
            by_tenant: std::collections::HashMap::new(),
        }
    }

    /// Attempts in flight.
    pub fn in_flight(&self) -> usize {
        self.tasks.len()
    }

    /// Forgets finished attempts (each records itself and settles its tenant's queue).
    fn reap(&mut self) {
        while let Some(done) = self.tasks.try_join_next_with_id() {
            let id = match done {
                Ok((id, ())) => id,
                Err(e) => {
                    tracing::error!("a webhook attempt task failed: {e}");
                    e.id()
                }
            };
            let Some(tenant) = self.tenant_of.remove(&id) else {
                continue;
            };
            if let Some(n) = self.by_tenant.get_mut(&tenant) {
                *n -= 1;
                if *n == 0 {
                    self.by_tenant.remove(&tenant);
                }
            }
        }
    }

    /// One pass: starts attempts of due deliveries, tenant queue by tenant queue, within the
    /// limits; returns how many it started. Attempts run on after it returns.
    pub async fn pass(
        &mut self,
        state: &AppState,
        client: &reqwest::Client,
        now: Timestamp,
    ) -> ApiResult<usize> {
        self.reap();
        let mut started = 0;
        // Deliveries paused by a degrade switch wait where they are (nothing is dropped).
        let switches = state.switches.now();
        if self.tasks.len() >= IN_FLIGHT || switches.platform(SwitchName::Webhooks) {
            return Ok(0);
        }
        let tenants =
            store::webhooks::due_tenants(&state.db.pool, now.millis(), TENANTS_PER_PASS).await?;
        for tenant in tenants {
            if switches.stops(SwitchName::Webhooks, &tenant) {
                // Looked at again shortly: the switch may be off by then.
                let later = now.millis() + PAUSED_RECHECK_MS;
                store::webhooks::settle_queue(&state.db, &tenant, Some(later)).await?;
                continue;
            }
            let busy = self.by_tenant.get(&tenant).copied().unwrap_or(0);
            let room = PER_TENANT
                .saturating_sub(busy)
                .min(IN_FLIGHT - self.tasks.len());
            if room > 0 {
                let due = store::webhooks::due_of_tenant(
                    &state.db.pool,
                    &tenant,
                    now.millis(),
                    room as i64,
                )
                .await?;
                for id in due {
                    let lease = now.millis() + LEASE_MS;
                    if !store::webhooks::claim(&state.db, &id, now.millis(), lease).await? {
                        continue;
                    }
                    let (state, client, of) = (state.clone(), client.clone(), tenant.clone());
                    let task = self.tasks.spawn(async move {
                        if let Err(e) = attempt(&state, &client, &id).await {
                            tracing::warn!("webhook attempt could not be recorded: {e}");
                        }
                        if let Err(e) = store::webhooks::settle_queue(&state.db, &of, None).await {
                            tracing::warn!("webhook queue could not be settled: {e}");
                        }
                    });
                    self.tenant_of.insert(task.id(), tenant.clone());
                    *self.by_tenant.entry(tenant.clone()).or_default() += 1;
                    started += 1;
                }
            }
            // A tenant at its limit here is looked at again when one of its attempts finishes
            // (or, should this controller stop meanwhile, when their leases run out).
            let full = self.by_tenant.get(&tenant).copied().unwrap_or(0) >= PER_TENANT;
            let not_before = full.then_some(now.millis() + LEASE_MS);
            store::webhooks::settle_queue(&state.db, &tenant, not_before).await?;
            if self.tasks.len() >= IN_FLIGHT {
                break;
            }
        }
        Ok(started)
    }
}

/// One attempt of one claimed delivery.
async fn attempt(state: &AppState, client: &reqwest::Client, id: &str) -> ApiResult<()> {
    let Some(out) = store::webhooks::outgoing(&state.db.pool, id).await? else {
        return Ok(()); // the endpoint was deleted meanwhile
    };
    let body = out.payload;
    let url = out.url;
    let secret = out.secret;
    let event_type = out.event_type;
    let attempt_no = out.attempts + 1;
    let sent_at = crate::now();
    let signature = sign(&secret, sent_at.millis().div_euclid(1000), body.as_bytes());
    // Refused targets count as failed attempts (logged), never as calls into our network. A
    // public target is called at exactly the addresses checked (no second lookup a DNS
    // rebinding could answer differently).
    let (blocked, pinned) = if state.config.webhook_allow_private_targets {
        (None, None)
    } else {
        match check_public_target(&url).await {
            Ok(addrs) => match pinned_client(&url, &addrs) {
                Ok(c) => (None, Some(c)),
                Err(e) => (Some(e), None),
            },
            Err(e) => (Some(e), None),
        }
    };
    let client = pinned.as_ref().unwrap_or(client);
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
        Some(Err(e)) => (None, Some(error_text(&e, 500))),
    };
    let now = crate::now().millis();
    let max = i64::from(state.config.webhook_max_attempts.max(1));
    let (new_state, next) = match (&error, attempt_no >= max) {
        (None, _) => (DeliveryState::Delivered, None),
        (Some(_), true) => (DeliveryState::Failed, None),
        (Some(_), false) => (
            DeliveryState::Pending,
            Some(now + backoff_ms(state.config.webhook_retry_base_ms, attempt_no as u32) as i64),
        ),
    };
    let mut tx = state.db.write().await?;
    store::webhooks::record_attempt(
        &mut tx,
        &store::webhooks::Attempt {
            delivery_id: id,
            attempt: attempt_no,
            sent_at: sent_at.millis(),
            status_code: status.map(i64::from),
            error: error.as_deref(),
            duration_ms,
            state: new_state,
            next_attempt_at: next,
            delivered_at: (new_state == DeliveryState::Delivered).then_some(now),
        },
    )
    .await?;
    tx.commit().await?;
    metrics::counter!("playrack_webhook_attempts_total", "outcome" => delivery_state_text(new_state))
        .increment(1);
    Ok(())
}

/// A delivery of the log with its attempts.
pub(crate) async fn delivery_from(state: &AppState, r: DeliveryRow) -> ApiResult<WebhookDelivery> {
    let attempts = store::webhooks::attempts(&state.db.pool, &r.id).await?;
    let status = |v: Option<i64>| v.and_then(|s| u16::try_from(s).ok());
    let log = attempts
        .into_iter()
        .map(|a| DeliveryAttempt {
            attempt: a.attempt.clamp(0, u32::MAX as i64) as u32,
            at: Timestamp(a.at),
            status_code: status(a.status_code),
            error: a.error,
            duration_ms: a.duration_ms.max(0) as u64,
            next_retry_at: a.next_retry_at.map(Timestamp),
        })
        .collect();
    let delivery_state = parse_delivery_state(&r.state);
    Ok(WebhookDelivery {
        id: r.id,
        webhook_id: r.webhook_id,
        event_id: r.event_id,
        event_type: r.event_type,
        next_retry_at: if delivery_state == DeliveryState::Pending {
            r.next_attempt_at.map(Timestamp)
        } else {
            None
        },
        state: r.state,
        attempts: r.attempts.clamp(0, u32::MAX as i64) as u32,
        last_status: status(r.last_status),
        last_error: r.last_error,
        created_at: Timestamp(r.created_at),
        delivered_at: r.delivered_at.map(Timestamp),
        log,
    })
}

/// An error and its sources as one line of at most `max` bytes (cut on a character boundary:
/// endpoints' names and answers may hold any text).
fn error_text(e: &dyn std::error::Error, max: usize) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text.truncate(text.floor_char_boundary(max));
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_text_is_cut_on_a_character_boundary() {
        let e = std::io::Error::other("é".repeat(300));
        let text = super::error_text(&e, 501);
        assert_eq!(text, "é".repeat(250));
    }

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
/// link-local, unspecified, multicast, unique-local, reserved), including an IPv4 address
/// wrapped in IPv6 (mapped, NAT64, 6to4) and Teredo, whose embedded address cannot be trusted.
pub fn is_private(ip: std::net::IpAddr) -> bool {
    use std::net::{IpAddr, Ipv4Addr};
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || a == 0 // 0/8 "this network"
                || a == 100 && (b & 0xC0) == 64 // 100.64/10 shared address space
                || a == 192 && b == 0 && c == 0 // 192.0.0/24 protocol assignments
                || a == 198 && (b & 0xFE) == 18 // 198.18/15 benchmarking
                || a >= 240 // 240/4 reserved
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                is_private(IpAddr::V4(Ipv4Addr::from(
                    (u32::from(hi) << 16) | u32::from(lo),
                )))
            };
            v6.is_loopback() || v6.is_unspecified() || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // fc00::/7 unique local
                || (s[0] & 0xffc0) == 0xfe80 // fe80::/10 link local
                || v6.to_ipv4_mapped().is_some_and(|v4| is_private(IpAddr::V4(v4)))
                || (s[0] == 0x64 && s[1] == 0xff9b && embedded(s[6], s[7])) // NAT64 64:ff9b::/96
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) // 64:ff9b:1::/48 local NAT64
                || (s[0] == 0x2002 && embedded(s[1], s[2])) // 6to4 2002::/16
                || (s[0] == 0x2001 && s[1] == 0) // Teredo 2001::/32
        }
    }
}

/// How long a webhook target's name may take to resolve.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// A client that sends to `url`'s host at exactly `addrs` (the checked ones).
fn pinned_client(url: &str, addrs: &[std::net::SocketAddr]) -> Result<reqwest::Client, String> {
    let host = reqwest::Url::parse(url)
        .map_err(|e| e.to_string())?
        .host_str()
        .ok_or("no host")?
        .to_owned();
    reqwest::Client::builder()
        .timeout(ATTEMPT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("playrack-webhooks/", env!("CARGO_PKG_VERSION")))
        .resolve_to_addrs(&host, addrs)
        .build()
        .map_err(|e| format!("webhook client: {e}"))
}

/// Resolves a webhook URL's host (within [`RESOLVE_TIMEOUT`]) and refuses private targets;
/// the addresses to call.
pub async fn check_public_target(url: &str) -> Result<Vec<std::net::SocketAddr>, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    let host = parsed
        .host_str()
        .ok_or("no host")?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addrs: Vec<std::net::SocketAddr> = tokio::time::timeout(
        RESOLVE_TIMEOUT,
        tokio::net::lookup_host((host.as_str(), port)),
    )
    .await
    .map_err(|_| format!("resolving {host} took longer than {RESOLVE_TIMEOUT:?}"))?
    .map_err(|e| format!("cannot resolve {host}: {e}"))?
    .collect();
    if addrs.is_empty() || addrs.iter().any(|a| is_private(a.ip())) {
        return Err(format!(
            "{host} resolves to a private or loopback address; webhooks go only to public endpoints"
        ));
    }
    Ok(addrs)
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
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700::1111",
            "64:ff9b::5db8:d822", // NAT64 of 93.184.216.34
            "2002:5db8:d822::1",  // 6to4 of 93.184.216.34
        ] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
        // An internal address wrapped in IPv6, or reserved IPv4 space.
        for ip in [
            "64:ff9b::7f00:1",     // NAT64 of 127.0.0.1
            "64:ff9b::a9fe:a9fe",  // NAT64 of 169.254.169.254
            "64:ff9b:1::a00:1",    // local-use NAT64
            "2002:7f00:1::1",      // 6to4 of 127.0.0.1
            "2002:c0a8:101::1",    // 6to4 of 192.168.1.1
            "2001:0:4136:e378::1", // Teredo
            "0.1.2.3",
            "198.18.0.1",
            "240.0.0.1",
            "192.0.0.8",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn a_pinned_client_calls_the_checked_address_without_a_second_lookup() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 2048];
            let _ = sock.read(&mut buf).await;
            let _ = sock
                .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                .await;
        });
        // `.invalid` never resolves: the call can only reach the address it was pinned to.
        let url = format!("http://hooks.example.invalid:{}/in", addr.port());
        let client = pinned_client(&url, &[addr]).unwrap();
        let resp = client.post(&url).body("{}").send().await.unwrap();
        assert_eq!(resp.status(), 204);
        assert!(
            check_public_target(&url).await.is_err(),
            "and it does not resolve"
        );
    }
}
