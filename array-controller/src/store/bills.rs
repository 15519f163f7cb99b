//! Bills: each tenant's open billing period (`billing_accounts`), closed statements (`bills`,
//! `bill_items`), which bill each usage-ledger row went into (`usage_ledger.bill_id`) and the
//! orders' terms over time (`order_terms`).
//!
//! Every read of the ledger here is a range of an index: the open period's rows through the
//! partial index of unbilled rows, a closed bill's rows by `bill_id` — never the history.

use crate::db::WriteTx;
use sqlx::{AnyPool, Executor};

/// The open period's usage of a tenant: `$1` tenant, `[$2, $3)` ended.
pub const OPEN_USAGE: &str = "SELECT spec_id, price_per_minute_micros, COUNT(*) AS sessions, \
         CAST(SUM(billable_secs) AS BIGINT) AS billable_secs, CAST(SUM(amount_micros) AS BIGINT) AS amount_micros \
         FROM usage_ledger WHERE tenant_id = $1 AND bill_id IS NULL AND ended_at >= $2 AND ended_at < $3 \
         GROUP BY spec_id, price_per_minute_micros ORDER BY spec_id, price_per_minute_micros";

/// The open period's late rows of a tenant: `$1` tenant, ended before `$2`.
pub const OPEN_LATE: &str = "SELECT session_id, spec_id, price_per_minute_micros, billable_secs, amount_micros, ended_at \
         FROM usage_ledger WHERE tenant_id = $1 AND bill_id IS NULL AND ended_at < $2 \
         ORDER BY ended_at, session_id";

/// A bill's usage: `$1` bill, ended from `$2` on.
pub const BILLED_USAGE: &str = "SELECT spec_id, price_per_minute_micros, COUNT(*) AS sessions, \
         CAST(SUM(billable_secs) AS BIGINT) AS billable_secs, CAST(SUM(amount_micros) AS BIGINT) AS amount_micros \
         FROM usage_ledger WHERE bill_id = $1 AND ended_at >= $2 \
         GROUP BY spec_id, price_per_minute_micros ORDER BY spec_id, price_per_minute_micros";

/// A bill's late rows: `$1` bill, ended before `$2`.
pub const BILLED_LATE: &str = "SELECT session_id, spec_id, price_per_minute_micros, billable_secs, amount_micros, ended_at \
         FROM usage_ledger WHERE bill_id = $1 AND ended_at < $2 ORDER BY ended_at, session_id";

/// Marks a tenant's unbilled rows as billed: `$1` bill, `$2` tenant, ended before `$3`.
pub const MARK_BILLED: &str = "UPDATE usage_ledger SET bill_id = $1 WHERE tenant_id = $2 AND bill_id IS NULL AND ended_at < $3";

/// A tenant's open billing period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Account {
    pub open_from: i64,
    pub open_until: i64,
}

/// A tenant's open period, if it has one yet.
pub async fn account(pool: &AnyPool, tenant: &str) -> Result<Option<Account>, sqlx::Error> {
    sqlx::query_as("SELECT open_from, open_until FROM billing_accounts WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_optional(pool)
        .await
}

/// The same inside the transaction that closes it, holding its row (PostgreSQL).
pub async fn account_for_update(
    tx: &mut WriteTx,
    backend: super::Backend,
    tenant: &str,
) -> Result<Option<Account>, sqlx::Error> {
    let sql = match backend {
        super::Backend::Sqlite => {
            "SELECT open_from, open_until FROM billing_accounts WHERE tenant_id = $1"
        }
        super::Backend::Postgres => {
            "SELECT open_from, open_until FROM billing_accounts WHERE tenant_id = $1 FOR UPDATE"
        }
    };
    sqlx::query_as(sql)
        .bind(tenant)
        .fetch_optional(&mut ***tx)
        .await
}

/// Tenants without a billing account yet, with when each was created.
pub async fn unopened(pool: &AnyPool, limit: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.id, t.created_at FROM tenants t LEFT JOIN billing_accounts a ON a.tenant_id = t.id \
         WHERE a.tenant_id IS NULL ORDER BY t.id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Opens a tenant's first period (a second call leaves the first's).
pub async fn open(tx: &mut WriteTx, tenant: &str, a: Account) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO billing_accounts (tenant_id, open_from, open_until) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_id) DO NOTHING",
    )
    .bind(tenant)
    .bind(a.open_from)
    .bind(a.open_until)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// Moves a tenant's open period on.
pub async fn advance(tx: &mut WriteTx, tenant: &str, next: Account) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE billing_accounts SET open_from = $1, open_until = $2 WHERE tenant_id = $3")
        .bind(next.open_from)
        .bind(next.open_until)
        .bind(tenant)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// Up to `limit` tenants whose open period ended before `before` (the oldest first).
