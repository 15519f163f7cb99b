#!/usr/bin/env bash
# Starts (or stops) a throw-away PostgreSQL server for the test suites, on loopback only.
#
#   scripts/postgres.sh start   → prints the admin URL (postgres://playrack@127.0.0.1:PORT/postgres)
#   scripts/postgres.sh stop
#   scripts/postgres.sh suspend | resume   (an outage for fault drills; the data is kept)
#
# Uses Debian's postgresql binaries (scripts/install-deps.sh installs them). PostgreSQL refuses
# to run as root, so as root the cluster belongs to the `postgres` system user.
set -euo pipefail
dir=${PLAYRACK_PG_DIR:-/tmp/playrack-pg}
port=${PLAYRACK_PG_PORT:-54329}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bin" ]; then
  echo "postgres.sh: PostgreSQL is not installed (apt-get install postgresql, or run scripts/install-deps.sh)" >&2
  exit 1
fi
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
server_start() {
  as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
    start >/dev/null
}
case "${1:-start}" in
  start)
    if ! as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      rm -rf "$dir"
      mkdir -p "$dir"
      [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
      as_owner "$bin/initdb" -D "$dir" -A trust -U playrack -E UTF8 >"$dir.initdb.log" 2>&1 \
        || { cat "$dir.initdb.log" >&2; exit 1; }
      server_start
    fi
    echo "postgres://playrack@127.0.0.1:$port/postgres"
    ;;
  stop)
    as_owner "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true
    ;;
  suspend)
    # An outage for fault drills: the server stops, its data stays (resume brings it back).
    as_owner "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null
    ;;
  resume)
    server_start
    ;;
  *) echo "usage: $0 start|stop|suspend|resume" >&2; exit 2 ;;
esac
