#!/usr/bin/env bash
# Times `welfare-posts person import` of N generated persons (default 1,000,000) against a bare
# COPY of the same file into an unconstrained table (the practical limit), and prints both and
# the ratio; then the same import into a second database whose person table is not journaled,
# to show what the journal costs (budget: at most 2x). Runs on a throw-away cluster; needs the
# release build (it builds it).
# Usage: bench/person-import.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
data=bench/data; mkdir -p "$data"
[[ -f $data/persons-$n.csv ]] || python3 bench/generate.py persons "$n" "$data/regions.csv" "$data/persons-$n.csv"
source bench/setup.sh
psql "$url" -qc "CREATE TABLE bare (id_number text, name text, household_id text, village_code text, category text, labour_capacity text, bank_account text, phone text)"
bare=$(seconds psql "$url" -qc "\\copy bare FROM '$data/persons-$n.csv' WITH (FORMAT csv, HEADER true)")
import=$(seconds "$bin" person import "$data/persons-$n.csv" --database "$url")
again=$(seconds "$bin" person import "$data/persons-$n.csv" --database "$url")
rows=$(psql "$url" -tAc "SELECT count(*) FROM person")
entries=$(psql "$url" -tAc "SELECT count(*) FROM journal WHERE table_name = 'person'")
psql "$base" -qc "CREATE DATABASE unjournaled"
bare_url=${base/dbname=postgres/dbname=unjournaled}
"$bin" db migrate --database "$bare_url" >/dev/null
"$bin" region import "$data/regions.csv" --database "$bare_url" >/dev/null
psql "$bare_url" -qc "ALTER TABLE person DISABLE TRIGGER journal_insert, DISABLE TRIGGER journal_update"
unjournaled=$(seconds "$bin" person import "$data/persons-$n.csv" --database "$bare_url")
printf 'persons: %s rows (%s in the table)\n' "$n" "$rows"
printf 'bare COPY into a table without constraints:%6.2f s\n' "$bare"
printf 'person import (new persons):           %6.2f s  (%.1fx)\n' "$import" "$(echo "$import / $bare" | bc -l)"
printf 'person import again (nothing changes): %6.2f s  (%.1fx)\n' "$again" "$(echo "$again / $bare" | bc -l)"
printf 'person import without the journal:     %6.2f s; the journal (%s entries) costs %.2fx\n' "$unjournaled" "$entries" "$(echo "$import / $unjournaled" | bc -l)"
