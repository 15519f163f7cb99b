//! The Android SDK's Rust core: acquire, signaling and input, bound to Java through `jni`.
//!
//! Filled in by the Android SDK issue; today the crate only reserves its place.