pub async fn due(pool: &AnyPool, before: i64, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT tenant_id FROM billing_accounts WHERE open_until <= $1 ORDER BY open_until LIMIT $2",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Puts every unbilled ledger row of `tenant` that ended before `until` into `bill_id` (the
/// period's rows and any late ones); answers how many.
pub async fn mark_billed(
    tx: &mut WriteTx,
    tenant: &str,
    until: i64,
    bill_id: &str,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(MARK_BILLED)
        .bind(bill_id)
        .bind(tenant)
        .bind(until)
        .execute(&mut ***tx)
        .await?
        .rows_affected())
}

/// A spec's plays at one price per minute, summed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UsageLine {
    pub spec_id: String,
    pub price_per_minute_micros: i64,
    pub sessions: i64,
    pub billable_secs: i64,
    pub amount_micros: i64,
}

/// One ledger row carried from a closed period.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LateRow {
    pub session_id: String,
    pub spec_id: String,
    pub price_per_minute_micros: i64,
    pub billable_secs: i64,
    pub amount_micros: i64,
    pub ended_at: i64,
}

/// The open period's usage: unbilled rows of `tenant` that ended in `[from, until)`.
pub async fn open_usage(
    pool: &AnyPool,
    tenant: &str,
    from: i64,
    until: i64,
) -> Result<Vec<UsageLine>, sqlx::Error> {
    sqlx::query_as(OPEN_USAGE)
        .bind(tenant)
        .bind(from)
        .bind(until)
        .fetch_all(pool)
        .await
}

/// The open period's late rows: unbilled rows of `tenant` that ended before `from` (in a
/// period already closed).
pub async fn open_late(
    pool: &AnyPool,
    tenant: &str,
    from: i64,
) -> Result<Vec<LateRow>, sqlx::Error> {
    sqlx::query_as(OPEN_LATE)
        .bind(tenant)
        .bind(from)
        .fetch_all(pool)
        .await
}

/// A bill's usage: its rows that ended in its period (from `from` on).
pub async fn billed_usage(
    tx: &mut WriteTx,
    bill_id: &str,
    from: i64,
) -> Result<Vec<UsageLine>, sqlx::Error> {
    sqlx::query_as(BILLED_USAGE)
        .bind(bill_id)
        .bind(from)
        .fetch_all(&mut ***tx)
        .await
}

/// A bill's late rows: those that ended before its period.
pub async fn billed_late(
    tx: &mut WriteTx,
    bill_id: &str,
    from: i64,
) -> Result<Vec<LateRow>, sqlx::Error> {
    sqlx::query_as(BILLED_LATE)
        .bind(bill_id)
        .bind(from)
        .fetch_all(&mut ***tx)
        .await
}

/// One term of an order that overlaps a period (with the order's validity).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TermRow {
    pub order_id: String,
    pub spec_id: String,
    pub valid_from: i64,
    pub valid_until: i64,
    pub effective_from: i64,
    pub concurrency: i64,
    pub price_per_period_micros: i64,
}

async fn terms_in<'e, E: Executor<'e, Database = sqlx::Any>>(
    e: E,
    tenant: &str,
    from: i64,
    until: i64,
) -> Result<Vec<TermRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.id AS order_id, o.spec_id, o.valid_from, o.valid_until, t.effective_from, \
         t.concurrency, t.price_per_period_micros FROM orders o JOIN order_terms t ON t.order_id = o.id \
         WHERE o.tenant_id = $1 AND o.valid_from < $3 AND o.valid_until > $2 AND t.effective_from < $3 \
         ORDER BY o.id, t.effective_from",
    )
    .bind(tenant)
    .bind(from)
    .bind(until)
    .fetch_all(e)
    .await
}

/// The terms of `tenant`'s orders in force at some time of `[from, until)` (and before it).
pub async fn order_terms(
    pool: &AnyPool,
    tenant: &str,
    from: i64,
    until: i64,
) -> Result<Vec<TermRow>, sqlx::Error> {
    terms_in(pool, tenant, from, until).await
}

/// The same, inside the closing transaction.
pub async fn order_terms_tx(
    tx: &mut WriteTx,
    tenant: &str,
    from: i64,
    until: i64,
) -> Result<Vec<TermRow>, sqlx::Error> {
    terms_in(&mut ***tx, tenant, from, until).await
}

/// A closed bill's head.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BillRow {
    pub id: String,
    pub tenant_id: String,
    pub period_start: i64,
    pub period_end: i64,
    pub currency: String,
    pub usage_secs: i64,
    pub usage_micros: i64,
    pub concurrency_micros: i64,
    pub total_micros: i64,
    pub closed_at: i64,
}

