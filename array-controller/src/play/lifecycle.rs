//! A session's life after it is reserved: the board agent prepares it, the player connects,
//! the three timers run, and it ends — by the player, a timer, a kick, the app, or the board.
//!
//! ```text
//! reserved ──prepare command──▶ preparing ──agent: ready──▶ ready ──agent: playing──▶ playing
//!     │                                                                            │
//!     └──────────── any end (reason) ─▶ ended ◀── timers / kick / leave / agent ───┘
//! ```
//! Ends go through `queue::end_in` (which frees the slot and promotes the queue); this module
//! also tells the board to stop the play (`EndSession`), saving the archive when the game's
//! policy says so.

use super::queue;
use crate::error::{ApiError, ApiResult};
use crate::scheduler::timers::{self, SessionClock};
use crate::state::AppState;
use playrack_wire::Timestamp;
use playrack_wire::agent::{AgentSessionState, Command, ControllerMessage, InstanceReport};
use playrack_wire::api::{ConnectInfo, Spec};
use playrack_wire::session_token::{self, SessionClaims};
use playrack_wire::signaling::PeerRole;
use sqlx::Row;

/// The Android API level of the instances boards run (redroid 13 images and the virtual device
/// report 33); archives saved on a newer level are not restored onto them.
pub const INSTANCE_SDK: u32 = 33;

/// Why a session ended: the reasons the API reports.
pub const END_REASONS: [&str; 9] = [
    "USER_LEFT",
    "TRIAL_OVER",
    "IDLE",
    "KICKED",
    "BOARD_LOST",
    "APP_CRASHED",
    "MAINTENANCE",
    "CLAIM_EXPIRED",
    "ERROR",
];

/// Lifetime of a session token handed to a player.
pub const TOKEN_TTL_SECS: i64 = 300;

/// The controller's Ed25519 session-token key, created on first use and shared by every
/// controller on the same database.
pub async fn signing_key(state: &AppState) -> ApiResult<[u8; 32]> {
    if let Some(k) = state.signing_key.get() {
        return Ok(*k);
    }
    let existing: Option<String> =
        sqlx::query_scalar("SELECT secret FROM signing_keys ORDER BY created_at LIMIT 1")
            .fetch_optional(&state.db.pool)
            .await?;
    let secret = match existing {
        Some(hex) => hex::decode(hex)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| ApiError::Internal("bad signing key".into()))?,
        None => {
            let secret: [u8; 32] = rand::random();
            let mut tx = state.db.write().await?;
            sqlx::query("INSERT INTO signing_keys (id, secret, public_key, created_at) VALUES ('session', $1, $2, $3) ON CONFLICT (id) DO NOTHING")
                .bind(hex::encode(secret))
                .bind(session_token::public_key(&secret))
                .bind(crate::now().millis())
                .execute(&mut **tx)
                .await?;
            let stored: String =
                sqlx::query_scalar("SELECT secret FROM signing_keys WHERE id = 'session'")
                    .fetch_one(&mut **tx)
                    .await?;
            tx.commit().await?;
            hex::decode(stored)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| ApiError::Internal("bad signing key".into()))?
        }
    };
    let _ = state.signing_key.set(secret);
    Ok(secret)
}

