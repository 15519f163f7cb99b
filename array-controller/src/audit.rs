//! The audit log: one entry per mutation, written (through [`crate::store::audit`]) in the same
//! transaction as the mutation so an entry exists exactly when the change does.

use crate::auth::Caller;
use crate::db::{self, WriteTx};
use crate::error::ApiResult;
use crate::store;
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
    let id = db::new_id("aud");
    let summary = summary.to_string();
    let request_id = crate::http::current_request_id();
    store::audit::insert(
        tx,
        &store::audit::NewEntry {
            id: &id,
            at: crate::now().millis(),
            actor,
            tenant_id,
            action,
            object_id,
            summary: &summary,
            request_id: request_id.as_deref(),
        },
    )
    .await?;
    metrics::counter!("playrack_audit_entries_total").increment(1);
    Ok(())
}
