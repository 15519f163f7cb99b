//! The operator console, `/operator/…`: the topology tree (regions → machine rooms → arrays →
//! boards), a heat-map grid of each array's boards, a board's live telemetry with drain /
//! undrain and an audited shell, a live play with a spectator thumbnail, the live plays (the
//! queue view), tenants, orders, specs and the audit log.
//!
//! Like the tenant console, pages are rendered here from controller reads made with the
//! session's token, and every change goes through the `/api` proxy from the browser:
//! `data-api` forms and buttons (`assets/app.js`), plus the operator's own scripts under
//! `portal/assets/` (served from `/assets/operator/…`): `operator-board.js` (rolling telemetry
//! charts), `operator-shell.js` (shell runs, their output polled into a `<pre>`) and
//! `spectate.js` (a receive-only WebRTC peer with the spectator role).
//!
//! Only operators may open these pages (others get a 403 page); only operator admins see the
//! controls that change things (the controller refuses viewers anyway).

mod admin;
mod audit;
mod boards;
mod live;
mod topology;

use crate::AppState;
use crate::auth::SignedIn;
use crate::controller::CtlError;
use crate::html::{Markup, Text, html, pct};
use crate::layout::{self, Page};
use crate::security::problem;
use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use playrack_wire::api::{AgentState, BoardStatus, Role};
use serde::de::DeserializeOwned;
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/operator", get(topology::index))
        .route("/operator/arrays/{id}", get(boards::array))
        .route("/operator/boards/{id}", get(boards::board))
        .route("/operator/sessions/{id}", get(live::session))
        .route("/operator/queue", get(live::queue))
        .route("/operator/tenants", get(admin::tenants))
        .route("/operator/orders", get(admin::orders))
        .route("/operator/specs", get(admin::specs))
        .route("/operator/audit", get(audit::audit))
        .route("/assets/operator/{name}", get(asset))
}

// ---------------------------------------------------------------------------------------------
// Assets
// ---------------------------------------------------------------------------------------------

/// The operator console's own assets (compiled in): (name, content type, bytes).
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "operator.css",
        "text/css; charset=utf-8",
        include_str!("../../../assets/operator.css"),
    ),
    (
        "operator-board.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../assets/operator-board.js"),
    ),
    (
        "operator-shell.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../assets/operator-shell.js"),
    ),
    (
        "spectate.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../assets/spectate.js"),
    ),
];

/// `GET /assets/operator/{name}`.
async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, ctype, body)) => (
            [
                (header::CONTENT_TYPE, *ctype),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *body,
        )
            .into_response(),
        None => problem(StatusCode::NOT_FOUND, "NOT_FOUND", "no such asset"),
    }
}

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

/// Operator pages only: anyone else gets a 403 page (with their own console's navigation).
fn operator_only(user: &SignedIn) -> Option<Response> {
    if user.is_operator() {
        return None;
    }
    let mut page = layout::error_page(
        StatusCode::FORBIDDEN,
        "Not allowed",
        "The operator console is for the platform's operators. Your account belongs to a tenant.",
        None,
    );
    page.user = Some(user.clone());
    page.console_nav = user.tenant_id().is_some();
    page.scripts.push("app.js");
    Some(layout::render(page))
}

macro_rules! operator {
    ($user:expr) => {
        if let Some(r) = $crate::pages::operator::operator_only(&$user) {
            return r;
        }
    };
}
use operator;

use crate::pages::load;

/// Whether the operator may change things (viewers only read).
fn is_admin(user: &SignedIn) -> bool {
    user.session.principal.role == Role::OperatorAdmin
}

/// An operator console page.
fn console(title: impl Into<String>, user: &SignedIn, current: &'static str, body: Markup) -> Page {
    Page::console(title, user, current, body)
}

