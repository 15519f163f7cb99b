//! Save archives: a player's game data between plays, per (tenant, user, game).
//!
//! A board agent uploads an archive at the end of a play (`PUT
//! /v1/agent/sessions/{session}/archive`, see [`crate::api::archives`]); the next acquire
//! restores the newest one unless the player chooses another ([`to_restore`]).
//!
//! # Storage
//! ```text
//! <package store>/archives/<archive id>.bin      one file per archive row
//! <package store>/archives/.tmp/<random>.part    uploads in progress
//! ```
//! Names are built only from generated ids (nothing a client sends becomes a path). An upload is
//! streamed into a scratch file while its SHA-256 is computed and its size limited; only when the
//! hash matches the one the agent declared is the file fsynced, renamed to its final name and its
//! row inserted, in one transaction — so a row never exists without its file, and a refused
//! upload (hash mismatch, truncated body, too large) leaves neither. Deleting removes the row
//! first, then the file; files without a row (a crash in between) are removed at start-up by
//! [`recover`].
//!
//! # Retention
//! The newest [`crate::config::Config::archive_keep`] unpinned archives of each (tenant, user,
//! game) are kept; older unpinned ones are deleted when a new one is stored. Pinned archives are
//! kept until deleted (and count again once unpinned, from the next save on).
//!
//! Anonymous players (a device id, no account) can be made up without end, so all of a tenant's
//! anonymous archives share one byte budget
//! ([`crate::config::Config::archive_anonymous_budget_bytes`]): a save beyond it evicts that
//! tenant's least recently saved unpinned anonymous archives ([`evict_anonymous`]). Signed-in
//! players' archives are never evicted.
//!
//! # Compatibility rule
//! An archive saved on Android API level `a` can be restored on an instance of level `d` only if
//! `a <= d`: app data moves forward across Android versions but not back (Android's own
//! backup/restore refuses downgrades the same way). [`to_restore`] refuses anything else with
//! `ARCHIVE_INCOMPATIBLE`; the player may then choose an older, compatible archive explicitly.

use crate::db::{self, WriteTx};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store;
use axum::body::Body;
use axum::http::StatusCode;
use futures_util::StreamExt;
use playrack_wire::agent::ArchiveRef;
use playrack_wire::api::ArchivePolicy;
pub use playrack_wire::api::{Archive, UpdateArchive};

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// Where an agent downloads an archive (relative to the controller URL it dialled).
pub fn download_path(id: &str) -> String {
    format!("/v1/agent/archives/{id}")
}

/// What an agent is told to restore.
pub fn to_ref(a: &Archive) -> ArchiveRef {
    ArchiveRef {
        id: a.id.clone(),
        sha256: a.sha256.clone(),
        size_bytes: a.size_bytes,
        url: download_path(&a.id),
    }
}

/// Ids the controller generates: `arc_<base32>`.
fn is_archive_id(s: &str) -> bool {
    s.len() <= 64
        && s.strip_prefix("arc_")
            .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn dir(state: &AppState) -> PathBuf {
    state.ingest.store.root().join("archives")
}

/// The file of archive `id` (only generated ids are accepted).
pub fn file_path(state: &AppState, id: &str) -> ApiResult<PathBuf> {
    if !is_archive_id(id) {
        return Err(ApiError::NotFound("archive"));
    }
    Ok(dir(state).join(format!("{id}.bin")))
}

/// The archive to restore for a new play of `game` by `user_key`: the `requested` one, or the
/// newest; `None` when the player has none. Refuses (`ARCHIVE_INCOMPATIBLE`, 409) an archive
/// saved on a newer Android than the instance's `device_sdk` (see the module docs), and a
/// requested archive that is not the player's (`ARCHIVE_NOT_FOUND`, 404).
///
/// Takes any executor: `&mut **tx` inside a transaction, or `&state.db.pool`.
pub async fn to_restore<'e, E>(
    db: E,
    tenant: &str,
    user_key: &str,
    game: &str,
    requested: Option<&str>,
    device_sdk: u32,
) -> ApiResult<Option<ArchiveRef>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let found = match requested {
        Some(id) => {
            let found = store::archives::owned(db, id, tenant, user_key, game).await?;
            Some(found.ok_or_else(|| {
                ApiError::coded(
                    StatusCode::NOT_FOUND,
                    "ARCHIVE_NOT_FOUND",
                    format!("the player has no archive {id} of this game"),
                )
            })?)
        }
        None => store::archives::newest(db, tenant, user_key, game).await?,
    };
    let Some(a) = found else { return Ok(None) };
    if a.android_sdk > device_sdk {
        return Err(ApiError::coded(
            StatusCode::CONFLICT,
            "ARCHIVE_INCOMPATIBLE",
            format!(
                "archive {} was saved on Android API level {}, newer than this instance's {device_sdk}; \
                 choose an archive saved on level {device_sdk} or lower",
                a.id, a.android_sdk
            ),
        ));
    }
    Ok(Some(to_ref(&a)))
}

