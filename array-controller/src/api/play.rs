//! Playing over HTTP. Players (no account) acquire with a link or a player token and then prove
//! the ticket or session they were given with its play key (`Authorization: Bearer <play_key>`,
//! or `?key=` on the event stream, which browsers open without headers) to poll, cancel, follow
//! and leave it — ids alone are not enough, since consoles and webhooks show them. Tenants see
//! and kick their sessions; operators see all; tenant admins issue the player-token key their
//! backend signs with. A player lists their own saves of a game (`POST /v1/play/saves`, with
//! the identity an acquire carries) to choose which one a play restores.

use crate::audit;
use crate::auth::Caller;
use crate::db::{self, PageParams, page_from};
use crate::error::{ApiError, ApiResult};
use crate::http::{Json, Query};
use crate::play::identity::Held;
use crate::play::{acquire, lifecycle, queue};
use crate::state::AppState;
use crate::store;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
pub use playrack_wire::api::PlayerKey;
use playrack_wire::api::*;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(link_card))
        .routes(routes!(link_icon))
        .routes(routes!(link_cta))
        .routes(routes!(acquire_play))
        .routes(routes!(player_saves))
        .routes(routes!(poll_ticket, cancel_ticket))
        .routes(routes!(ticket_events))
        .routes(routes!(get_play_session, leave_session))
        .routes(routes!(list_sessions))
        .routes(routes!(get_session))
        .routes(routes!(kick_session))
        .routes(routes!(spectate_session))
        .routes(routes!(create_player_key))
        .routes(routes!(online))
        .routes(routes!(queue_view))
}

/// The coordinator's live view: who plays what, where, and whether they are connected.
/// Tenants see their own plays; operators see all.
#[utoipa::path(get, path = "/v1/online", tag = "play", params(PageParams), responses((status = 200, body = Page<OnlineEntry>)))]
async fn online(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<PageParams>,
) -> ApiResult<axum::Json<Page<OnlineEntry>>> {
    let rows = store::sessions::page(
        &state.db.pool,
        store::sessions::Filter {
            tenant: caller.tenant_scope(),
            game: None,
            live: true,
        },
        &page.cursor(),
        page.limit() + 1,
    )
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            let s = r.to_wire();
            OnlineEntry {
                session_id: s.id,
                tenant_id: s.tenant_id,
                user: s.user,
                game_id: s.game_id,
                version_id: s.version_id,
                spec_id: s.spec_id,
                room_id: s.room_id,
                board_id: s.board_id,
                instance_id: r.instance_id.clone(),
                state: s.state,
                connected: r.connected != 0,
                since: s.created_at,
                latency: r.latency(),
            }
        })
        .collect();
    Ok(axum::Json(page_from(items, &page, |e| {
        e.session_id.clone()
    })))
}

/// The player page's view of a try-play link (public): the game card, the trial length, the
/// call to action, and the rooms where the game is ready (whose probe URLs the SDK times).
#[utoipa::path(get, path = "/v1/play/links/{code}", tag = "play",
    responses((status = 200, body = LinkCard), (status = 404, body = playrack_wire::Problem), (status = 410, body = playrack_wire::Problem)))]
async fn link_card(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<axum::Json<LinkCard>> {
    let link = acquire::open_link(&state, &code).await?;
    state.figures.count(&link.id, crate::figures::Public::Open);
    let game = crate::api::catalog::load_game(&state, &link.game_id).await?;
    let rooms = match game.default_version_id.as_deref() {
        Some(version) => store::plays::ready_rooms(&state.db.pool, version).await?,
        None => Vec::new(),
    }
    .into_iter()
    .map(|r| RoomProbe {
        room_id: r.id,
        probe_url: r.probe_url,
    })
    .collect();
    Ok(axum::Json(LinkCard {
        icon_url: game
            .icon_url
            .is_some()
            .then(|| format!("/v1/play/links/{code}/icon")),
        code,
        game_id: link.game_id,
        game_name: game.name,
        trial_seconds: link.trial_seconds.clamp(0, u32::MAX as i64) as u32,
        cta: link
            .cta_label
            .zip(link.cta_url)
            .map(|(label, url)| CallToAction { label, url }),
        rooms,
        embed_origins: store::links::origins(link.embed_origins.as_deref()),
    }))
}

/// The player clicked the link's call to action (public; the player page tells it as the
/// browser follows the link): counted among the link's conversions. 204; 404 for a link
/// without a call to action.
#[utoipa::path(post, path = "/v1/play/links/{code}/cta", tag = "play",
    responses((status = 204), (status = 404, body = playrack_wire::Problem)))]
