#!/usr/bin/env bash
# Times `payroll export --profile` of one approved month of N lines (default 1,000,000: the
# province's 20 counties, 4,800 villages) by three bank profiles — CSV in UTF-8 (files of at
# most 100,000 rows), xlsx (the same), and the bank template `序号|姓名|帐号|金额|身份证|` as
# GBK text (1,000 rows a file) — beside a bare `COPY … TO` of the same rows (name, account,
# amount, ID of each line, no netting, no files split) into one CSV file. Also the plain
# `payroll export` (the finance CSV of SPEC §10, 15 columns) beside a bare `COPY … TO` of the
# same 15 columns written straight from the tables (no view, no formula guard).
#
# Goal (issue 17): each at most 3x its bare COPY. Checks that every export holds the bare
# COPY's lines and total: the files' names carry their rows and totals (控制表 aside), the
# plain export's rows and total column are summed. Exits non-zero when a goal is missed or a
# count or total differs. ROUNDS (default 1) runs of each, taking turns; medians compared.
# Usage: bench/bank-export.sh [N] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
rounds=${2:-1}
source bench/setup.sh
made=$(seconds psql "$url" -v ON_ERROR_STOP=1 -q -v n="$n" <<'SQL'
INSERT INTO pay_standard (region_code, post_type, effective_from, monthly_fen, social_insurance_fen)
SELECT '320000000000', code, '2026-01-01', 80000 + position * 5000, 30000 FROM post_type;
CREATE TEMP TABLE v AS SELECT row_number() OVER (ORDER BY code) - 1 AS i, code FROM region WHERE level = 5;
INSERT INTO person (county_code, id_number, name, household_id, village_code, category, labour_capacity, bank_account)
SELECT left(v.code, 6), left(v.code, 6) || (1960 + g / 84 / 1000)::text || lpad((1 + g % 12)::text, 2, '0')
       || lpad((1 + g % 28)::text, 2, '0') || lpad((g / 84 % 1000)::text, 3, '0') || '0',
       '某某', 'H' || g, v.code, 'poverty-alleviated', 'weak', '6228' || lpad(g::text, 12, '0')
FROM generate_series(0, :n - 1) g JOIN v ON v.i = g % (SELECT count(*) FROM v);
INSERT INTO post (id, county_code, region_code, post_type, funding_channel, developer, need, state, proposed_on, approved_on)
SELECT left(village_code, 6) || '-' || lpad(row_number() OVER (PARTITION BY left(village_code, 6) ORDER BY id_number)::text, 6, '0'),
       left(village_code, 6), village_code, 'cleaner', 'employment-fund', '镇人民政府', '保洁', 'approved', '2025-12-01', '2025-12-15'
FROM person;
INSERT INTO placement (county_code, post_id, id_number, start_on)
SELECT p.county_code, po.id, p.id_number, date '2026-01-01'
FROM (SELECT id_number, county_code, row_number() OVER (PARTITION BY county_code ORDER BY id_number) AS r FROM person) p
JOIN (SELECT id, county_code, row_number() OVER (PARTITION BY county_code ORDER BY id) AS r FROM post) po
  ON po.county_code = p.county_code AND po.r = p.r;
INSERT INTO contract (county_code, placement_id, start_on, end_on) SELECT county_code, id, start_on, date '2026-12-31' FROM placement;
INSERT INTO bank_profile (county_code, name, columns, headers, encoding, format, separator, max_rows)
SELECT left(code, 6), p.name, p.columns, p.headers, p.encoding, p.format, p.separator, p.max_rows
FROM region CROSS JOIN (VALUES
  ('csv', ARRAY['seq','batch','name','id_number','bank_account','total','post_type'], ARRAY['序号','批次号','姓名','身份证号','银行账号','金额','岗位类型'], 'utf-8', 'csv', ',', 100000),
  ('xlsx', ARRAY['seq','batch','name','id_number','bank_account','total','post_type'], ARRAY['序号','批次号','姓名','身份证号','银行账号','金额','岗位类型'], 'utf-8', 'xlsx', ',', 100000),
  ('template', ARRAY['seq','name','bank_account','total','id_number'], ARRAY['序号','姓名','帐号','金额','身份证'], 'gbk', 'txt', '|', 1000)
) AS p(name, columns, headers, encoding, format, separator, max_rows)
WHERE level = 3;
VACUUM ANALYZE;
SQL
)
"$bin" payroll run 2026-01 --database "$url" >/dev/null
"$bin" payroll approve 2026-01 --region 32 --database "$url" >/dev/null
lines=$(psql "$url" -tAc "SELECT count(*) FROM payroll_line WHERE month = '2026-01-01'")
out=bench/data/bank
bare_sql="SELECT pe.name, l.id_number, pe.bank_account, to_char(l.total_fen / 100.0, 'FM999999990.00') FROM payroll_line l JOIN person pe ON pe.id_number = l.id_number WHERE l.month = '2026-01-01' ORDER BY l.county_code, l.post_id"
# The plain export's 15 columns, straight from the tables.
plain_sql="SELECT to_char(l.month, 'YYYY-MM'), l.county_code, t.name, CASE WHEN v.level = 5 THEN v.name END, l.post_id, p.post_type, p.funding_channel, l.name, l.id_number, l.bank_account, l.days_in_post, l.post_subsidy_fen * 0.01, l.social_insurance_fen * 0.01, l.adjustment_fen * 0.01, l.total_fen * 0.01 FROM payroll_line l JOIN post p ON p.id = l.post_id JOIN region v ON v.code = p.region_code JOIN region t ON t.code = rpad(left(p.region_code, 9), 12, '0') WHERE l.month = '2026-01-01' ORDER BY l.county_code, p.region_code, l.post_id, l.kind DESC, l.for_month"
declare -A times
for ((i = 1; i <= rounds; i++)); do
  rm -rf "$out" && mkdir -p "$out"/csv "$out"/xlsx "$out"/template
  times[bare]+="$(seconds psql "$url" -v ON_ERROR_STOP=1 -qc "\\copy ($bare_sql) TO '$out/bare.csv' WITH (FORMAT csv)") "
  times[bare15]+="$(seconds psql "$url" -v ON_ERROR_STOP=1 -qc "\\copy ($plain_sql) TO '$out/bare15.csv' WITH (FORMAT csv)") "
  times[plain]+="$(seconds "$bin" payroll export 2026-01 --database "$url" --output "$out/plain.csv") "
  for profile in csv xlsx template; do
    times[$profile]+="$(seconds "$bin" payroll export 2026-01 --profile "$profile" --database "$url" --output "$out/$profile") "
  done