/// One page of a controller list (`limit` items from `cursor`).
async fn list<T: DeserializeOwned>(
    state: &AppState,
    user: &SignedIn,
    path: &str,
    limit: u32,
    cursor: Option<&str>,
) -> Result<playrack_wire::api::Page<T>, CtlError> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut p = format!("{path}{sep}limit={limit}");
    if let Some(c) = cursor.filter(|c| !c.is_empty()) {
        p.push_str(&format!("&cursor={}", pct(c)));
    }
    state.ctl.get(p, user.token()).await
}

/// Every item of a controller list, following cursors for at most `max_pages` pages of 200.
/// Answers the items and whether the list was cut short.
async fn all<T: DeserializeOwned>(
    state: &AppState,
    user: &SignedIn,
    path: &str,
    max_pages: usize,
) -> Result<(Vec<T>, bool), CtlError> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..max_pages {
        let page: playrack_wire::api::Page<T> =
            list(state, user, path, 200, cursor.as_deref()).await?;
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok((out, false)),
        }
    }
    Ok((out, true))
}

/// A note under a list that was cut short.
fn truncated_note(truncated: bool, what: &str) -> Markup {
    html! {
        @if truncated {
            p class="muted" data-testid="truncated" { "Only the first " (what) " are shown." }
        }
    }
}

/// The "next page" link of a list page (`base` already carries its filters).
fn next_link(base: &str, next: Option<&String>) -> Markup {
    html! {
        @if let Some(c) = next {
            @let sep = if base.contains('?') { '&' } else { '?' };
            p {
                a href={ (Text(base)) (sep) "cursor=" (Text(pct(c))) } data-testid="next-page" {
                    "Next page"
                }
            }
        }
    }
}

use crate::html::{api_button, api_form};

/// A note for operator viewers where admins see controls.
fn viewer_note() -> Markup {
    html! {
        p class="muted" data-testid="viewer-note" {
            "Your role (operator viewer) can read but not change this."
        }
    }
}

/// Id → name.
fn names<T>(items: &[T], f: impl Fn(&T) -> (&str, &str)) -> HashMap<String, String> {
    items
        .iter()
        .map(|i| {
            let (id, name) = f(i);
            (id.to_owned(), name.to_owned())
        })
        .collect()
}

fn name_of<'a>(names: &'a HashMap<String, String>, id: &'a str) -> &'a str {
    names.get(id).map(String::as_str).unwrap_or(id)
}

fn agent_state_str(s: AgentState) -> &'static str {
    match s {
        AgentState::Online => "online",
        AgentState::Offline => "offline",
        AgentState::Lost => "lost",
    }
}

fn board_status_str(s: BoardStatus) -> &'static str {
    match s {
        BoardStatus::Active => "active",
        BoardStatus::Draining => "draining",
        BoardStatus::Disabled => "disabled",
    }
}

/// A serde enum's wire name (`snake_case` etc.), for display.
fn wire_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A link to a console page for an object id, by its type prefix (else the id as code).
fn object_link(id: &str) -> Markup {
    let path = match id.split_once('_').map(|(p, _)| p) {
        Some("brd") => Some("boards"),
        Some("arr") => Some("arrays"),
        Some("ses") => Some("sessions"),
        _ => None,
    };
    html! {
        @match path {
            Some(p) => {
                a href={ "/operator/" (p) "/" (Text(pct(id))) } data-testid="object-link" {
                    code { (Text(id)) }
                }
            }
            None => { code { (Text(id)) } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buttons_and_links_escape_their_data() {
        let b = api_button(
            "Drain",
            "/api/boards/x\"y",
            "PATCH",
            Some(r#"{"status":"draining"}"#),
            Some("Sure?"),
            "drain",
            "small",
        )
        .into_string();
        assert!(b.contains("data-api=\"/api/boards/x&quot;y\""));
        assert!(b.contains("data-body=\"{&quot;status&quot;:&quot;draining&quot;}\""));
        assert_eq!(
            object_link("brd_<x>").into_string(),
            "<a href=\"/operator/boards/brd_%3Cx%3E\" data-testid=\"object-link\"><code>brd_&lt;x&gt;</code></a>"
        );
        assert_eq!(object_link("ten_1").into_string(), "<code>ten_1</code>");
    }
}