async fn link_cta(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<axum::http::StatusCode> {
    let link = store::plays::link_by_code(&state.db.pool, &code)
        .await?
        .ok_or(ApiError::NotFound("link"))?;
    if link.cta_url.is_none() {
        return Err(ApiError::NotFound("call to action"));
    }
    state
        .figures
        .count(&link.id, crate::figures::Public::Conversion);
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The icon of a try-play link's game (public while the link can be played).
#[utoipa::path(get, path = "/v1/play/links/{code}/icon", tag = "play",
    responses((status = 200, content_type = "image/png"), (status = 410, body = playrack_wire::Problem)))]
async fn link_icon(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<axum::response::Response> {
    let link = acquire::open_link(&state, &code).await?;
    let game = crate::api::catalog::load_game(&state, &link.game_id).await?;
    let version = game.default_version_id.ok_or(ApiError::NotFound("icon"))?;
    crate::api::catalog::icon_response(&state, &version).await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct QueueParams {
    /// Operators: one tenant's line.
    pub tenant_id: Option<String>,
    pub game_id: Option<String>,
}

/// How many waiting tickets the queue monitor reads at most to number the line.
const QUEUE_VIEW_SCAN: i64 = 10_000;

/// The queue monitor: who waits, where in line and why — a tenant's own line, or every
/// tenant's for operators.
#[utoipa::path(get, path = "/v1/queue", tag = "play", params(QueueParams), responses((status = 200, body = QueueView)))]
async fn queue_view(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<QueueParams>,
) -> ApiResult<axum::Json<QueueView>> {
    let tenant = match caller.tenant_scope() {
        Some(own) => own.to_owned(),
        None => q.tenant_id.clone().unwrap_or_default(),
    };
    let tenant = (!tenant.is_empty()).then_some(tenant.as_str());
    let game = q.game_id.as_deref().filter(|g| !g.is_empty());
    // Positions are counted over the whole line, so the read goes past the entries shown, but
    // never past QUEUE_VIEW_SCAN tickets; `total` is counted by the database.
    let rows = store::tickets::waiting_in_line(&state.db.pool, tenant, QUEUE_VIEW_SCAN).await?;
    let total = store::tickets::count_waiting(&state.db.pool, tenant, game).await?;
    let mut entries = Vec::new();
    let (mut current, mut position) = (String::new(), 0u32);
    for r in rows {
        if r.tenant_id != current {
            current = r.tenant_id.clone();
            position = 0;
        }
        position += 1;
        if game.is_some_and(|g| g != r.game_id) {
            continue;
        }
        if entries.len() < QUEUE_VIEW_MAX {
            entries.push(QueueEntry {
                ticket_id: r.id,
                tenant_id: r.tenant_id,
                game_id: r.game_id,
                user: r.user_key,
                position,
                reason: r.reason,
                waiting_since: playrack_wire::Timestamp(r.created_at),
            });
        }
    }
    let total = total.clamp(0, i64::from(u32::MAX)) as u32;
    Ok(axum::Json(QueueView { entries, total }))
}

/// Asks for a play: `ASSIGNED` with a reserved session, or `QUEUED` with a ticket.
#[utoipa::path(post, path = "/v1/play/acquire", tag = "play", request_body = AcquireRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key returns the same answer")),
    responses((status = 200, body = AcquireResponse),
              (status = 401, body = playrack_wire::Problem, description = "The player token is malformed, forged or expired"),
              (status = 410, body = playrack_wire::Problem)))]
