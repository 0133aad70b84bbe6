#!/usr/bin/env bash
# Times single small commands end to end (start the tool, connect, check the schema, do the
# work, print) with hyperfine against the demo county's database, each run many times; the
# goal is under 50 ms each (issue 17). Prints the median and the goal's ratio of each and exits
# non-zero when one misses it. `hire` is timed as a refusal (the post is held: POST_NOT_OPEN,
# exit 1), which makes every check a hire makes and rolls back, so it can run again and again.
# Needs hyperfine (Debian package). Usage: bench/small-commands.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
command -v hyperfine >/dev/null || { echo "hyperfine is not installed: apt-get install -y hyperfine" >&2; exit 1; }
source bench/setup.sh
psql "$base" -qc "CREATE DATABASE demo"
demo=${base/dbname=postgres/dbname=demo}
"$bin" db migrate --database "$demo" >/dev/null
"$bin" demo --database "$demo" >/dev/null
"$bin" payroll run 2026-06 --database "$demo" >/dev/null 2>&1 || true
person=$(psql "$demo" -tAc "SELECT id_number FROM placement ORDER BY id LIMIT 1")
post=$(psql "$demo" -tAc "SELECT post_id FROM placement WHERE exit_on IS NULL ORDER BY id LIMIT 1")
county=$(psql "$demo" -tAc "SELECT county_code FROM post ORDER BY id LIMIT 1")
free=$(psql "$demo" -tAc "SELECT id_number FROM person p WHERE NOT EXISTS (SELECT 1 FROM placement l WHERE l.id_number = p.id_number) ORDER BY 1 LIMIT 1")
# Each command must do its work (or, for the hire, be refused by its rule) before it is timed.
"$bin" person show "$person" --database "$demo" | grep -q "${person: -4}"
"$bin" post show "$post" --database "$demo" | grep -q "$post"
"$bin" payroll summary 2026-06 --region "$county" --database "$demo" | grep -q "^total"
set +e
"$bin" hire --post "$post" --person "$free" --start 2026-07-01 --end 2026-12-31 --database "$demo" >/dev/null 2>/tmp/hire.$$
[[ $? == 1 ]] && grep -q POST_NOT_OPEN /tmp/hire.$$ || { echo "the hire was not refused as expected:" >&2; cat /tmp/hire.$$ >&2; exit 1; }
set -e
rm -f /tmp/hire.$$
json=$(mktemp)
hyperfine -N -w 3 -r "$runs" -i --export-json "$json" \
  -n "tool start (version)" "$bin --version" \
  -n "person show" "$bin person show $person --database '$demo'" \
  -n "post show" "$bin post show $post --database '$demo'" \
  -n "payroll summary" "$bin payroll summary 2026-06 --region $county --database '$demo'" \
  -n "hire (refused)" "$bin hire --post $post --person $free --start 2026-07-01 --end 2026-12-31 --database '$demo'" >/dev/null
python3 - "$json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
missed = 0
print("command                median ms   mean ms   min ms   CPU ms (user+sys)   goal 50 ms")
for r in results:
    median, mean, low = r["median"] * 1000, r["mean"] * 1000, r["min"] * 1000
    ok = median < 50
    missed += not ok
    cpu = (r["user"] + r["system"]) * 1000
    print(f"{r['command']:<22} {median:9.1f} {mean:9.1f} {low:8.1f}   {cpu:17.1f}   {median / 50:.2f}x {'ok' if ok else 'MISSED'}")
sys.exit(1 if missed else 0)
PY
