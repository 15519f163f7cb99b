//! The player's try-play page, `/play/{code}`: the link card (read server-side from the
//! controller's public `GET /v1/play/links/{code}`), a Play button, the queue, the stream
//! area and the end screen. `assets/player.js` drives it with the H5 SDK
//! (`/assets/sdk/playrack.js`), whose API calls go to this origin's `/v1/play/…` proxy.
//!
//! Every word on it comes from the catalogues ([`crate::i18n`]) in the request's language; the
//! script's words travel in `<body data-messages>`. A switcher links the other languages
//! (`?lang=`, kept in a cookie).
//!
//! On a phone the stage takes the whole viewport while playing (safe areas kept, no scroll or
//! zoom), follows the stream's orientation (a landscape game fills a phone turned sideways; a
//! hint asks to turn it where the orientation cannot be locked), and full screen falls back to
//! that full-viewport mode where the Fullscreen API is missing (iPhone Safari).
//!
//! Test hooks: `<body data-player-state>` is always one of `idle`, `queued`, `connecting`,
//! `playing`, `ended`, `error`; `window.playrackPlayer` is the SDK's player object.

use crate::AppState;
use crate::assets;
use crate::controller::CtlError;
use crate::html::{Text, html, pct, url};
use crate::i18n::Lang;
use crate::layout::{self, Page, PlayerBody};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fluent_templates::fluent_bundle::FluentValue;
use playrack_wire::api::LinkCard;

/// Link codes are short URL-safe tokens.
fn plausible_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn link_error(
    lang: Lang,
    status: StatusCode,
    code: &str,
    problem: Option<&playrack_wire::Problem>,
) -> Response {
    let key = match code {
        "LINK_REVOKED" => "link-revoked",
        "LINK_EXPIRED" => "link-expired",
        "LINK_EXHAUSTED" | "LINK_USED_UP" => "link-used-up",
        _ if status == StatusCode::NOT_FOUND => "link-not-found",
        _ if status.is_server_error() => "link-unavailable",
        _ => "link-unplayable",
    };
    let heading = lang.t(&format!("{key}-title"));
    let text = lang.t(&format!("{key}-text"));
    let mut page = layout::error_page_in(lang, status, &heading, &text, problem);
    page.page_id = "player-error";
    layout::render(page)
}

/// A trial's length in words: seconds, whole minutes, or minutes and seconds.
fn trial_length(lang: Lang, secs: u32) -> String {
    let n = |v: u32| FluentValue::from(v);
    match secs {
        s if s < 60 => lang.t_args("duration-seconds", &[("n", n(s))]),
        s if s % 60 == 0 => lang.t_args("duration-minutes", &[("n", n(s / 60))]),
        s => lang.t_args(
            "duration-minutes-seconds",
            &[
                ("m", n(s / 60)),
                ("s", FluentValue::from(format!("{:02}", s % 60))),
            ],
        ),
    }
}

/// The words `assets/player.js` shows, by key, in `lang`.
fn script_messages(lang: Lang) -> String {
    const KEYS: &[&str] = &[
        "sdk-missing",
        "starting",
        "preparing",
        "connecting",
        "mute",
        "unmute",
        "fullscreen",
        "exit-fullscreen",
        "eta-under-minute",
        "error-generic",
        "save-newest",
        "save-pinned",
    ];
    const CODES: &[(&str, &[&str])] = &[(
        "queue-reason",
        &["TENANT_QUOTA_FULL", "ROOM_FULL", "NEW_PLAYS_PAUSED"],
    )];
    let mut m = serde_json::Map::new();
    for k in KEYS {
        m.insert((*k).into(), lang.t(k).into());
    }
    for (prefix, codes) in CODES {
        for c in *codes {
            let key = format!("{prefix}-{c}");
            m.insert(key.clone(), lang.t(&key).into());
        }
    }
    // The ETA in minutes, pluralised here for 1–120 (a longer wait shows as 120+).
    let minutes: Vec<String> = (0..=120u32)
        .map(|n| lang.t_args("eta-minutes", &[("n", FluentValue::from(n))]))
        .collect();
    m.insert("eta-minutes".into(), minutes.into());
    serde_json::Value::Object(m).to_string()
}