async fn acquire_play(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<AcquireRequest>,
) -> ApiResult<axum::Json<AcquireResponse>> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok(axum::Json(acquire::acquire(&state, key, req).await?))
}

/// The player's own saves of the game, newest first, that its instances can restore: what a
/// save picker shows before a play (the chosen id goes in the acquire's `archive_id`). The
/// player is who the body names — a link with the device's id, or a verified player token —
/// so nobody lists another player's saves. Empty for a game that keeps no saves.
#[utoipa::path(post, path = "/v1/play/saves", tag = "play", request_body = SavesRequest,
    responses((status = 200, body = PlayerSaves),
              (status = 401, body = playrack_wire::Problem, description = "The player token is malformed, forged or expired"),
              (status = 410, body = playrack_wire::Problem)))]
async fn player_saves(
    State(state): State<AppState>,
    Json(req): Json<SavesRequest>,
) -> ApiResult<axum::Json<PlayerSaves>> {
    let player = acquire::identify(
        &state,
        req.link.as_deref(),
        req.device_id.as_deref(),
        req.game_id.as_deref(),
        req.player_token.as_deref(),
    )
    .await?;
    let items = store::archives::for_player(
        &state.db.pool,
        &player.tenant_id,
        &player.user_key,
        &player.game_id,
        lifecycle::INSTANCE_SDK,
        MAX_PLAYER_SAVES as i64,
    )
    .await?
    .into_iter()
    .map(|a| PlayerSave {
        id: a.id,
        created_at: a.created_at,
        size_bytes: a.size_bytes,
        tag: a.tag,
        pinned: a.pinned,
    })
    .collect();
    Ok(axum::Json(PlayerSaves { items }))
}

/// A ticket as its holder sees it: once it names a session, with that session's play key.
async fn for_holder(state: &AppState, mut t: Ticket) -> ApiResult<Ticket> {
    if let Some(session) = &t.session_id {
        t.play_key = Some(lifecycle::play_key(state, Held::Session(session)).await?);
    }
    Ok(t)
}

/// Polls a ticket: keeps it in line; a promoted ticket is claimed by this poll (the answer
/// then carries the session's id and play key).
#[utoipa::path(get, path = "/v1/play/tickets/{id}", tag = "play",
    responses((status = 200, body = Ticket), (status = 403, body = playrack_wire::Problem)))]
async fn poll_ticket(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Ticket>> {
    lifecycle::require_play_key(&state, Held::Ticket(&id), crate::auth::bearer(&headers)).await?;
    let t = queue::poll(&state, &id).await?;
    Ok(axum::Json(for_holder(&state, t).await?))
}

/// Leaves the queue (or gives back an unclaimed reservation).
#[utoipa::path(delete, path = "/v1/play/tickets/{id}", tag = "play",
    responses((status = 200, body = Ticket), (status = 403, body = playrack_wire::Problem)))]
async fn cancel_ticket(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Ticket>> {
    lifecycle::require_play_key(&state, Held::Ticket(&id), crate::auth::bearer(&headers)).await?;
    Ok(axum::Json(queue::cancel(&state, &id).await?))
}

async fn load_session(state: &AppState, id: &str) -> ApiResult<Session> {
    Ok(store::sessions::get(&state.db.pool, id)
        .await?
        .ok_or(ApiError::NotFound("session"))?
        .to_wire())
}

/// One session as the coordinator records it: the tenant's own, any for operators.
#[utoipa::path(get, path = "/v1/sessions/{id}", tag = "play", responses((status = 200, body = Session), (status = 404, body = playrack_wire::Problem)))]
async fn get_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Session>> {
    let s = load_session(&state, &id).await?;
    caller.require_tenant_read(&s.tenant_id, "session")?;
    Ok(axum::Json(s))
}

/// The player's view of their session; once it is ready, how to connect (signaling URL and a
/// session token signed for the board's agent).
#[utoipa::path(get, path = "/v1/play/sessions/{id}", tag = "play",
    responses((status = 200, body = PlaySession), (status = 403, body = playrack_wire::Problem)))]
