//! The frame every page shares: `<head>` (viewport, CSRF meta tag, stylesheet), the skip link,
//! the console navigation with the signed-in account and sign-out, `<main>`, and the page's
//! module scripts. Also the friendly error page. Rendered with maud: see [`crate::html`].

use crate::auth::SignedIn;
use crate::html::{Markup, Text, html};
use crate::i18n::Lang;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use playrack_wire::Problem;

/// The console's sections: (path, test id — also the label's message key).
pub const TENANT_NAV: &[(&str, &str)] = &[
    ("/console/games", "nav-games"),
    ("/console/links", "nav-links"),
    ("/console/campaigns", "nav-campaigns"),
    ("/console/sessions", "nav-sessions"),
    ("/console/usage", "nav-usage"),
    ("/console/orders", "nav-orders"),
    ("/console/bills", "nav-bills"),
    ("/console/archives", "nav-archives"),
    ("/console/keys", "nav-keys"),
    ("/console/webhooks", "nav-webhooks"),
];

/// The operator console's sections: (path, test id — also the label's message key).
pub const OPERATOR_NAV: &[(&str, &str)] = &[
    ("/operator", "nav-op-topology"),
    ("/operator/queue", "nav-op-queue"),
    ("/operator/tenants", "nav-op-tenants"),
    ("/operator/orders", "nav-op-orders"),
    ("/operator/bills", "nav-op-bills"),
    ("/operator/specs", "nav-op-specs"),
    ("/operator/switches", "nav-op-switches"),
    ("/operator/maintenance", "nav-op-maintenance"),
    ("/operator/audit", "nav-op-audit"),
];

/// The operator console's own stylesheet (served by `pages::operator`).
const OPERATOR_CSS: &str = "/assets/operator/operator.css";

/// The player page's `data-*` attributes on `<body>` (its script and tests key on them).
#[derive(Debug, Clone, Default)]
pub struct PlayerBody {
    /// `data-player-state`: `idle` or `error` when served; the script moves it on.
    pub state: &'static str,
    /// `data-link`: the link code.
    pub link: String,
    /// `data-sdk`: `present` or `missing`.
    pub sdk: &'static str,
    /// `data-rooms`: the link card's rooms as JSON (for RTT probes).
    pub rooms: String,
}

/// A page to render.
pub struct Page {
    pub title: String,
    pub body: Markup,
    /// The signed-in user (for the header, the CSRF meta tag and sign-out).
    pub user: Option<SignedIn>,
    /// Which navigation entry is current (its path).
    pub current: Option<&'static str>,
    /// Module scripts under `/assets/`.
    pub scripts: Vec<&'static str>,
    /// `data-page` on `<body>` (scripts and tests key on it).
    pub page_id: &'static str,
    /// Show the console navigation.
    pub console_nav: bool,
    /// The player page's attributes on `<body>`.
    pub player: Option<PlayerBody>,
    pub status: StatusCode,
    /// The page's language (`<html lang>`, the frame's own words).
    pub lang: Lang,
    /// `data-messages` on `<body>`: the page scripts' words in the page's language, as a JSON
    /// object (console pages get the console scripts' words when this is empty).
    pub messages: Option<String>,
    /// The web app manifest to link (the player page: added to a phone's home screen, it
    /// opens full screen).
    pub manifest: bool,
}

impl Page {
    pub fn new(title: impl Into<String>, body: impl Into<Markup>) -> Page {
        Page {
            title: title.into(),
            body: body.into(),
            user: None,
            current: None,
            scripts: Vec::new(),
            page_id: "page",
            console_nav: false,
            player: None,
            status: StatusCode::OK,
            lang: Lang::En,
            messages: None,
            manifest: false,
        }
    }

    /// A console page: navigation, account, CSRF token and the console script.
    pub fn console(
        title: impl Into<String>,
        user: &SignedIn,
        current: &'static str,
        body: impl Into<Markup>,
    ) -> Page {
        let mut p = Page::new(title, body);
        p.user = Some(user.clone());
        p.current = Some(current);
        p.console_nav = true;
        p.lang = user.lang;
        p.scripts.push("app.js");
        p
    }

    pub fn page_id(mut self, id: &'static str) -> Page {
        self.page_id = id;
        self
    }

    pub fn script(mut self, s: &'static str) -> Page {
        self.scripts.push(s);
        self
    }

    pub fn status(mut self, s: StatusCode) -> Page {
        self.status = s;
        self
    }
}

/// Whether the page is shown to an operator (operator navigation and stylesheet).
fn operator_page(page: &Page) -> bool {
    page.user.as_ref().is_some_and(SignedIn::is_operator)
}

