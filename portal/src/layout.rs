//! The frame every page shares: `<head>` (viewport, CSRF meta tag, stylesheet), the skip link,
//! the console navigation with the signed-in account and sign-out, `<main>`, and the page's
//! module scripts. Also the friendly error page.

use crate::auth::SignedIn;
use crate::html::{Html, attr, esc};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use playrack_wire::Problem;

/// The console's sections: (path, label, test id).
pub const TENANT_NAV: &[(&str, &str, &str)] = &[
    ("/console/games", "Games", "nav-games"),
    ("/console/links", "Try-play links", "nav-links"),
    ("/console/sessions", "Live sessions", "nav-sessions"),
    ("/console/usage", "Usage", "nav-usage"),
    ("/console/orders", "Orders & quota", "nav-orders"),
    ("/console/archives", "Save archives", "nav-archives"),
    ("/console/keys", "API keys", "nav-keys"),
    ("/console/webhooks", "Webhooks", "nav-webhooks"),
];

/// The operator console's sections: (path, label, test id).
pub const OPERATOR_NAV: &[(&str, &str, &str)] = &[
    ("/operator", "Topology", "nav-op-topology"),
    ("/operator/queue", "Live plays & queue", "nav-op-queue"),
    ("/operator/tenants", "Tenants", "nav-op-tenants"),
    ("/operator/orders", "Orders", "nav-op-orders"),
    ("/operator/specs", "Specs", "nav-op-specs"),
    ("/operator/audit", "Audit log", "nav-op-audit"),
];

/// The operator console's own stylesheet (served by `pages::operator`).
const OPERATOR_CSS: &str = "<link rel=\"stylesheet\" href=\"/assets/operator/operator.css\">";

/// A page to render.
pub struct Page {
    pub title: String,
    pub body: Html,
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
    /// Extra attributes on `<body>` (already escaped).
    pub body_attrs: Html,
    pub status: StatusCode,
}

impl Page {
    pub fn new(title: impl Into<String>, body: Html) -> Page {
        Page {
            title: title.into(),
            body,
            user: None,
            current: None,
            scripts: Vec::new(),
            page_id: "page",
            console_nav: false,
            body_attrs: Html::default(),
            status: StatusCode::OK,
        }
    }

    /// A console page: navigation, account, CSRF token and the console script.
    pub fn console(
        title: impl Into<String>,
        user: &SignedIn,
        current: &'static str,
        body: Html,
    ) -> Page {
        let mut p = Page::new(title, body);
        p.user = Some(user.clone());
        p.current = Some(current);
        p.console_nav = true;
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

fn header_html(page: &Page) -> Html {
    let mut nav = String::new();
    if page.console_nav {
        let items = if operator_page(page) {
            OPERATOR_NAV
        } else {
            TENANT_NAV
        };
        nav.push_str("<nav aria-label=\"Console\"><ul>");
        for (path, label, testid) in items {
            let current = if page.current == Some(*path) {
                " aria-current=\"page\""
            } else {
                ""
            };
            nav.push_str(&format!(
                "<li><a href=\"{path}\" data-testid=\"{testid}\"{current}>{}</a></li>",
                esc(label)
            ));
        }
        nav.push_str("</ul></nav>");
    }
    let account = match &page.user {
        Some(u) => {
            let p = &u.session.principal;
            let who = p.email.clone().unwrap_or_else(|| p.id.clone());
            format!(
                "<div class=\"account\"><span data-testid=\"account-email\">{}</span> \
                 <span class=\"role\" data-testid=\"account-role\">{}</span>\
                 <form method=\"post\" action=\"/signout\" class=\"inline\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                 <button type=\"submit\" data-testid=\"signout\">Sign out</button></form></div>",
                esc(who),
                esc(p.role.as_str()),
                attr(&u.session.csrf)
            )
        }
        None => String::new(),
    };
    if nav.is_empty() && account.is_empty() {
        return Html::default();
    }
    Html::trusted(format!(
        "<header class=\"top\"><a class=\"brand\" href=\"/\">Playrack</a>{nav}{account}</header>"
    ))
}

/// Renders a page to a response (`no-store`: pages carry per-user data and CSRF tokens).
pub fn render(page: Page) -> Response {
    let csrf = page
        .user
        .as_ref()
        .map(|u| {
            format!(
                "<meta name=\"csrf-token\" content=\"{}\">",
                attr(&u.session.csrf)
            )
        })
        .unwrap_or_default();
    let scripts: String = page
        .scripts
        .iter()
        .map(|s| format!("<script type=\"module\" src=\"/assets/{s}\"></script>"))
        .collect();
    let extra_css = if page.console_nav && operator_page(&page) {
        OPERATOR_CSS
    } else {
        ""
    };
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1, viewport-fit=cover\">\
{csrf}<title>{title} · Playrack</title>\
<link rel=\"stylesheet\" href=\"/assets/portal.css\">{extra_css}{scripts}</head>\
<body data-page=\"{page_id}\"{body_attrs}><a class=\"skip\" href=\"#main\">Skip to content</a>\
{header}<main id=\"main\" tabindex=\"-1\">{body}</main>\
<div id=\"toast\" role=\"status\" aria-live=\"polite\" data-testid=\"toast\"></div></body></html>",
        title = esc(&page.title),
        page_id = attr(page.page_id),
        body_attrs = page.body_attrs,
        header = header_html(&page),
        body = page.body,
    );
    let mut resp = (page.status, html).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// A friendly error page for a problem (its code shown for support).
pub fn error_page(
    status: StatusCode,
    heading: &str,
    text: &str,
    problem: Option<&Problem>,
) -> Page {
    let code = problem
        .map(|p| {
            format!(
                "<p class=\"code\">Code: <code data-testid=\"error-code\">{}</code>{}</p>",
                esc(&p.code),
                p.request_id
                    .as_deref()
                    .map(|r| format!(" · request <code>{}</code>", esc(r)))
                    .unwrap_or_default()
            )
        })
        .unwrap_or_default();
    Page::new(
        heading,
        Html::trusted(format!(
            "<section class=\"card narrow error-page\" data-testid=\"error\"><h1>{}</h1><p>{}</p>{code}\
             <p><a href=\"/\">Go to the start page</a></p></section>",
            esc(heading),
            esc(text)
        )),
    )
    .page_id("error")
    .status(status)
}
