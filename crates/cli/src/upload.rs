//! APK uploads over the controller's tus 1.0 endpoint, resumable across runs: the upload's id
//! is kept (see [`crate::store::PendingUpload`]) before the first byte goes, so a run that is
//! killed leaves something to continue; the next run asks the controller how far it got
//! (`HEAD`) and sends the rest. Then it waits while the controller checks the APK.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::{Duration, Instant};

use playrack_wire::api::{Upload, Version, VersionState};
use reqwest::Method;

use crate::api::{Api, CliError, refused};
use crate::progress::Progress;
use crate::store::PendingUpload;

/// Bytes per PATCH: big enough that round trips cost little, small enough that an interrupted
/// run loses little.
pub const CHUNK: usize = 8 << 20;
/// How long the controller may take to check an uploaded APK.
const CHECK_TIMEOUT: Duration = Duration::from_secs(300);

/// Uploads `file` as a new version of `game_id` (continuing an interrupted upload of the same
/// file) and answers the version once the controller has checked it.
pub async fn upload(api: &Api, game_id: &str, file: &Path) -> Result<Version, CliError> {
    let length = std::fs::metadata(file)
        .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))?
        .len();
    let state_path = PendingUpload::path_for(file, game_id)?;
    let mut offset = 0;
    let mut pending = None;
    if let Some(p) = PendingUpload::load(&state_path)?
        && p.controller == api.base
        && p.length == length
    {
        match head_offset(api, &p.upload_id).await {
            Ok(o) => {
                offset = o;
                eprintln!(
                    "playrack: resuming the upload of {} at {} MiB of {} MiB",
                    file.display(),
                    o >> 20,
                    length >> 20
                );
                pending = Some(p);
            }
            // Expired or finished meanwhile: start again.
            Err(CliError::Api(pr)) if matches!(pr.status, 404 | 410) => {}
            Err(e) => return Err(e),
        }
    }
    let pending = match pending {
        Some(p) => p,
        None => {
            let resp = api
                .send(
                    api.request(Method::POST, &format!("/v1/games/{game_id}/uploads"))
                        .header("tus-resumable", "1.0.0")
                        .header("upload-length", length.to_string()),
                )
                .await?;
            let up: Upload = resp
                .json()
                .await
                .map_err(|e| anyhow::anyhow!("the controller's upload: {e}"))?;
            let p = PendingUpload {
                controller: api.base.clone(),
                game_id: game_id.to_owned(),
                upload_id: up.id,
                version_id: up.version_id,
                length,
            };
            p.save(&state_path)?;
            p
        }
    };

    let mut f = std::fs::File::open(file).map_err(anyhow::Error::from)?;
    let progress = Progress::bytes("upload", length);
    progress.set(offset);
    let mut buf = vec![0u8; CHUNK];
    while offset < length {
        f.seek(SeekFrom::Start(offset))
            .map_err(anyhow::Error::from)?;
        let want = usize::try_from((length - offset).min(CHUNK as u64)).expect("≤ CHUNK");
        f.read_exact(&mut buf[..want])
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
        let resp = api
            .send(
                api.request(Method::PATCH, &format!("/v1/uploads/{}", pending.upload_id))
                    .header("tus-resumable", "1.0.0")
                    .header("upload-offset", offset.to_string())
                    .header("content-type", "application/offset+octet-stream")
                    .body(buf[..want].to_vec()),
            )
            .await?;
        offset = resp
            .headers()
            .get("upload-offset")
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .unwrap_or(offset + want as u64);
        progress.set(offset);
    }
    progress.finish();
    let _ = std::fs::remove_file(&state_path);

    // The controller checks the APK (zip limits, manifest, signature) before it is a version.
    let spinner = Progress::spinner("checking the APK");
    let started = Instant::now();
    loop {
        let v: Version = api
            .get(&format!("/v1/versions/{}", pending.version_id))
            .await?;
        match v.state {
            VersionState::Ready => {
                spinner.finish();
                return Ok(v);
            }
            VersionState::Failed => {
                spinner.finish();
                let (code, message) = v
                    .failure
                    .map(|f| (f.code, f.message))
                    .unwrap_or_else(|| ("APK_REFUSED".into(), "the APK was refused".into()));
                return Err(refused(&code, message));
            }
            _ if started.elapsed() > CHECK_TIMEOUT => {
                return Err(CliError::Other(anyhow::anyhow!(
                    "the controller is still checking version {} after {CHECK_TIMEOUT:?}; \
                     see `playrack versions show {}`",
                    v.id,
                    v.id
                )));
            }
            _ => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

async fn head_offset(api: &Api, upload_id: &str) -> Result<u64, CliError> {
    let resp = api
        .send(
            api.request(Method::HEAD, &format!("/v1/uploads/{upload_id}"))
                .header("tus-resumable", "1.0.0"),
        )
        .await?;
    resp.headers()
        .get("upload-offset")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .ok_or_else(|| CliError::Other(anyhow::anyhow!("the controller gave no upload offset")))
}
