#!/usr/bin/env bash
# Runs every test suite, the way CI does: installs what is missing, builds the real fixture
# APKs, starts a throw-away PostgreSQL on loopback, then formatting, lints and all tests
# (each store test runs on SQLite and on PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
# One clean build per run: incremental state would only cost disk and time here.
export CARGO_INCREMENTAL=0
scripts/install-deps.sh

echo "== fixtures: real APKs built with aapt and apksigner"
export PLAYRACK_FIXTURES="$PWD/target/fixtures"
scripts/build-fixture-apks.sh "$PLAYRACK_FIXTURES" >/dev/null

echo "== PostgreSQL (throw-away, loopback)"
PLAYRACK_TEST_PG_URL=$(scripts/postgres.sh start)
export PLAYRACK_TEST_PG_URL
trap 'scripts/postgres.sh stop' EXIT

echo "== Docker engine"
scripts/dockerd.sh

echo "== sdk-h5"
(cd sdk-h5 && npm ci --no-audit --no-fund && npm run build && npm test)

echo "== tests/browser: playwright-core (drives Debian's chromium; no browser download)"
(cd tests/browser && npm ci --no-audit --no-fund)

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy -D warnings"
# The virtual device's sliced encoder (feature x264, Debian's libx264) is linted and tested too.
cargo clippy --workspace --all-targets --locked --features android-injector/x264 -- -D warnings
echo "== cargo test"
# The controller's warnings go to each test's captured output: printed only when it fails.
export PLAYRACK_TEST_LOG=${PLAYRACK_TEST_LOG:-warn}
# Every package's binaries are built by this one command (each has integration tests), with
# its features: tests that run another crate's binary use it as built, not rebuild it alone.
PLAYRACK_BINS_BUILT=1 cargo test --workspace --locked --features android-injector/x264
echo "== fuzz targets, short form (tests/fuzz: one build, then 8 s per target from its corpus)"
scripts/fuzz.sh --seconds 8
echo "== benchmarks, short form (playrack-bench: every figure once, seconds each, never asserted;"
echo "   BENCHMARKS.md and its plots written to a scratch copy; Chromium's latency ran in the browser suite)"
cargo run --locked -q -p playrack-tests --bin playrack-bench -- all --short --no-browser --out target/bench-short
