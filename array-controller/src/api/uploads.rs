//! Resumable APK uploads over tus 1.0 (core protocol plus the `creation` and `termination`
//! extensions), so any tus client can upload and resume. See [`crate::ingest`] for what happens
//! to the bytes.
//!
//! ```text
//! POST   /v1/games/{id}/uploads   Upload-Length: N      → 201, Location: /v1/uploads/{upload}
//! HEAD   /v1/uploads/{upload}                           → Upload-Offset, Upload-Length
//! PATCH  /v1/uploads/{upload}     Upload-Offset: k      → 204, Upload-Offset: k + body length
//! DELETE /v1/uploads/{upload}                           → 204 (version FAILED: UPLOAD_CANCELLED)
//! OPTIONS /v1/uploads                                   → Tus-Version, Tus-Max-Size, Tus-Extension
//! ```
//! Every request except OPTIONS carries `Tus-Resumable: 1.0.0`. The JSON view of an upload is at
//! `GET /v1/uploads/{upload}`.

use crate::auth::Caller;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::ingest::upload;
use crate::state::AppState;
use crate::store::catalog;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use playrack_wire::api::Upload;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub const TUS_VERSION: &str = "1.0.0";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_upload))
        .routes(routes!(upload_options))
        .routes(routes!(
            get_upload,
            head_upload,
            patch_upload,
            delete_upload
        ))
}

fn tus_headers(resp: &mut Response) {
    resp.headers_mut()
        .insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn require_tus(headers: &HeaderMap) -> ApiResult<()> {
    match headers.get("tus-resumable").and_then(|v| v.to_str().ok()) {
        Some(TUS_VERSION) => Ok(()),
        _ => Err(ApiError::coded(
            StatusCode::PRECONDITION_FAILED,
            "TUS_VERSION_UNSUPPORTED",
            format!("send `Tus-Resumable: {TUS_VERSION}`"),
        )),
    }
}

fn header_u64(headers: &HeaderMap, name: &str) -> ApiResult<u64> {
    headers
        .get(name)
        .ok_or_else(|| ApiError::Validation(format!("the {name} header is required")))?
        .to_str()
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| {
            ApiError::Validation(format!("the {name} header must be a non-negative integer"))
        })
}

/// Uploads a tenant may have in progress at once.
pub const MAX_UPLOADS_IN_PROGRESS: i64 = 4;

/// Starts an upload of a new version of a game (at most [`MAX_UPLOADS_IN_PROGRESS`] per
/// tenant at once).
#[utoipa::path(post, path = "/v1/games/{id}/uploads", tag = "uploads",
    params(("Upload-Length" = u64, Header, description = "Total size of the APK in bytes"),
           ("Tus-Resumable" = String, Header, description = "1.0.0")),
    responses((status = 201, body = Upload, headers(("Location" = String), ("Upload-Offset" = u64))),
              (status = 412, body = playrack_wire::Problem, description = "No `Tus-Resumable: 1.0.0`"),
              (status = 413, body = playrack_wire::Problem), (status = 429, body = playrack_wire::Problem)))]
async fn create_upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(game_id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require_tus(&headers)?;
    let game = super::catalog::load_game(&state, &game_id).await?;
    caller.require_tenant_write(&game.tenant_id, "game")?;
    let length = header_u64(&headers, "upload-length")?;
    if length > state.ingest.max_upload_bytes {
        return Err(ApiError::coded(
            StatusCode::PAYLOAD_TOO_LARGE,
            "UPLOAD_TOO_LARGE",
            format!(
                "the upload is {length} bytes; the limit is {} bytes",
                state.ingest.max_upload_bytes
            ),
        ));
    }
    if length == 0 {
        return Err(ApiError::Validation(
            "Upload-Length must be greater than 0".into(),
        ));
    }
    let now = crate::now();
    let version_id = db::new_id("ver");
    let upload_id = db::new_id("upl");
    let expires_at = now.plus_secs(state.ingest.expiry_secs as i64);
    std::fs::File::create(state.ingest.store.part_path(&upload_id)?)?;
    let mut tx = state.db.write().await?;
    // Each tenant's uploads in progress are few: each one holds a scratch file of up to the
    // upload limit, so unlimited parallel uploads would be a way to fill the package store.
    crate::store::advisory_lock(
        &mut tx,
        state.db.backend,
        &format!("uploads|{}", game.tenant_id),
    )
    .await?;
    if catalog::uploads_in_progress(&mut tx, &game.tenant_id).await? >= MAX_UPLOADS_IN_PROGRESS {
        drop(tx);
        let _ = std::fs::remove_file(state.ingest.store.part_path(&upload_id)?);
        return Err(ApiError::coded(
            StatusCode::TOO_MANY_REQUESTS,
            "UPLOADS_IN_PROGRESS",
            format!(
                "this tenant already has {MAX_UPLOADS_IN_PROGRESS} uploads in progress: finish \
                 one or cancel it (DELETE /v1/uploads/{{id}}), or let it expire"
            ),
        ));
    }
    let (used, own) = catalog::package_usage(&mut tx, &game.tenant_id).await?;
    let quota = own.map_or(state.config.tenant_storage_quota_bytes, |q| q.max(0) as u64);
    if (used.max(0) as u64).saturating_add(length) > quota {
        drop(tx);
        let _ = std::fs::remove_file(state.ingest.store.part_path(&upload_id)?);
        return Err(ApiError::coded(
            StatusCode::PAYLOAD_TOO_LARGE,
            "STORAGE_QUOTA_EXCEEDED",
            format!(
                "this tenant's packages take {used} of its {quota} bytes and this upload needs \
                 {length} more: cancel unfinished uploads or ask the operator for a larger quota"
            ),
        ));
    }
    catalog::insert_uploading_version(
        &mut tx,
        &version_id,
        &game.id,
        &game.tenant_id,
        length as i64,
        now.millis(),
    )
    .await?;
    catalog::insert_upload(
        &mut tx,
        &upload_id,
        &version_id,
        &game.tenant_id,
        length as i64,
        expires_at.millis(),
        now.millis(),
    )
    .await?;
    crate::audit::record(
        &mut tx,
        &caller,
        Some(&game.tenant_id),
        "version.upload",
        &version_id,
        serde_json::json!({"game_id": game.id, "upload_id": upload_id, "length": length}),
    )
    .await?;
    tx.commit().await?;
    metrics::counter!("playrack_uploads_started_total").increment(1);
    let body = Upload {
        id: upload_id.clone(),
        version_id,
        offset: 0,
        length,
        expires_at,
    };
    let mut resp = (StatusCode::CREATED, axum::Json(body)).into_response();
    tus_headers(&mut resp);
    let h = resp.headers_mut();
    h.insert(
        header::LOCATION,
        HeaderValue::from_str(&format!("/v1/uploads/{upload_id}")).expect("ascii id"),
    );
    h.insert("upload-offset", HeaderValue::from(0u64));
    Ok(resp)
}

