//! One agent's WebSocket: the hello handshake, then heartbeats, instance reports and results
//! upstream, commands downstream.
//!
//! ```text
//! agent                                      controller
//!   │── (upgrade, Authorization: Bearer pbc_…) ─▶│  credential checked before the upgrade
//!   │── hello {protocol, board_id, instances} ──▶│  board ONLINE, instances replaced
//!   │◀──────────── welcome {heartbeat, lease} ───│
//!   │── heartbeat {telemetry} ──────────────────▶│  last_seen_at, telemetry
//!   │◀───────────────────── command {id, …} ─────│
//!   │── result {command_id, ok} ────────────────▶│
//! ```
//! A malformed message closes the connection with a reason (the agent reconnects); it never
//! touches another board.

use crate::state::AppState;
use crate::store::agents as store;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::StreamExt;
use playrack_wire::agent::{
    AGENT_PROTOCOL_VERSION, AgentMessage, ControllerMessage, InstanceReport,
};
use std::time::Duration;

/// The first message must arrive within this time.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest message an agent may send.
pub const MAX_AGENT_MESSAGE_BYTES: usize = 1 << 20;

/// Close codes (RFC 6455 §7.4): 1008 policy violation, 1003 unsupported data.
const CLOSE_POLICY: u16 = 1008;
const CLOSE_UNSUPPORTED: u16 = 1003;

async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
}

fn parse(msg: &Message) -> Result<Option<AgentMessage>, String> {
    match msg {
        Message::Text(t) => serde_json::from_str(t.as_str())
            .map(Some)
            .map_err(|e| format!("malformed message: {e}")),
        Message::Binary(_) => Err("binary messages are not part of the protocol".into()),
        _ => Ok(None),
    }
}

