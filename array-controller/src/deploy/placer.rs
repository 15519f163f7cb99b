//! The placer: puts each deployed package on its room's shared volume, once per room.
//!
//! Every replica runs one; a copy is worked on by one replica at a time, which claims its row
//! (`store::volumes::claim`) and renews the claim while the copy goes. A try copies the
//! package from the controller's package store to the volume with the real `rsync`
//! (`playrack_volume::copy`: to a mounted directory, or to an rsync daemon module), which
//! writes a temporary name and renames it into place when whole. The copy on the volume is then
//! verified by its SHA-256 (read where it lies on a directory, read back from a daemon), and
//! only then is the copy `placed` and the room's boards told to copy it from there. A failed
//! try leaves the copy `unreachable` with rsync's own words, tried again after a growing pause
//! (`playrack_volume::retry_after`).
//!
//! A room whose volume *is* the package store (one machine, the embedded demo) is placed by
//! checking the file where it is.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use playrack_volume::{Volume, VolumeError, hash_file, package_path};
use tokio::task::JoinSet;

use crate::state::AppState;
use crate::store;
use crate::store::volumes::{DueCopy, Outcome};

/// How long a claim lasts without renewal.
pub const CLAIM: Duration = Duration::from_secs(60);
/// How often a running copy writes its progress and renews its claim.
const RENEW_EVERY: Duration = Duration::from_secs(1);
/// How often the placer looks for due copies when nobody wakes it.
const TICK: Duration = Duration::from_secs(1);
/// Copies one replica runs at once.
const AT_ONCE: usize = 4;

/// Starts this replica's placer.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut running: JoinSet<()> = JoinSet::new();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(TICK) => {}
                _ = state.placer_wanted.notified() => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
            }
            while running.try_join_next().is_some() {}
            let room = AT_ONCE.saturating_sub(running.len());
            if room == 0 {
                continue;
            }
            if let Err(e) = pass(&state, &mut running, room).await {
                tracing::warn!("placing packages on room volumes failed: {e}");
            }
        }
    })
}

/// Claims up to `room` due copies and starts a try of each.
async fn pass(state: &AppState, running: &mut JoinSet<()>, room: usize) -> Result<(), sqlx::Error> {
    let now = crate::now().millis();
    let due = store::volumes::due(&state.db.pool, now, room as i64).await?;
    for copy in due {
        let until = now + CLAIM.as_millis() as i64;
        if !store::volumes::claim(
            &state.db,
            &copy.room_id,
            &copy.sha256,
            &state.replica_id,
            until,
            now,
        )
        .await?
        {
            continue;
        }
        let state = state.clone();
        running.spawn(async move { attempt(&state, copy).await });
    }
    Ok(())
}

/// One try at a claimed copy, to its end.
async fn attempt(state: &AppState, copy: DueCopy) {
    let started = Instant::now();
    let (tx, mut rx) = tokio::sync::watch::channel(0u8);
    let place = place(state, &copy, tx);
    tokio::pin!(place);
    let result = loop {
        tokio::select! {
            r = &mut place => break r,
            _ = tokio::time::sleep(RENEW_EVERY) => {
                let percent = *rx.borrow_and_update();
                let now = crate::now().millis();
                if let Err(e) = store::volumes::progress(
                    &state.db, &copy.room_id, &copy.sha256, &state.replica_id, percent,
                    now + CLAIM.as_millis() as i64, now,
                ).await {
                    tracing::warn!(room = %copy.room_id, "placement progress not recorded: {e}");
                }
            }
        }
    };
    let now = crate::now().millis();
    let seconds = started.elapsed().as_secs_f64();
    let error: Option<String> = result.err().map(|e| e.chars().take(1000).collect());
    let outcome = match &error {
        None => Outcome::Placed,
        Some(text) => {
            let attempts = u32::try_from(copy.attempts.max(0) + 1).unwrap_or(u32::MAX);
            Outcome::Failed {
                error: text,
                retry_at: now + playrack_volume::retry_after(attempts).as_millis() as i64,
            }
        }
    };
    let label = if error.is_none() { "placed" } else { "failed" };
    metrics::counter!("playrack_volume_placements_total", "result" => label).increment(1);
    metrics::histogram!("playrack_volume_placement_seconds", "result" => label).record(seconds);
    match store::volumes::finish(
        &state.db,
        &copy.room_id,
        &copy.sha256,
        &state.replica_id,
        outcome,
        now,
    )
    .await
    {
        Ok(true) => {}
        Ok(false) => {
            tracing::info!(room = %copy.room_id, sha256 = %copy.sha256, "placement outlived its claim; left to the next try");
            return;
        }
        Err(e) => {
            tracing::warn!(room = %copy.room_id, "placement outcome not recorded: {e}");
            return;
        }
    }
    match error {
        Some(e) => {
            tracing::warn!(room = %copy.room_id, sha256 = %copy.sha256, volume = %copy.shared_volume, "placing a package failed: {e}")
        }
        None => {
            tracing::info!(room = %copy.room_id, sha256 = %copy.sha256, volume = %copy.shared_volume, seconds, "package placed on the room's volume");
            if let Err(e) = super::sync_room(
                state,
                &copy.room_id,
                &copy.sha256,
                copy.size_bytes,
                &copy.shared_volume,
            )
            .await
            {
                tracing::warn!(room = %copy.room_id, "telling the room's boards failed: {e}");
            }
        }
    }
}

