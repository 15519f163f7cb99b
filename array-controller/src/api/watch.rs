//! Watch links over HTTP: a tenant makes a read-only link to one of its live plays or a wall of
//! a game's live plays; whoever holds the link watches as a spectator.
//!
//! ```text
//! POST   /v1/sessions/{id}/watch-links   tenant write: a link to this play   → WatchLink + code
//! POST   /v1/games/{id}/wall-links       tenant write: a wall of the game    → WatchLink + code
//! GET    /v1/watch-links                 the tenant's (operators: all)
//! POST   /v1/watch-links/{id}/revoke     tenant write: stops it at once
//! POST   /v1/play/watch/{code}           anyone with the code: WatchView (spectator tokens)
//! ```
//! The code is shown once and kept as its SHA-256. A view carries one spectator token per play
//! shown, each naming the link and its viewer limit, which the play's board enforces (it
//! counts the link's spectators it holds). Refusals: `WATCH_NOT_FOUND` (404),
//! `WATCH_REVOKED`, `WATCH_EXPIRED`, `WATCH_ENDED` (410: the play is over), `SPECTATORS_OFF`
//! (503 with `Retry-After`: an operator has switched spectating off for now).

use crate::api::catalog::load_game;
use crate::audit;
use crate::auth::Caller;
use crate::db::{self, PageParams, page_from};
use crate::error::{ApiError, ApiResult};
use crate::http::{Json, Query};
use crate::play::lifecycle;
use crate::state::AppState;
use crate::store::{self, watch::WatchRow};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use playrack_wire::api::*;
use playrack_wire::session_token::WatchClaim;
use playrack_wire::signaling::PeerRole;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_session_watch))
        .routes(routes!(create_wall))
        .routes(routes!(list_watch_links))
        .routes(routes!(revoke_watch_link))
        .routes(routes!(watch))
}

fn code_hash(code: &str) -> String {
    hex::encode(Sha256::digest(code.as_bytes()))
}

/// Checks a request's numbers and makes the row (the code is returned beside it, once).
fn new_link(
    req: &CreateWatchLink,
    kind: WatchKind,
    tenant: &str,
    game: &str,
    session: Option<&str>,
) -> ApiResult<(WatchRow, String)> {
    let max_viewers = req.max_viewers.unwrap_or(10);
    if !(1..=MAX_WATCH_VIEWERS).contains(&max_viewers) {
        return Err(ApiError::Validation(format!(
            "max_viewers must be 1–{MAX_WATCH_VIEWERS}"
        )));
    }
    let ttl = req.ttl_seconds.unwrap_or(3600);
    if !(60..=MAX_WATCH_TTL_SECS).contains(&ttl) {
        return Err(ApiError::Validation(format!(
            "ttl_seconds must be 60–{MAX_WATCH_TTL_SECS}"
        )));
    }
    let tiles = match kind {
        WatchKind::Session if req.tiles.is_some_and(|t| t != 1) => {
            return Err(ApiError::Validation(
                "a session's watch link shows its one play: leave tiles out".into(),
            ));
        }
        WatchKind::Session => 1,
        WatchKind::Wall => req.tiles.unwrap_or(4),
    };
    if !(1..=MAX_WALL_TILES).contains(&tiles) {
        return Err(ApiError::Validation(format!(
            "tiles must be 1–{MAX_WALL_TILES}"
        )));
    }
    let now = crate::now();
    let code = db::random_token(24);
    let row = WatchRow {
        id: db::new_id("wat"),
        tenant_id: tenant.to_owned(),
        kind: store::watch::kind_str(kind).to_owned(),
        session_id: session.map(str::to_owned),
        game_id: game.to_owned(),
        code_sha256: code_hash(&code),
        max_viewers: max_viewers.into(),
        tiles: tiles.into(),
        expires_at: now.plus_secs(ttl.into()).millis(),
        revoked_at: None,
        created_at: now.millis(),
    };
    Ok((row, code))
}

async fn store_link(
    state: &AppState,
    caller: &Caller,
    row: WatchRow,
    code: String,
) -> ApiResult<(StatusCode, axum::Json<WatchLink>)> {
    let mut tx = state.db.write().await?;
    store::watch::insert(&mut tx, &row).await?;
    audit::record(
        &mut tx,
        caller,
        Some(&row.tenant_id),
        "watch_link.create",
        &row.id,
        serde_json::json!({"kind": row.kind, "session_id": row.session_id,
            "game_id": row.game_id, "max_viewers": row.max_viewers, "tiles": row.tiles}),
    )
    .await?;
    tx.commit().await?;
    let mut link = row.to_wire();
    link.path = Some(format!("/watch/{code}"));
    link.code = Some(code);
    Ok((StatusCode::CREATED, axum::Json(link)))
}

/// A read-only link to this live play: its holders watch, at most `max_viewers` at once,
/// until it expires or is revoked. The code is in this answer only. Audited.
#[utoipa::path(post, path = "/v1/sessions/{id}/watch-links", tag = "watch",
    request_body = CreateWatchLink,
    responses((status = 201, body = WatchLink), (status = 409, body = playrack_wire::Problem)))]
async fn create_session_watch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<CreateWatchLink>,
) -> ApiResult<(StatusCode, axum::Json<WatchLink>)> {
    let s = store::sessions::get(&state.db.pool, &id)
        .await?
        .ok_or(ApiError::NotFound("session"))?
        .to_wire();
    caller.require_tenant_write(&s.tenant_id, "session")?;
    if s.state == SessionState::Ended {
        return Err(ApiError::conflict("SESSION_ENDED", "the play is over"));
    }
    let (row, code) = new_link(
        &req,
        WatchKind::Session,
        &s.tenant_id,
        &s.game_id,
        Some(&id),
    )?;
    store_link(&state, &caller, row, code).await
}