/// Serves one connected agent until it goes away.
pub async fn run(state: AppState, board_id: String, mut socket: WebSocket) {
    let hello = match tokio::time::timeout(HELLO_TIMEOUT, socket.next()).await {
        Ok(Some(Ok(msg))) => parse(&msg),
        _ => Err("no hello".into()),
    };
    let (agent_version, signaling_url, instances) = match hello {
        Ok(Some(AgentMessage::Hello {
            protocol,
            board_id: said,
            agent_version,
            signaling_url,
            instances,
            ..
        })) => {
            if protocol != AGENT_PROTOCOL_VERSION {
                close(&mut socket, CLOSE_UNSUPPORTED, &format!("protocol {protocol} is not supported; this controller speaks {AGENT_PROTOCOL_VERSION}")).await;
                return;
            }
            if said != board_id {
                close(
                    &mut socket,
                    CLOSE_POLICY,
                    "hello names another board than the credential",
                )
                .await;
                return;
            }
            (agent_version, signaling_url, instances)
        }
        Ok(_) => {
            close(&mut socket, CLOSE_POLICY, "the first message must be hello").await;
            return;
        }
        Err(e) => {
            close(&mut socket, CLOSE_POLICY, &e).await;
            return;
        }
    };
    if let Err(e) = on_hello(
        &state,
        &board_id,
        &agent_version,
        &signaling_url,
        &instances,
    )
    .await
    {
        tracing::error!(board = %board_id, "recording hello failed: {e}");
        close(&mut socket, 1011, "internal error").await;
        return;
    }
    let (generation, mut wakes) = state.agents.register(&board_id);
    // The hello is the board's truth: settle sessions it lost or does not know.
    if let Err(e) = crate::play::lifecycle::reconcile(&state, &board_id, &instances).await {
        tracing::warn!(board = %board_id, "reconcile failed: {e}");
    }
    if let Err(e) = crate::deploy::sync_board(&state, &board_id).await {
        tracing::warn!(board = %board_id, "package sync dispatch failed: {e}");
    }
    // New capacity: someone in the queue may fit now.
    crate::play::queue::request_promotion(&state);
    tracing::info!(board = %board_id, %agent_version, instances = instances.len(), "agent connected");
    metrics::counter!("playrack_agent_connections_total").increment(1);
    let welcome = ControllerMessage::Welcome {
        heartbeat_secs: state.config.agent_heartbeat_secs,
        lease_secs: state.config.agent_lease_secs,
    };
    let welcomed = socket
        .send(Message::Text(
            serde_json::to_string(&welcome).expect("json").into(),
        ))
        .await
        .is_ok();
    // Commands waiting for this board (written by any replica, before or while it was away).
    // What this connection sent, and when it last recorded hearing the board.
    let mut sent = super::outbox::Sent::default();
    let mut heard = Heard::default();
    let mut waiting = match deliver(&state, &board_id, &mut socket, &mut sent).await {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(board = %board_id, "command delivery failed: {e}");
            true
        }
    };
    let mut resend = tokio::time::interval(super::outbox::RESEND / 2);
    resend.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The loop ends by `break`: the board went away or was superseded.
    if !welcomed {
        return on_gone(&state, &board_id, generation).await;
    }
    loop {
        tokio::select! {
            incoming = socket.next() => {
                let msg = match incoming {
                    Some(Ok(m)) => m,
                    _ => break,
                };
                if matches!(msg, Message::Close(_)) {
                    break;
                }
                match parse(&msg) {
                    Ok(Some(m)) => {
                        let started = std::time::Instant::now();
                        let recording = state.agents.hearing.recording();
                        let recorded = on_message(&state, &board_id, m, &mut heard).await;
                        drop(recording);
                        if let Err(e) = recorded {
                            // Unrecorded heartbeats must not count as silence.
                            state.agents.hearing.deaf();
                            tracing::warn!(board = %board_id, "agent message not recorded: {e}");
                        } else if started.elapsed() > super::PROMPT {
                            // Recorded late: others may be later still; judge again after a lease.
                            state.agents.hearing.interrupted(crate::now());
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(board = %board_id, "closing agent connection: {e}");
                        metrics::counter!("playrack_agent_protocol_errors_total").increment(1);
                        close(&mut socket, CLOSE_POLICY, &e).await;
                        break;
                    }
                }
            }
            wake = wakes.recv() => {
                if wake.is_none() {
                    // Replaced by a newer connection or disconnected by the lease: close.
                    close(&mut socket, 1000, "superseded").await;
                    break;
                }
                match deliver(&state, &board_id, &mut socket, &mut sent).await {
                    Ok(w) => waiting = w,
                    Err(e) => tracing::warn!(board = %board_id, "command delivery failed: {e}"),
                }
            }
            // Unacknowledged commands are sent again; nothing is read while none wait.
            _ = resend.tick(), if waiting => {
                match deliver(&state, &board_id, &mut socket, &mut sent).await {
                    Ok(w) => waiting = w,
                    Err(e) => tracing::warn!(board = %board_id, "command delivery failed: {e}"),
                }
            }
        }
    }
    on_gone(&state, &board_id, generation).await;
}

/// The connection is over: unless a newer one replaced it, the board is offline.
async fn on_gone(state: &AppState, board_id: &str, generation: u64) {
    if state.agents.unregister(board_id, generation)
        && let Err(e) = went_offline(state, board_id).await
    {
        tracing::warn!(board = %board_id, "recording the disconnect failed: {e}");
    }
    tracing::info!(board = %board_id, "agent disconnected");
}

/// Sends the board's waiting commands that are due (new, or unacknowledged for a while) and
/// drops expired ones (while it waits on the database, the board counts as being recorded;
/// see [`super::lease::Hearing::stalled`]). Returns whether any still wait for an acknowledgement. A send error is
/// left to the read side, which sees the connection close.
async fn deliver(
    state: &AppState,
    board_id: &str,
    socket: &mut WebSocket,
    sent: &mut super::outbox::Sent,
) -> Result<bool, sqlx::Error> {
    use super::outbox::{self, Delivery};
    let now = crate::now().millis();
    // The board's reports are not read meanwhile: a read stuck on the database counts as
    // reports waiting to be recorded, so the watchdog judges no board until it is done.
    let pending = {
        let _recording = state.agents.hearing.recording();
        outbox::pending(state, board_id).await?
    };
    sent.keep_only(&pending);
    let mut waiting = false;
    for p in &pending {
        match outbox::decide(p, sent.at(&p.id), now) {
            Delivery::Expired => {
                tracing::info!(board = %board_id, command = %p.id, "command expired unsent");
                let _recording = state.agents.hearing.recording();
                store::command_done(&state.db, board_id, &p.id).await?;
            }
            Delivery::Wait => waiting = true,
            Delivery::Send => {
                waiting = true;
                if socket
                    .send(Message::Text(p.body.clone().into()))
                    .await
                    .is_err()
                {
                    return Ok(true);
                }
                sent.sent(&p.id, now);
            }
        }
    }
    Ok(waiting)
}

