//! Playrack's native player core, shared by every player that is not a browser: the Android
//! SDK (through JNI), the PC client and the project's own tests and benchmarks.
//!
//! - [`link`]: a try-play URL into its API's origin and the link's code (strict; fuzzed).
//! - [`media`] (feature `media`): the WebRTC client, sans-IO (str0m): the offer the H5 SDK makes, the agent's
//!   answer, datagrams and time in, datagrams, access units, Opus frames and the next wake-up
//!   out; input messages onto the DataChannels.
//! - [`decode`] (feature `openh264`): access units into pictures.
//! - [`probe`]: the latency probe (the test game's probe square), sans-IO.
//! - [`stats`] (feature `media`): the H5 SDK's `stats()` for a native player, sans-IO.
//! - [`play`] (feature `tokio`): the controller's player API and the steps to a play ready to
//!   connect — link card, room round trips, acquire, the line, the session.
//! - [`connection`] (feature `tokio`): the async shell — the agent's signaling WebSocket and
//!   the media socket around [`media::Media`].
//! - [`session`] (feature `tokio`): a ready play driven to its end — reconnection after a
//!   drop, `stats()` fed, leave — for each player's own loop.
//!
//! The wire types (signals, input messages) are `playrack-wire`'s; nothing here redefines them.

#[cfg(feature = "tokio")]
pub mod connection;
#[cfg(feature = "openh264")]
pub mod decode;
pub mod link;
#[cfg(feature = "media")]
pub mod media;
#[cfg(feature = "tokio")]
pub mod play;
pub mod probe;
#[cfg(feature = "tokio")]
pub mod session;
#[cfg(feature = "media")]
pub mod stats;

pub use playrack_wire as wire;
