//! The commercial side: `/operator/tenants` (list, create, suspend / reactivate),
//! `/operator/orders` (list with a tenant filter, create, cancel) and `/operator/specs` (list,
//! create). Changes are `data-api` forms and buttons sent by `app.js` through `/api`.

use super::{
    all, api_button, api_form, console, heads, is_admin, list, load, name_of, names, next_link,
    operator, rich, strs, t_with, tenant_status_label, viewer_note, wire_name,
};
use crate::AppState;
use crate::auth::SignedIn;
use crate::html::{Markup, Text, html, money, pct, size, table, text, time};
use crate::layout;
use axum::extract::{Query, State};
use axum::response::Response;
use fluent_templates::fluent_bundle::FluentValue;
use playrack_wire::Timestamp;
use playrack_wire::api::{Order, OrderStatus, Region, Room, Spec, Tenant, TenantStatus};
use serde::Deserialize;

/// `?cursor=` on list pages.
#[derive(Debug, Default, Deserialize)]
pub struct CursorQ {
    pub cursor: Option<String>,
}

/// `GET /operator/tenants`.
pub async fn tenants(
    State(state): State<AppState>,
    user: SignedIn,
    Query(q): Query<CursorQ>,
) -> Response {
    operator!(user);
    let page = load!(
        state,
        user,
        list::<Tenant>(&state, &user, "/v1/tenants", 100, q.cursor.as_deref()).await
    );
    let admin = is_admin(&user);
    let lang = user.lang;
    let rows = page
        .items
        .iter()
        .map(|t| {
            let tid = pct(&t.id);
            let status = wire_name(&t.status);
            let action = if !admin {
                Markup::default()
            } else if t.status == TenantStatus::Active {
                api_button(
                    &lang.t("op-tenant-suspend"),
                    &format!("/api/tenants/{tid}"),
                    "PATCH",
                    Some(r#"{"status":"suspended"}"#),
                    Some(&lang.t("op-tenant-suspend-confirm")),
                    "suspend-tenant",
                    "danger small",
                )
            } else {
                api_button(
                    &lang.t("op-tenant-reactivate"),
                    &format!("/api/tenants/{tid}"),
                    "PATCH",
                    Some(r#"{"status":"active"}"#),
                    None,
                    "activate-tenant",
                    "small",
                )
            };
            vec![
                html! {
                    span data-testid="tenant-name" { (Text(&t.name)) }
                    br;
                    code { (Text(&t.id)) }
                },
                html! {
                    span class={ "badge tenant-" (Text(&status)) } data-testid="tenant-status" {
                        (tenant_status_label(lang, t.status))
                    }
                },
                text(t.priority_tier),
                html! {
                    span data-testid="tenant-storage" {
                        (t_with(lang, "op-tenant-storage-value", &[
                            ("used", size(t.package_bytes)),
                            ("quota", size(t.storage_quota_bytes)),
                        ]))
                    }
                },
                time(&t.created_at),
                html! {
                    a href={ "/operator/orders?tenant_id=" (Text(&tid)) }
                        data-testid="tenant-orders-link" { (lang.t("op-tenant-orders")) }
                    " · "
                    a href={ "/operator/audit?tenant_id=" (Text(&tid)) }
                        data-testid="tenant-audit-link" { (lang.t("op-tenant-audit")) }
                },
                action,
            ]
        })
        .collect();
    let form = if admin {
        api_form(
            "/api/tenants",
            "POST",
            "reload",
            "create-tenant",
            html! {
                label for="t-name" { (lang.t("op-col-name")) }
                input id="t-name" name="name" required maxlength="100"
                    data-testid="tenant-name-input";
                label for="t-tier" { (lang.t("op-tenant-tier-label")) }
                input id="t-tier" name="priority_tier" type="number" value="0" data-kind="int"
                    data-testid="tenant-tier-input";
                button type="submit" class="primary" data-testid="create-tenant-submit" {
                    (lang.t("op-tenant-create"))
                }
                p class="muted" {
                    (rich(lang, "op-tenant-first-admin", &[
                        ("api", html! { code { "POST /v1/accounts" } }),
                    ]))
                }
            },
        )
    } else {
        viewer_note(lang)
    };
    let head = heads(
        lang,
        &[
            "op-col-tenant",
            "op-col-status",
            "op-col-tier",
            "op-col-storage",
            "op-col-created",
            "",
            "",
        ],
    );
    let body = html! {
        h1 { (lang.t("op-tenants-title")) }
        (table(
            lang,
            &lang.t("op-tenants-title"),
            "tenants",
            &strs(&head),
            rows
        ))
        (next_link(lang, "/operator/tenants", page.next_cursor.as_ref()))
        section class="card" { h2 { (lang.t("op-tenant-new")) } (form) }
    };
    layout::render(
        console(lang.t("op-tenants-title"), &user, "/operator/tenants", body).page_id("op-tenants"),
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct OrdersQ {
    pub tenant_id: Option<String>,
    pub cursor: Option<String>,
}

/// `GET /operator/orders`.
pub async fn orders(
    State(state): State<AppState>,
    user: SignedIn,
    Query(q): Query<OrdersQ>,
) -> Response {
    operator!(user);
    let tenant = q.tenant_id.as_deref().filter(|t| !t.is_empty());
    let base = match tenant {
        Some(t) => format!("/v1/orders?tenant_id={}", pct(t)),
        None => "/v1/orders".to_owned(),
    };
    let (orders, tenants, specs, regions, rooms) = tokio::join!(
        list::<Order>(&state, &user, &base, 100, q.cursor.as_deref()),
        all::<Tenant>(&state, &user, "/v1/tenants", 10),
        all::<Spec>(&state, &user, "/v1/specs", 5),
        all::<Region>(&state, &user, "/v1/regions", 5),
        all::<Room>(&state, &user, "/v1/rooms", 10),
    );
    let orders = load!(state, user, orders);
    let (tenants, _) = load!(state, user, tenants);
    let (specs, _) = load!(state, user, specs);
    let (regions, _) = load!(state, user, regions);
    let (rooms, _) = load!(state, user, rooms);
    let tenant_names = names(&tenants, |t| (&t.id, &t.name));
    let region_names = names(&regions, |r| (&r.id, &r.name));
    let room_names = names(&rooms, |r| (&r.id, &r.name));
    let admin = is_admin(&user);
    let lang = user.lang;
    let sep = lang.t("op-list-sep");
    let now = Timestamp::now();
    let rows = orders
        .items
        .iter()
        .map(|o| {
            let scope = match &o.region_id {
                Some(r) => t_with(
                    lang,
                    "op-order-scope-region",
                    &[("name", name_of(&region_names, r).to_owned())],
                ),
                None => {
                    let rooms = o
                        .room_ids
                        .iter()
                        .map(|r| name_of(&room_names, r))
                        .collect::<Vec<_>>()
                        .join(&sep);
                    let n = FluentValue::from(o.room_ids.len());
                    lang.t_args(
                        "op-order-scope-rooms",
                        &[("n", n), ("names", FluentValue::from(rooms))],
                    )
                }
            };
            let status = lang.t(if o.status == OrderStatus::Cancelled {
                "op-order-cancelled"
            } else if o.valid_until <= now {
                "op-order-expired"
            } else if o.valid_from > now {
                "op-order-scheduled"
            } else {
                "op-order-active"
            });
            vec![
                html! {
                    code { (Text(&o.id)) } " "
                    a href={ "/operator/history/" (Text(pct(&o.id))) } data-testid="history-link" {
                        (lang.t("hist-link"))
                    }
                },
                text(name_of(&tenant_names, &o.tenant_id)),
                text(&o.spec_id),
                text(scope),
                text(o.concurrency),
                time(&o.valid_from),
                time(&o.valid_until),
                text(o.priority),
                html! { span class="badge" data-testid="order-status" { (status) } },
                if admin && o.status == OrderStatus::Active {
                    api_button(
                        &lang.t("op-order-cancel"),
                        &format!("/api/orders/{}", pct(&o.id)),
                        "PATCH",
                        Some(r#"{"status":"cancelled"}"#),
                        Some(&lang.t("op-order-cancel-confirm")),
                        "cancel-order",
                        "danger small",
                    )
                } else {
                    Markup::default()
                },
            ]
        })
        .collect();
    let tenant_opts = |selected: Option<&str>, blank: &str| {
        html! {
            option value="" { (blank) }
            @for t in &tenants {
                option value=(Text(&t.id)) selected[selected == Some(t.id.as_str())] {
                    (Text(&t.name))
                }
            }
        }
    };
    let filter = html! {
        form method="get" action="/operator/orders" class="inline-form"
            data-testid="orders-filter"
        {
            label for="of-tenant" { (lang.t("op-col-tenant")) }
            select id="of-tenant" name="tenant_id" data-testid="orders-filter-tenant" {
                (tenant_opts(tenant, &lang.t("op-order-every-tenant")))
            }
            button type="submit" data-testid="orders-filter-submit" { (lang.t("op-order-show")) }
        }
    };
    let form = if !admin {
        viewer_note(lang)
    } else if tenants.is_empty() || specs.is_empty() {
        html! { p { (lang.t("op-order-needs")) } }
    } else {
        api_form(
            "/api/orders",
            "POST",
            "reload",
            "create-order",
            html! {
                label for="o-tenant" { (lang.t("op-col-tenant")) }
                select id="o-tenant" name="tenant_id" required data-testid="order-tenant-input" {
                    (tenant_opts(tenant, &lang.t("op-order-choose-tenant")))
                }
                label for="o-spec" { (lang.t("op-col-spec")) }
                select id="o-spec" name="spec_id" required data-testid="order-spec-input" {
                    @for s in &specs {
                        option value=(Text(&s.id)) { (Text(&s.name)) " (" (Text(&s.id)) ")" }
                    }
                }
                label for="o-region" { (lang.t("op-order-region")) }
                select id="o-region" name="region_id" data-testid="order-region-input" {
                    option value="" { (lang.t("op-order-no-region")) }
                    @for r in &regions {
                        option value=(Text(&r.id)) { (Text(&r.name)) }
                    }
                }
                fieldset {
                    legend { (lang.t("op-order-rooms")) }
                    @for r in &rooms {
                        label class="check" {
                            input type="checkbox" name="room_ids" value=(Text(&r.id))
                                data-kind="checks" data-testid={ "order-room-" (Text(&r.id)) };
                            " " (Text(&r.name)) " "
                            span class="muted" {
                                (rich(lang, "op-order-room-region", &[(
                                    "region",
                                    html! { (Text(name_of(&region_names, &r.region_id))) },
                                )]))
                            }
                        }
                    }
                }
                label for="o-conc" { (lang.t("op-order-concurrency")) }
                input id="o-conc" name="concurrency" type="number" min="1" required
                    data-kind="int" data-testid="order-concurrency-input";
                label for="o-from" { (lang.t("op-order-from")) }
                input id="o-from" name="valid_from" type="datetime-local" required
                    data-kind="datetime" data-testid="order-from-input";
                label for="o-until" { (lang.t("op-order-until")) }
                input id="o-until" name="valid_until" type="datetime-local" required
                    data-kind="datetime" data-testid="order-until-input";
                label for="o-prio" { (lang.t("op-order-priority")) }
                input id="o-prio" name="priority" type="number" value="0" data-kind="int"
                    data-testid="order-priority-input";
                button type="submit" class="primary" data-testid="create-order-submit" {
                    (lang.t("op-order-create"))
                }
            },
        )
    };
    let next_base = match tenant {
        Some(t) => format!("/operator/orders?tenant_id={}", pct(t)),
        None => "/operator/orders".to_owned(),
    };
    let head = heads(
        lang,
        &[
            "op-col-order",
            "op-col-tenant",
            "op-col-spec",
            "op-col-where",
            "op-col-concurrency",
            "op-col-from",
            "op-col-until",
            "op-col-priority",
            "op-col-status",
            "",
        ],
    );
    let body = html! {
        h1 { (lang.t("op-orders-title")) }
        (filter)
        (table(
            lang,
            &lang.t("op-orders-title"),
            "orders",
            &strs(&head),
            rows
        ))
        (next_link(lang, &next_base, orders.next_cursor.as_ref()))
        section class="card" { h2 { (lang.t("op-order-new")) } (form) }
    };
    layout::render(
        console(lang.t("op-orders-title"), &user, "/operator/orders", body).page_id("op-orders"),
    )
}

/// `GET /operator/specs`.
pub async fn specs(State(state): State<AppState>, user: SignedIn) -> Response {
    operator!(user);
    let (specs, _) = load!(
        state,
        user,
        all::<Spec>(&state, &user, "/v1/specs", 5).await
    );
    let lang = user.lang;
    let rows = specs
        .iter()
        .map(|s| {
            vec![
                html! { code data-testid="spec-id" { (Text(&s.id)) } },
                text(&s.name),
                text(format!("{}×{} @ {} fps", s.width, s.height, s.fps)),
                text(format!(
                    "{}–{} kbit/s",
                    s.bitrate_min_kbps, s.bitrate_max_kbps
                )),
                text(t_with(
                    lang,
                    "op-spec-reserves-value",
                    &[
                        ("cores", format!("{:.2}", f64::from(s.cpu_millis) / 1000.0)),
                        ("mb", s.memory_mb.to_string()),
                    ],
                )),
                text(money(
                    lang,
                    &state.config.currency,
                    s.price_per_minute_micros,
                )),
            ]
        })
        .collect();
    let form = if is_admin(&user) {
        let num = |id: &str, name: &str, label: &str, min: u32, value: &str| {
            html! {
                label for={ "s-" (id) } { (lang.t(label)) }
                input id={ "s-" (id) } name=(name) type="number" min=(min) value=(value) required
                    data-kind="int" data-testid={ "spec-" (id) "-input" };
            }
        };
        api_form(
            "/api/specs",
            "POST",
            "reload",
            "create-spec",
            html! {
                label for="s-id" {
                    (rich(lang, "op-spec-id-label", &[("example", html! { code { "hd-60" } })]))
                }
                input id="s-id" name="id" required pattern="[a-z0-9][a-z0-9\\-]*" maxlength="64"
                    data-testid="spec-id-input";
                label for="s-name" { (lang.t("op-col-name")) }
                input id="s-name" name="name" required maxlength="100"
                    data-testid="spec-name-input";
                (num("width", "width", "op-spec-width", 1, "1280"))
                (num("height", "height", "op-spec-height", 1, "720"))
                (num("fps", "fps", "op-spec-fps", 1, "60"))
                (num("bmin", "bitrate_min_kbps", "op-spec-bitrate-min", 1, "1500"))
                (num("bmax", "bitrate_max_kbps", "op-spec-bitrate-max", 1, "6000"))
                (num("cpu", "cpu_millis", "op-spec-cpu", 1, "1000"))
                (num("mem", "memory_mb", "op-spec-mem", 1, "2048"))
                (num(
                    "price",
                    "price_per_minute_micros",
                    "op-spec-price",
                    0,
                    "10000"
                ))
                p class="muted" { (lang.t("op-spec-price-hint")) }
                button type="submit" class="primary" data-testid="create-spec-submit" {
                    (lang.t("op-spec-create"))
                }
            },
        )
    } else {
        viewer_note(lang)
    };
    let head = heads(
        lang,
        &[
            "op-col-id",
            "op-col-name",
            "op-col-video",
            "op-col-bitrate",
            "op-col-reserves",
            "op-col-price",
        ],
    );
    let body = html! {
        h1 { (lang.t("op-specs-title")) }
        p class="muted" {
            (rich(lang, "op-specs-intro", &[("api", html! { code { "PATCH /v1/specs/{id}" } })]))
        }
        (table(
            lang,
            &lang.t("op-specs-title"),
            "specs",
            &strs(&head),
            rows
        ))
        section class="card" { h2 { (lang.t("op-spec-new")) } (form) }
    };
    layout::render(
        console(lang.t("op-specs-title"), &user, "/operator/specs", body).page_id("op-specs"),
    )
}
