#!/usr/bin/env bash
# Times `welfare-posts audit violations` over a province (default 1,000,000 persons: 20
# counties, 4,800 villages, 300,000 posts, 12 months of approved payroll and of the bank's
# payments), with cases of every rule planted at known rates, and prints:
#   - the whole report, and `audit summary`, through the binary (the report and payroll_due
#     taking turns ROUNDS times, default 3, and compared by their medians: a single run of
#     either moves by a tenth on this machine);
#   - each rule's view on its own, slowest first, with EXPLAIN (ANALYZE, BUFFERS) of the three
#     slowest written to bench/data/audit-explain-RULE.txt;
#   - beside them the practical limit: what is due for the 12 months (payroll_due), which the
#     payment rules cannot avoid computing, timed with work_mem 4 MB and 256 MB, the faster kept.
# The data is made in SQL on a throw-away cluster, with triggers off while it is made (the
# journal is not what is measured here; bench/person-import.sh measures it).
# Usage: [AUDIT_EXPECT='RULE=N …'] [AUDIT_BEFORE=violations.csv] bench/audit.sh [PERSONS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
rounds=${2:-3}
source bench/setup.sh
made=$(seconds psql "$url" -v ON_ERROR_STOP=1 -q -v n="$n" -f bench/audit-data.sql)
counts=$(psql "$url" -tA -F' ' -c "SELECT (SELECT count(*) FROM person), (SELECT count(*) FROM post), (SELECT count(*) FROM placement),
  (SELECT count(*) FROM payroll_line), (SELECT count(*) FROM disbursement), (SELECT count(*) FROM assessment)")
read -r persons posts placements lines payments assessments <<<"$counts"
printf 'province: %s persons, %s posts, %s placements, %s payroll lines, %s payments, %s assessments; made in %.1f s\n' \
  "$persons" "$posts" "$placements" "$lines" "$payments" "$assessments" "$made"

settings="SET welfare_posts.as_of = '2026-12-31'; SET jit = off; SET work_mem = '256MB';"
# The limit is payroll_due as fast as it goes: each round times it with PostgreSQL's default
# work_mem (4 MB) and with the 256 MB the tool gives bulk statements, and keeps the faster.
# Over a province the default is the faster by a third (hash tables that fit in the processor's
# cache, sql/0041); with 256 MB alone the limit would flatter the report.
# Every column, as the rules read them (count(*) alone lets the planner drop joins).
due="SELECT count(d.*) FROM payroll_due('2026-01-01', '2026-12-01', '') d"
limits=() reports=() limits_small=() limits_large=()
for ((round = 0; round < rounds; round++)); do
  limits_small+=("$(seconds psql "$url" -qc "SET jit = off; SET work_mem = '4MB'; $due")")
  limits_large+=("$(seconds psql "$url" -qc "$settings $due")")
  limits+=("$(printf '%s\n' "${limits_small[-1]}" "${limits_large[-1]}" | sort -n | head -1)")
  s=$(date +%s.%N); "$bin" audit violations --as-of 2026-12-31 --format csv --database "$url" > bench/data/violations.csv
  reports+=("$(echo "$(date +%s.%N) - $s" | bc)")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
limit=$(median "${limits[@]}")
report=$(median "${reports[@]}")
summary=$(seconds "$bin" audit summary --as-of 2026-12-31 --format csv --database "$url")
cases=$(($(wc -l < bench/data/violations.csv) - 1))
printf 'what is due, 12 months (payroll_due):  %6.2f s  (the practical limit of the payment rules; median of %s: %s)\n' "$limit" "$rounds" "${limits[*]}"
printf '  of which with work_mem 4 MB: %s; with 256 MB: %s\n' "${limits_small[*]}" "${limits_large[*]}"
printf 'audit violations (the whole report):   %6.2f s  (%.2fx; goals 30 s and 1.5x), %s cases (median of %s: %s)\n' "$report" "$(echo "$report / $limit" | bc -l)" "$cases" "$rounds" "${reports[*]}"
printf 'audit summary:                         %6.2f s\n' "$summary"
"$bin" audit summary --as-of 2026-12-31 --database "$url" --format table | awk '$2 == "total" || $1 == "total"'

echo "each rule's view on its own:"
for view in audit_deceased_in_post audit_ineligible_in_post audit_over_age_in_post audit_household_over_cap audit_no_contract \
            audit_uninsured audit_paid_not_due audit_underpaid audit_duplicate_payment audit_paid_to_other_account \
            audit_unpaid_late audit_repeated_failure audit_vacant_too_long audit_over_quota; do
  t=$(seconds psql "$url" -qc "$settings SELECT count(*) FROM $view")
  printf '%s %s\n' "$t" "$view"
done | sort -rn | tee bench/data/audit-rules.txt | while read -r t view; do printf '  %-30s %6.2f s\n' "$view" "$t"; done
head -3 bench/data/audit-rules.txt | while read -r _ view; do
  psql "$url" -qc "$settings EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM $view" > "bench/data/audit-explain-$view.txt"
  echo "EXPLAIN of $view: bench/data/audit-explain-$view.txt"
done
# Correctness: the cases of each rule, against what the province plants (bench/audit-data.sql),
# as counted before the one-pass payroll_due (sql/0024); AUDIT_EXPECT overrides for another size.
counts=$(cut -d, -f1 bench/data/violations.csv | tail -n +2 | sort | uniq -c | awk '{ printf "%s=%s ", $2, $1 }')
echo "cases by rule: $counts"
failed=0
if [[ -n ${AUDIT_EXPECT:-} && $counts != "$AUDIT_EXPECT" ]]; then echo "FAILED: cases by rule differ from AUDIT_EXPECT ($AUDIT_EXPECT)" >&2; failed=1; fi
# AUDIT_BEFORE=FILE: the report (--format csv) of another build over the same size, to be the
# same line for line once sorted (the order of equal keys may differ).
if [[ -n ${AUDIT_BEFORE:-} ]] && ! cmp -s <(sort "$AUDIT_BEFORE") <(sort bench/data/violations.csv); then
  echo "FAILED: the report differs from AUDIT_BEFORE ($AUDIT_BEFORE)" >&2; failed=1
fi
(( $(echo "$report <= 30" | bc) )) || { echo "goal missed: the audit took more than 30 s" >&2; failed=1; }
(( $(echo "$report <= 1.5 * $limit" | bc) )) || { echo "goal missed: the audit took more than 1.5x payroll_due" >&2; failed=1; }
exit $failed
