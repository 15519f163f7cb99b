//! The audit log: one entry per mutation, written in the same transaction as the mutation so an
//! entry exists exactly when the change does.

use crate::auth::Caller;
use crate::db::{self, WriteTx};
use crate::error::ApiResult;
use serde_json::Value;

/// Records `action` (`<object type>.<verb>`) on `object_id`, owned by `tenant_id` if any.
pub async fn record(
    tx: &mut WriteTx,
    caller: &Caller,
    tenant_id: Option<&str>,
    action: &str,
    object_id: &str,
    summary: Value,
) -> ApiResult<()> {
    record_as(tx, caller.id(), tenant_id, action, object_id, summary).await
}

/// Records an entry for an actor that is not a request's caller (`system`, a board agent).
pub async fn record_as(
    tx: &mut WriteTx,
    actor: &str,
    tenant_id: Option<&str>,
    action: &str,
    object_id: &str,
    summary: Value,
) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor, tenant_id, action, object_id, summary, request_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(db::new_id("aud"))
    .bind(crate::now().millis())
    .bind(actor)
    .bind(tenant_id)
    .bind(action)
    .bind(object_id)
    .bind(summary.to_string())
    .bind(crate::http::current_request_id())
    .execute(&mut ***tx)
    .await?;
    metrics::counter!("playrack_audit_entries_total").increment(1);
    Ok(())
}
