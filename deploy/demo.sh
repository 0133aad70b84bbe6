#!/usr/bin/env bash
# Installs what is missing, builds, puts `welfare-posts` on the PATH (deploy/link-binary.sh),
# starts the local database (deploy/local-db.sh), migrates it and runs `welfare-posts demo` on
# it. Extra arguments go to the demo (e.g. --lang zh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install.sh
swift build -c release --product welfare-posts
bin=$(swift build -c release --show-bin-path)/welfare-posts
bash deploy/link-binary.sh "$bin"
url=$(bash deploy/local-db.sh start)
"$bin" db migrate --database "$url" --format table
"$bin" demo --database "$url" --format table "$@"
echo
echo "The demo database stays running. To use it from this shell:"
echo "  export DATABASE_URL='$url'"
echo "  welfare-posts --help"