async fn get_play_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<PlaySession>> {
    lifecycle::require_play_key(&state, Held::Session(&id), crate::auth::bearer(&headers)).await?;
    let session = load_session(&state, &id).await?;
    let connect =
        lifecycle::connect_info(&state, &id, playrack_wire::signaling::PeerRole::Player).await?;
    Ok(axum::Json(PlaySession { session, connect }))
}

/// The player leaves: the session ends (`USER_LEFT`) and its slot goes to the queue.
#[utoipa::path(delete, path = "/v1/play/sessions/{id}", tag = "play",
    responses((status = 200, body = Session), (status = 403, body = playrack_wire::Problem)))]
async fn leave_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Session>> {
    lifecycle::require_play_key(&state, Held::Session(&id), crate::auth::bearer(&headers)).await?;
    lifecycle::end(&state, &id, EndReason::UserLeft).await?;
    Ok(axum::Json(load_session(&state, &id).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListSessionsParams {
    /// Only live sessions (not ended).
    pub live: Option<bool>,
    pub game_id: Option<String>,
    /// Items per page, 1–200 (default 50).
    #[serde(default, deserialize_with = "crate::db::page_limit")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Lists sessions: a tenant's own, every tenant's for operators.
#[utoipa::path(get, path = "/v1/sessions", tag = "play", params(ListSessionsParams), responses((status = 200, body = Page<Session>)))]
async fn list_sessions(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListSessionsParams>,
) -> ApiResult<axum::Json<Page<Session>>> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let rows = store::sessions::page(
        &state.db.pool,
        store::sessions::Filter {
            tenant: caller.tenant_scope(),
            game: q.game_id.as_deref().filter(|g| !g.is_empty()),
            live: q.live.unwrap_or(false),
        },
        &page.cursor(),
        page.limit() + 1,
    )
    .await?;
    let items = rows
        .iter()
        .map(store::sessions::SessionRow::to_wire)
        .collect();
    Ok(axum::Json(page_from(items, &page, |s| s.id.clone())))
}

/// Ends a session (`KICKED`).
#[utoipa::path(post, path = "/v1/sessions/{id}/kick", tag = "play", responses((status = 200, body = Session)))]
async fn kick_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Session>> {
    let s = load_session(&state, &id).await?;
    caller.require_tenant_write(&s.tenant_id, "session")?;
    lifecycle::end_audited(&state, std::slice::from_ref(&id), EndReason::Kicked, |_| {
        lifecycle::AuditEntry {
            actor: caller.id().to_owned(),
            tenant_id: Some(s.tenant_id.clone()),
            action: "session.kick",
            object_id: id.clone(),
            summary: serde_json::json!({"user": s.user}),
        }
    })
    .await?;
    Ok(axum::Json(load_session(&state, &id).await?))
}

/// A read-only view of a live play (the operator console's thumbnail, a tenant's support
/// desk): connect info with a spectator token for the session's board. `409 NOT_STREAMING`
/// until the session is ready. Audited.
#[utoipa::path(post, path = "/v1/sessions/{id}/spectate", tag = "play",
    responses((status = 200, body = ConnectInfo), (status = 409, body = playrack_wire::Problem)))]
async fn spectate_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ConnectInfo>> {
    let s = load_session(&state, &id).await?;
    caller.require_tenant_write(&s.tenant_id, "session")?;
    let connect =
        lifecycle::connect_info(&state, &id, playrack_wire::signaling::PeerRole::Spectator)
            .await?
            .ok_or_else(|| {
                ApiError::conflict(
                    "NOT_STREAMING",
                    "the session is not streaming yet (or any more)",
                )
            })?;
    let mut tx = state.db.write().await?;
    audit::record(
        &mut tx,
        &caller,
        Some(&s.tenant_id),
        "session.spectate",
        &id,
        serde_json::json!({"user": s.user}),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(connect))
}

/// Issues (or rotates) the tenant's player-token key; tokens signed with the old key stop working.
#[utoipa::path(post, path = "/v1/tenants/{id}/player-key", tag = "play", responses((status = 201, body = PlayerKey)))]
async fn create_player_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant_id): Path<String>,
) -> ApiResult<(StatusCode, axum::Json<PlayerKey>)> {
    caller.require_tenant_admin(&tenant_id, "tenant")?;
    let secret = db::random_token(48);
    let mut tx = state.db.write().await?;
    super::accounts::ensure_tenant(&mut tx, &tenant_id).await?;
    let sealed = state
        .sealer
        .seal(&crate::secrets::player_key_purpose(&tenant_id), &secret);
    store::keys::set_player_key(&mut tx, &tenant_id, &sealed, crate::now().millis()).await?;
    audit::record(
        &mut tx,
        &caller,
        Some(&tenant_id),
        "tenant.player_key",
        &tenant_id,
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(PlayerKey { tenant_id, secret }),
    ))
}

