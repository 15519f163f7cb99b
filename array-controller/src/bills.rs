//! Bills: every tenant's statement per billing period, and the leader pass that closes them.
//!
//! # Periods
//! A tenant's periods follow one another without gap: its first begins at the start of the
//! period (of the configured [`PeriodKind`], UTC) holding the tenant's creation, and each
//! closed bill's end is the next one's start. `billing_accounts` keeps the open period.
//!
//! # What a statement says
//! - **usage**: the ledger rows (one per play, see [`crate::metering`]) that ended in the
//!   period, per spec and price per minute: their billable seconds and the sum of their
//!   amounts — so a statement equals the ledger to the second and the micro-unit. A play is
//!   billed in the period it *ended* in, whole, however long before it began.
//! - **late**: a ledger row written after the bill of the period it ended in had closed (a
//!   board's end report arriving after the close) is not lost and does not reopen that bill:
//!   it goes into the next bill that closes, as its own line naming the play and the bill it
//!   belonged to.
//! - **concurrency**: each order's units × its price per unit and whole period, pro rata to
//!   the milliseconds of the period each of its terms was in force (`order_terms`: a change of
//!   concurrency or price, or a cancellation, starts new terms), rounded down once per line.
//!
//! # Closing
//! Once the clock is `bill_close_delay_secs` past a period's end, the leader's pass
//! ([`close_due`]) closes it in one transaction per tenant: it marks the tenant's unbilled
//! ledger rows that ended before the period's end as this bill's (so a row committed later is
//! a late row for the next bill, never counted twice), reads the lines back by bill id,
//! writes the bill, opens the next period and queues `bill.closed`. A closed bill is never
//! written again. The open statement ([`current`]) is computed the same way from the unbilled
//! rows, so it shows the id and lines the bill will have.

use crate::db::WriteTx;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store;
use crate::store::bills::{Account, BillRow, ItemRow, LateRow, TermRow, UsageLine};
use crate::webhooks;
use playrack_wire::Timestamp;
use playrack_wire::api::{Bill, BillItem, BillItemKind, BillState};
use serde::Deserialize;
use sha2::Digest;
use std::time::Duration;

/// The length of a billing period: calendar months, weeks (Monday 00:00 to Monday 00:00) or
/// days, all in UTC. (The variants carry no doc comments: clap would list them as options.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    #[default]
    Month,
    Week,
    Day,
}

const DAY_MS: i64 = 86_400_000;

fn date_of(ms: i64) -> time::Date {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .date()
}

fn midnight(d: time::Date) -> i64 {
    d.midnight().assume_utc().unix_timestamp() * 1000
}

impl PeriodKind {
    /// The start of the period holding the instant `at` (ms since the epoch).
    pub fn start_of(self, at: i64) -> i64 {
        let d = date_of(at);
        match self {
            PeriodKind::Day => midnight(d),
            PeriodKind::Week => {
                midnight(d) - i64::from(d.weekday().number_days_from_monday()) * DAY_MS
            }
            PeriodKind::Month => midnight(d.replace_day(1).expect("every month has a 1st")),
        }
    }

    /// The end of the period holding the instant `at`.
    pub fn end_of(self, at: i64) -> i64 {
        let start = self.start_of(at);
        match self {
            PeriodKind::Day => start + DAY_MS,
            PeriodKind::Week => start + 7 * DAY_MS,
            PeriodKind::Month => {
                let d = date_of(start);
                let next = match d.month() {
                    time::Month::December => {
                        time::Date::from_calendar_date(d.year() + 1, time::Month::January, 1)
                    }
                    m => time::Date::from_calendar_date(d.year(), m.next(), 1),
                };
                next.map_or(start + 31 * DAY_MS, midnight)
            }
        }
    }
}

/// The first open period of a tenant created at `created_at`.
pub fn first_period(kind: PeriodKind, created_at: i64) -> Account {
    Account {
        open_from: kind.start_of(created_at),
        open_until: kind.end_of(created_at),
    }
}

/// The period after one ending at `end`: from `end` to the end of the period holding it.
pub fn next_period(kind: PeriodKind, end: i64) -> Account {
    Account {
        open_from: end,
        open_until: kind.end_of(end),
    }
}

