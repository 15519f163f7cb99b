//! `/console/sessions`: the tenant's plays in progress, refreshed every few seconds, each with
//! kick, record and watch-link buttons; walls of a game's live plays; the tenant's watch links
//! (revoke); and the tenant's play recordings (stop, download).

use super::{api_button, game_names, list, load, name_of, render, secret_box, tenant};
use crate::AppState;
use crate::auth::SignedIn;
use crate::html::Markup;
use crate::html::{Text, html, pct, table, text, time};
use crate::layout::Page;
use axum::extract::State;
use axum::response::Response;
use playrack_wire::api::{OnlineEntry, Recording, WatchKind, WatchLink};

/// A button that makes a watch link with `api` and shows its address once.
fn watch_button(label: &str, api: &str, testid: &str) -> Markup {
    html! {
        button type="button" class="small" data-api=(Text(api)) data-method="POST" data-body="{}"
            data-then="secret" data-testid=(testid) { (label) }
    }
}

/// `GET /console/sessions`.
pub(super) async fn sessions(State(state): State<AppState>, user: SignedIn) -> Response {
    tenant!(user);
    let (online, names, recordings, watch) = tokio::join!(
        list::<OnlineEntry>(&state, &user, "/v1/online", 200, None),
        game_names(&state, &user),
        list::<Recording>(&state, &user, "/v1/recordings", 200, None),
        list::<WatchLink>(&state, &user, "/v1/watch-links", 200, None),
    );
    let online = load!(state, user, online);
    let names = load!(state, user, names);
    let recordings = load!(state, user, recordings);
    let watch = load!(state, user, watch);
    let mut games: Vec<(&String, &String)> = names.iter().collect();
    games.sort_by(|a, b| a.1.cmp(b.1));
    let watch_rows = watch
        .items
        .iter()
        .rev()
        .map(|l| {
            vec![
                text(match l.kind {
                    WatchKind::Session => "one play",
                    WatchKind::Wall => "wall",
                }),
                text(name_of(&names, &l.game_id)),
                html! { @if let Some(s) = &l.session_id { code { (Text(s)) } } },
                text(l.max_viewers.to_string()),
                time(&l.expires_at),
                text(if l.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                }),
                html! {
                    @if l.revoked_at.is_none() {
                        (api_button(
                            "Revoke",
                            &format!("/api/watch-links/{}/revoke", pct(&l.id)),
                            "POST",
                            Some("Revoke this watch link? Nobody new can watch through it."),
                            "revoke-watch-link",
                            "danger small",
                        ))
                    }
                },
            ]
        })
        .collect();
    let rows = online
        .items
        .iter()
        .map(|s| {
            vec![
                html! { code { (Text(&s.session_id)) } },
                text(name_of(&names, &s.game_id)),
                text(&s.user),
                text(&s.spec_id),
                text(format!("{:?}", s.state).to_lowercase()),
                text(if s.connected { "yes" } else { "no" }),
                time(&s.since),
                html! {
                    (api_button(
                        "Record",
                        &format!("/api/sessions/{}/recordings", pct(&s.session_id)),
                        "POST",
                        None,
                        "record-session",
                        "small",
                    ))
                    " "
                    (watch_button(
                        "Watch link",
                        &format!("/api/sessions/{}/watch-links", pct(&s.session_id)),
                        "watch-session",
                    ))
                    " "
                    (api_button(
                        "Kick",
                        &format!("/api/sessions/{}/kick", pct(&s.session_id)),
                        "POST",
                        Some("End this play now? The player sees “ended by the publisher”."),
                        "kick-session",
                        "danger small",
                    ))
                },
            ]
        })
        .collect();
    let body = html! {
        h1 { "Live sessions" }
        p class="muted" {
            label class="check" {
                input type="checkbox" data-autoreload="5" checked data-testid="autoreload";
                " Refresh every 5 seconds"
            }
        }
        (table(
            "Plays in progress",
            "sessions",
            &[
                "Session",
                "Game",
                "Player",
                "Spec",
                "State",
                "Connected",
                "Since",
                ""
            ],
            rows
        ))
        (secret_box())
        section {
            h2 { "Watch links" }
            p class="muted" {
                "A watch link lets anyone who has it watch, never play: one play (the Watch link \
                 button above), or a wall of a game's newest live plays for a screen at an event. \
                 Each admits 10 viewers at once and lasts an hour; its address is shown once."
            }
            p {
                @for (id, name) in &games {
                    (watch_button(
                        &format!("Wall link: {name}"),
                        &format!("/api/games/{}/wall-links", pct(id)),
                        "wall-link",
                    ))
                    " "
                }
            }
            (table(
                "Watch links",
                "watch-links",
                &["Kind", "Game", "Session", "Viewers", "Expires", "Status", ""],
                watch_rows
            ))
        }
        section {
            h2 { "Recordings" }
            p class="muted" { "Recordings are kept for a limited time, then deleted." }
            (crate::pages::recordings_table(&recordings.items, true))
        }
    };
    render(Page::console("Live sessions", &user, "/console/sessions", body).page_id("sessions"))
}