/// Renders the page for a link card.
pub fn render(lang: Lang, card: &LinkCard, sdk_present: bool) -> Response {
    let rooms = serde_json::to_string(&card.rooms).unwrap_or_else(|_| "[]".into());
    let t = |k: &str| lang.t(k);
    let body = html! {
        (layout::switcher(lang, Some("idle ended error")))
        div class="player" {
            section class="game-card" data-testid="game-card" aria-labelledby="game-name" {
                @match &card.icon_url {
                    Some(u) => {
                        img class="icon" src=(Text(url(u))) alt="" width="96" height="96"
                            data-testid="game-icon";
                    }
                    None => {
                        div class="icon placeholder" aria-hidden="true" {
                            (Text(card.game_name.chars().next().unwrap_or('?')))
                        }
                    }
                }
                div class="game-info" {
                    h1 id="game-name" data-testid="game-name" { (Text(&card.game_name)) }
                    p class="trial" data-testid="trial" {
                        (lang.t_args("free-trial", &[("length", FluentValue::from(trial_length(lang, card.trial_seconds)))]))
                    }
                }
                div class="saves" id="saves" hidden data-testid="saves" data-show="idle ended error" {
                    label for="save-choice" { (t("saves-title")) }
                    select id="save-choice" data-testid="save-choice" {}
                }
                div class="actions" data-show="idle error" {
                    button type="button" id="play" class="primary big" data-testid="play-button" {
                        (t("play"))
                    }
                }
                p id="player-error" class="error" role="alert" data-testid="player-error"
                    data-show="error"
                {
                    @if !sdk_present {
                        (t("sdk-missing")) " (SDK_MISSING)"
                    }
                }
            }
            section id="queue" class="card" data-show="queued" aria-labelledby="queue-h"
                data-testid="queue"
            {
                h2 id="queue-h" { (t("queue-title")) }
                p aria-live="polite" {
                    (t("queue-position")) " "
                    strong data-testid="queue-position" id="queue-position" { "–" }
                    " " (t("queue-of")) " "
                    span id="queue-length" data-testid="queue-length" { "–" }
                    " " (t("queue-about")) " "
                    span id="queue-eta" data-testid="queue-eta" { "–" }
                }
                p id="queue-reason" class="muted" data-testid="queue-reason" {}
                button type="button" id="cancel" data-testid="queue-cancel" { (t("queue-leave")) }
            }
            section id="connecting" class="card" data-show="connecting" data-testid="connecting"
                aria-live="polite"
            {
                p {
                    span class="spinner" aria-hidden="true" {}
                    " "
                    span id="connecting-text" { (t("starting")) }
                }
            }
            section id="stage" class="stage" data-show="connecting playing" aria-label=(t("game"))
                data-testid="stage"
            {
                div id="stream" class="stream" data-testid="stream" {}
                p id="notice" class="notice" role="status" aria-live="polite"
                    data-testid="player-notice" {}
                p id="rotate-hint" class="rotate-hint" role="status" hidden
                    data-testid="rotate-hint" { (t("rotate-hint")) }
                button type="button" id="still-here" class="still-here" hidden
                    data-testid="still-here" { (t("still-here")) }
                div class="controls" data-show="playing" {
                    button type="button" id="mute" aria-pressed="false" data-testid="mute" {
                        (t("mute"))
                    }
                    button type="button" id="keyboard" class="touch-only" data-testid="keyboard" {
                        (t("keyboard"))
                    }
                    button type="button" id="fullscreen" data-testid="fullscreen" {
                        (t("fullscreen"))
                    }
                    button type="button" id="leave" data-testid="leave" { (t("leave")) }
                }
            }
            section id="ended" class="card" data-show="ended" aria-labelledby="ended-h"
                data-testid="end-screen"
            {
                h2 id="ended-h" { (t("thanks")) }
                p id="end-reason" data-testid="end-reason" {}
                div class="actions" {
                    @if let Some(c) = &card.cta {
                        a class="button primary" href=(Text(url(&c.url))) target="_blank"
                            rel="noopener noreferrer" data-testid="cta" { (Text(&c.label)) }
                    }
                    button type="button" id="again" data-testid="play-again" { (t("play-again")) }
                }
            }
        }
    };
    let mut page = Page::new(card.game_name.clone(), body)
        .page_id("player")
        .script("player.js");
    page.lang = lang;
    page.manifest = true;
    page.messages = Some(script_messages(lang));
    page.player = Some(PlayerBody {
        state: if sdk_present { "idle" } else { "error" },
        link: card.code.clone(),
        sdk: if sdk_present { "present" } else { "missing" },
        rooms,
    });
    layout::render(page)
}

