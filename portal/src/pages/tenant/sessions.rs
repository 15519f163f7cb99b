//! `/console/sessions`: the tenant's plays in progress, refreshed every few seconds, each with
//! kick and record buttons, and the tenant's play recordings (stop, download).

use super::{api_button, game_names, list, load, name_of, render, tenant};
use crate::AppState;
use crate::auth::SignedIn;
use crate::html::{Text, html, pct, table, text, time};
use crate::layout::Page;
use axum::extract::State;
use axum::response::Response;
use playrack_wire::api::{OnlineEntry, Recording};

/// `GET /console/sessions`.
pub(super) async fn sessions(State(state): State<AppState>, user: SignedIn) -> Response {
    tenant!(user);
    let (online, names, recordings) = tokio::join!(
        list::<OnlineEntry>(&state, &user, "/v1/online", 200, None),
        game_names(&state, &user),
        list::<Recording>(&state, &user, "/v1/recordings", 200, None),
    );
    let online = load!(state, user, online);
    let names = load!(state, user, names);
    let recordings = load!(state, user, recordings);
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
        section {
            h2 { "Recordings" }
            p class="muted" { "Recordings are kept for a limited time, then deleted." }
            (crate::pages::recordings_table(&recordings.items, true))
        }
    };
    render(Page::console("Live sessions", &user, "/console/sessions", body).page_id("sessions"))
}
