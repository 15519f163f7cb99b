//! A session's life after it is reserved: the board agent prepares it, the player connects,
//! the three timers run, and it ends — by the player, a timer, a kick, the app, or the board.
//!
//! ```text
//! reserved ──prepare command──▶ preparing ──agent: ready──▶ ready ──agent: playing──▶ playing
//!     │                                                                            │
//!     └──────────── any end (reason) ─▶ ended ◀── timers / kick / leave / agent ───┘
//! ```
//! Sessions end here, and only here: every end goes through [`end_in`] (which frees the room
//! and order and writes the ledger row; the queue is promoted after commit), and the board is
//! told to stop the play (`EndSession`), saving the archive whenever the game keeps one. The board slot stays held until the board reports the play `ended` (its
//! instance is on its way back to the pool), so the next play is never sent to an instance
//! that is still resetting.
//!
//! Every session ends: a reservation the player never connects to ends `NO_SHOW` at its
//! connect deadline; a playing one by its timers. The sweeper finds both by index
//! (`connect_deadline`, `next_timer_at`), so a tick costs what is due, not what is live.

use super::error::{PlayError, PlayResult};
use super::{identity, queue};
use crate::db::WriteTx;
use crate::scheduler::timers::{self, SessionClock};
use crate::state::AppState;
use crate::store;
use playrack_wire::Timestamp;
use playrack_wire::agent::{AgentSessionState, Command, InstanceReport, LatencySamples};
use playrack_wire::api::{ConnectInfo, EndReason, SessionState};
use playrack_wire::session_token::{self, SessionClaims, WatchClaim};
use playrack_wire::signaling::PeerRole;

/// The Android API level of the instances boards run (redroid 13 images and the virtual device
/// report 33); archives saved on a newer level are not restored onto them.
pub const INSTANCE_SDK: u32 = 33;

/// Lifetime of a session token handed to a player.
pub const TOKEN_TTL_SECS: i64 = 300;

/// The controller's Ed25519 session-token key, created on first use and shared by every
/// controller on the same database.
pub async fn signing_key(state: &AppState) -> PlayResult<[u8; 32]> {
    if let Some(k) = state.signing_key.get() {
        return Ok(*k);
    }
    let bad = || PlayError::Internal("the stored session signing key is not 32 hex bytes".into());
    let purpose = crate::secrets::SESSION_KEY_PURPOSE;
    let stored = match store::keys::session_key(&state.db.pool).await? {
        Some(stored) => stored,
        None => {
            let secret: [u8; 32] = rand::random();
            let mut tx = state.db.write().await?;
            let stored = store::keys::create_session_key(
                &mut tx,
                &state.sealer.seal(purpose, &hex::encode(secret)),
                &session_token::public_key(&secret),
                crate::now().millis(),
            )
            .await?;
            tx.commit().await?;
            stored
        }
    };
    let hex_secret = state
        .sealer
        .open(purpose, &stored)
        .map_err(|e| PlayError::Internal(e.to_string()))?;
    let secret: [u8; 32] = hex::decode(hex_secret)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(bad)?;
    let _ = state.signing_key.set(secret);
    Ok(secret)
}

/// The play key of a ticket or session (see [`super::identity`]).
pub async fn play_key(state: &AppState, held: identity::Held<'_>) -> PlayResult<String> {
    Ok(identity::play_key(&signing_key(state).await?, held))
}

/// Refuses a player request that does not carry the play key of what it names.
pub async fn require_play_key(
    state: &AppState,
    held: identity::Held<'_>,
    presented: Option<&str>,
) -> PlayResult<()> {
    let what = match held {
        identity::Held::Ticket(_) => "ticket",
        identity::Held::Session(_) => "session",
    };
    let Some(key) = presented.filter(|k| !k.is_empty()) else {
        return Err(PlayError::NoPlayKey(what));
    };
    let secret = signing_key(state).await?;
    if identity::is_play_key(&secret, held, key) {
        Ok(())
    } else {
        Err(PlayError::NotYourPlay(what))
    }
}

