//! `/console/keys`: the tenant's API keys (create, shown once; revoke) and issuing the
//! player-token key its backend signs player tokens with.

use super::{api_button, api_form, list, load, render, secret_box, tenant};
use crate::AppState;
use crate::auth::SignedIn;
use crate::html::{Text, html, pct, table, text, time, time_opt};
use crate::layout::Page;
use axum::extract::State;
use axum::response::Response;
use playrack_wire::api::{ApiKey, Role};

/// `GET /console/keys`.
pub(super) async fn keys(State(state): State<AppState>, user: SignedIn) -> Response {
    tenant!(user);
    let t = |k: &str| user.lang.t(k);
    let keys = load!(
        state,
        user,
        list::<ApiKey>(&state, &user, "/v1/api-keys", 200, None).await
    );
    let rows = keys
        .items
        .iter()
        .map(|k| {
            vec![
                text(&k.name),
                html! { code { (Text(&k.prefix)) "…" } },
                text(t(&format!("tn-role-{}", k.role.as_str()))),
                time(&k.created_at),
                time_opt(k.last_used_at.as_ref()),
                time_opt(k.expires_at.as_ref()),
                if k.revoked_at.is_some() {
                    html! { span class="badge" { (t("tn-revoked")) } }
                } else {
                    api_button(
                        &t("tn-revoke"),
                        &format!("/api/api-keys/{}/revoke", pct(&k.id)),
                        "POST",
                        Some(&t("tn-key-revoke-confirm")),
                        "revoke-key",
                        "danger small",
                    )
                },
            ]
        })
        .collect();
    let form = api_form(
        "/api/api-keys",
        "POST",
        "secret",
        "create-key",
        html! {
            label for="k-name" { (t("tn-key-purpose")) }
            input id="k-name" name="name" required maxlength="100" data-testid="key-name-input";
            label for="k-role" { (t("tn-role")) }
            select id="k-role" name="role" data-testid="key-role-input" {
                @for r in [Role::TenantDeveloper, Role::TenantViewer, Role::TenantAdmin] {
                    option value=(r.as_str()) { (t(&format!("tn-role-{}", r.as_str()))) }
                }
            }
            label for="k-exp" { (t("tn-key-expires")) }
            input id="k-exp" name="expires_at" type="datetime-local" data-kind="datetime";
            button type="submit" class="primary" data-testid="create-key-submit" { (t("tn-key-create")) }
        },
    );
    let tenant_id = pct(user.tenant_id().unwrap_or_default());
    let body = html! {
        h1 { (t("tn-keys-title")) }
        (table(
            user.lang,
            &t("tn-keys-caption"),
            "keys",
            &[
                t("tn-name"),
                t("tn-prefix"),
                t("tn-role"),
                t("tn-created"),
                t("tn-last-used"),
                t("tn-expires"),
                String::new()
            ],
            rows
        ))
        section class="card" { h2 { (t("tn-key-new")) } (form) (secret_box(user.lang)) }
        section class="card" {
            h2 { (t("tn-player-key")) }
            p class="muted" { (t("tn-player-key-intro")) }
            button type="button" data-api={ "/api/tenants/" (Text(&tenant_id)) "/player-key" }
                data-method="POST" data-then="secret"
                data-confirm=(t("tn-player-key-confirm"))
                data-testid="issue-player-key" { (t("tn-player-key-issue")) }
            (secret_box(user.lang))
        }
    };
    render(Page::console(t("tn-keys-title"), &user, "/console/keys", body).page_id("keys"))
}
