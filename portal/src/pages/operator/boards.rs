//! An array's boards as a heat-map grid (`/operator/arrays/{id}`) and one board's page
//! (`/operator/boards/{id}`): live telemetry charts, the plays on it, drain / undrain and the
//! audited shell.
//!
//! Load on the grid is the board's own report: instances running out of its slots (the sum of
//! its capacity, as placement counts it) and its CPU; the cell's heat is the larger of the two.
//! Every cell is a link whose text says the state and the numbers, so colour is never the only
//! signal.

use super::{
    agent_state_label, agent_state_str, all, api_button, board_status_label, board_status_str,
    console, heads, instance_state_label, is_admin, load, name_of, names, operator, rich,
    session_state_label, strs, t_n, t_with, truncated_note, viewer_note, yes_no,
};
use crate::AppState;
use crate::auth::SignedIn;
use crate::html::{Markup, Text, html, pct, table, text, time, time_opt};
use crate::i18n::Lang;
use crate::layout;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use playrack_wire::api::{
    AgentState, Array, Board, BoardInstance, BoardStatus, OnlineEntry, Room, Tenant,
};

/// The board's slots (spec → slots, summed as placement does).
pub(super) fn slots(b: &Board) -> u32 {
    b.capacity.values().sum()
}

/// Instances in play, as the board last reported (none without telemetry): the running ones
/// less the warm pool, which waits idle.
fn busy(b: &Board) -> Option<u32> {
    b.telemetry
        .as_ref()
        .map(|t| t.instances_running.saturating_sub(t.instances_warm))
}

/// 0–4 (the heat), or `None` when the board is not online or has not reported.
pub(super) fn heat(b: &Board) -> Option<u8> {
    if b.agent_state != AgentState::Online {
        return None;
    }
    let t = b.telemetry.as_ref()?;
    let total = slots(b);
    let used = if total == 0 {
        0.0
    } else {
        f64::from(busy(b).unwrap_or(0)) / f64::from(total)
    };
    let cpu = f64::from(t.cpu_percent) / 100.0;
    let f = used.max(cpu).clamp(0.0, 1.0);
    Some(((f * 5.0) as u8).min(4))
}

/// The heat levels' words (message keys), coolest first.
const HEAT_LABELS: [&str; 5] = [
    "op-heat-0",
    "op-heat-1",
    "op-heat-2",
    "op-heat-3",
    "op-heat-4",
];

/// One board of the grid: a link whose text says its state, load and CPU.
fn cell(lang: Lang, b: &Board) -> Markup {
    let st = agent_state_str(b.agent_state);
    let status = board_status_str(b.status);
    let heat = heat(b);
    let used = busy(b).map_or_else(|| "–".to_owned(), |n| n.to_string());
    let load = t_with(
        lang,
        "op-cell-busy",
        &[("used", used), ("slots", slots(b).to_string())],
    );
    let cpu = b
        .telemetry
        .as_ref()
        .map(|t| format!("CPU {:.0}%", t.cpu_percent))
        .unwrap_or_else(|| "CPU –".into());
    let h = heat.map(|h| h.to_string()).unwrap_or_else(|| "none".into());
    html! {
        li {
            a class={ "cell agent-" (st) " status-" (status) " heat-" (h) @if b.hot.is_some() { " hot" } }
                href={ "/operator/boards/" (Text(pct(&b.id))) }
                data-testid="board-cell" data-board-id=(Text(&b.id)) data-state=(st)
                data-status=(status) data-hot=[b.hot.as_deref()]
            {
                span class="serial" { (Text(&b.serial)) }
                span class="state" {
                    (agent_state_label(lang, b.agent_state))
                    @if b.status != BoardStatus::Active {
                        " · " (board_status_label(lang, b.status))
                    }
                }
                span class="load" { (load) }
                span class="cpu" { (cpu) }
                @if let Some(reason) = &b.hot {
                    span class="hot-reason" {
                        (rich(lang, "op-cell-hot", &[("reason", html! { (Text(reason)) })]))
                    }
                }
                span class="visually-hidden" {
                    (t_with(lang, "op-cell-load", &[(
                        "load",
                        lang.t(heat.map_or("op-heat-unknown", |h| HEAT_LABELS[h as usize])),
                    )]))
                }
            }
        }
    }
}

