//! APK ingest: resumable uploads (tus 1.0 core + creation + termination), the content-addressed
//! package store, and the parse step that settles a version as READY or FAILED.
//!
//! The life of an upload:
//! 1. `POST /v1/games/{id}/uploads` creates a version in UPLOADING and an empty scratch file
//!    (`<store>/.incoming/<upload>.part`, on the store's filesystem so the final rename is atomic).
//! 2. Each `PATCH` appends bytes at the agreed offset, feeding SHA-256 as they stream
//!    ([`upload`]). A dropped connection keeps what arrived; `HEAD` tells where to resume. After
//!    a controller restart the hash is rebuilt from the scratch file (cut back to the last
//!    offset the database recorded).
//! 3. At the last byte the file is fsynced and renamed to `apk/<sha[..2]>/<sha>.apk`
//!    ([`store`]); the version goes PARSING, then [`finalize`] inspects it with `playrack-apk`
//!    and moves it to READY, or to FAILED with a stable code — in which case the stored file is
//!    removed unless another live version has the same bytes.
//!
//! Invariants: no READY version without its file; no file without a version that is READY,
//! PARSING or still uploading (checked at start-up by [`recover`]); a scratch file exists only
//! while its upload row does.

pub mod finalize;
pub mod store;
pub mod upload;

use crate::config::Config;
use crate::state::AppState;
use crate::store::catalog;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use store::PackageStore;

/// How often abandoned uploads are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// The ingest service's shared state (inside [`AppState`]).
pub struct Ingest {
    pub store: PackageStore,
    pub max_upload_bytes: u64,
    pub expiry_secs: u64,
    pub limits: playrack_apk::Limits,
    /// Uploads being appended to in this process: their running hash and offset.
    live: Mutex<HashMap<String, Arc<upload::Slot>>>,
    /// Serialises "move a file into the store" against "delete an unreferenced file".
    store_lock: tokio::sync::Mutex<()>,
}

impl Ingest {
    pub fn open(config: &Config) -> std::io::Result<Self> {
        Ok(Self {
            store: PackageStore::open(&config.package_store)?,
            max_upload_bytes: config.max_upload_bytes,
            expiry_secs: config.upload_expiry_secs,
            limits: playrack_apk::Limits::default(),
            live: Mutex::new(HashMap::new()),
            store_lock: tokio::sync::Mutex::new(()),
        })
    }

    fn live_slot(&self, upload_id: &str) -> Arc<upload::Slot> {
        self.live
            .lock()
            .expect("live uploads poisoned")
            .entry(upload_id.to_owned())
            .or_default()
            .clone()
    }

    fn forget(&self, upload_id: &str) {
        self.live
            .lock()
            .expect("live uploads poisoned")
            .remove(upload_id);
    }
}

/// Start-up repair after a crash or restart: finish parses that were cut short, delete scratch
/// files without an upload, and delete stored packages no live version references.
pub async fn recover(state: &AppState) -> anyhow::Result<()> {
    let uploads = catalog::upload_ids(&state.db.pool).await?;
    let removed_parts = state.ingest.store.remove_parts_except(&uploads)?;
    let parsing = catalog::parsing_ids(&state.db.pool).await?;
    for version_id in parsing {
        finalize::settle(state, &version_id).await?;
    }
    let referenced = catalog::live_packages(&state.db.pool).await?;
    let removed_apks = state.ingest.store.remove_apks_except(&referenced)?;
    if removed_parts + removed_apks > 0 {
        tracing::info!(
            removed_parts,
            removed_apks,
            "package store cleaned at start-up"
        );
    }
    Ok(())
}

/// Runs [`upload::expire`] every [`SWEEP_EVERY`] for the life of the process.
pub fn spawn_sweeper(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        loop {
            tick.tick().await;
            if let Err(e) = upload::expire(&state, crate::now()).await {
                tracing::warn!("upload sweep failed: {e}");
            }
        }
    })
}
