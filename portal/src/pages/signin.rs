//! Sign-in and sign-out.
//!
//! - `GET /signin` sets a short-lived `playrack_signin` cookie and puts the same random value in
//!   the form, so a sign-in can only be posted from a page this browser loaded (login CSRF).
//! - `POST /signin` signs in at the controller (`/v1/auth/login`), keeps the token in the
//!   session store and sets `playrack_session` (HttpOnly, SameSite=Strict, Path=/, Secure when
//!   configured). Wrong credentials answer 401 with the form again.
//! - `POST /signout` (CSRF-checked) ends the token at the controller and forgets the session.

use crate::AppState;
use crate::auth::{csrf_ok, session_of};
use crate::controller::CtlError;
use crate::html::{Markup, Text, html};
use crate::i18n::Lang;
use crate::layout::{self, Page};
use crate::session::{self, COOKIE, SIGNIN_COOKIE, constant_time_eq};
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use fluent_templates::fluent_bundle::FluentValue;
use serde::Deserialize;

/// Where to go after signing in: a local path only, else the console's home.
///
/// Accepted: a path that starts with one `/` followed by a character other than `/` or `\`,
/// with no backslash and no control character anywhere. Browsers drop tabs and newlines from
/// URLs and read `\` as `/`, so `/\t/evil.example` or `/\evil.example` would otherwise become
/// the protocol-relative `//evil.example`.
fn safe_next(next: Option<&str>, operator: bool) -> String {
    match next {
        Some(n) if local_path(n) => n.to_owned(),
        _ if operator => "/operator".to_owned(),
        _ => "/console".to_owned(),
    }
}

/// Whether `n` is a same-site path (see [`safe_next`]).
fn local_path(n: &str) -> bool {
    let mut chars = n.chars();
    chars.next() == Some('/')
        && chars.next().is_some_and(|c| c != '/' && c != '\\')
        && !n.chars().any(|c| c.is_control() || c == '\\')
}

#[derive(Debug, Default, Deserialize)]
pub struct NextParam {
    pub next: Option<String>,
    /// The language switcher's choice.
    pub lang: Option<String>,
}

fn signin_form(
    lang: Lang,
    next: Option<&str>,
    nonce: &str,
    email: &str,
    error: Option<&str>,
) -> Markup {
    html! {
        (layout::switcher(lang, None))
        section class="card narrow" {
            h1 { (lang.t("signin-title")) }
            @if let Some(e) = error {
                p class="error" role="alert" data-testid="signin-error" { (Text(e)) }
            }
            form method="post" action="/signin" data-testid="signin-form" {
                input type="hidden" name="signin_csrf" value=(nonce);
                input type="hidden" name="next" value=(Text(next.unwrap_or("")));
                label for="email" { (lang.t("signin-email")) }
                input id="email" name="email" type="email" autocomplete="username" required
                    value=(Text(email)) data-testid="signin-email";
                label for="password" { (lang.t("signin-password")) }
                input id="password" name="password" type="password"
                    autocomplete="current-password" required data-testid="signin-password";
                button type="submit" class="primary" data-testid="signin-submit" { (lang.t("signin-title")) }
            }
        }
    }
}

fn signin_response(
    lang: Lang,
    state: &AppState,
    status: StatusCode,
    next: Option<&str>,
    email: &str,
    error: Option<&str>,
) -> Response {
    let nonce = session::random_token();
    let mut page = Page::new(
        lang.t("signin-title"),
        signin_form(lang, next, &nonce, email, error),
    )
    .page_id("signin");
    page.lang = lang;
    let mut resp = layout::render(page);
    crate::i18n::vary(&mut resp);
    *resp.status_mut() = status;
    let cookie = session::set_cookie(
        SIGNIN_COOKIE,
        &nonce,
        state.config.secure_cookies,
        Some(3600),
    );
    resp.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).expect("ascii cookie"),
    );
    resp
}

/// `GET /signin`.
pub async fn signin_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextParam>,
) -> Response {
    if let Some(s) = session_of(&state, &headers) {
        return Redirect::to(&safe_next(q.next.as_deref(), s.is_operator())).into_response();
    }
    let lang = Lang::of_request(&headers, q.lang.as_deref());
    signin_response(lang, &state, StatusCode::OK, q.next.as_deref(), "", None)
}

