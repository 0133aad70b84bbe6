#!/usr/bin/env bash
# Times `welfare-posts payroll run` for one month over N placements in one province (default
# 1,000,000: 20 counties, 4,800 villages), beside the simplest hand-written INSERT … SELECT of
# the same lines into a table without constraints, and times `payroll export` of that month.
# The data is made in SQL on a throw-away cluster: persons, approved posts, placements with
# contracts (a tenth starting mid-month, a twentieth exiting), assessments (a fiftieth failed).
# The run and the hand-written INSERT take turns ROUNDS times (default 3), each round on its own
# copy of the database as made (CREATE DATABASE … TEMPLATE), so every round starts from the
# same rows and neither always goes first; medians are compared. The checks (the same lines,
# every line journaled, `journal verify`) are made on the last round's copy.
# Usage: bench/payroll.sh [N] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
rounds=${2:-3}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a whole number of at least 1, not '$rounds' (usage: bench/payroll.sh [N] [ROUNDS])" >&2; exit 2; }
source bench/setup.sh
made=$(seconds psql "$url" -v ON_ERROR_STOP=1 -q -v n="$n" <<'SQL'
INSERT INTO pay_standard (region_code, post_type, effective_from, monthly_fen, social_insurance_fen)
SELECT '320000000000', code, '2026-01-01', 80000 + position * 5000, 30000 FROM post_type;
CREATE TEMP TABLE v AS SELECT row_number() OVER (ORDER BY code) - 1 AS i, code FROM region WHERE level = 5;
INSERT INTO person (county_code, id_number, name, household_id, village_code, category, labour_capacity, bank_account)
-- Unique IDs: g mod 84 gives month and day (12 and 28 meet every 84), g / 84 the year and order code.
SELECT left(v.code, 6), left(v.code, 6) || (1960 + g / 84 / 1000)::text || lpad((1 + g % 12)::text, 2, '0')
       || lpad((1 + g % 28)::text, 2, '0') || lpad((g / 84 % 1000)::text, 3, '0') || '0',
       '某某', 'H' || g, v.code, 'poverty-alleviated', 'weak', '6228' || lpad(g::text, 12, '0')
FROM generate_series(0, :n - 1) g JOIN v ON v.i = g % (SELECT count(*) FROM v);
INSERT INTO post (id, county_code, region_code, post_type, funding_channel, developer, need, state, proposed_on, approved_on)
SELECT left(village_code, 6) || '-' || lpad(row_number() OVER (PARTITION BY left(village_code, 6) ORDER BY id_number)::text, 6, '0'),
       left(village_code, 6), village_code, (ARRAY['cleaner','road-keeper','forest-ranger','water-keeper','security-patrol','elder-care'])[1 + abs(hashtext(id_number)) % 6],
       (ARRAY['rural-revitalization','employment-fund','local-fiscal','east-west'])[1 + abs(hashtext(id_number || 'f')) % 4],
       '镇人民政府', '保洁', 'approved', '2025-12-01', '2025-12-15'
FROM person;
CREATE TEMP TABLE pairs AS
SELECT p.id_number, po.id AS post_id, p.county_code, row_number() OVER () AS k
FROM (SELECT id_number, county_code, row_number() OVER (PARTITION BY county_code ORDER BY id_number) AS r FROM person) p
JOIN (SELECT id, county_code, row_number() OVER (PARTITION BY county_code ORDER BY id) AS r FROM post) po
  ON po.county_code = p.county_code AND po.r = p.r;
INSERT INTO placement (county_code, post_id, id_number, start_on, exit_on, exit_reason)
SELECT county_code, post_id, id_number, CASE WHEN k % 10 = 0 THEN date '2026-06-16' ELSE date '2026-01-01' END,
       CASE WHEN k % 20 = 1 THEN date '2026-06-10' END, CASE WHEN k % 20 = 1 THEN 'resigned' END FROM pairs;
INSERT INTO contract (county_code, placement_id, start_on, end_on) SELECT county_code, id, start_on, date '2026-12-31' FROM placement;
INSERT INTO assessment (county_code, placement_id, month, result, absent_days)
SELECT county_code, id, date '2026-06-01', CASE WHEN id % 50 = 0 THEN 'fail' ELSE 'pass' END, id % 3 FROM placement WHERE id % 5 = 0;
VACUUM ANALYZE;
SQL
)
psql "$url" -qc "CREATE TABLE bare_line (county_code text, id_number text, post_id text, days int, post_subsidy_fen bigint, social_insurance_fen bigint)"
# The practical limit: one statement, the standard looked up directly, no deaths, one contract each.
hand="SELECT pl.county_code, pl.id_number, pl.post_id, d.days,
       CASE WHEN a.result = 'fail' THEN 0 ELSE round(s.monthly_fen * greatest(0, d.days - coalesce(a.absent_days, 0))::numeric / 30) END AS post_subsidy_fen,
       round(s.social_insurance_fen * d.days::numeric / 30) AS social_insurance_fen
