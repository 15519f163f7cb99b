#!/usr/bin/env bash
# Starts the whole platform in one process (embedded mode): the controller on SQLite with a
# local package store under .playrack/, seeded with a demo operator and a demo tenant whose
# credentials it prints, a room of virtual boards (2 node agents × 2 Android instances), the
# demo game built from a real APK (uploaded, published, deployed), an order, a try-play link
# and the portal. It prints the try-play URL and the consoles' URLs and runs until Ctrl-C.
#
# Options go to playrack-demo (scripts/up.sh --help): --data-dir, --controller-port,
# --portal-port, --boards, --slots, --spec, --concurrency, --trial-seconds, …
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

echo "== fixtures: real APKs built with aapt and apksigner" >&2
export PLAYRACK_FIXTURES="$PWD/target/fixtures"
scripts/build-fixture-apks.sh "$PLAYRACK_FIXTURES" >/dev/null

echo "== cargo build --release (playrack-demo, virtual-device)" >&2
cargo build --release --locked -p playrack-tests --bin playrack-demo -p android-injector --bin virtual-device

echo "== sdk-h5: the player's SDK bundle" >&2
(cd sdk-h5 && npm ci --no-audit --no-fund && npm run build) >&2

# The demo finds the APK through $PLAYRACK_FIXTURES and virtual-device next to itself; its
# data directory defaults to .playrack/ here.
exec "${CARGO_TARGET_DIR:-target}/release/playrack-demo" "$@"