/// What an agent declares about an upload.
pub struct Declared {
    pub sha256: String,
    pub android_sdk: u32,
    pub content_length: Option<u64>,
}

/// Removes a file when dropped, unless disarmed: a refused or interrupted upload leaves nothing.
struct FileGuard(Option<PathBuf>);

impl FileGuard {
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for FileGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Receives an archive of `session_id` from `board_id`: streams, verifies, stores, records,
/// prunes. Returns the archive and whether it is new (a verified repeat of an upload already
/// stored — an agent's retry — returns the stored one).
pub async fn receive(
    state: &AppState,
    board_id: &str,
    session_id: &str,
    declared: Declared,
    body: Body,
) -> ApiResult<(Archive, bool)> {
    let session = store::archives::session_owner(&state.db.pool, session_id)
        .await?
        .ok_or(ApiError::NotFound("session"))?;
    if session.board_id != board_id {
        return Err(ApiError::NotFound("session"));
    }
    if session.policy() == ArchivePolicy::Online {
        return Err(ApiError::conflict(
            "ARCHIVE_NOT_KEPT",
            "this game keeps its state online; the platform stores no archives for it",
        ));
    }
    let max = state.config.archive_max_bytes;
    if declared.content_length.is_some_and(|n| n > max) {
        return Err(too_large(max));
    }
    let owner = (session.tenant_id, session.user_key, session.game_id);
    // The work runs in its own task: if the agent goes away mid-body, axum drops the handler's
    // future, but the task still cleans up after itself.
    let task = store_task(
        state.clone(),
        board_id.to_owned(),
        session_id.to_owned(),
        owner,
        declared,
        body,
    );
    tokio::spawn(crate::http::with_current_request_id(task))
        .await
        .map_err(|e| ApiError::Internal(format!("archive task failed: {e}")))?
}

fn too_large(max: u64) -> ApiError {
    ApiError::coded(
        StatusCode::PAYLOAD_TOO_LARGE,
        "ARCHIVE_TOO_LARGE",
        format!("archives are limited to {max} bytes"),
    )
}

async fn store_task(
    state: AppState,
    board_id: String,
    session_id: String,
    (tenant_id, user_key, game_id): (String, String, String),
    declared: Declared,
    body: Body,
) -> ApiResult<(Archive, bool)> {
    let dir = dir(&state);
    let tmp_dir = dir.join(".tmp");
    tokio::fs::create_dir_all(&tmp_dir).await?;
    let tmp = tmp_dir.join(format!("{}.part", db::random_token(26)));
    let mut guard = FileGuard(Some(tmp.clone()));
    let mut file = tokio::fs::File::create(&tmp).await?;
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let max = state.config.archive_max_bytes;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::coded(
                StatusCode::BAD_REQUEST,
                "ARCHIVE_TRUNCATED",
                format!("the archive body ended early after {size} bytes: {e}"),
            )
        })?;
        size += chunk.len() as u64;
        if size > max {
            return Err(too_large(max));
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await?;
    }
    if declared.content_length.is_some_and(|n| n != size) {
        return Err(ApiError::coded(
            StatusCode::BAD_REQUEST,
            "ARCHIVE_TRUNCATED",
            format!(
                "Content-Length said {} bytes but {size} arrived",
                declared.content_length.unwrap_or_default()
            ),
        ));
    }
    let sha = hex::encode(hasher.finalize());
    if sha != declared.sha256 {
        return Err(ApiError::coded(
            StatusCode::UNPROCESSABLE_ENTITY,
            "ARCHIVE_HASH_MISMATCH",
            format!(
                "the body's SHA-256 is {sha}, not the declared {}; nothing was stored",
                declared.sha256
            ),
        ));
    }
    file.flush().await?;
    file.sync_all().await?;
    drop(file);

    let now = crate::now();
    let archive = Archive {
        id: db::new_id("arc"),
        tenant_id,
        user: user_key,
        game_id,
        session_id,
        sha256: sha,
        size_bytes: size,
        android_sdk: declared.android_sdk,
        tag: None,
        pinned: false,
        created_at: now,
    };
    let dest = file_path(&state, &archive.id)?;
    let mut tx = state.db.write().await?;
    let raced =
        store::archives::stored_upload(&mut tx, &archive.session_id, &archive.sha256).await?;
    if let Some(existing) = raced {
        // The same upload finished meanwhile (an agent's retry raced its first attempt).
        return Ok((existing, false));
    }
    tokio::fs::rename(&tmp, &dest).await?;
    guard.0 = Some(dest.clone());
    std::fs::File::open(&dir)?.sync_all()?;
    store::archives::insert(&mut tx, &archive, &board_id).await?;
    let pruned = prune(
        &mut tx,
        state.config.archive_keep,
        &archive.tenant_id,
        &archive.user,
        &archive.game_id,
    )
    .await?;
    let evicted = if store::archives::is_anonymous(&archive.user) {
        evict_anonymous(
            &mut tx,
            state.config.archive_anonymous_budget_bytes,
            &archive.tenant_id,
            &archive.id,
        )
        .await?
    } else {
        Vec::new()
    };
    crate::audit::record_as(
        &mut tx,
        &board_id,
        Some(&archive.tenant_id),
        "archive.create",
        &archive.id,
        serde_json::json!({"session_id": archive.session_id, "size_bytes": size, "pruned": pruned,
            "evicted": evicted}),
    )
    .await?;
    tx.commit().await?;
    guard.disarm();
    remove_files(&state, &pruned);
    remove_files(&state, &evicted);
    metrics::counter!("playrack_archives_evicted_total").increment(evicted.len() as u64);
    metrics::counter!("playrack_archives_stored_total").increment(1);
    Ok((archive, true))
}

