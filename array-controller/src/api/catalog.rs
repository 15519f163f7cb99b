//! The catalogue: specs (operator-managed SKUs), games and their versions, deployments of a
//! version to machine rooms, and try-play links.

use crate::audit;
use crate::auth::Caller;
use crate::db::{self, PageParams, page_from};
use crate::error::{ApiError, ApiResult};
use crate::http::{Json, Query};
use crate::state::AppState;
use crate::store::{self, catalog::VersionIcon};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use playrack_wire::Timestamp;
use playrack_wire::api::*;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_spec, list_specs))
        .routes(routes!(get_spec, update_spec))
        .routes(routes!(create_game, list_games))
        .routes(routes!(get_game, update_game))
        .routes(routes!(game_icon))
        .routes(routes!(list_versions))
        .routes(routes!(get_version))
        .routes(routes!(version_icon))
        .routes(routes!(publish_version))
        .routes(routes!(revoke_version))
        .routes(routes!(get_deployment, set_deployment))
        .routes(routes!(deployment_boards))
        .routes(routes!(create_link, list_links))
        .routes(routes!(get_link, update_link))
        .routes(routes!(revoke_link))
}

// ---------------------------------------------------------------------------------------------
// Specs
// ---------------------------------------------------------------------------------------------

/// A slug: lower-case letters, digits and dashes, 1–40 characters, starting with a letter or digit.
pub(crate) fn validate_slug(what: &str, s: &str) -> ApiResult<()> {
    let ok = !s.is_empty()
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::Validation(format!(
            "{what} `{s}` must be 1–40 characters of a-z, 0-9 and -"
        )))
    }
}

fn validate_spec(s: &Spec) -> ApiResult<()> {
    validate_slug("spec id", &s.id)?;
    if s.name.trim().is_empty() {
        return Err(ApiError::Validation("name must not be empty".into()));
    }
    if !(16..=4096).contains(&s.width) || !(16..=4096).contains(&s.height) {
        return Err(ApiError::Validation(
            "width and height must be 16–4096 pixels".into(),
        ));
    }
    if !(1..=240).contains(&s.fps) {
        return Err(ApiError::Validation("fps must be 1–240".into()));
    }
    if s.bitrate_min_kbps == 0 || s.bitrate_min_kbps > s.bitrate_max_kbps {
        return Err(ApiError::Validation(
            "bitrate_min_kbps must be > 0 and ≤ bitrate_max_kbps".into(),
        ));
    }
    if s.price_per_minute_micros < 0 {
        return Err(ApiError::Validation(
            "price_per_minute_micros must not be negative".into(),
        ));
    }
    Ok(())
}

/// Creates a spec (a billable SKU).
#[utoipa::path(post, path = "/v1/specs", tag = "catalog", request_body = Spec, responses((status = 201, body = Spec)))]
async fn create_spec(
    State(state): State<AppState>,
    caller: Caller,
    Json(spec): Json<Spec>,
) -> ApiResult<(StatusCode, axum::Json<Spec>)> {
    caller.require_operator_admin()?;
    validate_spec(&spec)?;
    let mut tx = state.db.write().await?;
    store::catalog::insert_spec(&mut tx, &spec, crate::now().millis()).await?;
    audit::record(
        &mut tx,
        &caller,
        None,
        "spec.create",
        &spec.id,
        serde_json::to_value(&spec).unwrap_or_default(),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(spec)))
}

/// Lists specs (everyone signed in: tenants choose from them).
#[utoipa::path(get, path = "/v1/specs", tag = "catalog", params(PageParams), responses((status = 200, body = Page<Spec>)))]
async fn list_specs(
    State(state): State<AppState>,
    _caller: Caller,
    Query(page): Query<PageParams>,
) -> ApiResult<axum::Json<Page<Spec>>> {
    let items =
        store::catalog::specs_page(&state.db.pool, &page.cursor(), page.limit() + 1).await?;
    Ok(axum::Json(page_from(items, &page, |s| s.id.clone())))
}

async fn load_spec(state: &AppState, id: &str) -> ApiResult<Spec> {
    store::catalog::spec(&state.db.pool, id)
        .await?
        .ok_or(ApiError::NotFound("spec"))
}

