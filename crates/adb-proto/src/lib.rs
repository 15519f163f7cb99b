//! The adb transport, sans-IO: everything adbd says on its TCP port, as codecs and state
//! machines that never touch a socket.
//!
//! - [`packet`]: the 24-byte header + payload codec.
//! - `transport`: one connection's state machine — CNXN/AUTH negotiation, streams, flow
//!   control. Fed bytes, yields bytes to send and [`transport::Event`]s.
//! - `auth`: adb's RSA public-key format, `adb_keys` files and the token signature check.
//! - [`service`]: the service names a host opens (`shell,v2,raw:…`, `sync:`, …).
//! - [`shell_protocol`]: the shell v2 framing inside a shell stream.
//! - [`sync`]: the file sync framing inside a `sync:` stream.
//!
//! Feature `device` adds adbd's side — [`transport`] and [`auth`] — with the RSA check; a
//! host that only opens a connection needs none of it. The async edge that runs these against
//! real sockets and a file system is the virtual device's (`android-injector`,
//! `device::adbd`).

#[cfg(feature = "device")]
pub mod auth;
pub mod packet;
pub mod service;
pub mod shell_protocol;
pub mod sync;
#[cfg(feature = "device")]
pub mod transport;