#[derive(Deserialize)]
pub struct SignInForm {
    email: String,
    password: String,
    #[serde(default)]
    signin_csrf: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /signin`.
pub async fn signin(
    State(state): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let next = form.next.as_deref().filter(|n| !n.is_empty());
    let lang = Lang::of_request(&headers, None);
    let nonce = session::cookie_value(&headers, SIGNIN_COOKIE).unwrap_or_default();
    if nonce.is_empty() || !constant_time_eq(nonce.as_bytes(), form.signin_csrf.as_bytes()) {
        tracing::info!("sign-in refused: the form did not come from this browser's sign-in page");
        return signin_response(
            lang,
            &state,
            StatusCode::FORBIDDEN,
            next,
            &form.email,
            Some(&lang.t("signin-expired")),
        );
    }
    let client = Some(peer.ip());
    match state
        .ctl
        .login(form.email.trim(), &form.password, client)
        .await
    {
        Ok(login) => {
            let operator = login.principal.role.is_operator();
            // A sign-in always starts a fresh session id (no fixation); the old one ends.
            if let Some(old) = session::cookie_value(&headers, COOKIE)
                && let Some(prev) = state.sessions.remove(&old)
            {
                state.ctl.logout(&prev.token).await;
            }
            tracing::info!(account = %login.principal.id, role = login.principal.role.as_str(), "signed in");
            let id = state
                .sessions
                .create(login.token, login.principal, login.expires_at);
            let mut resp = Redirect::to(&safe_next(next, operator)).into_response();
            let secure = state.config.secure_cookies;
            for c in [
                session::set_cookie(COOKIE, &id, secure, None),
                session::set_cookie(SIGNIN_COOKIE, "", secure, Some(0)),
            ] {
                resp.headers_mut().append(
                    header::SET_COOKIE,
                    HeaderValue::from_str(&c).expect("ascii cookie"),
                );
            }
            resp
        }
        Err(CtlError::Problem { status, problem })
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::UNPROCESSABLE_ENTITY =>
        {
            tracing::info!(code = %problem.code, "sign-in refused by the controller");
            signin_response(
                lang,
                &state,
                StatusCode::UNAUTHORIZED,
                next,
                &form.email,
                Some(&lang.t("signin-wrong")),
            )
        }
        Err(e) => {
            tracing::warn!(error = %e, "sign-in failed");
            let msg = match &e {
                CtlError::Problem { status, .. } if *status == StatusCode::TOO_MANY_REQUESTS => {
                    lang.t("signin-too-many")
                }
                _ => lang.t_args(
                    "signin-unavailable",
                    &[("code", FluentValue::from(e.problem().code))],
                ),
            };
            signin_response(lang, &state, e.status(), next, &form.email, Some(&msg))
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /signout`.
pub async fn signout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(s) = session_of(&state, &headers) {
        if !csrf_ok(&s.session, &headers, Some(&form.csrf)) {
            return crate::security::problem(
                StatusCode::FORBIDDEN,
                "CSRF_REFUSED",
                "the request did not carry this session's CSRF token",
            );
        }
        state.sessions.remove(&s.id);
        state.ctl.logout(&s.session.token).await;
        tracing::info!(account = %s.session.principal.id, "signed out");
    }
    let mut resp = Redirect::to("/signin").into_response();
    let c = session::set_cookie(COOKIE, "", state.config.secure_cookies, Some(0));
    resp.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&c).expect("ascii cookie"),
    );
    resp
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_is_local_only() {
        assert_eq!(
            super::safe_next(Some("/console/games"), false),
            "/console/games"
        );
        assert_eq!(super::safe_next(Some("//evil.example"), false), "/console");
        assert_eq!(
            super::safe_next(Some("https://evil.example"), true),
            "/operator"
        );
        assert_eq!(super::safe_next(Some("/\\evil.example"), false), "/console");
        assert_eq!(super::safe_next(None, false), "/console");
    }

    #[test]
    fn next_refuses_what_browsers_read_as_another_host() {
        for bad in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "//evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/",
            "",
            "/console\u{0}",
            "/console/\x7f",
        ] {
            assert_eq!(super::safe_next(Some(bad), false), "/console", "{bad:?}");
            assert_eq!(super::safe_next(Some(bad), true), "/operator", "{bad:?}");
        }
        assert_eq!(
            super::safe_next(Some("/operator/boards/b1?x=1"), true),
            "/operator/boards/b1?x=1"
        );
    }
}