done
med() { printf '%s\n' ${times[$1]} | median; }
bare=$(med bare); bare15=$(med bare15)
status=0
# Rows and total of the bare COPY (yuan, two decimals), and of each export.
read -r bare_rows bare_total < <(awk -F, '{ n++; s += $NF } END { printf "%d %.2f\n", n, s }' "$out/bare.csv")
read -r plain_rows plain_total < <(tail -n +2 "$out/plain.csv" | awk -F, '{ n++; s += $NF } END { printf "%d %.2f\n", n, s }')
report() { # name seconds limit-seconds limit-name rows total
  local r; r=$(echo "$2 / $3" | bc -l)
  printf '%-42s %6.2f s  (%.1fx %s, goal 3x)  rows %s, total %s\n' "$1" "$2" "$r" "$4" "$5" "$6"
  (( $(echo "$r <= 3" | bc) )) || { echo "MISSED: $1 takes more than 3x its bare COPY" >&2; status=1; }
  [[ "$5 $6" == "$bare_rows $bare_total" ]] || { echo "FAILED: $1 holds $5 rows, $6 yuan; the bare COPY $bare_rows rows, $bare_total yuan" >&2; status=1; }
}
printf 'lines: %s; data made in %.1f s; runs: %s\n' "$lines" "$made" "$rounds"
printf '%-42s %6.2f s  rows %s, total %s\n' "bare COPY ... TO (4 columns, one file)" "$bare" "$bare_rows" "$bare_total"
printf '%-42s %6.2f s\n' "bare COPY ... TO (the export's 15 columns)" "$bare15"
report "payroll export (plain CSV, 15 columns)" "$(med plain)" "$bare15" "of the 15-column COPY" "$plain_rows" "$plain_total"
for profile in csv xlsx template; do
  # File names: PROFILE_BATCH_N笔_TOTAL元.EXT; the control sheet (控制表) is left out.
  read -r rows total < <(ls "$out/$profile" | grep -v 控制表 | sed -E 's/.*_([0-9]+)笔_([0-9.]+)元.*/\1 \2/' | awk '{ n += $1; s += $2 } END { printf "%d %.2f\n", n, s }')
  files=$(ls "$out/$profile" | wc -l); bytes=$(du -sb "$out/$profile" | cut -f1)
  report "export --profile $profile ($files files, $bytes bytes)" "$(med "$profile")" "$bare" "of the 4-column COPY" "$rows" "$total"
done
exit $status
