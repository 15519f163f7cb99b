//! Appending to an upload: the running SHA-256, offsets, and abandonment.
//!
//! One `PATCH` at a time per upload (a second one gets `UPLOAD_BUSY`). The append runs in its own
//! task, so a client that disconnects mid-body still leaves a consistent state: the bytes that
//! arrived are kept, hashed and counted, and the next `HEAD` reports them.

use super::finalize;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::catalog;
use axum::body::Body;
use axum::http::StatusCode;
use bytes::Bytes;
use futures_util::StreamExt;
use playrack_wire::Timestamp;
use sha2::{Digest, Sha256};
use std::io::{Read, Seek, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Persist the offset to the database at least this often during one long `PATCH`, so a crash
/// loses at most this much.
const PERSIST_EVERY: u64 = 16 << 20;

/// Bytes gathered before a batch is handed to the writer and hasher threads.
const BATCH: usize = 1 << 20;

/// Hands the batch to both threads; false when one of them stopped (its error is reported
/// when it is joined).
async fn send_batch(
    batch: &mut bytes::BytesMut,
    to_writer: &tokio::sync::mpsc::Sender<Bytes>,
    to_hasher: &tokio::sync::mpsc::Sender<Bytes>,
) -> bool {
    let bytes = batch.split().freeze();
    to_hasher.send(bytes.clone()).await.is_ok() && to_writer.send(bytes).await.is_ok()
}

/// How long a PATCH waits for a previous one on the same upload to finish.
const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The in-memory half of an upload: hash state and offset, always consistent with the file.
pub struct Live {
    hasher: Sha256,
    offset: u64,
}

/// One upload's place in this process: the append lock and the live state, plus the offset
/// published without the lock so `HEAD` answers while a `PATCH` is streaming.
pub struct Slot {
    live: tokio::sync::Mutex<Option<Live>>,
    /// Bytes received so far, or -1 when this process has not appended to the upload yet.
    progress: AtomicI64,
}

impl Default for Slot {
    fn default() -> Self {
        Self {
            live: tokio::sync::Mutex::new(None),
            progress: AtomicI64::new(-1),
        }
    }
}

/// An upload row, as the handlers need it.
#[derive(Debug, Clone)]
pub struct UploadRow {
    pub id: String,
    pub version_id: String,
    pub tenant_id: String,
    pub length: u64,
    pub offset: u64,
    pub expires_at: Timestamp,
}

pub async fn load(state: &AppState, upload_id: &str) -> ApiResult<UploadRow> {
    let row = catalog::upload(&state.db.pool, upload_id)
        .await?
        .ok_or(ApiError::NotFound("upload"))?;
    Ok(UploadRow {
        id: row.id,
        version_id: row.version_id,
        tenant_id: row.tenant_id,
        length: row.length as u64,
        offset: row.offset_bytes as u64,
        expires_at: Timestamp(row.expires_at),
    })
}

/// The current offset: the live one if this process is appending, else the recorded one.
pub async fn current_offset(state: &AppState, row: &UploadRow) -> u64 {
    let slot = state.ingest.live_slot(&row.id);
    match slot.progress.load(Ordering::Acquire) {
        -1 => row.offset,
        n => n as u64,
    }
}

/// What a `PATCH` achieved.
pub struct Appended {
    pub offset: u64,
    pub row: UploadRow,
    /// Set when the last byte arrived: the version's settled state.
    pub finished: bool,
}

/// Appends `body` at `client_offset`.
pub async fn append(
    state: &AppState,
    caller: &Caller,
    upload_id: &str,
    client_offset: u64,
    body: Body,
) -> ApiResult<Appended> {
    let row = load(state, upload_id).await?;
    caller.require_tenant_write(&row.tenant_id, "upload")?;
    let state = state.clone();
    // The work runs in its own task: if the client goes away, axum drops this future, but the
    // task still records what arrived.
    let task = append_task(state, row, client_offset, body);
    tokio::spawn(crate::http::with_current_request_id(task))
        .await
        .map_err(|e| ApiError::Internal(format!("upload task failed: {e}")))?
}

async fn append_task(
    state: AppState,
    row: UploadRow,
    client_offset: u64,
    body: Body,
) -> ApiResult<Appended> {
    let slot = state.ingest.live_slot(&row.id);
    // A PATCH whose connection just broke may still be recording what arrived: wait for it
    // briefly rather than refusing the client's immediate resume.
    let mut guard = tokio::time::timeout(BUSY_WAIT, slot.live.lock())
        .await
        .map_err(|_| {
            ApiError::conflict("UPLOAD_BUSY", "another PATCH to this upload is in progress")
        })?;
    // Read the row again under the lock: the PATCH that held it may have recorded a newer
    // offset since the caller read it (a broken PATCH's client resumes at once).
    let row = load(&state, &row.id).await?;
    let part = state.ingest.store.part_path(&row.id)?;
    // No live state here, or it is behind the recorded offset (another controller replica
    // took PATCHes meanwhile): rebuild it from the file and the recorded offset.
    if guard.as_ref().is_none_or(|l| l.offset != row.offset) {
        *guard = Some(rebuild(&part, row.offset).await?);
        slot.progress.store(row.offset as i64, Ordering::Release);
    }
    let live = guard.as_mut().expect("just filled");
    if client_offset != live.offset {
        return Err(ApiError::conflict(
            "OFFSET_MISMATCH",
            format!(
                "Upload-Offset is {client_offset} but the upload is at {}; HEAD it and resume there",
                live.offset
            ),
        ));
    }
    if let Err(e) = write_body(&state, &slot, &part, live, &row, body).await {
        // The file and the hash may disagree after a failed write: forget the live state so the
        // next PATCH rebuilds it from the recorded offset.
        *guard = None;
        slot.progress.store(-1, Ordering::Release);
        drop(guard);
        if e.code() == crate::error::STORAGE_FULL {
            // A full store keeps no half upload: the version fails and the scratch file goes,
            // which gives the space back.
            fail_for_space(&state, &row).await;
        }
        return Err(e);
    }
    let live = guard.as_mut().expect("still filled");
    let offset = live.offset;
    if offset < row.length {
        return Ok(Appended {
            offset,
            row,
            finished: false,
        });
    }
    let sha = hex::encode(live.hasher.clone().finalize());
    *guard = None;
    drop(guard);
    if let Err(e) = finalize::complete(&state, &row, &sha).await {
        if e.code() == crate::error::STORAGE_FULL {
            fail_for_space(&state, &row).await;
        }
        return Err(e);
    }
    state.ingest.forget(&row.id);
    Ok(Appended {
        offset,
        row,
        finished: true,
    })
}

/// Streams `body` onto the end of the scratch file, hashing as it goes, and records the offset.
///
/// Three stages run side by side so ingest runs near disk speed: this task reads the HTTP body,
/// a writer thread appends each chunk to the file (publishing the offset as it goes), a hasher
/// thread feeds SHA-256. Chunks are reference-counted `Bytes`, shared, never copied.
async fn write_body(
    state: &AppState,
    slot: &Arc<Slot>,
    part: &std::path::Path,
    live: &mut Live,
    row: &UploadRow,
    body: Body,
) -> ApiResult<()> {
    let mut file = std::fs::OpenOptions::new().write(true).open(part)?;
    // Drop any tail a cut-short write left behind: the file is exactly `offset` long.
    file.set_len(live.offset)?;
    file.seek(std::io::SeekFrom::Start(live.offset))?;

    let (to_writer, mut writer_rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    let (to_hasher, mut hasher_rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    let (start, writer_slot) = (live.offset, slot.clone());
    let writer = std::thread::spawn(move || -> std::io::Result<u64> {
        let mut offset = start;
        while let Some(chunk) = writer_rx.blocking_recv() {
            file.write_all(&chunk)?;
            offset += chunk.len() as u64;
            writer_slot.progress.store(offset as i64, Ordering::Release);
        }
        file.flush()?;
        Ok(offset)
    });
    let mut hasher = std::mem::take(&mut live.hasher);
    let hasher_thread = std::thread::spawn(move || {
        while let Some(chunk) = hasher_rx.blocking_recv() {
            hasher.update(&chunk);
        }
        hasher
    });

    let mut stream = body.into_data_stream();
    let mut received = live.offset;
    let mut persisted = live.offset;
    let mut outcome = Ok(());
    // Small network chunks are gathered into batches of up to BATCH bytes before they go to the
    // threads (one wake-up per batch, not per chunk); a batch goes out as soon as the socket has
    // nothing more ready, so a slow or stalled client still sees its bytes counted.
    let mut batch = bytes::BytesMut::new();
    loop {
        let next = match futures_util::FutureExt::now_or_never(stream.next()) {
            Some(n) => n,
            None => {
                if !batch.is_empty() && !send_batch(&mut batch, &to_writer, &to_hasher).await {
                    break;
                }
                stream.next().await
            }
        };
        let Some(chunk) = next else { break };
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                tracing::info!(upload = %row.id, offset = received, "upload body ended early: {e}");
                break;
            }
        };
        if received + chunk.len() as u64 > row.length {
            outcome = Err(ApiError::coded(
                StatusCode::PAYLOAD_TOO_LARGE,
                "UPLOAD_EXCEEDS_LENGTH",
                format!(
                    "the upload was declared as {} bytes; this PATCH goes past that",
                    row.length
                ),
            ));
            break;
        }
        received += chunk.len() as u64;
        metrics::counter!("playrack_upload_bytes_total").increment(chunk.len() as u64);
        batch.extend_from_slice(&chunk);
        if batch.len() >= BATCH && !send_batch(&mut batch, &to_writer, &to_hasher).await {
            break;
        }
        let written = slot.progress.load(Ordering::Acquire).max(0) as u64;
        if written - persisted >= PERSIST_EVERY {
            record_offset(state, &row.id, written).await?;
            persisted = written;
        }
    }
    if !batch.is_empty() {
        send_batch(&mut batch, &to_writer, &to_hasher).await;
    }
    drop((to_writer, to_hasher));
    let (written, hasher) =
        tokio::task::spawn_blocking(move || (writer.join(), hasher_thread.join()))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    live.hasher = hasher.map_err(|_| ApiError::Internal("hasher thread panicked".into()))?;
    live.offset = written.map_err(|_| ApiError::Internal("writer thread panicked".into()))??;
    if live.offset != received {
        return Err(ApiError::Internal(format!(
            "wrote {} of {received} bytes",
            live.offset
        )));
    }
    record_offset(state, &row.id, live.offset).await?;
    outcome
}

async fn record_offset(state: &AppState, upload_id: &str, offset: u64) -> ApiResult<()> {
    let expires = crate::now().plus_secs(state.ingest.expiry_secs as i64);
    catalog::record_offset(&state.db, upload_id, offset as i64, expires.millis()).await?;
    Ok(())
}

/// Rebuilds the hash of the first `offset` bytes of a scratch file (after a restart), cutting
/// off anything past the recorded offset.
async fn rebuild(part: &std::path::Path, offset: u64) -> ApiResult<Live> {
    let part = part.to_path_buf();
    tokio::task::spawn_blocking(move || -> std::io::Result<Live> {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&part)?;
        let len = file.metadata()?.len();
        if len < offset {
            return Err(std::io::Error::other(format!(
                "scratch file {} is shorter ({len}) than the recorded offset ({offset})",
                part.display()
            )));
        }
        file.set_len(offset)?;
        file.flush()?;
        file.rewind()?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        Ok(Live { hasher, offset })
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(ApiError::from)
}

/// Fails an upload the store has no room for (its version `STORAGE_FULL`, its scratch file
/// deleted).
async fn fail_for_space(state: &AppState, row: &UploadRow) {
    tracing::warn!(upload = %row.id, "the package store is full; the upload is failed");
    if let Err(e) = abandon(
        state,
        row,
        "system",
        crate::error::STORAGE_FULL,
        "the package store was full; upload it again once an operator has freed space",
    )
    .await
    {
        tracing::warn!(upload = %row.id, "a full store's upload could not be failed: {e}");
    }
}

/// Cancels an upload: deletes its scratch file and fails its version with `code`.
pub async fn abandon(
    state: &AppState,
    row: &UploadRow,
    actor: &str,
    code: &str,
    message: &str,
) -> ApiResult<()> {
    let slot = state.ingest.live_slot(&row.id);
    let _guard = slot
        .live
        .try_lock()
        .map_err(|_| ApiError::conflict("UPLOAD_BUSY", "a PATCH to this upload is in progress"))?;
    let mut tx = state.db.write().await?;
    if catalog::delete_upload(&mut tx, &row.id).await? == 0 {
        return Err(ApiError::NotFound("upload"));
    }
    catalog::mark_failed(&mut tx, &row.version_id, code, message).await?;
    crate::audit::record_as(
        &mut tx,
        actor,
        Some(&row.tenant_id),
        "version.fail",
        &row.version_id,
        serde_json::json!({"code": code}),
    )
    .await?;
    tx.commit().await?;
    let part = state.ingest.store.part_path(&row.id)?;
    match std::fs::remove_file(part) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    drop(_guard);
    state.ingest.forget(&row.id);
    Ok(())
}

/// Abandons every upload that has made no progress since its expiry.
pub async fn expire(state: &AppState, now: Timestamp) -> ApiResult<usize> {
    let ids = catalog::expired_uploads(&state.db.pool, now.millis()).await?;
    let mut n = 0;
    for id in ids {
        let row = load(state, &id).await?;
        match abandon(
            state,
            &row,
            "system",
            "UPLOAD_EXPIRED",
            "the upload made no progress before it expired",
        )
        .await
        {
            Ok(()) => n += 1,
            Err(ApiError::Conflict { .. }) | Err(ApiError::NotFound(_)) => {} // busy or gone: next sweep
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
