//! Metering: the usage ledger, and the session events tenants receive as webhooks.
//!
//! # The ledger
//! One row per session in `usage_ledger`, written by [`record_end`] inside the transaction that
//! ends the session (`play::lifecycle::end_in` calls [`on_session_end`] exactly when its update ended
//! the session). The primary key is the session id, so even a second call — an end reported
//! twice, or again after a restart — can never add a second row; it is skipped.
//!
//! Billing rule: a session is billed from the moment it started playing ([`on_session_start`], or
//! else the session's own `playing_since`) to its end, in whole seconds rounded down; a session
//! that never started playing (an unclaimed reservation, a failed preparation) is recorded with 0
//! billable seconds. The price is the spec's
//! `price_per_minute_micros` when play started (the price at the end if no start was recorded),
//! and the amount is `floor(billable_secs × price_per_minute_micros / 60)` micro-units.
//!
//! # Events
//! `session.started` (from [`on_session_start`]), `session.ended` (from [`on_session_end`]) and
//! `session.duration` (every `webhook_duration_secs` of a live session's play, from the webhook
//! worker, see [`crate::webhooks`]) go to the tenant's endpoints through the durable outbox; each
//! has a stable event id, so an event is never queued twice for one endpoint.
//!
//! # Usage
//! [`usage`] aggregates the ledger by UTC day (`ended_at / 86400000`), game and spec.

use crate::db::WriteTx;
use crate::error::{ApiError, ApiResult};
use crate::store;
use crate::webhooks;
use playrack_wire::Timestamp;
use playrack_wire::api::{EndReason, SessionState};
pub use playrack_wire::api::{LedgerEntry, UsageRow};

/// Milliseconds in a UTC day.
pub const DAY_MS: i64 = 86_400_000;

/// A session started playing: records when (and the spec's price then) for the ledger, and
/// queues `session.started` for the tenant's endpoints. Idempotent: only the first call counts.
pub async fn on_session_start(tx: &mut WriteTx, session_id: &str) -> ApiResult<()> {
    on_session_start_at(tx, session_id, crate::now()).await
}

/// [`on_session_start`] with the start instant given.
pub async fn on_session_start_at(
    tx: &mut WriteTx,
    session_id: &str,
    at: Timestamp,
) -> ApiResult<()> {
    let s = store::metering::start_facts(tx, session_id)
        .await?
        .ok_or(ApiError::NotFound("session"))?;
    if store::sessions::parse_state(&s.state) == SessionState::Ended {
        return Ok(());
    }
    if store::metering::start_meter(tx, session_id, at.millis(), s.price_per_minute_micros).await? {
        if let Some(link) = &s.link_id {
            crate::figures::on_play(tx, link, at.millis()).await?;
        }
        let data = session_data(tx, session_id).await?;
        webhooks::emit(
            tx,
            &s.tenant_id,
            webhooks::SESSION_STARTED,
            &format!("{session_id}.started"),
            data,
        )
        .await?;
    }
    Ok(())
}

/// A session ended (called once, by `end_in`, in its transaction): writes the ledger row and
/// queues `session.ended`.
pub async fn on_session_end(tx: &mut WriteTx, session_id: &str) -> ApiResult<()> {
    if let Some(entry) = record_end(tx, session_id).await? {
        let mut data = session_data(tx, session_id).await?;
        data["billable_secs"] = entry.billable_secs.into();
        data["amount_micros"] = entry.amount_micros.into();
        webhooks::emit(
            tx,
            &entry.tenant_id,
            webhooks::SESSION_ENDED,
            &format!("{session_id}.ended"),
            data,
        )
        .await?;
    }
    Ok(())
}

/// Billable whole seconds (rounded down) and the amount, per the module's billing rule.
pub fn bill(started_at: Option<i64>, ended_at: i64, price_per_minute_micros: i64) -> (u64, i64) {
    let secs = started_at.map_or(0, |s| ((ended_at - s).max(0) / 1000) as u64);
    let amount = (i128::from(secs as i64) * i128::from(price_per_minute_micros) / 60) as i64;
    (secs, amount)
}

/// Writes the ledger row of an ended session; `None` when the session is not ended or its row
/// already exists (the primary key keeps it to one).
pub async fn record_end(tx: &mut WriteTx, session_id: &str) -> ApiResult<Option<LedgerEntry>> {
    let Some(r) = store::metering::end_facts(tx, session_id).await? else {
        return Ok(None);
    };
    let ended_at = r.ended_at.unwrap_or_else(|| crate::now().millis());
    let (billable_secs, amount_micros) = bill(r.started_at, ended_at, r.price);
    let link_id = r.link_id.clone();
    let entry = LedgerEntry {
        session_id: session_id.to_owned(),
        tenant_id: r.tenant_id,
        game_id: r.game_id,
        spec_id: r.spec_id,
        room_id: r.room_id,
        board_id: r.board_id,
        user: r.user_key,
        end_reason: r
            .end_reason
            .and_then(|s| EndReason::parse(&s))
            .unwrap_or(EndReason::Error),
        reserved_at: Timestamp(r.created_at),
        started_at: r.started_at.map(Timestamp),
        ended_at: Timestamp(ended_at),
        billable_secs,
        price_per_minute_micros: r.price,
        amount_micros,
    };
    if !store::metering::insert_ledger(tx, &entry).await? {
        return Ok(None);
    }
    if let Some(link) = &link_id {
        crate::figures::on_end(tx, link, billable_secs, ended_at).await?;
    }
    if entry.started_at.is_some() {
        let crashed = entry.end_reason == EndReason::AppCrashed;
        let latency = (r.latency_samples, r.latency_sum_us);
        crate::grey::on_end(tx, &r.version_id, ended_at, crashed, billable_secs, latency).await?;
    }
    metrics::counter!("playrack_ledger_entries_total").increment(1);
    Ok(Some(entry))
}

