//! Backups of a controller's state, and restoring one: `array-controller backup --out DIR` and
//! `array-controller restore --from DIR`.
//!
//! A backup is a directory:
//! - `manifest.json` — what it holds ([`Manifest`]);
//! - `database.sqlite` (SQLite, written by `VACUUM INTO`: a consistent copy of a live database)
//!   or `database.pgdump` (PostgreSQL, `pg_dump --format=custom`, restored by `pg_restore`);
//! - `store/` — the package store: packages, icons, players' archives and recordings (files
//!   being written, under `.incoming` and `.tmp`, are left out);
//! - `secret.key` — the key that seals secrets in the database, when the controller keeps it in
//!   its data directory (a configured `PLAYRACK_SECRET_KEY` is the operator's to keep).
//!
//! The database is copied first and the store after it, so every package the copied database
//! names is in the copied store (the store only gains files while the database names them).
//! Restoring refuses a database that already has accounts unless told to replace it.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::db::{self, Backend, Db};

/// The backup format this build writes and reads.
pub const FORMAT: u32 = 1;
const MANIFEST: &str = "manifest.json";
const SQLITE_FILE: &str = "database.sqlite";
const PG_FILE: &str = "database.pgdump";
const STORE_DIR: &str = "store";
const SECRET_KEY: &str = "secret.key";

/// What a backup holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: u32,
    /// `sqlite` or `postgres`.
    pub backend: String,
    pub created_at: playrack_wire::Timestamp,
    /// The newest schema migration in the database.
    pub schema_version: i64,
    pub store_files: u64,
    pub store_bytes: u64,
    /// Whether `secret.key` is in the backup.
    pub secret_key: bool,
}

/// Writes a backup of the configured database and package store to `out` (a new or empty
/// directory) while the controller may be serving. `progress` gets one line per step.
pub async fn backup(
    config: &Config,
    out: &Path,
    progress: &dyn Fn(&str),
) -> anyhow::Result<Manifest> {
    if out.exists() && std::fs::read_dir(out)?.next().is_some() {
        bail!(
            "{} is not empty: give a new directory for the backup",
            out.display()
        );
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let db = Db::connect(&config.database_url).await?;
    let schema_version = db.schema_version().await?;
    progress("copying the database");
    let backend = match db.backend {
        Backend::Sqlite => {
            db.sqlite_snapshot(&out.join(SQLITE_FILE)).await?;
            "sqlite"
        }
        Backend::Postgres => {
            let file = out.join(PG_FILE);
            let file = format!("--file={}", file.display());
            let args = ["--format=custom", "--no-owner", "--no-privileges", &file];
            pg_tool("pg_dump", &config.database_url, &args).await?;
            "postgres"
        }
    };
    db.pool.close().await;
    progress("copying the package store");
    let (store_files, store_bytes) =
        copy_tree(&config.package_store, &out.join(STORE_DIR), progress)?;
    let key = config.data_dir.join(SECRET_KEY);
    let secret_key = config.secret_key.is_none() && key.exists();
    if secret_key {
        copy_private(&key, &out.join(SECRET_KEY))?;
    }
    let manifest = Manifest {
        format: FORMAT,
        backend: backend.into(),
        created_at: crate::now(),
        schema_version,
        store_files,
        store_bytes,
        secret_key,
    };
    std::fs::write(out.join(MANIFEST), serde_json::to_vec_pretty(&manifest)?)?;
    Ok(manifest)
}

/// Restores the backup in `from` into the configured database and package store. The
/// controller must be stopped. A database that already has accounts is replaced only with
/// `force`.
pub async fn restore(
    config: &Config,
    from: &Path,
    force: bool,
    progress: &dyn Fn(&str),
) -> anyhow::Result<Manifest> {
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(from.join(MANIFEST))
            .with_context(|| format!("{} is not a backup (no {MANIFEST})", from.display()))?,
    )
    .with_context(|| format!("reading {}", from.join(MANIFEST).display()))?;
    if manifest.format != FORMAT {
        bail!(
            "the backup is in format {}, this build reads format {FORMAT}",
            manifest.format
        );
    }
    let target = if config.database_url.starts_with("sqlite:") {
        "sqlite"
    } else {
        "postgres"
    };
    if manifest.backend != target {
        bail!(
            "the backup holds a {} database and DATABASE_URL names a {target} one: restore into \
             the same kind",
            manifest.backend
        );
    }
    if !force && db::has_accounts(&config.database_url).await? {
        bail!(
            "the database already has accounts: stop the controller and pass --force to replace it"
        );
    }
    // The key first: without it the restored secrets could not be opened.
    if manifest.secret_key {
        let key = std::fs::read(from.join(SECRET_KEY))?;
        let dest = config.data_dir.join(SECRET_KEY);
        match std::fs::read(&dest) {
            Ok(existing) if existing != key && !force => bail!(
                "{} differs from the backup's key: move it aside (or pass --force) so the \
                 restored secrets can be opened",
                dest.display()
            ),
            _ => {
                std::fs::create_dir_all(&config.data_dir)?;
                copy_private(&from.join(SECRET_KEY), &dest)?;
            }
        }
    }
    progress("restoring the database");
    match target {
        "sqlite" => {
            let path = db::sqlite_path(&config.database_url)
                .context("DATABASE_URL names no SQLite file")?;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = path.with_extension("restoring");
            std::fs::copy(from.join(SQLITE_FILE), &tmp)?;
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            std::fs::rename(&tmp, &path)?;
        }
        _ => {
            let file = from.join(PG_FILE);
            let file = file.to_string_lossy();
            let args = [
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                &file,
            ];
            pg_tool("pg_restore", &config.database_url, &args).await?;
        }
    }
    progress("restoring the package store");
    copy_tree(&from.join(STORE_DIR), &config.package_store, progress)?;
    // Opening it brings the schema up to date, as a start would.
    Db::connect(&config.database_url).await?.pool.close().await;
    Ok(manifest)
}

