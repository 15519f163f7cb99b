//! The tenant console, `/console/…`: games and their versions (upload, publish/revoke, deploy
//! with per-room progress), try-play links (QR codes, copy), live sessions (kick), usage
//! charts, orders and the quota in use, save archives, API keys and webhooks with their
//! delivery log.
//!
//! Pages are rendered here from controller reads made with the session's token; every change
//! is made by `assets/app.js` (and `assets/upload.js`) through the `/api` proxy, driven by
//! `data-api` attributes on forms and buttons. Operators are sent to `/operator`.

use crate::AppState;
use crate::auth::SignedIn;
use crate::chart::{self, Bar};
use crate::controller::CtlError;
use crate::html::legacy::{Html, attr, esc, table, time, time_opt};
use crate::html::{money, pct};
use crate::layout::{self, Page};
use crate::pages::failed;
use crate::qr;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use playrack_wire::Timestamp;
use playrack_wire::api::*;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, HashMap};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(index))
        .route("/console/games", get(games))
        .route("/console/games/{id}", get(game))
        .route("/console/versions/{id}/deploy", get(deploy))
        .route("/console/links", get(links))
        .route("/console/sessions", get(sessions))
        .route("/console/usage", get(usage))
        .route("/console/orders", get(orders))
        .route("/console/archives", get(archives))
        .route("/console/keys", get(keys))
        .route("/console/webhooks", get(webhooks))
        .route("/console/webhooks/{id}", get(webhook))
}

/// `?cursor=` on list pages.
#[derive(Debug, Default, Deserialize)]
pub struct CursorQ {
    pub cursor: Option<String>,
}

/// A page of a controller list (`limit` items from `cursor`).
async fn list<T: DeserializeOwned>(
    state: &AppState,
    user: &SignedIn,
    path: impl Into<String>,
    limit: u32,
    cursor: Option<&str>,
) -> Result<playrack_wire::api::Page<T>, CtlError> {
    let path: String = path.into();
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut p = format!("{path}{sep}limit={limit}");
    if let Some(c) = cursor.filter(|c| !c.is_empty()) {
        p.push_str(&format!("&cursor={}", pct(c)));
    }
    state.ctl.get(p, user.token()).await
}

/// The "next page" link of a list page.
fn next_link(base: &str, next: Option<&String>) -> Html {
    match next {
        Some(c) => {
            let sep = if base.contains('?') { '&' } else { '?' };
            Html::trusted(format!(
                "<p><a href=\"{}{sep}cursor={}\" data-testid=\"next-page\">Next page</a></p>",
                attr(base),
                attr(pct(c))
            ))
        }
        None => Html::default(),
    }
}

/// Tenant pages only: operators go to their console.
fn tenant_only(user: &SignedIn) -> Option<Response> {
    (user.is_operator() || user.tenant_id().is_none())
        .then(|| Redirect::to("/operator").into_response())
}

macro_rules! tenant {
    ($user:expr) => {
        if let Some(r) = tenant_only(&$user) {
            return r;
        }
    };
}

macro_rules! load {
    ($state:expr, $user:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return failed(&$state, &$user, e),
        }
    };
}

/// Game id → name, for tables that show game ids.
async fn game_names(
    state: &AppState,
    user: &SignedIn,
) -> Result<HashMap<String, String>, CtlError> {
    let page: playrack_wire::api::Page<Game> = list(state, user, "/v1/games", 200, None).await?;
    Ok(page.items.into_iter().map(|g| (g.id, g.name)).collect())
}

fn name_of<'a>(names: &'a HashMap<String, String>, id: &'a str) -> &'a str {
    names.get(id).map(String::as_str).unwrap_or(id)
}

/// A form that `app.js` sends as JSON to `/api…` (`method`), then follows `then`.
fn api_form(api: &str, method: &str, then: &str, testid: &str, inner: &str) -> String {
    format!(
        "<form class=\"api-form\" data-api=\"{}\" data-method=\"{}\" data-then=\"{}\" data-testid=\"{}\">\
         {inner}<p class=\"error\" role=\"alert\" data-testid=\"{}-error\"></p></form>",
        attr(api),
        attr(method),
        attr(then),
        attr(testid),
        attr(testid)
    )
}

/// A button that `app.js` turns into a `/api` call (with an optional confirmation).
fn api_button(
    label: &str,
    api: &str,
    method: &str,
    confirm: Option<&str>,
    testid: &str,
    class: &str,
) -> Html {
    Html::trusted(format!(
        "<button type=\"button\" class=\"{}\" data-api=\"{}\" data-method=\"{}\" data-then=\"reload\"{} data-testid=\"{}\">{}</button>",
        attr(class),
        attr(api),
        attr(method),
        confirm
            .map(|c| format!(" data-confirm=\"{}\"", attr(c)))
            .unwrap_or_default(),
        attr(testid),
        esc(label)
    ))
}

fn copy_button(text: &str, label: &str, testid: &str) -> Html {
    Html::trusted(format!(
        "<button type=\"button\" class=\"small\" data-copy=\"{}\" data-testid=\"{}\">{}</button>",
        attr(text),
        attr(testid),
        esc(label)
    ))
}

