#!/usr/bin/env bash
# Builds the images deploy/compose.yaml runs without a registry or a base image, for machines
# that cannot pull (where you can, `docker compose build` uses the Dockerfiles beside this).
# Each image is a root file system holding the service's binary plus exactly the shared
# libraries it links (found with ldd), the few tools its entry point and healthcheck use
# (bash, head, grep, openssl), imported with `docker import`:
#
#   deploy/docker/build-local-images.sh [BIN_DIR] [TAG]
#
#   playrack/array-controller:TAG  playrack/portal:TAG  playrack/node-agent:TAG
#   playrack/postgres:15-local     this machine's PostgreSQL 15 (Debian's `postgresql`), with an
#                                  entry point that honours POSTGRES_USER, POSTGRES_PASSWORD and
#                                  POSTGRES_DB as the official image does
#
# BIN_DIR holds array-controller, portal, node-agent and virtual-device (default
# target/release, built if missing); TAG defaults to `dev`, the tag compose.yaml names.
# Use them with the overlay that points PostgreSQL at the local image:
#
#   docker compose -f compose.yaml -f compose.local-images.yaml up -d
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bins=${1:-$root/target/release}
tag=${2:-dev}
command -v docker >/dev/null || { echo "build-local-images.sh: docker is not installed (apt-get install docker.io)" >&2; exit 1; }
for b in array-controller portal node-agent virtual-device; do
  if [ ! -x "$bins/$b" ]; then
    if [ "$bins" = "$root/target/release" ]; then
      (cd "$root" && cargo build --release --locked -p array-controller -p portal -p node-agent -p android-injector \
        --bin array-controller --bin portal --bin node-agent --bin virtual-device)
    else
      echo "build-local-images.sh: no $bins/$b" >&2; exit 1
    fi
  fi