/// The board's connection closed: it takes no new plays until it says hello again.
async fn went_offline(state: &AppState, board_id: &str) -> Result<(), sqlx::Error> {
    let mut tx = state.db.write().await?;
    // (Unless it is connected to another replica by now.)
    store::went_offline(&mut tx, board_id, &state.replica_id).await?;
    tx.commit().await
}

async fn on_hello(
    state: &AppState,
    board_id: &str,
    agent_version: &str,
    signaling_url: &str,
    instances: &[InstanceReport],
) -> Result<(), sqlx::Error> {
    let now = crate::now().millis();
    let mut tx = state.db.write().await?;
    // The hello is the board's whole truth: what it no longer reports is gone.
    store::hello(
        &mut tx,
        board_id,
        &state.replica_id,
        agent_version,
        signaling_url,
        instances,
        now,
    )
    .await?;
    // An agent that restarted lost the games it was asked to keep ready: the next sizing pass
    // sends its list again. What it holds ready now is in its instances.
    crate::store::warm::forget_wanted(&mut tx, board_id).await?;
    let primed = playrack_wire::agent::primed_counts(instances);
    crate::store::warm::set_primed(&mut tx, board_id, &primed).await?;
    tx.commit().await
}

/// When a connection last recorded hearing its board (`boards.last_seen_at`): every report
/// shows the board is alive, but recording it once per [`Heard::EVERY_MS`] is enough for a
/// lease of seconds, and saves a write per report.
#[derive(Debug, Default)]
struct Heard {
    recorded_at: Option<i64>,
    /// What the board last said it holds ready (the warm pool per game), as recorded.
    primed: Option<Vec<playrack_wire::agent::PrimedCount>>,
}

impl Heard {
    const EVERY_MS: i64 = 1_000;

    /// Records that the board was heard at `now`, unless that was done less than
    /// [`Heard::EVERY_MS`] ago.
    async fn touch(
        &mut self,
        state: &AppState,
        board_id: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        if self.recorded_at.is_some_and(|t| now - t < Self::EVERY_MS) {
            return Ok(());
        }
        store::touch(&state.db, board_id, now).await?;
        self.recorded_at = Some(now);
        Ok(())
    }
}

/// Takes a board out of placement while it is too hot for its room's limits, and back once it
/// has cooled (its running plays go on either way); a board that cooled may take a waiting
/// player at once. True when the judgment changed and was recorded with the heartbeat.
async fn judge_heat(
    state: &AppState,
    board_id: &str,
    telemetry: &playrack_wire::agent::Telemetry,
    json: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let Some((max_cpu, max_temp, hot)) = store::heat(&state.db.pool, board_id).await? else {
        return Ok(false);
    };
    let (max_cpu, max_temp) = (max_cpu.max(0) as u32, max_temp.max(0) as u32);
    let judged = crate::scheduler::heat::judge(telemetry, max_cpu, max_temp, hot.as_deref());
    if judged == hot {
        return Ok(false);
    }
    let mut tx = state.db.write().await?;
    store::heartbeat_judged(&mut tx, board_id, json, now, judged.as_deref()).await?;
    tx.commit().await?;
    match &judged {
        Some(reason) => {
            tracing::warn!(board = %board_id, "board takes no new plays: {reason}");
            metrics::counter!("playrack_board_heat_changes_total", "to" => "hot").increment(1);
        }
        None => {
            tracing::info!(board = %board_id, "board cooled down: it takes plays again");
            metrics::counter!("playrack_board_heat_changes_total", "to" => "cool").increment(1);
            crate::play::queue::request_promotion(state);
        }
    }
    Ok(true)
}

