//! `GET /operator`: the topology tree, regions → machine rooms → arrays → boards, as nested
//! lists (each array links to its board grid, each board to its page), with counts of boards
//! online and draining at every level.

use super::{
    agent_state_label, agent_state_str, all, board_status_label, console, load, operator, rich,
    t_n, t_with, truncated_note,
};
use crate::AppState;
use crate::auth::SignedIn;
use crate::html::{Markup, Text, html, pct};
use crate::i18n::Lang;
use crate::layout;
use axum::extract::State;
use axum::response::Response;
use playrack_wire::api::{AgentState, Array, Board, BoardStatus, Placement, Region, Room};
use std::collections::BTreeMap;

/// Boards online / draining / total.
#[derive(Default, Clone, Copy)]
struct Counts {
    total: usize,
    online: usize,
    draining: usize,
}

impl Counts {
    fn of<'a>(boards: impl IntoIterator<Item = &'a Board>) -> Counts {
        let mut c = Counts::default();
        for b in boards {
            c.total += 1;
            if b.agent_state == AgentState::Online {
                c.online += 1;
            }
            if b.status == BoardStatus::Draining {
                c.draining += 1;
            }
        }
        c
    }

    fn add(self, o: Counts) -> Counts {
        Counts {
            total: self.total + o.total,
            online: self.online + o.online,
            draining: self.draining + o.draining,
        }
    }

    fn html(self, lang: Lang) -> Markup {
        html! {
            span class="counts" {
                (t_n(lang, "op-count-boards", self.total))
                " · " (t_n(lang, "op-count-online", self.online))
                @if self.draining > 0 { " · " (t_n(lang, "op-count-draining", self.draining)) }
            }
        }
    }
}

/// `GET /operator`.
pub async fn index(State(state): State<AppState>, user: SignedIn) -> Response {
    operator!(user);
    let (regions, rooms, arrays, boards) = tokio::join!(
        all::<Region>(&state, &user, "/v1/regions", 10),
        all::<Room>(&state, &user, "/v1/rooms", 20),
        all::<Array>(&state, &user, "/v1/arrays", 50),
        all::<Board>(&state, &user, "/v1/boards", 100),
    );
    let (regions, _) = load!(state, user, regions);
    let (rooms, _) = load!(state, user, rooms);
    let (arrays, _) = load!(state, user, arrays);
    let (boards, boards_cut) = load!(state, user, boards);

    let mut rooms_of: BTreeMap<&str, Vec<&Room>> = BTreeMap::new();
    for r in &rooms {
        rooms_of.entry(r.region_id.as_str()).or_default().push(r);
    }
    let mut arrays_of: BTreeMap<&str, Vec<&Array>> = BTreeMap::new();
    for a in &arrays {
        arrays_of.entry(a.room_id.as_str()).or_default().push(a);
    }
    let mut boards_of: BTreeMap<&str, Vec<&Board>> = BTreeMap::new();
    for b in &boards {
        boards_of.entry(b.array_id.as_str()).or_default().push(b);
    }
    let array_counts =
        |a: &Array| Counts::of(boards_of.get(a.id.as_str()).into_iter().flatten().copied());
    let room_counts = |r: &Room| {
        arrays_of
            .get(r.id.as_str())
            .into_iter()
            .flatten()
            .fold(Counts::default(), |c, a| c.add(array_counts(a)))
    };

    let lang = user.lang;
    let tree = html! {
        @if regions.is_empty() {
            p class="empty" data-testid="topology-empty" {
                (rich(lang, "op-topology-empty", &[
                    ("create", html! { code { "POST /v1/regions" } }),
                    ("import", html! { code { "POST /v1/topology/import" } }),
                ]))
            }
        } @else {
            ul class="tree" data-testid="topology-tree" aria-label=(lang.t("op-topology-regions")) {
                @for region in &regions {
                    @let rooms = rooms_of.get(region.id.as_str()).cloned().unwrap_or_default();
                    @let counts = rooms.iter().fold(Counts::default(), |c, r| c.add(room_counts(r)));
                    li id={ "region-" (Text(&region.id)) } data-testid="tree-region" {
                        span class="node" {
                            span class="kind" { (lang.t("op-topology-region")) } " "
                            a href={ "#region-" (Text(&region.id)) } class="name"
                                data-testid="region-link" { (Text(&region.name)) }
                            " " (counts.html(lang))
                        }
                        @if rooms.is_empty() {
                            p class="empty" { (lang.t("op-topology-no-rooms")) }
                        }
                        ul {
                            @for room in rooms {
                                (room_node(lang, room, &arrays_of, &boards_of, room_counts(room), &array_counts))
                            }
                        }
                    }
                }
            }
        }
    };
    let total = Counts::of(&boards);
    let body = html! {
        h1 { (lang.t("op-topology-title")) }
        p class="muted" data-testid="topology-summary" {
            (t_n(lang, "op-count-regions", regions.len())) " · "
            (t_n(lang, "op-count-rooms", rooms.len())) " · "
            (t_n(lang, "op-count-arrays", arrays.len())) " · "
            (total.html(lang))
        }
        (tree)
        (truncated_note(lang, boards_cut, "op-truncated-topology"))
    };
    layout::render(
        console(lang.t("op-topology-title"), &user, "/operator", body).page_id("op-topology"),
    )
}

