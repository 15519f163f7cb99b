//! The audit log: one entry per mutation, written (through [`crate::store::audit`]) in the same
//! transaction as the mutation so an entry exists exactly when the change does. A change to an
//! object with a history ([`record_change`]) also keeps the object as the API showed it before
//! and after, which is what the console's history shows and what a restore puts back.

use crate::auth::Caller;
use crate::db::{self, WriteTx};
use crate::error::ApiResult;
use crate::store;
use serde::Serialize;
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

/// Records a change to `object_id` with the object's state `before` and `after` it (`None`:
/// it did not exist), both as the API shows the object; answers the entry's id.
#[allow(clippy::too_many_arguments)]
pub async fn record_change<T: Serialize>(
    tx: &mut WriteTx,
    caller: &Caller,
    tenant_id: Option<&str>,
    action: &str,
    object_id: &str,
    summary: Value,
    before: Option<&T>,
    after: Option<&T>,
) -> ApiResult<String> {
    let state = |v: Option<&T>| v.map(|v| serde_json::to_string(v).unwrap_or_default());
    write(
        tx,
        caller.id(),
        tenant_id,
        action,
        object_id,
        summary,
        (state(before), state(after)),
    )
    .await
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
    write(
        tx,
        actor,
        tenant_id,
        action,
        object_id,
        summary,
        (None, None),
    )
    .await?;
    Ok(())
}

async fn write(
    tx: &mut WriteTx,
    actor: &str,
    tenant_id: Option<&str>,
    action: &str,
    object_id: &str,
    summary: Value,
    (before, after): (Option<String>, Option<String>),
) -> ApiResult<String> {
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
            before: before.as_deref(),
            after: after.as_deref(),
        },
    )
    .await?;
    metrics::counter!("playrack_audit_entries_total").increment(1);
    Ok(id)
}
