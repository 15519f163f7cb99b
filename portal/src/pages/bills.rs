//! Bills in both consoles. A tenant sees its open statement and its closed bills
//! (`/console/bills`, `/console/bills/{id}`); an operator sees every tenant's bills of one
//! period, or one tenant's open statement and bills (`/operator/bills?period=…|tenant=…`,
//! `/operator/bills/{id}`). A statement lists its lines — minutes per spec, late plays with the
//! bill they came from, orders' concurrency pro rata — with totals in the bill's currency and
//! CSV/JSON downloads through the `/api` proxy. The controller computes every figure.

use crate::AppState;
use crate::auth::SignedIn;
use crate::html::{Markup, Text, html, money, pct, table, text, time, time_opt};
use crate::i18n::Lang;
use crate::layout::Page;
use crate::pages::load;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use playrack_wire::Timestamp;
use playrack_wire::api::{Bill, BillItemKind, BillState, Page as ListPage, Tenant};
use serde::Deserialize;
use std::collections::HashMap;

/// The console a page is in: where its links go.
fn base(user: &SignedIn) -> &'static str {
    if user.is_operator() {
        "/operator/bills"
    } else {
        "/console/bills"
    }
}

/// Seconds as minutes, two decimals.
fn minutes(secs: u64) -> String {
    format!("{:.2}", secs as f64 / 60.0)
}

/// A bill's period, `from – to` (the end is exclusive).
fn period(b: &Bill) -> Markup {
    html! { (time(&b.period_start)) " – " (time(&b.period_end)) }
}

fn state_label(lang: Lang, s: BillState) -> Markup {
    match s {
        BillState::Open => {
            html! { span class="badge" data-testid="bill-state" data-state="open" { (lang.t("bl-open")) } }
        }
        BillState::Closed => {
            html! { span class="badge" data-testid="bill-state" data-state="closed" { (lang.t("bl-closed")) } }
        }
    }
}

/// The CSV and JSON download links of a bill.
fn downloads(lang: Lang, b: &Bill) -> Markup {
    let href = |format: &str| {
        format!(
            "/api/bills/{}/export?format={format}&tenant_id={}",
            pct(&b.id),
            pct(&b.tenant_id)
        )
    };
    html! {
        p class="inline-form" {
            a href=(href("csv")) download data-testid="bill-csv" { (lang.t("bl-download-csv")) }
            " · "
            a href=(href("json")) download data-testid="bill-json" { (lang.t("bl-download-json")) }
        }
    }
}

/// One statement: its head, totals, lines and downloads.
fn statement(lang: Lang, user: &SignedIn, b: &Bill) -> Markup {
    let t = |k: &str| lang.t(k);
    let cash = |m: i64| money(lang, &b.currency, m);
    let rows = b
        .items
        .iter()
        .map(|i| {
            let (kind, quantity, unit) = match i.kind {
                BillItemKind::Usage => (t("bl-kind-usage"), minutes(i.quantity), t("bl-per-minute")),
                BillItemKind::Late => (t("bl-kind-late"), minutes(i.quantity), t("bl-per-minute")),
                BillItemKind::Concurrency => (
                    t("bl-kind-concurrency"),
                    format!("{} × {} {}", i.quantity, minutes(i.covered_secs), t("bl-min")),
                    t("bl-per-unit-period"),
                ),
            };
            let reference = html! {
                @if let Some(o) = &i.order_id { code { (Text(o)) } }
                @if let Some(s) = &i.session_id { code { (Text(s)) } }
                @if let Some(from) = &i.late_from_bill_id {
                    " ← " a href={ (base(user)) "/" (Text(pct(from))) } data-testid="late-from" { code { (Text(from)) } }
                }
            };
            vec![
                html! { span data-testid="bill-kind" data-kind=(format!("{:?}", i.kind).to_lowercase()) { (kind) } },
                text(&i.spec_id),
                text(i.sessions),
                html! { span data-testid="bill-quantity" { (quantity) } },
                html! { (cash(i.unit_price_micros)) " " span class="muted" { (unit) } },
                html! { span data-testid="bill-amount" { (cash(i.amount_micros)) } },
                reference,
            ]
        })
        .collect();
    html! {
        section data-testid="statement" data-bill=(Text(&b.id)) {
            p { (period(b)) " " (state_label(lang, b.state)) " " code data-testid="bill-id" { (Text(&b.id)) } }
            @if let Some(c) = &b.closed_at {
                p class="muted" { (t("bl-closed-at")) " " (time(c)) }
            } @else {
                p class="muted" { (t("bl-open-note")) }
            }
            dl class="figures" {
                dt { (t("bl-usage")) }
                dd data-testid="bill-usage" { (minutes(b.usage_secs)) " " (t("bl-min")) " · " (cash(b.usage_micros)) }
                dt { (t("bl-concurrency")) }
                dd data-testid="bill-concurrency" { (cash(b.concurrency_micros)) }
                dt { (t("bl-total")) }
                dd { strong data-testid="bill-total" { (cash(b.total_micros)) } }
            }
            (table(
                lang,
                &t("bl-lines"),
                "bill-lines",
                &[t("bl-col-kind"), t("tn-spec"), t("tn-sessions"), t("bl-col-quantity"), t("bl-col-price"), t("tn-amount"), t("bl-col-ref")],
                rows
            ))
            (downloads(lang, b))
        }
    }
}