/// The session facts every event carries.
pub(crate) async fn session_data(
    tx: &mut WriteTx,
    session_id: &str,
) -> ApiResult<serde_json::Value> {
    let r = store::metering::event_facts(tx, session_id)
        .await?
        .ok_or(ApiError::NotFound("session"))?;
    let ts = |v: Option<i64>| v.map(|t| Timestamp(t).to_string());
    Ok(serde_json::json!({
        "session_id": r.id,
        "game_id": r.game_id,
        "version_id": r.version_id,
        "spec_id": r.spec_id,
        "room_id": r.room_id,
        "user": r.user_key,
        "state": r.state,
        "end_reason": r.end_reason,
        "reserved_at": ts(Some(r.created_at)),
        "started_at": ts(r.started_at),
        "ended_at": ts(r.ended_at),
    }))
}

/// How usage is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grouping {
    pub day: bool,
    pub game: bool,
    pub spec: bool,
}

impl Grouping {
    /// Parses `day,game,spec` (any non-empty subset; empty means all three).
    pub fn parse(text: Option<&str>) -> ApiResult<Self> {
        let text = text.unwrap_or("").trim();
        if text.is_empty() {
            return Ok(Self {
                day: true,
                game: true,
                spec: true,
            });
        }
        let mut g = Self {
            day: false,
            game: false,
            spec: false,
        };
        for part in text.split(',').map(str::trim) {
            match part {
                "day" => g.day = true,
                "game" => g.game = true,
                "spec" => g.spec = true,
                other => {
                    return Err(ApiError::Validation(format!(
                        "group_by takes day, game and spec (comma-separated), not `{other}`"
                    )));
                }
            }
        }
        Ok(g)
    }
}

/// The UTC date of a day number (days since the Unix epoch).
pub fn day_name(day: i64) -> String {
    let mut s = Timestamp(day * DAY_MS).to_string();
    s.truncate(10);
    s
}

/// An aggregate's key: (day, game, spec), each present when grouped by it.
type UsageKey = (Option<i64>, Option<String>, Option<String>);

/// Aggregates the ledger of `tenant` (every tenant for `None`) for sessions ended in
/// `[from, to)`, grouped as asked, ordered by day, game, spec.
pub async fn usage(
    pool: &sqlx::AnyPool,
    tenant: Option<&str>,
    from: Timestamp,
    to: Timestamp,
    grouping: Grouping,
) -> ApiResult<Vec<UsageRow>> {
    let rows =
        store::metering::usage(pool, tenant.unwrap_or(""), from.millis(), to.millis()).await?;
    let mut out: std::collections::BTreeMap<UsageKey, UsageRow> = Default::default();
    for r in rows {
        let key = (
            grouping.day.then_some(r.day),
            grouping.game.then_some(r.game_id),
            grouping.spec.then_some(r.spec_id),
        );
        let row = out.entry(key.clone()).or_insert_with(|| UsageRow {
            day: key.0.map(day_name),
            game_id: key.1.clone(),
            spec_id: key.2.clone(),
            sessions: 0,
            billable_secs: 0,
            amount_micros: 0,
        });
        row.sessions += r.sessions.max(0) as u64;
        row.billable_secs += r.secs.max(0) as u64;
        row.amount_micros += r.amount;
    }
    Ok(out.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_rounds_down_and_needs_a_start() {
        assert_eq!(bill(None, 10_000, 600), (0, 0));
        assert_eq!(bill(Some(0), 90_999, 600), (90, 900));
        // 61 s at 100 µ/min: 101.66… → 101.
        assert_eq!(bill(Some(1_000), 62_000, 100), (61, 101));
        assert_eq!(bill(Some(5_000), 1_000, 600), (0, 0));
    }

    #[test]
    fn days_are_utc_dates() {
        assert_eq!(day_name(0), "1970-01-01");
        assert_eq!(day_name(20_414), "2025-11-22");
    }

    #[test]
    fn grouping_parses_subsets() {
        assert_eq!(
            Grouping::parse(Some("day")).unwrap(),
            Grouping {
                day: true,
                game: false,
                spec: false
            }
        );
        assert!(Grouping::parse(Some("day,room")).is_err());
        assert!(Grouping::parse(None).unwrap().spec);
    }
}
