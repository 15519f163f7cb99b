//! The tenant console, `/console/…`, one module a page group: [`games`] (games, their versions:
//! upload, publish/revoke, deploy with per-room progress), [`links`] (try-play links with QR
//! codes), [`campaigns`] (what the links led to, per campaign and day), [`sessions`] (live
//! plays, kick), [`billing`] (usage charts, orders and the quota in use), bills (in [`crate::pages::bills`]), [`archives`] (save archives), [`keys`] (API keys, the player-token key) and
//! [`webhooks`] (endpoints and their delivery log). Shared here: the routes, controller list
//! reads, and the forms and buttons that `assets/app.js` drives.
//!
//! Pages are rendered from controller reads made with the session's token; every change is made
//! by `assets/app.js` (and `assets/upload.js`) through the `/api` proxy, driven by `data-api`
//! attributes on forms and buttons. Operators are sent to `/operator`.

mod archives;
mod billing;
mod campaigns;
mod embed;
mod games;
mod grey;
mod keys;
mod links;
mod sessions;
mod webhooks;

use crate::AppState;
use crate::auth::SignedIn;
use crate::controller::CtlError;
use crate::html::{Markup, Text, html, pct};
use crate::i18n::Lang;
use crate::layout::{self, Page};
use axum::Router;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use playrack_wire::api::Game;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(index))
        .route("/console/games", get(games::games))
        .route("/console/games/{id}", get(games::game))
        .route("/console/versions/{id}/deploy", get(games::deploy))
        .route("/console/links", get(links::links))
        .route("/console/campaigns", get(campaigns::campaigns))
        .route("/console/sessions", get(sessions::sessions))
        .route("/console/usage", get(billing::usage))
        .route("/console/orders", get(billing::orders))
        .route("/console/bills", get(bills))
        .route("/console/bills/{id}", get(bill))
        .route("/console/archives", get(archives::archives))
        .route("/console/keys", get(keys::keys))
        .route("/console/webhooks", get(webhooks::webhooks))
        .route("/console/webhooks/{id}", get(webhooks::webhook))
        .route("/console/history/{id}", get(history))
}

/// `?cursor=` on list pages.
#[derive(Debug, Default, Deserialize)]
pub struct CursorQ {
    pub cursor: Option<String>,
}

/// A page of a controller list (`limit` items from `cursor`).
async fn list<T: DeserializeOwned>(
    state: &AppState,
    user: &SignedIn,
    path: impl Into<String>,
    limit: u32,
    cursor: Option<&str>,
) -> Result<playrack_wire::api::Page<T>, CtlError> {
    let path: String = path.into();
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut p = format!("{path}{sep}limit={limit}");
    if let Some(c) = cursor.filter(|c| !c.is_empty()) {
        p.push_str(&format!("&cursor={}", pct(c)));
    }
    state.ctl.get(p, user.token()).await
}

/// The "next page" link of a list page.
fn next_link(lang: Lang, base: &str, next: Option<&String>) -> Markup {
    html! {
        @if let Some(c) = next {
            @let sep = if base.contains('?') { '&' } else { '?' };
            p { a href={ (Text(base)) (sep) "cursor=" (Text(pct(c))) } data-testid="next-page" { (lang.t("next-page")) } }
        }
    }
}

/// Tenant pages only: operators go to their console.
fn tenant_only(user: &SignedIn) -> Option<Response> {
    (user.is_operator() || user.tenant_id().is_none())
        .then(|| Redirect::to("/operator").into_response())
}

macro_rules! tenant {
    ($user:expr) => {
        if let Some(r) = $crate::pages::tenant::tenant_only(&$user) {
            return r;
        }
    };
}
use tenant;

use crate::pages::load;

/// Game id → name, for tables that show game ids.
async fn game_names(
    state: &AppState,
    user: &SignedIn,
) -> Result<HashMap<String, String>, CtlError> {
    let page: playrack_wire::api::Page<Game> = list(state, user, "/v1/games", 200, None).await?;
    Ok(page.items.into_iter().map(|g| (g.id, g.name)).collect())
}

fn name_of<'a>(names: &'a HashMap<String, String>, id: &'a str) -> &'a str {
    names.get(id).map(String::as_str).unwrap_or(id)
}

use crate::html::api_form;

/// A button that `app.js` turns into a `/api` call (with an optional confirmation).
fn api_button(
    label: &str,
    api: &str,
    method: &str,
    confirm: Option<&str>,
    testid: &str,
    class: &str,
) -> Markup {
    crate::html::api_button(label, api, method, None, confirm, testid, class)
}

fn copy_button(text: &str, label: &str, testid: &str) -> Markup {
    html! {
        button type="button" class="small" data-copy=(Text(text)) data-testid=(testid) { (label) }
    }
}

/// Where `app.js` shows a secret that is shown only once (`data-then="secret"`).
fn secret_box(lang: Lang) -> Markup {
    html! {
        div class="secret" data-secret-box hidden data-testid="secret-box" role="region"
            aria-label=(lang.t("tn-secret-new"))
        {
            p { strong { (lang.t("tn-secret-copy-now")) } }
            p {
                code data-secret data-testid="secret-value" {}
                " "
                button type="button" class="small" data-copy-from="[data-secret]"
                    data-testid="copy-secret" { (lang.t("tn-copy")) }
            }
            p { a href="" data-testid="secret-done" { (lang.t("tn-done")) } }
        }
    }
}

fn render(page: Page) -> Response {
    layout::render(page)
}

/// `GET /console/history/{id}`: one of the tenant's objects' changes.
async fn history(
    state: axum::extract::State<AppState>,
    user: SignedIn,
    id: axum::extract::Path<String>,
    q: axum::extract::Query<crate::pages::history::HistoryQ>,
) -> Response {
    tenant!(user);
    crate::pages::history::page(state, user, id, q).await
}

/// `GET /console/bills`: the tenant's open statement and closed bills.
async fn bills(state: axum::extract::State<AppState>, user: SignedIn) -> Response {
    tenant!(user);
    crate::pages::bills::tenant_bills(state, user).await
}

/// `GET /console/bills/{id}`: one of the tenant's bills.
async fn bill(
    state: axum::extract::State<AppState>,
    user: SignedIn,
    id: axum::extract::Path<String>,
) -> Response {
    tenant!(user);
    crate::pages::bills::bill(state, user, id).await
}

/// `GET /console`.
async fn index(user: SignedIn) -> Response {
    tenant!(user);
    Redirect::to("/console/games").into_response()
}