/// Closed bills as a table (with their tenant's name when `names` has it).
fn bill_list(
    lang: Lang,
    user: &SignedIn,
    bills: &[Bill],
    names: Option<&HashMap<String, String>>,
) -> Markup {
    let t = |k: &str| lang.t(k);
    let rows = bills
        .iter()
        .map(|b| {
            let mut row = vec![
                html! { a href={ (base(user)) "/" (Text(pct(&b.id))) } data-testid="bill-link" { code { (Text(&b.id)) } } },
                period(b),
            ];
            if let Some(names) = names {
                let name = names.get(&b.tenant_id).unwrap_or(&b.tenant_id);
                row.push(html! { a href={ "/operator/bills?tenant=" (Text(pct(&b.tenant_id))) } { (Text(name)) } });
            }
            row.extend([
                text(format!("{} {}", minutes(b.usage_secs), t("bl-min"))),
                text(money(lang, &b.currency, b.total_micros)),
                time_opt(b.closed_at.as_ref()),
            ]);
            row
        })
        .collect();
    let mut head = vec![t("bl-col-bill"), t("bl-col-period")];
    if names.is_some() {
        head.push(t("bl-col-tenant"));
    }
    head.extend([t("bl-usage"), t("bl-total"), t("bl-closed-at")]);
    table(lang, &t("bl-closed-bills"), "bills", &head, rows)
}

/// `GET /console/bills`: the tenant's open statement and closed bills.
pub async fn tenant_bills(State(state): State<AppState>, user: SignedIn) -> Response {
    let lang = user.lang;
    let (open, closed) = tokio::join!(
        state.ctl.get::<Bill>("/v1/bills/current", user.token()),
        state
            .ctl
            .get::<ListPage<Bill>>("/v1/bills?limit=24", user.token()),
    );
    let open = load!(state, user, open);
    let closed = load!(state, user, closed);
    let body = html! {
        h1 { (lang.t("bl-title")) }
        p class="muted" { (lang.t("bl-intro")) }
        h2 { (lang.t("bl-current")) }
        (statement(lang, &user, &open))
        h2 { (lang.t("bl-closed-bills")) }
        (bill_list(lang, &user, &closed.items, None))
    };
    crate::layout::render(
        Page::console(lang.t("bl-title"), &user, "/console/bills", body).page_id("bills"),
    )
}

/// `GET /console/bills/{id}` and `GET /operator/bills/{id}`: one bill.
pub async fn bill(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<String>,
) -> Response {
    let lang = user.lang;
    let b = load!(
        state,
        user,
        state
            .ctl
            .get::<Bill>(format!("/v1/bills/{}", pct(&id)), user.token())
            .await
    );
    let title = format!("{} {}", lang.t("bl-bill"), b.id);
    let body = html! {
        h1 { (lang.t("bl-bill")) " " code { (Text(&b.id)) } }
        p { a href=(base(&user)) { (lang.t("bl-all")) } }
        (statement(lang, &user, &b))
    };
    crate::layout::render(Page::console(title, &user, base(&user), body).page_id("bill"))
}

