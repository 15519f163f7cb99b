//! An object's change history, the same page in both consoles (`/console/history/{id}` and
//! `/operator/history/{id}`): its changes newest first, each with when, who, the action and
//! every field it changed (before → after), and — where the controller says the value before
//! the change can be put back and the viewer may change the object — a Restore button. The
//! controller decides what is restorable and who may restore; the button only asks it.

use crate::AppState;
use crate::auth::SignedIn;
use crate::html::{Markup, Text, api_button, html, pct, table, time};
use crate::i18n::Lang;
use crate::layout::Page;
use crate::pages::load;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use fluent_templates::fluent_bundle::FluentValue;
use playrack_wire::api::{AuditEntry, FieldChange, Role};
use serde::Deserialize;

/// `?cursor=` for older entries.
#[derive(Debug, Default, Deserialize)]
pub struct HistoryQ {
    pub cursor: Option<String>,
}

/// Entries a page shows.
const PER_PAGE: u32 = 50;

/// Where an object's history is, in the console `user` works in.
fn href(user: &SignedIn, object_id: &str) -> String {
    let console = if user.is_operator() {
        "operator"
    } else {
        "console"
    };
    format!("/{console}/history/{}", pct(object_id))
}

/// Whether `user` may restore `entry` (the controller checks again): orders are the
/// operator admins', everything else their owners' (not viewers').
fn may_restore(user: &SignedIn, entry: &AuditEntry) -> bool {
    let role = user.session.principal.role;
    entry.restorable
        && match entry.action.starts_with("order.") {
            true => role == Role::OperatorAdmin,
            false => !matches!(role, Role::TenantViewer | Role::OperatorViewer),
        }
}

/// A field's value for a person: strings bare, absent as `—`, anything else as JSON.
fn value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "—".into(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn changes(lang: Lang, cs: &[FieldChange]) -> Markup {
    html! {
        @if cs.is_empty() {
            span class="muted" { (lang.t("hist-no-fields")) }
        } @else {
            ul class="changes" data-testid="history-changes" {
                @for c in cs {
                    li data-field=(Text(&c.field)) {
                        code { (Text(&c.field)) } ": "
                        del { (Text(value(&c.before))) } " → " ins { (Text(value(&c.after))) }
                    }
                }
            }
        }
    }
}

/// `GET /console/history/{id}` and `GET /operator/history/{id}`.
pub async fn page(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<HistoryQ>,
) -> Response {
    let lang = user.lang;
    let mut api = format!("/v1/history/{}?limit={PER_PAGE}", pct(&id));
    if let Some(c) = q.cursor.as_deref().filter(|c| !c.is_empty()) {
        api.push_str(&format!("&cursor={}", pct(c)));
    }
    let page = load!(
        state,
        user,
        state
            .ctl
            .get::<playrack_wire::api::Page<AuditEntry>>(api, user.token())
            .await
    );
    let rows = page
        .items
        .iter()
        .map(|e| {
            vec![
                time(&e.at),
                html! { code { (Text(&e.actor)) } },
                html! { span data-testid="history-action" { (Text(&e.action)) } },
                changes(lang, &e.changes),
                html! {
                    @if may_restore(&user, e) {
                        (api_button(
                            &lang.t("hist-restore"),
                            &format!("/api/audit/{}/restore", pct(&e.id)),
                            "POST",
                            None,
                            Some(&lang.t("hist-restore-confirm")),
                            "history-restore",
                            "small",
                        ))
                    }
                },
            ]
        })
        .collect();
    let head = [
        "hist-col-when",
        "hist-col-who",
        "hist-col-action",
        "hist-col-changes",
    ]
    .map(|k| lang.t(k));
    let mut head: Vec<&str> = head.iter().map(String::as_str).collect();
    head.push("");
    let title = lang.t_args("hist-title", &[("object", FluentValue::from(id.clone()))]);
    let base = href(&user, &id);
    let body = html! {
        h1 { (title) }
        p class="muted" { (lang.t("hist-intro")) }
        (table(lang, &lang.t("hist-caption"), "history", &head, rows))
        @if let Some(c) = &page.next_cursor {
            p { a href={ (Text(&base)) "?cursor=" (Text(pct(c))) } data-testid="next-page" { (lang.t("hist-older")) } }
        }
    };
    // The navigation entry the object belongs under.
    let current = match (user.is_operator(), id.split('_').next().unwrap_or_default()) {
        (true, "ord") => "/operator/orders",
        (true, _) => "/operator/audit",
        (false, "lnk") => "/console/links",
        (false, "ord") => "/console/orders",
        (false, _) => "/console/games",
    };
    crate::layout::render(Page::console(title.clone(), &user, current, body).page_id("history"))
}
