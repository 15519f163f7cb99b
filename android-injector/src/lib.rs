//! What runs inside an Android instance.
//!
//! Layout:
//! - `scrcpy`: the scrcpy 4.1 server the device runs (`scrcpy::server`) and the device command
//!   that starts it (`scrcpy::app_process`); the protocol itself is `playrack-scrcpy`, shared
//!   with the agent's client.
//! - `game`: the synthetic game on the device's display: fed input and time, renders I420
//!   frames with a readable frame number, a latency probe, touch marks and a tap counter.
//! - `encode`: openh264 (H.264 Constrained Baseline) and Opus encoders that turn the game's
//!   frames and sound into what MediaCodec would hand scrcpy's server.
//! - `device`: the virtual Android device — sandboxed file system, properties, packages, the
//!   shell and its commands, abstract sockets, and `device::adbd`, the async edge that serves
//!   the adb protocol (`playrack-adb-proto`, sans-IO) on TCP. The two halves meet in
//!   `device::sockets`: the scrcpy server listens on `scrcpy_%08x` there, and adbd's
//!   `localabstract:` (adb forward) and `reverse:` streams connect the host to it.
//! - `bin/virtual-device`: the binary that stands in for redroid (one process per instance).
//!
//! Feature `device` (default) builds the virtual device: `device`, `encode` and `scrcpy`, with
//! openh264 and libopus. Without it only the game is built.
#[cfg(feature = "device")]
pub mod device;
#[cfg(feature = "device")]
pub mod encode;
pub mod game;
#[cfg(feature = "device")]
pub mod scrcpy;
