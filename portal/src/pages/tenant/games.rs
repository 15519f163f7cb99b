//! The tenant's games: the list with the new-game form (`/console/games`), one game with its
//! versions, upload, links and settings (`/console/games/{id}`), and deploying a version to
//! machine rooms with per-room progress (`/console/versions/{id}/deploy`).

use super::links::{link_form, links_table};
use super::{CursorQ, api_button, api_form, list, load, next_link, render, tenant};
use crate::AppState;
use crate::auth::SignedIn;
use crate::html::{Markup, Text, html, money, pct, size, table, text, time, time_opt};
use crate::i18n::Lang;
use crate::layout::Page;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use fluent_templates::fluent_bundle::FluentValue;
use playrack_wire::api::*;
use std::collections::BTreeMap;

/// The spec checkboxes of a game's form, `chosen` checked.
fn spec_checks(lang: Lang, currency: &str, specs: &[Spec], chosen: &[String]) -> Markup {
    html! {
        fieldset {
            legend { (lang.t("tn-specs-legend")) }
            @for sp in specs {
                label class="check" {
                    input type="checkbox" name="spec_ids" value=(Text(&sp.id)) data-kind="checks"
                        checked[chosen.contains(&sp.id)] data-testid={ "spec-" (Text(&sp.id)) };
                    " " (Text(&sp.name)) " (" (sp.width) "×" (sp.height) " @ " (sp.fps) " fps, "
                    (money(lang, currency, sp.price_per_minute_micros)) (lang.t("tn-per-min")) ")"
                }
            }
        }
    }
}

/// `GET /console/games`.
pub(super) async fn games(
    State(state): State<AppState>,
    user: SignedIn,
    Query(q): Query<CursorQ>,
) -> Response {
    tenant!(user);
    let t = |k: &str| user.lang.t(k);
    let (games, specs) = tokio::join!(
        list::<Game>(&state, &user, "/v1/games", 50, q.cursor.as_deref()),
        list::<Spec>(&state, &user, "/v1/specs", 200, None)
    );
    let games = load!(state, user, games);
    let specs = load!(state, user, specs);
    let rows = games
        .items
        .iter()
        .map(|g| {
            vec![
                html! {
                    a href={ "/console/games/" (Text(pct(&g.id))) } data-testid="game-link" {
                        (Text(&g.name))
                    }
                },
                text(&g.slug),
                text(g.package_name.as_deref().unwrap_or("—")),
                text(t(if g.default_version_id.is_some() {
                    "tn-published"
                } else {
                    "tn-not-published"
                })),
                time(&g.created_at),
            ]
        })
        .collect();
    let default_specs: Vec<String> = specs
        .items
        .first()
        .map(|s| vec![s.id.clone()])
        .unwrap_or_default();
    let create = api_form(
        "/api/games",
        "POST",
        "/console/games/{id}",
        "create-game",
        html! {
            label for="g-name" { (t("tn-name")) }
            input id="g-name" name="name" required maxlength="100" data-testid="game-name-input";
            label for="g-slug" { (t("tn-slug-label")) }
            input id="g-slug" name="slug" required pattern="[a-z0-9][a-z0-9\\-]*"
                data-testid="game-slug-input";
            label for="g-archive" { (t("tn-saves")) }
            select id="g-archive" name="archive_policy" data-testid="game-archive-input" {
                option value="single_player" { (t("tn-saves-single")) }
                option value="online" { (t("tn-saves-online")) }
            }
            (spec_checks(user.lang, &state.config.currency, &specs.items, &default_specs))
            button type="submit" class="primary" data-testid="create-game-submit" {
                (t("tn-game-create"))
            }
        },
    );
    let body = html! {
        h1 { (t("tn-games-title")) }
        (table(
            user.lang,
            &t("tn-games-caption"),
            "games",
            &[t("tn-name"), t("tn-slug"), t("tn-package"), t("tn-status"), t("tn-created")],
            rows
        ))
        (next_link(user.lang, "/console/games", games.next_cursor.as_ref()))
        section class="card" { h2 { (t("tn-game-new")) } (create) }
    };
    render(Page::console(t("tn-games-title"), &user, "/console/games", body).page_id("games"))
}

