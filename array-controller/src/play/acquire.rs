//! Acquire: resolve the player and the game, then — in one serialised transaction — return the
//! player's live session or ticket if there is one, else place the play (a reserved session) or
//! queue it (a ticket). Idempotent per `Idempotency-Key`.

use super::{POLL_AFTER_MS, SLOTS_LOCK, identity, queue, snapshot};
use crate::db::{self, WriteTx};
use crate::error::{ApiError, ApiResult};
use crate::scheduler::placement::{self, Decision, PlayRequest};
use crate::state::AppState;
use axum::http::StatusCode;
use playrack_wire::api::{AcquireRequest, AcquireResponse, TrialDefaults};
use sqlx::Row;
use sqlx::any::AnyRow;

/// A play request resolved to its tenant, game, version and player.
#[derive(Debug, Clone)]
pub struct Play {
    pub tenant_id: String,
    pub game_id: String,
    pub version_id: String,
    pub package: String,
    /// Specs to try, in order.
    pub specs: Vec<String>,
    pub user_key: String,
    pub user_level: i32,
    pub priority_tier: i32,
    pub link_id: Option<String>,
    pub timers: TrialDefaults,
    pub request: AcquireRequest,
}

impl Play {
    pub fn live_key(&self) -> String {
        format!("{}|{}|{}", self.tenant_id, self.user_key, self.game_id)
    }

    pub fn placement_request(&self) -> PlayRequest {
        PlayRequest {
            specs: self.specs.clone(),
            rtt_ms: self.request.rtt_ms.clone(),
            region_hint: self.request.region.clone(),
        }
    }
}

fn gone(code: &'static str, detail: &str) -> ApiError {
    ApiError::coded(StatusCode::GONE, code, detail)
}

/// Resolves who plays what (outside the reserving transaction: reads only).
/// A try-play link by its code, if it can still be played: unknown codes are 404, revoked or
/// expired links 410 (`LINK_REVOKED`, `LINK_EXPIRED`).
pub async fn open_link(state: &AppState, code: &str) -> ApiResult<AnyRow> {
    let link = sqlx::query("SELECT * FROM links WHERE code = $1")
        .bind(code)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or(ApiError::NotFound("link"))?;
    if link.try_get::<Option<i64>, _>("revoked_at")?.is_some() {
        return Err(gone("LINK_REVOKED", "this try-play link was revoked"));
    }
    if link
        .try_get::<Option<i64>, _>("expires_at")?
        .is_some_and(|e| e <= crate::now().millis())
    {
        return Err(gone("LINK_EXPIRED", "this try-play link has expired"));
    }
    Ok(link)
}

