//! Operator and tenant operations on live plays and instances: bulk kicks (with a confirm
//! token, so a mistyped filter cannot end a room's plays in one call), audited shell commands
//! in instances, whose output the board streams back, and the tail of a board agent's own log
//! (delivered the same way, as a run).

use crate::audit;
use crate::auth::Caller;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::http::Json;
use crate::play::lifecycle;
use crate::state::AppState;
use crate::store::{agents as store, topology};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hmac::{Hmac, Mac};
use playrack_wire::agent::{Command, OutputStream};
use playrack_wire::api::{
    BulkKick, BulkKickAnswer, CreateShellRun, EndReason, ShellRun, TailAgentLog,
};
use sha2::Sha256;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Most output kept per shell run.
const MAX_SHELL_OUTPUT: usize = 1 << 20;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(bulk_kick))
        .routes(routes!(create_shell_run))
        .routes(routes!(tail_agent_log))
        .routes(routes!(get_shell_run))
}

/// The confirm token: an HMAC over who asks, what they filter on, and the minute.
fn confirm_token(key: &[u8; 32], caller: &str, filter: &BulkKick, minute: i64) -> String {
    let what = BulkKick {
        confirm: None,
        ..filter.clone()
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(
        format!(
            "{caller}\n{}\n{minute}",
            serde_json::to_string(&what).expect("json")
        )
        .as_bytes(),
    );
    hex::encode(mac.finalize().into_bytes())
}

/// Counts, then (with the confirm token) ends, the live sessions matching a filter.
#[utoipa::path(post, path = "/v1/sessions/kick", tag = "play", request_body = BulkKick, responses((status = 200, body = BulkKickAnswer)))]
async fn bulk_kick(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<BulkKick>,
) -> ApiResult<axum::Json<BulkKickAnswer>> {
    let reason = match req.reason.as_deref().map(EndReason::parse) {
        None => EndReason::Kicked,
        Some(Some(r @ (EndReason::Kicked | EndReason::Maintenance))) => r,
        Some(_) => {
            return Err(ApiError::Validation(
                "reason must be KICKED or MAINTENANCE".into(),
            ));
        }
    };
    match caller.tenant_scope() {
        None => caller.require_operator_admin()?,
        Some(t) => caller.require_tenant_write(t, "tenant")?,
    }
    let ids = topology::live_sessions(
        &state.db.pool,
        &topology::LiveFilter {
            tenant_id: caller.tenant_scope().unwrap_or(""),
            game_id: req.game_id.as_deref().unwrap_or(""),
            board_id: req.board_id.as_deref().unwrap_or(""),
            room_id: req.room_id.as_deref().unwrap_or(""),
        },
    )
    .await?;
    let key = lifecycle::signing_key(&state).await?;
    let minute = crate::now().millis() / 60_000;
    let Some(confirm) = &req.confirm else {
        return Ok(axum::Json(BulkKickAnswer {
            matched: ids.len() as u32,
            kicked: 0,
            confirm_token: Some(confirm_token(&key, caller.id(), &req, minute)),
        }));
    };
    let valid = [minute, minute - 1].iter().any(|m| {
        crate::auth::constant_time_eq(confirm, &confirm_token(&key, caller.id(), &req, *m))
    });
    if !valid {
        return Err(ApiError::conflict(
            "CONFIRM_TOKEN_INVALID",
            "the confirm token does not match this filter or has expired; count again",
        ));
    }
    let filter = BulkKick {
        confirm: None,
        ..req
    };
    let kicked = lifecycle::end_audited(&state, &ids, reason, |ended| lifecycle::AuditEntry {
        actor: caller.id().to_owned(),
        tenant_id: caller.tenant_scope().map(str::to_owned),
        action: "session.bulk_kick",
        object_id: "sessions".into(),
        summary: serde_json::json!({"filter": filter, "kicked": ended.len()}),
    })
    .await?
    .len() as u32;
    Ok(axum::Json(BulkKickAnswer {
        matched: ids.len() as u32,
        kicked,
        confirm_token: None,
    }))
}

/// Runs a shell command in an instance of a board (operator admins; audited). The board must be
/// connected; poll the run for its output.
#[utoipa::path(post, path = "/v1/boards/{id}/shell", tag = "topology", request_body = CreateShellRun, responses((status = 202, body = ShellRun)))]
async fn create_shell_run(
    State(state): State<AppState>,
    caller: Caller,
    Path(board_id): Path<String>,
    Json(req): Json<CreateShellRun>,
) -> ApiResult<(StatusCode, axum::Json<ShellRun>)> {
    caller.require_operator_admin()?;
    if req.command.trim().is_empty() || req.command.len() > 4096 || req.command.contains('\0') {
        return Err(ApiError::Validation(
            "command must be 1–4096 bytes without NUL".into(),
        ));
    }
    let timeout = req.timeout_secs.unwrap_or(30);
    if !(1..=600).contains(&timeout) {
        return Err(ApiError::Validation("timeout_secs must be 1–600".into()));
    }
    let instance = req.instance_id.clone();
    let summary = serde_json::json!({"board_id": board_id, "instance_id": req.instance_id, "command": req.command});
    let command = Command::Shell {
        instance_id: req.instance_id,
        command: req.command.clone(),
        timeout_secs: timeout,
    };
    let run = start_run(
        &state,
        &caller,
        &board_id,
        (&instance, &req.command),
        ("shell.run", summary),
        command,
        timeout,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, axum::Json(run)))
}

