//! Who is signed in: the [`SignedIn`] extractor the console pages use (a browser without a
//! session is sent to sign in), and the CSRF check every state-changing request passes. The
//! sign-in and sign-out pages are `pages::signin`.

use crate::AppState;
use crate::i18n::Lang;
use crate::session::{self, COOKIE, Session, constant_time_eq};
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};

/// The header page scripts send the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The form field forms send it in.
pub const CSRF_FIELD: &str = "csrf";

/// A signed-in browser: its session id and session, and the language its pages are shown in.
#[derive(Clone)]
pub struct SignedIn {
    pub id: String,
    pub session: Session,
    /// The request's language ([`Lang::of_request`]).
    pub lang: Lang,
}

impl SignedIn {
    /// The signed-in account's tenant, if it has one.
    pub fn tenant_id(&self) -> Option<&str> {
        self.session.principal.tenant_id.as_deref()
    }

    pub fn token(&self) -> &str {
        &self.session.token
    }

    pub fn is_operator(&self) -> bool {
        self.session.principal.role.is_operator()
    }
}

/// The session of a request, if it has a live one.
pub fn session_of(state: &AppState, headers: &HeaderMap) -> Option<SignedIn> {
    let id = session::cookie_value(headers, COOKIE)?;
    let session = state.sessions.get(&id)?;
    let lang = Lang::of_request(headers, None);
    Some(SignedIn { id, session, lang })
}

/// Pages that need an account send the browser to sign in (and back afterwards).
pub struct ToSignIn(String);

impl IntoResponse for ToSignIn {
    fn into_response(self) -> Response {
        Redirect::to(&format!("/signin?next={}", crate::html::pct(&self.0))).into_response()
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ToSignIn;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ToSignIn> {
        let query = parts.uri.query().and_then(crate::i18n::lang_param);
        let mut user = session_of(state, &parts.headers).ok_or_else(|| {
            ToSignIn(
                parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_else(|| "/".into()),
            )
        })?;
        if let Some(lang) = query {
            user.lang = lang;
        }
        Ok(user)
    }
}

/// Checks a state-changing request: the session's CSRF token must come in the `x-csrf-token`
/// header or the `csrf` form field, and a browser's `Sec-Fetch-Site` must not say cross-site.
pub fn csrf_ok(session: &Session, headers: &HeaderMap, form_value: Option<&str>) -> bool {
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site")
    {
        return false;
    }
    let sent = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .or(form_value);
    sent.is_some_and(|s| constant_time_eq(s.as_bytes(), session.csrf.as_bytes()))
}
