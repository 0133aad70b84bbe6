#!/usr/bin/env bash
# Times `post import` and `placement import` of a generated county's ledger (issue 16): N posts
# (default 5,000) over 10 townships of 10 villages, and N placements, one contract each (a
# tenth with a second contract, a tenth exited), of N persons imported first with their
# insurance. Checks the rows written (posts, placements, contracts, journal entries) and that
# the same files again are refused and write nothing. Runs on a throw-away cluster; needs the
# release build (bench/setup.sh builds it). Usage: bench/ledger-import.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5000}
source bench/setup.sh
data=bench/data/ledger-$n; mkdir -p "$data"
python3 - "$n" "$data" <<'PY'
import sys, datetime
n, folder = int(sys.argv[1]), sys.argv[2]
weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
def check(first17):
    total = sum(int(d) * w for d, w in zip(first17, weights))
    return '10X98765432'[total % 11]
county = '329901'
with open(f'{folder}/regions.csv', 'w') as f:
    f.write('code,name\n320000000000,江苏省\n329900000000,测试市\n329901000000,测试县\n')
    for t in range(10):
        f.write(f'{county}{101 + t:03d}000,测试{t}镇\n')
        for v in range(10):
            f.write(f'{county}{101 + t:03d}{201 + v:03d},测试{t}-{v}村\n')
villages = [f'{county}{101 + t:03d}{201 + v:03d}' for t in range(10) for v in range(10)]
ids = []
with open(f'{folder}/persons.csv', 'w') as f, open(f'{folder}/insurance.csv', 'w') as g:
    f.write('id_number,name,household_id,village_code,category,labour_capacity,bank_account\n')
    g.write('id_number,insurer,policy_number,from,to\n')
    for i in range(n):
        born = datetime.date(1966, 1, 1) + datetime.timedelta(days=(i * 37) % 9000)
        first17 = f'{county}{born:%Y%m%d}{i % 1000:03d}'
        # Distinct IDs: the sequence and the birth date together.
        ids.append(first17 + check(first17))
        f.write(f'{ids[-1]},测试{i},H{i},{villages[i % 100]},low-income,weak,62284803{1000000000 + i}\n')
        g.write(f'{ids[-1]},人保财险,P{i},2024-01-01,2028-12-31\n')
with open(f'{folder}/posts.csv', 'w') as f:
    f.write('post_id,region_code,post_type,funding_channel,developer,need,proposed_on,approved_on,closed_on,close_reason\n')
    for i in range(n):
        closed = ('2026-01-01', '岗位合并') if i % 10 == 9 else ('', '')
        f.write(f',{villages[i % 100]},cleaner,employment-fund,测试镇人民政府,村道保洁{i},2024-12-01,2025-01-01,{closed[0]},{closed[1]}\n')
with open(f'{folder}/placements.csv', 'w') as f:
    f.write('post_id,id_number,start_on,contract_kind,contract_start,contract_end,exit_on,exit_reason\n')
    for i in range(n):
        post = f'{county}-{i + 1:05d}'
        if i % 10 == 9:  # the closed posts: exited before the closing
            f.write(f'{post},{ids[i]},2025-02-01,service-agreement,2025-02-01,2026-01-31,2025-12-31,post-closed\n')
        elif i % 10 == 0:  # renewed once
            f.write(f'{post},{ids[i]},2025-02-01,service-agreement,2025-02-01,2026-01-31,,\n')
            f.write(f'{post},{ids[i]},2025-02-01,service-agreement,2026-02-01,2027-01-31,,\n')
        else:
            f.write(f'{post},{ids[i]},2026-02-01,service-agreement,2026-02-01,2027-01-31,,\n')
PY
"$bin" region import "$data/regions.csv" --database "$url" >/dev/null
"$bin" policy pay --region 329901 --type cleaner --monthly 800 --social-insurance 300 --from 2020-01 --database "$url" >/dev/null
"$bin" person import "$data/persons.csv" --database "$url" >/dev/null
"$bin" insurance import "$data/insurance.csv" --database "$url" >/dev/null
posts_dry=$(seconds "$bin" post import "$data/posts.csv" --database "$url" --dry-run)
posts=$(seconds "$bin" post import "$data/posts.csv" --database "$url")
placements_dry=$(seconds "$bin" placement import "$data/placements.csv" --database "$url" --dry-run)
placements=$(seconds "$bin" placement import "$data/placements.csv" --database "$url")
count() { psql "$url" -tAc "$1"; }
written="$(count "SELECT count(*) FROM post") posts ($(count "SELECT count(*) FROM post WHERE state = 'closed'") closed), $(count "SELECT count(*) FROM placement") placements ($(count "SELECT count(*) FROM placement WHERE exit_on IS NOT NULL") exited), $(count "SELECT count(*) FROM contract") contracts; journal: $(count "SELECT count(*) FROM journal_row WHERE table_name IN ('post', 'placement', 'contract') AND operation = 'INSERT'") rows"
expected="$n posts ($((n / 10)) closed), $n placements ($((n / 10)) exited), $((n + n / 10)) contracts; journal: $((n * 2 + n + n / 10)) rows"
before=$(count "SELECT count(*) FROM placement")
if "$bin" post import "$data/posts.csv" --database "$url" >/dev/null 2>&1; then echo "FAIL: the posts file imported twice"; exit 1; fi
if "$bin" placement import "$data/placements.csv" --database "$url" >/dev/null 2>&1; then echo "FAIL: the placements file imported twice"; exit 1; fi
printf 'county of %s posts and %s placements (%s contract rows)\n' "$n" "$n" "$((n + n / 10))"
printf 'post import --dry-run:       %6.2f s\n' "$posts_dry"
printf 'post import:                 %6.2f s\n' "$posts"
printf 'placement import --dry-run:  %6.2f s\n' "$placements_dry"
printf 'placement import:            %6.2f s\n' "$placements"
printf 'written: %s\n' "$written"
[[ $written == "$expected" ]] || { echo "FAIL: expected $expected"; exit 1; }
[[ $(count "SELECT count(*) FROM placement") == "$before" ]] || { echo "FAIL: a refused re-import wrote rows"; exit 1; }
echo "re-imports refused, nothing written: ok"
