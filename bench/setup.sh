# Sourced by the benchmark scripts: builds the release binary ($bin), starts a throw-away
# cluster watched by the calling script ($base), and makes a migrated database `bench` with
# the province's regions ($url). `seconds CMD…` prints how long CMD took.
swift build -c release --product welfare-posts >/dev/null
bin=$(swift build -c release --show-bin-path)/welfare-posts
mkdir -p bench/data
[[ -f bench/data/regions.csv ]] || python3 bench/generate.py regions bench/data/regions.csv
base=$(bash deploy/throwaway-cluster.sh $$)
psql "$base" -qc "CREATE DATABASE bench"
url=${base/dbname=postgres/dbname=bench}
"$bin" db migrate --database "$url" >/dev/null
"$bin" region import bench/data/regions.csv --database "$url" >/dev/null
seconds() { local s; s=$(date +%s.%N); "$@" >/dev/null; echo "$(date +%s.%N) - $s" | bc; }
# `median` prints the median of the numbers on its input, one per line (of an even count, the
# lower of the middle two).
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
