//! Webhooks: `/console/webhooks` (endpoints: add, shown-once secret, delete) and
//! `/console/webhooks/{id}` (one endpoint's delivery log with every attempt).

use super::{CursorQ, api_button, api_form, list, load, next_link, render, secret_box, tenant};
use crate::AppState;
use crate::auth::SignedIn;
use crate::html::{Text, html, pct, table, text, time, time_opt};
use crate::layout::Page;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use playrack_wire::api::{Webhook, WebhookDelivery};

/// The events an endpoint can subscribe to.
const EVENTS: [&str; 4] = [
    "session.started",
    "session.ended",
    "session.duration",
    "bill.closed",
];

/// `GET /console/webhooks`.
pub(super) async fn webhooks(State(state): State<AppState>, user: SignedIn) -> Response {
    tenant!(user);
    let t = |k: &str| user.lang.t(k);
    let hooks = load!(
        state,
        user,
        list::<Webhook>(&state, &user, "/v1/webhooks", 200, None).await
    );
    let rows = hooks
        .items
        .iter()
        .map(|w| {
            vec![
                html! {
                    a href={ "/console/webhooks/" (Text(pct(&w.id))) } data-testid="webhook-link" {
                        (Text(&w.url))
                    }
                },
                text(w.events.join(", ")),
                time(&w.created_at),
                api_button(
                    &t("tn-delete"),
                    &format!("/api/webhooks/{}", pct(&w.id)),
                    "DELETE",
                    Some(&t("tn-webhook-delete-confirm")),
                    "delete-webhook",
                    "danger small",
                ),
            ]
        })
        .collect();
    let form = api_form(
        "/api/webhooks",
        "POST",
        "secret",
        "create-webhook",
        html! {
            label for="w-url" { (t("tn-endpoint-url")) }
            input id="w-url" name="url" type="url" required placeholder="https://"
                data-testid="webhook-url-input";
            fieldset {
                legend { (t("tn-events")) }
                @for e in EVENTS {
                    label class="check" {
                        input type="checkbox" name="events" value=(e) data-kind="checks" checked
                            data-testid={ "event-" (e) };
                        " " (e)
                    }
                }
            }
            button type="submit" class="primary" data-testid="create-webhook-submit" {
                (t("tn-endpoint-add"))
            }
        },
    );
    let body = html! {
        h1 { (t("tn-webhooks-title")) }
        p class="muted" { (t("tn-webhooks-intro")) }
        (table(
            user.lang,
            &t("tn-endpoints"),
            "webhooks",
            &["URL".to_owned(), t("tn-events"), t("tn-created"), String::new()],
            rows
        ))
        section class="card" { h2 { (t("tn-endpoint-new")) } (form) (secret_box(user.lang)) }
    };
    render(
        Page::console(t("tn-webhooks-title"), &user, "/console/webhooks", body).page_id("webhooks"),
    )
}

/// `GET /console/webhooks/{id}`: the delivery log.
pub(super) async fn webhook(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<CursorQ>,
) -> Response {
    tenant!(user);
    let t = |k: &str| user.lang.t(k);
    let wid = pct(&id);
    let (hook, deliveries) = tokio::join!(
        state
            .ctl
            .get::<Webhook>(format!("/v1/webhooks/{wid}"), user.token()),
        list::<WebhookDelivery>(
            &state,
            &user,
            format!("/v1/webhooks/{wid}/deliveries"),
            50,
            q.cursor.as_deref()
        ),
    );
    let hook = load!(state, user, hook);
    let deliveries = load!(state, user, deliveries);
    let rows = deliveries
        .items
        .iter()
        .map(|d| {
            vec![
                text(&d.event_type),
                html! { span class="badge" data-testid="delivery-state" { (Text(&d.state)) } },
                text(d.attempts),
                text(
                    d.last_status
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "—".into()),
                ),
                time_opt(d.next_retry_at.as_ref()),
                html! {
                    details {
                        summary { (t("tn-attempts")) }
                        ul {
                            @for a in &d.log {
                                li {
                                    "#" (a.attempt) " " (time(&a.at)) " → "
                                    @match a.status_code {
                                        Some(s) => { (s) }
                                        None => { (t("tn-no-answer")) }
                                    }
                                    " (" (a.duration_ms) " ms)"
                                    @if let Some(e) = &a.error {
                                        ": " (Text(e))
                                    }
                                }
                            }
                        }
                    }
                },
                time(&d.created_at),
            ]
        })
        .collect();
    let body = html! {
        p { a href="/console/webhooks" { "← " (t("tn-webhooks-title")) } }
        h1 { (t("tn-deliveries-to")) " " code { (Text(&hook.url)) } }
        (table(
            user.lang,
            &t("tn-delivery-log"),
            "deliveries",
            &[
                t("tn-event"),
                t("tn-state"),
                t("tn-attempts"),
                t("tn-last-status"),
                t("tn-next-retry"),
                t("tn-log"),
                t("tn-created")
            ],
            rows
        ))
        (next_link(
            user.lang,
            &format!("/console/webhooks/{wid}"),
            deliveries.next_cursor.as_ref()
        ))
    };
    render(
        Page::console(t("tn-webhook-deliveries"), &user, "/console/webhooks", body)
            .page_id("webhook"),
    )
}