fn render(page: Page) -> Response {
    layout::render(page)
}

// ---------------------------------------------------------------------------------------------
// Games
// ---------------------------------------------------------------------------------------------

/// `GET /console`.
async fn index(user: SignedIn) -> Response {
    tenant!(user);
    Redirect::to("/console/games").into_response()
}

fn spec_checks(specs: &[Spec], chosen: &[String]) -> String {
    let mut s = String::from("<fieldset><legend>Specs, most wanted first</legend>");
    for sp in specs {
        let checked = if chosen.contains(&sp.id) {
            " checked"
        } else {
            ""
        };
        s.push_str(&format!(
            "<label class=\"check\"><input type=\"checkbox\" name=\"spec_ids\" value=\"{}\" data-kind=\"checks\"{checked} data-testid=\"spec-{}\"> {} ({}×{} @ {} fps, {}/min)</label>",
            attr(&sp.id),
            attr(&sp.id),
            esc(&sp.name),
            sp.width,
            sp.height,
            sp.fps,
            esc(money(sp.price_per_minute_micros))
        ));
    }
    s.push_str("</fieldset>");
    s
}

/// `GET /console/games`.
async fn games(
    State(state): State<AppState>,
    user: SignedIn,
    Query(q): Query<CursorQ>,
) -> Response {
    tenant!(user);
    let (games, specs) = tokio::join!(
        list::<Game>(&state, &user, "/v1/games", 50, q.cursor.as_deref()),
        list::<Spec>(&state, &user, "/v1/specs", 200, None)
    );
    let games = load!(state, user, games);
    let specs = load!(state, user, specs);
    let rows = games
        .items
        .iter()
        .map(|g| {
            vec![
                Html::trusted(format!(
                    "<a href=\"/console/games/{}\" data-testid=\"game-link\">{}</a>",
                    attr(pct(&g.id)),
                    esc(&g.name)
                )),
                esc(&g.slug),
                esc(g.package_name.as_deref().unwrap_or("—")),
                esc(if g.default_version_id.is_some() {
                    "published"
                } else {
                    "not published"
                }),
                time(&g.created_at),
            ]
        })
        .collect();
    let default_specs: Vec<String> = specs
        .items
        .first()
        .map(|s| vec![s.id.clone()])
        .unwrap_or_default();
    let create = api_form(
        "/api/games",
        "POST",
        "/console/games/{id}",
        "create-game",
        &format!(
            "<label for=\"g-name\">Name</label><input id=\"g-name\" name=\"name\" required maxlength=\"100\" data-testid=\"game-name-input\">\
             <label for=\"g-slug\">Slug (URL-safe, unique)</label><input id=\"g-slug\" name=\"slug\" required pattern=\"[a-z0-9][a-z0-9\\-]*\" data-testid=\"game-slug-input\">\
             <label for=\"g-archive\">Saves</label><select id=\"g-archive\" name=\"archive_policy\" data-testid=\"game-archive-input\">\
             <option value=\"single_player\">Single-player: keep the player's saves between plays</option>\
             <option value=\"online\">Online: the game keeps its own state</option></select>\
             {}<button type=\"submit\" class=\"primary\" data-testid=\"create-game-submit\">Create game</button>",
            spec_checks(&specs.items, &default_specs)
        ),
    );
    let body = Html::trusted(format!(
        "<h1>Games</h1>{}{}<section class=\"card\"><h2>New game</h2>{create}</section>",
        table(
            "Your games",
            "games",
            &["Name", "Slug", "Package", "Status", "Created"],
            rows
        ),
        next_link("/console/games", games.next_cursor.as_ref()),
    ));
    render(Page::console("Games", &user, "/console/games", body).page_id("games"))
}

