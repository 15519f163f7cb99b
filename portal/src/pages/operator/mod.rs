//! The operator console, `/operator/…`: the topology tree (regions → machine rooms → arrays →
//! boards), a heat-map grid of each array's boards, a board's live telemetry with drain /
//! undrain and an audited shell, a live play with a spectator thumbnail, the live plays (the
//! queue view), tenants, orders, specs, the degrade switches, maintenance windows and the
//! audit log.
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
mod maintenance;
mod switches;
mod topology;

use crate::AppState;
use crate::auth::SignedIn;
use crate::controller::CtlError;
use crate::html::{Markup, Text, html, pct};
use crate::i18n::Lang;
use crate::layout::{self, Page};
use crate::security::problem;
use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fluent_templates::fluent_bundle::FluentValue;
use playrack_wire::api::{
    AgentState, BoardStatus, InstanceState, Role, SessionState, TenantStatus,
};
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
        .route("/operator/switches", get(switches::switches))
        .route("/operator/maintenance", get(maintenance::maintenance))
        .route("/operator/history/{id}", get(history))
        .route("/operator/bills", get(bills))
        .route("/operator/bills/{id}", get(bill))
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
    let lang = user.lang;
    let mut page = layout::error_page_in(
        lang,
        StatusCode::FORBIDDEN,
        &lang.t("op-forbidden-title"),
        &lang.t("op-forbidden-text"),
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

/// `GET /operator/history/{id}`: any object's changes.
async fn history(
    state: axum::extract::State<AppState>,
    user: SignedIn,
    id: axum::extract::Path<String>,
    q: axum::extract::Query<crate::pages::history::HistoryQ>,
) -> Response {
    operator!(user);
    crate::pages::history::page(state, user, id, q).await
}

/// `GET /operator/bills`: every tenant's bills of a period, or one tenant's.
async fn bills(
    state: axum::extract::State<AppState>,
    user: SignedIn,
    q: axum::extract::Query<crate::pages::bills::OperatorQ>,
) -> Response {
    operator!(user);
    crate::pages::bills::operator_bills(state, user, q).await
}

/// `GET /operator/bills/{id}`: any tenant's bill.
async fn bill(
    state: axum::extract::State<AppState>,
    user: SignedIn,
    id: axum::extract::Path<String>,
) -> Response {
    operator!(user);
    crate::pages::bills::bill(state, user, id).await
}

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

/// A note under a list that was cut short: the message `key` (which says how much is shown).
fn truncated_note(lang: Lang, truncated: bool, key: &str) -> Markup {
    html! {
        @if truncated {
            p class="muted" data-testid="truncated" { (lang.t(key)) }
        }
    }
}

/// The "next page" link of a list page (`base` already carries its filters).
fn next_link(lang: Lang, base: &str, next: Option<&String>) -> Markup {
    html! {
        @if let Some(c) = next {
            @let sep = if base.contains('?') { '&' } else { '?' };
            p {
                a href={ (Text(base)) (sep) "cursor=" (Text(pct(c))) } data-testid="next-page" {
                    (lang.t("next-page"))
                }
            }
        }
    }
}

use crate::html::{api_button, api_form};

/// A note for operator viewers where admins see controls.
fn viewer_note(lang: Lang) -> Markup {
    html! {
        p class="muted" data-testid="viewer-note" { (lang.t("op-viewer-note")) }
    }
}

/// The message `key` whose `{ $name }` arguments are pieces of markup (a `<code>`, a name in
/// a `<span>`): the message's own text is spliced as text around them, so a language may put
/// them wherever its sentence needs them.
fn rich(lang: Lang, key: &str, parts: &[(&str, Markup)]) -> Markup {
    // Each argument becomes a marker the message cannot otherwise contain; the text is then cut
    // at the markers, and every other piece is an argument's name.
    const MARK: char = '\u{1}';
    let args: Vec<(&str, FluentValue<'static>)> = parts
        .iter()
        .map(|(name, _)| (*name, FluentValue::from(format!("{MARK}{name}{MARK}"))))
        .collect();
    let message = lang.t_args(key, &args);
    html! {
        @for (i, piece) in message.split(MARK).enumerate() {
            @if i % 2 == 0 {
                (piece)
            } @else {
                @match parts.iter().find(|(name, _)| *name == piece) {
                    Some((_, markup)) => { (markup) }
                    None => { (piece) }
                }
            }
        }
    }
}

/// A message with plain text arguments.
fn t_with(lang: Lang, key: &str, args: &[(&str, String)]) -> String {
    let args: Vec<(&str, FluentValue<'static>)> = args
        .iter()
        .map(|(name, v)| (*name, FluentValue::from(v.clone())))
        .collect();
    lang.t_args(key, &args)
}

/// Column heads from message keys (an empty key: an empty head, over a column of buttons).
fn heads(lang: Lang, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .map(|k| {
            if k.is_empty() {
                String::new()
            } else {
                lang.t(k)
            }
        })
        .collect()
}

/// The heads [`heads`] made, as [`crate::html::table`] takes them.
fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// A message with a count `n` (numbers are pluralised by the language).
fn t_n(lang: Lang, key: &str, n: usize) -> String {
    lang.t_args(key, &[("n", FluentValue::from(n))])
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

/// An agent state, as people read it.
fn agent_state_label(lang: Lang, s: AgentState) -> String {
    lang.t(match s {
        AgentState::Online => "op-agent-online",
        AgentState::Offline => "op-agent-offline",
        AgentState::Lost => "op-agent-lost",
    })
}

/// A board status, as people read it.
fn board_status_label(lang: Lang, s: BoardStatus) -> String {
    lang.t(match s {
        BoardStatus::Active => "op-board-active",
        BoardStatus::Draining => "op-board-draining",
        BoardStatus::Disabled => "op-board-disabled",
    })
}

/// A play's state, as people read it.
fn session_state_label(lang: Lang, s: SessionState) -> String {
    lang.t(match s {
        SessionState::Reserved => "op-session-reserved",
        SessionState::Preparing => "op-session-preparing",
        SessionState::Ready => "op-session-ready",
        SessionState::Playing => "op-session-playing",
        SessionState::Ending => "op-session-ending",
        SessionState::Ended => "op-session-ended",
    })
}

/// An instance's state, as people read it.
fn instance_state_label(lang: Lang, s: InstanceState) -> String {
    lang.t(match s {
        InstanceState::Booting => "op-instance-booting",
        InstanceState::Warm => "op-instance-warm",
        InstanceState::Priming => "op-instance-priming",
        InstanceState::Preparing => "op-instance-preparing",
        InstanceState::Busy => "op-instance-busy",
        InstanceState::Resetting => "op-instance-resetting",
        InstanceState::Broken => "op-instance-broken",
    })
}

/// A tenant's status, as people read it.
fn tenant_status_label(lang: Lang, s: TenantStatus) -> String {
    lang.t(match s {
        TenantStatus::Active => "op-tenant-active",
        TenantStatus::Suspended => "op-tenant-suspended",
    })
}

/// Yes or no.
fn yes_no(lang: Lang, b: bool) -> String {
    lang.t(if b { "op-yes" } else { "op-no" })
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

    /// Every `"op-…"` string literal in this folder's sources: the message keys the pages use
    /// (and `data-page` ids, which are harmless here because each also names a key).
    fn keys_used() -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/pages/operator");
        let mut keys = Vec::new();
        for f in std::fs::read_dir(dir).unwrap() {
            let path = f.unwrap().path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let src = std::fs::read_to_string(&path).unwrap();
            for (i, _) in src.match_indices("\"op-") {
                let rest = &src[i + 1..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                    .unwrap_or(rest.len());
                // (`"op-"` alone is this scanner's own needle.)
                if end > "op-".len() && rest[end..].starts_with('"') {
                    keys.push(rest[..end].to_owned());
                }
            }
        }
        keys.sort();
        keys.dedup();
        keys
    }

    fn catalogue_keys(tag: &str) -> Vec<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("locales")
            .join(tag)
            .join("operator.ftl");
        let text = std::fs::read_to_string(path).unwrap();
        text.lines()
            .filter_map(|l| l.split_once(" =").map(|(k, _)| k))
            .filter(|k| k.starts_with("op-"))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn every_key_the_pages_use_is_in_both_catalogues() {
        let used = keys_used();
        assert!(used.len() > 100, "{used:?}");
        // `data-page` ids that are not messages.
        let page_ids = [
            "op-topology",
            "op-array",
            "op-board",
            "op-session",
            "op-queue",
            "op-tenants",
            "op-orders",
            "op-specs",
            "op-switches",
            "op-maintenance",
            "op-audit",
        ];
        for tag in ["en", "zh-CN"] {
            let have = catalogue_keys(tag);
            let missing: Vec<&String> = used
                .iter()
                .filter(|k| !have.contains(k) && !page_ids.contains(&k.as_str()))
                .collect();
            assert!(missing.is_empty(), "{tag}/operator.ftl lacks {missing:?}");
        }
        // Each message renders in both languages given its arguments (a message whose
        // formatting fails, a missing argument say, renders as an unknown key too).
        let en = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales/en/operator.ftl"),
        )
        .unwrap();
        for key in used.iter().filter(|k| !page_ids.contains(&k.as_str())) {
            // The message's text: its line and the indented lines under it.
            let start = en.find(&format!("\n{key} =")).unwrap();
            let text: String = en[start + 1..]
                .lines()
                .enumerate()
                .take_while(|(i, l)| *i == 0 || l.starts_with([' ', '}']))
                .map(|(_, l)| l)
                .collect();
            let args: Vec<(&str, FluentValue<'static>)> = text
                .split("$")
                .skip(1)
                .map(|v| {
                    v.split(|c: char| !c.is_ascii_alphanumeric())
                        .next()
                        .unwrap()
                })
                .map(|name| (name, FluentValue::from(2)))
                .collect();
            for lang in Lang::ALL {
                let text = lang.t_args(key, &args);
                assert!(!text.contains("Unknown localization key"), "{key}: {text}");
            }
        }
    }

    #[test]
    fn markup_arguments_land_where_each_language_puts_them() {
        let code = || html! { code { "POST /v1/regions" } };
        let import = || html! { code { "POST /v1/topology/import" } };
        assert_eq!(
            rich(
                Lang::En,
                "op-topology-empty",
                &[("create", code()), ("import", import())]
            )
            .into_string(),
            "No regions yet. Create them with the controller's API (<code>POST /v1/regions</code>, \
             or a bulk <code>POST /v1/topology/import</code>)."
        );
        let zh = rich(
            Lang::ZhCn,
            "op-topology-empty",
            &[("create", code()), ("import", import())],
        )
        .into_string();
        assert!(zh.contains("<code>POST /v1/regions</code>"), "{zh}");
        assert!(!zh.contains('\u{1}'), "{zh}");
        assert_eq!(
            rich(
                Lang::En,
                "op-cell-hot",
                &[("reason", html! { (Text("<b>'hot'</b>")) })]
            )
            .into_string(),
            "No new plays: &lt;b&gt;&#39;hot&#39;&lt;/b&gt;"
        );
        assert_eq!(t_n(Lang::En, "op-count-boards", 1), "1 board");
        assert_eq!(t_n(Lang::En, "op-count-boards", 0), "0 boards");
        assert_eq!(t_n(Lang::ZhCn, "op-count-boards", 3), "3 块板卡");
        assert_eq!(
            Lang::En.t_args(
                "op-order-scope-rooms",
                &[
                    ("n", FluentValue::from(2)),
                    ("names", FluentValue::from("a, b"))
                ]
            ),
            "rooms a, b"
        );
        assert_eq!(Lang::En.t("op-list-sep"), ", ");
    }
}
