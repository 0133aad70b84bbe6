#!/usr/bin/env bash
# libFuzzer over the file reader and the value parsers (issue 12; Sources/WelfarePosts/Support/
# Fuzzing.swift says what must hold for any input). Builds `fuzz-values` instrumented
# (-sanitize=fuzzer,address) in a build folder of its own, .build-fuzz, then fuzzes for SECONDS
# (default 60) from the committed corpus Tests/fuzz-corpus plus what earlier runs on this
# machine found (.build-fuzz/corpus). Exits non-zero on any crash, trap, leak or broken promise,
# with the input saved in .build-fuzz/artifacts/.
#
#   bash deploy/fuzz.sh            # 60 s, as CI runs it
#   bash deploy/fuzz.sh 3600       # an hour
#   bash deploy/fuzz.sh 3600 -jobs=2 -workers=2   # more libFuzzer options after the seconds
#
# A crash found: replay it plainly with `swift run fuzz-values .build-fuzz/artifacts/crash-…`,
# fix it, and copy the input into Tests/fuzz-corpus, whose replay is part of `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The instrumented build links with gold's harmless "Cannot export local symbol" warnings.
if ! WELFARE_POSTS_FUZZ=1 swift build --scratch-path .build-fuzz --product fuzz-values >"$log" 2>&1; then
  grep -v "Cannot export local symbol" "$log" >&2
  exit 1
fi
mkdir -p .build-fuzz/corpus .build-fuzz/artifacts
echo "fuzzing the file reader and value parsers for ${seconds} s" >&2
.build-fuzz/debug/fuzz-values -max_total_time="$seconds" -max_len=65536 -timeout=20 -rss_limit_mb=4096 \
  -print_final_stats=1 -artifact_prefix=.build-fuzz/artifacts/ "$@" .build-fuzz/corpus Tests/fuzz-corpus
