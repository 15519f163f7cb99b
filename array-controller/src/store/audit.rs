//! The audit log (`audit_log`): entries written in the transaction of the change they record
//! (with the object's state before and after), the filtered, paginated reading of them, and one
//! object's history, newest first, read through its own index.

use crate::db::WriteTx;
use sqlx::AnyPool;

/// An audit entry as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: String,
    pub at: i64,
    pub actor: String,
    pub tenant_id: Option<String>,
    pub action: String,
    pub object_id: String,
    /// JSON.
    pub summary: String,
    pub request_id: Option<String>,
    /// JSON: the object before the change.
    pub before_state: Option<String>,
    /// JSON: the object after the change.
    pub after_state: Option<String>,
}

/// `SELECT <every column> FROM audit_log <rest>`.
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, at, actor, tenant_id, action, object_id, summary, request_id, \
             before_state, after_state FROM audit_log ",
            $rest
        )
    };
}

/// What a new entry says.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub id: &'a str,
    pub at: i64,
    pub actor: &'a str,
    pub tenant_id: Option<&'a str>,
    pub action: &'a str,
    pub object_id: &'a str,
    /// JSON.
    pub summary: &'a str,
    pub request_id: Option<&'a str>,
    /// JSON.
    pub before: Option<&'a str>,
    /// JSON.
    pub after: Option<&'a str>,
}

/// Writes an entry in the transaction of the change it records.
pub async fn insert(tx: &mut WriteTx, e: &NewEntry<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor, tenant_id, action, object_id, summary, request_id, \
         before_state, after_state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(e.id)
    .bind(e.at)
    .bind(e.actor)
    .bind(e.tenant_id)
    .bind(e.action)
    .bind(e.object_id)
    .bind(e.summary)
    .bind(e.request_id)
    .bind(e.before)
    .bind(e.after)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// Which entries a page holds: each filter is ignored when empty.
#[derive(Debug, Clone, Default)]
pub struct Filter<'a> {
    pub tenant_id: &'a str,
    pub object_id: &'a str,
    pub action: &'a str,
}

/// Up to `limit` entries matching `filter` with ids after `cursor`, oldest first.
pub async fn page(
    pool: &AnyPool,
    filter: &Filter<'_>,
    cursor: &str,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    sqlx::query_as(select!(
        "WHERE ($1 = '' OR tenant_id = $1) AND ($2 = '' OR object_id = $2) \
         AND ($3 = '' OR action = $3) AND id > $4 ORDER BY id LIMIT $5"
    ))
    .bind(filter.tenant_id)
    .bind(filter.object_id)
    .bind(filter.action)
    .bind(cursor)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// One object's entries, newest first: `$1` the object, `$2` the tenant (empty: any), `$3`
/// the cursor (empty: the newest), `$4` the limit. Read through `audit_log_object`.
pub const HISTORY: &str = select!(
    "WHERE object_id = $1 AND ($2 = '' OR tenant_id = $2) \
     AND ($3 = '' OR id < $3) ORDER BY id DESC LIMIT $4"
);

/// Up to `limit` entries about `object_id` with ids before `cursor` (any when empty), newest
/// first; with a non-empty `tenant_id`, only that tenant's.
pub async fn history(
    pool: &AnyPool,
    object_id: &str,
    tenant_id: &str,
    cursor: &str,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    sqlx::query_as(HISTORY)
        .bind(object_id)
        .bind(tenant_id)
        .bind(cursor)
        .bind(limit)
        .fetch_all(pool)
        .await
}

/// One entry.
pub async fn get(pool: &AnyPool, id: &str) -> Result<Option<AuditRow>, sqlx::Error> {
    sqlx::query_as(select!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}
