#!/usr/bin/env bash
# Installs what is missing, builds, starts the local database (deploy/local-db.sh), migrates it
# and runs `welfare-posts demo` on it. Extra arguments go to the demo (e.g. --lang zh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install.sh
swift build -c release --product welfare-posts
url=$(bash deploy/local-db.sh start)
bin=$(swift build -c release --show-bin-path)/welfare-posts
"$bin" db migrate --database "$url" --format table
"$bin" demo --database "$url" --format table "$@"
echo
echo "The demo database stays running: DATABASE_URL='$url' $bin --help"