/// What the grid's colours and borders mean.
fn legend(lang: Lang) -> Markup {
    html! {
        section class="legend" aria-labelledby="legend-h" data-testid="grid-legend" {
            h2 id="legend-h" { (lang.t("op-legend-title")) }
            p class="muted" { (lang.t("op-legend-text")) }
            ul {
                @for (i, l) in HEAT_LABELS.iter().enumerate() {
                    li {
                        span class={ "swatch heat-" (i) } aria-hidden="true" {}
                        " " (t_with(lang, "op-legend-load", &[("level", lang.t(l))]))
                    }
                }
                li {
                    span class="swatch heat-none" aria-hidden="true" {}
                    " " (lang.t("op-legend-none"))
                }
                li {
                    span class="swatch status-draining" aria-hidden="true" {}
                    " " (lang.t("op-legend-draining"))
                }
                li {
                    span class="swatch status-disabled" aria-hidden="true" {}
                    " " (lang.t("op-legend-disabled"))
                }
                li {
                    span class="swatch hot" aria-hidden="true" {}
                    " " (lang.t("op-legend-hot"))
                }
            }
        }
    }
}

/// `GET /operator/arrays/{id}`.
pub async fn array(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<String>,
) -> Response {
    operator!(user);
    let boards_path = format!("/v1/boards?parent_id={}", pct(&id));
    let (arrays, rooms, boards) = tokio::join!(
        all::<Array>(&state, &user, "/v1/arrays", 50),
        all::<Room>(&state, &user, "/v1/rooms", 20),
        all::<Board>(&state, &user, &boards_path, 20),
    );
    let (arrays, _) = load!(state, user, arrays);
    let (rooms, _) = load!(state, user, rooms);
    let (boards, cut) = load!(state, user, boards);
    let lang = user.lang;
    let Some(array) = arrays.iter().find(|a| a.id == id) else {
        return not_found(&user, &lang.t("op-array-not-found"));
    };
    let room = rooms.iter().find(|r| r.id == array.room_id);
    let online = boards
        .iter()
        .filter(|b| b.agent_state == AgentState::Online)
        .count();
    let running: u32 = boards.iter().filter_map(busy).sum();
    let total: u32 = boards.iter().map(slots).sum();
    let topology = lang.t("op-topology-title");
    let body = html! {
        p {
            a href={ "/operator#room-" (Text(&array.room_id)) } data-testid="back-link" {
                "← " (Text(room.map_or(topology.as_str(), |r| r.name.as_str())))
            }
        }
        h1 {
            (rich(lang, "op-array-heading", &[(
                "name",
                html! { span data-testid="array-name" { (Text(&array.name)) } },
            )]))
        }
        p class="muted" data-testid="array-summary" {
            (t_n(lang, "op-count-boards", boards.len())) " · "
            (t_n(lang, "op-count-online", online)) " · "
            (t_with(lang, "op-array-busy", &[
                ("running", running.to_string()),
                ("total", total.to_string()),
            ]))
        }
        p class="muted" {
            label class="check" {
                input type="checkbox" data-autoreload="10" data-testid="autoreload";
                " " (lang.t("op-array-autoreload"))
            }
        }
        @if boards.is_empty() {
            p class="empty" data-testid="board-grid-empty" { (lang.t("op-array-empty")) }
        } @else {
            ul class="grid" data-testid="board-grid"
                aria-label=(Text(t_with(lang, "op-boards-of", &[("name", array.name.clone())])))
            {
                @for b in &boards { (cell(lang, b)) }
            }
        }
        (truncated_note(lang, cut, "op-truncated-array"))
        (legend(lang))
    };
    let title = t_with(lang, "op-array-title", &[("name", array.name.clone())]);
    layout::render(console(title, &user, "/operator", body).page_id("op-array"))
}

