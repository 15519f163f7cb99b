//! The database: one connection pool over SQLite or PostgreSQL, the migrations, and the few
//! helpers every query uses (ids, pagination, write transactions). The SQL itself lives in
//! [`crate::store`].
//!
//! Queries go through sqlx's `Any` driver with `$N` placeholders, which both databases accept, so
//! one SQL string serves both. The schema in `migrations/` is written in the common subset
//! (`TEXT` and `BIGINT` columns; instants as Unix milliseconds; JSON as `TEXT`).
//!
//! SQLite allows one writer at a time. Rather than letting concurrent write transactions race for
//! the lock (and fail with `SQLITE_BUSY` when a reader upgrades), [`Db::write`] takes an
//! in-process writer lock first when the backend is SQLite. PostgreSQL needs no such lock.
//! A write transaction uses only its own connection: single-statement writes outside the lock
//! may hold every other pooled connection while they wait for SQLite's lock, so a transaction
//! that asked the pool for another one while holding the lock would wait for itself.
//!
//! On SQLite the holder of the writer lock takes its connection from a small pool of its own
//! (the writers' pool), never from the pool readers share: a writer that waited in the readers'
//! line while holding the lock would make every other write wait out that line too, and under
//! many reads (a long queue of players polling) writes — the boards' reports that give slots
//! back, promotions — would slow to a trickle. On PostgreSQL there is one pool.

use rand::Rng;
use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Executor, Transaction};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    writer: Arc<Mutex<()>>,
    /// Where the writer lock's holder gets its connection (SQLite; the main pool on PostgreSQL).
    writes: AnyPool,
}

/// A write transaction. On SQLite it also holds the writer lock until it is dropped.
pub struct WriteTx {
    pub tx: Transaction<'static, Any>,
    _writer: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = Transaction<'static, Any>;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// See [`Db::turn`]: held while a single-statement write runs, which runs on its connection
/// (`.execute(&mut *turn)`).
pub struct Turn {
    conn: sqlx::pool::PoolConnection<Any>,
    _writer: Option<OwnedMutexGuard<()>>,
}

impl std::ops::Deref for Turn {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.conn
    }
}

impl std::ops::DerefMut for Turn {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.conn
    }
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Db {
    /// Connects and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let options = |max: u32| {
            let options = AnyPoolOptions::new()
                .acquire_timeout(Duration::from_secs(30))
                .max_connections(max);
            match backend {
                Backend::Sqlite => options.after_connect(|conn, _| {
                    Box::pin(async move {
                        // WAL lets readers run beside the writer; the busy timeout covers other
                        // processes (the in-process writer lock covers this one).
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        Ok(())
                    })
                }),
                Backend::Postgres => options,
            }
        };
        let pool = options(16).connect(url).await?;
        MIGRATOR.run(&pool).await?;
        let writes = match backend {
            // One writer at a time; a second connection covers one being returned.
            Backend::Sqlite => options(2).connect(url).await?,
            Backend::Postgres => pool.clone(),
        };
        let db = Self {
            pool,
            backend,
            writer: Arc::new(Mutex::new(())),
            writes,
        };
        crate::upgrade::run(&db).await?;
        Ok(db)
    }

    /// Writes a consistent copy of a live SQLite database to `path` (`VACUUM INTO`).
    pub async fn sqlite_snapshot(&self, path: &std::path::Path) -> Result<(), sqlx::Error> {
        let path = path.to_string_lossy().replace('\'', "''");
        sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM INTO '{path}'")))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The newest migration applied.
    pub async fn schema_version(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations")
            .fetch_one(&self.pool)
            .await
    }

    /// Begins a write transaction (see the module docs for SQLite's writer lock).
    ///
    /// On SQLite the transaction is `BEGIN IMMEDIATE`: it takes the database's write lock at
    /// once (waiting out the busy timeout), so the single-statement writes made outside this
    /// lock (API key use, sign-out, upload offsets) cannot slip in between its first read and
    /// its first write, which SQLite would answer with `SQLITE_BUSY` instead of waiting.
    pub async fn write(&self) -> Result<WriteTx, sqlx::Error> {
        let (guard, tx) = match self.backend {
            Backend::Sqlite => {
                let guard = self.writer.clone().lock_owned().await;
                (
                    Some(guard),
                    self.writes.begin_with("BEGIN IMMEDIATE").await?,
                )
            }
            Backend::Postgres => (None, self.pool.begin().await?),
        };
        Ok(WriteTx { tx, _writer: guard })
    }

    /// A turn for one single-statement write outside any transaction. On SQLite it holds the
    /// writer lock for the statement, so the statement waits in line with the write
    /// transactions instead of racing them into SQLite's busy handler (which sleeps in
    /// millisecond steps, up to the busy timeout, while the line keeps moving). On PostgreSQL
    /// it holds nothing. Never ask for one while holding a [`WriteTx`] (on SQLite that waits
    /// for itself).
    pub async fn turn(&self) -> Result<Turn, sqlx::Error> {
        let writer = match self.backend {
            Backend::Sqlite => Some(self.writer.clone().lock_owned().await),
            Backend::Postgres => None,
        };
        Ok(Turn {
            conn: self.writes.acquire().await?,
            _writer: writer,
        })
    }

    /// Begins a transaction for consistent reads. It never takes the writer lock (WAL readers
    /// run beside the writer on SQLite), so reading never waits for the write path; writing in
    /// it is a mistake (on SQLite it may fail with `SQLITE_BUSY`).
    pub async fn read(&self) -> Result<WriteTx, sqlx::Error> {
        Ok(WriteTx {
            tx: self.pool.begin().await?,
            _writer: None,
        })
    }

    /// Cheap liveness query for `/readyz`.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }
}

