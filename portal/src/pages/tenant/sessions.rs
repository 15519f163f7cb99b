//! `/console/sessions`: the tenant's plays in progress, refreshed every few seconds, each with
//! kick, record and watch-link buttons; walls of a game's live plays; the tenant's watch links
//! (revoke); the tenant's play recordings (stop, download); and, above all of it, the degrade
//! switches an operator turned on that affect the tenant's players.

use super::{api_button, game_names, list, load, name_of, render, secret_box, tenant};
use crate::AppState;
use crate::auth::SignedIn;
use crate::html::Markup;
use crate::html::{Text, html, pct, table, text, time};
use crate::layout::Page;
use axum::extract::State;
use axum::response::Response;
use playrack_wire::api::{OnlineEntry, Recording, Switch, WatchKind, WatchLink};

/// A button that makes a watch link with `api` and shows its address once.
fn watch_button(label: Markup, api: &str, testid: &str) -> Markup {
    html! {
        button type="button" class="small" data-api=(Text(api)) data-method="POST" data-body="{}"
            data-then="secret" data-testid=(testid) { (label) }
    }
}

/// `GET /console/sessions`.
pub(super) async fn sessions(State(state): State<AppState>, user: SignedIn) -> Response {
    tenant!(user);
    let t = |k: &str| user.lang.t(k);
    let (online, names, recordings, watch, switches) = tokio::join!(
        list::<OnlineEntry>(&state, &user, "/v1/online", 200, None),
        game_names(&state, &user),
        list::<Recording>(&state, &user, "/v1/recordings", 200, None),
        list::<WatchLink>(&state, &user, "/v1/watch-links", 200, None),
        state.ctl.get::<Vec<Switch>>("/v1/switches", user.token()),
    );
    let switches = load!(state, user, switches);
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
                text(t(match l.kind {
                    WatchKind::Session => "tn-watch-one",
                    WatchKind::Wall => "tn-watch-wall",
                })),
                text(name_of(&names, &l.game_id)),
                html! { @if let Some(s) = &l.session_id { code { (Text(s)) } } },
                text(l.max_viewers.to_string()),
                time(&l.expires_at),
                text(t(if l.revoked_at.is_some() {
                    "tn-revoked"
                } else {
                    "tn-active"
                })),
                html! {
                    @if l.revoked_at.is_none() {
                        (api_button(
                            &t("tn-revoke"),
                            &format!("/api/watch-links/{}/revoke", pct(&l.id)),
                            "POST",
                            Some(&t("tn-watch-revoke-confirm")),
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
                text(t(&format!(
                    "tn-state-{}",
                    format!("{:?}", s.state).to_lowercase()
                ))),
                text(t(if s.connected { "tn-yes" } else { "tn-no" })),
                time(&s.since),
                html! {
                    (api_button(
                        &t("tn-record"),
                        &format!("/api/sessions/{}/recordings", pct(&s.session_id)),
                        "POST",
                        None,
                        "record-session",
                        "small",
                    ))
                    " "
                    (watch_button(
                        html! { (t("tn-watch-link")) },
                        &format!("/api/sessions/{}/watch-links", pct(&s.session_id)),
                        "watch-session",
                    ))
                    " "
                    (api_button(
                        &t("tn-kick"),
                        &format!("/api/sessions/{}/kick", pct(&s.session_id)),
                        "POST",
                        Some(&t("tn-kick-confirm")),
                        "kick-session",
                        "danger small",
                    ))
                },
            ]
        })
        .collect();
    let body = html! {
        h1 { (t("tn-sessions-title")) }
        @if !switches.is_empty() {
            section class="notice" role="status" data-testid="switches-affecting" {
                h2 { (t("tn-switches-title")) }
                ul {
                    @for s in &switches {
                        li data-switch=(s.name.as_str()) {
                            strong { (t(&format!("op-sw-name-{}", s.name.as_str()))) } ": "
                            (t(&format!("op-sw-does-{}", s.name.as_str()))) " "
                            span class="muted" { (t("tn-switch-since")) " " (time(&s.since)) }
                        }
                    }
                }
            }
        }
        p class="muted" {
            label class="check" {
                input type="checkbox" data-autoreload="5" checked data-testid="autoreload";
                " " (t("tn-refresh-5"))
            }
        }
        (table(
            user.lang,
            &t("tn-sessions-caption"),
            "sessions",
            &[
                t("tn-session"),
                t("tn-game"),
                t("tn-player"),
                t("tn-spec"),
                t("tn-state"),
                t("tn-connected"),
                t("tn-since"),
                String::new()
            ],
            rows
        ))
        (secret_box(user.lang))
        section {
            h2 { (t("tn-watch-links")) }
            p class="muted" { (t("tn-watch-intro")) }
            p {
                @for (id, name) in &games {
                    (watch_button(
                        html! { (t("tn-wall-link")) " " span { (Text(name)) } },
                        &format!("/api/games/{}/wall-links", pct(id)),
                        "wall-link",
                    ))
                    " "
                }
            }
            (table(
                user.lang,
                &t("tn-watch-links"),
                "watch-links",
                &[t("tn-kind"), t("tn-game"), t("tn-session"), t("tn-viewers"), t("tn-expires"), t("tn-status"), String::new()],
                watch_rows
            ))
        }
        section {
            h2 { (t("tn-recordings")) }
            p class="muted" { (t("tn-recordings-intro")) }
            (crate::pages::recordings_table(user.lang, &recordings.items, true))
        }
    };
    render(
        Page::console(t("tn-sessions-title"), &user, "/console/sessions", body).page_id("sessions"),
    )
}