fn version_state(v: &Version) -> Html {
    let state = match v.state {
        VersionState::Uploading => "UPLOADING",
        VersionState::Parsing => "PARSING",
        VersionState::Ready => "READY",
        VersionState::Failed => "FAILED",
    };
    let failure = v
        .failure
        .as_ref()
        .map(|f| {
            format!(
                "<div class=\"failure\"><code data-testid=\"failure-code\">{}</code> {}</div>",
                esc(&f.code),
                esc(&f.message)
            )
        })
        .unwrap_or_default();
    Html::trusted(format!(
        "<span class=\"badge state-{}\" data-testid=\"version-state\">{}</span>{failure}",
        attr(state.to_ascii_lowercase()),
        state
    ))
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

fn link_url(state: &AppState, code: &str) -> String {
    format!("{}/play/{}", state.public_url, pct(code))
}

fn links_table(state: &AppState, links: &[Link], names: Option<&HashMap<String, String>>) -> Html {
    let rows = links
        .iter()
        .map(|l| {
            let url = link_url(state, &l.code);
            let status = if l.revoked_at.is_some() {
                "revoked"
            } else if l.expires_at.is_some_and(|e| e <= Timestamp::now()) {
                "expired"
            } else if l.max_plays.is_some_and(|m| l.plays_used >= m) {
                "used up"
            } else {
                "active"
            };
            let mut row = vec![Html::trusted(format!(
                "<a href=\"{}\" data-testid=\"link-url\">{}</a> {}",
                attr(&url),
                esc(&url),
                copy_button(&url, "Copy", "copy-link")
            ))];
            if let Some(n) = names {
                row.push(esc(name_of(n, &l.game_id)));
            }
            row.extend([
                esc(l.campaign.as_deref().unwrap_or("—")),
                esc(format!("{} s", l.trial_seconds)),
                esc(match l.max_plays {
                    Some(m) => format!("{} / {m}", l.plays_used),
                    None => format!("{}", l.plays_used),
                }),
                time_opt(l.expires_at.as_ref()),
                Html::trusted(format!(
                    "<span class=\"badge\" data-testid=\"link-status\">{}</span>",
                    esc(status)
                )),
                Html::trusted(format!(
                    "<details class=\"qr\"><summary data-testid=\"show-qr\">QR code</summary>{}</details>",
                    qr::svg(&url, &format!("QR code for {url}"))
                        .map(Html::from)
                        .unwrap_or_else(|| esc("(too long for a QR code)"))
                )),
                if l.revoked_at.is_none() {
                    api_button(
                        "Revoke",
                        &format!("/api/links/{}/revoke", pct(&l.id)),
                        "POST",
                        Some("Revoke this link? It stops starting plays at once."),
                        "revoke-link",
                        "danger small",
                    )
                } else {
                    Html::default()
                },
            ]);
            row
        })
        .collect();
    let mut head = vec!["Link"];
    if names.is_some() {
        head.push("Game");
    }
    head.extend(["Campaign", "Trial", "Plays", "Expires", "Status", "QR", ""]);
    table("Try-play links", "links", &head, rows)
}

fn link_form(games: &[Game], fixed_game: Option<&Game>) -> String {
    let game_field = match fixed_game {
        Some(g) => format!(
            "<input type=\"hidden\" name=\"game_id\" value=\"{}\">",
            attr(&g.id)
        ),
        None => {
            let opts: String = games
                .iter()
                .map(|g| {
                    format!(
                        "<option value=\"{}\">{}</option>",
                        attr(&g.id),
                        esc(&g.name)
                    )
                })
                .collect();
            format!(
                "<label for=\"l-game\">Game</label><select id=\"l-game\" name=\"game_id\" required data-testid=\"link-game-input\">{opts}</select>"
            )
        }
    };
    api_form(
        "/api/links",
        "POST",
        "reload",
        "create-link",
        &format!(
            "{game_field}\
             <label for=\"l-trial\">Trial length (seconds; empty: the game's default)</label><input id=\"l-trial\" name=\"trial_seconds\" type=\"number\" min=\"1\" max=\"86400\" data-kind=\"int\" data-testid=\"link-trial-input\">\
             <label for=\"l-max\">Most plays (empty: no limit)</label><input id=\"l-max\" name=\"max_plays\" type=\"number\" min=\"1\" data-kind=\"int\" data-testid=\"link-max-input\">\
             <label for=\"l-exp\">Expires (empty: never)</label><input id=\"l-exp\" name=\"expires_at\" type=\"datetime-local\" data-kind=\"datetime\" data-testid=\"link-expires-input\">\
             <label for=\"l-camp\">Campaign</label><input id=\"l-camp\" name=\"campaign\" maxlength=\"64\" data-testid=\"link-campaign-input\">\
             <fieldset><legend>Call to action on the end screen (optional)</legend>\
             <label for=\"l-cta-label\">Label</label><input id=\"l-cta-label\" name=\"cta.label\" maxlength=\"60\" data-testid=\"link-cta-label-input\">\
             <label for=\"l-cta-url\">URL</label><input id=\"l-cta-url\" name=\"cta.url\" type=\"url\" placeholder=\"https://\" data-testid=\"link-cta-url-input\"></fieldset>\
             <button type=\"submit\" class=\"primary\" data-testid=\"create-link-submit\">Create link</button>"
        ),
    )
}

/// `GET /console/games/{id}`.
async fn game(State(state): State<AppState>, user: SignedIn, Path(id): Path<String>) -> Response {
    tenant!(user);
    let gid = pct(&id);
    let (game, versions, links, specs) = tokio::join!(
        state
            .ctl
            .get::<Game>(format!("/v1/games/{gid}"), user.token()),
        list::<Version>(
            &state,
            &user,
            format!("/v1/games/{gid}/versions"),
            200,
            None
        ),
        list::<Link>(&state, &user, format!("/v1/links?game_id={gid}"), 200, None),
        list::<Spec>(&state, &user, "/v1/specs", 200, None),
    );
    let game = load!(state, user, game);
    let versions = load!(state, user, versions);
    let links = load!(state, user, links);
    let specs = load!(state, user, specs);
    let mut vs = versions.items;
    vs.reverse(); // newest first
    let rows = vs
        .iter()
        .map(|v| {
            let apk = v
                .apk
                .as_ref()
                .map(|a| {
                    format!(
                        "{} ({})",
                        a.version_name.as_deref().unwrap_or("?"),
                        a.version_code
                    )
                })
                .unwrap_or_else(|| "—".into());
            let default = if game.default_version_id.as_deref() == Some(v.id.as_str()) {
                " <span class=\"badge default\" data-testid=\"default-version\">playing</span>"
            } else {
                ""
            };
            let mut actions = Html::default();
            if v.state == VersionState::Ready {
                let vid = pct(&v.id);
                if v.published_at.is_some() {
                    actions.push(api_button(
                        "Revoke",
                        &format!("/api/versions/{vid}/revoke"),
                        "POST",
                        Some("Withdraw this version? Plays fall back to the previous published one."),
                        "revoke-version",
                        "danger small",
                    ));
                } else {
                    actions.push(api_button(
                        "Publish",
                        &format!("/api/versions/{vid}/publish"),
                        "POST",
                        None,
                        "publish-version",
                        "small",
                    ));
                }
                actions.push(Html::trusted(format!(
                    " <a class=\"button small\" href=\"/console/versions/{vid}/deploy\" data-testid=\"deploy-version\">Deploy</a>"
                )));
            }
            vec![
                Html::trusted(format!("<code>{}</code>{default}", esc(&v.id))),
                version_state(v),
                esc(apk),
                esc(size(v.size_bytes)),
                time_opt(v.published_at.as_ref()),
                time(&v.created_at),
                actions,
            ]
        })
        .collect();
    let icon = if game.default_version_id.is_some() {
        format!(
            "<img class=\"icon\" src=\"/api/games/{}/icon\" alt=\"\" width=\"64\" height=\"64\">",
            attr(&gid)
        )
    } else {
        String::new()
    };
    let settings = api_form(
        &format!("/api/games/{gid}"),
        "PATCH",
        "reload",
        "update-game",
        &format!(
            "<label for=\"e-name\">Name</label><input id=\"e-name\" name=\"name\" required maxlength=\"100\" value=\"{}\" data-testid=\"edit-game-name\">\
             {}\
             <label for=\"e-max\">Longest play (s)</label><input id=\"e-max\" name=\"trial_defaults.max_play_seconds\" type=\"number\" min=\"1\" data-kind=\"int\" value=\"{}\">\
             <label for=\"e-grace\">Reconnect grace (s)</label><input id=\"e-grace\" name=\"trial_defaults.reconnect_grace_seconds\" type=\"number\" min=\"0\" data-kind=\"int\" value=\"{}\">\
             <label for=\"e-idle\">Idle kick (s)</label><input id=\"e-idle\" name=\"trial_defaults.idle_kick_seconds\" type=\"number\" min=\"1\" data-kind=\"int\" value=\"{}\">\
             <button type=\"submit\" data-testid=\"update-game-submit\">Save</button>",
            attr(&game.name),
            spec_checks(&specs.items, &game.spec_ids),
            game.trial_defaults.max_play_seconds,
            game.trial_defaults.reconnect_grace_seconds,
            game.trial_defaults.idle_kick_seconds,
        ),
    );
    let upload = format!(
        "<form class=\"upload\" data-upload=\"{gid}\" data-testid=\"upload-form\">\
         <label for=\"apk\">APK file</label><input id=\"apk\" name=\"apk\" type=\"file\" accept=\".apk,application/vnd.android.package-archive\" required data-testid=\"upload-file\">\
         <button type=\"submit\" class=\"primary\" data-testid=\"upload-submit\">Upload</button>\
         <button type=\"button\" data-upload-cancel hidden data-testid=\"upload-cancel\">Cancel upload</button>\
         <progress max=\"100\" value=\"0\" hidden data-testid=\"upload-progress\" aria-label=\"Upload progress\"></progress>\
         <p class=\"status\" role=\"status\" aria-live=\"polite\" data-testid=\"upload-status\"></p>\
         <p class=\"error\" role=\"alert\" data-testid=\"upload-error\"></p></form>",
        gid = attr(&gid)
    );
    let body = Html::trusted(format!(
        "<p><a href=\"/console/games\">← Games</a></p>\
         <div class=\"game-head\">{icon}<div><h1 data-testid=\"game-title\">{name}</h1>\
         <p class=\"muted\"><code>{id}</code> · slug <code>{slug}</code> · package <code>{pkg}</code></p></div></div>\
         <section class=\"card\"><h2>Upload a version</h2><p class=\"muted\">Large files upload in chunks and resume after a dropped connection.</p>{upload}</section>\
         <section><h2>Versions</h2>{versions}</section>\
         <section><h2>Try-play links</h2>{links}<details class=\"card\"><summary data-testid=\"new-link\">New link</summary>{link_form}</details></section>\
         <section class=\"card\"><h2>Settings</h2>{settings}</section>",
        name = esc(&game.name),
        id = esc(&game.id),
        slug = esc(&game.slug),
        pkg = esc(game
            .package_name
            .as_deref()
            .unwrap_or("— (set by the first ready version)")),
        versions = table(
            "Versions, newest first",
            "versions",
            &[
                "Version",
                "State",
                "APK version",
                "Size",
                "Published",
                "Uploaded",
                "Actions"
            ],
            rows
        ),
        links = links_table(&state, &links.items, None),
        link_form = link_form(&[], Some(&game)),
    ));
    render(
        Page::console(game.name.clone(), &user, "/console/games", body)
            .page_id("game")
            .script("upload.js"),
    )
}

/// `GET /console/versions/{id}/deploy`.
async fn deploy(State(state): State<AppState>, user: SignedIn, Path(id): Path<String>) -> Response {
    tenant!(user);
    let vid = pct(&id);
    let (version, deployment, rooms) = tokio::join!(
        state
            .ctl
            .get::<Version>(format!("/v1/versions/{vid}"), user.token()),
        state
            .ctl
            .get::<Deployment>(format!("/v1/versions/{vid}/deployment"), user.token()),
        list::<Room>(&state, &user, "/v1/rooms", 200, None),
    );
    let version = load!(state, user, version);
    let deployment = load!(state, user, deployment);
    let rooms = load!(state, user, rooms);
    let by_room: BTreeMap<&str, &DeploymentRoom> = deployment
        .rooms
        .iter()
        .map(|r| (r.room_id.as_str(), r))
        .collect();
    let mut checks = String::from("<fieldset><legend>Machine rooms</legend>");
    let mut rows = Vec::new();
    for room in &rooms.items {
        let d = by_room.get(room.id.as_str());
        let checked = if d.is_some() { " checked" } else { "" };
        checks.push_str(&format!(
            "<label class=\"check\"><input type=\"checkbox\" name=\"room_ids\" value=\"{}\" data-kind=\"checks\"{checked} data-testid=\"room-{}\"> {}</label>",
            attr(&room.id),
            attr(&room.id),
            esc(&room.name)
        ));
        if let Some(d) = d {
            rows.push(vec![
                esc(&room.name),
                Html::trusted(format!(
                    "<span data-room-state=\"{id}\" data-testid=\"room-state\">{}</span>",
                    esc(format!("{:?}", d.state).to_lowercase()),
                    id = attr(&room.id)
                )),
                Html::trusted(format!(
                    "<progress max=\"100\" value=\"{p}\" data-room-progress=\"{id}\" aria-label=\"{name} progress\">{p}%</progress> <span data-room-percent=\"{id}\">{p}%</span>",
                    p = d.progress_percent,
                    id = attr(&room.id),
                    name = attr(&room.name)
                )),
                Html::trusted(format!(
                    "<span data-room-error=\"{}\">{}</span>",
                    attr(&room.id),
                    esc(d.error.as_deref().unwrap_or(""))
                )),
            ]);
        }
    }
    checks.push_str("</fieldset>");
    let form = if version.state == VersionState::Ready {
        api_form(
            &format!("/api/versions/{vid}/deployment"),
            "PUT",
            "reload",
            "set-deployment",
            &format!(
                "{checks}<button type=\"submit\" class=\"primary\" data-testid=\"set-deployment-submit\">Deploy to the checked rooms</button>"
            ),
        )
    } else {
        "<p>Only READY versions can be deployed.</p>".to_owned()
    };
    let body = Html::trusted(format!(
        "<p><a href=\"/console/games/{gid}\">← Game</a></p><h1>Deploy version <code>{id}</code></h1>\
         <section data-deployment=\"/api/versions/{vid}/deployment\">{progress}</section>\
         <section class=\"card\"><h2>Rooms</h2><p class=\"muted\">Rooms left unchecked are undeployed.</p>{form}</section>",
        gid = attr(pct(&version.game_id)),
        id = esc(&version.id),
        vid = attr(&vid),
        progress = table(
            "Progress per room",
            "deployment",
            &["Room", "State", "Progress", "Error"],
            rows
        ),
    ));
    render(Page::console("Deploy", &user, "/console/games", body).page_id("deploy"))
}

// ---------------------------------------------------------------------------------------------
// Links, sessions
// ---------------------------------------------------------------------------------------------

/// `GET /console/links`.
async fn links(
    State(state): State<AppState>,
    user: SignedIn,
    Query(q): Query<CursorQ>,
) -> Response {
    tenant!(user);
    let (links, games) = tokio::join!(
        list::<Link>(&state, &user, "/v1/links", 50, q.cursor.as_deref()),
        list::<Game>(&state, &user, "/v1/games", 200, None),
    );
    let links = load!(state, user, links);
    let games = load!(state, user, games);
    let names: HashMap<String, String> = games
        .items
        .iter()
        .map(|g| (g.id.clone(), g.name.clone()))
        .collect();
    let form = if games.items.is_empty() {
        "<p>Create a game first.</p>".to_owned()
    } else {
        link_form(&games.items, None)
    };
    let body = Html::trusted(format!(
        "<h1>Try-play links</h1>{}{}<section class=\"card\"><h2>New link</h2>{form}</section>",
        links_table(&state, &links.items, Some(&names)),
        next_link("/console/links", links.next_cursor.as_ref()),
    ));
    render(Page::console("Try-play links", &user, "/console/links", body).page_id("links"))
}

/// `GET /console/sessions`.
async fn sessions(State(state): State<AppState>, user: SignedIn) -> Response {
    tenant!(user);
    let (online, names) = tokio::join!(
        list::<OnlineEntry>(&state, &user, "/v1/online", 200, None),
        game_names(&state, &user),
    );
    let online = load!(state, user, online);
    let names = load!(state, user, names);
    let rows = online
        .items
        .iter()
        .map(|s| {
            vec![
                Html::trusted(format!("<code>{}</code>", esc(&s.session_id))),
                esc(name_of(&names, &s.game_id)),
                esc(&s.user),
                esc(&s.spec_id),
                esc(format!("{:?}", s.state).to_lowercase()),
                esc(if s.connected { "yes" } else { "no" }),
                time(&s.since),
                api_button(
                    "Kick",
                    &format!("/api/sessions/{}/kick", pct(&s.session_id)),
                    "POST",
                    Some("End this play now? The player sees “ended by the publisher”."),
                    "kick-session",
                    "danger small",
                ),
            ]
        })
        .collect();
    let body = Html::trusted(format!(
        "<h1>Live sessions</h1><p class=\"muted\"><label class=\"check\"><input type=\"checkbox\" data-autoreload=\"5\" checked data-testid=\"autoreload\"> Refresh every 5 seconds</label></p>{}",
        table(
            "Plays in progress",
            "sessions",
            &[
                "Session",
                "Game",
                "Player",
                "Spec",
                "State",
                "Connected",
                "Since",
                ""
            ],
            rows
        ),
    ));
    render(Page::console("Live sessions", &user, "/console/sessions", body).page_id("sessions"))
}

// ---------------------------------------------------------------------------------------------
// Usage, orders
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct UsageQ {
    pub from: Option<String>,
    pub to: Option<String>,
}

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
async fn usage(State(state): State<AppState>, user: SignedIn, Query(q): Query<UsageQ>) -> Response {
    tenant!(user);
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
                esc(r.day.as_deref().unwrap_or("")),
                esc(r.sessions),
                esc(format!("{:.1}", mins(r))),
                esc(money(r.amount_micros)),
            ]
        })
        .collect();
    let total: i64 = by_day.items.iter().map(|r| r.amount_micros).sum();
    let total_min: f64 = by_day.items.iter().map(mins).sum();
    let body = Html::trusted(format!(
        "<h1>Usage</h1>\
         <form method=\"get\" class=\"inline-form\" data-testid=\"usage-range\"><label for=\"u-from\">From</label><input id=\"u-from\" type=\"date\" name=\"from\" value=\"{from}\">\
         <label for=\"u-to\">To (exclusive)</label><input id=\"u-to\" type=\"date\" name=\"to\" value=\"{to}\"><button type=\"submit\">Show</button></form>\
         <p data-testid=\"usage-total\">{f} – {t}: <strong>{total_min:.1}</strong> billable minutes, <strong>{amount}</strong> charged.</p>\
         <section class=\"charts\"><h2>Minutes per day</h2>{day}<h2>Minutes per game</h2>{game}<h2>Minutes per spec</h2>{spec}</section>\
         <section><h2>Per day</h2>{table}</section>",
        from = attr(from.unwrap_or("")),
        to = attr(to.unwrap_or("")),
        f = time(&by_day.from),
        t = time(&by_day.to),
        amount = esc(money(total)),
        day = Html::from(chart::bars(
            "Billable minutes per day",
            "min",
            "chart-day",
            &day_bars
        )),
        game = Html::from(chart::bars(
            "Billable minutes per game",
            "min",
            "chart-game",
            &game_bars
        )),
        spec = Html::from(chart::bars(
            "Billable minutes per spec",
            "min",
            "chart-spec",
            &spec_bars
        )),
        table = table(
            "Usage per day",
            "usage",
            &["Day", "Sessions", "Minutes", "Amount"],
            rows
        ),
    ));
    render(Page::console("Usage", &user, "/console/usage", body).page_id("usage"))
}

