//! Live plays: `/operator/queue` (every live play, grouped per tenant and game) and
//! `/operator/sessions/{id}` (one play: where it runs, the touch-to-screen latency its player
//! measured, a live spectator thumbnail with a screenshot of it, kick, recording it to MP4, the
//! instance's log followed with `logcat`, and the shell in its instance).
//!
//! The queue page shows the waiting lines (`/v1/queue`: every tenant's players in line order,
//! with the reason they wait) above the live plays (`/v1/online`). There is no single-session
//! read for operators: the session page finds its play in the live list.

use super::boards::{online, plays_table, shell_form, tenant_and_game_names};
use super::{
    api_button, console, heads, is_admin, load, name_of, operator, rich, session_state_label, strs,
    t_with, truncated_note, yes_no,
};
use crate::AppState;
use crate::auth::SignedIn;
use crate::html::{Markup, Text, html, pct, table, text, time};
use crate::i18n::Lang;
use crate::layout;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use playrack_wire::api::{OnlineEntry, Page, QueueView, Recording, SessionState};
use std::collections::BTreeMap;

/// `GET /operator/queue`.
pub async fn queue(State(state): State<AppState>, user: SignedIn) -> Response {
    operator!(user);
    let (plays, (tenants, games), waiting) = tokio::join!(
        online(&state, &user),
        tenant_and_game_names(&state, &user),
        state.ctl.get::<QueueView>("/v1/queue", user.token())
    );
    let (plays, cut) = load!(state, user, plays);
    let waiting = load!(state, user, waiting);
    let line_rows = waiting
        .entries
        .iter()
        .map(|e| {
            vec![
                html! { span data-testid="queue-position" { (e.position) } },
                text(name_of(&tenants, &e.tenant_id)),
                text(name_of(&games, &e.game_id)),
                text(&e.user),
                text(&e.reason),
                time(&e.waiting_since),
            ]
        })
        .collect();
    // (tenant, game) → (plays, connected, not yet playing)
    let mut groups: BTreeMap<(&str, &str), (u32, u32, u32)> = BTreeMap::new();
    for p in &plays {
        let g = groups
            .entry((p.tenant_id.as_str(), p.game_id.as_str()))
            .or_default();
        g.0 += 1;
        if p.connected {
            g.1 += 1;
        }
        if matches!(
            p.state,
            SessionState::Reserved | SessionState::Preparing | SessionState::Ready
        ) {
            g.2 += 1;
        }
    }
    let rows = groups
        .iter()
        .map(|((t, g), (n, c, starting))| {
            vec![
                text(name_of(&tenants, t)),
                text(name_of(&games, g)),
                html! { span data-testid="group-plays" { (n) } },
                text(c),
                text(n - c),
                text(starting),
            ]
        })
        .collect();
    let all: Vec<&OnlineEntry> = plays.iter().collect();
    let lang = user.lang;
    let line_head = heads(
        lang,
        &[
            "op-col-place",
            "op-col-tenant",
            "op-col-game",
            "op-col-player",
            "op-col-why",
            "op-col-waiting-since",
        ],
    );
    let group_head = heads(
        lang,
        &[
            "op-col-tenant",
            "op-col-game",
            "op-col-plays",
            "op-col-connected",
            "op-col-not-connected",
            "op-col-starting",
        ],
    );
    let body = html! {
        h1 { (lang.t("op-queue-heading")) }
        p class="muted" {
            label class="check" {
                input type="checkbox" data-autoreload="5" checked data-testid="autoreload";
                " " (lang.t("op-queue-autoreload"))
            }
        }
        section {
            h2 {
                (rich(lang, "op-queue-waiting", &[(
                    "n",
                    html! { span data-testid="queue-total" { (waiting.total) } },
                )]))
            }
            (table(
                lang,
                &lang.t("op-queue-waiting-caption"),
                "queue-entries",
                &strs(&line_head),
                line_rows
            ))
        }
        section {
            h2 { (lang.t("op-queue-groups")) }
            (table(
                lang,
                &lang.t("op-queue-groups-caption"),
                "play-groups",
                &strs(&group_head),
                rows
            ))
        }
        section {
            h2 { (lang.t("op-queue-every")) }
            (plays_table(lang, &lang.t("op-plays-caption"), &all, &tenants, &games, is_admin(&user), true))
            (truncated_note(lang, cut, "op-truncated-plays"))
        }
    };
    layout::render(
        console(lang.t("op-queue-title"), &user, "/operator/queue", body).page_id("op-queue"),
    )
}