/// A version's state badge, with its failure when it failed.
fn version_state(lang: Lang, v: &Version) -> Markup {
    let state = match v.state {
        VersionState::Uploading => "UPLOADING",
        VersionState::Parsing => "PARSING",
        VersionState::Ready => "READY",
        VersionState::Failed => "FAILED",
    };
    html! {
        span class={ "badge state-" (state.to_ascii_lowercase()) } data-testid="version-state" {
            (lang.t(&format!("tn-version-{}", state.to_ascii_lowercase())))
        }
        @if let Some(f) = &v.failure {
            div class="failure" {
                code data-testid="failure-code" { (Text(&f.code)) } " " (Text(&f.message))
            }
        }
    }
}

/// `GET /console/games/{id}`.
pub(super) async fn game(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<String>,
) -> Response {
    tenant!(user);
    let t = |k: &str| user.lang.t(k);
    let gid = pct(&id);
    let (game, versions, links, specs, grey) = tokio::join!(
        state
            .ctl
            .get::<Game>(format!("/v1/games/{gid}"), user.token()),
        list::<Version>(
            &state,
            &user,
            format!("/v1/games/{gid}/versions"),
            200,
            None
        ),
        list::<Link>(&state, &user, format!("/v1/links?game_id={gid}"), 200, None),
        list::<Spec>(&state, &user, "/v1/specs", 200, None),
        state
            .ctl
            .get::<GreyView>(format!("/v1/games/{gid}/grey"), user.token()),
    );
    let game = load!(state, user, game);
    let grey = load!(state, user, grey);
    let versions = load!(state, user, versions);
    let links = load!(state, user, links);
    let specs = load!(state, user, specs);
    let mut vs = versions.items;
    vs.reverse(); // newest first
    let rows = vs
        .iter()
        .map(|v| {
            let apk = v
                .apk
                .as_ref()
                .map(|a| {
                    format!(
                        "{} ({})",
                        a.version_name.as_deref().unwrap_or("?"),
                        a.version_code
                    )
                })
                .unwrap_or_else(|| "—".into());
            let default = game.default_version_id.as_deref() == Some(v.id.as_str());
            let vid = pct(&v.id);
            let actions = html! {
                @if v.state == VersionState::Ready {
                    @if v.published_at.is_some() {
                        (api_button(
                            &t("tn-revoke"),
                            &format!("/api/versions/{vid}/revoke"),
                            "POST",
                            Some(&t("tn-version-revoke-confirm")),
                            "revoke-version",
                            "danger small",
                        ))
                    } @else {
                        (api_button(
                            &t("tn-publish"),
                            &format!("/api/versions/{vid}/publish"),
                            "POST",
                            None,
                            "publish-version",
                            "small",
                        ))
                    }
                    " "
                    a class="button small" href={ "/console/versions/" (Text(&vid)) "/deploy" }
                        data-testid="deploy-version" { (t("tn-deploy")) }
                    " "
                }
                a href={ "/console/history/" (Text(&vid)) } data-testid="history-link" { (t("hist-link")) }
            };
            vec![
                html! {
                    code { (Text(&v.id)) }
                    @if default {
                        " "
                        span class="badge default" data-testid="default-version" { (t("tn-state-playing")) }
                    }
                },
                version_state(user.lang, v),
                text(apk),
                text(size(v.size_bytes)),
                time_opt(v.published_at.as_ref()),
                time(&v.created_at),
                actions,
            ]
        })
        .collect();
    let settings = api_form(
        &format!("/api/games/{gid}"),
        "PATCH",
        "reload",
        "update-game",
        html! {
            label for="e-name" { (t("tn-name")) }
            input id="e-name" name="name" required maxlength="100" value=(Text(&game.name))
                data-testid="edit-game-name";
            (spec_checks(user.lang, &state.config.currency, &specs.items, &game.spec_ids))
            label for="e-max" { (t("tn-longest-play")) }
            input id="e-max" name="trial_defaults.max_play_seconds" type="number" min="1"
                data-kind="int" value=(game.trial_defaults.max_play_seconds);
            label for="e-grace" { (t("tn-reconnect-grace")) }
            input id="e-grace" name="trial_defaults.reconnect_grace_seconds" type="number"
                min="0" data-kind="int" value=(game.trial_defaults.reconnect_grace_seconds);
            label for="e-idle" { (t("tn-idle-kick")) }
            input id="e-idle" name="trial_defaults.idle_kick_seconds" type="number" min="1"
                data-kind="int" value=(game.trial_defaults.idle_kick_seconds);
            button type="submit" data-testid="update-game-submit" { (t("tn-save")) }
        },
    );
    let upload = html! {
        form class="upload" data-upload=(Text(&gid)) data-testid="upload-form" {
            label for="apk" { (t("tn-apk-file")) }
            input id="apk" name="apk" type="file"
                accept=".apk,application/vnd.android.package-archive" required
                data-testid="upload-file";
            button type="submit" class="primary" data-testid="upload-submit" { (t("tn-upload")) }
            button type="button" data-upload-cancel hidden data-testid="upload-cancel" {
                (t("tn-upload-cancel"))
            }
            progress max="100" value="0" hidden data-testid="upload-progress"
                aria-label=(t("tn-upload-progress")) {}
            p class="status" role="status" aria-live="polite" data-testid="upload-status" {}
            p class="error" role="alert" data-testid="upload-error" {}
        }
    };
    let body = html! {
        p { a href="/console/games" { "← " (t("tn-games-title")) } }
        div class="game-head" {
            @if game.default_version_id.is_some() {
                img class="icon" src={ "/api/games/" (Text(&gid)) "/icon" } alt="" width="64"
                    height="64";
            }
            div {
                h1 data-testid="game-title" { (Text(&game.name)) }
                p class="muted" {
                    code { (Text(&game.id)) } " · " (t("tn-slug-lower")) " " code { (Text(&game.slug)) }
                    " · " (t("tn-package-lower")) " "
                    code {
                        (Text(game
                            .package_name
                            .clone()
                            .unwrap_or_else(|| t("tn-package-unset"))))
                    }
                }
            }
        }
        section class="card" {
            h2 { (t("tn-upload-version")) }
            p class="muted" { (t("tn-upload-intro")) }
            (upload)
        }
        section {
            h2 { (t("tn-versions")) }
            (table(
                user.lang,
                &t("tn-versions-caption"),
                "versions",
                &[
                    t("tn-version"),
                    t("tn-state"),
                    t("tn-apk-version"),
                    t("tn-size"),
                    t("tn-published-at"),
                    t("tn-uploaded"),
                    t("tn-actions")
                ],
                rows
            ))
        }
        (super::grey::section(user.lang, &game.id, &grey, &vs, &links.items))
        section {
            h2 { (t("tn-links-title")) }
            (links_table(user.lang, &state, &links.items, None))
            details class="card" {
                summary data-testid="new-link" { (t("tn-link-new")) }
                (link_form(user.lang, &[], Some(&game)))
            }
        }
        section class="card" { h2 { (t("tn-settings")) } (settings) }
    };
    render(
        Page::console(game.name.clone(), &user, "/console/games", body)
            .page_id("game")
            .script("upload.js"),
    )
}

