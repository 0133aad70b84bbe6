#!/usr/bin/env bash
# Times `welfare-posts person import` of N generated persons (default 1,000,000) against a bare
# COPY of the same file into an unconstrained table (the practical limit), and against the same
# import into a second database whose person table is not journaled, to show what the journal
# costs (budget: at most 2x). The machine is shared and single runs vary by a quarter, so each
# import runs ROUNDS times (default 3), journaled and not taking turns on an emptied table, and
# the medians are compared. Runs on a throw-away cluster; needs the release build (it builds it).
# Usage: bench/person-import.sh [N] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
rounds=${2:-3}
data=bench/data; mkdir -p "$data"
[[ -f $data/persons-$n.csv ]] || python3 bench/generate.py persons "$n" "$data/regions.csv" "$data/persons-$n.csv"
source bench/setup.sh
psql "$url" -qc "CREATE TABLE bare (id_number text, name text, household_id text, village_code text, category text, labour_capacity text, bank_account text, phone text)"
bare=$(seconds psql "$url" -qc "\\copy bare FROM '$data/persons-$n.csv' WITH (FORMAT csv, HEADER true)")
psql "$base" -qc "CREATE DATABASE unjournaled"
bare_url=${base/dbname=postgres/dbname=unjournaled}
"$bin" db migrate --database "$bare_url" >/dev/null
"$bin" region import bench/data/regions.csv --database "$bare_url" >/dev/null
psql "$bare_url" -qc "ALTER TABLE person DISABLE TRIGGER journal_insert, DISABLE TRIGGER journal_update"
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
journaled=(); unjournaled=()
for ((i = 1; i <= rounds; i++)); do
  psql "$url" -qc "TRUNCATE person CASCADE" 2>/dev/null
  psql "$bare_url" -qc "TRUNCATE person CASCADE" 2>/dev/null
  journaled+=("$(seconds "$bin" person import "$data/persons-$n.csv" --database "$url")")
  unjournaled+=("$(seconds "$bin" person import "$data/persons-$n.csv" --database "$bare_url")")
done
again=$(seconds "$bin" person import "$data/persons-$n.csv" --database "$url")
import=$(printf '%s\n' "${journaled[@]}" | median)
without=$(printf '%s\n' "${unjournaled[@]}" | median)
rows=$(psql "$url" -tAc "SELECT count(*) FROM person")
# The journal (sql/0023): a bulk statement's rows in one entry per county and hash group; every
# inserted person must be in it, row by row, once per round.
entries=$(psql "$url" -tAc "SELECT count(*) FROM journal WHERE table_name = 'person' AND operation = 'INSERT'")
journaled_rows=$(psql "$url" -tAc "SELECT count(*) FROM journal_row WHERE table_name = 'person' AND operation = 'INSERT'")
printf 'persons: %s rows (%s in the table; %s journal entries holding %s inserted persons over %s rounds)\n' "$n" "$rows" "$entries" "$journaled_rows" "$rounds"
printf 'bare COPY into a table without constraints:%6.2f s\n' "$bare"
printf 'person import (new persons), median:    %6.2f s  (%.1fx)  runs: %s\n' "$import" "$(echo "$import / $bare" | bc -l)" "${journaled[*]}"
printf 'person import without the journal:      %6.2f s  runs: %s\n' "$without" "${unjournaled[*]}"
printf 'the journal costs (median over median):  %.2fx\n' "$(echo "$import / $without" | bc -l)"
printf 'person import again (nothing changes):  %6.2f s  (%.1fx)\n' "$again" "$(echo "$again / $bare" | bc -l)"
ratio=$(echo "$import / $bare" | bc -l)
failed=0
if [[ $rows != "$n" || $journaled_rows != $((n * rounds)) ]]; then
  printf 'FAILED: %s persons in the table and %s journaled, expected %s and %s\n' "$rows" "$journaled_rows" "$n" "$((n * rounds))"; failed=1
fi
if (( $(echo "$ratio > 4" | bc -l) )); then
  printf 'GOAL MISSED: person import with the journal is %.1fx a bare COPY (goal 4x)\n' "$ratio"; failed=1
else
  printf 'goal met: person import with the journal is %.1fx a bare COPY (goal 4x)\n' "$ratio"
fi
exit $failed