/// `GET /operator/sessions/{id}`.
/// The instance's log, streamed: `logcat` in the instance through the audited shell (the
/// command is built by `operator-shell.js` from the filter and the number of past lines, and
/// runs until the time limit).
fn logcat_form(lang: Lang, board_id: &str, instance_id: &str) -> Markup {
    html! {
        form class="shell" data-shell={ "/api/boards/" (Text(pct(board_id))) "/shell" }
            data-logcat data-testid="logcat-form"
        {
            input type="hidden" name="instance_id" value=(Text(instance_id));
            input type="hidden" name="command" value="logcat";
            label for="lc-filter" {
                (rich(lang, "op-logcat-filter", &[
                    ("example", html! { code { "ActivityManager:I *:S" } }),
                ]))
            }
            input id="lc-filter" name="filter" value="*:V" maxlength="200" autocomplete="off"
                spellcheck="false" class="mono" pattern=r"[A-Za-z0-9_.*: \-]*"
                data-testid="logcat-filter";
            label for="lc-lines" { (lang.t("op-logcat-lines")) }
            input id="lc-lines" name="lines" type="number" min="1" max="5000" value="200"
                data-testid="logcat-lines";
            label for="lc-timeout" { (lang.t("op-logcat-timeout")) }
            input id="lc-timeout" name="timeout_secs" type="number" min="1" max="600" value="30"
                data-testid="logcat-timeout";
            button type="submit" class="primary" data-testid="logcat-run" {
                (lang.t("op-logcat-run"))
            }
            p class="status" role="status" data-shell-status data-testid="logcat-status" {}
            p class="error" role="alert" data-testid="logcat-error" {}
            pre class="shell-output" data-shell-output tabindex="0"
                aria-label=(lang.t("op-logcat-output")) data-testid="logcat-output" {}
        }
    }
}

