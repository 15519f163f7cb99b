//! `GET /operator/maintenance`: the maintenance windows, newest first — of which room or
//! board, when, why, where each stands, what it drained — with (admins) a button that calls one
//! off, and the form that schedules one for a room or a board.

use super::{
    all, console, heads, is_admin, list, name_of, names, next_link, operator, strs, t_with,
    viewer_note,
};
use crate::AppState;
use crate::auth::SignedIn;
use crate::html::{Text, api_button, api_form, html, pct, table, text, time};
use crate::layout;
use crate::pages::load;
use axum::extract::{Query, State};
use axum::response::Response;
use playrack_wire::api::{Board, Maintenance, MaintenanceState, Room};
use serde::Deserialize;

/// `?cursor=` for older windows.
#[derive(Debug, Default, Deserialize)]
pub struct CursorQ {
    pub cursor: Option<String>,
}

/// `GET /operator/maintenance`.
pub async fn maintenance(
    State(state): State<AppState>,
    user: SignedIn,
    Query(q): Query<CursorQ>,
) -> Response {
    operator!(user);
    let (windows, rooms, boards) = tokio::join!(
        list::<Maintenance>(&state, &user, "/v1/maintenance", 50, q.cursor.as_deref()),
        all::<Room>(&state, &user, "/v1/rooms", 10),
        all::<Board>(&state, &user, "/v1/boards", 10),
    );
    let windows = load!(state, user, windows);
    let (rooms, _) = load!(state, user, rooms);
    let (boards, _) = load!(state, user, boards);
    let lang = user.lang;
    let admin = is_admin(&user);
    let room_names = names(&rooms, |r| (&r.id, &r.name));
    let board_names = names(&boards, |b| (&b.id, &b.serial));
    let rows = windows
        .items
        .iter()
        .map(|m| {
            let of = match (&m.room_id, &m.board_id) {
                (Some(r), _) => t_with(lang, "op-mnt-of-room", &[("name", name_of(&room_names, r).into())]),
                (_, Some(b)) => t_with(lang, "op-mnt-of-board", &[("name", name_of(&board_names, b).into())]),
                _ => "—".into(),
            };
            let open = matches!(
                m.state,
                MaintenanceState::Scheduled | MaintenanceState::Announced | MaintenanceState::UnderWay
            );
            vec![
                text(of),
                time(&m.starts_at),
                time(&m.ends_at),
                html! {
                    span class="badge" data-testid="maintenance-state" data-state=(m.state.as_str()) {
                        (lang.t(&format!("op-mnt-state-{}", m.state.as_str())))
                    }
                },
                text(m.note.as_deref().unwrap_or("—")),
                text(
                    m.drained
                        .iter()
                        .map(|b| name_of(&board_names, b))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                html! {
                    a href={ "/operator/history/" (Text(pct(&m.id))) } data-testid="history-link" {
                        (lang.t("hist-link"))
                    }
                    @if admin && open {
                        " "
                        (api_button(
                            &lang.t(if m.state == MaintenanceState::UnderWay { "op-mnt-end-now" } else { "op-mnt-cancel" }),
                            &format!("/api/maintenance/{}/cancel", pct(&m.id)),
                            "POST",
                            None,
                            Some(&lang.t("op-mnt-cancel-confirm")),
                            "maintenance-cancel",
                            "small",
                        ))
                    }
                },
            ]
        })
        .collect();
    let form = if admin {
        api_form(
            "/api/maintenance",
            "POST",
            "reload",
            "maintenance-new",
            html! {
                label for="m-room" { (lang.t("op-mnt-room")) }
                select id="m-room" name="room_id" data-testid="maintenance-room-input" {
                    option value="" { (lang.t("op-mnt-room-none")) }
                    @for r in &rooms {
                        option value=(Text(&r.id)) { (Text(&r.name)) }
                    }
                }
                label for="m-board" { (lang.t("op-mnt-board")) }
                select id="m-board" name="board_id" data-testid="maintenance-board-input" {
                    option value="" { (lang.t("op-mnt-board-none")) }
                    @for b in &boards {
                        option value=(Text(&b.id)) { (Text(&b.serial)) }
                    }
                }
                label for="m-start" { (lang.t("op-mnt-starts")) }
                input id="m-start" name="starts_at" type="datetime-local" step="1" required
                    data-kind="datetime" data-testid="maintenance-starts-input";
                label for="m-end" { (lang.t("op-mnt-ends")) }
                input id="m-end" name="ends_at" type="datetime-local" step="1" required
                    data-kind="datetime" data-testid="maintenance-ends-input";
                label for="m-note" { (lang.t("op-mnt-note")) }
                input id="m-note" name="note" maxlength="200" data-testid="maintenance-note-input";
                p class="muted" { (lang.t("op-mnt-hint")) }
                button type="submit" class="primary" data-testid="maintenance-new-submit" {
                    (lang.t("op-mnt-schedule"))
                }
            },
        )
    } else {
        viewer_note(lang)
    };
    let head = heads(
        lang,
        &[
            "op-mnt-col-of",
            "op-mnt-col-starts",
            "op-mnt-col-ends",
            "op-mnt-col-state",
            "op-mnt-col-note",
            "op-mnt-col-drained",
        ],
    );
    let mut head = strs(&head);
    head.push("");
    let body = html! {
        h1 { (lang.t("op-mnt-title")) }
        p class="muted" { (lang.t("op-mnt-intro")) }
        (table(lang, &lang.t("op-mnt-title"), "maintenance", &head, rows))
        (next_link(lang, "/operator/maintenance", windows.next_cursor.as_ref()))
        section class="card" { h2 { (lang.t("op-mnt-new")) } (form) }
    };
    layout::render(
        console(lang.t("op-mnt-title"), &user, "/operator/maintenance", body)
            .page_id("op-maintenance"),
    )
}

#[cfg(test)]
mod tests {
    use crate::i18n::Lang;

    #[test]
    fn every_state_has_its_word_in_every_language() {
        for lang in Lang::ALL {
            for s in ["scheduled", "announced", "under_way", "done", "cancelled"] {
                let key = format!("op-mnt-state-{s}");
                let text = lang.t(&key);
                assert!(
                    !text.starts_with("Unknown localization key"),
                    "{key} ({lang:?})"
                );
            }
        }
    }
}
