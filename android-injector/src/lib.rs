//! What runs inside an Android instance.
//!
//! Layout (filled in by the android-injector issue):
//! - `scrcpy`: the scrcpy 4.1 server protocol as a sans-IO codec, shared by the agent (client)
//!   and the virtual device (server).
//! - `adb`: the adb transport protocol, spoken by the virtual device's adbd.
//! - the virtual Android device binary that stands in for redroid in tests.
pub mod adb;
pub mod encode;
pub mod game;
pub mod scrcpy;
