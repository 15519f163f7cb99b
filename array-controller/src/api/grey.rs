//! Grey releases over HTTP: a tenant sends a share of a game's players to a candidate version
//! (optionally only those of one link or campaign), reads the stable and candidate versions'
//! figures side by side, and ends the release by promoting the candidate (it is published and
//! everyone gets it) or rolling it back (everyone gets the published version again). Every
//! change is audited with the release before and after, under the game's id.
//!
//! ```text
//! GET  /v1/games/{id}/grey        the release under way (if any) and the versions' figures
//! PUT  /v1/games/{id}/grey        start or change it (SetGreyRelease)
//! POST /v1/games/{id}/grey/end    promote or roll back (EndGreyRelease)
//! ```

use crate::audit;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::Json;
use crate::metering::DAY_MS;
use crate::state::AppState;
use crate::store;
use crate::store::grey::GreyRow;
use axum::extract::{Path, State};
use playrack_wire::Timestamp;
use playrack_wire::api::{
    EndGreyRelease, GreyOutcome, GreyRelease, GreyView, SetGreyRelease, Version, VersionState,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_grey, set_grey))
        .routes(routes!(end_grey))
}

/// Days of figures shown when no release is under way.
const IDLE_DAYS: i64 = 7;
/// The longest campaign tag a release names (as links allow).
const MAX_CAMPAIGN: usize = 64;

fn to_wire(r: &GreyRow, stable: Option<String>) -> GreyRelease {
    GreyRelease {
        game_id: r.game_id.clone(),
        version_id: r.version_id.clone(),
        stable_version_id: stable,
        percent: (r.per_mille / 10).clamp(0, 100) as u8,
        link_id: r.link_id.clone(),
        campaign: r.campaign.clone(),
        started_at: Timestamp(r.started_at),
        updated_at: Timestamp(r.updated_at),
    }
}

/// The game's release and figures, read as a tenant of the game may.
async fn view(state: &AppState, game_id: &str) -> ApiResult<GreyView> {
    let pool = &state.db.pool;
    let stable = store::plays::published_version(pool, game_id).await?;
    let release = store::grey::for_game(pool, game_id).await?;
    let now = crate::now().millis();
    let since = match &release {
        Some(r) => r.started_at.div_euclid(DAY_MS) * DAY_MS,
        None => (now.div_euclid(DAY_MS) - (IDLE_DAYS - 1)) * DAY_MS,
    };
    let mut ids: Vec<&str> = stable.iter().map(String::as_str).collect();
    if let Some(r) = &release {
        ids.push(&r.version_id);
    }
    let mut versions = Vec::with_capacity(ids.len());
    for id in ids {
        let t = store::grey::summed(pool, id, since.div_euclid(DAY_MS)).await?;
        versions.push(crate::grey::figures(id, &t));
    }
    Ok(GreyView {
        release: release.as_ref().map(|r| to_wire(r, stable.clone())),
        since: Timestamp(since),
        versions,
    })
}

/// The game's grey release (if one is under way) and its versions' figures side by side.
#[utoipa::path(get, path = "/v1/games/{id}/grey", tag = "catalog", responses((status = 200, body = GreyView)))]
async fn get_grey(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<GreyView>> {
    let game = super::catalog::load_game(&state, &id).await?;
    caller.require_tenant_read(&game.tenant_id, "game")?;
    Ok(axum::Json(view(&state, &id).await?))
}

fn version_code(v: &Version) -> i64 {
    v.apk.as_ref().map_or(i64::MIN, |a| a.version_code)
}

/// Starts a grey release of a game, or changes the one under way (its players keep their
/// draw: raising the share keeps everyone chosen before).
#[utoipa::path(put, path = "/v1/games/{id}/grey", tag = "catalog", request_body = SetGreyRelease,
    responses((status = 200, body = GreyRelease),
              (status = 409, body = playrack_wire::Problem, description = "The version cannot go to players: not READY (`VERSION_NOT_READY`), no published version to share with (`GREY_NO_STABLE`), not newer than it (`GREY_NOT_NEWER`), or not ready in any room (`GREY_NOT_DEPLOYED`)")))]
