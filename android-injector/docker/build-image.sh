#!/usr/bin/env bash
# Builds the virtual Android device's Docker image locally, without a registry or a base image:
# a rootfs holding the `virtual-device` binary as /init plus exactly the shared libraries it
# links (found with ldd), imported with `docker import`.
#
#   android-injector/docker/build-image.sh [BINARY] [TAG]
#
# BINARY defaults to target/release/virtual-device (built if missing); TAG defaults to
# playrack/virtual-device:dev. The image is started exactly like redroid:
#
#   docker run -d --privileged -p 127.0.0.1:5555:5555 -v DATA:/data TAG \
#     androidboot.redroid_width=720 androidboot.redroid_height=1280 \
#     androidboot.redroid_fps=60 androidboot.redroid_dpi=320
#
# adbd listens on container port 5555; /data is the device's data partition.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
binary=${1:-$root/target/release/virtual-device}
tag=${2:-playrack/virtual-device:dev}
command -v docker >/dev/null || { echo "build-image.sh: docker is not installed (apt-get install docker.io)" >&2; exit 1; }
if [ ! -x "$binary" ]; then
  (cd "$root" && cargo build --release --locked -p android-injector --bin virtual-device)
fi
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{data,tmp,dev,proc,sys,etc}
install -m 0755 "$binary" "$rootfs/init"
# Debug builds carry tens of MB of debug info the image does not need.
if command -v strip >/dev/null; then strip --strip-debug "$rootfs/init"; fi
# The binary's shared libraries and the dynamic loader, at the paths the binary expects.
ldd "$binary" | awk '/=>/ { print $3 } /^\t\/.*ld-linux/ { print $1 }' | while read -r lib; do
  [ -n "$lib" ] && [ -e "$lib" ] || continue
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done
echo "root:x:0:0:root:/:/init" >"$rootfs/etc/passwd"
echo "shell:x:2000:2000:shell:/:/init" >>"$rootfs/etc/passwd"
tar -C "$rootfs" -c . | docker import \
  --change 'ENTRYPOINT ["/init", "--listen", "0.0.0.0", "--adb-port", "5555", "--data-dir", "/data", "--no-auth"]' \
  --change 'EXPOSE 5555' \
  --change 'LABEL org.playrack.kind=virtual-device' \
  - "$tag" >/dev/null
echo "$tag"