#[utoipa::path(get, path = "/v1/specs/{id}", tag = "catalog", responses((status = 200, body = Spec)))]
async fn get_spec(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Spec>> {
    Ok(axum::Json(load_spec(&state, &id).await?))
}

/// Changes a spec's name, bitrate window, reservation or price (resolution and fps are fixed:
/// make a new spec instead).
#[utoipa::path(patch, path = "/v1/specs/{id}", tag = "catalog", request_body = UpdateSpec, responses((status = 200, body = Spec)))]
async fn update_spec(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<UpdateSpec>,
) -> ApiResult<axum::Json<Spec>> {
    caller.require_operator_admin()?;
    let mut spec = load_spec(&state, &id).await?;
    let before = spec.clone();
    if let Some(v) = &req.name {
        spec.name = v.clone();
    }
    if let Some(v) = req.bitrate_min_kbps {
        spec.bitrate_min_kbps = v;
    }
    if let Some(v) = req.bitrate_max_kbps {
        spec.bitrate_max_kbps = v;
    }
    if let Some(v) = req.cpu_millis {
        spec.cpu_millis = v;
    }
    if let Some(v) = req.memory_mb {
        spec.memory_mb = v;
    }
    if let Some(v) = req.price_per_minute_micros {
        spec.price_per_minute_micros = v;
    }
    validate_spec(&spec)?;
    let mut tx = state.db.write().await?;
    store::catalog::update_spec(&mut tx, &spec, crate::now().millis()).await?;
    audit::record_change(
        &mut tx,
        &caller,
        None,
        "spec.update",
        &id,
        serde_json::to_value(&req).unwrap_or_default(),
        Some(&before),
        Some(&spec),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(spec))
}

// ---------------------------------------------------------------------------------------------
// Games
// ---------------------------------------------------------------------------------------------

pub(crate) async fn load_game(state: &AppState, id: &str) -> ApiResult<Game> {
    store::catalog::game(&state.db.pool, id)
        .await?
        .ok_or(ApiError::NotFound("game"))
}

async fn check_specs(state: &AppState, spec_ids: &[String]) -> ApiResult<()> {
    if spec_ids.is_empty() {
        return Err(ApiError::Validation(
            "spec_ids must list at least one spec".into(),
        ));
    }
    for (i, id) in spec_ids.iter().enumerate() {
        if spec_ids[..i].contains(id) {
            return Err(ApiError::Validation(format!("spec `{id}` is listed twice")));
        }
        load_spec(state, id)
            .await
            .map_err(|_| ApiError::Validation(format!("there is no spec `{id}`")))?;
    }
    Ok(())
}

fn validate_trial(t: &TrialDefaults) -> ApiResult<()> {
    if t.max_play_seconds == 0 || t.idle_kick_seconds == 0 {
        return Err(ApiError::Validation(
            "max_play_seconds and idle_kick_seconds must be > 0".into(),
        ));
    }
    if t.connect_deadline_seconds
        .is_some_and(|s| !(1..=3600).contains(&s))
    {
        return Err(ApiError::Validation(
            "connect_deadline_seconds must be 1–3600".into(),
        ));
    }
    Ok(())
}

/// Creates a game for the caller's tenant (operators name the tenant with `?tenant_id=`).
#[utoipa::path(post, path = "/v1/games", tag = "catalog", request_body = CreateGame, params(TenantParam),
    responses((status = 201, body = Game)))]