/// How often a ticket's event stream re-reads the ticket when nothing was announced.
const TICKET_EVENT_TICK: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsParams {
    /// The ticket's play key (or send it as `Authorization: Bearer <play_key>`).
    pub key: Option<String>,
}

/// Live queue position: server-sent events, one `ticket` event (a [`Ticket`] as JSON) whenever
/// it changes. Listening keeps the ticket in line (as polling does) and claims a promotion; the
/// stream ends after the ticket leaves the line.
#[utoipa::path(get, path = "/v1/play/tickets/{id}/events", tag = "play", params(EventsParams),
    responses((status = 200, content_type = "text/event-stream", body = Ticket), (status = 403, body = playrack_wire::Problem)))]
async fn ticket_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Query<EventsParams>,
) -> ApiResult<
    axum::response::sse::Sse<
        impl futures_util::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
    >,
> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    let presented = params.key.as_deref().or(crate::auth::bearer(&headers));
    lifecycle::require_play_key(&state, Held::Ticket(&id), presented).await?;
    let first = for_holder(&state, queue::poll(&state, &id).await?).await?;
    let rx = state.queue_changed.subscribe();
    struct Cursor {
        state: AppState,
        id: String,
        rx: tokio::sync::broadcast::Receiver<()>,
        last: Option<Ticket>,
        pending: Option<Ticket>,
        done: bool,
    }
    let cursor = Cursor {
        state,
        id,
        rx,
        last: None,
        pending: Some(first),
        done: false,
    };
    let stream = futures_util::stream::unfold(cursor, |mut c| async move {
        loop {
            if c.done {
                return None;
            }
            if let Some(t) = c.pending.take().filter(|t| c.last.as_ref() != Some(t)) {
                c.done = !matches!(t.state, TicketState::Waiting | TicketState::Promoted);
                c.last = Some(t.clone());
                let event = Event::default()
                    .event("ticket")
                    .json_data(&t)
                    .unwrap_or_default();
                return Some((Ok(event), c));
            }
            tokio::select! {
                _ = c.rx.recv() => {}
                _ = tokio::time::sleep(TICKET_EVENT_TICK) => {}
            }
            let next = match queue::poll(&c.state, &c.id).await {
                Ok(t) => for_holder(&c.state, t).await,
                Err(e) => Err(e.into()),
            };
            match next {
                Ok(t) => c.pending = Some(t),
                Err(_) => return None,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
