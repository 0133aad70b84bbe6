#!/usr/bin/env bash
# Where the server's time of a person import of new persons goes (issue 17): N generated persons
# (default 200,000) inserted by `INSERT … SELECT` from a bare copy of the file, inside
# `BEGIN … ROLLBACK`, into copies of `person` (regular tables) carrying one part each: nothing,
# each check constraint alone, all eight, the primary key, the household index, everything; and
# into `person` itself, whose `EXPLAIN ANALYZE` names each trigger's time (the journal's,
# person_village_known, person_facts_in_order). Prints the least of ROUNDS runs (default 3) of
# each beside a bare COPY of the file. No goal: it says what each part costs.
# Runs on a throw-away cluster; needs the release build (it builds it).
# Usage: bench/person-parts.sh [N] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200000} rounds=${2:-3} data=bench/data
mkdir -p "$data"
[[ -f $data/persons-$n.csv ]] || python3 bench/generate.py persons "$n" "$data/regions.csv" "$data/persons-$n.csv"
source bench/setup.sh
psql "$url" -qc "CREATE TABLE bare (id_number text, name text, household_id text, village_code text, category text, labour_capacity text, bank_account text, phone text)"
copy_best=999999
for ((r = 0; r < rounds; r++)); do
  psql "$url" -qc "TRUNCATE bare"
  t=$(seconds psql "$url" -qc "\\copy bare FROM '$data/persons-$n.csv' WITH (FORMAT csv, HEADER true)")
  copy_best=$(echo "if ($t * 1000 < $copy_best) $t * 1000 else $copy_best" | bc)
done
columns="(county_code, id_number, name, household_id, village_code, category, labour_capacity, bank_account, phone)"
source_rows="SELECT left(village_code, 6), id_number, name, household_id, village_code, category, labour_capacity, bank_account, phone FROM bare"
# The least of the rounds' EXPLAIN ANALYZE output line matching $3, of an INSERT into $2 after $1.
least() {
  local best=999999 t
  for ((r = 0; r < rounds; r++)); do
    t=$(psql "$url" -qtA 2>/dev/null <<SQL | grep -o "$3[0-9.]*" | grep -o '[0-9.]*$'
BEGIN;
SET LOCAL enable_nestloop = off; SET LOCAL work_mem = '256MB';
$1
EXPLAIN (ANALYZE) INSERT INTO $2 $columns $source_rows;
ROLLBACK;
SQL
)
    best=$(echo "if ($t < $best) $t else $best" | bc)
  done
  echo "$best"
}
part() { printf '  %-48s %8.0f ms\n' "$1" "$(least "$2" "$3" 'Execution Time: ')"; }
echo "persons: $n; least of $rounds runs of each, server time"
printf '  %-48s %8.0f ms\n' "bare COPY of the file" "$copy_best"
part "a copy of person without constraints" "CREATE TABLE p (LIKE person INCLUDING DEFAULTS);" p
while IFS='|' read -r name definition; do
  part "  + check $name" "CREATE TABLE p (LIKE person INCLUDING DEFAULTS); ALTER TABLE p ADD CONSTRAINT c $definition;" p
done < <(psql "$url" -qtA -F '|' -c "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'person'::regclass AND contype = 'c' ORDER BY conname")
part "  + all eight checks" "CREATE TABLE p (LIKE person INCLUDING DEFAULTS INCLUDING CONSTRAINTS);" p
part "  + the primary key" "CREATE TABLE p (LIKE person INCLUDING DEFAULTS); ALTER TABLE p ADD PRIMARY KEY (id_number);" p
part "  + the household index" "CREATE TABLE p (LIKE person INCLUDING DEFAULTS); CREATE INDEX ON p (county_code, household_id);" p
part "  + checks and both indexes" "CREATE TABLE p (LIKE person INCLUDING ALL);" p
part "person itself (all of it, triggers included)" "TRUNCATE person CASCADE;" person
for trigger in journal_insert person_village_known_insert person_facts_in_order_insert; do
  printf '  %-48s %8.0f ms\n' "  of which the trigger $trigger" "$(least "TRUNCATE person CASCADE;" person "Trigger $trigger: time=")"
done
# The two dearest checks as they are and with octet_length (the same meaning: what ltrim leaves
# is empty or 'X' only when every character is ASCII), evaluated over the rows by a SELECT.
select_least() {
  local best=999999 t
  for ((r = 0; r < rounds; r++)); do
    t=$(psql "$url" -qtA -c "EXPLAIN (ANALYZE) SELECT count(*) FILTER (WHERE $1) FROM bare" | grep -o 'Execution Time: [0-9.]*' | grep -o '[0-9.]*$')
    best=$(echo "if ($t < $best) $t else $best" | bc)
  done
  printf '  %-48s %8.1f ms\n' "$2" "$best"
}
echo "the two dearest checks, evaluated over the rows by a SELECT:"
select_least "true" "nothing"
select_least "length(id_number) = 18 AND ltrim(id_number, '0123456789') = ANY (ARRAY['', 'X'])" "resident_id"
select_least "octet_length(id_number) = 18 AND ltrim(id_number, '0123456789') = ANY (ARRAY['', 'X'])" "resident_id with octet_length"
select_least "length(bank_account) >= 10 AND length(bank_account) <= 30 AND ltrim(bank_account, '0123456789') = ''" "bank_account"
select_least "octet_length(bank_account) BETWEEN 10 AND 30 AND ltrim(bank_account, '0123456789') = ''" "bank_account with octet_length"
stored=$(psql "$url" -tAc "SELECT count(*) FROM person")
[[ $stored == 0 ]] || { echo "FAILED: the rolled back inserts left $stored persons" >&2; exit 1; }
