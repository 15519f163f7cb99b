//! Live plays: `/operator/queue` (every live play, grouped per tenant and game) and
//! `/operator/sessions/{id}` (one play: where it runs, the touch-to-screen latency its player
//! measured, a live spectator thumbnail with a screenshot of it, kick, recording it to MP4, the
//! instance's log followed with `logcat`, and the shell in its instance).
//!
//! The queue page shows the waiting lines (`/v1/queue`: every tenant's players in line order,
//! with the reason they wait) above the live plays (`/v1/online`). There is no single-session
//! read for operators: the session page finds its play in the live list.

use super::boards::{online, plays_table, shell_form, tenant_and_game_names};
use super::{api_button, console, is_admin, load, name_of, operator, truncated_note, wire_name};
use crate::AppState;
use crate::auth::SignedIn;
use crate::html::{Markup, Text, html, pct, table, text, time};
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
    let body = html! {
        h1 { "Live plays & queue" }
        p class="muted" {
            label class="check" {
                input type="checkbox" data-autoreload="5" checked data-testid="autoreload";
                " Refresh every 5 seconds"
            }
        }
        section {
            h2 { "Waiting in line (" span data-testid="queue-total" { (waiting.total) } ")" }
            (table(
                "Players waiting, in line order per tenant",
                "queue-entries",
                &["Place", "Tenant", "Game", "Player", "Why", "Waiting since"],
                line_rows
            ))
        }
        section {
            h2 { "Per tenant and game" }
            (table(
                "Live plays per tenant and game",
                "play-groups",
                &[
                    "Tenant",
                    "Game",
                    "Plays",
                    "Connected",
                    "Not connected",
                    "Starting"
                ],
                rows
            ))
        }
        section {
            h2 { "Every live play" }
            (plays_table("Live plays", &all, &tenants, &games, is_admin(&user), true))
            (truncated_note(cut, "4,000 live plays"))
        }
    };
    layout::render(console("Live plays", &user, "/operator/queue", body).page_id("op-queue"))
}