/// The stable id of `tenant`'s bill for the period starting at `start`.
pub fn bill_id(tenant: &str, start: i64) -> String {
    let d = sha2::Sha256::digest(format!("{tenant}:{start}").as_bytes());
    format!("bil_{}", &hex::encode(d)[..20])
}

/// The concurrency lines of a period `[from, until)` from the orders' terms (sorted by order,
/// then by when each term began): one line per order and price, each rounded down once.
pub fn concurrency_lines(from: i64, until: i64, terms: &[TermRow]) -> Vec<BillItem> {
    let period = i128::from((until - from).max(1));
    let mut lines = Vec::new();
    for (i, t) in terms.iter().enumerate() {
        // A term is in force from its start to the next term of the same order.
        let next = terms
            .get(i + 1)
            .filter(|n| n.order_id == t.order_id)
            .map_or(i64::MAX, |n| n.effective_from);
        // An order's first terms hold from its start, even if it was placed later.
        let first = i == 0 || terms[i - 1].order_id != t.order_id;
        let begins = if first { i64::MIN } else { t.effective_from };
        let start = begins.max(t.valid_from).max(from);
        let end = next.min(t.valid_until).min(until);
        if end <= start || t.concurrency <= 0 {
            continue;
        }
        let ms = end - start;
        let weighted = i128::from(t.concurrency) * i128::from(t.price_per_period_micros);
        let same = |l: &(BillItem, i128)| {
            l.0.order_id.as_deref() == Some(&t.order_id)
                && l.0.unit_price_micros == t.price_per_period_micros
        };
        match lines.iter_mut().find(|l| same(l)) {
            Some((line, numerator)) => {
                let line: &mut BillItem = line;
                line.quantity = line.quantity.max(t.concurrency as u64);
                line.covered_secs += (ms / 1000) as u64;
                *numerator += weighted * i128::from(ms);
            }
            None => lines.push((
                BillItem {
                    kind: BillItemKind::Concurrency,
                    spec_id: t.spec_id.clone(),
                    sessions: 0,
                    quantity: t.concurrency as u64,
                    covered_secs: (ms / 1000) as u64,
                    unit_price_micros: t.price_per_period_micros,
                    amount_micros: 0,
                    order_id: Some(t.order_id.clone()),
                    session_id: None,
                    late_from_bill_id: None,
                },
                weighted * i128::from(ms),
            )),
        }
    }
    lines
        .into_iter()
        .map(|(mut line, numerator)| {
            line.amount_micros = i64::try_from(numerator / period).unwrap_or(i64::MAX);
            line
        })
        .collect()
}

fn usage_line(u: &UsageLine) -> BillItem {
    BillItem {
        kind: BillItemKind::Usage,
        spec_id: u.spec_id.clone(),
        sessions: u.sessions.max(0) as u64,
        quantity: u.billable_secs.max(0) as u64,
        covered_secs: 0,
        unit_price_micros: u.price_per_minute_micros,
        amount_micros: u.amount_micros,
        order_id: None,
        session_id: None,
        late_from_bill_id: None,
    }
}

fn late_line(r: &LateRow, from_bill: Option<String>) -> BillItem {
    BillItem {
        kind: BillItemKind::Late,
        spec_id: r.spec_id.clone(),
        sessions: 1,
        quantity: r.billable_secs.max(0) as u64,
        covered_secs: 0,
        unit_price_micros: r.price_per_minute_micros,
        amount_micros: r.amount_micros,
        order_id: None,
        session_id: Some(r.session_id.clone()),
        late_from_bill_id: from_bill,
    }
}

/// A statement's lines in their order: usage per spec and price, the late plays (each with the
/// closed bill it came too late for), then each order's concurrency over the period.
fn lines(
    usage: &[UsageLine],
    late: Vec<(LateRow, Option<String>)>,
    period: &Account,
    terms: &[TermRow],
) -> Vec<BillItem> {
    let mut items: Vec<BillItem> = usage.iter().map(usage_line).collect();
    items.extend(late.into_iter().map(|(r, from)| late_line(&r, from)));
    items.extend(concurrency_lines(
        period.open_from,
        period.open_until,
        terms,
    ));
    items
}

