//! The store: every SQL string of the session core, with typed rows (`sqlx::FromRow`) and each
//! state enum mapped to its column text in exactly one place.
//!
//! - [`capacity`]: orders' and rooms' plays in use, counted in the transactions that change them.
//! - [`slots`]: board slots per spec (capacity, held, warm, schedulable) and their candidates.
//! - [`sessions`]: live sessions by index, the reservation, the end, the sweeper's deadlines.
//! - [`tickets`]: the per-tenant waiting line.
//! - [`idempotency`]: acquire answers remembered per player and `Idempotency-Key`.
//!
//! [`advisory_lock`] takes a PostgreSQL transaction-scoped lock on a name (a player, a line).
//!
//! Every function takes the write transaction it runs in (or the pool, for single-statement
//! reads and writes); none opens a transaction of its own. Queries use `$N` placeholders and
//! portable SQL; where PostgreSQL can lock rows and SQLite cannot (`FOR UPDATE SKIP LOCKED`),
//! the function picks the string by [`Backend`] — SQLite's single writer serialises the same
//! transactions anyway.

pub mod capacity;
pub mod idempotency;
pub mod sessions;
pub mod slots;
pub mod tickets;

pub use crate::db::Backend;

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