/// Runs PostgreSQL's `pg_dump` or `pg_restore` (from `PATH`) against `url`. The password, if
/// the URL has one, goes in `PGPASSWORD`, never on a command line other users can read.
async fn pg_tool(program: &str, url: &str, args: &[&str]) -> anyhow::Result<()> {
    let mut parsed =
        reqwest::Url::parse(url).with_context(|| format!("DATABASE_URL is not a URL: {url}"))?;
    let password = parsed.password().map(|p| {
        percent_encoding::percent_decode_str(p)
            .decode_utf8_lossy()
            .into_owned()
    });
    let _ = parsed.set_password(None);
    let mut cmd = tokio::process::Command::new(program);
    cmd.arg(format!("--dbname={parsed}")).args(args);
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    let out = cmd.output().await.with_context(|| {
        format!("running {program}: install PostgreSQL's client tools (postgresql-client)")
    })?;
    if !out.status.success() {
        bail!(
            "{program} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Copies every file under `from` to the same place under `to` (files being written, under
/// `.incoming` and `.tmp`, are left out; a file already there with the same size is kept).
/// Answers how many files and bytes the tree holds.
fn copy_tree(from: &Path, to: &Path, progress: &dyn Fn(&str)) -> anyhow::Result<(u64, u64)> {
    let (mut files, mut bytes) = (0u64, 0u64);
    if !from.exists() {
        return Ok((0, 0));
    }
    let walk = walkdir::WalkDir::new(from).into_iter().filter_entry(|e| {
        let name = e.file_name().to_string_lossy();
        name != ".incoming" && name != ".tmp"
    });
    let mut last = std::time::Instant::now();
    for entry in walk {
        let entry = entry?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry.path().strip_prefix(from)?;
        let dest: PathBuf = to.join(rel);
        let len = entry.metadata()?.len();
        let same = std::fs::metadata(&dest).is_ok_and(|m| m.len() == len);
        if !same {
            if let Some(dir) = dest.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::copy(entry.path(), &dest)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
        files += 1;
        bytes += len;
        if last.elapsed() >= std::time::Duration::from_secs(1) {
            last = std::time::Instant::now();
            progress(&format!("  {files} files, {} MiB", bytes >> 20));
        }
    }
    progress(&format!("  {files} files, {} MiB", bytes >> 20));
    Ok((files, bytes))
}

/// Copies a key file, readable by its owner only.
fn copy_private(from: &Path, to: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let bytes = std::fs::read(from)?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(to)
        .with_context(|| format!("writing {}", to.display()))?;
    std::io::Write::write_all(&mut f, &bytes)?;
    Ok(())
}
