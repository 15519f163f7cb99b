//! Try-play links: the table (URL with a copy button, plays, status, QR code, revoke), the
//! new-link form, and the `/console/links` page listing every game's links.

use super::{
    CursorQ, api_button, api_form, copy_button, list, load, name_of, next_link, render, tenant,
};
use crate::AppState;
use crate::auth::SignedIn;
use crate::html::{Markup, Text, html, pct, table, text, time_opt};
use crate::layout::Page;
use crate::qr;
use axum::extract::{Query, State};
use axum::response::Response;
use playrack_wire::Timestamp;
use playrack_wire::api::{Game, Link};
use std::collections::HashMap;

/// A link's public URL.
fn link_url(state: &AppState, code: &str) -> String {
    format!("{}/play/{}", state.public_url, pct(code))
}

/// The links table; with `names`, a column for each link's game.
pub(super) fn links_table(
    state: &AppState,
    links: &[Link],
    names: Option<&HashMap<String, String>>,
) -> Markup {
    let rows = links
        .iter()
        .map(|l| {
            let url = link_url(state, &l.code);
            let status = if l.revoked_at.is_some() {
                "revoked"
            } else if l.expires_at.is_some_and(|e| e <= Timestamp::now()) {
                "expired"
            } else if l.max_plays.is_some_and(|m| l.plays_used >= m) {
                "used up"
            } else {
                "active"
            };
            let mut row = vec![html! {
                a href=(Text(&url)) data-testid="link-url" { (Text(&url)) }
                " "
                (copy_button(&url, "Copy", "copy-link"))
            }];
            if let Some(n) = names {
                row.push(text(name_of(n, &l.game_id)));
            }
            row.extend([
                text(l.campaign.as_deref().unwrap_or("—")),
                text(format!("{} s", l.trial_seconds)),
                text(match l.max_plays {
                    Some(m) => format!("{} / {m}", l.plays_used),
                    None => format!("{}", l.plays_used),
                }),
                time_opt(l.expires_at.as_ref()),
                html! { span class="badge" data-testid="link-status" { (status) } },
                html! {
                    details class="qr" {
                        summary data-testid="show-qr" { "QR code" }
                        @match qr::svg(&url, &format!("QR code for {url}")) {
                            Some(svg) => { (svg) }
                            None => { "(too long for a QR code)" }
                        }
                    }
                },
                html! {
                    @if l.revoked_at.is_none() {
                        (api_button(
                            "Revoke",
                            &format!("/api/links/{}/revoke", pct(&l.id)),
                            "POST",
                            Some("Revoke this link? It stops starting plays at once."),
                            "revoke-link",
                            "danger small",
                        ))
                    }
                },
            ]);
            row
        })
        .collect();
    let mut head = vec!["Link"];
    if names.is_some() {
        head.push("Game");
    }
    head.extend(["Campaign", "Trial", "Plays", "Expires", "Status", "QR", ""]);
    table("Try-play links", "links", &head, rows)
}

/// The new-link form: for `fixed_game`, or with a choice of `games`.
pub(super) fn link_form(games: &[Game], fixed_game: Option<&Game>) -> Markup {
    api_form(
        "/api/links",
        "POST",
        "reload",
        "create-link",
        html! {
            @match fixed_game {
                Some(g) => {
                    input type="hidden" name="game_id" value=(Text(&g.id));
                }
                None => {
                    label for="l-game" { "Game" }
                    select id="l-game" name="game_id" required data-testid="link-game-input" {
                        @for g in games {
                            option value=(Text(&g.id)) { (Text(&g.name)) }
                        }
                    }
                }
            }
            label for="l-trial" { "Trial length (seconds; empty: the game's default)" }
            input id="l-trial" name="trial_seconds" type="number" min="1" max="86400"
                data-kind="int" data-testid="link-trial-input";
            label for="l-max" { "Most plays (empty: no limit)" }
            input id="l-max" name="max_plays" type="number" min="1" data-kind="int"
                data-testid="link-max-input";
            label for="l-exp" { "Expires (empty: never)" }
            input id="l-exp" name="expires_at" type="datetime-local" data-kind="datetime"
                data-testid="link-expires-input";
            label for="l-camp" { "Campaign" }
            input id="l-camp" name="campaign" maxlength="64" data-testid="link-campaign-input";
            fieldset {
                legend { "Call to action on the end screen (optional)" }
                label for="l-cta-label" { "Label" }
                input id="l-cta-label" name="cta.label" maxlength="60"
                    data-testid="link-cta-label-input";
                label for="l-cta-url" { "URL" }
                input id="l-cta-url" name="cta.url" type="url" placeholder="https://"
                    data-testid="link-cta-url-input";
            }
            button type="submit" class="primary" data-testid="create-link-submit" {
                "Create link"
            }
        },
    )
}

/// `GET /console/links`.
pub(super) async fn links(
    State(state): State<AppState>,
    user: SignedIn,
    Query(q): Query<CursorQ>,
) -> Response {
    tenant!(user);
    let (links, games) = tokio::join!(
        list::<Link>(&state, &user, "/v1/links", 50, q.cursor.as_deref()),
        list::<Game>(&state, &user, "/v1/games", 200, None),
    );
    let links = load!(state, user, links);
    let games = load!(state, user, games);
    let names: HashMap<String, String> = games
        .items
        .iter()
        .map(|g| (g.id.clone(), g.name.clone()))
        .collect();
    let body = html! {
        h1 { "Try-play links" }
        (links_table(&state, &links.items, Some(&names)))
        (next_link("/console/links", links.next_cursor.as_ref()))
        section class="card" {
            h2 { "New link" }
            @if games.items.is_empty() {
                p { "Create a game first." }
            } @else {
                (link_form(&games.items, None))
            }
        }
    };
    render(Page::console("Try-play links", &user, "/console/links", body).page_id("links"))
}
