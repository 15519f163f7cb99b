//! `GET /operator`: the topology tree, regions → machine rooms → arrays → boards, as nested
//! lists (each array links to its board grid, each board to its page), with counts of boards
//! online and draining at every level.

use super::{agent_state_str, all, console, load, operator, truncated_note};
use crate::AppState;
use crate::auth::SignedIn;
use crate::html::legacy::{Html, attr, esc};
use crate::html::pct;
use crate::layout;
use axum::extract::State;
use axum::response::Response;
use playrack_wire::api::{AgentState, Array, Board, BoardStatus, Region, Room};
use std::collections::BTreeMap;
use std::fmt::Write;

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

    fn html(self) -> Html {
        Html::trusted(format!(
            "<span class=\"counts\">{} board{} · {} online{}</span>",
            self.total,
            if self.total == 1 { "" } else { "s" },
            self.online,
            if self.draining > 0 {
                format!(" · {} draining", self.draining)
            } else {
                String::new()
            }
        ))
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

    let mut tree = String::new();
    if regions.is_empty() {
        tree.push_str(
            "<p class=\"empty\" data-testid=\"topology-empty\">No regions yet. Create them with \
             the controller's API (<code>POST /v1/regions</code>, or a bulk \
             <code>POST /v1/topology/import</code>).</p>",
        );
    } else {
        tree.push_str("<ul class=\"tree\" data-testid=\"topology-tree\" aria-label=\"Regions\">");
        for region in &regions {
            let rooms = rooms_of
                .get(region.id.as_str())
                .cloned()
                .unwrap_or_default();
            let counts = rooms
                .iter()
                .fold(Counts::default(), |c, r| c.add(room_counts(r)));
            let _ = write!(
                tree,
                "<li id=\"region-{id}\" data-testid=\"tree-region\"><span class=\"node\"><span class=\"kind\">Region</span> \
                 <a href=\"#region-{id}\" class=\"name\" data-testid=\"region-link\">{name}</a> {counts}</span>",
                id = attr(&region.id),
                name = esc(&region.name),
                counts = counts.html(),
            );
            if rooms.is_empty() {
                tree.push_str("<p class=\"empty\">No machine rooms.</p>");
            }
            tree.push_str("<ul>");
            for room in rooms {
                let arrays = arrays_of.get(room.id.as_str()).cloned().unwrap_or_default();
                let _ = write!(
                    tree,
                    "<li id=\"room-{id}\" data-testid=\"tree-room\"><span class=\"node\"><span class=\"kind\">Room</span> \
                     <a href=\"#room-{id}\" class=\"name\" data-testid=\"room-link\">{name}</a> {counts} \
                     <span class=\"muted\">· cap {cap} instances · {placement}</span></span>",
                    id = attr(&room.id),
                    name = esc(&room.name),
                    counts = room_counts(room).html(),
                    cap = room.instance_cap,
                    placement = esc(super::wire_name(&room.placement)),
                );
                if arrays.is_empty() {
                    tree.push_str("<p class=\"empty\">No arrays.</p>");
                }
                tree.push_str("<ul>");
                for array in arrays {
                    let boards = boards_of
                        .get(array.id.as_str())
                        .cloned()
                        .unwrap_or_default();
                    let _ = write!(
                        tree,
                        "<li data-testid=\"tree-array\"><span class=\"node\"><span class=\"kind\">Array</span> \
                         <a href=\"/operator/arrays/{aid}\" class=\"name\" data-testid=\"array-link\">{name}</a> {counts}</span>",
                        aid = attr(pct(&array.id)),
                        name = esc(&array.name),
                        counts = array_counts(array).html(),
                    );
                    if !boards.is_empty() {
                        let _ = write!(
                            tree,
                            "<details><summary data-testid=\"array-boards\">Boards of {}</summary><ul class=\"boards\">",
                            esc(&array.name)
                        );
                        for b in boards {
                            let _ = write!(
                                tree,
                                "<li><a href=\"/operator/boards/{id}\" data-testid=\"board-link\">{serial}</a> \
                                 <span class=\"badge agent-{st}\">{st}</span>{drain}</li>",
                                id = attr(pct(&b.id)),
                                serial = esc(&b.serial),
                                st = agent_state_str(b.agent_state),
                                drain = if b.status == BoardStatus::Active {
                                    String::new()
                                } else {
                                    format!(
                                        " <span class=\"badge status-{0}\">{0}</span>",
                                        super::board_status_str(b.status)
                                    )
                                },
                            );
                        }
                        tree.push_str("</ul></details>");
                    }
                    tree.push_str("</li>");
                }
                tree.push_str("</ul></li>");
            }
            tree.push_str("</ul></li>");
        }
        tree.push_str("</ul>");
    }
    let total = Counts::of(&boards);
    let body = Html::trusted(format!(
        "<h1>Topology</h1><p class=\"muted\" data-testid=\"topology-summary\">{} region{} · {} room{} · {} array{} · {}</p>{tree}{}",
        regions.len(),
        if regions.len() == 1 { "" } else { "s" },
        rooms.len(),
        if rooms.len() == 1 { "" } else { "s" },
        arrays.len(),
        if arrays.len() == 1 { "" } else { "s" },
        total.html(),
        truncated_note(boards_cut, "20,000 boards"),
    ));
    layout::render(console("Topology", &user, "/operator", body).page_id("op-topology"))
}
