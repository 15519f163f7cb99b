//! Save archives over HTTP (see [`crate::archives`] for storage, retention and compatibility).
//!
//! ```text
//! PUT    /v1/agent/sessions/{id}/archive   board credential; x-archive-sha256, x-android-sdk
//! GET    /v1/agent/archives/{id}           board credential; the bytes, for a live session
//! GET    /v1/archives?user=&game_id=       tenants (their own), operators (any, ?tenant_id=)
//! GET    /v1/archives/{id}
//! PATCH  /v1/archives/{id}                 pin / unpin / tag
//! DELETE /v1/archives/{id}
//! ```
//! Refusals of an upload: `ARCHIVE_HASH_MISMATCH` (422), `ARCHIVE_TRUNCATED` (400),
//! `ARCHIVE_TOO_LARGE` (413), `ARCHIVE_NOT_KEPT` (409, the game keeps its state online),
//! `NOT_FOUND` for a session that is not on the calling board.

use crate::archives::{self, Archive, UpdateArchive};
use crate::audit;
use crate::auth::Caller;
use crate::db::{PageParams, page_from};
use crate::error::{ApiError, ApiResult};
use crate::http::{Json, Query};
use crate::state::AppState;
use crate::store;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use playrack_wire::api::Page;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_archive))
        .routes(routes!(download_archive))
        .routes(routes!(list_archives))
        .routes(routes!(get_archive, update_archive, delete_archive))
}

fn declared(headers: &HeaderMap) -> ApiResult<archives::Declared> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let sha256 = text("x-archive-sha256")
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| crate::ingest::store::is_sha256_hex(s))
        .ok_or_else(|| {
            ApiError::Validation(
                "the x-archive-sha256 header must be the body's SHA-256 in hex (64 characters)"
                    .into(),
            )
        })?;
    let android_sdk = text("x-android-sdk")
        .and_then(|s| s.trim().parse::<u32>().ok())
        .filter(|n| (1..=1000).contains(n))
        .ok_or_else(|| {
            ApiError::Validation(
                "the x-android-sdk header must be the instance's Android API level (1–1000)".into(),
            )
        })?;
    let content_length = text("content-length").and_then(|s| s.parse::<u64>().ok());
    Ok(archives::Declared {
        sha256,
        android_sdk,
        content_length,
    })
}

/// A board agent uploads the save archive of a session it runs (streamed; the SHA-256 it
/// declares is checked before anything is stored). A repeat of a stored upload answers 200.
#[utoipa::path(put, path = "/v1/agent/sessions/{id}/archive", tag = "archives",
    params(("x-archive-sha256" = String, Header, description = "SHA-256 of the body, hex"),
           ("x-android-sdk" = u32, Header, description = "Android API level of the instance")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = Archive), (status = 200, body = Archive),
              (status = 422, body = playrack_wire::Problem), (status = 413, body = playrack_wire::Problem)))]
async fn upload_archive(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, axum::Json<Archive>)> {
    let board_id = super::agents::board_of(&state, &headers).await?;
    let declared = declared(&headers)?;
    let (archive, created) =
        archives::receive(&state, &board_id, &session_id, declared, body).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(archive)))
}

/// A board agent downloads an archive to restore it: only while it runs a live session of the
/// archive's player and game.
#[utoipa::path(get, path = "/v1/agent/archives/{id}", tag = "archives",
    responses((status = 200, content_type = "application/octet-stream", description = "The archive's bytes"),
              (status = 404, body = playrack_wire::Problem)))]