/// `GET /manifest.webmanifest`: the try-play page added to a phone's home screen opens full
/// screen, in whichever orientation the game wants.
pub async fn manifest() -> Response {
    let body = serde_json::json!({
        "name": "Playrack",
        "short_name": "Playrack",
        "display": "fullscreen",
        "orientation": "any",
        "background_color": "#000000",
        "theme_color": "#000000",
        // No start_url: it is then the page that was added, the game's own link.
    });
    (
        [
            (header::CONTENT_TYPE, "application/manifest+json"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// `?lang=`: the language switcher's choice.
#[derive(serde::Deserialize)]
pub struct LangQuery {
    pub lang: Option<String>,
}

/// `GET /play/{code}`.
pub async fn page(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::of_request(&headers, q.lang.as_deref());
    let mut resp = page_in(state, code, lang).await;
    crate::i18n::vary(&mut resp);
    resp
}

async fn page_in(state: AppState, code: String, lang: Lang) -> Response {
    if !plausible_code(&code) {
        return link_error(lang, StatusCode::NOT_FOUND, "NOT_FOUND", None);
    }
    match state
        .ctl
        .get_public::<LinkCard>(&format!("/v1/play/links/{}", pct(&code)))
        .await
    {
        Ok(card) => {
            let present = assets::sdk_present(&state);
            if !present {
                tracing::error!(dir = %state.config.sdk_dir.display(),
                    "player page served without the H5 SDK bundle (SDK_MISSING)");
            }
            let mut resp = render(lang, &card, present);
            crate::security::framed_by(&mut resp, &card.embed_origins);
            resp
        }
        Err(e) => {
            let p = e.problem();
            if let CtlError::Unreachable(msg) = &e {
                tracing::error!(error = %msg, "link card: controller unreachable");
            }
            link_error(lang, e.status(), &p.code, Some(&p))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trial_lengths_read_well_in_each_language() {
        assert_eq!(trial_length(Lang::En, 45), "45 seconds");
        assert_eq!(trial_length(Lang::En, 60), "1 minute");
        assert_eq!(trial_length(Lang::En, 600), "10 minutes");
        assert_eq!(trial_length(Lang::En, 90), "1:30 minutes");
        assert_eq!(trial_length(Lang::ZhCn, 600), "10 分钟");
        assert_eq!(trial_length(Lang::ZhCn, 90), "1 分 30 秒");
        assert!(!script_messages(Lang::En).contains("Unknown localization"));
        let m: serde_json::Value = serde_json::from_str(&script_messages(Lang::ZhCn)).unwrap();
        assert_eq!(m["queue-reason-ROOM_FULL"], "附近的游戏服务器暂时已满。");
        assert_eq!(m["eta-minutes"][2], "2 分钟");
        for (k, v) in m.as_object().unwrap() {
            if let Some(s) = v.as_str() {
                assert!(
                    !s.starts_with("Unknown localization"),
                    "{k} is in the catalogue"
                );
            }
        }
        assert!(super::plausible_code("Ab-9_x"));
        assert!(!super::plausible_code("../x"));
    }
}
