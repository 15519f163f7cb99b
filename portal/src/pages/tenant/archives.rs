//! `/console/archives`: single-player games' save archives, kept between plays; pin, unpin or
//! delete each.

use super::{CursorQ, api_button, game_names, list, load, name_of, next_link, render, tenant};
use crate::AppState;
use crate::auth::SignedIn;
use crate::html::{Text, html, pct, size, table, text, time};
use crate::layout::Page;
use axum::extract::{Query, State};
use axum::response::Response;
use playrack_wire::api::Archive;

/// `GET /console/archives`.
pub(super) async fn archives(
    State(state): State<AppState>,
    user: SignedIn,
    Query(q): Query<CursorQ>,
) -> Response {
    tenant!(user);
    let (archives, names) = tokio::join!(
        list::<Archive>(&state, &user, "/v1/archives", 50, q.cursor.as_deref()),
        game_names(&state, &user),
    );
    let archives = load!(state, user, archives);
    let names = load!(state, user, names);
    let rows = archives
        .items
        .iter()
        .map(|a| {
            let api = format!("/api/archives/{}", pct(&a.id));
            // The body of the pin toggle.
            let pin = format!("{{\"pinned\":{}}}", !a.pinned);
            let actions = html! {
                (crate::html::api_button(
                    if a.pinned { "Unpin" } else { "Pin" },
                    &api,
                    "PATCH",
                    Some(&pin),
                    None,
                    if a.pinned {
                        "unpin-archive"
                    } else {
                        "pin-archive"
                    },
                    "small",
                ))
                (api_button(
                    "Delete",
                    &api,
                    "DELETE",
                    Some("Delete this save archive? The player loses this save."),
                    "delete-archive",
                    "danger small",
                ))
            };
            vec![
                html! { code { (Text(&a.id)) } },
                text(name_of(&names, &a.game_id)),
                text(&a.user),
                text(size(a.size_bytes)),
                text(a.tag.as_deref().unwrap_or("—")),
                text(if a.pinned { "yes" } else { "no" }),
                time(&a.created_at),
                actions,
            ]
        })
        .collect();
    let body = html! {
        h1 { "Save archives" }
        p class="muted" {
            "Single-player games' saves, kept between plays. Pinned saves are never removed by \
             the keep-newest rule."
        }
        (table(
            "Archives",
            "archives",
            &[
                "Archive", "Game", "Player", "Size", "Tag", "Pinned", "Saved", ""
            ],
            rows
        ))
        (next_link("/console/archives", archives.next_cursor.as_ref()))
    };
    render(Page::console("Save archives", &user, "/console/archives", body).page_id("archives"))
}
