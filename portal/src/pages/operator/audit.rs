//! `GET /operator/audit`: the audit log, oldest first as the controller pages it, filtered by
//! tenant, object and action (a plain GET form, so filters are in the address and bookmarkable).

use super::{console, heads, list, load, object_link, operator, rich, strs};
use crate::AppState;
use crate::auth::SignedIn;
use crate::html::{Text, html, pct, table, text, time};
use crate::layout;
use axum::extract::{Query, State};
use axum::response::Response;
use playrack_wire::api::AuditEntry;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct AuditQ {
    pub tenant_id: Option<String>,
    pub object_id: Option<String>,
    pub action: Option<String>,
    pub cursor: Option<String>,
}

/// The longest summary shown in full; longer ones are cut (the API has them whole).
const SUMMARY_CHARS: usize = 400;

/// `GET /operator/audit`.
pub async fn audit(
    State(state): State<AppState>,
    user: SignedIn,
    Query(q): Query<AuditQ>,
) -> Response {
    operator!(user);
    let filters: Vec<(&str, &str)> = [
        ("tenant_id", q.tenant_id.as_deref()),
        ("object_id", q.object_id.as_deref()),
        ("action", q.action.as_deref()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(str::trim).filter(|v| !v.is_empty()).map(|v| (k, v)))
    .collect();
    let query: String = filters
        .iter()
        .map(|(k, v)| format!("{k}={}", pct(v)))
        .collect::<Vec<_>>()
        .join("&");
    let api = if query.is_empty() {
        "/v1/audit".to_owned()
    } else {
        format!("/v1/audit?{query}")
    };
    let page = load!(
        state,
        user,
        list::<AuditEntry>(&state, &user, &api, 100, q.cursor.as_deref()).await
    );
    let rows = page
        .items
        .iter()
        .map(|e| {
            let mut summary = serde_json::to_string(&e.summary).unwrap_or_default();
            if summary.chars().count() > SUMMARY_CHARS {
                summary = summary.chars().take(SUMMARY_CHARS).collect::<String>() + "…";
            }
            vec![
                time(&e.at),
                html! { code { (Text(&e.actor)) } },
                html! {
                    @match &e.tenant_id {
                        Some(t) => {
                            a href={ "/operator/audit?tenant_id=" (Text(pct(t))) }
                                data-testid="audit-tenant" { code { (Text(t)) } }
                        }
                        None => { "—" }
                    }
                },
                html! {
                    a href={ "/operator/audit?action=" (Text(pct(&e.action))) }
                        data-testid="audit-action" { (Text(&e.action)) }
                },
                html! {
                    (object_link(&e.object_id)) " "
                    a href={ "/operator/history/" (Text(pct(&e.object_id))) } data-testid="history-link" {
                        (user.lang.t("hist-link"))
                    }
                },
                html! { code class="summary" data-testid="audit-summary" { (Text(summary)) } },
                text(e.request_id.as_deref().unwrap_or("—")),
            ]
        })
        .collect();
    let value = |k: &str| {
        filters
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| *v)
            .unwrap_or_default()
    };
    let lang = user.lang;
    let form = html! {
        form method="get" action="/operator/audit" class="inline-form filters"
            data-testid="audit-filter"
        {
            div {
                label for="a-tenant" { (lang.t("op-audit-tenant")) }
                input id="a-tenant" name="tenant_id" value=(Text(value("tenant_id")))
                    data-testid="audit-tenant-input";
            }
            div {
                label for="a-object" { (lang.t("op-audit-object")) }
                input id="a-object" name="object_id" value=(Text(value("object_id")))
                    data-testid="audit-object-input";
            }
            div {
                label for="a-action" {
                    (rich(lang, "op-audit-action", &[
                        ("example", html! { code { "board.update" } }),
                    ]))
                }
                input id="a-action" name="action" value=(Text(value("action")))
                    data-testid="audit-action-input";
            }
            button type="submit" data-testid="audit-filter-submit" { (lang.t("op-audit-filter")) }
            " "
            a href="/operator/audit" class="button" data-testid="audit-filter-clear" {
                (lang.t("op-audit-clear"))
            }
        }
    };
    let base = if query.is_empty() {
        "/operator/audit".to_owned()
    } else {
        format!("/operator/audit?{query}")
    };
    let head = heads(
        lang,
        &[
            "op-col-when",
            "op-col-actor",
            "op-col-tenant",
            "op-col-action",
            "op-col-object",
            "op-col-summary",
            "op-col-request",
        ],
    );
    let body = html! {
        h1 { (lang.t("op-audit-title")) }
        p class="muted" { (lang.t("op-audit-intro")) }
        (form)
        (table(
            lang,
            &lang.t("op-audit-caption"),
            "audit",
            &strs(&head),
            rows
        ))
        (super::next_link(lang, &base, page.next_cursor.as_ref()))
    };
    layout::render(
        console(lang.t("op-audit-title"), &user, "/operator/audit", body).page_id("op-audit"),
    )
}
