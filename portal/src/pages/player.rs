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
use crate::html::{Html, attr, esc, pct, url};
use crate::layout::{self, Page};
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
    let icon = match &card.icon_url {
        Some(u) => format!(
            "<img class=\"icon\" src=\"{}\" alt=\"\" width=\"96\" height=\"96\" data-testid=\"game-icon\">",
            url(u)
        ),
        None => format!(
            "<div class=\"icon placeholder\" aria-hidden=\"true\">{}</div>",
            esc(card.game_name.chars().next().unwrap_or('?'))
        ),
    };
    let cta = match &card.cta {
        Some(c) => format!(
            "<a class=\"button primary\" href=\"{}\" target=\"_blank\" rel=\"noopener noreferrer\" data-testid=\"cta\">{}</a>",
            url(&c.url),
            esc(&c.label)
        ),
        None => String::new(),
    };
    let rooms = serde_json::to_string(&card.rooms).unwrap_or_else(|_| "[]".into());
    let body = Html::trusted(format!(
        r#"<div class="player">
<section class="game-card" data-testid="game-card" aria-labelledby="game-name">
{icon}
<div class="game-info">
<h1 id="game-name" data-testid="game-name">{name}</h1>
<p class="trial" data-testid="trial">Free trial · {trial}</p>
</div>
<div class="actions" data-show="idle error">
<button type="button" id="play" class="primary big" data-testid="play-button">Play</button>
</div>
<p id="player-error" class="error" role="alert" data-testid="player-error" data-show="error">{sdk_error}</p>
</section>
<section id="queue" class="card" data-show="queued" aria-labelledby="queue-h" data-testid="queue">
<h2 id="queue-h">You're in line</h2>
<p aria-live="polite">Position <strong data-testid="queue-position" id="queue-position">–</strong> of <span id="queue-length" data-testid="queue-length">–</span>
 · about <span id="queue-eta" data-testid="queue-eta">–</span></p>
<p id="queue-reason" class="muted" data-testid="queue-reason"></p>
<button type="button" id="cancel" data-testid="queue-cancel">Leave the line</button>
</section>
<section id="connecting" class="card" data-show="connecting" data-testid="connecting" aria-live="polite">
<p><span class="spinner" aria-hidden="true"></span> <span id="connecting-text">Starting your game…</span></p>
</section>
<section id="stage" class="stage" data-show="connecting playing" aria-label="Game" data-testid="stage">
<div id="stream" class="stream" data-testid="stream"></div>
<p id="notice" class="notice" role="status" aria-live="polite" data-testid="player-notice"></p>
<div class="controls" data-show="playing">
<button type="button" id="mute" aria-pressed="false" data-testid="mute">Mute</button>
<button type="button" id="fullscreen" data-testid="fullscreen">Full screen</button>
<button type="button" id="leave" data-testid="leave">Leave</button>
</div>
</section>
<section id="ended" class="card" data-show="ended" aria-labelledby="ended-h" data-testid="end-screen">
<h2 id="ended-h">Thanks for playing</h2>
<p id="end-reason" data-testid="end-reason"></p>
<div class="actions">{cta}
<button type="button" id="again" data-testid="play-again">Play again</button></div>
</section>
</div>"#,
        name = esc(&card.game_name),
        trial = esc(minutes(card.trial_seconds)),
        sdk_error = if sdk_present {
            ""
        } else {
            "The player could not be loaded. Please try again later. (SDK_MISSING)"
        },
    ));
    let mut page = Page::new(card.game_name.clone(), body)
        .page_id("player")
        .script("player.js");
    page.body_attrs = Html::trusted(format!(
        " data-player-state=\"{}\" data-link=\"{}\" data-sdk=\"{}\" data-rooms=\"{}\"",
        if sdk_present { "idle" } else { "error" },
        attr(&card.code),
        if sdk_present { "present" } else { "missing" },
        attr(rooms),
    ));
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
