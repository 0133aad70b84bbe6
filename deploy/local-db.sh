#!/usr/bin/env bash
# A local PostgreSQL cluster for trying welfare-posts, kept between runs.
#   deploy/local-db.sh start   create (first time) and start it; prints the connection string
#   deploy/local-db.sh stop    stop it
#   deploy/local-db.sh url     print the connection string
# Data folder: $WELFARE_POSTS_DATA, else ~/.local/share/welfare-posts/postgres for a user, or
# /var/lib/welfare-posts/postgres as root (the server then runs as the `postgres` user).
# It listens only on a Unix socket in that folder: no port to collide with.
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -x ${bin:-}/initdb ]] || { echo "PostgreSQL is not installed: run deploy/install.sh" >&2; exit 1; }
as_server=(); user=$(id -un)
if [[ $(id -u) == 0 ]]; then
  data=${WELFARE_POSTS_DATA:-/var/lib/welfare-posts/postgres}
  as_server=(runuser -u postgres --); user=postgres
else
  data=${WELFARE_POSTS_DATA:-$HOME/.local/share/welfare-posts/postgres}
fi
url="host=$data user=$user dbname=welfare_posts"
case ${1:-} in
  start)
    if [[ ! -f $data/PG_VERSION ]]; then
      mkdir -p "$data"
      [[ $(id -u) == 0 ]] && chown postgres: "$data" && chmod 700 "$data"
      "${as_server[@]}" "$bin/initdb" -D "$data" -U "$user" -A peer -E UTF8 --locale=C.UTF-8 >/dev/null
      [[ $(id -u) == 0 ]] && sed -i "s/^local *all *all *peer.*/local all all trust/" "$data/pg_hba.conf"
    fi
    if ! "${as_server[@]}" "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      "${as_server[@]}" "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
        -o "-c listen_addresses='' -c unix_socket_directories=$data" start >/dev/null </dev/null
    fi
    "${as_server[@]}" "$bin/psql" -h "$data" -U "$user" -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = 'welfare_posts'" | grep -q 1 \
      || "${as_server[@]}" "$bin/createdb" -h "$data" -U "$user" welfare_posts
    echo "$url" ;;
  stop) "${as_server[@]}" "$bin/pg_ctl" -D "$data" -m fast stop ;;
  url) echo "$url" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
