#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite. Each test process starts its
# own throw-away PostgreSQL cluster (deploy/throwaway-cluster.sh) unless
# WELFARE_POSTS_TEST_DATABASE_URL names a server to use instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install.sh
# The HTML reports are checked in a real browser (Tests/CLITests/ReportTests.swift): Debian's
# chromium, headless, and a Chinese font so that the pages render and print as an office sees
# them. Installed only when missing; without chromium those tests are skipped with a message.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-noto-cjk)
if ((${#missing[@]})); then
  sudo=(); [[ $(id -u) == 0 ]] || sudo=(sudo)
  echo "installing: ${missing[*]}" >&2
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
swift build --build-tests
swift test --skip-build "$@"
