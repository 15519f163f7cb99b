//! The commercial side: `/operator/tenants` (list, create, suspend / reactivate),
//! `/operator/orders` (list with a tenant filter, create, cancel) and `/operator/specs` (list,
//! create). Changes are `data-api` forms and buttons sent by `app.js` through `/api`.

use super::{
    all, api_button, api_form, console, is_admin, list, load, name_of, names, next_link, operator,
    viewer_note, wire_name,
};
use crate::AppState;
use crate::auth::SignedIn;
use crate::html::{Markup, Text, html, money, pct, size, table, text, time};
use crate::layout;
use axum::extract::{Query, State};
use axum::response::Response;
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
                    "Suspend",
                    &format!("/api/tenants/{tid}"),
                    "PATCH",
                    Some(r#"{"status":"suspended"}"#),
                    Some("Suspend this tenant? Its players can no longer start plays."),
                    "suspend-tenant",
                    "danger small",
                )
            } else {
                api_button(
                    "Reactivate",
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
                        (Text(&status))
                    }
                },
                text(t.priority_tier),
                html! {
                    span data-testid="tenant-storage" {
                        (size(t.package_bytes)) " of " (size(t.storage_quota_bytes))
                    }
                },
                time(&t.created_at),
                html! {
                    a href={ "/operator/orders?tenant_id=" (Text(&tid)) }
                        data-testid="tenant-orders-link" { "Orders" }
                    " · "
                    a href={ "/operator/audit?tenant_id=" (Text(&tid)) }
                        data-testid="tenant-audit-link" { "Audit" }
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
                label for="t-name" { "Name" }
                input id="t-name" name="name" required maxlength="100"
                    data-testid="tenant-name-input";
                label for="t-tier" {
                    "Priority tier (higher tiers are served first when capacity is short)"
                }
                input id="t-tier" name="priority_tier" type="number" value="0" data-kind="int"
                    data-testid="tenant-tier-input";
                button type="submit" class="primary" data-testid="create-tenant-submit" {
                    "Create tenant"
                }
                p class="muted" {
                    "Create the tenant's first admin account with the controller's API ("
                    code { "POST /v1/accounts" } ")."
                }
            },
        )
    } else {
        viewer_note()
    };
    let body = html! {
        h1 { "Tenants" }
        (table(
            "Tenants",
            "tenants",
            &["Tenant", "Status", "Tier", "Storage", "Created", "", ""],
            rows
        ))
        (next_link("/operator/tenants", page.next_cursor.as_ref()))
        section class="card" { h2 { "New tenant" } (form) }
    };
    layout::render(console("Tenants", &user, "/operator/tenants", body).page_id("op-tenants"))
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
    let now = Timestamp::now();
    let rows = orders
        .items
        .iter()
        .map(|o| {
            let scope = match &o.region_id {
                Some(r) => format!("region {}", name_of(&region_names, r)),
                None => format!(
                    "room{} {}",
                    if o.room_ids.len() == 1 { "" } else { "s" },
                    o.room_ids
                        .iter()
                        .map(|r| name_of(&room_names, r))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let status = if o.status == OrderStatus::Cancelled {
                "cancelled"
            } else if o.valid_until <= now {
                "expired"
            } else if o.valid_from > now {
                "scheduled"
            } else {
                "active"
            };
            vec![
                html! { code { (Text(&o.id)) } },
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
                        "Cancel",
                        &format!("/api/orders/{}", pct(&o.id)),
                        "PATCH",
                        Some(r#"{"status":"cancelled"}"#),
                        Some("Cancel this order? The tenant's plays beyond its other orders wait in the queue."),
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
            label for="of-tenant" { "Tenant" }
            select id="of-tenant" name="tenant_id" data-testid="orders-filter-tenant" {
                (tenant_opts(tenant, "Every tenant"))
            }
            button type="submit" data-testid="orders-filter-submit" { "Show" }
        }
    };
    let form = if !admin {
        viewer_note()
    } else if tenants.is_empty() || specs.is_empty() {
        html! { p { "Create a tenant and a spec first." } }
    } else {
        api_form(
            "/api/orders",
            "POST",
            "reload",
            "create-order",
            html! {
                label for="o-tenant" { "Tenant" }
                select id="o-tenant" name="tenant_id" required data-testid="order-tenant-input" {
                    (tenant_opts(tenant, "Choose a tenant"))
                }
                label for="o-spec" { "Spec" }
                select id="o-spec" name="spec_id" required data-testid="order-spec-input" {
                    @for s in &specs {
                        option value=(Text(&s.id)) { (Text(&s.name)) " (" (Text(&s.id)) ")" }
                    }
                }
                label for="o-region" { "Where: a whole region…" }
                select id="o-region" name="region_id" data-testid="order-region-input" {
                    option value="" { "— (choose rooms instead)" }
                    @for r in &regions {
                        option value=(Text(&r.id)) { (Text(&r.name)) }
                    }
                }
                fieldset {
                    legend { "… or these machine rooms (exactly one of the two)" }
                    @for r in &rooms {
                        label class="check" {
                            input type="checkbox" name="room_ids" value=(Text(&r.id))
                                data-kind="checks" data-testid={ "order-room-" (Text(&r.id)) };
                            " " (Text(&r.name)) " "
                            span class="muted" {
                                "(" (Text(name_of(&region_names, &r.region_id))) ")"
                            }
                        }
                    }
                }
                label for="o-conc" { "Concurrency (instances at once)" }
                input id="o-conc" name="concurrency" type="number" min="1" required
                    data-kind="int" data-testid="order-concurrency-input";
                label for="o-from" { "Valid from" }
                input id="o-from" name="valid_from" type="datetime-local" required
                    data-kind="datetime" data-testid="order-from-input";
                label for="o-until" { "Valid until" }
                input id="o-until" name="valid_until" type="datetime-local" required
                    data-kind="datetime" data-testid="order-until-input";
                label for="o-prio" { "Priority within the tenant's tier" }
                input id="o-prio" name="priority" type="number" value="0" data-kind="int"
                    data-testid="order-priority-input";
                button type="submit" class="primary" data-testid="create-order-submit" {
                    "Create order"
                }
            },
        )
    };
    let next_base = match tenant {
        Some(t) => format!("/operator/orders?tenant_id={}", pct(t)),
        None => "/operator/orders".to_owned(),
    };
    let body = html! {
        h1 { "Orders" }
        (filter)
        (table(
            "Orders",
            "orders",
            &[
                "Order",
                "Tenant",
                "Spec",
                "Where",
                "Concurrency",
                "From",
                "Until",
                "Priority",
                "Status",
                ""
            ],
            rows
        ))
        (next_link(&next_base, orders.next_cursor.as_ref()))
        section class="card" { h2 { "New order" } (form) }
    };
    layout::render(console("Orders", &user, "/operator/orders", body).page_id("op-orders"))
}

/// `GET /operator/specs`.
pub async fn specs(State(state): State<AppState>, user: SignedIn) -> Response {
    operator!(user);
    let (specs, _) = load!(
        state,
        user,
        all::<Spec>(&state, &user, "/v1/specs", 5).await
    );
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
                text(format!(
                    "{:.2} cores, {} MB",
                    f64::from(s.cpu_millis) / 1000.0,
                    s.memory_mb
                )),
                text(money(s.price_per_minute_micros)),
            ]
        })
        .collect();
    let form = if is_admin(&user) {
        let num = |id: &str, name: &str, label: &str, min: u32, value: &str| {
            html! {
                label for={ "s-" (id) } { (label) }
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
                    "Id (lowercase letters, digits and dashes, e.g. " code { "hd-60" }
                    "; it cannot change)"
                }
                input id="s-id" name="id" required pattern="[a-z0-9][a-z0-9\\-]*" maxlength="64"
                    data-testid="spec-id-input";
                label for="s-name" { "Name" }
                input id="s-name" name="name" required maxlength="100"
                    data-testid="spec-name-input";
                (num("width", "width", "Width (px)", 1, "1280"))
                (num("height", "height", "Height (px)", 1, "720"))
                (num("fps", "fps", "Frames per second", 1, "60"))
                (num("bmin", "bitrate_min_kbps", "Lowest bitrate (kbit/s)", 1, "1500"))
                (num("bmax", "bitrate_max_kbps", "Highest bitrate (kbit/s)", 1, "6000"))
                (num("cpu", "cpu_millis", "CPU reserved (thousandths of a core)", 1, "1000"))
                (num("mem", "memory_mb", "Memory reserved (MB)", 1, "2048"))
                (num(
                    "price",
                    "price_per_minute_micros",
                    "Price per minute (micro-units)",
                    0,
                    "10000"
                ))
                p class="muted" {
                    "Price in micro-units of the platform currency: 1.00 is 1000000."
                }
                button type="submit" class="primary" data-testid="create-spec-submit" {
                    "Create spec"
                }
            },
        )
    } else {
        viewer_note()
    };
    let body = html! {
        h1 { "Specs" }
        p class="muted" {
            "What tenants buy and plays are billed by. Change a spec's bitrate, reservation or \
             price with the controller's API (" code { "PATCH /v1/specs/{id}" } ")."
        }
        (table(
            "Specs",
            "specs",
            &[
                "Id",
                "Name",
                "Video",
                "Bitrate",
                "Reserves",
                "Price / minute"
            ],
            rows
        ))
        section class="card" { h2 { "New spec" } (form) }
    };
    layout::render(console("Specs", &user, "/operator/specs", body).page_id("op-specs"))
}
