//! Play recordings over HTTP (see [`crate::recordings`] for storage and retention).
//!
//! ```text
//! POST /v1/sessions/{id}/recordings   start recording a live play (its tenant's admins, operator admins)
//! POST /v1/recordings/{id}/stop       stop it; the board uploads the file
//! GET  /v1/recordings?session_id=     tenants (their own), operators (any, ?tenant_id=)
//! GET  /v1/recordings/{id}
//! GET  /v1/recordings/{id}/file       the MP4, once ready, until it expires
//! PUT  /v1/agent/recordings/{id}      board credential; x-recording-frames,
//!                                     x-recording-duration-ms, x-recording-sha256
//! ```

use crate::audit;
use crate::auth::Caller;
use crate::db::{self, PageParams, page_from};
use crate::error::{ApiError, ApiResult};
use crate::http::Query;
use crate::recordings::{self, Declared};
use crate::state::AppState;
use crate::store;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use playrack_wire::agent::Command;
use playrack_wire::api::{Page, Recording, RecordingState, SessionState};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_recording))
        .routes(routes!(stop_recording))
        .routes(routes!(list_recordings))
        .routes(routes!(get_recording))
        .routes(routes!(recording_file))
        .routes(routes!(upload_recording))
}

/// How long a start or stop waits for the board before it is dropped unsent.
const COMMAND_TTL: std::time::Duration = std::time::Duration::from_secs(60);

async fn load(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<store::recordings::RecordingRow> {
    let row = store::recordings::get(&state.db.pool, id)
        .await?
        .ok_or(ApiError::NotFound("recording"))?;
    caller.require_tenant_read(&row.tenant_id, "recording")?;
    Ok(row)
}

/// Starts recording a live play's video (the session must be streaming). The board records
/// from the stream's next key frame until stopped or until the play ends, then uploads it.
#[utoipa::path(post, path = "/v1/sessions/{id}/recordings", tag = "play",
    responses((status = 201, body = Recording), (status = 409, body = playrack_wire::Problem)))]
async fn start_recording(
    State(state): State<AppState>,
    caller: Caller,
    Path(session_id): Path<String>,
) -> ApiResult<(StatusCode, axum::Json<Recording>)> {
    let s = store::sessions::get(&state.db.pool, &session_id)
        .await?
        .ok_or(ApiError::NotFound("session"))?
        .to_wire();
    caller.require_tenant_write(&s.tenant_id, "session")?;
    if !matches!(s.state, SessionState::Ready | SessionState::Playing) {
        return Err(ApiError::conflict(
            "NOT_STREAMING",
            "the session is not streaming yet (or any more)",
        ));
    }
    let id = db::new_id("rec");
    let now = crate::now().millis();
    let retention = i64::try_from(state.config.recording_retention_secs).unwrap_or(i64::MAX / 2000);
    let mut tx = state.db.write().await?;
    store::recordings::insert(
        &mut tx,
        &store::recordings::NewRecording {
            id: &id,
            tenant_id: &s.tenant_id,
            session_id: &s.id,
            game_id: &s.game_id,
            board_id: &s.board_id,
            requested_by: caller.id(),
            now,
            expires_at: now.saturating_add(retention.saturating_mul(1000)),
        },
    )
    .await?;
    audit::record(
        &mut tx,
        &caller,
        Some(&s.tenant_id),
        "recording.start",
        &id,
        serde_json::json!({"session_id": s.id}),
    )
    .await?;
    tx.commit().await?;
    crate::agents::outbox::send(
        &state,
        &s.board_id,
        &format!("rec-start-{id}"),
        Command::StartRecording {
            session_id: s.id.clone(),
            recording_id: id.clone(),
        },
        COMMAND_TTL,
    )
    .await?;
    metrics::counter!("playrack_recordings_started_total").increment(1);
    let row = load(&state, &caller, &id).await?;
    Ok((StatusCode::CREATED, axum::Json(row.to_wire())))
}

/// Stops a recording; the board uploads it (poll the recording until it is `ready`).
#[utoipa::path(post, path = "/v1/recordings/{id}/stop", tag = "play",
    responses((status = 202, body = Recording), (status = 409, body = playrack_wire::Problem)))]
