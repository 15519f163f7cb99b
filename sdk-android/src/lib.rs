//! The Android SDK's Rust core: acquire, signaling and input, bound to Java through `jni`.
//!
//! Not written yet: today the crate only reserves its place in the workspace.