/// The top bar: the console navigation and the signed-in account (nothing when neither).
fn header(page: &Page) -> Markup {
    if !page.console_nav && page.user.is_none() {
        return Markup::default();
    }
    let items = if operator_page(page) {
        OPERATOR_NAV
    } else {
        TENANT_NAV
    };
    let lang = page.lang;
    html! {
        header class="top" {
            a class="brand" href="/" { "Playrack" }
            @if page.console_nav {
                nav aria-label=(lang.t("console")) {
                    ul {
                        @for (path, testid) in items {
                            li {
                                a href=(path) data-testid=(testid)
                                    aria-current=[(page.current == Some(*path)).then_some("page")]
                                    { (lang.t(testid)) }
                            }
                        }
                    }
                }
            }
            (switcher(lang, None))
            @if let Some(u) = &page.user {
                @let p = &u.session.principal;
                div class="account" {
                    span data-testid="account-email" { (Text(p.email.as_deref().unwrap_or(&p.id))) }
                    " "
                    span class="role" data-testid="account-role" { (p.role.as_str()) }
                    form method="post" action="/signout" class="inline" {
                        input type="hidden" name="csrf" value=(u.session.csrf);
                        button type="submit" data-testid="signout" { (lang.t("sign-out")) }
                    }
                }
            }
        }
    }
}

/// Links to the page in each language (`?lang=`; the choice is kept in a cookie).
/// `show`: the player states it shows in (`data-show`).
pub fn switcher(lang: Lang, show: Option<&str>) -> Markup {
    html! {
        nav class="lang" aria-label=(lang.t("language")) data-show=[show] {
            @for l in Lang::ALL {
                a href={ "?lang=" (l.tag()) } lang=(l.tag()) hreflang=(l.tag())
                    aria-current=[(l == lang).then_some("true")]
                    data-testid={ "lang-" (l.tag()) } { (l.name()) }
            }
        }
    }
}

/// Renders a page to a response (`no-store`: pages carry per-user data and CSRF tokens).
pub fn render(page: Page) -> Response {
    let operator_css = page.console_nav && operator_page(&page);
    let streams = page.scripts.iter().any(|s| STREAMING_SCRIPTS.contains(s));
    let player = page.player.as_ref();
    let messages = match &page.messages {
        Some(m) => Some(m.clone()),
        None if page.console_nav => Some(crate::i18n::script_messages(page.lang)),
        None => None,
    };
    let doc = html! {
        (maud::DOCTYPE)
        html lang=(page.lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover";
                @if let Some(u) = &page.user {
                    meta name="csrf-token" content=(u.session.csrf);
                }
                title { (Text(&page.title)) " · Playrack" }
                @if page.manifest {
                    link rel="manifest" href="/manifest.webmanifest";
                    meta name="theme-color" content="#000000";
                    meta name="mobile-web-app-capable" content="yes";
                    meta name="apple-mobile-web-app-capable" content="yes";
                }
                link rel="stylesheet" href="/assets/portal.css";
                @if operator_css {
                    link rel="stylesheet" href=(OPERATOR_CSS);
                }
                @for s in &page.scripts {
                    script type="module" src={ "/assets/" (s) } {}
                }
            }
            body data-page=(page.page_id)
                data-player-state=[player.map(|p| p.state)]
                data-link=[player.map(|p| Text(&p.link))]
                data-sdk=[player.map(|p| p.sdk)]
                data-rooms=[player.map(|p| Text(&p.rooms))]
                data-messages=[messages.as_ref().map(Text)]
            {
                a class="skip" href="#main" { (page.lang.t("skip-to-content")) }
                (header(&page))
                main id="main" tabindex="-1" { (page.body) }
                div id="toast" role="status" aria-live="polite" data-testid="toast" {}
            }
        }
    };
    let mut resp = (page.status, doc.into_string()).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if streams {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(crate::security::STREAMING_CSP),
        );
    }
    resp
}

/// The scripts that connect to boards and rooms (see [`crate::security::STREAMING_CSP`]).
const STREAMING_SCRIPTS: [&str; 3] = ["player.js", "operator/spectate.js", "watch.js"];

/// A friendly error page for a problem (its code shown for support).
pub fn error_page(
    status: StatusCode,
    heading: &str,
    text: &str,
    problem: Option<&Problem>,
) -> Page {
    error_page_in(Lang::En, status, heading, text, problem)
}

/// [`error_page`] in `lang` (`heading` and `text` already in it).
pub fn error_page_in(
    lang: Lang,
    status: StatusCode,
    heading: &str,
    text: &str,
    problem: Option<&Problem>,
) -> Page {
    let body = html! {
        section class="card narrow error-page" data-testid="error" {
            h1 { (Text(heading)) }
            p { (Text(text)) }
            @if let Some(p) = problem {
                p class="code" {
                    (lang.t("error-code")) " " code data-testid="error-code" { (Text(&p.code)) }
                    @if let Some(r) = &p.request_id {
                        " · " (lang.t("error-request")) " " code { (Text(r)) }
                    }
                }
            }
            p { a href="/" { (lang.t("go-start")) } }
        }
    };
    let mut page = Page::new(heading, body).page_id("error").status(status);
    page.lang = lang;
    page
}