/// A statement from its lines, with its totals.
fn assemble(
    tenant: &str,
    period: Account,
    currency: &str,
    items: Vec<BillItem>,
    closed_at: Option<i64>,
) -> Bill {
    let is_usage = |i: &&BillItem| i.kind != BillItemKind::Concurrency;
    let usage_secs = items.iter().filter(is_usage).map(|i| i.quantity).sum();
    let usage_micros: i64 = items.iter().filter(is_usage).map(|i| i.amount_micros).sum();
    let concurrency_micros: i64 = items
        .iter()
        .filter(|i| i.kind == BillItemKind::Concurrency)
        .map(|i| i.amount_micros)
        .sum();
    Bill {
        id: bill_id(tenant, period.open_from),
        tenant_id: tenant.to_owned(),
        period_start: Timestamp(period.open_from),
        period_end: Timestamp(period.open_until),
        state: if closed_at.is_some() {
            BillState::Closed
        } else {
            BillState::Open
        },
        currency: currency.to_owned(),
        usage_secs,
        usage_micros,
        concurrency_micros,
        total_micros: usage_micros + concurrency_micros,
        closed_at: closed_at.map(Timestamp),
        items,
    }
}

/// The tenant's open period (computed from its creation if the pass has not opened it yet).
async fn open_period(state: &AppState, tenant: &str) -> ApiResult<Account> {
    if let Some(a) = store::bills::account(&state.db.pool, tenant).await? {
        return Ok(a);
    }
    let t = store::accounts::tenant(&state.db.pool, tenant)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    Ok(first_period(state.config.billing_period, t.created_at))
}

/// The id the tenant's open statement has (and its bill will have).
pub async fn open_id(state: &AppState, tenant: &str) -> ApiResult<String> {
    Ok(bill_id(tenant, open_period(state, tenant).await?.open_from))
}

/// The tenant's open statement, as it stands.
pub async fn current(state: &AppState, tenant: &str) -> ApiResult<Bill> {
    let pool = &state.db.pool;
    let period = open_period(state, tenant).await?;
    let usage = store::bills::open_usage(pool, tenant, period.open_from, period.open_until).await?;
    let mut late = Vec::new();
    for r in store::bills::open_late(pool, tenant, period.open_from).await? {
        let from = store::bills::covering(pool, tenant, r.ended_at).await?;
        late.push((r, from));
    }
    let terms =
        store::bills::order_terms(pool, tenant, period.open_from, period.open_until).await?;
    let items = lines(&usage, late, &period, &terms);
    Ok(assemble(
        tenant,
        period,
        &state.config.currency,
        items,
        None,
    ))
}

fn item_from_row(r: ItemRow) -> BillItem {
    let kind = match r.kind.as_str() {
        "late" => BillItemKind::Late,
        "concurrency" => BillItemKind::Concurrency,
        _ => BillItemKind::Usage,
    };
    BillItem {
        kind,
        spec_id: r.spec_id,
        sessions: r.sessions.max(0) as u64,
        quantity: r.quantity.max(0) as u64,
        covered_secs: r.covered_secs.max(0) as u64,
        unit_price_micros: r.unit_price_micros,
        amount_micros: r.amount_micros,
        order_id: r.order_id,
        session_id: r.session_id,
        late_from_bill_id: r.late_from_bill_id,
    }
}

fn kind_text(k: BillItemKind) -> &'static str {
    match k {
        BillItemKind::Usage => "usage",
        BillItemKind::Late => "late",
        BillItemKind::Concurrency => "concurrency",
    }
}

/// A closed bill as the API shows it (its lines when `with_items`).
pub fn from_row(b: BillRow, items: Vec<ItemRow>) -> Bill {
    Bill {
        id: b.id,
        tenant_id: b.tenant_id,
        period_start: Timestamp(b.period_start),
        period_end: Timestamp(b.period_end),
        state: BillState::Closed,
        currency: b.currency,
        usage_secs: b.usage_secs.max(0) as u64,
        usage_micros: b.usage_micros,
        concurrency_micros: b.concurrency_micros,
        total_micros: b.total_micros,
        closed_at: Some(Timestamp(b.closed_at)),
        items: items.into_iter().map(item_from_row).collect(),
    }
}

