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
                text(k.role.as_str()),
                time(&k.created_at),
                time_opt(k.last_used_at.as_ref()),
                time_opt(k.expires_at.as_ref()),
                if k.revoked_at.is_some() {
                    html! { span class="badge" { "revoked" } }
                } else {
                    api_button(
                        "Revoke",
                        &format!("/api/api-keys/{}/revoke", pct(&k.id)),
                        "POST",
                        Some("Revoke this key? Anything using it stops working at once."),
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
            label for="k-name" { "What it is for" }
            input id="k-name" name="name" required maxlength="100" data-testid="key-name-input";
            label for="k-role" { "Role" }
            select id="k-role" name="role" data-testid="key-role-input" {
                @for r in [Role::TenantDeveloper, Role::TenantViewer, Role::TenantAdmin] {
                    option value=(r.as_str()) { (r.as_str()) }
                }
            }
            label for="k-exp" { "Expires (empty: in 90 days; a year at most)" }
            input id="k-exp" name="expires_at" type="datetime-local" data-kind="datetime";
            button type="submit" class="primary" data-testid="create-key-submit" { "Create key" }
        },
    );
    let tenant_id = pct(user.tenant_id().unwrap_or_default());
    let body = html! {
        h1 { "API keys" }
        (table(
            "Keys",
            "keys",
            &[
                "Name",
                "Prefix",
                "Role",
                "Created",
                "Last used",
                "Expires",
                ""
            ],
            rows
        ))
        section class="card" { h2 { "New key" } (form) (secret_box()) }
        section class="card" {
            h2 { "Player-token key" }
            p class="muted" {
                "Your backend signs player tokens with this key (plays by game id instead of \
                 try-play links): JWTs with HS256, iss = your tenant id, sub = the player, exp \
                 (see the SDK's examples). Tenant admins only; shown once."
            }
            button type="button" data-api={ "/api/tenants/" (Text(&tenant_id)) "/player-key" }
                data-method="POST" data-then="secret"
                data-confirm="Issue a new player-token key? Tokens signed with the old key stop working."
                data-testid="issue-player-key" { "Issue player-token key" }
            (secret_box())
        }
    };
    render(Page::console("API keys", &user, "/console/keys", body).page_id("keys"))
}
