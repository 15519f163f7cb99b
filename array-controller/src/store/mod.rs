//! The store: every SQL string of the session core, with typed rows (`sqlx::FromRow`) and each
//! state enum mapped to its column text in exactly one place.
//!
//! - [`capacity`]: orders' and rooms' plays in use, counted in the transactions that change them.
//! - [`slots`]: board slots per spec (capacity, held, warm, schedulable) and their candidates.
//! - [`sessions`]: live sessions by index, the reservation, the end, the sweeper's deadlines.
//! - [`tickets`]: the per-tenant waiting line.
//!
//! Every function takes the write transaction it runs in (or the pool, for single-statement
//! reads and writes); none opens a transaction of its own. Queries use `$N` placeholders and
//! portable SQL; where PostgreSQL can lock rows and SQLite cannot (`FOR UPDATE SKIP LOCKED`),
//! the function picks the string by [`Backend`] — SQLite's single writer serialises the same
//! transactions anyway.

pub mod capacity;
pub mod sessions;
pub mod slots;
pub mod tickets;

pub use crate::db::Backend;