/// A closed bill's line.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ItemRow {
    pub line: i64,
    pub kind: String,
    pub spec_id: String,
    pub sessions: i64,
    pub quantity: i64,
    pub covered_secs: i64,
    pub unit_price_micros: i64,
    pub amount_micros: i64,
    pub order_id: Option<String>,
    pub session_id: Option<String>,
    pub late_from_bill_id: Option<String>,
}

/// Writes a closed bill and its lines.
pub async fn insert(tx: &mut WriteTx, b: &BillRow, items: &[ItemRow]) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO bills (id, tenant_id, period_start, period_end, currency, usage_secs, usage_micros, \
         concurrency_micros, total_micros, closed_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
    )
    .bind(&b.id)
    .bind(&b.tenant_id)
    .bind(b.period_start)
    .bind(b.period_end)
    .bind(&b.currency)
    .bind(b.usage_secs)
    .bind(b.usage_micros)
    .bind(b.concurrency_micros)
    .bind(b.total_micros)
    .bind(b.closed_at)
    .execute(&mut ***tx)
    .await?;
    for i in items {
        sqlx::query(
            "INSERT INTO bill_items (bill_id, line, kind, spec_id, sessions, quantity, covered_secs, \
             unit_price_micros, amount_micros, order_id, session_id, late_from_bill_id) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)",
        )
        .bind(&b.id)
        .bind(i.line)
        .bind(&i.kind)
        .bind(&i.spec_id)
        .bind(i.sessions)
        .bind(i.quantity)
        .bind(i.covered_secs)
        .bind(i.unit_price_micros)
        .bind(i.amount_micros)
        .bind(i.order_id.as_deref())
        .bind(i.session_id.as_deref())
        .bind(i.late_from_bill_id.as_deref())
        .execute(&mut ***tx)
        .await?;
    }
    Ok(())
}

/// `SELECT` of a [`BillRow`] from `bills`, up to its `WHERE` (a macro, so each query stays one
/// `'static` string).
macro_rules! select_bills {
    () => {
        "SELECT id, tenant_id, period_start, period_end, currency, usage_secs, usage_micros, \
         concurrency_micros, total_micros, closed_at FROM bills "
    };
}

/// A closed bill.
pub async fn bill(pool: &AnyPool, id: &str) -> Result<Option<BillRow>, sqlx::Error> {
    sqlx::query_as(concat!(select_bills!(), "WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// A closed bill's lines, in order.
pub async fn items(pool: &AnyPool, id: &str) -> Result<Vec<ItemRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT line, kind, spec_id, sessions, quantity, covered_secs, unit_price_micros, amount_micros, \
         order_id, session_id, late_from_bill_id FROM bill_items WHERE bill_id = $1 ORDER BY line",
    )
    .bind(id)
    .fetch_all(pool)
    .await
}

/// Up to `limit` closed bills of `tenant` (newest period first) that began before `before`.
pub async fn of_tenant(
    pool: &AnyPool,
    tenant: &str,
    before: i64,
    limit: i64,
) -> Result<Vec<BillRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        select_bills!(),
        "WHERE tenant_id = $1 AND period_start < $2 ORDER BY period_start DESC LIMIT $3"
    ))
    .bind(tenant)
    .bind(before)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Up to `limit` closed bills of every tenant for periods that began at `period_start`, by
/// tenant id after `after`.
pub async fn of_period(
    pool: &AnyPool,
    period_start: i64,
    after: &str,
    limit: i64,
) -> Result<Vec<BillRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        select_bills!(),
        "WHERE period_start = $1 AND tenant_id > $2 ORDER BY tenant_id LIMIT $3"
    ))
    .bind(period_start)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The newest period start any bill has (what the operator's list shows first).
pub async fn latest_period(pool: &AnyPool) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT MAX(period_start) FROM bills")
        .fetch_one(pool)
        .await
}

async fn covering_in<'e, E: Executor<'e, Database = sqlx::Any>>(
    e: E,
    tenant: &str,
    at: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM bills WHERE tenant_id = $1 AND period_start <= $2 AND period_end > $2",
    )
    .bind(tenant)
    .bind(at)
    .fetch_optional(e)
    .await
}

/// The closed bill of `tenant` whose period holds the instant `at`.
pub async fn covering(
    pool: &AnyPool,
    tenant: &str,
    at: i64,
) -> Result<Option<String>, sqlx::Error> {
    covering_in(pool, tenant, at).await
}

/// The same, inside the closing transaction.
pub async fn covering_tx(
    tx: &mut WriteTx,
    tenant: &str,
    at: i64,
) -> Result<Option<String>, sqlx::Error> {
    covering_in(&mut ***tx, tenant, at).await
}