fn not_found(user: &SignedIn, text: &str) -> Response {
    let lang = user.lang;
    let mut page = layout::error_page_in(
        lang,
        StatusCode::NOT_FOUND,
        &lang.t("op-not-found-title"),
        text,
        None,
    );
    page.user = Some(user.clone());
    page.console_nav = true;
    page.scripts.push("app.js");
    layout::render(page)
}

/// The table of plays (on a board, or everywhere).
pub(super) fn plays_table(
    lang: Lang,
    caption: &str,
    plays: &[&OnlineEntry],
    tenants: &std::collections::HashMap<String, String>,
    games: &std::collections::HashMap<String, String>,
    admin: bool,
    show_board: bool,
) -> Markup {
    let rows = plays
        .iter()
        .map(|p| {
            let mut row = vec![
                html! {
                    a href={ "/operator/sessions/" (Text(pct(&p.session_id))) }
                        data-testid="session-link" { code { (Text(&p.session_id)) } }
                },
                text(name_of(tenants, &p.tenant_id)),
                text(name_of(games, &p.game_id)),
                text(&p.user),
                text(&p.spec_id),
            ];
            if show_board {
                row.push(html! {
                    a href={ "/operator/boards/" (Text(pct(&p.board_id))) }
                        data-testid="board-link" { code { (Text(&p.board_id)) } }
                });
            }
            row.extend([
                html! { code { (Text(p.instance_id.as_deref().unwrap_or("—"))) } },
                text(session_state_label(lang, p.state)),
                text(yes_no(lang, p.connected)),
                time(&p.since),
                html! {
                    @if admin {
                        (api_button(
                            &lang.t("op-kick"),
                            &format!("/api/sessions/{}/kick", pct(&p.session_id)),
                            "POST",
                            None,
                            Some(&lang.t("op-kick-confirm")),
                            "kick-session",
                            "danger small",
                        ))
                    }
                },
            ]);
            row
        })
        .collect();
    let mut head = vec![
        "op-col-session",
        "op-col-tenant",
        "op-col-game",
        "op-col-player",
        "op-col-spec",
    ];
    if show_board {
        head.push("op-col-board");
    }
    head.extend([
        "op-col-instance",
        "op-col-state",
        "op-col-connected",
        "op-col-since",
        "",
    ]);
    table(lang, caption, "plays", &strs(&heads(lang, &head)), rows)
}

/// A board's instances as it last reported them: each one's state, play, package, the game
/// it holds ready (the warm pool per game), video encoder and boot time.
pub(super) fn instances_table(lang: Lang, instances: &[BoardInstance]) -> Markup {
    let rows = instances
        .iter()
        .map(|i| {
            vec![
                html! { code { (Text(&i.id)) } },
                text(instance_state_label(lang, i.state)),
                text(&i.spec_id),
                match &i.session_id {
                    Some(s) => html! {
                        a href={ "/operator/sessions/" (Text(pct(s))) } { code { (Text(s)) } }
                    },
                    None => html! { "—" },
                },
                html! { code { (Text(i.package.as_deref().unwrap_or("—"))) } },
                html! {
                    code data-testid="instance-ready-game" {
                        (Text(i.primed_version_id.as_deref().unwrap_or("—")))
                    }
                },
                html! {
                    code data-testid="instance-encoder" {
                        (Text(i.encoder.as_deref().unwrap_or("—")))
                    }
                },
                time_opt(i.booted_at.as_ref()),
            ]
        })
        .collect();
    let head = heads(
        lang,
        &[
            "op-col-instance",
            "op-col-state",
            "op-col-spec",
            "op-col-play",
            "op-col-package",
            "op-col-game-ready",
            "op-col-encoder",
            "op-col-booted",
        ],
    );
    table(
        lang,
        &lang.t("op-instances-caption"),
        "instances",
        &strs(&head),
        rows,
    )
}

