#!/usr/bin/env bash
# Times `welfare-posts person import` of N generated persons (default 1,000,000) against a bare
# COPY of the same file into an unconstrained table (the practical limit), and against the same
# import into a second database whose person table is not journaled, to show what the journal
# costs. The machine is shared and single runs vary by a quarter, so each import runs ROUNDS
# times (default 3), journaled and not taking turns on an emptied table, and the medians are
# compared; the bare COPY runs in every round too, and its median is the limit.
#
# Goals (issue 17): a new file at most 4x the bare COPY (journal included), the same file again
# (nothing changes) at most 2x. Checks that the imported persons equal the file's rows (the
# same values, compared as one digest of all rows) and that `journal verify` passes. Then one
# more import of each kind with every statement's time logged by the server, to say where the
# time goes. Exits non-zero
# when a goal is missed or the persons differ from the file.
# Runs on a throw-away cluster; needs the release build (it builds it).
# Usage: bench/person-import.sh [N] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
rounds=${2:-3}
data=bench/data; mkdir -p "$data"
[[ -f $data/persons-$n.csv ]] || python3 bench/generate.py persons "$n" "$data/regions.csv" "$data/persons-$n.csv"
source bench/setup.sh
log="${base#host=}"; log="${log%% *}/server.log"
psql "$url" -qc "CREATE TABLE bare (id_number text, name text, household_id text, village_code text, category text, labour_capacity text, bank_account text, phone text)"
psql "$base" -qc "CREATE DATABASE unjournaled"
bare_url=${base/dbname=postgres/dbname=unjournaled}
"$bin" db migrate --database "$bare_url" >/dev/null
"$bin" region import bench/data/regions.csv --database "$bare_url" >/dev/null
psql "$bare_url" -qc "ALTER TABLE person DISABLE TRIGGER journal_insert, DISABLE TRIGGER journal_update"
ratio() { echo "$1 / $2" | bc -l; }
copies=(); journaled=(); unjournaled=(); agains=()
for ((i = 1; i <= rounds; i++)); do
  psql "$url" -qc "TRUNCATE bare"
  psql "$url" -qc "TRUNCATE person CASCADE" 2>/dev/null
  psql "$bare_url" -qc "TRUNCATE person CASCADE" 2>/dev/null
  copies+=("$(seconds psql "$url" -qc "\\copy bare FROM '$data/persons-$n.csv' WITH (FORMAT csv, HEADER true)")")
  journaled+=("$(seconds "$bin" person import "$data/persons-$n.csv" --database "$url")")
  unjournaled+=("$(seconds "$bin" person import "$data/persons-$n.csv" --database "$bare_url")")
  agains+=("$(seconds "$bin" person import "$data/persons-$n.csv" --database "$url")")
done
bare=$(printf '%s\n' "${copies[@]}" | median)
import=$(printf '%s\n' "${journaled[@]}" | median)
without=$(printf '%s\n' "${unjournaled[@]}" | median)
again=$(printf '%s\n' "${agains[@]}" | median)
# The persons must be the file's rows: same count, same values (village codes and labels as
# written; the generator writes codes, so they are stored as they are).
digest="count(*) || ' ' || md5(string_agg(concat_ws('|', id_number, name, household_id, village_code, category, labour_capacity, bank_account, phone), ',' ORDER BY id_number))"
stored=$(psql "$url" -tAc "SELECT $digest FROM person")
filed=$(psql "$url" -tAc "SELECT $digest FROM bare")
entries=$(psql "$url" -tAc "SELECT count(*) FROM journal WHERE table_name = 'person' AND operation = 'INSERT'")