/// A room's volume copy as the deploy page says it (`app.js` says it the same way).
fn volume_text(lang: Lang, v: &VolumeCopy) -> String {
    match v.state {
        VolumeCopyState::Placing => lang.t_args(
            "volume-placing",
            &[("pct", FluentValue::from(v.progress_percent))],
        ),
        VolumeCopyState::Placed => lang.t("volume-placed"),
        VolumeCopyState::Unreachable => lang.t_args(
            "volume-unreachable",
            &[("attempts", FluentValue::from(v.attempts))],
        ),
    }
}

/// A room's boards as the deploy page says them (`app.js` says them the same way).
fn boards_text(lang: Lang, b: &BoardTally) -> String {
    let mut s = lang.t_args(
        "boards-ready",
        &[
            ("ready", FluentValue::from(b.ready)),
            ("total", FluentValue::from(b.total)),
        ],
    );
    if b.failed > 0 {
        s.push_str(&lang.t_args("boards-failed", &[("failed", FluentValue::from(b.failed))]));
    }
    s
}

/// A room's deployment state as the deploy page says it (`app.js` says it the same way).
fn room_state_text(lang: Lang, state: DeploymentRoomState) -> String {
    let key = match state {
        DeploymentRoomState::Pending => "deploy-state-pending",
        DeploymentRoomState::Syncing => "deploy-state-syncing",
        DeploymentRoomState::Ready => "deploy-state-ready",
        DeploymentRoomState::Failed => "deploy-state-failed",
    };
    lang.t(key)
}

