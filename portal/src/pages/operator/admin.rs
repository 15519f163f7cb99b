//! The commercial side: `/operator/tenants` (list, create, suspend / reactivate),
//! `/operator/orders` (list with a tenant filter, create, cancel) and `/operator/specs` (list,
//! create). Changes are `data-api` forms and buttons sent by `app.js` through `/api`.

use super::{
    all, api_button, api_form, console, is_admin, list, load, name_of, names, next_link, operator,
    viewer_note, wire_name,
};
use crate::AppState;
use crate::auth::SignedIn;
use crate::html::legacy::{Html, attr, esc, table, time};
use crate::html::{money, pct};
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
                Html::default()
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
                Html::trusted(format!(
                    "<span data-testid=\"tenant-name\">{}</span><br><code>{}</code>",
                    esc(&t.name),
                    esc(&t.id)
                )),
                Html::trusted(format!(
                    "<span class=\"badge tenant-{s}\" data-testid=\"tenant-status\">{s}</span>",
                    s = attr(&status)
                )),
                esc(t.priority_tier),
                time(&t.created_at),
                Html::trusted(format!(
                    "<a href=\"/operator/orders?tenant_id={tid}\" data-testid=\"tenant-orders-link\">Orders</a> · \
                     <a href=\"/operator/audit?tenant_id={tid}\" data-testid=\"tenant-audit-link\">Audit</a>",
                    tid = attr(&tid)
                )),
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
            "<label for=\"t-name\">Name</label><input id=\"t-name\" name=\"name\" required maxlength=\"100\" data-testid=\"tenant-name-input\">\
             <label for=\"t-tier\">Priority tier (higher tiers are served first when capacity is short)</label>\
             <input id=\"t-tier\" name=\"priority_tier\" type=\"number\" value=\"0\" data-kind=\"int\" data-testid=\"tenant-tier-input\">\
             <button type=\"submit\" class=\"primary\" data-testid=\"create-tenant-submit\">Create tenant</button>\
             <p class=\"muted\">Create the tenant's first admin account with the controller's API (<code>POST /v1/accounts</code>).</p>",
        )
    } else {
        viewer_note()
    };
    let body = Html::trusted(format!(
        "<h1>Tenants</h1>{}{}<section class=\"card\"><h2>New tenant</h2>{form}</section>",
        table(
            "Tenants",
            "tenants",
            &["Tenant", "Status", "Tier", "Created", "", ""],
            rows
        ),
        next_link("/operator/tenants", page.next_cursor.as_ref()),
    ));
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
                Html::trusted(format!("<code>{}</code>", esc(&o.id))),
                esc(name_of(&tenant_names, &o.tenant_id)),
                esc(&o.spec_id),
                esc(scope),
                esc(o.concurrency),
                time(&o.valid_from),
                time(&o.valid_until),
                esc(o.priority),
                Html::trusted(format!(
                    "<span class=\"badge\" data-testid=\"order-status\">{status}</span>"
                )),
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
                    Html::default()
                },
            ]
        })
        .collect();
    let tenant_opts = |selected: Option<&str>, blank: &str| -> String {
        let mut s = format!("<option value=\"\">{}</option>", esc(blank));
        for t in &tenants {
            let sel = if selected == Some(t.id.as_str()) {
                " selected"
            } else {
                ""
            };
            s.push_str(&format!(
                "<option value=\"{}\"{sel}>{}</option>",
                attr(&t.id),
                esc(&t.name)
            ));
        }
        s
    };
    let filter = format!(
        "<form method=\"get\" action=\"/operator/orders\" class=\"inline-form\" data-testid=\"orders-filter\">\
         <label for=\"of-tenant\">Tenant</label><select id=\"of-tenant\" name=\"tenant_id\" data-testid=\"orders-filter-tenant\">{}</select>\
         <button type=\"submit\" data-testid=\"orders-filter-submit\">Show</button></form>",
        tenant_opts(tenant, "Every tenant")
    );
    let form = if !admin {
        viewer_note()
    } else if tenants.is_empty() || specs.is_empty() {
        Html::trusted("<p>Create a tenant and a spec first.</p>")
    } else {
        let spec_opts: String = specs
            .iter()
            .map(|s| {
                format!(
                    "<option value=\"{}\">{} ({})</option>",
                    attr(&s.id),
                    esc(&s.name),
                    esc(&s.id)
                )
            })
            .collect();
        let region_opts: String =
            std::iter::once("<option value=\"\">— (choose rooms instead)</option>".to_owned())
                .chain(regions.iter().map(|r| {
                    format!(
                        "<option value=\"{}\">{}</option>",
                        attr(&r.id),
                        esc(&r.name)
                    )
                }))
                .collect();
        let room_checks: String = rooms
            .iter()
            .map(|r| {
                format!(
                    "<label class=\"check\"><input type=\"checkbox\" name=\"room_ids\" value=\"{}\" data-kind=\"checks\" data-testid=\"order-room-{}\"> {} <span class=\"muted\">({})</span></label>",
                    attr(&r.id),
                    attr(&r.id),
                    esc(&r.name),
                    esc(name_of(&region_names, &r.region_id))
                )
            })
            .collect();
        api_form(
            "/api/orders",
            "POST",
            "reload",
            "create-order",
            &format!(
                "<label for=\"o-tenant\">Tenant</label><select id=\"o-tenant\" name=\"tenant_id\" required data-testid=\"order-tenant-input\">{tenants}</select>\
                 <label for=\"o-spec\">Spec</label><select id=\"o-spec\" name=\"spec_id\" required data-testid=\"order-spec-input\">{spec_opts}</select>\
                 <label for=\"o-region\">Where: a whole region…</label><select id=\"o-region\" name=\"region_id\" data-testid=\"order-region-input\">{region_opts}</select>\
                 <fieldset><legend>… or these machine rooms (exactly one of the two)</legend>{room_checks}</fieldset>\
                 <label for=\"o-conc\">Concurrency (instances at once)</label><input id=\"o-conc\" name=\"concurrency\" type=\"number\" min=\"1\" required data-kind=\"int\" data-testid=\"order-concurrency-input\">\
                 <label for=\"o-from\">Valid from</label><input id=\"o-from\" name=\"valid_from\" type=\"datetime-local\" required data-kind=\"datetime\" data-testid=\"order-from-input\">\
                 <label for=\"o-until\">Valid until</label><input id=\"o-until\" name=\"valid_until\" type=\"datetime-local\" required data-kind=\"datetime\" data-testid=\"order-until-input\">\
                 <label for=\"o-prio\">Priority within the tenant's tier</label><input id=\"o-prio\" name=\"priority\" type=\"number\" value=\"0\" data-kind=\"int\" data-testid=\"order-priority-input\">\
                 <button type=\"submit\" class=\"primary\" data-testid=\"create-order-submit\">Create order</button>",
                tenants = tenant_opts(tenant, "Choose a tenant"),
            ),
        )
    };
    let next_base = match tenant {
        Some(t) => format!("/operator/orders?tenant_id={}", pct(t)),
        None => "/operator/orders".to_owned(),
    };
    let body = Html::trusted(format!(
        "<h1>Orders</h1>{filter}{}{}<section class=\"card\"><h2>New order</h2>{form}</section>",
        table(
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
        ),
        next_link(&next_base, orders.next_cursor.as_ref()),
    ));
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
                Html::trusted(format!(
                    "<code data-testid=\"spec-id\">{}</code>",
                    esc(&s.id)
                )),
                esc(&s.name),
                esc(format!("{}×{} @ {} fps", s.width, s.height, s.fps)),
                esc(format!(
                    "{}–{} kbit/s",
                    s.bitrate_min_kbps, s.bitrate_max_kbps
                )),
                esc(format!(
                    "{:.2} cores, {} MB",
                    f64::from(s.cpu_millis) / 1000.0,
                    s.memory_mb
                )),
                esc(money(s.price_per_minute_micros)),
            ]
        })
        .collect();
    let form = if is_admin(&user) {
        let num = |id: &str, name: &str, label: &str, min: u32, value: &str| {
            format!(
                "<label for=\"s-{id}\">{label}</label><input id=\"s-{id}\" name=\"{name}\" type=\"number\" min=\"{min}\" value=\"{value}\" required data-kind=\"int\" data-testid=\"spec-{id}-input\">"
            )
        };
        api_form(
            "/api/specs",
            "POST",
            "reload",
            "create-spec",
            &format!(
                "<label for=\"s-id\">Id (lowercase letters, digits and dashes, e.g. <code>hd-60</code>; it cannot change)</label>\
                 <input id=\"s-id\" name=\"id\" required pattern=\"[a-z0-9][a-z0-9\\-]*\" maxlength=\"64\" data-testid=\"spec-id-input\">\
                 <label for=\"s-name\">Name</label><input id=\"s-name\" name=\"name\" required maxlength=\"100\" data-testid=\"spec-name-input\">\
                 {}{}{}{}{}{}{}{}\
                 <p class=\"muted\">Price in micro-units of the platform currency: 1.00 is 1000000.</p>\
                 <button type=\"submit\" class=\"primary\" data-testid=\"create-spec-submit\">Create spec</button>",
                num("width", "width", "Width (px)", 1, "1280"),
                num("height", "height", "Height (px)", 1, "720"),
                num("fps", "fps", "Frames per second", 1, "60"),
                num(
                    "bmin",
                    "bitrate_min_kbps",
                    "Lowest bitrate (kbit/s)",
                    1,
                    "1500"
                ),
                num(
                    "bmax",
                    "bitrate_max_kbps",
                    "Highest bitrate (kbit/s)",
                    1,
                    "6000"
                ),
                num(
                    "cpu",
                    "cpu_millis",
                    "CPU reserved (thousandths of a core)",
                    1,
                    "1000"
                ),
                num("mem", "memory_mb", "Memory reserved (MB)", 1, "2048"),
                num(
                    "price",
                    "price_per_minute_micros",
                    "Price per minute (micro-units)",
                    0,
                    "10000"
                ),
            ),
        )
    } else {
        viewer_note()
    };
    let body = Html::trusted(format!(
        "<h1>Specs</h1><p class=\"muted\">What tenants buy and plays are billed by. Change a spec's \
         bitrate, reservation or price with the controller's API (<code>PATCH /v1/specs/{{id}}</code>).</p>\
         {}<section class=\"card\"><h2>New spec</h2>{form}</section>",
        table(
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
        ),
    ));
    layout::render(console("Specs", &user, "/operator/specs", body).page_id("op-specs"))
}
