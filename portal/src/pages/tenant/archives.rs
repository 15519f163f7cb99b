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
    let t = |k: &str| user.lang.t(k);
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
                    &t(if a.pinned { "tn-unpin" } else { "tn-pin" }),
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
                    &t("tn-delete"),
                    &api,
                    "DELETE",
                    Some(&t("tn-archive-delete-confirm")),
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
                text(t(if a.pinned { "tn-yes" } else { "tn-no" })),
                time(&a.created_at),
                actions,
            ]
        })
        .collect();
    let body = html! {
        h1 { (t("tn-archives-title")) }
        p class="muted" { (t("tn-archives-intro")) }
        (table(
            user.lang,
            &t("tn-archives-caption"),
            "archives",
            &[
                t("tn-archive"), t("tn-game"), t("tn-player"), t("tn-size"), t("tn-tag"),
                t("tn-pinned"), t("tn-saved"), String::new()
            ],
            rows
        ))
        (next_link(user.lang, "/console/archives", archives.next_cursor.as_ref()))
    };
    render(
        Page::console(t("tn-archives-title"), &user, "/console/archives", body).page_id("archives"),
    )
}
