//! A game's grey release on its page: the release under way (the candidate, its share of the
//! players, the link or campaign it is limited to), the stable and candidate versions' figures
//! side by side, the form that starts or changes it, and promote / roll back.

use super::api_form;
use crate::html::{Markup, Text, html, pct, table, text};
use crate::i18n::Lang;
use fluent_templates::fluent_bundle::FluentValue;
use playrack_wire::api::{GreyView, Link, Version, VersionFigures, VersionState};

/// One decimal, as the console shows means and rates.
fn one_decimal(v: f64) -> String {
    format!("{v:.1}")
}

fn figures_row(lang: Lang, role: &str, f: &VersionFigures) -> Vec<Markup> {
    vec![
        html! { code { (Text(&f.version_id)) } " " span class="badge" { (lang.t(role)) } },
        text(f.plays),
        text(f.crashes),
        text(format!("{} %", one_decimal(f.crash_rate * 100.0))),
        text(one_decimal(f.mean_play_secs)),
        text(f.mean_latency_ms.map_or("—".into(), one_decimal)),
    ]
}

/// The section: `versions` are the game's, `links` its try-play links.
pub(super) fn section(
    lang: Lang,
    game_id: &str,
    view: &GreyView,
    versions: &[Version],
    links: &[Link],
) -> Markup {
    let t = |k: &str| lang.t(k);
    let gid = pct(game_id);
    let release = view.release.as_ref();
    let rows = view
        .versions
        .iter()
        .map(|f| {
            let candidate = release.is_some_and(|r| r.version_id == f.version_id);
            let role = if candidate {
                "tn-grey-candidate"
            } else {
                "tn-grey-stable"
            };
            figures_row(lang, role, f)
        })
        .collect();
    let end = |outcome: &str, label: &str, confirm: &str, class: &str| {
        crate::html::api_button(
            &t(label),
            &format!("/api/games/{gid}/grey/end"),
            "POST",
            Some(&format!(r#"{{"outcome":"{outcome}"}}"#)),
            Some(&t(confirm)),
            &format!("grey-{outcome}"),
            class,
        )
    };
    let candidates: Vec<&Version> = versions
        .iter()
        .filter(|v| v.state == VersionState::Ready && v.published_at.is_none())
        .collect();
    let form = api_form(
        &format!("/api/games/{gid}/grey"),
        "PUT",
        "reload",
        "grey-form",
        html! {
            label for="g-version" { (t("tn-grey-version")) }
            select id="g-version" name="version_id" required data-testid="grey-version" {
                @for v in &candidates {
                    @let name = v.apk.as_ref().map(|a| format!(
                        "{} ({})", a.version_name.as_deref().unwrap_or("?"), a.version_code
                    )).unwrap_or_default();
                    option value=(Text(&v.id))
                        selected[release.is_some_and(|r| r.version_id == v.id)]
                    { (Text(&v.id)) " " (Text(&name)) }
                }
            }
            label for="g-percent" { (t("tn-grey-percent")) }
            input id="g-percent" name="percent" type="number" min="0" max="100" required
                data-kind="int" value=(release.map_or(10, |r| r.percent))
                data-testid="grey-percent";
            label for="g-link" { (t("tn-grey-link")) }
            select id="g-link" name="link_id" data-testid="grey-link" {
                option value="" { (t("tn-grey-any-link")) }
                @for l in links.iter().filter(|l| l.revoked_at.is_none()) {
                    option value=(Text(&l.id))
                        selected[release.is_some_and(|r| r.link_id.as_deref() == Some(&l.id))]
                    {
                        (Text(&l.code))
                        @if let Some(c) = &l.campaign { " · " (Text(c)) }
                    }
                }
            }
            label for="g-campaign" { (t("tn-grey-campaign")) }
            input id="g-campaign" name="campaign" maxlength="64" data-testid="grey-campaign"
                value=(Text(release.and_then(|r| r.campaign.as_deref()).unwrap_or("")));
            button type="submit" data-testid="grey-submit" {
                (t(if release.is_some() { "tn-grey-change" } else { "tn-grey-start" }))
            }
        },
    );
    html! {
        section class="card" data-testid="grey" {
            h2 { (t("tn-grey-title")) }
            @if let Some(r) = release {
                p data-testid="grey-status" {
                    (lang.t_args("tn-grey-under-way", &[
                        ("version", FluentValue::from(r.version_id.clone())),
                        ("percent", FluentValue::from(r.percent)),
                    ]))
                    @if let Some(l) = &r.link_id {
                        @let code = links.iter().find(|k| &k.id == l).map_or(l, |k| &k.code);
                        " " (lang.t_args("tn-grey-only-link", &[("link", FluentValue::from(code.clone()))]))
                    }
                    @if let Some(c) = &r.campaign { " " (lang.t_args("tn-grey-only-campaign", &[("campaign", FluentValue::from(c.clone()))])) }
                }
                p {
                    (end("promote", "tn-grey-promote", "tn-grey-promote-confirm", "primary small"))
                    " "
                    (end("rollback", "tn-grey-rollback", "tn-grey-rollback-confirm", "danger small"))
                    " "
                    a href={ "/console/history/" (Text(&pct(game_id))) } data-testid="grey-history" { (t("hist-link")) }
                }
            } @else {
                p class="muted" { (t("tn-grey-intro")) }
            }
            (table(
                lang,
                &t("tn-grey-figures"),
                "grey-figures",
                &[
                    t("tn-version"),
                    t("tn-grey-plays"),
                    t("tn-grey-crashes"),
                    t("tn-grey-crash-rate"),
                    t("tn-grey-mean-play"),
                    t("tn-grey-mean-latency"),
                ],
                rows,
            ))
            @if candidates.is_empty() {
                p class="muted" { (t("tn-grey-no-candidate")) }
            } @else {
                (form)
            }
        }
    }
}