/// Sends the prepare command for freshly reserved sessions (after their transaction committed).
pub async fn dispatch_prepare(state: &AppState, session_ids: &[String]) -> ApiResult<()> {
    for id in session_ids {
        let row = sqlx::query(
            "SELECT s.board_id, s.spec_id, s.tenant_id, s.user_key, s.game_id, s.archive_id, g.archive_policy, v.sha256, v.apk \
             FROM sessions s JOIN versions v ON v.id = s.version_id JOIN games g ON g.id = s.game_id \
             WHERE s.id = $1 AND s.state = 'reserved'",
        )
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?;
        let Some(row) = row else { continue };
        let board: String = row.try_get("board_id")?;
        let spec_id: String = row.try_get("spec_id")?;
        let spec_row = sqlx::query("SELECT * FROM specs WHERE id = $1")
            .bind(&spec_id)
            .fetch_one(&state.db.pool)
            .await?;
        let spec = Spec {
            id: spec_id,
            name: spec_row.try_get("name")?,
            width: spec_row.try_get::<i64, _>("width")? as u32,
            height: spec_row.try_get::<i64, _>("height")? as u32,
            fps: spec_row.try_get::<i64, _>("fps")? as u32,
            bitrate_min_kbps: spec_row.try_get::<i64, _>("bitrate_min_kbps")? as u32,
            bitrate_max_kbps: spec_row.try_get::<i64, _>("bitrate_max_kbps")? as u32,
            cpu_millis: spec_row.try_get::<i64, _>("cpu_millis")? as u32,
            memory_mb: spec_row.try_get::<i64, _>("memory_mb")? as u32,
            price_per_minute_micros: spec_row.try_get("price_per_minute_micros")?,
        };
        let apk: playrack_wire::api::ApkSummary = crate::db::json_col(&row, "apk")?;
        let archive = if row.try_get::<String, _>("archive_policy")? == "single_player" {
            let requested: Option<String> = row.try_get("archive_id")?;
            crate::archives::to_restore(
                &state.db.pool,
                &row.try_get::<String, _>("tenant_id")?,
                &row.try_get::<String, _>("user_key")?,
                &row.try_get::<String, _>("game_id")?,
                requested.as_deref(),
                INSTANCE_SDK,
            )
            .await
            .unwrap_or_else(|e| {
                // The newest save does not fit this instance: start fresh rather than fail.
                tracing::warn!(session = %id, "no archive restored: {e}");
                None
            })
        } else {
            None
        };
        let command = Command::PrepareSession {
            session_id: id.clone(),
            package_sha256: row
                .try_get::<Option<String>, _>("sha256")?
                .unwrap_or_default(),
            package_name: apk.package,
            launch_activity: apk.launchable_activity,
            spec: Box::new(spec),
            archive,
        };
        let msg = ControllerMessage::Command {
            id: format!("prep-{id}"),
            command,
        };
        if state.agents.send(&board, msg) {
            sqlx::query(
                "UPDATE sessions SET state = 'preparing' WHERE id = $1 AND state = 'reserved'",
            )
            .bind(id)
            .execute(&state.db.pool)
            .await?;
        } else {
            tracing::warn!(session = %id, %board, "board not connected here: prepare deferred to its reconnect");
        }
    }
    Ok(())
}

/// How the player connects, once the agent says the session is ready.
pub async fn connect_info(
    state: &AppState,
    session_id: &str,
    role: PeerRole,
) -> ApiResult<Option<ConnectInfo>> {
    let row = sqlx::query(
        "SELECT s.board_id, s.state, b.signaling_url FROM sessions s JOIN boards b ON b.id = s.board_id WHERE s.id = $1",
    )
    .bind(session_id)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or(ApiError::NotFound("session"))?;
    let st: String = row.try_get("state")?;
    if st != "ready" && st != "playing" {
        return Ok(None);
    }
    let board: String = row.try_get("board_id")?;
    let secret = signing_key(state).await?;
    let expires_at = crate::now().plus_secs(TOKEN_TTL_SECS);
    let claims = SessionClaims {
        session: session_id.to_owned(),
        board,
        role,
        exp: expires_at.millis() / 1000,
        jti: crate::db::random_token(16),
    };
    Ok(Some(ConnectInfo {
        signaling_url: row
            .try_get::<Option<String>, _>("signaling_url")?
            .unwrap_or_default(),
        token: session_token::sign(&secret, &claims),
        expires_at,
    }))
}