/// `GET /console/versions/{id}/deploy`.
pub(super) async fn deploy(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<String>,
) -> Response {
    tenant!(user);
    let t = |k: &str| user.lang.t(k);
    let vid = pct(&id);
    let boards_path = format!("/v1/versions/{vid}/deployment/boards");
    let (version, deployment, rooms, boards) = tokio::join!(
        state
            .ctl
            .get::<Version>(format!("/v1/versions/{vid}"), user.token()),
        state
            .ctl
            .get::<Deployment>(format!("/v1/versions/{vid}/deployment"), user.token()),
        list::<Room>(&state, &user, "/v1/rooms", 200, None),
        list::<DeploymentBoard>(&state, &user, &boards_path, 200, None),
    );
    let version = load!(state, user, version);
    let deployment = load!(state, user, deployment);
    let rooms = load!(state, user, rooms);
    let boards = load!(state, user, boards);
    let room_names: BTreeMap<&str, &str> = rooms
        .items
        .iter()
        .map(|r| (r.id.as_str(), r.name.as_str()))
        .collect();
    let by_room: BTreeMap<&str, &DeploymentRoom> = deployment
        .rooms
        .iter()
        .map(|r| (r.room_id.as_str(), r))
        .collect();
    let checks = html! {
        fieldset {
            legend { (t("tn-machine-rooms")) }
            @for room in &rooms.items {
                label class="check" {
                    input type="checkbox" name="room_ids" value=(Text(&room.id))
                        data-kind="checks" checked[by_room.contains_key(room.id.as_str())]
                        data-testid={ "room-" (Text(&room.id)) };
                    " " (Text(&room.name))
                }
            }
        }
    };
    let rows = rooms
        .items
        .iter()
        .filter_map(|room| {
            let d = by_room.get(room.id.as_str())?;
            let id = Text(&room.id);
            let p = d.progress_percent;
            Some(vec![
                text(&room.name),
                html! {
                    span data-room-state=(id) data-testid="room-state" {
                        (room_state_text(user.lang, d.state))
                    }
                },
                html! {
                    span data-room-volume=(id) data-testid="room-volume" { (volume_text(user.lang, &d.volume)) }
                },
                html! {
                    span data-room-boards=(id) data-testid="room-boards" { (boards_text(user.lang, &d.boards)) }
                },
                html! {
                    progress max="100" value=(p) data-room-progress=(id)
                        aria-label={ (Text(&room.name)) " " (t("tn-progress-lower")) } { (p) "%" }
                    " "
                    span data-room-percent=(id) { (p) "%" }
                },
                html! {
                    span data-room-error=(id) data-testid="room-error" {
                        (Text(d.error.as_deref().or(d.volume.error.as_deref()).unwrap_or("")))
                    }
                },
            ])
        })
        .collect();
    let form = if version.state == VersionState::Ready {
        api_form(
            &format!("/api/versions/{vid}/deployment"),
            "PUT",
            "reload",
            "set-deployment",
            html! {
                (checks)
                button type="submit" class="primary" data-testid="set-deployment-submit" {
                    (t("tn-deploy-checked"))
                }
            },
        )
    } else {
        html! { p { (t("tn-deploy-only-ready")) } }
    };
    let body = html! {
        p { a href={ "/console/games/" (Text(pct(&version.game_id))) } { "← " (t("tn-game")) } }
        h1 { (t("tn-deploy-version")) " " code { (Text(&version.id)) } }
        section data-deployment={ "/api/versions/" (Text(&vid)) "/deployment" } {
            (table(
                user.lang,
                &t("tn-progress-per-room"),
                "deployment",
                &[t("tn-room"), t("tn-state"), t("tn-shared-volume"), t("tn-boards"), t("tn-progress"), t("tn-error")],
                rows
            ))
            p class="muted" { (t("tn-deploy-intro")) }
        }
        @if !boards.items.is_empty() {
            section {
                (table(
                    user.lang,
                    &t("tn-progress-per-board"),
                    "deployment-boards",
                    &[t("tn-board"), t("tn-room"), t("tn-state"), t("tn-progress"), t("tn-error")],
                    boards.items.iter().map(|b| vec![
                        html! { code { (Text(&b.board_id)) } },
                        text(room_names.get(b.room_id.as_str()).copied().unwrap_or(&b.room_id)),
                        text(room_state_text(user.lang, b.state)),
                        html! { (b.progress_percent) "%" },
                        text(b.error.as_deref().unwrap_or("")),
                    ]).collect()
                ))
            }
        }
        section class="card" {
            h2 { (t("tn-rooms-title")) }
            p class="muted" { (t("tn-rooms-unchecked")) }
            (form)
        }
    };
    render(Page::console(t("tn-deploy"), &user, "/console/games", body).page_id("deploy"))
}