async fn stop_recording(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, axum::Json<Recording>)> {
    let row = load(&state, &caller, &id).await?;
    caller.require_tenant_write(&row.tenant_id, "recording")?;
    if store::recordings::parse_state(&row.state) != RecordingState::Recording {
        return Err(ApiError::conflict(
            "RECORDING_CLOSED",
            "the recording is not running any more",
        ));
    }
    let mut tx = state.db.write().await?;
    audit::record(
        &mut tx,
        &caller,
        Some(&row.tenant_id),
        "recording.stop",
        &id,
        serde_json::json!({"session_id": row.session_id}),
    )
    .await?;
    tx.commit().await?;
    crate::agents::outbox::send(
        &state,
        &row.board_id,
        &format!("rec-stop-{id}"),
        Command::StopRecording {
            recording_id: id.clone(),
        },
        COMMAND_TTL,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, axum::Json(row.to_wire())))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListRecordingsParams {
    /// Operators: only this tenant's recordings.
    pub tenant_id: Option<String>,
    /// Only this session's.
    pub session_id: Option<String>,
    /// Items per page, 1–200 (default 50).
    #[serde(default, deserialize_with = "crate::db::page_limit")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Lists recordings: a tenant's own, any tenant's for operators.
#[utoipa::path(get, path = "/v1/recordings", tag = "play", params(ListRecordingsParams),
    responses((status = 200, body = Page<Recording>)))]
async fn list_recordings(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListRecordingsParams>,
) -> ApiResult<axum::Json<Page<Recording>>> {
    let tenant = caller.tenant_asked(q.tenant_id.as_deref())?;
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let rows = store::recordings::list(
        &state.db.pool,
        tenant.as_deref(),
        q.session_id.as_deref(),
        &page.cursor(),
        page.limit() + 1,
    )
    .await?;
    let items = rows.iter().map(|r| r.to_wire()).collect();
    Ok(axum::Json(page_from(items, &page, |r| r.id.clone())))
}

/// One recording.
#[utoipa::path(get, path = "/v1/recordings/{id}", tag = "play",
    responses((status = 200, body = Recording), (status = 404, body = playrack_wire::Problem)))]
async fn get_recording(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Recording>> {
    Ok(axum::Json(load(&state, &caller, &id).await?.to_wire()))
}

/// A ready recording's MP4 file (`409 RECORDING_NOT_READY` before).
#[utoipa::path(get, path = "/v1/recordings/{id}/file", tag = "play",
    responses((status = 200, content_type = "video/mp4", description = "The recording"),
              (status = 409, body = playrack_wire::Problem)))]
async fn recording_file(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let row = load(&state, &caller, &id).await?;
    if store::recordings::parse_state(&row.state) != RecordingState::Ready {
        return Err(ApiError::conflict(
            "RECORDING_NOT_READY",
            "the recording has no file (yet, or it failed)",
        ));
    }
    let path = recordings::file_path(&state, &id)?;
    let file = tokio::fs::File::open(&path).await?;
    let mut resp = crate::http::file_body(file).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("video/mp4"));
    h.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(row.size_bytes.max(0) as u64),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{id}.mp4\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// A board uploads a recording it made (streamed; the SHA-256 and frame count it declares
/// are checked or kept). A recording with no frames is marked failed.
#[utoipa::path(put, path = "/v1/agent/recordings/{id}", tag = "play",
    params(("x-recording-sha256" = String, Header, description = "SHA-256 of the body, hex"),
           ("x-recording-frames" = u64, Header, description = "Video frames in the file"),
           ("x-recording-duration-ms" = u64, Header, description = "Its duration")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 204, description = "Stored (or failed, for no frames)"),
              (status = 409, body = playrack_wire::Problem),
              (status = 413, body = playrack_wire::Problem),
              (status = 422, body = playrack_wire::Problem)))]
async fn upload_recording(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<StatusCode> {
    let board_id = super::agents::board_of(&state, &headers).await?;
    let row = store::recordings::get(&state.db.pool, &id)
        .await?
        .filter(|r| r.board_id == board_id)
        .ok_or(ApiError::NotFound("recording"))?;
    if store::recordings::parse_state(&row.state) != RecordingState::Recording {
        return Err(ApiError::conflict(
            "RECORDING_CLOSED",
            "the recording was already closed",
        ));
    }
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let number = |name: &str| {
        text(name)
            .and_then(|s| s.trim().parse::<u64>().ok())
            .ok_or_else(|| {
                ApiError::Validation(format!("the {name} header must be a whole number"))
            })
    };
    let frames = number("x-recording-frames")?;
    let duration_ms = number("x-recording-duration-ms")?;
    let sha256 = text("x-recording-sha256")
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| frames == 0 || crate::ingest::store::is_sha256_hex(s))
        .ok_or_else(|| {
            ApiError::Validation("the x-recording-sha256 header must be a SHA-256 in hex".into())
        })?;
    let content_length = text("content-length").and_then(|s| s.parse::<u64>().ok());
    let declared = Declared {
        frames,
        duration_ms,
        sha256,
        content_length,
    };
    // Its own task: if the board goes away mid-body, the scratch file is still cleaned up.
    let task = {
        let state = state.clone();
        async move { recordings::receive(&state, &row, declared, body).await }
    };
    tokio::spawn(crate::http::with_current_request_id(task))
        .await
        .map_err(|e| ApiError::Internal(format!("recording task failed: {e}")))??;
    Ok(StatusCode::NO_CONTENT)
}
