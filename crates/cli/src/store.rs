//! What the CLI keeps between runs, in `$PLAYRACK_CLI_HOME` (else
//! `$XDG_CONFIG_HOME/playrack`, else `~/.config/playrack`), readable by its owner only:
//! `credentials.json` (the controller, the token `login` got, the portal for links) and
//! `uploads/<key>.json`, one per upload under way, which lets a run that was interrupted
//! continue where the controller says the upload stands.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::Digest;

/// The CLI's directory.
pub fn home() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("PLAYRACK_CLI_HOME") {
        return Ok(dir.into());
    }
    if let Some(dir) = std::env::var_os("XDG_CONFIG_HOME") {
        return Ok(PathBuf::from(dir).join("playrack"));
    }
    let home = std::env::var_os("HOME").context("no HOME: set PLAYRACK_CLI_HOME")?;
    Ok(PathBuf::from(home).join(".config/playrack"))
}

/// A signed-in controller.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub url: String,
    pub token: String,
    /// Where try-play links open (the portal); links print their code alone without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal_url: Option<String>,
    /// A CA (PEM) to trust for the controller, besides the system's roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<PathBuf>,
    pub email: String,
}

/// Writes `value` as JSON to `path`, mode 0600, through a temporary file (never half written).
fn write_private(path: &Path, value: &impl Serialize) -> anyhow::Result<()> {
    let dir = path.parent().expect("a file in a directory");
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    f.write_all(&serde_json::to_vec_pretty(value)?)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn read<T: for<'de> Deserialize<'de>>(path: &Path) -> anyhow::Result<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(
            serde_json::from_slice(&bytes)
                .with_context(|| format!("reading {}", path.display()))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

impl Credentials {
    fn path() -> anyhow::Result<PathBuf> {
        Ok(home()?.join("credentials.json"))
    }

    pub fn load() -> anyhow::Result<Option<Credentials>> {
        read(&Self::path()?)
    }

    pub fn save(&self) -> anyhow::Result<()> {
        write_private(&Self::path()?, self)
    }

    /// Forgets the token; answers whether there was one.
    pub fn forget() -> anyhow::Result<bool> {
        match std::fs::remove_file(Self::path()?) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// An upload under way: enough to continue it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PendingUpload {
    pub controller: String,
    pub game_id: String,
    pub upload_id: String,
    pub version_id: String,
    pub length: u64,
}

impl PendingUpload {
    /// Where the upload of `file` (by its absolute path, size and modification time: a changed
    /// file is a new upload) for `game_id` is kept.
    pub fn path_for(file: &Path, game_id: &str) -> anyhow::Result<PathBuf> {
        let meta = std::fs::metadata(file)?;
        let abs = std::fs::canonicalize(file)?;
        let mtime = meta
            .modified()?
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let mut h = sha2::Sha256::new();
        h.update(abs.as_os_str().as_encoded_bytes());
        h.update(format!("\0{}\0{mtime}\0{game_id}", meta.len()));
        let key = hex::encode(&h.finalize()[..12]);
        Ok(home()?.join("uploads").join(format!("{key}.json")))
    }

    pub fn load(path: &Path) -> anyhow::Result<Option<PendingUpload>> {
        read(path)
    }

    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        write_private(path, self)
    }
}