/// `GET /console/orders`.
async fn orders(State(state): State<AppState>, user: SignedIn) -> Response {
    tenant!(user);
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
    let specs: std::collections::BTreeSet<&String> = ordered.keys().chain(in_use.keys()).collect();
    let quota_rows = specs
        .into_iter()
        .map(|spec| {
            let o = ordered.get(spec).copied().unwrap_or(0);
            let u = in_use.get(spec).copied().unwrap_or(0);
            vec![
                esc(spec),
                Html::trusted(format!("<span data-testid=\"quota-in-use\">{u}</span>")),
                esc(o),
                Html::trusted(format!(
                    "<meter min=\"0\" max=\"{}\" value=\"{u}\" aria-label=\"{} in use\">{u}/{o}</meter>",
                    o.max(1),
                    attr(spec)
                )),
            ]
        })
        .collect();
    let rows = orders
        .items
        .iter()
        .map(|o| {
            let scope = match (&o.region_id, o.room_ids.is_empty()) {
                (Some(r), _) => format!("region {r}"),
                (None, false) => format!("rooms {}", o.room_ids.join(", ")),
                _ => "—".into(),
            };
            vec![
                Html::trusted(format!("<code>{}</code>", esc(&o.id))),
                esc(&o.spec_id),
                esc(scope),
                esc(o.concurrency),
                time(&o.valid_from),
                time(&o.valid_until),
                esc(o.priority),
                esc(format!("{:?}", o.status).to_lowercase()),
            ]
        })
        .collect();
    let body = Html::trusted(format!(
        "<h1>Orders &amp; quota</h1><p class=\"muted\">Orders are placed with the platform operator. Plays beyond the ordered concurrency wait in the queue.</p>\
         <section><h2>In use now</h2>{}</section><section><h2>Orders</h2>{}</section>",
        table(
            "Concurrency per spec",
            "quota",
            &["Spec", "In use", "Ordered now", ""],
            quota_rows
        ),
        table(
            "Orders",
            "orders",
            &[
                "Order",
                "Spec",
                "Where",
                "Concurrency",
                "From",
                "Until",
                "Priority",
                "Status"
            ],
            rows
        ),
    ));
    render(Page::console("Orders & quota", &user, "/console/orders", body).page_id("orders"))
}

