#!/usr/bin/env bash
# Builds every cargo-fuzz target in tests/fuzz once, then runs each from its committed corpus.
#
#   scripts/fuzz.sh [--seconds N] [--jobs J] [TARGET…]
#
#   --seconds N   how long each target runs (default 10; scripts/test.sh runs 8)
#   --jobs J      libFuzzer worker processes per target (default 1)
#   TARGET…       only these targets (default: all of them)
#   PLAYRACK_FUZZ_DIR  build and run directory (default target/fuzz)
#
# Long form, to look for bugs (hours; new inputs land in target/fuzz/corpus/<target>, so a
# later run starts where this one stopped):
#   scripts/fuzz.sh --seconds 3600 --jobs 2
#
# Build: one `cargo +nightly fuzz build` (release with debug assertions, AddressSanitizer)
# into its own target dir, target/fuzz. Runs: each target starts from the committed seeds in
# tests/fuzz/corpus/<target> plus what earlier runs found (target/fuzz/corpus/<target>; the
# committed seeds are never written to). A crash, leak, timeout or out-of-memory fails the
# script and prints the reproducer; replay one with
#   cd tests/fuzz && cargo +nightly fuzz run --target-dir ../../target/fuzz -O \
#       --debug-assertions TARGET ../../target/fuzz/artifacts/TARGET/crash-…
# then add it as a unit test beside the parser (see RELIABILITY.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=10
jobs=1
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
fuzz_dir=$root/tests/fuzz
out=${PLAYRACK_FUZZ_DIR:-$root/target/fuzz}
cd "$fuzz_dir"
# cargo fuzz has no --locked: refuse a Cargo.lock that is not up to date the way --locked would.
cargo +nightly metadata --locked --format-version 1 >/dev/null
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

echo "fuzz: building ${#targets[@]} targets"
build_start=$SECONDS
cargo +nightly fuzz build -O --debug-assertions --target-dir "$out" >/dev/null
echo "fuzz: built in $((SECONDS - build_start)) s"
triple=$(rustc +nightly -vV | sed -n 's/^host: //p')
bin_dir=$out/$triple/release

# Inputs past these sizes only slow the search: APKs and archives need room, messages do not.
max_len() {
  case "$1" in
    apk_*) echo 65536 ;;
    archive_check) echo 32768 ;;
    *) echo 4096 ;;
  esac
}

failed=()
for t in "${targets[@]}"; do
  corpus=$out/corpus/$t
  artifacts=$out/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  log=$out/logs/$t.log
  mkdir -p "$(dirname "$log")"
  # -jobs/-workers: J processes sharing the corpus directory; -max_total_time bounds each.
  set +e
  "$bin_dir/$t" "$corpus" "$fuzz_dir/corpus/$t" \
    -max_total_time="$seconds" -max_len="$(max_len "$t")" -rss_limit_mb=2048 -timeout=10 \
    -malloc_limit_mb=2048 -artifact_prefix="$artifacts/" -print_final_stats=1 \
    $([ "$jobs" -gt 1 ] && echo "-jobs=$jobs -workers=$jobs") >"$log" 2>&1
  rc=$?
  set -e
  [ "$jobs" -gt 1 ] && cat fuzz-*.log >>"$log" 2>/dev/null && rm -f fuzz-*.log
  execs=$(grep -ho 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s+=$2} END {print s+0}')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  if [ $rc -ne 0 ] || grep -q '^==[0-9]*==ERROR\|^SUMMARY: \|Test unit written to' "$log"; then
    echo "fuzz: $t FAILED (exit $rc) after $execs runs; log: $log"
    grep -h 'Test unit written to\|panicked at\|^SUMMARY' "$log" | head -5 | sed 's/^/  /'
    failed+=("$t")
  else
    echo "fuzz: $t ok: $execs runs in ${seconds} s, coverage ${cov:-?}, corpus $(ls "$corpus" | wc -l) + $(ls "$fuzz_dir/corpus/$t" | wc -l) seeds"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
  exit 1
fi
