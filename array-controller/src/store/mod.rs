//! The store: every SQL string of the session core, with typed rows (`sqlx::FromRow`) and each
//! state enum mapped to its column text in exactly one place.
//!
//! - [`capacity`]: orders' and rooms' plays in use, counted in the transactions that change them.
//! - [`slots`]: board slots per spec (capacity, held, warm, schedulable) and their candidates.
//! - [`sessions`]: live sessions by index, the reservation, the end, the sweeper's deadlines.
//! - [`tickets`]: the per-tenant waiting line.
//! - [`idempotency`]: acquire answers remembered per player and `Idempotency-Key`.
//! - [`keys`]: the tenants' player-token keys and the controller's session signing key.
//! - [`plays`]: what an acquire resolves before it reserves (the link, the game, its version).
//! - [`accounts`]: tenants, accounts, sign-in tokens and API keys.
//! - [`catalog`]: specs, games, versions, uploads and deployments.
//! - [`links`]: try-play links.
//! - [`figures`]: what each link led to, per day (opens, acquires, plays, conversions).
//! - [`watch`]: watch links (one live play, or a wall of a game's live plays).
//! - [`archives`]: players' saved archives.
//! - [`recordings`]: recordings of plays' video.
//! - [`topology`]: regions, rooms, arrays, boards, orders and instances.
//! - [`agents`]: what boards report, the command outbox, controllers and shell runs.
//! - [`metering`]: per-session meters and the usage ledger.
//! - [`bills`]: billing periods, closed bills and their lines, orders' terms over time.
//! - [`webhooks`]: webhook subscriptions, deliveries and attempts.
//! - [`audit`]: the audit log.
//! - [`switches`]: the degrade switches that are on.
//! - [`maintenance`]: scheduled maintenance of rooms and boards.
//! - [`upgrades`]: which Rust-side data upgrades are done, and the rows they rewrite.
//! - [`volumes`]: packages on rooms' shared volumes and on boards.
//!
//! [`advisory_lock`] takes a PostgreSQL transaction-scoped lock on a name (a player, a line).
//!
//! Every function takes the write transaction it runs in (or the pool, for single-statement
//! reads and writes); none opens a transaction of its own. Queries use `$N` placeholders and
//! portable SQL; where PostgreSQL can lock rows and SQLite cannot (`FOR UPDATE SKIP LOCKED`),
//! the function picks the string by [`Backend`] — SQLite's single writer serialises the same
//! transactions anyway.

pub mod accounts;
pub mod agents;
pub mod archives;
pub mod audit;
pub mod bills;
pub mod capacity;
pub mod catalog;
pub mod figures;
pub mod grey;
pub mod idempotency;
pub mod keys;
pub mod links;
pub mod maintenance;
pub mod metering;
pub mod plays;
pub mod recordings;
pub mod sessions;
pub mod slots;
pub mod switches;
pub mod tickets;
pub mod topology;
pub mod upgrades;
pub mod volumes;
pub mod warm;
pub mod watch;
pub mod webhooks;

pub use crate::db::Backend;

/// Appends ` AND <column> = $<n>` to `sql` for each filter that is set, numbering after the
/// `bound` placeholders it already has; answers the values to bind next, in order. (Each
/// combination of filters is its own statement, so each can use its own index.)
pub fn and_equal<'a>(
    sql: &mut String,
    bound: usize,
    filters: &[(&str, Option<&'a str>)],
) -> Vec<&'a str> {
    let values: Vec<&'a str> = filters.iter().filter_map(|(_, v)| *v).collect();
    for (i, (col, _)) in filters.iter().filter(|(_, v)| v.is_some()).enumerate() {
        sql.push_str(&format!(" AND {col} = ${}", bound + i + 1));
    }
    values
}

/// Decodes a JSON text column (a decode error if the text is not what the row type says).
pub fn json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, sqlx::Error> {
    serde_json::from_str(text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// Takes a transaction-scoped advisory lock on `name` (PostgreSQL; a no-op on SQLite, whose
/// single writer already serialises write transactions).
pub async fn advisory_lock(
    tx: &mut crate::db::WriteTx,
    backend: Backend,
    name: &str,
) -> Result<(), sqlx::Error> {
    if backend == Backend::Postgres {
        use sha2::Digest;
        let d = sha2::Sha256::digest(name.as_bytes());
        let key = i64::from_be_bytes(d[..8].try_into().expect("8 bytes"));
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(key)
            .execute(&mut ***tx)
            .await?;
    }
    Ok(())
}