# Where the time goes: one more import of each kind, every statement's server time logged.
breakdown() {
  : > "$log"
  PGOPTIONS="-c log_min_duration_statement=0" "$@" >/dev/null
  grep -o 'duration: [0-9.]* ms  \(statement\|execute [^:]*\): .*' "$log" | awk '
    { ms = $2; sub(/^duration: [0-9.]* ms  (statement|execute [^:]*): /, ""); text = substr($0, 1, 60)
      part = "other (connect, vocabulary, locks, commit)"
      if (text ~ /^COPY person_stage/) part = "COPY into staging (changed rows; all rows on the staged path)"
      else if (text ~ /^COPY person \(/) part = "read and check in Swift, COPY new persons into person (indexes, checks, triggers)"
      else if (text ~ /^COPY \(SELECT id_number/) part = "fetch the stored persons (fingerprints)"
      else if (text ~ /village_code. AS key/ || text ~ /operator_scope/ || text ~ /^COPY \(SELECT code FROM region/) part = "set-wise checks (villages, region)"
      else if (text ~ /^CREATE TEMP TABLE person_change/) part = "find changed persons (join with person)"
      else if (text ~ /^INSERT INTO person \(/) part = "insert new persons (indexes, constraints, journal trigger)"
      else if (text ~ /^UPDATE person / || text ~ /person_history/) part = "update changed persons and their history"
      t[part] += ms; total += ms }
    END { for (p in t) printf "    %-75s %8.0f ms\n", p, t[p]; printf "    %-75s %8.0f ms\n", "all statements", total }'
}
psql "$url" -qc "TRUNCATE person CASCADE" 2>/dev/null
echo "where the time goes, new persons (journaled):"
breakdown "$bin" person import "$data/persons-$n.csv" --database "$url"
echo "where the time goes, the same file again:"
breakdown "$bin" person import "$data/persons-$n.csv" --database "$url"

printf 'persons: %s rows; in the table and in the file: %s / %s (%s journal entries of inserted persons over %s rounds)\n' \
  "$n" "$stored" "$filed" "$entries" "$((rounds + 1))"
printf 'bare COPY into a table without constraints, median: %6.2f s  runs: %s\n' "$bare" "${copies[*]}"
printf 'person import (new persons), median:   %6.2f s  (%.1fx, goal 4x)  runs: %s\n' "$import" "$(ratio "$import" "$bare")" "${journaled[*]}"
printf 'person import without the journal:     %6.2f s  (%.1fx)  runs: %s\n' "$without" "$(ratio "$without" "$bare")" "${unjournaled[*]}"
printf 'the journal costs (median over median): %.2fx\n' "$(ratio "$import" "$without")"
printf 'person import again (nothing changes): %6.2f s  (%.1fx, goal 2x)  runs: %s\n' "$again" "$(ratio "$again" "$bare")" "${agains[*]}"
# The journal (sql/0023): a bulk statement's rows in one entry per county and hash group; every
# inserted person must be in it, row by row, once per import of new persons.
journaled_rows=$(psql "$url" -tAc "SELECT count(*) FROM journal_row WHERE table_name = 'person' AND operation = 'INSERT'")
printf 'inserted persons in the journal, row by row: %s (expected %s)\n' "$journaled_rows" "$((n * (rounds + 1)))"
# One person's history among those bulk entries: `journal show --entity` unpacks only the
# entries whose text names the key; the person was inserted once per import of new persons.
someone=$(sed -n "$(( (n + 1) / 2 + 1 ))p" "$data/persons-$n.csv" | cut -d, -f1)
show_time=$(seconds "$bin" journal show --entity "person:$someone" --database "$url")
shown=$("$bin" journal show --entity "person:$someone" --format csv --database "$url" | grep -c ',INSERT,person,' || true)
printf 'journal show --entity person:%s: %6.2f s, %s inserts listed (expected %s)\n' "$someone" "$show_time" "$shown" "$((rounds + 1))"
# A few rows into the full table: the direct path (which fetches every stored person first) is
# taken only for a file that is not a small part of the table, so 100 rows stay quick.
psql "$url" -qc "ANALYZE person"
head -n 101 "$data/persons-$n.csv" > "$data/persons-few.csv"
few_time=$(seconds "$bin" person import "$data/persons-few.csv" --database "$url")
printf 'person import of 100 stored persons into the %s: %6.2f s\n' "$n" "$few_time"
# The journal's chain and every entry's digest, recomputed from what is stored (sql/0040 changed
# how a bulk entry's text is made, not the text).
started=$(date +%s.%N)
if "$bin" journal verify --database "$url" >/dev/null; then verified=yes; else verified=no; fi
verify_time=$(echo "$(date +%s.%N) - $started" | bc)
printf 'journal verify: %s (%6.2f s)\n' "$verified" "$verify_time"
status=0
[[ $verified == yes ]] || { echo "FAILED: journal verify" >&2; status=1; }
(( $(echo "$few_time <= 1" | bc) )) || { echo "MISSED: importing 100 rows into the full table took more than a second" >&2; status=1; }
[[ $shown == $((rounds + 1)) ]] || { echo "FAILED: journal show does not list every insert of one person" >&2; status=1; }
(( $(echo "$show_time <= 1" | bc) )) || { echo "MISSED: journal show --entity took more than a second" >&2; status=1; }
[[ $stored == "$filed" ]] || { echo "FAILED: the persons stored differ from the file's rows" >&2; status=1; }
[[ $journaled_rows == $((n * (rounds + 1))) ]] || { echo "FAILED: not every inserted person is in the journal" >&2; status=1; }
(( $(echo "$import <= 4 * $bare" | bc) )) || { echo "MISSED: a new file takes more than 4x the bare COPY" >&2; status=1; }
(( $(echo "$again <= 2 * $bare" | bc) )) || { echo "MISSED: the same file again takes more than 2x the bare COPY" >&2; status=1; }
exit $status