async fn download_archive(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let board_id = super::agents::board_of(&state, &headers).await?;
    let (archive, path) = archives::for_board(&state, &board_id, &id).await?;
    let file = tokio::fs::File::open(&path).await?;
    let mut resp = crate::http::file_body(file).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(archive.size_bytes),
    );
    if let Ok(v) = HeaderValue::from_str(&archive.sha256) {
        h.insert("x-archive-sha256", v);
    }
    h.insert("x-android-sdk", HeaderValue::from(archive.android_sdk));
    Ok(resp)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListArchivesParams {
    /// Operators: only this tenant's archives.
    pub tenant_id: Option<String>,
    /// Only this player's (`device:<digest>` for an anonymous device, `user:<id>`).
    pub user: Option<String>,
    pub game_id: Option<String>,
    /// Items per page, 1–200 (default 50).
    #[serde(default, deserialize_with = "crate::db::page_limit")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Lists archives: a tenant's own, any tenant's for operators.
#[utoipa::path(get, path = "/v1/archives", tag = "archives", params(ListArchivesParams),
    responses((status = 200, body = Page<Archive>)))]
async fn list_archives(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListArchivesParams>,
) -> ApiResult<axum::Json<Page<Archive>>> {
    let tenant = caller
        .tenant_asked(q.tenant_id.as_deref())?
        .unwrap_or_default();
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let items = store::archives::page(
        &state.db.pool,
        &tenant,
        q.user.as_deref().unwrap_or_default(),
        q.game_id.as_deref().unwrap_or_default(),
        &page.cursor(),
        page.limit() + 1,
    )
    .await?;
    Ok(axum::Json(page_from(items, &page, |a| a.id.clone())))
}

async fn load(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Archive> {
    let a = store::archives::get(&state.db.pool, id)
        .await?
        .ok_or(ApiError::NotFound("archive"))?;
    caller.require_tenant_read(&a.tenant_id, "archive")?;
    Ok(a)
}

/// One archive.
#[utoipa::path(get, path = "/v1/archives/{id}", tag = "archives", responses((status = 200, body = Archive)))]
async fn get_archive(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Archive>> {
    Ok(axum::Json(load(&state, &caller, &id).await?))
}

/// Pins or unpins an archive, or sets its tag. (An unpinned archive counts again towards the
/// newest N kept, from the next save of that player and game.)
#[utoipa::path(patch, path = "/v1/archives/{id}", tag = "archives", request_body = UpdateArchive,
    responses((status = 200, body = Archive)))]
async fn update_archive(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<UpdateArchive>,
) -> ApiResult<axum::Json<Archive>> {
    let a = load(&state, &caller, &id).await?;
    caller.require_tenant_write(&a.tenant_id, "archive")?;
    let tag = match req.tag.as_deref().map(str::trim) {
        Some(t) if t.chars().count() > 100 => {
            return Err(ApiError::Validation(
                "tag must be at most 100 characters".into(),
            ));
        }
        Some("") => Some(None),
        Some(t) => Some(Some(t.to_owned())),
        None => None,
    };
    let mut tx = state.db.write().await?;
    if let Some(tag) = &tag {
        store::archives::set_tag(&mut tx, &id, tag.as_deref()).await?;
    }
    if let Some(pinned) = req.pinned {
        store::archives::set_pinned(&mut tx, &id, pinned).await?;
    }
    audit::record(
        &mut tx,
        &caller,
        Some(&a.tenant_id),
        "archive.update",
        &id,
        serde_json::json!({"pinned": req.pinned, "tag": req.tag}),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(load(&state, &caller, &id).await?))
}

/// Deletes an archive (its row, then its file).
#[utoipa::path(delete, path = "/v1/archives/{id}", tag = "archives", responses((status = 204)))]
async fn delete_archive(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let a = load(&state, &caller, &id).await?;
    caller.require_tenant_write(&a.tenant_id, "archive")?;
    let mut tx = state.db.write().await?;
    if store::archives::delete(&mut tx, &id).await? == 0 {
        return Err(ApiError::NotFound("archive"));
    }
    audit::record(
        &mut tx,
        &caller,
        Some(&a.tenant_id),
        "archive.delete",
        &id,
        serde_json::json!({"user": a.user, "game_id": a.game_id}),
    )
    .await?;
    tx.commit().await?;
    archives::remove_files(&state, std::slice::from_ref(&id));
    Ok(StatusCode::NO_CONTENT)
}
