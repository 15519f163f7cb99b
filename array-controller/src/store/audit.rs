//! The audit log (`audit_log`): entries written in the transaction of the change they record,
//! and the filtered, paginated reading of them.

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
}

/// Writes an entry in the transaction of the change it records.
pub async fn insert(tx: &mut WriteTx, e: &NewEntry<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor, tenant_id, action, object_id, summary, request_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.id)
    .bind(e.at)
    .bind(e.actor)
    .bind(e.tenant_id)
    .bind(e.action)
    .bind(e.object_id)
    .bind(e.summary)
    .bind(e.request_id)
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
    sqlx::query_as(
        "SELECT id, at, actor, tenant_id, action, object_id, summary, request_id FROM audit_log \
         WHERE ($1 = '' OR tenant_id = $1) AND ($2 = '' OR object_id = $2) \
         AND ($3 = '' OR action = $3) AND id > $4 ORDER BY id LIMIT $5",
    )
    .bind(filter.tenant_id)
    .bind(filter.object_id)
    .bind(filter.action)
    .bind(cursor)
    .bind(limit)
    .fetch_all(pool)
    .await
}