pub async fn resolve(state: &AppState, req: AcquireRequest) -> ApiResult<Play> {
    let now = crate::now();
    let (tenant_id, game_id, user_key, user_level, link_id, trial_secs) =
        match (&req.link, &req.player_token) {
            (Some(code), None) => {
                let device = req.device_id.as_deref().unwrap_or_default();
                if !identity::valid_device_id(device) {
                    return Err(ApiError::Validation(
                        "device_id must be 16–64 characters of letters, digits, - and _".into(),
                    ));
                }
                let link = open_link(state, code).await?;
                (
                    link.try_get::<String, _>("tenant_id")?,
                    link.try_get::<String, _>("game_id")?,
                    format!("anon:{device}"),
                    0,
                    Some(link.try_get::<String, _>("id")?),
                    Some(link.try_get::<i64, _>("trial_seconds")? as u32),
                )
            }
            (None, Some(token)) => {
                let game_id = req
                    .game_id
                    .clone()
                    .ok_or_else(|| ApiError::Validation("a player_token needs a game_id".into()))?;
                let claimed = identity::peek(token)?;
                let key: String =
                    sqlx::query_scalar("SELECT secret FROM player_keys WHERE tenant_id = $1")
                        .bind(&claimed.tenant)
                        .fetch_optional(&state.db.pool)
                        .await?
                        .ok_or(ApiError::Unauthenticated(
                            "the player token's tenant has no player key",
                        ))?;
                let payload = identity::verify(&key, token, now.millis() / 1000)?;
                (
                    payload.tenant,
                    game_id,
                    format!("user:{}", payload.user),
                    payload.level,
                    None,
                    None,
                )
            }
            _ => {
                return Err(ApiError::Validation(
                    "send either link (with device_id) or game_id with player_token".into(),
                ));
            }
        };
    let row = sqlx::query(
        "SELECT g.spec_ids, g.trial_defaults, g.package_name, t.status, t.priority_tier FROM games g JOIN tenants t ON t.id = g.tenant_id \
         WHERE g.id = $1 AND g.tenant_id = $2",
    )
    .bind(&game_id)
    .bind(&tenant_id)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or(ApiError::NotFound("game"))?;
    if row.try_get::<String, _>("status")? != "active" {
        return Err(ApiError::Forbidden(
            "the game's publisher is suspended".into(),
        ));
    }
    let mut specs: Vec<String> = db::json_col(&row, "spec_ids")?;
    if let Some(pref) = &req.spec_id {
        let i = specs.iter().position(|s| s == pref).ok_or_else(|| {
            ApiError::Validation(format!("spec `{pref}` is not allowed for this game"))
        })?;
        let s = specs.remove(i);
        specs.insert(0, s);
    }
    let mut timers: TrialDefaults = db::json_col(&row, "trial_defaults")?;
    if let Some(t) = trial_secs {
        timers.max_play_seconds = t;
    }
    let version = sqlx::query(
        "SELECT id FROM versions WHERE game_id = $1 AND state = 'READY' AND published_at IS NOT NULL ORDER BY ready_version_code DESC LIMIT 1",
    )
    .bind(&game_id)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or_else(|| ApiError::conflict("GAME_NOT_PLAYABLE", "the game has no published version"))?;
    if let Some(archive) = req.archive_id.as_deref() {
        // A chosen archive must exist for this player and fit the instances' Android version.
        crate::archives::to_restore(
            &state.db.pool,
            &tenant_id,
            &user_key,
            &game_id,
            Some(archive),
            super::lifecycle::INSTANCE_SDK,
        )
        .await?;
    }
    Ok(Play {
        version_id: version.try_get("id")?,
        package: row
            .try_get::<Option<String>, _>("package_name")?
            .unwrap_or_default(),
        priority_tier: row.try_get::<i64, _>("priority_tier")? as i32,
        tenant_id,
        game_id,
        specs,
        user_key,
        user_level,
        link_id,
        timers,
        request: req,
    })
}

