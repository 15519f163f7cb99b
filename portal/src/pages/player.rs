//! The player's try-play page, `/play/{code}`: the link card (read server-side from the
//! controller's public `GET /v1/play/links/{code}`), a Play button, the queue, the stream
//! area and the end screen. `assets/player.js` drives it with the H5 SDK
//! (`/assets/sdk/playrack.js`), whose API calls go to this origin's `/v1/play/…` proxy.
//!
//! Test hooks: `<body data-player-state>` is always one of `idle`, `queued`, `connecting`,
//! `playing`, `ended`, `error`; `window.playrackPlayer` is the SDK's player object.

use crate::AppState;
use crate::assets;
use crate::controller::CtlError;
use crate::html::{Text, html, pct, url};
use crate::layout::{self, Page, PlayerBody};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
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
    status: StatusCode,
    code: &str,
    problem: Option<&playrack_wire::Problem>,
) -> Response {
    let (heading, text) = match code {
        "LINK_REVOKED" => (
            "This link has been withdrawn",
            "The publisher no longer offers this try-play link.",
        ),
        "LINK_EXPIRED" => (
            "This link has expired",
            "The try-play period for this link is over.",
        ),
        "LINK_EXHAUSTED" | "LINK_USED_UP" => (
            "This link has been used up",
            "Every play this link offered has been taken.",
        ),
        _ if status == StatusCode::NOT_FOUND => (
            "We could not find this game",
            "Check the link you were given: this one does not lead to a game.",
        ),
        _ if status.is_server_error() => (
            "The game service is unavailable",
            "Please try again in a moment.",
        ),
        _ => (
            "This link cannot be played",
            "The link is not playable right now.",
        ),
    };
    let mut page = layout::error_page(status, heading, text, problem);
    page.page_id = "player-error";
    layout::render(page)
}

fn minutes(secs: u32) -> String {
    match secs {
        s if s < 60 => format!("{s} seconds"),
        s if s % 60 == 0 && s < 120 => "1 minute".into(),
        s if s % 60 == 0 => format!("{} minutes", s / 60),
        s => format!("{}:{:02} minutes", s / 60, s % 60),
    }
}

/// Renders the page for a link card.
pub fn render(card: &LinkCard, sdk_present: bool) -> Response {
    let rooms = serde_json::to_string(&card.rooms).unwrap_or_else(|_| "[]".into());
    let body = html! {
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
                        "Free trial · " (minutes(card.trial_seconds))
                    }
                }
                div class="actions" data-show="idle error" {
                    button type="button" id="play" class="primary big" data-testid="play-button" {
                        "Play"
                    }
                }
                p id="player-error" class="error" role="alert" data-testid="player-error"
                    data-show="error"
                {
                    @if !sdk_present {
                        "The player could not be loaded. Please try again later. (SDK_MISSING)"
                    }
                }
            }
            section id="queue" class="card" data-show="queued" aria-labelledby="queue-h"
                data-testid="queue"
            {
                h2 id="queue-h" { "You're in line" }
                p aria-live="polite" {
                    "Position "
                    strong data-testid="queue-position" id="queue-position" { "–" }
                    " of "
                    span id="queue-length" data-testid="queue-length" { "–" }
                    " · about "
                    span id="queue-eta" data-testid="queue-eta" { "–" }
                }
                p id="queue-reason" class="muted" data-testid="queue-reason" {}
                button type="button" id="cancel" data-testid="queue-cancel" { "Leave the line" }
            }
            section id="connecting" class="card" data-show="connecting" data-testid="connecting"
                aria-live="polite"
            {
                p {
                    span class="spinner" aria-hidden="true" {}
                    " "
                    span id="connecting-text" { "Starting your game…" }
                }
            }
            section id="stage" class="stage" data-show="connecting playing" aria-label="Game"
                data-testid="stage"
            {
                div id="stream" class="stream" data-testid="stream" {}
                p id="notice" class="notice" role="status" aria-live="polite"
                    data-testid="player-notice" {}
                button type="button" id="still-here" class="still-here" hidden
                    data-testid="still-here" { "I'm here" }
                div class="controls" data-show="playing" {
                    button type="button" id="mute" aria-pressed="false" data-testid="mute" {
                        "Mute"
                    }
                    button type="button" id="fullscreen" data-testid="fullscreen" {
                        "Full screen"
                    }
                    button type="button" id="leave" data-testid="leave" { "Leave" }
                }
            }
            section id="ended" class="card" data-show="ended" aria-labelledby="ended-h"
                data-testid="end-screen"
            {
                h2 id="ended-h" { "Thanks for playing" }
                p id="end-reason" data-testid="end-reason" {}
                div class="actions" {
                    @if let Some(c) = &card.cta {
                        a class="button primary" href=(Text(url(&c.url))) target="_blank"
                            rel="noopener noreferrer" data-testid="cta" { (Text(&c.label)) }
                    }
                    button type="button" id="again" data-testid="play-again" { "Play again" }
                }
            }
        }
    };
    let mut page = Page::new(card.game_name.clone(), body)
        .page_id("player")
        .script("player.js");
    page.player = Some(PlayerBody {
        state: if sdk_present { "idle" } else { "error" },
        link: card.code.clone(),
        sdk: if sdk_present { "present" } else { "missing" },
        rooms,
    });
    layout::render(page)
}

/// `GET /play/{code}`.
pub async fn page(State(state): State<AppState>, Path(code): Path<String>) -> Response {
    if !plausible_code(&code) {
        return link_error(StatusCode::NOT_FOUND, "NOT_FOUND", None);
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
            render(&card, present)
        }
        Err(e) => {
            let p = e.problem();
            if let CtlError::Unreachable(msg) = &e {
                tracing::error!(error = %msg, "link card: controller unreachable");
            }
            link_error(e.status(), &p.code, Some(&p))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn trial_lengths_read_well() {
        assert_eq!(super::minutes(45), "45 seconds");
        assert_eq!(super::minutes(60), "1 minute");
        assert_eq!(super::minutes(600), "10 minutes");
        assert_eq!(super::minutes(90), "1:30 minutes");
        assert!(super::plausible_code("Ab-9_x"));
        assert!(!super::plausible_code("../x"));
    }
}