FROM placement pl JOIN contract c ON c.placement_id = pl.id JOIN post p ON p.id = pl.post_id
JOIN pay_standard s ON s.region_code = '320000000000' AND s.post_type = p.post_type
LEFT JOIN assessment a ON a.placement_id = pl.id AND a.month = '2026-06-01'
CROSS JOIN LATERAL (SELECT least(c.end_on, coalesce(pl.exit_on, c.end_on), date '2026-06-30')
                           - greatest(c.start_on, pl.start_on, date '2026-06-01') + 1 AS days) d
WHERE d.days > 0"
# The journal's triggers on payroll_line and payroll_run, disabled for a run without the journal.
journal_triggers() {
  psql "$url" -v ON_ERROR_STOP=1 -qc "DO \$\$ DECLARE t record; BEGIN
    FOR t IN SELECT tgrelid::regclass AS rel, tgname FROM pg_trigger
             WHERE tgrelid IN ('payroll_line'::regclass, 'payroll_run'::regclass) AND tgname LIKE 'journal%' AND NOT tgisinternal LOOP
      EXECUTE format('ALTER TABLE %s $1 TRIGGER %I', t.rel, t.tgname);
    END LOOP; END \$\$"
}
bares=() runs=() unjournaleds=()
for ((round = 1; round <= rounds; round++)); do
  PGOPTIONS="-c client_min_messages=warning" psql "$base" -qc "DROP DATABASE IF EXISTS round" -c "CREATE DATABASE round TEMPLATE bench"
  url=${base/dbname=postgres/dbname=round}
  if (( round % 2 )); then
    bares+=("$(seconds psql "$url" -v ON_ERROR_STOP=1 -qc "INSERT INTO bare_line $hand")")
    runs+=("$(seconds "$bin" payroll run 2026-06 --database "$url")")
  else
    runs+=("$(seconds "$bin" payroll run 2026-06 --database "$url")")
    bares+=("$(seconds psql "$url" -v ON_ERROR_STOP=1 -qc "INSERT INTO bare_line $hand")")
  fi
  if (( round == rounds )); then
    lines=$(psql "$url" -tAc "SELECT count(*) FROM payroll_line WHERE month = '2026-06-01'")
    # Every line in the journal (sql/0029: one derived entry per county-month, with the number,
    # total and digest of its regular lines), and `journal verify` recomputing the digests from
    # the lines (it exits 1 when they differ).
    journaled=$(psql "$url" -tAc "SELECT coalesce(sum((row_after ->> 'lines')::bigint), 0) FROM journal
      WHERE table_name = 'payroll_line' AND operation = 'INSERT' AND row_after ->> 'lines_digest' IS NOT NULL AND row_after ->> 'month' = '2026-06-01'")
    verified=no
    s=$(date +%s.%N)
    "$bin" journal verify --database "$url" >/dev/null && verified=yes
    verify=$(echo "$(date +%s.%N) - $s" | bc)
    same=$(psql "$url" -tAc "SELECT count(*) FROM (SELECT id_number, post_id, post_subsidy_fen + social_insurance_fen FROM bare_line EXCEPT ALL SELECT id_number, post_id, total_fen FROM payroll_line) d")
  fi
  # The same run without the journal: the month's lines and run removed with triggers off, the
  # journal's triggers disabled for one run, then enabled again.
  psql "$url" -v ON_ERROR_STOP=1 -qc "SET session_replication_role = replica; DELETE FROM payroll_line WHERE month = '2026-06-01'; DELETE FROM payroll_run WHERE month = '2026-06-01'"
  psql "$url" -qc "VACUUM ANALYZE payroll_line"
  journal_triggers DISABLE
  unjournaleds+=("$(seconds "$bin" payroll run 2026-06 --database "$url")")
  journal_triggers ENABLE
done
bare=$(printf '%s\n' "${bares[@]}" | median)
run=$(printf '%s\n' "${runs[@]}" | median)
unjournaled=$(printf '%s\n' "${unjournaleds[@]}" | median)
# What is due alone (payroll_due, the run's SELECT) beside the hand-written SELECT of the same
# lines, taking turns, the median of three each; and whether they give the same lines.
settings="SET jit = off; SET work_mem = '256MB'; SET enable_nestloop = off; SET enable_mergejoin = off;"
due_times=() hand_times=()
for _ in 1 2 3; do
  hand_times+=("$(seconds psql "$url" -qc "$settings SELECT count(h.*) FROM ($hand) h")")
  due_times+=("$(seconds psql "$url" -qc "$settings SELECT count(d.*) FROM payroll_due('2026-06-01', '2026-06-01', '') d")")
done
hand_select=$(printf '%s\n' "${hand_times[@]}" | median)
due=$(printf '%s\n' "${due_times[@]}" | median)
due_differs=$(psql "$url" -tAc "$settings SELECT (SELECT count(*) FROM (SELECT id_number, post_id, d.days, d.post_subsidy_fen, d.social_insurance_fen FROM ($hand) d
    EXCEPT ALL SELECT id_number, post_id, days_in_post, post_subsidy_fen, social_insurance_fen FROM payroll_due('2026-06-01', '2026-06-01', '')) x)
  + (SELECT count(*) FROM (SELECT id_number, post_id, days_in_post, post_subsidy_fen, social_insurance_fen FROM payroll_due('2026-06-01', '2026-06-01', '')
    EXCEPT ALL SELECT id_number, post_id, d.days, d.post_subsidy_fen, d.social_insurance_fen FROM ($hand) d) y)" | tail -1)