/// Answers tus discovery (`OPTIONS /v1/uploads` without CORS preflight headers) before the CORS
/// layer, which would otherwise take every OPTIONS request for a preflight.
pub async fn tus_discovery(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if req.method() == axum::http::Method::OPTIONS
        && req.uri().path() == "/v1/uploads"
        && !req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        return upload_options(State(state)).await;
    }
    next.run(req).await
}

/// What this server supports, for tus clients.
#[utoipa::path(options, path = "/v1/uploads", tag = "uploads", responses((status = 204)))]
async fn upload_options(State(state): State<AppState>) -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    tus_headers(&mut resp);
    let h = resp.headers_mut();
    h.insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    h.insert(
        "tus-extension",
        HeaderValue::from_static("creation,termination"),
    );
    h.insert(
        "tus-max-size",
        HeaderValue::from(state.ingest.max_upload_bytes),
    );
    resp
}

async fn view(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Upload> {
    let row = upload::load(state, id).await?;
    caller.require_tenant_read(&row.tenant_id, "upload")?;
    let offset = upload::current_offset(state, &row).await;
    Ok(Upload {
        id: row.id,
        version_id: row.version_id,
        offset,
        length: row.length,
        expires_at: row.expires_at,
    })
}

/// An upload's progress as JSON.
#[utoipa::path(get, path = "/v1/uploads/{id}", tag = "uploads", responses((status = 200, body = Upload)))]
async fn get_upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Upload>> {
    Ok(axum::Json(view(&state, &caller, &id).await?))
}

/// Where to resume: `Upload-Offset` and `Upload-Length`.
#[utoipa::path(head, path = "/v1/uploads/{id}", tag = "uploads", params(("Tus-Resumable" = String, Header, description = "1.0.0")),
    responses((status = 200, headers(("Upload-Offset" = u64), ("Upload-Length" = u64))),
              (status = 412, body = playrack_wire::Problem, description = "No `Tus-Resumable: 1.0.0`")))]
async fn head_upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require_tus(&headers)?;
    let up = view(&state, &caller, &id).await?;
    let mut resp = StatusCode::OK.into_response();
    tus_headers(&mut resp);
    resp.headers_mut()
        .insert("upload-offset", HeaderValue::from(up.offset));
    resp.headers_mut()
        .insert("upload-length", HeaderValue::from(up.length));
    Ok(resp)
}

/// Appends bytes at `Upload-Offset`. The last byte settles the version (READY or FAILED); read
/// the version for the outcome.
#[utoipa::path(patch, path = "/v1/uploads/{id}", tag = "uploads", params(("Tus-Resumable" = String, Header, description = "1.0.0"),
           ("Upload-Offset" = u64, Header, description = "Where this chunk starts")),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    responses((status = 204, headers(("Upload-Offset" = u64))), (status = 409, body = playrack_wire::Problem),
              (status = 412, body = playrack_wire::Problem, description = "No `Tus-Resumable: 1.0.0`")))]
async fn patch_upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    require_tus(&headers)?;
    if headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        != Some("application/offset+octet-stream")
    {
        return Err(ApiError::coded(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send the bytes with `Content-Type: application/offset+octet-stream`",
        ));
    }
    let offset = header_u64(&headers, "upload-offset")?;
    let done = upload::append(&state, &caller, &id, offset, body).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    tus_headers(&mut resp);
    resp.headers_mut()
        .insert("upload-offset", HeaderValue::from(done.offset));
    if done.finished {
        resp.headers_mut().insert(
            "playrack-version",
            HeaderValue::from_str(&done.row.version_id).expect("ascii id"),
        );
    }
    Ok(resp)
}

/// Cancels an upload; its version ends FAILED with `UPLOAD_CANCELLED`.
#[utoipa::path(delete, path = "/v1/uploads/{id}", tag = "uploads", params(("Tus-Resumable" = String, Header, description = "1.0.0")),
    responses((status = 204), (status = 412, body = playrack_wire::Problem, description = "No `Tus-Resumable: 1.0.0`")))]
async fn delete_upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require_tus(&headers)?;
    let row = upload::load(&state, &id).await?;
    caller.require_tenant_write(&row.tenant_id, "upload")?;
    upload::abandon(
        &state,
        &row,
        caller.id(),
        "UPLOAD_CANCELLED",
        "the upload was cancelled",
    )
    .await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    tus_headers(&mut resp);
    Ok(resp)
}
