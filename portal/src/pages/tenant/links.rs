//! Try-play links: the table (URL with a copy button, plays, status, QR code, revoke), the
//! new-link form, and the `/console/links` page listing every game's links.

use super::{
    CursorQ, api_button, api_form, copy_button, embed, list, load, name_of, next_link, render,
    tenant,
};
use crate::AppState;
use crate::auth::SignedIn;
use crate::html::{Markup, Text, html, pct, table, text, time_opt};
use crate::i18n::Lang;
use crate::layout::Page;
use crate::qr;
use axum::extract::{Query, State};
use axum::response::Response;
use fluent_templates::fluent_bundle::FluentValue;
use playrack_wire::Timestamp;
use playrack_wire::api::{Game, Link};
use std::collections::HashMap;

/// A link's public URL.
fn link_url(state: &AppState, code: &str) -> String {
    format!("{}/play/{}", state.public_url, pct(code))
}

/// The links table; with `names`, a column for each link's game.
pub(super) fn links_table(
    lang: Lang,
    state: &AppState,
    links: &[Link],
    names: Option<&HashMap<String, String>>,
) -> Markup {
    let t = |k: &str| lang.t(k);
    let rows = links
        .iter()
        .map(|l| {
            let url = link_url(state, &l.code);
            let status = t(if l.revoked_at.is_some() {
                "tn-revoked"
            } else if l.expires_at.is_some_and(|e| e <= Timestamp::now()) {
                "tn-link-expired"
            } else if l.max_plays.is_some_and(|m| l.plays_used >= m) {
                "tn-link-used-up"
            } else {
                "tn-active"
            });
            let mut row = vec![html! {
                a href=(Text(&url)) data-testid="link-url" { (Text(&url)) }
                " "
                (copy_button(&url, &t("tn-copy"), "copy-link"))
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
                        summary data-testid="show-qr" { (t("tn-qr")) }
                        @match qr::svg(&url, &lang.t_args("tn-qr-for", &[("url", FluentValue::from(url.clone()))])) {
                            Some(svg) => { (svg) }
                            None => { (t("tn-qr-too-long")) }
                        }
                    }
                    (embed::snippets(lang, &state.public_url, &url, l))
                    (edit_form(lang, l))
                    p {
                        a href={ "/console/campaigns?link=" (Text(pct(&l.id))) } data-testid="link-figures" {
                            (t("cp-figures"))
                        }
                        " · "
                        a href={ "/console/history/" (Text(pct(&l.id))) } data-testid="history-link" {
                            (t("hist-link"))
                        }
                    }
                },
                html! {
                    @if l.revoked_at.is_none() {
                        (api_button(
                            &t("tn-revoke"),
                            &format!("/api/links/{}/revoke", pct(&l.id)),
                            "POST",
                            Some(&t("tn-link-revoke-confirm")),
                            "revoke-link",
                            "danger small",
                        ))
                    }
                },
            ]);
            row
        })
        .collect();
    let mut head = vec![t("tn-link")];
    if names.is_some() {
        head.push(t("tn-game"));
    }
    head.extend(
        [
            "tn-campaign",
            "tn-trial",
            "tn-plays",
            "tn-expires",
            "tn-status",
            "tn-qr-head",
        ]
        .map(t),
    );
    head.push(String::new());
    table(lang, &t("tn-links-title"), "links", &head, rows)
}

/// A link's settings, to change (an emptied field clears its setting; each change is kept in
/// the link's history).
fn edit_form(lang: Lang, l: &Link) -> Markup {
    let t = |k: &str| lang.t(k);
    let id = pct(&l.id);
    html! {
        details class="edit" {
            summary data-testid="edit-link" { (t("tn-link-edit")) }
            (api_form(
                &format!("/api/links/{id}"),
                "PATCH",
                "reload",
                "edit-link-form",
                html! {
                    p class="muted" { (t("tn-link-edit-hint")) }
                    label for={ "e-trial-" (id) } { (t("tn-link-trial")) }
                    input id={ "e-trial-" (id) } name="trial_seconds" type="number" min="1" max="86400"
                        data-kind="int" value=(l.trial_seconds) data-testid="edit-trial-input";
                    label for={ "e-max-" (id) } { (t("tn-link-max")) }
                    input id={ "e-max-" (id) } name="max_plays" type="number" min="1" data-kind="int"
                        data-clear value=[l.max_plays] data-testid="edit-max-input";
                    label for={ "e-camp-" (id) } { (t("tn-campaign")) }
                    input id={ "e-camp-" (id) } name="campaign" maxlength="64" data-clear
                        value=[l.campaign.as_deref().map(Text)] data-testid="edit-campaign-input";
                    label for={ "e-embed-" (id) } { (t("tn-link-embed")) }
                    input id={ "e-embed-" (id) } name="embed_origins" data-kind="list" data-clear
                        value=(Text(l.embed_origins.join(", "))) placeholder="https://games.example"
                        data-testid="edit-embed-input";
                    button type="submit" data-testid="edit-link-submit" { (t("tn-link-save")) }
                },
            ))
        }
    }
}

/// The new-link form: for `fixed_game`, or with a choice of `games`.
pub(super) fn link_form(lang: Lang, games: &[Game], fixed_game: Option<&Game>) -> Markup {
    let t = |k: &str| lang.t(k);
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
                    label for="l-game" { (t("tn-game")) }
                    select id="l-game" name="game_id" required data-testid="link-game-input" {
                        @for g in games {
                            option value=(Text(&g.id)) { (Text(&g.name)) }
                        }
                    }
                }
            }
            label for="l-trial" { (t("tn-link-trial")) }
            input id="l-trial" name="trial_seconds" type="number" min="1" max="86400"
                data-kind="int" data-testid="link-trial-input";
            label for="l-max" { (t("tn-link-max")) }
            input id="l-max" name="max_plays" type="number" min="1" data-kind="int"
                data-testid="link-max-input";
            label for="l-exp" { (t("tn-link-expires")) }
            input id="l-exp" name="expires_at" type="datetime-local" data-kind="datetime"
                data-testid="link-expires-input";
            label for="l-camp" { (t("tn-campaign")) }
            input id="l-camp" name="campaign" maxlength="64" data-testid="link-campaign-input";
            label for="l-embed" { (t("tn-link-embed")) }
            input id="l-embed" name="embed_origins" data-kind="list" placeholder="https://games.example"
                data-testid="link-embed-input";
            fieldset {
                legend { (t("tn-link-cta")) }
                label for="l-cta-label" { (t("tn-label")) }
                input id="l-cta-label" name="cta.label" maxlength="60"
                    data-testid="link-cta-label-input";
                label for="l-cta-url" { "URL" }
                input id="l-cta-url" name="cta.url" type="url" placeholder="https://"
                    data-testid="link-cta-url-input";
            }
            button type="submit" class="primary" data-testid="create-link-submit" {
                (t("tn-link-create"))
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
    let t = |k: &str| user.lang.t(k);
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
        h1 { (t("tn-links-title")) }
        (links_table(user.lang, &state, &links.items, Some(&names)))
        (next_link(user.lang, "/console/links", links.next_cursor.as_ref()))
        section class="card" {
            h2 { (t("tn-link-new")) }
            @if games.items.is_empty() {
                p { (t("tn-game-first")) }
            } @else {
                (link_form(user.lang, &games.items, None))
            }
        }
    };
    render(Page::console(t("tn-links-title"), &user, "/console/links", body).page_id("links"))
}
