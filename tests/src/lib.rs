//! Cross-crate end-to-end tests, benchmarks and the one-command demo.
//!
//! - [`demo`]: [`demo::DemoStack`], the whole platform in one process (controller, portal,
//!   node agents with virtual devices, a seeded game, order and try-play link). The
//!   `playrack-demo` binary (`scripts/up.sh`) runs it until Ctrl-C; `tests/tests/browser.rs`
//!   starts it in-process and drives it with Chromium (`tests/browser/`).
//! - [`api`]: a small client of the controller's `/v1` API used by both;
//! - [`bench`]: `playrack-bench`, every benchmark behind one command, and BENCHMARKS.md's
//!   figures and plots.
//!
//! The tests themselves live under `tests/tests`.

pub mod api;
pub mod bench;
pub mod demo;