// ---------------------------------------------------------------------------------------------
// Archives, API keys, webhooks
// ---------------------------------------------------------------------------------------------

/// `GET /console/archives`.
async fn archives(
    State(state): State<AppState>,
    user: SignedIn,
    Query(q): Query<CursorQ>,
) -> Response {
    tenant!(user);
    let (archives, names) = tokio::join!(
        list::<Archive>(&state, &user, "/v1/archives", 50, q.cursor.as_deref()),
        game_names(&state, &user),
    );
    let archives = load!(state, user, archives);
    let names = load!(state, user, names);
    let rows = archives
        .items
        .iter()
        .map(|a| {
            let aid = pct(&a.id);
            let mut actions = api_button(
                if a.pinned { "Unpin" } else { "Pin" },
                &format!("/api/archives/{aid}"),
                "PATCH",
                None,
                if a.pinned {
                    "unpin-archive"
                } else {
                    "pin-archive"
                },
                "small",
            );
            // The body of the pin toggle.
            actions = Html::trusted(actions.as_str().replacen(
                "data-then",
                &format!("data-body='{{\"pinned\":{}}}' data-then", !a.pinned),
                1,
            ));
            actions.push(api_button(
                "Delete",
                &format!("/api/archives/{aid}"),
                "DELETE",
                Some("Delete this save archive? The player loses this save."),
                "delete-archive",
                "danger small",
            ));
            vec![
                Html::trusted(format!("<code>{}</code>", esc(&a.id))),
                esc(name_of(&names, &a.game_id)),
                esc(&a.user),
                esc(size(a.size_bytes)),
                esc(a.tag.as_deref().unwrap_or("—")),
                esc(if a.pinned { "yes" } else { "no" }),
                time(&a.created_at),
                actions,
            ]
        })
        .collect();
    let body = Html::trusted(format!(
        "<h1>Save archives</h1><p class=\"muted\">Single-player games' saves, kept between plays. Pinned saves are never removed by the keep-newest rule.</p>{}{}",
        table(
            "Archives",
            "archives",
            &[
                "Archive", "Game", "Player", "Size", "Tag", "Pinned", "Saved", ""
            ],
            rows
        ),
        next_link("/console/archives", archives.next_cursor.as_ref()),
    ));
    render(Page::console("Save archives", &user, "/console/archives", body).page_id("archives"))
}

