//! `/console/campaigns`: what the tenant's try-play links led to over a range of days — per
//! campaign (the tag links carry) in a table, and for one campaign or one link, per day as a
//! chart (plays) and a table (opens, acquires, queued, plays, play minutes, conversions).

use super::{list, load, render, tenant};
use crate::AppState;
use crate::auth::SignedIn;
use crate::chart::{self, Bar};
use crate::html::{Markup, Text, html, pct, table, text};
use crate::i18n::Lang;
use crate::layout::Page;
use axum::extract::{Query, State};
use axum::response::Response;
use fluent_templates::fluent_bundle::FluentValue;
use playrack_wire::api::{Campaign, Figures, LinkFigures};
use serde::Deserialize;

/// `?from=&to=` (`YYYY-MM-DD`, the controller checks them), and one campaign or link to show
/// per day.
#[derive(Debug, Default, Deserialize)]
pub struct CampaignsQ {
    pub from: Option<String>,
    pub to: Option<String>,
    pub campaign: Option<String>,
    pub link: Option<String>,
}

/// The figures' cells: opens, acquires, queued, plays, play minutes, conversions, and the
/// conversion rate (conversions per play).
fn cells(lang: Lang, f: &Figures) -> Vec<Markup> {
    let rate = if f.plays == 0 {
        "—".to_owned()
    } else {
        lang.t_args(
            "cp-rate",
            &[(
                "pct",
                FluentValue::from(format!(
                    "{:.1}",
                    f.conversions as f64 * 100.0 / f.plays as f64
                )),
            )],
        )
    };
    vec![
        text(f.opens),
        text(f.acquires),
        text(f.queued),
        text(f.plays),
        text(format!("{:.1}", f.play_seconds as f64 / 60.0)),
        text(f.conversions),
        text(rate),
    ]
}

/// The figures' column heads, after `first`.
fn heads(lang: Lang, first: &[&str]) -> Vec<String> {
    let mut h: Vec<String> = first.iter().map(|k| lang.t(k)).collect();
    h.extend(
        [
            "cp-opens",
            "cp-acquires",
            "cp-queued",
            "cp-plays",
            "cp-minutes",
            "cp-conversions",
            "cp-rate-head",
        ]
        .map(|k| lang.t(k)),
    );
    h
}

/// `GET /console/campaigns`.
pub(super) async fn campaigns(
    State(state): State<AppState>,
    user: SignedIn,
    Query(q): Query<CampaignsQ>,
) -> Response {
    tenant!(user);
    let lang = user.lang;
    let mut range = String::new();
    for (k, v) in [("from", &q.from), ("to", &q.to)] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            range.push_str(&format!("&{k}={}", pct(v)));
        }
    }
    let list_path = format!("/v1/campaigns?x=1{range}");
    let all = load!(
        state,
        user,
        list::<Campaign>(&state, &user, list_path, 200, None).await
    );
    // One campaign's or one link's days.
    let one = match (&q.campaign, &q.link) {
        (Some(c), _) => Some(format!("/v1/campaigns/{}/figures?x=1{range}", pct(c))),
        (None, Some(l)) => Some(format!("/v1/links/{}/figures?x=1{range}", pct(l))),
        _ => None,
    };
    let one: Option<LinkFigures> = match one {
        Some(path) => Some(load!(state, user, state.ctl.get(path, user.token()).await)),
        None => None,
    };
    let here = |name: &str| format!("/console/campaigns?campaign={}{range}", pct(name));
    let rows = all
        .items
        .iter()
        .map(|c| {
            let mut row = vec![
                html! { a href=(here(&c.name)) data-testid="campaign-link" { (Text(&c.name)) } },
                text(c.links),
            ];
            row.extend(cells(lang, &c.total));
            row
        })
        .collect();
    let head = heads(lang, &["cp-campaign", "cp-links"]);
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    let body = html! {
        h1 { (lang.t("cp-title")) }
        p class="muted" { (lang.t("cp-intro")) }
        form method="get" class="inline-form" data-testid="campaign-range" {
            @if let Some(c) = &q.campaign { input type="hidden" name="campaign" value=(Text(c)); }
            @if let Some(l) = &q.link { input type="hidden" name="link" value=(Text(l)); }
            label for="c-from" { (lang.t("cp-from")) }
            input id="c-from" type="date" name="from" value=(Text(q.from.as_deref().unwrap_or("")));
            label for="c-to" { (lang.t("cp-to")) }
            input id="c-to" type="date" name="to" value=(Text(q.to.as_deref().unwrap_or("")));
            button type="submit" { (lang.t("cp-show")) }
        }
        (table(lang, &lang.t("cp-caption"), "campaigns", &head, rows))
        @if let Some(f) = &one { (days(lang, f)) }
    };
    render(
        Page::console(lang.t("cp-title"), &user, "/console/campaigns", body).page_id("campaigns"),
    )
}

/// One campaign's or link's figures per day: plays as a chart, everything as a table.
fn days(lang: Lang, f: &LinkFigures) -> Markup {
    let name = f
        .campaign
        .clone()
        .or_else(|| f.link_id.clone())
        .unwrap_or_default();
    let bars: Vec<Bar> = f
        .days
        .iter()
        .map(|d| Bar {
            label: d.day.clone(),
            value: d.figures.plays as f64,
        })
        .collect();
    let rows: Vec<Vec<Markup>> = f
        .days
        .iter()
        .map(|d| {
            let mut row = vec![text(&d.day)];
            row.extend(cells(lang, &d.figures));
            row
        })
        .collect();
    let head = heads(lang, &["cp-day"]);
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    html! {
        section data-testid="campaign-days" {
            h2 { span { (Text(&name)) } (lang.t("cp-per-day")) }
            p data-testid="campaign-total" {
                (lang.t_args("cp-total", &[
                    ("opens", FluentValue::from(f.total.opens)),
                    ("plays", FluentValue::from(f.total.plays)),
                    ("conversions", FluentValue::from(f.total.conversions)),
                ]))
            }
            (chart::bars(lang, &lang.t("cp-chart"), "", "chart-plays", &bars))
            (table(lang, &lang.t("cp-per-day-caption"), "campaign-days-table", &head, rows))
        }
    }
}
