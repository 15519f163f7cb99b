#!/usr/bin/env bash
# Installs what Playrack's builds and tests need beyond the language toolchains, from Debian's
# packages. Idempotent and quick when everything is present (no apt-get update then).
#
#   postgresql                 the PostgreSQL server the store tests run against
#   adb                        Debian's real adb, the peer of the virtual Android device
#   aapt apksigner zipalign    build and sign the real fixture APKs
#   android-framework-res      framework-res.apk, aapt's -I include
#   nasm                       openh264's assembly (3× faster encoding)
#   libopus-dev pkg-config     the Opus encoder of the virtual device's game audio
#   libasound2-dev             ALSA's headers, for the PC client's sound (cpal)
#   libx264-dev                x264, the virtual device's sliced encoder (feature x264)
#   rsync                      package sync from a room's shared volume
#   docker.io                  the engine the virtual-device image (and the agent's Docker
#                              driver) run on; scripts/dockerd.sh starts it
#   chromium                   the browser the Playwright suite drives (tests/browser)
#   ffmpeg                     ffprobe, which reads play recordings back in the tests
#   fonts-dejavu-core          the text of playrack-bench's plots
#   xvfb xdotool x11-apps      a virtual X display for the PC client's window test, synthetic
#   x11-xkb-utils              clicks and keys on it, and xwd screenshots of it (xkbcomp
#                              gives Xvfb its keymap)
#
# And, from rustup and crates.io, what scripts/fuzz.sh needs: the nightly toolchain and
# cargo-fuzz; from PyPI, schemathesis (the API tester array-controller/tests/schemathesis.rs
# runs) in a virtual environment at target/schemathesis. Each is skipped when present.
set -euo pipefail
cd "$(dirname "$0")/.."
SCHEMATHESIS_VERSION=4.32.5
# Python 3.12 or later: 3.11 (before 3.11.8) can fail an `ast.parse` deep in Hypothesis with
# "AST constructor recursion depth mismatch" (CPython gh-106905), a spurious schemathesis error.
newer_python() {
  local v cand
  for v in 3.13 3.12; do
    for cand in "$(command -v "python$v" 2>/dev/null)" \
      $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/python3 2>/dev/null | sort -V | tail -n 1); do
      if [ -n "$cand" ] && "$cand" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
        echo "$cand"
        return
      fi
    done
  done
  echo python3
}
if [ "$(target/schemathesis/bin/st --version 2>/dev/null)" != "st, version $SCHEMATHESIS_VERSION" ] \
  || ! target/schemathesis/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
  python=$(newer_python)
  echo "install-deps: installing schemathesis $SCHEMATHESIS_VERSION in target/schemathesis ($("$python" --version))" >&2
  rm -rf target/schemathesis
  "$python" -m venv target/schemathesis
  target/schemathesis/bin/pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "install-deps: installing the nightly Rust toolchain (for cargo-fuzz)" >&2
  rustup toolchain install nightly --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "install-deps: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
fi
packages=(postgresql adb aapt apksigner zipalign android-framework-res nasm libopus-dev libasound2-dev libx264-dev pkg-config rsync docker.io chromium ffmpeg fonts-dejavu-core iproute2 python3 coturn docker-compose openssl xvfb xdotool x11-apps x11-xkb-utils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