/// A closed bill, whole.
pub async fn closed(state: &AppState, id: &str) -> ApiResult<Option<Bill>> {
    let pool = &state.db.pool;
    let Some(b) = store::bills::bill(pool, id).await? else {
        return Ok(None);
    };
    let items = store::bills::items(pool, id).await?;
    Ok(Some(from_row(b, items)))
}

/// Opens the first period of tenants that have none yet.
async fn open_accounts(state: &AppState) -> ApiResult<()> {
    let unopened = store::bills::unopened(&state.db.pool, 200).await?;
    if unopened.is_empty() {
        return Ok(());
    }
    let mut tx = state.db.write().await?;
    for (tenant, created_at) in unopened {
        let first = first_period(state.config.billing_period, created_at);
        store::bills::open(&mut tx, &tenant, first).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Closes `tenant`'s open period if the clock `now` is past its end and the close delay;
/// answers the closed bill.
pub async fn close_one(state: &AppState, tenant: &str, now: Timestamp) -> ApiResult<Option<Bill>> {
    let delay = i64::from(state.config.bill_close_delay_secs) * 1000;
    let mut tx = state.db.write().await?;
    let Some(period) = store::bills::account_for_update(&mut tx, state.db.backend, tenant).await?
    else {
        return Ok(None);
    };
    if period.open_until + delay > now.millis() {
        return Ok(None);
    }
    let id = bill_id(tenant, period.open_from);
    store::bills::mark_billed(&mut tx, tenant, period.open_until, &id).await?;
    let usage = store::bills::billed_usage(&mut tx, &id, period.open_from).await?;
    let mut late = Vec::new();
    for r in store::bills::billed_late(&mut tx, &id, period.open_from).await? {
        let from = store::bills::covering_tx(&mut tx, tenant, r.ended_at).await?;
        late.push((r, from));
    }
    let terms =
        store::bills::order_terms_tx(&mut tx, tenant, period.open_from, period.open_until).await?;
    let items = lines(&usage, late, &period, &terms);
    let bill = assemble(
        tenant,
        period,
        &state.config.currency,
        items,
        Some(now.millis()),
    );
    write_closed(&mut tx, &bill).await?;
    store::bills::advance(
        &mut tx,
        tenant,
        next_period(state.config.billing_period, period.open_until),
    )
    .await?;
    let data = serde_json::to_value(&bill).map_err(|e| ApiError::Internal(e.to_string()))?;
    webhooks::emit(
        &mut tx,
        tenant,
        webhooks::BILL_CLOSED,
        &format!("{id}.closed"),
        data,
    )
    .await?;
    tx.commit().await?;
    metrics::counter!("playrack_bills_closed_total").increment(1);
    tracing::info!(bill = %bill.id, tenant, total_micros = bill.total_micros, "bill closed");
    Ok(Some(bill))
}

async fn write_closed(tx: &mut WriteTx, b: &Bill) -> ApiResult<()> {
    let head = BillRow {
        id: b.id.clone(),
        tenant_id: b.tenant_id.clone(),
        period_start: b.period_start.millis(),
        period_end: b.period_end.millis(),
        currency: b.currency.clone(),
        usage_secs: b.usage_secs as i64,
        usage_micros: b.usage_micros,
        concurrency_micros: b.concurrency_micros,
        total_micros: b.total_micros,
        closed_at: b.closed_at.map_or(0, Timestamp::millis),
    };
    let items: Vec<ItemRow> = b
        .items
        .iter()
        .enumerate()
        .map(|(n, i)| ItemRow {
            line: n as i64 + 1,
            kind: kind_text(i.kind).to_owned(),
            spec_id: i.spec_id.clone(),
            sessions: i.sessions as i64,
            quantity: i.quantity as i64,
            covered_secs: i.covered_secs as i64,
            unit_price_micros: i.unit_price_micros,
            amount_micros: i.amount_micros,
            order_id: i.order_id.clone(),
            session_id: i.session_id.clone(),
            late_from_bill_id: i.late_from_bill_id.clone(),
        })
        .collect();
    store::bills::insert(tx, &head, &items).await?;
    Ok(())
}

/// Tenants closed per round of a pass.
const BATCH: i64 = 100;
/// Rounds per pass (a tenant that is several periods behind catches up one a round).
const ROUNDS: usize = 24;

/// The leader's pass: opens new tenants' first periods and closes every period that ended
/// before `now` (less the close delay); answers how many bills it closed.
pub async fn close_due(state: &AppState, now: Timestamp) -> ApiResult<usize> {
    open_accounts(state).await?;
    let delay = i64::from(state.config.bill_close_delay_secs) * 1000;
    let mut closed = 0;
    for _ in 0..ROUNDS {
        let due = store::bills::due(&state.db.pool, now.millis() - delay, BATCH).await?;
        if due.is_empty() {
            break;
        }
        for tenant in due {
            if close_one(state, &tenant, now).await?.is_some() {
                closed += 1;
            }
        }
    }
    Ok(closed)
}

/// Runs [`close_due`] on the leader every `period`.
pub fn spawn(state: AppState, period: Duration) -> tokio::task::JoinHandle<()> {
    crate::leader::every(state, period, "bill close", |s| async move {
        close_due(&s, crate::now()).await
    })
}

/// A statement as CSV: one row per line (amounts in micro-units, exact) and a `total` row.
pub fn to_csv(b: &Bill) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let period = |t: Timestamp| t.to_string();
    let _ = w.write_record([
        "bill_id",
        "tenant_id",
        "period_start",
        "period_end",
        "state",
        "currency",
        "line",
        "kind",
        "spec_id",
        "sessions",
        "quantity",
        "covered_secs",
        "unit_price_micros",
        "amount_micros",
        "order_id",
        "session_id",
        "late_from_bill_id",
    ]);
    let state = match b.state {
        BillState::Open => "open",
        BillState::Closed => "closed",
    };
    let head = [
        b.id.clone(),
        b.tenant_id.clone(),
        period(b.period_start),
        period(b.period_end),
        state.to_owned(),
        b.currency.clone(),
    ];
    for (n, i) in b.items.iter().enumerate() {
        let mut row = head.to_vec();
        row.extend([
            (n + 1).to_string(),
            kind_text(i.kind).to_owned(),
            i.spec_id.clone(),
            i.sessions.to_string(),
            i.quantity.to_string(),
            i.covered_secs.to_string(),
            i.unit_price_micros.to_string(),
            i.amount_micros.to_string(),
            i.order_id.clone().unwrap_or_default(),
            i.session_id.clone().unwrap_or_default(),
            i.late_from_bill_id.clone().unwrap_or_default(),
        ]);
        let _ = w.write_record(&row);
    }
    let mut total = head.to_vec();
    total.extend([
        String::new(),
        "total".to_owned(),
        String::new(),
        String::new(),
        b.usage_secs.to_string(),
        String::new(),
        String::new(),
        b.total_micros.to_string(),
        String::new(),
        String::new(),
        String::new(),
    ]);
    let _ = w.write_record(&total);
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        Timestamp::parse(s).unwrap().millis()
    }

    #[test]
    fn periods_are_calendar_months_weeks_and_days_in_utc() {
        let m = PeriodKind::Month;
        let t = at("2026-12-05T16:44:49Z");
        assert_eq!(m.start_of(t), at("2026-12-01T00:00:00Z"));
        assert_eq!(m.end_of(t), at("2027-01-01T00:00:00Z"));
        assert_eq!(
            m.end_of(at("2028-02-29T23:59:59.999Z")),
            at("2028-03-01T00:00:00Z")
        );
        assert_eq!(
            m.start_of(at("2027-01-01T00:00:00Z")),
            at("2027-01-01T00:00:00Z")
        );
        // 2026-12-05 is a Saturday: its week began on Monday the 30th of November.
        assert_eq!(PeriodKind::Week.start_of(t), at("2026-11-30T00:00:00Z"));
        assert_eq!(PeriodKind::Week.end_of(t), at("2026-12-07T00:00:00Z"));
        assert_eq!(PeriodKind::Day.start_of(t), at("2026-12-05T00:00:00Z"));
        assert_eq!(PeriodKind::Day.end_of(t), at("2026-12-06T00:00:00Z"));
        // Periods follow one another without gap.
        let mut p = first_period(m, t);
        for _ in 0..30 {
            let next = next_period(m, p.open_until);
            assert_eq!(next.open_from, p.open_until);
            assert!(next.open_until > next.open_from);
            p = next;
        }
        assert_eq!(p.open_until, at("2029-07-01T00:00:00Z"));
    }

    #[test]
    fn bill_ids_are_stable_and_distinct() {
        assert_eq!(bill_id("ten_a", 1), bill_id("ten_a", 1));
        assert_ne!(bill_id("ten_a", 1), bill_id("ten_a", 2));
        assert_ne!(bill_id("ten_a", 1), bill_id("ten_b", 1));
        assert!(bill_id("ten_a", 1).starts_with("bil_"));
    }

    fn term(order: &str, from: i64, until: i64, eff: i64, units: i64, price: i64) -> TermRow {
        TermRow {
            order_id: order.into(),
            spec_id: "hd".into(),
            valid_from: from,
            valid_until: until,
            effective_from: eff,
            concurrency: units,
            price_per_period_micros: price,
        }
    }

    #[test]
    fn concurrency_is_charged_pro_rata_to_each_term() {
        let (from, until) = (0, 30 * DAY_MS);
        // Ten units bought for the whole period: the whole price, ten times.
        let whole = concurrency_lines(from, until, &[term("a", -5, i64::MAX, 0, 10, 1_000_000)]);
        assert_eq!(whole.len(), 1);
        assert_eq!(whole[0].amount_micros, 10_000_000);
        assert_eq!(whole[0].covered_secs, 30 * 86_400);
        // Valid for 10 of 30 days: a third, rounded down.
        let third = concurrency_lines(
            from,
            until,
            &[term("b", 5 * DAY_MS, 15 * DAY_MS, 0, 3, 1_000_000)],
        );
        assert_eq!(third[0].amount_micros, 1_000_000);
        assert_eq!(third[0].covered_secs, 10 * 86_400);
        // Ten units for 6 days, then cut to 1, then cancelled on day 12.
        let changed = concurrency_lines(
            from,
            until,
            &[
                term("c", 0, until, 0, 10, 3_000_000),
                term("c", 0, until, 6 * DAY_MS, 1, 3_000_000),
                term("c", 0, until, 12 * DAY_MS, 0, 3_000_000),
            ],
        );
        assert_eq!(changed.len(), 1);
        // 10 × 6/30 + 1 × 6/30 = 2.2 periods of one unit.
        assert_eq!(changed[0].amount_micros, 6_600_000);
        assert_eq!(changed[0].quantity, 10);
        assert_eq!(changed[0].covered_secs, 12 * 86_400);
        // A price change mid-period makes a line per price; terms outside give nothing.
        let repriced = concurrency_lines(
            from,
            until,
            &[
                term("d", 0, until, -DAY_MS, 1, 30),
                term("d", 0, until, 15 * DAY_MS, 1, 60),
                term("e", until, until + DAY_MS, 0, 5, 100),
            ],
        );
        assert_eq!(repriced.len(), 2);
        assert_eq!(repriced[0].amount_micros, 15);
        assert_eq!(repriced[1].amount_micros, 30);
    }

    #[test]
    fn csv_has_a_row_per_line_and_a_total() {
        let bill = assemble(
            "ten_a",
            Account {
                open_from: 0,
                open_until: DAY_MS,
            },
            "CNY",
            vec![usage_line(&UsageLine {
                spec_id: "hd, \"60\"".into(),
                price_per_minute_micros: 60,
                sessions: 2,
                billable_secs: 90,
                amount_micros: 90,
            })],
            None,
        );
        let text = to_csv(&bill);
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][8], "hd, \"60\"");
        assert_eq!(&rows[0][13], "90");
        assert_eq!(&rows[1][7], "total");
        assert_eq!(&rows[1][13], "90");
    }
}