/// `GET /console/keys`.
async fn keys(State(state): State<AppState>, user: SignedIn) -> Response {
    tenant!(user);
    let keys = load!(
        state,
        user,
        list::<ApiKey>(&state, &user, "/v1/api-keys", 200, None).await
    );
    let rows = keys
        .items
        .iter()
        .map(|k| {
            vec![
                esc(&k.name),
                Html::trusted(format!("<code>{}…</code>", esc(&k.prefix))),
                esc(k.role.as_str()),
                time(&k.created_at),
                time_opt(k.last_used_at.as_ref()),
                time_opt(k.expires_at.as_ref()),
                if k.revoked_at.is_some() {
                    Html::trusted("<span class=\"badge\">revoked</span>")
                } else {
                    api_button(
                        "Revoke",
                        &format!("/api/api-keys/{}/revoke", pct(&k.id)),
                        "POST",
                        Some("Revoke this key? Anything using it stops working at once."),
                        "revoke-key",
                        "danger small",
                    )
                },
            ]
        })
        .collect();
    let roles: String = [Role::TenantDeveloper, Role::TenantViewer, Role::TenantAdmin]
        .iter()
        .map(|r| format!("<option value=\"{0}\">{0}</option>", r.as_str()))
        .collect();
    let form = api_form(
        "/api/api-keys",
        "POST",
        "secret",
        "create-key",
        &format!(
            "<label for=\"k-name\">What it is for</label><input id=\"k-name\" name=\"name\" required maxlength=\"100\" data-testid=\"key-name-input\">\
             <label for=\"k-role\">Role</label><select id=\"k-role\" name=\"role\" data-testid=\"key-role-input\">{roles}</select>\
             <label for=\"k-exp\">Expires (empty: never)</label><input id=\"k-exp\" name=\"expires_at\" type=\"datetime-local\" data-kind=\"datetime\">\
             <button type=\"submit\" class=\"primary\" data-testid=\"create-key-submit\">Create key</button>"
        ),
    );
    let player_key = format!(
        "<button type=\"button\" data-api=\"/api/tenants/{}/player-key\" data-method=\"POST\" data-then=\"secret\" \
         data-confirm=\"Issue a new player-token key? Tokens signed with the old key stop working.\" \
         data-testid=\"issue-player-key\">Issue player-token key</button>{SECRET_BOX}",
        attr(pct(user.tenant_id().unwrap_or_default()))
    );
    let body = Html::trusted(format!(
        "<h1>API keys</h1>{}<section class=\"card\"><h2>New key</h2>{form}{}</section>\
         <section class=\"card\"><h2>Player-token key</h2><p class=\"muted\">Your backend signs player \
         tokens with this key (plays by game id instead of try-play links). Tenant admins only; shown once.</p>\
         {player_key}</section>",
        table(
            "Keys",
            "keys",
            &[
                "Name",
                "Prefix",
                "Role",
                "Created",
                "Last used",
                "Expires",
                ""
            ],
            rows
        ),
        SECRET_BOX,
    ));
    render(Page::console("API keys", &user, "/console/keys", body).page_id("keys"))
}