done
pg=/usr/lib/postgresql/15
[ -x "$pg/bin/postgres" ] || { echo "build-local-images.sh: PostgreSQL 15 is not installed (apt-get install postgresql)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# libs ROOTFS FILE: the shared libraries FILE links, and the loader, at their own paths.
libs() {
  local lib
  ldd "$2" 2>/dev/null | awk '/=>/ { print $3 } /^\t\/.*ld-linux/ { print $1 }' | while read -r lib; do
    [ -n "$lib" ] && [ -e "$lib" ] && [ ! -e "$1$lib" ] || continue
    mkdir -p "$1$(dirname "$lib")"
    cp -L "$lib" "$1$lib"
  done
}

# copy ROOTFS FILE...: this machine's files at their own paths, with their libraries.
copy() {
  local rootfs=$1 f; shift
  for f in "$@"; do
    mkdir -p "$rootfs$(dirname "$f")"
    cp -L "$f" "$rootfs$f"
    libs "$rootfs" "$f"
  done
}

# install_bin ROOTFS BINARY DEST: one of ours, without its debug info.
install_bin() {
  install -D -m 0755 "$2" "$1$3"
  if command -v strip >/dev/null; then strip --strip-debug "$1$3"; fi
  libs "$1" "$2"
}

# base ROOTFS: directories, users and the healthcheck's tools.
base() {
  mkdir -p "$1"/{etc,tmp,dev,proc,sys,run,var/tmp,usr/local/bin}
  chmod 1777 "$1/tmp" "$1/var/tmp"
  copy "$1" /bin/bash /usr/bin/head /usr/bin/grep /usr/bin/openssl
  ln -sf /bin/bash "$1/bin/sh"
  printf 'root:x:0:0:root:/root:/bin/bash\nplayrack:x:10001:10001:playrack:/var/lib/playrack:/bin/bash\npostgres:x:999:999:postgres:/var/lib/postgresql:/bin/bash\n' >"$1/etc/passwd"
  printf 'root:x:0:\nplayrack:x:10001:\npostgres:x:999:\n' >"$1/etc/group"
}

import() { # ROOTFS IMAGE CHANGE...
  local rootfs=$1 image=$2; shift 2
  local args=()
  for c in "$@"; do args+=(--change "$c"); done
  tar -C "$rootfs" --numeric-owner -c . | docker import "${args[@]}" - "$image" >/dev/null
  echo "$image"
}

path='ENV PATH=/usr/local/bin:/usr/bin:/bin'

# The controller.
r=$work/controller; base "$r"
install_bin "$r" "$bins/array-controller" /usr/local/bin/array-controller
copy "$r" /usr/bin/rsync
install -d -o 10001 -g 10001 -m 0750 "$r/var/lib/playrack" "$r/srv/playrack" "$r/srv/playrack/packages" "$r/srv/playrack/room"
import "$r" "playrack/array-controller:$tag" "$path" \
  'ENV PLAYRACK_LISTEN=0.0.0.0:7600' 'ENV PLAYRACK_DATA_DIR=/var/lib/playrack' \
  'USER 10001' 'WORKDIR /var/lib/playrack' 'EXPOSE 7600' \
  'ENTRYPOINT ["/usr/local/bin/array-controller"]'

# The portal, with the H5 SDK it serves when it was built (sdk-h5: npm run build).
r=$work/portal; base "$r"
install_bin "$r" "$bins/portal" /usr/local/bin/portal
mkdir -p "$r/usr/local/share/playrack/sdk-h5"
if [ -d "$root/sdk-h5/dist" ]; then cp -r "$root/sdk-h5/dist/." "$r/usr/local/share/playrack/sdk-h5/"; fi
import "$r" "playrack/portal:$tag" "$path" \
  'ENV PLAYRACK_PORTAL_LISTEN=0.0.0.0:7700' 'ENV PLAYRACK_PORTAL_ASSETS_DIR=/usr/local/share/playrack/sdk-h5' \
  'USER 10001' 'EXPOSE 7700' 'ENTRYPOINT ["/usr/local/bin/portal"]'

# A board: the agent, virtual devices (process runtime), adb and rsync.
r=$work/node-agent; base "$r"
install_bin "$r" "$bins/node-agent" /usr/local/bin/node-agent
install_bin "$r" "$bins/virtual-device" /usr/local/bin/virtual-device
copy "$r" /usr/bin/adb /usr/bin/rsync
install -d -m 0750 "$r/var/lib/playrack-agent"
install -d -m 0755 "$r/usr/local/share/playrack"
printf 'PK\003\004 playrack virtual-device injector placeholder' >"$r/usr/local/share/playrack/virtual-device-injector.jar"
import "$r" "playrack/node-agent:$tag" "$path" \
  'ENV PLAYRACK_AGENT_DATA_DIR=/var/lib/playrack-agent' 'ENV PLAYRACK_AGENT_ADB=/usr/bin/adb' \
  'EXPOSE 7700/tcp' 'EXPOSE 7700/udp' 'ENTRYPOINT ["/usr/local/bin/node-agent"]'

# PostgreSQL 15.
r=$work/postgres; base "$r"
# Without the JIT (llvmjit.so would bring in LLVM, 100 MB); PostgreSQL runs without it.
mapfile -t pglibs < <(ls "$pg"/lib/*.so | grep -v llvmjit)
copy "$r" "$pg"/bin/* "${pglibs[@]}"
mkdir -p "$r/usr/share/postgresql" "$r/usr/share"
cp -r /usr/share/postgresql/15 "$r/usr/share/postgresql/15"
cp -r /usr/share/zoneinfo "$r/usr/share/zoneinfo"
install -d -o 999 -g 999 -m 0700 "$r/var/lib/postgresql/data"
install -d -o 999 -g 999 -m 0775 "$r/var/run/postgresql"
cat >"$r/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/bash
# Initialises the cluster on first start (POSTGRES_USER is its superuser, POSTGRES_PASSWORD its
# password, POSTGRES_DB created), then runs PostgreSQL in the foreground.
set -euo pipefail
: "${PGDATA:=/var/lib/postgresql/data}" "${POSTGRES_USER:=postgres}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile=<(printf '%s' "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}") \
    -A scram-sha-256 -E UTF8 --no-locale >/dev/null
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  if [ -n "${POSTGRES_DB:-}" ] && [ "$POSTGRES_DB" != postgres ]; then
    echo "CREATE DATABASE \"$POSTGRES_DB\"" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql
EOF
chmod 0755 "$r/usr/local/bin/docker-entrypoint.sh"
import "$r" "playrack/postgres:15-local" "ENV PATH=$pg/bin:/usr/local/bin:/usr/bin:/bin" \
  'ENV PGDATA=/var/lib/postgresql/data' 'USER 999' 'EXPOSE 5432' \
  'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]'
