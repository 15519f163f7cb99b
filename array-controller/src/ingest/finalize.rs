//! Settling a fully uploaded version: store it, parse it, and decide READY or FAILED.

use super::upload::UploadRow;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use playrack_wire::api::ApkSummary;
use sqlx::Row;

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
        sqlx::query("UPDATE versions SET state = 'PARSING', sha256 = $1 WHERE id = $2")
            .bind(sha256)
            .bind(&row.version_id)
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM uploads WHERE id = $1")
            .bind(&row.id)
            .execute(&mut **tx)
            .await?;
        tx.commit().await?;
    }
    settle(state, &row.version_id).await
}

/// Parses a PARSING version's package and records the outcome.
pub async fn settle(state: &AppState, version_id: &str) -> ApiResult<()> {
    let row = sqlx::query(
        "SELECT v.sha256, v.game_id, v.tenant_id, g.package_name FROM versions v JOIN games g ON g.id = v.game_id \
         WHERE v.id = $1 AND v.state = 'PARSING'",
    )
    .bind(version_id)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or(ApiError::NotFound("version"))?;
    let sha: String = row.try_get("sha256")?;
    let game_id: String = row.try_get("game_id")?;
    let tenant_id: String = row.try_get("tenant_id")?;
    let game_package: Option<String> = row.try_get("package_name")?;

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
    let duplicate: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM versions WHERE game_id = $1 AND ready_version_code = $2",
    )
    .bind(&game_id)
    .bind(info.version_code)
    .fetch_one(&mut **tx)
    .await?;
    // Fix the game's package on its first READY version; a concurrent first version with another
    // package loses here.
    sqlx::query("UPDATE games SET package_name = $1 WHERE id = $2 AND package_name IS NULL")
        .bind(&info.package)
        .bind(&game_id)
        .execute(&mut **tx)
        .await?;
    let package_now: Option<String> =
        sqlx::query_scalar("SELECT package_name FROM games WHERE id = $1")
            .bind(&game_id)
            .fetch_one(&mut **tx)
            .await?;
    let reject = if duplicate > 0 {
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
    let updated = sqlx::query(
        "UPDATE versions SET state = 'READY', apk = $1, ready_version_code = $2, icon_mime = $3 WHERE id = $4 AND state = 'PARSING'",
    )
    .bind(serde_json::to_string(&summary).expect("summary serialises"))
    .bind(info.version_code)
    .bind(info.icon.as_ref().map(|i| i.mime.to_string()))
    .bind(version_id)
    .execute(&mut **tx)
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
    metrics::counter!("playrack_versions_settled_total", "state" => "READY").increment(1);
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
    sqlx::query("UPDATE versions SET state = 'FAILED', failure_code = $1, failure_message = $2 WHERE id = $3")
        .bind(code)
        .bind(message)
        .bind(version_id)
        .execute(&mut **tx)
        .await?;
    let others: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM versions WHERE sha256 = $1 AND id <> $2 AND state <> 'FAILED'",
    )
    .bind(sha)
    .bind(version_id)
    .fetch_one(&mut **tx)
    .await?;
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
    if others == 0 {
        state.ingest.store.remove(sha)?;
    }
    metrics::counter!("playrack_versions_settled_total", "state" => "FAILED").increment(1);
    Ok(())
}
