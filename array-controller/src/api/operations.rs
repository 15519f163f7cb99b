//! Operator and tenant operations on live plays and instances: bulk kicks (with a confirm
//! token, so a mistyped filter cannot end a room's plays in one call) and audited shell
//! commands in instances, whose output the board streams back.

use crate::audit;
use crate::auth::Caller;
use crate::db::{self, ts};
use crate::error::{ApiError, ApiResult};
use crate::http::Json;
use crate::play::lifecycle;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hmac::{Hmac, Mac};
use playrack_wire::agent::{Command, OutputStream};
use playrack_wire::api::{BulkKick, BulkKickAnswer, CreateShellRun, EndReason, ShellRun};
use sha2::Sha256;
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Most output kept per shell run.
const MAX_SHELL_OUTPUT: usize = 1 << 20;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(bulk_kick))
        .routes(routes!(create_shell_run))
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
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM sessions WHERE live_key IS NOT NULL AND ($1 = '' OR tenant_id = $1) AND ($2 = '' OR game_id = $2) \
         AND ($3 = '' OR board_id = $3) AND ($4 = '' OR room_id = $4)",
    )
    .bind(caller.tenant_scope().unwrap_or(""))
    .bind(req.game_id.clone().unwrap_or_default())
    .bind(req.board_id.clone().unwrap_or_default())
    .bind(req.room_id.clone().unwrap_or_default())
    .fetch_all(&state.db.pool)
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

fn run_from(r: &AnyRow) -> Result<ShellRun, sqlx::Error> {
    Ok(ShellRun {
        id: r.try_get("id")?,
        board_id: r.try_get("board_id")?,
        instance_id: r.try_get("instance_id")?,
        command: r.try_get("command")?,
        requested_by: r.try_get("requested_by")?,
        status: r.try_get("status")?,
        exit_code: r.try_get::<Option<i64>, _>("exit_code")?.map(|c| c as i32),
        output: r.try_get("output")?,
        error: r.try_get("error")?,
        created_at: ts(r, "created_at")?,
    })
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
    let online: Option<String> =
        sqlx::query_scalar("SELECT id FROM boards WHERE id = $1 AND agent_state = 'online'")
            .bind(&board_id)
            .fetch_optional(&state.db.pool)
            .await?;
    if online.is_none() {
        return Err(ApiError::conflict(
            "BOARD_NOT_CONNECTED",
            "the board's agent is not connected",
        ));
    }
    let id = db::new_id("sh");
    let mut tx = state.db.write().await?;
    sqlx::query(
        "INSERT INTO shell_runs (id, board_id, instance_id, command, requested_by, status, output, created_at) VALUES ($1,$2,$3,$4,$5,'running','',$6)",
    )
    .bind(&id)
    .bind(&board_id)
    .bind(&req.instance_id)
    .bind(&req.command)
    .bind(caller.id())
    .bind(crate::now().millis())
    .execute(&mut **tx)
    .await?;
    audit::record(&mut tx, &caller, None, "shell.run", &id, serde_json::json!({"board_id": board_id, "instance_id": req.instance_id, "command": req.command})).await?;
    let row = sqlx::query("SELECT * FROM shell_runs WHERE id = $1")
        .bind(&id)
        .fetch_one(&mut **tx)
        .await?;
    tx.commit().await?;
    let command = Command::Shell {
        instance_id: req.instance_id,
        command: req.command,
        timeout_secs: timeout,
    };
    // A run not started within its own timeout is not started at all.
    crate::agents::outbox::send(
        &state,
        &board_id,
        &format!("shell-{id}"),
        command,
        std::time::Duration::from_secs(u64::from(timeout)),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, axum::Json(run_from(&row)?)))
}

/// A shell run and its output so far.
#[utoipa::path(get, path = "/v1/shell-runs/{id}", tag = "topology", responses((status = 200, body = ShellRun)))]
async fn get_shell_run(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ShellRun>> {
    caller.require_operator()?;
    let row = sqlx::query("SELECT * FROM shell_runs WHERE id = $1")
        .bind(&id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or(ApiError::NotFound("shell run"))?;
    Ok(axum::Json(run_from(&row)?))
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
    let row = sqlx::query(
        "SELECT output FROM shell_runs WHERE id = $1 AND board_id = $2 AND status = 'running'",
    )
    .bind(run)
    .bind(board_id)
    .fetch_optional(&state.db.pool)
    .await?;
    let Some(row) = row else { return Ok(()) };
    let mut output: String = row.try_get("output")?;
    if output.len() < MAX_SHELL_OUTPUT {
        if stream == OutputStream::Stderr && !data.is_empty() {
            output.push_str("[stderr] ");
        }
        output.push_str(data);
        output.truncate(MAX_SHELL_OUTPUT.min(output.len()));
    }
    sqlx::query("UPDATE shell_runs SET output = $1, exit_code = $2, status = $3, finished_at = $4 WHERE id = $5")
        .bind(output)
        .bind(exit_code.map(i64::from))
        .bind(if exit_code.is_some() { "done" } else { "running" })
        .bind(exit_code.map(|_| crate::now().millis()))
        .bind(run)
        .execute(&state.db.pool)
        .await?;
    Ok(())
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
    sqlx::query("UPDATE shell_runs SET status = 'failed', error = $1, finished_at = $2 WHERE id = $3 AND board_id = $4 AND status = 'running'")
        .bind(error)
        .bind(crate::now().millis())
        .bind(run)
        .bind(board_id)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}