export=$(seconds "$bin" payroll export 2026-06 --draft --database "$url" --output bench/data/payroll-2026-06.csv)
ratio() { echo "$1 / $2" | bc -l; }
printf 'placements: %s; data made in %.1f s\n' "$n" "$made"
printf 'hand-written INSERT ... SELECT:        %6.2f s  (median of %s: %s)\n' "$bare" "$rounds" "${bares[*]}"
printf 'payroll run 2026-06:                   %6.2f s  (%.2fx; goal 2x), %s lines; lines differing from the hand-written ones: %s (median of %s: %s)\n' \
  "$run" "$(ratio "$run" "$bare")" "$lines" "$same" "$rounds" "${runs[*]}"
printf 'payroll run 2026-06 without journal:   %6.2f s  (%.2fx; median of %s: %s)\n' "$unjournaled" "$(ratio "$unjournaled" "$bare")" "$rounds" "${unjournaleds[*]}"
printf 'hand-written SELECT (median of 3):     %6.2f s\n' "$hand_select"
printf 'payroll_due, one month (median of 3):  %6.2f s  (%.2fx), rows differing from the hand-written SELECT: %s\n' \
  "$due" "$(ratio "$due" "$hand_select")" "$due_differs"
printf 'payroll export 2026-06:                %6.2f s  (%s bytes)\n' "$export" "$(stat -c %s "$(ls -t bench/data/payroll-2026-06*.csv | head -1)")"
printf 'payroll lines in the journal:          %s (derived entries); journal verify: %s, %.2f s\n' "$journaled" "$verified" "$verify"
failed=0
[[ $same == 0 && $due_differs == 0 ]] || { echo "FAILED: the lines differ from the hand-written ones" >&2; failed=1; }
[[ $journaled == "$lines" ]] || { echo "FAILED: $journaled of $lines lines journaled" >&2; failed=1; }
[[ $verified == yes ]] || { echo "FAILED: journal verify after the run" >&2; failed=1; }
(( $(echo "$run <= 2 * $bare" | bc) )) || { echo "goal missed: payroll run more than 2x the hand-written INSERT ... SELECT" >&2; failed=1; }
exit $failed
