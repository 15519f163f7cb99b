//! The public watch page, `/watch/{code}`: what a watch link shows — one live play, or a wall
//! tiling a game's live plays — watched read-only. The page is a shell in the request's
//! language; `assets/watch.js` asks the controller (`POST /v1/play/watch/{code}`, proxied
//! as-is) for spectator passes and connects to each play's board (`assets/watch-stream.js`).
//!
//! Test hooks: `<body data-watch-state>` (set by the script: `loading`, `waiting`,
//! `watching`, `error`), tiles `[data-testid=watch-tile]` with `data-state`.

use crate::html::{Text, html};
use crate::i18n::Lang;
use crate::layout::{self, Page};
use axum::extract::{Path, Query};
use axum::http::HeaderMap;
use axum::response::Response;

use super::player::LangQuery;

/// The words `assets/watch.js` shows, by key, in `lang`.
fn script_messages(lang: Lang) -> String {
    const KEYS: &[&str] = &[
        "watch-loading",
        "watch-waiting",
        "watch-tile-connecting",
        "watch-tile-watching",
        "watch-tile-ended",
        "watch-tile-error",
        "watch-tile-idle",
        "watch-WATCH_NOT_FOUND",
        "watch-WATCH_REVOKED",
        "watch-WATCH_EXPIRED",
        "watch-WATCH_ENDED",
        "watch-WATCH_FULL",
        "watch-NETWORK",
        "watch-RATE_LIMITED",
    ];
    let m: serde_json::Map<String, serde_json::Value> = KEYS
        .iter()
        .map(|k| ((*k).to_owned(), lang.t(k).into()))
        .collect();
    serde_json::Value::Object(m).to_string()
}

/// `GET /watch/{code}`.
pub async fn page(
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::of_request(&headers, q.lang.as_deref());
    let t = |k: &str| lang.t(k);
    // The code goes to the script as data; anything but a plausible code is shown as such by
    // the controller's answer (WATCH_NOT_FOUND).
    let code: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect();
    let body = html! {
        div id="watch" class="watch" data-watch-code=(Text(&code))
            data-messages=(Text(&script_messages(lang)))
        {
            header class="watch-head" {
                h1 { span id="watch-game" data-testid="watch-game" {} " · " (t("watch-title")) }
                p class="muted" { (t("watch-read-only")) }
                p id="watch-status" role="status" aria-live="polite" data-testid="watch-status" {}
            }
            div id="watch-grid" class="watch-grid" data-testid="watch-grid" {}
        }
    };
    let mut page = Page::new(t("watch-title"), body)
        .page_id("watch")
        .script("watch.js");
    page.lang = lang;
    let mut resp = layout::render(page);
    crate::i18n::vary(&mut resp);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scripts_words_are_in_both_catalogues() {
        for lang in Lang::ALL {
            let m = script_messages(lang);
            assert!(!m.contains("Unknown localization"), "{lang:?}: {m}");
        }
    }
}
