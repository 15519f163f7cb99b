#!/usr/bin/env bash
# Makes sure a Docker engine is running (Debian's docker.io; scripts/install-deps.sh installs
# it). Starts `dockerd` in the background if none answers, and waits until it does.
set -euo pipefail
if docker info >/dev/null 2>&1; then exit 0; fi
command -v dockerd >/dev/null || { echo "dockerd.sh: dockerd is not installed (apt-get install docker.io)" >&2; exit 1; }
if [ "$(id -u)" != 0 ]; then echo "dockerd.sh: starting dockerd needs root" >&2; exit 1; fi
log=${PLAYRACK_DOCKERD_LOG:-/tmp/playrack-dockerd.log}
nohup dockerd >"$log" 2>&1 &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then exit 0; fi
  sleep 1
done
echo "dockerd.sh: dockerd did not come up; its log:" >&2
tail -n 30 "$log" >&2
exit 1
