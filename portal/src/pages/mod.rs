//! The pages: [`player`] (the public try-play page), [`signin`] (sign-in and sign-out),
//! [`tenant`] (the tenant console, a folder of page groups) and [`operator`] (the operator
//! console, likewise), [`history`] (an object's change history, in both consoles). Shared here:
//! the start page, the not-found page, turning a failed controller read into the right page,
//! and the play recordings table both consoles show.

pub mod bills;
pub mod history;
pub mod operator;
pub mod player;
pub mod signin;
pub mod tenant;
pub mod watch;

use crate::AppState;
use crate::auth::{SignedIn, session_of};
use crate::controller::CtlError;
use crate::i18n::Lang;
use crate::layout;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

/// Play recordings with their state and, per recording, Stop (while recording) or Download
/// (once ready; the file comes through the `/api` proxy). `stop` says whether to offer Stop.
pub fn recordings_table(
    lang: crate::i18n::Lang,
    recs: &[playrack_wire::api::Recording],
    stop: bool,
) -> maud::Markup {
    use crate::html::{Text, api_button, html, pct, size, table, text, time};
    use playrack_wire::api::RecordingState;
    let rows = recs
        .iter()
        .map(|r| {
            let id = pct(&r.id);
            let state = lang.t(match r.state {
                RecordingState::Recording => "rec-state-recording",
                RecordingState::Ready => "rec-state-ready",
                RecordingState::Failed => "rec-state-failed",
            });
            vec![
                html! { code { (Text(&r.id)) } },
                html! { code { (Text(&r.session_id)) } },
                html! {
                    span data-recording-state=(Text(&r.id)) data-testid="recording-state" { (state) }
                    @if let Some(e) = &r.error { " — " (Text(e)) }
                },
                text(r.frames),
                text(format!("{:.1} s", r.duration_ms as f64 / 1000.0)),
                text(size(r.size_bytes)),
                time(&r.expires_at),
                match r.state {
                    RecordingState::Recording if stop => api_button(
                        &lang.t("rec-stop"),
                        &format!("/api/recordings/{id}/stop"),
                        "POST",
                        None,
                        None,
                        "recording-stop",
                        "small",
                    ),
                    RecordingState::Ready => html! {
                        a href={ "/api/recordings/" (Text(&id)) "/file" } download={ (Text(&r.id)) ".mp4" }
                            data-testid="recording-download" { (lang.t("rec-download")) }
                    },
                    _ => html! {},
                },
            ]
        })
        .collect();
    let head = [
        "rec-recording",
        "rec-session",
        "rec-state",
        "rec-frames",
        "rec-length",
        "rec-size",
        "rec-kept-until",
    ]
    .map(|k| lang.t(k));
    let mut head: Vec<&str> = head.iter().map(String::as_str).collect();
    head.push("");
    table(lang, &lang.t("rec-caption"), "recordings", &head, rows)
}

/// `GET /`: the console for a signed-in user, else the sign-in page.
pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match session_of(&state, &headers) {
        Some(s) if s.is_operator() => Redirect::to("/operator").into_response(),
        Some(_) => Redirect::to("/console").into_response(),
        None => Redirect::to("/signin").into_response(),
    }
}

/// Unknown paths (in the request's language).
pub async fn not_found(headers: HeaderMap, uri: axum::http::Uri) -> Response {
    let lang = (uri.query().and_then(crate::i18n::lang_param))
        .unwrap_or_else(|| Lang::of_request(&headers, None));
    layout::render(layout::error_page_in(
        lang,
        StatusCode::NOT_FOUND,
        &lang.t("page-not-found-title"),
        &lang.t("page-not-found-text"),
        None,
    ))
}

/// The value of a controller answer, or (from the page handler) the page for its failure.
macro_rules! load {
    ($state:expr, $user:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return $crate::pages::failed(&$state, &$user, e),
        }
    };
}
pub(crate) use load;

/// The page for a controller read that failed: sign in again on 401 (the session is dropped),
/// a not-found page on 404, else an error page with the problem's code.
pub fn failed(state: &AppState, user: &SignedIn, e: CtlError) -> Response {
    let status = e.status();
    if status == StatusCode::UNAUTHORIZED {
        state.sessions.remove(&user.id);
        return Redirect::to("/signin").into_response();
    }
    let problem = e.problem();
    tracing::warn!(code = %problem.code, status = %status, "a page's controller read failed");
    let lang = user.lang;
    let (heading, text) = match status {
        StatusCode::NOT_FOUND => (
            lang.t("failed-not-found-title"),
            lang.t("failed-not-found-text"),
        ),
        StatusCode::FORBIDDEN => (
            lang.t("failed-forbidden-title"),
            lang.t("failed-forbidden-text"),
        ),
        _ if status.is_server_error() => {
            (lang.t("failed-server-title"), lang.t("failed-server-text"))
        }
        // The controller's own account of what was wrong (in English: it speaks to programs).
        _ => (lang.t("failed-other-title"), problem.detail.clone()),
    };
    let mut page = layout::error_page_in(lang, status, &heading, &text, Some(&problem));
    page.user = Some(user.clone());
    page.console_nav = true;
    page.scripts.push("app.js");
    layout::render(page)
}

/// Whether a request came from a signed-in browser (used by the player page's header).
pub fn signed_in(state: &AppState, headers: &HeaderMap) -> Option<SignedIn> {
    session_of(state, headers)
}