async fn create_game(
    State(state): State<AppState>,
    caller: Caller,
    Query(tp): Query<TenantParam>,
    Json(req): Json<CreateGame>,
) -> ApiResult<(StatusCode, axum::Json<Game>)> {
    let tenant_id = tp.resolve(&caller)?;
    caller.require_tenant_write(&tenant_id, "tenant")?;
    validate_slug("slug", &req.slug)?;
    if req.name.trim().is_empty() || req.name.chars().count() > 100 {
        return Err(ApiError::Validation("name must be 1–100 characters".into()));
    }
    check_specs(&state, &req.spec_ids).await?;
    let trial = req.trial_defaults.unwrap_or_default();
    validate_trial(&trial)?;
    let id = db::new_id("gam");
    let mut tx = state.db.write().await?;
    super::accounts::ensure_tenant(&mut tx, &tenant_id).await?;
    let game = store::catalog::NewGame {
        id: &id,
        tenant_id: &tenant_id,
        slug: &req.slug,
        name: req.name.trim(),
        archive_policy: req.archive_policy,
        spec_ids: &req.spec_ids,
        trial_defaults: &trial,
        created_at: crate::now().millis(),
    };
    store::catalog::insert_game(&mut tx, &game)
        .await
        .map_err(|e| match ApiError::from(e) {
            ApiError::Conflict { .. } => ApiError::conflict(
                "SLUG_TAKEN",
                format!("the tenant already has a game `{}`", req.slug),
            ),
            other => other,
        })?;
    audit::record(
        &mut tx,
        &caller,
        Some(&tenant_id),
        "game.create",
        &id,
        serde_json::to_value(&req).unwrap_or_default(),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(load_game(&state, &id).await?),
    ))
}

/// `?tenant_id=` for operators acting on a tenant's behalf; tenant users may omit it.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TenantParam {
    pub tenant_id: Option<String>,
}

