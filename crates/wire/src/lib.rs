//! Every type that crosses a process boundary in Playrack, defined once.
//!
//! # Layout
//! - [`time`]: [`Timestamp`], the one way instants travel (RFC 3339 on the wire, milliseconds inside).
//! - [`problem`]: [`Problem`], the `application/problem+json` error body and its stable codes.
//! - [`api`]: the controller's REST bodies under `/v1`, grouped by resource.
//! - [`agent`]: the agent channel between a board's node agent and the controller.
//! - [`signaling`]: WebRTC signaling between a player (or spectator) and a node agent.
//! - [`input`]: player input on the DataChannel, normalised to the video.
//! - [`session_token`]: the controller-signed tokens agents check offline.
//!
//! The controller, the node agent, the SDKs and the portal all read these definitions. The H5
//! SDK's TypeScript types are generated from them (through their JSON schemas), never copied.

pub mod agent;
pub mod api;
pub mod input;
pub mod problem;
pub mod session_token;
pub mod signaling;
pub mod stats;
pub mod time;
pub mod ts;

pub use problem::Problem;
pub use time::Timestamp;