/// Puts the package on the volume and verifies it there. Errors are said for the console.
async fn place(
    state: &AppState,
    copy: &DueCopy,
    progress: tokio::sync::watch::Sender<u8>,
) -> Result<(), String> {
    let volume = Volume::parse(&copy.shared_volume).map_err(|e| e.to_string())?;
    let rel = package_path(&copy.sha256);
    let src = state
        .ingest
        .store
        .apk_path(&copy.sha256)
        .map_err(|e| format!("package {}: {e}", copy.sha256))?;
    check(
        &src,
        &copy.sha256,
        copy.size_bytes,
        "the package store's copy",
    )
    .await
    .map_err(|e| format!("{e}; the package store no longer holds it as uploaded"))?;
    let src_arg = src.to_str().ok_or("package store path is not UTF-8")?;
    let dest = volume.join(&rel);
    let report = |p: u8| {
        progress.send_replace(p);
    };
    match &volume {
        Volume::Local(root) => {
            let root = Path::new(root);
            if !root.is_dir() {
                return Err(format!(
                    "volume directory {} does not exist (is it mounted here?)",
                    root.display()
                ));
            }
            let here = PathBuf::from(&dest);
            if same_file(root, state.ingest.store.root()) {
                // The volume is the package store itself.
                return check(&here, &copy.sha256, copy.size_bytes, "the volume's copy").await;
            }
            playrack_volume::copy(&["--mkpath"], src_arg, &dest, report)
                .await
                .map_err(|e| said(&e))?;
            check(&here, &copy.sha256, copy.size_bytes, "the volume's copy").await
        }
        Volume::Daemon(_) => {
            playrack_volume::copy(&["--mkpath"], src_arg, &dest, report)
                .await
                .map_err(|e| said(&e))?;
            // Read it back and hash it: the daemon may sit on a disk that lies.
            let scratch = state.ingest.store.root().join(".verify");
            tokio::fs::create_dir_all(&scratch)
                .await
                .map_err(|e| format!("{}: {e}", scratch.display()))?;
            let back = scratch.join(format!("{}-{}", copy.room_id, copy.sha256));
            let back_arg = back.to_str().ok_or("package store path is not UTF-8")?;
            let read = playrack_volume::copy(&[], &dest, back_arg, |_| {}).await;
            let checked = match read {
                Ok(()) => check(&back, &copy.sha256, copy.size_bytes, "the volume's copy").await,
                Err(e) => Err(format!("reading the copy back: {}", said(&e))),
            };
            let _ = tokio::fs::remove_file(&back).await;
            checked
        }
    }
}

/// rsync's failure as the console shows it.
fn said(e: &VolumeError) -> String {
    match e {
        VolumeError::Rsync {
            code: Some(10 | 12 | 30 | 35),
            stderr,
            ..
        } => format!("volume unreachable: {stderr}"),
        other => other.to_string(),
    }
}

/// The file at `path` has `size` bytes hashing to `sha256`.
async fn check(path: &Path, sha256: &str, size: i64, what: &str) -> Result<(), String> {
    let (got, len) = hash_file(path)
        .await
        .map_err(|e| format!("{what} at {}: {e}", path.display()))?;
    if got != sha256 || i64::try_from(len).ok() != Some(size) {
        return Err(format!(
            "{what} has SHA-256 {got} ({len} bytes), expected {sha256} ({size} bytes)"
        ));
    }
    Ok(())
}

/// Whether two paths name the same directory.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
