//! The virtual device's scrcpy server: what `app_process … com.genymobile.scrcpy.Server 4.1 …`
//! runs on the device, speaking the protocol of `playrack-scrcpy`.
//!
//! - [`server`]: the async server — accepts the tunnel's sockets, streams the game's encoded
//!   video and audio, applies control messages;
//! - [`app_process`]: the device's `app_process` command that starts it, and the hooks that put
//!   the synthetic game on the device's display;
//! - [`uhid`]: the HID devices a client plugs in (gamepads, a mouse) and what the game reads
//!   from them.

pub mod app_process;
pub mod server;
pub mod uhid;