/// Acquire, end to end.
pub async fn acquire(
    state: &AppState,
    idempotency_key: Option<String>,
    req: AcquireRequest,
) -> ApiResult<AcquireResponse> {
    if idempotency_key
        .as_ref()
        .is_some_and(|k| k.is_empty() || k.len() > 128)
    {
        return Err(ApiError::Validation(
            "Idempotency-Key must be 1–128 characters".into(),
        ));
    }
    let play = resolve(state, req).await?;
    let now = crate::now();
    let mut tx = state.db.write_serialized(SLOTS_LOCK).await?;
    if let Some(k) = &idempotency_key {
        let stored: Option<String> =
            sqlx::query_scalar("SELECT response FROM idempotency WHERE scope = $1 AND key = $2")
                .bind(&play.user_key)
                .bind(k)
                .fetch_optional(&mut **tx)
                .await?;
        if let Some(s) = stored {
            return serde_json::from_str(&s).map_err(|e| ApiError::Internal(e.to_string()));
        }
    }
    let (answer, fresh) = match existing(&mut tx, &play).await? {
        Some(a) => (a, false),
        None => (place_or_queue(&mut tx, &play, now.millis()).await?, true),
    };
    if let Some(k) = &idempotency_key {
        sqlx::query(
            "INSERT INTO idempotency (scope, key, response, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&play.user_key)
        .bind(k)
        .bind(serde_json::to_string(&answer).expect("json"))
        .bind(now.millis())
        .execute(&mut **tx)
        .await?;
    }
    tx.commit().await?;
    if let (true, AcquireResponse::Assigned { session_id, .. }) = (fresh, &answer) {
        super::lifecycle::dispatch_prepare(state, std::slice::from_ref(session_id)).await?;
    }
    let outcome = if matches!(answer, AcquireResponse::Assigned { .. }) {
        "assigned"
    } else {
        "queued"
    };
    metrics::counter!("playrack_acquires_total", "outcome" => outcome).increment(1);
    Ok(answer)
}

/// The player's live session or ticket for this game, if any ("already playing" returns it).
async fn existing(tx: &mut WriteTx, play: &Play) -> ApiResult<Option<AcquireResponse>> {
    let key = play.live_key();
    if let Some(r) = sqlx::query(
        "SELECT id, room_id, board_id, spec_id, downgraded FROM sessions WHERE live_key = $1",
    )
    .bind(&key)
    .fetch_optional(&mut ***tx)
    .await?
    {
        return Ok(Some(AcquireResponse::Assigned {
            session_id: r.try_get("id")?,
            room_id: r.try_get("room_id")?,
            board_id: r.try_get("board_id")?,
            spec_id: r.try_get("spec_id")?,
            downgraded: r.try_get::<i64, _>("downgraded")? != 0,
        }));
    }
    if let Some(id) = sqlx::query_scalar::<_, String>("SELECT id FROM tickets WHERE live_key = $1")
        .bind(&key)
        .fetch_optional(&mut ***tx)
        .await?
    {
        let t = queue::view(tx, &id).await?;
        return Ok(Some(queued_answer(&t)));
    }
    Ok(None)
}

pub fn queued_answer(t: &playrack_wire::api::Ticket) -> AcquireResponse {
    AcquireResponse::Queued {
        ticket_id: t.id.clone(),
        position: t.position.unwrap_or(0),
        queue_length: t.queue_length,
        eta_secs: t.eta_secs,
        reason: t.reason.clone(),
        poll_after_ms: POLL_AFTER_MS,
    }
}

async fn place_or_queue(tx: &mut WriteTx, play: &Play, now: i64) -> ApiResult<AcquireResponse> {
    match decide(tx, play, now).await? {
        Decision::Assign {
            spec_id,
            order_id,
            room_id,
            board_id,
            downgraded,
            ..
        } => {
            let session_id = reserve(
                tx, play, &spec_id, &order_id, &room_id, &board_id, downgraded, now,
            )
            .await?;
            Ok(AcquireResponse::Assigned {
                session_id,
                room_id,
                board_id,
                spec_id,
                downgraded,
            })
        }
        Decision::Queue(reason) => {
            let id = queue::enqueue(tx, play, reason.as_str(), now).await?;
            let t = queue::view(tx, &id).await?;
            Ok(queued_answer(&t))
        }
    }
}

/// Asks the placement core, on a snapshot read in `tx`.
pub async fn decide(tx: &mut WriteTx, play: &Play, now: i64) -> ApiResult<Decision> {
    let orders = snapshot::orders(tx, &play.tenant_id, now).await?;
    let rooms = snapshot::rooms(tx, &play.version_id, &play.package).await?;
    Ok(placement::decide(
        &play.placement_request(),
        &orders,
        &rooms,
    ))
}

/// Inserts a reserved session (and counts a link play).
#[allow(clippy::too_many_arguments)]
pub async fn reserve(
    tx: &mut WriteTx,
    play: &Play,
    spec_id: &str,
    order_id: &str,
    room_id: &str,
    board_id: &str,
    downgraded: bool,
    now: i64,
) -> ApiResult<String> {
    if let Some(link) = &play.link_id {
        let used = sqlx::query(
            "UPDATE links SET plays_used = plays_used + 1 WHERE id = $1 AND (max_plays IS NULL OR plays_used < max_plays)",
        )
        .bind(link)
        .execute(&mut ***tx)
        .await?;
        if used.rows_affected() == 0 {
            return Err(gone(
                "LINK_EXHAUSTED",
                "this try-play link has no plays left",
            ));
        }
    }
    let id = db::new_id("ses");
    sqlx::query(
        "INSERT INTO sessions (id, tenant_id, game_id, version_id, user_key, link_id, spec_id, order_id, room_id, board_id, \
         state, downgraded, max_play_secs, reconnect_grace_secs, idle_kick_secs, device, created_at, live_key, archive_id) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,'reserved',$11,$12,$13,$14,$15,$16,$17,$18)",
    )
    .bind(&id)
    .bind(&play.tenant_id)
    .bind(&play.game_id)
    .bind(&play.version_id)
    .bind(&play.user_key)
    .bind(&play.link_id)
    .bind(spec_id)
    .bind(order_id)
    .bind(room_id)
    .bind(board_id)
    .bind(i64::from(downgraded))
    .bind(i64::from(play.timers.max_play_seconds))
    .bind(i64::from(play.timers.reconnect_grace_seconds))
    .bind(i64::from(play.timers.idle_kick_seconds))
    .bind(play.request.device.as_ref().map(|d| serde_json::to_string(d).expect("json")))
    .bind(now)
    .bind(play.live_key())
    .bind(&play.request.archive_id)
    .execute(&mut ***tx)
    .await?;
    Ok(id)
}