/// A machine room in the tree, with its arrays and their boards.
fn room_node(
    lang: Lang,
    room: &Room,
    arrays_of: &BTreeMap<&str, Vec<&Array>>,
    boards_of: &BTreeMap<&str, Vec<&Board>>,
    counts: Counts,
    array_counts: &dyn Fn(&Array) -> Counts,
) -> Markup {
    let arrays = arrays_of.get(room.id.as_str()).cloned().unwrap_or_default();
    html! {
        li id={ "room-" (Text(&room.id)) } data-testid="tree-room" {
            span class="node" {
                span class="kind" { (lang.t("op-topology-room")) } " "
                a href={ "#room-" (Text(&room.id)) } class="name" data-testid="room-link" {
                    (Text(&room.name))
                }
                " " (counts.html(lang)) " "
                span class="muted" {
                    (t_with(lang, "op-room-facts", &[
                        ("cap", room.instance_cap.to_string()),
                        ("placement", placement_label(lang, room.placement)),
                        ("cpu", room.max_cpu_percent.to_string()),
                        ("temp", room.max_temperature_c.to_string()),
                    ]))
                }
            }
            @if arrays.is_empty() { p class="empty" { (lang.t("op-topology-no-arrays")) } }
            ul {
                @for array in arrays {
                    @let boards = boards_of.get(array.id.as_str()).cloned().unwrap_or_default();
                    li data-testid="tree-array" {
                        span class="node" {
                            span class="kind" { (lang.t("op-topology-array")) } " "
                            a href={ "/operator/arrays/" (Text(pct(&array.id))) } class="name"
                                data-testid="array-link" { (Text(&array.name)) }
                            " " (array_counts(array).html(lang))
                        }
                        @if !boards.is_empty() {
                            details {
                                summary data-testid="array-boards" {
                                    (rich(lang, "op-boards-of", &[
                                        ("name", html! { span { (Text(&array.name)) } }),
                                    ]))
                                }
                                ul class="boards" {
                                    @for b in boards {
                                        @let st = agent_state_str(b.agent_state);
                                        li {
                                            a href={ "/operator/boards/" (Text(pct(&b.id))) }
                                                data-testid="board-link" { (Text(&b.serial)) }
                                            " "
                                            span class={ "badge agent-" (st) } {
                                                (agent_state_label(lang, b.agent_state))
                                            }
                                            @if b.status != BoardStatus::Active {
                                                @let status = super::board_status_str(b.status);
                                                " "
                                                span class={ "badge status-" (status) } {
                                                    (board_status_label(lang, b.status))
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// How a room places plays, as people read it.
fn placement_label(lang: Lang, p: Placement) -> String {
    lang.t(match p {
        Placement::Spread => "op-placement-spread",
        Placement::Binpack => "op-placement-binpack",
    })
}