/// A wall: a link showing the game's newest live plays, `tiles` of them (default 4), for a
/// screen at an event. Audited.
#[utoipa::path(post, path = "/v1/games/{id}/wall-links", tag = "watch",
    request_body = CreateWatchLink, responses((status = 201, body = WatchLink)))]
async fn create_wall(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<CreateWatchLink>,
) -> ApiResult<(StatusCode, axum::Json<WatchLink>)> {
    let game = load_game(&state, &id).await?;
    caller.require_tenant_write(&game.tenant_id, "game")?;
    let (row, code) = new_link(&req, WatchKind::Wall, &game.tenant_id, &id, None)?;
    store_link(&state, &caller, row, code).await
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListWatchParams {
    /// Items per page, 1–200 (default 50).
    #[serde(default, deserialize_with = "crate::db::page_limit")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// The tenant's watch links (operators: every tenant's), codes not included.
#[utoipa::path(get, path = "/v1/watch-links", tag = "watch", params(ListWatchParams),
    responses((status = 200, body = Page<WatchLink>)))]
async fn list_watch_links(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListWatchParams>,
) -> ApiResult<axum::Json<Page<WatchLink>>> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let rows = store::watch::page(
        &state.db.pool,
        caller.tenant_scope().unwrap_or(""),
        &page.cursor(),
        page.limit() + 1,
    )
    .await?;
    let items: Vec<WatchLink> = rows.iter().map(WatchRow::to_wire).collect();
    Ok(axum::Json(page_from(items, &page, |l| l.id.clone())))
}

/// Revokes a watch link: no one new watches through it. Audited.
#[utoipa::path(post, path = "/v1/watch-links/{id}/revoke", tag = "watch",
    responses((status = 200, body = WatchLink)))]
async fn revoke_watch_link(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<WatchLink>> {
    let row = store::watch::get(&state.db.pool, &id)
        .await?
        .ok_or(ApiError::NotFound("watch link"))?;
    caller.require_tenant_write(&row.tenant_id, "watch link")?;
    let mut tx = state.db.write().await?;
    store::watch::revoke(&mut tx, &id, crate::now().millis()).await?;
    audit::record(
        &mut tx,
        &caller,
        Some(&row.tenant_id),
        "watch_link.revoke",
        &id,
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    let row = store::watch::get(&state.db.pool, &id)
        .await?
        .ok_or(ApiError::NotFound("watch link"))?;
    Ok(axum::Json(row.to_wire()))
}

/// What a watch link shows now: a spectator token for each play (the one play, or the wall's
/// newest), each for that play's board. No play streaming yet: no tiles (ask again).
#[utoipa::path(post, path = "/v1/play/watch/{code}", tag = "watch",
    responses((status = 200, body = WatchView), (status = 404, body = playrack_wire::Problem),
              (status = 410, body = playrack_wire::Problem)))]
async fn watch(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<axum::Json<WatchView>> {
    let gone = |code, detail: &str| ApiError::coded(StatusCode::GONE, code, detail.to_owned());
    let row = if code.is_empty() || code.len() > 64 {
        None
    } else {
        store::watch::by_code(&state.db.pool, &code_hash(&code)).await?
    };
    let row = row.ok_or_else(|| {
        ApiError::coded(
            StatusCode::NOT_FOUND,
            "WATCH_NOT_FOUND",
            "there is no such watch link",
        )
    })?;
    let now = crate::now().millis();
    if row.revoked_at.is_some() {
        return Err(gone("WATCH_REVOKED", "this watch link has been withdrawn"));
    }
    if row.expires_at <= now {
        return Err(gone("WATCH_EXPIRED", "this watch link has expired"));
    }
    if state
        .switches
        .now()
        .stops(playrack_wire::api::SwitchName::Spectators, &row.tenant_id)
    {
        return Err(ApiError::coded(
            StatusCode::SERVICE_UNAVAILABLE,
            "SPECTATORS_OFF",
            "watching plays is switched off for a while; try again later",
        ));
    }
    let plays = match (row.kind(), &row.session_id) {
        (WatchKind::Session, Some(session)) => {
            let s = store::sessions::get(&state.db.pool, session)
                .await?
                .ok_or(ApiError::NotFound("session"))?
                .to_wire();
            if s.state == SessionState::Ended {
                return Err(gone("WATCH_ENDED", "the play this link shows is over"));
            }
            vec![session.clone()]
        }
        _ => {
            store::watch::streaming_plays(&state.db.pool, &row.tenant_id, &row.game_id, row.tiles)
                .await?
        }
    };
    let claim = WatchClaim {
        link: row.id.clone(),
        max_viewers: u32::try_from(row.max_viewers).unwrap_or(1),
    };
    let mut tiles = Vec::new();
    for session in plays {
        let connect =
            lifecycle::connect_info_for(&state, &session, PeerRole::Spectator, Some(claim.clone()))
                .await?;
        if let Some(connect) = connect {
            tiles.push(WatchTile {
                position: tiles.len() as u32 + 1,
                connect,
            });
        }
    }
    let game_name = load_game(&state, &row.game_id).await?.name;
    Ok(axum::Json(WatchView {
        kind: row.kind(),
        game_name,
        tiles,
        expires_at: playrack_wire::Timestamp(row.expires_at),
    }))
}