/// Where `app.js` shows a secret that is shown only once (`data-then="secret"`).
const SECRET_BOX: &str = "<div class=\"secret\" data-secret-box hidden data-testid=\"secret-box\" role=\"region\" aria-label=\"New secret\">\
<p><strong>Copy this secret now: it is not shown again.</strong></p>\
<p><code data-secret data-testid=\"secret-value\"></code> <button type=\"button\" class=\"small\" data-copy-from=\"[data-secret]\" data-testid=\"copy-secret\">Copy</button></p>\
<p><a href=\"\" data-testid=\"secret-done\">Done</a></p></div>";

/// `GET /console/webhooks`.
async fn webhooks(State(state): State<AppState>, user: SignedIn) -> Response {
    tenant!(user);
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
                Html::trusted(format!(
                    "<a href=\"/console/webhooks/{}\" data-testid=\"webhook-link\">{}</a>",
                    attr(pct(&w.id)),
                    esc(&w.url)
                )),
                esc(w.events.join(", ")),
                time(&w.created_at),
                api_button(
                    "Delete",
                    &format!("/api/webhooks/{}", pct(&w.id)),
                    "DELETE",
                    Some("Delete this endpoint and its delivery log?"),
                    "delete-webhook",
                    "danger small",
                ),
            ]
        })
        .collect();
    let events: String = ["session.started", "session.ended", "session.duration"]
        .iter()
        .map(|e| {
            format!(
                "<label class=\"check\"><input type=\"checkbox\" name=\"events\" value=\"{e}\" data-kind=\"checks\" checked data-testid=\"event-{e}\"> {e}</label>"
            )
        })
        .collect();
    let form = api_form(
        "/api/webhooks",
        "POST",
        "secret",
        "create-webhook",
        &format!(
            "<label for=\"w-url\">Endpoint URL</label><input id=\"w-url\" name=\"url\" type=\"url\" required placeholder=\"https://\" data-testid=\"webhook-url-input\">\
             <fieldset><legend>Events</legend>{events}</fieldset>\
             <button type=\"submit\" class=\"primary\" data-testid=\"create-webhook-submit\">Add endpoint</button>"
        ),
    );
    let body = Html::trusted(format!(
        "<h1>Webhooks</h1><p class=\"muted\">Deliveries are signed with the endpoint's secret.</p>{}<section class=\"card\"><h2>New endpoint</h2>{form}{}</section>",
        table(
            "Endpoints",
            "webhooks",
            &["URL", "Events", "Created", ""],
            rows
        ),
        SECRET_BOX,
    ));
    render(Page::console("Webhooks", &user, "/console/webhooks", body).page_id("webhooks"))
}