/// A new id: `<prefix>_` + 26 Crockford base32 characters (48 bits of milliseconds, then 80
/// random bits), so ids sort by creation time and pagination can use them as cursors.
///
/// Within one process ids are strictly increasing: an id made in the same millisecond as the
/// previous one (or after the clock stepped back) reuses its millisecond and adds a random
/// step to its random part, so creation order survives sub-millisecond bursts.
pub fn new_id(prefix: &str) -> String {
    const RANDOM_BITS: u128 = (1u128 << 80) - 1;
    const MAX_STEP: u128 = 1u128 << 32;
    static LAST: std::sync::Mutex<(i64, u128)> = std::sync::Mutex::new((i64::MIN, 0));
    let now = crate::now().millis();
    let mut rng = rand::rng();
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    let next = if now > last.0 {
        (now, rng.random::<u128>() & RANDOM_BITS)
    } else if last.1 < RANDOM_BITS - MAX_STEP {
        (last.0, last.1 + rng.random_range(1..=MAX_STEP))
    } else {
        (last.0 + 1, rng.random::<u128>() & (RANDOM_BITS >> 1))
    };
    *last = next;
    encode_id(prefix, next.0, next.1)
}

/// The smallest id [`new_id`] can give at `millis`: ids from then on compare `>=` it.
pub fn id_floor(prefix: &str, millis: i64) -> String {
    encode_id(prefix, millis, 0)
}

fn encode_id(prefix: &str, millis: i64, random: u128) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let millis = millis.max(0) as u128 & ((1u128 << 48) - 1);
    let mut value = (millis << 80) | (random & ((1u128 << 80) - 1));
    let mut out = [0u8; 26];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(value & 31) as usize];
        value >>= 5;
    }
    format!("{prefix}_{}", std::str::from_utf8(&out).expect("ascii"))
}

/// A random secret of `len` base32 characters (5 bits each).
pub fn random_token(len: usize) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..32)] as char)
        .collect()
}

/// `?limit=&cursor=` of every list endpoint.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1–200 (default 50).
    #[serde(default, deserialize_with = "page_limit")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// The most items one page holds.
pub const MAX_PAGE: u32 = 200;

/// A `limit` outside 1–[`MAX_PAGE`] is refused (and explained) rather than quietly changed.
pub fn page_limit<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    use serde::Deserialize as _;
    match Option::<u32>::deserialize(d)? {
        Some(n) if !(1..=MAX_PAGE).contains(&n) => Err(serde::de::Error::custom(format!(
            "limit must be 1–{MAX_PAGE}, not {n}"
        ))),
        limit => Ok(limit),
    }
}

impl PageParams {
    pub fn limit(&self) -> i64 {
        i64::from(self.limit.unwrap_or(50).clamp(1, MAX_PAGE))
    }

    /// The cursor, or "" for the first page (ids are never empty, so `id > ''` is everything).
    pub fn cursor(&self) -> String {
        self.cursor.clone().unwrap_or_default()
    }
}

/// Turns `limit + 1` fetched rows into a page: the extra row only says there is a next page.
pub fn page_from<T>(
    mut items: Vec<T>,
    params: &PageParams,
    id: impl Fn(&T) -> String,
) -> playrack_wire::api::Page<T> {
    let limit = params.limit() as usize;
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(id)
    } else {
        None
    };
    playrack_wire::api::Page { items, next_cursor }
}

/// Whether the database at `url` holds any account, without migrating it (a database with no
/// schema yet has none).
pub async fn has_accounts(url: &str) -> Result<bool, sqlx::Error> {
    sqlx::any::install_default_drivers();
    let mut options = AnyPoolOptions::new().max_connections(1);
    if url.starts_with("sqlite:") {
        if sqlite_path(url).is_none_or(|p| !p.exists()) {
            return Ok(false);
        }
        options = options.acquire_timeout(Duration::from_secs(30));
    }
    let pool = options.connect(url).await?;
    let found: Result<i64, _> = sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
        .fetch_one(&pool)
        .await;
    pool.close().await;
    Ok(found.is_ok_and(|n| n > 0))
}

/// The file a `sqlite:` URL names.
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && path != ":memory:").then(|| path.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        let p = |u| sqlite_path(u).map(|p| p.display().to_string());
        assert_eq!(
            p("sqlite:///var/lib/c.db?mode=rwc").as_deref(),
            Some("/var/lib/c.db")
        );
        assert_eq!(p("sqlite:c.db").as_deref(), Some("c.db"));
        assert_eq!(p("sqlite::memory:"), None);
        assert_eq!(p("postgres://h/db"), None);
    }

    #[test]
    fn ids_sort_by_creation_and_do_not_collide() {
        let a = encode_id("ten", 1_000, u128::MAX);
        let b = encode_id("ten", 1_001, 0);
        assert!(a < b, "{a} !< {b}");
        assert_eq!(a.len(), 4 + 26);
        let many: std::collections::HashSet<_> = (0..10_000).map(|_| new_id("x")).collect();
        assert_eq!(many.len(), 10_000);
    }

    #[test]
    fn ids_made_in_one_millisecond_still_sort_in_creation_order() {
        let ids: Vec<String> = (0..10_000).map(|_| new_id("x")).collect();
        for pair in ids.windows(2) {
            assert!(pair[0] < pair[1], "{} !< {}", pair[0], pair[1]);
        }
    }
}
