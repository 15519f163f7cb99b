//! Settling a fully uploaded version: store it, parse it, and decide READY or FAILED.

use super::upload::UploadRow;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::catalog;
use playrack_wire::api::{ApkSummary, VersionState};

/// Moves the finished scratch file into the store, marks the version PARSING, and settles it.
pub async fn complete(state: &AppState, row: &UploadRow, sha256: &str) -> ApiResult<()> {
    let part = state.ingest.store.part_path(&row.id)?;
    {
        let _store = state.ingest.store_lock.lock().await;
        let (st, sha) = (state.clone(), sha256.to_owned());
        tokio::task::spawn_blocking(move || st.ingest.store.commit(&part, &sha))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))??;
        let mut tx = state.db.write().await?;
        catalog::mark_parsing(&mut tx, &row.version_id, sha256).await?;
        catalog::delete_upload(&mut tx, &row.id).await?;
        tx.commit().await?;
    }
    settle(state, &row.version_id).await
}

/// Parses a PARSING version's package and records the outcome.
pub async fn settle(state: &AppState, version_id: &str) -> ApiResult<()> {
    let catalog::ParsingVersion {
        sha256: sha,
        game_id,
        tenant_id,
        package_name: game_package,
    } = catalog::parsing(&state.db.pool, version_id)
        .await?
        .ok_or(ApiError::NotFound("version"))?;

    let path = state.ingest.store.apk_path(&sha)?;
    let limits = state.ingest.limits.clone();
    let started = std::time::Instant::now();
    let parsed = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path)?;
        Ok::<_, std::io::Error>(playrack_apk::inspect(
            std::io::BufReader::new(file),
            &limits,
        ))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    metrics::histogram!("playrack_apk_parse_seconds").record(started.elapsed().as_secs_f64());

    let info = match parsed {
        Ok(info) => info,
        Err(e) => {
            return fail(
                state,
                version_id,
                &tenant_id,
                &sha,
                e.code(),
                &e.to_string(),
            )
            .await;
        }
    };
    if let Some(expected) = game_package.as_ref().filter(|p| **p != info.package) {
        let msg = format!(
            "this game's package is {expected}; the upload is {}",
            info.package
        );
        return fail(
            state,
            version_id,
            &tenant_id,
            &sha,
            "PACKAGE_MISMATCH",
            &msg,
        )
        .await;
    }
    if let Some(icon) = &info.icon {
        let (st, bytes, sha2) = (state.clone(), icon.bytes.clone(), sha.clone());
        tokio::task::spawn_blocking(move || st.ingest.store.put_icon(&sha2, &bytes))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))??;
    }
    let summary = ApkSummary {
        package: info.package.clone(),
        version_code: info.version_code,
        version_name: info.version_name.clone(),
        min_sdk: info.min_sdk,
        target_sdk: info.target_sdk,
        launchable_activity: info.launchable_activity.clone(),
        permissions: info.permissions.clone(),
        label: info.label.clone(),
        abis: info.abis.clone(),
        has_icon: info.icon.is_some(),
    };

    let mut tx = state.db.write().await?;
    let duplicate = catalog::version_code_taken(&mut tx, &game_id, info.version_code).await?;
    // Fix the game's package on its first READY version; a concurrent first version with another
    // package loses here.
    catalog::fix_package(&mut tx, &game_id, &info.package).await?;
    let package_now = catalog::game_package(&mut tx, &game_id).await?;
    let reject = if duplicate {
        Some((
            "DUPLICATE_VERSION_CODE",
            format!(
                "versionCode {} is already READY for this game",
                info.version_code
            ),
        ))
    } else if package_now.as_deref() != Some(info.package.as_str()) {
        Some((
            "PACKAGE_MISMATCH",
            format!(
                "this game's package is {}; the upload is {}",
                package_now.unwrap_or_default(),
                info.package
            ),
        ))
    } else {
        None
    };
    if let Some((code, msg)) = reject {
        drop(tx); // roll back
        return fail(state, version_id, &tenant_id, &sha, code, &msg).await;
    }
    let icon_mime = info.icon.as_ref().map(|i| i.mime.to_string());
    let updated = catalog::mark_ready(
        &mut tx,
        version_id,
        &summary,
        info.version_code,
        icon_mime.as_deref(),
    )
    .await;
    match updated {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            drop(tx);
            let msg = format!(
                "versionCode {} is already READY for this game",
                info.version_code
            );
            return fail(
                state,
                version_id,
                &tenant_id,
                &sha,
                "DUPLICATE_VERSION_CODE",
                &msg,
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    }
    crate::audit::record_as(
        &mut tx,
        "system",
        Some(&tenant_id),
        "version.ready",
        version_id,
        serde_json::json!({"package": info.package, "version_code": info.version_code, "sha256": sha}),
    )
    .await?;
    tx.commit().await?;
    metrics::counter!("playrack_versions_settled_total", "state" => catalog::version_state_text(VersionState::Ready)).increment(1);
    Ok(())
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Marks a version FAILED and deletes its stored file if no other live version shares it.
async fn fail(
    state: &AppState,
    version_id: &str,
    tenant_id: &str,
    sha: &str,
    code: &str,
    message: &str,
) -> ApiResult<()> {
    let _store = state.ingest.store_lock.lock().await;
    let mut tx = state.db.write().await?;
    catalog::mark_failed(&mut tx, version_id, code, message).await?;
    let shared = catalog::package_shared(&mut tx, sha, version_id).await?;
    crate::audit::record_as(
        &mut tx,
        "system",
        Some(tenant_id),
        "version.fail",
        version_id,
        serde_json::json!({"code": code, "message": message}),
    )
    .await?;
    tx.commit().await?;
    if !shared {
        state.ingest.store.remove(sha)?;
    }
    metrics::counter!("playrack_versions_settled_total", "state" => catalog::version_state_text(VersionState::Failed)).increment(1);
    Ok(())
}