/// Deletes the unpinned archives of (tenant, user, game) beyond the newest `keep` (rows only;
/// the caller removes the returned ids' files after committing).
pub async fn prune(
    tx: &mut WriteTx,
    keep: u32,
    tenant: &str,
    user_key: &str,
    game: &str,
) -> ApiResult<Vec<String>> {
    let ids = store::archives::unpinned(tx, tenant, user_key, game).await?;
    // At least the newest one is kept: it may be the archive just stored.
    let old: Vec<String> = ids.into_iter().skip(keep.max(1) as usize).collect();
    for id in &old {
        store::archives::delete(tx, id).await?;
    }
    Ok(old)
}

/// Archives one save may evict to bring a tenant's anonymous archives back within budget.
const MAX_EVICTIONS: usize = 256;

/// Deletes `tenant`'s least recently saved unpinned anonymous archives (never `keep`, the one
/// just stored) until all its anonymous archives fit in `budget` bytes (rows only; the caller
/// removes the returned ids' files after committing). A save that cannot be made to fit within
/// [`MAX_EVICTIONS`] (pinned archives fill the budget) is refused: nothing is stored.
pub async fn evict_anonymous(
    tx: &mut WriteTx,
    budget: u64,
    tenant: &str,
    keep: &str,
) -> ApiResult<Vec<String>> {
    let mut evicted = Vec::new();
    let mut over = store::archives::anonymous_bytes(tx, tenant).await? - budget as i64;
    while over > 0 {
        let room = MAX_EVICTIONS.saturating_sub(evicted.len()).min(32) as i64;
        let oldest = if room > 0 {
            store::archives::oldest_anonymous(tx, tenant, keep, room).await?
        } else {
            Vec::new()
        };
        if oldest.is_empty() {
            return Err(ApiError::coded(
                StatusCode::INSUFFICIENT_STORAGE,
                "ARCHIVE_BUDGET_FULL",
                format!(
                    "this tenant's anonymous players' archives already fill its budget of \
                     {budget} bytes with pinned archives; nothing was stored"
                ),
            ));
        }
        for (id, size) in oldest {
            if over <= 0 {
                break;
            }
            store::archives::delete(tx, &id).await?;
            evicted.push(id);
            over -= size;
        }
    }
    Ok(evicted)
}

