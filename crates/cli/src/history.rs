//! An object's change history (newest first, each change's fields before → after) and putting
//! an earlier value back from one of its entries.

use playrack_wire::api::{AuditEntry, FieldChange, Page};
use reqwest::Method;

use crate::api::CliError;
use crate::output::{show, table};
use crate::signed_in;

/// At most this many entries are printed (the newest); `--json` gives the same page.
const SHOWN: u32 = 50;

/// A field's value for a person: strings bare, absent as `—`, anything else as JSON.
fn value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "—".into(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `field: before → after`, one per change, joined by `; `.
fn changes(cs: &[FieldChange]) -> String {
    cs.iter()
        .map(|c| format!("{}: {} → {}", c.field, value(&c.before), value(&c.after)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `playrack history <object>`.
pub async fn history(object: &str, json: bool) -> Result<(), CliError> {
    let (api, _) = signed_in()?;
    // The id is a path segment: the URL type encodes it.
    let mut u = reqwest::Url::parse("http://history.invalid/v1/history").expect("a literal URL");
    u.path_segments_mut()
        .expect("an http URL has segments")
        .push(object);
    let page: Page<AuditEntry> = api
        .get_with(u.path(), &[("limit", SHOWN.to_string())])
        .await?;
    show(json, &page, |p| {
        if p.items.is_empty() {
            println!("no recorded changes to {object} (or it is not yours)");
            return;
        }
        table(
            &["ENTRY", "WHEN", "WHO", "ACTION", "CHANGES", "RESTORE"],
            p.items
                .iter()
                .map(|e| {
                    vec![
                        e.id.clone(),
                        e.at.to_string(),
                        e.actor.clone(),
                        e.action.clone(),
                        changes(&e.changes),
                        if e.restorable { "yes" } else { "—" }.into(),
                    ]
                })
                .collect(),
        );
        if p.next_cursor.is_some() {
            println!("(the newest {SHOWN}; --json and the API page through older ones)");
        }
    });
    Ok(())
}

/// `playrack restore <entry>`.
pub async fn restore(entry: &str, json: bool) -> Result<(), CliError> {
    let (api, _) = signed_in()?;
    let mut u = reqwest::Url::parse("http://history.invalid/v1/audit").expect("a literal URL");
    u.path_segments_mut()
        .expect("an http URL has segments")
        .push(entry)
        .push("restore");
    let done: AuditEntry = api.call::<(), _>(Method::POST, u.path(), None).await?;
    show(json, &done, |e| {
        if e.changes.is_empty() {
            println!(
                "{} already had the values of {entry}; nothing changed",
                e.object_id
            );
        } else {
            println!(
                "restored {} ({}): {}",
                e.object_id,
                e.id,
                changes(&e.changes)
            );
        }
    });
    Ok(())
}
