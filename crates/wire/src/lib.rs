//! Every type that crosses a process boundary in Playrack, defined once.
//!
//! # Layout
//! - [`time`]: [`Timestamp`], the one way instants travel (RFC 3339 on the wire, milliseconds inside).
//! - [`problem`]: [`Problem`], the `application/problem+json` error body and its stable codes.
//! - [`api`]: the controller's REST bodies under `/v1`, grouped by resource.
//!
//! Later issues add the agent ⇄ controller channel, WebRTC signaling and player input here, so
//! that the controller, the node agent, the SDKs and the portal read one definition. The H5 SDK's
//! TypeScript types are generated from these types (through their OpenAPI schemas), never copied.

pub mod api;
pub mod problem;
pub mod time;

pub use problem::Problem;
pub use time::Timestamp;