impl TenantParam {
    pub fn resolve(&self, caller: &Caller) -> ApiResult<String> {
        match (&self.tenant_id, caller.tenant_scope()) {
            (Some(t), _) => Ok(t.clone()),
            (None, Some(mine)) => Ok(mine.to_owned()),
            (None, None) => Err(ApiError::Validation(
                "operators must name the tenant with ?tenant_id=".into(),
            )),
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListGamesParams {
    pub tenant_id: Option<String>,
    /// Items per page, 1–200 (default 50).
    #[serde(default, deserialize_with = "crate::db::page_limit")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Lists games: a tenant's own, or any tenant's for operators (filter with `?tenant_id=`).
#[utoipa::path(get, path = "/v1/games", tag = "catalog", params(ListGamesParams), responses((status = 200, body = Page<Game>)))]
async fn list_games(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListGamesParams>,
) -> ApiResult<axum::Json<Page<Game>>> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let tenant = match caller.tenant_scope() {
        Some(mine) => mine.to_owned(),
        None => q.tenant_id.unwrap_or_default(),
    };
    let items =
        store::catalog::games_page(&state.db.pool, &tenant, &page.cursor(), page.limit() + 1)
            .await?;
    Ok(axum::Json(page_from(items, &page, |g| g.id.clone())))
}

#[utoipa::path(get, path = "/v1/games/{id}", tag = "catalog", responses((status = 200, body = Game)))]
async fn get_game(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Game>> {
    let game = load_game(&state, &id).await?;
    caller.require_tenant_read(&game.tenant_id, "game")?;
    Ok(axum::Json(game))
}

#[utoipa::path(patch, path = "/v1/games/{id}", tag = "catalog", request_body = UpdateGame, responses((status = 200, body = Game)))]
async fn update_game(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<UpdateGame>,
) -> ApiResult<axum::Json<Game>> {
    let game = load_game(&state, &id).await?;
    caller.require_tenant_write(&game.tenant_id, "game")?;
    let name = req.name.clone().unwrap_or(game.name.clone());
    if name.trim().is_empty() || name.chars().count() > 100 {
        return Err(ApiError::Validation("name must be 1–100 characters".into()));
    }
    let specs = req.spec_ids.clone().unwrap_or(game.spec_ids.clone());
    check_specs(&state, &specs).await?;
    let trial = req.trial_defaults.unwrap_or(game.trial_defaults);
    validate_trial(&trial)?;
    let mut tx = state.db.write().await?;
    store::catalog::update_game(
        &mut tx,
        &id,
        name.trim(),
        req.archive_policy.unwrap_or(game.archive_policy),
        &specs,
        &trial,
    )
    .await?;
    audit::record(
        &mut tx,
        &caller,
        Some(&game.tenant_id),
        "game.update",
        &id,
        serde_json::to_value(&req).unwrap_or_default(),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(load_game(&state, &id).await?))
}

/// The icon of the game's default version.
#[utoipa::path(get, path = "/v1/games/{id}/icon", tag = "catalog", responses((status = 200, content_type = "image/png")))]
async fn game_icon(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let game = load_game(&state, &id).await?;
    caller.require_tenant_read(&game.tenant_id, "game")?;
    let version = game.default_version_id.ok_or(ApiError::NotFound("icon"))?;
    icon_response(&state, &version).await
}

pub(crate) async fn icon_response(state: &AppState, version_id: &str) -> ApiResult<Response> {
    let VersionIcon {
        sha256: sha,
        icon_mime,
    } = store::catalog::ready_icon(&state.db.pool, version_id)
        .await?
        .ok_or(ApiError::NotFound("icon"))?;
    let mime = icon_mime.ok_or(ApiError::NotFound("icon"))?;
    let bytes = tokio::fs::read(state.ingest.store.icon_path(&sha)?).await?;
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "private, max-age=3600".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------------------------

/// A version and the tenant that owns it.
pub(crate) async fn load_version(state: &AppState, id: &str) -> ApiResult<(Version, String)> {
    store::catalog::version(&state.db.pool, id)
        .await?
        .ok_or(ApiError::NotFound("version"))
}

/// Lists a game's versions, oldest first.
#[utoipa::path(get, path = "/v1/games/{id}/versions", tag = "catalog", params(PageParams), responses((status = 200, body = Page<Version>)))]
async fn list_versions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(page): Query<PageParams>,
) -> ApiResult<axum::Json<Page<Version>>> {
    let game = load_game(&state, &id).await?;
    caller.require_tenant_read(&game.tenant_id, "game")?;
    let items =
        store::catalog::versions_page(&state.db.pool, &id, &page.cursor(), page.limit() + 1)
            .await?;
    Ok(axum::Json(page_from(items, &page, |v| v.id.clone())))
}

#[utoipa::path(get, path = "/v1/versions/{id}", tag = "catalog", responses((status = 200, body = Version)))]
async fn get_version(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Version>> {
    let (version, tenant) = load_version(&state, &id).await?;
    caller.require_tenant_read(&tenant, "version")?;
    Ok(axum::Json(version))
}

#[utoipa::path(get, path = "/v1/versions/{id}/icon", tag = "catalog", responses((status = 200, content_type = "image/png")))]
async fn version_icon(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (_, tenant) = load_version(&state, &id).await?;
    caller.require_tenant_read(&tenant, "version")?;
    icon_response(&state, &id).await
}

async fn set_published(
    state: &AppState,
    caller: &Caller,
    id: &str,
    publish: bool,
) -> ApiResult<Version> {
    let action = if publish {
        "version.publish"
    } else {
        "version.revoke"
    };
    let now = crate::now();
    let published_at = |v: &Version| match publish {
        true => Some(v.published_at.unwrap_or(now)),
        false => None,
    };
    Ok(publication(state, caller, id, action, None, published_at)
        .await?
        .0)
}

/// Puts back whether (and since when) a version was published, as `before` had it.
pub(crate) async fn restore_version(
    state: &AppState,
    caller: &Caller,
    id: &str,
    before: &serde_json::Value,
    entry: &str,
) -> ApiResult<String> {
    let was: Version = serde_json::from_value(before.clone()).map_err(not_restorable)?;
    let restore = |_: &Version| was.published_at;
    Ok(
        publication(state, caller, id, "version.restore", Some(entry), restore)
            .await?
            .1,
    )
}

/// Sets a READY version's publication to what `published_at` says of it, audited as `action`
/// with the version before and after (and the restored `entry`, if any); answers the version as
/// saved and the audit entry's id.
async fn publication(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: &str,
    entry: Option<&str>,
    published_at: impl FnOnce(&Version) -> Option<Timestamp>,
) -> ApiResult<(Version, String)> {
    let (_, tenant) = load_version(state, id).await?;
    caller.require_tenant_write(&tenant, "version")?;
    let mut tx = state.db.write().await?;
    store::advisory_lock(&mut tx, state.db.backend, &format!("object:{id}")).await?;
    let (before, _) = load_version(state, id).await?;
    if before.state != VersionState::Ready {
        return Err(ApiError::conflict(
            "VERSION_NOT_READY",
            format!(
                "only READY versions can be published or revoked; this one is {:?}",
                before.state
            ),
        ));
    }
    let mut after = before.clone();
    after.published_at = published_at(&before);
    store::catalog::set_published(&mut tx, id, after.published_at.map(|t| t.millis())).await?;
    let entry = audit::record_change(
        &mut tx,
        caller,
        Some(&tenant),
        action,
        id,
        match entry {
            Some(entry) => serde_json::json!({"game_id": before.game_id, "entry": entry}),
            None => serde_json::json!({"game_id": before.game_id}),
        },
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok((after, entry))
}

/// Publishes a READY version: the newest published version is what plays use.
#[utoipa::path(post, path = "/v1/versions/{id}/publish", tag = "catalog", responses((status = 200, body = Version)))]
async fn publish_version(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Version>> {
    Ok(axum::Json(set_published(&state, &caller, &id, true).await?))
}

/// Withdraws a published version; plays fall back to the next newest published one.
#[utoipa::path(post, path = "/v1/versions/{id}/revoke", tag = "catalog", responses((status = 200, body = Version)))]
async fn revoke_version(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Version>> {
    Ok(axum::Json(
        set_published(&state, &caller, &id, false).await?,
    ))
}

// ---------------------------------------------------------------------------------------------
// Deployments
// ---------------------------------------------------------------------------------------------

async fn load_deployment(state: &AppState, version: &Version) -> ApiResult<Deployment> {
    let rows = store::catalog::deployment(&state.db.pool, &version.id).await?;
    let sha = version.sha256.as_deref().unwrap_or("");
    let mut rooms = Vec::with_capacity(rows.len());
    for row in rows {
        let pool = &state.db.pool;
        let volume = match store::volumes::copy(pool, &row.room_id, sha).await? {
            Some(v) => v,
            None => VolumeCopy {
                state: VolumeCopyState::Placing,
                progress_percent: 0,
                error: None,
                attempts: 0,
                updated_at: playrack_wire::Timestamp(row.updated_at),
            },
        };
        let boards = store::volumes::tally(pool, &row.room_id, sha).await?;
        rooms.push(row.into_api(volume, boards));
    }
    Ok(Deployment {
        version_id: version.id.clone(),
        game_id: version.game_id.clone(),
        rooms,
    })
}

/// Where a version is deployed, and how far each room has got.
#[utoipa::path(get, path = "/v1/versions/{id}/deployment", tag = "catalog", responses((status = 200, body = Deployment)))]
async fn get_deployment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Deployment>> {
    let (version, tenant) = load_version(&state, &id).await?;
    caller.require_tenant_read(&tenant, "version")?;
    Ok(axum::Json(load_deployment(&state, &version).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeploymentBoardParams {
    /// Only the boards of this room.
    pub room_id: Option<String>,
    /// Items per page, 1–200 (default 50).
    #[serde(default, deserialize_with = "crate::db::page_limit")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Each board's copy of a version's package, by board id: the boards that have started
/// copying it from their room's volume, and how far each has got.
#[utoipa::path(get, path = "/v1/versions/{id}/deployment/boards", tag = "catalog", params(DeploymentBoardParams), responses((status = 200, body = Page<DeploymentBoard>)))]
async fn deployment_boards(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<DeploymentBoardParams>,
) -> ApiResult<axum::Json<Page<DeploymentBoard>>> {
    let (version, tenant) = load_version(&state, &id).await?;
    caller.require_tenant_read(&tenant, "version")?;
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let items = match version.sha256.as_deref() {
        Some(sha) => {
            store::volumes::boards(
                &state.db.pool,
                &version.id,
                sha,
                q.room_id.as_deref(),
                &page.cursor(),
                page.limit() + 1,
            )
            .await?
        }
        None => Vec::new(),
    };
    Ok(axum::Json(page_from(items, &page, |b| b.board_id.clone())))
}

/// Sets the rooms a READY version should be in: new rooms start `pending` (the package is
/// placed on each room's shared volume, then the room's boards copy it from there and report
/// progress), rooms left out are undeployed.
#[utoipa::path(put, path = "/v1/versions/{id}/deployment", tag = "catalog", request_body = SetDeployment, responses((status = 200, body = Deployment)))]
async fn set_deployment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<SetDeployment>,
) -> ApiResult<axum::Json<Deployment>> {
    let (version, tenant) = load_version(&state, &id).await?;
    caller.require_tenant_write(&tenant, "version")?;
    if version.state != VersionState::Ready {
        return Err(ApiError::conflict(
            "VERSION_NOT_READY",
            "only READY versions can be deployed",
        ));
    }
    let mut rooms = req.room_ids.clone();
    rooms.sort();
    rooms.dedup();
    let sha = version.sha256.clone().unwrap_or_default();
    let size = i64::try_from(version.size_bytes).unwrap_or(i64::MAX);
    let now = crate::now().millis();
    let mut tx = state.db.write().await?;
    for room in &rooms {
        if !store::topology::room_exists(&mut tx, room).await? {
            return Err(ApiError::Validation(format!("there is no room `{room}`")));
        }
        store::catalog::add_deployment(&mut tx, &id, room, &version.game_id, &tenant, now).await?;
        if !sha.is_empty() {
            store::volumes::want(&mut tx, room, &sha, size, now).await?;
        }
    }
    let existing = store::catalog::deployed_rooms(&mut tx, &id).await?;
    for room in existing.iter().filter(|r| !rooms.contains(r)) {
        store::catalog::remove_deployment(&mut tx, &id, room).await?;
    }
    audit::record(
        &mut tx,
        &caller,
        Some(&tenant),
        "deployment.set",
        &id,
        serde_json::json!({"room_ids": rooms}),
    )
    .await?;
    tx.commit().await?;
    if !sha.is_empty() {
        for room in &rooms {
            crate::deploy::deployed(&state, room, &sha, size).await?;
        }
    }
    Ok(axum::Json(load_deployment(&state, &version).await?))
}

// ---------------------------------------------------------------------------------------------
// Try-play links
// ---------------------------------------------------------------------------------------------

fn check_cta(cta: &CallToAction) -> ApiResult<()> {
    let label = cta.label.trim();
    if label.is_empty() || label.chars().count() > 60 {
        return Err(ApiError::Validation(
            "cta.label must be 1–60 characters".into(),
        ));
    }
    let scheme_ok = cta.url.starts_with("https://") || cta.url.starts_with("http://");
    if !scheme_ok
        || cta.url.len() > 2048
        || cta.url.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(ApiError::Validation(
            "cta.url must be an http(s) URL of at most 2048 characters without spaces".into(),
        ));
    }
    Ok(())
}

/// Creates a try-play link for a game.
#[utoipa::path(post, path = "/v1/links", tag = "catalog", request_body = CreateLink, responses((status = 201, body = Link)))]
async fn create_link(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateLink>,
) -> ApiResult<(StatusCode, axum::Json<Link>)> {
    let game = load_game(&state, &req.game_id).await?;
    caller.require_tenant_write(&game.tenant_id, "game")?;
    let mut settings = Link {
        id: String::new(),
        code: String::new(),
        game_id: game.id.clone(),
        trial_seconds: req
            .trial_seconds
            .unwrap_or(game.trial_defaults.max_play_seconds),
        expires_at: req.expires_at,
        max_plays: req.max_plays,
        plays_used: 0,
        campaign: req.campaign,
        revoked_at: None,
        cta: req.cta,
        connect_deadline_seconds: req.connect_deadline_seconds,
        embed_origins: req.embed_origins,
        created_at: crate::now(),
    };
    check_link(&mut settings, true)?;
    let id = db::new_id("lnk");
    let code = db::random_token(10);
    let mut tx = state.db.write().await?;
    let new = store::links::NewLink {
        id: &id,
        code: &code,
        game_id: &game.id,
        tenant_id: &game.tenant_id,
        trial_seconds: settings.trial_seconds,
        expires_at: settings.expires_at,
        max_plays: settings.max_plays,
        campaign: settings.campaign.as_deref(),
        cta: settings.cta.as_ref(),
        connect_deadline_seconds: settings.connect_deadline_seconds,
        embed_origins: &settings.embed_origins,
        created_at: settings.created_at.millis(),
    };
    let link = Link::from(store::links::create(&mut tx, &new).await?);
    audit::record_change(
        &mut tx,
        &caller,
        Some(&game.tenant_id),
        "link.create",
        &id,
        serde_json::json!({"code": code, "game_id": game.id}),
        None,
        Some(&link),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(link)))
}

/// Checks a link's settings and normalises them (the call to action's label trimmed, embed
/// origins normalised and deduplicated); `new_expiry`: an expiry set now must be in the future
/// (a restored one is put back as it was).
fn check_link(l: &mut Link, new_expiry: bool) -> ApiResult<()> {
    if l.trial_seconds == 0 || l.trial_seconds > 24 * 3600 {
        return Err(ApiError::Validation("trial_seconds must be 1–86400".into()));
    }
    if new_expiry && l.expires_at.is_some_and(|e| e <= crate::now()) {
        return Err(ApiError::Validation(
            "expires_at must be in the future".into(),
        ));
    }
    if l.max_plays == Some(0) {
        return Err(ApiError::Validation(
            "max_plays must be at least 1 (or absent for no limit)".into(),
        ));
    }
    if l.campaign.as_ref().is_some_and(|c| c.len() > 64) {
        return Err(ApiError::Validation(
            "campaign must be at most 64 characters".into(),
        ));
    }
    if let Some(cta) = &mut l.cta {
        check_cta(cta)?;
        cta.label = cta.label.trim().to_owned();
    }
    if l.connect_deadline_seconds
        .is_some_and(|s| !(1..=3600).contains(&s))
    {
        return Err(ApiError::Validation(
            "connect_deadline_seconds must be 1–3600".into(),
        ));
    }
    if l.embed_origins.len() > MAX_EMBED_ORIGINS {
        return Err(ApiError::Validation(format!(
            "embed_origins: at most {MAX_EMBED_ORIGINS} sites"
        )));
    }
    let mut origins: Vec<String> = Vec::new();
    for o in &l.embed_origins {
        let o = embed_origin(o).map_err(|e| ApiError::Validation(format!("embed_origins: {e}")))?;
        if !origins.contains(&o) {
            origins.push(o);
        }
    }
    l.embed_origins = origins;
    Ok(())
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListLinksParams {
    pub game_id: Option<String>,
    /// Items per page, 1–200 (default 50).
    #[serde(default, deserialize_with = "crate::db::page_limit")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Lists try-play links (a tenant's own; operators see all), optionally for one game.
#[utoipa::path(get, path = "/v1/links", tag = "catalog", params(ListLinksParams), responses((status = 200, body = Page<Link>)))]
async fn list_links(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListLinksParams>,
) -> ApiResult<axum::Json<Page<Link>>> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let items = store::links::page(
        &state.db.pool,
        caller.tenant_scope().unwrap_or(""),
        q.game_id.as_deref().unwrap_or_default(),
        &page.cursor(),
        page.limit() + 1,
    )
    .await?;
    Ok(axum::Json(page_from(items, &page, |l| l.id.clone())))
}

async fn load_link(state: &AppState, id: &str) -> ApiResult<(Link, String)> {
    let row = store::links::get(&state.db.pool, id)
        .await?
        .ok_or(ApiError::NotFound("link"))?;
    let tenant = row.tenant_id.clone();
    Ok((Link::from(row), tenant))
}

#[utoipa::path(get, path = "/v1/links/{id}", tag = "catalog", responses((status = 200, body = Link)))]
async fn get_link(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Link>> {
    let (link, tenant) = load_link(&state, &id).await?;
    caller.require_tenant_read(&tenant, "link")?;
    Ok(axum::Json(link))
}

/// Changes a link's settings: absent fields stay as they are, `null` clears one.
#[utoipa::path(patch, path = "/v1/links/{id}", tag = "catalog", request_body = UpdateLink, responses((status = 200, body = Link)))]
async fn update_link(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<UpdateLink>,
) -> ApiResult<axum::Json<Link>> {
    let (_, tenant) = load_link(&state, &id).await?;
    caller.require_tenant_write(&tenant, "link")?;
    let link = change_link(
        &state,
        &caller,
        &id,
        "link.update",
        serde_json::to_value(&req).unwrap_or_default(),
        |l| {
            let new_expiry = req.expires_at.is_some();
            if let Some(v) = req.trial_seconds {
                l.trial_seconds = v;
            }
            if let Some(v) = req.expires_at {
                l.expires_at = v;
            }
            if let Some(v) = req.max_plays {
                l.max_plays = v;
            }
            if let Some(v) = req.campaign {
                l.campaign = v.filter(|c| !c.trim().is_empty());
            }
            if let Some(v) = req.cta {
                l.cta = v;
            }
            if let Some(v) = req.connect_deadline_seconds {
                l.connect_deadline_seconds = v;
            }
            if let Some(v) = req.embed_origins {
                l.embed_origins = v;
            }
            check_link(l, new_expiry)
        },
    )
    .await?;
    Ok(axum::Json(link.0))
}

/// Revokes a link: it stops starting plays at once.
#[utoipa::path(post, path = "/v1/links/{id}/revoke", tag = "catalog", responses((status = 200, body = Link)))]
async fn revoke_link(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Link>> {
    let (_, tenant) = load_link(&state, &id).await?;
    caller.require_tenant_write(&tenant, "link")?;
    let now = crate::now();
    let link = change_link(
        &state,
        &caller,
        &id,
        "link.revoke",
        serde_json::json!({}),
        |l| {
            // A revoked link keeps its first revocation time.
            l.revoked_at.get_or_insert(now);
            Ok(())
        },
    )
    .await?;
    Ok(axum::Json(link.0))
}

/// Puts back a link's settings (and whether it is revoked) as `before` had them.
pub(crate) async fn restore_link(
    state: &AppState,
    caller: &Caller,
    id: &str,
    before: &serde_json::Value,
    entry: &str,
) -> ApiResult<String> {
    let (_, tenant) = load_link(state, id).await?;
    caller.require_tenant_write(&tenant, "link")?;
    let was: Link = serde_json::from_value(before.clone()).map_err(not_restorable)?;
    change_link(
        state,
        caller,
        id,
        "link.restore",
        serde_json::json!({ "entry": entry }),
        |l| {
            l.trial_seconds = was.trial_seconds;
            l.expires_at = was.expires_at;
            l.max_plays = was.max_plays;
            l.campaign = was.campaign;
            l.cta = was.cta;
            l.connect_deadline_seconds = was.connect_deadline_seconds;
            l.embed_origins = was.embed_origins;
            l.revoked_at = was.revoked_at;
            check_link(l, false)
        },
    )
    .await
    .map(|(_, entry)| entry)
}

/// An entry whose recorded state no longer reads as the object (the log outlived a format).
pub(crate) fn not_restorable(e: serde_json::Error) -> ApiError {
    ApiError::conflict(
        "NOT_RESTORABLE",
        format!("this entry's earlier state cannot be read back: {e}"),
    )
}

/// Applies `edit` to link `id` and saves it, audited as `action` with the link before and
/// after, in one transaction that holds the link's lock from the read to the write; answers
/// the link as saved and the audit entry's id.
async fn change_link(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: &str,
    summary: serde_json::Value,
    edit: impl FnOnce(&mut Link) -> ApiResult<()>,
) -> ApiResult<(Link, String)> {
    let mut tx = state.db.write().await?;
    store::advisory_lock(&mut tx, state.db.backend, &format!("object:{id}")).await?;
    let (before, tenant) = load_link(state, id).await?;
    let mut after = before.clone();
    edit(&mut after)?;
    store::links::update(&mut tx, &after).await?;
    let entry = audit::record_change(
        &mut tx,
        caller,
        Some(&tenant),
        action,
        id,
        summary,
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok((after, entry))
}