#[derive(Debug, Default, Deserialize)]
pub struct OperatorQ {
    /// One tenant's statement and bills.
    pub tenant: Option<String>,
    /// Every tenant's bills of the period starting then (RFC 3339).
    pub period: Option<String>,
    pub cursor: Option<String>,
}

/// `GET /operator/bills`: every tenant's bills of one period, or one tenant's.
pub async fn operator_bills(
    State(state): State<AppState>,
    user: SignedIn,
    Query(q): Query<OperatorQ>,
) -> Response {
    let lang = user.lang;
    let tenants = load!(
        state,
        user,
        state
            .ctl
            .get::<ListPage<Tenant>>("/v1/tenants?limit=200", user.token())
            .await
    );
    let names: HashMap<String, String> = tenants
        .items
        .iter()
        .map(|t| (t.id.clone(), t.name.clone()))
        .collect();
    let picker = html! {
        form method="get" class="inline-form" data-testid="bill-tenant-picker" {
            label for="bl-tenant" { (lang.t("bl-col-tenant")) }
            select id="bl-tenant" name="tenant" {
                option value="" { (lang.t("bl-every-tenant")) }
                @for t in &tenants.items {
                    option value=(Text(&t.id)) selected[q.tenant.as_deref() == Some(&t.id)] { (Text(&t.name)) }
                }
            }
            button type="submit" { (lang.t("cp-show")) }
        }
    };
    let body = if let Some(tenant) = q.tenant.as_deref().filter(|t| !t.is_empty()) {
        let (open, closed) = tokio::join!(
            state.ctl.get::<Bill>(
                format!("/v1/bills/current?tenant_id={}", pct(tenant)),
                user.token()
            ),
            state.ctl.get::<ListPage<Bill>>(
                format!("/v1/bills?limit=24&tenant_id={}", pct(tenant)),
                user.token()
            ),
        );
        let open = load!(state, user, open);
        let closed = load!(state, user, closed);
        let name = names.get(tenant).map_or(tenant, String::as_str);
        html! {
            h1 { (lang.t("bl-title")) ": " (Text(name)) }
            (picker)
            h2 { (lang.t("bl-current")) }
            (statement(lang, &user, &open))
            h2 { (lang.t("bl-closed-bills")) }
            (bill_list(lang, &user, &closed.items, None))
        }
    } else {
        let mut api = "/v1/bills?limit=100".to_owned();
        if let Some(p) = q.period.as_deref().and_then(|p| Timestamp::parse(p).ok()) {
            api.push_str(&format!("&period_start={}", pct(&p.to_string())));
        }
        if let Some(c) = q.cursor.as_deref().filter(|c| !c.is_empty()) {
            api.push_str(&format!("&cursor={}", pct(c)));
        }
        let page = load!(
            state,
            user,
            state.ctl.get::<ListPage<Bill>>(api, user.token()).await
        );
        let total: i64 = page.items.iter().map(|b| b.total_micros).sum();
        let currency = page.items.first().map(|b| b.currency.clone());
        html! {
            h1 { (lang.t("bl-title")) }
            p class="muted" { (lang.t("bl-op-intro")) }
            (picker)
            @if let (Some(first), Some(c)) = (page.items.first(), currency) {
                p data-testid="bills-period" { (period(first)) ": " strong data-testid="bills-sum" { (money(lang, &c, total)) } }
            }
            (bill_list(lang, &user, &page.items, Some(&names)))
            @if let (Some(c), Some(first)) = (&page.next_cursor, page.items.first()) {
                p { a href={ "/operator/bills?period=" (Text(pct(&first.period_start.to_string()))) "&cursor=" (Text(pct(c))) } data-testid="next-page" { (lang.t("next-page")) } }
            }
        }
    };
    crate::layout::render(
        Page::console(lang.t("bl-title"), &user, "/operator/bills", body).page_id("bills"),
    )
}