/// `GET /console/webhooks/{id}`: the delivery log.
async fn webhook(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<CursorQ>,
) -> Response {
    tenant!(user);
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
            let attempts: String = d
                .log
                .iter()
                .map(|a| {
                    format!(
                        "<li>#{} {} → {} ({} ms){}</li>",
                        a.attempt,
                        time(&a.at),
                        esc(a
                            .status_code
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| "no answer".into())),
                        a.duration_ms,
                        a.error
                            .as_deref()
                            .map(|e| format!(": {}", esc(e)))
                            .unwrap_or_default()
                    )
                })
                .collect();
            vec![
                esc(&d.event_type),
                Html::trusted(format!(
                    "<span class=\"badge\" data-testid=\"delivery-state\">{}</span>",
                    esc(&d.state)
                )),
                esc(d.attempts),
                esc(d
                    .last_status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "—".into())),
                time_opt(d.next_retry_at.as_ref()),
                Html::trusted(format!(
                    "<details><summary>Attempts</summary><ul>{attempts}</ul></details>"
                )),
                time(&d.created_at),
            ]
        })
        .collect();
    let body = Html::trusted(format!(
        "<p><a href=\"/console/webhooks\">← Webhooks</a></p><h1>Deliveries to <code>{}</code></h1>{}{}",
        esc(&hook.url),
        table(
            "Delivery log, oldest first",
            "deliveries",
            &[
                "Event",
                "State",
                "Attempts",
                "Last status",
                "Next retry",
                "Log",
                "Created"
            ],
            rows
        ),
        next_link(
            &format!("/console/webhooks/{wid}"),
            deliveries.next_cursor.as_ref()
        ),
    ));
    render(Page::console("Webhook deliveries", &user, "/console/webhooks", body).page_id("webhook"))
}
