//! Play recordings: starting and stopping them on the session's board, receiving the MP4 a
//! board uploads (streamed to a scratch file, hashed, checked against what the board declares,
//! renamed into `<store>/recordings/<id>.mp4`), and the retention sweep (the leader deletes
//! recordings past their expiry, rows and files, and fails those whose play ended long ago
//! without the board delivering them).

use std::path::PathBuf;
use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store;
use crate::store::recordings::{Finished, RecordingRow};

/// How often the leader sweeps.
const SWEEP_EVERY: Duration = Duration::from_secs(30);
/// A recording still `recording` this long after its play ended is failed.
const DELIVERY_GRACE: Duration = Duration::from_secs(600);

/// Ids the controller generates: `rec_<base32>`.
fn is_recording_id(s: &str) -> bool {
    s.len() <= 64
        && s.strip_prefix("rec_")
            .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn dir(state: &AppState) -> PathBuf {
    state.ingest.store.root().join("recordings")
}

/// The file of recording `id` (only generated ids are accepted).
pub fn file_path(state: &AppState, id: &str) -> ApiResult<PathBuf> {
    if !is_recording_id(id) {
        return Err(ApiError::NotFound("recording"));
    }
    Ok(dir(state).join(format!("{id}.mp4")))
}

/// What a board declares about a recording it uploads.
pub struct Declared {
    pub frames: u64,
    pub duration_ms: u64,
    pub sha256: String,
    pub content_length: Option<u64>,
}

/// Receives recording `row` from its board: a recording without frames (no key frame came)
/// is failed; otherwise the body is stored if its size and SHA-256 are what was declared.
pub async fn receive(
    state: &AppState,
    row: &RecordingRow,
    declared: Declared,
    body: Body,
) -> ApiResult<()> {
    let now = crate::now().millis();
    if declared.frames == 0 {
        store::recordings::finish(
            &state.db,
            &row.id,
            Finished::Failed("no key frame arrived while recording"),
            now,
        )
        .await?;
        return Ok(());
    }
    let max = state.config.recording_max_bytes;
    let too_large = || {
        ApiError::coded(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RECORDING_TOO_LARGE",
            format!("recordings are limited to {max} bytes"),
        )
    };
    if declared.content_length.is_some_and(|n| n > max) {
        return Err(too_large());
    }
    let dest = file_path(state, &row.id)?;
    let tmp_dir = dir(state).join(".tmp");
    tokio::fs::create_dir_all(&tmp_dir).await?;
    let tmp = tmp_dir.join(format!("{}.part", row.id));
    let result = async {
        let mut file = tokio::fs::File::create(&tmp).await?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                ApiError::coded(
                    StatusCode::BAD_REQUEST,
                    "RECORDING_TRUNCATED",
                    format!("the body ended early after {size} bytes: {e}"),
                )
            })?;
            size += chunk.len() as u64;
            if size > max {
                return Err(too_large());
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await?;
        }
        let sha = hex::encode(hasher.finalize());
        if sha != declared.sha256 || declared.content_length.is_some_and(|n| n != size) {
            return Err(ApiError::coded(
                StatusCode::UNPROCESSABLE_ENTITY,
                "RECORDING_HASH_MISMATCH",
                format!(
                    "{size} bytes with SHA-256 {sha} arrived, not what was declared; nothing was stored"
                ),
            ));
        }
        file.sync_all().await?;
        Ok((size, sha))
    }
    .await;
    let (size, sha) = match result {
        Ok(v) => v,
        Err(e) => {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e);
        }
    };
    tokio::fs::rename(&tmp, &dest).await?;
    let done = store::recordings::finish(
        &state.db,
        &row.id,
        Finished::Ready {
            frames: i64::try_from(declared.frames).unwrap_or(i64::MAX),
            duration_ms: i64::try_from(declared.duration_ms).unwrap_or(i64::MAX),
            size_bytes: i64::try_from(size).unwrap_or(i64::MAX),
            sha256: &sha,
        },
        now,
    )
    .await?;
    if !done {
        // Not recording any more (failed by the sweep meanwhile): its file is not kept.
        let _ = tokio::fs::remove_file(&dest).await;
        return Err(ApiError::conflict(
            "RECORDING_CLOSED",
            "the recording was already closed",
        ));
    }
    metrics::counter!("playrack_recordings_stored_total").increment(1);
    metrics::histogram!("playrack_recording_bytes").record(size as f64);
    Ok(())
}

/// Starts the leader's retention sweep.
pub fn spawn_sweeper(state: AppState) -> tokio::task::JoinHandle<()> {
    crate::leader::every(state, SWEEP_EVERY, "recording sweep", |s| async move {
        sweep(&s, crate::now().millis()).await
    })
}

/// One sweep: expired recordings go (row, then file); undelivered ones fail.
pub async fn sweep(state: &AppState, now: i64) -> Result<usize, sqlx::Error> {
    let mut gone = 0;
    for id in store::recordings::expired(&state.db.pool, now, 500).await? {
        store::recordings::delete(&state.db, &id).await?;
        if let Ok(p) = file_path(state, &id) {
            let _ = tokio::fs::remove_file(p).await;
        }
        gone += 1;
    }
    let grace = DELIVERY_GRACE.as_millis() as i64;
    for id in store::recordings::undelivered(&state.db.pool, now - grace, 500).await? {
        store::recordings::finish(
            &state.db,
            &id,
            Finished::Failed("the board did not deliver the recording"),
            now,
        )
        .await?;
    }
    Ok(gone)
}