/// Removes the files of deleted archives (after their rows' deletion is committed). A failure
/// only leaves an orphan file, which [`recover`] removes at the next start.
pub fn remove_files(state: &AppState, ids: &[String]) {
    for id in ids {
        if let Ok(p) = file_path(state, id) {
            match std::fs::remove_file(&p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    tracing::warn!(archive = %id, "cannot remove archive file: {e}");
                }
                _ => {}
            }
        }
    }
}

/// An archive's row, for a board that is about to restore it: allowed only while the board runs
/// a live session of the archive's player and game.
pub async fn for_board(
    state: &AppState,
    board_id: &str,
    id: &str,
) -> ApiResult<(Archive, PathBuf)> {
    let a = store::archives::get(&state.db.pool, id)
        .await?
        .ok_or(ApiError::NotFound("archive"))?;
    let live = store::archives::player_live_on_board(
        &state.db.pool,
        board_id,
        &a.tenant_id,
        &a.user,
        &a.game_id,
    )
    .await?;
    if !live {
        return Err(ApiError::NotFound("archive"));
    }
    let path = file_path(state, &a.id)?;
    Ok((a, path))
}

/// Start-up repair: removes scratch files left by interrupted uploads and archive files whose row
/// is gone. Only files older than `before` are touched, so uploads of this process are safe.
pub async fn recover(state: &AppState, before: std::time::SystemTime) -> anyhow::Result<usize> {
    let dir = dir(state);
    tokio::fs::create_dir_all(dir.join(".tmp")).await?;
    let ids = store::archives::ids(&state.db.pool).await?;
    let ids: std::collections::HashSet<String> = ids.into_iter().collect();
    let old = |p: &Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t < before)
    };
    let mut removed = 0;
    for entry in std::fs::read_dir(dir.join(".tmp"))? {
        let p = entry?.path();
        if old(&p) {
            std::fs::remove_file(&p)?;
            removed += 1;
        }
    }
    for entry in std::fs::read_dir(&dir)? {
        let p = entry?.path();
        if !p.is_file() {
            continue;
        }
        let id = p
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        if !ids.contains(&id) && old(&p) {
            std::fs::remove_file(&p)?;
            removed += 1;
        }
    }
    if removed > 0 {
        tracing::info!(removed, "archive store cleaned at start-up");
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_generated_ids_name_files() {
        assert!(is_archive_id("arc_0123abcd"));
        for bad in ["arc_", "../arc_x", "arc_a/b", "arc_a.b", "x_abc", ""] {
            assert!(!is_archive_id(bad), "{bad}");
        }
    }
}