/// Whether a game of this archive policy keeps a save per player (restored at prepare, saved
/// at every end).
fn keeps_archive(policy: &str) -> bool {
    store::catalog::parse_archive_policy(policy) == playrack_wire::api::ArchivePolicy::SinglePlayer
}

/// Whether a degrade switch has taken saves out (restore and save) for `tenant`'s plays.
fn archives_off(state: &AppState, tenant: &str) -> bool {
    state
        .switches
        .now()
        .stops(playrack_wire::api::SwitchName::Archives, tenant)
}

/// Sends the prepare command for freshly reserved sessions (after their transaction committed).
pub async fn dispatch_prepare(state: &AppState, session_ids: &[String]) -> PlayResult<()> {
    for id in session_ids {
        let Some(row) = store::sessions::prepare_view(&state.db.pool, id).await? else {
            continue;
        };
        let board = row.board_id.clone();
        let spec = store::catalog::spec(&state.db.pool, &row.spec_id)
            .await?
            .ok_or(PlayError::NotFound("spec"))?;
        let apk: playrack_wire::api::ApkSummary = serde_json::from_str(&row.apk)?;
        let archive = if keeps_archive(&row.archive_policy) && !archives_off(state, &row.tenant_id)
        {
            crate::archives::to_restore(
                &state.db.pool,
                &row.tenant_id,
                &row.user_key,
                &row.game_id,
                row.archive_id.as_deref(),
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
            version_id: Some(row.version_id.clone()),
            package_sha256: row.sha256.clone().unwrap_or_default(),
            package_name: apk.package,
            launch_activity: apk.launchable_activity,
            spec: Box::new(spec),
            archive: archive.map(Box::new),
            idle_kick_secs: u32::try_from(row.idle_kick_secs).ok().filter(|s| *s > 0),
        };
        // Pointless once the player's connect deadline has passed (the play ends NO_SHOW).
        let left_ms = row
            .connect_deadline
            .map_or(i64::from(state.config.connect_deadline_secs) * 1000, |d| {
                d - crate::now().millis()
            });
        let ttl = std::time::Duration::from_millis(left_ms.max(1000) as u64);
        let command_id = format!("prep-{id}-{board}");
        // The command is written only while the session is live, in the transaction that
        // marks it preparing: a player who left meanwhile (whose end already gave the slot
        // back, and may have told the board) never has an instance prepared for them.
        let mut tx = state.db.write().await?;
        if !store::sessions::begin_preparing(&mut tx, id).await? {
            continue;
        }
        crate::agents::outbox::send_in(&mut tx, &board, &command_id, command, ttl).await?;
        tx.commit().await?;
        crate::agents::outbox::wake(state, &board).await;
    }
    Ok(())
}

/// How the player connects, once the agent says the session is ready.
pub async fn connect_info(
    state: &AppState,
    session_id: &str,
    role: PeerRole,
) -> PlayResult<Option<ConnectInfo>> {
    connect_info_for(state, session_id, role, None).await
}

/// [`connect_info`] for a spectator a watch link admits (its viewer limit in the token).
pub async fn connect_info_for(
    state: &AppState,
    session_id: &str,
    role: PeerRole,
    watch: Option<WatchClaim>,
) -> PlayResult<Option<ConnectInfo>> {
    let view = store::sessions::connect_view(&state.db.pool, session_id)
        .await?
        .ok_or(PlayError::NotFound("session"))?;
    if !matches!(
        store::sessions::parse_state(&view.state),
        SessionState::Ready | SessionState::Playing
    ) {
        return Ok(None);
    }
    let board = view.board_id;
    let secret = signing_key(state).await?;
    let expires_at = crate::now().plus_secs(TOKEN_TTL_SECS);
    let claims = SessionClaims {
        session: session_id.to_owned(),
        board,
        role,
        exp: expires_at.millis() / 1000,
        jti: crate::db::random_token(16),
        watch,
    };
    Ok(Some(ConnectInfo {
        signaling_url: view.signaling_url.unwrap_or_default(),
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
    latency_ms: LatencySamples,
) -> PlayResult<()> {
    let now = crate::now().millis();
    if agent_state == AgentSessionState::Ended {
        return on_board_ended(state, board_id, session_id, reason.as_deref()).await;
    }
    let owner = store::sessions::live_board(&state.db.pool, session_id).await?;
    if owner.as_deref() != Some(board_id) {
        // Not a live session of this board: tell it to let go. One that has just ended here (a
        // report racing the end, which sends this same command) is let go the way it ended,
        // saving the archive when the game keeps one; anything else as an error.
        let (reason, save) =
            match store::sessions::how_it_ended(&state.db.pool, session_id, board_id).await? {
                Some((reason, policy)) => (
                    reason
                        .and_then(|r| EndReason::parse(&r))
                        .unwrap_or(EndReason::Error),
                    keeps_archive(&policy),
                ),
                None => (EndReason::Error, false),
            };
        end_on_board(state, board_id, session_id, reason, save).await?;
        return Ok(());
    }
    match agent_state {
        AgentSessionState::Ended => unreachable!("handled above"),
        AgentSessionState::Ending => {
            // The board is ending it on its own (it keeps the slot until it says `ended`).
            let known = known_reason(session_id, reason.as_deref());
            end_session(state, session_id, known).await?;
        }
        AgentSessionState::Preparing => {}
        AgentSessionState::Ready | AgentSessionState::Playing => {
            // A board's samples, as bounded and ranged as a player's input message is.
            let latency = latency_ms.bounded();
            let latency = latency.as_slice();
            let placed = store::sessions::record_report(
                &state.db,
                session_id,
                agent_state == AgentSessionState::Playing,
                connected,
                last_input_at.map(|t| t.millis()),
                store::sessions::LatencyBatch::of(latency),
                now,
            )
            .await?;
            if let Some((room, spec)) = placed {
                for ms in latency {
                    metrics::histogram!("playrack_touch_to_screen_seconds", "room" => room.clone(), "spec" => spec.clone())
                        .record(f64::from(*ms) / 1000.0);
                }
            }
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

/// A reason a board gave, as one the API reports (boards may explain more:
/// "prepare_failed: …", which reads as `ERROR`).
fn known_reason(session_id: &str, reason: Option<&str>) -> EndReason {
    let reason = reason.unwrap_or("ERROR");
    EndReason::parse(reason).unwrap_or_else(|| {
        tracing::warn!(session = %session_id, %reason, "session ended by its board");
        EndReason::Error
    })
}

/// The board says a play is over on its side: its instance is released, so the slot comes
/// back. A play still live here ends with the board's reason — except a preparation the board
/// refused, which is placed again elsewhere so the player never sees the refusal.
async fn on_board_ended(
    state: &AppState,
    board_id: &str,
    session_id: &str,
    reason: Option<&str>,
) -> PlayResult<()> {
    let live = store::sessions::live_on(&state.db.pool, session_id, board_id).await?;
    let refused = reason.is_some_and(|r| r.starts_with("prepare_failed"));
    let mut moved = false;
    if let (Some((st, _)), true) = (&live, refused)
        && (st == "reserved" || st == "preparing")
    {
        moved = place_again(state, board_id, session_id).await?;
    }
    let mut tx = state.db.write().await?;
    if !moved {
        // (A moved session no longer names this board; its slot here was given back.)
        store::slots::release(&mut tx, session_id).await?;
    }
    let ended = match (&live, moved) {
        (Some(_), false) => end_in(state, &mut tx, session_id, known_reason(session_id, reason))
            .await?
            .is_some(),
        _ => false,
    };
    tx.commit().await?;
    let _ = ended;
    // A slot came back (and perhaps a room and order place): the queue may move.
    queue::request_promotion(state);
    if moved {
        dispatch_prepare(state, &[session_id.to_owned()]).await?;
    }
    Ok(())
}

/// Moves a reservation the board refused to another board with a free slot of the same spec
/// (in any room where the version is ready and an order covers it). False if there is none
/// now; the caller then ends it.
async fn place_again(state: &AppState, board_id: &str, session_id: &str) -> PlayResult<bool> {
    let Some(r) = store::sessions::placed(&state.db.pool, session_id, board_id).await? else {
        return Ok(false);
    };
    let play = super::acquire::Play {
        tenant_id: r.tenant_id,
        game_id: r.game_id,
        version_id: r.version_id,
        package: String::new(),
        specs: vec![r.spec_id],
        user_key: r.user_key,
        user_level: 0,
        priority_tier: 0,
        link_id: None,
        timers: Default::default(),
        request: Default::default(),
    };
    for _ in 0..4 {
        let mut tx = state.db.write().await?;
        // Its current room and order stop counting it while it looks for a place; its slot on
        // the refusing board stays counted until it has one, so that board is not chosen again
        // for it on the strength of that slot.
        store::capacity::give_back(&mut tx, &r.room_id, &r.order_id).await?;
        let now = crate::now().millis();
        // Skip: this transaction already holds the room and order rows a promotion may want.
        match super::acquire::place(state, &mut tx, &play, now, super::acquire::Locked::Skip)
            .await?
        {
            super::acquire::Placed::Raced => continue,
            super::acquire::Placed::Queue(_) => return Ok(false),
            super::acquire::Placed::Assigned(a) => {
                store::slots::release(&mut tx, session_id).await?;
                let to = (
                    a.board_id.as_str(),
                    a.room_id.as_str(),
                    a.order_id.as_str(),
                    a.spec_id.as_str(),
                );
                let moved = store::sessions::move_to(&mut tx, session_id, board_id, to).await?;
                if !moved {
                    return Ok(false);
                }
                tx.commit().await?;
                tracing::info!(session = %session_id, from = %board_id, to = %a.board_id, "refused preparation placed again");
                metrics::counter!("playrack_sessions_replaced_total").increment(1);
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Asks a board to stop a play, through the outbox (the board confirms with a session report,
/// which gives the slot back).
pub async fn end_on_board(
    state: &AppState,
    board_id: &str,
    session_id: &str,
    reason: EndReason,
    save_archive: bool,
) -> PlayResult<()> {
    let command = Command::EndSession {
        session_id: session_id.to_owned(),
        reason: reason.as_str().to_owned(),
        save_archive,
    };
    let id = format!("end-{session_id}-{board_id}");
    crate::agents::outbox::send(
        state,
        board_id,
        &id,
        command,
        crate::agents::outbox::DEFAULT_TTL,
    )
    .await?;
    Ok(())
}

/// Ends a session inside a transaction (idempotent: an ended session stays as it ended) and
/// writes its ledger row. Returns what the end changed, if it ended it.
pub async fn end_in(
    state: &AppState,
    tx: &mut WriteTx,
    session_id: &str,
    reason: EndReason,
) -> PlayResult<Option<store::sessions::Ended>> {
    let ended = store::sessions::end(
        tx,
        state.db.backend,
        session_id,
        reason,
        crate::now().millis(),
    )
    .await?;
    if let Some(e) = &ended {
        crate::metering::on_session_end(tx, session_id).await?;
        metrics::counter!("playrack_sessions_ended_total", "reason" => reason.as_str())
            .increment(1);
        if matches!(reason, EndReason::AppCrashed | EndReason::AppNotResponding) {
            // Per version: a release's crash rate is what its grey rollout is judged by.
            metrics::counter!("playrack_game_failures_total",
                "version" => e.version_id.clone(), "reason" => reason.as_str())
            .increment(1);
        }
    }
    Ok(ended)
}

/// Ends a session and promotes whoever can use the freed capacity.
pub async fn end_session(
    state: &AppState,
    session_id: &str,
    reason: EndReason,
) -> PlayResult<bool> {
    let mut tx = state.db.write().await?;
    let ended = end_in(state, &mut tx, session_id, reason).await?;
    tx.commit().await?;
    if ended.is_some() {
        queue::request_promotion(state);
    }
    Ok(ended.is_some())
}

/// Ends a session for `reason` and tells its board, saving the archive for single-player games.
pub async fn end(state: &AppState, session_id: &str, reason: EndReason) -> PlayResult<bool> {
    let ended = end_session(state, session_id, reason).await?;
    if ended {
        tell_board(state, session_id, reason).await?;
    }
    Ok(ended)
}

/// An audit entry, made from the ids a call actually ended.
pub struct AuditEntry {
    pub actor: String,
    pub tenant_id: Option<String>,
    pub action: &'static str,
    pub object_id: String,
    pub summary: serde_json::Value,
}

/// Ends sessions for `reason` in one transaction that also writes the audit entry `audit`
/// makes of the ids it ended (none if it ended none), then tells their boards and promotes
/// the queue. Returns the ids ended.
pub async fn end_audited(
    state: &AppState,
    ids: &[String],
    reason: EndReason,
    audit: impl FnOnce(&[String]) -> AuditEntry,
) -> PlayResult<Vec<String>> {
    let mut tx = state.db.write().await?;
    let mut ended = Vec::new();
    for id in ids {
        if end_in(state, &mut tx, id, reason).await?.is_some() {
            ended.push(id.clone());
        }
    }
    if !ended.is_empty() {
        let a = audit(&ended);
        crate::audit::record_as(
            &mut tx,
            &a.actor,
            a.tenant_id.as_deref(),
            a.action,
            &a.object_id,
            a.summary,
        )
        .await?;
    }
    tx.commit().await?;
    for id in &ended {
        tell_board(state, id, reason).await?;
    }
    if !ended.is_empty() {
        queue::request_promotion(state);
    }
    Ok(ended)
}

/// Tells the board of a session the controller ended to stop it, saving the archive when the
/// game keeps one. The board answers `ended` once the instance is released, which gives the
/// slot back.
pub async fn tell_board(state: &AppState, session_id: &str, reason: EndReason) -> PlayResult<()> {
    let (board, policy, tenant) = store::sessions::board_and_policy(&state.db.pool, session_id)
        .await?
        .ok_or(PlayError::NotFound("session"))?;
    // A degrade switch may have taken saving out for now: the play ends without one.
    let save = keeps_archive(&policy) && !archives_off(state, &tenant);
    end_on_board(state, &board, session_id, reason, save).await
}

/// How many due sessions one tick handles (the rest are due on the next).
const TICK_BATCH: i64 = 512;

/// Ends reservations past their connect deadline (`NO_SHOW`) and runs the timers of the
/// playing sessions that may be due at `now`. Only due rows are read.
pub async fn tick(state: &AppState, now: Timestamp) -> PlayResult<usize> {
    let mut ended = 0;
    for id in store::sessions::no_shows(&state.db.pool, now.millis(), TICK_BATCH).await? {
        if end(state, &id, EndReason::NoShow).await? {
            ended += 1;
        }
    }
    for r in store::sessions::timers_due(&state.db.pool, now.millis(), TICK_BATCH).await? {
        let since = r.playing_since.unwrap_or(now.millis());
        let clock = SessionClock {
            playing_since: Timestamp(since),
            max_play_secs: r.max_play_secs.max(0) as u32,
            reconnect_grace_secs: r.reconnect_grace_secs.max(0) as u32,
            idle_kick_secs: r.idle_kick_secs.max(0) as u32,
            last_input_at: Timestamp(r.last_input_at.unwrap_or(since)),
            disconnected_at: r.disconnected_at.map(Timestamp),
        };
        match timers::due(&clock, now) {
            Some(expiry) => {
                if end(state, &r.id, expiry.reason()).await? {
                    ended += 1;
                }
            }
            None => {
                // Inputs moved the deadlines on: look again when the next one can fire.
                let next = timers::next_deadline(&clock).millis();
                store::sessions::set_next_timer(&state.db, &r.id, next).await?;
            }
        }
    }
    Ok(ended)
}

/// Ends every live session of a board that was lost.
pub async fn board_lost(state: &AppState, board_id: &str) -> PlayResult<usize> {
    let live = store::sessions::live_on_board(&state.db.pool, board_id).await?;
    let mut n = 0;
    for s in live {
        if end_session(state, &s.id, EndReason::BoardLost).await? {
            n += 1;
        }
    }
    // Its instances went with it: every slot it held comes back (a hello re-counts them).
    let mut tx = state.db.write().await?;
    store::slots::release_board(&mut tx, board_id).await?;
    store::slots::sync_board(&mut tx, board_id).await?;
    tx.commit().await?;
    Ok(n)
}

/// After a board's hello — the board is the truth about its instances, the database about
/// sessions. A play both still have is adopted as it is (a controller restart or a database
/// stall ends nothing). A live play the board no longer runs ends `BOARD_LOST`; a play the
/// board runs that ended here meanwhile (its `EndSession` was lost) is ended on the board the
/// way it ended, saving the archive when the game keeps one; one the controller never knew is
/// stopped. Reserved plays still waiting for their prepare command get it now. Finally the
/// board's held slots are re-counted from what it runs.
pub async fn reconcile(
    state: &AppState,
    board_id: &str,
    instances: &[InstanceReport],
) -> PlayResult<()> {
    let reported: Vec<&str> = instances
        .iter()
        .filter_map(|i| i.session_id.as_deref())
        .collect();
    let live = store::sessions::live_on_board(&state.db.pool, board_id).await?;
    let mut pending = Vec::new();
    let mut adopted = 0;
    for s in &live {
        if reported.contains(&s.id.as_str()) {
            adopted += 1;
        } else if s.state == "reserved" {
            pending.push(s.id.clone());
        } else {
            end_session(state, &s.id, EndReason::BoardLost).await?;
        }
    }
    if adopted > 0 {
        tracing::info!(board = %board_id, adopted, "plays adopted after the board came back");
    }
    // Read before the write transaction: on SQLite a transaction that holds the writer lock
    // must never wait for another pooled connection (those may all be waiting for the lock).
    let held_ended = store::sessions::held_ended_on_board(&state.db.pool, board_id).await?;
    let mut tx = state.db.write().await?;
    let mut to_end = Vec::new();
    for s in &reported {
        if live.iter().any(|l| l.id == *s) {
            // Adopted: it holds its slot.
            store::sessions::set_held(&mut tx, s, true).await?;
            continue;
        }
        // It ended while the board was away (the EndSession was lost): end it on the board
        // the way it ended, saving the archive when the game keeps one. Its instance is busy
        // until the board says so.
        match store::sessions::how_it_ended(&mut **tx, s, board_id).await? {
            Some((reason, policy)) => {
                store::sessions::set_held(&mut tx, s, true).await?;
                let reason = reason
                    .and_then(|r| EndReason::parse(&r))
                    .unwrap_or(EndReason::Error);
                to_end.push((s.to_string(), reason, keeps_archive(&policy)));
            }
            None => to_end.push((s.to_string(), EndReason::Error, false)),
        }
    }
    // Ended plays the board no longer runs hold nothing.
    for id in held_ended {
        if !reported.contains(&id.as_str()) {
            store::sessions::set_held(&mut tx, &id, false).await?;
        }
    }
    store::slots::sync_board(&mut tx, board_id).await?;
    store::slots::recount(&mut tx, board_id).await?;
    tx.commit().await?;
    for (s, reason, save) in to_end {
        end_on_board(state, board_id, &s, reason, save).await?;
    }
    dispatch_prepare(state, &pending).await
}

/// Drains (or undrains) a board: it takes no new sessions; players in session are told.
pub async fn drain(state: &AppState, board_id: &str, draining: bool) -> PlayResult<()> {
    let notice = draining.then(|| {
        "This machine is going into maintenance; your play will continue until it ends.".to_owned()
    });
    let id = crate::db::new_id("drain");
    crate::agents::outbox::send(
        state,
        board_id,
        &id,
        Command::Drain { draining, notice },
        crate::agents::outbox::DEFAULT_TTL,
    )
    .await?;
    Ok(())
}