/// The last lines of a board agent's own log (operators; audited). The board must be
/// connected; the lines arrive as the output of the run answered (poll it).
#[utoipa::path(post, path = "/v1/boards/{id}/agent-log", tag = "topology", request_body = TailAgentLog, responses((status = 202, body = ShellRun)))]
async fn tail_agent_log(
    State(state): State<AppState>,
    caller: Caller,
    Path(board_id): Path<String>,
    Json(req): Json<TailAgentLog>,
) -> ApiResult<(StatusCode, axum::Json<ShellRun>)> {
    caller.require_operator()?;
    let lines = req.lines.unwrap_or(200);
    if !(1..=2000).contains(&lines) {
        return Err(ApiError::Validation("lines must be 1–2000".into()));
    }
    let what = format!("agent log: last {lines} lines");
    let run = start_run(
        &state,
        &caller,
        &board_id,
        ("", &what),
        (
            "agent.log",
            serde_json::json!({"board_id": board_id, "lines": lines}),
        ),
        Command::TailLog { lines },
        30,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, axum::Json(run)))
}

/// Records a run (`(instance, what)`), audits it (`(action, summary)`) and sends `command` to
/// the board under the run's id, unsent after `ttl_secs`.
async fn start_run(
    state: &AppState,
    caller: &Caller,
    board_id: &str,
    (instance, what): (&str, &str),
    (action, summary): (&str, serde_json::Value),
    command: Command,
    ttl_secs: u32,
) -> ApiResult<ShellRun> {
    if !topology::is_online(&state.db.pool, board_id).await? {
        return Err(ApiError::conflict(
            "BOARD_NOT_CONNECTED",
            "the board's agent is not connected",
        ));
    }
    let id = db::new_id("sh");
    let mut tx = state.db.write().await?;
    let run = store::insert_shell_run(
        &mut tx,
        &store::NewShellRun {
            id: &id,
            board_id,
            instance_id: instance,
            command: what,
            requested_by: caller.id(),
            created_at: crate::now(),
        },
    )
    .await?;
    audit::record(&mut tx, caller, None, action, &id, summary).await?;
    tx.commit().await?;
    // A run not started within its own time is not started at all.
    crate::agents::outbox::send(
        state,
        board_id,
        &format!("shell-{id}"),
        command,
        std::time::Duration::from_secs(u64::from(ttl_secs)),
    )
    .await?;
    Ok(run)
}

/// A shell run and its output so far.
#[utoipa::path(get, path = "/v1/shell-runs/{id}", tag = "topology", responses((status = 200, body = ShellRun)))]
async fn get_shell_run(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ShellRun>> {
    caller.require_operator()?;
    let run = store::shell_run(&state.db.pool, &id)
        .await?
        .ok_or(ApiError::NotFound("shell run"))?;
    Ok(axum::Json(run))
}

/// Records output a board streamed back for a shell command (`command_id` = `shell-<run id>`).
pub async fn on_shell_output(
    state: &AppState,
    board_id: &str,
    command_id: &str,
    stream: OutputStream,
    data: &str,
    exit_code: Option<i32>,
) -> ApiResult<()> {
    let Some(run) = command_id.strip_prefix("shell-") else {
        return Ok(());
    };
    let Some(mut output) = store::running_output(&state.db.pool, run, board_id).await? else {
        return Ok(());
    };
    append_output(&mut output, stream, data, MAX_SHELL_OUTPUT);
    store::record_output(&state.db, run, &output, exit_code, crate::now()).await?;
    Ok(())
}

/// Appends a chunk of a run's output (stderr marked), keeping at most `max` bytes: the cut
/// falls on a character boundary, never inside one.
fn append_output(output: &mut String, stream: OutputStream, data: &str, max: usize) {
    if output.len() >= max {
        return;
    }
    if stream == OutputStream::Stderr && !data.is_empty() {
        output.push_str("[stderr] ");
    }
    output.push_str(data);
    output.truncate(output.floor_char_boundary(max));
}

/// Records a failed command result for a shell run.
pub async fn on_shell_failed(
    state: &AppState,
    board_id: &str,
    command_id: &str,
    error: &str,
) -> ApiResult<()> {
    let Some(run) = command_id.strip_prefix("shell-") else {
        return Ok(());
    };
    store::fail_shell_run(&state.db, run, board_id, error, crate::now()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_capped_on_a_character_boundary() {
        let mut out = String::from("abc");
        append_output(&mut out, OutputStream::Stdout, "déjà vu", 5);
        assert_eq!(out, "abcd", "the cut never splits the two-byte é");
        append_output(&mut out, OutputStream::Stdout, "more", 5);
        assert_eq!(out, "abcdm");
        append_output(&mut out, OutputStream::Stdout, "more", 5);
        assert_eq!(out, "abcdm", "a full output keeps what it has");
        let mut out = String::new();
        append_output(&mut out, OutputStream::Stderr, "日本", 100);
        assert_eq!(out, "[stderr] 日本");
    }
}