/// Records what a board says about one of its sessions.
#[allow(clippy::too_many_arguments)]
pub async fn on_agent_session(
    state: &AppState,
    board_id: &str,
    session_id: &str,
    agent_state: AgentSessionState,
    reason: Option<String>,
    connected: bool,
    last_input_at: Option<Timestamp>,
) -> ApiResult<()> {
    let now = crate::now().millis();
    let owner: Option<String> =
        sqlx::query_scalar("SELECT board_id FROM sessions WHERE id = $1 AND state <> 'ended'")
            .bind(session_id)
            .fetch_optional(&state.db.pool)
            .await?;
    if owner.as_deref() != Some(board_id) {
        // Not a live session of this board: tell it to let go.
        end_on_board(state, board_id, session_id, "ERROR", false);
        return Ok(());
    }
    match agent_state {
        AgentSessionState::Ended | AgentSessionState::Ending => {
            // Boards may explain more ("prepare_failed: …"); the session keeps a known reason.
            let reason = reason.as_deref().unwrap_or("ERROR");
            let known = END_REASONS
                .iter()
                .find(|r| **r == reason)
                .copied()
                .unwrap_or_else(|| {
                    tracing::warn!(session = %session_id, %reason, "session ended by its board");
                    "ERROR"
                });
            queue::end_session(state, session_id, known).await?;
        }
        AgentSessionState::Preparing => {}
        AgentSessionState::Ready | AgentSessionState::Playing => {
            let new_state = if agent_state == AgentSessionState::Ready {
                "ready"
            } else {
                "playing"
            };
            sqlx::query(
                "UPDATE sessions SET state = CASE WHEN state = 'playing' THEN 'playing' ELSE $1 END, \
                 ready_at = COALESCE(ready_at, $2), \
                 playing_since = CASE WHEN $1 = 'playing' THEN COALESCE(playing_since, $2) ELSE playing_since END, \
                 connected = $3, \
                 disconnected_at = CASE WHEN $3 = 1 THEN NULL ELSE COALESCE(disconnected_at, $2) END, \
                 last_input_at = COALESCE($4, last_input_at) \
                 WHERE id = $5 AND state <> 'ended'",
            )
            .bind(new_state)
            .bind(now)
            .bind(i64::from(connected))
            .bind(last_input_at.map(|t| t.millis()))
            .bind(session_id)
            .execute(&state.db.pool)
            .await?;
            if agent_state == AgentSessionState::Playing {
                // The billable play starts now (idempotent: only the first report counts).
                let mut tx = state.db.write().await?;
                crate::metering::on_session_start(&mut tx, session_id).await?;
                tx.commit().await?;
            }
        }
    }
    Ok(())
}

/// Asks a board to stop a play (fire and forget: the board confirms with a session report).
pub fn end_on_board(
    state: &AppState,
    board_id: &str,
    session_id: &str,
    reason: &str,
    save_archive: bool,
) {
    let msg = ControllerMessage::Command {
        id: format!("end-{session_id}"),
        command: Command::EndSession {
            session_id: session_id.to_owned(),
            reason: reason.to_owned(),
            save_archive,
        },
    };
    state.agents.send(board_id, msg);
}

