#!/usr/bin/env bash
# Installs what welfare-posts needs on a Debian machine, only what is missing:
# the PostgreSQL 15 server and contrib (btree_gist, pgcrypto), and libpq's headers.
set -euo pipefail
missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
pkg-config --exists libpq 2>/dev/null || missing+=(libpq-dev)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
ls /usr/share/postgresql/*/extension/btree_gist.control >/dev/null 2>&1 || missing+=(postgresql-contrib)
if ((${#missing[@]})); then
  sudo=(); [[ $(id -u) == 0 ]] || sudo=(sudo)
  echo "installing: ${missing[*]}" >&2
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null 2>&1 || { echo "swift is not on PATH: install Swift 6 (swift.org) first" >&2; exit 1; }
# The tests open the Excel files the tool writes with Python's openpyxl (and make some with it).
if ! python3 -c 'import openpyxl' >/dev/null 2>&1; then
  echo "installing: openpyxl (PyPI)" >&2
  python3 -m pip install -q openpyxl >/dev/null 2>&1 || python3 -m pip install -q --break-system-packages openpyxl >/dev/null
fi
