#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster for one test process and prints its connection string.
# The cluster lives in a fresh temporary folder, listens only on a Unix socket in that folder,
# runs with fsync off, and is stopped and deleted as soon as process WATCH_PID ends.
# As root the server runs as the `postgres` user (initdb and pg_ctl refuse root).
# Usage: throwaway-cluster.sh WATCH_PID
set -euo pipefail
watch_pid=${1:?usage: throwaway-cluster.sh WATCH_PID}
# Close every inherited descriptor but 0-2, so neither the server nor the watchdog holds one
# the caller waits on (Foundation's Process does, swift-corelibs-foundation#4795).
for fd in /proc/$$/fd/*; do fd=${fd##*/}; if [[ $fd -gt 2 ]]; then eval "exec $fd>&-" 2>/dev/null || true; fi; done
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -x $bin/initdb ]] || { echo "PostgreSQL server binaries not found: run deploy/install.sh" >&2; exit 1; }
dir=$(mktemp -d /tmp/wpt.XXXXXX)
as_server=()
user=$(id -un)
if [[ $(id -u) == 0 ]]; then
  chown postgres: "$dir"
  as_server=(runuser -u postgres --)
  user=postgres
fi
"${as_server[@]}" "$bin/initdb" -D "$dir/data" -U "$user" -A trust --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
"${as_server[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-c listen_addresses='' -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null </dev/null || { cat "$dir/server.log" >&2; exit 1; }
# The watchdog.
(
  while [[ -d /proc/$watch_pid ]]; do sleep 1; done
  "${as_server[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
) </dev/null >/dev/null 2>&1 &
echo "host=$dir user=$user dbname=postgres"
