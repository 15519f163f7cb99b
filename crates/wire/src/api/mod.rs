//! The controller's REST bodies under `/v1`, one module per resource; every type is
//! re-exported here, so users write `api::Game`.
//!
//! Conventions every body follows:
//! - ids are opaque strings with a type prefix (`ten_…`, `gam_…`), sortable by creation time;
//! - instants are [`Timestamp`](crate::Timestamp)s; money is integer micro-units of the platform currency;
//! - lists come as a [`Page`]: pass `next_cursor` back as `?cursor=` for the next page;
//! - `Create*` bodies are what a client sends, the bare names are what the server returns,
//!   `Update*` bodies are partial (absent fields stay as they are).

mod accounts;
mod archives;
mod audit;
mod bills;
mod deployments;
mod games;
mod grey;
mod links;
mod maintenance;
mod orders;
mod play;
mod specs;
mod switches;
mod tenants;
mod topology;
mod usage;
mod watch;
mod webhooks;

pub use accounts::*;
pub use archives::*;
pub use audit::*;
pub use bills::*;
pub use deployments::*;
pub use games::*;
pub use grey::*;
pub use links::*;
pub use maintenance::*;
pub use orders::*;
pub use play::*;
pub use specs::*;
pub use switches::*;
pub use tenants::*;
pub use topology::*;
pub use usage::*;
pub use watch::*;
pub use webhooks::*;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One page of a list. `next_cursor` is absent on the last page.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
