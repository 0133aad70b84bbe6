#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite. Each test process starts its
# own throw-away PostgreSQL cluster (deploy/throwaway-cluster.sh) unless
# WELFARE_POSTS_TEST_DATABASE_URL names a server to use instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install.sh
swift build --build-tests
swift test --skip-build "$@"
