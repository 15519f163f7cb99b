//! What the tenant uses and pays for: `/console/usage` (billable minutes per day, game and
//! spec as charts and a table, for a date range) and `/console/orders` (the orders placed with
//! the operator and the concurrency in use now against them).

use super::{game_names, list, load, name_of, render, tenant};
use crate::AppState;
use crate::auth::SignedIn;
use crate::chart::{self, Bar};
use crate::html::{Text, html, money, pct, table, text, time};
use crate::layout::Page;
use axum::extract::{Query, State};
use axum::response::Response;
use playrack_wire::Timestamp;
use playrack_wire::api::{Order, OrderStatus, Session, UsageReport, UsageRow};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Default, Deserialize)]
pub struct UsageQ {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// `s` if it is a plain `YYYY-MM-DD` date.
fn plain_date(s: &str) -> Option<&str> {
    let ok = s.len() == 10
        && s.chars().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    ok.then_some(s)
}

/// `GET /console/usage`.
pub(super) async fn usage(
    State(state): State<AppState>,
    user: SignedIn,
    Query(q): Query<UsageQ>,
) -> Response {
    tenant!(user);
    let t = |k: &str| user.lang.t(k);
    let mut range = String::new();
    let from = q.from.as_deref().and_then(plain_date);
    let to = q.to.as_deref().and_then(plain_date);
    if let Some(f) = from {
        range.push_str(&format!("&from={f}"));
    }
    if let Some(t) = to {
        range.push_str(&format!("&to={t}"));
    }
    let get = |g: &str| {
        state
            .ctl
            .get::<UsageReport>(format!("/v1/usage?group_by={g}{range}"), user.token())
    };
    let (by_day, by_game, by_spec, names) = tokio::join!(
        get("day"),
        get("game"),
        get("spec"),
        game_names(&state, &user)
    );
    let by_day = load!(state, user, by_day);
    let by_game = load!(state, user, by_game);
    let by_spec = load!(state, user, by_spec);
    let names = load!(state, user, names);
    let mins = |r: &UsageRow| r.billable_secs as f64 / 60.0;
    let day_bars: Vec<Bar> = by_day
        .items
        .iter()
        .map(|r| Bar {
            label: r.day.clone().unwrap_or_default(),
            value: (mins(r) * 100.0).round() / 100.0,
        })
        .collect();
    let game_bars: Vec<Bar> = by_game
        .items
        .iter()
        .map(|r| Bar {
            label: name_of(&names, r.game_id.as_deref().unwrap_or("?")).to_owned(),
            value: (mins(r) * 100.0).round() / 100.0,
        })
        .collect();
    let spec_bars: Vec<Bar> = by_spec
        .items
        .iter()
        .map(|r| Bar {
            label: r.spec_id.clone().unwrap_or_default(),
            value: (mins(r) * 100.0).round() / 100.0,
        })
        .collect();
    let rows = by_day
        .items
        .iter()
        .map(|r| {
            vec![
                text(r.day.as_deref().unwrap_or("")),
                text(r.sessions),
                text(format!("{:.1}", mins(r))),
                text(money(user.lang, &state.config.currency, r.amount_micros)),
            ]
        })
        .collect();
    let total: i64 = by_day.items.iter().map(|r| r.amount_micros).sum();
    // An empty sum of f64 is -0.0: adding 0.0 makes it read 0.0.
    let total_min: f64 = by_day.items.iter().map(mins).sum::<f64>() + 0.0;
    let body = html! {
        h1 { (t("tn-usage-title")) }
        form method="get" class="inline-form" data-testid="usage-range" {
            label for="u-from" { (t("cp-from")) }
            input id="u-from" type="date" name="from" value=(from.unwrap_or(""));
            label for="u-to" { (t("cp-to")) }
            input id="u-to" type="date" name="to" value=(to.unwrap_or(""));
            button type="submit" { (t("cp-show")) }
        }
        p data-testid="usage-total" {
            (time(&by_day.from)) " – " (time(&by_day.to)) ": "
            strong { (format!("{total_min:.1}")) } " " (t("tn-billable-minutes")) " "
            strong { (money(user.lang, &state.config.currency, total)) } " " (t("tn-charged"))
        }
        section class="charts" {
            h2 { (t("tn-minutes-per-day")) }
            (chart::bars(user.lang, &t("tn-billable-per-day"), "min", "chart-day", &day_bars))
            h2 { (t("tn-minutes-per-game")) }
            (chart::bars(user.lang, &t("tn-billable-per-game"), "min", "chart-game", &game_bars))
            h2 { (t("tn-minutes-per-spec")) }
            (chart::bars(user.lang, &t("tn-billable-per-spec"), "min", "chart-spec", &spec_bars))
        }
        section {
            h2 { (t("tn-per-day")) }
            (table(
                user.lang,
                &t("tn-usage-per-day"),
                "usage",
                &[t("cp-day"), t("tn-sessions"), t("tn-minutes"), t("tn-amount")],
                rows
            ))
        }
    };
    render(Page::console(t("tn-usage-title"), &user, "/console/usage", body).page_id("usage"))
}

/// `GET /console/orders`.
pub(super) async fn orders(State(state): State<AppState>, user: SignedIn) -> Response {
    tenant!(user);
    let t = |k: &str| user.lang.t(k);
    let (orders, live) = tokio::join!(
        list::<Order>(&state, &user, "/v1/orders", 200, None),
        list::<Session>(&state, &user, "/v1/sessions?live=true", 200, None),
    );
    let orders = load!(state, user, orders);
    let live = load!(state, user, live);
    let now = Timestamp::now();
    let mut ordered: BTreeMap<String, u32> = BTreeMap::new();
    for o in &orders.items {
        if o.status == OrderStatus::Active && o.valid_from <= now && now < o.valid_until {
            *ordered.entry(o.spec_id.clone()).or_default() += o.concurrency;
        }
    }
    let mut in_use: BTreeMap<String, u32> = BTreeMap::new();
    for s in &live.items {
        *in_use.entry(s.spec_id.clone()).or_default() += 1;
    }
    let specs: BTreeSet<&String> = ordered.keys().chain(in_use.keys()).collect();
    let quota_rows = specs
        .into_iter()
        .map(|spec| {
            let o = ordered.get(spec).copied().unwrap_or(0);
            let u = in_use.get(spec).copied().unwrap_or(0);
            vec![
                text(spec),
                html! { span data-testid="quota-in-use" { (u) } },
                text(o),
                html! {
                    meter min="0" max=(o.max(1)) value=(u)
                        aria-label={ (Text(spec)) " " (t("tn-in-use-lower")) } { (u) "/" (o) }
                },
            ]
        })
        .collect();
    let rows = orders
        .items
        .iter()
        .map(|o| {
            let scope = match (&o.region_id, o.room_ids.is_empty()) {
                (Some(r), _) => format!("{} {r}", t("tn-region")),
                (None, false) => format!("{} {}", t("tn-rooms"), o.room_ids.join(", ")),
                _ => "—".into(),
            };
            vec![
                html! {
                    code { (Text(&o.id)) } " "
                    a href={ "/console/history/" (Text(pct(&o.id))) } data-testid="history-link" { (t("hist-link")) }
                },
                text(&o.spec_id),
                text(scope),
                text(o.concurrency),
                time(&o.valid_from),
                time(&o.valid_until),
                text(o.priority),
                text(t(match o.status {
                    OrderStatus::Active => "tn-order-active",
                    OrderStatus::Cancelled => "tn-order-cancelled",
                })),
            ]
        })
        .collect();
    let body = html! {
        h1 { (t("tn-orders-title")) }
        p class="muted" { (t("tn-orders-intro")) }
        section {
            h2 { (t("tn-in-use-now")) }
            (table(
                user.lang,
                &t("tn-concurrency-per-spec"),
                "quota",
                &[t("tn-spec"), t("tn-in-use"), t("tn-ordered-now"), String::new()],
                quota_rows
            ))
        }
        section {
            h2 { (t("tn-orders")) }
            (table(
                user.lang,
                &t("tn-orders"),
                "orders",
                &[
                    t("tn-order"),
                    t("tn-spec"),
                    t("tn-where"),
                    t("tn-concurrency"),
                    t("cp-from"),
                    t("tn-until"),
                    t("tn-priority"),
                    t("tn-status")
                ],
                rows
            ))
        }
    };
    render(Page::console(t("tn-orders-title"), &user, "/console/orders", body).page_id("orders"))
}
