//! Cross-crate end-to-end tests and benchmarks live under `tests/tests` and `tests/benches`.
//!
//! This library holds the helpers they share (processes to start, fixtures to find).