pub async fn session(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<String>,
) -> Response {
    operator!(user);
    let recordings_path = format!("/v1/recordings?session_id={}", pct(&id));
    let (plays, (tenants, games), recordings) = tokio::join!(
        online(&state, &user),
        tenant_and_game_names(&state, &user),
        state
            .ctl
            .get::<Page<Recording>>(recordings_path, user.token()),
    );
    let (plays, _) = load!(state, user, plays);
    let recordings = load!(state, user, recordings);
    let lang = user.lang;
    let Some(p) = plays.iter().find(|p| p.session_id == id) else {
        let mut page = layout::error_page_in(
            lang,
            StatusCode::NOT_FOUND,
            &lang.t("op-session-gone-title"),
            &lang.t("op-session-gone-text"),
            None,
        );
        page.user = Some(user.clone());
        page.console_nav = true;
        page.scripts.push("app.js");
        return layout::render(page);
    };
    let admin = is_admin(&user);
    let sid = pct(&p.session_id);
    let bid = pct(&p.board_id);
    let body = html! {
        p {
            a href={ "/operator/boards/" (Text(&bid)) } data-testid="back-link" {
                (rich(lang, "op-session-back", &[("id", html! { code { (Text(&p.board_id)) } })]))
            }
        }
        h1 {
            (rich(lang, "op-session-heading", &[(
                "id",
                html! { code data-testid="session-id" { (Text(&p.session_id)) } },
            )]))
        }
        div class="live-view" {
            section class="card spectate" data-spectate={ "/api/sessions/" (Text(&sid)) "/spectate" }
                aria-labelledby="spec-h" data-testid="spectate"
            {
                h2 id="spec-h" { (lang.t("op-spectate-title")) }
                video muted autoplay playsinline data-spectate-video
                    aria-label=(lang.t("op-spectate-video")) data-testid="spectate-video" {}
                p {
                    button type="button" class="primary" data-spectate-start
                        data-testid="spectate-start" { (lang.t("op-spectate-start")) }
                    button type="button" data-spectate-stop hidden data-testid="spectate-stop" {
                        (lang.t("op-spectate-stop"))
                    }
                }
                p class="muted" { (lang.t("op-spectate-note")) }
                p class="status" role="status" data-spectate-status data-testid="spectate-status" {}
                p {
                    button type="button" data-spectate-shot disabled data-testid="screenshot-take" {
                        (lang.t("op-screenshot"))
                    }
                    " "
                    a data-spectate-shot-link hidden data-testid="screenshot-link" {
                        (lang.t("op-screenshot-download"))
                    }
                }
                img data-spectate-shot-image hidden alt=(lang.t("op-screenshot-alt"))
                    data-testid="screenshot";
            }
            dl class="facts" {
                dt { (lang.t("op-col-tenant")) } dd { (Text(name_of(&tenants, &p.tenant_id))) }
                dt { (lang.t("op-col-game")) } dd { (Text(name_of(&games, &p.game_id))) }
                dt { (lang.t("op-col-player")) } dd { (Text(&p.user)) }
                dt { (lang.t("op-col-spec")) } dd { (Text(&p.spec_id)) }
                dt { (lang.t("op-col-room")) } dd { code { (Text(&p.room_id)) } }
                dt { (lang.t("op-col-board")) }
                dd {
                    a href={ "/operator/boards/" (Text(&bid)) } data-testid="board-link" {
                        code { (Text(&p.board_id)) }
                    }
                }
                dt { (lang.t("op-col-instance")) }
                dd {
                    code data-testid="session-instance" {
                        (Text(p.instance_id.as_deref().unwrap_or("—")))
                    }
                }
                dt { (lang.t("op-col-state")) }
                dd data-testid="session-state" { (session_state_label(lang, p.state)) }
                dt { (lang.t("op-col-connected")) } dd { (yes_no(lang, p.connected)) }
                dt { (lang.t("op-col-since")) } dd { (time(&p.since)) }
                dt { (lang.t("op-session-latency")) }
                dd data-testid="session-latency" {
                    @if let Some(l) = &p.latency {
                        (t_with(lang, "op-session-latency-value", &[
                            ("last", format!("{:.0}", l.last_ms)),
                            ("mean", format!("{:.0}", l.mean_ms)),
                            ("max", format!("{:.0}", l.max_ms)),
                            ("probes", l.samples.to_string()),
                        ]))
                    } @else {
                        span class="muted" { (lang.t("op-session-latency-none")) }
                    }
                }
            }
        }
        div class="actions" {
            @if admin {
                (api_button(
                    &lang.t("op-kick"),
                    &format!("/api/sessions/{sid}/kick"),
                    "POST",
                    None,
                    Some(&lang.t("op-kick-confirm")),
                    "kick-session",
                    "danger",
                ))
            }
        }
        section class="card" {
            h2 { (lang.t("op-recording-title")) }
            p class="muted" { (lang.t("op-recording-text")) }
            @if admin {
                (api_button(
                    &lang.t("op-record"),
                    &format!("/api/sessions/{sid}/recordings"),
                    "POST",
                    None,
                    None,
                    "record-start",
                    "primary",
                ))
            }
            (crate::pages::recordings_table(lang, &recordings.items, admin))
        }
        @if let (Some(i), true) = (&p.instance_id, admin) {
            section class="card" {
                h2 { (lang.t("op-logcat-title")) }
                (logcat_form(lang, &p.board_id, i))
            }
            section class="card" {
                h2 { (lang.t("op-session-shell")) }
                (shell_form(lang, &p.board_id, &[], Some(i)))
            }
        }
    };
    let title = t_with(lang, "op-session-title", &[("id", p.session_id.clone())]);
    layout::render(
        console(title, &user, "/operator/queue", body)
            .page_id("op-session")
            .script("operator/spectate.js")
            .script("operator/operator-shell.js"),
    )
}
