#!/usr/bin/env bash
# Times `payroll export --profile` of one approved month of N lines (default 1,000,000: the
# province's 20 counties, 4,800 villages) by three bank profiles — CSV in UTF-8 (files of at
# most 100,000 rows), xlsx (the same), and the bank template `序号|姓名|帐号|金额|身份证|` as
# GBK text (1,000 rows a file) — beside a bare `COPY … TO` of the same rows (name, account,
# amount, ID of each line, no netting, no files split) into one CSV file.
# Usage: bench/bank-export.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
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
rm -rf bench/data/bank && mkdir -p bench/data/bank/csv bench/data/bank/xlsx bench/data/bank/template
bare=$(seconds psql "$url" -v ON_ERROR_STOP=1 -qc "\\copy (SELECT pe.name, l.id_number, pe.bank_account, to_char(l.total_fen / 100.0, 'FM999999990.00') FROM payroll_line l JOIN person pe ON pe.id_number = l.id_number WHERE l.month = '2026-01-01' ORDER BY l.county_code, l.post_id) TO 'bench/data/bank/bare.csv' WITH (FORMAT csv)")
for profile in csv xlsx template; do
  t=$(seconds "$bin" payroll export 2026-01 --profile "$profile" --database "$url" --output bench/data/bank/$profile)
  files=$(ls bench/data/bank/$profile | wc -l)
  [[ $files -gt 1 ]] || { echo "the export by profile $profile wrote no file" >&2; exit 1; }
  bytes=$(du -sb bench/data/bank/$profile | cut -f1)
  eval "t_$profile=$t files_$profile=$files bytes_$profile=$bytes"
done
printf 'lines: %s; data made in %.1f s\n' "$lines" "$made"
printf 'bare COPY ... TO (one CSV file):          %6.2f s  (%s bytes)\n' "$bare" "$(stat -c %s bench/data/bank/bare.csv)"
printf 'export --profile csv (100,000 a file):    %6.2f s  (%.1fx), %s files, %s bytes\n' "$t_csv" "$(echo "$t_csv / $bare" | bc -l)" "$files_csv" "$bytes_csv"
printf 'export --profile xlsx (100,000 a file):   %6.2f s  (%.1fx), %s files, %s bytes\n' "$t_xlsx" "$(echo "$t_xlsx / $bare" | bc -l)" "$files_xlsx" "$bytes_xlsx"
printf 'export --profile template (GBK, 1,000):   %6.2f s  (%.1fx), %s files, %s bytes\n' "$t_template" "$(echo "$t_template / $bare" | bc -l)" "$files_template" "$bytes_template"
