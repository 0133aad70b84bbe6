#!/usr/bin/env bash
# Times `person import` by two builds taking turns on one throw-away cluster, each on its own
# database: a new file of N generated persons, then the same file again, beside a bare COPY of
# the file into a table without constraints, ROUNDS times (default 3). Prints each run's seconds
# and the load average; checks that both builds stored the same persons (every column but the
# times) and exits non-zero when they differ; each build migrates its own database. OTHER is the other build's binary (e.g. a release
# build of an earlier commit in a worktree of its own); this one is built here.
# Usage: bench/person-import-beside.sh OTHER_BINARY [N] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:?usage: bench/person-import-beside.sh OTHER_BINARY [N] [ROUNDS]}
n=${2:-200000}
rounds=${3:-3}
swift build -c release --product welfare-posts >/dev/null
new=$(swift build -c release --show-bin-path)/welfare-posts
data=bench/data; mkdir -p "$data"
[[ -f $data/regions.csv ]] || python3 bench/generate.py regions "$data/regions.csv"
[[ -f $data/persons-$n.csv ]] || python3 bench/generate.py persons "$n" "$data/regions.csv" "$data/persons-$n.csv"
base=$(bash deploy/throwaway-cluster.sh $$)
seconds() { local s; s=$(date +%s.%N); "$@" >/dev/null; echo "$(date +%s.%N) - $s" | bc; }
# Each build on a database of its own migrations (a: the other build's, b: this one's), so a
# change to a migration (the journal's trigger) is timed too.
for db in a b; do
  psql "$base" -qc "CREATE DATABASE $db"
  url=${base/dbname=postgres/dbname=$db}
  build=$new; [[ $db == a ]] && build=$old
  "$build" db migrate --database "$url" >/dev/null
  "$build" region import "$data/regions.csv" --database "$url" >/dev/null
done
ua=${base/dbname=postgres/dbname=a}; ub=${base/dbname=postgres/dbname=b}
psql "$ua" -qc "CREATE TABLE bare (id_number text, name text, household_id text, village_code text, category text, labour_capacity text, bank_account text, phone text)"
for ((i = 1; i <= rounds; i++)); do
  psql "$ua" -qc "TRUNCATE bare"
  psql "$ua" -qc "TRUNCATE person CASCADE" 2>/dev/null; psql "$ub" -qc "TRUNCATE person CASCADE" 2>/dev/null
  echo "round $i, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "  bare COPY             $(seconds psql "$ua" -qc "\\copy bare FROM '$data/persons-$n.csv' WITH (FORMAT csv, HEADER true)")"
  echo "  other build, new file $(seconds "$old" person import "$data/persons-$n.csv" --database "$ua")"
  echo "  this build, new file  $(seconds "$new" person import "$data/persons-$n.csv" --database "$ub")"
  echo "  other build, again    $(seconds "$old" person import "$data/persons-$n.csv" --database "$ua")"
  echo "  this build, again     $(seconds "$new" person import "$data/persons-$n.csv" --database "$ub")"
done
digest="count(*) || ' ' || md5(string_agg(concat_ws('|', id_number, name, household_id, village_code, category, labour_capacity, bank_account, phone, facts_from, county_code), ',' ORDER BY id_number))"
a=$(psql "$ua" -tAc "SELECT $digest FROM person"); b=$(psql "$ub" -tAc "SELECT $digest FROM person")
echo "persons stored by the other build: $a"
echo "persons stored by this build:      $b"
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
[[ $a == "$b" ]] || { echo "FAILED: the two builds stored different persons" >&2; exit 1; }
