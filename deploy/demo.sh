#!/usr/bin/env bash
# Installs what is missing, builds, puts `welfare-posts` on the PATH (deploy/link-binary.sh),
# starts the local database (deploy/local-db.sh), migrates it and runs `welfare-posts demo` on
# it, and writes its audit and ledger reports (audit-report.html, ledger-report.html). Extra
# arguments go to the demo and the reports (e.g. --lang zh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install.sh
swift build -c release --product welfare-posts
bin=$(swift build -c release --show-bin-path)/welfare-posts
bash deploy/link-binary.sh "$bin"
url=$(bash deploy/local-db.sh start)
"$bin" db migrate --database "$url" --format table
"$bin" demo --database "$url" --format table "$@"
# The two reports to look at (SPEC §16), as of the demo's audit date, beside this checkout.
"$bin" audit report --database "$url" --region 320321 --as-of 2026-06-30 --output audit-report.html "$@"
"$bin" ledger report --database "$url" --region 320321 --from 2026-01 --to 2026-12 --output ledger-report.html "$@"
echo
echo "The demo database stays running. To use it from this shell:"
echo "  export DATABASE_URL='$url'"
echo "  welfare-posts --help"
echo "The reports, to open in a browser or print: $PWD/audit-report.html $PWD/ledger-report.html"
