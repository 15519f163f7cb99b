//! The audit log, and each entry's change: the object before and after, field by field.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// One mutation: who did what to which object, when, and what it changed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub id: String,
    pub at: Timestamp,
    /// The principal's id (`acc_…`, `key_…`) or `system`.
    pub actor: String,
    /// The tenant that owns the object, if any (tenants read only their own entries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// `<object type>.<verb>`, e.g. `game.create`, `version.publish`.
    pub action: String,
    pub object_id: String,
    pub summary: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The object as it was before the change, as the API shows it (absent when the change
    /// created it, or when the log kept no state for this kind of change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The object as the change left it (absent when the change deleted it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    /// The fields whose values differ between `before` and `after`, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    /// Whether `POST /v1/audit/{id}/restore` can put `before` back.
    #[serde(default)]
    pub restorable: bool,
}

/// One field an entry changed (`null` where the field was or became absent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FieldChange {
    pub field: String,
    pub before: Value,
    pub after: Value,
}

/// The top-level fields whose values differ between two states of an object, in field order;
/// a missing state counts as an object with no fields, a field missing on one side as `null`.
pub fn field_changes(before: Option<&Value>, after: Option<&Value>) -> Vec<FieldChange> {
    let empty = serde_json::Map::new();
    let fields = |v: Option<&Value>| match v {
        Some(Value::Object(m)) => m.clone(),
        _ => empty.clone(),
    };
    let (b, a) = (fields(before), fields(after));
    let mut names: Vec<&String> = b.keys().chain(a.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|name| {
            let was = b.get(name).cloned().unwrap_or(Value::Null);
            let is = a.get(name).cloned().unwrap_or(Value::Null);
            (was != is).then(|| FieldChange {
                field: name.clone(),
                before: was,
                after: is,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_differing_fields_are_changes_and_absent_is_null() {
        let before = json!({"concurrency": 2, "priority": 0, "status": "ACTIVE", "note": "x"});
        let after = json!({"concurrency": 5, "priority": 0, "status": "ACTIVE", "max": 3});
        let got = field_changes(Some(&before), Some(&after));
        assert_eq!(
            got,
            vec![
                FieldChange {
                    field: "concurrency".into(),
                    before: json!(2),
                    after: json!(5)
                },
                FieldChange {
                    field: "max".into(),
                    before: Value::Null,
                    after: json!(3)
                },
                FieldChange {
                    field: "note".into(),
                    before: json!("x"),
                    after: Value::Null
                },
            ]
        );
        assert!(field_changes(Some(&before), Some(&before)).is_empty());
    }

    #[test]
    fn a_creation_lists_every_field_and_non_objects_count_as_empty() {
        let after = json!({"a": 1, "b": [1, 2]});
        let got = field_changes(None, Some(&after));
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|c| c.before.is_null()));
        assert!(field_changes(Some(&json!(7)), Some(&json!("x"))).is_empty());
        assert!(field_changes(None, None).is_empty());
    }
}
