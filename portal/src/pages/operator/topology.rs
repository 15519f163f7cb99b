//! `GET /operator`: the topology tree, regions → machine rooms → arrays → boards, as nested
//! lists (each array links to its board grid, each board to its page), with counts of boards
//! online and draining at every level.

use super::{agent_state_str, all, console, load, operator, truncated_note};
use crate::AppState;
use crate::auth::SignedIn;
use crate::html::{Markup, Text, html, pct};
use crate::layout;
use axum::extract::State;
use axum::response::Response;
use playrack_wire::api::{AgentState, Array, Board, BoardStatus, Region, Room};
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

    fn html(self) -> Markup {
        html! {
            span class="counts" {
                (self.total) " board" @if self.total != 1 { "s" }
                " · " (self.online) " online"
                @if self.draining > 0 { " · " (self.draining) " draining" }
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

    let tree = html! {
        @if regions.is_empty() {
            p class="empty" data-testid="topology-empty" {
                "No regions yet. Create them with the controller's API ("
                code { "POST /v1/regions" } ", or a bulk " code { "POST /v1/topology/import" } ")."
            }
        } @else {
            ul class="tree" data-testid="topology-tree" aria-label="Regions" {
                @for region in &regions {
                    @let rooms = rooms_of.get(region.id.as_str()).cloned().unwrap_or_default();
                    @let counts = rooms.iter().fold(Counts::default(), |c, r| c.add(room_counts(r)));
                    li id={ "region-" (Text(&region.id)) } data-testid="tree-region" {
                        span class="node" {
                            span class="kind" { "Region" } " "
                            a href={ "#region-" (Text(&region.id)) } class="name"
                                data-testid="region-link" { (Text(&region.name)) }
                            " " (counts.html())
                        }
                        @if rooms.is_empty() { p class="empty" { "No machine rooms." } }
                        ul {
                            @for room in rooms {
                                (room_node(room, &arrays_of, &boards_of, room_counts(room), &array_counts))
                            }
                        }
                    }
                }
            }
        }
    };
    let total = Counts::of(&boards);
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let body = html! {
        h1 { "Topology" }
        p class="muted" data-testid="topology-summary" {
            (regions.len()) " region" (plural(regions.len())) " · "
            (rooms.len()) " room" (plural(rooms.len())) " · "
            (arrays.len()) " array" (plural(arrays.len())) " · "
            (total.html())
        }
        (tree)
        (truncated_note(boards_cut, "20,000 boards"))
    };
    layout::render(console("Topology", &user, "/operator", body).page_id("op-topology"))
}

/// A machine room in the tree, with its arrays and their boards.
fn room_node(
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
                span class="kind" { "Room" } " "
                a href={ "#room-" (Text(&room.id)) } class="name" data-testid="room-link" {
                    (Text(&room.name))
                }
                " " (counts.html()) " "
                span class="muted" {
                    "· cap " (room.instance_cap) " instances · "
                    (super::wire_name(&room.placement))
                    " · boards rest above CPU " (room.max_cpu_percent) " % or "
                    (room.max_temperature_c) " °C"
                }
            }
            @if arrays.is_empty() { p class="empty" { "No arrays." } }
            ul {
                @for array in arrays {
                    @let boards = boards_of.get(array.id.as_str()).cloned().unwrap_or_default();
                    li data-testid="tree-array" {
                        span class="node" {
                            span class="kind" { "Array" } " "
                            a href={ "/operator/arrays/" (Text(pct(&array.id))) } class="name"
                                data-testid="array-link" { (Text(&array.name)) }
                            " " (array_counts(array).html())
                        }
                        @if !boards.is_empty() {
                            details {
                                summary data-testid="array-boards" {
                                    "Boards of " (Text(&array.name))
                                }
                                ul class="boards" {
                                    @for b in boards {
                                        @let st = agent_state_str(b.agent_state);
                                        li {
                                            a href={ "/operator/boards/" (Text(pct(&b.id))) }
                                                data-testid="board-link" { (Text(&b.serial)) }
                                            " "
                                            span class={ "badge agent-" (st) } { (st) }
                                            @if b.status != BoardStatus::Active {
                                                @let status = super::board_status_str(b.status);
                                                " "
                                                span class={ "badge status-" (status) } { (status) }
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