/// The shell form (operator admins): a command in an instance of a board, its output polled
/// into a `<pre>` by `operator-shell.js`. `instances` offers known instance ids; `fixed` pins one.
pub(super) fn shell_form(
    lang: Lang,
    board_id: &str,
    instances: &[&str],
    fixed: Option<&str>,
) -> Markup {
    html! {
        form class="shell" data-shell={ "/api/boards/" (Text(pct(board_id))) "/shell" }
            data-testid="shell-form"
        {
            @match fixed {
                Some(i) => {
                    input type="hidden" name="instance_id" value=(Text(i));
                    p { (rich(lang, "op-shell-instance", &[("id", html! { code { (Text(i)) } })])) }
                }
                None => {
                    label for="sh-instance" { (lang.t("op-shell-instance-id")) }
                    input id="sh-instance" name="instance_id" required maxlength="100"
                        list="sh-instances" autocomplete="off" data-testid="shell-instance";
                    datalist id="sh-instances" {
                        @for i in instances { option value=(Text(i)) {} }
                    }
                }
            }
            label for="sh-command" { (lang.t("op-shell-command")) }
            input id="sh-command" name="command" required maxlength="4096" autocomplete="off"
                spellcheck="false" class="mono" data-testid="shell-command";
            label for="sh-timeout" { (lang.t("op-shell-timeout")) }
            input id="sh-timeout" name="timeout_secs" type="number" min="1" max="600" value="30"
                data-testid="shell-timeout";
            button type="submit" class="primary" data-testid="shell-run" { (lang.t("op-shell-run")) }
            p class="muted" { (lang.t("op-shell-audited")) }
            p class="status" role="status" data-shell-status data-testid="shell-status" {}
            p class="error" role="alert" data-testid="shell-error" {}
            pre class="shell-output" data-shell-output tabindex="0"
                aria-label=(lang.t("op-shell-output")) data-testid="shell-output" {}
        }
    }
}

/// The board agent's own recent log lines (every operator; audited), fetched as a run by
/// `operator-shell.js` (a `[data-agent-log]` form posts `{lines}`).
fn agent_log_form(lang: Lang, board_id: &str) -> Markup {
    html! {
        form class="shell" data-shell={ "/api/boards/" (Text(pct(board_id))) "/agent-log" }
            data-agent-log data-testid="agent-log-form"
        {
            label for="al-lines" { (lang.t("op-agent-log-lines")) }
            input id="al-lines" name="lines" type="number" min="1" max="2000" value="200"
                data-testid="agent-log-lines";
            button type="submit" class="primary" data-testid="agent-log-run" {
                (lang.t("op-agent-log-run"))
            }
            p class="status" role="status" data-shell-status data-testid="agent-log-status" {}
            p class="error" role="alert" data-testid="agent-log-error" {}
            pre class="shell-output" data-shell-output tabindex="0"
                aria-label=(lang.t("op-agent-log-title")) data-testid="agent-log-output" {}
        }
    }
}

/// Every live play (at most 20 pages of 200) and whether the list was cut short.
pub(super) async fn online(
    state: &AppState,
    user: &SignedIn,
) -> Result<(Vec<OnlineEntry>, bool), crate::controller::CtlError> {
    all::<OnlineEntry>(state, user, "/v1/online", 20).await
}

/// Tenant id → name and game id → name (best effort: ids are shown when a read fails).
pub(super) async fn tenant_and_game_names(
    state: &AppState,
    user: &SignedIn,
) -> (
    std::collections::HashMap<String, String>,
    std::collections::HashMap<String, String>,
) {
    let (tenants, games) = tokio::join!(
        all::<Tenant>(state, user, "/v1/tenants", 10),
        all::<playrack_wire::api::Game>(state, user, "/v1/games", 10),
    );
    (
        tenants
            .map(|(t, _)| names(&t, |t| (&t.id, &t.name)))
            .unwrap_or_default(),
        games
            .map(|(g, _)| names(&g, |g| (&g.id, &g.name)))
            .unwrap_or_default(),
    )
}

