//! The Android SDK's Rust core: one [`client::Client`] per Java `PlayrackClient`, running a
//! play of `playrack-client` (acquire, the line, signaling, media, input, stats, leave) on its
//! own thread, and [`bindings`], the JNI surface Java calls and the listener it calls back.
//! Java only renders (MediaCodec on Android) and forwards touches and keys.

pub mod bindings;
pub mod client;
#[cfg(feature = "test-hooks")]
pub mod test_hooks;
