#!/usr/bin/env bash
# Starts Playrack in embedded mode: the controller on SQLite with a local package store under
# .playrack/, seeded with a demo operator and a demo tenant whose credentials it prints.
# Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --release --locked -p array-controller
mkdir -p .playrack
exec target/release/array-controller --demo --data-dir .playrack/controller "$@"
