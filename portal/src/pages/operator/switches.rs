//! `GET /operator/switches`: the degrade switches that are on — what each stops, where, why,
//! since when and by whom, with its history and (admins) a button that turns it off — and the
//! form that turns one on for the platform, a region, a room or a tenant.

use super::{all, console, heads, is_admin, name_of, names, operator, strs, t_with, viewer_note};
use crate::AppState;
use crate::auth::SignedIn;
use crate::html::{Text, api_button, api_form, html, pct, table, text, time};
use crate::layout;
use crate::pages::load;
use axum::extract::State;
use axum::response::Response;
use playrack_wire::api::{Region, Room, Switch, SwitchName, Tenant};

/// `GET /operator/switches`.
pub async fn switches(State(state): State<AppState>, user: SignedIn) -> Response {
    operator!(user);
    let (on, tenants, regions, rooms) = tokio::join!(
        state.ctl.get::<Vec<Switch>>("/v1/switches", user.token()),
        all::<Tenant>(&state, &user, "/v1/tenants", 10),
        all::<Region>(&state, &user, "/v1/regions", 5),
        all::<Room>(&state, &user, "/v1/rooms", 10),
    );
    let on = load!(state, user, on);
    let (tenants, _) = load!(state, user, tenants);
    let (regions, _) = load!(state, user, regions);
    let (rooms, _) = load!(state, user, rooms);
    let lang = user.lang;
    let admin = is_admin(&user);
    let tenant_names = names(&tenants, |t| (&t.id, &t.name));
    let region_names = names(&regions, |r| (&r.id, &r.name));
    let room_names = names(&rooms, |r| (&r.id, &r.name));
    // A scope as people say it: "Platform", "Region east", "Room r1", "Tenant Acme".
    let scope_label = |scope: &str| -> String {
        let (kind, id) = scope.split_once(':').unwrap_or((scope, ""));
        match kind {
            "region" => t_with(
                lang,
                "op-sw-scope-region",
                &[("name", name_of(&region_names, id).into())],
            ),
            "room" => t_with(
                lang,
                "op-sw-scope-room",
                &[("name", name_of(&room_names, id).into())],
            ),
            "tenant" => t_with(
                lang,
                "op-sw-scope-tenant",
                &[("name", name_of(&tenant_names, id).into())],
            ),
            _ => lang.t("op-sw-scope-platform"),
        }
    };
    let rows = on
        .iter()
        .map(|s| {
            let name = s.name.as_str();
            let object = format!("switch:{name}@{}", s.scope);
            vec![
                html! {
                    strong data-testid="switch-name" { (lang.t(&format!("op-sw-name-{name}"))) }
                    br;
                    span class="muted" { (lang.t(&format!("op-sw-does-{name}"))) }
                },
                html! { span data-testid="switch-scope" data-scope=(Text(&s.scope)) { (Text(scope_label(&s.scope))) } },
                text(s.note.as_deref().unwrap_or("—")),
                time(&s.since),
                html! { code { (Text(&s.by)) } },
                html! {
                    a href={ "/operator/history/" (Text(pct(&object))) } data-testid="history-link" {
                        (lang.t("hist-link"))
                    }
                    @if admin {
                        " "
                        (api_button(
                            &lang.t("op-sw-off"),
                            &format!("/api/switches/{name}?scope={}", pct(&s.scope)),
                            "DELETE",
                            None,
                            Some(&lang.t("op-sw-off-confirm")),
                            "switch-off",
                            "small",
                        ))
                    }
                },
            ]
        })
        .collect();
    let form = if admin {
        api_form(
            "/api/switches",
            "PUT",
            "reload",
            "switch-on",
            html! {
                label for="sw-name" { (lang.t("op-sw-name")) }
                select id="sw-name" name="name" required data-testid="switch-name-input" {
                    @for n in SwitchName::ALL {
                        option value=(n.as_str()) {
                            (lang.t(&format!("op-sw-name-{}", n.as_str())))
                        }
                    }
                }
                label for="sw-scope" { (lang.t("op-sw-scope")) }
                select id="sw-scope" name="scope" required data-testid="switch-scope-input" {
                    option value="platform" { (lang.t("op-sw-scope-platform")) }
                    @for t in &tenants {
                        option value={ "tenant:" (Text(&t.id)) } { (Text(scope_label(&format!("tenant:{}", t.id)))) }
                    }
                    @for r in &regions {
                        option value={ "region:" (Text(&r.id)) } { (Text(scope_label(&format!("region:{}", r.id)))) }
                    }
                    @for r in &rooms {
                        option value={ "room:" (Text(&r.id)) } { (Text(scope_label(&format!("room:{}", r.id)))) }
                    }
                }
                p class="muted" { (lang.t("op-sw-scope-hint")) }
                label for="sw-note" { (lang.t("op-sw-note")) }
                input id="sw-note" name="note" maxlength="200" data-testid="switch-note-input";
                button type="submit" class="danger" data-testid="switch-on-submit" {
                    (lang.t("op-sw-on"))
                }
            },
        )
    } else {
        viewer_note(lang)
    };
    let head = heads(
        lang,
        &[
            "op-sw-col-switch",
            "op-sw-col-scope",
            "op-sw-col-note",
            "op-sw-col-since",
            "op-sw-col-by",
        ],
    );
    let mut head = strs(&head);
    head.push("");
    let body = html! {
        h1 { (lang.t("op-sw-title")) }
        p class="muted" { (lang.t("op-sw-intro")) }
        (table(lang, &lang.t("op-sw-caption"), "switches", &head, rows))
        section class="card" { h2 { (lang.t("op-sw-new")) } (form) }
    };
    layout::render(
        console(lang.t("op-sw-title"), &user, "/operator/switches", body).page_id("op-switches"),
    )
}

#[cfg(test)]
mod tests {
    use crate::i18n::Lang;
    use playrack_wire::api::SwitchName;

    #[test]
    fn every_switch_has_its_words_in_every_language() {
        for lang in Lang::ALL {
            for n in SwitchName::ALL {
                for key in [
                    format!("op-sw-name-{}", n.as_str()),
                    format!("op-sw-does-{}", n.as_str()),
                ] {
                    let text = lang.t(&key);
                    assert!(
                        !text.starts_with("Unknown localization key"),
                        "{key} ({lang:?})"
                    );
                }
            }
        }
    }
}