/// Ends a session for `reason` and tells its board, saving the archive for single-player games.
pub async fn end(state: &AppState, session_id: &str, reason: &str) -> ApiResult<bool> {
    let row = sqlx::query("SELECT s.board_id, g.archive_policy FROM sessions s JOIN games g ON g.id = s.game_id WHERE s.id = $1")
        .bind(session_id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or(ApiError::NotFound("session"))?;
    let ended = queue::end_session(state, session_id, reason).await?;
    if ended {
        let save = row.try_get::<String, _>("archive_policy")? == "single_player"
            && reason != "BOARD_LOST";
        end_on_board(
            state,
            &row.try_get::<String, _>("board_id")?,
            session_id,
            reason,
            save,
        );
    }
    Ok(ended)
}

/// Runs the three timers of every playing session at `now`, ending those that fired.
pub async fn tick(state: &AppState, now: Timestamp) -> ApiResult<usize> {
    let rows = sqlx::query(
        "SELECT id, playing_since, max_play_secs, reconnect_grace_secs, idle_kick_secs, last_input_at, disconnected_at \
         FROM sessions WHERE state = 'playing'",
    )
    .fetch_all(&state.db.pool)
    .await?;
    let mut ended = 0;
    for r in rows {
        let since: i64 = r
            .try_get::<Option<i64>, _>("playing_since")?
            .unwrap_or(now.millis());
        let clock = SessionClock {
            playing_since: Timestamp(since),
            max_play_secs: r.try_get::<i64, _>("max_play_secs")? as u32,
            reconnect_grace_secs: r.try_get::<i64, _>("reconnect_grace_secs")? as u32,
            idle_kick_secs: r.try_get::<i64, _>("idle_kick_secs")? as u32,
            last_input_at: Timestamp(
                r.try_get::<Option<i64>, _>("last_input_at")?
                    .unwrap_or(since),
            ),
            disconnected_at: r
                .try_get::<Option<i64>, _>("disconnected_at")?
                .map(Timestamp),
        };
        if let Some(expiry) = timers::due(&clock, now) {
            let id: String = r.try_get("id")?;
            if end(state, &id, expiry.reason()).await? {
                ended += 1;
            }
        }
    }
    Ok(ended)
}

/// Ends every live session of a board that was lost.
pub async fn board_lost(state: &AppState, board_id: &str) -> ApiResult<usize> {
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM sessions WHERE board_id = $1 AND state <> 'ended'")
            .bind(board_id)
            .fetch_all(&state.db.pool)
            .await?;
    let mut n = 0;
    for id in ids {
        if queue::end_session(state, &id, "BOARD_LOST").await? {
            n += 1;
        }
    }
    Ok(n)
}

/// After a board's hello: sessions it no longer runs end as BOARD_LOST; sessions it runs that
/// the controller does not know as live are stopped on the board (the instance is recycled;
/// one that ended while the board was away ends with its reason and archive save);
/// reserved sessions still waiting for their prepare command get it now.
pub async fn reconcile(
    state: &AppState,
    board_id: &str,
    instances: &[InstanceReport],
) -> ApiResult<()> {
    let reported: Vec<&str> = instances
        .iter()
        .filter_map(|i| i.session_id.as_deref())
        .collect();
    let live =
        sqlx::query("SELECT id, state FROM sessions WHERE board_id = $1 AND state <> 'ended'")
            .bind(board_id)
            .fetch_all(&state.db.pool)
            .await?;
    let mut pending = Vec::new();
    let mut known = Vec::new();
    for r in &live {
        let id: String = r.try_get("id")?;
        let st: String = r.try_get("state")?;
        if st == "reserved" {
            pending.push(id.clone());
        } else if !reported.contains(&id.as_str()) {
            queue::end_session(state, &id, "BOARD_LOST").await?;
        }
        known.push(id);
    }
    for s in reported {
        if known.iter().any(|k| k == s) {
            continue;
        }
        // It ended while the board was away (the EndSession was lost): end it on the board
        // the way it ended here, saving the archive when the game keeps one.
        let ended = sqlx::query(
            "SELECT s.end_reason, g.archive_policy FROM sessions s JOIN games g ON g.id = s.game_id \
             WHERE s.id = $1 AND s.board_id = $2 AND s.state = 'ended'",
        )
        .bind(s)
        .bind(board_id)
        .fetch_optional(&state.db.pool)
        .await?;
        match ended {
            Some(row) => {
                let reason: String = row
                    .try_get::<Option<String>, _>("end_reason")?
                    .unwrap_or_else(|| "ERROR".into());
                let save = row.try_get::<String, _>("archive_policy")? == "single_player"
                    && reason != "BOARD_LOST";
                end_on_board(state, board_id, s, &reason, save);
            }
            None => end_on_board(state, board_id, s, "ERROR", false),
        }
    }
    dispatch_prepare(state, &pending).await
}

/// Drains (or undrains) a board: it takes no new sessions; players in session are told.
pub fn drain(state: &AppState, board_id: &str, draining: bool) {
    let notice = draining.then(|| {
        "This machine is going into maintenance; your play will continue until it ends.".to_owned()
    });
    let msg = ControllerMessage::Command {
        id: format!("drain-{board_id}-{}", crate::now().millis()),
        command: Command::Drain { draining, notice },
    };
    state.agents.send(board_id, msg);
}