/// `GET /operator/sessions/{id}`.
/// The instance's log, streamed: `logcat` in the instance through the audited shell (the
/// command is built by `operator-shell.js` from the filter and the number of past lines, and
/// runs until the time limit).
fn logcat_form(board_id: &str, instance_id: &str) -> Markup {
    html! {
        form class="shell" data-shell={ "/api/boards/" (Text(pct(board_id))) "/shell" }
            data-logcat data-testid="logcat-form"
        {
            input type="hidden" name="instance_id" value=(Text(instance_id));
            input type="hidden" name="command" value="logcat";
            label for="lc-filter" { "Filter (logcat filter specs, e.g. " code { "ActivityManager:I *:S" } ")" }
            input id="lc-filter" name="filter" value="*:V" maxlength="200" autocomplete="off"
                spellcheck="false" class="mono" pattern=r"[A-Za-z0-9_.*: \-]*"
                data-testid="logcat-filter";
            label for="lc-lines" { "Past lines" }
            input id="lc-lines" name="lines" type="number" min="1" max="5000" value="200"
                data-testid="logcat-lines";
            label for="lc-timeout" { "Follow for (seconds, 1–600)" }
            input id="lc-timeout" name="timeout_secs" type="number" min="1" max="600" value="30"
                data-testid="logcat-timeout";
            button type="submit" class="primary" data-testid="logcat-run" { "Follow the log" }
            p class="status" role="status" data-shell-status data-testid="logcat-status" {}
            p class="error" role="alert" data-testid="logcat-error" {}
            pre class="shell-output" data-shell-output tabindex="0" aria-label="Log output"
                data-testid="logcat-output" {}
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
    let Some(p) = plays.iter().find(|p| p.session_id == id) else {
        let mut page = layout::error_page(
            StatusCode::NOT_FOUND,
            "Not a live play",
            "This play has ended, or there is no such session.",
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
                "← Board " code { (Text(&p.board_id)) }
            }
        }
        h1 { "Play " code data-testid="session-id" { (Text(&p.session_id)) } }
        div class="live-view" {
            section class="card spectate" data-spectate={ "/api/sessions/" (Text(&sid)) "/spectate" }
                aria-labelledby="spec-h" data-testid="spectate"
            {
                h2 id="spec-h" { "Live view" }
                video muted autoplay playsinline data-spectate-video
                    aria-label="Live view of the play (no sound)" data-testid="spectate-video" {}
                p {
                    button type="button" class="primary" data-spectate-start
                        data-testid="spectate-start" { "Watch live" }
                    button type="button" data-spectate-stop hidden data-testid="spectate-stop" {
                        "Stop watching"
                    }
                }
                p class="muted" {
                    "Watching is recorded in the audit log. The player is not told and cannot be \
                     disturbed."
                }
                p class="status" role="status" data-spectate-status data-testid="spectate-status" {}
                p {
                    button type="button" data-spectate-shot disabled data-testid="screenshot-take" {
                        "Screenshot"
                    }
                    " "
                    a data-spectate-shot-link hidden data-testid="screenshot-link" { "Download PNG" }
                }
                img data-spectate-shot-image hidden alt="Screenshot of the play"
                    data-testid="screenshot";
            }
            dl class="facts" {
                dt { "Tenant" } dd { (Text(name_of(&tenants, &p.tenant_id))) }
                dt { "Game" } dd { (Text(name_of(&games, &p.game_id))) }
                dt { "Player" } dd { (Text(&p.user)) }
                dt { "Spec" } dd { (Text(&p.spec_id)) }
                dt { "Room" } dd { code { (Text(&p.room_id)) } }
                dt { "Board" }
                dd {
                    a href={ "/operator/boards/" (Text(&bid)) } data-testid="board-link" {
                        code { (Text(&p.board_id)) }
                    }
                }
                dt { "Instance" }
                dd {
                    code data-testid="session-instance" {
                        (Text(p.instance_id.as_deref().unwrap_or("—")))
                    }
                }
                dt { "State" } dd data-testid="session-state" { (wire_name(&p.state)) }
                dt { "Connected" } dd { (if p.connected { "yes" } else { "no" }) }
                dt { "Since" } dd { (time(&p.since)) }
                dt { "Touch to screen" }
                dd data-testid="session-latency" {
                    @if let Some(l) = &p.latency {
                        (format!(
                            "last {:.0} ms, mean {:.0} ms, max {:.0} ms ({} probes)",
                            l.last_ms, l.mean_ms, l.max_ms, l.samples
                        ))
                    } @else {
                        span class="muted" { "not measured (the player's SDK reports its latency probes)" }
                    }
                }
            }
        }
        div class="actions" {
            @if admin {
                (api_button(
                    "Kick",
                    &format!("/api/sessions/{sid}/kick"),
                    "POST",
                    None,
                    Some("End this play now? The player sees that it was ended."),
                    "kick-session",
                    "danger",
                ))
            }
        }
        section class="card" {
            h2 { "Recording" }
            p class="muted" {
                "The play's own video (H.264, not re-encoded) into an MP4 file, from its next key \
                 frame until stopped or until the play ends; its tenant can download it too."
            }
            @if admin {
                (api_button(
                    "Record",
                    &format!("/api/sessions/{sid}/recordings"),
                    "POST",
                    None,
                    None,
                    "record-start",
                    "primary",
                ))
            }
            (crate::pages::recordings_table(&recordings.items, admin))
        }
        @if let (Some(i), true) = (&p.instance_id, admin) {
            section class="card" {
                h2 { "Logcat" }
                (logcat_form(&p.board_id, i))
            }
            section class="card" {
                h2 { "Shell in this instance" }
                (shell_form(&p.board_id, &[], Some(i)))
            }
        }
    };
    layout::render(
        console(
            format!("Play {}", p.session_id),
            &user,
            "/operator/queue",
            body,
        )
        .page_id("op-session")
        .script("operator/spectate.js")
        .script("operator/operator-shell.js"),
    )
}