/// `GET /operator/boards/{id}`.
pub async fn board(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<String>,
) -> Response {
    operator!(user);
    let bid = pct(&id);
    let (board, instances, arrays, plays, (tenants, games)) = tokio::join!(
        state
            .ctl
            .get::<Board>(format!("/v1/boards/{bid}"), user.token()),
        state
            .ctl
            .get::<Vec<BoardInstance>>(format!("/v1/boards/{bid}/instances"), user.token()),
        all::<Array>(&state, &user, "/v1/arrays", 50),
        online(&state, &user),
        tenant_and_game_names(&state, &user),
    );
    let board = load!(state, user, board);
    let instances = load!(state, user, instances);
    let (arrays, _) = load!(state, user, arrays);
    let (plays, plays_cut) = load!(state, user, plays);
    let array = arrays.iter().find(|a| a.id == board.array_id);
    let here: Vec<&OnlineEntry> = plays.iter().filter(|p| p.board_id == board.id).collect();
    let admin = is_admin(&user);
    let lang = user.lang;
    let api = format!("/api/boards/{bid}");

    let actions = if !admin {
        viewer_note(lang)
    } else {
        match board.status {
            BoardStatus::Active => api_button(
                &lang.t("op-drain"),
                &api,
                "PATCH",
                Some(r#"{"status":"draining"}"#),
                Some(&lang.t("op-drain-confirm")),
                "drain-board",
                "danger",
            ),
            BoardStatus::Draining => api_button(
                &lang.t("op-undrain"),
                &api,
                "PATCH",
                Some(r#"{"status":"active"}"#),
                None,
                "undrain-board",
                "primary",
            ),
            BoardStatus::Disabled => api_button(
                &lang.t("op-enable"),
                &api,
                "PATCH",
                Some(r#"{"status":"active"}"#),
                Some(&lang.t("op-enable-confirm")),
                "enable-board",
                "primary",
            ),
        }
    };
    let t = board.telemetry.as_ref();
    let fmt = |v: Option<String>| v.unwrap_or_else(|| "—".into());
    let sep = lang.t("op-list-sep");
    let temps = t
        .map(|t| {
            t.temperatures_c
                .iter()
                .map(|c| format!("{c:.0} °C"))
                .collect::<Vec<_>>()
                .join(&sep)
        })
        .filter(|s| !s.is_empty());
    let charts = [
        ("cpu", "op-chart-cpu", "%", "0", "100"),
        ("mem", "op-chart-mem", "%", "0", "100"),
        ("temp", "op-chart-temp", "°C", "20", "100"),
    ];
    let instance_ids: Vec<&str> = instances.iter().map(|i| i.id.as_str()).collect();
    let shell = if admin {
        if board.agent_state == AgentState::Online {
            shell_form(lang, &board.id, &instance_ids, None)
        } else {
            html! {
                p class="muted" data-testid="shell-offline" { (lang.t("op-shell-offline")) }
            }
        }
    } else {
        viewer_note(lang)
    };
    let st = agent_state_str(board.agent_state);
    let status = board_status_str(board.status);
    let body = html! {
        p {
            a href={ "/operator/arrays/" (Text(pct(&board.array_id))) } data-testid="back-link" {
                (rich(lang, "op-board-back", &[(
                    "name",
                    html! { (Text(array.map_or(board.array_id.as_str(), |a| a.name.as_str()))) },
                )]))
            }
        }
        h1 {
            (rich(lang, "op-board-heading", &[(
                "serial",
                html! { span data-testid="board-serial" { (Text(&board.serial)) } },
            )]))
        }
        dl class="facts" {
            dt { (lang.t("op-board-agent")) }
            dd {
                span class={ "badge agent-" (st) } data-board-state data-testid="board-agent-state" {
                    (agent_state_label(lang, board.agent_state))
                }
            }
            dt { (lang.t("op-board-status")) }
            dd {
                span class={ "badge status-" (status) } data-testid="board-status" {
                    (board_status_label(lang, board.status))
                }
            }
            dt { (lang.t("op-board-id")) }
            dd { code { (Text(&board.id)) } }
            dt { (lang.t("op-board-model")) }
            dd { (Text(&board.model)) }
            dt { (lang.t("op-board-slots")) }
            dd {
                @if board.capacity.is_empty() { "—" }
                @for (i, (spec, n)) in board.capacity.iter().enumerate() {
                    @if i > 0 { (sep) }
                    (n) " × " (Text(spec))
                }
            }
            dt { (lang.t("op-board-agent-version")) }
            dd { (Text(board.agent_version.as_deref().unwrap_or("—"))) }
            dt { (lang.t("op-board-last-seen")) }
            dd data-last-seen { (time_opt(board.last_seen_at.as_ref())) }
        }
        div class="actions" { (actions) }
        section aria-labelledby="tele-h" data-board-telemetry=(Text(&api)) data-interval="3000"
            data-testid="telemetry"
        {
            h2 id="tele-h" { (lang.t("op-tele-title")) }
            p class="muted" {
                label class="check" {
                    input type="checkbox" data-telemetry-live checked data-testid="telemetry-live";
                    " " (lang.t("op-tele-live"))
                }
            }
            dl class="facts" {
                dt { (lang.t("op-tele-cpu")) }
                dd data-t="cpu" { (fmt(t.map(|t| format!("{:.0}%", t.cpu_percent)))) }
                dt { (lang.t("op-tele-load1")) }
                dd data-t="load1" { (fmt(t.map(|t| format!("{:.2}", t.load1)))) }
                dt { (lang.t("op-tele-mem")) }
                dd data-t="mem" {
                    (fmt(t.map(|t| t_with(lang, "op-tele-mem-value", &[
                        ("used", t.mem_used_mb.to_string()),
                        ("total", t.mem_total_mb.to_string()),
                    ]))))
                }
                dt { (lang.t("op-tele-temps")) }
                dd data-t="temps" { (fmt(temps)) }
                dt { (lang.t("op-tele-disk")) }
                dd data-t="disk" { (fmt(t.map(|t| format!("{} MB", t.disk_free_mb)))) }
                dt { (lang.t("op-tele-instances")) }
                dd data-t="instances" {
                    (fmt(t.map(|t| t_with(lang, "op-tele-instances-value", &[
                        ("running", t.instances_running.to_string()),
                        ("warm", t.instances_warm.to_string()),
                        ("slots", slots(&board).to_string()),
                    ]))))
                }
            }
            div class="charts" {
                @for (key, label, unit, lo, hi) in charts {
                    @let label = lang.t(label);
                    figure class="spark" data-testid={ "chart-" (key) } {
                        figcaption { (label) " " strong data-now=(key) { "—" } }
                        svg role="img"
                            aria-label=(t_with(lang, "op-chart-aria", &[
                                ("label", label.clone()),
                                ("unit", unit.to_owned()),
                            ]))
                            viewBox="0 0 300 100" preserveAspectRatio="none" data-chart=(key)
                            data-min=(lo) data-max=(hi)
                        {
                            line class="grid-line" x1="0" y1="50" x2="300" y2="50" {}
                            polyline class="line" points="" {}
                        }
                        p class="axis muted" {
                            (t_with(lang, "op-chart-scale", &[
                                ("lo", lo.to_owned()),
                                ("hi", hi.to_owned()),
                                ("unit", unit.to_owned()),
                            ]))
                        }
                    }
                }
            }
            p class="error" role="alert" data-telemetry-error {}
        }
        section { h2 { (lang.t("op-instances-caption")) } (instances_table(lang, &instances)) }
        section {
            h2 { (lang.t("op-board-plays")) }
            (plays_table(lang, &lang.t("op-plays-caption"), &here, &tenants, &games, admin, false))
            (truncated_note(lang, plays_cut, "op-truncated-board-plays"))
        }
        section class="card" { h2 { (lang.t("op-shell-title")) } (shell) }
        section class="card" {
            h2 { (lang.t("op-agent-log-title")) }
            @if board.agent_state == AgentState::Online {
                (agent_log_form(lang, &board.id))
            } @else {
                p class="muted" data-testid="agent-log-offline" { (lang.t("op-agent-log-offline")) }
            }
        }
    };
    let title = t_with(lang, "op-board-title", &[("serial", board.serial.clone())]);
    layout::render(
        console(title, &user, "/operator", body)
            .page_id("op-board")
            .script("operator/operator-board.js")
            .script("operator/operator-shell.js"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use playrack_wire::Timestamp;
    use playrack_wire::agent::Telemetry;

    fn board(state: AgentState, running: u32, cpu: f32) -> Board {
        Board {
            id: "brd_1".into(),
            array_id: "arr_1".into(),
            serial: "<b>S</b>".into(),
            model: "RK3588".into(),
            capacity: [("hd-60".to_owned(), 4)].into(),
            status: BoardStatus::Draining,
            agent_state: state,
            last_seen_at: None,
            agent_version: None,
            hot: None,
            telemetry: Some(Telemetry {
                cpu_percent: cpu,
                instances_running: running,
                ..Default::default()
            }),
            created_at: Timestamp::now(),
        }
    }

    #[test]
    fn the_instance_list_shows_each_ones_play_encoder_and_state() {
        let instances = [
            BoardInstance {
                id: "inst-<1>".into(),
                spec_id: "hd-60".into(),
                state: playrack_wire::agent::InstanceState::Busy,
                session_id: Some("ses_1".into()),
                package: Some("dev.playrack.tapper".into()),
                encoder: Some("c2.rk.avc.encoder".into()),
                booted_at: Some(Timestamp::now()),
                updated_at: Timestamp::now(),
                primed_version_id: None,
            },
            BoardInstance {
                id: "inst-2".into(),
                spec_id: "hd-60".into(),
                state: playrack_wire::agent::InstanceState::Warm,
                session_id: None,
                package: None,
                encoder: None,
                booted_at: None,
                updated_at: Timestamp::now(),
                primed_version_id: Some("ver_<7>".into()),
            },
        ];
        let t = instances_table(Lang::En, &instances).into_string();
        assert!(t.contains("inst-&lt;1&gt;"), "{t}");
        assert!(t.contains(">busy<") && t.contains(">warm<"), "{t}");
        assert!(t.contains("c2.rk.avc.encoder"), "{t}");
        assert!(t.contains("/operator/sessions/ses_1"), "{t}");
        assert!(
            t.contains("ver_&lt;7&gt;"),
            "the game an idle instance holds ready: {t}"
        );
        assert!(
            instances_table(Lang::En, &[])
                .into_string()
                .contains("instances-empty")
        );
    }

    #[test]
    fn heat_is_the_larger_of_slots_and_cpu_and_none_offline() {
        assert_eq!(heat(&board(AgentState::Online, 0, 5.0)), Some(0));
        assert_eq!(heat(&board(AgentState::Online, 2, 5.0)), Some(2));
        assert_eq!(heat(&board(AgentState::Online, 1, 95.0)), Some(4));
        assert_eq!(heat(&board(AgentState::Online, 4, 0.0)), Some(4));
        assert_eq!(heat(&board(AgentState::Offline, 4, 90.0)), None);
        let mut idle = board(AgentState::Online, 4, 0.0);
        idle.telemetry.as_mut().unwrap().instances_warm = 4;
        assert_eq!(
            heat(&idle),
            Some(0),
            "a warm pool waits idle; it is not load"
        );
    }

    #[test]
    fn cells_say_everything_in_text_and_escape_the_serial() {
        let c = cell(Lang::En, &board(AgentState::Online, 1, 35.0)).into_string();
        let s = c.as_str();
        assert!(s.contains("&lt;b&gt;S&lt;/b&gt;"), "{s}");
        assert!(s.contains("online · draining"), "{s}");
        assert!(s.contains("1/4 busy"), "{s}");
        assert!(s.contains("CPU 35%"), "{s}");
        assert!(s.contains("heat-1"), "{s}");
        assert!(!s.contains(" hot"), "{s}");
    }

    #[test]
    fn a_hot_board_says_why_it_takes_no_new_plays() {
        let mut b = board(AgentState::Online, 1, 35.0);
        b.hot = Some("temperature 91 °C over the room's 85 °C".into());
        let c = cell(Lang::En, &b).into_string();
        assert!(c.contains("heat-1 hot"), "{c}");
        assert!(
            c.contains("No new plays: temperature 91 °C over the room&#39;s 85 °C")
                || c.contains("No new plays: temperature 91 °C over the room's 85 °C"),
            "{c}"
        );
    }
}