async fn set_grey(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<SetGreyRelease>,
) -> ApiResult<axum::Json<GreyRelease>> {
    let game = super::catalog::load_game(&state, &id).await?;
    caller.require_tenant_write(&game.tenant_id, "game")?;
    if req.percent > 100 {
        return Err(ApiError::Validation(
            "percent must be 0–100: the share of players who get the version".into(),
        ));
    }
    let pool = &state.db.pool;
    if let Some(link) = &req.link_id {
        let ok = store::links::get(pool, link)
            .await?
            .is_some_and(|l| l.game_id == id && l.tenant_id == game.tenant_id);
        if !ok {
            return Err(ApiError::Validation(format!(
                "link `{link}` is not a link of this game"
            )));
        }
    }
    let campaign = match req.campaign.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) if c.chars().count() > MAX_CAMPAIGN => {
            return Err(ApiError::Validation(format!(
                "campaign must be at most {MAX_CAMPAIGN} characters"
            )));
        }
        Some(c) => Some(c.to_owned()),
    };
    let (candidate, _) = store::catalog::version(pool, &req.version_id)
        .await?
        .filter(|(v, _)| v.game_id == id)
        .ok_or_else(|| {
            ApiError::Validation(format!(
                "version `{}` is not a version of this game",
                req.version_id
            ))
        })?;
    if candidate.state != VersionState::Ready {
        return Err(ApiError::conflict(
            "VERSION_NOT_READY",
            "only a READY version can go to players",
        ));
    }
    let stable_id = store::plays::published_version(pool, &id)
        .await?
        .ok_or_else(|| ApiError::conflict(
            "GREY_NO_STABLE",
            "publish a version first: a grey release shares the players of the published version",
        ))?;
    let (stable, _) = store::catalog::version(pool, &stable_id)
        .await?
        .ok_or(ApiError::NotFound("version"))?;
    if version_code(&candidate) <= version_code(&stable) {
        return Err(ApiError::conflict(
            "GREY_NOT_NEWER",
            format!(
                "the version's versionCode must be above the published version's ({}); \
                 to go back to an older version, revoke the newer one",
                version_code(&stable)
            ),
        ));
    }
    if !store::grey::deployed_somewhere(pool, &candidate.id).await? {
        return Err(ApiError::conflict(
            "GREY_NOT_DEPLOYED",
            "deploy the version to a room first: its players would have nowhere to play",
        ));
    }
    let now = crate::now().millis();
    let mut tx = state.db.write().await?;
    store::advisory_lock(&mut tx, state.db.backend, &format!("grey:{id}")).await?;
    let before = store::grey::for_game_tx(&mut tx, &id).await?;
    let row = GreyRow {
        game_id: id.clone(),
        tenant_id: game.tenant_id.clone(),
        version_id: candidate.id.clone(),
        per_mille: i32::from(req.percent) * 10,
        link_id: req.link_id.clone(),
        campaign,
        // A change keeps the draw of the release under way (the upsert keeps its salt).
        salt: crate::db::random_token(16),
        started_at: now,
        updated_at: now,
    };
    store::grey::put(&mut tx, &row).await?;
    let after = store::grey::for_game_tx(&mut tx, &id)
        .await?
        .ok_or_else(|| ApiError::Internal("a grey release written is not there".into()))?;
    let wire = |r: &GreyRow| to_wire(r, Some(stable_id.clone()));
    audit::record_change(
        &mut tx,
        &caller,
        Some(&game.tenant_id),
        if before.is_some() {
            "grey.change"
        } else {
            "grey.start"
        },
        &id,
        serde_json::json!({"game_id": id, "version_id": candidate.id, "percent": req.percent}),
        before.as_ref().map(wire).as_ref(),
        Some(&wire(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(wire(&after)))
}

/// Ends a game's grey release: `promote` publishes the candidate (everyone gets it),
/// `rollback` withdraws it (everyone gets the published version again). Plays under way go
/// on; every play after this resolves the game's version anew.
#[utoipa::path(post, path = "/v1/games/{id}/grey/end", tag = "catalog", request_body = EndGreyRelease,
    responses((status = 200, body = GreyView), (status = 404, body = playrack_wire::Problem, description = "No grey release is under way")))]
async fn end_grey(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<EndGreyRelease>,
) -> ApiResult<axum::Json<GreyView>> {
    let game = super::catalog::load_game(&state, &id).await?;
    caller.require_tenant_write(&game.tenant_id, "game")?;
    let stable = store::plays::published_version(&state.db.pool, &id).await?;
    let mut tx = state.db.write().await?;
    store::advisory_lock(&mut tx, state.db.backend, &format!("grey:{id}")).await?;
    let release = store::grey::for_game_tx(&mut tx, &id)
        .await?
        .ok_or(ApiError::NotFound("grey release"))?;
    if req.outcome == GreyOutcome::Promote {
        let (before, _) = store::catalog::version(&state.db.pool, &release.version_id)
            .await?
            .ok_or(ApiError::NotFound("version"))?;
        let mut after = before.clone();
        after.published_at = Some(before.published_at.unwrap_or(crate::now()));
        let at = after.published_at.map(|t| t.millis());
        store::catalog::set_published(&mut tx, &before.id, at).await?;
        audit::record_change(
            &mut tx,
            &caller,
            Some(&game.tenant_id),
            "version.publish",
            &before.id,
            serde_json::json!({"game_id": id, "grey": "promote"}),
            Some(&before),
            Some(&after),
        )
        .await?;
    }
    store::grey::delete(&mut tx, &id).await?;
    let action = match req.outcome {
        GreyOutcome::Promote => "grey.promote",
        GreyOutcome::Rollback => "grey.rollback",
    };
    audit::record_change::<GreyRelease>(
        &mut tx,
        &caller,
        Some(&game.tenant_id),
        action,
        &id,
        serde_json::json!({"game_id": id, "version_id": release.version_id}),
        Some(&to_wire(&release, stable)),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(view(&state, &id).await?))
}