async fn on_message(
    state: &AppState,
    board_id: &str,
    msg: AgentMessage,
    heard: &mut Heard,
) -> Result<(), sqlx::Error> {
    let now = crate::now().millis();
    if let AgentMessage::Result { command_id, .. } = &msg {
        // Acknowledged: it leaves the outbox; more may wait behind it.
        store::command_done(&state.db, board_id, command_id).await?;
        state.agents.wake(board_id);
    }

    match msg {
        AgentMessage::Heartbeat { telemetry } => {
            let json = serde_json::to_string(&telemetry).expect("json");
            if !judge_heat(state, board_id, &telemetry, &json, now).await? {
                store::heartbeat(&state.db, board_id, &json, now).await?;
            }
            heard.recorded_at = Some(now);
            // What it holds ready, written only when it changed since this connection's last.
            if heard.primed.as_ref() != Some(&telemetry.primed) {
                let mut tx = state.db.write().await?;
                crate::store::warm::set_primed(&mut tx, board_id, &telemetry.primed).await?;
                tx.commit().await?;
                heard.primed = Some(telemetry.primed);
            }
            metrics::counter!("playrack_agent_heartbeats_total").increment(1);
        }
        AgentMessage::Instance { instance } => {
            let mut tx = state.db.write().await?;
            store::instance_report(&mut tx, board_id, &instance, now).await?;
            tx.commit().await?;
        }
        AgentMessage::InstanceGone { instance_id } => {
            let mut tx = state.db.write().await?;
            store::instance_gone(&mut tx, board_id, &instance_id, now).await?;
            tx.commit().await?;
        }
        AgentMessage::Deployment {
            sha256,
            state: dstate,
            progress_percent,
            error,
        } => {
            let report = store::DeploymentReport {
                sha256: &sha256,
                state: dstate,
                progress_percent,
                error: error.as_deref(),
            };
            store::deployment_report(&state.db, board_id, &report, now).await?;
            crate::store::volumes::board_report(
                &state.db,
                board_id,
                &sha256,
                dstate,
                progress_percent,
                error.as_deref(),
                now,
            )
            .await?;
            heard.touch(state, board_id, now).await?;
            crate::play::queue::request_promotion(state);
        }
        AgentMessage::Session {
            session_id,
            state: agent_state,
            reason,
            connected,
            last_input_at,
            latency_ms,
            ..
        } => {
            heard.touch(state, board_id, now).await?;
            if let Err(e) = crate::play::lifecycle::on_agent_session(
                state,
                board_id,
                &session_id,
                agent_state,
                reason,
                connected,
                last_input_at,
                latency_ms,
            )
            .await
            {
                tracing::warn!(board = %board_id, session = %session_id, "session report not applied: {e}");
            }
        }
        AgentMessage::ShellOutput {
            command_id,
            stream,
            data,
            exit_code,
        } => {
            if let Err(e) = crate::api::operations::on_shell_output(
                state,
                board_id,
                &command_id,
                stream,
                &data,
                exit_code,
            )
            .await
            {
                tracing::warn!(board = %board_id, "shell output not recorded: {e}");
            }
        }
        AgentMessage::Result {
            command_id,
            ok: false,
            error,
        } => {
            let error = error.unwrap_or_else(|| "failed".into());
            tracing::warn!(board = %board_id, %command_id, %error, "command failed on the board");
            if let Err(e) =
                crate::api::operations::on_shell_failed(state, board_id, &command_id, &error).await
            {
                tracing::warn!(board = %board_id, "command failure not recorded: {e}");
            }
        }
        AgentMessage::Hello { .. } => {
            tracing::warn!(board = %board_id, "second hello on one connection ignored");
        }
        other => {
            // Everything else an agent says (heartbeats, acknowledged commands) only shows it
            // is alive.
            tracing::debug!(board = %board_id, message = ?other, "agent report");
            heard.touch(state, board_id, now).await?;
        }
    }
    Ok(())
}
